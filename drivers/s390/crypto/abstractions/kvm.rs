// SPDX-License-Identifier: GPL-2.0

//! The s390 KVM guest an mdev's VFIO device is opened for, and the one place that chooses
//! between KVM for s390 and its absence.
//!
//! With KVM for s390 (`CONFIG_S390` and `CONFIG_KVM`) the types below reach the guest through
//! `vfio_ap.ko`'s C glue: its CRYCB masks under `kvm->lock`, its GISA, the vCPU of an
//! intercepted PQAP, the pinning of a notification byte. Everywhere else (x86_64, s390 without
//! KVM) no such guest exists: the same types with the same methods are there, but no value of
//! them can be made (they are uninhabited), so `vfio_ap.ko` names KVM guests without a `cfg` of
//! its own and the compiler drops what it does with them.

pub use imp::*;

/// `struct kvm` (opaque).
#[repr(C)]
pub struct RawKvm {
    _private: [u8; 0],
}

/// `struct kvm_vcpu` (opaque).
#[repr(C)]
pub struct RawVcpu {
    _private: [u8; 0],
}

#[cfg(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m")))]
mod imp {
    use super::{
        super::mdev::{
            GlueMdev,
            RawGlueMdev, //
        },
        RawKvm,
        RawVcpu, //
    };
    use kernel::ffi::c_int;

    extern "C" {
        fn vfio_ap_glue_kvm_crycbd(kvm: *mut RawKvm) -> u32;
        fn vfio_ap_glue_kvm_get(kvm: *mut RawKvm);
        fn vfio_ap_glue_kvm_put(kvm: *mut RawKvm);
        fn vfio_ap_glue_kvm_lock(kvm: *mut RawKvm);
        fn vfio_ap_glue_kvm_unlock(kvm: *mut RawKvm);
        fn vfio_ap_glue_kvm_set_masks(
            kvm: *mut RawKvm,
            apm: *const u8,
            aqm: *const u8,
            adm: *const u8,
        );
        fn vfio_ap_glue_kvm_clear_masks(kvm: *mut RawKvm);
        fn vfio_ap_glue_kvm_gisc_register(kvm: *mut RawKvm, isc: u32) -> c_int;
        fn vfio_ap_glue_kvm_gisc_unregister(kvm: *mut RawKvm, isc: u32);
        fn vfio_ap_glue_kvm_gisa_phys(kvm: *mut RawKvm) -> u64;
        fn vfio_ap_glue_vcpu_pv_protected(vcpu: *mut RawVcpu) -> bool;
        fn vfio_ap_glue_uv_pin_shared(paddr: u64) -> bool;
        fn vfio_ap_glue_pin(m: *mut RawGlueMdev, iova: u64, phys: *mut u64) -> c_int;
        fn vfio_ap_glue_unpin(m: *mut RawGlueMdev, iova: u64);
    }

    /// The KVM a VFIO device was opened with.
    ///
    /// # Invariants
    ///
    /// Points to a `struct kvm` that stays alive while the device is open (the VFIO core holds
    /// a reference from open to close).
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub struct KvmRef(*mut RawKvm);

    // SAFETY: a `struct kvm` may be referenced from any thread.
    unsafe impl Send for KvmRef {}

    impl KvmRef {
        /// The KVM the VFIO core opened a device with (`None` for a null pointer).
        ///
        /// # Safety
        ///
        /// `kvm` is null or a `struct kvm` the VFIO core keeps alive until the device is
        /// closed, and the value is used only until then.
        pub unsafe fn from_raw(kvm: *mut RawKvm) -> Option<KvmRef> {
            // INVARIANT: alive while the device is open (caller).
            (!kvm.is_null()).then_some(KvmRef(kvm))
        }

        /// The CRYCB designation (`kvm->arch.crypto.crycbd`; 0: the guest has no CRYCB).
        pub fn crycbd(&self) -> u32 {
            // SAFETY: alive while the device is open (type invariant).
            unsafe { vfio_ap_glue_kvm_crycbd(self.0) }
        }

        /// Takes a reference on the KVM.
        pub fn hold(&self) -> KvmHold {
            // SAFETY: alive (type invariant); the reference is dropped by `KvmHold`.
            unsafe { vfio_ap_glue_kvm_get(self.0) };
            // INVARIANT: referenced above.
            KvmHold(*self)
        }

