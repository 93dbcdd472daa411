// The browser benchmark (`cargo xtask bench web`): xling's WASM engine in
// headless Chromium next to native `xling` on the same texts, in one run.
//
// Measured in the browser (one persistent profile, so Cache Storage and OPFS
// survive restarts): the first visit (model download), the cold start from
// the cache (median of 3 restarts), indexing throughput (200 XQuAD-R
// paragraphs; 10,000 Tatoeba sentences in requests of 1,000), the engine's
// wasm memory right after it is ready and after indexing, with the engine's
// own breakdown of it (`engine.memoryUsage()`: model weights, tokenizer,
// prior, index parts; the rest is allocator slack and the load's high-water
// mark), and query latency (median, p95; semantic and
// hybrid) end to end in the page and inside the worker. The native side is
// `xling bench native` on the same files, one thread, Q4_0 weights as in the
// browser. Then the encoder on WebGPU next to the WASM CPU path in the same
// page (`device: 'gpu'`, any adapter): latency and texts/s by batch size and
// sequence length, with the lowest GPU–CPU cosine of each cell. Here that
// adapter is SwiftShader (software): its figures are correctness signals,
// not GPU speed. Prints tables and writes every figure as JSON.
//
// A benchmark, not a test: missed targets are reported, never fatal; only
// real failures (a request that fails, a crash, a missing input) exit non-zero.
//
// Environment (set by `cargo xtask bench web`): XLING_APP_URL, XLING_BIN,
// XLING_MODEL_DIR, XLING_DATA_DIR, XLING_BENCH_JSON.
// Options: --quick (1,000 sentences), --passages N (sentences, default
// 10,000), --queries N (default 100), --all-threads (native also with 2
// threads), --no-native (browser only, for working on this script),
// --keep (keep the temporary directory), --gpu-grid quick|full|none (batch
// sizes × tokens: quick 1,4 × 16,64, the default, sized for a software
// adapter; full 1,8,32 × 16,128,512 for a real GPU).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { foreignRequests, launchPersistent, recordRequests } from '../support/browser.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.resolve(HERE, '../../web/dist');

const XQUAD_PARAGRAPHS = 200;
const CHUNK_DOCS = 1000;
const COLD_STARTS = 3;
const K = 10;
const MODES = ['semantic', 'hybrid'];
const ENCODE_RATIO_TARGET = 0.5;
const SHORT_QUERY_MS_TARGET = 30;
/** Light-engine targets (issue 16): WASM linear memory of the benchmark
 *  worker's engine right after it is ready, and after the 10k sentences;
 *  the app ready from Cache Storage (median cold start). */
const WASM_AFTER_LOAD_MB_TARGET = 110;
const WASM_AFTER_10K_MB_TARGET = 140;
const READY_FROM_CACHE_MS_TARGET = 600;
/** Model download and engine start on a slow machine. */
const READY_TIMEOUT_MS = 10 * 60 * 1000;
/** Background graph building after the last add, if any is due. */
const MAINTENANCE_TIMEOUT_MS = 10 * 60 * 1000;
const PROGRESS_EVERY_MS = 15 * 1000;
const GPU_GRIDS = {
  quick: { batches: [1, 4], lengths: [16, 64] },
  full: { batches: [1, 8, 32], lengths: [16, 128, 512] },
  none: null,
};
/** Each grid cell is timed this many times, or for this long, whichever ends first. */
const GPU_CELL_REPS = 3;
const GPU_CELL_MS = 20 * 1000;

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const options = { passages: 10000, queries: 100, quick: false, allThreads: false, native: true, keep: false, gpuGrid: 'quick' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) fail(`${arg.split('=')[0]} needs a positive whole number, not ${JSON.stringify(v)}`);
      return n;
    };
    if (arg === '--quick') options.quick = true;
    else if (arg === '--all-threads') options.allThreads = true;
    else if (arg === '--no-native') options.native = false;
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--gpu-grid' || arg.startsWith('--gpu-grid=')) {
      options.gpuGrid = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (!(options.gpuGrid in GPU_GRIDS)) fail(`--gpu-grid is quick, full or none, not ${JSON.stringify(options.gpuGrid)}`);
    }
    else if (arg === '--passages' || arg.startsWith('--passages=')) options.passages = value();
    else if (arg === '--queries' || arg.startsWith('--queries=')) options.queries = value();
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: node bench/browser.mjs [--quick] [--passages N] [--queries N] [--all-threads] [--no-native] [--keep] [--gpu-grid quick|full|none]');
      process.exit(0);
    } else fail(`unknown option ${arg}`);
  }
  if (options.quick && !argv.some((a) => a.startsWith('--passages'))) options.passages = 1000;
  return options;
}

function fail(message) {
  console.error(`bench web: error: ${message}`);
  process.exit(1);
}

function env(name) {
  const value = process.env[name];
  if (!value) fail(`${name} is not set (run through cargo xtask bench web)`);
  return value;
}

function log(message) {
  console.log(`bench web: ${message}`);
}

// ---------------------------------------------------------------- statistics

/** Nearest-rank percentile, the rule `xling bench native` uses. */
function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.round((sorted.length - 1) * p)];
}

function summary(values) {
  return {
    count: values.length,
    median_ms: percentile(values, 0.5),
    p95_ms: percentile(values, 0.95),
    mean_ms: values.length ? values.reduce((a, b) => a + b, 0) / values.length : null,
    min_ms: values.length ? Math.min(...values) : null,
    max_ms: values.length ? Math.max(...values) : null,
  };
}

function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : null;
}

// ---------------------------------------------------------------- inputs

/** A JSON file of the app: from the server, else from web/dist. */
async function appJson(appUrl, relative) {
  try {
    const response = await fetch(new URL(relative, appUrl));
    if (response.ok) return await response.json();
  } catch (_) {
    // The server may not serve it: read the built copy.
  }
  const file = path.join(DIST, relative);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`cannot read ${relative} from ${appUrl} or ${file}: ${error.message}`);
  }
}

