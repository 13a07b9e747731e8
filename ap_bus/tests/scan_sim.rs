// SPDX-License-Identifier: GPL-2.0
//! Whole bus scans against the simulator: a small stand-in for the kernel glue walks the
//! adapters and domains as `ap_scan_bus` does, asks `scan::plan_card`/`scan::plan_queue`,
//! keeps a device table, runs the queue state machines and records the uevents.

use std::collections::BTreeMap;

use ap_bus::facility::ApFacility;
use ap_bus::hw::{QciInfo, TapqHwInfo};
use ap_bus::ids::{Apqn, IdLimits};
use ap_bus::owner::Perms;
use ap_bus::queue_sm::{DevState, QueueSm, SmEvent, SmState};
use ap_bus::scan::*;
use ap_bus::sim::{Command, FakeClock, MachineSpec, Sim};

type TestSim = Sim<FakeClock>;

struct Card {
    snap: CardSnapshot,
    dev_type: u8,
    hw: TapqHwInfo,
}

struct Bus {
    cur: QciInfo,
    limits: IdLimits,
    perms: Perms,
    domain: i32,
    scans: u64,
    completion: BindingsCompletion,
    cards: BTreeMap<u8, Card>,
    queues: BTreeMap<Apqn, QueueSm>,
    events: Vec<String>,
    max_msg_size: u32,
}

fn env(dev: &str, vars: &[EnvVar]) -> String {
    let mut s = String::from(dev);
    for v in vars {
        s.push(' ');
        v.write(&mut s).unwrap();
    }
    s
}

impl Bus {
    fn new(sim: &mut TestSim) -> Bus {
        let qci = sim.qci();
        Bus {
            cur: qci.unwrap_or(QciInfo::EMPTY),
            limits: IdLimits::bus_from_qci(qci.as_ref()),
            perms: Perms::DEFAULT,
            domain: -1,
            scans: 0,
            completion: BindingsCompletion::new(),
            cards: BTreeMap::new(),
            queues: BTreeMap::new(),
            events: Vec::new(),
            max_msg_size: 12288,
        }
    }

    fn remove_card(&mut self, apid: u8) {
        let qs: Vec<Apqn> = self
            .queues
            .range(Apqn::new(apid, 0)..=Apqn::new(apid, 255))
            .map(|(q, _)| *q)
            .collect();
        for q in qs {
            self.remove_queue(q);
        }
        if let Some(c) = self.cards.remove(&apid) {
            self.events.push(env(
                &format!("remove card{apid:02x}"),
                &[EnvVar::DevType(c.dev_type)],
            ));
        }
    }

    fn remove_queue(&mut self, q: Apqn) {
        if let Some(mut sm) = self.queues.remove(&q) {
            // Bound to the default driver: the remove path of ap_device_remove.
            sm.prepare_remove();
            let _ = sm.remove();
            self.events.push(format!("remove {q}"));
        }
    }

    fn scan(&mut self, sim: &mut TestSim) -> bool {
        let old = self.cur;
        if qci_refresh_due(&self.cur) {
            if let Some(n) = sim.qci() {
                self.cur = n;
            }
        }
        let begin = scan_begin(&old, &self.cur);
        if begin.rearm_bindings {
            self.completion.rearm();
        }
        let qci = self.cur;
        let apft = true;
        self.domain = select_domain(self.domain, &self.perms, &self.limits, Some(&qci), |q| {
            sim.tapq(q, apft).0
        });
        for apid in 0..=self.limits.max_apid {
            self.scan_adapter(sim, apid);
        }
        let end = scan_end(&begin, self.scans);
        self.scans = end.scans;
        if end.init_scan_done {
            self.events.push("root INITSCAN=done".into());
        }
        let total = u32::try_from(self.queues.len()).unwrap();
        if let Some(n) = self.completion.check(self.scans, total, total) {
            self.events.push(env(
                "root",
                &[EnvVar::BindingsComplete, EnvVar::CompleteCount(n)],
            ));
        }
        begin.config_changed
    }

