// SPDX-License-Identifier: GPL-2.0

//! The C ABI of `ap.ko` (`include/ap-rs/ap_bus.h`), exported to other modules by `ap_glue.c`,
//! and the bodies of its delayed works. Each function checks its pointers and forwards to the
//! safe [`ApBusApi`] of the bus published with [`publish`].

use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::{
    bindings,
    ffi::{c_char, c_int},
    prelude::*,
    sync::Arc,
};

use super::{
    ap_driver::ApRsDriver,
    attr_mutex::AttrLocked,
    bus::Bus, //
};
use crate::model::{hw::QciInfo, mask::Mask};

/// What the bus offers through its C ABI.
pub(crate) trait ApBusApi: Send + Sync + 'static {
    /// Registers `drv` as `name`.
    fn register_driver(&self, drv: super::ap_driver::DriverRef, name: &'static CStr) -> Result;
    /// Unregisters `drv`.
    fn unregister_driver(&self, drv: super::ap_driver::DriverRef);
    /// Whether any APQN of `apm` x `aqm` is owned by the default drivers (with the attribute
    /// mutex held).
    fn matrix_owned_by_default(&self, held: &AttrLocked, apm: &Mask, aqm: &Mask) -> bool;
    /// The QCI block of the last scan.
    fn qci(&self) -> Option<QciInfo>;
    /// Scans now; whether the configuration changed.
    fn force_rescan(&self) -> bool;
    /// TAPQ.
    fn tapq(&self, apqn: u16, t: bool) -> (u32, u64);
    /// ZAPQ.
    fn zapq(&self, apqn: u16, f: bool) -> u32;
    /// ZAPQ on each of `apqns` in order under one hold of the facility lock; `out[k]` gets
    /// the status of `apqns[k]` (the caller passes slices of the same length).
    fn zapq_many(&self, apqns: &[u16], f: bool, out: &mut [u32]);
    /// TAPQ (the status only) on each of `apqns` in order under one hold of the facility lock;
    /// `out[k]` gets the status of `apqns[k]` (the caller passes slices of the same length).
    fn tapq_many(&self, apqns: &[u16], t: bool, out: &mut [u32]);
    /// AQIC.
    fn aqic(&self, apqn: u16, ctrl: u64, nib: u64) -> u32;
    /// The periodic scan.
    fn scan_work(&self);
    /// The queue poll.
    fn poll_work(&self);
}

/// The bus while the module is loaded: a reference leaked from its `Arc` by [`publish`].
static BUS: AtomicPtr<Bus<crate::ApBus>> = AtomicPtr::new(core::ptr::null_mut());

/// The bus published to the exported functions and the works ([`publish`]): dropping it
/// withdraws the bus and its reference. The exported functions are only reachable from modules
/// that depend on this one, so none runs any more when the module's exit (or its failed init)
/// drops this; the works are cancelled before.
#[must_use]
pub(crate) struct Published(());

/// Publishes `bus` to the exported functions and the works while the result lives.
pub(crate) fn publish(bus: Arc<Bus<crate::ApBus>>) -> Published {
    let old = BUS.swap(Arc::into_raw(bus).cast_mut(), Ordering::AcqRel);
    if !old.is_null() {
        // SAFETY: a pointer in `BUS` came from `Arc::into_raw` in this function.
        drop(unsafe { Arc::from_raw(old) });
    }
    Published(())
}

impl Drop for Published {
    fn drop(&mut self) {
        let old = BUS.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: a pointer in `BUS` came from `Arc::into_raw` in `publish`.
            drop(unsafe { Arc::from_raw(old) });
        }
    }
}

fn bus() -> Option<&'static crate::ApBus> {
    let p = BUS.load(Ordering::Acquire);
    // SAFETY: a published pointer stays valid until `Published` is dropped, which happens only
    // when nothing can call the functions of this file any more (see `Published`).
    (!p.is_null()).then(|| unsafe { (*p).data() })
}

extern "C" {
    fn ap_rs_scan_schedule(delay_ms: u32);
    fn ap_rs_poll_schedule(delay_us: u32);
    fn ap_rs_works_cancel();
}

/// Schedules (or moves) the bus scan to run after `delay_ms`.
pub fn schedule_scan(delay_ms: u32) {
    // SAFETY: plain C helper around `mod_delayed_work()`.
    unsafe { ap_rs_scan_schedule(delay_ms) }
}

/// Schedules (or moves) the queue poll to run after `delay_us`.
pub fn schedule_poll(delay_us: u32) {
    // SAFETY: plain C helper around `mod_delayed_work()`.
    unsafe { ap_rs_poll_schedule(delay_us) }
}

/// Cancels both works and waits for running ones (module exit).
pub fn cancel_works() {
    // SAFETY: plain C helper around `cancel_delayed_work_sync()`.
    unsafe { ap_rs_works_cancel() }
}

#[no_mangle]
extern "C" fn ap_rs_scan_work() {
    if let Some(b) = bus() {
        b.scan_work();
    }
}

#[no_mangle]
extern "C" fn ap_rs_poll_work() {
    if let Some(b) = bus() {
        b.poll_work();
    }
}

