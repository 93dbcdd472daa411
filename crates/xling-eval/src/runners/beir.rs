//! A BEIR-layout collection (corpus.jsonl, queries.jsonl, qrels/test.tsv),
//! or a folder of them measured one after the other.

use std::path::{Path, PathBuf};

use xling_index::Document;

use super::EvalContext;
use crate::datasets::{parse_beir_corpus, parse_beir_queries, parse_qrels};
use crate::error::{read, RunError, RunResult};
use crate::metrics::{MetricAccumulator, MetricSet};

/// What a BEIR run measured.
pub struct BeirReport {
    /// The mean metrics (the `--json` report).
    pub metrics: MetricSet,
    /// Queries evaluated.
    pub queries: usize,
    /// Documents indexed.
    pub documents: usize,
}

/// Runs the BEIR collection in `data`: the first `limit` judged queries.
pub fn beir(ctx: &mut EvalContext, data: &Path, limit: Option<usize>) -> RunResult<BeirReport> {
    let corpus = parse_beir_corpus(&read(&data.join("corpus.jsonl"))?)?;
    let queries = parse_beir_queries(&read(&data.join("queries.jsonl"))?)?;
    let qrels = parse_qrels(&read(&data.join("qrels").join("test.tsv"))?)?;
    let docs: Vec<Document> = corpus
        .into_iter()
        .filter(|d| !d.text.trim().is_empty() || !d.title.trim().is_empty())
        .map(|d| Document {
            text: if d.text.trim().is_empty() {
                d.title.clone()
            } else {
                d.text
            },
            id: d.id,
            title: Some(d.title).filter(|t| !t.trim().is_empty()),
            url: None,
            lang: None,
        })
        .collect();
    let documents = docs.len();
    let index = ctx.index(docs)?;
    let judged: Vec<_> = queries
        .into_iter()
        .filter(|q| qrels.contains_key(&q.id))
        .take(limit.unwrap_or(usize::MAX))
        .collect();
    let list: Vec<String> = judged.iter().map(|q| q.text.clone()).collect();
    let ranked = ctx.rank(&index, &list)?;
    let mut acc = MetricAccumulator::new();
    for (q, r) in judged.iter().zip(&ranked) {
        if let Some(judgments) = qrels.get(&q.id) {
            acc.add(r, judgments);
        }
    }
    Ok(BeirReport {
        metrics: acc.mean(),
        queries: acc.evaluated(),
        documents,
    })
}

/// Whether `dir` holds one BEIR collection (rather than a folder of them).
pub fn is_beir_set(dir: &Path) -> bool {
    dir.join("corpus.jsonl").is_file()
}

/// The BEIR collections directly under `dir`, sorted by name.
pub fn beir_sets_in(dir: &Path) -> RunResult<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| RunError::io(format!("cannot list {}", dir.display()), e))?;
    let mut sets: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_beir_set(p))
        .collect();
    sets.sort();
    if sets.is_empty() {
        return Err(RunError::Invalid(format!(
            "{} holds no BEIR collection (corpus.jsonl, queries.jsonl, qrels/test.tsv), nor folders of them",
            dir.display()
        )));
    }
    Ok(sets)
}

/// What a run over several BEIR collections measured, per collection.
pub struct BeirSuiteReport {
    /// Collection folder name and its report, sorted by name.
    pub sets: Vec<(String, BeirReport)>,
    /// Search mode of the run.
    pub mode: String,
}

/// Runs every BEIR collection in `dir` (one index each).
pub fn beir_suite(
    ctx: &mut EvalContext,
    dir: &Path,
    limit: Option<usize>,
) -> RunResult<BeirSuiteReport> {
    let mut sets = Vec::new();
    let paths = beir_sets_in(dir)?;
    let bar = ctx
        .progress
        .stage(crate::progress::Stage::Collections, paths.len());
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        bar.message(&name);
        sets.push((name, beir(ctx, &path, limit)?));
        ctx.embeddings.save()?;
        bar.advance(1);
    }
    bar.finish();
    Ok(BeirSuiteReport {
        sets,
        mode: ctx.options.mode.to_string(),
    })
}

/// Measures of BEIR figures, in column order.
const BEIR_COLUMNS: [&str; 4] = ["nDCG@10", "MRR@10", "R@10", "R@100"];

fn beir_row(m: &MetricSet) -> Vec<f64> {
    vec![m.ndcg_at_10, m.mrr_at_10, m.recall_at_10, m.recall_at_100]
}

impl BeirReport {
    /// The report as one row of figures named `name`.
    pub fn figures(&self, name: &str, mode: &str) -> crate::Figures {
        crate::Figures {
            title: format!("BEIR {name} ({mode} mode)"),
            columns: BEIR_COLUMNS.iter().map(|c| c.to_string()).collect(),
            rows: vec![(name.to_string(), beir_row(&self.metrics))],
            headline: Vec::new(),
        }
    }
}

impl BeirSuiteReport {
    /// The report as rows of figures: one per collection.
    pub fn figures(&self) -> crate::Figures {
        crate::Figures {
            title: format!("BEIR collections ({} mode)", self.mode),
            columns: BEIR_COLUMNS.iter().map(|c| c.to_string()).collect(),
            rows: self
                .sets
                .iter()
                .map(|(n, r)| (n.clone(), beir_row(&r.metrics)))
                .collect(),
            headline: Vec::new(),
        }
    }
}
