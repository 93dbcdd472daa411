// Multi-head self-attention over the fused q|k|v rows, one workgroup per
// (window, head, 64 queries). Keys and values stream through workgroup memory
// in tiles of KEYS rows shared by the 64 queries, with a running (online)
// softmax, so the L × L score matrix never exists in memory. Keys past the
// window's own length (padding) are never read: the same as the CPU path's
// −1e9 mask, whose exp is exactly 0 in f32.

struct Params {
    // Padded window length.
    len: u32,
    hidden: u32,
    heads: u32,
    // 1 / sqrt(head_dim), applied to q as on the CPU.
    scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> lengths: array<u32>;
@group(0) @binding(3) var<storage, read_write> ctx: array<f32>;

const HEAD_DIM: u32 = {{HEAD_DIM}}u;
const V4: u32 = HEAD_DIM / 4u;
const QUERIES: u32 = 64u;
const KEYS: u32 = 32u;
var<workgroup> k_tile: array<vec4<f32>, KEYS * V4>;
var<workgroup> v_tile: array<vec4<f32>, KEYS * V4>;

fn load4(at: u32) -> vec4<f32> {
    return vec4<f32>(qkv[at], qkv[at + 1u], qkv[at + 2u], qkv[at + 3u]);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let window = wid.y / p.heads;
    let head = wid.y % p.heads;
    let query = wid.x * QUERIES + lid;
    let keys = lengths[window];
    let stride = 3u * p.hidden;
    let first = window * p.len;
    let is_real = query < keys;

    var q: array<vec4<f32>, V4>;
    var acc: array<vec4<f32>, V4>;
    if is_real {
        for (var c = 0u; c < V4; c++) {
            q[c] = load4((first + query) * stride + head * HEAD_DIM + 4u * c) * p.scale;
        }
    }
    var running_max = -3.0e38;
    var running_sum = 0.0;
    for (var k0 = 0u; k0 < keys; k0 += KEYS) {
        for (var i = lid; i < KEYS * V4; i += QUERIES) {
            let key = k0 + i / V4;
            var kv = vec4<f32>(0.0);
            var vv = vec4<f32>(0.0);
            if key < keys {
                let at = (first + key) * stride + head * HEAD_DIM + 4u * (i % V4);
                kv = load4(at + p.hidden);
                vv = load4(at + 2u * p.hidden);
            }
            k_tile[i] = kv;
            v_tile[i] = vv;
        }
        workgroupBarrier();
        if is_real {
            let count = min(KEYS, keys - k0);
            var s: array<f32, KEYS>;
            var tile_max = -3.0e38;
            for (var j = 0u; j < count; j++) {
                var d = vec4<f32>(0.0);
                for (var c = 0u; c < V4; c++) {
                    d += q[c] * k_tile[j * V4 + c];
                }
                s[j] = d.x + d.y + d.z + d.w;
                tile_max = max(tile_max, s[j]);
            }
            let new_max = max(running_max, tile_max);
            let correction = exp(running_max - new_max);
            running_sum *= correction;
            for (var c = 0u; c < V4; c++) {
                acc[c] *= correction;
            }
            for (var j = 0u; j < count; j++) {
                let e = exp(s[j] - new_max);
                running_sum += e;
                for (var c = 0u; c < V4; c++) {
                    acc[c] += e * v_tile[j * V4 + c];
                }
            }
            running_max = new_max;
        }
        workgroupBarrier();
    }
    if query < p.len {
        let out = (first + query) * p.hidden + head * HEAD_DIM;
        // Padding queries get zeros: nothing downstream reads them.
        let inv = select(0.0, 1.0 / running_sum, is_real);
        for (var c = 0u; c < V4; c++) {
            let v = acc[c] * inv;
            ctx[out + 4u * c] = v.x;
            ctx[out + 4u * c + 1u] = v.y;
            ctx[out + 4u * c + 2u] = v.z;
            ctx[out + 4u * c + 3u] = v.w;
        }
    }
}
