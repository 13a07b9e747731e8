// SPDX-License-Identifier: GPL-2.0
//! The isolation invariant: no AP queue is ever reachable by two owners (the host and a guest, or
//! two guests). Written once here and used by every checker (the host state-machine tests, the
//! VM's random-operation runs).
//!
//! The checkers observe the system as root sees it: the bus's `apmask`/`aqmask`, the host
//! configuration (QCI masks), every queue device with the driver it is bound to and, when bound
//! to vfio_ap, its `status` file, and every mdev with its assigned matrix (`matrix` /
//! `ap_config`), its shadow APCB (`guest_matrix`) and, when a guest has it, the masks of the
//! guest's CRYCB. [`check`] reports every [`Violation`] of:
//!
//! 1. every APQN in a guest's CRYCB is bound to vfio_ap, assigned to that guest's mdev and to no
//!    other, in the host configuration and not reserved for the host by apmask/aqmask;
//! 2. no APQN is in two guests' CRYCBs, no APQN is assigned to two mdevs, and no assigned APQN
//!    is reserved for the host (assignments check it, and `in_use` keeps the host from taking
//!    one back);
//! 3. no queue bound to a host (default) driver is in any CRYCB (part of 1, reported on its own);
//! 4. each shadow is a subset of its assigned matrix and of the host configuration (control
//!    domains included), and a guest's CRYCB equals its mdev's shadow;
//! 5. every `status` file agrees with the matrices and guests (`vfio_text::queue_status`).

use super::ids::Apqn;
use super::mask::Mask;
use super::matrix::apqns;
use super::vfio_text::{queue_status, QueueStatusAttr};

/// The driver a queue device is bound to.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Binding {
    /// No driver.
    Unbound,
    /// vfio_ap.
    VfioAp,
    /// A default (host) driver, e.g. zcrypt's.
    Host,
    /// Another non-default driver.
    Other,
}

/// A queue device.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct QueueView {
    /// Its APQN.
    pub apqn: Apqn,
    /// Its driver.
    pub binding: Binding,
    /// Its vfio_ap `status` file (when bound to vfio_ap).
    pub status: Option<QueueStatusAttr>,
}

/// The three masks of a matrix (assigned, shadow or a CRYCB's).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Masks {
    /// Adapters.
    pub apm: Mask,
    /// Usage domains.
    pub aqm: Mask,
    /// Control domains.
    pub adm: Mask,
}

impl Masks {
    /// Whether APQN `q` is in `apm` x `aqm`.
    pub fn contains(&self, q: Apqn) -> bool {
        self.apm.test(q.apid) && self.aqm.test(q.apqi)
    }

    /// Whether every bit of `self` is in `other`.
    pub fn subset_of(&self, other: &Masks) -> bool {
        self.apm.and_not(&other.apm).is_empty()
            && self.aqm.and_not(&other.aqm).is_empty()
            && self.adm.and_not(&other.adm).is_empty()
    }
}

/// An mdev.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct MdevView {
    /// The assigned matrix.
    pub assigned: Masks,
    /// The shadow APCB (`guest_matrix`, and the control domains).
    pub shadow: Masks,
    /// The masks of its guest's CRYCB, if a guest has the mdev.
    pub guest: Option<Masks>,
}

/// The host's side.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct HostView {
    /// `/sys/bus/ap/apmask`.
    pub apmask: Mask,
    /// `/sys/bus/ap/aqmask`.
    pub aqmask: Mask,
    /// The host configuration: `ap_adapter_mask`, `ap_usage_domain_mask`,
    /// `ap_control_domain_mask`.
    pub config: Masks,
}

impl HostView {
    /// Whether the masks reserve APQN `q` for the host's default drivers.
    pub fn reserved(&self, q: Apqn) -> bool {
        self.apmask.test(q.apid) && self.aqmask.test(q.apqi)
    }
}

