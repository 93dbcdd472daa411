//! [`Index`]: documents, their passages, and the dense and lexical indexes
//! over them, kept consistent under add and delete. The index's other jobs
//! live beside it: searching in [`crate::search`], its snapshot sections in
//! `snapshot/index.rs`.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use serde::Serialize;

use super::dense::{DenseConfig, DenseIndex};
use super::document::Document;
use super::languages::{passage_label, LanguagePrior, LanguageStats, TEXT_SURE};
use super::lexical::{Bm25Params, LexicalIndex};
use crate::chunk::{chunk_text, Chunk, ChunkConfig};
use crate::lang::{detect_language, detect_script, normalize_language, Script, UNDETERMINED};
use crate::search::lexical_terms;
use xling_model::encoder::WindowEncoder;
use xling_model::error::{Error, Result};
use xling_model::tokenize::{Prefix, Tokenizer};
use xling_model::Embedder;

/// Passages per language whose scores estimate that language's spread for a
/// query (standardisation, `docs/languages.md`): enough for a stable
/// variance (128 cost 1.7 points of X-Y mAP on XQuAD-R, 512 0.4), few
/// enough to score in ~30 µs per language.
const SPREAD_SAMPLE: usize = 512;

/// Passages embedded per encoder call while indexing (progress granularity).
const EMBED_BATCH: usize = 64;

/// Everything tunable about an index; stored in its snapshot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IndexConfig {
    /// How documents are cut into passages.
    pub chunk: ChunkConfig,
    /// The dense index's graphs and exact buffer.
    pub dense: DenseConfig,
    /// BM25's parameters.
    pub bm25: Bm25Params,
}

/// Counts for users and benchmarks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexStats {
    /// Live documents.
    pub documents: usize,
    /// Live passages.
    pub passages: usize,
    /// Passage slots ever used, deleted included (tombstones until a rebuild).
    pub passage_slots: usize,
    /// Passages in each HNSW graph segment.
    pub graph_segments: Vec<usize>,
    /// Passages not in a graph yet (searched exactly).
    pub exact_buffer: usize,
    /// Live passages per language, most first.
    pub languages: Vec<(String, u64)>,
    /// Languages of the model's prior carried by the index (0: none).
    pub prior_languages: usize,
}

/// What one `add_documents` call did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddReport {
    /// Documents added.
    pub documents: usize,
    /// Passages they were cut into.
    pub passages: usize,
}

/// Documents between [`Index::prepare_add`] and [`Index::commit_add`]:
/// chunked, and embedded a batch at a time so that a caller can report
/// progress, stay responsive and cancel.
pub struct PendingAdd {
    docs: Vec<Document>,
    chunked: Vec<Vec<Chunk>>,
    /// Passage texts as embedded (title prefix included), in order.
    texts: Vec<String>,
    vectors: Vec<Vec<f32>>,
    dim: usize,
}

impl PendingAdd {
    /// Passages to embed in all.
    pub fn total(&self) -> usize {
        self.texts.len()
    }

    /// Passages embedded so far.
    pub fn embedded(&self) -> usize {
        self.vectors.len()
    }

    /// Whether every passage is embedded (the add can be committed).
    pub fn is_embedded(&self) -> bool {
        self.embedded() == self.total()
    }

    /// Documents in this add.
    pub fn documents(&self) -> usize {
        self.docs.len()
    }

    /// Values per vector that [`PendingAdd::accept`] takes.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Embeds up to `n` more passages with `embed` (texts to embed with the
    /// `passage: ` prefix → unit vectors); returns how many it embedded.
    pub fn embed_next(
        &mut self,
        n: usize,
        mut embed: impl FnMut(&[String]) -> Result<Vec<Vec<f32>>>,
    ) -> Result<usize> {
        let batch = self.next_texts(n);
        if batch.is_empty() {
            return Ok(0);
        }
        let expected = batch.len();
        let embedded = embed(batch)?;
        if embedded.len() != expected {
            return Err(Error::InvalidInput(format!(
                "the embedder returned {} vectors for {expected} passages",
                embedded.len()
            )));
        }
        self.accept(embedded)
    }