/// # Safety
///
/// `drv` must point to a `struct ap_rs_driver` that stays valid until unregistered; `name` to a
/// static C string.
#[no_mangle]
unsafe extern "C" fn ap_rs_driver_register(
    drv: *mut ApRsDriver,
    owner: *mut bindings::module,
    name: *const c_char,
) -> c_int {
    let Some(b) = bus() else {
        return ENODEV.to_errno();
    };
    if drv.is_null() || name.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: `drv` is valid (caller); its `device_driver` is ours to fill before registration.
    unsafe {
        let d = (*drv).driver.get();
        (*d).owner = owner;
    }
    // SAFETY: `name` is a static C string (caller).
    let name: &'static CStr = unsafe { CStr::from_char_ptr(name) };
    // SAFETY: `drv` is an `ap_rs_driver` about to be registered on the AP bus.
    let r = unsafe { super::ap_driver::DriverRef::from_driver((*drv).driver.get()) };
    match b.register_driver(r, name) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// `drv` must have been registered with `ap_rs_driver_register()`.
#[no_mangle]
unsafe extern "C" fn ap_rs_driver_unregister(drv: *mut ApRsDriver) {
    if let (Some(b), false) = (bus(), drv.is_null()) {
        // SAFETY: registered (caller).
        b.unregister_driver(unsafe {
            super::ap_driver::DriverRef::from_driver((*drv).driver.get())
        });
    }
}

/// # Safety
///
/// The caller holds the attribute mutex `ap_attr_mutex` (and has no [`AttrLocked`]); `apm` and
/// `aqm` point to 32 readable bytes each.
#[no_mangle]
unsafe extern "C" fn ap_rs_matrix_owned_by_default(apm: *const u8, aqm: *const u8) -> bool {
    if apm.is_null() || aqm.is_null() {
        return false;
    }
    let (mut m, mut q) = (Mask::ZERO, Mask::ZERO);
    // SAFETY: 32 readable bytes each (caller).
    unsafe {
        m.0.copy_from_slice(core::slice::from_raw_parts(apm, 32));
        q.0.copy_from_slice(core::slice::from_raw_parts(aqm, 32));
    }
    // SAFETY: the caller holds the mutex (and, in C, has no guard).
    bus().is_some_and(|b| unsafe {
        AttrLocked::assume_held(|held| b.matrix_owned_by_default(held, &m, &q))
    })
}

/// # Safety
///
/// `block` must point to 128 writable bytes.
#[no_mangle]
unsafe extern "C" fn ap_rs_qci(block: *mut u8) -> c_int {
    match bus().and_then(|b| b.qci()) {
        Some(q) if !block.is_null() => {
            // SAFETY: 128 writable bytes (caller).
            unsafe { core::ptr::copy_nonoverlapping(q.0.as_ptr(), block, 128) };
            0
        }
        _ => EOPNOTSUPP.to_errno(),
    }
}

#[no_mangle]
extern "C" fn ap_rs_force_rescan() -> bool {
    bus().is_some_and(|b| b.force_rescan())
}

/// # Safety
///
/// `info` must be null or point to a writable `u64`.
#[no_mangle]
unsafe extern "C" fn ap_rs_tapq(apqn: u16, tbit: c_int, info: *mut u64) -> u32 {
    let Some(b) = bus() else {
        return 0x0001_0000;
    };
    let (st, hw) = b.tapq(apqn, tbit != 0);
    if !info.is_null() {
        // SAFETY: writable (caller).
        unsafe { *info = hw };
    }
    st
}

#[no_mangle]
extern "C" fn ap_rs_zapq(apqn: u16, fbit: c_int) -> u32 {
    bus().map_or(0x0001_0000, |b| b.zapq(apqn, fbit != 0))
}

/// A batched instruction: `issue` on the bus with the `n` APQNs of `apqns` and the `n` status
/// words of `status`; without the bus, every status is `0x00010000` (as the single
/// instructions answer). Nothing for `n == 0` or a null pointer.
///
/// # Safety
///
/// Unless null, `apqns` points to `n` readable `u16` and `status` to `n` writable `u32`, not
/// overlapping.
unsafe fn many(
    apqns: *const u16,
    n: u32,
    status: *mut u32,
    issue: impl FnOnce(&crate::ApBus, &[u16], &mut [u32]),
) {
    let Ok(n) = usize::try_from(n) else {
        return;
    };
    if n == 0 || apqns.is_null() || status.is_null() {
        return;
    }
    // SAFETY: `n` readable `u16` (caller).
    let a = unsafe { core::slice::from_raw_parts(apqns, n) };
    // SAFETY: `n` writable `u32`, not overlapping `apqns` (caller).
    let s = unsafe { core::slice::from_raw_parts_mut(status, n) };
    match bus() {
        Some(b) => issue(b, a, s),
        None => s.fill(0x0001_0000),
    }
}

/// # Safety
///
/// `apqns` must point to `n` readable `u16` and `status` to `n` writable `u32` (or `n` is 0).
#[no_mangle]
unsafe extern "C" fn ap_rs_zapq_many(apqns: *const u16, n: u32, fbit: c_int, status: *mut u32) {
    // SAFETY: as the caller promises.
    unsafe { many(apqns, n, status, |b, a, s| b.zapq_many(a, fbit != 0, s)) }
}

/// # Safety
///
/// `apqns` must point to `n` readable `u16` and `status` to `n` writable `u32` (or `n` is 0).
#[no_mangle]
unsafe extern "C" fn ap_rs_tapq_many(apqns: *const u16, n: u32, tbit: c_int, status: *mut u32) {
    // SAFETY: as the caller promises.
    unsafe { many(apqns, n, status, |b, a, s| b.tapq_many(a, tbit != 0, s)) }
}

#[no_mangle]
extern "C" fn ap_rs_aqic(apqn: u16, ctrl: u64, nib: u64) -> u32 {
    bus().map_or(0x0001_0000, |b| b.aqic(apqn, ctrl, nib))
}
