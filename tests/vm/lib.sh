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

# ---- Helpers that spare forks (every fork costs about 0.1 s under s390 TCG, and
# the shell's read builtin about 1 ms per byte: it reads one byte at a time).
NL='
'
HEXD=0123456789abcdef
# hex2 N: sets H2 to N (0..255) as two lowercase hex digits.
hex2() { H2=${HEXD:$(($1 / 16)):1}${HEXD:$(($1 % 16)):1}; }
# qname APID APQI: sets QN to the queue device name (05.00ab).
qname() { hex2 "$1"; QN=$H2.00; hex2 "$2"; QN=$QN$H2; }
# read_text FILE: sets TEXT to FILE's exact contents (short text without NUL bytes;
# no fork), or to "<unreadable>" if FILE cannot be opened.
read_text() {
	local l
	TEXT=
	if ! { true <"$1"; } 2>/dev/null; then TEXT="<unreadable>"; return 1; fi
	while IFS= read -r l; do TEXT="$TEXT$l$NL"; done <"$1"
	TEXT="$TEXT$l"
}
# cat_text FILE: as read_text for longer files (one fork).
cat_text() {
	if ! { true <"$1"; } 2>/dev/null; then TEXT="<unreadable>"; return 1; fi
	TEXT=$(cat "$1"; echo x)
	TEXT=${TEXT%x}
}
# expect_text WHAT FILE EXPECTED: as expect_file, but EXPECTED knows only the \n
# escape, and nothing forks.
expect_text() {
	read_text "$2"
	expect_eq "$1" "${3//\\n/$NL}" "$TEXT"
}
# expect_store WHAT FILE BYTES RESULT: as expect_write, with one fork fewer.
expect_store() {
	local got
	printf "$3" >/tmp/.store
	got=$(swrite "$2" </tmp/.store)
	expect_eq "$1" "$4" "$got"
}
# drv_of DEVDIR: sets DRV to the name of the driver bound to DEVDIR, or to "-".
drv_of() {
	local here=$PWD
	DRV=-
	if cd -P "$1/driver" 2>/dev/null; then DRV=${PWD##*/}; cd "$here"; fi
}
# tmark WHAT: prints the uptime (to time the parts of a test).
tmark() { local up x; read -r up x </proc/uptime; diag "t=$up $*"; }

# ---- An ordered uevent log.
# The hotplug helpers run concurrently, so the records of uevent_start may
# interleave. These record each uevent as one line (one write) with its SEQNUM
# and print them sorted by it, without the SEQNUM:
#   <action> <devpath> KEY=value ...
# with those of the keys in ULOG_KEYS that are set, in that order; a value's
# trailing newline shows as the two characters \n.
#   ulog_start   installs the recorder as the hotplug helper; the log starts empty
#   ulog_sync    sends a numbered marker uevent (on /devices/virtual/mem/null) and
#                waits until every uevent up to it is logged (every SEQNUM since
#                the last ulog_clear)
#   ulog_fetch [PATTERN...]   ulog_sync, then sets UEV to the lines that match one
#                of the shell patterns (default: all), each with its newline
#   ulog_filter [PATTERN...]  the same on the log of the last ulog_fetch
#   ulog_get     ulog_fetch and print UEV
#   ulog_clear   ulog_sync, then empties the log
#   ulog_stop    uninstalls the recorder
ULOG=/tmp/ulog
ULOG_KEYS="SUBSYSTEM DEVTYPE DRIVER DEV_TYPE MODALIAS MODE CONFIG ONLINE INITSCAN BINDINGS COMPLETECOUNT APMASK AQMASK SYNTH_ARG_ULOG"
ULOG_DEV=/devices/virtual/mem/null
ULOG_N=0
ulog_start() {
	# One exec of the shell and builtins only per uevent.
	cat >/tmp/ulog-rec <<-EOR
		#!/bin/sh
		NL='
		'
		l="\$SEQNUM \$ACTION \$DEVPATH"
		for k in $ULOG_KEYS; do
			eval "s=\\\${\$k+x} v=\\\${\$k}"
			[ -n "\$s" ] || continue
			case \$v in *"\$NL") v="\${v%"\$NL"}\\\\n" ;; esac
			l="\$l \$k=\$v"
		done
		echo "\$l" >>$ULOG
	EOR
	chmod +x /tmp/ulog-rec
	: >$ULOG
	echo /tmp/ulog-rec >/proc/sys/kernel/hotplug
	ULOG_BASE=0
	ulog_clear
}
ulog_sync() {
	local n=0
	ULOG_N=$((ULOG_N + 1))
	echo "change 00000000-0000-0000-0000-000000000000 ULOG=$ULOG_N" >/sys$ULOG_DEV/uevent
	while :; do
		# The marker's SEQNUM once it and everything since ULOG_BASE is logged.
		ULOG_M=$(awk -v n="$ULOG_N" -v b="$ULOG_BASE" '
			$NF == "SYNTH_ARG_ULOG=" n { m = $1 }
			{ s[NR] = $1 }
			END {
				if (m == "") exit
				if (b > 0) { c = 0; for (i in s) if (s[i] > b && s[i] <= m) c++; if (c < m - b) exit }
				print m
			}' $ULOG)
		[ -n "$ULOG_M" ] && return 0
		n=$((n + 1))
		if [ $n -ge 200 ]; then notok "ulog: every uevent up to marker $ULOG_N logged"; return 1; fi
		sleep 0.1
	done
}
ulog_fetch() {
	local raw l seq ifs=$IFS
	ULOG_ALL=
	UEV=
	ulog_sync || return 1
	raw=$(sort -n $ULOG)
	set -f
	IFS=$NL
	for l in $raw; do
		seq=${l%% *}
		[ "$seq" -gt "$ULOG_BASE" ] && [ "$seq" -lt "$ULOG_M" ] || continue
		case $l in *" change $ULOG_DEV "*) continue ;; esac
		ULOG_ALL="$ULOG_ALL${l#* }$NL"
	done
	IFS=$ifs
	set +f
	ulog_filter "$@"
}
# ulog_filter [PATTERN...]: sets UEV as ulog_fetch does, from the last ulog_fetch.
ulog_filter() {
	local l p ifs=$IFS
	UEV=
	[ $# = 0 ] && set -- '*'
	set -f
	IFS=$NL
	for l in $ULOG_ALL; do
		IFS=$ifs
		for p in "$@"; do
			case $l in $p) UEV="$UEV$l$NL"; break ;; esac
		done
	done
	IFS=$ifs
	set +f
}
ulog_get() { ulog_fetch "$@" && printf '%s' "$UEV"; }
ulog_clear() { ulog_sync && ULOG_BASE=$ULOG_M && : >$ULOG; }
ulog_stop() { echo >/proc/sys/kernel/hotplug; }
