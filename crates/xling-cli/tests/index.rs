//! `xling index / search / delete / eval` on the real model with small slices
//! of the shared data: what a user sees, end to end.

mod support;

use support::xling;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "xling failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn failed(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "expected a failure: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    support::temp_dir("index", name)
}

struct Fixture {
    model: String,
    dir: PathBuf,
    index: String,
}

/// The first 8 XQuAD-R paragraphs in English, German, Arabic and Chinese as a
/// JSON-lines corpus (ids like `de-3`), indexed once.
fn fixture(name: &str) -> Option<Fixture> {
    let setup = support::real_setup(name)?;
    let dir = temp_dir(name);
    let mut lines = String::new();
    for lang in ["en", "de", "ar", "zh"] {
        let bytes = std::fs::read(setup.data_dir.join(format!("xquad-r/{lang}.json")))
            .expect("xquad-r data");
        let data = xling_eval::datasets::parse_xquad(lang, &bytes).expect("parses");
        for (p, sentences) in data.paragraphs.iter().take(8).enumerate() {
            let doc = serde_json::json!({"id": format!("{lang}-{p}"), "text": sentences.join(" "), "lang": lang, "title": format!("Paragraph {p} ({lang})")});
            lines.push_str(&doc.to_string());
            lines.push('\n');
        }
    }
    let corpus = dir.join("corpus.jsonl");
    std::fs::write(&corpus, lines).expect("write corpus");
    let model = setup.model_dir.to_string_lossy().into_owned();
    let index = dir.join("test.xling").to_string_lossy().into_owned();
    ok(xling(&[
        "index",
        "--model",
        &model,
        "--out",
        &index,
        corpus.to_str().expect("utf-8 path"),
    ]));
    Some(Fixture { model, dir, index })
}

fn search_json(f: &Fixture, extra: &[&str], query: &str) -> serde_json::Value {
    let mut args = vec!["search", "--model", &f.model, "--index", &f.index, "--json"];
    args.extend_from_slice(extra);
    args.push(query);
    serde_json::from_str(&ok(xling(&args))).expect("search --json prints JSON")
}

