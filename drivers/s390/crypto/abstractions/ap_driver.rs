// SPDX-License-Identifier: GPL-2.0

//! AP drivers: the C layout of `struct ap_rs_driver` (`include/ap-rs/ap_bus.h`), how the bus
//! calls a driver, and (for driver modules) a safe registration of a Rust [`ApDriver`].

use core::marker::PhantomPinned;
use kernel::{
    bindings,
    error::to_result,
    ffi::{c_char, c_int},
    prelude::*,
    types::Opaque,
};

use super::{
    bus::AttributeGroup,
    device::{ApRsDevice, DeviceAttribute},
};
use crate::model::{hw::QciInfo, mask::Mask};

/// The driver is a default (host) driver.
pub const FLAG_DEFAULT: u32 = 0x1;

/// `struct ap_rs_driver`.
#[repr(C)]
pub struct ApRsDriver {
    /// The `struct device_driver`.
    pub driver: Opaque<bindings::device_driver>,
    /// `AP_RS_DRIVER_FLAG_*`.
    pub flags: u32,
    /// The device kinds it binds.
    pub kinds: u32,
    /// Bit t: binds device type t.
    pub types: u32,
    /// `probe`.
    pub probe: Option<unsafe extern "C" fn(*mut ApRsDriver, *mut ApRsDevice) -> c_int>,
    /// `remove`.
    pub remove: Option<unsafe extern "C" fn(*mut ApRsDriver, *mut ApRsDevice)>,
    /// `in_use`.
    pub in_use: Option<unsafe extern "C" fn(*mut ApRsDriver, *const u8, *const u8) -> c_int>,
    /// `on_config_changed`.
    pub on_config_changed: Option<unsafe extern "C" fn(*mut ApRsDriver, *const u8, *const u8)>,
    /// `on_scan_complete`.
    pub on_scan_complete: Option<unsafe extern "C" fn(*mut ApRsDriver, *const u8, *const u8)>,
}

/// A driver registered on the AP bus, as the bus sees it.
///
/// The bus hands these to its callbacks; the pointer is valid while the driver is registered,
/// which the driver core guarantees during match, probe and remove, and the bus's driver list
/// during its own callbacks.
///
/// # Invariants
///
/// Points to the `struct ap_rs_driver` of a driver registered on the AP bus.
#[derive(Clone, Copy)]
pub struct DriverRef(*mut ApRsDriver);

// SAFETY: a registered driver may be used from any thread; the driver core and the bus's driver
// list synchronise registration.
unsafe impl Send for DriverRef {}
// SAFETY: as above; `DriverRef` has no interior state.
unsafe impl Sync for DriverRef {}

impl DriverRef {
    /// The AP driver of a `struct device_driver` of the AP bus.
    ///
    /// # Safety
    ///
    /// `drv` must be a driver registered on the AP bus (its first member of an `ap_rs_driver`),
    /// and stay registered while the returned value is used.
    pub unsafe fn from_driver(drv: *mut bindings::device_driver) -> Self {
        // INVARIANT: `driver` is the first member of `struct ap_rs_driver`.
        Self(drv.cast())
    }

    fn get(&self) -> &ApRsDriver {
        // SAFETY: registered (type invariant).
        unsafe { &*self.0 }
    }

    /// Whether it is a default driver.
    pub fn is_default(&self) -> bool {
        self.get().flags & FLAG_DEFAULT != 0
    }

    /// Whether it binds devices of `kind` and compatible type `device_type`.
    pub fn matches(&self, kind: u32, device_type: u32) -> bool {
        let d = self.get();
        d.kinds & kind != 0 && device_type < 32 && d.types & (1u32 << device_type) != 0
    }

    /// Calls its `probe` for `dev` (`-ENODEV` without one).
    pub fn probe(&self, dev: &ApRsDevice) -> Result {
        match self.get().probe {
            // SAFETY: the driver is registered and `dev` is a live device being bound to it;
            // drivers only use the device through the driver core's synchronised interfaces.
            Some(f) => to_result(unsafe { f(self.0, core::ptr::from_ref(dev).cast_mut()) }),
            None => Err(ENODEV),
        }
    }

