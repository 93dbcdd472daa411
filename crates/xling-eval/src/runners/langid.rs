//! Language identification on Tatoeba: by text alone, by the embedding's
//! nearest language mean, and combined as the index does.

use std::collections::BTreeMap;
use std::path::Path;

use xling_index::lang::{
    detect_language, detect_script, detectable_by_text, normalize_language, UNDETERMINED,
};
use xling_index::{language_of, query_language_of, LanguagePrior};
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
    /// Sentences of at most [`SHORT_WORDS`] words (typed queries are this short).
    pub short: usize,
    /// Combined accuracy on the short sentences embedded as passages.
    pub short_combined: f64,
    /// Combined accuracy on the short sentences as queries (`query: `
    /// embedding against the prior's query means), as a search labels them.
    pub short_query: f64,
}

/// Longest text, in words (UAX #29), that counts as short.
pub const SHORT_WORDS: usize = 5;

/// Whether `text` has at most [`SHORT_WORDS`] words.
pub fn is_short(text: &str) -> bool {
    use unicode_segmentation::UnicodeSegmentation;
    text.unicode_words().nth(SHORT_WORDS).is_none()
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
    /// Mean combined accuracy on short sentences as passages (languages with any).
    pub short_combined: f64,
    /// Mean combined accuracy on short sentences as queries.
    pub short_query: f64,
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
    let has_short = |l: &str| per_language.get(l).is_some_and(|s| s.short > 0);
    Ok(LangidReport {
        languages: per_language.len(),
        text: mean(|s| s.text, &all),
        embedding: mean(|s| s.embedding, &all),
        combined: mean(|s| s.combined, &all),
        text_on_whatlang_languages: mean(|s| s.text, &supported),
        embedding_on_whatlang_languages: mean(|s| s.embedding, &supported),
        combined_on_whatlang_languages: mean(|s| s.combined, &supported),
        short_combined: mean(|s| s.short_combined, &has_short),
        short_query: mean(|s| s.short_query, &has_short),
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
    let short: Vec<(usize, &String)> = texts
        .iter()
        .enumerate()
        .filter(|(_, t)| is_short(t))
        .collect();
    let short_texts: Vec<String> = short.iter().map(|(_, t)| (*t).clone()).collect();
    let queries = ctx
        .embeddings
        .embed(&short_texts, Prefix::Query, ctx.progress)?;
    for ((i, text), query) in short.iter().zip(&queries) {
        let by_text = detect_language(text);
        let as_passage = language_of(text, &vectors[*i], Some(prior));
        let as_query = query_language_of(detect_script(text), by_text, query, Some(prior));
        s.short_combined += f64::from(as_passage == expected);
        s.short_query += f64::from(as_query == expected);
    }
    s.short = short.len();
    let m = short.len().max(1) as f64;
    s.short_combined /= m;
    s.short_query /= m;
    let n = texts.len().max(1) as f64;
    s.text /= n;
    s.embedding /= n;
    s.combined /= n;
    s.text_undetermined /= n;
    Ok(s)
}

impl LangidReport {
    /// The report as rows of figures: each identifier's accuracy per language
    /// (`NaN` for short texts where a language has none).
    pub fn figures(&self) -> crate::Figures {
        let short = |s: &LangidScores, x: f64| if s.short > 0 { x } else { f64::NAN };
        crate::Figures {
            title: format!(
                "Language identification on Tatoeba (first {} sentences)",
                self.limit
            ),
            columns: vec![
                "text".into(),
                "embedding".into(),
                "combined".into(),
                "short".into(),
                "short query".into(),
            ],
            rows: self
                .per_language
                .iter()
                .map(|(l, s)| {
                    (
                        l.clone(),
                        vec![
                            s.text,
                            s.embedding,
                            s.combined,
                            short(s, s.short_combined),
                            short(s, s.short_query),
                        ],
                    )
                })
                .collect(),
            headline: vec![
                ("combined".into(), self.combined),
                ("short query".into(), self.short_query),
            ],
        }
    }
}
