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

# ---- The request server (swrite -s, see tests/vm/progs/swrite.c): writes and
# comparisons without a fork (every fork costs about 0.1 s under s390 TCG). A
# request is one open ... close of the FIFO $SRV.req; the reply is one line of
# $SRV.rsp, read into R. Each shell that sources this file starts its own server.
SRV=/tmp/.srv.$$
rm -f $SRV.req $SRV.rsp
mkfifo $SRV.req $SRV.rsp
swrite -s $SRV $$ &
# srv_cmp_report WHAT: ok/notok for the reply of a "c" request.
srv_cmp_report() {
	if [ "$R" = "=" ]; then ok "$1"; else
		notok "$1"
		R=${R#!}
		diag "expected bytes: ${R%%	*}"
		diag "actual bytes:   ${R#*	}"
	fi
}
# srv_sleep MS: sleeps without a fork.
srv_sleep() { echo "sleep $1" >$SRV.req; read -r R <$SRV.rsp; }
# srv_wait FILE MS: waits up to MS milliseconds for FILE to exist (R=OK or TIMEOUT).
srv_wait() { echo "wait $1 $2" >$SRV.req; read -r R <$SRV.rsp; [ "$R" = OK ]; }

# expect_file WHAT FILE EXPECTED: FILE's exact bytes (printf-escaped EXPECTED, e.g. 'x\n').
expect_file() {
	{ printf 'c %s\n' "$2"; printf "$3"; } >$SRV.req
	IFS= read -r R <$SRV.rsp
	srv_cmp_report "$1"
}

# srv_write FILE BYTES: writes printf-escaped BYTES in one write(2); R is OK or the errno name.
srv_write() {
	{ printf 'w %s\n' "$1"; printf "$2"; } >$SRV.req
	read -r R <$SRV.rsp
}

# write_result FILE BYTES: srv_write, printing the result.
write_result() { srv_write "$1" "$2"; echo "$R"; }

# expect_write WHAT FILE BYTES RESULT: RESULT is OK or an errno name (EINVAL, ...).
expect_write() {
	srv_write "$2" "$3"
	expect_eq "$1" "$4" "$R"
}

# The ap.ko module: load with extra parameters (the machine from the runner unless overridden).
AP_KO=/m/ap.ko
load_ap() {
	local sim=
	[ -f /etc/aprs-sim ] && read -r sim </etc/aprs-sim
	case "$*" in *sim=*) sim= ;; esac
	if [ -n "$sim" ]; then
		insmod $AP_KO "sim=\"$sim\"" "$@"
	else
		insmod $AP_KO "$@"
	fi
}
unload_ap() { rmmod ap; }
# fresh_ap: ap.ko freshly loaded on the default machine, no driver loaded. The
# runner reloads it before a test when the previous one left /tmp/ap-nondefault
# and marks such a load /tmp/ap-fresh; only a used load is reloaded here.
fresh_ap() {
	if [ -f /tmp/ap-fresh ] && ap_loaded; then rm -f /tmp/ap-fresh; return 0; fi
	ap_loaded && unload_ap
	load_ap
}
ap_loaded() { [ -d /sys/module/ap ]; }

# Simulator control.
SIM=/sys/kernel/debug/ap_sim/control
sim_cmd() { { printf 'w %s\n' $SIM; printf '%s\n' "$*"; } >$SRV.req; read -r R <$SRV.rsp; }

# done_testing: ends the script with the right exit status.
done_testing() { [ "$T_FAILS" = 0 ]; exit $?; }

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
# escape.
expect_text() {
	{ printf 'c %s\n' "$2"; printf '%s' "${3//\\n/$NL}"; } >$SRV.req
	IFS= read -r R <$SRV.rsp
	srv_cmp_report "$1"
}
# expect_store WHAT FILE BYTES RESULT: the same as expect_write.
expect_store() { expect_write "$@"; }
# drv_of DEVDIR: sets DRV to the name of the driver bound to DEVDIR, or to "-".
drv_of() {
	local here=$PWD
	DRV=-
	if cd -P "$1/driver" 2>/dev/null; then DRV=${PWD##*/}; cd "$here"; fi
}
# tmark WHAT: prints the uptime (to time the parts of a test).
tmark() { local up x; read -r up x </proc/uptime; diag "t=$up $*"; }

# ---- An ordered uevent log.
# A netlink listener (tests/vm/progs/uevmon.c) records each uevent as one line
# with its SEQNUM, in the kernel's order; these print them without the SEQNUM:
#   <action> <devpath> KEY=value ...
# with those of the keys in ULOG_KEYS that are set, in that order; a value's
# trailing newline shows as the two characters \n.
#   ulog_start   starts the listener; the log starts empty
#   ulog_sync    sends a numbered marker uevent (on /devices/virtual/mem/null) and
#                waits until the listener has logged it (and so every uevent before)
#   ulog_fetch [PATTERN...]   ulog_sync, then sets UEV to the lines that match one
#                of the shell patterns (default: all), each with its newline
#   ulog_filter [PATTERN...]  the same on the log of the last ulog_fetch
#   ulog_get     ulog_fetch and print UEV
#   ulog_clear   ulog_sync, then forgets the log so far
#   ulog_stop    stops the listener
ULOG=/tmp/ulog
ULOG_DIR=/tmp/ulog.d
ULOG_KEYS="SUBSYSTEM DEVTYPE DRIVER DEV_TYPE MODALIAS MODE CONFIG ONLINE INITSCAN BINDINGS COMPLETECOUNT APMASK AQMASK SYNTH_ARG_ULOG"
ULOG_DEV=/devices/virtual/mem/null
ULOG_N=0
ULOG_PID=
ulog_start() {
	ulog_stop
	rm -rf $ULOG_DIR
	mkdir -p $ULOG_DIR
	: >$ULOG
	uevmon $ULOG $ULOG_DIR $$ $ULOG_KEYS &
	ULOG_PID=$!
	srv_wait $ULOG_DIR/ready 20000 || notok "ulog: the uevent listener started"
	ULOG_BASE=0
	ulog_clear
}
ulog_sync() {
	ULOG_N=$((ULOG_N + 1))
	echo "change 00000000-0000-0000-0000-000000000000 ULOG=$ULOG_N" >/sys$ULOG_DEV/uevent
	if ! srv_wait $ULOG_DIR/mark.$ULOG_N 20000; then
		notok "ulog: marker $ULOG_N logged"
		return 1
	fi
	if [ -e $ULOG_DIR/overflow ]; then
		notok "ulog: the uevent listener lost no message"
		return 1
	fi
	# The marker's SEQNUM.
	read -r ULOG_M <$ULOG_DIR/mark.$ULOG_N
}
ulog_fetch() {
	local raw l seq ifs=$IFS
	ULOG_ALL=
	UEV=
	ulog_sync || return 1
	raw=$(cat $ULOG)
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
ulog_clear() { ulog_sync && ULOG_BASE=$ULOG_M; }
ulog_stop() {
	[ -n "$ULOG_PID" ] && kill "$ULOG_PID" 2>/dev/null && wait "$ULOG_PID" 2>/dev/null
	ULOG_PID=
	return 0
}
