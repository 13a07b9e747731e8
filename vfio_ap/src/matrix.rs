// SPDX-License-Identifier: GPL-2.0
//! The assigned matrix of an mdev (`struct ap_matrix`) and every decision about it: the
//! assign/unassign attributes, the validation of an `ap_config` write, the exclusivity of APQNs
//! between mdevs and the AP bus `in_use` query (vfio_ap_ops.c, Linux 7.3).
//!
//! # Inputs the glue supplies
//!
//! * Host ownership (`ap_apqn_in_matrix_owned_by_def_drv`, which needs `ap_attr_mutex` and
//!   knows about `driver_override`) is a closure `Fn(&Mask, &Mask) -> bool`: whether any APQN
//!   of `apm` x `aqm` belongs to the host's default drivers. With the `ap_bus` model that is
//!   `Perms::matrix_owned_by_default_with`.
//! * The other mdevs are an iterator of `(key, &Matrix)` pairs in the order of the C
//!   `mdev_list` (newest first, since `vfio_ap_mdev_probe` uses `list_add`), **without** the
//!   mdev being written to. `key` is whatever names an mdev for the glue (an index, a
//!   pointer); it comes back in [`Overlap::other`] so the glue can log the other mdev's name.
//!
//! # Order of the checks
//!
//! `assign_adapter`/`assign_domain`: `kstrtoul(buf, 0)` (EINVAL/ERANGE), `> *_max` (ENODEV),
//! already assigned (success, nothing else happens: no link, no filter), then with the bit set:
//! host ownership of the whole new `apm` x `aqm` (EADDRNOTAVAIL), another mdev's overlapping
//! matrix (EADDRINUSE). `assign_control_domain`: parse, range, already assigned; control
//! domains are never checked for ownership or sharing. The unassign attributes: parse, range,
//! not assigned (success, nothing happens).

use core::fmt;

use super::ap_config::parse_ap_config;
use super::errno;
use super::hw::QciInfo;
use super::ids::{Apqn, IdLimits, MatrixLimits};
use super::mask::{Mask, MaskIter};
use super::parse::{kstrtoul, ParseError};

/// Which of the three masks of a matrix.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Resource {
    /// Adapters (APM, `*_adapter` attributes).
    Adapter,
    /// Usage domains (AQM, `*_domain` attributes).
    Domain,
    /// Control domains (ADM, `*_control_domain` attributes).
    ControlDomain,
}

/// Three masks: adapters, usage domains, control domains (used for added and removed
/// resources, and for the C `apm_add`/`aqm_add`/`adm_add` of an mdev).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct ApMasks {
    /// Adapters.
    pub apm: Mask,
    /// Usage domains.
    pub aqm: Mask,
    /// Control domains.
    pub adm: Mask,
}

impl ApMasks {
    /// All three empty.
    pub const EMPTY: ApMasks = ApMasks {
        apm: Mask::ZERO,
        aqm: Mask::ZERO,
        adm: Mask::ZERO,
    };

    /// Whether all three are empty.
    pub fn is_empty(&self) -> bool {
        self.apm.is_empty() && self.aqm.is_empty() && self.adm.is_empty()
    }
}

/// An mdev matrix (`struct ap_matrix`): three 256-bit masks and their limits. Used for the
/// assigned matrix and for the shadow APCB (see `shadow`). 99 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Matrix {
    /// Adapters.
    pub apm: Mask,
    /// Usage domains.
    pub aqm: Mask,
    /// Control domains.
    pub adm: Mask,
    /// `apm_max`, `aqm_max`, `adm_max`.
    pub limits: MatrixLimits,
}

impl Matrix {
    /// An empty matrix with the given limits.
    pub const fn empty(limits: MatrixLimits) -> Matrix {
        Matrix {
            apm: Mask::ZERO,
            aqm: Mask::ZERO,
            adm: Mask::ZERO,
            limits,
        }
    }

    /// `vfio_ap_matrix_init` on an empty matrix, as `vfio_ap_mdev_init_dev` does once at mdev
    /// creation: with QCI APXA the limits are `na`, `nd`, `nd` (even 0), otherwise 63, 15, 15.
    /// `info` is `matrix_dev->info`, all zero when there is no QCI facility (which gives 63,
    /// 15, 15).
    pub fn new(info: &QciInfo) -> Matrix {
        Matrix::empty(IdLimits::matrix_from_qci(Some(info)))
    }

    /// The three masks.
    pub fn masks(&self) -> ApMasks {
        ApMasks {
            apm: self.apm,
            aqm: self.aqm,
            adm: self.adm,
        }
    }

