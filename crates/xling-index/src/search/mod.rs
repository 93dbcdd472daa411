//! The search pipeline (`docs/retrieval.md`, `docs/languages.md`), one
//! stage per module, in the order the data flows:
//!
//! 1. [`query`]: the query text analysed once ([`Query`]: checks, BM25
//!    terms, script, text language, embedding);
//! 2. `scope`: the query's language and the passages in scope (the
//!    language switch; `same` is two searches);
//! 3. `correction` and `candidates`: the query's dense correction (offsets,
//!    renormalisation, per-language spread), then the dense candidates
//!    walked and re-scored under it, and the lexical candidates;
//! 4. `rank`: one side alone, or both merged (each candidate with both
//!    scores) and fused;
//! 5. `hits`: one hit per document, with its best sentence.

mod candidates;
mod correction;
mod hits;
mod options;
mod query;
mod rank;
mod scope;

#[cfg(test)]
mod tests;

use std::collections::HashSet;

use crate::collection::Index;
use crate::fusion::SearchMode;
use candidates::candidate_depth;
use scope::Scope;
use xling_model::encoder::WindowEncoder;
use xling_model::error::Result;
use xling_model::tokenize::{Prefix, Tokenizer};
use xling_model::Embedder;

pub use hits::Hit;
pub use options::{LanguageScope, SearchOptions};
pub use query::{check_query, lexical_terms, Query};

impl Index {
    /// Searches with a query text.
    pub fn search<E: WindowEncoder>(
        &self,
        embedder: &Embedder<E>,
        query: &str,
        options: &SearchOptions,
    ) -> Result<Vec<Hit>> {
        let tokenizer = embedder.tokenizer();
        self.check_model(tokenizer)?;
        let analysed = Query::analyse(tokenizer, query)?;
        let vector = match options.mode {
            SearchMode::Lexical => Vec::new(),
            _ => embedder.embed_one(query, Prefix::Query)?,
        };
        self.search_analysed(tokenizer, &analysed.with_vector(vector), options)
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
        let analysed = Query::analyse(tokenizer, query)?.with_vector(vector.to_vec());
        self.search_analysed(tokenizer, &analysed, options)
    }

    /// Searches with a query analysed by [`Query::analyse`] (and embedded,
    /// except in lexical mode), for callers that need the analysis too, e.g.
    /// to report the query's language ([`Index::language_of_query`]).
    /// `tokenizer` picks each hit's sentence; both it and the query must be
    /// of the index's model.
    pub fn search_query(
        &self,
        tokenizer: &Tokenizer,
        query: &Query,
        options: &SearchOptions,
    ) -> Result<Vec<Hit>> {
        self.check_model(tokenizer)?;
        self.check_fingerprint(query.model_fingerprint())?;
        self.search_analysed(tokenizer, query, options)
    }

    /// The language a query is taken to be in: the text detector's when it
    /// is sure (or the script names the language), else the prior language
    /// whose mean query vector is nearest to the query's embedding (short
    /// questions fool character statistics: "Wie viele Punkte gab die
    /// Verteidigung ab?" reads as Afrikaans), else the text guess.
    /// `vector` may be empty (lexical mode).
    pub fn query_language(&self, query: &str, vector: &[f32]) -> String {
        crate::languages::query_language_of(
            crate::lang::detect_script(query),
            crate::lang::detect_language(query),
            vector,
            self.prior.as_ref(),
        )
    }

    /// [`Index::query_language`] of an analysed query (its text is not
    /// detected again).
    pub fn language_of_query(&self, query: &Query) -> String {
        crate::languages::query_language_of(
            query.script(),
            query.detected(),
            query.vector(),
            self.prior.as_ref(),
        )
    }

    /// The pipeline, once the model and the query have been checked:
    /// scope → dense candidates (corrected) → lexical candidates → merge
    /// and fusion → hits.
    fn search_analysed(
        &self,
        tokenizer: &Tokenizer,
        query: &Query,
        options: &SearchOptions,
    ) -> Result<Vec<Hit>> {
        if options.k == 0 || self.is_empty() {
            return Ok(Vec::new());
        }
        let language = scope::query_language(options, || self.language_of_query(query))?;
        if let Some(first) = scope::same_language_first(options, &language) {
            return self.same_language_first(tokenizer, query, options, &first, language);
        }
        let Some(scope) = Scope::new(&options.languages, &self.languages) else {
            return Ok(Vec::new());
        };
        let live = |p: u32| self.dense.is_live(p) && scope.allows(self.passage_language(p));
        let depth = candidate_depth(options.k);
        let exact = options.exact || scope.is_filtered();
        let ranked = match options.mode {
            SearchMode::Dense => {
                let correction = self.dense_correction(query, &language, options, &scope);
                rank::dense_only(&self.dense_candidates(&correction, depth, exact, &live)?)
            }
            SearchMode::Lexical => {
                rank::lexical_only(&self.lexical_candidates(query, depth, &live))
            }
            SearchMode::Hybrid => {
                let correction = self.dense_correction(query, &language, options, &scope);
                let dense = self.dense_candidates(&correction, depth, exact, &live)?;
                let lexical = self.lexical_candidates(query, depth, &live);
                let merged = self.merge(query, &correction, &dense, &lexical);
                self.fused(query, &language, &merged, &options.fusion)
            }
        };
        self.hits(
            tokenizer,
            ranked,
            query.terms(),
            options.k,
            options.highlight,
        )
    }

    /// `LanguageScope::Same`: the passages in the query's language (`first`
    /// searches only those), then the other documents ranked as in `Any`.
    fn same_language_first(
        &self,
        tokenizer: &Tokenizer,
        query: &Query,
        options: &SearchOptions,
        first: &SearchOptions,
        language: String,
    ) -> Result<Vec<Hit>> {
        let mut hits = self.search_analysed(tokenizer, query, first)?;
        if hits.len() < options.k {
            let any = scope::then_any(options, language, hits.len());
            let seen: HashSet<String> = hits.iter().map(|h| h.id.clone()).collect();
            let rest = self.search_analysed(tokenizer, query, &any)?;
            hits.extend(rest.into_iter().filter(|h| !seen.contains(&h.id)));
            hits.truncate(options.k);
        }
        Ok(hits)
    }
}
