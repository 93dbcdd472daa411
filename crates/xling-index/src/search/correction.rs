//! The dense side's correction for one query (`docs/languages.md`): the
//! corrected query, a score offset per language, the renormalisation of
//! centred passages and the per-language standardisation, whose spread is
//! estimated from each language's sample of passages.

use crate::debias::{correct, Correction, DebiasConfig};
use crate::languages::{LanguagePrior, LanguageStats};
use crate::vector::FixedQuery;

/// Passages of a language weigh this much less than the pooled spread when
/// its own is estimated: tiny groups (a few misdetected passages) would
/// otherwise get wild scales.
const SPREAD_PRIOR: f64 = 50.0;

/// How one query's dense scores are corrected. Built with
/// [`DenseCorrection::new`], then given its spread with
/// [`DenseCorrection::standardised`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DenseCorrection {
    correction: Correction,
    /// The corrected query in fixed point, as the dense index scores it.
    fixed_query: FixedQuery,
    /// Each language's mean in fixed point (`None` where it has none), for
    /// the renormalisation's second dot product per passage.
    fixed_means: Vec<Option<FixedQuery>>,
    /// Score passages as unit vectors after centring.
    renormalize: bool,
    /// Per language id, `1 / spread` of its centred scores; empty when the
    /// scores are not standardised (every scale is then 1).
    scales: Vec<f32>,
    /// How much the correction acts (`debias::strength`): the score is
    /// `raw + strength·(corrected − raw)`. Scaling the parts instead (half a
    /// centring, then a per-language scale) multiplied uncentred scores by
    /// each language's scale, which reorders languages wildly: on Tatoeba,
    /// English into German fell from 0.955 to 0.708.
    strength: f32,
}

impl DenseCorrection {
    /// The correction of `query` (a unit vector) in language `language`,
    /// acting with `strength` ([`crate::debias::strength`]; 0 is plain cosine).
    pub(crate) fn new(
        query: &[f32],
        language: &str,
        stats: &LanguageStats,
        prior: Option<&LanguagePrior>,
        config: &DebiasConfig,
        strength: f32,
    ) -> Self {
        let correction = correct(query, language, stats, prior, config, strength);
        Self {
            fixed_query: FixedQuery::new(&correction.query),
            fixed_means: correction
                .means
                .iter()
                .map(|m| m.as_deref().map(FixedQuery::new))
                .collect(),
            correction,
            renormalize: config.enabled && config.renormalize && strength > 0.0,
            scales: Vec::new(),
            strength: strength.clamp(0.0, 1.0),
        }
    }

    /// Whether the scores are corrected at all.
    fn acts(&self) -> bool {
        self.renormalize || self.correction.offsets.iter().any(|o| *o != 0.0)
    }

    /// The corrected query the passages are scored against.
    pub(crate) fn query(&self) -> &[f32] {
        &self.correction.query
    }

    /// [`DenseCorrection::query`] in fixed point ([`crate::dense::DenseIndex::score_fixed`]).
    pub(crate) fn fixed_query(&self) -> &FixedQuery {
        &self.fixed_query
    }

    /// The centred score of a passage of language `lang` whose raw score
    /// against [`DenseCorrection::query`] is `raw`: shifted by its language's
    /// offset and, when renormalising, divided by `|p − μ_L|`, which needs
    /// `dot(μ_L)`, the passage's dot product with the language mean.
    pub(crate) fn centred(&self, lang: u16, raw: f32, dot: impl FnOnce(&FixedQuery) -> f32) -> f32 {
        (raw + self.correction.offset(lang)) * self.inverse_norm(lang, dot)
    }

    /// The score the graph walk follows: [`DenseCorrection::adjusted`]
    /// without the renormalisation (a second dot product per visited passage).
    pub(crate) fn walk(&self, lang: u16, raw: f32) -> f32 {
        self.blend(raw, (raw + self.correction.offset(lang)) * self.scale(lang))
    }

    /// The corrected score: centred, renormalised, standardised, blended
    /// with the raw score by the strength.
    pub(crate) fn adjusted(
        &self,
        lang: u16,
        raw: f32,
        dot: impl FnOnce(&FixedQuery) -> f32,
    ) -> f32 {
        if self.strength <= 0.0 {
            return raw;
        }
        self.blend(raw, self.centred(lang, raw, dot) * self.scale(lang))
    }

