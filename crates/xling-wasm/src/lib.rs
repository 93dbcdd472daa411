//! # xling-wasm
//!
//! The xling engine for JavaScript (wasm-bindgen): load the model, add and
//! delete documents, search across languages, save and restore the index.
//! Every method either returns or throws an `XlingError` with a stable `code`;
//! input is checked so that nothing panics (a panic would abort the module).
//!
//! Built for `wasm32-unknown-unknown` with SIMD128; `pkg/README.md` shows use.

#![deny(missing_docs)]

mod backend;
mod convert;
mod error;
mod fetch;
mod job;
mod memory;

use std::cell::{Ref, RefCell, RefMut};
use std::rc::Rc;

use js_sys::{Function, Promise, Uint8Array};
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use xling_index::lang::detect_language;
use xling_index::{Index, IndexConfig, LanguagePrior, Query, SearchMode};
use xling_model::{Embedder, ModelFiles, Prefix, WeightFormat};

use backend::DeviceOptions;
use convert::{BackendOutput, DocumentOutput, SearchOptionsInput, SearchOutput, StatsOutput};
use error::Result;
pub use error::WasmError;
pub use job::AddJob;
use xling_gpu::{BackendReport, DocumentEncoder};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** A document to index. `id` is yours and unique; `lang` (BCP 47, e.g. "pt-BR") is detected when absent. */
export interface XlingDocument { id: string; text: string; title?: string | null; url?: string | null; lang?: string | null; }
/** How to search. Every field is optional. */
export interface XlingSearchOptions {
  /** "hybrid" (default), "semantic" (= "dense") or "keyword" (= "lexical"). */
  mode?: "hybrid" | "semantic" | "keyword" | "dense" | "lexical";
  /** Results wanted, 1–1000 (default 10). */
  k?: number;
  /** "any" (default: ranked by meaning whatever the language), "same" (the query's language first) or a list of codes. */
  languages?: "any" | "same" | string[];
  /** The query's language when known; detected otherwise. */
  queryLanguage?: string;
  /** Brute force instead of the HNSW graphs (default false). */
  exact?: boolean;
  /** Find each hit's best sentence (default true). */
  highlight?: boolean;
  /** false ranks by plain cosine, which favours the query's language (default true). */
  languageAgnostic?: boolean;
}
export interface XlingHit {
  id: string; title: string | null; url: string | null;
  /** The passage's language code ("und" when undetermined). */
  lang: string;
  score: number; dense: number | null; lexical: number | null;
  /** The document's best passage. */
  passage: string;
  /** The best sentence as [start, end) UTF-16 offsets into `passage` (for `slice`), or null. */
  highlight: [number, number] | null;
}
export interface XlingSearchResult { hits: XlingHit[]; queryLanguage: string; }
export interface XlingStats {
  documents: number; passages: number; passageSlots: number;
  graphSegments: number[]; exactBuffer: number;
  /** Live passages per language code, most first. */
  languages: [string, number][];
  priorLanguages: number;
  /** Graph building waits for maintainStep(). */
  maintenancePending: boolean;
}
export interface XlingAddReport { documents: number; passages: number; }
export interface XlingDocumentInfo { id: string; title: string | null; url: string | null; lang: string | null; }
export interface XlingLoadProgress { loaded: number; total: number; file: string; fromCache: boolean; }
export interface XlingLoadOptions {
  /** Called as bytes arrive (total 0 when unknown). */
  onProgress?: (progress: XlingLoadProgress) => void;
  /** Cache Storage cache to keep the files in and take them from (none by default). */
  cacheName?: string;
  /** "q4_0" (default: 4-bit weights, smallest) or "f32" (expanded once, more memory). */
  weights?: "q4_0" | "f32";
  /** Where documents are embedded: "auto" (default: a hardware WebGPU adapter that passes the self-test, else the CPU), "cpu", or "gpu" (any WebGPU adapter, software ones included; an error if none passes). */
  device?: "auto" | "cpu" | "gpu";
}
export interface XlingEngineOptions { weights?: "q4_0" | "f32"; }
export interface XlingDeviceOptions { weights?: "q4_0" | "f32"; device?: "auto" | "cpu" | "gpu"; }
/** The GPU adapter behind WebGPU, as the browser describes it. */
export interface XlingAdapter { name: string; api: string; software: boolean; }
/** Which backend embeds documents, and why (queries always run on the CPU). */
export interface XlingBackend {
  backend: "gpu" | "cpu";
  adapter: XlingAdapter | null;
  /** Lowest cosine between the GPU's and the CPU's vectors in the start-up self-test (≥ 0.999 to be used). */
  selfTestCosine: number | null;
  /** E.g. "a GPU passed the self-test", or why the GPU is not used. */
  reason: string;
}
/** What every method throws. */
export interface XlingError extends Error {
  name: "XlingError";
  code: "invalid_input" | "invalid_document" | "invalid_index" | "invalid_model" | "model_mismatch" | "network" | "invalid_job" | "gpu_unavailable" | "internal";
}
"#;

