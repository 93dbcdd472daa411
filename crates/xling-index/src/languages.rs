//! Per-language statistics of a collection, and the model's language prior.
//!
//! multilingual-e5 puts a large language-specific component into every
//! vector, so in a mixed-language collection a passage in the query's
//! language outranks the right answer in another language. The correction
//! (see `docs/languages.md`) needs each language's mean passage vector: the
//! index keeps the sum and count per language exactly (integer sums of the
//! stored int8 vectors, so a delete undoes an add bit for bit), and the
//! model ships a prior mean per language, estimated on Tatoeba sentences,
//! that stands in for languages with few passages in a collection.

use std::path::Path;

use super::codec::{Reader, Writer};
use super::vector::QuantizedVector;
use xling_model::error::{Error, Result};

/// Fixed-point unit of the sums: components are at most 1 in magnitude, so
/// 2^30 per vector leaves room for 2^33 vectors in an i64.
const FIXED_ONE: f64 = (1u64 << 30) as f64;

/// Sums and counts of the stored passage vectors, per language.
#[derive(Debug, Clone, PartialEq)]
pub struct LanguageStats {
    dim: usize,
    /// Language codes; a passage refers to its language by index here.
    codes: Vec<String>,
    counts: Vec<u64>,
    /// `dim` fixed-point sums per language.
    sums: Vec<i64>,
}

impl LanguageStats {
    /// No language yet, for vectors of `dim` components.
    pub fn new(dim: usize) -> Self {
        Self {
            dim,
            codes: Vec::new(),
            counts: Vec::new(),
            sums: Vec::new(),
        }
    }

    /// The index of language `code`, added if new.
    pub fn intern(&mut self, code: &str) -> u16 {
        if let Some(id) = self.lookup(code) {
            return id;
        }
        self.codes.push(code.to_owned());
        self.counts.push(0);
        self.sums.extend(std::iter::repeat_n(0, self.dim));
        (self.codes.len() - 1) as u16
    }

    /// The index of language `code`, if the collection has seen it.
    pub fn lookup(&self, code: &str) -> Option<u16> {
        self.codes.iter().position(|c| c == code).map(|i| i as u16)
    }

    /// The code of language `id`; `und` (undetermined) for an unknown id.
    pub fn code(&self, id: u16) -> &str {
        self.codes.get(id as usize).map_or("und", String::as_str)
    }

    /// Languages known to the collection (some may have no live passage left).
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether no language was ever added.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Live passages of language `id`.
    pub fn count(&self, id: u16) -> u64 {
        self.counts.get(id as usize).copied().unwrap_or(0)
    }

    /// Counts a new passage of language `id` with its stored vector.
    pub fn add(&mut self, id: u16, vector: &QuantizedVector) {
        self.update(id, vector, 1);
    }

    /// Undoes [`LanguageStats::add`] for a deleted passage, exactly.
    pub fn remove(&mut self, id: u16, vector: &QuantizedVector) {
        self.update(id, vector, -1);
    }

    fn update(&mut self, id: u16, vector: &QuantizedVector, sign: i64) {
        let i = id as usize;
        if i >= self.codes.len() || vector.codes.len() != self.dim {
            return;
        }
        self.counts[i] = self.counts[i].saturating_add_signed(sign);
        let scale = vector.scale as f64 * FIXED_ONE;
        let sums = &mut self.sums[i * self.dim..(i + 1) * self.dim];
        for (sum, code) in sums.iter_mut().zip(&vector.codes) {
            *sum += sign * (*code as f64 * scale).round() as i64;
        }
    }

    /// The sum of language `id`'s vectors, as f64.
    pub fn sum(&self, id: u16) -> Option<Vec<f64>> {
        let i = id as usize;
        (i < self.codes.len()).then(|| {
            self.sums[i * self.dim..(i + 1) * self.dim]
                .iter()
                .map(|s| *s as f64 / FIXED_ONE)
                .collect()
        })
    }