    fn blend(&self, raw: f32, corrected: f32) -> f32 {
        if self.strength >= 1.0 {
            corrected
        } else {
            raw + self.strength * (corrected - raw)
        }
    }

    /// Standardises the scores per language when `config` asks for it:
    /// `samples[lang]` are that language's sample passages, `allowed` says
    /// which of them the search may return, `centred(p)` is a passage's
    /// [`DenseCorrection::centred`] score.
    pub(crate) fn standardised(
        mut self,
        config: &DebiasConfig,
        samples: &[Vec<u32>],
        allowed: impl Fn(u32) -> bool,
        centred: impl Fn(&Self, u32) -> f32,
    ) -> Self {
        if config.enabled && config.standardize && self.acts() {
            self.scales = spread_scales(samples, allowed, |p| centred(&self, p));
        }
        self
    }

    /// `1 / |p − μ_L|` from `|p|² − 2p·μ_L + |μ_L|²` (stored passages are unit vectors).
    fn inverse_norm(&self, lang: u16, dot: impl FnOnce(&FixedQuery) -> f32) -> f32 {
        let l = lang as usize;
        match self.fixed_means.get(l) {
            Some(Some(mean)) if self.renormalize => {
                let n2 = 1.0 - 2.0 * dot(mean) + self.correction.mean_norms[l];
                1.0 / n2.max(1e-4).sqrt()
            }
            _ => 1.0,
        }
    }

    fn scale(&self, lang: u16) -> f32 {
        self.scales.get(lang as usize).copied().unwrap_or(1.0)
    }
}

