// SPDX-License-Identifier: GPL-2.0

//! Bus scans (`ap_scan_bus`): the QCI configuration, the default domain, every adapter and its
//! domains planned by the model's scan module, driver notifications, and the "all bound" uevent.

use core::sync::atomic::Ordering;
use kernel::sync::Arc;

use crate::{
    abs::{
        ap_bus_ffi,
        bus::Bus, //
    },
    bus::ApBus,
    devices::{
        apqn_of,
        cstr_in,
        find,
        DevRef,
        DevState,
        DevTable, //
    },
    model::{
        hw::QciInfo,
        ids::Apqn,
        scan::{
            self,
            CardPlan,
            CardSnapshot,
            QueuePlan,
            QueueSnapshot, //
        }, //
    }, //
};

impl ApBus {
    /// Runs one bus scan (`ap_scan_bus`): returns whether the configuration changed.
    pub(crate) fn scan_bus(&self) -> bool {
        // A scan already running is waited for, and its result is ours (`ap_bus_force_rescan`).
        let mut table = match self.scan.try_lock() {
            Some(t) => t,
            None => {
                drop(self.scan.lock());
                return self.last_scan_changed.load(Ordering::Acquire);
            }
        };
        if self.exiting.load(Ordering::Acquire) {
            return false;
        }
        let (begin, new, old) = {
            let mut cfg = self.config.lock();
            match cfg.qci {
                Some(old) => {
                    let new = self.facility.lock().get().qci().unwrap_or(old);
                    cfg.qci = Some(new);
                    (scan::scan_begin(&old, &new), new, old)
                }
                None => {
                    let q = QciInfo([0; 128]);
                    (scan::scan_begin(&q, &q), q, q)
                }
            }
        };
        if begin.rearm_bindings {
            self.bindings.lock().rearm();
        }
        if begin.config_changed {
            for d in self.drivers.lock().iter() {
                if d.try_get_module() {
                    d.config_changed(&new, &old);
                    d.put_module();
                }
            }
        }
        self.select_domain();
        for apid in 0..=self.limits.max_apid {
            self.scan_adapter(&mut table, apid);
        }
        let end = scan::scan_end(&begin, self.scan_count.load(Ordering::Acquire));
        if end.notify_scan_complete {
            for d in self.drivers.lock().iter() {
                if d.try_get_module() {
                    d.scan_complete(&new, &old);
                    d.put_module();
                }
            }
        }
        drop(table);
        self.scan_count.store(end.scans, Ordering::Release);
        if end.init_scan_done {
            self.root_uevent(scan::write_env_init_scan_done);
        }
        self.last_scan_changed
            .store(begin.config_changed, Ordering::Release);
        self.check_bindings_complete();
        let period = self.config.lock().config_time;
        self.schedule_scan(period.saturating_mul(1000));
        begin.config_changed
    }

    /// Arms the periodic scan, unless the module is going away.
    pub(crate) fn schedule_scan(&self, delay_ms: u32) {
        if !self.exiting.load(Ordering::Acquire) {
            ap_bus_ffi::schedule_scan(delay_ms);
        }
    }

    /// The default domain (`ap_select_domain`).
    pub(crate) fn select_domain(&self) {
        let perms = self.perms_now();
        let (current, qci) = {
            let c = self.config.lock();
            (c.domain, c.qci)
        };
        let d = scan::select_domain(current, &perms, &self.limits, qci.as_ref(), |q| {
            self.tapq_q(q, true).0
        });
        self.config.lock().domain = d;
    }

    /// One adapter of a scan (`ap_scan_adapter`).
    pub(crate) fn scan_adapter(&self, table: &mut DevTable, apid: u8) {
        let lo = u16::from(apid) << 8;
        let existing = find(&table.cards, lo).ok().map(|i| table.cards[i].clone());
        let snapshot = existing
            .as_ref()
            .and_then(|c| match &*c.data().state.lock() {
                DevState::Card(s) => Some(CardSnapshot::new(s.hw, s.config, s.chkstop)),
                DevState::Queue(_) => None,
            });
        let qci = self.config.lock().qci;
        let in_config = self.limits.card_configured(qci.as_ref(), apid);
        let probe = if in_config {
            scan::first_info(&self.limits, qci.as_ref(), apid, |q| self.tapq_q(q, true))
        } else {
            None
        };
        let card = match scan::plan_card(snapshot.as_ref(), in_config, probe) {
            CardPlan::Remove(_) => {
                self.remove_card(table, apid);
                return;
            }
            CardPlan::Ignore(_) => return,
            CardPlan::Keep { chkstop, config } => {
                let Some(c) = existing else { return };
                if let DevState::Card(s) = &mut *c.data().state.lock() {
                    if let Some(x) = chkstop {
                        s.chkstop = x;
                    }
                    if let Some(x) = config {
                        s.config = x;
                    }
                }
                if let Some(x) = config {
                    Self::config_uevent(&c, x);
                }
                c
            }
            CardPlan::Replace(new) => {
                self.remove_card(table, apid);
                match self.create_card(table, &new, qci.as_ref()) {
                    Some(c) => c,
                    None => return,
                }
            }
            CardPlan::Create(new) => match self.create_card(table, &new, qci.as_ref()) {
                Some(c) => c,
                None => return,
            },
        };
        self.scan_domains(table, &card);
    }

