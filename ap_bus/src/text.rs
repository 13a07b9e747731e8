// SPDX-License-Identifier: GPL-2.0
//! Sysfs text output: a bounded [`core::fmt::Write`] sink and the exact formats of the AP bus
//! attributes that are pure functions of their inputs.
//!
//! All `write_*` functions write into any [`fmt::Write`]; with a [`BufWriter`] they cannot
//! fail, so their `fmt::Result` is always `Ok` there.

use core::fmt;

use super::hw::{QciInfo, QciMask, TapqHwInfo};
use super::mask::Mask;
use super::owner::PermMask;

/// `PAGE_SIZE - 1`: the most a chain of `sysfs_emit`/`sysfs_emit_at` calls returns (the
/// last byte of the page is kept for the terminating NUL).
pub const SYSFS_EMIT_MAX: usize = 4095;

/// A [`fmt::Write`] into a byte buffer that silently truncates at its capacity, like
/// `scnprintf`/`sysfs_emit`, and never fails.
#[derive(Debug)]
pub struct BufWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
    truncated: bool,
}

impl<'a> BufWriter<'a> {
    /// A writer that fills `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        BufWriter {
            buf,
            len: 0,
            truncated: false,
        }
    }

    /// A writer for a sysfs `show` page: like [`BufWriter::new`] but limited to
    /// [`SYSFS_EMIT_MAX`] bytes, so the byte count equals what `sysfs_emit` would return.
    pub fn sysfs(page: &'a mut [u8]) -> Self {
        let cap = page.len().min(SYSFS_EMIT_MAX);
        let (head, _) = page.split_at_mut(cap);
        BufWriter::new(head)
    }

    /// The number of bytes written.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Whether some output was dropped because the buffer was full.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// Appends raw bytes, truncating like [`fmt::Write::write_str`] does.
    pub fn write_bytes(&mut self, b: &[u8]) {
        let room = self.buf.get_mut(self.len..).unwrap_or_default();
        let n = b.len().min(room.len());
        if n < b.len() {
            self.truncated = true;
        }
        // Both slices have exactly `n` bytes, so the copy has no length-mismatch path.
        if let (Some(dst), Some(src)) = (room.get_mut(..n), b.get(..n)) {
            dst.copy_from_slice(src);
            self.len = self.len.saturating_add(n);
        }
    }

    /// Forgets the output (the buffer is kept).
    pub fn clear(&mut self) {
        self.len = 0;
        self.truncated = false;
    }
}

impl fmt::Write for BufWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

/// `apmask_show`/`aqmask_show`: `0x%016lx%016lx%016lx%016lx\n` (66 characters and `\n`).
pub fn write_mask_attr(w: &mut dyn fmt::Write, m: &Mask) -> fmt::Result {
    writeln!(w, "{m}")
}

/// `ap_adapter_mask`, `ap_usage_domain_mask`, `ap_control_domain_mask`:
/// `0x%08x%08x%08x%08x%08x%08x%08x%08x\n` of the QCI mask words, or `not supported\n` if QCI
/// is not available (`None` or `flags == 0`).
pub fn write_qci_mask_attr(
    w: &mut dyn fmt::Write,
    qci: Option<&QciInfo>,
    which: QciMask,
) -> fmt::Result {
    match qci {
        Some(q) if q.is_available() => {
            w.write_str("0x")?;
            for word in q.mask(which).to_be_words() {
                write!(w, "{word:08x}")?;
            }
            w.write_str("\n")
        }
        _ => w.write_str("not supported\n"),
    }
}

/// `features_show`: `-\n` without QCI; otherwise the words `APSC APXA QACT RC8A APSB` whose
/// flag is set, separated by one space, then `\n`. Quirk kept from C: if QCI is available but
/// none of the five flags is set, nothing at all is written (0 bytes).
pub fn write_features(w: &mut dyn fmt::Write, qci: Option<&QciInfo>) -> fmt::Result {
    let q = match qci {
        Some(q) if q.is_available() => q,
        _ => return w.write_str("-\n"),
    };
    let words = [
        (q.apsc(), "APSC"),
        (q.apxa(), "APXA"),
        (q.qact(), "QACT"),
        (q.rc8a(), "RC8A"),
        (q.apsb(), "APSB"),
    ];
    let mut any = false;
    for (on, word) in words {
        if on {
            if any {
                w.write_str(" ")?;
            }
            w.write_str(word)?;
            any = true;
        }
    }
    if any {
        w.write_str("\n")?;
    }
    Ok(())
}

