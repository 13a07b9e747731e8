// SPDX-License-Identifier: GPL-2.0

//! The s390 AP bus (`ap.ko`), in Rust.
//!
//! Registers bus `ap` and the root device `/sys/devices/ap`, creates card and queue devices from
//! the AP configuration (QCI + TAPQ) in periodic and forced scans, binds them to AP drivers by
//! the host's permission masks, and serves the bus, card and queue attributes. Other modules
//! drive AP devices through the interface in `include/ap-rs/ap_bus.h`.
//!
//! Every decision (mask syntax, ownership, scan plans, the queue state machine, formats) lives in
//! the `ap_bus` model crate, compiled into this module from `ap_bus/src`; this file gathers state
//! under its locks and applies the model's answers.
//!
//! Where there are no AP instructions (any architecture but s390, or an s390 guest without the
//! AP facility), the bus runs on the simulated AP facility of the model crate, configured by the
//! `sim=` module parameter and controlled at run time through debugfs (`ap_sim/control`).

use core::{
    fmt::Write as _,
    sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering},
};
use kernel::{
    debugfs, fmt, new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
    uaccess::UserSliceReader,
};

/// Safe abstractions over the C driver core and the platform (shared with other modules).
#[path = "../abstractions"]
pub mod abs {
    pub mod ap_bus_ffi;
    pub mod ap_driver;
    pub mod bus;
    pub mod device;
    pub mod platform;
}

/// The `ap_bus` model crate: every decision of the bus.
#[path = "../../../../ap_bus/src"]
pub mod model {
    pub mod facility;
    pub mod hw;
    pub mod ids;
    pub mod mask;
    pub mod owner;
    pub mod parse;
    pub mod queue_sm;
    pub mod scan;
    pub mod sim;
    pub mod text;
}

use abs::{
    ap_bus_ffi::{self, ApBusApi},
    ap_driver::DriverRef,
    bus::{Bus, BusOps, RootDevice, ShowBuf, UeventEnv},
    device::{BusDevice, DeviceRef, DeviceSpec, DeviceType, KIND_CARD, KIND_QUEUE},
    platform::{self, KtimeClock},
};
use model::{
    facility::ApFacility,
    hw::{self, Mode, QciInfo, QciMask, QueueStatus, TapqHwInfo},
    ids::{Apqn, IdLimits},
    mask::Mask,
    owner::{self, MaskStore, PermMask, Perms},
    parse::{self, ParseError},
    queue_sm::{self, QueueSm, SmAction, SmEvent, SmWait},
    scan::{self, BindingsCompletion, CardPlan, CardSnapshot, NewCard, QueuePlan, QueueSnapshot},
    sim::{self, Sim},
    text::{self, BufWriter},
};

module! {
    type: ApModule,
    name: "ap",
    authors: ["ap-rs developers"],
    description: "s390 AP bus (Rust)",
    license: "GPL",
}

/// The AP facility the bus runs on.
enum Facility {
    /// The simulator (boxed: it is too large for the stack).
    Sim(KVBox<Sim<KtimeClock>>),
    /// The machine's AP instructions.
    #[cfg(CONFIG_S390)]
    Hw(platform::hw::HwFacility),
}

impl Facility {
    fn get(&mut self) -> &mut dyn ApFacility {
        match self {
            Facility::Sim(s) => &mut **s,
            #[cfg(CONFIG_S390)]
            Facility::Hw(h) => h,
        }
    }

    /// Chooses the facility: the simulator if asked for (or if there is nothing else), else the
    /// machine's AP instructions.
    fn select() -> Result<Self> {
        let spec = platform::param_sim();
        #[cfg(CONFIG_S390)]
        if spec.is_none() {
            return match platform::hw::HwFacility::probe() {
                Some(hw) => Ok(Facility::Hw(hw)),
                None => {
                    pr_err!("The hardware system does not support AP instructions; load with sim=default to use the simulated AP facility\n");
                    Err(ENODEV)
                }
            };
        }
        let spec = match spec.unwrap_or(b"") {
            b"default" => b"".as_slice(),
            s => s,
        };
        let machine = sim::parse_machine_spec(spec).map_err(|_| {
            pr_err!("invalid sim= machine description\n");
            EINVAL
        })?;
        let mut s = platform::new_sim()?;
        s.configure(&machine);
        // The initial machine is what the first scan finds, not a change.
        s.take_config_event();
        pr_info!("running on the simulated AP facility\n");
        Ok(Facility::Sim(s))
    }
}

fn parse_err(e: ParseError) -> Error {
    match e {
        ParseError::Inval => EINVAL,
        ParseError::Range => ERANGE,
    }
}

/// Formats into a NUL-terminated buffer and returns it as a C string (uevent variables).
///
/// The buffer may be reused: the terminating NUL is written here, whatever the buffer held.
fn cstr_in<'a, const N: usize>(
    buf: &'a mut [u8; N],
    f: impl FnOnce(&mut dyn core::fmt::Write) -> core::fmt::Result,
) -> Result<&'a CStr> {
    let last = N.checked_sub(1).ok_or(EINVAL)?;
    let n = {
        let mut w = BufWriter::new(buf.get_mut(..last).ok_or(EINVAL)?);
        f(&mut w).map_err(|_| EINVAL)?;
        w.len()
    };
    *buf.get_mut(n).ok_or(EINVAL)? = 0;
    CStr::from_bytes_with_nul(buf.get(..=n).ok_or(EINVAL)?).map_err(|_| EINVAL)
}

// ---------------------------------------------------------------------------------------------
// Devices

/// A card device's state.
struct CardState {
    /// TAPQ GR2 of the card, masked with `CARD_HWINFO_MASK`.
    hw: TapqHwInfo,
    /// The raw type (`at`).
    raw_type: u8,
    config: bool,
    chkstop: bool,
    /// Requests sent through the card (no requests flow yet: reset by writes).
    request_count: u64,
}

/// A queue device's state.
struct QueueState {
    /// The host queue state machine (runs only while a default driver is bound).
    sm: QueueSm,
    /// The card's mode, for `MODE=` uevents.
    mode: Option<Mode>,
    /// `driver_override`: the name of the only driver this queue may bind to.
    driver_override: Option<KVec<u8>>,
}

enum DevState {
    Card(CardState),
    Queue(QueueState),
}

/// The bus's data in every card and queue device.
///
/// Lock order: see [`ApBus`]; `state` comes after `bound` and before `facility`.
#[pin_data]
struct ApDev {
    #[pin]
    state: Mutex<DevState>,
}

type DevRef = DeviceRef<ApDev>;
type Dev = BusDevice<ApDev>;

fn apqn_of(dev: &Dev) -> Apqn {
    Apqn::from_qid(dev.apqn())
}

