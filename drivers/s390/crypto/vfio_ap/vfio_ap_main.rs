// SPDX-License-Identifier: GPL-2.0

//! The s390 vfio_ap mediated device driver (`vfio_ap.ko`), in Rust.
//!
//! Creates `/sys/devices/vfio_ap/matrix` with the mdev type `vfio_ap-passthrough`, keeps the
//! assigned matrix and the shadow APCB of every mdev, answers the AP bus's `in_use` query and
//! binds the queue devices the host gives up (a non-default AP queue driver).
//!
//! The decisions are in the `vfio_ap` model crate (and the `ap_bus` one for masks, ids and the
//! QCI layout), compiled into this module; the C glue `vfio_ap_glue.c` makes the kernel objects
//! the kernel crate has no abstraction for. This file holds the state under its locks and applies
//! the model's answers.
//!
//! Lock order (as the C driver): `ap.ko`'s attribute mutex ([`abs::attr_mutex::AttrLocked`]) -> `guests`
//! ([`MatrixDev::guests`]) -> `mdevs` ([`MatrixDev::mdevs`]). The AP bus calls `in_use` with its
//! attribute mutex held and probe/remove without it.

use kernel::{
    debugfs,
    prelude::*,
    sync::Arc, //
};

/// Safe abstractions over the C driver core, the AP bus interface and the glue.
#[path = "../abstractions"]
pub mod abs {
    pub mod ap_driver;
    pub mod ap_services;
    pub mod attr_mutex;
    pub mod bus;
    pub mod device;
    pub mod kvm;
    pub mod mdev;
}

/// The model crates: `ap_bus` (masks, ids, QCI, parsers) and `vfio_ap`, in one module as their
/// files refer to each other through `super::`.
#[path = "../../../../ap_bus/src"]
pub mod model {
    #[path = "../../vfio_ap/src/ap_config.rs"]
    pub mod ap_config;
    #[path = "../../vfio_ap/src/aqic.rs"]
    pub mod aqic;
    #[path = "../../vfio_ap/src/crycb.rs"]
    pub mod crycb;
    #[path = "../../vfio_ap/src/errno.rs"]
    pub mod errno;
    pub mod hw;
    pub mod ids;
    pub mod mask;
    #[path = "../../vfio_ap/src/matrix.rs"]
    pub mod matrix;
    pub mod owner;
    pub mod parse;
    #[path = "../../vfio_ap/src/reset.rs"]
    pub mod reset;
    #[path = "../../vfio_ap/src/shadow.rs"]
    pub mod shadow;
    pub mod text;
    #[path = "../../vfio_ap/src/vfio.rs"]
    pub mod vfio;
    #[path = "../../vfio_ap/src/vfio_text.rs"]
    pub mod vfio_text;
}

mod assign;
mod debug_files;
mod guests;
mod matrix_dev;
mod mdev_parent;
mod mdev_state;
mod pqap;
mod queue_driver;
mod reset;

use abs::{
    ap_driver::Registration,
    mdev::GlueRegistration, //
};
use debug_files::{
    GuestsFile,
    PqapFile, //
};
use matrix_dev::MatrixDev;
use queue_driver::QueueDriver;

module! {
    type: VfioApModule,
    name: "vfio_ap",
    authors: ["ap-rs developers"],
    description: "s390 VFIO AP mediated device driver (Rust)",
    license: "GPL",
    params: {
        simguest: bool {
            default: false,
            description: "Open a VFIO device without a KVM into a simulated guest (tests)",
        },
    },
}

/// The module's state. Built in the reverse order of the fields and dropped in their order:
/// the matrix device's state, the AP queue driver `vfio_ap` (binding the queues the host gave
/// up), the matrix device with the mdev parent, the debugfs files; at exit the files, the mdev
/// parent and matrix device, then the queue driver. A failed step of the init drops what the
/// steps before it built, in the same order.
#[pin_data]
struct VfioApModule {
    #[pin]
    _guests_file: debugfs::File<GuestsFile>,
    #[pin]
    _pqap_file: debugfs::File<PqapFile>,
    _debugfs: debugfs::Dir,
    _glue: GlueRegistration<MatrixDev>,
    #[pin]
    _queues: Registration<QueueDriver>,
    dev: Arc<MatrixDev>,
}

impl kernel::InPlaceModule for VfioApModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            dev: MatrixDev::new()?,
            _queues <- Registration::new(
                c"vfio_ap",
                module,
                Ok::<_, Error>(QueueDriver { dev: dev.clone() }),
            ),
            _glue: GlueRegistration::new(dev.clone())?,
            _debugfs: debugfs::Dir::new(c"vfio_ap"),
            _pqap_file <- _debugfs.read_write_file(c"pqap", PqapFile(dev.clone())),
            _guests_file <- _debugfs.read_only_file(c"guests", GuestsFile(dev.clone())),
        }? Error)
    }
}