    /// The domains of one card (`ap_scan_domains`).
    pub(crate) fn scan_domains(&self, table: &mut DevTable, card: &DevRef) {
        let apid = apqn_of(card).apid;
        let mode = match &*card.data().state.lock() {
            DevState::Card(s) => s.hw.mode(),
            DevState::Queue(_) => None,
        };
        let qci = self.config.lock().qci;
        for apqi in 0..=self.limits.max_apqi {
            let q = Apqn { apid, apqi };
            let existing = find(&table.queues, q.qid())
                .ok()
                .map(|i| table.queues[i].clone());
            let in_config = self.limits.usage_domain_configured(qci.as_ref(), apqi);
            let info = if in_config && scan::tapq_allowed(&self.limits, q) {
                let (st, hw) = self.tapq_q(q, true);
                scan::queue_info(&self.limits, q, st, hw)
            } else {
                scan::QueueInfo::Invalid
            };
            let snapshot = existing
                .as_ref()
                .and_then(|d| match &*d.data().state.lock() {
                    DevState::Queue(s) => Some(QueueSnapshot::of(&s.sm)),
                    DevState::Card(_) => None,
                });
            match scan::plan_queue(snapshot.as_ref(), in_config, info) {
                QueuePlan::Remove(_) => {
                    if let Ok(i) = find(&table.queues, q.qid()) {
                        if let Ok(d) = table.queues.remove(i) {
                            d.unregister();
                        }
                    }
                }
                QueuePlan::Nothing => {}
                plan @ QueuePlan::Create { .. } => self.create_queue(table, card, q, mode, plan),
                plan => {
                    if let Some(d) = existing {
                        self.apply_queue_plan(&d, plan);
                    }
                }
            }
        }
    }

    /// `ap_check_bindings_complete`.
    pub(crate) fn check_bindings_complete(&self) {
        let (total, bound) = self.count_bindings();
        let scans = self.scan_count.load(Ordering::Acquire);
        if let Some(n) = self.bindings.lock().check(scans, bound, total) {
            let mut a = [0u8; 96];
            let mut b = [0u8; 96];
            if let (Ok(x), Ok(y)) = (
                cstr_in(&mut a, scan::write_env_bindings_complete),
                cstr_in(&mut b, |w| scan::write_env_complete_count(w, n)),
            ) {
                self.root_change_uevent(&[x, y]);
            }
        }
    }

    pub(crate) fn count_bindings(&self) -> (u32, u32) {
        let table = self.scan.lock();
        let total = u32::try_from(table.queues.len()).unwrap_or(u32::MAX);
        let bound = table
            .queues
            .iter()
            .filter(|q| q.data().binding().bound.is_some())
            .count();
        (total, u32::try_from(bound).unwrap_or(u32::MAX))
    }
}

/// The bus at work: the first scan has run, and it armed the periodic ones and the polls.
/// Dropping it stops them and removes every device (module exit, or a failed init).
pub(crate) struct Scanning(Arc<Bus<ApBus>>);

impl Scanning {
    /// Runs the initial scan.
    pub(crate) fn start(bus: &Arc<Bus<ApBus>>) -> Scanning {
        bus.data().scan_bus();
        Scanning(bus.clone())
    }
}

impl Drop for Scanning {
    fn drop(&mut self) {
        let data = self.0.data();
        // No new scans or polls from here on (sysfs writes may still come until the bus is
        // unregistered, debugfs ones until the file is gone).
        data.exiting.store(true, Ordering::Release);
        ap_bus_ffi::cancel_works();
        // Every AP driver module depends on this one, so none is registered any more: the
        // devices go without unbinding anything.
        {
            let mut table = data.scan.lock();
            while let Some(q) = table.queues.pop() {
                q.unregister();
            }
            while let Some(c) = table.cards.pop() {
                c.unregister();
            }
        }
        ap_bus_ffi::cancel_works();
    }
}