/// A breach of the invariant; mdevs are named by their index in the slice given to [`check`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Violation {
    /// An APQN in a guest's CRYCB whose queue is not bound to vfio_ap (or does not exist).
    GuestQueueNotVfioAp {
        /// The mdev.
        mdev: usize,
        /// The APQN.
        apqn: Apqn,
    },
    /// An APQN in a guest's CRYCB bound to a host driver.
    GuestQueueHostBound {
        /// The mdev.
        mdev: usize,
        /// The APQN.
        apqn: Apqn,
    },
    /// An APQN in a guest's CRYCB that its mdev has not assigned.
    GuestQueueNotAssigned {
        /// The mdev.
        mdev: usize,
        /// The APQN.
        apqn: Apqn,
    },
    /// An APQN in a guest's CRYCB outside the host configuration.
    GuestQueueNotConfigured {
        /// The mdev.
        mdev: usize,
        /// The APQN.
        apqn: Apqn,
    },
    /// An APQN in a guest's CRYCB reserved for the host by apmask/aqmask.
    GuestQueueReserved {
        /// The mdev.
        mdev: usize,
        /// The APQN.
        apqn: Apqn,
    },
    /// An APQN in two guests' CRYCBs.
    SharedByGuests {
        /// The first mdev.
        a: usize,
        /// The second mdev.
        b: usize,
        /// The APQN.
        apqn: Apqn,
    },
    /// An APQN assigned to two mdevs.
    AssignedTwice {
        /// The first mdev.
        a: usize,
        /// The second mdev.
        b: usize,
        /// The APQN.
        apqn: Apqn,
    },
    /// An assigned APQN that apmask/aqmask reserve for the host.
    AssignedReserved {
        /// The mdev.
        mdev: usize,
        /// The APQN.
        apqn: Apqn,
    },
    /// A shadow APCB that is not within its assigned matrix and the host configuration.
    ShadowOutside {
        /// The mdev.
        mdev: usize,
    },
    /// A guest's CRYCB that differs from its mdev's shadow APCB.
    GuestNotShadow {
        /// The mdev.
        mdev: usize,
    },
    /// A queue `status` file that says something else than the matrices and guests imply.
    StatusDisagrees {
        /// The APQN.
        apqn: Apqn,
        /// What it should say.
        expected: QueueStatusAttr,
        /// What it says.
        actual: QueueStatusAttr,
    },
}

/// Checks the invariant; calls `report` for each violation and returns how many there were.
/// `mdevs` are in the driver's list order (newest first), which decides which mdev a `status`
/// file speaks of if an APQN were assigned twice (that is a violation of its own).
pub fn check(
    host: &HostView,
    queues: &[QueueView],
    mdevs: &[MdevView],
    mut report: impl FnMut(Violation),
) -> usize {
    let mut n = 0;
    let mut v = |x: Violation| {
        n += 1;
        report(x);
    };
    let queue = |q: Apqn| queues.iter().find(|d| d.apqn == q);
    for (i, m) in mdevs.iter().enumerate() {
        let inside = Masks {
            apm: m.assigned.apm.and(&host.config.apm),
            aqm: m.assigned.aqm.and(&host.config.aqm),
            adm: m.assigned.adm.and(&host.config.adm),
        };
        if !m.shadow.subset_of(&inside) {
            v(Violation::ShadowOutside { mdev: i });
        }
        for q in apqns(&m.assigned.apm, &m.assigned.aqm) {
            if host.reserved(q) {
                v(Violation::AssignedReserved { mdev: i, apqn: q });
            }
        }
        if let Some(g) = &m.guest {
            if g != &m.shadow {
                v(Violation::GuestNotShadow { mdev: i });
            }
            for q in apqns(&g.apm, &g.aqm) {
                match queue(q).map(|d| d.binding) {
                    Some(Binding::VfioAp) => {}
                    Some(Binding::Host) => v(Violation::GuestQueueHostBound { mdev: i, apqn: q }),
                    _ => v(Violation::GuestQueueNotVfioAp { mdev: i, apqn: q }),
                }
                if !m.assigned.contains(q) {
                    v(Violation::GuestQueueNotAssigned { mdev: i, apqn: q });
                }
                if !host.config.contains(q) {
                    v(Violation::GuestQueueNotConfigured { mdev: i, apqn: q });
                }
                if host.reserved(q) {
                    v(Violation::GuestQueueReserved { mdev: i, apqn: q });
                }
            }
        }
        for (j, o) in mdevs.iter().enumerate().skip(i + 1) {
            if let (Some(g), Some(h)) = (&m.guest, &o.guest) {
                for q in apqns(&g.apm.and(&h.apm), &g.aqm.and(&h.aqm)) {
                    v(Violation::SharedByGuests {
                        a: i,
                        b: j,
                        apqn: q,
                    });
                }
            }
            let (apm, aqm) = (
                m.assigned.apm.and(&o.assigned.apm),
                m.assigned.aqm.and(&o.assigned.aqm),
            );
            for q in apqns(&apm, &aqm) {
                v(Violation::AssignedTwice {
                    a: i,
                    b: j,
                    apqn: q,
                });
            }
        }
    }
    for d in queues.iter() {
        let Some(actual) = d.status else {
            continue;
        };
        let owner = mdevs.iter().find(|m| m.assigned.contains(d.apqn));
        let shadow = |m: &MdevView| super::matrix::Matrix {
            apm: m.shadow.apm,
            aqm: m.shadow.aqm,
            adm: m.shadow.adm,
            limits: super::ids::MatrixLimits {
                apm_max: 255,
                aqm_max: 255,
                adm_max: 255,
            },
        };
        let sh = owner.map(shadow);
        let expected = queue_status(
            true,
            owner.zip(sh.as_ref()).map(|(m, s)| (m.guest.is_some(), s)),
            d.apqn,
        );
        if expected != actual {
            v(Violation::StatusDisagrees {
                apqn: d.apqn,
                expected,
                actual,
            });
        }
    }
    n
}

