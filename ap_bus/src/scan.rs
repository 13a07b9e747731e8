// SPDX-License-Identifier: GPL-2.0
//! The decisions of one AP bus scan (`ap_scan_bus`, `ap_scan_adapter`, `ap_scan_domains`,
//! `ap_select_domain`, `ap_check_bindings_complete` of ap_bus.c, Linux 7.3) and the uevent
//! environments of `ap_uevent` and its helpers.
//!
//! The glue issues the instructions and registers the devices; these functions only decide.
//!
//! # The scan sequence (`ap_scan_bus`, under the scan mutex)
//!
//! 1. If [`qci_refresh_due`] (QCI was available so far): old := current, then QCI into
//!    current (a failing QCI leaves current as it was). [`scan_begin`] gives
//!    [`ScanBegin`]: if `rearm_bindings`, [`BindingsCompletion::rearm`]; if
//!    `config_changed`, every driver's `on_config_changed(current, old)`.
//! 2. [`select_domain`] (the default domain, only while none is chosen).
//! 3. For every adapter id `0..=max_apid` in ascending order: [`plan_card`] (see there), and
//!    for a card that exists afterwards, every domain `0..=max_apqi` in ascending order:
//!    [`plan_queue`].
//! 4. If `config_changed`: every driver's `on_scan_complete(current, old)`.
//! 5. [`scan_end`]: the scan counter is incremented; when it becomes 1, `INITSCAN=done` on
//!    the root device.
//! 6. [`BindingsCompletion::check`] with the counter and the bound/total queue devices.
//! 7. Re-arm the rescan timer (`config_time` seconds).
//!
//! The id limits and the configuration tests always use the **current** QCI block.

use core::fmt;

use super::hw::{rc, Mode, QactInfo, QciInfo, QueueStatus, TapqHwInfo};
use super::ids::{Apqn, IdLimits};
use super::owner::Perms;
use super::queue_sm::{DevState, QueueSm, SmAction, SmWait};

/// Whether the kernel may issue TAPQ on `q` at all: within the bus id limits (`ap_queue_info`
/// checks this before TAPQ to avoid a specification exception). Outside, the answer is
/// [`QueueInfo::Invalid`] without any TAPQ.
pub fn tapq_allowed(limits: &IdLimits, q: Apqn) -> bool {
    limits.contains(q)
}

/// What `ap_queue_info` learned from one TAPQ.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum QueueInfo {
    /// -1: the APQN is outside the limits, or TAPQ answered a code without info (not 0x00,
    /// 0x02, 0x03, 0x04, 0x05) and without A: there is no such queue.
    Invalid,
    /// 0: the queue seems to exist but GR2 is all zero (C warns once).
    NoInfo,
    /// 1: the queue exists; GR2 and the deconfigured/checkstopped state (RC 0x03 / 0x04).
    Info {
        /// TAPQ GR2, unmasked.
        hw: TapqHwInfo,
        /// RC 0x03: the adapter is deconfigured.
        decfg: bool,
        /// RC 0x04: the adapter is checkstopped.
        chkstop: bool,
    },
}

/// `ap_queue_info` after the TAPQ: `status` and `hw` are what TAPQ on `q` returned (with
/// the T bit if the APFT facility 15 is installed; without it GR2 is 0 and every queue gives
/// [`QueueInfo::NoInfo`], as in C).
pub fn queue_info(limits: &IdLimits, q: Apqn, status: QueueStatus, hw: TapqHwInfo) -> QueueInfo {
    if !tapq_allowed(limits, q) || !status.has_tapq_info() {
        return QueueInfo::Invalid;
    }
    if hw.0 == 0 {
        return QueueInfo::NoInfo;
    }
    let code = status.response_code();
    QueueInfo::Info {
        hw,
        decfg: code == rc::DECONFIGURED,
        chkstop: code == rc::CHECKSTOPPED,
    }
}

/// The first APQN of an adapter that gave [`QueueInfo::Info`] (what `ap_scan_adapter`
/// learns the card's type and functions from).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ProbeInfo {
    /// The APQN; QACT for the compatible type is issued on it.
    pub q: Apqn,
    /// Its TAPQ GR2, unmasked.
    pub hw: TapqHwInfo,
    /// RC 0x03.
    pub decfg: bool,
    /// RC 0x04.
    pub chkstop: bool,
}

/// The search of `ap_scan_adapter`: for the domains `0..=max_apqi` in ascending order that
/// are configured usage domains ([`IdLimits::usage_domain_configured`] with the current
/// QCI), TAPQ (`tapq`, called only for those, in that order) until [`queue_info`] gives
/// [`QueueInfo::Info`]. `None` if no domain does.
pub fn first_info(
    limits: &IdLimits,
    qci: Option<&QciInfo>,
    apid: u8,
    mut tapq: impl FnMut(Apqn) -> (QueueStatus, TapqHwInfo),
) -> Option<ProbeInfo> {
    for apqi in 0..=limits.max_apqi {
        if !limits.usage_domain_configured(qci, apqi) {
            continue;
        }
        let q = Apqn::new(apid, apqi);
        let (status, hw) = tapq(q);
        if let QueueInfo::Info { hw, decfg, chkstop } = queue_info(limits, q, status, hw) {
            return Some(ProbeInfo {
                q,
                hw,
                decfg,
                chkstop,
            });
        }
    }
    None
}

/// What the scan compares of an existing card device.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct CardSnapshot {
    /// The raw type the card was created with (`ac->hwinfo.at`).
    pub at: u8,
    /// The masked facility bits it was created with (`ac->hwinfo.fac`).
    pub fac: u32,
    /// `ac->config`.
    pub config: bool,
    /// `ac->chkstop`.
    pub chkstop: bool,
}

impl CardSnapshot {
    /// The snapshot of a card that keeps the (masked) `hw` and the flags.
    pub const fn new(hw: TapqHwInfo, config: bool, chkstop: bool) -> Self {
        CardSnapshot {
            at: hw.at(),
            fac: hw.fac(),
            config,
            chkstop,
        }
    }
}

/// Why the scan removes a card device (and its queue devices) or ignores an adapter.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CardGone {
    /// The adapter is not in the configuration (`ap_test_config_card_id`).
    NotInConfig,
    /// No configured usage domain of it gave TAPQ info.
    NoApqn,
    /// The info has type 0: an unusable adapter.
    NoType,
}

