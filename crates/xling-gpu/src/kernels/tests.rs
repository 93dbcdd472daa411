//! Each kernel against a plain CPU implementation on random inputs, on
//! whatever adapter the machine has (lavapipe on CI). No adapter is a
//! failure, not a skip.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::context::AdapterChoice;

fn gpu() -> Gpu {
    pollster::block_on(Gpu::new(AdapterChoice::Any))
        .expect("a GPU adapter (on machines without a GPU: apt-get install mesa-vulkan-drivers)")
}

fn kernels(gpu: &Gpu, head_dim: usize) -> Kernels {
    pollster::block_on(Kernels::new(gpu, head_dim)).expect("kernels compile")
}

/// Runs `dispatches` and reads `floats` values of `out` back.
fn run(gpu: &Gpu, dispatches: &[Dispatch<'_>], out: &wgpu::Buffer, floats: usize) -> Vec<f32> {
    let mut encoder = gpu
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
    record(&mut encoder, dispatches);
    let readback = gpu.submit_with_readback(encoder, out, floats);
    pollster::block_on(readback.values(gpu)).expect("results come back")
}

fn random(rng: &mut StdRng, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-scale..scale)).collect()
}

/// Random Q4_0 blocks: `rows × cols / 32` blocks of an f16 scale and 16 nibble bytes.
fn random_q4(rng: &mut StdRng, rows: usize, cols: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    for _ in 0..rows * cols / 32 {
        let scale = half::f16::from_f32(rng.gen_range(-0.2..0.2));
        bytes.extend(scale.to_le_bytes());
        bytes.extend((0..16).map(|_| rng.gen::<u8>()));
    }
    bytes
}

/// The GGML definition, written out independently of the kernels and of
/// the CPU encoder's SIMD code.
fn dequantize(bytes: &[u8], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0f32; rows * cols];
    for (block, values) in bytes.chunks_exact(18).zip(out.chunks_exact_mut(32)) {
        let d = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
        for j in 0..16 {
            values[j] = ((block[2 + j] & 15) as f32 - 8.0) * d;
            values[16 + j] = ((block[2 + j] >> 4) as f32 - 8.0) * d;
        }
    }
    out
}

fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + libm_erf(x as f64 / std::f64::consts::SQRT_2) as f32)
}

/// erf by its Taylor series (|x| < 3) or asymptotic 1 (beyond): an oracle
/// independent of the kernels' rational approximation.
fn libm_erf(x: f64) -> f64 {
    if x.abs() >= 3.0 {
        return x.signum() * (1.0 - (-x * x).exp() / (x.abs() * std::f64::consts::PI.sqrt()));
    }
    let (mut sum, mut term) = (x, x);
    for n in 1..200 {
        term *= -x * x / n as f64;
        sum += term / (2 * n + 1) as f64;
    }
    sum * 2.0 / std::f64::consts::PI.sqrt()
}

fn assert_close(got: &[f32], want: &[f32], tolerance: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs() / w.abs().max(1.0);
        assert!(err <= tolerance, "{what}[{i}]: GPU {g} vs CPU {w}");
    }
}

#[test]
fn q4_matmul_matches_the_cpu_with_bias_and_gelu() {
    let gpu = gpu();
    let k = kernels(&gpu, 32);
    let mut rng = StdRng::seed_from_u64(1);
    // Shapes off the tile grid in m and n, several blocks of k, one row.
    for (m, n, kk) in [(70, 96, 64), (1, 384, 384), (130, 37, 96), (64, 64, 32)] {
        for gelu_on in [false, true] {
            let a = random(&mut rng, m * kk, 2.0);
            let w = random_q4(&mut rng, n, kk);
            let bias = random(&mut rng, n, 1.0);
            let dense = dequantize(&w, n, kk);
            let want: Vec<f32> = (0..m * n)
                .map(|i| {
                    let (r, c) = (i / n, i % n);
                    let dot: f32 = (0..kk).map(|j| a[r * kk + j] * dense[c * kk + j]).sum();
                    let v = dot + bias[c];
                    if gelu_on {
                        gelu(v)
                    } else {
                        v
                    }
                })
                .collect();
            let (a_buf, w_buf) = (
                gpu.storage_from_f32("a", &a),
                gpu.storage_from_bytes("w", &w),
            );
            let b_buf = gpu.storage_from_f32("bias", &bias);
            let y = gpu.scratch("y", m * n);
            let d = k
                .matmul(
                    &gpu,
                    &a_buf,
                    &w_buf,
                    &b_buf,
                    &y,
                    (m as u32, n as u32, kk as u32),
                    gelu_on,
                )
                .unwrap();
            let got = run(&gpu, &[d], &y, m * n);
            assert_close(
                &got,
                &want,
                2e-5,
                &format!("matmul {m}×{n}×{kk} gelu {gelu_on}"),
            );
        }
    }
}

