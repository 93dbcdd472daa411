//! `xling bench memory`: where the engine's memory goes, natively.
//!
//! Loads the model as the browser does (Q4_0 weights by default, the files
//! freed as they are read), then optionally indexes documents, and prints
//! the engine's own breakdown ([`MemoryUsage`]: token embeddings, layers,
//! tokenizer, prior, index parts) next to the process's resident memory
//! (`/proc/self/status`). The difference is the binary and its libraries,
//! allocator slack (freed pages the allocator keeps), and transient peaks.
//! `cargo xtask bench memory` runs it with the other native measurements.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;
use xling_index::memory::MemoryUsage;
use xling_index::{Index, IndexConfig, LanguagePrior};
use xling_model::{Embedder, ModelFiles, WeightFormat};

/// Documents per `add_documents` call, as the browser benchmark adds them.
const ADD_CHUNK: usize = 1000;

/// Arguments of `xling bench memory`.
#[derive(clap::Args, Clone)]
pub struct Args {
    /// Model directory holding model.gguf, tokenizer.json and language-prior.bin.
    #[arg(long, default_value = crate::DEFAULT_MODEL_DIR)]
    model: PathBuf,
    /// How layer weights are held: q4_0 (as in the browser) or f32.
    #[arg(long, default_value = "q4_0")]
    weights: WeightFormat,
    /// JSON array of documents ({"id","text","title"?,"lang"?}) to index after
    /// the load; without it only the load is measured.
    #[arg(long)]
    passages: Option<PathBuf>,
    /// Also write the figures as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Resident memory of this process, from `/proc/self/status` (None off Linux).
#[derive(Serialize, Debug, Clone, Copy)]
struct Rss {
    /// VmRSS: resident now, in bytes.
    rss_bytes: Option<u64>,
    /// VmHWM: the peak so far, in bytes.
    peak_rss_bytes: Option<u64>,
}

impl Rss {
    fn now() -> Self {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        Self {
            rss_bytes: status_kb(&status, "VmRSS:").map(|kb| kb * 1024),
            peak_rss_bytes: status_kb(&status, "VmHWM:").map(|kb| kb * 1024),
        }
    }
}

/// A `Name:  123 kB` field of `/proc/self/status`.
fn status_kb(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The figures at one point of the run.
#[derive(Serialize, Debug)]
struct Point {
    label: String,
    rss: Rss,
    usage: MemoryUsage,
    /// `usage.total()`, for readers of the JSON.
    counted_bytes: usize,
    /// RSS minus the start-up RSS minus what the breakdown counts.
    unaccounted_bytes: Option<i64>,
}

#[derive(Serialize, Debug)]
struct Report {
    weights: String,
    model_load_ms: f64,
    /// Resident memory before the model is read (binary, libraries, runtime).
    start: Rss,
    points: Vec<Point>,
    documents: usize,
    passages: usize,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let docs = match &args.passages {
        Some(path) => super::native::read_documents(path)?,
        None => Vec::new(),
    };
    let start = Rss::now();
    let timer = Instant::now();
    let files = ModelFiles::read_dir(&args.model)
        .with_context(|| format!("cannot read the model in {}", args.model.display()))?;
    let embedder = Embedder::load_owned(files, args.weights).context("cannot load the model")?;
    let model_load_ms = timer.elapsed().as_secs_f64() * 1e3;
    let prior = LanguagePrior::read_model_dir(&args.model)?;
    let mut index = Index::for_model(&embedder, IndexConfig::default());
    if let Some(prior) = &prior {
        index.set_language_prior(prior.clone())?;
    }
    let mut points = vec![point("after load", &embedder, &index, start)];
    let documents = docs.len();
    let mut passages = 0;
    if !docs.is_empty() {
        eprintln!("xling bench memory: indexing {documents} documents…");
        let mut docs = docs.into_iter().peekable();
        while docs.peek().is_some() {
            let chunk: Vec<_> = docs.by_ref().take(ADD_CHUNK).collect();
            passages += index.add_documents(&embedder, chunk, |_, _| {})?.passages;
        }
        points.push(point(
            &format!("after {documents} documents"),
            &embedder,
            &index,
            start,
        ));
    }
    let report = Report {
        weights: match args.weights {
            WeightFormat::F32 => "f32",
            WeightFormat::Q4_0 => "q4_0",
        }
        .to_owned(),
        model_load_ms,
        start,
        points,
        documents,
        passages,
    };
    print_report(&report);
    if let Some(path) = &args.json {
        write_json(path, &report)?;
    }
    Ok(())
}

fn point(label: &str, embedder: &Embedder, index: &Index, start: Rss) -> Point {
    let usage = MemoryUsage::of(embedder, index, None);
    let rss = Rss::now();
    let counted = usage.total();
    let unaccounted = match (rss.rss_bytes, start.rss_bytes) {
        (Some(now), Some(base)) => Some(now as i64 - base as i64 - counted as i64),
        _ => None,
    };
    Point {
        label: label.to_owned(),
        rss,
        usage,
        counted_bytes: counted,
        unaccounted_bytes: unaccounted,
    }
}

fn mb(bytes: impl Into<f64>) -> String {
    format!("{:.1}", bytes.into() / 1e6)
}

fn opt_mb(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "–".to_owned(), |b| mb(b as f64))
}

fn print_report(r: &Report) {
    println!(
        "native engine memory, {} weights (model load {:.0} ms); MB",
        r.weights, r.model_load_ms
    );
    let header: Vec<String> = r.points.iter().map(|p| p.label.clone()).collect();
    let width = header.iter().map(String::len).max().unwrap_or(8);
    let row = |name: &str, values: Vec<String>| {
        let cells: Vec<String> = values.iter().map(|v| format!("{v:>width$}")).collect();
        println!("{name:<22} {}", cells.join("   "));
    };
    row("", header);
    for (i, (name, _)) in r.points[0].usage.parts().iter().enumerate() {
        row(
            name,
            r.points
                .iter()
                .map(|p| mb(p.usage.parts()[i].1 as f64))
                .collect(),
        );
    }
    row(
        "counted",
        r.points
            .iter()
            .map(|p| mb(p.counted_bytes as f64))
            .collect(),
    );
    row(
        "RSS at start",
        r.points.iter().map(|_| opt_mb(r.start.rss_bytes)).collect(),
    );
    row(
        "RSS now",
        r.points.iter().map(|p| opt_mb(p.rss.rss_bytes)).collect(),
    );
    row(
        "unaccounted",
        r.points
            .iter()
            .map(|p| {
                p.unaccounted_bytes
                    .map_or_else(|| "–".into(), |b| mb(b as f64))
            })
            .collect(),
    );
    row(
        "peak RSS (VmHWM)",
        r.points
            .iter()
            .map(|p| opt_mb(p.rss.peak_rss_bytes))
            .collect(),
    );
    println!(
        "unaccounted = RSS now − RSS at start − counted: allocator slack, freed pages kept, \
         transient buffers, estimate error (the tokenizer is an estimate)."
    );
}

fn write_json(path: &Path, report: &Report) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_vec_pretty(report)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("xling bench memory: wrote {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_are_read_in_kb() {
        let status = "Name:\txling\nVmHWM:\t  123456 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(status_kb(status, "VmHWM:"), Some(123_456));
        assert_eq!(status_kb(status, "VmRSS:"), Some(1000));
        assert_eq!(status_kb(status, "VmSwap:"), None);
    }

    #[test]
    fn rss_is_measured_on_linux() {
        let rss = Rss::now();
        if cfg!(target_os = "linux") {
            let (now, peak) = (rss.rss_bytes.unwrap_or(0), rss.peak_rss_bytes.unwrap_or(0));
            assert!(now > 0 && peak >= now);
        }
    }
}
