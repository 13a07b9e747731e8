// SPDX-License-Identifier: GPL-2.0
//! 256-bit masks in MSB0 bit order, as used for AP adapter and domain sets.
//!
//! Bit `n` lives in byte `n / 8` with the value `0x80 >> (n % 8)`. This is the byte order of
//! the QCI block masks (`unsigned int[8]`, big-endian) and of the kernel's `unsigned long[4]`
//! bitmaps accessed with `set_bit_inv`/`test_bit_inv` on big-endian s390, so the 32 bytes are
//! the mask exactly as the hardware and `/sys/bus/ap/apmask` show it.

use core::fmt;

/// A 256-bit set of AP ids (adapter ids or domain ids), MSB0 (see the module docs).
///
/// The all-zero value is the empty set.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Mask(pub [u8; 32]);

/// Byte index and bit value of id `n`.
const fn pos(n: u8) -> (usize, u8) {
    ((n >> 3) as usize, 0x80 >> (n & 7))
}

impl Mask {
    /// The empty set.
    pub const ZERO: Mask = Mask([0; 32]);
    /// The set of all 256 ids.
    pub const FULL: Mask = Mask([0xff; 32]);

    /// Builds a mask that holds exactly the ids in `ids`.
    pub fn from_ids(ids: &[u8]) -> Mask {
        let mut m = Mask::ZERO;
        for &id in ids {
            m.set(id);
        }
        m
    }

    /// Adds id `n` (`set_bit_inv`).
    pub const fn set(&mut self, n: u8) {
        let (i, v) = pos(n);
        self.0[i] |= v;
    }

    /// Removes id `n` (`clear_bit_inv`).
    pub const fn clear(&mut self, n: u8) {
        let (i, v) = pos(n);
        self.0[i] &= !v;
    }

    /// Sets or clears id `n`.
    pub const fn assign(&mut self, n: u8, on: bool) {
        if on {
            self.set(n);
        } else {
            self.clear(n);
        }
    }

    /// Whether id `n` is in the set (`test_bit_inv`).
    pub const fn test(&self, n: u8) -> bool {
        let (i, v) = pos(n);
        self.0[i] & v != 0
    }

    /// Adds (`on`) or removes the ids `a..=z`; nothing happens when `a > z`.
    const fn assign_range(&mut self, a: u8, z: u8, on: bool) {
        if a > z {
            return;
        }
        let mut n = a;
        loop {
            self.assign(n, on);
            if n == z {
                break;
            }
            // n < z <= 255 here, so this never wraps.
            n = n.wrapping_add(1);
        }
    }

    /// Adds the ids `a..=z`; nothing happens when `a > z`.
    pub const fn set_range(&mut self, a: u8, z: u8) {
        self.assign_range(a, z, true);
    }

    /// Removes the ids `a..=z`; nothing happens when `a > z`.
    pub const fn clear_range(&mut self, a: u8, z: u8) {
        self.assign_range(a, z, false);
    }

    /// The ids `0..=max`.
    pub const fn up_to(max: u8) -> Mask {
        let mut m = Mask::ZERO;
        m.set_range(0, max);
        m
    }

    /// The ids `a..=z` (empty when `a > z`).
    pub const fn range(a: u8, z: u8) -> Mask {
        let mut m = Mask::ZERO;
        m.set_range(a, z);
        m
    }

    /// The ids in the set, ascending.
    pub fn iter(&self) -> MaskIter {
        MaskIter {
            mask: *self,
            next: 0,
        }
    }

    /// The smallest id `>= from` that is in the set.
    pub fn next_set(&self, from: u8) -> Option<u8> {
        let mut byte = usize::from(from >> 3);
        // Ignore the bits before `from` in its byte.
        let mut bits = self.0.get(byte).copied().unwrap_or(0) & (0xff >> (from & 7));
        loop {
            if bits != 0 {
                // byte < 32: no wrapping.
                let n = byte
                    .wrapping_mul(8)
                    .wrapping_add(bits.leading_zeros() as usize);
                return u8::try_from(n).ok();
            }
            byte = byte.wrapping_add(1);
            bits = *self.0.get(byte)?;
        }
    }

    /// Intersection.
    pub fn and(&self, other: &Mask) -> Mask {
        let mut r = *self;
        for (a, b) in r.0.iter_mut().zip(other.0.iter()) {
            *a &= *b;
        }
        r
    }

