// SPDX-License-Identifier: GPL-2.0

//! What `ap.ko` offers AP driver modules besides registration (`include/ap-rs/ap_bus.h`): the
//! ownership query that needs the bus attribute mutex (`attr_mutex.rs`), the host
//! configuration, and the AP instructions on the bus's facility.

use kernel::{
    error::{code::EINVAL, Result},
    ffi::c_int,
};

use super::attr_mutex::AttrLocked;
use crate::model::{hw::QciInfo, mask::Mask};

extern "C" {
    fn ap_rs_matrix_owned_by_default(apm: *const u8, aqm: *const u8) -> bool;
    fn ap_rs_qci(block: *mut u8) -> c_int;
    fn ap_rs_tapq(apqn: u16, tbit: c_int, info: *mut u64) -> u32;
    fn ap_rs_zapq(apqn: u16, fbit: c_int) -> u32;
    fn ap_rs_aqic(apqn: u16, ctrl: u64, nib: u64) -> u32;
    fn ap_rs_zapq_many(apqns: *const u16, n: u32, fbit: c_int, status: *mut u32);
    fn ap_rs_tapq_many(apqns: *const u16, n: u32, tbit: c_int, status: *mut u32);
}

impl AttrLocked {
    /// Whether any APQN of `apm` x `aqm` belongs to the host's default drivers (apmask/aqmask
    /// and driver_override): `ap_apqn_in_matrix_owned_by_def_drv`, which needs the attribute
    /// mutex held. The bus holds it while it asks `in_use`, so a driver takes it before its
    /// own locks.
    pub fn matrix_owned_by_default(&self, apm: &Mask, aqm: &Mask) -> bool {
        // SAFETY: two 32-byte masks; the mutex is held by this thread through `self`, which is
        // borrowed (not a second guard) for the call.
        unsafe { ap_rs_matrix_owned_by_default(apm.0.as_ptr(), aqm.0.as_ptr()) }
    }
}

/// The QCI block of the bus's last scan, or `None` without the QCI facility.
pub fn qci() -> Option<QciInfo> {
    let mut q = QciInfo([0; 128]);
    // SAFETY: `q.0` is a writable 128-byte block.
    let rc = unsafe { ap_rs_qci(q.0.as_mut_ptr()) };
    (rc == 0).then_some(q)
}

/// TAPQ: the status word and the GR2 information.
pub fn tapq(apqn: u16, t: bool) -> (u32, u64) {
    let mut info = 0u64;
    // SAFETY: `info` is writable.
    let status = unsafe { ap_rs_tapq(apqn, c_int::from(t), &mut info) };
    (status, info)
}

/// ZAPQ (with the F bit: also the AP queue interrupt state); the status word.
pub fn zapq(apqn: u16, f: bool) -> u32 {
    // SAFETY: no pointer arguments.
    unsafe { ap_rs_zapq(apqn, c_int::from(f)) }
}

/// The length of a batched instruction on `apqns` into `out`: the same length, at most
/// `u32::MAX`.
fn many_len(apqns: &[u16], out: &[u32]) -> Result<u32> {
    if apqns.len() != out.len() {
        return Err(EINVAL);
    }
    u32::try_from(apqns.len()).map_err(|_| EINVAL)
}

/// ZAPQ on each of `apqns` in order under one hold of the bus's facility lock; `out[k]` gets the
/// status word of `apqns[k]`. EINVAL (nothing issued) unless both have the same length.
pub fn zapq_many(apqns: &[u16], f: bool, out: &mut [u32]) -> Result {
    let n = many_len(apqns, out)?;
    // SAFETY: `apqns` has `n` readable elements, `out` `n` writable ones (checked above).
    unsafe { ap_rs_zapq_many(apqns.as_ptr(), n, c_int::from(f), out.as_mut_ptr()) };
    Ok(())
}

/// TAPQ (the status words only) on each of `apqns` in order under one hold of the bus's facility
/// lock; `out[k]` gets the status word of `apqns[k]`. EINVAL (nothing issued) unless both have
/// the same length.
pub fn tapq_many(apqns: &[u16], t: bool, out: &mut [u32]) -> Result {
    let n = many_len(apqns, out)?;
    // SAFETY: `apqns` has `n` readable elements, `out` `n` writable ones (checked above).
    unsafe { ap_rs_tapq_many(apqns.as_ptr(), n, c_int::from(t), out.as_mut_ptr()) };
    Ok(())
}

/// AQIC with the control word and the NIB address; the status word.
pub fn aqic(apqn: u16, ctrl: u64, nib: u64) -> u32 {
    // SAFETY: no pointer arguments; the NIB is the caller's pinned page address.
    unsafe { ap_rs_aqic(apqn, ctrl, nib) }
}
