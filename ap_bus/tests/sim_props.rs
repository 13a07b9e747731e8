// SPDX-License-Identifier: GPL-2.0
//! Property tests of the AP facility simulator: command round trips, QCI/TAPQ consistency
//! and the configuration change event.

use ap_bus::facility::ApFacility;
use ap_bus::hw::{rc, AqicCtrl, Mode, QciInfo};
use ap_bus::ids::Apqn;
use ap_bus::mask::Mask;
use ap_bus::sim::{
    parse_command, parse_machine_spec, Command, FakeClock, MachineSpec, Sim, RESET_NEVER,
};
use proptest::prelude::*;

type TestSim = Sim<FakeClock>;

fn mode_str(m: Mode) -> &'static str {
    m.as_str()
}

/// Renders a command in the debugfs syntax (numbers in decimal or hex).
fn render(cmd: &Command, hex: bool) -> String {
    let n = |v: u32| {
        if hex {
            format!("0x{v:x}")
        } else {
            format!("{v}")
        }
    };
    match *cmd {
        Command::Add {
            apid,
            raw_type,
            mode,
        } => {
            format!(
                "add {} {} {}\n",
                n(apid.into()),
                n(raw_type.into()),
                mode_str(mode)
            )
        }
        Command::Remove { apid } => format!("remove {}", n(apid.into())),
        Command::AddDomain(d) => format!("adom {}", n(d.into())),
        Command::RemoveDomain(d) => format!("rdom {}", n(d.into())),
        Command::AddControlDomain(d) => format!("acdom {}", n(d.into())),
        Command::RemoveControlDomain(d) => format!("rcdom {}", n(d.into())),
        Command::Config { apid, on } => format!("config {} {}", n(apid.into()), u8::from(on)),
        Command::Chkstop { apid, on } => format!("chkstop {} {}\n", n(apid.into()), u8::from(on)),
        Command::Type { apid, raw_type } => {
            format!("type {} {}", n(apid.into()), n(raw_type.into()))
        }
        Command::ResetMs(RESET_NEVER) => "reset_ms never".into(),
        Command::ResetMs(ms) => format!("reset_ms {}", n(ms)),
        Command::AqicFail(c) => format!("aqic_fail {}", n(c.into())),
        Command::Qact(0) => "qact fail".into(),
        Command::Qact(t) => format!("qact {}", n(t.into())),
        Command::Sclp(on) => format!("sclp {}", u8::from(on)),
        Command::NoticesClear => "notices clear".into(),
        Command::Machine(_) => "machine".into(),
    }
}

fn mode_strategy() -> impl Strategy<Value = Mode> {
    prop_oneof![Just(Mode::Accel), Just(Mode::Cca), Just(Mode::Ep11)]
}

/// Small ids so that commands hit the same adapters and domains often.
fn id() -> impl Strategy<Value = u8> {
    prop_oneof![0u8..8, any::<u8>()]
}

fn command_strategy() -> impl Strategy<Value = Command> {
    prop_oneof![
        (id(), 10u8..20, mode_strategy()).prop_map(|(apid, raw_type, mode)| Command::Add {
            apid,
            raw_type,
            mode
        }),
        id().prop_map(|apid| Command::Remove { apid }),
        id().prop_map(Command::AddDomain),
        id().prop_map(Command::RemoveDomain),
        id().prop_map(Command::AddControlDomain),
        id().prop_map(Command::RemoveControlDomain),
        (id(), any::<bool>()).prop_map(|(apid, on)| Command::Config { apid, on }),
        (id(), any::<bool>()).prop_map(|(apid, on)| Command::Chkstop { apid, on }),
        (id(), any::<u8>()).prop_map(|(apid, raw_type)| Command::Type { apid, raw_type }),
        prop_oneof![Just(RESET_NEVER), 0u32..50, any::<u32>()].prop_map(Command::ResetMs),
        any::<u8>().prop_map(Command::AqicFail),
        any::<u8>().prop_map(Command::Qact),
        any::<bool>().prop_map(Command::Sclp),
        Just(Command::NoticesClear),
        Just(Command::Machine(MachineSpec::DEFAULT)),
    ]
}

/// Everything the configuration change event is about: QCI, (apid, configured, chkstop) of
/// each adapter, adapters, usage and control domains.
type Snapshot = (Option<QciInfo>, Vec<(u8, bool, bool)>, Mask, Mask, Mask);

fn snapshot(s: &mut TestSim) -> Snapshot {
    let states = s
        .adapters()
        .iter()
        .map(|a| {
            let i = s.adapter(a).unwrap();
            (a, i.configured, i.chkstop)
        })
        .collect();
    (
        s.qci(),
        states,
        s.adapters(),
        s.usage_domains(),
        s.control_domains(),
    )
}

