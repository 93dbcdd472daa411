//! Project automation, following the cargo-xtask convention:
//! `cargo xtask up`, `cargo xtask test`, `cargo xtask bench`.

mod setup;
mod util;

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};

use setup::{data_dir, setup, Setup};
use util::{cargo, run, say, workspace_root};

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  up [--no-demo]       set up wheels, CLI and model, then run the XQuAD demo
  test [-- ARGS...]    setup, fmt, clippy, tests (ARGS go to `cargo test`), bench smoke run
  bench [ARGS...]      setup, then `xling bench encode` (ARGS are appended)";

fn main() -> ExitCode {
    match try_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Dispatches on the first argument; the rest belongs to the subcommand.
fn try_main() -> Result<()> {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.is_empty() {
        println!("{USAGE}");
        return Ok(());
    }
    let command = args.remove(0);
    let root = workspace_root()?;
    match command.to_str() {
        Some("up") => up(&root, &args),
        Some("test") => test(&root, strip_separator(args)),
        Some("bench") => bench(&root, strip_separator(args)),
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => bail!("unknown command {command:?}\n{USAGE}"),
    }
}

/// Drops one leading `--`, so both `cargo xtask test -- foo` and
/// `cargo xtask test foo` pass `foo` on.
fn strip_separator(mut args: Vec<OsString>) -> Vec<OsString> {
    if args.first().is_some_and(|a| a == "--") {
        args.remove(0);
    }
    args
}

/// `cargo xtask up`: setup, then the demo unless `--no-demo`.
fn up(root: &Path, args: &[OsString]) -> Result<()> {
    let mut demo = true;
    for arg in args {
        match arg.to_str() {
            Some("--no-demo") => demo = false,
            _ => bail!("unknown argument {arg:?} for `up`\n{USAGE}"),
        }
    }
    // Check the data first so a missing directory fails before minutes of setup.
    let data = if demo { Some(data_dir(root)?) } else { None };
    let s = setup(root)?;
    if let Some(data) = data {
        say("step: xquad demo");
        run(cargo()
            .current_dir(root)
            .args([
                "run",
                "--release",
                "-p",
                "xling-core",
                "--example",
                "xquad_demo",
                "--",
            ])
            .arg("--model")
            .arg(&s.model_dir)
            .arg("--data")
            .arg(data.join("xquad-r")))
        .context("the xquad demo failed")?;
    }
    say("up: done");
    Ok(())
}

/// `cargo xtask test`: every check, in order, stopping at the first failure
/// and naming it.
fn test(root: &Path, test_args: Vec<OsString>) -> Result<()> {
    let data = data_dir(root)?;
    let s = step("setup", || setup(root))?;
    step("fmt", || {
        run(cargo().current_dir(root).args(["fmt", "--all", "--check"]))
            .context("formatting differs; run `cargo fmt --all`")
    })?;
    step("clippy", || {
        run(cargo().current_dir(root).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    // The browser package (issue 6) needs the core to build for wasm32.
    step("wasm32 check", || {
        run(cargo().current_dir(root).args([
            "check",
            "-p",
            "xling-core",
            "--target",
            "wasm32-unknown-unknown",
        ]))
        .context("xling-core no longer builds for wasm32-unknown-unknown")
    })?;
    step("test", || {
        let mut cmd = cargo();
        cmd.current_dir(root)
            .args(["test", "--workspace", "--release"])
            .args(&test_args)
            .env("XLING_REQUIRE_MODEL", "1")
            .env("XLING_MODEL_DIR", &s.model_dir)
            .env("XLING_REFERENCE_ENGINE", &s.engine)
            .env("XLING_REFERENCE_MODEL", &s.e5_bin)
            .env("XLING_DATA_DIR", &data);
        run(&mut cmd)
    })?;
    step("bench smoke", || {
        let mut cmd = bench_command(&s, &data);
        cmd.arg("--quick")
            .arg("--json")
            .arg(s.cache.join("bench-smoke.json"));
        run(&mut cmd)?;
        let mut cmd = Command::new(&s.xling);
        cmd.current_dir(&s.root)
            .args(["bench", "index", "--quick", "--json"])
            .arg(s.cache.join("bench-index-smoke.json"));
        run(&mut cmd)
    })?;
    say("test: all steps passed");
    Ok(())
}

/// `cargo xtask bench`: setup, then the full encoder benchmark.
fn bench(root: &Path, extra: Vec<OsString>) -> Result<()> {
    let data = data_dir(root)?;
    let s = setup(root)?;
    say("step: bench encode");
    let json = util::target_dir(root).join("bench-encode.json");
    let mut cmd = bench_command(&s, &data);
    cmd.arg("--json").arg(&json).args(&extra);
    run(&mut cmd)?;
    say(format_args!("bench: results in {}", json.display()));
    Ok(())
}

/// `xling bench encode` with the model, reference engine and data wired in.
fn bench_command(s: &Setup, data: &Path) -> Command {
    let mut cmd = Command::new(&s.xling);
    cmd.current_dir(&s.root)
        .args(["bench", "encode", "--model"])
        .arg(&s.model_dir)
        .arg("--reference")
        .arg(&s.engine)
        .arg("--reference-model")
        .arg(&s.e5_bin)
        .arg("--data")
        .arg(data);
    cmd
}

/// Runs one named step of `test`, announcing it and labelling its error so
/// the output says which step stopped the run.
fn step<T>(name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    say(format_args!("== {name} =="));
    f().with_context(|| format!("step `{name}` failed"))
}
