// SPDX-License-Identifier: GPL-2.0
//! The sysfs text of vfio_ap (vfio_ap_drv.c, vfio_ap_ops.c, drivers/vfio/mdev/mdev_sysfs.c,
//! Linux 7.3) and the texts of its log messages.
//!
//! (Named `vfio_text`, not `text`: the kernel module includes these files next to the `ap_bus`
//! model's, whose `text` module provides the [`BufWriter`](super::text::BufWriter) to write
//! into.) Every `write_*` function writes into any [`fmt::Write`]; for a `show` callback pass
//! `BufWriter::sysfs(page)`, which cuts the output at `PAGE_SIZE - 1` bytes as a chain of
//! `sysfs_emit_at` calls does (a cut line stays cut, as in C).

use core::fmt;

use super::ap_config::write_ap_config as write_ap_config_masks;
use super::ids::Apqn;
use super::mask::Mask;
use super::matrix::Matrix;

/// The root device: `/sys/devices/vfio_ap`.
pub const ROOT_DEVICE_NAME: &str = "vfio_ap";
/// The matrix device (and its bus): `/sys/devices/vfio_ap/matrix`, bus `matrix`.
pub const MATRIX_DEVICE_NAME: &str = "matrix";
/// The driver of the matrix device on bus `matrix`, and the AP queue driver.
pub const DRIVER_NAME: &str = "vfio_ap";
/// The mdev driver.
pub const MDEV_DRIVER_NAME: &str = "vfio_ap_mdev";
/// The mdev type's `sysfs_name`.
pub const MDEV_TYPE_SYSFS_NAME: &str = "passthrough";
/// The mdev type's directory under `mdev_supported_types`: `<driver>-<sysfs_name>`.
pub const MDEV_TYPE_DIR: &str = "vfio_ap-passthrough";
/// The mdev type's `pretty_name`.
pub const MDEV_TYPE_NAME: &str = "VFIO AP Passthrough Device";
/// `VFIO_DEVICE_API_AP_STRING`.
pub const DEVICE_API: &str = "vfio-ap";
/// `MAX_ZDEV_ENTRIES_EXT`: the mdev parent's `max_instances`, the first `available_instances`.
pub const MAX_INSTANCES: u32 = 65536;
/// The matrix device's `features`.
pub const FEATURES: &str = "guest_matrix hotplug ap_config\n";

/// The matrix device's `features`: `guest_matrix hotplug ap_config\n`.
pub fn write_features(w: &mut dyn fmt::Write) -> fmt::Result {
    w.write_str(FEATURES)
}

/// The mdev type's `name`: `VFIO AP Passthrough Device\n`.
pub fn write_type_name(w: &mut dyn fmt::Write) -> fmt::Result {
    writeln!(w, "{MDEV_TYPE_NAME}")
}

/// The mdev type's `device_api`: `vfio-ap\n`.
pub fn write_device_api(w: &mut dyn fmt::Write) -> fmt::Result {
    writeln!(w, "{DEVICE_API}")
}

/// The mdev type's `available_instances`: `%u\n` (the mdev core starts it at
/// [`MAX_INSTANCES`], decrements it on create and increments it on remove).
pub fn write_available_instances(w: &mut dyn fmt::Write, n: u32) -> fmt::Result {
    writeln!(w, "{n}")
}

/// `vfio_ap_mdev_matrix_show`, for `matrix` (the assigned matrix) and `guest_matrix` (the
/// shadow APCB): only ids up to the matrix's limits count. With adapters and domains,
/// `%02lx.%04lx\n` per APQN (APID outer, ascending); with adapters only `%02lx.\n` per APID;
/// with domains only `.%04lx\n` per APQI; else nothing.
pub fn write_matrix(w: &mut dyn fmt::Write, m: &Matrix) -> fmt::Result {
    let apm = m.apm.and(&Mask::up_to(m.limits.apm_max));
    let aqm = m.aqm.and(&Mask::up_to(m.limits.aqm_max));
    match (apm.is_empty(), aqm.is_empty()) {
        (false, false) => {
            for apid in apm.iter() {
                for apqi in aqm.iter() {
                    writeln!(w, "{apid:02x}.{apqi:04x}")?;
                }
            }
        }
        (false, true) => {
            for apid in apm.iter() {
                writeln!(w, "{apid:02x}.")?;
            }
        }
        (true, false) => {
            for apqi in aqm.iter() {
                writeln!(w, ".{apqi:04x}")?;
            }
        }
        (true, true) => {}
    }
    Ok(())
}

