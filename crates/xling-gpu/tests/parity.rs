//! The GPU encoder against the CPU encoder (the oracle) on the real model:
//! 100+ texts in 50+ languages and scripts, from one word to several
//! 512-token windows, as queries and passages. Each vector must have cosine
//! ≥ 0.999 with the CPU's. Runs on whatever adapter exists (lavapipe on CI);
//! no adapter is a failure.

use std::path::{Path, PathBuf};
use std::time::Instant;

use xling_eval::datasets::parse_xquad;
use xling_gpu::{AdapterChoice, GpuEncoder};
use xling_model::{Embedder, ModelFiles, Prefix, Tokenizer};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn path_from_env(var: &str, default: PathBuf) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or(default)
}

/// Model and data directories, or `None` when absent and not required
/// (`cargo xtask test` sets `XLING_REQUIRE_MODEL=1`).
fn setup() -> Option<(PathBuf, PathBuf)> {
    let model = path_from_env(
        "XLING_MODEL_DIR",
        root().join("models/multilingual-e5-small-q4"),
    );
    let data = path_from_env("XLING_DATA_DIR", root().join("../shared/data"));
    if model.join("model.gguf").exists() && data.join("tatoeba").exists() {
        return Some((model, data));
    }
    let msg = format!("GPU parity: missing {model:?} or {data:?}; run `cargo xtask up`");
    if std::env::var("XLING_REQUIRE_MODEL").is_ok_and(|v| v == "1") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED {msg}");
    None
}

/// The first line of every Tatoeba language (112, varied scripts), XQuAD-R
/// paragraphs and questions in 11 languages, multi-window texts, edge cases.
fn texts(data: &Path) -> Vec<(String, Prefix)> {
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(data.join("tatoeba"))
        .expect("tatoeba directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("tatoeba.") && !name.ends_with(".eng")
        })
        .collect();
    files.sort();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("tatoeba file");
        let line = text.lines().next().expect("a line").to_string();
        out.push((line, Prefix::Query));
    }
    for lang in [
        "ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh",
    ] {
        let bytes = std::fs::read(data.join(format!("xquad-r/{lang}.json"))).expect("xquad-r");
        let parsed = parse_xquad(lang, &bytes).expect("xquad-r parses");
        for p in parsed.paragraphs.iter().take(1) {
            out.push((p.join(" "), Prefix::Passage));
        }
        out.push((parsed.questions[0].text.clone(), Prefix::Query));
        if lang == "en" || lang == "zh" {
            // Well over one 512-token window.
            let long: Vec<String> = parsed
                .paragraphs
                .iter()
                .take(4)
                .map(|p| p.join(" "))
                .collect();
            out.push((long.join("\n\n"), Prefix::Passage));
        }
    }
    for edge in ["", "a", "🙂🙂🙂", "query: passage:", "  \t  "] {
        out.push((edge.to_string(), Prefix::Passage));
    }
    out
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum()
}

#[test]
fn gpu_embeddings_match_the_cpu_on_the_real_model() {
    let Some((model_dir, data)) = setup() else {
        return;
    };
    let files = ModelFiles::read_dir(&model_dir).expect("model files");
    let cpu = Embedder::load(&files).expect("CPU model");
    let encoder = pollster::block_on(GpuEncoder::open(AdapterChoice::Any, &files.gguf))
        .expect("a GPU adapter (without a GPU: apt-get install mesa-vulkan-drivers)");
    let adapter = encoder.gpu().summary().clone();
    let tokenizer =
        Tokenizer::from_bytes(files.tokenizer_json.clone(), encoder.config()).expect("tokenizer");
    let gpu = Embedder::new(tokenizer, encoder);

    let texts = texts(&data);
    assert!(texts.len() >= 100, "{} texts", texts.len());
    let mut cosines = Vec::new();
    let mut windows = 0;
    let mut gpu_time = 0.0;
    for prefix in [Prefix::Query, Prefix::Passage] {
        let batch: Vec<&str> = texts
            .iter()
            .filter(|(_, p)| *p == prefix)
            .map(|(t, _)| t.as_str())
            .collect();
        let want = cpu.embed_with_ids(&batch, prefix).expect("CPU embeds");
        let gpu_started = Instant::now();
        let got = gpu.embed(&batch, prefix).expect("GPU embeds");
        gpu_time += gpu_started.elapsed().as_secs_f64();
        for ((text, w), g) in batch.iter().zip(&want).zip(&got) {
            windows += w.ids.len().div_ceil(510);
            let c = cosine(&w.vector, g);
            assert!(
                c >= 0.999,
                "{adapter}: cosine {c} for {:?}",
                text.chars().take(60).collect::<String>()
            );
            cosines.push(c);
        }
    }
    let min = cosines.iter().copied().fold(f64::INFINITY, f64::min);
    let mean = cosines.iter().sum::<f64>() / cosines.len() as f64;
    assert!(windows > cosines.len(), "some texts span several windows");
    eprintln!(
        "GPU parity on {adapter}: {} texts ({windows} windows), cosine mean {mean:.6} min {min:.6}, GPU time {:.1} s",
        cosines.len(),
        gpu_time
    );
}
