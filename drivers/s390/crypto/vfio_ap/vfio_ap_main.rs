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
//! Lock order (as the C driver): `ap.ko`'s attribute mutex ([`AttrGuard`]) -> `guests`
//! ([`MatrixDev::guests`]) -> `mdevs` ([`MatrixDev::mdevs`]). The AP bus calls `in_use` with its
//! attribute mutex held and probe/remove without it.

use kernel::{
    debugfs,
    new_mutex,
    prelude::*,
    sync::Arc, //
};

/// Safe abstractions over the C driver core, the AP bus interface and the glue.
#[path = "../abstractions"]
pub mod abs {
    pub mod ap_driver;
    pub mod ap_services;
    pub mod bus;
    pub mod device;
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
    ap_services,
    mdev::GlueRegistration, //
};
use debug_files::{
    GuestsFile,
    PqapFile, //
};
use guests::Guests;
use matrix_dev::MatrixDev;
use mdev_state::Mdevs;
use model::hw::QciInfo;
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

struct VfioApModule {
    // Dropped in order of declaration: the debugfs files, the mdevs, then the queue driver.
    _guests_file: Pin<KBox<debugfs::File<GuestsFile>>>,
    _pqap_file: Pin<KBox<debugfs::File<PqapFile>>>,
    _debugfs: debugfs::Dir,
    _glue: GlueRegistration<MatrixDev>,
    _queues: Pin<KBox<Registration<QueueDriver>>>,
}

impl kernel::Module for VfioApModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let info = ap_services::qci().unwrap_or(QciInfo([0; 128]));
        let dev = Arc::pin_init(
            pin_init!(MatrixDev {
                guests <- new_mutex!(Guests {
                    list: KVec::new(),
                    held: None,
                }),
                mdevs <- new_mutex!(Mdevs {
                    info,
                    list: KVec::new(),
                    queues: KVec::new(),
                    next_id: 0,
                    last_pqap: None,
                }),
            }),
            GFP_KERNEL,
        )?;
        let queues = KBox::pin_init(
            Registration::new(
                c"vfio_ap",
                module,
                Ok::<_, Error>(QueueDriver { dev: dev.clone() }),
            ),
            GFP_KERNEL,
        )?;
        let dir = debugfs::Dir::new(c"vfio_ap");
        let guests_file = KBox::pin_init(
            dir.read_only_file(c"guests", GuestsFile(dev.clone())),
            GFP_KERNEL,
        )?;
        let pqap_file = KBox::pin_init(
            dir.read_write_file(c"pqap", PqapFile(dev.clone())),
            GFP_KERNEL,
        )?;
        let glue = GlueRegistration::new(dev)?;
        Ok(VfioApModule {
            _guests_file: guests_file,
            _pqap_file: pqap_file,
            _debugfs: dir,
            _glue: glue,
            _queues: queues,
        })
    }
}
