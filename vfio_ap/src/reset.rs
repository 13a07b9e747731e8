// SPDX-License-Identifier: GPL-2.0
//! The queue reset of vfio_ap (`vfio_ap_mdev_reset_queue`, `apq_reset_check`,
//! `apq_status_check`, `vfio_ap_mdev_reset_queues`/`_qlist`; vfio_ap_ops.c, Linux 7.3) as a
//! pure per-queue step machine, with two project improvements.
//!
//! # The C behaviour
//!
//! ZAPQ (F bit 0) and store the status as the queue's `reset_status`:
//!
//! * 0x00, 0x02, 0x05, 0x0A: poll (below);
//! * 0x01, 0x03, 0x04: free the AQIC resources, done;
//! * anything else: WARN `PQAP/ZAPQ for %02x.%04x failed with invalid rc=%u`, done.
//!
//! Polling: sleep, TAPQ, classify the response code (`apq_status_check`): 0x00, 0x03, 0x04 are
//! OK; 0x02, 0x05 busy; 0x35, 0x36 (association failures) "again"; 0x01 no device; anything
//! else WARNs (`failed to verify reset of queue %02x.%04x: TAPQ rc=%u`) and is an I/O error.
//!
//! * I/O error: stop (nothing freed);
//! * no device: free the AQIC resources, stop;
//! * busy: `pr_notice_ratelimited("Waited %dms for reset of queue %02x.%04x (%u, %u, %u)")`
//!   (rc, queue empty, irq enabled), poll again;
//! * OK or again: if the **stored** reset status (the last ZAPQ's) has 0x02, 0x05 or 0x0A, or
//!   the check said "again", ZAPQ again, store its status (whatever it is) and poll again;
//!   otherwise free the AQIC resources if a guest ISC is registered, stop.
//!
//! The TAPQ answers are never stored: `reset_status` is always the last ZAPQ's status. The
//! callers start all resets, then wait for each, and return -EIO if any queue's final
//! `reset_status` response code is not 0 (so deconfigured and checkstopped queues count as
//! errors, while a queue whose ZAPQ said 0 and whose TAPQ then failed does not).
//!
//! # The project's improvements
//!
//! * **Adaptive polling.** C sleeps 20 ms before every TAPQ. Here the TAPQs after each ZAPQ
//!   come after [`POLL_FINE_NS`] (0.1, 0.2, 0.5 ms), then every [`POLL_FAST_NS`] (1 ms) for
//!   [`POLL_FAST_COUNT`] polls (about 100 ms), then every 20 ms: a reset that completes within
//!   the first 100 ms is seen within about a millisecond (what `make bench` measures as the
//!   notice delay). The earlier schedule, 0.1, 0.2, 0.5, 1, 2, 5, 10 ms and then 20 ms, polled
//!   3.8, 8.8, 18.8 and 38.8 ms after the ZAPQ: a 5 ms reset was seen up to 3.8 ms late, a
//!   20 ms one up to 18.8 ms.
//! * **Head-first polling of a batch** ([`run_batch_on`]). The callers reset many queues at once
//!   (up to 65,536); polling each on its own schedule costs a TAPQ per queue per interval,
//!   which at 1 ms would cost more than the wait. All first ZAPQs go out at once; then only the
//!   first queue not done is polled, and when it is done the next one at once: a batch of n
//!   queues costs n ZAPQs and about n TAPQs, plus one TAPQ per interval while it waits.
//! * **Batched instructions** ([`run_batch_on`] with a [`ResetPort`] and a scratch buffer):
//!   the first ZAPQs go out in one call, and once the head ended in a round, the TAPQs of the
//!   queues after it too, each call under one hold of the bus's facility lock. Each queue gets
//!   the same instructions as one at a time, only sooner (plus, at most once per round, TAPQs
//!   of queues still busy, which change nothing).
//! * **An overall timeout** ([`ResetConfig::timeout_ns`], default [`DEFAULT_TIMEOUT_NS`] = 5 s,
//!   measured from the first ZAPQ, across re-ZAPQs). C polls for as long as the queue says
//!   busy and re-ZAPQs for as long as ZAPQ says busy, so one stuck queue hangs the caller (with
//!   `mdevs_lock`, `guests_lock` and possibly `kvm->lock` held) forever. Here the machine ends
//!   with [`ResetEnd::TimedOut`] and the callers answer -ETIMEDOUT ([`reset_result`]). 5 s is
//!   far above a real zeroize (milliseconds) and keeps a blocked VFIO_DEVICE_RESET, unassign or
//!   queue removal well below the hung-task detector. On a timeout the AQIC resources are not
//!   freed (the queue may still deliver interrupts to the pinned page) and `reset_status`
//!   stays the last ZAPQ's status. The timeout is also a bound on the number of steps: the
//!   planned sleeps count as elapsed time even if the clock does not move.

use super::errno;
use super::hw::{rc, QueueStatus};

/// The C polling interval (`AP_RESET_INTERVAL`, 20 ms), here the steady-state interval.
pub const AP_RESET_INTERVAL_NS: u64 = 20_000_000;

/// The delays before the first TAPQs that follow a ZAPQ.
pub const POLL_FINE_NS: [u64; 3] = [100_000, 200_000, 500_000];

/// The delay before each of the next [`POLL_FAST_COUNT`] TAPQs; after them the delay is
/// [`AP_RESET_INTERVAL_NS`].
pub const POLL_FAST_NS: u64 = 1_000_000;

/// How many TAPQs come [`POLL_FAST_NS`] apart (after [`POLL_FINE_NS`]).
pub const POLL_FAST_COUNT: u8 = 100;

/// The delay before the TAPQ that is the `n`-th (from 0) since the last ZAPQ.
pub fn poll_delay_ns(n: u8) -> u64 {
    let n = usize::from(n);
    match POLL_FINE_NS.get(n) {
        Some(&d) => d,
        None if n.saturating_sub(POLL_FINE_NS.len()) < usize::from(POLL_FAST_COUNT) => POLL_FAST_NS,
        None => AP_RESET_INTERVAL_NS,
    }
}

/// The default overall reset timeout: 5 s.
pub const DEFAULT_TIMEOUT_NS: u64 = 5_000_000_000;

/// Settings of a reset.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ResetConfig {
    /// The overall timeout, from the first ZAPQ.
    pub timeout_ns: u64,
}

impl Default for ResetConfig {
    fn default() -> Self {
        ResetConfig {
            timeout_ns: DEFAULT_TIMEOUT_NS,
        }
    }
}

