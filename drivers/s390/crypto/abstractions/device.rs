// SPDX-License-Identifier: GPL-2.0

//! Devices of a bus owned by a Rust driver: `BusDevice<D>` embeds the C-visible
//! `struct ap_rs_device` (see `include/ap-rs/ap_bus.h`), whose first member is the
//! `struct device`, followed by the bus's own data `D`.
//!
//! The driver core owns the memory through the device's reference count: the release callback
//! frees it. [`DeviceRef`] is a counted reference. Device attributes are static tables built by
//! [`device_attribute_table!`], attached through a static [`DeviceType`].

use core::{marker::PhantomData, ptr::NonNull};
use kernel::{
    bindings,
    error::to_result,
    ffi::c_char,
    prelude::*,
    str::{as_char_ptr_in_const_context, CStrExt},
    types::Opaque,
};

use super::{
    ap_driver::DriverRef,
    bus::{AttributeGroups, BusOps, ShowBuf},
};

/// The C-visible part of an AP device (`struct ap_rs_device`).
#[repr(C)]
pub struct ApRsDevice {
    /// The `struct device`.
    pub device: Opaque<bindings::device>,
    /// `AP_RS_KIND_CARD` or `AP_RS_KIND_QUEUE`.
    pub kind: u32,
    /// The compatible device type (10..14).
    pub device_type: u32,
    /// `APID << 8 | APQI`.
    pub apqn: u16,
}

/// A card (`AP_RS_KIND_CARD`).
pub const KIND_CARD: u32 = 0x1;
/// A queue (`AP_RS_KIND_QUEUE`).
pub const KIND_QUEUE: u32 = 0x2;

/// An AP device: the C-visible header and the bus's data.
///
/// # Invariants
///
/// A `BusDevice` lives in memory allocated by [`BusDevice::register`] and freed by the release
/// callback when the last reference to its `struct device` goes.
#[repr(C)]
#[pin_data]
pub struct BusDevice<D> {
    #[pin]
    c: ApRsDevice,
    #[pin]
    data: D,
}

// SAFETY: the `struct device` is synchronised by the driver core; `D` is `Send + Sync`.
unsafe impl<D: Send + Sync> Send for BusDevice<D> {}
// SAFETY: as above.
unsafe impl<D: Send + Sync> Sync for BusDevice<D> {}

/// A static `struct device_type`: name (the `DEVTYPE=` of uevents) and attribute groups.
#[repr(transparent)]
pub struct DeviceType(bindings::device_type);

// SAFETY: immutable after construction; only read by the driver core.
unsafe impl Sync for DeviceType {}

impl DeviceType {
    /// A device type named `name` with the attribute groups `groups`.
    pub const fn new(name: &'static CStr, groups: &'static AttributeGroups) -> Self {
        // SAFETY: all-zero is a valid `struct device_type` (no callbacks).
        let mut t: bindings::device_type = unsafe { core::mem::zeroed() };
        t.name = as_char_ptr_in_const_context(name);
        t.groups = groups.as_ptr().cast_mut();
        Self(t)
    }

    fn as_ptr(&'static self) -> *const bindings::device_type {
        &self.0
    }
}

/// Where a new device goes.
pub struct DeviceSpec<'a> {
    /// Its bus.
    pub bus: *const bindings::bus_type,
    /// Its parent.
    pub parent: *mut bindings::device,
    /// Its type (attributes).
    pub dev_type: &'static DeviceType,
    /// Its name.
    pub name: &'a CStr,
    /// `KIND_CARD` or `KIND_QUEUE`.
    pub kind: u32,
    /// The compatible device type.
    pub device_type: u32,
    /// `APID << 8 | APQI`.
    pub apqn: u16,
}

