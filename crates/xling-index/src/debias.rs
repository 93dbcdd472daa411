//! Language-agnostic dense ranking: removing the model's preference for the
//! query's own language at query time (method and measurements in
//! `docs/languages.md`).
//!
//! Each passage vector carries a component shared by its language. With
//! `μ_L` the mean passage vector of language `L` (from the collection,
//! shrunk towards the model's prior for languages with few passages) the
//! query is moved away from its own language's mean, `q̃ = normalise(q −
//! β·m)`, and a passage `p` of language `L` scores `q̃·p − q̃·μ_L`: its
//! similarity relative to the average passage of its language. Within one
//! language this is a constant shift, but the query's move and the
//! renormalisation of centred passages (`q̃·(p − μ_L)/|p − μ_L|`, the
//! default) do reorder passages inside a language; across languages it
//! removes the head start of the query's language. So it acts only as much
//! as the passages in scope are mixed ([`strength`]): in a one-language
//! collection the ranking is plain cosine. Because the offset is one per
//! language, the HNSW walk can follow the corrected score directly.

use super::languages::{LanguagePrior, LanguageStats};
use super::vector::dot_f32;

/// Which mean is taken out of the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryMean {
    /// The query language's mean passage vector.
    #[default]
    Passage,
    /// The prior's mean `query: ` vector of the query's language (falls back
    /// to `Passage` when the prior lacks the language).
    Query,
}

impl std::str::FromStr for QueryMean {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "passage" => Ok(QueryMean::Passage),
            "query" => Ok(QueryMean::Query),
            other => Err(crate::Error::InvalidInput(format!(
                "unknown query mean {other:?} (use passage or query)"
            ))),
        }
    }
}

/// Parameters of the correction. Defaults chosen on XQuAD-R with statistics
/// from the collection and the shipped prior only (`docs/languages.md`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DebiasConfig {
    /// Off: plain cosine ranking.
    pub enabled: bool,
    /// β: how much of its language's mean the query loses (0 to 1).
    pub query_shift: f32,
    /// Which mean the query loses.
    pub query_mean: QueryMean,
    /// Passages of a language that weigh as much as the prior's mean: with
    /// fewer, the prior dominates; with many, the collection does.
    pub prior_weight: f32,
    /// Score passages as unit vectors after centring (`q̃·(p − μ_L) / |p − μ_L|`).
    pub renormalize: bool,
    /// Divide each language's scores by their spread for this query.
    pub standardize: bool,
}

impl Default for DebiasConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            query_shift: 0.5,
            query_mean: QueryMean::Passage,
            prior_weight: 50.0,
            renormalize: true,
            standardize: true,
        }
    }
}

/// The corrected query and one score offset per language of the collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    /// The query moved away from its language's mean (unit length).
    pub query: Vec<f32>,
    /// Indexed by the language ids of [`LanguageStats`].
    pub offsets: Vec<f32>,
    /// Each language's mean (for renormalisation), and its squared norm.
    pub means: Vec<Option<Vec<f32>>>,
    /// `|μ_L|²` per language (0 without a mean).
    pub mean_norms: Vec<f32>,
}

impl Correction {
    /// No correction: the query as is, no offsets.
    pub fn none(query: &[f32], languages: usize) -> Self {
        Self {
            query: query.to_vec(),
            offsets: vec![0.0; languages],
            means: vec![None; languages],
            mean_norms: vec![0.0; languages],
        }
    }

    /// The score offset of a language id (0 for ids it does not know).
    pub fn offset(&self, language: u16) -> f32 {
        self.offsets.get(language as usize).copied().unwrap_or(0.0)
    }
}

/// The mean passage vector of each language of `stats`, shrunk towards the
/// prior: `(Σ_L + w·prior_L) / (n_L + w)`; languages with no passage and no
/// prior get `None`.
pub fn language_means(
    stats: &LanguageStats,
    prior: Option<&LanguagePrior>,
    prior_weight: f32,
) -> Vec<Option<Vec<f32>>> {
    (0..stats.len() as u16)
        .map(|id| {
            let n = stats.count(id) as f64;
            let sum = stats.sum(id)?;
            let prior_mean = prior.and_then(|p| p.get(stats.code(id)));
            match prior_mean {
                Some(p) => {
                    let w = prior_weight.max(0.0) as f64;
                    if n + w == 0.0 {
                        return None;
                    }
                    Some(
                        sum.iter()
                            .zip(&p.passage_mean)
                            .map(|(s, m)| ((s + w * *m as f64) / (n + w)) as f32)
                            .collect(),
                    )
                }
                None if n > 0.0 => Some(sum.iter().map(|s| (s / n) as f32).collect()),
                None => None,
            }
        })
        .collect()
}