    /// The same limits with other masks.
    pub fn with_masks(&self, m: &ApMasks) -> Matrix {
        Matrix {
            apm: m.apm,
            aqm: m.aqm,
            adm: m.adm,
            limits: self.limits,
        }
    }

    /// One of the masks.
    pub fn mask(&self, r: Resource) -> &Mask {
        match r {
            Resource::Adapter => &self.apm,
            Resource::Domain => &self.aqm,
            Resource::ControlDomain => &self.adm,
        }
    }

    /// One of the masks, mutable.
    pub fn mask_mut(&mut self, r: Resource) -> &mut Mask {
        match r {
            Resource::Adapter => &mut self.apm,
            Resource::Domain => &mut self.aqm,
            Resource::ControlDomain => &mut self.adm,
        }
    }

    /// The limit of one of the masks.
    pub fn max(&self, r: Resource) -> u8 {
        match r {
            Resource::Adapter => self.limits.apm_max,
            Resource::Domain => self.limits.aqm_max,
            Resource::ControlDomain => self.limits.adm_max,
        }
    }

    /// Whether APQN `q` is in `apm` x `aqm`.
    pub fn contains(&self, q: Apqn) -> bool {
        self.apm.test(q.apid) && self.aqm.test(q.apqi)
    }

    /// The APQNs `apm` x `aqm`, APID outer.
    pub fn apqns(&self) -> Apqns {
        apqns(&self.apm, &self.aqm)
    }

    /// The part of `apm` x `aqm` that is also in this matrix, as `(apm, aqm)`, or `None` if
    /// the APID or the APQI intersection is empty (the test of
    /// `vfio_ap_mdev_verify_no_sharing`).
    pub fn overlap(&self, apm: &Mask, aqm: &Mask) -> Option<(Mask, Mask)> {
        let a = self.apm.and(apm);
        if a.is_empty() {
            return None;
        }
        let q = self.aqm.and(aqm);
        if q.is_empty() {
            return None;
        }
        Some((a, q))
    }
}

/// The APQNs of `apm` x `aqm` in the order of the C double loops (APID outer, ascending;
/// APQI inner, ascending).
pub fn apqns(apm: &Mask, aqm: &Mask) -> Apqns {
    Apqns {
        apids: apm.iter(),
        aqm: *aqm,
        cur: None,
    }
}

/// Iterator over `apm` x `aqm`, see [`apqns`].
#[derive(Clone, Debug)]
pub struct Apqns {
    apids: MaskIter,
    aqm: Mask,
    cur: Option<(u8, MaskIter)>,
}

impl Iterator for Apqns {
    type Item = Apqn;

    fn next(&mut self) -> Option<Apqn> {
        loop {
            if let Some((apid, apqis)) = &mut self.cur {
                if let Some(apqi) = apqis.next() {
                    return Some(Apqn::new(*apid, apqi));
                }
            }
            let apid = self.apids.next()?;
            self.cur = Some((apid, self.aqm.iter()));
        }
    }
}

/// An APQN conflict with another mdev: the first mdev (in list order) whose assigned matrix
/// overlaps, and the overlap.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Overlap<K> {
    /// The key of the other mdev, as the glue passed it.
    pub other: K,
    /// The overlapping adapters.
    pub apm: Mask,
    /// The overlapping domains.
    pub aqm: Mask,
}

impl<K> Overlap<K> {
    /// The overlapping APQNs in the order C logs them (one line each).
    pub fn apqns(&self) -> Apqns {
        apqns(&self.apm, &self.aqm)
    }
}

