//! `x · Wᵀ` for a few rows of `x` (a short query, a small batch).
//!
//! With few rows the product is bound by reading the weights, not by arithmetic:
//! a general GEMM also re-packs the whole matrix on every call, which for a
//! 12-token query cost more than the multiply. Here the weights stay Q4_0 (7×
//! fewer bytes than f32); each group of four rows is expanded once into an
//! L1-sized buffer and reused for every row of `x`. Activations stay f32.

use candle_core::{Device, Tensor};
use rayon::prelude::*;

use super::q4::{dequantize_row, BLOCK_BYTES, BLOCK_VALUES};
use crate::error::{Error, Result};

/// Up to this many rows of `x`, this kernel beats candle's f32 GEMM (measured
/// with `xling bench encode`; above it the GEMM's packing pays for itself).
pub const MAX_ROWS: usize = 48;
/// Rows of `x` processed per pass over the weights: 64 × 1536 f32 = 384 KiB, in L2.
const TILE_ROWS: usize = 64;

/// Weight rows per work item: four dot products share each load of `x`.
const ROWS_PER_ITEM: usize = 4;
/// f32 lanes per accumulator (one AVX register; LLVM vectorises the lane loops).
const LANES: usize = 8;

/// `x` (`[m, k]`, f32) times the transpose of `w` (`[n, k]`, Q4_0 bytes) → `[m, n]`.
pub fn matmul_t_q4(x: &Tensor, w: &[u8], n: usize) -> Result<Tensor> {
    let (m, k) = x.dims2()?;
    let row_bytes = k / BLOCK_VALUES * BLOCK_BYTES;
    if !k.is_multiple_of(BLOCK_VALUES)
        || !k.is_multiple_of(LANES)
        || !n.is_multiple_of(ROWS_PER_ITEM)
        || w.len() != n * row_bytes
    {
        return Err(Error::InvalidInput(format!(
            "matmul_t_q4 shapes [{m}, {k}] x [{n}, {k}]ᵀ with {} weight bytes",
            w.len()
        )));
    }
    let x = x.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
    let mut y = vec![0f32; m * n];
    // Tiles of x rows small enough to stay in L2 while every weight row passes.
    for (tile, x_tile) in x.chunks(TILE_ROWS * k).enumerate() {
        let rows = x_tile.len() / k;
        // Computed transposed ([n, rows]) so each work item writes one block.
        let mut yt = vec![0f32; n * rows];
        yt.par_chunks_mut(ROWS_PER_ITEM * rows)
            .zip(w.par_chunks(ROWS_PER_ITEM * row_bytes))
            .for_each_init(
                || vec![0f32; ROWS_PER_ITEM * k],
                |dequantized, (out, quantized)| {
                    for (row, q) in dequantized
                        .chunks_exact_mut(k)
                        .zip(quantized.chunks_exact(row_bytes))
                    {
                        dequantize_row(q, row);
                    }
                    dot_block(x_tile, dequantized, k, rows, out);
                },
            );
        let y_tile = &mut y[tile * TILE_ROWS * n..];
        for (j, col) in yt.chunks_exact(rows).enumerate() {
            for (i, v) in col.iter().enumerate() {
                y_tile[i * n + j] = *v;
            }
        }
    }
    Ok(Tensor::from_vec(y, (m, n), &Device::Cpu)?)
}

/// Four weight rows against every row of `x`; `out[r * m + i]` = row r · x_i.
fn dot_block(x: &[f32], rows: &[f32], k: usize, m: usize, out: &mut [f32]) {
    let (w0, rest) = rows.split_at(k);
    let (w1, rest) = rest.split_at(k);
    let (w2, w3) = rest.split_at(k);
    for (i, xi) in x.chunks_exact(k).enumerate().take(m) {
        let mut acc = [[0f32; LANES]; ROWS_PER_ITEM];
        for c in (0..k).step_by(LANES) {
            let xv = &xi[c..c + LANES];
            for (a, w) in acc.iter_mut().zip([w0, w1, w2, w3]) {
                let wv = &w[c..c + LANES];
                for l in 0..LANES {
                    a[l] = xv[l].mul_add(wv[l], a[l]);
                }
            }
        }
        for (r, a) in acc.iter().enumerate() {
            out[r * m + i] = a.iter().sum();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_candle_matmul_over_dequantized_weights() -> Result<()> {
        use candle_core::quantized::{GgmlDType, QTensor};
        let (m, k, n) = (5, 64, 12);
        let xv: Vec<f32> = (0..m * k)
            .map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.1)
            .collect();
        let wv: Vec<f32> = (0..n * k)
            .map(|i| ((i * 5 % 11) as f32 - 5.0) * 0.2)
            .collect();
        let x = Tensor::from_vec(xv, (m, k), &Device::Cpu)?;
        let q = QTensor::quantize(
            &Tensor::from_vec(wv, (n, k), &Device::Cpu)?,
            GgmlDType::Q4_0,
        )?;
        let w = q.dequantize(&Device::Cpu)?;
        let ours: Vec<Vec<f32>> = matmul_t_q4(&x, &q.data()?, n)?.to_vec2()?;
        let expected: Vec<Vec<f32>> = x.matmul(&w.t()?)?.to_vec2()?;
        for (a, b) in ours.iter().flatten().zip(expected.iter().flatten()) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        Ok(())
    }

    #[test]
    fn rejects_mismatched_shapes() -> Result<()> {
        let x = Tensor::zeros((2, 64), candle_core::DType::F32, &Device::Cpu)?;
        assert!(matches!(
            matmul_t_q4(&x, &[0u8; 10], 8),
            Err(Error::InvalidInput(_))
        ));
        Ok(())
    }
}
