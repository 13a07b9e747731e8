// SPDX-License-Identifier: GPL-2.0

//! A bus type owned by a Rust driver, with its bus attributes and a root device.
//!
//! The C driver core keeps bus attributes as `struct bus_attribute`, whose callbacks receive only
//! the `struct bus_type` pointer. [`Bus`] embeds that `struct bus_type`, so every callback finds its
//! way back to the Rust data with `container_of!`. Attribute tables are static and built by
//! [`bus_attribute_table!`]; each entry carries a numeric id that is handed to [`BusOps`].

use super::{ap_driver::DriverRef, device::BusDevice};
use core::{
    marker::PhantomPinned,
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::{
    bindings,
    error::{from_err_ptr, to_result},
    ffi::{c_char, c_int},
    prelude::*,
    str::as_char_ptr_in_const_context,
    types::Opaque,
};

/// What a bus's Rust data must provide: the bus attribute callbacks and the device callbacks.
///
/// Every device on the bus is a [`BusDevice<Self::Device>`]; the bus's root device (which only
/// carries the bus pointer for its uevents) has no device type and never reaches these callbacks.
pub trait BusOps: Send + Sync + 'static {
    /// The bus's data in each device.
    type Device: Send + Sync;

    /// Formats bus attribute `id` into `buf` (one page, output is cut at the end of the page).
    fn show(&self, id: u32, buf: &mut ShowBuf<'_>) -> Result;

    /// Handles a write of `input` to bus attribute `id`. On success the whole write is consumed.
    fn store(&self, id: u32, input: &[u8]) -> Result;

    /// Formats device attribute `id` of `dev` into `buf`.
    fn dev_show(&self, dev: &BusDevice<Self::Device>, id: u32, buf: &mut ShowBuf<'_>) -> Result;

    /// Handles a write of `input` to device attribute `id` of `dev`.
    fn dev_store(&self, dev: &BusDevice<Self::Device>, id: u32, input: &[u8]) -> Result;

    /// Whether driver `drv` can drive `dev`.
    fn match_device(&self, dev: &BusDevice<Self::Device>, drv: DriverRef) -> bool;

    /// Binds `dev` to `drv`, or refuses with an error.
    fn probe(&self, dev: &BusDevice<Self::Device>, drv: DriverRef) -> Result;

    /// Unbinds `dev` from `drv`.
    fn remove(&self, dev: &BusDevice<Self::Device>, drv: DriverRef);

    /// Adds the bus's variables to a uevent of `dev`.
    fn uevent(&self, dev: &BusDevice<Self::Device>, env: &mut UeventEnv) -> Result;
}

/// The environment of a uevent being built.
pub struct UeventEnv(*mut bindings::kobj_uevent_env);

impl UeventEnv {
    /// Adds one `KEY=value` string.
    pub fn add(&mut self, var: &CStr) -> Result {
        // SAFETY: `self.0` is the environment the driver core passed to the callback that made
        // this value; the format consumes exactly one C string.
        to_result(unsafe {
            bindings::add_uevent_var(self.0, c"%s".as_char_ptr(), var.as_char_ptr())
        })
    }
}

/// The output page of a sysfs `show` callback.
pub struct ShowBuf<'a> {
    page: &'a mut [u8],
    len: usize,
}

impl<'a> ShowBuf<'a> {
    /// A show buffer over `page` (for tests; sysfs callbacks use [`ShowBuf::from_raw`]).
    pub fn new(page: &'a mut [u8]) -> Self {
        ShowBuf { page, len: 0 }
    }
}

impl ShowBuf<'_> {
    /// The page of a sysfs `show` callback. Like `sysfs_emit()` it holds at most
    /// `PAGE_SIZE - 1` bytes (sysfs warns about a show that returns `PAGE_SIZE`).
    ///
    /// # Safety
    ///
    /// `buf` must be the `PAGE_SIZE` buffer sysfs passes to a show callback, used only during the
    /// callback.
    pub(crate) unsafe fn from_raw<'a>(buf: *mut c_char) -> ShowBuf<'a> {
        // SAFETY: guaranteed by the caller.
        let page = unsafe {
            core::slice::from_raw_parts_mut(buf.cast::<u8>(), kernel::page::PAGE_SIZE - 1)
        };
        ShowBuf { page, len: 0 }
    }

    /// The bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The unused rest of the page, to be filled by a writer that reports its length to
    /// [`ShowBuf::advance`].
    pub fn rest(&mut self) -> &mut [u8] {
        self.page.get_mut(self.len..).unwrap_or_default()
    }

    /// Appends raw bytes, cut at the end of the page.
    pub fn write_bytes(&mut self, b: &[u8]) {
        let rest = self.rest();
        let n = core::cmp::min(rest.len(), b.len());
        rest[..n].copy_from_slice(&b[..n]);
        self.advance(n);
    }

    /// Records that `n` more bytes of [`ShowBuf::rest`] were filled (bounded by the page).
    pub fn advance(&mut self, n: usize) {
        self.len = core::cmp::min(self.len.saturating_add(n), self.page.len());
    }
}