/// `vfio_ap_mdev_verify_no_sharing`: the first mdev of `mdevs` whose assigned matrix shares an
/// APQN with `apm` x `aqm`.
pub fn first_overlap<'a, K, I>(apm: &Mask, aqm: &Mask, mdevs: I) -> Option<Overlap<K>>
where
    I: IntoIterator<Item = (K, &'a Matrix)>,
{
    mdevs.into_iter().find_map(|(k, m)| {
        m.overlap(apm, aqm).map(|(a, q)| Overlap {
            other: k,
            apm: a,
            aqm: q,
        })
    })
}

/// The AP bus `in_use` callback (`vfio_ap_mdev_resource_in_use`): `apm`/`aqm` are the bus's
/// query (in Linux 7.3 the newly reserved ids and an all-ones other mask), `mdevs` **all**
/// mdevs in list order. Whether a guest is attached and whether queues exist do not matter.
///
/// `Some`: the glue logs, on the device of [`Overlap::other`], one line per APQN of the
/// overlap (`vfio_text::write_in_use_msg`) and answers `-EADDRINUSE` ([`errno::EADDRINUSE`]),
/// which the bus turns into EBUSY. Only the first overlapping mdev is reported.
pub fn in_use<'a, K, I>(apm: &Mask, aqm: &Mask, mdevs: I) -> Option<Overlap<K>>
where
    I: IntoIterator<Item = (K, &'a Matrix)>,
{
    first_overlap(apm, aqm, mdevs)
}

/// The APQNs assigned to any of a set of mdevs, kept beside the mdevs so that the bus's
/// `in_use` question does not walk them: row `apid` holds the domains assigned together with
/// adapter `apid` in some matrix (the union of every `apm x aqm`). `rows` has one mask per
/// adapter id (256); a shorter slice holds the adapters it has room for.
///
/// [`assigned_rebuild`] makes it from the matrices after any of them changed (a few bytes per
/// assigned adapter of each mdev); [`in_use_assigned`] answers as [`in_use`] does.
pub fn assigned_rebuild<'a>(rows: &mut [Mask], matrices: impl IntoIterator<Item = &'a Matrix>) {
    rows.fill(Mask::ZERO);
    for m in matrices {
        if m.aqm.is_empty() {
            continue;
        }
        for apid in m.apm.iter() {
            if let Some(r) = rows.get_mut(usize::from(apid)) {
                *r = r.or(&m.aqm);
            }
        }
    }
}

/// Whether any APQN of `apm` x `aqm` is in the set [`assigned_rebuild`] made.
pub fn assigned_intersects(rows: &[Mask], apm: &Mask, aqm: &Mask) -> bool {
    apm.iter().any(|apid| {
        rows.get(usize::from(apid))
            .is_some_and(|r| r.intersects(aqm))
    })
}

/// [`in_use`] with the assigned set of the same `mdevs` ([`assigned_rebuild`]): `None` at once
/// when no mdev holds an APQN of `apm` x `aqm`, else the first overlapping mdev.
pub fn in_use_assigned<'a, K, I>(
    rows: &[Mask],
    apm: &Mask,
    aqm: &Mask,
    mdevs: I,
) -> Option<Overlap<K>>
where
    I: IntoIterator<Item = (K, &'a Matrix)>,
{
    if !assigned_intersects(rows, apm, aqm) {
        return None;
    }
    in_use(apm, aqm, mdevs)
}

/// The mdev an APQN is assigned to (`vfio_ap_mdev_for_queue`, `get_update_locks_by_apqn`):
/// the first of `mdevs` whose assigned matrix contains `q`.
pub fn mdev_for_apqn<'a, K, I>(q: Apqn, mdevs: I) -> Option<K>
where
    I: IntoIterator<Item = (K, &'a Matrix)>,
{
    mdevs
        .into_iter()
        .find_map(|(k, m)| if m.contains(q) { Some(k) } else { None })
}

/// Why an assign, unassign or `ap_config` write failed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum StoreError<K> {
    /// `kstrtoul` (or the `ap_config` syntax) failed: EINVAL or ERANGE.
    Parse(ParseError),
    /// ENODEV: an id above the matrix limit.
    NoDev,
    /// EADDRNOTAVAIL: an APQN of the new matrix belongs to the host's default drivers.
    Reserved,
    /// EADDRINUSE: an APQN of the new matrix is assigned to another mdev. The glue logs one
    /// line per APQN on the device of the mdev being written to
    /// (`vfio_text::write_sharing_msg`, naming the other mdev).
    InUse(Overlap<K>),
}

impl<K> StoreError<K> {
    /// The positive errno.
    pub fn errno(&self) -> i32 {
        match self {
            StoreError::Parse(e) => e.errno(),
            StoreError::NoDev => errno::ENODEV,
            StoreError::Reserved => errno::EADDRNOTAVAIL,
            StoreError::InUse(_) => errno::EADDRINUSE,
        }
    }
}

impl<K> From<ParseError> for StoreError<K> {
    fn from(e: ParseError) -> Self {
        StoreError::Parse(e)
    }
}

/// The id of an assign/unassign write: `kstrtoul(buf, 0)` (optional `+`, `0x`/`0X` hex,
/// leading `0` octal, else decimal; at most one trailing `\n`).
pub fn parse_id(buf: &[u8]) -> Result<u64, ParseError> {
    kstrtoul(buf, 0)
}

/// The range check after [`parse_id`]: ENODEV above `max`.
pub fn check_id<K>(v: u64, max: u8) -> Result<u8, StoreError<K>> {
    if v > u64::from(max) {
        return Err(StoreError::NoDev);
    }
    u8::try_from(v).map_err(|_| StoreError::NoDev)
}

/// A successful write that changed the matrix.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Changed {
    /// The id written.
    pub id: u8,
    /// The matrix to install.
    pub matrix: Matrix,
}

