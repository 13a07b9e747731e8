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
# request goes to the FIFO $SRV.req (fd 7), ended by a NUL byte; the reply is one
# line of $SRV.rsp (fd 8), read into R. Both FIFOs stay open (read-write, so no
# open waits): an open that waits fails with EINTR when a child of the shell
# exits, and a request or reply lost that way left shell and server waiting on
# each other. Each shell that sources this file starts its own server.
SRV=/tmp/.srv.$$
rm -f $SRV.req $SRV.rsp
mkfifo $SRV.req $SRV.rsp
swrite -s $SRV $$ &
exec 7<>$SRV.req 8<>$SRV.rsp
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
srv_sleep() { printf 'sleep %s\0' "$1" >&7; read -r R <&8; }
# srv_wait FILE MS: waits up to MS milliseconds for FILE to exist (R=OK or TIMEOUT).
srv_wait() { printf 'wait %s %s\0' "$1" "$2" >&7; read -r R <&8; [ "$R" = OK ]; }

# expect_file WHAT FILE EXPECTED: FILE's exact bytes (printf-escaped EXPECTED, e.g. 'x\n').
expect_file() {
	{ printf 'c %s\n' "$2"; printf "$3"; printf '\0'; } >&7
	IFS= read -r R <&8
	srv_cmp_report "$1"
}

# srv_write FILE BYTES: writes printf-escaped BYTES in one write(2); R is OK or the errno name.
srv_write() {
	{ printf 'w %s\n' "$1"; printf "$2"; printf '\0'; } >&7
	read -r R <&8
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
sim_cmd() { printf 'w %s\n%s\n\0' $SIM "$*" >&7; read -r R <&8; }

# inv WHAT: the isolation invariant holds now (tests/vm/progs/apview collects the view,
# ap_test_drv's ap_test/invariant checks it; needs ap_test_drv and vfio_ap loaded).
# inv_holds: the same as a status; the checker's report is in /tmp/inv.
inv_holds() { apview /sys/kernel/debug/ap_test/invariant >/tmp/inv 2>&1; }
inv() {
	if inv_holds; then ok "invariant: $1"; else
		notok "invariant: $1"; sed 's/^/# /' /tmp/inv
	fi
}

# dump_tasks: where every waiting task is (for a writer or step that does not finish).
dump_tasks() {
	local p
	ps -o pid,stat,args | sed 's/^/# /'
	for p in $(ls /proc | grep '^[0-9]'); do
		case $(cat /proc/$p/wchan 2>/dev/null) in "" | 0 | do_wait | hrtimer_nanosleep | do_sys_poll | do_select) continue ;; esac
		diag "$p $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null):"
		sed 's/^/#   /' /proc/$p/stack 2>/dev/null
	done
	for s in /tmp/st.*.out /tmp/vc.out; do [ -f $s ] && { diag "$s:"; tail -4 $s | sed 's/^/#   /'; }; done
	dmesg | tail -20 | sed 's/^/# /'
}

# watchdog SECONDS: dumps the waiting tasks if the test still runs after SECONDS
# (WD is the watchdog's pid, for kill $WD).
watchdog() {
	(sleep "$1"; diag "still running after $1 s:"; dump_tasks) &
	WD=$!
}

# ---- A guest: tests/vm/progs/vfio_client on one mdev, commands through a FIFO,
# one result line each in /tmp/vc.out.
# vc_start UUID: starts the client (VCPID).
vc_start() {
	rm -f /tmp/vc.cmd /tmp/vc.out
	mkfifo /tmp/vc.cmd
	: >/tmp/vc.out
	vfio_client "$1" /tmp/vc.cmd /tmp/vc.out &
	VCPID=$!
	VCN=0
}
# vc CMD...: runs CMD in the client; VCR is its result ("OK ..." or "ERR ...").
vc() {
	local l n=0
	VCN=$((VCN + 1))
	echo "$*" >/tmp/vc.cmd
	while :; do
		VCR=
		while IFS= read -r l; do
			case $l in "$VCN $* "*) VCR=${l#"$VCN $* "} ;; esac
		done </tmp/vc.out
		[ -n "$VCR" ] && return 0
		n=$((n + 1))
		if [ $n -gt 500 ]; then VCR=TIMEOUT; return 1; fi
		srv_sleep 20
	done
}

