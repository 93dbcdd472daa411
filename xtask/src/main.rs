//! Project automation, following the cargo-xtask convention:
//! `cargo xtask up`, `cargo xtask test`, `cargo xtask bench`.

mod memory;
mod setup;
mod site;
mod util;
mod web;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};

use setup::{data_dir, setup, Setup};
use util::{cargo, run, say, workspace_root};

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  up [--no-serve] [--port N] [--cli-demo]
                       set up wheels, CLI, model, web tools; build the web app and
                       serve it at http://127.0.0.1:8080 (Ctrl-C stops)
  test [-- ARGS...]    setup, fmt, clippy, tests (ARGS go to `cargo test`), web build,
                       package and end-to-end browser tests, bench smoke run
  bench [ARGS...]      setup, then `xling bench encode` (ARGS are appended)
  bench web [ARGS...]  the browser benchmark against native xling (tests/bench/browser.mjs)
  site                 builds the small XQuAD-R test site the browser tests search
                       and serves it at http://127.0.0.1:8081/search-en.html
  bench site [--languages CODES] [--articles N] [--queries N] [--keep-cache]
                       xling site against Pagefind 1.6.0 on the XQuAD-R test site,
                       in Chromium, in one run (tests/bench/site.mjs)
  bench memory [--sentences N] [--index-sentences N]
                       native peak RSS of xling embed/index/search (ru_maxrss) and the
                       engine's memory breakdown (xling bench memory); no browser";

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
        Some("bench") if args.first().is_some_and(|a| a == "web") => {
            bench_web(&root, strip_separator(args[1..].to_vec()))
        }
        Some("site") => {
            let data = data_dir(&root)?;
            let s = setup(&root)?;
            web::build(&s, &data)?;
            let dir = test_site(&s, &data)?;
            let addr = xling_serve::Server::new(&dir)?.start(("127.0.0.1", 8081))?;
            say(format_args!(
                "the test site at http://{addr}/search-en.html (Ctrl-C stops)"
            ));
            loop {
                std::thread::park();
            }
        }
        Some("bench") if args.first().is_some_and(|a| a == "site") => {
            bench_site(&root, strip_separator(args[1..].to_vec()))
        }
        Some("bench") if args.first().is_some_and(|a| a == "memory") => {
            let data = data_dir(&root)?;
            let s = setup(&root)?;
            say("step: bench memory");
            memory::bench_memory(&s, &data, &strip_separator(args[1..].to_vec()))
        }
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

