//! Dense retrieval: int8 vectors, HNSW segments and an exact buffer.
//!
//! `instant-distance` builds a graph once and cannot insert or delete, so the
//! index is made incremental the way Lucene does it: fresh vectors go to a
//! small buffer searched exactly; when it fills, it becomes an immutable HNSW
//! segment; segments of similar size are merged (rebuilt) so their number
//! stays logarithmic; deletions are tombstones, dropped when a segment is
//! rebuilt. A query searches every part, merges the candidates and re-scores
//! them exactly (f32 query · int8 vector). Below `exact_below` live vectors no
//! graph is built at all: brute force over int8 is faster than the graph there.

use instant_distance::{Builder, Heuristic};

use super::codec::{Reader, Writer};
use super::graph::{Graph, Scorer};
use super::vector::{dot_f32_i8, dot_i8, FixedQuery, QuantizedVector};
use xling_model::error::{Error, Result};

/// Where a passage's vector is: in the buffer, or in segment `n`.
const IN_BUFFER: u32 = u32::MAX;

/// Neighbour selection while building. With `keep_pruned` (instant-distance's
/// default) every node keeps 2M = 64 links, pruned candidates included, and
/// each insertion re-runs the pairwise diversity check over all links of each
/// of its neighbours: O(M³) distances per point. Without it builds are 6.6×
/// faster (1,000 × 384 points: 113 ms instead of 752 ms), but recall@10 on
/// 100k real passages falls from 0.955 to 0.727 (ef 128, instant-distance's
/// own search; `xling bench index --drop-pruned`), so it
/// is kept by default and offered as `DenseConfig::keep_pruned = false`.
const NEIGHBOUR_HEURISTIC: Heuristic = Heuristic {
    extend_candidates: false,
    keep_pruned: true,
};

/// Tuning of the dense index. The defaults come from `xling bench index`.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseConfig {
    /// Seed of every graph build (segment `i` uses `seed + i`): same inputs, same index.
    pub seed: u64,
    /// Below this many live vectors, search is exact and no graph is built.
    pub exact_below: usize,
    /// Fresh vectors searched exactly before they are built into a segment.
    pub buffer_max: usize,
    /// This many segments of the same size tier are merged into one.
    pub merge_factor: usize,
    /// Candidate list size while building (quality of the graph vs build time).
    pub ef_construction: usize,
    /// Keep pruned candidates as extra links (instant-distance's default;
    /// slower builds, see `NEIGHBOUR_HEURISTIC`).
    pub keep_pruned: bool,
    /// Candidates a segment returns per query (≥ the largest k asked); the
    /// breadth of the graph walk, so recall against speed. Read at query
    /// time: changing it needs no rebuild.
    pub ef_search: usize,
    /// Threads for graph construction: 1 makes builds bit-for-bit reproducible;
    /// 0 uses every core (instant-distance inserts in parallel, so the graph,
    /// though not its quality, then depends on scheduling).
    pub build_threads: usize,
}

impl Default for DenseConfig {
    fn default() -> Self {
        Self {
            seed: 0x0078_6c69_6e67,
            exact_below: 20_000,
            buffer_max: 10_000,
            merge_factor: 4,
            ef_construction: 400,
            keep_pruned: true,
            ef_search: 128,
            build_threads: 1,
        }
    }
}

/// One immutable HNSW graph over some passages.
struct Segment {
    graph: Graph,
    /// Passages of this segment deleted since it was built.
    deleted: usize,
}

impl Segment {
    fn len(&self) -> usize {
        self.graph.len()
    }

    fn live(&self) -> usize {
        self.len() - self.deleted
    }
}

/// Dense index over passage ids `0..len()`, assigned by the caller in order.
pub struct DenseIndex {
    dim: usize,
    config: DenseConfig,
    /// int8 codes of every passage ever added, `dim` per passage.
    codes: Vec<i8>,
    scales: Vec<f32>,
    live: Vec<bool>,
    /// Segment index per passage, or `IN_BUFFER`.
    location: Vec<u32>,
    buffer: Vec<u32>,
    segments: Vec<Segment>,
    /// Graph builds so far: the next build's seed offset.
    builds: u64,
}

impl DenseIndex {
    /// An empty index for vectors of `dim` components (the model's hidden size).
    pub fn new(dim: usize, config: DenseConfig) -> Self {
        Self {
            dim,
            config,
            codes: Vec::new(),
            scales: Vec::new(),
            live: Vec::new(),
            location: Vec::new(),
            buffer: Vec::new(),
            segments: Vec::new(),
            builds: 0,
        }
    }