/// `apq_status_check`: the classification of a TAPQ response code while a reset is checked.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TapqCheck {
    /// 0x00, 0x03, 0x04.
    Ok,
    /// 0x02, 0x05 (-EBUSY).
    Busy,
    /// 0x35, 0x36 (-EAGAIN): an association failed; only another reset clears it.
    Again,
    /// 0x01 (-ENODEV).
    NoDevice,
    /// Anything else (-EIO, with a WARN).
    Error,
}

/// `apq_status_check`.
pub const fn tapq_check(code: u8) -> TapqCheck {
    match code {
        rc::NORMAL | rc::DECONFIGURED | rc::CHECKSTOPPED => TapqCheck::Ok,
        rc::RESET_IN_PROGRESS | rc::BUSY => TapqCheck::Busy,
        rc::ASSOC_SECRET_NOT_UNIQUE | rc::ASSOC_FAILED => TapqCheck::Again,
        rc::Q_NOT_AVAIL => TapqCheck::NoDevice,
        _ => TapqCheck::Error,
    }
}

/// Whether a ZAPQ status makes the check re-issue ZAPQ once TAPQ is OK (0x02, 0x05, 0x0A).
pub const fn zapq_needs_repeat(code: u8) -> bool {
    matches!(
        code,
        rc::RESET_IN_PROGRESS | rc::BUSY | rc::STATE_CHANGE_IN_PROGRESS
    )
}

/// Whether and how the queue's AQIC resources (registered guest ISC, pinned NIB page) are
/// freed when the reset ends (`vfio_ap_free_aqic_resources`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FreeAqic {
    /// Not freed.
    No,
    /// Freed (each part that is set).
    Always,
    /// Freed only if a guest ISC is registered (`saved_isc != VFIO_AP_ISC_INVALID`); a pinned
    /// page without an ISC stays pinned, as in C.
    IfIscRegistered,
}

/// How a reset ended.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ResetEnd {
    /// TAPQ answered OK and no further ZAPQ was needed.
    Completed,
    /// The first ZAPQ answered 0x01, 0x03 or 0x04: nothing to wait for.
    Immediate,
    /// The first ZAPQ answered an unexpected code: C WARNs `PQAP/ZAPQ for %02x.%04x failed
    /// with invalid rc=%u`.
    ZapqFailed,
    /// TAPQ answered 0x01.
    NotAvailable,
    /// TAPQ answered an unexpected code: C WARNs `failed to verify reset of queue
    /// %02x.%04x: TAPQ rc=%u`.
    TapqFailed {
        /// The response code.
        rc: u8,
    },
    /// The reset did not complete within the timeout (not in C).
    TimedOut,
}

/// The end of a reset.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ResetOutcome {
    /// How it ended.
    pub end: ResetEnd,
    /// The queue's `reset_status`: the last ZAPQ's status (what `_queue_passable` and the
    /// -EIO rule look at).
    pub reset_status: QueueStatus,
    /// What to free.
    pub free_aqic: FreeAqic,
    /// The number of ZAPQs issued.
    pub zapqs: u32,
}

impl ResetOutcome {
    /// Whether this queue makes its caller fail: [`errno::ETIMEDOUT`] for a timeout,
    /// [`errno::EIO`] if the final `reset_status` response code is not 0.
    pub fn errno(&self) -> Option<i32> {
        if self.end == ResetEnd::TimedOut {
            Some(errno::ETIMEDOUT)
        } else if self.reset_status.response_code() != rc::NORMAL {
            Some(errno::EIO)
        } else {
            None
        }
    }
}

/// The result of resetting a set of queues (`vfio_ap_mdev_reset_queues`/`_qlist`): `Err
/// (ETIMEDOUT)` if any timed out, else `Err(EIO)` if any final `reset_status` has a non-zero
/// response code, else `Ok`. An empty set is `Ok`.
pub fn reset_result<O: core::borrow::Borrow<ResetOutcome>>(
    outcomes: impl IntoIterator<Item = O>,
) -> Result<(), i32> {
    let mut res = Ok(());
    for o in outcomes {
        match o.borrow().errno() {
            Some(errno::ETIMEDOUT) => return Err(errno::ETIMEDOUT),
            Some(e) => res = Err(e),
            None => {}
        }
    }
    res
}

/// What the machine needs next.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ResetAction {
    /// Issue ZAPQ (F bit 0) on the queue and pass the status as [`ResetInput::Zapq`].
    Zapq,
    /// Issue TAPQ (T bit 0) on the queue and pass the status as [`ResetInput::Tapq`].
    Tapq,
    /// Wait until the clock reaches `until_ns`, then pass [`ResetInput::Wake`].
    Sleep {
        /// The wake-up time (same clock as the `now_ns` arguments).
        until_ns: u64,
        /// After a busy TAPQ in the 20 ms steady state: what C logs with
        /// `pr_notice_ratelimited("Waited %dms for reset of queue %02x.%04x (%u, %u, %u)")`.
        notice: Option<BusyNotice>,
    },
    /// Finished.
    Done(ResetOutcome),
}

/// The values of the C "Waited ... for reset" notice.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct BusyNotice {
    /// Milliseconds since the first ZAPQ.
    pub elapsed_ms: u64,
    /// The TAPQ status (its response code, E and I bits are printed).
    pub status: QueueStatus,
}

/// An answer for the machine.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ResetInput {
    /// The status of the ZAPQ asked for.
    Zapq(QueueStatus),
    /// The status of the TAPQ asked for.
    Tapq(QueueStatus),
    /// The sleep asked for is over (a wake-up before `until_ns` is ignored).
    Wake,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum State {
    Zapq { first: bool },
    Sleep { until_ns: u64 },
    Tapq,
    Done(ResetOutcome),
}

/// The reset of one queue. Many run in parallel: the glue keeps one per queue, answers their
/// actions, and sleeps until [`next_wakeup`] of the sleeping ones. 56 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ResetMachine {
    state: State,
    start_ns: u64,
    timeout_ns: u64,
    /// The sum of the sleeps asked for: elapsed time for a clock that does not move.
    planned_ns: u64,
    /// The TAPQs scheduled since the last ZAPQ (saturating, see [`poll_delay_ns`]).
    poll: u8,
    zapqs: u32,
    reset_status: QueueStatus,
}

impl ResetMachine {
    /// A reset starting at `now_ns`; its first action is [`ResetAction::Zapq`].
    pub fn new(now_ns: u64, cfg: &ResetConfig) -> ResetMachine {
        ResetMachine {
            state: State::Zapq { first: true },
            start_ns: now_ns,
            timeout_ns: cfg.timeout_ns,
            planned_ns: 0,
            poll: 0,
            zapqs: 0,
            reset_status: QueueStatus::new(0),
        }
    }

