// SPDX-License-Identifier: GPL-2.0
//! The guest's crypto control block as the simulated guest stores it: the 0x100 bytes of
//! `struct kvm_s390_crypto_cb` (arch/s390/include/asm/kvm_host_s390.h), big-endian, and what
//! `kvm_arch_crypto_set_masks`, `kvm_arch_crypto_clear_masks` and
//! `kvm_s390_set_crycb_format` (arch/s390/kvm/s390/s390.c, Linux 7.3) do with it.
//!
//! Layout: APCB0 at 0x00 (APM u64 at 0x00, AQM u64 at 0x08, ADM u64 at 0x10, reserved u64 at
//! 0x18), reserved 0x20-0x47, DEA wrapping key mask (24 bytes) at 0x48, AES wrapping key mask
//! (32 bytes) at 0x60, APCB1 at 0x80 (`APM[4]` at 0x80, `AQM[4]` at 0xA0, `ADM[4]` at 0xC0,
//! `reserved[4]` at 0xE0). Bit n of a mask is MSB0: byte n / 8, value `0x80 >> (n % 8)`, the
//! byte order of [`Mask`], so the kernel's `memcpy` of the host bitmaps is a byte copy here.

use super::mask::Mask;

/// `sizeof(struct kvm_s390_crypto_cb)`.
pub const CRYCB_SIZE: usize = 0x100;
/// Offset of APCB0.
pub const APCB0: usize = 0x00;
/// Size of APCB0.
pub const APCB0_SIZE: usize = 0x20;
/// Offset of APCB1.
pub const APCB1: usize = 0x80;
/// Size of APCB1.
pub const APCB1_SIZE: usize = 0x80;
/// Offset of the APCB0 APM (u64).
pub const APCB0_APM: usize = 0x00;
/// Offset of the APCB0 AQM (u64).
pub const APCB0_AQM: usize = 0x08;
/// Offset of the APCB0 ADM (u64).
pub const APCB0_ADM: usize = 0x10;
/// Offset of the DEA wrapping key mask (24 bytes).
pub const DEA_WRAPPING_KEY_MASK: usize = 0x48;
/// Offset of the AES wrapping key mask (32 bytes).
pub const AES_WRAPPING_KEY_MASK: usize = 0x60;
/// Offset of the APCB1 APM (`u64[4]`).
pub const APCB1_APM: usize = 0x80;
/// Offset of the APCB1 AQM (`u64[4]`).
pub const APCB1_AQM: usize = 0xA0;
/// Offset of the APCB1 ADM (`u64[4]`).
pub const APCB1_ADM: usize = 0xC0;

/// `CRYCB_FORMAT_MASK`: the format bits of the CRYCB designation (`crycbd`).
pub const CRYCB_FORMAT_MASK: u32 = 3;

/// The CRYCB format (the low bits of `crycbd`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CrycbFormat {
    /// `CRYCB_FORMAT0` (0): no MSAX3. APCB0: APIDs 0-63, APQIs and control domains 0-15.
    Format0,
    /// `CRYCB_FORMAT1` (1): MSAX3 without APXA. APCB0 as format 0.
    Format1,
    /// `CRYCB_FORMAT2` (**3**): MSAX3 and APXA. APCB1: 256-bit masks.
    Format2,
}

impl CrycbFormat {
    /// `kvm_s390_set_crycb_format`: format 0 without MSAX3 (facility 76) in the guest, else
    /// format 2 if the host's QCI reports APXA (`kvm_s390_apxa_installed`: AP instructions
    /// present, QCI succeeded and its N bit set), else format 1.
    pub const fn select(msax3: bool, host_apxa: bool) -> CrycbFormat {
        if !msax3 {
            CrycbFormat::Format0
        } else if host_apxa {
            CrycbFormat::Format2
        } else {
            CrycbFormat::Format1
        }
    }

    /// The value of the format bits (`CRYCB_FORMAT0/1/2` = 0, 1, 3).
    pub const fn bits(self) -> u32 {
        match self {
            CrycbFormat::Format0 => 0,
            CrycbFormat::Format1 => 1,
            CrycbFormat::Format2 => 3,
        }
    }

    /// The format of a CRYCB designation; `None` for the bit value 2, which no format uses
    /// (`kvm_arch_crypto_set_masks` then copies nothing).
    pub const fn from_crycbd(crycbd: u32) -> Option<CrycbFormat> {
        match crycbd & CRYCB_FORMAT_MASK {
            0 => Some(CrycbFormat::Format0),
            1 => Some(CrycbFormat::Format1),
            3 => Some(CrycbFormat::Format2),
            _ => None,
        }
    }

