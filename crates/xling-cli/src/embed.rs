//! `xling embed`: texts on stdin → `{"ids":[...],"embedding":[...]}` lines on stdout.

use std::io::{BufRead, BufWriter, Write};

use anyhow::{bail, Context};
use xling_model::Prefix;

/// One output line; a struct so the keys keep this order.
#[derive(serde::Serialize)]
struct Line<'a> {
    ids: &'a [u32],
    embedding: &'a [f32],
}

/// Texts embedded per forward batch while streaming.
const CHUNK: usize = 64;

#[derive(Clone, Copy, clap::ValueEnum)]
enum PrefixArg {
    Query,
    Passage,
    None,
}

/// Arguments of `xling embed`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: crate::ModelArgs,
    /// Task prefix: `query` for questions, `passage` for the texts searched.
    #[arg(long, value_enum)]
    prefix: PrefixArg,
    /// Each input line is a JSON string (for texts containing newlines).
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let embedder = args.model.load()?;
    let prefix = match args.prefix {
        PrefixArg::Query => Prefix::Query,
        PrefixArg::Passage => Prefix::Passage,
        PrefixArg::None => Prefix::None,
    };
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut texts = Vec::with_capacity(CHUNK);
    for (n, line) in stdin.split(b'\n').enumerate() {
        let mut line = line.context("cannot read standard input")?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        texts.push(decode_line(line, n + 1, args.json)?);
        if texts.len() == CHUNK {
            write_chunk(&embedder, &texts, prefix, &mut out)?;
            texts.clear();
        }
    }
    write_chunk(&embedder, &texts, prefix, &mut out)?;
    out.flush().context("cannot write standard output")?;
    Ok(())
}

/// One input line as text: UTF-8 as is, or a JSON string with `--json`.
fn decode_line(line: Vec<u8>, number: usize, json: bool) -> anyhow::Result<String> {
    let text = match String::from_utf8(line) {
        Ok(text) => text,
        Err(e) => bail!(
            "line {number} is not valid UTF-8 (invalid byte at column {}); convert the input to UTF-8 first",
            e.utf8_error().valid_up_to() + 1
        ),
    };
    if !json {
        return Ok(text);
    }
    serde_json::from_str::<String>(&text).with_context(|| {
        format!("line {number} is not a JSON string (--json expects one per line)")
    })
}

fn write_chunk(
    embedder: &crate::CliEmbedder,
    texts: &[String],
    prefix: Prefix,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    if texts.is_empty() {
        return Ok(());
    }
    for e in embedder.embed_with_ids(texts, prefix)? {
        let line = Line {
            ids: &e.ids,
            embedding: &e.vector,
        };
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")
            .context("cannot write standard output")?;
    }
    Ok(())
}
