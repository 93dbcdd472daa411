//! The forward pass: embeddings → LayerNorm → 12 × [attention → add & norm →
//! GELU FFN → add & norm] → masked mean pooling, all on the device, in one
//! compute pass per batch; only the pooled vectors come back.

use std::sync::Arc;

use xling_model::model::{ModelConfig, ModelWeights};

use crate::context::{AdapterChoice, Gpu};
use crate::error::{GpuError, Result};
use crate::kernels::{self, Dispatch, Kernels};
use crate::weights::GpuWeights;

/// Padding slots in the id grid (the embed kernel leaves their rows zero).
const PAD_ID: u32 = u32::MAX;

/// multilingual-e5-small on a GPU.
pub struct GpuEncoder {
    gpu: Gpu,
    kernels: Kernels,
    weights: GpuWeights,
    config: ModelConfig,
    /// Most padded tokens one forward pass may hold on this device.
    max_tokens: usize,
}

impl GpuEncoder {
    /// Opens an adapter `choice` allows and uploads the model.
    pub async fn open(choice: AdapterChoice, gguf: &[u8]) -> Result<Self> {
        let gpu = Gpu::new(choice).await?;
        let mut weights = ModelWeights::from_gguf(gguf)?;
        Self::new(gpu, &mut weights).await
    }

    /// [`GpuEncoder::open`] that uploads from shared model bytes without
    /// copying them (in WASM a copy would raise the memory peak for good).
    pub async fn open_shared(choice: AdapterChoice, gguf: &Arc<Vec<u8>>) -> Result<Self> {
        let gpu = Gpu::new(choice).await?;
        let mut weights = ModelWeights::from_shared(Arc::clone(gguf))?;
        Self::new(gpu, &mut weights).await
    }

    /// Uploads the tensors the encoder needs, taking them out of `weights`.
    pub async fn new(gpu: Gpu, weights: &mut ModelWeights) -> Result<Self> {
        let config = weights.config.clone();
        let kernels = Kernels::new(&gpu, config.head_dim()).await?;
        let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let uploaded = GpuWeights::upload(&gpu, weights);
        if let Some(e) = scope.pop().await {
            return Err(GpuError::Compute(format!("uploading the model: {e}")));
        }
        let weights = uploaded?;
        let binding = gpu.max_binding_bytes();
        let widest = 4 * (3 * config.hidden_size).max(config.intermediate_size) as u64;
        let max_tokens = (binding / widest) as usize;
        if max_tokens < config.max_positions {
            return Err(GpuError::Limits(format!(
                "storage bindings of {binding} bytes cannot hold one window"
            )));
        }
        Ok(Self {
            gpu,
            kernels,
            weights,
            config,
            max_tokens,
        })
    }

    /// The device the encoder runs on.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// The model's sizes, as read from the weights uploaded.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Caps the padded tokens of one forward pass (never above what the
    /// device allows). Device memory per pass is about
    /// `4 · (3H + max(3H, I))` bytes per token: 10.5 KiB for e5-small.
    pub fn with_max_tokens(mut self, tokens: usize) -> Self {
        self.max_tokens = self.max_tokens.min(tokens.max(1));
        self
    }

    /// Side of the matrix-product tile chosen for this device.
    pub fn tile(&self) -> u32 {
        self.kernels.tile()
    }

    /// Mean-pooled final hidden states, one per window (see [`WindowEncoder`](xling_model::WindowEncoder)).
    /// Batches larger than the device allows are split.
    pub async fn encode_windows_async(&self, windows: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        xling_model::encoder::check_windows(windows, &self.config)?;
        let mut out = Vec::with_capacity(windows.len());
        let mut start = 0;
        while start < windows.len() {
            let mut end = start;
            let mut len = 0;
            while end < windows.len() {
                let next_len = len.max(windows[end].len());
                let count = end + 1 - start;
                if count > 1
                    && (count * next_len > self.max_tokens
                        || count * self.config.num_heads > u16::MAX as usize)
                {
                    break;
                }
                len = next_len;
                end += 1;
            }
            out.extend(self.forward(&windows[start..end]).await?);
            start = end;
        }
        Ok(out)
    }

