//! The container of an index snapshot: one self-checking file that the native
//! CLI writes to disk, the browser keeps in OPFS/IndexedDB and a static site
//! can serve as-is.
//!
//! Layout (all little-endian):
//!
//! ```text
//! magic           8 bytes  "XLINGIDX"
//! format version  u32      FORMAT_VERSION
//! flags           u32      0 (reserved)
//! fingerprint     32 bytes the model's ModelConfig::fingerprint
//! section count   u32
//! per section:    tag [u8; 4] (printable ASCII), offset u64 (from file start),
//!                 length u64, CRC-32 of the section bytes u32
//! header CRC      u32      CRC-32 of every header byte before it
//! sections        in table order, contiguous, the file ends at the last one
//! ```
//!
//! [`Snapshot::parse`] checks all of this, and every section's CRC, before it
//! returns anything: a truncated, corrupted or hostile file gives
//! [`Error::InvalidIndex`], never a panic and never an allocation larger than
//! the file itself.
//!
//! The index's own sections (documents, passages, dense and lexical
//! indexes, language statistics and prior) are written and read in
//! `snapshot/index.rs`: this module knows only tags and bytes.

mod index;

pub(crate) use index::name_loaded_model;

use super::codec::{Reader, Writer};
use xling_model::error::{Error, Result};
use xling_model::model::charsmap::hex;

/// The first bytes of every snapshot.
pub const MAGIC: [u8; 8] = *b"XLINGIDX";

/// The layout version this build writes and reads. Bump it when any section's
/// encoding changes: old files are then refused with a clear message instead of
/// being misread.
pub const FORMAT_VERSION: u32 = 2;

/// Optional section holding the name of the model that built the index
/// (UTF-8). Readers of this format version ignore sections they do not
/// know, so adding it needed no version bump: older snapshots (without it)
/// load, and older builds read newer snapshots.
pub(crate) const MODEL_NAME: [u8; 4] = *b"MODL";

/// How a mismatch names a model: its name and fingerprint, or the fingerprint alone.
pub(crate) fn describe_model(name: Option<&str>, fingerprint: &str) -> String {
    match name {
        Some(name) => format!("{name:?} (fingerprint {fingerprint})"),
        None => fingerprint.to_string(),
    }
}

/// Magic, version, flags, fingerprint, section count.
const FIXED_HEADER_LEN: usize = 8 + 4 + 4 + 32 + 4;
/// Tag, offset, length, CRC.
const ENTRY_LEN: usize = 4 + 8 + 8 + 4;
/// The header CRC after the section table.
const HEADER_CRC_LEN: usize = 4;

/// Byte offset of the format version, for tests that rewrite header fields.
#[cfg(test)]
const VERSION_AT: usize = 8;

/// A tag as text for messages ("DOCS"), escaping anything not printable.
fn tag_name(tag: [u8; 4]) -> String {
    tag.iter()
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect()
}

/// Tags are printable ASCII so that error messages and tools can show them.
fn tag_is_valid(tag: [u8; 4]) -> bool {
    tag.iter().all(|b| b.is_ascii_graphic())
}

/// Under `cargo fuzz` (which sets `cfg(fuzzing)`) checksums are not enforced,
/// so mutated inputs reach the section decoders behind the container instead
/// of all dying at a CRC. The unit tests check the CRCs themselves.
fn checksums_match(stored: u32, computed: u32) -> bool {
    cfg!(fuzzing) || stored == computed
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidIndex(msg.into())
}

/// Builds a snapshot file from sections.
pub struct SnapshotWriter {
    fingerprint: [u8; 32],
    sections: Vec<([u8; 4], Vec<u8>)>,
}

impl SnapshotWriter {
    /// An empty snapshot for the model with `fingerprint`.
    pub fn new(fingerprint: [u8; 32]) -> Self {
        Self {
            fingerprint,
            sections: Vec::new(),
        }
    }

