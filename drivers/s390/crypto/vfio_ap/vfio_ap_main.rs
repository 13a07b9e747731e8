// SPDX-License-Identifier: GPL-2.0

//! The s390 vfio_ap mediated device driver (`vfio_ap.ko`), in Rust.
//!
//! Creates `/sys/devices/vfio_ap/matrix` with the mdev type `vfio_ap-passthrough`, keeps the
//! assigned matrix and the shadow APCB of every mdev, answers the AP bus's `in_use` query and
//! binds the queue devices the host gives up (a non-default AP queue driver).
//!
//! The decisions are in the `vfio_ap` model crate (and the `ap_bus` one for masks, ids and the
//! QCI layout), compiled into this module; the C glue `vfio_ap_glue.c` makes the kernel objects
//! the kernel crate has no abstraction for. This file holds the state under its locks and applies
//! the model's answers.
//!
//! Lock order (as the C driver): `ap.ko`'s attribute mutex ([`AttrGuard`]) -> `guests`
//! ([`MatrixDev::guests`]) -> `mdevs` ([`MatrixDev::mdevs`]). The AP bus calls `in_use` with its
//! attribute mutex held and probe/remove without it.

use kernel::{
    new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
};

/// Safe abstractions over the C driver core, the AP bus interface and the glue.
#[path = "../abstractions"]
pub mod abs {
    pub mod ap_driver;
    pub mod ap_services;
    pub mod bus;
    pub mod device;
    pub mod mdev;
}

/// The model crates: `ap_bus` (masks, ids, QCI, parsers) and `vfio_ap`, in one module as their
/// files refer to each other through `super::`.
#[path = "../../../../ap_bus/src"]
pub mod model {
    #[path = "../../vfio_ap/src/ap_config.rs"]
    pub mod ap_config;
    #[path = "../../vfio_ap/src/errno.rs"]
    pub mod errno;
    pub mod hw;
    pub mod ids;
    pub mod mask;
    #[path = "../../vfio_ap/src/matrix.rs"]
    pub mod matrix;
    pub mod owner;
    pub mod parse;
    #[path = "../../vfio_ap/src/reset.rs"]
    pub mod reset;
    #[path = "../../vfio_ap/src/shadow.rs"]
    pub mod shadow;
    pub mod text;
    #[path = "../../vfio_ap/src/vfio_text.rs"]
    pub mod vfio_text;
}

use abs::{
    ap_driver::{ApDevice, ApDriver, Registration},
    ap_services::{self, AttrGuard},
    bus::ShowBuf,
    device::KIND_QUEUE,
    mdev::{self, GlueMdev, GlueRegistration, KvmRef, Level, MatrixDriver},
};
use model::{
    hw::{QciInfo, QueueStatus, TapqHwInfo},
    ids::Apqn,
    mask::Mask,
    matrix::{self, ApMasks, Matrix, Resource, StoreError},
    shadow,
    text::BufWriter,
    vfio_text,
};

module! {
    type: VfioApModule,
    name: "vfio_ap",
    authors: ["ap-rs developers"],
    description: "s390 VFIO AP mediated device driver (Rust)",
    license: "GPL",
}

/// The length of an mdev's name (its UUID).
const NAME_LEN: usize = 36;

/// One mdev (`struct ap_matrix_mdev`).
struct MdevRec {
    /// The id the glue names it by.
    id: u32,
    /// Its device name, the UUID.
    name: [u8; NAME_LEN],
    /// The glue's object (logging, eventfds).
    glue: GlueMdev,
    /// The assigned matrix (written by userspace).
    matrix: Matrix,
    /// The shadow APCB: what the guest gets.
    shadow: Matrix,
    /// Resources added to the host configuration and waiting for the scan to complete.
    pending: ApMasks,
}

impl MdevRec {
    fn name(&self) -> &str {
        core::str::from_utf8(&self.name).unwrap_or("?")
    }
}