#[test]
fn small_tile_gives_the_same_products() {
    // Devices with less workgroup memory get 32-wide tiles: check that path too.
    let gpu = gpu();
    let mut k = kernels(&gpu, 32);
    let mut rng = StdRng::seed_from_u64(2);
    let (m, n, kk) = (45, 70, 64);
    let a = random(&mut rng, m * kk, 1.0);
    let w = random_q4(&mut rng, n, kk);
    let bias = random(&mut rng, n, 1.0);
    let (a_buf, w_buf) = (
        gpu.storage_from_f32("a", &a),
        gpu.storage_from_bytes("w", &w),
    );
    let b_buf = gpu.storage_from_f32("bias", &bias);
    let mut results = Vec::new();
    for tile in [64, 32] {
        k.matmul = compile(&gpu, "matmul_q4", &matmul_source(tile));
        k.tile = tile;
        let y = gpu.scratch("y", m * n);
        let d = k
            .matmul(
                &gpu,
                &a_buf,
                &w_buf,
                &b_buf,
                &y,
                (m as u32, n as u32, kk as u32),
                false,
            )
            .unwrap();
        results.push(run(&gpu, &[d], &y, m * n));
    }
    assert_close(&results[1], &results[0], 1e-6, "tile 32 vs 64");
}

#[test]
fn layer_norm_matches_the_cpu_with_and_without_residual() {
    let gpu = gpu();
    let k = kernels(&gpu, 32);
    let mut rng = StdRng::seed_from_u64(3);
    for (rows, hidden) in [(5, 384), (3, 100), (1, 32)] {
        let x: Vec<f32> = random(&mut rng, rows * hidden, 3.0)
            .iter()
            .map(|v| v + 5.0)
            .collect();
        let r = random(&mut rng, rows * hidden, 3.0);
        let gamma = random(&mut rng, hidden, 2.0);
        let beta = random(&mut rng, hidden, 1.0);
        let eps = 1e-12;
        let bufs = [&x, &r, &gamma, &beta].map(|v| gpu.storage_from_f32("in", v));
        for with_residual in [false, true] {
            let want: Vec<f32> = x
                .chunks(hidden)
                .zip(r.chunks(hidden))
                .flat_map(|(xr, rr)| {
                    let v: Vec<f64> = xr
                        .iter()
                        .zip(rr)
                        .map(|(a, b)| *a as f64 + if with_residual { *b as f64 } else { 0.0 })
                        .collect();
                    let mean = v.iter().sum::<f64>() / hidden as f64;
                    let var = v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / hidden as f64;
                    let inv = 1.0 / (var + eps).sqrt();
                    (0..hidden)
                        .map(|i| ((v[i] - mean) * inv * gamma[i] as f64 + beta[i] as f64) as f32)
                        .collect::<Vec<_>>()
                })
                .collect();
            let out = gpu.scratch("out", rows * hidden);
            let residual = with_residual.then_some(&bufs[1]);
            let d = k
                .layer_norm(
                    &gpu,
                    &bufs[0],
                    residual,
                    (&bufs[2], &bufs[3]),
                    &out,
                    (rows as u32, hidden as u32),
                    eps as f32,
                )
                .unwrap();
            let got = run(&gpu, &[d], &out, rows * hidden);
            assert_close(
                &got,
                &want,
                2e-5,
                &format!("layer norm {rows}×{hidden} residual {with_residual}"),
            );
        }
    }
}

#[test]
fn embedding_gather_spans_table_parts_and_leaves_padding_zero() {
    let gpu = gpu();
    let k = kernels(&gpu, 32);
    let mut rng = StdRng::seed_from_u64(4);
    let (rows, hidden, len, windows) = (13, 64, 5, 3);
    let table = random_q4(&mut rng, rows, hidden);
    let dense = dequantize(&table, rows, hidden);
    let position_type = random(&mut rng, len * hidden, 1.0);
    // Window lengths 5, 2 and 4: padding in the last two.
    let ids: Vec<u32> = [
        0,
        12,
        6,
        7,
        3,
        12,
        1,
        u32::MAX,
        u32::MAX,
        u32::MAX,
        9,
        8,
        7,
        6,
        u32::MAX,
    ]
    .to_vec();
    let want: Vec<f32> = ids
        .iter()
        .enumerate()
        .flat_map(|(t, &id)| (0..hidden).map(move |i| (t, id, i)))
        .map(|(t, id, i)| {
            if id == u32::MAX {
                0.0
            } else {
                dense[id as usize * hidden + i] + position_type[(t % len) * hidden + i]
            }
        })
        .collect();
    // The table in two parts, rows 0..7 and 7..13, as on a device whose
    // binding limit is smaller than the table.
    let row_bytes = hidden / 32 * 18;
    let parts = [(0u32, 7u32), (7, 13)].map(|(a, b)| {
        (
            gpu.storage_from_bytes(
                "part",
                &table[a as usize * row_bytes..b as usize * row_bytes],
            ),
            a..b,
        )
    });
    let ids_buf = gpu.storage_from_u32("ids", &ids);
    let pt = gpu.storage_from_f32("pt", &position_type);
    let x = gpu.scratch("x", ids.len() * hidden);
    let dispatches: Vec<_> = parts
        .iter()
        .map(|(buf, rows)| {
            k.embed(
                &gpu,
                &ids_buf,
                buf,
                rows.clone(),
                &pt,
                &x,
                ((len * windows) as u32, len as u32, hidden as u32),
            )
            .unwrap()
        })
        .collect();
    let got = run(&gpu, &dispatches, &x, ids.len() * hidden);
    assert_close(&got, &want, 1e-6, "embedding");
}

