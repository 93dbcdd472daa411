//! Index behaviour on the tiny random model (the real model is covered by the
//! CLI tests): consistency under add/delete, modes, snapshots, bad input.

use super::*;
use xling_model::testing::tiny_embedder;

fn doc(id: &str, text: &str) -> Document {
    Document {
        id: id.into(),
        text: text.into(),
        title: None,
        url: None,
        lang: None,
    }
}

fn corpus() -> Vec<Document> {
    vec![
        doc("a", "hello world. the cab is here."),
        doc("b", "a bad bear ate the bread."),
        doc("c", "zebra zoo! quiz jazz fizz."),
        doc("d", "hello hello hello."),
        doc("e", "the world is a ball. hello there."),
    ]
}

fn built() -> Result<(Embedder, Index)> {
    let embedder = tiny_embedder(3);
    let mut index = Index::for_model(&embedder, IndexConfig::default());
    index.add_documents(&embedder, corpus(), |_, _| {})?;
    Ok((embedder, index))
}

fn ids(hits: &[Hit]) -> Vec<&str> {
    hits.iter().map(|h| h.id.as_str()).collect()
}

fn options(mode: SearchMode) -> SearchOptions {
    SearchOptions {
        mode,
        k: 10,
        ..SearchOptions::default()
    }
}

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
fn duplicates_and_bad_documents_change_nothing() -> Result<()> {
    let (embedder, mut index) = built()?;
    let before = index.to_bytes()?;
    for bad in [
        vec![doc("a", "again")],
        vec![doc("x", "one"), doc("x", "two")],
        vec![doc(" ", "blank id")],
    ] {
        assert!(matches!(
            index.add_documents(&embedder, bad, |_, _| {}),
            Err(Error::Document(_))
        ));
    }
    assert!(
        index.to_bytes()? == before,
        "a failed add modified the index"
    );
    Ok(())
}

#[test]
fn delete_keeps_statistics_exact() -> Result<()> {
    let (embedder, mut index) = built()?;
    assert!(matches!(
        index.delete(embedder.tokenizer(), &["a", "nope"]),
        Err(Error::Document(_))
    ));
    assert_eq!(index.len(), 5, "a failed delete removed something");
    assert_eq!(index.delete(embedder.tokenizer(), &["a", "d"])?, 2);
    assert_eq!(index.len(), 3);
    // Same scores as an index built from the survivors only.
    let mut fresh = Index::for_model(&embedder, IndexConfig::default());
    let survivors: Vec<Document> = corpus()
        .into_iter()
        .filter(|d| d.id != "a" && d.id != "d")
        .collect();
    fresh.add_documents(&embedder, survivors, |_, _| {})?;
    for query in ["hello", "the world", "bread bear"] {
        for mode in [SearchMode::Dense, SearchMode::Lexical, SearchMode::Hybrid] {
            let a = index.search(&embedder, query, &options(mode))?;
            let b = fresh.search(&embedder, query, &options(mode))?;
            assert_eq!(ids(&a), ids(&b), "{query} {mode}");
            for (x, y) in a.iter().zip(&b) {
                assert!((x.score - y.score).abs() < 1e-5, "{query} {mode}");
            }
        }
    }
    // A deleted id can be added again.
    index.add_documents(&embedder, vec![doc("a", "back again")], |_, _| {})?;
    assert!(index.contains("a"));
    Ok(())
}

#[test]
fn snapshots_round_trip() -> Result<()> {
    let (embedder, mut index) = built()?;
    index.delete(embedder.tokenizer(), &["b"])?;
    let bytes = index.to_bytes()?;
    let loaded = Index::from_bytes_for(&bytes, embedder.tokenizer())?;
    assert_eq!(loaded.stats(), index.stats());
    for mode in [SearchMode::Dense, SearchMode::Lexical, SearchMode::Hybrid] {
        assert_eq!(
            loaded.search(&embedder, "hello world", &options(mode))?,
            index.search(&embedder, "hello world", &options(mode))?
        );
    }
    assert!(
        loaded.to_bytes()? == bytes,
        "save, load, save is not stable"
    );
    Ok(())
}

#[test]
fn another_model_is_refused() -> Result<()> {
    let (_, index) = built()?;
    let other = tiny_embedder(4);
    let bytes = index.to_bytes()?;
    assert!(matches!(
        Index::from_bytes_for(&bytes, other.tokenizer()),
        Err(Error::ModelMismatch { .. })
    ));
    assert!(matches!(
        index.search(&other, "hello", &options(SearchMode::Dense)),
        Err(Error::ModelMismatch { .. })
    ));
    Ok(())
}