/// Card attribute ids.
mod card_attr {
    pub(crate) const HWTYPE: u32 = 0;
    pub(crate) const RAW_HWTYPE: u32 = 1;
    pub(crate) const DEPTH: u32 = 2;
    pub(crate) const AP_FUNCTIONS: u32 = 3;
    pub(crate) const REQUEST_COUNT: u32 = 4;
    pub(crate) const REQUESTQ_COUNT: u32 = 5;
    pub(crate) const PENDINGQ_COUNT: u32 = 6;
    pub(crate) const MODALIAS: u32 = 7;
    pub(crate) const CONFIG: u32 = 8;
    pub(crate) const CHKSTOP: u32 = 9;
    pub(crate) const MAX_MSG_SIZE: u32 = 10;
}

/// Queue attribute ids (distinct from the card ids: one dispatch function serves both).
mod queue_attr {
    pub(crate) const REQUEST_COUNT: u32 = 100;
    pub(crate) const REQUESTQ_COUNT: u32 = 101;
    pub(crate) const PENDINGQ_COUNT: u32 = 102;
    pub(crate) const RESET: u32 = 103;
    pub(crate) const INTERRUPT: u32 = 104;
    pub(crate) const CONFIG: u32 = 105;
    pub(crate) const CHKSTOP: u32 = 106;
    pub(crate) const AP_FUNCTIONS: u32 = 107;
    pub(crate) const DRIVER_OVERRIDE: u32 = 108;
}

crate::device_attribute_table!(static CARD_GROUPS for ApBus {
    (c"hwtype", 0o444, card_attr::HWTYPE),
    (c"raw_hwtype", 0o444, card_attr::RAW_HWTYPE),
    (c"depth", 0o444, card_attr::DEPTH),
    (c"ap_functions", 0o444, card_attr::AP_FUNCTIONS),
    (c"request_count", 0o644, card_attr::REQUEST_COUNT),
    (c"requestq_count", 0o444, card_attr::REQUESTQ_COUNT),
    (c"pendingq_count", 0o444, card_attr::PENDINGQ_COUNT),
    (c"modalias", 0o444, card_attr::MODALIAS),
    (c"config", 0o644, card_attr::CONFIG),
    (c"chkstop", 0o444, card_attr::CHKSTOP),
    (c"max_msg_size", 0o444, card_attr::MAX_MSG_SIZE),
});

crate::device_attribute_table!(static QUEUE_GROUPS for ApBus {
    (c"request_count", 0o644, queue_attr::REQUEST_COUNT),
    (c"requestq_count", 0o444, queue_attr::REQUESTQ_COUNT),
    (c"pendingq_count", 0o444, queue_attr::PENDINGQ_COUNT),
    (c"reset", 0o644, queue_attr::RESET),
    (c"interrupt", 0o444, queue_attr::INTERRUPT),
    (c"config", 0o444, queue_attr::CONFIG),
    (c"chkstop", 0o444, queue_attr::CHKSTOP),
    (c"ap_functions", 0o444, queue_attr::AP_FUNCTIONS),
    (c"driver_override", 0o644, queue_attr::DRIVER_OVERRIDE),
});

static CARD_TYPE: DeviceType = DeviceType::new(c"ap_card", &CARD_GROUPS);
static QUEUE_TYPE: DeviceType = DeviceType::new(c"ap_queue", &QUEUE_GROUPS);

// ---------------------------------------------------------------------------------------------
// The bus

/// The devices the scans created, sorted by APQN (cards have APQI 0).
struct DevTable {
    cards: KVec<DevRef>,
    queues: KVec<DevRef>,
}

fn find(v: &KVec<DevRef>, apqn: u16) -> core::result::Result<usize, usize> {
    v.binary_search_by(|d| d.apqn().cmp(&apqn))
}

/// Inserts `d` keeping `v` sorted by APQN.
fn insert_sorted(v: &mut KVec<DevRef>, d: DevRef) -> Result {
    let at = find(v, d.apqn()).unwrap_or_else(|i| i);
    match v.insert_within_capacity(at, d) {
        Ok(()) => Ok(()),
        Err(kernel::alloc::kvec::InsertError::OutOfCapacity(d))
        | Err(kernel::alloc::kvec::InsertError::IndexOutOfBounds(d)) => {
            v.push(d, GFP_KERNEL)?;
            v.sort_unstable_by_key(|d| d.apqn());
            Ok(())
        }
    }
}

/// What the bus attribute mutex (the C bus's `ap_attr_mutex`) protects.
pub(crate) struct Attr {
    /// The host's permission masks.
    perms: Perms,
    /// Queue devices with a `driver_override` set (`ap_driver_override_ctr`).
    override_ctr: u32,
    /// `ap_apmask_aqmask_in_use`: a sysfs mask write left a mask not all ones; starts false,
    /// even with `apmask=`/`aqmask=` parameters, as in C.
    masks_in_use: bool,
}

/// The AP configuration and bus settings.
struct Config {
    /// The last QCI block; `None` without the QCI facility.
    qci: Option<QciInfo>,
    /// The default domain (`ap_domain`), -1 for none.
    domain: i32,
    /// Rescan period in seconds.
    config_time: u32,
    /// Poll interval in ns.
    poll_timeout: u64,
    /// `poll_thread` written true (and no interrupts).
    poll_thread: bool,
}

/// Bus attribute ids.
mod attr {
    pub(crate) const AP_DOMAIN: u32 = 0;
    pub(crate) const AP_CONTROL_DOMAIN_MASK: u32 = 1;
    pub(crate) const AP_USAGE_DOMAIN_MASK: u32 = 2;
    pub(crate) const AP_ADAPTER_MASK: u32 = 3;
    pub(crate) const CONFIG_TIME: u32 = 4;
    pub(crate) const POLL_THREAD: u32 = 5;
    pub(crate) const AP_INTERRUPTS: u32 = 6;
    pub(crate) const POLL_TIMEOUT: u32 = 7;
    pub(crate) const AP_MAX_DOMAIN_ID: u32 = 8;
    pub(crate) const AP_MAX_ADAPTER_ID: u32 = 9;
    pub(crate) const APMASK: u32 = 10;
    pub(crate) const AQMASK: u32 = 11;
    pub(crate) const SCANS: u32 = 12;
    pub(crate) const BINDINGS: u32 = 13;
    pub(crate) const BINDINGS_COMPLETE_COUNT: u32 = 14;
    pub(crate) const FEATURES: u32 = 15;
}

/// The bus state.
///
/// Lock order (outermost first):
/// `scan` (the C bus's ap_scan_bus_mutex and the device table) -> `perms` (ap_attr_mutex) ->
/// `drivers` -> `bound` (the ap_queues hash) -> a device's `state` -> `config` -> `facility`.
/// Driver callbacks (probe, remove, in_use, on_config_changed, on_scan_complete) take the
/// drivers' own locks after these; drivers must not call back into a scan under their locks.
#[pin_data]
struct ApBus {
    #[pin]
    scan: Mutex<DevTable>,
    #[pin]
    perms: Mutex<Attr>,
    #[pin]
    drivers: Mutex<KVec<DriverRef>>,
    #[pin]
    bound: Mutex<KVec<DevRef>>,
    #[pin]
    config: Mutex<Config>,
    #[pin]
    facility: Mutex<Facility>,
    /// Id limits from the initial QCI (fixed for the life of the module, as in C).
    limits: IdLimits,
    /// Number of scans run.
    scan_count: AtomicU64,
    /// The result of the last scan (what a forced rescan that waited for it returns).
    last_scan_changed: AtomicBool,
    /// The module is going away: no scan or poll is started or re-armed any more.
    exiting: AtomicBool,
    /// The "all APQNs bound" completion and its count.
    #[pin]
    bindings: Mutex<BindingsCompletion>,
    /// The registered `struct bus_type` (set once at module init).
    bus_type: AtomicPtr<kernel::bindings::bus_type>,
    /// `/sys/devices/ap`.
    root: RootDevice,
}