impl Changed {
    /// The APQNs whose queues an assign links (`vfio_ap_mdev_link_adapter`/`_domain`): `id` x
    /// the assigned domains for an adapter, the assigned adapters x `id` for a domain, none for
    /// a control domain. Only queues bound to vfio_ap are linked; linking is idempotent.
    pub fn new_apqns(&self, r: Resource) -> Apqns {
        let one = Mask::from_ids(&[self.id]);
        match r {
            Resource::Adapter => apqns(&one, &self.matrix.aqm),
            Resource::Domain => apqns(&self.matrix.apm, &one),
            Resource::ControlDomain => apqns(&Mask::ZERO, &Mask::ZERO),
        }
    }
}

/// `vfio_ap_mdev_validate_masks` for a new `apm` x `aqm`: host ownership (EADDRNOTAVAIL),
/// then sharing with `others` (EADDRINUSE).
pub fn validate_masks<'a, K, I>(
    apm: &Mask,
    aqm: &Mask,
    owned_by_default: impl FnOnce(&Mask, &Mask) -> bool,
    others: I,
) -> Result<(), StoreError<K>>
where
    I: IntoIterator<Item = (K, &'a Matrix)>,
{
    if owned_by_default(apm, aqm) {
        return Err(StoreError::Reserved);
    }
    match first_overlap(apm, aqm, others) {
        Some(o) => Err(StoreError::InUse(o)),
        None => Ok(()),
    }
}

/// `assign_adapter_store` / `assign_domain_store` (`r` is [`Resource::Adapter`] or
/// [`Resource::Domain`]; for [`Resource::ControlDomain`] see [`assign_control_domain`], which
/// this forwards to without using `owned_by_default` and `others`).
///
/// `Ok(None)`: the id was already assigned; the write succeeds and nothing else happens (C
/// does not link or filter then). `Ok(Some(c))`: install `c.matrix`, link the queues of the
/// new APQNs (`c.id` x `aqm`, or `apm` x `c.id`), then filter (`shadow::filter_matrix`).
pub fn assign<'a, K, I>(
    m: &Matrix,
    r: Resource,
    buf: &[u8],
    owned_by_default: impl FnOnce(&Mask, &Mask) -> bool,
    others: I,
) -> Result<Option<Changed>, StoreError<K>>
where
    I: IntoIterator<Item = (K, &'a Matrix)>,
{
    if r == Resource::ControlDomain {
        return assign_control_domain(m, buf);
    }
    let id = check_id(parse_id(buf)?, m.max(r))?;
    if m.mask(r).test(id) {
        return Ok(None);
    }
    let mut new = *m;
    new.mask_mut(r).set(id);
    validate_masks(&new.apm, &new.aqm, owned_by_default, others)?;
    Ok(Some(Changed { id, matrix: new }))
}

/// `assign_control_domain_store`: parse, range, already assigned. No ownership or sharing
/// check. After `Ok(Some(c))` the glue installs `c.matrix` and runs `shadow::filter_cdoms`.
pub fn assign_control_domain<K>(m: &Matrix, buf: &[u8]) -> Result<Option<Changed>, StoreError<K>> {
    let id = check_id(parse_id(buf)?, m.limits.adm_max)?;
    if m.adm.test(id) {
        return Ok(None);
    }
    let mut new = *m;
    new.adm.set(id);
    Ok(Some(Changed { id, matrix: new }))
}

/// `unassign_adapter_store`, `unassign_domain_store`, `unassign_control_domain_store`:
/// parse, range, not assigned (`Ok(None)`, nothing happens). After `Ok(Some(c))` the glue
/// installs `c.matrix` and hot-unplugs (`shadow::hot_unplug_adapters`,
/// `shadow::hot_unplug_domains`, `shadow::unassign_control_domain`), then re-filters
/// (`shadow::refilter`, the project's fix, see `shadow`).
pub fn unassign<K>(m: &Matrix, r: Resource, buf: &[u8]) -> Result<Option<Changed>, StoreError<K>> {
    let id = check_id(parse_id(buf)?, m.max(r))?;
    if !m.mask(r).test(id) {
        return Ok(None);
    }
    let mut new = *m;
    new.mask_mut(r).clear(id);
    Ok(Some(Changed { id, matrix: new }))
}

/// An accepted `ap_config` write.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ApConfigChange {
    /// The matrix to install (the old limits with the new masks).
    pub new: Matrix,
    /// What the old matrix has and the new one has not (C computes only `apm` and `aqm`;
    /// removed control domains need no step of their own, `filter_cdoms` drops them).
    pub removed: ApMasks,
    /// What the new matrix has and the old one has not.
    pub added: ApMasks,
}

