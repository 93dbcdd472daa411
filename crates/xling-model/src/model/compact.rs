//! `tokenizer.xlt`: the Unigram vocabulary as a double-array trie plus flat
//! tables, written by `xling convert` (and `xling prune`) beside `tokenizer.json`.
//!
//! `tokenizers` keeps XLM-R's 250,002 pieces as a hash map per trie node and a
//! `String` per piece twice: +255 MB of heap, which WASM never gives back. This
//! file holds the same vocabulary in ~9 MB that the engine reads in place: no
//! per-piece allocation, nothing built at load time. The normaliser and the
//! pre-tokeniser stay those of `tokenizer.json` (stored here as its JSON), so
//! the text the trie sees is unchanged. `docs/model-format.md` documents the
//! layout; every length is checked and a CRC-32 covers the whole file.
//!
//! ```text
//! offset size         field
//! 0      4            magic "XLTK"
//! 4      4            format version (1)
//! 8      32           SHA-256 of the tokenizer.json this was built from
//! 40     4            pieces (n)
//! 44     4            id of <unk>
//! 48     4            pipeline JSON length (p)
//! 52     4            piece strings length (s)
//! 56     4            double-array length in bytes (t, a multiple of 4)
//! 60     4            reserved (0)
//! 64     4n           scores, f32 (log-probabilities, in id order)
//!        4(n+1)       offsets of each piece in the strings, u32, ascending
//!        s            piece strings, UTF-8, concatenated in id order
//!        t            double array (yada / Darts-clone units): piece bytes → id
//!        p            {"normalizer": …, "pre_tokenizer": …} from tokenizer.json
//! end-4  4            CRC-32 of every byte before it
//! ```
//! All integers are little-endian.

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::charsmap::hex;
use crate::error::{Error, Result};

/// File name of the compact tokenizer inside a model directory.
pub const COMPACT_TOKENIZER_FILE: &str = "tokenizer.xlt";
/// First four bytes of a `tokenizer.xlt`.
pub const MAGIC: &[u8; 4] = b"XLTK";
/// Layout version; bump on incompatible changes.
pub const VERSION: u32 = 1;
const HEADER_LEN: usize = 64;
const CRC_LEN: usize = 4;

