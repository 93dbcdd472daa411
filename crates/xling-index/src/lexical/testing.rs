//! Test helpers shared by the lexical modules: a seeded generator, Zipf-like
//! passages and a small hand-checked index.

use super::{Bm25Params, LexicalIndex};
use xling_model::error::Result;

/// splitmix64: a small deterministic generator, so tests need no crate.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Zipf-distributed term ids (s = 1), like pieces in real text: a few
/// pieces ("▁", "s", ",") are in most passages, most are rare.
pub(super) struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub(super) fn new(vocab: usize) -> Self {
        let mut cdf = Vec::with_capacity(vocab);
        let mut sum = 0.0;
        for rank in 1..=vocab {
            sum += 1.0 / rank as f64;
            cdf.push(sum);
        }
        for c in &mut cdf {
            *c /= sum;
        }
        Self { cdf }
    }

    pub(super) fn sample(&self, rng: &mut Rng) -> u32 {
        let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1) as u32
    }

    pub(super) fn passage(&self, rng: &mut Rng, min: u64, max: u64) -> Vec<u32> {
        let len = min + rng.below(max - min + 1);
        (0..len).map(|_| self.sample(rng)).collect()
    }
}

pub(super) fn all(_: u32) -> bool {
    true
}

pub(super) fn close(a: f32, b: f64) -> bool {
    (f64::from(a) - b).abs() < 1e-5
}

/// 0: [1 2 1] (len 3), 1: [2 3] (len 2), 2: [3 3 3 4] (len 4):
/// N = 3, avgdl = 3, df(1) = df(4) = 1, df(2) = df(3) = 2.
pub(super) fn small() -> Result<LexicalIndex> {
    let mut index = LexicalIndex::new(Bm25Params::default());
    index.add(0, &[1, 2, 1])?;
    index.add(1, &[2, 3])?;
    index.add(2, &[3, 3, 3, 4])?;
    Ok(index)
}
