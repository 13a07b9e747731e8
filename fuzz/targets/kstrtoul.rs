// SPDX-License-Identifier: GPL-2.0
//! The kstrtoul(.., 0) of the assign_* files: never panics; an accepted number prints (decimal,
//! hex and octal) and parses back to itself.
#![no_main]
use ap_bus::parse::kstrtoul;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(v) = kstrtoul(data, 0) {
        for s in [format!("{v}"), format!("0x{v:x}\n"), format!("0{v:o}")] {
            assert_eq!(kstrtoul(s.as_bytes(), 0), Ok(v), "{s}");
        }
    }
});
