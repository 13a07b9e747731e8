// SPDX-License-Identifier: GPL-2.0

//! The mdevs and the queues bound to vfio_ap, under `mdevs_lock` ([`Mdevs`]): each mdev's
//! assigned matrix and shadow APCB, linking queues to mdevs, filtering, unplugging, and the PQAP
//! hook.

use kernel::prelude::*;

use crate::{
    abs::{
        kvm::VcpuRef,
        mdev::GlueMdev, //
    },
    guests::{
        GuestKey,
        Guests, //
    },
    model::{
        self,
        aqic::{
            self,
            IrqState, //
        },
        hw::{
            QciInfo,
            QueueStatus, //
        },
        ids::Apqn,
        mask::Mask,
        matrix::{
            self,
            ApMasks,
            Matrix, //
        },
        shadow, //
    },
    pqap::AnyIrqEnv,
    reset::reset_queues, //
};

/// The length of an mdev's name (its UUID).
pub(crate) const NAME_LEN: usize = 36;

/// One mdev (`struct ap_matrix_mdev`).
pub(crate) struct MdevRec {
    /// The id the glue names it by.
    pub(crate) id: u32,
    /// Its device name, the UUID.
    pub(crate) name: [u8; NAME_LEN],
    /// The glue's object (logging, eventfds).
    pub(crate) glue: GlueMdev,
    /// The assigned matrix (written by userspace).
    pub(crate) matrix: Matrix,
    /// The shadow APCB: what the guest gets.
    pub(crate) shadow: Matrix,
    /// Resources added to the host configuration and waiting for the scan to complete.
    pub(crate) pending: ApMasks,
    /// The guest the VFIO device is open for.
    pub(crate) guest: Option<GuestKey>,
}

impl MdevRec {
    pub(crate) fn name(&self) -> &str {
        core::str::from_utf8(&self.name).unwrap_or("?")
    }
}

/// A queue device bound to vfio_ap (`struct vfio_ap_queue`).
pub(crate) struct QueueRec {
    pub(crate) apqn: Apqn,
    /// The mdev it is linked to (in that mdev's `qtable`).
    pub(crate) mdev: Option<u32>,
    /// The status of its last reset (0 for a new queue: passable).
    pub(crate) reset_status: QueueStatus,
    /// Its interruption state (`saved_isc`, `saved_iova`).
    pub(crate) irq: IrqState,
}

/// What `mdevs_lock` protects.
pub(crate) struct Mdevs {
    /// The host configuration vfio_ap works with (`matrix_dev->info`); all zero without QCI.
    pub(crate) info: QciInfo,
    /// The mdevs in creation order (the C `mdev_list` is newest first: iterate in reverse).
    pub(crate) list: KVec<MdevRec>,
    /// The queues bound to vfio_ap.
    pub(crate) queues: KVec<QueueRec>,
    /// The next mdev id.
    pub(crate) next_id: u32,
    /// The APQNs assigned to any mdev (`matrix::assigned_rebuild`, one mask of domains per
    /// adapter id): the bus's `in_use` question looks here first. Rebuilt whenever an assigned
    /// matrix changes or an mdev goes.
    pub(crate) assigned: KVec<Mask>,
    /// The answer to the last simulated PQAP(AQIC) (`/sys/kernel/debug/vfio_ap/pqap`).
    pub(crate) last_pqap: Option<LastPqap>,
}

/// What a guest's PQAP(AQIC) ended with.
#[derive(Clone, Copy)]
pub(crate) enum LastPqap {
    /// KVM or vfio_ap sends the intercept to user space.
    Userspace,
    /// KVM injects this program interruption.
    Program(u16),
    /// GR1 and the condition code the guest gets.
    Done { gr1: u64, cc: u8 },
}

impl Mdevs {
    /// Rebuilds [`Mdevs::assigned`] from the mdevs' matrices.
    pub(crate) fn refresh_assigned(&mut self) {
        matrix::assigned_rebuild(&mut self.assigned, self.list.iter().map(|m| &m.matrix));
    }

    pub(crate) fn index_of(&self, id: u32) -> Option<usize> {
        self.list.iter().position(|m| m.id == id)
    }

    /// `(id, assigned matrix)` of every mdev in the C list order, optionally without one.
    pub(crate) fn others(&self, except: Option<u32>) -> impl Iterator<Item = (u32, &Matrix)> {
        self.list
            .iter()
            .rev()
            .filter(move |m| Some(m.id) != except)
            .map(|m| (m.id, &m.matrix))
    }

    /// The mdev at index `i` (from [`Mdevs::index_of`] under the same lock).
    pub(crate) fn at(&mut self, i: usize) -> Result<&mut MdevRec> {
        self.list.get_mut(i).ok_or(ENODEV)
    }

    pub(crate) fn rec(&self, id: u32) -> Option<&MdevRec> {
        self.list.iter().find(|m| m.id == id)
    }

    /// Links the queues of `apm` x `aqm` that are bound to vfio_ap to mdev `id`.
    pub(crate) fn link(&mut self, id: u32, apm: &Mask, aqm: &Mask) {
        for q in self.queues.iter_mut() {
            if apm.test(q.apqn.apid) && aqm.test(q.apqn.apqi) {
                q.mdev = Some(id);
            }
        }
    }

