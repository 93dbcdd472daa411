//! XQuAD-R with the LAReQA protocol: X-Y (every language's answer counts,
//! one pool of all languages) and X-X (each language's own pool).

use std::collections::HashMap;
use std::path::Path;

use xling_index::{Document, Index};

use super::EvalContext;
use crate::datasets::{check_xquad_aligned, parse_xquad, XquadLanguage};
use crate::error::{read, RunResult};
use crate::metrics::{average_precision, Judgments};

/// The 11 XQuAD-R languages, in the order reports list them.
pub const XQUAD_LANGUAGES: [&str; 11] = [
    "ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh",
];

/// The `--json` report of an XQuAD-R run.
#[derive(serde::Serialize)]
pub struct XquadReport {
    /// Mean average precision over all questions, all languages' answers relevant.
    pub map_xy: f64,
    /// Mean over languages of the mAP within the language's own pool.
    pub map_xx: f64,
    /// English questions in the English pool.
    pub map_en_en: f64,
    /// Search mode of the run.
    pub mode: String,
    /// Engine whose embeddings were measured.
    pub engine: String,
    /// Questions evaluated.
    pub questions: usize,
    /// Candidate sentences in the X-Y pool.
    pub candidates: usize,
    /// Figures per query language.
    pub per_language: HashMap<String, XquadLanguageReport>,
    /// The languages run, in [`XQUAD_LANGUAGES`] order (not in the JSON).
    #[serde(skip)]
    pub languages: Vec<String>,
}

/// One query language's XQuAD-R figures.
#[derive(serde::Serialize, Clone, Copy)]
pub struct XquadLanguageReport {
    /// mAP against all languages' answers.
    pub map_xy: f64,
    /// mAP within the language's own pool.
    pub map_xx: f64,
    /// Share of the top 11 results in the query's own language (11 answers exist, one per language).
    pub same_language_top11: f64,
}

/// Runs XQuAD-R from `data` (the xquad-r folder or the folder holding it):
/// the `languages` given (all if empty), the first `limit` paragraphs per language.
pub fn xquad(
    ctx: &mut EvalContext,
    data: &Path,
    languages: &[String],
    limit: Option<usize>,
) -> RunResult<XquadReport> {
    let langs: Vec<&str> = XQUAD_LANGUAGES
        .iter()
        .copied()
        .filter(|l| languages.is_empty() || languages.iter().any(|a| a == l))
        .collect();
    let data = read_languages(data, &langs)?;
    let paragraphs = limit.unwrap_or(usize::MAX);
    let docs = candidates(&data, paragraphs);
    let candidates = docs.len();
    ctx.progress.note(&format!(
        "XQuAD-R: {candidates} candidate sentences in {} languages",
        langs.len()
    ));
    // X-X searches each language's pool alone: one index per language.
    let mut pools: HashMap<String, Vec<Document>> = HashMap::new();
    for d in &docs {
        let lang = d.id.split('/').next().unwrap_or_default().to_string();
        pools.entry(lang).or_default().push(d.clone());
    }
    let index = ctx.index(docs)?;
    let detected: Vec<String> = index
        .stats()
        .languages
        .iter()
        .take(16)
        .map(|(l, n)| format!("{l} {n}"))
        .collect();
    ctx.progress
        .note(&format!("passage languages: {}", detected.join(", ")));
    // Answer sentence of each question id in each language.
    let mut answers: HashMap<&str, Vec<String>> = HashMap::new();
    for d in &data {
        for q in d.questions.iter().filter(|q| q.paragraph < paragraphs) {
            answers
                .entry(&q.id)
                .or_default()
                .push(format!("{}/{}/{}", d.lang, q.paragraph, q.sentence));
        }
    }
    let mut per_language = HashMap::new();
    let (mut xy_all, mut count) = (0.0, 0usize);
    for d in &data {
        let pool = pools.remove(&d.lang).unwrap_or_default();
        let sums = score_language(ctx, &index, pool, d, &answers, paragraphs)?;
        let n = sums.questions.max(1) as f64;
        per_language.insert(
            d.lang.clone(),
            XquadLanguageReport {
                map_xy: sums.xy / n,
                map_xx: sums.xx / n,
                same_language_top11: sums.same / n,
            },
        );
        xy_all += sums.xy;
        count += sums.questions;
    }
    let map_xy = xy_all / count.max(1) as f64;
    let map_xx =
        per_language.values().map(|r| r.map_xx).sum::<f64>() / per_language.len().max(1) as f64;
    let map_en_en = per_language.get("en").map(|r| r.map_xx).unwrap_or(f64::NAN);
    Ok(XquadReport {
        map_xy,
        map_xx,
        map_en_en,
        mode: ctx.options.mode.to_string(),
        engine: ctx.engine.name().into(),
        questions: count,
        candidates,
        per_language,
        languages: langs.iter().map(|l| l.to_string()).collect(),
    })
}