        /// `kvm_s390_gisc_register`: the host ISC, or `None` on an error.
        pub fn gisc_register(&self, isc: u8) -> Option<u8> {
            // SAFETY: alive while the device is open (type invariant).
            let r = unsafe { vfio_ap_glue_kvm_gisc_register(self.0, u32::from(isc)) };
            u8::try_from(r).ok()
        }

        /// `kvm_s390_gisc_unregister`.
        pub fn gisc_unregister(&self, isc: u8) {
            // SAFETY: alive while the device is open (type invariant).
            unsafe { vfio_ap_glue_kvm_gisc_unregister(self.0, u32::from(isc)) };
        }

        /// The physical address of the guest's GISA.
        pub fn gisa_phys(&self) -> u64 {
            // SAFETY: alive while the device is open (type invariant).
            unsafe { vfio_ap_glue_kvm_gisa_phys(self.0) }
        }

        /// `uv_pin_shared(paddr) == 0`: the page of this (protected) guest is shared with the
        /// host.
        pub fn uv_pin_shared(&self, paddr: u64) -> bool {
            // SAFETY: no pointer arguments; the ultravisor checks the address.
            unsafe { vfio_ap_glue_uv_pin_shared(paddr) }
        }

        /// `vfio_pin_pages` of the guest page at `iova` through the mdev's VFIO device (one
        /// page, read/write): its physical address.
        pub fn pin(&self, glue: &GlueMdev, iova: u64) -> Option<u64> {
            let mut phys = 0u64;
            // SAFETY: the glue object is live (`GlueMdev`'s invariant) and its VFIO device
            // open (it was opened with this KVM, type invariant); `phys` is writable.
            (unsafe { vfio_ap_glue_pin(glue.0, iova, &mut phys) } == 0).then_some(phys)
        }

        /// `vfio_unpin_pages` of a page pinned by [`KvmRef::pin`].
        pub fn unpin(&self, glue: &GlueMdev, iova: u64) {
            // SAFETY: as in `pin`.
            unsafe { vfio_ap_glue_unpin(glue.0, iova) };
        }
    }

    /// An s390 KVM guest that vfio_ap holds (a reference on its `struct kvm`, from attach to
    /// detach).
    ///
    /// # Invariants
    ///
    /// Holds one reference on the KVM, dropped on drop.
    pub struct KvmHold(KvmRef);

    impl KvmHold {
        /// The KVM.
        pub fn kvm(&self) -> KvmRef {
            self.0
        }

        /// Takes `kvm->lock` (sleeps).
        pub fn lock(&self) -> KvmLock {
            // SAFETY: referenced (type invariant); both are released by `KvmLock`.
            unsafe {
                vfio_ap_glue_kvm_get(self.0 .0);
                vfio_ap_glue_kvm_lock(self.0 .0);
            }
            // INVARIANT: referenced and locked above.
            KvmLock(self.0)
        }
    }

    impl Drop for KvmHold {
        fn drop(&mut self) {
            // SAFETY: referenced (type invariant).
            unsafe { vfio_ap_glue_kvm_put(self.0 .0) };
        }
    }

    /// The `kvm->lock` of a held KVM guest, held (with its own reference on the KVM). The C
    /// lock order puts it after `guests_lock` and before `mdevs_lock`.
    ///
    /// # Invariants
    ///
    /// Holds a reference on the KVM and its `kvm->lock`.
    pub struct KvmLock(KvmRef);

    impl KvmLock {
        /// `kvm_arch_crypto_set_masks`: the guest's CRYCB gets these 256-bit masks.
        pub fn set_masks(&self, apm: &[u8; 32], aqm: &[u8; 32], adm: &[u8; 32]) {
            // SAFETY: referenced and `kvm->lock` held (type invariant); three 32-byte masks.
            unsafe {
                vfio_ap_glue_kvm_set_masks(self.0 .0, apm.as_ptr(), aqm.as_ptr(), adm.as_ptr())
            };
        }

        /// `kvm_arch_crypto_clear_masks`.
        pub fn clear_masks(&self) {
            // SAFETY: referenced and `kvm->lock` held (type invariant).
            unsafe { vfio_ap_glue_kvm_clear_masks(self.0 .0) };
        }
    }

    impl Drop for KvmLock {
        fn drop(&mut self) {
            // SAFETY: referenced and locked (type invariant).
            unsafe {
                vfio_ap_glue_kvm_unlock(self.0 .0);
                vfio_ap_glue_kvm_put(self.0 .0);
            }
        }
    }

