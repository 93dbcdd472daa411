//! The snapshot container on arbitrary bytes: `parse` must return Ok or
//! Err(InvalidIndex), never panic, hang or allocate more than the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xling_index::snapshot::Snapshot;

fuzz_target!(|data: &[u8]| {
    if let Ok(snapshot) = Snapshot::parse(data) {
        // Touch every section so a slice past the input would be caught by
        // the address sanitizer.
        let mut sum = 0u64;
        for tag in snapshot.tags() {
            let bytes = snapshot.section(tag).expect("a listed tag has a section");
            sum = bytes.iter().fold(sum, |s, b| s.wrapping_add(u64::from(*b)));
        }
        std::hint::black_box(sum);
        let _ = snapshot.check_model(&[0u8; 32]);
    }
});
