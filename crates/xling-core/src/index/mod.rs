//! The search index: documents cut into passages, a dense (HNSW) and a lexical
//! (BM25) index over them, hybrid fusion, and one snapshot format.

pub mod codec;
mod collection;
pub mod debias;
pub mod dense;
pub mod document;
pub mod fusion;
pub mod graph;
pub mod languages;
pub mod lexical;
pub mod snapshot;
pub mod vector;

pub use collection::{
    check_query, lexical_terms, AddReport, Hit, Index, IndexConfig, IndexStats, LanguageScope,
    PendingAdd, SearchOptions,
};
pub use debias::{DebiasConfig, QueryMean};
pub use document::Document;
pub use fusion::{Centering, FusionConfig, FusionKind, SearchMode};
pub use languages::{language_of, LanguagePrior, LanguageStats, PriorLanguage, PRIOR_FILE};
