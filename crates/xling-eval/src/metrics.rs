//! Ranking metrics for one query, and their mean over a query set.
//!
//! The definitions follow trec_eval as BEIR calls it through pytrec_eval, so our
//! numbers can be put next to published ones:
//!
//! - a document is relevant when its graded relevance is > 0;
//! - nDCG uses linear gains (gain = relevance, as `ndcg_cut`), a `log2(rank + 1)`
//!   discount and an ideal ranking built from the judgments, not from the run;
//! - recall and AP divide by every relevant document of the query, so relevant
//!   documents that were never retrieved count against the run.
//!
//! The ranking is taken as given (best first): there are no scores, hence no
//! tie-breaking. An id that appears twice counts only at its first rank, so a
//! buggy run cannot score above 1.
//!
//! A query with no relevant document has no defined value (every metric would
//! be 0/0). The per-query functions return `None` for it, and
//! [`MetricAccumulator`] leaves it out of the means and counts it, as BEIR
//! evaluates only queries that have judgments. (trec_eval would score a query
//! judged with zeros only as 0.)

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// Graded judgments of one query: document id → relevance (0 = not relevant).
pub type Judgments = HashMap<String, u32>;

/// Relevance of `id`, 0 when unjudged.
fn relevance(qrels: &Judgments, id: &str) -> u32 {
    qrels.get(id).copied().unwrap_or(0)
}

/// Number of relevant (relevance > 0) documents.
fn relevant_count(qrels: &Judgments) -> usize {
    qrels.values().filter(|&&r| r > 0).count()
}

/// The relevance of each ranked id, 0 for repeats of an id already seen.
fn gains<S: AsRef<str>>(ranked: &[S], qrels: &Judgments) -> Vec<u32> {
    let mut seen = HashSet::new();
    ranked
        .iter()
        .map(|id| {
            let id = id.as_ref();
            if seen.insert(id) {
                relevance(qrels, id)
            } else {
                0
            }
        })
        .collect()
}

/// Discount of the item at 0-based position `i` (rank `i + 1`): `1 / log2(rank + 1)`.
fn discount(i: usize) -> f64 {
    1.0 / ((i + 2) as f64).log2()
}

/// Normalised discounted cumulative gain of the top `k`.
///
/// `None` when the query has no relevant document. With `k = 0` the ideal gain
/// is 0 too, and the value is defined as 0.
pub fn ndcg_at<S: AsRef<str>>(ranked: &[S], qrels: &Judgments, k: usize) -> Option<f64> {
    if relevant_count(qrels) == 0 {
        return None;
    }
    let dcg: f64 = gains(ranked, qrels)
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, &g)| g as f64 * discount(i))
        .sum();
    let mut ideal: Vec<u32> = qrels.values().copied().filter(|&r| r > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, &g)| g as f64 * discount(i))
        .sum();
    if idcg > 0.0 {
        Some(dcg / idcg)
    } else {
        Some(0.0)
    }
}

/// Fraction of the relevant documents that are in the top `k`.
pub fn recall_at<S: AsRef<str>>(ranked: &[S], qrels: &Judgments, k: usize) -> Option<f64> {
    let relevant = relevant_count(qrels);
    if relevant == 0 {
        return None;
    }
    let found = gains(ranked, qrels)
        .iter()
        .take(k)
        .filter(|&&g| g > 0)
        .count();
    Some(found as f64 / relevant as f64)
}

/// Reciprocal rank of the first relevant document in the top `k`, 0 if none is there.
pub fn mrr_at<S: AsRef<str>>(ranked: &[S], qrels: &Judgments, k: usize) -> Option<f64> {
    if relevant_count(qrels) == 0 {
        return None;
    }
    let first = gains(ranked, qrels).iter().take(k).position(|&g| g > 0);
    Some(first.map_or(0.0, |i| 1.0 / (i + 1) as f64))
}

