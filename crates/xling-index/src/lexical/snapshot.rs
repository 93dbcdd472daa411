//! The lexical index's section of a snapshot: written deterministically, read
//! back with every invariant checked.

use std::collections::HashMap;

use super::index::{Posting, ABSENT};
use super::{Bm25Params, LexicalIndex};
use crate::codec::{Reader, Writer};
use xling_model::error::Result;

/// Version of the serialised layout written by [`LexicalIndex::write`].
const FORMAT_VERSION: u32 = 1;

impl LexicalIndex {
    /// Serialises the index with the snapshot codec. Deterministic: terms are
    /// written in ascending id, so equal indexes give equal bytes.
    pub fn write(&self, w: &mut Writer) {
        w.u32(FORMAT_VERSION);
        w.f32(self.params.k1);
        w.f32(self.params.b);
        w.u32s(&self.doc_len);
        let mut terms: Vec<u32> = self.postings.keys().copied().collect();
        terms.sort_unstable();
        w.len_u64(terms.len());
        for term in terms {
            let list = self.postings.get(&term).map_or(&[][..], Vec::as_slice);
            w.u32(term);
            w.len_u64(list.len());
            for p in list {
                w.u32(p.passage);
                w.u32(p.tf);
            }
        }
    }

    /// Reads what [`write`](Self::write) wrote, validating everything: valid
    /// parameters, terms strictly ascending with non-empty posting lists,
    /// postings strictly ascending by passage and only for live passages,
    /// tf > 0, and every passage length equal to the sum of its tfs. Counts are
    /// checked against the bytes left before allocating. Does not require the
    /// reader to be exhausted (the caller may store more after it).
    pub fn read(r: &mut Reader) -> Result<Self> {
        let version = r.u32()?;
        if version != FORMAT_VERSION {
            return Err(r.error(format!(
                "lexical index format version {version}, expected {FORMAT_VERSION}"
            )));
        }
        let params = Bm25Params {
            k1: r.finite_f32()?,
            b: r.finite_f32()?,
        };
        params.validate().map_err(|e| r.error(e))?;

        let doc_len = r.u32s()?;
        if doc_len.len() > u32::MAX as usize {
            return Err(r.error("more passage ids than u32 can name"));
        }
        let mut live = 0usize;
        let mut total_len = 0u64;
        for &len in &doc_len {
            if len != ABSENT {
                live += 1;
                total_len += u64::from(len);
            }
        }

        // Each term takes at least 4 (id) + 8 (count) + 8 (one posting) bytes.
        let term_count = r.count(20)?;
        let mut postings: HashMap<u32, Vec<Posting>> = HashMap::with_capacity(term_count);
        let mut tf_sums = vec![0u64; doc_len.len()];
        let mut previous_term: Option<u32> = None;
        for _ in 0..term_count {
            let term = r.u32()?;
            if previous_term.is_some_and(|prev| prev >= term) {
                return Err(r.error(format!("term {term} out of order")));
            }
            previous_term = Some(term);
            let n = r.count(8)?;
            if n == 0 {
                return Err(r.error(format!("term {term} has no postings")));
            }
            let mut list = Vec::with_capacity(n);
            let mut previous_passage: Option<u32> = None;
            for _ in 0..n {
                let passage = r.u32_below(doc_len.len())?;
                if previous_passage.is_some_and(|prev| prev >= passage) {
                    return Err(r.error(format!(
                        "postings of term {term} out of order at passage {passage}"
                    )));
                }
                previous_passage = Some(passage);
                if doc_len[passage as usize] == ABSENT {
                    return Err(r.error(format!(
                        "term {term} has a posting for absent passage {passage}"
                    )));
                }
                let tf = r.u32()?;
                if tf == 0 {
                    return Err(r.error(format!("term {term}: zero tf in passage {passage}")));
                }
                tf_sums[passage as usize] += u64::from(tf);
                list.push(Posting { passage, tf });
            }
            postings.insert(term, list);
        }

        for (passage, (&len, &sum)) in doc_len.iter().zip(&tf_sums).enumerate() {
            // Absent passages have no postings (checked above), so sum is 0.
            if len != ABSENT && u64::from(len) != sum {
                return Err(r.error(format!(
                    "passage {passage} has length {len} but its postings add up to {sum}"
                )));
            }
        }

        Ok(Self {
            params,
            postings,
            doc_len,
            live,
            total_len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexical::testing::{all, Rng, Zipf};
    use xling_model::error::Error;

    fn serialize(index: &LexicalIndex) -> Vec<u8> {
        let mut w = Writer::new();
        index.write(&mut w);
        w.into_bytes()
    }

    fn deserialize(bytes: &[u8]) -> Result<LexicalIndex> {
        let mut r = Reader::new(bytes, "lexical index");
        let index = LexicalIndex::read(&mut r)?;
        r.finish()?;
        Ok(index)
    }

    fn random_index(seed: u64, passages: u32) -> Result<LexicalIndex> {
        let mut rng = Rng(seed);
        let zipf = Zipf::new(500);
        let mut index = LexicalIndex::new(Bm25Params { k1: 0.9, b: 0.4 });
        let mut texts = Vec::new();
        for id in 0..passages {
            let terms = zipf.passage(&mut rng, 0, 25);
            index.add(id, &terms)?;
            texts.push(terms);
        }
        for id in (0..passages).step_by(3) {
            index.remove(id, &texts[id as usize])?;
        }
        Ok(index)
    }

    #[test]
    fn write_read_round_trip() -> Result<()> {
        let index = random_index(11, 400)?;
        let bytes = serialize(&index);
        let back = deserialize(&bytes)?;
        assert_eq!(back, index);
        assert_eq!(serialize(&back), bytes);
        let mut rng = Rng(12);
        let zipf = Zipf::new(500);
        for _ in 0..100 {
            let query = zipf.passage(&mut rng, 1, 15);
            assert_eq!(back.search(&query, 10, all), index.search(&query, 10, all));
        }
        let empty = LexicalIndex::new(Bm25Params::default());
        assert_eq!(deserialize(&serialize(&empty))?, empty);
        Ok(())
    }

    #[test]
    fn every_truncation_is_an_error() -> Result<()> {
        let bytes = serialize(&random_index(5, 30)?);
        for cut in 0..bytes.len() {
            let mut r = Reader::new(&bytes[..cut], "lexical index");
            let result = LexicalIndex::read(&mut r);
            assert!(matches!(result, Err(Error::InvalidIndex(_))), "cut {cut}");
        }
        Ok(())
    }

    #[test]
    fn bit_flips_give_an_error_or_a_valid_index() -> Result<()> {
        let bytes = serialize(&random_index(9, 40)?);
        let mut accepted = 0;
        // Every bit of the file once, then random multi-bit corruptions.
        let mut rng = Rng(99);
        let single = (0..bytes.len() * 8).map(|bit| vec![bit]);
        let multi = (0..3000).map(|_| {
            (0..1 + rng.below(4))
                .map(|_| rng.below(bytes.len() as u64 * 8) as usize)
                .collect::<Vec<_>>()
        });
        let cases: Vec<Vec<usize>> = single.chain(multi).collect();
        for bits in &cases {
            let mut corrupt = bytes.clone();
            for &bit in bits {
                corrupt[bit / 8] ^= 1 << (bit % 8);
            }
            match deserialize(&corrupt) {
                Err(Error::InvalidIndex(_)) => {}
                Err(e) => panic!("unexpected error kind {e}"),
                Ok(index) => {
                    // Still a consistent index: a write/read round trip agrees and
                    // searches work.
                    accepted += 1;
                    assert!(index.params().validate().is_ok());
                    assert_eq!(deserialize(&serialize(&index))?, index);
                    for q in [&[0u32, 1, 2][..], &[3, 4, 5, 6]] {
                        for (p, s) in index.search(q, 5, all) {
                            assert!(s.is_finite() && s > 0.0);
                            assert_eq!(index.score(q, p).to_bits(), s.to_bits());
                        }
                    }
                }
            }
        }
        // Flips in k1/b bits often stay valid; most others are caught.
        assert!(accepted < cases.len() / 2, "{accepted} of {}", cases.len());
        Ok(())
    }

    #[test]
    fn hostile_headers_are_refused() {
        let header = |w: &mut Writer| {
            w.u32(FORMAT_VERSION);
            w.f32(1.2);
            w.f32(0.75);
        };
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("bad version", {
                let mut w = Writer::new();
                w.u32(2);
                w.raw(&[0; 32]);
                w.into_bytes()
            }),
            ("negative k1", {
                let mut w = Writer::new();
                w.u32(FORMAT_VERSION);
                w.f32(-1.0);
                w.f32(0.75);
                w.u32s(&[]);
                w.len_u64(0);
                w.into_bytes()
            }),
            ("huge doc count", {
                let mut w = Writer::new();
                header(&mut w);
                w.u64(u64::MAX);
                w.into_bytes()
            }),
            ("huge term count", {
                let mut w = Writer::new();
                header(&mut w);
                w.u32s(&[1]);
                w.u64(1 << 40);
                w.into_bytes()
            }),
            ("unsorted terms", {
                let mut w = Writer::new();
                header(&mut w);
                w.u32s(&[2]);
                w.len_u64(2);
                for term in [5u32, 4] {
                    w.u32(term);
                    w.len_u64(1);
                    w.u32(0);
                    w.u32(1);
                }
                w.into_bytes()
            }),
            ("empty posting list", {
                let mut w = Writer::new();
                header(&mut w);
                w.u32s(&[0]);
                w.len_u64(1);
                w.u32(5);
                w.len_u64(0);
                w.raw(&[0; 8]);
                w.into_bytes()
            }),
            ("zero tf", {
                let mut w = Writer::new();
                header(&mut w);
                w.u32s(&[0]);
                w.len_u64(1);
                w.u32(5);
                w.len_u64(1);
                w.u32(0);
                w.u32(0);
                w.into_bytes()
            }),
            ("posting for absent passage", {
                let mut w = Writer::new();
                header(&mut w);
                w.u32s(&[ABSENT]);
                w.len_u64(1);
                w.u32(5);
                w.len_u64(1);
                w.u32(0);
                w.u32(1);
                w.into_bytes()
            }),
            ("duplicate posting", {
                let mut w = Writer::new();
                header(&mut w);
                w.u32s(&[2]);
                w.len_u64(1);
                w.u32(5);
                w.len_u64(2);
                for _ in 0..2 {
                    w.u32(0);
                    w.u32(1);
                }
                w.into_bytes()
            }),
            ("length disagrees with postings", {
                let mut w = Writer::new();
                header(&mut w);
                w.u32s(&[3]);
                w.len_u64(1);
                w.u32(5);
                w.len_u64(1);
                w.u32(0);
                w.u32(2);
                w.into_bytes()
            }),
        ];
        for (what, bytes) in cases {
            assert!(
                matches!(deserialize(&bytes), Err(Error::InvalidIndex(_))),
                "{what}"
            );
        }
    }
}
