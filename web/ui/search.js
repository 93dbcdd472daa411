// xling page: search and results: the search form (query, mode and language switches,
// which rerun the search), the list of hits with the matched span highlighted, and each
// hit's Delete button. Document text, titles and ids are rendered as text nodes only.

import { REQUEST } from '../protocol.js';
import { announce, el, state } from './dom.js';
import { request } from './engine.js';
import { errorMessage, formatInt, plural } from './format.js';
import { selectedLanguages, updateStats } from './stats.js';

const K = 10;

function searchLanguages() {
  const choice = el.searchForm.elements.languages.value;
  if (choice === 'chosen') return selectedLanguages();
  return choice === 'same' ? 'same' : 'any';
}

function showSearchError(message) {
  el.searchError.textContent = message;
  el.searchError.hidden = !message;
}

/** Searches for what the form says (submit, or a changed switch). */
export function runSearch() {
  const query = el.query.value.trim();
  if (!query || !state.ready) return;
  const languages = searchLanguages();
  if (Array.isArray(languages) && !languages.length) {
    showSearchError('Select one or more languages in the list, or choose “Any language”.');
    return;
  }
  executeSearch({ query, mode: el.searchForm.elements.mode.value || 'hybrid', languages }).catch((err) => announce(errorMessage(err)));
}

// Only the latest search renders: an older reply that arrives late is dropped.
async function executeSearch(search) {
  const seq = ++state.searchSeq;
  state.lastSearch = search;
  el.results.setAttribute('aria-busy', 'true');
  try {
    const result = await request(REQUEST.search, { ...search, k: K });
    if (seq !== state.searchSeq) return;
    showSearchError('');
    renderResults(result || {});
  } catch (err) {
    if (seq !== state.searchSeq) return;
    showSearchError(errorMessage(err));
    announce(errorMessage(err));
  } finally {
    if (seq === state.searchSeq) el.results.removeAttribute('aria-busy');
  }
}

/** A changed mode or language switch: search again if there is a query. */
export function rerunSearch() {
  if (el.query.value.trim()) runSearch();
}

function renderResults({ hits, tookMs, queryLanguage }) {
  hits = Array.isArray(hits) ? hits : [];
  el.results.replaceChildren(...hits.map(renderHit));
  const parts = [hits.length ? plural(hits.length, 'result', 'results') : 'No results'];
  if (Number.isFinite(tookMs)) parts.push(`${formatInt(tookMs)} ms`);
  if (queryLanguage) parts.push(`query language: ${queryLanguage === 'und' ? 'undetermined' : queryLanguage}`);
  el.resultSummary.textContent = parts.join(' · ');
  el.resultSummary.hidden = false;
}

/** Empties the results (the index was replaced or cleared); a search under way is dropped. */
export function clearResults() {
  state.searchSeq += 1;
  state.lastSearch = null;
  el.results.replaceChildren();
  el.resultSummary.hidden = true;
  showSearchError('');
}

function safeUrl(url) {
  return typeof url === 'string' && /^(https?:|\.?\/)/i.test(url) ? url : null;
}

function renderTitle(hit) {
  const heading = document.createElement('h3');
  heading.className = 'result-title';
  const title = hit.title || String(hit.id);
  const url = safeUrl(hit.url);
  if (url) {
    const link = document.createElement('a');
    link.href = url;
    link.rel = 'noopener noreferrer';
    link.target = '_blank';
    link.textContent = title;
    heading.append(link);
  } else {
    heading.textContent = title;
  }
  return heading;
}

function renderPassage(hit) {
  const p = document.createElement('p');
  p.className = 'result-passage';
  if (hit.lang && hit.lang !== 'und') p.lang = hit.lang;
  const text = typeof hit.passage === 'string' ? hit.passage : '';
  const [start, end] = Array.isArray(hit.highlight) ? hit.highlight : [];
  if (Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= text.length) {
    const mark = document.createElement('mark');
    mark.textContent = text.slice(start, end);
    p.append(text.slice(0, start), mark, text.slice(end));
  } else {
    p.textContent = text;
  }
  return p;
}

function metaSpan(className, text) {
  const span = document.createElement('span');
  span.className = className;
  span.textContent = text;
  return span;
}

function renderHit(hit) {
  const item = document.createElement('li');
  item.className = 'result';
  const title = hit.title || String(hit.id);
  const meta = document.createElement('div');
  meta.className = 'result-meta';
  const score = Number(hit.score);
  meta.append(
    metaSpan('result-lang', hit.lang || 'und'),
    metaSpan('result-score', Number.isFinite(score) ? score.toFixed(3) : '—'),
    metaSpan('result-id', String(hit.id)),
  );
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'result-delete';
  remove.textContent = 'Delete';
  remove.setAttribute('aria-label', `Delete document ${title}`);
  remove.addEventListener('click', () => deleteDocument(hit.id, title).catch((err) => announce(errorMessage(err))));
  meta.append(remove);
  item.append(renderTitle(hit), meta, renderPassage(hit));
  return item;
}

async function deleteDocument(id, title) {
  if (!confirm(`Delete “${title}” from the index?`)) return;
  try {
    const result = await request(REQUEST.delete, { ids: [id] });
    if (result.stats) updateStats(result.stats);
    announce(result.deleted ? `Deleted “${title}”` : `“${title}” was no longer in the index`);
  } catch (err) {
    announce(errorMessage(err));
    return;
  }
  if (state.lastSearch) await executeSearch(state.lastSearch);
  if (!el.resultSummary.hidden) el.resultSummary.focus();
}
