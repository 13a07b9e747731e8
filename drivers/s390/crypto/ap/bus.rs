// SPDX-License-Identifier: GPL-2.0

//! The bus (`ApBus`): its state and locks, the bus type's callbacks (match, probe, remove,
//! uevent) and the dispatch of device attributes to cards and queues.

use core::sync::atomic::{
    AtomicBool,
    AtomicPtr,
    AtomicU64,
    Ordering, //
};
use kernel::{
    new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    }, //
};

use crate::{
    abs::{
        ap_driver::DriverRef,
        attr_mutex::{
            AttrData,
            AttrLocked, //
        },
        bus::{
            Bus,
            BusOps,
            RootDevice,
            ShowBuf,
            UeventEnv, //
        },
        device::{
            DeviceRef,
            KIND_CARD,
            KIND_QUEUE, //
        },
        platform, //
    },
    bus_attrs,
    devices::{
        apqn_of,
        cstr_in,
        insert_sorted,
        ApDev,
        Dev,
        DevRef,
        DevState,
        DevTable, //
    },
    facility::Facility,
    model::{
        hw::{
            QciInfo,
            QueueStatus,
            TapqHwInfo, //
        },
        ids::{
            Apqn,
            IdLimits, //
        },
        owner::{
            self,
            Perms, //
        },
        parse::ParseError,
        queue_sm::{
            self,
            SmAction,
            SmWait, //
        },
        scan::{
            self,
            BindingsCompletion, //
        }, //
    },
    perms::Attr, //
};

/// The AP configuration and bus settings.
pub(crate) struct Config {
    /// The last QCI block; `None` without the QCI facility.
    pub(crate) qci: Option<QciInfo>,
    /// The default domain (`ap_domain`), -1 for none.
    pub(crate) domain: i32,
    /// Rescan period in seconds.
    pub(crate) config_time: u32,
    /// Poll interval in ns.
    pub(crate) poll_timeout: u64,
    /// `poll_thread` written true (and no interrupts).
    pub(crate) poll_thread: bool,
}

/// The bus state.
///
/// Lock order (outermost first):
/// `scan` (the C bus's ap_scan_bus_mutex and the device table) -> `perms` (ap_attr_mutex) ->
/// `drivers` -> `bound` (the ap_queues hash) -> a device's `state` -> `config` -> `facility`.
/// Driver callbacks (probe, remove, in_use, on_config_changed, on_scan_complete) take the
/// drivers' own locks after these; drivers must not call back into a scan under their locks.
#[pin_data]
pub(crate) struct ApBus {
    #[pin]
    pub(crate) scan: Mutex<DevTable>,
    #[pin]
    pub(crate) perms: AttrData<Attr>,
    #[pin]
    pub(crate) drivers: Mutex<KVec<DriverRef>>,
    #[pin]
    pub(crate) bound: Mutex<KVec<DevRef>>,
    #[pin]
    pub(crate) config: Mutex<Config>,
    #[pin]
    pub(crate) facility: Mutex<Facility>,
    /// Id limits from the initial QCI (fixed for the life of the module, as in C).
    pub(crate) limits: IdLimits,
    /// Number of scans run.
    pub(crate) scan_count: AtomicU64,
    /// The result of the last scan (what a forced rescan that waited for it returns).
    pub(crate) last_scan_changed: AtomicBool,
    /// The module is going away: no scan or poll is started or re-armed any more.
    pub(crate) exiting: AtomicBool,
    /// The "all APQNs bound" completion and its count.
    #[pin]
    pub(crate) bindings: Mutex<BindingsCompletion>,
    /// The registered `struct bus_type` (set once at module init).
    pub(crate) bus_type: AtomicPtr<kernel::bindings::bus_type>,
    /// `/sys/devices/ap`: registered after the bus, as in C ([`ApBus::register_root`]), and
    /// unregistered after it, with the rest of this state. Not before it, as C does: the root
    /// device's bus is set after its registration (so that its uevents carry `SUBSYSTEM=ap`),
    /// so it never went through `bus_add_device()`, and unregistering it while the bus is
    /// registered makes `bus_remove_device()` (Linux 7.3) put two references on the bus of
    /// which it took one: a refcount underflow. A leaf lock.
    #[pin]
    pub(crate) root: Mutex<Option<RootDevice>>,
}

pub(crate) fn parse_err(e: ParseError) -> Error {
    match e {
        ParseError::Inval => EINVAL,
        ParseError::Range => ERANGE,
    }
}

