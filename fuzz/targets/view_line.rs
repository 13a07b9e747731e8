// SPDX-License-Identifier: GPL-2.0
//! The view lines the VM's invariant checker parses: never panics.
#![no_main]
use vfio_ap::invariant::parse_view_line;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = parse_view_line(data);
});
