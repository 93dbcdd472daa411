//! `xling bench index`: the dense index (int8 vectors + HNSW) against brute
//! force over the same vectors, in one run.
//!
//! For each vector set and size it builds a [`DenseIndex`] as one HNSW segment
//! (`exact_below: 0`, a buffer that never fills, one `maintain()`), searches
//! it with each `ef_search` value (read at query time, no rebuild), and
//! reports build time and passages/s (excluding encoding), recall@10 against
//! exact search over the int8 vectors and over the original f32 vectors,
//! per-query latency of the graph and of brute force (median, p95), and bytes
//! per stored passage.
//!
//! Vector sets: `random` (deterministic random unit vectors, 384-d, queries
//! are other random unit vectors) and `real` (XQuAD-R sentences, then Tatoeba
//! sentences, embedded once with the model and cached under
//! `~/.cache/xling/bench/`; queries are XQuAD-R questions).

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::common::percentile;
use anyhow::{bail, Context};
use serde::Serialize;
use xling_index::codec::Writer;
use xling_index::dense::{top_k, DenseConfig, DenseIndex};
use xling_index::vector::dot_f32;
use xling_model::Prefix;

/// Dimension of the random vectors (the model's).
const RANDOM_DIM: usize = 384;
/// Neighbours compared for recall.
const K: usize = 10;
/// instant-distance's M: upper-layer nodes hold M links, layer-0 nodes 2M.
const HNSW_M: usize = 32;
/// XQuAD-R languages, in the order their sentences are interleaved.
const XQUAD_LANGS: [&str; 11] = [
    "en", "de", "es", "ar", "hi", "ru", "th", "tr", "vi", "zh", "el",
];
/// Texts per embedding call (the embedder sorts each call's windows by length).
const EMBED_CHUNK: usize = 512;

#[derive(clap::Args, Clone)]
pub struct Args {
    #[command(flatten)]
    model: crate::ModelArgs,
    /// The shared data directory (holds xquad-r/ and tatoeba/).
    #[arg(long, default_value = "../shared/data")]
    data: PathBuf,
    /// Vector sets to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "random,real")]
    sets: Vec<VectorSet>,
    /// Numbers of indexed vectors, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    sizes: Vec<usize>,
    /// ef_search values, comma-separated (one build, searched with each).
    #[arg(long, value_delimiter = ',', default_value = "64,80,96,128")]
    ef: Vec<usize>,
    /// Queries per configuration.
    #[arg(long, default_value_t = 200)]
    queries: usize,
    /// Candidate list size while building (default: DenseConfig's).
    #[arg(long)]
    ef_construction: Option<usize>,
    /// Drop pruned candidates from the links (faster builds, lower recall).
    #[arg(long)]
    drop_pruned: bool,
    /// Threads for graph construction (1: reproducible; 0: every core).
    #[arg(long, default_value_t = 1)]
    build_threads: usize,
    /// Where embedded vectors are cached (default ~/.cache/xling/bench).
    #[arg(long)]
    cache: Option<PathBuf>,
    /// A fast smoke run needing no model: 2,000 random vectors, 50 queries.
    #[arg(long)]
    quick: bool,
    /// Also write the rows as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum VectorSet {
    /// Deterministic random unit vectors.
    Random,
    /// Embedded XQuAD-R and Tatoeba sentences.
    Real,
}

impl VectorSet {
    fn name(self) -> &'static str {
        match self {
            VectorSet::Random => "random",
            VectorSet::Real => "real",
        }
    }
}

/// Row-major unit vectors.
struct Vectors {
    dim: usize,
    data: Vec<f32>,
}

impl Vectors {
    fn len(&self) -> usize {
        self.data.len() / self.dim.max(1)
    }

