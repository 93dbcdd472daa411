//! Language identification on Tatoeba: by text alone, by the embedding's
//! nearest language mean, and combined as the index does.

use std::collections::BTreeMap;
use std::path::Path;

use xling_index::lang::{detect_language, detectable_by_text, normalize_language, UNDETERMINED};
use xling_index::{language_of, LanguagePrior};
use xling_model::Prefix;

use super::{read_tatoeba_pair, tatoeba_set, EvalContext};
use crate::error::{RunError, RunResult};

/// Accuracies of one language (shares of its sentences).
#[derive(serde::Serialize, Clone, Copy, Default)]
pub struct LangidScores {
    /// Character statistics (whatlang) and scripts, as for text alone.
    pub text: f64,
    /// Nearest language mean of the passage embedding (the model's prior).
    pub embedding: f64,
    /// What the index does: text when it is sure, else the embedding.
    pub combined: f64,
    /// Share the text detector left undetermined.
    pub text_undetermined: f64,
}

/// The `--json` report of a language identification run (the fields in the
/// order the report has always had).
#[derive(serde::Serialize)]
pub struct LangidReport {
    /// Languages measured.
    pub languages: usize,
    /// Mean text accuracy.
    pub text: f64,
    /// Mean embedding accuracy.
    pub embedding: f64,
    /// Mean combined accuracy.
    pub combined: f64,
    /// Mean text accuracy over the languages whatlang knows.
    pub text_on_whatlang_languages: f64,
    /// Mean embedding accuracy over the languages whatlang knows.
    pub embedding_on_whatlang_languages: f64,
    /// Mean combined accuracy over the languages whatlang knows.
    pub combined_on_whatlang_languages: f64,
    /// Figures per language.
    pub per_language: BTreeMap<String, LangidScores>,
    /// Sentences measured per language (not in the JSON).
    #[serde(skip)]
    pub limit: usize,
}

/// Language identification on Tatoeba: the first `limit` (default 900)
/// sentences of each language, held out from the prior (`xling prior` uses
/// the last 100 lines of each file).
pub fn langid(
    ctx: &mut EvalContext,
    data: &Path,
    languages: &[String],
    limit: Option<usize>,
) -> RunResult<LangidReport> {
    let (dir, langs) = tatoeba_set(data, languages)?;
    let prior = ctx.prior.clone().ok_or_else(|| {
        RunError::Invalid("langid needs the model's language prior (run `xling prior`)".into())
    })?;
    let limit = limit.unwrap_or(900);
    let mut per_language = BTreeMap::new();
    let mut english_seen = false;
    for lang in &langs {
        let pair = read_tatoeba_pair(&dir, lang)?;
        let mut sides = vec![(lang.clone(), pair.other)];
        if !english_seen {
            english_seen = true;
            sides.push(("eng".to_string(), pair.english));
        }
        for (code, lines) in sides {
            let scores = score_side(ctx, &prior, &code, lines, limit)?;
            per_language.insert(code, scores);
        }
        ctx.embeddings.save()?;
    }
    let mean = |f: fn(&LangidScores) -> f64, filter: &dyn Fn(&str) -> bool| {
        let v: Vec<f64> = per_language
            .iter()
            .filter(|(l, _)| filter(l))
            .map(|(_, s)| f(s))
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let supported = |l: &str| detectable_by_text(&normalize_language(l).unwrap_or_default());
    let all = |_: &str| true;
    Ok(LangidReport {
        languages: per_language.len(),
        text: mean(|s| s.text, &all),
        embedding: mean(|s| s.embedding, &all),
        combined: mean(|s| s.combined, &all),
        text_on_whatlang_languages: mean(|s| s.text, &supported),
        embedding_on_whatlang_languages: mean(|s| s.embedding, &supported),
        combined_on_whatlang_languages: mean(|s| s.combined, &supported),
        per_language,
        limit,
    })
}

/// The scores of one side's first `limit` lines, expected to be `code`.
fn score_side(
    ctx: &mut EvalContext,
    prior: &LanguagePrior,
    code: &str,
    lines: Vec<String>,
    limit: usize,
) -> RunResult<LangidScores> {
    let expected = normalize_language(code).unwrap_or(code.to_string());
    let texts: Vec<String> = lines
        .into_iter()
        .take(limit)
        .filter(|t| !t.trim().is_empty())
        .collect();
    let vectors = ctx
        .embeddings
        .embed(&texts, Prefix::Passage, ctx.progress)?;
    let mut s = LangidScores::default();
    for (text, vector) in texts.iter().zip(&vectors) {
        let by_text = detect_language(text);
        let by_embedding = prior.nearest(vector).map_or(UNDETERMINED, |(c, _)| c);
        let combined = language_of(text, vector, Some(prior));
        s.text += f64::from(by_text.code == expected);
        s.embedding += f64::from(by_embedding == expected);
        s.combined += f64::from(combined == expected);
        s.text_undetermined += f64::from(by_text.code == UNDETERMINED);
    }
    let n = texts.len().max(1) as f64;
    s.text /= n;
    s.embedding /= n;
    s.combined /= n;
    s.text_undetermined /= n;
    Ok(s)
}
