// xling page: the elements the modules render into, the page's shared state, the live
// region and the enabled state of the controls. Every other ui/ module imports this one.

const $ = (id) => document.getElementById(id);

/** The page's elements by role (index.html has the static markup). */
export const el = {
  live: $('live'),
  modelLoading: $('model-loading'),
  modelProgress: $('model-progress'),
  modelProgressText: $('model-progress-text'),
  modelReady: $('model-ready'),
  storageNote: $('storage-note'),
  backendNote: $('backend-note'),
  modelError: $('model-error'),
  modelErrorText: $('model-error-text'),
  retryInit: $('retry-init'),
  indexStatus: $('index-status'),
  indexProgress: $('index-progress'),
  indexProgressText: $('index-progress-text'),
  cancelIndex: $('cancel-index'),
  pasteText: $('paste-text'),
  pasteTitle: $('paste-title'),
  addPaste: $('add-paste'),
  fileInput: $('file-input'),
  dropZone: $('drop-zone'),
  demoSample: $('load-demo-sample'),
  demoFull: $('load-demo-full'),
  searchForm: $('search-form'),
  query: $('query'),
  searchButton: $('search-button'),
  langChosen: $('lang-chosen'),
  langSelect: $('lang-select'),
  searchError: $('search-error'),
  resultSummary: $('result-summary'),
  results: $('results'),
  stats: $('stats'),
  exportIndex: $('export-index'),
  importInput: $('import-input'),
  clearAll: $('clear-all'),
  engineInfo: $('engine-info'),
};

/** What more than one area of the page needs to know. */
export const state = {
  ready: false,
  busy: false, // an add or import is running
  stats: null,
  lastSearch: null,
  searchSeq: 0,
};

let announceTimer = 0;
/** Says `message` in the live region (screen readers; the tests read it too). */
export function announce(message) {
  // Clear first so that repeating the same message is announced again.
  clearTimeout(announceTimer);
  el.live.textContent = '';
  announceTimer = setTimeout(() => { el.live.textContent = message; }, 50);
}

/** Enables what can be used now: changes need a ready engine and no add or import running. */
export function updateControls() {
  const canAdd = state.ready && !state.busy;
  for (const control of [el.addPaste, el.fileInput, el.demoSample, el.demoFull, el.importInput, el.clearAll, el.exportIndex]) {
    control.disabled = !canAdd;
  }
  el.query.disabled = !state.ready;
  el.searchButton.disabled = !state.ready;
  el.dropZone.classList.toggle('disabled', !canAdd);
}
