// SPDX-License-Identifier: GPL-2.0
//! Property tests of the step machines: the queue reset (terminates within its timeout, and
//! decides as the C loop does when the C loop ends) and the AQIC enable/disable (terminates,
//! and never leaks a page pin or a GISC registration).

use std::collections::BTreeMap;

use proptest::prelude::*;
use vfio_ap::aqic::{
    irq_disable, irq_enable, DisableAction, DisableInput, DisableMachine, IrqEnv, IrqState,
    VFIO_AP_ISC_INVALID,
};
use vfio_ap::hw::{AqicCtrl, QueueStatus};
use vfio_ap::reset::{
    next_wakeup, tapq_check, zapq_needs_repeat, FreeAqic, ResetAction, ResetConfig, ResetEnd,
    ResetInput, ResetMachine, TapqCheck,
};

/// Response codes that matter to the reset, plus a few others.
fn code() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => Just(0u8),
        3 => Just(2u8),
        2 => Just(5u8),
        1 => Just(0x0au8),
        1 => Just(3u8),
        1 => Just(4u8),
        1 => Just(1u8),
        1 => Just(0x35u8),
        1 => Just(0x36u8),
        1 => Just(6u8),
        1 => any::<u8>(),
    ]
}

/// The C algorithm (`vfio_ap_mdev_reset_queue` + `apq_reset_check`) without timing, over the
/// same answer sequences: (end, reset_status rc, ZAPQs, free).
fn c_reset(
    zapq: &mut dyn FnMut() -> u8,
    tapq: &mut dyn FnMut() -> u8,
) -> (ResetEnd, u8, u32, FreeAqic) {
    let mut rs = zapq();
    let mut n = 1;
    match rs {
        0 | 2 | 5 | 0x0a => {}
        1 | 3 | 4 => return (ResetEnd::Immediate, rs, n, FreeAqic::Always),
        _ => return (ResetEnd::ZapqFailed, rs, n, FreeAqic::No),
    }
    loop {
        let t = tapq();
        match tapq_check(t) {
            TapqCheck::Error => return (ResetEnd::TapqFailed { rc: t }, rs, n, FreeAqic::No),
            TapqCheck::NoDevice => return (ResetEnd::NotAvailable, rs, n, FreeAqic::Always),
            TapqCheck::Busy => {}
            c => {
                if c == TapqCheck::Again || zapq_needs_repeat(rs) {
                    rs = zapq();
                    n += 1;
                } else {
                    return (ResetEnd::Completed, rs, n, FreeAqic::IfIscRegistered);
                }
            }
        }
    }
}

fn seq(v: &[u8]) -> impl FnMut() -> u8 + '_ {
    let mut i = 0;
    move || {
        let c = v.get(i).copied().unwrap_or(0);
        i += 1;
        c
    }
}

