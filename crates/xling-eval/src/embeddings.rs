//! Embeddings with an on-disk cache, so that comparing modes and fusions
//! re-runs only the search.

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use xling_model::{Prefix, Tokenizer};

use crate::error::{RunError, RunResult};
use crate::progress::{Progress, Stage};

/// Something that turns texts into vectors: xling's encoder or the reference
/// engine. The caller supplies it, so this crate needs no GPU or C library.
pub trait TextEncoder {
    /// One vector per text. The error is the whole message to show.
    fn embed(&self, texts: &[&str], prefix: Prefix) -> Result<Vec<Vec<f32>>, String>;
}

/// The model's vector dimension (the cache's record size).
const DIM: usize = 384;
/// Texts per encoder call (progress is reported per call).
const EMBED_CHUNK: usize = 256;

/// Embeddings with an on-disk cache keyed by SHA-256(engine, model, prefix, text).
pub struct Embeddings {
    encoder: Option<Box<dyn TextEncoder>>,
    tag: Vec<u8>,
    path: PathBuf,
    cache: HashMap<[u8; 32], Vec<f32>>,
    /// Keys embedded since the last save, appended to the file by `save`.
    fresh: Vec<[u8; 32]>,
}

impl Embeddings {
    /// The cache of engine `engine_name`'s embeddings for `tokenizer`'s model
    /// in `cache` (default `~/.cache/xling/eval`). Without an encoder, only
    /// cached texts can be embedded.
    pub fn open(
        engine_name: &str,
        cache: Option<&Path>,
        tokenizer: &Tokenizer,
        encoder: Option<Box<dyn TextEncoder>>,
    ) -> RunResult<Self> {
        let fp: String = tokenizer.model_fingerprint()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let name = format!("{engine_name}-{fp}.f32");
        let dir = match cache {
            Some(d) => d.to_path_buf(),
            None => std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default()
                .join(".cache/xling/eval"),
        };
        let path = dir.join(name);
        let mut cache = HashMap::new();
        if let Ok(file) = std::fs::File::open(&path) {
            let mut bytes = Vec::new();
            BufReader::new(file).read_to_end(&mut bytes)?;
            let record = 32 + DIM * 4;
            for r in bytes.chunks_exact(record) {
                let mut key = [0u8; 32];
                key.copy_from_slice(&r[..32]);
                let v = r[32..]
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                cache.insert(key, v);
            }
        }
        Ok(Self {
            encoder,
            tag: format!("{engine_name}:{fp}").into_bytes(),
            path,
            cache,
            fresh: Vec::new(),
        })
    }

    fn key(&self, text: &str, prefix: Prefix) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(&self.tag);
        h.update([match prefix {
            Prefix::Query => 1u8,
            Prefix::Passage => 2,
            Prefix::None => 3,
        }]);
        h.update(text.as_bytes());
        h.finalize().into()
    }

    /// One vector per text, from the cache or the encoder.
    pub fn embed(
        &mut self,
        texts: &[String],
        prefix: Prefix,
        progress: &dyn Progress,
    ) -> RunResult<Vec<Vec<f32>>> {
        let keys: Vec<[u8; 32]> = texts.iter().map(|t| self.key(t, prefix)).collect();
        let mut missing: Vec<usize> = (0..texts.len())
            .filter(|i| !self.cache.contains_key(&keys[*i]))
            .collect();
        let mut seen = HashSet::new();
        missing.retain(|i| seen.insert(keys[*i]));
        if !missing.is_empty() {
            let encoder = self
                .encoder
                .as_ref()
                .ok_or_else(|| RunError::Invalid("embeddings needed but no model loaded".into()))?;
            let bar = progress.stage(Stage::Embedding, missing.len());
            for chunk in missing.chunks(EMBED_CHUNK) {
                let batch: Vec<&str> = chunk.iter().map(|i| texts[*i].as_str()).collect();
                let vectors = encoder.embed(&batch, prefix).map_err(RunError::Encoder)?;
                for (i, v) in chunk.iter().zip(vectors) {
                    self.cache.insert(keys[*i], v);
                    self.fresh.push(keys[*i]);
                }
                bar.advance(chunk.len());
            }
            bar.finish();
        }
        keys.iter()
            .map(|k| {
                self.cache
                    .get(k)
                    .cloned()
                    .ok_or_else(|| RunError::Invalid("embedding missing from the cache".into()))
            })
            .collect()
    }

    /// Appends the embeddings computed since the last save (an append-only
    /// file: a long run interrupted keeps what it saved).
    pub fn save(&mut self) -> RunResult<()> {
        if self.fresh.is_empty() {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| RunError::io(format!("cannot open {}", self.path.display()), e))?;
        let mut out = BufWriter::new(file);
        for k in self.fresh.drain(..) {
            out.write_all(&k)?;
            for x in &self.cache[&k] {
                out.write_all(&x.to_le_bytes())?;
            }
        }
        out.flush()?;
        Ok(())
    }
}
