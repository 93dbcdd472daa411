//! HNSW graphs: built by instant-distance, searched by xling.
//!
//! instant-distance builds good graphs, but its search is the hot path of
//! every query and it was made for another use: `ef` is fixed when the graph
//! is built, each point is a separate heap allocation it owns (a second copy
//! of every vector), and its result list is a sorted `Vec` with O(ef) inserts.
//! So the graph is taken apart right after the build: xling keeps only the
//! links, flattened into one array per layer, and walks them over the index's
//! own contiguous int8 codes with a per-query `ef` and a bitset of visited
//! points. The walk is the algorithm of the HNSW paper (Malkov & Yashunin,
//! arXiv 1603.09320, algorithms 2 and 5), the same one instant-distance runs.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use instant_distance::{Builder, HnswMap};
use serde::{Deserialize, Serialize};

use super::codec::{Reader, Writer};
use super::vector::QuantizedVector;
use xling_model::error::{Error, Result};

/// instant-distance's `M`: links per node in the upper layers; layer 0 has 2M.
pub const M: usize = 32;
const M0: usize = 2 * M;
/// Padding after a node's last link (instant-distance's invalid `PointId`).
const NO_LINK: u32 = u32::MAX;

/// What a graph walk needs from the vector store.
pub trait Scorer {
    /// Similarity of the query to `passage` (higher is nearer).
    fn similarity(&self, passage: u32) -> f32;

    /// Says `passage` is about to be scored, so its vector can be fetched
    /// into cache while others are scored (a graph walk is memory bound).
    fn prefetch(&self, _passage: u32) {}
}

impl<F: Fn(u32) -> f32> Scorer for F {
    fn similarity(&self, passage: u32) -> f32 {
        self(passage)
    }
}

/// The links of one HNSW graph. Point `i` of the graph is passage `values[i]`;
/// instant-distance orders points so that each upper layer holds points
/// `0..len` and the search enters at point 0 of the top layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    values: Vec<u32>,
    /// `M0` links per point, padded with `NO_LINK`.
    zero: Vec<u32>,
    /// Layers 1, 2, … (bottom up), `M` links per node.
    upper: Vec<Vec<u32>>,
}

impl Graph {
    /// Builds a graph over `points` (passage `passages[i]` is `points[i]`).
    pub fn build(
        builder: Builder,
        points: Vec<QuantizedVector>,
        passages: Vec<u32>,
    ) -> Result<Self> {
        let map: HnswMap<QuantizedVector, u32> = builder.build(points, passages);
        // instant-distance keeps its layout private; its serde form is public
        // and stable within a version (checked by the round-trip test).
        let bytes = postcard::to_allocvec(&map).map_err(|e| {
            Error::InvalidIndex(format!(
                "cannot read back a graph instant-distance built: {e}"
            ))
        })?;
        drop(map);
        let mirror: HnswMapLayout = postcard::from_bytes(&bytes).map_err(|e| {
            Error::InvalidIndex(format!(
                "cannot read back a graph instant-distance built: {e}"
            ))
        })?;
        let layout = mirror.hnsw;
        Ok(Self {
            values: mirror.values,
            zero: layout.zero.into_iter().flat_map(|node| node.0).collect(),
            upper: layout
                .layers
                .into_iter()
                .map(|layer| layer.into_iter().flatten().collect())
                .collect(),
        })
    }

    /// Passage ids of the graph's points.
    pub fn values(&self) -> &[u32] {
        &self.values
    }

    /// Points in the graph, deleted passages included.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the graph has no point.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Points in layers above 0 (for memory accounting).
    pub fn upper_nodes(&self) -> usize {
        self.upper.iter().map(|l| l.len() / M).sum()
    }