    /// Components per vector; queries of another length are refused.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The graph parameters in use (stored in snapshots).
    pub fn config(&self) -> &DenseConfig {
        &self.config
    }

    /// Sets how many candidates each graph walk keeps (see
    /// [`DenseConfig::ef_search`]); takes effect on the next search.
    pub fn set_ef_search(&mut self, ef: usize) {
        self.config.ef_search = ef.max(1);
    }

    /// Points in graph layers above 0, over all segments (memory accounting).
    pub fn upper_layer_nodes(&self) -> usize {
        self.segments.iter().map(|s| s.graph.upper_nodes()).sum()
    }

    /// Passage ids ever added (live or deleted).
    pub fn len(&self) -> usize {
        self.scales.len()
    }

    /// Whether no passage was ever added.
    pub fn is_empty(&self) -> bool {
        self.scales.is_empty()
    }

    /// Passages not deleted: what a search can return.
    pub fn live_count(&self) -> usize {
        self.buffer_live() + self.segments.iter().map(Segment::live).sum::<usize>()
    }

    fn buffer_live(&self) -> usize {
        self.buffer
            .iter()
            .filter(|p| self.live[**p as usize])
            .count()
    }

    /// Sizes of the graph segments and of the exact buffer (live vectors).
    pub fn parts(&self) -> (Vec<usize>, usize) {
        (
            self.segments.iter().map(Segment::live).collect(),
            self.buffer_live(),
        )
    }

    /// Whether `passage` was added and not deleted (unknown ids are not live).
    pub fn is_live(&self, passage: u32) -> bool {
        self.live.get(passage as usize).copied().unwrap_or(false)
    }

    /// The stored vector of a passage.
    pub fn vector(&self, passage: u32) -> Option<QuantizedVector> {
        let p = passage as usize;
        let scale = *self.scales.get(p)?;
        Some(QuantizedVector {
            codes: self.codes[p * self.dim..(p + 1) * self.dim].to_vec(),
            scale,
        })
    }

    /// Appends the vector of passage `passage`, which must equal `len()`.
    /// Call [`DenseIndex::maintain`] after a batch of adds.
    pub fn add(&mut self, passage: u32, vector: &[f32]) -> Result<()> {
        if passage as usize != self.len() {
            return Err(Error::InvalidInput(format!(
                "dense index: passage id {passage} added out of order (next is {})",
                self.len()
            )));
        }
        if vector.len() != self.dim {
            return Err(Error::InvalidInput(format!(
                "vector of {} dimensions, the index holds {}",
                vector.len(),
                self.dim
            )));
        }
        let q = QuantizedVector::quantize(vector);
        self.codes.extend_from_slice(&q.codes);
        self.scales.push(q.scale);
        self.live.push(true);
        self.location.push(IN_BUFFER);
        self.buffer.push(passage);
        Ok(())
    }

    /// Marks a passage deleted. Returns false if it was not live.
    pub fn remove(&mut self, passage: u32) -> bool {
        let p = passage as usize;
        if !self.is_live(passage) {
            return false;
        }
        self.live[p] = false;
        match self.location[p] {
            IN_BUFFER => self.buffer.retain(|b| *b != passage),
            s => {
                if let Some(segment) = self.segments.get_mut(s as usize) {
                    segment.deleted += 1;
                }
            }
        }
        true
    }

    /// Builds and merges segments as the policy says; cheap when nothing is
    /// due. On error no vector is lost: what could not be built stays in
    /// the exact buffer.
    pub fn maintain(&mut self) -> Result<()> {
        while self.maintain_step()? {}
        Ok(())
    }

    /// Whether [`DenseIndex::maintain_step`] has work to do.
    pub fn maintenance_due(&self) -> bool {
        self.next_task().is_some()
    }

    /// Does one unit of maintenance (one graph build or merge) and says
    /// whether it did anything. Callers that must stay responsive (the
    /// browser's worker) run these between requests instead of [`maintain`].
    ///
    /// [`maintain`]: DenseIndex::maintain
    pub fn maintain_step(&mut self) -> Result<bool> {
        match self.next_task() {
            None => Ok(false),
            Some(Task::Flush) => {
                let fresh = std::mem::take(&mut self.buffer);
                self.push_segment(fresh)?;
                Ok(true)
            }
            Some(Task::Merge(group)) => {
                self.merge(&group)?;
                Ok(true)
            }
        }
    }

