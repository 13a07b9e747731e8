// SPDX-License-Identifier: GPL-2.0

//! The callbacks of the mdev parent and of the VFIO device (`MatrixDriver`): mdev creation and
//! removal, their attributes, open and close with the guest, the VFIO ioctls, device requests,
//! the KVM PQAP hook and DMA unmaps.

use core::fmt::Write as _;
use kernel::{
    prelude::*,
    uaccess::{
        UserPtr,
        UserSlice, //
    }, //
};

use crate::{
    abs::{
        bus::ShowBuf,
        kvm::{
            KvmRef,
            VcpuRef, //
        },
        mdev::{
            self,
            GlueMdev,
            Level,
            MatrixDriver, //
        }, //
    },
    guests::{
        Guest,
        GuestCb,
        GuestKey,
        Guests,
        GuestsLocked,
        NO_MASKS, //
    },
    matrix_dev::{
        errno,
        MatrixDev,
        Msg, //
    },
    mdev_state::{
        MdevRec,
        Mdevs,
        NAME_LEN, //
    },
    model::{
        aqic,
        crycb::{
            Crycb,
            CrycbFormat, //
            CRYCB_SIZE,
        },
        matrix::{
            ApMasks,
            Matrix,
            Resource, //
        },
        vfio,
        vfio_text, //
    },
    module_parameters,
    pqap::AnyIrqEnv, //
};

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
            mdevs.refresh_assigned();
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
            Some(k) => (GuestKey::Kvm(k), k.crycbd()),
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
