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

use core::{
    fmt::Write as _,
    sync::atomic::{AtomicU32, Ordering},
};
use kernel::{
    debugfs, fmt, new_mutex,
    prelude::*,
    sync::{Arc, Mutex, MutexGuard},
    time::{delay::fsleep, Delta, Instant, Monotonic},
    uaccess::{UserPtr, UserSlice, UserSliceReader},
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
    #[path = "../../vfio_ap/src/aqic.rs"]
    pub mod aqic;
    #[path = "../../vfio_ap/src/crycb.rs"]
    pub mod crycb;
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
    #[path = "../../vfio_ap/src/vfio.rs"]
    pub mod vfio;
    #[path = "../../vfio_ap/src/vfio_text.rs"]
    pub mod vfio_text;
}

use abs::{
    ap_driver::{ApDevice, ApDriver, Registration},
    ap_services::{self, AttrGuard},
    bus::ShowBuf,
    device::KIND_QUEUE,
    mdev::{
        self, GlueMdev, GlueRegistration, KvmHold, KvmLock, KvmRef, Level, MatrixDriver, VcpuRef,
    },
};
use model::{
    aqic::{self, IrqEnv, IrqState},
    crycb::{Crycb, CrycbFormat, CRYCB_SIZE},
    hw::{AqicCtrl, QciInfo, QueueStatus, TapqHwInfo},
    ids::Apqn,
    mask::Mask,
    matrix::{self, ApMasks, Matrix, Resource, StoreError},
    reset::{self, ResetConfig, ResetMachine},
    shadow,
    text::BufWriter,
    vfio, vfio_text,
};

module! {
    type: VfioApModule,
    name: "vfio_ap",
    authors: ["ap-rs developers"],
    description: "s390 VFIO AP mediated device driver (Rust)",
    license: "GPL",
    params: {
        simguest: bool {
            default: false,
            description: "Open a VFIO device without a KVM into a simulated guest (tests)",
        },
    },
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
    /// The guest the VFIO device is open for.
    guest: Option<GuestKey>,
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
    /// Its interruption state (`saved_isc`, `saved_iova`).
    irq: IrqState,
}

/// Guest pages pinned for notification indicator bytes of simulated guests (pinned by an AQIC
/// enable, unpinned when the interruption is disabled or the queue's AQIC resources are freed).
static SIM_PINS: AtomicU32 = AtomicU32::new(0);

/// The simulated guest's side of an interruption enable or disable for queue `apqn`: guest
/// memory is the first GiB, a pinned page has a made-up host address, the host ISC is the guest
/// ISC, and the AQIC and TAPQ go to the bus's AP facility (the simulator).
struct SimIrqEnv {
    apqn: Apqn,
}

/// The simulated guest's memory size.
const SIM_GUEST_MEM: u64 = 1 << 30;

impl IrqEnv for SimIrqEnv {
    fn nib_in_memslot(&mut self, nib: u64) -> bool {
        nib < SIM_GUEST_MEM
    }
    fn pin(&mut self, nib: u64) -> Option<u64> {
        SIM_PINS.fetch_add(1, Ordering::Relaxed);
        Some((1 << 40) | (nib & !(aqic::PAGE_SIZE - 1)))
    }
    fn unpin(&mut self, _iova: u64) {
        SIM_PINS.fetch_sub(1, Ordering::Relaxed);
    }
    fn pv_protected(&mut self) -> bool {
        false
    }
    fn ensure_shared(&mut self, _page: u64) -> bool {
        true
    }
    fn gisc_register(&mut self, isc: u8) -> Option<u8> {
        Some(isc)
    }
    fn gisc_unregister(&mut self, _isc: u8) {}
    fn gisa_phys(&mut self) -> u64 {
        0x2000_0000
    }
    fn aqic(&mut self, ctrl: AqicCtrl, nib: u64) -> QueueStatus {
        QueueStatus(ap_services::aqic(apqn_raw(self.apqn), ctrl.0, nib))
    }
    fn tapq(&mut self) -> QueueStatus {
        QueueStatus(ap_services::tapq(apqn_raw(self.apqn), false).0)
    }
    fn sleep_ms(&mut self, ms: u32) {
        fsleep(Delta::from_millis(i64::from(ms)));
    }
}

/// An s390 KVM guest's side of an interruption enable or disable: the NIB pinned through the
/// mdev's VFIO device, the guest ISC registered with the KVM's GISA.
#[cfg(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m")))]
struct KvmIrqEnv<'a> {
    glue: &'a GlueMdev,
    kvm: KvmRef,
    vcpu: Option<VcpuRef>,
}

/// The services of an interruption enable or disable of queue `sim.apqn`: the KVM guest's if
/// the queue's mdev has one, else the simulated guest's.
struct AnyIrqEnv<'a> {
    sim: SimIrqEnv,
    #[cfg(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m")))]
    kvm: Option<KvmIrqEnv<'a>>,
    _guest: core::marker::PhantomData<&'a MdevRec>,
}

impl AnyIrqEnv<'_> {
    /// The environment of a queue linked to mdev `mdev` of `list`; `vcpu` is the vCPU whose
    /// PQAP is intercepted, if any.
    #[allow(unused_variables)]
    fn new(
        list: &[MdevRec],
        mdev: Option<u32>,
        apqn: Apqn,
        vcpu: Option<VcpuRef>,
    ) -> AnyIrqEnv<'_> {
        #[cfg(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m")))]
        let kvm = list
            .iter()
            .find(|m| Some(m.id) == mdev)
            .and_then(|m| match m.guest {
                Some(GuestKey::Kvm(kvm)) => Some(KvmIrqEnv {
                    glue: &m.glue,
                    kvm,
                    vcpu,
                }),
                _ => None,
            });
        AnyIrqEnv {
            sim: SimIrqEnv { apqn },
            #[cfg(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m")))]
            kvm,
            _guest: core::marker::PhantomData,
        }
    }
}