impl ApBus {
    /// The bus `ap`, registered (`/sys/bus/ap` with its attributes); no root device yet.
    pub(crate) fn register() -> Result<Arc<Bus<ApBus>>> {
        let bus = Arc::pin_init(
            Bus::new(c"ap", bus_attrs::ap_bus_groups(), ApBus::new()?),
            GFP_KERNEL,
        )?;
        bus.register()?;
        bus.data()
            .bus_type
            .store(bus.as_raw().cast_mut(), Ordering::Release);
        Ok(bus)
    }

    /// Registers `/sys/devices/ap` as the bus's root device (unregistered with the bus's
    /// state, after the bus).
    pub(crate) fn register_root(bus: &Arc<Bus<ApBus>>, module: &'static ThisModule) -> Result {
        let root = RootDevice::register(c"ap", module)?;
        // Uevents of a device without bus or class are filtered: the root device belongs to
        // the bus, as in C.
        root.set_bus(bus);
        *bus.data().root.lock() = Some(root);
        Ok(())
    }

    /// The root device, for a new card's parent (null once it is gone).
    pub(crate) fn root_raw(&self) -> *mut kernel::bindings::device {
        self.root
            .lock()
            .as_ref()
            .map_or(core::ptr::null_mut(), |r| r.as_raw())
    }

    /// A CHANGE uevent of the root device.
    pub(crate) fn root_change_uevent(&self, env: &[&CStr]) {
        if let Some(r) = &*self.root.lock() {
            let _ = r.change_uevent(env);
        }
    }

    fn new() -> Result<impl PinInit<Self, Error>> {
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
            perms: AttrData::new(Attr { perms, override_ctr: 0, masks_in_use: false }),
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
            root <- new_mutex!(None),
        }? Error))
    }

    /// The permission masks as they are now (under the attribute mutex, for a moment).
    pub(crate) fn perms_now(&self) -> Perms {
        let held = AttrLocked::lock();
        self.perms.get(&held).perms
    }

    pub(crate) fn bus_raw(&self) -> *const kernel::bindings::bus_type {
        self.bus_type.load(Ordering::Acquire)
    }

    pub(crate) fn tapq_q(&self, q: Apqn, t: bool) -> (QueueStatus, TapqHwInfo) {
        self.facility.lock().get().tapq(q, t)
    }

    pub(crate) fn root_uevent(
        &self,
        f: impl FnOnce(&mut dyn core::fmt::Write) -> core::fmt::Result,
    ) {
        let mut b = [0u8; 96];
        if let Ok(s) = cstr_in(&mut b, f) {
            self.root_change_uevent(&[s]);
        }
    }

    pub(crate) fn config_uevent(dev: &Dev, config: bool) {
        let mut b = [0u8; 96];
        if let Ok(s) = cstr_in(&mut b, |w| scan::write_env_config(w, config)) {
            let _ = dev.change_uevent(&[s]);
        }
    }

    /// A card or queue attribute (the ids of both are distinct).
    pub(crate) fn show_dev(&self, dev: &Dev, id: u32, buf: &mut ShowBuf<'_>) -> Result {
        if dev.kind() == KIND_CARD {
            self.show_card(dev, id, buf)
        } else {
            self.show_queue(dev, id, buf)
        }
    }

    pub(crate) fn store_dev(&self, dev: &Dev, id: u32, input: &[u8]) -> Result {
        if dev.kind() == KIND_CARD {
            self.store_card(dev, id, input)
        } else {
            self.store_queue(dev, id, input)
        }
    }
}

impl BusOps for ApBus {
    type Device = ApDev;

    fn show(&self, id: u32, buf: &mut ShowBuf<'_>) -> Result {
        self.show_bus_attr(id, buf)
    }

    fn store(&self, id: u32, input: &[u8]) -> Result {
        self.store_bus_attr(id, input)
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
            if !owner::probe_allowed(&self.perms_now(), q, d.is_default(), ovr) {
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
        let first = match &mut *dev.data().state.lock() {
            DevState::Queue(s) => {
                s.bound = Some(d);
                s.publish_binding(dev);
                // A default driver uses the bus's queue state machine (zcrypt calls
                // ap_queue_init_state() from its probe).
                if d.is_default() {
                    s.sm.init_state()
                } else {
                    SmAction::Wait(SmWait::None)
                }
            }
            DevState::Card(_) => SmAction::Wait(SmWait::None),
        };
        self.run_queue(dev, first);
        Ok(())
    }

    fn remove(&self, dev: &Dev, d: DriverRef) {
        let q = apqn_of(dev);
        if let DevState::Queue(s) = &mut *dev.data().state.lock() {
            s.sm.prepare_remove();
        }
        d.remove(dev.header());
        if let DevState::Queue(s) = &mut *dev.data().state.lock() {
            s.bound = None;
            s.publish_binding(dev);
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