/// One line of the text form of a view, as the VM's collector (`tests/vm/progs/apview.c`)
/// writes it from sysfs and debugfs; masks are `0x` and 64 hex digits:
///
/// * `host <apmask> <aqmask> <config apm> <config aqm> <config adm>`
/// * `queue <apid> <apqi> vfio|host|none|other -|unassigned|assigned|in_use` (ids in hex)
/// * `mdev <apm> <aqm> <adm> <shadow apm> <shadow aqm> <shadow adm> [<guest apm> <aqm> <adm>]`
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ViewLine {
    /// `host ...`.
    Host(HostView),
    /// `queue ...`.
    Queue(QueueView),
    /// `mdev ...`.
    Mdev(MdevView),
}

/// Parses one [`ViewLine`] (without its newline).
pub fn parse_view_line(line: &[u8]) -> Result<ViewLine, super::parse::ParseError> {
    use super::parse::{hex2bitmap, kstrtou8, ParseError};
    let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let mut next = || words.next().ok_or(ParseError::Inval);
    let kind = next()?;
    let mask = |w: &[u8]| -> Result<Mask, ParseError> {
        if !w.starts_with(b"0x") {
            return Err(ParseError::Inval);
        }
        let mut m = Mask::ZERO;
        hex2bitmap(w, &mut m)?;
        Ok(m)
    };
    match kind {
        b"host" => {
            let mut m = [Mask::ZERO; 5];
            for x in m.iter_mut() {
                *x = mask(next()?)?;
            }
            Ok(ViewLine::Host(HostView {
                apmask: m[0],
                aqmask: m[1],
                config: Masks {
                    apm: m[2],
                    aqm: m[3],
                    adm: m[4],
                },
            }))
        }
        b"queue" => {
            let apid = kstrtou8(next()?, 16)?;
            let apqi = kstrtou8(next()?, 16)?;
            let binding = match next()? {
                b"vfio" => Binding::VfioAp,
                b"host" => Binding::Host,
                b"none" => Binding::Unbound,
                b"other" => Binding::Other,
                _ => return Err(ParseError::Inval),
            };
            let status = match next()? {
                b"-" => None,
                b"unassigned" => Some(QueueStatusAttr::Unassigned),
                b"assigned" => Some(QueueStatusAttr::Assigned),
                b"in_use" => Some(QueueStatusAttr::InUse),
                _ => return Err(ParseError::Inval),
            };
            Ok(ViewLine::Queue(QueueView {
                apqn: Apqn::new(apid, apqi),
                binding,
                status,
            }))
        }
        b"mdev" => {
            let mut m = [Mask::ZERO; 9];
            let mut n = 0;
            for x in m.iter_mut() {
                match next() {
                    Ok(w) => {
                        *x = mask(w)?;
                        n += 1;
                    }
                    Err(_) => break,
                }
            }
            let three = |i: usize| Masks {
                apm: m[i],
                aqm: m[i + 1],
                adm: m[i + 2],
            };
            match n {
                6 | 9 => Ok(ViewLine::Mdev(MdevView {
                    assigned: three(0),
                    shadow: three(3),
                    guest: (n == 9).then(|| three(6)),
                })),
                _ => Err(ParseError::Inval),
            }
        }
        _ => Err(ParseError::Inval),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn m(ids: &[u8]) -> Mask {
        Mask::from_ids(ids)
    }

    fn masks(apm: &[u8], aqm: &[u8], adm: &[u8]) -> Masks {
        Masks {
            apm: m(apm),
            aqm: m(aqm),
            adm: m(adm),
        }
    }

    fn host() -> HostView {
        // Adapters 0-3, domains 0-15 configured; the host keeps adapters 0 and 2.
        HostView {
            apmask: m(&[0, 2]),
            aqmask: m(&(0..=255).collect::<Vec<u8>>()),
            config: masks(&[0, 1, 2, 3], &(0..16).collect::<Vec<u8>>(), &[0, 1, 2, 3]),
        }
    }

    fn q(apid: u8, apqi: u8, binding: Binding, status: Option<QueueStatusAttr>) -> QueueView {
        QueueView {
            apqn: Apqn::new(apid, apqi),
            binding,
            status,
        }
    }

    fn run(h: &HostView, qs: &[QueueView], ms: &[MdevView]) -> Vec<Violation> {
        let mut out = Vec::new();
        let n = check(h, qs, ms, |x| out.push(x));
        assert_eq!(n, out.len());
        out
    }

    fn good() -> (Vec<QueueView>, Vec<MdevView>) {
        let qs = std::vec![
            q(0, 4, Binding::Host, None),
            q(1, 4, Binding::VfioAp, Some(QueueStatusAttr::InUse)),
            q(1, 5, Binding::VfioAp, Some(QueueStatusAttr::Unassigned)),
            q(3, 4, Binding::VfioAp, Some(QueueStatusAttr::Assigned)),
        ];
        let guest = masks(&[1], &[4], &[3]);
        let ms = std::vec![
            MdevView {
                assigned: masks(&[1, 9], &[4], &[3]),
                shadow: guest,
                guest: Some(guest),
            },
            MdevView {
                assigned: masks(&[3], &[4], &[3]),
                shadow: masks(&[3], &[4], &[3]),
                guest: None,
            },
        ];
        (qs, ms)
    }

    #[test]
    fn a_sound_system_passes() {
        let (qs, ms) = good();
        assert_eq!(run(&host(), &qs, &ms), std::vec![]);
    }

    #[test]
    fn each_breach_is_reported() {
        let h = host();
        let (mut qs, mut ms) = good();
        // The guest gets queue 00.0004: host-bound, not assigned, reserved.
        let g = masks(&[0, 1], &[4], &[3]);
        ms[0].guest = Some(g);
        qs[1].status = Some(QueueStatusAttr::InUse);
        let v = run(&h, &qs, &ms);
        let a = Apqn::new(0, 4);
        assert!(v.contains(&Violation::GuestNotShadow { mdev: 0 }));
        assert!(v.contains(&Violation::GuestQueueHostBound { mdev: 0, apqn: a }));
        assert!(v.contains(&Violation::GuestQueueNotAssigned { mdev: 0, apqn: a }));
        assert!(v.contains(&Violation::GuestQueueReserved { mdev: 0, apqn: a }));
        assert_eq!(v.len(), 4);

        // The host reserves an assigned APQN (adapter 3, mdev 1).
        let (qs, ms) = good();
        let mut h3 = h;
        h3.apmask.set(3);
        let v = run(&h3, &qs, &ms);
        assert_eq!(
            v,
            std::vec![Violation::AssignedReserved {
                mdev: 1,
                apqn: Apqn::new(3, 4)
            }]
        );

        // Two mdevs with the same APQN, both in guests.
        let (qs, mut ms) = good();
        ms[1].assigned = masks(&[1], &[4], &[]);
        ms[1].shadow = masks(&[1], &[4], &[]);
        ms[1].guest = Some(ms[1].shadow);
        let v = run(&h, &qs, &ms);
        let a = Apqn::new(1, 4);
        assert!(v.contains(&Violation::SharedByGuests {
            a: 0,
            b: 1,
            apqn: a
        }));
        assert!(v.contains(&Violation::AssignedTwice {
            a: 0,
            b: 1,
            apqn: a
        }));
        // 03.0004 is assigned to nobody now.
        assert!(v.contains(&Violation::StatusDisagrees {
            apqn: Apqn::new(3, 4),
            expected: QueueStatusAttr::Unassigned,
            actual: QueueStatusAttr::Assigned,
        }));

        // A shadow outside the configuration (adapter 9 is not configured), a queue missing.
        let (mut qs, mut ms) = good();
        ms[0].shadow = masks(&[1, 9], &[4], &[3]);
        ms[0].guest = Some(ms[0].shadow);
        qs.remove(1);
        let v = run(&h, &qs, &ms);
        assert!(v.contains(&Violation::ShadowOutside { mdev: 0 }));
        assert!(v.contains(&Violation::GuestQueueNotConfigured {
            mdev: 0,
            apqn: Apqn::new(9, 4)
        }));
        assert!(v.contains(&Violation::GuestQueueNotVfioAp {
            mdev: 0,
            apqn: Apqn::new(1, 4)
        }));
        assert!(v.contains(&Violation::GuestQueueNotVfioAp {
            mdev: 0,
            apqn: Apqn::new(9, 4)
        }));
    }

    #[test]
    fn view_lines_parse() {
        let z = "0x0000000000000000000000000000000000000000000000000000000000000000";
        let a = "0x4000000000000000000000000000000000000000000000000000000000000000";
        let line = std::format!("host {a} {z} {a} {a} {z}");
        assert_eq!(
            parse_view_line(line.as_bytes()),
            Ok(ViewLine::Host(HostView {
                apmask: m(&[1]),
                aqmask: Mask::ZERO,
                config: masks(&[1], &[1], &[]),
            }))
        );
        assert_eq!(
            parse_view_line(b"queue 01 000a vfio in_use"),
            Ok(ViewLine::Queue(q(
                1,
                10,
                Binding::VfioAp,
                Some(QueueStatusAttr::InUse)
            )))
        );
        assert_eq!(
            parse_view_line(b"queue 3 4 host -"),
            Ok(ViewLine::Queue(q(3, 4, Binding::Host, None)))
        );
        let line = std::format!("mdev {a} {a} {z} {a} {a} {z}");
        assert_eq!(
            parse_view_line(line.as_bytes()),
            Ok(ViewLine::Mdev(MdevView {
                assigned: masks(&[1], &[1], &[]),
                shadow: masks(&[1], &[1], &[]),
                guest: None,
            }))
        );
        let line = std::format!("mdev {a} {a} {z} {a} {a} {z} {a} {a} {z}");
        assert!(matches!(
            parse_view_line(line.as_bytes()),
            Ok(ViewLine::Mdev(MdevView { guest: Some(_), .. }))
        ));
        for bad in [
            "queue 1 2 vfio",
            "queue 100 2 vfio -",
            "queue 1 2 vfio maybe",
            "mdev 0x00",
            "host",
            "frob",
            "",
        ] {
            assert!(parse_view_line(bad.as_bytes()).is_err(), "{bad}");
        }
        let line = std::format!("mdev {a} {a} {z} {a} {a}");
        assert!(parse_view_line(line.as_bytes()).is_err());
    }

    #[test]
    fn control_domains_may_be_shared_but_must_be_configured() {
        let h = host();
        let (qs, mut ms) = good();
        // Both mdevs have control domain 3 (allowed); a shadow control domain 7 is not
        // configured.
        assert_eq!(run(&h, &qs, &ms), std::vec![]);
        ms[1].assigned.adm = m(&[3, 7]);
        ms[1].shadow.adm = m(&[3, 7]);
        assert_eq!(
            run(&h, &qs, &ms),
            std::vec![Violation::ShadowOutside { mdev: 1 }]
        );
    }
}
