//! The keyword index as static shards: every term of the site with its
//! postings (section, BM25 impact), sorted by term and cut into shards of
//! about [`SHARD_POSTINGS`] postings, so that a query fetches only the shards
//! whose term range holds its terms.
//!
//! Scores are precomputed (BM25 over a section's body, heading and page
//! title) and quantised to a byte, so the runtime needs no section lengths or
//! document frequencies: it adds impacts.
//!
//! Shard bytes (gzip-compressed):
//! `"XKW1"`, varint term count, then per term: varint UTF-8 length, the
//! bytes, varint posting count, and per posting a varint section delta
//! (from the previous posting of the term) and one impact byte.

use std::collections::{BTreeMap, HashMap};

use crate::pages::SitePage;
use crate::terms::{js_order, terms};

/// Postings per shard the builder aims at (Pagefind's chunks hold ~20k).
pub const SHARD_POSTINGS: usize = 4_000;
/// Magic at the start of a (decompressed) shard.
pub const SHARD_MAGIC: &[u8; 4] = b"XKW1";

const K1: f64 = 1.2;
const B: f64 = 0.75;
/// Term-frequency weight of a term in the section's heading.
const HEADING_WEIGHT: f64 = 3.0;
/// Term-frequency weight of a term in the page's title.
const TITLE_WEIGHT: f64 = 2.0;

/// One shard: its first term and its (uncompressed) bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Shard {
    /// The smallest term in the shard (in JavaScript string order).
    pub first: String,
    /// Serialised shard, before compression.
    pub bytes: Vec<u8>,
}

/// The keyword index of a site.
#[derive(Debug, Clone, PartialEq)]
pub struct KeywordIndex {
    /// Shards in term order.
    pub shards: Vec<Shard>,
    /// The impact a byte of 255 stands for.
    pub scale: f64,
    /// Distinct terms.
    pub terms: usize,
    /// Postings in all.
    pub postings: usize,
}

/// Builds the keyword index of `pages`; sections are numbered in page order,
/// as [`crate::pages::documents`] numbers them.
pub fn build(pages: &[SitePage]) -> KeywordIndex {
    // term → [(section, weighted tf)]
    let mut postings: HashMap<String, Vec<(u32, f64)>> = HashMap::new();
    let mut lengths: Vec<f64> = Vec::new();
    let mut section: u32 = 0;
    for p in pages {
        let title_terms = p.page.title.as_deref().map(terms).unwrap_or_default();
        for s in &p.page.sections {
            if s.is_heading_only() {
                // Numbered like every section, but never a result on its own.
                lengths.push(0.0);
                section += 1;
                continue;
            }
            let mut tf: BTreeMap<String, f64> = BTreeMap::new();
            let body = terms(&s.text);
            lengths.push(body.len() as f64);
            for t in body {
                *tf.entry(t).or_default() += 1.0;
            }
            for t in s.heading.as_deref().map(terms).unwrap_or_default() {
                *tf.entry(t).or_default() += HEADING_WEIGHT;
            }
            for t in &title_terms {
                *tf.entry(t.clone()).or_default() += TITLE_WEIGHT;
            }
            for (t, f) in tf {
                postings.entry(t).or_default().push((section, f));
            }
            section += 1;
        }
    }
    let n = lengths.iter().filter(|l| **l > 0.0).count().max(1) as f64;
    let avg = (lengths.iter().sum::<f64>() / n).max(1.0);
    let mut scored: Vec<(String, Vec<(u32, f64)>)> = postings
        .into_iter()
        .map(|(t, list)| {
            let df = list.len() as f64;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            let list = list
                .into_iter()
                .map(|(s, tf)| {
                    let len = lengths.get(s as usize).copied().unwrap_or(avg);
                    let norm = K1 * (1.0 - B + B * len / avg);
                    (s, idf * tf * (K1 + 1.0) / (tf + norm))
                })
                .collect();
            (t, list)
        })
        .collect();
    scored.sort_by(|a, b| js_order(&a.0, &b.0));
    let scale = scored
        .iter()
        .flat_map(|(_, l)| l.iter().map(|(_, s)| *s))
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let total: usize = scored.iter().map(|(_, l)| l.len()).sum();
    let mut shards = Vec::new();
    let mut current: Vec<&(String, Vec<(u32, f64)>)> = Vec::new();
    let mut count = 0;
    for entry in &scored {
        current.push(entry);
        count += entry.1.len();
        if count >= SHARD_POSTINGS {
            shards.push(encode(&current, scale));
            current.clear();
            count = 0;
        }
    }
    if !current.is_empty() {
        shards.push(encode(&current, scale));
    }
    KeywordIndex {
        shards,
        scale,
        terms: scored.len(),
        postings: total,
    }
}

fn encode(entries: &[&(String, Vec<(u32, f64)>)], scale: f64) -> Shard {
    let mut bytes = SHARD_MAGIC.to_vec();
    varint(&mut bytes, entries.len() as u64);
    for (term, list) in entries {
        varint(&mut bytes, term.len() as u64);
        bytes.extend_from_slice(term.as_bytes());
        varint(&mut bytes, list.len() as u64);
        let mut previous = 0u32;
        for (s, impact) in list {
            varint(&mut bytes, u64::from(s - previous));
            previous = *s;
            let q = (impact / scale * 255.0).round().clamp(1.0, 255.0) as u8;
            bytes.push(q);
        }
    }
    Shard {
        first: entries.first().map(|e| e.0.clone()).unwrap_or_default(),
        bytes,
    }
}

/// Appends `v` as a LEB128 varint.
pub fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
