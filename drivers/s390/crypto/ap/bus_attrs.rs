// SPDX-License-Identifier: GPL-2.0

//! The bus attributes (`/sys/bus/ap/*`).

use core::sync::atomic::Ordering;
use kernel::prelude::*;

use crate::{
    abs::{
        ap_bus_ffi::ApBusApi,
        bus::ShowBuf, //
    },
    bus::{
        parse_err,
        ApBus, //
    },
    model::{
        hw::QciMask,
        owner::PermMask,
        parse,
        text, //
    }, //
};

/// Bus attribute ids.
pub(crate) mod attr {
    pub(crate) const AP_DOMAIN: u32 = 0;
    pub(crate) const AP_CONTROL_DOMAIN_MASK: u32 = 1;
    pub(crate) const AP_USAGE_DOMAIN_MASK: u32 = 2;
    pub(crate) const AP_ADAPTER_MASK: u32 = 3;
    pub(crate) const CONFIG_TIME: u32 = 4;
    pub(crate) const POLL_THREAD: u32 = 5;
    pub(crate) const AP_INTERRUPTS: u32 = 6;
    pub(crate) const POLL_TIMEOUT: u32 = 7;
    pub(crate) const AP_MAX_DOMAIN_ID: u32 = 8;
    pub(crate) const AP_MAX_ADAPTER_ID: u32 = 9;
    pub(crate) const APMASK: u32 = 10;
    pub(crate) const AQMASK: u32 = 11;
    pub(crate) const SCANS: u32 = 12;
    pub(crate) const BINDINGS: u32 = 13;
    pub(crate) const BINDINGS_COMPLETE_COUNT: u32 = 14;
    pub(crate) const FEATURES: u32 = 15;
}

impl ApBus {
    /// A bus attribute.
    pub(crate) fn show_bus_attr(&self, id: u32, buf: &mut ShowBuf<'_>) -> Result {
        use core::fmt::Write;
        let r = match id {
            attr::AP_DOMAIN => writeln!(buf, "{}", self.config.lock().domain),
            attr::AP_ADAPTER_MASK => self.show_qci_mask(buf, QciMask::Apm),
            attr::AP_USAGE_DOMAIN_MASK => self.show_qci_mask(buf, QciMask::Aqm),
            attr::AP_CONTROL_DOMAIN_MASK => self.show_qci_mask(buf, QciMask::Adm),
            attr::AP_INTERRUPTS => buf.write_str("0\n"),
            attr::CONFIG_TIME => writeln!(buf, "{}", self.config.lock().config_time),
            attr::POLL_THREAD => writeln!(buf, "{}", u8::from(self.config.lock().poll_thread)),
            attr::POLL_TIMEOUT => writeln!(buf, "{}", self.config.lock().poll_timeout),
            attr::AP_MAX_ADAPTER_ID => writeln!(buf, "{}", self.limits.max_apid),
            attr::AP_MAX_DOMAIN_ID => writeln!(buf, "{}", self.limits.max_apqi),
            attr::APMASK => text::write_mask_attr(buf, &self.perms_now().apm),
            attr::AQMASK => text::write_mask_attr(buf, &self.perms_now().aqm),
            attr::SCANS => writeln!(buf, "{}", self.scan_count.load(Ordering::Acquire)),
            attr::BINDINGS => {
                let (total, bound) = self.count_bindings();
                text::write_bindings(buf, bound, total, self.scan_count.load(Ordering::Acquire))
            }
            attr::BINDINGS_COMPLETE_COUNT => {
                writeln!(buf, "{}", self.bindings.lock().count())
            }
            attr::FEATURES => text::write_features(buf, self.config.lock().qci.as_ref()),
            _ => return Err(EIO),
        };
        r.map_err(|_| EINVAL)
    }

    /// A bus attribute write.
    pub(crate) fn store_bus_attr(&self, id: u32, input: &[u8]) -> Result {
        match id {
            attr::AP_DOMAIN => {
                let aqm = self.perms_now().aqm;
                let d =
                    parse::parse_ap_domain(input, self.limits.max_apqi, &aqm).map_err(parse_err)?;
                self.config.lock().domain = i32::from(d);
                Ok(())
            }
            attr::CONFIG_TIME => {
                let t = parse::parse_config_time(input).map_err(parse_err)?;
                let t = u32::try_from(t).map_err(|_| EINVAL)?;
                self.config.lock().config_time = t;
                self.schedule_scan(t.saturating_mul(1000));
                Ok(())
            }
            attr::POLL_THREAD => {
                let on = parse::kstrtobool(input).map_err(parse_err)?;
                self.config.lock().poll_thread = on;
                Ok(())
            }
            attr::POLL_TIMEOUT => {
                let t = parse::parse_poll_timeout(input).map_err(parse_err)?;
                self.config.lock().poll_timeout = t;
                Ok(())
            }
            attr::APMASK => self.store_mask(PermMask::Apmask, input),
            attr::AQMASK => self.store_mask(PermMask::Aqmask, input),
            attr::SCANS => {
                self.force_rescan();
                Ok(())
            }
            _ => Err(EIO),
        }
    }

    pub(crate) fn show_qci_mask(&self, buf: &mut ShowBuf<'_>, which: QciMask) -> core::fmt::Result {
        let qci = self.config.lock().qci;
        text::write_qci_mask_attr(buf, qci.as_ref(), which)
    }
}

crate::bus_attribute_table!(pub(crate) fn ap_bus_groups for ApBus {
    (c"ap_domain", 0o644, attr::AP_DOMAIN),
    (c"ap_control_domain_mask", 0o444, attr::AP_CONTROL_DOMAIN_MASK),
    (c"ap_usage_domain_mask", 0o444, attr::AP_USAGE_DOMAIN_MASK),
    (c"ap_adapter_mask", 0o444, attr::AP_ADAPTER_MASK),
    (c"config_time", 0o644, attr::CONFIG_TIME),
    (c"poll_thread", 0o644, attr::POLL_THREAD),
    (c"ap_interrupts", 0o444, attr::AP_INTERRUPTS),
    (c"poll_timeout", 0o644, attr::POLL_TIMEOUT),
    (c"ap_max_domain_id", 0o444, attr::AP_MAX_DOMAIN_ID),
    (c"ap_max_adapter_id", 0o444, attr::AP_MAX_ADAPTER_ID),
    (c"apmask", 0o644, attr::APMASK),
    (c"aqmask", 0o644, attr::AQMASK),
    (c"scans", 0o644, attr::SCANS),
    (c"bindings", 0o444, attr::BINDINGS),
    (c"bindings_complete_count", 0o444, attr::BINDINGS_COMPLETE_COUNT),
    (c"features", 0o444, attr::FEATURES),
});
