//! An incremental BM25 index over SentencePiece piece ids.
//!
//! The caller lower-cases and tokenizes; this module only sees `&[u32]`, so it
//! works the same for every script (no whitespace or stemming assumptions).
//!
//! Statistics are kept exact under add and remove: the document count, the
//! total length (for avgdl) and every document frequency are integers updated
//! together, and a remove is checked completely before anything changes. An
//! index that went through any sequence of adds and removes therefore scores
//! exactly like one built from scratch with only the surviving passages.
//!
//! Scoring (Robertson/Sparck Jones BM25, the `+1` idf variant used by Lucene):
//!
//! ```text
//! score(q, d) = Σ_{t ∈ q}  qtf(t) · idf(t) · tf(t,d)·(k1+1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl))
//! idf(t)      = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))
//! ```
//!
//! `qtf(t)` is how often `t` occurs in the query: every occurrence counts, as
//! in BM25 with k3 = ∞ and as Lucene does when a query repeats a term. The sum
//! is taken over the distinct query terms in ascending term id, so the result
//! does not depend on query order and [`LexicalIndex::search`] and
//! [`LexicalIndex::score`] give bit-identical numbers.

use std::collections::HashMap;

use super::codec::{Reader, Writer};
use xling_model::error::{Error, Result};

/// BM25's two free parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bm25Params {
    /// Term-frequency saturation: how much a second, third… occurrence still adds.
    pub k1: f32,
    /// Length normalisation: 0 ignores passage length, 1 divides by it fully.
    pub b: f32,
}

impl Default for Bm25Params {
    /// k1 = 1.2, b = 0.75: the values Robertson & Zaragoza recommend and Lucene,
    /// Elasticsearch and most BM25 baselines use. Without relevance judgements of
    /// our own to tune on, the standard choice is the safest; passages are cut to
    /// similar lengths, so b matters less here than on whole documents.
    fn default() -> Self {
        Self { k1: 1.2, b: 0.75 }
    }
}

/// Above this, tf saturation is gone anyway; the cap keeps every score finite.
const MAX_K1: f32 = 1000.0;

impl Bm25Params {
    /// Checks the ranges in which BM25 scores stay finite and positive:
    /// 0 ≤ k1 ≤ 1000 and 0 ≤ b ≤ 1. Use it on user-supplied parameters.
    pub fn validate(&self) -> Result<()> {
        if !(self.k1.is_finite() && (0.0..=MAX_K1).contains(&self.k1)) {
            return Err(Error::InvalidInput(format!(
                "BM25 k1 must be between 0 and {MAX_K1}, got {}",
                self.k1
            )));
        }
        if !(self.b.is_finite() && (0.0..=1.0).contains(&self.b)) {
            return Err(Error::InvalidInput(format!(
                "BM25 b must be between 0 and 1, got {}",
                self.b
            )));
        }
        Ok(())
    }

    /// The nearest valid parameters (NaN falls back to the default), so that
    /// [`LexicalIndex::new`] can stay infallible and scores stay finite.
    fn sanitized(self) -> Self {
        let default = Self::default();
        let k1 = if self.k1.is_nan() {
            default.k1
        } else {
            self.k1.clamp(0.0, MAX_K1)
        };
        let b = if self.b.is_nan() {
            default.b
        } else {
            self.b.clamp(0.0, 1.0)
        };
        Self { k1, b }
    }
}

/// One passage in a term's posting list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Posting {
    passage: u32,
    /// Occurrences of the term in the passage; always > 0. Kept as u32 (no
    /// saturation) so a remove can check it exactly.
    tf: u32,
}

/// `doc_len` value of a passage id that is not (or no longer) in the index.
/// It is also why `u32::MAX` cannot be a passage length.
const ABSENT: u32 = u32::MAX;

/// Version of the serialised layout written by [`LexicalIndex::write`].
const FORMAT_VERSION: u32 = 1;

/// When a query touches fewer postings than 1/SPARSE_RATIO of the passage ids,
/// a search sums scores by sorting (passage, contribution) pairs instead of
/// filling a dense array of one accumulator per passage id. Measured on 100k
/// passages (`bench_search_100k`): the two break even near 17k postings
/// (1/6), sorting is 2x faster at 2k, the dense array 5x faster at 300k.
const SPARSE_RATIO: usize = 8;

/// An incremental BM25 index: posting lists per term and one length per passage.
///
/// No forward index is kept: to remove a passage, the caller passes its terms
/// again (it re-tokenizes the stored text).
#[derive(Debug, Clone, PartialEq)]
pub struct LexicalIndex {
    params: Bm25Params,
    /// Term id → postings sorted by passage id. A map rather than a Vec indexed
    /// by term id: term ids come from the caller and a 250k-piece vocabulary
    /// would cost 6 MB of empty lists; a query does only ~15 lookups.
    /// Terms with no postings are removed, so the map's keys are the vocabulary.
    postings: HashMap<u32, Vec<Posting>>,
    /// Passage id → number of terms, or [`ABSENT`]. Ids are dense and grow, so
    /// a Vec gives the O(1) length lookup every scored posting needs; memory is
    /// 4 bytes per id ever used (deleted ids are never reused).
    doc_len: Vec<u32>,
    /// Number of live passages (N).
    live: usize,
    /// Sum of the live passages' lengths (avgdl = total_len / N).
    total_len: u64,
}

/// A distinct query term that has postings, with its precomputed weight
/// `qtf · idf · (k1 + 1)`.
struct QueryTerm<'a> {
    weight: f32,
    postings: &'a [Posting],
}

/// The length normalisation of the current statistics: the BM25 denominator is
/// `tf + c0 + c1·|d|` with `c0 = k1·(1−b)` and `c1 = k1·b/avgdl`.
#[derive(Clone, Copy)]
struct Norm {
    c0: f32,
    c1: f32,
}