impl<D: Send + Sync> BusDevice<D> {
    /// Allocates a device with `data` and registers it (`device_register()`): it appears in
    /// sysfs, the ADD uevent goes out and drivers may bind to it before this returns.
    pub fn register(spec: &DeviceSpec<'_>, data: impl PinInit<D, Error>) -> Result<DeviceRef<D>> {
        let b = KBox::pin_init(
            try_pin_init!(Self {
                c: ApRsDevice {
                    device: Opaque::zeroed(),
                    kind: spec.kind,
                    device_type: spec.device_type,
                    apqn: spec.apqn,
                },
                data <- data,
            }? Error),
            GFP_KERNEL,
        )?;
        // SAFETY: the allocation is handed to the driver core; it is never moved (it was
        // pinned) and is freed by `release` alone.
        let raw = KBox::into_raw(unsafe { Pin::into_inner_unchecked(b) });
        // SAFETY: `raw` is valid; its `struct device` is zeroed, as `device_initialize()` wants.
        unsafe {
            let dev = (*raw).c.device.get();
            bindings::device_initialize(dev);
            (*dev).bus = spec.bus;
            (*dev).parent = spec.parent;
            (*dev).type_ = spec.dev_type.as_ptr();
            (*dev).release = Some(release::<D>);
        }
        // INVARIANT: from here on the device's reference count (now 1) owns `raw`.
        let r = DeviceRef {
            // SAFETY: `raw` is not null (it came from a box).
            ptr: unsafe { NonNull::new_unchecked(raw) },
            _p: PhantomData,
        };
        // SAFETY: the device is initialised; the kernel copies the name. On error dropping `r`
        // puts the only reference, which frees the device through `release`.
        to_result(unsafe {
            bindings::dev_set_name(r.raw(), c"%s".as_char_ptr(), spec.name.as_char_ptr())
        })?;
        // SAFETY: as above.
        to_result(unsafe { bindings::device_add(r.raw()) })?;
        // The initial reference now belongs to the registration (`unregister` drops it); the
        // caller gets a reference of its own.
        let caller = r.clone();
        core::mem::forget(r);
        Ok(caller)
    }
}

impl<D> BusDevice<D> {
    /// The bus's data.
    pub fn data(&self) -> &D {
        &self.data
    }

    /// The device kind.
    pub fn kind(&self) -> u32 {
        self.c.kind
    }

    /// The APQN (`APID << 8 | APQI`).
    pub fn apqn(&self) -> u16 {
        self.c.apqn
    }

    /// The compatible device type.
    pub fn device_type(&self) -> u32 {
        self.c.device_type
    }

    /// The raw `struct device`.
    pub fn raw(&self) -> *mut bindings::device {
        self.c.device.get()
    }

    /// The C-visible header, as handed to AP drivers.
    pub fn header(&self) -> &ApRsDevice {
        &self.c
    }

    /// Whether a driver is bound.
    pub fn is_bound(&self) -> bool {
        // SAFETY: reading the pointer is racy only against binding changes, which callers
        // synchronise (scan mutex or device lock) when it matters.
        !unsafe { (*self.raw()).driver }.is_null()
    }

    /// The bound driver, if any.
    pub fn bound_driver(&self) -> Option<DriverRef> {
        // SAFETY: see `is_bound`.
        let drv = unsafe { (*self.raw()).driver };
        // SAFETY: `BusDevice`s live on the AP bus, whose drivers are all `ap_rs_driver`s, and a
        // bound driver stays registered while it is bound.
        (!drv.is_null()).then(|| unsafe { DriverRef::from_driver(drv) })
    }

    /// Sends a CHANGE uevent with the given `KEY=value` strings.
    pub fn change_uevent(&self, env: &[&CStr]) -> Result {
        super::bus::uevent_env(self.raw(), env)
    }

    /// # Safety
    ///
    /// `dev` must be the `struct device` of a live `BusDevice<D>`.
    pub unsafe fn from_raw<'a>(dev: *const bindings::device) -> &'a Self {
        // SAFETY: `device` is the first field of `ApRsDevice`, the first field of `Self`
        // (both `repr(C)`); guaranteed live by the caller.
        unsafe { &*dev.cast::<Self>() }
    }
}

