use xling_model::model::prune::{prune_model, PruneInfo};
use xling_model::testing;
use xling_model::{Embedder, ModelFiles};

use super::*;

fn doc(id: &str, text: &str, title: Option<&str>) -> Document {
    Document {
        id: id.into(),
        text: text.into(),
        title: title.map(str::to_string),
        url: None,
        lang: None,
    }
}

fn corpus() -> Vec<Document> {
    vec![
        doc(
            "a",
            "Hello world. The world is big!\nAb bc, 42.",
            Some("Hello"),
        ),
        doc(
            "b",
            "the b. hello hello hello world the a b c d e f g h i j k l m n o p",
            None,
        ),
    ]
}

fn select(
    files: &ModelFiles,
    corpus: Option<&[Document]>,
    max: usize,
) -> Result<Selection, PruneError> {
    let tokenizer = Tokenizer::from_model_files(files)?;
    let config = xling_model::model::gguf::read_model_config(&files.gguf)?;
    let chunk = ChunkConfig {
        max_tokens: 8,
        overlap_tokens: 2,
    };
    select_pieces(
        &tokenizer,
        &files.tokenizer_json,
        &config,
        &PruneRequest {
            language_scripts: &[vec![Script::Latin]],
            corpus,
            chunk: &chunk,
            samples: &[],
            max_pieces: max,
        },
    )
}

fn pieces(t: &Tokenizer, text: &str, prefix: Prefix) -> Vec<String> {
    t.content_ids(text, prefix)
        .expect("tokenizes")
        .iter()
        .map(|&id| t.inner().id_to_token(id).expect("known"))
        .collect()
}

#[test]
fn the_corpus_as_indexed_tokenizes_the_same_after_pruning() -> Result<(), PruneError> {
    let files = testing::tiny_model_files(31);
    let docs = corpus();
    // With the mandatory pieces only (max = what they need).
    let needed = match select(&files, Some(&docs), 0) {
        Err(PruneError::TooFewPieces { needed, max: 0 }) => needed,
        other => panic!("expected TooFewPieces, got {other:?}"),
    };
    let selection = select(&files, Some(&docs), needed)?;
    assert_eq!(selection.keep.len(), needed);
    assert_eq!(selection.query, 0);
    assert!(selection.corpus > 0 && selection.control >= 5);
    let pruned = prune_model(
        &files,
        &selection.keep,
        &PruneInfo {
            languages: vec!["en".into()],
        },
    )?;
    let pruned = ModelFiles {
        gguf: pruned.gguf,
        tokenizer_json: pruned.tokenizer_json,
    };
    let full = Embedder::load(&files)?;
    let small = Embedder::load(&pruned)?;
    let chunk = ChunkConfig {
        max_tokens: 8,
        overlap_tokens: 2,
    };
    for d in &docs {
        let count = |e: &Embedder| {
            let t = e.tokenizer();
            chunk_text(&d.text, &chunk, |s| {
                Ok(t.content_ids(s, Prefix::None)?.len())
            })
        };
        let chunks = count(&full)?;
        assert_eq!(chunks, count(&small)?, "{}", d.id);
        for c in &chunks {
            let text = embedding_text(d, &d.text[c.span.clone()]);
            for (s, prefix) in [
                (text.clone(), Prefix::Passage),
                (text.clone(), Prefix::Query),
                (text.to_lowercase(), Prefix::None),
            ] {
                assert_eq!(
                    pieces(small.tokenizer(), &s, prefix),
                    pieces(full.tokenizer(), &s, prefix),
                    "{s:?}"
                );
            }
            assert_eq!(
                crate::lexical_terms(small.tokenizer(), &text)?.len(),
                crate::lexical_terms(full.tokenizer(), &text)?.len()
            );
        }
    }
    Ok(())
}

#[test]
fn query_pieces_fill_up_to_the_limit_by_score() -> Result<(), PruneError> {
    let files = testing::tiny_model_files(32);
    let base = select(&files, None, 1000)?;
    // Every piece of the tiny vocabulary is Latin or script-less: all kept.
    assert_eq!(base.keep.len(), testing::pieces().len());
    let needed = base.control + base.characters;
    let limited = select(&files, None, needed + 2)?;
    assert_eq!(limited.keep.len(), needed + 2);
    assert_eq!(limited.query, 2);
    // The two best-scored multi-character pieces come first.
    for piece in ["▁hello", "▁world"] {
        assert!(limited.keep.contains(&testing::piece_id(piece)), "{piece}");
    }
    Ok(())
}

#[test]
fn bad_requests_are_typed_errors() {
    let files = testing::tiny_model_files(33);
    assert!(matches!(
        select(&files, Some(&[]), 1000),
        Err(PruneError::EmptyCorpus)
    ));
    let codes: Vec<String> = ["en", "xx", "DEU", "klingon"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    match parse_languages(&codes) {
        Err(e @ PruneError::UnknownLanguages(_)) => {
            let msg = e.to_string();
            assert!(msg.contains("xx, klingon"), "{msg}");
        }
        other => panic!("expected UnknownLanguages, got {other:?}"),
    }
    assert!(matches!(parse_languages(&[]), Err(PruneError::NoLanguages)));
    let (langs, scripts) = parse_languages(&["en".into(), "deu".into(), "ru".into(), "en".into()])
        .expect("known codes");
    assert_eq!(langs, ["en", "de", "ru"]);
    assert_eq!(
        scripts,
        [
            vec![Script::Latin],
            vec![Script::Latin],
            vec![Script::Cyrillic]
        ]
    );
    match select(&files, None, 3) {
        Err(e @ PruneError::TooFewPieces { .. }) => {
            assert!(e.to_string().contains("need"), "{e}");
        }
        other => panic!("expected TooFewPieces, got {other:?}"),
    }
}

#[test]
fn languages_take_turns_so_a_small_script_is_not_starved() {
    // Latin pieces all outscore the Greek ones, as in XLM-R's training mix.
    let vocab: Vec<(String, f64)> = [
        ("<s>", 0.0),
        ("▁the", -1.0),
        ("▁and", -2.0),
        ("▁of", -3.0),
        ("▁und", -4.0),
        ("▁και", -5.0),
        ("▁το", -6.0),
        ("42", -7.0),
        ("▁να", -8.0),
    ]
    .iter()
    .map(|(p, s)| (p.to_string(), *s))
    .collect();
    let is_control = |id: u32| id == 0;
    let order = pieces_in_turns(
        &vocab,
        &[vec![Script::Latin], vec![Script::Greek]],
        &is_control,
    );
    // Alternating Latin and Greek; "42" (no letters) is in both queues and
    // taken once, at its first turn.
    assert_eq!(order, [1, 5, 2, 6, 3, 7, 4, 8]);
    // Two Latin languages pool their turns.
    let order = pieces_in_turns(
        &vocab,
        &[
            vec![Script::Latin],
            vec![Script::Latin],
            vec![Script::Greek],
        ],
        &is_control,
    );
    assert_eq!(order, [1, 2, 5, 3, 4, 6, 7, 8]);
}
