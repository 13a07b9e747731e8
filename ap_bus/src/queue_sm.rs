// SPDX-License-Identifier: GPL-2.0
//! The host AP queue state machine of `ap_queue.c` (Linux 7.3) and the queue attributes that
//! read it.
//!
//! # What runs it
//!
//! Every queue device has one [`QueueSm`]. It starts [`DevState::Uninitiated`] with
//! [`SmState::ResetStart`] (the zeroed `struct ap_queue`). The bus scan initialises it
//! ([`QueueSm::init_state`]) right after `device_register` of a new queue that is neither
//! deconfigured nor checkstopped, so also a queue that vfio_ap bound during the synchronous
//! probe; zcrypt's queue probe initialises it again. Unbinding a queue from any driver
//! ([`QueueSm::prepare_remove`], the driver's `remove`, then [`QueueSm::remove`]) brings it back
//! to [`DevState::Uninitiated`], and vfio_ap's probe does not initialise it, so a queue bound
//! to vfio_ap after an unbind stays uninitiated. The machine only runs while
//! [`QueueSm::runs`]: configured, not checkstopped and initialised.
//!
//! # How the glue drives it
//!
//! Each `ap_sm_event` call is a chain of [`QueueSm::step`] calls, made under the queue's lock:
//! the glue feeds an [`SmInput::Event`], gets an [`SmAction`]; while it is
//! [`SmAction::Issue`], it issues that instruction on the facility and feeds the result back
//! as [`SmInput::Answer`]; the chain ends with [`SmAction::Wait`], which the glue hands to
//! `ap_wait` ([`wait_plan`]). [`QueueSm::drive`] does that chain against an
//! [`ApFacility`]; [`QueueSm::drive_loop`] repeats whole events while the answer is
//! [`SmWait::Again`] (`ap_sm_event_loop`, used by the poll tasklet).
//!
//! # Requests
//!
//! No crypto requests flow in this project: there is no NQAP/DQAP and no reply buffer
//! (`aq->reply` is only set by zcrypt's `ap_queue_init_reply`). The counters exist and are
//! shown, but only [`QueueSm::flush`] and [`QueueSm::reset_request_count`] change them. With
//! an empty request queue and no reply buffer the C read and write handlers
//! (`ap_sm_read`, `ap_sm_write`, `ap_sm_read_write`) issue nothing and answer
//! [`SmWait::None`], which is what [`QueueSm::step`] does for them.

use core::fmt;

use super::facility::ApFacility;
use super::hw::{rc, AqicCtrl, QueueStatus, TapqHwInfo};
use super::ids::Apqn;

/// `AP_ISC`: the interruption subclass of AP adapter interrupts (asm/isc.h).
pub const AP_ISC: u8 = 6;

/// `ASSOC_IDX_INVALID`: no SE association index.
pub const ASSOC_IDX_INVALID: u32 = 0x10000;

/// `poll_low_timeout`: the low-frequency poll interval (25 Hz), in ns.
pub const POLL_LOW_TIMEOUT_NS: u64 = 40_000_000;

/// The default `poll_high_timeout` in an LPAR (4 kHz), in ns.
pub const POLL_HIGH_TIMEOUT_LPAR_NS: u64 = 250_000;

/// The default `poll_high_timeout` under z/VM (`machine_is_vm()`), in ns.
pub const POLL_HIGH_TIMEOUT_VM_NS: u64 = 1_500_000;

/// `EIO`, the errno of a queue attribute whose live TAPQ failed.
pub const EIO: i32 = 5;

/// `enum ap_dev_state`, in the C order (`dev_state > UNINITIATED` is `> Uninitiated` here).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub enum DevState {
    /// `AP_DEV_STATE_UNINITIATED`: fresh, or unbound again; the machine does not run.
    #[default]
    Uninitiated,
    /// `AP_DEV_STATE_OPERATING`.
    Operating,
    /// `AP_DEV_STATE_SHUTDOWN`: removal in progress.
    Shutdown,
    /// `AP_DEV_STATE_ERROR`.
    Error,
}

/// `enum ap_sm_state`, in the C order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub enum SmState {
    /// `AP_SM_STATE_RESET_START`: RAPQ is due.
    #[default]
    ResetStart,
    /// `AP_SM_STATE_RESET_WAIT`: polling TAPQ until the reset is done.
    ResetWait,
    /// `AP_SM_STATE_SETIRQ_WAIT`: waiting for the I bit after AQIC.
    SetIrqWait,
    /// `AP_SM_STATE_IDLE`.
    Idle,
    /// `AP_SM_STATE_WORKING`: requests are on the AP queue.
    Working,
    /// `AP_SM_STATE_QUEUE_FULL`.
    QueueFull,
    /// `AP_SM_STATE_ASSOC_WAIT`: an SE association is pending.
    AssocWait,
}

/// `enum ap_sm_event`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum SmEvent {
    /// `AP_SM_EVENT_POLL`.
    Poll,
    /// `AP_SM_EVENT_TIMEOUT`: the request timer expired.
    Timeout,
}

/// `enum ap_sm_wait`, in the C order, so `min` combines waits as the tasklet does.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum SmWait {
    /// `AP_SM_WAIT_AGAIN`: run again immediately.
    Again,
    /// `AP_SM_WAIT_HIGH_TIMEOUT`: poll again after `poll_high_timeout`.
    HighTimeout,
    /// `AP_SM_WAIT_LOW_TIMEOUT`: poll again after [`POLL_LOW_TIMEOUT_NS`].
    LowTimeout,
    /// `AP_SM_WAIT_INTERRUPT`: wait for the adapter interrupt.
    Interrupt,
    /// `AP_SM_WAIT_NONE`: nothing to wait for.
    None,
}

/// An AP instruction the glue must issue on the queue's APQN.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Instr {
    /// PQAP(RAPQ) with the F bit if `f`.
    Rapq {
        /// The F bit (SE unbind).
        f: bool,
    },
    /// PQAP(TAPQ) with the T bit if `t`.
    Tapq {
        /// The T bit (return GR2).
        t: bool,
    },
    /// PQAP(AQIC) with [`aqic_enable_ctrl`] and the adapter interrupt indicator address as
    /// the notification indicator byte (`ap_queue_enable_irq`).
    AqicEnable,
    /// PQAP(ZAPQ) without the F bit; the result is not looked at.
    Zapq,
}

