//! What a caller asks of a search: [`SearchOptions`] and its language switch.

use crate::debias::DebiasConfig;
use crate::fusion::{FusionConfig, SearchMode};
use crate::lang::normalize_language;
use xling_model::error::{Error, Result};

/// How to search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOptions {
    /// Dense, lexical or both fused.
    pub mode: SearchMode,
    /// Documents returned.
    pub k: usize,
    /// Brute force instead of the HNSW graphs.
    pub exact: bool,
    /// How hybrid mode fuses the two sides.
    pub fusion: FusionConfig,
    /// Find the best-matching sentence of each hit (costs a little per hit).
    pub highlight: bool,
    /// Which languages are ranked, and how.
    pub languages: LanguageScope,
    /// The correction that makes `LanguageScope::Any` language-agnostic.
    pub debias: DebiasConfig,
    /// The query's language (a code); detected from its text when `None`.
    pub query_language: Option<String>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            mode: SearchMode::default(),
            k: 10,
            exact: false,
            fusion: FusionConfig::default(),
            highlight: true,
            languages: LanguageScope::Any,
            debias: DebiasConfig::default(),
            query_language: None,
        }
    }
}

/// The language switch of a search.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LanguageScope {
    /// Rank by meaning whatever the language (the default).
    #[default]
    Any,
    /// Passages in the query's language first, then the others (as `Any`
    /// when the query's language cannot be told).
    Same,
    /// Only passages in these languages (codes as [`normalize_language`] gives them).
    Only(Vec<String>),
}

impl std::str::FromStr for LanguageScope {
    type Err = Error;

    /// `any`, `same`, or a comma-separated list of language codes.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "any" | "" => Ok(LanguageScope::Any),
            "same" => Ok(LanguageScope::Same),
            list => {
                let mut codes = Vec::new();
                for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                    let code = normalize_language(item).ok_or_else(|| {
                        Error::InvalidInput(format!(
                            "{item:?} is not a language code (use any, same, or codes like en,de,zh)"
                        ))
                    })?;
                    if !codes.contains(&code) {
                        codes.push(code);
                    }
                }
                Ok(LanguageScope::Only(codes))
            }
        }
    }
}
