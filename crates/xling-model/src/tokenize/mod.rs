//! Text → token ids: the normaliser and pre-tokeniser of Hugging Face
//! `tokenizers` (from the model's `tokenizer.json`) around our compact Unigram
//! model ([`unigram`], over `tokenizer.xlt`), with e5's task prefixes as a
//! type instead of string glue.

mod darts;
pub mod unigram;

use sha2::{Digest, Sha256};
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::processors::PostProcessorWrapper;
use tokenizers::{DecoderWrapper, TokenizerBuilder, TokenizerImpl};

use crate::error::{Error, Result};
use crate::model::charsmap::hex;
use crate::model::compact::{build_compact_tokenizer, is_compact_tokenizer};
use crate::model::ModelConfig;
use unigram::CompactUnigram;

/// `tokenizers`' pipeline with the compact vocabulary as its model.
pub type Pipeline = TokenizerImpl<
    CompactUnigram,
    NormalizerWrapper,
    PreTokenizerWrapper,
    PostProcessorWrapper,
    DecoderWrapper,
>;

/// Longest text accepted, in bytes. Far beyond any passage; it bounds the work
/// and memory one call can demand (a 16 MiB text is ~4M tokens, minutes of CPU).
pub const MAX_TEXT_BYTES: usize = 16 << 20;

/// e5 was trained with a task prefix: `query: ` for questions, `passage: ` for
/// the texts searched. Use [`Prefix::None`] only for symmetric tasks you measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prefix {
    /// `query: `, for the text a user searches with.
    Query,
    /// `passage: `, for the texts stored in an index.
    Passage,
    /// No prefix, for symmetric tasks (e.g. sentence pairs) where both sides are alike.
    None,
}

/// The model's tokenizer plus the facts needed to build encoder windows.
pub struct Tokenizer {
    inner: Pipeline,
    query_prefix: String,
    passage_prefix: String,
    bos_id: u32,
    eos_id: u32,
    max_window_tokens: usize,
    fingerprint: [u8; 32],
    model_name: String,
}

impl Tokenizer {
    /// Loads either tokenizer file of a model directory: `tokenizer.xlt`
    /// (read in place) or `tokenizer.json` (made compact first, which costs
    /// time and ~40 MB of transient memory: ship `tokenizer.xlt` instead).
    pub fn from_bytes(bytes: Vec<u8>, config: &ModelConfig) -> Result<Self> {
        if is_compact_tokenizer(&bytes) {
            Self::from_compact(bytes, config)
        } else {
            Self::from_json(&bytes, config)
        }
    }

    /// Loads `tokenizer.json`, refusing a file that was not written for `config`'s model.
    pub fn from_json(json: &[u8], config: &ModelConfig) -> Result<Self> {
        let digest = hex(&Sha256::digest(json));
        if digest != config.tokenizer_sha256 {
            return Err(Error::InvalidTokenizer(format!(
                "tokenizer.json (SHA-256 {digest}) is not the one converted with this model (expects {})",
                config.tokenizer_sha256
            )));
        }
        Self::from_compact(build_compact_tokenizer(json)?, config)
    }

    /// Loads `tokenizer.xlt`, refusing one that was not built from `config`'s
    /// `tokenizer.json`.
    pub fn from_compact(bytes: Vec<u8>, config: &ModelConfig) -> Result<Self> {
        let model = CompactUnigram::from_bytes(bytes)?;
        if model.source_sha256() != config.tokenizer_sha256 {
            return Err(Error::InvalidTokenizer(format!(
                "tokenizer.xlt was built from tokenizer.json {}, not the one converted with this model ({})",
                model.source_sha256(),
                config.tokenizer_sha256
            )));
        }
        let pieces = model.pieces();
        if pieces != config.vocab_pieces {
            return Err(Error::InvalidTokenizer(format!(
                "{pieces} pieces, the model expects {}",
                config.vocab_pieces
            )));
        }
        let inner = pipeline(model)?;
        Ok(Self {
            inner,
            query_prefix: config.query_prefix.clone(),
            passage_prefix: config.passage_prefix.clone(),
            bos_id: config.bos_id,
            eos_id: config.eos_id,
            max_window_tokens: config.max_window_tokens(),
            fingerprint: config.fingerprint(),
            model_name: config.name.clone(),
        })
    }

    /// The tokenizer of a model directory, without loading the weights.
    pub fn from_model_files(files: &crate::ModelFiles) -> Result<Self> {
        let config = crate::model::gguf::read_model_config(&files.gguf)?;
        Self::from_bytes(files.tokenizer_json.clone(), &config)
    }

