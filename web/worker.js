// xling's engine worker: owns the WASM engine and the stored copy of the
// index, and answers the page's requests, so the page never blocks.
//
// The messages (requests, replies, events, error codes) are defined and
// documented in protocol.js, which the page imports too.
// Where the index is saved (OPFS, IndexedDB, memory) is storage.js.
//
// Changes to the index (add, delete, import, clear, graph building) run one
// at a time; searches, stats and export are answered at once, also while a
// long add is between two batches.

// First: every later module runs under the Trusted Types policy.
import './trusted-types.js';
import init, { Engine } from './xling-wasm.js';
import { ERROR, EVENT, REQUEST, errorReply, eventMessage, okReply } from './protocol.js';
import { openStorage } from './storage.js';
import { EmbeddingPool, MIN_PASSAGES, embedInParallel, poolSize } from './pool.js';

const MODEL_URL = new URL('./model/', self.location.href).href;
const MODEL_CACHE = 'xling-model-v1';
/** On the CPU an add embeds one passage per call (in WASM, batching only
 *  adds padding: 1 per call is 37 % faster than 4 on paragraphs) and yields
 *  to pending messages at least this often, so a search or a cancel waits
 *  little. */
const STEP_MS = 100;
/** On the GPU a call embeds this many passages: a batch pays for the round
 *  trip to the device, and searches are answered while it runs. */
const GPU_BATCH = 16;
/** Idle time before background graph building starts. */
const MAINTENANCE_DELAY_MS = 400;

let engine = null;
/** The module's exports (its memory is what `memory` reports). */
let wasm = null;
let storage = null;
let savedAt = null;
let savedBytes = null;
let broken = null;
let cancelRequested = false;
let adding = false;
let maintenanceTimer = 0;
/** Workers that embed a long add on the CPU, this one included (pool.js). */
let workers = 1;
let pool = null;
/** The tail of the queue of index changes. */
let queue = Promise.resolve();

class WorkerError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// ------------------------------------------------------------------ messages

self.onmessage = (event) => {
  const { id, type, ...args } = event.data || {};
  const handler = HANDLERS[type];
  if (!handler) {
    reply(id, Promise.reject(new WorkerError(ERROR.invalidInput, `unknown request ${JSON.stringify(type)}`)));
    return;
  }
  if (handler.serial) {
    const run = queue.then(() => handler(args));
    queue = run.catch(() => {});
    reply(id, run);
  } else {
    reply(id, Promise.resolve().then(() => handler(args)));
  }
};

function reply(id, promise) {
  promise.then(
    ({ result, transfer } = {}) => self.postMessage(okReply(id, result), transfer || []),
    (error) => self.postMessage(errorReply(id, describe(error))),
  );
}

function emit(event, data) {
  self.postMessage(eventMessage(event, data));
}

/** Any thrown value as `{ code, message }`; a WASM trap leaves the engine unusable. */
function describe(error) {
  if (error instanceof WebAssembly.RuntimeError) {
    broken = 'The search engine stopped after an internal error. Reload the page; your saved index is kept.';
    return { code: ERROR.internal, message: broken };
  }
  if (error && typeof error === 'object' && 'code' in error) {
    return { code: String(error.code), message: String(error.message) };
  }
  return { code: ERROR.internal, message: String((error && error.message) || error) };
}

function needEngine() {
  if (broken) throw new WorkerError(ERROR.internal, broken);
  if (!engine) throw new WorkerError(ERROR.busy, 'The search engine is still loading.');
  return engine;
}

