// xling: the page's script (an ES module), its entry point. It wires the areas of the
// page, each a module under ui/, to the page's controls and to the engine worker's events,
// then starts the engine. The messages with the worker are defined in protocol.js.
// Untrusted text (documents, titles, ids, messages) only ever reaches the page as text
// nodes: no innerHTML or HTML strings in any of these modules.
//
//   ui/dom.js         elements, shared state, live region, enabled controls
//   ui/format.js      numbers, sizes, durations, language names
//   ui/engine.js      the worker: requests, replies, events
//   ui/model.js       engine status: model loading, ready, backend, errors
//   ui/add.js         adding documents: progress, cancel, pasted text, demo
//   ui/files.js       adding files: file input, drag and drop, HTML text
//   ui/search.js      search form, results, highlighting, delete
//   ui/stats.js       the collection's figures, storage note, language list
//   ui/collection.js  export, import, clear

// First: every later module runs under the Trusted Types policy.
import './trusted-types.js';
import { EVENT } from './protocol.js';
import { addPastedText, cancelIndexing, loadDemo, renderIndexProgress } from './ui/add.js';
import { clearEverything, exportIndex, importIndex } from './ui/collection.js';
import { announce, el, updateControls } from './ui/dom.js';
import { onEvents } from './ui/engine.js';
import { addFiles, setupDropZone } from './ui/files.js';
import { errorMessage } from './ui/format.js';
import { initEngine, onBackendChange, renderModelProgress } from './ui/model.js';
import { rerunSearch, runSearch } from './ui/search.js';
import { onSaved, renderStats, updateStats } from './ui/stats.js';

function bindWorkerEvents() {
  onEvents({
    [EVENT.modelProgress]: renderModelProgress,
    [EVENT.indexProgress]: renderIndexProgress,
    [EVENT.saved]: onSaved,
    [EVENT.stats]: (data) => { if (data.stats) updateStats(data.stats); },
    [EVENT.backend]: onBackendChange,
    [EVENT.error]: (data) => announce(data.message || 'The search engine reported an error.'),
  });
}

function bindEvents() {
  el.retryInit.addEventListener('click', () => { initEngine(); });
  el.addPaste.addEventListener('click', () => { addPastedText().catch((err) => announce(errorMessage(err))); });
  el.fileInput.addEventListener('change', () => {
    addFiles(el.fileInput.files);
    el.fileInput.value = '';
  });
  el.demoSample.addEventListener('click', () => loadDemo('sample'));
  el.demoFull.addEventListener('click', () => loadDemo('full'));
  el.cancelIndex.addEventListener('click', () => { cancelIndexing(); });
  el.searchForm.addEventListener('submit', (e) => {
    e.preventDefault();
    runSearch();
  });
  el.searchForm.addEventListener('change', (e) => {
    if (e.target === el.langSelect) el.langChosen.checked = true;
    if (e.target === el.langSelect || e.target.name === 'mode' || e.target.name === 'languages') rerunSearch();
  });
  el.exportIndex.addEventListener('click', () => { exportIndex(); });
  el.importInput.addEventListener('change', () => { importIndex(); });
  el.clearAll.addEventListener('click', () => { clearEverything(); });
  setupDropZone();
  setInterval(renderStats, 15000);
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  const register = () => navigator.serviceWorker.register('./sw.js').catch(() => {});
  if (document.readyState === 'complete') register();
  else window.addEventListener('load', register, { once: true });
}

bindWorkerEvents();
bindEvents();
updateControls();
registerServiceWorker();
initEngine();
