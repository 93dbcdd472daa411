//! GGML `block_q4_0` helpers for the token-embedding table, which stays
//! quantized in memory (54 MB instead of 384 MB as f32): only the rows a batch
//! uses are expanded.

use half::f16;

/// Bytes per block of 32 weights: f16 scale + 16 bytes of nibbles.
pub const BLOCK_BYTES: usize = 18;
pub const BLOCK_VALUES: usize = 32;

/// Expands one Q4_0 row into `out` (`out.len()` must be a multiple of 32 and
/// `row.len()` the matching number of blocks).
pub fn dequantize_row(row: &[u8], out: &mut [f32]) {
    #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
    {
        if row.len() / BLOCK_BYTES * BLOCK_VALUES <= out.len()
            && row.len().is_multiple_of(BLOCK_BYTES)
        {
            // SAFETY: AVX2 is enabled at compile time; lengths checked above.
            unsafe { avx2::dequantize_row(row, out) };
            return;
        }
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        if row.len() / BLOCK_BYTES * BLOCK_VALUES <= out.len()
            && row.len().is_multiple_of(BLOCK_BYTES)
        {
            // SAFETY: lengths checked above, as the kernel requires.
            unsafe { super::simd128::dequantize_row(row, out) };
            return;
        }
    }
    dequantize_row_portable(row, out)
}

fn dequantize_row_portable(row: &[u8], out: &mut [f32]) {
    for (block, values) in row
        .chunks_exact(BLOCK_BYTES)
        .zip(out.chunks_exact_mut(BLOCK_VALUES))
    {
        let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
        let (low, high) = values.split_at_mut(16);
        for ((l, h), q) in low.iter_mut().zip(high.iter_mut()).zip(&block[2..]) {
            *l = ((q & 0x0f) as i32 - 8) as f32 * d;
            *h = ((q >> 4) as i32 - 8) as f32 * d;
        }
    }
}

#[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{f16, BLOCK_BYTES, BLOCK_VALUES};

    /// Caller guarantees `row.len() % 18 == 0` and room for its values in `out`.
    pub unsafe fn dequantize_row(row: &[u8], out: &mut [f32]) {
        let blocks = row.len() / BLOCK_BYTES;
        let mask = _mm_set1_epi8(0x0f);
        let eight = _mm256_set1_epi32(8);
        for b in 0..blocks {
            let block = row.as_ptr().add(b * BLOCK_BYTES);
            let d = _mm256_set1_ps(f16::from_le_bytes([*block, *block.add(1)]).to_f32());
            let qs = _mm_loadu_si128(block.add(2) as *const __m128i);
            let low = _mm_and_si128(qs, mask);
            let high = _mm_and_si128(_mm_srli_epi16(qs, 4), mask);
            let dst = out.as_mut_ptr().add(b * BLOCK_VALUES);
            for (half, nibbles) in [(0usize, low), (16, high)] {
                let a = _mm256_cvtepu8_epi32(nibbles);
                let c = _mm256_cvtepu8_epi32(_mm_srli_si128(nibbles, 8));
                let a = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(a, eight)), d);
                let c = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(c, eight)), d);
                _mm256_storeu_ps(dst.add(half), a);
                _mm256_storeu_ps(dst.add(half + 8), c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::{GgmlDType, QTensor};
    use candle_core::{Device, Tensor};

    #[test]
    fn simd_and_portable_paths_agree() -> candle_core::Result<()> {
        let values: Vec<f32> = (0..384)
            .map(|i| ((i * 29 % 31) as f32 - 15.0) * 0.07)
            .collect();
        let t = Tensor::from_vec(values, (1, 384), &Device::Cpu)?;
        let q = QTensor::quantize(&t, GgmlDType::Q4_0)?;
        let (mut fast, mut plain) = (vec![0f32; 384], vec![0f32; 384]);
        dequantize_row(&q.data()?, &mut fast);
        dequantize_row_portable(&q.data()?, &mut plain);
        assert_eq!(fast, plain);
        Ok(())
    }

    #[test]
    fn matches_candle_dequantisation() -> candle_core::Result<()> {
        let values: Vec<f32> = (0..96)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.13)
            .collect();
        let t = Tensor::from_vec(values, (1, 96), &Device::Cpu)?;
        let q = QTensor::quantize(&t, GgmlDType::Q4_0)?;
        let expected: Vec<f32> = q.dequantize(&Device::Cpu)?.flatten_all()?.to_vec1()?;
        let mut out = vec![0f32; 96];
        dequantize_row(&q.data()?, &mut out);
        assert_eq!(out, expected);
        Ok(())
    }
}
