//! Embeddings of earlier builds, by passage text, so that re-building a
//! site embeds only what changed.
//!
//! Keyed by the *full* model's fingerprint and the passage text: the pruned
//! model of a site keeps every piece of the site's text, so a text embeds
//! exactly as with the full model whatever else the site holds, and a
//! changed site (hence a differently pruned model) still hits the cache.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{SiteError, SiteResult};

/// An append-only file of (SHA-256 of text, vector) records.
pub struct EmbeddingCache {
    path: PathBuf,
    dim: usize,
    vectors: HashMap<[u8; 32], Vec<f32>>,
    fresh: Vec<[u8; 32]>,
}

impl EmbeddingCache {
    /// The cache of model `fingerprint` in `dir`; a missing file is an empty
    /// cache, a damaged tail (an interrupted write) is ignored.
    pub fn open(dir: &Path, fingerprint: &[u8; 32], dim: usize) -> SiteResult<Self> {
        let name: String = fingerprint[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let path = dir.join(format!("site-{name}-{dim}.f32"));
        let mut vectors = HashMap::new();
        match std::fs::read(&path) {
            Ok(bytes) => {
                for record in bytes.chunks_exact(32 + dim * 4) {
                    let mut key = [0u8; 32];
                    key.copy_from_slice(&record[..32]);
                    let v: Vec<f32> = record[32..]
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect();
                    if v.iter().all(|x| x.is_finite()) {
                        vectors.insert(key, v);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(SiteError::io(format!("cannot read {}", path.display()), e)),
        }
        Ok(Self {
            path,
            dim,
            vectors,
            fresh: Vec::new(),
        })
    }

    fn key(text: &str) -> [u8; 32] {
        Sha256::digest(text.as_bytes()).into()
    }

    /// The cached vector of `text`.
    pub fn get(&self, text: &str) -> Option<&[f32]> {
        self.vectors.get(&Self::key(text)).map(Vec::as_slice)
    }

    /// Remembers `vector` for `text` (saved by [`EmbeddingCache::save`]).
    pub fn put(&mut self, text: &str, vector: &[f32]) {
        if vector.len() != self.dim {
            return;
        }
        let key = Self::key(text);
        if self.vectors.insert(key, vector.to_vec()).is_none() {
            self.fresh.push(key);
        }
    }

    /// Vectors cached.
    pub fn len(&self) -> usize {
        self.vectors.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.vectors.is_empty()
    }

    /// Appends the vectors added since the last save.
    pub fn save(&mut self) -> SiteResult<()> {
        if self.fresh.is_empty() {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| SiteError::io(format!("cannot create {}", dir.display()), e))?;
        }
        let mut bytes = Vec::with_capacity(self.fresh.len() * (32 + self.dim * 4));
        for key in self.fresh.drain(..) {
            bytes.extend_from_slice(&key);
            for x in &self.vectors[&key] {
                bytes.extend_from_slice(&x.to_le_bytes());
            }
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| SiteError::io(format!("cannot open {}", self.path.display()), e))?;
        file.write_all(&bytes)
            .map_err(|e| SiteError::io(format!("cannot write {}", self.path.display()), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_survive_a_reopen_and_a_torn_tail_is_ignored() {
        let dir = std::env::temp_dir().join(format!("xling-site-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let fp = [7u8; 32];
        let mut cache = EmbeddingCache::open(&dir, &fp, 3).expect("open");
        assert!(cache.is_empty());
        cache.put("a", &[1.0, 2.0, 3.0]);
        cache.put("b", &[0.5, 0.5, 0.5]);
        cache.put("wrong dim", &[1.0]);
        cache.save().expect("save");
        // An interrupted later write leaves a partial record.
        let path = dir.join(format!("site-{}-3.f32", "07".repeat(8)));
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("file");
        f.write_all(&[1, 2, 3]).expect("write");
        let cache = EmbeddingCache::open(&dir, &fp, 3).expect("reopen");
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get("a"), Some(&[1.0, 2.0, 3.0][..]));
        assert_eq!(cache.get("c"), None);
        // Another model's cache is another file.
        assert!(EmbeddingCache::open(&dir, &[8u8; 32], 3)
            .expect("open")
            .is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
