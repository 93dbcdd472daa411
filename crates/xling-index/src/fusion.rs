//! Hybrid ranking: fusing dense and lexical candidate lists.
//!
//! Two fusions are offered (`xling eval … --fusion` compares them):
//! - **convex**: each side's scores min-max normalised over the candidates,
//!   then `dense + w·lexical` (a convex combination with α = w / (1 + w),
//!   rescaled): uses how far apart the scores are, which rank fusion throws
//!   away (Bruch et al., "An Analysis of Fusion Functions for Hybrid Retrieval").
//! - **rrf**: reciprocal-rank fusion, `1/(60 + rank_dense) + w/(60 + rank_lexical)`.
//!
//! The lexical weight `w` depends on whether query and passage share a
//! language or script: SentencePiece pieces of different scripts never match,
//! and across languages of one script BM25 matches mostly names and numbers.

use std::collections::HashMap;

/// How the results are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SearchMode {
    /// Dense and lexical, fused (the default).
    #[default]
    Hybrid,
    /// The multilingual encoder only ("semantic").
    Dense,
    /// BM25 over SentencePiece pieces only ("keyword").
    Lexical,
}

impl SearchMode {
    /// The mode's name on the command line and in the JS API.
    pub fn name(self) -> &'static str {
        match self {
            SearchMode::Hybrid => "hybrid",
            SearchMode::Dense => "dense",
            SearchMode::Lexical => "lexical",
        }
    }
}

impl std::fmt::Display for SearchMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for SearchMode {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "hybrid" => Ok(SearchMode::Hybrid),
            "dense" | "semantic" => Ok(SearchMode::Dense),
            "lexical" | "keyword" | "bm25" => Ok(SearchMode::Lexical),
            other => Err(crate::Error::InvalidInput(format!(
                "unknown search mode {other:?} (use hybrid, dense or lexical)"
            ))),
        }
    }
}

/// Which fusion function hybrid mode uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FusionKind {
    /// Min-max normalised scores, added with the lexical weight.
    #[default]
    Convex,
    /// Reciprocal-rank fusion.
    Rrf,
}

impl std::str::FromStr for FusionKind {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "convex" => Ok(FusionKind::Convex),
            "rrf" => Ok(FusionKind::Rrf),
            other => Err(crate::Error::InvalidInput(format!(
                "unknown fusion {other:?} (use convex or rrf)"
            ))),
        }
    }
}

/// Parameters of hybrid fusion. Defaults chosen on XQuAD-R (see docs/retrieval.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusionConfig {
    /// Convex or rank fusion.
    pub kind: FusionKind,
    /// Lexical weight when query and passage share a language or script.
    pub lexical_same: f32,
    /// Lexical weight otherwise.
    pub lexical_cross: f32,
    /// RRF's rank constant.
    pub rrf_k: f32,
    /// How the lexical bonus is anchored within each group of candidates
    /// (the query's script / the others).
    pub center: Centering,
}

/// Lexical evidence only exists for passages sharing the query's script, so a
/// plain bonus lifts the query's language as a whole and adds to the model's
/// own preference for it in a mixed-language pool. Anchoring the bonus
/// within the group lets BM25 reorder passages inside a language without
/// moving the language up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Centering {
    /// The bonus as is.
    None,
    /// Minus the group's mean bonus: the group's average score is unchanged.
    Mean,
    /// Minus the group's largest bonus: the best lexical match keeps its
    /// dense score, the others of its language move down.
    #[default]
    Max,
}

impl std::str::FromStr for Centering {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(Centering::None),
            "mean" => Ok(Centering::Mean),
            "max" => Ok(Centering::Max),
            other => Err(crate::Error::InvalidInput(format!(
                "unknown centring {other:?} (use none, mean or max)"
            ))),
        }
    }
}

impl Default for FusionConfig {
    fn default() -> Self {
        Self {
            kind: FusionKind::Convex,
            lexical_same: 0.3,
            lexical_cross: 0.0,
            rrf_k: 60.0,
            center: Centering::default(),
        }
    }
}

/// One passage with both of its scores (0 where a side did not score it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// The passage's id.
    pub passage: u32,
    /// Its (corrected) dense score.
    pub dense: f32,
    /// Its BM25 score.
    pub lexical: f32,
}

