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

/// Products with up to this many rows of `x` (queries: typically 8–30 tokens)
/// use this kernel even when f32 weights exist. Longer inputs go to the f32
/// GEMM: at ~74 tokens it is 1.25x faster than this kernel (`xling bench
/// encode`, batch 1: xling-f32 38 ms vs xling-q4 48 ms per passage).
pub const MAX_ROWS: usize = 48;
/// Rows of `x` processed per pass over the weights: 64 × 1536 f32 = 384 KiB, in L2.
const TILE_ROWS: usize = 64;

/// Weight rows per work item: four dot products share each load of `x`.
const ROWS_PER_ITEM: usize = 4;
/// f32 lanes per accumulator in the portable kernel (one AVX register; LLVM
/// vectorises the lane loops).
const LANES: usize = 8;

/// `x` (`[m, k]`, f32) times the transpose of `w` (`[n, k]`, Q4_0 bytes) → `[m, n]`.
pub fn matmul_t_q4(x: &Tensor, w: &[u8], n: usize) -> Result<Tensor> {
    let (m, k) = x.dims2()?;
    let row_bytes = k / BLOCK_VALUES * BLOCK_BYTES;
    if !k.is_multiple_of(BLOCK_VALUES)
        || !n.is_multiple_of(ROWS_PER_ITEM)
        || w.len() != n * row_bytes
    {
        return Err(Error::InvalidInput(format!(
            "matmul_t_q4 shapes [{m}, {k}] x [{n}, {k}]ᵀ with {} weight bytes",
            w.len()
        )));
    }
    let x = x.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
    let y = tiled(&x, m, k, n, |x_tile, rows, yt| {
        yt.par_chunks_mut(ROWS_PER_ITEM * rows)
            .zip(w.par_chunks(ROWS_PER_ITEM * row_bytes))
            .for_each_init(
                || vec![0f32; ROWS_PER_ITEM * k],
                |expanded, (out, quantized)| {
                    for (row, q) in expanded
                        .chunks_exact_mut(k)
                        .zip(quantized.chunks_exact(row_bytes))
                    {
                        dequantize_row(q, row);
                    }
                    dot_block(x_tile, expanded, k, rows, out);
                },
            );
    });
    Ok(Tensor::from_vec(y, (m, n), &Device::Cpu)?)
}

/// `x` (`[m, k]`) times the transpose of f32 weights `w` (`[n, k]`, row
/// major) → `[m, n]`, with the same blocking as [`matmul_t_q4`] minus the
/// expansion. Used where candle's GEMM has no SIMD kernel (WASM).
pub fn matmul_t_f32(x: &Tensor, w: &[f32], n: usize) -> Result<Tensor> {
    let (m, k) = x.dims2()?;
    if !n.is_multiple_of(ROWS_PER_ITEM) || w.len() != n * k {
        return Err(Error::InvalidInput(format!(
            "matmul_t_f32 shapes [{m}, {k}] x [{n}, {k}]ᵀ with {} weights",
            w.len()
        )));
    }
    let x = x.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
    let y = tiled(&x, m, k, n, |x_tile, rows, yt| {
        yt.par_chunks_mut(ROWS_PER_ITEM * rows)
            .zip(w.par_chunks(ROWS_PER_ITEM * k))
            .for_each(|(out, weights)| dot_block(x_tile, weights, k, rows, out));
    });
    Ok(Tensor::from_vec(y, (m, n), &Device::Cpu)?)
}

/// Runs `block(x_tile, rows, yt)` over tiles of `TILE_ROWS` rows of `x`
/// (small enough to stay in L2 while every weight row passes); `block` fills
/// `yt`, the tile's output transposed (`[n, rows]`, so each work item writes
/// one contiguous piece), and this puts it back in `[m, n]` order.
fn tiled(
    x: &[f32],
    m: usize,
    k: usize,
    n: usize,
    block: impl Fn(&[f32], usize, &mut [f32]),
) -> Vec<f32> {
    let mut y = vec![0f32; m * n];
    for (tile, x_tile) in x.chunks(TILE_ROWS * k).enumerate() {
        let rows = x_tile.len() / k;
        let mut yt = vec![0f32; n * rows];
        block(x_tile, rows, &mut yt);
        let y_tile = &mut y[tile * TILE_ROWS * n..];
        for (j, col) in yt.chunks_exact(rows).enumerate() {
            for (i, v) in col.iter().enumerate() {
                y_tile[i * n + j] = *v;
            }
        }
    }
    y
}

/// The SIMD register type of the build, if it has one the kernel supports.
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "avx2",
    target_feature = "fma"
))]
type Native = avx2::Avx2;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
type Native = super::simd128::Simd128;

/// Four weight rows against every row of `x`; `out[r * m + i]` = row r · x_i.
fn dot_block(x: &[f32], rows: &[f32], k: usize, m: usize, out: &mut [f32]) {
    #[cfg(any(
        all(
            target_arch = "x86_64",
            target_feature = "avx2",
            target_feature = "fma"
        ),
        all(target_arch = "wasm32", target_feature = "simd128")
    ))]
    {
        if x.len() >= m * k
            && rows.len() >= ROWS_PER_ITEM * k
            && out.len() >= ROWS_PER_ITEM * m
            && k.is_multiple_of(Native::WIDTH)
        {
            // SAFETY: the target features are enabled at compile time; the
            // kernel reads `k` floats per row of `x`/`rows`, whose lengths
            // are checked here.
            unsafe { dot_block_simd::<Native>(x, rows, k, m, out) };
            return;
        }
    }
    dot_block_portable(x, rows, k, m, out)
}

