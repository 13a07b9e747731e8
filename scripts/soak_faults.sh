#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The fault and concurrency half of make soak, in one x86_64 VM: faults_ap.sh and
# faults_vfio_ap.sh with every allocation n failed in turn (aprs.faults_all), faults_sim.sh,
# and isolation_storm.sh for AP_RS_SOAK_STORM_S seconds (default 300). Prints the figures:
# allocation failures injected, the storm's operations, and the kernel-log and kmemleak
# verdicts (a lockdep, hung-task, WARNING or kmemleak report fails the run).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
STORM=${AP_RS_SOAK_STORM_S:-300}
T=$TOP/tests/vm/tests
echo "fault soak (VM, x86_64): every allocation failure; storm ${STORM}s"
mkdir -p "$TOP/build"
TAP=$TOP/build/soak-faults.tap
rc=0
AP_RS_VM_RERUN=1 AP_RS_VM_APPEND="aprs.faults_all=1 aprs.storm_s=$STORM" \
	"$TOP/tests/vm/run.sh" --timeout $((STORM + 900)) --no-tests "$T/faults_ap.sh" \
	"$T/faults_vfio_ap.sh" "$T/faults_sim.sh" "$T/isolation_storm.sh" >"$TAP" 2>&1 || rc=$?
inj=$(sed -n 's/^# allocation failures injected: //p' "$TAP" | awk '{s += $1} END {print s + 0}')
echo "fault soak (VM, x86_64): $inj allocation failures injected, one per run, each handled" \
	"$([ "$rc" = 0 ] && echo "(all passed)" || echo "(FAILED)")"
sed -n 's/^# \(isolation_storm: .*\)/storm soak (VM, x86_64): \1/p; s/^# \(writer .*\)/storm soak (VM, x86_64):   \1/p;
	s/^# \(guests: .*\)/storm soak (VM, x86_64): \1/p' "$TAP"
echo "fault soak (VM, x86_64): kernel log clean after each test: $(grep -c 'kernel log clean$' "$TAP" | \
	tr -d '\n') of 4 tests, $(grep -c '^not ok.*kernel log clean' "$TAP" | tr -d '\n') with reports;" \
	"kmemleak: $(grep -q '^ok .*kmemleak: no leaks' "$TAP" && echo "no leaks" || echo "LEAKS or no scan")"
vm=$(grep '^vm(x86_64):' "$TAP" || true)
echo "fault soak (VM, x86_64): $vm"
if [ "$rc" != 0 ]; then
	grep '^not ok' "$TAP" || true
	echo "fault soak (VM, x86_64): FAILED (the result is in $TAP, the console log in build/x86_64/vm-console.log)"
fi
exit "$rc"
