// SPDX-License-Identifier: GPL-2.0
//! Differential test against the C reference: the parser functions are taken from the Linux
//! 7.3 tree the project builds against (`lib/kstrtox.c`, `lib/vsprintf.c`, `lib/ctype.c`,
//! `lib/hexdump.c`, `drivers/s390/crypto/ap_bus.c`, `drivers/s390/crypto/vfio_ap_ops.c`,
//! `drivers/base/dd.c`) at
//! test time, compiled with the host C compiler (`-funsigned-char`, as the kernel is) behind
//! a small driver, and fed the same random inputs as the Rust model. Every output line must be
//! identical.
//!
//! The C driver is in `common/c_harness.rs` (shared with vfio_ap's test). The kernel tree is
//! `$AP_RS_LINUX_SRC`, else `${AP_RS_CACHE:-~/.cache/ap-rs}/linux-source-7.3` (where
//! scripts/toolchain.sh unpacks it). Without the tree or without `cc` (or `$CC`) the test
//! only says so, unless `AP_RS_REQUIRE_C_REFERENCE=1` (set by `make check`) makes that a failure. `AP_RS_DIFF_CASES` sets the number of cases (default 30000).

#[path = "common/c_harness.rs"]
mod c_harness;

use ap_bus::mask::Mask;
use ap_bus::parse::*;
use c_harness::{check, hex, n_cases, Rng};

const ALPHA_NUM: &[u8] = b"0123456789012345678901234567890123456789abcdefABCDEFxXxXxX+-+-+-,\n \t\x0b\x0c\r\0;gGzZ\xa0\xff\x85oOnNfFyYtTeEdD1";
const ALPHA_MASK: &[u8] =
    b"0123456789abcdefABCDEF0123456789abcdefABCDEFxX0xX0xX0xX0+-+-+-+-+-+-,\n,\n,\n,\n \0g;\xa0";

fn big_number(r: &mut Rng) -> Vec<u8> {
    let prefix = r.pick(&[
        &b""[..],
        b"+",
        b"-",
        b"0x",
        b"0X",
        b"0",
        b"+0x",
        b"-0x",
        b" ",
        b"\xa0-",
    ]);
    let digits = r.pick(&[
        &b"0123456789"[..],
        b"0123456789abcdef",
        b"01234567",
        b"9",
        b"f",
    ]);
    let n = r.pick(&[1usize, 2, 10, 16, 17, 19, 20, 21, 22, 23, 24, 30]);
    let mut s = prefix.to_vec();
    s.extend((0..n).map(|_| r.pick(digits)));
    s.extend_from_slice(r.pick(&[&b""[..], b"\n", b"\n\n", b"x", b" ", b"\0junk"]));
    s
}

fn rel_term(r: &mut Rng) -> Vec<u8> {
    let num = |r: &mut Rng| {
        let v: u128 = match r.below(6) {
            0 => r.below(300) as u128,
            1 => r.below(256) as u128,
            2 => 255,
            3 => 256,
            4 => 0,
            _ => u128::from(r.next()) + u128::from(r.below(3) as u8) * u128::from(u64::MAX),
        };
        match r.below(5) {
            0 => format!("0x{v:x}"),
            1 => format!("0X{v:X}"),
            2 => format!("0{v:o}"),
            _ => format!("{v}"),
        }
    };
    let mut t = vec![r.pick(b"+-")];
    t.extend(num(r).bytes());
    if r.chance(40) {
        t.push(b'-');
        t.extend(num(r).bytes());
    }
    t.extend_from_slice(r.pick(&[&b""[..], b",", b",,", b"\n", b",\n", b"", b" ", b";"]));
    t
}

fn hex_mask(r: &mut Rng) -> Vec<u8> {
    let extra = r.below(71);
    let n = r.pick(&[0usize, 1, 8, 63, 64, 65, extra]);
    let mut s = r
        .pick(&[&b""[..], b"0x", b"x", b"0X", b"00x", b"xx"])
        .to_vec();
    s.extend((0..n).map(|_| r.pick(b"0123456789abcdefABCDEF")));
    s.extend_from_slice(r.pick(&[&b""[..], b"\n", b"\n\n", b" ", b",", b"g", b"\0zz"]));
    s
}

