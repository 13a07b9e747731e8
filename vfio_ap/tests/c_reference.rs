// SPDX-License-Identifier: GPL-2.0
//! Differential tests against the C reference, from the Linux 7.3 tree at test time:
//!
//! * the `ap_config` store parser (`ap_config_store`'s `kstrndup` + three
//!   `strsep(…, ",\n")` + `parse_bitmap`), through the driver shared with ap_bus;
//! * the number parser of the six assign/unassign attributes (`kstrtoul(buf, 0)`), through the
//!   same driver;
//! * the mdev `create` write (`create_store` of drivers/vfio/mdev/mdev_sysfs.c with
//!   `uuid_is_valid`, `__uuid_parse`, `guid_parse` of lib/uuid.c and `hex_to_bin`), through a
//!   small driver built here.
//!
//! See `ap_bus/tests/c_reference.rs` for where the tree is looked for and when the tests skip.

#[path = "../../ap_bus/tests/common/c_harness.rs"]
mod c_harness;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use c_harness::{check, compile, hex, kernel_tree, n_cases, unavailable, Rng};
use vfio_ap::ap_config::parse_ap_config;
use vfio_ap::matrix::parse_id;
use vfio_ap::uuid::create_store;

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

/// An assign/unassign write: mostly plausible ids, with every syntax kstrtoul knows.
fn id_case(r: &mut Rng) -> Vec<u8> {
    let mut s = Vec::new();
    if r.chance(10) {
        s.push(r.pick(b"+- \t"));
    }
    let n = r.below(300);
    match r.below(6) {
        0 => s.extend(format!("{n}").bytes()),
        1 => s.extend(format!("0x{n:x}").bytes()),
        2 => s.extend(format!("0X{n:X}").bytes()),
        3 => s.extend(format!("0{n:o}").bytes()),
        4 => s.extend(r.bytes(b"0123456789abcdefxX", 25)),
        _ => s.extend(r.bytes(b"0123456789xX+-\n \0a", 8)),
    }
    if r.chance(40) {
        s.push(b'\n');
    }
    if r.chance(10) {
        s.extend(r.bytes(b"\n 0a\0", 3));
    }
    s
}

#[test]
fn assign_ids_match_kstrtoul() {
    let mut rng = Rng(0xa551_6e00_0000_0002);
    let cases: Vec<(String, String)> = (0..n_cases(20_000))
        .map(|_| {
            let s = id_case(&mut rng);
            let ans = match parse_id(&s) {
                Ok(v) => format!("rc 0 {v}"),
                Err(e) => format!("rc {}", -e.errno()),
            };
            (format!("kull 0 {}", hex(&s)), ans)
        })
        .collect();
    check("vfio_ap_c_reference_ids", &cases);
}

const UUID_PRELUDE: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <errno.h>
#include <sys/types.h>
typedef unsigned char u8; typedef unsigned char __u8;
#define EXPORT_SYMBOL(x)
#define GFP_KERNEL 0
#define kstrndup(s, n, g) strndup(s, n)
#define kfree(p) free((void *)(p))
#define UUID_STRING_LEN 36
#define _U 0x01
#define _L 0x02
#define _D 0x04
#define _C 0x08
#define _P 0x10
#define _S 0x20
#define _X 0x40
#define _SP 0x80
"#;

const UUID_PRELUDE2: &str = r#"
#define __ismask(x) (_ctype[(int)(unsigned char)(x)])
#define isxdigit(c) ((__ismask(c) & (_D | _X)) != 0)
typedef struct { __u8 b[16]; } guid_t;
struct mdev_type; struct mdev_type_attribute;
static guid_t created;
static int mdev_device_create(struct mdev_type *t, const guid_t *u) { created = *u; return 0; }
"#;