impl ApBus {
    fn new(module: &'static ThisModule) -> Result<impl PinInit<Self, Error>> {
        let mut facility = Facility::select()?;
        let qci = facility.get().qci();
        if qci.is_none() {
            pr_info!("QCI not supported\n");
        }
        let limits = IdLimits::bus_from_qci(qci.as_ref());
        let perms = Perms::from_params(platform::param_apmask(), platform::param_aqmask());
        let domain = platform::param_domain();
        let domain = if domain < -1
            || domain > i32::from(limits.max_apqi)
            || (domain >= 0 && !perms.aqm.test(u8::try_from(domain).unwrap_or(0)))
        {
            pr_warn!("{} is not a valid cryptographic domain\n", domain);
            -1
        } else {
            domain
        };
        Ok(try_pin_init!(Self {
            scan <- new_mutex!(DevTable { cards: KVec::new(), queues: KVec::new() }),
            perms <- new_mutex!(Attr { perms, override_ctr: 0, masks_in_use: false }),
            drivers <- new_mutex!(KVec::new()),
            bound <- new_mutex!(KVec::new()),
            config <- new_mutex!(Config {
                qci,
                domain,
                config_time: 30,
                poll_timeout: queue_sm::POLL_HIGH_TIMEOUT_LPAR_NS,
                poll_thread: false,
            }),
            facility <- new_mutex!(facility),
            limits,
            scan_count: AtomicU64::new(0),
            last_scan_changed: AtomicBool::new(false),
            exiting: AtomicBool::new(false),
            bindings <- new_mutex!(BindingsCompletion::new()),
            bus_type: AtomicPtr::new(core::ptr::null_mut()),
            root: RootDevice::register(c"ap", module)?,
        }? Error))
    }

    fn bus_raw(&self) -> *const kernel::bindings::bus_type {
        self.bus_type.load(Ordering::Acquire)
    }

    // ---- facility

    fn tapq_q(&self, q: Apqn, t: bool) -> (QueueStatus, TapqHwInfo) {
        self.facility.lock().get().tapq(q, t)
    }

    // ---- uevents

    fn root_uevent(&self, f: impl FnOnce(&mut dyn core::fmt::Write) -> core::fmt::Result) {
        let mut b = [0u8; 96];
        if let Ok(s) = cstr_in(&mut b, f) {
            let _ = self.root.change_uevent(&[s]);
        }
    }

    fn config_uevent(dev: &Dev, config: bool) {
        let mut b = [0u8; 96];
        if let Ok(s) = cstr_in(&mut b, |w| scan::write_env_config(w, config)) {
            let _ = dev.change_uevent(&[s]);
        }
    }

    // ---- scans

    /// Runs one bus scan (`ap_scan_bus`): returns whether the configuration changed.
    fn scan_bus(&self) -> bool {
        // A scan already running is waited for, and its result is ours (`ap_bus_force_rescan`).
        let mut table = match self.scan.try_lock() {
            Some(t) => t,
            None => {
                drop(self.scan.lock());
                return self.last_scan_changed.load(Ordering::Acquire);
            }
        };
        if self.exiting.load(Ordering::Acquire) {
            return false;
        }
        let (begin, new, old) = {
            let mut cfg = self.config.lock();
            match cfg.qci {
                Some(old) => {
                    let new = self.facility.lock().get().qci().unwrap_or(old);
                    cfg.qci = Some(new);
                    (scan::scan_begin(&old, &new), new, old)
                }
                None => {
                    let q = QciInfo([0; 128]);
                    (scan::scan_begin(&q, &q), q, q)
                }
            }
        };
        if begin.rearm_bindings {
            self.bindings.lock().rearm();
        }
        if begin.config_changed {
            for d in self.drivers.lock().iter() {
                if d.try_get_module() {
                    d.config_changed(&new, &old);
                    d.put_module();
                }
            }
        }
        self.select_domain();
        for apid in 0..=self.limits.max_apid {
            self.scan_adapter(&mut table, apid);
        }
        let end = scan::scan_end(&begin, self.scan_count.load(Ordering::Acquire));
        if end.notify_scan_complete {
            for d in self.drivers.lock().iter() {
                if d.try_get_module() {
                    d.scan_complete(&new, &old);
                    d.put_module();
                }
            }
        }
        drop(table);
        self.scan_count.store(end.scans, Ordering::Release);
        if end.init_scan_done {
            self.root_uevent(scan::write_env_init_scan_done);
        }
        self.last_scan_changed
            .store(begin.config_changed, Ordering::Release);
        self.check_bindings_complete();
        let period = self.config.lock().config_time;
        self.schedule_scan(period.saturating_mul(1000));
        begin.config_changed
    }

    /// Arms the periodic scan, unless the module is going away.
    fn schedule_scan(&self, delay_ms: u32) {
        if !self.exiting.load(Ordering::Acquire) {
            ap_bus_ffi::schedule_scan(delay_ms);
        }
    }

    /// The default domain (`ap_select_domain`).
    fn select_domain(&self) {
        let perms = self.perms.lock().perms;
        let (current, qci) = {
            let c = self.config.lock();
            (c.domain, c.qci)
        };
        let d = scan::select_domain(current, &perms, &self.limits, qci.as_ref(), |q| {
            self.tapq_q(q, true).0
        });
        self.config.lock().domain = d;
    }

    fn remove_card(&self, table: &mut DevTable, apid: u8) {
        let lo = u16::from(apid) << 8;
        let hi = lo | 0xff;
        let mut i = 0;
        while i < table.queues.len() {
            if (lo..=hi).contains(&table.queues[i].apqn()) {
                let q = table.queues.remove(i);
                if let Ok(q) = q {
                    q.unregister();
                }
            } else {
                i += 1;
            }
        }
        if let Ok(i) = find(&table.cards, lo) {
            if let Ok(c) = table.cards.remove(i) {
                c.unregister();
            }
        }
    }