impl IrqEnv for AnyIrqEnv<'_> {
    fn nib_in_memslot(&mut self, nib: u64) -> bool {
        // KVM exports kvm_s390_is_gpa_in_memslot only to the C vfio_ap (and only when it is
        // configured): for a KVM guest the pin below fails instead for an address outside
        // the guest's memory, with the same answer (0x06).
        #[cfg(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m")))]
        if self.kvm.is_some() {
            return true;
        }
        self.sim.nib_in_memslot(nib)
    }
    fn pin(&mut self, nib: u64) -> Option<u64> {
        #[cfg(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m")))]
        if let Some(k) = &self.kvm {
            return k.glue.pin(nib);
        }
        self.sim.pin(nib)
    }
    fn unpin(&mut self, iova: u64) {
        #[cfg(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m")))]
        if let Some(k) = &self.kvm {
            return k.glue.unpin(iova);
        }
        self.sim.unpin(iova)
    }
    fn pv_protected(&mut self) -> bool {
        #[cfg(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m")))]
        if let Some(k) = &self.kvm {
            return k.vcpu.is_some_and(|v| v.pv_protected());
        }
        self.sim.pv_protected()
    }
    fn ensure_shared(&mut self, page: u64) -> bool {
        #[cfg(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m")))]
        if self.kvm.is_some() {
            return mdev::uv_pin_shared(page);
        }
        self.sim.ensure_shared(page)
    }
    fn gisc_register(&mut self, isc: u8) -> Option<u8> {
        #[cfg(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m")))]
        if let Some(k) = &self.kvm {
            return k.kvm.gisc_register(isc);
        }
        self.sim.gisc_register(isc)
    }
    fn gisc_unregister(&mut self, isc: u8) {
        #[cfg(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m")))]
        if let Some(k) = &self.kvm {
            return k.kvm.gisc_unregister(isc);
        }
        self.sim.gisc_unregister(isc)
    }
    fn gisa_phys(&mut self) -> u64 {
        #[cfg(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m")))]
        if let Some(k) = &self.kvm {
            return k.kvm.gisa_phys();
        }
        self.sim.gisa_phys()
    }
    fn aqic(&mut self, ctrl: AqicCtrl, nib: u64) -> QueueStatus {
        self.sim.aqic(ctrl, nib)
    }
    fn tapq(&mut self) -> QueueStatus {
        self.sim.tapq()
    }
    fn sleep_ms(&mut self, ms: u32) {
        self.sim.sleep_ms(ms)
    }
}

/// Frees a queue's AQIC resources (`vfio_ap_free_aqic_resources`); `list` are the mdevs.
fn free_aqic(list: &[MdevRec], q: &mut QueueRec) {
    let has_kvm = list
        .iter()
        .any(|m| Some(m.id) == q.mdev && m.guest.is_some());
    let mut env = AnyIrqEnv::new(list, q.mdev, q.apqn, None);
    q.irq.release(q.mdev.is_some(), has_kvm, &mut env);
}

fn apqn_raw(q: Apqn) -> u16 {
    u16::from(q.apid) << 8 | u16::from(q.apqi)
}

/// What `reset_queues` runs its batch on: the clock, `ap.ko`'s instructions on `apqns[k]` for
/// machine `k` (single or batched under one facility lock), sleeping, notices.
struct ResetIo<'a> {
    t0: Instant<Monotonic>,
    apqns: &'a [u16],
    /// The status words of a batched instruction (`reset::batch_len` of them).
    raw: KVec<u32>,
}

