//! Vocabulary pruning: a model directory cut down to a set of pieces.
//!
//! 54 of the 67 MB of `model.gguf` are the token-embedding table of the
//! 250,002-piece XLM-R vocabulary, while a deployment reads a few languages.
//! [`prune_model`] keeps a chosen set of pieces: their order, strings and
//! scores are unchanged, ids become their rank among the kept pieces, the
//! embedding rows are sliced to them, and every other tensor is copied bit
//! for bit. Which pieces to keep is the caller's policy (`xling_index::prune`);
//! this module only does the mechanics, on bytes.
//!
//! Why text whose pieces are all kept tokenizes the same: Unigram's Viterbi
//! over a vocabulary subset that still holds a text's best path returns that
//! path (ties go to the first candidate visited, and a subset visits its
//! candidates in the same order), provided the subset adds no candidate the
//! full lattice lacked. The only candidates a subset can add are `<unk>`s,
//! which Unigram puts at a position where no single-character piece matches:
//! [`corpus_pieces`] therefore keeps the single-character piece of every
//! character that the text's pieces spell. Keeping the minimum-score piece
//! keeps the `<unk>` score (`min_score − 10`) itself.

use std::collections::{BTreeSet, HashMap};
use std::io::Cursor;

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QStorage, QTensor};
use candle_core::Device;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::charsmap::hex;
use super::gguf::{read_config, ModelConfig};
use super::selftest::SelfTest;
use crate::encoder::Embedder;
use crate::error::{Error, Result};
use crate::ModelFiles;

/// GGUF key: the languages a pruned model was cut for, comma-separated.
pub const PRUNED_LANGUAGES_KEY: &str = "xling.pruned.languages";
/// GGUF key: the pieces a pruned model kept.
pub const PRUNED_PIECES_KEY: &str = "xling.pruned.pieces";
/// GGUF key: the pieces of the model it was pruned from.
pub const PRUNED_PARENT_PIECES_KEY: &str = "xling.pruned.parent_pieces";
/// GGUF key: `general.name` of the model it was pruned from.
pub const PRUNED_PARENT_NAME_KEY: &str = "xling.pruned.parent_name";
/// GGUF key: hex [`ModelConfig::fingerprint`] of the model it was pruned from.
pub const PRUNED_PARENT_FINGERPRINT_KEY: &str = "xling.pruned.parent_fingerprint";

/// The name tensor of the token embeddings, the one tensor pruning slices.
const TOKEN_EMBEDDINGS: &str = "token_embd.weight";

/// The token vocabulary of a `tokenizer.json`: piece strings (control pieces
/// in their unreachable spelling) and Unigram scores, in id order.
pub fn vocabulary(tokenizer_json: &[u8]) -> Result<Vec<(String, f64)>> {
    let json: Json = serde_json::from_slice(tokenizer_json)
        .map_err(|e| Error::InvalidTokenizer(format!("cannot parse tokenizer.json: {e}")))?;
    let vocab = json
        .pointer("/model/vocab")
        .and_then(Json::as_array)
        .ok_or_else(|| Error::InvalidTokenizer("no Unigram vocabulary in tokenizer.json".into()))?;
    vocab
        .iter()
        .map(|entry| match entry.as_array().map(Vec::as_slice) {
            Some([Json::String(piece), score]) => score
                .as_f64()
                .map(|s| (piece.clone(), s))
                .ok_or_else(|| Error::InvalidTokenizer(format!("piece {piece:?} has no score"))),
            _ => Err(Error::InvalidTokenizer(
                "a vocabulary entry is not [piece, score]".into(),
            )),
        })
        .collect()
}

/// The id of the lowest-scored piece (the first one on ties): Unigram scores
/// `<unk>` candidates `min_score − 10`, so a pruned vocabulary keeps it to
/// handle unknown characters exactly as the full one.
pub fn min_score_piece(vocab: &[(String, f64)]) -> Option<u32> {
    let mut best: Option<(usize, f64)> = None;
    for (i, (_, score)) in vocab.iter().enumerate() {
        if best.is_none_or(|(_, b)| *score < b) {
            best = Some((i, *score));
        }
    }
    best.map(|(i, _)| i as u32)
}

