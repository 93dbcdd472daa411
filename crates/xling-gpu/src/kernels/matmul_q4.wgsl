// y = a · wᵀ + bias (optionally GELU), with `a` f32 [m, k] and `w` Q4_0 [n, k]
// kept as the model file's raw blocks. Each workgroup computes a TILE × TILE
// block of `y`, each thread a 4 × 4 part of it. The k dimension is walked one
// Q4_0 block (32 values) at a time: a [TILE × 32] slice of `a` and the TILE
// weight blocks are staged in workgroup memory (the weights expanded once per
// workgroup, not once per output), so every value read from memory is used
// TILE times. TILE is set by the host from the device's workgroup limits.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    // 1: apply GELU (erf form) after the bias.
    gelu: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> q4_data: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

const TILE: u32 = {{TILE}}u;
const SIDE: u32 = TILE / 4u;
const THREADS: u32 = SIDE * SIDE;
const BK: u32 = 32u;
// [k][m / 4] and [k][n / 4]: a thread reads its 4 rows / 4 columns as one vec4.
var<workgroup> a_tile: array<vec4<f32>, BK * SIDE>;
var<workgroup> w_tile: array<vec4<f32>, BK * SIDE>;

@compute @workgroup_size(SIDE, SIDE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
    let row0 = wid.y * TILE;
    let col0 = wid.x * TILE;
    let blocks = p.k / BK;
    var acc: array<vec4<f32>, 4>;
    for (var kb = 0u; kb < blocks; kb++) {
        for (var i = tid; i < TILE * BK; i += THREADS) {
            let m = i / BK;
            let kk = i % BK;
            var v = 0.0;
            if row0 + m < p.m {
                v = a[(row0 + m) * p.k + kb * BK + kk];
            }
            a_tile[kk * SIDE + m / 4u][m % 4u] = v;
        }
        // Four threads per weight row, one nibble word (8 values) each.
        for (var i = tid; i < TILE * 4u; i += THREADS) {
            let nn = i / 4u;
            let part = i % 4u;
            var word = 0u;
            var scale = 0.0;
            if col0 + nn < p.n {
                let b = q4_block((col0 + nn) * blocks + kb);
                word = b.q[part];
                scale = b.scale;
            }
            for (var j = 0u; j < 4u; j++) {
                w_tile[(4u * part + j) * SIDE + nn / 4u][nn % 4u] = q4_low(word, j, scale);
                w_tile[(16u + 4u * part + j) * SIDE + nn / 4u][nn % 4u] = q4_high(word, j, scale);
            }
        }
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            let av = a_tile[kk * SIDE + lid.y];
            let wv = w_tile[kk * SIDE + lid.x];
            acc[0] += av.x * wv;
            acc[1] += av.y * wv;
            acc[2] += av.z * wv;
            acc[3] += av.w * wv;
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let row = row0 + lid.y * 4u + i;
        for (var j = 0u; j < 4u; j++) {
            let col = col0 + lid.x * 4u + j;
            if row < p.m && col < p.n {
                var v = acc[i][j] + bias[col];
                if p.gelu == 1u {
                    v = 0.5 * v * (1.0 + erf(v * 0.70710678118654752));
                }
                y[row * p.n + col] = v;
            }
        }
    }
}

// erf as a rational function of x² on [-4, 4] (|error| < 5e-7; ±1 beyond):
// the same coefficients as the CPU encoder's `activation.rs`.
fn erf(x_in: f32) -> f32 {
    let x = clamp(x_in, -4.0, 4.0);
    let x2 = x * x;
    var p = -2.7261423e-10;
    p = fma(p, x2, 2.7706814e-8);
    p = fma(p, x2, -2.101024e-6);
    p = fma(p, x2, -5.6925064e-5);
    p = fma(p, x2, -7.3499063e-4);
    p = fma(p, x2, -2.9546e-3);
    p = fma(p, x2, -1.6096033e-2);
    var q = -1.4566072e-5;
    q = fma(q, x2, -2.1337406e-4);
    q = fma(q, x2, -1.682827e-3);
    q = fma(q, x2, -7.373329e-3);
    q = fma(q, x2, -1.426474e-2);
    return x * p / q;
}
