//! The last stage of a search: the ranking of passages becomes a list of
//! documents, each scored by its best passage and pointing at the sentence
//! that matched best.

use std::collections::HashSet;
use std::ops::Range;

use serde::Serialize;

use super::query::lexical_terms;
use crate::collection::{from_u32, Index, PassageRecord};
use xling_model::error::Result;
use xling_model::tokenize::Tokenizer;

/// One search result: a document, scored by its best passage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// The document's id.
    pub id: String,
    /// The document's title, if it has one.
    pub title: Option<String>,
    /// The document's address, if it has one.
    pub url: Option<String>,
    /// The passage's language: the document's if given, else detected
    /// (`und` when it could not be).
    pub lang: String,
    /// The ranking score (fused in hybrid mode).
    pub score: f32,
    /// The passage's dense (cosine) score, when the dense side ran.
    pub dense: Option<f32>,
    /// The passage's BM25 score, when the lexical side ran.
    pub lexical: Option<f32>,
    /// The best passage's text.
    pub passage: String,
    /// The best passage's byte range in the document's text.
    pub passage_bytes: Range<usize>,
    /// The sentence of the passage that matched best, as a byte range of the
    /// document's text.
    pub sentence_bytes: Range<usize>,
}

/// A passage's place in a ranking, with the scores behind it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Ranked {
    pub(crate) passage: u32,
    pub(crate) score: f32,
    pub(crate) dense: Option<f32>,
    pub(crate) lexical: Option<f32>,
}

/// The first `k` passages of `ranked` from distinct documents (`doc_of`
/// gives a passage's document): a document's best passage stands for it.
pub(crate) fn best_per_document(
    ranked: Vec<Ranked>,
    doc_of: impl Fn(u32) -> u32,
    k: usize,
) -> Vec<Ranked> {
    let mut seen_docs = HashSet::new();
    ranked
        .into_iter()
        .filter(|r| seen_docs.insert(doc_of(r.passage)))
        .take(k)
        .collect()
}

impl Index {
    /// The hits of the best `k` documents of `ranked`; `query_terms` pick
    /// each hit's sentence when `highlight` is on.
    pub(crate) fn hits(
        &self,
        tokenizer: &Tokenizer,
        ranked: Vec<Ranked>,
        query_terms: &[u32],
        k: usize,
        highlight: bool,
    ) -> Result<Vec<Hit>> {
        best_per_document(ranked, |p| self.passages[p as usize].doc, k)
            .into_iter()
            .map(|r| self.hit(tokenizer, r, query_terms, highlight))
            .collect()
    }

    fn hit(
        &self,
        tokenizer: &Tokenizer,
        ranked: Ranked,
        query_terms: &[u32],
        highlight: bool,
    ) -> Result<Hit> {
        let Ranked {
            passage,
            score,
            dense,
            lexical,
        } = ranked;
        let record = &self.passages[passage as usize];
        let doc = &self.docs[record.doc as usize].doc;
        let span = record.span.start as usize..record.span.end as usize;
        let sentence = if highlight {
            self.best_sentence(tokenizer, record, query_terms)?
        } else {
            record
                .sentences
                .first()
                .map(from_u32)
                .unwrap_or(span.clone())
        };
        Ok(Hit {
            id: doc.id.clone(),
            title: doc.title.clone(),
            url: doc.url.clone(),
            lang: self.languages.code(record.lang).to_owned(),
            score,
            dense,
            lexical,
            passage: doc.text[span.clone()].to_string(),
            passage_bytes: span,
            sentence_bytes: sentence,
        })
    }

    /// The passage sentence sharing the most query pieces, weighted by their
    /// IDF; the first sentence when none shares any (e.g. across languages).
    fn best_sentence(
        &self,
        tokenizer: &Tokenizer,
        record: &PassageRecord,
        query_terms: &[u32],
    ) -> Result<Range<usize>> {
        let doc = &self.docs[record.doc as usize].doc;
        let wanted: HashSet<u32> = query_terms.iter().copied().collect();
        let mut best = (
            0.0f32,
            record
                .sentences
                .first()
                .map(from_u32)
                .unwrap_or(from_u32(&record.span)),
        );
        for sentence in &record.sentences {
            let range = from_u32(sentence);
            let Some(text) = doc.text.get(range.clone()) else {
                continue;
            };
            let terms: HashSet<u32> = lexical_terms(tokenizer, text)?.into_iter().collect();
            let score: f32 = terms
                .intersection(&wanted)
                .map(|t| self.lexical.idf(*t))
                .sum();
            if score > best.0 {
                best = (score, range);
            }
        }
        Ok(best.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(passage: u32, score: f32) -> Ranked {
        Ranked {
            passage,
            score,
            dense: None,
            lexical: None,
        }
    }

    #[test]
    fn each_document_is_represented_by_its_best_passage() {
        // Passages 0–2 belong to document 0, 3–4 to document 1, 5 to document 2.
        let doc_of = |p: u32| match p {
            0..=2 => 0,
            3..=4 => 1,
            _ => 2,
        };
        let ranked = vec![r(4, 0.9), r(1, 0.8), r(3, 0.7), r(0, 0.6), r(5, 0.5)];
        let best = best_per_document(ranked.clone(), doc_of, 10);
        assert_eq!(best, vec![r(4, 0.9), r(1, 0.8), r(5, 0.5)]);
        assert_eq!(
            best_per_document(ranked, doc_of, 2),
            vec![r(4, 0.9), r(1, 0.8)]
        );
    }
}