/// A queue device bound to vfio_ap (`struct vfio_ap_queue`).
struct QueueRec {
    apqn: Apqn,
    /// The mdev it is linked to (in that mdev's `qtable`).
    mdev: Option<u32>,
    /// The status of its last reset (0 for a new queue: passable).
    reset_status: QueueStatus,
}

/// What `mdevs_lock` protects.
struct Mdevs {
    /// The host configuration vfio_ap works with (`matrix_dev->info`); all zero without QCI.
    info: QciInfo,
    /// The mdevs in creation order (the C `mdev_list` is newest first: iterate in reverse).
    list: KVec<MdevRec>,
    /// The queues bound to vfio_ap.
    queues: KVec<QueueRec>,
    /// The next mdev id.
    next_id: u32,
}

impl Mdevs {
    fn index_of(&self, id: u32) -> Option<usize> {
        self.list.iter().position(|m| m.id == id)
    }

    /// `(id, assigned matrix)` of every mdev in the C list order, optionally without one.
    fn others(&self, except: Option<u32>) -> impl Iterator<Item = (u32, &Matrix)> {
        self.list
            .iter()
            .rev()
            .filter(move |m| Some(m.id) != except)
            .map(|m| (m.id, &m.matrix))
    }

    fn rec(&self, id: u32) -> Option<&MdevRec> {
        self.list.iter().find(|m| m.id == id)
    }

    /// Links the queues of `apm` x `aqm` that are bound to vfio_ap to mdev `id`.
    fn link(&mut self, id: u32, apm: &Mask, aqm: &Mask) {
        for q in self.queues.iter_mut() {
            if apm.test(q.apqn.apid) && aqm.test(q.apqn.apqi) {
                q.mdev = Some(id);
            }
        }
    }

    /// Unlinks the queues of `apm` x `aqm` linked to mdev `id`.
    fn unlink(&mut self, id: u32, apm: &Mask, aqm: &Mask) {
        for q in self.queues.iter_mut() {
            if q.mdev == Some(id) && apm.test(q.apqn.apid) && aqm.test(q.apqn.apqi) {
                q.mdev = None;
            }
        }
    }

    /// Whether APQN `a` of mdev `id` may pass into its guest (linked, passable reset status).
    fn passable(queues: &[QueueRec], id: u32, a: Apqn) -> bool {
        queues
            .iter()
            .any(|q| q.apqn == a && q.mdev == Some(id) && shadow::passable_status(q.reset_status))
    }

    /// Filters mdev `i`'s shadow from its assigned matrix (`filter_matrix`, and `filter_cdoms`
    /// with `cdoms`); installs it and returns whether it changed.
    fn filter(&mut self, i: usize, cdoms: bool) -> bool {
        let info = self.info;
        let queues = &self.queues;
        let Some(m) = self.list.get_mut(i) else {
            return false;
        };
        let id = m.id;
        let f = if cdoms {
            shadow::refilter(&m.matrix, &m.shadow, &info, |a| {
                Self::passable(queues, id, a)
            })
        } else {
            shadow::filter_matrix(&m.matrix, &m.shadow, &info, |a| {
                Self::passable(queues, id, a)
            })
        };
        m.shadow = f.shadow;
        // The queues of `f.apm_filtered` are reset here once resets exist (see the note in
        // Documentation/design.rst).
        f.changed
    }

    /// Applies an unplug plan to mdev `i`: unlinks its queues and installs the new shadow.
    fn unplug(&mut self, i: usize, u: &shadow::Unplug) {
        let Some(m) = self.list.get_mut(i) else {
            return;
        };
        m.shadow = u.shadow;
        let id = m.id;
        self.unlink(id, &u.unlink_apm, &u.unlink_aqm);
    }
}

/// The matrix device's state (`struct ap_matrix_dev`).
#[pin_data]
struct MatrixDev {
    /// `guests_lock`: attaching and detaching guests (taken before `mdevs`).
    #[pin]
    guests: Mutex<()>,
    /// `mdevs_lock`: the mdevs, their matrices and the queues.
    #[pin]
    mdevs: Mutex<Mdevs>,
}

/// A log line built with `write!`.
struct Msg {
    buf: [u8; 160],
    len: usize,
}

