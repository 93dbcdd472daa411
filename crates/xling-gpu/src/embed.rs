//! Embedding texts on the GPU without blocking (what a browser needs), and
//! the start-up self-test that decides whether the GPU may be used at all.

use xling_model::encoder::DEFAULT_BATCH_TOKENS;
use xling_model::model::selftest::{self, SelfTest};
use xling_model::{EmbedPlan, Embedding, Prefix, Tokenizer};

use crate::encoder::GpuEncoder;
use crate::error::{GpuError, Result};

impl GpuEncoder {
    /// Embeds texts like `Embedder::embed_with_ids`, awaiting the device
    /// instead of blocking on it.
    pub async fn embed_async<S: AsRef<str>>(
        &self,
        tokenizer: &Tokenizer,
        texts: &[S],
        prefix: Prefix,
    ) -> Result<Vec<Embedding>> {
        let plan = EmbedPlan::new(tokenizer, texts, prefix, DEFAULT_BATCH_TOKENS)?;
        let mut outputs = Vec::new();
        for batch in plan.batches() {
            outputs.push(self.encode_windows_async(&batch).await?);
        }
        Ok(plan.finish(tokenizer, outputs, self.config().hidden_size)?)
    }

    /// Embeds the self-test's texts and compares them with its CPU vectors
    /// (from the model file, see `xling convert`). Returns the lowest cosine;
    /// [`GpuError::SelfTest`] when any vector differs: then this device must
    /// not be used.
    pub async fn self_test(&self, tokenizer: &Tokenizer, expected: &SelfTest) -> Result<f32> {
        let got = self
            .embed_async(tokenizer, &expected.texts, selftest::PREFIX)
            .await?;
        let vectors: Vec<Vec<f32>> = got.into_iter().map(|e| e.vector).collect();
        expected.check(&vectors).map_err(GpuError::SelfTest)
    }
}
