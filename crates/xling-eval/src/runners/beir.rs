//! A BEIR-layout collection: corpus.jsonl, queries.jsonl, qrels/test.tsv.

use std::path::Path;

use xling_index::Document;

use super::EvalContext;
use crate::datasets::{parse_beir_corpus, parse_beir_queries, parse_qrels};
use crate::error::{read, RunResult};
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
