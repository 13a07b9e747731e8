// SPDX-License-Identifier: GPL-2.0
//! Differential test of the `ap_config` store parser against the C reference
//! (`ap_config_store`'s `kstrndup` + three `strsep(…, ",\n")` + `parse_bitmap`, from the Linux
//! 7.3 tree at test time). The C driver is shared with ap_bus: see
//! `ap_bus/tests/c_reference.rs` for where the tree is looked for and when the test skips.

#[path = "../../ap_bus/tests/common/c_harness.rs"]
mod c_harness;

use c_harness::{check, hex, n_cases, Rng};
use vfio_ap::ap_config::parse_ap_config;

const ALPHA: &[u8] =
    b"0123456789abcdefABCDEF0123456789abcdefABCDEFxX0xX0xX0xX0+-+-,\n,\n,\n,\n \0g;\xa0";

fn hex_mask(r: &mut Rng) -> Vec<u8> {
    let extra = r.below(71);
    let n = r.pick(&[0usize, 1, 8, 63, 64, 65, extra]);
    let mut s = r
        .pick(&[&b""[..], b"0x", b"x", b"0X", b"00x", b"xx"])
        .to_vec();
    s.extend((0..n).map(|_| r.pick(b"0123456789abcdefABCDEF")));
    s.extend_from_slice(r.pick(&[&b""[..], b"\n", b" ", b"g"]));
    s
}

fn case(r: &mut Rng) -> (String, String) {
    let mut s = Vec::new();
    for _ in 0..r.below(6) {
        let t = if r.chance(75) {
            hex_mask(r)
        } else {
            r.bytes(ALPHA, 20)
        };
        s.extend(t);
        s.extend_from_slice(r.pick(&[&b","[..], b"\n", b",", b"", b",\n"]));
    }
    if r.chance(20) {
        s = s.repeat(1 + r.below(4));
    }
    if r.chance(5) {
        s.extend(std::iter::repeat_n(b'f', r.below(300)));
    }
    let ans = match parse_ap_config(&s) {
        Ok((a, b, c)) => format!("rc 0 {} {} {}", a.no_prefix(), b.no_prefix(), c.no_prefix()),
        Err(e) => format!("rc {}", -e.errno()),
    };
    (format!("apcfg 0 {}", hex(&s)), ans)
}

#[test]
fn ap_config_matches_the_c_reference() {
    let mut rng = Rng(0xa9c0_f16e_0000_0001);
    let cases: Vec<(String, String)> = (0..n_cases(20_000)).map(|_| case(&mut rng)).collect();
    check("vfio_ap_c_reference", &cases);
}