impl core::fmt::Write for ShowBuf<'_> {
    /// Appends `s`, cutting it at the end of the page like `sysfs_emit()`.
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

/// A `struct bus_attribute` that may live in a `static`.
#[repr(transparent)]
pub struct BusAttribute(bindings::bus_attribute);

// SAFETY: the attribute is immutable after construction; the driver core only reads it, from any
// thread.
unsafe impl Sync for BusAttribute {}

impl BusAttribute {
    /// An attribute named `name` with permission bits `mode` and callbacks dispatching to
    /// `T`'s [`BusOps`] with `ID`. Read-only modes get no store callback and vice versa.
    pub const fn new<T: BusOps, const ID: u32>(name: &'static CStr, mode: u16) -> Self {
        // SAFETY: all-zero is a valid `struct bus_attribute` (null pointers, no callbacks, zeroed
        // lockdep keys that sysfs does not use for static attributes).
        let mut a: bindings::bus_attribute = unsafe { core::mem::zeroed() };
        a.attr.name = as_char_ptr_in_const_context(name);
        a.attr.mode = mode;
        if mode & 0o444 != 0 {
            a.show = Some(show_callback::<T, ID>);
        }
        if mode & 0o222 != 0 {
            a.store = Some(store_callback::<T, ID>);
        }
        Self(a)
    }
}

/// The null-terminated attribute pointer array of a [`bus_attribute_table!`].
#[repr(transparent)]
pub struct AttributePointers<const N: usize>([*mut bindings::attribute; N]);

/// A `struct attribute_group` (without a directory name) that may live in a `static`.
#[repr(transparent)]
pub struct AttributeGroup(bindings::attribute_group);

/// The null-terminated group list handed to `bus_type.bus_groups`.
#[repr(transparent)]
pub struct AttributeGroups([*const bindings::attribute_group; 2]);

// SAFETY: immutable after construction; only read by the driver core.
unsafe impl<const N: usize> Sync for AttributePointers<N> {}
// SAFETY: immutable after construction; only read by the driver core.
unsafe impl Sync for AttributeGroup {}
// SAFETY: immutable after construction; only read by the driver core.
unsafe impl Sync for AttributeGroups {}

impl<const N: usize> AttributePointers<N> {
    /// The pointers to the device attributes `attrs`, then null; `N` must be `M + 1`.
    pub const fn from_device_attrs<const M: usize>(
        attrs: &'static [super::device::DeviceAttribute; M],
    ) -> Self {
        const { assert!(N == M + 1) };
        let mut ptrs = [core::ptr::null_mut(); N];
        let mut i = 0;
        while i < M {
            ptrs[i] = attrs[i].attribute();
            i += 1;
        }
        Self(ptrs)
    }

    /// The pointers to `attrs`, then null; `N` must be `M + 1` (checked at compile time).
    pub const fn new<const M: usize>(attrs: &'static [BusAttribute; M]) -> Self {
        const { assert!(N == M + 1) };
        let mut ptrs = [core::ptr::null_mut(); N];
        let mut i = 0;
        while i < M {
            ptrs[i] = (&raw const attrs[i].0.attr).cast_mut();
            i += 1;
        }
        Self(ptrs)
    }
}

