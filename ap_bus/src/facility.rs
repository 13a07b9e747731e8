// SPDX-License-Identifier: GPL-2.0
//! The AP facility as the bus sees it: the PQAP functions and the SCLP adapter
//! (de)configuration. On s390 the kernel glue implements [`ApFacility`] with the real
//! instructions (`asm/ap.h`); elsewhere, or when asked for, [`super::sim::Sim`] does.

use super::hw::{AqicCtrl, QactInfo, QciInfo, QueueStatus, TapqHwInfo};
use super::ids::Apqn;

/// Why an SCLP adapter (de)configuration failed (`sclp_ap_configure`/`sclp_ap_deconfigure`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum SclpError {
    /// EOPNOTSUPP: the machine has no SCLP AP reconfiguration facility.
    NotSupported,
    /// ENOMEM: no page for the SCCB.
    NoMemory,
    /// EIO: the request failed or SCLP answered with an unexpected response code.
    Io,
}

impl SclpError {
    /// The positive errno (EOPNOTSUPP = 95, ENOMEM = 12, EIO = 5).
    pub const fn errno(self) -> i32 {
        match self {
            SclpError::NotSupported => 95,
            SclpError::NoMemory => 12,
            SclpError::Io => 5,
        }
    }
}

/// The AP instructions and SCLP calls the AP bus and vfio_ap issue.
///
/// The caller is responsible for the architectural preconditions the kernel keeps: TAPQ and
/// the other queue functions only for APQNs within the id limits, QACT only if QCI reports it.
pub trait ApFacility {
    /// PQAP(QCI): the 128-byte configuration block, or `None` if the QCI facility is not
    /// installed (the kernel's `ap_qci()` returning -EOPNOTSUPP).
    fn qci(&mut self) -> Option<QciInfo>;

    /// PQAP(TAPQ) on `q`, with the T bit if `t`: the status word and GR2 (0 unless `t`).
    fn tapq(&mut self, q: Apqn, t: bool) -> (QueueStatus, TapqHwInfo);

    /// PQAP(RAPQ) on `q` (F bit if `f`): starts a queue reset.
    fn rapq(&mut self, q: Apqn, f: bool) -> QueueStatus;

    /// PQAP(ZAPQ) on `q` (F bit if `f`): starts a queue reset with zeroize.
    fn zapq(&mut self, q: Apqn, f: bool) -> QueueStatus;

    /// PQAP(AQIC) on `q` with GR1 `ctrl` and the notification indicator byte address `nib`.
    fn aqic(&mut self, q: Apqn, ctrl: AqicCtrl, nib: u64) -> QueueStatus;

    /// PQAP(QACT) on `q` with GR1 `info` (IF bit 0): the status and GR2.
    fn qact(&mut self, q: Apqn, info: QactInfo) -> (QueueStatus, QactInfo);

    /// `sclp_ap_configure(apid)`.
    fn sclp_configure(&mut self, apid: u8) -> Result<(), SclpError>;

    /// `sclp_ap_deconfigure(apid)`.
    fn sclp_deconfigure(&mut self, apid: u8) -> Result<(), SclpError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errnos() {
        assert_eq!(SclpError::NotSupported.errno(), 95);
        assert_eq!(SclpError::NoMemory.errno(), 12);
        assert_eq!(SclpError::Io.errno(), 5);
    }
}
