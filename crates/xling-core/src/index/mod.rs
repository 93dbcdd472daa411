//! The search index: documents cut into passages, a dense (HNSW) and a lexical
//! (BM25) index over them, hybrid fusion, and one snapshot format.

pub mod codec;
mod collection;
pub mod dense;
pub mod document;
pub mod fusion;
pub mod graph;
pub mod lexical;
pub mod snapshot;
pub mod vector;

pub use collection::{
    lexical_terms, AddReport, Hit, Index, IndexConfig, IndexStats, SearchOptions,
};
pub use document::Document;
pub use fusion::{Centering, FusionConfig, FusionKind, SearchMode};
