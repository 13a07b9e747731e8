// SPDX-License-Identifier: GPL-2.0
//! AP instruction data layouts (`arch/s390/include/asm/ap.h`, `drivers/s390/crypto/ap_bus.h`).
//!
//! All layouts are as the architecture defines them: big-endian, bit 0 is the most
//! significant bit ("MSB0"). The newtypes hold the raw register or block value, so they can be
//! passed to and from the real instructions unchanged.

use super::mask::Mask;

/// AP response codes (`AP_RESPONSE_*`), the status word bits 8-15.
pub mod rc {
    /// Normal completion.
    pub const NORMAL: u8 = 0x00;
    /// APQN invalid or not in the configuration.
    pub const Q_NOT_AVAIL: u8 = 0x01;
    /// A reset is in progress.
    pub const RESET_IN_PROGRESS: u8 = 0x02;
    /// The adapter is deconfigured (standby).
    pub const DECONFIGURED: u8 = 0x03;
    /// The adapter is checkstopped.
    pub const CHECKSTOPPED: u8 = 0x04;
    /// Busy.
    pub const BUSY: u8 = 0x05;
    /// Invalid address (e.g. the notification indicator byte of AQIC).
    pub const INVALID_ADDRESS: u8 = 0x06;
    /// Otherwise changed (AQIC: interruption already in the requested state).
    pub const OTHERWISE_CHANGED: u8 = 0x07;
    /// Invalid GISA.
    pub const INVALID_GISA: u8 = 0x08;
    /// SE: queue bound to another guest.
    pub const Q_BOUND_TO_ANOTHER: u8 = 0x09;
    /// State change in progress.
    pub const STATE_CHANGE_IN_PROGRESS: u8 = 0x0A;
    /// SE: queue not bound.
    pub const Q_NOT_BOUND: u8 = 0x0B;
    /// NQAP: queue full.
    pub const Q_FULL: u8 = 0x10;
    /// DQAP: no pending reply (same value as [`Q_FULL`]).
    pub const NO_PENDING_REPLY: u8 = 0x10;
    /// Index too big.
    pub const INDEX_TOO_BIG: u8 = 0x11;
    /// No first part.
    pub const NO_FIRST_PART: u8 = 0x13;
    /// Message too big.
    pub const MESSAGE_TOO_BIG: u8 = 0x15;
    /// Required facility not installed.
    pub const REQ_FAC_NOT_INST: u8 = 0x16;
    /// SE: bind error.
    pub const Q_BIND_ERROR: u8 = 0x30;
    /// SE: queue not available for association.
    pub const Q_NOT_AVAIL_FOR_ASSOC: u8 = 0x31;
    /// SE: queue not empty.
    pub const Q_NOT_EMPTY: u8 = 0x32;
    /// SE: bind limit exceeded.
    pub const BIND_LIMIT_EXCEEDED: u8 = 0x33;
    /// SE: invalid association secret.
    pub const INVALID_ASSOC_SECRET: u8 = 0x34;
    /// SE: association secret not unique.
    pub const ASSOC_SECRET_NOT_UNIQUE: u8 = 0x35;
    /// SE: association failed.
    pub const ASSOC_FAILED: u8 = 0x36;
    /// Invalid domain.
    pub const INVALID_DOMAIN: u8 = 0x42;
    /// Kernel-synthetic: DQAP reply only partially received.
    pub const PARTIAL_REPLY: u8 = 0xFF;
}

/// `AP_DEVICE_TYPE_CEX4`.
pub const AP_DEVICE_TYPE_CEX4: u8 = 10;
/// `AP_DEVICE_TYPE_CEX5`.
pub const AP_DEVICE_TYPE_CEX5: u8 = 11;
/// `AP_DEVICE_TYPE_CEX6`.
pub const AP_DEVICE_TYPE_CEX6: u8 = 12;
/// `AP_DEVICE_TYPE_CEX7`.
pub const AP_DEVICE_TYPE_CEX7: u8 = 13;
/// `AP_DEVICE_TYPE_CEX8`, the newest type the bus knows.
pub const AP_DEVICE_TYPE_CEX8: u8 = 14;

