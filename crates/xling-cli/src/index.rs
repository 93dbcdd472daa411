//! `xling index` and `xling delete`: build, extend and edit index files.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use xling_index::{Index, IndexConfig, LanguagePrior, PRIOR_FILE};

/// Arguments of `xling index`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: crate::ModelArgs,
    /// Index file to write.
    #[arg(long)]
    out: PathBuf,
    /// Add to the existing index in --out instead of replacing it.
    #[arg(long)]
    append: bool,
    /// Threads building HNSW graphs (1: reproducible builds; 0: all cores).
    #[arg(long, default_value_t = 1)]
    build_threads: usize,
    /// Directories of .txt/.md/.html files, JSON-lines files of
    /// {"id","text","title"?,"url"?,"lang"?}, or BEIR corpus.jsonl files.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let docs = xling_index::documents::read_inputs(&args.inputs)?;
    if docs.is_empty() {
        anyhow::bail!("no documents found in the inputs (empty corpus): nothing to index");
    }
    let (embedder, model_name) = args.model.load_named()?;
    let mut index = if args.append {
        let bytes = std::fs::read(&args.out)
            .with_context(|| format!("cannot read {} to append to it", args.out.display()))?;
        Index::from_bytes_for(&bytes, embedder.tokenizer()).with_context(|| {
            format!(
                "cannot load {} with model {model_name:?} ({})",
                args.out.display(),
                args.model.model.display()
            )
        })?
    } else {
        let mut config = IndexConfig::default();
        config.dense.build_threads = args.build_threads;
        let mut index = Index::for_model(&embedder, config);
        index.set_model_name(model_name);
        match LanguagePrior::read_model_dir(&args.model.model)? {
            Some(prior) => index.set_language_prior(prior)?,
            None => eprintln!(
                "xling: no {} in {}: languages with few passages get no prior (run `xling prior`)",
                PRIOR_FILE,
                args.model.model.display()
            ),
        }
        index
    };
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{spinner} indexing [{bar:30}] {pos}/{len} passages, {per_sec}, ETA {eta}",
        )?
        .progress_chars("=> "),
    );
    let start = Instant::now();
    let documents = docs.len();
    let report = index.add_documents(&embedder, docs, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let bytes = index.to_bytes()?;
    crate::fsutil::write_atomic(&args.out, &bytes)?;
    let stats = index.stats();
    eprintln!(
        "xling: indexed {documents} documents as {} passages in {seconds:.1} s ({:.0} passages/s); {} has {} documents, {} passages, {:.1} MB",
        report.passages,
        report.passages as f64 / seconds.max(1e-9),
        args.out.display(),
        stats.documents,
        stats.passages,
        bytes.len() as f64 / 1e6
    );
    Ok(())
}

/// Arguments of `xling delete`.
#[derive(clap::Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    model: crate::ModelArgs,
    /// Index file to edit (rewritten atomically).
    #[arg(long)]
    index: PathBuf,
    /// Ids of the documents to delete.
    #[arg(required = true)]
    ids: Vec<String>,
}

pub fn delete(args: DeleteArgs) -> anyhow::Result<()> {
    let tokenizer = args.model.load_tokenizer()?;
    let bytes = std::fs::read(&args.index)
        .with_context(|| format!("cannot read {}", args.index.display()))?;
    let mut index = Index::from_bytes_for(&bytes, &tokenizer)
        .with_context(|| format!("cannot load {}", args.index.display()))?;
    let ids: Vec<&str> = args.ids.iter().map(String::as_str).collect();
    let deleted = index.delete(&tokenizer, &ids)?;
    crate::fsutil::write_atomic(&args.index, &index.to_bytes()?)?;
    eprintln!("xling: deleted {deleted} documents; {} remain", index.len());
    Ok(())
}
