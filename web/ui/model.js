// xling page: the search engine's status panel: starting the worker, model download
// progress, "Model ready" with the backend in use (GPU or CPU, and why), and the error
// with its Retry button when the engine could not start.

import { REQUEST } from '../protocol.js';
import { announce, el, state, updateControls } from './dom.js';
import { request } from './engine.js';
import { errorMessage, formatMB, plural } from './format.js';
import { renderStorageNote, updateStats } from './stats.js';

/** `?device=cpu|gpu|auto` picks where documents are embedded (default auto:
 *  a hardware GPU that passes the engine's self-test, else the CPU). */
const DEVICE = (() => {
  const asked = new URLSearchParams(location.search).get('device');
  return ['auto', 'cpu', 'gpu'].includes(asked) ? asked : 'auto';
})();

/** A `model-progress` event: bytes of the model files read so far. */
export function renderModelProgress({ loaded = 0, total = 0, fromCache = false }) {
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

/** Starts the engine (at load, and again on Retry). */
export async function initEngine() {
  showModelLoading();
  el.retryInit.disabled = true;
  try {
    const result = await request(REQUEST.init, { device: DEVICE });
    onEngineReady(result || {});
  } catch (err) {
    showModelError(err);
  } finally {
    el.retryInit.disabled = false;
  }
}

/** Workers that embed a long add on the CPU (the engine's pool, pool.js). */
let poolWorkers = 1;

/** Where documents are embedded, in plain words next to "Model ready"; the
 *  engine's own reason (adapter names, why a GPU was not used) is in the
 *  footer for whoever wants it. */
function renderBackend(backend) {
  if (!backend) return;
  const onGpu = backend.backend === 'gpu';
  el.backendNote.textContent = onGpu
    ? "· Documents are indexed on this device's graphics processor"
    : "· Documents are indexed on this device's processor";
  el.backendNote.dataset.backend = backend.backend;
  const adapter = backend.adapter ? ` (${backend.adapter.name})` : '';
  const pool = !onGpu && poolWorkers > 1 ? `, ${poolWorkers} workers for long adds` : '';
  el.engineInfo.textContent =
    `Engine: ${onGpu ? `WebGPU${adapter}, self-test passed,` : 'CPU (WASM SIMD)'} for documents${pool}, CPU for queries · ` +
    `multilingual-e5-small Q4_0 · ${backend.reason}`;
}

/** A `backend` event: the GPU failed during an add and the CPU took over. */
export function onBackendChange({ backend }) {
  renderBackend(backend);
  announce("The graphics processor failed; indexing continues on this device's processor.");
}

function onEngineReady({ stats, restored, storage, backend, workers }) {
  state.ready = true;
  el.modelLoading.hidden = true;
  el.modelReady.hidden = false;
  renderStorageNote(storage || (stats && stats.storage));
  poolWorkers = workers || 1;
  renderBackend(backend);
  if (stats) updateStats(stats);
  announce(restored && stats ? `Restored your index: ${plural(stats.documents, 'document', 'documents')}` : 'Model ready');
  updateControls();
  document.body.dataset.ready = 'true';
}
