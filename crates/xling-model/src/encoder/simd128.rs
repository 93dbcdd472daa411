//! WebAssembly SIMD128 for the two hot loops of `gemv.rs`: expanding Q4_0
//! rows, and the registers of the shared four-row dot block. The portable loops do not vectorise
//! well in WASM (LLVM keeps them scalar), and they are nearly all of the
//! encoder's time there.

use core::arch::wasm32::*;

use super::gemv::Lanes;
use super::q4::{BLOCK_BYTES, BLOCK_VALUES};

/// Expands Q4_0 blocks. Caller guarantees `row.len() % 18 == 0` and room
/// for `row.len() / 18 * 32` values in `out`.
///
/// # Safety
/// The lengths above; the loads and stores stay inside the slices then.
pub unsafe fn dequantize_row(row: &[u8], out: &mut [f32]) {
    let mask = u8x16_splat(0x0f);
    let eight = i32x4_splat(8);
    for (block, values) in row
        .chunks_exact(BLOCK_BYTES)
        .zip(out.chunks_exact_mut(BLOCK_VALUES))
    {
        let d = f32x4_splat(half::f16::from_le_bytes([block[0], block[1]]).to_f32());
        let qs = v128_load(block.as_ptr().add(2) as *const v128);
        let low = v128_and(qs, mask);
        let high = u8x16_shr(qs, 4);
        let dst = values.as_mut_ptr();
        for (at, nibbles) in [(0usize, low), (16, high)] {
            let lo16 = u16x8_extend_low_u8x16(nibbles);
            let hi16 = u16x8_extend_high_u8x16(nibbles);
            let parts = [
                u32x4_extend_low_u16x8(lo16),
                u32x4_extend_high_u16x8(lo16),
                u32x4_extend_low_u16x8(hi16),
                u32x4_extend_high_u16x8(hi16),
            ];
            for (j, p) in parts.into_iter().enumerate() {
                let v = f32x4_mul(f32x4_convert_i32x4(i32x4_sub(p, eight)), d);
                v128_store(dst.add(at + 4 * j) as *mut v128, v);
            }
        }
    }
}

/// SIMD128 registers for the shared dot-block kernel (`gemv.rs`). No fused
/// multiply-add without relaxed SIMD, which not every browser has.
#[derive(Clone, Copy)]
pub struct Simd128(v128);

impl Lanes for Simd128 {
    const WIDTH: usize = 4;

    #[inline(always)]
    unsafe fn zero() -> Self {
        Simd128(f32x4_splat(0.0))
    }

    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        Simd128(v128_load(p as *const v128))
    }

    #[inline(always)]
    unsafe fn madd(a: Self, b: Self, acc: Self) -> Self {
        Simd128(f32x4_add(acc.0, f32x4_mul(a.0, b.0)))
    }

    #[inline(always)]
    unsafe fn hsum(self) -> f32 {
        f32x4_extract_lane::<0>(self.0)
            + f32x4_extract_lane::<1>(self.0)
            + f32x4_extract_lane::<2>(self.0)
            + f32x4_extract_lane::<3>(self.0)
    }
}