    /// The snapshot section: dimension, then each language's code, count and sums.
    pub fn write(&self, w: &mut Writer) {
        w.len_u64(self.dim);
        w.len_u64(self.codes.len());
        for (i, code) in self.codes.iter().enumerate() {
            w.str(code);
            w.u64(self.counts[i]);
            for s in &self.sums[i * self.dim..(i + 1) * self.dim] {
                w.u64(*s as u64);
            }
        }
    }

    /// Reads what [`LanguageStats::write`] wrote; `dim` must match the stored vectors.
    pub fn read(r: &mut Reader, dim: usize) -> Result<Self> {
        let stored_dim = r.u64()? as usize;
        if stored_dim != dim {
            return Err(r.error(format!(
                "language statistics of {stored_dim} dimensions, vectors of {dim}"
            )));
        }
        let n = r.count(8 + 8 + 8 * dim)?;
        if n > u16::MAX as usize {
            return Err(r.error(format!("{n} languages")));
        }
        let mut stats = Self::new(dim);
        for _ in 0..n {
            let code = r.str()?.to_owned();
            if stats.lookup(&code).is_some() {
                return Err(r.error(format!("language {code:?} listed twice")));
            }
            stats.codes.push(code);
            stats.counts.push(r.u64()?);
            for _ in 0..dim {
                stats.sums.push(r.u64()? as i64);
            }
        }
        Ok(stats)
    }
}

/// Text-detector confidence from which character statistics are trusted
/// over the embedding (chosen with `xling eval langid`).
pub const TEXT_SURE: f32 = 0.5;

/// The language of a passage from its text and its embedding: the text
/// detector when it is sure (or the script names the language), else the
/// prior language whose mean is nearest to the embedding, else whatever the
/// text detector guessed (possibly `und`).
///
/// Every label is consistent with the text's script: the embedding only
/// chooses among the prior's languages written in it (Hindi sentences were
/// otherwise labelled Bengali, Malayalam or Yiddish by the nearest mean),
/// and a script no prior language is written in gives the script's own
/// language if it has one (Sinhala), else `und`.
pub fn language_of(text: &str, vector: &[f32], prior: Option<&LanguagePrior>) -> String {
    passage_label(text, vector, prior).code
}

/// A language label and whether it is sure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The language code (`und` when nothing fits).
    pub code: String,
    /// From the script or a confident text detector; not sure when the
    /// embedding's nearest prior language chose it (often a relative, or one
    /// of several for one language's short sentences) or nothing did.
    pub sure: bool,
}

/// [`language_of`] with its sureness.
pub fn passage_label(text: &str, vector: &[f32], prior: Option<&LanguagePrior>) -> Label {
    let prior = prior.filter(|_| !vector.is_empty());
    let (script, by_text) = (
        crate::lang::detect_script(text),
        crate::lang::detect_language(text),
    );
    label_in_script(script, by_text, |fits| {
        prior.and_then(|p| p.nearest_in(vector, fits))
    })
}

/// [`language_of`] for a query embedding (`query: ` prefix), from the text's
/// script and the text detector's guess (a search has them already).
pub fn query_language_of(
    script: crate::lang::Script,
    by_text: crate::lang::Detected,
    vector: &[f32],
    prior: Option<&LanguagePrior>,
) -> String {
    let prior = prior.filter(|_| !vector.is_empty());
    label_in_script(script, by_text, |fits| {
        prior.and_then(|p| p.nearest_query_in(vector, fits))
    })
    .code
}

fn label_in_script(
    script: crate::lang::Script,
    by_text: crate::lang::Detected,
    nearest: impl FnOnce(&dyn Fn(&str) -> bool) -> Option<String>,
) -> Label {
    let fits = |code: &str| written_in(code, script);
    let label = |code: String, sure: bool| Label { code, sure };
    let nearest = nearest(&fits);
    if by_text.confidence >= TEXT_SURE && fits(by_text.code) {
        // Sure when the embedding agrees (or cannot say): character
        // statistics alone confidently call Xhosa Zulu.
        let agreed = nearest.as_deref().is_none_or(|n| n == by_text.code);
        return label(by_text.code.to_owned(), agreed);
    }
    if let Some(code) = nearest {
        return label(code, false);
    }
    if fits(by_text.code) && by_text.code != crate::lang::UNDETERMINED {
        return label(by_text.code.to_owned(), false);
    }
    match crate::lang::language_of_script(script) {
        Some(code) => label(code.to_owned(), true),
        None => label(crate::lang::UNDETERMINED.to_owned(), false),
    }
}

