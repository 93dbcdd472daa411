//! Turning texts into unit vectors: a backend runs the transformer over token
//! windows ([`WindowEncoder`]); [`Embedder`] does everything around it that must
//! be identical on every backend (prefixes, windows, batching, pooling, L2).

mod activation;
pub mod cpu;
mod gemv;
mod q4;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128;

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::tokenize::{Prefix, Tokenizer};

pub use cpu::{CpuEncoder, WeightFormat};

/// A transformer backend: token windows in, mean-pooled hidden states out.
///
/// Each window is `<s>` + content + `</s>`, at most `max_positions` ids. The
/// returned vectors are the mean over the window's tokens (specials included),
/// *not* normalised, so that windows of one long text can be combined.
pub trait WindowEncoder {
    /// Length of the vectors returned.
    fn dim(&self) -> usize;
    /// Mean-pooled final hidden states, one vector per window, in order.
    fn encode_windows(&self, windows: &[&[u32]]) -> Result<Vec<Vec<f32>>>;
}

/// Refuses windows a backend cannot run: empty, longer than the model's
/// positions, or holding an id outside the embedding table. Every backend
/// checks with this before any work, so all give the same errors.
pub fn check_windows(windows: &[&[u32]], config: &crate::ModelConfig) -> Result<()> {
    for w in windows {
        if w.is_empty() || w.len() > config.max_positions {
            return Err(Error::InvalidInput(format!(
                "window of {} tokens (1..={} allowed)",
                w.len(),
                config.max_positions
            )));
        }
        if let Some(id) = w.iter().find(|&&id| id as usize >= config.embedding_rows) {
            return Err(Error::InvalidInput(format!(
                "token id {id} is outside the vocabulary"
            )));
        }
    }
    Ok(())
}

/// How many padded tokens one forward pass may hold. Large enough to keep the
/// matrix units busy, small enough that attention scores (batch × heads × L²)
/// stay within a few tens of MB.
pub const DEFAULT_BATCH_TOKENS: usize = 8192;

/// One embedded text.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    /// `<s>` + prefixed content + `</s>`, the whole text (not split into windows).
    pub ids: Vec<u32>,
    /// L2-normalised vector.
    pub vector: Vec<f32>,
}

/// Tokenizer + backend: the public way to embed texts.
///
/// ```no_run
/// use xling_model::{Embedder, ModelFiles, Prefix};
/// # fn main() -> xling_model::Result<()> {
/// let embedder = Embedder::load(&ModelFiles::read_dir("models/multilingual-e5-small-q4")?)?;
/// let query = embedder.embed_one("how much protein per day", Prefix::Query)?;
/// let docs = embedder.embed(&["Adults need about 0.8 g of protein per kg."], Prefix::Passage)?;
/// let score: f32 = query.iter().zip(&docs[0]).map(|(a, b)| a * b).sum();
/// assert!(score > 0.5);
/// # Ok(()) }
/// ```
pub struct Embedder<E: WindowEncoder = CpuEncoder> {
    tokenizer: Tokenizer,
    encoder: E,
    batch_tokens: usize,
}

impl Embedder<CpuEncoder> {
    /// Loads the model on the CPU backend with the default weight format.
    pub fn load(files: &crate::ModelFiles) -> Result<Self> {
        Self::load_with(files, WeightFormat::default())
    }

    /// Loads the model on the CPU backend, choosing how layer weights are kept.
    pub fn load_with(files: &crate::ModelFiles, format: WeightFormat) -> Result<Self> {
        let mut weights = crate::model::ModelWeights::from_gguf(&files.gguf)?;
        let tokenizer = Tokenizer::from_bytes(files.tokenizer_json.clone(), &weights.config)?;
        let encoder = CpuEncoder::new(&mut weights, format)?;
        Ok(Self::new(tokenizer, encoder))
    }

    /// [`Embedder::load_with`] that takes the files and copies nothing: the
    /// compact tokenizer and the Q4_0 weights are read in place from the
    /// files' bytes. Where memory never shrinks (WASM) a copy made while
    /// loading would stay allocated for good.
    pub fn load_owned(files: crate::ModelFiles, format: WeightFormat) -> Result<Self> {
        Self::load_shared(Arc::new(files.gguf), files.tokenizer_json, format)
    }