/// Pieces a text's tokenization needs kept: the `ids` of its best path and
/// the single-character piece of every character those pieces spell (so
/// pruning adds no `<unk>` candidate where the full vocabulary had a
/// single-character piece; see the module comment). `by_piece` maps piece
/// strings to ids; `unk` is the `<unk>` id, whose string spells nothing.
pub fn corpus_pieces(
    ids: &[u32],
    vocab: &[(String, f64)],
    by_piece: &HashMap<&str, u32>,
    unk: u32,
    keep: &mut BTreeSet<u32>,
) {
    let mut buf = [0u8; 4];
    for &id in ids {
        if !keep.insert(id) || id == unk {
            continue;
        }
        let Some((piece, _)) = vocab.get(id as usize) else {
            continue;
        };
        for c in piece.chars() {
            if let Some(&single) = by_piece.get(&*c.encode_utf8(&mut buf)) {
                keep.insert(single);
            }
        }
    }
}

/// What a pruned model records about where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct PruneInfo {
    /// The language codes it was pruned for, as given (`en`, `de`).
    pub languages: Vec<String>,
}

/// A pruned model directory, in memory.
pub struct PrunedModel {
    /// The bytes to write as `model.gguf`.
    pub gguf: Vec<u8>,
    /// The bytes to write as `tokenizer.json`.
    pub tokenizer_json: Vec<u8>,
    /// The pruned model's configuration (its fingerprint differs from the parent's).
    pub config: ModelConfig,
    /// The parent's configuration, for reports.
    pub parent: ModelConfig,
}

/// Cuts the model of `files` (a `tokenizer.json`, not a compact tokenizer)
/// down to the pieces `keep`, which must hold the control pieces; see the
/// module comment. Recomputes the self-test vectors with the pruned model.
pub fn prune_model(
    files: &ModelFiles,
    keep: &BTreeSet<u32>,
    info: &PruneInfo,
) -> Result<PrunedModel> {
    let content = gguf_file::Content::read(&mut Cursor::new(&files.gguf))
        .map_err(|e| Error::InvalidModel(format!("cannot read GGUF header: {e}")))?;
    let parent = read_config(&content.metadata)?;
    let digest = hex(&Sha256::digest(&files.tokenizer_json));
    if digest != parent.tokenizer_sha256 {
        return Err(Error::InvalidTokenizer(format!(
            "tokenizer.json (SHA-256 {digest}) is not the one of this model (pruning needs the JSON tokenizer)"
        )));
    }
    let kept: Vec<u32> = keep.iter().copied().collect();
    let new_id = check_keep(&kept, &parent)?;
    let tokenizer_json = prune_tokenizer(&files.tokenizer_json, &kept, &new_id)?;
    let config = pruned_config(&parent, &kept, &new_id, &tokenizer_json, info)?;
    let tensors = pruned_tensors(&content, &files.gguf, &kept, parent.hidden_size)?;
    let metadata = pruned_metadata(&content.metadata, &parent, &config, info);
    let plain = write(&metadata, &tensors)?;
    let plain_files = ModelFiles {
        gguf: plain,
        tokenizer_json,
    };
    let self_test = SelfTest::compute(&Embedder::load(&plain_files)?)?;
    let mut metadata = metadata;
    metadata.extend(
        self_test
            .metadata()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v)),
    );
    let gguf = write(&metadata, &tensors)?;
    Ok(PrunedModel {
        gguf,
        tokenizer_json: plain_files.tokenizer_json,
        config,
        parent,
    })
}

/// Checks the kept ids and maps each old id to its new one.
fn check_keep(kept: &[u32], parent: &ModelConfig) -> Result<HashMap<u32, u32>> {
    if let Some(&bad) = kept.iter().find(|&&id| id as usize >= parent.vocab_pieces) {
        return Err(Error::InvalidInput(format!(
            "piece id {bad} to keep is beyond the model's {} pieces",
            parent.vocab_pieces
        )));
    }
    for (name, id) in [
        ("<s>", parent.bos_id),
        ("</s>", parent.eos_id),
        ("<pad>", parent.pad_id),
        ("<unk>", parent.unk_id),
    ] {
        if kept.binary_search(&id).is_err() {
            return Err(Error::InvalidInput(format!(
                "the pieces to keep lack the control piece {name} (id {id})"
            )));
        }
    }
    Ok(kept
        .iter()
        .enumerate()
        .map(|(new, &old)| (old, new as u32))
        .collect())
}

