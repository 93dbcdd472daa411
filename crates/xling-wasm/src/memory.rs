//! `Engine.memoryUsage()`: where the engine's WASM memory goes. The parts
//! come from the data structures themselves (`xling_index::memory`); the
//! linear memory is what the page pays for. Their difference is allocator
//! slack and the high-water mark of the model load: WASM memory never
//! shrinks, so every transient peak stays allocated for the tab's life.

use serde::Serialize;
use wasm_bindgen::prelude::*;
use xling_index::memory::{IndexMemory, MemoryUsage};

use crate::{convert, Engine};

#[wasm_bindgen(typescript_custom_section)]
const TS_MEMORY: &str = r#"
/** Bytes of the index, by part. */
export interface XlingIndexMemory {
  denseVectors: number; graphs: number; exactBuffer: number; lexical: number;
  texts: number; passages: number; languages: number; prior: number; total: number;
}
/** Where the engine's memory goes, in bytes (`engine.memoryUsage()`). */
export interface XlingMemoryUsage {
  /** The module's whole linear memory (it only grows). */
  wasmBytes: number;
  /** Q4_0 token-embedding table, position rows, the 12 layers. */
  tokenEmbeddings: number; positions: number; layers: number;
  /** The rest of the model file, kept because the Q4_0 matrices are read
   *  from it in place: header, metadata, f32 vectors copied out. */
  modelFileRest: number;
  /** The tokenizer (exact for tokenizer.xlt; an estimate for tokenizer.json). */
  tokenizer: number;
  /** The engine's copy of the language prior (the index holds another). */
  prior: number;
  index: XlingIndexMemory;
  /** Every part above together. */
  counted: number;
  /** wasmBytes − counted: allocator slack, freed peaks, code-side data. */
  unaccounted: number;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `XlingMemoryUsage` in TypeScript.
    #[wasm_bindgen(typescript_type = "XlingMemoryUsage")]
    pub type MemoryUsageJs;
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IndexOutput {
    dense_vectors: usize,
    graphs: usize,
    exact_buffer: usize,
    lexical: usize,
    texts: usize,
    passages: usize,
    languages: usize,
    prior: usize,
    total: usize,
}

impl From<IndexMemory> for IndexOutput {
    fn from(m: IndexMemory) -> Self {
        Self {
            dense_vectors: m.dense_vectors,
            graphs: m.graphs,
            exact_buffer: m.exact_buffer,
            lexical: m.lexical,
            texts: m.texts,
            passages: m.passages,
            languages: m.languages,
            prior: m.prior,
            total: m.total(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MemoryOutput {
    wasm_bytes: usize,
    token_embeddings: usize,
    positions: usize,
    layers: usize,
    model_file_rest: usize,
    tokenizer: usize,
    prior: usize,
    index: IndexOutput,
    counted: usize,
    unaccounted: i64,
}

impl MemoryOutput {
    fn new(usage: MemoryUsage, wasm_bytes: usize) -> Self {
        let counted = usage.total();
        Self {
            wasm_bytes,
            token_embeddings: usage.token_embeddings,
            positions: usage.positions,
            layers: usage.layers,
            model_file_rest: usage.model_file_rest,
            tokenizer: usage.tokenizer,
            prior: usage.prior,
            index: usage.index.into(),
            counted,
            unaccounted: wasm_bytes as i64 - counted as i64,
        }
    }
}

/// Bytes of this module's linear memory (0 off wasm32, for native tests).
fn linear_memory_bytes() -> usize {
    #[cfg(target_arch = "wasm32")]
    {
        let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
        let buffer: js_sys::ArrayBuffer = memory.buffer().unchecked_into();
        buffer.byte_length() as usize
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

#[wasm_bindgen]
impl Engine {
    /// Where the engine's memory goes: model weights (token embeddings vs
    /// layers), tokenizer, language prior and each part of the index, next
    /// to the module's whole linear memory, in bytes.
    #[wasm_bindgen(js_name = memoryUsage)]
    pub fn memory_usage(&self) -> Result<MemoryUsageJs, JsValue> {
        let index = self.index()?;
        let usage = MemoryUsage::of(&self.embedder, &index, self.prior.as_ref());
        let output = MemoryOutput::new(usage, linear_memory_bytes());
        Ok(convert::to_js(&output)?.unchecked_into())
    }
}
