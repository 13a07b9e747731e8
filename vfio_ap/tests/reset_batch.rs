// SPDX-License-Identifier: GPL-2.0
//! Batched instructions in a batch of resets (`reset::run_batch_on` with a scratch buffer): the
//! same outcome for every queue as one instruction at a time, one ZAPQ call for the first
//! round, and TAPQ batches only after the head ended in a round.

use proptest::prelude::*;
use vfio_ap::hw::QueueStatus;
use vfio_ap::reset::{
    batch_len, run_batch_on, BusyNotice, ResetConfig, ResetEnd, ResetMachine, ResetOutcome,
    ResetPort,
};

const MS: u64 = 1_000_000;

/// What the fake saw, in order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ev {
    Zapq(usize),
    Tapq(usize),
    ZapqMany(usize, usize),
    TapqMany(usize, usize),
    Sleep,
}

/// One queue of the fake.
#[derive(Clone, Debug)]
struct FakeQueue {
    /// The answers of its ZAPQs in order (the last one repeats).
    zapq: Vec<u8>,
    /// How long the reset started by each ZAPQ takes (the last one repeats; `u64::MAX`: never
    /// ends).
    dur: Vec<u64>,
    /// What TAPQ answers once the reset of each ZAPQ ended (busy, 0x02, before).
    done: Vec<u8>,
}

fn nth<T: Copy>(v: &[T], k: usize) -> T {
    *v.get(k).or(v.last()).expect("non-empty script")
}

/// A set of queues: TAPQ answers from the clock (it does not change a queue), ZAPQ starts a new
/// reset. A single instruction costs `cost` ns of the clock, one in a batch `cost_many`.
struct Fake {
    now: u64,
    cost: u64,
    cost_many: u64,
    queues: Vec<FakeQueue>,
    zapqs: Vec<usize>,
    ends: Vec<u64>,
    log: Vec<Ev>,
}

impl Fake {
    fn new(queues: Vec<FakeQueue>, cost: u64, cost_many: u64) -> Fake {
        let n = queues.len();
        Fake {
            now: 0,
            cost,
            cost_many,
            queues,
            zapqs: vec![0; n],
            ends: vec![u64::MAX; n],
            log: Vec::new(),
        }
    }

    fn do_zapq(&mut self, i: usize) -> QueueStatus {
        let q = &self.queues[i];
        let k = self.zapqs[i];
        self.zapqs[i] += 1;
        self.ends[i] = self.now.saturating_add(nth(&q.dur, k));
        QueueStatus::new(nth(&q.zapq, k))
    }

    fn do_tapq(&self, i: usize) -> QueueStatus {
        if self.now < self.ends[i] {
            return QueueStatus::new(2);
        }
        QueueStatus::new(nth(&self.queues[i].done, self.zapqs[i].saturating_sub(1)))
    }
}

impl ResetPort for Fake {
    fn now(&mut self) -> u64 {
        self.now
    }
    fn zapq(&mut self, i: usize) -> QueueStatus {
        self.log.push(Ev::Zapq(i));
        self.now += self.cost;
        self.do_zapq(i)
    }
    fn tapq(&mut self, i: usize) -> QueueStatus {
        self.log.push(Ev::Tapq(i));
        self.now += self.cost;
        self.do_tapq(i)
    }
    fn zapq_many(&mut self, first: usize, out: &mut [QueueStatus]) {
        self.log.push(Ev::ZapqMany(first, out.len()));
        for (k, o) in out.iter_mut().enumerate() {
            self.now += self.cost_many;
            *o = self.do_zapq(first + k);
        }
    }
    fn tapq_many(&mut self, first: usize, out: &mut [QueueStatus]) {
        self.log.push(Ev::TapqMany(first, out.len()));
        for (k, o) in out.iter_mut().enumerate() {
            self.now += self.cost_many;
            *o = self.do_tapq(first + k);
        }
    }
    fn sleep_until(&mut self, until_ns: u64) {
        self.log.push(Ev::Sleep);
        self.now = self.now.max(until_ns);
    }
    fn notice(&mut self, _i: usize, _n: BusyNotice) {}
}

/// Runs the batch; `batched`: with a scratch buffer. The outcomes, ZAPQs per queue, the fake.
fn run(
    queues: &[FakeQueue],
    batched: bool,
    cost: u64,
    cost_many: u64,
) -> (Vec<ResetOutcome>, Fake) {
    let cfg = ResetConfig {
        timeout_ns: 500 * MS,
    };
    let mut ms: Vec<ResetMachine> = queues.iter().map(|_| ResetMachine::new(0, &cfg)).collect();
    let mut fake = Fake::new(queues.to_vec(), cost, cost_many);
    let mut scratch =
        vec![QueueStatus::default(); if batched { batch_len(queues.len()) } else { 0 }];
    run_batch_on(&mut ms, &mut fake, &mut scratch);
    let os = ms.iter().map(|m| m.outcome().expect("done")).collect();
    (os, fake)
}

fn plain(n: usize, dur: u64) -> Vec<FakeQueue> {
    vec![
        FakeQueue {
            zapq: vec![0],
            dur: vec![dur],
            done: vec![0],
        };
        n
    ]
}

/// The events of each round (between sleeps).
fn rounds(log: &[Ev]) -> Vec<&[Ev]> {
    log.split(|e| *e == Ev::Sleep).collect()
}