/// A card device to create.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct NewCard {
    /// The APQN the info came from (for QACT).
    pub q: Apqn,
    /// The card's hwinfo: GR2 masked with [`super::hw::CARD_HWINFO_MASK`].
    pub hw: TapqHwInfo,
    /// `!decfg`.
    pub config: bool,
    /// `chkstop`.
    pub chkstop: bool,
}

impl NewCard {
    /// The compatible device type (`ap_get_compatible_type` on the masked type and
    /// functions, [`super::hw::compatible_type`]); `qact_available` is the current QCI's C
    /// bit and `qact` issues QACT on [`NewCard::q`]. 0 means: create nothing, log, and
    /// leave the adapter (no domain scan).
    pub fn compatible_type(
        &self,
        qact_available: bool,
        qact: impl FnOnce(QactInfo) -> (QueueStatus, QactInfo),
    ) -> u8 {
        super::hw::compatible_type(self.hw.at(), self.hw.fac(), qact_available, qact)
    }

    /// The card's `maxmsgsize`; the bus-wide `ap_max_msg_size` grows to it if it is larger.
    pub const fn max_msg_size(&self) -> u32 {
        self.hw.max_msg_size()
    }
}

/// The decision of `ap_scan_adapter` for one adapter id.
///
/// For [`CardPlan::Create`] and [`CardPlan::Replace`] (after removing the old card and its
/// queues) the glue calls [`NewCard::compatible_type`]; 0 ends the adapter (nothing created,
/// no domain scan). Otherwise it creates the card device `card%02x` (device type = the
/// compatible type, the masked hwinfo, `config`, `chkstop`; raises `ap_max_msg_size` to
/// [`NewCard::max_msg_size`] if that is larger) and registers it; a failure ends the
/// adapter. Then, as for [`CardPlan::Keep`], it scans the card's domains ([`plan_queue`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CardPlan {
    /// No card device and nothing to create; no domain scan.
    Ignore(CardGone),
    /// Remove the card device's queue devices, then the card device; no domain scan.
    Remove(CardGone),
    /// Keep the card; apply the flag changes, then scan its domains.
    Keep {
        /// `Some(new)`: the checkstop flag changes (no uevent).
        chkstop: Option<bool>,
        /// `Some(new)`: the config flag changes and `CONFIG=<new>` is due on the card.
        config: Option<bool>,
    },
    /// The raw type or the masked functions changed: remove the card and its queues, then
    /// create it as for [`CardPlan::Create`].
    Replace(NewCard),
    /// Create a card device (see the type docs).
    Create(NewCard),
}

/// `ap_scan_adapter` after the info search: `existing` is the card device with this id,
/// `in_config` is [`IdLimits::card_configured`] with the current QCI, `probe` is
/// [`first_info`] (which the glue runs only if `in_config`; pass `None` otherwise).
///
/// The checks in C order: not in the configuration, no info, type 0 (remove or ignore);
/// then on the masked info: type changed, functions changed (replace); else the checkstop
/// flag and independently the config flag follow the info (keep). Without a card: create.
pub fn plan_card(
    existing: Option<&CardSnapshot>,
    in_config: bool,
    probe: Option<ProbeInfo>,
) -> CardPlan {
    let gone = |why| match existing {
        Some(_) => CardPlan::Remove(why),
        None => CardPlan::Ignore(why),
    };
    if !in_config {
        return gone(CardGone::NotInConfig);
    }
    let Some(p) = probe else {
        return gone(CardGone::NoApqn);
    };
    if p.hw.at() == 0 {
        return gone(CardGone::NoType);
    }
    let new = NewCard {
        q: p.q,
        hw: p.hw.card_part(),
        config: !p.decfg,
        chkstop: p.chkstop,
    };
    let Some(c) = existing else {
        return CardPlan::Create(new);
    };
    if c.at != new.hw.at() || c.fac != new.hw.fac() {
        return CardPlan::Replace(new);
    }
    CardPlan::Keep {
        chkstop: (c.chkstop != p.chkstop).then_some(p.chkstop),
        config: (c.config == p.decfg).then_some(!p.decfg),
    }
}

/// What the scan compares of an existing queue device.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct QueueSnapshot {
    /// `aq->config`.
    pub config: bool,
    /// `aq->chkstop`.
    pub chkstop: bool,
    /// `aq->dev_state`.
    pub dev_state: DevState,
}

impl QueueSnapshot {
    /// The snapshot of a queue's machine.
    pub fn of(sm: &QueueSm) -> Self {
        QueueSnapshot {
            config: sm.config(),
            chkstop: sm.chkstop(),
            dev_state: sm.dev_state(),
        }
    }
}

/// Why the scan removes a queue device.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum QueueGone {
    /// The domain is no longer a configured usage domain.
    NotInConfig,
    /// TAPQ says there is no such queue ([`QueueInfo::Invalid`]).
    NoApqn,
}

/// The decision of `ap_scan_domains` for one domain of a card. Apply the state changes with
/// [`QueuePlan::apply`] (under the queue lock); the uevent ([`QueuePlan::config_uevent`]) is
/// sent after it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum QueuePlan {
    /// `device_unregister` the queue device (unbinding runs the remove path of
    /// [`QueueSm::prepare_remove`] and [`QueueSm::remove`] if it was bound).
    Remove(QueueGone),
    /// Nothing: no device and none to create, or no info ([`QueueInfo::NoInfo`]).
    Nothing,
    /// Create `%02x.%04x` under the card: [`QueueSm::new`]`(config, chkstop)` with
    /// `se_bstate`, register it, and then (after the synchronous probe) if `init_sm`
    /// [`QueueSm::init_state`]. A failing registration just drops the device.
    Create {
        /// `!decfg`.
        config: bool,
        /// `chkstop`.
        chkstop: bool,
        /// Neither deconfigured nor checkstopped: initialise the machine after registering.
        init_sm: bool,
        /// TAPQ `bs`.
        se_bstate: u8,
    },
    /// Checkstop on: set `chkstop`; if initiated, [`DevState::Error`] with last error 0x04;
    /// flush.
    CheckstopOn {
        /// TAPQ `bs`.
        se_bstate: u8,
    },
    /// Checkstop off: clear `chkstop`; if initiated, re-initialise the machine.
    CheckstopOff {
        /// TAPQ `bs`.
        se_bstate: u8,
    },
    /// Config off: clear `config`; if initiated, [`DevState::Error`] with last error 0x03;
    /// `CONFIG=0`; flush.
    ConfigOff {
        /// TAPQ `bs`.
        se_bstate: u8,
    },
    /// Config on: set `config`; if initiated, re-initialise the machine; `CONFIG=1`.
    ConfigOn {
        /// TAPQ `bs`.
        se_bstate: u8,
    },
    /// Configured and the device is in [`DevState::Error`]: flush and re-initialise (with
    /// reset). Checkstop is not looked at here.
    ErrorReinit {
        /// TAPQ `bs`.
        se_bstate: u8,
    },
    /// Only the SE bind state is updated.
    Unchanged {
        /// TAPQ `bs`.
        se_bstate: u8,
    },
}

