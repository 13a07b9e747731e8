// SPDX-License-Identifier: GPL-2.0

//! The host's permission masks `apmask`/`aqmask` (under the bus attribute mutex, the C bus's
//! `ap_attr_mutex`): writes with the `in_use` protocol, the reprobe of the queues whose owner
//! changed, and the ownership query of the AP drivers.

use kernel::prelude::*;

use crate::{
    abs::attr_mutex::AttrLocked,
    bus::{
        parse_err,
        ApBus, //
    },
    devices::{
        apqn_of,
        find,
        DevRef, //
    },
    model::{
        ids::Apqn,
        owner::{
            self,
            MaskStore,
            PermMask,
            Perms, //
        },
        text, //
    }, //
};

/// What the bus attribute mutex (the C bus's `ap_attr_mutex`) protects.
pub(crate) struct Attr {
    /// The host's permission masks.
    pub(crate) perms: Perms,
    /// Queue devices with a `driver_override` set (`ap_driver_override_ctr`).
    pub(crate) override_ctr: u32,
    /// `ap_apmask_aqmask_in_use`: a sysfs mask write left a mask not all ones; starts false,
    /// even with `apmask=`/`aqmask=` parameters, as in C.
    pub(crate) masks_in_use: bool,
}

impl ApBus {
    /// `apmask`/`aqmask` writes (`apmask_store`).
    pub(crate) fn store_mask(&self, which: PermMask, input: &[u8]) -> Result {
        let mut held = AttrLocked::lock();
        let attr = self.perms.get_mut(&mut held);
        let overrides = attr.override_ctr > 0;
        let new =
            match owner::mask_store(&attr.perms, which, input, overrides).map_err(parse_err)? {
                MaskStore::Unchanged => return Ok(()),
                MaskStore::Changed { new, in_use } => {
                    if let Some((apm, aqm)) = in_use {
                        for d in self.drivers.lock().iter() {
                            if d.is_default() || !d.try_get_module() {
                                continue;
                            }
                            let busy = d.in_use(&apm, &aqm);
                            d.put_module();
                            if busy {
                                return Err(EBUSY);
                            }
                        }
                    }
                    new
                }
            };
        let old = attr.perms;
        match which {
            PermMask::Apmask => attr.perms.apm = new,
            PermMask::Aqmask => attr.perms.aqm = new,
        }
        attr.masks_in_use = owner::apmask_aqmask_in_use(&attr.perms);
        drop(held);
        self.revise_bindings(&old);
        self.root_uevent(|w| text::write_mask_uevent(w, which, &new));
        Ok(())
    }

    /// Reprobes every queue whose owner class no longer matches (`ap_bus_revise_bindings`);
    /// `old` are the masks before the change.
    pub(crate) fn revise_bindings(&self, old: &Perms) {
        // One pass over the queues under the scan mutex, reading each queue's published
        // binding: only the queues to reprobe are referenced, and none is locked.
        let perms = self.perms_now();
        let todo: KVec<DevRef> = {
            let table = self.scan.lock();
            let mut v = KVec::new();
            for q in table.queues.iter() {
                if q.data().binding().needs_reprobe(&perms, old, apqn_of(q))
                    && v.push(q.clone(), GFP_KERNEL).is_err()
                {
                    break;
                }
            }
            v
        };
        for q in todo.iter() {
            if q.reprobe().is_err() {
                pr_warn!(
                    "reprobing queue {:02x}.{:04x} failed\n",
                    apqn_of(q).apid,
                    apqn_of(q).apqi
                );
            }
        }
    }

    /// For `ap_owned_by_def_drv`: if `q` is a bound queue with a `driver_override`, whether it
    /// is bound to a default driver.
    pub(crate) fn override_owner(&self, q: Apqn) -> Option<bool> {
        let b = {
            let bound = self.bound.lock();
            let i = find(&bound, q.qid()).ok()?;
            bound.get(i)?.data().binding()
        };
        (b.ovr != owner::OverrideMatch::NotSet).then_some(b.bound == Some(true))
    }
}