    /// Whether the guest has APXA (`crycbd & 0x02`, as KVM's `handle_pqap` tests it): only
    /// format 2.
    pub const fn apxa(self) -> bool {
        self.bits() & 2 != 0
    }
}

/// The 0x100-byte crypto control block.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Crycb(pub [u8; CRYCB_SIZE]);

impl Default for Crycb {
    fn default() -> Self {
        Crycb::ZERO
    }
}

impl Crycb {
    /// The all-zero block.
    pub const ZERO: Crycb = Crycb([0; CRYCB_SIZE]);

    /// Copies the first `n` bytes of `m` to `off` (never out of bounds for the offsets used).
    fn put(&mut self, off: usize, m: &Mask, n: usize) {
        let end = off.saturating_add(n);
        if let (Some(dst), Some(src)) = (self.0.get_mut(off..end), m.0.get(..n)) {
            dst.copy_from_slice(src);
        }
    }

    /// Reads `n` bytes at `off` into the first bytes of a mask (the rest zero).
    fn get(&self, off: usize, n: usize) -> Mask {
        let mut m = Mask::ZERO;
        let end = off.saturating_add(n);
        if let (Some(dst), Some(src)) = (m.0.get_mut(..n), self.0.get(off..end)) {
            dst.copy_from_slice(src);
        }
        m
    }

    /// `kvm_arch_crypto_set_masks`: format 2 copies the 32 bytes of each mask into APCB1;
    /// formats 0 and 1 copy the first 8 bytes of `apm` and the first **2** bytes of `aqm` and
    /// `adm` into the first bytes of the APCB0 words (higher ids are silently dropped, the other
    /// bytes of those words are left as they are). The other APCB is not touched.
    pub fn set_masks(&mut self, format: CrycbFormat, apm: &Mask, aqm: &Mask, adm: &Mask) {
        match format {
            CrycbFormat::Format2 => {
                self.put(APCB1_APM, apm, 32);
                self.put(APCB1_AQM, aqm, 32);
                self.put(APCB1_ADM, adm, 32);
            }
            CrycbFormat::Format0 | CrycbFormat::Format1 => {
                self.put(APCB0_APM, apm, 8);
                self.put(APCB0_AQM, aqm, 2);
                self.put(APCB0_ADM, adm, 2);
            }
        }
    }

    /// [`Crycb::set_masks`] with the format taken from a CRYCB designation; the undefined
    /// format value 2 copies nothing (the C `default:` case).
    pub fn set_masks_crycbd(&mut self, crycbd: u32, apm: &Mask, aqm: &Mask, adm: &Mask) {
        if let Some(f) = CrycbFormat::from_crycbd(crycbd) {
            self.set_masks(f, apm, aqm, adm);
        }
    }

    /// `kvm_arch_crypto_clear_masks`: zeroes all of APCB0 and APCB1 (the wrapping key masks
    /// stay).
    pub fn clear_masks(&mut self) {
        for (i, b) in self.0.iter_mut().enumerate() {
            if (APCB0..APCB0 + APCB0_SIZE).contains(&i) || (APCB1..APCB1 + APCB1_SIZE).contains(&i)
            {
                *b = 0;
            }
        }
    }

    /// The masks the guest sees in the given format, as `(apm, aqm, adm)`: APCB1's 256-bit
    /// masks for format 2; for formats 0 and 1 the APCB0 APM word (APIDs 0-63) and the first
    /// 16 bits of the AQM and ADM words (ids 0-15, the bits the architecture defines; KVM's
    /// vSIE shadow masks the words with `0xffff000000000000` the same way).
    pub fn masks(&self, format: CrycbFormat) -> (Mask, Mask, Mask) {
        match format {
            CrycbFormat::Format2 => (
                self.get(APCB1_APM, 32),
                self.get(APCB1_AQM, 32),
                self.get(APCB1_ADM, 32),
            ),
            CrycbFormat::Format0 | CrycbFormat::Format1 => (
                self.get(APCB0_APM, 8),
                self.get(APCB0_AQM, 2),
                self.get(APCB0_ADM, 2),
            ),
        }
    }

