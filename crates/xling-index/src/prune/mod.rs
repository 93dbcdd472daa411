//! Which pieces a model pruned for a deployment keeps (`xling prune`); the
//! mechanics of cutting the model are `xling_model::model::prune`.
//!
//! In priority order, the kept set is:
//! 1. the control pieces, the pieces of the `query: ` and `passage: `
//!    prefixes, and the minimum-score piece (the `<unk>` score derives from it);
//! 2. every piece the corpus uses, exactly as `xling index` tokenizes it:
//!    each document chunked with [`ChunkConfig`] (every string the chunker
//!    counts), each passage with its title under the `passage: ` and `query: `
//!    prefixes, and lower-cased for the BM25 terms; plus the single-character
//!    piece of every character those pieces spell. That makes the corpus
//!    tokenize to the same pieces (see `xling_model::model::prune`);
//! 3. the single-character pieces (bare and `▁`-prefixed) of the languages'
//!    scripts and of characters that belong to no script (digits,
//!    punctuation, symbols), so any text of those languages can be spelled;
//! 4. query-side pieces up to `max_pieces`: first the pieces of optional
//!    sample texts of the languages (e.g. Tatoeba sentences), most frequent
//!    first; then each language in turn takes the next piece of its own
//!    scripts (every letter in them; pieces without letters count for all)
//!    by unigram score, i.e. the log-probability SentencePiece learned. The
//!    score ranks pieces within a script as their frequency in its text does,
//!    but across scripts it follows the training mixture, where English and
//!    the other large Latin-script languages dominate: ranking all pieces by
//!    score alone starved Thai, Greek and Arabic (their XQuAD-R texts kept
//!    the lowest cosines to the full model's embeddings). Taking turns gives
//!    every language an equal share; languages of one script pool theirs.
//!
//! 1–3 are mandatory: a `max_pieces` below them is an error that says how
//! many are needed.

mod scripts;

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::chunk::{chunk_text, ChunkConfig};
use crate::collection::embedding_text;
use crate::document::Document;
use crate::lang::{normalize_language, Script};
use xling_model::model::prune::{corpus_pieces, min_score_piece, vocabulary};
use xling_model::model::tokenizer_json::unreachable_control_piece;
use xling_model::tokenize::{Prefix, Tokenizer};
use xling_model::ModelConfig;

pub use scripts::scripts_of;

/// Why a selection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    /// No language was given.
    #[error("no language given: pass --languages, e.g. en,de")]
    NoLanguages,
    /// Codes that are not languages xling can prune for.
    #[error("unknown language code{}: {} (use ISO 639-1 codes such as en, de, zh)", if .0.len() == 1 { "" } else { "s" }, .0.join(", "))]
    UnknownLanguages(Vec<String>),
    /// A corpus was given but holds no document.
    #[error("the corpus holds no documents: nothing to keep pieces for (drop --corpus, or point it at documents)")]
    EmptyCorpus,
    /// `max_pieces` is below what the mandatory pieces need.
    #[error("--max-pieces {max} is too small: the control, prefix, script and corpus pieces alone need {needed}")]
    TooFewPieces {
        /// Pieces the mandatory selection needs.
        needed: usize,
        /// The limit given.
        max: usize,
    },
    /// The model or tokenizer failed.
    #[error(transparent)]
    Model(#[from] xling_model::Error),
}

/// The languages of `codes` in xling's spelling, deduplicated in order, with
/// the scripts of each; unknown codes are named in the error.
pub fn parse_languages(codes: &[String]) -> Result<(Vec<String>, Vec<Vec<Script>>), PruneError> {
    let mut languages = Vec::new();
    let mut scripts = Vec::new();
    let mut unknown = Vec::new();
    for code in codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        match normalize_language(code).and_then(|c| scripts_of(&c).map(|s| (c, s))) {
            Some((c, s)) => {
                if !languages.contains(&c) {
                    languages.push(c);
                    scripts.push(s);
                }
            }
            None => unknown.push(code.to_string()),
        }
    }
    if !unknown.is_empty() {
        return Err(PruneError::UnknownLanguages(unknown));
    }
    if languages.is_empty() {
        return Err(PruneError::NoLanguages);
    }
    Ok((languages, scripts))
}

