use super::*;
use crate::vector::dot_f32;

/// Deterministic unit vectors around a few centres (like real embeddings,
/// which cluster by topic and language).
fn clustered(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let centres: Vec<Vec<f32>> = (0..8).map(|_| (0..dim).map(|_| next()).collect()).collect();
    (0..n)
        .map(|i| {
            let c = &centres[i % centres.len()];
            let mut v: Vec<f32> = c.iter().map(|x| x + 0.6 * next()).collect();
            let norm = dot_f32(&v, &v).sqrt();
            v.iter_mut().for_each(|x| *x /= norm);
            v
        })
        .collect()
}

fn small_config() -> DenseConfig {
    DenseConfig {
        exact_below: 300,
        buffer_max: 200,
        merge_factor: 3,
        ..DenseConfig::default()
    }
}

fn build(vectors: &[Vec<f32>], config: DenseConfig) -> Result<DenseIndex> {
    let mut index = DenseIndex::new(vectors[0].len(), config);
    for (i, v) in vectors.iter().enumerate() {
        index.add(i as u32, v)?;
        if i % 97 == 96 {
            index.maintain()?;
        }
    }
    index.maintain()?;
    Ok(index)
}

fn brute_force(
    vectors: &[Vec<f32>],
    query: &[f32],
    k: usize,
    live: impl Fn(u32) -> bool,
) -> Vec<u32> {
    let mut scored: Vec<(u32, f32)> = vectors
        .iter()
        .enumerate()
        .filter(|(i, _)| live(*i as u32))
        .map(|(i, v)| (i as u32, dot_f32(query, v)))
        .collect();
    top_k(&mut scored, k);
    scored.into_iter().map(|(p, _)| p).collect()
}

/// The vectors as the index holds them (int8, dequantised).
fn stored_vectors(index: &DenseIndex) -> Vec<Vec<f32>> {
    (0..index.len() as u32)
        .filter_map(|p| index.vector(p).map(|v| v.to_f32()))
        .collect()
}

fn recall(found: &[(u32, f32)], truth: &[u32]) -> f64 {
    let hits = found.iter().filter(|(p, _)| truth.contains(p)).count();
    hits as f64 / truth.len().max(1) as f64
}

#[test]
fn small_indexes_are_exact_and_build_no_graph() -> Result<()> {
    let vectors = clustered(250, 32, 1);
    let index = build(&vectors, small_config())?;
    assert_eq!(index.parts(), (vec![], 250));
    let stored = stored_vectors(&index);
    let queries = clustered(20, 32, 2);
    for q in &queries {
        let found = index.search(q, 10, false, |_| true)?;
        assert_eq!(
            found.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            brute_force(&stored, q, 10, |_| true),
        );
        assert!(recall(&found, &brute_force(&vectors, q, 10, |_| true)) >= 0.8);
        for (p, score) in &found {
            assert!((score - dot_f32(q, &vectors[*p as usize])).abs() < 3e-3);
        }
    }
    Ok(())
}

#[test]
fn segments_merge_and_keep_recall() -> Result<()> {
    let vectors = clustered(2000, 32, 3);
    let index = build(&vectors, small_config())?;
    let (segments, buffer) = index.parts();
    assert!(!segments.is_empty());
    assert_eq!(segments.iter().sum::<usize>() + buffer, 2000);
    assert!(segments.len() < 2 * 3, "too many segments: {segments:?}");
    let stored = stored_vectors(&index);
    let queries = clustered(50, 32, 4);
    let mut total = 0.0;
    for q in &queries {
        let truth = brute_force(&stored, q, 10, |_| true);
        total += recall(&index.search(q, 10, false, |_| true)?, &truth);
        assert_eq!(recall(&index.search(q, 10, true, |_| true)?, &truth), 1.0);
    }
    let mean = total / queries.len() as f64;
    assert!(mean >= 0.95, "recall@10 {mean}");
    Ok(())
}

