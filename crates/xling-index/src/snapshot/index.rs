//! The index's sections of a snapshot: what [`Index::to_bytes`] writes into
//! the container of [`super`] and [`Index::from_bytes`] reads back, checking
//! every cross-reference between the sections before it builds an index.
//!
//! Sections, in file order: `META` (chunking and BM25 settings), `DOCS`,
//! `PASS` (passages), `DENS`, `LEXI`, `LANG` (language statistics), `SURE`
//! (which passages' language labels are sure; older snapshots lack it and
//! count every label as sure) and, when the index has one, `PRIO` (the
//! model's language prior).

use std::collections::HashMap;
use std::ops::Range;

use super::{Snapshot, SnapshotWriter};
use crate::chunk::ChunkConfig;
use crate::codec::{Reader, Writer};
use crate::collection::{DocRecord, Index, IndexConfig, PassageRecord};
use crate::dense::DenseIndex;
use crate::document::Document;
use crate::lang::Script;
use crate::languages::{LanguagePrior, LanguageStats};
use crate::lexical::{Bm25Params, LexicalIndex};
use xling_model::error::{Error, Result};
use xling_model::tokenize::Tokenizer;

/// Snapshot section tags.
const META: [u8; 4] = *b"META";
const DOCS: [u8; 4] = *b"DOCS";
const PASSAGES: [u8; 4] = *b"PASS";
const DENSE: [u8; 4] = *b"DENS";
const LEXICAL: [u8; 4] = *b"LEXI";
const LANGUAGES: [u8; 4] = *b"LANG";
const PRIOR: [u8; 4] = *b"PRIO";
const SURE: [u8; 4] = *b"SURE";

/// Bytes of one stored passage before its sentence list: the least a passage
/// can take, which bounds the count a hostile file may claim.
const MIN_PASSAGE_BYTES: usize = 17;

impl Index {
    /// The whole index as one snapshot (see [`crate::snapshot`]).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut snapshot = SnapshotWriter::new(self.fingerprint);
        snapshot.section(META, self.meta_bytes())?;
        snapshot.section(DOCS, self.docs_bytes())?;
        snapshot.section(PASSAGES, self.passages_bytes())?;
        let mut dense = Writer::new();
        self.dense.write(&mut dense)?;
        snapshot.section(DENSE, dense.into_bytes())?;
        let mut lexical = Writer::new();
        self.lexical.write(&mut lexical);
        snapshot.section(LEXICAL, lexical.into_bytes())?;
        let mut languages = Writer::new();
        self.languages.write(&mut languages);
        snapshot.section(LANGUAGES, languages.into_bytes())?;
        snapshot.section(SURE, self.sure_bytes())?;
        if let Some(prior) = &self.prior {
            let mut w = Writer::new();
            prior.write(&mut w);
            snapshot.section(PRIOR, w.into_bytes())?;
        }
        if let Some(name) = &self.model_name {
            snapshot.section(super::MODEL_NAME, name.as_bytes().to_vec())?;
        }
        Ok(snapshot.finish())
    }

    /// Reads a snapshot, validating every cross-reference. Does not check the
    /// model: use [`Index::from_bytes_for`] when a model is loaded.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let snapshot = Snapshot::parse(bytes)?;
        let (chunk, bm25) = read_meta(snapshot.section(META)?)?;
        let mut r = Reader::new(snapshot.section(DENSE)?, "dense index");
        let dense = DenseIndex::read(&mut r)?;
        r.finish()?;
        let mut r = Reader::new(snapshot.section(LEXICAL)?, "lexical index");
        let lexical = LexicalIndex::read(&mut r)?;
        r.finish()?;
        let mut r = Reader::new(snapshot.section(LANGUAGES)?, "language statistics");
        let languages = LanguageStats::read(&mut r, dense.dim())?;
        r.finish()?;
        let prior = read_prior(&snapshot, &dense)?;
        let (docs, by_id) = read_docs(snapshot.section(DOCS)?, dense.len())?;
        let sections = Sections {
            docs: &docs,
            dense: &dense,
            lexical: &lexical,
            languages: &languages,
        };
        let mut passages = sections.read_passages(snapshot.section(PASSAGES)?)?;
        if let Some(bits) = snapshot.get(SURE) {
            read_sure(bits, &mut passages)?;
        }
        sections.check_language_counts(&passages)?;

        let config = IndexConfig {
            chunk,
            dense: dense.config().clone(),
            bm25,
        };
        let mut index = Self {
            fingerprint: snapshot.fingerprint,
            model_name: snapshot.model_name().map(str::to_string),
            config,
            docs,
            by_id,
            passages,
            dense,
            lexical,
            languages,
            prior,
            samples: Vec::new(),
            sure_counts: Vec::new(),
            auto_maintain: true,
        };
        index.rebuild_samples();
        Ok(index)
    }

    /// Reads a snapshot and refuses it unless it was built with `tokenizer`'s model.
    pub fn from_bytes_for(bytes: &[u8], tokenizer: &Tokenizer) -> Result<Self> {
        let snapshot = Snapshot::parse(bytes)?;
        snapshot
            .check_model(&tokenizer.model_fingerprint())
            .map_err(|e| name_loaded_model(e, tokenizer))?;
        Self::from_bytes(bytes)
    }

    /// `SURE`: one bit per passage, set when its language label is sure.
    fn sure_bytes(&self) -> Vec<u8> {
        let mut bits = vec![0u8; self.passages.len().div_ceil(8)];
        for (i, p) in self.passages.iter().enumerate() {
            if p.sure {
                bits[i / 8] |= 1 << (i % 8);
            }
        }
        bits
    }

    /// `META`: the chunking and BM25 settings (the dense ones live in `DENS`).
    fn meta_bytes(&self) -> Vec<u8> {
        let mut meta = Writer::new();
        let c = &self.config;
        meta.len_u64(c.chunk.max_tokens);
        meta.len_u64(c.chunk.overlap_tokens);
        let bm25 = self.lexical.params();
        meta.f32(bm25.k1);
        meta.f32(bm25.b);
        meta.into_bytes()
    }

    /// `DOCS`: every document ever added, deleted ones with their id only.
    fn docs_bytes(&self) -> Vec<u8> {
        let mut docs = Writer::new();
        docs.len_u64(self.docs.len());
        for d in &self.docs {
            docs.u8(d.live as u8);
            docs.str(&d.doc.id);
            docs.str(&d.doc.text);
            docs.opt_str(d.doc.title.as_deref());
            docs.opt_str(d.doc.url.as_deref());
            docs.opt_str(d.doc.lang.as_deref());
            docs.u32(d.passages.start);
            docs.u32(d.passages.end);
        }
        docs.into_bytes()
    }

    /// `PASS`: each passage's document, script, language, span and sentences.
    fn passages_bytes(&self) -> Vec<u8> {
        let mut passages = Writer::new();
        passages.len_u64(self.passages.len());
        for p in &self.passages {
            passages.u32(p.doc);
            passages.u8(p.script as u8);
            passages.u32(p.lang as u32);
            passages.u32(p.span.start);
            passages.u32(p.span.end);
            let flat: Vec<u32> = p.sentences.iter().flat_map(|s| [s.start, s.end]).collect();
            passages.u32s(&flat);
        }
        passages.into_bytes()
    }
}

