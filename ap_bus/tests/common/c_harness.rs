// SPDX-License-Identifier: GPL-2.0
//! Shared by the differential tests of ap_bus and vfio_ap: builds a C driver around the
//! parser functions of the Linux 7.3 tree (extracted at test time, never stored here) and runs
//! requests through it. See `ap_bus/tests/c_reference.rs`.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Linux 7.3 source tree, if there is one (see `ap_bus/tests/c_reference.rs`).
pub fn kernel_tree() -> Option<PathBuf> {
    let dir = match std::env::var_os("AP_RS_LINUX_SRC") {
        Some(d) => PathBuf::from(d),
        None => {
            let cache = match std::env::var_os("AP_RS_CACHE") {
                Some(c) => PathBuf::from(c),
                None => PathBuf::from(std::env::var_os("HOME")?).join(".cache/ap-rs"),
            };
            cache.join("linux-source-7.3")
        }
    };
    dir.join("drivers/s390/crypto/ap_bus.c")
        .is_file()
        .then_some(dir)
}

/// The text of the C function (or table) whose first line starts with `head`, up to its end.
pub fn extract(tree: &Path, file: &str, head: &str) -> String {
    let text = std::fs::read_to_string(tree.join(file)).unwrap();
    let mut out = String::new();
    let mut on = false;
    for line in text.lines() {
        if !on && line.starts_with(head) {
            on = true;
        }
        if on {
            out.push_str(line);
            out.push('\n');
            // A function ends at a `}` in column 0, a table at a `};` line not indented.
            let table_end = !line.starts_with([' ', '\t']) && line.contains("};");
            if line == "}" || table_end {
                return out;
            }
        }
    }
    panic!("{head} not found in {file}");
}

/// Declarations the extracted kernel functions need in user space.
const PRELUDE: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <stdbool.h>
#include <limits.h>
#include <errno.h>
static int host_scan3(const char *l, char *a, char *b, char *c)
{ return sscanf(l, "%15s %79s %59999s", a, b, c); }
#define sscanf k_sscanf
#define vsscanf k_vsscanf
typedef unsigned char u8; typedef short s16; typedef unsigned short u16;
#define noinline
#define unlikely(x) (x)
#define fallthrough __attribute__((fallthrough))
#define EXPORT_SYMBOL(x)
#define check_mul_overflow(a, b, d) __builtin_mul_overflow(a, b, d)
#define check_add_overflow(a, b, d) __builtin_add_overflow(a, b, d)
#define KSTRTOX_OVERFLOW (1U << 31)
#define _U 0x01
#define _L 0x02
#define _D 0x04
#define _C 0x08
#define _P 0x10
#define _S 0x20
#define _X 0x40
#define _SP 0x80
"#;

const PRELUDE2: &str = r#"
#define __ismask(x) (_ctype[(int)(unsigned char)(x)])
#define isspace(c) ((__ismask(c) & (_S)) != 0)
#define isxdigit(c) ((__ismask(c) & (_D | _X)) != 0)
#define isdigit(c) ('0' <= (c) && (c) <= '9')
static inline char _tolower(const char c) { return c | 0x20; }
static inline int isodigit(const char c) { return c >= '0' && c <= '7'; }
#define PI_SEL(_1, _2, _3, _4, _5, N, ...) N
#define _parse_integer(...) PI_SEL(__VA_ARGS__, PI5, PI4, PI3, x, x)(__VA_ARGS__)
#define PI3(s, b, r) _parse_integer_limit(s, b, r, INT_MAX, 0)
#define PI4(s, b, r, m) _parse_integer_limit(s, b, r, m, 0)
#define PI5(s, b, r, m, i) _parse_integer_limit(s, b, r, m, i)
unsigned int _parse_integer_limit(const char *s, unsigned int base, unsigned long long *p,
				  size_t max_chars, unsigned long long init);
static char *skip_spaces(const char *str) { while (isspace(*str)) ++str; return (char *)str; }
#define DECLARE_BITMAP(n, b) unsigned long n[(b) / 64]
#define __set_bit(nr, a) ((a)[(nr) / 64] |= 1UL << ((nr) % 64))
#define __clear_bit(nr, a) ((a)[(nr) / 64] &= ~(1UL << ((nr) % 64)))
#define test_bit(nr, a) (((a)[(nr) / 64] >> ((nr) % 64)) & 1)
#define bitmap_complement(d, s, n) do { for (int i_ = 0; i_ < (n) / 64; i_++) (d)[i_] = ~(s)[i_]; } while (0)
#define bitmap_clear(m, s, n) memset(m, 0, 32)
#define set_bit_inv(nr, a) ((a)[(nr) / 64] |= 1UL << (63 - (nr) % 64))
#define clear_bit_inv(nr, a) ((a)[(nr) / 64] &= ~(1UL << (63 - (nr) % 64)))
#define BITS_TO_LONGS(b) (((b) + 63) / 64)
#define PAGE_SIZE 4096UL
#define GFP_KERNEL 0
#define kstrndup(s, n, g) strndup(s, n)
#define kfree(p) free((void *)(p))
#define scoped_guard(...)
static char *strnchr(const char *s, size_t n, int c)
{ for (; n-- && *s; s++) if (*s == (char)c) return (char *)s; return NULL; }
struct device { struct { const char *name; int lock; } driver_override; };
"#;

