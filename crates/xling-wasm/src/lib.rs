//! # xling-wasm
//!
//! The xling engine for JavaScript (wasm-bindgen): load the model, add and
//! delete documents, search across languages, save and restore the index.
//! Every method either returns or throws an `XlingError` with a stable `code`;
//! input is checked so that nothing panics (a panic would abort the module).
//!
//! Built for `wasm32-unknown-unknown` with SIMD128; `pkg/README.md` shows use.

mod convert;
mod error;
mod fetch;

use js_sys::{Function, Uint8Array};
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use xling_core::index::{check_query, Index, IndexConfig, LanguagePrior, PendingAdd, SearchMode};
use xling_core::lang::detect_language;
use xling_core::{Embedder, ModelFiles, Prefix, WeightFormat};

use convert::{DocumentOutput, SearchOptionsInput, SearchOutput, StatsOutput};
use error::Result;
pub use error::WasmError;

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
}
export interface XlingEngineOptions { weights?: "q4_0" | "f32"; }
/** What every method throws. */
export interface XlingError extends Error {
  name: "XlingError";
  code: "invalid_input" | "invalid_document" | "invalid_index" | "invalid_model" | "model_mismatch" | "network" | "invalid_job" | "internal";
}
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "XlingDocument[]")]
    pub type DocumentsArg;
    #[wasm_bindgen(typescript_type = "string[]")]
    pub type IdsArg;
    #[wasm_bindgen(typescript_type = "XlingSearchOptions | undefined")]
    pub type SearchOptionsArg;
    #[wasm_bindgen(typescript_type = "XlingLoadOptions | undefined")]
    pub type LoadOptionsArg;
    #[wasm_bindgen(typescript_type = "XlingEngineOptions | undefined")]
    pub type EngineOptionsArg;
    #[wasm_bindgen(typescript_type = "Uint8Array | ArrayBuffer")]
    pub type BytesArg;
    #[wasm_bindgen(typescript_type = "Uint8Array | ArrayBuffer | null | undefined")]
    pub type OptionalBytesArg;
    #[wasm_bindgen(typescript_type = "((done: number, total: number) => void) | undefined")]
    pub type ProgressArg;
    #[wasm_bindgen(typescript_type = "XlingSearchResult")]
    pub type SearchResultJs;
    #[wasm_bindgen(typescript_type = "XlingStats")]
    pub type StatsJs;
    #[wasm_bindgen(typescript_type = "XlingAddReport")]
    pub type AddReportJs;
    #[wasm_bindgen(typescript_type = "XlingDocumentInfo[]")]
    pub type DocumentInfosJs;
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EngineOptions {
    weights: Option<String>,
}