/// `META` back into the chunking and BM25 settings.
fn read_meta(bytes: &[u8]) -> Result<(ChunkConfig, Bm25Params)> {
    let mut r = Reader::new(bytes, "index settings");
    let max_tokens = r.u64()? as usize;
    let overlap_tokens = r.u64()? as usize;
    let chunk = ChunkConfig {
        max_tokens,
        overlap_tokens,
    };
    let k1 = r.finite_f32()?;
    let b = r.finite_f32()?;
    r.finish()?;
    Ok((chunk, Bm25Params { k1, b }))
}

/// `PRIO`, when present; refused unless it is for the snapshot's model and
/// the dense index's dimension.
/// Sets each passage's sureness from the `SURE` bits.
fn read_sure(bits: &[u8], passages: &mut [PassageRecord]) -> Result<()> {
    if bits.len() != passages.len().div_ceil(8) {
        return Err(Error::InvalidIndex(format!(
            "label sureness: {} bytes for {} passages",
            bits.len(),
            passages.len()
        )));
    }
    for (i, p) in passages.iter_mut().enumerate() {
        p.sure = bits[i / 8] & (1 << (i % 8)) != 0;
    }
    Ok(())
}

fn read_prior(snapshot: &Snapshot<'_>, dense: &DenseIndex) -> Result<Option<LanguagePrior>> {
    let Some(bytes) = snapshot.get(PRIOR) else {
        return Ok(None);
    };
    let mut r = Reader::new(bytes, "language prior");
    let prior = LanguagePrior::read(&mut r)?;
    r.finish()?;
    if prior.fingerprint() != snapshot.fingerprint || prior.dim() != dense.dim() {
        return Err(Error::InvalidIndex(
            "the language prior in the index is for another model".into(),
        ));
    }
    Ok(Some(prior))
}

