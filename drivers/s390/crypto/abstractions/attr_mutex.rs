// SPDX-License-Identifier: GPL-2.0

//! The AP bus attribute mutex `ap_attr_mutex`: a C mutex that `ap.ko` defines and exports, as
//! the C bus does (the drivers on the bus lock it themselves), held for one scope by an
//! [`AttrLocked`] guard. The data only its holder may reach is an [`AttrData`], reached through
//! the guard, so the borrow checker ties every access to the held mutex.

use core::{
    cell::UnsafeCell,
    marker::PhantomData,
    mem::ManuallyDrop, //
};
use kernel::bindings;

extern "C" {
    /// `DEFINE_MUTEX(ap_attr_mutex)` in `ap_glue.c`, exported.
    static mut ap_attr_mutex: bindings::mutex;
}

/// `ap_attr_mutex`, held by this thread while the value lives; dropping it unlocks.
///
/// # Invariants
///
/// This thread holds `ap_attr_mutex`, taken for this value (or, for the value
/// [`AttrLocked::assume_held`] lends, by the caller), and no other `AttrLocked` exists.
pub struct AttrLocked {
    // A mutex is released by the thread that took it.
    _not_send: PhantomData<*mut ()>,
}

impl AttrLocked {
    /// Takes the mutex (sleeps).
    pub fn lock() -> AttrLocked {
        // SAFETY: `ap_attr_mutex` is initialised statically and lives as long as `ap.ko`, which
        // is this module or one it depends on; it is unlocked by `drop`.
        unsafe { bindings::mutex_lock(&raw mut ap_attr_mutex) };
        // INVARIANT: taken just now; while it is held no other thread makes a guard, and this
        // one only makes a second one through `assume_held`, whose callers have none.
        AttrLocked {
            _not_send: PhantomData,
        }
    }

    /// Runs `f` with the mutex that the caller holds already, not through a guard (a C caller
    /// of one of `ap.ko`'s exported functions, which C documents as "with `ap_attr_mutex`
    /// held"). The mutex stays held afterwards.
    ///
    /// # Safety
    ///
    /// The calling thread holds `ap_attr_mutex` for the whole call and has no [`AttrLocked`].
    pub unsafe fn assume_held<R>(f: impl FnOnce(&mut AttrLocked) -> R) -> R {
        // INVARIANT: held by the caller, who has no other guard; not dropped, so the caller's
        // hold is left as it was.
        let mut g = ManuallyDrop::new(AttrLocked {
            _not_send: PhantomData,
        });
        f(&mut g)
    }
}

impl Drop for AttrLocked {
    fn drop(&mut self) {
        // SAFETY: held by this thread for this guard (type invariant).
        unsafe { bindings::mutex_unlock(&raw mut ap_attr_mutex) };
    }
}

/// Data that only the holder of `ap_attr_mutex` reaches.
pub struct AttrData<T>(UnsafeCell<T>);

// SAFETY: every access goes through a held `AttrLocked`, so the mutex serialises them.
unsafe impl<T: Send> Sync for AttrData<T> {}
// SAFETY: `T` is `Send`.
unsafe impl<T: Send> Send for AttrData<T> {}

impl<T> AttrData<T> {
    /// `value`, reached under the mutex from now on.
    pub const fn new(value: T) -> Self {
        Self(UnsafeCell::new(value))
    }

    /// The data, read under `held`.
    pub fn get<'a>(&'a self, _held: &'a AttrLocked) -> &'a T {
        // SAFETY: the mutex is held (`AttrLocked`'s invariant) for `'a`, and a mutable
        // reference needs the guard mutably, which `_held` borrows for as long.
        unsafe { &*self.0.get() }
    }

    /// The data, changed under `held`.
    pub fn get_mut<'a>(&'a self, _held: &'a mut AttrLocked) -> &'a mut T {
        // SAFETY: the mutex is held for `'a` and the only guard is borrowed mutably for as long
        // (`AttrLocked`'s invariant: there is no other), so nothing else reaches the data.
        unsafe { &mut *self.0.get() }
    }
}
