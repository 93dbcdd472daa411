// xling's embedding helper: one more CPU engine, in its own thread, that
// embeds passages of a long add for the engine worker (pool.js). It holds no
// index of its own and answers only the engine worker.
//
// Messages (engine worker → helper, each answered once with its id):
//   { id, type: 'init', modelUrl, cacheName }   → { wasmBytes }
//   { id, type: 'embed', texts: string[] }      → { vectors: Float32Array (texts × dimension), wasmBytes }
// Failures answer { id, ok: false, error: { code, message } }.

import init, { Engine } from './xling-wasm.js';
import { embedPassages } from './pool.js';

let engine = null;
let wasm = null;

self.onmessage = async (event) => {
  const { id, type, ...args } = event.data || {};
  try {
    if (type === 'init') {
      if (!engine) {
        wasm = await init();
        // The model comes from the Cache Storage the engine worker filled.
        engine = await Engine.fromUrl(args.modelUrl, { cacheName: args.cacheName, device: 'cpu' });
      }
      self.postMessage({ id, ok: true, result: { wasmBytes: wasm.memory.buffer.byteLength } });
    } else if (type === 'embed') {
      if (!engine) throw Object.assign(new Error('the helper has no engine yet'), { code: 'busy' });
      const vectors = embedPassages(engine, Array.isArray(args.texts) ? args.texts : []);
      self.postMessage(
        { id, ok: true, result: { vectors, wasmBytes: wasm.memory.buffer.byteLength } },
        [vectors.buffer],
      );
    } else {
      throw Object.assign(new Error(`unknown request ${JSON.stringify(type)}`), { code: 'invalid_input' });
    }
  } catch (error) {
    const code = error instanceof WebAssembly.RuntimeError ? 'internal' : String((error && error.code) || 'internal');
    if (error instanceof WebAssembly.RuntimeError) engine = null;
    self.postMessage({ id, ok: false, error: { code, message: String((error && error.message) || error) } });
  }
};
