// SPDX-License-Identifier: GPL-2.0
//! The kernel's string parsers, byte-exact: the AP bus mask syntax (`ap_hex2bitmap`,
//! `modify_bitmap`, `ap_parse_bitmap_str` of ap_bus.c) and the library functions the AP
//! attributes use (`simple_strtoul` and `vsscanf` of lib/vsprintf.c, `kstrto*` of
//! lib/kstrtox.c), as they are in Linux 7.3.
//!
//! # Input model
//!
//! Sysfs store buffers are NUL-terminated C strings and the C functions stop at the first
//! NUL byte. Every function here takes the bytes the caller has (for a sysfs store: the `count`
//! bytes of the buffer) and treats the first NUL byte, if any, as the end of the string, so an
//! embedded NUL behaves exactly as in C. Reading past the end of the slice reads a NUL.
//!
//! # Character classes
//!
//! The kernel's `ctype` is used: `isspace` is true for 0x09..=0x0D, 0x20 and 0xA0 (Latin-1
//! no-break space); `isdigit`/`isxdigit` are ASCII only. `char` is unsigned in the kernel
//! (`-funsigned-char`), so bytes >= 0x80 never count as digits.
//!
//! # Overflow
//!
//! Linux 7.3's `_parse_integer_limit` **saturates**: once the value overflows 64 bits it
//! stays `u64::MAX` (earlier kernels wrapped modulo 2^64). `simple_strtoul` therefore returns
//! `u64::MAX` for any value above it, and `kstrto*` report [`ParseError::Range`].

use super::mask::Mask;

/// A parse failure, as the C functions report it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ParseError {
    /// EINVAL: malformed input.
    Inval,
    /// ERANGE: the number does not fit the type.
    Range,
}

impl ParseError {
    /// The positive errno (EINVAL = 22, ERANGE = 34).
    pub const fn errno(self) -> i32 {
        match self {
            ParseError::Inval => 22,
            ParseError::Range => 34,
        }
    }
}

/// `INT_MAX`, the character limit `simple_strto*` and `vsscanf` pass down.
const INT_MAX: usize = 0x7fff_ffff;

/// The C string in `s`: the bytes before the first NUL (all of `s` if there is none).
pub fn c_str(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == 0) {
        Some(i) => s.get(..i).unwrap_or(s),
        None => s,
    }
}

/// Byte `i` of a C string, NUL past its end.
fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

/// The tail of `s` from `i` (empty past its end).
fn tail(s: &[u8], i: usize) -> &[u8] {
    s.get(i..).unwrap_or(&[])
}

/// The kernel's `isspace` (lib/ctype.c): 0x09..=0x0D, 0x20, 0xA0.
pub const fn is_space(c: u8) -> bool {
    matches!(c, 0x09..=0x0d | 0x20 | 0xa0)
}

/// `_tolower`: the fast variant that just sets bit 0x20.
const fn fast_lower(c: u8) -> u8 {
    c | 0x20
}

/// `hex_to_bin` for a byte known to be an ASCII hex digit (0 for any other byte).
pub const fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// `_parse_integer_fixup_radix`: resolves base 0 and skips a `0x`/`0X` prefix for base 16.
/// Returns the number of prefix bytes and the base.
fn fixup_radix(s: &[u8], base: u32) -> (usize, u32) {
    let mut base = base;
    if base == 0 {
        base = if at(s, 0) == b'0' {
            if fast_lower(at(s, 1)) == b'x' && at(s, 2).is_ascii_hexdigit() {
                16
            } else {
                8
            }
        } else {
            10
        };
    }
    let skip = if base == 16 && at(s, 0) == b'0' && fast_lower(at(s, 1)) == b'x' {
        2
    } else {
        0
    };
    (skip, base)
}

/// The result of [`parse_integer_limit`].
struct Parsed {
    value: u64,
    consumed: usize,
    overflow: bool,
}

/// `_parse_integer_limit`: reads at most `max_chars` digits of `base`, saturating at
/// `u64::MAX` on overflow.
fn parse_integer_limit(s: &[u8], base: u32, max_chars: usize, init: u64) -> Parsed {
    let mut res = init;
    let mut overflow = false;
    let mut rv = 0usize;
    while rv < max_chars {
        let c = at(s, rv);
        let lc = fast_lower(c);
        let val = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else if (b'a'..=b'f').contains(&lc) {
            u32::from(lc - b'a') + 10
        } else {
            break;
        };
        if val >= base {
            break;
        }
        if res & (!0u64 << 60) != 0 {
            match res
                .checked_mul(u64::from(base))
                .and_then(|r| r.checked_add(u64::from(val)))
            {
                Some(r) => res = r,
                None => {
                    res = u64::MAX;
                    overflow = true;
                }
            }
        } else {
            // Cannot overflow for bases up to 16; C wraps for larger ones.
            res = res
                .wrapping_mul(u64::from(base))
                .wrapping_add(u64::from(val));
        }
        rv = rv.saturating_add(1);
    }
    Parsed {
        value: res,
        consumed: rv,
        overflow,
    }
}

/// `simple_strntoull`: returns the value and the number of bytes consumed (`*endp - cp`).
fn simple_strntoull(s: &[u8], base: u32, max_chars: usize) -> (u64, usize) {
    let (prefix, base) = fixup_radix(s, base);
    if prefix < max_chars {
        let p = parse_integer_limit(tail(s, prefix), base, max_chars - prefix, 0);
        (p.value, prefix.saturating_add(p.consumed))
    } else {
        (0, max_chars)
    }
}

/// `simple_strntoll`: a leading `-` negates (two's complement) the unsigned result.
fn simple_strntoll(s: &[u8], base: u32, max_chars: usize) -> (i64, usize) {
    if at(s, 0) == b'-' && max_chars > 0 {
        let (v, n) = simple_strntoull(tail(s, 1), base, max_chars - 1);
        (v.wrapping_neg() as i64, n.saturating_add(1))
    } else {
        let (v, n) = simple_strntoull(s, base, max_chars);
        (v as i64, n)
    }
}