    /// Union.
    pub fn or(&self, other: &Mask) -> Mask {
        let mut r = *self;
        for (a, b) in r.0.iter_mut().zip(other.0.iter()) {
            *a |= *b;
        }
        r
    }

    /// Difference: the ids in `self` but not in `other` (`bitmap_andnot`).
    pub fn and_not(&self, other: &Mask) -> Mask {
        let mut r = *self;
        for (a, b) in r.0.iter_mut().zip(other.0.iter()) {
            *a &= !*b;
        }
        r
    }

    /// Complement.
    pub fn not(&self) -> Mask {
        let mut r = *self;
        for a in r.0.iter_mut() {
            *a = !*a;
        }
        r
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&b| b == 0)
    }

    /// Whether all 256 ids are in the set.
    pub fn is_full(&self) -> bool {
        self.0.iter().all(|&b| b == 0xff)
    }

    /// Number of ids in the set.
    pub fn count(&self) -> u32 {
        // At most 256: the additions cannot wrap.
        self.0
            .iter()
            .fold(0u32, |n, b| n.wrapping_add(b.count_ones()))
    }

    /// Whether the two sets share an id.
    pub fn intersects(&self, other: &Mask) -> bool {
        self.0.iter().zip(other.0.iter()).any(|(a, b)| a & b != 0)
    }

    /// Whether every id of `self` is in `other`.
    pub fn is_subset_of(&self, other: &Mask) -> bool {
        self.0.iter().zip(other.0.iter()).all(|(a, b)| a & !b == 0)
    }

    /// The smallest id in the set.
    pub fn first(&self) -> Option<u8> {
        self.next_set(0)
    }

    /// The largest id in the set.
    pub fn last(&self) -> Option<u8> {
        let (i, b) = self.0.iter().enumerate().rev().find(|(_, b)| **b != 0)?;
        // i < 32 and b != 0 (so at most 7 trailing zeros): no wrapping happens.
        let n = i
            .wrapping_mul(8)
            .wrapping_add(7)
            .wrapping_sub(b.trailing_zeros() as usize);
        u8::try_from(n).ok()
    }

    /// From the QCI layout: eight 32-bit words, word `i` holds ids `32i..32i+31`, id `n` is
    /// the word bit `0x8000_0000 >> (n % 32)`.
    pub fn from_be_words(words: [u32; 8]) -> Mask {
        let mut m = Mask::ZERO;
        for (i, w) in words.iter().enumerate() {
            let at = i.wrapping_mul(4);
            if let Some(dst) = m.0.get_mut(at..at.wrapping_add(4)) {
                dst.copy_from_slice(&w.to_be_bytes());
            }
        }
        m
    }

    /// To the QCI layout (see [`Mask::from_be_words`]).
    pub fn to_be_words(&self) -> [u32; 8] {
        let mut w = [0u32; 8];
        for (i, o) in w.iter_mut().enumerate() {
            let at = i.wrapping_mul(4);
            if let Some(&[a, b, c, d]) = self.0.get(at..at.wrapping_add(4)) {
                *o = u32::from_be_bytes([a, b, c, d]);
            }
        }
        w
    }

    /// To the kernel's `unsigned long[4]` bitmap as `set_bit_inv` fills it: id `n` is word
    /// `n / 64`, value `1 << (63 - n % 64)`. These are the values `%016lx` prints.
    pub fn to_u64_words(&self) -> [u64; 4] {
        let mut w = [0u64; 4];
        for (i, o) in w.iter_mut().enumerate() {
            let at = i.wrapping_mul(8);
            if let Some(&[a, b, c, d, e, f, g, h]) = self.0.get(at..at.wrapping_add(8)) {
                *o = u64::from_be_bytes([a, b, c, d, e, f, g, h]);
            }
        }
        w
    }

    /// From the kernel's `unsigned long[4]` bitmap (see [`Mask::to_u64_words`]).
    pub fn from_u64_words(words: [u64; 4]) -> Mask {
        let mut m = Mask::ZERO;
        for (i, w) in words.iter().enumerate() {
            let at = i.wrapping_mul(8);
            if let Some(dst) = m.0.get_mut(at..at.wrapping_add(8)) {
                dst.copy_from_slice(&w.to_be_bytes());
            }
        }
        m
    }

    /// Displays the 64 lowercase hex digits without the `0x` prefix (the C format
    /// `%016lx%016lx%016lx%016lx`).
    pub fn no_prefix(&self) -> MaskDisplayNoPrefix<'_> {
        MaskDisplayNoPrefix(self)
    }
}