/// What the glue does next.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum SmAction {
    /// Issue this instruction and feed the result back with [`SmInput::Answer`].
    Issue(Instr),
    /// The event is done; pass this to `ap_wait` ([`wait_plan`]).
    Wait(SmWait),
}

/// An input of [`QueueSm::step`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum SmInput {
    /// A new event (`ap_sm_event`).
    Event(SmEvent),
    /// The result of the instruction of the last [`SmAction::Issue`]: the status word, and
    /// for TAPQ with T the GR2 (otherwise anything, e.g. 0).
    Answer(QueueStatus, TapqHwInfo),
}

/// Which instruction's answer the machine waits for.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
enum Pending {
    #[default]
    Nothing,
    /// `ap_sm_reset`: RAPQ.
    Reset,
    /// `ap_sm_reset_wait`: TAPQ with T.
    ResetWaitTapq,
    /// `ap_sm_reset_wait`: AQIC after TAPQ RC 0.
    ResetWaitAqic,
    /// `ap_sm_setirq_wait`: TAPQ without T.
    SetIrqTapq,
    /// `ap_sm_assoc_wait`: TAPQ with T.
    AssocTapq,
}

/// The GR1 of the AQIC that enables interruptions (`ap_queue_enable_irq`): IR and
/// [`AP_ISC`].
pub const fn aqic_enable_ctrl() -> AqicCtrl {
    AqicCtrl(0).with_ir(true).with_isc(AP_ISC)
}

/// `ap_queue_enable_irq`'s verdict on the AQIC status: `true` (0) for RC 0x00 and 0x07
/// without A; A set is EPERM, 0x01/0x03/0x04/0x06 EOPNOTSUPP, anything else EBUSY (all
/// `false`).
pub const fn aqic_enable_ok(status: QueueStatus) -> bool {
    !status.async_pending() && matches!(status.response_code(), rc::NORMAL | rc::OTHERWISE_CHANGED)
}

/// The state of one queue device's machine (`struct ap_queue` without the lists).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct QueueSm {
    sm_state: SmState,
    dev_state: DevState,
    pending: Pending,
    last_err_rc: u8,
    config: bool,
    chkstop: bool,
    rapq_fbit: bool,
    irq: bool,
    assoc_event: bool,
    se_bstate: u8,
    queue_count: i32,
    requestq_count: i32,
    pendingq_count: i32,
    assoc_idx: u32,
    total_request_count: u64,
}

impl Default for QueueSm {
    fn default() -> Self {
        QueueSm::new(true, false)
    }
}

impl QueueSm {
    /// A new queue device as `ap_scan_domains` sets it up before `device_register`: the
    /// zeroed state (uninitiated, [`SmState::ResetStart`], counters 0, association index 0)
    /// with `config` and `chkstop` as found by TAPQ. Interrupts are off; see
    /// [`QueueSm::set_irq`].
    pub const fn new(config: bool, chkstop: bool) -> Self {
        QueueSm {
            sm_state: SmState::ResetStart,
            dev_state: DevState::Uninitiated,
            pending: Pending::Nothing,
            last_err_rc: 0,
            config,
            chkstop,
            rapq_fbit: false,
            irq: false,
            assoc_event: false,
            se_bstate: 0,
            queue_count: 0,
            requestq_count: 0,
            pendingq_count: 0,
            assoc_idx: 0,
            total_request_count: 0,
        }
    }

    /// Whether adapter interrupts are in use (`ap_airq_ptr() != NULL`, i.e. `ap_irq_flag`):
    /// then a finished reset enables interruptions with AQIC. The simulator has no
    /// interrupts, so the glue leaves this `false` there.
    pub fn set_irq(&mut self, irq: bool) {
        self.irq = irq;
    }

    /// The state machine state.
    pub const fn sm_state(&self) -> SmState {
        self.sm_state
    }

    /// The device state.
    pub const fn dev_state(&self) -> DevState {
        self.dev_state
    }

    /// The response code that last moved the device into [`DevState::Error`] (0 after
    /// [`QueueSm::init_state`]).
    pub const fn last_err_rc(&self) -> u8 {
        self.last_err_rc
    }

    /// The configured flag (`aq->config`).
    pub const fn config(&self) -> bool {
        self.config
    }

    /// The checkstop flag (`aq->chkstop`).
    pub const fn chkstop(&self) -> bool {
        self.chkstop
    }

    /// The SE bind state (`aq->se_bstate`, TAPQ `bs`).
    pub const fn se_bstate(&self) -> u8 {
        self.se_bstate
    }

    /// Updates the SE bind state (the scan does this on every TAPQ with info).
    pub fn set_se_bstate(&mut self, bs: u8) {
        self.se_bstate = bs;
    }

    /// The SE association index ([`ASSOC_IDX_INVALID`] for none).
    pub const fn assoc_idx(&self) -> u32 {
        self.assoc_idx
    }

    /// `aq->total_request_count`.
    pub const fn total_request_count(&self) -> u64 {
        self.total_request_count
    }

    /// `aq->requestq_count`.
    pub const fn requestq_count(&self) -> i32 {
        self.requestq_count
    }

    /// `aq->pendingq_count`.
    pub const fn pendingq_count(&self) -> i32 {
        self.pendingq_count
    }

    /// `aq->queue_count`: requests on the AP queue itself.
    pub const fn queue_count(&self) -> i32 {
        self.queue_count
    }

    /// Whether an answer is awaited (the last action was [`SmAction::Issue`]).
    pub const fn busy(&self) -> bool {
        !matches!(self.pending, Pending::Nothing)
    }

    /// The gate of `ap_sm_event`: configured, not checkstopped and initiated.
    pub fn runs(&self) -> bool {
        self.config && !self.chkstop && self.dev_state > DevState::Uninitiated
    }

    /// Sets `config` (the scan's config on/off branches).
    pub fn set_config(&mut self, config: bool) {
        self.config = config;
    }

    /// Sets `chkstop` (the scan's checkstop on/off branches).
    pub fn set_chkstop(&mut self, chkstop: bool) {
        self.chkstop = chkstop;
    }

    /// Moves the device into [`DevState::Error`] with `last_err_rc = code`.
    pub fn set_error(&mut self, code: u8) {
        self.dev_state = DevState::Error;
        self.last_err_rc = code;
    }