const UUID_DRIVER: &str = r#"
int main(void)
{
	static char line[1000], hx[600], buf[300];
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "%599s", hx) != 1) { printf("bad\n"); continue; }
		size_t n = 0;
		if (strcmp(hx, "-"))
			for (const char *h = hx; h[0] && h[1]; h += 2) { char t[3] = { h[0], h[1], 0 }; buf[n++] = (char)strtoul(t, NULL, 16); }
		buf[n] = 0;
		memset(&created, 0, sizeof(created));
		ssize_t rc = create_store(NULL, NULL, buf, n);
		printf("rc %zd", rc);
		if (rc >= 0) { printf(" "); for (int i = 0; i < 16; i++) printf("%02x", created.b[i]); }
		printf("\n");
	}
	return 0;
}
"#;

fn build_uuid_harness(tree: &Path, dir: &Path) -> Option<PathBuf> {
    let funcs: &[(&str, &str)] = &[
        ("lib/ctype.c", "const unsigned char _ctype[]"),
        ("lib/hexdump.c", "int hex_to_bin(unsigned char ch)"),
        ("lib/uuid.c", "const u8 guid_index[16]"),
        ("lib/uuid.c", "bool uuid_is_valid("),
        ("lib/uuid.c", "static int __uuid_parse("),
        ("lib/uuid.c", "int guid_parse("),
        (
            "drivers/vfio/mdev/mdev_sysfs.c",
            "static ssize_t create_store(",
        ),
    ];
    compile(
        tree,
        dir,
        "kuuid",
        funcs,
        [UUID_PRELUDE, UUID_PRELUDE2, UUID_DRIVER],
    )
}

fn uuid_case(r: &mut Rng) -> Vec<u8> {
    const CANON: &[u8] = b"62177883-f1bb-47f0-914d-32a22e3a8804";
    let mut s: Vec<u8> = CANON
        .iter()
        .map(|&c| {
            if c == b'-' {
                c
            } else {
                r.pick(b"0123456789abcdefABCDEF")
            }
        })
        .collect();
    // Mutations: a bad character, a moved dash, a NUL, other lengths, a 37th byte.
    for _ in 0..r.below(3) {
        if r.chance(50) {
            let i = r.below(s.len());
            s[i] = r.pick(b"-gG0\0 \n\xe1\xa0xz{}");
        }
    }
    match r.below(8) {
        0 => {
            s.pop();
        }
        1 => s.push(r.pick(b"\n\0x ")),
        2 => s.push(b'\n'),
        3 => s.extend_from_slice(b"\n\n"),
        4 => s.truncate(r.below(37)),
        _ => {}
    }
    s
}

#[test]
fn create_matches_guid_parse() {
    let name = "vfio_ap_c_reference_uuid";
    let Some(tree) = kernel_tree() else {
        return unavailable(name, "no linux-source-7.3 tree found");
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let Some(exe) = build_uuid_harness(&tree, &dir) else {
        return unavailable(name, "no C compiler");
    };
    let mut rng = Rng(0x6c1d_0000_0000_0003);
    let mut cases: Vec<(Vec<u8>, String)> = Vec::new();
    for _ in 0..n_cases(20_000) {
        let s = uuid_case(&mut rng);
        let ans = match create_store(&s) {
            Ok(g) => {
                let mut a = format!("rc {}", s.len());
                a.push(' ');
                for b in g.0 {
                    let _ = write!(a, "{b:02x}");
                }
                a
            }
            Err(e) => format!("rc {}", -e.errno()),
        };
        cases.push((s, ans));
    }
    let mut input = String::new();
    for (s, _) in &cases {
        input.push_str(&hex(s));
        input.push('\n');
    }
    let mut child = Command::new(&exe)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    let c_lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(c_lines.len(), cases.len());
    let bad: Vec<String> = cases
        .iter()
        .zip(&c_lines)
        .filter(|((_, rust), c)| rust != *c)
        .map(|((s, rust), c)| format!("{:?}\n   C: {c}\nRust: {rust}", String::from_utf8_lossy(s)))
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} cases differ from C, first ones:\n{}",
        bad.len(),
        cases.len(),
        bad.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
    let ok = cases.iter().filter(|(_, a)| !a.starts_with("rc -")).count();
    assert!(ok > cases.len() / 10, "too few valid cases: {ok}");
    eprintln!(
        "{name}: {} cases identical to the C functions ({ok} accepted)",
        cases.len()
    );
}
