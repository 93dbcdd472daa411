//! Errors of the site builder.

/// What can go wrong while building a site's search.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// Reading or writing a file failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A `--root-selector` or `--exclude-selectors` entry is not CSS.
    #[error("{selector:?} is not a CSS selector: {reason}")]
    Selector {
        /// The selector as given.
        selector: String,
        /// The parser's message.
        reason: String,
    },
    /// Arguments or site content that cannot be built.
    #[error("{0}")]
    Invalid(String),
    /// The index or the model failed.
    #[error(transparent)]
    Index(#[from] xling_index::Error),
}

impl SiteError {
    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

/// Results of the site builder.
pub type SiteResult<T> = Result<T, SiteError>;
