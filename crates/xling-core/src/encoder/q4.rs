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
    for (block, values) in row
        .chunks_exact(BLOCK_BYTES)
        .zip(out.chunks_exact_mut(BLOCK_VALUES))
    {
        // Fixed-size views let the compiler drop bounds checks and vectorise.
        let (Ok(scale), Ok(qs), Ok(values)) = (
            <[u8; 2]>::try_from(&block[..2]),
            <&[u8; 16]>::try_from(&block[2..]),
            <&mut [f32; BLOCK_VALUES]>::try_from(values),
        ) else {
            continue;
        };
        let d = f16::from_le_bytes(scale).to_f32();
        let (low, high) = values.split_at_mut(16);
        for (v, q) in low.iter_mut().zip(qs) {
            *v = ((q & 0x0f) as i32 - 8) as f32 * d;
        }
        for (v, q) in high.iter_mut().zip(qs) {
            *v = ((q >> 4) as i32 - 8) as f32 * d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::{GgmlDType, QTensor};
    use candle_core::{Device, Tensor};

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
