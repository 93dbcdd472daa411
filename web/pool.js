// xling's embedding pool: helper workers (embed-worker.js), each with its own
// CPU engine, that embed passages of a long add beside the engine worker.
//
// WASM threads would need a nightly standard library and cross-origin
// isolation, which most static hosts do not give; separate engines need
// neither. Each helper costs one engine's memory (about the model's size), so
// the pool is sized from the cores and the device's memory, and it is only
// started for adds long enough to pay for a helper's load, and stopped again
// when indexing has been idle a while.
//
// The vectors a helper returns are the same as the engine worker's own (same
// model, same CPU kernels): an add gives the same index with any pool size.

/** Adds with fewer passages are embedded by the engine worker alone. */
export const MIN_PASSAGES = 24;
/** Passages per helper request: small enough that a cancel waits little and
 *  the last requests of an add end together, large enough that messages
 *  cost nothing beside embedding. */
export const CHUNK_PASSAGES = 4;
/** Helpers are stopped (their memory freed) this long after the last add. */
export const IDLE_STOP_MS = 30_000;
/** Never more workers than this, whatever the device says. */
export const MAX_WORKERS = 4;

/**
 * How many workers embed an add (the engine worker included): one per core
 * up to MAX_WORKERS, one on small devices (under 4 GB, the Device Memory
 * API's figure where the browser gives it), and no more than an eighth of
 * the device's memory holds (`engineBytes` per worker). `requested` (a
 * positive integer) overrides the rule, within 1..MAX_WORKERS.
 */
export function poolSize({ requested, cores, deviceMemoryGb, engineBytes }) {
  if (Number.isInteger(requested) && requested > 0) return Math.min(requested, MAX_WORKERS);
  const byCores = Math.max(1, Math.min(Number(cores) || 1, MAX_WORKERS));
  if (typeof deviceMemoryGb !== 'number' || !(deviceMemoryGb > 0)) return byCores;
  if (deviceMemoryGb < 4) return 1;
  const byMemory = engineBytes > 0 ? Math.floor((deviceMemoryGb * 2 ** 30) / 8 / engineBytes) : byCores;
  return Math.max(1, Math.min(byCores, byMemory));
}

/** `texts` embedded as passages, text by text (as `embedNext` does on the
 *  CPU, so every worker gives the same vectors), in one flat Float32Array
 *  for `job.acceptVectors`. */
export function embedPassages(engine, texts) {
  const dim = engine.dimension;
  const vectors = new Float32Array(texts.length * dim);
  texts.forEach((text, i) => vectors.set(engine.embed(text, 'passage'), i * dim));
  return vectors;
}

/** One helper worker and its requests. */
class Helper {
  constructor(url, modelUrl, cacheName) {
    this.worker = new Worker(url, { type: 'module' });
    this.pending = new Map();
    this.nextId = 1;
    this.failed = null;
    this.wasmBytes = 0;
    this.worker.onmessage = (event) => this.settle(event.data || {});
    this.worker.onerror = (event) => {
      event.preventDefault?.();
      this.fail(event.message || 'the helper worker failed to start');
    };
    this.ready = this.request('init', { modelUrl, cacheName });
    this.ready.catch(() => {});
  }

  request(type, args, transfer = []) {
    if (this.failed) return Promise.reject(new Error(this.failed));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, type, ...args }, transfer);
    });
  }

  settle({ id, ok, result, error }) {
    const waiter = this.pending.get(id);
    if (!waiter) return;
    this.pending.delete(id);
    if (result && result.wasmBytes) this.wasmBytes = result.wasmBytes;
    if (ok) {
      waiter.resolve(result);
    } else {
      // A helper that failed once is not trusted with more work.
      this.fail((error && error.message) || 'the helper failed');
      waiter.reject(new Error(this.failed));
    }
  }

  fail(message) {
    if (!this.failed) this.failed = String(message);
    for (const { reject } of this.pending.values()) reject(new Error(this.failed));
    this.pending.clear();
    this.worker.terminate();
  }

  async embed(texts) {
    const { vectors } = await this.request('embed', { texts });
    return vectors;
  }
}

