// out = LayerNorm(x + residual) * gamma + beta, one workgroup per row.
// Mean first, then the mean squared deviation (two passes over the row, as
// exact as f32 allows; one-pass E[x²] - E[x]² loses digits on large means).

struct Params {
    rows: u32,
    hidden: u32,
    eps: f32,
    // 1: add `residual` first; 0: normalise `x` alone.
    use_residual: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> residual: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

const THREADS: u32 = 64u;
var<workgroup> partial: array<f32, THREADS>;

fn value(row: u32, i: u32) -> f32 {
    let at = row * p.hidden + i;
    if p.use_residual == 1u {
        return x[at] + residual[at];
    }
    return x[at];
}

fn workgroup_sum(lid: u32, v: f32) -> f32 {
    partial[lid] = v;
    workgroupBarrier();
    for (var stride = THREADS / 2u; stride > 0u; stride /= 2u) {
        if lid < stride {
            partial[lid] += partial[lid + stride];
        }
        workgroupBarrier();
    }
    let total = partial[0];
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) groups: vec3<u32>) {
    let row = wid.x + wid.y * groups.x;
    // Uniform per workgroup, so the barriers below stay in uniform control flow.
    if row >= p.rows {
        return;
    }
    let n = f32(p.hidden);
    var s = 0.0;
    for (var i = lid; i < p.hidden; i += THREADS) {
        s += value(row, i);
    }
    let mean = workgroup_sum(lid, s) / n;
    var d = 0.0;
    for (var i = lid; i < p.hidden; i += THREADS) {
        let c = value(row, i) - mean;
        d += c * c;
    }
    let inv_std = inverseSqrt(workgroup_sum(lid, d) / n + p.eps);
    for (var i = lid; i < p.hidden; i += THREADS) {
        out[row * p.hidden + i] = (value(row, i) - mean) * inv_std * gamma[i] + beta[i];
    }
}