/// `simple_strtoul(s, &end, base)` (lib/vsprintf.c), `unsigned long` being 64 bits: returns
/// the value and `end - s`, the number of bytes consumed (0 if there is no digit).
///
/// No whitespace is skipped and no sign is accepted. Base 0 picks 16 for `0x`/`0X` followed
/// by a hex digit, 8 for any other leading `0`, else 10; base 16 skips a `0x`/`0X` prefix even
/// without a digit after it (then 2 bytes are consumed). Overflow saturates at `u64::MAX`.
pub fn simple_strtoul(s: &[u8], base: u32) -> (u64, usize) {
    simple_strntoull(c_str(s), base, INT_MAX)
}

/// `simple_strtoull`, the same as [`simple_strtoul`].
pub fn simple_strtoull(s: &[u8], base: u32) -> (u64, usize) {
    simple_strtoul(s, base)
}

/// `simple_strtol`: like [`simple_strtoul`], but a leading `-` negates the result (modulo
/// 2^64); the `-` counts as consumed even if no digit follows.
pub fn simple_strtol(s: &[u8], base: u32) -> (i64, usize) {
    simple_strntoll(c_str(s), base, INT_MAX)
}

/// `_kstrtoull`: no sign; base rules as `simple_strtoul`; then at most one `\n` and the end.
fn kstrtoull_nosign(s: &[u8], base: u32) -> Result<u64, ParseError> {
    let (skip, base) = fixup_radix(s, base);
    let t = tail(s, skip);
    let p = parse_integer_limit(t, base, INT_MAX, 0);
    if p.overflow {
        return Err(ParseError::Range);
    }
    if p.consumed == 0 {
        return Err(ParseError::Inval);
    }
    let mut i = p.consumed;
    if at(t, i) == b'\n' {
        i = i.saturating_add(1);
    }
    if at(t, i) != 0 {
        return Err(ParseError::Inval);
    }
    Ok(p.value)
}

/// `kstrtoull(s, base)` (lib/kstrtox.c): an optional leading `+`; base 0 detects `0x`/`0X`
/// (hex, only when a hex digit follows), a leading `0` (octal), else decimal; base 16 accepts
/// an optional `0x` prefix; then at least one digit, at most one trailing `\n` and nothing
/// else. No whitespace, no `-`. Overflow gives [`ParseError::Range`] (checked before the
/// trailing characters), anything else malformed [`ParseError::Inval`].
pub fn kstrtoull(s: &[u8], base: u32) -> Result<u64, ParseError> {
    let s = c_str(s);
    let s = if at(s, 0) == b'+' { tail(s, 1) } else { s };
    kstrtoull_nosign(s, base)
}

/// `kstrtoul`: on 64-bit s390 exactly [`kstrtoull`].
pub fn kstrtoul(s: &[u8], base: u32) -> Result<u64, ParseError> {
    kstrtoull(s, base)
}

/// `kstrtouint`: [`kstrtoull`], then [`ParseError::Range`] above `u32::MAX`.
pub fn kstrtouint(s: &[u8], base: u32) -> Result<u32, ParseError> {
    u32::try_from(kstrtoull(s, base)?).map_err(|_| ParseError::Range)
}

/// `kstrtou16`: [`kstrtoull`], then [`ParseError::Range`] above `u16::MAX`.
pub fn kstrtou16(s: &[u8], base: u32) -> Result<u16, ParseError> {
    u16::try_from(kstrtoull(s, base)?).map_err(|_| ParseError::Range)
}

/// `kstrtou8`: [`kstrtoull`], then [`ParseError::Range`] above `u8::MAX`.
pub fn kstrtou8(s: &[u8], base: u32) -> Result<u8, ParseError> {
    u8::try_from(kstrtoull(s, base)?).map_err(|_| ParseError::Range)
}

/// `kstrtoll`: a leading `-` (not followed by `+`) or an optional `+`, then as
/// [`kstrtoull`]; [`ParseError::Range`] outside `i64` (`-0` is 0, `-9223372036854775808` is
/// accepted).
pub fn kstrtoll(s: &[u8], base: u32) -> Result<i64, ParseError> {
    let s = c_str(s);
    if at(s, 0) == b'-' {
        let tmp = kstrtoull_nosign(tail(s, 1), base)?;
        let neg = tmp.wrapping_neg() as i64;
        if neg > 0 {
            return Err(ParseError::Range);
        }
        Ok(neg)
    } else {
        let tmp = kstrtoull(s, base)?;
        i64::try_from(tmp).map_err(|_| ParseError::Range)
    }
}

/// `kstrtol`: on 64-bit s390 exactly [`kstrtoll`].
pub fn kstrtol(s: &[u8], base: u32) -> Result<i64, ParseError> {
    kstrtoll(s, base)
}

/// `kstrtoint`: [`kstrtoll`], then [`ParseError::Range`] outside `i32`.
pub fn kstrtoint(s: &[u8], base: u32) -> Result<i32, ParseError> {
    i32::try_from(kstrtoll(s, base)?).map_err(|_| ParseError::Range)
}

/// `kstrtobool` (lib/kstrtox.c, Linux 7.3): only the first one or two bytes matter.
/// `e E y Y t T 1` give true, `d D n N f F 0` give false, `o`/`O` followed by `n`/`N` gives
/// true and by `f`/`F` false; anything else (including the empty string) is
/// [`ParseError::Inval`]. Trailing bytes are ignored (`"yes please"` is true).
pub fn kstrtobool(s: &[u8]) -> Result<bool, ParseError> {
    let s = c_str(s);
    match at(s, 0) {
        b'e' | b'E' | b'y' | b'Y' | b't' | b'T' | b'1' => Ok(true),
        b'd' | b'D' | b'n' | b'N' | b'f' | b'F' | b'0' => Ok(false),
        b'o' | b'O' => match at(s, 1) {
            b'n' | b'N' => Ok(true),
            b'f' | b'F' => Ok(false),
            _ => Err(ParseError::Inval),
        },
        _ => Err(ParseError::Inval),
    }
}

/// The integer conversion of a `sscanf` format.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum IntConv {
    /// `%d`: decimal.
    D,
    /// `%i`: base 0 (`0x`/`0X` + hex digit: hex, leading `0`: octal, else decimal).
    I,
}