/// `TAPQ_CARD_HWINFO_MASK` of Linux 7.3 (ap_bus.h): the TAPQ GR2 bits a card keeps
/// (facility bits 0-15, type, nd, ml and the 5-bit qd; bs and facility bits 16-31 are
/// cleared).
pub const CARD_HWINFO_MASK: u64 = 0xFFFF_0000_FFFF_0F1F;

/// `AP_DEFAULT_MAX_MSG_SIZE` (12 KiB).
pub const AP_DEFAULT_MAX_MSG_SIZE: u32 = 12 * 1024;
/// `AP_TAPQ_ML_FIELD_CHUNK_SIZE` (4 KiB).
pub const AP_TAPQ_ML_FIELD_CHUNK_SIZE: u32 = 4096;

/// Bit `n` (MSB0) of a 32-bit word (0 for `n >= 32`).
const fn bit32(n: u32) -> u32 {
    match 0x8000_0000u32.checked_shr(n) {
        Some(b) => b,
        None => 0,
    }
}

/// Bit `n` (MSB0) of a 64-bit word (0 for `n >= 64`).
const fn bit64(n: u32) -> u64 {
    match 0x8000_0000_0000_0000u64.checked_shr(n) {
        Some(b) => b,
        None => 0,
    }
}

/// Extracts `width` bits whose least significant bit is `shift` bits from the right.
const fn field64(v: u64, shift: u32, width: u32) -> u64 {
    (v >> shift) & ((1u64 << width) - 1)
}

/// Replaces `width` bits at `shift` (see [`field64`]) by `val` (excess bits are dropped).
const fn with_field64(v: u64, shift: u32, width: u32, val: u64) -> u64 {
    let m = ((1u64 << width) - 1) << shift;
    (v & !m) | ((val << shift) & m)
}

const fn with_bit64(v: u64, n: u32, on: bool) -> u64 {
    if on {
        v | bit64(n)
    } else {
        v & !bit64(n)
    }
}

const fn with_bit32(v: u32, n: u32, on: bool) -> u32 {
    if on {
        v | bit32(n)
    } else {
        v & !bit32(n)
    }
}

/// The AP queue status word (`struct ap_queue_status`, the low 32 bits of GR1): bit 0 E
/// (queue empty), 1 R (replies waiting), 2 F (queue full), 6 A (asynchronous error pending),
/// 7 I (interrupts enabled), 8-15 response code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct QueueStatus(pub u32);

impl QueueStatus {
    /// A status with response code `rc` and all flag bits clear.
    pub const fn new(rc: u8) -> Self {
        QueueStatus((rc as u32) << 16)
    }

    /// E: the queue is empty.
    pub const fn queue_empty(self) -> bool {
        self.0 & bit32(0) != 0
    }

    /// R: replies are waiting.
    pub const fn replies_waiting(self) -> bool {
        self.0 & bit32(1) != 0
    }

    /// F: the queue is full.
    pub const fn queue_full(self) -> bool {
        self.0 & bit32(2) != 0
    }

    /// A: an asynchronous error is pending.
    pub const fn async_pending(self) -> bool {
        self.0 & bit32(6) != 0
    }

    /// I: interrupts are enabled.
    pub const fn irq_enabled(self) -> bool {
        self.0 & bit32(7) != 0
    }

    /// The 8-bit response code (see [`rc`]).
    pub const fn response_code(self) -> u8 {
        (self.0 >> 16) as u8
    }

    /// The status bits (bits 0-7).
    pub const fn status_bits(self) -> u8 {
        (self.0 >> 24) as u8
    }

    /// With E set or cleared.
    pub const fn with_empty(self, on: bool) -> Self {
        QueueStatus(with_bit32(self.0, 0, on))
    }