#[test]
fn corrupt_snapshots_are_typed_errors() -> Result<()> {
    let (_, index) = built()?;
    let bytes = index.to_bytes()?;
    for cut in 0..bytes.len() {
        assert!(
            matches!(
                Index::from_bytes(&bytes[..cut]),
                Err(Error::InvalidIndex(_))
            ),
            "truncated at {cut}"
        );
    }
    let mut s = 0x9e37_79b9u64;
    for _ in 0..2000 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let mut bad = bytes.clone();
        let at = (s as usize) % bad.len();
        bad[at] ^= 1 << ((s >> 61) as u8);
        assert!(
            matches!(Index::from_bytes(&bad), Err(Error::InvalidIndex(_))),
            "flip at {at}"
        );
    }
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

fn in_language(id: &str, text: &str, lang: &str) -> Document {
    Document {
        lang: Some(lang.into()),
        ..doc(id, text)
    }
}

fn multilingual() -> Result<(Embedder, Index)> {
    let embedder = tiny_embedder(5);
    let mut index = Index::for_model(&embedder, IndexConfig::default());
    index.add_documents(
        &embedder,
        vec![
            in_language("en1", "hello world. the cab is here.", "en"),
            in_language("en2", "a bad bear ate the bread.", "eng"),
            in_language("de1", "hallo welt. das taxi ist da.", "de-AT"),
            in_language("de2", "ein böser bär aß das brot.", "deu"),
            in_language("fr1", "bonjour le monde.", "fr"),
        ],
        |_, _| {},
    )?;
    Ok((embedder, index))
}