/// `ap_scan_domains` for one domain: `existing` is the queue device with this APQN,
/// `in_config` is [`IdLimits::usage_domain_configured`] with the current QCI, `info` the
/// [`queue_info`] of a TAPQ on the APQN (the glue issues TAPQ only if `in_config`; pass
/// [`QueueInfo::Invalid`] otherwise).
///
/// The checks in C order: not in the configuration (remove); invalid (remove); no info
/// (nothing); no device (create); checkstop on, checkstop off, config off, config on (each
/// ends the domain); configured and in error (re-init); else unchanged.
pub fn plan_queue(existing: Option<&QueueSnapshot>, in_config: bool, info: QueueInfo) -> QueuePlan {
    let gone = |why| match existing {
        Some(_) => QueuePlan::Remove(why),
        None => QueuePlan::Nothing,
    };
    if !in_config {
        return gone(QueueGone::NotInConfig);
    }
    let (hw, decfg, chkstop) = match info {
        QueueInfo::Invalid => return gone(QueueGone::NoApqn),
        QueueInfo::NoInfo => return QueuePlan::Nothing,
        QueueInfo::Info { hw, decfg, chkstop } => (hw, decfg, chkstop),
    };
    let se_bstate = hw.bs();
    let Some(q) = existing else {
        return QueuePlan::Create {
            config: !decfg,
            chkstop,
            init_sm: !decfg && !chkstop,
            se_bstate,
        };
    };
    if chkstop && !q.chkstop {
        QueuePlan::CheckstopOn { se_bstate }
    } else if !chkstop && q.chkstop {
        QueuePlan::CheckstopOff { se_bstate }
    } else if decfg && q.config {
        QueuePlan::ConfigOff { se_bstate }
    } else if !decfg && !q.config {
        QueuePlan::ConfigOn { se_bstate }
    } else if !decfg && q.dev_state == DevState::Error {
        QueuePlan::ErrorReinit { se_bstate }
    } else {
        QueuePlan::Unchanged { se_bstate }
    }
}

impl QueuePlan {
    /// `Some(new)` if `CONFIG=<new>` is due on the queue device (after [`QueuePlan::apply`]).
    pub const fn config_uevent(&self) -> Option<bool> {
        match self {
            QueuePlan::ConfigOff { .. } => Some(false),
            QueuePlan::ConfigOn { .. } => Some(true),
            _ => None,
        }
    }

    /// Applies the plan's state change to an existing queue's machine (for
    /// [`QueuePlan::Create`]: to the new one, before registering it; the init after the
    /// registration is separate). Returns the first action of a re-initialisation
    /// ([`QueueSm::init_state`]), to be driven to its end and passed to `ap_wait`, or
    /// `Wait(None)`.
    pub fn apply(&self, sm: &mut QueueSm) -> SmAction {
        let none = SmAction::Wait(SmWait::None);
        match *self {
            QueuePlan::Remove(_) | QueuePlan::Nothing => none,
            QueuePlan::Create {
                config,
                chkstop,
                se_bstate,
                ..
            } => {
                sm.set_config(config);
                sm.set_chkstop(chkstop);
                sm.set_se_bstate(se_bstate);
                none
            }
            QueuePlan::CheckstopOn { se_bstate } => {
                sm.set_se_bstate(se_bstate);
                sm.set_chkstop(true);
                if sm.dev_state() > DevState::Uninitiated {
                    sm.set_error(rc::CHECKSTOPPED);
                }
                sm.flush();
                none
            }
            QueuePlan::CheckstopOff { se_bstate } => {
                sm.set_se_bstate(se_bstate);
                sm.set_chkstop(false);
                if sm.dev_state() > DevState::Uninitiated {
                    sm.init_state()
                } else {
                    none
                }
            }
            QueuePlan::ConfigOff { se_bstate } => {
                sm.set_se_bstate(se_bstate);
                sm.set_config(false);
                if sm.dev_state() > DevState::Uninitiated {
                    sm.set_error(rc::DECONFIGURED);
                }
                sm.flush();
                none
            }
            QueuePlan::ConfigOn { se_bstate } => {
                sm.set_se_bstate(se_bstate);
                sm.set_config(true);
                if sm.dev_state() > DevState::Uninitiated {
                    sm.init_state()
                } else {
                    none
                }
            }
            QueuePlan::ErrorReinit { se_bstate } => {
                sm.set_se_bstate(se_bstate);
                sm.flush();
                sm.init_state()
            }
            QueuePlan::Unchanged { se_bstate } => {
                sm.set_se_bstate(se_bstate);
                none
            }
        }
    }
}

/// Whether the scan refreshes QCI (`ap_get_configuration`): only if the current block says
/// QCI is available (`flags != 0`); a machine without QCI never changes configuration.
pub const fn qci_refresh_due(current: &QciInfo) -> bool {
    current.is_available()
}

/// `ap_get_configuration`'s answer: false if QCI was not available before the refresh
/// (`old.flags == 0`), else whether the 128 bytes differ.
pub fn config_changed(old: &QciInfo, new: &QciInfo) -> bool {
    old.is_available() && old.0 != new.0
}

/// `ap_config_has_new_aps`: the current block has QCI and an adapter bit that the old one
/// lacks.
pub fn has_new_aps(old: &QciInfo, new: &QciInfo) -> bool {
    new.is_available() && !new.apm().and_not(&old.apm()).is_empty()
}

