// SPDX-License-Identifier: GPL-2.0
//! The interception of the guest's PQAP(AQIC) (interruption control): KVM's `handle_pqap`
//! (arch/s390/kvm/s390/priv.c), vfio_ap's `handle_pqap`, `vfio_ap_irq_enable`,
//! `vfio_ap_irq_disable`, `vfio_ap_wait_for_irqclear` and `vfio_ap_free_aqic_resources`
//! (vfio_ap_ops.c, Linux 7.3).
//!
//! The flow, for the glue:
//!
//! 1. [`kvm_pqap_check`] (KVM): user space, a program interruption, or the hook.
//! 2. [`handle_pqap`] (vfio_ap, under `mdevs_lock`): user space (no AIV), response code 0x01
//!    (no hook, no guest, APQN not linked), or enable/disable.
//! 3. Enable: [`irq_enable`] over an [`IrqEnv`]; disable: a [`DisableMachine`] (or
//!    [`irq_disable`], which runs one over an [`IrqEnv`]).
//! 4. [`pqap_result`]: GR1 and the condition code for the guest.
//!
//! The queue's saved interruption state is an [`IrqState`] the glue keeps per queue.
//!
//! # Deviation from C
//!
//! When the host AQIC of an enable fails with a response code other than 0x00 and 0x07, C
//! calls `vfio_ap_irq_disable`, which frees the queue's *previous* ISC and NIB, but never
//! releases the GISC registration and page pin it has just made for the failed request: a
//! GISC reference and a pinned guest page leak. [`irq_enable`] releases them first (as C does
//! for 0x07) and then disables as C does. Everything else follows C.

use super::hw::{rc, AqicCtrl, QueueStatus};
use super::ids::Apqn;

/// `PGM_PRIVILEGED_OP`.
pub const PGM_PRIVILEGED_OP: u16 = 0x0002;
/// `PGM_SPECIFICATION`.
pub const PGM_SPECIFICATION: u16 = 0x0006;
/// The PQAP function code of AQIC.
pub const PQAP_FC_AQIC: u8 = 0x03;
/// `VFIO_AP_ISC_INVALID`: no guest ISC registered.
pub const VFIO_AP_ISC_INVALID: u8 = 0xff;
/// The size of a page (the NIB offset is `nib & (PAGE_SIZE - 1)`).
pub const PAGE_SIZE: u64 = 4096;
/// The sleep of the disable retries and the irq-clear polling (20 ms).
pub const AQIC_SLEEP_MS: u32 = 20;

/// What KVM knows when the guest's PQAP is intercepted.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct KvmPqapEnv {
    /// The host has AP instructions (`ap_instructions_available`).
    pub ap_instructions: bool,
    /// `ECA_APIE` is set for the vcpu (the VM enabled AP interpretation).
    pub eca_apie: bool,
    /// The guest PSW is in problem state.
    pub problem_state: bool,
    /// Facility 15 (APFT) is in the guest's facility list.
    pub apft: bool,
    /// The CRYCB format has APXA (`crycbd & 0x02`, format 2).
    pub crycb_apxa: bool,
    /// Facility 65 (AQIC) is in the guest's facility list.
    pub aqic_facility: bool,
}

/// KVM's decision for an intercepted PQAP.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum KvmPqap {
    /// -EOPNOTSUPP: the intercept goes to user space (QEMU).
    Userspace,
    /// Inject this program interruption.
    Program(u16),
    /// Call the hook if one is registered (under `pqap_hook_rwsem` read); without a hook use
    /// [`kvm_no_hook`].
    Hook,
}

/// KVM's `handle_pqap` before the hook, in its order: no AP instructions or no `ECA_APIE`: user
/// space; function code (GR0 bits 32-39) not AQIC: user space; problem state: privileged
/// operation; GR0 bits 41-47 set: specification; T bit (GR0 bit 40) without APFT:
/// specification; APID > 63 or APQI > 15 (`GR0 & 0xc0f0`) without APXA in the CRYCB:
/// specification; no facility 65: specification.
pub fn kvm_pqap_check(env: &KvmPqapEnv, gr0: u64) -> KvmPqap {
    if !env.ap_instructions || !env.eca_apie {
        return KvmPqap::Userspace;
    }
    if (gr0 >> 24) & 0xff != u64::from(PQAP_FC_AQIC) {
        return KvmPqap::Userspace;
    }
    if env.problem_state {
        return KvmPqap::Program(PGM_PRIVILEGED_OP);
    }
    if gr0 & 0x007f_0000 != 0 {
        return KvmPqap::Program(PGM_SPECIFICATION);
    }
    if !env.apft && gr0 & 0x0080_0000 != 0 {
        return KvmPqap::Program(PGM_SPECIFICATION);
    }
    if !env.crycb_apxa && gr0 & 0xc0f0 != 0 {
        return KvmPqap::Program(PGM_SPECIFICATION);
    }
    if !env.aqic_facility {
        return KvmPqap::Program(PGM_SPECIFICATION);
    }
    KvmPqap::Hook
}