impl AttributeGroup {
    /// A group over the pointer array `ptrs`.
    pub const fn new<const N: usize>(ptrs: &'static AttributePointers<N>) -> Self {
        // SAFETY: all-zero is a valid `struct attribute_group` (no name, no callbacks).
        let mut g: bindings::attribute_group = unsafe { core::mem::zeroed() };
        g.__bindgen_anon_2.attrs = ptrs.0.as_ptr().cast_mut();
        Self(g)
    }
}

impl AttributeGroup {
    /// The raw group (for `sysfs_create_group()`).
    pub const fn as_ptr(&'static self) -> *const bindings::attribute_group {
        &self.0
    }
}

impl AttributeGroups {
    /// The list holding just `group`.
    pub const fn new(group: &'static AttributeGroup) -> Self {
        Self([&raw const group.0, core::ptr::null()])
    }

    /// The pointer for `bus_type.bus_groups`.
    pub const fn as_ptr(&'static self) -> *const *const bindings::attribute_group {
        self.0.as_ptr()
    }
}

/// Builds the static attribute table of a bus and a function returning its group list.
///
/// ```ignore
/// bus_attribute_table!(fn ap_bus_groups for ApBus {
///     (c"apmask", 0o644, ATTR_APMASK),
/// });
/// ```
#[macro_export]
macro_rules! bus_attribute_table {
    ($vis:vis fn $fname:ident for $t:ty { $( ($name:expr, $mode:expr, $id:expr) ),* $(,)? }) => {
        $vis fn $fname() -> *const *const ::kernel::bindings::attribute_group {
            use $crate::abs::bus::{AttributeGroup, AttributeGroups, AttributePointers, BusAttribute};
            const ATTRS_N: usize = [$( $id ),*].len();
            static ATTRS: [BusAttribute; ATTRS_N] =
                [$( BusAttribute::new::<$t, { $id }>($name, $mode) ),*];
            static PTRS: AttributePointers<{ ATTRS_N + 1 }> = AttributePointers::new(&ATTRS);
            static GROUP: AttributeGroup = AttributeGroup::new(&PTRS);
            static GROUPS: AttributeGroups = AttributeGroups::new(&GROUP);
            GROUPS.as_ptr()
        }
    };
}

/// A registered bus type whose callbacks reach `T`.
///
/// # Invariants
///
/// While `registered` is true, `raw` is registered with the driver core and its callbacks may run
/// at any time; they only use the shared reference to `data`.
#[pin_data(PinnedDrop)]
pub struct Bus<T: BusOps> {
    #[pin]
    raw: Opaque<bindings::bus_type>,
    #[pin]
    data: T,
    registered: AtomicBool,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: the `bus_type` is written only before registration and afterwards only read by the
// driver core, which synchronises its own state; `T` is `Send`.
unsafe impl<T: BusOps> Send for Bus<T> {}
// SAFETY: shared references only reach the immutable `bus_type` and `T`, which is `Sync`.
unsafe impl<T: BusOps> Sync for Bus<T> {}

impl<T: BusOps> Bus<T> {
    /// A bus named `name` (not yet registered) around `data`.
    pub fn new(
        name: &'static CStr,
        groups: *const *const bindings::attribute_group,
        data: impl PinInit<T, Error>,
    ) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            raw <- Opaque::ffi_init(move |slot: *mut bindings::bus_type| {
                // SAFETY: `slot` is valid for writes of a `bus_type`; all-zero is a valid one.
                unsafe {
                    slot.write(core::mem::zeroed());
                    (*slot).name = name.as_char_ptr();
                    (*slot).bus_groups = groups;
                    (*slot).match_ = Some(match_callback::<T>);
                    (*slot).probe = Some(probe_callback::<T>);
                    (*slot).remove = Some(remove_callback::<T>);
                    (*slot).uevent = Some(uevent_callback::<T>);
                }
            }),
            data <- data,
            registered: AtomicBool::new(false),
            _pin: PhantomPinned,
        }? Error)
    }

    /// Registers the bus with the driver core: `/sys/bus/<name>` appears.
    ///
    /// `Bus` is `!Unpin` and only built through [`PinInit`], so `self` is pinned.
    pub fn register(&self) -> Result {
        // SAFETY: `raw` was initialised in `new` and is pinned (see above); it stays valid until
        // `drop` unregisters it.
        to_result(unsafe { bindings::bus_register(self.raw.get()) })?;
        // INVARIANT: the bus is registered now.
        self.registered.store(true, Ordering::Release);
        Ok(())
    }

    /// The driver data.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The raw `struct bus_type` (for new devices and drivers).
    pub fn as_raw(&self) -> *const bindings::bus_type {
        self.raw.get()
    }

    /// # Safety
    ///
    /// `bus` must be the `raw` field of a live, pinned `Bus<T>`.
    unsafe fn from_raw<'a>(bus: *const bindings::bus_type) -> &'a Self {
        // SAFETY: guaranteed by the caller.
        unsafe {
            &*kernel::container_of!(
                bus.cast_mut().cast::<Opaque<bindings::bus_type>>(),
                Self,
                raw
            )
        }
    }
}