/** The helpers of one engine worker. */
export class EmbeddingPool {
  constructor({ helperUrl, modelUrl, cacheName }) {
    this.helperUrl = helperUrl;
    this.modelUrl = modelUrl;
    this.cacheName = cacheName;
    this.helpers = [];
    this.stopTimer = 0;
  }

  /** Up to `count` working helpers, started where missing (they become
   *  usable as their `ready` resolves). */
  acquire(count) {
    clearTimeout(this.stopTimer);
    this.helpers = this.helpers.filter((h) => !h.failed);
    while (this.helpers.length < count) {
      this.helpers.push(new Helper(this.helperUrl, this.modelUrl, this.cacheName));
    }
    return this.helpers.slice(0, count);
  }

  /** Stops the helpers after IDLE_STOP_MS unless an add acquires them first. */
  release() {
    clearTimeout(this.stopTimer);
    this.stopTimer = setTimeout(() => this.stop(), IDLE_STOP_MS);
  }

  stop() {
    clearTimeout(this.stopTimer);
    for (const h of this.helpers) h.fail('stopped');
    this.helpers = [];
  }

  /** The running helpers' WASM memory, for the benchmark. */
  memory() {
    return this.helpers.filter((h) => !h.failed).map((h) => h.wasmBytes);
  }
}

/**
 * Embeds every passage of `job` (an engine's AddJob) with the engine worker
 * and `helpers` together, and hands the vectors to the job in order, so the
 * add commits as one. Returns false if cancelled (nothing was committed).
 *
 * The engine worker embeds one passage at a time and yields to its messages
 * at least every `stepMs`, as it does alone, so searches and a cancel are
 * answered during the add; helpers get CHUNK_PASSAGES at a time. A helper
 * that fails gives its passages back to the others. `onProgress(done)` is
 * called after each step with the passages handed to the job so far.
 */
export async function embedInParallel({ engine, job, helpers, stepMs, yieldToEvents, isCancelled, onProgress }) {
  const total = job.total;
  const finished = new Map(); // first passage → vectors (flat) of a finished piece
  const returned = []; // pieces of failed helpers: [start, count]
  let next = job.embedded; // first passage not yet handed out
  let over = false; // set when this returns: the job may be freed then
  let wake = null;
  const wakeUp = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  const takePiece = (count) => {
    if (returned.length) return returned.shift();
    if (next >= total) return null;
    const piece = [next, Math.min(count, total - next)];
    next += piece[1];
    return piece;
  };

  const feed = (helper) => {
    if (over || isCancelled() || helper.failed) return;
    const piece = takePiece(CHUNK_PASSAGES);
    if (!piece) return;
    const [start, count] = piece;
    helper.embed(job.passageTexts(start, count)).then(
      (vectors) => {
        finished.set(start, vectors);
        wakeUp();
        feed(helper);
      },
      () => {
        returned.push(piece);
        wakeUp();
      },
    );
  };
  for (const helper of helpers) {
    helper.ready.then(() => feed(helper), () => {});
  }

  const acceptFinished = () => {
    let piece;
    while ((piece = finished.get(job.embedded))) {
      finished.delete(job.embedded);
      job.acceptVectors(piece);
    }
  };

  /** Embeds pieces here for about `stepMs`, or waits for a helper when all
   *  are handed out. */
  const step = async () => {
    const stepStarted = performance.now();
    do {
      acceptFinished();
      if (job.embedded >= total) return;
      const piece = takePiece(1);
      if (!piece) {
        // Everything is handed out: wait for a helper (messages still come
        // in; a cancel or a failed helper wakes us too, and so does the timer).
        await new Promise((resolve) => {
          wake = resolve;
          setTimeout(wakeUp, stepMs);
        });
        return;
      }
      const [start, count] = piece;
      finished.set(start, embedPassages(engine, job.passageTexts(start, count)));
    } while (performance.now() - stepStarted < stepMs);
  };

  try {
    while (job.embedded < total) {
      await yieldToEvents();
      if (isCancelled()) return false;
      await step();
      acceptFinished();
      onProgress(job.embedded);
    }
    return true;
  } finally {
    over = true;
  }
}