/// `DOCS` back into document records and the id map of the live ones.
/// Passage ranges must tile `0..passage_count` in document order.
fn read_docs(bytes: &[u8], passage_count: usize) -> Result<(Vec<DocRecord>, HashMap<String, u32>)> {
    let mut r = Reader::new(bytes, "documents");
    let n = r.count(1)?;
    let mut docs = Vec::with_capacity(n);
    let mut by_id = HashMap::with_capacity(n);
    let mut next_passage = 0u32;
    for i in 0..n {
        let live = match r.u8()? {
            0 => false,
            1 => true,
            v => return Err(r.error(format!("bad flag {v}"))),
        };
        let doc = Document {
            id: r.str()?.to_string(),
            text: r.str()?.to_string(),
            title: r.opt_str()?.map(str::to_string),
            url: r.opt_str()?.map(str::to_string),
            lang: r.opt_str()?.map(str::to_string),
        };
        let (start, end) = (r.u32()?, r.u32()?);
        // Passages are stored in document order, contiguously.
        if start != next_passage || end < start || end as usize > passage_count {
            return Err(r.error(format!("document {i}: bad passage range")));
        }
        next_passage = end;
        if live && by_id.insert(doc.id.clone(), i as u32).is_some() {
            return Err(r.error(format!("duplicate document id {:?}", doc.id)));
        }
        docs.push(DocRecord {
            doc,
            passages: start..end,
            live,
        });
    }
    r.finish()?;
    if next_passage as usize != passage_count {
        return Err(Error::InvalidIndex(
            "documents do not cover every passage".into(),
        ));
    }
    Ok((docs, by_id))
}

/// The sections already read, that the passage table must agree with.
struct Sections<'a> {
    docs: &'a [DocRecord],
    dense: &'a DenseIndex,
    lexical: &'a LexicalIndex,
    languages: &'a LanguageStats,
}

impl Sections<'_> {
    /// `PASS` back into passage records, each checked against its document
    /// (range, spans inside the text) and against the dense and lexical
    /// indexes (deleted in both or in neither).
    fn read_passages(&self, bytes: &[u8]) -> Result<Vec<PassageRecord>> {
        let mut r = Reader::new(bytes, "passages");
        let n = r.count(MIN_PASSAGE_BYTES)?;
        if n != self.dense.len() {
            return Err(r.error("passage table and dense index disagree"));
        }
        let mut passages = Vec::with_capacity(n);
        for i in 0..n {
            passages.push(self.read_passage(&mut r, i)?);
        }
        r.finish()?;
        Ok(passages)
    }

    /// Passage `i` of the table.
    fn read_passage(&self, r: &mut Reader<'_>, i: usize) -> Result<PassageRecord> {
        let doc = r.u32_below(self.docs.len())?;
        let script = Script::from_u8(r.u8()?).ok_or_else(|| r.error("bad script code"))?;
        let lang = r.u32_below(self.languages.len())? as u16;
        let span = r.u32()?..r.u32()?;
        let flat = r.u32s()?;
        let record = &self.docs[doc as usize];
        if !record.passages.contains(&(i as u32)) {
            return Err(r.error(format!("passage {i} not in its document's range")));
        }
        let text = &record.doc.text;
        let valid = |s: &Range<u32>| {
            s.start <= s.end
                && (!record.live || text.get(s.start as usize..s.end as usize).is_some())
        };
        let sentences: Vec<Range<u32>> = flat.chunks_exact(2).map(|c| c[0]..c[1]).collect();
        if flat.len() % 2 != 0 || !valid(&span) || !sentences.iter().all(valid) {
            return Err(r.error(format!("passage {i}: span outside its document")));
        }
        let live = self.dense.is_live(i as u32);
        if live != record.live || live != self.lexical.contains(i as u32) {
            return Err(r.error(format!(
                "passage {i}: dense, lexical and document disagree on deletion"
            )));
        }
        Ok(PassageRecord {
            doc,
            span,
            sentences,
            script,
            lang,
            sure: true,
        })
    }

    /// The statistics must count exactly the live passages of each language.
    fn check_language_counts(&self, passages: &[PassageRecord]) -> Result<()> {
        let languages = self.languages;
        let mut live_per_language = vec![0u64; languages.len()];
        for (i, p) in passages.iter().enumerate() {
            if self.dense.is_live(i as u32) {
                live_per_language[p.lang as usize] += 1;
            }
        }
        if (0..languages.len()).any(|l| languages.count(l as u16) != live_per_language[l]) {
            return Err(Error::InvalidIndex(
                "language statistics do not match the passages".into(),
            ));
        }
        Ok(())
    }
}

/// A [`Error::ModelMismatch`] that also names the loaded model.
pub(crate) fn name_loaded_model(error: Error, tokenizer: &Tokenizer) -> Error {
    match error {
        Error::ModelMismatch { index, model } => Error::ModelMismatch {
            index,
            model: super::describe_model(Some(tokenizer.model_name()), &model),
        },
        e => e,
    }
}

#[cfg(test)]
mod tests;
