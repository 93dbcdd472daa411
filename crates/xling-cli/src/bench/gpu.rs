//! `xling bench encode --device gpu`: the GPU encoder against xling's CPU
//! encoder (all threads, f32 weights) on the same windows, by batch size and
//! window length, in one run. Every GPU result is also checked against the
//! CPU's (cosine), so a fast wrong kernel cannot look good.

use std::time::Instant;

use anyhow::{bail, Context};
use serde::Serialize;
use xling_gpu::AnyEncoder;
use xling_model::{Embedder, ModelFiles, Prefix, WeightFormat, WindowEncoder};

use super::common::{percentile, BenchTexts, EncodeArgs};

/// One (batch, length) cell.
#[derive(Serialize, Debug)]
struct Cell {
    batch: usize,
    length: usize,
    gpu_ms: f64,
    cpu_ms: f64,
    gpu_tokens_per_s: f64,
    cpu_tokens_per_s: f64,
    /// GPU throughput over CPU throughput.
    speedup: f64,
    min_cosine: f64,
    runs: usize,
}

#[derive(Serialize, Debug)]
struct QueryLatency {
    gpu_median_ms: f64,
    gpu_p95_ms: f64,
    cpu_median_ms: f64,
    cpu_p95_ms: f64,
}

pub fn run(args: &EncodeArgs) -> anyhow::Result<()> {
    let (batches, lengths, queries) = if args.quick {
        (vec![1, 4], vec![16, 64], args.queries.min(6))
    } else {
        (args.batches.clone(), args.lengths.clone(), args.queries)
    };
    let files = ModelFiles::read_dir(&args.model)?;
    let cpu = Embedder::load_with(&files, WeightFormat::F32)?;
    let (gpu, report) = xling_gpu::load_embedder(files, args.device, WeightFormat::F32)?;
    eprintln!("xling bench: encoder on {report}");
    let AnyEncoder::Gpu(gpu_encoder) = gpu.encoder() else {
        bail!("no GPU to measure: {report}");
    };
    let max_len = gpu_encoder.config().max_positions;
    if let Some(bad) = lengths.iter().find(|&&l| !(3..=max_len).contains(&l)) {
        bail!("window length {bad} is outside 3..={max_len}");
    }

    // Real multilingual text, cut into windows of exactly each length.
    let texts = BenchTexts::load(&args.data.join("xquad-r"), 2000, queries)?;
    let mut stream = Vec::new();
    for p in &texts.passages {
        stream.extend(cpu.tokenizer().content_ids(p, Prefix::Passage)?);
    }
    let mut cells = Vec::new();
    for &length in &lengths {
        for &batch in &batches {
            let need = batch * (length - 2);
            if stream.len() < need {
                bail!("not enough text for {batch} windows of {length} tokens");
            }
            let windows: Vec<Vec<u32>> = stream[..need]
                .chunks(length - 2)
                .map(|c| cpu.tokenizer().wrap(c))
                .collect();
            let refs: Vec<&[u32]> = windows.iter().map(Vec::as_slice).collect();
            eprintln!("xling bench: batch {batch} × {length} tokens…");
            let (gpu_s, gpu_out, runs) = timed(|| Ok(gpu_encoder.encode_windows(&refs)?))?;
            let (cpu_s, cpu_out, _) = timed(|| Ok(cpu.encoder().encode_windows(&refs)?))?;
            let min_cosine = gpu_out
                .iter()
                .zip(&cpu_out)
                .map(|(a, b)| cosine(a, b))
                .fold(f64::INFINITY, f64::min);
            let tokens = (batch * length) as f64;
            cells.push(Cell {
                batch,
                length,
                gpu_ms: gpu_s * 1e3,
                cpu_ms: cpu_s * 1e3,
                gpu_tokens_per_s: tokens / gpu_s,
                cpu_tokens_per_s: tokens / cpu_s,
                speedup: cpu_s / gpu_s,
                min_cosine,
                runs,
            });
        }
    }
    let latency = query_latency(&cpu, &gpu, &texts.queries)?;
    print_table(&report.to_string(), &cells, &latency);
    if let Some(path) = &args.json {
        let json = serde_json::json!({
            "benchmark": "encode-gpu",
            "backend": report.to_string(),
            "cells": cells,
            "query_latency": latency,
        });
        std::fs::write(path, serde_json::to_vec_pretty(&json)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("xling bench: wrote {}", path.display());
    }
    Ok(())
}

/// Median seconds of `f` after one warm-up call: at least 3 runs, more
/// while under 2 s in total (at most 20).
fn timed<T>(mut f: impl FnMut() -> anyhow::Result<T>) -> anyhow::Result<(f64, T, usize)> {
    let out = f()?;
    let mut times = Vec::new();
    let started = Instant::now();
    while times.len() < 3 || (started.elapsed().as_secs_f64() < 2.0 && times.len() < 20) {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    Ok((percentile(&times, 0.5), out, times.len()))
}

fn query_latency(
    cpu: &Embedder,
    gpu: &crate::CliEmbedder,
    queries: &[String],
) -> anyhow::Result<QueryLatency> {
    let mut gpu_times = Vec::new();
    let mut cpu_times = Vec::new();
    gpu.embed_one("warm up", Prefix::Query)?;
    for q in queries {
        let t = Instant::now();
        gpu.embed_one(q, Prefix::Query)?;
        gpu_times.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        cpu.embed_one(q, Prefix::Query)?;
        cpu_times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(QueryLatency {
        gpu_median_ms: percentile(&gpu_times, 0.5),
        gpu_p95_ms: percentile(&gpu_times, 0.95),
        cpu_median_ms: percentile(&cpu_times, 0.5),
        cpu_p95_ms: percentile(&cpu_times, 0.95),
    })
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb).max(1e-30)
}

fn print_table(backend: &str, cells: &[Cell], latency: &QueryLatency) {
    println!("GPU: {backend}; CPU: xling, f32 weights, all threads");
    println!(
        "{:>6} {:>7} {:>10} {:>10} {:>12} {:>12} {:>8} {:>10}",
        "batch", "tokens", "GPU ms", "CPU ms", "GPU tok/s", "CPU tok/s", "GPU/CPU", "min cos"
    );
    for c in cells {
        println!(
            "{:>6} {:>7} {:>10.1} {:>10.1} {:>12.0} {:>12.0} {:>7.2}× {:>10.6}",
            c.batch,
            c.length,
            c.gpu_ms,
            c.cpu_ms,
            c.gpu_tokens_per_s,
            c.cpu_tokens_per_s,
            c.speedup,
            c.min_cosine
        );
    }
    println!(
        "query (end to end): GPU median {:.1} ms, p95 {:.1} ms; CPU median {:.1} ms, p95 {:.1} ms",
        latency.gpu_median_ms, latency.gpu_p95_ms, latency.cpu_median_ms, latency.cpu_p95_ms
    );
}