    /// With R set or cleared.
    pub const fn with_replies_waiting(self, on: bool) -> Self {
        QueueStatus(with_bit32(self.0, 1, on))
    }

    /// With F set or cleared.
    pub const fn with_full(self, on: bool) -> Self {
        QueueStatus(with_bit32(self.0, 2, on))
    }

    /// With A set or cleared.
    pub const fn with_async(self, on: bool) -> Self {
        QueueStatus(with_bit32(self.0, 6, on))
    }

    /// With I set or cleared.
    pub const fn with_irq(self, on: bool) -> Self {
        QueueStatus(with_bit32(self.0, 7, on))
    }

    /// With another response code.
    pub const fn with_rc(self, rc: u8) -> Self {
        QueueStatus((self.0 & !0x00ff_0000) | ((rc as u32) << 16))
    }

    /// Whether TAPQ delivers valid GR2 information with this status (`ap_queue_info`): the
    /// response codes 0x00, 0x02, 0x03, 0x04, 0x05, or any code while A is set.
    pub const fn has_tapq_info(self) -> bool {
        matches!(
            self.response_code(),
            rc::NORMAL | rc::RESET_IN_PROGRESS | rc::DECONFIGURED | rc::CHECKSTOPPED | rc::BUSY
        ) || self.async_pending()
    }
}

/// Operating mode of a crypto adapter, from the TAPQ facility bits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Mode {
    /// Accelerator (facility bit A).
    Accel,
    /// CCA coprocessor (facility bit D).
    Cca,
    /// EP11 coprocessor (facility bit X).
    Ep11,
}

impl Mode {
    /// The word used in `MODE=` uevents: `accel`, `cca` or `ep11`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::Accel => "accel",
            Mode::Cca => "cca",
            Mode::Ep11 => "ep11",
        }
    }

    /// The inverse of [`Mode::as_str`].
    pub fn from_bytes(s: &[u8]) -> Option<Mode> {
        match s {
            b"accel" => Some(Mode::Accel),
            b"cca" => Some(Mode::Cca),
            b"ep11" => Some(Mode::Ep11),
            _ => None,
        }
    }

    /// The type letter zcrypt appends to `CEXn`: `A`, `C` or `P`.
    pub const fn letter(self) -> char {
        match self {
            Mode::Accel => 'A',
            Mode::Cca => 'C',
            Mode::Ep11 => 'P',
        }
    }
}

/// zcrypt's card `type` string (`zc->type_string`, zcrypt_cex4.c), e.g. `CEX8C`, for the
/// compatible device type `at`. Like zcrypt, every type other than 10..=13 is named CEX8.
pub const fn type_name(at: u8, mode: Mode) -> &'static str {
    let i = match at {
        AP_DEVICE_TYPE_CEX4 => 0,
        AP_DEVICE_TYPE_CEX5 => 1,
        AP_DEVICE_TYPE_CEX6 => 2,
        AP_DEVICE_TYPE_CEX7 => 3,
        _ => 4,
    };
    const ACCEL: [&str; 5] = ["CEX4A", "CEX5A", "CEX6A", "CEX7A", "CEX8A"];
    const CCA: [&str; 5] = ["CEX4C", "CEX5C", "CEX6C", "CEX7C", "CEX8C"];
    const EP11: [&str; 5] = ["CEX4P", "CEX5P", "CEX6P", "CEX7P", "CEX8P"];
    match mode {
        Mode::Accel => ACCEL[i],
        Mode::Cca => CCA[i],
        Mode::Ep11 => EP11[i],
    }
}

/// TAPQ GR2 (`struct ap_tapq_hwinfo`), MSB0 of 64 bits: 0 apsc, 1 mex4k, 2 crt4k, 3 cca (D),
/// 4 accel (A), 5 ep11 (X), 6 apxa, 7 slcf, 8-15 class, 16-17 bs, 32-39 at, 40-47 nd,
/// 52-55 ml, 59-63 qd (5 bits in Linux 7.3).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct TapqHwInfo(pub u64);

