// SPDX-License-Identifier: GPL-2.0

//! The s390 AP bus (`ap.ko`), in Rust.
//!
//! Registers bus `ap` and the root device `/sys/devices/ap`, creates card and queue devices from
//! the AP configuration (QCI + TAPQ) in periodic and forced scans, binds them to AP drivers by
//! the host's permission masks, and serves the bus, card and queue attributes. Other modules
//! drive AP devices through the interface in `include/ap-rs/ap_bus.h`.
//!
//! Every decision (mask syntax, ownership, scan plans, the queue state machine, formats) lives in
//! the `ap_bus` model crate, compiled into this module from `ap_bus/src`; this file gathers state
//! under its locks and applies the model's answers.
//!
//! Where there are no AP instructions (any architecture but s390, or an s390 guest without the
//! AP facility), the bus runs on the simulated AP facility of the model crate, configured by the
//! `sim=` module parameter and controlled at run time through debugfs (`ap_sim/control`).

use core::sync::atomic::Ordering;
use kernel::{
    debugfs,
    prelude::*,
    sync::Arc, //
};

/// Safe abstractions over the C driver core and the platform (shared with other modules).
#[path = "../abstractions"]
pub mod abs {
    pub mod ap_bus_ffi;
    pub mod ap_driver;
    pub mod bus;
    pub mod device;
    pub mod platform;
}

/// The `ap_bus` model crate: every decision of the bus.
#[path = "../../../../ap_bus/src"]
pub mod model {
    pub mod facility;
    pub mod hw;
    pub mod ids;
    pub mod mask;
    pub mod owner;
    pub mod parse;
    pub mod queue_sm;
    pub mod scan;
    pub mod sim;
    pub mod text;
}

mod api;
mod bus;
mod bus_attrs;
mod card;
mod devices;
mod facility;
mod perms;
mod queue;
mod scan;
mod sim_control;

use abs::{
    ap_bus_ffi,
    bus::Bus, //
};
use sim_control::SimControl;

// The abstractions name the bus's state and the attribute mutex's data.
pub(crate) use bus::ApBus;
pub(crate) use perms::Attr;

module! {
    type: ApModule,
    name: "ap",
    authors: ["ap-rs developers"],
    description: "s390 AP bus (Rust)",
    license: "GPL",
}

struct ApModule {
    // Removed first: the debugfs file holds a reference to the bus.
    sim_control: Option<Pin<KBox<debugfs::File<SimControl>>>>,
    _debugfs: debugfs::Dir,
    bus: Arc<Bus<ApBus>>,
}

impl kernel::Module for ApModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let bus = Arc::pin_init(
            Bus::new(c"ap", bus_attrs::ap_bus_groups(), ApBus::new(module)?),
            GFP_KERNEL,
        )?;
        bus.register()?;
        let data = bus.data();
        data.bus_type
            .store(bus.as_raw().cast_mut(), Ordering::Release);
        // Uevents of a device without bus or class are filtered: the root device belongs to
        // the bus, as in C.
        data.root.set_bus(&bus);
        ap_bus_ffi::publish(bus.clone());

        let dir = debugfs::Dir::new(c"ap_sim");
        let control = KBox::pin_init(
            dir.read_write_file(c"control", SimControl(bus.clone())),
            GFP_KERNEL,
        )?;
        // The initial scan; it arms the periodic ones.
        data.scan_bus();
        Ok(ApModule {
            sim_control: Some(control),
            _debugfs: dir,
            bus,
        })
    }
}

impl Drop for ApModule {
    fn drop(&mut self) {
        let data = self.bus.data();
        // No new scans or polls from here on (sysfs writes may still come until the bus is
        // unregistered, debugfs ones until the file is gone).
        data.exiting.store(true, Ordering::Release);
        self.sim_control = None;
        ap_bus_ffi::cancel_works();
        // Every AP driver module depends on this one, so none is registered any more: the
        // devices go without unbinding anything.
        {
            let mut table = data.scan.lock();
            while let Some(q) = table.queues.pop() {
                q.unregister();
            }
            while let Some(c) = table.cards.pop() {
                c.unregister();
            }
        }
        ap_bus_ffi::cancel_works();
        ap_bus_ffi::withdraw();
    }
}

/// KUnit tests of the abstractions' helpers (run when the module loads).
#[kunit_tests(ap_rs_bus_abstractions)]
mod tests {
    use super::abs::bus::ShowBuf;
    use core::fmt::Write;

    #[test]
    fn show_buf_cuts_at_the_end_of_the_page() {
        let mut page = [0u8; 8];
        let mut b = ShowBuf::new(&mut page);
        assert!(write!(b, "0123").is_ok());
        assert!(write!(b, "456789").is_ok());
        assert_eq!(b.len(), 8);
        assert_eq!(&page, b"01234567");
    }

    #[test]
    fn show_buf_advance_is_bounded() {
        let mut page = [0u8; 4];
        let mut b = ShowBuf::new(&mut page);
        b.advance(3);
        b.advance(usize::MAX);
        assert_eq!(b.len(), 4);
        assert!(b.rest().is_empty());
    }
}