/// JS types of arguments and results, so the generated `.d.ts` names the
/// interfaces above instead of `any`.
#[wasm_bindgen]
extern "C" {
    /// `XlingDocument[]` in TypeScript.
    #[wasm_bindgen(typescript_type = "XlingDocument[]")]
    pub type DocumentsArg;
    /// `string[]` in TypeScript.
    #[wasm_bindgen(typescript_type = "string[]")]
    pub type IdsArg;
    /// `string[]` in TypeScript.
    #[wasm_bindgen(typescript_type = "string[]")]
    pub type TextsArg;
    /// `XlingSearchOptions | undefined` in TypeScript.
    #[wasm_bindgen(typescript_type = "XlingSearchOptions | undefined")]
    pub type SearchOptionsArg;
    /// `XlingLoadOptions | undefined` in TypeScript.
    #[wasm_bindgen(typescript_type = "XlingLoadOptions | undefined")]
    pub type LoadOptionsArg;
    /// `XlingEngineOptions | undefined` in TypeScript.
    #[wasm_bindgen(typescript_type = "XlingEngineOptions | undefined")]
    pub type EngineOptionsArg;
    /// `XlingDeviceOptions | undefined` in TypeScript.
    #[wasm_bindgen(typescript_type = "XlingDeviceOptions | undefined")]
    pub type LoadDeviceOptionsArg;
    /// `XlingBackend` in TypeScript.
    #[wasm_bindgen(typescript_type = "XlingBackend")]
    pub type BackendJs;
    /// `Uint8Array | ArrayBuffer` in TypeScript.
    #[wasm_bindgen(typescript_type = "Uint8Array | ArrayBuffer")]
    pub type BytesArg;
    /// `Uint8Array | ArrayBuffer | null | undefined` in TypeScript.
    #[wasm_bindgen(typescript_type = "Uint8Array | ArrayBuffer | null | undefined")]
    pub type OptionalBytesArg;
    /// `((done: number, total: number) => void) | undefined` in TypeScript.
    #[wasm_bindgen(typescript_type = "((done: number, total: number) => void) | undefined")]
    pub type ProgressArg;
    /// `XlingSearchResult` in TypeScript.
    #[wasm_bindgen(typescript_type = "XlingSearchResult")]
    pub type SearchResultJs;
    /// `XlingStats` in TypeScript.
    #[wasm_bindgen(typescript_type = "XlingStats")]
    pub type StatsJs;
    /// `XlingAddReport` in TypeScript.
    #[wasm_bindgen(typescript_type = "XlingAddReport")]
    pub type AddReportJs;
    /// `XlingDocumentInfo[]` in TypeScript.
    #[wasm_bindgen(typescript_type = "XlingDocumentInfo[]")]
    pub type DocumentInfosJs;
    /// `Float32Array` in TypeScript (checked at run time all the same).
    #[wasm_bindgen(typescript_type = "Float32Array")]
    pub type VectorsArg;
}

/// Reports a panic on the console before the module aborts: a panic is a bug
/// (input is checked first), and the message is what a bug report needs.
#[wasm_bindgen(start)]
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&format!("xling: internal error (please report): {info}").into());
    }));
}

/// The language code detected for `text` ("und" when it cannot be told).
#[wasm_bindgen(js_name = detectLanguage)]
pub fn detect_language_js(text: &str) -> String {
    detect_language(text).code.to_owned()
}

