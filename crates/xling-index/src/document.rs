//! A document as the caller gives it to the index: an id chosen by the caller,
//! the text searched, and optional metadata shown with results.

use serde::{Deserialize, Serialize};

use xling_model::error::{Error, Result};
use xling_model::tokenize::MAX_TEXT_BYTES;

/// Longest document id, in bytes. Ids are keys shown to users and stored with
/// every result; a longer one is almost certainly a mistake (text in the id field).
pub const MAX_ID_BYTES: usize = 1024;

/// One document to index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Unique within an index; used to update, delete and report results.
    pub id: String,
    /// The text that is searched.
    pub text: String,
    /// Put before each passage's text when it is embedded (e5 was trained
    /// on "title text"), and returned with its hits.
    #[serde(default)]
    pub title: Option<String>,
    /// Where the document came from, returned with its hits for the caller to link.
    #[serde(default)]
    pub url: Option<String>,
    /// BCP 47 or ISO 639 language tag if known ("en", "pt-BR", "deu"); it
    /// groups the document's passages for language-agnostic ranking and the
    /// language switch. Detected from the text when absent.
    #[serde(default)]
    pub lang: Option<String>,
}

impl Document {
    /// Checks what the index relies on: a usable id and a text within the
    /// tokenizer's limit. Errors name the document.
    pub fn validate(&self) -> Result<()> {
        if self.id.trim().is_empty() {
            return Err(Error::Document(format!(
                "id {:?} is empty or blank; every document needs an id",
                self.id
            )));
        }
        if self.id.len() > MAX_ID_BYTES {
            return Err(Error::Document(format!(
                "id {:?}… is {} bytes long, more than the {MAX_ID_BYTES}-byte limit",
                short(&self.id),
                self.id.len()
            )));
        }
        if let Some(lang) = self.lang.as_deref() {
            if crate::lang::normalize_language(lang).is_none() {
                return Err(Error::Document(format!(
                    "{:?}: lang {:?} is not a language tag (use codes like \"en\", \"pt-BR\", \"deu\", or leave it out)",
                    self.id,
                    short(lang)
                )));
            }
        }
        if self.text.len() > MAX_TEXT_BYTES {
            return Err(Error::Document(format!(
                "{:?}: text of {} bytes exceeds the {MAX_TEXT_BYTES}-byte limit; split it into several documents",
                self.id,
                self.text.len()
            )));
        }
        Ok(())
    }
}

/// The first 64 characters, to keep error messages readable.
fn short(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, text: &str) -> Document {
        Document {
            id: id.to_string(),
            text: text.to_string(),
            title: None,
            url: None,
            lang: None,
        }
    }

    #[test]
    fn accepts_ordinary_documents() -> Result<()> {
        doc("a/b.md", "hello").validate()?;
        doc("x", "").validate()
    }

    #[test]
    fn refuses_empty_long_ids_and_huge_texts() {
        for id in ["", "  \t\n"] {
            assert!(matches!(doc(id, "t").validate(), Err(Error::Document(_))));
        }
        let long = "é".repeat(MAX_ID_BYTES);
        match doc(&long, "t").validate() {
            Err(Error::Document(msg)) => assert!(msg.contains("2048 bytes"), "{msg}"),
            r => panic!("expected Document error, got {r:?}"),
        }
        let big = "a".repeat(MAX_TEXT_BYTES + 1);
        match doc("big-one", &big).validate() {
            Err(Error::Document(msg)) => assert!(msg.contains("big-one"), "{msg}"),
            r => panic!("expected Document error, got {r:?}"),
        }
        assert!(doc("x", &big[1..]).validate().is_ok());
        let mut bad_lang = doc("l", "t");
        bad_lang.lang = Some("English".into());
        assert!(matches!(bad_lang.validate(), Err(Error::Document(m)) if m.contains("English")));
        bad_lang.lang = Some("pt-BR".into());
        assert!(bad_lang.validate().is_ok());
    }

    #[test]
    fn json_fields_are_optional_except_id_and_text() {
        let d: Document = serde_json::from_str(r#"{"id":"1","text":"t"}"#).unwrap();
        assert_eq!(d, doc("1", "t"));
        assert!(serde_json::from_str::<Document>(r#"{"id":"1"}"#).is_err());
    }
}
