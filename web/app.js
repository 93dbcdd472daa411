// xling: the page's script (an ES module). It talks to the search engine in ./worker.js
// through a small request/reply protocol and renders everything the engine returns.
// Untrusted text (documents, titles, ids, messages) only ever reaches the page as text
// nodes: no innerHTML or HTML strings anywhere in this file.

const K = 10;
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const TITLE_CHARS = 80;
const DEMO_URLS = { sample: './demo/xquad-r-sample.json', full: './demo/xquad-r.json' };
const DEMO_MISSING =
  'The demo collection is not installed with this copy of the app (run cargo xtask up)';
const CANCELLED = 'Indexing cancelled; nothing from this batch was added.';
const STORAGE_LABELS = {
  opfs: "This browser's private storage (OPFS)",
  indexeddb: 'IndexedDB',
  memory: 'memory only — not saved',
};
/** `?device=cpu|gpu|auto` picks where documents are embedded (default auto:
 *  a hardware GPU that passes the engine's self-test, else the CPU). */
const DEVICE = (() => {
  const asked = new URLSearchParams(location.search).get('device');
  return ['auto', 'cpu', 'gpu'].includes(asked) ? asked : 'auto';
})();
const HTML_SKIP = new Set(['script', 'style', 'noscript', 'template', 'svg', 'math', 'iframe', 'object']);
const HTML_BLOCKS = new Set([
  'address', 'article', 'aside', 'blockquote', 'br', 'caption', 'dd', 'div', 'dl', 'dt',
  'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header',
  'hr', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section', 'table', 'td', 'th', 'tr', 'ul',
]);

const $ = (id) => document.getElementById(id);
const el = {
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

const state = {
  ready: false,
  busy: false, // an add or import is running
  stats: null,
  lastSearch: null,
  searchSeq: 0,
};

// ---------------------------------------------------------------- formatting

const integerFormat = new Intl.NumberFormat();
const decimalFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const formatInt = (n) => integerFormat.format(Math.round(Number(n) || 0));
const formatDecimal = (n) => decimalFormat.format(Number(n) || 0);
const plural = (n, one, many) => `${formatInt(n)} ${Number(n) === 1 ? one : many}`;
const formatMB = (bytes) => formatDecimal(bytes / 1e6);

function formatBytes(bytes) {
  if (bytes < 1e3) return `${formatInt(bytes)} B`;
  if (bytes < 1e6) return `${formatDecimal(bytes / 1e3)} kB`;
  return `${formatMB(bytes)} MB`;
}

function formatDuration(seconds) {
  if (seconds < 9.95) return `${formatDecimal(seconds)} s`;
  const whole = Math.round(seconds);
  if (whole < 60) return `${formatInt(whole)} s`;
  return `${formatInt(Math.floor(whole / 60))} min ${formatInt(whole % 60)} s`;
}

function formatEta(seconds) {
  if (seconds < 60) return `about ${formatInt(Math.max(1, seconds))} s left`;
  return `about ${formatInt(seconds / 60)} min left`;
}

function formatAgo(ms) {
  const seconds = Math.max(0, (Date.now() - ms) / 1000);
  if (seconds < 60) return `${formatInt(seconds)} s ago`;
  if (seconds < 3600) return `${formatInt(seconds / 60)} min ago`;
  return `at ${new Date(ms).toLocaleString()}`;
}

let displayNames = null;
try {
  displayNames = new Intl.DisplayNames([navigator.language, 'en'], { type: 'language' });
} catch {
  displayNames = null;
}

function languageName(code) {
  if (code === 'und') return 'undetermined';
  try {
    const name = displayNames && displayNames.of(code);
    return name && name !== code ? name : code;
  } catch {
    return code;
  }
}

function errorMessage(err) {
  if (err && typeof err.message === 'string' && err.message) return err.message;
  return String(err || 'Something went wrong.');
}

// ---------------------------------------------------------------- worker protocol

let worker = null;
let workerBroken = false;
let nextId = 0;
const pending = new Map();

function startWorker() {
  worker = new Worker('./worker.js', { type: 'module' });
  workerBroken = false;
  worker.addEventListener('message', (e) => onWorkerMessage(e.data));
  worker.addEventListener('error', onWorkerFailure);
  worker.addEventListener('messageerror', () => announce('A message from the search engine could not be read.'));
}

// Before the engine is ready an error means the worker could not start: fail what is pending
// so that Retry starts a fresh worker. Afterwards the worker keeps running: just report it.
function onWorkerFailure(e) {
  if (state.ready) {
    announce(`The search engine reported an error: ${e.message || 'unknown error'}`);
    return;
  }
  workerBroken = true;
  const err = new Error(e.message || 'its worker script could not be loaded.');
  err.code = 'internal';
  for (const { reject } of pending.values()) reject(err);
  pending.clear();
}

function request(type, args = {}, transfer = []) {
  if (!worker || workerBroken) {
    if (worker) worker.terminate();
    startWorker();
  }
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    try {
      worker.postMessage({ id, type, ...args }, transfer);
    } catch (err) {
      pending.delete(id);
      reject(err);
    }
  });
}

