// SPDX-License-Identifier: GPL-2.0

//! Platform pieces the AP bus needs from C: its string module parameters, the monotonic clock,
//! in-place zeroed allocation of the simulator, and (on s390) the AP instructions.

use kernel::{
    bindings,
    ffi::{c_char, c_int},
    prelude::*,
};

use crate::model::sim::{Clock, Sim};

extern "C" {
    fn ap_rs_param_domain() -> c_int;
    fn ap_rs_param_apmask() -> *const c_char;
    fn ap_rs_param_aqmask() -> *const c_char;
    fn ap_rs_param_sim() -> *const c_char;
}

/// Converts a `charp` module parameter into bytes; `None` when it was not given.
fn param(p: *const c_char) -> Option<&'static [u8]> {
    if p.is_null() {
        return None;
    }
    // SAFETY: a non-null `charp` parameter points to a NUL-terminated string that stays valid and
    // unchanged while the module is loaded (mode 0444: not writable through sysfs).
    Some(unsafe { CStr::from_char_ptr(p) }.to_bytes())
}

/// The `domain=` module parameter (-1: none).
pub fn param_domain() -> i32 {
    // SAFETY: plain accessor of a module-lifetime static.
    unsafe { ap_rs_param_domain() }
}

/// The `apmask=` module parameter.
pub fn param_apmask() -> Option<&'static [u8]> {
    // SAFETY: plain accessor of a module-lifetime static.
    param(unsafe { ap_rs_param_apmask() })
}

/// The `aqmask=` module parameter.
pub fn param_aqmask() -> Option<&'static [u8]> {
    // SAFETY: plain accessor of a module-lifetime static.
    param(unsafe { ap_rs_param_aqmask() })
}

/// The `sim=` module parameter.
pub fn param_sim() -> Option<&'static [u8]> {
    // SAFETY: plain accessor of a module-lifetime static.
    param(unsafe { ap_rs_param_sim() })
}

/// The monotonic clock, as the simulator's time base: `ktime_get_mono_fast_ns()`, the accessor
/// without a seqcount lock. The simulator reads the clock in every ZAPQ and TAPQ of a queue
/// being reset, and under lockdep `ktime_get()`'s seqcount read is a lock acquisition, which
/// made the simulator's clock a good part of what `make bench` measured for a batch of resets.
/// (The fast accessor may step back by nanoseconds across a timekeeping update; the simulator
/// only compares deadlines it set itself with it, with `>=` and saturating arithmetic.)
#[derive(Clone, Copy, Default)]
pub struct KtimeClock;

impl Clock for KtimeClock {
    fn now_ns(&self) -> u64 {
        // SAFETY: `ktime_get_mono_fast_ns()` may be called from any context (it is NMI safe).
        unsafe { bindings::ktime_get_mono_fast_ns() }
    }
}

// SAFETY: `Sim` documents (and its host tests check) that all-zero bytes are a valid, empty
// machine; `KtimeClock` is a zero-sized type.
unsafe impl Zeroable for Sim<KtimeClock> {}

/// Allocates an empty simulator in place (it is too large for the kernel stack).
pub fn new_sim() -> Result<KVBox<Sim<KtimeClock>>> {
    KVBox::init(pin_init::init_zeroed(), GFP_KERNEL)
}

/// The AP instructions of the machine (s390 only).
#[cfg(CONFIG_S390)]
pub mod hw {
    use crate::model::{
        facility::{ApFacility, SclpError},
        hw::{AqicCtrl, QactInfo, QciInfo, QueueStatus, TapqHwInfo},
        ids::Apqn,
    };
    use kernel::ffi::c_int;

    extern "C" {
        fn ap_rs_hw_available() -> c_int;
        fn ap_rs_hw_qci(block: *mut u8) -> c_int;
        fn ap_rs_hw_tapq(qid: u16, tbit: c_int, info: *mut u64) -> u32;
        fn ap_rs_hw_rapq(qid: u16, fbit: c_int) -> u32;
        fn ap_rs_hw_zapq(qid: u16, fbit: c_int) -> u32;
        fn ap_rs_hw_aqic(qid: u16, ctrl: u64, nib: u64) -> u32;
        fn ap_rs_hw_qact(qid: u16, ifbit: c_int, info: *mut u64) -> u32;
    }

    /// The QCI block as `ap_qci()` wants it: 128 bytes, 8-byte aligned.
    #[repr(C, align(8))]
    struct QciBlock([u8; 128]);

    /// The machine's AP facility.
    ///
    /// # Invariants
    ///
    /// AP instructions are available (checked by [`HwFacility::probe`]).
    pub struct HwFacility(());

    impl HwFacility {
        /// The facility, if this machine has AP instructions.
        pub fn probe() -> Option<Self> {
            // SAFETY: the availability test is guarded by an exception table entry.
            if unsafe { ap_rs_hw_available() } != 0 {
                // INVARIANT: checked just now.
                Some(Self(()))
            } else {
                None
            }
        }
    }

    impl ApFacility for HwFacility {
        fn qci(&mut self) -> Option<QciInfo> {
            let mut b = QciBlock([0; 128]);
            // SAFETY: `b` is a writable, 8-aligned 128-byte block; QCI is exception-guarded.
            let rc = unsafe { ap_rs_hw_qci(b.0.as_mut_ptr()) };
            (rc == 0).then_some(QciInfo(b.0))
        }

        fn tapq(&mut self, q: Apqn, t: bool) -> (QueueStatus, TapqHwInfo) {
            let mut info = 0u64;
            // SAFETY: AP instructions are available (type invariant); `info` is writable.
            let st = unsafe { ap_rs_hw_tapq(q.qid(), c_int::from(t), &mut info) };
            (QueueStatus(st), TapqHwInfo(info))
        }

        fn rapq(&mut self, q: Apqn, f: bool) -> QueueStatus {
            // SAFETY: AP instructions are available (type invariant).
            QueueStatus(unsafe { ap_rs_hw_rapq(q.qid(), c_int::from(f)) })
        }

        fn zapq(&mut self, q: Apqn, f: bool) -> QueueStatus {
            // SAFETY: AP instructions are available (type invariant).
            QueueStatus(unsafe { ap_rs_hw_zapq(q.qid(), c_int::from(f)) })
        }

        fn aqic(&mut self, q: Apqn, ctrl: AqicCtrl, nib: u64) -> QueueStatus {
            // SAFETY: AP instructions are available (type invariant); the caller passes the
            // host-physical address of a pinned notification byte, or 0 to disable.
            QueueStatus(unsafe { ap_rs_hw_aqic(q.qid(), ctrl.0, nib) })
        }

        fn qact(&mut self, q: Apqn, info: QactInfo) -> (QueueStatus, QactInfo) {
            let mut v = info.0;
            // SAFETY: AP instructions are available (type invariant); `v` is writable.
            let st = unsafe { ap_rs_hw_qact(q.qid(), 0, &mut v) };
            (QueueStatus(st), QactInfo(v))
        }

        fn sclp_configure(&mut self, _apid: u8) -> Result<(), SclpError> {
            // The SCLP request interface (`sclp_sync_request`) is not exported to modules and
            // the C `sclp_ap_configure` is only built with the C AP bus: not available here.
            Err(SclpError::NotSupported)
        }

        fn sclp_deconfigure(&mut self, _apid: u8) -> Result<(), SclpError> {
            Err(SclpError::NotSupported)
        }
    }
}
