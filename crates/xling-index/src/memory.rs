//! Where an engine's memory goes: the bytes of the model (token-embedding
//! table, layers), the tokenizer, the language prior and each part of the
//! index, computed from the data structures themselves (by capacity, what
//! the allocator holds). The benchmarks print it next to the process's RSS
//! or the WASM linear memory; the difference is allocator slack, transient
//! peaks that WASM never returns, and what is not modelled (code, stacks).

use std::collections::HashMap;
use std::mem::size_of;

use serde::Serialize;
use xling_model::encoder::cpu::WeightBytes;
use xling_model::{CpuEncoder, Embedder};

use crate::collection::{DocRecord, PassageRecord};
use crate::languages::LanguagePrior;
use crate::Index;

/// Heap bytes of a vector's buffer, by capacity.
pub fn vec_bytes<T>(v: &Vec<T>) -> usize {
    v.capacity() * size_of::<T>()
}

/// Heap bytes of a `HashMap`'s table (hashbrown: a power-of-two number of
/// buckets of `(K, V)`, one control byte each plus one group), not counting
/// what keys and values own.
pub fn hash_map_bytes<K, V, S>(map: &HashMap<K, V, S>) -> usize {
    let capacity = map.capacity();
    // hashbrown reports `buckets - 1` below 8 buckets, 7/8 of them above.
    let buckets = match capacity {
        0 => return 0,
        c if c < 8 => c + 1,
        c => c / 7 * 8,
    };
    buckets * (size_of::<(K, V)>() + 1) + 16
}

fn option_string_bytes(s: &Option<String>) -> usize {
    s.as_ref().map_or(0, String::capacity)
}

/// Heap bytes of an index, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct IndexMemory {
    /// int8 passage vectors, their scales, and per-passage flags and locations.
    pub dense_vectors: usize,
    /// HNSW graph segments (links and point ids).
    pub graphs: usize,
    /// Ids of the passages not yet in a graph (searched exactly).
    pub exact_buffer: usize,
    /// BM25 posting lists and passage lengths.
    pub lexical: usize,
    /// The documents as given (id, text, title, url, language) and the id map.
    pub texts: usize,
    /// Passage records (spans, sentence spans, script, language).
    pub passages: usize,
    /// Per-language vector sums and counts, and the spread samples.
    pub languages: usize,
    /// The copy of the model's language prior the index carries.
    pub prior: usize,
}

impl IndexMemory {
    /// All the parts together.
    pub fn total(&self) -> usize {
        self.dense_vectors
            + self.graphs
            + self.exact_buffer
            + self.lexical
            + self.texts
            + self.passages
            + self.languages
            + self.prior
    }
}

/// Heap bytes of a language prior (its codes and mean vectors).
pub fn prior_bytes(prior: &LanguagePrior) -> usize {
    let languages = prior.languages();
    std::mem::size_of_val(languages)
        + languages
            .iter()
            .map(|l| l.code.capacity() + vec_bytes(&l.passage_mean) + vec_bytes(&l.query_mean))
            .sum::<usize>()
}

fn doc_bytes(d: &DocRecord) -> usize {
    let doc = &d.doc;
    doc.id.capacity()
        + doc.text.capacity()
        + option_string_bytes(&doc.title)
        + option_string_bytes(&doc.url)
        + option_string_bytes(&doc.lang)
}

impl Index {
    /// Heap bytes of this index, by part.
    pub fn memory_usage(&self) -> IndexMemory {
        let (dense_vectors, graphs, exact_buffer) = self.dense.heap_bytes();
        let texts = vec_bytes(&self.docs)
            + self.docs.iter().map(doc_bytes).sum::<usize>()
            + hash_map_bytes(&self.by_id)
            + self.by_id.keys().map(String::capacity).sum::<usize>();
        let passages = vec_bytes(&self.passages)
            + self
                .passages
                .iter()
                .map(|p: &PassageRecord| vec_bytes(&p.sentences))
                .sum::<usize>();
        // LanguageStats keeps its buffers private: a code string, a count and
        // `dim` i64 sums per language.
        let stats = &self.languages;
        let languages = (0..stats.len() as u16)
            .map(|id| size_of::<String>() + stats.code(id).len() + 8 + 8 * self.dense.dim())
            .sum::<usize>()
            + vec_bytes(&self.samples)
            + self.samples.iter().map(vec_bytes).sum::<usize>();
        IndexMemory {
            dense_vectors,
            graphs,
            exact_buffer,
            lexical: self.lexical.heap_bytes(),
            texts,
            passages,
            languages,
            prior: self.prior.as_ref().map_or(0, prior_bytes),
        }
    }
}

