//! Compact vectors: int8 codes with one scale per vector.
//!
//! A unit 384-d vector takes 388 bytes instead of 1,536, and int8 dot products
//! are what both AVX2 and WASM SIMD do fastest (integer sums are associative,
//! so the plain loops below auto-vectorise on every target without intrinsics,
//! unlike f32 sums). Quantisation error is ~0.4 % of the largest component; the
//! exact re-scoring step multiplies the f32 query with the codes, so only the
//! stored side carries it (measured: see the index benchmark).

use serde::{Deserialize, Serialize};

/// One vector as int8 codes: `value[i] ≈ codes[i] * scale`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantizedVector {
    /// One signed byte per component, in `-127..=127`.
    pub codes: Vec<i8>,
    /// The factor back to f32; 0 for a zero or non-finite input.
    pub scale: f32,
}

impl QuantizedVector {
    /// Symmetric per-vector quantisation: the largest |component| maps to 127.
    pub fn quantize(v: &[f32]) -> Self {
        let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        if max == 0.0 || v.iter().any(|x| !x.is_finite()) {
            return Self {
                codes: vec![0; v.len()],
                scale: 0.0,
            };
        }
        let inv = 127.0 / max;
        let codes = v
            .iter()
            .map(|x| (x * inv).round().clamp(-127.0, 127.0) as i8)
            .collect();
        Self {
            codes,
            scale: max / 127.0,
        }
    }

    /// Components in the vector.
    pub fn dim(&self) -> usize {
        self.codes.len()
    }

    /// Approximate dot product of two quantised vectors.
    pub fn dot(&self, other: &Self) -> f32 {
        dot_i8(&self.codes, &other.codes) as f32 * self.scale * other.scale
    }

    /// Dot product of an f32 query with this vector: exact up to this side's quantisation.
    pub fn dot_f32(&self, query: &[f32]) -> f32 {
        dot_f32_i8(query, &self.codes) * self.scale
    }

    /// Back to f32 (for statistics and merges).
    pub fn to_f32(&self) -> Vec<f32> {
        self.codes.iter().map(|c| *c as f32 * self.scale).collect()
    }
}

/// HNSW distance: vectors are unit-length, so 1 − dot is the cosine distance.
impl instant_distance::Point for QuantizedVector {
    fn distance(&self, other: &Self) -> f32 {
        1.0 - self.dot(other)
    }
}

/// Σ a[i]·b[i] in i32. 32-wide chunks with i32 lanes: LLVM turns this into
/// `vpmaddwd` on AVX2 and `i32x4.dot_i16x8_s` on WASM SIMD.
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0i32; 32];
    let mut chunks_a = a.chunks_exact(32);
    let mut chunks_b = b.chunks_exact(32);
    for (ca, cb) in (&mut chunks_a).zip(&mut chunks_b) {
        for i in 0..32 {
            acc[i] += ca[i] as i32 * cb[i] as i32;
        }
    }
    let mut sum: i32 = acc.iter().sum();
    for (x, y) in chunks_a.remainder().iter().zip(chunks_b.remainder()) {
        sum += *x as i32 * *y as i32;
    }
    sum
}

/// Σ q[i]·c[i] with 16 independent f32 accumulators, so the compiler can keep
/// them in vector registers (a single accumulator forbids re-association).
pub fn dot_f32_i8(q: &[f32], c: &[i8]) -> f32 {
    let n = q.len().min(c.len());
    let (q, c) = (&q[..n], &c[..n]);
    let mut acc = [0f32; 16];
    let mut chunks_q = q.chunks_exact(16);
    let mut chunks_c = c.chunks_exact(16);
    for (cq, cc) in (&mut chunks_q).zip(&mut chunks_c) {
        for i in 0..16 {
            acc[i] += cq[i] * cc[i] as f32;
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for (x, y) in chunks_q.remainder().iter().zip(chunks_c.remainder()) {
        sum += x * *y as f32;
    }
    sum
}

/// Σ a[i]·b[i] over f32 with 16 accumulators (same reason as above).
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 16];
    let mut chunks_a = a.chunks_exact(16);
    let mut chunks_b = b.chunks_exact(16);
    for (ca, cb) in (&mut chunks_a).zip(&mut chunks_b) {
        for i in 0..16 {
            acc[i] += ca[i] * cb[i];
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for (x, y) in chunks_a.remainder().iter().zip(chunks_b.remainder()) {
        sum += x * y;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use xling_model::testing::pseudo_unit;

    #[test]
    fn kernels_match_plain_sums_for_every_length() {
        for len in [0, 1, 15, 16, 17, 31, 32, 33, 100, 384, 385] {
            let a: Vec<i8> = (0..len).map(|i| ((i * 37) % 255) as i8).collect();
            let b: Vec<i8> = (0..len).map(|i| ((i * 91 + 3) % 255) as i8).collect();
            let plain: i32 = a.iter().zip(&b).map(|(x, y)| *x as i32 * *y as i32).sum();
            assert_eq!(dot_i8(&a, &b), plain, "len {len}");
            let q: Vec<f32> = (0..len).map(|i| i as f32 * 0.01 - 1.0).collect();
            let plain: f32 = q.iter().zip(&a).map(|(x, y)| x * *y as f32).sum();
            assert!((dot_f32_i8(&q, &a) - plain).abs() <= 1e-3 * plain.abs().max(1.0));
            let plain: f32 = q.iter().zip(&q).map(|(x, y)| x * y).sum();
            assert!((dot_f32(&q, &q) - plain).abs() <= 1e-3 * plain.abs().max(1.0));
        }
    }

    #[test]
    fn quantised_dot_products_stay_close_to_f32() {
        for seed in 0..50 {
            let a = pseudo_unit(seed, 384);
            let b = pseudo_unit(seed + 1000, 384);
            let exact = dot_f32(&a, &b);
            let (qa, qb) = (QuantizedVector::quantize(&a), QuantizedVector::quantize(&b));
            assert!((qa.dot(&qb) - exact).abs() < 5e-3, "seed {seed}");
            assert!((qb.dot_f32(&a) - exact).abs() < 3e-3, "seed {seed}");
            assert!((qa.dot_f32(&a) - 1.0).abs() < 3e-3);
        }
    }

    #[test]
    fn zero_and_non_finite_vectors_quantise_to_zero() {
        let z = QuantizedVector::quantize(&[0.0; 8]);
        assert_eq!(z.scale, 0.0);
        assert_eq!(z.dot_f32(&[1.0; 8]), 0.0);
        let bad = QuantizedVector::quantize(&[f32::NAN, 1.0]);
        assert_eq!(bad.scale, 0.0);
    }
}
