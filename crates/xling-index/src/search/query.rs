//! A query analysed once: its checks, lexical terms, script, text language
//! and embedding, computed up front and carried through every stage of the
//! search (the text is not handed back to the tokenizer or the detectors).

use crate::lang::{detect_language, detect_script, Detected, Script};
use xling_model::error::{Error, Result};
use xling_model::tokenize::{Prefix, Tokenizer};

/// A query ready to search with: checked ([`check_query`]'s rules), its BM25
/// terms, its script and text-detected language, and (once given with
/// [`Query::with_vector`]) its embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    text: String,
    /// The fingerprint of the model whose tokenizer analysed the text.
    model: [u8; 32],
    terms: Vec<u32>,
    script: Script,
    detected: Detected,
    vector: Vec<f32>,
}

impl Query {
    /// Checks `text` like [`check_query`] (same errors) and analyses it; the
    /// vector is empty until [`Query::with_vector`].
    ///
    /// The lexical terms come right after the checks, where a search used to
    /// derive them after the embedding: tokenizing the lower-cased text of a
    /// query that passed the length check does not fail (a query of at most
    /// one window is far below the tokenizer's byte limit), so the errors a
    /// caller sees are the same.
    pub fn analyse(tokenizer: &Tokenizer, text: &str) -> Result<Self> {
        check_query(tokenizer, text)?;
        Ok(Self {
            text: text.to_owned(),
            model: tokenizer.model_fingerprint(),
            terms: lexical_terms(tokenizer, text)?,
            script: detect_script(text),
            detected: detect_language(text),
            vector: Vec::new(),
        })
    }

    /// The query with its embedding (`query: ` prefix, unit length). Lexical
    /// searches need none.
    pub fn with_vector(mut self, vector: Vec<f32>) -> Self {
        self.vector = vector;
        self
    }

    /// The query's text, as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The fingerprint of the model that analysed the text.
    pub fn model_fingerprint(&self) -> [u8; 32] {
        self.model
    }

    /// The query's BM25 terms ([`lexical_terms`]).
    pub fn terms(&self) -> &[u32] {
        &self.terms
    }

    /// The main script of the text (fusion's fallback when a language is unknown).
    pub fn script(&self) -> Script {
        self.script
    }

    /// The text detector's guess at the query's language.
    pub fn detected(&self) -> Detected {
        self.detected
    }

    /// The query's embedding; empty when none was given.
    pub fn vector(&self) -> &[f32] {
        &self.vector
    }
}

/// BM25 terms: SentencePiece pieces of the lower-cased text, without the bare
/// word-boundary piece and pieces made only of punctuation.
pub fn lexical_terms(tokenizer: &Tokenizer, text: &str) -> Result<Vec<u32>> {
    let ids = tokenizer.content_ids(&text.to_lowercase(), Prefix::None)?;
    Ok(ids
        .into_iter()
        .filter(|id| {
            tokenizer
                .piece(*id)
                .is_some_and(|piece| piece.chars().any(|c| c.is_alphanumeric()))
        })
        .collect())
}

/// Refuses queries the engine cannot answer meaningfully (empty, or longer
/// than one model window); callers that embed a query themselves check first.
pub fn check_query(tokenizer: &Tokenizer, query: &str) -> Result<()> {
    if query.trim().is_empty() {
        return Err(Error::InvalidInput("the query is empty".into()));
    }
    let tokens = tokenizer.content_ids(query, Prefix::Query)?.len();
    if tokens > tokenizer.max_window_tokens() {
        return Err(Error::InvalidInput(format!(
            "the query is {tokens} tokens long; the model reads at most {} (shorten it, or index the text as a document)",
            tokenizer.max_window_tokens()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use xling_model::testing::tiny_embedder;

    #[test]
    fn analysis_matches_the_separate_steps() -> Result<()> {
        let embedder = tiny_embedder(3);
        let tokenizer = embedder.tokenizer();
        let text = "Hello, cab!";
        let query = Query::analyse(tokenizer, text)?;
        assert_eq!(query.text(), text);
        assert_eq!(query.terms(), lexical_terms(tokenizer, text)?.as_slice());
        assert!(!query.terms().is_empty());
        assert_eq!(query.script(), detect_script(text));
        assert_eq!(query.detected(), detect_language(text));
        assert_eq!(query.model_fingerprint(), tokenizer.model_fingerprint());
        assert!(query.vector().is_empty());
        let vector = embedder.embed_one(text, Prefix::Query)?;
        assert_eq!(
            query.with_vector(vector.clone()).vector(),
            vector.as_slice()
        );
        Ok(())
    }

    #[test]
    fn analysis_refuses_what_check_query_refuses() {
        let embedder = tiny_embedder(3);
        let tokenizer = embedder.tokenizer();
        for text in ["", "  \n", &"hello ".repeat(100)] {
            let checked = check_query(tokenizer, text).map_err(|e| e.to_string());
            let analysed = Query::analyse(tokenizer, text).map_err(|e| e.to_string());
            assert!(checked.is_err());
            assert_eq!(analysed.err(), checked.err(), "{text:?}");
        }
    }

    #[test]
    fn lexical_terms_ignore_case_and_punctuation() -> Result<()> {
        let embedder = tiny_embedder(3);
        let tokenizer = embedder.tokenizer();
        assert_eq!(
            lexical_terms(tokenizer, "Zebra, ZOO!")?,
            lexical_terms(tokenizer, "zebra zoo")?
        );
        assert!(lexical_terms(tokenizer, "?!")?.is_empty());
        Ok(())
    }
}