impl EngineOptions {
    fn weight_format(&self) -> Result<WeightFormat> {
        match self
            .weights
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("q4_0") | Some("q4") => Ok(WeightFormat::Q4_0),
            Some("f32") => Ok(WeightFormat::F32),
            Some(other) => Err(WasmError::argument(format!(
                "weights {other:?} is not \"q4_0\" or \"f32\""
            ))),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LoadOptions {
    #[serde(with = "serde_wasm_bindgen::preserve", default = "undefined")]
    on_progress: JsValue,
    cache_name: Option<String>,
    weights: Option<String>,
}

fn undefined() -> JsValue {
    JsValue::UNDEFINED
}

/// The model and one index.
#[wasm_bindgen]
pub struct Engine {
    embedder: Embedder,
    index: Index,
    prior: Option<LanguagePrior>,
    /// Graph building left to `maintainStep` (kept across restore and clear).
    deferred_maintenance: bool,
}

#[wasm_bindgen]
impl Engine {
    /// Loads the model from the bytes of `model.gguf`, `tokenizer.json` and,
    /// optionally, `language-prior.bin` (needed for language-agnostic
    /// ranking of languages the text detector does not know).
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
        Ok(Self::from_files(
            files,
            prior.as_deref(),
            options.weight_format()?,
        )?)
    }

    /// Downloads the model from a directory URL (`model.gguf`,
    /// `tokenizer.json`, `language-prior.bin` if present) with progress,
    /// through Cache Storage when `cacheName` is given. A cached copy that
    /// fails to load is dropped, so a retry downloads it again.
    #[wasm_bindgen(js_name = fromUrl)]
    pub async fn from_url(base_url: String, options: LoadOptionsArg) -> Result<Engine, JsValue> {
        let options: LoadOptions = convert::options_from_js(
            options.into(),
            "options",
            &["onProgress", "cacheName", "weights"],
        )?;
        let format = EngineOptions {
            weights: options.weights.clone(),
        }
        .weight_format()?;
        let on_progress = match options.on_progress {
            v if v.is_undefined() || v.is_null() => None,
            v => Some(v.dyn_into::<Function>().map_err(|v| {
                WasmError::argument(format!(
                    "onProgress must be a function, not {}",
                    convert::type_name(&v)
                ))
            })?),
        };
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
        match Self::from_files(files, prior.as_deref(), format) {
            Ok(engine) => Ok(engine),
            Err(e) => {
                if downloaded.from_cache {
                    downloaded.forget_cached().await;
                }
                Err(e.into())
            }
        }
    }

    fn from_files(files: ModelFiles, prior: Option<&[u8]>, format: WeightFormat) -> Result<Engine> {
        let embedder = Embedder::load_owned(files, format)?;
        let prior = prior.map(LanguagePrior::from_bytes).transpose()?;
        let mut engine = Engine {
            index: Index::for_model(&embedder, IndexConfig::default()),
            embedder,
            prior,
            deferred_maintenance: false,
        };
        engine.reset_index()?;
        Ok(engine)
    }

    /// A fresh empty index carrying the prior.
    fn reset_index(&mut self) -> Result<()> {
        let mut index = Index::for_model(&self.embedder, IndexConfig::default());
        if let Some(prior) = &self.prior {
            index.set_language_prior(prior.clone())?;
        }
        index.set_auto_maintain(!self.deferred_maintenance);
        self.index = index;
        Ok(())
    }

    /// Leaves HNSW graph building to [`Engine::maintain_step`] (call it when
    /// idle) instead of doing it inside add and delete. Search stays correct:
    /// passages not in a graph yet are searched exactly.
    #[wasm_bindgen(js_name = setDeferredMaintenance)]
    pub fn set_deferred_maintenance(&mut self, deferred: bool) {
        self.deferred_maintenance = deferred;
        self.index.set_auto_maintain(!deferred);
    }

    /// Whether a graph build or merge is waiting.
    #[wasm_bindgen(getter, js_name = maintenancePending)]
    pub fn maintenance_pending(&self) -> bool {
        self.index.maintenance_due()
    }

    /// Builds or merges one graph segment (can take seconds on large
    /// collections); returns whether it did anything.
    #[wasm_bindgen(js_name = maintainStep)]
    pub fn maintain_step(&mut self) -> Result<bool, JsValue> {
        Ok(self.index.maintain_step().map_err(WasmError::from)?)
    }

    /// Embedding dimension of the model.
    #[wasm_bindgen(getter)]
    pub fn dimension(&self) -> usize {
        self.embedder.dim()
    }

    /// Embeds one text (unit vector); `kind` is "query" or "passage".
    pub fn embed(&self, text: &str, kind: &str) -> Result<Vec<f32>, JsValue> {
        let prefix = match kind {
            "query" => Prefix::Query,
            "passage" => Prefix::Passage,
            other => {
                return Err(WasmError::argument(format!(
                    "kind {other:?} is not \"query\" or \"passage\""
                ))
                .into())
            }
        };
        Ok(self
            .embedder
            .embed_one(text, prefix)
            .map_err(WasmError::from)?)
    }

    /// Adds documents in one go: all or nothing. `onProgress(done, total)`
    /// counts passages. For long adds in a worker prefer
    /// [`Engine::prepare_add`], which can report, yield and be cancelled.
    #[wasm_bindgen(js_name = addDocuments)]
    pub fn add_documents(
        &mut self,
        docs: DocumentsArg,
        on_progress: ProgressArg,
    ) -> Result<AddReportJs, JsValue> {
        let docs = convert::documents(docs.into())?;
        let callback = progress_callback(on_progress.into())?;
        let report = self
            .index
            .add_documents(&self.embedder, docs, |done, total| {
                if let Some(f) = &callback {
                    let _ = f.call2(&JsValue::NULL, &done.into(), &total.into());
                }
            })
            .map_err(WasmError::from)?;
        Ok(convert::to_js(&report)?.unchecked_into())
    }

    /// Starts a staged add: checks and chunks `docs` (errors come now, before
    /// any encoding). Then call `embedNext(job, n)` until `job.remaining` is
    /// 0, and `commitAdd(job)`; drop the job to cancel.
    #[wasm_bindgen(js_name = prepareAdd)]
    pub fn prepare_add(&self, docs: DocumentsArg) -> Result<AddJob, JsValue> {
        let docs = convert::documents(docs.into())?;
        let pending = self
            .index
            .prepare_add(self.embedder.tokenizer(), docs)
            .map_err(WasmError::from)?;
        Ok(AddJob {
            pending: Some(pending),
        })
    }

    /// Embeds up to `max_passages` more passages of `job`; returns how many.
    #[wasm_bindgen(js_name = embedNext)]
    pub fn embed_next(&self, job: &mut AddJob, max_passages: usize) -> Result<usize, JsValue> {
        let pending = job.pending_mut()?;
        let embedder = &self.embedder;
        Ok(pending
            .embed_next(max_passages, |texts| embedder.embed(texts, Prefix::Passage))
            .map_err(WasmError::from)?)
    }

    /// Indexes a fully embedded job (all or nothing).
    #[wasm_bindgen(js_name = commitAdd)]
    pub fn commit_add(&mut self, job: &mut AddJob) -> Result<AddReportJs, JsValue> {
        let pending = job
            .pending
            .take()
            .ok_or_else(|| WasmError::Job("this add was already committed".into()))?;
        if !pending.is_embedded() {
            let error = WasmError::Job(format!(
                "{} of {} passages are embedded; call embedNext until remaining is 0",
                pending.embedded(),
                pending.total()
            ));
            job.pending = Some(pending);
            return Err(error.into());
        }
        let report = self
            .index
            .commit_add(self.embedder.tokenizer(), pending)
            .map_err(WasmError::from)?;
        Ok(convert::to_js(&report)?.unchecked_into())
    }

    /// Deletes documents by id; unknown ids are an error and nothing is deleted.
    #[wasm_bindgen(js_name = deleteDocuments)]
    pub fn delete_documents(&mut self, ids: IdsArg) -> Result<usize, JsValue> {
        let ids = convert::ids(ids.into())?;
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        Ok(self
            .index
            .delete(self.embedder.tokenizer(), &ids)
            .map_err(WasmError::from)?)
    }

    /// Searches; see `XlingSearchOptions`.
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
        check_query(tokenizer, &query).map_err(WasmError::from)?;
        let vector = match options.mode {
            SearchMode::Lexical => Vec::new(),
            _ => self
                .embedder
                .embed_one(&query, Prefix::Query)
                .map_err(WasmError::from)?,
        };
        let hits = self
            .index
            .search_with_vector(tokenizer, &query, &vector, &options)
            .map_err(WasmError::from)?;
        let query_language = match &options.query_language {
            Some(code) => code.clone(),
            None => self.index.query_language(&query, &vector),
        };
        let output = SearchOutput {
            hits: hits.into_iter().map(Into::into).collect(),
            query_language,
        };
        Ok(convert::to_js(&output)?.unchecked_into())
    }

