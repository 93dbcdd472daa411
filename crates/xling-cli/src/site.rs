//! `xling site`: a built static site's HTML → its search, as static files
//! under `SITE/xling/` (`docs/site.md`). The extraction, URLs, documents and
//! output format are `xling_site`'s; this file runs the stages and reports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use xling_index::lang::{detect_language, normalize_language};
use xling_index::languages::TEXT_SURE;
use xling_index::{Index, IndexConfig, LanguagePrior};
use xling_model::model::{COMPACT_TOKENIZER_FILE, MODEL_FILE};
use xling_model::Prefix;
use xling_site::{
    decode_html, documents, gzip, site_files, static_files, write_output, DataFile, EmbeddingCache,
    Entry, ExtractConfig, Extractor, SitePage, Skipped, Totals, TranslationGroups, DEFAULT_GLOB,
};

/// Pages larger than this are left out (reported): HTML parsing is
/// superlinear on pathological nesting, and no real page is this large.
pub const MAX_PAGE_BYTES: u64 = 8 << 20;
/// The site model's default piece limit for `languages` languages: a site
/// model is downloaded by every visitor, so it keeps fewer query-side pieces
/// than `xling prune`'s default.
pub fn default_max_pieces(languages: usize) -> usize {
    50_000.max(15_000 * languages)
}

/// Passages embedded per batch (progress is reported per batch).
const EMBED_BATCH: usize = 64;

/// Arguments of `xling site`.
#[derive(clap::Args)]
pub struct Args {
    /// The built site (the folder a static host serves).
    #[arg(long)]
    site: PathBuf,
    /// Folder inside the site to write the search into.
    #[arg(long, default_value = "xling")]
    output_subdir: String,
    /// Pages to index, relative to the site.
    #[arg(long, default_value = DEFAULT_GLOB)]
    glob: String,
    /// CSS selector of each page's content (default: `[data-xling-body]` or
    /// `[data-pagefind-body]` where a page has it, else `<main>`, else `<body>`).
    #[arg(long)]
    root_selector: Option<String>,
    /// More CSS selectors to leave out (comma-separated), beside nav, header,
    /// footer, aside, scripts and `data-xling-ignore`.
    #[arg(long, value_delimiter = ',')]
    exclude_selectors: Vec<String>,
    /// Index only pages in these languages (comma-separated codes).
    #[arg(long, value_delimiter = ',')]
    languages: Vec<String>,
    /// The full model directory (the site's model is pruned from it).
    #[arg(long, default_value = crate::DEFAULT_MODEL_DIR)]
    model: PathBuf,
    /// Most vocabulary pieces the site's model keeps (default: 15,000 per
    /// language, at least 50,000: about 24 MB for three languages).
    #[arg(long)]
    max_pieces: Option<usize>,
    /// Where embeddings of earlier builds are kept (default ~/.cache/xling/site).
    #[arg(long)]
    cache: Option<PathBuf>,
    /// The engine package (`xling-wasm.js` and `xling-wasm_bg.wasm`, built
    /// by `cargo xtask setup` into the repository's `pkg/`).
    #[arg(long, default_value = DEFAULT_ENGINE_DIR)]
    engine: PathBuf,
}

/// The repository's `pkg/`, where setup builds the engine.
const DEFAULT_ENGINE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../pkg");
/// The engine package's files.
const ENGINE_JS: &str = "xling-wasm.js";
const ENGINE_WASM: &str = "xling-wasm_bg.wasm";

