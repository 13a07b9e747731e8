// SPDX-License-Identifier: GPL-2.0
//! The shadow APCB of an mdev (`matrix_mdev->shadow_apcb`): what the guest's CRYCB holds, or
//! would hold once a guest is attached, and every decision that changes it (vfio_ap_ops.c,
//! Linux 7.3).
//!
//! # Inputs the glue supplies
//!
//! * `info`: `matrix_dev->info`, the host QCI block vfio_ap keeps (read at module load if the
//!   QCI facility exists, replaced in `on_config_changed`). Without the QCI facility it stays
//!   all zero, and then **nothing** passes the filter (the C behaviour: `info.apm`/`info.aqm`
//!   are empty), while the limits are 63, 15, 15.
//! * `passable`: for an APQN of this mdev, whether its queue is linked in the mdev's `qtable`
//!   (bound to vfio_ap and assigned) **and** its stored `reset_status` has response code 0x00,
//!   0x03 or 0x04 ([`passable_rc`]). The glue keeps the queues; the model only asks.
//!
//! # The project's fix: re-filter after unassign
//!
//! The C driver does not filter after `unassign_adapter`/`unassign_domain`: if adapter 5 is
//! filtered out only because queue (5, d) is not bound to vfio_ap, unassigning domain d leaves
//! adapter 5 out of the guest until some later event filters again (an assign, a probe, an
//! `ap_config` write, a scan completing). ap-rs fixes this: after the C hot unplug steps
//! ([`hot_unplug_adapters`], [`hot_unplug_domains`], [`unassign_control_domain`]) the glue also
//! calls [`refilter`] and, if it reports a change, updates the guest's APCB and resets the
//! queues of [`Filtered::apm_filtered`]. [`filter_matrix`] and [`filter_cdoms`] compute the new
//! shadow from the assigned matrix, `info` and `passable` alone (the previous shadow only
//! decides `changed` and `apm_filtered`), so [`refilter`] gives the same shadow whatever
//! happened before: after the fix the shadow is always the pure filter of the current state
//! once a store returns (except while a host configuration change is pending, see
//! [`probe_queue`]).

use super::hw::{rc, QciInfo, QueueStatus, TapqHwInfo, AP_DEVICE_TYPE_CEX4};
use super::ids::{Apqn, IdLimits};
use super::mask::Mask;
use super::matrix::{apqns, ApMasks, Apqns, Matrix};

/// `_queue_passable` on a linked queue: its last reset status has response code 0x00
/// (normal), 0x03 (deconfigured) or 0x04 (checkstopped). A new queue's status is 0.
pub const fn passable_rc(code: u8) -> bool {
    matches!(code, rc::NORMAL | rc::DECONFIGURED | rc::CHECKSTOPPED)
}

/// [`passable_rc`] of a stored reset status.
pub const fn passable_status(reset_status: QueueStatus) -> bool {
    passable_rc(reset_status.response_code())
}

/// The result of a filter run.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Filtered {
    /// The new shadow APCB.
    pub shadow: Matrix,
    /// Whether it differs from the previous one (the glue then updates the guest's APCB and
    /// resets the queues of `apm_filtered`).
    pub changed: bool,
    /// The adapters that were in the previous shadow and are filtered out now. Their queues in
    /// the (new) shadow's domains are reset (`reset_queues_for_apids`): the linked queues of
    /// `apm_filtered` x `shadow.aqm`.
    pub apm_filtered: Mask,
}

/// `vfio_ap_mdev_filter_matrix`: `apm = assigned.apm & info.apm`, `aqm = assigned.aqm &
/// info.aqm`; then every adapter with an APQN in `apm` x `aqm` that is not `passable` is
/// dropped (a single APQN cannot be filtered, and domains are never filtered for it). The
/// limits are recomputed from `info` (`vfio_ap_matrix_init`); `adm` is kept from `prev`.
/// If `aqm` ends up empty no adapter is filtered, and the reverse.
///
/// `changed` compares `apm` and `aqm` with `prev` (limits and `adm` do not count).
/// `passable` is asked in the C order (APID outer, APQI inner, stopping at an adapter's first
/// failing APQN).
pub fn filter_matrix(
    assigned: &Matrix,
    prev: &Matrix,
    info: &QciInfo,
    mut passable: impl FnMut(Apqn) -> bool,
) -> Filtered {
    let mut s = Matrix::empty(IdLimits::matrix_from_qci(Some(info)));
    s.adm = prev.adm;
    s.apm = assigned.apm.and(&info.apm());
    s.aqm = assigned.aqm.and(&info.aqm());
    let mut apm_filtered = Mask::ZERO;
    let candidates = s.apm;
    for apid in candidates.iter() {
        if s.aqm.iter().any(|apqi| !passable(Apqn::new(apid, apqi))) {
            s.apm.clear(apid);
            if prev.apm.test(apid) {
                apm_filtered.set(apid);
            }
        }
    }
    Filtered {
        changed: s.apm != prev.apm || s.aqm != prev.aqm,
        shadow: s,
        apm_filtered,
    }
}