    /// The string the model sees: the prefix, then the text. e5 was trained on
    /// the two tokenized together, so they are joined before tokenizing.
    fn prefixed<'a>(&self, text: &'a str, prefix: Prefix) -> std::borrow::Cow<'a, str> {
        match prefix {
            Prefix::Query => format!("{}{text}", self.query_prefix).into(),
            Prefix::Passage => format!("{}{text}", self.passage_prefix).into(),
            Prefix::None => text.into(),
        }
    }

    /// Token ids of the prefixed text, without `<s>`/`</s>`.
    pub fn content_ids(&self, text: &str, prefix: Prefix) -> Result<Vec<u32>> {
        if text.len() > MAX_TEXT_BYTES {
            return Err(Error::InvalidInput(format!(
                "text of {} bytes exceeds the {MAX_TEXT_BYTES}-byte limit; split it into passages",
                text.len()
            )));
        }
        let encoding = self
            .inner
            .encode(self.prefixed(text, prefix).as_ref(), false)
            .map_err(|e| Error::InvalidInput(format!("cannot tokenize: {e}")))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// The whole text as one sequence: `<s>` + content + `</s>` (not split into windows).
    pub fn sequence_ids(&self, text: &str, prefix: Prefix) -> Result<Vec<u32>> {
        Ok(self.wrap(&self.content_ids(text, prefix)?))
    }

    /// `<s>` + `content` + `</s>`.
    pub fn wrap(&self, content: &[u32]) -> Vec<u32> {
        let mut ids = Vec::with_capacity(content.len() + 2);
        ids.push(self.bos_id);
        ids.extend_from_slice(content);
        ids.push(self.eos_id);
        ids
    }

    /// Splits content ids into consecutive, non-overlapping windows of at most
    /// `max_window_tokens` ids, each wrapped in `<s>` … `</s>` (the reference's rule
    /// for long texts; nothing is truncated). An empty content gives one window.
    pub fn windows(&self, content: &[u32]) -> Vec<Vec<u32>> {
        if content.is_empty() {
            return vec![self.wrap(&[])];
        }
        content
            .chunks(self.max_window_tokens)
            .map(|chunk| self.wrap(chunk))
            .collect()
    }

    /// The model's [`ModelConfig::fingerprint`].
    pub fn model_fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    /// The model's name (`general.name`; a pruned model's says so), saved
    /// with indexes so that a mismatch names the model that built them.
    pub fn model_name(&self) -> &str {
        &self.model_name
    }

    /// Content tokens one encoder window holds.
    pub fn max_window_tokens(&self) -> usize {
        self.max_window_tokens
    }

    /// The string of piece `id` (with `▁` for a word start), if the id exists.
    pub fn piece(&self, id: u32) -> Option<&str> {
        self.inner.get_model().piece(id)
    }

    /// Pieces in the vocabulary.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_model().pieces()
    }

    /// Bytes of heap the tokenizer holds (its vocabulary file, read in place).
    pub fn heap_bytes(&self) -> usize {
        self.inner.get_model().heap_bytes()
    }

    /// The `tokenizers` pipeline (normaliser, pre-tokeniser, compact model).
    pub fn inner(&self) -> &Pipeline {
        &self.inner
    }
}