/// `bindings_show`: `%u/%u (complete)\n` (bound/total queue devices) if at least one scan has
/// run (`scans >= 1`) and every queue device is bound, else `%u/%u\n`.
pub fn write_bindings(w: &mut dyn fmt::Write, bound: u32, total: u32, scans: u64) -> fmt::Result {
    if scans >= 1 && bound == total {
        writeln!(w, "{bound}/{total} (complete)")
    } else {
        writeln!(w, "{bound}/{total}")
    }
}

/// The environment string of the mask change uevent: `APMASK=0x<64 hex>\n` or
/// `AQMASK=0x<64 hex>\n` (the trailing newline is part of it, as in C).
pub fn write_mask_uevent(w: &mut dyn fmt::Write, which: PermMask, m: &Mask) -> fmt::Result {
    let name = match which {
        PermMask::Apmask => "APMASK",
        PermMask::Aqmask => "AQMASK",
    };
    writeln!(w, "{name}={m}")
}

/// Card and queue `ap_functions`: `0x%08X\n` (uppercase).
pub fn write_ap_functions(w: &mut dyn fmt::Write, fac: u32) -> fmt::Result {
    writeln!(w, "0x{fac:08X}")
}

/// Card `modalias`: `ap:t%02X\n` of the compatible device type.
pub fn write_modalias(w: &mut dyn fmt::Write, dev_type: u8) -> fmt::Result {
    writeln!(w, "ap:t{dev_type:02X}")
}

/// A sysfs `%d\n` line (`ap_domain`, `config_time`, `ap_max_domain_id`,
/// `ap_max_adapter_id`, ...).
pub fn write_d(w: &mut dyn fmt::Write, v: i32) -> fmt::Result {
    writeln!(w, "{v}")
}

/// A sysfs `%u\n` line.
pub fn write_u(w: &mut dyn fmt::Write, v: u32) -> fmt::Result {
    writeln!(w, "{v}")
}

/// A sysfs `%llu\n` (or `%lu\n`, 64 bits on s390) line.
pub fn write_llu(w: &mut dyn fmt::Write, v: u64) -> fmt::Result {
    writeln!(w, "{v}")
}

/// A sysfs flag as `%d\n` of `flag ? 1 : 0`.
pub fn write_flag(w: &mut dyn fmt::Write, flag: bool) -> fmt::Result {
    writeln!(w, "{}", u8::from(flag))
}

/// Card `hwtype`: `%d\n` of the compatible device type.
pub fn write_hwtype(w: &mut dyn fmt::Write, dev_type: u8) -> fmt::Result {
    write_d(w, i32::from(dev_type))
}

/// Card `raw_hwtype`: `%d\n` of the card's TAPQ `at`.
pub fn write_raw_hwtype(w: &mut dyn fmt::Write, card_hw: TapqHwInfo) -> fmt::Result {
    write_d(w, i32::from(card_hw.at()))
}

/// Card `depth`: `%d\n` of `qd + 1`.
pub fn write_depth(w: &mut dyn fmt::Write, card_hw: TapqHwInfo) -> fmt::Result {
    write_d(w, i32::from(card_hw.qd()).wrapping_add(1))
}

/// Card `ap_functions`: [`write_ap_functions`] of the card's masked facility bits (the low
/// 16 are always 0).
pub fn write_card_ap_functions(w: &mut dyn fmt::Write, card_hw: TapqHwInfo) -> fmt::Result {
    write_ap_functions(w, card_hw.card_part().fac())
}

/// Card `request_count`: `%llu\n` of the card's own counter (incremented for every request
/// queued on one of its queues). A write (any content) zeroes it and the `request_count`
/// of every queue of the card that is bound to a driver.
pub fn write_card_request_count(w: &mut dyn fmt::Write, count: u64) -> fmt::Result {
    write_llu(w, count)
}

/// Card `requestq_count` / `pendingq_count`: the `unsigned int` sum over the card's queues
/// that are bound to a driver, printed with `%d` (so above `INT_MAX` it reads negative).
pub fn write_card_queue_sum(w: &mut dyn fmt::Write, sum: u32) -> fmt::Result {
    write_d(w, i32::from_ne_bytes(sum.to_ne_bytes()))
}

/// Card and queue `config` and `chkstop`: `%d\n`, 0 or 1.
pub fn write_config(w: &mut dyn fmt::Write, on: bool) -> fmt::Result {
    write_flag(w, on)
}

/// Card `max_msg_size`: `%u\n` of [`TapqHwInfo::max_msg_size`] of the card's hwinfo.
pub fn write_max_msg_size(w: &mut dyn fmt::Write, card_hw: TapqHwInfo) -> fmt::Result {
    write_u(w, card_hw.max_msg_size())
}

/// Bus `ap_domain`: `%d\n` of the default domain index (-1 while none is chosen).
pub fn write_ap_domain(w: &mut dyn fmt::Write, index: i32) -> fmt::Result {
    write_d(w, index)
}