    /// Calls its `remove` for `dev`.
    pub fn remove(&self, dev: &ApRsDevice) {
        if let Some(f) = self.get().remove {
            // SAFETY: as in `probe`; `dev` is bound to this driver.
            unsafe { f(self.0, core::ptr::from_ref(dev).cast_mut()) };
        }
    }

    /// Asks its `in_use` about `apm` x `aqm` (false without the callback).
    pub fn in_use(&self, apm: &Mask, aqm: &Mask) -> bool {
        match self.get().in_use {
            // SAFETY: the masks are 32 readable bytes each, alive for the call.
            Some(f) => unsafe { f(self.0, apm.0.as_ptr(), aqm.0.as_ptr()) != 0 },
            None => false,
        }
    }

    /// Tells it the configuration changed from `old` to `new`.
    pub fn config_changed(&self, new: &QciInfo, old: &QciInfo) {
        if let Some(f) = self.get().on_config_changed {
            // SAFETY: the blocks are 128 readable bytes each, alive for the call.
            unsafe { f(self.0, new.0.as_ptr(), old.0.as_ptr()) };
        }
    }

    /// Tells it the scan after a configuration change is complete.
    pub fn scan_complete(&self, new: &QciInfo, old: &QciInfo) {
        if let Some(f) = self.get().on_scan_complete {
            // SAFETY: as in `config_changed`.
            unsafe { f(self.0, new.0.as_ptr(), old.0.as_ptr()) };
        }
    }

    /// The driver's name.
    pub fn name(&self) -> &CStr {
        // SAFETY: a registered driver has a name (set by `register`) that lives as long as it.
        unsafe { CStr::from_char_ptr((*self.as_device_driver()).name) }
    }

    /// Whether both refer to the same driver.
    pub fn same(&self, other: &DriverRef) -> bool {
        core::ptr::eq(self.0, other.0)
    }

    /// Registers the driver on `bus` as `name` (`driver_register()`); devices may bind before
    /// this returns.
    pub fn register(&self, bus: *const bindings::bus_type, name: &'static CStr) -> Result {
        let d = self.as_device_driver();
        // SAFETY: the driver is valid and not yet registered (`ap_rs_driver_register`
        // contract); the bus is registered.
        unsafe {
            (*d).bus = bus;
            (*d).name = name.as_char_ptr();
            to_result(bindings::driver_register(d))
        }
    }

    /// Unregisters the driver (`driver_unregister()`): its devices are unbound first.
    pub fn unregister(&self) {
        // SAFETY: registered by `register`.
        unsafe { bindings::driver_unregister(self.as_device_driver()) };
    }

    /// The `struct device_driver`.
    fn as_device_driver(&self) -> *mut bindings::device_driver {
        self.get().driver.get()
    }

    /// The owner module, for `try_module_get()`.
    pub fn try_get_module(&self) -> bool {
        // SAFETY: the driver is registered, so `owner` is its module (or null for built-ins).
        unsafe { bindings::try_module_get((*self.as_device_driver()).owner) }
    }

    /// Drops the module reference of [`DriverRef::try_get_module`].
    pub fn put_module(&self) {
        // SAFETY: paired with a successful `try_get_module`.
        unsafe { bindings::module_put((*self.as_device_driver()).owner) };
    }
}

/// An AP device as a driver sees it: the `struct ap_rs_device` it was probed with.
///
/// # Invariants
///
/// Points to a live AP device (bound to the driver, or referenced).
pub struct ApDevice(*mut ApRsDevice);

impl ApDevice {
    /// The APQN (`APID << 8 | APQI`).
    pub fn apqn(&self) -> u16 {
        // SAFETY: live (type invariant).
        unsafe { (*self.0).apqn }
    }

    /// `AP_RS_KIND_CARD` or `AP_RS_KIND_QUEUE`.
    pub fn kind(&self) -> u32 {
        // SAFETY: live (type invariant).
        unsafe { (*self.0).kind }
    }

