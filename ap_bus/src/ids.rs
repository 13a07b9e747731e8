// SPDX-License-Identifier: GPL-2.0
//! AP queue numbers (APQNs) and the id limits derived from QCI.

use core::fmt;

use super::hw::QciInfo;
use super::mask::Mask;

/// An AP queue number: adapter id (APID) and domain id (APQI).
///
/// Ordered by APID first, then APQI (the order of `qid`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Apqn {
    /// The adapter (card) id.
    pub apid: u8,
    /// The domain (queue index) id.
    pub apqi: u8,
}

impl Apqn {
    /// The APQN of adapter `apid`, domain `apqi`.
    pub const fn new(apid: u8, apqi: u8) -> Self {
        Apqn { apid, apqi }
    }

    /// `AP_MKQID(apid, apqi)`: `apid << 8 | apqi`.
    pub fn qid(self) -> u16 {
        u16::from_be_bytes([self.apid, self.apqi])
    }

    /// The inverse of [`Apqn::qid`] (`AP_QID_CARD`, `AP_QID_QUEUE`).
    pub fn from_qid(qid: u16) -> Self {
        let [apid, apqi] = qid.to_be_bytes();
        Apqn { apid, apqi }
    }
}

/// `%02x.%04x` lowercase, the queue device name (e.g. `05.00ab`).
impl fmt::Display for Apqn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}.{:04x}", self.apid, self.apqi)
    }
}

/// The AP bus id limits (`ap_max_adapter_id`, `ap_max_domain_id`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct IdLimits {
    /// The highest adapter id the bus scans (`ap_max_adapter_id`).
    pub max_apid: u8,
    /// The highest domain id the bus scans (`ap_max_domain_id`).
    pub max_apqi: u8,
}

impl Default for IdLimits {
    fn default() -> Self {
        IdLimits::DEFAULT
    }
}

/// The vfio_ap matrix limits (`apm_max`, `aqm_max`, `adm_max` of `struct ap_matrix`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct MatrixLimits {
    /// The highest assignable adapter id.
    pub apm_max: u8,
    /// The highest assignable usage domain id.
    pub aqm_max: u8,
    /// The highest assignable control domain id.
    pub adm_max: u8,
}

impl IdLimits {
    /// The limits without APXA: adapters 0..=63, domains 0..=15.
    pub const DEFAULT: IdLimits = IdLimits {
        max_apid: 63,
        max_apqi: 15,
    };

    /// The AP bus rule (`ap_init_qci_info`): if QCI is available and reports APXA, a non-zero
    /// `na` (`nd`) is the maximum adapter (domain) id; otherwise, and for a zero value, 63
    /// (15). `None` or a QCI block with `flags == 0` means QCI is not available.
    pub fn bus_from_qci(qci: Option<&QciInfo>) -> IdLimits {
        let mut l = IdLimits::DEFAULT;
        if let Some(q) = qci {
            if q.apxa() {
                if q.na() != 0 {
                    l.max_apid = q.na();
                }
                if q.nd() != 0 {
                    l.max_apqi = q.nd();
                }
            }
        }
        l
    }

    /// The vfio_ap rule (`vfio_ap_matrix_init`): with APXA `na`, `nd`, `nd` as they are (even
    /// 0); otherwise 63, 15, 15. `None` stands for the all-zero block vfio_ap keeps when QCI
    /// is not installed.
    pub fn matrix_from_qci(qci: Option<&QciInfo>) -> MatrixLimits {
        match qci {
            Some(q) if q.apxa() => MatrixLimits {
                apm_max: q.na(),
                aqm_max: q.nd(),
                adm_max: q.nd(),
            },
            _ => MatrixLimits {
                apm_max: 63,
                aqm_max: 15,
                adm_max: 15,
            },
        }
    }

    /// Whether `q` is within the limits (the kernel only issues TAPQ for such APQNs).
    pub fn contains(&self, q: Apqn) -> bool {
        q.apid <= self.max_apid && q.apqi <= self.max_apqi
    }

    /// `ap_test_config_card_id`: false above the limit; the QCI `apm` bit if QCI is
    /// available; otherwise true.
    pub fn card_configured(&self, qci: Option<&QciInfo>, apid: u8) -> bool {
        if apid > self.max_apid {
            return false;
        }
        match qci {
            Some(q) if q.is_available() => q.apm().test(apid),
            _ => true,
        }
    }

    /// `ap_test_config_usage_domain`: false above the limit; the QCI `aqm` bit if QCI is
    /// available; otherwise true.
    pub fn usage_domain_configured(&self, qci: Option<&QciInfo>, apqi: u8) -> bool {
        if apqi > self.max_apqi {
            return false;
        }
        match qci {
            Some(q) if q.is_available() => q.aqm().test(apqi),
            _ => true,
        }
    }