    /// [`Embedder::load_owned`] for model bytes that others hold too (a GPU
    /// encoder uploads from the same buffer first).
    pub fn load_shared(
        gguf: Arc<Vec<u8>>,
        tokenizer: Vec<u8>,
        format: WeightFormat,
    ) -> Result<Self> {
        let mut weights = crate::model::ModelWeights::from_shared(gguf)?;
        let tokenizer = Tokenizer::from_bytes(tokenizer, &weights.config)?;
        let encoder = CpuEncoder::new(&mut weights, format)?;
        Ok(Self::new(tokenizer, encoder))
    }
}

impl<E: WindowEncoder> Embedder<E> {
    /// Pairs a tokenizer with any backend (CPU, GPU), with the default batch cap.
    pub fn new(tokenizer: Tokenizer, encoder: E) -> Self {
        Self {
            tokenizer,
            encoder,
            batch_tokens: DEFAULT_BATCH_TOKENS,
        }
    }

    /// Caps the padded tokens per forward pass (at least one full window).
    pub fn with_batch_tokens(mut self, tokens: usize) -> Self {
        self.batch_tokens = tokens;
        self
    }

    /// The tokenizer, for callers that count or cut tokens themselves (chunking).
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The backend, for what it reports about itself (config, device).
    pub fn encoder(&self) -> &E {
        &self.encoder
    }

    /// The tokenizer and the backend, to wrap the backend in another type.
    pub fn into_parts(self) -> (Tokenizer, E) {
        (self.tokenizer, self.encoder)
    }

    /// Length of every vector this embedder returns (the model's hidden size).
    pub fn dim(&self) -> usize {
        self.encoder.dim()
    }

    /// Embeds one text.
    pub fn embed_one(&self, text: &str, prefix: Prefix) -> Result<Vec<f32>> {
        let mut out = self.embed(&[text], prefix)?;
        out.pop()
            .ok_or_else(|| Error::InvalidInput("no embedding produced".into()))
    }

    /// Embeds texts, returning one unit vector per text.
    pub fn embed<S: AsRef<str>>(&self, texts: &[S], prefix: Prefix) -> Result<Vec<Vec<f32>>> {
        Ok(self
            .embed_with_ids(texts, prefix)?
            .into_iter()
            .map(|e| e.vector)
            .collect())
    }

    /// Embeds texts and also returns each text's token ids.
    ///
    /// Texts longer than one window are cut into consecutive windows; the text's
    /// vector is the mean of the window means weighted by their content tokens,
    /// then L2-normalised (the reference engine's rule), so nothing is truncated.
    pub fn embed_with_ids<S: AsRef<str>>(
        &self,
        texts: &[S],
        prefix: Prefix,
    ) -> Result<Vec<Embedding>> {
        let plan = EmbedPlan::new(&self.tokenizer, texts, prefix, self.batch_tokens)?;
        let outputs = plan
            .batches()
            .iter()
            .map(|batch| self.encoder.encode_windows(batch))
            .collect::<Result<Vec<_>>>()?;
        plan.finish(&self.tokenizer, outputs, self.encoder.dim())
    }
}

/// Everything around a backend's forward passes, for backends that cannot
/// block (WebGPU in a browser): texts cut into windows and grouped into
/// length-sorted batches ([`EmbedPlan::batches`]), then the backend's window
/// means combined into one unit vector per text ([`EmbedPlan::finish`]).
/// [`Embedder::embed_with_ids`] is exactly this with a blocking backend.
pub struct EmbedPlan {
    contents: Vec<Vec<u32>>,
    /// (text index, content tokens, window ids)
    windows: Vec<(usize, usize, Vec<u32>)>,
    /// Window indices, longest first; batches are consecutive runs of it.
    order: Vec<usize>,
    batch_ends: Vec<usize>,
}

