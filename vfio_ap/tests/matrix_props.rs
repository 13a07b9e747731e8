// SPDX-License-Identifier: GPL-2.0
//! Property tests of the matrix and shadow models: exclusivity of APQNs between mdevs, the
//! all-or-nothing `ap_config` store, and the shadow APCB invariants over sequences of the
//! operations the glue performs for one mdev (with the project's re-filter after unassign).

use std::collections::BTreeSet;

use ap_bus::owner::Perms;
use proptest::prelude::*;
use vfio_ap::hw::{QciInfo, QueueStatus, TapqHwInfo, QCI_APSC, QCI_APXA};
use vfio_ap::ids::{Apqn, MatrixLimits};
use vfio_ap::mask::Mask;
use vfio_ap::matrix::{
    ap_config_store, assign, assign_control_domain, assigned_intersects, assigned_rebuild, in_use,
    in_use_assigned, unassign, ApMasks, Matrix, Resource, StoreError,
};
use vfio_ap::shadow::{
    ap_config_unplug, cfg_add, cfg_delta, cfg_remove, filter_cdoms, filter_matrix, hot_plug_cfg,
    hot_unplug_adapters, hot_unplug_domains, pending_add, probe_queue, refilter, remove_queue,
    unassign_control_domain, Probe, RemoveQueue,
};

/// Small id sets, so that overlaps are frequent.
fn small_mask() -> impl Strategy<Value = Mask> {
    proptest::collection::vec(0u8..8, 0..4).prop_map(|v| Mask::from_ids(&v))
}

fn limits() -> MatrixLimits {
    MatrixLimits {
        apm_max: 63,
        aqm_max: 15,
        adm_max: 15,
    }
}

fn matrix(apm: Mask, aqm: Mask, adm: Mask) -> Matrix {
    Matrix {
        apm,
        aqm,
        adm,
        limits: limits(),
    }
}

fn qci(apm: &Mask, aqm: &Mask, adm: &Mask) -> QciInfo {
    let mut q = QciInfo::EMPTY;
    q.set_flags(QCI_APSC | QCI_APXA);
    q.set_na(63);
    q.set_nd(15);
    q.set_apm(apm);
    q.set_aqm(aqm);
    q.set_adm(adm);
    q
}

fn overlaps(a: &Matrix, b: &Matrix) -> bool {
    a.apm.intersects(&b.apm) && a.aqm.intersects(&b.aqm)
}

fn id_text(id: u8, style: u8) -> String {
    match style % 4 {
        0 => format!("{id}"),
        1 => format!("0x{id:x}\n"),
        2 => format!("0{id:o}"),
        _ => format!("+{id}\n"),
    }
}

#[derive(Clone, Debug)]
enum MdevOp {
    Adapter(u8),
    Domain(u8),
    Config(Mask, Mask),
    UnassignAdapter(u8),
    UnassignDomain(u8),
}

