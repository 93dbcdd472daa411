//! `xling prune` on the real model: the pruned directory works with `xling
//! index` and `xling search`, refuses indexes of the full model (and the
//! reverse) naming the model, is small, and tokenizes its corpus exactly as
//! the full model does.

mod support;

use support::{stderr, xling};

use std::path::{Path, PathBuf};
use std::process::Output;

use xling_index::chunk::{chunk_text, ChunkConfig};
use xling_model::tokenize::{Prefix, Tokenizer};
use xling_model::ModelFiles;

fn ok(out: Output) -> String {
    assert!(out.status.success(), "xling failed: {}", stderr(&out));
    format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out))
}

fn failed(out: Output) -> String {
    assert!(
        !out.status.success(),
        "expected a failure: {}",
        stderr(&out)
    );
    stderr(&out)
}

fn temp_dir(name: &str) -> PathBuf {
    support::temp_dir("prune", name)
}

const DOCS: [(&str, &str); 4] = [
    ("de.txt", "Fahrplan\nDer Zug nach Berlin fährt um acht Uhr ab. Die Fahrkarten gibt es am Schalter im Erdgeschoss, Öffnungszeiten: 6–22 Uhr."),
    ("en.txt", "Museum hours\nThe museum opens at nine in the morning and closes at 17:30. Guided tours in English start every hour."),
    ("mixed.md", "# Partner cities\nOur partner cities are Kyoto (京都), Saint Petersburg (Санкт-Петербург) and Thessaloniki (Θεσσαλονίκη). 🚆 ✓"),
    ("long.txt", "Long notes\n"),
];

/// A corpus directory, one long document among them (chunked into passages).
fn write_corpus(dir: &Path) {
    for (name, text) in DOCS {
        let text = if name == "long.txt" {
            let sentence = "Rail replacement buses run between Hauptbahnhof and Flughafen while the tunnel is closed for repairs. ";
            format!("{text}{}", sentence.repeat(40))
        } else {
            text.to_string()
        };
        std::fs::write(dir.join(name), text).expect("write corpus");
    }
}

fn tokenizer(dir: &Path) -> Tokenizer {
    Tokenizer::from_model_files(&ModelFiles::read_dir(dir).expect("model files"))
        .expect("tokenizer")
}

fn pieces(t: &Tokenizer, text: &str, prefix: Prefix) -> Vec<String> {
    let ids = t.content_ids(text, prefix).expect("tokenizes");
    ids.iter()
        .map(|&id| t.inner().id_to_token(id).expect("known id"))
        .collect()
}

/// Every text `xling index` tokenizes for the corpus (the strings the chunker
/// counts, each passage with its title under both prefixes, and lower-cased):
/// the same pieces with both tokenizers.
fn assert_corpus_tokenizes_the_same(corpus: &Path, full: &Tokenizer, small: &Tokenizer) {
    let docs = xling_index::documents::read_inputs(&[corpus.to_path_buf()]).expect("corpus");
    let mut checked = 0;
    for doc in &docs {
        let mut counted = Vec::new();
        let chunks = chunk_text(&doc.text, &ChunkConfig::default(), |s| {
            counted.push(s.to_string());
            Ok(full.content_ids(s, Prefix::None)?.len())
        })
        .expect("chunks");
        for s in &counted {
            assert_eq!(
                pieces(small, s, Prefix::None),
                pieces(full, s, Prefix::None),
                "{s:?}"
            );
        }
        for c in &chunks {
            let passage = &doc.text[c.span.clone()];
            let text = match doc.title.as_deref().map(str::trim) {
                Some(t) if !t.is_empty() => format!("{t} {passage}"),
                _ => passage.to_string(),
            };
            for (s, prefix) in [
                (text.clone(), Prefix::Passage),
                (text.clone(), Prefix::Query),
                (text.to_lowercase(), Prefix::None),
            ] {
                assert_eq!(
                    pieces(small, &s, prefix),
                    pieces(full, &s, prefix),
                    "{s:?} {prefix:?}"
                );
                checked += 1;
            }
            assert_eq!(
                xling_index::lexical_terms(small, &text)
                    .expect("terms")
                    .len(),
                xling_index::lexical_terms(full, &text)
                    .expect("terms")
                    .len()
            );
        }
    }
    assert!(checked >= 3 * DOCS.len(), "{checked}");
}

