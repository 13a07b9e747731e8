// SPDX-License-Identifier: GPL-2.0

//! The s390 AP bus (`ap.ko`), in Rust.
//!
//! Registers bus `ap` and the root device `/sys/devices/ap`, and serves the bus attributes that
//! describe the AP configuration and the host's permission masks. Every decision (mask syntax,
//! ownership, formats) lives in the `ap_bus` model crate, compiled into this module from
//! `ap_bus/src`; this file gathers state under its locks and applies the model's answers.
//!
//! Where there are no AP instructions (any architecture but s390, or an s390 guest without the
//! AP facility), the bus runs on the simulated AP facility of the model crate, configured by the
//! `sim=` module parameter and controlled at run time through debugfs (`ap_sim/control`). On s390
//! with AP instructions the simulator is used only when `sim=` is given.

use kernel::{debugfs, fmt, prelude::*, sync::Arc, sync::Mutex, uaccess::UserSliceReader};

/// Safe abstractions over the C driver core and the platform (shared with vfio_ap.ko).
#[path = "../abstractions"]
pub mod abs {
    pub mod bus;
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
    pub mod sim;
    pub mod text;
}

use abs::{
    bus::{Bus, BusOps, RootDevice, ShowBuf},
    platform::{self, KtimeClock},
};
use model::{
    facility::ApFacility,
    hw::{QciInfo, QciMask},
    ids::IdLimits,
    owner::{self, MaskStore, PermMask, Perms},
    parse::ParseError,
    sim::{self, Sim},
    text,
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
        let spec = spec.unwrap_or(b"");
        let spec = match spec {
            b"default" => b"".as_slice(),
            s => s,
        };
        let machine = sim::parse_machine_spec(spec).inspect_err(|_| {
            pr_err!("invalid sim= machine description\n");
        });
        let machine = machine.map_err(|_| EINVAL)?;
        let mut s = platform::new_sim()?;
        s.configure(&machine);
        pr_info!("running on the simulated AP facility\n");
        Ok(Facility::Sim(s))
    }
}

/// The AP configuration as last read from the facility.
struct Config {
    /// The last QCI block; `None` without the QCI facility.
    qci: Option<QciInfo>,
}

/// Bus attribute ids.
mod attr {
    pub(crate) const AP_ADAPTER_MASK: u32 = 0;
    pub(crate) const AP_USAGE_DOMAIN_MASK: u32 = 1;
    pub(crate) const AP_CONTROL_DOMAIN_MASK: u32 = 2;
    pub(crate) const AP_MAX_ADAPTER_ID: u32 = 3;
    pub(crate) const AP_MAX_DOMAIN_ID: u32 = 4;
    pub(crate) const APMASK: u32 = 5;
    pub(crate) const AQMASK: u32 = 6;
}

/// The bus state.
///
/// Lock order (outermost first): `perms` (the C bus's `ap_attr_mutex`) -> `config` -> `facility`.
#[pin_data]
struct ApBus {
    /// The host's permission masks: APQNs with apmask[apid] && aqmask[apqi] belong to the
    /// default (host) drivers.
    #[pin]
    perms: Mutex<Perms>,
    /// The AP configuration last read from the facility.
    #[pin]
    config: Mutex<Config>,
    /// The AP facility (innermost lock).
    #[pin]
    facility: Mutex<Facility>,
    /// Id limits from the initial QCI (fixed for the life of the module, as in C).
    limits: IdLimits,
    /// `/sys/devices/ap`.
    root: RootDevice,
}

fn parse_err(e: ParseError) -> Error {
    match e {
        ParseError::Inval => EINVAL,
        ParseError::Range => ERANGE,
    }
}

impl ApBus {
    fn new(module: &'static ThisModule) -> Result<impl PinInit<Self, Error>> {
        let mut facility = Facility::select()?;
        let qci = facility.get().qci();
        if qci.is_none() {
            pr_info!("QCI not supported\n");
        }
        let limits = IdLimits::bus_from_qci(qci.as_ref());
        Ok(try_pin_init!(Self {
            perms <- kernel::new_mutex!(Perms::from_params(
                platform::param_apmask(),
                platform::param_aqmask(),
            )),
            config <- kernel::new_mutex!(Config { qci }),
            facility <- kernel::new_mutex!(facility),
            limits,
            root: RootDevice::register(c"ap", module)?,
        }? Error))
    }

    /// Reads the configuration from the facility (QCI), as at module init and on every
    /// configuration change.
    fn refresh_config(&self) {
        let qci = self.facility.lock().get().qci();
        self.config.lock().qci = qci;
    }