/// `guest_matrix_show`: [`write_matrix`] of the shadow APCB.
pub fn write_guest_matrix(w: &mut dyn fmt::Write, shadow: &Matrix) -> fmt::Result {
    write_matrix(w, shadow)
}

/// `control_domains_show`: `%04lx\n` per assigned control domain up to `adm_max`, ascending;
/// nothing if there is none.
pub fn write_control_domains(w: &mut dyn fmt::Write, m: &Matrix) -> fmt::Result {
    for id in m.adm.and(&Mask::up_to(m.limits.adm_max)).iter() {
        writeln!(w, "{id:04x}")?;
    }
    Ok(())
}

/// `ap_config_show` of the assigned matrix (201 bytes).
pub fn write_ap_config(w: &mut dyn fmt::Write, m: &Matrix) -> fmt::Result {
    write_ap_config_masks(w, &m.apm, &m.aqm, &m.adm)
}

/// The queue device's `status` attribute.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum QueueStatusAttr {
    /// `in use\n`.
    InUse,
    /// `assigned\n`.
    Assigned,
    /// `unassigned\n`.
    Unassigned,
}

impl QueueStatusAttr {
    /// The text without the newline.
    pub const fn as_str(self) -> &'static str {
        match self {
            QueueStatusAttr::InUse => "in use",
            QueueStatusAttr::Assigned => "assigned",
            QueueStatusAttr::Unassigned => "unassigned",
        }
    }
}

/// `status_show` (under `guests_lock` and `mdevs_lock`): `have_drvdata` is whether the queue's
/// `vfio_ap_queue` is set (not yet during a probe); `mdev` is the first mdev whose
/// **assigned** matrix contains `q` ([`super::matrix::mdev_for_apqn`]), as whether it has a
/// guest and its shadow APCB. `in use` if that mdev has a guest and `q` is in its shadow,
/// `assigned` if there is such an mdev otherwise, else `unassigned`.
pub fn queue_status(have_drvdata: bool, mdev: Option<(bool, &Matrix)>, q: Apqn) -> QueueStatusAttr {
    match mdev {
        Some((has_kvm, shadow)) if have_drvdata => {
            if has_kvm && shadow.contains(q) {
                QueueStatusAttr::InUse
            } else {
                QueueStatusAttr::Assigned
            }
        }
        _ => QueueStatusAttr::Unassigned,
    }
}

/// Writes a queue `status`: the text and `\n`.
pub fn write_queue_status(w: &mut dyn fmt::Write, s: QueueStatusAttr) -> fmt::Result {
    writeln!(w, "{}", s.as_str())
}

/// Writes a queue's `holder` (an ap-rs attribute, not in the C driver): the device name (UUID)
/// of the mdev whose assigned matrix contains the APQN and `\n`, or only `\n` when no mdev holds
/// it. It names the mdev an apmask/aqmask write was refused for (`in use by mdev`), from which
/// the APQN has to be unassigned first.
pub fn write_queue_holder(w: &mut dyn fmt::Write, holder: Option<&str>) -> fmt::Result {
    writeln!(w, "{}", holder.unwrap_or(""))
}

/// `MDEV_SHARING_ERR`, logged with `dev_warn` on the device of the mdev being written to, one
/// line per overlapping APQN: `Userspace may not assign queue %02lx.%04lx to mdev: already
/// assigned to %s` (`%s` the other mdev's device name, its UUID).
pub fn write_sharing_msg(w: &mut dyn fmt::Write, q: Apqn, other: &str) -> fmt::Result {
    write!(
        w,
        "Userspace may not assign queue {:02x}.{:04x} to mdev: already assigned to {other}",
        q.apid, q.apqi
    )
}