    /// The `struct device`.
    pub fn as_raw_device(&self) -> *mut bindings::device {
        // SAFETY: live (type invariant).
        unsafe { (*self.0).device.get() }
    }

    /// Adds the driver's attribute group (see `driver_attribute_group!`) to the device; the
    /// driver removes it in its `remove`.
    pub fn add_group(&self, group: &'static AttributeGroup) -> Result {
        // SAFETY: the device is live and bound to the calling driver; the group is static.
        to_result(unsafe {
            bindings::sysfs_create_group(&raw mut (*self.as_raw_device()).kobj, group.as_ptr())
        })
    }

    /// Removes a group added by [`ApDevice::add_group`]; waits for running callbacks.
    pub fn remove_group(&self, group: &'static AttributeGroup) {
        // SAFETY: as in `add_group`.
        unsafe {
            bindings::sysfs_remove_group(&raw mut (*self.as_raw_device()).kobj, group.as_ptr())
        };
    }

    /// Sends a CHANGE uevent with the given `KEY=value` strings.
    pub fn change_uevent(&self, env: &[&CStr]) -> Result {
        super::bus::uevent_env(self.as_raw_device(), env)
    }
}

/// A static attribute of a driver's group: its callbacks reach the bound driver's
/// [`ApDriver::attr_show`] / [`ApDriver::attr_store`] with the attribute's id.
pub const fn driver_attribute<T: ApDriver>(
    name: &'static CStr,
    mode: u16,
    id: u32,
) -> DeviceAttribute {
    DeviceAttribute::with_callbacks(name, mode, id, drv_attr_show::<T>, drv_attr_store::<T>)
}

/// Builds the static attribute group `$gname` of driver type `$t` (see [`driver_attribute`]),
/// for [`ApDevice::add_group`].
#[macro_export]
macro_rules! driver_attribute_group {
    (static $gname:ident for $t:ty { $( ($name:expr, $mode:expr, $id:expr) ),* $(,)? }) => {
        static $gname: $crate::abs::bus::AttributeGroup = {
            use $crate::abs::bus::{AttributeGroup, AttributePointers};
            use $crate::abs::device::DeviceAttribute;
            const N: usize = [$( $id ),*].len();
            static ATTRS: [DeviceAttribute; N] =
                [$( $crate::abs::ap_driver::driver_attribute::<$t>($name, $mode, $id) ),*];
            static PTRS: AttributePointers<{ N + 1 }> = AttributePointers::from_device_attrs(&ATTRS);
            AttributeGroup::new(&PTRS)
        };
    };
}

/// The registration and device of a driver attribute callback.
///
/// # Safety
///
/// `dev` must be a live AP device bound to a `Registration<T>` (the group is only added to
/// devices bound to it, and removed before they are unbound).
unsafe fn attr_context<'a, T: ApDriver>(
    dev: *mut bindings::device,
) -> (&'a Registration<T>, ApDevice) {
    // SAFETY: guaranteed by the caller: the bound driver is the first member of an
    // `ap_rs_driver`, the `raw` field of a `Registration<T>`; the device is an `ap_rs_device`.
    unsafe {
        let drv = (*dev).driver.cast::<ApRsDriver>();
        (
            Registration::<T>::from_raw(drv),
            ApDevice(dev.cast::<ApRsDevice>()),
        )
    }
}

/// # Safety
///
/// Called by sysfs for an attribute made by [`driver_attribute`] for `T` on a device bound to `T`.
unsafe extern "C" fn drv_attr_show<T: ApDriver>(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: see `attr_context`; `attr` belongs to a `DeviceAttribute` of `driver_attribute`.
    let ((r, d), id) = unsafe { (attr_context::<T>(dev), DeviceAttribute::id_of(attr)) };
    // SAFETY: sysfs passes a page-sized buffer, ours for the call.
    let mut out = unsafe { super::bus::ShowBuf::from_raw(buf) };
    super::bus::ret(r.data.attr_show(&d, id, &mut out).map(|()| out.len()))
}

