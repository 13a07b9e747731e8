// SPDX-License-Identifier: GPL-2.0

//! The bus's card and queue devices: the data the bus keeps in each ([`ApDev`]), the table of
//! the devices the scans created ([`DevTable`], sorted by APQN) and the C strings of their names
//! and uevents.

use core::sync::atomic::{
    AtomicU8,
    Ordering, //
};
use kernel::{
    new_mutex,
    prelude::*,
    str::NullTerminatedFormatter,
    sync::Mutex, //
};

use crate::{
    abs::device::{
        BusDevice,
        DeviceRef, //
    },
    card::CardState,
    model::{
        ids::Apqn,
        owner::QueueBinding, //
    },
    queue::QueueState, //
};

pub(crate) enum DevState {
    Card(CardState),
    Queue(QueueState),
}

/// The bus's data in every card and queue device.
///
/// Lock order: see [`ApBus`]; `state` comes after `bound` and before `facility`.
#[pin_data]
pub(crate) struct ApDev {
    #[pin]
    pub(crate) state: Mutex<DevState>,
    /// A queue's binding as the revise walk after an apmask/aqmask write reads it without the
    /// state lock ([`QueueBinding::pack`]); written under the state lock whenever the bound
    /// driver or the `driver_override` changes (always [`QueueBinding::UNBOUND`] for a card).
    pub(crate) binding: AtomicU8,
}

impl ApDev {
    /// The data of a new device.
    pub(crate) fn new(state: DevState) -> impl PinInit<Self, Error> {
        try_pin_init!(ApDev {
            state <- new_mutex!(state),
            binding: AtomicU8::new(QueueBinding::UNBOUND.pack()),
        }? Error)
    }

    /// The queue's binding, as last published.
    pub(crate) fn binding(&self) -> QueueBinding {
        QueueBinding::unpack(self.binding.load(Ordering::Acquire))
    }
}

pub(crate) type DevRef = DeviceRef<ApDev>;

pub(crate) type Dev = BusDevice<ApDev>;

pub(crate) fn apqn_of(dev: &Dev) -> Apqn {
    Apqn::from_qid(dev.apqn())
}

/// The devices the scans created, sorted by APQN (cards have APQI 0).
pub(crate) struct DevTable {
    pub(crate) cards: KVec<DevRef>,
    pub(crate) queues: KVec<DevRef>,
}

pub(crate) fn find(v: &KVec<DevRef>, apqn: u16) -> core::result::Result<usize, usize> {
    v.binary_search_by(|d| d.apqn().cmp(&apqn))
}

/// Inserts `d` keeping `v` sorted by APQN.
pub(crate) fn insert_sorted(v: &mut KVec<DevRef>, d: DevRef) -> Result {
    let at = find(v, d.apqn()).unwrap_or_else(|i| i);
    match v.insert_within_capacity(at, d) {
        Ok(()) => Ok(()),
        Err(kernel::alloc::kvec::InsertError::OutOfCapacity(d))
        | Err(kernel::alloc::kvec::InsertError::IndexOutOfBounds(d)) => {
            v.push(d, GFP_KERNEL)?;
            v.sort_unstable_by_key(|d| d.apqn());
            Ok(())
        }
    }
}

/// Formats into `buf` and returns it as a C string (uevent variables, device names): what
/// does not fit with its NUL is EINVAL.
pub(crate) fn cstr_in<'a>(
    buf: &'a mut [u8],
    f: impl FnOnce(&mut dyn core::fmt::Write) -> core::fmt::Result,
) -> Result<&'a CStr> {
    let mut w = NullTerminatedFormatter::new(buf).ok_or(EINVAL)?;
    f(&mut w).map_err(|_| EINVAL)?;
    CStr::from_bytes_until_nul(buf).map_err(|_| EINVAL)
}

/// KUnit tests of the C strings of names and uevents (run when the module loads).
#[kunit_tests(ap_rs_devices)]
mod tests {
    use super::cstr_in;

    #[test]
    fn cstr_in_formats_with_its_nul() {
        let mut b = [0xffu8; 16];
        let s = cstr_in(&mut b, |w| w.write_fmt(format_args!("card{:02x}", 5)));
        assert_eq!(s.map(|s| s.to_bytes()), Ok(&b"card05"[..]));
        assert_eq!(&b[..7], b"card05\0");
    }

    #[test]
    fn cstr_in_refuses_what_does_not_fit() {
        let mut b = [0u8; 6];
        assert!(cstr_in(&mut b, |w| w.write_str("card05")).is_err());
        assert!(cstr_in(&mut b, |w| w.write_str("card5")).is_ok());
        assert!(cstr_in(&mut [], |w| w.write_str("")).is_err());
    }
}
