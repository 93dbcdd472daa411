//! The static-site builder: a built site's HTML → the pages, sections and
//! translations search needs, and the documents the index holds
//! (`docs/site.md`).

pub mod cache;
pub mod decode;
pub mod error;
pub mod extract;
pub mod files;
pub mod output;
pub mod pages;

pub use cache::EmbeddingCache;
pub use decode::decode_html;
pub use error::{SiteError, SiteResult};
pub use extract::{ExtractConfig, Extractor, Page, Section};
pub use files::{site_files, SiteFile, Skipped, DEFAULT_GLOB};
pub use output::{write_output, DataFile, Entry, PageRecord, ENTRY_FILE};
pub use pages::{documents, SitePage, TranslationGroups};

#[cfg(test)]
mod tests;