/// KVM without a registered hook: the status word with response code 0x01 is copied over the
/// **first** four bytes of GR1 (on big-endian s390 its upper half; the lower half keeps its
/// value) and the condition code is 3. Returns the new GR1 and the CC.
pub fn kvm_no_hook(gr1: u64) -> (u64, u8) {
    let st = u64::from(QueueStatus::new(rc::Q_NOT_AVAIL).0);
    ((st << 32) | (gr1 & 0xffff_ffff), 3)
}

/// After the hook returned 0: GR1 and the CC, 3 if the response code byte of GR1
/// (`GR1 & 0x00ff0000`) is non-zero, else 0.
pub fn kvm_hook_cc(gr1: u64) -> u8 {
    if gr1 & 0x00ff_0000 != 0 {
        3
    } else {
        0
    }
}

/// The registers of the intercepted PQAP(AQIC).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct PqapRegs {
    /// GR0: function code, APQN in bits 48-63.
    pub gr0: u64,
    /// GR1: the AQIC control (IR in bit 16, guest ISC in bits 61-63).
    pub gr1: u64,
    /// GR2: the guest address of the notification indicator byte.
    pub gr2: u64,
}

impl PqapRegs {
    /// `GR0 & 0xffff`.
    pub fn apqn(&self) -> Apqn {
        Apqn::from_qid((self.gr0 & 0xffff) as u16)
    }
}

/// What vfio_ap's hook does.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum PqapRequest {
    /// -EOPNOTSUPP (no `ECA_AIV`): to user space, no CC set.
    Userspace,
    /// Answer with this status (response code 0x01): no hook, the mdev has no guest, or the
    /// APQN is not linked in the mdev's `qtable`.
    Respond(QueueStatus),
    /// IR = 1: [`irq_enable`] for the queue with this guest ISC and NIB.
    Enable {
        /// The queue.
        apqn: Apqn,
        /// The guest ISC (`GR1 & 7`).
        isc: u8,
        /// The NIB guest address (GR2).
        nib: u64,
    },
    /// IR = 0: [`irq_disable`] for the queue.
    Disable {
        /// The queue.
        apqn: Apqn,
    },
}

/// vfio_ap's `handle_pqap`, under `mdevs_lock`: `eca_aiv` is `ECA_AIV` of the vcpu;
/// `mdev_has_kvm` is `None` without a registered hook, else whether the hook's mdev has a
/// guest; `linked(apqn)` whether the queue is in that mdev's `qtable`.
pub fn handle_pqap(
    eca_aiv: bool,
    mdev_has_kvm: Option<bool>,
    linked: impl FnOnce(Apqn) -> bool,
    regs: &PqapRegs,
) -> PqapRequest {
    if !eca_aiv {
        return PqapRequest::Userspace;
    }
    let apqn = regs.apqn();
    let not_avail = PqapRequest::Respond(QueueStatus::new(rc::Q_NOT_AVAIL));
    if mdev_has_kvm != Some(true) || !linked(apqn) {
        return not_avail;
    }
    let ctrl = AqicCtrl(regs.gr1);
    if ctrl.ir() {
        PqapRequest::Enable {
            apqn,
            isc: ctrl.isc(),
            nib: regs.gr2,
        }
    } else {
        PqapRequest::Disable { apqn }
    }
}

/// The end of vfio_ap's hook and KVM's: GR1 becomes the 32-bit status zero-extended (the C
/// `memcpy` then `>>= 32`), and the CC is 3 if its response code is non-zero, else 0.
pub fn pqap_result(status: QueueStatus) -> (u64, u8) {
    let gr1 = u64::from(status.0);
    (gr1, kvm_hook_cc(gr1))
}

/// The interruption state vfio_ap keeps per queue (`saved_iova`, `saved_isc`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct IrqState {
    /// The guest address of the pinned NIB, 0 if none.
    pub saved_iova: u64,
    /// The registered guest ISC, [`VFIO_AP_ISC_INVALID`] if none.
    pub saved_isc: u8,
}

impl Default for IrqState {
    fn default() -> Self {
        IrqState::NONE
    }
}

/// What freeing a queue's AQIC resources releases.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct FreeActions {
    /// `kvm_s390_gisc_unregister(kvm, isc)`.
    pub unregister_isc: Option<u8>,
    /// `vfio_unpin_pages(vdev, iova, 1)`.
    pub unpin_iova: Option<u64>,
}

impl IrqState {
    /// Nothing registered (a new queue: `saved_isc = 0xff`, `saved_iova = 0`).
    pub const NONE: IrqState = IrqState {
        saved_iova: 0,
        saved_isc: VFIO_AP_ISC_INVALID,
    };

