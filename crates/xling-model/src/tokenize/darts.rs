//! A read-only double-array trie over a byte slice: the layout `yada` builds
//! (the Darts-clone unit format), read here with bounds checks.
//!
//! `yada`'s own reader trusts the array (unchecked indexing, asserts); ours
//! reads units from a model file that came from outside, so every unit read is
//! checked and a corrupted array gives "no match", never a panic or an
//! out-of-bounds read. The key is always bounded by the text, so a corrupted
//! array cannot loop either.

/// Bytes per unit.
const UNIT_SIZE: usize = 4;

/// One node of the array, as a little-endian `u32`:
/// non-leaf `LABEL:8 | HAS_LEAF:1 | EXTEND:1 | OFFSET:21 | IS_LEAF:1 (0)`,
/// leaf `VALUE:31 | IS_LEAF:1 (1)`.
#[derive(Clone, Copy)]
struct Unit(u32);

impl Unit {
    fn has_leaf(self) -> bool {
        (self.0 >> 8) & 1 == 1
    }

    fn value(self) -> u32 {
        self.0 & 0x7FFF_FFFF
    }

    /// The label of a non-leaf unit; a leaf gives a value above 255, which no
    /// byte matches.
    fn label(self) -> u32 {
        self.0 & ((1 << 31) | 0xFF)
    }

    fn offset(self) -> u32 {
        (self.0 >> 10) << ((self.0 & (1 << 9)) >> 6)
    }
}

/// A double array borrowed from a model file.
#[derive(Clone, Copy)]
pub struct DoubleArray<'a> {
    units: &'a [u8],
}

impl<'a> DoubleArray<'a> {
    /// Wraps the bytes of an array (a multiple of 4 bytes; extra bytes are ignored).
    pub fn new(units: &'a [u8]) -> Self {
        Self { units }
    }

    fn unit(&self, index: usize) -> Option<Unit> {
        let start = index.checked_mul(UNIT_SIZE)?;
        let bytes = self.units.get(start..start.checked_add(UNIT_SIZE)?)?;
        let bytes: [u8; UNIT_SIZE] = bytes.try_into().ok()?;
        Some(Unit(u32::from_le_bytes(bytes)))
    }

    /// Follows the transition labelled `byte` from node `from`.
    fn child(&self, from: usize, unit: Unit, byte: u8) -> Option<(usize, Unit)> {
        let next = (unit.offset() ^ from as u32 ^ u32::from(byte)) as usize;
        let child = self.unit(next)?;
        (child.label() == u32::from(byte)).then_some((next, child))
    }

    /// The value stored for a node that has a leaf.
    fn leaf_value(&self, at: usize, unit: Unit) -> Option<u32> {
        let leaf = self.unit((unit.offset() ^ at as u32) as usize)?;
        Some(leaf.value())
    }

    /// The value of exactly `key`, if it is in the trie.
    pub fn exact_match(&self, key: &[u8]) -> Option<u32> {
        let mut at = 0usize;
        let mut unit = self.unit(at)?;
        for &byte in key {
            if byte == 0 {
                return None;
            }
            (at, unit) = self.child(at, unit, byte)?;
        }
        if !unit.has_leaf() {
            return None;
        }
        self.leaf_value(at, unit)
    }

    /// Every key that is a prefix of `text`, as `(value, length in bytes)`,
    /// shortest first (the order the Unigram lattice relies on for ties).
    pub fn common_prefixes(&self, text: &'a [u8]) -> CommonPrefixes<'a> {
        CommonPrefixes {
            array: *self,
            text,
            at: 0,
            consumed: 0,
        }
    }
}

/// Iterator of [`DoubleArray::common_prefixes`].
pub struct CommonPrefixes<'a> {
    array: DoubleArray<'a>,
    text: &'a [u8],
    at: usize,
    consumed: usize,
}

impl Iterator for CommonPrefixes<'_> {
    type Item = (u32, usize);

    fn next(&mut self) -> Option<Self::Item> {
        while let Some(&byte) = self.text.get(self.consumed) {
            let unit = self.array.unit(self.at)?;
            self.consumed += 1;
            if byte == 0 {
                self.text = &[];
                return None;
            }
            let Some((at, child)) = self.array.child(self.at, unit, byte) else {
                self.text = &[];
                return None;
            };
            self.at = at;
            if child.has_leaf() {
                if let Some(value) = self.array.leaf_value(at, child) {
                    return Some((value, self.consumed));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(keys: &[&str]) -> Vec<u8> {
        let mut keyset: Vec<(&[u8], u32)> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_bytes(), i as u32))
            .collect();
        keyset.sort();
        yada::builder::DoubleArrayBuilder::build(&keyset).expect("builds")
    }

    #[test]
    fn finds_exact_keys_and_prefixes_shortest_first() {
        let keys = ["a", "ab", "abc", "b", "▁hello", "▁he"];
        let bytes = build(&keys);
        let da = DoubleArray::new(&bytes);
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(da.exact_match(k.as_bytes()), Some(i as u32), "{k}");
        }
        assert_eq!(da.exact_match(b"abcd"), None);
        assert_eq!(da.exact_match(b""), None);
        assert_eq!(da.exact_match(b"c"), None);
        let found: Vec<(u32, usize)> = da.common_prefixes(b"abcd").collect();
        assert_eq!(found, vec![(0, 1), (1, 2), (2, 3)]);
        let found: Vec<(u32, usize)> = da.common_prefixes("▁hello!".as_bytes()).collect();
        assert_eq!(found, vec![(5, "▁he".len()), (4, "▁hello".len())]);
        assert_eq!(da.common_prefixes(b"zzz").count(), 0);
    }

    #[test]
    fn a_corrupted_array_never_panics() {
        let bytes = build(&["alpha", "beta", "gamma", "delta", "ab"]);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for round in 0..2000 {
            let mut bad = bytes.clone();
            // Flip a few random bytes, or cut the array short.
            if round % 7 == 0 {
                bad.truncate((state as usize) % bad.len());
            }
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                if !bad.is_empty() {
                    let at = (state as usize) % bad.len();
                    bad[at] ^= (state >> 32) as u8;
                }
            }
            let da = DoubleArray::new(&bad);
            for key in ["alpha", "ab", "x", "gammaray", ""] {
                let _ = da.exact_match(key.as_bytes());
                let _ = da.common_prefixes(key.as_bytes()).count();
            }
        }
    }
}