    /// Adds a section. Tags must be printable ASCII and unique: a reader could
    /// not tell two sections with the same tag apart.
    pub fn section(&mut self, tag: [u8; 4], bytes: Vec<u8>) -> Result<()> {
        if !tag_is_valid(tag) {
            return Err(Error::InvalidInput(format!(
                "snapshot section tag \"{}\" is not printable ASCII",
                tag_name(tag)
            )));
        }
        if self.sections.iter().any(|(t, _)| *t == tag) {
            return Err(Error::InvalidInput(format!(
                "snapshot section {} added twice",
                tag_name(tag)
            )));
        }
        self.sections.push((tag, bytes));
        Ok(())
    }

    /// The whole file: header, then the sections in the order they were added.
    pub fn finish(self) -> Vec<u8> {
        let header_len = FIXED_HEADER_LEN + ENTRY_LEN * self.sections.len() + HEADER_CRC_LEN;
        let body_len: usize = self.sections.iter().map(|(_, b)| b.len()).sum();

        let mut w = Writer::new();
        w.raw(&MAGIC);
        w.u32(FORMAT_VERSION);
        w.u32(0);
        w.raw(&self.fingerprint);
        w.u32(self.sections.len() as u32);
        let mut offset = header_len as u64;
        for (tag, bytes) in &self.sections {
            w.raw(tag);
            w.u64(offset);
            w.u64(bytes.len() as u64);
            w.u32(crc32fast::hash(bytes));
            offset += bytes.len() as u64;
        }
        let mut out = w.into_bytes();
        let header_crc = crc32fast::hash(&out);
        out.extend_from_slice(&header_crc.to_le_bytes());
        debug_assert_eq!(out.len(), header_len);

        out.reserve_exact(body_len);
        for (_, bytes) in &self.sections {
            out.extend_from_slice(bytes);
        }
        out
    }
}

/// A validated snapshot borrowing the file's bytes: sections are slices of it,
/// nothing is copied.
#[derive(Debug)]
pub struct Snapshot<'a> {
    /// The fingerprint of the model the index was built with.
    pub fingerprint: [u8; 32],
    sections: Vec<([u8; 4], &'a [u8])>,
}