impl EmbedPlan {
    /// Tokenises `texts` and plans batches of at most `batch_tokens` padded
    /// tokens (see [`MAX_PADDING`]).
    pub fn new<S: AsRef<str>>(
        tokenizer: &Tokenizer,
        texts: &[S],
        prefix: Prefix,
        batch_tokens: usize,
    ) -> Result<Self> {
        let contents = texts
            .iter()
            .map(|t| tokenizer.content_ids(t.as_ref(), prefix))
            .collect::<Result<Vec<_>>>()?;
        let mut windows: Vec<(usize, usize, Vec<u32>)> = Vec::new();
        for (i, content) in contents.iter().enumerate() {
            for w in tokenizer.windows(content) {
                windows.push((i, w.len() - 2, w));
            }
        }
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(windows[i].2.len()));
        let mut batch_ends = Vec::new();
        let mut start = 0;
        while start < order.len() {
            start += batch_len(&order[start..], |i| windows[i].2.len(), batch_tokens);
            batch_ends.push(start);
        }
        Ok(Self {
            contents,
            windows,
            order,
            batch_ends,
        })
    }

    /// The windows of each forward pass, in order.
    pub fn batches(&self) -> Vec<Vec<&[u32]>> {
        let mut start = 0;
        self.batch_ends
            .iter()
            .map(|&end| {
                let batch = self.order[start..end]
                    .iter()
                    .map(|&i| self.windows[i].2.as_slice())
                    .collect();
                start = end;
                batch
            })
            .collect()
    }

    /// Combines the backend's window means (one `Vec` per batch, in the order
    /// of [`EmbedPlan::batches`]) into one unit vector per text.
    pub fn finish(
        self,
        tokenizer: &Tokenizer,
        outputs: Vec<Vec<Vec<f32>>>,
        dim: usize,
    ) -> Result<Vec<Embedding>> {
        let returned: usize = outputs.iter().map(Vec::len).sum();
        if outputs.len() != self.batch_ends.len()
            || returned != self.windows.len()
            || outputs.iter().flatten().any(|v| v.len() != dim)
        {
            return Err(Error::InvalidInput(format!(
                "backend returned {returned} vectors in {} batches for {} windows in {} batches",
                outputs.len(),
                self.windows.len(),
                self.batch_ends.len()
            )));
        }
        let mut means: Vec<Vec<f32>> = vec![Vec::new(); self.windows.len()];
        for (&i, mean) in self.order.iter().zip(outputs.into_iter().flatten()) {
            means[i] = mean;
        }
        let texts = self.contents.len();
        let mut sums = vec![vec![0f32; dim]; texts];
        let mut weights = vec![0f32; texts];
        let mut any = vec![false; texts];
        for ((text, content_len, _), mean) in self.windows.iter().zip(&means) {
            // An empty text is one window with no content: give it weight 1.
            let w = (*content_len).max(1) as f32;
            for (s, m) in sums[*text].iter_mut().zip(mean) {
                *s += w * m;
            }
            weights[*text] += w;
            any[*text] = true;
        }
        let mut out = Vec::with_capacity(texts);
        for (i, content) in self.contents.into_iter().enumerate() {
            let mut vector = std::mem::take(&mut sums[i]);
            if !any[i] {
                return Err(Error::InvalidInput(format!("text {i} produced no window")));
            }
            for v in &mut vector {
                *v /= weights[i];
            }
            l2_normalize(&mut vector);
            let ids = tokenizer.wrap(&content);
            out.push(Embedding { ids, vector });
        }
        Ok(out)
    }
}

/// Largest share of a batch's padded tokens that may be padding.
pub const MAX_PADDING: f64 = 0.25;

/// How many of `sorted` (longest first) go into the next batch: at least one,
/// at most `batch_tokens` padded tokens, and padding at most [`MAX_PADDING`].
fn batch_len(sorted: &[usize], len_of: impl Fn(usize) -> usize, batch_tokens: usize) -> usize {
    let Some(&first) = sorted.first() else {
        return 0;
    };
    let padded_len = len_of(first);
    let mut real = 0;
    let mut count = 0;
    for &i in sorted {
        let padded = (count + 1) * padded_len;
        let filled = (real + len_of(i)) as f64 / padded as f64;
        if count > 0 && (padded > batch_tokens || filled < 1.0 - MAX_PADDING) {
            break;
        }
        real += len_of(i);
        count += 1;
    }
    count
}

