#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Binding by the permission masks, with the test drivers (ap_test_drv nondef=1):
# a queue belongs to the default driver aptest_queue iff its APID is in apmask and
# its APQI in aqmask, else to the non-default aptest_nondef; cards always bind to
# aptest_card. Relative and absolute mask writes reprobe exactly the queues whose
# owner changes. in_use: a write that sets bits asks the non-default driver with
# (new APIDs, all ones) or (all ones, new APQIs) (Linux 7.3); if it answers yes the
# write fails with EBUSY and changes nothing (masks, bindings, uevents, callbacks);
# clearing bits and unchanged masks ask nothing. Manually unbound queues (the C
# NULL-driver case), bind/unbind through sysfs, rmmod and reload of the drivers with
# devices bound, and apmask=/aqmask= at load.
. /lib/vmtest.sh
B=/sys/bus/ap
D=/sys/devices/ap
DBG=/sys/kernel/debug/ap_test
FULL=0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
touch /tmp/ap-nondefault

# owners: sets OWN to "<dev>:<class> ..." for every card and queue: C aptest_card,
# Q aptest_queue, N aptest_nondef, - unbound.
owners() {
	local a q c
	OWN=
	for a in 0 1 2 3; do
		hex2 $a
		c=card$H2
		drv_of $D/$c
		OWN="$OWN $c:${DRV#aptest_}"
		for q in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
			qname $a $q
			drv_of $D/$c/$QN
			OWN="$OWN $QN:${DRV#aptest_}"
		done
	done
	OWN=${OWN//:card/:C}
	OWN=${OWN//:queue/:Q}
	OWN=${OWN//:nondef/:N}
}
# want_owners "APIDS" "APQIS": sets WANT to what owners must give when exactly those
# APIDs and APQIs (of the 4 x 16 queues) are reserved for the default drivers.
want_owners() {
	local a q c
	WANT=
	for a in 0 1 2 3; do
		hex2 $a
		WANT="$WANT card$H2:C"
		for q in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
			qname $a $q
			case " $1 " in *" $a "*) case " $2 " in *" $q "*) WANT="$WANT $QN:Q"; continue ;; esac ;; esac
			WANT="$WANT $QN:N"
		done
	done
}
events() { cat_text $DBG/events; EV=$TEXT; }
clear_events() { echo >$DBG/events; }
# reprobes FROM TO "APQN..." : sets R to the remove/probe lines of moving those queues
# from driver FROM to driver TO, in that order.
reprobes() {
	local n
	R=
	for n in $3; do R="${R}remove aptest_$1 $n${NL}probe aptest_$2 $n$NL"; done
}
# apqns "APIDS" "APQIS": sets P to the queue names of that matrix, in bus order.
apqns() {
	local a q
	P=
	for a in $1; do for q in $2; do qname $a $q; P="$P $QN"; done; done
}
ALLQ="0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15"

check "a freshly loaded default machine" fresh_ap
expect_store "no periodic scans while the test runs" $B/config_time '120' OK
check "load the test drivers with aptest_nondef" insmod /m/ap_test_drv.ko nondef=1
d=
for f in $B/drivers/*; do d="$d ${f##*/}"; done
expect_eq "drivers" " aptest_card aptest_nondef aptest_queue" "$d"
owners
want_owners "0 1 2 3" "$ALLQ"
expect_eq "all ones: every queue on aptest_queue, cards on aptest_card" "$WANT" "$OWN"

# Relative writes that clear bits: no in_use query, the affected queues move.
clear_events
expect_store "apmask -1" $B/apmask '-1' OK
owners
want_owners "0 2 3" "$ALLQ"
expect_eq "apmask -1: 01.* on aptest_nondef" "$WANT" "$OWN"
apqns 1 "$ALLQ"
reprobes queue nondef "$P"
events
expect_eq "apmask -1: exactly 01.* reprobed, in order, no in_use" "$R" "$EV"
clear_events
expect_store "aqmask -2,-5" $B/aqmask '-2,-5' OK
owners
want_owners "0 2 3" "0 1 3 4 6 7 8 9 10 11 12 13 14 15"
expect_eq "aqmask -2,-5: x.0002, x.0005 on aptest_nondef" "$WANT" "$OWN"
apqns "0 2 3" "2 5"
reprobes queue nondef "$P"
events
expect_eq "aqmask -2,-5: exactly 00/02/03.0002 and .0005 reprobed" "$R" "$EV"