function onWorkerMessage(data) {
  if (!data || typeof data !== 'object') return;
  if (data.id !== undefined && pending.has(data.id)) {
    const { resolve, reject } = pending.get(data.id);
    pending.delete(data.id);
    if (data.ok) {
      resolve(data.result);
    } else {
      const err = new Error((data.error && data.error.message) || 'The search engine reported an error.');
      err.code = (data.error && data.error.code) || 'internal';
      reject(err);
    }
  } else if (data.event) {
    onWorkerEvent(data);
  }
}

function onWorkerEvent(data) {
  switch (data.event) {
    case 'model-progress': return renderModelProgress(data);
    case 'index-progress': return renderIndexProgress(data);
    case 'saved':
      if (state.stats) {
        updateStats({ ...state.stats, savedAt: data.savedAt, savedBytes: data.savedBytes, storage: data.storage ?? state.stats.storage });
      }
      return undefined;
    case 'stats': return data.stats ? updateStats(data.stats) : undefined;
    case 'backend':
      renderBackend(data.backend);
      return announce(`Indexing continues on the CPU: ${data.backend.reason}`);
    case 'error': return announce(data.message || 'The search engine reported an error.');
    default: return undefined;
  }
}

// ---------------------------------------------------------------- live region and controls

let announceTimer = 0;
function announce(message) {
  // Clear first so that repeating the same message is announced again.
  clearTimeout(announceTimer);
  el.live.textContent = '';
  announceTimer = setTimeout(() => { el.live.textContent = message; }, 50);
}

function updateControls() {
  const canAdd = state.ready && !state.busy;
  for (const control of [el.addPaste, el.fileInput, el.demoSample, el.demoFull, el.importInput, el.clearAll, el.exportIndex]) {
    control.disabled = !canAdd;
  }
  el.query.disabled = !state.ready;
  el.searchButton.disabled = !state.ready;
  el.dropZone.classList.toggle('disabled', !canAdd);
}

// ---------------------------------------------------------------- model loading

function renderModelProgress({ loaded = 0, total = 0, fromCache = false }) {
  if (total > 0) {
    el.modelProgress.max = total;
    el.modelProgress.value = Math.min(loaded, total);
  } else {
    el.modelProgress.removeAttribute('value');
  }
  if (total > 0 && loaded >= total) {
    // Files in: the engine builds the model and, where there is a GPU, tests it.
    el.modelProgressText.textContent = 'Preparing the model…';
  } else if (fromCache) {
    el.modelProgressText.textContent = 'Loading model from the offline cache…';
  } else if (total > 0) {
    el.modelProgressText.textContent = `Downloading model: ${formatMB(loaded)} of ${formatMB(total)} MB`;
  } else {
    el.modelProgressText.textContent = `Downloading model: ${formatMB(loaded)} MB`;
  }
}

function showModelLoading() {
  el.modelError.hidden = true;
  el.modelReady.hidden = true;
  el.modelLoading.hidden = false;
  el.modelProgress.removeAttribute('value');
  el.modelProgressText.textContent = 'Starting the search engine…';
}

function showModelError(err) {
  el.modelLoading.hidden = true;
  el.modelErrorText.textContent = `The search engine could not start: ${errorMessage(err)}`;
  el.modelError.hidden = false;
  announce(el.modelErrorText.textContent);
}

function renderStorageNote(storage) {
  el.storageNote.textContent = `· Index stored in: ${STORAGE_LABELS[storage] || storage || 'unknown'}`;
}

async function initEngine() {
  showModelLoading();
  el.retryInit.disabled = true;
  try {
    const result = await request('init', { device: DEVICE });
    onEngineReady(result || {});
  } catch (err) {
    showModelError(err);
  } finally {
    el.retryInit.disabled = false;
  }
}

/** Where documents are embedded, and why (the engine's own report). */
function renderBackend(backend) {
  if (!backend) return;
  const onGpu = backend.backend === 'gpu';
  const adapter = backend.adapter ? ` (${backend.adapter.name})` : '';
  el.backendNote.textContent = onGpu
    ? `· Documents embedded on the GPU${adapter}, self-test passed`
    : `· Documents embedded on the CPU: ${backend.reason}`;
  el.backendNote.dataset.backend = backend.backend;
  el.engineInfo.textContent = `Engine: ${onGpu ? 'WebGPU' : 'CPU (WASM SIMD)'} for documents, CPU for queries · multilingual-e5-small Q4_0`;
}