impl<'a> Snapshot<'a> {
    /// Validates the whole container (magic, version, flags, header CRC,
    /// section table, every section CRC) before returning anything.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        if !looks_like_snapshot(bytes) {
            return Err(invalid(
                "not an xling index (the file does not start with XLINGIDX)",
            ));
        }
        let mut r = Reader::new(bytes, "snapshot header");
        r.take(MAGIC.len())?;

        // The version comes before every other check: another version may lay
        // out the rest of the header differently, and "made by another xling"
        // is the message the user needs, not "CRC mismatch".
        let version = r.u32()?;
        if version != FORMAT_VERSION {
            let hint = if version > FORMAT_VERSION {
                "it was written by a newer xling; upgrade xling or rebuild the index"
            } else {
                "it was written by an older xling; rebuild the index"
            };
            return Err(invalid(format!(
                "format version {version}, this xling reads {FORMAT_VERSION} ({hint})"
            )));
        }
        let flags = r.u32()?;
        let mut fingerprint = [0u8; 32];
        fingerprint.copy_from_slice(r.take(32)?);
        let count = r.u32()? as usize;

        // Bound the count by the bytes present before allocating anything.
        let table_len = count
            .checked_mul(ENTRY_LEN)
            .filter(|len| len.saturating_add(HEADER_CRC_LEN) <= r.remaining())
            .ok_or_else(|| {
                invalid(format!(
                    "header claims {count} sections, more than the {}-byte file can hold (truncated?)",
                    bytes.len()
                ))
            })?;
        let mut entries = Vec::with_capacity(count);
        for _ in 0..count {
            let mut tag = [0u8; 4];
            tag.copy_from_slice(r.take(4)?);
            let offset = r.u64()?;
            let len = r.u64()?;
            let crc = r.u32()?;
            entries.push((tag, offset, len, crc));
        }
        let header_len = FIXED_HEADER_LEN + table_len;
        debug_assert_eq!(header_len, bytes.len() - r.remaining());
        let stored_crc = r.u32()?;
        let actual_crc = crc32fast::hash(&bytes[..header_len]);
        if !checksums_match(stored_crc, actual_crc) {
            return Err(invalid(format!(
                "header checksum mismatch (stored {stored_crc:08x}, computed {actual_crc:08x}): the file is corrupted"
            )));
        }
        // Checked after the CRC: a corrupted file reports corruption, an intact
        // one with flags set was written by a build that needs features we lack.
        if flags != 0 {
            return Err(invalid(format!(
                "unsupported flags {flags:#x} (written by a newer xling?)"
            )));
        }

        // Sections must tile the rest of the file exactly, in table order.
        let mut expected = (header_len + HEADER_CRC_LEN) as u64;
        let mut sections = Vec::with_capacity(count);
        for (i, &(tag, offset, len, crc)) in entries.iter().enumerate() {
            let name = tag_name(tag);
            if !tag_is_valid(tag) {
                return Err(invalid(format!(
                    "section {i} has tag \"{name}\", not printable ASCII"
                )));
            }
            if sections.iter().any(|(t, _)| *t == tag) {
                return Err(invalid(format!("section {name} appears twice")));
            }
            if offset != expected {
                return Err(invalid(format!(
                    "section {name} starts at byte {offset}, expected {expected} (sections must be contiguous and in order)"
                )));
            }
            let end = offset
                .checked_add(len)
                .filter(|end| *end <= bytes.len() as u64)
                .ok_or_else(|| {
                    invalid(format!(
                        "section {name} ({len} bytes at {offset}) runs past the end of the {}-byte file (truncated?)",
                        bytes.len()
                    ))
                })?;
            // Both fit in the file length, hence in usize.
            let data = &bytes[offset as usize..end as usize];
            let actual = crc32fast::hash(data);
            if !checksums_match(crc, actual) {
                return Err(invalid(format!(
                    "section {name} checksum mismatch (stored {crc:08x}, computed {actual:08x}): the file is corrupted"
                )));
            }
            sections.push((tag, data));
            expected = end;
        }
        if expected != bytes.len() as u64 {
            return Err(invalid(format!(
                "{} unexpected bytes after the last section",
                bytes.len() as u64 - expected
            )));
        }
        Ok(Self {
            fingerprint,
            sections,
        })
    }

    /// Refuses an index built with another model: its vectors mean nothing to
    /// this model's queries.
    pub fn check_model(&self, fingerprint: &[u8; 32]) -> Result<()> {
        if self.fingerprint == *fingerprint {
            return Ok(());
        }
        let short = |f: &[u8; 32]| hex(&f[..8]);
        Err(Error::ModelMismatch {
            index: describe_model(self.model_name(), &short(&self.fingerprint)),
            model: short(fingerprint),
        })
    }

    /// The name of the model that built the index, when the snapshot records it.
    pub fn model_name(&self) -> Option<&'a str> {
        self.get(MODEL_NAME)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
    }

    /// The bytes of a section the caller requires.
    pub fn section(&self, tag: [u8; 4]) -> Result<&'a [u8]> {
        self.get(tag)
            .ok_or_else(|| invalid(format!("missing section {}", tag_name(tag))))
    }

    /// The bytes of an optional section.
    pub fn get(&self, tag: [u8; 4]) -> Option<&'a [u8]> {
        self.sections
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, data)| *data)
    }

    /// Section tags in file order.
    pub fn tags(&self) -> impl Iterator<Item = [u8; 4]> + '_ {
        self.sections.iter().map(|(t, _)| *t)
    }
}