/// `vfio_ap_mdev_filter_cdoms`: `adm = assigned.adm & info.adm` (control domains are never
/// filtered for unbound queues); everything else of `prev` is kept. Returns the new shadow
/// and whether `adm` changed.
pub fn filter_cdoms(assigned: &Matrix, prev: &Matrix, info: &QciInfo) -> (Matrix, bool) {
    let mut s = *prev;
    s.adm = assigned.adm.and(&info.adm());
    (s, s.adm != prev.adm)
}

/// [`filter_matrix`] followed by [`filter_cdoms`], as `ap_config_store` does; `changed` if
/// either changed. The resulting shadow depends only on `assigned`, `info` and `passable`.
/// This is also the re-filter the glue runs after an unassign (the project's fix, see the
/// module documentation).
pub fn refilter(
    assigned: &Matrix,
    prev: &Matrix,
    info: &QciInfo,
    passable: impl FnMut(Apqn) -> bool,
) -> Filtered {
    let f = filter_matrix(assigned, prev, info, passable);
    let (shadow, cd) = filter_cdoms(assigned, &f.shadow, info);
    Filtered {
        shadow,
        changed: f.changed || cd,
        apm_filtered: f.apm_filtered,
    }
}

/// What a hot unplug of adapters or domains does (`vfio_ap_mdev_hot_unplug_adapters`,
/// `vfio_ap_mdev_hot_unplug_domains`), in this order:
///
/// 1. every queue **linked** in the mdev's `qtable` within `unlink_apm` x `unlink_aqm` is
///    unlinked from the `qtable`; those of them in `reset_apm` x `reset_aqm` (see
///    [`Unplug::resets`]) go on the reset list;
/// 2. the shadow becomes [`Unplug::shadow`]; if `apcb_update`, the guest's APCB is updated
///    (before the resets);
/// 3. the listed queues are reset and waited for (`vfio_ap_mdev_reset_qlist`), and then their
///    link to the mdev (`q->matrix_mdev`) is cleared.
///
/// C leaves `q->matrix_mdev` set for the unlinked queues that were not reset (they were not in
/// the shadow); the glue should clear the link of every unlinked queue.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Unplug {
    /// The new shadow APCB.
    pub shadow: Matrix,
    /// Whether the shadow changed and the guest's APCB must be updated.
    pub apcb_update: bool,
    /// Adapters of the queues to unlink.
    pub unlink_apm: Mask,
    /// Domains of the queues to unlink.
    pub unlink_aqm: Mask,
    /// Adapters of the unlinked queues to reset.
    pub reset_apm: Mask,
    /// Domains of the unlinked queues to reset.
    pub reset_aqm: Mask,
}

impl Unplug {
    /// The APQNs whose linked queues are unlinked, in the C order.
    pub fn unlink_apqns(&self) -> Apqns {
        apqns(&self.unlink_apm, &self.unlink_aqm)
    }

    /// Whether an unlinked queue goes on the reset list.
    pub fn resets(&self, q: Apqn) -> bool {
        self.reset_apm.test(q.apid) && self.reset_aqm.test(q.apqi)
    }
}

/// `vfio_ap_mdev_hot_unplug_adapters(apids)`, with `assigned_aqm` the mdev's assigned domains
/// at that moment (`unassign_adapter_store` has already cleared the adapter from the assigned
/// APM; `ap_config_store` runs this with the old matrix still installed).
///
/// Unlinks `apids` x `assigned_aqm`; resets those in the shadow (`apid` in `shadow.apm` and
/// `apqi` in `shadow.aqm`); clears `apids` from `shadow.apm`.
pub fn hot_unplug_adapters(assigned_aqm: &Mask, shadow: &Matrix, apids: &Mask) -> Unplug {
    let mut s = *shadow;
    let in_shadow = apids.and(&shadow.apm);
    s.apm = shadow.apm.and_not(apids);
    Unplug {
        shadow: s,
        apcb_update: !in_shadow.is_empty(),
        unlink_apm: *apids,
        unlink_aqm: *assigned_aqm,
        reset_apm: in_shadow,
        reset_aqm: assigned_aqm.and(&shadow.aqm),
    }
}

/// `vfio_ap_mdev_hot_unplug_domains(apqis)`, the mirror image of [`hot_unplug_adapters`] with
/// `assigned_apm` the mdev's assigned adapters at that moment.
pub fn hot_unplug_domains(assigned_apm: &Mask, shadow: &Matrix, apqis: &Mask) -> Unplug {
    let mut s = *shadow;
    let in_shadow = apqis.and(&shadow.aqm);
    s.aqm = shadow.aqm.and_not(apqis);
    Unplug {
        shadow: s,
        apcb_update: !in_shadow.is_empty(),
        unlink_apm: *assigned_apm,
        unlink_aqm: *apqis,
        reset_apm: assigned_apm.and(&shadow.apm),
        reset_aqm: in_shadow,
    }
}