/// Fuses candidate passages; returns (passage, fused score), best first, ties
/// by passage id. `same_language(p)` says whether `p` shares the query's
/// language or script. Candidates must be unique by passage.
pub fn fuse(
    candidates: &[Candidate],
    config: &FusionConfig,
    same_language: impl Fn(u32) -> bool,
) -> Vec<(u32, f32)> {
    let weight = |p: u32| {
        if same_language(p) {
            config.lexical_same
        } else {
            config.lexical_cross
        }
    };
    let mut fused: Vec<(u32, f32)> = match config.kind {
        FusionKind::Convex => {
            let (dmin, dmax) = min_max(candidates.iter().map(|c| c.dense));
            // BM25 is 0 for a passage sharing no term: that is its natural minimum.
            let lmax = candidates.iter().map(|c| c.lexical).fold(0.0f32, f32::max);
            let lexical = |c: &Candidate| {
                let l = if lmax > 0.0 { c.lexical / lmax } else { 0.0 };
                weight(c.passage) * l
            };
            let offsets = group_offsets(candidates, config, &same_language, lexical);
            candidates
                .iter()
                .map(|c| {
                    let d = if dmax > dmin {
                        (c.dense - dmin) / (dmax - dmin)
                    } else {
                        1.0
                    };
                    let offset = offsets[usize::from(same_language(c.passage))];
                    (c.passage, d + lexical(c) - offset)
                })
                .collect()
        }
        FusionKind::Rrf => {
            let dense_rank = ranks(candidates, |c| c.dense);
            let lexical_rank = ranks(candidates, |c| c.lexical);
            let lexical = |c: &Candidate| {
                lexical_rank
                    .get(&c.passage)
                    .map_or(0.0, |r| weight(c.passage) / (config.rrf_k + *r as f32))
            };
            let offsets = group_offsets(candidates, config, &same_language, lexical);
            candidates
                .iter()
                .map(|c| {
                    let mut s = 0.0;
                    if let Some(r) = dense_rank.get(&c.passage) {
                        s += 1.0 / (config.rrf_k + *r as f32);
                    }
                    let offset = offsets[usize::from(same_language(c.passage))];
                    (c.passage, s + lexical(c) - offset)
                })
                .collect()
        }
    };
    fused.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    fused
}

/// Offset subtracted from the lexical contribution in the [other-language,
/// same-language] groups.
fn group_offsets(
    candidates: &[Candidate],
    config: &FusionConfig,
    same_language: impl Fn(u32) -> bool,
    contribution: impl Fn(&Candidate) -> f32,
) -> [f32; 2] {
    let mut sum = [0.0f32; 2];
    let mut max = [0.0f32; 2];
    let mut count = [0usize; 2];
    for c in candidates {
        let g = usize::from(same_language(c.passage));
        let x = contribution(c);
        sum[g] += x;
        max[g] = max[g].max(x);
        count[g] += 1;
    }
    match config.center {
        Centering::None => [0.0; 2],
        Centering::Mean => [0, 1].map(|g| sum[g] / count[g].max(1) as f32),
        Centering::Max => max,
    }
}

