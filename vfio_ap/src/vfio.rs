// SPDX-License-Identifier: GPL-2.0
//! The VFIO ioctls of a vfio_ap mdev (`vfio_ap_mdev_ioctl` and its helpers, vfio_ap_ops.c;
//! `vfio_set_irqs_validate_and_prepare`, drivers/vfio/vfio_main.c; the layouts of
//! include/uapi/linux/vfio.h; Linux 7.3) as checks over the user structures' fields.
//!
//! The glue copies exactly the `MINSZ` bytes of a structure from user space (EFAULT if that
//! fails), decodes them with `from_ne_bytes` (the structures are in the host's byte order),
//! asks the model, and copies `MINSZ` bytes back where C does. `VFIO_DEVICE_SET_IRQS` then
//! reads one `s32` at `arg + irq_set::MINSZ` (even when `count` is 0, as C does) and applies
//! [`eventfd_request`]. `VFIO_DEVICE_RESET` resets every linked queue (`reset`). Every ioctl
//! runs under `mdevs_lock`.

use super::errno;

/// `VFIO_TYPE`: `';'`.
pub const VFIO_TYPE: u32 = 0x3b;
/// `VFIO_BASE`.
pub const VFIO_BASE: u32 = 100;

/// `_IO(VFIO_TYPE, nr)`: direction and size 0.
const fn io(nr: u32) -> u32 {
    (VFIO_TYPE << 8) | nr
}

/// `VFIO_DEVICE_GET_INFO` (0x3b6b).
pub const VFIO_DEVICE_GET_INFO: u32 = io(VFIO_BASE + 7);
/// `VFIO_DEVICE_GET_IRQ_INFO` (0x3b6d).
pub const VFIO_DEVICE_GET_IRQ_INFO: u32 = io(VFIO_BASE + 9);
/// `VFIO_DEVICE_SET_IRQS` (0x3b6e).
pub const VFIO_DEVICE_SET_IRQS: u32 = io(VFIO_BASE + 10);
/// `VFIO_DEVICE_RESET` (0x3b6f).
pub const VFIO_DEVICE_RESET: u32 = io(VFIO_BASE + 11);

/// `VFIO_DEVICE_FLAGS_RESET`.
pub const VFIO_DEVICE_FLAGS_RESET: u32 = 1 << 0;
/// `VFIO_DEVICE_FLAGS_AP`.
pub const VFIO_DEVICE_FLAGS_AP: u32 = 1 << 5;
/// `VFIO_IRQ_INFO_EVENTFD`.
pub const VFIO_IRQ_INFO_EVENTFD: u32 = 1 << 0;
/// `VFIO_IRQ_SET_DATA_NONE`.
pub const VFIO_IRQ_SET_DATA_NONE: u32 = 1 << 0;
/// `VFIO_IRQ_SET_DATA_BOOL`.
pub const VFIO_IRQ_SET_DATA_BOOL: u32 = 1 << 1;
/// `VFIO_IRQ_SET_DATA_EVENTFD`.
pub const VFIO_IRQ_SET_DATA_EVENTFD: u32 = 1 << 2;
/// `VFIO_IRQ_SET_ACTION_MASK`.
pub const VFIO_IRQ_SET_ACTION_MASK: u32 = 1 << 3;
/// `VFIO_IRQ_SET_ACTION_UNMASK`.
pub const VFIO_IRQ_SET_ACTION_UNMASK: u32 = 1 << 4;
/// `VFIO_IRQ_SET_ACTION_TRIGGER`.
pub const VFIO_IRQ_SET_ACTION_TRIGGER: u32 = 1 << 5;
/// `VFIO_IRQ_SET_DATA_TYPE_MASK`.
pub const VFIO_IRQ_SET_DATA_TYPE_MASK: u32 =
    VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_DATA_EVENTFD;
/// `VFIO_IRQ_SET_ACTION_TYPE_MASK`.
pub const VFIO_IRQ_SET_ACTION_TYPE_MASK: u32 =
    VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER;

