#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots the test kernel under qemu (TCG) with the project's modules and runs
# the VM tests; prints TAP and ends with "vm(<arch>): N passed, N failed".
#
#   tests/vm/run.sh [--arch x86_64|s390] [--sim SPEC] [--timeout SECONDS]
#                   [--only NAME] [--no-tests] [--shell] [--demo SCRIPT]
#                   [EXTRA_TEST.sh ...]
#
# --sim SPEC     the simulated machine (ap.ko sim= parameter; ';' or ' '
#                separated, see Documentation/testing.rst). x86_64 always runs
#                on the simulator; on s390 the runner passes sim=default unless
#                --sim is given, because qemu TCG has no AP facility.
# --only NAME    run only tests/vm/tests/NAME.sh (plus the extra scripts)
# --no-tests     run only the extra scripts given on the command line
# --shell        boot to an interactive prompt with the modules loaded
# --demo SCRIPT  run SCRIPT in the VM (after loading the modules) and show it
# Extra test scripts are copied into the VM and run like the in-tree ones.
# AP_RS_VM_APPEND adds to the kernel command line (e.g. "aprs.iso_seed=942 aprs.iso_steps=500"
# for tests/vm/tests/isolation_random.sh).
# --timeout is per test (default 120 s); the VM as a whole gets at least 40 minutes.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
A=x86_64 SIMSPEC= TIMEOUT=120 ONLY= NOTESTS= SHELLMODE= DEMO= SMP=${AP_RS_VM_SMP:-2}
EXTRA=()
while [ $# -gt 0 ]; do
	case $1 in
	--arch) A=$2; shift 2 ;;
	--sim) SIMSPEC=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--no-tests) NOTESTS=1; shift ;;
	--shell) SHELLMODE=1; shift ;;
	--demo) DEMO=$2; shift 2 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) EXTRA+=("$(readlink -f "$1")"); shift ;;
	esac
done
[ "$A" = s390x ] && A=s390
. "$TOP/scripts/common.sh"
toolchain_env
KB=$("$TOP/scripts/kernel.sh" "$A") || { rc=$?; echo "run.sh: stopped: the test kernel (scripts/kernel.sh) failed, see above" >&2; exit $rc; }
OUT=$("$TOP/scripts/modules.sh" "$A") || { rc=$?; echo "run.sh: stopped: the module build (scripts/modules.sh) failed, see above" >&2; exit $rc; }
KIMG=$KB/$(cat "$KB/.ap-rs-kimg")

case $A in
x86_64)
	CC=gcc BB=/bin/busybox MDV=$MDEVCTL_X86_64 TRIPLET=x86_64-linux-gnu
	QEMU=(qemu-system-x86_64 -accel tcg -cpu max)
	APPEND="console=ttyS0 quiet panic=-1" ;;
s390)
	CC=s390x-linux-gnu-gcc BB=$BUSYBOX_S390 MDV=$MDEVCTL_S390 TRIPLET=s390x-linux-gnu
	read -r -a QEMU <<<"$QEMU_S390"
	QEMU+=(-machine s390-ccw-virtio -accel tcg)
	APPEND="console=ttysclp0 quiet panic=-1"
	[ -n "$SIMSPEC" ] || SIMSPEC=default ;;
*) echo "run.sh: unknown arch $A" >&2; exit 2 ;;
esac

