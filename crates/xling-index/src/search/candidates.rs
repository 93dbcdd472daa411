//! The candidate stages of a search: the dense list (HNSW walk or brute
//! force under the query's correction) and the lexical list (BM25), each
//! `depth` passages deep and limited to the passages in scope.

use super::correction::DenseCorrection;
use super::query::Query;
use super::scope::Scope;
use super::SearchOptions;
use crate::collection::Index;
use crate::debias::{mixed_share, strength_of_share};
use xling_model::error::Result;

/// Passages fetched per side: documents may have several passages, so
/// enough to fill `k` documents (and never fewer than 100, which fusion needs
/// to find the lexical matches the dense side missed).
pub(crate) fn candidate_depth(k: usize) -> usize {
    (k * 3).max(100)
}

impl Index {
    /// The language id of passage `p` (an index into the language statistics).
    pub(crate) fn passage_language(&self, p: u32) -> u16 {
        self.passages[p as usize].lang
    }

    /// The query's dense correction in `language`, standardised over the
    /// language samples of the passages in `scope`.
    pub(crate) fn dense_correction(
        &self,
        query: &Query,
        language: &str,
        options: &SearchOptions,
        scope: &Scope,
    ) -> DenseCorrection {
        let mixed = mixed_share(
            &self.languages,
            |id| self.sure_count(id),
            |id| scope.allows(id),
        );
        DenseCorrection::new(
            query.vector(),
            language,
            &self.languages,
            self.prior.as_ref(),
            &options.debias,
            strength_of_share(mixed),
        )
        .standardised(
            &options.debias,
            &self.samples,
            |p| scope.allows(self.passage_language(p)),
            |c, p| {
                c.centred(
                    self.passage_language(p),
                    self.dense.score_fixed(c.fixed_query(), p),
                    |m| self.dense.score_fixed(m, p),
                )
            },
        )
    }

    /// A passage's full corrected dense score, from its raw score `raw`
    /// against the corrected query.
    pub(crate) fn corrected_score(&self, correction: &DenseCorrection, p: u32, raw: f32) -> f32 {
        correction.adjusted(self.passage_language(p), raw, |m| {
            self.dense.score_fixed(m, p)
        })
    }

    /// Dense candidates, best first: the graph walk follows the cheap
    /// corrected score ([`DenseCorrection::walk`]) and the candidates are
    /// re-scored with the full one, so the list's scores are corrected.
    pub(crate) fn dense_candidates(
        &self,
        correction: &DenseCorrection,
        depth: usize,
        exact: bool,
        live: &impl Fn(u32) -> bool,
    ) -> Result<Vec<(u32, f32)>> {
        self.dense.search_adjusted(
            correction.query(),
            depth,
            exact,
            live,
            |p, s| correction.walk(self.passage_language(p), s),
            |p, s| self.corrected_score(correction, p, s),
        )
    }

    /// Lexical candidates, best first, with their BM25 scores.
    pub(crate) fn lexical_candidates(
        &self,
        query: &Query,
        depth: usize,
        live: &impl Fn(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        self.lexical.search(query.terms(), depth, live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_depth_fills_k_documents_of_three_passages() {
        assert_eq!(candidate_depth(1), 100);
        assert_eq!(candidate_depth(33), 100);
        assert_eq!(candidate_depth(34), 102);
        assert_eq!(candidate_depth(1000), 3000);
    }
}