/// Average precision over the whole given ranking: the precision at the rank
/// of each retrieved relevant document, summed and divided by the number of
/// relevant documents (trec_eval's `map`), so unretrieved ones count as 0.
pub fn average_precision<S: AsRef<str>>(ranked: &[S], qrels: &Judgments) -> Option<f64> {
    let relevant = relevant_count(qrels);
    if relevant == 0 {
        return None;
    }
    let mut hits = 0usize;
    let mut sum = 0.0;
    for (i, &g) in gains(ranked, qrels).iter().enumerate() {
        if g > 0 {
            hits += 1;
            sum += hits as f64 / (i + 1) as f64;
        }
    }
    Some(sum / relevant as f64)
}

/// The metrics we report, for one query or averaged over many. Serialises to a
/// JSON object with the keys `ndcg@10`, `recall@10`, `recall@100`, `mrr@10`, `map`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricSet {
    /// Graded nDCG over the first 10 results: BEIR's headline metric.
    #[serde(rename = "ndcg@10")]
    pub ndcg_at_10: f64,
    /// Share of the relevant documents in the first 10 results.
    #[serde(rename = "recall@10")]
    pub recall_at_10: f64,
    /// Share of the relevant documents in the first 100: what a re-ranker could still find.
    #[serde(rename = "recall@100")]
    pub recall_at_100: f64,
    /// Reciprocal rank of the first relevant result within 10 (0 if none).
    #[serde(rename = "mrr@10")]
    pub mrr_at_10: f64,
    /// Mean average precision over the whole ranking given.
    pub map: f64,
}

impl MetricSet {
    /// All metrics of one query; `None` when it has no relevant document.
    /// `map` is computed over the whole given ranking, so pass at least 100
    /// results for `recall@100` and a deep ranking for a meaningful `map`.
    pub fn for_query<S: AsRef<str>>(ranked: &[S], qrels: &Judgments) -> Option<Self> {
        Some(Self {
            ndcg_at_10: ndcg_at(ranked, qrels, 10)?,
            recall_at_10: recall_at(ranked, qrels, 10)?,
            recall_at_100: recall_at(ranked, qrels, 100)?,
            mrr_at_10: mrr_at(ranked, qrels, 10)?,
            map: average_precision(ranked, qrels)?,
        })
    }

    fn add(&mut self, other: &Self) {
        self.ndcg_at_10 += other.ndcg_at_10;
        self.recall_at_10 += other.recall_at_10;
        self.recall_at_100 += other.recall_at_100;
        self.mrr_at_10 += other.mrr_at_10;
        self.map += other.map;
    }

    fn scaled(&self, factor: f64) -> Self {
        Self {
            ndcg_at_10: self.ndcg_at_10 * factor,
            recall_at_10: self.recall_at_10 * factor,
            recall_at_100: self.recall_at_100 * factor,
            mrr_at_10: self.mrr_at_10 * factor,
            map: self.map * factor,
        }
    }
}

/// Running mean of [`MetricSet`] over queries, with a count of the queries
/// left out because they have no relevant document.
#[derive(Debug, Clone, Default)]
pub struct MetricAccumulator {
    sum: MetricSet,
    evaluated: usize,
    skipped: usize,
}

impl MetricAccumulator {
    /// An empty mean: no query evaluated or skipped.
    pub fn new() -> Self {
        Self::default()
    }

    /// Scores one query and adds it to the mean; returns its metrics, or
    /// `None` (counted as skipped) when it has no relevant document.
    pub fn add<S: AsRef<str>>(&mut self, ranked: &[S], qrels: &Judgments) -> Option<MetricSet> {
        match MetricSet::for_query(ranked, qrels) {
            Some(m) => {
                self.sum.add(&m);
                self.evaluated += 1;
                Some(m)
            }
            None => {
                self.skipped += 1;
                None
            }
        }
    }

    /// Mean over the evaluated queries; all zeros when there are none (not
    /// NaN, which JSON cannot hold).
    pub fn mean(&self) -> MetricSet {
        if self.evaluated == 0 {
            return MetricSet::default();
        }
        self.sum.scaled(1.0 / self.evaluated as f64)
    }