/// # Safety
///
/// Called by the driver core when the last reference to a `BusDevice<D>` is gone.
unsafe extern "C" fn release<D>(dev: *mut bindings::device) {
    // SAFETY: `dev` is the first field of a `BusDevice<D>` allocated by `register` with
    // `KBox`; nothing references it any more.
    drop(unsafe { KBox::from_raw(dev.cast::<BusDevice<D>>()) });
}

/// A counted reference to a registered `BusDevice<D>`.
///
/// # Invariants
///
/// `ptr` is a live `BusDevice<D>` and this value owns one reference of its `struct device`.
pub struct DeviceRef<D> {
    ptr: NonNull<BusDevice<D>>,
    _p: PhantomData<D>,
}

// SAFETY: device references may move between threads; the data is `Send + Sync`.
unsafe impl<D: Send + Sync> Send for DeviceRef<D> {}
// SAFETY: as above.
unsafe impl<D: Send + Sync> Sync for DeviceRef<D> {}

impl<D> DeviceRef<D> {
    fn raw(&self) -> *mut bindings::device {
        // SAFETY: live by the type invariant.
        unsafe { self.ptr.as_ref() }.raw()
    }

    /// Takes a new reference to `dev`.
    pub fn from_device(dev: &BusDevice<D>) -> Self {
        // SAFETY: `dev` is live, so its reference count is not zero.
        unsafe { bindings::get_device(dev.raw()) };
        // INVARIANT: we took a reference just now.
        Self {
            ptr: NonNull::from(dev),
            _p: PhantomData,
        }
    }

    /// Unregisters the device (`device_unregister()`): drivers are unbound, it leaves sysfs and
    /// the registration's reference is dropped. This reference stays valid.
    ///
    /// Must be called at most once per device, by its creator.
    pub fn unregister(&self) {
        // SAFETY: the device was registered by `BusDevice::register`; the creator calls this
        // once, and `self` keeps the memory alive.
        unsafe { bindings::device_unregister(self.raw()) };
    }

    /// Unbinds the device and binds it again (`device_reprobe()`), so that the driver it
    /// belongs to now gets it.
    pub fn reprobe(&self) -> Result {
        // SAFETY: the device is live (type invariant) and registered by its creator.
        to_result(unsafe { bindings::device_reprobe(self.raw()) })
    }
}

impl<D> core::ops::Deref for DeviceRef<D> {
    type Target = BusDevice<D>;

    fn deref(&self) -> &BusDevice<D> {
        // SAFETY: live by the type invariant.
        unsafe { self.ptr.as_ref() }
    }
}

impl<D> Clone for DeviceRef<D> {
    fn clone(&self) -> Self {
        Self::from_device(self)
    }
}

impl<D> Drop for DeviceRef<D> {
    fn drop(&mut self) {
        // SAFETY: we own one reference (type invariant).
        unsafe { bindings::put_device(self.raw()) };
    }
}

/// A `struct device_attribute` that may live in a `static`, with the id handed to
/// [`BusOps::dev_show`] and [`BusOps::dev_store`].
#[repr(C)]
pub struct DeviceAttribute {
    attr: bindings::device_attribute,
    id: u32,
}

// SAFETY: immutable after construction; only read by the driver core.
unsafe impl Sync for DeviceAttribute {}

/// A `show` callback of a `struct device_attribute`.
pub type ShowFn = unsafe extern "C" fn(
    *mut bindings::device,
    *mut bindings::device_attribute,
    *mut c_char,
) -> isize;
/// A `store` callback of a `struct device_attribute`.
pub type StoreFn = unsafe extern "C" fn(
    *mut bindings::device,
    *mut bindings::device_attribute,
    *const c_char,
    usize,
) -> isize;

impl DeviceAttribute {
    /// An attribute `name` with permissions `mode` and id `id`, for devices of a `Bus<T>`.
    pub const fn new<T: BusOps>(name: &'static CStr, mode: u16, id: u32) -> Self {
        Self::with_callbacks(name, mode, id, dev_show::<T>, dev_store::<T>)
    }

