//! What the runtime shows: a compact page table (sections per page, the
//! translation group and language of each page) fetched with the first
//! query, and fragments (url, title, section text, translations) bundled a
//! few pages to a file and fetched only for the results shown.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{SiteError, SiteResult};
use crate::keyword::varint;
use crate::pages::{SitePage, TranslationGroups};

/// Magic at the start of the (decompressed) page table.
pub const PAGES_MAGIC: &[u8; 4] = b"XPG1";
/// Raw JSON bytes a fragment bundle grows to before the next one starts.
pub const BUNDLE_BYTES: usize = 24 * 1024;
/// Characters of a section's text kept in its fragment (for the excerpt).
pub const FRAGMENT_TEXT_CHARS: usize = 4000;

/// The page table: `"XPG1"`, varint language count, each code as varint
/// length + UTF-8; varint page count; per page varint section count, varint
/// group (the index of the group's first page) and varint language index
/// (0 = unknown, else 1 + the code's index).
pub fn page_table(pages: &[SitePage], groups: &TranslationGroups) -> Vec<u8> {
    let languages = language_codes(pages);
    let index_of: BTreeMap<&str, usize> = pages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.url.as_str(), i))
        .collect();
    let mut out = PAGES_MAGIC.to_vec();
    varint(&mut out, languages.len() as u64);
    for l in &languages {
        varint(&mut out, l.len() as u64);
        out.extend_from_slice(l.as_bytes());
    }
    varint(&mut out, pages.len() as u64);
    for (i, p) in pages.iter().enumerate() {
        varint(&mut out, p.page.sections.len() as u64);
        let group = index_of.get(groups.group(&p.url)).copied().unwrap_or(i);
        varint(&mut out, group as u64);
        let lang = p
            .page
            .lang
            .as_ref()
            .and_then(|l| languages.iter().position(|c| c == l))
            .map_or(0, |k| k + 1);
        varint(&mut out, lang as u64);
    }
    out
}

fn language_codes(pages: &[SitePage]) -> Vec<String> {
    let mut codes: Vec<String> = pages.iter().filter_map(|p| p.page.lang.clone()).collect();
    codes.sort();
    codes.dedup();
    codes
}

#[derive(Serialize)]
struct PageFragment<'a> {
    url: &'a str,
    title: Option<&'a str>,
    lang: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    meta: &'a BTreeMap<String, String>,
    /// Other pages of the translation group: (language, url).
    translations: Vec<(Option<&'a str>, &'a str)>,
    sections: Vec<SectionFragment<'a>>,
}

#[derive(Serialize)]
struct SectionFragment<'a> {
    anchor: Option<&'a str>,
    heading: Option<&'a str>,
    text: String,
}

#[derive(Serialize)]
struct Bundle<'a> {
    /// Index of the bundle's first page.
    first: usize,
    pages: Vec<PageFragment<'a>>,
}

/// Fragment bundles: (first page index, JSON bytes), pages in order.
pub fn bundles(
    pages: &[SitePage],
    groups: &TranslationGroups,
) -> SiteResult<Vec<(usize, Vec<u8>)>> {
    let group_of: Vec<&str> = pages.iter().map(|p| groups.group(&p.url)).collect();
    let mut members: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, g) in group_of.iter().enumerate() {
        members.entry(g).or_default().push(i);
    }
    let mut out = Vec::new();
    let mut current: Vec<PageFragment> = Vec::new();
    let mut first = 0;
    let mut size = 0;
    for (i, p) in pages.iter().enumerate() {
        let translations = members
            .get(group_of[i])
            .into_iter()
            .flatten()
            .filter(|j| **j != i)
            .map(|j| (pages[*j].page.lang.as_deref(), pages[*j].url.as_str()))
            .collect();
        let sections: Vec<SectionFragment> = p
            .page
            .sections
            .iter()
            .map(|s| SectionFragment {
                anchor: s.anchor.as_deref(),
                heading: s.heading.as_deref(),
                text: s.text.chars().take(FRAGMENT_TEXT_CHARS).collect(),
            })
            .collect();
        size += sections.iter().map(|s| s.text.len() + 64).sum::<usize>() + p.url.len() + 64;
        current.push(PageFragment {
            url: &p.url,
            title: p.page.title.as_deref(),
            lang: p.page.lang.as_deref(),
            meta: &p.page.meta,
            translations,
            sections,
        });
        if size >= BUNDLE_BYTES {
            out.push(encode_bundle(first, std::mem::take(&mut current))?);
            first = i + 1;
            size = 0;
        }
    }
    if !current.is_empty() {
        out.push(encode_bundle(first, current)?);
    }
    Ok(out)
}

fn encode_bundle(first: usize, pages: Vec<PageFragment>) -> SiteResult<(usize, Vec<u8>)> {
    let bytes = serde_json::to_vec(&Bundle { first, pages })
        .map_err(|e| SiteError::Invalid(format!("cannot write a fragment bundle: {e}")))?;
    Ok((first, bytes))
}