fn min_max(values: impl Iterator<Item = f32>) -> (f32, f32) {
    values.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

/// 1-based ranks by a score, for the candidates with a positive score on that
/// side (a passage BM25 did not match has no lexical rank).
fn ranks(candidates: &[Candidate], score: impl Fn(&Candidate) -> f32) -> HashMap<u32, usize> {
    let mut scored: Vec<(u32, f32)> = candidates
        .iter()
        .map(|c| (c.passage, score(c)))
        .filter(|(_, s)| *s > 0.0)
        .collect();
    scored.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
        .into_iter()
        .enumerate()
        .map(|(i, (p, _))| (p, i + 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(passage: u32, dense: f32, lexical: f32) -> Candidate {
        Candidate {
            passage,
            dense,
            lexical,
        }
    }

    #[test]
    fn convex_fusion_normalises_and_weighs_by_language() {
        let cands = [c(1, 0.90, 0.0), c(2, 0.80, 10.0), c(3, 0.85, 5.0)];
        let config = FusionConfig {
            lexical_same: 0.5,
            lexical_cross: 0.0,
            center: Centering::None,
            ..Default::default()
        };
        // All same language: 1 → 1.0, 2 → 0 + 0.5, 3 → 0.5 + 0.25.
        let fused = fuse(&cands, &config, |_| true);
        assert_eq!(fused.iter().map(|f| f.0).collect::<Vec<_>>(), vec![1, 3, 2]);
        assert!((fused[1].1 - 0.75).abs() < 1e-6);
        // Passage 3 in another script: its lexical score no longer counts.
        let fused = fuse(&cands, &config, |p| p != 3);
        assert_eq!(fused.iter().map(|f| f.0).collect::<Vec<_>>(), vec![1, 3, 2]);
        assert!((fused[1].1 - 0.5).abs() < 1e-6);
        let config = FusionConfig {
            lexical_same: 2.0,
            ..config
        };
        assert_eq!(fuse(&cands, &config, |_| true)[0].0, 2);
    }

    #[test]
    fn rrf_uses_ranks_only() {
        let cands = [c(1, 0.9, 0.0), c(2, 0.1, 3.0), c(3, 0.5, 1.0)];
        let config = FusionConfig {
            kind: FusionKind::Rrf,
            lexical_same: 1.0,
            center: Centering::None,
            ..Default::default()
        };
        let fused = fuse(&cands, &config, |_| true);
        // 1: 1/61; 2: 1/63 + 1/61; 3: 1/62 + 1/62.
        assert_eq!(fused.iter().map(|f| f.0).collect::<Vec<_>>(), vec![2, 3, 1]);
        assert!((fused[2].1 - 1.0 / 61.0).abs() < 1e-7);
    }

    #[test]
    fn centring_keeps_the_query_language_from_rising_as_a_whole() {
        // Two same-language passages (0, 1) and two foreign ones (2, 3).
        let cands = [
            c(0, 0.8, 4.0),
            c(1, 0.8, 0.0),
            c(2, 0.8, 0.0),
            c(3, 0.8, 0.0),
        ];
        let config = FusionConfig {
            lexical_same: 1.0,
            center: Centering::Mean,
            ..Default::default()
        };
        let fused: HashMap<u32, f32> = fuse(&cands, &config, |p| p < 2).into_iter().collect();
        // Passage 0 moves above 1, but the same-language mean equals the foreign mean.
        assert!(fused[&0] > fused[&1], "{fused:?}");
        assert!(
            ((fused[&0] + fused[&1]) / 2.0 - (fused[&2] + fused[&3]) / 2.0).abs() < 1e-6,
            "{fused:?}"
        );
        let plain = FusionConfig {
            center: Centering::None,
            ..config
        };
        let fused: HashMap<u32, f32> = fuse(&cands, &plain, |p| p < 2).into_iter().collect();
        assert!(fused[&0] + fused[&1] > fused[&2] + fused[&3]);
        // Max: the best lexical match keeps its place, the rest of its language moves down.
        let max = FusionConfig {
            center: Centering::Max,
            ..config
        };
        let fused: HashMap<u32, f32> = fuse(&cands, &max, |p| p < 2).into_iter().collect();
        assert!((fused[&0] - fused[&2]).abs() < 1e-6, "{fused:?}");
        assert!(fused[&1] < fused[&2], "{fused:?}");
    }

    #[test]
    fn degenerate_inputs_do_not_produce_nan() {
        assert!(fuse(&[], &FusionConfig::default(), |_| true).is_empty());
        let fused = fuse(&[c(7, 0.5, 0.0)], &FusionConfig::default(), |_| true);
        assert_eq!(fused, vec![(7, 1.0)]);
        let fused = fuse(
            &[c(1, 0.5, 0.0), c(0, 0.5, 0.0)],
            &FusionConfig::default(),
            |_| true,
        );
        assert_eq!(
            fused.iter().map(|f| f.0).collect::<Vec<_>>(),
            vec![0, 1],
            "ties by passage id"
        );
    }

    #[test]
    fn modes_parse() {
        assert_eq!(
            "semantic".parse::<SearchMode>().ok(),
            Some(SearchMode::Dense)
        );
        assert_eq!(
            "Keyword".parse::<SearchMode>().ok(),
            Some(SearchMode::Lexical)
        );
        assert!("fuzzy".parse::<SearchMode>().is_err());
        assert_eq!("rrf".parse::<FusionKind>().ok(), Some(FusionKind::Rrf));
    }
}