    /// The index as one file (checksummed; `restore` reads it back).
    pub fn save(&self) -> Result<Uint8Array, JsValue> {
        let bytes = self.index.to_bytes().map_err(WasmError::from)?;
        Ok(Uint8Array::from(bytes.as_slice()))
    }

    /// Replaces the index with a saved one. On any error (corrupt file,
    /// another model) the current index is kept.
    pub fn restore(&mut self, bytes: &BytesArg) -> Result<StatsJs, JsValue> {
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
        self.index = index;
        self.stats()
    }

    /// Empties the index.
    pub fn clear(&mut self) -> Result<(), JsValue> {
        Ok(self.reset_index()?)
    }

    /// Counts: documents, passages, languages, graph segments.
    pub fn stats(&self) -> Result<StatsJs, JsValue> {
        let stats = StatsOutput::new(self.index.stats(), self.index.maintenance_due());
        Ok(convert::to_js(&stats)?.unchecked_into())
    }

    /// The documents in the index (ids and metadata, no text).
    pub fn documents(&self) -> Result<DocumentInfosJs, JsValue> {
        let docs: Vec<DocumentOutput> = self
            .index
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

/// A staged add (see [`Engine::prepare_add`]).
#[wasm_bindgen]
pub struct AddJob {
    pending: Option<PendingAdd>,
}

impl AddJob {
    fn pending_mut(&mut self) -> Result<&mut PendingAdd> {
        self.pending
            .as_mut()
            .ok_or_else(|| WasmError::Job("this add was already committed".into()))
    }
}

#[wasm_bindgen]
impl AddJob {
    /// Passages in all.
    #[wasm_bindgen(getter)]
    pub fn total(&self) -> usize {
        self.pending.as_ref().map_or(0, PendingAdd::total)
    }

    /// Passages still to embed.
    #[wasm_bindgen(getter)]
    pub fn remaining(&self) -> usize {
        self.pending
            .as_ref()
            .map_or(0, |p| p.total() - p.embedded())
    }

    /// Documents in this add.
    #[wasm_bindgen(getter)]
    pub fn documents(&self) -> usize {
        self.pending.as_ref().map_or(0, PendingAdd::documents)
    }
}

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