    /// One batch through the whole model.
    async fn forward(&self, windows: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        if windows.is_empty() {
            return Ok(Vec::new());
        }
        let gpu = &self.gpu;
        let c = &self.config;
        let len = windows.iter().map(|w| w.len()).max().unwrap_or(0);
        let b = windows.len();
        let t = b * len;
        let (h, inter) = (c.hidden_size, c.intermediate_size);
        let mut ids = vec![PAD_ID; t];
        for (i, w) in windows.iter().enumerate() {
            ids[i * len..i * len + w.len()].copy_from_slice(w);
        }
        let lengths: Vec<u32> = windows.iter().map(|w| w.len() as u32).collect();

        let validation = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let memory = gpu.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let ids = gpu.storage_from_u32("ids", &ids);
        let lengths = gpu.storage_from_u32("lengths", &lengths);
        let x = gpu.scratch("x", t * h);
        let y = gpu.scratch("y", t * h);
        let tmp = gpu.scratch("tmp", t * h);
        let wide = gpu.scratch("wide", t * (3 * h).max(inter));
        let means = gpu.scratch("means", b * h);

        let dispatches = self.record(&ids, &lengths, [&x, &y, &tmp, &wide, &means], (b, len));
        let readback = dispatches.map(|dispatches| {
            let mut encoder = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
            kernels::record(&mut encoder, &dispatches);
            gpu.submit_with_readback(encoder, &means, b * h)
        });
        let memory = memory.pop();
        let validation = validation.pop();
        let values = match readback {
            Ok(readback) => readback.values(gpu).await,
            Err(e) => Err(e),
        };
        if let Some(e) = memory.await {
            return Err(GpuError::Compute(format!("out of GPU memory: {e}")));
        }
        if let Some(e) = validation.await {
            return Err(GpuError::Compute(e.to_string()));
        }
        let values = values?;
        if values.iter().any(|v| !v.is_finite()) {
            return Err(GpuError::Compute(
                "the device returned non-finite values".into(),
            ));
        }
        Ok(values.chunks_exact(h).map(<[f32]>::to_vec).collect())
    }

    /// The kernel launches of one forward pass, in order.
    fn record<'k>(
        &'k self,
        ids: &wgpu::Buffer,
        lengths: &wgpu::Buffer,
        [x, y, tmp, wide, means]: [&wgpu::Buffer; 5],
        (b, len): (usize, usize),
    ) -> Result<Vec<Dispatch<'k>>> {
        let gpu = &self.gpu;
        let k = &self.kernels;
        let c = &self.config;
        let w = &self.weights;
        let t = (b * len) as u32;
        let (b, len) = (b as u32, len as u32);
        let h = c.hidden_size as u32;
        let eps = c.layer_norm_eps;
        let rows = (t, h);
        let mut out = Vec::with_capacity(4 + 7 * c.num_layers);
        for part in &w.table {
            out.push(k.embed(
                gpu,
                ids,
                &part.buffer,
                part.rows.clone(),
                &w.position_type,
                tmp,
                (t, len, h),
            )?);
        }
        let norm = |n: &'k crate::weights::GpuNorm| (&n.gamma, &n.beta);
        out.push(k.layer_norm(gpu, tmp, None, norm(&w.embed_norm), x, rows, eps)?);
        let scale = 1.0 / (c.head_dim() as f32).sqrt();
        let heads = c.num_heads as u32;
        for layer in &w.layers {
            let mm = |a, l: &'k crate::weights::GpuLinear, out, gelu| {
                k.matmul(
                    gpu,
                    a,
                    &l.weight,
                    &l.bias,
                    out,
                    (t, l.out_features, l.in_features),
                    gelu,
                )
            };
            out.push(mm(x, &layer.qkv, wide, false)?);
            out.push(k.attention(gpu, wide, lengths, y, (b, len, h, heads), scale)?);
            out.push(mm(y, &layer.attn_out, tmp, false)?);
            out.push(k.layer_norm(gpu, x, Some(tmp), norm(&layer.attn_norm), y, rows, eps)?);
            out.push(mm(y, &layer.ffn_up, wide, true)?);
            out.push(mm(wide, &layer.ffn_down, tmp, false)?);
            out.push(k.layer_norm(gpu, y, Some(tmp), norm(&layer.out_norm), x, rows, eps)?);
        }
        out.push(k.pool(gpu, x, lengths, means, (b, len, h))?);
        Ok(out)
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl xling_model::WindowEncoder for GpuEncoder {
    fn dim(&self) -> usize {
        self.config.hidden_size
    }

    /// Blocks until the device is done (natively only; browsers use
    /// [`GpuEncoder::encode_windows_async`]).
    fn encode_windows(&self, windows: &[&[u32]]) -> xling_model::Result<Vec<Vec<f32>>> {
        Ok(pollster::block_on(self.encode_windows_async(windows))?)
    }
}