    /// An attribute whose callbacks find their id with [`DeviceAttribute::id_of`]. `show` is
    /// installed only for readable modes, `store` only for writable ones.
    pub const fn with_callbacks(
        name: &'static CStr,
        mode: u16,
        id: u32,
        show: ShowFn,
        store: StoreFn,
    ) -> Self {
        // SAFETY: all-zero is a valid `struct device_attribute`.
        let mut a: bindings::device_attribute = unsafe { core::mem::zeroed() };
        a.attr.name = as_char_ptr_in_const_context(name);
        a.attr.mode = mode;
        if mode & 0o444 != 0 {
            a.__bindgen_anon_1.show = Some(show);
        }
        if mode & 0o222 != 0 {
            a.__bindgen_anon_2.store = Some(store);
        }
        Self { attr: a, id }
    }

    /// The id of the attribute `attr` points to.
    ///
    /// # Safety
    ///
    /// `attr` must be the `attr` field of a live `DeviceAttribute` (as sysfs passes it to the
    /// callbacks installed by [`DeviceAttribute::with_callbacks`]).
    pub unsafe fn id_of(attr: *const bindings::device_attribute) -> u32 {
        // SAFETY: `attr` is the first field of a `DeviceAttribute` (`repr(C)`), per the caller.
        unsafe { (*attr.cast::<DeviceAttribute>()).id }
    }

    /// The embedded `struct attribute`.
    pub const fn attribute(&'static self) -> *mut bindings::attribute {
        (&raw const self.attr.attr).cast_mut()
    }
}

/// # Safety
///
/// Called by sysfs for an attribute built by [`DeviceAttribute::new::<T>`] on a device of a
/// `Bus<T>`.
unsafe extern "C" fn dev_show<T: BusOps>(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: such attributes are only attached (through `DeviceType`) to devices of a `Bus<T>`;
    // `attr` is the first field of a `DeviceAttribute` (`repr(C)`).
    let ((bus, dev), id) = unsafe {
        (
            super::bus::bus_and_device::<T>(dev),
            (*attr.cast::<DeviceAttribute>()).id,
        )
    };
    let Some(dev) = dev else {
        return super::bus::ret(Err(ENODEV));
    };
    // SAFETY: sysfs passes a page-sized buffer, ours for the call.
    let mut out = unsafe { ShowBuf::from_raw(buf) };
    super::bus::ret(bus.data().dev_show(dev, id, &mut out).map(|()| out.len()))
}

/// # Safety
///
/// As [`dev_show`], with `count` readable bytes at `buf`.
unsafe extern "C" fn dev_store<T: BusOps>(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: as in `dev_show`.
    let ((bus, dev), id) = unsafe {
        (
            super::bus::bus_and_device::<T>(dev),
            (*attr.cast::<DeviceAttribute>()).id,
        )
    };
    let Some(dev) = dev else {
        return super::bus::ret(Err(ENODEV));
    };
    // SAFETY: sysfs passes `count` readable bytes.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    super::bus::ret(bus.data().dev_store(dev, id, input).map(|()| count))
}

/// Builds a static device attribute table for the devices of a `Bus<$t>`, as the group list
/// `$gname` (for a [`DeviceType`]).
#[macro_export]
macro_rules! device_attribute_table {
    (static $gname:ident for $t:ty { $( ($name:expr, $mode:expr, $id:expr) ),* $(,)? }) => {
        static $gname: $crate::abs::bus::AttributeGroups = {
            use $crate::abs::bus::{AttributeGroup, AttributeGroups, AttributePointers};
            use $crate::abs::device::DeviceAttribute;
            const N: usize = [$( $id ),*].len();
            static ATTRS: [DeviceAttribute; N] = [$( DeviceAttribute::new::<$t>($name, $mode, $id) ),*];
            static PTRS: AttributePointers<{ N + 1 }> =
                AttributePointers::from_device_attrs(&ATTRS);
            static GROUP: AttributeGroup = AttributeGroup::new(&PTRS);
            AttributeGroups::new(&GROUP)
        };
    };
}