const HANDLERS = {
  [REQUEST.init]: Object.assign(initEngine, { serial: true }),
  [REQUEST.add]: Object.assign(addDocuments, { serial: true }),
  [REQUEST.delete]: Object.assign(deleteDocuments, { serial: true }),
  [REQUEST.import]: Object.assign(importIndex, { serial: true }),
  [REQUEST.clear]: Object.assign(clearIndex, { serial: true }),
  [REQUEST.cancel]: async () => {
    cancelRequested = adding;
    return { result: {} };
  },
  [REQUEST.search]: async ({ query, mode = 'hybrid', k = 10, languages = 'any' }) => {
    const e = needEngine();
    const started = performance.now();
    const { hits, queryLanguage } = e.search(query, { mode, k, languages });
    return { result: { hits, queryLanguage, tookMs: performance.now() - started } };
  },
  [REQUEST.stats]: async () => ({ result: stats() }),
  // For the benchmark: the engine's linear memory (it only ever grows) and
  // the engine's own breakdown of it.
  [REQUEST.memory]: async () => ({
    result: {
      wasmBytes: wasm ? wasm.memory.buffer.byteLength : 0,
      usage: engine && !broken ? engine.memoryUsage() : null,
      helperWasmBytes: pool ? pool.memory() : [],
    },
  }),
  [REQUEST.export]: async () => {
    const bytes = needEngine().save();
    return { result: { bytes }, transfer: [bytes.buffer] };
  },
};

function stats() {
  return { ...needEngine().stats(), storage: storage ? storage.kind : 'memory', savedAt, savedBytes };
}

// ------------------------------------------------------------------ requests

async function initEngine({ device = 'auto', workers: requested } = {}) {
  if (engine) return { result: ready(false) };
  wasm = await init();
  engine = await Engine.fromUrl(MODEL_URL, {
    cacheName: MODEL_CACHE,
    onProgress: (p) => emit(EVENT.modelProgress, p),
    device,
  });
  engine.setDeferredMaintenance(true);
  workers = poolSize({
    requested,
    cores: self.navigator.hardwareConcurrency,
    deviceMemoryGb: self.navigator.deviceMemory,
    engineBytes: wasm.memory.buffer.byteLength,
  });
  pool = new EmbeddingPool({
    helperUrl: new URL('./embed-worker.js', import.meta.url),
    modelUrl: MODEL_URL,
    cacheName: MODEL_CACHE,
  });
  storage = await openStorage();
  let restored = false;
  const stored = await storage.read();
  if (stored) {
    try {
      engine.restore(stored.bytes);
      restored = true;
      savedAt = stored.savedAt;
      savedBytes = stored.bytes.byteLength;
    } catch (error) {
      // Kept on storage untouched (the user may export it elsewhere); the
      // next save replaces it.
      emit(EVENT.error, { code: error.code || ERROR.invalidIndex, message: `The saved index could not be loaded (${error.message}); starting with an empty one.` });
    }
  }
  scheduleMaintenance();
  return { result: ready(restored) };
}

function ready(restored) {
  return { stats: stats(), restored, storage: storage.kind, backend: engine.backend, workers };
}

async function addDocuments({ docs, skipExisting = false }) {
  const e = needEngine();
  let skipped = 0;
  if (skipExisting && Array.isArray(docs)) {
    const known = new Set(e.documents().map((d) => d.id));
    const fresh = docs.filter((d) => !(d && known.has(d.id)));
    skipped = docs.length - fresh.length;
    docs = fresh;
    if (!docs.length) return { result: { documents: 0, passages: 0, skipped, cancelled: false, stats: stats() } };
  }
  const job = e.prepareAdd(docs);
  adding = true;
  cancelRequested = false;
  const total = job.total;
  const started = performance.now();
  try {
    emit(EVENT.indexProgress, { done: 0, total, passagesPerSecond: null, etaSeconds: null });
    const helpers = e.backend.backend !== 'gpu' && workers > 1 && total >= MIN_PASSAGES ? pool.acquire(workers - 1) : [];
    const embedded = helpers.length
      ? await embedInParallel({
          engine: e,
          job,
          helpers,
          stepMs: STEP_MS,
          yieldToEvents,
          isCancelled: () => cancelRequested,
          onProgress: (done) => reportProgress(done, total, started),
        })
      : await embedHere(e, job, started);
    if (!embedded) {
      return { result: { documents: 0, passages: 0, cancelled: true, stats: stats() } };
    }
    const report = e.commitAdd(job);
    await save();
    scheduleMaintenance();
    return { result: { ...report, skipped, cancelled: false, stats: stats() } };
  } finally {
    adding = false;
    cancelRequested = false;
    job.free();
    pool.release();
  }
}

