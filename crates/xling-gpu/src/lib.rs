//! xling's encoder on the GPU: the whole multilingual-e5-small forward pass
//! as WGSL compute kernels through wgpu — Vulkan, Metal or DX12 natively,
//! WebGPU in browsers, with the same code.
//!
//! The CPU encoder (`xling_core::CpuEncoder`) is the oracle: tests compare
//! every kernel and whole embeddings with it, and applications run
//! [`self_test`] before trusting a device.

mod buffers;
mod context;
mod embed;
mod encoder;
mod error;
mod kernels;
#[cfg(not(target_arch = "wasm32"))]
mod select;
mod weights;

pub use context::{AdapterChoice, AdapterSummary, Gpu};
pub use encoder::GpuEncoder;
pub use error::{GpuError, Result};
#[cfg(not(target_arch = "wasm32"))]
pub use select::{load_embedder, AnyEncoder, BackendReport, Device};
