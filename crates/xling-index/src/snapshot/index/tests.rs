//! The index's snapshot sections on the tiny random model: a round trip is
//! exact and stable, and every damaged file is a typed error.

use crate::collection::tests::{built, options};
use crate::fusion::SearchMode;
use crate::Index;
use xling_model::error::{Error, Result};

#[test]
fn snapshots_round_trip() -> Result<()> {
    let (embedder, mut index) = built()?;
    index.delete(embedder.tokenizer(), &["b"])?;
    let bytes = index.to_bytes()?;
    let loaded = Index::from_bytes_for(&bytes, embedder.tokenizer())?;
    assert_eq!(loaded.stats(), index.stats());
    for mode in [SearchMode::Dense, SearchMode::Lexical, SearchMode::Hybrid] {
        assert_eq!(
            loaded.search(&embedder, "hello world", &options(mode))?,
            index.search(&embedder, "hello world", &options(mode))?
        );
    }
    assert!(
        loaded.to_bytes()? == bytes,
        "save, load, save is not stable"
    );
    Ok(())
}

#[test]
fn corrupt_snapshots_are_typed_errors() -> Result<()> {
    let (_, index) = built()?;
    let bytes = index.to_bytes()?;
    for cut in 0..bytes.len() {
        assert!(
            matches!(
                Index::from_bytes(&bytes[..cut]),
                Err(Error::InvalidIndex(_))
            ),
            "truncated at {cut}"
        );
    }
    let mut s = 0x9e37_79b9u64;
    for _ in 0..2000 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let mut bad = bytes.clone();
        let at = (s as usize) % bad.len();
        bad[at] ^= 1 << ((s >> 61) as u8);
        assert!(
            matches!(Index::from_bytes(&bad), Err(Error::InvalidIndex(_))),
            "flip at {at}"
        );
    }
    Ok(())
}