/** Embeds every passage of `job` in this worker: one passage per call on the
 *  CPU (GPU_BATCH on the GPU), yielding to messages every STEP_MS. Returns
 *  false if cancelled. */
async function embedHere(e, job, started) {
  const total = job.total;
  while (job.remaining > 0) {
    // Let searches and a cancel in.
    await yieldToEvents();
    if (cancelRequested) return false;
    const stepStarted = performance.now();
    do {
      const onGpu = e.backend.backend === 'gpu';
      await e.embedNext(job, onGpu ? GPU_BATCH : 1);
      // A GPU that fails hands over to the CPU (the batch is redone there).
      if (onGpu && e.backend.backend !== 'gpu') emit(EVENT.backend, { backend: e.backend });
    } while (job.remaining > 0 && performance.now() - stepStarted < STEP_MS);
    reportProgress(total - job.remaining, total, started);
  }
  return true;
}

/** An `index-progress` event: `done` of `total` passages, the rate since
 *  `started` and the time left. */
function reportProgress(done, total, started) {
  const seconds = (performance.now() - started) / 1000;
  const rate = seconds > 0 ? done / seconds : null;
  emit(EVENT.indexProgress, { done, total, passagesPerSecond: rate, etaSeconds: rate ? (total - done) / rate : null });
}

async function deleteDocuments({ ids }) {
  const deleted = needEngine().deleteDocuments(ids);
  await save();
  scheduleMaintenance();
  return { result: { deleted, stats: stats() } };
}

async function importIndex({ bytes }) {
  needEngine().restore(bytes);
  await save();
  scheduleMaintenance();
  return { result: { stats: stats() } };
}

async function clearIndex() {
  needEngine().clear();
  await storage.remove();
  savedAt = null;
  savedBytes = null;
  return { result: { stats: stats() } };
}

/** A macrotask boundary: queued messages are handled before we go on.
 *  Through a MessageChannel, not setTimeout(0), which browsers stretch to
 *  4 ms when nested. */
const yieldChannel = new MessageChannel();
const yieldWaiters = [];
yieldChannel.port1.onmessage = () => yieldWaiters.shift()?.();
function yieldToEvents() {
  return new Promise((resolve) => {
    yieldWaiters.push(resolve);
    yieldChannel.port2.postMessage(null);
  });
}

// ------------------------------------------------- background graph building

/** Builds HNSW graph segments when the index is idle, one per turn, so that a
 *  growing collection moves from exact search to graphs without ever making
 *  an add or a search wait for a whole build. */
function scheduleMaintenance() {
  clearTimeout(maintenanceTimer);
  if (!engine || broken || !engine.maintenancePending) return;
  maintenanceTimer = setTimeout(() => {
    const run = queue.then(async () => {
      if (!engine.maintenancePending) return;
      engine.maintainStep();
      await save();
      emit(EVENT.stats, { stats: stats() });
      scheduleMaintenance();
    });
    queue = run.catch((error) => emit(EVENT.error, describe(error)));
  }, MAINTENANCE_DELAY_MS);
}

// ------------------------------------------------------------------ storage

/** Saves the index; a full disk keeps the index in memory and says so. */
async function save() {
  const bytes = needEngine().save();
  try {
    await storage.write(bytes);
    savedAt = Date.now();
    savedBytes = bytes.byteLength;
    emit(EVENT.saved, { savedAt, savedBytes, storage: storage.kind });
  } catch (error) {
    const full = error && (error.name === 'QuotaExceededError' || /quota|space/i.test(String(error.message)));
    emit(EVENT.error, {
      code: full ? ERROR.storageFull : ERROR.storage,
      message: full
        ? 'Browser storage is full: the index is kept in memory but could not be saved.'
        : `The index could not be saved (${error && error.message}); it is kept in memory.`,
    });
  }
}
