//! Searches on the tiny random model (the real model's rankings are covered
//! by the CLI tests): modes, hits, bad queries, the language switch, the
//! correction and the query's language.

use super::{LanguageScope, SearchOptions};
use crate::collection::tests::{built, corpus, ids, multilingual, options};
use crate::debias::DebiasConfig;
use crate::fusion::SearchMode;
use crate::languages::LanguagePrior;
use crate::{Document, Index, IndexConfig};
use xling_model::error::{Error, Result};
use xling_model::testing::tiny_embedder;

#[test]
fn every_mode_returns_each_document_once() -> Result<()> {
    let (embedder, index) = built()?;
    assert_eq!(index.stats().documents, 5);
    for mode in [SearchMode::Dense, SearchMode::Hybrid] {
        let hits = index.search(&embedder, "hello", &options(mode))?;
        assert_eq!(hits.len(), 5, "{mode}");
        let mut unique = ids(&hits);
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 5);
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    }
    // Lexical only returns documents sharing a piece with the query.
    let hits = index.search(&embedder, "zebra", &options(SearchMode::Lexical))?;
    assert_eq!(ids(&hits)[0], "c");
    assert!(!ids(&hits).contains(&"d"));
    Ok(())
}

#[test]
fn hits_point_at_their_passage_and_best_sentence() -> Result<()> {
    let (embedder, index) = built()?;
    let hits = index.search(&embedder, "zoo quiz", &options(SearchMode::Lexical))?;
    let hit = &hits[0];
    assert_eq!(hit.id, "c");
    let text = "zebra zoo! quiz jazz fizz.";
    assert_eq!(&text[hit.passage_bytes.clone()], hit.passage);
    // "quiz" is rarer than "zoo"? Both occur once; either sentence is a match,
    // but it must be a real sentence of the passage.
    let sentence = &text[hit.sentence_bytes.clone()];
    assert!(
        sentence == "zebra zoo!" || sentence == "quiz jazz fizz.",
        "{sentence}"
    );
    let hits = index.search(&embedder, "fizz", &options(SearchMode::Lexical))?;
    assert_eq!(&text[hits[0].sentence_bytes.clone()], "quiz jazz fizz.");
    Ok(())
}

#[test]
fn bad_queries_are_errors() -> Result<()> {
    let (embedder, index) = built()?;
    for q in ["", "   \n"] {
        assert!(matches!(
            index.search(&embedder, q, &options(SearchMode::Hybrid)),
            Err(Error::InvalidInput(_))
        ));
    }
    let long = "hello ".repeat(100);
    match index.search(&embedder, &long, &options(SearchMode::Hybrid)) {
        Err(Error::InvalidInput(msg)) => assert!(msg.contains("tokens"), "{msg}"),
        other => panic!("expected a length error, got {other:?}"),
    }
    let none = index.search(
        &embedder,
        "hello",
        &SearchOptions {
            k: 0,
            ..options(SearchMode::Dense)
        },
    )?;
    assert!(none.is_empty());
    let empty = Index::for_model(&embedder, IndexConfig::default());
    assert!(empty
        .search(&embedder, "hello", &options(SearchMode::Hybrid))?
        .is_empty());
    Ok(())
}

#[test]
fn the_language_switch_restricts_or_orders_results() -> Result<()> {
    let (embedder, index) = multilingual()?;
    for mode in [SearchMode::Dense, SearchMode::Hybrid, SearchMode::Lexical] {
        let only: LanguageScope = "de, fr".parse()?;
        let hits = index.search(
            &embedder,
            "hello",
            &SearchOptions {
                languages: only,
                ..options(mode)
            },
        )?;
        assert!(
            hits.iter().all(|h| h.lang == "de" || h.lang == "fr"),
            "{mode}: {hits:?}"
        );
    }
    let same = index.search(
        &embedder,
        "hallo",
        &SearchOptions {
            languages: LanguageScope::Same,
            query_language: Some("de".into()),
            ..options(SearchMode::Dense)
        },
    )?;
    let langs: Vec<&str> = same.iter().map(|h| h.lang.as_str()).collect();
    assert_eq!(langs.len(), 5);
    assert_eq!(&langs[..2], ["de", "de"], "{langs:?}");
    let unknown: LanguageScope = "sw".parse()?;
    assert!(index
        .search(
            &embedder,
            "hello",
            &SearchOptions {
                languages: unknown,
                ..options(SearchMode::Hybrid)
            }
        )?
        .is_empty());
    assert!("english".parse::<LanguageScope>().is_err());
    assert!(index
        .search(
            &embedder,
            "hello",
            &SearchOptions {
                query_language: Some("not a code".into()),
                ..options(SearchMode::Dense)
            }
        )
        .is_err());
    Ok(())
}

#[test]
fn debiasing_never_reorders_passages_within_one_language() -> Result<()> {
    // One language, renormalisation off: the correction is a constant shift
    // and scale, so the ranking equals the plain one.
    let embedder = tiny_embedder(7);
    let mut index = Index::for_model(&embedder, IndexConfig::default());
    let docs: Vec<Document> = corpus()
        .into_iter()
        .map(|d| Document {
            lang: Some("en".into()),
            ..d
        })
        .collect();
    index.add_documents(&embedder, docs, |_, _| {})?;
    let plain = SearchOptions {
        debias: DebiasConfig {
            enabled: false,
            ..DebiasConfig::default()
        },
        ..options(SearchMode::Dense)
    };
    let shifted = SearchOptions {
        debias: DebiasConfig {
            query_shift: 0.0,
            renormalize: false,
            ..DebiasConfig::default()
        },
        ..options(SearchMode::Dense)
    };
    for q in ["hello", "bread bear", "zebra quiz"] {
        let a = index.search(&embedder, q, &plain)?;
        let b = index.search(&embedder, q, &shifted)?;
        assert_eq!(ids(&a), ids(&b), "{q}");
    }
    Ok(())
}

#[test]
fn an_unsure_query_takes_the_language_of_the_nearest_prior_query_mean() -> Result<()> {
    use crate::languages::PriorLanguage;
    let (_, mut index) = built()?;
    let dim = index.dense.dim();
    let axis = |i: usize| {
        let mut v = vec![0.0; dim];
        v[i] = 1.0;
        v
    };
    let lang = |code: &str, query_axis: usize| PriorLanguage {
        code: code.into(),
        sentences: 1,
        // Passage means on other axes: only the query means may decide.
        passage_mean: axis(query_axis + 2),
        query_mean: axis(query_axis),
    };
    let prior = LanguagePrior::new(
        index.model_fingerprint(),
        dim,
        vec![lang("de", 0), lang("sw", 1)],
    )?;
    // No prior yet: the text guess stands (undetermined for "zq").
    assert_eq!(index.query_language("zq", &axis(1)), "und");
    index.set_language_prior(prior)?;
    assert_eq!(index.query_language("zq", &axis(0)), "de");
    assert_eq!(index.query_language("zq", &axis(1)), "sw");
    // A sure text detection wins over the embedding; lexical mode has none.
    assert_eq!(index.query_language("สวัสดีครับ", &axis(1)), "th");
    assert_eq!(index.query_language("zq", &[]), "und");
    Ok(())
}