    fn scan_adapter(&mut self, sim: &mut TestSim, apid: u8) {
        let qci = self.cur;
        let in_config = self.limits.card_configured(Some(&qci), apid);
        let probe = if in_config {
            first_info(&self.limits, Some(&qci), apid, |q| sim.tapq(q, true))
        } else {
            None
        };
        let existing = self.cards.get(&apid).map(|c| c.snap);
        let plan = plan_card(existing.as_ref(), in_config, probe);
        let new = match plan {
            CardPlan::Ignore(_) => return,
            CardPlan::Remove(_) => {
                self.remove_card(apid);
                return;
            }
            CardPlan::Keep { chkstop, config } => {
                let c = self.cards.get_mut(&apid).unwrap();
                if let Some(v) = chkstop {
                    c.snap.chkstop = v;
                }
                if let Some(v) = config {
                    c.snap.config = v;
                    let (t, hw) = (c.dev_type, c.hw);
                    let mut vars: Vec<EnvVar> =
                        bus_uevent_vars(UeventDevice::Card { dev_type: t, hw })
                            .into_iter()
                            .flatten()
                            .collect();
                    vars.push(EnvVar::Config(v));
                    self.events
                        .push(env(&format!("change card{apid:02x}"), &vars));
                }
                None
            }
            CardPlan::Replace(n) => {
                self.remove_card(apid);
                Some(n)
            }
            CardPlan::Create(n) => Some(n),
        };
        if let Some(n) = new {
            let qact = qci.qact();
            let t = n.compatible_type(qact, |i| sim.qact(n.q, i));
            if t == 0 {
                return;
            }
            self.max_msg_size = self.max_msg_size.max(n.max_msg_size());
            self.cards.insert(
                apid,
                Card {
                    snap: CardSnapshot::new(n.hw, n.config, n.chkstop),
                    dev_type: t,
                    hw: n.hw,
                },
            );
            let vars: Vec<EnvVar> = bus_uevent_vars(UeventDevice::Card {
                dev_type: t,
                hw: n.hw,
            })
            .into_iter()
            .flatten()
            .collect();
            self.events.push(env(&format!("add card{apid:02x}"), &vars));
        }
        self.scan_domains(sim, apid);
    }

    fn scan_domains(&mut self, sim: &mut TestSim, apid: u8) {
        let qci = self.cur;
        for apqi in 0..=self.limits.max_apqi {
            let q = Apqn::new(apid, apqi);
            let in_config = self.limits.usage_domain_configured(Some(&qci), apqi);
            let info = if in_config {
                let (st, hw) = sim.tapq(q, true);
                queue_info(&self.limits, q, st, hw)
            } else {
                QueueInfo::Invalid
            };
            let existing = self.queues.get(&q).map(QueueSnapshot::of);
            let plan = plan_queue(existing.as_ref(), in_config, info);
            match plan {
                QueuePlan::Nothing => {}
                QueuePlan::Remove(_) => self.remove_queue(q),
                QueuePlan::Create {
                    config,
                    chkstop,
                    init_sm,
                    ..
                } => {
                    let mut sm = QueueSm::new(config, chkstop);
                    let _ = plan.apply(&mut sm);
                    self.events.push(format!("add {q}"));
                    if init_sm {
                        let first = sm.init_state();
                        sm.drive(sim, q, 0, Some(first), SmEvent::Poll);
                    }
                    self.queues.insert(q, sm);
                }
                _ => {
                    let sm = self.queues.get_mut(&q).unwrap();
                    let first = plan.apply(sm);
                    sm.drive(sim, q, 0, Some(first), SmEvent::Poll);
                    if let Some(v) = plan.config_uevent() {
                        self.events.push(env(
                            &format!("change {q}"),
                            &[
                                EnvVar::Mode(self.cards[&apid].hw.mode().unwrap()),
                                EnvVar::Config(v),
                            ],
                        ));
                    }
                }
            }
        }
    }

    /// The poll tasklet: every queue runs its event loop.
    fn poll(&mut self, sim: &mut TestSim) {
        for (q, sm) in self.queues.iter_mut() {
            sm.drive_loop(sim, *q, 0, SmEvent::Poll);
        }
    }

    fn take_events(&mut self) -> Vec<String> {
        std::mem::take(&mut self.events)
    }
}

fn machine() -> MachineSpec {
    let mut m = MachineSpec::DEFAULT;
    m.na = 15;
    m.nd = 7;
    m.doms = ap_bus::mask::Mask::range(0, 3);
    m
}

fn new_sim(spec: &MachineSpec) -> Box<TestSim> {
    let mut s = Box::new(Sim::new(FakeClock::new()));
    s.configure(spec);
    let _ = s.take_config_event();
    s
}

