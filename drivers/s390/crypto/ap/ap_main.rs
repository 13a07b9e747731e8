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
    pub mod attr_mutex;
    pub mod bus;
    mod bus_tests;
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
use scan::Scanning;
use sim_control::SimControl;

// The abstractions name the bus's state.
pub(crate) use bus::ApBus;

module! {
    type: ApModule,
    name: "ap",
    authors: ["ap-rs developers"],
    description: "s390 AP bus (Rust)",
    license: "GPL",
}

/// The module's state. Built in the reverse order of the fields and dropped in their order:
/// the bus (registered) with its root device, the C interface, the debugfs file and the first
/// scan; at exit the scans and polls stop and the devices go, then the debugfs file, the C
/// interface and the bus with its root device (after the bus: see `ApBus::root`). A failed
/// step of the init drops what the steps before it built, in the same order.
#[pin_data]
struct ApModule {
    _scanning: Scanning,
    #[pin]
    _sim_control: debugfs::File<SimControl>,
    _debugfs: debugfs::Dir,
    _published: ap_bus_ffi::Published,
    bus: Arc<Bus<ApBus>>,
}

impl kernel::InPlaceModule for ApModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            bus: {
                let bus = ApBus::register()?;
                ApBus::register_root(&bus, module)?;
                bus
            },
            _published: ap_bus_ffi::publish(bus.clone()),
            _debugfs: debugfs::Dir::new(c"ap_sim"),
            _sim_control <- _debugfs.read_write_file(c"control", SimControl(bus.clone())),
            _scanning: Scanning::start(bus),
        }? Error)
    }
}
