//! Errors of the evaluation runners.

/// Why a run failed. Each Display text is the message the CLI printed before
/// the runners moved here; an io error's cause is in the Display of
/// [`RunError::Io`] and not repeated as its `source()`.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The engine (model, index, data-set parser) refused.
    #[error(transparent)]
    Engine(#[from] xling_model::Error),
    /// A file could not be read or written.
    #[error("{context}: {cause}")]
    Io {
        /// What was being done ("cannot read FILE").
        context: String,
        /// The operating system's error.
        cause: std::io::Error,
    },
    /// An io error without a file name (the embedding cache's own reads).
    #[error(transparent)]
    RawIo(#[from] std::io::Error),
    /// The encoder failed; its whole message.
    #[error("{0}")]
    Encoder(String),
    /// The data or the settings do not allow the run.
    #[error("{0}")]
    Invalid(String),
    /// A report could not be turned into JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

impl RunError {
    /// An io error with what was being done.
    pub fn io(context: impl Into<String>, cause: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            cause,
        }
    }
}

/// Result of the runners.
pub type RunResult<T> = std::result::Result<T, RunError>;

/// `e` and its sources joined by ": ", as anyhow's `{:#}` prints an error
/// (the runners used to pass encoder errors on in that form).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// A whole file, or an error naming it.
pub(crate) fn read(path: &std::path::Path) -> RunResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| RunError::io(format!("cannot read {}", path.display()), e))
}