/// `MDEV_IN_USE_ERR`, logged with `dev_warn` on the device of the mdev that holds the APQN,
/// one line per APQN: `Can not reserve queue %02lx.%04lx for host driver: in use by mdev`.
pub fn write_in_use_msg(w: &mut dyn fmt::Write, q: Apqn) -> fmt::Result {
    write!(
        w,
        "Can not reserve queue {:02x}.{:04x} for host driver: in use by mdev",
        q.apid, q.apqi
    )
}

/// The notice of a long reset (`pr_notice_ratelimited`): `Waited %dms for reset of queue
/// %02x.%04x (%u, %u, %u)` with the TAPQ response code, E bit and I bit.
pub fn write_reset_wait_msg(
    w: &mut dyn fmt::Write,
    q: Apqn,
    n: &super::reset::BusyNotice,
) -> fmt::Result {
    write!(
        w,
        "Waited {}ms for reset of queue {:02x}.{:04x} ({}, {}, {})",
        n.elapsed_ms,
        q.apid,
        q.apqi,
        n.status.response_code(),
        u8::from(n.status.queue_empty()),
        u8::from(n.status.irq_enabled())
    )
}

#[cfg(test)]
mod tests {
    use super::super::ids::MatrixLimits;
    use super::super::text::BufWriter;
    use super::*;
    use std::string::String;

    fn render(f: impl FnOnce(&mut dyn fmt::Write) -> fmt::Result) -> String {
        let mut s = String::new();
        f(&mut s).unwrap();
        s
    }

    fn page(f: impl FnOnce(&mut dyn fmt::Write) -> fmt::Result) -> (usize, std::vec::Vec<u8>) {
        let mut buf = [0u8; 4096];
        let mut w = BufWriter::sysfs(&mut buf);
        f(&mut w).unwrap();
        (w.len(), w.as_bytes().to_vec())
    }

    fn mx(apm: &[u8], aqm: &[u8], adm: &[u8], max: (u8, u8, u8)) -> Matrix {
        Matrix {
            apm: Mask::from_ids(apm),
            aqm: Mask::from_ids(aqm),
            adm: Mask::from_ids(adm),
            limits: MatrixLimits {
                apm_max: max.0,
                aqm_max: max.1,
                adm_max: max.2,
            },
        }
    }

    #[test]
    fn fixed_texts() {
        assert_eq!(render(write_features), "guest_matrix hotplug ap_config\n");
        assert_eq!(render(write_type_name), "VFIO AP Passthrough Device\n");
        assert_eq!(render(write_device_api), "vfio-ap\n");
        assert_eq!(
            render(|w| write_available_instances(w, MAX_INSTANCES)),
            "65536\n"
        );
        assert_eq!(
            std::format!("{DRIVER_NAME}-{MDEV_TYPE_SYSFS_NAME}"),
            MDEV_TYPE_DIR
        );
    }

    #[test]
    fn matrix_formats() {
        let m = mx(&[5, 6], &[4, 0xab], &[], (255, 255, 255));
        assert_eq!(
            render(|w| write_matrix(w, &m)),
            "05.0004\n05.00ab\n06.0004\n06.00ab\n"
        );
        let m = mx(&[5, 6], &[], &[], (255, 255, 255));
        assert_eq!(render(|w| write_matrix(w, &m)), "05.\n06.\n");
        let m = mx(&[], &[0xab], &[], (255, 255, 255));
        assert_eq!(render(|w| write_matrix(w, &m)), ".00ab\n");
        let m = mx(&[], &[], &[1], (255, 255, 255));
        assert_eq!(render(|w| write_matrix(w, &m)), "");
        // Ids above the limits are not shown, and decide nothing.
        let m = mx(&[5, 70], &[20], &[], (63, 15, 15));
        assert_eq!(render(|w| write_matrix(w, &m)), "05.\n");
        assert_eq!(render(|w| write_guest_matrix(w, &m)), "05.\n");
    }

