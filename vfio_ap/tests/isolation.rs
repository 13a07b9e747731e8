// SPDX-License-Identifier: GPL-2.0
//! The isolation invariant (`vfio_ap::invariant`) under random operations on the host: a
//! reference system built from the model crates' decisions only (the AP bus permissions and
//! `in_use` protocol, the mdev assign/unassign/ap_config checks, the shadow filter, queue
//! probe/remove, host configuration changes, guests attaching and detaching), in the same
//! order as the kernel glue applies them, checked after every step.
//!
//! `AP_RS_ISOLATION_CASES` sets the number of proptest cases (each a sequence of up to 60
//! operations). `make soak` runs the ignored `soak` test: random sequences from a printed seed
//! until `AP_RS_SOAK_OPS` operations (default 10^7) have run, then prints the figures.

use ap_bus::owner::{mask_store, MaskStore, PermMask, Perms};
use proptest::prelude::*;
use vfio_ap::hw::QciInfo;
use vfio_ap::ids::Apqn;
use vfio_ap::invariant::{check, Binding, HostView, Masks, MdevView, QueueView, Violation};
use vfio_ap::mask::Mask;
use vfio_ap::matrix::{self, Matrix, Resource};
use vfio_ap::shadow;
use vfio_ap::vfio_text::queue_status;

/// The ids the operations use: small, so that they collide.
const IDS: u8 = 6;

#[derive(Clone, Debug)]
enum Op {
    /// A write to apmask (`true`) or aqmask.
    Mask(bool, String),
    Create,
    Remove(usize),
    Assign(usize, u8, u8),
    Unassign(usize, u8, u8),
    ApConfig(usize, u8, u8, u8),
    Open(usize),
    Close(usize),
    /// Host configuration: add or remove an adapter (`true`) or a domain.
    Config(bool, bool, u8),
    Unbind(u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    let id = 0..IDS;
    let mask_text = prop_oneof![
        (0..IDS).prop_map(|i| format!("+{i}")),
        (0..IDS).prop_map(|i| format!("-{i}")),
        (0..IDS, 0..IDS).prop_map(|(a, b)| format!("+{}-{},-{}", a.min(b), a.max(b), b)),
        any::<u8>().prop_map(|b| format!("0x{b:02x}")),
        Just("0x".to_string()),
        Just("junk".to_string()),
    ];
    prop_oneof![
        (any::<bool>(), mask_text).prop_map(|(a, t)| Op::Mask(a, t)),
        Just(Op::Create),
        (0..4usize).prop_map(Op::Remove),
        (0..4usize, 0..3u8, id.clone()).prop_map(|(m, r, i)| Op::Assign(m, r, i)),
        (0..4usize, 0..3u8, id.clone()).prop_map(|(m, r, i)| Op::Unassign(m, r, i)),
        (0..4usize, any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(m, a, q, d)| Op::ApConfig(
            m,
            a & 0x3f,
            q & 0x3f,
            d & 0x3f
        )),
        (0..4usize).prop_map(Op::Open),
        (0..4usize).prop_map(Op::Close),
        (any::<bool>(), any::<bool>(), id.clone()).prop_map(|(a, add, i)| Op::Config(a, add, i)),
        (id.clone(), id).prop_map(|(a, q)| Op::Unbind(a, q)),
    ]
}

struct Mdev {
    assigned: Matrix,
    shadow: Matrix,
    guest: Option<Masks>,
}

/// A queue device and its driver.
struct Queue {
    apqn: Apqn,
    binding: Binding,
}

struct Sys {
    perms: Perms,
    info: QciInfo,
    queues: Vec<Queue>,
    /// In creation order; the driver's list order is the reverse.
    mdevs: Vec<Mdev>,
}

fn masks(m: &Matrix) -> Masks {
    Masks {
        apm: m.apm,
        aqm: m.aqm,
        adm: m.adm,
    }
}

fn all() -> Mask {
    Mask::up_to(255)
}

impl Sys {
    fn new() -> Sys {
        let mut info = QciInfo::EMPTY;
        info.set_flags(vfio_ap::hw::QCI_APSC | vfio_ap::hw::QCI_APXA);
        info.set_na(255);
        info.set_nd(255);
        info.set_apm(&Mask::from_ids(&[0, 1, 2, 3]));
        info.set_aqm(&Mask::from_ids(&[0, 1, 2, 3]));
        info.set_adm(&Mask::from_ids(&[0, 1, 2, 3]));
        let mut s = Sys {
            perms: Perms {
                apm: all(),
                aqm: all(),
            },
            info,
            queues: Vec::new(),
            mdevs: Vec::new(),
        };
        s.rescan();
        s
    }

    /// The mdevs in the driver's list order (newest first), as the model's iterators want them.
    fn others(&self, except: Option<usize>) -> Vec<(usize, &Matrix)> {
        (0..self.mdevs.len())
            .rev()
            .filter(|&i| Some(i) != except)
            .map(|i| (i, &self.mdevs[i].assigned))
            .collect()
    }

