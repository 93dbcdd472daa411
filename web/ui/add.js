// xling page: adding documents: one add at a time with its progress panel and Cancel
// button, and the two simple sources, pasted text and the demo collection (files are in
// files.js). An add is all or nothing; the summary or error goes to the live region.

import { ERROR, REQUEST } from '../protocol.js';
import { announce, el, state, updateControls } from './dom.js';
import { request } from './engine.js';
import { errorMessage, formatDecimal, formatDuration, formatEta, formatInt, plural } from './format.js';
import { updateStats } from './stats.js';

const TITLE_CHARS = 80;
const DEMO_URLS = { sample: './demo/xquad-r-sample.json', full: './demo/xquad-r.json' };
const DEMO_MISSING =
  'The demo collection is not installed with this copy of the app (run cargo xtask up)';
const CANCELLED = 'Indexing cancelled; nothing from this batch was added.';

function showIndexStatus(documents) {
  el.indexProgress.removeAttribute('value');
  el.indexProgressText.textContent = `Preparing ${plural(documents, 'document', 'documents')}…`;
  el.cancelIndex.disabled = false;
  el.cancelIndex.textContent = 'Cancel';
  el.indexStatus.hidden = false;
}

/** An `index-progress` event: passages embedded so far, rate and time left. */
export function renderIndexProgress({ done = 0, total = 0, passagesPerSecond, etaSeconds }) {
  if (!state.busy) return;
  if (total > 0) {
    el.indexProgress.max = total;
    el.indexProgress.value = Math.min(done, total);
  } else {
    el.indexProgress.removeAttribute('value');
  }
  const parts = [`Indexing ${formatInt(done)} of ${formatInt(total)} passages`];
  if (Number.isFinite(passagesPerSecond) && passagesPerSecond > 0) parts.push(`${formatDecimal(passagesPerSecond)} passages/s`);
  if (Number.isFinite(etaSeconds)) parts.push(formatEta(etaSeconds));
  el.indexProgressText.textContent = parts.join(' · ');
}

/** Runs one add: `prepare` returns { docs, notes }; returns true when the documents were added. */
export async function runAdd(prepare) {
  if (!state.ready || state.busy) return false;
  state.busy = true;
  updateControls();
  let notes = [];
  try {
    const prepared = await prepare();
    notes = prepared.notes || [];
    if (!prepared.docs.length) {
      announce(notes.join(' ') || 'Nothing to add.');
      return false;
    }
    showIndexStatus(prepared.docs.length);
    const started = performance.now();
    const result = await request(REQUEST.add, { docs: prepared.docs, skipExisting: Boolean(prepared.skipExisting) });
    if (result.stats) updateStats(result.stats);
    const seconds = (performance.now() - started) / 1000;
    let summary = result.cancelled
      ? CANCELLED
      : `Added ${plural(result.documents, 'document', 'documents')} (${plural(result.passages, 'passage', 'passages')}) in ${formatDuration(seconds)}`;
    if (!result.cancelled && result.skipped) summary += ` (${plural(result.skipped, 'document was', 'documents were')} already in the index)`;
    announce([summary, ...notes].join(' '));
    return !result.cancelled;
  } catch (err) {
    announce([err && err.code === ERROR.cancelled ? CANCELLED : errorMessage(err), ...notes].join(' '));
    return false;
  } finally {
    state.busy = false;
    el.indexStatus.hidden = true;
    updateControls();
  }
}

/** The Cancel button of the progress panel. */
export async function cancelIndexing() {
  el.cancelIndex.disabled = true;
  el.cancelIndex.textContent = 'Cancelling…';
  try {
    await request(REQUEST.cancel);
  } catch (err) {
    announce(errorMessage(err));
  }
}

function firstLine(text) {
  const line = text.trim().split('\n')[0].trim();
  return Array.from(line).slice(0, TITLE_CHARS).join('');
}

/** "Add text": the pasted text as one document (title: the one given, else its first line). */
export async function addPastedText() {
  const text = el.pasteText.value;
  if (!text.trim()) {
    announce('Paste or type some text first.');
    el.pasteText.focus();
    return;
  }
  const title = el.pasteTitle.value.trim() || firstLine(text);
  const added = await runAdd(async () => ({ docs: [{ id: `paste-${Date.now()}`, text, title }], notes: [] }));
  if (added) {
    el.pasteText.value = '';
    el.pasteTitle.value = '';
  }
}

async function fetchDemo(url) {
  announce('Loading the demo collection…');
  let items;
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    items = await response.json();
  } catch {
    throw new Error(DEMO_MISSING);
  }
  if (!Array.isArray(items)) throw new Error(DEMO_MISSING);
  const docs = items
    .filter((d) => d && d.id != null && typeof d.text === 'string')
    .map((d) => {
      const doc = { id: String(d.id), text: d.text };
      if (typeof d.title === 'string') doc.title = d.title;
      if (typeof d.lang === 'string') doc.lang = d.lang;
      return doc;
    });
  // The sample is part of the full collection: add only what is missing.
  return { docs, notes: [], skipExisting: true };
}

/** A demo button: `which` is 'sample' or 'full'. */
export function loadDemo(which) {
  runAdd(() => fetchDemo(DEMO_URLS[which])).catch((err) => announce(errorMessage(err)));
}