/// The unplug of an `ap_config` write, for one update of the guest's APCB (the project's
/// change). `ap_config_store` runs [`hot_unplug_adapters`] for the removed adapters, then
/// [`hot_unplug_domains`] for the removed domains (the old matrix still installed), each
/// updating the guest's APCB and resetting its queues, then links the added queues and
/// filters, updating the APCB a third time: one write that removes adapters and domains and
/// adds others commits up to three times. The glue instead
///
/// 1. computes this plan from the old assigned matrix, the shadow and the removed ids;
/// 2. installs the new matrix and links the added queues (`ApConfigChange::link_sets`);
/// 3. runs [`refilter`] on the new matrix with `prev` = [`ConfigUnplug::shadow`]; the
///    unplugged queues are outside the new matrix (their adapter or their domain is gone), so
///    that they are still linked and not yet reset changes nothing the filter asks;
/// 4. installs the filtered shadow and updates the guest's APCB once, if the guest's view
///    differs;
/// 5. resets, in one batch, the linked queues of [`ConfigUnplug::resets`] and those of
///    [`Filtered::apm_filtered`] x the new shadow's domains, then unlinks the linked queues of
///    [`ConfigUnplug::unlinks`].
///
/// As in C, no queue is reset while the guest can reach it: each one left the shadow in
/// step 4. The shadow and the links end as the C steps leave them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ConfigUnplug {
    /// The shadow without the removed adapters and domains.
    pub shadow: Matrix,
    /// The C driver's first step (removed adapters).
    pub adapters: Unplug,
    /// The C driver's second step (removed domains, after the first).
    pub domains: Unplug,
}

impl ConfigUnplug {
    /// Whether the queue of `q` is unlinked from the mdev (one of the two steps unlinks it).
    pub fn unlinks(&self, q: Apqn) -> bool {
        let hit = |u: &Unplug| u.unlink_apm.test(q.apid) && u.unlink_aqm.test(q.apqi);
        hit(&self.adapters) || hit(&self.domains)
    }

    /// Whether the queue of `q`, if linked, is reset (one of the two steps resets it).
    pub fn resets(&self, q: Apqn) -> bool {
        let hit =
            |u: &Unplug| u.unlink_apm.test(q.apid) && u.unlink_aqm.test(q.apqi) && u.resets(q);
        hit(&self.adapters) || hit(&self.domains)
    }
}

/// The plan of an `ap_config` write's unplug (see [`ConfigUnplug`]): `assigned` is the old
/// assigned matrix, `removed` what the write removes (`ApConfigChange::removed`).
pub fn ap_config_unplug(assigned: &Matrix, shadow: &Matrix, removed: &ApMasks) -> ConfigUnplug {
    let adapters = hot_unplug_adapters(&assigned.aqm, shadow, &removed.apm);
    let domains = hot_unplug_domains(&assigned.apm, &adapters.shadow, &removed.aqm);
    ConfigUnplug {
        shadow: domains.shadow,
        adapters,
        domains,
    }
}

/// `unassign_control_domain_store` after the assigned bit is cleared: if `id` is in the
/// shadow's ADM it is cleared there and the guest's APCB is updated (returned `true`).
pub fn unassign_control_domain(shadow: &Matrix, id: u8) -> (Matrix, bool) {
    let mut s = *shadow;
    let was = s.adm.test(id);
    s.adm.clear(id);
    (s, was)
}

/// What `vfio_ap_mdev_probe_queue` does after allocating the queue.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Probe {
    /// No mdev's assigned matrix contains the APQN: the queue stays unlinked.
    NotAssigned,
    /// Link the queue to the mdev and stop: a host configuration change is being handled and
    /// the mdev has added adapters or domains pending; `on_scan_complete` filters
    /// ([`hot_plug_cfg`]).
    LinkDeferred,
    /// Link the queue, then [`filter_matrix`]; if it changed, update the guest's APCB and
    /// reset the filtered adapters' queues.
    LinkAndFilter,
}

/// `vfio_ap_mdev_probe_queue`: `pending` is the `apm_add`/`aqm_add`/`adm_add` of the mdev whose
/// assigned matrix contains the queue (the first in list order, [`super::matrix::mdev_for_apqn`]),
/// or `None` if there is none. Only pending adapters or domains defer the filter; pending
/// control domains alone do not. The new queue's reset status is 0, so it is passable.
pub fn probe_queue(pending: Option<&ApMasks>) -> Probe {
    match pending {
        None => Probe::NotAssigned,
        Some(p) if !p.apm.is_empty() || !p.aqm.is_empty() => Probe::LinkDeferred,
        Some(_) => Probe::LinkAndFilter,
    }
}

/// What `vfio_ap_mdev_remove_queue` does before it unlinks the queue from its mdev (if it is
/// linked) and frees it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum RemoveQueue {
    /// The queue is in its mdev's shadow: the whole adapter leaves the guest. Install
    /// `shadow`, update the guest's APCB, and reset (and wait for) the linked queues of
    /// `apid` x `reset_aqm` (`reset_queues_for_apid`; the queue itself is among them).
    UnplugAdapter {
        /// The new shadow (`apid` cleared from its APM).
        shadow: Matrix,
        /// The adapter.
        apid: u8,
        /// The shadow's domains.
        reset_aqm: Mask,
    },
    /// The queue is in the host configuration (`info`): reset it and wait.
    Reset,
    /// The queue is not in the host configuration (a reset would answer 0x01): only free its
    /// AQIC resources.
    FreeAqic,
}