    /// `vfio_ap_free_aqic_resources`: `linked` is whether the queue has an mdev
    /// (`q->matrix_mdev`), `has_kvm` whether that mdev has a guest. A registered ISC is
    /// unregistered only with a guest, but forgotten in any case (C WARNs without an mdev); a
    /// pinned NIB is unpinned and forgotten only with an mdev.
    pub fn free(&mut self, linked: bool, has_kvm: bool) -> FreeActions {
        let mut a = FreeActions::default();
        if self.saved_isc != VFIO_AP_ISC_INVALID {
            if linked && has_kvm {
                a.unregister_isc = Some(self.saved_isc);
            }
            self.saved_isc = VFIO_AP_ISC_INVALID;
        }
        if self.saved_iova != 0 && linked {
            a.unpin_iova = Some(self.saved_iova);
            self.saved_iova = 0;
        }
        a
    }
}

impl IrqState {
    /// [`IrqState::free`], carrying out what it releases through `env`.
    pub fn release(&mut self, linked: bool, has_kvm: bool, env: &mut impl IrqEnv) {
        let f = self.free(linked, has_kvm);
        if let Some(i) = f.unregister_isc {
            env.gisc_unregister(i);
        }
        if let Some(v) = f.unpin_iova {
            env.unpin(v);
        }
    }
}

/// `unmap_iova` of `vfio_ap_mdev_dma_unmap`: whether a queue's interruption is disabled for an
/// unmapped range (`saved_iova >= iova && saved_iova < iova + length`, the sum wrapping as the
/// C `u64` does; a queue without NIB has `saved_iova` 0).
pub fn iova_in_range(saved_iova: u64, iova: u64, length: u64) -> bool {
    saved_iova >= iova && saved_iova < iova.wrapping_add(length)
}

/// The services an interruption enable or disable needs, implemented by the glue for one queue
/// (all calls are made under `mdevs_lock`, as in C).
pub trait IrqEnv {
    /// `kvm_s390_is_gpa_in_memslot(kvm, nib)` (only asked for a non-zero NIB).
    fn nib_in_memslot(&mut self, nib: u64) -> bool;
    /// `vfio_pin_pages(vdev, nib, 1, READ | WRITE)`: the host physical address of the pinned
    /// page, or `None` unless exactly one page was pinned.
    fn pin(&mut self, nib: u64) -> Option<u64>;
    /// `vfio_unpin_pages(vdev, iova, 1)`.
    fn unpin(&mut self, iova: u64);
    /// `kvm_s390_pv_cpu_is_protected(vcpu)`.
    fn pv_protected(&mut self) -> bool;
    /// `uv_pin_shared(page) == 0` (only asked for protected guests).
    fn ensure_shared(&mut self, page: u64) -> bool;
    /// `kvm_s390_gisc_register(kvm, isc)`: the host ISC (NISC), or `None` on an error.
    fn gisc_register(&mut self, isc: u8) -> Option<u8>;
    /// `kvm_s390_gisc_unregister(kvm, isc)`.
    fn gisc_unregister(&mut self, isc: u8);
    /// The physical address of the guest's GISA (`virt_to_phys(kvm->arch.gisa_int.origin)`).
    fn gisa_phys(&mut self) -> u64;
    /// PQAP(AQIC) on the queue with GR1 `ctrl` and the host physical NIB address `nib`.
    fn aqic(&mut self, ctrl: AqicCtrl, nib: u64) -> QueueStatus;
    /// PQAP(TAPQ) on the queue (T bit 0).
    fn tapq(&mut self) -> QueueStatus;
    /// `msleep(ms)`.
    fn sleep_ms(&mut self, ms: u32);
}

/// The host AQIC control of an enable: IR = 1, ISC = the host `nisc`, GISC = the guest `isc`,
/// GISA = `gisa_phys >> 4` (27 bits), GF = 0, zone 0.
pub fn enable_ctrl(isc: u8, nisc: u8, gisa_phys: u64) -> AqicCtrl {
    let gisa = u32::try_from((gisa_phys >> 4) & 0x07ff_ffff).unwrap_or(0);
    AqicCtrl(0)
        .with_gisc(isc)
        .with_isc(nisc)
        .with_ir(true)
        .with_gisa(gisa)
}

/// The host physical NIB: the pinned page plus the NIB's offset in its page.
pub fn host_nib(page_phys: u64, nib: u64) -> u64 {
    page_phys | (nib & (PAGE_SIZE - 1))
}