fn top_ids(v: &serde_json::Value, n: usize) -> Vec<String> {
    v["results"]
        .as_array()
        .expect("results")
        .iter()
        .take(n)
        .map(|r| r["id"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn cross_lingual_search_finds_the_paragraph_in_every_mode_and_language() {
    let Some(f) = fixture("crosslingual") else {
        return;
    };
    // Questions in four languages about paragraph 0 of XQuAD-R (the Super Bowl 50 article).
    let queries = [
        "Which NFL team represented the AFC at Super Bowl 50?",
        "Welches Team vertrat die AFC beim Super Bowl 50?",
        "ما هو الفريق الذي مثل AFC في سوبر بول 50؟",
        "哪支球队代表亚足联参加了超级碗50？",
    ];
    for query in queries {
        for mode in ["hybrid", "dense"] {
            let out = search_json(&f, &["--mode", mode, "-k", "8"], query);
            let ids = top_ids(&out, 8);
            assert!(
                ids.iter().any(|id| id.ends_with("-0")),
                "{mode} {query}: {ids:?}"
            );
            let first = &out["results"][0];
            assert!(first["passage"].as_str().is_some_and(|p| !p.is_empty()));
            assert!(first["sentence"].as_str().is_some_and(|s| !s.is_empty()));
        }
    }
    // Keyword mode finds exact names in the same script.
    let out = search_json(&f, &["--mode", "lexical", "-k", "4"], "Denver Broncos");
    let results = out["results"].as_array().expect("results");
    assert!(!results.is_empty());
    for r in results {
        let passage = r["passage"].as_str().unwrap_or("");
        assert!(
            passage.contains("Broncos") || passage.contains("Denver"),
            "{passage}"
        );
    }
    // The table shows ranks, languages and the highlighted sentence.
    let table = ok(xling(&[
        "search",
        "--model",
        &f.model,
        "--index",
        &f.index,
        "-k",
        "3",
        "Super Bowl 50",
    ]));
    assert!(
        table.contains("rank") && table.contains('«') && table.contains("3 results"),
        "{table}"
    );
    let _ = std::fs::remove_dir_all(&f.dir);
}

#[test]
fn delete_append_and_crash_safety() {
    let Some(f) = fixture("edit") else { return };
    let query = "Which NFL team represented the AFC at Super Bowl 50?";
    assert!(top_ids(&search_json(&f, &["-k", "40"], query), 40).contains(&"en-0".to_string()));
    ok(xling(&[
        "delete", "--model", &f.model, "--index", &f.index, "en-0", "de-0",
    ]));
    let ids = top_ids(&search_json(&f, &["-k", "40"], query), 40);
    assert!(
        !ids.contains(&"en-0".to_string()) && !ids.contains(&"de-0".to_string()),
        "{ids:?}"
    );
    assert_eq!(ids.len(), 30);
    // Unknown ids: error, nothing deleted.
    let err = failed(&xling(&[
        "delete", "--model", &f.model, "--index", &f.index, "en-1", "nope",
    ]));
    assert!(err.contains("nope"), "{err}");
    assert_eq!(
        top_ids(&search_json(&f, &["-k", "40"], query), 40).len(),
        30
    );

    // Append a document; a duplicate id is refused.
    let extra = f.dir.join("extra.jsonl");
    std::fs::write(&extra, r#"{"id":"note","text":"The Denver Broncos won Super Bowl 50 in February 2016.","lang":"en"}"#).expect("write");
    let extra = extra.to_str().expect("utf-8");
    ok(xling(&[
        "index", "--model", &f.model, "--out", &f.index, "--append", extra,
    ]));
    assert!(top_ids(&search_json(&f, &["-k", "5"], query), 5).contains(&"note".to_string()));
    let err = failed(&xling(&[
        "index", "--model", &f.model, "--out", &f.index, "--append", extra,
    ]));
    assert!(err.contains("already in the index"), "{err}");

    // A crash while saving leaves the previous index intact and loadable.
    let before = std::fs::read(&f.index).expect("index");
    let more = f.dir.join("more.jsonl");
    std::fs::write(
        &more,
        r#"{"id":"more","text":"Another short note about football."}"#,
    )
    .expect("write");
    let crashed = Command::new(env!("CARGO_BIN_EXE_xling"))
        .args([
            "index",
            "--model",
            &f.model,
            "--out",
            &f.index,
            "--append",
            more.to_str().expect("utf-8"),
        ])
        .env("XLING_TEST_CRASH_AFTER_BYTES", "1000")
        .output()
        .expect("runs");
    assert!(
        !crashed.status.success(),
        "the fault injection did not fire"
    );
    assert!(
        std::fs::read(&f.index).expect("index") == before,
        "the index file changed"
    );
    assert!(top_ids(&search_json(&f, &["-k", "5"], query), 5).contains(&"note".to_string()));
    let _ = std::fs::remove_dir_all(&f.dir);
}

#[test]
fn bad_inputs_give_clear_errors() {
    let Some(f) = fixture("bad") else { return };
    bad_queries(&f);
    bad_index_files(&f);
    bad_documents(&f);
    let _ = std::fs::remove_dir_all(&f.dir);
}

/// Empty and over-long queries.
fn bad_queries(f: &Fixture) {
    let m = f.model.as_str();
    for q in ["", "   "] {
        let err = failed(&xling(&["search", "--model", m, "--index", &f.index, q]));
        assert!(err.contains("empty"), "{err}");
    }
    let long = "word ".repeat(2000);
    let err = failed(&xling(&[
        "search", "--model", m, "--index", &f.index, &long,
    ]));
    assert!(err.contains("tokens"), "{err}");
}

/// Corrupted, truncated and foreign index files.
fn bad_index_files(f: &Fixture) {
    let m = f.model.as_str();
    let bytes = std::fs::read(&f.index).expect("index");
    for (name, bad) in [
        ("flipped", {
            let mut b = bytes.clone();
            let at = b.len() / 2;
            b[at] ^= 0x10;
            b
        }),
        ("truncated", bytes[..bytes.len() / 3].to_vec()),
        ("foreign", b"not an index at all".to_vec()),
    ] {
        let path = f.dir.join(name);
        std::fs::write(&path, bad).expect("write");
        let err = failed(&xling(&[
            "search",
            "--model",
            m,
            "--index",
            path.to_str().expect("utf-8"),
            "query",
        ]));
        assert!(err.contains("index file"), "{name}: {err}");
    }
}

/// Empty corpus, duplicate ids, non-UTF-8 and unparseable inputs.
fn bad_documents(f: &Fixture) {
    let m = f.model.as_str();
    let out = f.dir.join("new.xling");
    let out = out.to_str().expect("utf-8");
    let cases: [(&str, &[u8], &str); 4] = [
        ("empty.jsonl", b"\n\n", "no documents"),
        (
            "dup.jsonl",
            b"{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"a\",\"text\":\"y\"}\n",
            "\"a\"",
        ),
        (
            "latin1.jsonl",
            b"{\"id\":\"a\",\"text\":\"caf\xe9\"}\n",
            "UTF-8",
        ),
        (
            "broken.jsonl",
            b"{\"id\":\"a\",\"text\":\n",
            "broken.jsonl:1",
        ),
    ];
    for (name, content, expected) in cases {
        let path = f.dir.join(name);
        std::fs::write(&path, content).expect("write");
        let err = failed(&xling(&[
            "index",
            "--model",
            m,
            "--out",
            out,
            path.to_str().expect("utf-8"),
        ]));
        assert!(err.contains(expected), "{name}: {err}");
        assert!(
            !Path::new(out).exists(),
            "{name}: a failed index run wrote a file"
        );
    }
}

/// `xling eval xquad-r`: mAP keys in [0, 1], and a plot.
#[test]
fn eval_xquad_writes_the_documented_metric_keys() {
    let Some(setup) = support::real_setup("eval-xquad") else {
        return;
    };
    let dir = temp_dir("eval-xquad");
    let model = setup.model_dir.to_string_lossy().into_owned();
    let cache = dir.join("cache");
    let cache = cache.to_str().expect("utf-8");
    let data = setup.data_dir.to_string_lossy().into_owned();
    let read_json = |p: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).expect("json written")).expect("valid JSON")
    };

    let json = dir.join("xquad.json");
    let svg = dir.join("xquad.svg");
    ok(xling(&[
        "eval",
        "xquad-r",
        "--model",
        &model,
        "--data",
        &format!("{data}/xquad-r"),
        "--languages",
        "en,de,zh",
        "--limit",
        "3",
        "--cache",
        cache,
        "--json",
        json.to_str().expect("utf-8"),
        "--plot",
        svg.to_str().expect("utf-8"),
    ]));
    let v = read_json(&json);
    for key in ["map_xy", "map_xx", "map_en_en"] {
        let x = v[key].as_f64().unwrap_or(-1.0);
        assert!((0.0..=1.0).contains(&x), "{key} = {x}");
    }
    // Three paragraphs per language: monolingual retrieval must work well.
    assert!(v["map_en_en"].as_f64().unwrap_or(0.0) > 0.6, "{v}");
    assert!(std::fs::read_to_string(&svg)
        .expect("svg")
        .starts_with("<svg"));

    let _ = std::fs::remove_dir_all(&dir);
}

/// `xling eval tatoeba`: accuracy overall and per language.
#[test]
fn eval_tatoeba_writes_the_documented_metric_keys() {
    let Some(setup) = support::real_setup("eval-tatoeba") else {
        return;
    };
    let dir = temp_dir("eval-tatoeba");
    let model = setup.model_dir.to_string_lossy().into_owned();
    let cache = dir.join("cache");
    let cache = cache.to_str().expect("utf-8");
    let data = setup.data_dir.to_string_lossy().into_owned();
    let read_json = |p: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).expect("json written")).expect("valid JSON")
    };

    let json = dir.join("tatoeba.json");
    ok(xling(&[
        "eval",
        "tatoeba",
        "--model",
        &model,
        "--data",
        &format!("{data}/tatoeba"),
        "--languages",
        "deu,swh",
        "--limit",
        "40",
        "--mode",
        "dense",
        "--cache",
        cache,
        "--json",
        json.to_str().expect("utf-8"),
    ]));
    let v = read_json(&json);
    assert!(v["accuracy"].as_f64().unwrap_or(0.0) > 0.5, "{v}");
    assert!(
        v["per_language"]["deu"]["accuracy"].as_f64().unwrap_or(0.0) > 0.8,
        "{v}"
    );

    let _ = std::fs::remove_dir_all(&dir);
}

