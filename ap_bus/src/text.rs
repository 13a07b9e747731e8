// SPDX-License-Identifier: GPL-2.0
//! Sysfs text output: a bounded [`core::fmt::Write`] sink and the exact formats of the AP bus
//! attributes that are pure functions of their inputs.
//!
//! All `write_*` functions write into any [`fmt::Write`]; with a [`BufWriter`] they cannot
//! fail, so their `fmt::Result` is always `Ok` there.

use core::fmt;

use super::hw::{QciInfo, QciMask};
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

    /// Forgets the output (the buffer is kept).
    pub fn clear(&mut self) {
        self.len = 0;
        self.truncated = false;
    }
}

impl fmt::Write for BufWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len().saturating_sub(self.len);
        let n = s.len().min(room);
        if n < s.len() {
            self.truncated = true;
        }
        let end = self.len.saturating_add(n);
        if let (Some(dst), Some(src)) = (self.buf.get_mut(self.len..end), s.as_bytes().get(..n)) {
            dst.copy_from_slice(src);
            self.len = end;
        }
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
    }
}
