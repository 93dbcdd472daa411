//! Values crossing the boundary: JavaScript objects in, checked and typed;
//! results out as plain objects (camelCase, `null` for absent).

use js_sys::{ArrayBuffer, Uint8Array};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use xling_index::{Document, Hit, IndexStats, LanguageScope, SearchMode, SearchOptions};

use crate::error::{Result, WasmError};

/// Most results one search may ask for: a result list, not an export.
pub const MAX_K: usize = 1000;

/// Bytes from a `Uint8Array` or an `ArrayBuffer` (anything else is an error,
/// never silently coerced).
pub fn bytes(value: &JsValue, what: &str) -> Result<Vec<u8>> {
    if let Some(array) = value.dyn_ref::<Uint8Array>() {
        Ok(array.to_vec())
    } else if let Some(buffer) = value.dyn_ref::<ArrayBuffer>() {
        Ok(Uint8Array::new(buffer).to_vec())
    } else {
        Err(WasmError::argument(format!(
            "{what} must be a Uint8Array or an ArrayBuffer, not {}",
            type_name(value)
        )))
    }
}

/// Optional bytes: `undefined` and `null` are `None`.
pub fn optional_bytes(value: &JsValue, what: &str) -> Result<Option<Vec<u8>>> {
    if value.is_undefined() || value.is_null() {
        Ok(None)
    } else {
        bytes(value, what).map(Some)
    }
}

/// A JavaScript value as a Rust type, with the path of what was wrong.
pub fn from_js<T: DeserializeOwned>(value: JsValue, what: &str) -> Result<T> {
    serde_wasm_bindgen::from_value(value).map_err(|e| WasmError::argument(format!("{what}: {e}")))
}

/// An optional options object: `undefined` and `null` give the defaults.
/// Keys other than `known` are an error: a misspelt option silently ignored
/// is a search that quietly does something else.
pub fn options_from_js<T: DeserializeOwned + Default>(
    value: JsValue,
    what: &str,
    known: &[&str],
) -> Result<T> {
    if value.is_undefined() || value.is_null() {
        Ok(T::default())
    } else if value.is_object() && !js_sys::Array::is_array(&value) {
        let object: &js_sys::Object = value.unchecked_ref();
        for key in js_sys::Object::keys(object).iter() {
            let key = key.as_string().unwrap_or_default();
            if !known.contains(&key.as_str()) {
                return Err(WasmError::argument(format!(
                    "{what}: unknown option {key:?} (known: {})",
                    known.join(", ")
                )));
            }
        }
        from_js(value, what)
    } else {
        Err(WasmError::argument(format!(
            "{what} must be an object, not {}",
            type_name(&value)
        )))
    }
}

/// A Rust value as a plain JavaScript object.
pub fn to_js<T: Serialize>(value: &T) -> Result<JsValue> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value
        .serialize(&serializer)
        .map_err(|e| WasmError::Internal(format!("cannot convert a result: {e}")))
}

/// `typeof`, with arrays and null told apart, for error messages.
pub fn type_name(value: &JsValue) -> String {
    if value.is_null() {
        "null".into()
    } else if js_sys::Array::is_array(value) {
        "an array".into()
    } else {
        value
            .js_typeof()
            .as_string()
            .unwrap_or_else(|| "unknown".into())
    }
}

/// A document as JavaScript gives it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentInput {
    id: String,
    text: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

impl From<DocumentInput> for Document {
    fn from(d: DocumentInput) -> Self {
        Document {
            id: d.id,
            text: d.text,
            title: d.title,
            url: d.url,
            lang: d.lang,
        }
    }
}

/// Documents from JavaScript: an array of `{id, text, title?, url?, lang?}`.
pub fn documents(value: JsValue) -> Result<Vec<Document>> {
    if !js_sys::Array::is_array(&value) {
        return Err(WasmError::argument(format!(
            "documents must be an array of {{id, text, title?, url?, lang?}} objects, not {}",
            type_name(&value)
        )));
    }
    let docs: Vec<DocumentInput> = from_js(value, "documents")?;
    Ok(docs.into_iter().map(Document::from).collect())
}

/// An array of strings from JavaScript (`what` names it in errors).
pub fn strings(value: JsValue, what: &str) -> Result<Vec<String>> {
    if !js_sys::Array::is_array(&value) {
        return Err(WasmError::argument(format!(
            "{what} must be an array of strings, not {}",
            type_name(&value)
        )));
    }
    from_js(value, what)
}

/// `languages` of a search: `"any"`, `"same"` or a list of codes.
#[derive(Deserialize)]
#[serde(untagged)]
enum LanguagesInput {
    Keyword(String),
    Codes(Vec<String>),
}

/// The keys of [`SearchOptionsInput`].
pub const SEARCH_OPTIONS: &[&str] = &[
    "mode",
    "k",
    "languages",
    "queryLanguage",
    "exact",
    "highlight",
    "languageAgnostic",
];

/// Search options as JavaScript gives them; every field optional.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SearchOptionsInput {
    mode: Option<String>,
    k: Option<u32>,
    languages: Option<LanguagesInput>,
    query_language: Option<String>,
    exact: Option<bool>,
    highlight: Option<bool>,
    /// `false` ranks by plain cosine (the model's own preference for the
    /// query's language); for comparisons.
    language_agnostic: Option<bool>,
}