    /// The next unit of maintenance the policy asks for: flush the exact
    /// buffer into a graph, rebuild a segment that is mostly tombstones, or
    /// merge `merge_factor` segments of one size tier (smallest first).
    fn next_task(&self) -> Option<Task> {
        let live = self.live_count();
        if self.segments.is_empty() && live < self.config.exact_below {
            return None;
        }
        if self.buffer.len() >= self.config.buffer_max
            || (self.segments.is_empty() && !self.buffer.is_empty())
        {
            return Some(Task::Flush);
        }
        if let Some(stale) = (0..self.segments.len())
            .find(|&i| self.segments[i].deleted * 10 > self.segments[i].len() * 3)
        {
            return Some(Task::Merge(vec![stale]));
        }
        self.mergeable_group().map(Task::Merge)
    }

    /// Size tier of a segment: log base `merge_factor` of its size in buffers.
    fn tier(&self, size: usize) -> u32 {
        let factor = self.config.merge_factor.max(2);
        let mut units = size / self.config.buffer_max.max(1);
        let mut tier = 0;
        while units >= factor {
            units /= factor;
            tier += 1;
        }
        tier
    }

    fn mergeable_group(&self) -> Option<Vec<usize>> {
        let factor = self.config.merge_factor.max(2);
        let mut by_tier: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
        for (i, s) in self.segments.iter().enumerate() {
            by_tier.entry(self.tier(s.live())).or_default().push(i);
        }
        by_tier
            .into_values()
            .find(|members| members.len() >= factor)
            .map(|members| members[..factor].to_vec())
    }

    /// Rebuilds segments `which` (ascending indices) into one.
    fn merge(&mut self, which: &[usize]) -> Result<()> {
        let mut passages = Vec::new();
        for &i in which.iter().rev() {
            let segment = self.segments.remove(i);
            passages.extend(
                segment
                    .graph
                    .values()
                    .iter()
                    .copied()
                    .filter(|p| self.live[*p as usize]),
            );
        }
        passages.sort_unstable();
        self.relocate();
        self.push_segment(passages)
    }

    /// Recomputes `location` after segments moved.
    fn relocate(&mut self) {
        for (i, segment) in self.segments.iter().enumerate() {
            for p in segment.graph.values() {
                self.location[*p as usize] = i as u32;
            }
        }
    }

    /// Builds a segment over `passages`; if that fails they go back to the
    /// exact buffer, where search still finds them.
    fn push_segment(&mut self, passages: Vec<u32>) -> Result<()> {
        if passages.is_empty() {
            return Ok(());
        }
        let points: Vec<QuantizedVector> =
            passages.iter().filter_map(|p| self.vector(*p)).collect();
        let builder = Builder::default()
            .select_heuristic(Some(Heuristic {
                keep_pruned: self.config.keep_pruned,
                ..NEIGHBOUR_HEURISTIC
            }))
            .seed(self.config.seed.wrapping_add(self.builds))
            .ef_construction(self.config.ef_construction)
            .ef_search(self.config.ef_search);
        self.builds += 1;
        let ids = passages.clone();
        let build = move || Graph::build(builder, points, ids);
        let built = match self.config.build_threads {
            0 => build(),
            n => match rayon::ThreadPoolBuilder::new().num_threads(n).build() {
                Ok(pool) => pool.install(build),
                Err(_) => build(),
            },
        };
        let graph = match built {
            Ok(graph) => graph,
            Err(e) => {
                for p in &passages {
                    self.location[*p as usize] = IN_BUFFER;
                }
                self.buffer.extend(passages);
                self.buffer.sort_unstable();
                return Err(e);
            }
        };
        let index = self.segments.len() as u32;
        for p in graph.values() {
            self.location[*p as usize] = index;
        }
        self.segments.push(Segment { graph, deleted: 0 });
        Ok(())
    }

    /// Exact score of a passage for a unit f32 query.
    pub fn score(&self, query: &[f32], passage: u32) -> f32 {
        let p = passage as usize;
        match self.scales.get(p) {
            Some(scale) => dot_f32_i8(query, &self.codes[p * self.dim..(p + 1) * self.dim]) * scale,
            None => 0.0,
        }
    }