impl Norm {
    #[inline]
    fn contribution(self, weight: f32, tf: u32, doc_len: u32) -> f32 {
        let tf = tf as f32;
        weight * tf / (tf + self.c0 + self.c1 * doc_len as f32)
    }
}

/// Distinct terms with their counts, in ascending term id.
fn term_counts(terms: &[u32]) -> Vec<(u32, u32)> {
    let mut sorted = terms.to_vec();
    sorted.sort_unstable();
    let mut counts: Vec<(u32, u32)> = Vec::new();
    for term in sorted {
        match counts.last_mut() {
            Some((last, n)) if *last == term => *n = n.saturating_add(1),
            _ => counts.push((term, 1)),
        }
    }
    counts
}

/// Score descending, then passage id ascending: a total, deterministic order.
fn by_rank(a: &(u32, f32), b: &(u32, f32)) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

impl LexicalIndex {
    /// An empty index. Out-of-range parameters are clamped to the valid range
    /// (see [`Bm25Params::validate`]) so that every score stays finite.
    pub fn new(params: Bm25Params) -> Self {
        Self {
            params: params.sanitized(),
            postings: HashMap::new(),
            doc_len: Vec::new(),
            live: 0,
            total_len: 0,
        }
    }

    pub fn params(&self) -> Bm25Params {
        self.params
    }

    /// Number of live passages.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Whether `passage` is in the index.
    pub fn contains(&self, passage: u32) -> bool {
        self.doc_len(passage).is_some()
    }

    /// Number of terms `passage` was added with, if it is in the index.
    pub fn doc_len(&self, passage: u32) -> Option<u32> {
        match self.doc_len.get(passage as usize) {
            Some(&len) if len != ABSENT => Some(len),
            _ => None,
        }
    }

    /// Average passage length in terms (0 for an empty index).
    pub fn avg_doc_len(&self) -> f64 {
        if self.live == 0 {
            0.0
        } else {
            self.total_len as f64 / self.live as f64
        }
    }

    /// Number of distinct terms that occur in at least one live passage.
    pub fn vocabulary_len(&self) -> usize {
        self.postings.len()
    }

    /// Number of live passages that contain `term`.
    pub fn doc_freq(&self, term: u32) -> usize {
        self.postings.get(&term).map_or(0, Vec::len)
    }

    /// BM25 idf with the +1 inside the log so it is never negative, even for a
    /// term in every passage: `ln(1 + (N − df + 0.5) / (df + 0.5))`.
    pub fn idf(&self, term: u32) -> f32 {
        self.idf_of(self.doc_freq(term)) as f32
    }

    fn idf_of(&self, df: usize) -> f64 {
        let n = self.live as f64;
        let df = df as f64;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// Adds a passage's terms. Errors ([`Error::InvalidInput`]) if `passage` is
    /// already present, is `u32::MAX` (reserved) or has `u32::MAX` terms or more.
    ///
    /// Ids are expected to grow, which makes every posting insert a push; an
    /// older unused id still works (sorted insert). Memory for passage lengths
    /// is proportional to the largest id, as ids are dense.
    pub fn add(&mut self, passage: u32, terms: &[u32]) -> Result<()> {
        if passage == u32::MAX {
            return Err(Error::InvalidInput(
                "lexical index: passage id u32::MAX is reserved".into(),
            ));
        }
        if self.contains(passage) {
            return Err(Error::InvalidInput(format!(
                "lexical index: passage {passage} is already present"
            )));
        }
        let len = match u32::try_from(terms.len()) {
            Ok(len) if len != ABSENT => len,
            _ => {
                return Err(Error::InvalidInput(format!(
                    "lexical index: passage {passage} has too many terms ({})",
                    terms.len()
                )))
            }
        };
        let slot = passage as usize;
        if slot >= self.doc_len.len() {
            let extra = slot + 1 - self.doc_len.len();
            self.doc_len.try_reserve(extra).map_err(|e| {
                Error::InvalidInput(format!("lexical index: passage id {passage}: {e}"))
            })?;
            self.doc_len.resize(slot + 1, ABSENT);
        }
        for (term, tf) in term_counts(terms) {
            let list = self.postings.entry(term).or_default();
            let posting = Posting { passage, tf };
            match list.last() {
                Some(last) if last.passage > passage => {
                    let at = list.partition_point(|p| p.passage < passage);
                    list.insert(at, posting);
                }
                _ => list.push(posting),
            }
        }
        self.doc_len[slot] = len;
        self.live += 1;
        self.total_len += u64::from(len);
        Ok(())
    }

    /// Removes a passage; `terms` must be the terms it was added with (in any
    /// order). Returns `Ok(false)` if it was not present.
    ///
    /// Every posting is located and its tf compared before anything changes; on
    /// a mismatch it returns [`Error::InvalidInput`] and the index is untouched.
    /// The check is complete: the stored length equals the sum of the passage's
    /// tfs over all its postings, so if the given terms match the length and
    /// each of their tfs, no other posting of the passage can exist.
    pub fn remove(&mut self, passage: u32, terms: &[u32]) -> Result<bool> {
        let Some(len) = self.doc_len(passage) else {
            return Ok(false);
        };
        let mismatch = |what: String| {
            Error::InvalidInput(format!(
                "lexical index: the terms given to remove passage {passage} are not the ones it was added with ({what}); nothing was removed"
            ))
        };
        if terms.len() != len as usize {
            return Err(mismatch(format!(
                "{} terms given, {len} stored",
                terms.len()
            )));
        }
        let counts = term_counts(terms);
        let mut positions = Vec::with_capacity(counts.len());
        for &(term, tf) in &counts {
            let list = self.postings.get(&term).map_or(&[][..], Vec::as_slice);
            let at = list
                .binary_search_by_key(&passage, |p| p.passage)
                .map_err(|_| mismatch(format!("term {term} is not stored for it")))?;
            if list[at].tf != tf {
                return Err(mismatch(format!(
                    "term {term} occurs {tf} times, {} stored",
                    list[at].tf
                )));
            }
            positions.push(at);
        }
        for (&(term, _), at) in counts.iter().zip(positions) {
            if let Some(list) = self.postings.get_mut(&term) {
                list.remove(at);
                if list.is_empty() {
                    self.postings.remove(&term);
                }
            }
        }
        self.doc_len[passage as usize] = ABSENT;
        self.live -= 1;
        self.total_len -= u64::from(len);
        Ok(true)
    }

    fn norm(&self) -> Norm {
        let Bm25Params { k1, b } = self.params;
        let avgdl = self.avg_doc_len();
        // avgdl is 0 only when every live passage is empty: then no posting
        // exists and nothing is scored, any finite value will do.
        let c1 = if avgdl > 0.0 {
            f64::from(k1) * f64::from(b) / avgdl
        } else {
            0.0
        };
        Norm {
            c0: k1 * (1.0 - b),
            c1: c1 as f32,
        }
    }

    /// The distinct query terms that have postings, ascending by term id.
    fn query_terms(&self, query_terms: &[u32]) -> Vec<QueryTerm<'_>> {
        let k1_plus_1 = f64::from(self.params.k1) + 1.0;
        term_counts(query_terms)
            .into_iter()
            .filter_map(|(term, qtf)| {
                let postings = self.postings.get(&term)?;
                let weight = f64::from(qtf) * self.idf_of(postings.len()) * k1_plus_1;
                Some(QueryTerm {
                    weight: weight as f32,
                    postings,
                })
            })
            .collect()
    }