    fn owner(&self, q: Apqn) -> Option<usize> {
        matrix::mdev_for_apqn(q, self.others(None))
    }

    fn passable(&self, i: usize, q: Apqn) -> bool {
        self.queues
            .iter()
            .any(|d| d.apqn == q && d.binding == Binding::VfioAp && self.owner(q) == Some(i))
    }

    /// The glue's filter, pushing the result to the guest (one commit per change).
    fn filter(&mut self, i: usize) {
        let f = shadow::refilter(
            &self.mdevs[i].assigned,
            &self.mdevs[i].shadow,
            &self.info,
            |q| self.passable(i, q),
        );
        self.mdevs[i].shadow = f.shadow;
        self.sync(i);
    }

    fn sync(&mut self, i: usize) {
        let m = &mut self.mdevs[i];
        if m.guest.is_some() {
            m.guest = Some(masks(&m.shadow));
        }
    }

    fn filter_all(&mut self) {
        for i in 0..self.mdevs.len() {
            self.filter(i);
        }
    }

    /// Queue devices follow the configuration; new ones bind by the masks.
    fn rescan(&mut self) {
        let (apm, aqm) = (self.info.apm(), self.info.aqm());
        self.queues
            .retain(|d| apm.test(d.apqn.apid) && aqm.test(d.apqn.apqi));
        for q in matrix::apqns(&apm, &aqm) {
            if !self.queues.iter().any(|d| d.apqn == q) {
                let binding = self.driver_for(q);
                self.queues.push(Queue { apqn: q, binding });
            }
        }
        self.filter_all();
    }

    fn driver_for(&self, q: Apqn) -> Binding {
        if self.perms.reserved_for_host(q) {
            Binding::Host
        } else {
            Binding::VfioAp
        }
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Mask(ap, text) => {
                let which = if *ap {
                    PermMask::Apmask
                } else {
                    PermMask::Aqmask
                };
                let Ok(MaskStore::Changed { new, in_use }) =
                    mask_store(&self.perms, which, text.as_bytes(), false)
                else {
                    return;
                };
                if let Some((apm, aqm)) = in_use {
                    if matrix::in_use(&apm, &aqm, self.others(None)).is_some() {
                        return; // EBUSY: nothing changes
                    }
                }
                let old = self.perms;
                match which {
                    PermMask::Apmask => self.perms.apm = new,
                    PermMask::Aqmask => self.perms.aqm = new,
                }
                // Reprobe: a bound queue whose owner class changed, an unbound queue that is
                // reserved or was moved (ap_bus::owner::needs_reprobe).
                for k in 0..self.queues.len() {
                    let q = self.queues[k].apqn;
                    let bound = match self.queues[k].binding {
                        Binding::Unbound => None,
                        b => Some(b == Binding::Host),
                    };
                    if ap_bus::owner::needs_reprobe(&self.perms, &old, q, bound) {
                        self.queues[k].binding = self.driver_for(q);
                    }
                }
                self.filter_all();
            }
            Op::Create => {
                if self.mdevs.len() < 4 {
                    let m = Matrix::new(&self.info);
                    self.mdevs.push(Mdev {
                        assigned: m,
                        shadow: m,
                        guest: None,
                    });
                }
            }
            Op::Remove(i) => {
                if *i < self.mdevs.len() && self.mdevs[*i].guest.is_none() {
                    self.mdevs.remove(*i);
                }
            }
            Op::Assign(i, r, id) | Op::Unassign(i, r, id) => {
                let i = *i;
                if i >= self.mdevs.len() {
                    return;
                }
                let r = [Resource::Adapter, Resource::Domain, Resource::ControlDomain][*r as usize];
                let text = format!("{id}\n");
                let cur = self.mdevs[i].assigned;
                let res = if matches!(op, Op::Assign(..)) {
                    let perms = self.perms;
                    matrix::assign(
                        &cur,
                        r,
                        text.as_bytes(),
                        |apm, aqm| matrix::apqns(apm, aqm).any(|q| perms.reserved_for_host(q)),
                        self.others(Some(i)),
                    )
                } else {
                    matrix::unassign::<usize>(&cur, r, text.as_bytes())
                };
                if let Ok(Some(c)) = res {
                    self.mdevs[i].assigned = c.matrix;
                    self.filter(i);
                }
            }
            Op::ApConfig(i, a, q, d) => {
                let i = *i;
                if i >= self.mdevs.len() {
                    return;
                }
                let bits = |b: u8| {
                    let ids: Vec<u8> = (0..8).filter(|k| b & (1 << k) != 0).collect();
                    Mask::from_ids(&ids)
                };
                let text = format!("{},{},{}\n", bits(*a), bits(*q), bits(*d));
                let perms = self.perms;
                if let Ok(c) = matrix::ap_config_store(
                    &self.mdevs[i].assigned,
                    text.as_bytes(),
                    |apm, aqm| matrix::apqns(apm, aqm).any(|q| perms.reserved_for_host(q)),
                    self.others(Some(i)),
                ) {
                    self.mdevs[i].assigned = c.new;
                    self.filter(i);
                }
            }
            Op::Open(i) => {
                if *i < self.mdevs.len() && self.mdevs[*i].guest.is_none() {
                    self.mdevs[*i].guest = Some(masks(&self.mdevs[*i].shadow));
                }
            }
            Op::Close(i) => {
                if *i < self.mdevs.len() {
                    self.mdevs[*i].guest = None;
                }
            }
            Op::Config(adapter, add, id) => {
                let (mut apm, mut aqm) = (self.info.apm(), self.info.aqm());
                let m = if *adapter { &mut apm } else { &mut aqm };
                if *add {
                    m.set(*id);
                } else {
                    m.clear(*id);
                }
                let prev = self.info;
                self.info.set_apm(&apm);
                self.info.set_aqm(&aqm);
                // on_config_changed: the removed resources leave the shadows first.
                let delta = shadow::cfg_delta(&self.info, &prev);
                for i in 0..self.mdevs.len() {
                    let m = &self.mdevs[i];
                    if let Some(s) = shadow::cfg_remove(&m.assigned, &m.shadow, &delta.removed) {
                        self.mdevs[i].shadow = s;
                        self.sync(i);
                    }
                }
                self.rescan();
            }
            Op::Unbind(a, q) => {
                let q = Apqn::new(*a, *q);
                if let Some(k) = self.queues.iter().position(|d| d.apqn == q) {
                    if self.queues[k].binding == Binding::VfioAp {
                        // vfio_ap's remove: the adapter leaves the shadow first.
                        if let Some(i) = self.owner(q) {
                            if let shadow::RemoveQueue::UnplugAdapter { shadow: s, .. } =
                                shadow::remove_queue(q, Some(&self.mdevs[i].shadow), &self.info)
                            {
                                self.mdevs[i].shadow = s;
                                self.sync(i);
                            }
                        }
                    }
                    self.queues[k].binding = Binding::Unbound;
                    self.filter_all();
                }
            }
        }
    }