    /// The vCPU whose PQAP is being intercepted.
    ///
    /// # Invariants
    ///
    /// Points to a `struct kvm_vcpu` that runs the intercepted instruction during the callback
    /// that made this value.
    #[derive(Clone, Copy)]
    pub struct VcpuRef(*mut RawVcpu);

    impl VcpuRef {
        /// The vCPU of an intercepted PQAP.
        ///
        /// # Safety
        ///
        /// `vcpu` runs the intercepted instruction until the value is dropped.
        pub unsafe fn from_raw(vcpu: *mut RawVcpu) -> VcpuRef {
            // INVARIANT: guaranteed by the caller.
            VcpuRef(vcpu)
        }

        /// `kvm_s390_pv_cpu_is_protected`.
        pub fn pv_protected(&self) -> bool {
            // SAFETY: running the intercepted instruction (type invariant).
            unsafe { vfio_ap_glue_vcpu_pv_protected(self.0) }
        }
    }
}

#[cfg(not(all(CONFIG_S390, any(CONFIG_KVM, CONFIG_KVM = "m"))))]
mod imp {
    //! No KVM for s390: the types of the guest cannot be made, their methods cannot be called.
    //! Each wraps a private uninhabited type, so that code using them is still code to the
    //! compiler (no `unreachable_code` where vfio_ap handles a KVM guest).
    use super::{
        super::mdev::GlueMdev,
        RawKvm,
        RawVcpu, //
    };

    /// What no value has.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Void {}

    /// The KVM a VFIO device was opened with: none here.
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub struct KvmRef(Void);

    impl KvmRef {
        /// Without KVM for s390 a device is never opened with a KVM.
        ///
        /// # Safety
        ///
        /// As with KVM for s390 (nothing is dereferenced here).
        pub unsafe fn from_raw(_kvm: *mut RawKvm) -> Option<KvmRef> {
            None
        }

        /// Never called (uninhabited).
        pub fn crycbd(&self) -> u32 {
            match self.0 {}
        }

        /// Never called (uninhabited).
        pub fn hold(&self) -> KvmHold {
            match self.0 {}
        }

        /// Never called (uninhabited).
        pub fn gisc_register(&self, _isc: u8) -> Option<u8> {
            match self.0 {}
        }

        /// Never called (uninhabited).
        pub fn gisc_unregister(&self, _isc: u8) {
            match self.0 {}
        }

        /// Never called (uninhabited).
        pub fn gisa_phys(&self) -> u64 {
            match self.0 {}
        }

        /// Never called (uninhabited).
        pub fn uv_pin_shared(&self, _paddr: u64) -> bool {
            match self.0 {}
        }

        /// Never called (uninhabited).
        pub fn pin(&self, _glue: &GlueMdev, _iova: u64) -> Option<u64> {
            match self.0 {}
        }

        /// Never called (uninhabited).
        pub fn unpin(&self, _glue: &GlueMdev, _iova: u64) {
            match self.0 {}
        }
    }

    /// A held KVM guest: none here.
    pub struct KvmHold(Void);

    impl KvmHold {
        /// Never called (uninhabited).
        pub fn kvm(&self) -> KvmRef {
            match self.0 {}
        }

        /// Never called (uninhabited).
        pub fn lock(&self) -> KvmLock {
            match self.0 {}
        }
    }

    /// A held `kvm->lock`: none here.
    pub struct KvmLock(Void);

    impl KvmLock {
        /// Never called (uninhabited).
        pub fn set_masks(&self, _apm: &[u8; 32], _aqm: &[u8; 32], _adm: &[u8; 32]) {
            match self.0 {}
        }

        /// Never called (uninhabited).
        pub fn clear_masks(&self) {
            match self.0 {}
        }
    }

    /// The vCPU of an intercepted PQAP: there is no interception without KVM for s390, but the
    /// glue's callback exists everywhere.
    #[derive(Clone, Copy)]
    pub struct VcpuRef(());

    impl VcpuRef {
        /// The vCPU of an intercepted PQAP.
        ///
        /// # Safety
        ///
        /// As with KVM for s390 (nothing is dereferenced here).
        pub unsafe fn from_raw(_vcpu: *mut RawVcpu) -> VcpuRef {
            VcpuRef(())
        }

        /// No vCPU is protected without KVM for s390.
        pub fn pv_protected(&self) -> bool {
            false
        }
    }
}