    fn show_qci_mask(&self, buf: &mut ShowBuf<'_>, which: QciMask) -> Result {
        let cfg = self.config.lock();
        text::write_qci_mask_attr(buf, cfg.qci.as_ref(), which).map_err(|_| EINVAL)
    }

    /// `apmask`/`aqmask` writes: parse, and on a change commit and announce it.
    fn store_mask(&self, which: PermMask, input: &[u8]) -> Result {
        let mut perms = self.perms.lock();
        let new = match owner::mask_store(&perms, which, input, false).map_err(parse_err)? {
            MaskStore::Unchanged => return Ok(()),
            // No driver can register yet, so there is nobody to ask `in_use`.
            MaskStore::Changed { new, in_use: _ } => new,
        };
        match which {
            PermMask::Apmask => perms.apm = new,
            PermMask::Aqmask => perms.aqm = new,
        }
        drop(perms);
        // `APMASK=0x<64 hex>\n`: 73 bytes and the NUL.
        let mut env = [0u8; 80];
        let mut w = text::BufWriter::new(&mut env[..79]);
        text::write_mask_uevent(&mut w, which, &new).map_err(|_| EINVAL)?;
        let n = w.len();
        let env = CStr::from_bytes_with_nul(&env[..=n]).map_err(|_| EINVAL)?;
        // A lost uevent does not undo the committed mask, as in C.
        let _ = self.root.change_uevent(&[env]);
        Ok(())
    }
}

impl BusOps for ApBus {
    fn show(&self, id: u32, buf: &mut ShowBuf<'_>) -> Result {
        use core::fmt::Write;
        let r = match id {
            attr::AP_ADAPTER_MASK => return self.show_qci_mask(buf, QciMask::Apm),
            attr::AP_USAGE_DOMAIN_MASK => return self.show_qci_mask(buf, QciMask::Aqm),
            attr::AP_CONTROL_DOMAIN_MASK => return self.show_qci_mask(buf, QciMask::Adm),
            attr::AP_MAX_ADAPTER_ID => writeln!(buf, "{}", self.limits.max_apid),
            attr::AP_MAX_DOMAIN_ID => writeln!(buf, "{}", self.limits.max_apqi),
            attr::APMASK => text::write_mask_attr(buf, &self.perms.lock().apm),
            attr::AQMASK => text::write_mask_attr(buf, &self.perms.lock().aqm),
            _ => return Err(EIO),
        };
        r.map_err(|_| EINVAL)
    }

    fn store(&self, id: u32, input: &[u8]) -> Result {
        match id {
            attr::APMASK => self.store_mask(PermMask::Apmask, input),
            attr::AQMASK => self.store_mask(PermMask::Aqmask, input),
            _ => Err(EIO),
        }
    }
}

crate::bus_attribute_table!(fn ap_bus_groups for ApBus {
    (c"ap_adapter_mask", 0o444, attr::AP_ADAPTER_MASK),
    (c"ap_usage_domain_mask", 0o444, attr::AP_USAGE_DOMAIN_MASK),
    (c"ap_control_domain_mask", 0o444, attr::AP_CONTROL_DOMAIN_MASK),
    (c"ap_max_adapter_id", 0o444, attr::AP_MAX_ADAPTER_ID),
    (c"ap_max_domain_id", 0o444, attr::AP_MAX_DOMAIN_ID),
    (c"apmask", 0o644, attr::APMASK),
    (c"aqmask", 0o644, attr::AQMASK),
});

/// The debugfs control file of the simulator: reading prints the simulated machine, writing
/// applies one command (see the model's `sim::parse_command`).
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
            bus.refresh_config();
        }
        Ok(())
    }
}

struct ApModule {
    // Dropped first: the debugfs file holds a reference to the bus.
    _sim_control: Pin<KBox<debugfs::File<SimControl>>>,
    _debugfs: debugfs::Dir,
    _bus: Arc<Bus<ApBus>>,
}

impl kernel::Module for ApModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let bus = Arc::pin_init(
            Bus::new(c"ap", ap_bus_groups(), ApBus::new(module)?),
            GFP_KERNEL,
        )?;
        bus.register()?;
        // Uevents of a device without bus or class are filtered: the root device belongs to
        // the bus, as in C.
        bus.data().root.set_bus(&bus);

        let dir = debugfs::Dir::new(c"ap_sim");
        let control = KBox::pin_init(
            dir.read_write_file(c"control", SimControl(bus.clone())),
            GFP_KERNEL,
        )?;
        Ok(ApModule {
            _sim_control: control,
            _debugfs: dir,
            _bus: bus,
        })
    }
}
