//! Little-endian byte encoding shared by every part of an index snapshot.
//!
//! Readers never trust a length: every read is bounds-checked and every count
//! is checked against the bytes left before anything is allocated, so a
//! truncated or hostile file gives [`Error::InvalidIndex`], never a panic or an
//! allocation bomb.

use xling_model::error::{Error, Result};

/// Appends little-endian values to a byte buffer.
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes written, to store or to nest as another writer's section.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Bytes written so far (section offsets are taken from it).
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// One byte (tags, flags).
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// A little-endian u32 (ids, magic numbers).
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// A little-endian u64.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// A little-endian f32, bit for bit (scores and vectors read back unchanged).
    pub fn f32(&mut self, v: f32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// A little-endian f64, bit for bit.
    pub fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// A `usize` count or index, stored as u64 so files move between 32- and 64-bit hosts.
    pub fn len_u64(&mut self, v: usize) {
        self.u64(v as u64);
    }

    /// Raw bytes with no length prefix.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Length-prefixed bytes.
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.len_u64(bytes.len());
        self.raw(bytes);
    }

    /// Length-prefixed UTF-8.
    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// `None` as 0, `Some(s)` as 1 + string.
    pub fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }

    /// Length-prefixed u32 array.
    pub fn u32s(&mut self, values: &[u32]) {
        self.len_u64(values.len());
        for v in values {
            self.u32(*v);
        }
    }

    /// Length-prefixed f32 array.
    pub fn f32s(&mut self, values: &[f32]) {
        self.len_u64(values.len());
        for v in values {
            self.f32(*v);
        }
    }

    /// Length-prefixed i8 array.
    pub fn i8s(&mut self, values: &[i8]) {
        self.len_u64(values.len());
        self.buf.extend(values.iter().map(|v| *v as u8));
    }
}