/// Whether language `code` can be written in `script` (any language for
/// texts without a known script).
fn written_in(code: &str, script: crate::lang::Script) -> bool {
    use crate::lang::Script;
    if matches!(script, Script::Unknown | Script::Other) {
        return true;
    }
    crate::prune::scripts_of(code).is_some_and(|s| s.contains(&script))
}

/// Mean passage and query vectors per language, estimated by `xling prior`
/// on data other than the evaluation sets, for one model.
#[derive(Debug, Clone, PartialEq)]
pub struct LanguagePrior {
    fingerprint: [u8; 32],
    dim: usize,
    languages: Vec<PriorLanguage>,
}

/// One language of the prior: its mean vectors and how many sentences they rest on.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorLanguage {
    /// Language code, as the detector and documents spell it (`de`, `zh`).
    pub code: String,
    /// Sentences the means were estimated on.
    pub sentences: u64,
    /// Mean of `passage: ` embeddings.
    pub passage_mean: Vec<f32>,
    /// Mean of `query: ` embeddings.
    pub query_mean: Vec<f32>,
}

/// File name of the prior inside a model directory.
pub const PRIOR_FILE: &str = "language-prior.bin";
const PRIOR_MAGIC: [u8; 8] = *b"XLINGLPR";
const PRIOR_VERSION: u32 = 1;

impl LanguagePrior {
    /// A prior for the model with `fingerprint`; languages are sorted by code,
    /// and a repeated code or a mean of another dimension is refused.
    pub fn new(
        fingerprint: [u8; 32],
        dim: usize,
        mut languages: Vec<PriorLanguage>,
    ) -> Result<Self> {
        languages.sort_by(|a, b| a.code.cmp(&b.code));
        if languages.windows(2).any(|w| w[0].code == w[1].code) {
            return Err(Error::InvalidInput(
                "a language appears twice in the prior".into(),
            ));
        }
        if languages
            .iter()
            .any(|l| l.passage_mean.len() != dim || l.query_mean.len() != dim)
        {
            return Err(Error::InvalidInput(
                "prior means of the wrong dimension".into(),
            ));
        }
        Ok(Self {
            fingerprint,
            dim,
            languages,
        })
    }

    /// The model the means belong to; a prior of another model is refused.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    /// Components of every mean vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Every language, sorted by code.
    pub fn languages(&self) -> &[PriorLanguage] {
        &self.languages
    }

    /// The means of language `code`, if the prior has it.
    pub fn get(&self, code: &str) -> Option<&PriorLanguage> {
        self.languages
            .binary_search_by(|l| l.code.as_str().cmp(code))
            .ok()
            .map(|i| &self.languages[i])
    }

    /// The prior without the languages `codes` (any tag spelling: `mar`,
    /// `mr`), to measure languages it has never seen.
    pub fn without(&self, codes: &[String]) -> Result<Self> {
        let mut dropped = Vec::with_capacity(codes.len());
        for code in codes {
            dropped.push(
                crate::lang::normalize_language(code).ok_or_else(|| {
                    Error::InvalidInput(format!("{code:?} is not a language tag"))
                })?,
            );
        }
        Ok(Self {
            fingerprint: self.fingerprint,
            dim: self.dim,
            languages: self
                .languages
                .iter()
                .filter(|l| !dropped.contains(&l.code))
                .cloned()
                .collect(),
        })
    }