impl ResetIo<'_> {
    /// A batched instruction on machines `first..first + out.len()`; with a length that does
    /// not fit (never: the model asks within its scratch and the machines), single ones.
    fn many(
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
fn elapsed_ns(t0: &Instant<Monotonic>) -> u64 {
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
fn reset_queues(
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
    /// The answer to the last simulated PQAP(AQIC) (`/sys/kernel/debug/vfio_ap/pqap`).
    last_pqap: Option<LastPqap>,
}

/// What a guest's PQAP(AQIC) ended with.
#[derive(Clone, Copy)]
enum LastPqap {
    /// KVM or vfio_ap sends the intercept to user space.
    Userspace,
    /// KVM injects this program interruption.
    Program(u16),
    /// GR1 and the condition code the guest gets.
    Done { gr1: u64, cc: u8 },
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

    /// The mdev at index `i` (from [`Mdevs::index_of`] under the same lock).
    fn at(&mut self, i: usize) -> Result<&mut MdevRec> {
        self.list.get_mut(i).ok_or(ENODEV)
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
    /// with `cdoms`) and installs it; if it changed, pushes it to the guest and then resets the
    /// queues of the adapters filtered out (`reset_queues_for_apids`). Whether it changed.
    fn filter(&mut self, guests: &mut Guests, i: usize, cdoms: bool) -> bool {
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
        if f.changed {
            guests.sync(m);
        }
        if !f.apm_filtered.is_empty() {
            let aqm = m.shadow.aqm;
            let _ = reset_queues(&self.list, &mut self.queues, |q| {
                q.mdev == Some(id) && f.apm_filtered.test(q.apqn.apid) && aqm.test(q.apqn.apqi)
            });
        }
        f.changed
    }

    /// Applies an unplug plan to mdev `i`: installs the new shadow (the caller pushes it to the
    /// guest first), resets the queues that were in the guest and unlinks the queues.
    fn unplug(&mut self, guests: &mut Guests, i: usize, u: &shadow::Unplug) {
        let Some(m) = self.list.get_mut(i) else {
            return;
        };
        m.shadow = u.shadow;
        if u.apcb_update {
            guests.sync(m);
        }
        let id = m.id;
        let _ = reset_queues(&self.list, &mut self.queues, |q| {
            q.mdev == Some(id)
                && u.unlink_apm.test(q.apqn.apid)
                && u.unlink_aqm.test(q.apqn.apqi)
                && u.resets(q.apqn)
        });
        self.unlink(id, &u.unlink_apm, &u.unlink_aqm);
    }

    /// vfio_ap's PQAP(AQIC) hook for mdev `id` (`handle_pqap`, under `mdevs_lock`): `None`
    /// sends the instruction to user space, else the status for the guest's GR1. `vcpu` is the
    /// intercepting vCPU of a KVM guest.
    fn pqap_hook(
        &mut self,
        id: u32,
        vcpu: Option<VcpuRef>,
        eca_aiv: bool,
        regs: &aqic::PqapRegs,
    ) -> Option<QueueStatus> {
        let has_guest = self.rec(id).is_some_and(|m| m.guest.is_some());
        let Mdevs { list, queues, .. } = self;
        let linked = |a: Apqn| queues.iter().any(|q| q.apqn == a && q.mdev == Some(id));
        let not_avail = QueueStatus::new(model::hw::rc::Q_NOT_AVAIL);
        match aqic::handle_pqap(eca_aiv, Some(has_guest), linked, regs) {
            aqic::PqapRequest::Userspace => None,
            aqic::PqapRequest::Respond(st) => Some(st),
            aqic::PqapRequest::Enable { apqn, isc, nib } => {
                let Some(q) = queues.iter_mut().find(|q| q.apqn == apqn) else {
                    return Some(not_avail);
                };
                let mut env = AnyIrqEnv::new(list, Some(id), apqn, vcpu);
                Some(aqic::irq_enable(&mut q.irq, isc, nib, &mut env))
            }
            aqic::PqapRequest::Disable { apqn } => {
                let Some(q) = queues.iter_mut().find(|q| q.apqn == apqn) else {
                    return Some(not_avail);
                };
                let mut env = AnyIrqEnv::new(list, Some(id), apqn, vcpu);
                Some(aqic::irq_disable(&mut q.irq, true, has_guest, &mut env).status)
            }
        }
    }

    /// Resets every queue linked to mdev `id` (close, VFIO reset, removal).
    fn reset_linked(&mut self, id: u32) -> Result {
        reset_queues(&self.list, &mut self.queues, |q| q.mdev == Some(id))
    }
}

/// What vfio_ap changes in a guest: the AP masks of its crypto control block.
trait GuestCrypto {
    /// `kvm_arch_crypto_set_masks`.
    fn set_masks(&mut self, apm: &Mask, aqm: &Mask, adm: &Mask);
    /// `kvm_arch_crypto_clear_masks`.
    fn clear_masks(&mut self);
}

/// The simulated guest's CRYCB (format 2: the simulated host has APXA).
impl GuestCrypto for Crycb {
    fn set_masks(&mut self, apm: &Mask, aqm: &Mask, adm: &Mask) {
        Crycb::set_masks(self, CrycbFormat::Format2, apm, aqm, adm);
    }

    fn clear_masks(&mut self) {
        Crycb::clear_masks(self);
    }
}

/// A KVM guest on s390, through its `kvm->lock` (held: the C contract of the two functions).
impl GuestCrypto for KvmLock {
    #[allow(unreachable_code, unused_variables)]
    fn set_masks(&mut self, apm: &Mask, aqm: &Mask, adm: &Mask) {
        #[cfg(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m")))]
        KvmLock::set_masks(self, &apm.0, &aqm.0, &adm.0);
    }

    #[allow(unreachable_code)]
    fn clear_masks(&mut self) {
        #[cfg(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m")))]
        KvmLock::clear_masks(self);
    }
}

/// Who a guest is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum GuestKey {
    /// A simulated guest: the thread group of the process that opened the device. With
    /// `simguest=1` an open without a KVM attaches the mdev to it (QEMU opens every device of a
    /// guest), so a second mdev opened by the same process is EPERM as for a KVM guest.
    Process(i32),
    /// A KVM guest (s390).
    Kvm(KvmRef),
}

/// The crypto control block side of a guest.
enum GuestCb {
    /// The simulated guest's CRYCB, for machines where no s390 KVM guest can run (x86_64,
    /// s390x under TCG).
    Sim(KBox<Crycb>),
    /// The KVM's (a reference is held while attached).
    #[cfg_attr(
        not(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m"))),
        allow(dead_code)
    )]
    Kvm(KvmHold),
}

/// A guest with an mdev attached.
struct Guest {
    key: GuestKey,
    /// The mdev attached to it.
    mdev: u32,
    cb: GuestCb,
    /// The masks the guest sees (the last set or clear).
    view: (Mask, Mask, Mask),
    /// How many times vfio_ap changed the guest's masks.
    commits: u64,
}

/// What `guests_lock` protects: the guests, and while an operation runs the `kvm->lock` of the
/// KVM guest it changes (taken after `guests_lock`, before `mdevs_lock`, released before
/// `guests_lock`: see [`MatrixDev::lock_for`]).
struct Guests {
    list: KVec<Guest>,
    held: Option<KvmLock>,
}

const NO_MASKS: (Mask, Mask, Mask) = (Mask::ZERO, Mask::ZERO, Mask::ZERO);

impl Guests {
    /// The `kvm->lock` of mdev `id`'s guest, if it is a KVM guest.
    fn kvm_lock_for(&self, id: u32) -> Option<KvmLock> {
        self.list.iter().find_map(|g| match &g.cb {
            GuestCb::Kvm(h) if g.mdev == id => Some(h.lock()),
            _ => None,
        })
    }

    /// Sets or clears the masks of `g`; false if its KVM lock is not held (cannot happen: the
    /// operations take it with [`MatrixDev::lock_for`]).
    fn apply(held: &mut Option<KvmLock>, g: &mut Guest, want: &(Mask, Mask, Mask)) -> bool {
        let crypto: &mut dyn GuestCrypto = match &mut g.cb {
            GuestCb::Sim(c) => &mut **c,
            GuestCb::Kvm(_) => match held.as_mut() {
                Some(l) => l,
                None => return false,
            },
        };
        if *want == NO_MASKS {
            crypto.clear_masks();
        } else {
            crypto.set_masks(&want.0, &want.1, &want.2);
        }
        g.view = *want;
        g.commits += 1;
        true
    }

    /// Pushes mdev `m`'s shadow into its guest if the guest's view differs: exactly one commit
    /// per effective change (then the configuration-change eventfd fires), none otherwise.
    fn sync(&mut self, m: &mut MdevRec) {
        let Some(key) = m.guest else {
            return;
        };
        let Some(g) = self.list.iter_mut().find(|g| g.key == key) else {
            return;
        };
        let want = (m.shadow.apm, m.shadow.aqm, m.shadow.adm);
        if g.view != want && Self::apply(&mut self.held, g, &want) {
            m.glue.signal(vfio::VFIO_AP_CFG_CHG_IRQ_INDEX);
        }
    }

    /// [`Guests::sync`] for mdev `id`.
    fn sync_id(&mut self, mdevs: &mut Mdevs, id: u32) {
        if let Some(m) = mdevs.list.iter_mut().find(|m| m.id == id) {
            self.sync(m);
        }
    }
}

/// `guests_lock` held for an operation; releases the KVM lock it took first.
struct GuestsLocked<'a>(MutexGuard<'a, Guests>);

