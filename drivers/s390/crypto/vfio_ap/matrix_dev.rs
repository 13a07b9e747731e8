// SPDX-License-Identifier: GPL-2.0

//! The matrix device (`struct ap_matrix_dev`): its two locks and the order the C driver takes
//! them in, the simulated guest's PQAP, and log lines.

use kernel::{
    new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex,
        MutexGuard, //
    }, //
};

use crate::{
    abs::{
        ap_services,
        mdev::Level, //
    },
    guests::{
        Guests,
        GuestsLocked, //
    },
    mdev_state::{
        LastPqap,
        Mdevs, //
    },
    model::{
        aqic,
        hw::{
            QciInfo,
            QueueStatus, //
        },
        mask::Mask,
        matrix::{
            self,
            StoreError, //
        },
        text::BufWriter,
        vfio_text, //
    }, //
};

/// The matrix device's state (`struct ap_matrix_dev`).
#[pin_data]
pub(crate) struct MatrixDev {
    /// `guests_lock`: attaching and detaching guests and changing their CRYCBs (taken before
    /// `mdevs`).
    #[pin]
    pub(crate) guests: Mutex<Guests>,
    /// `mdevs_lock`: the mdevs, their matrices and the queues.
    #[pin]
    pub(crate) mdevs: Mutex<Mdevs>,
}

/// A log line built with `write!`.
pub(crate) struct Msg {
    pub(crate) buf: [u8; 160],
    pub(crate) len: usize,
}

impl Msg {
    pub(crate) fn new() -> Msg {
        Msg {
            buf: [0; 160],
            len: 0,
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl core::fmt::Write for Msg {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let rest = self.buf.get_mut(self.len..).unwrap_or_default();
        let mut w = BufWriter::new(rest);
        let r = w.write_str(s);
        self.len += w.len();
        r
    }
}

/// A positive errno of the model as an error.
pub(crate) fn errno(e: i32) -> Error {
    Error::from_errno(-e)
}

pub(crate) fn store_err(e: &StoreError<u32>) -> Error {
    errno(e.errno())
}

impl MatrixDev {
    /// The matrix device's state: no mdev, no queue, the host configuration of the bus's last
    /// scan.
    pub(crate) fn new() -> Result<Arc<MatrixDev>> {
        let info = ap_services::qci().unwrap_or(QciInfo([0; 128]));
        let assigned = KVec::from_elem(Mask::ZERO, 256, GFP_KERNEL)?;
        Arc::pin_init(
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
                    assigned,
                    last_pqap: None,
                }),
            }),
            GFP_KERNEL,
        )
    }

    /// The C driver's update locks for mdev `id` (`get_update_locks_for_mdev`): `guests_lock`,
    /// then the `kvm->lock` of its guest if that is a KVM guest, then `mdevs_lock`. Drop the
    /// `mdevs` guard first (declare it after the `guests` one).
    pub(crate) fn lock_for(&self, id: Option<u32>) -> (GuestsLocked<'_>, MutexGuard<'_, Mdevs>) {
        let mut guests = GuestsLocked(self.guests.lock());
        guests.held = id.and_then(|id| guests.kvm_lock_for(id));
        let mdevs = self.mdevs.lock();
        (guests, mdevs)
    }

    /// Runs `f` for every mdev with its update locks (`vfio_ap_on_scan_complete`): `guests_lock`
    /// throughout, each mdev's KVM lock and `mdevs_lock` around its call.
    pub(crate) fn for_each_mdev(&self, mut f: impl FnMut(&mut Guests, &mut Mdevs, usize)) {
        let mut guests = GuestsLocked(self.guests.lock());
        let mut i = 0;
        loop {
            // The list only changes under `guests_lock`, which is held.
            let Some(id) = self.mdevs.lock().list.get(i).map(|m| m.id) else {
                break;
            };
            guests.held = guests.kvm_lock_for(id);
            f(&mut guests, &mut self.mdevs.lock(), i);
            guests.held = None;
            i += 1;
        }
    }

    /// The simulated guest of mdev `name` executes PQAP(AQIC) with `regs`: KVM's checks
    /// (`handle_pqap` of KVM, with AP interpretation and every facility on), then vfio_ap's hook
    /// while the mdev has a guest, then the interruption enable or disable on the queue.
    pub(crate) fn pqap(&self, name: &[u8], regs: &aqic::PqapRegs) -> Result {
        let id = {
            let _guests = self.guests.lock();
            let mdevs = self.mdevs.lock();
            mdevs
                .list
                .iter()
                .find(|m| m.name.as_slice() == name)
                .map(|m| m.id)
                .ok_or(ENODEV)?
        };
        let (_guests, mut mdevs) = self.lock_for(Some(id));
        let has_guest = mdevs.rec(id).ok_or(ENODEV)?.guest.is_some();
        let env = aqic::KvmPqapEnv {
            ap_instructions: true,
            eca_apie: true,
            problem_state: false,
            apft: true,
            crycb_apxa: true,
            aqic_facility: true,
        };
        let done = |st: QueueStatus| {
            let (gr1, cc) = aqic::pqap_result(st);
            LastPqap::Done { gr1, cc }
        };
        let res = match aqic::kvm_pqap_check(&env, regs.gr0) {
            aqic::KvmPqap::Userspace => LastPqap::Userspace,
            aqic::KvmPqap::Program(code) => LastPqap::Program(code),
            // The hook is registered while the mdev has a guest.
            aqic::KvmPqap::Hook if !has_guest => {
                let (gr1, cc) = aqic::kvm_no_hook(regs.gr1);
                LastPqap::Done { gr1, cc }
            }
            aqic::KvmPqap::Hook => match mdevs.pqap_hook(id, None, true, regs) {
                None => LastPqap::Userspace,
                Some(st) => done(st),
            },
        };
        mdevs.last_pqap = Some(res);
        Ok(())
    }

    /// Logs, on mdev `writer`, the sharing conflict of an assign with mdev `o.other`.
    pub(crate) fn log_sharing(mdevs: &Mdevs, writer: u32, o: &matrix::Overlap<u32>) {
        let (Some(w), Some(other)) = (mdevs.rec(writer), mdevs.rec(o.other)) else {
            return;
        };
        for q in o.apqns() {
            let mut msg = Msg::new();
            let _ = vfio_text::write_sharing_msg(&mut msg, q, other.name());
            w.glue.log(Level::Warn, msg.bytes());
        }
    }
}