    /// Takes the "association done" note of [`SmState::AssocWait`]: `Some(index)` once when
    /// the association went through; the glue sends `SE_ASSOC=<index>` on the queue device.
    pub fn take_assoc_uevent(&mut self) -> Option<u32> {
        if core::mem::replace(&mut self.assoc_event, false) {
            Some(self.assoc_idx)
        } else {
            None
        }
    }

    fn fail(&mut self, code: u8) -> SmAction {
        self.set_error(code);
        SmAction::Wait(SmWait::None)
    }

    fn issue(&mut self, pending: Pending, instr: Instr) -> SmAction {
        self.pending = pending;
        SmAction::Issue(instr)
    }

    /// IDLE or WORKING, depending on whether requests are on the AP queue.
    fn idle_or_working(&self) -> SmState {
        if self.queue_count > 0 {
            SmState::Working
        } else {
            SmState::Idle
        }
    }

    /// `ap_sm_reset`: issue RAPQ with the F bit of the next reset.
    fn start_reset(&mut self) -> SmAction {
        let f = self.rapq_fbit;
        self.issue(Pending::Reset, Instr::Rapq { f })
    }

    /// One step: a new event, or the answer to the last issued instruction. An event while an
    /// answer is awaited drops the awaited answer (C issues and evaluates under one lock, so
    /// this only happens if the glue lost an answer). An answer while none is awaited does
    /// nothing and gives [`SmWait::None`].
    pub fn step(&mut self, input: SmInput) -> SmAction {
        match input {
            SmInput::Event(ev) => {
                self.pending = Pending::Nothing;
                self.event(ev)
            }
            SmInput::Answer(status, hw) => {
                let pending = core::mem::take(&mut self.pending);
                self.answer(pending, status, hw)
            }
        }
    }

    /// `ap_sm_event`: the gate, then the handler of the jump table.
    fn event(&mut self, ev: SmEvent) -> SmAction {
        if !self.runs() {
            return SmAction::Wait(SmWait::None);
        }
        match (self.sm_state, ev) {
            (SmState::ResetStart, SmEvent::Poll) => self.start_reset(),
            (SmState::ResetWait, SmEvent::Poll) => {
                self.issue(Pending::ResetWaitTapq, Instr::Tapq { t: true })
            }
            // With requests on the AP queue and a reply buffer C would DQAP here; neither
            // exists in this project.
            (SmState::SetIrqWait, SmEvent::Poll) => {
                self.issue(Pending::SetIrqTapq, Instr::Tapq { t: false })
            }
            // ap_sm_write with an empty request queue; ap_sm_read_write and ap_sm_read
            // without a reply buffer.
            (SmState::Idle | SmState::Working | SmState::QueueFull, SmEvent::Poll) => {
                SmAction::Wait(SmWait::None)
            }
            (SmState::AssocWait, SmEvent::Poll) => {
                self.issue(Pending::AssocTapq, Instr::Tapq { t: true })
            }
            (
                SmState::ResetStart | SmState::ResetWait | SmState::SetIrqWait | SmState::Idle,
                SmEvent::Timeout,
            ) => SmAction::Wait(SmWait::None),
            (SmState::Working | SmState::QueueFull | SmState::AssocWait, SmEvent::Timeout) => {
                self.start_reset()
            }
        }
    }

    fn answer(&mut self, pending: Pending, status: QueueStatus, hw: TapqHwInfo) -> SmAction {
        let code = status.response_code();
        match pending {
            Pending::Nothing => SmAction::Wait(SmWait::None),
            Pending::Reset => {
                if status.async_pending() {
                    return SmAction::Wait(SmWait::None);
                }
                match code {
                    rc::NORMAL | rc::RESET_IN_PROGRESS => {
                        self.sm_state = SmState::ResetWait;
                        self.rapq_fbit = false;
                        SmAction::Wait(SmWait::LowTimeout)
                    }
                    _ => self.fail(code),
                }
            }
            Pending::ResetWaitTapq => match code {
                rc::NORMAL => {
                    self.se_bstate = hw.bs();
                    if self.irq {
                        self.issue(Pending::ResetWaitAqic, Instr::AqicEnable)
                    } else {
                        self.sm_state = self.idle_or_working();
                        SmAction::Wait(SmWait::Again)
                    }
                }
                rc::BUSY | rc::RESET_IN_PROGRESS => SmAction::Wait(SmWait::LowTimeout),
                _ => self.fail(code),
            },
            Pending::ResetWaitAqic => {
                self.sm_state = if aqic_enable_ok(status) {
                    SmState::SetIrqWait
                } else {
                    self.idle_or_working()
                };
                SmAction::Wait(SmWait::Again)
            }
            Pending::SetIrqTapq => {
                if status.irq_enabled() {
                    self.sm_state = self.idle_or_working();
                }
                match code {
                    rc::NORMAL if self.queue_count > 0 => SmAction::Wait(SmWait::Again),
                    rc::NORMAL | rc::NO_PENDING_REPLY => SmAction::Wait(SmWait::LowTimeout),
                    _ => self.fail(code),
                }
            }
            Pending::AssocTapq => {
                if (status.async_pending() && code != rc::NORMAL) || code > rc::BUSY {
                    return self.fail(code);
                }
                self.se_bstate = hw.bs();
                match hw.bs() {
                    AP_BS_Q_USABLE => {
                        self.sm_state = SmState::Idle;
                        self.assoc_event = true;
                        SmAction::Wait(SmWait::None)
                    }
                    AP_BS_Q_USABLE_NO_SECURE_KEY => SmAction::Wait(SmWait::LowTimeout),
                    _ => {
                        self.assoc_idx = ASSOC_IDX_INVALID;
                        self.fail(code)
                    }
                }
            }
        }
    }

    /// `_ap_queue_init_state` / `ap_queue_init_state`: operating, [`SmState::ResetStart`],
    /// `last_err_rc = 0`, no association, then one poll event (its first action is returned;
    /// RAPQ if the machine [`QueueSm::runs`]).
    pub fn init_state(&mut self) -> SmAction {
        self.dev_state = DevState::Operating;
        self.sm_state = SmState::ResetStart;
        self.last_err_rc = 0;
        self.assoc_idx = ASSOC_IDX_INVALID;
        self.step(SmInput::Event(SmEvent::Poll))
    }

    /// `__ap_flush_queue`: every pending and queued request completes with EAGAIN (there are
    /// none here), so both list counters and `queue_count` become 0.
    /// `total_request_count` is kept.
    pub fn flush(&mut self) {
        self.pendingq_count = 0;
        self.requestq_count = 0;
        self.queue_count = 0;
    }