/// `ap_config_has_new_doms`: the current block has QCI and a usage domain bit that the old
/// one lacks.
pub fn has_new_doms(old: &QciInfo, new: &QciInfo) -> bool {
    new.is_available() && !new.aqm().and_not(&old.aqm()).is_empty()
}

/// The decisions at the start of a scan, which also hold for its end.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ScanBegin {
    /// The configuration changed: notify `on_config_changed(current, old)` before the
    /// adapters and `on_scan_complete(current, old)` after them, and the scan's result
    /// (what `ap_bus_force_rescan` returns) is true.
    pub config_changed: bool,
    /// New adapters or usage domains appeared: re-arm the bindings completion (before the
    /// notification).
    pub rearm_bindings: bool,
}

/// The start of `ap_scan_bus` after the QCI refresh (`old` = the block before it,
/// `new` = the current one).
pub fn scan_begin(old: &QciInfo, new: &QciInfo) -> ScanBegin {
    let changed = config_changed(old, new);
    ScanBegin {
        config_changed: changed,
        rearm_bindings: changed && (has_new_aps(old, new) || has_new_doms(old, new)),
    }
}

/// The end of `ap_scan_bus`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ScanEnd {
    /// Notify `on_scan_complete` (= [`ScanBegin::config_changed`]).
    pub notify_scan_complete: bool,
    /// The new value of the scan counter (`scans`).
    pub scans: u64,
    /// The counter became 1: send `INITSCAN=done` on the root device.
    pub init_scan_done: bool,
}

/// The end of `ap_scan_bus`: `scans_before` is the scan counter before this scan.
pub fn scan_end(begin: &ScanBegin, scans_before: u64) -> ScanEnd {
    let scans = scans_before.wrapping_add(1);
    ScanEnd {
        notify_scan_complete: begin.config_changed,
        scans,
        init_scan_done: scans == 1,
    }
}

/// `ap_bus_force_rescan` (a write to `scans`, a CHSC configuration event, zcrypt): only
/// after the initial scan (`scans > 0`) does it run a scan (or wait for a running one);
/// before that it does nothing and returns false.
pub const fn force_rescan_allowed(scans: u64) -> bool {
    scans > 0
}

/// The `ap_apqn_bindings_complete` completion and `ap_bindings_complete_count`.
///
/// It starts not done with count 0. It is re-armed by [`ScanBegin::rearm_bindings`] and by
/// every `ap_device_probe` of a card or queue device that passes the ownership check (before
/// the driver's probe runs, whatever that returns).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct BindingsCompletion {
    done: bool,
    count: u64,
}

impl BindingsCompletion {
    /// Not done, count 0.
    pub const fn new() -> Self {
        BindingsCompletion {
            done: false,
            count: 0,
        }
    }

    /// `reinit_completion`.
    pub fn rearm(&mut self) {
        self.done = false;
    }

    /// `completion_done` (`ap_wait_apqn_bindings_complete` returns at once when true).
    pub const fn is_done(&self) -> bool {
        self.done
    }

    /// `ap_bindings_complete_count` (the `bindings_complete_count` attribute).
    pub const fn count(&self) -> u64 {
        self.count
    }

    /// `ap_check_bindings_complete` (after every scan and every `ap_driver_register`): if at
    /// least one scan ran, every queue device is bound (`bound == total`, queue devices
    /// only) and the completion is not done, it becomes done, the count is incremented and
    /// the new count is returned: send `BINDINGS=complete` and `COMPLETECOUNT=<count>` on
    /// the root device.
    pub fn check(&mut self, scans: u64, bound: u32, total: u32) -> Option<u64> {
        if scans < 1 || bound != total || self.done {
            return None;
        }
        self.done = true;
        self.count = self.count.wrapping_add(1);
        Some(self.count)
    }
}

/// `ap_select_domain`: the default domain index after the scan's selection step.
///
/// A chosen domain (`current >= 0`) is kept. Otherwise the first domain `0..=max_apqi` that
/// is a configured usage domain (current QCI) and in `perms.aqm`, for which some adapter
/// `0..=max_apid` that is configured (current QCI) and in `perms.apm` answers TAPQ with RC
/// 0x00 (`tapq` issues TAPQ, with T if APFT is installed, GR2 ignored; domains outer,
/// adapters inner, stopping at the first hit). No such domain: `current` unchanged.
pub fn select_domain(
    current: i32,
    perms: &Perms,
    limits: &IdLimits,
    qci: Option<&QciInfo>,
    mut tapq: impl FnMut(Apqn) -> QueueStatus,
) -> i32 {
    if current >= 0 {
        return current;
    }
    for apqi in 0..=limits.max_apqi {
        if !limits.usage_domain_configured(qci, apqi) || !perms.aqm.test(apqi) {
            continue;
        }
        for apid in 0..=limits.max_apid {
            if !limits.card_configured(qci, apid) || !perms.apm.test(apid) {
                continue;
            }
            if tapq(Apqn::new(apid, apqi)).response_code() == rc::NORMAL {
                return i32::from(apqi);
            }
        }
    }
    current
}

/// One uevent environment variable of the AP bus.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum EnvVar {
    /// `DEV_TYPE=%04X` of the card's compatible device type.
    DevType(u8),
    /// `MODALIAS=ap:t%02X` of the card's compatible device type.
    Modalias(u8),
    /// `MODE=accel|cca|ep11`.
    Mode(Mode),
    /// `CONFIG=0|1` (card or queue; `ap_send_config_uevent`).
    Config(bool),
    /// `ONLINE=0|1` (zcrypt's card or queue `online`; `ap_send_online_uevent`).
    Online(bool),
    /// `BINDINGS=complete` (root device).
    BindingsComplete,
    /// `COMPLETECOUNT=%llu` (root device, after `BINDINGS=complete`). C formats it into a
    /// 32-byte buffer, so more than 17 digits would be cut (never reached).
    CompleteCount(u64),
    /// `INITSCAN=done` (root device).
    InitScanDone,
    /// `SE_BIND=1` (queue, SE guests).
    SeBind,
    /// `SE_ASSOC=%u` (queue, SE guests).
    SeAssoc(u32),
}