    /// [`DenseIndex::score`] for a query in fixed point: what searches use
    /// (many passages per query), off by ~1e-5.
    pub fn score_fixed(&self, query: &FixedQuery, passage: u32) -> f32 {
        let p = passage as usize;
        match (
            self.scales.get(p),
            self.codes.get(p * self.dim..(p + 1) * self.dim),
        ) {
            (Some(scale), Some(codes)) if query.dim() == self.dim => query.dot(codes) * scale,
            _ => 0.0,
        }
    }

    /// The `k` live passages most similar to `query` for which `keep` is true,
    /// best first (ties by passage id). `exact` forces brute force.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        exact: bool,
        keep: impl Fn(u32) -> bool,
    ) -> Result<Vec<(u32, f32)>> {
        self.search_adjusted(query, k, exact, keep, |_, s| s, |_, s| s)
    }

    /// Like [`DenseIndex::search`], ranking by `adjust(passage, query · passage)`
    /// (the per-language correction of `docs/languages.md`). The graph walk
    /// follows `walk`, a cheaper approximation of `adjust`, so it looks
    /// where the adjusted ranking's best passages are.
    pub fn search_adjusted(
        &self,
        query: &[f32],
        k: usize,
        exact: bool,
        keep: impl Fn(u32) -> bool,
        walk: impl Fn(u32, f32) -> f32,
        adjust: impl Fn(u32, f32) -> f32,
    ) -> Result<Vec<(u32, f32)>> {
        if query.len() != self.dim {
            return Err(Error::InvalidInput(format!(
                "query vector of {} dimensions, the index holds {}",
                query.len(),
                self.dim
            )));
        }
        if k == 0 {
            return Ok(Vec::new());
        }
        let accept = |p: u32| self.live[p as usize] && keep(p);
        let candidates: Vec<u32> = if exact || self.segments.is_empty() || k > self.config.ef_search
        {
            (0..self.len() as u32).filter(|p| accept(*p)).collect()
        } else {
            // The walk compares int8 with int8 (the cheapest kernel); the
            // candidates are re-scored with the f32 query below.
            let quantized = QuantizedVector::quantize(query);
            let scorer = Int8Scorer {
                query_scale: quantized.scale,
                query: quantized.codes,
                codes: &self.codes,
                scales: &self.scales,
                dim: self.dim,
                adjust: &walk,
            };
            let mut out: Vec<u32> = self.buffer.iter().copied().filter(|p| accept(*p)).collect();
            for segment in &self.segments {
                out.extend(
                    segment
                        .graph
                        .search(self.config.ef_search, &scorer)
                        .into_iter()
                        .map(|(p, _)| p)
                        .filter(|p| accept(*p)),
                );
            }
            out
        };
        let fixed = FixedQuery::new(query);
        let mut scored: Vec<(u32, f32)> = candidates
            .into_iter()
            .map(|p| (p, adjust(p, self.score_fixed(&fixed, p))))
            .collect();
        top_k(&mut scored, k);
        Ok(scored)
    }

    /// Heap bytes of (the int8 vectors with their scales and per-passage
    /// flags, the HNSW graphs, the exact buffer's ids), for
    /// [`crate::memory::IndexMemory`].
    pub fn heap_bytes(&self) -> (usize, usize, usize) {
        use crate::memory::vec_bytes;
        let vectors = vec_bytes(&self.codes)
            + vec_bytes(&self.scales)
            + vec_bytes(&self.live)
            + vec_bytes(&self.location);
        let graphs = vec_bytes(&self.segments)
            + self
                .segments
                .iter()
                .map(|s| s.graph.heap_bytes())
                .sum::<usize>();
        (vectors, graphs, vec_bytes(&self.buffer))
    }

    /// Section bytes for a snapshot.
    pub fn write(&self, w: &mut Writer) -> Result<()> {
        let c = &self.config;
        w.len_u64(self.dim);
        for v in [
            c.exact_below,
            c.buffer_max,
            c.merge_factor,
            c.ef_construction,
            c.ef_search,
            c.build_threads,
        ] {
            w.len_u64(v);
        }
        w.u64(c.seed);
        w.u8(c.keep_pruned as u8);
        w.u64(self.builds);
        w.i8s(&self.codes);
        w.f32s(&self.scales);
        w.bytes(&self.live.iter().map(|l| *l as u8).collect::<Vec<_>>());
        w.u32s(&self.buffer);
        w.len_u64(self.segments.len());
        for s in &self.segments {
            // The graph is restored as built, not rebuilt.
            s.graph.write(w);
        }
        Ok(())
    }

    /// Reads what [`DenseIndex::write`] wrote, validating every id and graph
    /// link so that a search over a loaded index can never index out of bounds.
    pub fn read(r: &mut Reader) -> Result<Self> {
        let dim = r.u64()? as usize;
        if dim == 0 || dim > 65_536 {
            return Err(r.error(format!("implausible dimension {dim}")));
        }
        let mut v = [0usize; 6];
        for x in v.iter_mut() {
            *x = r.u64()?.min(u32::MAX as u64) as usize;
        }
        let config = DenseConfig {
            exact_below: v[0],
            buffer_max: v[1].max(1),
            merge_factor: v[2].max(2),
            ef_construction: v[3].max(1),
            ef_search: v[4].clamp(1, 100_000),
            build_threads: v[5],
            seed: r.u64()?,
            keep_pruned: match r.u8()? {
                0 => false,
                1 => true,
                other => return Err(r.error(format!("bad flag {other}"))),
            },
        };
        let builds = r.u64()?;
        let codes = r.i8s()?;
        let scales = r.f32s()?;
        let n = scales.len();
        if codes.len() != n * dim {
            return Err(r.error("vector codes do not match the vector count"));
        }
        let live_bytes = r.bytes()?;
        if live_bytes.len() != n || live_bytes.iter().any(|b| *b > 1) {
            return Err(r.error("bad tombstone table"));
        }
        let live: Vec<bool> = live_bytes.iter().map(|b| *b == 1).collect();
        let buffer = r.u32s()?;
        let mut location = vec![None; n];
        for p in &buffer {
            let slot = location
                .get_mut(*p as usize)
                .ok_or_else(|| r.error(format!("buffer passage {p} out of range")))?;
            if slot.replace(IN_BUFFER).is_some() {
                return Err(r.error(format!("passage {p} stored twice")));
            }
        }
        let count = r.count(8)?;
        let mut segments = Vec::with_capacity(count);
        for s in 0..count {
            let graph = Graph::read(r, n)?;
            let mut deleted = 0;
            for p in graph.values() {
                let slot = &mut location[*p as usize];
                if slot.replace(s as u32).is_some() {
                    return Err(r.error(format!("passage {p} stored twice")));
                }
                deleted += usize::from(!live[*p as usize]);
            }
            segments.push(Segment { graph, deleted });
        }
        // Deleted passages may have left every part; live ones must be somewhere.
        let mut locations = Vec::with_capacity(n);
        for (p, slot) in location.into_iter().enumerate() {
            match slot {
                Some(l) => locations.push(l),
                None if !live[p] => locations.push(IN_BUFFER),
                None => return Err(r.error(format!("live passage {p} is in no segment"))),
            }
        }
        let buffer = buffer.into_iter().filter(|p| live[*p as usize]).collect();
        Ok(Self {
            dim,
            config,
            codes,
            scales,
            live,
            location: locations,
            buffer,
            segments,
            builds,
        })
    }
}