    /// The next (up to `n`, at least one) passages to embed, for callers that
    /// embed asynchronously and then hand the vectors to [`PendingAdd::accept`].
    pub fn next_texts(&self, n: usize) -> &[String] {
        let from = self.vectors.len();
        let to = (from + n.max(1)).min(self.texts.len());
        &self.texts[from..to]
    }

    /// The texts of passages `from..from + count` (cut at the end), as
    /// [`PendingAdd::next_texts`] gives them: for callers that embed several
    /// pieces of one add at once elsewhere (a pool of browser workers).
    pub fn texts(&self, from: usize, count: usize) -> &[String] {
        let from = from.min(self.texts.len());
        let to = from.saturating_add(count).min(self.texts.len());
        &self.texts[from..to]
    }

    /// Takes the vectors of the passages [`PendingAdd::next_texts`] gave, in
    /// order; returns how many it took. Wrong counts or dimensions, and
    /// values that are not finite, are refused and leave the add unchanged.
    pub fn accept(&mut self, vectors: Vec<Vec<f32>>) -> Result<usize> {
        let remaining = self.texts.len() - self.vectors.len();
        if vectors.is_empty()
            || vectors.len() > remaining
            || vectors.iter().any(|v| v.len() != self.dim)
        {
            return Err(Error::InvalidInput(format!(
                "the embedder returned {} vectors for at most {remaining} passages, or vectors of the wrong dimension",
                vectors.len(),
            )));
        }
        if let Some(i) = vectors
            .iter()
            .position(|v| v.iter().any(|x| !x.is_finite()))
        {
            return Err(Error::InvalidInput(format!(
                "vector {i} of {} holds a value that is not a finite number",
                vectors.len()
            )));
        }
        let n = vectors.len();
        self.vectors.extend(vectors);
        Ok(n)
    }
}

/// A document as the index keeps it: deleted ones stay (with their id
/// only) so that passage ids never move until a rebuild.
#[derive(Debug, Clone)]
pub(crate) struct DocRecord {
    pub(crate) doc: Document,
    /// Its passages' ids, contiguous.
    pub(crate) passages: Range<u32>,
    pub(crate) live: bool,
}

/// A passage: where it lies in its document, and its script and language.
#[derive(Debug, Clone)]
pub(crate) struct PassageRecord {
    /// Index into the document records.
    pub(crate) doc: u32,
    /// Byte range of the document text.
    pub(crate) span: Range<u32>,
    /// Sentence spans inside `span`, as byte ranges of the document text.
    pub(crate) sentences: Vec<Range<u32>>,
    pub(crate) script: Script,
    /// Index into the [`LanguageStats`] table.
    pub(crate) lang: u16,
    /// Whether the label is sure (given, or from the script or a confident
    /// text detector) rather than the embedding's nearest prior language:
    /// only sure labels make a collection count as mixed.
    pub(crate) sure: bool,
}

/// A searchable collection of documents.
pub struct Index {
    pub(crate) fingerprint: [u8; 32],
    /// The name of the model that built it (`general.name`), when the caller
    /// gave it: saved, so that a mismatch can say which model built the index.
    pub(crate) model_name: Option<String>,
    pub(crate) config: IndexConfig,
    pub(crate) docs: Vec<DocRecord>,
    /// Live documents by id.
    pub(crate) by_id: HashMap<String, u32>,
    pub(crate) passages: Vec<PassageRecord>,
    pub(crate) dense: DenseIndex,
    pub(crate) lexical: LexicalIndex,
    pub(crate) languages: LanguageStats,
    pub(crate) prior: Option<LanguagePrior>,
    /// Per language, the live passages with the smallest [`sample_rank`]
    /// (a deterministic sample; derived, not saved).
    pub(crate) samples: Vec<Vec<u32>>,
    /// Per language, the live passages whose label is sure (derived, not saved).
    pub(crate) sure_counts: Vec<u64>,
    /// Build graphs inside add and delete (true) or leave it to
    /// [`Index::maintain_step`] (runtime only, not saved).
    pub(crate) auto_maintain: bool,
}