fn mdev_op() -> impl Strategy<Value = (usize, MdevOp, u8)> {
    let op = prop_oneof![
        4 => (0u8..10).prop_map(MdevOp::Adapter),
        4 => (0u8..10).prop_map(MdevOp::Domain),
        2 => (small_mask(), small_mask()).prop_map(|(a, q)| MdevOp::Config(a, q)),
        1 => (0u8..10).prop_map(MdevOp::UnassignAdapter),
        1 => (0u8..10).prop_map(MdevOp::UnassignDomain),
    ];
    (0usize..3, op, any::<u8>())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// After any sequence of accepted writes to three mdevs, no APQN is in two assigned
    /// matrices; and `in_use` finds exactly the first mdev that holds a queried APQN.
    #[test]
    fn no_apqn_in_two_mdevs(
        ops in proptest::collection::vec(mdev_op(), 0..40),
        reserved in (small_mask(), small_mask()),
        query in (small_mask(), small_mask()),
    ) {
        let perms = Perms { apm: reserved.0, aqm: reserved.1 };
        let mut mdevs = [Matrix::empty(limits()); 3];
        for (who, op, style) in ops {
            let Some(cur) = mdevs.get(who).copied() else { continue };
            let others: Vec<(usize, &Matrix)> =
                mdevs.iter().enumerate().filter(|(i, _)| *i != who).collect();
            let owned = |a: &Mask, q: &Mask| perms.matrix_owned_by_default(a, q);
            let new = match op {
                MdevOp::Adapter(id) => {
                    assign(&cur, Resource::Adapter, id_text(id, style).as_bytes(), owned, others)
                        .map(|c| c.map(|c| c.matrix))
                }
                MdevOp::Domain(id) => {
                    assign(&cur, Resource::Domain, id_text(id, style).as_bytes(), owned, others)
                        .map(|c| c.map(|c| c.matrix))
                }
                MdevOp::Config(a, q) => {
                    let s = format!("{a},{q},0x0\n");
                    ap_config_store(&cur, s.as_bytes(), owned, others).map(|c| Some(c.new))
                }
                MdevOp::UnassignAdapter(id) => {
                    unassign(&cur, Resource::Adapter, id_text(id, style).as_bytes())
                        .map(|c| c.map(|c| c.matrix))
                }
                MdevOp::UnassignDomain(id) => {
                    unassign(&cur, Resource::Domain, id_text(id, style).as_bytes())
                        .map(|c| c.map(|c| c.matrix))
                }
            };
            match new {
                Ok(Some(m)) => {
                    // Accepted writes never give a host-reserved APQN to an mdev.
                    prop_assert!(!perms.matrix_owned_by_default(&m.apm, &m.aqm));
                    mdevs[who] = m;
                }
                Ok(None) => {}
                Err(StoreError::InUse(o)) => {
                    prop_assert!(o.other != who);
                    prop_assert!(o.apqns().count() > 0);
                }
                Err(_) => {}
            }
            for i in 0..3 {
                for j in (i + 1)..3 {
                    prop_assert!(!overlaps(&mdevs[i], &mdevs[j]), "{i} {j}: {:?}", mdevs);
                }
            }
        }
        let list: Vec<(usize, &Matrix)> = mdevs.iter().enumerate().collect();
        let r = in_use(&query.0, &query.1, list.iter().copied());
        let first = mdevs.iter().position(|m| m.overlap(&query.0, &query.1).is_some());
        prop_assert_eq!(r.map(|o| o.other), first);
        if let Some(o) = r {
            for q in o.apqns() {
                prop_assert!(query.0.test(q.apid) && query.1.test(q.apqi));
                prop_assert!(mdevs[o.other].contains(q));
            }
        }
    }

    /// `ap_config_store` accepts exactly when the text parses, no APQN of the new matrix is
    /// reserved or taken, and every id fits; then the new matrix is what was written and
    /// removed/added are the set differences.
    #[test]
    fn ap_config_all_or_nothing(
        old in (small_mask(), small_mask(), small_mask()),
        new in (small_mask(), small_mask(), small_mask()),
        big in proptest::option::of(64u8..=255),
        junk in proptest::option::of("[ -~]{0,12}"),
        reserved in (small_mask(), small_mask()),
        other in (small_mask(), small_mask()),
    ) {
        let cur = matrix(old.0, old.1, old.2);
        let mut nm = new;
        if let Some(b) = big {
            nm.0.set(b);
        }
        let text = match &junk {
            Some(j) => format!("{},{}{j},{}\n", nm.0, nm.1, nm.2),
            None => format!("{},{},{}\n", nm.0, nm.1, nm.2),
        };
        let perms = Perms { apm: reserved.0, aqm: reserved.1 };
        let om = matrix(other.0, other.1, Mask::ZERO);
        let r = ap_config_store(
            &cur,
            text.as_bytes(),
            |a: &Mask, q: &Mask| perms.matrix_owned_by_default(a, q),
            [(9u8, &om)],
        );
        let parsed = vfio_ap::ap_config::parse_ap_config(text.as_bytes());
        match parsed {
            Err(e) => prop_assert_eq!(r, Err(StoreError::Parse(e))),
            Ok((a, q, d)) => {
                let want = if perms.matrix_owned_by_default(&a, &q) {
                    Err(StoreError::Reserved)
                } else if let Some((oa, oq)) = om.overlap(&a, &q) {
                    Err(StoreError::InUse(vfio_ap::matrix::Overlap { other: 9u8, apm: oa, aqm: oq }))
                } else if !cur.limits.fits(&a, &q, &d) {
                    Err(StoreError::NoDev)
                } else {
                    Ok(())
                };
                match (want, r) {
                    (Err(w), got) => prop_assert_eq!(got, Err(w)),
                    (Ok(()), Ok(c)) => {
                        prop_assert_eq!(c.new, matrix(a, q, d));
                        for (o, n, rem, add) in [
                            (cur.apm, a, c.removed.apm, c.added.apm),
                            (cur.aqm, q, c.removed.aqm, c.added.aqm),
                            (cur.adm, d, c.removed.adm, c.added.adm),
                        ] {
                            prop_assert_eq!(rem, o.and_not(&n));
                            prop_assert_eq!(add, n.and_not(&o));
                            prop_assert_eq!(o.and_not(&rem).or(&add), n);
                        }
                    }
                    (Ok(()), got) => prop_assert!(false, "{:?}", got),
                }
            }
        }
    }

    /// An `ap_config` write's unplug in one step (`shadow::ConfigUnplug`): after the single
    /// APCB update no queue to be reset is in the guest's shadow, and every APQN that left the
    /// guest is reset (so none reaches the next owner unzeroized), as with the C steps.
    #[test]
    fn ap_config_unplug_resets_exactly_what_left(
        old in (small_mask(), small_mask(), small_mask()),
        new in (small_mask(), small_mask(), small_mask()),
        info in (small_mask(), small_mask(), small_mask()),
        blocked in proptest::collection::btree_set((0u8..8, 0u8..8), 0..6),
    ) {
        let info = qci(&info.0, &info.1, &info.2);
        let pass = |q: Apqn| !blocked.contains(&(q.apid, q.apqi));
        let cur = matrix(old.0, old.1, old.2);
        let nm = matrix(new.0, new.1, new.2);
        let shadow = refilter(&cur, &cur, &info, pass).shadow;
        let removed = ApMasks {
            apm: cur.apm.and_not(&nm.apm),
            aqm: cur.aqm.and_not(&nm.aqm),
            adm: cur.adm.and_not(&nm.adm),
        };
        let plan = ap_config_unplug(&cur, &shadow, &removed);
        let f = refilter(&nm, &plan.shadow, &info, pass);
        let reset = |q: Apqn| {
            plan.resets(q) || (f.apm_filtered.test(q.apid) && f.shadow.aqm.test(q.apqi))
        };
        for q in f.shadow.apqns() {
            prop_assert!(!reset(q), "{q:?} reset while in the guest");
        }
        for q in shadow.apqns() {
            if !f.shadow.contains(q) {
                prop_assert!(reset(q), "{q:?} left the guest without a reset");
            }
        }
        // What is unlinked is outside the new matrix; the linked queues left are within it.
        for q in vfio_ap::matrix::apqns(&cur.apm, &cur.aqm) {
            prop_assert_eq!(plan.unlinks(q), !nm.contains(q));
            prop_assert!(!plan.resets(q) || plan.unlinks(q));
        }
    }

    /// The filters: the shadow is always within the assigned matrix and the host
    /// configuration, every APQN it passes is passable, it does not depend on the previous
    /// shadow, and `apm_filtered` only names adapters of the previous shadow that left it.
    #[test]
    fn filter_invariants(
        assigned in (small_mask(), small_mask(), small_mask()),
        info in (small_mask(), small_mask(), small_mask()),
        prev in (small_mask(), small_mask(), small_mask()),
        prev2 in (small_mask(), small_mask(), small_mask()),
        blocked in proptest::collection::btree_set((0u8..8, 0u8..8), 0..6),
    ) {
        let a = matrix(assigned.0, assigned.1, assigned.2);
        let info = qci(&info.0, &info.1, &info.2);
        let p = matrix(prev.0, prev.1, prev.2);
        let p2 = matrix(prev2.0, prev2.1, prev2.2);
        let pass = |q: Apqn| !blocked.contains(&(q.apid, q.apqi));
        let f = refilter(&a, &p, &info, pass);
        let s = f.shadow;
        prop_assert!(s.apm.is_subset_of(&a.apm.and(&info.apm())));
        prop_assert!(s.aqm.is_subset_of(&a.aqm.and(&info.aqm())));
        prop_assert!(s.adm.is_subset_of(&a.adm.and(&info.adm())));
        prop_assert_eq!(s.aqm, a.aqm.and(&info.aqm()));
        prop_assert_eq!(s.adm, a.adm.and(&info.adm()));
        for q in s.apqns() {
            prop_assert!(pass(q));
        }
        // An adapter of assigned ∩ info is dropped only for a blocked APQN.
        for apid in a.apm.and(&info.apm()).iter() {
            let dropped = !s.apm.test(apid);
            let blocked_one = s.aqm.iter().any(|apqi| !pass(Apqn::new(apid, apqi)));
            prop_assert_eq!(dropped, blocked_one);
        }
        prop_assert_eq!(f.apm_filtered, p.apm.and_not(&s.apm).and(&a.apm.and(&info.apm())));
        prop_assert_eq!(f.changed, s.apm != p.apm || s.aqm != p.aqm || s.adm != p.adm);
        let f2 = refilter(&a, &p2, &info, pass);
        prop_assert_eq!(f2.shadow, s);
        // filter_matrix keeps adm, filter_cdoms keeps the rest.
        let fm = filter_matrix(&a, &p, &info, pass);
        prop_assert_eq!(fm.shadow.adm, p.adm);
        let (fc, _) = filter_cdoms(&a, &p, &info);
        prop_assert_eq!((fc.apm, fc.aqm), (p.apm, p.aqm));
    }
}