/** `n` Tatoeba sentences: round-robin over the languages in sorted order,
 *  first lines first, empty lines skipped; English sides left out. */
function tatoebaSentences(dataDir, n) {
  const dir = path.join(dataDir, 'tatoeba');
  let names;
  try {
    names = fs.readdirSync(dir);
  } catch (error) {
    fail(`cannot list ${dir}: ${error.message}`);
  }
  const files = names
    .filter((name) => {
      const m = /^tatoeba\.([^.]+)-eng\.([^.]+)$/.exec(name);
      return m && m[2] !== 'eng' && m[2] === m[1];
    })
    .sort();
  if (files.length === 0) fail(`no tatoeba.<xxx>-eng.<xxx> files in ${dir}`);
  const lists = files.map((name) =>
    fs
      .readFileSync(path.join(dir, name), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length > 0),
  );
  const docs = [];
  const longest = Math.max(...lists.map((l) => l.length));
  for (let i = 0; i < longest && docs.length < n; i++) {
    for (const list of lists) {
      if (docs.length === n) break;
      if (i < list.length) docs.push({ id: `t${docs.length}`, text: list[i] });
    }
  }
  if (docs.length < n) log(`warning: only ${docs.length} Tatoeba sentences available (asked for ${n})`);
  return { docs, languages: files.length };
}

/** `n` questions, every k-th of the (language-sorted) list, so that every
 *  language appears. */
function pickQueries(questions, n) {
  const step = Math.max(1, Math.floor(questions.length / n));
  const picked = [];
  for (let i = 0; i < questions.length && picked.length < n; i += step) {
    picked.push({ lang: questions[i].lang, query: questions[i].question });
  }
  return picked;
}

async function makeInputs(dir, appUrl, dataDir, options) {
  const sample = await appJson(appUrl, 'demo/xquad-r-sample.json');
  if (!Array.isArray(sample) || sample.length === 0) fail('demo/xquad-r-sample.json is not a non-empty array');
  const xquad = sample.slice(0, XQUAD_PARAGRAPHS).map(({ id, title, text, lang }) => ({ id, title, text, lang }));
  const questions = await appJson(appUrl, 'demo/xquad-r-questions.json');
  if (!Array.isArray(questions) || questions.length === 0) fail('demo/xquad-r-questions.json is not a non-empty array');
  const queries = pickQueries(questions, options.queries);
  const shortQueries = queries.map(({ lang, query }) => ({ lang, query: shorten(query) }));
  const tatoeba = tatoebaSentences(dataDir, options.passages);

  const files = {
    xquad: path.join(dir, 'passages-xquad.json'),
    tatoeba: path.join(dir, 'passages-tatoeba.json'),
    queries: path.join(dir, 'queries.json'),
  };
  fs.writeFileSync(files.xquad, JSON.stringify(xquad));
  fs.writeFileSync(files.tatoeba, JSON.stringify(tatoeba.docs));
  fs.writeFileSync(files.queries, JSON.stringify(queries));
  const langs = new Set(queries.map((q) => q.lang));
  log(
    `inputs in ${dir}: ${xquad.length} XQuAD-R paragraphs, ${tatoeba.docs.length} Tatoeba sentences ` +
      `(${tatoeba.languages} languages), ${queries.length} queries (${langs.size} languages)`,
  );
  return { files, xquad, tatoeba: tatoeba.docs, queries, shortQueries };
}

/** A few-word query from a question: its first three words, or its first
 *  six characters in scripts written without spaces (Chinese, Thai). */
function shorten(question) {
  const words = question.trim().split(/\s+/);
  if (words.length >= 3) return words.slice(0, 3).join(' ');
  return [...question.trim()].slice(0, 6).join('');
}

// ---------------------------------------------------------------- native

function runNative(bin, modelDir, files, threads, out) {
  log(`native: xling bench native --threads ${threads} (indexing on ${threads} thread(s) takes a while)…`);
  const args = [
    'bench', 'native',
    '--model', modelDir,
    '--passages', files.xquad,
    '--passages', files.tatoeba,
    '--queries', files.queries,
    '--threads', String(threads),
    '--weights', 'q4_0',
    '--json', out,
  ];
  const result = spawnSync(bin, args, { stdio: 'inherit' });
  if (result.error) throw new Error(`cannot run ${bin}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (exit status ${result.status ?? result.signal})`);
  return JSON.parse(fs.readFileSync(out, 'utf8'));
}

// ---------------------------------------------------------------- browser

/** Launches the profile, loads the app and times it until the engine is
 *  ready (or the app shows its start-up error). */
async function visit(profile, appUrl, label) {
  const context = await launchPersistent(profile);
  const requests = recordRequests(context);
  const page = context.pages()[0] || (await context.newPage());
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  const started = performance.now();
  await page.goto(appUrl);
  await page.waitForFunction(
    () => document.body.dataset.ready === 'true' || !document.getElementById('model-error').hidden,
    null,
    { timeout: READY_TIMEOUT_MS, polling: 20 },
  );
  const ms = performance.now() - started;
  const ready = await page.evaluate(() => document.body.dataset.ready === 'true');
  if (!ready) {
    const text = await page.textContent('#model-error-text');
    await context.close();
    throw new Error(`${label}: the app could not start its engine: ${text}`);
  }
  const modelRequests = requests.filter((url) => new URL(url).pathname.includes('/model/')).length;
  log(`${label}: ready in ${ms.toFixed(0)} ms (${requests.length} requests, ${modelRequests} for model files)`);
  return { context, page, requests, pageErrors, ms, modelRequests };
}

/** Installs `window[name]` in the page: another engine worker (sharing
 *  the app's stored index) and a request helper timed inside the page. */
