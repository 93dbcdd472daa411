//! [`Index`]: documents, their passages, and the dense and lexical indexes
//! over them, kept consistent under add and delete, saved as one snapshot.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use serde::Serialize;

use super::codec::{Reader, Writer};
use super::debias::{correct, Correction, DebiasConfig};
use super::dense::{DenseConfig, DenseIndex};
use super::document::Document;
use super::fusion::{fuse, Candidate, FusionConfig, SearchMode};
use super::languages::{language_of, LanguagePrior, LanguageStats, TEXT_SURE};
use super::lexical::{Bm25Params, LexicalIndex};
use super::snapshot::{Snapshot, SnapshotWriter};
use crate::chunk::{chunk_text, Chunk, ChunkConfig};
use crate::lang::{detect_language, detect_script, normalize_language, Script, UNDETERMINED};
use xling_model::encoder::WindowEncoder;
use xling_model::error::{Error, Result};
use xling_model::tokenize::{Prefix, Tokenizer};
use xling_model::Embedder;

/// Snapshot section tags.
const META: [u8; 4] = *b"META";
const DOCS: [u8; 4] = *b"DOCS";
const PASSAGES: [u8; 4] = *b"PASS";
const DENSE: [u8; 4] = *b"DENS";
const LEXICAL: [u8; 4] = *b"LEXI";
const LANGUAGES: [u8; 4] = *b"LANG";
const PRIOR: [u8; 4] = *b"PRIO";

/// Passages per language whose scores estimate that language's spread for a
/// query (standardisation, `docs/languages.md`): enough for a stable
/// variance (128 cost 1.7 points of X-Y mAP on XQuAD-R, 512 0.4), few
/// enough to score in ~30 µs per language.
const SPREAD_SAMPLE: usize = 512;

/// Passages of a language weigh this much less than the pooled spread when
/// its own is estimated: tiny groups (a few misdetected passages) would
/// otherwise get wild scales.
const SPREAD_PRIOR: f64 = 50.0;

/// Passages embedded per encoder call while indexing (progress granularity).
const EMBED_BATCH: usize = 64;

/// Everything tunable about an index; stored in its snapshot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IndexConfig {
    pub chunk: ChunkConfig,
    pub dense: DenseConfig,
    pub bm25: Bm25Params,
}

/// How to search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOptions {
    pub mode: SearchMode,
    /// Documents returned.
    pub k: usize,
    /// Brute force instead of the HNSW graphs.
    pub exact: bool,
    pub fusion: FusionConfig,
    /// Find the best-matching sentence of each hit (costs a little per hit).
    pub highlight: bool,
    /// Which languages are ranked, and how.
    pub languages: LanguageScope,
    /// The correction that makes `LanguageScope::Any` language-agnostic.
    pub debias: DebiasConfig,
    /// The query's language (a code); detected from its text when `None`.
    pub query_language: Option<String>,
}

/// The language switch of a search.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LanguageScope {
    /// Rank by meaning whatever the language (the default).
    #[default]
    Any,
    /// Passages in the query's language first, then the others (as `Any`
    /// when the query's language cannot be told).
    Same,
    /// Only passages in these languages (codes as [`normalize_language`] gives them).
    Only(Vec<String>),
}

impl std::str::FromStr for LanguageScope {
    type Err = Error;

    /// `any`, `same`, or a comma-separated list of language codes.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "any" | "" => Ok(LanguageScope::Any),
            "same" => Ok(LanguageScope::Same),
            list => {
                let mut codes = Vec::new();
                for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                    let code = normalize_language(item).ok_or_else(|| {
                        Error::InvalidInput(format!(
                            "{item:?} is not a language code (use any, same, or codes like en,de,zh)"
                        ))
                    })?;
                    if !codes.contains(&code) {
                        codes.push(code);
                    }
                }
                Ok(LanguageScope::Only(codes))
            }
        }
    }
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            mode: SearchMode::default(),
            k: 10,
            exact: false,
            fusion: FusionConfig::default(),
            highlight: true,
            languages: LanguageScope::Any,
            debias: DebiasConfig::default(),
            query_language: None,
        }
    }
}