/// One mdev and the queues bound to vfio_ap, driven like the glue drives the model.
#[derive(Debug)]
struct Sim {
    assigned: Matrix,
    shadow: Matrix,
    info: QciInfo,
    bound: BTreeSet<Apqn>,
    unassign_runs: u32,
}

#[derive(Clone, Debug)]
enum Op {
    Assign(Resource, u8),
    Unassign(Resource, u8),
    Config(Mask, Mask, Mask),
    Bind(u8, u8),
    Unbind(u8, u8),
    HostConfig(Mask, Mask, Mask),
}

fn op() -> impl Strategy<Value = Op> {
    let res = prop_oneof![
        Just(Resource::Adapter),
        Just(Resource::Domain),
        Just(Resource::ControlDomain)
    ];
    prop_oneof![
        5 => (res.clone(), 0u8..8).prop_map(|(r, i)| Op::Assign(r, i)),
        3 => (res, 0u8..8).prop_map(|(r, i)| Op::Unassign(r, i)),
        1 => (small_mask(), small_mask(), small_mask()).prop_map(|(a, q, d)| Op::Config(a, q, d)),
        4 => (0u8..8, 0u8..8).prop_map(|(a, q)| Op::Bind(a, q)),
        2 => (0u8..8, 0u8..8).prop_map(|(a, q)| Op::Unbind(a, q)),
        1 => (small_mask(), small_mask(), small_mask()).prop_map(|(a, q, d)| Op::HostConfig(a, q, d)),
    ]
}

