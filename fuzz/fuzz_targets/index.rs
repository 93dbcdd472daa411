//! The whole index reader on arbitrary bytes: every section decoder behind the
//! container must return Err(InvalidIndex), never panic or over-allocate.
//!
//! Seeds: real snapshots written by `xling index` (see README.md); most
//! random inputs die at the container's CRC checks, so good seeds matter.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(index) = xling_index::Index::from_bytes(data) {
        std::hint::black_box(&index);
    }
});