# Test programs, built static for the target; the headers in progs/ are shared
# between them (apview.h, vfio_open.h), so a newer header rebuilds them all.
# Under the checkout's build lock (modules.sh's), so that two runs take turns.
mkdir -p "$OUT/progs"
(
	cache_lock "$OUT/.lock" run.sh
	for src in "$HERE"/progs/*.c; do
		exe=$OUT/progs/$(basename "$src" .c)
		if [ ! -x "$exe" ] || [ "$src" -nt "$exe" ] ||
			[ -n "$(find "$HERE/progs" -name '*.h' -newer "$exe")" ]; then
			$CC -static -O2 -Wall -Wextra -Werror -o "$exe" "$src"
		fi
	done
)

# The initramfs.
IR=$(mktemp -d)
trap 'rm -rf "$IR"' EXIT
mkdir -p "$IR"/{bin,proc,sys,dev,tmp,m,lib,etc,tests/extra}
cp "$BB" "$IR/bin/busybox"
cp "$HERE/init" "$IR/init"
cp "$HERE/lib.sh" "$IR/lib/vmtest.sh"
cp "$OUT"/progs/* "$IR/bin/"
find "$OUT/drivers" "$OUT/tests" -name "*.ko" -exec cp {} "$IR/m/" \; 2>/dev/null || true
for k in drivers/vfio/mdev/mdev.ko; do [ -f "$KB/$k" ] && cp "$KB/$k" "$IR/m/"; done
# mdevctl (Debian's 1.4, fetched by scripts/toolchain.sh) with its directories, and the
# glibc it runs on (the initramfs has no other dynamic executable): the loader at the path
# the binary names, the libraries it needs in the multiarch directory the loader searches.
# The set-up may have found no source for it (its plan makes it optional): then the VM
# gets /etc/mdevctl-missing saying why, and tests/vm/tests/mdevctl.sh fails with that.
mkdir -p "$IR/usr/bin" "$IR/lib/$TRIPLET" "$IR/etc/mdevctl.d" \
	"$IR/usr/lib/mdevctl/scripts.d/callouts" "$IR/usr/lib/mdevctl/scripts.d/notifiers"
if [ -f "$MDV/.ap-rs-fetched" ]; then
	cp "$MDV/usr/bin/mdevctl" "$IR/usr/bin/"
	interp=$(readelf -l "$MDV/usr/bin/mdevctl" | sed -n 's/.*program interpreter: \(.*\)]$/\1/p')
	[ -n "$interp" ] || { echo "run.sh: no program interpreter in $MDV/usr/bin/mdevctl" >&2; exit 1; }
	mkdir -p "$IR$(dirname "$interp")"
	cp "$MDV/usr/lib/$TRIPLET/$(basename "$interp")" "$IR$interp"
	for l in $(readelf -d "$MDV/usr/bin/mdevctl" "$MDV/usr/lib/$TRIPLET/libgcc_s.so.1" |
		sed -n 's/.*Shared library: \[\(.*\)\]$/\1/p' | sort -u); do
		[ "$l" = "$(basename "$interp")" ] || cp "$MDV/usr/lib/$TRIPLET/$l" "$IR/lib/$TRIPLET/"
	done
else
	{ cat "$MDV.missing" 2>/dev/null || echo "the set-up has not fetched $MDV"; } >"$IR/etc/mdevctl-missing"
fi
[ -n "$SIMSPEC" ] && printf '%s\n' "$SIMSPEC" >"$IR/etc/aprs-sim"
if [ -z "$NOTESTS" ] && [ -z "$SHELLMODE" ] && [ -z "$DEMO" ]; then
	if [ -n "$ONLY" ]; then cp "$HERE/tests/$ONLY.sh" "$IR/tests/"; else cp "$HERE"/tests/*.sh "$IR/tests/"; fi
fi
for e in "${EXTRA[@]}"; do cp "$e" "$IR/tests/extra/"; done
[ -n "$DEMO" ] && cp "$DEMO" "$IR/etc/aprs-demo"
chmod +x "$IR/init"
# Per-run files, so that runs from one checkout can overlap; the last console log is
# also left at $OUT/vm-console.log.
RUN=$(mktemp -d "$OUT/run.XXXXXX")
trap 'rm -rf "$IR" "$RUN"' EXIT
CPIO=$RUN/initramfs.cpio
(cd "$IR" && find . -print0 | cpio --null -o -H newc --owner=0:0 --quiet) >"$CPIO"

APPEND="$APPEND aprs.timeout=$TIMEOUT${AP_RS_VM_APPEND:+ $AP_RS_VM_APPEND}"
if [ -n "$SHELLMODE" ]; then
	"${QEMU[@]}" -m 1024 -smp "$SMP" -kernel "$KIMG" -initrd "$CPIO" \
		-append "$APPEND aprs.shell" -nographic -no-reboot
	exit $?
fi

# A passing run is remembered under a hash of everything it ran: the kernel
# image, every file of the initramfs (modules, init, test scripts and programs,
# busybox, the simulated machine), the qemu command line and qemu's version. A
# second identical run prints the remembered TAP, marked as such, instead of
# booting again (a VM suite under s390 TCG takes minutes). AP_RS_VM_RERUN=1
# always boots; failed runs are never remembered.
REMEMBER=
if [ -z "$DEMO" ]; then
	VMKEY=$( {
		sha256sum <"$KIMG"
		(cd "$IR" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
		(cd "$IR" && find . -printf '%p %m %y\n' | sort)
		printf '%s\n' "${QEMU[*]}" "$SMP" "$APPEND"
		"${QEMU[0]}" --version | head -1
	} | sha256sum | cut -c1-20)
	REMEMBER=$AP_RS_CACHE/vm-results/$A-$VMKEY.tap
	if [ -z "${AP_RS_VM_RERUN:-}" ] && [ -f "$REMEMBER" ]; then
		echo "# remembered result: this exact VM run (key $VMKEY) passed on" \
			"$(date -r "$REMEMBER" '+%F %T'); AP_RS_VM_RERUN=1 boots it again"
		cat "$REMEMBER"
		exit 0
	fi
fi

LOG=$RUN/vm-console.log
# The whole VM gets 40 minutes, or the per-test timeout and 10 more for a longer test.
QTIMEOUT=$((TIMEOUT + 600 > 2400 ? TIMEOUT + 600 : 2400))
set +e
timeout "$QTIMEOUT" "${QEMU[@]}" -m 1024 -smp "$SMP" -kernel "$KIMG" -initrd "$CPIO" -append "$APPEND" \
	-nographic -monitor none -no-reboot </dev/null 2>&1 | tr -d '\r' >"$LOG"
set -e
cp "$LOG" "$OUT/vm-console.log.$$" && mv "$OUT/vm-console.log.$$" "$OUT/vm-console.log"

if [ -n "$DEMO" ]; then
	sed -n '/@@boot/,/@@done/p' "$LOG" | grep -v '^@@'
	grep -q '@@done' "$LOG" || { echo "run.sh: the demo did not finish (see $OUT/vm-console.log)" >&2; exit 1; }
	exit 0
fi

# Results as TAP (also kept in $TAP, to be remembered if the run passes).
TAP=$RUN/result.tap
exec 3>&1 >"$TAP"
pass=0 fail=0 n=0
while IFS= read -r line; do
	case $line in
	"@@ok "*) n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - [$A] ${line#@@ok }" ;;
	"@@notok "*) n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - [$A] ${line#@@notok }" ;;
	"# "*) echo "$line" ;;
	esac
done < <(grep -a -E '^(@@ok |@@notok |# )' "$LOG")
if ! grep -q '^@@done' "$LOG"; then
	n=$((n + 1)); fail=$((fail + 1))
	echo "not ok $n - [$A] the VM ran to the end (see $OUT/vm-console.log)"
	tail -30 "$LOG" | sed 's/^/# /'
fi
echo "1..$n"
echo "vm($A): $pass passed, $fail failed"
exec >&3 3>&-
cat "$TAP"
if [ "$fail" = 0 ] && [ -n "$REMEMBER" ]; then
	mkdir -p "$(dirname "$REMEMBER")"
	cp "$TAP" "$REMEMBER.$$" && mv "$REMEMBER.$$" "$REMEMBER"
fi
[ "$fail" = 0 ]
