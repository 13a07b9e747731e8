// SPDX-License-Identifier: GPL-2.0

//! Queue resets (`vfio_ap_mdev_reset_queues`): ZAPQ and TAPQ polls for a batch of queues in
//! parallel, on the reset model's schedule.

use kernel::{
    prelude::*,
    time::{
        delay::fsleep,
        Delta,
        Instant,
        Monotonic, //
    }, //
};

use crate::{
    abs::{
        ap_services,
        mdev::{
            self,
            Level, //
        }, //
    },
    matrix_dev::{
        errno,
        Msg, //
    },
    mdev_state::{
        MdevRec,
        QueueRec, //
    },
    model::{
        self,
        aqic,
        hw::QueueStatus,
        ids::Apqn,
        reset::{
            self,
            ResetConfig,
            ResetMachine, //
        },
        vfio_text, //
    },
    pqap::free_aqic, //
};

pub(crate) fn apqn_raw(q: Apqn) -> u16 {
    u16::from(q.apid) << 8 | u16::from(q.apqi)
}

/// What `reset_queues` runs its batch on: the clock, `ap.ko`'s instructions on `apqns[k]` for
/// machine `k` (single or batched under one facility lock), sleeping, notices.
pub(crate) struct ResetIo<'a> {
    t0: Instant<Monotonic>,
    pub(crate) apqns: &'a [u16],
    /// The status words of a batched instruction (`reset::batch_len` of them).
    pub(crate) raw: KVec<u32>,
}

impl ResetIo<'_> {
    /// A batched instruction on machines `first..first + out.len()`; with a length that does
    /// not fit (never: the model asks within its scratch and the machines), single ones.
    pub(crate) fn many(
        &mut self,
        first: usize,
        out: &mut [QueueStatus],
        issue: fn(&[u16], bool, &mut [u32]) -> Result,
        single: fn(&mut Self, usize) -> QueueStatus,
    ) {
        let end = first.saturating_add(out.len());
        let done = match (self.apqns.get(first..end), self.raw.get_mut(..out.len())) {
            (Some(a), Some(raw)) => issue(a, false, raw).is_ok(),
            _ => false,
        };
        if done {
            for (o, &r) in out.iter_mut().zip(self.raw.iter()) {
                *o = QueueStatus(r);
            }
        } else {
            for (k, o) in out.iter_mut().enumerate() {
                *o = single(self, first.saturating_add(k));
            }
        }
    }
}

/// The nanoseconds since `t0`: the clock of a batch of resets.
pub(crate) fn elapsed_ns(t0: &Instant<Monotonic>) -> u64 {
    u64::try_from(t0.elapsed().as_nanos()).unwrap_or(0)
}

impl reset::ResetPort for ResetIo<'_> {
    fn now(&mut self) -> u64 {
        elapsed_ns(&self.t0)
    }

    fn zapq(&mut self, k: usize) -> QueueStatus {
        // (Every index is a picked queue's: "not available" is never used.)
        self.apqns
            .get(k)
            .map_or(QueueStatus::new(model::hw::rc::Q_NOT_AVAIL), |&a| {
                QueueStatus(ap_services::zapq(a, false))
            })
    }

    fn tapq(&mut self, k: usize) -> QueueStatus {
        self.apqns
            .get(k)
            .map_or(QueueStatus::new(model::hw::rc::Q_NOT_AVAIL), |&a| {
                QueueStatus(ap_services::tapq(a, false).0)
            })
    }

    fn zapq_many(&mut self, first: usize, out: &mut [QueueStatus]) {
        self.many(first, out, ap_services::zapq_many, Self::zapq);
    }

    fn tapq_many(&mut self, first: usize, out: &mut [QueueStatus]) {
        self.many(first, out, ap_services::tapq_many, Self::tapq);
    }

    fn sleep_until(&mut self, until_ns: u64) {
        let d = until_ns.saturating_sub(self.now());
        fsleep(Delta::from_nanos(i64::try_from(d).unwrap_or(i64::MAX)));
    }

    fn notice(&mut self, k: usize, n: reset::BusyNotice) {
        if let Some(&a) = self.apqns.get(k) {
            let mut msg = Msg::new();
            let _ = vfio_text::write_reset_wait_msg(&mut msg, Apqn::from_qid(a), &n);
            mdev::matrix_log(Level::Info, msg.bytes());
        }
    }
}

/// Resets `queues` (their APQNs) in parallel and waits: ZAPQ on each, then TAPQ polls head
/// first on the model's schedule (`reset::run_batch_on`: first within 0.1 ms, every 1 ms for
/// about 100 ms, then every 20 ms), with its overall timeout; the first ZAPQs, and the TAPQs
/// after the head ended, batched under one hold of `ap.ko`'s facility lock. Stores each
/// queue's final reset status; the errno of the operation, if any (`reset::reset_result`:
/// EIO, or ETIMEDOUT if a queue never finished).
pub(crate) fn reset_queues(
    list: &[MdevRec],
    queues: &mut [QueueRec],
    pick: impl Fn(&QueueRec) -> bool,
) -> Result {
    let t0 = Instant::<Monotonic>::now();
    let cfg = ResetConfig::default();
    // The indexes of the picked queues, their raw APQNs and their machines, in the same order.
    // Sized once (a push that grows a vector is an allocation), and one clock read for all
    // machines (under lockdep a clock read is a lock acquisition).
    let n = queues.iter().filter(|q| pick(q)).count();
    let mut picked: KVec<usize> = KVec::with_capacity(n, GFP_KERNEL)?;
    let mut apqns: KVec<u16> = KVec::with_capacity(n, GFP_KERNEL)?;
    let mut machines: KVec<ResetMachine> = KVec::with_capacity(n, GFP_KERNEL)?;
    let start = elapsed_ns(&t0);
    for (i, q) in queues.iter().enumerate() {
        if pick(q) {
            picked.push(i, GFP_KERNEL)?;
            apqns.push(apqn_raw(q.apqn), GFP_KERNEL)?;
            machines.push(ResetMachine::new(start, &cfg), GFP_KERNEL)?;
        }
    }
    let len = reset::batch_len(machines.len());
    let mut scratch = KVec::from_elem(QueueStatus::default(), len, GFP_KERNEL)?;
    let mut io = ResetIo {
        t0,
        apqns: &apqns,
        raw: KVec::from_elem(0u32, len, GFP_KERNEL)?,
    };
    reset::run_batch_on(&mut machines, &mut io, &mut scratch);
    for (&i, m) in picked.iter().zip(machines.iter()) {
        if let Some(q) = queues.get_mut(i) {
            q.reset_status = m.reset_status();
            let free = match m.outcome().map(|o| o.free_aqic) {
                Some(reset::FreeAqic::Always) => true,
                Some(reset::FreeAqic::IfIscRegistered) => {
                    q.irq.saved_isc != aqic::VFIO_AP_ISC_INVALID
                }
                _ => false,
            };
            if free {
                free_aqic(list, q);
            }
        }
    }
    reset::reset_result(machines.iter().filter_map(|m| m.outcome())).map_err(errno)
}