    /// The `ef` points most similar to the query by `similarity(passage)`,
    /// as `(passage, similarity)` in no particular order.
    pub fn search(&self, ef: usize, scorer: &impl Scorer) -> Vec<(u32, f32)> {
        if self.values.is_empty() || ef == 0 {
            return Vec::new();
        }
        let sim = |point: u32| scorer.similarity(self.values[point as usize]);

        // Greedy descent through the upper layers (ef = 1).
        let mut entry = Near {
            sim: sim(0),
            point: 0,
        };
        for layer in self.upper.iter().rev() {
            loop {
                let start = entry.point as usize * M;
                let mut best = entry;
                for &link in links(&layer[start..start + M]) {
                    let s = sim(link);
                    if s > best.sim {
                        best = Near {
                            sim: s,
                            point: link,
                        };
                    }
                }
                if best.point == entry.point {
                    break;
                }
                entry = best;
            }
        }

        // Beam search of layer 0: `candidates` to expand (best first),
        // `found` the ef best so far (worst on top).
        let mut visited = Visited::new(self.values.len());
        visited.insert(entry.point);
        let mut candidates = BinaryHeap::with_capacity(ef * 2);
        let mut found: BinaryHeap<Reverse<Near>> = BinaryHeap::with_capacity(ef + 1);
        candidates.push(entry);
        found.push(Reverse(entry));
        while let Some(current) = candidates.pop() {
            let worst = found.peek().map_or(f32::NEG_INFINITY, |w| w.0.sim);
            if found.len() >= ef && current.sim < worst {
                break;
            }
            // Mark and prefetch the unvisited neighbours first, then score
            // them: their vectors load while the first ones are scored.
            let start = current.point as usize * M0;
            let mut fresh = [0u32; M0];
            let mut count = 0;
            for &link in links(&self.zero[start..start + M0]) {
                if visited.insert(link) {
                    scorer.prefetch(self.values[link as usize]);
                    fresh[count] = link;
                    count += 1;
                }
            }
            for &link in &fresh[..count] {
                let s = sim(link);
                let worst = found.peek().map_or(f32::NEG_INFINITY, |w| w.0.sim);
                if found.len() < ef || s > worst {
                    let near = Near {
                        sim: s,
                        point: link,
                    };
                    candidates.push(near);
                    found.push(Reverse(near));
                    if found.len() > ef {
                        found.pop();
                    }
                }
            }
        }
        found
            .into_iter()
            .map(|Reverse(n)| (self.values[n.point as usize], n.sim))
            .collect()
    }

    /// Section bytes for a snapshot.
    pub fn write(&self, w: &mut Writer) {
        w.u32s(&self.values);
        w.u32s(&self.zero);
        w.len_u64(self.upper.len());
        for layer in &self.upper {
            w.u32s(layer);
        }
    }

    /// Reads what [`Graph::write`] wrote and checks every link and value, so
    /// that a search over a loaded graph can never index out of bounds.
    pub fn read(r: &mut Reader, passages: usize) -> Result<Self> {
        let values = r.u32s()?;
        let n = values.len();
        if n == 0 {
            return Err(r.error("empty graph"));
        }
        if let Some(p) = values.iter().find(|p| **p as usize >= passages) {
            return Err(r.error(format!("graph passage {p} out of range")));
        }
        let zero = r.u32s()?;
        if zero.len() != n * M0 {
            return Err(r.error("layer-0 table of the wrong size"));
        }
        check_links(&zero, n).map_err(|e| r.error(format!("layer 0: {e}")))?;
        let layers = r.count(8)?;
        let mut upper = Vec::with_capacity(layers);
        let mut below = n;
        for l in 0..layers {
            let layer = r.u32s()?;
            let len = layer.len() / M;
            // The search carries a point id from one layer to the next down,
            // so layers must be non-empty prefixes that shrink going up.
            if len == 0 || layer.len() % M != 0 || len > below {
                return Err(r.error(format!("layer {} of a bad size", l + 1)));
            }
            check_links(&layer, len).map_err(|e| r.error(format!("layer {}: {e}", l + 1)))?;
            below = len;
            upper.push(layer);
        }
        Ok(Self {
            values,
            zero,
            upper,
        })
    }

    /// Heap bytes of the links and point ids (by capacity), for
    /// [`crate::memory::IndexMemory`].
    pub fn heap_bytes(&self) -> usize {
        use crate::memory::vec_bytes;
        vec_bytes(&self.values)
            + vec_bytes(&self.zero)
            + vec_bytes(&self.upper)
            + self.upper.iter().map(vec_bytes).sum::<usize>()
    }
}

/// A node's links: they are packed at the front, `NO_LINK` after the last.
fn links(node: &[u32]) -> &[u32] {
    let end = node
        .iter()
        .position(|l| *l == NO_LINK)
        .unwrap_or(node.len());
    &node[..end]
}

fn check_links(table: &[u32], points: usize) -> std::result::Result<(), String> {
    match table
        .iter()
        .find(|l| **l != NO_LINK && **l as usize >= points)
    {
        Some(l) => Err(format!("link to point {l} of {points}")),
        None => Ok(()),
    }
}

/// A point and its similarity to the query, ordered by similarity.
#[derive(Debug, Clone, Copy)]
struct Near {
    sim: f32,
    point: u32,
}

impl PartialEq for Near {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Near {}

impl PartialOrd for Near {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Near {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sim
            .total_cmp(&other.sim)
            .then(other.point.cmp(&self.point))
    }
}

/// Visited points of one search: one bit per point (12.5 KB at 100k points,
/// cheap to clear, unlike a hash set).
struct Visited(Vec<u64>);

impl Visited {
    fn new(points: usize) -> Self {
        Self(vec![0; points.div_ceil(64)])
    }

