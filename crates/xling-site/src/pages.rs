//! A site's extracted pages → the documents the index holds (one per
//! section, linking to `url#anchor`) and the translation groups of pages.

use std::collections::{BTreeMap, HashMap};

use xling_index::Document;
use xling_model::tokenize::MAX_TEXT_BYTES;

use crate::extract::Page;

/// A page of the site with its URL (relative to the site root).
#[derive(Debug, Clone, PartialEq)]
pub struct SitePage {
    /// Relative URL, as [`crate::files::url_of`] gives it.
    pub url: String,
    /// What was extracted.
    pub page: Page,
}

/// Pages that are translations of each other, by the `hreflang` links
/// between them (in either direction: one link is enough).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TranslationGroups {
    /// For each page URL, its group: the smallest URL of the group.
    pub group_of: BTreeMap<String, String>,
}

impl TranslationGroups {
    /// Groups of `pages` from their alternates; links to pages not on the
    /// site (other hosts, missing pages) are ignored.
    pub fn of(pages: &[SitePage]) -> Self {
        let index: HashMap<&str, usize> = pages
            .iter()
            .enumerate()
            .map(|(i, p)| (p.url.as_str(), i))
            .collect();
        let mut parent: Vec<usize> = (0..pages.len()).collect();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        for (i, p) in pages.iter().enumerate() {
            for (_, href) in &p.page.alternates {
                let Some(target) = resolve(&p.url, href) else {
                    continue;
                };
                // An absolute link names the site's host and base path, which the
                // builder does not know: match its path's longest suffix that is a page.
                let found = std::iter::once(target.as_str())
                    .chain(target.match_indices('/').map(|(k, _)| &target[k + 1..]))
                    .filter(|t| !t.is_empty())
                    .find_map(|t| index.get(t).copied());
                if let Some(j) = found {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    // The smaller index (smaller URL: pages are sorted) is the root.
                    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                    parent[hi] = lo;
                }
            }
        }
        let group_of = (0..pages.len())
            .map(|i| {
                let r = root(&mut parent, i);
                (pages[i].url.clone(), pages[r].url.clone())
            })
            .collect();
        Self { group_of }
    }

    /// The group of the page at `url`: the smallest URL of its group, or
    /// `url` itself for a page the groups do not know.
    pub fn group<'a>(&'a self, url: &'a str) -> &'a str {
        self.group_of.get(url).map_or(url, String::as_str)
    }

    /// Groups with more than one page.
    pub fn translated(&self) -> usize {
        let mut sizes: HashMap<&str, usize> = HashMap::new();
        for g in self.group_of.values() {
            *sizes.entry(g).or_default() += 1;
        }
        sizes.values().filter(|n| **n > 1).count()
    }
}

/// `href` (as written in a page at `base`) as a site-relative URL without
/// fragment or query, or `None` when it leaves the site.
pub fn resolve(base: &str, href: &str) -> Option<String> {
    let href = href.trim();
    let href = href.split(['#', '?']).next().unwrap_or_default();
    if href.contains("://") || href.starts_with("//") || href.contains(':') {
        // Absolute URLs: only same-site ones could be resolved, and the
        // builder does not know the site's host; `hreflang` links are
        // usually absolute, so match by path when the site is at the root.
        let path = href.split("://").nth(1)?.split_once('/').map(|(_, p)| p)?;
        return Some(normalize(path));
    }
    if let Some(abs) = href.strip_prefix('/') {
        return Some(normalize(abs));
    }
    let dir = match base.rfind('/') {
        Some(i) => &base[..=i],
        None => "",
    };
    Some(normalize(&format!("{dir}{href}")))
}

/// `a/./b/../c/index.html` → `a/c/`.
fn normalize(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let trailing = path.ends_with('/') || path.is_empty();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut url = out.join("/");
    if url.ends_with("index.html") || url.ends_with("index.htm") {
        url.truncate(url.rfind('/').map_or(0, |i| i + 1));
    } else if trailing && !url.is_empty() {
        url.push('/');
    }
    if url.is_empty() {
        url.push_str(crate::files::HOME);
    }
    url
}

/// The index documents of `pages`: one per section, id and url
/// `url#anchor` (just `url` for a page's top), title `page title — heading`,
/// language the page's. Sections longer than the tokenizer's limit are cut
/// at a paragraph (or character) boundary into parts.
pub fn documents(pages: &[SitePage]) -> Vec<Document> {
    let mut docs = Vec::new();
    let mut number = 0usize;
    for p in pages {
        for s in &p.page.sections {
            let link = match &s.anchor {
                Some(a) => format!("{}#{a}", p.url),
                None => p.url.clone(),
            };
            // The section's number, which the keyword shards and the page
            // table use too: the runtime maps hits back through it.
            let id = section_id(number);
            number += 1;
            if s.is_heading_only() {
                continue;
            }
            let title = match (&p.page.title, &s.heading) {
                (Some(t), Some(h)) if t != h => Some(format!("{t} — {h}")),
                (Some(t), _) => Some(t.clone()),
                (None, h) => h.clone(),
            };
            for (part, text) in split_text(&s.text, MAX_TEXT_BYTES).into_iter().enumerate() {
                docs.push(Document {
                    id: if part == 0 {
                        id.clone()
                    } else {
                        format!("{id}~part{part}")
                    },
                    text,
                    title: title.clone(),
                    url: Some(link.clone()),
                    lang: p.page.lang.clone(),
                });
            }
        }
    }
    docs
}

/// The document id of section `number` (counted over all pages, in order).
pub fn section_id(number: usize) -> String {
    format!("s{number}")
}

/// `text` in parts of at most `max` bytes, cut at the last paragraph break
/// (else line break, else space, else character boundary) before the limit.
pub(crate) fn split_text(text: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let head = &rest[..cut];
        let at = head
            .rfind("\n\n")
            .or_else(|| head.rfind('\n'))
            .or_else(|| head.rfind(' '))
            .filter(|i| *i > 0)
            .unwrap_or(cut);
        parts.push(rest[..at].trim().to_string());
        rest = rest[at..].trim_start();
    }
    if !rest.trim().is_empty() {
        parts.push(rest.trim().to_string());
    }
    parts.retain(|p| !p.is_empty());
    parts
}