/// `cargo xtask up`: setup, the web app, then serve it.
fn up(root: &Path, args: &[OsString]) -> Result<()> {
    let mut serve = true;
    let mut cli_demo = false;
    let mut port = 8080;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--no-serve") => serve = false,
            Some("--cli-demo") => cli_demo = true,
            Some("--port") => {
                port = args
                    .next()
                    .and_then(|p| p.to_str())
                    .and_then(|p| p.parse().ok())
                    .context("--port needs a port number")?
            }
            _ => bail!("unknown argument {arg:?} for `up`\n{USAGE}"),
        }
    }
    // Check the data first so a missing directory fails before minutes of setup.
    let data = data_dir(root)?;
    let s = setup(root)?;
    if cli_demo {
        say("step: xquad demo (CLI)");
        run(cargo()
            .current_dir(root)
            .args([
                "run",
                "--release",
                "-p",
                "xling-model",
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
    let web = web::build(&s, &data)?;
    if !serve {
        say("up: done");
        return Ok(());
    }
    let addr = xling_serve::Server::new(&web.dist)?
        .with_app_policy()
        .start(("127.0.0.1", port))?;
    say("up: done");
    println!("\nxling is running at http://{addr}/  (Ctrl-C stops the server)\n");
    loop {
        std::thread::park();
    }
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
    // The browser package, with the core and the GPU encoder, as they are
    // built for the browser.
    step("wasm32 clippy", || {
        run(cargo().current_dir(root).args([
            "clippy",
            "-p",
            "xling-wasm",
            "-p",
            "xling-gpu",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ]))
        .context("xling-wasm or xling-gpu does not build cleanly for wasm32-unknown-unknown")
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
    let web = step("web build", || web::build(&s, &data))?;
    let pruned = step("pruned model", || pruned_test_model(&s))?;
    let site = step("test site", || test_site(&s, &data))?;
    step("browser tests", || {
        let addr = xling_serve::Server::new(&web.dist)?
            .with_app_policy()
            .start(("127.0.0.1", 0))?;
        let site_addr = xling_serve::Server::new(&site)?.start(("127.0.0.1", 0))?;
        let mut cmd = Command::new("node");
        cmd.current_dir(root.join("tests"))
            .args(["--test", "--test-concurrency=1", "pkg/", "e2e/"])
            .env("XLING_APP_URL", format!("http://{addr}/"))
            .env("XLING_DIST_DIR", &web.dist)
            .env("XLING_PRUNED_MODEL_DIR", &pruned)
            .env("XLING_MODEL_DIR", &s.model_dir)
            .env("XLING_PKG_DIR", &web.pkg)
            .env("XLING_DATA_DIR", &data)
            .env("XLING_SITE_URL", format!("http://{site_addr}/"))
            .env("XLING_SITE_DIR", &site)
            .env("XLING_ARTIFACTS", util::target_dir(root).join("e2e"));
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

/// A small XQuAD-R site (4 articles in English, German and Hindi, and a
/// page of hostile text) built by `xling site`, which the browser tests
/// search.
fn test_site(s: &Setup, data: &Path) -> Result<PathBuf> {
    let dir = s.cache.join("test-site");
    site::generate(
        data,
        &dir,
        &site::SiteSpec {
            languages: &["en", "de", "hi"],
            articles: 4,
            hostile: true,
        },
    )?;
    run(Command::new(&s.xling)
        .arg("site")
        .arg("--site")
        .arg(&dir)
        .arg("--model")
        .arg(&s.model_dir)
        .arg("--engine")
        .arg(s.root.join("pkg")))?;
    Ok(dir)
}

/// The model pruned to German and English (`xling prune`, about a second),
/// which the browser tests load in the package and the app.
fn pruned_test_model(s: &Setup) -> Result<PathBuf> {
    let out = s.cache.join("models").join("pruned-en-de");
    run(Command::new(&s.xling)
        .arg("prune")
        .arg("--model")
        .arg(&s.model_dir)
        .arg("--out")
        .arg(&out)
        .args(["--languages", "en,de"]))?;
    Ok(out)
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

/// `cargo xtask bench web`: the app in headless Chromium against native
/// `xling` on the same texts, in one run (`tests/bench/browser.mjs`).
fn bench_web(root: &Path, extra: Vec<OsString>) -> Result<()> {
    let data = data_dir(root)?;
    let s = setup(root)?;
    let web = web::build(&s, &data)?;
    let addr = xling_serve::Server::new(&web.dist)?
        .with_app_policy()
        .start(("127.0.0.1", 0))?;
    let json = util::target_dir(root).join("bench-web.json");
    say("step: bench web");
    run(Command::new("node")
        .current_dir(root.join("tests"))
        .arg("bench/browser.mjs")
        .args(&extra)
        .env("XLING_APP_URL", format!("http://{addr}/"))
        .env("XLING_BIN", &s.xling)
        .env("XLING_MODEL_DIR", &s.model_dir)
        .env("XLING_DATA_DIR", &data)
        .env("XLING_BENCH_JSON", &json))?;
    say(format_args!("bench web: results in {}", json.display()));
    Ok(())
}

/// `cargo xtask bench site`: the XQuAD-R test site built by `xling site`
/// and by Pagefind, then both searched in Chromium (`tests/bench/site.mjs`).
fn bench_site(root: &Path, extra: Vec<OsString>) -> Result<()> {
    let data = data_dir(root)?;
    let s = setup(root)?;
    web::build(&s, &data)?;
    let mut languages: Vec<String> = site::LANGUAGES.iter().map(|l| l.to_string()).collect();
    let mut articles = 48;
    let mut keep_cache = false;
    let mut node_args = Vec::new();
    let mut it = extra.into_iter();
    while let Some(a) = it.next() {
        match a.to_str() {
            Some("--languages") => {
                let v = it.next().context("--languages needs codes")?;
                languages = v.to_string_lossy().split(',').map(str::to_string).collect();
            }
            Some("--keep-cache") => keep_cache = true,
            Some("--articles") => {
                articles = it
                    .next()
                    .context("--articles needs N")?
                    .to_string_lossy()
                    .parse()?;
            }
            _ => node_args.push(a),
        }
    }
    let langs: Vec<&str> = languages.iter().map(String::as_str).collect();
    let work = util::target_dir(root).join("bench-site");
    let dir = work.join("site");
    say("step: test site");
    let pages = site::generate(
        &data,
        &dir,
        &site::SiteSpec {
            languages: &langs,
            articles,
            hostile: false,
        },
    )?;
    say(format_args!(
        "bench site: {pages} pages in {}",
        dir.display()
    ));
    let cache = work.join("embedding-cache");
    if keep_cache {
        say("bench site: --keep-cache: the first build reuses earlier embeddings");
    } else {
        let _ = std::fs::remove_dir_all(&cache);
    }
    let xling_site = |what: &str| -> Result<f64> {
        say(format_args!("step: xling site ({what})"));
        let start = std::time::Instant::now();
        run(Command::new(&s.xling)
            .arg("site")
            .arg("--site")
            .arg(&dir)
            .arg("--model")
            .arg(&s.model_dir)
            .arg("--cache")
            .arg(&cache)
            .arg("--engine")
            .arg(root.join("pkg")))?;
        Ok(start.elapsed().as_secs_f64())
    };
    let cold = xling_site("embeddings computed")?;
    let warm = xling_site("embeddings from the cache")?;
    say("step: pagefind");
    let pagefind = root.join("tests/node_modules/@pagefind/linux-x64/bin/pagefind_extended");
    let start = std::time::Instant::now();
    run(Command::new(&pagefind).arg("--site").arg(&dir))
        .context("Pagefind did not run (tests/node_modules: npm ci in tests/)")?;
    let pagefind_s = start.elapsed().as_secs_f64();
    let addr = xling_serve::Server::new(&dir)?.start(("127.0.0.1", 0))?;
    let json = util::target_dir(root).join("bench-site.json");
    say("step: bench site (chromium)");
    run(Command::new("node")
        .current_dir(root.join("tests"))
        .arg("bench/site.mjs")
        .args(&node_args)
        .env("XLING_SITE_URL", format!("http://{addr}/"))
        .env("XLING_SITE_DIR", &dir)
        .env("XLING_SITE_PAGES", pages.to_string())
        .env(
            "XLING_BUILD_SECONDS",
            format!("{cold:.2},{warm:.2},{pagefind_s:.2}"),
        )
        .env("XLING_BENCH_JSON", &json))?;
    say(format_args!("bench site: results in {}", json.display()));
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
