// SPDX-License-Identifier: GPL-2.0
//! Pure model of the s390 AP bus (`drivers/s390/crypto/ap_bus.c`).
//!
//! Everything the AP bus decides without touching hardware or kernel objects lives here:
//! queue ids ([`ids`]), 256-bit MSB0 masks ([`mask`]), the exact C parsers of the sysfs
//! attributes ([`parse`]), the AP instruction data layouts ([`hw`]), host ownership rules
//! ([`owner`]), the AP facility interface ([`facility`]) with a simulated machine ([`sim`]),
//! the decisions of a bus scan ([`scan`]), the host queue state machine ([`queue_sm`]),
//! and the byte-exact sysfs output formats ([`text`]).
//!
//! The crate is `#![no_std]`, uses `core` only, allocates nothing and contains no `unsafe`.
//! The same source files are compiled into the kernel module: the includer lists the
//! modules below under its own module, so the files refer to each other only through
//! `super::`.
#![no_std]

#[cfg(test)]
extern crate std;

pub mod facility;
pub mod hw;
pub mod ids;
pub mod mask;
pub mod owner;
pub mod parse;
pub mod queue_sm;
pub mod scan;
pub mod sim;
pub mod text;