pub fn run(args: Args) -> anyhow::Result<()> {
    let start = Instant::now();
    if args.output_subdir.contains(['/', '\\']) || args.output_subdir.starts_with('.') {
        bail!(
            "--output-subdir must be one folder name, not {:?}",
            args.output_subdir
        );
    }
    let out = args.site.join(&args.output_subdir);
    let engine_js = read(&args.engine.join(ENGINE_JS))
        .context("the engine is missing: run `cargo xtask setup` or pass --engine DIR")?;
    let engine_wasm = read(&args.engine.join(ENGINE_WASM))
        .context("the engine is missing: run `cargo xtask setup` or pass --engine DIR")?;
    let extractor = Extractor::new(&ExtractConfig {
        root_selector: args.root_selector.clone(),
        exclude_selectors: args.exclude_selectors.clone(),
    })?;
    let (files, mut skipped) = site_files(&args.site, &args.glob, Some(&out))?;
    if files.is_empty() {
        bail!(
            "no pages matching {:?} in {}: is this the built site (the folder your host serves)?",
            args.glob,
            args.site.display()
        );
    }
    let pages = read_pages(&extractor, files, &mut skipped)?;
    let wanted: Vec<String> = args
        .languages
        .iter()
        .map(|l| {
            normalize_language(l)
                .with_context(|| format!("--languages: {l:?} is not a language code"))
        })
        .collect::<anyhow::Result<_>>()?;
    let pages = choose_pages(pages, &wanted, &mut skipped);
    for s in &skipped {
        eprintln!("xling site: left out {}: {}", s.path.display(), s.reason);
    }
    if pages.is_empty() {
        bail!("no page of {} has text to index", args.site.display());
    }
    let languages = site_languages(&pages);
    let groups = TranslationGroups::of(&pages);
    let docs = documents(&pages);
    eprintln!(
        "xling site: {} pages ({} translation groups), {} sections, languages {}",
        pages.len(),
        groups.translated(),
        docs.len(),
        languages.keys().cloned().collect::<Vec<_>>().join(",")
    );
    let codes = pruning_languages(&languages);
    // Built outside the site so a failed build leaves nothing a host would publish.
    let scratch = ScratchDir::new(format!("xling-site-model-{}", std::process::id()));
    let model_dir = scratch.0.clone();
    let (pruned, selection, prior) = crate::prune::prune_dir(&crate::prune::PruneDir {
        model: &args.model,
        out: &model_dir,
        languages: &codes,
        corpus: Some(&docs),
        max_pieces: Some(
            args.max_pieces
                .unwrap_or_else(|| default_max_pieces(codes.len())),
        ),
        samples: None,
        prior_data: None,
    })
    .context("cannot prune the model to the site's languages and text")?;
    crate::prune::report(&model_dir, &pruned, &selection, prior.as_ref());
    let parent = xling_model::model::gguf::read_model_config(
        &std::fs::read(args.model.join(MODEL_FILE))
            .with_context(|| format!("cannot read {}", args.model.join(MODEL_FILE).display()))?,
    )?;
    let index = build_index(
        &model_dir,
        docs,
        &parent.fingerprint(),
        args.cache.as_deref(),
    )?;
    let statics = static_files(&pages, &groups)?;
    let mut data = vec![
        // Gzipped where it pays (the runtime inflates anything that starts
        // with the gzip magic); the Q4_0 model gains 7 %, not worth an
        // inflate on every load.
        DataFile::new(Some("index"), "index", "xli", gzip(&index.to_bytes()?)?),
        DataFile::new(
            Some("model"),
            "model",
            "gguf",
            read(&model_dir.join(MODEL_FILE))?,
        ),
        DataFile::new(
            Some("tokenizer"),
            "tokenizer",
            "xlt",
            gzip(&read(&model_dir.join(COMPACT_TOKENIZER_FILE))?)?,
        ),
        DataFile::new(
            Some("prior"),
            "language-prior",
            "bin",
            read(&model_dir.join(xling_index::PRIOR_FILE))?,
        ),
        DataFile::new(Some("engine_js"), "engine", "js", engine_js),
        DataFile::new(Some("engine_wasm"), "engine", "wasm", gzip(&engine_wasm)?),
    ];
    data.extend(statics.files);
    let stats = index.stats();
    let entry = Entry {
        format: xling_site::output::FORMAT,
        version: xling_site::output::FORMAT_VERSION,
        generator: format!("xling {}", env!("CARGO_PKG_VERSION")),
        site_root: "../".into(),
        pages: pages.len(),
        sections: stats.documents,
        languages,
        files: BTreeMap::new(),
        bytes: BTreeMap::new(),
        keyword: statics.keyword,
        fragments: statics.fragments,
        totals: Totals::default(),
    };
    eprintln!(
        "xling site: keyword index of {} terms, {} postings in {} shards; {} fragment bundles",
        statics.terms,
        statics.postings,
        entry.keyword.shards.len(),
        entry.fragments.len()
    );
    let runtime: Vec<(&str, &[u8])> = xling_site::runtime::RUNTIME_FILES
        .iter()
        .map(|(name, text)| (*name, text.as_bytes()))
        .collect();
    let entry_path = write_output(&out, data, &runtime, entry)?;
    drop(scratch);
    let seconds = start.elapsed().as_secs_f64();
    eprintln!(
        "xling site: wrote {} ({} passages) in {seconds:.1} s, {:.1} pages/s",
        entry_path.display(),
        stats.passages,
        pages.len() as f64 / seconds.max(1e-9)
    );
    Ok(())
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn read_pages(
    extractor: &Extractor,
    files: Vec<xling_site::SiteFile>,
    skipped: &mut Vec<Skipped>,
) -> anyhow::Result<Vec<SitePage>> {
    let bar = ProgressBar::new(files.len() as u64).with_style(
        ProgressStyle::with_template(
            "{spinner} reading [{bar:30}] {pos}/{len} pages, {per_sec}, ETA {eta}",
        )?
        .progress_chars("=> "),
    );
    let results: Vec<Result<SitePage, Skipped>> = files
        .into_par_iter()
        .map(|f| {
            // Every file counts, skipped or read, so the bar reaches its end.
            bar.inc(1);
            let skip = |reason: String| Skipped {
                path: PathBuf::from(&f.url),
                reason,
            };
            let size = std::fs::metadata(&f.path)
                .map_err(|e| skip(format!("cannot read: {e}")))?
                .len();
            if size > MAX_PAGE_BYTES {
                return Err(skip(format!(
                    "{size} bytes, over the {MAX_PAGE_BYTES}-byte page limit"
                )));
            }
            let bytes = std::fs::read(&f.path).map_err(|e| skip(format!("cannot read: {e}")))?;
            let (html, _) = decode_html(&bytes);
            let page = extractor.extract(&html);
            Ok(SitePage { url: f.url, page })
        })
        .collect();
    bar.finish_and_clear();
    let mut pages = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(p) => pages.push(p),
            Err(s) => skipped.push(s),
        }
    }
    Ok(pages)
}