/// Below this share of passages outside the collection's main language the
/// collection counts as one-language (a few passages misdetected) and the
/// ranking is plain cosine.
pub const MIX_START: f32 = 0.05;
/// From this share of passages outside the main language on, the correction
/// acts fully; between the two it grows linearly.
pub const MIX_FULL: f32 = 0.25;

/// How much the correction acts, 0 to 1, for a collection with `counts`
/// passages per language (those the search may return): it removes a
/// preference *between* languages, so with one language there is nothing to
/// remove, and each of its parts (the query's shift, the centring, the
/// renormalisation) would only reorder passages within that language.
pub fn strength(counts: impl IntoIterator<Item = u64>) -> f32 {
    let (total, main) = counts
        .into_iter()
        .fold((0u64, 0u64), |(t, m), n| (t + n, m.max(n)));
    if total == 0 {
        return 0.0;
    }
    strength_of_share(1.0 - main as f32 / total as f32)
}

/// The share of the passages in scope (languages `in_scope` accepts) that
/// lie outside the main language *and surely are another language*, for
/// [`strength_of_share`]; `sure(id)` counts language `id`'s live passages
/// with a sure label.
///
/// Labels chosen by the embedding's nearest prior language are unsure: one
/// Kabyle collection comes out as Kabyle, Berber, Welsh, Irish…, and
/// counting those as a mixed collection made the correction reorder what is
/// one language (English into Kabyle on Tatoeba lost 13 nDCG points). So a
/// minority group in the main language's script counts only its sure
/// passages (given, or detected from the text with confidence); a group in
/// another script counts fully, since labels follow the script.
pub fn mixed_share(
    stats: &LanguageStats,
    sure: impl Fn(u16) -> u64,
    in_scope: impl Fn(u16) -> bool,
) -> f32 {
    let groups: Vec<(u16, u64)> = (0..stats.len() as u16)
        .filter(|&id| in_scope(id))
        .map(|id| (id, stats.count(id)))
        .filter(|&(_, n)| n > 0)
        .collect();
    let total: u64 = groups.iter().map(|g| g.1).sum();
    let Some(&(main, _)) = groups.iter().max_by_key(|g| g.1) else {
        return 0.0;
    };
    let main_code = stats.code(main);
    let mixed: u64 = groups
        .iter()
        .filter(|g| g.0 != main)
        .map(|&(id, n)| {
            if share_a_script(stats.code(id), main_code) {
                sure(id).min(n)
            } else {
                n
            }
        })
        .sum();
    (mixed as f64 / total as f64) as f32
}

/// Whether two languages can be written in one script (unknown codes may).
fn share_a_script(a: &str, b: &str) -> bool {
    match (crate::prune::scripts_of(a), crate::prune::scripts_of(b)) {
        (Some(x), Some(y)) => x.iter().any(|s| y.contains(s)),
        _ => true,
    }
}

/// [`strength`] from the share of passages outside the main language
/// (e.g. [`mixed_share`]).
pub fn strength_of_share(minority: f32) -> f32 {
    ((minority - MIX_START) / (MIX_FULL - MIX_START)).clamp(0.0, 1.0)
}

