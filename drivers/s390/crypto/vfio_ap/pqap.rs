// SPDX-License-Identifier: GPL-2.0

//! Interruption enables and disables of a guest's PQAP(AQIC): the simulated guest's environment
//! and an s390 KVM guest's.

use core::sync::atomic::{
    AtomicU32,
    Ordering, //
};
use kernel::time::{
    delay::fsleep,
    Delta, //
};

use crate::{
    abs::{
        ap_services,
        kvm::{
            KvmRef,
            VcpuRef, //
        },
        mdev::GlueMdev, //
    },
    guests::GuestKey,
    mdev_state::{
        MdevRec,
        QueueRec, //
    },
    model::{
        aqic::{
            self,
            IrqEnv, //
        },
        hw::{
            AqicCtrl,
            QueueStatus, //
        },
        ids::Apqn, //
    },
    reset::apqn_raw, //
};

/// Guest pages pinned for notification indicator bytes of simulated guests (pinned by an AQIC
/// enable, unpinned when the interruption is disabled or the queue's AQIC resources are freed).
pub(crate) static SIM_PINS: AtomicU32 = AtomicU32::new(0);

/// The simulated guest's side of an interruption enable or disable for queue `apqn`: guest
/// memory is the first GiB, a pinned page has a made-up host address, the host ISC is the guest
/// ISC, and the AQIC and TAPQ go to the bus's AP facility (the simulator).
pub(crate) struct SimIrqEnv {
    pub(crate) apqn: Apqn,
}

/// The simulated guest's memory size.
pub(crate) const SIM_GUEST_MEM: u64 = 1 << 30;

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
pub(crate) struct KvmIrqEnv<'a> {
    pub(crate) glue: &'a GlueMdev,
    pub(crate) kvm: KvmRef,
    pub(crate) vcpu: Option<VcpuRef>,
}

/// The services of an interruption enable or disable of queue `sim.apqn`: the KVM guest's if
/// the queue's mdev has one, else the simulated guest's.
pub(crate) struct AnyIrqEnv<'a> {
    pub(crate) sim: SimIrqEnv,
    pub(crate) kvm: Option<KvmIrqEnv<'a>>,
    pub(crate) _guest: core::marker::PhantomData<&'a MdevRec>,
}

impl AnyIrqEnv<'_> {
    /// The environment of a queue linked to mdev `mdev` of `list`; `vcpu` is the vCPU whose
    /// PQAP is intercepted, if any.
    pub(crate) fn new(
        list: &[MdevRec],
        mdev: Option<u32>,
        apqn: Apqn,
        vcpu: Option<VcpuRef>,
    ) -> AnyIrqEnv<'_> {
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
        if self.kvm.is_some() {
            return true;
        }
        self.sim.nib_in_memslot(nib)
    }
    fn pin(&mut self, nib: u64) -> Option<u64> {
        if let Some(k) = &self.kvm {
            return k.kvm.pin(k.glue, nib);
        }
        self.sim.pin(nib)
    }
    fn unpin(&mut self, iova: u64) {
        if let Some(k) = &self.kvm {
            return k.kvm.unpin(k.glue, iova);
        }
        self.sim.unpin(iova)
    }
    fn pv_protected(&mut self) -> bool {
        if let Some(k) = &self.kvm {
            return k.vcpu.is_some_and(|v| v.pv_protected());
        }
        self.sim.pv_protected()
    }
    fn ensure_shared(&mut self, page: u64) -> bool {
        if let Some(k) = &self.kvm {
            return k.kvm.uv_pin_shared(page);
        }
        self.sim.ensure_shared(page)
    }
    fn gisc_register(&mut self, isc: u8) -> Option<u8> {
        if let Some(k) = &self.kvm {
            return k.kvm.gisc_register(isc);
        }
        self.sim.gisc_register(isc)
    }
    fn gisc_unregister(&mut self, isc: u8) {
        if let Some(k) = &self.kvm {
            return k.kvm.gisc_unregister(isc);
        }
        self.sim.gisc_unregister(isc)
    }
    fn gisa_phys(&mut self) -> u64 {
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
pub(crate) fn free_aqic(list: &[MdevRec], q: &mut QueueRec) {
    let has_kvm = list
        .iter()
        .any(|m| Some(m.id) == q.mdev && m.guest.is_some());
    let mut env = AnyIrqEnv::new(list, q.mdev, q.apqn, None);
    q.irq.release(q.mdev.is_some(), has_kvm, &mut env);
}
