// SPDX-License-Identifier: GPL-2.0
//! The errno values the vfio_ap model reports, positive as in `<uapi/asm-generic/errno*.h>`.
//! The glue returns their negation to the kernel.

/// EPERM: a second mdev for the same guest (`vfio_ap_mdev_set_kvm`).
pub const EPERM: i32 = 1;
/// EIO: a queue reset did not end with response code 0.
pub const EIO: i32 = 5;
/// EFAULT: a user copy failed.
pub const EFAULT: i32 = 14;
/// EBUSY: what the AP bus turns an `in_use` answer into.
pub const EBUSY: i32 = 16;
/// EEXIST: the mdev UUID is taken.
pub const EEXIST: i32 = 17;
/// ENODEV: an id above the matrix limits.
pub const ENODEV: i32 = 19;
/// EINVAL: malformed input.
pub const EINVAL: i32 = 22;
/// ERANGE: a number above `u64::MAX`.
pub const ERANGE: i32 = 34;
/// EUSERS: no mdev instances left.
pub const EUSERS: i32 = 87;
/// EOPNOTSUPP: an unknown ioctl, or an intercept left to user space.
pub const EOPNOTSUPP: i32 = 95;
/// EADDRINUSE: an APQN is assigned to another mdev.
pub const EADDRINUSE: i32 = 98;
/// EADDRNOTAVAIL: an APQN is reserved for the host's default drivers.
pub const EADDRNOTAVAIL: i32 = 99;
/// ETIMEDOUT: a queue reset did not complete within the reset timeout (not in C, which
/// waits forever; see `reset`).
pub const ETIMEDOUT: i32 = 110;