    fn get(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    fn prefix(&self, n: usize) -> Vectors {
        Vectors {
            dim: self.dim,
            data: self.data[..n.min(self.len()) * self.dim].to_vec(),
        }
    }
}

/// One measured configuration.
#[derive(Serialize, Clone, Debug)]
struct Row {
    set: String,
    n: usize,
    dim: usize,
    ef_search: usize,
    ef_construction: usize,
    build_threads: usize,
    queries: usize,
    build_s: f64,
    /// Vectors indexed per second (quantisation + graph), encoding excluded.
    passages_per_s: f64,
    /// |HNSW top-10 ∩ brute-force top-10 over the same int8 vectors| / 10.
    recall_at_10_int8: f64,
    /// |HNSW top-10 ∩ exact top-10 over the original f32 vectors| / 10.
    recall_at_10_f32: f64,
    /// The same for brute force over int8: the cost of quantisation alone.
    exact_int8_recall_at_10_f32: f64,
    hnsw_median_ms: f64,
    hnsw_p95_ms: f64,
    brute_median_ms: f64,
    brute_p95_ms: f64,
    /// brute_median_ms / hnsw_median_ms.
    speedup: f64,
    /// The dense section of a snapshot ([`DenseIndex::write`]) divided by n.
    snapshot_bytes_per_passage: f64,
    /// In-memory estimate, see [`memory_bytes_per_passage`].
    memory_bytes_per_passage: f64,
}

pub fn run(mut args: Args) -> anyhow::Result<()> {
    if args.quick {
        args.sizes = vec![2000];
        args.sets = vec![VectorSet::Random];
        args.queries = args.queries.min(50);
    }
    if args.sizes.is_empty() || args.ef.is_empty() || args.queries == 0 {
        bail!("--sizes, --ef and --queries must not be empty");
    }
    if args.ef.iter().any(|ef| *ef < K) {
        bail!("every --ef value must be at least {K}");
    }
    let max_n = args.sizes.iter().copied().max().unwrap_or(0);
    let mut rows = Vec::new();
    for set in dedup(&args.sets) {
        let (all, queries) = match set {
            VectorSet::Random => (
                random_unit_vectors(max_n, RANDOM_DIM, 1),
                random_unit_vectors(args.queries, RANDOM_DIM, 2),
            ),
            VectorSet::Real => real_vectors(&args, max_n)?,
        };
        for &n in &args.sizes {
            if n > all.len() {
                eprintln!(
                    "xling bench index: {}: only {} vectors, skipping n = {n}",
                    set.name(),
                    all.len()
                );
                continue;
            }
            let vectors = all.prefix(n);
            eprintln!(
                "xling bench index: {} n = {n}: exact f32 top-{K} of {} queries…",
                set.name(),
                queries.len()
            );
            let truth = exact_f32(&vectors, &queries);
            let (mut index, build_s) = build(set.name(), &vectors, &args)?;
            for &ef in &args.ef {
                index.set_ef_search(ef);
                let row = measure(set.name(), &index, build_s, &queries, &truth, &args)?;
                print_row_progress(&row);
                rows.push(row);
            }
        }
    }
    print_table(&rows);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report_json(&rows))?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("xling bench index: wrote {}", path.display());
    }
    Ok(())
}

fn dedup(sets: &[VectorSet]) -> Vec<VectorSet> {
    let mut out = Vec::new();
    for s in sets {
        if !out.contains(s) {
            out.push(*s);
        }
    }
    out
}

fn report_json(rows: &[Row]) -> serde_json::Value {
    serde_json::json!({
        "benchmark": "index",
        "k": K,
        "rows": rows,
    })
}

/// Builds the index over `vectors` as one segment; returns it and the seconds taken.
fn build(set: &str, vectors: &Vectors, args: &Args) -> anyhow::Result<(DenseIndex, f64)> {
    let n = vectors.len();
    let config = DenseConfig {
        keep_pruned: !args.drop_pruned,
        exact_below: 0,
        // Never full: everything becomes one segment on the one `maintain()`.
        buffer_max: usize::MAX / 2,
        build_threads: args.build_threads,
        ef_construction: args
            .ef_construction
            .unwrap_or(DenseConfig::default().ef_construction),
        ..DenseConfig::default()
    };
    eprint!(
        "xling bench index: {set} n = {n} ef_construction = {}: building…",
        config.ef_construction
    );
    let _ = std::io::stderr().flush();
    let start = Instant::now();
    let mut index = DenseIndex::new(vectors.dim, config);
    for i in 0..n {
        index.add(i as u32, vectors.get(i))?;
    }
    index.maintain()?;
    let build_s = start.elapsed().as_secs_f64();
    eprintln!(" {build_s:.2} s");
    let (segments, buffered) = index.parts();
    if segments != [n] || buffered != 0 {
        bail!("expected one segment of {n} vectors, got {segments:?} + {buffered} buffered");
    }
    Ok((index, build_s))
}