    /// Marks `point`; false if it was already marked.
    fn insert(&mut self, point: u32) -> bool {
        let (word, bit) = (point as usize / 64, 1u64 << (point % 64));
        let fresh = self.0[word] & bit == 0;
        self.0[word] |= bit;
        fresh
    }
}

/// instant-distance 0.6's serialised `HnswMap` (its fields are private).
#[derive(Deserialize, Serialize)]
pub(crate) struct HnswMapLayout {
    pub hnsw: HnswLayout,
    pub values: Vec<u32>,
}

#[derive(Deserialize, Serialize)]
pub(crate) struct HnswLayout {
    pub ef_search: usize,
    pub points: Vec<QuantizedVector>,
    pub zero: Vec<ZeroNode>,
    pub layers: Vec<Vec<[u32; M]>>,
}

#[derive(Deserialize, Serialize)]
pub(crate) struct ZeroNode(#[serde(with = "serde_big_array::BigArray")] pub [u32; M0]);

#[cfg(test)]
mod tests {
    use super::*;
    use instant_distance::Search;
    use xling_model::testing::pseudo_unit_vectors;

    fn points(n: usize, dim: usize, seed: u64) -> Vec<QuantizedVector> {
        pseudo_unit_vectors(n, dim, seed)
            .iter()
            .map(|v| QuantizedVector::quantize(v))
            .collect()
    }

    /// Our walk over the flattened links finds what instant-distance's own
    /// search finds on the same graph with the same ef: the layout was read
    /// back correctly and the algorithm is the same.
    #[test]
    fn search_matches_instant_distance_on_the_same_graph() -> Result<()> {
        let pts = points(3000, 16, 7);
        let ids: Vec<u32> = (0..pts.len() as u32).collect();
        let builder = || Builder::default().seed(3).ef_search(40);
        let theirs = builder().build(pts.clone(), ids.clone());
        let ours = Graph::build(builder(), pts.clone(), ids)?;
        assert!(
            ours.upper_nodes() > 0,
            "a graph of 3,000 points has upper layers"
        );
        let mut search = Search::default();
        let mut agree = 0;
        let queries = points(50, 16, 99);
        for q in &queries {
            let mut expected: Vec<u32> = theirs.search(q, &mut search).map(|i| *i.value).collect();
            let mut found: Vec<u32> = ours
                .search(40, &|p: u32| q.dot(&pts[p as usize]))
                .into_iter()
                .map(|(p, _)| p)
                .collect();
            expected.sort_unstable();
            found.sort_unstable();
            agree += expected
                .iter()
                .filter(|p| found.binary_search(p).is_ok())
                .count();
        }
        // Ties between equal int8 distances may be broken differently.
        assert!(
            agree as f64 >= 0.99 * (queries.len() * 40) as f64,
            "{agree}"
        );
        Ok(())
    }

    #[test]
    fn write_read_round_trip_and_bad_links_are_refused() -> Result<()> {
        let pts = points(500, 8, 1);
        let graph = Graph::build(Builder::default().seed(1), pts, (0..500).collect())?;
        let mut w = Writer::new();
        graph.write(&mut w);
        let bytes = w.into_bytes();
        assert_eq!(Graph::read(&mut Reader::new(&bytes, "graph"), 500)?, graph);
        assert!(
            Graph::read(&mut Reader::new(&bytes, "graph"), 100).is_err(),
            "values beyond the passage count"
        );
        let mut bad = graph.clone();
        bad.zero[5] = 500;
        let mut w = Writer::new();
        bad.write(&mut w);
        assert!(Graph::read(&mut Reader::new(&w.into_bytes(), "graph"), 500).is_err());
        if !bad.upper.is_empty() {
            let mut bad = graph.clone();
            let len = bad.upper[0].len() / M;
            bad.upper[0][0] = len as u32;
            let mut w = Writer::new();
            bad.write(&mut w);
            assert!(Graph::read(&mut Reader::new(&w.into_bytes(), "graph"), 500).is_err());
        }
        Ok(())
    }

    #[test]
    fn empty_graph_and_zero_ef_find_nothing() -> Result<()> {
        let pts = points(10, 4, 2);
        let graph = Graph::build(Builder::default(), pts.clone(), (0..10).collect())?;
        assert!(graph.search(0, &|_: u32| 1.0).is_empty());
        assert_eq!(graph.search(100, &|p: u32| pts[p as usize].scale).len(), 10);
        Ok(())
    }
}
