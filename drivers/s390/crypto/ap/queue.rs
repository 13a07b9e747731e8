// SPDX-License-Identifier: GPL-2.0

//! Queue devices (`/sys/devices/ap/cardXX/XX.YYYY`): their state and state machine, their sysfs
//! attributes and `driver_override`, how a scan creates them, and the poll that drives them.

use core::{
    fmt::Write as _,
    sync::atomic::Ordering, //
};
use kernel::prelude::*;

use crate::{
    abs::{
        ap_bus_ffi,
        ap_driver::DriverRef,
        attr_mutex::AttrLocked,
        bus::ShowBuf,
        device::{
            DeviceSpec,
            DeviceType,
            KIND_QUEUE, //
        }, //
    },
    bus::{
        parse_err,
        ApBus, //
    },
    devices::{
        apqn_of,
        cstr_in,
        find,
        insert_sorted,
        ApDev,
        Dev,
        DevRef,
        DevState,
        DevTable, //
    },
    model::{
        hw::Mode,
        ids::Apqn,
        owner::{
            self,
            QueueBinding, //
        },
        parse,
        queue_sm::{
            self,
            QueueSm,
            SmAction,
            SmEvent,
            SmWait, //
        },
        scan::QueuePlan,
        text, //
    }, //
};

/// A queue device's state.
pub(crate) struct QueueState {
    /// The host queue state machine (runs only while a default driver is bound).
    pub(crate) sm: QueueSm,
    /// The card's mode, for `MODE=` uevents.
    pub(crate) mode: Option<Mode>,
    /// `driver_override`: the name of the only driver this queue may bind to.
    pub(crate) driver_override: Option<KVec<u8>>,
    /// The driver the bus probed the queue with (set when the probe succeeded, cleared at
    /// remove).
    pub(crate) bound: Option<DriverRef>,
}

impl QueueState {
    /// How the `driver_override` relates to driver `drv` (`device_match_driver_override`).
    pub(crate) fn override_match(&self, drv: Option<DriverRef>) -> owner::OverrideMatch {
        match (&self.driver_override, drv) {
            (None, _) => owner::OverrideMatch::NotSet,
            (Some(name), Some(d)) if d.name().to_bytes() == name.as_slice() => {
                owner::OverrideMatch::Matches
            }
            (Some(_), _) => owner::OverrideMatch::Differs,
        }
    }

    /// Publishes the binding of `dev`, whose state this is, for the revise walk.
    pub(crate) fn publish_binding(&self, dev: &Dev) {
        let b = QueueBinding {
            bound: self.bound.map(|d| d.is_default()),
            ovr: self.override_match(self.bound),
        };
        dev.data().binding.store(b.pack(), Ordering::Release);
    }
}

/// Queue attribute ids (distinct from the card ids: one dispatch function serves both).
pub(crate) mod queue_attr {
    pub(crate) const REQUEST_COUNT: u32 = 100;
    pub(crate) const REQUESTQ_COUNT: u32 = 101;
    pub(crate) const PENDINGQ_COUNT: u32 = 102;
    pub(crate) const RESET: u32 = 103;
    pub(crate) const INTERRUPT: u32 = 104;
    pub(crate) const CONFIG: u32 = 105;
    pub(crate) const CHKSTOP: u32 = 106;
    pub(crate) const AP_FUNCTIONS: u32 = 107;
    pub(crate) const DRIVER_OVERRIDE: u32 = 108;
}

crate::device_attribute_table!(static QUEUE_GROUPS for ApBus {
    (c"request_count", 0o644, queue_attr::REQUEST_COUNT),
    (c"requestq_count", 0o444, queue_attr::REQUESTQ_COUNT),
    (c"pendingq_count", 0o444, queue_attr::PENDINGQ_COUNT),
    (c"reset", 0o644, queue_attr::RESET),
    (c"interrupt", 0o444, queue_attr::INTERRUPT),
    (c"config", 0o444, queue_attr::CONFIG),
    (c"chkstop", 0o444, queue_attr::CHKSTOP),
    (c"ap_functions", 0o444, queue_attr::AP_FUNCTIONS),
    (c"driver_override", 0o644, queue_attr::DRIVER_OVERRIDE),
});