impl EnvVar {
    /// Writes the `KEY=value` string (no NUL, no newline).
    pub fn write(&self, w: &mut dyn fmt::Write) -> fmt::Result {
        match *self {
            EnvVar::DevType(t) => write!(w, "DEV_TYPE={t:04X}"),
            EnvVar::Modalias(t) => write!(w, "MODALIAS=ap:t{t:02X}"),
            EnvVar::Mode(m) => write!(w, "MODE={}", m.as_str()),
            EnvVar::Config(on) => write!(w, "CONFIG={}", u8::from(on)),
            EnvVar::Online(on) => write!(w, "ONLINE={}", u8::from(on)),
            EnvVar::BindingsComplete => w.write_str("BINDINGS=complete"),
            EnvVar::CompleteCount(n) => write!(w, "COMPLETECOUNT={n}"),
            EnvVar::InitScanDone => w.write_str("INITSCAN=done"),
            EnvVar::SeBind => w.write_str("SE_BIND=1"),
            EnvVar::SeAssoc(i) => write!(w, "SE_ASSOC={i}"),
        }
    }
}

/// `DEV_TYPE=%04X`.
pub fn write_env_dev_type(w: &mut dyn fmt::Write, dev_type: u8) -> fmt::Result {
    EnvVar::DevType(dev_type).write(w)
}

/// `MODALIAS=ap:t%02X`.
pub fn write_env_modalias(w: &mut dyn fmt::Write, dev_type: u8) -> fmt::Result {
    EnvVar::Modalias(dev_type).write(w)
}

/// `MODE=accel|cca|ep11`.
pub fn write_env_mode(w: &mut dyn fmt::Write, mode: Mode) -> fmt::Result {
    EnvVar::Mode(mode).write(w)
}

/// `CONFIG=0|1`.
pub fn write_env_config(w: &mut dyn fmt::Write, on: bool) -> fmt::Result {
    EnvVar::Config(on).write(w)
}

/// `ONLINE=0|1`.
pub fn write_env_online(w: &mut dyn fmt::Write, on: bool) -> fmt::Result {
    EnvVar::Online(on).write(w)
}

/// `BINDINGS=complete`.
pub fn write_env_bindings_complete(w: &mut dyn fmt::Write) -> fmt::Result {
    EnvVar::BindingsComplete.write(w)
}

/// `COMPLETECOUNT=%llu`.
pub fn write_env_complete_count(w: &mut dyn fmt::Write, n: u64) -> fmt::Result {
    EnvVar::CompleteCount(n).write(w)
}

/// `INITSCAN=done`.
pub fn write_env_init_scan_done(w: &mut dyn fmt::Write) -> fmt::Result {
    EnvVar::InitScanDone.write(w)
}

/// The kind of device a uevent is for, as `ap_uevent` tells them apart.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum UeventDevice {
    /// The root device `/sys/devices/ap` (it has the AP bus as its bus).
    Root,
    /// A card device: its compatible device type and its (masked) hwinfo.
    Card {
        /// The compatible device type.
        dev_type: u8,
        /// `ac->hwinfo`.
        hw: TapqHwInfo,
    },
    /// A queue device: the hwinfo of its card.
    Queue {
        /// The card's `hwinfo`.
        card_hw: TapqHwInfo,
    },
}

/// What `ap_uevent` (the bus `uevent` callback) adds to **every** uevent of a device (ADD,
/// REMOVE, CHANGE, BIND, ...), before the event's own variables: nothing for the root
/// device; for a card `DEV_TYPE`, `MODALIAS` and `MODE` (the latter only if one of A, D, X
/// is set, checked in that order); for a queue only `MODE`, from its card's hwinfo.
pub fn bus_uevent_vars(dev: UeventDevice) -> [Option<EnvVar>; 3] {
    match dev {
        UeventDevice::Root => [None, None, None],
        UeventDevice::Card { dev_type, hw } => [
            Some(EnvVar::DevType(dev_type)),
            Some(EnvVar::Modalias(dev_type)),
            hw.mode().map(EnvVar::Mode),
        ],
        UeventDevice::Queue { card_hw } => [card_hw.mode().map(EnvVar::Mode), None, None],
    }
}

#[cfg(test)]
mod tests {
    use super::super::hw::{QCI_APSC, QCI_APXA};
    use super::super::mask::Mask;
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    fn env(v: EnvVar) -> String {
        let mut s = String::new();
        v.write(&mut s).unwrap();
        s
    }

    fn cca(at: u8) -> TapqHwInfo {
        TapqHwInfo(0)
            .with_cca(true)
            .with_apsc(true)
            .with_class(0x80)
            .with_at(at)
            .with_qd(7)
    }

    fn st(code: u8) -> QueueStatus {
        QueueStatus::new(code)
    }

    #[test]
    fn queue_info_cases() {
        let l = IdLimits::DEFAULT;
        let q = Apqn::new(1, 2);
        let h = cca(14);
        assert_eq!(
            queue_info(&l, Apqn::new(64, 0), st(0), h),
            QueueInfo::Invalid
        );
        assert!(!tapq_allowed(&l, Apqn::new(0, 16)));
        assert_eq!(
            queue_info(&l, q, st(rc::Q_NOT_AVAIL), h),
            QueueInfo::Invalid
        );
        assert_eq!(queue_info(&l, q, st(0x06), h), QueueInfo::Invalid);
        assert_eq!(
            queue_info(&l, q, st(rc::Q_NOT_AVAIL).with_async(true), h),
            QueueInfo::Info {
                hw: h,
                decfg: false,
                chkstop: false
            }
        );
        assert_eq!(queue_info(&l, q, st(0), TapqHwInfo(0)), QueueInfo::NoInfo);
        for (code, d, c) in [
            (0, false, false),
            (2, false, false),
            (3, true, false),
            (4, false, true),
            (5, false, false),
        ] {
            assert_eq!(
                queue_info(&l, q, st(code), h),
                QueueInfo::Info {
                    hw: h,
                    decfg: d,
                    chkstop: c
                }
            );
        }
    }