/// Builds `tokenizers`' pipeline from the normaliser and pre-tokeniser stored
/// in the compact file. No post-processor: windows are wrapped by id.
fn pipeline(model: CompactUnigram) -> Result<Pipeline> {
    #[derive(serde::Deserialize)]
    struct Parts {
        normalizer: Option<NormalizerWrapper>,
        pre_tokenizer: Option<PreTokenizerWrapper>,
    }
    let parts: Parts = serde_json::from_slice(model.pipeline_json())
        .map_err(|e| Error::InvalidTokenizer(format!("normaliser or pre-tokeniser: {e}")))?;
    TokenizerBuilder::new()
        .with_model(model)
        .with_normalizer(parts.normalizer)
        .with_pre_tokenizer(parts.pre_tokenizer)
        .build()
        .map_err(|e| Error::InvalidTokenizer(format!("cannot assemble the tokenizer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelWeights;
    use crate::testing::{self, piece_id};

    fn tiny_tokenizer() -> Result<Tokenizer> {
        let files = testing::tiny_model_files(11);
        let config = ModelWeights::from_gguf(&files.gguf)?.config;
        Tokenizer::from_json(&files.tokenizer_json, &config)
    }

    fn ids(pieces: &[&str]) -> Vec<u32> {
        pieces.iter().map(|p| piece_id(p)).collect()
    }

    #[test]
    fn tokenizes_with_the_tiny_vocabulary() -> Result<()> {
        let t = tiny_tokenizer()?;
        assert_eq!(
            t.content_ids("hello world", Prefix::None)?,
            ids(&["▁hello", "▁world"])
        );
        assert_eq!(
            t.content_ids("hello", Prefix::Query)?,
            ids(&["▁query", ":", "▁hello"])
        );
        assert_eq!(
            t.content_ids("abc", Prefix::Passage)?,
            ids(&["▁passage", ":", "▁a", "bc"])
        );
        // Runs of spaces collapse to one.
        assert_eq!(
            t.content_ids("hello    world", Prefix::None)?,
            t.content_ids("hello world", Prefix::None)?
        );
        assert_eq!(
            t.sequence_ids("hello", Prefix::None)?,
            vec![testing::BOS, piece_id("▁hello"), testing::EOS]
        );
        Ok(())
    }

    #[test]
    fn empty_text_gives_prefix_only() -> Result<()> {
        let t = tiny_tokenizer()?;
        assert_eq!(t.content_ids("", Prefix::None)?, Vec::<u32>::new());
        // The reference gives `<s> ▁query : ▁ </s>` for an empty query (§7.3).
        assert_eq!(
            t.content_ids("", Prefix::Query)?,
            ids(&["▁query", ":", "▁"])
        );
        assert_eq!(
            t.content_ids("", Prefix::Passage)?,
            ids(&["▁passage", ":", "▁"])
        );
        assert_eq!(t.windows(&[]), vec![vec![testing::BOS, testing::EOS]]);
        Ok(())
    }

    #[test]
    fn a_tokenizer_from_another_model_is_refused() -> Result<()> {
        let files = testing::tiny_model_files(12);
        let config = ModelWeights::from_gguf(&files.gguf)?.config;
        let mut json = files.tokenizer_json.clone();
        let at = json.len() / 2;
        json[at] ^= 0x01;
        match Tokenizer::from_json(&json, &config) {
            Err(Error::InvalidTokenizer(msg)) => assert!(msg.contains("SHA-256"), "{msg}"),
            Err(other) => panic!("expected InvalidTokenizer, got {other:?}"),
            Ok(_) => panic!("a corrupted tokenizer.json was accepted"),
        }
        // Same digest but a different piece count in the model's config.
        let mut other = config.clone();
        other.vocab_pieces += 1;
        assert!(matches!(
            Tokenizer::from_json(&files.tokenizer_json, &other),
            Err(Error::InvalidTokenizer(_))
        ));
        // Not JSON at all, with a matching digest.
        let mut garbage = config;
        let junk = b"{not json";
        garbage.tokenizer_sha256 = crate::model::charsmap::hex(&Sha256::digest(junk));
        assert!(matches!(
            Tokenizer::from_json(junk, &garbage),
            Err(Error::InvalidTokenizer(_))
        ));
        Ok(())
    }

    #[test]
    fn windows_split_without_truncating() -> Result<()> {
        let t = tiny_tokenizer()?;
        let content: Vec<u32> = (10..40).collect();
        let windows = t.windows(&content);
        let lens: Vec<usize> = windows.iter().map(Vec::len).collect();
        assert_eq!(lens, vec![16, 16, 4]);
        for w in &windows {
            assert_eq!(w.first(), Some(&testing::BOS));
            assert_eq!(w.last(), Some(&testing::EOS));
        }
        let rejoined: Vec<u32> = windows
            .iter()
            .flat_map(|w| w[1..w.len() - 1].iter().copied())
            .collect();
        assert_eq!(rejoined, content);
        // Exactly one full window.
        assert_eq!(t.windows(&content[..14]).len(), 1);
        assert_eq!(t.windows(&content[..15]).len(), 2);
        Ok(())
    }

    #[test]
    fn control_tokens_cannot_be_injected() -> Result<()> {
        let t = tiny_tokenizer()?;
        let forbidden = [
            testing::BOS,
            testing::PAD,
            testing::EOS,
            testing::UNK,
            testing::mask_id(),
        ];
        for text in [
            "<s>",
            "</s>",
            "<unk>",
            "<mask>",
            "<pad>",
            "<s>hello</s>",
            "hello <s> world </s> <unk> <mask> <pad>",
            "<s></s><unk><mask>",
            "a<s>b",
        ] {
            for prefix in [Prefix::None, Prefix::Query, Prefix::Passage] {
                let content = t.content_ids(text, prefix)?;
                assert!(!content.is_empty());
                assert!(
                    content.iter().all(|id| !forbidden.contains(id)),
                    "{text:?} {prefix:?} → {content:?}"
                );
                let seq = t.sequence_ids(text, prefix)?;
                assert_eq!(seq.iter().filter(|&&id| id == testing::BOS).count(), 1);
                assert_eq!(seq.iter().filter(|&&id| id == testing::EOS).count(), 1);
            }
        }
        Ok(())
    }

    #[test]
    fn unknown_characters_become_unk() -> Result<()> {
        let t = tiny_tokenizer()?;
        let content = t.content_ids("hello 漢", Prefix::None)?;
        assert_eq!(content.first(), Some(&piece_id("▁hello")));
        assert!(content.contains(&testing::UNK), "{content:?}");
        Ok(())
    }

    #[test]
    fn oversized_text_is_invalid_input() -> Result<()> {
        let t = tiny_tokenizer()?;
        let text = "a".repeat(MAX_TEXT_BYTES + 1);
        for prefix in [Prefix::None, Prefix::Query] {
            match t.content_ids(&text, prefix) {
                Err(Error::InvalidInput(msg)) => assert!(msg.contains("limit"), "{msg}"),
                other => panic!("expected InvalidInput, got {other:?}"),
            }
        }
        assert!(matches!(
            t.sequence_ids(&text, Prefix::Passage),
            Err(Error::InvalidInput(_))
        ));
        Ok(())
    }
}