/// One search result: a document, scored by its best passage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub id: String,
    pub title: Option<String>,
    pub url: Option<String>,
    /// The passage's language: the document's if given, else detected
    /// (`und` when it could not be).
    pub lang: String,
    pub score: f32,
    /// The passage's dense (cosine) score, when the dense side ran.
    pub dense: Option<f32>,
    /// The passage's BM25 score, when the lexical side ran.
    pub lexical: Option<f32>,
    /// The best passage's text and its byte range in the document's text.
    pub passage: String,
    pub passage_bytes: Range<usize>,
    /// The sentence of the passage that matched best, as a byte range of the
    /// document's text.
    pub sentence_bytes: Range<usize>,
}

/// Counts for users and benchmarks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexStats {
    pub documents: usize,
    pub passages: usize,
    /// Passage slots ever used, deleted included (tombstones until a rebuild).
    pub passage_slots: usize,
    pub graph_segments: Vec<usize>,
    pub exact_buffer: usize,
    /// Live passages per language, most first.
    pub languages: Vec<(String, u64)>,
    /// Languages of the model's prior carried by the index (0: none).
    pub prior_languages: usize,
}

/// What one `add_documents` call did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddReport {
    pub documents: usize,
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

    pub fn is_embedded(&self) -> bool {
        self.embedded() == self.total()
    }

    /// Documents in this add.
    pub fn documents(&self) -> usize {
        self.docs.len()
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

    /// Takes the vectors of the passages [`PendingAdd::next_texts`] gave, in
    /// order; returns how many it took. Wrong counts or dimensions are refused
    /// and leave the add unchanged.
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
        let n = vectors.len();
        self.vectors.extend(vectors);
        Ok(n)
    }
}

/// A passage's place in a ranking, with the scores behind it.
#[derive(Debug, Clone, Copy)]
struct Ranked {
    passage: u32,
    score: f32,
    dense: Option<f32>,
    lexical: Option<f32>,
}

#[derive(Debug, Clone)]
struct DocRecord {
    doc: Document,
    passages: Range<u32>,
    live: bool,
}

#[derive(Debug, Clone)]
struct PassageRecord {
    doc: u32,
    span: Range<u32>,
    /// Sentence spans inside `span`, as byte ranges of the document text.
    sentences: Vec<Range<u32>>,
    script: Script,
    /// Index into the [`LanguageStats`] table.
    lang: u16,
}

/// A searchable collection of documents.
pub struct Index {
    fingerprint: [u8; 32],
    config: IndexConfig,
    docs: Vec<DocRecord>,
    by_id: HashMap<String, u32>,
    passages: Vec<PassageRecord>,
    dense: DenseIndex,
    lexical: LexicalIndex,
    languages: LanguageStats,
    prior: Option<LanguagePrior>,
    /// Per language, the live passages with the smallest [`sample_rank`]
    /// (a deterministic sample; derived, not saved).
    samples: Vec<Vec<u32>>,
    /// Build graphs inside add and delete (true) or leave it to
    /// [`Index::maintain_step`] (runtime only, not saved).
    auto_maintain: bool,
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
            dense: DenseIndex::new(dim, config.dense.clone()),
            lexical: LexicalIndex::new(config.bm25),
            languages: LanguageStats::new(dim),
            prior: None,
            samples: Vec::new(),
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

    pub fn language_prior(&self) -> Option<&LanguagePrior> {
        self.prior.as_ref()
    }

    /// An empty index for `embedder`'s model.
    pub fn for_model<E: WindowEncoder>(embedder: &Embedder<E>, config: IndexConfig) -> Self {
        Self::new(
            embedder.tokenizer().model_fingerprint(),
            embedder.dim(),
            config,
        )
    }

    pub fn model_fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    pub fn config(&self) -> &IndexConfig {
        &self.config
    }

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

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// The live documents, in insertion order.
    pub fn documents(&self) -> impl Iterator<Item = &Document> {
        self.docs.iter().filter(|d| d.live).map(|d| &d.doc)
    }

