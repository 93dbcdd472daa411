//! A bounds-checked little-endian reader over a byte slice.
//!
//! Model files come from disk, the network or browser storage, so every read is
//! checked: a short or corrupted file becomes an error, never a panic.

/// Reads little-endian values from a byte slice, tracking the position.
pub(crate) struct ByteReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// Not enough bytes left for the value being read.
#[derive(Debug)]
pub(crate) struct Truncated {
    pub what: &'static str,
    pub offset: usize,
    pub needed: usize,
}

impl std::fmt::Display for Truncated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "file ends while reading {} at byte {} ({} more bytes needed)",
            self.what, self.offset, self.needed
        )
    }
}

impl<'a> ByteReader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Truncated> {
        let end = self.pos.checked_add(n).filter(|&end| end <= self.buf.len());
        match end {
            Some(end) => {
                let out = &self.buf[self.pos..end];
                self.pos = end;
                Ok(out)
            }
            None => Err(Truncated {
                what,
                offset: self.pos,
                needed: n.saturating_sub(self.buf.len() - self.pos),
            }),
        }
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], Truncated> {
        let bytes = self.bytes(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8, Truncated> {
        Ok(self.array::<1>(what)?[0])
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16, Truncated> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    pub fn u32(&mut self, what: &'static str) -> Result<u32, Truncated> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    pub fn i32(&mut self, what: &'static str) -> Result<i32, Truncated> {
        Ok(i32::from_le_bytes(self.array(what)?))
    }

    pub fn u64(&mut self, what: &'static str) -> Result<u64, Truncated> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    pub fn f32(&mut self, what: &'static str) -> Result<f32, Truncated> {
        Ok(f32::from_le_bytes(self.array(what)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_reports_truncation() {
        let data = [1u8, 0, 0, 0, 0xff];
        let mut r = ByteReader::new(&data);
        assert_eq!(r.u32("a").ok(), Some(1));
        let err = r.u32("b").err().map(|e| (e.what, e.offset, e.needed));
        assert_eq!(err, Some(("b", 4, 3)));
        assert_eq!(r.u8("c").ok(), Some(0xff));
    }
}