fn cyc(v: &[u8]) -> impl FnMut() -> u8 + '_ {
    let mut i = 0;
    move || {
        let c = if v.is_empty() { 0 } else { v[i % v.len()] };
        i += 1;
        c
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// With answer sequences after which the queue behaves (ZAPQ and TAPQ say 0), the C loop
    /// ends; the machine, with a timeout it cannot reach, ends the same way.
    #[test]
    fn reset_decides_as_c(
        zapqs in proptest::collection::vec(code(), 1..12),
        tapqs in proptest::collection::vec(code(), 0..30),
    ) {
        let want = c_reset(&mut seq(&zapqs), &mut seq(&tapqs));
        let cfg = ResetConfig { timeout_ns: u64::MAX / 4 };
        let mut m = ResetMachine::new(0, &cfg);
        let (mut z, mut t) = (seq(&zapqs), seq(&tapqs));
        let now = std::cell::Cell::new(0u64);
        let o = m.run(
            || now.get(),
            || QueueStatus::new(z()),
            || QueueStatus::new(t()),
            |u| now.set(u),
        );
        prop_assert_eq!((o.end, o.reset_status.response_code(), o.zapqs, o.free_aqic), want);
    }

    /// Whatever the answers (also those that make C loop forever) and however late the
    /// wake-ups, the reset ends, and no later than the timeout plus one late wake-up.
    #[test]
    fn reset_terminates_within_timeout(
        zapqs in proptest::collection::vec(code(), 1..6),
        tapqs in proptest::collection::vec(code(), 1..6),
        timeout_ms in 1u64..300,
        jitter in proptest::collection::vec(0u64..3_000_000, 1..8),
        start in 0u64..1_000_000_000_000,
    ) {
        let cfg = ResetConfig { timeout_ns: timeout_ms * 1_000_000 };
        let mut m = ResetMachine::new(start, &cfg);
        let (mut z, mut t) = (cyc(&zapqs), cyc(&tapqs));
        let mut now = start;
        let mut j = 0usize;
        let max_jitter = jitter.iter().copied().max().unwrap_or(0);
        let mut steps = 0u32;
        let mut action = m.action();
        let outcome = loop {
            steps += 1;
            prop_assert!(steps < 200_000, "no end after {} steps", steps);
            action = match action {
                ResetAction::Zapq => m.step(now, ResetInput::Zapq(QueueStatus::new(z()))),
                ResetAction::Tapq => m.step(now, ResetInput::Tapq(QueueStatus::new(t()))),
                ResetAction::Sleep { until_ns, .. } => {
                    prop_assert_eq!(next_wakeup([&m]), Some(until_ns));
                    prop_assert!(until_ns >= now);
                    now = until_ns + jitter[j % jitter.len()];
                    j += 1;
                    m.step(now, ResetInput::Wake)
                }
                ResetAction::Done(o) => break o,
            };
        };
        prop_assert!(now - start <= cfg.timeout_ns + max_jitter, "{} > {}", now - start, cfg.timeout_ns);
        if outcome.end == ResetEnd::TimedOut {
            prop_assert_eq!(outcome.free_aqic, FreeAqic::No);
            prop_assert!(m.elapsed_ns(now) >= cfg.timeout_ns);
        }
    }

    /// A frozen clock cannot keep the machine running either.
    #[test]
    fn reset_terminates_with_frozen_clock(
        zapqs in proptest::collection::vec(code(), 1..6),
        tapqs in proptest::collection::vec(code(), 1..6),
        timeout_ms in 1u64..100,
    ) {
        let cfg = ResetConfig { timeout_ns: timeout_ms * 1_000_000 };
        let mut m = ResetMachine::new(7, &cfg);
        let (mut z, mut t) = (cyc(&zapqs), cyc(&tapqs));
        let mut n = 0u64;
        let o = m.run(|| 7, || QueueStatus::new(z()), || { n += 1; QueueStatus::new(t()) }, |_| {});
        prop_assert!(n <= timeout_ms * 10 + 10, "{} TAPQs", n);
        let _ = o;
    }

    /// The disable machine ends within 22 actions whatever the (matching) answers.
    #[test]
    fn disable_terminates(
        aqics in proptest::collection::vec(code(), 1..8),
        tapqs in proptest::collection::vec((code(), any::<bool>()), 1..8),
    ) {
        let mut m = DisableMachine::new();
        let (mut ia, mut it, mut n) = (0usize, 0usize, 0u32);
        let o = m.run(|a| {
            n += 1;
            match a {
                DisableAction::Aqic => { ia += 1; DisableInput::Aqic(QueueStatus::new(aqics[(ia - 1) % aqics.len()])) }
                DisableAction::Tapq => {
                    it += 1;
                    let (c, irq) = tapqs[(it - 1) % tapqs.len()];
                    DisableInput::Tapq(QueueStatus::new(c).with_irq(irq))
                }
                _ => DisableInput::Slept,
            }
        });
        prop_assert!(n <= 22, "{} actions", n);
        prop_assert!(ia <= 6 && it <= 5);
        prop_assert_eq!(o.status.response_code(), aqics[(ia - 1) % aqics.len()]);
    }
}

/// A guest and a queue whose services answer from scripts, counting outstanding pins and GISC
/// registrations.
struct LeakEnv {
    pins: BTreeMap<u64, i64>,
    giscs: BTreeMap<u8, i64>,
    script: Vec<u8>,
    at: usize,
}