/// `vfio_ap_irq_enable` for a linked queue of an mdev with a guest. Returns the status for the
/// guest:
///
/// * NIB 0 or not in a memslot, pin failure, a protected guest's NIB not shared (after
///   unpinning), GISC registration failure (after unpinning): response code 0x06;
/// * otherwise the host AQIC's status ([`enable_ctrl`], [`host_nib`]): on 0x00 the previous ISC
///   and NIB are freed and the new ones saved; on 0x07 the new ISC is unregistered and the
///   new NIB unpinned; on anything else (C: `pr_warn("%s: apqn %04x: response: %02x")`) the new
///   ISC and NIB are released (the fix, see the module documentation) and the interruption is
///   disabled ([`irq_disable`], whose status is not used).
pub fn irq_enable(state: &mut IrqState, isc: u8, nib: u64, env: &mut impl IrqEnv) -> QueueStatus {
    let invalid = QueueStatus::new(rc::INVALID_ADDRESS);
    if nib == 0 || !env.nib_in_memslot(nib) {
        return invalid;
    }
    let Some(page) = env.pin(nib) else {
        return invalid;
    };
    let h_nib = host_nib(page, nib);
    if env.pv_protected() && !env.ensure_shared(h_nib & !(PAGE_SIZE - 1)) {
        env.unpin(nib);
        return invalid;
    }
    let Some(nisc) = env.gisc_register(isc) else {
        env.unpin(nib);
        return invalid;
    };
    let gisa = env.gisa_phys();
    let st = env.aqic(enable_ctrl(isc, nisc, gisa), h_nib);
    match st.response_code() {
        rc::NORMAL => {
            state.release(true, true, env);
            state.saved_iova = nib;
            state.saved_isc = isc;
        }
        rc::OTHERWISE_CHANGED => {
            env.gisc_unregister(isc);
            env.unpin(nib);
        }
        _ => {
            env.gisc_unregister(isc);
            env.unpin(nib);
            irq_disable(state, true, true, env);
        }
    }
    st
}

/// Why C WARNs during a disable.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DisableWarn {
    /// `"%s: ap_aqic status %d"`: AQIC answered an unexpected code, or was still busy after
    /// the last retry.
    AqicStatus(u8),
    /// `"%s: tapq rc %02x: %04x"`: TAPQ answered an unexpected code while waiting for the
    /// interruption to clear.
    TapqStatus(u8),
    /// `"%s: tapq rc %02x: %04x could not clear IR bit"`: still enabled after 5 TAPQs.
    IrqNotCleared(u8),
}

/// The end of a disable: the glue frees the AQIC resources ([`IrqState::free`]) in every case.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct DisableOutcome {
    /// The last AQIC status (what the guest gets).
    pub status: QueueStatus,
    /// A C warning, if any.
    pub warn: Option<DisableWarn>,
}

/// What a [`DisableMachine`] needs next.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DisableAction {
    /// PQAP(AQIC) with an all-zero control and NIB 0; answer [`DisableInput::Aqic`].
    Aqic,
    /// PQAP(TAPQ); answer [`DisableInput::Tapq`].
    Tapq,
    /// Sleep [`AQIC_SLEEP_MS`]; answer [`DisableInput::Slept`].
    Sleep,
    /// Finished: free the AQIC resources.
    Done(DisableOutcome),
}

/// An answer for a [`DisableMachine`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DisableInput {
    /// The AQIC status.
    Aqic(QueueStatus),
    /// The TAPQ status.
    Tapq(QueueStatus),
    /// The sleep is over.
    Slept,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum DState {
    Aqic,
    AqicSleep,
    Tapq,
    TapqSleep,
    Done(DisableOutcome),
}

/// `vfio_ap_irq_disable` as a step machine: AQIC (all zero) up to 6 times while it answers
/// 0x02 or 0x05 (a 20 ms sleep after each, the C `do { } while (retries--)` from 5); on 0x00
/// or 0x07 `vfio_ap_wait_for_irqclear`: up to 5 TAPQs, 20 ms apart, until a 0x00 or 0x02
/// answer has the I bit clear (0x05, or I still set, waits; any other code WARNs and ends);
/// any other AQIC code WARNs and ends. The AQIC resources are freed at every end.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct DisableMachine {
    state: DState,
    aqic_retries: u8,
    tapq_retries: u8,
    status: QueueStatus,
    tapq_status: QueueStatus,
}

impl Default for DisableMachine {
    fn default() -> Self {
        DisableMachine::new()
    }
}

impl DisableMachine {
    /// A disable; its first action is [`DisableAction::Aqic`].
    pub const fn new() -> DisableMachine {
        DisableMachine {
            state: DState::Aqic,
            aqic_retries: 5,
            tapq_retries: 5,
            status: QueueStatus(0),
            tapq_status: QueueStatus(0),
        }
    }

    /// The pending action.
    pub fn action(&self) -> DisableAction {
        match self.state {
            DState::Aqic => DisableAction::Aqic,
            DState::Tapq => DisableAction::Tapq,
            DState::AqicSleep | DState::TapqSleep => DisableAction::Sleep,
            DState::Done(o) => DisableAction::Done(o),
        }
    }

    fn done(&mut self, warn: Option<DisableWarn>) -> DisableAction {
        let o = DisableOutcome {
            status: self.status,
            warn,
        };
        self.state = DState::Done(o);
        DisableAction::Done(o)
    }