function onEngineReady({ stats, restored, storage, backend }) {
  state.ready = true;
  el.modelLoading.hidden = true;
  el.modelReady.hidden = false;
  renderStorageNote(storage || (stats && stats.storage));
  renderBackend(backend);
  if (stats) updateStats(stats);
  announce(restored && stats ? `Restored your index: ${plural(stats.documents, 'document', 'documents')}` : 'Model ready');
  updateControls();
  document.body.dataset.ready = 'true';
}

// ---------------------------------------------------------------- adding documents

function showIndexStatus(documents) {
  el.indexProgress.removeAttribute('value');
  el.indexProgressText.textContent = `Preparing ${plural(documents, 'document', 'documents')}…`;
  el.cancelIndex.disabled = false;
  el.cancelIndex.textContent = 'Cancel';
  el.indexStatus.hidden = false;
}

function renderIndexProgress({ done = 0, total = 0, passagesPerSecond, etaSeconds }) {
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
async function runAdd(prepare) {
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
    const result = await request('add', { docs: prepared.docs, skipExisting: Boolean(prepared.skipExisting) });
    if (result.stats) updateStats(result.stats);
    const seconds = (performance.now() - started) / 1000;
    let summary = result.cancelled
      ? CANCELLED
      : `Added ${plural(result.documents, 'document', 'documents')} (${plural(result.passages, 'passage', 'passages')}) in ${formatDuration(seconds)}`;
    if (!result.cancelled && result.skipped) summary += ` (${plural(result.skipped, 'document was', 'documents were')} already in the index)`;
    announce([summary, ...notes].join(' '));
    return !result.cancelled;
  } catch (err) {
    announce([err && err.code === 'cancelled' ? CANCELLED : errorMessage(err), ...notes].join(' '));
    return false;
  } finally {
    state.busy = false;
    el.indexStatus.hidden = true;
    updateControls();
  }
}

async function cancelIndexing() {
  el.cancelIndex.disabled = true;
  el.cancelIndex.textContent = 'Cancelling…';
  try {
    await request('cancel');
  } catch (err) {
    announce(errorMessage(err));
  }
}

function firstLine(text) {
  const line = text.trim().split('\n')[0].trim();
  return Array.from(line).slice(0, TITLE_CHARS).join('');
}

async function addPastedText() {
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

function fileKind(file) {
  const name = file.name.toLowerCase();
  if (/\.html?$/.test(name) || file.type === 'text/html') return 'html';
  if (/\.(txt|md|markdown)$/.test(name) || file.type.startsWith('text/')) return 'text';
  return null;
}

/** Text of an HTML element, one paragraph per block element, whitespace runs collapsed. */
function htmlText(root) {
  const paragraphs = [];
  let current = '';
  const flush = () => {
    const text = current.replace(/\s+/g, ' ').trim();
    if (text) paragraphs.push(text);
    current = '';
  };
  const visit = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      current += node.data;
    } else if (node.nodeType === Node.ELEMENT_NODE && !HTML_SKIP.has(node.localName)) {
      const block = HTML_BLOCKS.has(node.localName);
      if (block) flush();
      for (const child of node.childNodes) visit(child);
      if (block) flush();
    }
  };
  if (root) visit(root);
  flush();
  return paragraphs.join('\n\n');
}

function uniqueId(name, used) {
  let id = name;
  for (let n = 2; used.has(id); n += 1) id = `${name} (${n})`;
  used.add(id);
  return id;
}

async function readFiles(files) {
  const docs = [];
  const notes = [];
  const used = new Set();
  for (const file of files) {
    const kind = fileKind(file);
    if (!kind) {
      notes.push(`Skipped “${file.name}”: only .txt, .md and .html files can be added.`);
      continue;
    }
    if (file.size > MAX_FILE_BYTES) {
      notes.push(`Skipped “${file.name}”: it is larger than 4 MB (${formatBytes(file.size)}).`);
      continue;
    }
    let text = await file.text();
    let title = file.name;
    if (kind === 'html') {
      const page = new DOMParser().parseFromString(text, 'text/html');
      title = page.title.replace(/\s+/g, ' ').trim() || file.name;
      text = htmlText(page.body);
    }
    if (!text.trim()) {
      notes.push(`Skipped “${file.name}”: it has no text.`);
      continue;
    }
    docs.push({ id: uniqueId(file.name, used), text, title });
  }
  return { docs, notes };
}