    /// Queries that entered the mean.
    pub fn evaluated(&self) -> usize {
        self.evaluated
    }

    /// Queries left out because they have no relevant document.
    pub fn skipped(&self) -> usize {
        self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qrels(pairs: &[(&str, u32)]) -> Judgments {
        pairs.iter().map(|&(d, r)| (d.to_string(), r)).collect()
    }

    fn close(a: Option<f64>, b: f64) {
        let a = a.expect("metric is defined");
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    #[test]
    fn binary_relevance_by_hand() {
        // Relevant: a, c, e. Ranked: a x c y z; e never retrieved.
        let q = qrels(&[("a", 1), ("c", 1), ("e", 1), ("x", 0)]);
        let ranked = ["a", "x", "c", "y", "z"];
        let dcg = 1.0 + 1.0 / 4f64.log2();
        let idcg = 1.0 + 1.0 / 3f64.log2() + 1.0 / 4f64.log2();
        close(ndcg_at(&ranked, &q, 10), dcg / idcg);
        close(ndcg_at(&ranked, &q, 1), 1.0);
        // At k = 2 only "a" counts; the ideal has two relevant in the top 2.
        close(ndcg_at(&ranked, &q, 2), 1.0 / (1.0 + 1.0 / 3f64.log2()));
        close(recall_at(&ranked, &q, 10), 2.0 / 3.0);
        close(recall_at(&ranked, &q, 2), 1.0 / 3.0);
        close(mrr_at(&ranked, &q, 10), 1.0);
        // AP = (1/1 + 2/3) / 3: e (never retrieved) counts as 0.
        close(average_precision(&ranked, &q), (1.0 + 2.0 / 3.0) / 3.0);
    }

    #[test]
    fn graded_gains_are_linear() {
        let q = qrels(&[("a", 1), ("b", 2), ("c", 3)]);
        let ranked = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let dcg = 1.0 + 2.0 / 3f64.log2() + 3.0 / 4f64.log2();
        let idcg = 3.0 + 2.0 / 3f64.log2() + 1.0 / 4f64.log2();
        close(ndcg_at(&ranked, &q, 10), dcg / idcg);
        // The ideal is cut at k too: top-1 ideal gain is 3.
        close(ndcg_at(&ranked, &q, 1), 1.0 / 3.0);
        // Grades do not matter for recall, MRR and AP.
        close(recall_at(&ranked, &q, 10), 1.0);
        close(mrr_at(&ranked, &q, 10), 1.0);
        close(average_precision(&ranked, &q), 1.0);
    }

    /// The same cases as above, scored by pytrec_eval (pytrec-eval-terrier
    /// 0.5.11, measures `ndcg_cut`, `recall`, `recip_rank`, `map`), with
    /// scores decreasing down the ranking.
    #[test]
    fn matches_pytrec_eval() {
        let q = qrels(&[("a", 1), ("c", 1), ("e", 1), ("x", 0)]);
        let ranked = ["a", "x", "c", "y", "z"];
        close(ndcg_at(&ranked, &q, 2), 0.6131471927654584);
        close(ndcg_at(&ranked, &q, 10), 0.7039180890341347);
        close(average_precision(&ranked, &q), 0.5555555555555555);
        let q = qrels(&[("a", 1), ("b", 2), ("c", 3)]);
        let ranked = ["a", "b", "c"];
        close(ndcg_at(&ranked, &q, 2), 0.5307212739772434);
        close(ndcg_at(&ranked, &q, 10), 0.7899980042460358);
        let q = qrels(&[("r", 2)]);
        let ranked = ["a", "b", "c", "r"];
        close(ndcg_at(&ranked, &q, 10), 0.43067655807339306);
        close(mrr_at(&ranked, &q, 10), 0.25);
    }

    #[test]
    fn relevant_beyond_the_depth() {
        let q = qrels(&[("r", 2)]);
        let ranked = ["a", "b", "c", "r"];
        close(ndcg_at(&ranked, &q, 3), 0.0);
        close(ndcg_at(&ranked, &q, 4), 1.0 / 5f64.log2());
        close(recall_at(&ranked, &q, 3), 0.0);
        close(recall_at(&ranked, &q, 4), 1.0);
        close(mrr_at(&ranked, &q, 3), 0.0);
        close(mrr_at(&ranked, &q, 4), 0.25);
        close(average_precision(&ranked, &q), 0.25);
        // Truncated ranking: the relevant document was never retrieved.
        close(average_precision(&ranked[..3], &q), 0.0);
    }

    #[test]
    fn no_relevant_document_is_undefined() {
        let ranked = ["a", "b"];
        for q in [qrels(&[]), qrels(&[("a", 0), ("b", 0)])] {
            assert_eq!(ndcg_at(&ranked, &q, 10), None);
            assert_eq!(recall_at(&ranked, &q, 10), None);
            assert_eq!(mrr_at(&ranked, &q, 10), None);
            assert_eq!(average_precision(&ranked, &q), None);
            assert_eq!(MetricSet::for_query(&ranked, &q), None);
        }
    }

    #[test]
    fn empty_ranking_and_zero_depth() {
        let q = qrels(&[("a", 1)]);
        let empty: [&str; 0] = [];
        close(ndcg_at(&empty, &q, 10), 0.0);
        close(recall_at(&empty, &q, 10), 0.0);
        close(mrr_at(&empty, &q, 10), 0.0);
        close(average_precision(&empty, &q), 0.0);
        close(ndcg_at(&["a"], &q, 0), 0.0);
        close(recall_at(&["a"], &q, 0), 0.0);
        close(mrr_at(&["a"], &q, 0), 0.0);
    }

    #[test]
    fn duplicates_count_once() {
        let q = qrels(&[("a", 1), ("b", 1)]);
        let ranked = ["a", "a", "b"];
        close(recall_at(&ranked, &q, 2), 0.5);
        close(average_precision(&ranked, &q), (1.0 + 2.0 / 3.0) / 2.0);
        let dcg = 1.0 + 1.0 / 4f64.log2();
        let idcg = 1.0 + 1.0 / 3f64.log2();
        close(ndcg_at(&ranked, &q, 10), dcg / idcg);
    }

    #[test]
    fn accumulator_means_and_skips() {
        let mut acc = MetricAccumulator::new();
        let perfect = acc.add(&["a"], &qrels(&[("a", 1)])).expect("defined");
        assert_eq!(perfect.map, 1.0);
        // Second query: its only relevant document is at rank 2.
        let second = acc.add(&["x", "b"], &qrels(&[("b", 1)])).expect("defined");
        assert_eq!(second.mrr_at_10, 0.5);
        assert_eq!(acc.add(&["a"], &qrels(&[])), None);
        assert_eq!(acc.evaluated(), 2);
        assert_eq!(acc.skipped(), 1);
        let mean = acc.mean();
        assert!((mean.mrr_at_10 - 0.75).abs() < 1e-12);
        assert!((mean.map - 0.75).abs() < 1e-12);
        assert!((mean.ndcg_at_10 - (1.0 + 1.0 / 3f64.log2()) / 2.0).abs() < 1e-12);
        assert_eq!(mean.recall_at_10, 1.0);
        assert_eq!(mean.recall_at_100, 1.0);
        assert_eq!(MetricAccumulator::new().mean(), MetricSet::default());
    }

    #[test]
    fn serialises_with_the_reported_key_names() {
        let m = MetricSet {
            ndcg_at_10: 0.5,
            recall_at_10: 0.25,
            recall_at_100: 1.0,
            mrr_at_10: 0.125,
            map: 0.75,
        };
        let json = serde_json::to_value(m).expect("serialises");
        let object = json.as_object().expect("an object");
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["map", "mrr@10", "ndcg@10", "recall@10", "recall@100"]
        );
        assert_eq!(json["ndcg@10"], 0.5);
        assert_eq!(json["recall@100"], 1.0);
    }
}
