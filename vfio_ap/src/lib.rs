// SPDX-License-Identifier: GPL-2.0
//! Pure model of the s390 vfio_ap mediated device driver (`drivers/s390/crypto/vfio_ap_ops.c`
//! of Linux 7.3).
//!
//! `#![no_std]`, `core` only, no allocation, no `unsafe`. Every function is a decision over
//! plain data that the kernel glue calls under its locks; per-queue state (the C
//! `vfio_ap_queue`s and their `qtable` links) stays with the glue, which answers the model's
//! questions about it through closures.
//!
//! The module files are also compiled into the kernel module, next to the `ap_bus` model files
//! in one `model` module; they reach the AP bus model only through `super::mask`,
//! `super::ids`, `super::hw`, `super::parse` and `super::text`, which this crate root
//! re-exports from the `ap_bus` crate (the kernel includer provides the same names). For that
//! reason no file here may share a name with an `ap_bus` file: the sysfs formats of vfio_ap are
//! in [`vfio_text`], not `text`.
//!
//! | module | C |
//! |---|---|
//! | [`matrix`] | `struct ap_matrix`, assign/unassign stores, `ap_config_store` validation, `in_use` |
//! | [`shadow`] | the shadow APCB: filtering, hot unplug/plug, queue probe/remove, config changes |
//! | [`crycb`] | `struct kvm_s390_crypto_cb`, `kvm_arch_crypto_set_masks`, the CRYCB format |
//! | [`reset`] | `vfio_ap_mdev_reset_queue` + `apq_reset_check`, with adaptive polling and a timeout |
//! | [`aqic`] | PQAP(AQIC) interception: KVM `handle_pqap`, vfio_ap `handle_pqap`, irq enable/disable |
//! | [`uuid`] | the mdev `create` write: `guid_parse` |
//! | [`vfio_text`] | the sysfs formats of the matrix device, the mdev type, the mdevs and the queues |
//! | [`vfio`] | the VFIO ioctls' argument checks and struct layouts |
//! | [`ap_config`] | the `ap_config` attribute syntax |
//! | [`errno`] | the errno values |
//! | [`invariant`] | the isolation invariant every checker uses |
#![no_std]

#[cfg(test)]
extern crate std;

pub use ap_bus::hw;
pub use ap_bus::ids;
pub use ap_bus::mask;
pub use ap_bus::parse;
pub use ap_bus::text;

pub mod ap_config;
pub mod aqic;
pub mod crycb;
pub mod errno;
pub mod invariant;
pub mod matrix;
pub mod reset;
pub mod shadow;
pub mod uuid;
pub mod vfio;
pub mod vfio_text;