impl Msg {
    fn new() -> Msg {
        Msg {
            buf: [0; 160],
            len: 0,
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl core::fmt::Write for Msg {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let mut w = BufWriter::new(&mut self.buf[self.len..]);
        let r = w.write_str(s);
        self.len += w.len();
        r
    }
}

fn store_err(e: &StoreError<u32>) -> Error {
    Error::from_errno(-e.errno())
}

impl MatrixDev {
    /// Logs, on mdev `writer`, the sharing conflict of an assign with mdev `o.other`.
    fn log_sharing(mdevs: &Mdevs, writer: u32, o: &matrix::Overlap<u32>) {
        let (Some(w), Some(other)) = (mdevs.rec(writer), mdevs.rec(o.other)) else {
            return;
        };
        for q in o.apqns() {
            let mut msg = Msg::new();
            let _ = vfio_text::write_sharing_msg(&mut msg, q, other.name());
            w.glue.log(Level::Warn, msg.bytes());
        }
    }

    /// `assign_adapter`, `assign_domain`, `assign_control_domain`.
    fn assign(&self, id: u32, r: Resource, input: &[u8]) -> Result {
        // Lock order: the bus attribute mutex, guests, mdevs.
        let attr = (r != Resource::ControlDomain).then(AttrGuard::lock);
        let _guests = self.guests.lock();
        let mut mdevs = self.mdevs.lock();
        let i = mdevs.index_of(id).ok_or(ENODEV)?;
        let cur = mdevs.list[i].matrix;
        let res = matrix::assign(
            &cur,
            r,
            input,
            |apm, aqm| {
                attr.as_ref()
                    .is_some_and(|g| g.matrix_owned_by_default(apm, aqm))
            },
            mdevs.others(Some(id)),
        );
        let c = match res {
            Ok(Some(c)) => c,
            Ok(None) => return Ok(()),
            Err(e) => {
                if let StoreError::InUse(o) = &e {
                    Self::log_sharing(&mdevs, id, o);
                }
                return Err(store_err(&e));
            }
        };
        mdevs.list[i].matrix = c.matrix;
        match r {
            Resource::ControlDomain => {
                let info = mdevs.info;
                let m = &mut mdevs.list[i];
                let (s, _changed) = shadow::filter_cdoms(&m.matrix, &m.shadow, &info);
                m.shadow = s;
            }
            _ => {
                let one = Mask::from_ids(&[c.id]);
                let (apm, aqm) = match r {
                    Resource::Adapter => (one, c.matrix.aqm),
                    _ => (c.matrix.apm, one),
                };
                mdevs.link(id, &apm, &aqm);
                mdevs.filter(i, false);
            }
        }
        Ok(())
    }

    /// `unassign_adapter`, `unassign_domain`, `unassign_control_domain`, then the re-filter
    /// (the project's fix of the C driver, see the `shadow` model).
    fn unassign(&self, id: u32, r: Resource, input: &[u8]) -> Result {
        let _guests = self.guests.lock();
        let mut mdevs = self.mdevs.lock();
        let i = mdevs.index_of(id).ok_or(ENODEV)?;
        let cur = mdevs.list[i].matrix;
        let c = match matrix::unassign::<u32>(&cur, r, input) {
            Ok(Some(c)) => c,
            Ok(None) => return Ok(()),
            Err(e) => return Err(store_err(&e)),
        };
        mdevs.list[i].matrix = c.matrix;
        let sh = mdevs.list[i].shadow;
        let one = Mask::from_ids(&[c.id]);
        match r {
            Resource::Adapter => {
                let u = shadow::hot_unplug_adapters(&c.matrix.aqm, &sh, &one);
                mdevs.unplug(i, &u);
            }
            Resource::Domain => {
                let u = shadow::hot_unplug_domains(&c.matrix.apm, &sh, &one);
                mdevs.unplug(i, &u);
            }
            Resource::ControlDomain => {
                let (s, _) = shadow::unassign_control_domain(&sh, c.id);
                mdevs.list[i].shadow = s;
            }
        }
        mdevs.filter(i, true);
        Ok(())
    }

    /// The `ap_config` write: all or nothing.
    fn ap_config(&self, id: u32, input: &[u8]) -> Result {
        let attr = AttrGuard::lock();
        let _guests = self.guests.lock();
        let mut mdevs = self.mdevs.lock();
        let i = mdevs.index_of(id).ok_or(ENODEV)?;
        let cur = mdevs.list[i].matrix;
        let c = match matrix::ap_config_store(
            &cur,
            input,
            |apm, aqm| attr.matrix_owned_by_default(apm, aqm),
            mdevs.others(Some(id)),
        ) {
            Ok(c) => c,
            Err(e) => {
                if let StoreError::InUse(o) = &e {
                    Self::log_sharing(&mdevs, id, o);
                }
                return Err(store_err(&e));
            }
        };
        // With the old matrix installed: unplug the removed adapters, then domains.
        let sh = mdevs.list[i].shadow;
        let u = shadow::hot_unplug_adapters(&cur.aqm, &sh, &c.removed.apm);
        mdevs.unplug(i, &u);
        let sh = mdevs.list[i].shadow;
        let u = shadow::hot_unplug_domains(&cur.apm, &sh, &c.removed.aqm);
        mdevs.unplug(i, &u);
        mdevs.list[i].matrix = c.new;
        for (apm, aqm) in c.link_sets() {
            mdevs.link(id, &apm, &aqm);
        }
        mdevs.filter(i, true);
        Ok(())
    }
}

impl MatrixDriver for MatrixDev {
    fn matrix_show(&self, attr: u32, buf: &mut ShowBuf<'_>) -> Result {
        match attr {
            mdev::ATTR_FEATURES => vfio_text::write_features(buf).map_err(|_| EIO),
            _ => Err(EIO),
        }
    }

    fn mdev_create(&self, glue: GlueMdev, name: &[u8]) -> Result<u32> {
        let mut n = [0u8; NAME_LEN];
        if name.len() != NAME_LEN {
            return Err(EINVAL);
        }
        n.copy_from_slice(name);
        let _guests = self.guests.lock();
        let mut mdevs = self.mdevs.lock();
        let id = mdevs.next_id;
        let info = mdevs.info;
        let m = Matrix::new(&info);
        mdevs.list.push(
            MdevRec {
                id,
                name: n,
                glue,
                matrix: m,
                shadow: m,
                pending: ApMasks::EMPTY,
            },
            GFP_KERNEL,
        )?;
        mdevs.next_id = id.wrapping_add(1);
        Ok(id)
    }

    fn mdev_destroy(&self, id: u32) {
        let _guests = self.guests.lock();
        let mut mdevs = self.mdevs.lock();
        for q in mdevs.queues.iter_mut() {
            if q.mdev == Some(id) {
                q.mdev = None;
            }
        }
        if let Some(i) = mdevs.index_of(id) {
            let _ = mdevs.list.remove(i);
        }
    }

    fn mdev_show(&self, id: u32, attr: u32, buf: &mut ShowBuf<'_>) -> Result {
        let mdevs = self.mdevs.lock();
        let m = mdevs.rec(id).ok_or(ENODEV)?;
        let r = match attr {
            mdev::ATTR_MATRIX => vfio_text::write_matrix(buf, &m.matrix),
            mdev::ATTR_GUEST_MATRIX => vfio_text::write_guest_matrix(buf, &m.shadow),
            mdev::ATTR_CONTROL_DOMAINS => vfio_text::write_control_domains(buf, &m.matrix),
            mdev::ATTR_AP_CONFIG => vfio_text::write_ap_config(buf, &m.matrix),
            _ => return Err(EIO),
        };
        r.map_err(|_| EIO)
    }

    fn mdev_store(&self, id: u32, attr: u32, input: &[u8]) -> Result {
        match attr {
            mdev::ATTR_ASSIGN_ADAPTER => self.assign(id, Resource::Adapter, input),
            mdev::ATTR_ASSIGN_DOMAIN => self.assign(id, Resource::Domain, input),
            mdev::ATTR_ASSIGN_CONTROL_DOMAIN => self.assign(id, Resource::ControlDomain, input),
            mdev::ATTR_UNASSIGN_ADAPTER => self.unassign(id, Resource::Adapter, input),
            mdev::ATTR_UNASSIGN_DOMAIN => self.unassign(id, Resource::Domain, input),
            mdev::ATTR_UNASSIGN_CONTROL_DOMAIN => self.unassign(id, Resource::ControlDomain, input),
            mdev::ATTR_AP_CONFIG => self.ap_config(id, input),
            _ => Err(EIO),
        }
    }

    fn open_device(&self, _id: u32, _kvm: Option<KvmRef>) -> Result {
        // Guests (the simulated one and KVM on s390) are not attached yet: see the issue note.
        Err(EOPNOTSUPP)
    }

    fn close_device(&self, _id: u32) {}

    fn ioctl(&self, _id: u32, _cmd: u32, _arg: usize) -> Result<isize> {
        Err(ENOTTY)
    }

    fn request(&self, _id: u32, _count: u32) {}

    fn dma_unmap(&self, _id: u32, _iova: u64, _length: u64) {}
}

/// The queue driver `vfio_ap` on the AP bus.
struct QueueDriver {
    dev: Arc<MatrixDev>,
}

/// The ids of the queue files.
const QATTR_STATUS: u32 = 0;

crate::driver_attribute_group!(static QUEUE_GROUP for QueueDriver {
    (c"status", 0o444, QATTR_STATUS),
});

fn apqn_of(dev: &ApDevice) -> Apqn {
    let v = dev.apqn();
    Apqn::new((v >> 8) as u8, (v & 0xff) as u8)
}

impl ApDriver for QueueDriver {
    const DEFAULT: bool = false;
    const KINDS: u32 = KIND_QUEUE;
    const TYPES: u32 = u32::MAX;

    fn probe(&self, dev: &ApDevice) -> Result {
        let a = apqn_of(dev);
        dev.add_group(&QUEUE_GROUP)?;
        let d = &self.dev;
        let _guests = d.guests.lock();
        let mut mdevs = d.mdevs.lock();
        let owner = matrix::mdev_for_apqn(a, mdevs.others(None));
        let pending = owner.and_then(|id| mdevs.rec(id).map(|m| m.pending));
        if let Err(e) = mdevs.queues.push(
            QueueRec {
                apqn: a,
                mdev: None,
                reset_status: QueueStatus(0),
            },
            GFP_KERNEL,
        ) {
            drop(mdevs);
            dev.remove_group(&QUEUE_GROUP);
            return Err(e.into());
        }
        let Some(id) = owner else {
            return Ok(());
        };
        let one_a = Mask::from_ids(&[a.apid]);
        let one_q = Mask::from_ids(&[a.apqi]);
        mdevs.link(id, &one_a, &one_q);
        if shadow::probe_queue(pending.as_ref()) == shadow::Probe::LinkAndFilter {
            if let Some(i) = mdevs.index_of(id) {
                mdevs.filter(i, false);
            }
        }
        Ok(())
    }

    fn remove(&self, dev: &ApDevice) {
        let a = apqn_of(dev);
        dev.remove_group(&QUEUE_GROUP);
        let d = &self.dev;
        let _guests = d.guests.lock();
        let mut mdevs = d.mdevs.lock();
        let Some(qi) = mdevs.queues.iter().position(|q| q.apqn == a) else {
            return;
        };
        let linked = mdevs.queues[qi].mdev;
        let info = mdevs.info;
        if let Some(i) = linked.and_then(|id| mdevs.index_of(id)) {
            let sh = mdevs.list[i].shadow;
            if let shadow::RemoveQueue::UnplugAdapter { shadow: s, .. } =
                shadow::remove_queue(a, Some(&sh), &info)
            {
                mdevs.list[i].shadow = s;
            }
        }
        let _ = mdevs.queues.remove(qi);
    }

    fn in_use(&self, apm: &Mask, aqm: &Mask) -> bool {
        let d = &self.dev;
        let _guests = d.guests.lock();
        let mdevs = d.mdevs.lock();
        let Some(o) = matrix::in_use(apm, aqm, mdevs.others(None)) else {
            return false;
        };
        if let Some(m) = mdevs.rec(o.other) {
            for q in o.apqns() {
                let mut msg = Msg::new();
                let _ = vfio_text::write_in_use_msg(&mut msg, q);
                m.glue.log(Level::Warn, msg.bytes());
            }
        }
        true
    }

    fn on_config_changed(&self, new: &QciInfo, old: &QciInfo) {
        let d = &self.dev;
        let _guests = d.guests.lock();
        let mut mdevs = d.mdevs.lock();
        let delta = shadow::cfg_delta(new, old);
        for m in mdevs.list.iter_mut() {
            if let Some(s) = shadow::cfg_remove(&m.matrix, &m.shadow, &delta.removed) {
                m.shadow = s;
            }
        }
        let have_mdevs = !mdevs.list.is_empty();
        let added = shadow::cfg_add(&delta.added, have_mdevs, |q| {
            let (st, hw) = ap_services::tapq(u16::from(q.apid) << 8 | u16::from(q.apqi), true);
            (QueueStatus(st), TapqHwInfo(hw))
        });
        if let Some(added) = added {
            for m in mdevs.list.iter_mut() {
                m.pending = shadow::pending_add(&m.matrix, &added);
            }
        }
        mdevs.info = *new;
    }

    fn on_scan_complete(&self, _new: &QciInfo, _old: &QciInfo) {
        let d = &self.dev;
        let _guests = d.guests.lock();
        let mut mdevs = d.mdevs.lock();
        let info = mdevs.info;
        let Mdevs { list, queues, .. } = &mut *mdevs;
        for m in list.iter_mut() {
            let id = m.id;
            if let Some(f) = shadow::hot_plug_cfg(&m.matrix, &m.shadow, &m.pending, &info, |a| {
                Mdevs::passable(queues, id, a)
            }) {
                m.shadow = f.shadow;
            }
            m.pending = ApMasks::EMPTY;
        }
    }

    fn attr_show(&self, dev: &ApDevice, id: u32, buf: &mut ShowBuf<'_>) -> Result {
        if id != QATTR_STATUS {
            return Err(EIO);
        }
        let a = apqn_of(dev);
        let d = &self.dev;
        let _guests = d.guests.lock();
        let mdevs = d.mdevs.lock();
        let have = mdevs.queues.iter().any(|q| q.apqn == a);
        let owner = matrix::mdev_for_apqn(a, mdevs.others(None)).and_then(|id| mdevs.rec(id));
        // No guest is attached yet (see the issue note): has_kvm is false.
        let s = vfio_text::queue_status(have, owner.map(|m| (false, &m.shadow)), a);
        vfio_text::write_queue_status(buf, s).map_err(|_| EIO)
    }
}

struct VfioApModule {
    // Dropped in reverse order of declaration: the mdevs first, then the queue driver.
    _glue: GlueRegistration<MatrixDev>,
    _queues: Pin<KBox<Registration<QueueDriver>>>,
}

impl kernel::Module for VfioApModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let info = ap_services::qci().unwrap_or(QciInfo([0; 128]));
        let dev = Arc::pin_init(
            pin_init!(MatrixDev {
                guests <- new_mutex!(()),
                mdevs <- new_mutex!(Mdevs {
                    info,
                    list: KVec::new(),
                    queues: KVec::new(),
                    next_id: 0,
                }),
            }),
            GFP_KERNEL,
        )?;
        let queues = KBox::pin_init(
            Registration::new(
                c"vfio_ap",
                module,
                Ok::<_, Error>(QueueDriver { dev: dev.clone() }),
            ),
            GFP_KERNEL,
        )?;
        let glue = GlueRegistration::new(dev)?;
        Ok(VfioApModule {
            _glue: glue,
            _queues: queues,
        })
    }
}
