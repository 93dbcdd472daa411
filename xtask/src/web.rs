//! The browser side of setup: web tools (installed once, never downloaded at
//! build time), the app's generated assets (model copy, demo collection), the
//! Trunk build of `web/`, the `pkg/` package, and a static server for
//! `web/dist` on 127.0.0.1.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::setup::Setup;
use crate::util::{apt_install, cargo, run, say, target_dir};

/// Pinned by DESIGN §6: 0.22 needs a newer rustc; `--locked` avoids a drift.
const TRUNK_VERSION: &str = "0.21.14";
/// Files of the model directory that the app serves: the compact tokenizer
/// only (`tokenizer.json` is the fallback for directories without one).
const MODEL_FILES: [&str; 3] = ["model.gguf", "tokenizer.xlt", "language-prior.bin"];

/// Paths of the built app and package.
pub struct Web {
    pub dist: PathBuf,
    pub pkg: PathBuf,
}

/// Installs what the browser build and tests need, generates the assets,
/// builds the app with Trunk and the package with wasm-bindgen.
pub fn build(s: &Setup, data: &Path) -> Result<Web> {
    let root = &s.root;
    ensure_browser_and_node()?;
    ensure_wasm_bindgen(root)?;
    ensure_trunk()?;
    let node_bin = ensure_node_packages(root)?;
    generate_assets(s, data)?;
    let dist = root.join("web").join("dist");
    say("step: web app (trunk build)");
    run(Command::new("trunk")
        .current_dir(root)
        .arg("build")
        .env("PATH", path_with(&node_bin)?)
        .env("TRUNK_SKIP_VERSION_CHECK", "true")
        .env("CARGO_TARGET_DIR", target_dir(root)))
    .context("the web app did not build")?;
    let pkg = build_pkg(root, &dist)?;
    say(format_args!(
        "web app in {}, package in {}",
        dist.display(),
        pkg.display()
    ));
    Ok(Web { dist, pkg })
}

/// `PATH` with `dir` first.
fn path_with(dir: &Path) -> Result<std::ffi::OsString> {
    let mut paths = vec![dir.to_path_buf()];
    if let Some(path) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&path));
    }
    Ok(std::env::join_paths(paths)?)
}

/// The output of `program --version`, if it runs.
fn version_of(program: &str) -> Option<String> {
    let out = Command::new(program).arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Debian's chromium (the e2e tests and browser benchmark drive it) and
/// Node/npm, from apt when missing.
fn ensure_browser_and_node() -> Result<()> {
    say("step: chromium and node");
    let mut missing = Vec::new();
    if !Path::new("/usr/bin/chromium").exists() {
        missing.push("chromium");
    }
    if version_of("node").is_none() {
        missing.push("nodejs");
    }
    if version_of("npm").is_none() {
        missing.push("npm");
    }
    if missing.is_empty() {
        say("chromium, node, npm: already present");
        return Ok(());
    }
    apt_install(&missing)
}

/// wasm-bindgen-cli at exactly the version in Cargo.lock (the generated glue
/// must match the library). Installed without `--locked`: its lock file pins
/// a crate version the registry mirror lacks.
fn ensure_wasm_bindgen(root: &Path) -> Result<()> {
    let version = locked_version(root, "wasm-bindgen")?;
    say(format_args!("step: wasm-bindgen-cli {version}"));
    if version_of("wasm-bindgen").is_some_and(|v| v == format!("wasm-bindgen {version}")) {
        say("wasm-bindgen: already present");
        return Ok(());
    }
    run(cargo().args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        &version,
        "--force",
    ]))
    .context("could not install wasm-bindgen-cli")
}

fn ensure_trunk() -> Result<()> {
    say(format_args!("step: trunk {TRUNK_VERSION}"));
    if version_of("trunk").is_some_and(|v| v.ends_with(TRUNK_VERSION)) {
        say("trunk: already present");
        return Ok(());
    }
    run(cargo().args([
        "install",
        "trunk",
        "--version",
        TRUNK_VERSION,
        "--locked",
        "--force",
    ]))
    .context("could not install trunk")
}