/// Reads what [`Writer`] wrote, naming the part being read in every error.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// `what` names the section in error messages ("documents", "lexical index"…).
    pub fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Self {
            bytes,
            pos: 0,
            what,
        }
    }

    /// An [`Error::InvalidIndex`] that names the section and offset.
    pub fn error(&self, msg: impl std::fmt::Display) -> Error {
        Error::InvalidIndex(format!("{} at byte {}: {msg}", self.what, self.pos))
    }

    /// Bytes not read yet: the bound every count is checked against.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Fails unless every byte was consumed (trailing bytes mean a format mismatch).
    pub fn finish(&self) -> Result<()> {
        if self.remaining() != 0 {
            return Err(self.error(format!("{} unexpected trailing bytes", self.remaining())));
        }
        Ok(())
    }

    /// The next `n` raw bytes, or an error if fewer are left.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.error(format!(
                "needs {n} bytes, only {} left (truncated?)",
                self.remaining()
            )));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    /// A little-endian u32.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// A little-endian u64.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A little-endian f32, any value (see [`Reader::finite_f32`] for data that must be finite).
    pub fn f32(&mut self) -> Result<f32> {
        Ok(f32::from_le_bytes(self.array()?))
    }

    /// A little-endian f64, any value.
    pub fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// A finite f32 (NaN or infinity in a snapshot means corruption).
    pub fn finite_f32(&mut self) -> Result<f32> {
        let v = self.f32()?;
        if !v.is_finite() {
            return Err(self.error("non-finite number"));
        }
        Ok(v)
    }

    /// A count of items of `item_bytes` each that must fit in the bytes left.
    pub fn count(&mut self, item_bytes: usize) -> Result<usize> {
        let n = self.u64()?;
        let max = (self.remaining() / item_bytes.max(1)) as u64;
        if n > max {
            return Err(self.error(format!(
                "count {n} exceeds what the {} remaining bytes can hold",
                self.remaining()
            )));
        }
        Ok(n as usize)
    }

    /// A `usize` that must be below `bound` (an index into something already read).
    pub fn index(&mut self, bound: usize) -> Result<usize> {
        let v = self.u64()?;
        if v >= bound as u64 {
            return Err(self.error(format!("index {v} out of range (< {bound})")));
        }
        Ok(v as usize)
    }

    /// A u32 that must be below `bound`.
    pub fn u32_below(&mut self, bound: usize) -> Result<u32> {
        let v = self.u32()?;
        if v as u64 >= bound as u64 {
            return Err(self.error(format!("id {v} out of range (< {bound})")));
        }
        Ok(v)
    }

    /// What [`Writer::bytes`] wrote: a length that must fit, then the bytes.
    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.count(1)?;
        self.take(n)
    }

    /// What [`Writer::str`] wrote; invalid UTF-8 is an error, not replaced.
    pub fn str(&mut self) -> Result<&'a str> {
        let bytes = self.bytes()?;
        std::str::from_utf8(bytes).map_err(|e| self.error(format!("invalid UTF-8: {e}")))
    }

    /// What [`Writer::opt_str`] wrote; a tag other than 0 or 1 is an error.
    pub fn opt_str(&mut self) -> Result<Option<&'a str>> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.str()?)),
            tag => Err(self.error(format!("bad option tag {tag}"))),
        }
    }

    /// What [`Writer::u32s`] wrote.
    pub fn u32s(&mut self) -> Result<Vec<u32>> {
        let n = self.count(4)?;
        (0..n).map(|_| self.u32()).collect()
    }

    /// What [`Writer::f32s`] wrote; every value must be finite.
    pub fn f32s(&mut self) -> Result<Vec<f32>> {
        let n = self.count(4)?;
        (0..n).map(|_| self.finite_f32()).collect()
    }

    /// What [`Writer::i8s`] wrote.
    pub fn i8s(&mut self) -> Result<Vec<i8>> {
        let bytes = self.bytes()?;
        Ok(bytes.iter().map(|b| *b as i8).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_kind() -> Result<()> {
        let mut w = Writer::new();
        w.u8(7);
        w.u32(0xdead_beef);
        w.u64(u64::MAX - 1);
        w.f32(1.5);
        w.f64(-2.25);
        w.str("héllo");
        w.opt_str(None);
        w.opt_str(Some("x"));
        w.u32s(&[1, 2, 3]);
        w.f32s(&[0.5, -0.5]);
        w.i8s(&[-128, 0, 127]);
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes, "test");
        assert_eq!(r.u8()?, 7);
        assert_eq!(r.u32()?, 0xdead_beef);
        assert_eq!(r.u64()?, u64::MAX - 1);
        assert_eq!(r.f32()?, 1.5);
        assert_eq!(r.f64()?, -2.25);
        assert_eq!(r.str()?, "héllo");
        assert_eq!(r.opt_str()?, None);
        assert_eq!(r.opt_str()?, Some("x"));
        assert_eq!(r.u32s()?, vec![1, 2, 3]);
        assert_eq!(r.f32s()?, vec![0.5, -0.5]);
        assert_eq!(r.i8s()?, vec![-128, 0, 127]);
        r.finish()
    }

    #[test]
    fn every_truncation_is_an_error() {
        let mut w = Writer::new();
        w.str("abc");
        w.u32s(&[1, 2]);
        let bytes = w.into_bytes();
        for cut in 0..bytes.len() {
            let mut r = Reader::new(&bytes[..cut], "test");
            let result = r.str().and_then(|_| r.u32s());
            assert!(matches!(result, Err(Error::InvalidIndex(_))), "cut {cut}");
        }
    }

    #[test]
    fn huge_counts_are_refused_before_allocating() {
        let mut w = Writer::new();
        w.u64(u64::MAX);
        let bytes = w.into_bytes();
        assert!(Reader::new(&bytes, "t").u32s().is_err());
        assert!(Reader::new(&bytes, "t").str().is_err());
    }

    #[test]
    fn bad_utf8_nan_and_ranges_are_refused() {
        let mut w = Writer::new();
        w.bytes(&[0xff, 0xfe]);
        assert!(Reader::new(&w.into_bytes(), "t").str().is_err());
        let mut w = Writer::new();
        w.f32s(&[f32::NAN]);
        assert!(Reader::new(&w.into_bytes(), "t").f32s().is_err());
        let mut w = Writer::new();
        w.u32(5);
        assert!(Reader::new(&w.into_bytes(), "t").u32_below(5).is_err());
    }
}