/// Searches `index` (at its current `ef_search`) and brute force with every query.
fn measure(
    set: &str,
    index: &DenseIndex,
    build_s: f64,
    queries: &Vectors,
    truth_f32: &[Vec<u32>],
    args: &Args,
) -> anyhow::Result<Row> {
    let n = index.len();
    let dim = index.dim();
    let ef = index.config().ef_search;
    let ef_construction = index.config().ef_construction;
    // Warm up both paths (caches, page faults) before timing.
    for q in 0..queries.len().min(5) {
        index.search(queries.get(q), K, false, |_| true)?;
        index.search(queries.get(q), K, true, |_| true)?;
    }
    // Each path runs the whole query set on its own (as ANN benchmarks do),
    // so neither runs with caches the other has just filled or flushed.
    let run = |exact: bool| -> anyhow::Result<(Vec<f64>, Vec<HashSet<u32>>)> {
        let mut ms = Vec::with_capacity(queries.len());
        let mut found = Vec::with_capacity(queries.len());
        for q in 0..queries.len() {
            let start = Instant::now();
            let hits = index.search(queries.get(q), K, exact, |_| true)?;
            ms.push(start.elapsed().as_secs_f64() * 1e3);
            found.push(hits.iter().map(|h| h.0).collect());
        }
        Ok((ms, found))
    };
    let (hnsw_ms, approx) = run(false)?;
    let (brute_ms, exact) = run(true)?;
    let (mut hits_int8, mut hits_f32, mut exact_hits_f32) = (0usize, 0usize, 0usize);
    for ((truth, approx), exact) in truth_f32.iter().zip(&approx).zip(&exact) {
        hits_int8 += approx.intersection(exact).count();
        hits_f32 += truth.iter().filter(|p| approx.contains(p)).count();
        exact_hits_f32 += truth.iter().filter(|p| exact.contains(p)).count();
    }
    let asked = (queries.len() * K.min(n)).max(1) as f64;

    let mut w = Writer::new();
    index.write(&mut w)?;
    let snapshot_bytes = w.len();

    let hnsw_median_ms = percentile(&hnsw_ms, 0.5);
    let brute_median_ms = percentile(&brute_ms, 0.5);
    Ok(Row {
        set: set.to_owned(),
        n,
        dim,
        ef_search: ef,
        ef_construction,
        build_threads: args.build_threads,
        queries: queries.len(),
        build_s,
        passages_per_s: n as f64 / build_s,
        recall_at_10_int8: hits_int8 as f64 / asked,
        recall_at_10_f32: hits_f32 as f64 / asked,
        exact_int8_recall_at_10_f32: exact_hits_f32 as f64 / asked,
        hnsw_median_ms,
        hnsw_p95_ms: percentile(&hnsw_ms, 0.95),
        brute_median_ms,
        brute_p95_ms: percentile(&brute_ms, 0.95),
        speedup: brute_median_ms / hnsw_median_ms,
        snapshot_bytes_per_passage: snapshot_bytes as f64 / n.max(1) as f64,
        memory_bytes_per_passage: memory_bytes_per_passage(n, dim, index.upper_layer_nodes()),
    })
}

/// In-memory bytes per passage of a [`DenseIndex`] that is one HNSW segment,
/// vectors + graph + per-passage bookkeeping (allocator overhead aside):
///
/// - the vector store: `dim` int8 codes + a 4-byte scale, a 1-byte live flag
///   and a 4-byte location: `dim + 9`;
/// - the graph's passage id per point: 4;
/// - layer 0: 2M = 64 links of 4 bytes: 256;
/// - upper layers: M = 32 links of 4 bytes (128) per upper-layer node
///   (about 0.41 per point with instant-distance's layer sizing: ~52 bytes).
///
/// For 384-d vectors: 393 + 4 + 256 + ~52 ≈ 705 bytes.
fn memory_bytes_per_passage(n: usize, dim: usize, upper_nodes: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let fixed = (dim + 9 + 4 + 2 * HNSW_M * 4) as f64;
    fixed + (upper_nodes * HNSW_M * 4) as f64 / n as f64
}

/// Exact top-`K` passage ids per query by f32 dot products.
fn exact_f32(vectors: &Vectors, queries: &Vectors) -> Vec<Vec<u32>> {
    (0..queries.len())
        .map(|q| {
            let query = queries.get(q);
            let mut scored: Vec<(u32, f32)> = (0..vectors.len())
                .map(|p| (p as u32, dot_f32(query, vectors.get(p))))
                .collect();
            top_k(&mut scored, K);
            scored.into_iter().map(|(p, _)| p).collect()
        })
        .collect()
}

