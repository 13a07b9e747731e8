// SPDX-License-Identifier: GPL-2.0
//! A simulated AP facility: a configurable machine with crypto adapters, usage and control
//! domains, QCI, deconfiguration, checkstop, queue resets that take time, AQIC, QACT and SCLP
//! adapter (de)configuration, plus the configuration change events SCLP/CHSC would announce.
//!
//! The machine is described by a [`MachineSpec`] (module parameter, [`parse_machine_spec`])
//! and changed at run time by [`Command`]s (debugfs, [`parse_command`]).
//!
//! # The all-zero invariant
//!
//! [`Sim`] is valid when all its bytes are zero (given a clock type for which that holds, such
//! as a zero-sized clock or [`FakeClock`]): all-zero is the empty machine, with no adapters,
//! no domains, no QCI facility, QCI flags 0, immediate resets, no injected AQIC failure, QACT
//! failing for newer types, no SCLP reconfiguration and no pending event. The kernel relies on
//! this: the structure (about 580 KiB, mostly dense per-queue state for 256 x 256 APQNs) is
//! too big for the kernel stack, so it is allocated zeroed in place and then set up with
//! [`Sim::configure`]. No field may ever get a type for which zero is invalid (no enums, no
//! references, no `NonZero`). [`Sim::reset`] brings an existing value back to that state.

use core::cell::Cell;
use core::fmt;

use super::facility::{ApFacility, SclpError};
use super::hw::{
    rc, AqicCtrl, Mode, QactInfo, QciInfo, QueueStatus, TapqHwInfo, AP_DEVICE_TYPE_CEX4,
    AP_DEVICE_TYPE_CEX8, QCI_APSB, QCI_APSC, QCI_APXA, QCI_QACT, QCI_RC8A,
};
use super::ids::Apqn;
use super::mask::Mask;
use super::parse::{c_str, is_space, ParseError};

/// A monotonic time source for the simulator.
pub trait Clock {
    /// The current time in nanoseconds.
    fn now_ns(&self) -> u64;
}

/// A test clock that only moves when told to. All-zero is a valid value (time 0).
#[derive(Debug, Default)]
pub struct FakeClock {
    ns: Cell<u64>,
}

impl FakeClock {
    /// A clock at time 0.
    pub const fn new() -> Self {
        FakeClock { ns: Cell::new(0) }
    }

    /// Sets the time.
    pub fn set_ns(&self, ns: u64) {
        self.ns.set(ns);
    }

    /// Moves the time forward by `ns` (saturating).
    pub fn advance_ns(&self, ns: u64) {
        self.ns.set(self.ns.get().saturating_add(ns));
    }

    /// Moves the time forward by `ms` milliseconds (saturating).
    pub fn advance_ms(&self, ms: u64) {
        self.advance_ns(ms.saturating_mul(1_000_000));
    }
}

impl Clock for FakeClock {
    fn now_ns(&self) -> u64 {
        self.ns.get()
    }
}

/// `reset_ms` value meaning "a reset never completes".
pub const RESET_NEVER: u32 = u32::MAX;

/// The longest finite reset delay; larger finite values are cut to this (about 24.8 days).
pub const RESET_MAX_MS: u32 = 0x7fff_ffff;

/// Response code QACT gives when the machine is told to fail it (`qact fail`).
pub const QACT_FAIL_RC: u8 = rc::REQ_FAC_NOT_INST;

const N_QUEUES: usize = 256 * 256;

/// Queue flag: interruptions enabled.
const Q_IRQ: u8 = 0x01;
/// Queue flag: a reset is in progress.
const Q_RESET: u8 = 0x02;
/// Queue flag: the reset in progress never completes.
const Q_RESET_NEVER: u8 = 0x04;
/// Queue flag: a finite reset was started and no TAPQ has reported it complete yet (see
/// [`ResetNotices`]).
const Q_NOTICE: u8 = 0x08;

/// Mode encoding in the simulator state (0 must be valid).
const MODE_CCA: u8 = 0;
const MODE_ACCEL: u8 = 1;
const MODE_EP11: u8 = 2;

const fn mode_code(m: Mode) -> u8 {
    match m {
        Mode::Cca => MODE_CCA,
        Mode::Accel => MODE_ACCEL,
        Mode::Ep11 => MODE_EP11,
    }
}

const fn mode_of(code: u8) -> Mode {
    match code {
        MODE_ACCEL => Mode::Accel,
        MODE_EP11 => Mode::Ep11,
        _ => Mode::Cca,
    }
}

/// One adapter slot of the machine (all-zero = no adapter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Slot {
    present: bool,
    deconfigured: bool,
    chkstop: bool,
    raw_type: u8,
    mode: u8,
    ml: u8,
    qd: u8,
}

impl Slot {
    const EMPTY: Slot = Slot {
        present: false,
        deconfigured: false,
        chkstop: false,
        raw_type: 0,
        mode: MODE_CCA,
        ml: 0,
        qd: 0,
    };
}

/// A read-only view of an adapter of the simulated machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdapterInfo {
    /// Raw AP type (TAPQ `at`).
    pub raw_type: u8,
    /// Mode.
    pub mode: Mode,
    /// Whether the adapter is configured (online to this partition).
    pub configured: bool,
    /// Whether the adapter is checkstopped.
    pub chkstop: bool,
    /// TAPQ `ml`.
    pub ml: u8,
    /// TAPQ `qd`.
    pub qd: u8,
}

/// Why a [`Command`] could not be applied.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum SimError {
    /// The adapter does not exist (suggested errno ENODEV).
    NoAdapter,
    /// The adapter already exists (suggested errno EEXIST).
    AdapterExists,
}

impl SimError {
    /// The suggested positive errno: ENODEV (19) or EEXIST (17).
    pub const fn errno(self) -> i32 {
        match self {
            SimError::NoAdapter => 19,
            SimError::AdapterExists => 17,
        }
    }
}

/// A set of adapters of one type and mode in a [`MachineSpec`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CardGroup {
    /// The adapter ids.
    pub apids: Mask,
    /// Raw AP type (10..=14 for CEX4..CEX8; larger values are "newer" types).
    pub raw_type: u8,
    /// Mode.
    pub mode: Mode,
}

impl CardGroup {
    /// An unused group.
    pub const EMPTY: CardGroup = CardGroup {
        apids: Mask::ZERO,
        raw_type: 0,
        mode: Mode::Cca,
    };
}

/// The most `cards=` items a [`MachineSpec`] holds.
pub const MAX_CARD_GROUPS: usize = 8;

/// A whole machine description (small enough for the stack: about 350 bytes).
///
/// Grammar of [`parse_machine_spec`]: items separated by whitespace or `;`, each `key=value`:
///
/// * `cards=<idlist>:<type>[:<mode>]`, repeatable (up to [`MAX_CARD_GROUPS`]; the first one
///   replaces the default cards, later ones add, and a later group wins for an id listed
///   twice). `<type>` is `cex4`..`cex8` (any case) or a raw number (e.g. 15 for a type newer
///   than CEX8), `<mode>` is `accel`, `cca` (default) or `ep11`. `cards=` alone means no
///   cards.
/// * `doms=<idlist>` usage domains, `cdoms=<idlist>` control domains (may be empty).
/// * `apxa=0|1`, `apsc=0|1`, `qact=0|1`, `rc8a=0|1`, `apsb=0|1`: QCI flags.
/// * `na=N`, `nd=N`: the QCI maximum adapter and domain ids (only reported with APXA).
/// * `qci=0|1`: whether the QCI facility exists at all.
/// * `reset_ms=N|never`: how long a queue reset takes.
/// * `sclp=0|1`: whether SCLP AP reconfiguration is supported.
/// * `compat=<type>|fail`: the QACT answer for adapters with a raw type above CEX8.
/// * `ml=N` (0..=15), `qd=N` (0..=31): TAPQ `ml` and `qd` of all cards.
///
/// `<idlist>` is a comma-separated list of ids or ranges `a-b`; numbers are decimal or
/// `0x`-hex. Keys not given keep the values of [`MachineSpec::DEFAULT`]; the empty string is
/// the default machine.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MachineSpec {
    /// The card groups; only the first `n_groups` are used.
    pub groups: [CardGroup; MAX_CARD_GROUPS],
    /// Number of used card groups.
    pub n_groups: u8,
    /// Usage domains (QCI `aqm`).
    pub doms: Mask,
    /// Control domains (QCI `adm`).
    pub cdoms: Mask,
    /// Whether the QCI facility exists.
    pub qci: bool,
    /// QCI flags (see [`super::hw::QCI_APSC`] and friends).
    pub flags: u32,
    /// QCI `na`.
    pub na: u8,
    /// QCI `nd`.
    pub nd: u8,
    /// Reset duration in ms, [`RESET_NEVER`] for never.
    pub reset_ms: u32,
    /// Whether SCLP AP reconfiguration is supported.
    pub sclp: bool,
    /// QACT compatible type for newer adapters, 0 = QACT fails.
    pub compat: u8,
    /// TAPQ `ml` of every card.
    pub ml: u8,
    /// TAPQ `qd` of every card.
    pub qd: u8,
}

impl Default for MachineSpec {
    fn default() -> Self {
        MachineSpec::DEFAULT
    }
}