# Absolute writes that set bits: in_use(new APIDs, all ones) / in_use(all ones, new
# APQIs), answered no; then exactly the queues whose owner changes move.
clear_events
expect_store "apmask 0xd0 (sets 1, clears 2 and 4-255)" $B/apmask '0xd0' OK
expect_file "apmask 0xd0" $B/apmask "$(mask_of 0 1 3)\n"
owners
want_owners "0 1 3" "0 1 3 4 6 7 8 9 10 11 12 13 14 15"
expect_eq "apmask 0xd0: owners" "$WANT" "$OWN"
apqns 1 "0 1 3 4 6 7 8 9 10 11 12 13 14 15"
reprobes nondef queue "$P"
r=$R
apqns 2 "0 1 3 4 6 7 8 9 10 11 12 13 14 15"
reprobes queue nondef "$P"
events
expect_eq "apmask 0xd0: in_use(APID 1, all ones), then 01.* and 02.* reprobed" \
	"in_use aptest_nondef $(mask_of 1) $FULL$NL$r$R" "$EV"
clear_events
expect_store "aqmask 0xffff (sets 2 and 5, clears 16-255)" $B/aqmask '0xffff' OK
owners
want_owners "0 1 3" "$ALLQ"
expect_eq "aqmask 0xffff: owners" "$WANT" "$OWN"
apqns "0 1 3" "2 5"
reprobes nondef queue "$P"
events
expect_eq "aqmask 0xffff: in_use(all ones, APQIs 2 5), then x.0002 and x.0005 reprobed" \
	"in_use aptest_nondef $FULL $(mask_of 2 5)$NL$R" "$EV"

# in_use answers yes: every write that sets a bit fails with EBUSY and changes nothing.
echo 1 >$DBG/in_use
expect_text "in_use set" $DBG/in_use "1\n"
read_text $B/apmask
apm=$TEXT
read_text $B/aqmask
aqm=$TEXT
owners
own=$OWN
ulog_start
# busy WHAT FILE BYTES IN_USE_LINE
busy() {
	clear_events
	ulog_clear
	expect_store "$1 is EBUSY" $2 "$3" EBUSY
	events
	expect_eq "$1: one in_use query ($4)" "in_use aptest_nondef $4$NL" "$EV"
	expect_text "$1: apmask unchanged" $B/apmask "$apm"
	expect_text "$1: aqmask unchanged" $B/aqmask "$aqm"
	owners
	expect_eq "$1: no driver link changed" "$own" "$OWN"
	ulog_fetch
	expect_eq "$1: no uevent (no APMASK=/AQMASK=, no unbind/bind)" "" "$UEV"
}
busy "apmask +2" $B/apmask '+2' "$(mask_of 2) $FULL"
busy "apmask 0x60 (sets 2, clears 0 and 3)" $B/apmask '0x60\n' "$(mask_of 2) $FULL"
busy "apmask +2-5,-0" $B/apmask '+2-5,-0' "$(mask_of 2 4 5) $FULL"
busy "aqmask +16-17" $B/aqmask '+16-17' "$FULL $(mask_of 16 17)"
busy "aqmask 0x7fff8 (sets 16, clears 0)" $B/aqmask '0x7fff8' "$FULL $(mask_of 16)"

# Clearing bits never asks in_use, even while it would answer yes.
clear_events
ulog_clear
expect_store "apmask -3 while in use" $B/apmask '-3' OK
owners
want_owners "0 1" "$ALLQ"
expect_eq "apmask -3: 03.* on aptest_nondef" "$WANT" "$OWN"
apqns 3 "$ALLQ"
reprobes queue nondef "$P"
events
expect_eq "apmask -3: no in_use query, 03.* reprobed" "$R" "$EV"
ulog_fetch "change *"
expect_eq "apmask -3: APMASK= uevent" "change /devices/ap SUBSYSTEM=ap APMASK=$(mask_of 0 1)\\n$NL" "$UEV"

