// xling: the one definition of the messages between the page (ui/engine.js) and the
// engine worker (worker.js). Both import this module, so a name can only change here.
//
// Three shapes travel over postMessage:
//   request  page → worker  { id, type, ...args }                       (requestMessage)
//   reply    worker → page  { id, ok: true, result }                    (okReply)
//                           { id, ok: false, error: { code, message } } (errorReply)
//   event    worker → page  { event, ...data }, no id                   (eventMessage)
// Every request gets exactly one reply with its id. Requests marked "serial" change the
// index and run one at a time, in order; the others are answered at once, also between
// two batches of a long add.

/** Request types (`type` of a request), with their arguments and results. */
export const REQUEST = Object.freeze({
  /** Serial. Loads the engine and restores the saved index.
   *  Args: { device?: 'auto' | 'cpu' | 'gpu' (default 'auto'),
   *          workers?: number (workers that embed a long add on the CPU, this one
   *          included; default from the cores and memory, see pool.js) }.
   *  Result: { stats, restored: boolean, storage: 'opfs' | 'indexeddb' | 'memory', backend,
   *            workers } (`backend` is the engine's own report:
   *  { backend: 'gpu' | 'cpu', reason, adapter? }; `workers` the pool size in use).
   *  A second init answers the same without loading again. */
  init: 'init',
  /** Serial. Adds documents, all or nothing; sends `index-progress` events meanwhile.
   *  Args: { docs: [{ id, text, title?, lang?, url? }], skipExisting?: boolean }
   *  (`skipExisting` drops documents whose id is already indexed).
   *  Result: { documents, passages, skipped?, cancelled: boolean, stats }. */
  add: 'add',
  /** Asks a running add to stop (it then adds nothing). Args: none. Result: {}. */
  cancel: 'cancel',
  /** Searches the index.
   *  Args: { query: string, mode?: 'hybrid' | 'semantic' | 'keyword', k?: number,
   *          languages?: 'any' | 'same' | string[] }.
   *  Result: { hits: [{ id, title?, url?, lang, score, passage, highlight? }],
   *            queryLanguage, tookMs }. */
  search: 'search',
  /** Serial. Deletes documents by id. Args: { ids: string[] }.
   *  Result: { deleted: number, stats }. */
  delete: 'delete',
  /** The collection's figures. Args: none. Result: stats, that is
   *  { documents, passages, languages: [[code, count]], storage, savedAt, savedBytes, … }. */
  stats: 'stats',
  /** The index as one snapshot file. Args: none. Result: { bytes: Uint8Array } (transferred). */
  export: 'export',
  /** Serial. Replaces the index with a snapshot (the current one is kept if it fails).
   *  Args: { bytes: Uint8Array } (transfer its buffer). Result: { stats }. */
  import: 'import',
  /** Serial. Deletes every document, in memory and in storage. Args: none. Result: { stats }. */
  clear: 'clear',
  /** For the benchmark: the engine's WASM linear memory and where it goes. Args: none.
   *  Result: { wasmBytes, usage, helperWasmBytes } (`usage`: `engine.memoryUsage()`, an
   *  XlingMemoryUsage of bytes by part; null before the engine is loaded;
   *  `helperWasmBytes`: the WASM memory of each running embedding helper). */
  memory: 'memory',
});

/** Event names (`event` of an event message), with their data. */
export const EVENT = Object.freeze({
  /** Model download or cache read: { loaded, total, fromCache } (bytes). */
  modelProgress: 'model-progress',
  /** A running add: { done, total, passagesPerSecond, etaSeconds } (passages; rates may be null). */
  indexProgress: 'index-progress',
  /** The GPU failed during an add and the CPU took over: { backend } (as in init's result). */
  backend: 'backend',
  /** The index was written to storage: { savedAt (ms since epoch), savedBytes, storage }. */
  saved: 'saved',
  /** The figures changed without a request (background graph building): { stats }. */
  stats: 'stats',
  /** Something went wrong outside a request (a save, a stored index that did not load,
   *  background work): { code, message }. The message is written for the user. */
  error: 'error',
});

/** Error codes of replies and `error` events. The engine's own codes (pkg/README.md:
 *  invalid_input, invalid_document, invalid_model, invalid_index, model_mismatch, network,
 *  invalid_job, gpu_unavailable, internal) pass through unchanged; these are the ones the
 *  worker and the page make themselves. */
export const ERROR = Object.freeze({
  /** A bug, a WASM trap (the engine then refuses further work), or a worker that did not start. */
  internal: 'internal',
  /** The engine is still loading. */
  busy: 'busy',
  /** An unknown request type. */
  invalidInput: 'invalid_input',
  /** A stored index that could not be restored (an `error` event at init). */
  invalidIndex: 'invalid_index',
  /** Browser storage is full: the index is kept in memory only. */
  storageFull: 'storage_full',
  /** Any other failed save: the index is kept in memory only. */
  storage: 'storage',
  /** An add that was cancelled, if reported as an error (the worker reports
   *  `cancelled: true` in add's result; the page accepts either). */
  cancelled: 'cancelled',
});

/** A request from the page. */
export function requestMessage(id, type, args = {}) {
  return { id, type, ...args };
}

/** A successful reply to request `id`. */
export function okReply(id, result) {
  return { id, ok: true, result };
}

/** A failed reply to request `id`; `error` is `{ code, message }`. */
export function errorReply(id, error) {
  return { id, ok: false, error };
}

/** An event (no reply to anything). */
export function eventMessage(event, data) {
  return { event, ...data };
}
