//! `xling bench encode`: xling against the reference engine on the same texts,
//! the same thread counts, in one run, reported as ratios.
//!
//! Each thread count runs in a child process of this binary, because both
//! engines fix their thread pools when first used (OpenMP reads
//! `OMP_NUM_THREADS`, candle reads `RAYON_NUM_THREADS`/`CANDLE_NUM_THREADS`).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use xling_model::{Embedder, ModelFiles, Prefix, WeightFormat};

use xling_cli::reference::Reference;

use super::common::{percentile, BenchTexts, EncodeArgs};

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

/// `xling bench encode --device cpu`: one worker process per thread count.
pub fn run(mut args: EncodeArgs) -> anyhow::Result<()> {
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
