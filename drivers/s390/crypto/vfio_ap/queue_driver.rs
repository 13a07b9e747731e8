// SPDX-License-Identifier: GPL-2.0

//! vfio_ap's queue driver on the AP bus: probe and remove of the queues the host gives up, the
//! bus's `in_use` question, configuration changes, and the queue files `status` and `holder`.

use kernel::{
    prelude::*,
    sync::Arc, //
};

use crate::{
    abs::{
        ap_driver::{
            ApDevice,
            ApDriver, //
        },
        ap_services,
        bus::ShowBuf,
        device::KIND_QUEUE,
        mdev::Level, //
    },
    matrix_dev::{
        MatrixDev,
        Msg, //
    },
    mdev_state::{
        Mdevs,
        QueueRec, //
    },
    model::{
        aqic::IrqState,
        hw::{
            QciInfo,
            QueueStatus,
            TapqHwInfo, //
        },
        ids::Apqn,
        mask::Mask,
        matrix::{
            self,
            ApMasks, //
        },
        shadow,
        vfio_text, //
    },
    pqap::free_aqic,
    reset::{
        apqn_raw,
        reset_queues, //
    }, //
};

/// The queue driver `vfio_ap` on the AP bus.
pub(crate) struct QueueDriver {
    pub(crate) dev: Arc<MatrixDev>,
}

/// The ids of the queue files: `status` as in C; `holder`, the UUID of the mdev the APQN is
/// assigned to, is ap-rs's answer to "which mdev holds this queue".
pub(crate) const QATTR_STATUS: u32 = 0;

pub(crate) const QATTR_HOLDER: u32 = 1;

crate::driver_attribute_group!(static QUEUE_GROUP for QueueDriver {
    (c"status", 0o444, QATTR_STATUS),
    (c"holder", 0o444, QATTR_HOLDER),
});

pub(crate) fn apqn_of(dev: &ApDevice) -> Apqn {
    let v = dev.apqn();
    Apqn::new((v >> 8) as u8, (v & 0xff) as u8)
}

impl ApDriver for QueueDriver {
    const DEFAULT: bool = false;
    const KINDS: u32 = KIND_QUEUE;
    const TYPES: u32 = u32::MAX;

    fn probe(&self, dev: &ApDevice) -> Result {
        let a = apqn_of(dev);
        dev.add_group(&QUEUE_GROUP)?;
        let d = &self.dev;
        // `get_update_locks_by_apqn`: the mdev the APQN is assigned to can only change under
        // `guests_lock`, which `lock_for` takes again first.
        let owner = {
            let _guests = d.guests.lock();
            let mdevs = d.mdevs.lock();
            matrix::mdev_for_apqn(a, mdevs.others(None))
        };
        let (mut guests, mut mdevs) = d.lock_for(owner);
        let owner = matrix::mdev_for_apqn(a, mdevs.others(None));
        let pending = owner.and_then(|id| mdevs.rec(id).map(|m| m.pending));
        if let Err(e) = mdevs.queues.push(
            QueueRec {
                apqn: a,
                mdev: None,
                reset_status: QueueStatus(0),
                irq: IrqState::NONE,
            },
            GFP_KERNEL,
        ) {
            drop(mdevs);
            dev.remove_group(&QUEUE_GROUP);
            return Err(e.into());
        }
        let Some(id) = owner else {
            return Ok(());
        };
        let one_a = Mask::from_ids(&[a.apid]);
        let one_q = Mask::from_ids(&[a.apqi]);
        mdevs.link(id, &one_a, &one_q);
        if shadow::probe_queue(pending.as_ref()) == shadow::Probe::LinkAndFilter {
            if let Some(i) = mdevs.index_of(id) {
                mdevs.filter(&mut guests, i, false);
            }
        }
        guests.sync_id(&mut mdevs, id);
        Ok(())
    }