    /// `ap_test_config_ctrl_domain`: false above the limit, otherwise the QCI `adm` bit
    /// (which is 0 when QCI is not available).
    pub fn ctrl_domain_configured(&self, qci: Option<&QciInfo>, apqi: u8) -> bool {
        apqi <= self.max_apqi && qci.is_some_and(|q| q.adm().test(apqi))
    }
}

impl MatrixLimits {
    /// `ap_matrix_overflow_check` (vfio_ap_ops.c): true if no set bit of `apm`, `aqm`,
    /// `adm` lies above `apm_max`, `aqm_max`, `adm_max` (false means ENODEV).
    pub fn fits(&self, apm: &Mask, aqm: &Mask, adm: &Mask) -> bool {
        let above = |m: &Mask, max: u8| m.last().is_some_and(|l| l > max);
        !(above(apm, self.apm_max) || above(aqm, self.aqm_max) || above(adm, self.adm_max))
    }
}

#[cfg(test)]
mod tests {
    use super::super::hw::{QCI_APSC, QCI_APXA};
    use super::*;
    use std::format;

    #[test]
    fn qid_and_display() {
        let q = Apqn::new(5, 0xab);
        assert_eq!(q.qid(), 0x05ab);
        assert_eq!(Apqn::from_qid(0x05ab), q);
        assert_eq!(format!("{q}"), "05.00ab");
        assert_eq!(format!("{}", Apqn::new(0xff, 0xff)), "ff.00ff");
        assert!(Apqn::new(1, 200) < Apqn::new(2, 0));
    }

    fn qci(flags: u32, na: u8, nd: u8) -> QciInfo {
        let mut q = QciInfo::EMPTY;
        q.set_flags(flags);
        q.set_na(na);
        q.set_nd(nd);
        q
    }

    #[test]
    fn bus_limits() {
        let d = IdLimits::DEFAULT;
        assert_eq!(IdLimits::bus_from_qci(None), d);
        assert_eq!(IdLimits::bus_from_qci(Some(&qci(0, 200, 100))), d);
        assert_eq!(IdLimits::bus_from_qci(Some(&qci(QCI_APSC, 200, 100))), d);
        let l = IdLimits::bus_from_qci(Some(&qci(QCI_APXA, 200, 100)));
        assert_eq!((l.max_apid, l.max_apqi), (200, 100));
        let l = IdLimits::bus_from_qci(Some(&qci(QCI_APXA, 0, 100)));
        assert_eq!((l.max_apid, l.max_apqi), (63, 100));
        let l = IdLimits::bus_from_qci(Some(&qci(QCI_APXA, 7, 0)));
        assert_eq!((l.max_apid, l.max_apqi), (7, 15));
    }

    #[test]
    fn matrix_limits() {
        let m = IdLimits::matrix_from_qci(None);
        assert_eq!((m.apm_max, m.aqm_max, m.adm_max), (63, 15, 15));
        let m = IdLimits::matrix_from_qci(Some(&qci(QCI_APXA, 0, 0)));
        assert_eq!((m.apm_max, m.aqm_max, m.adm_max), (0, 0, 0));
        let m = IdLimits::matrix_from_qci(Some(&qci(QCI_APSC, 9, 9)));
        assert_eq!((m.apm_max, m.aqm_max, m.adm_max), (63, 15, 15));
        let m = IdLimits::matrix_from_qci(Some(&qci(QCI_APXA, 255, 84)));
        assert_eq!((m.apm_max, m.aqm_max, m.adm_max), (255, 84, 84));
        assert!(m.fits(&Mask::FULL, &Mask::up_to(84), &Mask::ZERO));
        assert!(!m.fits(&Mask::ZERO, &Mask::from_ids(&[85]), &Mask::ZERO));
        assert!(!m.fits(&Mask::ZERO, &Mask::ZERO, &Mask::from_ids(&[85])));
    }

    #[test]
    fn configured() {
        let l = IdLimits::DEFAULT;
        assert!(l.card_configured(None, 63));
        assert!(!l.card_configured(None, 64));
        assert!(l.usage_domain_configured(None, 15));
        assert!(!l.usage_domain_configured(None, 16));
        assert!(!l.ctrl_domain_configured(None, 1));
        let mut q = qci(QCI_APSC, 0, 0);
        q.set_apm(&Mask::from_ids(&[3]));
        q.set_aqm(&Mask::from_ids(&[4]));
        q.set_adm(&Mask::from_ids(&[5]));
        assert!(l.card_configured(Some(&q), 3) && !l.card_configured(Some(&q), 2));
        assert!(l.usage_domain_configured(Some(&q), 4));
        assert!(!l.usage_domain_configured(Some(&q), 5));
        assert!(l.ctrl_domain_configured(Some(&q), 5));
        assert!(l.contains(Apqn::new(63, 15)) && !l.contains(Apqn::new(63, 16)));
    }
}