impl core::ops::Deref for GuestsLocked<'_> {
    type Target = Guests;
    fn deref(&self) -> &Guests {
        &self.0
    }
}

impl core::ops::DerefMut for GuestsLocked<'_> {
    fn deref_mut(&mut self) -> &mut Guests {
        &mut self.0
    }
}

impl Drop for GuestsLocked<'_> {
    fn drop(&mut self) {
        self.0.held = None;
    }
}

/// The matrix device's state (`struct ap_matrix_dev`).
#[pin_data]
struct MatrixDev {
    /// `guests_lock`: attaching and detaching guests and changing their CRYCBs (taken before
    /// `mdevs`).
    #[pin]
    guests: Mutex<Guests>,
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
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl core::fmt::Write for Msg {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let rest = self.buf.get_mut(self.len..).unwrap_or_default();
        let mut w = BufWriter::new(rest);
        let r = w.write_str(s);
        self.len += w.len();
        r
    }
}

/// A positive errno of the model as an error.
fn errno(e: i32) -> Error {
    Error::from_errno(-e)
}

fn store_err(e: &StoreError<u32>) -> Error {
    errno(e.errno())
}

impl MatrixDev {
    /// The C driver's update locks for mdev `id` (`get_update_locks_for_mdev`): `guests_lock`,
    /// then the `kvm->lock` of its guest if that is a KVM guest, then `mdevs_lock`. Drop the
    /// `mdevs` guard first (declare it after the `guests` one).
    fn lock_for(&self, id: Option<u32>) -> (GuestsLocked<'_>, MutexGuard<'_, Mdevs>) {
        let mut guests = GuestsLocked(self.guests.lock());
        guests.held = id.and_then(|id| guests.kvm_lock_for(id));
        let mdevs = self.mdevs.lock();
        (guests, mdevs)
    }

    /// Runs `f` for every mdev with its update locks (`vfio_ap_on_scan_complete`): `guests_lock`
    /// throughout, each mdev's KVM lock and `mdevs_lock` around its call.
    fn for_each_mdev(&self, mut f: impl FnMut(&mut Guests, &mut Mdevs, usize)) {
        let mut guests = GuestsLocked(self.guests.lock());
        let mut i = 0;
        loop {
            // The list only changes under `guests_lock`, which is held.
            let Some(id) = self.mdevs.lock().list.get(i).map(|m| m.id) else {
                break;
            };
            guests.held = guests.kvm_lock_for(id);
            f(&mut guests, &mut self.mdevs.lock(), i);
            guests.held = None;
            i += 1;
        }
    }

