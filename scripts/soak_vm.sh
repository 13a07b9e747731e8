#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The VM half of make soak: tests/vm/tests/isolation_random.sh (tests/vm/progs/isorand.c) in one
# x86_64 VM for AP_RS_SOAK_VM_STEPS random operations (default 100,000), the isolation invariant
# checked after every one, from the seed AP_RS_SOAK_SEED (default: from the clock; printed).
# Prints isorand's figures; a failure prints the whole result (seed, step, report, operations).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
STEPS=${AP_RS_SOAK_VM_STEPS:-100000}
SEED=${AP_RS_SOAK_SEED:-$(($(date +%s%N) % 1000000000))}
# A step takes 25 to 50 ms under x86_64 TCG; allow 100 ms and ten minutes more.
TIMEOUT=$((STEPS / 10 + 600))
echo "isolation soak (VM, x86_64): seed $SEED, $STEPS steps, timeout ${TIMEOUT}s"
mkdir -p "$TOP/build"
TAP=$TOP/build/soak-vm.tap
rc=0
AP_RS_VM_RERUN=1 AP_RS_VM_APPEND="aprs.iso_seed=$SEED aprs.iso_steps=$STEPS" \
	"$TOP/tests/vm/run.sh" --timeout "$TIMEOUT" --only isolation_random >"$TAP" 2>&1 || rc=$?
if [ "$rc" = 0 ]; then
	sed -n 's/^# isorand: /isolation soak (VM, x86_64): /p' "$TAP"
else
	grep -v '^ok ' "$TAP"
	echo "isolation soak (VM, x86_64): FAILED (seed $SEED; the result is in $TAP," \
		"the console log in build/x86_64/vm-console.log)"
fi
exit "$rc"