    #[test]
    fn first_info_search() {
        let l = IdLimits::DEFAULT;
        let mut qci = QciInfo::EMPTY;
        qci.set_flags(QCI_APSC);
        qci.set_aqm(&Mask::from_ids(&[3, 5, 9]));
        let mut asked = Vec::new();
        let p = first_info(&l, Some(&qci), 2, |q| {
            asked.push(q.apqi);
            match q.apqi {
                3 => (st(rc::Q_NOT_AVAIL), TapqHwInfo(0)),
                5 => (st(0), cca(13)),
                _ => (st(0), cca(14)),
            }
        })
        .unwrap();
        assert_eq!(asked, [3, 5]);
        assert_eq!(p.q, Apqn::new(2, 5));
        assert_eq!(p.hw.at(), 13);
        // Without QCI every domain up to the limit counts.
        let mut n = 0;
        assert!(first_info(&l, None, 0, |_| {
            n += 1;
            (st(1), TapqHwInfo(0))
        })
        .is_none());
        assert_eq!(n, 16);
    }

    fn probe(hw: TapqHwInfo, decfg: bool, chkstop: bool) -> Option<ProbeInfo> {
        Some(ProbeInfo {
            q: Apqn::new(4, 1),
            hw,
            decfg,
            chkstop,
        })
    }

    type CardRow = (
        &'static str,
        Option<CardSnapshot>,
        bool,
        Option<ProbeInfo>,
        CardPlan,
    );

    /// One row per branch of ap_scan_adapter.
    #[test]
    fn plan_card_branches() {
        let h = cca(14).with_bs(2).with_fac(cca(14).fac() | 0x1234);
        let masked = h.card_part();
        let card = CardSnapshot::new(masked, true, false);
        let new = |config, chkstop| NewCard {
            q: Apqn::new(4, 1),
            hw: masked,
            config,
            chkstop,
        };
        let rows: &[CardRow] = &[
            (
                "not_in_config_rm",
                Some(card),
                false,
                probe(h, false, false),
                CardPlan::Remove(CardGone::NotInConfig),
            ),
            (
                "not_in_config_none",
                None,
                false,
                None,
                CardPlan::Ignore(CardGone::NotInConfig),
            ),
            (
                "no_apqn_rm",
                Some(card),
                true,
                None,
                CardPlan::Remove(CardGone::NoApqn),
            ),
            (
                "no_apqn_ignored",
                None,
                true,
                None,
                CardPlan::Ignore(CardGone::NoApqn),
            ),
            (
                "type0_rm",
                Some(card),
                true,
                probe(h.with_at(0), false, false),
                CardPlan::Remove(CardGone::NoType),
            ),
            (
                "type0_ignored",
                None,
                true,
                probe(h.with_at(0), false, false),
                CardPlan::Ignore(CardGone::NoType),
            ),
            (
                "hwtype_changed",
                Some(card),
                true,
                probe(h.with_at(13), false, false),
                CardPlan::Replace(NewCard {
                    hw: h.with_at(13).card_part(),
                    ..new(true, false)
                }),
            ),
            (
                "functions_changed",
                Some(card),
                true,
                probe(h.with_ep11(true), false, false),
                CardPlan::Replace(NewCard {
                    hw: h.with_ep11(true).card_part(),
                    ..new(true, false)
                }),
            ),
            (
                "unmasked_bits_ignored",
                Some(card),
                true,
                probe(h.with_bs(1).with_fac(h.fac() ^ 0x8000), false, false),
                CardPlan::Keep {
                    chkstop: None,
                    config: None,
                },
            ),
            (
                "chkstop_on",
                Some(card),
                true,
                probe(h, false, true),
                CardPlan::Keep {
                    chkstop: Some(true),
                    config: None,
                },
            ),
            (
                "chkstop_off",
                Some(CardSnapshot {
                    chkstop: true,
                    ..card
                }),
                true,
                probe(h, false, false),
                CardPlan::Keep {
                    chkstop: Some(false),
                    config: None,
                },
            ),
            (
                "config_off",
                Some(card),
                true,
                probe(h, true, false),
                CardPlan::Keep {
                    chkstop: None,
                    config: Some(false),
                },
            ),
            (
                "config_on",
                Some(CardSnapshot {
                    config: false,
                    ..card
                }),
                true,
                probe(h, false, false),
                CardPlan::Keep {
                    chkstop: None,
                    config: Some(true),
                },
            ),
            (
                "chkstop_and_config",
                Some(CardSnapshot {
                    config: false,
                    ..card
                }),
                true,
                probe(h, false, true),
                CardPlan::Keep {
                    chkstop: Some(true),
                    config: Some(true),
                },
            ),
            (
                "create",
                None,
                true,
                probe(h, false, false),
                CardPlan::Create(new(true, false)),
            ),
            (
                "create_decfg",
                None,
                true,
                probe(h, true, false),
                CardPlan::Create(new(false, false)),
            ),
            (
                "create_chkstop",
                None,
                true,
                probe(h, false, true),
                CardPlan::Create(new(true, true)),
            ),
        ];
        for (name, ex, cfg, p, want) in rows {
            assert_eq!(plan_card(ex.as_ref(), *cfg, *p), *want, "{name}");
        }
        assert_eq!(masked.fac() & 0xffff, 0);
        assert_eq!(new(true, false).max_msg_size(), 12288);
        let ok = |i: QactInfo| (st(0), i.with_cat(12));
        assert_eq!(new(true, false).compatible_type(false, ok), 14);
        let newer = NewCard {
            hw: h.with_at(20).card_part(),
            ..new(true, false)
        };
        assert_eq!(newer.compatible_type(true, ok), 12);
        assert_eq!(newer.compatible_type(false, ok), 0);
    }

    fn qs(config: bool, chkstop: bool, dev_state: DevState) -> Option<QueueSnapshot> {
        Some(QueueSnapshot {
            config,
            chkstop,
            dev_state,
        })
    }

    fn info(decfg: bool, chkstop: bool) -> QueueInfo {
        QueueInfo::Info {
            hw: cca(14).with_bs(3),
            decfg,
            chkstop,
        }
    }

