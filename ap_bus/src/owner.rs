// SPDX-License-Identifier: GPL-2.0
//! Host ownership of APQNs: `ap_perms` (apmask/aqmask), the `in_use` queries of
//! `apmask_commit`/`aqmask_commit`, and the binding decisions of `ap_device_probe` and
//! `__ap_revise_reserved` (ap_bus.c, Linux 7.3).
//!
//! An APQN is reserved for the host's default drivers (zcrypt) when its APID is set in
//! `apmask` and its APQI in `aqmask`; all other APQNs may be bound to a non-default driver
//! (vfio_ap). Linux 7.3 adds `driver_override` for queue devices, which takes precedence over
//! the masks; the `*_override` functions model that.

use super::ids::Apqn;
use super::mask::Mask;
use super::parse::{parse_mask, ParseError};

/// The AP bus permissions `ap_perms`: the `apmask` and `aqmask` bitmaps.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Perms {
    /// `/sys/bus/ap/apmask`: adapters reserved for the default drivers.
    pub apm: Mask,
    /// `/sys/bus/ap/aqmask`: domains reserved for the default drivers.
    pub aqm: Mask,
}

impl Default for Perms {
    fn default() -> Self {
        Perms::DEFAULT
    }
}

impl Perms {
    /// `ap_perms_init` without parameters: everything belongs to the default drivers.
    pub const DEFAULT: Perms = Perms {
        apm: Mask::FULL,
        aqm: Mask::FULL,
    };

    /// `ap_perms_init` with the module parameters `apmask=`/`aqmask=` (`None` = not given).
    /// A given mask is zeroed first and then parsed with the bus syntax (relative terms apply
    /// to the empty mask); a parse error is ignored and leaves that mask empty.
    pub fn from_params(apmask: Option<&[u8]>, aqmask: Option<&[u8]>) -> Perms {
        let param = |p: Option<&[u8]>| match p {
            Some(s) => parse_mask(s, &Mask::ZERO).unwrap_or(Mask::ZERO),
            None => Mask::FULL,
        };
        Perms {
            apm: param(apmask),
            aqm: param(aqmask),
        }
    }

    /// Whether `q` is reserved for the host default drivers: `apm[apid] && aqm[apqi]`.
    pub fn reserved_for_host(&self, q: Apqn) -> bool {
        self.apm.test(q.apid) && self.aqm.test(q.apqi)
    }

    /// `ap_apqn_in_matrix_owned_by_def_drv` without driver overrides: whether any APQN of
    /// `apm` x `aqm` is reserved for the host (false if either mask is empty).
    pub fn matrix_owned_by_default(&self, apm: &Mask, aqm: &Mask) -> bool {
        apm.intersects(&self.apm) && aqm.intersects(&self.aqm)
    }

    /// `ap_owned_by_def_drv(card, queue)` of Linux 7.3. `override_bound_default` describes a
    /// queue device that exists in the bus's queue table **and** has a `driver_override` set:
    /// `Some(true)` if it is bound to a default driver, `Some(false)` otherwise (unbound or
    /// bound to a non-default driver). Then that alone decides. `None` (no such queue device,
    /// or no override) falls back to [`Perms::reserved_for_host`].
    pub fn owned_by_default(&self, q: Apqn, override_bound_default: Option<bool>) -> bool {
        match override_bound_default {
            Some(bound_default) => bound_default,
            None => self.reserved_for_host(q),
        }
    }

    /// `ap_apqn_in_matrix_owned_by_def_drv` of Linux 7.3: whether any APQN of `apm` x `aqm`
    /// is owned by the default drivers, asking `override_of` (see
    /// [`Perms::owned_by_default`]) for each APQN in ascending order (APID outer loop) and
    /// stopping at the first owned one.
    pub fn matrix_owned_by_default_with(
        &self,
        apm: &Mask,
        aqm: &Mask,
        mut override_of: impl FnMut(Apqn) -> Option<bool>,
    ) -> bool {
        for apid in apm.iter() {
            for apqi in aqm.iter() {
                let q = Apqn::new(apid, apqi);
                if self.owned_by_default(q, override_of(q)) {
                    return true;
                }
            }
        }
        false
    }