    fn check_model(&self, tokenizer: &Tokenizer) -> Result<()> {
        let model = tokenizer.model_fingerprint();
        if model != self.fingerprint {
            return Err(Error::ModelMismatch {
                index: short_hex(&self.fingerprint),
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
        let languages: Vec<Vec<String>> = docs
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
            for (chunk, lang) in chunks.into_iter().zip(langs) {
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
                self.passages.push(PassageRecord {
                    doc: doc_index,
                    span: to_u32(&chunk.span),
                    sentences: chunk.sentences.iter().map(to_u32).collect(),
                    script,
                    lang,
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
                        let lang = self.passages[passage as usize].lang;
                        self.languages.remove(lang, &stored);
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

    /// Samples from scratch over the live passages (after deletes, on load).
    fn rebuild_samples(&mut self) {
        self.samples = vec![Vec::new(); self.languages.len()];
        for p in 0..self.passages.len() as u32 {
            if self.dense.is_live(p) {
                self.sample_add(self.passages[p as usize].lang, p);
            }
        }
    }

    /// Searches with a query text.
    pub fn search<E: WindowEncoder>(
        &self,
        embedder: &Embedder<E>,
        query: &str,
        options: &SearchOptions,
    ) -> Result<Vec<Hit>> {
        let tokenizer = embedder.tokenizer();
        self.check_model(tokenizer)?;
        check_query(tokenizer, query)?;
        let vector = match options.mode {
            SearchMode::Lexical => Vec::new(),
            _ => embedder.embed_one(query, Prefix::Query)?,
        };
        self.search_checked(tokenizer, query, &vector, options)
    }

    /// Searches with a query already embedded (with `Prefix::Query`), e.g. in
    /// batches by an evaluation. `vector` may be empty in lexical mode.
    pub fn search_with_vector(
        &self,
        tokenizer: &Tokenizer,
        query: &str,
        vector: &[f32],
        options: &SearchOptions,
    ) -> Result<Vec<Hit>> {
        self.check_model(tokenizer)?;
        check_query(tokenizer, query)?;
        self.search_checked(tokenizer, query, vector, options)
    }

    /// The language a query is taken to be in: the text detector's when it
    /// is sure (or the script names the language), else the prior language
    /// whose mean query vector is nearest to the query's embedding (short
    /// questions fool character statistics: "Wie viele Punkte gab die
    /// Verteidigung ab?" reads as Afrikaans), else the text guess.
    /// `vector` may be empty (lexical mode).
    pub fn query_language(&self, query: &str, vector: &[f32]) -> String {
        let by_text = detect_language(query);
        if by_text.confidence >= TEXT_SURE || vector.is_empty() {
            return by_text.code.to_owned();
        }
        match self.prior.as_ref().and_then(|p| p.nearest_query(vector)) {
            Some((code, _)) => code.to_owned(),
            None => by_text.code.to_owned(),
        }
    }

    /// The search itself, once the model and the query have been checked.
    fn search_checked(
        &self,
        tokenizer: &Tokenizer,
        query: &str,
        vector: &[f32],
        options: &SearchOptions,
    ) -> Result<Vec<Hit>> {
        if options.k == 0 || self.is_empty() {
            return Ok(Vec::new());
        }
        let query_language = match &options.query_language {
            Some(code) => normalize_language(code).ok_or_else(|| {
                Error::InvalidInput(format!("query language {code:?} is not a language code"))
            })?,
            None => self.query_language(query, vector),
        };
        if options.languages == LanguageScope::Same && query_language != UNDETERMINED {
            // Passages in the query's language first, then the rest.
            let only = SearchOptions {
                languages: LanguageScope::Only(vec![query_language.clone()]),
                query_language: Some(query_language.clone()),
                ..options.clone()
            };
            let mut hits = self.search_checked(tokenizer, query, vector, &only)?;
            if hits.len() < options.k {
                let any = SearchOptions {
                    languages: LanguageScope::Any,
                    query_language: Some(query_language),
                    k: options.k + hits.len(),
                    ..options.clone()
                };
                let seen: HashSet<String> = hits.iter().map(|h| h.id.clone()).collect();
                let rest = self.search_checked(tokenizer, query, vector, &any)?;
                hits.extend(rest.into_iter().filter(|h| !seen.contains(&h.id)));
                hits.truncate(options.k);
            }
            return Ok(hits);
        }
        // Documents may have several passages: fetch enough passages to fill k documents.
        let depth = (options.k * 3).max(100);
        let wanted: Option<Vec<u16>> = match &options.languages {
            LanguageScope::Only(codes) => Some(
                codes
                    .iter()
                    .filter_map(|c| normalize_language(c))
                    .filter_map(|c| self.languages.lookup(&c))
                    .collect(),
            ),
            _ => None,
        };
        if wanted.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        let allowed = |p: u32| {
            wanted
                .as_ref()
                .is_none_or(|w| w.contains(&self.passages[p as usize].lang))
        };
        let live = |p: u32| self.dense.is_live(p) && allowed(p);
        // A graph explores a fixed neighbourhood: with a selective filter most
        // of it is filtered out, so filtered searches are exact.
        let exact = options.exact || wanted.is_some();
        let query_terms = lexical_terms(tokenizer, query)?;
        let correction = match options.mode {
            SearchMode::Lexical => Correction::none(vector, 0),
            _ => correct(
                vector,
                &query_language,
                &self.languages,
                self.prior.as_ref(),
                &options.debias,
            ),
        };
        let renormalize = options.debias.enabled && options.debias.renormalize;
        let inverse_norm = |p: u32| -> f32 {
            let lang = self.passages[p as usize].lang as usize;
            match correction.means.get(lang) {
                Some(Some(mean)) if renormalize => {
                    let n2 = 1.0 - 2.0 * self.dense.score(mean, p) + correction.mean_norms[lang];
                    1.0 / n2.max(1e-4).sqrt()
                }
                _ => 1.0,
            }
        };
        let centred = |p: u32, s: f32| {
            (s + correction.offset(self.passages[p as usize].lang)) * inverse_norm(p)
        };
        // Per-language spread of the centred scores for this query, from
        // each language's sample, shrunk towards the pooled spread.
        let spread: Vec<f32> = if options.debias.enabled && options.debias.standardize {
            let moments: Vec<(f64, f64, usize)> = self
                .samples
                .iter()
                .map(|sample| {
                    sample
                        .iter()
                        .filter(|p| allowed(**p))
                        .fold((0.0, 0.0, 0), |m, p| {
                            let s = centred(*p, self.dense.score(&correction.query, *p)) as f64;
                            (m.0 + s, m.1 + s * s, m.2 + 1)
                        })
                })
                .collect();
            let variance = |(s, s2, n): (f64, f64, usize)| {
                let n = n.max(1) as f64;
                (s2 / n - (s / n) * (s / n)).max(0.0)
            };
            let all = moments
                .iter()
                .fold((0.0, 0.0, 0), |a, m| (a.0 + m.0, a.1 + m.1, a.2 + m.2));
            let pooled = variance(all).max(1e-8);
            moments
                .iter()
                .map(|m| {
                    let n = m.2 as f64;
                    let v = (n * variance(*m) + SPREAD_PRIOR * pooled) / (n + SPREAD_PRIOR);
                    (1.0 / v.max(1e-8).sqrt()) as f32
                })
                .collect()
        } else {
            Vec::new()
        };
        let scale = |p: u32| {
            spread
                .get(self.passages[p as usize].lang as usize)
                .copied()
                .unwrap_or(1.0)
        };
        let adjust = |p: u32, s: f32| centred(p, s) * scale(p);
        // The graph walk skips the renormalisation (a second dot product per
        // visited passage); candidates are re-scored with `adjust`.
        let walk =
            |p: u32, s: f32| (s + correction.offset(self.passages[p as usize].lang)) * scale(p);
        let dense = match options.mode {
            SearchMode::Lexical => Vec::new(),
            _ => self
                .dense
                .search_adjusted(&correction.query, depth, exact, live, walk, adjust)?,
        };
        let lexical = match options.mode {
            SearchMode::Dense => Vec::new(),
            _ => self.lexical.search(&query_terms, depth, live),
        };
        let ranked: Vec<(u32, f32, Option<f32>, Option<f32>)> = match options.mode {
            SearchMode::Dense => dense
                .iter()
                .map(|(p, s)| (*p, *s, Some(*s), None))
                .collect(),
            SearchMode::Lexical => lexical
                .iter()
                .map(|(p, s)| (*p, *s, None, Some(*s)))
                .collect(),
            SearchMode::Hybrid => {
                let mut candidates: HashMap<u32, Candidate> = HashMap::new();
                // The dense list's scores are already corrected.
                for &(p, s) in &dense {
                    candidates.insert(
                        p,
                        Candidate {
                            passage: p,
                            dense: s,
                            lexical: self.lexical.score(&query_terms, p),
                        },
                    );
                }
                // Lexical-only candidates still need their dense score.
                for &(p, _) in &lexical {
                    candidates.entry(p).or_insert_with(|| Candidate {
                        passage: p,
                        dense: adjust(p, self.dense.score(&correction.query, p)),
                        lexical: self.lexical.score(&query_terms, p),
                    });
                }
                let mut list: Vec<Candidate> = candidates.values().copied().collect();
                list.sort_unstable_by_key(|c| c.passage);
                // Same language when both are known, else the same script.
                let query_script = detect_script(query);
                let same = |p: u32| {
                    let record = &self.passages[p as usize];
                    let passage_language = self.languages.code(record.lang);
                    if query_language != UNDETERMINED && passage_language != UNDETERMINED {
                        passage_language == query_language
                    } else {
                        record.script == query_script
                    }
                };
                fuse(&list, &options.fusion, same)
                    .into_iter()
                    .filter_map(|(p, s)| {
                        let c = candidates.get(&p)?;
                        Some((p, s, Some(c.dense), Some(c.lexical)))
                    })
                    .collect()
            }
        };
        let mut seen_docs = HashSet::new();
        let mut hits = Vec::with_capacity(options.k);
        for (passage, score, dense, lexical) in ranked {
            let record = &self.passages[passage as usize];
            if !seen_docs.insert(record.doc) {
                continue;
            }
            let ranked = Ranked {
                passage,
                score,
                dense,
                lexical,
            };
            hits.push(self.hit(tokenizer, ranked, &query_terms, options.highlight)?);
            if hits.len() == options.k {
                break;
            }
        }
        Ok(hits)
    }

    fn hit(
        &self,
        tokenizer: &Tokenizer,
        ranked: Ranked,
        query_terms: &[u32],
        highlight: bool,
    ) -> Result<Hit> {
        let Ranked {
            passage,
            score,
            dense,
            lexical,
        } = ranked;
        let record = &self.passages[passage as usize];
        let doc = &self.docs[record.doc as usize].doc;
        let span = record.span.start as usize..record.span.end as usize;
        let sentence = if highlight {
            self.best_sentence(tokenizer, record, query_terms)?
        } else {
            record
                .sentences
                .first()
                .map(from_u32)
                .unwrap_or(span.clone())
        };
        Ok(Hit {
            id: doc.id.clone(),
            title: doc.title.clone(),
            url: doc.url.clone(),
            lang: self.languages.code(record.lang).to_owned(),
            score,
            dense,
            lexical,
            passage: doc.text[span.clone()].to_string(),
            passage_bytes: span,
            sentence_bytes: sentence,
        })
    }

    /// The passage sentence sharing the most query pieces, weighted by their
    /// IDF; the first sentence when none shares any (e.g. across languages).
    fn best_sentence(
        &self,
        tokenizer: &Tokenizer,
        record: &PassageRecord,
        query_terms: &[u32],
    ) -> Result<Range<usize>> {
        let doc = &self.docs[record.doc as usize].doc;
        let wanted: HashSet<u32> = query_terms.iter().copied().collect();
        let mut best = (
            0.0f32,
            record
                .sentences
                .first()
                .map(from_u32)
                .unwrap_or(from_u32(&record.span)),
        );
        for sentence in &record.sentences {
            let range = from_u32(sentence);
            let Some(text) = doc.text.get(range.clone()) else {
                continue;
            };
            let terms: HashSet<u32> = lexical_terms(tokenizer, text)?.into_iter().collect();
            let score: f32 = terms
                .intersection(&wanted)
                .map(|t| self.lexical.idf(*t))
                .sum();
            if score > best.0 {
                best = (score, range);
            }
        }
        Ok(best.1)
    }

    /// The whole index as one snapshot (see [`super::snapshot`]).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut snapshot = SnapshotWriter::new(self.fingerprint);
        let mut meta = Writer::new();
        let c = &self.config;
        meta.len_u64(c.chunk.max_tokens);
        meta.len_u64(c.chunk.overlap_tokens);
        let bm25 = self.lexical.params();
        meta.f32(bm25.k1);
        meta.f32(bm25.b);
        snapshot.section(META, meta.into_bytes())?;

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
        snapshot.section(DOCS, docs.into_bytes())?;

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
        snapshot.section(PASSAGES, passages.into_bytes())?;

        let mut dense = Writer::new();
        self.dense.write(&mut dense)?;
        snapshot.section(DENSE, dense.into_bytes())?;
        let mut lexical = Writer::new();
        self.lexical.write(&mut lexical);
        snapshot.section(LEXICAL, lexical.into_bytes())?;
        let mut languages = Writer::new();
        self.languages.write(&mut languages);
        snapshot.section(LANGUAGES, languages.into_bytes())?;
        if let Some(prior) = &self.prior {
            let mut w = Writer::new();
            prior.write(&mut w);
            snapshot.section(PRIOR, w.into_bytes())?;
        }
        Ok(snapshot.finish())
    }

    /// Reads a snapshot, validating every cross-reference. Does not check the
    /// model: use [`Index::from_bytes_for`] when a model is loaded.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let snapshot = Snapshot::parse(bytes)?;

        let mut r = Reader::new(snapshot.section(META)?, "index settings");
        let max_tokens = r.u64()? as usize;
        let overlap_tokens = r.u64()? as usize;
        let chunk = ChunkConfig {
            max_tokens,
            overlap_tokens,
        };
        let k1 = r.finite_f32()?;
        let b = r.finite_f32()?;
        r.finish()?;

        let mut r = Reader::new(snapshot.section(DENSE)?, "dense index");
        let dense = DenseIndex::read(&mut r)?;
        r.finish()?;
        let mut r = Reader::new(snapshot.section(LEXICAL)?, "lexical index");
        let lexical = LexicalIndex::read(&mut r)?;
        r.finish()?;
        let passage_count = dense.len();
        let mut r = Reader::new(snapshot.section(LANGUAGES)?, "language statistics");
        let languages = LanguageStats::read(&mut r, dense.dim())?;
        r.finish()?;
        let prior = match snapshot.get(PRIOR) {
            Some(bytes) => {
                let mut r = Reader::new(bytes, "language prior");
                let prior = LanguagePrior::read(&mut r)?;
                r.finish()?;
                if prior.fingerprint() != snapshot.fingerprint || prior.dim() != dense.dim() {
                    return Err(Error::InvalidIndex(
                        "the language prior in the index is for another model".into(),
                    ));
                }
                Some(prior)
            }
            None => None,
        };

        let mut r = Reader::new(snapshot.section(DOCS)?, "documents");
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

        let mut r = Reader::new(snapshot.section(PASSAGES)?, "passages");
        let n = r.count(17)?;
        if n != passage_count {
            return Err(r.error("passage table and dense index disagree"));
        }
        let mut passages = Vec::with_capacity(n);
        for i in 0..n {
            let doc = r.u32_below(docs.len())?;
            let script = Script::from_u8(r.u8()?).ok_or_else(|| r.error("bad script code"))?;
            let lang = r.u32_below(languages.len())? as u16;
            let span = r.u32()?..r.u32()?;
            let flat = r.u32s()?;
            let record = &docs[doc as usize];
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
            let live = dense.is_live(i as u32);
            if live != record.live || live != lexical.contains(i as u32) {
                return Err(r.error(format!(
                    "passage {i}: dense, lexical and document disagree on deletion"
                )));
            }
            passages.push(PassageRecord {
                doc,
                span,
                sentences,
                script,
                lang,
            });
        }
        r.finish()?;
        // The statistics must count exactly the live passages of each language.
        let mut live_per_language = vec![0u64; languages.len()];
        for (i, p) in passages.iter().enumerate() {
            if dense.is_live(i as u32) {
                live_per_language[p.lang as usize] += 1;
            }
        }
        if (0..languages.len()).any(|l| languages.count(l as u16) != live_per_language[l]) {
            return Err(Error::InvalidIndex(
                "language statistics do not match the passages".into(),
            ));
        }

        let config = IndexConfig {
            chunk,
            dense: dense.config().clone(),
            bm25: Bm25Params { k1, b },
        };
        Ok(Self {
            fingerprint: snapshot.fingerprint,
            config,
            docs,
            by_id,
            passages,
            dense,
            lexical,
            languages,
            prior,
            samples: Vec::new(),
            auto_maintain: true,
        })
        .map(|mut index: Self| {
            index.rebuild_samples();
            index
        })
    }

    /// Reads a snapshot and refuses it unless it was built with `tokenizer`'s model.
    pub fn from_bytes_for(bytes: &[u8], tokenizer: &Tokenizer) -> Result<Self> {
        let snapshot = Snapshot::parse(bytes)?;
        snapshot.check_model(&tokenizer.model_fingerprint())?;
        Self::from_bytes(bytes)
    }
}

/// Each passage's language: the document's when given, else from the
/// passage's text and embedding ([`language_of`]), else from the start of
/// the document's text, else `und`.
fn passage_languages(
    doc: &Document,
    chunks: &[crate::chunk::Chunk],
    vectors: &[Vec<f32>],
    prior: Option<&LanguagePrior>,
) -> Vec<String> {
    if let Some(code) = doc.lang.as_deref().and_then(normalize_language) {
        return vec![code; chunks.len()];
    }
    let mut whole: Option<&'static str> = None;
    chunks
        .iter()
        .zip(vectors)
        .map(|(chunk, vector)| {
            let found = language_of(&doc.text[chunk.span.clone()], vector, prior);
            if found != UNDETERMINED {
                return found;
            }
            whole
                .get_or_insert_with(|| {
                    let mut end = doc.text.len().min(4096);
                    while !doc.text.is_char_boundary(end) {
                        end -= 1;
                    }
                    detect_language(&doc.text[..end]).code
                })
                .to_string()
        })
        .collect()
}

/// The text embedded for a passage: e5 was trained on "title text".
fn embedding_text(doc: &Document, passage: &str) -> String {
    match doc.title.as_deref().map(str::trim) {
        Some(title) if !title.is_empty() => format!("{title} {passage}"),
        _ => passage.to_string(),
    }
}

/// BM25 terms: SentencePiece pieces of the lower-cased text, without the bare
/// word-boundary piece and pieces made only of punctuation.
pub fn lexical_terms(tokenizer: &Tokenizer, text: &str) -> Result<Vec<u32>> {
    let ids = tokenizer.content_ids(&text.to_lowercase(), Prefix::None)?;
    let inner = tokenizer.inner();
    Ok(ids
        .into_iter()
        .filter(|id| {
            inner
                .id_to_token(*id)
                .is_some_and(|piece| piece.chars().any(|c| c.is_alphanumeric()))
        })
        .collect())
}

/// Refuses queries the engine cannot answer meaningfully (empty, or longer
/// than one model window); callers that embed a query themselves check first.
pub fn check_query(tokenizer: &Tokenizer, query: &str) -> Result<()> {
    if query.trim().is_empty() {
        return Err(Error::InvalidInput("the query is empty".into()));
    }
    let tokens = tokenizer.content_ids(query, Prefix::Query)?.len();
    if tokens > tokenizer.max_window_tokens() {
        return Err(Error::InvalidInput(format!(
            "the query is {tokens} tokens long; the model reads at most {} (shorten it, or index the text as a document)",
            tokenizer.max_window_tokens()
        )));
    }
    Ok(())
}

fn to_u32(r: &Range<usize>) -> Range<u32> {
    r.start as u32..r.end as u32
}

fn from_u32(r: &Range<u32>) -> Range<usize> {
    r.start as usize..r.end as usize
}

fn short_hex(bytes: &[u8; 32]) -> String {
    bytes[..6].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
