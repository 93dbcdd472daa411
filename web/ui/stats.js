// xling page: the collection's figures as shown: the stats line ("3 documents · … · saved
// 5 s ago"), the storage note next to "Model ready", and the list of languages in the
// search form, all redrawn from the stats the engine reports.

import { el, state } from './dom.js';
import { formatAgo, formatBytes, formatInt, languageName, plural } from './format.js';

const STORAGE_LABELS = {
  opfs: "This browser's private storage (OPFS)",
  indexeddb: 'IndexedDB',
  memory: 'memory only — not saved',
};

/** Where the index is kept, next to "Model ready". */
export function renderStorageNote(storage) {
  el.storageNote.textContent = `· Index stored in: ${STORAGE_LABELS[storage] || storage || 'unknown'}`;
}

/** New stats from the engine: redraws everything they feed. */
export function updateStats(stats) {
  state.stats = stats;
  renderStats();
  renderLanguageOptions(stats.languages || []);
  if (stats.storage) renderStorageNote(stats.storage);
}

/** A `saved` event: the same stats with the new save time and size. */
export function onSaved({ savedAt, savedBytes, storage }) {
  if (state.stats) {
    updateStats({ ...state.stats, savedAt, savedBytes, storage: storage ?? state.stats.storage });
  }
}

function savedText(stats) {
  if (stats.storage === 'memory') return 'not saved (memory only)';
  if (!stats.savedAt) return 'not saved yet';
  const size = Number.isFinite(stats.savedBytes) ? ` (${formatBytes(stats.savedBytes)})` : '';
  return `saved ${formatAgo(stats.savedAt)}${size}`;
}

/** The stats line (also redrawn every 15 s, for "saved … ago"). */
export function renderStats() {
  const stats = state.stats;
  if (!stats) return;
  el.stats.textContent = [
    plural(stats.documents, 'document', 'documents'),
    plural(stats.passages, 'passage', 'passages'),
    plural((stats.languages || []).length, 'language', 'languages'),
    savedText(stats),
  ].join(' · ');
}

/** The language codes selected in the search form's list. */
export function selectedLanguages() {
  return Array.from(el.langSelect.selectedOptions, (option) => option.value);
}

/** The search form's language list: one option per language in the index, selection kept. */
function renderLanguageOptions(languages) {
  const selected = new Set(selectedLanguages());
  const options = [...languages]
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])))
    .map(([code, count]) => {
      const option = document.createElement('option');
      option.value = code;
      const name = languageName(code);
      option.textContent = name === code ? `${code} (${formatInt(count)})` : `${code} — ${name} (${formatInt(count)})`;
      option.selected = selected.has(code);
      return option;
    });
  el.langSelect.replaceChildren(...options);
}
