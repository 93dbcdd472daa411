//! Evaluation: ranking metrics and parsers for the benchmark data sets.
//!
//! Pure functions over bytes and rankings, so the same code scores the CLI's
//! runs and could score a browser build; reading files is the caller's job.

pub mod datasets;
pub mod metrics;

pub use datasets::{
    check_xquad_aligned, parse_beir_corpus, parse_beir_queries, parse_qrels, parse_tatoeba,
    parse_xquad, tatoeba_languages, BeirDoc, BeirQuery, Qrels, TatoebaPair, XquadLanguage,
    XquadQuestion,
};
pub use metrics::{
    average_precision, mrr_at, ndcg_at, recall_at, Judgments, MetricAccumulator, MetricSet,
};
pub use xling_model::{Error, Result};