impl MachineSpec {
    /// The default machine: `cards=0-3:cex8:cca doms=0-15 cdoms=0-15 apxa=1 na=255 nd=255
    /// qci=1` with the QCI flags APSC, APXA, QACT and RC8A, resets taking 5 ms, SCLP
    /// reconfiguration supported, QACT answering CEX8, `ml=0`, `qd=7`.
    pub const DEFAULT: MachineSpec = {
        let mut groups = [CardGroup::EMPTY; MAX_CARD_GROUPS];
        groups[0] = CardGroup {
            apids: Mask::range(0, 3),
            raw_type: AP_DEVICE_TYPE_CEX8,
            mode: Mode::Cca,
        };
        MachineSpec {
            groups,
            n_groups: 1,
            doms: Mask::range(0, 15),
            cdoms: Mask::range(0, 15),
            qci: true,
            flags: QCI_APSC | QCI_APXA | QCI_QACT | QCI_RC8A,
            na: 255,
            nd: 255,
            reset_ms: 5,
            sclp: true,
            compat: AP_DEVICE_TYPE_CEX8,
            ml: 0,
            qd: 7,
        }
    };

    /// The machine with nothing at all (what an all-zero [`Sim`] is).
    pub const EMPTY: MachineSpec = MachineSpec {
        groups: [CardGroup::EMPTY; MAX_CARD_GROUPS],
        n_groups: 0,
        doms: Mask::ZERO,
        cdoms: Mask::ZERO,
        qci: false,
        flags: 0,
        na: 0,
        nd: 0,
        reset_ms: 0,
        sclp: false,
        compat: 0,
        ml: 0,
        qd: 0,
    };

    /// The used card groups.
    pub fn card_groups(&self) -> &[CardGroup] {
        let n = usize::from(self.n_groups).min(MAX_CARD_GROUPS);
        self.groups.get(..n).unwrap_or(&[])
    }
}

/// One debugfs control command, see [`parse_command`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "no allocation here; a command lives briefly on the stack (< 1 KiB)"
)]
pub enum Command {
    /// `add <apid> <type> [mode]`: plug in a configured adapter.
    Add {
        /// Adapter id.
        apid: u8,
        /// Raw AP type.
        raw_type: u8,
        /// Mode (default cca).
        mode: Mode,
    },
    /// `remove <apid>`: unplug an adapter.
    Remove {
        /// Adapter id.
        apid: u8,
    },
    /// `adom <apqi>`: add a usage domain.
    AddDomain(u8),
    /// `rdom <apqi>`: remove a usage domain.
    RemoveDomain(u8),
    /// `acdom <id>`: add a control domain.
    AddControlDomain(u8),
    /// `rcdom <id>`: remove a control domain.
    RemoveControlDomain(u8),
    /// `config <apid> 0|1`: configure or deconfigure an adapter (as the SE/HMC would).
    Config {
        /// Adapter id.
        apid: u8,
        /// New state.
        on: bool,
    },
    /// `chkstop <apid> 0|1`: put an adapter into or out of checkstop.
    Chkstop {
        /// Adapter id.
        apid: u8,
        /// New state.
        on: bool,
    },
    /// `type <apid> <type>`: change the raw type of an adapter.
    Type {
        /// Adapter id.
        apid: u8,
        /// Raw AP type.
        raw_type: u8,
    },
    /// `reset_ms <n|never>`: reset duration ([`RESET_NEVER`] = never).
    ResetMs(u32),
    /// `aqic_fail <rc>`: the next AQIC on a valid queue answers this response code (0 clears).
    AqicFail(u8),
    /// `qact <type|fail>`: QACT answer for newer types (0 = fail).
    Qact(u8),
    /// `sclp 0|1`: whether SCLP AP reconfiguration is supported.
    Sclp(bool),
    /// `notices clear`: forget the [`ResetNotices`] so far.
    NoticesClear,
    /// `machine <spec...>`: replace the whole machine.
    Machine(MachineSpec),
}

/// How long after a reset completed the first TAPQ reported it: for every finite reset whose
/// completion a TAPQ saw, the time from its deadline (the moment the queue stopped answering
/// "reset in progress") to that TAPQ. This is how quickly a driver polling the reset notices
/// it. A reset that a new reset, a removal of its adapter or domain, a deconfiguration or
/// checkstop overtakes before any TAPQ saw it complete is not counted. All-zero: nothing
/// seen.
/// Printed by [`Sim::write_state`] as `notices <count> sum_ns <n> max_ns <n> last_ns <n>`,
/// cleared by the `notices clear` command.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResetNotices {
    /// Resets seen complete by a TAPQ.
    pub count: u64,
    /// The sum of their delays (ns, saturating).
    pub sum_ns: u64,
    /// The longest delay (ns).
    pub max_ns: u64,
    /// The delay of the last one (ns).
    pub last_ns: u64,
}

impl ResetNotices {
    /// Nothing seen.
    pub const ZERO: ResetNotices = ResetNotices {
        count: 0,
        sum_ns: 0,
        max_ns: 0,
        last_ns: 0,
    };

    fn record(&mut self, delay_ns: u64) {
        self.count = self.count.saturating_add(1);
        self.sum_ns = self.sum_ns.saturating_add(delay_ns);
        self.max_ns = self.max_ns.max(delay_ns);
        self.last_ns = delay_ns;
    }
}

/// The simulated AP facility. See the module docs for the all-zero invariant.
pub struct Sim<C: Clock> {
    clock: C,
    slots: [Slot; 256],
    aqm: Mask,
    adm: Mask,
    has_qci: bool,
    qci_flags: u32,
    na: u8,
    nd: u8,
    reset_ms: u32,
    aqic_fail: u8,
    qact_compat: u8,
    sclp: bool,
    config_event: bool,
    generation: u32,
    notices: ResetNotices,
    /// When each queue's reset ends (the clock's ns): a reset takes `reset_ms` to the
    /// nanosecond, as the hardware's would take its own time and not end on whole
    /// milliseconds (which made resets started within the same millisecond end together).
    q_deadline: [u64; N_QUEUES],
    q_flags: [u8; N_QUEUES],
}

/// Index of `q` in the per-queue arrays: always `< N_QUEUES` (a `u16`), so indexing those
/// arrays with it cannot fail.
fn qidx(q: Apqn) -> usize {
    usize::from(q.qid())
}

impl<C: Clock> Sim<C> {
    /// The empty machine (the all-zero state) with `clock`.
    pub const fn new(clock: C) -> Self {
        Sim {
            clock,
            slots: [Slot::EMPTY; 256],
            aqm: Mask::ZERO,
            adm: Mask::ZERO,
            has_qci: false,
            qci_flags: 0,
            na: 0,
            nd: 0,
            reset_ms: 0,
            aqic_fail: 0,
            qact_compat: 0,
            sclp: false,
            config_event: false,
            generation: 0,
            notices: ResetNotices::ZERO,
            q_deadline: [0; N_QUEUES],
            q_flags: [0; N_QUEUES],
        }
    }

    /// Brings the machine back to the all-zero (empty) state in place; the clock is kept.
    pub fn reset(&mut self) {
        self.slots.fill(Slot::EMPTY);
        self.aqm = Mask::ZERO;
        self.adm = Mask::ZERO;
        self.has_qci = false;
        self.qci_flags = 0;
        self.na = 0;
        self.nd = 0;
        self.reset_ms = 0;
        self.aqic_fail = 0;
        self.qact_compat = 0;
        self.sclp = false;
        self.config_event = false;
        self.generation = 0;
        self.notices = ResetNotices::ZERO;
        self.q_deadline.fill(0);
        self.q_flags.fill(0);
    }