    /// A write to the queue's `reset` attribute (`reset_store`, any content): flush,
    /// [`SmState::ResetStart`], one poll event. The device state is not touched, so on an
    /// uninitiated queue nothing runs and `reset` then reads "Reset in progress.".
    pub fn reset_store(&mut self) -> SmAction {
        self.flush();
        self.sm_state = SmState::ResetStart;
        self.step(SmInput::Event(SmEvent::Poll))
    }

    /// A write to the queue's `request_count` attribute (any content): the counter becomes 0.
    pub fn reset_request_count(&mut self) {
        self.total_request_count = 0;
    }

    /// `se_bind_store` with 0 (SE guests only): flush, F bit for the next RAPQ, then
    /// [`QueueSm::init_state`].
    pub fn se_unbind(&mut self) -> SmAction {
        self.flush();
        self.rapq_fbit = true;
        self.init_state()
    }

    /// `se_associate_store` after AAPQ answered 0x00 or 0x0A: [`SmState::AssocWait`] with
    /// association index `idx`, then one poll event.
    pub fn se_associate_started(&mut self, idx: u32) -> SmAction {
        self.sm_state = SmState::AssocWait;
        self.assoc_idx = idx;
        self.step(SmInput::Event(SmEvent::Poll))
    }

    /// `ap_queue_prepare_remove` (first step of unbinding from any driver): flush and
    /// [`DevState::Shutdown`]; the glue then stops the request timer.
    pub fn prepare_remove(&mut self) {
        self.flush();
        self.dev_state = DevState::Shutdown;
        self.pending = Pending::Nothing;
    }

    /// `ap_queue_remove` (after the driver's `remove`): the glue must issue the returned
    /// instruction (ZAPQ without F, result ignored) under the queue lock; the device is
    /// [`DevState::Uninitiated`] again. The machine state is left as it is.
    pub fn remove(&mut self) -> Instr {
        self.dev_state = DevState::Uninitiated;
        self.pending = Pending::Nothing;
        Instr::Zapq
    }

    /// Runs one event to its end on `fac` for queue `q` (`ap_sm_event`, as
    /// `ap_wait(ap_sm_event(aq, ev))` callers use it), starting with `first`, the action an
    /// event-starting method returned (or `None` to start with `ev`). `nib` is the
    /// notification indicator byte address for AQIC. Returns the final wait.
    pub fn drive(
        &mut self,
        fac: &mut dyn ApFacility,
        q: Apqn,
        nib: u64,
        first: Option<SmAction>,
        ev: SmEvent,
    ) -> SmWait {
        let mut action = match first {
            Some(a) => a,
            None => self.step(SmInput::Event(ev)),
        };
        // Each event issues at most two instructions; the bound only guards the loop.
        for _ in 0..8 {
            match action {
                SmAction::Wait(w) => return w,
                SmAction::Issue(instr) => {
                    let (status, hw) = issue_on(fac, q, nib, instr);
                    action = self.step(SmInput::Answer(status, hw));
                }
            }
        }
        self.pending = Pending::Nothing;
        SmWait::None
    }

    /// `ap_sm_event_loop`: runs `ev` events on `fac` until one ends with something other than
    /// [`SmWait::Again`]; returns that wait. Bounded at 64 events (then [`SmWait::Again`], so
    /// the glue polls again): without requests the machine needs at most three.
    pub fn drive_loop(
        &mut self,
        fac: &mut dyn ApFacility,
        q: Apqn,
        nib: u64,
        ev: SmEvent,
    ) -> SmWait {
        for _ in 0..64 {
            let w = self.drive(fac, q, nib, None, ev);
            if w != SmWait::Again {
                return w;
            }
        }
        SmWait::Again
    }
}

/// `AP_BS_Q_USABLE`: TAPQ `bs` 0.
pub const AP_BS_Q_USABLE: u8 = 0;
/// `AP_BS_Q_USABLE_NO_SECURE_KEY`: TAPQ `bs` 1.
pub const AP_BS_Q_USABLE_NO_SECURE_KEY: u8 = 1;
/// `AP_BS_Q_AVAIL_FOR_BINDING`: TAPQ `bs` 2.
pub const AP_BS_Q_AVAIL_FOR_BINDING: u8 = 2;
/// `AP_BS_Q_UNUSABLE`: TAPQ `bs` 3.
pub const AP_BS_Q_UNUSABLE: u8 = 3;

/// Issues `instr` on `fac` for `q`: the status and GR2 (0 unless TAPQ with T).
pub fn issue_on(
    fac: &mut dyn ApFacility,
    q: Apqn,
    nib: u64,
    instr: Instr,
) -> (QueueStatus, TapqHwInfo) {
    match instr {
        Instr::Rapq { f } => (fac.rapq(q, f), TapqHwInfo(0)),
        Instr::Tapq { t } => fac.tapq(q, t),
        Instr::AqicEnable => (fac.aqic(q, aqic_enable_ctrl(), nib), TapqHwInfo(0)),
        Instr::Zapq => (fac.zapq(q, false), TapqHwInfo(0)),
    }
}

/// What `ap_wait` does with a final [`SmWait`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum WaitPlan {
    /// Nothing (interrupts will come, or nothing to wait for).
    Nothing,
    /// Wake the `appoll` thread.
    WakePollThread,
    /// Arm the poll hrtimer with this delay in ns, unless it is already queued; when it
    /// fires, the tasklet polls every bound queue ([`QueueSm::drive_loop`]).
    Timer(u64),
}

/// `ap_wait`: AGAIN and INTERRUPT do nothing with interrupts in use (`irq`), wake the poll
/// thread if it runs, else arm the timer with `poll_high_ns`; LOW_TIMEOUT arms it with
/// `poll_low_ns`, HIGH_TIMEOUT with `poll_high_ns`; NONE does nothing.
pub fn wait_plan(
    wait: SmWait,
    irq: bool,
    poll_thread: bool,
    poll_high_ns: u64,
    poll_low_ns: u64,
) -> WaitPlan {
    match wait {
        SmWait::Again | SmWait::Interrupt if irq => WaitPlan::Nothing,
        SmWait::Again | SmWait::Interrupt if poll_thread => WaitPlan::WakePollThread,
        SmWait::Again | SmWait::Interrupt | SmWait::HighTimeout => WaitPlan::Timer(poll_high_ns),
        SmWait::LowTimeout => WaitPlan::Timer(poll_low_ns),
        SmWait::None => WaitPlan::Nothing,
    }
}

