// SPDX-License-Identifier: GPL-2.0
//! apmask/aqmask writes: the parser never panics, an accepted absolute mask prints and parses
//! back to itself, and a rejected write leaves the current mask as it was.
#![no_main]
use ap_bus::mask::Mask;
use ap_bus::parse::parse_mask;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (cur, text) = match data.split_first() {
        Some((&b, rest)) => (Mask::from_ids(&[b, b.wrapping_mul(7)]), rest),
        None => (Mask::ZERO, data),
    };
    if let Ok(m) = parse_mask(text, &cur) {
        let printed = format!("{m}");
        assert_eq!(parse_mask(printed.as_bytes(), &cur), Ok(m));
    }
});