/// xorshift64* stream.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller): normalised Gaussian vectors are uniform
    /// on the sphere.
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// `n` deterministic random unit vectors of `dim` dimensions.
fn random_unit_vectors(n: usize, dim: usize, seed: u64) -> Vectors {
    let mut rng = Rng::new(seed);
    let mut data = Vec::with_capacity(n * dim);
    for _ in 0..n {
        let v: Vec<f64> = (0..dim).map(|_| rng.normal()).collect();
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        data.extend(v.iter().map(|x| (x / norm) as f32));
    }
    Vectors { dim, data }
}

// ---------------------------------------------------------------------------
// Real vectors: embedded sentences, cached
// ---------------------------------------------------------------------------

/// Passage vectors (up to `n`) and query vectors of the real set, from the
/// cache or embedded now (and cached).
fn real_vectors(args: &Args, n: usize) -> anyhow::Result<(Vectors, Vectors)> {
    let cache = match &args.cache {
        Some(dir) => dir.clone(),
        None => PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?)
            .join(".cache/xling/bench"),
    };
    std::fs::create_dir_all(&cache)
        .with_context(|| format!("cannot create {}", cache.display()))?;
    let tokenizer = args.model.load_tokenizer()?;
    let fp: String = tokenizer.model_fingerprint()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    let (passages, questions) = real_texts(&args.data)?;
    let n = n.min(passages.len());
    let q = args.queries.min(questions.len());
    let mut embedder = None;
    let mut cached = |stem: &str, texts: &[String], prefix: Prefix, what: &str| {
        let mut v = read_cached(&cache, stem, texts.len(), &fp)?;
        if v.len() < texts.len() {
            let e = load_embedder(&mut embedder, &args.model)?;
            let rest = embed_all(e, &texts[v.len()..], prefix, what)?;
            if !v.data.is_empty() && rest.dim != v.dim {
                bail!(
                    "cached vectors of {} dimensions, the model gives {}",
                    v.dim,
                    rest.dim
                );
            }
            v.dim = rest.dim;
            v.data.extend(rest.data);
            write_cached(&cache.join(format!("{stem}-{}-{fp}.f32", texts.len())), &v)?;
        }
        anyhow::Ok(v)
    };
    let vectors = cached("real", &passages[..n], Prefix::Passage, "passages")?;
    let queries = cached("real-queries", &questions[..q], Prefix::Query, "queries")?;
    if vectors.dim != queries.dim {
        bail!("cached passage and query vectors differ in dimension");
    }
    Ok((vectors, queries))
}

fn load_embedder<'a>(
    slot: &'a mut Option<crate::CliEmbedder>,
    model: &crate::ModelArgs,
) -> anyhow::Result<&'a crate::CliEmbedder> {
    if slot.is_none() {
        eprintln!("xling bench index: loading {}", model.model.display());
        *slot = Some(model.load()?);
    }
    Ok(slot.as_ref().expect("just loaded"))
}

/// Up to `n` cached vectors from `<stem>-<m>-<fp>.f32`: the first `n` of the
/// smallest file with `m ≥ n`, else all of the largest with `m < n` (the text
/// lists are prefix-stable, so any file's vectors are a prefix of the list;
/// the caller embeds the rest). None cached: an empty set.
fn read_cached(dir: &Path, stem: &str, n: usize, fp: &str) -> anyhow::Result<Vectors> {
    let suffix = format!("-{fp}.f32");
    let mut sizes = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let m = path
            .file_name()
            .and_then(|s| s.to_str())
            .and_then(|name| name.strip_prefix(stem)?.strip_prefix('-'))
            .and_then(|rest| rest.strip_suffix(&suffix)?.parse::<usize>().ok());
        if let Some(m) = m.filter(|m| *m > 0) {
            sizes.push((m, path));
        }
    }
    let best = match sizes
        .iter()
        .filter(|(m, _)| *m >= n)
        .min_by_key(|(m, _)| *m)
    {
        Some(b) => Some(b),
        None => sizes.iter().max_by_key(|(m, _)| *m),
    };
    let empty = Vectors {
        dim: 0,
        data: Vec::new(),
    };
    let Some((m, path)) = best else {
        return Ok(empty);
    };
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() % (4 * m) != 0 || bytes.is_empty() {
        eprintln!(
            "xling bench index: ignoring {} (size is not a multiple of {m} vectors)",
            path.display()
        );
        return Ok(empty);
    }
    let dim = bytes.len() / (4 * m);
    let take = n.min(*m);
    let data: Vec<f32> = bytes[..take * dim * 4]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    eprintln!("xling bench index: {take} vectors from {}", path.display());
    Ok(Vectors { dim, data })
}

