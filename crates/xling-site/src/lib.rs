//! The static-site builder: a built site's HTML → the pages, sections and
//! translations search needs, and the documents the index holds
//! (`docs/site.md`).

pub mod cache;
pub mod decode;
pub mod error;
pub mod extract;
pub mod files;
pub mod fragments;
pub mod keyword;
pub mod layout;
pub mod output;
pub mod pages;
pub mod runtime;
pub mod terms;

pub use cache::EmbeddingCache;
pub use decode::decode_html;
pub use error::{SiteError, SiteResult};
pub use extract::{ExtractConfig, Extractor, Page, Section};
pub use files::{site_files, SiteFile, Skipped, DEFAULT_GLOB};
pub use layout::{gzip, static_files, StaticFiles};
pub use output::{write_output, DataFile, Entry, KeywordEntry, Totals, ENTRY_FILE};
pub use pages::{documents, SitePage, TranslationGroups};

#[cfg(test)]
mod tests;