fn remap(new_id: &HashMap<u32, u32>, old: u32) -> Result<u32> {
    new_id
        .get(&old)
        .copied()
        .ok_or_else(|| Error::InvalidInput(format!("piece {old} is referenced but not kept")))
}

/// The `tokenizer.json` of the kept pieces: the vocabulary filtered, and the
/// ids that the model and the post-processor name remapped. Everything else
/// (normaliser, pre-tokeniser, templates) is unchanged.
fn prune_tokenizer(json: &[u8], kept: &[u32], new_id: &HashMap<u32, u32>) -> Result<Vec<u8>> {
    let bad = |what: &str| Error::InvalidTokenizer(format!("tokenizer.json: {what}"));
    let mut doc: Json = serde_json::from_slice(json).map_err(|e| bad(&e.to_string()))?;
    let model = doc.get_mut("model").ok_or_else(|| bad("no model"))?;
    let vocab = model
        .get_mut("vocab")
        .and_then(Json::as_array_mut)
        .ok_or_else(|| bad("no vocabulary"))?;
    let old = std::mem::take(vocab);
    *vocab = kept
        .iter()
        .map(|&id| {
            old.get(id as usize)
                .cloned()
                .ok_or_else(|| bad("short vocabulary"))
        })
        .collect::<Result<_>>()?;
    let unk = model
        .get("unk_id")
        .and_then(Json::as_u64)
        .ok_or_else(|| bad("no unk_id"))?;
    model["unk_id"] = Json::from(remap(new_id, unk as u32)?);
    if let Some(specials) = doc
        .pointer_mut("/post_processor/special_tokens")
        .and_then(Json::as_object_mut)
    {
        for special in specials.values_mut() {
            if let Some(ids) = special.get_mut("ids").and_then(Json::as_array_mut) {
                for id in ids.iter_mut() {
                    let old = id.as_u64().ok_or_else(|| bad("special id"))?;
                    *id = Json::from(remap(new_id, old as u32)?);
                }
            }
        }
    }
    serde_json::to_vec(&doc).map_err(|e| bad(&e.to_string()))
}

/// `general.name` of a pruned model: the parent's, the languages and the pieces.
pub fn pruned_name(parent: &str, languages: &[String], pieces: usize) -> String {
    format!(
        "{parent} (pruned: {}; {} pieces)",
        languages.join(","),
        thousands(pieces)
    )
}

/// `31204` → `31,204`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn pruned_config(
    parent: &ModelConfig,
    kept: &[u32],
    new_id: &HashMap<u32, u32>,
    tokenizer_json: &[u8],
    info: &PruneInfo,
) -> Result<ModelConfig> {
    Ok(ModelConfig {
        name: pruned_name(&parent.name, &info.languages, kept.len()),
        embedding_rows: kept.len(),
        vocab_pieces: kept.len(),
        bos_id: remap(new_id, parent.bos_id)?,
        eos_id: remap(new_id, parent.eos_id)?,
        pad_id: remap(new_id, parent.pad_id)?,
        unk_id: remap(new_id, parent.unk_id)?,
        tokenizer_sha256: hex(&Sha256::digest(tokenizer_json)),
        ..parent.clone()
    })
}