    /// One row per branch of ap_scan_domains.
    #[test]
    fn plan_queue_branches() {
        use DevState::*;
        let b = 3;
        let rows: &[(&str, Option<QueueSnapshot>, bool, QueueInfo, QueuePlan)] = &[
            (
                "not_in_config_rm",
                qs(true, false, Operating),
                false,
                info(false, false),
                QueuePlan::Remove(QueueGone::NotInConfig),
            ),
            (
                "not_in_config_none",
                None,
                false,
                QueueInfo::Invalid,
                QueuePlan::Nothing,
            ),
            (
                "queue_info_failed_rm",
                qs(true, false, Operating),
                true,
                QueueInfo::Invalid,
                QueuePlan::Remove(QueueGone::NoApqn),
            ),
            (
                "queue_info_failed_none",
                None,
                true,
                QueueInfo::Invalid,
                QueuePlan::Nothing,
            ),
            (
                "no_info_kept",
                qs(true, false, Error),
                true,
                QueueInfo::NoInfo,
                QueuePlan::Nothing,
            ),
            (
                "no_info_none",
                None,
                true,
                QueueInfo::NoInfo,
                QueuePlan::Nothing,
            ),
            (
                "new_queue",
                None,
                true,
                info(false, false),
                QueuePlan::Create {
                    config: true,
                    chkstop: false,
                    init_sm: true,
                    se_bstate: b,
                },
            ),
            (
                "new_decfg",
                None,
                true,
                info(true, false),
                QueuePlan::Create {
                    config: false,
                    chkstop: false,
                    init_sm: false,
                    se_bstate: b,
                },
            ),
            (
                "new_chkstop",
                None,
                true,
                info(false, true),
                QueuePlan::Create {
                    config: true,
                    chkstop: true,
                    init_sm: false,
                    se_bstate: b,
                },
            ),
            (
                "checkstop_on",
                qs(true, false, Operating),
                true,
                info(true, true),
                QueuePlan::CheckstopOn { se_bstate: b },
            ),
            (
                "checkstop_off",
                qs(false, true, Error),
                true,
                info(true, false),
                QueuePlan::CheckstopOff { se_bstate: b },
            ),
            (
                "config_off",
                qs(true, false, Operating),
                true,
                info(true, false),
                QueuePlan::ConfigOff { se_bstate: b },
            ),
            (
                "config_on",
                qs(false, false, Error),
                true,
                info(false, false),
                QueuePlan::ConfigOn { se_bstate: b },
            ),
            (
                "error_reinit",
                qs(true, false, Error),
                true,
                info(false, false),
                QueuePlan::ErrorReinit { se_bstate: b },
            ),
            (
                "error_reinit_chkstop_unchanged",
                qs(true, true, Error),
                true,
                info(false, true),
                QueuePlan::ErrorReinit { se_bstate: b },
            ),
            (
                "error_decfg_unchanged",
                qs(false, false, Error),
                true,
                info(true, false),
                QueuePlan::Unchanged { se_bstate: b },
            ),
            (
                "unchanged",
                qs(true, false, Operating),
                true,
                info(false, false),
                QueuePlan::Unchanged { se_bstate: b },
            ),
            (
                "unchanged_uninitiated",
                qs(true, false, Uninitiated),
                true,
                info(false, false),
                QueuePlan::Unchanged { se_bstate: b },
            ),
        ];
        for (name, ex, cfg, i, want) in rows {
            assert_eq!(plan_queue(ex.as_ref(), *cfg, *i), *want, "{name}");
        }
    }

    #[test]
    fn plan_queue_apply() {
        use super::super::queue_sm::{Instr, SmState};
        // checkstop on, initiated: error 0x04, flushed.
        let mut sm = QueueSm::new(true, false);
        let _ = sm.init_state();
        let p = QueuePlan::CheckstopOn { se_bstate: 1 };
        assert_eq!(p.apply(&mut sm), SmAction::Wait(SmWait::None));
        assert!(sm.chkstop() && sm.dev_state() == DevState::Error);
        assert_eq!((sm.last_err_rc(), sm.se_bstate()), (rc::CHECKSTOPPED, 1));
        // checkstop off re-inits (RAPQ).
        let p = QueuePlan::CheckstopOff { se_bstate: 0 };
        assert_eq!(p.apply(&mut sm), SmAction::Issue(Instr::Rapq { f: false }));
        assert_eq!(sm.dev_state(), DevState::Operating);
        assert_eq!(sm.last_err_rc(), 0);
        // config off: error 0x03, CONFIG=0.
        let p = QueuePlan::ConfigOff { se_bstate: 0 };
        let _ = p.apply(&mut sm);
        assert_eq!(p.config_uevent(), Some(false));
        assert_eq!(
            (sm.dev_state(), sm.last_err_rc()),
            (DevState::Error, rc::DECONFIGURED)
        );
        // config on: re-init, but not running until RAPQ answered.
        let p = QueuePlan::ConfigOn { se_bstate: 0 };
        assert_eq!(p.apply(&mut sm), SmAction::Issue(Instr::Rapq { f: false }));
        assert_eq!(p.config_uevent(), Some(true));
        // Uninitiated queues only get the flags.
        let mut u = QueueSm::new(true, false);
        assert_eq!(
            QueuePlan::ConfigOff { se_bstate: 0 }.apply(&mut u),
            SmAction::Wait(SmWait::None)
        );
        assert_eq!(u.dev_state(), DevState::Uninitiated);
        assert_eq!(
            QueuePlan::ConfigOn { se_bstate: 0 }.apply(&mut u),
            SmAction::Wait(SmWait::None)
        );
        assert_eq!(
            QueuePlan::CheckstopOn { se_bstate: 0 }.apply(&mut u),
            SmAction::Wait(SmWait::None)
        );
        assert_eq!(
            QueuePlan::CheckstopOff { se_bstate: 0 }.apply(&mut u),
            SmAction::Wait(SmWait::None)
        );
        assert_eq!(
            (u.dev_state(), u.sm_state()),
            (DevState::Uninitiated, SmState::ResetStart)
        );
        // error re-init ignores checkstop: initiated, but the machine does not run.
        let mut e = QueueSm::new(true, true);
        e.set_error(rc::CHECKSTOPPED);
        assert_eq!(
            QueuePlan::ErrorReinit { se_bstate: 0 }.apply(&mut e),
            SmAction::Wait(SmWait::None)
        );
        assert_eq!(e.dev_state(), DevState::Operating);
        // Create sets the flags on the new machine.
        let mut c = QueueSm::new(true, false);
        let p = plan_queue(None, true, info(true, false));
        let _ = p.apply(&mut c);
        assert!(!c.config() && c.se_bstate() == 3);
        assert_eq!(
            QueueSnapshot::of(&c),
            QueueSnapshot {
                config: false,
                chkstop: false,
                dev_state: DevState::Uninitiated
            }
        );
    }