    /// BM25 score of one passage for the query (0.0 if it is absent or matches
    /// no query term), identical to what [`search`](Self::search) gives it.
    /// Meant for fusing candidates that came from the dense side.
    pub fn score(&self, query_terms: &[u32], passage: u32) -> f32 {
        let Some(len) = self.doc_len(passage) else {
            return 0.0;
        };
        let norm = self.norm();
        let mut score = 0.0f32;
        for term in self.query_terms(query_terms) {
            if let Ok(at) = term.postings.binary_search_by_key(&passage, |p| p.passage) {
                score += norm.contribution(term.weight, term.postings[at].tf, len);
            }
        }
        score
    }

    /// The `k` best passages for the query, by BM25 score descending and then
    /// passage id ascending. Passages for which `keep` is false are skipped
    /// (`keep` is only asked about passages that match at least one term);
    /// passages with score 0 (no query term) are never returned.
    pub fn search(
        &self,
        query_terms: &[u32],
        k: usize,
        keep: impl Fn(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        if k == 0 || self.live == 0 {
            return Vec::new();
        }
        let terms = self.query_terms(query_terms);
        let touched: usize = terms.iter().map(|t| t.postings.len()).sum();
        let hits = if touched.saturating_mul(SPARSE_RATIO) < self.doc_len.len() {
            self.accumulate_sparse(&terms, &keep)
        } else {
            self.accumulate_dense(&terms, &keep)
        };
        top_k(hits, k)
    }

    /// Sums contributions in one accumulator per passage id: a linear pass
    /// over memory, best when the query touches a good share of the passages.
    fn accumulate_dense(
        &self,
        terms: &[QueryTerm<'_>],
        keep: &impl Fn(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        let norm = self.norm();
        let mut acc = vec![0.0f32; self.doc_len.len()];
        for term in terms {
            for p in term.postings {
                let slot = p.passage as usize;
                acc[slot] += norm.contribution(term.weight, p.tf, self.doc_len[slot]);
            }
        }
        acc.iter()
            .enumerate()
            .filter(|(passage, score)| **score > 0.0 && keep(*passage as u32))
            .map(|(passage, score)| (passage as u32, *score))
            .collect()
    }

    /// Sums contributions by sorting (passage, contribution) pairs: work
    /// proportional to the postings touched, not to the number of passages.
    /// The sort is stable, so each passage's contributions are added in term
    /// order, exactly as the dense path and [`score`](Self::score) add them.
    fn accumulate_sparse(
        &self,
        terms: &[QueryTerm<'_>],
        keep: &impl Fn(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        let norm = self.norm();
        let mut pairs: Vec<(u32, f32)> = Vec::new();
        for term in terms {
            for p in term.postings {
                let len = self.doc_len[p.passage as usize];
                pairs.push((p.passage, norm.contribution(term.weight, p.tf, len)));
            }
        }
        pairs.sort_by_key(|(passage, _)| *passage);
        let mut hits: Vec<(u32, f32)> = Vec::new();
        let mut current: Option<(u32, f32)> = None;
        for (passage, c) in pairs {
            match &mut current {
                Some((p, score)) if *p == passage => *score += c,
                _ => {
                    if let Some(done) = current.take() {
                        hits.push(done);
                    }
                    current = Some((passage, c));
                }
            }
        }
        hits.extend(current);
        hits.retain(|&(passage, score)| score > 0.0 && keep(passage));
        hits
    }

    /// Serialises the index with the snapshot codec. Deterministic: terms are
    /// written in ascending id, so equal indexes give equal bytes.
    pub fn write(&self, w: &mut Writer) {
        w.u32(FORMAT_VERSION);
        w.f32(self.params.k1);
        w.f32(self.params.b);
        w.u32s(&self.doc_len);
        let mut terms: Vec<u32> = self.postings.keys().copied().collect();
        terms.sort_unstable();
        w.len_u64(terms.len());
        for term in terms {
            let list = self.postings.get(&term).map_or(&[][..], Vec::as_slice);
            w.u32(term);
            w.len_u64(list.len());
            for p in list {
                w.u32(p.passage);
                w.u32(p.tf);
            }
        }
    }

    /// Reads what [`write`](Self::write) wrote, validating everything: valid
    /// parameters, terms strictly ascending with non-empty posting lists,
    /// postings strictly ascending by passage and only for live passages,
    /// tf > 0, and every passage length equal to the sum of its tfs. Counts are
    /// checked against the bytes left before allocating. Does not require the
    /// reader to be exhausted (the caller may store more after it).
    pub fn read(r: &mut Reader) -> Result<Self> {
        let version = r.u32()?;
        if version != FORMAT_VERSION {
            return Err(r.error(format!(
                "lexical index format version {version}, expected {FORMAT_VERSION}"
            )));
        }
        let params = Bm25Params {
            k1: r.finite_f32()?,
            b: r.finite_f32()?,
        };
        params.validate().map_err(|e| r.error(e))?;

        let doc_len = r.u32s()?;
        if doc_len.len() > u32::MAX as usize {
            return Err(r.error("more passage ids than u32 can name"));
        }
        let mut live = 0usize;
        let mut total_len = 0u64;
        for &len in &doc_len {
            if len != ABSENT {
                live += 1;
                total_len += u64::from(len);
            }
        }

        // Each term takes at least 4 (id) + 8 (count) + 8 (one posting) bytes.
        let term_count = r.count(20)?;
        let mut postings: HashMap<u32, Vec<Posting>> = HashMap::with_capacity(term_count);
        let mut tf_sums = vec![0u64; doc_len.len()];
        let mut previous_term: Option<u32> = None;
        for _ in 0..term_count {
            let term = r.u32()?;
            if previous_term.is_some_and(|prev| prev >= term) {
                return Err(r.error(format!("term {term} out of order")));
            }
            previous_term = Some(term);
            let n = r.count(8)?;
            if n == 0 {
                return Err(r.error(format!("term {term} has no postings")));
            }
            let mut list = Vec::with_capacity(n);
            let mut previous_passage: Option<u32> = None;
            for _ in 0..n {
                let passage = r.u32_below(doc_len.len())?;
                if previous_passage.is_some_and(|prev| prev >= passage) {
                    return Err(r.error(format!(
                        "postings of term {term} out of order at passage {passage}"
                    )));
                }
                previous_passage = Some(passage);
                if doc_len[passage as usize] == ABSENT {
                    return Err(r.error(format!(
                        "term {term} has a posting for absent passage {passage}"
                    )));
                }
                let tf = r.u32()?;
                if tf == 0 {
                    return Err(r.error(format!("term {term}: zero tf in passage {passage}")));
                }
                tf_sums[passage as usize] += u64::from(tf);
                list.push(Posting { passage, tf });
            }
            postings.insert(term, list);
        }

        for (passage, (&len, &sum)) in doc_len.iter().zip(&tf_sums).enumerate() {
            // Absent passages have no postings (checked above), so sum is 0.
            if len != ABSENT && u64::from(len) != sum {
                return Err(r.error(format!(
                    "passage {passage} has length {len} but its postings add up to {sum}"
                )));
            }
        }

        Ok(Self {
            params,
            postings,
            doc_len,
            live,
            total_len,
        })
    }
}

/// The `k` best hits in rank order.
fn top_k(mut hits: Vec<(u32, f32)>, k: usize) -> Vec<(u32, f32)> {
    if k == 0 {
        return Vec::new();
    }
    if hits.len() > k {
        hits.select_nth_unstable_by(k - 1, by_rank);
        hits.truncate(k);
    }
    hits.sort_unstable_by(by_rank);
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    /// splitmix64: a small deterministic generator, so tests need no crate.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Zipf-distributed term ids (s = 1), like pieces in real text: a few
    /// pieces ("▁", "s", ",") are in most passages, most are rare.
    struct Zipf {
        cdf: Vec<f64>,
    }

    impl Zipf {
        fn new(vocab: usize) -> Self {
            let mut cdf = Vec::with_capacity(vocab);
            let mut sum = 0.0;
            for rank in 1..=vocab {
                sum += 1.0 / rank as f64;
                cdf.push(sum);
            }
            for c in &mut cdf {
                *c /= sum;
            }
            Self { cdf }
        }

        fn sample(&self, rng: &mut Rng) -> u32 {
            let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
            self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1) as u32
        }

        fn passage(&self, rng: &mut Rng, min: u64, max: u64) -> Vec<u32> {
            let len = min + rng.below(max - min + 1);
            (0..len).map(|_| self.sample(rng)).collect()
        }
    }

    fn all(_: u32) -> bool {
        true
    }

    fn close(a: f32, b: f64) -> bool {
        (f64::from(a) - b).abs() < 1e-5
    }

    /// 0: [1 2 1] (len 3), 1: [2 3] (len 2), 2: [3 3 3 4] (len 4):
    /// N = 3, avgdl = 3, df(1) = df(4) = 1, df(2) = df(3) = 2.
    fn small() -> Result<LexicalIndex> {
        let mut index = LexicalIndex::new(Bm25Params::default());
        index.add(0, &[1, 2, 1])?;
        index.add(1, &[2, 3])?;
        index.add(2, &[3, 3, 3, 4])?;
        Ok(index)
    }

    fn serialize(index: &LexicalIndex) -> Vec<u8> {
        let mut w = Writer::new();
        index.write(&mut w);
        w.into_bytes()
    }

    fn deserialize(bytes: &[u8]) -> Result<LexicalIndex> {
        let mut r = Reader::new(bytes, "lexical index");
        let index = LexicalIndex::read(&mut r)?;
        r.finish()?;
        Ok(index)
    }

    #[test]
    fn bm25_matches_hand_computed_values() -> Result<()> {
        let index = small()?;
        assert_eq!(index.len(), 3);
        assert_eq!(index.avg_doc_len(), 3.0);
        // idf(df=1) = ln(1 + 2.5/1.5) = ln(8/3); idf(df=2) = ln(1 + 1.5/2.5) = ln(1.6).
        let idf1 = (8.0f64 / 3.0).ln();
        let idf2 = 1.6f64.ln();
        assert!(close(index.idf(1), 0.980_829_253));
        assert!(close(index.idf(2), 0.470_003_629));
        // An unknown term: df = 0, ln(1 + 3.5/0.5) = ln 8.
        assert!(close(index.idf(99), 8.0f64.ln()));

        // tf part = tf·2.2 / (tf + 1.2·(0.25 + 0.75·dl/3)).
        // Passage 0, term 1: tf 2, dl 3 → 4.4 / 3.2 = 1.375.
        let hits = index.search(&[1], 10, all);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].0, 0);
        assert!(close(hits[0].1, idf1 * 1.375));
        assert!(close(hits[0].1, 1.348_640_223));

        // Term 3: passage 1 (tf 1, dl 2 → 2.2/1.9), passage 2 (tf 3, dl 4 → 6.6/4.5).
        let hits = index.search(&[3], 10, all);
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [2, 1]);
        assert!(close(hits[0].1, idf2 * 6.6 / 4.5));
        assert!(close(hits[1].1, idf2 * 2.2 / 1.9));
        assert!(close(hits[0].1, 0.689_338_656));
        assert!(close(hits[1].1, 0.544_214_729));

        // Terms 1 and 2: passage 0 adds term 2 with tf 1, dl 3 → 2.2/2.2 = 1.
        let hits = index.search(&[1, 2], 10, all);
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [0, 1]);
        assert!(close(hits[0].1, idf1 * 1.375 + idf2));
        assert!(close(hits[1].1, idf2 * 2.2 / 1.9));

        // A repeated query term counts once per occurrence.
        let twice = index.search(&[3, 3], 10, all);
        assert!(close(twice[0].1, 2.0 * idf2 * 6.6 / 4.5));

        // After removing passage 1: N = 2, avgdl = 3.5, df(3) = 1, idf = ln 2;
        // passage 2: 6.6 / (3 + 1.2·(0.25 + 0.75·4/3.5)).
        let mut index = index;
        assert!(index.remove(1, &[3, 2])?);
        assert_eq!(index.doc_freq(3), 1);
        assert_eq!(index.avg_doc_len(), 3.5);
        let hits = index.search(&[3], 10, all);
        assert_eq!(hits.len(), 1);
        let expected = 2.0f64.ln() * 6.6 / (3.0 + 1.2 * (0.25 + 0.75 * 4.0 / 3.5));
        assert!(close(hits[0].1, expected));
        assert!(close(hits[0].1, 1.056_877_879));
        Ok(())
    }

