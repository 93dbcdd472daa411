//! `cargo xtask bench memory`: the native memory figures of the light-engine
//! targets, in about a minute and without a browser.
//!
//! Each command runs as a child process and its own peak resident set is
//! read from `wait4`'s `rusage` (`ru_maxrss`, in KiB on Linux), so nothing
//! else (this process, earlier children) is mixed in. Measured:
//! `xling embed --weights q4_0` on Tatoeba sentences (the target), the same
//! with `--device cpu`, `xling index` and `xling search` on a small input,
//! then `xling bench memory`, which prints the engine's own breakdown (where
//! every MB goes) next to its RSS. Missed targets are reported, not fatal.

use std::ffi::OsString;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::setup::Setup;
use crate::util::{run, say, target_dir};

/// The target for `xling embed --weights q4_0`, peak RSS in MB.
const EMBED_PEAK_RSS_MB_TARGET: f64 = 130.0;

/// Options of `cargo xtask bench memory`.
struct Options {
    /// Sentences embedded by `xling embed`.
    sentences: usize,
    /// Sentences indexed by `xling index` and `xling bench memory`.
    index_sentences: usize,
}

fn parse(args: &[OsString]) -> Result<Options> {
    let mut options = Options {
        sentences: 1000,
        index_sentences: 1000,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<usize> {
            args.next()
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse().ok())
                .filter(|&n| n > 0)
                .with_context(|| format!("{name} needs a positive whole number"))
        };
        match arg.to_str() {
            Some("--sentences") => options.sentences = number("--sentences")?,
            Some("--index-sentences") => options.index_sentences = number("--index-sentences")?,
            _ => bail!(
                "unknown argument {arg:?} for `bench memory` \
                 (options: --sentences N, --index-sentences N)"
            ),
        }
    }
    Ok(options)
}

/// One measured command.
struct Measured {
    label: String,
    peak_rss_mb: f64,
    target_mb: Option<f64>,
}

/// Runs `cmd` to completion (stdin from `input` if given, stdout discarded
/// unless `show`) and returns its peak RSS in MB, from `wait4`.
fn peak_rss_of(cmd: &mut Command, input: Option<&Path>, show: bool) -> Result<f64> {
    let shown = format!("{cmd:?}");
    say(format_args!("running {shown}"));
    if let Some(input) = input {
        let file = File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
        cmd.stdin(Stdio::from(file));
    }
    if !show {
        cmd.stdout(Stdio::null());
    }
    let child = cmd
        .spawn()
        .with_context(|| format!("could not start {shown}"))?;
    let pid = libc::pid_t::try_from(child.id()).context("child pid out of range")?;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is a plain C struct; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet waited for; both pointers are
    // to live locals. `child` is dropped without a second wait.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if reaped != pid {
        bail!(
            "wait4 on {shown} failed: {}",
            std::io::Error::last_os_error()
        );
    }
    drop(child);
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!("{shown} failed (wait status {status})");
    }
    // Linux reports ru_maxrss in KiB.
    Ok(usage.ru_maxrss as f64 * 1024.0 / 1e6)
}

/// `n` Tatoeba sentences, round-robin over the non-English sides of the
/// `tatoeba.<xxx>-eng.<xxx>` files in name order (the browser benchmark's rule).
fn tatoeba_sentences(data: &Path, n: usize) -> Result<Vec<String>> {
    let dir = data.join("tatoeba");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let Some(rest) = name.strip_prefix("tatoeba.") else {
                return false;
            };
            let Some((pair, side)) = rest.split_once('.') else {
                return false;
            };
            side != "eng" && pair == format!("{side}-eng")
        })
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no tatoeba.<xxx>-eng.<xxx> files in {}", dir.display());
    }
    let mut lists = Vec::new();
    for f in &files {
        let text = fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        let lines: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        lists.push(lines);
    }
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = Vec::with_capacity(n);
    'rows: for i in 0..longest {
        for list in &lists {
            if out.len() == n {
                break 'rows;
            }
            if let Some(s) = list.get(i) {
                out.push(s.clone());
            }
        }
    }
    Ok(out)
}