impl ApConfigChange {
    /// The APQNs whose queues `ap_config_store` links after installing the new matrix, in its
    /// order: added adapters x new domains, then new adapters x added domains (APQNs of both
    /// come twice; linking is idempotent).
    pub fn link_sets(&self) -> [(Mask, Mask); 2] {
        [
            (self.added.apm, self.new.aqm),
            (self.new.apm, self.added.aqm),
        ]
    }
}

/// `ap_config_store`: parse (EINVAL), then on the whole new matrix host ownership
/// (EADDRNOTAVAIL), sharing (EADDRINUSE), and only then `ap_matrix_overflow_check` (ENODEV).
/// All or nothing: on any error the matrix stays as it was. The validation runs even when the
/// new matrix equals the old one.
///
/// After `Ok(c)` C, with the **old** matrix still installed, runs
/// `vfio_ap_mdev_hot_unplug_adapters(c.removed.apm)` and then `_domains(c.removed.aqm)` (each
/// with its own APCB update and resets), installs `c.new`, links `c.added.apm` x `new.aqm`
/// and `new.apm` x `c.added.aqm`, and filters (`filter_matrix` + `filter_cdoms`). The glue
/// does the same with one APCB update: `shadow::ap_config_unplug` and `shadow::ConfigUnplug`.
pub fn ap_config_store<'a, K, I>(
    m: &Matrix,
    buf: &[u8],
    owned_by_default: impl FnOnce(&Mask, &Mask) -> bool,
    others: I,
) -> Result<ApConfigChange, StoreError<K>>
where
    I: IntoIterator<Item = (K, &'a Matrix)>,
{
    let (apm, aqm, adm) = parse_ap_config(buf)?;
    validate_masks(&apm, &aqm, owned_by_default, others)?;
    if !m.limits.fits(&apm, &aqm, &adm) {
        return Err(StoreError::NoDev);
    }
    let new = ApMasks { apm, aqm, adm };
    let old = m.masks();
    Ok(ApConfigChange {
        new: m.with_masks(&new),
        removed: ApMasks {
            apm: old.apm.and_not(&new.apm),
            aqm: old.aqm.and_not(&new.aqm),
            adm: old.adm.and_not(&new.adm),
        },
        added: ApMasks {
            apm: new.apm.and_not(&old.apm),
            aqm: new.aqm.and_not(&old.aqm),
            adm: new.adm.and_not(&old.adm),
        },
    })
}

/// `"%02lx.%04lx"` of an APQN as the vfio_ap messages print it (the same as
/// `Apqn`'s `Display`).
#[derive(Clone, Copy, Debug)]
pub struct ApqnText(pub Apqn);

impl fmt::Display for ApqnText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}.{:04x}", self.0.apid, self.0.apqi)
    }
}

#[cfg(test)]
mod tests {
    use super::super::hw::QCI_APXA;
    use super::*;
    use std::vec::Vec;

    fn lim(a: u8, q: u8, d: u8) -> MatrixLimits {
        MatrixLimits {
            apm_max: a,
            aqm_max: q,
            adm_max: d,
        }
    }

    fn mx(apm: &[u8], aqm: &[u8], adm: &[u8]) -> Matrix {
        let mut m = Matrix::empty(lim(255, 255, 255));
        m.apm = Mask::from_ids(apm);
        m.aqm = Mask::from_ids(aqm);
        m.adm = Mask::from_ids(adm);
        m
    }

    fn never(_: &Mask, _: &Mask) -> bool {
        false
    }