/// `VFIO_AP_REQ_IRQ_INDEX`: the device request eventfd.
pub const VFIO_AP_REQ_IRQ_INDEX: u32 = 0;
/// `VFIO_AP_CFG_CHG_IRQ_INDEX`: the guest AP configuration change eventfd (6.15).
pub const VFIO_AP_CFG_CHG_IRQ_INDEX: u32 = 1;
/// `VFIO_AP_NUM_IRQS`: 2 in Linux 7.3.
pub const VFIO_AP_NUM_IRQS: u32 = 2;

/// `struct vfio_device_info` (24 bytes, all `__u32`).
pub mod device_info {
    /// Offset of `argsz`.
    pub const ARGSZ: usize = 0;
    /// Offset of `flags`.
    pub const FLAGS: usize = 4;
    /// Offset of `num_regions`.
    pub const NUM_REGIONS: usize = 8;
    /// Offset of `num_irqs`.
    pub const NUM_IRQS: usize = 12;
    /// Offset of `cap_offset` (never written by vfio_ap).
    pub const CAP_OFFSET: usize = 16;
    /// Offset of `pad`.
    pub const PAD: usize = 20;
    /// `sizeof(struct vfio_device_info)`.
    pub const SIZE: usize = 24;
    /// `offsetofend(struct vfio_device_info, num_irqs)`: what vfio_ap copies in and out.
    pub const MINSZ: usize = 16;
}

/// `struct vfio_irq_info` (16 bytes, all `__u32`).
pub mod irq_info {
    /// Offset of `argsz`.
    pub const ARGSZ: usize = 0;
    /// Offset of `flags`.
    pub const FLAGS: usize = 4;
    /// Offset of `index`.
    pub const INDEX: usize = 8;
    /// Offset of `count`.
    pub const COUNT: usize = 12;
    /// `sizeof(struct vfio_irq_info)`.
    pub const SIZE: usize = 16;
    /// `offsetofend(struct vfio_irq_info, count)`: what vfio_ap copies in and out.
    pub const MINSZ: usize = 16;
}

/// `struct vfio_irq_set` (20 bytes of `__u32`, then `__u8 data[]`).
pub mod irq_set {
    /// Offset of `argsz`.
    pub const ARGSZ: usize = 0;
    /// Offset of `flags`.
    pub const FLAGS: usize = 4;
    /// Offset of `index`.
    pub const INDEX: usize = 8;
    /// Offset of `start`.
    pub const START: usize = 12;
    /// Offset of `count`.
    pub const COUNT: usize = 16;
    /// Offset of `data` (an `s32` eventfd for vfio_ap).
    pub const DATA: usize = 20;
    /// `offsetofend(struct vfio_irq_set, count)`: the header vfio_ap copies in; the fd is
    /// read at this offset.
    pub const MINSZ: usize = 20;
}

/// The `u32` at `off` of `b` in host byte order (0 past the end).
fn ne_u32(b: &[u8], off: usize) -> u32 {
    match b.get(off..off.saturating_add(4)) {
        Some(&[x0, x1, x2, x3]) => u32::from_ne_bytes([x0, x1, x2, x3]),
        _ => 0,
    }
}

/// Stores `v` at `off` of `b` in host byte order.
fn put_ne_u32(b: &mut [u8], off: usize, v: u32) {
    if let Some(d) = b.get_mut(off..off.saturating_add(4)) {
        d.copy_from_slice(&v.to_ne_bytes());
    }
}

/// The ioctls vfio_ap handles.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Ioctl {
    /// `VFIO_DEVICE_GET_INFO`: [`get_info`].
    GetInfo,
    /// `VFIO_DEVICE_RESET`: reset every linked queue; -EIO/-ETIMEDOUT as `reset::reset_result`.
    Reset,
    /// `VFIO_DEVICE_GET_IRQ_INFO`: [`get_irq_info`].
    GetIrqInfo,
    /// `VFIO_DEVICE_SET_IRQS`: [`set_irqs`].
    SetIrqs,
}

