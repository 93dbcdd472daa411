//! WebAssembly SIMD128 versions of the two hot loops of `gemv.rs`: expanding
//! Q4_0 rows and the four-row dot block. The portable loops do not vectorise
//! well in WASM (LLVM keeps them scalar), and they are nearly all of the
//! encoder's time there.

use core::arch::wasm32::*;

use super::gemv::ROWS_PER_ITEM;
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

#[inline(always)]
unsafe fn load(p: *const f32) -> v128 {
    v128_load(p as *const v128)
}

#[inline(always)]
unsafe fn madd(a: v128, b: v128, acc: v128) -> v128 {
    f32x4_add(acc, f32x4_mul(a, b))
}

#[inline(always)]
fn hsum(v: v128) -> f32 {
    f32x4_extract_lane::<0>(v)
        + f32x4_extract_lane::<1>(v)
        + f32x4_extract_lane::<2>(v)
        + f32x4_extract_lane::<3>(v)
}

/// Four weight rows against `m` rows of `x`; `out[r * m + i]` = row r · x_i.
///
/// # Safety
/// Caller guarantees `x.len() >= m * k`, `w.len() >= 4 * k`, `k % 4 == 0`,
/// `out.len() >= 4 * m`.
pub unsafe fn dot_block(x: &[f32], w: &[f32], k: usize, m: usize, out: &mut [f32]) {
    let wp = w.as_ptr();
    let (w0, w1, w2, w3) = (wp, wp.add(k), wp.add(2 * k), wp.add(3 * k));
    let xp = x.as_ptr();
    let mut i = 0;
    while i + 2 <= m {
        let (xa, xb) = (xp.add(i * k), xp.add((i + 1) * k));
        let mut acc = [f32x4_splat(0.0); 8];
        let mut c = 0;
        while c < k {
            let va = load(xa.add(c));
            let vb = load(xb.add(c));
            let r0 = load(w0.add(c));
            let r1 = load(w1.add(c));
            let r2 = load(w2.add(c));
            let r3 = load(w3.add(c));
            acc[0] = madd(va, r0, acc[0]);
            acc[1] = madd(va, r1, acc[1]);
            acc[2] = madd(va, r2, acc[2]);
            acc[3] = madd(va, r3, acc[3]);
            acc[4] = madd(vb, r0, acc[4]);
            acc[5] = madd(vb, r1, acc[5]);
            acc[6] = madd(vb, r2, acc[6]);
            acc[7] = madd(vb, r3, acc[7]);
            c += 4;
        }
        for r in 0..ROWS_PER_ITEM {
            out[r * m + i] = hsum(acc[r]);
            out[r * m + i + 1] = hsum(acc[4 + r]);
        }
        i += 2;
    }
    if i < m {
        let xa = xp.add(i * k);
        let mut acc = [f32x4_splat(0.0); 4];
        let mut c = 0;
        while c < k {
            let va = load(xa.add(c));
            acc[0] = madd(va, load(w0.add(c)), acc[0]);
            acc[1] = madd(va, load(w1.add(c)), acc[1]);
            acc[2] = madd(va, load(w2.add(c)), acc[2]);
            acc[3] = madd(va, load(w3.add(c)), acc[3]);
            c += 4;
        }
        for r in 0..ROWS_PER_ITEM {
            out[r * m + i] = hsum(acc[r]);
        }
    }
}