    /// The pending action (without a notice).
    pub fn action(&self) -> ResetAction {
        match self.state {
            State::Zapq { .. } => ResetAction::Zapq,
            State::Tapq => ResetAction::Tapq,
            State::Sleep { until_ns } => ResetAction::Sleep {
                until_ns,
                notice: None,
            },
            State::Done(o) => ResetAction::Done(o),
        }
    }

    /// The outcome, once done.
    pub fn outcome(&self) -> Option<ResetOutcome> {
        match self.state {
            State::Done(o) => Some(o),
            _ => None,
        }
    }

    /// The wake-up time while sleeping.
    pub fn wakeup_ns(&self) -> Option<u64> {
        match self.state {
            State::Sleep { until_ns } => Some(until_ns),
            _ => None,
        }
    }

    /// Whether it starts: its first ZAPQ is pending.
    pub fn starting(&self) -> bool {
        matches!(self.state, State::Zapq { first: true })
    }

    /// Whether it waits for the queue: sleeping until its next TAPQ (not at a ZAPQ or a
    /// TAPQ, not done).
    pub fn waiting(&self) -> bool {
        matches!(self.state, State::Sleep { .. })
    }

    /// The last ZAPQ status so far (the queue's `reset_status`).
    pub fn reset_status(&self) -> QueueStatus {
        self.reset_status
    }

    /// The elapsed time at `now_ns`: the clock's, or the planned sleeps' if more.
    pub fn elapsed_ns(&self, now_ns: u64) -> u64 {
        now_ns.saturating_sub(self.start_ns).max(self.planned_ns)
    }

    fn timed_out(&self, now_ns: u64) -> bool {
        self.elapsed_ns(now_ns) >= self.timeout_ns
    }

    fn finish(&mut self, end: ResetEnd, free_aqic: FreeAqic) -> ResetAction {
        let o = ResetOutcome {
            end,
            reset_status: self.reset_status,
            free_aqic,
            zapqs: self.zapqs,
        };
        self.state = State::Done(o);
        ResetAction::Done(o)
    }

    /// Schedules the next TAPQ, or times out.
    fn schedule(&mut self, now_ns: u64, busy: Option<QueueStatus>) -> ResetAction {
        if self.timed_out(now_ns) {
            return self.finish(ResetEnd::TimedOut, FreeAqic::No);
        }
        let delay = poll_delay_ns(self.poll);
        self.poll = self.poll.saturating_add(1);
        let elapsed_ms = self.elapsed_ns(now_ns) / 1_000_000;
        self.planned_ns = self.planned_ns.saturating_add(delay);
        let deadline = self.start_ns.saturating_add(self.timeout_ns);
        let until_ns = now_ns.saturating_add(delay).min(deadline.max(now_ns));
        self.state = State::Sleep { until_ns };
        let notice = match busy {
            Some(status) if delay == AP_RESET_INTERVAL_NS => {
                Some(BusyNotice { elapsed_ms, status })
            }
            _ => None,
        };
        ResetAction::Sleep { until_ns, notice }
    }

    /// Feeds an answer (or a wake-up) at time `now_ns` and returns the next action. An input
    /// that does not answer the pending action changes nothing and returns that action again.
    pub fn step(&mut self, now_ns: u64, input: ResetInput) -> ResetAction {
        match (self.state, input) {
            (State::Zapq { first }, ResetInput::Zapq(st)) => {
                self.zapqs = self.zapqs.saturating_add(1);
                self.reset_status = st;
                self.poll = 0;
                if !first {
                    return self.schedule(now_ns, None);
                }
                match st.response_code() {
                    rc::NORMAL
                    | rc::RESET_IN_PROGRESS
                    | rc::BUSY
                    | rc::STATE_CHANGE_IN_PROGRESS => self.schedule(now_ns, None),
                    rc::DECONFIGURED | rc::CHECKSTOPPED | rc::Q_NOT_AVAIL => {
                        self.finish(ResetEnd::Immediate, FreeAqic::Always)
                    }
                    _ => self.finish(ResetEnd::ZapqFailed, FreeAqic::No),
                }
            }
            (State::Sleep { until_ns }, ResetInput::Wake) => {
                if now_ns >= until_ns {
                    self.state = State::Tapq;
                }
                self.action()
            }
            (State::Tapq, ResetInput::Tapq(st)) => match tapq_check(st.response_code()) {
                TapqCheck::Error => self.finish(
                    ResetEnd::TapqFailed {
                        rc: st.response_code(),
                    },
                    FreeAqic::No,
                ),
                TapqCheck::NoDevice => self.finish(ResetEnd::NotAvailable, FreeAqic::Always),
                TapqCheck::Busy => self.schedule(now_ns, Some(st)),
                c @ (TapqCheck::Ok | TapqCheck::Again) => {
                    if c == TapqCheck::Again || zapq_needs_repeat(self.reset_status.response_code())
                    {
                        if self.timed_out(now_ns) {
                            return self.finish(ResetEnd::TimedOut, FreeAqic::No);
                        }
                        self.state = State::Zapq { first: false };
                        ResetAction::Zapq
                    } else {
                        self.finish(ResetEnd::Completed, FreeAqic::IfIscRegistered)
                    }
                }
            },
            _ => self.action(),
        }
    }

    /// Runs the machine to its end with blocking callbacks (for a single queue, e.g. queue
    /// removal): `now` reads the clock, `zapq`/`tapq` issue the instructions, `sleep_until`
    /// sleeps until the given time. A clock that lags behind a finished sleep is taken to be at
    /// the wake-up time, so this always terminates.
    pub fn run(
        &mut self,
        mut now: impl FnMut() -> u64,
        mut zapq: impl FnMut() -> QueueStatus,
        mut tapq: impl FnMut() -> QueueStatus,
        mut sleep_until: impl FnMut(u64),
    ) -> ResetOutcome {
        loop {
            let next = match self.action() {
                ResetAction::Zapq => {
                    let st = zapq();
                    self.step(now(), ResetInput::Zapq(st))
                }
                ResetAction::Tapq => {
                    let st = tapq();
                    self.step(now(), ResetInput::Tapq(st))
                }
                ResetAction::Sleep { until_ns, .. } => {
                    sleep_until(until_ns);
                    let t = now().max(until_ns);
                    self.step(t, ResetInput::Wake)
                }
                ResetAction::Done(o) => return o,
            };
            if let ResetAction::Done(o) = next {
                return o;
            }
        }
    }
}

