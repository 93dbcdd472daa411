//! The model's language prior from Tatoeba: per language, the mean
//! `passage: ` and `query: ` vectors of held-out sentences.
//!
//! The sentences are the *last* lines of each Tatoeba file, so that a
//! Tatoeba evaluation over the first lines never sees statistics of its own
//! queries.

use std::collections::BTreeMap;
use std::path::Path;

use xling_index::lang::normalize_language;
use xling_index::{LanguagePrior, PriorLanguage};
use xling_model::Prefix;

use super::read_tatoeba_pair;
use crate::embeddings::Embeddings;
use crate::error::RunResult;
use crate::progress::Progress;

/// The last `sentences` non-blank lines of each language in `dir` (codes
/// normalised: cmn → zh); English takes the last line of each pair's English
/// side, so that its mean covers many topics.
pub fn prior_sentences(
    dir: &Path,
    langs: &[String],
    sentences: usize,
) -> RunResult<BTreeMap<String, Vec<String>>> {
    let mut texts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut english = Vec::new();
    let last = |lines: &[String]| -> Vec<String> {
        let kept: Vec<String> = lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .cloned()
            .collect();
        kept[kept.len().saturating_sub(sentences)..].to_vec()
    };
    for lang in langs {
        let pair = read_tatoeba_pair(dir, lang)?;
        let code = normalize_language(lang).unwrap_or_else(|| lang.clone());
        texts.entry(code).or_default().extend(last(&pair.other));
        english.extend(last(&pair.english).into_iter().rev().take(1));
    }
    let en = texts.entry("en".into()).or_default();
    en.extend(english);
    en.truncate(sentences);
    Ok(texts)
}

/// The prior of `texts` (per language code) for the model `fingerprint`,
/// embedded through the cache (saved after each language).
pub fn prior_from_sentences(
    embeddings: &mut Embeddings,
    progress: &dyn Progress,
    fingerprint: [u8; 32],
    texts: &BTreeMap<String, Vec<String>>,
) -> RunResult<LanguagePrior> {
    let mut languages = Vec::with_capacity(texts.len());
    let mut dim = 0;
    for (code, sentences) in texts {
        let passage = embeddings.embed(sentences, Prefix::Passage, progress)?;
        let query = embeddings.embed(sentences, Prefix::Query, progress)?;
        dim = passage.first().map_or(dim, Vec::len);
        languages.push(PriorLanguage {
            code: code.clone(),
            sentences: sentences.len() as u64,
            passage_mean: mean(&passage),
            query_mean: mean(&query),
        });
        embeddings.save()?;
    }
    Ok(LanguagePrior::new(fingerprint, dim, languages)?)
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