    /// Feeds an answer; an input that does not answer the pending action is ignored.
    pub fn step(&mut self, input: DisableInput) -> DisableAction {
        match (self.state, input) {
            (DState::Aqic, DisableInput::Aqic(st)) => {
                self.status = st;
                match st.response_code() {
                    rc::OTHERWISE_CHANGED | rc::NORMAL => {
                        self.state = DState::Tapq;
                        DisableAction::Tapq
                    }
                    rc::RESET_IN_PROGRESS | rc::BUSY => {
                        self.state = DState::AqicSleep;
                        DisableAction::Sleep
                    }
                    code => self.done(Some(DisableWarn::AqicStatus(code))),
                }
            }
            (DState::AqicSleep, DisableInput::Slept) => {
                if self.aqic_retries == 0 {
                    let code = self.status.response_code();
                    return self.done(Some(DisableWarn::AqicStatus(code)));
                }
                self.aqic_retries = self.aqic_retries.saturating_sub(1);
                self.state = DState::Aqic;
                DisableAction::Aqic
            }
            (DState::Tapq, DisableInput::Tapq(st)) => match st.response_code() {
                rc::NORMAL | rc::RESET_IN_PROGRESS if !st.irq_enabled() => self.done(None),
                rc::NORMAL | rc::RESET_IN_PROGRESS | rc::BUSY => {
                    self.tapq_status = st;
                    self.state = DState::TapqSleep;
                    DisableAction::Sleep
                }
                code => self.done(Some(DisableWarn::TapqStatus(code))),
            },
            (DState::TapqSleep, DisableInput::Slept) => {
                self.tapq_retries = self.tapq_retries.saturating_sub(1);
                if self.tapq_retries == 0 {
                    let code = self.tapq_status.response_code();
                    return self.done(Some(DisableWarn::IrqNotCleared(code)));
                }
                self.state = DState::Tapq;
                DisableAction::Tapq
            }
            _ => self.action(),
        }
    }

    /// Runs the machine to its end: `answer` performs each action other than
    /// [`DisableAction::Done`] (blocking for a sleep) and returns its answer.
    ///
    /// A disable takes at most 22 actions; if `answer` keeps answering something else than
    /// what was asked, the machine gives up after 64 and ends with the last AQIC status.
    pub fn run(&mut self, mut answer: impl FnMut(DisableAction) -> DisableInput) -> DisableOutcome {
        for _ in 0..64 {
            match self.action() {
                DisableAction::Done(o) => return o,
                a => {
                    let input = answer(a);
                    self.step(input);
                }
            }
        }
        if let DisableAction::Done(o) = self.action() {
            return o;
        }
        let warn = Some(DisableWarn::AqicStatus(self.status.response_code()));
        self.done(warn);
        DisableOutcome {
            status: self.status,
            warn,
        }
    }
}

