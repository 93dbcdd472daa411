//! Tatoeba: each sentence's translation searched among the other side's
//! sentences (to English and from English), accuracy of the first hit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use xling_index::{Document, Index, SearchOptions};

use super::EvalContext;
use crate::datasets::{parse_tatoeba, tatoeba_languages, TatoebaPair};
use crate::error::{read, RunError, RunResult};
use crate::progress::Stage;

/// The `--json` report of a Tatoeba run.
#[derive(serde::Serialize)]
pub struct TatoebaReport {
    /// Mean of the languages' accuracies.
    pub accuracy: f64,
    /// Search mode of the run.
    pub mode: String,
    /// Engine whose embeddings were measured.
    pub engine: String,
    /// Figures per language.
    pub per_language: BTreeMap<String, TatoebaLanguage>,
}

/// One language's Tatoeba accuracies.
#[derive(serde::Serialize, Clone, Copy)]
pub struct TatoebaLanguage {
    /// Sentence in the language → its English translation found first.
    pub to_english: f64,
    /// English sentence → its translation found first.
    pub from_english: f64,
    /// Mean of both directions.
    pub accuracy: f64,
}

/// The Tatoeba folder for `--data` (the folder itself, or the data
/// directory holding `tatoeba/`) and its languages, restricted to `only`
/// when that is not empty.
pub fn tatoeba_set(data: &Path, only: &[String]) -> RunResult<(PathBuf, Vec<String>)> {
    let dir = if data.join("README.md").exists() && data.ends_with("tatoeba") {
        data.to_path_buf()
    } else if data.join("tatoeba").is_dir() {
        data.join("tatoeba")
    } else {
        data.to_path_buf()
    };
    let names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| RunError::io(format!("cannot list {}", dir.display()), e))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    let langs: Vec<String> = tatoeba_languages(&names)
        .into_iter()
        .filter(|l| only.is_empty() || only.contains(l))
        .collect();
    if langs.is_empty() {
        return Err(RunError::Invalid(format!(
            "no Tatoeba language pairs (tatoeba.XXX-eng.XXX) found in {}",
            dir.display()
        )));
    }
    Ok((dir, langs))
}

/// The aligned sentences of one Tatoeba language and English.
pub fn read_tatoeba_pair(dir: &Path, lang: &str) -> RunResult<TatoebaPair> {
    Ok(parse_tatoeba(
        lang,
        &read(&dir.join(format!("tatoeba.{lang}-eng.{lang}")))?,
        &read(&dir.join(format!("tatoeba.{lang}-eng.eng")))?,
    )?)
}

/// Runs Tatoeba from `data` over `languages` (all if empty), the first
/// `limit` sentences of each.
pub fn tatoeba(
    ctx: &mut EvalContext,
    data: &Path,
    languages: &[String],
    limit: Option<usize>,
) -> RunResult<TatoebaReport> {
    let (dir, langs) = tatoeba_set(data, languages)?;
    let limit = limit.unwrap_or(usize::MAX);
    let options = SearchOptions {
        k: 1,
        ..ctx.options.clone()
    };
    let saved = std::mem::replace(&mut ctx.options, options);
    let mut per_language = BTreeMap::new();
    let progress = ctx.progress;
    let bar = progress.stage(Stage::Tatoeba, langs.len());
    for lang in &langs {
        bar.message(lang);
        let pair = read_tatoeba_pair(&dir, lang)?;
        per_language.insert(lang.clone(), score_pair(ctx, lang, &pair, limit)?);
        ctx.embeddings.save()?;
        bar.advance(1);
    }
    bar.finish();
    ctx.options = saved;
    let accuracy =
        per_language.values().map(|l| l.accuracy).sum::<f64>() / per_language.len() as f64;
    Ok(TatoebaReport {
        accuracy,
        mode: ctx.options.mode.to_string(),
        engine: ctx.engine.name().into(),
        per_language,
    })
}

/// Both directions of one language pair, over its first `limit` sentences.
fn score_pair(
    ctx: &mut EvalContext,
    lang: &str,
    pair: &TatoebaPair,
    limit: usize,
) -> RunResult<TatoebaLanguage> {
    let n = pair.other.len().min(limit);
    // One index per side: a sentence's translation is searched among the
    // other side's sentences.
    let indexes = [
        side_index(ctx, lang, &pair.other, n)?,
        side_index(ctx, "eng", &pair.english, n)?,
    ];
    let to_english = score(ctx, &indexes, "eng", &pair.other, n)?;
    let from_english = score(ctx, &indexes, lang, &pair.english, n)?;
    Ok(TatoebaLanguage {
        to_english,
        from_english,
        accuracy: (to_english + from_english) / 2.0,
    })
}

/// The index of one side's first `n` sentences, id `side/i`.
fn side_index(
    ctx: &mut EvalContext,
    side: &str,
    sentences: &[String],
    n: usize,
) -> RunResult<Index> {
    let docs = sentences
        .iter()
        .take(n)
        .enumerate()
        .filter(|(_, text)| !text.trim().is_empty())
        .map(|(i, text)| Document {
            id: format!("{side}/{i}"),
            text: text.clone(),
            title: None,
            url: None,
            lang: Some(side.to_string()),
        })
        .collect();
    ctx.index(docs)
}

/// Accuracy of finding sentence i of `to` for sentence i of `sentences`.
fn score(
    ctx: &mut EvalContext,
    indexes: &[Index; 2],
    to: &str,
    sentences: &[String],
    n: usize,
) -> RunResult<f64> {
    let valid: Vec<usize> = (0..sentences.len().min(n))
        .filter(|i| !sentences[*i].trim().is_empty())
        .collect();
    let queries: Vec<String> = valid.iter().map(|i| sentences[*i].clone()).collect();
    let index = &indexes[usize::from(to == "eng")];
    let ranked = ctx.rank(index, &queries)?;
    let hits = valid
        .iter()
        .zip(&ranked)
        .filter(|(i, r)| r.first().is_some_and(|id| *id == format!("{to}/{i}")))
        .count();
    Ok(hits as f64 / valid.len().max(1) as f64)
}

impl TatoebaReport {
    /// The report as rows of figures: both directions per language.
    pub fn figures(&self) -> crate::Figures {
        crate::Figures {
            title: format!("Tatoeba ({} mode, {} engine)", self.mode, self.engine),
            columns: vec!["→eng".into(), "eng→".into()],
            rows: self
                .per_language
                .iter()
                .map(|(l, r)| (l.clone(), vec![r.to_english, r.from_english]))
                .collect(),
            headline: vec![("mean".into(), self.accuracy)],
        }
    }
}