    /// One adapter of a scan (`ap_scan_adapter`).
    fn scan_adapter(&self, table: &mut DevTable, apid: u8) {
        let lo = u16::from(apid) << 8;
        let existing = find(&table.cards, lo).ok().map(|i| table.cards[i].clone());
        let snapshot = existing
            .as_ref()
            .and_then(|c| match &*c.data().state.lock() {
                DevState::Card(s) => Some(CardSnapshot::new(s.hw, s.config, s.chkstop)),
                DevState::Queue(_) => None,
            });
        let qci = self.config.lock().qci;
        let in_config = self.limits.card_configured(qci.as_ref(), apid);
        let probe = if in_config {
            scan::first_info(&self.limits, qci.as_ref(), apid, |q| self.tapq_q(q, true))
        } else {
            None
        };
        let card = match scan::plan_card(snapshot.as_ref(), in_config, probe) {
            CardPlan::Remove(_) => {
                self.remove_card(table, apid);
                return;
            }
            CardPlan::Ignore(_) => return,
            CardPlan::Keep { chkstop, config } => {
                let Some(c) = existing else { return };
                if let DevState::Card(s) = &mut *c.data().state.lock() {
                    if let Some(x) = chkstop {
                        s.chkstop = x;
                    }
                    if let Some(x) = config {
                        s.config = x;
                    }
                }
                if let Some(x) = config {
                    Self::config_uevent(&c, x);
                }
                c
            }
            CardPlan::Replace(new) => {
                self.remove_card(table, apid);
                match self.create_card(table, &new, qci.as_ref()) {
                    Some(c) => c,
                    None => return,
                }
            }
            CardPlan::Create(new) => match self.create_card(table, &new, qci.as_ref()) {
                Some(c) => c,
                None => return,
            },
        };
        self.scan_domains(table, &card);
    }

    fn create_card(
        &self,
        table: &mut DevTable,
        new: &NewCard,
        qci: Option<&QciInfo>,
    ) -> Option<DevRef> {
        let qact_available = qci.is_some_and(|c| c.qact());
        let comp = new.compatible_type(qact_available, |info| {
            self.facility.lock().get().qact(new.q, info)
        });
        let apid = new.q.apid;
        if comp == 0 {
            pr_warn!(
                "card {:02x}: type {} has no compatible type\n",
                apid,
                new.hw.at()
            );
            return None;
        }
        let mut name = [0u8; 16];
        let name = cstr_in(&mut name, |w| {
            core::fmt::Write::write_fmt(w, format_args!("card{:02x}", apid))
        })
        .ok()?;
        let spec = DeviceSpec {
            bus: self.bus_raw(),
            parent: self.root.as_raw(),
            dev_type: &CARD_TYPE,
            name,
            kind: KIND_CARD,
            device_type: u32::from(comp),
            apqn: u16::from(apid) << 8,
        };
        let state = DevState::Card(CardState {
            hw: new.hw,
            raw_type: new.hw.at(),
            config: new.config,
            chkstop: new.chkstop,
            request_count: 0,
        });
        let dev = match Dev::register(
            &spec,
            try_pin_init!(ApDev { state <- new_mutex!(state) }? Error),
        ) {
            Ok(d) => d,
            Err(e) => {
                pr_warn!("card {:02x}: registration failed: {:?}\n", apid, e);
                return None;
            }
        };
        if insert_sorted(&mut table.cards, dev.clone()).is_err() {
            dev.unregister();
            return None;
        }
        Some(dev)
    }

    /// The domains of one card (`ap_scan_domains`).
    fn scan_domains(&self, table: &mut DevTable, card: &DevRef) {
        let apid = apqn_of(card).apid;
        let mode = match &*card.data().state.lock() {
            DevState::Card(s) => s.hw.mode(),
            DevState::Queue(_) => None,
        };
        let qci = self.config.lock().qci;
        for apqi in 0..=self.limits.max_apqi {
            let q = Apqn { apid, apqi };
            let existing = find(&table.queues, q.qid())
                .ok()
                .map(|i| table.queues[i].clone());
            let in_config = self.limits.usage_domain_configured(qci.as_ref(), apqi);
            let info = if in_config && scan::tapq_allowed(&self.limits, q) {
                let (st, hw) = self.tapq_q(q, true);
                scan::queue_info(&self.limits, q, st, hw)
            } else {
                scan::QueueInfo::Invalid
            };
            let snapshot = existing
                .as_ref()
                .and_then(|d| match &*d.data().state.lock() {
                    DevState::Queue(s) => Some(QueueSnapshot::of(&s.sm)),
                    DevState::Card(_) => None,
                });
            match scan::plan_queue(snapshot.as_ref(), in_config, info) {
                QueuePlan::Remove(_) => {
                    if let Ok(i) = find(&table.queues, q.qid()) {
                        if let Ok(d) = table.queues.remove(i) {
                            d.unregister();
                        }
                    }
                }
                QueuePlan::Nothing => {}
                plan @ QueuePlan::Create { .. } => self.create_queue(table, card, q, mode, plan),
                plan => {
                    if let Some(d) = existing {
                        self.apply_queue_plan(&d, plan);
                    }
                }
            }
        }
    }

    fn create_queue(
        &self,
        table: &mut DevTable,
        card: &DevRef,
        q: Apqn,
        mode: Option<Mode>,
        plan: QueuePlan,
    ) {
        let mut name = [0u8; 16];
        let Ok(name) = cstr_in(&mut name, |w| {
            core::fmt::Write::write_fmt(w, format_args!("{}", q))
        }) else {
            return;
        };
        let spec = DeviceSpec {
            bus: self.bus_raw(),
            parent: card.raw(),
            dev_type: &QUEUE_TYPE,
            name,
            kind: KIND_QUEUE,
            device_type: card.device_type(),
            apqn: q.qid(),
        };
        let mut sm = QueueSm::new(true, false);
        let _ = plan.apply(&mut sm);
        let state = DevState::Queue(QueueState {
            sm,
            mode,
            driver_override: None,
        });
        // Drivers may bind before this returns.
        match Dev::register(
            &spec,
            try_pin_init!(ApDev { state <- new_mutex!(state) }? Error),
        ) {
            Ok(dev) => {
                if insert_sorted(&mut table.queues, dev.clone()).is_err() {
                    dev.unregister();
                    return;
                }
                // Nudge a usable queue's state machine, whichever driver bound it.
                if let QueuePlan::Create { init_sm: true, .. } = plan {
                    let first = match &mut *dev.data().state.lock() {
                        DevState::Queue(s) => s.sm.init_state(),
                        DevState::Card(_) => SmAction::Wait(SmWait::None),
                    };
                    self.run_queue(&dev, first);
                }
            }
            Err(e) => pr_warn!(
                "queue {:02x}.{:04x}: registration failed: {:?}\n",
                q.apid,
                q.apqi,
                e
            ),
        }
    }

    fn apply_queue_plan(&self, dev: &DevRef, plan: QueuePlan) {
        let first = match &mut *dev.data().state.lock() {
            DevState::Queue(s) => plan.apply(&mut s.sm),
            DevState::Card(_) => return,
        };
        if let Some(config) = plan.config_uevent() {
            Self::config_uevent(dev, config);
        }
        self.run_queue(dev, first);
    }

    /// Continues the queue state machine of `dev` from `first` (an action one of its
    /// event-starting methods returned) and arms the poll if it must wait.
    fn run_queue(&self, dev: &Dev, first: SmAction) {
        if let SmAction::Wait(SmWait::None) = first {
            return;
        }
        let q = apqn_of(dev);
        let wait = {
            let mut st = dev.data().state.lock();
            let DevState::Queue(s) = &mut *st else { return };
            let mut fac = self.facility.lock();
            s.sm.drive(fac.get(), q, 0, Some(first), SmEvent::Poll)
        };
        self.arm_poll(wait);
    }