function addFiles(fileList) {
  const files = Array.from(fileList || []);
  if (!files.length) return;
  if (!state.ready || state.busy) {
    announce(state.ready ? 'Please wait until the current indexing finishes.' : 'Please wait until the model is ready.');
    return;
  }
  runAdd(() => readFiles(files)).catch((err) => announce(errorMessage(err)));
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

function loadDemo(which) {
  runAdd(() => fetchDemo(DEMO_URLS[which])).catch((err) => announce(errorMessage(err)));
}

// ---------------------------------------------------------------- drag and drop

const hasFiles = (e) => Boolean(e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files'));

function setupDropZone() {
  el.dropZone.addEventListener('dragover', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = state.ready && !state.busy ? 'copy' : 'none';
    el.dropZone.classList.add('drag-over');
  });
  el.dropZone.addEventListener('dragleave', (e) => {
    if (!el.dropZone.contains(e.relatedTarget)) el.dropZone.classList.remove('drag-over');
  });
  el.dropZone.addEventListener('drop', (e) => {
    e.preventDefault();
    el.dropZone.classList.remove('drag-over');
    addFiles(e.dataTransfer && e.dataTransfer.files);
  });
  // A file dropped next to the zone must not navigate away from the app.
  window.addEventListener('dragover', (e) => { if (hasFiles(e)) e.preventDefault(); });
  window.addEventListener('drop', (e) => { if (hasFiles(e)) e.preventDefault(); });
}

// ---------------------------------------------------------------- search

function selectedLanguages() {
  return Array.from(el.langSelect.selectedOptions, (option) => option.value);
}

function searchLanguages() {
  const choice = el.searchForm.elements.languages.value;
  if (choice === 'chosen') return selectedLanguages();
  return choice === 'same' ? 'same' : 'any';
}

function showSearchError(message) {
  el.searchError.textContent = message;
  el.searchError.hidden = !message;
}

function runSearch() {
  const query = el.query.value.trim();
  if (!query || !state.ready) return;
  const languages = searchLanguages();
  if (Array.isArray(languages) && !languages.length) {
    showSearchError('Select one or more languages in the list, or choose “Any language”.');
    return;
  }
  executeSearch({ query, mode: el.searchForm.elements.mode.value || 'hybrid', languages }).catch((err) => announce(errorMessage(err)));
}

async function executeSearch(search) {
  const seq = ++state.searchSeq;
  state.lastSearch = search;
  el.results.setAttribute('aria-busy', 'true');
  try {
    const result = await request('search', { ...search, k: K });
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

function rerunSearch() {
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

function clearResults() {
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
    const result = await request('delete', { ids: [id] });
    if (result.stats) updateStats(result.stats);
    announce(result.deleted ? `Deleted “${title}”` : `“${title}” was no longer in the index`);
  } catch (err) {
    announce(errorMessage(err));
    return;
  }
  if (state.lastSearch) await executeSearch(state.lastSearch);
  if (!el.resultSummary.hidden) el.resultSummary.focus();
}

// ---------------------------------------------------------------- collection and storage

function updateStats(stats) {
  state.stats = stats;
  renderStats();
  renderLanguageOptions(stats.languages || []);
  if (stats.storage) renderStorageNote(stats.storage);
}

function savedText(stats) {
  if (stats.storage === 'memory') return 'not saved (memory only)';
  if (!stats.savedAt) return 'not saved yet';
  const size = Number.isFinite(stats.savedBytes) ? ` (${formatBytes(stats.savedBytes)})` : '';
  return `saved ${formatAgo(stats.savedAt)}${size}`;
}

function renderStats() {
  const stats = state.stats;
  if (!stats) return;
  el.stats.textContent = [
    plural(stats.documents, 'document', 'documents'),
    plural(stats.passages, 'passage', 'passages'),
    plural((stats.languages || []).length, 'language', 'languages'),
    savedText(stats),
  ].join(' · ');
}

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

async function exportIndex() {
  el.exportIndex.disabled = true;
  try {
    const { bytes } = await request('export');
    const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'xling-index.xlidx';
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    announce(`Exported the index (${formatBytes(bytes.byteLength)})`);
  } catch (err) {
    announce(`Export failed: ${errorMessage(err)}`);
  } finally {
    updateControls();
  }
}

async function importIndex() {
  const file = el.importInput.files && el.importInput.files[0];
  el.importInput.value = '';
  if (!file) return;
  state.busy = true;
  updateControls();
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const { stats } = await request('import', { bytes }, [bytes.buffer]);
    updateStats(stats);
    clearResults();
    announce(`Imported “${file.name}”: ${plural(stats.documents, 'document', 'documents')}`);
  } catch (err) {
    announce(`Import failed: ${errorMessage(err)} Your current index was kept.`);
  } finally {
    state.busy = false;
    updateControls();
  }
}

async function clearEverything() {
  if (!confirm('Delete every document from the index and from this browser’s storage?')) return;
  try {
    const { stats } = await request('clear');
    if (stats) updateStats(stats);
    clearResults();
    announce('Index cleared');
  } catch (err) {
    announce(errorMessage(err));
  }
}

// ---------------------------------------------------------------- wiring

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

bindEvents();
updateControls();
registerServiceWorker();
initEngine();
