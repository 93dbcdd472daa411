//! BM25 scoring: one passage ([`LexicalIndex::score`]) or the top k
//! ([`LexicalIndex::search`]), with the same sums in the same order.

use super::index::{term_counts, Posting};
use super::{Bm25Params, LexicalIndex};

/// When a query touches fewer postings than 1/SPARSE_RATIO of the passage ids,
/// a search sums scores by sorting (passage, contribution) pairs instead of
/// filling a dense array of one accumulator per passage id. Measured on 100k
/// passages (`bench_search_100k`): the two break even near 17k postings
/// (1/6), sorting is 2x faster at 2k, the dense array 5x faster at 300k.
const SPARSE_RATIO: usize = 8;

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

/// Score descending, then passage id ascending: a total, deterministic order.
fn by_rank(a: &(u32, f32), b: &(u32, f32)) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

impl LexicalIndex {
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
    use std::collections::HashMap;

    use super::*;
    use crate::lexical::testing::{all, close, small, Rng, Zipf};
    use xling_model::error::Result;

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