fn states(bus: &Bus, apid: u8) -> Vec<(DevState, SmState, bool, bool)> {
    bus.queues
        .range(Apqn::new(apid, 0)..=Apqn::new(apid, 255))
        .map(|(_, sm)| (sm.dev_state(), sm.sm_state(), sm.config(), sm.chkstop()))
        .collect()
}

#[test]
fn initial_scan_builds_devices() {
    let mut sim = new_sim(&machine());
    let mut bus = Bus::new(&mut sim);
    assert_eq!((bus.limits.max_apid, bus.limits.max_apqi), (15, 7));
    assert!(!bus.scan(&mut sim));
    assert_eq!(bus.domain, 0);
    assert_eq!(bus.cards.len(), 4);
    assert_eq!(bus.queues.len(), 16);
    let ev = bus.take_events();
    assert_eq!(ev[0], "add card00 DEV_TYPE=000E MODALIAS=ap:t0E MODE=cca");
    assert_eq!(ev[1], "add 00.0000");
    assert!(ev.contains(&"root INITSCAN=done".to_string()));
    assert_eq!(ev.last().unwrap(), "root BINDINGS=complete COMPLETECOUNT=1");
    // The resets were started (RAPQ); after reset_ms a poll brings every queue to IDLE.
    assert!(states(&bus, 0)
        .iter()
        .all(|s| *s == (DevState::Operating, SmState::ResetWait, true, false)));
    sim.clock().advance_ms(5);
    bus.poll(&mut sim);
    assert!(bus
        .queues
        .values()
        .all(|sm| sm.sm_state() == SmState::Idle && sm.dev_state() == DevState::Operating));
    // A second scan changes nothing.
    assert!(!bus.scan(&mut sim));
    assert_eq!(bus.take_events(), Vec::<String>::new());
    assert_eq!(bus.scans, 2);
}

#[test]
fn deconfigure_and_checkstop() {
    let mut sim = new_sim(&machine());
    let mut bus = Bus::new(&mut sim);
    bus.scan(&mut sim);
    sim.clock().advance_ms(5);
    bus.poll(&mut sim);
    bus.take_events();

    sim.apply(&Command::Config { apid: 1, on: false }).unwrap();
    assert!(
        !bus.scan(&mut sim),
        "the QCI block does not change on deconfiguration"
    );
    let ev = bus.take_events();
    assert_eq!(
        ev[0],
        "change card01 DEV_TYPE=000E MODALIAS=ap:t0E MODE=cca CONFIG=0"
    );
    assert_eq!(ev[1], "change 01.0000 MODE=cca CONFIG=0");
    assert_eq!(ev.len(), 5);
    assert!(!bus.cards[&1].snap.config);
    assert!(states(&bus, 1)
        .iter()
        .all(|s| *s == (DevState::Error, SmState::Idle, false, false)));
    assert!(bus
        .queues
        .range(Apqn::new(1, 0)..=Apqn::new(1, 255))
        .all(|(_, sm)| sm.last_err_rc() == 3));

    sim.apply(&Command::Config { apid: 1, on: true }).unwrap();
    bus.scan(&mut sim);
    let ev = bus.take_events();
    assert_eq!(
        ev[0],
        "change card01 DEV_TYPE=000E MODALIAS=ap:t0E MODE=cca CONFIG=1"
    );
    assert_eq!(ev.len(), 5);
    assert!(states(&bus, 1)
        .iter()
        .all(|s| *s == (DevState::Operating, SmState::ResetWait, true, false)));

    sim.apply(&Command::Chkstop { apid: 2, on: true }).unwrap();
    bus.scan(&mut sim);
    assert_eq!(bus.take_events(), Vec::<String>::new());
    assert!(bus.cards[&2].snap.chkstop);
    assert!(states(&bus, 2)
        .iter()
        .all(|s| *s == (DevState::Error, SmState::Idle, true, true)));
    // C quirk: the next scan finds the queues checkstopped (unchanged), configured and in
    // ERROR, so the error branch re-initialises them: OPERATING / RESET_START, although the
    // machine cannot run while checkstopped.
    bus.scan(&mut sim);
    assert!(states(&bus, 2)
        .iter()
        .all(|s| *s == (DevState::Operating, SmState::ResetStart, true, true)));
    sim.apply(&Command::Chkstop { apid: 2, on: false }).unwrap();
    bus.scan(&mut sim);
    assert!(!bus.cards[&2].snap.chkstop);
    assert!(states(&bus, 2)
        .iter()
        .all(|s| *s == (DevState::Operating, SmState::ResetWait, true, false)));
}