/// What a batch of resets runs on ([`run_batch_on`]): the clock, the AP instructions on the
/// queue of machine `i`, sleeping and the "Waited ... for reset" notices. The batched
/// instructions cover consecutive machines; by default they issue the single ones in order (a
/// port that can issue many under one facility lock overrides them).
pub trait ResetPort {
    /// The clock (ns).
    fn now(&mut self) -> u64;
    /// ZAPQ (F bit 0) on queue `i`.
    fn zapq(&mut self, i: usize) -> QueueStatus;
    /// TAPQ (T bit 0) on queue `i`.
    fn tapq(&mut self, i: usize) -> QueueStatus;
    /// ZAPQ on queues `first..first + out.len()`, in that order; `out[k]` is the status of
    /// queue `first + k`.
    fn zapq_many(&mut self, first: usize, out: &mut [QueueStatus]) {
        for (k, o) in out.iter_mut().enumerate() {
            *o = self.zapq(first.saturating_add(k));
        }
    }
    /// TAPQ on queues `first..first + out.len()`, in that order; `out[k]` is the status of
    /// queue `first + k`.
    fn tapq_many(&mut self, first: usize, out: &mut [QueueStatus]) {
        for (k, o) in out.iter_mut().enumerate() {
            *o = self.tapq(first.saturating_add(k));
        }
    }
    /// Sleeps until the clock reaches `until_ns`.
    fn sleep_until(&mut self, until_ns: u64);
    /// A "Waited ... for reset" notice of queue `i`.
    fn notice(&mut self, i: usize, n: BusyNotice);
}

/// The most queues one batched instruction call covers: the length of the scratch buffer that
/// [`run_batch_on`] is given for `n` queues is `batch_len(n)`. It bounds how long the facility
/// lock is held at once and how many TAPQs a batch can spend on queues still busy.
pub const RESET_BATCH_MAX: usize = 256;

/// The scratch length for a batch of `n` queues: `min(n, RESET_BATCH_MAX)`.
pub const fn batch_len(n: usize) -> usize {
    if n < RESET_BATCH_MAX {
        n
    } else {
        RESET_BATCH_MAX
    }
}

/// What the statuses in a [`Prefetch`] answer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fetched {
    Zapq,
    Tapq,
}

/// The statuses of one batched instruction call, for the machines to take in order.
///
/// A ZAPQ batch is issued at the first ZAPQ of a machine that starts (and covers the following
/// machines that start, as the first round of [`run_batch_on`] would ZAPQ them next with no
/// other instruction in between): its statuses are all taken in the same round. A TAPQ batch is
/// issued only at a round's TAPQ of a machine after the one that had the round's previous
/// TAPQ (which therefore ended), and covers the machines from it on; each status is taken at
/// most once, by the machine's next TAPQ in the same round, and the rest are dropped when the
/// batch sleeps ([`Prefetch::end_round`]). So the first TAPQ of a round is always a single one:
/// a head that waits costs one TAPQ per poll, as without batching.
struct Prefetch<'a> {
    buf: &'a mut [QueueStatus],
    kind: Fetched,
    /// The machine of `buf[0]`.
    first: usize,
    /// The statuses not taken yet: those of machines `next..end`.
    next: usize,
    end: usize,
    /// The machine of the round's last TAPQ.
    last_tapq: Option<usize>,
}