/// The first conversion of the kernel's `sscanf(buf, "%d\n", &int)` or
/// `sscanf(buf, "%i\n", &int)` (lib/vsprintf.c `vsscanf`): `Some(value)` exactly when
/// `sscanf` returns 1.
///
/// What `vsscanf` does for these formats: an empty string fails; leading whitespace
/// ([`is_space`]) is skipped; an optional `-` follows (no `+`); the next byte must be a decimal
/// digit (for `%i` too, so `x1` or `+1` fail); the value is `simple_strtoll` of the rest with
/// base 10 (`%d`) or 0 (`%i`), so `-` negates modulo 2^64, overflow saturates before the
/// negation, and the 64-bit result is truncated to `int` (its low 32 bits), as C's
/// conversion does. Everything after the digits, including the `\n` of the format, is ignored:
/// `"12abc"` is 12, `"08"` with `%i` is 0.
pub fn sscanf_int(s: &[u8], conv: IntConv) -> Option<i32> {
    let s = c_str(s);
    if s.is_empty() {
        return None;
    }
    let mut i = 0;
    while is_space(at(s, i)) {
        i = i.saturating_add(1);
    }
    let mut digit = at(s, i);
    if digit == b'-' {
        digit = at(s, i.saturating_add(1));
    }
    if !digit.is_ascii_digit() {
        return None;
    }
    let base = match conv {
        IntConv::D => 10,
        IntConv::I => 0,
    };
    let (v, _) = simple_strntoll(tail(s, i), base, INT_MAX);
    Some(v as i32)
}

/// `ap_hex2bitmap(s, out, 256)` (ap_bus.c): ORs the absolute hex form into `out` (which is
/// not cleared first).
///
/// An optional `0x` (lowercase only) or `x` prefix; then up to 64 hex digits (either case),
/// digit k giving ids 4k..4k+3, most significant first, missing digits counting as zero; then
/// at most one `\n` and the end of the string. Zero digits are accepted. Anything else left
/// (a 65th digit, a space, a second `\n`, ...) is [`ParseError::Inval`]; as in C, `out` may
/// already have been modified when that error is returned.
pub fn hex2bitmap(s: &[u8], out: &mut Mask) -> Result<(), ParseError> {
    let s = c_str(s);
    let mut i = 0;
    if at(s, 0) == b'0' && at(s, 1) == b'x' {
        i = 1;
    }
    if at(s, i) == b'x' {
        i = i.saturating_add(1);
    }
    let mut bit: u16 = 0;
    while at(s, i).is_ascii_hexdigit() && bit < 256 {
        let b = hex_val(at(s, i));
        for n in 0..4u16 {
            if b & (0x08 >> n) != 0 {
                if let Ok(id) = u8::try_from(bit + n) {
                    out.set(id);
                }
            }
        }
        bit = bit.saturating_add(4);
        i = i.saturating_add(1);
    }
    if at(s, i) == b'\n' {
        i = i.saturating_add(1);
    }
    if at(s, i) != 0 {
        return Err(ParseError::Inval);
    }
    Ok(())
}

/// `modify_bitmap(s, m, 256)` (ap_bus.c): applies the relative form to `m`.
///
/// A sequence of terms `±a` or `±a-z`: the sign is required, `a` and `z` are read with
/// `simple_strtoul(…, 0)` (so octal with a leading 0, hex with `0x`/`0X`, saturating), must
/// have a digit, be below 256 and `a <= z`; `+` sets and `-` clears ids `a..=z`; after each
/// term any number of `,` and `\n` are skipped (so commas are optional). Anything else is
/// [`ParseError::Inval`]; as in C, the terms before the failing one have already been applied
/// to `m` (use [`parse_mask`] for all-or-nothing).
pub fn modify_bitmap(s: &[u8], m: &mut Mask) -> Result<(), ParseError> {
    let s = c_str(s);
    let mut i = 0;
    while at(s, i) != 0 {
        let sign = at(s, i);
        i = i.saturating_add(1);
        if sign != b'+' && sign != b'-' {
            return Err(ParseError::Inval);
        }
        let (a, n) = simple_strntoull(tail(s, i), 0, INT_MAX);
        if n == 0 || a >= 256 {
            return Err(ParseError::Inval);
        }
        i = i.saturating_add(n);
        let mut z = a;
        if at(s, i) == b'-' {
            i = i.saturating_add(1);
            let (zz, n) = simple_strntoull(tail(s, i), 0, INT_MAX);
            if n == 0 || a > zz || zz >= 256 {
                return Err(ParseError::Inval);
            }
            z = zz;
            i = i.saturating_add(n);
        }
        let (Ok(a), Ok(z)) = (u8::try_from(a), u8::try_from(z)) else {
            return Err(ParseError::Inval);
        };
        if sign == b'+' {
            m.set_range(a, z);
        } else {
            m.clear_range(a, z);
        }
        while matches!(at(s, i), b',' | b'\n') {
            i = i.saturating_add(1);
        }
    }
    Ok(())
}

/// `ap_parse_bitmap_str(s, current, 256, new)` (ap_bus.c): if `s` starts with `+` or `-`,
/// the relative form ([`modify_bitmap`]) applied to a copy of `current`; otherwise the
/// absolute form ([`hex2bitmap`]) into an empty mask. On error no mask is returned.
pub fn parse_mask(s: &[u8], current: &Mask) -> Result<Mask, ParseError> {
    let s = c_str(s);
    if matches!(at(s, 0), b'+' | b'-') {
        let mut m = *current;
        modify_bitmap(s, &mut m)?;
        Ok(m)
    } else {
        let mut m = Mask::ZERO;
        hex2bitmap(s, &mut m)?;
        Ok(m)
    }
}

/// `ap_domain_store`: `sscanf(buf, "%i\n")`, then the domain must be `0..=max_domain_id` and
/// set in `aqm` (`ap_perms.aqm`); every failure is [`ParseError::Inval`].
pub fn parse_ap_domain(s: &[u8], max_domain_id: u8, aqm: &Mask) -> Result<u8, ParseError> {
    let d = sscanf_int(s, IntConv::I).ok_or(ParseError::Inval)?;
    match u8::try_from(d) {
        Ok(d) if d <= max_domain_id && aqm.test(d) => Ok(d),
        _ => Err(ParseError::Inval),
    }
}

