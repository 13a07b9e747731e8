// SPDX-License-Identifier: GPL-2.0
//! The mdev `ap_config` attribute (`ap_config_show`/`ap_config_store`, vfio_ap_ops.c): the
//! whole assigned matrix as three hex masks.

use core::fmt;

use super::mask::Mask;
use super::parse::{c_str, hex2bitmap, ParseError};

/// `AP_CONFIG_STRLEN`: 3 x (256 / 4 + 3) = 201, how much of the written buffer is looked at.
pub const AP_CONFIG_STRLEN: usize = 201;

/// `strsep(rest, ",\n")`: the next token, or `None` once `rest` is exhausted.
fn strsep<'a>(rest: &mut Option<&'a [u8]>) -> Option<&'a [u8]> {
    let s = rest.take()?;
    match s.iter().position(|&c| c == b',' || c == b'\n') {
        Some(i) => {
            *rest = s.get(i + 1..);
            s.get(..i)
        }
        None => Some(s),
    }
}

/// `parse_bitmap`: the next token, cleared mask, `ap_hex2bitmap`.
fn parse_token(rest: &mut Option<&[u8]>) -> Result<Mask, ParseError> {
    let tok = strsep(rest).ok_or(ParseError::Inval)?;
    let mut m = Mask::ZERO;
    hex2bitmap(tok, &mut m)?;
    Ok(m)
}

/// Parses an `ap_config` write exactly as `ap_config_store` does, returning `(apm, aqm, adm)`.
///
/// The buffer is cut at its first NUL and then to [`AP_CONFIG_STRLEN`] bytes (`kstrndup`).
/// Three tokens are taken with `strsep(…, ",\n")`, so `,` and `\n` both separate and a token
/// cannot carry its own trailing `\n`; each is parsed with `ap_hex2bitmap` (optional `0x` or
/// `x` prefix, up to 64 hex digits, padded on the right, empty = zero). Fewer than three tokens
/// or a bad token is [`ParseError::Inval`] (every failure is EINVAL); anything after the third
/// token is ignored. The `*_max` range check (`ap_matrix_overflow_check`, ENODEV) is separate:
/// see `ap_bus::ids::MatrixLimits::fits`.
pub fn parse_ap_config(s: &[u8]) -> Result<(Mask, Mask, Mask), ParseError> {
    let s = c_str(s);
    let s = s.get(..AP_CONFIG_STRLEN).unwrap_or(s);
    let mut rest = Some(s);
    let apm = parse_token(&mut rest)?;
    let aqm = parse_token(&mut rest)?;
    let adm = parse_token(&mut rest)?;
    Ok((apm, aqm, adm))
}

/// `ap_config_show`: `0x%016lx%016lx%016lx%016lx,` for apm and aqm, then the same for adm
/// ending in `\n` (3 x 66 + 3 = 201 bytes).
pub fn write_ap_config(w: &mut dyn fmt::Write, apm: &Mask, aqm: &Mask, adm: &Mask) -> fmt::Result {
    writeln!(w, "{apm},{aqm},{adm}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::string::String;

    fn ids(v: &[u8]) -> Mask {
        Mask::from_ids(v)
    }

    fn ok(s: &str) -> (Mask, Mask, Mask) {
        parse_ap_config(s.as_bytes()).unwrap()
    }

    fn err(s: &str) {
        assert_eq!(
            parse_ap_config(s.as_bytes()),
            Err(ParseError::Inval),
            "{s:?}"
        );
    }

    #[test]
    fn b_tokenizer_vectors() {
        let want = (ids(&[0]), ids(&[1]), ids(&[2]));
        assert_eq!(ok("0x8,0x4,0x2\n"), want);
        assert_eq!(ok("0x8,0x4,0x2"), want);
        assert_eq!(ok("0x8\n0x4\n0x2"), want);
        assert_eq!(ok("0x8,0x4\n"), (ids(&[0]), ids(&[1]), Mask::ZERO));
        assert_eq!(ok(",,\n"), (Mask::ZERO, Mask::ZERO, Mask::ZERO));
        assert_eq!(ok("0x8,0x4,0x2,zzz"), want);
        err("0x8,0x4");
        err("\n");
        err("0x8,0x4,0x2 ");
        err("0x8,0x4,0X2\n");
        assert_eq!(ok("8,4,2\n"), want);
    }

    #[test]
    fn more_tokens() {
        err("");
        err(",");
        assert_eq!(ok(",,"), (Mask::ZERO, Mask::ZERO, Mask::ZERO));
        assert_eq!(ok("x8,x4,x2"), (ids(&[0]), ids(&[1]), ids(&[2])));
        err("0x8,0xg,0x2");
        err("0x8 ,0x4,0x2");
        // The NUL ends the string.
        err("0x8,0x4\0,0x2");
        assert_eq!(ok("0x8,0x4,0x2\0 junk"), (ids(&[0]), ids(&[1]), ids(&[2])));
    }

    #[test]
    fn full_length_and_cut() {
        let f = format!("0x{}", "f".repeat(64));
        let s = format!("{f},{f},{f}\n");
        assert_eq!(s.len(), AP_CONFIG_STRLEN);
        assert_eq!(ok(&s), (Mask::FULL, Mask::FULL, Mask::FULL));
        let s = format!("{f},{f},{f}");
        assert_eq!(ok(&s), (Mask::FULL, Mask::FULL, Mask::FULL));
        // A 65th digit is rejected in any of the three masks. (Valid tokens are at most 66
        // bytes, so the 201-byte cut can never shorten a token into a valid one.)
        err(&format!("{f},{f},{f}f"));
        err(&format!("{f}f,{f},{f}"));
        err(&format!("{f},{f}0,{f}"));
        // Anything after the third token is ignored, however long.
        err(&format!("8,4,2{}", "z".repeat(500)));
        let s = format!("8,4,2,{}", "z".repeat(500));
        assert_eq!(ok(&s), (ids(&[0]), ids(&[1]), ids(&[2])));
        let s = format!("{f},{f},{f}\n{}", "z".repeat(500));
        assert_eq!(ok(&s), (Mask::FULL, Mask::FULL, Mask::FULL));
        let pad = "0".repeat(64);
        let s = format!("0x{pad},0x{pad},");
        assert_eq!(s.len(), 134);
        assert_eq!(ok(&s), (Mask::ZERO, Mask::ZERO, Mask::ZERO));
        assert_eq!(
            ok(&format!("x{pad},0,0")),
            (Mask::ZERO, Mask::ZERO, Mask::ZERO)
        );
        // An over-long first token.
        err(&(String::from("0").repeat(199) + ",1,2"));
    }

    #[test]
    fn show_format() {
        let mut s = String::new();
        write_ap_config(&mut s, &ids(&[5, 6]), &ids(&[4, 0xab]), &Mask::ZERO).unwrap();
        assert_eq!(
            s,
            "0x0600000000000000000000000000000000000000000000000000000000000000,\
             0x0800000000000000000000000000000000000000001000000000000000000000,\
             0x0000000000000000000000000000000000000000000000000000000000000000\n"
        );
        assert_eq!(s.len(), 201);
        // Round trip.
        assert_eq!(
            parse_ap_config(s.as_bytes()),
            Ok((ids(&[5, 6]), ids(&[4, 0xab]), Mask::ZERO))
        );
    }
}
