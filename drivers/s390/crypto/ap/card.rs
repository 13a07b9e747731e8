// SPDX-License-Identifier: GPL-2.0

//! Card devices (`/sys/devices/ap/cardXX`): their state, their sysfs attributes, and how a scan
//! creates and removes them.

use core::fmt::Write as _;
use kernel::prelude::*;

use crate::{
    abs::{
        bus::ShowBuf,
        device::{
            DeviceSpec,
            DeviceType,
            KIND_CARD, //
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
        hw::{
            QciInfo,
            TapqHwInfo, //
        },
        parse,
        scan::NewCard,
        text, //
    }, //
};

/// A card device's state.
pub(crate) struct CardState {
    /// TAPQ GR2 of the card, masked with `CARD_HWINFO_MASK`.
    pub(crate) hw: TapqHwInfo,
    /// The raw type (`at`).
    pub(crate) raw_type: u8,
    pub(crate) config: bool,
    pub(crate) chkstop: bool,
    /// Requests sent through the card (no requests flow yet: reset by writes).
    pub(crate) request_count: u64,
}

/// Card attribute ids.
pub(crate) mod card_attr {
    pub(crate) const HWTYPE: u32 = 0;
    pub(crate) const RAW_HWTYPE: u32 = 1;
    pub(crate) const DEPTH: u32 = 2;
    pub(crate) const AP_FUNCTIONS: u32 = 3;
    pub(crate) const REQUEST_COUNT: u32 = 4;
    pub(crate) const REQUESTQ_COUNT: u32 = 5;
    pub(crate) const PENDINGQ_COUNT: u32 = 6;
    pub(crate) const MODALIAS: u32 = 7;
    pub(crate) const CONFIG: u32 = 8;
    pub(crate) const CHKSTOP: u32 = 9;
    pub(crate) const MAX_MSG_SIZE: u32 = 10;
}

crate::device_attribute_table!(static CARD_GROUPS for ApBus {
    (c"hwtype", 0o444, card_attr::HWTYPE),
    (c"raw_hwtype", 0o444, card_attr::RAW_HWTYPE),
    (c"depth", 0o444, card_attr::DEPTH),
    (c"ap_functions", 0o444, card_attr::AP_FUNCTIONS),
    (c"request_count", 0o644, card_attr::REQUEST_COUNT),
    (c"requestq_count", 0o444, card_attr::REQUESTQ_COUNT),
    (c"pendingq_count", 0o444, card_attr::PENDINGQ_COUNT),
    (c"modalias", 0o444, card_attr::MODALIAS),
    (c"config", 0o644, card_attr::CONFIG),
    (c"chkstop", 0o444, card_attr::CHKSTOP),
    (c"max_msg_size", 0o444, card_attr::MAX_MSG_SIZE),
});

pub(crate) static CARD_TYPE: DeviceType = DeviceType::new(c"ap_card", &CARD_GROUPS);

impl ApBus {
    pub(crate) fn create_card(
        &self,
        table: &mut DevTable,
        new: &NewCard,
        qci: Option<&QciInfo>,
    ) -> Option<DevRef> {
        let qact_available = qci.is_some_and(|c| c.qact());
        let comp = new.compatible_type(qact_available, |info| {
            self.facility.lock().get().qact(new.q, info)
        });
        let apid = new.q.apid;
        if comp == 0 {
            pr_warn!(
                "card {:02x}: type {} has no compatible type\n",
                apid,
                new.hw.at()
            );
            return None;
        }
        let mut name = [0u8; 16];
        let name = cstr_in(&mut name, |w| {
            core::fmt::Write::write_fmt(w, format_args!("card{:02x}", apid))
        })
        .ok()?;
        let spec = DeviceSpec {
            bus: self.bus_raw(),
            parent: self.root_raw(),
            dev_type: &CARD_TYPE,
            name,
            kind: KIND_CARD,
            device_type: u32::from(comp),
            apqn: u16::from(apid) << 8,
        };
        let state = DevState::Card(CardState {
            hw: new.hw,
            raw_type: new.hw.at(),
            config: new.config,
            chkstop: new.chkstop,
            request_count: 0,
        });
        let dev = match Dev::register(&spec, ApDev::new(state)) {
            Ok(d) => d,
            Err(e) => {
                pr_warn!("card {:02x}: registration failed: {:?}\n", apid, e);
                return None;
            }
        };
        if insert_sorted(&mut table.cards, dev.clone()).is_err() {
            dev.unregister();
            return None;
        }
        Some(dev)
    }

    pub(crate) fn remove_card(&self, table: &mut DevTable, apid: u8) {
        let lo = u16::from(apid) << 8;
        let hi = lo | 0xff;
        let mut i = 0;
        while i < table.queues.len() {
            if (lo..=hi).contains(&table.queues[i].apqn()) {
                let q = table.queues.remove(i);
                if let Ok(q) = q {
                    q.unregister();
                }
            } else {
                i += 1;
            }
        }
        if let Ok(i) = find(&table.cards, lo) {
            if let Ok(c) = table.cards.remove(i) {
                c.unregister();
            }
        }
    }

    pub(crate) fn card_queue_sum(&self, apid: u8, id: u32) -> i64 {
        let lo = u16::from(apid) << 8;
        let table = self.scan.lock();
        let mut sum = 0i64;
        for d in table.queues.iter().filter(|d| d.apqn() >> 8 == lo >> 8) {
            if let DevState::Queue(s) = &*d.data().state.lock() {
                let n = if id == card_attr::REQUESTQ_COUNT {
                    s.sm.requestq_count()
                } else {
                    s.sm.pendingq_count()
                };
                sum = sum.saturating_add(i64::from(n));
            }
        }
        sum
    }

    /// Card `config` writes: SCLP configure / deconfigure, then the flag and a CONFIG= uevent.
    pub(crate) fn card_config_store(&self, dev: &Dev, input: &[u8]) -> Result {
        let want = parse::parse_zero_one(input).map_err(parse_err)?;
        let apid = apqn_of(dev).apid;
        let mut st = dev.data().state.lock();
        let DevState::Card(c) = &mut *st else {
            return Err(EIO);
        };
        let r = if want && !c.config {
            self.facility.lock().get().sclp_configure(apid)
        } else if !want && c.config {
            self.facility.lock().get().sclp_deconfigure(apid)
        } else {
            Ok(())
        };
        r.map_err(|e| Error::from_errno(-e.errno()))?;
        c.config = want;
        drop(st);
        Self::config_uevent(dev, want);
        Ok(())
    }

    /// A card attribute.
    pub(crate) fn show_card(&self, dev: &Dev, id: u32, buf: &mut ShowBuf<'_>) -> Result {
        if id == card_attr::REQUESTQ_COUNT || id == card_attr::PENDINGQ_COUNT {
            // Sums over the card's queues: the scan mutex and the queues' locks come before
            // (and are of the same class as) this device's lock, so it is not held here.
            let sum = self.card_queue_sum(apqn_of(dev).apid, id);
            return writeln!(buf, "{}", sum).map_err(|_| EINVAL);
        }
        let st = dev.data().state.lock();
        let DevState::Card(c) = &*st else {
            return Err(EIO);
        };
        let r = match id {
            card_attr::HWTYPE => writeln!(buf, "{}", dev.device_type()),
            card_attr::RAW_HWTYPE => writeln!(buf, "{}", c.raw_type),
            card_attr::DEPTH => writeln!(buf, "{}", u32::from(c.hw.qd()) + 1),
            card_attr::AP_FUNCTIONS => text::write_ap_functions(buf, c.hw.fac()),
            card_attr::REQUEST_COUNT => writeln!(buf, "{}", c.request_count),
            card_attr::MODALIAS => {
                text::write_modalias(buf, u8::try_from(dev.device_type()).unwrap_or(0))
            }
            card_attr::CONFIG => writeln!(buf, "{}", u8::from(c.config)),
            card_attr::CHKSTOP => writeln!(buf, "{}", u8::from(c.chkstop)),
            card_attr::MAX_MSG_SIZE => writeln!(buf, "{}", c.hw.max_msg_size()),
            _ => return Err(EIO),
        };
        r.map_err(|_| EINVAL)
    }

    /// A card attribute write.
    pub(crate) fn store_card(&self, dev: &Dev, id: u32, input: &[u8]) -> Result {
        match id {
            card_attr::REQUEST_COUNT => {
                if let DevState::Card(c) = &mut *dev.data().state.lock() {
                    c.request_count = 0;
                }
                let apid = apqn_of(dev).apid;
                let table = self.scan.lock();
                for d in table.queues.iter().filter(|d| apqn_of(d).apid == apid) {
                    if let DevState::Queue(s) = &mut *d.data().state.lock() {
                        s.sm.reset_request_count();
                    }
                }
                Ok(())
            }
            card_attr::CONFIG => self.card_config_store(dev, input),
            _ => Err(EIO),
        }
    }
}