    /// Replaces the whole machine by `spec`, in place. All queue state is dropped and a
    /// configuration change event becomes pending.
    pub fn configure(&mut self, spec: &MachineSpec) {
        let generation = self.generation;
        self.reset();
        for g in spec.card_groups() {
            for apid in g.apids.iter() {
                if let Some(s) = self.slots.get_mut(usize::from(apid)) {
                    *s = Slot {
                        present: true,
                        deconfigured: false,
                        chkstop: false,
                        raw_type: g.raw_type,
                        mode: mode_code(g.mode),
                        ml: spec.ml,
                        qd: spec.qd,
                    };
                }
            }
        }
        self.aqm = spec.doms;
        self.adm = spec.cdoms;
        self.has_qci = spec.qci;
        self.qci_flags = spec.flags;
        self.na = spec.na;
        self.nd = spec.nd;
        self.reset_ms = spec.reset_ms;
        self.sclp = spec.sclp;
        self.qact_compat = spec.compat;
        self.generation = generation;
        self.changed();
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The clock, mutable.
    pub fn clock_mut(&mut self) -> &mut C {
        &mut self.clock
    }

    /// Takes the pending configuration change event: true once after any change of the
    /// QCI-visible configuration (adapters, usage and control domains) or of an adapter's
    /// configured or checkstop state; on s390 SCLP/CHSC would announce such a change.
    pub fn take_config_event(&mut self) -> bool {
        core::mem::replace(&mut self.config_event, false)
    }

    /// Whether a configuration change event is pending (without taking it).
    pub fn config_event_pending(&self) -> bool {
        self.config_event
    }

    /// Counts configuration changes (wrapping).
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// The adapter `apid`, if present.
    pub fn adapter(&self, apid: u8) -> Option<AdapterInfo> {
        let s = self.slot(apid);
        s.present.then_some(AdapterInfo {
            raw_type: s.raw_type,
            mode: mode_of(s.mode),
            configured: !s.deconfigured,
            chkstop: s.chkstop,
            ml: s.ml,
            qd: s.qd,
        })
    }

    /// The present adapters (configured or not).
    pub fn adapters(&self) -> Mask {
        let mut m = Mask::ZERO;
        for (i, s) in self.slots.iter().enumerate() {
            if s.present {
                if let Ok(id) = u8::try_from(i) {
                    m.set(id);
                }
            }
        }
        m
    }

    /// The usage domains.
    pub fn usage_domains(&self) -> Mask {
        self.aqm
    }

    /// The control domains.
    pub fn control_domains(&self) -> Mask {
        self.adm
    }

    /// The reset duration in ms ([`RESET_NEVER`] = never).
    pub fn reset_ms(&self) -> u32 {
        self.reset_ms
    }

    /// Whether interruptions are enabled for `q`.
    pub fn irq_enabled(&self, q: Apqn) -> bool {
        self.q_flags[qidx(q)] & Q_IRQ != 0
    }

    /// Whether a reset of `q` is still in progress (completes it if its time has come).
    pub fn reset_pending(&mut self, q: Apqn) -> bool {
        self.resetting(q)
    }

    /// How quickly TAPQs noticed completed resets (see [`ResetNotices`]).
    pub fn reset_notices(&self) -> ResetNotices {
        self.notices
    }

    fn slot(&self, apid: u8) -> Slot {
        self.slots[usize::from(apid)]
    }

    fn slot_mut(&mut self, apid: u8) -> &mut Slot {
        &mut self.slots[usize::from(apid)]
    }

    fn changed(&mut self) {
        self.config_event = true;
        self.generation = self.generation.wrapping_add(1);
    }

    /// The id limits of the machine itself: `na`/`nd` with APXA, else 63/15.
    fn limits(&self) -> (u8, u8) {
        if self.qci_flags & QCI_APXA != 0 {
            (self.na, self.nd)
        } else {
            (63, 15)
        }
    }

    fn deadline_after(&self, delay_ms: u32) -> u64 {
        let delay_ns = u64::from(delay_ms.min(RESET_MAX_MS)).saturating_mul(1_000_000);
        self.clock.now_ns().saturating_add(delay_ns)
    }

    fn resetting(&mut self, q: Apqn) -> bool {
        let i = qidx(q);
        if self.q_flags[i] & Q_RESET == 0 {
            return false;
        }
        if self.q_flags[i] & Q_RESET_NEVER != 0 {
            return true;
        }
        if self.clock.now_ns() >= self.q_deadline[i] {
            self.q_flags[i] &= !Q_RESET;
            false
        } else {
            true
        }
    }

    fn start_reset(&mut self, q: Apqn) {
        let i = qidx(q);
        if self.reset_ms == RESET_NEVER {
            self.q_flags[i] = Q_RESET | Q_RESET_NEVER;
            self.q_deadline[i] = 0;
        } else {
            let d = self.deadline_after(self.reset_ms);
            self.q_flags[i] = Q_RESET | Q_NOTICE;
            self.q_deadline[i] = d;
        }
    }

    /// A TAPQ found `q` not resetting: if that is the first TAPQ to see its last finite
    /// reset complete, records how long after the deadline that was.
    fn tapq_saw_done(&mut self, q: Apqn) {
        let i = qidx(q);
        if self.q_flags[i] & Q_NOTICE == 0 {
            return;
        }
        self.q_flags[i] &= !Q_NOTICE;
        let delay = self.clock.now_ns().saturating_sub(self.q_deadline[i]);
        self.notices.record(delay);
    }

    fn clear_adapter_queues(&mut self, apid: u8) {
        let start = usize::from(apid) << 8;
        if let Some(f) = self.q_flags.get_mut(start..start + 256) {
            f.fill(0);
        }
    }

    fn clear_domain_queues(&mut self, apqi: u8) {
        for apid in 0..=255u8 {
            self.q_flags[qidx(Apqn::new(apid, apqi))] = 0;
        }
    }

    /// The response code for an APQN that is not usable at all, before queue state matters:
    /// 0x01 (outside the limits, no adapter, not a usage domain), 0x03 (deconfigured),
    /// 0x04 (checkstopped).
    fn check(&self, q: Apqn) -> Result<Slot, u8> {
        let (max_apid, max_apqi) = self.limits();
        let s = self.slot(q.apid);
        if q.apid > max_apid || q.apqi > max_apqi || !s.present || !self.aqm.test(q.apqi) {
            return Err(rc::Q_NOT_AVAIL);
        }
        if s.deconfigured {
            return Err(rc::DECONFIGURED);
        }
        if s.chkstop {
            return Err(rc::CHECKSTOPPED);
        }
        Ok(s)
    }

    /// TAPQ GR2 of a queue of adapter `s`.
    fn hwinfo(&self, s: &Slot) -> TapqHwInfo {
        let apxa = self.qci_flags & QCI_APXA != 0;
        let apsc = self.qci_flags & QCI_APSC != 0;
        let h = TapqHwInfo(0)
            .with_class(0x80)
            .with_at(s.raw_type)
            .with_nd(if apxa { self.nd } else { 15 })
            .with_ml(s.ml)
            .with_qd(s.qd)
            .with_apxa(apxa);
        match mode_of(s.mode) {
            Mode::Cca => h.with_cca(true).with_apsc(apsc),
            Mode::Accel => h.with_accel(true).with_mex4k(true).with_crt4k(true),
            Mode::Ep11 => h.with_ep11(true).with_apsc(apsc),
        }
    }

    fn status(&self, rc: u8, q: Apqn) -> QueueStatus {
        QueueStatus::new(rc)
            .with_empty(true)
            .with_irq(self.irq_enabled(q))
    }

    fn queue_reset(&mut self, q: Apqn) -> QueueStatus {
        if let Err(code) = self.check(q) {
            return QueueStatus::new(code);
        }
        if self.resetting(q) {
            return self.status(rc::RESET_IN_PROGRESS, q);
        }
        self.start_reset(q);
        self.status(rc::NORMAL, q)
    }

    fn set_adapter_state(&mut self, apid: u8, deconfigured: Option<bool>, chkstop: Option<bool>) {
        let s = self.slot_mut(apid);
        let before = (s.deconfigured, s.chkstop);
        if let Some(d) = deconfigured {
            s.deconfigured = d;
        }
        if let Some(c) = chkstop {
            s.chkstop = c;
        }
        let after = (s.deconfigured, s.chkstop);
        if before != after {
            if after.0 || after.1 {
                self.clear_adapter_queues(apid);
            }
            self.changed();
        }
    }

    fn set_reset_ms(&mut self, ms: u32) {
        self.reset_ms = ms;
        if ms == RESET_NEVER {
            return;
        }
        let d = self.deadline_after(ms);
        for (f, dl) in self.q_flags.iter_mut().zip(self.q_deadline.iter_mut()) {
            if *f & Q_RESET_NEVER != 0 {
                *f = (*f & !Q_RESET_NEVER) | Q_NOTICE;
                *dl = d;
            }
        }
    }

    /// Applies one control command.
    pub fn apply(&mut self, cmd: &Command) -> Result<(), SimError> {
        match *cmd {
            Command::Add {
                apid,
                raw_type,
                mode,
            } => {
                if self.slot(apid).present {
                    return Err(SimError::AdapterExists);
                }
                *self.slot_mut(apid) = Slot {
                    present: true,
                    deconfigured: false,
                    chkstop: false,
                    raw_type,
                    mode: mode_code(mode),
                    ml: 0,
                    qd: 7,
                };
                self.clear_adapter_queues(apid);
                self.changed();
            }
            Command::Remove { apid } => {
                if !self.slot(apid).present {
                    return Err(SimError::NoAdapter);
                }
                *self.slot_mut(apid) = Slot::EMPTY;
                self.clear_adapter_queues(apid);
                self.changed();
            }
            Command::AddDomain(d) => {
                if !self.aqm.test(d) {
                    self.aqm.set(d);
                    self.clear_domain_queues(d);
                    self.changed();
                }
            }
            Command::RemoveDomain(d) => {
                if self.aqm.test(d) {
                    self.aqm.clear(d);
                    self.clear_domain_queues(d);
                    self.changed();
                }
            }
            Command::AddControlDomain(d) => {
                if !self.adm.test(d) {
                    self.adm.set(d);
                    self.changed();
                }
            }
            Command::RemoveControlDomain(d) => {
                if self.adm.test(d) {
                    self.adm.clear(d);
                    self.changed();
                }
            }
            Command::Config { apid, on } => {
                if !self.slot(apid).present {
                    return Err(SimError::NoAdapter);
                }
                self.set_adapter_state(apid, Some(!on), None);
            }
            Command::Chkstop { apid, on } => {
                if !self.slot(apid).present {
                    return Err(SimError::NoAdapter);
                }
                self.set_adapter_state(apid, None, Some(on));
            }
            Command::Type { apid, raw_type } => {
                let s = self.slot_mut(apid);
                if !s.present {
                    return Err(SimError::NoAdapter);
                }
                s.raw_type = raw_type;
            }
            Command::ResetMs(ms) => self.set_reset_ms(ms),
            Command::AqicFail(code) => self.aqic_fail = code,
            Command::Qact(t) => self.qact_compat = t,
            Command::Sclp(on) => self.sclp = on,
            Command::NoticesClear => self.notices = ResetNotices::ZERO,
            Command::Machine(ref spec) => self.configure(spec),
        }
        Ok(())
    }

    /// Writes the machine state, one item per line, in a stable format:
    ///
    /// ```text
    /// qci 1
    /// flags 0xf0000000
    /// na 255
    /// nd 255
    /// card 00 type=14 mode=cca config=1 chkstop=0 ml=0 qd=7
    /// doms 0x<64 hex>
    /// cdoms 0x<64 hex>
    /// reset_ms 5            (or: reset_ms never)
    /// aqic_fail 0
    /// qact 14               (or: qact fail)
    /// sclp 1
    /// irqs 0                (queues with interruptions enabled)
    /// resets 0              (queues whose reset has not been seen complete)
    /// event 1               (configuration change event pending)
    /// notices 0 sum_ns 0 max_ns 0 last_ns 0   (see ResetNotices)
    /// ```
    ///
    /// There is one `card` line per present adapter, ascending.
    pub fn write_state(&self, w: &mut dyn fmt::Write) -> fmt::Result {
        writeln!(w, "qci {}", u8::from(self.has_qci))?;
        writeln!(w, "flags 0x{:08x}", self.qci_flags)?;
        writeln!(w, "na {}", self.na)?;
        writeln!(w, "nd {}", self.nd)?;
        for apid in self.adapters().iter() {
            let s = self.slot(apid);
            writeln!(
                w,
                "card {:02x} type={} mode={} config={} chkstop={} ml={} qd={}",
                apid,
                s.raw_type,
                mode_of(s.mode).as_str(),
                u8::from(!s.deconfigured),
                u8::from(s.chkstop),
                s.ml,
                s.qd
            )?;
        }
        writeln!(w, "doms {}", self.aqm)?;
        writeln!(w, "cdoms {}", self.adm)?;
        if self.reset_ms == RESET_NEVER {
            writeln!(w, "reset_ms never")?;
        } else {
            writeln!(w, "reset_ms {}", self.reset_ms)?;
        }
        writeln!(w, "aqic_fail {}", self.aqic_fail)?;
        if self.qact_compat == 0 {
            writeln!(w, "qact fail")?;
        } else {
            writeln!(w, "qact {}", self.qact_compat)?;
        }
        writeln!(w, "sclp {}", u8::from(self.sclp))?;
        let count = |bit: u8| {
            self.q_flags
                .iter()
                .fold(0u32, |n, &f| n.wrapping_add(u32::from(f & bit != 0)))
        };
        let (irqs, resets) = (count(Q_IRQ), count(Q_RESET));
        writeln!(w, "irqs {irqs}")?;
        writeln!(w, "resets {resets}")?;
        writeln!(w, "event {}", u8::from(self.config_event))?;
        let n = &self.notices;
        writeln!(
            w,
            "notices {} sum_ns {} max_ns {} last_ns {}",
            n.count, n.sum_ns, n.max_ns, n.last_ns
        )
    }
}

impl<C: Clock> ApFacility for Sim<C> {
    /// `None` without the QCI facility. Otherwise the flags, `na`/`nd` (only with APXA, else
    /// 0), and the masks limited to the machine's id limits: `apm` = present adapters
    /// (deconfigured and checkstopped ones included), `aqm` = usage domains, `adm` = control
    /// domains.
    fn qci(&mut self) -> Option<QciInfo> {
        if !self.has_qci {
            return None;
        }
        let (max_apid, max_apqi) = self.limits();
        let mut q = QciInfo::EMPTY;
        q.set_flags(self.qci_flags);
        if self.qci_flags & QCI_APXA != 0 {
            q.set_na(self.na);
            q.set_nd(self.nd);
        }
        q.set_apm(&self.adapters().and(&Mask::up_to(max_apid)));
        q.set_aqm(&self.aqm.and(&Mask::up_to(max_apqi)));
        q.set_adm(&self.adm.and(&Mask::up_to(max_apqi)));
        Some(q)
    }