    /// [`Perms::matrix_owned_by_default_with`] on a bus where `overrides` counts the queue
    /// devices with a `driver_override` (`ap_driver_override_ctr`: every override set and not
    /// cleared, so never fewer than the queues that have one). With none, `override_of` could
    /// only answer `None`, so the answer is [`Perms::matrix_owned_by_default`]: two mask
    /// intersections instead of a query per APQN (each a lookup in the bus's queue table under
    /// its lock; 65,536 of them for a full matrix, about 0.3 s under TCG with lockdep before
    /// `make bench` showed it). With overrides, the same as `_with`.
    pub fn matrix_owned_by_default_counted(
        &self,
        apm: &Mask,
        aqm: &Mask,
        overrides: u32,
        override_of: impl FnMut(Apqn) -> Option<bool>,
    ) -> bool {
        if overrides == 0 {
            return self.matrix_owned_by_default(apm, aqm);
        }
        self.matrix_owned_by_default_with(apm, aqm, override_of)
    }
}

/// `ap_apmask_aqmask_in_use` is the negation of this: whether both masks are all ones (then
/// `driver_override` may be used).
pub fn masks_full(perms: &Perms) -> bool {
    perms.apm.is_full() && perms.aqm.is_full()
}

/// `ap_apmask_aqmask_in_use` (Linux 7.3), recomputed after every mask commit: true unless
/// both masks are all ones. While it is true, `driver_override` writes fail with EINVAL.
pub fn apmask_aqmask_in_use(perms: &Perms) -> bool {
    !masks_full(perms)
}

/// `apmask_commit` (Linux 7.3): the `(apm, aqm)` pair to pass to every driver's `in_use`
/// callback, or `None` when no APID is newly set (clearing bits never asks). The APIDs are
/// `new & !old`; the APQIs are **all ones** (6.19 "Use all-bits-one apmask/aqmask for vfio
/// in_use() checks"), not the current `aqmask`.
pub fn apmask_in_use_query(old: &Mask, new: &Mask) -> Option<(Mask, Mask)> {
    let reserved = new.and_not(old);
    if reserved.is_empty() {
        None
    } else {
        Some((reserved, Mask::FULL))
    }
}

/// `aqmask_commit` (Linux 7.3): like [`apmask_in_use_query`] with the roles swapped: all-ones
/// APIDs and the newly set APQIs `new & !old`.
pub fn aqmask_in_use_query(old: &Mask, new: &Mask) -> Option<(Mask, Mask)> {
    let reserved = new.and_not(old);
    if reserved.is_empty() {
        None
    } else {
        Some((Mask::FULL, reserved))
    }
}

/// The outcome of parsing an `apmask`/`aqmask` write (`apmask_store`/`aqmask_store` up to
/// the commit).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MaskStore {
    /// The new mask equals the current one: return `count`, no uevent, no reprobe.
    Unchanged,
    /// The mask changes to `new`. If `in_use` is `Some((apm, aqm))`, every driver's `in_use`
    /// callback must be asked with it first; any non-zero answer makes the write fail with
    /// EBUSY and nothing changes.
    Changed {
        /// The new mask.
        new: Mask,
        /// The `in_use` query, see [`apmask_in_use_query`].
        in_use: Option<(Mask, Mask)>,
    },
}

/// Which of the two permission masks.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum PermMask {
    /// `apmask` (adapters).
    Apmask,
    /// `aqmask` (domains).
    Aqmask,
}

/// `apmask_store`/`aqmask_store` of Linux 7.3 up to the commit: EINVAL if any
/// `driver_override` is active (`ap_driver_override_ctr != 0`), then the parse
/// ([`parse_mask`], EINVAL on error), then the change check and the `in_use` query.
pub fn mask_store(
    perms: &Perms,
    which: PermMask,
    s: &[u8],
    overrides_active: bool,
) -> Result<MaskStore, ParseError> {
    if overrides_active {
        return Err(ParseError::Inval);
    }
    let old = match which {
        PermMask::Apmask => &perms.apm,
        PermMask::Aqmask => &perms.aqm,
    };
    let new = parse_mask(s, old)?;
    if new == *old {
        return Ok(MaskStore::Unchanged);
    }
    let in_use = match which {
        PermMask::Apmask => apmask_in_use_query(old, &new),
        PermMask::Aqmask => aqmask_in_use_query(old, &new),
    };
    Ok(MaskStore::Changed { new, in_use })
}

