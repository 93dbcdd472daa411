//! `xling bench native`: the native half of the browser benchmark
//! (`cargo xtask bench web`).
//!
//! The browser script writes the passages and queries it gives the WASM
//! engine to JSON files and runs this command on the same files, so both
//! sides index the same documents with the same default [`IndexConfig`] and
//! language prior, and answer the same queries in the same modes. Thread
//! count and weight format are explicit so that the comparison is fair: the
//! browser's engine runs on one thread with Q4_0 weights.

use super::common::percentile;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use xling_index::{Document, Index, IndexConfig, LanguagePrior, SearchMode, SearchOptions};
use xling_model::{Embedder, ModelFiles, WeightFormat};

/// Arguments of `xling bench native`.
#[derive(clap::Args, Clone)]
pub struct Args {
    /// Model directory holding model.gguf, tokenizer.json and language-prior.bin.
    #[arg(long, default_value = crate::DEFAULT_MODEL_DIR)]
    model: PathBuf,
    /// How layer weights are held: q4_0 (as in the browser) or f32.
    #[arg(long, default_value = "q4_0")]
    weights: WeightFormat,
    /// JSON array of documents ({"id","text","title"?,"lang"?}); repeat the
    /// option for several sets. Each set gets a fresh index; the queries run
    /// against the last one.
    #[arg(long = "passages", required = true)]
    passages: Vec<PathBuf>,
    /// JSON array of queries: strings, or objects with a "query" field.
    #[arg(long)]
    queries: PathBuf,
    /// Threads for all the work (1: comparable with the single-threaded
    /// browser engine; 0: every core).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Also write the figures as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// One query of the queries file: the browser script writes objects (with
/// the language, for reading the file), a hand-written file may be strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum QueryEntry {
    Text(String),
    Object { query: String },
}

impl QueryEntry {
    fn into_text(self) -> String {
        match self {
            QueryEntry::Text(q) | QueryEntry::Object { query: q } => q,
        }
    }
}

/// Indexing figures of one passages file.
#[derive(Serialize, Debug)]
struct SetReport {
    file: String,
    documents: usize,
    passages: usize,
    /// `add_documents` alone (chunking, embedding, indexing).
    seconds: f64,
    passages_per_second: f64,
    /// Size of the index as a snapshot (`Index::to_bytes`), and the time
    /// to make it: the browser saves one after every add, this does not
    /// count in `seconds`.
    snapshot_bytes: usize,
    snapshot_ms: f64,
}

/// Per-query latency of one search mode, embedding included.
#[derive(Serialize, Debug)]
struct Latency {
    queries: usize,
    median_ms: f64,
    p95_ms: f64,
    mean_ms: f64,
}

#[derive(Serialize, Debug)]
struct QueryReport {
    semantic: Latency,
    hybrid: Latency,
}

#[derive(Serialize, Debug)]
struct Report {
    threads: usize,
    weights: String,
    model_load_ms: f64,
    sets: Vec<SetReport>,
    queries: QueryReport,
    /// Peak resident memory of this process (VmHWM), None off Linux.
    peak_rss_mb: Option<f64>,
    /// Snapshot size of the last (queried) index.
    snapshot_bytes: usize,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    // Every rayon job (our kernels, candle's and gemm's parallel loops) runs
    // in this pool, so `--threads 1` really is one thread.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
        .context("cannot start the thread pool")?;
    let threads = pool.current_num_threads();
    let report = pool.install(|| measure(&args, threads))?;
    print_summary(&report);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("xling bench native: wrote {}", path.display());
    }
    Ok(())
}

fn measure(args: &Args, threads: usize) -> anyhow::Result<Report> {
    // Inputs first, so that a bad file fails before minutes of indexing.
    let mut sets = Vec::with_capacity(args.passages.len());
    for path in &args.passages {
        sets.push((path, read_documents(path)?));
    }
    let queries = read_queries(&args.queries)?;

    eprintln!(
        "xling bench native: loading {} ({} weights, {threads} thread(s))",
        args.model.display(),
        weights_name(args.weights)
    );
    let start = Instant::now();
    let files = ModelFiles::read_dir(&args.model)
        .with_context(|| format!("cannot read the model in {}", args.model.display()))?;
    let embedder = Embedder::load_with(&files, args.weights).context("cannot load the model")?;
    let model_load_ms = start.elapsed().as_secs_f64() * 1e3;
    let prior = LanguagePrior::read_model_dir(&args.model)?;
    if prior.is_none() {
        eprintln!(
            "xling bench native: no language prior in {} (the browser loads one if it is there)",
            args.model.display()
        );
    }

    let mut reports = Vec::new();
    let mut last = None;
    for (path, docs) in sets {
        let (index, report) = index_set(&embedder, prior.as_ref(), path, docs)?;
        reports.push(report);
        last = Some(index);
    }
    let index = last.context("no --passages file given")?;
    let snapshot_bytes = reports.last().map_or(0, |r| r.snapshot_bytes);

    let semantic = time_queries(&index, &embedder, &queries, SearchMode::Dense)?;
    let hybrid = time_queries(&index, &embedder, &queries, SearchMode::Hybrid)?;
    Ok(Report {
        threads,
        weights: weights_name(args.weights).to_owned(),
        model_load_ms,
        sets: reports,
        queries: QueryReport { semantic, hybrid },
        peak_rss_mb: peak_rss_mb(),
        snapshot_bytes,
    })
}