async function installBenchWorker(page, name = '__bench') {
  await page.evaluate((name) => {
    const worker = new Worker('./worker.js', { type: 'module' });
    const pending = new Map();
    const state = { nextId: 0, progress: null, errors: [], failure: null };
    worker.onmessage = (event) => {
      const data = event.data || {};
      const received = performance.now();
      if (data.id !== undefined && pending.has(data.id)) {
        const { resolve, reject, sent } = pending.get(data.id);
        pending.delete(data.id);
        if (data.ok) resolve({ result: data.result, ms: received - sent });
        else {
          const err = new Error(`${data.error && data.error.code}: ${data.error && data.error.message}`);
          err.code = data.error && data.error.code;
          reject(err);
        }
      } else if (data.event === 'index-progress') {
        state.progress = data;
      } else if (data.event === 'error') {
        state.errors.push(`${data.code}: ${data.message}`);
      }
    };
    worker.onerror = (event) => {
      state.failure = event.message || 'the benchmark worker failed';
      for (const { reject } of pending.values()) reject(new Error(state.failure));
      pending.clear();
    };
    const request = (type, args = {}) =>
      new Promise((resolve, reject) => {
        if (state.failure) {
          reject(new Error(state.failure));
          return;
        }
        const id = ++state.nextId;
        pending.set(id, { resolve, reject, sent: performance.now() });
        worker.postMessage({ id, type, ...args });
      });
    /** Each query once, one after the other; times post → reply and the worker's own. */
    const searchAll = async (queries, mode, k) => {
      const e2e = [];
      const took = [];
      let empty = 0;
      for (const query of queries) {
        const { result, ms } = await request('search', { query, mode, k, languages: 'any' });
        e2e.push(ms);
        took.push(result.tookMs);
        if (!result.hits || result.hits.length === 0) empty++;
      }
      return { e2e, took, empty };
    };
    window[name] = { request, searchAll, state, worker };
  }, name);
}

function benchRequest(page, type, args = {}, name = '__bench') {
  return page.evaluate(({ type, args, name }) => window[name].request(type, args), { type, args, name });
}

/** Top results of `queries` (ids and scores), to compare two indexes. */
function topHits(page, queries, name = '__bench') {
  return page.evaluate(async ({ queries, name }) => {
    const out = [];
    for (const query of queries) {
      const { result } = await window[name].request('search', { query, mode: 'hybrid', k: 5 });
      out.push(result.hits.map((h) => [h.id, h.score]));
    }
    return out;
  }, { queries, name });
}

/** The XQuAD paragraphs added by a worker with its default pool of
 *  embedding workers (pool.js): throughput, the helpers' memory, and the top
 *  results of `queries` (to check they equal the single worker's). */
async function measurePool(page, docs, queries) {
  await installBenchWorker(page, '__pool');
  const init = await benchRequest(page, 'init', {}, '__pool');
  await benchRequest(page, 'clear', {}, '__pool');
  log(`embedding pool: ${init.result.workers} worker(s) by default on ${await page.evaluate(() => navigator.hardwareConcurrency)} cores; adding ${docs.length} XQuAD paragraphs…`);
  const add = await benchRequest(page, 'add', { docs }, '__pool');
  const memory = (await benchRequest(page, 'memory', {}, '__pool')).result;
  const hits = await topHits(page, queries, '__pool');
  await benchRequest(page, 'clear', {}, '__pool');
  await page.evaluate(() => window.__pool.worker.terminate());
  const result = {
    workers: init.result.workers,
    passages: add.result.passages,
    seconds: add.ms / 1000,
    passages_per_second: add.result.passages / (add.ms / 1000),
    engine_wasm_bytes: memory.wasmBytes,
    helper_wasm_bytes: memory.helperWasmBytes || [],
  };
  log(`embedding pool: ${result.passages} passages in ${result.seconds.toFixed(1)} s (${result.passages_per_second.toFixed(1)} passages/s) with ${result.workers} worker(s); helpers' wasm memory ${result.helper_wasm_bytes.map((b) => `${(b / 1e6).toFixed(1)} MB`).join(', ') || 'none'}`);
  return { result, hits };
}

/** Runs `promise` while printing the worker's indexing progress. */
async function withProgress(page, label, promise) {
  let settled = false;
  const timer = setInterval(async () => {
    if (settled) return;
    try {
      const p = await page.evaluate(() => window.__bench.state.progress);
      if (p && !settled) {
        const rate = p.passagesPerSecond ? `${p.passagesPerSecond.toFixed(1)} passages/s` : '…';
        const eta = p.etaSeconds != null ? `, ~${Math.round(p.etaSeconds)} s left` : '';
        log(`${label}: ${p.done}/${p.total} passages, ${rate}${eta}`);
      }
    } catch (_) {
      // The page is busy or gone; the request itself reports failures.
    }
  }, PROGRESS_EVERY_MS);
  try {
    return await promise;
  } finally {
    settled = true;
    clearInterval(timer);
  }
}

/** The engine's linear memory and its breakdown (`usage`, null from a build
 *  without `memoryUsage`), or null where the worker has no `memory` request
 *  (an older build: said once). */
let memoryUnsupported = false;
async function wasmMemory(page) {
  if (memoryUnsupported) return null;
  try {
    const { result } = await benchRequest(page, 'memory');
    return { wasmBytes: result.wasmBytes, usage: result.usage || null };
  } catch (error) {
    memoryUnsupported = true;
    const reason = String(error.message).split('\n')[0].replace(/^page\.evaluate: (Error: )?/, '');
    log(`warning: the worker answered no memory request (${reason}); wasm memory not measured`);
    return null;
  }
}

async function wasmBytes(page) {
  const m = await wasmMemory(page);
  return m ? m.wasmBytes : null;
}

