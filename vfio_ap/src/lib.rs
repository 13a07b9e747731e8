// SPDX-License-Identifier: GPL-2.0
//! Pure model of the s390 vfio_ap mediated device driver (`drivers/s390/crypto/vfio_ap_ops.c`).
//!
//! `#![no_std]`, `core` only, no allocation, no `unsafe`. The module files are also compiled
//! into the kernel module; they reach the AP bus model only through `super::mask` and
//! `super::parse`, which this crate root re-exports from the `ap_bus` crate (the kernel
//! includer provides the same names).
#![no_std]

#[cfg(test)]
extern crate std;

pub use ap_bus::mask;
pub use ap_bus::parse;

pub mod ap_config;