/// `vfio_ap_mdev_ioctl`'s dispatch: any other command is EOPNOTSUPP.
pub fn ioctl(cmd: u32) -> Result<Ioctl, i32> {
    match cmd {
        VFIO_DEVICE_GET_INFO => Ok(Ioctl::GetInfo),
        VFIO_DEVICE_RESET => Ok(Ioctl::Reset),
        VFIO_DEVICE_GET_IRQ_INFO => Ok(Ioctl::GetIrqInfo),
        VFIO_DEVICE_SET_IRQS => Ok(Ioctl::SetIrqs),
        _ => Err(errno::EOPNOTSUPP),
    }
}

/// The first [`device_info::MINSZ`] bytes of `struct vfio_device_info`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct DeviceInfo {
    /// `argsz`.
    pub argsz: u32,
    /// `flags`.
    pub flags: u32,
    /// `num_regions`.
    pub num_regions: u32,
    /// `num_irqs`.
    pub num_irqs: u32,
}

impl DeviceInfo {
    /// Decodes the bytes copied from user space.
    pub fn from_ne_bytes(b: &[u8; device_info::MINSZ]) -> DeviceInfo {
        DeviceInfo {
            argsz: ne_u32(b, device_info::ARGSZ),
            flags: ne_u32(b, device_info::FLAGS),
            num_regions: ne_u32(b, device_info::NUM_REGIONS),
            num_irqs: ne_u32(b, device_info::NUM_IRQS),
        }
    }

    /// The bytes to copy back.
    pub fn to_ne_bytes(&self) -> [u8; device_info::MINSZ] {
        let mut b = [0; device_info::MINSZ];
        put_ne_u32(&mut b, device_info::ARGSZ, self.argsz);
        put_ne_u32(&mut b, device_info::FLAGS, self.flags);
        put_ne_u32(&mut b, device_info::NUM_REGIONS, self.num_regions);
        put_ne_u32(&mut b, device_info::NUM_IRQS, self.num_irqs);
        b
    }
}

/// `vfio_ap_mdev_get_device_info`: EINVAL if `argsz < 16`; otherwise the answer to copy back
/// (16 bytes; `argsz` as given, flags `AP | RESET`, no regions, [`VFIO_AP_NUM_IRQS`] IRQs;
/// `cap_offset` is not written).
pub fn get_info(inp: &DeviceInfo) -> Result<DeviceInfo, i32> {
    if (inp.argsz as usize) < device_info::MINSZ {
        return Err(errno::EINVAL);
    }
    Ok(DeviceInfo {
        argsz: inp.argsz,
        flags: VFIO_DEVICE_FLAGS_AP | VFIO_DEVICE_FLAGS_RESET,
        num_regions: 0,
        num_irqs: VFIO_AP_NUM_IRQS,
    })
}

/// `struct vfio_irq_info`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct IrqInfo {
    /// `argsz`.
    pub argsz: u32,
    /// `flags`.
    pub flags: u32,
    /// `index`.
    pub index: u32,
    /// `count`.
    pub count: u32,
}

impl IrqInfo {
    /// Decodes the bytes copied from user space.
    pub fn from_ne_bytes(b: &[u8; irq_info::MINSZ]) -> IrqInfo {
        IrqInfo {
            argsz: ne_u32(b, irq_info::ARGSZ),
            flags: ne_u32(b, irq_info::FLAGS),
            index: ne_u32(b, irq_info::INDEX),
            count: ne_u32(b, irq_info::COUNT),
        }
    }

    /// The bytes to copy back.
    pub fn to_ne_bytes(&self) -> [u8; irq_info::MINSZ] {
        let mut b = [0; irq_info::MINSZ];
        put_ne_u32(&mut b, irq_info::ARGSZ, self.argsz);
        put_ne_u32(&mut b, irq_info::FLAGS, self.flags);
        put_ne_u32(&mut b, irq_info::INDEX, self.index);
        put_ne_u32(&mut b, irq_info::COUNT, self.count);
        b
    }
}