/** The encoder on WebGPU against the CPU path of the same engine, in the
 *  page: for each batch size × length, the median of a few timed calls of
 *  `embedBatch` (the GPU) and of `embed` text by text (the CPU, as the app's
 *  worker embeds: batching only adds padding there), and the lowest cosine
 *  between the two. Texts of exactly `length` tokens: "passage", ":" and the
 *  two special tokens, then "hello" (one piece) repeated. */
async function runGpuGrid(page, grid) {
  log(`WebGPU: loading an engine with device 'gpu' in the page (batches ${grid.batches}, lengths ${grid.lengths})…`);
  const result = await page.evaluate(async ({ grid, reps, cellMs }) => {
    const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
    const timed = async (f) => {
      const ms = [];
      const started = performance.now();
      let last;
      do {
        const t = performance.now();
        last = await f();
        ms.push(performance.now() - t);
      } while (ms.length < reps && performance.now() - started < cellMs);
      return { ms: median(ms), runs: ms.length, last };
    };
    const xling = await import('./xling-wasm.js');
    const wasm = await xling.default();
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) return { error: 'no WebGPU adapter in this browser' };
    const started = performance.now();
    let engine;
    try {
      engine = await xling.Engine.fromUrl('./model/', { device: 'gpu', cacheName: 'xling-model-v1' });
    } catch (error) {
      return { error: `${error.code}: ${error.message}` };
    }
    const out = {
      load_ms: performance.now() - started,
      backend: engine.backend,
      adapter_info: { vendor: adapter.info.vendor, architecture: adapter.info.architecture, fallback: adapter.info.isFallbackAdapter },
      wasm_bytes_after_load: wasm.memory.buffer.byteLength,
      cells: [],
    };
    for (const length of grid.lengths) {
      for (const batch of grid.batches) {
        const texts = Array.from({ length: batch }, () => Array(length - 4).fill('hello').join(' '));
        await engine.embedBatch(texts, 'passage'); // warm-up: buffers and pipelines
        const gpu = await timed(() => engine.embedBatch(texts, 'passage'));
        const cpu = await timed(async () => texts.map((t) => engine.embed(t, 'passage')));
        const cosines = texts.map((_, i) => cpu.last[i].reduce((sum, x, j) => sum + x * gpu.last[i][j], 0));
        out.cells.push({
          batch,
          tokens: length,
          gpu_ms: gpu.ms,
          cpu_ms: cpu.ms,
          gpu_texts_per_second: batch / (gpu.ms / 1000),
          cpu_texts_per_second: batch / (cpu.ms / 1000),
          gpu_runs: gpu.runs,
          cpu_runs: cpu.runs,
          min_cosine: Math.min(...cosines),
        });
      }
    }
    // A query as the app would embed it on the GPU (it uses the CPU).
    const query = 'How many points did the Panthers defense give up?';
    out.query_gpu_ms = (await timed(() => engine.embedBatch([query], 'query'))).ms;
    out.query_cpu_ms = (await timed(async () => engine.embed(query, 'query'))).ms;
    engine.free();
    return out;
  }, { grid, reps: GPU_CELL_REPS, cellMs: GPU_CELL_MS });
  if (result.error) {
    log(`WebGPU: not measured (${result.error})`);
    return result;
  }
  log(`WebGPU: ${result.backend.adapter ? result.backend.adapter.name : '?'} (${result.adapter_info.vendor} ${result.adapter_info.architecture}${result.adapter_info.fallback ? ', fallback adapter' : ''}), engine ready in ${result.load_ms.toFixed(0)} ms, self-test cosine ${result.backend.selfTestCosine}`);
  return result;
}

