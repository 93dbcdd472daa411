//! The files `xling site` writes under `SITE/xling/`: content-hashed data
//! files (a file's name changes when its bytes do, so hosts and browsers
//! may cache them forever) and one small entry file naming them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{SiteError, SiteResult};

/// The entry file's name: the only name that never changes.
pub const ENTRY_FILE: &str = "xling-entry.json";
/// Format name and version in the entry file.
pub const FORMAT: &str = "xling-site";
/// Version of the output layout; the runtime refuses others. Version 2
/// gzips the engine, the tokenizer and the index (a version-1 runtime
/// left in a browser's cache would misread them).
pub const FORMAT_VERSION: u32 = 2;

/// A data file to write: a stem, an extension and its bytes; its name
/// becomes `stem.HASH.ext`.
pub struct DataFile {
    /// Role, the entry's key in `files` (`index`, `model`…); `None` for
    /// files listed elsewhere in the entry (shards, bundles).
    pub role: Option<&'static str>,
    /// File name stem.
    pub stem: &'static str,
    /// Extension, without the dot.
    pub ext: &'static str,
    /// Its final name, `stem.HASH.ext`.
    pub name: String,
    /// Contents.
    pub bytes: Vec<u8>,
}

impl DataFile {
    /// A file named after its content.
    pub fn new(
        role: Option<&'static str>,
        stem: &'static str,
        ext: &'static str,
        bytes: Vec<u8>,
    ) -> Self {
        let name = hashed_name(stem, ext, &bytes);
        Self {
            role,
            stem,
            ext,
            name,
            bytes,
        }
    }
}

/// The entry file's content.
#[derive(Debug, Serialize)]
pub struct Entry {
    /// [`FORMAT`].
    pub format: &'static str,
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// The program and version that wrote it.
    pub generator: String,
    /// The site's root, relative to the entry (page URLs are relative to it).
    pub site_root: String,
    /// Pages indexed.
    pub pages: usize,
    /// Index documents (sections).
    pub sections: usize,
    /// Pages per language.
    pub languages: BTreeMap<String, usize>,
    /// File name per role.
    pub files: BTreeMap<String, String>,
    /// Size in bytes per role.
    pub bytes: BTreeMap<String, u64>,
    /// The keyword index: its shards' first terms and files, in term order.
    pub keyword: KeywordEntry,
    /// Fragment bundles: (index of the first page, file), in page order.
    pub fragments: Vec<(usize, String)>,
    /// Data files and bytes in all (the entry and the runtime excluded).
    pub totals: Totals,
}

/// The keyword index's part of the entry.
#[derive(Debug, Serialize, Default)]
pub struct KeywordEntry {
    /// The impact an impact byte of 255 stands for.
    pub scale: f64,
    /// (first term, file) per shard.
    pub shards: Vec<(String, String)>,
}

/// Files and bytes written.
#[derive(Debug, Serialize, Default)]
pub struct Totals {
    /// Number of data files.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
}

/// `stem.HASH.ext`, HASH the first 16 hex digits of the bytes' SHA-256.
pub fn hashed_name(stem: &str, ext: &str, bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{stem}.{hash}.{ext}")
}

/// Writes `files` and the entry into `dir` (created), each through a
/// temporary file and a rename, the entry last, so a reader sees the old
/// complete output or the new one. Then removes the data files of earlier
/// builds (names of our pattern that the new entry does not list).
pub fn write_output(
    dir: &Path,
    files: Vec<DataFile>,
    fixed: &[(&str, &[u8])],
    mut entry: Entry,
) -> SiteResult<PathBuf> {
    std::fs::create_dir_all(dir)
        .map_err(|e| SiteError::io(format!("cannot create {}", dir.display()), e))?;
    let mut written = BTreeSet::new();
    let mut stems = BTreeSet::new();
    entry.totals = Totals::default();
    for f in files {
        write_atomic(&dir.join(&f.name), &f.bytes)?;
        if let Some(role) = f.role {
            entry.bytes.insert(role.to_string(), f.bytes.len() as u64);
            entry.files.insert(role.to_string(), f.name.clone());
        }
        entry.totals.files += 1;
        entry.totals.bytes += f.bytes.len() as u64;
        written.insert(f.name);
        stems.insert((f.stem, f.ext));
    }
    for (name, bytes) in fixed {
        write_atomic(&dir.join(name), bytes)?;
    }
    let json = serde_json::to_vec_pretty(&entry)
        .map_err(|e| SiteError::Invalid(format!("cannot write the entry file: {e}")))?;
    let entry_path = dir.join(ENTRY_FILE);
    write_atomic(&entry_path, &json)?;
    let listing = std::fs::read_dir(dir)
        .map_err(|e| SiteError::io(format!("cannot list {}", dir.display()), e))?;
    for item in listing.flatten() {
        let name = item.file_name().to_string_lossy().into_owned();
        let ours = stems.iter().any(|(stem, ext)| is_hashed(&name, stem, ext));
        if ours && !written.contains(&name) {
            let _ = std::fs::remove_file(item.path());
        }
    }
    Ok(entry_path)
}

/// Whether `name` is `stem.<16 hex>.ext`.
fn is_hashed(name: &str, stem: &str, ext: &str) -> bool {
    name.strip_prefix(stem)
        .and_then(|r| r.strip_prefix('.'))
        .and_then(|r| r.strip_suffix(ext))
        .and_then(|r| r.strip_suffix('.'))
        .is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> SiteResult<()> {
    let tmp = path.with_extension("tmp-xling");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            SiteError::io(format!("cannot write {}", path.display()), e)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            format: FORMAT,
            version: FORMAT_VERSION,
            generator: "test".into(),
            site_root: "../".into(),
            pages: 1,
            sections: 1,
            languages: BTreeMap::new(),
            files: BTreeMap::new(),
            bytes: BTreeMap::new(),
            keyword: KeywordEntry::default(),
            fragments: Vec::new(),
            totals: Totals::default(),
        }
    }

    #[test]
    fn a_rebuild_replaces_changed_files_and_removes_stale_ones() {
        let dir = std::env::temp_dir().join(format!("xling-site-out-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = |bytes: &[u8]| DataFile::new(Some("index"), "index", "xli", bytes.to_vec());
        write_output(&dir, vec![file(b"one")], &[], entry()).expect("first build");
        std::fs::write(dir.join("owner-notes.txt"), "kept").expect("write");
        write_output(&dir, vec![file(b"two")], &[], entry()).expect("second build");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("list")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let two = hashed_name("index", "xli", b"two");
        assert_eq!(
            names,
            [two.clone(), "owner-notes.txt".into(), ENTRY_FILE.into()]
        );
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(ENTRY_FILE)).expect("entry"))
                .expect("json");
        assert_eq!(json["files"]["index"], two.as_str());
        assert_eq!(json["bytes"]["index"], 3);
        assert_eq!(json["version"], FORMAT_VERSION);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