/// Scales `v` to unit length (the reference's `x / sqrt(max(‖x‖², 1e-12))`).
pub fn l2_normalize(v: &mut [f32]) {
    let norm2: f32 = v.iter().map(|x| x * x).sum();
    let inv = 1.0 / norm2.max(1e-12).sqrt();
    for x in v {
        *x *= inv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, cosine, norm, piece_id};

    const TEXTS: [&str; 5] = [
        "hello world",
        "a",
        "hello world abc, hello world abc.",
        "query: passage",
        "the world said hello to abc",
    ];

    fn assert_unit(v: &[f32]) {
        assert_eq!(v.len(), testing::HIDDEN);
        assert!(v.iter().all(|x| x.is_finite()), "{v:?}");
        assert!((norm(v) - 1.0).abs() < 1e-5, "norm {}", norm(v));
    }

    #[test]
    fn vectors_have_unit_norm_and_model_dim() -> Result<()> {
        let e = testing::tiny_embedder(21);
        assert_eq!(e.dim(), testing::HIDDEN);
        for prefix in [Prefix::Query, Prefix::Passage, Prefix::None] {
            let vectors = e.embed(&TEXTS, prefix)?;
            assert_eq!(vectors.len(), TEXTS.len());
            vectors.iter().for_each(|v| assert_unit(v));
        }
        Ok(())
    }

    #[test]
    fn embedding_is_deterministic() -> Result<()> {
        let e = testing::tiny_embedder(22);
        let a = e.embed_one("hello world abc", Prefix::Query)?;
        let b = e.embed_one("hello world abc", Prefix::Query)?;
        assert_eq!(a, b);
        let again = testing::tiny_embedder(22).embed_one("hello world abc", Prefix::Query)?;
        assert_eq!(a, again);
        // Different texts, prefixes and weights give different vectors.
        let other_text = e.embed_one("hello world", Prefix::Query)?;
        let other_prefix = e.embed_one("hello world abc", Prefix::Passage)?;
        let other_model = testing::tiny_embedder(23).embed_one("hello world abc", Prefix::Query)?;
        for other in [other_text, other_prefix, other_model] {
            assert!(cosine(&a, &other) < 0.9999, "{}", cosine(&a, &other));
        }
        Ok(())
    }

    #[test]
    fn padding_does_not_change_a_vector() -> Result<()> {
        let e = testing::tiny_embedder(24);
        let batch = e.embed(&TEXTS, Prefix::Passage)?;
        // Shortest and longest texts sit in the same padded batch as the others.
        for (text, in_batch) in TEXTS.iter().zip(&batch) {
            let alone = e.embed_one(text, Prefix::Passage)?;
            let c = cosine(&alone, in_batch);
            assert!(c > 0.99999, "{text:?}: cosine {c}");
        }
        // One window per forward pass gives the same vectors as one big batch.
        let one_by_one = testing::tiny_embedder(24)
            .with_batch_tokens(1)
            .embed(&TEXTS, Prefix::Passage)?;
        for (a, b) in batch.iter().zip(&one_by_one) {
            assert!(cosine(a, b) > 0.99999);
        }
        Ok(())
    }

    #[test]
    fn q4_0_weights_agree_with_f32_weights() -> Result<()> {
        let f32s = testing::tiny_embedder_with(25, WeightFormat::F32);
        let q4 = testing::tiny_embedder_with(25, WeightFormat::Q4_0);
        let a = f32s.embed(&TEXTS, Prefix::Query)?;
        let b = q4.embed(&TEXTS, Prefix::Query)?;
        for ((text, x), y) in TEXTS.iter().zip(&a).zip(&b) {
            assert_unit(y);
            let c = cosine(x, y);
            assert!(c > 0.99, "{text:?}: cosine {c}");
        }
        Ok(())
    }

    #[test]
    fn long_text_is_the_weighted_mean_of_its_windows() -> Result<()> {
        let e = testing::tiny_embedder(26);
        let text = "hello world abc, ".repeat(6);
        let content = e.tokenizer().content_ids(&text, Prefix::Passage)?;
        assert!(content.len() > 2 * 14, "{} content tokens", content.len());
        let windows = e.tokenizer().windows(&content);
        assert_eq!(windows.len(), content.len().div_ceil(14));

        let refs: Vec<&[u32]> = windows.iter().map(Vec::as_slice).collect();
        let means = e.encoder().encode_windows(&refs)?;
        let mut expected = vec![0f32; e.dim()];
        for (w, mean) in windows.iter().zip(&means) {
            let weight = (w.len() - 2) as f32;
            for (x, m) in expected.iter_mut().zip(mean) {
                *x += weight * m / content.len() as f32;
            }
        }
        l2_normalize(&mut expected);

        let got = e.embed_with_ids(&[text.as_str()], Prefix::Passage)?;
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].ids,
            e.tokenizer().wrap(&content),
            "ids are not windowed"
        );
        let c = cosine(&got[0].vector, &expected);
        assert!(c > 0.99999, "cosine {c}");
        // Nothing is truncated: the tail changes the vector.
        let head = e.embed_one(&"hello world abc, ".repeat(3), Prefix::Passage)?;
        assert!(cosine(&head, &got[0].vector) < 0.99999);
        Ok(())
    }

    #[test]
    fn empty_text_embeds_with_every_prefix() -> Result<()> {
        let e = testing::tiny_embedder(27);
        for prefix in [Prefix::None, Prefix::Query, Prefix::Passage] {
            let got = e.embed_with_ids(&[""], prefix)?;
            assert_unit(&got[0].vector);
            assert_eq!(got[0].ids.first(), Some(&testing::BOS));
            assert_eq!(got[0].ids.last(), Some(&testing::EOS));
        }
        let none = e.embed_with_ids(&[""], Prefix::None)?;
        assert_eq!(none[0].ids, vec![testing::BOS, testing::EOS]);
        let no_texts: Vec<&str> = Vec::new();
        assert!(e.embed(&no_texts, Prefix::Query)?.is_empty());
        Ok(())
    }

    #[test]
    fn ids_are_wrapped_and_carry_the_prefix() -> Result<()> {
        let e = testing::tiny_embedder(28);
        let got = e.embed_with_ids(&["hello world", "abc"], Prefix::Query)?;
        let query = piece_id("▁query");
        let colon = piece_id(":");
        assert_eq!(
            got[0].ids,
            vec![
                testing::BOS,
                query,
                colon,
                piece_id("▁hello"),
                piece_id("▁world"),
                testing::EOS
            ]
        );
        for emb in &got {
            assert_eq!(emb.ids.first(), Some(&testing::BOS));
            assert_eq!(emb.ids.last(), Some(&testing::EOS));
            assert_eq!(&emb.ids[1..3], &[query, colon]);
        }
        let passage = e.embed_with_ids(&["abc"], Prefix::Passage)?;
        assert_eq!(passage[0].ids[1], piece_id("▁passage"));
        assert!(!passage[0].ids.contains(&query));
        Ok(())
    }

    #[test]
    fn oversized_text_fails_the_whole_call() {
        let e = testing::tiny_embedder(29);
        let big = "a ".repeat(crate::tokenize::MAX_TEXT_BYTES / 2 + 1);
        let result = e.embed(&["hello", big.as_str()], Prefix::None);
        assert!(matches!(result, Err(Error::InvalidInput(_))));
    }

    /// Returns `[first content id, window length]` per window, and can drop one.
    struct Probe {
        drop_one: bool,
    }

    impl WindowEncoder for Probe {
        fn dim(&self) -> usize {
            2
        }
        fn encode_windows(&self, windows: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
            let mut out: Vec<Vec<f32>> = windows
                .iter()
                .map(|w| vec![w.get(1).copied().unwrap_or(0) as f32, w.len() as f32])
                .collect();
            if self.drop_one {
                out.pop();
            }
            Ok(out)
        }
    }

    #[test]
    fn results_come_back_in_input_order() -> Result<()> {
        let tokenizer = testing::tiny_embedder(30).tokenizer;
        let e = Embedder::new(tokenizer, Probe { drop_one: false }).with_batch_tokens(20);
        let texts = ["abc", "hello world abc", "b", "hello"];
        let got = e.embed_with_ids(&texts, Prefix::None)?;
        for (text, emb) in texts.iter().zip(&got) {
            let mut expected = vec![emb.ids[1] as f32, emb.ids.len() as f32];
            l2_normalize(&mut expected);
            assert_eq!(emb.vector, expected, "{text:?}");
        }
        Ok(())
    }

    #[test]
    fn a_backend_returning_too_few_vectors_is_an_error() {
        let tokenizer = testing::tiny_embedder(31).tokenizer;
        let e = Embedder::new(tokenizer, Probe { drop_one: true });
        let result = e.embed(&["hello", "world"], Prefix::None);
        assert!(matches!(result, Err(Error::InvalidInput(_))));
    }

    #[test]
    fn l2_normalize_handles_zero_vectors() {
        let mut zero = vec![0f32; 4];
        l2_normalize(&mut zero);
        assert_eq!(zero, vec![0f32; 4]);
        let mut v = vec![3f32, 4.0];
        l2_normalize(&mut v);
        assert_eq!(v, vec![0.6, 0.8]);
    }
}
