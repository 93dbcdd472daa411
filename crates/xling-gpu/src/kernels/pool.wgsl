// Mean of each window's final hidden states over its own tokens (specials
// included, padding excluded): one thread per (window, dimension).

struct Params {
    len: u32,
    hidden: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> lengths: array<u32>;
@group(0) @binding(3) var<storage, read_write> means: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let window = wid.y;
    let d = gid.x;
    if d >= p.hidden {
        return;
    }
    let n = lengths[window];
    var sum = 0.0;
    for (var t = 0u; t < n; t++) {
        sum += x[(window * p.len + t) * p.hidden + d];
    }
    means[window * p.hidden + d] = sum / f32(n);
}