    /// Unlinks the queues of `apm` x `aqm` linked to mdev `id`.
    pub(crate) fn unlink(&mut self, id: u32, apm: &Mask, aqm: &Mask) {
        for q in self.queues.iter_mut() {
            if q.mdev == Some(id) && apm.test(q.apqn.apid) && aqm.test(q.apqn.apqi) {
                q.mdev = None;
            }
        }
    }

    /// Whether APQN `a` of mdev `id` may pass into its guest (linked, passable reset status).
    pub(crate) fn passable(queues: &[QueueRec], id: u32, a: Apqn) -> bool {
        queues
            .iter()
            .any(|q| q.apqn == a && q.mdev == Some(id) && shadow::passable_status(q.reset_status))
    }

    /// Filters mdev `i`'s shadow from its assigned matrix (`filter_matrix`, and `filter_cdoms`
    /// with `cdoms`) and installs it; if it changed, pushes it to the guest and then resets the
    /// queues of the adapters filtered out (`reset_queues_for_apids`). Whether it changed.
    pub(crate) fn filter(&mut self, guests: &mut Guests, i: usize, cdoms: bool) -> bool {
        let info = self.info;
        let queues = &self.queues;
        let Some(m) = self.list.get_mut(i) else {
            return false;
        };
        let id = m.id;
        let f = if cdoms {
            shadow::refilter(&m.matrix, &m.shadow, &info, |a| {
                Self::passable(queues, id, a)
            })
        } else {
            shadow::filter_matrix(&m.matrix, &m.shadow, &info, |a| {
                Self::passable(queues, id, a)
            })
        };
        m.shadow = f.shadow;
        if f.changed {
            guests.sync(m);
        }
        if !f.apm_filtered.is_empty() {
            let aqm = m.shadow.aqm;
            let _ = reset_queues(&self.list, &mut self.queues, |q| {
                q.mdev == Some(id) && f.apm_filtered.test(q.apqn.apid) && aqm.test(q.apqn.apqi)
            });
        }
        f.changed
    }

    /// Applies an unplug plan to mdev `i`: installs the new shadow (the caller pushes it to the
    /// guest first), resets the queues that were in the guest and unlinks the queues.
    pub(crate) fn unplug(&mut self, guests: &mut Guests, i: usize, u: &shadow::Unplug) {
        let Some(m) = self.list.get_mut(i) else {
            return;
        };
        m.shadow = u.shadow;
        if u.apcb_update {
            guests.sync(m);
        }
        let id = m.id;
        let _ = reset_queues(&self.list, &mut self.queues, |q| {
            q.mdev == Some(id)
                && u.unlink_apm.test(q.apqn.apid)
                && u.unlink_aqm.test(q.apqn.apqi)
                && u.resets(q.apqn)
        });
        self.unlink(id, &u.unlink_apm, &u.unlink_aqm);
    }

    /// vfio_ap's PQAP(AQIC) hook for mdev `id` (`handle_pqap`, under `mdevs_lock`): `None`
    /// sends the instruction to user space, else the status for the guest's GR1. `vcpu` is the
    /// intercepting vCPU of a KVM guest.
    pub(crate) fn pqap_hook(
        &mut self,
        id: u32,
        vcpu: Option<VcpuRef>,
        eca_aiv: bool,
        regs: &aqic::PqapRegs,
    ) -> Option<QueueStatus> {
        let has_guest = self.rec(id).is_some_and(|m| m.guest.is_some());
        let Mdevs { list, queues, .. } = self;
        let linked = |a: Apqn| queues.iter().any(|q| q.apqn == a && q.mdev == Some(id));
        let not_avail = QueueStatus::new(model::hw::rc::Q_NOT_AVAIL);
        match aqic::handle_pqap(eca_aiv, Some(has_guest), linked, regs) {
            aqic::PqapRequest::Userspace => None,
            aqic::PqapRequest::Respond(st) => Some(st),
            aqic::PqapRequest::Enable { apqn, isc, nib } => {
                let Some(q) = queues.iter_mut().find(|q| q.apqn == apqn) else {
                    return Some(not_avail);
                };
                let mut env = AnyIrqEnv::new(list, Some(id), apqn, vcpu);
                Some(aqic::irq_enable(&mut q.irq, isc, nib, &mut env))
            }
            aqic::PqapRequest::Disable { apqn } => {
                let Some(q) = queues.iter_mut().find(|q| q.apqn == apqn) else {
                    return Some(not_avail);
                };
                let mut env = AnyIrqEnv::new(list, Some(id), apqn, vcpu);
                Some(aqic::irq_disable(&mut q.irq, true, has_guest, &mut env).status)
            }
        }
    }

    /// Resets every queue linked to mdev `id` (close, VFIO reset, removal).
    pub(crate) fn reset_linked(&mut self, id: u32) -> Result {
        reset_queues(&self.list, &mut self.queues, |q| q.mdev == Some(id))
    }
}