/// Sentences as a JSON array of `{"id","text"}` documents.
fn documents_json(sentences: &[String]) -> String {
    let mut out = String::from("[");
    for (i, s) in sentences.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("{{\"id\":\"t{i}\",\"text\":{}}}", json_string(s)));
    }
    out.push(']');
    out
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `cargo xtask bench memory`.
pub fn bench_memory(s: &Setup, data: &Path, args: &[OsString]) -> Result<()> {
    let options = parse(args)?;
    let dir = target_dir(&s.root).join("bench-memory");
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let sentences = tatoeba_sentences(data, options.sentences.max(options.index_sentences))?;
    let lines = dir.join("sentences.txt");
    // Newlines inside a sentence would split it: Tatoeba lines have none.
    fs::write(
        &lines,
        sentences[..options.sentences.min(sentences.len())].join("\n"),
    )?;
    let docs = dir.join("documents.json");
    let n_index = options.index_sentences.min(sentences.len());
    fs::write(&docs, documents_json(&sentences[..n_index]))?;
    let index_file = dir.join("index.xling");
    let model = |cmd: &mut Command| {
        cmd.arg("--model").arg(&s.model_dir);
    };

    let mut results = Vec::new();
    let n_embed = options.sentences.min(sentences.len());
    for device in [None, Some("cpu")] {
        let mut cmd = Command::new(&s.xling);
        cmd.args(["embed", "--weights", "q4_0", "--prefix", "passage"]);
        model(&mut cmd);
        let mut label = format!("xling embed --weights q4_0 ({n_embed} sentences)");
        if let Some(device) = device {
            cmd.args(["--device", device]);
            label = format!("xling embed --weights q4_0 --device {device}");
        }
        let mb = peak_rss_of(&mut cmd, Some(&lines), false)?;
        let target = device.is_none().then_some(EMBED_PEAK_RSS_MB_TARGET);
        results.push(Measured {
            label,
            peak_rss_mb: mb,
            target_mb: target,
        });
    }
    let mut cmd = Command::new(&s.xling);
    cmd.args(["index", "--weights", "q4_0", "--device", "cpu", "--out"])
        .arg(&index_file);
    model(&mut cmd);
    cmd.arg(&docs);
    results.push(Measured {
        label: format!("xling index --weights q4_0 ({n_index} sentences)"),
        peak_rss_mb: peak_rss_of(&mut cmd, None, false)?,
        target_mb: None,
    });
    let mut cmd = Command::new(&s.xling);
    cmd.args(["search", "--weights", "q4_0", "--device", "cpu", "--index"])
        .arg(&index_file);
    model(&mut cmd);
    cmd.arg("Wo ist der Bahnhof?");
    results.push(Measured {
        label: format!("xling search --weights q4_0 (index of {n_index})"),
        peak_rss_mb: peak_rss_of(&mut cmd, None, false)?,
        target_mb: None,
    });

    // The breakdown, printed by the engine itself.
    let json = target_dir(&s.root).join("bench-memory-native.json");
    let mut cmd = Command::new(&s.xling);
    cmd.args(["bench", "memory", "--weights", "q4_0", "--passages"])
        .arg(&docs)
        .arg("--json")
        .arg(&json);
    model(&mut cmd);
    run(&mut cmd)?;

    print_results(&results);
    let summary = target_dir(&s.root).join("bench-memory.json");
    fs::write(&summary, results_json(&results))?;
    say(format_args!(
        "bench memory: results in {} and {}",
        summary.display(),
        json.display()
    ));
    Ok(())
}

fn verdict(m: &Measured) -> String {
    match m.target_mb {
        Some(t) if m.peak_rss_mb <= t => format!("≤ {t:.0} MB target: met"),
        Some(t) => format!("≤ {t:.0} MB target: missed"),
        None => String::new(),
    }
}

fn print_results(results: &[Measured]) {
    println!("\nnative peak RSS (ru_maxrss of each child process)");
    let width = results.iter().map(|m| m.label.len()).max().unwrap_or(0);
    for m in results {
        println!(
            "{:<width$}   {:>7.1} MB   {}",
            m.label,
            m.peak_rss_mb,
            verdict(m)
        );
    }
}

fn results_json(results: &[Measured]) -> String {
    let rows: Vec<String> = results
        .iter()
        .map(|m| {
            let target = m.target_mb.map_or("null".to_owned(), |t| t.to_string());
            let met = m
                .target_mb
                .map_or("null".to_owned(), |t| (m.peak_rss_mb <= t).to_string());
            format!(
                "  {{\"command\": {}, \"peak_rss_mb\": {:.1}, \"target_mb\": {target}, \"met\": {met}}}",
                json_string(&m.label),
                m.peak_rss_mb
            )
        })
        .collect();
    format!(
        "{{\"benchmark\": \"memory\", \"native\": [\n{}\n]}}\n",
        rows.join(",\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\u{1}é"), "\"a\\\"b\\\\c\\u0001é\"");
        assert_eq!(
            documents_json(&["x".into(), "y".into()]),
            "[{\"id\":\"t0\",\"text\":\"x\"},{\"id\":\"t1\",\"text\":\"y\"}]"
        );
    }

    #[test]
    fn peak_rss_of_a_child_is_measured() -> Result<()> {
        // dd fills one 64 MiB buffer: its peak is at least that, a bare
        // `true` far less.
        let mut dd = Command::new("dd");
        dd.args(["if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"])
            .stderr(Stdio::null());
        let big = peak_rss_of(&mut dd, None, false)?;
        assert!(big >= 67.0, "{big} MB");
        let small = peak_rss_of(&mut Command::new("true"), None, false)?;
        assert!(small > 0.0 && small < 16.0, "{small} MB");
        Ok(())
    }
}