/// `__ap_revise_reserved` without a driver override: whether the queue device `q` must be
/// reprobed after a mask change from `old` to `perms`. `devres` = [`Perms::reserved_for_host`];
/// `drvres` = the bound driver is a default driver (`bound_to_default == Some(true)`);
/// a bound queue is reprobed iff `devres != drvres`.
///
/// An **unbound** queue (`None`) is where the C code dereferences the NULL driver. The port
/// reprobes it if it is reserved for the host (a default driver may take it: `drvres` counts as
/// false) or if this change moved it between host and non-default drivers (a non-default
/// driver such as vfio_ap may take it now: without this a queue no driver had bound would never
/// reach vfio_ap when the host gives it up). A queue that root unbound and whose reservation did
/// not change is left alone.
pub fn needs_reprobe(perms: &Perms, old: &Perms, q: Apqn, bound_to_default: Option<bool>) -> bool {
    let devres = perms.reserved_for_host(q);
    match bound_to_default {
        Some(drvres) => devres != drvres,
        None => devres || devres != old.reserved_for_host(q),
    }
}

/// How a queue device's `driver_override` relates to a driver
/// (`device_match_driver_override`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum OverrideMatch {
    /// No override is set (< 0).
    NotSet,
    /// An override is set and names this driver (> 0).
    Matches,
    /// An override is set and names another driver (0).
    Differs,
}

/// `__ap_revise_reserved` of Linux 7.3: `ovr` compares the override with the **bound**
/// driver. `Matches`: nothing to do. `Differs`: reprobe. `NotSet`: [`needs_reprobe`] (`old`:
/// the masks before the change).
/// For an unbound queue with an override set pass `Differs` (C would dereference the NULL
/// driver; reprobing lets the override driver bind).
pub fn needs_reprobe_override(
    perms: &Perms,
    old: &Perms,
    q: Apqn,
    bound_to_default: Option<bool>,
    ovr: OverrideMatch,
) -> bool {
    match ovr {
        OverrideMatch::Matches => false,
        OverrideMatch::Differs => true,
        OverrideMatch::NotSet => needs_reprobe(perms, old, q, bound_to_default),
    }
}

/// What the bus remembers of a queue's binding, for [`needs_reprobe_override`]: the class of the
/// bound driver (`None`: unbound) and how the queue's `driver_override` relates to it (for an
/// unbound queue with an override set, [`OverrideMatch::Differs`]). It packs into a byte, so
/// that the walk after an apmask/aqmask write reads one word per queue and visits no device.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct QueueBinding {
    /// `Some(default)`: bound, to a default driver or not.
    pub bound: Option<bool>,
    /// The override against the bound driver.
    pub ovr: OverrideMatch,
}

impl QueueBinding {
    /// A new queue: no driver, no override.
    pub const UNBOUND: QueueBinding = QueueBinding {
        bound: None,
        ovr: OverrideMatch::NotSet,
    };

    /// The byte [`QueueBinding::unpack`] reads back.
    pub fn pack(self) -> u8 {
        let b = match self.bound {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        };
        let o = match self.ovr {
            OverrideMatch::NotSet => 0,
            OverrideMatch::Matches => 1,
            OverrideMatch::Differs => 2,
        };
        b | (o << 2)
    }

    /// The binding [`QueueBinding::pack`] made (other bytes read as unbound, no override).
    pub fn unpack(v: u8) -> QueueBinding {
        QueueBinding {
            bound: match v & 3 {
                1 => Some(false),
                2 => Some(true),
                _ => None,
            },
            ovr: match (v >> 2) & 3 {
                1 => OverrideMatch::Matches,
                2 => OverrideMatch::Differs,
                _ => OverrideMatch::NotSet,
            },
        }
    }

    /// [`needs_reprobe_override`] for this binding of queue `q`.
    pub fn needs_reprobe(self, perms: &Perms, old: &Perms, q: Apqn) -> bool {
        needs_reprobe_override(perms, old, q, self.bound, self.ovr)
    }
}

