//! Reference vectors that `xling convert` computes on the CPU and writes into
//! the model file, so that another backend (the GPU) can prove it gives the
//! same embeddings before anyone uses it, without running the CPU encoder.

use std::collections::HashMap;
use std::io::Cursor;

use candle_core::quantized::gguf_file::{self, Value};

use crate::encoder::{Embedder, WindowEncoder};
use crate::error::{Error, Result};
use crate::tokenize::Prefix;

/// Short and long texts in several scripts, embedded together so that one
/// batch has padding: a backend that mishandles the mask, a script's pieces
/// or long rows fails here.
pub const TEXTS: [&str; 6] = [
    "The train station is next to the river, ten minutes from the old town.",
    "Der Bahnhof liegt am Fluss.",
    "محطة القطار بجانب النهر",
    "火车站在河边，离老城区十分钟。",
    "रेलवे स्टेशन नदी के किनारे है।",
    "Kituo cha treni kiko karibu na mto. Watu wengi hupita hapo kila asubuhi wakienda kazini, \
     na wachuuzi huuza chai, maandazi na matunda kando ya barabara.",
];

/// How the texts are embedded.
pub const PREFIX: Prefix = Prefix::Passage;

/// Lowest cosine a backend's vector may have with the CPU's.
pub const MIN_COSINE: f32 = 0.999;

const TEXTS_KEY: &str = "xling.selftest.texts";
const VECTORS_KEY: &str = "xling.selftest.vectors";

/// The texts and the CPU encoder's vectors for them.
#[derive(Debug, Clone, PartialEq)]
pub struct SelfTest {
    /// The probe texts, in several languages and scripts.
    pub texts: Vec<String>,
    /// The CPU's vector for each text, in the same order: the reference a backend must match.
    pub vectors: Vec<Vec<f32>>,
}

impl SelfTest {
    /// Embeds [`TEXTS`] with `embedder` (the CPU, when converting).
    pub fn compute<E: WindowEncoder>(embedder: &Embedder<E>) -> Result<Self> {
        Ok(Self {
            texts: TEXTS.iter().map(|t| t.to_string()).collect(),
            vectors: embedder.embed(&TEXTS, PREFIX)?,
        })
    }

    /// The GGUF metadata entries that hold it.
    pub(crate) fn metadata(&self) -> Vec<(&'static str, Value)> {
        vec![
            (
                TEXTS_KEY,
                Value::Array(self.texts.iter().cloned().map(Value::String).collect()),
            ),
            (
                VECTORS_KEY,
                Value::Array(
                    self.vectors
                        .iter()
                        .flatten()
                        .copied()
                        .map(Value::F32)
                        .collect(),
                ),
            ),
        ]
    }

    /// The self-test stored in a model file; `None` for files converted
    /// before it existed.
    pub fn read(gguf: &[u8]) -> Result<Option<Self>> {
        let content = gguf_file::Content::read(&mut Cursor::new(gguf))
            .map_err(|e| Error::InvalidModel(format!("cannot read GGUF header: {e}")))?;
        let dim = super::gguf::read_config(&content.metadata)?.hidden_size;
        Self::from_metadata(&content.metadata, dim)
    }

    fn from_metadata(md: &HashMap<String, Value>, dim: usize) -> Result<Option<Self>> {
        let (Some(texts), Some(vectors)) = (md.get(TEXTS_KEY), md.get(VECTORS_KEY)) else {
            return Ok(None);
        };
        let bad = |what: &str| Error::InvalidModel(format!("self-test metadata: {what}"));
        let texts = texts
            .to_vec()
            .map_err(|_| bad("texts are not an array"))?
            .iter()
            .map(|v| {
                v.to_string()
                    .cloned()
                    .map_err(|_| bad("a text is not a string"))
            })
            .collect::<Result<Vec<String>>>()?;
        let values = vectors
            .to_vec()
            .map_err(|_| bad("vectors are not an array"))?
            .iter()
            .map(|v| v.to_f32().map_err(|_| bad("a vector value is not f32")))
            .collect::<Result<Vec<f32>>>()?;
        if texts.is_empty()
            || values.len() != texts.len() * dim
            || values.iter().any(|v| !v.is_finite())
        {
            return Err(bad("vectors do not match the texts"));
        }
        let vectors = values.chunks_exact(dim).map(<[f32]>::to_vec).collect();
        Ok(Some(Self { texts, vectors }))
    }

    /// The lowest cosine between `got` and the stored vectors, or why they
    /// differ: fewer vectors, or one below [`MIN_COSINE`].
    pub fn check(&self, got: &[Vec<f32>]) -> std::result::Result<f32, String> {
        if got.len() != self.vectors.len() {
            return Err(format!(
                "{} vectors for {} texts",
                got.len(),
                self.vectors.len()
            ));
        }
        let mut lowest = f32::INFINITY;
        for ((text, want), got) in self.texts.iter().zip(&self.vectors).zip(got) {
            let c = if want.len() == got.len() {
                want.iter().zip(got).map(|(a, b)| a * b).sum::<f32>()
            } else {
                f32::NAN
            };
            if c.is_nan() || c < MIN_COSINE {
                return Err(format!(
                    "cosine {c:.6} with the CPU's vector for {:?} (at least {MIN_COSINE} required)",
                    text.chars().take(30).collect::<String>()
                ));
            }
            lowest = lowest.min(c);
        }
        Ok(lowest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[test]
    fn converted_models_carry_a_self_test_the_cpu_passes() -> Result<()> {
        let files = testing::tiny_model_files(41);
        let stored = SelfTest::read(&files.gguf)?.expect("convert writes a self-test");
        assert_eq!(stored.texts.len(), TEXTS.len());
        let embedder = testing::tiny_embedder(41);
        let again = SelfTest::compute(&embedder)?;
        let lowest = stored
            .check(&again.vectors)
            .expect("the CPU passes its own test");
        assert!(lowest > 0.99999, "{lowest}");
        // Another model's vectors fail, and say why.
        let other = SelfTest::compute(&testing::tiny_embedder(42))?;
        let err = stored.check(&other.vectors).unwrap_err();
        assert!(err.contains("cosine"), "{err}");
        assert!(stored.check(&other.vectors[1..]).is_err());
        Ok(())
    }

    #[test]
    fn files_without_a_self_test_read_as_none_and_broken_ones_as_errors() {
        let dim = testing::HIDDEN;
        let md = HashMap::new();
        assert_eq!(SelfTest::from_metadata(&md, dim).unwrap(), None);
        let mut md = HashMap::new();
        md.insert(
            TEXTS_KEY.to_string(),
            Value::Array(vec![Value::String("a".into())]),
        );
        md.insert(
            VECTORS_KEY.to_string(),
            Value::Array(vec![Value::F32(1.0); dim - 1]),
        );
        assert!(SelfTest::from_metadata(&md, dim).is_err());
        md.insert(
            VECTORS_KEY.to_string(),
            Value::Array(vec![Value::F32(f32::NAN); dim]),
        );
        assert!(SelfTest::from_metadata(&md, dim).is_err());
        md.insert(VECTORS_KEY.to_string(), Value::String("x".into()));
        assert!(SelfTest::from_metadata(&md, dim).is_err());
    }
}
