// SPDX-License-Identifier: GPL-2.0
//! The mdev type's `create` write (`create_store`, drivers/vfio/mdev/mdev_sysfs.c) and the
//! UUID functions it uses (`uuid_is_valid`, `guid_parse`, lib/uuid.c; `hex_to_bin`,
//! lib/hexdump.c), Linux 7.3; and the mdev's device name (`"%pUl"`).
//!
//! After a successful parse the mdev core answers EEXIST if an mdev with the same 16 bytes
//! exists (the comparison is of bytes, so the case of the hex digits does not matter) and
//! EUSERS when no instance is left (`available_instances` is 0); both are the glue's.

use core::fmt;

use super::parse::{c_str, hex_val, ParseError};

/// `UUID_STRING_LEN`: 36.
pub const UUID_STRING_LEN: usize = 36;

/// `guid_index`: where the 16 parsed bytes go in a `guid_t` (the first three fields are
/// little-endian).
pub const GUID_INDEX: [u8; 16] = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];

/// The string offsets of the 16 byte values (`si` of `__uuid_parse`).
const STRING_INDEX: [u8; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/// A `guid_t`: 16 bytes in GUID byte order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Guid(pub [u8; 16]);

/// The kernel's `isxdigit`: ASCII hex digits only.
const fn is_xdigit(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

/// `uuid_is_valid` on the C string in `s` (cut at its first NUL): 36 characters with `-` at
/// 8, 13, 18 and 23 and hex digits (either case) elsewhere. Anything after the 36th character
/// is not looked at.
pub fn uuid_is_valid(s: &[u8]) -> bool {
    let s = c_str(s);
    (0..UUID_STRING_LEN).all(|i| {
        let c = s.get(i).copied().unwrap_or(0);
        if matches!(i, 8 | 13 | 18 | 23) {
            c == b'-'
        } else {
            is_xdigit(c)
        }
    })
}

/// `guid_parse`: [`uuid_is_valid`] (else EINVAL), then the 16 byte values of the text stored
/// in [`GUID_INDEX`] order.
pub fn guid_parse(s: &[u8]) -> Result<Guid, ParseError> {
    if !uuid_is_valid(s) {
        return Err(ParseError::Inval);
    }
    let mut g = Guid::default();
    for (&si, &ei) in STRING_INDEX.iter().zip(GUID_INDEX.iter()) {
        let at = usize::from(si);
        let hi = s.get(at).copied().map_or(0, hex_val);
        let lo = s.get(at.saturating_add(1)).copied().map_or(0, hex_val);
        if let Some(b) = g.0.get_mut(usize::from(ei)) {
            *b = (hi << 4) | lo;
        }
    }
    Ok(g)
}

/// `create_store`: the write's byte count (`buf.len()`) must be 36 or 37, else EINVAL; then
/// [`guid_parse`] of the buffer (cut at a NUL, as `kstrndup` does). A 37th byte can be
/// anything.
pub fn create_store(buf: &[u8]) -> Result<Guid, ParseError> {
    if buf.len() < UUID_STRING_LEN || buf.len() > UUID_STRING_LEN + 1 {
        return Err(ParseError::Inval);
    }
    guid_parse(buf)
}

impl Guid {
    /// The canonical text (`"%pUl"`, the mdev's device name): 36 lowercase characters, the
    /// text [`guid_parse`] read with its hex digits lowercased.
    pub fn to_text(&self) -> [u8; UUID_STRING_LEN] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [b'-'; UUID_STRING_LEN];
        for (&si, &ei) in STRING_INDEX.iter().zip(GUID_INDEX.iter()) {
            let b = self.0.get(usize::from(ei)).copied().unwrap_or(0);
            let at = usize::from(si);
            if let Some(c) = out.get_mut(at) {
                *c = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
            }
            if let Some(c) = out.get_mut(at.saturating_add(1)) {
                *c = HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0');
            }
        }
        out
    }
}

/// The canonical text, see [`Guid::to_text`].
impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.to_text() {
            fmt::Write::write_char(f, char::from(c))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    const U: &str = "62177883-f1bb-47f0-914d-32a22e3a8804";

    #[test]
    fn byte_order_and_text() {
        let g = guid_parse(U.as_bytes()).unwrap();
        // The example of vfio_ap_le_guid_to_be_uuid.
        assert_eq!(
            g.0,
            [
                0x83, 0x78, 0x17, 0x62, 0xbb, 0xf1, 0xf0, 0x47, 0x91, 0x4d, 0x32, 0xa2, 0x2e, 0x3a,
                0x88, 0x04
            ]
        );
        assert_eq!(&g.to_text(), U.as_bytes());
        assert_eq!(format!("{g}"), U);
        let up = guid_parse(U.to_uppercase().as_bytes()).unwrap();
        assert_eq!(up, g);
    }

    #[test]
    fn create_lengths() {
        assert_eq!(create_store(U.as_bytes()), guid_parse(U.as_bytes()));
        assert!(create_store(format!("{U}\n").as_bytes()).is_ok());
        assert!(create_store(format!("{U}x").as_bytes()).is_ok());
        assert_eq!(
            create_store(format!("{U}\n\n").as_bytes()),
            Err(ParseError::Inval)
        );
        assert_eq!(create_store(&U.as_bytes()[..35]), Err(ParseError::Inval));
        assert_eq!(create_store(b""), Err(ParseError::Inval));
        // guid_parse alone ignores what follows.
        assert!(guid_parse(format!("{U}trailing").as_bytes()).is_ok());
    }

    #[test]
    fn invalid() {
        let mut b = U.as_bytes().to_vec();
        b[8] = b'x';
        assert!(guid_parse(&b).is_err());
        let mut b = U.as_bytes().to_vec();
        b[0] = b'g';
        assert!(guid_parse(&b).is_err());
        let mut b = U.as_bytes().to_vec();
        b[35] = 0;
        assert_eq!(create_store(&b), Err(ParseError::Inval));
        let mut b = U.as_bytes().to_vec();
        b[3] = b'-';
        assert!(!uuid_is_valid(&b));
        assert!(!uuid_is_valid(b"{62177883-f1bb-47f0-914d-32a22e3a880}"));
        assert!(!uuid_is_valid(&[0xe1; 36]));
    }
}