/// `vfio_ap_mdev_remove_queue`: `linked_shadow` is the shadow of the mdev the queue is linked
/// to (`q->matrix_mdev`), if any. Without the QCI facility `info` is all zero, so an
/// unassigned queue is never reset here (the AP bus zeroizes it afterwards anyway).
pub fn remove_queue(q: Apqn, linked_shadow: Option<&Matrix>, info: &QciInfo) -> RemoveQueue {
    if let Some(sh) = linked_shadow {
        if sh.contains(q) {
            let mut s = *sh;
            s.apm.clear(q.apid);
            return RemoveQueue::UnplugAdapter {
                shadow: s,
                apid: q.apid,
                reset_aqm: sh.aqm,
            };
        }
    }
    if info.apm().test(q.apid) && info.aqm().test(q.apqi) {
        RemoveQueue::Reset
    } else {
        RemoveQueue::FreeAqic
    }
}

/// The resources removed from and added to the host configuration between two QCI blocks.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct CfgDelta {
    /// `prev & !cur`.
    pub removed: ApMasks,
    /// `cur & !prev`.
    pub added: ApMasks,
}

/// The masks `vfio_ap_on_cfg_changed` works with.
pub fn cfg_delta(cur: &QciInfo, prev: &QciInfo) -> CfgDelta {
    let (c, p) = (cur, prev);
    CfgDelta {
        removed: ApMasks {
            apm: p.apm().and_not(&c.apm()),
            aqm: p.aqm().and_not(&c.aqm()),
            adm: p.adm().and_not(&c.adm()),
        },
        added: ApMasks {
            apm: c.apm().and_not(&p.apm()),
            aqm: c.aqm().and_not(&p.aqm()),
            adm: c.adm().and_not(&p.adm()),
        },
    }
}

/// The removal half of `vfio_ap_on_cfg_changed` for one mdev (`vfio_ap_mdev_cfg_remove` and
/// `vfio_ap_mdev_hot_unplug_cfg`; runs while `info` is still the previous block): the removed
/// resources that are assigned are cleared from the shadow. `Some(shadow)`: install it and
/// update the guest's APCB; there are no resets (the resources are gone).
pub fn cfg_remove(assigned: &Matrix, shadow: &Matrix, removed: &ApMasks) -> Option<Matrix> {
    let aprem = removed.apm.and(&assigned.apm);
    let aqrem = removed.aqm.and(&assigned.aqm);
    let cdrem = removed.adm.and(&assigned.adm);
    if aprem.is_empty() && aqrem.is_empty() && cdrem.is_empty() {
        return None;
    }
    let mut s = *shadow;
    let mut hotplug = false;
    if s.apm.intersects(&aprem) {
        s.apm = s.apm.and_not(&aprem);
        hotplug = true;
    }
    if s.aqm.intersects(&aqrem) {
        s.aqm = s.aqm.and_not(&aqrem);
        hotplug = true;
    }
    if s.adm.intersects(&cdrem) {
        s.adm = s.adm.and_not(&cdrem);
        hotplug = true;
    }
    hotplug.then_some(s)
}

/// `vfio_ap_filter_apid_by_qtype`: the adapters of `apm` that stay, asking `tapq(apqn)` (TAPQ
/// with the T bit: status and GR2) for every APQN of `apm` x `aqm` in the C order. An adapter
/// is dropped if any answer has response code 0x00, 0x02, 0x03, 0x04 or 0x05 with a raw type
/// below CEX4 (10), or any other response code. As in C the remaining domains of a dropped
/// adapter are still asked (the C `continue` only continues the inner loop). With `aqm` empty
/// nothing is asked and nothing dropped.
pub fn filter_apid_by_qtype(
    apm: &Mask,
    aqm: &Mask,
    mut tapq: impl FnMut(Apqn) -> (QueueStatus, TapqHwInfo),
) -> Mask {
    let mut out = *apm;
    for apid in apm.iter() {
        for apqi in aqm.iter() {
            let (st, info) = tapq(Apqn::new(apid, apqi));
            let keep = match st.response_code() {
                rc::NORMAL
                | rc::RESET_IN_PROGRESS
                | rc::DECONFIGURED
                | rc::CHECKSTOPPED
                | rc::BUSY => info.at() >= AP_DEVICE_TYPE_CEX4,
                _ => false,
            };
            if !keep {
                out.clear(apid);
            }
        }
    }
    out
}

/// The addition half of `vfio_ap_on_cfg_changed` (`vfio_ap_mdev_on_cfg_add`,
/// `vfio_ap_mdev_cfg_add`): `None` if nothing was added or there is no mdev (then no TAPQ is
/// issued and every mdev's pending adds stay as they are). Otherwise the added resources with
/// the added adapters filtered by type ([`filter_apid_by_qtype`] over the added domains);
/// each mdev's pending adds become [`pending_add`] of them. Afterwards the glue stores `cur` as
/// its `info`.
pub fn cfg_add(
    added: &ApMasks,
    have_mdevs: bool,
    tapq: impl FnMut(Apqn) -> (QueueStatus, TapqHwInfo),
) -> Option<ApMasks> {
    if added.is_empty() || !have_mdevs {
        return None;
    }
    Some(ApMasks {
        apm: filter_apid_by_qtype(&added.apm, &added.aqm, tapq),
        aqm: added.aqm,
        adm: added.adm,
    })
}

/// An mdev's `apm_add`, `aqm_add`, `adm_add`: its assigned part of the added resources.
pub fn pending_add(assigned: &Matrix, added: &ApMasks) -> ApMasks {
    ApMasks {
        apm: assigned.apm.and(&added.apm),
        aqm: assigned.aqm.and(&added.aqm),
        adm: assigned.adm.and(&added.adm),
    }
}