async function runBrowser(appUrl, profile, inputs, grid) {
  const origin = new URL(appUrl).origin;
  const out = { pageErrors: [] };

  // First visit: the model is downloaded into Cache Storage.
  log('first visit (downloading the model)…');
  const first = await visit(profile, appUrl, 'first visit');
  out.first_visit_ms = first.ms;
  out.first_visit_model_requests = first.modelRequests;
  const allRequests = [...first.requests];
  out.pageErrors.push(...first.pageErrors);
  // Let the service worker finish installing the shell before closing.
  await first.page
    .evaluate(() =>
      navigator.serviceWorker
        ? Promise.race([navigator.serviceWorker.ready, new Promise((resolve) => setTimeout(resolve, 10000))]).then(() => true)
        : false,
    )
    .catch(() => {});
  await first.context.close();

  // Cold starts: a fresh browser on the same profile, the model from the cache.
  const coldMs = [];
  const coldModelRequests = [];
  let session = null;
  for (let i = 1; i <= COLD_STARTS; i++) {
    if (session) await session.context.close();
    session = await visit(profile, appUrl, `cold start ${i}/${COLD_STARTS}`);
    coldMs.push(session.ms);
    coldModelRequests.push(session.modelRequests);
    allRequests.push(...session.requests);
  }
  out.cold_start_ms = coldMs;
  out.cold_start_median_ms = percentile(coldMs, 0.5);
  out.cold_start_model_requests = coldModelRequests;
  const { page, context } = session;

  const info = await page.evaluate(() => ({ userAgent: navigator.userAgent, cores: navigator.hardwareConcurrency }));
  out.user_agent = info.userAgent;
  // The user agent carries a reduced version (156.0.0.0); DevTools has the full one.
  try {
    const cdp = await context.newCDPSession(page);
    out.chromium = (await cdp.send('Browser.getVersion')).product;
    await cdp.detach();
  } catch (_) {
    out.chromium = (/(?:HeadlessChrome|Chrome|Chromium)\/[\d.]+/.exec(info.userAgent) || [])[0] || null;
  }
  out.browser_cores = info.cores;

  // Parallel indexing first (its worker is gone before the main one starts).
  const poolQueries = inputs.queries.slice(0, 5).map((q) => q.query);
  const pool = await measurePool(page, inputs.xquad, poolQueries);
  out.pool = pool.result;

  // The engine, driven directly through a second worker, embedding alone
  // (one worker) so that its figures compare with native on one thread.
  await installBenchWorker(page);
  const init = await benchRequest(page, 'init', { workers: 1 });
  out.bench_worker_init_ms = init.ms;
  out.storage = init.result.storage;
  out.backend = init.result.backend;
  log(`benchmark worker: engine ready in ${init.ms.toFixed(0)} ms (documents on ${out.backend.backend}: ${out.backend.reason}; index stored in ${out.storage})`);
  const afterLoad = await wasmMemory(page);
  out.wasm_bytes_after_load = afterLoad ? afterLoad.wasmBytes : null;
  out.memory_after_load = afterLoad ? afterLoad.usage : null;
  await benchRequest(page, 'clear');
  out.wasm_bytes_baseline = await wasmBytes(page);

  // XQuAD-R paragraphs, one request.
  log(`XQuAD paragraphs: adding ${inputs.xquad.length} documents in one request…`);
  const xq = await withProgress(
    page,
    'XQuAD paragraphs',
    page.evaluate((docs) => window.__bench.request('add', { docs }), inputs.xquad),
  );
  if (xq.result.cancelled) throw new Error('the XQuAD add was cancelled');
  out.xquad = {
    documents: xq.result.documents,
    passages: xq.result.passages,
    seconds: xq.ms / 1000,
    passages_per_second: xq.result.passages / (xq.ms / 1000),
  };
  log(`XQuAD paragraphs: ${out.xquad.passages} passages in ${out.xquad.seconds.toFixed(1)} s (${out.xquad.passages_per_second.toFixed(1)} passages/s)`);
  out.pool.speedup = out.pool.passages_per_second / out.xquad.passages_per_second;
  out.pool.same_results = JSON.stringify(await topHits(page, poolQueries)) === JSON.stringify(pool.hits);
  log(`embedding pool: ${out.pool.speedup.toFixed(2)}× one worker; same top results: ${out.pool.same_results}`);
  if (!out.pool.same_results) log('warning: the pool\'s index answers differently from the single worker\'s');
  out.wasm_bytes_after_xquad = await wasmBytes(page);
  await benchRequest(page, 'clear');

  // Tatoeba sentences, requests of CHUNK_DOCS documents.
  const n = inputs.tatoeba.length;
  log(`${n} sentences: adding in requests of ${CHUNK_DOCS}…`);
  const chunks = [];
  let passages = 0;
  let ms = 0;
  for (let i = 0; i < n; i += CHUNK_DOCS) {
    const docs = inputs.tatoeba.slice(i, i + CHUNK_DOCS);
    const r = await withProgress(
      page,
      `${n} sentences`,
      page.evaluate((docs) => window.__bench.request('add', { docs }), docs),
    );
    if (r.result.cancelled) throw new Error('a Tatoeba add was cancelled');
    chunks.push({ documents: r.result.documents, passages: r.result.passages, ms: r.ms });
    passages += r.result.passages;
    ms += r.ms;
    log(`${n} sentences: ${Math.min(i + CHUNK_DOCS, n)}/${n} documents, ${(passages / (ms / 1000)).toFixed(1)} passages/s so far (this request ${(r.ms / 1000).toFixed(1)} s)`);
  }
  out.tatoeba = {
    documents: chunks.reduce((a, c) => a + c.documents, 0),
    passages,
    seconds: ms / 1000,
    passages_per_second: passages / (ms / 1000),
    requests: chunks,
  };
  const afterTatoeba = await wasmMemory(page);
  out.wasm_bytes_after_tatoeba = afterTatoeba ? afterTatoeba.wasmBytes : null;
  out.memory_after_tatoeba = afterTatoeba ? afterTatoeba.usage : null;
  // Background graph building (none below the exact-search threshold).
  const waitStart = Date.now();
  let stats = (await benchRequest(page, 'stats')).result;
  while (stats.maintenancePending && Date.now() - waitStart < MAINTENANCE_TIMEOUT_MS) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    stats = (await benchRequest(page, 'stats')).result;
  }
  out.maintenance_wait_ms = Date.now() - waitStart;
  if (stats.maintenancePending) log('warning: graph building still pending; queries run partly on exact search');
  out.stats_after_tatoeba = stats;
  out.wasm_bytes_after_maintenance = await wasmBytes(page);
  const mb = out.wasm_bytes_after_tatoeba != null ? `, wasm memory ${(out.wasm_bytes_after_tatoeba / 1e6).toFixed(1)} MB` : '';
  log(`${n} sentences: ${passages} passages in ${out.tatoeba.seconds.toFixed(1)} s (${out.tatoeba.passages_per_second.toFixed(1)} passages/s)${mb}`);

  // Queries: a warm-up pass, then a measured pass, per mode.
  const texts = inputs.queries.map((q) => q.query);
  out.queries = {};
  for (const mode of MODES) {
    await page.evaluate(({ texts, mode, k }) => window.__bench.searchAll(texts, mode, k), { texts, mode, k: K });
    const r = await page.evaluate(({ texts, mode, k }) => window.__bench.searchAll(texts, mode, k), { texts, mode, k: K });
    out.queries[mode] = { end_to_end: summary(r.e2e), worker: summary(r.took), empty_results: r.empty, end_to_end_ms: r.e2e };
    if (r.empty > 0) log(`warning: ${r.empty} ${mode} queries found nothing`);
    log(`${mode} queries: median ${out.queries[mode].end_to_end.median_ms.toFixed(1)} ms, p95 ${out.queries[mode].end_to_end.p95_ms.toFixed(1)} ms end to end`);
  }
  // Short queries (a few words, what people type in a search box): the
  // target's subject. Browser only; the questions above carry the ratio.
  const shortTexts = inputs.shortQueries.map((q) => q.query);
  out.short_queries = { examples: shortTexts.slice(0, 5) };
  for (const mode of MODES) {
    await page.evaluate(({ texts, mode, k }) => window.__bench.searchAll(texts, mode, k), { texts: shortTexts, mode, k: K });
    const r = await page.evaluate(({ texts, mode, k }) => window.__bench.searchAll(texts, mode, k), { texts: shortTexts, mode, k: K });
    out.short_queries[mode] = { end_to_end: summary(r.e2e), worker: summary(r.took) };
    log(`${mode} short queries: median ${out.short_queries[mode].end_to_end.median_ms.toFixed(1)} ms, p95 ${out.short_queries[mode].end_to_end.p95_ms.toFixed(1)} ms end to end`);
  }

  const workerErrors = await page.evaluate(() => window.__bench.state.errors);
  if (workerErrors.length) log(`warning: the worker reported: ${workerErrors.join('; ')}`);
  out.worker_errors = workerErrors;
  // Leave the profile's stored index empty again.
  await benchRequest(page, 'clear').catch(() => {});
  if (grid) {
    // The benchmark worker's engine is done: free its memory for the GPU engine.
    await page.evaluate(() => window.__bench.worker.terminate());
    out.gpu = await runGpuGrid(page, grid);
  }
  out.pageErrors.push(...session.pageErrors);
  await context.close();

  out.requests = allRequests.length;
  out.foreign_requests = foreignRequests(allRequests, origin);
  if (out.foreign_requests.length > 0) {
    log(`WARNING: ${out.foreign_requests.length} requests left ${origin}: ${[...new Set(out.foreign_requests)].slice(0, 5).join(', ')}`);
  }
  if (out.pageErrors.length) log(`warning: page errors: ${out.pageErrors.slice(0, 5).join('; ')}`);
  return out;
}