    fn arm_poll(&self, wait: SmWait) {
        let (thread, high) = {
            let c = self.config.lock();
            (c.poll_thread, c.poll_timeout)
        };
        let ns = match queue_sm::wait_plan(wait, false, thread, high, queue_sm::POLL_LOW_TIMEOUT_NS)
        {
            queue_sm::WaitPlan::Nothing => return,
            // There is no separate poll thread: the poll work runs at once instead.
            queue_sm::WaitPlan::WakePollThread => 0,
            queue_sm::WaitPlan::Timer(ns) => ns,
        };
        if !self.exiting.load(Ordering::Acquire) {
            ap_bus_ffi::schedule_poll(u32::try_from(ns / 1000).unwrap_or(u32::MAX));
        }
    }

    /// `ap_check_bindings_complete`.
    fn check_bindings_complete(&self) {
        let (total, bound) = self.count_bindings();
        let scans = self.scan_count.load(Ordering::Acquire);
        if let Some(n) = self.bindings.lock().check(scans, bound, total) {
            let mut a = [0u8; 96];
            let mut b = [0u8; 96];
            if let (Ok(x), Ok(y)) = (
                cstr_in(&mut a, scan::write_env_bindings_complete),
                cstr_in(&mut b, |w| scan::write_env_complete_count(w, n)),
            ) {
                let _ = self.root.change_uevent(&[x, y]);
            }
        }
    }

    fn count_bindings(&self) -> (u32, u32) {
        let table = self.scan.lock();
        let total = u32::try_from(table.queues.len()).unwrap_or(u32::MAX);
        let bound = table.queues.iter().filter(|q| q.is_bound()).count();
        (total, u32::try_from(bound).unwrap_or(u32::MAX))
    }

    // ---- masks and bindings

    /// `apmask`/`aqmask` writes (`apmask_store`).
    fn store_mask(&self, which: PermMask, input: &[u8]) -> Result {
        let mut attr = self.perms.lock();
        let overrides = attr.override_ctr > 0;
        let new =
            match owner::mask_store(&attr.perms, which, input, overrides).map_err(parse_err)? {
                MaskStore::Unchanged => return Ok(()),
                MaskStore::Changed { new, in_use } => {
                    if let Some((apm, aqm)) = in_use {
                        for d in self.drivers.lock().iter() {
                            if d.is_default() || !d.try_get_module() {
                                continue;
                            }
                            let busy = d.in_use(&apm, &aqm);
                            d.put_module();
                            if busy {
                                return Err(EBUSY);
                            }
                        }
                    }
                    new
                }
            };
        let old = attr.perms;
        match which {
            PermMask::Apmask => attr.perms.apm = new,
            PermMask::Aqmask => attr.perms.aqm = new,
        }
        attr.masks_in_use = owner::apmask_aqmask_in_use(&attr.perms);
        drop(attr);
        self.revise_bindings(&old);
        self.root_uevent(|w| text::write_mask_uevent(w, which, &new));
        Ok(())
    }

    /// How a queue's `driver_override` relates to driver `drv` (`device_match_driver_override`).
    fn override_match(dev: &Dev, drv: Option<DriverRef>) -> owner::OverrideMatch {
        match &*dev.data().state.lock() {
            DevState::Queue(QueueState {
                driver_override: Some(name),
                ..
            }) => match drv {
                Some(d) if d.name().to_bytes() == name.as_slice() => owner::OverrideMatch::Matches,
                _ => owner::OverrideMatch::Differs,
            },
            _ => owner::OverrideMatch::NotSet,
        }
    }

    /// Reprobes every queue whose owner class no longer matches (`ap_bus_revise_bindings`);
    /// `old` are the masks before the change.
    fn revise_bindings(&self, old: &Perms) {
        let queues: KVec<DevRef> = {
            let table = self.scan.lock();
            let mut v = KVec::new();
            for q in table.queues.iter() {
                if v.push(q.clone(), GFP_KERNEL).is_err() {
                    break;
                }
            }
            v
        };
        for q in queues.iter() {
            let drv = q.bound_driver();
            let bound_default = drv.map(|d| d.is_default());
            let ovr = Self::override_match(q, drv);
            let reprobe = owner::needs_reprobe_override(
                &self.perms.lock().perms,
                old,
                apqn_of(q),
                bound_default,
                ovr,
            );
            if reprobe && q.reprobe().is_err() {
                pr_warn!(
                    "reprobing queue {:02x}.{:04x} failed\n",
                    apqn_of(q).apid,
                    apqn_of(q).apqi
                );
            }
        }
    }

    // ---- attributes

    fn show_qci_mask(&self, buf: &mut ShowBuf<'_>, which: QciMask) -> core::fmt::Result {
        let qci = self.config.lock().qci;
        text::write_qci_mask_attr(buf, qci.as_ref(), which)
    }

    fn show_dev(&self, dev: &Dev, id: u32, buf: &mut ShowBuf<'_>) -> Result {
        let q = apqn_of(dev);
        if dev.kind() == KIND_CARD
            && (id == card_attr::REQUESTQ_COUNT || id == card_attr::PENDINGQ_COUNT)
        {
            // Sums over the card's queues: the scan mutex and the queues' locks come before
            // (and are of the same class as) this device's lock, so it is not held here.
            let sum = self.card_queue_sum(q.apid, id);
            return writeln!(buf, "{}", sum).map_err(|_| EINVAL);
        }
        let r = match &mut *dev.data().state.lock() {
            DevState::Card(c) => match id {
                card_attr::HWTYPE => writeln!(buf, "{}", dev.device_type()),
                card_attr::RAW_HWTYPE => writeln!(buf, "{}", c.raw_type),
                card_attr::DEPTH => writeln!(buf, "{}", u32::from(c.hw.qd()) + 1),
                card_attr::AP_FUNCTIONS => text::write_ap_functions(buf, c.hw.fac()),
                card_attr::REQUEST_COUNT => writeln!(buf, "{}", c.request_count),
                card_attr::MODALIAS => {
                    text::write_modalias(buf, u8::try_from(dev.device_type()).unwrap_or(0))
                }
                card_attr::CONFIG => writeln!(buf, "{}", u8::from(c.config)),
                card_attr::CHKSTOP => writeln!(buf, "{}", u8::from(c.chkstop)),
                card_attr::MAX_MSG_SIZE => writeln!(buf, "{}", c.hw.max_msg_size()),
                _ => return Err(EIO),
            },
            DevState::Queue(s) => match id {
                queue_attr::REQUEST_COUNT => queue_sm::write_request_count(buf, &s.sm),
                queue_attr::REQUESTQ_COUNT => queue_sm::write_requestq_count(buf, &s.sm),
                queue_attr::PENDINGQ_COUNT => queue_sm::write_pendingq_count(buf, &s.sm),
                queue_attr::RESET => queue_sm::write_reset(buf, s.sm.sm_state()),
                queue_attr::INTERRUPT => {
                    queue_sm::write_interrupt(buf, s.sm.sm_state(), || self.tapq_q(q, false).0)
                }
                queue_attr::CONFIG => writeln!(buf, "{}", u8::from(s.sm.config())),
                queue_attr::CHKSTOP => writeln!(buf, "{}", u8::from(s.sm.chkstop())),
                queue_attr::DRIVER_OVERRIDE => {
                    let name = s.driver_override.as_deref().unwrap_or(&[]);
                    buf.write_bytes(name);
                    buf.write_str("\n")
                }
                queue_attr::AP_FUNCTIONS => {
                    let (st, hw) = self.tapq_q(q, true);
                    let fac = queue_sm::queue_ap_functions(st, hw).map_err(|_| EIO)?;
                    text::write_ap_functions(buf, fac)
                }
                _ => return Err(EIO),
            },
        };
        r.map_err(|_| EINVAL)
    }

