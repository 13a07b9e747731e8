// SPDX-License-Identifier: GPL-2.0

//! The AP facility the bus runs on: the machine's AP instructions on s390, or the simulator of
//! the model crate (asked for with `sim=`, and wherever there are no AP instructions). The one
//! place that chooses.

use kernel::prelude::*;

use crate::{
    abs::platform::{
        self,
        KtimeClock, //
    },
    model::{
        facility::ApFacility,
        sim::{
            self,
            Sim, //
        }, //
    }, //
};

/// The AP facility the bus runs on.
pub(crate) enum Facility {
    /// The simulator (boxed: it is too large for the stack).
    Sim(KVBox<Sim<KtimeClock>>),
    /// The machine's AP instructions.
    #[cfg(CONFIG_S390)]
    Hw(platform::hw::HwFacility),
}

impl Facility {
    /// The simulator, if the bus runs on it.
    pub(crate) fn sim(&mut self) -> Option<&mut Sim<KtimeClock>> {
        match self {
            Facility::Sim(s) => Some(&mut **s),
            #[cfg(CONFIG_S390)]
            Facility::Hw(_) => None,
        }
    }

    pub(crate) fn get(&mut self) -> &mut dyn ApFacility {
        match self {
            Facility::Sim(s) => &mut **s,
            #[cfg(CONFIG_S390)]
            Facility::Hw(h) => h,
        }
    }

    /// Chooses the facility: the simulator if asked for (or if there is nothing else), else the
    /// machine's AP instructions.
    pub(crate) fn select() -> Result<Self> {
        let spec = platform::param_sim();
        #[cfg(CONFIG_S390)]
        if spec.is_none() {
            return match platform::hw::HwFacility::probe() {
                Some(hw) => Ok(Facility::Hw(hw)),
                None => {
                    pr_err!("The hardware system does not support AP instructions; load with sim=default to use the simulated AP facility\n");
                    Err(ENODEV)
                }
            };
        }
        let spec = match spec.unwrap_or(b"") {
            b"default" => b"".as_slice(),
            s => s,
        };
        let machine = sim::parse_machine_spec(spec).map_err(|_| {
            pr_err!("invalid sim= machine description\n");
            EINVAL
        })?;
        let mut s = platform::new_sim()?;
        s.configure(&machine);
        // The initial machine is what the first scan finds, not a change.
        s.take_config_event();
        pr_info!("running on the simulated AP facility\n");
        Ok(Facility::Sim(s))
    }
}