fn new_sim() -> Box<TestSim> {
    let mut s = Box::new(Sim::new(FakeClock::new()));
    s.configure(&MachineSpec::DEFAULT);
    s.take_config_event();
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn commands_round_trip(cmd in command_strategy(), hex in any::<bool>()) {
        let text = render(&cmd, hex);
        let parsed = parse_command(text.as_bytes());
        prop_assert_eq!(parsed, Ok(cmd), "{:?}", text);
    }

    #[test]
    fn machine_and_qci_stay_consistent(
        cmds in proptest::collection::vec(command_strategy(), 1..24),
        probes in proptest::collection::vec((id(), id()), 8),
    ) {
        let mut s = new_sim();
        for cmd in &cmds {
            let before = snapshot(&mut s);
            let r = s.apply(cmd);
            let after = snapshot(&mut s);
            let event = s.take_config_event();
            let visible_change = before != after;
            match cmd {
                Command::Machine(_) => prop_assert!(event),
                _ if r.is_err() => prop_assert!(!event && !visible_change),
                _ => prop_assert_eq!(event, visible_change, "{:?}", cmd),
            }
            prop_assert!(!s.take_config_event());

            let qci = s.qci().unwrap();
            let (max_apid, max_apqi) = if qci.apxa() { (qci.na(), qci.nd()) } else { (63, 15) };
            prop_assert_eq!(qci.apm(), s.adapters().and(&Mask::up_to(max_apid)));
            prop_assert_eq!(qci.aqm(), s.usage_domains().and(&Mask::up_to(max_apqi)));
            prop_assert_eq!(qci.adm(), s.control_domains().and(&Mask::up_to(max_apqi)));
            for &(a, d) in &probes {
                let q = Apqn::new(a, d);
                let (st, h) = s.tapq(q, true);
                let visible = qci.apm().test(a) && qci.aqm().test(d);
                let code = st.response_code();
                prop_assert_eq!(code == rc::Q_NOT_AVAIL, !visible);
                if visible {
                    let info = s.adapter(a).unwrap();
                    prop_assert_eq!(h.at(), info.raw_type);
                    prop_assert_eq!(h.mode(), Some(info.mode));
                    if !info.configured {
                        prop_assert_eq!(code, rc::DECONFIGURED);
                    } else if info.chkstop {
                        prop_assert_eq!(code, rc::CHECKSTOPPED);
                    } else {
                        prop_assert!(code == rc::NORMAL || code == rc::RESET_IN_PROGRESS);
                    }
                } else {
                    prop_assert_eq!(h.0, 0);
                }
            }
        }
        // The state dump is line-oriented and mentions every present adapter.
        let mut out = String::new();
        s.write_state(&mut out).unwrap();
        prop_assert_eq!(
            out.lines().filter(|l| l.starts_with("card ")).count(),
            s.adapters().count() as usize
        );
        prop_assert!(out.ends_with('\n'));
    }

    #[test]
    fn resets_complete_after_the_delay(delay in 0u32..1000, a in 0u8..4, d in 0u8..16, t0 in any::<u32>()) {
        let mut s = new_sim();
        s.clock().set_ns(u64::from(t0) * 1_000_000);
        s.apply(&Command::ResetMs(delay)).unwrap();
        let q = Apqn::new(a, d);
        prop_assert_eq!(s.rapq(q, false).response_code(), rc::NORMAL);
        if delay > 0 {
            s.clock().advance_ms(u64::from(delay) - 1);
            prop_assert_eq!(s.tapq(q, true).0.response_code(), rc::RESET_IN_PROGRESS);
            prop_assert_eq!(s.aqic(q, AqicCtrl(0).with_ir(true), 8).response_code(), rc::RESET_IN_PROGRESS);
            s.clock().advance_ms(1);
        }
        prop_assert_eq!(s.tapq(q, true).0.response_code(), rc::NORMAL);
        prop_assert_eq!(s.aqic(q, AqicCtrl(0).with_ir(true), 8).response_code(), rc::NORMAL);
        prop_assert!(s.tapq(q, false).0.irq_enabled());
    }

    #[test]
    fn spec_parser_never_panics(b in proptest::collection::vec(any::<u8>(), 0..120)) {
        let _ = parse_machine_spec(&b);
        let _ = parse_command(&b);
    }

    #[test]
    fn spec_cards_and_domains(
        groups in proptest::collection::vec((any::<u8>(), any::<u8>(), 10u8..=14, mode_strategy()), 1..5),
        d0 in any::<u8>(), d1 in any::<u8>(),
    ) {
        let mut text = String::new();
        let mut expect_type = [None; 256];
        for &(a, b, t, m) in &groups {
            let (lo, hi) = (a.min(b), a.max(b));
            text.push_str(&format!("cards={lo}-{hi}:cex{}:{} ", t - 6, m.as_str()));
            for id in lo..=hi {
                expect_type[usize::from(id)] = Some((t, m));
            }
        }
        let (lo, hi) = (d0.min(d1), d0.max(d1));
        text.push_str(&format!("doms={lo}-{hi};cdoms=0x{hi:x}"));
        let spec = parse_machine_spec(text.as_bytes()).unwrap();
        let mut s = Box::new(Sim::new(FakeClock::new()));
        s.configure(&spec);
        for id in 0..=255u8 {
            let got = s.adapter(id).map(|i| (i.raw_type, i.mode));
            prop_assert_eq!(got, expect_type[usize::from(id)]);
        }
        prop_assert_eq!(s.usage_domains(), Mask::range(lo, hi));
        prop_assert_eq!(s.control_domains(), Mask::from_ids(&[hi]));
    }
}
