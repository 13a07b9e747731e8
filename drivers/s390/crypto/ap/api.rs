// SPDX-License-Identifier: GPL-2.0

//! What the bus offers other modules (`include/ap-rs/ap_bus.h`, exported through
//! `abstractions/ap_bus_ffi.rs`): driver registration, the ownership query, the configuration,
//! rescans and AP instructions; and the bodies of the scan and poll works.

use core::sync::atomic::Ordering;
use kernel::prelude::*;

use crate::{
    abs::{
        ap_bus_ffi::ApBusApi,
        ap_driver::DriverRef,
        attr_mutex::AttrLocked, //
    },
    bus::ApBus,
    devices::{
        apqn_of,
        DevRef,
        DevState, //
    },
    model::{
        hw::{
            self,
            QciInfo, //
        },
        ids::Apqn,
        mask::Mask,
        queue_sm::SmEvent,
        scan, //
    }, //
};

impl ApBusApi for ApBus {
    fn register_driver(&self, drv: DriverRef, name: &'static CStr) -> Result {
        self.drivers.lock().push(drv, GFP_KERNEL)?;
        let r = drv.register(self.bus_raw(), name);
        if r.is_err() {
            self.forget_driver(drv);
        }
        self.check_bindings_complete();
        r
    }

    fn unregister_driver(&self, drv: DriverRef) {
        // Off the list first: no callback reaches the driver after this.
        self.forget_driver(drv);
        drv.unregister();
    }

    fn matrix_owned_by_default(&self, held: &AttrLocked, apm: &Mask, aqm: &Mask) -> bool {
        let attr = self.perms.get(held);
        attr.perms
            .matrix_owned_by_default_counted(apm, aqm, attr.override_ctr, |q| {
                self.override_owner(q)
            })
    }

    fn qci(&self) -> Option<QciInfo> {
        self.config.lock().qci
    }

    fn force_rescan(&self) -> bool {
        if !scan::force_rescan_allowed(self.scan_count.load(Ordering::Acquire)) {
            return false;
        }
        self.scan_bus()
    }

    fn tapq(&self, apqn: u16, t: bool) -> (u32, u64) {
        let (st, hw) = self.tapq_q(Apqn::from_qid(apqn), t);
        (st.0, hw.0)
    }

    fn zapq(&self, apqn: u16, f: bool) -> u32 {
        self.facility.lock().get().zapq(Apqn::from_qid(apqn), f).0
    }

    fn zapq_many(&self, apqns: &[u16], f: bool, out: &mut [u32]) {
        let mut fac = self.facility.lock();
        for (&a, o) in apqns.iter().zip(out.iter_mut()) {
            *o = fac.get().zapq(Apqn::from_qid(a), f).0;
        }
    }

    fn tapq_many(&self, apqns: &[u16], t: bool, out: &mut [u32]) {
        let mut fac = self.facility.lock();
        for (&a, o) in apqns.iter().zip(out.iter_mut()) {
            *o = fac.get().tapq(Apqn::from_qid(a), t).0 .0;
        }
    }

    fn aqic(&self, apqn: u16, ctrl: u64, nib: u64) -> u32 {
        self.facility
            .lock()
            .get()
            .aqic(Apqn::from_qid(apqn), hw::AqicCtrl(ctrl), nib)
            .0
    }

    fn scan_work(&self) {
        self.scan_bus();
    }

    fn poll_work(&self) {
        let queues: KVec<DevRef> = {
            let b = self.bound.lock();
            let mut v = KVec::new();
            for q in b.iter() {
                if v.push(q.clone(), GFP_KERNEL).is_err() {
                    break;
                }
            }
            v
        };
        for q in queues.iter() {
            let wait = {
                let mut st = q.data().state.lock();
                let DevState::Queue(s) = &mut *st else {
                    continue;
                };
                if !s.sm.runs() {
                    continue;
                }
                let mut fac = self.facility.lock();
                s.sm.drive_loop(fac.get(), apqn_of(q), 0, SmEvent::Poll)
            };
            self.arm_poll(wait);
        }
    }
}

impl ApBus {
    pub(crate) fn forget_driver(&self, drv: DriverRef) {
        let mut l = self.drivers.lock();
        if let Some(i) = l.iter().position(|d| d.same(&drv)) {
            let _ = l.remove(i);
        }
    }
}