/// What to select for.
pub struct PruneRequest<'a> {
    /// The scripts of each language ([`parse_languages`]).
    pub language_scripts: &'a [Vec<Script>],
    /// The documents to keep every piece of; `None` when no corpus is given.
    pub corpus: Option<&'a [Document]>,
    /// How `xling index` will chunk them.
    pub chunk: &'a ChunkConfig,
    /// Texts of the languages (e.g. Tatoeba), a source of query pieces.
    pub samples: &'a [String],
    /// The most pieces to keep.
    pub max_pieces: usize,
}

/// The pieces chosen, and how many each stage added.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Ids of the full model's pieces to keep.
    pub keep: BTreeSet<u32>,
    /// Control, prefix and minimum-score pieces.
    pub control: usize,
    /// Pieces added by the corpus.
    pub corpus: usize,
    /// Single-character pieces of the scripts added.
    pub characters: usize,
    /// Query-side pieces added up to the limit.
    pub query: usize,
}

/// Selects the pieces of the full model (`tokenizer`, its `tokenizer.json`
/// bytes and `config`) to keep; see the module comment for the rule.
pub fn select_pieces(
    tokenizer: &Tokenizer,
    tokenizer_json: &[u8],
    config: &ModelConfig,
    request: &PruneRequest<'_>,
) -> Result<Selection, PruneError> {
    let vocab = vocabulary(tokenizer_json)?;
    let by_piece: HashMap<&str, u32> = vocab
        .iter()
        .enumerate()
        .map(|(i, (p, _))| (p.as_str(), i as u32))
        .collect();
    let unk = config.unk_id;
    let mut keep: BTreeSet<u32> = [config.bos_id, config.eos_id, config.pad_id, unk].into();
    keep.extend(by_piece.get(unreachable_control_piece("<mask>").as_str()));
    keep.extend(min_score_piece(&vocab));
    for prefix in [Prefix::Query, Prefix::Passage] {
        let ids = tokenizer.content_ids("", prefix)?;
        corpus_pieces(&ids, &vocab, &by_piece, unk, &mut keep);
    }
    let control = keep.len();

    if let Some(docs) = request.corpus {
        if docs.is_empty() {
            return Err(PruneError::EmptyCorpus);
        }
        for doc in docs {
            keep_document(
                tokenizer,
                doc,
                request.chunk,
                &vocab,
                &by_piece,
                unk,
                &mut keep,
            )?;
        }
    }
    let corpus = keep.len() - control;

    let all_scripts: Vec<Script> = request.language_scripts.iter().flatten().copied().collect();
    let in_scripts = |piece: &str| written_in(piece, &all_scripts);
    let is_control = |id: u32| {
        [config.bos_id, config.eos_id, config.pad_id, unk].contains(&id)
            || vocab[id as usize].0 == unreachable_control_piece("<mask>")
    };
    for (id, (piece, _)) in vocab.iter().enumerate() {
        let bare = piece.strip_prefix('\u{2581}').unwrap_or(piece);
        if bare.chars().count() == 1 && in_scripts(piece) && !is_control(id as u32) {
            keep.insert(id as u32);
        }
    }
    let characters = keep.len() - control - corpus;
    let needed = keep.len();
    if needed > request.max_pieces {
        return Err(PruneError::TooFewPieces {
            needed,
            max: request.max_pieces,
        });
    }

    for id in query_candidates(
        tokenizer,
        request.samples,
        &vocab,
        request.language_scripts,
        &is_control,
    )? {
        if keep.len() >= request.max_pieces {
            break;
        }
        keep.insert(id);
    }
    let query = keep.len() - needed;
    Ok(Selection {
        keep,
        control,
        corpus,
        characters,
        query,
    })
}