    /// The simulated guest of mdev `name` executes PQAP(AQIC) with `regs`: KVM's checks
    /// (`handle_pqap` of KVM, with AP interpretation and every facility on), then vfio_ap's hook
    /// while the mdev has a guest, then the interruption enable or disable on the queue.
    fn pqap(&self, name: &[u8], regs: &aqic::PqapRegs) -> Result {
        let id = {
            let _guests = self.guests.lock();
            let mdevs = self.mdevs.lock();
            mdevs
                .list
                .iter()
                .find(|m| m.name.as_slice() == name)
                .map(|m| m.id)
                .ok_or(ENODEV)?
        };
        let (_guests, mut mdevs) = self.lock_for(Some(id));
        let has_guest = mdevs.rec(id).ok_or(ENODEV)?.guest.is_some();
        let env = aqic::KvmPqapEnv {
            ap_instructions: true,
            eca_apie: true,
            problem_state: false,
            apft: true,
            crycb_apxa: true,
            aqic_facility: true,
        };
        let done = |st: QueueStatus| {
            let (gr1, cc) = aqic::pqap_result(st);
            LastPqap::Done { gr1, cc }
        };
        let res = match aqic::kvm_pqap_check(&env, regs.gr0) {
            aqic::KvmPqap::Userspace => LastPqap::Userspace,
            aqic::KvmPqap::Program(code) => LastPqap::Program(code),
            // The hook is registered while the mdev has a guest.
            aqic::KvmPqap::Hook if !has_guest => {
                let (gr1, cc) = aqic::kvm_no_hook(regs.gr1);
                LastPqap::Done { gr1, cc }
            }
            aqic::KvmPqap::Hook => match mdevs.pqap_hook(id, None, true, regs) {
                None => LastPqap::Userspace,
                Some(st) => done(st),
            },
        };
        mdevs.last_pqap = Some(res);
        Ok(())
    }

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
        let (mut guests, mut mdevs) = self.lock_for(Some(id));
        let i = mdevs.index_of(id).ok_or(ENODEV)?;
        let cur = mdevs.at(i)?.matrix;
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
        mdevs.at(i)?.matrix = c.matrix;
        match r {
            Resource::ControlDomain => {
                let info = mdevs.info;
                let m = mdevs.at(i)?;
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
                mdevs.filter(&mut guests, i, false);
            }
        }
        guests.sync_id(&mut mdevs, id);
        Ok(())
    }

    /// `unassign_adapter`, `unassign_domain`, `unassign_control_domain`, then the re-filter
    /// (the project's fix of the C driver, see the `shadow` model).
    fn unassign(&self, id: u32, r: Resource, input: &[u8]) -> Result {
        let (mut guests, mut mdevs) = self.lock_for(Some(id));
        let i = mdevs.index_of(id).ok_or(ENODEV)?;
        let cur = mdevs.at(i)?.matrix;
        let c = match matrix::unassign::<u32>(&cur, r, input) {
            Ok(Some(c)) => c,
            Ok(None) => return Ok(()),
            Err(e) => return Err(store_err(&e)),
        };
        mdevs.at(i)?.matrix = c.matrix;
        let sh = mdevs.at(i)?.shadow;
        let one = Mask::from_ids(&[c.id]);
        match r {
            Resource::Adapter => {
                let u = shadow::hot_unplug_adapters(&c.matrix.aqm, &sh, &one);
                mdevs.unplug(&mut guests, i, &u);
            }
            Resource::Domain => {
                let u = shadow::hot_unplug_domains(&c.matrix.apm, &sh, &one);
                mdevs.unplug(&mut guests, i, &u);
            }
            Resource::ControlDomain => {
                let (s, _) = shadow::unassign_control_domain(&sh, c.id);
                mdevs.at(i)?.shadow = s;
            }
        }
        mdevs.filter(&mut guests, i, true);
        guests.sync_id(&mut mdevs, id);
        Ok(())
    }

    /// The `ap_config` write: all or nothing.
    fn ap_config(&self, id: u32, input: &[u8]) -> Result {
        let attr = AttrGuard::lock();
        let (mut guests, mut mdevs) = self.lock_for(Some(id));
        let i = mdevs.index_of(id).ok_or(ENODEV)?;
        let cur = mdevs.at(i)?.matrix;
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
        // One update of the guest's APCB (`shadow::ConfigUnplug`): the unplug plan, the new
        // matrix with its added queues linked, the filtered shadow pushed once; then the
        // queues that left the guest are reset in one batch and the unplugged ones unlinked.
        let plan = shadow::ap_config_unplug(&cur, &mdevs.at(i)?.shadow, &c.removed);
        mdevs.at(i)?.matrix = c.new;
        for (apm, aqm) in c.link_sets() {
            mdevs.link(id, &apm, &aqm);
        }
        let info = mdevs.info;
        let Mdevs { list, queues, .. } = &mut *mdevs;
        let m = list.get_mut(i).ok_or(ENODEV)?;
        let f = shadow::refilter(&m.matrix, &plan.shadow, &info, |a| {
            Mdevs::passable(queues, id, a)
        });
        m.shadow = f.shadow;
        guests.sync(m);
        let aqm = m.shadow.aqm;
        let _ = reset_queues(list, queues, |q| {
            q.mdev == Some(id)
                && (plan.resets(q.apqn)
                    || (f.apm_filtered.test(q.apqn.apid) && aqm.test(q.apqn.apqi)))
        });
        for q in queues.iter_mut() {
            if q.mdev == Some(id) && plan.unlinks(q.apqn) {
                q.mdev = None;
            }
        }
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
                guest: None,
            },
            GFP_KERNEL,
        )?;
        mdevs.next_id = id.wrapping_add(1);
        Ok(id)
    }

    fn mdev_destroy(&self, id: u32) {
        let _guests = self.guests.lock();
        let mut mdevs = self.mdevs.lock();
        let _ = mdevs.reset_linked(id);
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

    fn open_device(&self, id: u32, kvm: Option<KvmRef>) -> Result<bool> {
        // The guest: the KVM the device was opened with, or (simguest=1) the opening process.
        let (key, crycbd) = match kvm {
            #[cfg(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m")))]
            Some(k) => (GuestKey::Kvm(k), k.crycbd()),
            #[cfg(not(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m"))))]
            Some(k) => (GuestKey::Kvm(k), 0),
            None if module_parameters::simguest.value() => (
                GuestKey::Process(kernel::current!().tgid()),
                CrycbFormat::Format2.bits(),
            ),
            // As C without a KVM.
            None => return Err(EINVAL),
        };
        // `get_update_locks_for_kvm`: guests, the new guest's kvm->lock, mdevs.
        let mut guests = GuestsLocked(self.guests.lock());
        let hooked = guests.list.iter().any(|g| g.key == key);
        match vfio::open_device(true, crycbd, hooked).map_err(errno)? {
            vfio::OpenDevice::NoCrypto => return Ok(false),
            vfio::OpenDevice::Attach => {}
        }
        let cb = match kvm {
            #[cfg(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m")))]
            Some(k) => {
                let hold = k.hold();
                guests.held = Some(hold.lock());
                GuestCb::Kvm(hold)
            }
            _ => GuestCb::Sim(KBox::new(Crycb([0; CRYCB_SIZE]), GFP_KERNEL)?),
        };
        let mut mdevs = self.mdevs.lock();
        let i = mdevs.index_of(id).ok_or(ENODEV)?;
        guests.list.push(
            Guest {
                key,
                mdev: id,
                cb,
                view: NO_MASKS,
                commits: 0,
            },
            GFP_KERNEL,
        )?;
        let m = mdevs.at(i)?;
        m.guest = Some(key);
        guests.sync(m);
        // The glue registers the PQAP hook with a KVM guest.
        Ok(matches!(key, GuestKey::Kvm(_)))
    }

    fn close_device(&self, id: u32) {
        let (mut guests, mut mdevs) = self.lock_for(Some(id));
        let Some(m) = mdevs.list.iter_mut().find(|m| m.id == id) else {
            return;
        };
        let Some(key) = m.guest.take() else {
            return;
        };
        let Guests { list, held } = &mut *guests;
        if let Some(gi) = list.iter().position(|g| g.key == key) {
            // kvm_arch_crypto_clear_masks, then the guest is gone (and its KVM reference).
            if let Some(g) = list.get_mut(gi) {
                if g.view != NO_MASKS {
                    Guests::apply(held, g, &NO_MASKS);
                }
            }
            let _ = list.remove(gi);
        }
        let _ = mdevs.reset_linked(id);
    }

    fn ioctl(&self, id: u32, cmd: u32, arg: usize) -> Result<isize> {
        let op = vfio::ioctl(cmd).map_err(errno)?;
        let mut mdevs = self.mdevs.lock();
        let m = mdevs.list.iter_mut().find(|m| m.id == id).ok_or(ENODEV)?;
        let user = |len: usize| UserSlice::new(UserPtr::from_addr(arg), len);
        match op {
            vfio::Ioctl::GetInfo => {
                let mut b = [0u8; vfio::device_info::MINSZ];
                user(b.len()).reader().read_slice(&mut b)?;
                let inp = vfio::DeviceInfo::from_ne_bytes(&b);
                let out = vfio::get_info(&inp).map_err(errno)?;
                user(b.len()).writer().write_slice(&out.to_ne_bytes())?;
                Ok(0)
            }
            vfio::Ioctl::GetIrqInfo => {
                let mut b = [0u8; vfio::irq_info::MINSZ];
                user(b.len()).reader().read_slice(&mut b)?;
                let inp = vfio::IrqInfo::from_ne_bytes(&b);
                let out = vfio::get_irq_info(&inp).map_err(errno)?;
                user(b.len()).writer().write_slice(&out.to_ne_bytes())?;
                Ok(0)
            }
            vfio::Ioctl::SetIrqs => {
                let mut b = [0u8; vfio::irq_set::MINSZ + 4];
                let mut r = user(b.len()).reader();
                r.read_slice(&mut b[..vfio::irq_set::MINSZ])?;
                let mut hb = [0u8; vfio::irq_set::MINSZ];
                hb.copy_from_slice(&b[..vfio::irq_set::MINSZ]);
                let hdr = vfio::IrqSet::from_ne_bytes(&hb);
                let index = match vfio::set_irqs(&hdr).map_err(errno)? {
                    vfio::IrqIndex::Request => vfio::VFIO_AP_REQ_IRQ_INDEX,
                    vfio::IrqIndex::CfgChange => vfio::VFIO_AP_CFG_CHG_IRQ_INDEX,
                };
                let mut fdb = [0u8; 4];
                r.read_slice(&mut fdb).map_err(|_| EFAULT)?;
                let fd = i32::from_ne_bytes(fdb);
                match vfio::eventfd_request(fd).map_err(errno)? {
                    vfio::EventfdRequest::Clear => m.glue.set_trigger(index, -1)?,
                    vfio::EventfdRequest::Set(fd) => m.glue.set_trigger(index, fd)?,
                }
                Ok(0)
            }
            vfio::Ioctl::Reset => mdevs.reset_linked(id).map(|()| 0),
        }
    }

    fn request(&self, id: u32, count: u32) {
        let (mut guests, mut mdevs) = self.lock_for(Some(id));
        let Some(m) = mdevs.list.iter_mut().find(|m| m.id == id) else {
            return;
        };
        // With a guest: its masks are cleared (kvm_arch_crypto_clear_masks) and told.
        if let Some(key) = m.guest {
            let Guests { list, held } = &mut *guests;
            if let Some(g) = list.iter_mut().find(|g| g.key == key) {
                if g.view != NO_MASKS {
                    Guests::apply(held, g, &NO_MASKS);
                }
                m.glue.signal(vfio::VFIO_AP_CFG_CHG_IRQ_INDEX);
            }
        }
        let relayed = m.glue.signal(vfio::VFIO_AP_REQ_IRQ_INDEX);
        let mut msg = Msg::new();
        match vfio::request_notice(relayed, count) {
            vfio::RequestNotice::None => return,
            vfio::RequestNotice::Relaying => {
                let _ = write!(msg, "Relaying device request to user (#{count})");
            }
            vfio::RequestNotice::NotRegistered => {
                let _ = write!(
                    msg,
                    "No device request registered, blocked until released by user"
                );
            }
        }
        m.glue.log(Level::Info, msg.bytes());
    }

    fn pqap(&self, id: u32, vcpu: VcpuRef, eca_aiv: bool, regs: &mut [u64; 3]) -> Result {
        let r = aqic::PqapRegs {
            gr0: regs[0],
            gr1: regs[1],
            gr2: regs[2],
        };
        // KVM holds `pqap_hook_rwsem` (read): only `mdevs_lock` may be taken here.
        let mut mdevs = self.mdevs.lock();
        match mdevs.pqap_hook(id, Some(vcpu), eca_aiv, &r) {
            None => Err(EOPNOTSUPP),
            Some(st) => {
                regs[1] = aqic::pqap_result(st).0;
                Ok(())
            }
        }
    }

    fn dma_unmap(&self, id: u32, iova: u64, length: u64) {
        // `vfio_ap_mdev_dma_unmap`: disable the interruptions whose NIB is in the range.
        let (_guests, mut mdevs) = self.lock_for(Some(id));
        let has_kvm = mdevs.rec(id).is_some_and(|m| m.guest.is_some());
        let Mdevs { list, queues, .. } = &mut *mdevs;
        for q in queues.iter_mut() {
            if q.mdev == Some(id) && aqic::iova_in_range(q.irq.saved_iova, iova, length) {
                let mut env = AnyIrqEnv::new(list, Some(id), q.apqn, None);
                aqic::irq_disable(&mut q.irq, true, has_kvm, &mut env);
            }
        }
    }
}