    /// The language whose mean passage vector is nearest to `vector` (a
    /// passage embedding), and the gap in squared distance to the runner-up
    /// (how clear the choice is). The model's language component is strong
    /// enough for this to identify the language of short texts, where
    /// character statistics fail.
    pub fn nearest(&self, vector: &[f32]) -> Option<(&str, f32)> {
        self.nearest_by(vector, |l| &l.passage_mean)
    }

    /// [`LanguagePrior::nearest`] for a query embedding (`query: ` prefix),
    /// against the mean query vectors.
    pub fn nearest_query(&self, vector: &[f32]) -> Option<(&str, f32)> {
        self.nearest_by(vector, |l| &l.query_mean)
    }

    /// The nearest language (passage means) among those `allowed` accepts.
    pub fn nearest_in(&self, vector: &[f32], allowed: &dyn Fn(&str) -> bool) -> Option<String> {
        self.nearest_filtered(vector, |l| &l.passage_mean, allowed)
            .map(|(c, _)| c.to_owned())
    }

    /// The nearest language (query means) among those `allowed` accepts.
    pub fn nearest_query_in(
        &self,
        vector: &[f32],
        allowed: &dyn Fn(&str) -> bool,
    ) -> Option<String> {
        self.nearest_filtered(vector, |l| &l.query_mean, allowed)
            .map(|(c, _)| c.to_owned())
    }

    fn nearest_by(
        &self,
        vector: &[f32],
        mean: impl Fn(&PriorLanguage) -> &Vec<f32>,
    ) -> Option<(&str, f32)> {
        self.nearest_filtered(vector, mean, &|_| true)
    }

    fn nearest_filtered(
        &self,
        vector: &[f32],
        mean: impl Fn(&PriorLanguage) -> &Vec<f32>,
        allowed: &dyn Fn(&str) -> bool,
    ) -> Option<(&str, f32)> {
        let mut best: Option<(usize, f32)> = None;
        let mut second = f32::INFINITY;
        for (i, l) in self
            .languages
            .iter()
            .enumerate()
            .filter(|(_, l)| allowed(&l.code))
        {
            let d: f32 = mean(l)
                .iter()
                .zip(vector)
                .map(|(m, v)| (m - v) * (m - v))
                .sum();
            match best {
                Some((_, b)) if d >= b => second = second.min(d),
                _ => {
                    if let Some((_, b)) = best {
                        second = second.min(b);
                    }
                    best = Some((i, d));
                }
            }
        }
        best.map(|(i, d)| (self.languages[i].code.as_str(), second - d))
    }