/// Keeps every piece `xling index` produces for `doc`: the strings the
/// chunker counts, then each passage (with its title) under both prefixes
/// and lower-cased.
fn keep_document(
    tokenizer: &Tokenizer,
    doc: &Document,
    chunk: &ChunkConfig,
    vocab: &[(String, f64)],
    by_piece: &HashMap<&str, u32>,
    unk: u32,
    keep: &mut BTreeSet<u32>,
) -> Result<(), PruneError> {
    let chunks = chunk_text(&doc.text, chunk, |s| {
        let ids = tokenizer.content_ids(s, Prefix::None)?;
        corpus_pieces(&ids, vocab, by_piece, unk, keep);
        Ok(ids.len())
    })?;
    for c in &chunks {
        let text = embedding_text(doc, &doc.text[c.span.clone()]);
        for (s, prefix) in [
            (text.as_str(), Prefix::Passage),
            (text.as_str(), Prefix::Query),
            (&text.to_lowercase(), Prefix::None),
        ] {
            let ids = tokenizer.content_ids(s, prefix)?;
            corpus_pieces(&ids, vocab, by_piece, unk, keep);
        }
    }
    Ok(())
}

/// Whether every letter of `piece` (the `▁` word mark aside) is of `scripts`;
/// true for pieces without letters.
fn written_in(piece: &str, scripts: &[Script]) -> bool {
    piece
        .chars()
        .filter(|c| *c != '\u{2581}')
        .all(|c| Script::of_char(c).is_none_or(|s| scripts.contains(&s)))
}

/// Query-side pieces in the order they are taken: the pieces of `samples`
/// (as queries and lower-cased), most frequent first, then the languages in
/// turn, each taking its scripts' next piece by score (highest first; ids
/// break ties).
fn query_candidates(
    tokenizer: &Tokenizer,
    samples: &[String],
    vocab: &[(String, f64)],
    language_scripts: &[Vec<Script>],
    is_control: &dyn Fn(u32) -> bool,
) -> Result<Vec<u32>, PruneError> {
    let mut counts: HashMap<u32, u64> = HashMap::new();
    for text in samples {
        for (s, prefix) in [
            (text.clone(), Prefix::Query),
            (text.to_lowercase(), Prefix::None),
        ] {
            for id in tokenizer.content_ids(&s, prefix)? {
                *counts.entry(id).or_default() += 1;
            }
        }
    }
    let mut sampled: Vec<(u32, u64)> = counts
        .into_iter()
        .filter(|(id, _)| !is_control(*id))
        .collect();
    sampled.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut order: Vec<u32> = sampled.into_iter().map(|(id, _)| id).collect();
    let mut taken: HashSet<u32> = order.iter().copied().collect();
    for id in pieces_in_turns(vocab, language_scripts, is_control) {
        if taken.insert(id) {
            order.push(id);
        }
    }
    Ok(order)
}

/// Every non-control piece of the languages' scripts, the languages taking
/// turns: each takes the best-scored piece of its scripts not taken yet (ids
/// break ties), so each language gets an equal share of any prefix.
fn pieces_in_turns(
    vocab: &[(String, f64)],
    language_scripts: &[Vec<Script>],
    is_control: &dyn Fn(u32) -> bool,
) -> Vec<u32> {
    let mut by_score: Vec<u32> = (0..vocab.len() as u32)
        .filter(|&id| !is_control(id))
        .collect();
    by_score.sort_by(|&a, &b| {
        vocab[b as usize]
            .1
            .total_cmp(&vocab[a as usize].1)
            .then(a.cmp(&b))
    });
    // One queue per language: the pieces of its scripts, best first.
    let lists: Vec<Vec<u32>> = language_scripts
        .iter()
        .map(|scripts| {
            by_score
                .iter()
                .copied()
                .filter(|&id| written_in(&vocab[id as usize].0, scripts))
                .collect()
        })
        .collect();
    let mut queues: Vec<_> = lists.iter().map(|l| l.iter().peekable()).collect();
    let mut taken = HashSet::new();
    let mut order = Vec::new();
    while queues.iter_mut().any(|q| q.peek().is_some()) {
        for queue in &mut queues {
            if let Some(&id) = queue.find(|id| !taken.contains(*id)) {
                taken.insert(id);
                order.push(id);
            }
        }
    }
    order
}

#[cfg(test)]
mod tests;