/// Attention of each window over its own first `lengths[w]` tokens.
fn cpu_attention(
    qkv: &[f32],
    lengths: &[usize],
    len: usize,
    hidden: usize,
    heads: usize,
) -> Vec<f32> {
    let hd = hidden / heads;
    let scale = 1.0 / (hd as f32).sqrt();
    let mut out = vec![0f32; lengths.len() * len * hidden];
    for (w, &n) in lengths.iter().enumerate() {
        for h in 0..heads {
            for q in 0..n {
                let row = |t: usize, part: usize| {
                    let at = (w * len + t) * 3 * hidden + part * hidden + h * hd;
                    &qkv[at..at + hd]
                };
                let scores: Vec<f32> = (0..n)
                    .map(|key| {
                        row(q, 0)
                            .iter()
                            .zip(row(key, 1))
                            .map(|(a, b)| a * scale * b)
                            .sum()
                    })
                    .collect();
                let max = scores.iter().copied().fold(f32::MIN, f32::max);
                let exps: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
                let total: f32 = exps.iter().sum();
                for d in 0..hd {
                    let v: f32 = (0..n).map(|key| exps[key] * row(key, 2)[d]).sum();
                    out[(w * len + q) * hidden + h * hd + d] = v / total;
                }
            }
        }
    }
    out
}

#[test]
fn attention_matches_the_cpu_and_ignores_padding() {
    let gpu = gpu();
    let mut rng = StdRng::seed_from_u64(5);
    // Lengths across the 32-key tiles and 64-query groups, and a window of one.
    for (head_dim, heads, lengths) in [(32, 3, vec![70, 3, 1, 64]), (8, 2, vec![33, 32, 5])] {
        let k = kernels(&gpu, head_dim);
        let hidden = head_dim * heads;
        let len = *lengths.iter().max().unwrap();
        let mut qkv = random(&mut rng, lengths.len() * len * 3 * hidden, 2.0);
        // Huge values in the padding rows must not reach any real token.
        for (w, &n) in lengths.iter().enumerate() {
            for t in n..len {
                let at = (w * len + t) * 3 * hidden;
                qkv[at..at + 3 * hidden].fill(1e30);
            }
        }
        let want = cpu_attention(&qkv, &lengths, len, hidden, heads);
        let lengths_u32: Vec<u32> = lengths.iter().map(|&n| n as u32).collect();
        let qkv_buf = gpu.storage_from_f32("qkv", &qkv);
        let len_buf = gpu.storage_from_u32("lengths", &lengths_u32);
        let ctx = gpu.scratch("ctx", lengths.len() * len * hidden);
        let scale = 1.0 / (head_dim as f32).sqrt();
        let dims = (
            lengths.len() as u32,
            len as u32,
            hidden as u32,
            heads as u32,
        );
        let d = k
            .attention(&gpu, &qkv_buf, &len_buf, &ctx, dims, scale)
            .unwrap();
        let got = run(&gpu, &[d], &ctx, want.len());
        assert_close(
            &got,
            &want,
            1e-5,
            &format!("attention head {head_dim} × {heads}"),
        );
    }
}

#[test]
fn pooling_averages_each_window_over_its_own_tokens() {
    let gpu = gpu();
    let k = kernels(&gpu, 32);
    let mut rng = StdRng::seed_from_u64(6);
    let (hidden, len, lengths) = (100, 6, [6u32, 1, 4]);
    let mut x = random(&mut rng, lengths.len() * len * hidden, 3.0);
    for (w, &n) in lengths.iter().enumerate() {
        let from = (w * len + n as usize) * hidden;
        x[from..(w + 1) * len * hidden].fill(1e30);
    }
    let want: Vec<f32> = lengths
        .iter()
        .enumerate()
        .flat_map(|(w, &n)| {
            let x = &x;
            (0..hidden).map(move |d| {
                (0..n as usize)
                    .map(|t| x[(w * len + t) * hidden + d])
                    .sum::<f32>()
                    / n as f32
            })
        })
        .collect();
    let x_buf = gpu.storage_from_f32("x", &x);
    let len_buf = gpu.storage_from_u32("lengths", &lengths);
    let means = gpu.scratch("means", lengths.len() * hidden);
    let d = k
        .pool(
            &gpu,
            &x_buf,
            &len_buf,
            &means,
            (lengths.len() as u32, len as u32, hidden as u32),
        )
        .unwrap();
    let got = run(&gpu, &[d], &means, want.len());
    assert_close(&got, &want, 1e-6, "pooling");
}