    /// Bytes of the prior: magic, version, fingerprint, the languages, and a
    /// CRC-32 of all of it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.raw(&PRIOR_MAGIC);
        w.u32(PRIOR_VERSION);
        w.raw(&self.fingerprint);
        self.write_body(&mut w);
        let mut bytes = w.into_bytes();
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        bytes
    }

    fn write_body(&self, w: &mut Writer) {
        w.len_u64(self.dim);
        w.len_u64(self.languages.len());
        for l in &self.languages {
            w.str(&l.code);
            w.u64(l.sentences);
            w.f32s(&l.passage_mean);
            w.f32s(&l.query_mean);
        }
    }

    /// Parses what [`LanguagePrior::to_bytes`] wrote, checking magic, version and CRC.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = |msg: String| Error::InvalidIndex(format!("language prior: {msg}"));
        if bytes.len() < PRIOR_MAGIC.len() + 4 + 32 + 4 || bytes[..8] != PRIOR_MAGIC {
            return Err(bad(
                "not a language prior file (wrong magic or too short)".into()
            ));
        }
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        if crc32fast::hash(body).to_le_bytes() != crc {
            return Err(bad("checksum mismatch: the file is damaged".into()));
        }
        let mut r = Reader::new(&body[8..], "language prior");
        let version = r.u32()?;
        if version != PRIOR_VERSION {
            return Err(bad(format!(
                "format version {version}, this xling reads {PRIOR_VERSION}: run `xling prior` again"
            )));
        }
        let mut fingerprint = [0u8; 32];
        fingerprint.copy_from_slice(r.take(32)?);
        let prior = Self::read_body(&mut r, fingerprint)?;
        r.finish()?;
        Ok(prior)
    }

    fn read_body(r: &mut Reader, fingerprint: [u8; 32]) -> Result<Self> {
        let dim = r.u64()? as usize;
        if dim == 0 || dim > 65_536 {
            return Err(r.error(format!("implausible dimension {dim}")));
        }
        let n = r.count(8 + 8 + 16 + 8 * dim)?;
        let mut languages = Vec::with_capacity(n);
        for _ in 0..n {
            let code = r.str()?.to_owned();
            let sentences = r.u64()?;
            let passage_mean = r.f32s()?;
            let query_mean = r.f32s()?;
            if passage_mean
                .iter()
                .chain(&query_mean)
                .any(|x| !x.is_finite())
            {
                return Err(r.error(format!("non-finite mean for {code:?}")));
            }
            languages.push(PriorLanguage {
                code,
                sentences,
                passage_mean,
                query_mean,
            });
        }
        Self::new(fingerprint, dim, languages).map_err(|e| r.error(e))
    }

    /// Reads `language-prior.bin` from a model directory; `None` if absent.
    pub fn read_model_dir(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join(PRIOR_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => Self::from_bytes(&bytes).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(format!("cannot read {}", path.display()), e)),
        }
    }

    /// Section bytes inside an index snapshot (the prior travels with the
    /// index, so a static site's index needs nothing else).
    pub fn write(&self, w: &mut Writer) {
        w.raw(&self.fingerprint);
        self.write_body(w);
    }

    /// Reads what [`LanguagePrior::write`] wrote.
    pub fn read(r: &mut Reader) -> Result<Self> {
        let mut fingerprint = [0u8; 32];
        fingerprint.copy_from_slice(r.take(32)?);
        Self::read_body(r, fingerprint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(seed: u64, dim: usize) -> QuantizedVector {
        QuantizedVector::quantize(&xling_model::testing::pseudo_unit(seed, dim))
    }

    /// A 2-dimensional prior of two languages, passage and query means alike.
    fn two_language_prior(a: (&str, [f32; 2]), b: (&str, [f32; 2])) -> Result<LanguagePrior> {
        let lang = |(code, mean): (&str, [f32; 2])| PriorLanguage {
            code: code.into(),
            sentences: 100,
            passage_mean: mean.to_vec(),
            query_mean: mean.to_vec(),
        };
        LanguagePrior::new([0; 32], 2, vec![lang(a), lang(b)])
    }

    #[test]
    fn labels_follow_the_texts_script() -> Result<()> {
        let prior = two_language_prior(("bn", [1.0, 0.0]), ("hi", [0.0, 1.0]))?;
        // The embedding is nearest to Bengali, but the text is Devanagari.
        let v = [1.0, 0.0];
        assert_eq!(language_of("कल", &v, Some(&prior)), "hi");
        let text = "कल";
        let (script, by_text) = (
            crate::lang::detect_script(text),
            crate::lang::detect_language(text),
        );
        assert_eq!(query_language_of(script, by_text, &v, Some(&prior)), "hi");
        assert_eq!(language_of("কাল", &v, Some(&prior)), "bn");
        // A script no prior language is written in: its own language.
        assert_eq!(language_of("හෙට", &v, Some(&prior)), "si");
        // No vector (lexical mode) and too short a text to tell: undetermined,
        // never the first prior language nor one of another script.
        assert_eq!(language_of("कल", &[], Some(&prior)), "und");
        Ok(())
    }

    #[test]
    fn a_label_is_sure_when_text_and_embedding_agree_or_the_script_decides() -> Result<()> {
        let prior = two_language_prior(("de", [0.0, 1.0]), ("en", [1.0, 0.0]))?;
        let text = "The weather was cold and rainy all week, so we stayed at home and read books.";
        let agreed = passage_label(text, &[1.0, 0.0], Some(&prior));
        assert_eq!((agreed.code.as_str(), agreed.sure), ("en", true));
        // The text detector is confident but the embedding says German: the
        // text's label, unsure.
        let disputed = passage_label(text, &[0.0, 1.0], Some(&prior));
        assert_eq!((disputed.code.as_str(), disputed.sure), ("en", false));
        // Chosen by the embedding alone: unsure.
        let short = passage_label("ok", &[0.0, 1.0], Some(&prior));
        assert_eq!((short.code.as_str(), short.sure), ("de", false));
        // The script names the language.
        let sinhala = passage_label("හෙට", &[1.0, 0.0], Some(&prior));
        assert_eq!((sinhala.code.as_str(), sinhala.sure), ("si", true));
        Ok(())
    }

    #[test]
    fn deletes_undo_adds_exactly() -> Result<()> {
        let mut stats = LanguageStats::new(16);
        let en = stats.intern("en");
        let de = stats.intern("de");
        assert_eq!(stats.intern("en"), en);
        for i in 0..50 {
            stats.add(en, &unit(i, 16));
        }
        let before = stats.clone();
        for i in 100..130 {
            stats.add(de, &unit(i, 16));
            stats.add(en, &unit(i + 1000, 16));
        }
        for i in 100..130 {
            stats.remove(de, &unit(i, 16));
            stats.remove(en, &unit(i + 1000, 16));
        }
        assert_eq!(stats.sums, before.sums, "bit-for-bit");
        assert_eq!(stats.count(en), 50);
        assert_eq!(stats.count(de), 0);
        let sum = stats.sum(en).unwrap_or_default();
        let expected: Vec<f64> = (0..16)
            .map(|d| (0..50).map(|i| unit(i, 16).to_f32()[d] as f64).sum())
            .collect();
        for (a, b) in sum.iter().zip(&expected) {
            assert!((a - b).abs() < 1e-6);
        }
        let mut w = Writer::new();
        stats.write(&mut w);
        let bytes = w.into_bytes();
        assert_eq!(
            LanguageStats::read(&mut Reader::new(&bytes, "lang"), 16)?,
            stats
        );
        assert!(LanguageStats::read(&mut Reader::new(&bytes, "lang"), 8).is_err());
        for cut in 0..bytes.len() {
            assert!(LanguageStats::read(&mut Reader::new(&bytes[..cut], "lang"), 16).is_err());
        }
        Ok(())
    }

    fn prior() -> Result<LanguagePrior> {
        let lang = |code: &str, x: f32| PriorLanguage {
            code: code.into(),
            sentences: 10,
            passage_mean: vec![x; 4],
            query_mean: vec![-x; 4],
        };
        LanguagePrior::new([7; 32], 4, vec![lang("sw", 0.5), lang("en", 0.25)])
    }

    #[test]
    fn prior_round_trips_and_refuses_damage() -> Result<()> {
        let p = prior()?;
        assert_eq!(p.get("en").map(|l| l.passage_mean[0]), Some(0.25));
        assert!(p.get("de").is_none());
        let bytes = p.to_bytes();
        assert_eq!(LanguagePrior::from_bytes(&bytes)?, p);
        for cut in 0..bytes.len() {
            assert!(
                LanguagePrior::from_bytes(&bytes[..cut]).is_err(),
                "cut {cut}"
            );
        }
        for at in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[at] ^= 0x10;
            assert!(LanguagePrior::from_bytes(&bad).is_err(), "flip at {at}");
        }
        let mut w = Writer::new();
        p.write(&mut w);
        assert_eq!(
            LanguagePrior::read(&mut Reader::new(&w.into_bytes(), "p"))?,
            p
        );
        Ok(())
    }

    #[test]
    fn duplicate_or_misshapen_languages_are_refused() {
        let l = PriorLanguage {
            code: "en".into(),
            sentences: 1,
            passage_mean: vec![0.0; 4],
            query_mean: vec![0.0; 4],
        };
        assert!(LanguagePrior::new([0; 32], 4, vec![l.clone(), l.clone()]).is_err());
        assert!(LanguagePrior::new([0; 32], 3, vec![l]).is_err());
    }
}