/// A package's version in Cargo.lock.
fn locked_version(root: &Path, package: &str) -> Result<String> {
    let lock = fs::read_to_string(root.join("Cargo.lock")).context("cannot read Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{package}\"") {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_owned());
            }
        }
    }
    bail!("{package} is not in Cargo.lock")
}

/// `npm ci` in `tests/` (binaryen's wasm-opt for Trunk, playwright-core for
/// the tests) when `node_modules` is missing or older than the lock file.
fn ensure_node_packages(root: &Path) -> Result<PathBuf> {
    say("step: node packages (tests/package-lock.json)");
    let tests = root.join("tests");
    let stamp = tests.join("node_modules").join(".package-lock.json");
    let lock = tests.join("package-lock.json");
    let fresh = match (fs::metadata(&stamp), fs::metadata(&lock)) {
        (Ok(s), Ok(l)) => s.modified()? >= l.modified()?,
        _ => false,
    };
    if fresh {
        say("node packages: already present");
    } else {
        run(Command::new("npm")
            .current_dir(&tests)
            .args(["ci", "--no-audit", "--no-fund"]))
        .context("npm ci failed in tests/")?;
    }
    Ok(tests.join("node_modules").join(".bin"))
}

/// `web/generated/model` (a copy of the model directory) and
/// `web/generated/demo` (the XQuAD-R demo collection), which Trunk copies
/// into the app. Copies are skipped when size and time already match.
fn generate_assets(s: &Setup, data: &Path) -> Result<()> {
    say("step: web assets (model copy, demo collection)");
    let generated = s.root.join("web").join("generated");
    let model = generated.join("model");
    fs::create_dir_all(&model)?;
    for name in MODEL_FILES {
        copy_if_changed(&s.model_dir.join(name), &model.join(name))?;
    }
    // A copy left by an older layout (tokenizer.json) would still be served.
    for entry in fs::read_dir(&model)?.flatten() {
        let name = entry.file_name();
        if !MODEL_FILES.iter().any(|f| name == *f) && entry.path().is_file() {
            fs::remove_file(entry.path())?;
        }
    }
    let demo = generated.join("demo");
    let sample = demo.join("xquad-r-sample.json");
    if sample.is_file() && demo.join("xquad-r.json").is_file() {
        say("demo collection: already present");
    } else {
        run(Command::new(&s.xling)
            .args(["demo-collection", "--data"])
            .arg(data.join("xquad-r"))
            .arg("--out")
            .arg(&demo))?;
    }
    Ok(())
}

fn copy_if_changed(from: &Path, to: &Path) -> Result<()> {
    let source = fs::metadata(from).with_context(|| format!("{} is missing", from.display()))?;
    if let Ok(copy) = fs::metadata(to) {
        if copy.len() == source.len() && copy.modified()? >= source.modified()? {
            return Ok(());
        }
    }
    fs::copy(from, to)
        .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    Ok(())
}

/// `pkg/`: the module, glue and types Trunk just built (wasm-bindgen
/// `--target web`, wasm-opt -O3), next to the committed package.json and
/// README. Copied rather than rebuilt: one optimisation pass is a minute.
fn build_pkg(root: &Path, dist: &Path) -> Result<PathBuf> {
    say("step: pkg/");
    let pkg = root.join("pkg");
    for name in PKG_FILES {
        let from = dist.join(name);
        fs::copy(&from, pkg.join(name))
            .with_context(|| format!("cannot copy {} into pkg/", from.display()))?;
    }
    Ok(pkg)
}

/// What Trunk writes for the engine, and the package ships.
const PKG_FILES: [&str; 3] = ["xling-wasm.js", "xling-wasm_bg.wasm", "xling-wasm.d.ts"];