// ---------------------------------------------------------------- report

function fmt(value, digits = 1) {
  return value == null || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

function fmtRatio(value) {
  return value == null ? '–' : `${value.toFixed(2)}×`;
}

function pair(a, b, digits = 1) {
  return `${fmt(a, digits)} / ${fmt(b, digits)}`;
}

function printTable(browser, native, nSentences) {
  const nq = native && native.queries;
  const nset = (i) => native && native.sets[i];
  const setLabel = nSentences % 1000 === 0 ? `${nSentences / 1000}k sentences` : `${nSentences} sentences`;
  const threads = native ? native.threads : 1;
  const rows = [
    ['', 'browser (WASM)', `native xling (${threads} thread${threads === 1 ? '' : 's'})`, 'ratio'],
    [
      'XQuAD paragraphs, passages/s',
      fmt(browser.xquad.passages_per_second),
      fmt(nset(0) && nset(0).passages_per_second),
      fmtRatio(ratio(browser.xquad.passages_per_second, nset(0) && nset(0).passages_per_second)),
    ],
    [
      `  the same, ${browser.pool.workers} workers (pool)`,
      `${fmt(browser.pool.passages_per_second)} (${fmtRatio(browser.pool.speedup)} one worker)`,
      '',
      fmtRatio(ratio(browser.pool.passages_per_second, nset(0) && nset(0).passages_per_second)),
    ],
    [
      `${setLabel}, passages/s`,
      fmt(browser.tatoeba.passages_per_second),
      fmt(nset(1) && nset(1).passages_per_second),
      fmtRatio(ratio(browser.tatoeba.passages_per_second, nset(1) && nset(1).passages_per_second)),
    ],
  ];
  for (const mode of MODES) {
    const b = browser.queries[mode].end_to_end;
    const n = nq && nq[mode];
    rows.push([
      `query ${mode} median / p95 ms`,
      pair(b.median_ms, b.p95_ms),
      n ? pair(n.median_ms, n.p95_ms) : '–',
      n ? `${fmtRatio(ratio(b.median_ms, n.median_ms))} / ${fmtRatio(ratio(b.p95_ms, n.p95_ms))}` : '–',
    ]);
    const w = browser.queries[mode].worker;
    rows.push([`  in the worker (tookMs)`, pair(w.median_ms, w.p95_ms), '', '']);
  }
  for (const mode of MODES) {
    const b = browser.short_queries[mode].end_to_end;
    rows.push([`short query (3 words) ${mode} median / p95 ms`, pair(b.median_ms, b.p95_ms), '', '']);
  }
  rows.push([
    'model cold start (cache) ms',
    fmt(browser.cold_start_median_ms, 0),
    native ? `(model load) ${fmt(native.model_load_ms, 0)}` : '–',
    native ? fmtRatio(ratio(browser.cold_start_median_ms, native.model_load_ms)) : '–',
  ]);
  rows.push(['first visit (download) ms', fmt(browser.first_visit_ms, 0), '', '']);
  const wasmMb = browser.wasm_bytes_after_tatoeba != null ? browser.wasm_bytes_after_tatoeba / 1e6 : null;
  rows.push([
    `wasm memory after ${setLabel}`,
    // Linear memory only grows: the model load's high-water mark shows as well.
    wasmMb != null ? `${fmt(wasmMb)} MB (${fmt(browser.wasm_bytes_baseline / 1e6)} at init)` : '–',
    native && native.peak_rss_mb != null ? `peak RSS ${fmt(native.peak_rss_mb)} MB` : '–',
    '',
  ]);
  const helpers = browser.pool.helper_wasm_bytes;
  rows.push([
    'wasm memory per embedding helper',
    helpers.length ? helpers.map((bytes) => `${fmt(bytes / 1e6)} MB`).join(', ') : '– (no helper)',
    '',
    '',
  ]);
  if (native && native.snapshot_bytes) {
    const saved = browser.stats_after_tatoeba && browser.stats_after_tatoeba.savedBytes;
    rows.push([`index snapshot, ${setLabel}`, saved ? `${fmt(saved / 1e6)} MB` : '–', `${fmt(native.snapshot_bytes / 1e6)} MB`, '']);
  }
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => String(r[c]).length)));
  console.log('');
  for (const r of rows) {
    console.log(`${r[0].padEnd(widths[0])}   ${r[1].padEnd(widths[1])}   ${r[2].padEnd(widths[2])}   ${r[3]}`);
  }
  console.log(
    'ratio = browser ÷ native: throughput, higher is better; latency and start-up, lower is better.\n' +
      `Targets: WASM encode throughput ≥ ${ENCODE_RATIO_TARGET}× native (1 thread); a short query ≤ ${SHORT_QUERY_MS_TARGET} ms end to end.\n` +
      'Browser adds include saving the index to storage after each request (as in the app).',
  );
}