/// The driver: one request per line, `op arg hex-encoded-input`, one answer line each.
const DRIVER: &str = r#"
static int unhex(const char *h, char *out)
{
	int n = 0;
	if (!strcmp(h, "-")) { out[0] = 0; return 0; }
	while (h[0] && h[1]) { char t[3] = { h[0], h[1], 0 }; out[n++] = (char)strtoul(t, NULL, 16); h += 2; }
	out[n] = 0;
	return n;
}
static void pm(unsigned long *m) { printf(" %016lx%016lx%016lx%016lx", m[0], m[1], m[2], m[3]); }
static void rdmask(const char *h, unsigned long *m)
{
	for (int i = 0; i < 4; i++) { char t[17]; memcpy(t, h + 16 * i, 16); t[16] = 0; m[i] = strtoul(t, NULL, 16); }
}
int main(void)
{
	static char line[200000], buf[100000], op[16], a1[80], hx[120000];
	while (fgets(line, sizeof(line), stdin)) {
		if (host_scan3(line, op, a1, hx) != 3) { printf("bad\n"); continue; }
		unhex(hx, buf);
		int base = atoi(a1);
		if (!strcmp(op, "mask") || !strcmp(op, "mod") || !strcmp(op, "hex2")) {
			unsigned long start[4], nm[4]; int rc;
			rdmask(a1, start);
			if (!strcmp(op, "mask")) {
				rc = ap_parse_bitmap_str(buf, start, 256, nm);
				printf("rc %d", rc); if (!rc) pm(nm);
			} else {
				memcpy(nm, start, 32);
				rc = !strcmp(op, "mod") ? modify_bitmap(buf, nm, 256) : ap_hex2bitmap(buf, nm, 256);
				printf("rc %d", rc); pm(nm);
			}
		} else if (!strcmp(op, "strtoul")) {
			char *e; unsigned long v = simple_strtoul(buf, &e, base); printf("%lu %ld", v, (long)(e - buf));
		} else if (!strcmp(op, "strtol")) {
			char *e; long v = simple_strtol(buf, &e, base); printf("%ld %ld", v, (long)(e - buf));
		} else if (!strcmp(op, "kull")) {
			unsigned long long v = 0; int rc = kstrtoull(buf, base, &v); printf("rc %d", rc); if (!rc) printf(" %llu", v);
		} else if (!strcmp(op, "kll")) {
			long long v = 0; int rc = kstrtoll(buf, base, &v); printf("rc %d", rc); if (!rc) printf(" %lld", v);
		} else if (!strcmp(op, "kuint")) {
			unsigned v = 0; int rc = kstrtouint(buf, base, &v); printf("rc %d", rc); if (!rc) printf(" %u", v);
		} else if (!strcmp(op, "kint")) {
			int v = 0; int rc = kstrtoint(buf, base, &v); printf("rc %d", rc); if (!rc) printf(" %d", v);
		} else if (!strcmp(op, "kbool")) {
			bool v = 0; int rc = kstrtobool(buf, &v); printf("rc %d", rc); if (!rc) printf(" %d", v);
		} else if (!strcmp(op, "scand") || !strcmp(op, "scani")) {
			int v = 0; int r = sscanf(buf, op[4] == 'd' ? "%d\n" : "%i\n", &v);
			printf("n %d", r); if (r == 1) printf(" %d", v);
		} else if (!strcmp(op, "apcfg")) {
			char *nb = strndup(buf, 3 * (256 / 4 + 3)), *rest = nb;
			unsigned long apm[4], aqm[4], adm[4];
			int rc = (parse_bitmap(&rest, apm, 256) || parse_bitmap(&rest, aqm, 256) ||
				  parse_bitmap(&rest, adm, 256)) ? -EINVAL : 0;
			printf("rc %d", rc); if (!rc) { pm(apm); pm(aqm); pm(adm); }
			free(nb);
		} else if (!strcmp(op, "dovr")) {
			struct device d = { { NULL, 0 } };
			int rc = __device_set_driver_override(&d, buf, (size_t)strtoul(a1, NULL, 10));
			printf("rc %d", rc);
			if (!rc && d.driver_override.name) {
				printf(" ");
				for (const char *c = d.driver_override.name; *c; c++) printf("%02x", (unsigned char)*c);
			} else if (!rc) {
				printf(" -");
			}
			kfree(d.driver_override.name);
		} else {
			printf("bad");
		}
		printf("\n");
	}
	return 0;
}
"#;