impl SearchOptionsInput {
    pub fn into_options(self) -> Result<SearchOptions> {
        let mut options = SearchOptions::default();
        if let Some(mode) = self.mode {
            options.mode = match mode.to_ascii_lowercase().as_str() {
                "hybrid" => SearchMode::Hybrid,
                "dense" | "semantic" => SearchMode::Dense,
                "lexical" | "keyword" => SearchMode::Lexical,
                other => {
                    return Err(WasmError::argument(format!(
                        "mode {other:?} is not one of hybrid, semantic (dense), keyword (lexical)"
                    )))
                }
            };
        }
        if let Some(k) = self.k {
            let k = k as usize;
            if k == 0 || k > MAX_K {
                return Err(WasmError::argument(format!(
                    "k must be between 1 and {MAX_K}, not {k}"
                )));
            }
            options.k = k;
        }
        options.languages = match self.languages {
            None => LanguageScope::Any,
            Some(LanguagesInput::Keyword(s)) => s.parse()?,
            Some(LanguagesInput::Codes(codes)) => codes.join(",").parse()?,
        };
        if let LanguageScope::Only(codes) = &options.languages {
            if codes.is_empty() {
                return Err(WasmError::argument(
                    "languages: the list is empty (use \"any\" to search every language)",
                ));
            }
        }
        options.query_language = self.query_language;
        options.exact = self.exact.unwrap_or(false);
        options.highlight = self.highlight.unwrap_or(true);
        options.debias.enabled = self.language_agnostic.unwrap_or(true);
        Ok(options)
    }
}

/// One result as JavaScript gets it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HitOutput {
    id: String,
    title: Option<String>,
    url: Option<String>,
    lang: String,
    score: f32,
    dense: Option<f32>,
    lexical: Option<f32>,
    /// The best passage of the document.
    passage: String,
    /// The best-matching sentence as `[start, end)` UTF-16 offsets into
    /// `passage` (what `String.prototype.slice` takes); `null` if none.
    highlight: Option<[usize; 2]>,
}

impl From<Hit> for HitOutput {
    fn from(hit: Hit) -> Self {
        let highlight = sentence_in_passage(&hit);
        HitOutput {
            id: hit.id,
            title: hit.title,
            url: hit.url,
            lang: hit.lang,
            score: hit.score,
            dense: hit.dense,
            lexical: hit.lexical,
            passage: hit.passage,
            highlight,
        }
    }
}

/// The hit's sentence range (bytes of the document) as UTF-16 offsets into
/// its passage, if it lies inside the passage on character boundaries.
fn sentence_in_passage(hit: &Hit) -> Option<[usize; 2]> {
    let start = hit
        .sentence_bytes
        .start
        .checked_sub(hit.passage_bytes.start)?;
    let end = hit
        .sentence_bytes
        .end
        .checked_sub(hit.passage_bytes.start)?;
    let passage = hit.passage.as_str();
    if start >= end || !passage.is_char_boundary(start) || !passage.is_char_boundary(end) {
        return None;
    }
    let utf16 = |s: &str| s.encode_utf16().count();
    let from = utf16(&passage[..start]);
    Some([from, from + utf16(&passage[start..end])])
}

/// What a search returns.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchOutput {
    pub hits: Vec<HitOutput>,
    /// The language the query was taken to be in (`und`: undetermined).
    pub query_language: String,
}

/// Index counts for JavaScript.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsOutput {
    documents: usize,
    passages: usize,
    passage_slots: usize,
    graph_segments: Vec<usize>,
    exact_buffer: usize,
    languages: Vec<(String, u64)>,
    prior_languages: usize,
    maintenance_pending: bool,
}

impl StatsOutput {
    pub fn new(stats: IndexStats, maintenance_pending: bool) -> Self {
        StatsOutput {
            documents: stats.documents,
            passages: stats.passages,
            passage_slots: stats.passage_slots,
            graph_segments: stats.graph_segments,
            exact_buffer: stats.exact_buffer,
            languages: stats.languages,
            prior_languages: stats.prior_languages,
            maintenance_pending,
        }
    }
}

/// A listed document (no text: listings stay small).
#[derive(Serialize)]
pub struct DocumentOutput {
    pub id: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub lang: Option<String>,
}

/// The backend report for JavaScript (`XlingBackend`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendOutput {
    backend: &'static str,
    adapter: Option<AdapterOutput>,
    self_test_cosine: Option<f32>,
    reason: String,
}

#[derive(Serialize)]
struct AdapterOutput {
    name: String,
    api: String,
    software: bool,
}

impl From<xling_gpu::BackendReport> for BackendOutput {
    fn from(report: xling_gpu::BackendReport) -> Self {
        Self {
            backend: report.backend,
            adapter: report.adapter.map(|a| AdapterOutput {
                name: a.name,
                api: a.api,
                software: a.software,
            }),
            self_test_cosine: report.self_test_cosine,
            reason: report.reason,
        }
    }
}