#[test]
fn language_statistics_follow_adds_and_deletes_exactly() -> Result<()> {
    let (embedder, mut index) = multilingual()?;
    let counts = |index: &Index| index.stats().languages;
    assert_eq!(
        counts(&index),
        vec![("de".into(), 2), ("en".into(), 2), ("fr".into(), 1)]
    );
    let before = index.languages.clone();
    index.add_documents(
        &embedder,
        vec![in_language("de3", "noch ein satz.", "de")],
        |_, _| {},
    )?;
    index.delete(embedder.tokenizer(), &["de3"])?;
    assert_eq!(
        index.languages, before,
        "a delete undoes an add bit for bit"
    );
    index.delete(embedder.tokenizer(), &["fr1"])?;
    assert_eq!(counts(&index), vec![("de".into(), 2), ("en".into(), 2)]);
    // Samples only hold live passages.
    assert!(index
        .samples
        .iter()
        .flatten()
        .all(|p| index.dense.is_live(*p)));
    // Snapshots keep the statistics and passage languages.
    let loaded = Index::from_bytes(&index.to_bytes()?)?;
    assert_eq!(loaded.languages, index.languages);
    assert_eq!(loaded.samples, index.samples);
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
fn a_prior_for_another_model_is_refused() -> Result<()> {
    use crate::languages::PriorLanguage;
    let (_, mut index) = built()?;
    let lang = |dim| PriorLanguage {
        code: "en".into(),
        sentences: 1,
        passage_mean: vec![0.0; dim],
        query_mean: vec![0.0; dim],
    };
    let dim = index.dense.dim();
    let foreign = LanguagePrior::new([9; 32], dim, vec![lang(dim)])?;
    assert!(matches!(
        index.set_language_prior(foreign),
        Err(Error::ModelMismatch { .. })
    ));
    let own = LanguagePrior::new(index.model_fingerprint(), dim, vec![lang(dim)])?;
    index.set_language_prior(own.clone())?;
    let loaded = Index::from_bytes(&index.to_bytes()?)?;
    assert_eq!(loaded.language_prior(), Some(&own));
    assert_eq!(loaded.stats().prior_languages, 1);
    Ok(())
}

#[test]
fn a_staged_add_can_be_cancelled_or_committed() -> Result<()> {
    let embedder = tiny_embedder(3);
    let mut index = Index::for_model(&embedder, IndexConfig::default());
    let tokenizer = embedder.tokenizer();
    let embed = |texts: &[String]| embedder.embed(texts, Prefix::Passage);

    // Cancelled half-way: dropping the pending add leaves the index untouched.
    let mut pending = index.prepare_add(tokenizer, corpus())?;
    assert_eq!(pending.embed_next(2, embed)?, 2);
    assert!(!pending.is_embedded());
    drop(pending);
    assert_eq!(index.len(), 0);

    // Committing before every passage is embedded is refused.
    let mut pending = index.prepare_add(tokenizer, corpus())?;
    pending.embed_next(1, embed)?;
    let total = pending.total();
    assert!(index.commit_add(tokenizer, pending).is_err());
    assert_eq!(index.len(), 0);

    // Done in small steps, it gives the same index as a one-shot add.
    let mut pending = index.prepare_add(tokenizer, corpus())?;
    while !pending.is_embedded() {
        pending.embed_next(2, embed)?;
    }
    assert_eq!(pending.embedded(), total);
    // Another add of the same ids in between wins; the commit is refused.
    let mut other = Index::for_model(&embedder, IndexConfig::default());
    other.add_documents(&embedder, corpus(), |_, _| {})?;
    index.add_documents(&embedder, vec![doc("a", "first")], |_, _| {})?;
    assert!(matches!(
        index.commit_add(tokenizer, pending),
        Err(Error::Document(_))
    ));
    index.delete(tokenizer, &["a"])?;
    let mut pending = index.prepare_add(tokenizer, corpus())?;
    while pending.embed_next(3, embed)? > 0 {}
    index.commit_add(tokenizer, pending)?;
    let query = options(SearchMode::Hybrid);
    let staged: Vec<_> = index.search(&embedder, "hello", &query)?;
    let direct: Vec<_> = other.search(&embedder, "hello", &query)?;
    assert_eq!(ids(&staged), ids(&direct));
    Ok(())
}

#[test]
fn an_async_caller_embeds_with_next_texts_and_accept() -> Result<()> {
    let embedder = tiny_embedder(3);
    let mut index = Index::for_model(&embedder, IndexConfig::default());
    let tokenizer = embedder.tokenizer();
    let mut pending = index.prepare_add(tokenizer, corpus())?;
    let total = pending.total();
    // Wrong dimensions, nothing, or more vectors than passages left are
    // refused and change nothing.
    let dim = embedder.dim();
    assert!(pending.accept(vec![vec![0.0; dim + 1]]).is_err());
    assert!(pending.accept(Vec::new()).is_err());
    assert!(pending.accept(vec![vec![0.0; dim]; total + 1]).is_err());
    assert_eq!(pending.embedded(), 0);
    while !pending.is_embedded() {
        let texts = pending.next_texts(2).to_vec();
        assert!(!texts.is_empty() && texts.len() <= 2);
        let vectors = embedder.embed(&texts, Prefix::Passage)?;
        assert_eq!(pending.accept(vectors)?, texts.len());
    }
    assert!(pending.next_texts(2).is_empty());
    index.commit_add(tokenizer, pending)?;
    let mut direct = Index::for_model(&embedder, IndexConfig::default());
    direct.add_documents(&embedder, corpus(), |_, _| {})?;
    let query = options(SearchMode::Hybrid);
    assert_eq!(
        ids(&index.search(&embedder, "hello", &query)?),
        ids(&direct.search(&embedder, "hello", &query)?)
    );
    Ok(())
}

#[test]
fn deferred_maintenance_builds_graphs_one_step_at_a_time() -> Result<()> {
    let embedder = tiny_embedder(3);
    let config = IndexConfig {
        dense: DenseConfig {
            exact_below: 4,
            buffer_max: 4,
            ..DenseConfig::default()
        },
        ..IndexConfig::default()
    };
    let docs: Vec<Document> = (0..12)
        .map(|i| doc(&format!("d{i}"), &format!("word{i} hello {i}.")))
        .collect();
    let mut eager = Index::for_model(&embedder, config.clone());
    eager.add_documents(&embedder, docs.clone(), |_, _| {})?;
    assert!(!eager.stats().graph_segments.is_empty());
    assert!(!eager.maintenance_due());

    let mut lazy = Index::for_model(&embedder, config);
    lazy.set_auto_maintain(false);
    lazy.add_documents(&embedder, docs, |_, _| {})?;
    assert!(lazy.stats().graph_segments.is_empty());
    assert!(lazy.maintenance_due());
    // Meanwhile, search is exact over the buffer and finds everything.
    let query = options(SearchMode::Dense);
    assert_eq!(lazy.search(&embedder, "hello", &query)?.len(), 10);
    let mut steps = 0;
    while lazy.maintain_step()? {
        steps += 1;
        assert!(steps < 10, "maintenance does not converge");
    }
    assert!(steps >= 1);
    assert!(!lazy.maintenance_due());
    assert_eq!(lazy.stats().graph_segments, eager.stats().graph_segments);
    let exact = SearchOptions {
        exact: true,
        ..options(SearchMode::Dense)
    };
    assert_eq!(
        ids(&lazy.search(&embedder, "hello", &exact)?),
        ids(&eager.search(&embedder, "hello", &exact)?)
    );
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