    #[test]
    fn matrix_cut_at_page() {
        let m = mx(&[0, 1, 2], &[], &[], (255, 255, 255));
        let mut m = m;
        m.aqm = Mask::FULL;
        // 768 lines of 8 bytes: cut at 4095 bytes, in the middle of line 512.
        let (n, b) = page(|w| write_matrix(w, &m));
        assert_eq!(n, 4095);
        assert_eq!(&b[4088..], b"01.00ff");
    }

    #[test]
    fn control_domains() {
        let m = mx(&[], &[], &[0, 0x54, 200], (255, 255, 84));
        assert_eq!(render(|w| write_control_domains(w, &m)), "0000\n0054\n");
        let m = mx(&[], &[], &[], (255, 255, 255));
        assert_eq!(render(|w| write_control_domains(w, &m)), "");
        let mut m = m;
        m.adm = Mask::FULL;
        let (n, _) = page(|w| write_control_domains(w, &m));
        assert_eq!(n, 256 * 5);
    }

    #[test]
    fn ap_config_of_matrix() {
        let m = mx(&[5, 6], &[4, 0xab], &[], (255, 255, 255));
        let s = render(|w| write_ap_config(w, &m));
        assert!(s.starts_with("0x0600"));
        assert_eq!(s.len(), 201);
    }

    #[test]
    fn queue_status_branches() {
        let q = Apqn::new(5, 4);
        let sh = mx(&[5], &[4], &[], (255, 255, 255));
        let other = mx(&[6], &[4], &[], (255, 255, 255));
        assert_eq!(
            queue_status(true, Some((true, &sh)), q),
            QueueStatusAttr::InUse
        );
        assert_eq!(
            queue_status(true, Some((false, &sh)), q),
            QueueStatusAttr::Assigned
        );
        assert_eq!(
            queue_status(true, Some((true, &other)), q),
            QueueStatusAttr::Assigned
        );
        assert_eq!(queue_status(true, None, q), QueueStatusAttr::Unassigned);
        assert_eq!(
            queue_status(false, Some((true, &sh)), q),
            QueueStatusAttr::Unassigned
        );
        for (s, t) in [
            (QueueStatusAttr::InUse, "in use\n"),
            (QueueStatusAttr::Assigned, "assigned\n"),
            (QueueStatusAttr::Unassigned, "unassigned\n"),
        ] {
            assert_eq!(render(|w| write_queue_status(w, s)), t);
        }
    }

    #[test]
    fn queue_holder_text() {
        assert_eq!(
            render(|w| write_queue_holder(w, Some("1b2ca4b0-0f6c-4a6e-9d5b-0c2f4e7a9b10"))),
            "1b2ca4b0-0f6c-4a6e-9d5b-0c2f4e7a9b10\n"
        );
        assert_eq!(render(|w| write_queue_holder(w, None)), "\n");
    }

    #[test]
    fn messages() {
        let q = Apqn::new(5, 0x54);
        assert_eq!(
            render(|w| write_in_use_msg(w, q)),
            "Can not reserve queue 05.0054 for host driver: in use by mdev"
        );
        assert_eq!(
            render(|w| write_sharing_msg(w, q, "62177883-f1bb-47f0-914d-32a22e3a8804")),
            "Userspace may not assign queue 05.0054 to mdev: already assigned to \
             62177883-f1bb-47f0-914d-32a22e3a8804"
        );
        let n = super::super::reset::BusyNotice {
            elapsed_ms: 40,
            status: super::super::hw::QueueStatus::new(2).with_irq(true),
        };
        assert_eq!(
            render(|w| write_reset_wait_msg(w, q, &n)),
            "Waited 40ms for reset of queue 05.0054 (2, 0, 1)"
        );
    }
}
