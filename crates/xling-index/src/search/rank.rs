//! From candidate lists to one ranking of passages: each side alone, or
//! (hybrid) both lists merged so that every candidate has both scores, then
//! fused ([`crate::fusion::fuse`]).

use std::collections::HashMap;

use super::correction::DenseCorrection;
use super::hits::Ranked;
use super::query::Query;
use crate::collection::Index;
use crate::fusion::{fuse, Candidate, FusionConfig};
use crate::lang::{Script, UNDETERMINED};

/// The dense list as the ranking (dense mode).
pub(crate) fn dense_only(dense: &[(u32, f32)]) -> Vec<Ranked> {
    dense
        .iter()
        .map(|&(passage, score)| Ranked {
            passage,
            score,
            dense: Some(score),
            lexical: None,
        })
        .collect()
}

/// The lexical list as the ranking (lexical mode).
pub(crate) fn lexical_only(lexical: &[(u32, f32)]) -> Vec<Ranked> {
    lexical
        .iter()
        .map(|&(passage, score)| Ranked {
            passage,
            score,
            dense: None,
            lexical: Some(score),
        })
        .collect()
}

/// Whether fusion treats a passage as sharing the query's language: the same
/// language when both are known, else the same script.
pub(crate) fn same_language(
    query_language: &str,
    query_script: Script,
    passage_language: &str,
    passage_script: Script,
) -> bool {
    if query_language != UNDETERMINED && passage_language != UNDETERMINED {
        passage_language == query_language
    } else {
        passage_script == query_script
    }
}

impl Index {
    /// Both lists as one set of candidates, each with both scores, in
    /// passage order: the dense list's scores are already corrected;
    /// lexical-only candidates get their corrected dense score here, and
    /// every candidate its BM25 score.
    pub(crate) fn merge(
        &self,
        query: &Query,
        correction: &DenseCorrection,
        dense: &[(u32, f32)],
        lexical: &[(u32, f32)],
    ) -> Vec<Candidate> {
        let mut candidates: HashMap<u32, Candidate> = HashMap::new();
        for &(p, s) in dense {
            candidates.insert(
                p,
                Candidate {
                    passage: p,
                    dense: s,
                    lexical: self.lexical.score(query.terms(), p),
                },
            );
        }
        for &(p, _) in lexical {
            candidates.entry(p).or_insert_with(|| Candidate {
                passage: p,
                dense: self.corrected_score(
                    correction,
                    p,
                    self.dense.score_fixed(correction.fixed_query(), p),
                ),
                lexical: self.lexical.score(query.terms(), p),
            });
        }
        let mut list: Vec<Candidate> = candidates.into_values().collect();
        list.sort_unstable_by_key(|c| c.passage);
        list
    }

    /// The merged candidates (in passage order, as [`Index::merge`] gives
    /// them) fused into one ranking, the lexical weight chosen by
    /// [`same_language`] with the query in `language`.
    pub(crate) fn fused(
        &self,
        query: &Query,
        language: &str,
        candidates: &[Candidate],
        config: &FusionConfig,
    ) -> Vec<Ranked> {
        let same = |p: u32| {
            let record = &self.passages[p as usize];
            let passage_language = self.languages.code(record.lang);
            same_language(language, query.script(), passage_language, record.script)
        };
        fuse(candidates, config, same)
            .into_iter()
            .filter_map(|(passage, score)| {
                let at = candidates
                    .binary_search_by_key(&passage, |c| c.passage)
                    .ok()?;
                let c = &candidates[at];
                Some(Ranked {
                    passage,
                    score,
                    dense: Some(c.dense),
                    lexical: Some(c.lexical),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_side_rankings_carry_that_sides_score() {
        let list = [(3, 0.9), (1, 0.5)];
        let dense = dense_only(&list);
        assert_eq!(
            dense.iter().map(|r| r.passage).collect::<Vec<_>>(),
            vec![3, 1]
        );
        assert!(dense
            .iter()
            .all(|r| r.dense == Some(r.score) && r.lexical.is_none()));
        let lexical = lexical_only(&list);
        assert!(lexical
            .iter()
            .all(|r| r.lexical == Some(r.score) && r.dense.is_none()));
    }

    #[test]
    fn languages_decide_when_known_scripts_otherwise() {
        use Script::{Cyrillic, Latin};
        assert!(same_language("de", Latin, "de", Cyrillic));
        assert!(!same_language("de", Latin, "en", Latin));
        assert!(same_language(UNDETERMINED, Latin, "en", Latin));
        assert!(!same_language("en", Latin, UNDETERMINED, Cyrillic));
    }
}