    /// RC 0x01 (GR2 0) outside the limits, without adapter or usage domain; 0x03/0x04 for a
    /// deconfigured/checkstopped adapter; 0x02 while a reset runs; else 0x00 with E set and
    /// I as AQIC left it (the first such answer after a reset is counted in [`ResetNotices`]). GR2 (only with `t`, for all codes but 0x01): the mode bit (D, A or
    /// X; APSC with cca/ep11 if QCI has APSC; mex4k+crt4k for accel), N if APXA, class 0x80,
    /// `at` = raw type, `nd` (QCI `nd` with APXA, else 15), `ml`, `qd`.
    fn tapq(&mut self, q: Apqn, t: bool) -> (QueueStatus, TapqHwInfo) {
        let s = match self.check(q) {
            Ok(s) => s,
            Err(rc::Q_NOT_AVAIL) => return (QueueStatus::new(rc::Q_NOT_AVAIL), TapqHwInfo(0)),
            Err(code) => {
                let s = self.slot(q.apid);
                let h = if t { self.hwinfo(&s) } else { TapqHwInfo(0) };
                return (QueueStatus::new(code), h);
            }
        };
        let h = if t { self.hwinfo(&s) } else { TapqHwInfo(0) };
        if self.resetting(q) {
            return (self.status(rc::RESET_IN_PROGRESS, q), h);
        }
        self.tapq_saw_done(q);
        (self.status(rc::NORMAL, q), h)
    }

    /// Starts a reset (RC 0) that completes after `reset_ms`, disabling interruptions; RC 0x02
    /// if one is already running (it is not restarted); 0x01/0x03/0x04 as TAPQ. The F bit is
    /// ignored.
    fn rapq(&mut self, q: Apqn, _f: bool) -> QueueStatus {
        self.queue_reset(q)
    }

    /// As [`Sim::rapq`] (the simulated queues hold no messages to zeroize).
    fn zapq(&mut self, q: Apqn, _f: bool) -> QueueStatus {
        self.queue_reset(q)
    }

    /// 0x01/0x03/0x04 as TAPQ; then an injected failure code (`aqic_fail`, used once); then
    /// enable (IR=1): 0x02 while resetting, 0x06 for a zero NIB, 0x07 if already enabled, else
    /// enabled with RC 0; disable: 0x07 if already disabled, else disabled with RC 0.
    fn aqic(&mut self, q: Apqn, ctrl: AqicCtrl, nib: u64) -> QueueStatus {
        if let Err(code) = self.check(q) {
            return QueueStatus::new(code);
        }
        if self.aqic_fail != 0 {
            let code = core::mem::replace(&mut self.aqic_fail, 0);
            return self.status(code, q);
        }
        let i = qidx(q);
        if ctrl.ir() {
            if self.resetting(q) {
                return self.status(rc::RESET_IN_PROGRESS, q);
            }
            if nib == 0 {
                return self.status(rc::INVALID_ADDRESS, q);
            }
            if self.q_flags[i] & Q_IRQ != 0 {
                return self.status(rc::OTHERWISE_CHANGED, q);
            }
            self.q_flags[i] |= Q_IRQ;
        } else {
            if self.q_flags[i] & Q_IRQ == 0 {
                return self.status(rc::OTHERWISE_CHANGED, q);
            }
            self.q_flags[i] &= !Q_IRQ;
        }
        self.status(rc::NORMAL, q)
    }

    /// 0x01/0x03/0x04 as TAPQ; a raw type up to CEX8 answers itself; a newer type answers the
    /// configured compatible type, or [`QACT_FAIL_RC`] if QACT is set to fail. GR2 keeps the
    /// mode of GR1.
    fn qact(&mut self, q: Apqn, info: QactInfo) -> (QueueStatus, QactInfo) {
        let s = match self.check(q) {
            Ok(s) => s,
            Err(code) => return (QueueStatus::new(code), QactInfo(0)),
        };
        let out = QactInfo(0).with_mode(info.mode());
        if s.raw_type <= AP_DEVICE_TYPE_CEX8 {
            return (self.status(rc::NORMAL, q), out.with_cat(s.raw_type));
        }
        if self.qact_compat == 0 {
            return (self.status(QACT_FAIL_RC, q), QactInfo(0));
        }
        (self.status(rc::NORMAL, q), out.with_cat(self.qact_compat))
    }

    /// `NotSupported` without SCLP reconfiguration, `Io` for a missing adapter; otherwise
    /// the adapter becomes configured (a change raises the configuration event).
    fn sclp_configure(&mut self, apid: u8) -> Result<(), SclpError> {
        if !self.sclp {
            return Err(SclpError::NotSupported);
        }
        if !self.slot(apid).present {
            return Err(SclpError::Io);
        }
        self.set_adapter_state(apid, Some(false), None);
        Ok(())
    }

