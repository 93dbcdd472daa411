//! xling's encoder on the GPU: the whole multilingual-e5-small forward pass
//! as WGSL compute kernels through wgpu — Vulkan, Metal or DX12 natively,
//! WebGPU in browsers, with the same code.
//!
//! The CPU encoder (`xling_model::CpuEncoder`) is the oracle: tests compare
//! every kernel and whole embeddings with it, and [`GpuEncoder::self_test`]
//! compares a device with the CPU vectors stored in the model file before
//! anything uses it ([`load_embedder`] does this natively).
//!
//! Kernels (in `src/kernels/`): embedding gather with Q4_0 expansion, layer
//! norm (+ residual), Q4_0 × f32 product in 64 × 64 tiles staged in workgroup
//! memory (+ bias, + GELU), attention with an online softmax over key tiles
//! (padding keys never read), masked mean pooling. Weights stay the model
//! file's raw Q4_0 blocks on the device. Large products reach ≈ 28 FLOP per
//! byte of memory traffic whatever their shape (arithmetic-bound on integrated
//! and discrete GPUs); a single query is bound by reading the 12 MB of weights
//! and the fixed cost of 87 dispatches. Design, memory traffic per layer and
//! figures: `docs/gpu.md`.
//!
//! ```no_run
//! use xling_gpu::{load_embedder, Device};
//! use xling_model::{ModelFiles, Prefix, WeightFormat};
//! # fn main() -> xling_gpu::Result<()> {
//! let files = ModelFiles::read_dir("models/multilingual-e5-small-q4")?;
//! // The GPU if one passes the model's self-test, else the CPU (the report says why).
//! let (embedder, report) = load_embedder(files, Device::Auto, WeightFormat::default())?;
//! println!("{report}");
//! let query = embedder.embed_one("¿Dónde está la estación de tren?", Prefix::Query)?;
//! println!("{} dimensions", query.len());
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod backend;
mod buffers;
mod context;
mod embed;
mod encoder;
mod error;
mod kernels;
#[cfg(not(target_arch = "wasm32"))]
mod select;
mod weights;

pub use backend::{BackendReport, Device, DocumentEncoder, GpuCandidate};
pub use context::{AdapterChoice, AdapterSummary, Gpu};
pub use encoder::GpuEncoder;
pub use error::{GpuError, Result};
#[cfg(not(target_arch = "wasm32"))]
pub use select::{load_embedder, AnyEncoder};