    #[test]
    fn score_agrees_with_search_bit_for_bit() -> Result<()> {
        let index = small()?;
        for query in [&[1u32][..], &[3], &[1, 2], &[2, 3, 4, 3], &[4, 1]] {
            for (passage, score) in index.search(query, 10, all) {
                assert_eq!(index.score(query, passage).to_bits(), score.to_bits());
            }
        }
        assert_eq!(index.score(&[1], 1), 0.0); // present, no match
        assert_eq!(index.score(&[1], 7), 0.0); // absent
        assert_eq!(index.score(&[1], u32::MAX), 0.0);
        Ok(())
    }

    #[test]
    fn query_order_does_not_change_scores() -> Result<()> {
        let index = small()?;
        assert_eq!(
            index.search(&[1, 2, 3, 4], 10, all),
            index.search(&[4, 3, 2, 1], 10, all)
        );
        Ok(())
    }

    /// Adds and removes passages at random, then checks that every statistic and
    /// every score equals those of an index built from the survivors only.
    #[test]
    fn statistics_stay_exact_under_adds_and_removes() -> Result<()> {
        let mut rng = Rng(7);
        let zipf = Zipf::new(300);
        let mut incremental = LexicalIndex::new(Bm25Params::default());
        let mut texts: Vec<Option<Vec<u32>>> = Vec::new();
        for _ in 0..2000 {
            let live: Vec<usize> = (0..texts.len()).filter(|&i| texts[i].is_some()).collect();
            if !live.is_empty() && rng.below(3) == 0 {
                let id = live[rng.below(live.len() as u64) as usize];
                let mut terms = texts[id].take().unwrap_or_default();
                // The caller may re-tokenize in any order.
                terms.reverse();
                assert!(incremental.remove(id as u32, &terms)?);
                assert!(!incremental.remove(id as u32, &terms)?);
            } else {
                let terms = zipf.passage(&mut rng, 0, 30);
                incremental.add(texts.len() as u32, &terms)?;
                texts.push(Some(terms));
            }
        }

        let mut scratch = LexicalIndex::new(Bm25Params::default());
        for (id, terms) in texts.iter().enumerate() {
            if let Some(terms) = terms {
                scratch.add(id as u32, terms)?;
            }
        }
        assert!(incremental.len() > 100);
        assert_eq!(incremental.len(), scratch.len());
        assert_eq!(incremental.total_len, scratch.total_len);
        assert_eq!(incremental.avg_doc_len(), scratch.avg_doc_len());
        assert_eq!(incremental.vocabulary_len(), scratch.vocabulary_len());
        for term in 0..310 {
            assert_eq!(incremental.doc_freq(term), scratch.doc_freq(term));
            assert_eq!(incremental.idf(term).to_bits(), scratch.idf(term).to_bits());
        }
        assert_eq!(incremental.postings, scratch.postings);
        for _ in 0..300 {
            let query = zipf.passage(&mut rng, 1, 15);
            let a = incremental.search(&query, 20, all);
            assert_eq!(a, scratch.search(&query, 20, all));
            for (passage, score) in a {
                assert_eq!(scratch.score(&query, passage).to_bits(), score.to_bits());
            }
        }

        // Removing everything leaves an empty index with no vocabulary.
        for (id, terms) in texts.iter().enumerate() {
            if let Some(terms) = terms {
                assert!(incremental.remove(id as u32, terms)?);
            }
        }
        assert!(incremental.is_empty());
        assert_eq!(incremental.total_len, 0);
        assert_eq!(incremental.vocabulary_len(), 0);
        assert!(incremental.search(&[0, 1, 2], 10, all).is_empty());
        Ok(())
    }