    /// What [`Crycb::set_masks`] keeps of a mask triple in `format`: everything for format 2;
    /// APIDs 0-63 and APQIs/control domains 0-15 for formats 0 and 1.
    pub fn representable(
        format: CrycbFormat,
        apm: &Mask,
        aqm: &Mask,
        adm: &Mask,
    ) -> (Mask, Mask, Mask) {
        match format {
            CrycbFormat::Format2 => (*apm, *aqm, *adm),
            CrycbFormat::Format0 | CrycbFormat::Format1 => (
                apm.and(&Mask::up_to(63)),
                aqm.and(&Mask::up_to(15)),
                adm.and(&Mask::up_to(15)),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[u8]) -> Mask {
        Mask::from_ids(v)
    }

    #[test]
    fn format_selection() {
        assert_eq!(CrycbFormat::select(false, false), CrycbFormat::Format0);
        assert_eq!(CrycbFormat::select(false, true), CrycbFormat::Format0);
        assert_eq!(CrycbFormat::select(true, false), CrycbFormat::Format1);
        assert_eq!(CrycbFormat::select(true, true), CrycbFormat::Format2);
        assert_eq!(CrycbFormat::Format2.bits(), 3);
        assert_eq!(
            CrycbFormat::from_crycbd(0x1234_5603),
            Some(CrycbFormat::Format2)
        );
        assert_eq!(
            CrycbFormat::from_crycbd(0x1234_5601),
            Some(CrycbFormat::Format1)
        );
        assert_eq!(
            CrycbFormat::from_crycbd(0x1234_5600),
            Some(CrycbFormat::Format0)
        );
        assert_eq!(CrycbFormat::from_crycbd(2), None);
        assert!(CrycbFormat::Format2.apxa());
        assert!(!CrycbFormat::Format1.apxa() && !CrycbFormat::Format0.apxa());
    }

    #[test]
    fn format2_layout() {
        let mut c = Crycb::ZERO;
        c.set_masks(
            CrycbFormat::Format2,
            &ids(&[0, 255]),
            &ids(&[1]),
            &ids(&[64]),
        );
        assert_eq!(c.0[0x80], 0x80);
        assert_eq!(c.0[0x9f], 0x01);
        assert_eq!(c.0[0xa0], 0x40);
        assert_eq!(c.0[0xc8], 0x80);
        // APCB0 untouched.
        assert!(c.0[..0x80].iter().all(|&b| b == 0));
        assert!(c.0[0xe0..].iter().all(|&b| b == 0));
        assert_eq!(
            c.masks(CrycbFormat::Format2),
            (ids(&[0, 255]), ids(&[1]), ids(&[64]))
        );
    }

    #[test]
    fn format0_layout_truncates() {
        let mut c = Crycb::ZERO;
        c.0[0x0a] = 0x55; // a byte of the AQM word C does not write
        c.set_masks(
            CrycbFormat::Format1,
            &ids(&[0, 63, 64]),
            &ids(&[0, 15, 16]),
            &ids(&[7, 200]),
        );
        assert_eq!(&c.0[0..8], &[0x80, 0, 0, 0, 0, 0, 0, 0x01]);
        assert_eq!(&c.0[8..11], &[0x80, 0x01, 0x55]);
        assert_eq!(&c.0[0x10..0x12], &[0x01, 0x00]);
        assert!(c.0[0x80..].iter().all(|&b| b == 0));
        let (a, q, d) = c.masks(CrycbFormat::Format0);
        assert_eq!(a, ids(&[0, 63]));
        assert!(q.test(0) && q.test(15) && !q.test(16));
        assert_eq!(d, ids(&[7]));
    }

    #[test]
    fn clear_keeps_wrapping_keys() {
        let mut c = Crycb([0xff; CRYCB_SIZE]);
        c.clear_masks();
        assert!(c.0[..0x20].iter().all(|&b| b == 0));
        assert!(c.0[0x20..0x80].iter().all(|&b| b == 0xff));
        assert!(c.0[0x80..].iter().all(|&b| b == 0));
    }

    #[test]
    fn undefined_format_copies_nothing() {
        let mut c = Crycb::ZERO;
        c.set_masks_crycbd(0x1000_0002, &Mask::FULL, &Mask::FULL, &Mask::FULL);
        assert_eq!(c, Crycb::ZERO);
        c.set_masks_crycbd(0x1000_0003, &Mask::FULL, &Mask::ZERO, &Mask::ZERO);
        assert_eq!(c.masks(CrycbFormat::Format2).0, Mask::FULL);
    }

    #[test]
    fn representable_masks() {
        let (a, q, d) =
            Crycb::representable(CrycbFormat::Format0, &Mask::FULL, &Mask::FULL, &Mask::FULL);
        assert_eq!((a.count(), q.count(), d.count()), (64, 16, 16));
    }
}