# guest_line UUID: sets GL to the line of /sys/kernel/debug/vfio_ap/guests (vfio_ap
# simguest=1) for the mdev UUID, without the CRYCB dump: "UUID commits N apm M aqm M adm M".
guest_line() {
	local l
	GL=
	while IFS= read -r l; do
		case $l in "$1 "*) GL=${l%% crycb *} ;; esac
	done </sys/kernel/debug/vfio_ap/guests
}

# ---- Allocation failures aimed at one module (tests/vm/tests/faults_*.sh): failslab
# with require-start/end (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER), so only
# allocations with that module's code on the stack count, and fail-nth
# (/proc/thread-self/fail-nth, tests/vm/progs/failnth.h) failing the n-th of them
# in one operation (swrite's "f" request, vfio_client's failnth).
FS=/sys/kernel/debug/failslab
# failslab_setup: nothing fails by chance (probability 0), GFP_KERNEL allocations
# count too, no report per injected failure (verbose 0: its stack dump would
# read as a kernel problem). Not the VFIO core's vfio_create_group: its error
# path puts the new group with iommu_group still set and vfio_group_release
# WARNs (drivers/vfio/group.c, Linux 7.3; found by faults_vfio_ap.sh failing
# the group's allocations under vfio_ap's probe).
failslab_setup() {
	local r
	FAULT_SCHEDULE=$(uname -m)
	grep -q aprs.faults_all /proc/cmdline && FAULT_SCHEDULE=all
	echo 0 >$FS/probability
	echo 0 >$FS/verbose
	echo N >$FS/ignore-gfp-wait
	echo 32 >$FS/stacktrace-depth
	failslab_reject vfio_create_group
}
# failslab_reject FUNCTION: no allocation with FUNCTION on the stack fails (the one
# reject range of failslab), for an upstream function whose error path is broken.
failslab_reject() {
	local r
	r=$(sort /proc/kallsyms | awk -v f="$1" '
		after { print $1; exit } $3 == f { printf "%s ", $1; after = 1 }')
	echo "0x${r% *}" >$FS/reject-start
	echo "0x${r#* }" >$FS/reject-end
}
# failslab_aim MODULE: only allocations with MODULE's code on the stack count; the
# range runs from its first text symbol to the next symbol after its last one.
failslab_aim() {
	local r
	r=$(sort /proc/kallsyms | awk -v m="[$1]" '
		$4 == m && ($2 == "t" || $2 == "T") { if (s == "") s = $1; l = $1; e = ""; after = 1; next }
		after && ($1 "") > (l "") { e = $1; after = 0 }
		END { if (e == "") e = "ffffffffffffffff"; print s, e }')
	echo "0x${r% *}" >$FS/require-start
	echo "0x${r#* }" >$FS/require-end
	diag "failslab aimed at $1: ${r% *} .. ${r#* }"
}
failslab_off() {
	echo 0 >$FS/require-start; echo 0xffffffffffffffff >$FS/require-end
	echo 0 >$FS/reject-start; echo 0 >$FS/reject-end
}
# fop FILE BYTES N: writes BYTES with the N-th allocation failing (N=0: none); FR
# is the result, followed by "injected" or "clean:K" (N - K allocations made) when N > 0.
fop() {
	if [ "$3" = 0 ]; then srv_write "$1" "$2"; FR=$R; else
		printf 'f %s %s\n%s\0' "$1" "$3" "$2" >&7; read -r FR <&8
	fi
}
# srv_state FILE...: R is a hash of the files' contents (commit counts left out; see
# swrite.c), cheap to compare (the read builtin costs 1 ms per byte under s390 TCG).
srv_state() { printf 's %s\0' "$*" >&7; read -r R <&8; }
# vcop N CMD: CMD in the client (vc_start) with the N-th allocation failing; FR as fop.
vcop() {
	local how=
	[ "$1" = 0 ] || vc failnth "$1"
	vc "$2"
	case $VCR in *" injected" | *" clean:"*) how=" ${VCR##* }" ;; esac
	case $VCR in "ERR "*) FR=${VCR#ERR }; FR=${FR%% *}$how ;; *) FR=${VCR%% *}$how ;; esac
}
# The runs fault_loop tries: every n up to 16, then steps of a quarter (n, n +
# n/4, ...) until the operation runs out of allocations; on s390x (about three
# times slower under TCG) every n up to 4, then doubling; every n with
# aprs.faults_all on the kernel command line (make soak). failslab_setup picks
# the schedule (FAULT_SCHEDULE), so that tests without faults fork nothing for it.
# fault_next: the n after n.
fault_next() {
	case $FAULT_SCHEDULE in
	all) n=$((n + 1)) ;;
	s390x) if [ $n -lt 4 ]; then n=$((n + 1)); else n=$((n * 2)); fi ;;
	*) if [ $n -lt 16 ]; then n=$((n + 1)); else n=$((n + n / 4)); fi ;;
	esac
}
# fault_loop WHAT [always]: runs f_op 0 (no fault), then f_op N with the N-th
# allocation failing for growing N until the operation makes fewer than N. f_op
# N sets FR (fop, vcop); f_state sets ST; f_undo goes back to the state before.
# After each failure the operation has either failed with ENOMEM and changed
# nothing, or (a failure the driver absorbs) reached the state of the run
# without faults; with "always" (an operation that cannot fail) only the latter.
# The isolation invariant must hold after each. FAULTS_INJECTED counts the failures.
FAULTS_INJECTED=0
fault_loop() {
	local what=$1 always=$2 before after n=0 bad= errs= res how= tried=0 made=? last=?
	f_state; before=$ST
	f_op 0; res=$FR
	f_state; after=$ST
	f_undo
	f_state
	if [ "$res" != OK ] || [ "$ST" != "$before" ]; then
		notok "$what: runs and undoes without faults"; diag "result $res"
		diag "before: $before"; diag "after:  $after"; diag "undone: $ST"
		return
	fi
	while [ $n -lt 2000 ]; do
		fault_next
		tried=$((tried + 1))
		f_op $n
		res=${FR% *} how=${FR##* }
		f_state
		case $how in clean:*)
			made=$((n - ${how#clean:}))
			[ "$res" = OK ] && [ "$ST" = "$after" ] || bad="$bad clean:$res"
			f_undo
			break ;;
		esac
		if [ "$how" != injected ]; then bad="$bad $n:$FR"; break; fi
		last=$n
		case $res in
		OK) [ "$ST" = "$after" ] || { bad="$bad $n:OK-but-not-done"; diag "$n: $ST"; } ;;
		ENOMEM)
			[ -z "$always" ] || bad="$bad $n:ENOMEM-for-an-operation-that-cannot-fail"
			errs="$errs $n"
			[ "$ST" = "$before" ] || { bad="$bad $n:ENOMEM-but-changed"; diag "$n: $ST"; } ;;
		*) bad="$bad $n:$res" ;;
		esac
		if ! inv_holds; then
			bad="$bad $n:invariant"; sed 's/^/# /' /tmp/inv
		fi
		[ "$ST" = "$before" ] || f_undo
		f_state
		[ "$ST" = "$before" ] || { bad="$bad $n:undo"; diag "undone: $ST"; break; }
	done
	FAULTS_INJECTED=$((FAULTS_INJECTED + tried - 1))
	tmark "$what: $((tried - 1)) runs with one allocation failing (the last n=$last; the run without a failure made $made); ENOMEM for n =${errs:- none}"
	if [ -z "$bad" ] && [ "${how%:*}" = clean ]; then ok "$what: every failure handled"; else
		notok "$what: every failure handled"; diag "problems:$bad"
	fi
}

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
	printf 'c %s\n%s\0' "$2" "${3//\\n/$NL}" >&7
	IFS= read -r R <&8
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
