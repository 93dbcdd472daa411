// Reading GGML `block_q4_0` blocks straight from the model file's bytes:
// 18 bytes per block of 32 weights, an f16 scale then 16 bytes of nibbles
// (value j is the low nibble of byte j, value 16 + j its high nibble), as
// `(nibble - 8) * scale`. Blocks are not 4-byte aligned (18 bytes), so a block
// starts either on a word (even blocks) or half-way into one (odd blocks).

struct Q4Block {
    scale: f32,
    // The 16 nibble bytes as four little-endian words.
    q: vec4<u32>,
}

fn q4_block(block: u32) -> Q4Block {
    let w = block * 18u / 4u;
    var out: Q4Block;
    if (block & 1u) == 0u {
        let w0 = q4_data[w];
        let w1 = q4_data[w + 1u];
        let w2 = q4_data[w + 2u];
        let w3 = q4_data[w + 3u];
        let w4 = q4_data[w + 4u];
        out.scale = unpack2x16float(w0).x;
        out.q = vec4<u32>(
            (w0 >> 16u) | (w1 << 16u),
            (w1 >> 16u) | (w2 << 16u),
            (w2 >> 16u) | (w3 << 16u),
            (w3 >> 16u) | (w4 << 16u),
        );
    } else {
        out.scale = unpack2x16float(q4_data[w]).y;
        out.q = vec4<u32>(q4_data[w + 1u], q4_data[w + 2u], q4_data[w + 3u], q4_data[w + 4u]);
    }
    return out;
}

// Byte `j` (0..4) of a nibble word, as its low and high weights.
fn q4_low(word: u32, j: u32, scale: f32) -> f32 {
    return (f32((word >> (8u * j)) & 15u) - 8.0) * scale;
}

fn q4_high(word: u32, j: u32, scale: f32) -> f32 {
    return (f32((word >> (8u * j + 4u)) & 15u) - 8.0) * scale;
}