/// `config_time_store`: `sscanf(buf, "%d\n")`, then `5..=120` seconds, else
/// [`ParseError::Inval`].
pub fn parse_config_time(s: &[u8]) -> Result<i32, ParseError> {
    match sscanf_int(s, IntConv::D) {
        Some(t) if (5..=120).contains(&t) => Ok(t),
        _ => Err(ParseError::Inval),
    }
}

/// The largest `poll_timeout` (120 s in ns).
pub const POLL_TIMEOUT_MAX_NS: u64 = 120_000_000_000;

/// `poll_timeout_store`: `kstrtoul(buf, 0)` (its error passes through), then at most
/// [`POLL_TIMEOUT_MAX_NS`], else [`ParseError::Inval`].
pub fn parse_poll_timeout(s: &[u8]) -> Result<u64, ParseError> {
    let v = kstrtoul(s, 0)?;
    if v > POLL_TIMEOUT_MAX_NS {
        return Err(ParseError::Inval);
    }
    Ok(v)
}

/// The card/queue `config` and zcrypt `online` stores: `sscanf(buf, "%d\n")` must give 0 or
/// 1, else [`ParseError::Inval`].
pub fn parse_zero_one(s: &[u8]) -> Result<bool, ParseError> {
    match sscanf_int(s, IntConv::D) {
        Some(0) => Ok(false),
        Some(1) => Ok(true),
        _ => Err(ParseError::Inval),
    }
}

/// What a `poll_thread` write does.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum PollThreadOp {
    /// Start the `appoll` thread (a `kthread_run` error is the write's error).
    Start,
    /// Stop it.
    Stop,
    /// Nothing: start asked while it runs or while interrupts are in use (the write still
    /// succeeds and `poll_thread` keeps reading 0 with interrupts), or stop asked while it
    /// does not run.
    Nothing,
}

/// `poll_thread_store`: [`kstrtobool`] (its EINVAL passes through), then start
/// (`ap_poll_thread_start`: not with interrupts `irq`, not twice) or stop.
pub fn parse_poll_thread(s: &[u8], irq: bool, running: bool) -> Result<PollThreadOp, ParseError> {
    let on = kstrtobool(s)?;
    Ok(if on && !irq && !running {
        PollThreadOp::Start
    } else if !on && running {
        PollThreadOp::Stop
    } else {
        PollThreadOp::Nothing
    })
}

/// What a card `config` write does after parsing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct CardConfigStore {
    /// `Some(true)`: call `sclp_ap_configure(id)` first, `Some(false)`:
    /// `sclp_ap_deconfigure(id)`; its error (EOPNOTSUPP, ENOMEM, EIO) is the write's error
    /// and nothing else happens. `None`: no SCLP call (the value equals the flag).
    pub sclp: Option<bool>,
    /// The card's new `config` flag; `CONFIG=<new>` is then sent on the card **always**,
    /// also when nothing changed.
    pub config: bool,
}

/// Card `config_store`: [`parse_zero_one`] (EINVAL), then the SCLP call if the value differs
/// from the card's flag `current`.
pub fn parse_card_config(s: &[u8], current: bool) -> Result<CardConfigStore, ParseError> {
    let cfg = parse_zero_one(s)?;
    Ok(CardConfigStore {
        sclp: (cfg != current).then_some(cfg),
        config: cfg,
    })
}

/// `PAGE_SIZE - 1`: `__device_set_driver_override` refuses a store `count` of this or more.
pub const DRIVER_OVERRIDE_MAX_COUNT: usize = 4095;

/// `__device_set_driver_override(dev, buf, count)` (drivers/base/dd.c, Linux 7.3) up to the
/// allocation: EINVAL if `count >= 4095`; else the name is the C string `s` (up to its first
/// NUL, whatever `count` says) cut at its first `\n`; an empty name (`""`, `"\n"`,
/// `"\nxyz"`) clears the override (`None`). Nothing else is checked: spaces and any other
/// bytes are kept. For a sysfs store `s` is the `count` bytes of the buffer (kernfs puts a NUL
/// after them).
pub fn parse_driver_override(s: &[u8], count: usize) -> Result<Option<&[u8]>, ParseError> {
    if count >= DRIVER_OVERRIDE_MAX_COUNT {
        return Err(ParseError::Inval);
    }
    let s = c_str(s);
    let name = match s.iter().position(|&c| c == b'\n') {
        Some(i) => s.get(..i).unwrap_or(s),
        None => s,
    };
    Ok(if name.is_empty() { None } else { Some(name) })
}

/// The queue attribute `driver_override_store` of ap_queue.c (Linux 7.3), up to the
/// allocation (ENOMEM is the glue's): under `ap_attr_mutex`, EINVAL while
/// `ap_apmask_aqmask_in_use` (`masks_in_use`), then [`parse_driver_override`]. On success
/// the glue replaces the name and updates the override counter with
/// [`driver_override_counter`]; the write returns `count`. Nothing is reprobed.
pub fn driver_override_store(
    s: &[u8],
    count: usize,
    masks_in_use: bool,
) -> Result<Option<&[u8]>, ParseError> {
    if masks_in_use {
        return Err(ParseError::Inval);
    }
    parse_driver_override(s, count)
}