#[cfg(test)]
mod tests {
    use xling_model::testing::{cosine, tiny_embedder, tiny_model_files};
    use xling_model::{Embedder, Prefix, Tokenizer, WindowEncoder};

    use super::*;

    fn tiny_gpu(seed: u64) -> Embedder<GpuEncoder> {
        tiny_gpu_capped(seed, usize::MAX)
    }

    /// The tiny model on the GPU, at most `max_tokens` per forward pass.
    fn tiny_gpu_capped(seed: u64, max_tokens: usize) -> Embedder<GpuEncoder> {
        let files = tiny_model_files(seed);
        let encoder = pollster::block_on(GpuEncoder::open(AdapterChoice::Any, &files.gguf))
            .expect("a GPU adapter (without a GPU: apt-get install mesa-vulkan-drivers)")
            .with_max_tokens(max_tokens);
        let tokenizer = Tokenizer::from_bytes(files.tokenizer_json.clone(), encoder.config())
            .expect("tokenizer");
        Embedder::new(tokenizer, encoder)
    }

    const TEXTS: [&str; 5] = [
        "hello world",
        "",
        "hello world abc, hello world abc.",
        // Several windows of the tiny model's 14 content tokens.
        "the world said hello to abc, hello world abc, hello world abc, hello world",
        "a",
    ];

    #[test]
    fn tiny_model_matches_the_cpu_encoder() {
        let cpu = tiny_embedder(31);
        let gpu = tiny_gpu(31);
        for prefix in [Prefix::Query, Prefix::Passage] {
            let want = cpu.embed(&TEXTS, prefix).unwrap();
            let got = gpu.embed(&TEXTS, prefix).unwrap();
            for ((text, w), g) in TEXTS.iter().zip(&want).zip(&got) {
                let c = cosine(w, g);
                assert!(c > 0.99999, "{text:?}: cosine {c}");
            }
        }
    }

    #[test]
    fn batches_split_to_fit_the_device_give_the_same_vectors() {
        let whole = tiny_gpu(32);
        let split = tiny_gpu_capped(32, 16);
        let a = whole.embed(&TEXTS, Prefix::Passage).unwrap();
        let b = split.embed(&TEXTS, Prefix::Passage).unwrap();
        for (x, y) in a.iter().zip(&b) {
            assert!(cosine(x, y) > 0.999999);
        }
    }

    #[test]
    fn bad_windows_are_errors_not_panics() {
        let gpu = tiny_gpu(33);
        let encoder = gpu.encoder();
        let rows = encoder.config().embedding_rows as u32;
        let too_long = vec![0u32; encoder.config().max_positions + 1];
        for bad in [&[0, rows, 2][..], &[][..], &too_long[..]] {
            let err = encoder.encode_windows(&[&[0, 5, 2], bad]).unwrap_err();
            assert!(matches!(err, xling_model::Error::InvalidInput(_)), "{err}");
        }
        // Nothing was left half-done: the next call works.
        assert_eq!(encoder.encode_windows(&[&[0, 5, 2]]).unwrap().len(), 1);
    }
}