# An unchanged mask asks nothing, reprobes nothing, sends no uevent; a parse error
# asks nothing either.
clear_events
ulog_clear
expect_store "apmask -3 again (unchanged)" $B/apmask '-3' OK
expect_store "apmask 0xc0 (the same bits)" $B/apmask '0xc0\n' OK
expect_store "aqmask +0-15 (no new bit)" $B/aqmask '+0-15' OK
expect_store "apmask +2,x is EINVAL" $B/apmask '+2,x' EINVAL
expect_store "aqmask 0X1 is EINVAL" $B/aqmask '0X1' EINVAL
events
expect_eq "unchanged or invalid writes: no callback" "" "$EV"
ulog_fetch
expect_eq "unchanged or invalid writes: no uevent" "" "$UEV"
ulog_stop
echo 0 >$DBG/in_use

# Queues unbound by hand: a mask write must cope with them (C reads the NULL
# driver's flags there; an unbound queue counts as not bound to a default driver).
clear_events
expect_store "unbind 00.0000 from aptest_queue" $B/drivers/aptest_queue/unbind '00.0000' OK
expect_store "unbind 03.0007 from aptest_nondef" $B/drivers/aptest_nondef/unbind '03.0007\n' OK
events
expect_eq "unbind: remove callbacks" "remove aptest_queue 00.0000${NL}remove aptest_nondef 03.0007$NL" "$EV"
expect_text "bindings with two unbound queues" $B/bindings "62/64\n"
clear_events
expect_store "aqmask -15 with unbound queues" $B/aqmask '-15' OK
events
reprobes queue nondef "00.000f 01.000f"
expect_eq "aqmask -15: the unbound host queue 00.0000 is probed again, 03.0007 is left alone" \
	"probe aptest_queue 00.0000$NL$R" "$EV"
owners
want_owners "0 1" "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14"
expect_eq "aqmask -15: owners (03.0007 unbound)" "${WANT/03.0007:N/03.0007:-}" "$OWN"
clear_events
expect_store "bind 03.0007 to the default driver is ENODEV" $B/drivers/aptest_queue/bind '03.0007' ENODEV
expect_store "bind 03.0007 to aptest_nondef" $B/drivers/aptest_nondef/bind '03.0007' OK
events
expect_eq "bind: only aptest_nondef's probe is called" "probe aptest_nondef 03.0007$NL" "$EV"
expect_text "bindings complete again" $B/bindings "64/64 (complete)\n"

# rmmod with devices bound, then reload: the bindings follow the current masks; the
# drivers register as aptest_nondef, aptest_card, aptest_queue.
check "rmmod ap_test_drv with devices bound" rmmod ap_test_drv
owners
expect_eq "no device bound after rmmod" "$(echo "$WANT" | sed 's/:[CQN]/:-/g')" "$OWN"
expect_text "bindings after rmmod" $B/bindings "0/64\n"
d=
for f in $B/drivers/*; do [ -e "$f" ] && d="$d ${f##*/}"; done
expect_eq "no AP driver left" "" "$d"
check "reload the test drivers" insmod /m/ap_test_drv.ko nondef=1
owners
expect_eq "reload: bindings by the masks" "$WANT" "$OWN"
w=
for a in 0 1 2 3; do
	for q in $ALLQ; do
		case "$a $q" in [01]" "1[5]) ;; [01]" "*) continue ;; esac
		qname $a $q
		w="${w}probe aptest_nondef $QN$NL"
	done
done
w="${w}probe aptest_card 00.0000${NL}probe aptest_card 01.0000${NL}probe aptest_card 02.0000${NL}probe aptest_card 03.0000$NL"
apqns "0 1" "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14"
for n in $P; do w="${w}probe aptest_queue $n$NL"; done
events
expect_eq "reload: probe callbacks in registration and bus order" "$w" "$EV"
check "rmmod ap_test_drv" rmmod ap_test_drv

# apmask=/aqmask= at load decide the first binding.
unload_ap
check "load with apmask=0xa0 aqmask=+0-3,+8" load_ap apmask=0xa0 aqmask=+0-3,+8
expect_file "apmask from the parameter" $B/apmask "$(mask_of 0 2)\n"
expect_file "aqmask from the parameter" $B/aqmask "$(mask_of 0 1 2 3 8)\n"
check "load the test drivers" insmod /m/ap_test_drv.ko nondef=1
owners
want_owners "0 2" "0 1 2 3 8"
expect_eq "bindings by the load-time masks" "$WANT" "$OWN"
check "rmmod ap_test_drv" rmmod ap_test_drv
done_testing
