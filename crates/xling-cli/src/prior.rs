//! `xling prior`: the model's language prior, written into the model
//! directory: per language, the mean `passage: ` and `query: ` vectors of
//! Tatoeba sentences. An index uses it where its own collection has few
//! passages in a language, and for the query's language (see
//! `docs/languages.md`).
//!
//! The sentences are the *last* `--sentences` lines of each Tatoeba file, so
//! that a Tatoeba evaluation over the first lines (`xling eval tatoeba
//! --limit`) never sees statistics of its own queries. XQuAD-R is never used.

use std::path::{Path, PathBuf};

use anyhow::bail;
use xling_eval::runners::{prior_from_sentences, prior_sentences, tatoeba_set};
use xling_eval::Embeddings;
use xling_index::lang::normalize_language;
use xling_index::{LanguagePrior, PRIOR_FILE};

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
    let prior = compute(
        &args.model,
        &args.data,
        args.sentences,
        None,
        args.cache.as_deref(),
    )?;
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

/// The prior of `model` from the Tatoeba files in `data`: every language,
/// or only `languages` (xling codes; English is always estimated).
pub fn compute(
    model: &crate::ModelArgs,
    data: &Path,
    sentences: usize,
    languages: Option<&[String]>,
    cache: Option<&Path>,
) -> anyhow::Result<LanguagePrior> {
    if sentences == 0 {
        bail!("--sentences must be at least 1");
    }
    let tokenizer = model.load_tokenizer()?;
    let engine = xling_eval::Engine::Xling;
    let encoder = crate::eval::load_encoder(model, engine)?;
    let mut embeddings = Embeddings::open(engine.name(), cache, &tokenizer, Some(encoder))?;
    let (dir, mut langs) = tatoeba_set(data, &[])?;
    if let Some(keep) = languages {
        langs.retain(|l| normalize_language(l).is_some_and(|c| keep.contains(&c)));
    }
    let texts = prior_sentences(&dir, &langs, sentences)?;
    let total: usize = texts.values().map(Vec::len).sum();
    eprintln!(
        "xling prior: {} languages, {total} sentences (both prefixes)",
        texts.len()
    );
    Ok(prior_from_sentences(
        &mut embeddings,
        &crate::eval::Bars,
        tokenizer.model_fingerprint(),
        &texts,
    )?)
}
