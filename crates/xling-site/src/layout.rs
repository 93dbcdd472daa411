//! The static files of a site's search, apart from the model and the
//! engine: keyword shards, the page table and fragment bundles, each
//! gzip-compressed (the runtime inflates them with `DecompressionStream`, so
//! the bytes on the wire do not depend on the host compressing them).

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;

use crate::error::{SiteError, SiteResult};
use crate::fragments::{bundles, page_table};
use crate::keyword;
use crate::output::{DataFile, KeywordEntry};
use crate::pages::{SitePage, TranslationGroups};

/// What [`static_files`] produces: the files and the entry's tables.
pub struct StaticFiles {
    /// Files to write.
    pub files: Vec<DataFile>,
    /// The entry's keyword table.
    pub keyword: KeywordEntry,
    /// The entry's fragment table.
    pub fragments: Vec<(usize, String)>,
    /// Distinct keyword terms.
    pub terms: usize,
    /// Keyword postings.
    pub postings: usize,
}

/// Keyword shards, page table and fragment bundles of `pages`.
pub fn static_files(pages: &[SitePage], groups: &TranslationGroups) -> SiteResult<StaticFiles> {
    let index = keyword::build(pages);
    let mut files = Vec::new();
    let mut shards = Vec::new();
    for shard in &index.shards {
        let file = DataFile::new(None, "kw", "xkw", gzip(&shard.bytes)?);
        shards.push((shard.first.clone(), file.name.clone()));
        files.push(file);
    }
    files.push(DataFile::new(
        Some("pages"),
        "pages",
        "xpg",
        gzip(&page_table(pages, groups))?,
    ));
    let mut fragments = Vec::new();
    for (first, json) in bundles(pages, groups)? {
        let file = DataFile::new(None, "fragments", "xfr", gzip(&json)?);
        fragments.push((first, file.name.clone()));
        files.push(file);
    }
    Ok(StaticFiles {
        files,
        keyword: KeywordEntry {
            scale: index.scale,
            shards,
        },
        fragments,
        terms: index.terms,
        postings: index.postings,
    })
}

/// `bytes` gzip-compressed at the best level (built once, fetched often).
pub fn gzip(bytes: &[u8]) -> SiteResult<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .map_err(|e| SiteError::io("cannot compress", e))
}
