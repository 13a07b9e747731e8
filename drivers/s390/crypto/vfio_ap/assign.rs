// SPDX-License-Identifier: GPL-2.0

//! The assignment attributes of an mdev: `assign_*`, `unassign_*` and `ap_config`, with hot plug
//! and unplug into the running guest.

use kernel::prelude::*;

use crate::{
    abs::attr_mutex::AttrLocked,
    matrix_dev::{
        store_err,
        MatrixDev, //
    },
    mdev_state::Mdevs,
    model::{
        mask::Mask,
        matrix::{
            self,
            Resource,
            StoreError, //
        },
        shadow, //
    },
    reset::reset_queues, //
};

impl MatrixDev {
    /// `assign_adapter`, `assign_domain`, `assign_control_domain`.
    pub(crate) fn assign(&self, id: u32, r: Resource, input: &[u8]) -> Result {
        // Lock order: the bus attribute mutex, guests, mdevs.
        let attr = (r != Resource::ControlDomain).then(AttrLocked::lock);
        let (mut guests, mut mdevs) = self.lock_for(Some(id));
        let i = mdevs.index_of(id).ok_or(ENODEV)?;
        let cur = mdevs.at(i)?.matrix;
        let res = matrix::assign(
            &cur,
            r,
            input,
            |apm, aqm| {
                attr.as_ref()
                    .is_some_and(|g| g.matrix_owned_by_default(apm, aqm))
            },
            mdevs.others(Some(id)),
        );
        let c = match res {
            Ok(Some(c)) => c,
            Ok(None) => return Ok(()),
            Err(e) => {
                if let StoreError::InUse(o) = &e {
                    Self::log_sharing(&mdevs, id, o);
                }
                return Err(store_err(&e));
            }
        };
        mdevs.at(i)?.matrix = c.matrix;
        mdevs.refresh_assigned();
        match r {
            Resource::ControlDomain => {
                let info = mdevs.info;
                let m = mdevs.at(i)?;
                let (s, _changed) = shadow::filter_cdoms(&m.matrix, &m.shadow, &info);
                m.shadow = s;
            }
            _ => {
                let one = Mask::from_ids(&[c.id]);
                let (apm, aqm) = match r {
                    Resource::Adapter => (one, c.matrix.aqm),
                    _ => (c.matrix.apm, one),
                };
                mdevs.link(id, &apm, &aqm);
                mdevs.filter(&mut guests, i, false);
            }
        }
        guests.sync_id(&mut mdevs, id);
        Ok(())
    }

    /// `unassign_adapter`, `unassign_domain`, `unassign_control_domain`, then the re-filter
    /// (the project's fix of the C driver, see the `shadow` model).
    pub(crate) fn unassign(&self, id: u32, r: Resource, input: &[u8]) -> Result {
        let (mut guests, mut mdevs) = self.lock_for(Some(id));
        let i = mdevs.index_of(id).ok_or(ENODEV)?;
        let cur = mdevs.at(i)?.matrix;
        let c = match matrix::unassign::<u32>(&cur, r, input) {
            Ok(Some(c)) => c,
            Ok(None) => return Ok(()),
            Err(e) => return Err(store_err(&e)),
        };
        mdevs.at(i)?.matrix = c.matrix;
        mdevs.refresh_assigned();
        let sh = mdevs.at(i)?.shadow;
        let one = Mask::from_ids(&[c.id]);
        match r {
            Resource::Adapter => {
                let u = shadow::hot_unplug_adapters(&c.matrix.aqm, &sh, &one);
                mdevs.unplug(&mut guests, i, &u);
            }
            Resource::Domain => {
                let u = shadow::hot_unplug_domains(&c.matrix.apm, &sh, &one);
                mdevs.unplug(&mut guests, i, &u);
            }
            Resource::ControlDomain => {
                let (s, _) = shadow::unassign_control_domain(&sh, c.id);
                mdevs.at(i)?.shadow = s;
            }
        }
        mdevs.filter(&mut guests, i, true);
        guests.sync_id(&mut mdevs, id);
        Ok(())
    }

    /// The `ap_config` write: all or nothing.
    pub(crate) fn ap_config(&self, id: u32, input: &[u8]) -> Result {
        let attr = AttrLocked::lock();
        let (mut guests, mut mdevs) = self.lock_for(Some(id));
        let i = mdevs.index_of(id).ok_or(ENODEV)?;
        let cur = mdevs.at(i)?.matrix;
        let c = match matrix::ap_config_store(
            &cur,
            input,
            |apm, aqm| attr.matrix_owned_by_default(apm, aqm),
            mdevs.others(Some(id)),
        ) {
            Ok(c) => c,
            Err(e) => {
                if let StoreError::InUse(o) = &e {
                    Self::log_sharing(&mdevs, id, o);
                }
                return Err(store_err(&e));
            }
        };
        // One update of the guest's APCB (`shadow::ConfigUnplug`): the unplug plan, the new
        // matrix with its added queues linked, the filtered shadow pushed once; then the
        // queues that left the guest are reset in one batch and the unplugged ones unlinked.
        let plan = shadow::ap_config_unplug(&cur, &mdevs.at(i)?.shadow, &c.removed);
        mdevs.at(i)?.matrix = c.new;
        mdevs.refresh_assigned();
        for (apm, aqm) in c.link_sets() {
            mdevs.link(id, &apm, &aqm);
        }
        let info = mdevs.info;
        let Mdevs { list, queues, .. } = &mut *mdevs;
        let m = list.get_mut(i).ok_or(ENODEV)?;
        let f = shadow::refilter(&m.matrix, &plan.shadow, &info, |a| {
            Mdevs::passable(queues, id, a)
        });
        m.shadow = f.shadow;
        guests.sync(m);
        let aqm = m.shadow.aqm;
        let _ = reset_queues(list, queues, |q| {
            q.mdev == Some(id)
                && (plan.resets(q.apqn)
                    || (f.apm_filtered.test(q.apqn.apid) && aqm.test(q.apqn.apqi)))
        });
        for q in queues.iter_mut() {
            if q.mdev == Some(id) && plan.unlinks(q.apqn) {
                q.mdev = None;
            }
        }
        Ok(())
    }
}