impl LeakEnv {
    fn next(&mut self) -> u8 {
        let v = self.script.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        v
    }
}

impl IrqEnv for LeakEnv {
    fn nib_in_memslot(&mut self, _nib: u64) -> bool {
        !self.next().is_multiple_of(8)
    }
    fn pin(&mut self, nib: u64) -> Option<u64> {
        if self.next().is_multiple_of(8) {
            return None;
        }
        *self.pins.entry(nib).or_default() += 1;
        Some(0x10_0000 + (nib & !0xfff))
    }
    fn unpin(&mut self, iova: u64) {
        *self.pins.entry(iova).or_default() -= 1;
    }
    fn pv_protected(&mut self) -> bool {
        self.next().is_multiple_of(4)
    }
    fn ensure_shared(&mut self, _page: u64) -> bool {
        self.next().is_multiple_of(2)
    }
    fn gisc_register(&mut self, isc: u8) -> Option<u8> {
        if self.next().is_multiple_of(8) {
            return None;
        }
        *self.giscs.entry(isc).or_default() += 1;
        Some(isc ^ 7)
    }
    fn gisc_unregister(&mut self, isc: u8) {
        *self.giscs.entry(isc).or_default() -= 1;
    }
    fn gisa_phys(&mut self) -> u64 {
        0x4000_0000
    }
    fn aqic(&mut self, _ctrl: AqicCtrl, _nib: u64) -> QueueStatus {
        let c = match self.next() % 8 {
            0..=2 => 0,
            3 => 7,
            4 => 2,
            5 => 5,
            6 => 6,
            _ => 3,
        };
        QueueStatus::new(c)
    }
    fn tapq(&mut self) -> QueueStatus {
        let v = self.next();
        QueueStatus::new([0u8, 2, 5, 3][usize::from(v % 4)]).with_irq(v & 0x10 != 0)
    }
    fn sleep_ms(&mut self, _ms: u32) {}
}

#[derive(Clone, Debug)]
enum IrqOp {
    Enable(u8, u64),
    Disable,
    ResetFree,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// After any sequence of enables, disables and reset frees with any answers, the only pin
    /// and GISC registration left are the saved ones (C leaks both when the host AQIC of an
    /// enable fails with an unexpected code; the model releases them).
    #[test]
    fn aqic_never_leaks(
        ops in proptest::collection::vec(prop_oneof![
            4 => (0u8..8, prop_oneof![Just(0u64), Just(0x8004u64), Just(0x9008u64), Just(0x8010u64)])
                .prop_map(|(i, n)| IrqOp::Enable(i, n)),
            2 => Just(IrqOp::Disable),
            1 => Just(IrqOp::ResetFree),
        ], 0..20),
        script in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut env = LeakEnv { pins: BTreeMap::new(), giscs: BTreeMap::new(), script, at: 0 };
        let mut st = IrqState::NONE;
        for op in ops {
            match op {
                IrqOp::Enable(isc, nib) => {
                    let s = irq_enable(&mut st, isc, nib, &mut env);
                    if s.response_code() == 0 {
                        prop_assert_eq!(st, IrqState { saved_iova: nib, saved_isc: isc });
                    }
                }
                IrqOp::Disable => {
                    irq_disable(&mut st, true, true, &mut env);
                    prop_assert_eq!(st, IrqState::NONE);
                }
                IrqOp::ResetFree => {
                    let f = st.free(true, true);
                    if let Some(i) = f.unregister_isc { env.gisc_unregister(i); }
                    if let Some(v) = f.unpin_iova { env.unpin(v); }
                }
            }
            for (&iova, &n) in &env.pins {
                let want = i64::from(st.saved_iova == iova && iova != 0);
                prop_assert_eq!(n, want, "pin {:#x}", iova);
            }
            for (&isc, &n) in &env.giscs {
                let want = i64::from(st.saved_isc == isc && isc != VFIO_AP_ISC_INVALID);
                prop_assert_eq!(n, want, "gisc {}", isc);
            }
        }
    }
}
