//! Index behaviour on the tiny random model (the real model is covered by the
//! CLI tests): consistency under add/delete, staged adds, maintenance,
//! models and priors. The fixtures here serve the search and snapshot tests too.

use super::*;
use crate::fusion::SearchMode;
use crate::search::{Hit, SearchOptions};
use xling_model::testing::tiny_embedder;

pub(crate) fn doc(id: &str, text: &str) -> Document {
    Document {
        id: id.into(),
        text: text.into(),
        title: None,
        url: None,
        lang: None,
    }
}

pub(crate) fn corpus() -> Vec<Document> {
    vec![
        doc("a", "hello world. the cab is here."),
        doc("b", "a bad bear ate the bread."),
        doc("c", "zebra zoo! quiz jazz fizz."),
        doc("d", "hello hello hello."),
        doc("e", "the world is a ball. hello there."),
    ]
}

pub(crate) fn built() -> Result<(Embedder, Index)> {
    let embedder = tiny_embedder(3);
    let mut index = Index::for_model(&embedder, IndexConfig::default());
    index.add_documents(&embedder, corpus(), |_, _| {})?;
    Ok((embedder, index))
}

pub(crate) fn ids(hits: &[Hit]) -> Vec<&str> {
    hits.iter().map(|h| h.id.as_str()).collect()
}

pub(crate) fn options(mode: SearchMode) -> SearchOptions {
    SearchOptions {
        mode,
        k: 10,
        ..SearchOptions::default()
    }
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

pub(crate) fn in_language(id: &str, text: &str, lang: &str) -> Document {
    Document {
        lang: Some(lang.into()),
        ..doc(id, text)
    }
}

pub(crate) fn multilingual() -> Result<(Embedder, Index)> {
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
    // Given languages are sure labels; the counts follow deletes and snapshots.
    let id = |code: &str| index.languages.lookup(code).unwrap_or(u16::MAX);
    assert_eq!(
        (index.sure_count(id("de")), index.sure_count(id("fr"))),
        (2, 0)
    );
    assert_eq!(loaded.sure_counts, index.sure_counts);
    assert!(loaded
        .passages
        .iter()
        .zip(&index.passages)
        .all(|(a, b)| a.sure == b.sure));
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
    assert!(pending.accept(vec![vec![f32::NAN; dim]]).is_err());
    assert_eq!(pending.embedded(), 0);
    // Any piece's texts, cut at the end; the same as next_texts gives.
    assert_eq!(pending.texts(0, 2), pending.next_texts(2));
    assert_eq!(pending.texts(total - 1, 5).len(), 1);
    assert!(pending.texts(total, 1).is_empty());
    assert!(pending.texts(usize::MAX, usize::MAX).is_empty());
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