    fn none<'a>() -> core::iter::Empty<(u32, &'a Matrix)> {
        core::iter::empty()
    }

    #[test]
    fn limits_from_qci() {
        let m = Matrix::new(&QciInfo::EMPTY);
        assert_eq!(m.limits, lim(63, 15, 15));
        let mut q = QciInfo::EMPTY;
        q.set_flags(QCI_APXA);
        q.set_na(200);
        q.set_nd(84);
        assert_eq!(Matrix::new(&q).limits, lim(200, 84, 84));
        q.set_na(0);
        q.set_nd(0);
        assert_eq!(Matrix::new(&q).limits, lim(0, 0, 0));
    }

    #[test]
    fn apqn_order() {
        let v: Vec<Apqn> = apqns(&Mask::from_ids(&[6, 5]), &Mask::from_ids(&[0xab, 4])).collect();
        assert_eq!(
            v,
            [
                Apqn::new(5, 4),
                Apqn::new(5, 0xab),
                Apqn::new(6, 4),
                Apqn::new(6, 0xab)
            ]
        );
        assert_eq!(apqns(&Mask::FULL, &Mask::ZERO).count(), 0);
        assert_eq!(apqns(&Mask::ZERO, &Mask::FULL).count(), 0);
        assert_eq!(apqns(&Mask::FULL, &Mask::FULL).count(), 65536);
    }

    #[test]
    fn assign_parse_errors_first() {
        let m = mx(&[], &[], &[]);
        let r: Result<_, StoreError<u32>> =
            assign(&m, Resource::Adapter, b"x", |_, _| true, none());
        assert_eq!(r, Err(StoreError::Parse(ParseError::Inval)));
        assert_eq!(r.unwrap_err().errno(), errno::EINVAL);
        let r: Result<_, StoreError<u32>> = assign(
            &m,
            Resource::Domain,
            b"99999999999999999999",
            |_, _| true,
            none(),
        );
        assert_eq!(r.unwrap_err().errno(), errno::ERANGE);
        for bad in [&b""[..], b" 1", b"1 ", b"-1", b"08", b"0x", b"1\n\n"] {
            let r: Result<_, StoreError<u32>> = unassign(&m, Resource::Adapter, bad);
            assert_eq!(r, Err(StoreError::Parse(ParseError::Inval)), "{bad:?}");
        }
    }

    #[test]
    fn assign_range_then_already() {
        let mut m = Matrix::empty(lim(63, 15, 15));
        m.apm.set(5);
        // ENODEV beats everything after the parse.
        let r: Result<_, StoreError<u32>> =
            assign(&m, Resource::Adapter, b"64", |_, _| true, none());
        assert_eq!(r, Err(StoreError::NoDev));
        assert_eq!(r.unwrap_err().errno(), errno::ENODEV);
        let r: Result<_, StoreError<u32>> =
            assign(&m, Resource::Domain, b"0x10\n", |_, _| true, none());
        assert_eq!(r, Err(StoreError::NoDev));
        // Already assigned: success without any check.
        let other = mx(&[5], &[0], &[]);
        let r = assign(
            &m,
            Resource::Adapter,
            b"+5\n",
            |_, _| panic!("not asked"),
            [(7u32, &other)],
        );
        assert_eq!(r, Ok(None));
        let r: Result<_, StoreError<u32>> =
            assign(&m, Resource::Adapter, b"0x3f", |_, _| false, none());
        assert_eq!(r.unwrap().unwrap().id, 63);
        let r: Result<_, StoreError<u32>> =
            assign(&m, Resource::Adapter, b"077", |_, _| false, none());
        assert_eq!(r.unwrap().unwrap().id, 63);
    }

    #[test]
    fn assign_reserved_before_sharing() {
        let m = mx(&[5], &[], &[]);
        let other = mx(&[5], &[4], &[]);
        let mut asked = None;
        let r = assign(
            &m,
            Resource::Domain,
            b"4",
            |a: &Mask, q: &Mask| {
                asked = Some((*a, *q));
                true
            },
            [(1u32, &other)],
        );
        assert_eq!(r, Err(StoreError::Reserved));
        assert_eq!(r.unwrap_err().errno(), errno::EADDRNOTAVAIL);
        // The whole new matrix is asked about.
        assert_eq!(asked, Some((Mask::from_ids(&[5]), Mask::from_ids(&[4]))));
        let r = assign(&m, Resource::Domain, b"4", never, [(1u32, &other)]);
        let want = Overlap {
            other: 1u32,
            apm: Mask::from_ids(&[5]),
            aqm: Mask::from_ids(&[4]),
        };
        assert_eq!(r, Err(StoreError::InUse(want)));
        assert_eq!(r.unwrap_err().errno(), errno::EADDRINUSE);
    }

    #[test]
    fn sharing_reports_first_mdev_and_whole_overlap() {
        let m = mx(&[1, 2], &[], &[]);
        let a = mx(&[9], &[3], &[]);
        let b = mx(&[2, 1, 7], &[3, 8], &[]);
        let c = mx(&[1], &[3], &[]);
        let r = assign(
            &m,
            Resource::Domain,
            b"3",
            never,
            [(10u32, &a), (11, &b), (12, &c)],
        );
        let Err(StoreError::InUse(o)) = r else {
            panic!("{r:?}")
        };
        assert_eq!(o.other, 11);
        assert_eq!(
            o.apqns().collect::<Vec<_>>(),
            [Apqn::new(1, 3), Apqn::new(2, 3)]
        );
    }

    #[test]
    fn empty_half_never_conflicts() {
        // An adapter without domains: no APQN, so neither ownership nor sharing can fail
        // (given a correct ownership predicate).
        let m = mx(&[], &[], &[]);
        let other = mx(&[5], &[1], &[]);
        let perms = ap_bus::owner::Perms::DEFAULT;
        let r = assign(
            &m,
            Resource::Adapter,
            b"5",
            |a: &Mask, q: &Mask| perms.matrix_owned_by_default(a, q),
            [(1u32, &other)],
        );
        assert_eq!(r.unwrap().unwrap().matrix.apm, Mask::from_ids(&[5]));
    }

    #[test]
    fn control_domains_unchecked() {
        let m = Matrix::empty(lim(63, 15, 15));
        let other = mx(&[], &[], &[3]);
        let r = assign(
            &m,
            Resource::ControlDomain,
            b"3",
            |_, _| true,
            [(1u32, &other)],
        );
        assert_eq!(r.unwrap().unwrap().matrix.adm, Mask::from_ids(&[3]));
        let r: Result<_, StoreError<u32>> = assign_control_domain(&m, b"16");
        assert_eq!(r, Err(StoreError::NoDev));
        let mut m2 = m;
        m2.adm.set(3);
        let r: Result<_, StoreError<u32>> = assign_control_domain(&m2, b"3");
        assert_eq!(r, Ok(None));
    }

    #[test]
    fn unassign_branches() {
        let m = {
            let mut m = Matrix::empty(lim(63, 15, 15));
            m.apm.set(5);
            m.aqm.set(4);
            m.adm.set(1);
            m
        };
        let r: Result<_, StoreError<u32>> = unassign(&m, Resource::Adapter, b"64");
        assert_eq!(r, Err(StoreError::NoDev));
        let r: Result<_, StoreError<u32>> = unassign(&m, Resource::Adapter, b"6");
        assert_eq!(r, Ok(None));
        let r: Result<_, StoreError<u32>> = unassign(&m, Resource::Adapter, b"5\n");
        assert!(r.unwrap().unwrap().matrix.apm.is_empty());
        let r: Result<_, StoreError<u32>> = unassign(&m, Resource::Domain, b"4");
        assert!(r.unwrap().unwrap().matrix.aqm.is_empty());
        let r: Result<_, StoreError<u32>> = unassign(&m, Resource::ControlDomain, b"1");
        assert!(r.unwrap().unwrap().matrix.adm.is_empty());
        let r: Result<_, StoreError<u32>> = unassign(&m, Resource::ControlDomain, b"16");
        assert_eq!(r, Err(StoreError::NoDev));
    }

    #[test]
    fn in_use_first_mdev() {
        let a = mx(&[1], &[1], &[]);
        let b = mx(&[5], &[0x54, 0x55], &[]);
        let c = mx(&[5], &[0x54], &[]);
        let q = in_use(
            &Mask::from_ids(&[5]),
            &Mask::FULL,
            [(0usize, &a), (1, &b), (2, &c)],
        )
        .unwrap();
        assert_eq!(q.other, 1);
        assert_eq!(
            q.apqns().collect::<Vec<_>>(),
            [Apqn::new(5, 0x54), Apqn::new(5, 0x55)]
        );
        assert!(in_use(&Mask::from_ids(&[6]), &Mask::FULL, [(0usize, &a), (1, &b)]).is_none());
        assert!(in_use::<usize, _>(&Mask::FULL, &Mask::FULL, []).is_none());
        // An mdev with adapters only is never in use.
        let d = mx(&[5], &[], &[]);
        assert!(in_use(&Mask::FULL, &Mask::FULL, [(0usize, &d)]).is_none());
    }

    #[test]
    fn mdev_lookup() {
        let a = mx(&[1], &[1], &[]);
        let b = mx(&[1, 2], &[1], &[]);
        assert_eq!(mdev_for_apqn(Apqn::new(1, 1), [(0, &a), (1, &b)]), Some(0));
        assert_eq!(mdev_for_apqn(Apqn::new(2, 1), [(0, &a), (1, &b)]), Some(1));
        assert_eq!(mdev_for_apqn(Apqn::new(2, 2), [(0, &a), (1, &b)]), None);
    }

    #[test]
    fn ap_config_order_of_checks() {
        let m = Matrix::empty(lim(63, 15, 15));
        let f = "0x8000000000000000000000000000000000000000000000000000000000000000";
        // Parse error.
        let r: Result<_, StoreError<u32>> = ap_config_store(&m, b"1,2", |_, _| true, none());
        assert_eq!(r.unwrap_err().errno(), errno::EINVAL);
        // Reservation beats overflow (APID 255 is above apm_max = 63).
        let s = std::format!("{f},{f},0\n");
        let over = std::format!("0x{},{f},0\n", "f".repeat(64));
        let r: Result<_, StoreError<u32>> =
            ap_config_store(&m, over.as_bytes(), |_, _| true, none());
        assert_eq!(r, Err(StoreError::Reserved));
        let other = mx(&[0], &[0], &[]);
        let r = ap_config_store(&m, over.as_bytes(), never, [(4u32, &other)]);
        assert_eq!(r.unwrap_err().errno(), errno::EADDRINUSE);
        let r: Result<_, StoreError<u32>> = ap_config_store(&m, over.as_bytes(), never, none());
        assert_eq!(r, Err(StoreError::NoDev));
        // Control domains only count for the overflow check.
        let cd = std::format!("0,0,0x{}\n", "f".repeat(64));
        let r: Result<_, StoreError<u32>> = ap_config_store(&m, cd.as_bytes(), never, none());
        assert_eq!(r, Err(StoreError::NoDev));
        let r: Result<_, StoreError<u32>> = ap_config_store(&m, s.as_bytes(), never, none());
        let c = r.unwrap();
        assert_eq!(c.new.apm, Mask::from_ids(&[0]));
        assert_eq!(c.new.aqm, Mask::from_ids(&[0]));
        assert_eq!(c.new.limits, m.limits);
    }

    #[test]
    fn ap_config_added_removed() {
        let mut m = Matrix::empty(lim(63, 15, 15));
        m.apm = Mask::from_ids(&[1, 2]);
        m.aqm = Mask::from_ids(&[3]);
        m.adm = Mask::from_ids(&[3, 4]);
        // apm {2, 3}, aqm {3, 4}, adm {4, 5}
        let buf = b"0x3,0x18,0x0c\n";
        let r: Result<_, StoreError<u32>> = ap_config_store(&m, buf, never, none());
        let c = r.unwrap();
        assert_eq!(c.removed.apm, Mask::from_ids(&[1]));
        assert_eq!(c.added.apm, Mask::from_ids(&[3]));
        assert_eq!(c.removed.aqm, Mask::ZERO);
        assert_eq!(c.added.aqm, Mask::from_ids(&[4]));
        assert_eq!(c.removed.adm, Mask::from_ids(&[3]));
        assert_eq!(c.added.adm, Mask::from_ids(&[5]));
        // Unchanged: still validated.
        let same = std::format!("{},{},{}\n", m.apm, m.aqm, m.adm);
        let r: Result<_, StoreError<u32>> =
            ap_config_store(&m, same.as_bytes(), |_, _| true, none());
        assert_eq!(r, Err(StoreError::Reserved));
    }

    #[test]
    fn link_sets() {
        let m = mx(&[1], &[4, 5], &[]);
        let r: Result<_, StoreError<u32>> = assign(&m, Resource::Adapter, b"2", never, none());
        let c = r.unwrap().unwrap();
        assert_eq!(
            c.new_apqns(Resource::Adapter).collect::<Vec<_>>(),
            [Apqn::new(2, 4), Apqn::new(2, 5)]
        );
        let r: Result<_, StoreError<u32>> = assign(&m, Resource::Domain, b"6", never, none());
        let c = r.unwrap().unwrap();
        assert_eq!(
            c.new_apqns(Resource::Domain).collect::<Vec<_>>(),
            [Apqn::new(1, 6)]
        );
        assert_eq!(c.new_apqns(Resource::ControlDomain).count(), 0);
        let mut lim_m = Matrix::empty(lim(63, 15, 15));
        lim_m.apm = Mask::from_ids(&[1]);
        lim_m.aqm = Mask::from_ids(&[4]);
        // apm {1, 2}, aqm {4, 5}
        let r: Result<_, StoreError<u32>> = ap_config_store(&lim_m, b"0x6,0x0c,0", never, none());
        let [(a1, q1), (a2, q2)] = r.unwrap().link_sets();
        assert_eq!((a1, q1), (Mask::from_ids(&[2]), Mask::from_ids(&[4, 5])));
        assert_eq!((a2, q2), (Mask::from_ids(&[1, 2]), Mask::from_ids(&[5])));
    }

    #[test]
    fn apqn_text() {
        assert_eq!(std::format!("{}", ApqnText(Apqn::new(5, 0x54))), "05.0054");
    }
}
