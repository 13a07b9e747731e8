// SPDX-License-Identifier: GPL-2.0
//! Property tests of the scan decisions and the queue state machine: they never panic and
//! stay consistent with the branches of `ap_scan_adapter`, `ap_scan_domains` and
//! `ap_sm_event`.

use ap_bus::hw::{QciInfo, QueueStatus, TapqHwInfo, CARD_HWINFO_MASK};
use ap_bus::ids::{Apqn, IdLimits};
use ap_bus::mask::Mask;
use ap_bus::owner::Perms;
use ap_bus::queue_sm::{DevState, QueueSm, SmAction, SmEvent, SmInput, SmWait};
use ap_bus::scan::*;
use proptest::prelude::*;

fn dev_state() -> impl Strategy<Value = DevState> {
    prop_oneof![
        Just(DevState::Uninitiated),
        Just(DevState::Operating),
        Just(DevState::Shutdown),
        Just(DevState::Error),
    ]
}

fn hw() -> impl Strategy<Value = TapqHwInfo> {
    prop_oneof![Just(TapqHwInfo(0)), any::<u64>().prop_map(TapqHwInfo)]
}

fn queue_info_s() -> impl Strategy<Value = QueueInfo> {
    prop_oneof![
        Just(QueueInfo::Invalid),
        Just(QueueInfo::NoInfo),
        (hw(), any::<bool>(), any::<bool>()).prop_map(|(hw, decfg, chkstop)| QueueInfo::Info {
            hw,
            decfg,
            chkstop
        }),
    ]
}

fn queue_snap() -> impl Strategy<Value = Option<QueueSnapshot>> {
    proptest::option::of((any::<bool>(), any::<bool>(), dev_state()).prop_map(
        |(config, chkstop, dev_state)| QueueSnapshot {
            config,
            chkstop,
            dev_state,
        },
    ))
}

fn card_snap() -> impl Strategy<Value = Option<CardSnapshot>> {
    proptest::option::of(
        (hw(), any::<bool>(), any::<bool>())
            .prop_map(|(h, c, s)| CardSnapshot::new(TapqHwInfo(h.0 & CARD_HWINFO_MASK), c, s)),
    )
}

fn probe_s() -> impl Strategy<Value = Option<ProbeInfo>> {
    proptest::option::of((any::<u16>(), hw(), any::<bool>(), any::<bool>()).prop_map(
        |(qid, hw, decfg, chkstop)| ProbeInfo {
            q: Apqn::from_qid(qid),
            hw,
            decfg,
            chkstop,
        },
    ))
}

fn status() -> impl Strategy<Value = QueueStatus> {
    prop_oneof![
        (0u8..=0x10, any::<u8>()).prop_map(|(rc, bits)| QueueStatus::new(rc)
            .with_empty(bits & 1 != 0)
            .with_irq(bits & 2 != 0)
            .with_async(bits & 4 != 0)),
        any::<u32>().prop_map(QueueStatus),
    ]
}

#[derive(Clone, Debug)]
enum Op {
    Event(SmEvent),
    Answer(QueueStatus, TapqHwInfo),
    Init,
    Reset,
    Remove,
    Plan(Option<bool>, QueueInfo),
    Irq(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => prop_oneof![Just(SmEvent::Poll), Just(SmEvent::Timeout)].prop_map(Op::Event),
        6 => (status(), hw()).prop_map(|(s, h)| Op::Answer(s, h)),
        1 => Just(Op::Init),
        1 => Just(Op::Reset),
        1 => Just(Op::Remove),
        2 => (proptest::option::of(any::<bool>()), queue_info_s()).prop_map(|(c, i)| Op::Plan(c, i)),
        1 => any::<bool>().prop_map(Op::Irq),
    ]
}