pub(crate) static QUEUE_TYPE: DeviceType = DeviceType::new(c"ap_queue", &QUEUE_GROUPS);

impl ApBus {
    pub(crate) fn create_queue(
        &self,
        table: &mut DevTable,
        card: &DevRef,
        q: Apqn,
        mode: Option<Mode>,
        plan: QueuePlan,
    ) {
        let mut name = [0u8; 16];
        let Ok(name) = cstr_in(&mut name, |w| {
            core::fmt::Write::write_fmt(w, format_args!("{}", q))
        }) else {
            return;
        };
        let spec = DeviceSpec {
            bus: self.bus_raw(),
            parent: card.raw(),
            dev_type: &QUEUE_TYPE,
            name,
            kind: KIND_QUEUE,
            device_type: card.device_type(),
            apqn: q.qid(),
        };
        let mut sm = QueueSm::new(true, false);
        let _ = plan.apply(&mut sm);
        let state = DevState::Queue(QueueState {
            sm,
            mode,
            driver_override: None,
            bound: None,
        });
        // Drivers may bind before this returns.
        match Dev::register(&spec, ApDev::new(state)) {
            Ok(dev) => {
                if insert_sorted(&mut table.queues, dev.clone()).is_err() {
                    dev.unregister();
                    return;
                }
                // Nudge a usable queue's state machine, whichever driver bound it.
                if let QueuePlan::Create { init_sm: true, .. } = plan {
                    let first = match &mut *dev.data().state.lock() {
                        DevState::Queue(s) => s.sm.init_state(),
                        DevState::Card(_) => SmAction::Wait(SmWait::None),
                    };
                    self.run_queue(&dev, first);
                }
            }
            Err(e) => pr_warn!(
                "queue {:02x}.{:04x}: registration failed: {:?}\n",
                q.apid,
                q.apqi,
                e
            ),
        }
    }

    pub(crate) fn apply_queue_plan(&self, dev: &DevRef, plan: QueuePlan) {
        let first = match &mut *dev.data().state.lock() {
            DevState::Queue(s) => plan.apply(&mut s.sm),
            DevState::Card(_) => return,
        };
        if let Some(config) = plan.config_uevent() {
            Self::config_uevent(dev, config);
        }
        self.run_queue(dev, first);
    }

    /// Continues the queue state machine of `dev` from `first` (an action one of its
    /// event-starting methods returned) and arms the poll if it must wait.
    pub(crate) fn run_queue(&self, dev: &Dev, first: SmAction) {
        if let SmAction::Wait(SmWait::None) = first {
            return;
        }
        let q = apqn_of(dev);
        let wait = {
            let mut st = dev.data().state.lock();
            let DevState::Queue(s) = &mut *st else { return };
            let mut fac = self.facility.lock();
            s.sm.drive(fac.get(), q, 0, Some(first), SmEvent::Poll)
        };
        self.arm_poll(wait);
    }

    pub(crate) fn arm_poll(&self, wait: SmWait) {
        let (thread, high) = {
            let c = self.config.lock();
            (c.poll_thread, c.poll_timeout)
        };
        let ns = match queue_sm::wait_plan(wait, false, thread, high, queue_sm::POLL_LOW_TIMEOUT_NS)
        {
            queue_sm::WaitPlan::Nothing => return,
            // There is no separate poll thread: the poll work runs at once instead.
            queue_sm::WaitPlan::WakePollThread => 0,
            queue_sm::WaitPlan::Timer(ns) => ns,
        };
        if !self.exiting.load(Ordering::Acquire) {
            ap_bus_ffi::schedule_poll(u32::try_from(ns / 1000).unwrap_or(u32::MAX));
        }
    }