/// The parent's metadata with the vocabulary keys, the name and the pruning
/// record replaced, in key order (for reproducible files). The self-test is
/// dropped: it is recomputed for the pruned model.
fn pruned_metadata(
    parent_md: &HashMap<String, Value>,
    parent: &ModelConfig,
    config: &ModelConfig,
    info: &PruneInfo,
) -> Vec<(String, Value)> {
    let s = |v: &str| Value::String(v.to_owned());
    let replaced: Vec<(&str, Value)> = vec![
        ("general.name", s(&config.name)),
        ("bert.vocab_size", Value::U32(config.embedding_rows as u32)),
        (
            "xling.tokenizer.pieces",
            Value::U32(config.vocab_pieces as u32),
        ),
        ("xling.tokenizer.sha256", s(&config.tokenizer_sha256)),
        ("tokenizer.ggml.bos_token_id", Value::U32(config.bos_id)),
        ("tokenizer.ggml.eos_token_id", Value::U32(config.eos_id)),
        ("tokenizer.ggml.padding_token_id", Value::U32(config.pad_id)),
        ("tokenizer.ggml.unknown_token_id", Value::U32(config.unk_id)),
        (PRUNED_LANGUAGES_KEY, s(&info.languages.join(","))),
        (PRUNED_PIECES_KEY, Value::U32(config.vocab_pieces as u32)),
        (
            PRUNED_PARENT_PIECES_KEY,
            Value::U32(parent.vocab_pieces as u32),
        ),
        (PRUNED_PARENT_NAME_KEY, s(&parent.name)),
        (
            PRUNED_PARENT_FINGERPRINT_KEY,
            s(&hex(&parent.fingerprint())),
        ),
    ];
    let mut out: Vec<(String, Value)> = parent_md
        .iter()
        .filter(|(k, _)| !k.starts_with("xling.selftest.") && !replaced.iter().any(|(r, _)| r == k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    out.extend(replaced.into_iter().map(|(k, v)| (k.to_string(), v)));
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Every tensor of the parent, raw bytes copied; the token embeddings keep
/// only the rows of the kept ids. Tensors in the order `xling convert` writes.
fn pruned_tensors(
    content: &gguf_file::Content,
    gguf: &[u8],
    kept: &[u32],
    hidden: usize,
) -> Result<Vec<(String, QTensor)>> {
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort_by(|a, b| super::gguf::write_order(a).cmp(&super::gguf::write_order(b)));
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let info = &content.tensor_infos[name];
        let raw = tensor_bytes(content, gguf, name)?;
        let dims = info.shape.dims().to_vec();
        let (data, dims) = if name == TOKEN_EMBEDDINGS {
            (
                slice_rows(raw, &dims, info.ggml_dtype, kept, hidden)?,
                vec![kept.len(), hidden],
            )
        } else {
            (raw.to_vec(), dims)
        };
        let storage =
            QStorage::from_data(std::borrow::Cow::Owned(data), &Device::Cpu, info.ggml_dtype)?;
        out.push((name.clone(), QTensor::new(storage, dims.as_slice())?));
    }
    Ok(out)
}

/// The stored bytes of tensor `name`, bounds-checked.
fn tensor_bytes<'a>(content: &gguf_file::Content, gguf: &'a [u8], name: &str) -> Result<&'a [u8]> {
    let range = super::gguf::tensor_range(content, name, gguf.len())?;
    Ok(&gguf[range])
}

/// Rows `kept` of a Q4_0 `[rows, hidden]` matrix, bytes unchanged.
fn slice_rows(
    raw: &[u8],
    dims: &[usize],
    dtype: GgmlDType,
    kept: &[u32],
    hidden: usize,
) -> Result<Vec<u8>> {
    if dtype != GgmlDType::Q4_0 || dims.len() != 2 || dims[1] != hidden {
        return Err(Error::InvalidModel(format!(
            "{TOKEN_EMBEDDINGS} is {dtype:?} {dims:?}, pruning expects Q4_0 [rows, {hidden}]"
        )));
    }
    let row = hidden / dtype.block_size() * dtype.type_size();
    let mut out = Vec::with_capacity(kept.len() * row);
    for &id in kept {
        let start = id as usize * row;
        let bytes = raw
            .get(start..start + row)
            .ok_or_else(|| Error::InvalidModel(format!("no embedding row for piece {id}")))?;
        out.extend_from_slice(bytes);
    }
    Ok(out)
}

fn write(metadata: &[(String, Value)], tensors: &[(String, QTensor)]) -> Result<Vec<u8>> {
    let md: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let ts: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, t)| (k.as_str(), t)).collect();
    let mut out = Cursor::new(Vec::new());
    gguf_file::write(&mut out, &md, &ts)?;
    Ok(out.into_inner())
}

/// The pruning record of a model file, if it is a pruned model: the
/// languages, the parent's name and fingerprint (hex).
pub fn read_prune_record(gguf: &[u8]) -> Result<Option<(String, String, String)>> {
    let content = gguf_file::Content::read(&mut Cursor::new(gguf))
        .map_err(|e| Error::InvalidModel(format!("cannot read GGUF header: {e}")))?;
    let get = |k: &str| {
        content
            .metadata
            .get(k)
            .and_then(|v| v.to_string().ok())
            .cloned()
    };
    Ok(
        match (
            get(PRUNED_LANGUAGES_KEY),
            get(PRUNED_PARENT_NAME_KEY),
            get(PRUNED_PARENT_FINGERPRINT_KEY),
        ) {
            (Some(l), Some(n), Some(f)) => Some((l, n, f)),
            _ => None,
        },
    )
}

#[cfg(test)]
mod tests;