/// `vfio_ap_irq_disable` over an [`IrqEnv`]: runs a [`DisableMachine`], then frees the AQIC
/// resources ([`IrqState::free`] with `linked`/`has_kvm` as for the queue). Returns the
/// outcome (its status is the guest's answer for an IR = 0 request).
pub fn irq_disable(
    state: &mut IrqState,
    linked: bool,
    has_kvm: bool,
    env: &mut impl IrqEnv,
) -> DisableOutcome {
    let o = DisableMachine::new().run(|a| match a {
        DisableAction::Aqic => DisableInput::Aqic(env.aqic(AqicCtrl(0), 0)),
        DisableAction::Tapq => DisableInput::Tapq(env.tapq()),
        _ => {
            env.sleep_ms(AQIC_SLEEP_MS);
            DisableInput::Slept
        }
    });
    state.release(linked, has_kvm, env);
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[derive(Clone, Debug, PartialEq, Eq)]
    enum Call {
        Memslot(u64),
        Pin(u64),
        Unpin(u64),
        Pv,
        Shared(u64),
        Reg(u8),
        Unreg(u8),
        Aqic(u64, u64),
        Tapq,
        Sleep(u32),
    }

    struct Env {
        calls: Vec<Call>,
        memslot: bool,
        pin: Option<u64>,
        pv: bool,
        shared: bool,
        nisc: Option<u8>,
        aqic: Vec<u8>,
        tapq: Vec<QueueStatus>,
    }

    impl Env {
        fn new() -> Env {
            Env {
                calls: Vec::new(),
                memslot: true,
                pin: Some(0x7000),
                pv: false,
                shared: true,
                nisc: Some(6),
                aqic: Vec::from([0]),
                tapq: Vec::from([QueueStatus::new(0)]),
            }
        }
    }

    impl IrqEnv for Env {
        fn nib_in_memslot(&mut self, nib: u64) -> bool {
            self.calls.push(Call::Memslot(nib));
            self.memslot
        }
        fn pin(&mut self, nib: u64) -> Option<u64> {
            self.calls.push(Call::Pin(nib));
            self.pin
        }
        fn unpin(&mut self, iova: u64) {
            self.calls.push(Call::Unpin(iova));
        }
        fn pv_protected(&mut self) -> bool {
            self.calls.push(Call::Pv);
            self.pv
        }
        fn ensure_shared(&mut self, page: u64) -> bool {
            self.calls.push(Call::Shared(page));
            self.shared
        }
        fn gisc_register(&mut self, isc: u8) -> Option<u8> {
            self.calls.push(Call::Reg(isc));
            self.nisc
        }
        fn gisc_unregister(&mut self, isc: u8) {
            self.calls.push(Call::Unreg(isc));
        }
        fn gisa_phys(&mut self) -> u64 {
            0x1234_5670
        }
        fn aqic(&mut self, ctrl: AqicCtrl, nib: u64) -> QueueStatus {
            self.calls.push(Call::Aqic(ctrl.0, nib));
            let c = if self.aqic.len() > 1 {
                self.aqic.remove(0)
            } else {
                self.aqic[0]
            };
            QueueStatus::new(c)
        }
        fn tapq(&mut self) -> QueueStatus {
            self.calls.push(Call::Tapq);
            if self.tapq.len() > 1 {
                self.tapq.remove(0)
            } else {
                self.tapq[0]
            }
        }
        fn sleep_ms(&mut self, ms: u32) {
            self.calls.push(Call::Sleep(ms));
        }
    }

    fn env_ok() -> KvmPqapEnv {
        KvmPqapEnv {
            ap_instructions: true,
            eca_apie: true,
            problem_state: false,
            apft: true,
            crycb_apxa: true,
            aqic_facility: true,
        }
    }

    const AQIC_GR0: u64 = 0x0300_0000;

    #[test]
    fn kvm_checks_in_order() {
        let e = env_ok();
        assert_eq!(kvm_pqap_check(&e, AQIC_GR0 | 0x0105), KvmPqap::Hook);
        let no = |f: fn(&mut KvmPqapEnv)| {
            let mut x = env_ok();
            f(&mut x);
            x
        };
        assert_eq!(
            kvm_pqap_check(&no(|x| x.ap_instructions = false), AQIC_GR0),
            KvmPqap::Userspace
        );
        assert_eq!(
            kvm_pqap_check(&no(|x| x.eca_apie = false), AQIC_GR0),
            KvmPqap::Userspace
        );
        // QCI (fc 4) and TAPQ (fc 0) go to user space.
        assert_eq!(kvm_pqap_check(&e, 0x0400_0000), KvmPqap::Userspace);
        assert_eq!(kvm_pqap_check(&e, 0), KvmPqap::Userspace);
        // Problem state beats the specification checks.
        assert_eq!(
            kvm_pqap_check(&no(|x| x.problem_state = true), AQIC_GR0 | 0x007f_0000),
            KvmPqap::Program(PGM_PRIVILEGED_OP)
        );
        assert_eq!(
            kvm_pqap_check(&e, AQIC_GR0 | 0x0001_0000),
            KvmPqap::Program(PGM_SPECIFICATION)
        );
        assert_eq!(kvm_pqap_check(&e, AQIC_GR0 | 0x0080_0000), KvmPqap::Hook);
        assert_eq!(
            kvm_pqap_check(&no(|x| x.apft = false), AQIC_GR0 | 0x0080_0000),
            KvmPqap::Program(PGM_SPECIFICATION)
        );
        let f1 = no(|x| x.crycb_apxa = false);
        assert_eq!(kvm_pqap_check(&f1, AQIC_GR0 | 0x3f0f), KvmPqap::Hook);
        assert_eq!(
            kvm_pqap_check(&f1, AQIC_GR0 | 0x4000),
            KvmPqap::Program(PGM_SPECIFICATION)
        );
        assert_eq!(
            kvm_pqap_check(&f1, AQIC_GR0 | 0x0010),
            KvmPqap::Program(PGM_SPECIFICATION)
        );
        assert_eq!(
            kvm_pqap_check(&no(|x| x.aqic_facility = false), AQIC_GR0),
            KvmPqap::Program(PGM_SPECIFICATION)
        );
    }

    #[test]
    fn kvm_results() {
        assert_eq!(
            kvm_no_hook(0x1111_2222_3333_4444),
            (0x0001_0000_3333_4444, 3)
        );
        assert_eq!(kvm_hook_cc(0x0001_0000), 3);
        assert_eq!(kvm_hook_cc(0x8000_0000), 0);
        assert_eq!(
            pqap_result(QueueStatus::new(0).with_irq(true)),
            (0x0100_0000, 0)
        );
        assert_eq!(pqap_result(QueueStatus::new(6)), (0x0006_0000, 3));
    }

    #[test]
    fn vfio_hook_decisions() {
        let regs = PqapRegs {
            gr0: AQIC_GR0 | 0x0512,
            gr1: (1 << 47) | 5,
            gr2: 0x8004,
        };
        assert_eq!(
            handle_pqap(false, Some(true), |_| true, &regs),
            PqapRequest::Userspace
        );
        let na = PqapRequest::Respond(QueueStatus::new(1));
        assert_eq!(handle_pqap(true, None, |_| true, &regs), na);
        assert_eq!(handle_pqap(true, Some(false), |_| true, &regs), na);
        assert_eq!(handle_pqap(true, Some(true), |_| false, &regs), na);
        let mut seen = None;
        let r = handle_pqap(
            true,
            Some(true),
            |q| {
                seen = Some(q);
                true
            },
            &regs,
        );
        assert_eq!(seen, Some(Apqn::new(5, 0x12)));
        assert_eq!(
            r,
            PqapRequest::Enable {
                apqn: Apqn::new(5, 0x12),
                isc: 5,
                nib: 0x8004
            }
        );
        let regs = PqapRegs { gr1: 7, ..regs };
        assert_eq!(
            handle_pqap(true, Some(true), |_| true, &regs),
            PqapRequest::Disable {
                apqn: Apqn::new(5, 0x12)
            }
        );
    }

    #[test]
    fn enable_ctrl_word() {
        let c = enable_ctrl(5, 6, 0x1234_5670);
        assert!(c.ir());
        assert_eq!((c.gisc(), c.isc(), c.gf(), c.zone()), (5, 6, 0, 0));
        assert_eq!(c.gisa(), 0x0123_4567);
        assert_eq!(host_nib(0x7000, 0x8_0abc), 0x7abc);
    }

    #[test]
    fn enable_success_frees_previous() {
        let mut e = Env::new();
        let mut s = IrqState {
            saved_iova: 0x5000,
            saved_isc: 2,
        };
        let st = irq_enable(&mut s, 3, 0x8004, &mut e);
        assert_eq!(st.response_code(), 0);
        assert_eq!(
            s,
            IrqState {
                saved_iova: 0x8004,
                saved_isc: 3
            }
        );
        let ctrl = enable_ctrl(3, 6, 0x1234_5670).0;
        assert_eq!(
            e.calls,
            [
                Call::Memslot(0x8004),
                Call::Pin(0x8004),
                Call::Pv,
                Call::Reg(3),
                Call::Aqic(ctrl, 0x7004),
                Call::Unreg(2),
                Call::Unpin(0x5000)
            ]
        );
    }

    #[test]
    fn enable_invalid_address_paths() {
        let mut s = IrqState::NONE;
        let mut e = Env::new();
        assert_eq!(irq_enable(&mut s, 3, 0, &mut e).response_code(), 6);
        assert!(e.calls.is_empty());
        let mut e = Env::new();
        e.memslot = false;
        assert_eq!(irq_enable(&mut s, 3, 8, &mut e).response_code(), 6);
        assert_eq!(e.calls, [Call::Memslot(8)]);
        let mut e = Env::new();
        e.pin = None;
        assert_eq!(irq_enable(&mut s, 3, 8, &mut e).response_code(), 6);
        assert_eq!(e.calls, [Call::Memslot(8), Call::Pin(8)]);
        let mut e = Env::new();
        e.pv = true;
        e.shared = false;
        assert_eq!(irq_enable(&mut s, 3, 0x8008, &mut e).response_code(), 6);
        assert_eq!(
            e.calls,
            [
                Call::Memslot(0x8008),
                Call::Pin(0x8008),
                Call::Pv,
                Call::Shared(0x7000),
                Call::Unpin(0x8008)
            ]
        );
        let mut e = Env::new();
        e.nisc = None;
        assert_eq!(irq_enable(&mut s, 3, 8, &mut e).response_code(), 6);
        assert_eq!(
            e.calls,
            [
                Call::Memslot(8),
                Call::Pin(8),
                Call::Pv,
                Call::Reg(3),
                Call::Unpin(8)
            ]
        );
        assert_eq!(s, IrqState::NONE);
    }

    #[test]
    fn enable_otherwise_changed() {
        let mut e = Env::new();
        e.aqic = Vec::from([7]);
        let mut s = IrqState {
            saved_iova: 0x5000,
            saved_isc: 2,
        };
        let st = irq_enable(&mut s, 3, 8, &mut e);
        assert_eq!(st.response_code(), 7);
        assert_eq!(&e.calls[5..], [Call::Unreg(3), Call::Unpin(8)]);
        // The previous registration stays.
        assert_eq!(s.saved_isc, 2);
    }

    #[test]
    fn enable_failure_releases_new_and_disables() {
        let mut e = Env::new();
        // Enable fails with 0x06, then the disable AQIC answers 0, TAPQ irq clear.
        e.aqic = Vec::from([6, 0]);
        let mut s = IrqState {
            saved_iova: 0x5000,
            saved_isc: 2,
        };
        let st = irq_enable(&mut s, 3, 8, &mut e);
        assert_eq!(st.response_code(), 6);
        assert_eq!(
            &e.calls[5..],
            [
                Call::Unreg(3),
                Call::Unpin(8),
                Call::Aqic(0, 0),
                Call::Tapq,
                Call::Unreg(2),
                Call::Unpin(0x5000)
            ]
        );
        assert_eq!(s, IrqState::NONE);
    }

    fn run_disable(aqic: &[u8], tapq: &[QueueStatus]) -> (DisableOutcome, usize, usize, usize) {
        let (mut na, mut nt, mut ns) = (0usize, 0usize, 0usize);
        let o = DisableMachine::new().run(|a| match a {
            DisableAction::Aqic => {
                let c = *aqic.get(na).or(aqic.last()).unwrap();
                na += 1;
                DisableInput::Aqic(QueueStatus::new(c))
            }
            DisableAction::Tapq => {
                let s = *tapq.get(nt).or(tapq.last()).unwrap();
                nt += 1;
                DisableInput::Tapq(s)
            }
            _ => {
                ns += 1;
                DisableInput::Slept
            }
        });
        (o, na, nt, ns)
    }

    #[test]
    fn disable_retries_six_aqics() {
        let (o, na, nt, ns) = run_disable(&[5], &[QueueStatus::new(0)]);
        assert_eq!((na, nt, ns), (6, 0, 6));
        assert_eq!(o.warn, Some(DisableWarn::AqicStatus(5)));
        assert_eq!(o.status.response_code(), 5);
        let (o, na, nt, ns) = run_disable(&[2, 2, 0], &[QueueStatus::new(0)]);
        assert_eq!((na, nt, ns), (3, 1, 2));
        assert_eq!(o.warn, None);
        assert_eq!(o.status.response_code(), 0);
    }

    #[test]
    fn disable_waits_for_irq_clear_five_tapqs() {
        let on = QueueStatus::new(0).with_irq(true);
        let (o, na, nt, ns) = run_disable(&[7], &[on]);
        assert_eq!((na, nt, ns), (1, 5, 5));
        assert_eq!(o.warn, Some(DisableWarn::IrqNotCleared(0)));
        assert_eq!(o.status.response_code(), 7);
        let (o, _, nt, ns) = run_disable(&[0], &[QueueStatus::new(5), on, QueueStatus::new(2)]);
        assert_eq!((nt, ns), (3, 2));
        assert_eq!(o.warn, None);
        let (o, _, nt, _) = run_disable(&[0], &[QueueStatus::new(3)]);
        assert_eq!(nt, 1);
        assert_eq!(o.warn, Some(DisableWarn::TapqStatus(3)));
        let (o, na, nt, ns) = run_disable(&[1], &[QueueStatus::new(0)]);
        assert_eq!((na, nt, ns), (1, 0, 0));
        assert_eq!(o.warn, Some(DisableWarn::AqicStatus(1)));
    }

    #[test]
    fn disable_run_gives_up_on_wrong_answers() {
        let o = DisableMachine::new().run(|_| DisableInput::Slept);
        assert_eq!(o.warn, Some(DisableWarn::AqicStatus(0)));
    }

    #[test]
    fn irq_disable_frees() {
        let mut e = Env::new();
        let mut s = IrqState {
            saved_iova: 0x5000,
            saved_isc: 2,
        };
        let o = irq_disable(&mut s, true, false, &mut e);
        assert_eq!(o.status.response_code(), 0);
        // No guest: the ISC is forgotten without unregistering.
        assert_eq!(e.calls, [Call::Aqic(0, 0), Call::Tapq, Call::Unpin(0x5000)]);
        assert_eq!(s, IrqState::NONE);
    }

    #[test]
    fn free_rules() {
        let full = IrqState {
            saved_iova: 0x5000,
            saved_isc: 2,
        };
        let mut s = full;
        assert_eq!(
            s.free(true, true),
            FreeActions {
                unregister_isc: Some(2),
                unpin_iova: Some(0x5000)
            }
        );
        assert_eq!(s, IrqState::NONE);
        let mut s = full;
        assert_eq!(s.free(false, false), FreeActions::default());
        assert_eq!(
            s,
            IrqState {
                saved_iova: 0x5000,
                saved_isc: VFIO_AP_ISC_INVALID
            }
        );
        let mut s = IrqState::NONE;
        assert_eq!(s.free(true, true), FreeActions::default());
    }

    #[test]
    fn unmap_range() {
        assert!(iova_in_range(0x1000, 0x1000, 1));
        assert!(!iova_in_range(0x1001, 0x1000, 1));
        assert!(!iova_in_range(0xfff, 0x1000, 0x100));
        assert!(iova_in_range(0, 0, 4096));
        // iova + length wraps to a small value: nothing matches (C u64 arithmetic).
        assert!(!iova_in_range(u64::MAX - 1, u64::MAX - 2, 10));
    }
}
