//! The posting lists and the exact term statistics (N, total length, document
//! frequencies) under add and remove.

use std::collections::HashMap;

use super::Bm25Params;
use xling_model::error::{Error, Result};

/// One passage in a term's posting list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Posting {
    pub(super) passage: u32,
    /// Occurrences of the term in the passage; always > 0. Kept as u32 (no
    /// saturation) so a remove can check it exactly.
    pub(super) tf: u32,
}

/// `doc_len` value of a passage id that is not (or no longer) in the index.
/// It is also why `u32::MAX` cannot be a passage length.
pub(super) const ABSENT: u32 = u32::MAX;

/// An incremental BM25 index: posting lists per term and one length per passage.
///
/// No forward index is kept: to remove a passage, the caller passes its terms
/// again (it re-tokenizes the stored text).
#[derive(Debug, Clone, PartialEq)]
pub struct LexicalIndex {
    pub(super) params: Bm25Params,
    /// Term id → postings sorted by passage id. A map rather than a Vec indexed
    /// by term id: term ids come from the caller and a 250k-piece vocabulary
    /// would cost 6 MB of empty lists; a query does only ~15 lookups.
    /// Terms with no postings are removed, so the map's keys are the vocabulary.
    pub(super) postings: HashMap<u32, Vec<Posting>>,
    /// Passage id → number of terms, or [`ABSENT`]. Ids are dense and grow, so
    /// a Vec gives the O(1) length lookup every scored posting needs; memory is
    /// 4 bytes per id ever used (deleted ids are never reused).
    pub(super) doc_len: Vec<u32>,
    /// Number of live passages (N).
    pub(super) live: usize,
    /// Sum of the live passages' lengths (avgdl = total_len / N).
    pub(super) total_len: u64,
}

/// Distinct terms with their counts, in ascending term id.
pub(super) fn term_counts(terms: &[u32]) -> Vec<(u32, u32)> {
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

    /// The parameters in use, after clamping: the ones scores are computed with.
    pub fn params(&self) -> Bm25Params {
        self.params
    }

    /// Number of live passages.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no live passage is left (a search then returns nothing).
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

    /// [`LexicalIndex::idf`] for a known document frequency, in f64.
    pub(super) fn idf_of(&self, df: usize) -> f64 {
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

    /// Heap bytes of the posting lists (the map and every list, by
    /// capacity) and the passage lengths, for [`crate::memory::IndexMemory`].
    pub fn heap_bytes(&self) -> usize {
        use crate::memory::{hash_map_bytes, vec_bytes};
        hash_map_bytes(&self.postings)
            + self.postings.values().map(vec_bytes).sum::<usize>()
            + vec_bytes(&self.doc_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexical::testing::{all, small, Rng, Zipf};

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
}
