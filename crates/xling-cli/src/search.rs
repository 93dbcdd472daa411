//! `xling search`: one query against an index file, as a table or JSON.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use xling_index::{FusionKind, Hit, Index, LanguageScope, SearchMode, SearchOptions};

/// Arguments of `xling search`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: crate::ModelArgs,
    /// Index file built by `xling index`.
    #[arg(long)]
    index: PathBuf,
    /// hybrid (dense + lexical), dense (semantic) or lexical (keyword).
    #[arg(long, default_value = "hybrid")]
    mode: SearchMode,
    /// Fusion used by hybrid mode: convex or rrf.
    #[arg(long, default_value = "convex")]
    fusion: FusionKind,
    /// Number of documents to return.
    #[arg(short, default_value_t = 10)]
    k: usize,
    /// Brute-force search instead of the HNSW graphs.
    #[arg(long)]
    exact: bool,
    /// any (rank by meaning whatever the language), same (the query's
    /// language first), or a comma-separated list of languages (en,de,zh).
    #[arg(long, default_value = "any")]
    languages: LanguageScope,
    /// The query's language (default: detected from its text).
    #[arg(long)]
    query_language: Option<String>,
    /// Plain cosine ranking: keep the model's preference for the query's language.
    #[arg(long)]
    no_debias: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// The query, in any language.
    query: String,
}

#[derive(serde::Serialize)]
struct JsonOutput<'a> {
    query: &'a str,
    mode: &'a str,
    milliseconds: f64,
    results: Vec<JsonHit<'a>>,
}

#[derive(serde::Serialize)]
struct JsonHit<'a> {
    rank: usize,
    #[serde(flatten)]
    hit: &'a Hit,
    sentence: &'a str,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let (embedder, model_name) = args.model.load_named()?;
    let bytes = std::fs::read(&args.index)
        .with_context(|| format!("cannot read {}", args.index.display()))?;
    let index = Index::from_bytes_for(&bytes, embedder.tokenizer()).with_context(|| {
        format!(
            "cannot load {} with model {model_name:?} ({})",
            args.index.display(),
            args.model.model.display()
        )
    })?;
    let mut options = SearchOptions {
        mode: args.mode,
        k: args.k,
        exact: args.exact,
        languages: args.languages.clone(),
        query_language: args.query_language.clone(),
        ..SearchOptions::default()
    };
    options.fusion.kind = args.fusion;
    options.debias.enabled = !args.no_debias;
    let start = Instant::now();
    let hits = index.search(&embedder, &args.query, &options)?;
    let milliseconds = start.elapsed().as_secs_f64() * 1e3;
    let sentences: Vec<&str> = hits.iter().map(sentence_of).collect();
    if args.json {
        let out = JsonOutput {
            query: &args.query,
            mode: args.mode.name(),
            milliseconds,
            results: hits
                .iter()
                .zip(&sentences)
                .enumerate()
                .map(|(i, (hit, sentence))| JsonHit {
                    rank: i + 1,
                    hit,
                    sentence,
                })
                .collect(),
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    if hits.is_empty() {
        println!("no results ({} mode, {milliseconds:.1} ms)", args.mode);
        return Ok(());
    }
    println!(
        "{:>4}  {:>6}  {:<28}  {:<8}  passage (matched sentence in «»)",
        "rank", "score", "document", "lang"
    );
    for (i, hit) in hits.iter().enumerate() {
        let name = match &hit.title {
            Some(t) => format!("{} ({})", t, hit.id),
            None => hit.id.clone(),
        };
        println!(
            "{:>4}  {:>6.3}  {:<28}  {:<8}  {}",
            i + 1,
            hit.score,
            clip(&name, 28),
            clip(&hit.lang, 8),
            snippet(hit, 160)
        );
    }
    println!(
        "{} results, {} mode, {milliseconds:.1} ms",
        hits.len(),
        args.mode
    );
    Ok(())
}

/// The matched sentence's text.
fn sentence_of(hit: &Hit) -> &str {
    let offset = hit.passage_bytes.start;
    let range = hit.sentence_bytes.start.saturating_sub(offset)
        ..hit.sentence_bytes.end.saturating_sub(offset);
    hit.passage.get(range).unwrap_or("")
}

/// The matched sentence in «», with as much surrounding passage as fits.
fn snippet(hit: &Hit, width: usize) -> String {
    let sentence = one_line(sentence_of(hit));
    let start = hit
        .sentence_bytes
        .start
        .saturating_sub(hit.passage_bytes.start);
    let end = hit
        .sentence_bytes
        .end
        .saturating_sub(hit.passage_bytes.start);
    let before = one_line(hit.passage.get(..start).unwrap_or(""));
    let after = one_line(hit.passage.get(end..).unwrap_or(""));
    let sentence = clip(&sentence, width);
    let room = width.saturating_sub(sentence.chars().count() + 2);
    let before_chars: Vec<char> = before.chars().collect();
    let keep_before = before_chars.len().min(room / 3);
    let before: String = before_chars[before_chars.len() - keep_before..]
        .iter()
        .collect();
    let after = clip(&after, room - keep_before);
    let lead = if keep_before < before_chars.len() {
        "…"
    } else {
        ""
    };
    format!("{lead}{before}«{sentence}»{after}")
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `n` characters, with an ellipsis when cut.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
    out.push('…');
    out
}