#[test]
fn configuration_changes() {
    let mut sim = new_sim(&machine());
    let mut bus = Bus::new(&mut sim);
    bus.scan(&mut sim);
    bus.take_events();

    // A domain goes away: its queue devices are removed, no re-arm.
    sim.apply(&Command::RemoveDomain(3)).unwrap();
    assert!(bus.scan(&mut sim));
    let ev = bus.take_events();
    assert_eq!(
        ev,
        [
            "remove 00.0003",
            "remove 01.0003",
            "remove 02.0003",
            "remove 03.0003"
        ]
    );
    assert_eq!(bus.completion.count(), 1);

    // A new adapter: created, the completion is re-armed and completes again.
    sim.apply(&Command::Add {
        apid: 9,
        raw_type: 13,
        mode: ap_bus::hw::Mode::Ep11,
    })
    .unwrap();
    assert!(bus.scan(&mut sim));
    let ev = bus.take_events();
    assert_eq!(ev[0], "add card09 DEV_TYPE=000D MODALIAS=ap:t0D MODE=ep11");
    assert_eq!(ev.last().unwrap(), "root BINDINGS=complete COMPLETECOUNT=2");

    // A type change replaces the card and its queues.
    sim.apply(&Command::Type {
        apid: 9,
        raw_type: 12,
    })
    .unwrap();
    bus.scan(&mut sim);
    let ev = bus.take_events();
    assert_eq!(ev[0], "remove 09.0000");
    assert_eq!(ev[3], "remove card09 DEV_TYPE=000D");
    assert_eq!(ev[4], "add card09 DEV_TYPE=000C MODALIAS=ap:t0C MODE=ep11");
    assert_eq!(bus.cards[&9].snap.at, 12);

    // A newer type without a QACT answer: no card.
    sim.apply(&Command::Qact(0)).unwrap();
    sim.apply(&Command::Type {
        apid: 9,
        raw_type: 15,
    })
    .unwrap();
    bus.scan(&mut sim);
    assert!(!bus.cards.contains_key(&9));
    assert!(bus.queues.keys().all(|q| q.apid != 9));

    // The adapter goes away.
    sim.apply(&Command::Remove { apid: 3 }).unwrap();
    bus.scan(&mut sim);
    let ev = bus.take_events();
    assert_eq!(ev.last().unwrap(), "remove card03 DEV_TYPE=000E");
}

#[test]
fn without_qci() {
    let mut spec = machine();
    spec.qci = false;
    let mut sim = new_sim(&spec);
    let mut bus = Bus::new(&mut sim);
    assert_eq!(bus.limits, IdLimits::DEFAULT);
    assert!(!bus.scan(&mut sim));
    // Every domain 0..=15 counts as configured; the machine answers only for 0..=3.
    assert_eq!(bus.queues.len(), 16);
    sim.apply(&Command::Add {
        apid: 5,
        raw_type: 14,
        mode: ap_bus::hw::Mode::Accel,
    })
    .unwrap();
    assert!(!bus.scan(&mut sim));
    assert!(bus.cards.contains_key(&5));
    assert_eq!(
        bus.completion.count(),
        1,
        "no configuration change, no re-arm"
    );
}

#[test]
fn reset_attribute_and_unbind() {
    let mut sim = new_sim(&machine());
    let mut bus = Bus::new(&mut sim);
    bus.scan(&mut sim);
    sim.clock().advance_ms(5);
    bus.poll(&mut sim);
    let q = Apqn::new(0, 1);
    let sm = bus.queues.get_mut(&q).unwrap();
    let first = sm.reset_store();
    sm.drive(&mut *sim, q, 0, Some(first), SmEvent::Poll);
    assert_eq!(sm.sm_state(), SmState::ResetWait);
    assert!(sim.reset_pending(q));
    // Unbind: ZAPQ, uninitiated; the machine then no longer runs.
    sm.prepare_remove();
    let z = sm.remove();
    ap_bus::queue_sm::issue_on(&mut *sim, q, 0, z);
    let sm = bus.queues.get_mut(&q).unwrap();
    assert_eq!(sm.dev_state(), DevState::Uninitiated);
    sim.clock().advance_ms(5);
    bus.poll(&mut sim);
    assert_eq!(bus.queues[&q].sm_state(), SmState::ResetWait);
}
