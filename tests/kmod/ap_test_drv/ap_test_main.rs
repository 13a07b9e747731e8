// SPDX-License-Identifier: GPL-2.0

//! Test-only AP drivers for the VM tests (never for production).
//!
//! - `aptest_card` and `aptest_queue`: default drivers standing in for zcrypt's card and queue
//!   drivers, so that host-reserved cards and queues are really bound.
//! - `aptest_nondef` (with `nondef=1`): a non-default queue driver whose `in_use` answer is
//!   set through debugfs (`ap_test/in_use`: 0 or 1).
//!
//! The default drivers add an `online` attribute (0 or 1, as zcrypt's) to the devices they bind;
//! a write sends an `ONLINE=` uevent on the device (the zcrypt device state it would change is
//! not modelled).
//!
//! Every callback appends one line to `ap_test/events` (a write to it clears the log):
//! `probe <driver> <apqn>`, `remove <driver> <apqn>`, `in_use <driver> <apm> <aqm>`,
//! `config_changed <driver>`, `scan_complete <driver>`.

use core::sync::atomic::{AtomicBool, Ordering};
use kernel::{
    debugfs, fmt,
    prelude::*,
    sync::{Arc, Mutex},
    uaccess::UserSliceReader,
};

/// The shared abstractions of the AP modules.
#[path = "../../../drivers/s390/crypto/abstractions"]
pub mod abs {
    pub mod ap_driver;
    pub mod bus;
    pub mod device;
}

/// The model crates: `ap_bus` (masks and QCI layout) and the parts of `vfio_ap` the isolation
/// invariant needs.
#[path = "../../../ap_bus/src"]
pub mod model {
    #[path = "../../vfio_ap/src/ap_config.rs"]
    pub mod ap_config;
    #[path = "../../vfio_ap/src/errno.rs"]
    pub mod errno;
    pub mod hw;
    pub mod ids;
    #[path = "../../vfio_ap/src/invariant.rs"]
    pub mod invariant;
    pub mod mask;
    #[path = "../../vfio_ap/src/matrix.rs"]
    pub mod matrix;
    pub mod owner;
    pub mod parse;
    #[path = "../../vfio_ap/src/reset.rs"]
    pub mod reset;
    pub mod text;
    #[path = "../../vfio_ap/src/vfio_text.rs"]
    pub mod vfio_text;
}

use abs::{
    ap_driver::{ApDevice, ApDriver, Registration},
    bus::{AttributeGroup, ShowBuf},
    device::{KIND_CARD, KIND_QUEUE},
};
use model::{hw::QciInfo, ids::Apqn, mask::Mask};

module! {
    type: ApTestDrv,
    name: "ap_test_drv",
    authors: ["ap-rs developers"],
    description: "Test-only AP drivers for the ap-rs VM tests",
    license: "GPL",
    params: {
        nondef: bool {
            default: false,
            description: "Also register the non-default test driver aptest_nondef",
        },
    },
}

/// Device types 10..14 (CEX4..CEX8) and one newer raw-mapped type range, as zcrypt's tables.
const ALL_TYPES: u32 = 0x1f << 10;
/// The callback log is bounded; older lines are dropped.
const LOG_MAX: usize = 64 * 1024;

/// State shared by the drivers and the debugfs files.
#[pin_data]
struct TestState {
    #[pin]
    log: Mutex<KVec<u8>>,
    in_use: AtomicBool,
    /// Devices set offline through `online` (kind, APQN).
    #[pin]
    offline: Mutex<KVec<(u32, u16)>>,
    /// The report of the last `invariant` check.
    #[pin]
    invariant: Mutex<KVec<u8>>,
}

impl TestState {
    fn event(&self, args: fmt::Arguments<'_>) {
        let mut line = [0u8; 192];
        let n = {
            let mut w = Line {
                buf: &mut line,
                len: 0,
            };
            let _ = core::fmt::Write::write_fmt(&mut w, args);
            w.len
        };
        let mut log = self.log.lock();
        if log.len().saturating_add(n) > LOG_MAX {
            log.clear();
        }
        let _ = log.extend_from_slice(&line[..n], GFP_KERNEL);
    }
}

/// A fixed line buffer (cut when full).
struct Line<'a> {
    buf: &'a mut [u8; 192],
    len: usize,
}

impl core::fmt::Write for Line<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &b in s.as_bytes() {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
        Ok(())
    }
}

fn apqn(dev: &ApDevice) -> Apqn {
    Apqn::from_qid(dev.apqn())
}

struct Drv<const KIND: u32, const DEFAULT: bool> {
    name: &'static str,
    state: Arc<TestState>,
    /// The attributes added to bound devices.
    group: Option<&'static AttributeGroup>,
}

