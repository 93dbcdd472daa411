//! BM25's parameters, checked where users set them and clamped where an index
//! is built, so that every score stays finite.

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
    /// [`LexicalIndex::new`](super::LexicalIndex::new) can stay infallible and scores stay finite.
    pub(super) fn sanitized(self) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexical::testing::all;
    use crate::lexical::LexicalIndex;

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
}