    /// Queue `driver_override` writes (ap_queue.c of 7.3): nothing is reprobed.
    pub(crate) fn driver_override_store(&self, dev: &Dev, input: &[u8]) -> Result {
        let mut held = AttrLocked::lock();
        let attr = self.perms.get_mut(&mut held);
        let name = parse::driver_override_store(input, input.len(), attr.masks_in_use)
            .map_err(parse_err)?;
        let new = match name {
            Some(n) => {
                let mut v = KVec::new();
                v.extend_from_slice(n, GFP_KERNEL)?;
                Some(v)
            }
            None => None,
        };
        let mut st = dev.data().state.lock();
        let DevState::Queue(s) = &mut *st else {
            return Err(EIO);
        };
        let was = s.driver_override.is_some();
        let now = new.is_some();
        s.driver_override = new;
        s.publish_binding(dev);
        attr.override_ctr = parse::driver_override_counter(attr.override_ctr, was, now);
        Ok(())
    }

    /// How a queue's `driver_override` relates to driver `drv` (`device_match_driver_override`).
    pub(crate) fn override_match(dev: &Dev, drv: Option<DriverRef>) -> owner::OverrideMatch {
        match &*dev.data().state.lock() {
            DevState::Queue(s) => s.override_match(drv),
            DevState::Card(_) => owner::OverrideMatch::NotSet,
        }
    }

    pub(crate) fn unbind_queue(&self, dev: &Dev) {
        if dev.kind() == KIND_QUEUE {
            let mut b = self.bound.lock();
            if let Ok(i) = find(&b, dev.apqn()) {
                let _ = b.remove(i);
            }
        }
    }

    /// A queue attribute.
    pub(crate) fn show_queue(&self, dev: &Dev, id: u32, buf: &mut ShowBuf<'_>) -> Result {
        let q = apqn_of(dev);
        let st = dev.data().state.lock();
        let DevState::Queue(s) = &*st else {
            return Err(EIO);
        };
        let r = match id {
            queue_attr::REQUEST_COUNT => queue_sm::write_request_count(buf, &s.sm),
            queue_attr::REQUESTQ_COUNT => queue_sm::write_requestq_count(buf, &s.sm),
            queue_attr::PENDINGQ_COUNT => queue_sm::write_pendingq_count(buf, &s.sm),
            queue_attr::RESET => queue_sm::write_reset(buf, s.sm.sm_state()),
            queue_attr::INTERRUPT => {
                queue_sm::write_interrupt(buf, s.sm.sm_state(), || self.tapq_q(q, false).0)
            }
            queue_attr::CONFIG => writeln!(buf, "{}", u8::from(s.sm.config())),
            queue_attr::CHKSTOP => writeln!(buf, "{}", u8::from(s.sm.chkstop())),
            queue_attr::DRIVER_OVERRIDE => {
                let name = s.driver_override.as_deref().unwrap_or(&[]);
                buf.write_bytes(name);
                buf.write_str("\n")
            }
            queue_attr::AP_FUNCTIONS => {
                let (st, hw) = self.tapq_q(q, true);
                let fac = queue_sm::queue_ap_functions(st, hw).map_err(|_| EIO)?;
                text::write_ap_functions(buf, fac)
            }
            _ => return Err(EIO),
        };
        r.map_err(|_| EINVAL)
    }

    /// A queue attribute write.
    pub(crate) fn store_queue(&self, dev: &Dev, id: u32, input: &[u8]) -> Result {
        match id {
            queue_attr::REQUEST_COUNT => {
                if let DevState::Queue(s) = &mut *dev.data().state.lock() {
                    s.sm.reset_request_count();
                }
                Ok(())
            }
            queue_attr::DRIVER_OVERRIDE => self.driver_override_store(dev, input),
            queue_attr::RESET => {
                let first = match &mut *dev.data().state.lock() {
                    DevState::Queue(s) => s.sm.reset_store(),
                    DevState::Card(_) => return Err(EIO),
                };
                self.run_queue(dev, first);
                Ok(())
            }
            _ => Err(EIO),
        }
    }
}