fn write_cached(path: &Path, v: &Vectors) -> anyhow::Result<()> {
    let bytes: Vec<u8> = v.data.iter().flat_map(|x| x.to_le_bytes()).collect();
    let tmp = path.with_extension("f32.tmp");
    std::fs::write(&tmp, &bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("xling bench index: cached {}", path.display());
    Ok(())
}

/// Embeds `texts` in chunks with a progress line on stderr.
fn embed_all(
    embedder: &crate::CliEmbedder,
    texts: &[String],
    prefix: Prefix,
    what: &str,
) -> anyhow::Result<Vectors> {
    let start = Instant::now();
    let mut data = Vec::new();
    let mut dim = 0;
    let mut done = 0;
    for chunk in texts.chunks(EMBED_CHUNK) {
        for v in embedder.embed(chunk, prefix)? {
            dim = v.len();
            data.extend(v);
        }
        done += chunk.len();
        let secs = start.elapsed().as_secs_f64();
        let rate = done as f64 / secs.max(1e-9);
        eprint!(
            "\rxling bench index: embedding {what} {done}/{} ({rate:.0}/s, {:.0} s left)   ",
            texts.len(),
            (texts.len() - done) as f64 / rate.max(1e-9)
        );
        let _ = std::io::stderr().flush();
    }
    eprintln!();
    Ok(Vectors { dim, data })
}

/// The real set's texts, deterministic and prefix-stable: every XQuAD-R
/// sentence (languages interleaved), then the Tatoeba sentences (both sides
/// of every pair, files interleaved), without duplicates; and the XQuAD-R
/// questions, languages interleaved.
fn real_texts(data: &Path) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let mut sentences = Vec::new();
    let mut questions = Vec::new();
    for lang in XQUAD_LANGS {
        let path = data.join("xquad-r").join(format!("{lang}.json"));
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let parsed = xling_eval::datasets::parse_xquad(lang, &bytes)?;
        sentences.push(parsed.paragraphs.into_iter().flatten().collect::<Vec<_>>());
        questions.push(parsed.questions.into_iter().map(|q| q.text).collect());
    }
    let dir = data.join("tatoeba");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|s| s.to_str())
                .is_some_and(|s| s.starts_with("tatoeba."))
        })
        .collect();
    files.sort();
    let mut tatoeba = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        tatoeba.push(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        );
    }
    let mut seen = HashSet::new();
    let mut passages: Vec<String> = interleave(sentences)
        .into_iter()
        .chain(interleave(tatoeba))
        .filter(|s| seen.insert(s.clone()))
        .collect();
    passages.shrink_to_fit();
    Ok((passages, interleave(questions)))
}

