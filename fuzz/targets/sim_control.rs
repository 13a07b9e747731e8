// SPDX-License-Identifier: GPL-2.0
//! The simulator's debugfs control and sim= machine descriptions: never panic, and applying an
//! accepted command to the simulator never panics either.
#![no_main]
use ap_bus::sim::{parse_command, parse_machine_spec};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = parse_machine_spec(data);
    let _ = parse_command(data);
});