/// Per language, `1 / spread` of the centred scores of its sample for this
/// query, the variance shrunk towards the pooled one with the weight of
/// [`SPREAD_PRIOR`] passages.
fn spread_scales(
    samples: &[Vec<u32>],
    allowed: impl Fn(u32) -> bool,
    centred: impl Fn(u32) -> f32,
) -> Vec<f32> {
    let moments: Vec<(f64, f64, usize)> = samples
        .iter()
        .map(|sample| {
            sample
                .iter()
                .filter(|p| allowed(**p))
                .fold((0.0, 0.0, 0), |m, p| {
                    let s = centred(*p) as f64;
                    (m.0 + s, m.1 + s * s, m.2 + 1)
                })
        })
        .collect();
    let variance = |(s, s2, n): (f64, f64, usize)| {
        let n = n.max(1) as f64;
        (s2 / n - (s / n) * (s / n)).max(0.0)
    };
    let all = moments
        .iter()
        .fold((0.0, 0.0, 0), |a, m| (a.0 + m.0, a.1 + m.1, a.2 + m.2));
    let pooled = variance(all).max(1e-8);
    moments
        .iter()
        .map(|m| {
            let n = m.2 as f64;
            let v = (n * variance(*m) + SPREAD_PRIOR * pooled) / (n + SPREAD_PRIOR);
            (1.0 / v.max(1e-8).sqrt()) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::QuantizedVector;

    fn two_languages() -> (LanguageStats, u16, u16) {
        let mut stats = LanguageStats::new(2);
        let en = stats.intern("en");
        let de = stats.intern("de");
        stats.add(en, &QuantizedVector::quantize(&[1.0, 0.0]));
        stats.add(de, &QuantizedVector::quantize(&[0.0, 1.0]));
        (stats, en, de)
    }

    #[test]
    fn a_weak_correction_blends_the_corrected_score_with_the_raw_one() {
        let (stats, en, _) = two_languages();
        let config = DebiasConfig {
            renormalize: false,
            standardize: false,
            query_shift: 0.0,
            ..DebiasConfig::default()
        };
        let off = DenseCorrection::new(&[0.6, 0.8], "en", &stats, None, &config, 0.0);
        assert_eq!(off.adjusted(en, 0.5, |_| 0.0), 0.5);
        assert_eq!(off.walk(en, 0.5), 0.5);
        let full = DenseCorrection::new(&[0.6, 0.8], "en", &stats, None, &config, 1.0);
        let half = DenseCorrection::new(&[0.6, 0.8], "en", &stats, None, &config, 0.5);
        let (f, h) = (
            full.adjusted(en, 0.5, |_| 0.0),
            half.adjusted(en, 0.5, |_| 0.0),
        );
        assert!((h - (0.5 + f) / 2.0).abs() < 1e-6, "{h} {f}");
        assert_eq!(h, half.walk(en, 0.5));
    }

    #[test]
    fn the_walk_and_the_full_score_share_the_offsets() {
        let (stats, en, de) = two_languages();
        let plain = DebiasConfig {
            renormalize: false,
            standardize: false,
            ..DebiasConfig::default()
        };
        let c = DenseCorrection::new(&[0.6, 0.8], "und", &stats, None, &plain, 1.0);
        assert_eq!(c.query(), &[0.6, 0.8]);
        // Without renormalisation the passage's mean dot product is not needed.
        for lang in [en, de] {
            let full = c.adjusted(lang, 0.5, |_| unreachable!("not renormalising"));
            assert_eq!(full, c.walk(lang, 0.5));
        }
        assert!((c.walk(en, 0.5) - (0.5 - 0.6)).abs() < 1e-2);
        assert!((c.walk(de, 0.5) - (0.5 - 0.8)).abs() < 1e-2);
    }

    #[test]
    fn renormalising_divides_by_the_centred_norm() {
        let (stats, en, _) = two_languages();
        let config = DebiasConfig {
            standardize: false,
            ..DebiasConfig::default()
        };
        let c = DenseCorrection::new(&[0.6, 0.8], "und", &stats, None, &config, 1.0);
        // |p − μ|² = 1 − 2·0.5 + |μ|² with μ ≈ (1, 0): about 1.
        let centred = c.centred(en, 0.7, |mean| {
            // The mean's first component, through the fixed-point dot product.
            assert!((mean.dot(&[127, 0]) / 127.0 - 1.0).abs() < 1e-2);
            0.5
        });
        let expected = 0.7 + c.correction.offset(en);
        assert!((centred - expected).abs() < 1e-2, "{centred} {expected}");
        let off = DebiasConfig {
            enabled: false,
            ..config
        };
        let none = DenseCorrection::new(&[0.6, 0.8], "und", &stats, None, &off, 1.0);
        assert_eq!(none.centred(en, 0.7, |_| 0.0), 0.7, "plain cosine");
    }

    #[test]
    fn standardising_evens_out_each_languages_spread() {
        // Language 0 scores spread ten times wider than language 1's.
        let samples = vec![(0..200).collect::<Vec<u32>>(), (200..400).collect()];
        let score = |p: u32| {
            let x = (p % 2) as f32 * 2.0 - 1.0;
            if p < 200 {
                x
            } else {
                0.1 * x
            }
        };
        let scales = spread_scales(&samples, |_| true, score);
        assert_eq!(scales.len(), 2);
        // Shrunk towards the pooled spread: the ratio is below the raw 10.
        let ratio = scales[1] / scales[0];
        assert!(ratio > 2.5 && ratio < 10.0, "{scales:?}");
        // Passages left out of the search do not count; an empty sample
        // falls back to the pooled spread.
        let only_first = spread_scales(&samples, |p| p < 200, score);
        assert!((only_first[1] - 1.0).abs() < 1e-3, "{only_first:?}");
    }

    #[test]
    fn standardised_only_when_asked() {
        let (stats, en, _) = two_languages();
        let config = DebiasConfig {
            standardize: false,
            ..DebiasConfig::default()
        };
        let samples = vec![vec![0, 1], vec![2]];
        let c = DenseCorrection::new(&[0.6, 0.8], "en", &stats, None, &config, 1.0);
        let same = c
            .clone()
            .standardised(&config, &samples, |_| true, |_, p| p as f32);
        assert_eq!(same, c);
        let on = DebiasConfig::default();
        let scaled = c.standardised(&on, &samples, |_| true, |_, p| p as f32);
        assert_eq!(scaled.scales.len(), 2);
        assert!(scaled.scale(en) > 0.0 && scaled.scale(7) == 1.0);
    }
}