/// Builds a fresh index of `docs` as the browser's engine does (default
/// config, the model's language prior) and times `add_documents`.
fn index_set(
    embedder: &Embedder,
    prior: Option<&LanguagePrior>,
    path: &Path,
    docs: Vec<Document>,
) -> anyhow::Result<(Index, SetReport)> {
    let mut index = Index::for_model(embedder, IndexConfig::default());
    if let Some(prior) = prior {
        index.set_language_prior(prior.clone())?;
    }
    let documents = docs.len();
    let name = path.display().to_string();
    eprintln!("xling bench native: indexing {documents} documents of {name}…");
    let start = Instant::now();
    let mut next_report = 0.1;
    let report = index
        .add_documents(embedder, docs, |done, total| {
            // A line per tenth: indexing 10k passages on one thread takes minutes.
            if total > 0 && done as f64 >= next_report * total as f64 {
                let secs = start.elapsed().as_secs_f64();
                eprintln!(
                    "xling bench native:   {done}/{total} passages, {:.1}/s",
                    done as f64 / secs.max(1e-9)
                );
                next_report += 0.1;
            }
        })
        .with_context(|| format!("cannot index {name}"))?;
    let seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let snapshot_bytes = index.to_bytes()?.len();
    let snapshot_ms = start.elapsed().as_secs_f64() * 1e3;
    let set = SetReport {
        file: name,
        documents,
        passages: report.passages,
        seconds,
        passages_per_second: report.passages as f64 / seconds.max(1e-9),
        snapshot_bytes,
        snapshot_ms,
    };
    eprintln!(
        "xling bench native: {} passages in {:.1} s ({:.1} passages/s)",
        set.passages, set.seconds, set.passages_per_second
    );
    Ok((index, set))
}

/// One warm-up pass over the queries, then one measured pass, each query
/// timed alone from text to hits (as the browser measures it).
fn time_queries(
    index: &Index,
    embedder: &Embedder,
    queries: &[String],
    mode: SearchMode,
) -> anyhow::Result<Latency> {
    let options = SearchOptions {
        mode,
        k: 10,
        ..Default::default()
    };
    for q in queries {
        index
            .search(embedder, q, &options)
            .with_context(|| format!("search failed for {q:?}"))?;
    }
    let mut ms = Vec::with_capacity(queries.len());
    for q in queries {
        let start = Instant::now();
        index
            .search(embedder, q, &options)
            .with_context(|| format!("search failed for {q:?}"))?;
        ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(Latency {
        queries: ms.len(),
        median_ms: percentile(&ms, 0.5),
        p95_ms: percentile(&ms, 0.95),
        mean_ms: ms.iter().sum::<f64>() / ms.len().max(1) as f64,
    })
}

pub(super) fn read_documents(path: &Path) -> anyhow::Result<Vec<Document>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let docs: Vec<Document> = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{} is not a JSON array of {{\"id\", \"text\", \"title\"?, \"lang\"?}} documents",
            path.display()
        )
    })?;
    if docs.is_empty() {
        bail!("{} holds no documents", path.display());
    }
    Ok(docs)
}

fn read_queries(path: &Path) -> anyhow::Result<Vec<String>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let entries: Vec<QueryEntry> = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{} is not a JSON array of strings or {{\"query\"}} objects",
            path.display()
        )
    })?;
    let queries: Vec<String> = entries.into_iter().map(QueryEntry::into_text).collect();
    if queries.is_empty() {
        bail!("{} holds no queries", path.display());
    }
    Ok(queries)
}

fn weights_name(format: WeightFormat) -> &'static str {
    match format {
        WeightFormat::F32 => "f32",
        WeightFormat::Q4_0 => "q4_0",
    }
}

/// The process's peak resident set (VmHWM) in MB, where /proc has it.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm_kb(&status).map(|kb| kb as f64 * 1024.0 / 1e6)
}

fn parse_vm_hwm_kb(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn print_summary(r: &Report) {
    println!(
        "native xling, {} thread(s), {} weights: model load {:.0} ms",
        r.threads, r.weights, r.model_load_ms
    );
    for s in &r.sets {
        println!(
            "  {}: {} documents, {} passages in {:.1} s: {:.1} passages/s (snapshot {:.1} MB)",
            s.file,
            s.documents,
            s.passages,
            s.seconds,
            s.passages_per_second,
            s.snapshot_bytes as f64 / 1e6
        );
    }
    for (name, l) in [
        ("semantic", &r.queries.semantic),
        ("hybrid", &r.queries.hybrid),
    ] {
        println!(
            "  {name} query: median {:.2} ms, p95 {:.2} ms ({} queries)",
            l.median_ms, l.p95_ms, l.queries
        );
    }
    match r.peak_rss_mb {
        Some(mb) => println!("  peak resident memory: {mb:.0} MB"),
        None => println!("  peak resident memory: unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_strings_or_objects() {
        let entries: Vec<QueryEntry> =
            serde_json::from_str(r#"["a", {"query": "b", "lang": "de"}]"#).unwrap();
        let texts: Vec<String> = entries.into_iter().map(QueryEntry::into_text).collect();
        assert_eq!(texts, ["a", "b"]);
    }

    #[test]
    fn vm_hwm_is_read_in_kb() {
        let status = "Name:\txling\nVmPeak:\t  900 kB\nVmHWM:\t  123456 kB\nVmRSS:\t 1 kB\n";
        assert_eq!(parse_vm_hwm_kb(status), Some(123_456));
        assert_eq!(parse_vm_hwm_kb("Name:\txling\n"), None);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 51.0);
        assert_eq!(percentile(&v, 0.95), 95.0);
        assert!(percentile(&[], 0.5).is_nan());
    }

    #[test]
    fn documents_deserialize_from_the_browser_files() {
        let docs: Vec<Document> = serde_json::from_str(
            r#"[{"id": "t1", "text": "Hallo."}, {"id": "x", "title": "T", "text": "y", "lang": "de"}]"#,
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].lang.as_deref(), Some("de"));
    }
}