/// The correction for a query in language `query_language` (a code; may be
/// unknown to both the collection and the prior), acting with `strength`
/// (0: none, 1: full; see [`strength`]): the query loses `strength·β` of its
/// language's mean. The offsets are the full centring's; the search blends
/// the corrected scores with the raw ones by the same strength
/// (`search::correction`).
pub fn correct(
    query: &[f32],
    query_language: &str,
    stats: &LanguageStats,
    prior: Option<&LanguagePrior>,
    config: &DebiasConfig,
    strength: f32,
) -> Correction {
    if !config.enabled || query.is_empty() || strength <= 0.0 {
        return Correction::none(query, stats.len());
    }
    let strength = strength.min(1.0);
    let means = language_means(stats, prior, config.prior_weight);
    let passage_mean_of_query_language = || -> Option<Vec<f32>> {
        if let Some(id) = stats.lookup(query_language) {
            if let Some(Some(m)) = means.get(id as usize) {
                return Some(m.clone());
            }
        }
        prior
            .and_then(|p| p.get(query_language))
            .map(|l| l.passage_mean.clone())
    };
    let query_mean = match config.query_mean {
        QueryMean::Query => prior
            .and_then(|p| p.get(query_language))
            .map(|l| l.query_mean.clone())
            .or_else(passage_mean_of_query_language),
        QueryMean::Passage => passage_mean_of_query_language(),
    };
    let mut corrected = query.to_vec();
    if let Some(m) = query_mean.filter(|m| m.len() == query.len()) {
        for (q, m) in corrected.iter_mut().zip(&m) {
            *q -= strength * config.query_shift * m;
        }
        let norm = dot_f32(&corrected, &corrected).sqrt();
        if norm > 1e-6 {
            corrected.iter_mut().for_each(|x| *x /= norm);
        } else {
            corrected = query.to_vec();
        }
    }
    let offsets = means
        .iter()
        .map(|m| m.as_ref().map_or(0.0, |m| -dot_f32(&corrected, m)))
        .collect();
    let mean_norms = means
        .iter()
        .map(|m| m.as_ref().map_or(0.0, |m| dot_f32(m, m)))
        .collect();
    Correction {
        query: corrected,
        offsets,
        means,
        mean_norms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::languages::PriorLanguage;
    use crate::vector::QuantizedVector;

    fn normalise(v: Vec<f32>) -> Vec<f32> {
        let n = dot_f32(&v, &v).sqrt();
        v.into_iter().map(|x| x / n).collect()
    }

    /// Two languages, each a shared direction plus a topic: the raw query
    /// prefers its own language's wrong topic; corrected, the right topic in
    /// the other language wins.
    #[test]
    fn the_right_topic_in_another_language_beats_the_wrong_one_in_the_query_language() {
        let dim = 4;
        // axes: 0 = "English", 1 = "German", 2 = topic A, 3 = topic B
        let en_b = normalise(vec![1.0, 0.0, 0.0, 0.6]);
        let en_c = normalise(vec![1.0, 0.0, 0.3, 0.3]);
        let de_a = normalise(vec![0.0, 1.0, 0.6, 0.0]);
        let de_b = normalise(vec![0.0, 1.0, 0.0, 0.6]);
        let query = normalise(vec![1.0, 0.0, 0.5, 0.0]); // English, topic A
        let mut stats = LanguageStats::new(dim);
        let en = stats.intern("en");
        let de = stats.intern("de");
        for v in [&en_b, &en_c] {
            stats.add(en, &QuantizedVector::quantize(v));
        }
        for v in [&de_a, &de_b] {
            stats.add(de, &QuantizedVector::quantize(v));
        }
        let raw = |p: &[f32]| dot_f32(&query, p);
        assert!(raw(&en_b) > raw(&de_a), "the bias this corrects");

        let config = DebiasConfig {
            query_mean: QueryMean::Passage,
            prior_weight: 0.0,
            ..DebiasConfig::default()
        };
        let c = correct(&query, "en", &stats, None, &config, 1.0);
        let score = |p: &[f32], lang: u16| dot_f32(&c.query, p) + c.offset(lang);
        assert!(score(&de_a, de) > score(&en_b, en));
        assert!(score(&de_a, de) > score(&en_c, en));
        // Inside a language the order is the raw order.
        assert_eq!(raw(&en_b) > raw(&en_c), score(&en_b, en) > score(&en_c, en));

        let off = DebiasConfig {
            enabled: false,
            ..config
        };
        assert_eq!(
            correct(&query, "en", &stats, None, &off, 1.0),
            Correction::none(&query, 2)
        );
    }

    #[test]
    fn the_prior_stands_in_for_languages_with_few_passages() -> crate::Result<()> {
        let mut stats = LanguageStats::new(2);
        let sw = stats.intern("sw");
        stats.add(sw, &QuantizedVector::quantize(&[1.0, 0.0]));
        let prior = LanguagePrior::new(
            [0; 32],
            2,
            vec![PriorLanguage {
                code: "sw".into(),
                sentences: 100,
                passage_mean: vec![0.0, 1.0],
                query_mean: vec![0.0, 1.0],
            }],
        )?;
        let means = language_means(&stats, Some(&prior), 3.0);
        let m = means[0].clone().unwrap_or_default();
        assert!(
            (m[0] - 0.25).abs() < 1e-3 && (m[1] - 0.75).abs() < 1e-3,
            "{m:?}"
        );
        let means = language_means(&stats, None, 3.0);
        assert_eq!(means[0].as_deref(), Some(&[1.0f32, 0.0][..]));
        Ok(())
    }

    #[test]
    fn the_correction_acts_as_much_as_the_collection_is_mixed() {
        assert_eq!(strength([]), 0.0);
        assert_eq!(strength([1000]), 0.0);
        // A few misdetected passages in a one-language collection.
        assert_eq!(strength([960, 30, 10]), 0.0);
        assert_eq!(strength([500, 500]), 1.0);
        assert_eq!(strength([75, 25]), 1.0);
        let half = strength([85, 15]);
        assert!((half - 0.5).abs() < 1e-6, "{half}");

        // Off, the correction is the query as is: plain cosine ranking.
        let mut stats = LanguageStats::new(2);
        let en = stats.intern("en");
        stats.add(en, &QuantizedVector::quantize(&[1.0, 0.0]));
        let q = [0.6, 0.8];
        let c = correct(&q, "en", &stats, None, &DebiasConfig::default(), 0.0);
        assert_eq!(c, Correction::none(&q, 1));
        // Half strength: the query loses half as much of its language's mean.
        let q = [0.8, 0.6];
        let full = correct(&q, "en", &stats, None, &DebiasConfig::default(), 1.0);
        let half = correct(&q, "en", &stats, None, &DebiasConfig::default(), 0.5);
        assert!(
            full.query[0] < half.query[0] && half.query[0] < 0.8,
            "{full:?} {half:?}"
        );
    }

    #[test]
    fn only_sure_labels_in_the_main_script_make_a_collection_mixed() {
        let mut stats = LanguageStats::new(2);
        let mut sure = std::collections::HashMap::new();
        let mut add = |code: &str, n: usize, sure_n: u64| {
            let id = stats.intern(code);
            for _ in 0..n {
                stats.add(id, &QuantizedVector::quantize(&[1.0, 0.0]));
            }
            sure.insert(id, sure_n);
        };
        add("kab", 60, 0);
        add("cy", 20, 0);
        add("ga", 20, 0);
        let everything = |_| true;
        // One Kabyle collection labelled three ways by the embedding: one language.
        assert_eq!(mixed_share(&stats, |id| sure[&id], everything), 0.0);
        // Sure Welsh labels count.
        sure.insert(1, 20);
        let share = mixed_share(&stats, |id| sure[&id], everything);
        assert!((share - 0.2).abs() < 1e-6, "{share}");
        // Another script is another language, sure or not.
        let el = stats.intern("el");
        for _ in 0..25 {
            stats.add(el, &QuantizedVector::quantize(&[0.0, 1.0]));
        }
        sure.insert(el, 0);
        let share = mixed_share(&stats, |id| sure[&id], everything);
        assert!((share - 45.0 / 125.0).abs() < 1e-6, "{share}");
        // Out of scope, a language does not count.
        let share = mixed_share(&stats, |id| sure[&id], |id| id != el);
        assert!((share - 0.2).abs() < 1e-6, "{share}");
        assert_eq!(mixed_share(&LanguageStats::new(2), |_| 0, everything), 0.0);
    }

    #[test]
    fn unknown_query_languages_keep_the_query() {
        let mut stats = LanguageStats::new(2);
        let en = stats.intern("en");
        stats.add(en, &QuantizedVector::quantize(&[1.0, 0.0]));
        let q = [0.6, 0.8];
        let c = correct(&q, "und", &stats, None, &DebiasConfig::default(), 1.0);
        assert_eq!(c.query, q.to_vec());
        assert!((c.offset(en) + 0.6).abs() < 1e-2);
    }
}