impl<'a> Prefetch<'a> {
    fn new(buf: &'a mut [QueueStatus]) -> Prefetch<'a> {
        Prefetch {
            buf,
            kind: Fetched::Tapq,
            first: 0,
            next: 0,
            end: 0,
            last_tapq: None,
        }
    }

    /// The status of machine `i` if fetched and not taken (those before it are dropped).
    fn take(&mut self, kind: Fetched, i: usize) -> Option<QueueStatus> {
        if kind != self.kind || i < self.next || i >= self.end {
            return None;
        }
        let st = *self.buf.get(i.checked_sub(self.first)?)?;
        self.next = i.saturating_add(1);
        Some(st)
    }

    /// Whether ZAPQ statuses wait to be taken (they must not be dropped: the ZAPQs were issued).
    fn zapqs_pending(&self) -> bool {
        self.kind == Fetched::Zapq && self.next < self.end
    }

    /// Issues a batch of `kind` on machines `i..i + len` (`len` at most the buffer's) and takes
    /// the status of `i`; `None` (nothing issued) if that is not possible.
    fn fetch(
        &mut self,
        port: &mut impl ResetPort,
        kind: Fetched,
        i: usize,
        len: usize,
    ) -> Option<QueueStatus> {
        if self.zapqs_pending() || len == 0 {
            return None;
        }
        let out = self.buf.get_mut(..len)?;
        match kind {
            Fetched::Zapq => port.zapq_many(i, out),
            Fetched::Tapq => port.tapq_many(i, out),
        }
        self.kind = kind;
        self.first = i;
        self.next = i;
        self.end = i.saturating_add(len);
        self.take(kind, i)
    }

    /// A TAPQ on machine `i` with `machines` machines: from a TAPQ batch of this round, from a
    /// new one if the round's previous TAPQ was on an earlier machine, else a single one.
    fn tapq(&mut self, port: &mut impl ResetPort, i: usize, machines: usize) -> QueueStatus {
        let after_other = self.last_tapq.is_some_and(|j| j < i);
        self.last_tapq = Some(i);
        if let Some(st) = self.take(Fetched::Tapq, i) {
            return st;
        }
        let len = self.buf.len().min(machines.saturating_sub(i));
        if after_other {
            if let Some(st) = self.fetch(port, Fetched::Tapq, i, len) {
                return st;
            }
        }
        port.tapq(i)
    }

    /// The batch sleeps: drops the statuses not taken.
    fn end_round(&mut self) {
        self.next = self.end;
        self.last_tapq = None;
    }
}

/// Runs a batch of resets to their ends, head first, on `port`, with batched instructions
/// in `scratch` (of [`batch_len`] statuses; empty: no batched instructions).
///
/// Each round drives, in order, every machine that is at a ZAPQ (so all first ZAPQs go out in
/// the first round) and the **head**, the first machine not done: a due TAPQ, a ZAPQ again if
/// the check asks for one. When the head ends, the next machine becomes the head in the same
/// round and is polled at once, and so on until one is still busy; then the batch sleeps until
/// the head's next poll. The queues were reset in this order, so while the head is busy the
/// later ones most likely are too: polling them would cost a TAPQ each and tell nothing.
///
/// With a scratch buffer the same instructions go out in batches ([`ResetPort::zapq_many`],
/// [`ResetPort::tapq_many`]), without changing what any queue sees: the first ZAPQs of the
/// machines that start, which the first round issues one after the other, go out in one call
/// (per [`RESET_BATCH_MAX`] machines); and once the head ended in a round, the next TAPQ
/// covers the machines from the new head on (which ZAPQed about as long ago, so have likely
/// ended too): the round takes their statuses in order until one is busy, and drops the rest
/// when it sleeps. A TAPQ that tells a machine nothing new is the only difference: TAPQ does
/// not change a queue.
///
/// A queue whose reset ends while another is the head is seen when it becomes the head: the
/// caller, which waits for the whole batch, sees no difference, and a machine polled late
/// still ends `Completed` if its first TAPQ says so (its timeout only counts against a busy
/// answer). A clock that lags behind a finished sleep is taken to be at the wake-up time, so
/// this always ends (each head within its timeout, counted in planned sleeps).
pub fn run_batch_on(
    machines: &mut [ResetMachine],
    port: &mut impl ResetPort,
    scratch: &mut [QueueStatus],
) {
    let n = machines.len();
    let mut fetched = Prefetch::new(scratch);
    // The time the batch last slept until: the clock is never taken to be before it.
    let mut floor = 0u64;
    loop {
        let mut head = true;
        let mut wake = None;
        for i in 0..n {
            // The machines from `i` on that start: what a ZAPQ batch at `i` covers.
            // (Counted only when a batch can be issued, so each machine once.)
            let starting = if fetched.zapqs_pending() {
                0
            } else {
                machines
                    .get(i..)
                    .unwrap_or_default()
                    .iter()
                    .take(fetched.buf.len())
                    .take_while(|m| m.starting())
                    .count()
            };
            let Some(m) = machines.get_mut(i) else {
                break;
            };
            if m.outcome().is_some() {
                continue;
            }
            if head || !m.waiting() {
                let mut action = m.action();
                // One clock read per visit of a machine: its steps follow each other at once, and
                // a clock read is not free (under lockdep it is a lock acquisition).
                let t = port.now().max(floor);
                loop {
                    action = match action {
                        ResetAction::Zapq => {
                            let st = if m.starting() {
                                fetched
                                    .take(Fetched::Zapq, i)
                                    .or_else(|| fetched.fetch(port, Fetched::Zapq, i, starting))
                            } else {
                                None
                            };
                            let st = st.unwrap_or_else(|| port.zapq(i));
                            m.step(t, ResetInput::Zapq(st))
                        }
                        ResetAction::Tapq => {
                            let st = fetched.tapq(port, i, n);
                            m.step(t, ResetInput::Tapq(st))
                        }
                        ResetAction::Sleep {
                            until_ns,
                            notice: b,
                        } => {
                            if let Some(b) = b {
                                port.notice(i, b);
                            }
                            if !head || t < until_ns {
                                break;
                            }
                            m.step(t, ResetInput::Wake)
                        }
                        ResetAction::Done(_) => break,
                    };
                }
            }
            if m.outcome().is_none() {
                if head {
                    wake = m.wakeup_ns();
                }
                head = false;
            }
        }
        fetched.end_round();
        match wake {
            None if head => return,
            None => {}
            Some(w) => {
                port.sleep_until(w);
                floor = floor.max(w);
            }
        }
    }
}

/// The earliest wake-up time of the sleeping machines (`None` if none sleeps).
pub fn next_wakeup<'a>(machines: impl IntoIterator<Item = &'a ResetMachine>) -> Option<u64> {
    machines.into_iter().filter_map(|m| m.wakeup_ns()).min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    const MS: u64 = 1_000_000;

    /// Whether every machine is done.
    fn all_done<'a>(machines: impl IntoIterator<Item = &'a ResetMachine>) -> bool {
        machines.into_iter().all(|m| m.outcome().is_some())
    }

    /// [`run_batch_on`] with closures and without batched instructions (the tests' unbatched
    /// reference). `machines` are in the order of their queues; `now` reads the clock,
    /// `zapq(i)`/`tapq(i)` issue the instruction on queue `i`, `sleep_until` sleeps until the given
    /// time and `notice(i, n)` gets each "Waited ... for reset" notice of queue `i`. This is
    /// [`run_batch_on`] without batched instructions.
    fn run_batch(
        machines: &mut [ResetMachine],
        now: impl FnMut() -> u64,
        zapq: impl FnMut(usize) -> QueueStatus,
        tapq: impl FnMut(usize) -> QueueStatus,
        sleep_until: impl FnMut(u64),
        notice: impl FnMut(usize, BusyNotice),
    ) {
        struct Closures<N, Z, T, S, B>(N, Z, T, S, B);
        impl<N, Z, T, S, B> ResetPort for Closures<N, Z, T, S, B>
        where
            N: FnMut() -> u64,
            Z: FnMut(usize) -> QueueStatus,
            T: FnMut(usize) -> QueueStatus,
            S: FnMut(u64),
            B: FnMut(usize, BusyNotice),
        {
            fn now(&mut self) -> u64 {
                (self.0)()
            }
            fn zapq(&mut self, i: usize) -> QueueStatus {
                (self.1)(i)
            }
            fn tapq(&mut self, i: usize) -> QueueStatus {
                (self.2)(i)
            }
            fn sleep_until(&mut self, until_ns: u64) {
                (self.3)(until_ns)
            }
            fn notice(&mut self, i: usize, n: BusyNotice) {
                (self.4)(i, n)
            }
        }
        run_batch_on(
            machines,
            &mut Closures(now, zapq, tapq, sleep_until, notice),
            &mut [],
        );
    }

    fn st(code: u8) -> QueueStatus {
        QueueStatus::new(code)
    }

    /// Runs a machine with scripted answers; the clock jumps to each wake-up time.
    fn script(zapqs: &[u8], tapqs: &[u8], cfg: &ResetConfig) -> (ResetOutcome, Vec<u64>, u64) {
        let mut m = ResetMachine::new(1000, cfg);
        let (mut zi, mut ti) = (0usize, 0usize);
        let now = core::cell::Cell::new(1000u64);
        let mut tapq_times = Vec::new();
        let o = m.run(
            || now.get(),
            || {
                let c = *zapqs.get(zi).or(zapqs.last()).unwrap();
                zi += 1;
                st(c)
            },
            || {
                let c = *tapqs.get(ti).or(tapqs.last()).unwrap();
                ti += 1;
                st(c)
            },
            |t| {
                tapq_times.push(t - 1000);
                now.set(t);
            },
        );
        (o, tapq_times, now.get() - 1000)
    }

    #[test]
    fn classification() {
        assert_eq!(tapq_check(0), TapqCheck::Ok);
        assert_eq!(tapq_check(3), TapqCheck::Ok);
        assert_eq!(tapq_check(4), TapqCheck::Ok);
        assert_eq!(tapq_check(2), TapqCheck::Busy);
        assert_eq!(tapq_check(5), TapqCheck::Busy);
        assert_eq!(tapq_check(0x35), TapqCheck::Again);
        assert_eq!(tapq_check(0x36), TapqCheck::Again);
        assert_eq!(tapq_check(1), TapqCheck::NoDevice);
        for c in [6u8, 7, 0x0a, 0x0b, 0x42, 0xff] {
            assert_eq!(tapq_check(c), TapqCheck::Error, "{c}");
        }
        let rep: Vec<u8> = (0..=255u8).filter(|&c| zapq_needs_repeat(c)).collect();
        assert_eq!(rep, [2, 5, 0x0a]);
    }

    #[test]
    fn quick_reset_seen_within_a_millisecond() {
        let (o, times, _) = script(&[0], &[2, 2, 0], &ResetConfig::default());
        assert_eq!(o.end, ResetEnd::Completed);
        assert_eq!(o.free_aqic, FreeAqic::IfIscRegistered);
        assert_eq!(o.zapqs, 1);
        assert_eq!(o.errno(), None);
        assert_eq!(times, [100_000, 300_000, 800_000]);
    }

    #[test]
    fn schedule_reaches_steady_20ms() {
        let mut tapqs = [2u8; 110].to_vec();
        tapqs.push(0);
        let (o, times, _) = script(&[0], &tapqs, &ResetConfig::default());
        assert_eq!(o.end, ResetEnd::Completed);
        let deltas: Vec<u64> = core::iter::once(times[0])
            .chain(times.windows(2).map(|w| w[1] - w[0]))
            .collect();
        let mut want = [100_000, 200_000, 500_000].to_vec();
        want.extend([MS; 100]);
        want.extend([20 * MS; 8]);
        assert_eq!(deltas, want);
        // Every reset that ends within the first 100 ms is seen within 1 ms.
        assert!(times.windows(2).take(102).all(|w| w[1] - w[0] <= MS));
        assert_eq!(times[102], 100_800_000);
    }

    #[test]
    fn zapq_immediate_and_failed() {
        for c in [1u8, 3, 4] {
            let (o, times, _) = script(&[c], &[0], &ResetConfig::default());
            assert_eq!(o.end, ResetEnd::Immediate);
            assert_eq!(o.free_aqic, FreeAqic::Always);
            assert!(times.is_empty());
            // Deconfigured/checkstopped/not available count as EIO.
            assert_eq!(o.errno(), Some(errno::EIO));
            assert_eq!(o.reset_status.response_code(), c);
        }
        for c in [6u8, 7, 0x35, 0xff] {
            let (o, _, _) = script(&[c], &[0], &ResetConfig::default());
            assert_eq!(o.end, ResetEnd::ZapqFailed);
            assert_eq!(o.free_aqic, FreeAqic::No);
            assert_eq!(o.errno(), Some(errno::EIO));
        }
    }

    #[test]
    fn tapq_endings_keep_zapq_status() {
        let (o, _, _) = script(&[0], &[2, 1], &ResetConfig::default());
        assert_eq!(o.end, ResetEnd::NotAvailable);
        assert_eq!(o.free_aqic, FreeAqic::Always);
        // reset_status is the ZAPQ's 0: no error for the caller, as in C.
        assert_eq!(o.errno(), None);
        let (o, _, _) = script(&[0], &[0x06], &ResetConfig::default());
        assert_eq!(o.end, ResetEnd::TapqFailed { rc: 6 });
        assert_eq!(o.free_aqic, FreeAqic::No);
        assert_eq!(o.errno(), None);
        // A deconfigured answer from TAPQ is OK for the check.
        let (o, _, _) = script(&[0], &[3], &ResetConfig::default());
        assert_eq!(o.end, ResetEnd::Completed);
    }

    #[test]
    fn rezapq_cases() {
        // ZAPQ busy: poll until OK, ZAPQ again; the second ZAPQ's 0 ends it.
        let (o, _, _) = script(&[5, 0], &[2, 0, 0], &ResetConfig::default());
        assert_eq!(o.end, ResetEnd::Completed);
        assert_eq!(o.zapqs, 2);
        assert_eq!(o.reset_status.response_code(), 0);
        // State change in progress, then the re-ZAPQ says deconfigured: EIO.
        let (o, _, _) = script(&[0x0a, 3], &[0, 3], &ResetConfig::default());
        assert_eq!(o.zapqs, 2);
        assert_eq!(o.end, ResetEnd::Completed);
        assert_eq!(o.errno(), Some(errno::EIO));
        // Association failure: ZAPQ again even though the stored status is 0.
        let (o, _, _) = script(&[0, 0], &[0x35, 0], &ResetConfig::default());
        assert_eq!(o.zapqs, 2);
        assert_eq!(o.end, ResetEnd::Completed);
        // A re-ZAPQ's status is not checked: 0x06 is stored and polled like any other.
        let (o, _, _) = script(&[2, 6], &[0, 0], &ResetConfig::default());
        assert_eq!(o.zapqs, 2);
        assert_eq!(o.end, ResetEnd::Completed);
        assert_eq!(o.reset_status.response_code(), 6);
        assert_eq!(o.errno(), Some(errno::EIO));
    }

    #[test]
    fn poll_schedule_restarts_after_rezapq() {
        let (_, times, _) = script(&[2, 0], &[0, 0], &ResetConfig::default());
        assert_eq!(times, [100_000, 200_000]);
    }

    #[test]
    fn busy_forever_times_out() {
        let cfg = ResetConfig {
            timeout_ns: 100 * MS,
        };
        let (o, times, end) = script(&[0], &[2], &cfg);
        assert_eq!(o.end, ResetEnd::TimedOut);
        assert_eq!(o.free_aqic, FreeAqic::No);
        assert_eq!(o.errno(), Some(errno::ETIMEDOUT));
        assert_eq!(end, 100 * MS);
        // The last TAPQ is at the deadline.
        assert_eq!(*times.last().unwrap(), 100 * MS);
        // ZAPQ busy forever with TAPQ OK: endless re-ZAPQ in C.
        let (o, _, end) = script(&[2], &[0], &cfg);
        assert_eq!(o.end, ResetEnd::TimedOut);
        assert!(o.zapqs > 100);
        assert!(end <= 100 * MS);
    }

    #[test]
    fn frozen_clock_still_ends() {
        let cfg = ResetConfig {
            timeout_ns: 50 * MS,
        };
        let mut m = ResetMachine::new(0, &cfg);
        let mut steps = 0u32;
        let o = m.run(
            || 0,
            || st(2),
            || {
                steps += 1;
                st(0)
            },
            |_| {},
        );
        assert_eq!(o.end, ResetEnd::TimedOut);
        assert!(steps <= 500, "{steps}");
    }

    #[test]
    fn notices_only_in_steady_state() {
        let mut m = ResetMachine::new(0, &ResetConfig::default());
        assert_eq!(m.action(), ResetAction::Zapq);
        let mut now = 0;
        let mut a = m.step(now, ResetInput::Zapq(st(0)));
        let mut notices = Vec::new();
        for _ in 0..10 {
            let ResetAction::Sleep { until_ns, .. } = a else {
                panic!("{a:?}")
            };
            now = until_ns;
            assert_eq!(m.step(now, ResetInput::Wake), ResetAction::Tapq);
            a = m.step(now, ResetInput::Tapq(st(2).with_irq(true)));
            if let ResetAction::Sleep {
                notice: Some(n), ..
            } = a
            {
                notices.push(n.elapsed_ms);
                assert!(n.status.irq_enabled());
            }
        }
        assert!(notices.is_empty());
        // After the fast polls (0.8 ms + 100 x 1 ms), every 20 ms, as C.
        for _ in 0..100 {
            let ResetAction::Sleep { until_ns, .. } = a else {
                panic!("{a:?}")
            };
            now = until_ns;
            m.step(now, ResetInput::Wake);
            a = m.step(now, ResetInput::Tapq(st(2).with_irq(true)));
            if let ResetAction::Sleep {
                notice: Some(n), ..
            } = a
            {
                notices.push(n.elapsed_ms);
            }
        }
        assert_eq!(notices[..4], [100, 120, 140, 160]);
    }

    #[test]
    fn early_wake_and_wrong_input_ignored() {
        let mut m = ResetMachine::new(0, &ResetConfig::default());
        assert_eq!(m.step(0, ResetInput::Wake), ResetAction::Zapq);
        assert_eq!(m.step(0, ResetInput::Tapq(st(0))), ResetAction::Zapq);
        let a = m.step(0, ResetInput::Zapq(st(0)));
        assert_eq!(
            a,
            ResetAction::Sleep {
                until_ns: 100_000,
                notice: None
            }
        );
        assert_eq!(m.step(50_000, ResetInput::Wake), m.action());
        assert_eq!(m.wakeup_ns(), Some(100_000));
        assert_eq!(m.step(100_000, ResetInput::Wake), ResetAction::Tapq);
        assert!(m.outcome().is_none());
    }

    #[test]
    fn many_machines() {
        let cfg = ResetConfig::default();
        let mut ms = [ResetMachine::new(0, &cfg), ResetMachine::new(0, &cfg)];
        assert_eq!(next_wakeup(&ms), None);
        ms[0].step(0, ResetInput::Zapq(st(0)));
        ms[1].step(50_000, ResetInput::Zapq(st(0)));
        assert_eq!(next_wakeup(&ms), Some(100_000));
        assert!(!all_done(&ms));
        ms[0].step(100_000, ResetInput::Wake);
        assert_eq!(next_wakeup(&ms), Some(150_000));
        ms[0].step(100_000, ResetInput::Tapq(st(0)));
        ms[1].step(150_000, ResetInput::Wake);
        ms[1].step(150_000, ResetInput::Tapq(st(1)));
        assert!(all_done(&ms));
        let os: Vec<ResetOutcome> = ms.iter().filter_map(|m| m.outcome()).collect();
        assert_eq!(reset_result(&os), Ok(()));
    }

    /// A batch of queues on a fake machine: queue i's reset ends `reset_ns` after its ZAPQ,
    /// each instruction takes `cost_ns` of the clock. Returns (the batch's time, TAPQs, the
    /// largest delay from a queue's end to the TAPQ that saw it, the outcomes).
    fn batch(n: usize, reset_ns: u64, cost_ns: u64) -> (u64, u32, u64, Vec<ResetOutcome>) {
        let cfg = ResetConfig::default();
        let now = core::cell::Cell::new(0u64);
        let mut ms: Vec<ResetMachine> = (0..n).map(|_| ResetMachine::new(0, &cfg)).collect();
        let ends = core::cell::RefCell::new(vec![u64::MAX; n]);
        let seen = core::cell::RefCell::new(vec![false; n]);
        let (tapqs, late) = (core::cell::Cell::new(0u32), core::cell::Cell::new(0u64));
        run_batch(
            &mut ms,
            || now.get(),
            |i| {
                now.set(now.get() + cost_ns);
                ends.borrow_mut()[i] = now.get() + reset_ns;
                st(0)
            },
            |i| {
                now.set(now.get() + cost_ns);
                tapqs.set(tapqs.get() + 1);
                if now.get() < ends.borrow()[i] {
                    return st(2);
                }
                if !seen.borrow()[i] {
                    seen.borrow_mut()[i] = true;
                    late.set(late.get().max(now.get() - ends.borrow()[i]));
                }
                st(0)
            },
            |t| now.set(now.get().max(t)),
            |_, _| {},
        );
        let os = ms.iter().map(|m| m.outcome().unwrap()).collect();
        (now.get(), tapqs.get(), late.get(), os)
    }

    #[test]
    fn batch_head_first() {
        // One queue: seen within a millisecond of its end.
        let (t1, n1, late, os) = batch(1, 5 * MS, 5_000);
        assert!(late <= MS, "{late}");
        assert_eq!(os[0].end, ResetEnd::Completed);
        assert!(n1 <= 8, "{n1}");
        // 256 queues, 5 us an instruction: 256 ZAPQs, about 256 TAPQs and a few while the
        // head waits; each seen within a millisecond; the batch takes about as long as the
        // queue started last.
        let (t256, n256, late, os) = batch(256, 5 * MS, 5_000);
        assert!(os
            .iter()
            .all(|o| o.end == ResetEnd::Completed && o.errno().is_none()));
        assert!(late <= MS, "{late}");
        assert!(n256 <= 256 + 16, "{n256} TAPQs");
        assert!(t256 <= t1 + 256 * 2 * 5_000 + MS, "{t256} vs {t1}");
        // With free instructions the batch takes as long as one queue.
        let (t1, _, _, _) = batch(1, 20 * MS, 0);
        let (t256, _, late, _) = batch(256, 20 * MS, 0);
        assert_eq!(t256, t1);
        assert!(late <= MS);
    }

    #[test]
    fn batch_with_a_stuck_queue_ends_at_its_timeout() {
        let cfg = ResetConfig {
            timeout_ns: 100 * MS,
        };
        let now = core::cell::Cell::new(0u64);
        let mut ms: Vec<ResetMachine> = (0..4).map(|_| ResetMachine::new(0, &cfg)).collect();
        let mut notices = Vec::new();
        // Queue 1 never ends its reset; the others end after 1 ms; queue 3 is not there.
        run_batch(
            &mut ms,
            || now.get(),
            |i| st(if i == 3 { 1 } else { 0 }),
            |i| st(if i == 1 || now.get() < MS { 2 } else { 0 }),
            |t| now.set(t),
            |i, n| notices.push((i, n.elapsed_ms)),
        );
        let ends: Vec<ResetEnd> = ms.iter().map(|m| m.outcome().unwrap().end).collect();
        assert_eq!(
            ends,
            [
                ResetEnd::Completed,
                ResetEnd::TimedOut,
                ResetEnd::Completed,
                ResetEnd::Immediate
            ]
        );
        assert_eq!(now.get(), 100 * MS);
        assert!(notices.iter().all(|&(i, ms)| i == 1 && ms >= 100));
    }

    #[test]
    fn batch_with_a_frozen_clock_ends() {
        let cfg = ResetConfig {
            timeout_ns: 50 * MS,
        };
        let mut ms: Vec<ResetMachine> = (0..3).map(|_| ResetMachine::new(0, &cfg)).collect();
        let mut tapqs = 0u32;
        run_batch(
            &mut ms,
            || 0,
            |_| st(0),
            |_| {
                tapqs += 1;
                st(2)
            },
            |_| {},
            |_, _| {},
        );
        assert!(ms
            .iter()
            .all(|m| m.outcome().unwrap().end == ResetEnd::TimedOut));
        assert!(tapqs <= 3 * 60, "{tapqs}");
        let mut none: [ResetMachine; 0] = [];
        run_batch(&mut none, || 0, |_| st(0), |_| st(0), |_| {}, |_, _| {});
    }

    /// Answers TAPQ of queue i with response code `codes[i]` and counts the calls.
    struct Codes {
        codes: Vec<u8>,
        singles: u32,
        batches: u32,
    }

    impl ResetPort for Codes {
        fn now(&mut self) -> u64 {
            0
        }
        fn zapq(&mut self, _i: usize) -> QueueStatus {
            st(0)
        }
        fn tapq(&mut self, i: usize) -> QueueStatus {
            self.singles += 1;
            st(self.codes[i])
        }
        fn tapq_many(&mut self, first: usize, out: &mut [QueueStatus]) {
            self.batches += 1;
            for (k, o) in out.iter_mut().enumerate() {
                *o = st(self.codes[first + k]);
            }
        }
        fn sleep_until(&mut self, _until_ns: u64) {}
        fn notice(&mut self, _i: usize, _n: BusyNotice) {}
    }

    #[test]
    fn prefetched_tapqs_once_and_within_a_round() {
        let mut port = Codes {
            codes: vec![0, 0, 0, 2],
            singles: 0,
            batches: 0,
        };
        let mut buf = [st(0x7f); 3];
        let mut p = Prefetch::new(&mut buf);
        // The first TAPQ of a round, and a second one of the same queue: single.
        assert_eq!(p.tapq(&mut port, 0, 4), st(0));
        assert_eq!(p.tapq(&mut port, 0, 4), st(0));
        assert_eq!((port.singles, port.batches), (2, 0));
        // A later queue: a batch of queues 1..4, taken in order, each once.
        assert_eq!(p.tapq(&mut port, 1, 4), st(0));
        assert_eq!((port.singles, port.batches), (2, 1));
        port.codes = vec![0x11; 4];
        assert_eq!(p.tapq(&mut port, 2, 4), st(0));
        assert_eq!(p.tapq(&mut port, 3, 4), st(2));
        assert_eq!((port.singles, port.batches), (2, 1));
        // Queue 3 again: its status was taken, and it had the last TAPQ: a single one.
        assert_eq!(p.tapq(&mut port, 3, 4), st(0x11));
        assert_eq!((port.singles, port.batches), (3, 1));
        // A status fetched but not taken is dropped at the end of the round.
        port.codes = vec![0, 0, 2, 2];
        p.end_round();
        assert_eq!(p.tapq(&mut port, 0, 4), st(0));
        assert_eq!(p.tapq(&mut port, 1, 4), st(0));
        assert_eq!((port.singles, port.batches), (4, 2));
        p.end_round();
        port.codes = vec![0; 4];
        assert_eq!(p.tapq(&mut port, 2, 4), st(0));
        assert_eq!((port.singles, port.batches), (5, 2));
        // Without a buffer: single TAPQs only.
        let mut none = [];
        let mut p = Prefetch::new(&mut none);
        p.tapq(&mut port, 0, 4);
        p.tapq(&mut port, 1, 4);
        assert_eq!((port.singles, port.batches), (7, 2));
    }

    #[test]
    fn pending_zapqs_are_never_dropped_for_tapqs() {
        let mut port = Codes {
            codes: vec![0; 4],
            singles: 0,
            batches: 0,
        };
        let mut buf = [st(0x7f); 4];
        let mut p = Prefetch::new(&mut buf);
        assert_eq!(p.fetch(&mut port, Fetched::Zapq, 0, 4), Some(st(0)));
        assert!(p.zapqs_pending());
        p.tapq(&mut port, 0, 4);
        p.tapq(&mut port, 1, 4);
        assert_eq!((port.singles, port.batches), (2, 0));
        assert_eq!(p.take(Fetched::Tapq, 2), None);
        assert_eq!(p.take(Fetched::Zapq, 1), Some(st(0)));
        assert_eq!(p.take(Fetched::Zapq, 1), None);
    }

    #[test]
    fn result_aggregation() {
        let ok = ResetOutcome {
            end: ResetEnd::Completed,
            reset_status: st(0),
            free_aqic: FreeAqic::No,
            zapqs: 1,
        };
        let eio = ResetOutcome {
            reset_status: st(3),
            ..ok
        };
        let to = ResetOutcome {
            end: ResetEnd::TimedOut,
            ..ok
        };
        assert_eq!(reset_result::<&ResetOutcome>([]), Ok(()));
        assert_eq!(reset_result([&ok, &ok]), Ok(()));
        assert_eq!(reset_result([&ok, &eio]), Err(errno::EIO));
        assert_eq!(reset_result([&eio, &to, &ok]), Err(errno::ETIMEDOUT));
    }

    #[test]
    fn small() {
        assert!(core::mem::size_of::<ResetMachine>() <= 64);
    }
}