    /// As [`Sim::sclp_configure`], deconfiguring (which drops the queues' state).
    fn sclp_deconfigure(&mut self, apid: u8) -> Result<(), SclpError> {
        if !self.sclp {
            return Err(SclpError::NotSupported);
        }
        if !self.slot(apid).present {
            return Err(SclpError::Io);
        }
        self.set_adapter_state(apid, Some(true), None);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Parsing of machine specs and commands.

/// Splits off the next token (separated by `sep`) from `s`: `(token, rest)`, skipping
/// leading separators; `None` at the end.
fn next_token(s: &[u8], sep: impl Fn(u8) -> bool) -> Option<(&[u8], &[u8])> {
    let start = s.iter().position(|&c| !sep(c))?;
    let s = s.get(start..).unwrap_or(&[]);
    let end = s.iter().position(|&c| sep(c)).unwrap_or(s.len());
    Some((s.get(..end).unwrap_or(&[]), s.get(end..).unwrap_or(&[])))
}

/// A number: decimal digits, or `0x`/`0X` followed by hex digits. Overflow of `u64` is
/// [`ParseError::Range`], anything else malformed [`ParseError::Inval`].
fn parse_num(s: &[u8]) -> Result<u64, ParseError> {
    let (digits, base) = match s {
        [b'0', b'x' | b'X', rest @ ..] => (rest, 16u64),
        _ => (s, 10u64),
    };
    if digits.is_empty() {
        return Err(ParseError::Inval);
    }
    let mut v: u64 = 0;
    for &c in digits {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' if base == 16 => c - b'a' + 10,
            b'A'..=b'F' if base == 16 => c - b'A' + 10,
            _ => return Err(ParseError::Inval),
        };
        v = v
            .checked_mul(base)
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or(ParseError::Range)?;
    }
    Ok(v)
}

fn parse_u8(s: &[u8]) -> Result<u8, ParseError> {
    u8::try_from(parse_num(s)?).map_err(|_| ParseError::Range)
}

fn parse_max(s: &[u8], max: u8) -> Result<u8, ParseError> {
    let v = parse_u8(s)?;
    if v > max {
        return Err(ParseError::Range);
    }
    Ok(v)
}

fn parse_bool01(s: &[u8]) -> Result<bool, ParseError> {
    match s {
        b"0" => Ok(false),
        b"1" => Ok(true),
        _ => Err(ParseError::Inval),
    }
}

/// `cex4`..`cex8` (any case) or a raw number.
fn parse_type(s: &[u8]) -> Result<u8, ParseError> {
    if let [c, e, x, n] = s {
        if c.eq_ignore_ascii_case(&b'c')
            && e.eq_ignore_ascii_case(&b'e')
            && x.eq_ignore_ascii_case(&b'x')
        {
            return match n {
                b'4'..=b'8' => Ok(AP_DEVICE_TYPE_CEX4 + (n - b'4')),
                _ => Err(ParseError::Inval),
            };
        }
    }
    parse_u8(s)
}

fn parse_mode(s: &[u8]) -> Result<Mode, ParseError> {
    Mode::from_bytes(s).ok_or(ParseError::Inval)
}

/// `n`, or `never` for [`RESET_NEVER`].
fn parse_reset_ms(s: &[u8]) -> Result<u32, ParseError> {
    if s == b"never" {
        return Ok(RESET_NEVER);
    }
    u32::try_from(parse_num(s)?).map_err(|_| ParseError::Range)
}

/// A type, or `fail` for 0.
fn parse_compat(s: &[u8]) -> Result<u8, ParseError> {
    if s == b"fail" {
        return Ok(0);
    }
    parse_type(s)
}

/// `id[-id](,id[-id])*`, or the empty list.
fn parse_idlist(s: &[u8]) -> Result<Mask, ParseError> {
    let mut m = Mask::ZERO;
    if s.is_empty() {
        return Ok(m);
    }
    for item in s.split(|&c| c == b',') {
        let mut parts = item.splitn(2, |&c| c == b'-');
        let a = parse_u8(parts.next().unwrap_or(&[]))?;
        let z = match parts.next() {
            Some(z) => parse_u8(z)?,
            None => a,
        };
        if a > z {
            return Err(ParseError::Inval);
        }
        m.set_range(a, z);
    }
    Ok(m)
}

fn set_flag(flags: &mut u32, bit: u32, v: &[u8]) -> Result<(), ParseError> {
    if parse_bool01(v)? {
        *flags |= bit;
    } else {
        *flags &= !bit;
    }
    Ok(())
}

/// Parses a machine description (grammar at [`MachineSpec`]). The string ends at the first
/// NUL byte.
pub fn parse_machine_spec(s: &[u8]) -> Result<MachineSpec, ParseError> {
    let mut spec = MachineSpec::DEFAULT;
    let mut cards_seen = false;
    let mut rest = c_str(s);
    while let Some((item, r)) = next_token(rest, |c| is_space(c) || c == b';') {
        rest = r;
        let mut kv = item.splitn(2, |&c| c == b'=');
        let key = kv.next().unwrap_or(&[]);
        let val = kv.next().ok_or(ParseError::Inval)?;
        match key {
            b"cards" => {
                if !cards_seen {
                    spec.n_groups = 0;
                    spec.groups = [CardGroup::EMPTY; MAX_CARD_GROUPS];
                    cards_seen = true;
                }
                if val.is_empty() {
                    continue;
                }
                let mut parts = val.split(|&c| c == b':');
                let apids = parse_idlist(parts.next().unwrap_or(&[]))?;
                let raw_type = parse_type(parts.next().ok_or(ParseError::Inval)?)?;
                let mode = match parts.next() {
                    Some(m) => parse_mode(m)?,
                    None => Mode::Cca,
                };
                if parts.next().is_some() {
                    return Err(ParseError::Inval);
                }
                let slot = spec
                    .groups
                    .get_mut(usize::from(spec.n_groups))
                    .ok_or(ParseError::Range)?;
                *slot = CardGroup {
                    apids,
                    raw_type,
                    mode,
                };
                // Below MAX_CARD_GROUPS (the slot exists): no wrapping.
                spec.n_groups = spec.n_groups.wrapping_add(1);
            }
            b"doms" => spec.doms = parse_idlist(val)?,
            b"cdoms" => spec.cdoms = parse_idlist(val)?,
            b"apxa" => set_flag(&mut spec.flags, QCI_APXA, val)?,
            b"apsc" => set_flag(&mut spec.flags, QCI_APSC, val)?,
            b"qact" => set_flag(&mut spec.flags, QCI_QACT, val)?,
            b"rc8a" => set_flag(&mut spec.flags, QCI_RC8A, val)?,
            b"apsb" => set_flag(&mut spec.flags, QCI_APSB, val)?,
            b"na" => spec.na = parse_u8(val)?,
            b"nd" => spec.nd = parse_u8(val)?,
            b"qci" => spec.qci = parse_bool01(val)?,
            b"reset_ms" => spec.reset_ms = parse_reset_ms(val)?,
            b"sclp" => spec.sclp = parse_bool01(val)?,
            b"compat" => spec.compat = parse_compat(val)?,
            b"ml" => spec.ml = parse_max(val, 15)?,
            b"qd" => spec.qd = parse_max(val, 31)?,
            _ => return Err(ParseError::Inval),
        }
    }
    Ok(spec)
}

/// Parses one control command (see [`Command`]): a keyword and its arguments separated by
/// whitespace; a trailing newline is fine, extra arguments are not. The string ends at the
/// first NUL byte. Numbers are decimal or `0x`-hex; ids above 255 are
/// [`ParseError::Range`], other malformed input [`ParseError::Inval`].
pub fn parse_command(s: &[u8]) -> Result<Command, ParseError> {
    let s = c_str(s);
    let (kw, rest) = next_token(s, is_space).ok_or(ParseError::Inval)?;
    if kw == b"machine" {
        return Ok(Command::Machine(parse_machine_spec(rest)?));
    }
    let mut args: [&[u8]; 3] = [&[]; 3];
    let mut n = 0usize;
    let mut r = rest;
    while let Some((tok, more)) = next_token(r, is_space) {
        let slot = args.get_mut(n).ok_or(ParseError::Inval)?;
        *slot = tok;
        // n < 3 (the slot exists): no wrapping.
        n = n.wrapping_add(1);
        r = more;
    }
    let cmd = match (kw, n, args) {
        (b"add", 2, [a, t, _]) => Command::Add {
            apid: parse_u8(a)?,
            raw_type: parse_type(t)?,
            mode: Mode::Cca,
        },
        (b"add", 3, [a, t, m]) => Command::Add {
            apid: parse_u8(a)?,
            raw_type: parse_type(t)?,
            mode: parse_mode(m)?,
        },
        (b"remove", 1, [a, _, _]) => Command::Remove { apid: parse_u8(a)? },
        (b"adom", 1, [d, _, _]) => Command::AddDomain(parse_u8(d)?),
        (b"rdom", 1, [d, _, _]) => Command::RemoveDomain(parse_u8(d)?),
        (b"acdom", 1, [d, _, _]) => Command::AddControlDomain(parse_u8(d)?),
        (b"rcdom", 1, [d, _, _]) => Command::RemoveControlDomain(parse_u8(d)?),
        (b"config", 2, [a, v, _]) => Command::Config {
            apid: parse_u8(a)?,
            on: parse_bool01(v)?,
        },
        (b"chkstop", 2, [a, v, _]) => Command::Chkstop {
            apid: parse_u8(a)?,
            on: parse_bool01(v)?,
        },
        (b"type", 2, [a, t, _]) => Command::Type {
            apid: parse_u8(a)?,
            raw_type: parse_type(t)?,
        },
        (b"reset_ms", 1, [v, _, _]) => Command::ResetMs(parse_reset_ms(v)?),
        (b"aqic_fail", 1, [v, _, _]) => Command::AqicFail(parse_u8(v)?),
        (b"qact", 1, [v, _, _]) => Command::Qact(parse_compat(v)?),
        (b"sclp", 1, [v, _, _]) => Command::Sclp(parse_bool01(v)?),
        (b"notices", 1, [b"clear", _, _]) => Command::NoticesClear,
        _ => return Err(ParseError::Inval),
    };
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::boxed::Box;
    use std::string::String;
    use std::vec::Vec;

    type TestSim = Sim<FakeClock>;

    fn sim(spec: &str) -> Box<TestSim> {
        let mut s = Box::new(Sim::new(FakeClock::new()));
        s.configure(&parse_machine_spec(spec.as_bytes()).unwrap());
        s
    }

    fn q(a: u8, d: u8) -> Apqn {
        Apqn::new(a, d)
    }

    fn state(s: &TestSim) -> String {
        let mut out = String::new();
        s.write_state(&mut out).unwrap();
        out
    }

    #[test]
    fn sizes() {
        std::eprintln!(
            "Sim {} MachineSpec {} Command {}",
            core::mem::size_of::<TestSim>(),
            core::mem::size_of::<MachineSpec>(),
            core::mem::size_of::<Command>()
        );
        assert!(core::mem::size_of::<TestSim>() < 640 * 1024);
        assert!(core::mem::size_of::<MachineSpec>() < 1024);
        assert!(core::mem::size_of::<Command>() < 1024);
    }

    #[test]
    fn empty_machine() {
        let mut s = Box::new(Sim::new(FakeClock::new()));
        assert_eq!(s.qci(), None);
        assert!(!s.take_config_event());
        for a in [0u8, 5, 63, 255] {
            for d in [0u8, 15, 255] {
                let (st, h) = s.tapq(q(a, d), true);
                assert_eq!(st, QueueStatus::new(rc::Q_NOT_AVAIL));
                assert_eq!(h, TapqHwInfo(0));
            }
        }
        assert_eq!(s.sclp_configure(0), Err(SclpError::NotSupported));
        assert!(s.adapters().is_empty());
        // reset() brings a configured machine back to this.
        s.configure(&MachineSpec::DEFAULT);
        s.reset();
        assert_eq!(s.qci(), None);
        assert!(s.adapters().is_empty() && !s.config_event_pending());
        let e = state(&s);
        assert!(e.starts_with("qci 0\nflags 0x00000000\n"));
    }

    #[test]
    fn default_machine() {
        let mut s = sim("");
        assert!(s.take_config_event());
        assert!(!s.take_config_event());
        let qci = s.qci().unwrap();
        assert_eq!(qci.flags(), QCI_APSC | QCI_APXA | QCI_QACT | QCI_RC8A);
        assert_eq!((qci.na(), qci.nd()), (255, 255));
        assert_eq!(qci.apm(), Mask::range(0, 3));
        assert_eq!(qci.aqm(), Mask::range(0, 15));
        assert_eq!(qci.adm(), Mask::range(0, 15));
        let (st, h) = s.tapq(q(2, 7), true);
        assert_eq!(st.response_code(), rc::NORMAL);
        assert!(st.queue_empty() && !st.irq_enabled());
        assert_eq!(h.at(), 14);
        assert_eq!(h.mode(), Some(Mode::Cca));
        assert!(h.apsc() && h.apxa() && !h.accel());
        assert_eq!(h.class(), 0x80);
        assert_eq!(h.nd(), 255);
        assert_eq!(h.qd(), 7);
        assert_eq!(h.fac() & 0xffff_0000, 0x9280_0000);
        let (_, h0) = s.tapq(q(2, 7), false);
        assert_eq!(h0, TapqHwInfo(0));
        assert_eq!(s.tapq(q(4, 0), true).0.response_code(), rc::Q_NOT_AVAIL);
        assert_eq!(s.tapq(q(0, 16), true).0.response_code(), rc::Q_NOT_AVAIL);
        assert_eq!(
            state(&s),
            format!(
                "qci 1\nflags 0xf0000000\nna 255\nnd 255\n\
                 card 00 type=14 mode=cca config=1 chkstop=0 ml=0 qd=7\n\
                 card 01 type=14 mode=cca config=1 chkstop=0 ml=0 qd=7\n\
                 card 02 type=14 mode=cca config=1 chkstop=0 ml=0 qd=7\n\
                 card 03 type=14 mode=cca config=1 chkstop=0 ml=0 qd=7\n\
                 doms 0xffff{z}\ncdoms 0xffff{z}\nreset_ms 5\naqic_fail 0\nqact 14\nsclp 1\n\
                 irqs 0\nresets 0\nevent 0\nnotices 0 sum_ns 0 max_ns 0 last_ns 0\n",
                z = "0".repeat(60)
            )
        );
    }

    use std::format;

    #[test]
    fn modes_and_limits() {
        let mut s = sim("cards=0x10:cex7:accel cards=20-21:15:ep11 apxa=0 doms=1,3-4 cdoms=");
        let qci = s.qci().unwrap();
        assert!(!qci.apxa());
        assert_eq!((qci.na(), qci.nd()), (0, 0));
        assert_eq!(qci.apm(), Mask::from_ids(&[16, 20, 21]));
        assert_eq!(qci.aqm(), Mask::from_ids(&[1, 3, 4]));
        assert!(qci.adm().is_empty());
        let (st, h) = s.tapq(q(16, 1), true);
        assert_eq!(st.response_code(), 0);
        assert_eq!(h.mode(), Some(Mode::Accel));
        assert!(h.mex4k() && h.crt4k() && !h.apsc() && !h.apxa());
        assert_eq!(h.at(), 13);
        assert_eq!(h.nd(), 15);
        let (_, h) = s.tapq(q(20, 4), true);
        assert_eq!(h.mode(), Some(Mode::Ep11));
        assert_eq!(h.at(), 15);
        assert!(h.apsc());
        // Limits without APXA: 63/15.
        let mut s = sim("cards=63-64:cex8 apxa=0 doms=15-16");
        let qci = s.qci().unwrap();
        assert_eq!(qci.apm(), Mask::from_ids(&[63]));
        assert_eq!(qci.aqm(), Mask::from_ids(&[15]));
        assert_eq!(s.tapq(q(64, 15), true).0.response_code(), 1);
        assert_eq!(s.tapq(q(63, 16), true).0.response_code(), 1);
        assert_eq!(s.tapq(q(63, 15), true).0.response_code(), 0);
        // With APXA: na/nd.
        let mut s = sim("cards=0-9:cex8 na=8 nd=3 doms=0-5");
        let qci = s.qci().unwrap();
        assert_eq!(qci.apm(), Mask::range(0, 8));
        assert_eq!(qci.aqm(), Mask::range(0, 3));
        assert_eq!(s.tapq(q(9, 0), true).0.response_code(), 1);
        assert_eq!(s.tapq(q(8, 4), true).0.response_code(), 1);
        // No QCI facility at all.
        let mut s = sim("qci=0");
        assert_eq!(s.qci(), None);
        assert_eq!(s.tapq(q(0, 0), true).0.response_code(), 0);
        // QCI facility with no flags.
        let mut s = sim("apsc=0 apxa=0 qact=0 rc8a=0");
        assert!(!s.qci().unwrap().is_available());
    }

    #[test]
    fn deconfig_and_chkstop() {
        let mut s = sim("");
        s.take_config_event();
        s.apply(&parse_command(b"config 1 0\n").unwrap()).unwrap();
        assert!(s.take_config_event());
        let (st, h) = s.tapq(q(1, 0), true);
        assert_eq!(st.response_code(), rc::DECONFIGURED);
        assert_eq!(h.at(), 14);
        assert!(s.qci().unwrap().apm().test(1));
        // Idempotent: no event.
        s.apply(&Command::Config { apid: 1, on: false }).unwrap();
        assert!(!s.take_config_event());
        s.apply(&Command::Chkstop { apid: 2, on: true }).unwrap();
        assert!(s.take_config_event());
        assert_eq!(s.tapq(q(2, 0), true).0.response_code(), rc::CHECKSTOPPED);
        assert_eq!(s.rapq(q(2, 0), false).response_code(), rc::CHECKSTOPPED);
        assert_eq!(s.zapq(q(1, 0), false).response_code(), rc::DECONFIGURED);
        assert_eq!(
            s.aqic(q(1, 0), AqicCtrl(0).with_ir(true), 8)
                .response_code(),
            rc::DECONFIGURED
        );
        // Deconfigured wins over checkstopped.
        s.apply(&Command::Chkstop { apid: 1, on: true }).unwrap();
        assert_eq!(s.tapq(q(1, 0), true).0.response_code(), rc::DECONFIGURED);
        s.apply(&Command::Config { apid: 1, on: true }).unwrap();
        assert_eq!(s.tapq(q(1, 0), true).0.response_code(), rc::CHECKSTOPPED);
        s.apply(&Command::Chkstop { apid: 1, on: false }).unwrap();
        assert_eq!(s.tapq(q(1, 0), true).0.response_code(), rc::NORMAL);
        assert_eq!(
            s.apply(&Command::Config { apid: 9, on: true }),
            Err(SimError::NoAdapter)
        );
        assert!(state(&s).contains("card 02 type=14 mode=cca config=1 chkstop=1"));
    }

    #[test]
    fn resets_take_time() {
        let mut s = sim("reset_ms=20");
        let a = q(0, 0);
        assert_eq!(s.rapq(a, false).response_code(), rc::NORMAL);
        assert_eq!(s.tapq(a, true).0.response_code(), rc::RESET_IN_PROGRESS);
        assert_eq!(s.zapq(a, false).response_code(), rc::RESET_IN_PROGRESS);
        s.clock().advance_ms(19);
        assert_eq!(s.tapq(a, true).0.response_code(), rc::RESET_IN_PROGRESS);
        assert!(state(&s).contains("resets 1\n"));
        s.clock().advance_ms(1);
        assert_eq!(s.tapq(a, true).0.response_code(), rc::NORMAL);
        assert!(!s.reset_pending(a));
        // Delay 0: done at the next TAPQ.
        s.apply(&Command::ResetMs(0)).unwrap();
        assert_eq!(s.zapq(a, true).response_code(), rc::NORMAL);
        assert_eq!(s.tapq(a, false).0.response_code(), rc::NORMAL);
        // Never, then finite again: the stuck reset completes after the new delay.
        s.apply(&parse_command(b"reset_ms never").unwrap()).unwrap();
        assert_eq!(s.reset_ms(), RESET_NEVER);
        s.rapq(a, false);
        s.clock().advance_ms(1_000_000);
        assert_eq!(s.tapq(a, true).0.response_code(), rc::RESET_IN_PROGRESS);
        assert!(state(&s).contains("reset_ms never\n"));
        s.apply(&Command::ResetMs(10)).unwrap();
        s.clock().advance_ms(9);
        assert!(s.reset_pending(a));
        s.clock().advance_ms(1);
        assert!(!s.reset_pending(a));
    }

    #[test]
    fn reset_notices() {
        let mut s = sim("reset_ms=5");
        let (a, b) = (q(0, 0), q(1, 2));
        let ms = 1_000_000;
        assert_eq!(s.reset_notices(), ResetNotices::ZERO);
        // The ZAPQ at 0.3 ms: the reset ends at 5.3 ms.
        s.clock().set_ns(300_000);
        assert_eq!(s.zapq(a, false).response_code(), rc::NORMAL);
        s.clock().set_ns(5 * ms + 299_999);
        assert_eq!(s.tapq(a, false).0.response_code(), rc::RESET_IN_PROGRESS);
        assert_eq!(s.reset_notices().count, 0);
        // The first TAPQ after the deadline counts, 1.25 ms late; later ones do not.
        s.clock().set_ns(6 * ms + 550_000);
        assert_eq!(s.tapq(a, false).0.response_code(), rc::NORMAL);
        s.clock().advance_ms(3);
        assert_eq!(s.tapq(a, true).0.response_code(), rc::NORMAL);
        let n = s.reset_notices();
        assert_eq!(
            (n.count, n.sum_ns, n.max_ns, n.last_ns),
            (1, 1_250_000, 1_250_000, 1_250_000)
        );
        // A second queue, seen exactly at its deadline.
        s.clock().set_ns(20 * ms);
        s.rapq(b, false);
        s.clock().set_ns(25 * ms);
        assert_eq!(s.tapq(b, false).0.response_code(), rc::NORMAL);
        let n = s.reset_notices();
        assert_eq!(
            (n.count, n.sum_ns, n.max_ns, n.last_ns),
            (2, 1_250_000, 1_250_000, 0)
        );
        assert!(state(&s).ends_with("notices 2 sum_ns 1250000 max_ns 1250000 last_ns 0\n"));
        // Not a TAPQ: AQIC (or reset_pending) completing the reset does not count, the next
        // TAPQ does, late.
        s.rapq(a, false);
        s.clock().set_ns(31 * ms);
        assert!(!s.reset_pending(a));
        s.clock().set_ns(32 * ms);
        s.tapq(a, false);
        assert_eq!(s.reset_notices().last_ns, 2 * ms);
        // Overtaken resets are not counted: a new reset, a removed domain.
        s.rapq(a, false);
        s.clock().set_ns(40 * ms);
        s.rapq(a, false);
        s.rapq(b, false);
        s.apply(&Command::RemoveDomain(2)).unwrap();
        s.apply(&Command::AddDomain(2)).unwrap();
        s.clock().set_ns(50 * ms);
        s.tapq(b, false);
        s.tapq(a, false);
        let n = s.reset_notices();
        assert_eq!((n.count, n.last_ns), (4, 5 * ms));
        // Errors and never-ending resets: nothing; a never-ending reset made finite counts
        // from its new deadline.
        s.apply(&Command::ResetMs(RESET_NEVER)).unwrap();
        s.rapq(a, false);
        s.clock().advance_ms(100);
        assert_eq!(s.tapq(a, false).0.response_code(), rc::RESET_IN_PROGRESS);
        s.apply(&Command::ResetMs(2)).unwrap();
        s.clock().advance_ms(3);
        s.tapq(a, false);
        assert_eq!(s.reset_notices().count, 5);
        assert_eq!(s.reset_notices().last_ns, ms);
        // Deconfigured queues answer 0x03 and count nothing.
        s.rapq(a, false);
        s.apply(&Command::Config { apid: 0, on: false }).unwrap();
        s.clock().advance_ms(10);
        assert_eq!(s.tapq(a, false).0.response_code(), rc::DECONFIGURED);
        assert_eq!(s.reset_notices().count, 5);
        // Cleared by the command; a reset of the machine clears them too.
        s.apply(&parse_command(b"notices clear\n").unwrap())
            .unwrap();
        assert_eq!(s.reset_notices(), ResetNotices::ZERO);
        s.rapq(b, false);
        s.clock().advance_ms(10);
        s.tapq(b, false);
        assert_eq!(s.reset_notices().count, 1);
        s.reset();
        assert_eq!(s.reset_notices(), ResetNotices::ZERO);
    }

    #[test]
    fn resets_last_to_the_nanosecond() {
        let mut s = sim("reset_ms=3");
        let qs: Vec<Apqn> = (0..4).map(|d| q(1, d)).collect();
        // Started 0.25 ms apart within one millisecond, they end 0.25 ms apart.
        for (k, &a) in qs.iter().enumerate() {
            s.clock().set_ns(10_000_000 + 250_000 * k as u64);
            s.zapq(a, false);
        }
        for (k, &a) in qs.iter().enumerate() {
            let end = 13_000_000 + 250_000 * k as u64;
            s.clock().set_ns(end - 1);
            assert!(s.reset_pending(a));
            s.clock().set_ns(end);
            assert!(!s.reset_pending(a));
        }
        // A very long time later nothing wraps around.
        let a = qs[0];
        s.apply(&Command::ResetMs(RESET_MAX_MS)).unwrap();
        s.clock().set_ns(u64::MAX / 2);
        s.rapq(a, false);
        s.clock().advance_ms(u64::from(RESET_MAX_MS) - 1);
        assert!(s.reset_pending(a));
        s.clock().advance_ms(1);
        assert!(!s.reset_pending(a));
        s.clock().set_ns(u64::MAX - 5);
        s.rapq(a, false);
        assert!(s.reset_pending(a));
    }

    #[test]
    fn aqic_rules() {
        let mut s = sim("reset_ms=10");
        let a = q(3, 3);
        let on = AqicCtrl(0).with_ir(true).with_isc(3);
        let off = AqicCtrl(0);
        assert_eq!(s.aqic(a, off, 0).response_code(), rc::OTHERWISE_CHANGED);
        assert_eq!(s.aqic(a, on, 0).response_code(), rc::INVALID_ADDRESS);
        let st = s.aqic(a, on, 0x1000);
        assert_eq!(st.response_code(), rc::NORMAL);
        assert!(st.irq_enabled());
        assert!(s.irq_enabled(a));
        assert!(s.tapq(a, false).0.irq_enabled());
        assert_eq!(s.aqic(a, on, 0x1000).response_code(), rc::OTHERWISE_CHANGED);
        assert_eq!(s.aqic(a, off, 0).response_code(), rc::NORMAL);
        assert!(!s.irq_enabled(a));
        // A reset disables and blocks enabling until done.
        s.aqic(a, on, 0x1000);
        s.zapq(a, false);
        assert!(!s.irq_enabled(a));
        assert_eq!(s.aqic(a, on, 0x1000).response_code(), rc::RESET_IN_PROGRESS);
        s.clock().advance_ms(10);
        assert_eq!(s.aqic(a, on, 0x1000).response_code(), rc::NORMAL);
        // Injected one-shot failure.
        s.apply(&parse_command(b"aqic_fail 0x8").unwrap()).unwrap();
        assert!(state(&s).contains("aqic_fail 8\n"));
        assert_eq!(s.aqic(a, off, 0).response_code(), rc::INVALID_GISA);
        assert_eq!(s.aqic(a, off, 0).response_code(), rc::NORMAL);
        assert_eq!(s.aqic(q(9, 0), on, 1).response_code(), rc::Q_NOT_AVAIL);
        // Deconfiguring drops the interruption state.
        s.aqic(a, on, 0x1000);
        s.sclp_deconfigure(3).unwrap();
        s.sclp_configure(3).unwrap();
        assert!(!s.irq_enabled(a));
    }

    #[test]
    fn qact_rules() {
        let mut s = sim("cards=0:cex6:accel cards=1:16:ep11 compat=cex7");
        let req = QactInfo::request(0x0400_0000);
        let (st, out) = s.qact(q(0, 0), req);
        assert_eq!((st.response_code(), out.cat()), (0, 12));
        let (st, out) = s.qact(q(1, 0), req);
        assert_eq!((st.response_code(), out.cat(), out.mode()), (0, 13, 1));
        s.apply(&parse_command(b"qact fail").unwrap()).unwrap();
        let (st, _) = s.qact(q(1, 0), req);
        assert_eq!(st.response_code(), QACT_FAIL_RC);
        s.apply(&parse_command(b"qact 9").unwrap()).unwrap();
        let (st, out) = s.qact(q(1, 0), req);
        assert_eq!((st.response_code(), out.cat()), (0, 9));
        assert_eq!(s.qact(q(2, 0), req).0.response_code(), 1);
        // Through the bus's compatible type rule.
        s.apply(&Command::Qact(14)).unwrap();
        let fac = s.tapq(q(1, 0), true).1.fac();
        let t = super::super::hw::compatible_type(16, fac, true, |i| s.qact(q(1, 0), i));
        assert_eq!(t, 14);
    }

    #[test]
    fn sclp() {
        let mut s = sim("sclp=0");
        assert_eq!(s.sclp_configure(0), Err(SclpError::NotSupported));
        s.apply(&Command::Sclp(true)).unwrap();
        s.take_config_event();
        assert_eq!(s.sclp_configure(9), Err(SclpError::Io));
        assert_eq!(s.sclp_configure(0), Ok(()));
        assert!(!s.take_config_event());
        assert_eq!(s.sclp_deconfigure(0), Ok(()));
        assert!(s.take_config_event());
        assert!(!s.adapter(0).unwrap().configured);
        assert_eq!(s.sclp_configure(0), Ok(()));
        assert!(s.adapter(0).unwrap().configured);
    }

    #[test]
    fn commands_change_the_machine() {
        let mut s = sim("");
        s.take_config_event();
        let g = s.generation();
        s.apply(&parse_command(b"add 5 cex7 ep11\n").unwrap())
            .unwrap();
        assert!(s.take_config_event());
        assert_ne!(s.generation(), g);
        assert_eq!(
            s.adapter(5),
            Some(AdapterInfo {
                raw_type: 13,
                mode: Mode::Ep11,
                configured: true,
                chkstop: false,
                ml: 0,
                qd: 7
            })
        );
        assert_eq!(
            s.apply(&parse_command(b"add 5 cex7").unwrap()),
            Err(SimError::AdapterExists)
        );
        assert!(s.qci().unwrap().apm().test(5));
        s.apply(&parse_command(b"type 5 20").unwrap()).unwrap();
        assert!(!s.take_config_event());
        assert_eq!(s.tapq(q(5, 0), true).1.at(), 20);
        s.apply(&parse_command(b"remove 5").unwrap()).unwrap();
        assert!(s.take_config_event());
        assert!(!s.qci().unwrap().apm().test(5));
        assert_eq!(
            s.apply(&parse_command(b"remove 5").unwrap()),
            Err(SimError::NoAdapter)
        );
        assert_eq!(
            s.apply(&Command::Type {
                apid: 5,
                raw_type: 1
            }),
            Err(SimError::NoAdapter)
        );
        s.apply(&parse_command(b"adom 200").unwrap()).unwrap();
        assert!(s.take_config_event());
        s.apply(&parse_command(b"adom 200").unwrap()).unwrap();
        assert!(!s.take_config_event());
        assert!(s.qci().unwrap().aqm().test(200));
        s.apply(&parse_command(b"rdom 0").unwrap()).unwrap();
        assert!(!s.qci().unwrap().aqm().test(0));
        assert_eq!(s.tapq(q(0, 0), true).0.response_code(), 1);
        s.apply(&parse_command(b"acdom 0x20").unwrap()).unwrap();
        s.apply(&parse_command(b"rcdom 1").unwrap()).unwrap();
        let adm = s.qci().unwrap().adm();
        assert!(adm.test(32) && !adm.test(1) && adm.test(2));
        s.take_config_event();
        s.apply(&parse_command(b"machine cards=7:cex4:accel doms=1").unwrap())
            .unwrap();
        assert!(s.take_config_event());
        assert_eq!(s.adapters(), Mask::from_ids(&[7]));
        assert_eq!(s.usage_domains(), Mask::from_ids(&[1]));
        assert_eq!(s.control_domains(), Mask::range(0, 15));
        s.apply(&parse_command(b"machine").unwrap()).unwrap();
        assert_eq!(s.adapters(), Mask::range(0, 3));
    }

    #[test]
    fn spec_grammar() {
        let d = MachineSpec::DEFAULT;
        assert_eq!(parse_machine_spec(b""), Ok(d));
        assert_eq!(parse_machine_spec(b" \n;; "), Ok(d));
        let s = parse_machine_spec(
            b"cards=0-3:cex8:cca doms=0-15 cdoms=0-15 apxa=1 na=255 nd=255 qci=1\n",
        )
        .unwrap();
        assert_eq!(s, d);
        let s = parse_machine_spec(b"cards=1,3-4:CEX5;cards=0x10:0x0f:accel;na=0x10").unwrap();
        assert_eq!(s.card_groups().len(), 2);
        assert_eq!(s.groups[0].apids, Mask::from_ids(&[1, 3, 4]));
        assert_eq!(s.groups[0].raw_type, 11);
        assert_eq!(s.groups[1].raw_type, 15);
        assert_eq!(s.groups[1].mode, Mode::Accel);
        assert_eq!(s.na, 16);
        let s =
            parse_machine_spec(b"cards= reset_ms=never compat=fail ml=15 qd=31 apsb=1").unwrap();
        assert_eq!(s.n_groups, 0);
        assert_eq!(s.reset_ms, RESET_NEVER);
        assert_eq!(s.compat, 0);
        assert_eq!((s.ml, s.qd), (15, 31));
        assert_ne!(s.flags & QCI_APSB, 0);
        let s = parse_machine_spec(b"apsc=0 qact=0 rc8a=0 sclp=0 qci=0").unwrap();
        assert_eq!(s.flags, QCI_APXA);
        assert!(!s.sclp && !s.qci);
        use ParseError::*;
        for (bad, e) in [
            (&b"cards"[..], Inval),
            (b"cards=1", Inval),
            (b"cards=1:cex9", Inval),
            (b"cards=1:cex8:foo", Inval),
            (b"cards=1:cex8:cca:x", Inval),
            (b"cards=256:cex8", Range),
            (b"cards=5-4:cex8", Inval),
            (b"cards=1-:cex8", Inval),
            (b"cards=,1:cex8", Inval),
            (b"doms=1,,2", Inval),
            (b"doms=010x", Inval),
            (b"doms=0x", Inval),
            (b"doms=-1", Inval),
            (b"na=256", Range),
            (b"na=99999999999999999999999", Range),
            (b"apxa=2", Inval),
            (b"ml=16", Range),
            (b"qd=32", Range),
            (b"reset_ms=4294967296", Range),
            (b"bogus=1", Inval),
            (b"=1", Inval),
            (b"cards=0:cex8 cards=1:cex8 cards=2:cex8 cards=3:cex8 cards=4:cex8 cards=5:cex8 cards=6:cex8 cards=7:cex8 cards=8:cex8", Range),
        ] {
            assert_eq!(parse_machine_spec(bad), Err(e), "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(
            parse_machine_spec(b"na=1\0 garbage"),
            Ok(MachineSpec { na: 1, ..d })
        );
    }

    #[test]
    fn command_grammar() {
        assert_eq!(
            parse_command(b"add 0x1f 15\n"),
            Ok(Command::Add {
                apid: 31,
                raw_type: 15,
                mode: Mode::Cca
            })
        );
        assert_eq!(
            parse_command(b"  config 3 1  \n"),
            Ok(Command::Config { apid: 3, on: true })
        );
        assert_eq!(
            parse_command(b"chkstop 3 0"),
            Ok(Command::Chkstop { apid: 3, on: false })
        );
        assert_eq!(parse_command(b"reset_ms 7"), Ok(Command::ResetMs(7)));
        assert_eq!(parse_command(b"sclp 0"), Ok(Command::Sclp(false)));
        assert_eq!(parse_command(b"notices clear\n"), Ok(Command::NoticesClear));
        assert_eq!(parse_command(b"qact cex6"), Ok(Command::Qact(12)));
        assert_eq!(
            parse_command(b"rcdom 255"),
            Ok(Command::RemoveControlDomain(255))
        );
        use ParseError::*;
        for (bad, e) in [
            (&b""[..], Inval),
            (b"\n", Inval),
            (b"add", Inval),
            (b"add 1", Inval),
            (b"add 1 cex8 cca x", Inval),
            (b"add 256 cex8", Range),
            (b"remove", Inval),
            (b"remove 1 2", Inval),
            (b"config 1 2", Inval),
            (b"config 1", Inval),
            (b"adom -1", Inval),
            (b"reset_ms forever", Inval),
            (b"aqic_fail 256", Range),
            (b"sclp yes", Inval),
            (b"notices", Inval),
            (b"notices 0", Inval),
            (b"notices clear 1", Inval),
            (b"frobnicate", Inval),
            (b"machine bogus", Inval),
            (b"ADD 1 cex8", Inval),
        ] {
            assert_eq!(
                parse_command(bad),
                Err(e),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(
            parse_command(b"remove 1\0 2"),
            Ok(Command::Remove { apid: 1 })
        );
        assert_eq!(SimError::NoAdapter.errno(), 19);
        assert_eq!(SimError::AdapterExists.errno(), 17);
    }
}