/// `weights`: "q4_0" (default) or "f32".
fn weight_format(weights: Option<&str>) -> Result<WeightFormat> {
    match weights.map(str::to_ascii_lowercase).as_deref() {
        None | Some("q4_0") | Some("q4") => Ok(WeightFormat::Q4_0),
        Some("f32") => Ok(WeightFormat::F32),
        Some(other) => Err(WasmError::argument(format!(
            "weights {other:?} is not \"q4_0\" or \"f32\""
        ))),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EngineOptions {
    weights: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LoadOptions {
    #[serde(with = "serde_wasm_bindgen::preserve", default = "undefined")]
    on_progress: JsValue,
    cache_name: Option<String>,
    weights: Option<String>,
    device: Option<String>,
}

fn undefined() -> JsValue {
    JsValue::UNDEFINED
}

/// The model and one index. Searches, stats and saves answer while an
/// `addDocuments` or `embedNext` awaits the GPU.
// The index sits in a `RefCell` shared with those promises, which borrow it
// only between awaits.
#[wasm_bindgen]
pub struct Engine {
    /// The CPU encoder: queries, and documents when there is no GPU.
    embedder: Rc<Embedder>,
    backend: Rc<DocumentEncoder>,
    index: Rc<RefCell<Index>>,
    prior: Option<LanguagePrior>,
    /// Graph building left to `maintainStep` (kept across restore and clear).
    deferred_maintenance: bool,
}

#[wasm_bindgen]
impl Engine {
    /// Loads the model from the bytes of `model.gguf`, the tokenizer
    /// (`tokenizer.xlt`, read in place, or `tokenizer.json`, which costs
    /// ~40 MB more memory for good) and, optionally, `language-prior.bin`
    /// (needed for language-agnostic
    /// ranking of languages the text detector does not know). Synchronous,
    /// so CPU only: `Engine.load` takes the same files and can use WebGPU.
    #[wasm_bindgen(constructor)]
    pub fn new(
        model: &BytesArg,
        tokenizer: &BytesArg,
        prior: &OptionalBytesArg,
        options: EngineOptionsArg,
    ) -> Result<Engine, JsValue> {
        let options: EngineOptions =
            convert::options_from_js(options.into(), "options", &["weights"])?;
        let files = ModelFiles {
            gguf: convert::bytes(model, "model")?,
            tokenizer_json: convert::bytes(tokenizer, "tokenizer")?,
        };
        let prior = convert::optional_bytes(prior, "prior")?;
        let format = weight_format(options.weights.as_deref())?;
        let embedder = Embedder::load_owned(files, format).map_err(WasmError::from)?;
        let report = BackendReport::cpu("new Engine() is synchronous and uses the CPU");
        Ok(Self::assemble(
            embedder,
            DocumentEncoder::cpu(report),
            prior.as_deref(),
        )?)
    }

    /// Loads the model from bytes like `new Engine`, choosing the device that
    /// embeds documents (`device`: "auto", the default, takes a hardware GPU
    /// that passes the self-test, else the CPU; "gpu" fails without one).
    pub async fn load(
        model: BytesArg,
        tokenizer: BytesArg,
        prior: OptionalBytesArg,
        options: LoadDeviceOptionsArg,
    ) -> Result<Engine, JsValue> {
        let options: DeviceOptions =
            convert::options_from_js(options.into(), "options", &["weights", "device"])?;
        let format = weight_format(options.weights.as_deref())?;
        let device = backend::device_option(options.device.as_deref())?;
        let files = ModelFiles {
            gguf: convert::bytes(&model, "model")?,
            tokenizer_json: convert::bytes(&tokenizer, "tokenizer")?,
        };
        let prior = convert::optional_bytes(&prior, "prior")?;
        let (embedder, backend) = backend::load(files, format, device).await?;
        Ok(Self::assemble(embedder, backend, prior.as_deref())?)
    }

    /// Downloads the model from a directory URL (`model.gguf`,
    /// `tokenizer.xlt` or else `tokenizer.json`, `language-prior.bin` if
    /// present) with progress,
    /// through Cache Storage when `cacheName` is given, and loads it on
    /// `device` (see `Engine.load`). A cached copy that fails to load is
    /// dropped, so a retry downloads it again.
    #[wasm_bindgen(js_name = fromUrl)]
    pub async fn from_url(base_url: String, options: LoadOptionsArg) -> Result<Engine, JsValue> {
        let options: LoadOptions = convert::options_from_js(
            options.into(),
            "options",
            &["onProgress", "cacheName", "weights", "device"],
        )?;
        let format = weight_format(options.weights.as_deref())?;
        let device = backend::device_option(options.device.as_deref())?;
        let on_progress = progress_callback(options.on_progress)?;
        let mut downloaded = fetch::fetch_model(
            &base_url,
            options.cache_name.as_deref(),
            on_progress.as_ref(),
        )
        .await?;
        // Moved, not copied: WASM memory keeps its high-water mark.
        let files = ModelFiles {
            gguf: std::mem::take(&mut downloaded.gguf),
            tokenizer_json: std::mem::take(&mut downloaded.tokenizer_json),
        };
        let prior = downloaded.prior.take();
        let loaded = match backend::load(files, format, device).await {
            Ok((embedder, backend)) => Self::assemble(embedder, backend, prior.as_deref()),
            Err(e) => Err(e),
        };
        match loaded {
            Ok(engine) => Ok(engine),
            Err(e) => {
                // Only a bad file is forgotten, not a missing GPU.
                if downloaded.from_cache && matches!(e, WasmError::Core(_)) {
                    downloaded.forget_cached().await;
                }
                Err(e.into())
            }
        }
    }

    fn assemble(
        embedder: Embedder,
        backend: DocumentEncoder,
        prior: Option<&[u8]>,
    ) -> Result<Engine> {
        let prior = prior.map(LanguagePrior::from_bytes).transpose()?;
        let index = Index::for_model(&embedder, IndexConfig::default());
        let engine = Engine {
            embedder: Rc::new(embedder),
            backend: Rc::new(backend),
            index: Rc::new(RefCell::new(index)),
            prior,
            deferred_maintenance: false,
        };
        engine.reset_index()?;
        Ok(engine)
    }

    fn index(&self) -> Result<Ref<'_, Index>> {
        self.index
            .try_borrow()
            .map_err(|_| WasmError::Internal("the index is in use".into()))
    }

    fn index_mut(&self) -> Result<RefMut<'_, Index>> {
        borrow_index_mut(&self.index)
    }

    /// A fresh empty index carrying the prior.
    fn reset_index(&self) -> Result<()> {
        let mut index = Index::for_model(&self.embedder, IndexConfig::default());
        if let Some(prior) = &self.prior {
            index.set_language_prior(prior.clone())?;
        }
        index.set_auto_maintain(!self.deferred_maintenance);
        *self.index_mut()? = index;
        Ok(())
    }

    /// Which backend embeds documents (WebGPU or the CPU) and why. Queries
    /// always run on the CPU.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> Result<BackendJs, JsValue> {
        let report = BackendOutput::from(self.backend.report());
        Ok(convert::to_js(&report)?.unchecked_into())
    }

    /// Leaves HNSW graph building to [`Engine::maintain_step`] (call it when
    /// idle) instead of doing it inside add and delete. Search stays correct:
    /// passages not in a graph yet are searched exactly.
    #[wasm_bindgen(js_name = setDeferredMaintenance)]
    pub fn set_deferred_maintenance(&mut self, deferred: bool) -> Result<(), JsValue> {
        self.deferred_maintenance = deferred;
        self.index_mut()?.set_auto_maintain(!deferred);
        Ok(())
    }

    /// Whether a graph build or merge is waiting.
    #[wasm_bindgen(getter, js_name = maintenancePending)]
    pub fn maintenance_pending(&self) -> bool {
        self.index().is_ok_and(|index| index.maintenance_due())
    }

    /// Builds or merges one graph segment (can take seconds on large
    /// collections); returns whether it did anything.
    #[wasm_bindgen(js_name = maintainStep)]
    pub fn maintain_step(&self) -> Result<bool, JsValue> {
        Ok(self.index_mut()?.maintain_step().map_err(WasmError::from)?)
    }

    /// Embedding dimension of the model.
    #[wasm_bindgen(getter)]
    pub fn dimension(&self) -> usize {
        self.embedder.dim()
    }

    /// Embeds one text on the CPU (unit vector); `kind` is "query" or "passage".
    pub fn embed(&self, text: &str, kind: &str) -> Result<Vec<f32>, JsValue> {
        Ok(self
            .embedder
            .embed_one(text, prefix(kind)?)
            .map_err(WasmError::from)?)
    }

    /// Embeds many texts on the engine's backend (the GPU when in use);
    /// resolves to one unit vector per text.
    #[wasm_bindgen(js_name = embedBatch, unchecked_return_type = "Promise<Float32Array[]>")]
    pub fn embed_batch(&self, texts: TextsArg, kind: &str) -> Promise {
        let start =
            || -> Result<_> { Ok((convert::strings(texts.into(), "texts")?, prefix(kind)?)) };
        let (texts, prefix) = match start() {
            Ok(started) => started,
            Err(e) => return Promise::reject(&e.into()),
        };
        let embedder = Rc::clone(&self.embedder);
        let backend = Rc::clone(&self.backend);
        future_to_promise(async move {
            let vectors = backend
                .embed(&embedder, &texts, prefix)
                .await
                .map_err(WasmError::from)?;
            let array = js_sys::Array::new();
            for v in vectors {
                array.push(&js_sys::Float32Array::from(v.as_slice()));
            }
            Ok(array.into())
        })
    }

    /// Adds documents in one go, all or nothing, on the engine's backend
    /// (see `backend`); resolves to counts. `onProgress(done, total)` counts
    /// passages. For long adds in a worker prefer [`Engine::prepare_add`],
    /// which can report, yield and be cancelled.
    #[wasm_bindgen(js_name = addDocuments, unchecked_return_type = "Promise<XlingAddReport>")]
    pub fn add_documents(&self, docs: DocumentsArg, on_progress: ProgressArg) -> Promise {
        let start = || -> Result<_> {
            let docs = convert::documents(docs.into())?;
            let callback = progress_callback(on_progress.into())?;
            let pending = self.index()?.prepare_add(self.embedder.tokenizer(), docs)?;
            Ok((AddJob::new(pending), callback))
        };
        let (job, callback) = match start() {
            Ok(started) => started,
            Err(e) => return Promise::reject(&e.into()),
        };
        let embedder = Rc::clone(&self.embedder);
        let backend = Rc::clone(&self.backend);
        let index = Rc::clone(&self.index);
        future_to_promise(async move {
            let report = async {
                let total = job.total();
                let report_progress = |done: usize| {
                    if let Some(f) = &callback {
                        let _ = f.call2(&JsValue::NULL, &done.into(), &total.into());
                    }
                };
                report_progress(0);
                while job.remaining() > 0 {
                    job.state.embed_next(&embedder, &backend, ADD_BATCH).await?;
                    report_progress(total - job.remaining());
                }
                let pending = job.state.take_embedded()?;
                let mut index = borrow_index_mut(&index)?;
                Ok::<_, WasmError>(index.commit_add(embedder.tokenizer(), pending)?)
            }
            .await?;
            Ok(convert::to_js(&report)?)
        })
    }

    /// Starts a staged add: checks and chunks `docs` (errors come now, before
    /// any encoding). Then await `embedNext(job, n)` until `job.remaining` is
    /// 0, and `commitAdd(job)`; drop the job to cancel.
    #[wasm_bindgen(js_name = prepareAdd)]
    pub fn prepare_add(&self, docs: DocumentsArg) -> Result<AddJob, JsValue> {
        let docs = convert::documents(docs.into())?;
        let pending = self
            .index()?
            .prepare_add(self.embedder.tokenizer(), docs)
            .map_err(WasmError::from)?;
        Ok(AddJob::new(pending))
    }

    /// Embeds up to `maxPassages` more passages of `job` on the engine's
    /// backend; resolves to how many. One call at a time per job. On the
    /// CPU one passage per call keeps a worker responsive; on a GPU larger
    /// batches (16–64) pay for the round trip.
    #[wasm_bindgen(js_name = embedNext, unchecked_return_type = "Promise<number>")]
    pub fn embed_next(&self, job: &AddJob, max_passages: usize) -> Promise {
        let state = Rc::clone(&job.state);
        let embedder = Rc::clone(&self.embedder);
        let backend = Rc::clone(&self.backend);
        future_to_promise(async move {
            let n = state.embed_next(&embedder, &backend, max_passages).await?;
            Ok(JsValue::from(n))
        })
    }

    /// Indexes a fully embedded job (all or nothing).
    #[wasm_bindgen(js_name = commitAdd)]
    pub fn commit_add(&self, job: &AddJob) -> Result<AddReportJs, JsValue> {
        let pending = job.state.take_embedded()?;
        let report = self
            .index_mut()?
            .commit_add(self.embedder.tokenizer(), pending)
            .map_err(WasmError::from)?;
        Ok(convert::to_js(&report)?.unchecked_into())
    }

    /// Deletes documents by id; unknown ids are an error and nothing is deleted.
    #[wasm_bindgen(js_name = deleteDocuments)]
    pub fn delete_documents(&self, ids: IdsArg) -> Result<usize, JsValue> {
        let ids = convert::strings(ids.into(), "ids")?;
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        Ok(self
            .index_mut()?
            .delete(self.embedder.tokenizer(), &ids)
            .map_err(WasmError::from)?)
    }

    /// Searches; see `XlingSearchOptions`. The query is embedded on the CPU.
    pub fn search(
        &self,
        query: JsValue,
        options: SearchOptionsArg,
    ) -> Result<SearchResultJs, JsValue> {
        let query = query.as_string().ok_or_else(|| {
            WasmError::argument(format!(
                "query must be a string, not {}",
                convert::type_name(&query)
            ))
        })?;
        let options: SearchOptionsInput =
            convert::options_from_js(options.into(), "options", convert::SEARCH_OPTIONS)?;
        let options = options.into_options()?;
        let tokenizer = self.embedder.tokenizer();
        let analysed = Query::analyse(tokenizer, &query).map_err(WasmError::from)?;
        let vector = match options.mode {
            SearchMode::Lexical => Vec::new(),
            _ => self
                .embedder
                .embed_one(&query, Prefix::Query)
                .map_err(WasmError::from)?,
        };
        let analysed = analysed.with_vector(vector);
        let index = self.index()?;
        let hits = index
            .search_query(tokenizer, &analysed, &options)
            .map_err(WasmError::from)?;
        let query_language = match &options.query_language {
            Some(code) => code.clone(),
            None => index.language_of_query(&analysed),
        };
        let output = SearchOutput {
            hits: hits.into_iter().map(Into::into).collect(),
            query_language,
        };
        Ok(convert::to_js(&output)?.unchecked_into())
    }

    /// The index as one file (checksummed; `restore` reads it back).
    pub fn save(&self) -> Result<Uint8Array, JsValue> {
        let bytes = self.index()?.to_bytes().map_err(WasmError::from)?;
        Ok(Uint8Array::from(bytes.as_slice()))
    }

    /// Replaces the index with a saved one. On any error (corrupt file,
    /// another model) the current index is kept.
    pub fn restore(&self, bytes: &BytesArg) -> Result<StatsJs, JsValue> {
        let bytes = convert::bytes(bytes, "index")?;
        let mut index =
            Index::from_bytes_for(&bytes, self.embedder.tokenizer()).map_err(WasmError::from)?;
        if index.language_prior().is_none() {
            if let Some(prior) = &self.prior {
                index
                    .set_language_prior(prior.clone())
                    .map_err(WasmError::from)?;
            }
        }
        index.set_auto_maintain(!self.deferred_maintenance);
        *self.index_mut()? = index;
        self.stats()
    }

    /// Empties the index.
    pub fn clear(&self) -> Result<(), JsValue> {
        Ok(self.reset_index()?)
    }

    /// Counts: documents, passages, languages, graph segments.
    pub fn stats(&self) -> Result<StatsJs, JsValue> {
        let index = self.index()?;
        let stats = StatsOutput::new(index.stats(), index.maintenance_due());
        Ok(convert::to_js(&stats)?.unchecked_into())
    }

    /// The documents in the index (ids and metadata, no text).
    pub fn documents(&self) -> Result<DocumentInfosJs, JsValue> {
        let docs: Vec<DocumentOutput> = self
            .index()?
            .documents()
            .map(|d| DocumentOutput {
                id: d.id.clone(),
                title: d.title.clone(),
                url: d.url.clone(),
                lang: d.lang.clone(),
            })
            .collect();
        Ok(convert::to_js(&docs)?.unchecked_into())
    }
}

/// The index for a change; shared with the promises of adds, which borrow it
/// only between awaits, so a conflict would be a bug (an error, not a panic).
fn borrow_index_mut(index: &RefCell<Index>) -> Result<RefMut<'_, Index>> {
    index
        .try_borrow_mut()
        .map_err(|_| WasmError::Internal("the index is in use".into()))
}

/// "query" or "passage".
fn prefix(kind: &str) -> Result<Prefix> {
    match kind {
        "query" => Ok(Prefix::Query),
        "passage" => Ok(Prefix::Passage),
        other => Err(WasmError::argument(format!(
            "kind {other:?} is not \"query\" or \"passage\""
        ))),
    }
}

/// Passages per encoder call in `addDocuments` (the core's batch).
const ADD_BATCH: usize = 64;

fn progress_callback(value: JsValue) -> Result<Option<Function>> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.dyn_into::<Function>().map(Some).map_err(|v| {
        WasmError::argument(format!(
            "onProgress must be a function, not {}",
            convert::type_name(&v)
        ))
    })
}