/// # Safety
///
/// As [`drv_attr_show`], with `count` readable bytes at `buf`.
unsafe extern "C" fn drv_attr_store<T: ApDriver>(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: see `drv_attr_show`.
    let ((r, d), id) = unsafe { (attr_context::<T>(dev), DeviceAttribute::id_of(attr)) };
    // SAFETY: sysfs passes `count` readable bytes.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    super::bus::ret(r.data.attr_store(&d, id, input).map(|()| count))
}

/// A Rust AP driver.
pub trait ApDriver: Send + Sync + 'static {
    /// Default (host) driver?
    const DEFAULT: bool;
    /// `AP_RS_KIND_*` it binds.
    const KINDS: u32;
    /// Bit t: binds device type t.
    const TYPES: u32;

    /// A device was bound.
    fn probe(&self, dev: &ApDevice) -> Result;
    /// A device is being unbound.
    fn remove(&self, dev: &ApDevice);
    /// Whether any APQN of `apm` x `aqm` is in use (asked of non-default drivers).
    fn in_use(&self, _apm: &Mask, _aqm: &Mask) -> bool {
        false
    }
    /// The host configuration changed.
    fn on_config_changed(&self, _new: &QciInfo, _old: &QciInfo) {}
    /// The scan after a configuration change is complete.
    fn on_scan_complete(&self, _new: &QciInfo, _old: &QciInfo) {}
    /// Formats the driver's attribute `id` of `dev` (see `driver_attribute_group!`).
    fn attr_show(&self, _dev: &ApDevice, _id: u32, _buf: &mut super::bus::ShowBuf<'_>) -> Result {
        Err(EIO)
    }
    /// Handles a write to the driver's attribute `id` of `dev`.
    fn attr_store(&self, _dev: &ApDevice, _id: u32, _input: &[u8]) -> Result {
        Err(EIO)
    }
}

// `struct device_driver` contains zero-sized bindgen structs (lockdep maps): fine behind the
// pointers passed here.
#[allow(improper_ctypes)]
extern "C" {
    fn ap_rs_driver_register(
        drv: *mut ApRsDriver,
        owner: *mut bindings::module,
        name: *const c_char,
    ) -> c_int;
    fn ap_rs_driver_unregister(drv: *mut ApRsDriver);
}

/// A registered [`ApDriver`]: unregistered on drop.
///
/// # Invariants
///
/// `raw` is registered with the AP bus while `registered` is true.
#[pin_data(PinnedDrop)]
pub struct Registration<T: ApDriver> {
    #[pin]
    raw: Opaque<ApRsDriver>,
    #[pin]
    data: T,
    registered: bool,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: the C part is only used by the driver core (synchronised); `T` is `Send + Sync`.
unsafe impl<T: ApDriver> Send for Registration<T> {}
// SAFETY: as above.
unsafe impl<T: ApDriver> Sync for Registration<T> {}

impl<T: ApDriver> Registration<T> {
    /// Registers driver `name` with data `data`.
    pub fn new(
        name: &'static CStr,
        module: &'static ThisModule,
        data: impl PinInit<T, Error>,
    ) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            raw <- Opaque::ffi_init(|slot: *mut ApRsDriver| {
                // SAFETY: `slot` is valid for writing an `ApRsDriver`; all-zero is valid for its
                // `struct device_driver`.
                unsafe {
                    slot.write(ApRsDriver {
                        driver: Opaque::zeroed(),
                        flags: if T::DEFAULT { FLAG_DEFAULT } else { 0 },
                        kinds: T::KINDS,
                        types: T::TYPES,
                        probe: Some(probe_cb::<T>),
                        remove: Some(remove_cb::<T>),
                        in_use: Some(in_use_cb::<T>),
                        on_config_changed: Some(config_cb::<T>),
                        on_scan_complete: Some(scan_cb::<T>),
                    })
                }
            }),
            data <- data,
            registered: false,
            _pin: PhantomPinned,
        }? Error)
        .pin_chain(move |this| {
            // SAFETY: `raw` is initialised and pinned; it stays registered until drop.
            to_result(unsafe {
                ap_rs_driver_register(this.raw.get(), module.as_ptr(), name.as_char_ptr())
            })?;
            // INVARIANT: registered now.
            // SAFETY: only this flag is written, through the pinned reference.
            unsafe { Pin::get_unchecked_mut(this) }.registered = true;
            Ok(())
        })
    }

    /// The driver's data.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// # Safety
    ///
    /// `drv` must be the `raw` field of a live `Registration<T>`.
    unsafe fn from_raw<'a>(drv: *mut ApRsDriver) -> &'a Self {
        // SAFETY: guaranteed by the caller.
        unsafe { &*kernel::container_of!(drv.cast::<Opaque<ApRsDriver>>(), Self, raw) }
    }
}