#[pinned_drop]
impl<T: BusOps> PinnedDrop for Bus<T> {
    fn drop(self: Pin<&mut Self>) {
        if self.registered.load(Ordering::Acquire) {
            // SAFETY: registered in `register` (type invariant); after this no callback runs.
            unsafe { bindings::bus_unregister(self.raw.get()) };
        }
    }
}

/// The bus of a device on a `Bus<T>`, and the device, unless it is the root device.
///
/// # Safety
///
/// `dev` must be a live device whose `bus` is the `raw` field of a live `Bus<T>`.
pub(crate) unsafe fn bus_and_device<'a, T: BusOps>(
    dev: *const bindings::device,
) -> (&'a Bus<T>, Option<&'a BusDevice<T::Device>>) {
    // SAFETY: guaranteed by the caller.
    let bus = unsafe { Bus::<T>::from_raw((*dev).bus) };
    // SAFETY: every device of the bus but the root device is a `BusDevice<T::Device>` with a
    // device type; the root device has none.
    let dev = unsafe { (!(*dev).type_.is_null()).then(|| BusDevice::from_raw(dev)) };
    (bus, dev)
}

/// # Safety
///
/// Called by the driver core for a device and a driver of a registered `Bus<T>`.
unsafe extern "C" fn match_callback<T: BusOps>(
    dev: *mut bindings::device,
    drv: *const bindings::device_driver,
) -> c_int {
    // SAFETY: `dev` is on our bus, and so is `drv`: every driver of the AP bus is an
    // `ap_rs_driver`.
    match unsafe {
        (
            bus_and_device::<T>(dev),
            DriverRef::from_driver(drv.cast_mut()),
        )
    } {
        ((bus, Some(d)), drv) => c_int::from(bus.data.match_device(d, drv)),
        _ => 0,
    }
}

/// # Safety
///
/// Called by the driver core to bind a device of a registered `Bus<T>`.
unsafe extern "C" fn probe_callback<T: BusOps>(dev: *mut bindings::device) -> c_int {
    // SAFETY: `dev` is on our bus.
    match unsafe { bus_and_device::<T>(dev) } {
        (bus, Some(d)) => match d.bound_driver() {
            Some(drv) => match bus.data.probe(d, drv) {
                Ok(()) => 0,
                Err(e) => e.to_errno(),
            },
            None => ENODEV.to_errno(),
        },
        _ => ENODEV.to_errno(),
    }
}

/// # Safety
///
/// Called by the driver core to unbind a device of a registered `Bus<T>`.
unsafe extern "C" fn remove_callback<T: BusOps>(dev: *mut bindings::device) {
    // SAFETY: `dev` is on our bus.
    if let (bus, Some(d)) = unsafe { bus_and_device::<T>(dev) } {
        if let Some(drv) = d.bound_driver() {
            bus.data.remove(d, drv);
        }
    }
}

/// # Safety
///
/// Called by the driver core while building a uevent of a device of a registered `Bus<T>`.
unsafe extern "C" fn uevent_callback<T: BusOps>(
    dev: *const bindings::device,
    env: *mut bindings::kobj_uevent_env,
) -> c_int {
    // SAFETY: `dev` is on our bus (or is its root device).
    match unsafe { bus_and_device::<T>(dev) } {
        (bus, Some(d)) => match bus.data.uevent(d, &mut UeventEnv(env)) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        },
        // The root device's uevents carry only what their sender put in.
        _ => 0,
    }
}