    fn card_queue_sum(&self, apid: u8, id: u32) -> i64 {
        let lo = u16::from(apid) << 8;
        let table = self.scan.lock();
        let mut sum = 0i64;
        for d in table.queues.iter().filter(|d| d.apqn() >> 8 == lo >> 8) {
            if let DevState::Queue(s) = &*d.data().state.lock() {
                let n = if id == card_attr::REQUESTQ_COUNT {
                    s.sm.requestq_count()
                } else {
                    s.sm.pendingq_count()
                };
                sum = sum.saturating_add(i64::from(n));
            }
        }
        sum
    }

    fn store_dev(&self, dev: &Dev, id: u32, input: &[u8]) -> Result {
        match id {
            card_attr::REQUEST_COUNT => {
                if let DevState::Card(c) = &mut *dev.data().state.lock() {
                    c.request_count = 0;
                }
                let apid = apqn_of(dev).apid;
                let table = self.scan.lock();
                for d in table.queues.iter().filter(|d| apqn_of(d).apid == apid) {
                    if let DevState::Queue(s) = &mut *d.data().state.lock() {
                        s.sm.reset_request_count();
                    }
                }
                Ok(())
            }
            card_attr::CONFIG => self.card_config_store(dev, input),
            queue_attr::REQUEST_COUNT => {
                if let DevState::Queue(s) = &mut *dev.data().state.lock() {
                    s.sm.reset_request_count();
                }
                Ok(())
            }
            queue_attr::DRIVER_OVERRIDE => self.driver_override_store(dev, input),
            queue_attr::RESET => {
                let first = match &mut *dev.data().state.lock() {
                    DevState::Queue(s) => s.sm.reset_store(),
                    DevState::Card(_) => return Err(EIO),
                };
                self.run_queue(dev, first);
                Ok(())
            }
            _ => Err(EIO),
        }
    }

    /// Queue `driver_override` writes (ap_queue.c of 7.3): nothing is reprobed.
    fn driver_override_store(&self, dev: &Dev, input: &[u8]) -> Result {
        let mut attr = self.perms.lock();
        let name = parse::driver_override_store(input, input.len(), attr.masks_in_use)
            .map_err(parse_err)?;
        let new = match name {
            Some(n) => {
                let mut v = KVec::new();
                v.extend_from_slice(n, GFP_KERNEL)?;
                Some(v)
            }
            None => None,
        };
        let mut st = dev.data().state.lock();
        let DevState::Queue(s) = &mut *st else {
            return Err(EIO);
        };
        let was = s.driver_override.is_some();
        let now = new.is_some();
        s.driver_override = new;
        attr.override_ctr = parse::driver_override_counter(attr.override_ctr, was, now);
        Ok(())
    }

    /// Card `config` writes: SCLP configure / deconfigure, then the flag and a CONFIG= uevent.
    fn card_config_store(&self, dev: &Dev, input: &[u8]) -> Result {
        let want = parse::parse_zero_one(input).map_err(parse_err)?;
        let apid = apqn_of(dev).apid;
        let mut st = dev.data().state.lock();
        let DevState::Card(c) = &mut *st else {
            return Err(EIO);
        };
        let r = if want && !c.config {
            self.facility.lock().get().sclp_configure(apid)
        } else if !want && c.config {
            self.facility.lock().get().sclp_deconfigure(apid)
        } else {
            Ok(())
        };
        r.map_err(|e| Error::from_errno(-e.errno()))?;
        c.config = want;
        drop(st);
        Self::config_uevent(dev, want);
        Ok(())
    }
}

impl BusOps for ApBus {
    type Device = ApDev;

    fn show(&self, id: u32, buf: &mut ShowBuf<'_>) -> Result {
        use core::fmt::Write;
        let r = match id {
            attr::AP_DOMAIN => writeln!(buf, "{}", self.config.lock().domain),
            attr::AP_ADAPTER_MASK => self.show_qci_mask(buf, QciMask::Apm),
            attr::AP_USAGE_DOMAIN_MASK => self.show_qci_mask(buf, QciMask::Aqm),
            attr::AP_CONTROL_DOMAIN_MASK => self.show_qci_mask(buf, QciMask::Adm),
            attr::AP_INTERRUPTS => buf.write_str("0\n"),
            attr::CONFIG_TIME => writeln!(buf, "{}", self.config.lock().config_time),
            attr::POLL_THREAD => writeln!(buf, "{}", u8::from(self.config.lock().poll_thread)),
            attr::POLL_TIMEOUT => writeln!(buf, "{}", self.config.lock().poll_timeout),
            attr::AP_MAX_ADAPTER_ID => writeln!(buf, "{}", self.limits.max_apid),
            attr::AP_MAX_DOMAIN_ID => writeln!(buf, "{}", self.limits.max_apqi),
            attr::APMASK => text::write_mask_attr(buf, &self.perms.lock().perms.apm),
            attr::AQMASK => text::write_mask_attr(buf, &self.perms.lock().perms.aqm),
            attr::SCANS => writeln!(buf, "{}", self.scan_count.load(Ordering::Acquire)),
            attr::BINDINGS => {
                let (total, bound) = self.count_bindings();
                text::write_bindings(buf, bound, total, self.scan_count.load(Ordering::Acquire))
            }
            attr::BINDINGS_COMPLETE_COUNT => {
                writeln!(buf, "{}", self.bindings.lock().count())
            }
            attr::FEATURES => text::write_features(buf, self.config.lock().qci.as_ref()),
            _ => return Err(EIO),
        };
        r.map_err(|_| EINVAL)
    }

