//! The Unigram model of `tokenizers`, over a `tokenizer.xlt` read in place.
//!
//! Implements the crate's [`Model`] trait so that the normaliser and the
//! pre-tokeniser of `tokenizers` run unchanged around it. The Viterbi search
//! reproduces `tokenizers`' `Unigram::encode_optimized` exactly (checked on
//! every text of `../shared/data` by a test): path scores summed in f64, a
//! node replaced only by a strictly greater score with prefixes visited
//! shortest first, an `<unk>` candidate scored `min_score − 10` only where no
//! single-character piece matches, and consecutive `<unk>`s fused into one
//! token (looked up again as a whole piece, as `tokenizers` does).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tokenizers::tokenizer::{AddedToken, Model, Token, Trainer};

use super::darts::DoubleArray;
use crate::error::Result;
use crate::model::compact::CompactLayout;

/// `tokenizers`' penalty for an unknown character, below the rarest piece.
const UNK_PENALTY: f64 = 10.0;

/// The vocabulary of a `tokenizer.xlt`, owned as one byte buffer.
pub struct CompactUnigram {
    bytes: Vec<u8>,
    layout: CompactLayout,
    min_score: f64,
}

/// Best path ending at one byte position of the text.
#[derive(Clone, Copy)]
struct BestPath {
    id: u32,
    score: f64,
    /// Where the last piece of the path starts; `None` while unreached.
    starts_at: Option<usize>,
}

impl CompactUnigram {
    /// Checks and adopts a `tokenizer.xlt`.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        let layout = CompactLayout::check(&bytes)?;
        let min_score = (0..layout.pieces)
            .map(|id| f64::from(layout.score(&bytes, id)))
            .fold(f64::INFINITY, f64::min);
        Ok(Self {
            bytes,
            layout,
            min_score,
        })
    }

    /// SHA-256 (hex) of the `tokenizer.json` this vocabulary was built from.
    pub fn source_sha256(&self) -> &str {
        &self.layout.source_sha256
    }

    /// The normaliser/pre-tokeniser JSON stored with the vocabulary.
    pub fn pipeline_json(&self) -> &[u8] {
        &self.bytes[self.layout.pipeline.clone()]
    }

    /// Number of pieces.
    pub fn pieces(&self) -> usize {
        self.layout.pieces
    }

    /// Bytes held: the file itself (read in place).
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
    }

    /// The string of piece `id`.
    pub fn piece(&self, id: u32) -> Option<&str> {
        let id = id as usize;
        if id >= self.layout.pieces {
            return None;
        }
        let range = self.layout.piece_range(&self.bytes, id);
        // Checked to be UTF-8 on character boundaries when the file was adopted.
        std::str::from_utf8(&self.bytes[range]).ok()
    }

    fn trie(&self) -> DoubleArray<'_> {
        DoubleArray::new(&self.bytes[self.layout.trie.clone()])
    }

    fn score(&self, id: u32) -> f64 {
        f64::from(self.layout.score(&self.bytes, id as usize))
    }

    /// The id of exactly `piece`.
    pub fn id_of(&self, piece: &str) -> Option<u32> {
        self.trie()
            .exact_match(piece.as_bytes())
            .filter(|&id| (id as usize) < self.layout.pieces)
    }

    /// Best-path end nodes for every byte position of `text`.
    fn lattice(&self, text: &str) -> Vec<BestPath> {
        let trie = self.trie();
        let unk_score = self.min_score - UNK_PENALTY;
        let unreached = BestPath {
            id: 0,
            score: 0.0,
            starts_at: None,
        };
        let mut best = vec![unreached; text.len() + 1];
        let offer = |best: &mut [BestPath], end: usize, start: usize, id: u32, score: f64| {
            let node = &mut best[end];
            if node.starts_at.is_none() || score > node.score {
                *node = BestPath {
                    id,
                    score,
                    starts_at: Some(start),
                };
            }
        };
        for (start, ch) in text.char_indices() {
            let here = best[start].score;
            let char_len = ch.len_utf8();
            let mut has_single_char = false;
            for (id, len) in trie.common_prefixes(&text.as_bytes()[start..]) {
                // A corrupted array may point past the text or the vocabulary,
                // or split a character: such matches are ignored.
                let end = start + len;
                if (id as usize) >= self.layout.pieces || !text.is_char_boundary(end) {
                    continue;
                }
                offer(&mut best, end, start, id, self.score(id) + here);
                has_single_char |= len == char_len;
            }
            if !has_single_char {
                offer(
                    &mut best,
                    start + char_len,
                    start,
                    self.layout.unk_id,
                    unk_score + here,
                );
            }
        }
        best
    }

    /// The best segmentation of `text` as `(id, start, end)`, `<unk>`s fused.
    pub fn segment(&self, text: &str) -> Vec<(u32, usize, usize)> {
        let best = self.lattice(text);
        let unk = self.layout.unk_id;
        let mut pieces: Vec<(u32, usize, usize)> = Vec::new();
        let mut end = text.len();
        while end > 0 {
            let node = best[end];
            // Every character boundary is reached (an unknown character at
            // worst), so the walk always finds a start before `end`.
            let Some(start) = node.starts_at.filter(|&s| s < end) else {
                break;
            };
            match pieces.last_mut() {
                Some(last) if node.id == unk && last.0 == unk => last.1 = start,
                _ => pieces.push((node.id, start, end)),
            }
            end = start;
        }
        pieces.reverse();
        for piece in &mut pieces {
            if piece.0 == unk {
                // `tokenizers` looks fused unknowns up as a whole piece again.
                piece.0 = self.id_of(&text[piece.1..piece.2]).unwrap_or(unk);
            }
        }
        pieces
    }
}

impl Model for CompactUnigram {
    type Trainer = NoTrainer;

    fn tokenize(&self, sequence: &str) -> tokenizers::Result<Vec<Token>> {
        Ok(self
            .segment(sequence)
            .into_iter()
            .map(|(id, start, end)| Token::new(id, sequence[start..end].to_owned(), (start, end)))
            .collect())
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.id_of(token)
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        self.piece(id).map(str::to_owned)
    }

    fn get_vocab(&self) -> HashMap<String, u32> {
        (0..self.layout.pieces as u32)
            .filter_map(|id| Some((self.piece(id)?.to_owned(), id)))
            .collect()
    }

    fn get_vocab_size(&self) -> usize {
        self.layout.pieces
    }

    fn save(&self, _folder: &Path, _prefix: Option<&str>) -> tokenizers::Result<Vec<PathBuf>> {
        Err("a compact Unigram vocabulary is written by `xling convert`, not saved".into())
    }

    fn get_trainer(&self) -> NoTrainer {
        NoTrainer
    }
}

/// The compact model is built from a trained vocabulary, never trained.
pub struct NoTrainer;

impl Trainer for NoTrainer {
    type Model = CompactUnigram;

    fn should_show_progress(&self) -> bool {
        false
    }

    fn train(&self, _model: &mut CompactUnigram) -> tokenizers::Result<Vec<AddedToken>> {
        Err("a compact Unigram vocabulary cannot be trained".into())
    }

    fn feed<I, S, F>(&mut self, _iterator: I, _process: F) -> tokenizers::Result<()>
    where
        I: Iterator<Item = S> + Send,
        S: AsRef<str> + Send,
        F: Fn(&str) -> tokenizers::Result<Vec<String>> + Sync,
    {
        Ok(())
    }
}