fn start_mask(r: &mut Rng) -> Mask {
    match r.below(3) {
        0 => Mask::ZERO,
        1 => Mask::FULL,
        _ => {
            let mut m = Mask::ZERO;
            for b in m.0.iter_mut() {
                *b = r.next() as u8;
            }
            m
        }
    }
}

fn errno(e: ParseError) -> i32 {
    -e.errno()
}

/// One request: the line for the C driver and the answer the Rust model gives.
fn case(r: &mut Rng) -> (String, String) {
    let k = r.below(100);
    if k < 25 {
        let s = match r.below(10) {
            0..=3 => (0..1 + r.below(5)).flat_map(|_| rel_term(r)).collect(),
            4..=6 => hex_mask(r),
            _ => r.bytes(ALPHA_MASK, 90),
        };
        let start = start_mask(r);
        let op = r.pick(&["mask", "mask", "mod", "hex2"]);
        let req = format!("{op} {} {}", start.no_prefix(), hex(&s));
        let ans = match op {
            "mask" => match parse_mask(&s, &start) {
                Ok(m) => format!("rc 0 {}", m.no_prefix()),
                Err(e) => format!("rc {}", errno(e)),
            },
            _ => {
                let mut m = start;
                let res = if op == "mod" {
                    modify_bitmap(&s, &mut m)
                } else {
                    hex2bitmap(&s, &mut m)
                };
                format!("rc {} {}", res.err().map_or(0, errno), m.no_prefix())
            }
        };
        (req, ans)
    } else if k < 70 {
        let s = if r.chance(50) {
            big_number(r)
        } else {
            r.bytes(ALPHA_NUM, 30)
        };
        let op = r.pick(&[
            "strtoul", "strtol", "kull", "kll", "kuint", "kint", "kbool", "scand", "scani",
        ]);
        let base = r.pick(&[0u32, 0, 0, 8, 10, 16, 2, 36, 1]);
        let req = format!("{op} {base} {}", hex(&s));
        let res = |r: Result<String, ParseError>| match r {
            Ok(v) => format!("rc 0 {v}"),
            Err(e) => format!("rc {}", errno(e)),
        };
        let ans = match op {
            "strtoul" => {
                let (v, n) = simple_strtoul(&s, base);
                format!("{v} {n}")
            }
            "strtol" => {
                let (v, n) = simple_strtol(&s, base);
                format!("{v} {n}")
            }
            "kull" => res(kstrtoull(&s, base).map(|v| v.to_string())),
            "kll" => res(kstrtoll(&s, base).map(|v| v.to_string())),
            "kuint" => res(kstrtouint(&s, base).map(|v| v.to_string())),
            "kint" => res(kstrtoint(&s, base).map(|v| v.to_string())),
            "kbool" => res(kstrtobool(&s).map(|v| u8::from(v).to_string())),
            _ => {
                let conv = if op == "scand" {
                    IntConv::D
                } else {
                    IntConv::I
                };
                match sscanf_int(&s, conv) {
                    Some(v) => format!("n 1 {v}"),
                    None => "n 0".into(),
                }
            }
        };
        (req, ans)
    } else if k < 80 {
        // __device_set_driver_override: the store buffer and its count.
        let mut s = r.bytes(b"vfio_ap cex4queue\n\n\0 \t\xff", 20);
        let len = s.len();
        let count = match r.below(6) {
            0 => {
                s.resize(4094 + r.below(3), b'a');
                s.len()
            }
            1 => r.below(len + 1),
            _ => len,
        };
        let req = format!("dovr {count} {}", hex(&s));
        let ans = match parse_driver_override(&s, count) {
            Ok(Some(name)) => format!("rc 0 {}", hex(name)),
            Ok(None) => "rc 0 -".into(),
            Err(e) => format!("rc {}", errno(e)),
        };
        (req, ans)
    } else {
        // The absolute form alone, ORed into an empty mask.
        let s = hex_mask(r);
        let mut m = Mask::ZERO;
        let res = hex2bitmap(&s, &mut m);
        let req = format!("hex2 {} {}", Mask::ZERO.no_prefix(), hex(&s));
        (
            req,
            format!("rc {} {}", res.err().map_or(0, errno), m.no_prefix()),
        )
    }
}

#[test]
fn parsers_match_the_c_reference() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let cases: Vec<(String, String)> = (0..n_cases(30_000)).map(|_| case(&mut rng)).collect();
    check("ap_bus_c_reference", &cases);
}