/// Whether `bytes` start like a snapshot, to tell users "this is not an xling
/// index" before anything else is said about the file.
pub fn looks_like_snapshot(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: [u8; 32] = [7u8; 32];

    fn small() -> Vec<u8> {
        let mut w = SnapshotWriter::new(FP);
        w.section(*b"DOCS", b"hello".to_vec()).unwrap();
        w.section(*b"EMPT", Vec::new()).unwrap();
        w.section(*b"VECS", vec![1, 2, 3, 4, 5, 6, 7, 8, 9])
            .unwrap();
        w.finish()
    }

    fn header_len(sections: usize) -> usize {
        ENTRY_LEN
            .saturating_mul(sections)
            .saturating_add(FIXED_HEADER_LEN)
    }

    /// Rewrites the header CRC so a test reaches the checks behind it.
    fn reseal(bytes: &mut [u8], sections: usize) {
        let at = header_len(sections);
        if at.saturating_add(HEADER_CRC_LEN) <= bytes.len() {
            let crc = crc32fast::hash(&bytes[..at]);
            bytes[at..at + HEADER_CRC_LEN].copy_from_slice(&crc.to_le_bytes());
        }
    }

    fn is_invalid(r: &Result<Snapshot<'_>>) -> bool {
        matches!(r, Err(Error::InvalidIndex(_)))
    }

    fn message(r: Result<Snapshot<'_>>) -> String {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn round_trip() -> Result<()> {
        let bytes = small();
        let s = Snapshot::parse(&bytes)?;
        assert_eq!(s.fingerprint, FP);
        assert_eq!(s.tags().collect::<Vec<_>>(), [*b"DOCS", *b"EMPT", *b"VECS"]);
        assert_eq!(s.section(*b"DOCS")?, b"hello");
        assert_eq!(s.section(*b"EMPT")?, b"");
        assert_eq!(s.section(*b"VECS")?, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(s.get(*b"NONE"), None);
        s.check_model(&FP)?;
        assert_eq!(bytes.len(), header_len(3) + HEADER_CRC_LEN + 5 + 9);
        assert!(looks_like_snapshot(&bytes));
        Ok(())
    }

    #[test]
    fn no_sections_round_trips() -> Result<()> {
        let bytes = SnapshotWriter::new(FP).finish();
        let s = Snapshot::parse(&bytes)?;
        assert_eq!(s.tags().count(), 0);
        Ok(())
    }

    #[test]
    fn every_truncation_is_invalid() {
        let bytes = small();
        for cut in 0..bytes.len() {
            let r = Snapshot::parse(&bytes[..cut]);
            assert!(is_invalid(&r), "cut at {cut}: {r:?}");
        }
    }

    #[test]
    fn every_bit_flip_is_invalid() {
        let bytes = small();
        for bit in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            let r = Snapshot::parse(&b);
            assert!(is_invalid(&r), "bit {bit}: {r:?}");
        }
    }

    #[test]
    fn wrong_magic_is_not_a_snapshot() {
        let mut b = small();
        b[0] = b'Y';
        assert!(!looks_like_snapshot(&b));
        assert!(message(Snapshot::parse(&b)).contains("not an xling index"));
        assert!(!looks_like_snapshot(b"XLING"));
        assert!(is_invalid(&Snapshot::parse(b"")));
    }

    #[test]
    fn other_versions_are_named() {
        for version in [FORMAT_VERSION + 1, FORMAT_VERSION - 1, 0, u32::MAX] {
            let mut b = small();
            b[VERSION_AT..VERSION_AT + 4].copy_from_slice(&version.to_le_bytes());
            reseal(&mut b, 3);
            let msg = message(Snapshot::parse(&b));
            assert!(
                msg.contains(&format!(
                    "format version {version}, this xling reads {FORMAT_VERSION}"
                )),
                "{msg}"
            );
        }
    }

    #[test]
    fn nonzero_flags_are_refused() {
        let mut b = small();
        b[12] = 1;
        reseal(&mut b, 3);
        assert!(message(Snapshot::parse(&b)).contains("flags"));
    }

    #[test]
    fn fingerprint_mismatch_is_model_mismatch() -> Result<()> {
        let bytes = small();
        let s = Snapshot::parse(&bytes)?;
        let other = [9u8; 32];
        match s.check_model(&other) {
            Err(Error::ModelMismatch { index, model }) => {
                assert_eq!(index, "0707070707070707");
                assert_eq!(model, "0909090909090909");
            }
            r => panic!("expected ModelMismatch, got {r:?}"),
        }
        Ok(())
    }

    #[test]
    fn trailing_garbage_is_invalid() {
        let mut b = small();
        b.push(0);
        assert!(message(Snapshot::parse(&b)).contains("1 unexpected bytes after"));
    }

    #[test]
    fn missing_section_is_named() -> Result<()> {
        let bytes = small();
        let s = Snapshot::parse(&bytes)?;
        match s.section(*b"LEXI") {
            Err(Error::InvalidIndex(msg)) => assert_eq!(msg, "missing section LEXI"),
            r => panic!("expected InvalidIndex, got {r:?}"),
        }
        Ok(())
    }

    #[test]
    fn duplicate_or_unprintable_tags_are_refused_on_write() {
        let mut w = SnapshotWriter::new(FP);
        assert!(w.section(*b"DOCS", vec![1]).is_ok());
        let dup = w.section(*b"DOCS", vec![2]);
        assert!(matches!(dup, Err(Error::InvalidInput(ref m)) if m.contains("DOCS")));
        assert!(matches!(
            w.section([0, b'A', b'B', b'C'], vec![]),
            Err(Error::InvalidInput(_))
        ));
        // The refused sections were not added.
        let bytes = w.finish();
        assert_eq!(
            Snapshot::parse(&bytes).map(|s| s.tags().count()).ok(),
            Some(1)
        );
    }

    #[test]
    fn duplicate_tags_are_refused_on_read() {
        let mut b = small();
        // Rename EMPT to DOCS in the table.
        let at = header_len(1);
        b[at..at + 4].copy_from_slice(b"DOCS");
        reseal(&mut b, 3);
        assert!(message(Snapshot::parse(&b)).contains("appears twice"));
    }

    #[test]
    fn hostile_counts_and_offsets_are_refused_without_allocating() {
        let count_at = FIXED_HEADER_LEN - 4;
        // A huge section count in a tiny file: refused by the bound check,
        // before `Vec::with_capacity` could ask for gigabytes.
        for count in [u32::MAX, u32::MAX / 24, 1 << 20, 4] {
            let mut b = small();
            b[count_at..count_at + 4].copy_from_slice(&count.to_le_bytes());
            reseal(&mut b, count as usize);
            assert!(is_invalid(&Snapshot::parse(&b)), "count {count}");
        }
        // Offsets and lengths near u64::MAX, with a valid header CRC.
        for (field, value) in [(4, u64::MAX), (12, u64::MAX), (12, u64::MAX - 100), (4, 0)] {
            let mut b = small();
            let at = FIXED_HEADER_LEN + field;
            b[at..at + 8].copy_from_slice(&value.to_le_bytes());
            reseal(&mut b, 3);
            assert!(is_invalid(&Snapshot::parse(&b)), "field {field} = {value}");
        }
    }

    /// Seeds for `cargo fuzz` (see fuzz/README.md):
    /// `XLING_FUZZ_SEEDS=$PWD/fuzz/corpus/snapshot cargo test --release -p xling-index --lib write_fuzz_seeds -- --ignored`
    #[test]
    #[ignore = "writes files; run by hand to seed the fuzz corpus"]
    fn write_fuzz_seeds() -> std::io::Result<()> {
        let Some(dir) = std::env::var_os("XLING_FUZZ_SEEDS") else {
            return Ok(());
        };
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("small.xlidx"), small())?;
        std::fs::write(dir.join("empty.xlidx"), SnapshotWriter::new(FP).finish())
    }

    /// xorshift64*: deterministic, dependency-free randomness for the fuzzer.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    /// Values that tend to hit edge cases of length and offset arithmetic.
    fn interesting_u64(rng: &mut Rng, file_len: usize) -> u64 {
        let len = file_len as u64;
        let choices = [
            0,
            1,
            len,
            len.wrapping_sub(1),
            len + 1,
            u64::MAX,
            u64::MAX - 1,
            u32::MAX as u64,
            1 << 63,
            rng.next(),
            rng.next() % (len + 1),
        ];
        choices[rng.below(choices.len())]
    }

    /// One random change to `b`; header rewrites reseal the header CRC (and
    /// sometimes section CRCs) so that the checks behind them run too.
    fn mutate(rng: &mut Rng, b: &mut Vec<u8>, sections: usize) {
        match rng.below(8) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
            1 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] = rng.next() as u8;
            }
            2 => {
                let cut = rng.below(b.len() + 1);
                b.truncate(cut);
            }
            3 => {
                let at = rng.below(b.len() + 1);
                let n = 1 + rng.below(16);
                let junk: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                b.splice(at..at, junk);
            }
            4 if !b.is_empty() => {
                let at = rng.below(b.len());
                let n = 1 + rng.below(16);
                b.drain(at..(at + n).min(b.len()));
            }
            5 => {
                // A section-table u64 (offset or length) set to an edge value.
                let entry = rng.below(sections.max(1));
                let at = FIXED_HEADER_LEN + entry * ENTRY_LEN + 4 + 8 * rng.below(2);
                if at + 8 <= b.len() {
                    let v = interesting_u64(rng, b.len());
                    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
                }
                reseal(b, sections);
            }
            6 => {
                // Section count, version, flags or a tag; count moves the CRC.
                let which = rng.below(4);
                let mut count = sections;
                let (at, v) = match which {
                    0 => {
                        count = interesting_u64(rng, b.len()) as u32 as usize;
                        if rng.below(2) == 0 {
                            count = rng.below(sections + 3);
                        }
                        (FIXED_HEADER_LEN - 4, count as u32)
                    }
                    1 => (VERSION_AT, rng.below(3) as u32),
                    2 => (VERSION_AT + 4, rng.below(2) as u32),
                    _ => {
                        let entry = rng.below(sections.max(1));
                        (FIXED_HEADER_LEN + entry * ENTRY_LEN, rng.next() as u32)
                    }
                };
                if at + 4 <= b.len() {
                    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
                reseal(b, count);
            }
            _ => {
                // Change section bytes and fix their CRCs and the header: a
                // valid file with other content, which must parse.
                let start = header_len(sections) + HEADER_CRC_LEN;
                if b.len() > start {
                    let i = start + rng.below(b.len() - start);
                    b[i] = rng.next() as u8;
                }
                let mut at = start;
                for entry in 0..sections {
                    let e = FIXED_HEADER_LEN + entry * ENTRY_LEN;
                    if e + ENTRY_LEN > b.len() {
                        break;
                    }
                    let mut len = [0u8; 8];
                    len.copy_from_slice(&b[e + 12..e + 20]);
                    let len = u64::from_le_bytes(len) as usize;
                    if at.saturating_add(len) > b.len() {
                        break;
                    }
                    let crc = crc32fast::hash(&b[at..at + len]);
                    b[e + 20..e + 24].copy_from_slice(&crc.to_le_bytes());
                    at += len;
                }
                reseal(b, sections);
            }
        }
    }

    #[test]
    fn mutation_fuzzer_never_panics() {
        let original = small();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut accepted = 0;
        let mut deep = 0;
        for round in 0..20_000 {
            let mut b = original.clone();
            for _ in 0..1 + rng.below(3) {
                mutate(&mut rng, &mut b, 3);
            }
            match Snapshot::parse(&b) {
                Ok(s) => {
                    accepted += 1;
                    // What parse accepted must be self-consistent.
                    let mut total = header_len(s.tags().count()) + HEADER_CRC_LEN;
                    for tag in s.tags().collect::<Vec<_>>() {
                        let data = s.section(tag).unwrap();
                        total += data.len();
                    }
                    assert_eq!(total, b.len(), "round {round}");
                    match s.check_model(&FP) {
                        Ok(()) | Err(Error::ModelMismatch { .. }) => {}
                        Err(e) => panic!("round {round}: unexpected error {e}"),
                    }
                }
                Err(Error::InvalidIndex(msg)) => {
                    if msg.starts_with("section ") {
                        deep += 1;
                    }
                }
                Err(e) => panic!("round {round}: unexpected error {e}"),
            }
        }
        // The resealing mutations must reach the section checks and the
        // success path, or the fuzzer only tests the header CRC.
        assert!(accepted > 100, "only {accepted} mutants parsed");
        assert!(
            deep > 1000,
            "only {deep} mutants reached the section checks"
        );
    }
}