/// Bus `ap_interrupts`: `1\n` if the adapter interrupt is registered (`ap_irq_flag`).
pub fn write_ap_interrupts(w: &mut dyn fmt::Write, irq: bool) -> fmt::Result {
    write_flag(w, irq)
}

/// Bus `config_time`: `%d\n` seconds (default 30).
pub fn write_config_time(w: &mut dyn fmt::Write, seconds: i32) -> fmt::Result {
    write_d(w, seconds)
}

/// Bus `poll_thread`: `1\n` while the `appoll` thread exists.
pub fn write_poll_thread(w: &mut dyn fmt::Write, running: bool) -> fmt::Result {
    write_flag(w, running)
}

/// Bus `poll_timeout`: `%lu\n` of `poll_high_timeout` in ns.
pub fn write_poll_timeout(w: &mut dyn fmt::Write, ns: u64) -> fmt::Result {
    write_llu(w, ns)
}

/// Bus `ap_max_domain_id` / `ap_max_adapter_id`: `%d\n`.
pub fn write_max_id(w: &mut dyn fmt::Write, id: u8) -> fmt::Result {
    write_d(w, i32::from(id))
}

/// Bus `scans`: `%llu\n` of the scan counter.
pub fn write_scans(w: &mut dyn fmt::Write, scans: u64) -> fmt::Result {
    write_llu(w, scans)
}

/// Bus `bindings_complete_count`: `%llu\n`.
pub fn write_bindings_complete_count(w: &mut dyn fmt::Write, count: u64) -> fmt::Result {
    write_llu(w, count)
}

/// Queue `driver_override` (read): the override name and `\n`, or just `\n` when none is
/// set. The name is raw bytes (whatever was written, up to the first newline).
pub fn write_driver_override(w: &mut BufWriter<'_>, name: Option<&[u8]>) {
    w.write_bytes(name.unwrap_or(&[]));
    w.write_bytes(b"\n");
}

#[cfg(test)]
mod tests {
    use super::super::hw::{QCI_APSB, QCI_APSC, QCI_APXA, QCI_QACT, QCI_RC8A};
    use super::*;
    use core::fmt::Write;
    use std::format;
    use std::string::String;

    fn render(f: impl FnOnce(&mut dyn fmt::Write) -> fmt::Result) -> String {
        let mut s = String::new();
        f(&mut s).unwrap();
        s
    }