/// One SIMD register of f32 lanes: what [`dot_block_simd`] needs, so that
/// AVX2 and WASM SIMD128 share one kernel.
#[allow(dead_code)] // unused on targets without a supported SIMD type
pub(super) trait Lanes: Copy {
    /// f32 lanes per register.
    const WIDTH: usize;
    /// # Safety
    /// The target feature of the implementation must be enabled.
    unsafe fn zero() -> Self;
    /// # Safety
    /// `p` must point at `WIDTH` readable floats.
    unsafe fn load(p: *const f32) -> Self;
    /// `acc + a·b` per lane (fused where the instruction set has it).
    /// # Safety
    /// The target feature of the implementation must be enabled.
    unsafe fn madd(a: Self, b: Self, acc: Self) -> Self;
    /// Sum of the lanes.
    /// # Safety
    /// The target feature of the implementation must be enabled.
    unsafe fn hsum(self) -> f32;
}

/// Two rows of `x` against four weight rows per step, eight independent
/// accumulators (hides multiply-add latency), six loads per eight
/// multiply-adds.
///
/// # Safety
/// Caller guarantees `x.len() >= m * k`, `w.len() >= 4 * k`,
/// `k % V::WIDTH == 0`, `out.len() >= 4 * m`, and `V`'s target feature.
#[allow(dead_code)] // unused on targets without a supported SIMD type
#[inline(always)]
unsafe fn dot_block_simd<V: Lanes>(x: &[f32], w: &[f32], k: usize, m: usize, out: &mut [f32]) {
    let wp = w.as_ptr();
    let (w0, w1, w2, w3) = (wp, wp.add(k), wp.add(2 * k), wp.add(3 * k));
    let xp = x.as_ptr();
    let mut i = 0;
    while i + 2 <= m {
        let (xa, xb) = (xp.add(i * k), xp.add((i + 1) * k));
        let mut acc = [V::zero(); 8];
        let mut c = 0;
        while c < k {
            let va = V::load(xa.add(c));
            let vb = V::load(xb.add(c));
            let r0 = V::load(w0.add(c));
            let r1 = V::load(w1.add(c));
            let r2 = V::load(w2.add(c));
            let r3 = V::load(w3.add(c));
            acc[0] = V::madd(va, r0, acc[0]);
            acc[1] = V::madd(va, r1, acc[1]);
            acc[2] = V::madd(va, r2, acc[2]);
            acc[3] = V::madd(va, r3, acc[3]);
            acc[4] = V::madd(vb, r0, acc[4]);
            acc[5] = V::madd(vb, r1, acc[5]);
            acc[6] = V::madd(vb, r2, acc[6]);
            acc[7] = V::madd(vb, r3, acc[7]);
            c += V::WIDTH;
        }
        for r in 0..ROWS_PER_ITEM {
            out[r * m + i] = acc[r].hsum();
            out[r * m + i + 1] = acc[4 + r].hsum();
        }
        i += 2;
    }
    if i < m {
        let xa = xp.add(i * k);
        let mut acc = [V::zero(); 4];
        let mut c = 0;
        while c < k {
            let va = V::load(xa.add(c));
            acc[0] = V::madd(va, V::load(w0.add(c)), acc[0]);
            acc[1] = V::madd(va, V::load(w1.add(c)), acc[1]);
            acc[2] = V::madd(va, V::load(w2.add(c)), acc[2]);
            acc[3] = V::madd(va, V::load(w3.add(c)), acc[3]);
            c += V::WIDTH;
        }
        for r in 0..ROWS_PER_ITEM {
            out[r * m + i] = acc[r].hsum();
        }
    }
}

fn dot_block_portable(x: &[f32], rows: &[f32], k: usize, m: usize, out: &mut [f32]) {
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
                    a[l] = super::activation::madd(xv[l], wv[l], a[l]);
                }
            }
        }
        for (r, a) in acc.iter().enumerate() {
            out[r * m + i] = a.iter().sum();
        }
    }
}

/// AVX2 + FMA registers for [`dot_block_simd`].
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "avx2",
    target_feature = "fma"
))]
mod avx2 {
    use std::arch::x86_64::*;

    use super::Lanes;

    #[derive(Clone, Copy)]
    pub struct Avx2(__m256);

    impl Lanes for Avx2 {
        const WIDTH: usize = 8;

        #[inline(always)]
        unsafe fn zero() -> Self {
            Avx2(_mm256_setzero_ps())
        }

        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Avx2(_mm256_loadu_ps(p))
        }

        #[inline(always)]
        unsafe fn madd(a: Self, b: Self, acc: Self) -> Self {
            Avx2(_mm256_fmadd_ps(a.0, b.0, acc.0))
        }

        #[inline(always)]
        unsafe fn hsum(self) -> f32 {
            let v = self.0;
            let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
            let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
            _mm_cvtss_f32(s)
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
