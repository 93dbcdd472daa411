//! `xling prior`: the model's language prior, written into the model
//! directory: per language, the mean `passage: ` and `query: ` vectors of
//! Tatoeba sentences. An index uses it where its own collection has few
//! passages in a language, and for the query's language (see
//! `docs/languages.md`).
//!
//! The sentences are the *last* `--sentences` lines of each Tatoeba file, so
//! that a Tatoeba evaluation over the first lines (`xling eval tatoeba
//! --limit`) never sees statistics of its own queries. XQuAD-R is never used.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::bail;
use xling_index::lang::normalize_language;
use xling_index::{LanguagePrior, PriorLanguage, PRIOR_FILE};
use xling_model::Prefix;

use crate::eval::{read_tatoeba_pair, tatoeba_set, Embeddings, Engine};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: crate::ModelArgs,
    /// Tatoeba directory (the tatoeba.XXX-eng.XXX files).
    #[arg(long, default_value = "../shared/data/tatoeba")]
    data: PathBuf,
    /// Sentences per language, taken from the end of each file.
    #[arg(long, default_value_t = 100)]
    sentences: usize,
    /// Output file (default: language-prior.bin in the model directory).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Embedding cache directory (shared with `xling eval`).
    #[arg(long)]
    cache: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.sentences == 0 {
        bail!("--sentences must be at least 1");
    }
    let tokenizer = args.model.load_tokenizer()?;
    let mut embeddings = Embeddings::open_with(
        &args.model,
        Engine::Xling,
        args.cache.as_deref(),
        &tokenizer,
        true,
    )?;
    let (dir, langs) = tatoeba_set(&args.data, &[])?;
    // Sentences per language code (Tatoeba codes normalised: cmn → zh).
    let mut texts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut english = Vec::new();
    let last = |lines: &[String]| -> Vec<String> {
        let kept: Vec<String> = lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .cloned()
            .collect();
        kept[kept.len().saturating_sub(args.sentences)..].to_vec()
    };
    for lang in &langs {
        let pair = read_tatoeba_pair(&dir, lang)?;
        let code = normalize_language(lang).unwrap_or_else(|| lang.clone());
        texts.entry(code).or_default().extend(last(&pair.other));
        // English: the last line of each pair's English side, so that the
        // English mean covers many topics.
        english.extend(last(&pair.english).into_iter().rev().take(1));
    }
    let en = texts.entry("en".into()).or_default();
    en.extend(english);
    en.truncate(args.sentences);

    let total: usize = texts.values().map(Vec::len).sum();
    eprintln!(
        "xling prior: {} languages, {total} sentences (both prefixes)",
        texts.len()
    );
    let fingerprint = tokenizer.model_fingerprint();
    let mut languages = Vec::with_capacity(texts.len());
    let mut dim = 0;
    for (code, sentences) in &texts {
        let passage = embeddings.embed(sentences, Prefix::Passage)?;
        let query = embeddings.embed(sentences, Prefix::Query)?;
        dim = passage.first().map_or(dim, Vec::len);
        languages.push(PriorLanguage {
            code: code.clone(),
            sentences: sentences.len() as u64,
            passage_mean: mean(&passage),
            query_mean: mean(&query),
        });
        embeddings.save()?;
    }
    let prior = LanguagePrior::new(fingerprint, dim, languages)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.model.model.join(PRIOR_FILE));
    crate::fsutil::write_atomic(&out, &prior.to_bytes())?;
    eprintln!(
        "xling prior: wrote {} ({} languages)",
        out.display(),
        prior.languages().len()
    );
    Ok(())
}

fn mean(vectors: &[Vec<f32>]) -> Vec<f32> {
    let dim = vectors.first().map_or(0, Vec::len);
    let mut sum = vec![0f64; dim];
    for v in vectors {
        for (s, x) in sum.iter_mut().zip(v) {
            *s += *x as f64;
        }
    }
    let n = vectors.len().max(1) as f64;
    sum.into_iter().map(|s| (s / n) as f32).collect()
}