    #[test]
    fn bufwriter_truncates() {
        let mut b = [0u8; 5];
        let mut w = BufWriter::new(&mut b);
        assert!(w.is_empty());
        write!(w, "abc").unwrap();
        write!(w, "defg").unwrap();
        assert_eq!(w.len(), 5);
        assert!(w.truncated());
        assert_eq!(w.as_bytes(), b"abcde");
        write!(w, "x").unwrap();
        assert_eq!(w.as_bytes(), b"abcde");
        w.clear();
        assert!(w.is_empty() && !w.truncated());
        let mut page = [0u8; 4096];
        let mut w = BufWriter::sysfs(&mut page);
        assert_eq!(w.capacity(), 4095);
        for _ in 0..1000 {
            writeln!(w, "05.00ab").unwrap();
        }
        assert_eq!(w.len(), 4095);
        let mut z = [0u8; 0];
        let mut w = BufWriter::new(&mut z);
        write!(w, "x").unwrap();
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn mask_attr() {
        let s = render(|w| write_mask_attr(w, &Mask::FULL));
        assert_eq!(s, format!("0x{}\n", "f".repeat(64)));
        assert_eq!(s.len(), 67);
        let s = render(|w| write_mask_uevent(w, PermMask::Aqmask, &Mask::ZERO));
        assert_eq!(s, format!("AQMASK=0x{}\n", "0".repeat(64)));
        let s = render(|w| write_mask_uevent(w, PermMask::Apmask, &Mask::ZERO));
        assert!(s.starts_with("APMASK=0x"));
    }

    #[test]
    fn qci_mask_attr() {
        assert_eq!(
            render(|w| write_qci_mask_attr(w, None, QciMask::Apm)),
            "not supported\n"
        );
        let mut q = QciInfo::EMPTY;
        q.set_aqm(&Mask::from_ids(&[0, 255]));
        assert_eq!(
            render(|w| write_qci_mask_attr(w, Some(&q), QciMask::Aqm)),
            "not supported\n"
        );
        q.set_flags(QCI_APSC);
        let s = render(|w| write_qci_mask_attr(w, Some(&q), QciMask::Aqm));
        assert_eq!(s, format!("0x80{}01\n", "0".repeat(60)));
        let s = render(|w| write_qci_mask_attr(w, Some(&q), QciMask::Adm));
        assert_eq!(s, format!("0x{}\n", "0".repeat(64)));
    }

    #[test]
    fn features() {
        assert_eq!(render(|w| write_features(w, None)), "-\n");
        let mut q = QciInfo::EMPTY;
        assert_eq!(render(|w| write_features(w, Some(&q))), "-\n");
        q.set_flags(QCI_APSC | QCI_APXA | QCI_QACT | QCI_RC8A);
        assert_eq!(
            render(|w| write_features(w, Some(&q))),
            "APSC APXA QACT RC8A\n"
        );
        q.set_flags(QCI_APSB);
        assert_eq!(render(|w| write_features(w, Some(&q))), "APSB\n");
        q.set_flags(QCI_APSC | QCI_APXA | QCI_QACT | QCI_RC8A | QCI_APSB);
        assert_eq!(
            render(|w| write_features(w, Some(&q))),
            "APSC APXA QACT RC8A APSB\n"
        );
        // Flags set, but none of the five: 0 bytes.
        q.set_flags(0x0000_0001);
        assert_eq!(render(|w| write_features(w, Some(&q))), "");
    }

    #[test]
    fn bindings() {
        assert_eq!(render(|w| write_bindings(w, 3, 4, 1)), "3/4\n");
        assert_eq!(render(|w| write_bindings(w, 4, 4, 1)), "4/4 (complete)\n");
        assert_eq!(render(|w| write_bindings(w, 0, 0, 0)), "0/0\n");
        assert_eq!(render(|w| write_bindings(w, 0, 0, 7)), "0/0 (complete)\n");
    }

    #[test]
    fn card_formats() {
        assert_eq!(
            render(|w| write_ap_functions(w, 0x9080_0000)),
            "0x90800000\n"
        );
        assert_eq!(render(|w| write_ap_functions(w, 0xabcd)), "0x0000ABCD\n");
        assert_eq!(render(|w| write_modalias(w, 14)), "ap:t0E\n");
        let hw = TapqHwInfo(0)
            .with_cca(true)
            .with_apsc(true)
            .with_class(0x80)
            .with_bs(2)
            .with_at(14)
            .with_ml(8)
            .with_qd(31);
        assert_eq!(render(|w| write_hwtype(w, 13)), "13\n");
        assert_eq!(render(|w| write_raw_hwtype(w, hw)), "14\n");
        assert_eq!(render(|w| write_depth(w, hw)), "32\n");
        assert_eq!(render(|w| write_depth(w, hw.with_qd(0))), "1\n");
        assert_eq!(render(|w| write_card_ap_functions(w, hw)), "0x90800000\n");
        assert_eq!(render(|w| write_ap_functions(w, hw.fac())), "0x90808000\n");
        assert_eq!(
            render(|w| write_card_request_count(w, u64::MAX)),
            "18446744073709551615\n"
        );
        assert_eq!(render(|w| write_card_queue_sum(w, 7)), "7\n");
        assert_eq!(render(|w| write_card_queue_sum(w, u32::MAX)), "-1\n");
        assert_eq!(render(|w| write_config(w, true)), "1\n");
        assert_eq!(render(|w| write_config(w, false)), "0\n");
        assert_eq!(render(|w| write_max_msg_size(w, hw)), "32768\n");
        assert_eq!(render(|w| write_max_msg_size(w, hw.with_ml(3))), "12288\n");
    }

    #[test]
    fn bus_formats() {
        assert_eq!(render(|w| write_ap_domain(w, -1)), "-1\n");
        assert_eq!(render(|w| write_ap_domain(w, 5)), "5\n");
        assert_eq!(render(|w| write_ap_interrupts(w, false)), "0\n");
        assert_eq!(render(|w| write_config_time(w, 30)), "30\n");
        assert_eq!(render(|w| write_poll_thread(w, true)), "1\n");
        assert_eq!(render(|w| write_poll_timeout(w, 250_000)), "250000\n");
        assert_eq!(render(|w| write_max_id(w, 255)), "255\n");
        assert_eq!(render(|w| write_scans(w, 0)), "0\n");
        assert_eq!(render(|w| write_bindings_complete_count(w, 3)), "3\n");
        assert_eq!(render(|w| write_u(w, u32::MAX)), "4294967295\n");
        let mut page = [0u8; 4096];
        let mut w = BufWriter::sysfs(&mut page);
        write_driver_override(&mut w, None);
        assert_eq!(w.as_bytes(), b"\n");
        w.clear();
        write_driver_override(&mut w, Some(b"vfio_ap \xff"));
        assert_eq!(w.as_bytes(), b"vfio_ap \xff\n");
    }
}
