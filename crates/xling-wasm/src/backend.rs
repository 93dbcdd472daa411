//! Which encoder embeds documents in the browser: WebGPU when an adapter
//! passes the model's self-test, else the WASM CPU path, with the reason.
//!
//! Queries always run on the CPU: one short text takes ~10–30 ms there, less
//! than a GPU round trip costs once `mapAsync` and 87 dispatches are paid,
//! and it keeps `search` synchronous, so it answers even while a GPU add is
//! in flight. The GPU earns its keep on batches of passages.

use std::sync::Arc;

use serde::Deserialize;
use xling_gpu::{BackendReport, Device, DocumentEncoder, GpuCandidate};
use xling_model::model::SelfTest;
use xling_model::{Embedder, ModelFiles, WeightFormat};

use crate::error::{Result, WasmError};

/// Reads the `device` option: "auto" (default), "cpu" or "gpu".
pub fn device_option(value: Option<&str>) -> Result<Device> {
    match value {
        None => Ok(Device::Auto),
        Some(name) => name.parse().map_err(WasmError::argument),
    }
}

/// Options shared by `Engine.load` and `Engine.fromUrl`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeviceOptions {
    pub weights: Option<String>,
    pub device: Option<String>,
}

/// The CPU embedder (queries, fallback) and the document encoder chosen for
/// `device`. Both read the one copy of the model bytes in place: the GPU
/// uploads from it, then the CPU encoder keeps it, so the GPU adds nothing
/// to the WASM memory high-water mark.
pub async fn load(
    files: ModelFiles,
    format: WeightFormat,
    device: Device,
) -> Result<(Embedder, DocumentEncoder)> {
    let gguf = Arc::new(files.gguf);
    let candidate = match device {
        Device::Cpu => None,
        _ => match GpuCandidate::open(device, &gguf).await {
            Err(e) if !device.falls_back_on(&e) => return Err(e.into()),
            opened => Some(opened),
        },
    };
    let embedder = Embedder::load_shared(gguf, files.tokenizer_json, format)?;
    let verified = match candidate {
        None => {
            return Ok((
                embedder,
                DocumentEncoder::cpu(BackendReport::cpu("asked for")),
            ))
        }
        Some(Ok(candidate)) => {
            candidate
                .verify(embedder.tokenizer(), || SelfTest::compute(&embedder))
                .await
        }
        Some(Err(e)) => Err(e),
    };
    let documents = match verified {
        Ok((encoder, report)) => DocumentEncoder::gpu(encoder, report),
        Err(e) if device.falls_back_on(&e) => {
            DocumentEncoder::cpu(BackendReport::cpu(e.to_string()))
        }
        Err(e) => return Err(e.into()),
    };
    Ok((embedder, documents))
}