/** The light-engine figures against their targets: each "met" or "missed"
 *  (never fatal); "–" where not measured. */
function memoryTargets(browser, nSentences) {
  const mb = (bytes) => (bytes == null ? null : bytes / 1e6);
  const row = (figure, value, target, unit, note = '') => ({
    figure,
    value,
    target,
    unit,
    met: value == null ? null : value <= target,
    note,
  });
  return [
    row('wasm memory after Engine load', mb(browser.wasm_bytes_after_load), WASM_AFTER_LOAD_MB_TARGET, 'MB'),
    row(
      `wasm memory after ${nSentences} sentences`,
      mb(browser.wasm_bytes_after_tatoeba),
      WASM_AFTER_10K_MB_TARGET,
      'MB',
      nSentences === 10000 ? '' : '(the target is for 10,000)',
    ),
    row('model ready from Cache Storage (median cold start)', browser.cold_start_median_ms, READY_FROM_CACHE_MS_TARGET, 'ms'),
  ];
}

function printTargets(rows) {
  console.log('\nLight-engine targets (issue 16)');
  const width = Math.max(...rows.map((r) => r.figure.length));
  for (const r of rows) {
    const verdict = r.met == null ? 'not measured' : r.met ? 'met' : 'missed';
    const value = r.value == null ? '–' : `${fmt(r.value, r.unit === 'ms' ? 0 : 1)} ${r.unit}`;
    console.log(`${r.figure.padEnd(width)}   ${value.padStart(10)}   ≤ ${r.target} ${r.unit}   ${verdict} ${r.note}`.trimEnd());
  }
}

/** The engine's own account of its memory (`engine.memoryUsage()`), after
 *  load and after the sentences, next to the linear memory. */
