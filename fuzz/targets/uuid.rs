// SPDX-License-Identifier: GPL-2.0
//! mdev create: never panics; an accepted UUID prints and parses back to the same GUID.
#![no_main]
use vfio_ap::uuid::create_store;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(g) = create_store(data) {
        let text = g.to_text();
        assert_eq!(create_store(&text), Ok(g));
    }
});
