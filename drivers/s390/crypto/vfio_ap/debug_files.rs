// SPDX-License-Identifier: GPL-2.0

//! vfio_ap's debugfs files: `guests` (the simulated guests' CRYCBs) and `pqap` (a simulated
//! guest executes PQAP(AQIC)).

use core::sync::atomic::Ordering;
use kernel::{
    debugfs,
    fmt,
    prelude::*,
    sync::Arc,
    uaccess::UserSliceReader, //
};

use crate::{
    guests::GuestCb,
    matrix_dev::MatrixDev,
    mdev_state::LastPqap,
    model::{
        self,
        aqic,
        crycb::CrycbFormat, //
    },
    pqap::SIM_PINS, //
};

/// `/sys/kernel/debug/vfio_ap/guests`: one line per simulated guest,
/// `<mdev> commits <n> apm <mask> aqm <mask> adm <mask> crycb <256 bytes in hex>`, the masks
/// read back from the guest's CRYCB (format 2) as the AP bus prints masks.
pub(crate) struct GuestsFile(pub(crate) Arc<MatrixDev>);

impl debugfs::Writer for GuestsFile {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let guests = self.0.guests.lock();
        let mdevs = self.0.mdevs.lock();
        for g in guests.list.iter() {
            let GuestCb::Sim(crycb) = &g.cb else {
                continue;
            };
            let name = mdevs.rec(g.mdev).map_or("?", |m| m.name());
            let (apm, aqm, adm) = crycb.masks(CrycbFormat::Format2);
            write!(
                f,
                "{name} commits {} apm {apm} aqm {aqm} adm {adm} crycb ",
                g.commits
            )?;
            for b in crycb.0.iter() {
                write!(f, "{b:02x}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// `/sys/kernel/debug/vfio_ap/pqap`: "guest executes PQAP(AQIC)". Writing
/// `<mdev uuid> <gr0> <gr1> <gr2>` (numbers as `kstrtoul(.., 0)` reads them) makes the simulated
/// guest of that mdev execute PQAP with those registers; reading shows the answer
/// (`gr1 0x<16 hex digits> cc <n>`, `userspace` or `program 0x<code>`), the pinned NIB pages
/// (`pins <n>`) and one line per queue with interruptions enabled (`<apqn> isc <n> nib 0x<hex>`).
pub(crate) struct PqapFile(pub(crate) Arc<MatrixDev>);

impl debugfs::Writer for PqapFile {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mdevs = self.0.mdevs.lock();
        match mdevs.last_pqap {
            None => writeln!(f, "none")?,
            Some(LastPqap::Userspace) => writeln!(f, "userspace")?,
            Some(LastPqap::Program(c)) => writeln!(f, "program 0x{c:04x}")?,
            Some(LastPqap::Done { gr1, cc }) => writeln!(f, "gr1 0x{gr1:016x} cc {cc}")?,
        }
        writeln!(f, "pins {}", SIM_PINS.load(Ordering::Relaxed))?;
        for q in mdevs.queues.iter() {
            if q.irq.saved_isc != aqic::VFIO_AP_ISC_INVALID {
                writeln!(
                    f,
                    "{:02x}.{:04x} isc {} nib 0x{:x}",
                    q.apqn.apid, q.apqn.apqi, q.irq.saved_isc, q.irq.saved_iova
                )?;
            }
        }
        Ok(())
    }
}

impl debugfs::Reader for PqapFile {
    fn read_from_slice(&self, reader: &mut UserSliceReader) -> Result {
        let mut buf = [0u8; 160];
        let n = reader.len();
        let line = buf.get_mut(..n).ok_or(EINVAL)?;
        reader.read_slice(line)?;
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
        let name = words.next().ok_or(EINVAL)?;
        let mut num = || -> Result<u64> {
            model::parse::kstrtoul(words.next().ok_or(EINVAL)?, 0).map_err(|_| EINVAL)
        };
        let regs = aqic::PqapRegs {
            gr0: num()?,
            gr1: num()?,
            gr2: num()?,
        };
        self.0.pqap(name, &regs)
    }
}