/// `ap_device_probe` for a queue device (Linux 7.3): whether the driver may bind. `ovr`
/// compares the override with the probing driver: `Matches` binds, `Differs` refuses
/// (ENODEV), `NotSet` binds iff [`Perms::reserved_for_host`] equals `driver_is_default`.
pub fn probe_allowed(perms: &Perms, q: Apqn, driver_is_default: bool, ovr: OverrideMatch) -> bool {
    match ovr {
        OverrideMatch::Matches => true,
        OverrideMatch::Differs => false,
        OverrideMatch::NotSet => perms.reserved_for_host(q) == driver_is_default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_binding_packs_into_a_byte() {
        let ovrs = [
            OverrideMatch::NotSet,
            OverrideMatch::Matches,
            OverrideMatch::Differs,
        ];
        let mut seen = [false; 256];
        for bound in [None, Some(false), Some(true)] {
            for ovr in ovrs {
                let b = QueueBinding { bound, ovr };
                assert_eq!(QueueBinding::unpack(b.pack()), b);
                assert!(!seen[usize::from(b.pack())]);
                seen[usize::from(b.pack())] = true;
            }
        }
        assert_eq!(QueueBinding::UNBOUND.pack(), 0);
        assert_eq!(QueueBinding::unpack(0xff), QueueBinding::UNBOUND);
    }

    fn ids(v: &[u8]) -> Mask {
        Mask::from_ids(v)
    }

    #[test]
    fn reserved() {
        let p = Perms {
            apm: ids(&[1, 2]),
            aqm: ids(&[5]),
        };
        assert!(p.reserved_for_host(Apqn::new(1, 5)));
        assert!(!p.reserved_for_host(Apqn::new(1, 6)));
        assert!(!p.reserved_for_host(Apqn::new(3, 5)));
        assert!(p.matrix_owned_by_default(&ids(&[2, 9]), &ids(&[5])));
        assert!(!p.matrix_owned_by_default(&ids(&[9]), &ids(&[5])));
        assert!(!p.matrix_owned_by_default(&Mask::ZERO, &Mask::FULL));
        assert!(!p.matrix_owned_by_default(&Mask::FULL, &Mask::ZERO));
        assert!(Perms::DEFAULT.reserved_for_host(Apqn::new(255, 255)));
    }

    #[test]
    fn overrides() {
        let p = Perms::DEFAULT;
        let q = Apqn::new(3, 4);
        assert!(p.owned_by_default(q, None));
        assert!(!p.owned_by_default(q, Some(false)));
        assert!(Perms {
            apm: Mask::ZERO,
            aqm: Mask::ZERO
        }
        .owned_by_default(q, Some(true)));
        // Matrix walk: every APQN overridden to vfio except none.
        assert!(!p.matrix_owned_by_default_with(&ids(&[3]), &ids(&[4]), |_| Some(false)));
        assert!(
            p.matrix_owned_by_default_with(&ids(&[3]), &ids(&[4, 5]), |q| {
                if q.apqi == 4 {
                    Some(false)
                } else {
                    None
                }
            })
        );
        assert!(!p.matrix_owned_by_default_with(&Mask::ZERO, &Mask::FULL, |_| None));
        // Counted: without overrides nothing is asked; with some, every APQN up to the first
        // owned one.
        let mut asked = 0u32;
        assert!(
            p.matrix_owned_by_default_counted(&Mask::FULL, &Mask::FULL, 0, |_| {
                asked += 1;
                Some(false)
            })
        );
        assert_eq!(asked, 0);
        let none = Perms {
            apm: Mask::ZERO,
            aqm: Mask::FULL,
        };
        assert!(!none.matrix_owned_by_default_counted(&Mask::FULL, &Mask::FULL, 0, |_| None));
        assert!(!p.matrix_owned_by_default_counted(&ids(&[3]), &ids(&[4]), 1, |_| Some(false)));
        assert!(
            none.matrix_owned_by_default_counted(&ids(&[1, 3]), &ids(&[4, 5]), 2, |q| {
                asked += 1;
                (q == Apqn::new(3, 4)).then_some(true)
            })
        );
        assert_eq!(asked, 3);
    }

    #[test]
    fn in_use_queries() {
        let old = ids(&[1, 2]);
        assert_eq!(apmask_in_use_query(&old, &ids(&[1])), None);
        assert_eq!(apmask_in_use_query(&old, &old), None);
        assert_eq!(
            apmask_in_use_query(&old, &ids(&[2, 3])),
            Some((ids(&[3]), Mask::FULL))
        );
        assert_eq!(
            aqmask_in_use_query(&old, &ids(&[1, 2, 7])),
            Some((Mask::FULL, ids(&[7])))
        );
        assert_eq!(aqmask_in_use_query(&old, &Mask::ZERO), None);
    }

    #[test]
    fn store() {
        let p = Perms::DEFAULT;
        assert_eq!(
            mask_store(&p, PermMask::Apmask, b"+0", false),
            Ok(MaskStore::Unchanged)
        );
        assert_eq!(
            mask_store(&p, PermMask::Apmask, b"-0", false),
            Ok(MaskStore::Changed {
                new: Mask::FULL.and_not(&ids(&[0])),
                in_use: None
            })
        );
        let p2 = Perms {
            apm: ids(&[0]),
            aqm: ids(&[0]),
        };
        assert_eq!(
            mask_store(&p2, PermMask::Aqmask, b"+1", false),
            Ok(MaskStore::Changed {
                new: ids(&[0, 1]),
                in_use: Some((Mask::FULL, ids(&[1])))
            })
        );
        assert_eq!(
            mask_store(&p2, PermMask::Apmask, b"0xc0", false),
            Ok(MaskStore::Changed {
                new: ids(&[0, 1]),
                in_use: Some((ids(&[1]), Mask::FULL))
            })
        );
        assert_eq!(
            mask_store(&p2, PermMask::Apmask, b"+1", true),
            Err(ParseError::Inval)
        );
        assert_eq!(
            mask_store(&p2, PermMask::Apmask, b"zz", false),
            Err(ParseError::Inval)
        );
    }

    #[test]
    fn reprobe() {
        let p = Perms {
            apm: ids(&[1]),
            aqm: ids(&[1]),
        };
        let host = Apqn::new(1, 1);
        let guest = Apqn::new(2, 1);
        // Before: adapter 2 was the host's too.
        let old = Perms {
            apm: ids(&[1, 2]),
            aqm: ids(&[1]),
        };
        assert!(!needs_reprobe(&p, &old, host, Some(true)));
        assert!(needs_reprobe(&p, &old, host, Some(false)));
        assert!(needs_reprobe(&p, &old, host, None));
        assert!(!needs_reprobe(&p, &old, guest, Some(false)));
        assert!(needs_reprobe(&p, &old, guest, Some(true)));
        // Unbound and given up by the host in this change: a non-default driver may take it.
        assert!(needs_reprobe(&p, &old, guest, None));
        // Unbound, not the host's before or after (root unbound it): left alone.
        assert!(!needs_reprobe(&p, &p, guest, None));
        assert!(!needs_reprobe_override(
            &p,
            &old,
            host,
            None,
            OverrideMatch::Matches
        ));
        assert!(needs_reprobe_override(
            &p,
            &p,
            guest,
            None,
            OverrideMatch::Differs
        ));
        assert!(needs_reprobe_override(
            &p,
            &p,
            host,
            None,
            OverrideMatch::NotSet
        ));
    }

    #[test]
    fn probe() {
        let p = Perms {
            apm: ids(&[1]),
            aqm: ids(&[1]),
        };
        assert!(probe_allowed(
            &p,
            Apqn::new(1, 1),
            true,
            OverrideMatch::NotSet
        ));
        assert!(!probe_allowed(
            &p,
            Apqn::new(1, 1),
            false,
            OverrideMatch::NotSet
        ));
        assert!(probe_allowed(
            &p,
            Apqn::new(1, 2),
            false,
            OverrideMatch::NotSet
        ));
        assert!(probe_allowed(
            &p,
            Apqn::new(1, 1),
            false,
            OverrideMatch::Matches
        ));
        assert!(!probe_allowed(
            &p,
            Apqn::new(1, 2),
            false,
            OverrideMatch::Differs
        ));
    }

    #[test]
    fn params_and_flags() {
        let p = Perms::from_params(None, None);
        assert_eq!(p, Perms::DEFAULT);
        assert!(masks_full(&p) && !apmask_aqmask_in_use(&p));
        let p = Perms::from_params(Some(b"0x8"), Some(b"+1,+2"));
        assert_eq!(p.apm, ids(&[0]));
        assert_eq!(p.aqm, ids(&[1, 2]));
        assert!(apmask_aqmask_in_use(&p));
        let p = Perms::from_params(Some(b"bogus"), Some(b"-0"));
        assert_eq!(p.apm, Mask::ZERO);
        assert_eq!(p.aqm, Mask::ZERO);
    }
}