#[test]
fn deleted_and_filtered_passages_are_never_returned() -> Result<()> {
    let vectors = clustered(1200, 32, 5);
    let mut index = build(&vectors, small_config())?;
    for p in (0..1200).step_by(3) {
        assert!(index.remove(p));
        assert!(!index.remove(p), "second delete of {p}");
    }
    index.maintain()?;
    assert_eq!(index.live_count(), 800);
    let queries = clustered(30, 32, 6);
    for q in &queries {
        for exact in [false, true] {
            let found = index.search(q, 20, exact, |p| p % 2 == 0)?;
            assert!(found.iter().all(|(p, _)| p % 3 != 0 && p % 2 == 0));
            assert_eq!(found.len(), 20);
        }
    }
    Ok(())
}

#[test]
fn mostly_deleted_segments_are_rebuilt_without_tombstones() -> Result<()> {
    let vectors = clustered(600, 16, 7);
    let mut index = build(&vectors, small_config())?;
    let before: usize = index.parts().0.len();
    assert!(before > 0);
    for p in 0..400 {
        index.remove(p);
    }
    index.maintain()?;
    assert!(index.segments.iter().all(|s| s.deleted * 10 <= s.len() * 3));
    assert_eq!(index.live_count(), 200);
    Ok(())
}

#[test]
fn same_seed_same_index() -> Result<()> {
    let vectors = clustered(900, 16, 8);
    let a = build(&vectors, small_config())?;
    let b = build(&vectors, small_config())?;
    let (mut wa, mut wb) = (Writer::new(), Writer::new());
    a.write(&mut wa)?;
    b.write(&mut wb)?;
    assert!(wa.into_bytes() == wb.into_bytes(), "two builds differ");
    Ok(())
}

#[test]
fn snapshot_round_trip_gives_identical_results() -> Result<()> {
    let vectors = clustered(900, 16, 9);
    let mut index = build(&vectors, small_config())?;
    index.remove(5);
    index.remove(850);
    let mut w = Writer::new();
    index.write(&mut w)?;
    let bytes = w.into_bytes();
    let mut r = Reader::new(&bytes, "dense");
    let loaded = DenseIndex::read(&mut r)?;
    r.finish()?;
    assert_eq!(loaded.parts(), index.parts());
    for q in clustered(20, 16, 10) {
        assert_eq!(
            loaded.search(&q, 10, false, |_| true)?,
            index.search(&q, 10, false, |_| true)?
        );
    }
    Ok(())
}

#[test]
fn corrupt_snapshots_are_refused_without_panicking() -> Result<()> {
    let vectors = clustered(500, 8, 11);
    let index = build(&vectors, small_config())?;
    let mut w = Writer::new();
    index.write(&mut w)?;
    let bytes = w.into_bytes();
    for cut in (0..bytes.len()).step_by(7) {
        let mut r = Reader::new(&bytes[..cut], "dense");
        assert!(
            DenseIndex::read(&mut r).and_then(|_| r.finish()).is_err(),
            "cut {cut}"
        );
    }
    // Flipped bytes: an error or a consistent index that searches without panicking.
    let mut s = 0x1234_5678u64;
    for _ in 0..3000 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let mut bad = bytes.clone();
        let at = (s as usize) % bad.len();
        bad[at] ^= 1 << ((s >> 60) as u8 % 8);
        let mut r = Reader::new(&bad, "dense");
        if let Ok(loaded) = DenseIndex::read(&mut r) {
            let q = &vectors[0];
            let _ = loaded.search(q, 10, false, |_| true)?;
        }
    }
    Ok(())
}

#[test]
fn bad_adds_and_queries_are_errors() {
    let mut index = DenseIndex::new(4, DenseConfig::default());
    assert!(index.add(1, &[1.0, 0.0, 0.0, 0.0]).is_err());
    assert!(index.add(0, &[1.0, 0.0]).is_err());
    assert!(index.add(0, &[1.0, 0.0, 0.0, 0.0]).is_ok());
    assert!(index.search(&[1.0], 3, false, |_| true).is_err());
    assert!(
        matches!(index.search(&[1.0, 0.0, 0.0, 0.0], 0, false, |_| true), Ok(v) if v.is_empty())
    );
}
