//! `xling demo-collection`: the web app's multilingual demo, made from
//! XQuAD-R (the same 240 Wikipedia paragraphs in 11 languages).
//!
//! Writes, into `--out`:
//! - `xquad-r.json`: every paragraph of every language, as documents
//!   `{id, title, text, lang}` (ids `<lang>-<paragraph>`);
//! - `xquad-r-sample.json`: the first `--sample` paragraphs of each language;
//! - `xquad-r-questions.json`: the questions about the sample paragraphs,
//!   `{lang, question, paragraph}` (the paragraph number in every language),
//!   for tests and benchmarks.
//!
//! The data is read from `../shared/data` at build time and copied into the
//! served app only; it is never committed.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::fsutil::write_atomic;

#[derive(clap::Args)]
pub struct Args {
    /// The XQuAD-R directory (one `<lang>.json` per language).
    #[arg(long)]
    data: PathBuf,
    /// Where to write the JSON files.
    #[arg(long)]
    out: PathBuf,
    /// Paragraphs per language in the sample.
    #[arg(long, default_value_t = 20)]
    sample: usize,
}

#[derive(Deserialize)]
struct SquadFile {
    data: Vec<Article>,
}

#[derive(Deserialize)]
struct Article {
    title: String,
    paragraphs: Vec<Paragraph>,
}

#[derive(Deserialize)]
struct Paragraph {
    context: String,
    qas: Vec<Qa>,
}

#[derive(Deserialize)]
struct Qa {
    question: String,
}

#[derive(Serialize)]
struct DemoDocument<'a> {
    id: String,
    title: String,
    text: &'a str,
    lang: &'a str,
}

#[derive(Serialize)]
struct DemoQuestion<'a> {
    lang: &'a str,
    question: &'a str,
    paragraph: usize,
}

pub fn run(args: Args) -> Result<()> {
    let mut languages = Vec::new();
    for entry in fs::read_dir(&args.data)
        .with_context(|| format!("cannot read the XQuAD-R directory {}", args.data.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            if let Some(lang) = path.file_stem().and_then(|s| s.to_str()) {
                languages.push((lang.to_owned(), path.clone()));
            }
        }
    }
    languages.sort();
    if languages.is_empty() {
        bail!("no <lang>.json files in {}", args.data.display());
    }
    let files: Vec<(String, SquadFile)> = languages
        .into_iter()
        .map(|(lang, path)| Ok((lang, read(&path)?)))
        .collect::<Result<_>>()?;

    let mut all = Vec::new();
    let mut sample = Vec::new();
    let mut questions = Vec::new();
    for (lang, file) in &files {
        let paragraphs = file
            .data
            .iter()
            .flat_map(|a| a.paragraphs.iter().map(move |p| (a.title.as_str(), p)));
        for (n, (title, paragraph)) in paragraphs.enumerate() {
            let doc = DemoDocument {
                id: format!("{lang}-{n}"),
                title: format!("{} · {n}", title.replace('_', " ")),
                text: &paragraph.context,
                lang,
            };
            if n < args.sample {
                sample.push(DemoDocument {
                    id: doc.id.clone(),
                    title: doc.title.clone(),
                    ..doc
                });
                questions.extend(paragraph.qas.iter().map(|q| DemoQuestion {
                    lang,
                    question: &q.question,
                    paragraph: n,
                }));
            }
            all.push(doc);
        }
    }
    fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    write_json(&args.out.join("xquad-r.json"), &all)?;
    write_json(&args.out.join("xquad-r-sample.json"), &sample)?;
    write_json(&args.out.join("xquad-r-questions.json"), &questions)?;
    println!(
        "demo collection: {} documents ({} in the sample, {} questions) in {}",
        all.len(),
        sample.len(),
        questions.len(),
        args.out.display()
    );
    Ok(())
}

fn read(path: &Path) -> Result<SquadFile> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not an XQuAD-R (SQuAD layout) file", path.display()))
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec(value)?;
    write_atomic(path, &bytes).with_context(|| format!("cannot write {}", path.display()))
}