proptest! {
    #[test]
    fn plan_queue_consistent(ex in queue_snap(), in_config in any::<bool>(), info in queue_info_s()) {
        let p = plan_queue(ex.as_ref(), in_config, info);
        if !in_config {
            prop_assert_eq!(p, if ex.is_some() { QueuePlan::Remove(QueueGone::NotInConfig) } else { QueuePlan::Nothing });
        }
        match p {
            QueuePlan::Remove(_) => prop_assert!(ex.is_some() && (!in_config || info == QueueInfo::Invalid)),
            QueuePlan::Create { config, chkstop, init_sm, se_bstate } => {
                prop_assert!(ex.is_none() && in_config);
                let QueueInfo::Info { hw, decfg, chkstop: c } = info else { panic!("create without info") };
                prop_assert_eq!((config, chkstop, init_sm, se_bstate), (!decfg, c, !decfg && !c, hw.bs()));
            }
            QueuePlan::Nothing => prop_assert!(ex.is_none() || info == QueueInfo::NoInfo),
            _ => {
                let has_info = matches!(info, QueueInfo::Info { .. });
                prop_assert!(ex.is_some() && has_info && in_config)
            }
        }
        // After applying, the flags follow the info (except for the error re-init/unchanged
        // branches, where they already did).
        if let (Some(s), QueueInfo::Info { decfg, chkstop, .. }) = (ex, info) {
            if in_config {
                let mut sm = QueueSm::new(s.config, s.chkstop);
                if s.dev_state > DevState::Uninitiated {
                    let _ = sm.init_state();
                }
                let _ = p.apply(&mut sm);
                if matches!(p, QueuePlan::CheckstopOn { .. } | QueuePlan::CheckstopOff { .. }) {
                    prop_assert_eq!(sm.chkstop(), chkstop);
                } else {
                    prop_assert_eq!((sm.chkstop(), sm.config()), (chkstop, !decfg));
                }
                prop_assert_eq!(p.config_uevent().is_some(), s.config == decfg && s.chkstop == chkstop);
            }
        }
    }

    #[test]
    fn plan_card_consistent(ex in card_snap(), in_config in any::<bool>(), probe in probe_s()) {
        let p = plan_card(ex.as_ref(), in_config, probe);
        match p {
            CardPlan::Ignore(_) => prop_assert!(ex.is_none()),
            CardPlan::Remove(_) => prop_assert!(ex.is_some()),
            CardPlan::Create(n) | CardPlan::Replace(n) => {
                let pr = probe.unwrap();
                prop_assert!(in_config && pr.hw.at() != 0);
                prop_assert_eq!(n.hw.0, pr.hw.0 & CARD_HWINFO_MASK);
                prop_assert_eq!((n.q, n.config, n.chkstop), (pr.q, !pr.decfg, pr.chkstop));
                prop_assert_eq!(matches!(p, CardPlan::Create(_)), ex.is_none());
                if let Some(c) = ex {
                    prop_assert!(c.at != n.hw.at() || c.fac != n.hw.fac());
                }
            }
            CardPlan::Keep { chkstop, config } => {
                let (c, pr) = (ex.unwrap(), probe.unwrap());
                prop_assert!(in_config);
                prop_assert_eq!((c.at, c.fac), (pr.hw.at(), pr.hw.card_part().fac()));
                prop_assert_eq!(chkstop.unwrap_or(c.chkstop), pr.chkstop);
                prop_assert_eq!(config.unwrap_or(c.config), !pr.decfg);
                prop_assert_eq!(chkstop.is_some(), c.chkstop != pr.chkstop);
                prop_assert_eq!(config.is_some(), c.config == pr.decfg);
            }
        }
        if !in_config || probe.is_none() {
            prop_assert!(matches!(p, CardPlan::Ignore(_) | CardPlan::Remove(_)));
        }
    }

    #[test]
    fn queue_info_rules(apid in any::<u8>(), apqi in any::<u8>(), st in status(), h in hw()) {
        let l = IdLimits::DEFAULT;
        let q = Apqn::new(apid, apqi);
        let i = queue_info(&l, q, st, h);
        let valid = tapq_allowed(&l, q) && st.has_tapq_info();
        match i {
            QueueInfo::Invalid => prop_assert!(!valid),
            QueueInfo::NoInfo => prop_assert!(valid && h.0 == 0),
            QueueInfo::Info { hw, decfg, chkstop } => {
                prop_assert!(valid && h.0 != 0 && hw == h);
                prop_assert_eq!(decfg, st.response_code() == 3);
                prop_assert_eq!(chkstop, st.response_code() == 4);
            }
        }
    }

    #[test]
    fn sm_never_panics_and_gates(ops in proptest::collection::vec(op(), 0..80), config in any::<bool>(), chkstop in any::<bool>()) {
        let mut sm = QueueSm::new(config, chkstop);
        for op in ops {
            let before = sm;
            match op {
                Op::Event(ev) => {
                    let a = sm.step(SmInput::Event(ev));
                    if !before.runs() {
                        prop_assert_eq!(a, SmAction::Wait(SmWait::None));
                        prop_assert_eq!((sm.sm_state(), sm.dev_state()), (before.sm_state(), before.dev_state()));
                    }
                    prop_assert_eq!(sm.busy(), matches!(a, SmAction::Issue(_)));
                }
                Op::Answer(s, h) => {
                    let a = sm.step(SmInput::Answer(s, h));
                    if !before.busy() {
                        prop_assert_eq!(a, SmAction::Wait(SmWait::None));
                        prop_assert_eq!(sm, before);
                    }
                    if sm.dev_state() != before.dev_state() {
                        prop_assert_eq!(sm.dev_state(), DevState::Error);
                        prop_assert_eq!(sm.last_err_rc(), s.response_code());
                    }
                }
                Op::Init => {
                    let _ = sm.init_state();
                    prop_assert_eq!(sm.dev_state(), DevState::Operating);
                }
                Op::Reset => {
                    let _ = sm.reset_store();
                    prop_assert_eq!(sm.dev_state(), before.dev_state());
                }
                Op::Remove => {
                    sm.prepare_remove();
                    let _ = sm.remove();
                    prop_assert_eq!(sm.dev_state(), DevState::Uninitiated);
                    prop_assert!(!sm.busy());
                }
                Op::Plan(c, info) => {
                    let snap = QueueSnapshot::of(&sm);
                    let p = plan_queue(Some(&snap), c.unwrap_or(true), info);
                    let _ = p.apply(&mut sm);
                }
                Op::Irq(on) => sm.set_irq(on),
            }
            // No requests ever flow.
            prop_assert_eq!((sm.requestq_count(), sm.pendingq_count(), sm.queue_count()), (0, 0, 0));
            if before.dev_state() == DevState::Uninitiated && !matches!(op, Op::Init | Op::Plan(..)) {
                prop_assert_eq!(sm.dev_state(), DevState::Uninitiated);
            }
        }
    }

    #[test]
    fn select_domain_is_first_hit(apm in any::<[u8; 32]>(), aqm in any::<[u8; 32]>(), hits in proptest::collection::vec(any::<u16>(), 0..20), cur in -2i32..3) {
        let perms = Perms { apm: Mask(apm), aqm: Mask(aqm) };
        let l = IdLimits::DEFAULT;
        let hit = |q: Apqn| hits.contains(&q.qid());
        let d = select_domain(cur, &perms, &l, None, |q| QueueStatus::new(if hit(q) { 0 } else { 3 }));
        if cur >= 0 {
            prop_assert_eq!(d, cur);
        } else {
            let want = (0..=15u8).find(|&dom| {
                perms.aqm.test(dom) && (0..=63u8).any(|a| perms.apm.test(a) && hit(Apqn::new(a, dom)))
            });
            prop_assert_eq!(d, want.map_or(cur, i32::from));
        }
    }

    #[test]
    fn config_change_rules(a in any::<[u8; 32]>(), b in any::<[u8; 32]>(), fa in any::<u32>(), fb in any::<u32>()) {
        let mut old = QciInfo::EMPTY;
        let mut new = QciInfo::EMPTY;
        old.set_flags(fa);
        new.set_flags(fb);
        old.set_apm(&Mask(a));
        new.set_apm(&Mask(b));
        let begin = scan_begin(&old, &new);
        prop_assert_eq!(begin.config_changed, fa != 0 && old != new);
        prop_assert!(!begin.rearm_bindings || begin.config_changed);
        prop_assert_eq!(has_new_aps(&old, &new), fb != 0 && !Mask(b).is_subset_of(&Mask(a)));
        prop_assert!(!has_new_doms(&old, &new));
    }
}