/// A passage's place in the sample order: a fixed pseudo-random permutation
/// of ids, so samples do not favour the first documents added.
fn sample_rank(passage: u32) -> u64 {
    let mut x = passage as u64 ^ 0x9e37_79b9_7f4a_7c15;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Index {
    /// An empty index for vectors of `dim` dimensions from the model with `fingerprint`.
    pub fn new(fingerprint: [u8; 32], dim: usize, config: IndexConfig) -> Self {
        Self {
            fingerprint,
            model_name: None,
            dense: DenseIndex::new(dim, config.dense.clone()),
            lexical: LexicalIndex::new(config.bm25),
            languages: LanguageStats::new(dim),
            prior: None,
            samples: Vec::new(),
            sure_counts: Vec::new(),
            auto_maintain: true,
            config,
            docs: Vec::new(),
            by_id: HashMap::new(),
            passages: Vec::new(),
        }
    }

    /// Gives the index the model's language prior (see [`LanguagePrior`]);
    /// it is saved with the index. Refused if made for another model.
    pub fn set_language_prior(&mut self, prior: LanguagePrior) -> Result<()> {
        if prior.fingerprint() != self.fingerprint || prior.dim() != self.dense.dim() {
            return Err(Error::ModelMismatch {
                index: short_hex(&self.fingerprint),
                model: format!("{} (language prior)", short_hex(&prior.fingerprint())),
            });
        }
        self.prior = Some(prior);
        Ok(())
    }

    /// The model's language prior the index carries, if any.
    pub fn language_prior(&self) -> Option<&LanguagePrior> {
        self.prior.as_ref()
    }

    /// An empty index for `embedder`'s model.
    pub fn for_model<E: WindowEncoder>(embedder: &Embedder<E>, config: IndexConfig) -> Self {
        let mut index = Self::new(
            embedder.tokenizer().model_fingerprint(),
            embedder.dim(),
            config,
        );
        index.set_model_name(embedder.tokenizer().model_name());
        index
    }

    /// The fingerprint of the model the index was built with.
    pub fn model_fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    /// Records the name of the model that builds the index (its
    /// `general.name`), saved with it so that loading it with another model
    /// names the one it needs.
    pub fn set_model_name(&mut self, name: impl Into<String>) {
        self.model_name = Some(name.into());
    }

    /// The name of the model that built the index, if it was recorded.
    pub fn model_name(&self) -> Option<&str> {
        self.model_name.as_deref()
    }

    /// The index's settings.
    pub fn config(&self) -> &IndexConfig {
        &self.config
    }

    /// Counts of documents, passages, graph segments and languages.
    pub fn stats(&self) -> IndexStats {
        let (graph_segments, exact_buffer) = self.dense.parts();
        IndexStats {
            documents: self.by_id.len(),
            passages: self.dense.live_count(),
            passage_slots: self.passages.len(),
            graph_segments,
            exact_buffer,
            languages: {
                let mut l: Vec<(String, u64)> = (0..self.languages.len() as u16)
                    .filter(|id| self.languages.count(*id) > 0)
                    .map(|id| (self.languages.code(id).to_owned(), self.languages.count(id)))
                    .collect();
                l.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                l
            },
            prior_languages: self.prior.as_ref().map_or(0, |p| p.languages().len()),
        }
    }

    /// Live documents.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether the index holds no live document.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Whether a live document has this id.
    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// The live documents, in insertion order.
    pub fn documents(&self) -> impl Iterator<Item = &Document> {
        self.docs.iter().filter(|d| d.live).map(|d| &d.doc)
    }

    /// Refuses a tokenizer of another model than the index's.
    pub(crate) fn check_model(&self, tokenizer: &Tokenizer) -> Result<()> {
        self.check_fingerprint(tokenizer.model_fingerprint())
            .map_err(|e| crate::snapshot::name_loaded_model(e, tokenizer))
    }

    /// Refuses anything made with another model than the index's.
    pub(crate) fn check_fingerprint(&self, model: [u8; 32]) -> Result<()> {
        if model != self.fingerprint {
            return Err(Error::ModelMismatch {
                index: crate::snapshot::describe_model(
                    self.model_name.as_deref(),
                    &short_hex(&self.fingerprint),
                ),
                model: short_hex(&model),
            });
        }
        Ok(())
    }

    /// Chunks, embeds and indexes documents. All or nothing: if any document
    /// is invalid or a duplicate, or embedding fails, the index is unchanged.
    /// `progress(done, total)` is called with passage counts as embedding goes.
    pub fn add_documents<E: WindowEncoder>(
        &mut self,
        embedder: &Embedder<E>,
        docs: Vec<Document>,
        progress: impl FnMut(usize, usize),
    ) -> Result<AddReport> {
        self.add_documents_with(
            embedder.tokenizer(),
            docs,
            |texts| embedder.embed(texts, Prefix::Passage),
            progress,
        )
    }

    /// [`Index::add_documents`] with the embedding step supplied by the caller
    /// (a cache, another backend): `embed` gets passage texts to embed with
    /// the `passage: ` prefix and returns one unit vector per text.
    pub fn add_documents_with(
        &mut self,
        tokenizer: &Tokenizer,
        docs: Vec<Document>,
        mut embed: impl FnMut(&[String]) -> Result<Vec<Vec<f32>>>,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<AddReport> {
        let mut pending = self.prepare_add(tokenizer, docs)?;
        progress(0, pending.total());
        while !pending.is_embedded() {
            pending.embed_next(EMBED_BATCH, &mut embed)?;
            progress(pending.embedded(), pending.total());
        }
        self.commit_add(tokenizer, pending)
    }

    /// First step of a staged add: validates and chunks `docs` (errors
    /// surface here, before any encoding). Embed the result with
    /// [`PendingAdd::embed_next`], then [`Index::commit_add`] it; dropping it
    /// instead cancels, with the index untouched.
    pub fn prepare_add(&self, tokenizer: &Tokenizer, docs: Vec<Document>) -> Result<PendingAdd> {
        self.check_model(tokenizer)?;
        self.check_new_ids(&docs)?;
        let mut chunked = Vec::with_capacity(docs.len());
        for doc in &docs {
            let chunks = chunk_text(&doc.text, &self.config.chunk, |s| {
                Ok(tokenizer.content_ids(s, Prefix::None)?.len())
            })?;
            if chunks.is_empty() {
                return Err(Error::Document(format!(
                    "{:?} has no text to index",
                    doc.id
                )));
            }
            chunked.push(chunks);
        }
        let texts: Vec<String> = docs
            .iter()
            .zip(&chunked)
            .flat_map(|(doc, chunks)| {
                chunks
                    .iter()
                    .map(move |c| embedding_text(doc, &doc.text[c.span.clone()]))
            })
            .collect();
        Ok(PendingAdd {
            vectors: Vec::with_capacity(texts.len()),
            docs,
            chunked,
            texts,
            dim: self.dense.dim(),
        })
    }

    /// Valid documents whose ids are neither in the index nor repeated.
    fn check_new_ids(&self, docs: &[Document]) -> Result<()> {
        let mut seen = HashSet::new();
        for doc in docs {
            doc.validate()?;
            if self.by_id.contains_key(&doc.id) {
                return Err(Error::Document(format!(
                    "{:?} is already in the index (delete it first to replace it)",
                    doc.id
                )));
            }
            if !seen.insert(doc.id.as_str()) {
                return Err(Error::Document(format!(
                    "{:?} appears twice in the input",
                    doc.id
                )));
            }
        }
        Ok(())
    }

    /// Last step of a staged add: indexes the embedded documents. All or
    /// nothing; the ids are checked again (the index may have changed since
    /// [`Index::prepare_add`]).
    pub fn commit_add(&mut self, tokenizer: &Tokenizer, pending: PendingAdd) -> Result<AddReport> {
        self.check_model(tokenizer)?;
        if !pending.is_embedded() || pending.dim != self.dense.dim() {
            return Err(Error::InvalidInput(format!(
                "cannot commit: {} of {} passages embedded",
                pending.embedded(),
                pending.total()
            )));
        }
        self.check_new_ids(&pending.docs)?;
        let PendingAdd {
            docs,
            chunked,
            texts,
            vectors,
            ..
        } = pending;
        let total = texts.len();
        let mut terms = Vec::with_capacity(total);
        for text in &texts {
            terms.push(lexical_terms(tokenizer, text)?);
        }
        let mut vector_at = 0;
        let languages: Vec<Vec<(String, bool)>> = docs
            .iter()
            .zip(&chunked)
            .map(|(doc, chunks)| {
                let doc_vectors = &vectors[vector_at..vector_at + chunks.len()];
                vector_at += chunks.len();
                passage_languages(doc, chunks, doc_vectors, self.prior.as_ref())
            })
            .collect();

        // Commit: nothing below can fail on valid state.
        let report = AddReport {
            documents: docs.len(),
            passages: total,
        };
        let mut vectors = vectors.into_iter();
        let mut terms = terms.into_iter();
        for ((doc, chunks), langs) in docs.into_iter().zip(chunked).zip(languages) {
            let doc_index = self.docs.len() as u32;
            let first = self.passages.len() as u32;
            for (chunk, (lang, sure)) in chunks.into_iter().zip(langs) {
                let passage = self.passages.len() as u32;
                let (Some(vector), Some(passage_terms)) = (vectors.next(), terms.next()) else {
                    return Err(Error::InvalidInput(
                        "internal: embedding count mismatch".into(),
                    ));
                };
                self.dense.add(passage, &vector)?;
                self.lexical.add(passage, &passage_terms)?;
                let script = detect_script(&doc.text[chunk.span.clone()]);
                let lang = self.languages.intern(&lang);
                if let Some(stored) = self.dense.vector(passage) {
                    self.languages.add(lang, &stored);
                }
                self.sample_add(lang, passage);
                self.count_sure(lang, sure, 1);
                self.passages.push(PassageRecord {
                    doc: doc_index,
                    span: to_u32(&chunk.span),
                    sentences: chunk.sentences.iter().map(to_u32).collect(),
                    script,
                    lang,
                    sure,
                });
            }
            let last = self.passages.len() as u32;
            self.by_id.insert(doc.id.clone(), doc_index);
            self.docs.push(DocRecord {
                doc,
                passages: first..last,
                live: true,
            });
        }
        if self.auto_maintain {
            self.dense.maintain()?;
        }
        Ok(report)
    }

    /// Leaves graph building to [`Index::maintain_step`] (false) instead of
    /// doing it inside add and delete (true, the default). Search is correct
    /// either way: passages not yet in a graph are searched exactly.
    pub fn set_auto_maintain(&mut self, auto: bool) {
        self.auto_maintain = auto;
    }

    /// Whether a graph build or merge is due.
    pub fn maintenance_due(&self) -> bool {
        self.dense.maintenance_due()
    }

    /// Does one unit of graph maintenance; says whether it did anything.
    pub fn maintain_step(&mut self) -> Result<bool> {
        self.dense.maintain_step()
    }

    /// Deletes documents by id. Unknown ids are an error and nothing is
    /// deleted. The tokenizer re-derives each passage's BM25 terms (the index
    /// does not keep a second copy of them).
    pub fn delete(&mut self, tokenizer: &Tokenizer, ids: &[&str]) -> Result<usize> {
        self.check_model(tokenizer)?;
        let unknown: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| !self.by_id.contains_key(*id))
            .collect();
        if !unknown.is_empty() {
            return Err(Error::Document(format!(
                "not in the index: {}",
                unknown.join(", ")
            )));
        }
        let mut deleted = 0;
        for id in ids {
            let Some(doc_index) = self.by_id.remove(*id) else {
                continue;
            };
            let record = &mut self.docs[doc_index as usize];
            record.live = false;
            let doc = record.doc.clone();
            for passage in record.passages.clone() {
                let span = self.passages[passage as usize].span.clone();
                let text = embedding_text(&doc, &doc.text[span.start as usize..span.end as usize]);
                let terms = lexical_terms(tokenizer, &text)?;
                self.lexical.remove(passage, &terms)?;
                let stored = self.dense.vector(passage);
                if self.dense.remove(passage) {
                    if let Some(stored) = stored {
                        let record = &self.passages[passage as usize];
                        let (lang, sure) = (record.lang, record.sure);
                        self.languages.remove(lang, &stored);
                        self.count_sure(lang, sure, -1);
                    }
                }
            }
            // Keep the id in the record (snapshots show what was deleted) but drop the text.
            self.docs[doc_index as usize].doc.text = String::new();
            deleted += 1;
        }
        if deleted > 0 {
            self.rebuild_samples();
        }
        if self.auto_maintain {
            self.dense.maintain()?;
        }
        Ok(deleted)
    }

    /// Offers a new passage to its language's sample.
    fn sample_add(&mut self, lang: u16, passage: u32) {
        let lang = lang as usize;
        if self.samples.len() <= lang {
            self.samples.resize(lang + 1, Vec::new());
        }
        let sample = &mut self.samples[lang];
        if sample.len() < SPREAD_SAMPLE {
            sample.push(passage);
            return;
        }
        if let Some((at, worst)) = sample
            .iter()
            .enumerate()
            .max_by_key(|(_, p)| sample_rank(**p))
        {
            if sample_rank(passage) < sample_rank(*worst) {
                sample[at] = passage;
            }
        }
    }

    /// Counts a live passage with a sure label in (`+1`) or out (`-1`).
    fn count_sure(&mut self, lang: u16, sure: bool, sign: i64) {
        if !sure {
            return;
        }
        let lang = lang as usize;
        if self.sure_counts.len() <= lang {
            self.sure_counts.resize(lang + 1, 0);
        }
        self.sure_counts[lang] = self.sure_counts[lang].saturating_add_signed(sign);
    }

    /// Live passages of language `id` whose label is sure.
    pub(crate) fn sure_count(&self, id: u16) -> u64 {
        self.sure_counts.get(id as usize).copied().unwrap_or(0)
    }

    /// Samples and sure counts from scratch over the live passages (after
    /// deletes, on load).
    pub(crate) fn rebuild_samples(&mut self) {
        self.samples = vec![Vec::new(); self.languages.len()];
        self.sure_counts = vec![0; self.languages.len()];
        for p in 0..self.passages.len() as u32 {
            if self.dense.is_live(p) {
                let record = &self.passages[p as usize];
                let (lang, sure) = (record.lang, record.sure);
                self.sample_add(lang, p);
                self.count_sure(lang, sure, 1);
            }
        }
    }
}

/// Each passage's language and whether it is sure: the document's when
/// given (sure), else from the passage's text and embedding
/// ([`passage_label`]), else from the start of the document's text, else `und`.
fn passage_languages(
    doc: &Document,
    chunks: &[crate::chunk::Chunk],
    vectors: &[Vec<f32>],
    prior: Option<&LanguagePrior>,
) -> Vec<(String, bool)> {
    if let Some(code) = doc.lang.as_deref().and_then(normalize_language) {
        return vec![(code, true); chunks.len()];
    }
    let mut whole: Option<crate::lang::Detected> = None;
    chunks
        .iter()
        .zip(vectors)
        .map(|(chunk, vector)| {
            let found = passage_label(&doc.text[chunk.span.clone()], vector, prior);
            if found.code != UNDETERMINED {
                return (found.code, found.sure);
            }
            let d = whole.get_or_insert_with(|| {
                let mut end = doc.text.len().min(4096);
                while !doc.text.is_char_boundary(end) {
                    end -= 1;
                }
                detect_language(&doc.text[..end])
            });
            (
                d.code.to_string(),
                d.confidence >= TEXT_SURE && d.code != UNDETERMINED,
            )
        })
        .collect()
}

/// The text embedded for a passage: e5 was trained on "title text".
/// The text a passage is embedded and term-indexed as: the title, then the passage.
pub(crate) fn embedding_text(doc: &Document, passage: &str) -> String {
    match doc.title.as_deref().map(str::trim) {
        Some(title) if !title.is_empty() => format!("{title} {passage}"),
        _ => passage.to_string(),
    }
}

fn to_u32(r: &Range<usize>) -> Range<u32> {
    r.start as u32..r.end as u32
}

/// A stored byte range as one to slice with.
pub(crate) fn from_u32(r: &Range<u32>) -> Range<usize> {
    r.start as usize..r.end as usize
}

fn short_hex(bytes: &[u8; 32]) -> String {
    bytes[..6].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
pub(crate) mod tests;