    fn remove(&self, dev: &ApDevice) {
        let a = apqn_of(dev);
        dev.remove_group(&QUEUE_GROUP);
        let d = &self.dev;
        let linked = {
            let _guests = d.guests.lock();
            let mdevs = d.mdevs.lock();
            mdevs
                .queues
                .iter()
                .find(|q| q.apqn == a)
                .and_then(|q| q.mdev)
        };
        let (mut guests, mut mdevs) = d.lock_for(linked);
        let Some(qi) = mdevs.queues.iter().position(|q| q.apqn == a) else {
            return;
        };
        let linked = mdevs.queues.get(qi).and_then(|q| q.mdev);
        let info = mdevs.info;
        let linked_i = linked.and_then(|id| mdevs.index_of(id));
        let sh = linked_i.and_then(|i| mdevs.list.get(i)).map(|m| m.shadow);
        match shadow::remove_queue(a, sh.as_ref(), &info) {
            shadow::RemoveQueue::UnplugAdapter {
                shadow: s,
                apid,
                reset_aqm,
            } => {
                if let Some(m) = linked_i.and_then(|i| mdevs.list.get_mut(i)) {
                    m.shadow = s;
                    guests.sync(m);
                }
                let Mdevs { list, queues, .. } = &mut *mdevs;
                let _ = reset_queues(list, queues, |q| {
                    q.mdev == linked && q.apqn.apid == apid && reset_aqm.test(q.apqn.apqi)
                });
            }
            shadow::RemoveQueue::Reset => {
                let Mdevs { list, queues, .. } = &mut *mdevs;
                let _ = reset_queues(list, queues, |q| q.apqn == a);
            }
            shadow::RemoveQueue::FreeAqic => {
                let Mdevs { list, queues, .. } = &mut *mdevs;
                if let Some(q) = queues.get_mut(qi) {
                    free_aqic(list, q);
                }
            }
        }
        let _ = mdevs.queues.remove(qi);
    }

    fn in_use(&self, apm: &Mask, aqm: &Mask) -> bool {
        let d = &self.dev;
        let _guests = d.guests.lock();
        let mdevs = d.mdevs.lock();
        let Some(o) = matrix::in_use_assigned(&mdevs.assigned, apm, aqm, mdevs.others(None)) else {
            return false;
        };
        if let Some(m) = mdevs.rec(o.other) {
            for q in o.apqns() {
                let mut msg = Msg::new();
                let _ = vfio_text::write_in_use_msg(&mut msg, q);
                m.glue.log(Level::Warn, msg.bytes());
            }
        }
        true
    }

    fn on_config_changed(&self, new: &QciInfo, old: &QciInfo) {
        let d = &self.dev;
        let delta = shadow::cfg_delta(new, old);
        d.for_each_mdev(|guests, mdevs, i| {
            if let Some(m) = mdevs.list.get_mut(i) {
                if let Some(s) = shadow::cfg_remove(&m.matrix, &m.shadow, &delta.removed) {
                    m.shadow = s;
                    guests.sync(m);
                }
            }
        });
        let (_guests, mut mdevs) = d.lock_for(None);
        let have_mdevs = !mdevs.list.is_empty();
        let added = shadow::cfg_add(&delta.added, have_mdevs, |q| {
            let (st, hw) = ap_services::tapq(apqn_raw(q), true);
            (QueueStatus(st), TapqHwInfo(hw))
        });
        if let Some(added) = added {
            for m in mdevs.list.iter_mut() {
                m.pending = shadow::pending_add(&m.matrix, &added);
            }
        }
        mdevs.info = *new;
    }

    fn on_scan_complete(&self, _new: &QciInfo, _old: &QciInfo) {
        self.dev.for_each_mdev(|guests, mdevs, i| {
            let info = mdevs.info;
            let Mdevs { list, queues, .. } = mdevs;
            let Some(m) = list.get_mut(i) else {
                return;
            };
            let id = m.id;
            if let Some(f) = shadow::hot_plug_cfg(&m.matrix, &m.shadow, &m.pending, &info, |a| {
                Mdevs::passable(queues, id, a)
            }) {
                m.shadow = f.shadow;
                guests.sync(m);
            }
            m.pending = ApMasks::EMPTY;
        });
    }

    fn attr_show(&self, dev: &ApDevice, id: u32, buf: &mut ShowBuf<'_>) -> Result {
        let a = apqn_of(dev);
        let d = &self.dev;
        let _guests = d.guests.lock();
        let mdevs = d.mdevs.lock();
        let owner = matrix::mdev_for_apqn(a, mdevs.others(None)).and_then(|id| mdevs.rec(id));
        match id {
            QATTR_STATUS => {
                let have = mdevs.queues.iter().any(|q| q.apqn == a);
                let m = owner.map(|m| (m.guest.is_some(), &m.shadow));
                let s = vfio_text::queue_status(have, m, a);
                vfio_text::write_queue_status(buf, s).map_err(|_| EIO)
            }
            QATTR_HOLDER => {
                vfio_text::write_queue_holder(buf, owner.map(|m| m.name())).map_err(|_| EIO)
            }
            _ => Err(EIO),
        }
    }
}