/// `xling eval beir` on a tiny data set in the standard layout.
#[test]
fn eval_beir_writes_the_documented_metric_keys() {
    let Some(setup) = support::real_setup("eval-beir") else {
        return;
    };
    let dir = temp_dir("eval-beir");
    let model = setup.model_dir.to_string_lossy().into_owned();
    let cache = dir.join("cache");
    let cache = cache.to_str().expect("utf-8");
    let read_json = |p: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).expect("json written")).expect("valid JSON")
    };

    // A tiny BEIR dataset in the standard layout.
    let beir = dir.join("beir");
    std::fs::create_dir_all(beir.join("qrels")).expect("mkdir");
    std::fs::write(beir.join("corpus.jsonl"), concat!(
        "{\"_id\":\"d1\",\"title\":\"Paris\",\"text\":\"Paris is the capital of France.\"}\n",
        "{\"_id\":\"d2\",\"title\":\"\",\"text\":\"Bananas are rich in potassium.\"}\n",
        "{\"_id\":\"d3\",\"title\":\"Mount Everest\",\"text\":\"Everest is the highest mountain on Earth.\"}\n",
    )).expect("write");
    std::fs::write(
        beir.join("queries.jsonl"),
        concat!(
            "{\"_id\":\"q1\",\"text\":\"¿Cuál es la capital de Francia?\"}\n",
            "{\"_id\":\"q2\",\"text\":\"höchster Berg der Welt\"}\n",
        ),
    )
    .expect("write");
    std::fs::write(
        beir.join("qrels/test.tsv"),
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\n",
    )
    .expect("write");
    let json = dir.join("beir.json");
    ok(xling(&[
        "eval",
        "beir",
        "--model",
        &model,
        "--data",
        beir.to_str().expect("utf-8"),
        "--cache",
        cache,
        "--json",
        json.to_str().expect("utf-8"),
    ]));
    let v = read_json(&json);
    for key in ["ndcg@10", "recall@10", "recall@100", "mrr@10", "map"] {
        assert!(v[key].is_number(), "{key} missing: {v}");
    }
    assert_eq!(v["mrr@10"].as_f64(), Some(1.0), "{v}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn languages_of(v: &serde_json::Value, n: usize) -> Vec<String> {
    v["results"]
        .as_array()
        .expect("results")
        .iter()
        .take(n)
        .map(|r| r["lang"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn ranking_is_language_agnostic_and_the_language_switch_works() {
    let Some(f) = fixture("languages") else {
        return;
    };
    let question = "Welches Team hat den Super Bowl 50 gewonnen?";
    let k = ["-k", "8"];
    let any = search_json(&f, &k, question);
    let plain = search_json(&f, &["-k", "8", "--no-debias"], question);
    let german = |v: &serde_json::Value| languages_of(v, 4).iter().filter(|l| *l == "de").count();
    assert!(
        german(&any) < german(&plain),
        "debiased {:?} vs plain {:?}",
        top_ids(&any, 4),
        top_ids(&plain, 4)
    );
    let mut distinct = languages_of(&any, 6);
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() >= 3, "{:?}", top_ids(&any, 6));

    let same = search_json(&f, &["-k", "8", "--languages", "same"], question);
    assert!(languages_of(&same, 8).iter().all(|l| l == "de"), "{same}");
    let only = search_json(&f, &["-k", "8", "--languages", "ar,zh"], question);
    let langs = languages_of(&only, 8);
    assert_eq!(langs.len(), 8);
    assert!(langs.iter().all(|l| l == "ar" || l == "zh"), "{langs:?}");
    let bad = xling(&[
        "search",
        "--model",
        &f.model,
        "--index",
        &f.index,
        "--languages",
        "German",
        question,
    ]);
    assert!(failed(&bad).contains("not a language code"));

    // Without `lang`, each passage's language is detected.
    let mut lines = String::new();
    let corpus = std::fs::read_to_string(f.dir.join("corpus.jsonl")).expect("corpus");
    for line in corpus.lines() {
        let mut doc: serde_json::Value = serde_json::from_str(line).expect("json");
        doc.as_object_mut().expect("object").remove("lang");
        lines.push_str(&doc.to_string());
        lines.push('\n');
    }
    let unlabelled = f.dir.join("unlabelled.jsonl");
    std::fs::write(&unlabelled, lines).expect("write");
    let index = f.dir.join("detected.xling").to_string_lossy().into_owned();
    ok(xling(&[
        "index",
        "--model",
        &f.model,
        "--out",
        &index,
        unlabelled.to_str().expect("utf-8 path"),
    ]));
    let out = ok(xling(&[
        "search", "--model", &f.model, "--index", &index, "--json", "-k", "32", question,
    ]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    for r in v["results"].as_array().expect("results") {
        let id = r["id"].as_str().unwrap_or("");
        let lang = r["lang"].as_str().unwrap_or("");
        assert!(
            id.starts_with(&format!("{lang}-")),
            "{id} detected as {lang}"
        );
    }
}

#[test]
fn prior_is_written_from_tatoeba_and_refuses_bad_arguments() {
    let Some(setup) = support::real_setup("prior") else {
        return;
    };
    let dir = temp_dir("prior");
    let out = dir.join("language-prior.bin");
    let model = setup.model_dir.to_string_lossy().into_owned();
    let data = setup.data_dir.join("tatoeba");
    ok(xling(&[
        "prior",
        "--model",
        &model,
        "--data",
        data.to_str().expect("utf-8 path"),
        "--sentences",
        "3",
        "--out",
        out.to_str().expect("utf-8 path"),
        "--cache",
        dir.to_str().expect("utf-8 path"),
    ]));
    let prior = xling_index::LanguagePrior::from_bytes(&std::fs::read(&out).expect("read"))
        .expect("a valid prior");
    assert!(prior.languages().len() >= 100);
    for code in ["en", "de", "zh", "sw", "ar"] {
        let l = prior.get(code).unwrap_or_else(|| panic!("{code} missing"));
        assert_eq!(l.sentences, 3);
        let norm: f32 = l.passage_mean.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!(norm > 0.5 && norm <= 1.0 + 1e-4, "{code}: {norm}");
    }
    let bad = xling(&[
        "prior",
        "--model",
        &model,
        "--data",
        "/nonexistent",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert!(failed(&bad).contains("cannot list"));
}