/// The id of the `online` attribute.
const ATTR_ONLINE: u32 = 0;

impl<const KIND: u32, const DEFAULT: bool> ApDriver for Drv<KIND, DEFAULT> {
    const DEFAULT: bool = DEFAULT;
    const KINDS: u32 = KIND;
    const TYPES: u32 = ALL_TYPES;

    fn probe(&self, dev: &ApDevice) -> Result {
        self.state
            .event(format_args!("probe {} {}\n", self.name, apqn(dev)));
        if let Some(g) = self.group {
            dev.add_group(g)?;
        }
        Ok(())
    }

    fn remove(&self, dev: &ApDevice) {
        if let Some(g) = self.group {
            dev.remove_group(g);
        }
        let key = (dev.kind(), dev.apqn());
        self.state.offline.lock().retain(|k| *k != key);
        self.state
            .event(format_args!("remove {} {}\n", self.name, apqn(dev)));
    }

    fn attr_show(&self, dev: &ApDevice, id: u32, buf: &mut ShowBuf<'_>) -> Result {
        if id != ATTR_ONLINE {
            return Err(EIO);
        }
        let key = (dev.kind(), dev.apqn());
        let online = !self.state.offline.lock().contains(&key);
        buf.write_bytes(if online { b"1\n" } else { b"0\n" });
        Ok(())
    }

    fn attr_store(&self, dev: &ApDevice, id: u32, input: &[u8]) -> Result {
        if id != ATTR_ONLINE {
            return Err(EIO);
        }
        let online = model::parse::parse_zero_one(input).map_err(|_| EINVAL)?;
        let key = (dev.kind(), dev.apqn());
        {
            let mut off = self.state.offline.lock();
            off.retain(|k| *k != key);
            if !online {
                off.push(key, GFP_KERNEL)?;
            }
        }
        let env: &CStr = if online { c"ONLINE=1" } else { c"ONLINE=0" };
        dev.change_uevent(&[env])
    }

    fn in_use(&self, apm: &Mask, aqm: &Mask) -> bool {
        self.state
            .event(format_args!("in_use {} {} {}\n", self.name, apm, aqm));
        self.state.in_use.load(Ordering::Acquire)
    }

    fn on_config_changed(&self, _new: &QciInfo, _old: &QciInfo) {
        self.state
            .event(format_args!("config_changed {}\n", self.name));
    }

    fn on_scan_complete(&self, _new: &QciInfo, _old: &QciInfo) {
        self.state
            .event(format_args!("scan_complete {}\n", self.name));
    }
}

type CardDrv = Drv<KIND_CARD, true>;
type QueueDrv = Drv<KIND_QUEUE, true>;
type NonDefDrv = Drv<KIND_QUEUE, false>;

crate::driver_attribute_group!(static CARD_ATTRS for CardDrv {
    (c"online", 0o644, ATTR_ONLINE),
});

crate::driver_attribute_group!(static QUEUE_ATTRS for QueueDrv {
    (c"online", 0o644, ATTR_ONLINE),
});

/// `ap_test/in_use`: what the non-default driver's `in_use` answers.
struct InUseCtl(Arc<TestState>);

impl debugfs::Writer for InUseCtl {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", u8::from(self.0.in_use.load(Ordering::Acquire)))
    }
}

impl debugfs::Reader for InUseCtl {
    fn read_from_slice(&self, reader: &mut UserSliceReader) -> Result {
        let mut b = [0u8; 8];
        let n = reader.len();
        let s = b.get_mut(..n).ok_or(EINVAL)?;
        reader.read_slice(s)?;
        let v = model::parse::kstrtobool(s).map_err(|_| EINVAL)?;
        self.0.in_use.store(v, Ordering::Release);
        Ok(())
    }
}

/// `ap_test/events`: the callback log; any write clears it.
struct EventsCtl(Arc<TestState>);

impl debugfs::Writer for EventsCtl {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let log = self.0.log.lock();
        f.write_str(core::str::from_utf8(&log).unwrap_or("<log not utf-8>\n"))
    }
}

impl debugfs::Reader for EventsCtl {
    fn read_from_slice(&self, _reader: &mut UserSliceReader) -> Result {
        self.0.log.lock().clear();
        Ok(())
    }
}

/// `ap_test/invariant`: the isolation invariant (`vfio_ap::invariant`) of a view of the system
/// written to the file in its text form (one `host` line, `queue` and `mdev` lines, as
/// `tests/vm/progs/apview` collects it from sysfs and debugfs); reading gives
/// `violations <n>` and the first violations, one per line.
struct InvariantCtl(Arc<TestState>);

/// At most this many violations are listed.
const MAX_LISTED: usize = 16;

impl debugfs::Writer for InvariantCtl {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0.invariant.lock();
        f.write_str(core::str::from_utf8(&r).unwrap_or("<report not utf-8>\n"))
    }
}

