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
    /// The rest of the model file, which the Q4_0 matrices are read from in
    /// place and which is kept whole: header, metadata (self-test vectors)
    /// and the f32 vectors, copied out as tensors.
    pub model_file_rest: usize,
}

impl WeightBytes {
    /// All the parts together.
    pub fn total(&self) -> usize {
        self.token_embeddings + self.positions + self.layers + self.model_file_rest
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
    l.q4.len() + dense + tensor_bytes(&l.bias)
}

impl CpuEncoder {
    /// Bytes of the weights this encoder holds, by part.
    pub fn weight_bytes(&self) -> WeightBytes {
        let file = &self.word_embeddings;
        let in_file: usize = self
            .layers
            .iter()
            .flat_map(|l| [&l.qkv, &l.attn_out, &l.ffn_up, &l.ffn_down])
            .map(|l| &l.q4)
            .chain([file])
            .filter(|q4| q4.shares_buffer_with(file))
            .map(|q4| q4.len())
            .sum();
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
            token_embeddings: self.word_embeddings.len(),
            positions: self.position_type.capacity() * std::mem::size_of::<f32>()
                + norm_bytes(&self.embed_norm),
            layers,
            model_file_rest: file.buffer_capacity().saturating_sub(in_file),
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
        assert_eq!(
            w.total(),
            w.token_embeddings + w.positions + w.layers + w.model_file_rest
        );

        // f32 keeps the Q4_0 bytes and adds 4 bytes per weight.
        let f32 = testing::tiny_embedder_with(7, WeightFormat::F32);
        let wf = f32.encoder().weight_bytes();
        let per_layer_f32 = (4 * h * h + 2 * c.intermediate_size * h) * 4;
        assert_eq!(wf.layers, w.layers + c.num_layers * per_layer_f32);
        assert_eq!(wf.token_embeddings, w.token_embeddings);
    }

    #[test]
    fn q4_matrices_are_read_in_place_from_the_model_file() {
        let files = testing::tiny_model_files(8);
        let file_len = files.gguf.len();
        let embedder = crate::Embedder::load_owned(files, WeightFormat::Q4_0).expect("loads");
        let encoder = embedder.encoder();
        let file = &encoder.word_embeddings;
        assert!(file.buffer_capacity() >= file_len, "the file is kept once");
        for (i, layer) in encoder.layers.iter().enumerate() {
            for (name, linear) in [
                ("qkv", &layer.qkv),
                ("attn_out", &layer.attn_out),
                ("ffn_up", &layer.ffn_up),
                ("ffn_down", &layer.ffn_down),
            ] {
                assert!(
                    linear.q4.shares_buffer_with(file),
                    "layer {i} {name} was copied"
                );
            }
        }
        let w = encoder.weight_bytes();
        assert!(w.model_file_rest > 0, "{w:?}");
        assert!(w.token_embeddings + w.layers < file_len, "{w:?}");
    }
}