/// The pages to index: with content; only marked ones once any page is
/// marked (as Pagefind does); languages normalised (detected from the text
/// when the page declares none); only `wanted` languages if given.
fn choose_pages(
    pages: Vec<SitePage>,
    wanted: &[String],
    skipped: &mut Vec<Skipped>,
) -> Vec<SitePage> {
    let any_marked = pages.iter().any(|p| p.page.marked);
    let mut kept = Vec::with_capacity(pages.len());
    for mut p in pages {
        let mut skip = |reason: &str| {
            skipped.push(Skipped {
                path: PathBuf::from(&p.url),
                reason: reason.to_string(),
            })
        };
        if any_marked && !p.page.marked {
            skip("no data-xling-body / data-pagefind-body (other pages have one)");
            continue;
        }
        if p.page.sections.is_empty() {
            skip("no text in its content");
            continue;
        }
        p.page.lang = p
            .page
            .lang
            .as_deref()
            .and_then(normalize_language)
            .or_else(|| {
                let detected = detect_language(&p.page.text());
                (detected.confidence >= TEXT_SURE
                    && detected.code != xling_index::lang::UNDETERMINED)
                    .then(|| detected.code.to_string())
            });
        if !wanted.is_empty() && !p.page.lang.as_ref().is_some_and(|l| wanted.contains(l)) {
            let reason = format!(
                "language {} not in --languages",
                p.page.lang.as_deref().unwrap_or("unknown")
            );
            skipped.push(Skipped {
                path: PathBuf::from(&p.url),
                reason,
            });
            continue;
        }
        kept.push(p);
    }
    kept
}