impl debugfs::Reader for InvariantCtl {
    fn read_from_slice(&self, reader: &mut UserSliceReader) -> Result {
        use core::fmt::Write as _;
        use model::invariant::{check, parse_view_line, HostView, ViewLine};
        let n = reader.len();
        if n > 1 << 20 {
            return Err(E2BIG);
        }
        let mut text = KVec::with_capacity(n, GFP_KERNEL)?;
        text.resize(n, 0, GFP_KERNEL)?;
        reader.read_slice(&mut text)?;
        let mut host: Option<HostView> = None;
        let mut queues = KVec::new();
        let mut mdevs = KVec::new();
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            match parse_view_line(line).map_err(|_| EINVAL)? {
                ViewLine::Host(h) => host = Some(h),
                ViewLine::Queue(q) => queues.push(q, GFP_KERNEL)?,
                ViewLine::Mdev(m) => mdevs.push(m, GFP_KERNEL)?,
            }
        }
        let host = host.ok_or(EINVAL)?;
        let mut report = KVec::new();
        let mut listed = 0;
        let mut line = [0u8; 160];
        let total = check(&host, &queues, &mdevs, |v| {
            if listed < MAX_LISTED {
                listed += 1;
                let mut w = model::text::BufWriter::new(&mut line);
                let _ = writeln!(w, "{v:?}");
                let len = w.len();
                let _ = report.extend_from_slice(&line[..len], GFP_KERNEL);
            }
        });
        let mut out = KVec::new();
        let mut head = [0u8; 64];
        let mut w = model::text::BufWriter::new(&mut head);
        let _ = writeln!(
            w,
            "violations {total} (queues {}, mdevs {})",
            queues.len(),
            mdevs.len()
        );
        let len = w.len();
        out.extend_from_slice(&head[..len], GFP_KERNEL)?;
        out.extend_from_slice(&report, GFP_KERNEL)?;
        *self.0.invariant.lock() = out;
        Ok(())
    }
}

struct ApTestDrv {
    // Drivers first: they are unregistered before the log goes.
    _nondef: Option<Pin<KBox<Registration<NonDefDrv>>>>,
    _queue: Pin<KBox<Registration<QueueDrv>>>,
    _card: Pin<KBox<Registration<CardDrv>>>,
    _in_use: Pin<KBox<debugfs::File<InUseCtl>>>,
    _events: Pin<KBox<debugfs::File<EventsCtl>>>,
    _invariant: Pin<KBox<debugfs::File<InvariantCtl>>>,
    _dir: debugfs::Dir,
}

impl kernel::Module for ApTestDrv {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let state = Arc::pin_init(
            pin_init!(TestState {
                log <- kernel::new_mutex!(KVec::new()),
                in_use: AtomicBool::new(false),
                offline <- kernel::new_mutex!(KVec::new()),
                invariant <- kernel::new_mutex!(KVec::new()),
            }),
            GFP_KERNEL,
        )?;
        let dir = debugfs::Dir::new(c"ap_test");
        let events = KBox::pin_init(
            dir.read_write_file(c"events", EventsCtl(state.clone())),
            GFP_KERNEL,
        )?;
        let in_use = KBox::pin_init(
            dir.read_write_file(c"in_use", InUseCtl(state.clone())),
            GFP_KERNEL,
        )?;
        let invariant = KBox::pin_init(
            dir.read_write_file(c"invariant", InvariantCtl(state.clone())),
            GFP_KERNEL,
        )?;
        let nondef = if module_parameters::nondef.value() {
            Some(KBox::pin_init(
                Registration::new(
                    c"aptest_nondef",
                    module,
                    Ok::<_, Error>(NonDefDrv {
                        name: "aptest_nondef",
                        state: state.clone(),
                        group: None,
                    }),
                ),
                GFP_KERNEL,
            )?)
        } else {
            None
        };
        let card = KBox::pin_init(
            Registration::new(
                c"aptest_card",
                module,
                Ok::<_, Error>(CardDrv {
                    name: "aptest_card",
                    state: state.clone(),
                    group: Some(&CARD_ATTRS),
                }),
            ),
            GFP_KERNEL,
        )?;
        let queue = KBox::pin_init(
            Registration::new(
                c"aptest_queue",
                module,
                Ok::<_, Error>(QueueDrv {
                    name: "aptest_queue",
                    state,
                    group: Some(&QUEUE_ATTRS),
                }),
            ),
            GFP_KERNEL,
        )?;
        Ok(ApTestDrv {
            _nondef: nondef,
            _queue: queue,
            _card: card,
            _in_use: in_use,
            _events: events,
            _invariant: invariant,
            _dir: dir,
        })
    }
}
