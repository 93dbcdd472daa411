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

/// A query in 16-bit fixed point, for scoring it against many int8 vectors
/// (the exact scan, which visits every passage below 20k of them): Σ q·c is
/// then integer multiply-adds, `i32x4.dot_i16x8_s` in WASM (measured 11×
/// faster than the f32 × int8 loop in V8 at 10k × 384) and `vpmaddwd`
/// natively (3×). Each component is off by at most half a step of
/// `max|q| / 32767`, ~1e-5 on a cosine: far below the stored side's int8
/// quantisation (~3e-3), so scores stay exact up to that side.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedQuery {
    values: Vec<i16>,
    /// The factor back to f32.
    scale: f32,
}

impl FixedQuery {
    /// `query` in fixed point; a zero or non-finite query scores 0.
    pub fn new(query: &[f32]) -> Self {
        let max = query.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        if max == 0.0 || query.iter().any(|x| !x.is_finite()) {
            return Self {
                values: vec![0; query.len()],
                scale: 0.0,
            };
        }
        // The largest step that cannot overflow the i32 sum: |Σ q·c| ≤
        // dim · top · 127 ≤ i32::MAX.
        let top = (i32::MAX as usize / (query.len().max(1) * 127)).min(i16::MAX as usize) as f32;
        let inv = top / max;
        Self {
            values: query
                .iter()
                .map(|x| (x * inv).round().clamp(-top, top) as i16)
                .collect(),
            scale: max / top,
        }
    }

    /// Components in the query.
    pub fn dim(&self) -> usize {
        self.values.len()
    }

    /// Σ query[i]·codes[i] in f32 (times nothing: the caller applies the
    /// vector's own scale).
    pub fn dot(&self, codes: &[i8]) -> f32 {
        dot_i16_i8(&self.values, codes) as f32 * self.scale
    }
}

/// Σ a[i]·b[i] in i32 (callers keep it from overflowing: [`FixedQuery`]).
pub fn dot_i16_i8(a: &[i16], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        // SAFETY: simd128 is enabled at compile time; both slices hold `n`.
        unsafe { simd128::dot_i16_i8(a, b) }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        dot_i16_i8_portable(a, b)
    }
}

/// The plain loop: LLVM vectorises it to `vpmovsxbw` + `vpmaddwd` on AVX2.
#[cfg_attr(
    all(target_arch = "wasm32", target_feature = "simd128"),
    allow(dead_code)
)]
fn dot_i16_i8_portable(a: &[i16], b: &[i8]) -> i32 {
    let mut acc = [0i32; 16];
    let mut chunks_a = a.chunks_exact(16);
    let mut chunks_b = b.chunks_exact(16);
    for (ca, cb) in (&mut chunks_a).zip(&mut chunks_b) {
        for i in 0..16 {
            acc[i] += ca[i] as i32 * cb[i] as i32;
        }
    }
    let mut sum: i32 = acc.iter().sum();
    for (x, y) in chunks_a.remainder().iter().zip(chunks_b.remainder()) {
        sum += *x as i32 * *y as i32;
    }
    sum
}

/// V8 does not turn the plain loop into `i32x4.dot_i16x8_s` (measured: 4×
/// slower than this kernel), so WASM gets it written out.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128 {
    use core::arch::wasm32::*;

    /// # Safety
    /// simd128 must be enabled and `a.len() == b.len()`.
    pub unsafe fn dot_i16_i8(a: &[i16], b: &[i8]) -> i32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let (mut s0, mut s1) = (i32x4_splat(0), i32x4_splat(0));
        let mut i = 0;
        while i + 16 <= n {
            let b0 = i16x8_load_extend_i8x8(pb.add(i));
            let b1 = i16x8_load_extend_i8x8(pb.add(i + 8));
            let a0 = v128_load(pa.add(i) as *const v128);
            let a1 = v128_load(pa.add(i + 8) as *const v128);
            s0 = i32x4_add(s0, i32x4_dot_i16x8(a0, b0));
            s1 = i32x4_add(s1, i32x4_dot_i16x8(a1, b1));
            i += 16;
        }
        let s = i32x4_add(s0, s1);
        let mut sum = i32x4_extract_lane::<0>(s)
            + i32x4_extract_lane::<1>(s)
            + i32x4_extract_lane::<2>(s)
            + i32x4_extract_lane::<3>(s);
        while i < n {
            sum += *pa.add(i) as i32 * *pb.add(i) as i32;
            i += 1;
        }
        sum
    }
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
    fn the_fixed_point_query_scores_as_the_f32_one() {
        for len in [0, 1, 15, 16, 17, 33, 384, 385, 1024] {
            let a: Vec<i8> = (0..len).map(|i| ((i * 37) % 255) as u8 as i8).collect();
            let b: Vec<i16> = (0..len)
                .map(|i| ((i * 91 + 3) % 65535) as u16 as i16)
                .collect();
            let plain: i64 = a.iter().zip(&b).map(|(x, y)| *x as i64 * *y as i64).sum();
            if plain.unsigned_abs() < i32::MAX as u64 {
                assert_eq!(dot_i16_i8(&b, &a) as i64, plain, "len {len}");
            }
        }
        for seed in 0..50 {
            for dim in [384, 1024] {
                let q = pseudo_unit(seed, dim);
                let v = QuantizedVector::quantize(&pseudo_unit(seed + 500, dim));
                let fixed = FixedQuery::new(&q).dot(&v.codes) * v.scale;
                assert!(
                    (fixed - v.dot_f32(&q)).abs() < 2e-5,
                    "seed {seed} dim {dim}"
                );
            }
        }
        // The worst case cannot overflow: every component at the top, every code at 127.
        for dim in [384, 600, 4096] {
            let q = FixedQuery::new(&vec![1.0; dim]);
            let codes = vec![127i8; dim];
            assert!((q.dot(&codes) - 127.0 * dim as f32).abs() <= 1e-3 * dim as f32);
        }
        assert_eq!(FixedQuery::new(&[0.0; 4]).dot(&[1; 4]), 0.0);
        assert_eq!(FixedQuery::new(&[f32::NAN, 1.0]).dot(&[1, 1]), 0.0);
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