#[test]
fn a_pruned_model_indexes_searches_and_refuses_the_full_models_indexes() {
    let Some(setup) = support::real_setup("prune") else {
        return;
    };
    let dir = temp_dir("roundtrip");
    let corpus = dir.join("corpus");
    std::fs::create_dir_all(&corpus).expect("corpus dir");
    write_corpus(&corpus);
    let full = setup.model_dir.to_str().expect("utf-8 path").to_string();
    let out = dir.join("model-en-de");
    let out_s = out.to_str().expect("utf-8 path");
    let corpus_s = corpus.to_str().expect("utf-8 path");

    let report = ok(xling(&[
        "prune",
        "--model",
        &full,
        "--out",
        out_s,
        "--languages",
        "en,de",
        "--corpus",
        corpus_s,
    ]));
    assert!(report.contains("kept 50000 of 250002 pieces"), "{report}");
    assert!(report.contains("model.gguf 2"), "{report}");
    let size = std::fs::metadata(out.join("model.gguf"))
        .expect("model.gguf")
        .len();
    assert!(size <= 25_000_000, "{size} bytes");
    assert!(out.join("tokenizer.json").exists() && out.join("language-prior.bin").exists());

    // Same pieces for the corpus, as indexed.
    let full_tok = tokenizer(&setup.model_dir);
    let small_tok = tokenizer(&out);
    assert_ne!(full_tok.model_fingerprint(), small_tok.model_fingerprint());
    assert_corpus_tokenizes_the_same(&corpus, &full_tok, &small_tok);

    // Index and search with the pruned model.
    let small_index = dir.join("small.idx");
    let full_index = dir.join("full.idx");
    let (si, fi) = (
        small_index.to_str().unwrap_or(""),
        full_index.to_str().unwrap_or(""),
    );
    ok(xling(&["index", "--model", out_s, "--out", si, corpus_s]));
    let hits = ok(xling(&[
        "search",
        "--model",
        out_s,
        "--index",
        si,
        "--json",
        "-k",
        "1",
        "wann fährt der Zug nach Berlin",
    ]));
    assert!(hits.contains("\"de.txt\""), "{hits}");

    // Each model refuses the other's index, naming the model that built it.
    ok(xling(&["index", "--model", &full, "--out", fi, corpus_s]));
    let msg = failed(xling(&[
        "search", "--model", out_s, "--index", fi, "museum",
    ]));
    assert!(
        msg.contains("built with model \"multilingual-e5-small\""),
        "{msg}"
    );
    let msg = failed(xling(&[
        "search", "--model", &full, "--index", si, "museum",
    ]));
    assert!(
        msg.contains("built with model \"multilingual-e5-small (pruned: en,de; 50,000 pieces)\""),
        "{msg}"
    );

    // Too small a limit says how many pieces are needed.
    let msg = failed(xling(&[
        "prune",
        "--model",
        &full,
        "--out",
        out_s,
        "--languages",
        "en,de",
        "--max-pieces",
        "100",
    ]));
    assert!(
        msg.contains("--max-pieces 100 is too small") && msg.contains("need"),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_languages_and_empty_corpora_are_refused() {
    let dir = temp_dir("errors");
    let out = dir.join("out");
    let out_s = out.to_str().expect("utf-8 path");
    let msg = failed(xling(&[
        "prune",
        "--out",
        out_s,
        "--languages",
        "en,xx,klingon",
    ]));
    assert!(msg.contains("unknown language codes: xx, klingon"), "{msg}");
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).expect("empty dir");
    let msg = failed(xling(&[
        "prune",
        "--out",
        out_s,
        "--languages",
        "en",
        "--corpus",
        empty.to_str().unwrap_or(""),
    ]));
    assert!(msg.contains("no documents found"), "{msg}");
    assert!(!out.exists(), "nothing written");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--samples` puts the pieces of the languages' Tatoeba sentences first, so
/// with room for them those sentences tokenize as before; `--prior-data`
/// re-estimates the prior with the pruned model (without samples its text
/// tokenizes differently: means close to the parent's, not a copy of them);
/// the default limit grows with the languages.
#[test]
fn samples_rank_query_pieces_and_prior_data_recomputes_the_prior() {
    let Some(setup) = support::real_setup("prune-samples") else {
        return;
    };
    let dir = temp_dir("samples");
    let full = setup.model_dir.to_str().expect("utf-8 path").to_string();
    let tatoeba = setup.data_dir.join("tatoeba");
    let tatoeba_s = tatoeba.to_str().expect("utf-8 path");
    let out = dir.join("model-en-el");
    let out_s = out.to_str().expect("utf-8 path");
    let report = ok(xling(&[
        "prune",
        "--model",
        &full,
        "--out",
        out_s,
        "--languages",
        "en,el",
        "--max-pieces",
        "30000",
        "--samples",
        tatoeba_s,
    ]));
    assert!(report.contains("kept 30000 of 250002 pieces"), "{report}");

    let full_tok = tokenizer(&setup.model_dir);
    let small_tok = tokenizer(&out);
    let greek =
        std::fs::read_to_string(tatoeba.join("tatoeba.ell-eng.ell")).expect("Greek sentences");
    for line in greek.lines().take(200) {
        assert_eq!(
            pieces(&full_tok, line, Prefix::Query),
            pieces(&small_tok, line, Prefix::Query),
            "{line}"
        );
    }

    let out = dir.join("model-en-el-prior");
    ok(xling(&[
        "prune",
        "--model",
        &full,
        "--out",
        out.to_str().expect("utf-8 path"),
        "--languages",
        "en,el",
        "--max-pieces",
        "30000",
        "--prior-data",
        tatoeba_s,
    ]));
    let parent = xling_index::LanguagePrior::read_model_dir(&setup.model_dir)
        .expect("parent prior reads")
        .expect("parent prior");
    let prior = xling_index::LanguagePrior::read_model_dir(&out)
        .expect("pruned prior reads")
        .expect("pruned prior");
    let codes: Vec<&str> = prior.languages().iter().map(|l| l.code.as_str()).collect();
    assert_eq!(codes.len(), 2, "{codes:?}");
    assert!(codes.contains(&"en") && codes.contains(&"el"), "{codes:?}");
    // Greek keeps all its pieces at this size (so its means come out equal);
    // English loses some, so its means move a little.
    let mut moved = Vec::new();
    for lang in prior.languages() {
        let old = parent
            .languages()
            .iter()
            .find(|l| l.code == lang.code)
            .expect("parent has the language");
        let dot: f32 = old
            .passage_mean
            .iter()
            .zip(&lang.passage_mean)
            .map(|(a, b)| a * b)
            .sum();
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let cos = dot / (norm(&old.passage_mean) * norm(&lang.passage_mean));
        assert!(cos > 0.9, "{}: {cos}", lang.code);
        if old.passage_mean != lang.passage_mean {
            moved.push(lang.code.clone());
        }
    }
    assert_eq!(moved, ["en"], "recomputed, not copied");

    // Five languages by default: 20,000 pieces each.
    let out5 = dir.join("model-5");
    let report = ok(xling(&[
        "prune",
        "--model",
        &full,
        "--out",
        out5.to_str().expect("utf-8 path"),
        "--languages",
        "en,fr,ar,sw,hi",
    ]));
    assert!(report.contains("kept 100000 of 250002 pieces"), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}
