//! Model files from a URL: fetched with byte progress, kept in Cache Storage
//! and taken from there on later visits (so the app works offline).

use js_sys::{Function, Object, Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, CacheStorage, Response};

use crate::error::{Result, WasmError};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` of whatever scope runs us (window, worker, Node).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str) -> js_sys::Promise;
}

/// The files of a model directory, as served.
pub const MODEL_FILE: &str = "model.gguf";
/// The compact tokenizer, read in place; served by `xling convert`'s output.
pub const COMPACT_TOKENIZER_FILE: &str = "tokenizer.xlt";
/// The `tokenizers` JSON, fetched only where a directory has no `tokenizer.xlt`.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
pub const PRIOR_FILE: &str = "language-prior.bin";

/// What a progress callback receives.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Progress<'a> {
    /// Bytes received so far, all files together.
    loaded: u64,
    /// Bytes in all, 0 when the server does not say.
    total: u64,
    /// The file being read.
    file: &'a str,
    from_cache: bool,
}

/// A response to read, and where it came from.
struct Source {
    url: String,
    file: &'static str,
    response: Response,
    from_cache: bool,
}

/// The downloaded files.
pub struct Downloaded {
    pub gguf: Vec<u8>,
    pub tokenizer_json: Vec<u8>,
    /// `None` when the server has no prior (the engine works without one).
    pub prior: Option<Vec<u8>>,
    /// Whether anything came from (and so may be wrong in) the cache.
    pub from_cache: bool,
    cache: Option<Cache>,
    urls: Vec<String>,
}

impl Downloaded {
    /// Drops the cached copies: called when they fail to load, so that the
    /// next attempt downloads fresh files instead of failing forever.
    pub async fn forget_cached(&self) {
        if let Some(cache) = &self.cache {
            for url in &self.urls {
                let _ = JsFuture::from(cache.delete_with_str(url)).await;
            }
        }
    }
}

/// Fetches `model.gguf`, the tokenizer (`tokenizer.xlt`, else
/// `tokenizer.json`) and (if present) `language-prior.bin` from `base` (a
/// directory URL), using the Cache Storage cache `cache_name` when given and
/// available.
pub async fn fetch_model(
    base: &str,
    cache_name: Option<&str>,
    on_progress: Option<&Function>,
) -> Result<Downloaded> {
    let base = if base.ends_with('/') {
        base.to_owned()
    } else {
        format!("{base}/")
    };
    let cache = match cache_name {
        Some(name) => open_cache(name).await,
        None => None,
    };
    let cache_ref = cache.as_ref();
    let mut sources = Vec::new();
    if let Some(model) = open(&format!("{base}{MODEL_FILE}"), MODEL_FILE, true, cache_ref).await? {
        sources.push(model);
    }
    let compact = open(
        &format!("{base}{COMPACT_TOKENIZER_FILE}"),
        COMPACT_TOKENIZER_FILE,
        false,
        cache_ref,
    )
    .await?;
    // A host that answers every path with its index page sends HTML for a
    // missing file: that is "no tokenizer.xlt" too.
    match compact.filter(|s| !is_html(&s.response)) {
        Some(source) => sources.push(source),
        None => {
            let json = format!("{base}{TOKENIZER_FILE}");
            if let Some(source) = open(&json, TOKENIZER_FILE, true, cache_ref).await? {
                sources.push(source);
            }
        }
    }
    if let Some(prior) = open(&format!("{base}{PRIOR_FILE}"), PRIOR_FILE, false, cache_ref).await? {
        sources.push(prior);
    }
    let total: u64 = sources
        .iter()
        .map(|s| content_length(&s.response))
        .try_fold(0u64, |sum, len| len.map(|l| sum + l))
        .unwrap_or(0);
    let mut loaded = 0u64;
    let mut out = Downloaded {
        gguf: Vec::new(),
        tokenizer_json: Vec::new(),
        prior: None,
        from_cache: sources.iter().any(|s| s.from_cache),
        cache: cache.clone(),
        urls: sources.iter().map(|s| s.url.clone()).collect(),
    };
    for source in sources {
        let bytes = read_body(&source, &mut loaded, total, on_progress).await?;
        if !source.from_cache {
            if let Some(cache) = &cache {
                store(cache, &source.url, &bytes).await;
            }
        }
        match source.file {
            MODEL_FILE => out.gguf = bytes,
            TOKENIZER_FILE | COMPACT_TOKENIZER_FILE => out.tokenizer_json = bytes,
            _ => out.prior = Some(bytes),
        }
    }
    Ok(out)
}

/// `caches.open(name)`, or `None` where there is no Cache Storage (Node,
/// insecure origins) or it refuses: the model then just is not cached.
async fn open_cache(name: &str) -> Option<Cache> {
    let caches = Reflect::get(&js_sys::global(), &"caches".into()).ok()?;
    let caches: CacheStorage = caches.dyn_into().ok()?;
    let opened = JsFuture::from(caches.open(name)).await.ok()?;
    opened.dyn_into().ok()
}

/// The cached response for `url`, else a network one. A missing optional
/// file is `None`; a missing required one is an error.
async fn open(
    url: &str,
    file: &'static str,
    required: bool,
    cache: Option<&Cache>,
) -> Result<Option<Source>> {
    if let Some(cache) = cache {
        if let Ok(hit) = JsFuture::from(cache.match_with_str(url)).await {
            if let Ok(response) = hit.dyn_into::<Response>() {
                return Ok(Some(Source {
                    url: url.to_owned(),
                    file,
                    response,
                    from_cache: true,
                }));
            }
        }
    }
    let response = JsFuture::from(global_fetch(url))
        .await
        .map_err(|e| network(url, &describe(&e)))?;
    let response: Response = response
        .dyn_into()
        .map_err(|_| network(url, "fetch did not return a Response"))?;
    if response.status() == 404 && !required {
        return Ok(None);
    }
    if !response.ok() {
        return Err(network(url, &format!("HTTP {}", response.status())));
    }
    Ok(Some(Source {
        url: url.to_owned(),
        file,
        response,
        from_cache: false,
    }))
}

/// Whether a response is an HTML page (`Content-Type: text/html`).
fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("text/html"))
}

/// `Content-Length`, when the server sends a usable one.
fn content_length(response: &Response) -> Option<u64> {
    response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse().ok())
}

/// Progress is reported at most once per this many bytes (and at the end).
const PROGRESS_STEP_BYTES: u64 = 1 << 20;

/// Reads a body chunk by chunk, reporting progress; checks the length
/// against `Content-Length` so a cut download is an error, never a model.
async fn read_body(
    source: &Source,
    loaded: &mut u64,
    total: u64,
    on_progress: Option<&Function>,
) -> Result<Vec<u8>> {
    let expected = content_length(&source.response);
    let mut bytes = Vec::with_capacity(expected.unwrap_or(0).min(1 << 30) as usize);
    let report = |loaded: u64| {
        if let Some(callback) = on_progress {
            let progress = Progress {
                loaded,
                total,
                file: source.file,
                from_cache: source.from_cache,
            };
            if let Ok(value) = crate::convert::to_js(&progress) {
                // A throwing progress callback must not stop the download.
                let _ = callback.call1(&JsValue::NULL, &value);
            }
        }
    };
    report(*loaded);
    let mut reported = *loaded;
    let Some(body) = source.response.body() else {
        return Ok(bytes);
    };
    let reader: web_sys::ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| network(&source.url, "the body cannot be read"))?;
    loop {
        let chunk: Object = JsFuture::from(reader.read())
            .await
            .map_err(|e| network(&source.url, &describe(&e)))?
            .unchecked_into();
        let done = Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        let value = Reflect::get(&chunk, &"value".into())
            .map_err(|_| network(&source.url, "a chunk without data"))?;
        let value: Uint8Array = value
            .dyn_into()
            .map_err(|_| network(&source.url, "a chunk that is not bytes"))?;
        let at = bytes.len();
        bytes.resize(at + value.length() as usize, 0);
        value.copy_to(&mut bytes[at..]);
        *loaded += value.length() as u64;
        // Cache Storage hands out small chunks (thousands for the model):
        // one callback each made the progress events cost more than the read.
        if *loaded - reported >= PROGRESS_STEP_BYTES {
            report(*loaded);
            reported = *loaded;
        }
    }
    if reported != *loaded {
        report(*loaded);
    }
    if let Some(expected) = expected {
        if bytes.len() as u64 != expected {
            return Err(network(
                &source.url,
                &format!(
                    "the download stopped at {} of {expected} bytes",
                    bytes.len()
                ),
            ));
        }
    }
    Ok(bytes)
}

/// Keeps a downloaded file in the cache. Failure (storage full, private
/// mode) is not fatal: the engine works, only the next visit downloads again.
async fn store(cache: &Cache, url: &str, bytes: &[u8]) {
    let body = Uint8Array::from(bytes);
    // The length goes with the copy so that progress has a total offline too.
    let Ok(headers) = web_sys::Headers::new() else {
        return;
    };
    let _ = headers.set("content-length", &bytes.len().to_string());
    let init = web_sys::ResponseInit::new();
    init.set_headers(&headers);
    let Ok(response) = Response::new_with_opt_buffer_source_and_init(Some(&body), &init) else {
        return;
    };
    if let Err(e) = JsFuture::from(cache.put_with_str(url, &response)).await {
        web_sys::console::warn_1(&format!("xling: could not cache {url}: {}", describe(&e)).into());
    }
}

fn network(url: &str, why: &str) -> WasmError {
    WasmError::Network(format!("cannot download {url}: {why}"))
}

/// A thrown JavaScript value as text.
pub fn describe(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}