    #[test]
    fn remove_with_wrong_terms_errors_and_changes_nothing() -> Result<()> {
        let mut index = small()?;
        let before = index.clone();
        let wrong: [&[u32]; 6] = [
            &[1, 2],       // too few terms
            &[1, 2, 1, 1], // too many terms
            &[1, 2, 2],    // same length, wrong tfs
            &[1, 1, 1],    // term 2 missing, tf of 1 wrong
            &[1, 2, 4],    // term 4 exists but not for passage 0
            &[1, 2, 77],   // term 77 does not exist at all
        ];
        for terms in wrong {
            let result = index.remove(0, terms);
            assert!(matches!(result, Err(Error::InvalidInput(_))), "{terms:?}");
            assert_eq!(index, before, "{terms:?}");
        }
        assert!(!index.remove(9, &[1, 2, 1])?);
        assert!(!index.remove(u32::MAX, &[])?);
        assert_eq!(index, before);
        assert!(index.remove(0, &[2, 1, 1])?);
        assert_eq!(index.len(), 2);
        assert_eq!(index.doc_freq(1), 0);
        assert_eq!(index.doc_freq(2), 1);
        Ok(())
    }

    #[test]
    fn double_add_errors_and_changes_nothing() -> Result<()> {
        let mut index = small()?;
        let before = index.clone();
        assert!(matches!(index.add(1, &[5]), Err(Error::InvalidInput(_))));
        assert!(matches!(index.add(1, &[]), Err(Error::InvalidInput(_))));
        assert!(matches!(
            index.add(u32::MAX, &[5]),
            Err(Error::InvalidInput(_))
        ));
        assert_eq!(index, before);
        // A removed id stays free (the caller never reuses it, but we allow it).
        assert!(index.remove(1, &[2, 3])?);
        index.add(1, &[5])?;
        assert_eq!(index.doc_freq(5), 1);
        Ok(())
    }