/// The `<lang>.json` files of `langs`, checked to be aligned.
fn read_languages(data: &Path, langs: &[&str]) -> RunResult<Vec<XquadLanguage>> {
    let dir = if data.join("en.json").exists() {
        data.to_path_buf()
    } else {
        data.join("xquad-r")
    };
    let mut out = Vec::new();
    for lang in langs {
        out.push(parse_xquad(
            lang,
            &read(&dir.join(format!("{lang}.json")))?,
        )?);
    }
    check_xquad_aligned(&out)?;
    Ok(out)
}

/// Every sentence of the first `paragraphs` paragraphs, id `lang/paragraph/sentence`.
fn candidates(data: &[XquadLanguage], paragraphs: usize) -> Vec<Document> {
    let mut docs = Vec::new();
    for d in data {
        for (p, sentences) in d.paragraphs.iter().enumerate().take(paragraphs) {
            for (s, text) in sentences.iter().enumerate() {
                docs.push(Document {
                    id: format!("{}/{p}/{s}", d.lang),
                    text: text.clone(),
                    title: None,
                    url: None,
                    lang: Some(d.lang.clone()),
                });
            }
        }
    }
    docs
}

/// Sums over one language's questions (divided by `questions` for the report).
struct LanguageSums {
    xy: f64,
    xx: f64,
    same: f64,
    questions: usize,
}

/// One query language: its questions against all languages (`index`) and
/// against its own `pool`.
fn score_language(
    ctx: &mut EvalContext,
    index: &Index,
    pool: Vec<Document>,
    d: &XquadLanguage,
    answers: &HashMap<&str, Vec<String>>,
    paragraphs: usize,
) -> RunResult<LanguageSums> {
    let questions: Vec<_> = d
        .questions
        .iter()
        .filter(|q| q.paragraph < paragraphs)
        .collect();
    let texts: Vec<String> = questions.iter().map(|q| q.text.clone()).collect();
    let xy = ctx.rank(index, &texts)?;
    let pool = ctx.index(pool)?;
    let xx = ctx.rank(&pool, &texts)?;
    let (mut sum_xy, mut sum_xx, mut same) = (0.0, 0.0, 0.0);
    for (i, q) in questions.iter().enumerate() {
        let all: Judgments = answers
            .get(q.id.as_str())
            .into_iter()
            .flatten()
            .map(|a| (a.clone(), 1))
            .collect();
        let own: Judgments = [(format!("{}/{}/{}", d.lang, q.paragraph, q.sentence), 1)].into();
        sum_xy += average_precision(&xy[i], &all).unwrap_or(0.0);
        sum_xx += average_precision(&xx[i], &own).unwrap_or(0.0);
        let prefix = format!("{}/", d.lang);
        let top = xy[i].iter().take(11);
        same += top.filter(|id| id.starts_with(&prefix)).count() as f64 / 11.0;
    }
    Ok(LanguageSums {
        xy: sum_xy,
        xx: sum_xx,
        same,
        questions: questions.len(),
    })
}

impl XquadReport {
    /// The report as rows of figures: X-Y and X-X mAP per query language.
    pub fn figures(&self) -> crate::Figures {
        crate::Figures {
            title: format!("XQuAD-R ({} mode, {} engine)", self.mode, self.engine),
            columns: vec!["X-Y mAP".into(), "X-X mAP".into()],
            rows: self
                .languages
                .iter()
                .filter_map(|l| {
                    let r = self.per_language.get(l)?;
                    Some((l.clone(), vec![r.map_xy, r.map_xx]))
                })
                .collect(),
            headline: vec![
                ("X-Y".into(), self.map_xy),
                ("X-X".into(), self.map_xx),
                ("En-En".into(), self.map_en_en),
            ],
        }
    }
}
