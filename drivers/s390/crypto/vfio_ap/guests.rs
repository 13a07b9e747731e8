// SPDX-License-Identifier: GPL-2.0

//! Guests with an mdev attached, under `guests_lock` ([`Guests`]): their crypto control blocks
//! and the commits vfio_ap makes to them.

use kernel::{
    prelude::*,
    sync::MutexGuard, //
};

use crate::{
    abs::kvm::{
        KvmHold,
        KvmLock,
        KvmRef, //
    },
    mdev_state::{
        MdevRec,
        Mdevs, //
    },
    model::{
        crycb::{
            Crycb,
            CrycbFormat, //
        },
        mask::Mask,
        vfio, //
    }, //
};

/// What vfio_ap changes in a guest: the AP masks of its crypto control block.
pub(crate) trait GuestCrypto {
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
    fn set_masks(&mut self, apm: &Mask, aqm: &Mask, adm: &Mask) {
        KvmLock::set_masks(self, &apm.0, &aqm.0, &adm.0);
    }

    fn clear_masks(&mut self) {
        KvmLock::clear_masks(self);
    }
}

/// Who a guest is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum GuestKey {
    /// A simulated guest: the thread group of the process that opened the device. With
    /// `simguest=1` an open without a KVM attaches the mdev to it (QEMU opens every device of a
    /// guest), so a second mdev opened by the same process is EPERM as for a KVM guest.
    Process(i32),
    /// A KVM guest (s390).
    Kvm(KvmRef),
}

/// The crypto control block side of a guest.
pub(crate) enum GuestCb {
    /// The simulated guest's CRYCB, for machines where no s390 KVM guest can run (x86_64,
    /// s390x under TCG).
    Sim(KBox<Crycb>),
    /// The KVM's (a reference is held while attached).
    Kvm(KvmHold),
}

/// A guest with an mdev attached.
pub(crate) struct Guest {
    pub(crate) key: GuestKey,
    /// The mdev attached to it.
    pub(crate) mdev: u32,
    pub(crate) cb: GuestCb,
    /// The masks the guest sees (the last set or clear).
    pub(crate) view: (Mask, Mask, Mask),
    /// How many times vfio_ap changed the guest's masks.
    pub(crate) commits: u64,
}

/// What `guests_lock` protects: the guests, and while an operation runs the `kvm->lock` of the
/// KVM guest it changes (taken after `guests_lock`, before `mdevs_lock`, released before
/// `guests_lock`: see [`MatrixDev::lock_for`]).
pub(crate) struct Guests {
    pub(crate) list: KVec<Guest>,
    pub(crate) held: Option<KvmLock>,
}

pub(crate) const NO_MASKS: (Mask, Mask, Mask) = (Mask::ZERO, Mask::ZERO, Mask::ZERO);

impl Guests {
    /// The `kvm->lock` of mdev `id`'s guest, if it is a KVM guest.
    pub(crate) fn kvm_lock_for(&self, id: u32) -> Option<KvmLock> {
        self.list.iter().find_map(|g| match &g.cb {
            GuestCb::Kvm(h) if g.mdev == id => Some(h.lock()),
            _ => None,
        })
    }

    /// Sets or clears the masks of `g`; false if its KVM lock is not held (cannot happen: the
    /// operations take it with [`MatrixDev::lock_for`]).
    pub(crate) fn apply(
        held: &mut Option<KvmLock>,
        g: &mut Guest,
        want: &(Mask, Mask, Mask),
    ) -> bool {
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
    pub(crate) fn sync(&mut self, m: &mut MdevRec) {
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
    pub(crate) fn sync_id(&mut self, mdevs: &mut Mdevs, id: u32) {
        if let Some(m) = mdevs.list.iter_mut().find(|m| m.id == id) {
            self.sync(m);
        }
    }
}

/// `guests_lock` held for an operation; releases the KVM lock it took first.
pub(crate) struct GuestsLocked<'a>(pub(crate) MutexGuard<'a, Guests>);

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
