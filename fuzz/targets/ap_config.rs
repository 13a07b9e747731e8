// SPDX-License-Identifier: GPL-2.0
//! ap_config writes: never panics; accepted masks print in the ap_config form and parse back.
#![no_main]
use vfio_ap::ap_config::{parse_ap_config, write_ap_config};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok((a, q, d)) = parse_ap_config(data) {
        let mut s = String::new();
        write_ap_config(&mut s, &a, &q, &d).expect("format");
        assert_eq!(parse_ap_config(s.as_bytes()), Ok((a, q, d)), "{s}");
    }
});
