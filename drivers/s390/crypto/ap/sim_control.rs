// SPDX-License-Identifier: GPL-2.0

//! `/sys/kernel/debug/ap_sim/control`: the simulated machine, read and changed at run time.

use kernel::{
    debugfs,
    fmt,
    prelude::*,
    sync::Arc,
    uaccess::UserSliceReader, //
};

use crate::{
    abs::{
        ap_bus_ffi::ApBusApi,
        bus::Bus, //
    },
    bus::{
        parse_err,
        ApBus, //
    },
    model::sim, //
};

/// The debugfs control file of the simulator: reading prints the simulated machine, writing
/// applies one command (see the model's `sim::parse_command`); a configuration change is
/// announced to the bus, which rescans before the write returns (as a CHSC AP configuration
/// change notification does on s390).
pub(crate) struct SimControl(pub(crate) Arc<Bus<ApBus>>);

impl debugfs::Writer for SimControl {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.data().facility.lock().sim() {
            Some(s) => s.write_state(f),
            None => writeln!(f, "not simulated"),
        }
    }
}

impl debugfs::Reader for SimControl {
    fn read_from_slice(&self, reader: &mut UserSliceReader) -> Result {
        let mut buf = [0u8; 256];
        let n = reader.len();
        let line = buf.get_mut(..n).ok_or(EINVAL)?;
        reader.read_slice(line)?;
        let cmd = sim::parse_command(line).map_err(parse_err)?;
        let bus = self.0.data();
        let changed = match bus.facility.lock().sim() {
            Some(s) => {
                s.apply(&cmd).map_err(|_| EINVAL)?;
                s.take_config_event()
            }
            None => return Err(ENODEV),
        };
        if changed {
            bus.force_rescan();
        }
        Ok(())
    }
}