    fn violations(&self) -> Vec<Violation> {
        let host = HostView {
            apmask: self.perms.apm,
            aqmask: self.perms.aqm,
            config: Masks {
                apm: self.info.apm(),
                aqm: self.info.aqm(),
                adm: self.info.adm(),
            },
        };
        let order: Vec<usize> = (0..self.mdevs.len()).rev().collect();
        let views: Vec<MdevView> = order
            .iter()
            .map(|&i| MdevView {
                assigned: masks(&self.mdevs[i].assigned),
                shadow: masks(&self.mdevs[i].shadow),
                guest: self.mdevs[i].guest,
            })
            .collect();
        let queues: Vec<QueueView> = self
            .queues
            .iter()
            .map(|d| QueueView {
                apqn: d.apqn,
                binding: d.binding,
                status: (d.binding == Binding::VfioAp).then(|| {
                    let o = self.owner(d.apqn).map(|i| &self.mdevs[i]);
                    queue_status(true, o.map(|m| (m.guest.is_some(), &m.shadow)), d.apqn)
                }),
            })
            .collect();
        let mut out = Vec::new();
        check(&host, &queues, &views, |v| out.push(v));
        out
    }
}

fn cases() -> u32 {
    std::env::var("AP_RS_ISOLATION_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn no_queue_ever_has_two_owners(ops in proptest::collection::vec(op(), 1..60)) {
        let mut s = Sys::new();
        prop_assert_eq!(s.violations(), vec![]);
        for (step, o) in ops.iter().enumerate() {
            s.apply(o);
            let v = s.violations();
            prop_assert!(v.is_empty(), "step {} {:?}: {:?}", step, o, v);
        }
    }
}

/// `make soak`: at least `AP_RS_SOAK_OPS` operations (default 10^7) in sequences of up to 60,
/// from the seed `AP_RS_SOAK_SEED` (default: from the clock, printed), checking the invariant
/// after every step; a violation prints the seed, the sequence and the step.
#[test]
#[ignore]
fn soak() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let want: u64 = std::env::var("AP_RS_SOAK_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let seed: u64 = std::env::var("AP_RS_SOAK_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = proptest::collection::vec(op(), 1..60);
    let start = std::time::Instant::now();
    let (mut ops, mut seqs) = (0u64, 0u64);
    while ops < want {
        let tree = strategy.new_tree(&mut runner).expect("strategy");
        let seq = tree.current();
        let mut s = Sys::new();
        for (step, o) in seq.iter().enumerate() {
            s.apply(o);
            ops += 1;
            let v = s.violations();
            assert!(
                v.is_empty(),
                "isolation soak: seed {seed}, sequence {seqs}, step {step} {o:?}: {v:?}\n{seq:?}"
            );
        }
        seqs += 1;
    }
    println!(
        "isolation soak (host model): {ops} operations in {seqs} sequences, 0 violations, \
         seed {seed}, {:.1} s",
        start.elapsed().as_secs_f64()
    );
}