function printMemoryBreakdown(browser, nSentences) {
  const points = [
    ['after load', browser.memory_after_load],
    [`after ${nSentences} sentences`, browser.memory_after_tatoeba],
  ].filter(([, u]) => u);
  if (points.length === 0) {
    console.log('\nwasm memory breakdown: not measured (this build has no engine.memoryUsage())');
    return;
  }
  const parts = [
    ['token embeddings', (u) => u.tokenEmbeddings],
    ['positions', (u) => u.positions],
    ['layers', (u) => u.layers],
    ['model file, rest', (u) => u.modelFileRest ?? 0],
    ['tokenizer', (u) => u.tokenizer],
    ['language prior', (u) => u.prior],
    ['index: dense vectors', (u) => u.index.denseVectors],
    ['index: graphs', (u) => u.index.graphs],
    ['index: exact buffer', (u) => u.index.exactBuffer],
    ['index: lexical postings', (u) => u.index.lexical],
    ['index: texts, metadata', (u) => u.index.texts],
    ['index: passage records', (u) => u.index.passages],
    ['index: language stats', (u) => u.index.languages],
    ['index: its prior copy', (u) => u.index.prior],
    ['counted', (u) => u.counted],
    ['wasm linear memory', (u) => u.wasmBytes],
    ['allocator slack / unaccounted', (u) => u.unaccounted],
  ];
  const rows = [['wasm memory, MB', ...points.map(([label]) => label)]];
  for (const [name, get] of parts) rows.push([name, ...points.map(([, u]) => fmt(get(u) / 1e6))]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  console.log('');
  for (const r of rows) console.log(r.map((v, c) => (c === 0 ? String(v).padEnd(widths[c]) : String(v).padStart(widths[c]))).join('   '));
  console.log('unaccounted = linear memory − counted: allocator slack and transient peaks (the model load\'s), which WASM never returns.');
}

function printGpuTable(gpu) {
  if (gpu.error) {
    console.log(`\nWebGPU: not measured (${gpu.error})`);
    return;
  }
  const adapter = gpu.backend.adapter;
  console.log(`\nWebGPU (${adapter ? `${adapter.name}, ${adapter.software ? 'software' : 'hardware'}` : 'unknown adapter'}) vs the WASM CPU path, same page, same engine`);
  const rows = [['batch × tokens', 'GPU ms', 'CPU ms', 'GPU texts/s', 'CPU texts/s', 'GPU ÷ CPU speed', 'min cosine']];
  for (const c of gpu.cells) {
    rows.push([
      `${c.batch} × ${c.tokens}`,
      fmt(c.gpu_ms),
      fmt(c.cpu_ms),
      fmt(c.gpu_texts_per_second),
      fmt(c.cpu_texts_per_second),
      fmtRatio(ratio(c.cpu_ms, c.gpu_ms)),
      c.min_cosine.toFixed(6),
    ]);
  }
  rows.push(['query (1 × ~15)', fmt(gpu.query_gpu_ms), fmt(gpu.query_cpu_ms), '', '', fmtRatio(ratio(gpu.query_cpu_ms, gpu.query_gpu_ms)), '']);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  for (const r of rows) console.log(r.map((v, c) => String(v).padEnd(widths[c])).join('   '));
  console.log(
    `engine with device 'gpu' ready in ${fmt(gpu.load_ms, 0)} ms (self-test included); ` +
      `wasm memory of that page's engine ${fmt(gpu.wasm_bytes_after_load / 1e6)} MB.\n` +
      (adapter && adapter.software ? 'A software adapter: these figures check correctness, not GPU speed.' : ''),
  );
}

function machineInfo(browser) {
  const cpus = os.cpus();
  return {
    cpu: cpus.length ? cpus[0].model : null,
    cores: cpus.length,
    memory_gb: os.totalmem() / 1e9,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    chromium: browser.chromium,
    user_agent: browser.user_agent,
  };
}

function buildReport(options, appUrl, browser, native, nativeAll, nSentences) {
  const nset = (i) => (native ? native.sets[i] : null);
  const encode = {
    xquad: ratio(browser.xquad.passages_per_second, nset(0) && nset(0).passages_per_second),
    tatoeba: ratio(browser.tatoeba.passages_per_second, nset(1) && nset(1).passages_per_second),
  };
  const queryRatio = (stat) =>
    Object.fromEntries(MODES.map((m) => [m, ratio(browser.queries[m].end_to_end[stat], native && native.queries[m][stat])]));
  const met = (r) => (r == null ? null : r >= ENCODE_RATIO_TARGET);
  const { pageErrors, ...browserFigures } = browser;
  return {
    benchmark: 'web',
    date: new Date().toISOString(),
    app_url: appUrl,
    options: { passages: options.passages, queries: options.queries, quick: options.quick, chunk_documents: CHUNK_DOCS, xquad_paragraphs: XQUAD_PARAGRAPHS, cold_starts: COLD_STARTS, k: K, gpu_grid: GPU_GRIDS[options.gpuGrid] },
    machine: machineInfo(browser),
    browser: { ...browserFigures, page_errors: pageErrors },
    native,
    native_all_threads: nativeAll,
    ratios: {
      wasm_vs_native_encode: encode,
      query_median_wasm_over_native: queryRatio('median_ms'),
      query_p95_wasm_over_native: queryRatio('p95_ms'),
      cold_start_over_native_model_load: ratio(browser.cold_start_median_ms, native && native.model_load_ms),
    },
    targets: {
      encode_ratio_target: ENCODE_RATIO_TARGET,
      encode_ratio_met: { xquad: met(encode.xquad), tatoeba: met(encode.tatoeba) },
      short_query_ms_target: SHORT_QUERY_MS_TARGET,
      // Median end-to-end latency of three-word queries, per mode; the
      // whole XQuAD-R questions (8–20 words) are reported as question_met.
      short_query_met: Object.fromEntries(MODES.map((m) => [m, browser.short_queries[m].end_to_end.median_ms <= SHORT_QUERY_MS_TARGET])),
      question_met: Object.fromEntries(MODES.map((m) => [m, browser.queries[m].end_to_end.median_ms <= SHORT_QUERY_MS_TARGET])),
      wasm_after_load_mb_target: WASM_AFTER_LOAD_MB_TARGET,
      wasm_after_10k_mb_target: WASM_AFTER_10K_MB_TARGET,
      ready_from_cache_ms_target: READY_FROM_CACHE_MS_TARGET,
      // value, target, unit, met (null: not measured) of each light-engine figure.
      light_engine: memoryTargets(browser, nSentences),
    },
  };
}

// ---------------------------------------------------------------- main

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const appUrl = env('XLING_APP_URL');
  const bin = options.native ? env('XLING_BIN') : null;
  const modelDir = options.native ? env('XLING_MODEL_DIR') : null;
  const dataDir = env('XLING_DATA_DIR');
  const jsonOut = env('XLING_BENCH_JSON');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xling-bench-web-'));
  try {
    const inputs = await makeInputs(dir, appUrl, dataDir, options);
    let native = null;
    let nativeAll = null;
    if (options.native) {
      native = runNative(bin, modelDir, inputs.files, 1, path.join(dir, 'native-1.json'));
      if (options.allThreads) {
        const all = Math.max(2, os.cpus().length);
        nativeAll = runNative(bin, modelDir, inputs.files, all, path.join(dir, `native-${all}.json`));
      }
    }
    const browser = await runBrowser(appUrl, path.join(dir, 'profile'), inputs, GPU_GRIDS[options.gpuGrid]);
    if (native) {
      const [nx, nt] = native.sets;
      if (nx.passages !== browser.xquad.passages || nt.passages !== browser.tatoeba.passages) {
        log(`warning: passage counts differ: browser ${browser.xquad.passages}/${browser.tatoeba.passages}, native ${nx.passages}/${nt.passages}`);
      }
    }
    printTable(browser, native, inputs.tatoeba.length);
    printMemoryBreakdown(browser, inputs.tatoeba.length);
    printTargets(memoryTargets(browser, inputs.tatoeba.length));
    if (browser.gpu) printGpuTable(browser.gpu);
    if (nativeAll) {
      console.log(
        `native xling with ${nativeAll.threads} threads: ` +
          nativeAll.sets.map((s) => `${fmt(s.passages_per_second)} passages/s`).join(', ') +
          `; semantic query median ${fmt(nativeAll.queries.semantic.median_ms)} ms, hybrid ${fmt(nativeAll.queries.hybrid.median_ms)} ms`,
      );
    }
    const report = buildReport(options, appUrl, browser, native, nativeAll, inputs.tatoeba.length);
    fs.mkdirSync(path.dirname(path.resolve(jsonOut)), { recursive: true });
    fs.writeFileSync(jsonOut, JSON.stringify(report, null, 2));
    log(`wrote ${jsonOut}`);
  } finally {
    if (options.keep) log(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`bench web: error: ${error && error.stack ? error.stack : error}`);
  process.exit(1);
});