/// Whether `bytes` look like a compact tokenizer (rather than `tokenizer.json`).
pub fn is_compact_tokenizer(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

fn bad(msg: impl Into<String>) -> Error {
    Error::InvalidTokenizer(msg.into())
}

/// The parts of `tokenizer.json` the compact file is made of.
#[derive(Deserialize)]
struct JsonTokenizer {
    normalizer: Option<Value>,
    pre_tokenizer: Option<Value>,
    model: JsonUnigram,
}

#[derive(Deserialize)]
struct JsonUnigram {
    #[serde(rename = "type")]
    kind: String,
    unk_id: Option<u32>,
    vocab: Vec<(String, f64)>,
    #[serde(default)]
    byte_fallback: bool,
}

/// The bytes of `tokenizer.xlt` for a Unigram `tokenizer.json` (the kind
/// `xling convert` writes). Runs natively at conversion time; in a browser it
/// only runs for callers that still pass `tokenizer.json`.
pub fn build_compact_tokenizer(tokenizer_json: &[u8]) -> Result<Vec<u8>> {
    let parsed: JsonTokenizer = serde_json::from_slice(tokenizer_json)
        .map_err(|e| bad(format!("cannot parse tokenizer.json: {e}")))?;
    let model = parsed.model;
    if model.kind != "Unigram" || model.byte_fallback {
        return Err(bad(format!(
            "a {} model{} cannot be made compact (only Unigram without byte fallback)",
            model.kind,
            if model.byte_fallback {
                " with byte fallback"
            } else {
                ""
            }
        )));
    }
    let pieces = model.vocab.len();
    let unk_id = model
        .unk_id
        .filter(|&id| (id as usize) < pieces)
        .ok_or_else(|| bad("the Unigram model has no valid unk_id"))?;
    let pieces_u32 = u32::try_from(pieces).map_err(|_| bad("too many pieces"))?;
    let trie = build_trie(&model.vocab)?;
    let pipeline = serde_json::to_vec(&serde_json::json!({
        "normalizer": parsed.normalizer,
        "pre_tokenizer": parsed.pre_tokenizer,
    }))
    .map_err(|e| bad(format!("cannot serialise the pipeline: {e}")))?;

    let strings_len: usize = model.vocab.iter().map(|(p, _)| p.len()).sum();
    let len32 =
        |n: usize, what: &str| u32::try_from(n).map_err(|_| bad(format!("{what} too long")));
    let mut out = Vec::with_capacity(
        HEADER_LEN + 8 * pieces + 4 + strings_len + trie.len() + pipeline.len() + CRC_LEN,
    );
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&Sha256::digest(tokenizer_json));
    for v in [
        pieces_u32,
        unk_id,
        len32(pipeline.len(), "pipeline")?,
        len32(strings_len, "piece strings")?,
        len32(trie.len(), "double array")?,
        0,
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (_, score) in &model.vocab {
        // tokenizer.json stores our f32 scores widened to f64; f32 is exact.
        out.extend_from_slice(&(*score as f32).to_le_bytes());
    }
    let mut offset = 0u32;
    out.extend_from_slice(&offset.to_le_bytes());
    for (piece, _) in &model.vocab {
        offset += piece.len() as u32;
        out.extend_from_slice(&offset.to_le_bytes());
    }
    for (piece, _) in &model.vocab {
        out.extend_from_slice(piece.as_bytes());
    }
    out.extend_from_slice(&trie);
    out.extend_from_slice(&pipeline);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// The double array from piece bytes to id. Like `tokenizers`, a piece that
/// occurs twice maps to its last id; the empty piece is never matched.
fn build_trie(vocab: &[(String, f64)]) -> Result<Vec<u8>> {
    let mut keys: Vec<(&[u8], u32)> = Vec::with_capacity(vocab.len());
    for (id, (piece, score)) in vocab.iter().enumerate() {
        if piece.as_bytes().contains(&0) {
            return Err(bad(format!("piece {id} contains a NUL byte")));
        }
        if !score.is_finite() {
            return Err(bad(format!("piece {id} has score {score}")));
        }
        if !piece.is_empty() {
            keys.push((piece.as_bytes(), id as u32));
        }
    }
    // Stable sort: equal pieces stay in id order, and the last one is kept.
    keys.sort_by(|a, b| a.0.cmp(b.0));
    let mut unique: Vec<(&[u8], u32)> = Vec::with_capacity(keys.len());
    for key in keys {
        match unique.last_mut() {
            Some(last) if last.0 == key.0 => last.1 = key.1,
            _ => unique.push(key),
        }
    }
    yada::builder::DoubleArrayBuilder::build(&unique)
        .ok_or_else(|| bad("cannot build the double array (too many pieces)"))
}

/// Byte ranges of the sections of a checked `tokenizer.xlt`.
#[derive(Debug, Clone)]
pub(crate) struct CompactLayout {
    /// SHA-256 (hex) of the `tokenizer.json` the file was built from.
    pub source_sha256: String,
    pub pieces: usize,
    pub unk_id: u32,
    pub scores: std::ops::Range<usize>,
    pub offsets: std::ops::Range<usize>,
    pub strings: std::ops::Range<usize>,
    pub trie: std::ops::Range<usize>,
    pub pipeline: std::ops::Range<usize>,
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

impl CompactLayout {
    /// Checks a whole file: magic, version, lengths, checksum, offsets and UTF-8.
    pub fn check(bytes: &[u8]) -> Result<Self> {
        if !is_compact_tokenizer(bytes) {
            return Err(bad("not a tokenizer.xlt file (wrong magic bytes)"));
        }
        if bytes.len() < HEADER_LEN + CRC_LEN {
            return Err(bad(format!(
                "tokenizer.xlt is truncated ({} bytes)",
                bytes.len()
            )));
        }
        let version = u32_at(bytes, 4);
        if version != VERSION {
            return Err(bad(format!(
                "tokenizer.xlt format version {version}, this build reads {VERSION}"
            )));
        }
        let body = bytes.len() - CRC_LEN;
        if crc32fast::hash(&bytes[..body]) != u32_at(bytes, body) {
            return Err(bad("tokenizer.xlt is corrupted (checksum mismatch)"));
        }
        let pieces = u32_at(bytes, 40) as usize;
        let unk_id = u32_at(bytes, 44);
        let [pipeline_len, strings_len, trie_len] =
            [48, 52, 56].map(|at| u32_at(bytes, at) as usize);
        let expected = [
            4 * pieces,
            4 * (pieces + 1),
            strings_len,
            trie_len,
            pipeline_len,
        ]
        .iter()
        .try_fold(HEADER_LEN + CRC_LEN, |acc, &n| acc.checked_add(n));
        if expected != Some(bytes.len()) || trie_len % 4 != 0 {
            return Err(bad("tokenizer.xlt section lengths do not match its size"));
        }
        if pieces == 0 || unk_id as usize >= pieces {
            return Err(bad(format!("<unk> id {unk_id} outside {pieces} pieces")));
        }
        let scores = HEADER_LEN..HEADER_LEN + 4 * pieces;
        let offsets = scores.end..scores.end + 4 * (pieces + 1);
        let strings = offsets.end..offsets.end + strings_len;
        let trie = strings.end..strings.end + trie_len;
        let pipeline = trie.end..trie.end + pipeline_len;
        let layout = Self {
            source_sha256: hex(&bytes[8..40]),
            pieces,
            unk_id,
            scores,
            offsets,
            strings,
            trie,
            pipeline,
        };
        layout.check_tables(bytes)?;
        Ok(layout)
    }

    /// Scores are finite; offsets ascend from 0 to the strings' end on
    /// character boundaries.
    fn check_tables(&self, bytes: &[u8]) -> Result<()> {
        if let Some(id) = (0..self.pieces).find(|&id| !self.score(bytes, id).is_finite()) {
            return Err(bad(format!("piece {id} has a score that is not finite")));
        }
        let strings = std::str::from_utf8(&bytes[self.strings.clone()])
            .map_err(|_| bad("piece strings are not UTF-8"))?;
        let mut previous = 0usize;
        for id in 0..=self.pieces {
            let at = u32_at(bytes, self.offsets.start + 4 * id) as usize;
            let first_ok = id > 0 || at == 0;
            let last_ok = id < self.pieces || at == strings.len();
            if at < previous || !first_ok || !last_ok || !strings.is_char_boundary(at) {
                return Err(bad(format!("piece offsets are inconsistent at {id}")));
            }
            previous = at;
        }
        Ok(())
    }

    /// Score of piece `id` (< `pieces`, checked by the caller).
    pub fn score(&self, bytes: &[u8], id: usize) -> f32 {
        f32::from_bits(u32_at(bytes, self.scores.start + 4 * id))
    }

    /// Byte range of piece `id`'s string within the file.
    pub fn piece_range(&self, bytes: &[u8], id: usize) -> std::ops::Range<usize> {
        let at = |i: usize| self.strings.start + u32_at(bytes, self.offsets.start + 4 * i) as usize;
        at(id)..at(id + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelWeights;
    use crate::testing;
    use crate::tokenize::Tokenizer;

    fn tiny() -> (Vec<u8>, crate::ModelConfig, Vec<u8>) {
        let files = testing::tiny_model_files(21);
        let config = ModelWeights::from_gguf(&files.gguf).expect("tiny").config;
        let compact = build_compact_tokenizer(&files.tokenizer_json).expect("builds");
        (files.tokenizer_json, config, compact)
    }

    fn refused(bytes: Vec<u8>, config: &crate::ModelConfig) -> String {
        match Tokenizer::from_compact(bytes, config) {
            Err(Error::InvalidTokenizer(msg)) => msg,
            Err(other) => panic!("expected InvalidTokenizer, got {other:?}"),
            Ok(_) => panic!("a bad tokenizer.xlt was accepted"),
        }
    }

    #[test]
    fn compact_and_json_tokenizers_agree() {
        let (json, config, compact) = tiny();
        assert!(is_compact_tokenizer(&compact) && !is_compact_tokenizer(&json));
        let a = Tokenizer::from_compact(compact, &config).expect("compact");
        let b = Tokenizer::from_json(&json, &config).expect("json");
        for text in ["hello world", "abc 漢 hello", "", "   a  b  "] {
            for prefix in [crate::Prefix::None, crate::Prefix::Query] {
                assert_eq!(
                    a.content_ids(text, prefix).ok(),
                    b.content_ids(text, prefix).ok()
                );
            }
        }
        assert_eq!(a.piece(testing::piece_id("▁hello")), Some("▁hello"));
        assert_eq!(a.piece(u32::MAX), None);
    }

    #[test]
    fn corrupted_truncated_or_foreign_files_are_refused() {
        let (_, config, compact) = tiny();
        let mut flipped = compact.clone();
        let at = flipped.len() / 2;
        flipped[at] ^= 0x40;
        assert!(refused(flipped, &config).contains("checksum"));
        assert!(refused(compact[..compact.len() - 9].to_vec(), &config).contains("checksum"));
        assert!(refused(compact[..20].to_vec(), &config).contains("truncated"));
        let mut version = compact.clone();
        version[4] = 9;
        assert!(refused(version, &config).contains("version"));
        let mut other = config.clone();
        other.tokenizer_sha256 = "00".repeat(32);
        assert!(refused(compact, &other).contains("built from"));
    }

    #[test]
    fn a_bad_length_with_a_valid_checksum_is_refused() {
        let (_, config, mut compact) = tiny();
        // Claim one more piece, then fix the checksum: lengths no longer add up.
        let pieces = u32_at(&compact, 40) + 1;
        compact[40..44].copy_from_slice(&pieces.to_le_bytes());
        let body = compact.len() - CRC_LEN;
        let crc = crc32fast::hash(&compact[..body]);
        compact[body..].copy_from_slice(&crc.to_le_bytes());
        assert!(refused(compact, &config).contains("lengths"));
    }
}
