// Token embeddings: word row (Q4_0, gathered and expanded) + position row
// (with token type 0 already added). One thread expands one block of 32 values.
// The table may be split over several buffers (a device's binding-size limit):
// each dispatch handles the ids in [row_start, row_start + row_count).

struct Params {
    tokens: u32,
    hidden: u32,
    // Padded window length: the position of token t is t % len.
    len: u32,
    row_start: u32,
    row_count: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> q4_data: array<u32>;
@group(0) @binding(3) var<storage, read> position_type: array<f32>;
@group(0) @binding(4) var<storage, read_write> x: array<f32>;

// Padding slots carry this id; their rows stay zero.
const PAD: u32 = 0xffffffffu;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let blocks_per_row = p.hidden / 32u;
    let index = gid.x + gid.y * groups.x * 64u;
    let token = index / blocks_per_row;
    let block = index % blocks_per_row;
    if token >= p.tokens {
        return;
    }
    let id = ids[token];
    if id == PAD || id < p.row_start || id - p.row_start >= p.row_count {
        return;
    }
    let b = q4_block((id - p.row_start) * blocks_per_row + block);
    let out = token * p.hidden + block * 32u;
    let pos = (token % p.len) * p.hidden + block * 32u;
    for (var k = 0u; k < 4u; k++) {
        let word = b.q[k];
        for (var j = 0u; j < 4u; j++) {
            let i = 4u * k + j;
            x[out + i] = q4_low(word, j, b.scale) + position_type[pos + i];
            x[out + 16u + i] = q4_high(word, j, b.scale) + position_type[pos + 16u + i];
        }
    }
}
