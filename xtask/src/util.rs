//! Small helpers shared by every xtask command: running processes, locating
//! directories, hashing files.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

/// Prints a progress line, so every step of a long run can be followed.
pub fn say(msg: impl std::fmt::Display) {
    eprintln!("xtask: {msg}");
}

/// Runs a command to completion, echoing it first so a failure can be
/// reproduced by hand, and turns a non-zero exit into an error that carries
/// the exit code.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    say(format_args!("running {shown}"));
    let status = cmd.status().with_context(|| {
        format!("could not start {shown}; is the program installed and on PATH?")
    })?;
    if !status.success() {
        match status.code() {
            Some(code) => bail!("{shown} failed with exit code {code}"),
            None => bail!("{shown} was killed by a signal ({status})"),
        }
    }
    Ok(())
}

/// The download/extraction cache: `$XDG_CACHE_HOME/xling`, else
/// `$HOME/.cache/xling`. It lives outside the checkout so that wheels are
/// fetched once per machine, not once per clone.
pub fn cache_dir() -> Result<PathBuf> {
    if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(xdg).join("xling"));
    }
    let home = std::env::var_os("HOME").filter(|v| !v.is_empty()).context(
        "neither XDG_CACHE_HOME nor HOME is set; set one of them to choose a cache directory",
    )?;
    Ok(PathBuf::from(home).join(".cache").join("xling"))
}

/// The workspace root: the parent of this crate's manifest directory.
/// Fixed at compile time so the xtask works from any current directory.
pub fn workspace_root() -> Result<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .context("the xtask manifest directory has no parent; is xtask/ inside the workspace?")
}

/// Cargo's target directory, resolved the way cargo itself resolves it for a
/// command run in the workspace root: `CARGO_TARGET_DIR` (relative paths are
/// taken from the root), else `<root>/target`.
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// The cargo executable that launched us (cargo sets `CARGO`), so nested
/// builds use the same toolchain; falls back to `cargo` on PATH.
pub fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    Command::new(program)
}

/// SHA-256 of a file as lowercase hex. Streams the file, because model files
/// and wheels are far too large to want them in memory just to hash them.
pub fn sha256_file(path: &Path) -> Result<String> {
    let file = File::open(path).with_context(|| format!("could not open {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut BufReader::with_capacity(1 << 20, file), &mut hasher)
        .with_context(|| format!("could not read {}", path.display()))?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// True when `path` is a file whose SHA-256 is `expected`. A missing file is
/// simply "no"; an unreadable one is an error worth reporting.
pub fn has_sha256(path: &Path, expected: &str) -> Result<bool> {
    if !path.is_file() {
        return Ok(false);
    }
    Ok(sha256_file(path)? == expected)
}

/// Fails with a clear message when a file's hash differs from the pinned one:
/// a mismatch means a corrupted download or a tampered upstream artifact.
pub fn verify_sha256(path: &Path, expected: &str) -> Result<()> {
    let actual = sha256_file(path)?;
    if actual != expected {
        bail!(
            "sha256 mismatch for {}: expected {expected}, got {actual}; \
             delete the file and run `cargo xtask up` again",
            path.display()
        );
    }
    Ok(())
}

/// Installs Debian packages with apt-get (through sudo unless root).
pub fn apt_install(packages: &[&str]) -> Result<()> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    let apt = |args: &[&str]| {
        let mut cmd = if root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("apt-get");
            sudo
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    run(&mut apt(&["update"])).context("apt-get update failed")?;
    run(apt(&["install", "-y", "--no-install-recommends"]).args(packages))
        .with_context(|| format!("could not install {} with apt-get", packages.join(", ")))
}