/// Converts a callback result into what sysfs expects.
pub(crate) fn ret(r: Result<usize>) -> isize {
    match r {
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// # Safety
///
/// Called by the driver core with the `bus_type` of a registered `Bus<T>` and a page buffer.
unsafe extern "C" fn show_callback<T: BusOps, const ID: u32>(
    bus: *const bindings::bus_type,
    buf: *mut c_char,
) -> isize {
    // SAFETY: attributes built for `T` are only installed on a `Bus<T>`.
    let bus = unsafe { Bus::<T>::from_raw(bus) };
    // SAFETY: sysfs passes a buffer of `PAGE_SIZE` bytes, exclusively ours during the call.
    let mut out = unsafe { ShowBuf::from_raw(buf) };
    ret(bus.data.show(ID, &mut out).map(|()| out.len))
}

/// # Safety
///
/// Called by the driver core with the `bus_type` of a registered `Bus<T>` and `count` bytes.
unsafe extern "C" fn store_callback<T: BusOps, const ID: u32>(
    bus: *const bindings::bus_type,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: attributes built for `T` are only installed on a `Bus<T>`.
    let bus = unsafe { Bus::<T>::from_raw(bus) };
    // SAFETY: sysfs passes `count` readable bytes (plus a terminating NUL) for the call.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    ret(bus.data.store(ID, input).map(|()| count))
}

/// A root device (`/sys/devices/<name>`), unregistered on drop.
///
/// # Invariants
///
/// `dev` is a device returned by `__root_device_register` and not yet unregistered.
pub struct RootDevice {
    dev: *mut bindings::device,
}

// SAFETY: the driver core synchronises all device operations we use.
unsafe impl Send for RootDevice {}
// SAFETY: as above; `&RootDevice` only sends uevents.
unsafe impl Sync for RootDevice {}

impl RootDevice {
    /// Registers `/sys/devices/<name>`.
    pub fn register(name: &CStr, module: &'static ThisModule) -> Result<Self> {
        // SAFETY: `name` is a valid C string; the module pointer is our own.
        let dev = from_err_ptr(unsafe {
            bindings::__root_device_register(name.as_char_ptr(), module.as_ptr())
        })?;
        // INVARIANT: registered just now.
        Ok(Self { dev })
    }

    /// The raw device.
    pub fn as_raw(&self) -> *mut bindings::device {
        self.dev
    }

    /// Makes the root device a member of `bus` without adding it to the bus's device list, so
    /// that its uevents pass the driver core's filter and carry `SUBSYSTEM=<bus>`.
    pub fn set_bus<T: BusOps>(&self, bus: &Bus<T>) {
        // The C AP bus sets the same field right after `root_device_register()`.
        // SAFETY: `dev` is registered (type invariant); `bus` outlives the device: the bus owner
        // unregisters the root device before the bus memory goes away.
        unsafe { (*self.dev).bus = bus.as_raw() };
    }

    /// Sends a CHANGE uevent carrying the `KEY=value` strings in `env`.
    pub fn change_uevent(&self, env: &[&CStr]) -> Result {
        uevent_env(self.dev, env)
    }
}

impl Drop for RootDevice {
    fn drop(&mut self) {
        // SAFETY: registered (type invariant) and unregistered only here.
        unsafe { bindings::root_device_unregister(self.dev) };
    }
}

/// Sends a CHANGE uevent on `dev` with up to 8 environment strings.
pub(crate) fn uevent_env(dev: *mut bindings::device, env: &[&CStr]) -> Result {
    let mut envp: [*mut c_char; 9] = [core::ptr::null_mut(); 9];
    if env.len() >= envp.len() {
        return Err(EINVAL);
    }
    for (slot, s) in envp.iter_mut().zip(env) {
        *slot = s.as_char_ptr().cast_mut();
    }
    // SAFETY: `dev` is a registered device; `envp` is a null-terminated array of C strings that
    // outlive the call (the kernel copies them).
    let rc: c_int = unsafe {
        bindings::kobject_uevent_env(
            &raw mut (*dev).kobj,
            bindings::kobject_action_KOBJ_CHANGE,
            envp.as_mut_ptr(),
        )
    };
    to_result(rc)
}
