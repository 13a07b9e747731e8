#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every test layer. Each layer adds to the totals; the last line
# is "N passed, N failed" and the exit status is non-zero on any failure.
#   host: rustfmt, clippy -D warnings, cargo test (unit + property tests)
#   kernel: rustfmt of the kernel crates, module build for x86_64 and s390x
#           with warnings as errors and the kernel's clippy lints
#   VM: KUnit + the VM suite, booted under qemu TCG on x86_64 and s390x
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
cd "$TOP"
export PATH=$HOME/.cargo/bin:$PATH
ARCHES=${ARCHES:-"x86_64 s390"}
PASS=0 FAIL=0
LOGDIR=$TOP/build/check
mkdir -p "$LOGDIR"
START=$(date +%s)

step() { # step NAME CMD...: one pass/fail
	local name=$1; shift
	local log=$LOGDIR/$(echo "$name" | tr ' /' '__').log
	local t0=$SECONDS
	if "$@" >"$log" 2>&1; then
		PASS=$((PASS + 1)); echo "ok   - $name ($((SECONDS - t0))s)"
	else
		FAIL=$((FAIL + 1)); echo "FAIL - $name ($((SECONDS - t0))s)"; tail -40 "$log" | sed 's/^/    /'
	fi
}

count() { # count LOG: adds "vm(...): N passed, N failed" or cargo's "test result:" lines
	local log=$1 p f
	if grep -q '^vm(.*): [0-9]* passed, [0-9]* failed' "$log"; then
		p=$(sed -n 's/^vm(.*): \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$log" | tail -1)
		f=$(sed -n 's/^vm(.*): \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$log" | tail -1)
	else
		p=$(grep -o 'test result: [a-zA-Z]*\. [0-9]* passed; [0-9]* failed' "$log" | awk '{s+=$4} END {print s+0}')
		f=$(grep -o 'test result: [a-zA-Z]*\. [0-9]* passed; [0-9]* failed' "$log" | awk '{s+=$6} END {print s+0}')
	fi
	PASS=$((PASS + p)); FAIL=$((FAIL + f))
}

echo "== set-up"
if ! scripts/toolchain.sh >"$LOGDIR/toolchain.log" 2>&1; then
	cat "$LOGDIR/toolchain.log"; echo "0 passed, 1 failed"; exit 1
fi
. scripts/common.sh
toolchain_env
echo "fetched through side apt configurations (scripts/fetch.plan; the set-up log: $LOGDIR/toolchain.log):"
scripts/toolchain.sh --versions | sed 's/^/  /'
step "set-up scripts: fallback sources, clear errors, the cache lock (tests/setup/setup.sh)" tests/setup/setup.sh

echo "== host crates"
step "rustfmt (host crates)" cargo fmt --all -- --check
step "clippy -D warnings (host crates)" cargo clippy --workspace --all-targets -- -D warnings
# The fuzz targets (not a workspace member: make fuzz builds them with sanitizer coverage).
step "rustfmt (fuzz targets)" cargo fmt --manifest-path fuzz/Cargo.toml -- --check
step "clippy -D warnings (fuzz targets)" cargo clippy --manifest-path fuzz/Cargo.toml \
	--target-dir target/fuzz-clippy --locked -- -D warnings
log=$LOGDIR/cargo-test.log
# The differential tests against the kernel's own C parsers must run here (the
# kernel tree is installed above): not finding it is a failure, not a skip.
export AP_RS_REQUIRE_C_REFERENCE=1 AP_RS_LINUX_SRC=$KSRC
if cargo test --workspace >"$log" 2>&1; then echo "ok   - cargo test"; else echo "FAIL - cargo test"; grep -E '^test .* FAILED|panicked|error' "$log" | head -20 | sed 's/^/    /'; fi
count "$log"
if ! grep -q 'test result:' "$log"; then FAIL=$((FAIL + 1)); echo "FAIL - cargo test ran no tests"; tail -20 "$log"; fi

echo "== documentation"
step "Documentation/*.rst: reStructuredText without warnings" scripts/doccheck.sh

echo "== kernel crates"
kfiles=$(find drivers tests/kmod -name '*.rs' | sort)
step "rustfmt (kernel crates, kernel .rustfmt.toml)" rustfmt --check --edition 2021 --config-path "$KSRC/.rustfmt.toml" $kfiles
# An architecture whose kernel or modules failed does not boot: its VM suite
# counts as failed, and its kernel is not built a second time.
VM_ARCHES=
for A in $ARCHES; do
	f0=$FAIL
	step "$A: test kernel (cached)" scripts/kernel.sh "$A"
	[ "$FAIL" = "$f0" ] && step "$A: modules, -Werror/-Dwarnings, kernel clippy lints" scripts/modules.sh "$A" CLIPPY=1
	if [ "$FAIL" = "$f0" ]; then VM_ARCHES="$VM_ARCHES $A"
	else FAIL=$((FAIL + 1)); echo "FAIL - VM suite $A: not run, its kernel or modules failed above"; fi
done

echo "== VM suites (the architectures boot in parallel)"
declare -A PID T0
for A in $VM_ARCHES; do
	T0[$A]=$SECONDS
	tests/vm/run.sh --arch "$A" >"$LOGDIR/vm-$A.log" 2>&1 &
	PID[$A]=$!
done
for A in $VM_ARCHES; do
	log=$LOGDIR/vm-$A.log
	wait "${PID[$A]}"
	rc=$?
	count "$log"
	how=
	grep -q '^# remembered result' "$log" && how=" [remembered: this exact run passed before; AP_RS_VM_RERUN=1 boots it]"
	if [ $rc = 0 ]; then echo "ok   - VM suite $A ($((SECONDS - T0[$A]))s): $(tail -1 "$log")$how"
	else
		echo "FAIL - VM suite $A ($((SECONDS - T0[$A]))s): $(tail -1 "$log")"
		grep -E '^not ok|^# ' "$log" | head -60 | sed 's/^/    /'
		grep -q '^vm(' "$log" || { FAIL=$((FAIL + 1)); tail -30 "$log" | sed 's/^/    /'; }
	fi
done

echo "== total time $(( $(date +%s) - START ))s"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