/// `vfio_ap_get_irq_info`: EINVAL if `argsz < 16` or `index >= VFIO_AP_NUM_IRQS`; both
/// indexes answer `count = 1`, `flags = VFIO_IRQ_INFO_EVENTFD` (`argsz` and `index` as
/// given).
pub fn get_irq_info(inp: &IrqInfo) -> Result<IrqInfo, i32> {
    if (inp.argsz as usize) < irq_info::MINSZ || inp.index >= VFIO_AP_NUM_IRQS {
        return Err(errno::EINVAL);
    }
    Ok(IrqInfo {
        count: 1,
        flags: VFIO_IRQ_INFO_EVENTFD,
        ..*inp
    })
}

/// The header of `struct vfio_irq_set`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct IrqSet {
    /// `argsz`.
    pub argsz: u32,
    /// `flags`.
    pub flags: u32,
    /// `index`.
    pub index: u32,
    /// `start`.
    pub start: u32,
    /// `count`.
    pub count: u32,
}

impl IrqSet {
    /// Decodes the header copied from user space.
    pub fn from_ne_bytes(b: &[u8; irq_set::MINSZ]) -> IrqSet {
        IrqSet {
            argsz: ne_u32(b, irq_set::ARGSZ),
            flags: ne_u32(b, irq_set::FLAGS),
            index: ne_u32(b, irq_set::INDEX),
            start: ne_u32(b, irq_set::START),
            count: ne_u32(b, irq_set::COUNT),
        }
    }

    /// The header's bytes.
    pub fn to_ne_bytes(&self) -> [u8; irq_set::MINSZ] {
        let mut b = [0; irq_set::MINSZ];
        put_ne_u32(&mut b, irq_set::ARGSZ, self.argsz);
        put_ne_u32(&mut b, irq_set::FLAGS, self.flags);
        put_ne_u32(&mut b, irq_set::INDEX, self.index);
        put_ne_u32(&mut b, irq_set::START, self.start);
        put_ne_u32(&mut b, irq_set::COUNT, self.count);
        b
    }
}

/// `vfio_set_irqs_validate_and_prepare(hdr, num_irqs, max_irq_type, &data_size)`: EINVAL if
/// `argsz < 20`, `index >= max_irq_type`, `count >= U32_MAX - start`, or a flag outside the
/// data and action masks; then if `start >= num_irqs` or `start + count > num_irqs`; then
/// unless the data type is exactly one of NONE (size 0), BOOL (1) or EVENTFD (4); then if
/// `argsz - 20 < count * size`. Returns the data size `count * size`.
pub fn set_irqs_validate_and_prepare(
    hdr: &IrqSet,
    num_irqs: u32,
    max_irq_type: u32,
) -> Result<u64, i32> {
    let minsz = irq_set::MINSZ as u64;
    if u64::from(hdr.argsz) < minsz
        || hdr.index >= max_irq_type
        || hdr.count >= u32::MAX.wrapping_sub(hdr.start)
        || hdr.flags & !(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK) != 0
    {
        return Err(errno::EINVAL);
    }
    // count < U32_MAX - start, so the sum does not wrap.
    if hdr.start >= num_irqs || hdr.start.wrapping_add(hdr.count) > num_irqs {
        return Err(errno::EINVAL);
    }
    let size: u64 = match hdr.flags & VFIO_IRQ_SET_DATA_TYPE_MASK {
        VFIO_IRQ_SET_DATA_NONE => 0,
        VFIO_IRQ_SET_DATA_BOOL => 1,
        VFIO_IRQ_SET_DATA_EVENTFD => 4,
        _ => return Err(errno::EINVAL),
    };
    let data = u64::from(hdr.count).saturating_mul(size);
    if size != 0 && u64::from(hdr.argsz).saturating_sub(minsz) < data {
        return Err(errno::EINVAL);
    }
    Ok(data)
}

/// Which eventfd a `VFIO_DEVICE_SET_IRQS` sets.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum IrqIndex {
    /// [`VFIO_AP_REQ_IRQ_INDEX`]: `req_trigger`.
    Request,
    /// [`VFIO_AP_CFG_CHG_IRQ_INDEX`]: `cfg_chg_trigger`.
    CfgChange,
}

