//! Bytes held by the CPU encoder's weights, for the memory breakdown
//! (`xling bench memory`, `Engine.memoryUsage()` in the browser): a child
//! of `cpu.rs` so that it reads the buffers themselves, not an estimate.

use candle_core::Tensor;

use super::{CpuEncoder, Dense, LayerNorm, Linear};

/// Heap bytes of the encoder's weights, by part. Buffers are counted by
/// capacity, what the allocator actually holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WeightBytes {
    /// The Q4_0 token-embedding table, one row per vocabulary piece: most of
    /// the model file, and what pruning the vocabulary shrinks.
    pub token_embeddings: usize,
    /// Position rows (with the token-type row added) and the embedding norm.
    pub positions: usize,
    /// The transformer layers: Q4_0 blocks, biases, norms and, with
    /// [`super::WeightFormat::F32`], the weights expanded to f32.
    pub layers: usize,
}

impl WeightBytes {
    /// All the parts together.
    pub fn total(&self) -> usize {
        self.token_embeddings + self.positions + self.layers
    }
}

/// Bytes of a candle tensor's elements (its storage, contiguous here).
fn tensor_bytes(t: &Tensor) -> usize {
    t.elem_count() * t.dtype().size_in_bytes()
}

fn norm_bytes(n: &LayerNorm) -> usize {
    tensor_bytes(&n.weight) + tensor_bytes(&n.bias)
}

fn linear_bytes(l: &Linear) -> usize {
    let dense = match &l.dense {
        Dense::None => 0,
        Dense::Tensor(t) => tensor_bytes(t),
        Dense::Rows(rows) => rows.capacity() * std::mem::size_of::<f32>(),
    };
    l.q4.capacity() + dense + tensor_bytes(&l.bias)
}

impl CpuEncoder {
    /// Bytes of the weights this encoder holds, by part.
    pub fn weight_bytes(&self) -> WeightBytes {
        let layers = self
            .layers
            .iter()
            .map(|l| {
                linear_bytes(&l.qkv)
                    + linear_bytes(&l.attn_out)
                    + linear_bytes(&l.ffn_up)
                    + linear_bytes(&l.ffn_down)
                    + norm_bytes(&l.attn_norm)
                    + norm_bytes(&l.out_norm)
            })
            .sum();
        WeightBytes {
            token_embeddings: self.word_embeddings.capacity(),
            positions: self.position_type.capacity() * std::mem::size_of::<f32>()
                + norm_bytes(&self.embed_norm),
            layers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::WeightFormat;
    use crate::encoder::q4::{BLOCK_BYTES, BLOCK_VALUES};
    use crate::testing;

    #[test]
    fn weight_bytes_follow_the_model_shape() {
        let q4 = testing::tiny_embedder_with(7, WeightFormat::Q4_0);
        let c = q4.encoder().config().clone();
        let w = q4.encoder().weight_bytes();
        let row = c.hidden_size / BLOCK_VALUES * BLOCK_BYTES;
        assert_eq!(w.token_embeddings, c.embedding_rows * row);
        assert!(w.positions >= c.max_positions * c.hidden_size * 4);
        // Q4_0 blocks of four products per layer, at least.
        let h = c.hidden_size;
        let per_layer_q4 = (4 * h * h + 2 * c.intermediate_size * h) / BLOCK_VALUES * BLOCK_BYTES;
        assert!(w.layers >= c.num_layers * per_layer_q4);
        assert_eq!(w.total(), w.token_embeddings + w.positions + w.layers);

        // f32 keeps the Q4_0 bytes and adds 4 bytes per weight.
        let f32 = testing::tiny_embedder_with(7, WeightFormat::F32);
        let wf = f32.encoder().weight_bytes();
        let per_layer_f32 = (4 * h * h + 2 * c.intermediate_size * h) * 4;
        assert_eq!(wf.layers, w.layers + c.num_layers * per_layer_f32);
        assert_eq!(wf.token_embeddings, w.token_embeddings);
    }
}