/// Queue `request_count`: `%llu\n` of the total, or `-\n` while uninitiated.
pub fn write_request_count(w: &mut dyn fmt::Write, sm: &QueueSm) -> fmt::Result {
    if sm.dev_state > DevState::Uninitiated {
        writeln!(w, "{}", sm.total_request_count)
    } else {
        w.write_str("-\n")
    }
}

/// Queue `requestq_count`: `%d\n`, 0 while uninitiated.
pub fn write_requestq_count(w: &mut dyn fmt::Write, sm: &QueueSm) -> fmt::Result {
    let n = if sm.dev_state > DevState::Uninitiated {
        sm.requestq_count
    } else {
        0
    };
    writeln!(w, "{n}")
}

/// Queue `pendingq_count`: `%d\n`, 0 while uninitiated.
pub fn write_pendingq_count(w: &mut dyn fmt::Write, sm: &QueueSm) -> fmt::Result {
    let n = if sm.dev_state > DevState::Uninitiated {
        sm.pendingq_count
    } else {
        0
    };
    writeln!(w, "{n}")
}

/// Queue `reset` (read): by machine state only (also on an uninitiated queue, which is in
/// [`SmState::ResetStart`] from its creation, so it reads "Reset in progress.").
pub fn write_reset(w: &mut dyn fmt::Write, state: SmState) -> fmt::Result {
    w.write_str(match state {
        SmState::ResetStart | SmState::ResetWait => "Reset in progress.\n",
        SmState::Working | SmState::QueueFull => "Reset Timer armed.\n",
        SmState::SetIrqWait | SmState::Idle | SmState::AssocWait => "No Reset Timer set.\n",
    })
}

/// Queue `interrupt`: "Enable Interrupt pending." in [`SmState::SetIrqWait`]; otherwise a
/// live TAPQ **without** the T bit (`tapq`, called only then, whatever the device state) and
/// its I bit.
pub fn write_interrupt(
    w: &mut dyn fmt::Write,
    state: SmState,
    tapq: impl FnOnce() -> QueueStatus,
) -> fmt::Result {
    if state == SmState::SetIrqWait {
        return w.write_str("Enable Interrupt pending.\n");
    }
    if tapq().irq_enabled() {
        w.write_str("Interrupts enabled.\n")
    } else {
        w.write_str("Interrupts disabled.\n")
    }
}

/// Queue `ap_functions` from a live TAPQ **with** the T bit (always, whatever APFT says):
/// `Err(EIO)` if the response code is above 0x05, else the full 32 facility bits of GR2
/// (bs bits included) for [`super::text::write_ap_functions`].
pub fn queue_ap_functions(status: QueueStatus, hw: TapqHwInfo) -> Result<u32, i32> {
    if status.response_code() > rc::BUSY {
        Err(EIO)
    } else {
        Ok(hw.fac())
    }
}

/// The `CONFIG_AP_DEBUG` queue attribute `states`: `UNINITIATED\n`, or the device state
/// (`OPERATING`, `SHUTDOWN`, `ERROR`) followed by ` [RESET_START]\n`, ` [RESET_WAIT]\n`,
/// ` [SETIRQ_WAIT]\n`, ` [IDLE]\n`, ` [WORKING]\n`, ` [FULL]\n` or ` [ASSOC_WAIT]\n`.
pub fn write_states(w: &mut dyn fmt::Write, dev: DevState, state: SmState) -> fmt::Result {
    let d = match dev {
        DevState::Uninitiated => return w.write_str("UNINITIATED\n"),
        DevState::Operating => "OPERATING",
        DevState::Shutdown => "SHUTDOWN",
        DevState::Error => "ERROR",
    };
    let s = match state {
        SmState::ResetStart => "RESET_START",
        SmState::ResetWait => "RESET_WAIT",
        SmState::SetIrqWait => "SETIRQ_WAIT",
        SmState::Idle => "IDLE",
        SmState::Working => "WORKING",
        SmState::QueueFull => "FULL",
        SmState::AssocWait => "ASSOC_WAIT",
    };
    writeln!(w, "{d} [{s}]")
}

