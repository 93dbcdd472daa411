//! Evaluation: ranking metrics and parsers for the benchmark data sets.
//!
//! Pure functions over bytes and rankings, so the same code scores the CLI's
//! runs and could score a browser build; reading files is the caller's job.

pub mod metrics;

pub use metrics::{
    average_precision, mrr_at, ndcg_at, recall_at, Judgments, MetricAccumulator, MetricSet,
};