    fn store(&self, id: u32, input: &[u8]) -> Result {
        match id {
            attr::AP_DOMAIN => {
                let aqm = self.perms.lock().perms.aqm;
                let d =
                    parse::parse_ap_domain(input, self.limits.max_apqi, &aqm).map_err(parse_err)?;
                self.config.lock().domain = i32::from(d);
                Ok(())
            }
            attr::CONFIG_TIME => {
                let t = parse::parse_config_time(input).map_err(parse_err)?;
                let t = u32::try_from(t).map_err(|_| EINVAL)?;
                self.config.lock().config_time = t;
                self.schedule_scan(t.saturating_mul(1000));
                Ok(())
            }
            attr::POLL_THREAD => {
                let on = parse::kstrtobool(input).map_err(parse_err)?;
                self.config.lock().poll_thread = on;
                Ok(())
            }
            attr::POLL_TIMEOUT => {
                let t = parse::parse_poll_timeout(input).map_err(parse_err)?;
                self.config.lock().poll_timeout = t;
                Ok(())
            }
            attr::APMASK => self.store_mask(PermMask::Apmask, input),
            attr::AQMASK => self.store_mask(PermMask::Aqmask, input),
            attr::SCANS => {
                self.force_rescan();
                Ok(())
            }
            _ => Err(EIO),
        }
    }

    fn dev_show(&self, dev: &Dev, id: u32, buf: &mut ShowBuf<'_>) -> Result {
        self.show_dev(dev, id, buf)
    }

    fn dev_store(&self, dev: &Dev, id: u32, input: &[u8]) -> Result {
        self.store_dev(dev, id, input)
    }

    fn match_device(&self, dev: &Dev, drv: DriverRef) -> bool {
        drv.matches(dev.kind(), dev.device_type())
    }

    fn probe(&self, dev: &Dev, d: DriverRef) -> Result {
        let q = apqn_of(dev);
        if dev.kind() == KIND_QUEUE {
            let ovr = Self::override_match(dev, Some(d));
            if !owner::probe_allowed(&self.perms.lock().perms, q, d.is_default(), ovr) {
                return Err(ENODEV);
            }
        } else if !d.is_default() {
            // Cards belong to the default drivers.
            return Err(ENODEV);
        }
        self.bindings.lock().rearm();
        if dev.kind() == KIND_QUEUE {
            insert_sorted(&mut self.bound.lock(), DeviceRef::from_device(dev))?;
        }
        if let Err(e) = d.probe(dev.header()) {
            self.unbind_queue(dev);
            return Err(e);
        }
        if dev.kind() == KIND_QUEUE && d.is_default() {
            // A default driver uses the bus's queue state machine (zcrypt calls
            // ap_queue_init_state() from its probe).
            let first = match &mut *dev.data().state.lock() {
                DevState::Queue(s) => s.sm.init_state(),
                DevState::Card(_) => SmAction::Wait(SmWait::None),
            };
            self.run_queue(dev, first);
        }
        Ok(())
    }

    fn remove(&self, dev: &Dev, d: DriverRef) {
        let q = apqn_of(dev);
        if let DevState::Queue(s) = &mut *dev.data().state.lock() {
            s.sm.prepare_remove();
        }
        d.remove(dev.header());
        if let DevState::Queue(s) = &mut *dev.data().state.lock() {
            let instr = s.sm.remove();
            let mut fac = self.facility.lock();
            let _ = queue_sm::issue_on(fac.get(), q, 0, instr);
        }
        self.unbind_queue(dev);
    }

    fn uevent(&self, dev: &Dev, env: &mut UeventEnv) -> Result {
        let mut b = [0u8; 96];
        match &*dev.data().state.lock() {
            DevState::Card(c) => {
                let t = u8::try_from(dev.device_type()).unwrap_or(0);
                env.add(cstr_in(&mut b, |w| scan::write_env_dev_type(w, t))?)?;
                env.add(cstr_in(&mut b, |w| scan::write_env_modalias(w, t))?)?;
                if let Some(m) = c.hw.mode() {
                    env.add(cstr_in(&mut b, |w| scan::write_env_mode(w, m))?)?;
                }
            }
            DevState::Queue(s) => {
                if let Some(m) = s.mode {
                    env.add(cstr_in(&mut b, |w| scan::write_env_mode(w, m))?)?;
                }
            }
        }
        Ok(())
    }
}

impl ApBus {
    fn unbind_queue(&self, dev: &Dev) {
        if dev.kind() == KIND_QUEUE {
            let mut b = self.bound.lock();
            if let Ok(i) = find(&b, dev.apqn()) {
                let _ = b.remove(i);
            }
        }
    }
}

impl ApBusApi for ApBus {
    fn register_driver(&self, drv: DriverRef, name: &'static CStr) -> Result {
        self.drivers.lock().push(drv, GFP_KERNEL)?;
        let r = drv.register(self.bus_raw(), name);
        if r.is_err() {
            self.forget_driver(drv);
        }
        self.check_bindings_complete();
        r
    }

    fn unregister_driver(&self, drv: DriverRef) {
        // Off the list first: no callback reaches the driver after this.
        self.forget_driver(drv);
        drv.unregister();
    }

    fn get_queue(&self, apqn: u16) -> Option<*mut abs::device::ApRsDevice> {
        let b = self.bound.lock();
        let i = find(&b, apqn).ok()?;
        Some(b[i].clone().into_raw())
    }

    fn attr_mutex(&self) -> &Mutex<Attr> {
        &self.perms
    }

    fn owned_by_default(&self, attr: &Attr, apid: u8, apqi: u8) -> bool {
        let q = Apqn { apid, apqi };
        attr.perms.owned_by_default(q, self.override_owner(q))
    }

    fn matrix_owned_by_default(&self, attr: &Attr, apm: &Mask, aqm: &Mask) -> bool {
        attr.perms
            .matrix_owned_by_default_counted(apm, aqm, attr.override_ctr, |q| {
                self.override_owner(q)
            })
    }

    fn qci(&self) -> Option<QciInfo> {
        self.config.lock().qci
    }

    fn force_rescan(&self) -> bool {
        if !scan::force_rescan_allowed(self.scan_count.load(Ordering::Acquire)) {
            return false;
        }
        self.scan_bus()
    }

    fn tapq(&self, apqn: u16, t: bool) -> (u32, u64) {
        let (st, hw) = self.tapq_q(Apqn::from_qid(apqn), t);
        (st.0, hw.0)
    }

    fn zapq(&self, apqn: u16, f: bool) -> u32 {
        self.facility.lock().get().zapq(Apqn::from_qid(apqn), f).0
    }

    fn zapq_many(&self, apqns: &[u16], f: bool, out: &mut [u32]) {
        let mut fac = self.facility.lock();
        for (&a, o) in apqns.iter().zip(out.iter_mut()) {
            *o = fac.get().zapq(Apqn::from_qid(a), f).0;
        }
    }

    fn tapq_many(&self, apqns: &[u16], t: bool, out: &mut [u32]) {
        let mut fac = self.facility.lock();
        for (&a, o) in apqns.iter().zip(out.iter_mut()) {
            *o = fac.get().tapq(Apqn::from_qid(a), t).0 .0;
        }
    }

    fn aqic(&self, apqn: u16, ctrl: u64, nib: u64) -> u32 {
        self.facility
            .lock()
            .get()
            .aqic(Apqn::from_qid(apqn), hw::AqicCtrl(ctrl), nib)
            .0
    }

