// SPDX-License-Identifier: GPL-2.0

//! The matrix device, the mdev parent and driver and the VFIO devices of `vfio_ap.ko`, made by
//! its C glue (`vfio_ap_glue.c`, `include/ap-rs/vfio_ap_glue.h`), and how they call a Rust
//! [`MatrixDriver`]: a safe [`GlueRegistration`] and the [`GlueMdev`] handle of one mdev.

use core::{
    ffi::c_void,
    marker::PhantomData,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{
    error::to_result,
    ffi::{c_char, c_int, c_long, c_uint},
    prelude::*,
    sync::Arc,
};

use super::{
    bus::{
        ret,
        ShowBuf, //
    },
    kvm::{
        KvmRef,
        RawKvm,
        RawVcpu,
        VcpuRef, //
    }, //
};

/// `enum vfio_ap_glue_attr`: the matrix device's `features`.
pub const ATTR_FEATURES: u32 = 0;
/// `assign_adapter`.
pub const ATTR_ASSIGN_ADAPTER: u32 = 1;
/// `unassign_adapter`.
pub const ATTR_UNASSIGN_ADAPTER: u32 = 2;
/// `assign_domain`.
pub const ATTR_ASSIGN_DOMAIN: u32 = 3;
/// `unassign_domain`.
pub const ATTR_UNASSIGN_DOMAIN: u32 = 4;
/// `assign_control_domain`.
pub const ATTR_ASSIGN_CONTROL_DOMAIN: u32 = 5;
/// `unassign_control_domain`.
pub const ATTR_UNASSIGN_CONTROL_DOMAIN: u32 = 6;
/// `control_domains`.
pub const ATTR_CONTROL_DOMAINS: u32 = 7;
/// `matrix`.
pub const ATTR_MATRIX: u32 = 8;
/// `guest_matrix`.
pub const ATTR_GUEST_MATRIX: u32 = 9;
/// `ap_config`.
pub const ATTR_AP_CONFIG: u32 = 10;

/// The glue's object of one mdev (opaque).
#[repr(C)]
pub struct RawGlueMdev {
    _private: [u8; 0],
}

/// `struct vfio_ap_rs_ops`.
#[repr(C)]
pub struct VfioApRsOps {
    matrix_show: unsafe extern "C" fn(u32, *mut c_char) -> isize,
    mdev_create: unsafe extern "C" fn(*mut RawGlueMdev, *const c_char, *mut u32) -> c_int,
    mdev_destroy: unsafe extern "C" fn(u32),
    mdev_show: unsafe extern "C" fn(u32, u32, *mut c_char) -> isize,
    mdev_store: unsafe extern "C" fn(u32, u32, *const c_char, usize) -> isize,
    open_device: unsafe extern "C" fn(u32, *mut RawKvm) -> c_int,
    close_device: unsafe extern "C" fn(u32),
    ioctl: unsafe extern "C" fn(u32, c_uint, usize) -> c_long,
    request: unsafe extern "C" fn(u32, c_uint),
    dma_unmap: unsafe extern "C" fn(u32, u64, u64),
    pqap: unsafe extern "C" fn(u32, *mut RawVcpu, bool, *mut u64) -> c_int,
}

extern "C" {
    fn vfio_ap_glue_init(ops: *const VfioApRsOps) -> c_int;
    fn vfio_ap_glue_exit();
    fn vfio_ap_glue_mdev_log(m: *mut RawGlueMdev, level: c_int, msg: *const c_char);
    fn vfio_ap_glue_matrix_log(level: c_int, msg: *const c_char);
    fn vfio_ap_glue_set_trigger(m: *mut RawGlueMdev, index: u32, fd: c_int) -> c_int;
    fn vfio_ap_glue_signal(m: *mut RawGlueMdev, index: u32) -> bool;
}

/// Log levels of [`GlueMdev::log`] and [`matrix_log`].
#[derive(Clone, Copy)]
pub enum Level {
    /// `dev_err`.
    Err = 3,
    /// `dev_warn`.
    Warn = 4,
    /// `dev_info`.
    Info = 6,
}

/// Up to 255 bytes of `msg` as a C string.
fn c_msg(msg: &[u8]) -> [u8; 256] {
    let mut b = [0u8; 256];
    let n = core::cmp::min(msg.len(), 255);
    b[..n].copy_from_slice(&msg[..n]);
    b
}

/// Logs `msg` on the matrix device.
pub fn matrix_log(level: Level, msg: &[u8]) {
    let b = c_msg(msg);
    // SAFETY: `b` is NUL-terminated; the matrix device exists while a `GlueRegistration` does,
    // and only its driver calls this.
    unsafe { vfio_ap_glue_matrix_log(level as c_int, b.as_ptr().cast()) };
}

/// The glue's object of one mdev, as the driver keeps it between `mdev_create` and
/// `mdev_destroy`.
///
/// # Invariants
///
/// Points to the glue object of an mdev whose `mdev_destroy` has not returned yet; the driver
/// drops its handle in `mdev_destroy`.
pub struct GlueMdev(pub(super) *mut RawGlueMdev);

// SAFETY: the glue object may be used from any thread; the trigger functions are serialised by
// the driver's lock (see `set_trigger`).
unsafe impl Send for GlueMdev {}
// SAFETY: as above.
unsafe impl Sync for GlueMdev {}

impl GlueMdev {
    /// Logs `msg` on the mdev's device (`vfio_ap_mdev <uuid>: msg`).
    pub fn log(&self, level: Level, msg: &[u8]) {
        let b = c_msg(msg);
        // SAFETY: live (type invariant); `b` is NUL-terminated.
        unsafe { vfio_ap_glue_mdev_log(self.0, level as c_int, b.as_ptr().cast()) };
    }

    /// Sets (`fd >= 0`) or clears the eventfd of IRQ `index`. The driver calls the trigger
    /// functions of one mdev under one lock.
    pub fn set_trigger(&mut self, index: u32, fd: i32) -> Result {
        // SAFETY: live (type invariant); `&mut self` serialises the triggers.
        to_result(unsafe { vfio_ap_glue_set_trigger(self.0, index, fd) })
    }

    /// Signals the eventfd of IRQ `index`; false if none is set.
    pub fn signal(&mut self, index: u32) -> bool {
        // SAFETY: as in `set_trigger`.
        unsafe { vfio_ap_glue_signal(self.0, index) }
    }
}

/// What the C glue asks of the driver. Each callback names an mdev by the id the driver
/// returned from [`MatrixDriver::mdev_create`].
pub trait MatrixDriver: Send + Sync + 'static {
    /// A file of the matrix device (only [`ATTR_FEATURES`]).
    fn matrix_show(&self, attr: u32, buf: &mut ShowBuf<'_>) -> Result;
    /// A new mdev `name` (its UUID); returns its id. The VFIO device is not registered yet.
    fn mdev_create(&self, m: GlueMdev, name: &[u8]) -> Result<u32>;
    /// The mdev goes; its VFIO device is unregistered (and closed).
    fn mdev_destroy(&self, id: u32);
    /// Reads file `attr` of the mdev.
    fn mdev_show(&self, id: u32, attr: u32, buf: &mut ShowBuf<'_>) -> Result;
    /// Writes file `attr` of the mdev.
    fn mdev_store(&self, id: u32, attr: u32, input: &[u8]) -> Result;
    /// The VFIO device is opened (with a KVM or without); whether a KVM guest was attached
    /// (the glue then registers the mdev's PQAP hook with it, and unregisters it at close).
    fn open_device(&self, id: u32, kvm: Option<KvmRef>) -> Result<bool>;
    /// The VFIO device is closed.
    fn close_device(&self, id: u32);
    /// A VFIO ioctl; `arg` is the user pointer.
    fn ioctl(&self, id: u32, cmd: u32, arg: usize) -> Result<isize>;
    /// The VFIO core asks userspace to release the device (`count`-th time).
    fn request(&self, id: u32, count: u32);
    /// A DMA range is unmapped.
    fn dma_unmap(&self, id: u32, iova: u64, length: u64);
    /// s390 with KVM: the guest's PQAP(AQIC) on vCPU `vcpu` (with `ECA_AIV` or not); `regs`
    /// are GR0-GR2, GR1 is the answer. `EOPNOTSUPP` sends the instruction to user space.
    fn pqap(&self, id: u32, vcpu: VcpuRef, eca_aiv: bool, regs: &mut [u64; 3]) -> Result;
}

/// The driver while a [`GlueRegistration`] exists: a reference leaked from its `Arc`.
static DRIVER: AtomicPtr<c_void> = AtomicPtr::new(core::ptr::null_mut());

/// The published driver.
///
/// # Safety
///
/// Only for the callbacks of the `VfioApRsOps` of a live `GlueRegistration<T>` (the same `T`).
unsafe fn driver<'a, T: MatrixDriver>() -> &'a T {
    // SAFETY: the registration publishes an `Arc<T>` before the glue can call back and withdraws
    // it after the glue is torn down (caller).
    unsafe { &*DRIVER.load(Ordering::Acquire).cast::<T>() }
}

/// The matrix device and the mdev parent and driver, with `T` behind them; torn down on drop.
///
/// # Invariants
///
/// The glue is initialised and `DRIVER` holds a reference of `_driver` while this exists.
pub struct GlueRegistration<T: MatrixDriver> {
    _driver: PhantomData<Arc<T>>,
}

impl<T: MatrixDriver> GlueRegistration<T> {
    const OPS: VfioApRsOps = VfioApRsOps {
        matrix_show: matrix_show_cb::<T>,
        mdev_create: mdev_create_cb::<T>,
        mdev_destroy: mdev_destroy_cb::<T>,
        mdev_show: mdev_show_cb::<T>,
        mdev_store: mdev_store_cb::<T>,
        open_device: open_cb::<T>,
        close_device: close_cb::<T>,
        ioctl: ioctl_cb::<T>,
        request: request_cb::<T>,
        dma_unmap: dma_unmap_cb::<T>,
        pqap: pqap_cb::<T>,
    };

    /// Creates `/sys/devices/vfio_ap/matrix` and the mdev type, with `driver` behind them. Only
    /// one registration may exist at a time.
    pub fn new(driver: Arc<T>) -> Result<Self> {
        let raw = Arc::into_raw(driver).cast_mut().cast::<c_void>();
        if DRIVER
            .compare_exchange(
                core::ptr::null_mut(),
                raw,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            // SAFETY: `raw` came from `Arc::into_raw` above and was not published.
            drop(unsafe { Arc::from_raw(raw.cast::<T>()) });
            return Err(EBUSY);
        }
        // SAFETY: `OPS` is a static table of callbacks for `T`, which is published.
        if let Err(e) = to_result(unsafe { vfio_ap_glue_init(&Self::OPS) }) {
            Self::withdraw();
            return Err(e);
        }
        // INVARIANT: initialised and published.
        Ok(GlueRegistration {
            _driver: PhantomData,
        })
    }

    fn withdraw() {
        let p = DRIVER.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if !p.is_null() {
            // SAFETY: the pointer came from `Arc::into_raw` in `new`, for `T`.
            drop(unsafe { Arc::from_raw(p.cast::<T>()) });
        }
    }
}

impl<T: MatrixDriver> Drop for GlueRegistration<T> {
    fn drop(&mut self) {
        // SAFETY: initialised (type invariant); after this returns no callback runs.
        unsafe { vfio_ap_glue_exit() };
        Self::withdraw();
    }
}

/// # Safety
///
/// Called by the glue of a live `GlueRegistration<T>` with a sysfs page.
unsafe extern "C" fn matrix_show_cb<T: MatrixDriver>(attr: u32, buf: *mut c_char) -> isize {
    // SAFETY: sysfs page, ours for the call; registration live (caller).
    let (mut out, d) = unsafe { (ShowBuf::from_raw(buf), driver::<T>()) };
    ret(d.matrix_show(attr, &mut out).map(|()| out.len()))
}

/// # Safety
///
/// Called by the glue of a live `GlueRegistration<T>` from the mdev probe, with the mdev's glue
/// object, its NUL-terminated name and a place for the id.
unsafe extern "C" fn mdev_create_cb<T: MatrixDriver>(
    m: *mut RawGlueMdev,
    name: *const c_char,
    id: *mut u32,
) -> c_int {
    // SAFETY: `name` is a C string for the call (caller).
    let name = unsafe { CStr::from_char_ptr(name) };
    // SAFETY: registration live (caller).
    let d = unsafe { driver::<T>() };
    // INVARIANT: the glue object lives until `mdev_destroy` returns.
    match d.mdev_create(GlueMdev(m), name.to_bytes()) {
        Ok(v) => {
            // SAFETY: `id` is writable (caller).
            unsafe { *id = v };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called by the glue of a live `GlueRegistration<T>`.
unsafe extern "C" fn mdev_destroy_cb<T: MatrixDriver>(id: u32) {
    // SAFETY: registration live (caller).
    unsafe { driver::<T>() }.mdev_destroy(id);
}

/// # Safety
///
/// Called by the glue of a live `GlueRegistration<T>` with a sysfs page.
unsafe extern "C" fn mdev_show_cb<T: MatrixDriver>(id: u32, attr: u32, buf: *mut c_char) -> isize {
    // SAFETY: sysfs page, ours for the call; registration live (caller).
    let (mut out, d) = unsafe { (ShowBuf::from_raw(buf), driver::<T>()) };
    ret(d.mdev_show(id, attr, &mut out).map(|()| out.len()))
}

/// # Safety
///
/// Called by the glue of a live `GlueRegistration<T>` with `count` readable bytes at `buf`.
unsafe extern "C" fn mdev_store_cb<T: MatrixDriver>(
    id: u32,
    attr: u32,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: `count` readable bytes (caller).
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    // SAFETY: registration live (caller).
    let d = unsafe { driver::<T>() };
    ret(d.mdev_store(id, attr, input).map(|()| count))
}

/// # Safety
///
/// Called by the glue of a live `GlueRegistration<T>`; `kvm` is NULL or a KVM referenced by the
/// VFIO core until close.
unsafe extern "C" fn open_cb<T: MatrixDriver>(id: u32, kvm: *mut RawKvm) -> c_int {
    // SAFETY: the VFIO core keeps `kvm` alive while the device is open (caller).
    let kvm = unsafe { KvmRef::from_raw(kvm) };
    // SAFETY: registration live (caller).
    match unsafe { driver::<T>() }.open_device(id, kvm) {
        Ok(attached) => c_int::from(attached),
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called by the glue of a live `GlueRegistration<T>`.
unsafe extern "C" fn close_cb<T: MatrixDriver>(id: u32) {
    // SAFETY: registration live (caller).
    unsafe { driver::<T>() }.close_device(id);
}

/// # Safety
///
/// Called by the glue of a live `GlueRegistration<T>`; `arg` is the user's argument.
unsafe extern "C" fn ioctl_cb<T: MatrixDriver>(id: u32, cmd: c_uint, arg: usize) -> c_long {
    // SAFETY: registration live (caller).
    match unsafe { driver::<T>() }.ioctl(id, cmd, arg) {
        Ok(v) => v as c_long,
        Err(e) => e.to_errno() as c_long,
    }
}

/// # Safety
///
/// Called by the glue of a live `GlueRegistration<T>`.
unsafe extern "C" fn request_cb<T: MatrixDriver>(id: u32, count: c_uint) {
    // SAFETY: registration live (caller).
    unsafe { driver::<T>() }.request(id, count);
}

/// # Safety
///
/// Called by the glue of a live `GlueRegistration<T>` from KVM's PQAP interception, with a vCPU
/// of the guest and its GR0-GR2 (three `u64`).
unsafe extern "C" fn pqap_cb<T: MatrixDriver>(
    id: u32,
    vcpu: *mut RawVcpu,
    eca_aiv: bool,
    gprs: *mut u64,
) -> c_int {
    // SAFETY: three readable `u64` (caller).
    let mut regs = unsafe { [*gprs, *gprs.add(1), *gprs.add(2)] };
    // SAFETY: the vCPU runs the intercepted instruction for the whole call (caller).
    let vcpu = unsafe { VcpuRef::from_raw(vcpu) };
    // SAFETY: registration live (caller).
    match unsafe { driver::<T>() }.pqap(id, vcpu, eca_aiv, &mut regs) {
        Ok(()) => {
            // SAFETY: three writable `u64` (caller).
            unsafe { *gprs.add(1) = regs[1] };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called by the glue of a live `GlueRegistration<T>`.
unsafe extern "C" fn dma_unmap_cb<T: MatrixDriver>(id: u32, iova: u64, length: u64) {
    // SAFETY: registration live (caller).
    unsafe { driver::<T>() }.dma_unmap(id, iova, length);
}