#[pinned_drop]
impl<T: ApDriver> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        if self.registered {
            // SAFETY: registered (type invariant); after this no callback runs.
            unsafe { ap_rs_driver_unregister(self.raw.get()) };
        }
    }
}

/// # Safety
///
/// Called by the AP bus with the `raw` field of a registered `Registration<T>` and a device being bound.
unsafe extern "C" fn probe_cb<T: ApDriver>(drv: *mut ApRsDriver, dev: *mut ApRsDevice) -> c_int {
    // SAFETY: the bus calls this with our registered driver and a live device.
    let (r, d) = unsafe { (Registration::<T>::from_raw(drv), ApDevice(dev)) };
    match r.data.probe(&d) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called by the AP bus with the `raw` field of a registered `Registration<T>` and a device bound to it.
unsafe extern "C" fn remove_cb<T: ApDriver>(drv: *mut ApRsDriver, dev: *mut ApRsDevice) {
    // SAFETY: the bus calls this with our registered driver and a device bound to it.
    let (r, d) = unsafe { (Registration::<T>::from_raw(drv), ApDevice(dev)) };
    r.data.remove(&d);
}

/// Reads a 32-byte mask.
///
/// # Safety
///
/// `p` must point to 32 readable bytes.
unsafe fn mask_at(p: *const u8) -> Mask {
    let mut m = Mask::ZERO;
    // SAFETY: guaranteed by the caller.
    m.0.copy_from_slice(unsafe { core::slice::from_raw_parts(p, 32) });
    m
}

/// Reads a 128-byte QCI block.
///
/// # Safety
///
/// `p` must point to 128 readable bytes.
unsafe fn qci_at(p: *const u8) -> QciInfo {
    let mut q = QciInfo([0; 128]);
    // SAFETY: guaranteed by the caller.
    q.0.copy_from_slice(unsafe { core::slice::from_raw_parts(p, 128) });
    q
}

/// # Safety
///
/// Called by the AP bus with the `raw` field of a registered `Registration<T>` and two 32-byte masks.
unsafe extern "C" fn in_use_cb<T: ApDriver>(
    drv: *mut ApRsDriver,
    apm: *const u8,
    aqm: *const u8,
) -> c_int {
    // SAFETY: the bus passes our driver and two 32-byte masks.
    let (r, apm, aqm) = unsafe { (Registration::<T>::from_raw(drv), mask_at(apm), mask_at(aqm)) };
    c_int::from(r.data.in_use(&apm, &aqm))
}

/// # Safety
///
/// Called by the AP bus with the `raw` field of a registered `Registration<T>` and two 128-byte QCI blocks.
unsafe extern "C" fn config_cb<T: ApDriver>(drv: *mut ApRsDriver, new: *const u8, old: *const u8) {
    // SAFETY: the bus passes our driver and two 128-byte QCI blocks.
    let (r, new, old) = unsafe { (Registration::<T>::from_raw(drv), qci_at(new), qci_at(old)) };
    r.data.on_config_changed(&new, &old);
}

/// # Safety
///
/// Called by the AP bus with the `raw` field of a registered `Registration<T>` and two 128-byte QCI blocks.
unsafe extern "C" fn scan_cb<T: ApDriver>(drv: *mut ApRsDriver, new: *const u8, old: *const u8) {
    // SAFETY: as in `config_cb`.
    let (r, new, old) = unsafe { (Registration::<T>::from_raw(drv), qci_at(new), qci_at(old)) };
    r.data.on_scan_complete(&new, &old);
}
