//! The first stage of a search: which language the query is in, and which
//! passages it may return (the language switch of [`SearchOptions`]).

use super::options::{LanguageScope, SearchOptions};
use crate::lang::{normalize_language, UNDETERMINED};
use crate::languages::LanguageStats;
use xling_model::error::{Error, Result};

/// The query's language for this search: the caller's code when one is
/// given (normalised; refused when it is not a language code), else
/// `detect()` (the index's guess from the text and the embedding).
pub(crate) fn query_language(
    options: &SearchOptions,
    detect: impl FnOnce() -> String,
) -> Result<String> {
    match &options.query_language {
        Some(code) => normalize_language(code).ok_or_else(|| {
            Error::InvalidInput(format!("query language {code:?} is not a language code"))
        }),
        None => Ok(detect()),
    }
}

/// `LanguageScope::Same` with a known query language is two searches: the
/// passages in the query's language first, then the rest ranked as in
/// `Any` ([`then_any`]). This gives the first one's options; `None` when the
/// search is a single one.
pub(crate) fn same_language_first(
    options: &SearchOptions,
    language: &str,
) -> Option<SearchOptions> {
    if options.languages != LanguageScope::Same || language == UNDETERMINED {
        return None;
    }
    Some(SearchOptions {
        languages: LanguageScope::Only(vec![language.to_owned()]),
        query_language: Some(language.to_owned()),
        ..options.clone()
    })
}

/// The second search of [`same_language_first`], after it found `found`
/// documents: deep enough to fill `k` once those are skipped.
pub(crate) fn then_any(options: &SearchOptions, language: String, found: usize) -> SearchOptions {
    SearchOptions {
        languages: LanguageScope::Any,
        query_language: Some(language),
        k: options.k + found,
        ..options.clone()
    }
}

/// The passages a single search may return, by language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scope {
    /// The allowed language ids; `None`: every language.
    wanted: Option<Vec<u16>>,
}

impl Scope {
    /// The scope of `languages` over the index's languages; `None` when a
    /// list names no language the index holds (nothing can match).
    pub(crate) fn new(languages: &LanguageScope, stats: &LanguageStats) -> Option<Self> {
        let wanted: Option<Vec<u16>> = match languages {
            LanguageScope::Only(codes) => Some(
                codes
                    .iter()
                    .filter_map(|c| normalize_language(c))
                    .filter_map(|c| stats.lookup(&c))
                    .collect(),
            ),
            _ => None,
        };
        if wanted.as_ref().is_some_and(Vec::is_empty) {
            return None;
        }
        Some(Self { wanted })
    }

    /// Whether passages of language id `lang` may be returned.
    pub(crate) fn allows(&self, lang: u16) -> bool {
        self.wanted.as_ref().is_none_or(|w| w.contains(&lang))
    }

    /// Whether some languages are left out. A graph explores a fixed
    /// neighbourhood: with a selective filter most of it is filtered out, so
    /// filtered searches are exact.
    pub(crate) fn is_filtered(&self) -> bool {
        self.wanted.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> (LanguageStats, u16, u16) {
        let mut stats = LanguageStats::new(2);
        let en = stats.intern("en");
        let de = stats.intern("de");
        (stats, en, de)
    }

    #[test]
    fn a_list_keeps_only_its_known_languages() -> Result<()> {
        let (stats, en, de) = stats();
        let any = Scope::new(&LanguageScope::Any, &stats);
        assert!(any
            .as_ref()
            .is_some_and(|s| s.allows(en) && s.allows(de) && !s.is_filtered()));
        let same = Scope::new(&LanguageScope::Same, &stats);
        assert_eq!(same, any, "Same ranks like Any once split");
        let only = Scope::new(&"deu, sw".parse()?, &stats);
        assert!(only
            .as_ref()
            .is_some_and(|s| s.allows(de) && !s.allows(en) && s.is_filtered()));
        assert_eq!(Scope::new(&"sw".parse()?, &stats), None);
        Ok(())
    }

    #[test]
    fn the_query_language_is_given_or_detected() {
        let given = |code: &str| SearchOptions {
            query_language: Some(code.into()),
            ..SearchOptions::default()
        };
        assert_eq!(
            query_language(&given("de-AT"), || "en".into()).ok(),
            Some("de".into())
        );
        assert!(query_language(&given("not a code"), || "en".into()).is_err());
        assert_eq!(
            query_language(&SearchOptions::default(), || "en".into()).ok(),
            Some("en".into())
        );
    }

    #[test]
    fn same_splits_into_the_language_then_the_rest() {
        let options = SearchOptions {
            languages: LanguageScope::Same,
            k: 4,
            ..SearchOptions::default()
        };
        assert_eq!(same_language_first(&options, UNDETERMINED), None);
        assert_eq!(same_language_first(&SearchOptions::default(), "de"), None);
        let first = same_language_first(&options, "de");
        assert_eq!(
            first
                .as_ref()
                .map(|o| (&o.languages, o.query_language.as_deref(), o.k)),
            Some((&LanguageScope::Only(vec!["de".into()]), Some("de"), 4))
        );
        let rest = then_any(&options, "de".into(), 3);
        assert_eq!(rest.languages, LanguageScope::Any);
        assert_eq!(rest.query_language.as_deref(), Some("de"));
        assert_eq!(rest.k, 7);
    }
}
