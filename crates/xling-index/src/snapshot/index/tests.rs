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

#[test]
fn the_model_name_travels_with_the_index_and_names_it_in_a_mismatch() -> Result<()> {
    let (embedder, mut index) = built()?;
    let other = xling_model::testing::tiny_embedder(4);
    // An index records its model's name from the start.
    assert_eq!(index.model_name(), Some(embedder.tokenizer().model_name()));
    // Without a recorded name (as every snapshot before the MODL section):
    // loads, and a mismatch names the fingerprint only.
    index.model_name = None;
    let unnamed = index.to_bytes()?;
    assert_eq!(Index::from_bytes(&unnamed)?.model_name(), None);
    match Index::from_bytes_for(&unnamed, other.tokenizer()) {
        Err(Error::ModelMismatch { index, .. }) => {
            assert!(index.bytes().all(|b| b.is_ascii_hexdigit()), "{index}");
        }
        r => panic!("expected ModelMismatch, got {:?}", r.map(|i| i.len())),
    }
    index.set_model_name("tiny (pruned: en; 40 pieces)");
    let named = index.to_bytes()?;
    let loaded = Index::from_bytes_for(&named, embedder.tokenizer())?;
    assert_eq!(loaded.model_name(), Some("tiny (pruned: en; 40 pieces)"));
    assert_eq!(loaded.to_bytes()?, named, "the name round-trips");
    for err in [
        Index::from_bytes_for(&named, other.tokenizer()).map(|_| ()),
        loaded
            .search(&other, "hello", &options(SearchMode::Dense))
            .map(|_| ()),
    ] {
        match err {
            Err(e @ Error::ModelMismatch { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("built with model \"tiny (pruned: en; 40 pieces)\" (fingerprint"),
                    "{msg}"
                );
                let loaded_name = format!("loaded model is {:?}", other.tokenizer().model_name());
                assert!(msg.contains(&loaded_name), "{msg}");
            }
            r => panic!("expected ModelMismatch, got {r:?}"),
        }
    }
    Ok(())
}