/// `ap_driver_override_ctr` after a successful override store: decremented when an override
/// was set and is now cleared, incremented when none was set and one is now, else unchanged.
pub const fn driver_override_counter(ctr: u32, was_set: bool, now_set: bool) -> u32 {
    match (was_set, now_set) {
        (true, false) => ctr.saturating_sub(1),
        (false, true) => ctr.saturating_add(1),
        _ => ctr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::string::String;
    use std::vec;
    use std::vec::Vec;

    fn hexmask(s: &str) -> Mask {
        // Test helper: 64 hex digits (no prefix), or shorter (padded on the right).
        let mut m = Mask::ZERO;
        hex2bitmap(s.as_bytes(), &mut m).unwrap();
        m
    }

    fn abs(s: &str) -> Result<Mask, ParseError> {
        parse_mask(s.as_bytes(), &Mask::ZERO)
    }

    fn rel(s: &str, start: &Mask) -> Result<Mask, ParseError> {
        parse_mask(s.as_bytes(), start)
    }

    fn ids(v: &[u8]) -> Mask {
        Mask::from_ids(v)
    }

    // ---- Section B, absolute form ----

    #[test]
    fn b_abs_bit0() {
        for s in ["0x8", "8", "x8"] {
            for start in [Mask::ZERO, Mask::FULL] {
                assert_eq!(rel(s, &start), Ok(ids(&[0])), "{s}");
            }
        }
    }

    #[test]
    fn b_abs_simple() {
        assert_eq!(abs("0xf"), Ok(ids(&[0, 1, 2, 3])));
        assert_eq!(abs("0x41"), Ok(ids(&[1, 7])));
        assert_eq!(abs("0x41\n"), Ok(ids(&[1, 7])));
        assert_eq!(abs("0x7d"), Ok(ids(&[1, 2, 3, 4, 5, 7])));
        let mut m = Mask::ZERO;
        m.set_range(0, 15);
        assert_eq!(abs("0xffff"), Ok(m));
        let abc = hexmask("abc");
        assert_eq!(format!("{abc}"), format!("0xabc{}", "0".repeat(61)));
        assert_eq!(abs("abc"), Ok(abc));
        assert_eq!(abs("ABC"), Ok(abc));
    }

    #[test]
    fn b_abs_full_length() {
        let s = format!("0x{}1", "0".repeat(63));
        assert_eq!(abs(&s), Ok(ids(&[255])));
        let s = format!("0x{}", "f".repeat(64));
        assert_eq!(abs(&s), Ok(Mask::FULL));
    }

    #[test]
    fn b_abs_zero() {
        for s in ["", "0x", "\n", "0x\n", "0", "0x0"] {
            assert_eq!(rel(s, &Mask::FULL), Ok(Mask::ZERO), "{s:?}");
        }
    }

    #[test]
    fn b_abs_errors() {
        assert_eq!(abs("0X41"), Err(ParseError::Inval));
        let s = format!("0x8{}1", "0".repeat(63));
        assert_eq!(s.len(), 67);
        assert_eq!(abs(&s), Err(ParseError::Inval));
        for s in ["0xff\n\n", "0xff ", " 0xff", "0xfg", "0x1,0x2", "00x1"] {
            assert_eq!(abs(s), Err(ParseError::Inval), "{s:?}");
        }
    }

    // ---- Section B, relative form ----

    #[test]
    fn b_rel_single() {
        assert_eq!(rel("+0", &Mask::ZERO), Ok(ids(&[0])));
        assert_eq!(rel("+0\n", &Mask::ZERO), Ok(ids(&[0])));
        assert_eq!(rel("+255", &Mask::ZERO), Ok(ids(&[255])));
        assert_eq!(rel("+256", &Mask::ZERO), Err(ParseError::Inval));
    }

    #[test]
    fn b_rel_ranges() {
        let mut m = Mask::ZERO;
        m.set_range(0, 15);
        assert_eq!(rel("+0-15", &Mask::ZERO), Ok(m));
        m.set(32);
        assert_eq!(format!("{m}").get(..18), Some("0xffff000080000000"));
        assert_eq!(rel("+0-15,+32", &Mask::ZERO), Ok(m));
        assert_eq!(rel("+0-15+32", &Mask::ZERO), Ok(m));
        assert_eq!(rel("+1-2-3", &Mask::ZERO), Ok(ids(&[1, 2])));
        assert_eq!(
            format!("{}", rel("+1-2-3", &Mask::ZERO).unwrap()).get(..4),
            Some("0x60")
        );
        assert_eq!(
            rel("+1-2-3", &Mask::FULL),
            Ok(Mask::FULL.and_not(&ids(&[3])))
        );
    }

    #[test]
    fn b_rel_bases() {
        assert_eq!(rel("+0x10", &Mask::ZERO), Ok(ids(&[16])));
        assert_eq!(rel("+0X10", &Mask::ZERO), Ok(ids(&[16])));
        assert_eq!(rel("+010", &Mask::ZERO), Ok(ids(&[8])));
        assert_eq!(format!("{}", ids(&[8])).get(..6), Some("0x0080"));
        assert_eq!(rel("+08", &Mask::ZERO), Err(ParseError::Inval));
        assert_eq!(rel("+09", &Mask::ZERO), Err(ParseError::Inval));
        assert_eq!(rel("+0x", &Mask::ZERO), Err(ParseError::Inval));
        assert_eq!(rel("+0-0xff", &Mask::ZERO), Ok(Mask::FULL));
        assert_eq!(rel("+0xff-0x0", &Mask::ZERO), Err(ParseError::Inval));
        assert_eq!(rel("+5-4", &Mask::ZERO), Err(ParseError::Inval));
        assert_eq!(rel("+5-5", &Mask::ZERO), Ok(ids(&[5])));
    }

    #[test]
    fn b_rel_separators() {
        assert_eq!(rel("+1,,,+2,", &Mask::ZERO), Ok(ids(&[1, 2])));
        assert_eq!(rel("+1\n,+2", &Mask::ZERO), Ok(ids(&[1, 2])));
        assert_eq!(rel("+1,", &Mask::ZERO), Ok(ids(&[1])));
        for s in [
            "+1 ", "+ 1", "++1", "+", "+1-", "+1-\n", "+1--2", ",+1", "+1;+2", "+1,x",
        ] {
            assert_eq!(rel(s, &Mask::ZERO), Err(ParseError::Inval), "{s:?}");
        }
        // ",+1" does not start with a sign: it is the absolute form, and ',' is invalid.
        assert_eq!(rel(",+1", &Mask::FULL), Err(ParseError::Inval));
    }

    #[test]
    fn b_rel_examples() {
        let m = rel("-0-255,+1-16,+0x28", &Mask::ZERO).unwrap();
        let mut e = Mask::ZERO;
        e.set_range(1, 16);
        e.set(40);
        assert_eq!(m, e);
        assert!(format!("{m}").starts_with("0x7fff800000800000"));

        let m = rel("+0,-6,+0x47,-0xf0", &Mask::ZERO).unwrap();
        assert_eq!(m, ids(&[0, 71]));
        assert!(format!("{m}").starts_with("0x80000000000000000100"));

        let m = rel("+0-255,-128", &Mask::ZERO).unwrap();
        assert_eq!(m, Mask::FULL.and_not(&ids(&[128])));
        assert_eq!(
            format!("{m}"),
            format!("0x{}7{}", "f".repeat(32), "f".repeat(31))
        );
    }

    #[test]
    fn b_rel_from_full() {
        let m = rel("-5,-6", &Mask::FULL).unwrap();
        assert_eq!(format!("{m}"), format!("0xf9{}", "f".repeat(62)));
        let m = rel("-4,-0x47,-0xab,-0xff", &Mask::FULL).unwrap();
        assert_eq!(
            format!("{m}"),
            "0xf7fffffffffffffffeffffffffffffffffffffffffeffffffffffffffffffffe"
        );
        let m = rel("-0-15\n", &Mask::FULL).unwrap();
        assert_eq!(format!("{m}"), format!("0x0000{}", "f".repeat(60)));
    }

    /// Section B lists `+18446744073709551616` as "bit 0 (wrap-around)". That was Linux 6.12;
    /// Linux 7.3's `_parse_integer_limit` saturates, so the value is `u64::MAX` and the term
    /// is rejected.
    #[test]
    fn b_rel_overflow_saturates_in_7_3() {
        assert_eq!(
            rel("+18446744073709551616", &Mask::ZERO),
            Err(ParseError::Inval)
        );
        assert_eq!(rel("+4294967296", &Mask::ZERO), Err(ParseError::Inval));
        assert_eq!(simple_strtoul(b"18446744073709551616", 0), (u64::MAX, 20));
        assert_eq!(simple_strtoul(b"18446744073709551615", 0), (u64::MAX, 20));
        assert_eq!(
            simple_strtoul(b"99999999999999999999999", 10),
            (u64::MAX, 23)
        );
    }

    #[test]
    fn relative_failure_leaves_current() {
        let cur = ids(&[9]);
        assert_eq!(rel("+1,+2,x", &cur), Err(ParseError::Inval));
        // modify_bitmap itself applies the leading terms, as in C.
        let mut m = cur;
        assert_eq!(modify_bitmap(b"+1,+2,x", &mut m), Err(ParseError::Inval));
        assert_eq!(m, ids(&[1, 2, 9]));
    }

    #[test]
    fn hex2bitmap_ors() {
        let mut m = ids(&[255]);
        hex2bitmap(b"8", &mut m).unwrap();
        assert_eq!(m, ids(&[0, 255]));
        // Partial result on error, as in C.
        let mut m = Mask::ZERO;
        assert_eq!(hex2bitmap(b"8g", &mut m), Err(ParseError::Inval));
        assert_eq!(m, ids(&[0]));
    }

    #[test]
    fn nul_terminates() {
        assert_eq!(abs("0x8\0garbage"), Ok(ids(&[0])));
        assert_eq!(abs("\0zz"), Ok(Mask::ZERO));
        assert_eq!(rel("+1\0,zz", &Mask::ZERO), Ok(ids(&[1])));
        assert_eq!(rel("\0+1", &Mask::FULL), Ok(Mask::ZERO));
        assert_eq!(kstrtoul(b"12\0x", 0), Ok(12));
        assert_eq!(kstrtoul(b"\x0012", 0), Err(ParseError::Inval));
        assert_eq!(sscanf_int(b" \0 5", IntConv::D), None);
        assert_eq!(simple_strtoul(b"0x\0" as &[u8], 16), (0, 2));
        assert_eq!(kstrtobool(b"o\0n"), Err(ParseError::Inval));
    }

    // ---- simple_strtoul ----

    #[test]
    fn strtoul_prefixes() {
        assert_eq!(simple_strtoul(b"0x1f", 0), (31, 4));
        assert_eq!(simple_strtoul(b"0X1F", 0), (31, 4));
        assert_eq!(simple_strtoul(b"0x", 0), (0, 1));
        assert_eq!(simple_strtoul(b"0xg", 0), (0, 1));
        assert_eq!(simple_strtoul(b"0xg", 16), (0, 2));
        assert_eq!(simple_strtoul(b"0x1f", 16), (31, 4));
        assert_eq!(simple_strtoul(b"1f", 16), (31, 2));
        assert_eq!(simple_strtoul(b"017", 0), (15, 3));
        assert_eq!(simple_strtoul(b"018", 0), (1, 2));
        assert_eq!(simple_strtoul(b"09", 0), (0, 1));
        assert_eq!(simple_strtoul(b"123abc", 0), (123, 3));
        assert_eq!(simple_strtoul(b"abc", 0), (0, 0));
        assert_eq!(simple_strtoul(b"", 0), (0, 0));
        assert_eq!(simple_strtoul(b" 1", 0), (0, 0));
        assert_eq!(simple_strtoul(b"+1", 0), (0, 0));
        assert_eq!(simple_strtoul(b"0x0x1", 0), (0, 3));
        assert_eq!(simple_strtoul(b"Zz", 36), (0, 0));
        assert_eq!(simple_strtoul(b"fF", 36), (15 * 36 + 15, 2));
        assert_eq!(simple_strtoul(b"101", 2), (5, 3));
        assert_eq!(simple_strtoul(b"0001", 1), (0, 3));
        assert_eq!(simple_strtoul(b"\xb5", 0), (0, 0));
    }

    #[test]
    fn strtol_sign() {
        assert_eq!(simple_strtol(b"-5", 0), (-5, 2));
        assert_eq!(simple_strtol(b"-x", 0), (0, 1));
        assert_eq!(simple_strtol(b"-0x10", 0), (-16, 5));
        assert_eq!(simple_strtol(b"--1", 0), (0, 1));
        assert_eq!(simple_strtol(b"-18446744073709551615", 10), (1, 21));
    }

    // ---- kstrto* ----

    #[test]
    fn kstrtoul_vectors() {
        use ParseError::*;
        let ok: &[(&str, u64)] = &[
            ("0", 0),
            ("5", 5),
            ("5\n", 5),
            ("+5", 5),
            ("0x1F", 31),
            ("0X1f\n", 31),
            ("017", 15),
            ("00", 0),
            ("18446744073709551615", u64::MAX),
            ("0xffffffffffffffff", u64::MAX),
            ("01777777777777777777777", u64::MAX),
        ];
        for (s, v) in ok {
            assert_eq!(kstrtoul(s.as_bytes(), 0), Ok(*v), "{s:?}");
        }
        let bad: &[(&str, ParseError)] = &[
            ("", Inval),
            ("\n", Inval),
            (" 5", Inval),
            ("5 ", Inval),
            ("-5", Inval),
            ("+-5", Inval),
            ("++5", Inval),
            ("08", Inval),
            ("0x", Inval),
            ("0xg", Inval),
            ("5\n\n", Inval),
            ("5x", Inval),
            ("18446744073709551616", Range),
            ("18446744073709551616x", Range),
            ("0x10000000000000000", Range),
            ("02000000000000000000000", Range),
        ];
        for (s, e) in bad {
            assert_eq!(kstrtoul(s.as_bytes(), 0), Err(*e), "{s:?}");
        }
        assert_eq!(kstrtoul(b"10", 10), Ok(10));
        assert_eq!(kstrtoul(b"010", 10), Ok(10));
        assert_eq!(kstrtoul(b"0x10", 10), Err(Inval));
        assert_eq!(kstrtoul(b"0x10", 16), Ok(16));
        assert_eq!(kstrtoul(b"10", 16), Ok(16));
        assert_eq!(kstrtoul(b"0x", 16), Err(Inval));
        assert_eq!(kstrtoul(b"19", 8), Err(Inval));
    }

    #[test]
    fn kstrto_narrow() {
        use ParseError::*;
        assert_eq!(kstrtouint(b"4294967295", 0), Ok(u32::MAX));
        assert_eq!(kstrtouint(b"4294967296", 0), Err(Range));
        assert_eq!(kstrtouint(b"0xffff\n", 0), Ok(0xffff));
        assert_eq!(kstrtou16(b"65536", 0), Err(Range));
        assert_eq!(kstrtou8(b"255", 0), Ok(255));
        assert_eq!(kstrtou8(b"256", 0), Err(Range));
        assert_eq!(kstrtoll(b"-0", 0), Ok(0));
        assert_eq!(kstrtoll(b"-9223372036854775808", 0), Ok(i64::MIN));
        assert_eq!(kstrtoll(b"-9223372036854775809", 0), Err(Range));
        assert_eq!(kstrtoll(b"9223372036854775807", 0), Ok(i64::MAX));
        assert_eq!(kstrtoll(b"9223372036854775808", 0), Err(Range));
        assert_eq!(kstrtoll(b"-+1", 0), Err(Inval));
        assert_eq!(kstrtoll(b"+-1", 0), Err(Inval));
        assert_eq!(kstrtoll(b"-0x10\n", 0), Ok(-16));
        assert_eq!(kstrtol(b"-1", 10), Ok(-1));
        assert_eq!(kstrtoint(b"-2147483648", 0), Ok(i32::MIN));
        assert_eq!(kstrtoint(b"2147483648", 0), Err(Range));
        assert_eq!(kstrtoint(b"-2147483649", 0), Err(Range));
        assert_eq!(kstrtoint(b"-99999999999999999999", 0), Err(Range));
    }

    #[test]
    fn kstrtobool_vectors() {
        for s in [
            "y", "Y", "yes", "t", "T", "1", "1\n", "on", "ON", "oN", "e", "Enable",
        ] {
            assert_eq!(kstrtobool(s.as_bytes()), Ok(true), "{s:?}");
        }
        for s in [
            "n", "N", "no", "f", "F", "0", "0x1", "off", "OF", "of", "d", "D",
        ] {
            assert_eq!(kstrtobool(s.as_bytes()), Ok(false), "{s:?}");
        }
        for s in ["", "\n", "o", "ox", " 1", "2", "x", "-1", "+1"] {
            assert_eq!(kstrtobool(s.as_bytes()), Err(ParseError::Inval), "{s:?}");
        }
    }

    // ---- sscanf ----

    #[test]
    fn sscanf_vectors() {
        use IntConv::*;
        assert_eq!(sscanf_int(b"30\n", D), Some(30));
        assert_eq!(sscanf_int(b"  \t\n 30", D), Some(30));
        assert_eq!(sscanf_int(b"\xa07", D), Some(7));
        assert_eq!(sscanf_int(b"-7", D), Some(-7));
        assert_eq!(sscanf_int(b"+7", D), None);
        assert_eq!(sscanf_int(b"", D), None);
        assert_eq!(sscanf_int(b"\n", D), None);
        assert_eq!(sscanf_int(b"-", D), None);
        assert_eq!(sscanf_int(b"--1", D), None);
        assert_eq!(sscanf_int(b"- 1", D), None);
        assert_eq!(sscanf_int(b"x1", I), None);
        assert_eq!(sscanf_int(b"12abc", D), Some(12));
        assert_eq!(sscanf_int(b"0x1f", D), Some(0));
        assert_eq!(sscanf_int(b"0x1f", I), Some(31));
        assert_eq!(sscanf_int(b"0X1F\n", I), Some(31));
        assert_eq!(sscanf_int(b"010", I), Some(8));
        assert_eq!(sscanf_int(b"010", D), Some(10));
        assert_eq!(sscanf_int(b"08", I), Some(0));
        assert_eq!(sscanf_int(b"0x", I), Some(0));
        assert_eq!(sscanf_int(b"-0x10", I), Some(-16));
        assert_eq!(sscanf_int(b"4294967296", D), Some(0));
        assert_eq!(sscanf_int(b"4294967297", D), Some(1));
        assert_eq!(sscanf_int(b"2147483648", D), Some(i32::MIN));
        assert_eq!(sscanf_int(b"99999999999999999999", D), Some(-1));
        assert_eq!(sscanf_int(b"-99999999999999999999", D), Some(1));
    }

    #[test]
    fn store_helpers() {
        let aqm = ids(&[0, 5, 15, 16]);
        assert_eq!(parse_ap_domain(b"5\n", 15, &aqm), Ok(5));
        assert_eq!(parse_ap_domain(b"0x5", 15, &aqm), Ok(5));
        assert_eq!(parse_ap_domain(b"05", 15, &aqm), Ok(5));
        assert_eq!(parse_ap_domain(b"017", 15, &aqm), Ok(15));
        assert_eq!(parse_ap_domain(b"16", 15, &aqm), Err(ParseError::Inval));
        assert_eq!(parse_ap_domain(b"4", 15, &aqm), Err(ParseError::Inval));
        assert_eq!(parse_ap_domain(b"-1", 15, &aqm), Err(ParseError::Inval));
        assert_eq!(
            parse_ap_domain(b"256", 255, &Mask::FULL),
            Err(ParseError::Inval)
        );
        assert_eq!(parse_ap_domain(b"4294967296", 255, &Mask::FULL), Ok(0));
        assert_eq!(parse_config_time(b"5"), Ok(5));
        assert_eq!(parse_config_time(b"120\n"), Ok(120));
        assert_eq!(parse_config_time(b"4"), Err(ParseError::Inval));
        assert_eq!(parse_config_time(b"121"), Err(ParseError::Inval));
        assert_eq!(parse_config_time(b"0x10"), Err(ParseError::Inval));
        assert_eq!(parse_poll_timeout(b"120000000000"), Ok(120_000_000_000));
        assert_eq!(parse_poll_timeout(b"120000000001"), Err(ParseError::Inval));
        assert_eq!(parse_poll_timeout(b"-1"), Err(ParseError::Inval));
        assert_eq!(
            parse_poll_timeout(b"99999999999999999999"),
            Err(ParseError::Range)
        );
        assert_eq!(parse_zero_one(b"1\n"), Ok(true));
        assert_eq!(parse_zero_one(b" 0"), Ok(false));
        assert_eq!(parse_zero_one(b"2"), Err(ParseError::Inval));
        assert_eq!(parse_zero_one(b"y"), Err(ParseError::Inval));
        assert_eq!(ParseError::Inval.errno(), 22);
        assert_eq!(ParseError::Range.errno(), 34);
    }

    #[test]
    fn poll_thread_store() {
        use PollThreadOp::*;
        assert_eq!(parse_poll_thread(b"1", false, false), Ok(Start));
        assert_eq!(parse_poll_thread(b"on\n", false, true), Ok(Nothing));
        assert_eq!(parse_poll_thread(b"y", true, false), Ok(Nothing));
        assert_eq!(parse_poll_thread(b"0", true, true), Ok(Stop));
        assert_eq!(parse_poll_thread(b"off", false, false), Ok(Nothing));
        assert_eq!(
            parse_poll_thread(b"2", false, false),
            Err(ParseError::Inval)
        );
    }

    #[test]
    fn card_config_store() {
        let c = |s: &[u8], cur| parse_card_config(s, cur);
        assert_eq!(
            c(b"1\n", false),
            Ok(CardConfigStore {
                sclp: Some(true),
                config: true
            })
        );
        assert_eq!(
            c(b"0", true),
            Ok(CardConfigStore {
                sclp: Some(false),
                config: false
            })
        );
        assert_eq!(
            c(b" 1junk", true),
            Ok(CardConfigStore {
                sclp: None,
                config: true
            })
        );
        assert_eq!(c(b"2", true), Err(ParseError::Inval));
        assert_eq!(c(b"-1", true), Err(ParseError::Inval));
        // %d keeps the low 32 bits: 2^32 + 1 is 1.
        assert_eq!(
            c(b"4294967297", false),
            Ok(CardConfigStore {
                sclp: Some(true),
                config: true
            })
        );
    }

    #[test]
    fn driver_override() {
        fn p(s: &[u8]) -> Result<Option<&[u8]>, ParseError> {
            parse_driver_override(s, s.len())
        }
        assert_eq!(p(b"vfio_ap\n"), Ok(Some(&b"vfio_ap"[..])));
        assert_eq!(p(b"vfio_ap"), Ok(Some(&b"vfio_ap"[..])));
        assert_eq!(p(b"vfio_ap \n"), Ok(Some(&b"vfio_ap "[..])));
        assert_eq!(p(b"a\nb"), Ok(Some(&b"a"[..])));
        assert_eq!(p(b"\n"), Ok(None));
        assert_eq!(p(b"\nvfio_ap"), Ok(None));
        assert_eq!(p(b""), Ok(None));
        assert_eq!(p(b"\0\0\0"), Ok(None));
        assert_eq!(p(b"cex4queue\0junk"), Ok(Some(&b"cex4queue"[..])));
        let long = vec![b'a'; 4094];
        assert_eq!(p(&long), Ok(Some(&long[..])));
        let long = vec![b'a'; 4095];
        assert_eq!(p(&long), Err(ParseError::Inval));
        assert_eq!(parse_driver_override(b"ab", 1), Ok(Some(&b"ab"[..])));
        assert_eq!(
            driver_override_store(b"vfio_ap", 7, true),
            Err(ParseError::Inval)
        );
        assert_eq!(
            driver_override_store(b"vfio_ap", 7, false),
            Ok(Some(&b"vfio_ap"[..]))
        );
        assert_eq!(driver_override_counter(0, false, true), 1);
        assert_eq!(driver_override_counter(1, true, false), 0);
        assert_eq!(driver_override_counter(1, true, true), 1);
        assert_eq!(driver_override_counter(0, true, false), 0);
    }

    #[test]
    fn c_str_cut() {
        assert_eq!(c_str(b"ab\0cd"), b"ab");
        assert_eq!(c_str(b"abcd"), b"abcd");
        assert_eq!(c_str(b"\0"), b"");
        let all: Vec<u8> = (0..=255u8).collect();
        assert_eq!(c_str(&all), b"");
        let s: String = String::from("x");
        assert_eq!(c_str(s.as_bytes()), b"x");
    }
}
