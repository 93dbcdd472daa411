//! An incremental BM25 index over SentencePiece piece ids.
//!
//! The caller lower-cases and tokenizes; this module only sees `&[u32]`, so it
//! works the same for every script (no whitespace or stemming assumptions).
//!
//! Statistics are kept exact under add and remove: the document count, the
//! total length (for avgdl) and every document frequency are integers updated
//! together, and a remove is checked completely before anything changes. An
//! index that went through any sequence of adds and removes therefore scores
//! exactly like one built from scratch with only the surviving passages.
//!
//! Scoring (Robertson/Sparck Jones BM25, the `+1` idf variant used by Lucene):
//!
//! ```text
//! score(q, d) = Σ_{t ∈ q}  qtf(t) · idf(t) · tf(t,d)·(k1+1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl))
//! idf(t)      = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))
//! ```
//!
//! `qtf(t)` is how often `t` occurs in the query: every occurrence counts, as
//! in BM25 with k3 = ∞ and as Lucene does when a query repeats a term. The sum
//! is taken over the distinct query terms in ascending term id, so the result
//! does not depend on query order and [`LexicalIndex::search`] and
//! [`LexicalIndex::score`] give bit-identical numbers.
//!
//! Layout: [`Bm25Params`] (`params`), the posting lists and exact term
//! statistics with add and remove (`index`), BM25 scoring and top-k search
//! (`scoring`), and the index's snapshot section (`snapshot`).

mod index;
mod params;
mod scoring;
mod snapshot;
#[cfg(test)]
mod testing;

pub use index::LexicalIndex;
pub use params::Bm25Params;
