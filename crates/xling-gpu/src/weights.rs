//! The model's tensors on the device: layer weights as the file's raw Q4_0
//! blocks (no expansion: 4.5 bits per weight in GPU memory too), vectors as
//! f32. The same tensors, names and shapes as the CPU encoder takes.

use candle_core::quantized::GgmlDType;
use xling_model::model::gguf::TensorBytes;
use xling_model::model::{ModelConfig, ModelWeights};

use crate::context::Gpu;
use crate::error::{GpuError, Result};

/// Bytes per Q4_0 block of 32 weights.
const BLOCK_BYTES: usize = 18;

/// A dense layer `y = x Wᵀ + b` with `W` as Q4_0 `[out, in]`.
pub(crate) struct GpuLinear {
    pub weight: wgpu::Buffer,
    pub bias: wgpu::Buffer,
    pub out_features: u32,
    pub in_features: u32,
}

pub(crate) struct GpuNorm {
    pub gamma: wgpu::Buffer,
    pub beta: wgpu::Buffer,
}

pub(crate) struct GpuLayer {
    /// q, k and v stacked into one `[3H, H]` product (rows concatenate).
    pub qkv: GpuLinear,
    pub attn_out: GpuLinear,
    pub attn_norm: GpuNorm,
    pub ffn_up: GpuLinear,
    pub ffn_down: GpuLinear,
    pub out_norm: GpuNorm,
}

/// One buffer's worth of token-embedding rows.
pub(crate) struct TablePart {
    pub buffer: wgpu::Buffer,
    pub rows: std::ops::Range<u32>,
}

pub(crate) struct GpuWeights {
    /// The token-embedding table, split so that no part exceeds the device's
    /// storage-binding limit (54 MB for e5-small; WebGPU guarantees 128 MiB).
    pub table: Vec<TablePart>,
    /// `[max_positions, H]` position rows with token-type row 0 added.
    pub position_type: wgpu::Buffer,
    pub embed_norm: GpuNorm,
    pub layers: Vec<GpuLayer>,
}

fn f32_values(weights: &mut ModelWeights, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
    let bytes = weights.take_bytes(name, shape, GgmlDType::F32)?;
    Ok(bytemuck::pod_collect_to_vec::<u8, f32>(&bytes))
}

/// A Q4_0 matrix's bytes, in place in the model file (uploaded from there).
fn q4_bytes(weights: &mut ModelWeights, name: &str, shape: &[usize]) -> Result<TensorBytes> {
    Ok(weights.take_bytes(name, shape, GgmlDType::Q4_0)?)
}

impl GpuWeights {
    /// Uploads the tensors the encoder needs, taking them out of `weights`.
    pub fn upload(gpu: &Gpu, weights: &mut ModelWeights) -> Result<Self> {
        let c: ModelConfig = weights.config.clone();
        let h = c.hidden_size;
        if !h.is_multiple_of(32) || !c.intermediate_size.is_multiple_of(32) {
            return Err(GpuError::Limits(format!(
                "sizes {h} and {} are not whole Q4_0 blocks",
                c.intermediate_size
            )));
        }
        let table = upload_table(gpu, weights, &c)?;
        let pos = f32_values(weights, "position_embd.weight", &[c.max_positions, h])?;
        let types = f32_values(weights, "token_types.weight", &[c.type_vocab_size, h])?;
        let position_type: Vec<f32> = pos
            .chunks_exact(h)
            .flat_map(|row| row.iter().zip(&types[..h]).map(|(p, t)| p + t))
            .collect();
        let position_type = gpu.storage_from_f32("position_type", &position_type);
        let embed_norm = norm(gpu, weights, "token_embd_norm", h)?;

        let mut layers = Vec::with_capacity(c.num_layers);
        for l in 0..c.num_layers {
            let p = format!("blk.{l}");
            let mut qkv_w = Vec::new();
            let mut qkv_b = Vec::new();
            for part in ["attn_q", "attn_k", "attn_v"] {
                qkv_w.push(q4_bytes(weights, &format!("{p}.{part}.weight"), &[h, h])?);
                qkv_b.extend(f32_values(weights, &format!("{p}.{part}.bias"), &[h])?);
            }
            let qkv = GpuLinear {
                weight: gpu.storage_from_bytes("qkv", &TensorBytes::concat(&qkv_w)),
                bias: gpu.storage_from_f32("qkv.bias", &qkv_b),
                out_features: (3 * h) as u32,
                in_features: h as u32,
            };
            layers.push(GpuLayer {
                qkv,
                attn_out: linear(gpu, weights, &format!("{p}.attn_output"), (h, h))?,
                attn_norm: norm(gpu, weights, &format!("{p}.attn_output_norm"), h)?,
                ffn_up: linear(
                    gpu,
                    weights,
                    &format!("{p}.ffn_up"),
                    (c.intermediate_size, h),
                )?,
                ffn_down: linear(
                    gpu,
                    weights,
                    &format!("{p}.ffn_down"),
                    (h, c.intermediate_size),
                )?,
                out_norm: norm(gpu, weights, &format!("{p}.layer_output_norm"), h)?,
            });
        }
        Ok(Self {
            table,
            position_type,
            embed_norm,
            layers,
        })
    }
}

fn linear(
    gpu: &Gpu,
    weights: &mut ModelWeights,
    prefix: &str,
    (out, inp): (usize, usize),
) -> Result<GpuLinear> {
    let w = q4_bytes(weights, &format!("{prefix}.weight"), &[out, inp])?;
    let b = f32_values(weights, &format!("{prefix}.bias"), &[out])?;
    Ok(GpuLinear {
        weight: gpu.storage_from_bytes(prefix, &w),
        bias: gpu.storage_from_f32(prefix, &b),
        out_features: out as u32,
        in_features: inp as u32,
    })
}

fn norm(gpu: &Gpu, weights: &mut ModelWeights, prefix: &str, h: usize) -> Result<GpuNorm> {
    Ok(GpuNorm {
        gamma: gpu.storage_from_f32(
            prefix,
            &f32_values(weights, &format!("{prefix}.weight"), &[h])?,
        ),
        beta: gpu.storage_from_f32(
            prefix,
            &f32_values(weights, &format!("{prefix}.bias"), &[h])?,
        ),
    })
}

/// Splits the token-embedding table into parts that each fit one binding.
fn upload_table(gpu: &Gpu, weights: &mut ModelWeights, c: &ModelConfig) -> Result<Vec<TablePart>> {
    let h = c.hidden_size;
    let bytes = q4_bytes(weights, "token_embd.weight", &[c.embedding_rows, h])?;
    let row_bytes = h / 32 * BLOCK_BYTES;
    let max_bytes = gpu.max_binding_bytes();
    let rows_per_part = (max_bytes as usize / row_bytes).min(c.embedding_rows);
    if rows_per_part == 0 {
        return Err(GpuError::Limits(format!(
            "a storage binding of {max_bytes} bytes cannot hold one embedding row"
        )));
    }
    let mut parts = Vec::new();
    for (i, chunk) in bytes.chunks(rows_per_part * row_bytes).enumerate() {
        let start = (i * rows_per_part) as u32;
        parts.push(TablePart {
            buffer: gpu.storage_from_bytes("token_embd", chunk),
            rows: start..start + (chunk.len() / row_bytes) as u32,
        });
    }
    Ok(parts)
}