/// Iterator over the ids of a [`Mask`], ascending.
#[derive(Clone, Debug)]
pub struct MaskIter {
    mask: Mask,
    next: u16,
}

impl Iterator for MaskIter {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let from = u8::try_from(self.next).ok()?;
        match self.mask.next_set(from) {
            Some(n) => {
                self.next = u16::from(n) + 1;
                Some(n)
            }
            None => {
                self.next = 256;
                None
            }
        }
    }
}

/// `0x` followed by 64 lowercase hex digits: what `/sys/bus/ap/apmask` prints (without the
/// trailing newline).
impl fmt::Display for Mask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        fmt::Display::fmt(&self.no_prefix(), f)
    }
}

/// The 64 hex digits of a [`Mask`] without prefix, see [`Mask::no_prefix`].
#[derive(Clone, Copy, Debug)]
pub struct MaskDisplayNoPrefix<'a>(pub &'a Mask);

impl fmt::Display for MaskDisplayNoPrefix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 .0.iter() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::vec::Vec;

    #[test]
    fn bit_layout() {
        let mut m = Mask::ZERO;
        m.set(0);
        assert_eq!(m.0[0], 0x80);
        m.set(7);
        assert_eq!(m.0[0], 0x81);
        m.set(255);
        assert_eq!(m.0[31], 0x01);
        assert!(m.test(0) && m.test(7) && m.test(255) && !m.test(1));
        m.clear(0);
        assert_eq!(m.0[0], 0x01);
        assert_eq!(m.count(), 2);
    }

    #[test]
    fn words() {
        let mut m = Mask::ZERO;
        m.set(0);
        m.set(33);
        m.set(64);
        m.set(255);
        let w = m.to_be_words();
        assert_eq!(w[0], 0x8000_0000);
        assert_eq!(w[1], 0x4000_0000);
        assert_eq!(w[2], 0x8000_0000);
        assert_eq!(w[7], 0x0000_0001);
        assert_eq!(Mask::from_be_words(w), m);
        let u = m.to_u64_words();
        assert_eq!(u[0], (1u64 << 63) | (1u64 << (63 - 33)));
        assert_eq!(u[1], 1u64 << 63);
        assert_eq!(u[3], 1);
        assert_eq!(Mask::from_u64_words(u), m);
    }

    #[test]
    fn display() {
        let mut m = Mask::ZERO;
        m.set(0);
        let s = format!("{m}");
        assert_eq!(s.len(), 66);
        assert!(s.starts_with("0x80"));
        assert_eq!(format!("{}", Mask::FULL.no_prefix()), "f".repeat(64));
        assert_eq!(format!("{}", Mask::ZERO), format!("0x{}", "0".repeat(64)));
    }

    #[test]
    fn iter_and_ranges() {
        let mut m = Mask::ZERO;
        m.set_range(3, 9);
        m.set(200);
        m.set(255);
        let v: Vec<u8> = m.iter().collect();
        assert_eq!(v, [3, 4, 5, 6, 7, 8, 9, 200, 255]);
        assert_eq!(m.first(), Some(3));
        assert_eq!(m.last(), Some(255));
        assert_eq!(Mask::ZERO.first(), None);
        assert_eq!(Mask::ZERO.last(), None);
        assert_eq!(Mask::FULL.iter().count(), 256);
        m.clear_range(4, 8);
        assert_eq!(m.iter().collect::<Vec<_>>(), [3, 9, 200, 255]);
        let mut e = Mask::ZERO;
        e.set_range(9, 3);
        assert!(e.is_empty());
        assert_eq!(Mask::up_to(15).count(), 16);
        assert_eq!(Mask::up_to(255), Mask::FULL);
    }

    #[test]
    fn algebra() {
        let a = Mask::from_ids(&[1, 2, 3]);
        let b = Mask::from_ids(&[3, 4]);
        assert_eq!(a.and(&b), Mask::from_ids(&[3]));
        assert_eq!(a.or(&b), Mask::from_ids(&[1, 2, 3, 4]));
        assert_eq!(a.and_not(&b), Mask::from_ids(&[1, 2]));
        assert!(a.intersects(&b));
        assert!(!a.intersects(&Mask::from_ids(&[9])));
        assert!(Mask::from_ids(&[1, 3]).is_subset_of(&a));
        assert!(!b.is_subset_of(&a));
        assert!(a.not().not() == a && a.not().and(&a).is_empty());
        assert!(Mask::FULL.is_full() && !a.is_full());
        assert!(Mask::default().is_empty());
    }
}