    fn scan_work(&self) {
        self.scan_bus();
    }

    fn poll_work(&self) {
        let queues: KVec<DevRef> = {
            let b = self.bound.lock();
            let mut v = KVec::new();
            for q in b.iter() {
                if v.push(q.clone(), GFP_KERNEL).is_err() {
                    break;
                }
            }
            v
        };
        for q in queues.iter() {
            let wait = {
                let mut st = q.data().state.lock();
                let DevState::Queue(s) = &mut *st else {
                    continue;
                };
                if !s.sm.runs() {
                    continue;
                }
                let mut fac = self.facility.lock();
                s.sm.drive_loop(fac.get(), apqn_of(q), 0, SmEvent::Poll)
            };
            self.arm_poll(wait);
        }
    }
}

impl ApBus {
    /// For `ap_owned_by_def_drv`: if `q` is a bound queue with a `driver_override`, whether it
    /// is bound to a default driver.
    fn override_owner(&self, q: Apqn) -> Option<bool> {
        let dev = {
            let b = self.bound.lock();
            let i = find(&b, q.qid()).ok()?;
            b[i].clone()
        };
        let has_override = matches!(
            &*dev.data().state.lock(),
            DevState::Queue(QueueState {
                driver_override: Some(_),
                ..
            })
        );
        has_override.then(|| dev.bound_driver().is_some_and(|d| d.is_default()))
    }

    fn forget_driver(&self, drv: DriverRef) {
        let mut l = self.drivers.lock();
        if let Some(i) = l.iter().position(|d| d.same(&drv)) {
            let _ = l.remove(i);
        }
    }
}

crate::bus_attribute_table!(fn ap_bus_groups for ApBus {
    (c"ap_domain", 0o644, attr::AP_DOMAIN),
    (c"ap_control_domain_mask", 0o444, attr::AP_CONTROL_DOMAIN_MASK),
    (c"ap_usage_domain_mask", 0o444, attr::AP_USAGE_DOMAIN_MASK),
    (c"ap_adapter_mask", 0o444, attr::AP_ADAPTER_MASK),
    (c"config_time", 0o644, attr::CONFIG_TIME),
    (c"poll_thread", 0o644, attr::POLL_THREAD),
    (c"ap_interrupts", 0o444, attr::AP_INTERRUPTS),
    (c"poll_timeout", 0o644, attr::POLL_TIMEOUT),
    (c"ap_max_domain_id", 0o444, attr::AP_MAX_DOMAIN_ID),
    (c"ap_max_adapter_id", 0o444, attr::AP_MAX_ADAPTER_ID),
    (c"apmask", 0o644, attr::APMASK),
    (c"aqmask", 0o644, attr::AQMASK),
    (c"scans", 0o644, attr::SCANS),
    (c"bindings", 0o444, attr::BINDINGS),
    (c"bindings_complete_count", 0o444, attr::BINDINGS_COMPLETE_COUNT),
    (c"features", 0o444, attr::FEATURES),
});

/// The debugfs control file of the simulator: reading prints the simulated machine, writing
/// applies one command (see the model's `sim::parse_command`); a configuration change is
/// announced to the bus, which rescans before the write returns (as a CHSC AP configuration
/// change notification does on s390).
struct SimControl(Arc<Bus<ApBus>>);

impl debugfs::Writer for SimControl {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0.data().facility.lock() {
            Facility::Sim(s) => s.write_state(f),
            #[cfg(CONFIG_S390)]
            Facility::Hw(_) => writeln!(f, "not simulated"),
        }
    }
}

impl debugfs::Reader for SimControl {
    fn read_from_slice(&self, reader: &mut UserSliceReader) -> Result {
        let mut buf = [0u8; 256];
        let n = reader.len();
        let line = buf.get_mut(..n).ok_or(EINVAL)?;
        reader.read_slice(line)?;
        let cmd = sim::parse_command(line).map_err(parse_err)?;
        let bus = self.0.data();
        let changed = match &mut *bus.facility.lock() {
            Facility::Sim(s) => {
                s.apply(&cmd).map_err(|_| EINVAL)?;
                s.take_config_event()
            }
            #[cfg(CONFIG_S390)]
            Facility::Hw(_) => return Err(ENODEV),
        };
        if changed {
            bus.force_rescan();
        }
        Ok(())
    }
}

struct ApModule {
    // Removed first: the debugfs file holds a reference to the bus.
    sim_control: Option<Pin<KBox<debugfs::File<SimControl>>>>,
    _debugfs: debugfs::Dir,
    bus: Arc<Bus<ApBus>>,
}

impl kernel::Module for ApModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let bus = Arc::pin_init(
            Bus::new(c"ap", ap_bus_groups(), ApBus::new(module)?),
            GFP_KERNEL,
        )?;
        bus.register()?;
        let data = bus.data();
        data.bus_type
            .store(bus.as_raw().cast_mut(), Ordering::Release);
        // Uevents of a device without bus or class are filtered: the root device belongs to
        // the bus, as in C.
        data.root.set_bus(&bus);
        ap_bus_ffi::publish(bus.clone());

        let dir = debugfs::Dir::new(c"ap_sim");
        let control = KBox::pin_init(
            dir.read_write_file(c"control", SimControl(bus.clone())),
            GFP_KERNEL,
        )?;
        // The initial scan; it arms the periodic ones.
        data.scan_bus();
        Ok(ApModule {
            sim_control: Some(control),
            _debugfs: dir,
            bus,
        })
    }
}

impl Drop for ApModule {
    fn drop(&mut self) {
        let data = self.bus.data();
        // No new scans or polls from here on (sysfs writes may still come until the bus is
        // unregistered, debugfs ones until the file is gone).
        data.exiting.store(true, Ordering::Release);
        self.sim_control = None;
        ap_bus_ffi::cancel_works();
        // Every AP driver module depends on this one, so none is registered any more: the
        // devices go without unbinding anything.
        {
            let mut table = data.scan.lock();
            while let Some(q) = table.queues.pop() {
                q.unregister();
            }
            while let Some(c) = table.cards.pop() {
                c.unregister();
            }
        }
        ap_bus_ffi::cancel_works();
        ap_bus_ffi::withdraw();
    }
}

/// KUnit tests of the abstractions' helpers (run when the module loads).
#[kunit_tests(ap_rs_bus_abstractions)]
mod tests {
    use super::abs::bus::ShowBuf;
    use core::fmt::Write;

    #[test]
    fn show_buf_cuts_at_the_end_of_the_page() {
        let mut page = [0u8; 8];
        let mut b = ShowBuf::new(&mut page);
        assert!(write!(b, "0123").is_ok());
        assert!(write!(b, "456789").is_ok());
        assert_eq!(b.len(), 8);
        assert_eq!(&page, b"01234567");
    }

    #[test]
    fn show_buf_advance_is_bounded() {
        let mut page = [0u8; 4];
        let mut b = ShowBuf::new(&mut page);
        b.advance(3);
        b.advance(usize::MAX);
        assert_eq!(b.len(), 4);
        assert!(b.rest().is_empty());
    }
}
