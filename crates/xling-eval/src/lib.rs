//! Evaluation: ranking metrics and parsers for the benchmark data sets, and
//! the runners that measure an engine on them.
//!
//! `datasets` and `metrics` are pure functions over bytes and rankings, so
//! they could score a browser build. `runners` and `embeddings` read the data
//! files and keep an embedding cache on disk; the encoder and the progress
//! display are the caller's (traits [`TextEncoder`] and [`Progress`]).

#![deny(missing_docs)]

pub mod datasets;
pub mod embeddings;
pub mod error;
pub mod figures;
pub mod metrics;
pub mod progress;
pub mod runners;

pub use datasets::{
    check_xquad_aligned, parse_beir_corpus, parse_beir_queries, parse_qrels, parse_tatoeba,
    parse_xquad, tatoeba_languages, BeirDoc, BeirQuery, Qrels, TatoebaPair, XquadLanguage,
    XquadQuestion,
};
pub use embeddings::{Embeddings, TextEncoder};
pub use error::{error_chain, RunError, RunResult};
pub use figures::{ColumnChange, ColumnSummary, Comparison, Figures};
pub use metrics::{
    average_precision, mrr_at, ndcg_at, recall_at, Judgments, MetricAccumulator, MetricSet,
};
pub use progress::{Progress, Silent, Stage, StageProgress};
pub use runners::{Engine, EvalContext};
pub use xling_model::{Error, Result};