/// Heap bytes of a whole engine: model, tokenizer, prior and index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct MemoryUsage {
    /// The Q4_0 token-embedding table (one row per vocabulary piece).
    pub token_embeddings: usize,
    /// Position embeddings and the embedding norm.
    pub positions: usize,
    /// The 12 transformer layers (Q4_0 blocks; f32 copies if expanded).
    pub layers: usize,
    /// The rest of the model file, kept whole because the Q4_0 matrices are
    /// read from it in place: header, metadata (self-test vectors) and the
    /// f32 vectors that were copied out.
    pub model_file_rest: usize,
    /// The tokenizer (an estimate for the `tokenizers` Unigram model).
    pub tokenizer: usize,
    /// A language prior held beside the index (the engine's own copy), if any.
    pub prior: usize,
    /// The index's parts.
    pub index: IndexMemory,
}

impl MemoryUsage {
    /// The breakdown of `embedder` and `index`, with `prior` a copy of the
    /// language prior the caller keeps beside the index.
    pub fn of(
        embedder: &Embedder<CpuEncoder>,
        index: &Index,
        prior: Option<&LanguagePrior>,
    ) -> Self {
        let weights: WeightBytes = embedder.encoder().weight_bytes();
        Self {
            token_embeddings: weights.token_embeddings,
            positions: weights.positions,
            layers: weights.layers,
            model_file_rest: weights.model_file_rest,
            tokenizer: embedder.tokenizer().heap_bytes(),
            prior: prior.map_or(0, prior_bytes),
            index: index.memory_usage(),
        }
    }

    /// The model's part: weights and tokenizer.
    pub fn model_total(&self) -> usize {
        self.token_embeddings + self.positions + self.layers + self.model_file_rest + self.tokenizer
    }

    /// Everything counted.
    pub fn total(&self) -> usize {
        self.model_total() + self.prior + self.index.total()
    }

    /// Each part with a snake_case name, in print order (model, then index).
    pub fn parts(&self) -> [(&'static str, usize); 14] {
        let i = &self.index;
        [
            ("token_embeddings", self.token_embeddings),
            ("positions", self.positions),
            ("layers", self.layers),
            ("model_file_rest", self.model_file_rest),
            ("tokenizer", self.tokenizer),
            ("prior", self.prior),
            ("index_dense_vectors", i.dense_vectors),
            ("index_graphs", i.graphs),
            ("index_exact_buffer", i.exact_buffer),
            ("index_lexical", i.lexical),
            ("index_texts", i.texts),
            ("index_passages", i.passages),
            ("index_languages", i.languages),
            ("index_prior", i.prior),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Document, IndexConfig};
    use xling_model::testing;

    fn doc(id: &str, text: &str) -> Document {
        Document {
            id: id.into(),
            text: text.into(),
            title: None,
            url: None,
            lang: Some("en".into()),
        }
    }

    #[test]
    fn hash_map_bytes_counts_the_table() {
        let mut map: HashMap<u32, u64> = HashMap::new();
        assert_eq!(hash_map_bytes(&map), 0);
        map.insert(1, 2);
        let small = hash_map_bytes(&map);
        assert!(small >= 4 * size_of::<(u32, u64)>());
        for i in 0..1000 {
            map.insert(i, i as u64);
        }
        assert!(map.capacity() >= 1000);
        assert!(hash_map_bytes(&map) > map.capacity() * size_of::<(u32, u64)>());
        assert!(hash_map_bytes(&map) > small);
    }

    #[test]
    fn index_memory_grows_with_documents_and_is_zero_when_empty() -> xling_model::Result<()> {
        let embedder = testing::tiny_embedder(3);
        let mut index = Index::for_model(&embedder, IndexConfig::default());
        let empty = index.memory_usage();
        assert_eq!(empty.dense_vectors + empty.lexical + empty.passages, 0);

        let text = "the quick brown fox jumps over the lazy dog";
        let docs: Vec<Document> = (0..20).map(|i| doc(&format!("d{i}"), text)).collect();
        index.add_documents(&embedder, docs, |_, _| {})?;
        let m = index.memory_usage();
        let passages = index.stats().passages;
        assert!(passages >= 20);
        // One int8 code per dimension and an f32 scale per passage, at least.
        assert!(m.dense_vectors >= passages * (embedder.dim() + 4));
        assert!(m.texts >= 20 * text.len());
        assert!(m.lexical > 0 && m.passages > 0 && m.languages > 0);
        assert!(m.graphs + m.exact_buffer >= passages * 4);
        assert_eq!(
            m.total(),
            m.dense_vectors
                + m.graphs
                + m.exact_buffer
                + m.lexical
                + m.texts
                + m.passages
                + m.languages
                + m.prior
        );

        let usage = MemoryUsage::of(&embedder, &index, None);
        let weights = embedder.encoder().weight_bytes();
        assert_eq!(usage.token_embeddings, weights.token_embeddings);
        assert_eq!(usage.layers, weights.layers);
        assert_eq!(usage.model_file_rest, weights.model_file_rest);
        assert_eq!(usage.model_total(), weights.total() + usage.tokenizer);
        assert!(usage.tokenizer > 0);
        assert_eq!(usage.index, m);
        assert_eq!(
            usage.parts().iter().map(|p| p.1).sum::<usize>(),
            usage.total()
        );
        Ok(())
    }
}