/// `vfio_ap_mdev_hot_plug_cfg` as `vfio_ap_on_scan_complete` runs it for one mdev: `None` if
/// `pending` is empty (nothing happens). Otherwise [`filter_matrix`] if pending adapters or
/// domains are (still) assigned, [`filter_cdoms`] if pending control domains are; the glue
/// installs the shadow, updates the guest's APCB if `changed`, resets the queues of
/// `apm_filtered` (empty if `filter_matrix` did not run), and clears the mdev's pending adds.
pub fn hot_plug_cfg(
    assigned: &Matrix,
    prev: &Matrix,
    pending: &ApMasks,
    info: &QciInfo,
    passable: impl FnMut(Apqn) -> bool,
) -> Option<Filtered> {
    if pending.is_empty() {
        return None;
    }
    let adapters = assigned.apm.intersects(&pending.apm);
    let domains = assigned.aqm.intersects(&pending.aqm);
    let cdoms = assigned.adm.intersects(&pending.adm);
    let mut f = if adapters || domains {
        filter_matrix(assigned, prev, info, passable)
    } else {
        Filtered {
            shadow: *prev,
            changed: false,
            apm_filtered: Mask::ZERO,
        }
    };
    if cdoms {
        let (s, c) = filter_cdoms(assigned, &f.shadow, info);
        f.shadow = s;
        f.changed |= c;
    }
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::super::hw::{QCI_APSC, QCI_APXA};
    use super::super::ids::MatrixLimits;
    use super::*;
    use std::vec::Vec;

    fn ids(v: &[u8]) -> Mask {
        Mask::from_ids(v)
    }

    fn qci(apm: &[u8], aqm: &[u8], adm: &[u8]) -> QciInfo {
        let mut q = QciInfo::EMPTY;
        q.set_flags(QCI_APSC | QCI_APXA);
        q.set_na(255);
        q.set_nd(255);
        q.set_apm(&ids(apm));
        q.set_aqm(&ids(aqm));
        q.set_adm(&ids(adm));
        q
    }

    fn mx(apm: &[u8], aqm: &[u8], adm: &[u8]) -> Matrix {
        Matrix {
            apm: ids(apm),
            aqm: ids(aqm),
            adm: ids(adm),
            limits: MatrixLimits {
                apm_max: 255,
                aqm_max: 255,
                adm_max: 255,
            },
        }
    }

    fn all(_: Apqn) -> bool {
        true
    }

    #[test]
    fn passable_codes() {
        let ok: Vec<u8> = (0..=255u8).filter(|&c| passable_rc(c)).collect();
        assert_eq!(ok, [0, 3, 4]);
        assert!(passable_status(QueueStatus::new(3).with_irq(true)));
        assert!(!passable_status(QueueStatus::new(2)));
    }

    #[test]
    fn filter_intersects_with_qci() {
        let a = mx(&[1, 2, 3], &[4, 5], &[6]);
        let info = qci(&[2, 3, 9], &[5, 7], &[6]);
        let prev = Matrix::new(&QciInfo::EMPTY);
        let f = filter_matrix(&a, &prev, &info, all);
        assert_eq!(f.shadow.apm, ids(&[2, 3]));
        assert_eq!(f.shadow.aqm, ids(&[5]));
        // filter_matrix leaves adm alone.
        assert_eq!(f.shadow.adm, Mask::ZERO);
        assert_eq!(f.shadow.limits, IdLimits::matrix_from_qci(Some(&info)));
        assert!(f.changed);
        assert!(f.apm_filtered.is_empty());
        let f2 = filter_matrix(&a, &f.shadow, &info, all);
        assert!(!f2.changed);
        assert_eq!(f2.shadow, f.shadow);
    }

    #[test]
    fn filter_whole_adapter_and_apm_filtered() {
        let a = mx(&[1, 2, 3], &[4, 5], &[]);
        let info = qci(&[1, 2, 3], &[4, 5], &[]);
        let prev = mx(&[1, 2], &[4, 5], &[]);
        let mut asked = Vec::new();
        let f = filter_matrix(&a, &prev, &info, |q| {
            asked.push(q);
            !(q == Apqn::new(2, 4) || q == Apqn::new(3, 5))
        });
        assert_eq!(f.shadow.apm, ids(&[1]));
        assert_eq!(f.shadow.aqm, ids(&[4, 5]));
        // 2 was in the previous shadow, 3 was not.
        assert_eq!(f.apm_filtered, ids(&[2]));
        assert!(f.changed);
        // C order, stopping at an adapter's first failure.
        assert_eq!(
            asked,
            [
                Apqn::new(1, 4),
                Apqn::new(1, 5),
                Apqn::new(2, 4),
                Apqn::new(3, 4),
                Apqn::new(3, 5)
            ]
        );
    }

    #[test]
    fn filter_empty_half_filters_nothing() {
        let a = mx(&[1, 2], &[], &[]);
        let info = qci(&[1, 2], &[0], &[]);
        let f = filter_matrix(&a, &Matrix::new(&info), &info, |_| false);
        assert_eq!(f.shadow.apm, ids(&[1, 2]));
        let a = mx(&[], &[0, 1], &[]);
        let info = qci(&[], &[0, 1], &[]);
        let f = filter_matrix(&a, &Matrix::new(&info), &info, |_| false);
        assert_eq!(f.shadow.aqm, ids(&[0, 1]));
        // A domain missing from QCI is dropped, not filtered against queues.
        let a = mx(&[1], &[0, 1], &[]);
        let info = qci(&[1], &[0], &[]);
        let f = filter_matrix(&a, &Matrix::new(&info), &info, |q| q.apqi == 0);
        assert_eq!((f.shadow.apm, f.shadow.aqm), (ids(&[1]), ids(&[0])));
    }

    #[test]
    fn no_qci_means_empty_shadow() {
        let a = mx(&[1], &[1], &[1]);
        let f = refilter(&a, &Matrix::new(&QciInfo::EMPTY), &QciInfo::EMPTY, all);
        assert!(f.shadow.apm.is_empty() && f.shadow.aqm.is_empty() && f.shadow.adm.is_empty());
        assert!(!f.changed);
        assert_eq!(f.shadow.limits.apm_max, 63);
    }

    #[test]
    fn cdoms() {
        let a = mx(&[], &[], &[1, 2, 3]);
        let info = qci(&[], &[], &[2, 3, 4]);
        let prev = mx(&[7], &[7], &[1]);
        let (s, c) = filter_cdoms(&a, &prev, &info);
        assert_eq!(s.adm, ids(&[2, 3]));
        assert_eq!((s.apm, s.aqm), (prev.apm, prev.aqm));
        assert!(c);
        let (_, c) = filter_cdoms(&a, &s, &info);
        assert!(!c);
    }

    #[test]
    fn refilter_is_pure() {
        let a = mx(&[1, 2], &[4, 5], &[6]);
        let info = qci(&[1, 2], &[4, 5], &[6]);
        let pass = |q: Apqn| q != Apqn::new(2, 5);
        let p1 = refilter(&a, &Matrix::new(&info), &info, pass);
        let junk = mx(&[0, 1, 2, 3, 200], &[9], &[0, 6]);
        let p2 = refilter(&a, &junk, &info, pass);
        assert_eq!(p1.shadow, p2.shadow);
        assert_eq!(p1.shadow.apm, ids(&[1]));
        assert_eq!(p1.shadow.adm, ids(&[6]));
        assert_eq!(p2.apm_filtered, ids(&[2]));
        assert!(p1.apm_filtered.is_empty());
    }

    /// The deficiency the project fixes: C keeps adapter 5 out after domain d is unassigned.
    #[test]
    fn unassign_then_refilter_plugs_adapter_back() {
        let info = qci(&[5, 6], &[1, 2], &[]);
        let mut assigned = mx(&[5, 6], &[1, 2], &[]);
        // (5, 2) is not bound to vfio_ap.
        let pass = |q: Apqn| q != Apqn::new(5, 2);
        let f = filter_matrix(&assigned, &Matrix::new(&info), &info, pass);
        assert_eq!(f.shadow.apm, ids(&[6]));
        // Unassign domain 2.
        assigned.aqm.clear(2);
        let u = hot_unplug_domains(&assigned.apm, &f.shadow, &ids(&[2]));
        assert_eq!(u.shadow.apm, ids(&[6]));
        assert_eq!(u.shadow.aqm, ids(&[1]));
        assert!(u.apcb_update);
        // C stops here: adapter 5 is still out.
        let r = refilter(&assigned, &u.shadow, &info, pass);
        assert!(r.changed);
        assert_eq!(r.shadow.apm, ids(&[5, 6]));
        assert!(r.apm_filtered.is_empty());
    }

    #[test]
    fn hot_unplug_adapter_sets() {
        let shadow = mx(&[1, 2], &[4, 5], &[]);
        // Adapter 2 unassigned; assigned domains {4, 5, 6} (6 not in the shadow).
        let u = hot_unplug_adapters(&ids(&[4, 5, 6]), &shadow, &ids(&[2]));
        assert!(u.apcb_update);
        assert_eq!(u.shadow.apm, ids(&[1]));
        assert_eq!(u.shadow.aqm, shadow.aqm);
        let unl: Vec<Apqn> = u.unlink_apqns().collect();
        assert_eq!(unl, [Apqn::new(2, 4), Apqn::new(2, 5), Apqn::new(2, 6)]);
        assert!(u.resets(Apqn::new(2, 4)) && u.resets(Apqn::new(2, 5)));
        assert!(!u.resets(Apqn::new(2, 6)));
        // An adapter that was filtered out: unlinked, nothing reset, no APCB update.
        let u = hot_unplug_adapters(&ids(&[4, 5]), &shadow, &ids(&[3]));
        assert!(!u.apcb_update);
        assert!(u.reset_apm.is_empty());
        assert_eq!(u.shadow, shadow);
        assert_eq!(u.unlink_apqns().count(), 2);
    }

    #[test]
    fn hot_unplug_domain_sets() {
        let shadow = mx(&[1, 2], &[4, 5], &[]);
        let u = hot_unplug_domains(&ids(&[1, 2, 3]), &shadow, &ids(&[5, 7]));
        assert!(u.apcb_update);
        assert_eq!(u.shadow.aqm, ids(&[4]));
        assert_eq!(u.unlink_apqns().count(), 6);
        assert!(u.resets(Apqn::new(1, 5)) && u.resets(Apqn::new(2, 5)));
        assert!(!u.resets(Apqn::new(3, 5)) && !u.resets(Apqn::new(1, 7)));
        let u = hot_unplug_domains(&ids(&[1, 2]), &shadow, &ids(&[9]));
        assert!(!u.apcb_update && u.reset_aqm.is_empty());
    }

    #[test]
    fn ap_config_unplug_in_one_step() {
        let assigned = mx(&[1, 2, 3], &[4, 5, 6], &[]);
        // Adapter 3 and domain 6 were filtered out of the shadow.
        let shadow = mx(&[1, 2], &[4, 5], &[]);
        let removed = ApMasks {
            apm: ids(&[2, 3]),
            aqm: ids(&[5]),
            adm: Mask::ZERO,
        };
        let p = ap_config_unplug(&assigned, &shadow, &removed);
        // The same as the C steps one after the other.
        let a = hot_unplug_adapters(&assigned.aqm, &shadow, &removed.apm);
        let d = hot_unplug_domains(&assigned.apm, &a.shadow, &removed.aqm);
        assert_eq!((p.adapters, p.domains, p.shadow), (a, d, d.shadow));
        assert_eq!(p.shadow, mx(&[1], &[4], &[]));
        let all: Vec<Apqn> = apqns(&ids(&[1, 2, 3, 4]), &ids(&[4, 5, 6, 7])).collect();
        let unlinked: Vec<Apqn> = all.iter().copied().filter(|&q| p.unlinks(q)).collect();
        let q = Apqn::new;
        assert_eq!(
            unlinked,
            [
                q(1, 5),
                q(2, 4),
                q(2, 5),
                q(2, 6),
                q(3, 4),
                q(3, 5),
                q(3, 6)
            ]
        );
        // Reset: what was in the guest and is unlinked; adapter 3 and domain 6 were not.
        let reset: Vec<Apqn> = all.iter().copied().filter(|&q| p.resets(q)).collect();
        assert_eq!(reset, [q(1, 5), q(2, 4), q(2, 5)]);
        // Nothing reset stays in the shadow.
        assert!(reset.iter().all(|&r| !p.shadow.contains(r)));
        // Nothing removed: nothing unlinked or reset, the shadow as it was.
        let p = ap_config_unplug(&assigned, &shadow, &ApMasks::EMPTY);
        assert_eq!(p.shadow, shadow);
        assert!(all.iter().all(|&q| !p.unlinks(q) && !p.resets(q)));
    }

    #[test]
    fn unassign_cdom() {
        let s = mx(&[], &[], &[1, 2]);
        let (n, upd) = unassign_control_domain(&s, 2);
        assert!(upd);
        assert_eq!(n.adm, ids(&[1]));
        let (n2, upd) = unassign_control_domain(&n, 2);
        assert!(!upd);
        assert_eq!(n2, n);
    }

    #[test]
    fn probe_decisions() {
        assert_eq!(probe_queue(None), Probe::NotAssigned);
        assert_eq!(probe_queue(Some(&ApMasks::EMPTY)), Probe::LinkAndFilter);
        let mut p = ApMasks::EMPTY;
        p.adm.set(1);
        assert_eq!(probe_queue(Some(&p)), Probe::LinkAndFilter);
        p.aqm.set(1);
        assert_eq!(probe_queue(Some(&p)), Probe::LinkDeferred);
        let mut p = ApMasks::EMPTY;
        p.apm.set(1);
        assert_eq!(probe_queue(Some(&p)), Probe::LinkDeferred);
    }

    #[test]
    fn remove_decisions() {
        let info = qci(&[1, 2], &[4, 5], &[]);
        let shadow = mx(&[1], &[4, 5], &[]);
        let r = remove_queue(Apqn::new(1, 5), Some(&shadow), &info);
        let RemoveQueue::UnplugAdapter {
            shadow: s,
            apid,
            reset_aqm,
        } = r
        else {
            panic!("{r:?}")
        };
        assert_eq!((s.apm, apid, reset_aqm), (Mask::ZERO, 1, ids(&[4, 5])));
        // Linked, but its adapter is filtered: a plain reset.
        assert_eq!(
            remove_queue(Apqn::new(2, 4), Some(&shadow), &info),
            RemoveQueue::Reset
        );
        assert_eq!(
            remove_queue(Apqn::new(2, 4), None, &info),
            RemoveQueue::Reset
        );
        assert_eq!(
            remove_queue(Apqn::new(3, 4), None, &info),
            RemoveQueue::FreeAqic
        );
        assert_eq!(
            remove_queue(Apqn::new(1, 4), None, &QciInfo::EMPTY),
            RemoveQueue::FreeAqic
        );
    }

    #[test]
    fn cfg_changes() {
        let prev = qci(&[1, 2], &[4, 5], &[4, 5]);
        let cur = qci(&[2, 3], &[5, 6], &[5]);
        let d = cfg_delta(&cur, &prev);
        assert_eq!(
            d.removed,
            ApMasks {
                apm: ids(&[1]),
                aqm: ids(&[4]),
                adm: ids(&[4])
            }
        );
        assert_eq!(
            d.added,
            ApMasks {
                apm: ids(&[3]),
                aqm: ids(&[6]),
                adm: Mask::ZERO
            }
        );
        let assigned = mx(&[1, 2], &[4, 5], &[4]);
        let shadow = mx(&[1, 2], &[4, 5], &[4]);
        let s = cfg_remove(&assigned, &shadow, &d.removed).unwrap();
        assert_eq!((s.apm, s.aqm, s.adm), (ids(&[2]), ids(&[5]), Mask::ZERO));
        // Assigned but already out of the shadow: no update.
        let shadow2 = mx(&[2], &[5], &[]);
        assert_eq!(cfg_remove(&assigned, &shadow2, &d.removed), None);
        // Not assigned at all.
        assert_eq!(cfg_remove(&mx(&[7], &[7], &[]), &shadow, &d.removed), None);
        assert_eq!(cfg_remove(&assigned, &shadow, &ApMasks::EMPTY), None);
    }

    fn tapq_types(
        bad: &'static [(u8, u8, u8, u8)],
    ) -> impl FnMut(Apqn) -> (QueueStatus, TapqHwInfo) {
        move |q| {
            for &(a, d, code, at) in bad {
                if q == Apqn::new(a, d) {
                    return (QueueStatus::new(code), TapqHwInfo(0).with_at(at));
                }
            }
            (QueueStatus::new(0), TapqHwInfo(0).with_at(13))
        }
    }

    #[test]
    fn qtype_filter() {
        let apm = ids(&[1, 2, 3, 4, 5, 6]);
        let aqm = ids(&[7, 8]);
        let mut n = 0;
        let mut f = tapq_types(&[
            (1, 8, 0, 9),
            (2, 7, 1, 13),
            (3, 7, 5, 11),
            (4, 8, 0x0a, 13),
            (5, 7, 2, 200),
        ]);
        let out = filter_apid_by_qtype(&apm, &aqm, |q| {
            n += 1;
            f(q)
        });
        assert_eq!(out, ids(&[3, 5, 6]));
        // Every APQN is asked, even after its adapter is dropped.
        assert_eq!(n, 12);
        let out = filter_apid_by_qtype(&apm, &Mask::ZERO, |_| panic!("no TAPQ"));
        assert_eq!(out, apm);
    }

    #[test]
    fn cfg_add_and_pending() {
        let added = ApMasks {
            apm: ids(&[1, 2]),
            aqm: ids(&[4]),
            adm: ids(&[9]),
        };
        assert_eq!(cfg_add(&added, false, |_| panic!("no TAPQ")), None);
        assert_eq!(cfg_add(&ApMasks::EMPTY, true, |_| panic!("no TAPQ")), None);
        let a = cfg_add(&added, true, tapq_types(&[(2, 4, 0, 7)])).unwrap();
        assert_eq!(a.apm, ids(&[1]));
        assert_eq!((a.aqm, a.adm), (added.aqm, added.adm));
        let p = pending_add(&mx(&[1, 2, 3], &[3], &[9]), &a);
        assert_eq!((p.apm, p.aqm, p.adm), (ids(&[1]), Mask::ZERO, ids(&[9])));
    }

    #[test]
    fn scan_complete_hot_plug() {
        let info = qci(&[1, 2], &[4], &[9]);
        let assigned = mx(&[1, 2], &[4], &[9]);
        let prev = mx(&[1], &[4], &[]);
        assert_eq!(
            hot_plug_cfg(&assigned, &prev, &ApMasks::EMPTY, &info, all),
            None
        );
        let pending = ApMasks {
            apm: ids(&[2]),
            aqm: Mask::ZERO,
            adm: Mask::ZERO,
        };
        let f = hot_plug_cfg(&assigned, &prev, &pending, &info, all).unwrap();
        assert_eq!(f.shadow.apm, ids(&[1, 2]));
        assert!(f.changed);
        // adm untouched without pending control domains.
        assert_eq!(f.shadow.adm, Mask::ZERO);
        let pending = ApMasks {
            apm: Mask::ZERO,
            aqm: Mask::ZERO,
            adm: ids(&[9]),
        };
        let f = hot_plug_cfg(&assigned, &prev, &pending, &info, |_| false).unwrap();
        assert_eq!(f.shadow.adm, ids(&[9]));
        assert_eq!(f.shadow.apm, prev.apm);
        assert!(f.changed && f.apm_filtered.is_empty());
        // Pending adapter no longer assigned: no filter run.
        let pending = ApMasks {
            apm: ids(&[7]),
            aqm: Mask::ZERO,
            adm: Mask::ZERO,
        };
        let f = hot_plug_cfg(&assigned, &prev, &pending, &info, |_| false).unwrap();
        assert!(!f.changed);
        assert_eq!(f.shadow, prev);
        // Filtering drops an adapter of the previous shadow.
        let pending = ApMasks {
            apm: ids(&[2]),
            aqm: Mask::ZERO,
            adm: Mask::ZERO,
        };
        let f = hot_plug_cfg(&assigned, &prev, &pending, &info, |q| q.apid != 1).unwrap();
        assert_eq!(f.shadow.apm, ids(&[2]));
        assert_eq!(f.apm_filtered, ids(&[1]));
    }
}