    #[test]
    fn config_change() {
        let mut old = QciInfo::EMPTY;
        let mut new = QciInfo::EMPTY;
        assert!(!qci_refresh_due(&old));
        new.set_flags(QCI_APSC);
        assert!(!config_changed(&old, &new));
        old.set_flags(QCI_APSC);
        assert!(qci_refresh_due(&old));
        assert!(!config_changed(&old, &new));
        new.0[127] = 1;
        assert!(config_changed(&old, &new));
        assert!(!has_new_aps(&old, &new) && !has_new_doms(&old, &new));
        assert_eq!(
            scan_begin(&old, &new),
            ScanBegin {
                config_changed: true,
                rearm_bindings: false
            }
        );
        new.set_apm(&Mask::from_ids(&[1]));
        assert!(has_new_aps(&old, &new));
        assert!(!has_new_aps(&new, &old));
        new.set_aqm(&Mask::from_ids(&[2]));
        assert!(has_new_doms(&old, &new));
        assert_eq!(
            scan_begin(&old, &new),
            ScanBegin {
                config_changed: true,
                rearm_bindings: true
            }
        );
        // The new block without QCI: no new aps/doms, but a change.
        let empty = QciInfo::EMPTY;
        assert!(!has_new_aps(&new, &empty));
        assert_eq!(
            scan_begin(&new, &empty),
            ScanBegin {
                config_changed: true,
                rearm_bindings: false
            }
        );
        let b = scan_begin(&old, &old);
        assert_eq!(
            scan_end(&b, 0),
            ScanEnd {
                notify_scan_complete: false,
                scans: 1,
                init_scan_done: true
            }
        );
        assert!(!scan_end(&b, 1).init_scan_done);
        assert!(!force_rescan_allowed(0) && force_rescan_allowed(1));
    }

    #[test]
    fn bindings_completion() {
        let mut c = BindingsCompletion::new();
        assert_eq!(c.check(0, 0, 0), None);
        assert_eq!(c.check(1, 1, 2), None);
        assert_eq!(c.check(1, 2, 2), Some(1));
        assert!(c.is_done());
        assert_eq!(c.check(2, 2, 2), None);
        c.rearm();
        assert_eq!(c.check(3, 0, 0), Some(2));
        assert_eq!(c.count(), 2);
    }

    #[test]
    fn select_domain_cases() {
        let l = IdLimits::DEFAULT;
        let p = Perms::DEFAULT;
        assert_eq!(select_domain(5, &p, &l, None, |_| panic!("no TAPQ")), 5);
        let mut asked = Vec::new();
        let d = select_domain(-1, &p, &l, None, |q| {
            asked.push(q);
            if q == Apqn::new(2, 1) {
                st(0)
            } else {
                st(3)
            }
        });
        assert_eq!(d, 1);
        assert_eq!(asked.len(), 64 + 3);
        // RC 0x02..0x05 do not count; perms and QCI restrict.
        let mut qci = QciInfo::EMPTY;
        qci.set_flags(QCI_APXA);
        qci.set_apm(&Mask::from_ids(&[0, 1]));
        qci.set_aqm(&Mask::from_ids(&[4, 6, 7]));
        let perms = Perms {
            apm: Mask::from_ids(&[1]),
            aqm: Mask::from_ids(&[6, 7]),
        };
        let mut asked = Vec::new();
        let d = select_domain(-1, &perms, &l, Some(&qci), |q| {
            asked.push(q);
            if q.apqi == 7 {
                st(0)
            } else {
                st(2)
            }
        });
        assert_eq!(d, 7);
        assert_eq!(asked, [Apqn::new(1, 6), Apqn::new(1, 7)]);
        assert_eq!(select_domain(-1, &perms, &l, Some(&qci), |_| st(5)), -1);
    }

    #[test]
    fn uevent_env() {
        assert_eq!(env(EnvVar::DevType(14)), "DEV_TYPE=000E");
        assert_eq!(env(EnvVar::Modalias(10)), "MODALIAS=ap:t0A");
        assert_eq!(env(EnvVar::Mode(Mode::Ep11)), "MODE=ep11");
        assert_eq!(env(EnvVar::Config(false)), "CONFIG=0");
        assert_eq!(env(EnvVar::Online(true)), "ONLINE=1");
        assert_eq!(env(EnvVar::BindingsComplete), "BINDINGS=complete");
        assert_eq!(env(EnvVar::CompleteCount(12)), "COMPLETECOUNT=12");
        assert_eq!(env(EnvVar::InitScanDone), "INITSCAN=done");
        assert_eq!(env(EnvVar::SeBind), "SE_BIND=1");
        assert_eq!(env(EnvVar::SeAssoc(7)), "SE_ASSOC=7");
        let mut s = String::new();
        write_env_dev_type(&mut s, 11).unwrap();
        write_env_modalias(&mut s, 11).unwrap();
        write_env_mode(&mut s, Mode::Accel).unwrap();
        write_env_config(&mut s, true).unwrap();
        write_env_online(&mut s, false).unwrap();
        write_env_bindings_complete(&mut s).unwrap();
        write_env_complete_count(&mut s, 1).unwrap();
        write_env_init_scan_done(&mut s).unwrap();
        assert_eq!(s, "DEV_TYPE=000BMODALIAS=ap:t0BMODE=accelCONFIG=1ONLINE=0BINDINGS=completeCOMPLETECOUNT=1INITSCAN=done");
        assert_eq!(bus_uevent_vars(UeventDevice::Root), [None, None, None]);
        let hw = cca(14).with_accel(true);
        assert_eq!(
            bus_uevent_vars(UeventDevice::Card { dev_type: 14, hw }),
            [
                Some(EnvVar::DevType(14)),
                Some(EnvVar::Modalias(14)),
                Some(EnvVar::Mode(Mode::Accel))
            ]
        );
        assert_eq!(
            bus_uevent_vars(UeventDevice::Queue { card_hw: cca(14) }),
            [Some(EnvVar::Mode(Mode::Cca)), None, None]
        );
        assert_eq!(
            bus_uevent_vars(UeventDevice::Card {
                dev_type: 12,
                hw: TapqHwInfo(0).with_at(12)
            }),
            [Some(EnvVar::DevType(12)), Some(EnvVar::Modalias(12)), None]
        );
    }
}