/// `vfio_ap_set_irqs`: [`set_irqs_validate_and_prepare`] with one IRQ per index and
/// [`VFIO_AP_NUM_IRQS`] indexes (so `start` must be 0 and `count` at most 1; `count` 0 is
/// accepted), then EINVAL without `ACTION_TRIGGER` (other action bits may be set too), then
/// EINVAL unless the data type is `DATA_EVENTFD`. On success the glue reads the `s32` at
/// [`irq_set::MINSZ`] (EFAULT if it cannot) and applies [`eventfd_request`].
pub fn set_irqs(hdr: &IrqSet) -> Result<IrqIndex, i32> {
    set_irqs_validate_and_prepare(hdr, 1, VFIO_AP_NUM_IRQS)?;
    if hdr.flags & VFIO_IRQ_SET_ACTION_TRIGGER == 0 {
        return Err(errno::EINVAL);
    }
    if hdr.flags & VFIO_IRQ_SET_DATA_TYPE_MASK != VFIO_IRQ_SET_DATA_EVENTFD {
        return Err(errno::EINVAL);
    }
    match hdr.index {
        VFIO_AP_REQ_IRQ_INDEX => Ok(IrqIndex::Request),
        VFIO_AP_CFG_CHG_IRQ_INDEX => Ok(IrqIndex::CfgChange),
        _ => Err(errno::EINVAL),
    }
}

/// What to do with the eventfd of an index.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum EventfdRequest {
    /// fd -1: drop the current eventfd (if any).
    Clear,
    /// fd >= 0: `eventfd_ctx_fdget(fd)`; on error return it and keep the current one,
    /// otherwise drop the current one and keep the new one.
    Set(i32),
}

/// `vfio_ap_set_request_irq` / `vfio_ap_set_cfg_change_irq`: -1 clears, >= 0 sets, anything
/// below -1 is EINVAL.
pub fn eventfd_request(fd: i32) -> Result<EventfdRequest, i32> {
    match fd {
        -1 => Ok(EventfdRequest::Clear),
        f if f >= 0 => Ok(EventfdRequest::Set(f)),
        _ => Err(errno::EINVAL),
    }
}

/// What `vfio_ap_mdev_request(count)` logs: every 10th request (`count % 10 == 0`) with a
/// trigger set, `Relaying device request to user (#%u)` (ratelimited); with no trigger and
/// `count == 0`, `No device request registered, blocked until released by user`. (With a
/// guest attached it first clears the guest's CRYCB masks and signals the configuration change
/// eventfd; with a trigger it always signals it.)
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum RequestNotice {
    /// Nothing logged.
    None,
    /// `Relaying device request to user (#%u)`.
    Relaying,
    /// `No device request registered, blocked until released by user`.
    NotRegistered,
}

/// See [`RequestNotice`].
pub fn request_notice(have_trigger: bool, count: u32) -> RequestNotice {
    if have_trigger {
        if count.is_multiple_of(10) {
            RequestNotice::Relaying
        } else {
            RequestNotice::None
        }
    } else if count == 0 {
        RequestNotice::NotRegistered
    } else {
        RequestNotice::None
    }
}

/// What `open_device` (`vfio_ap_mdev_open_device` + `vfio_ap_mdev_set_kvm`) does.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum OpenDevice {
    /// Under the update locks of the guest: register the PQAP hook, take a KVM reference, set
    /// the mdev's guest, and push the shadow APCB (`kvm_arch_crypto_set_masks`, then signal the
    /// configuration change eventfd).
    Attach,
    /// The guest has no crypto control block (`crycbd` 0): success, nothing is attached.
    NoCrypto,
}

/// `vfio_ap_mdev_open_device`: EINVAL without a KVM (`vdev->kvm`, the kvm-vfio device
/// association); with a CRYCB, EPERM if the guest already has a PQAP hook (one mdev per
/// guest).
pub fn open_device(have_kvm: bool, crycbd: u32, hook_registered: bool) -> Result<OpenDevice, i32> {
    if !have_kvm {
        return Err(errno::EINVAL);
    }
    if crycbd == 0 {
        return Ok(OpenDevice::NoCrypto);
    }
    if hook_registered {
        return Err(errno::EPERM);
    }
    Ok(OpenDevice::Attach)
}