/// Scores passages for a graph walk: int8 query · int8 codes × both
/// scales (the cheapest kernel), then the caller's adjustment.
struct Int8Scorer<'a, F> {
    query: Vec<i8>,
    query_scale: f32,
    codes: &'a [i8],
    scales: &'a [f32],
    dim: usize,
    adjust: &'a F,
}

impl<F: Fn(u32, f32) -> f32> Scorer for Int8Scorer<'_, F> {
    fn similarity(&self, passage: u32) -> f32 {
        let at = passage as usize * self.dim;
        let dot = dot_i8(&self.query, &self.codes[at..at + self.dim]) as f32;
        (self.adjust)(
            passage,
            dot * self.query_scale * self.scales[passage as usize],
        )
    }

    fn prefetch(&self, passage: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let at = passage as usize * self.dim;
            if let Some(codes) = self.codes.get(at..at + self.dim) {
                for line in codes.chunks(64) {
                    // SAFETY: a prefetch is only a hint; the address is in bounds.
                    unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr()) };
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = passage;
    }
}

/// One unit of [`DenseIndex`] maintenance.
enum Task {
    /// Build a graph over the exact buffer.
    Flush,
    /// Rebuild these segments (ascending indices) into one.
    Merge(Vec<usize>),
}

/// Sorts by score descending (ties: lower passage id first) and keeps `k`.
pub fn top_k(scored: &mut Vec<(u32, f32)>, k: usize) {
    let cmp = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if scored.len() > k {
        scored.select_nth_unstable_by(k, cmp);
        scored.truncate(k);
    }
    scored.sort_unstable_by(cmp);
}

#[cfg(test)]
mod tests;