pub fn build_harness(tree: &Path, dir: &Path) -> Option<PathBuf> {
    let funcs: &[(&str, &str)] = &[
        ("lib/ctype.c", "const unsigned char _ctype[]"),
        ("lib/hexdump.c", "int hex_to_bin(unsigned char ch)"),
        ("lib/kstrtox.c", "const char *_parse_integer_fixup_radix"),
        ("lib/kstrtox.c", "unsigned int _parse_integer_limit"),
        ("lib/kstrtox.c", "static int _kstrtoull"),
        ("lib/kstrtox.c", "int kstrtoull("),
        ("lib/kstrtox.c", "int kstrtoll("),
        ("lib/kstrtox.c", "int kstrtouint("),
        ("lib/kstrtox.c", "int kstrtoint("),
        ("lib/kstrtox.c", "int kstrtobool("),
        (
            "lib/vsprintf.c",
            "static unsigned long long simple_strntoull",
        ),
        ("lib/vsprintf.c", "unsigned long long simple_strtoull"),
        ("lib/vsprintf.c", "unsigned long simple_strtoul("),
        ("lib/vsprintf.c", "long simple_strtol("),
        ("lib/vsprintf.c", "static long long simple_strntoll"),
        ("lib/vsprintf.c", "static inline int skip_atoi"),
        ("lib/vsprintf.c", "int vsscanf("),
        ("lib/vsprintf.c", "int sscanf("),
        ("drivers/s390/crypto/ap_bus.c", "int ap_hex2bitmap("),
        ("drivers/s390/crypto/ap_bus.c", "static int modify_bitmap("),
        (
            "drivers/s390/crypto/ap_bus.c",
            "static int ap_parse_bitmap_str(",
        ),
        (
            "drivers/s390/crypto/vfio_ap_ops.c",
            "static int parse_bitmap(",
        ),
        ("drivers/base/dd.c", "int __device_set_driver_override("),
    ];
    compile(tree, dir, "kref", funcs, [PRELUDE, PRELUDE2, DRIVER])
}

/// Builds the C program `dir/<stem>` from the kernel functions `funcs` (file, first line) of
/// `tree`, with `parts[0]` before them, `parts[1]` after the first one and `parts[2]` (the
/// driver's `main`) at the end; `None` without a C compiler.
pub fn compile(
    tree: &Path,
    dir: &Path,
    stem: &str,
    funcs: &[(&str, &str)],
    parts: [&str; 3],
) -> Option<PathBuf> {
    let mut src = String::from(parts[0]);
    for (i, (file, head)) in funcs.iter().enumerate() {
        src.push_str(&extract(tree, file, head));
        if i == 0 {
            src.push_str(parts[1]);
        }
    }
    src.push_str(parts[2]);
    let c = dir.join(format!("{stem}.c"));
    std::fs::write(&c, src).unwrap();
    let exe = dir.join(stem);
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(cc)
        .args(["-O1", "-funsigned-char", "-w", "-o"])
        .arg(&exe)
        .arg(&c)
        .status()
        .ok()?;
    assert!(status.success(), "the C harness {stem} does not compile");
    Some(exe)
}

/// xorshift64*: deterministic test inputs without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len())]
    }
    /// True with a probability of `percent` %.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub fn bytes(&mut self, alpha: &[u8], max: usize) -> Vec<u8> {
        let n = match self.below(6) {
            0 => 0,
            1 => 1,
            2 => 2,
            3 => 3,
            _ => self.below(max + 1),
        };
        (0..n).map(|_| self.pick(alpha)).collect()
    }
}

/// Hex encoding of a request input (`-` for the empty string).
pub fn hex(b: &[u8]) -> String {
    if b.is_empty() {
        return "-".into();
    }
    b.iter().fold(String::new(), |mut s, c| {
        let _ = write!(s, "{c:02x}");
        s
    })
}

/// Without a kernel tree or C compiler the comparison cannot run: a plain `cargo test` only
/// says so, but with `AP_RS_REQUIRE_C_REFERENCE=1` (set by `make check`, which installs both)
/// that is a failure.
pub fn unavailable(name: &str, why: &str) {
    let required = std::env::var_os("AP_RS_REQUIRE_C_REFERENCE").is_some_and(|v| v == "1");
    assert!(!required, "{name}: {why}, and AP_RS_REQUIRE_C_REFERENCE=1");
    eprintln!("{name}: {why}, differential test not run");
}

/// Runs `cases` (request line, Rust answer) through the C driver and asserts identical
/// answers.
pub fn check(name: &str, cases: &[(String, String)]) {
    let Some(tree) = kernel_tree() else {
        return unavailable(name, "no linux-source-7.3 tree found");
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let Some(exe) = build_harness(&tree, &dir) else {
        return unavailable(name, "no C compiler");
    };
    let mut input = String::new();
    for (req, _) in cases {
        input.push_str(req);
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
    let mut bad = Vec::new();
    for ((req, rust), c) in cases.iter().zip(c_lines) {
        if rust != c {
            bad.push(format!("{req}\n   C: {c}\nRust: {rust}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} cases differ from C, first ones:\n{}",
        bad.len(),
        cases.len(),
        bad.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
    eprintln!("{name}: {} cases identical to the C functions", cases.len());
}

/// The number of cases (`AP_RS_DIFF_CASES`, default `default`).
pub fn n_cases(default: usize) -> usize {
    std::env::var("AP_RS_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