/// `close_device` (`vfio_ap_mdev_unset_kvm`): whether to detach, i.e. with a guest and a
/// CRYCB, under the guest's update locks: unregister the hook, clear the CRYCB masks
/// (`kvm_arch_crypto_clear_masks`), reset every linked queue, forget the guest, then drop the
/// KVM reference.
pub fn close_detaches(have_kvm: bool, crycbd: u32) -> bool {
    have_kvm && crycbd != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRIG_EV: u32 = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD;

    fn set(argsz: u32, flags: u32, index: u32, start: u32, count: u32) -> IrqSet {
        IrqSet {
            argsz,
            flags,
            index,
            start,
            count,
        }
    }

    #[test]
    fn ioctl_numbers() {
        assert_eq!(VFIO_DEVICE_GET_INFO, 0x3b6b);
        assert_eq!(VFIO_DEVICE_GET_IRQ_INFO, 0x3b6d);
        assert_eq!(VFIO_DEVICE_SET_IRQS, 0x3b6e);
        assert_eq!(VFIO_DEVICE_RESET, 0x3b6f);
        assert_eq!(ioctl(0x3b6b), Ok(Ioctl::GetInfo));
        assert_eq!(ioctl(0x3b6f), Ok(Ioctl::Reset));
        assert_eq!(ioctl(0x3b6c), Err(errno::EOPNOTSUPP));
        assert_eq!(ioctl(0), Err(errno::EOPNOTSUPP));
    }

    #[test]
    fn device_info() {
        let r = get_info(&DeviceInfo {
            argsz: 15,
            ..Default::default()
        });
        assert_eq!(r, Err(errno::EINVAL));
        let r = get_info(&DeviceInfo {
            argsz: 16,
            flags: 0xffff,
            num_regions: 7,
            num_irqs: 9,
        })
        .unwrap();
        assert_eq!(
            r,
            DeviceInfo {
                argsz: 16,
                flags: 0x21,
                num_regions: 0,
                num_irqs: 2
            }
        );
        let b = r.to_ne_bytes();
        assert_eq!(DeviceInfo::from_ne_bytes(&b), r);
        assert_eq!(&b[4..8], &0x21u32.to_ne_bytes());
        assert_eq!(get_info(&DeviceInfo { argsz: 24, ..r }).unwrap().argsz, 24);
    }

    #[test]
    fn irq_info() {
        let i = IrqInfo {
            argsz: 16,
            flags: 0,
            index: 1,
            count: 0,
        };
        assert_eq!(
            get_irq_info(&i),
            Ok(IrqInfo {
                flags: 1,
                count: 1,
                ..i
            })
        );
        assert_eq!(get_irq_info(&IrqInfo { index: 0, ..i }).unwrap().count, 1);
        assert_eq!(get_irq_info(&IrqInfo { index: 2, ..i }), Err(errno::EINVAL));
        assert_eq!(
            get_irq_info(&IrqInfo { argsz: 15, ..i }),
            Err(errno::EINVAL)
        );
        let b = i.to_ne_bytes();
        assert_eq!(IrqInfo::from_ne_bytes(&b), i);
    }

    #[test]
    fn validate_and_prepare() {
        // Data sizes.
        assert_eq!(
            set_irqs_validate_and_prepare(&set(20, VFIO_IRQ_SET_DATA_NONE, 0, 0, 1), 1, 2),
            Ok(0)
        );
        assert_eq!(
            set_irqs_validate_and_prepare(&set(21, VFIO_IRQ_SET_DATA_BOOL, 0, 0, 1), 1, 2),
            Ok(1)
        );
        assert_eq!(
            set_irqs_validate_and_prepare(&set(24, TRIG_EV, 0, 0, 1), 1, 2),
            Ok(4)
        );
        assert_eq!(
            set_irqs_validate_and_prepare(&set(23, TRIG_EV, 0, 0, 1), 1, 2),
            Err(errno::EINVAL)
        );
        // count 0: nothing needed.
        assert_eq!(
            set_irqs_validate_and_prepare(&set(20, TRIG_EV, 0, 0, 0), 1, 2),
            Ok(0)
        );
        for h in [
            set(19, TRIG_EV, 0, 0, 1),
            set(24, TRIG_EV, 2, 0, 1),
            set(24, TRIG_EV | 0x40, 0, 0, 1),
            set(24, TRIG_EV, 0, 1, 0),
            set(28, TRIG_EV, 0, 0, 2),
            set(24, TRIG_EV, 0, 5, u32::MAX - 5),
            set(24, TRIG_EV, 0, 0, u32::MAX),
            set(
                24,
                VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_DATA_BOOL,
                0,
                0,
                1,
            ),
            set(24, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, 1),
        ] {
            assert_eq!(
                set_irqs_validate_and_prepare(&h, 1, 2),
                Err(errno::EINVAL),
                "{h:?}"
            );
        }
        // A large argsz and count within num_irqs.
        assert_eq!(
            set_irqs_validate_and_prepare(&set(u32::MAX, VFIO_IRQ_SET_DATA_BOOL, 0, 2, 3), 8, 2),
            Ok(3)
        );
    }

    #[test]
    fn set_irqs_rules() {
        assert_eq!(set_irqs(&set(24, TRIG_EV, 0, 0, 1)), Ok(IrqIndex::Request));
        assert_eq!(
            set_irqs(&set(24, TRIG_EV, 1, 0, 1)),
            Ok(IrqIndex::CfgChange)
        );
        assert_eq!(
            set_irqs(&set(20, TRIG_EV, 1, 0, 0)),
            Ok(IrqIndex::CfgChange)
        );
        assert_eq!(
            set_irqs(&set(24, TRIG_EV | VFIO_IRQ_SET_ACTION_MASK, 0, 0, 1)),
            Ok(IrqIndex::Request)
        );
        assert_eq!(
            set_irqs(&set(
                24,
                VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_MASK,
                0,
                0,
                1
            )),
            Err(errno::EINVAL)
        );
        assert_eq!(
            set_irqs(&set(
                24,
                VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_BOOL,
                0,
                0,
                1
            )),
            Err(errno::EINVAL)
        );
        assert_eq!(
            set_irqs(&set(
                24,
                VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE,
                0,
                0,
                1
            )),
            Err(errno::EINVAL)
        );
        assert_eq!(set_irqs(&set(24, TRIG_EV, 2, 0, 1)), Err(errno::EINVAL));
        let h = set(24, TRIG_EV, 1, 0, 1);
        assert_eq!(IrqSet::from_ne_bytes(&h.to_ne_bytes()), h);
    }

    #[test]
    fn eventfds() {
        assert_eq!(eventfd_request(-1), Ok(EventfdRequest::Clear));
        assert_eq!(eventfd_request(0), Ok(EventfdRequest::Set(0)));
        assert_eq!(eventfd_request(7), Ok(EventfdRequest::Set(7)));
        assert_eq!(eventfd_request(-2), Err(errno::EINVAL));
        assert_eq!(eventfd_request(i32::MIN), Err(errno::EINVAL));
    }

    #[test]
    fn open_close() {
        assert_eq!(open_device(false, 0x1000, false), Err(errno::EINVAL));
        assert_eq!(open_device(true, 0, true), Ok(OpenDevice::NoCrypto));
        assert_eq!(open_device(true, 0x1003, true), Err(errno::EPERM));
        assert_eq!(open_device(true, 0x1003, false), Ok(OpenDevice::Attach));
        assert!(close_detaches(true, 0x1001));
        assert!(!close_detaches(true, 0));
        assert!(!close_detaches(false, 0x1001));
    }

    #[test]
    fn request_notices() {
        assert_eq!(request_notice(true, 0), RequestNotice::Relaying);
        assert_eq!(request_notice(true, 3), RequestNotice::None);
        assert_eq!(request_notice(true, 20), RequestNotice::Relaying);
        assert_eq!(request_notice(false, 0), RequestNotice::NotRegistered);
        assert_eq!(request_notice(false, 1), RequestNotice::None);
    }
}