/// Whether each TAPQ batch comes after a single TAPQ of an earlier queue in its round (the
/// head that ended), never first in a round.
fn batches_after_head(log: &[Ev]) -> Result<(), Vec<Ev>> {
    for r in rounds(log) {
        let mut last_tapq = None;
        for e in r {
            match *e {
                Ev::Tapq(i) => last_tapq = Some(i),
                Ev::TapqMany(f, _) if last_tapq.is_none_or(|h| h >= f) => return Err(r.to_vec()),
                _ => {}
            }
        }
    }
    Ok(())
}

#[test]
fn one_zapq_call_and_tapq_batches_after_the_head_ended() {
    let q = plain(256, 5 * MS);
    let (os, fake) = run(&q, true, 20_000, 1_000);
    assert!(os
        .iter()
        .all(|o| o.end == ResetEnd::Completed && o.errno().is_none()));
    // The first round: one ZAPQ call for all (the head may be polled after it), no single
    // ZAPQ.
    assert_eq!(rounds(&fake.log)[0].first(), Some(&Ev::ZapqMany(0, 256)));
    assert!(!fake
        .log
        .iter()
        .any(|e| matches!(e, Ev::Zapq(_) | Ev::ZapqMany(1.., _))));
    // While the head waits, one single TAPQ a round; the round it ends in, one TAPQ batch
    // from the next queue on.
    let batches = fake
        .log
        .iter()
        .filter(|e| matches!(e, Ev::TapqMany(..)))
        .count();
    assert!((1..=3).contains(&batches), "{batches}");
    assert_eq!(batches_after_head(&fake.log), Ok(()));
    // About one TAPQ per queue in all, plus the head's polls.
    let tapqs: usize = fake
        .log
        .iter()
        .map(|e| match e {
            Ev::Tapq(_) => 1,
            Ev::TapqMany(_, n) => *n,
            _ => 0,
        })
        .sum();
    assert!(tapqs <= 2 * 256 + 16, "{tapqs}");
    // Faster than one at a time, which spreads the ZAPQs over 256 x 20 us.
    let (os1, slow) = run(&q, false, 20_000, 1_000);
    assert_eq!(os, os1);
    assert!(fake.now + 4 * MS < slow.now, "{} vs {}", fake.now, slow.now);
}

#[test]
fn no_tapq_batch_while_the_head_waits() {
    // The head never ends: every round is its single TAPQ until its timeout.
    let mut q = plain(8, MS);
    q[0].dur = vec![u64::MAX];
    let (os, fake) = run(&q, true, 1_000, 100);
    assert_eq!(os[0].end, ResetEnd::TimedOut);
    assert!(os[1..].iter().all(|o| o.end == ResetEnd::Completed));
    let rs = rounds(&fake.log);
    let waiting = &rs[1..rs.len() - 1];
    assert!(waiting.len() > 100);
    assert!(waiting.iter().all(|r| *r == [Ev::Tapq(0)]), "{waiting:?}");
}

fn fake_queue() -> impl Strategy<Value = FakeQueue> {
    let zapq = prop_oneof![6 => Just(0u8), 1 => Just(2u8), 1 => Just(5u8), 1 => Just(0x0au8), 1 => Just(3u8), 1 => Just(1u8), 1 => Just(6u8)];
    let end = prop_oneof![6 => Just(0u8), 1 => Just(3u8), 1 => Just(1u8), 1 => Just(6u8)];
    let done = prop_oneof![6 => Just(0u8), 1 => Just(0x35u8), 1 => Just(1u8), 1 => Just(6u8)];
    let dur = prop_oneof![4 => 0u64..30 * MS, 1 => Just(u64::MAX)];
    (
        prop::collection::vec(zapq, 0..3),
        prop::collection::vec(dur, 1..4),
        prop::collection::vec(done, 0..3),
        end,
    )
        .prop_map(|(mut zapq, dur, mut done, last)| {
            // Scripts that end: the last ZAPQ answer needs no repeat, the last TAPQ answer no
            // new ZAPQ.
            zapq.push(last);
            done.push(last);
            FakeQueue { zapq, dur, done }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// With instructions that take no time both runs see the same clock: every queue ends the
    /// same, with the same ZAPQs; with a cost, every queue whose reset ends still ends the same.
    #[test]
    fn batched_ends_as_one_at_a_time(
        queues in prop::collection::vec(fake_queue(), 1..40),
        cost in prop_oneof![Just(0u64), 1_000u64..50_000],
    ) {
        let (a, fa) = run(&queues, false, cost, cost / 10);
        let (b, fb) = run(&queues, true, cost, cost / 10);
        prop_assert!(!fa.log.iter().any(|e| matches!(e, Ev::ZapqMany(..) | Ev::TapqMany(..))));
        if cost == 0 {
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(&fa.zapqs, &fb.zapqs);
        }
        for ((x, y), q) in a.iter().zip(&b).zip(&queues) {
            if x.end != ResetEnd::TimedOut && y.end != ResetEnd::TimedOut && !q.dur.contains(&u64::MAX) {
                prop_assert_eq!(x, y);
            }
        }
        // One ZAPQ call for the first round.
        let first = rounds(&fb.log)[0];
        prop_assert!(matches!(first.first(), Some(Ev::ZapqMany(0, _))), "{:?}", first);
        prop_assert_eq!(batches_after_head(&fb.log), Ok(()));
    }
}