impl Sim {
    fn linked(&self, q: Apqn) -> bool {
        self.bound.contains(&q) && self.assigned.contains(q)
    }

    fn pure_shadow(&self) -> Matrix {
        refilter(&self.assigned, &self.shadow, &self.info, |q| self.linked(q)).shadow
    }

    fn filter(&mut self) {
        let f = filter_matrix(&self.assigned, &self.shadow, &self.info, |q| self.linked(q));
        self.shadow = f.shadow;
    }

    fn refilter(&mut self) {
        self.shadow = self.pure_shadow();
    }

    fn remove(&mut self, q: Apqn) {
        let linked = self.linked(q);
        let sh = self.shadow;
        match remove_queue(q, linked.then_some(&sh), &self.info) {
            RemoveQueue::UnplugAdapter { shadow, apid, .. } => {
                assert_eq!(apid, q.apid);
                self.shadow = shadow;
            }
            RemoveQueue::Reset | RemoveQueue::FreeAqic => {}
        }
        self.bound.remove(&q);
    }

    /// Applies an op; returns whether the shadow must now be the pure filter result.
    fn apply(&mut self, op: &Op) -> bool {
        let never = |_: &Mask, _: &Mask| false;
        let none = std::iter::empty::<(u8, &Matrix)>();
        match *op {
            Op::Assign(Resource::ControlDomain, id) => {
                let r: Result<_, StoreError<u8>> =
                    assign_control_domain(&self.assigned, id.to_string().as_bytes());
                if let Ok(Some(c)) = r {
                    self.assigned = c.matrix;
                    self.shadow = filter_cdoms(&self.assigned, &self.shadow, &self.info).0;
                }
                false
            }
            Op::Assign(r, id) => {
                if let Ok(Some(c)) =
                    assign(&self.assigned, r, id.to_string().as_bytes(), never, none)
                {
                    self.assigned = c.matrix;
                    self.filter();
                }
                false
            }
            Op::Unassign(r, id) => {
                let res: Result<_, StoreError<u8>> =
                    unassign(&self.assigned, r, id.to_string().as_bytes());
                let Ok(Some(c)) = res else { return false };
                self.assigned = c.matrix;
                let gone = Mask::from_ids(&[id]);
                match r {
                    Resource::Adapter => {
                        let u = hot_unplug_adapters(&self.assigned.aqm, &self.shadow, &gone);
                        self.shadow = u.shadow;
                    }
                    Resource::Domain => {
                        let u = hot_unplug_domains(&self.assigned.apm, &self.shadow, &gone);
                        self.shadow = u.shadow;
                    }
                    Resource::ControlDomain => {
                        self.shadow = unassign_control_domain(&self.shadow, id).0;
                    }
                }
                // The project's fix.
                self.refilter();
                self.unassign_runs += 1;
                true
            }
            Op::Config(a, q, d) => {
                let s = format!("{a},{q},{d}");
                let r = ap_config_store(&self.assigned, s.as_bytes(), never, none);
                if let Ok(c) = r {
                    let u = hot_unplug_adapters(&self.assigned.aqm, &self.shadow, &c.removed.apm);
                    self.shadow = u.shadow;
                    let u = hot_unplug_domains(&self.assigned.apm, &self.shadow, &c.removed.aqm);
                    self.shadow = u.shadow;
                    self.assigned = c.new;
                    self.refilter();
                    return true;
                }
                false
            }
            Op::Bind(a, q) => {
                let q = Apqn::new(a, q);
                // Queue devices exist only for configured APQNs.
                if !(self.info.apm().test(q.apid) && self.info.aqm().test(q.apqi)) {
                    return false;
                }
                self.bound.insert(q);
                let pending = self.assigned.contains(q).then_some(ApMasks::EMPTY);
                match probe_queue(pending.as_ref()) {
                    Probe::LinkAndFilter => self.filter(),
                    Probe::NotAssigned => {}
                    Probe::LinkDeferred => unreachable!(),
                }
                false
            }
            Op::Unbind(a, q) => {
                let q = Apqn::new(a, q);
                if self.bound.contains(&q) {
                    self.remove(q);
                }
                false
            }
            Op::HostConfig(a, q, d) => {
                let cur = qci(&a, &q, &d);
                let delta = cfg_delta(&cur, &self.info);
                if let Some(s) = cfg_remove(&self.assigned, &self.shadow, &delta.removed) {
                    self.shadow = s;
                }
                let tapq = |_: Apqn| (QueueStatus::new(0), TapqHwInfo(0).with_at(13));
                let pending = cfg_add(&delta.added, true, tapq)
                    .map(|added| pending_add(&self.assigned, &added))
                    .unwrap_or(ApMasks::EMPTY);
                self.info = cur;
                // The scan removes the queue devices that left the configuration ...
                let gone: Vec<Apqn> = self
                    .bound
                    .iter()
                    .copied()
                    .filter(|q| !(cur.apm().test(q.apid) && cur.aqm().test(q.apqi)))
                    .collect();
                for q in gone {
                    self.remove(q);
                }
                // ... and completes.
                if let Some(f) =
                    hot_plug_cfg(&self.assigned, &self.shadow, &pending, &self.info, |q| {
                        self.linked(q)
                    })
                {
                    self.shadow = f.shadow;
                }
                false
            }
        }
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let s = &self.shadow;
        let a = &self.assigned;
        prop_assert!(
            s.apm.is_subset_of(&a.apm.and(&self.info.apm())),
            "{:?}",
            self
        );
        prop_assert!(
            s.aqm.is_subset_of(&a.aqm.and(&self.info.aqm())),
            "{:?}",
            self
        );
        prop_assert!(
            s.adm.is_subset_of(&a.adm.and(&self.info.adm())),
            "{:?}",
            self
        );
        for q in s.apqns() {
            prop_assert!(
                self.linked(q),
                "{q} in the shadow but not linked: {:?}",
                self
            );
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The shadow is always within assigned ∩ QCI and passes only linked queues, whatever the
    /// sequence of stores, bindings and host configuration changes; after an unassign or an
    /// `ap_config` write it is exactly the pure filter result (the project's fix).
    #[test]
    fn shadow_sequences(
        info0 in (small_mask(), small_mask(), small_mask()),
        ops in proptest::collection::vec(op(), 0..60),
    ) {
        let info = qci(&info0.0, &info0.1, &info0.2);
        let mut sim = Sim {
            assigned: Matrix::new(&info),
            shadow: Matrix::new(&info),
            info,
            bound: BTreeSet::new(),
            unassign_runs: 0,
        };
        for op in &ops {
            let pure = sim.apply(op);
            sim.check()?;
            if pure {
                prop_assert_eq!(sim.shadow, sim.pure_shadow());
            }
        }
    }
}

/// The deficiency of C the re-filter fixes, as a sequence.
#[test]
fn refilter_after_unassign_restores_adapter() {
    let ids = Mask::from_ids;
    let info = qci(&ids(&[5]), &ids(&[1, 2]), &Mask::ZERO);
    let mut sim = Sim {
        assigned: Matrix::new(&info),
        shadow: Matrix::new(&info),
        info,
        bound: [Apqn::new(5, 1)].into_iter().collect(),
        unassign_runs: 0,
    };
    for op in [
        Op::Assign(Resource::Adapter, 5),
        Op::Assign(Resource::Domain, 1),
        Op::Assign(Resource::Domain, 2),
    ] {
        sim.apply(&op);
    }
    // (5, 2) is not bound: adapter 5 is filtered.
    assert!(sim.shadow.apm.is_empty());
    sim.apply(&Op::Unassign(Resource::Domain, 2));
    assert_eq!(sim.shadow.apm, ids(&[5]));
    assert_eq!(sim.shadow.aqm, ids(&[1]));
    assert_eq!(sim.unassign_runs, 1);
}

proptest! {
    /// The assigned set answers `in_use` as the walk over the mdevs does, whether or not the
    /// matrices share APQNs, and names the same mdev; it holds exactly the APQNs some matrix has.
    #[test]
    fn in_use_with_the_assigned_set_is_in_use(
        ms in proptest::collection::vec((small_mask(), small_mask()), 0..6),
        apm in small_mask(),
        aqm in small_mask(),
    ) {
        let mats: Vec<Matrix> = ms.iter().map(|(a, q)| matrix(*a, *q, Mask::ZERO)).collect();
        let mut rows = vec![Mask::ZERO; 256];
        // Whatever the set held before is replaced.
        rows[3] = Mask::from_ids(&[1, 2]);
        assigned_rebuild(&mut rows, mats.iter());
        let walk = in_use(&apm, &aqm, mats.iter().enumerate());
        let fast = in_use_assigned(&rows, &apm, &aqm, mats.iter().enumerate());
        prop_assert_eq!(walk, fast);
        for apid in 0u8..8 {
            for apqi in 0u8..8 {
                let q = Apqn::new(apid, apqi);
                let held = mats.iter().any(|m| m.contains(q));
                prop_assert_eq!(
                    held,
                    assigned_intersects(&rows, &Mask::from_ids(&[apid]), &Mask::from_ids(&[apqi]))
                );
            }
        }
    }
}