macro_rules! hw_flag {
    ($(#[$m:meta])* $get:ident, $set:ident, $bit:expr) => {
        $(#[$m])*
        pub const fn $get(self) -> bool {
            self.0 & bit64($bit) != 0
        }
        #[doc = concat!("With `", stringify!($get), "` set or cleared.")]
        pub const fn $set(self, on: bool) -> Self {
            Self(with_bit64(self.0, $bit, on))
        }
    };
}

macro_rules! hw_field {
    ($(#[$m:meta])* $get:ident, $set:ident, $ty:ty, $shift:expr, $width:expr) => {
        $(#[$m])*
        pub const fn $get(self) -> $ty {
            field64(self.0, $shift, $width) as $ty
        }
        #[doc = concat!("With another `", stringify!($get), "` (excess bits dropped).")]
        pub const fn $set(self, v: $ty) -> Self {
            Self(with_field64(self.0, $shift, $width, v as u64))
        }
    };
}

impl TapqHwInfo {
    /// The facility bits 0-31 (what the `ap_functions` attributes print).
    pub const fn fac(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// With other facility bits 0-31.
    pub const fn with_fac(self, fac: u32) -> Self {
        TapqHwInfo(with_field64(self.0, 32, 32, fac as u64))
    }

    hw_flag!(
        /// Bit 0: APSC.
        apsc, with_apsc, 0
    );
    hw_flag!(
        /// Bit 1: 4K modulus exponentiation (AP4KM).
        mex4k, with_mex4k, 1
    );
    hw_flag!(
        /// Bit 2: 4K CRT (AP4KC).
        crt4k, with_crt4k, 2
    );
    hw_flag!(
        /// Bit 3: D, CCA coprocessor.
        cca, with_cca, 3
    );
    hw_flag!(
        /// Bit 4: A, accelerator.
        accel, with_accel, 4
    );
    hw_flag!(
        /// Bit 5: X, EP11 coprocessor.
        ep11, with_ep11, 5
    );
    hw_flag!(
        /// Bit 6: N, APXA.
        apxa, with_apxa, 6
    );
    hw_flag!(
        /// Bit 7: H, command filtering available.
        slcf, with_slcf, 7
    );
    hw_field!(
        /// Bits 8-15: class (0x80 full function set, 0x40 restricted).
        class, with_class, u8, 48, 8
    );
    hw_field!(
        /// Bits 16-17: SE bind state.
        bs, with_bs, u8, 46, 2
    );
    hw_field!(
        /// Bits 32-39: the raw AP type.
        at, with_at, u8, 24, 8
    );
    hw_field!(
        /// Bits 40-47: nd.
        nd, with_nd, u8, 16, 8
    );
    hw_field!(
        /// Bits 52-55: ml, the maximum message size in 4 KiB units.
        ml, with_ml, u8, 8, 4
    );
    hw_field!(
        /// Bits 59-63: qd, the queue depth minus one.
        qd, with_qd, u8, 0, 5
    );

    /// The mode as `ap_uevent` chooses it: A first, then D, then X.
    pub const fn mode(self) -> Option<Mode> {
        if self.accel() {
            Some(Mode::Accel)
        } else if self.cca() {
            Some(Mode::Cca)
        } else if self.ep11() {
            Some(Mode::Ep11)
        } else {
            None
        }
    }

    /// With the facility bit of `mode` set (the other two mode bits unchanged).
    pub const fn with_mode(self, mode: Mode) -> Self {
        match mode {
            Mode::Accel => self.with_accel(true),
            Mode::Cca => self.with_cca(true),
            Mode::Ep11 => self.with_ep11(true),
        }
    }

    /// The value a card keeps (`hwinfo.value &= TAPQ_CARD_HWINFO_MASK`).
    pub const fn card_part(self) -> Self {
        TapqHwInfo(self.0 & CARD_HWINFO_MASK)
    }

    /// `ac->maxmsgsize` (ap_card.c): `ml * 4096` if `ml > 3`, else 12288.
    pub const fn max_msg_size(self) -> u32 {
        let ml = self.ml() as u32;
        if ml > 3 {
            ml * AP_TAPQ_ML_FIELD_CHUNK_SIZE
        } else {
            AP_DEFAULT_MAX_MSG_SIZE
        }
    }
}

/// AQIC GR1 (`union ap_qirq_ctrl`), MSB0 of 64 bits: 8-15 zone, 16 IR, 21-23 gisc, 30-31 gf,
/// 33-59 gisa (27 bits), 61-63 isc.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct AqicCtrl(pub u64);

impl AqicCtrl {
    hw_field!(
        /// Bits 8-15: zone.
        zone, with_zone, u8, 48, 8
    );
    hw_flag!(
        /// Bit 16: IR, 1 enables and 0 disables interruptions.
        ir, with_ir, 16
    );
    hw_field!(
        /// Bits 21-23: guest ISC.
        gisc, with_gisc, u8, 40, 3
    );
    hw_field!(
        /// Bits 30-31: GISA format.
        gf, with_gf, u8, 32, 2
    );
    hw_field!(
        /// Bits 33-59: GISA origin >> 4.
        gisa, with_gisa, u32, 4, 27
    );
    hw_field!(
        /// Bits 61-63: interruption subclass.
        isc, with_isc, u8, 0, 3
    );
}

/// QACT GR1/GR2 (`union ap_qact_ap_info`), MSB0 of 64 bits: 3-5 mode, 32-39 cat (compatible
/// type), 48-63 ver.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct QactInfo(pub u64);

impl QactInfo {
    hw_field!(
        /// Bits 3-5: mode (the facility bits D, A, X as `(fac >> 26) & 7`).
        mode, with_mode, u8, 58, 3
    );
    hw_field!(
        /// Bits 32-39: compatibility type.
        cat, with_cat, u8, 24, 8
    );

    /// Bits 48-63: version bytes.
    pub const fn ver(self) -> [u8; 2] {
        [(self.0 >> 8) as u8, self.0 as u8]
    }

    /// With other version bytes.
    pub const fn with_ver(self, ver: [u8; 2]) -> Self {
        QactInfo(with_field64(
            self.0,
            0,
            16,
            ((ver[0] as u64) << 8) | ver[1] as u64,
        ))
    }

    /// The request `ap_get_compatible_type` issues: mode from the facility bits, cat CEX8.
    pub const fn request(fac: u32) -> Self {
        QactInfo(0)
            .with_mode(((fac >> 26) & 7) as u8)
            .with_cat(AP_DEVICE_TYPE_CEX8)
    }
}

/// `ap_get_compatible_type`: the compatible device type (10..=14) of an adapter with raw type
/// `raw` and facility bits `fac`, or 0 if it is not supported. Types below CEX4 are not
/// supported, CEX4..CEX8 map to themselves, newer types are mapped through QACT (`qact` is
/// called with [`QactInfo::request`] only if `qact_available`, i.e. QCI has the C bit).
pub fn compatible_type(
    raw: u8,
    fac: u32,
    qact_available: bool,
    qact: impl FnOnce(QactInfo) -> (QueueStatus, QactInfo),
) -> u8 {
    if raw < AP_DEVICE_TYPE_CEX4 {
        return 0;
    }
    if raw <= AP_DEVICE_TYPE_CEX8 {
        return raw;
    }
    if !qact_available {
        return 0;
    }
    let (status, info) = qact(QactInfo::request(fac));
    let cat = info.cat();
    if status.response_code() == rc::NORMAL
        && (AP_DEVICE_TYPE_CEX4..=AP_DEVICE_TYPE_CEX8).contains(&cat)
    {
        cat
    } else {
        0
    }
}

/// QCI flag bit 0: S, APSC.
pub const QCI_APSC: u32 = 0x8000_0000;
/// QCI flag bit 1: N, APXA.
pub const QCI_APXA: u32 = 0x4000_0000;
/// QCI flag bit 2: C, QACT available.
pub const QCI_QACT: u32 = 0x2000_0000;
/// QCI flag bit 3: R, RC8A.
pub const QCI_RC8A: u32 = 0x1000_0000;
/// QCI flag bit 8: B, APSB (SE binding).
pub const QCI_APSB: u32 = 0x0080_0000;

/// Which of the three QCI masks.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum QciMask {
    /// `apm`, the adapters (offset 16).
    Apm,
    /// `aqm`, the usage domains (offset 48).
    Aqm,
    /// `adm`, the control domains (offset 80).
    Adm,
}

/// The 128-byte QCI block (`struct ap_config_info`): flags (u32, big-endian) at 0, `na` at 4,
/// `nd` at 5, `apm` at 16, `aqm` at 48, `adm` at 80, each mask 32 bytes in MSB0 order (which
/// is [`Mask`]'s byte order).
///
/// All-zero is a valid value and means "QCI not available" (`flags == 0`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct QciInfo(pub [u8; 128]);

impl Default for QciInfo {
    fn default() -> Self {
        QciInfo::EMPTY
    }
}

impl QciInfo {
    /// The all-zero block.
    pub const EMPTY: QciInfo = QciInfo([0; 128]);

    /// The 32-bit flags word.
    pub const fn flags(&self) -> u32 {
        u32::from_be_bytes([self.0[0], self.0[1], self.0[2], self.0[3]])
    }

    /// Sets the flags word.
    pub const fn set_flags(&mut self, flags: u32) {
        let b = flags.to_be_bytes();
        self.0[0] = b[0];
        self.0[1] = b[1];
        self.0[2] = b[2];
        self.0[3] = b[3];
    }

    /// Whether the kernel considers QCI information available (`flags != 0`).
    pub const fn is_available(&self) -> bool {
        self.flags() != 0
    }

    /// S bit: APSC.
    pub const fn apsc(&self) -> bool {
        self.flags() & QCI_APSC != 0
    }

    /// N bit: APXA (8-bit ids; `na`/`nd` valid).
    pub const fn apxa(&self) -> bool {
        self.flags() & QCI_APXA != 0
    }

    /// C bit: QACT available.
    pub const fn qact(&self) -> bool {
        self.flags() & QCI_QACT != 0
    }

    /// R bit: RC8A.
    pub const fn rc8a(&self) -> bool {
        self.flags() & QCI_RC8A != 0
    }

    /// B bit: APSB (SE AP pass-through binding).
    pub const fn apsb(&self) -> bool {
        self.flags() & QCI_APSB != 0
    }

    /// Sets or clears flag bits `bits`.
    pub const fn set_flag(&mut self, bits: u32, on: bool) {
        let f = self.flags();
        self.set_flags(if on { f | bits } else { f & !bits });
    }

    /// `na`: the maximum adapter id.
    pub const fn na(&self) -> u8 {
        self.0[4]
    }

    /// `nd`: the maximum domain id.
    pub const fn nd(&self) -> u8 {
        self.0[5]
    }

    /// Sets `na`.
    pub const fn set_na(&mut self, na: u8) {
        self.0[4] = na;
    }

    /// Sets `nd`.
    pub const fn set_nd(&mut self, nd: u8) {
        self.0[5] = nd;
    }

    const fn offset(which: QciMask) -> usize {
        match which {
            QciMask::Apm => 16,
            QciMask::Aqm => 48,
            QciMask::Adm => 80,
        }
    }

    /// One of the three masks.
    pub fn mask(&self, which: QciMask) -> Mask {
        let mut m = Mask::ZERO;
        let off = Self::offset(which);
        if let Some(src) = self.0.get(off..off + 32) {
            m.0.copy_from_slice(src);
        }
        m
    }

    /// Replaces one of the three masks.
    pub fn set_mask(&mut self, which: QciMask, m: &Mask) {
        let off = Self::offset(which);
        if let Some(dst) = self.0.get_mut(off..off + 32) {
            dst.copy_from_slice(&m.0);
        }
    }

    /// The adapter mask.
    pub fn apm(&self) -> Mask {
        self.mask(QciMask::Apm)
    }

    /// The usage domain mask.
    pub fn aqm(&self) -> Mask {
        self.mask(QciMask::Aqm)
    }

    /// The control domain mask.
    pub fn adm(&self) -> Mask {
        self.mask(QciMask::Adm)
    }

    /// Sets the adapter mask.
    pub fn set_apm(&mut self, m: &Mask) {
        self.set_mask(QciMask::Apm, m);
    }

    /// Sets the usage domain mask.
    pub fn set_aqm(&mut self, m: &Mask) {
        self.set_mask(QciMask::Aqm, m);
    }

    /// Sets the control domain mask.
    pub fn set_adm(&mut self, m: &Mask) {
        self.set_mask(QciMask::Adm, m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_bits() {
        let s = QueueStatus::new(rc::DECONFIGURED)
            .with_empty(true)
            .with_irq(true);
        assert_eq!(s.0, 0x8103_0000);
        assert!(s.queue_empty() && s.irq_enabled() && !s.async_pending());
        assert_eq!(s.response_code(), 3);
        assert_eq!(s.status_bits(), 0x81);
        let s = s
            .with_async(true)
            .with_full(true)
            .with_replies_waiting(true);
        assert_eq!(s.0, 0xe303_0000);
        assert_eq!(s.with_rc(0x42).response_code(), 0x42);
        assert!(QueueStatus::new(rc::BUSY).has_tapq_info());
        assert!(!QueueStatus::new(rc::Q_NOT_AVAIL).has_tapq_info());
        assert!(QueueStatus::new(rc::Q_NOT_AVAIL)
            .with_async(true)
            .has_tapq_info());
    }

    #[test]
    fn tapq_layout() {
        // APSC + CCA + class 0x80 as lszcrypt shows 0x90800000; type 14, nd 255, ml 8, qd 31.
        let h = TapqHwInfo(0)
            .with_apsc(true)
            .with_cca(true)
            .with_class(0x80)
            .with_at(14)
            .with_nd(255)
            .with_ml(8)
            .with_qd(31)
            .with_bs(2);
        assert_eq!(h.fac(), 0x9080_0000 | 0x0000_8000);
        assert_eq!(h.0, 0x9080_8000_0eff_081f);
        assert_eq!(h.card_part().fac(), 0x9080_0000);
        assert_eq!(h.card_part().qd(), 31);
        assert_eq!(h.mode(), Some(Mode::Cca));
        assert_eq!(h.max_msg_size(), 8 * 4096);
        assert_eq!(h.with_ml(3).max_msg_size(), 12288);
        assert_eq!(h.with_ml(0).max_msg_size(), 12288);
        assert_eq!(h.with_ml(4).max_msg_size(), 16384);
        assert_eq!(h.with_accel(true).mode(), Some(Mode::Accel));
        assert_eq!(TapqHwInfo(0).with_ep11(true).mode(), Some(Mode::Ep11));
        assert_eq!(TapqHwInfo(0).mode(), None);
        assert_eq!(TapqHwInfo(0).with_apxa(true).0, 1 << 57);
        assert_eq!(TapqHwInfo(0).with_slcf(true).0, 1 << 56);
        assert_eq!(TapqHwInfo(0).with_mex4k(true).0, 1 << 62);
        assert_eq!(TapqHwInfo(0).with_crt4k(true).0, 1 << 61);
        assert_eq!(TapqHwInfo(0).with_fac(0x1234_5678).fac(), 0x1234_5678);
        assert_eq!(TapqHwInfo(0).with_qd(0xff).qd(), 0x1f);
    }

    #[test]
    fn aqic_layout() {
        let c = AqicCtrl(0)
            .with_ir(true)
            .with_isc(6)
            .with_gisc(5)
            .with_gf(3)
            .with_zone(0xab)
            .with_gisa(0x7ff_ffff);
        assert_eq!(c.0 >> 47 & 1, 1);
        assert_eq!(c.isc(), 6);
        assert_eq!(c.gisc(), 5);
        assert_eq!(c.gf(), 3);
        assert_eq!(c.zone(), 0xab);
        assert_eq!(c.gisa(), 0x7ff_ffff);
        assert_eq!(c.0, 0x00ab_8503_7fff_fff6);
    }

    #[test]
    fn qact_layout() {
        let q = QactInfo::request(0x9080_0000);
        assert_eq!(q.mode(), 4);
        assert_eq!(q.cat(), 14);
        assert_eq!(QactInfo::request(0x0800_0000).mode(), 2);
        assert_eq!(QactInfo::request(0x0400_0000).mode(), 1);
        let q = q.with_ver([1, 2]);
        assert_eq!(q.ver(), [1, 2]);
        assert_eq!(q.0, 0x1000_0000_0e00_0102);
    }

    #[test]
    fn compat() {
        let ok = |cat| move |i: QactInfo| (QueueStatus::new(0), i.with_cat(cat));
        assert_eq!(compatible_type(9, 0, true, ok(14)), 0);
        assert_eq!(compatible_type(10, 0, false, ok(14)), 10);
        assert_eq!(compatible_type(14, 0, false, ok(14)), 14);
        assert_eq!(compatible_type(15, 0, false, ok(14)), 0);
        assert_eq!(compatible_type(15, 0, true, ok(13)), 13);
        assert_eq!(compatible_type(15, 0, true, ok(15)), 0);
        assert_eq!(compatible_type(15, 0, true, ok(9)), 0);
        assert_eq!(
            compatible_type(15, 0, true, |i| (QueueStatus::new(1), i)),
            0
        );
    }

    #[test]
    fn type_names() {
        assert_eq!(type_name(14, Mode::Cca), "CEX8C");
        assert_eq!(type_name(13, Mode::Accel), "CEX7A");
        assert_eq!(type_name(10, Mode::Ep11), "CEX4P");
        assert_eq!(type_name(99, Mode::Ep11), "CEX8P");
        assert_eq!(Mode::from_bytes(b"ep11"), Some(Mode::Ep11));
        assert_eq!(Mode::Accel.as_str(), "accel");
    }

    #[test]
    fn qci_layout() {
        let mut q = QciInfo::EMPTY;
        assert!(!q.is_available());
        q.set_flag(QCI_APSC | QCI_APXA | QCI_APSB, true);
        assert_eq!(&q.0[..4], &[0xc0, 0x80, 0, 0]);
        assert!(q.apsc() && q.apxa() && q.apsb() && !q.qact() && !q.rc8a());
        q.set_na(255);
        q.set_nd(0x55);
        assert_eq!(q.0[4], 255);
        assert_eq!(q.0[5], 0x55);
        let m = Mask::from_ids(&[0, 9]);
        q.set_aqm(&m);
        assert_eq!(q.0[48], 0x80);
        assert_eq!(q.0[49], 0x40);
        assert_eq!(q.aqm(), m);
        assert!(q.apm().is_empty() && q.adm().is_empty());
        q.set_adm(&Mask::FULL);
        assert_eq!(q.0[80..112], [0xff; 32]);
        assert_eq!(q.0[112..], [0; 16]);
        q.set_flag(QCI_APSC, false);
        assert_eq!(q.flags(), QCI_APXA | QCI_APSB);
    }
}