/// Pages per language (pages of unknown language are not counted).
fn site_languages(pages: &[SitePage]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for p in pages {
        if let Some(l) = &p.page.lang {
            *out.entry(l.clone()).or_default() += 1;
        }
    }
    out
}

/// The site's languages the pruner has script tables for. Pages in other
/// languages stay in the index (their text's pieces are always kept, so
/// keyword search and their own embeddings are exact); only the general
/// pieces of their scripts that visitors may type are not added. With no
/// known language at all, English pieces are kept for typed queries.
fn pruning_languages(languages: &BTreeMap<String, usize>) -> Vec<String> {
    let (known, unknown): (Vec<String>, Vec<String>) = languages
        .keys()
        .cloned()
        .partition(|code| xling_index::prune::parse_languages(std::slice::from_ref(code)).is_ok());
    for code in &unknown {
        let n = languages[code];
        eprintln!(
            "xling site: {code:?} ({n} page{}) is a language xling has no script table for: its \
             pages are indexed with their own text's pieces; queries typed in it are understood \
             as far as the model knows it",
            if n == 1 { "" } else { "s" }
        );
    }
    if known.is_empty() {
        eprintln!(
            "xling site: no page in a language xling knows; keeping English pieces for queries"
        );
        return vec!["en".to_string()];
    }
    known
}

/// A folder under the system's temporary directory, emptied when created
/// and removed when dropped, so a failed build leaves no pruned model behind.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(name: String) -> Self {
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&path);
        Self(path)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The index of `docs` with the pruned model in `model_dir`, reusing the
/// embeddings cached for `parent` (the full model) by earlier builds.
fn build_index(
    model_dir: &Path,
    docs: Vec<xling_index::Document>,
    parent: &[u8; 32],
    cache_dir: Option<&Path>,
) -> anyhow::Result<Index> {
    let model = crate::ModelArgs {
        model: model_dir.to_path_buf(),
        weights: xling_model::WeightFormat::default(),
        device: xling_gpu::Device::Cpu,
    };
    let (embedder, name) = model.load_named()?;
    let mut index = Index::for_model(&embedder, IndexConfig::default());
    index.set_model_name(name);
    if let Some(prior) = LanguagePrior::read_model_dir(model_dir)? {
        index.set_language_prior(prior)?;
    }
    let cache_dir = match cache_dir {
        Some(d) => d.to_path_buf(),
        None => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(".cache/xling/site"),
    };
    let dim = embedder.dim();
    let mut cache = EmbeddingCache::open(&cache_dir, parent, dim)?;
    let mut pending = index.prepare_add(embedder.tokenizer(), docs)?;
    let total = pending.total();
    let bar = ProgressBar::new(total as u64).with_style(
        ProgressStyle::with_template(
            "{spinner} embedding [{bar:30}] {pos}/{len} passages, {per_sec}, ETA {eta}",
        )?
        .progress_chars("=> "),
    );
    let (mut reused, start) = (0usize, Instant::now());
    while !pending.is_embedded() {
        let texts: Vec<String> = pending.next_texts(EMBED_BATCH).to_vec();
        let missing: Vec<&str> = texts
            .iter()
            .filter(|t| cache.get(t).is_none())
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            let vectors = embedder.embed(&missing, Prefix::Passage)?;
            for (t, v) in missing.iter().zip(&vectors) {
                cache.put(t, v);
            }
        }
        reused += texts.len() - missing.len();
        let vectors: Vec<Vec<f32>> = texts
            .iter()
            .map(|t| {
                cache
                    .get(t)
                    .map(<[f32]>::to_vec)
                    .context("embedding missing from the cache")
            })
            .collect::<anyhow::Result<_>>()?;
        pending.accept(vectors)?;
        bar.set_position(pending.embedded() as u64);
    }
    bar.finish_and_clear();
    cache.save()?;
    let seconds = start.elapsed().as_secs_f64();
    index.commit_add(embedder.tokenizer(), pending)?;
    eprintln!(
        "xling site: embedded {} passages in {seconds:.1} s ({reused} from the cache of earlier builds)",
        total - reused
    );
    Ok(index)
}
