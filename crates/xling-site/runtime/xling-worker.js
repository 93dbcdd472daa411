// xling site search worker: loads the engine, the site's pruned model and
// its index (from Cache Storage after the first visit) and answers hybrid
// and semantic queries, so the page's thread never blocks on the model.

import { inflate } from './xling.js';

let engine = null;

async function bytesOf(url, cacheName, onBytes) {
  let cache = null;
  try { cache = typeof caches === 'undefined' ? null : await caches.open(cacheName); } catch { cache = null; }
  let response = cache ? await cache.match(url).catch(() => undefined) : undefined;
  const fromCache = Boolean(response);
  if (!response) {
    response = await fetch(url);
    if (!response.ok) throw Object.assign(new Error(`${url.split('/').pop()}: HTTP ${response.status}`), { code: 'damaged' });
  }
  const reader = response.clone().body?.getReader();
  const chunks = [];
  let size = 0;
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
      onBytes(value.length);
    }
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  if (!fromCache && cache) await cache.put(url, new Response(out)).catch(() => {});
  return out;
}

async function load({ files, cache }) {
  let loaded = 0;
  const progress = (n) => { loaded += n; postMessage({ type: 'progress', loaded }); };
  const wasm = import(files.engineJs);
  // The engine, tokenizer and index are stored gzipped (kept so in Cache
  // Storage too); `inflate` passes plain bytes through.
  const [model, tokenizer, prior, index, wasmBytes] = await Promise.all([
    bytesOf(files.model, cache, progress),
    bytesOf(files.tokenizer, cache, progress).then((b) => inflate(b, 'the tokenizer')),
    files.prior ? bytesOf(files.prior, cache, () => {}) : null,
    bytesOf(files.index, cache, progress).then((b) => inflate(b, 'the semantic index')),
    bytesOf(files.engineWasm, cache, () => {}).then((b) => inflate(b, 'the engine')),
  ]);
  const m = await wasm;
  await m.default({ module_or_path: wasmBytes });
  engine = await m.Engine.load(model, tokenizer, prior, { device: 'cpu' });
  try {
    engine.restore(index);
  } catch (e) {
    throw Object.assign(new Error(`the semantic index is damaged: ${e.message}`), { code: 'damaged' });
  }
}

onmessage = async ({ data }) => {
  if (data.type === 'load') {
    try {
      await load(data);
      postMessage({ type: 'ready' });
    } catch (e) {
      postMessage({ type: 'error', id: 0, code: e.code === 'damaged' || e.code === 'invalid_index' || e.code === 'invalid_model' ? 'damaged' : 'unavailable', message: e.message });
    }
  } else if (data.type === 'search') {
    try {
      const result = engine.search(data.query, { mode: data.mode, k: data.k, languages: data.languages ?? 'any' });
      const hits = result.hits.map((h) => ({
        id: h.id,
        score: h.score,
        sentence: h.highlight ? h.passage.slice(h.highlight[0], h.highlight[1]) : null,
      }));
      postMessage({ type: 'result', id: data.id, hits });
    } catch (e) {
      postMessage({ type: 'error', id: data.id, code: 'invalid_input', message: e.message });
    }
  }
};