/// The queue driver `vfio_ap` on the AP bus.
struct QueueDriver {
    dev: Arc<MatrixDev>,
}

/// The ids of the queue files: `status` as in C; `holder`, the UUID of the mdev the APQN is
/// assigned to, is ap-rs's answer to "which mdev holds this queue".
const QATTR_STATUS: u32 = 0;
const QATTR_HOLDER: u32 = 1;

crate::driver_attribute_group!(static QUEUE_GROUP for QueueDriver {
    (c"status", 0o444, QATTR_STATUS),
    (c"holder", 0o444, QATTR_HOLDER),
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
        // `get_update_locks_by_apqn`: the mdev the APQN is assigned to can only change under
        // `guests_lock`, which `lock_for` takes again first.
        let owner = {
            let _guests = d.guests.lock();
            let mdevs = d.mdevs.lock();
            matrix::mdev_for_apqn(a, mdevs.others(None))
        };
        let (mut guests, mut mdevs) = d.lock_for(owner);
        let owner = matrix::mdev_for_apqn(a, mdevs.others(None));
        let pending = owner.and_then(|id| mdevs.rec(id).map(|m| m.pending));
        if let Err(e) = mdevs.queues.push(
            QueueRec {
                apqn: a,
                mdev: None,
                reset_status: QueueStatus(0),
                irq: IrqState::NONE,
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
                mdevs.filter(&mut guests, i, false);
            }
        }
        guests.sync_id(&mut mdevs, id);
        Ok(())
    }

    fn remove(&self, dev: &ApDevice) {
        let a = apqn_of(dev);
        dev.remove_group(&QUEUE_GROUP);
        let d = &self.dev;
        let linked = {
            let _guests = d.guests.lock();
            let mdevs = d.mdevs.lock();
            mdevs
                .queues
                .iter()
                .find(|q| q.apqn == a)
                .and_then(|q| q.mdev)
        };
        let (mut guests, mut mdevs) = d.lock_for(linked);
        let Some(qi) = mdevs.queues.iter().position(|q| q.apqn == a) else {
            return;
        };
        let linked = mdevs.queues.get(qi).and_then(|q| q.mdev);
        let info = mdevs.info;
        let linked_i = linked.and_then(|id| mdevs.index_of(id));
        let sh = linked_i.and_then(|i| mdevs.list.get(i)).map(|m| m.shadow);
        match shadow::remove_queue(a, sh.as_ref(), &info) {
            shadow::RemoveQueue::UnplugAdapter {
                shadow: s,
                apid,
                reset_aqm,
            } => {
                if let Some(m) = linked_i.and_then(|i| mdevs.list.get_mut(i)) {
                    m.shadow = s;
                    guests.sync(m);
                }
                let Mdevs { list, queues, .. } = &mut *mdevs;
                let _ = reset_queues(list, queues, |q| {
                    q.mdev == linked && q.apqn.apid == apid && reset_aqm.test(q.apqn.apqi)
                });
            }
            shadow::RemoveQueue::Reset => {
                let Mdevs { list, queues, .. } = &mut *mdevs;
                let _ = reset_queues(list, queues, |q| q.apqn == a);
            }
            shadow::RemoveQueue::FreeAqic => {
                let Mdevs { list, queues, .. } = &mut *mdevs;
                if let Some(q) = queues.get_mut(qi) {
                    free_aqic(list, q);
                }
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
        let delta = shadow::cfg_delta(new, old);
        d.for_each_mdev(|guests, mdevs, i| {
            if let Some(m) = mdevs.list.get_mut(i) {
                if let Some(s) = shadow::cfg_remove(&m.matrix, &m.shadow, &delta.removed) {
                    m.shadow = s;
                    guests.sync(m);
                }
            }
        });
        let (_guests, mut mdevs) = d.lock_for(None);
        let have_mdevs = !mdevs.list.is_empty();
        let added = shadow::cfg_add(&delta.added, have_mdevs, |q| {
            let (st, hw) = ap_services::tapq(apqn_raw(q), true);
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
        self.dev.for_each_mdev(|guests, mdevs, i| {
            let info = mdevs.info;
            let Mdevs { list, queues, .. } = mdevs;
            let Some(m) = list.get_mut(i) else {
                return;
            };
            let id = m.id;
            if let Some(f) = shadow::hot_plug_cfg(&m.matrix, &m.shadow, &m.pending, &info, |a| {
                Mdevs::passable(queues, id, a)
            }) {
                m.shadow = f.shadow;
                guests.sync(m);
            }
            m.pending = ApMasks::EMPTY;
        });
    }

    fn attr_show(&self, dev: &ApDevice, id: u32, buf: &mut ShowBuf<'_>) -> Result {
        let a = apqn_of(dev);
        let d = &self.dev;
        let _guests = d.guests.lock();
        let mdevs = d.mdevs.lock();
        let owner = matrix::mdev_for_apqn(a, mdevs.others(None)).and_then(|id| mdevs.rec(id));
        match id {
            QATTR_STATUS => {
                let have = mdevs.queues.iter().any(|q| q.apqn == a);
                let m = owner.map(|m| (m.guest.is_some(), &m.shadow));
                let s = vfio_text::queue_status(have, m, a);
                vfio_text::write_queue_status(buf, s).map_err(|_| EIO)
            }
            QATTR_HOLDER => {
                vfio_text::write_queue_holder(buf, owner.map(|m| m.name())).map_err(|_| EIO)
            }
            _ => Err(EIO),
        }
    }
}

/// `/sys/kernel/debug/vfio_ap/guests`: one line per simulated guest,
/// `<mdev> commits <n> apm <mask> aqm <mask> adm <mask> crycb <256 bytes in hex>`, the masks
/// read back from the guest's CRYCB (format 2) as the AP bus prints masks.
struct GuestsFile(Arc<MatrixDev>);

impl debugfs::Writer for GuestsFile {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let guests = self.0.guests.lock();
        let mdevs = self.0.mdevs.lock();
        for g in guests.list.iter() {
            let GuestCb::Sim(crycb) = &g.cb else {
                continue;
            };
            let name = mdevs.rec(g.mdev).map_or("?", |m| m.name());
            let (apm, aqm, adm) = crycb.masks(CrycbFormat::Format2);
            write!(
                f,
                "{name} commits {} apm {apm} aqm {aqm} adm {adm} crycb ",
                g.commits
            )?;
            for b in crycb.0.iter() {
                write!(f, "{b:02x}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// `/sys/kernel/debug/vfio_ap/pqap`: "guest executes PQAP(AQIC)". Writing
/// `<mdev uuid> <gr0> <gr1> <gr2>` (numbers as `kstrtoul(.., 0)` reads them) makes the simulated
/// guest of that mdev execute PQAP with those registers; reading shows the answer
/// (`gr1 0x<16 hex digits> cc <n>`, `userspace` or `program 0x<code>`), the pinned NIB pages
/// (`pins <n>`) and one line per queue with interruptions enabled (`<apqn> isc <n> nib 0x<hex>`).
struct PqapFile(Arc<MatrixDev>);

impl debugfs::Writer for PqapFile {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mdevs = self.0.mdevs.lock();
        match mdevs.last_pqap {
            None => writeln!(f, "none")?,
            Some(LastPqap::Userspace) => writeln!(f, "userspace")?,
            Some(LastPqap::Program(c)) => writeln!(f, "program 0x{c:04x}")?,
            Some(LastPqap::Done { gr1, cc }) => writeln!(f, "gr1 0x{gr1:016x} cc {cc}")?,
        }
        writeln!(f, "pins {}", SIM_PINS.load(Ordering::Relaxed))?;
        for q in mdevs.queues.iter() {
            if q.irq.saved_isc != aqic::VFIO_AP_ISC_INVALID {
                writeln!(
                    f,
                    "{:02x}.{:04x} isc {} nib 0x{:x}",
                    q.apqn.apid, q.apqn.apqi, q.irq.saved_isc, q.irq.saved_iova
                )?;
            }
        }
        Ok(())
    }
}

impl debugfs::Reader for PqapFile {
    fn read_from_slice(&self, reader: &mut UserSliceReader) -> Result {
        let mut buf = [0u8; 160];
        let n = reader.len();
        let line = buf.get_mut(..n).ok_or(EINVAL)?;
        reader.read_slice(line)?;
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
        let name = words.next().ok_or(EINVAL)?;
        let mut num = || -> Result<u64> {
            model::parse::kstrtoul(words.next().ok_or(EINVAL)?, 0).map_err(|_| EINVAL)
        };
        let regs = aqic::PqapRegs {
            gr0: num()?,
            gr1: num()?,
            gr2: num()?,
        };
        self.0.pqap(name, &regs)
    }
}

struct VfioApModule {
    // Dropped in order of declaration: the debugfs files, the mdevs, then the queue driver.
    _guests_file: Pin<KBox<debugfs::File<GuestsFile>>>,
    _pqap_file: Pin<KBox<debugfs::File<PqapFile>>>,
    _debugfs: debugfs::Dir,
    _glue: GlueRegistration<MatrixDev>,
    _queues: Pin<KBox<Registration<QueueDriver>>>,
}

impl kernel::Module for VfioApModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let info = ap_services::qci().unwrap_or(QciInfo([0; 128]));
        let dev = Arc::pin_init(
            pin_init!(MatrixDev {
                guests <- new_mutex!(Guests {
                    list: KVec::new(),
                    held: None,
                }),
                mdevs <- new_mutex!(Mdevs {
                    info,
                    list: KVec::new(),
                    queues: KVec::new(),
                    next_id: 0,
                    last_pqap: None,
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
        let dir = debugfs::Dir::new(c"vfio_ap");
        let guests_file = KBox::pin_init(
            dir.read_only_file(c"guests", GuestsFile(dev.clone())),
            GFP_KERNEL,
        )?;
        let pqap_file = KBox::pin_init(
            dir.read_write_file(c"pqap", PqapFile(dev.clone())),
            GFP_KERNEL,
        )?;
        let glue = GlueRegistration::new(dev)?;
        Ok(VfioApModule {
            _guests_file: guests_file,
            _pqap_file: pqap_file,
            _debugfs: dir,
            _glue: glue,
            _queues: queues,
        })
    }
}
