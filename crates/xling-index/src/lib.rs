//! # xling-index
//!
//! From vectors and text to ranked hits: documents cut into passages, a dense
//! (HNSW) and a lexical (BM25) index over them, the language-agnostic
//! correction, hybrid fusion, and one snapshot format. No platform code: it
//! builds for native targets and `wasm32-unknown-unknown`.
//!
//! ```no_run
//! use xling_index::{Document, Index, IndexConfig, SearchOptions};
//! use xling_model::{Embedder, ModelFiles};
//! # fn main() -> xling_index::Result<()> {
//! let embedder = Embedder::load(&ModelFiles::read_dir("models/multilingual-e5-small-q4")?)?;
//! let mut index = Index::for_model(&embedder, IndexConfig::default());
//! let doc = Document {
//!     id: "de-1".into(),
//!     text: "Der Zug nach Berlin fährt um acht Uhr ab.".into(),
//!     title: None,
//!     url: None,
//!     lang: None,
//! };
//! index.add_documents(&embedder, vec![doc], |_done, _total| {})?;
//! let hits = index.search(&embedder, "when does the train leave?", &SearchOptions::default())?;
//! println!("{} ({:.3})", hits[0].id, hits[0].score);
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod chunk;
pub mod codec;
mod collection;
pub mod debias;
pub mod dense;
pub mod document;
pub mod documents;
pub mod fusion;
pub mod graph;
pub mod lang;
pub mod languages;
pub mod lexical;
pub mod memory;
pub mod prune;
mod search;
pub mod snapshot;
pub mod vector;

pub use collection::{AddReport, Index, IndexConfig, IndexStats, PendingAdd};
pub use debias::{DebiasConfig, QueryMean};
pub use document::Document;
pub use fusion::{Centering, FusionConfig, FusionKind, SearchMode};
pub use languages::{
    language_of, passage_label, query_language_of, Label, LanguagePrior, LanguageStats,
    PriorLanguage, PRIOR_FILE,
};
pub use search::{check_query, lexical_terms, Hit, LanguageScope, Query, SearchOptions};
pub use xling_model::{Error, Result};
