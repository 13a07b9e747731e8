# SPDX-License-Identifier: GPL-2.0
# Helpers for VM test scripts (busybox sh). Sourced by every test.
#
# Each assertion prints one result line that the host runner counts:
#   @@ok <test>: <what>        or        @@notok <test>: <what>
# A test script also fails as a whole if it exits non-zero, times out, or the
# kernel log gains a WARNING/BUG/Oops/lockdep/KASAN/kmemleak report meanwhile.

T=${T:-$(basename "$0" .sh)}
T_FAILS=0

ok() { echo "@@ok $T: $*"; }
notok() { echo "@@notok $T: $*"; T_FAILS=$((T_FAILS + 1)); }
diag() { echo "# $*"; }

# check WHAT CMD...: passes if CMD succeeds.
check() {
	local what=$1; shift
	if "$@"; then ok "$what"; else notok "$what"; fi
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else notok "$1"; diag "expected: '$2'"; diag "actual:   '$3'"; fi
}

# expect_file WHAT FILE EXPECTED: FILE's exact bytes (printf-escaped EXPECTED, e.g. 'x\n').
expect_file() {
	printf "$3" >/tmp/.want
	cat "$2" >/tmp/.got 2>/dev/null
	if cmp -s /tmp/.want /tmp/.got; then ok "$1"; else
		notok "$1"
		diag "expected bytes: $(od -An -c /tmp/.want | tr -s ' \n' ' ')"
		diag "actual bytes:   $(od -An -c /tmp/.got | tr -s ' \n' ' ')"
	fi
}

# write_result FILE BYTES: writes printf-escaped BYTES in one write(2); prints OK or the errno name.
write_result() { printf "$2" | swrite "$1"; }

# expect_write WHAT FILE BYTES RESULT: RESULT is OK or an errno name (EINVAL, ...).
expect_write() {
	local got
	got=$(write_result "$2" "$3")
	expect_eq "$1" "$4" "$got"
}

# The ap.ko module: load with extra parameters (the machine from the runner unless overridden).
AP_KO=/m/ap.ko
load_ap() {
	local sim
	sim=$(cat /etc/aprs-sim 2>/dev/null)
	if [ -n "$sim" ] && ! echo "$*" | grep -q 'sim='; then
		insmod $AP_KO "sim=\"$sim\"" "$@"
	else
		insmod $AP_KO "$@"
	fi
}
unload_ap() { rmmod ap; }
ap_loaded() { [ -d /sys/module/ap ]; }

# Simulator control.
SIM=/sys/kernel/debug/ap_sim/control
sim_cmd() { printf '%s\n' "$*" | swrite $SIM >/dev/null; }

# done_testing: ends the script with the right exit status.
done_testing() { [ "$T_FAILS" = 0 ]; exit $?; }

# Uevents: uevent_start clears the record and installs the helper; uevent_get waits
# briefly (the helper runs asynchronously) and prints the records.
uevent_start() { : >/tmp/uevents; echo /bin/uevent-log >/proc/sys/kernel/hotplug; }
uevent_get() { sleep "${1:-0.5}"; cat /tmp/uevents; }
uevent_stop() { echo >/proc/sys/kernel/hotplug; }

# A mask as the bus prints it, from a list of set bits: mask_of 0 1 2 ...
# (shell builtins only: every fork costs a tenth of a second under s390 TCG)
mask_of() {
	local byte b v vals=""
	for byte in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31; do
		v=0
		for b in "$@"; do
			[ $((b / 8)) = "$byte" ] && v=$((v | (0x80 >> (b % 8))))
		done
		vals="$vals $v"
	done
	printf '0x'
	printf '%02x' $vals
	echo
}