/// Round-robin over the lists: first items of each, then second items, …
fn interleave(lists: Vec<Vec<String>>) -> Vec<String> {
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    let mut iters: Vec<_> = lists.into_iter().map(Vec::into_iter).collect();
    let mut out = Vec::new();
    for _ in 0..longest {
        for it in &mut iters {
            out.extend(it.next());
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

fn print_row_progress(r: &Row) {
    eprintln!(
        "xling bench index: {} n = {} ef = {}: recall@10 {:.4} (f32 {:.4}), hnsw {:.3} ms, brute {:.3} ms, {:.1}×",
        r.set,
        r.n,
        r.ef_search,
        r.recall_at_10_int8,
        r.recall_at_10_f32,
        r.hnsw_median_ms,
        r.brute_median_ms,
        r.speedup
    );
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<6} {:>7} {:>4} {:>8} {:>8}  {:>6} {:>6} {:>6}  {:>15} {:>15} {:>7}  {:>6} {:>6}",
        "set",
        "n",
        "ef",
        "build s",
        "pass/s",
        "R@10",
        "R@10",
        "exact",
        "hnsw ms",
        "brute ms",
        "speed",
        "B/pass",
        "B/pass",
    );
    println!(
        "{:<6} {:>7} {:>4} {:>8} {:>8}  {:>6} {:>6} {:>6}  {:>15} {:>15} {:>7}  {:>6} {:>6}",
        "",
        "",
        "",
        "",
        "",
        "int8",
        "f32",
        "i8/f32",
        "median / p95",
        "median / p95",
        "-up",
        "snap",
        "mem",
    );
    for r in rows {
        println!(
            "{:<6} {:>7} {:>4} {:>8.2} {:>8.0}  {:>6.4} {:>6.4} {:>6.4}  {:>15} {:>15} {:>6.1}×  {:>6.0} {:>6.0}",
            r.set,
            r.n,
            r.ef_search,
            r.build_s,
            r.passages_per_s,
            r.recall_at_10_int8,
            r.recall_at_10_f32,
            r.exact_int8_recall_at_10_f32,
            format!("{:.3} / {:.3}", r.hnsw_median_ms, r.hnsw_p95_ms),
            format!("{:.3} / {:.3}", r.brute_median_ms, r.brute_p95_ms),
            r.speedup,
            r.snapshot_bytes_per_passage,
            r.memory_bytes_per_passage,
        );
    }
    println!(
        "R@10 int8: HNSW vs brute force over the same int8 vectors; f32: vs exact f32 search; \
         exact i8/f32: brute force int8 vs f32. Target at 100k: R@10 ≥ 0.98, ≥ 20× brute force, \
         ≤ 1,536 B/passage."
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    #[test]
    fn quick_run_on_random_vectors_has_high_recall_and_full_json() {
        let args = Cli::parse_from(["test", "--quick"]).args;
        assert!(args.quick);
        let vectors = random_unit_vectors(1000, RANDOM_DIM, 1);
        let queries = random_unit_vectors(20, RANDOM_DIM, 2);
        let truth = exact_f32(&vectors, &queries);
        let (mut index, build_s) = build("random", &vectors, &args).unwrap();
        index.set_ef_search(128);
        let row = measure("random", &index, build_s, &queries, &truth, &args).unwrap();
        assert_eq!(row.n, 1000);
        assert_eq!(row.ef_search, 128);
        assert!(row.recall_at_10_int8 >= 0.9, "{row:?}");
        assert!(row.recall_at_10_f32 >= 0.85, "{row:?}");
        assert!(row.memory_bytes_per_passage < 1536.0, "{row:?}");

        let json = report_json(&[row]);
        assert_eq!(json["benchmark"], "index");
        let row = json["rows"][0].as_object().unwrap();
        for key in [
            "set",
            "n",
            "ef_search",
            "build_s",
            "passages_per_s",
            "recall_at_10_int8",
            "recall_at_10_f32",
            "hnsw_median_ms",
            "hnsw_p95_ms",
            "brute_median_ms",
            "brute_p95_ms",
            "speedup",
            "snapshot_bytes_per_passage",
            "memory_bytes_per_passage",
        ] {
            assert!(row.contains_key(key), "missing {key}");
        }
    }

    #[test]
    fn random_vectors_are_unit_and_deterministic() {
        let a = random_unit_vectors(3, 16, 7);
        let b = random_unit_vectors(3, 16, 7);
        assert_eq!(a.data, b.data);
        for i in 0..3 {
            assert!((dot_f32(a.get(i), a.get(i)) - 1.0).abs() < 1e-5);
        }
        assert_ne!(a.data, random_unit_vectors(3, 16, 8).data);
    }

    #[test]
    fn cached_vectors_serve_as_prefixes() {
        let dir = std::env::temp_dir().join(format!("xling-bench-index-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let v = Vectors {
            dim: 2,
            data: (0..10).map(|i| i as f32).collect(),
        };
        write_cached(&dir.join("real-5-abc.f32"), &v).unwrap();
        let three = read_cached(&dir, "real", 3, "abc").unwrap();
        assert_eq!((three.dim, three.data.clone()), (2, v.data[..6].to_vec()));
        // Fewer cached than asked: all of them, the caller embeds the rest.
        assert_eq!(read_cached(&dir, "real", 8, "abc").unwrap().len(), 5);
        assert!(read_cached(&dir, "real", 3, "def").unwrap().data.is_empty());
        assert!(read_cached(&dir, "real-queries", 3, "abc")
            .unwrap()
            .data
            .is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