    #[test]
    fn out_of_order_ids_keep_postings_sorted() -> Result<()> {
        let mut a = LexicalIndex::new(Bm25Params::default());
        for id in [5u32, 2, 9, 0, 7] {
            a.add(id, &[1, id % 3, 1])?;
        }
        let mut b = LexicalIndex::new(Bm25Params::default());
        for id in [0u32, 2, 5, 7, 9] {
            b.add(id, &[1, id % 3, 1])?;
        }
        assert_eq!(a, b);
        Ok(())
    }

    #[test]
    fn empty_passages_count_in_statistics() -> Result<()> {
        let mut index = LexicalIndex::new(Bm25Params::default());
        index.add(0, &[])?;
        assert_eq!(index.len(), 1);
        assert_eq!(index.avg_doc_len(), 0.0);
        assert!(index.search(&[1], 10, all).is_empty());
        index.add(1, &[1, 1])?;
        assert_eq!(index.avg_doc_len(), 1.0);
        assert_eq!(index.search(&[1], 10, all).len(), 1);
        assert!(index.remove(0, &[])?);
        assert_eq!(index.len(), 1);
        Ok(())
    }

    #[test]
    fn keep_filters_results() -> Result<()> {
        let mut index = LexicalIndex::new(Bm25Params::default());
        for id in 0..10u32 {
            index.add(id, &[1, 100 + id])?;
        }
        let hits = index.search(&[1], 3, |p| p % 2 == 1);
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [1, 3, 5]);
        assert!(index.search(&[1], 3, |_| false).is_empty());
        // keep is not asked about passages that do not match.
        let asked = std::cell::RefCell::new(Vec::new());
        index.search(&[105], 10, |p| {
            asked.borrow_mut().push(p);
            true
        });
        assert_eq!(asked.into_inner(), [5]);
        Ok(())
    }

    #[test]
    fn ties_are_broken_by_passage_id() -> Result<()> {
        let mut index = LexicalIndex::new(Bm25Params::default());
        // Same terms, same lengths: equal scores, added in scrambled order.
        for id in [8u32, 3, 5, 1, 9, 4] {
            index.add(id, &[7, 7, 2])?;
        }
        index.add(20, &[7, 2, 2])?; // lower tf for 7: ranks last
        let hits = index.search(&[7], 10, all);
        assert_eq!(
            hits.iter().map(|h| h.0).collect::<Vec<_>>(),
            [1, 3, 4, 5, 8, 9, 20]
        );
        assert!(hits[..6].iter().all(|h| h.1 == hits[0].1));
        // The cut at k keeps the lowest ids among equals.
        let top = index.search(&[7], 3, all);
        assert_eq!(top.iter().map(|h| h.0).collect::<Vec<_>>(), [1, 3, 4]);
        Ok(())
    }

    #[test]
    fn empty_query_empty_index_and_zero_k_give_nothing() -> Result<()> {
        let empty = LexicalIndex::new(Bm25Params::default());
        assert!(empty.is_empty());
        assert!(empty.search(&[1, 2], 10, all).is_empty());
        assert_eq!(empty.score(&[1], 0), 0.0);
        let index = small()?;
        assert!(index.search(&[], 10, all).is_empty());
        assert!(index.search(&[1], 0, all).is_empty());
        assert!(index.search(&[50, 60], 10, all).is_empty());
        Ok(())
    }

    #[test]
    fn dense_and_sparse_accumulation_agree() -> Result<()> {
        let mut rng = Rng(3);
        let zipf = Zipf::new(2000);
        let mut index = LexicalIndex::new(Bm25Params::default());
        for id in 0..3000u32 {
            index.add(id, &zipf.passage(&mut rng, 5, 40))?;
        }
        for _ in 0..100 {
            let query = zipf.passage(&mut rng, 1, 15);
            let terms = index.query_terms(&query);
            let dense = index.accumulate_dense(&terms, &all);
            let sparse = index.accumulate_sparse(&terms, &all);
            assert_eq!(dense.len(), sparse.len());
            for (d, s) in dense.iter().zip(&sparse) {
                assert_eq!(d.0, s.0);
                assert_eq!(d.1.to_bits(), s.1.to_bits());
            }
        }
        Ok(())
    }

    #[test]
    fn params_are_validated_and_clamped() {
        assert!(Bm25Params::default().validate().is_ok());
        for bad in [
            Bm25Params { k1: -0.1, b: 0.5 },
            Bm25Params {
                k1: f32::NAN,
                b: 0.5,
            },
            Bm25Params { k1: 1e9, b: 0.5 },
            Bm25Params { k1: 1.0, b: 1.5 },
            Bm25Params {
                k1: 1.0,
                b: f32::INFINITY,
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
            assert!(LexicalIndex::new(bad).params().validate().is_ok());
        }
        let p = Bm25Params { k1: 0.9, b: 0.4 };
        assert_eq!(LexicalIndex::new(p).params(), p);
    }

    #[test]
    fn extreme_params_still_give_finite_positive_scores() -> Result<()> {
        for params in [
            Bm25Params { k1: 0.0, b: 0.0 },
            Bm25Params { k1: 0.0, b: 1.0 },
            Bm25Params { k1: MAX_K1, b: 1.0 },
            Bm25Params { k1: MAX_K1, b: 0.0 },
        ] {
            let mut index = LexicalIndex::new(params);
            index.add(0, &[1])?;
            index.add(1, &[1; 10_000])?;
            let hits = index.search(&[1; 50], 10, all);
            assert_eq!(hits.len(), 2, "{params:?}");
            assert!(hits.iter().all(|h| h.1.is_finite() && h.1 > 0.0));
        }
        Ok(())
    }

    fn random_index(seed: u64, passages: u32) -> Result<LexicalIndex> {
        let mut rng = Rng(seed);
        let zipf = Zipf::new(500);
        let mut index = LexicalIndex::new(Bm25Params { k1: 0.9, b: 0.4 });
        let mut texts = Vec::new();
        for id in 0..passages {
            let terms = zipf.passage(&mut rng, 0, 25);
            index.add(id, &terms)?;
            texts.push(terms);
        }
        for id in (0..passages).step_by(3) {
            index.remove(id, &texts[id as usize])?;
        }
        Ok(index)
    }

    #[test]
    fn write_read_round_trip() -> Result<()> {
        let index = random_index(11, 400)?;
        let bytes = serialize(&index);
        let back = deserialize(&bytes)?;
        assert_eq!(back, index);
        assert_eq!(serialize(&back), bytes);
        let mut rng = Rng(12);
        let zipf = Zipf::new(500);
        for _ in 0..100 {
            let query = zipf.passage(&mut rng, 1, 15);
            assert_eq!(back.search(&query, 10, all), index.search(&query, 10, all));
        }
        let empty = LexicalIndex::new(Bm25Params::default());
        assert_eq!(deserialize(&serialize(&empty))?, empty);
        Ok(())
    }

    #[test]
    fn every_truncation_is_an_error() -> Result<()> {
        let bytes = serialize(&random_index(5, 30)?);
        for cut in 0..bytes.len() {
            let mut r = Reader::new(&bytes[..cut], "lexical index");
            let result = LexicalIndex::read(&mut r);
            assert!(matches!(result, Err(Error::InvalidIndex(_))), "cut {cut}");
        }
        Ok(())
    }

    #[test]
    fn bit_flips_give_an_error_or_a_valid_index() -> Result<()> {
        let bytes = serialize(&random_index(9, 40)?);
        let mut accepted = 0;
        // Every bit of the file once, then random multi-bit corruptions.
        let mut rng = Rng(99);
        let single = (0..bytes.len() * 8).map(|bit| vec![bit]);
        let multi = (0..3000).map(|_| {
            (0..1 + rng.below(4))
                .map(|_| rng.below(bytes.len() as u64 * 8) as usize)
                .collect::<Vec<_>>()
        });
        let cases: Vec<Vec<usize>> = single.chain(multi).collect();
        for bits in &cases {
            let mut corrupt = bytes.clone();
            for &bit in bits {
                corrupt[bit / 8] ^= 1 << (bit % 8);
            }
            match deserialize(&corrupt) {
                Err(Error::InvalidIndex(_)) => {}
                Err(e) => panic!("unexpected error kind {e}"),
                Ok(index) => {
                    // Still a consistent index: a write/read round trip agrees and
                    // searches work.
                    accepted += 1;
                    assert!(index.params().validate().is_ok());
                    assert_eq!(deserialize(&serialize(&index))?, index);
                    for q in [&[0u32, 1, 2][..], &[3, 4, 5, 6]] {
                        for (p, s) in index.search(q, 5, all) {
                            assert!(s.is_finite() && s > 0.0);
                            assert_eq!(index.score(q, p).to_bits(), s.to_bits());
                        }
                    }
                }
            }
        }
        // Flips in k1/b bits often stay valid; most others are caught.
        assert!(accepted < cases.len() / 2, "{accepted} of {}", cases.len());
        Ok(())
    }

    #[test]
    fn hostile_headers_are_refused() {
        let header = |w: &mut Writer| {
            w.u32(FORMAT_VERSION);
            w.f32(1.2);
            w.f32(0.75);
        };
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("bad version", {
                let mut w = Writer::new();
                w.u32(2);
                w.raw(&[0; 32]);
                w.into_bytes()
            }),
            ("negative k1", {
                let mut w = Writer::new();
                w.u32(FORMAT_VERSION);
                w.f32(-1.0);
                w.f32(0.75);
                w.u32s(&[]);
                w.len_u64(0);
                w.into_bytes()
            }),
            ("huge doc count", {
                let mut w = Writer::new();
                header(&mut w);
                w.u64(u64::MAX);
                w.into_bytes()
            }),
            ("huge term count", {
                let mut w = Writer::new();
                header(&mut w);
                w.u32s(&[1]);
                w.u64(1 << 40);
                w.into_bytes()
            }),
            ("unsorted terms", {
                let mut w = Writer::new();
                header(&mut w);
                w.u32s(&[2]);
                w.len_u64(2);
                for term in [5u32, 4] {
                    w.u32(term);
                    w.len_u64(1);
                    w.u32(0);
                    w.u32(1);
                }
                w.into_bytes()
            }),
            ("empty posting list", {
                let mut w = Writer::new();
                header(&mut w);
                w.u32s(&[0]);
                w.len_u64(1);
                w.u32(5);
                w.len_u64(0);
                w.raw(&[0; 8]);
                w.into_bytes()
            }),
            ("zero tf", {
                let mut w = Writer::new();
                header(&mut w);
                w.u32s(&[0]);
                w.len_u64(1);
                w.u32(5);
                w.len_u64(1);
                w.u32(0);
                w.u32(0);
                w.into_bytes()
            }),
            ("posting for absent passage", {
                let mut w = Writer::new();
                header(&mut w);
                w.u32s(&[ABSENT]);
                w.len_u64(1);
                w.u32(5);
                w.len_u64(1);
                w.u32(0);
                w.u32(1);
                w.into_bytes()
            }),
            ("duplicate posting", {
                let mut w = Writer::new();
                header(&mut w);
                w.u32s(&[2]);
                w.len_u64(1);
                w.u32(5);
                w.len_u64(2);
                for _ in 0..2 {
                    w.u32(0);
                    w.u32(1);
                }
                w.into_bytes()
            }),
            ("length disagrees with postings", {
                let mut w = Writer::new();
                header(&mut w);
                w.u32s(&[3]);
                w.len_u64(1);
                w.u32(5);
                w.len_u64(1);
                w.u32(0);
                w.u32(2);
                w.into_bytes()
            }),
        ];
        for (what, bytes) in cases {
            assert!(
                matches!(deserialize(&bytes), Err(Error::InvalidIndex(_))),
                "{what}"
            );
        }
    }

    /// Timings on a 100k-passage synthetic index (run with `--ignored --nocapture`).
    /// Compares the two accumulators, and a HashMap one, to justify SPARSE_RATIO.
    #[test]
    #[ignore]
    fn bench_search_100k() -> Result<()> {
        use std::time::Instant;
        const PASSAGES: u32 = 100_000;
        let mut rng = Rng(42);
        let zipf = Zipf::new(250_000);
        let texts: Vec<Vec<u32>> = (0..PASSAGES)
            .map(|_| zipf.passage(&mut rng, 60, 180))
            .collect();
        let start = Instant::now();
        let mut index = LexicalIndex::new(Bm25Params::default());
        for (id, terms) in texts.iter().enumerate() {
            index.add(id as u32, terms)?;
        }
        let postings: usize = index.postings.values().map(Vec::len).sum();
        println!(
            "built {PASSAGES} passages, {} terms, {postings} postings, avgdl {:.1} in {:.2?}",
            index.vocabulary_len(),
            index.avg_doc_len(),
            start.elapsed()
        );

        let start = Instant::now();
        for id in 0..1000u32 {
            index.remove(id * 7, &texts[(id * 7) as usize])?;
        }
        println!("remove: {:.1?} per passage", start.elapsed() / 1000);

        let hashmap = |terms: &[QueryTerm<'_>]| {
            let norm = index.norm();
            let mut acc: HashMap<u32, f32> = HashMap::new();
            for term in terms {
                for p in term.postings {
                    let len = index.doc_len[p.passage as usize];
                    *acc.entry(p.passage).or_default() += norm.contribution(term.weight, p.tf, len);
                }
            }
            acc.into_iter().collect::<Vec<_>>()
        };

        // Zipf queries hit the most common pieces (long posting lists);
        // "rare" queries use only pieces of rank > 1000.
        let zipf_queries: Vec<Vec<u32>> =
            (0..200).map(|_| zipf.passage(&mut rng, 15, 15)).collect();
        let rare_queries: Vec<Vec<u32>> = (0..200)
            .map(|_| (0..15).map(|_| 1000 + rng.below(20_000) as u32).collect())
            .collect();
        // "mid" queries: pieces of rank 200..2000, around the crossover.
        let mid_queries: Vec<Vec<u32>> = (0..200)
            .map(|_| (0..15).map(|_| 200 + rng.below(1800) as u32).collect())
            .collect();
        for (name, queries) in [
            ("zipf", &zipf_queries),
            ("mid", &mid_queries),
            ("rare", &rare_queries),
        ] {
            let touched: usize = queries
                .iter()
                .map(|q| {
                    index
                        .query_terms(q)
                        .iter()
                        .map(|t| t.postings.len())
                        .sum::<usize>()
                })
                .sum::<usize>()
                / queries.len();
            let time = |f: &dyn Fn(&[u32]) -> usize| {
                let start = Instant::now();
                let mut n = 0;
                for q in queries.iter() {
                    n += f(q);
                }
                (start.elapsed() / queries.len() as u32, n)
            };
            let dense =
                time(&|q| top_k(index.accumulate_dense(&index.query_terms(q), &all), 10).len());
            let sparse =
                time(&|q| top_k(index.accumulate_sparse(&index.query_terms(q), &all), 10).len());
            let map = time(&|q| top_k(hashmap(&index.query_terms(q)), 10).len());
            let search = time(&|q| index.search(q, 10, all).len());
            println!(
                "{name}: ~{touched} postings/query; dense {:.1?}, sparse {:.1?}, hashmap {:.1?}, search {:.1?}",
                dense.0, sparse.0, map.0, search.0
            );
            assert_eq!(dense.1, sparse.1);
        }
        Ok(())
    }
}