/// The `CONFIG_AP_DEBUG` queue attribute `last_err_rc`: the response code's name (`NORMAL`,
/// `Q_NOT_AVAIL`, `RESET_IN_PROGRESS`, `DECONFIGURED`, `CHECKSTOPPED`, `BUSY`,
/// `INVALID_ADDRESS`, `OTHERWISE_CHANGED`, `Q_FULL/NO_PENDING_REPLY`, `INDEX_TOO_BIG`,
/// `NO_FIRST_PART`, `MESSAGE_TOO_BIG`, `REQ_FAC_NOT_INST`) or `response code %d`, then `\n`.
pub fn write_last_err_rc(w: &mut dyn fmt::Write, code: u8) -> fmt::Result {
    let name = match code {
        rc::NORMAL => "NORMAL",
        rc::Q_NOT_AVAIL => "Q_NOT_AVAIL",
        rc::RESET_IN_PROGRESS => "RESET_IN_PROGRESS",
        rc::DECONFIGURED => "DECONFIGURED",
        rc::CHECKSTOPPED => "CHECKSTOPPED",
        rc::BUSY => "BUSY",
        rc::INVALID_ADDRESS => "INVALID_ADDRESS",
        rc::OTHERWISE_CHANGED => "OTHERWISE_CHANGED",
        rc::Q_FULL => "Q_FULL/NO_PENDING_REPLY",
        rc::INDEX_TOO_BIG => "INDEX_TOO_BIG",
        rc::NO_FIRST_PART => "NO_FIRST_PART",
        rc::MESSAGE_TOO_BIG => "MESSAGE_TOO_BIG",
        rc::REQ_FAC_NOT_INST => "REQ_FAC_NOT_INST",
        _ => return writeln!(w, "response code {code}"),
    };
    writeln!(w, "{name}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    fn st(code: u8) -> QueueStatus {
        QueueStatus::new(code)
    }

    fn ans(code: u8) -> SmInput {
        SmInput::Answer(st(code), TapqHwInfo(0))
    }

    const POLL: SmInput = SmInput::Event(SmEvent::Poll);
    const TIMEOUT: SmInput = SmInput::Event(SmEvent::Timeout);

    /// An initiated, running machine in `state`.
    fn running(state: SmState) -> QueueSm {
        let mut sm = QueueSm::new(true, false);
        sm.dev_state = DevState::Operating;
        sm.sm_state = state;
        sm
    }

    fn issue(i: Instr) -> SmAction {
        SmAction::Issue(i)
    }

    fn wait(w: SmWait) -> SmAction {
        SmAction::Wait(w)
    }

    #[test]
    fn gate() {
        for (config, chkstop, dev) in [
            (true, false, DevState::Uninitiated),
            (false, false, DevState::Operating),
            (true, true, DevState::Operating),
            (false, true, DevState::Error),
        ] {
            let mut sm = QueueSm::new(config, chkstop);
            sm.dev_state = dev;
            assert!(!sm.runs());
            assert_eq!(sm.step(POLL), wait(SmWait::None));
            assert_eq!(sm.step(TIMEOUT), wait(SmWait::None));
            assert_eq!(sm.sm_state(), SmState::ResetStart);
        }
        for dev in [DevState::Operating, DevState::Shutdown, DevState::Error] {
            let mut sm = running(SmState::ResetStart);
            sm.dev_state = dev;
            assert_eq!(sm.step(POLL), issue(Instr::Rapq { f: false }), "{dev:?}");
        }
    }

    /// ap_sm_reset: one row per response.
    #[test]
    fn sm_reset() {
        let rows: &[(&str, QueueStatus, SmState, DevState, u8, SmAction)] = &[
            (
                "normal",
                st(0),
                SmState::ResetWait,
                DevState::Operating,
                0,
                wait(SmWait::LowTimeout),
            ),
            (
                "in_progress",
                st(2),
                SmState::ResetWait,
                DevState::Operating,
                0,
                wait(SmWait::LowTimeout),
            ),
            (
                "async",
                st(0).with_async(true),
                SmState::ResetStart,
                DevState::Operating,
                0,
                wait(SmWait::None),
            ),
            (
                "deconfigured",
                st(3),
                SmState::ResetStart,
                DevState::Error,
                3,
                wait(SmWait::None),
            ),
            (
                "busy",
                st(5),
                SmState::ResetStart,
                DevState::Error,
                5,
                wait(SmWait::None),
            ),
            (
                "not_avail",
                st(1),
                SmState::ResetStart,
                DevState::Error,
                1,
                wait(SmWait::None),
            ),
        ];
        for (name, status, state, dev, err, act) in rows {
            let mut sm = running(SmState::ResetStart);
            sm.rapq_fbit = true;
            assert_eq!(sm.step(POLL), issue(Instr::Rapq { f: true }), "{name}");
            assert!(sm.busy());
            assert_eq!(
                sm.step(SmInput::Answer(*status, TapqHwInfo(0))),
                *act,
                "{name}"
            );
            assert_eq!(
                (sm.sm_state(), sm.dev_state(), sm.last_err_rc()),
                (*state, *dev, *err),
                "{name}"
            );
            assert_eq!(sm.rapq_fbit, *state == SmState::ResetStart, "{name}");
            assert!(!sm.busy());
        }
    }

    /// ap_sm_reset_wait: one row per response, without interrupts.
    #[test]
    fn sm_reset_wait() {
        let rows: &[(&str, u8, SmState, DevState, SmAction)] = &[
            (
                "normal_idle",
                0,
                SmState::Idle,
                DevState::Operating,
                wait(SmWait::Again),
            ),
            (
                "busy",
                5,
                SmState::ResetWait,
                DevState::Operating,
                wait(SmWait::LowTimeout),
            ),
            (
                "in_progress",
                2,
                SmState::ResetWait,
                DevState::Operating,
                wait(SmWait::LowTimeout),
            ),
            (
                "not_avail",
                1,
                SmState::ResetWait,
                DevState::Error,
                wait(SmWait::None),
            ),
            (
                "deconfigured",
                3,
                SmState::ResetWait,
                DevState::Error,
                wait(SmWait::None),
            ),
            (
                "checkstopped",
                4,
                SmState::ResetWait,
                DevState::Error,
                wait(SmWait::None),
            ),
            (
                "other",
                0x42,
                SmState::ResetWait,
                DevState::Error,
                wait(SmWait::None),
            ),
        ];
        for (name, code, state, dev, act) in rows {
            let mut sm = running(SmState::ResetWait);
            assert_eq!(sm.step(POLL), issue(Instr::Tapq { t: true }), "{name}");
            let hw = TapqHwInfo(0).with_bs(2);
            assert_eq!(sm.step(SmInput::Answer(st(*code), hw)), *act, "{name}");
            assert_eq!((sm.sm_state(), sm.dev_state()), (*state, *dev), "{name}");
            if *code == 0 {
                assert_eq!(sm.se_bstate(), 2);
            } else if *dev == DevState::Error {
                assert_eq!(sm.last_err_rc(), *code);
            }
        }
        // With requests on the AP queue it would be WORKING.
        let mut sm = running(SmState::ResetWait);
        sm.queue_count = 1;
        let _ = sm.step(POLL);
        assert_eq!(sm.step(ans(0)), wait(SmWait::Again));
        assert_eq!(sm.sm_state(), SmState::Working);
    }

    /// ap_sm_reset_wait with interrupts: the AQIC verdict of ap_queue_enable_irq.
    #[test]
    fn sm_reset_wait_irq() {
        let rows: &[(&str, QueueStatus, SmState)] = &[
            ("aqic_normal", st(0), SmState::SetIrqWait),
            ("aqic_otherwise_changed", st(7), SmState::SetIrqWait),
            ("aqic_async_eperm", st(0).with_async(true), SmState::Idle),
            ("aqic_invalid_address", st(6), SmState::Idle),
            ("aqic_busy", st(5), SmState::Idle),
            ("aqic_deconfigured", st(3), SmState::Idle),
        ];
        for (name, status, state) in rows {
            let mut sm = running(SmState::ResetWait);
            sm.set_irq(true);
            let _ = sm.step(POLL);
            assert_eq!(sm.step(ans(0)), issue(Instr::AqicEnable), "{name}");
            assert_eq!(
                sm.step(SmInput::Answer(*status, TapqHwInfo(0))),
                wait(SmWait::Again),
                "{name}"
            );
            assert_eq!(sm.sm_state(), *state, "{name}");
            assert_eq!(sm.dev_state(), DevState::Operating, "{name}");
        }
        let c = aqic_enable_ctrl();
        assert!(c.ir() && c.isc() == AP_ISC);
    }

    /// ap_sm_setirq_wait without requests: TAPQ without T.
    #[test]
    fn sm_setirq_wait() {
        let rows: &[(&str, QueueStatus, SmState, DevState, SmAction)] = &[
            (
                "irq_on",
                st(0).with_irq(true),
                SmState::Idle,
                DevState::Operating,
                wait(SmWait::LowTimeout),
            ),
            (
                "irq_not_yet",
                st(0),
                SmState::SetIrqWait,
                DevState::Operating,
                wait(SmWait::LowTimeout),
            ),
            (
                "no_pending_reply",
                st(0x10),
                SmState::SetIrqWait,
                DevState::Operating,
                wait(SmWait::LowTimeout),
            ),
            (
                "error",
                st(3),
                SmState::SetIrqWait,
                DevState::Error,
                wait(SmWait::None),
            ),
            (
                "error_irq_on",
                st(4).with_irq(true),
                SmState::Idle,
                DevState::Error,
                wait(SmWait::None),
            ),
        ];
        for (name, status, state, dev, act) in rows {
            let mut sm = running(SmState::SetIrqWait);
            assert_eq!(sm.step(POLL), issue(Instr::Tapq { t: false }), "{name}");
            assert_eq!(
                sm.step(SmInput::Answer(*status, TapqHwInfo(0))),
                *act,
                "{name}"
            );
            assert_eq!((sm.sm_state(), sm.dev_state()), (*state, *dev), "{name}");
        }
        let mut sm = running(SmState::SetIrqWait);
        sm.queue_count = 2;
        let _ = sm.step(POLL);
        assert_eq!(
            sm.step(SmInput::Answer(st(0).with_irq(true), TapqHwInfo(0))),
            wait(SmWait::Again)
        );
        assert_eq!(sm.sm_state(), SmState::Working);
    }

    /// ap_sm_assoc_wait: TAPQ with T and the bs bits.
    #[test]
    fn sm_assoc_wait() {
        let rows: &[(&str, QueueStatus, u8, SmState, DevState, SmAction, bool)] = &[
            (
                "associated",
                st(0),
                0,
                SmState::Idle,
                DevState::Operating,
                wait(SmWait::None),
                true,
            ),
            (
                "pending",
                st(0),
                1,
                SmState::AssocWait,
                DevState::Operating,
                wait(SmWait::LowTimeout),
                false,
            ),
            (
                "bs_reset",
                st(0),
                2,
                SmState::AssocWait,
                DevState::Error,
                wait(SmWait::None),
                false,
            ),
            (
                "bs_unusable",
                st(5),
                3,
                SmState::AssocWait,
                DevState::Error,
                wait(SmWait::None),
                false,
            ),
            (
                "async_rc",
                st(1).with_async(true),
                0,
                SmState::AssocWait,
                DevState::Error,
                wait(SmWait::None),
                false,
            ),
            (
                "async_normal",
                st(0).with_async(true),
                0,
                SmState::Idle,
                DevState::Operating,
                wait(SmWait::None),
                true,
            ),
            (
                "rc_above_busy",
                st(6),
                0,
                SmState::AssocWait,
                DevState::Error,
                wait(SmWait::None),
                false,
            ),
        ];
        for (name, status, bs, state, dev, act, ev) in rows {
            let mut sm = running(SmState::Idle);
            assert_eq!(
                sm.se_associate_started(9),
                issue(Instr::Tapq { t: true }),
                "{name}"
            );
            let hw = TapqHwInfo(0).with_bs(*bs);
            assert_eq!(sm.step(SmInput::Answer(*status, hw)), *act, "{name}");
            assert_eq!((sm.sm_state(), sm.dev_state()), (*state, *dev), "{name}");
            assert_eq!(sm.take_assoc_uevent(), ev.then_some(9), "{name}");
            assert_eq!(sm.take_assoc_uevent(), None);
            if *name == "bs_reset" {
                assert_eq!(sm.assoc_idx(), ASSOC_IDX_INVALID);
            }
        }
    }

    /// The jump table's remaining cells.
    #[test]
    fn jump_table() {
        let rows: &[(SmState, SmAction, SmAction)] = &[
            (
                SmState::ResetStart,
                issue(Instr::Rapq { f: false }),
                wait(SmWait::None),
            ),
            (
                SmState::ResetWait,
                issue(Instr::Tapq { t: true }),
                wait(SmWait::None),
            ),
            (
                SmState::SetIrqWait,
                issue(Instr::Tapq { t: false }),
                wait(SmWait::None),
            ),
            (SmState::Idle, wait(SmWait::None), wait(SmWait::None)),
            (
                SmState::Working,
                wait(SmWait::None),
                issue(Instr::Rapq { f: false }),
            ),
            (
                SmState::QueueFull,
                wait(SmWait::None),
                issue(Instr::Rapq { f: false }),
            ),
            (
                SmState::AssocWait,
                issue(Instr::Tapq { t: true }),
                issue(Instr::Rapq { f: false }),
            ),
        ];
        for (state, poll, timeout) in rows {
            assert_eq!(running(*state).step(POLL), *poll, "{state:?} poll");
            let mut sm = running(*state);
            assert_eq!(sm.step(TIMEOUT), *timeout, "{state:?} timeout");
            if matches!(timeout, SmAction::Issue(_)) {
                assert_eq!(sm.step(ans(0)), wait(SmWait::LowTimeout));
                assert_eq!(sm.sm_state(), SmState::ResetWait);
            }
        }
        // An answer nobody waits for.
        let mut sm = running(SmState::Idle);
        assert_eq!(sm.step(ans(3)), wait(SmWait::None));
        assert_eq!(sm.dev_state(), DevState::Operating);
        // A new event drops an awaited answer.
        let mut sm = running(SmState::ResetStart);
        let _ = sm.step(POLL);
        assert_eq!(sm.step(TIMEOUT), wait(SmWait::None));
        assert_eq!(sm.step(ans(3)), wait(SmWait::None));
        assert_eq!(sm.dev_state(), DevState::Operating);
    }

    #[test]
    fn lifecycle() {
        let mut sm = QueueSm::new(true, false);
        assert_eq!(
            (sm.dev_state(), sm.sm_state(), sm.assoc_idx()),
            (DevState::Uninitiated, SmState::ResetStart, 0)
        );
        // A reset write on an uninitiated queue does not run the machine.
        assert_eq!(sm.reset_store(), wait(SmWait::None));
        assert_eq!(sm.sm_state(), SmState::ResetStart);
        sm.set_error(4);
        assert_eq!(sm.init_state(), issue(Instr::Rapq { f: false }));
        assert_eq!(
            (sm.dev_state(), sm.last_err_rc(), sm.assoc_idx()),
            (DevState::Operating, 0, ASSOC_IDX_INVALID)
        );
        assert_eq!(sm.step(ans(0)), wait(SmWait::LowTimeout));
        let _ = sm.step(POLL);
        assert_eq!(sm.step(ans(0)), wait(SmWait::Again));
        assert_eq!(sm.sm_state(), SmState::Idle);
        assert_eq!(sm.reset_store(), issue(Instr::Rapq { f: false }));
        assert_eq!(sm.sm_state(), SmState::ResetStart);
        sm.total_request_count = 5;
        sm.requestq_count = 2;
        sm.pendingq_count = 1;
        sm.queue_count = 1;
        sm.flush();
        assert_eq!(
            (
                sm.requestq_count(),
                sm.pendingq_count(),
                sm.queue_count(),
                sm.total_request_count()
            ),
            (0, 0, 0, 5)
        );
        sm.reset_request_count();
        assert_eq!(sm.total_request_count(), 0);
        sm.prepare_remove();
        assert_eq!(sm.dev_state(), DevState::Shutdown);
        assert!(!sm.busy());
        assert_eq!(sm.remove(), Instr::Zapq);
        assert_eq!(sm.dev_state(), DevState::Uninitiated);
        assert_eq!(sm.se_unbind(), issue(Instr::Rapq { f: true }));
    }

    #[test]
    fn waits() {
        use WaitPlan::*;
        let h = POLL_HIGH_TIMEOUT_LPAR_NS;
        let l = POLL_LOW_TIMEOUT_NS;
        assert_eq!(wait_plan(SmWait::Again, true, true, h, l), Nothing);
        assert_eq!(
            wait_plan(SmWait::Interrupt, false, true, h, l),
            WakePollThread
        );
        assert_eq!(wait_plan(SmWait::Again, false, false, h, l), Timer(h));
        assert_eq!(wait_plan(SmWait::HighTimeout, true, true, h, l), Timer(h));
        assert_eq!(wait_plan(SmWait::LowTimeout, true, false, h, l), Timer(l));
        assert_eq!(wait_plan(SmWait::None, false, false, h, l), Nothing);
        assert!(SmWait::Again < SmWait::HighTimeout && SmWait::Interrupt < SmWait::None);
        assert_eq!(
            SmWait::LowTimeout.min(SmWait::Interrupt),
            SmWait::LowTimeout
        );
    }

    fn render(f: impl FnOnce(&mut dyn fmt::Write) -> fmt::Result) -> String {
        let mut s = String::new();
        f(&mut s).unwrap();
        s
    }

    #[test]
    fn attribute_text() {
        let mut sm = QueueSm::new(true, false);
        sm.total_request_count = 7;
        sm.requestq_count = 3;
        sm.pendingq_count = 2;
        assert_eq!(render(|w| write_request_count(w, &sm)), "-\n");
        assert_eq!(render(|w| write_requestq_count(w, &sm)), "0\n");
        assert_eq!(render(|w| write_pendingq_count(w, &sm)), "0\n");
        sm.dev_state = DevState::Shutdown;
        assert_eq!(render(|w| write_request_count(w, &sm)), "7\n");
        assert_eq!(render(|w| write_requestq_count(w, &sm)), "3\n");
        assert_eq!(render(|w| write_pendingq_count(w, &sm)), "2\n");
        let reset = |s| render(|w| write_reset(w, s));
        assert_eq!(reset(SmState::ResetStart), "Reset in progress.\n");
        assert_eq!(reset(SmState::ResetWait), "Reset in progress.\n");
        assert_eq!(reset(SmState::Working), "Reset Timer armed.\n");
        assert_eq!(reset(SmState::QueueFull), "Reset Timer armed.\n");
        for s in [SmState::SetIrqWait, SmState::Idle, SmState::AssocWait] {
            assert_eq!(reset(s), "No Reset Timer set.\n");
        }
        assert_eq!(
            render(|w| write_interrupt(w, SmState::SetIrqWait, || panic!("no TAPQ"))),
            "Enable Interrupt pending.\n"
        );
        assert_eq!(
            render(|w| write_interrupt(w, SmState::Idle, || st(0).with_irq(true))),
            "Interrupts enabled.\n"
        );
        assert_eq!(
            render(|w| write_interrupt(w, SmState::ResetStart, || st(1))),
            "Interrupts disabled.\n"
        );
        let hw = TapqHwInfo(0).with_cca(true).with_bs(1);
        assert_eq!(queue_ap_functions(st(5), hw), Ok(0x1000_4000));
        assert_eq!(queue_ap_functions(st(3), hw), Ok(hw.fac()));
        assert_eq!(queue_ap_functions(st(6), hw), Err(EIO));
        assert_eq!(
            render(|w| write_states(w, DevState::Uninitiated, SmState::Idle)),
            "UNINITIATED\n"
        );
        assert_eq!(
            render(|w| write_states(w, DevState::Operating, SmState::Idle)),
            "OPERATING [IDLE]\n"
        );
        assert_eq!(
            render(|w| write_states(w, DevState::Error, SmState::QueueFull)),
            "ERROR [FULL]\n"
        );
        assert_eq!(
            render(|w| write_states(w, DevState::Shutdown, SmState::SetIrqWait)),
            "SHUTDOWN [SETIRQ_WAIT]\n"
        );
        assert_eq!(
            render(|w| write_states(w, DevState::Operating, SmState::AssocWait)),
            "OPERATING [ASSOC_WAIT]\n"
        );
        let err = |c| render(|w| write_last_err_rc(w, c));
        assert_eq!(err(0), "NORMAL\n");
        assert_eq!(err(4), "CHECKSTOPPED\n");
        assert_eq!(err(0x10), "Q_FULL/NO_PENDING_REPLY\n");
        assert_eq!(err(0x16), "REQ_FAC_NOT_INST\n");
        assert_eq!(err(0x42), "response code 66\n");
        assert_eq!(err(0x0a), "response code 10\n");
    }
}
