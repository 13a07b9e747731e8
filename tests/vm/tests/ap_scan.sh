#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Scans after changes of the simulated machine (each simulator write that changes
# the configuration rescans before it returns): adding and removing an adapter or a
# usage domain adds and removes card and queue devices (ADD/BIND, UNBIND/REMOVE
# uevents with their environment, BINDINGS=complete when new devices are bound);
# checkstop and deconfiguration show in the card and queue attributes, the latter
# with CONFIG= uevents; a new adapter type replaces the card at the next scan. With
# ap_test_drv nondef=1 the drivers' callbacks come in C order: on_config_changed of
# every driver before any probe or remove of that scan, on_scan_complete after;
# neither for a scan without a change of the configuration (QCI).
. /lib/vmtest.sh
B=/sys/bus/ap
D=/sys/devices/ap
DBG=/sys/kernel/debug/ap_test
touch /tmp/ap-nondefault

events() { cat_text $DBG/events; EV=$TEXT; }
clear_all() { echo >$DBG/events; ulog_clear; }
DRIVERS="aptest_nondef aptest_card aptest_queue"
CHANGED=
DONE=
for d in $DRIVERS; do CHANGED="${CHANGED}config_changed $d$NL" DONE="${DONE}scan_complete $d$NL"; done
CARDLINES="* /devices/ap/card?? *"
# fetch_other: the uevents of queues and of /devices/ap itself.
fetch_other() { ulog_filter "* /devices/ap/card??/*" "* /devices/ap *"; }
ALLQ="0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15"
# qlines ACTION APID "APQIS" EXTRA MODE: sets L to the uevent lines of those queues.
qlines() {
	local q
	L=
	for q in $3; do
		qname $2 $q
		L="$L$1 /devices/ap/card${QN%.*}/$QN SUBSYSTEM=ap DEVTYPE=ap_queue$4 MODE=$5$NL"
	done
}
# qlines2 ACTION1 EXTRA1 ACTION2 EXTRA2 APID "APQIS" MODE: both lines for each queue.
qlines2() {
	local q l
	L2=
	for q in $6; do
		qlines "$1" $5 $q "$2" $7
		l=$L
		qlines "$3" $5 $q "$4" $7
		L2="$L2$l$L"
	done
}
# qevents WHAT DRIVER "APIDS" "APQIS": sets E to "WHAT DRIVER <apqn>" lines.
qevents() {
	local a q
	E=
	for a in $3; do for q in $4; do qname $a $q; E="$E$1 $2 $QN$NL"; done; done
}
# attr_all FILE "APIDS" "APQIS": sets A to the distinct contents of FILE of those queues.
attr_all() {
	local a q
	A=
	for a in $2; do
		for q in $3; do
			qname $a $q
			read_text $D/card${QN%.*}/$QN/$1
			case "$A" in *"[$TEXT]"*) ;; *) A="$A[$TEXT]" ;; esac
		done
	done
}

check "a freshly loaded default machine" fresh_ap
expect_store "no periodic scans while the test runs" $B/config_time '120' OK
check "load the test drivers with aptest_nondef" insmod /m/ap_test_drv.ko nondef=1
expect_text "bindings_complete_count" $B/bindings_complete_count "1\n"
ulog_start

# ---- A new adapter.
clear_all
expect_store "add adapter 5 (CEX7 accel)" $SIM 'add 5 cex7 accel\n' OK
ulog_fetch "$CARDLINES"
expect_eq "add: ADD and BIND of card05" \
	"add /devices/ap/card05 SUBSYSTEM=ap DEVTYPE=ap_card DEV_TYPE=000D MODALIAS=ap:t0D MODE=accel${NL}bind /devices/ap/card05 SUBSYSTEM=ap DEVTYPE=ap_card DRIVER=aptest_card DEV_TYPE=000D MODALIAS=ap:t0D MODE=accel$NL" "$UEV"
fetch_other
qlines2 add "" bind " DRIVER=aptest_queue" 5 "$ALLQ" accel
expect_eq "add: ADD and BIND of each queue, then BINDINGS=complete COMPLETECOUNT=2" \
	"${L2}change /devices/ap SUBSYSTEM=ap BINDINGS=complete COMPLETECOUNT=2$NL" "$UEV"
qevents probe aptest_queue 5 "$ALLQ"
events
expect_eq "add: config_changed, probes, scan_complete" \
	"${CHANGED}probe aptest_card 05.0000$NL$E$DONE" "$EV"
expect_text "card05 hwtype" $D/card05/hwtype "13\n"
expect_text "bindings" $B/bindings "80/80 (complete)\n"

# ---- The adapter goes: each queue's UNBIND and REMOVE, then the card's (UNBIND
# uevents carry no MODALIAS=: kobject_uevent_env drops it).
clear_all
expect_store "remove adapter 5" $SIM 'remove 5\n' OK
ulog_fetch "$CARDLINES"
expect_eq "remove: UNBIND and REMOVE of card05" \
	"unbind /devices/ap/card05 SUBSYSTEM=ap DEVTYPE=ap_card DEV_TYPE=000D MODE=accel${NL}remove /devices/ap/card05 SUBSYSTEM=ap DEVTYPE=ap_card DEV_TYPE=000D MODALIAS=ap:t0D MODE=accel$NL" "$UEV"
fetch_other
qlines2 unbind "" remove "" 5 "$ALLQ" accel
expect_eq "remove: UNBIND and REMOVE of each queue, no BINDINGS=" "$L2" "$UEV"
ulog_filter "* /devices/ap/card05*"
expect_eq "remove: the queues go before the card" \
	"${L2}unbind /devices/ap/card05 SUBSYSTEM=ap DEVTYPE=ap_card DEV_TYPE=000D MODE=accel${NL}remove /devices/ap/card05 SUBSYSTEM=ap DEVTYPE=ap_card DEV_TYPE=000D MODALIAS=ap:t0D MODE=accel$NL" "$UEV"
qevents remove aptest_queue 5 "$ALLQ"
events
expect_eq "remove: config_changed, removes, scan_complete" \
	"$CHANGED${E}remove aptest_card 05.0000$NL$DONE" "$EV"
check "card05 gone" test ! -e $D/card05
expect_text "bindings" $B/bindings "64/64 (complete)\n"

# ---- A new usage domain: a queue on every card.
clear_all
expect_store "add usage domain 16" $SIM 'adom 16\n' OK
L2A=
for a in 0 1 2 3; do qlines2 add "" bind " DRIVER=aptest_queue" $a 16 cca; L2A=$L2A$L2; done
ulog_fetch "* /devices/ap/card??/*" "* /devices/ap *"
expect_eq "adom 16: ADD and BIND of x.0010, then BINDINGS=complete COMPLETECOUNT=3" \
	"${L2A}change /devices/ap SUBSYSTEM=ap BINDINGS=complete COMPLETECOUNT=3$NL" "$UEV"
qevents probe aptest_queue "0 1 2 3" 16
events
expect_eq "adom 16: config_changed, probes, scan_complete" "$CHANGED$E$DONE" "$EV"
expect_store "aqmask -17" $B/aqmask '-17' OK
clear_all
expect_store "add usage domain 17 (not in aqmask)" $SIM 'adom 17\n' OK
qevents probe aptest_nondef "0 1 2 3" 17
events
expect_eq "adom 17: the new queues go to aptest_nondef" "$CHANGED$E$DONE" "$EV"
ulog_fetch "change *"
expect_eq "adom 17: BINDINGS=complete COMPLETECOUNT=4" \
	"change /devices/ap SUBSYSTEM=ap BINDINGS=complete COMPLETECOUNT=4$NL" "$UEV"
clear_all
expect_store "remove usage domain 16" $SIM 'rdom 16\n' OK
L2A=
for a in 0 1 2 3; do qlines2 unbind "" remove "" $a 16 cca; L2A=$L2A$L2; done
ulog_fetch "* /devices/ap/card??/*" "* /devices/ap *"
expect_eq "rdom 16: UNBIND and REMOVE of x.0010" "$L2A" "$UEV"
qevents remove aptest_queue "0 1 2 3" 16
events
expect_eq "rdom 16: config_changed, removes, scan_complete" "$CHANGED$E$DONE" "$EV"
clear_all
expect_store "remove usage domain 17" $SIM 'rdom 17\n' OK
qevents remove aptest_nondef "0 1 2 3" 17
events
expect_eq "rdom 17: config_changed, removes from aptest_nondef, scan_complete" "$CHANGED$E$DONE" "$EV"
n=0
for f in $B/devices/*; do n=$((n + 1)); done
expect_eq "68 devices again" 68 "$n"

# ---- Checkstop: the QCI does not change (no callbacks) and no uevent is sent.
clear_all
expect_store "checkstop adapter 2" $SIM 'chkstop 2 1\n' OK
expect_text "card02 chkstop" $D/card02/chkstop "1\n"
attr_all chkstop 2 "$ALLQ"
expect_eq "02.* chkstop" "[1$NL]" "$A"
attr_all config 2 "$ALLQ"
expect_eq "02.* still configured" "[1$NL]" "$A"
expect_text "card01 chkstop" $D/card01/chkstop "0\n"
attr_all chkstop "0 1 3" "$ALLQ"
expect_eq "other queues' chkstop" "[0$NL]" "$A"
events
expect_eq "checkstop: no driver callback" "" "$EV"
ulog_fetch
expect_eq "checkstop: no uevent" "" "$UEV"
clear_all
expect_store "checkstop off" $SIM 'chkstop 2 0\n' OK
expect_text "card02 chkstop off" $D/card02/chkstop "0\n"
attr_all chkstop 2 "$ALLQ"
expect_eq "02.* chkstop off" "[0$NL]" "$A"
events
expect_eq "checkstop off: no driver callback" "" "$EV"
ulog_fetch
expect_eq "checkstop off: no uevent" "" "$UEV"

# ---- Deconfiguration: config 0 on the card and its queues, CONFIG=0 on each.
CENV="SUBSYSTEM=ap DEVTYPE=ap_card DRIVER=aptest_card DEV_TYPE=000E MODALIAS=ap:t0E MODE=cca"
for v in 0 1; do
	clear_all
	expect_store "config 1 $v" $SIM "config 1 $v\\n" OK
	expect_text "card01 config $v" $D/card01/config "$v\n"
	attr_all config 1 "$ALLQ"
	expect_eq "01.* config $v" "[$v$NL]" "$A"
	attr_all config "0 2 3" "$ALLQ"
	expect_eq "other queues configured" "[1$NL]" "$A"
	ulog_fetch "$CARDLINES"
	expect_eq "config 1 $v: CONFIG=$v on card01" "change /devices/ap/card01 $CENV CONFIG=$v$NL" "$UEV"
	qlines change 1 "$ALLQ" " DRIVER=aptest_queue" "cca CONFIG=$v"
	fetch_other
	expect_eq "config 1 $v: CONFIG=$v on each queue of card01" "$L" "$UEV"
	ulog_filter
	expect_eq "config 1 $v: the card's uevent first" "change /devices/ap/card01 $CENV CONFIG=$v$NL$L" "$UEV"
	events
	expect_eq "config 1 $v: no driver callback" "" "$EV"
done

# ---- A new type: the simulator raises no configuration event, the next scan finds
# the change and replaces the card (without config_changed/scan_complete).
clear_all
expect_store "adapter 3 becomes a CEX6" $SIM 'type 3 cex6\n' OK
expect_store "scan" $B/scans '1' OK
expect_text "card03 hwtype" $D/card03/hwtype "12\n"
expect_text "card03 raw_hwtype" $D/card03/raw_hwtype "12\n"
ulog_fetch "$CARDLINES"
expect_eq "type: card03 UNBIND, REMOVE, ADD, BIND" \
	"unbind /devices/ap/card03 SUBSYSTEM=ap DEVTYPE=ap_card DEV_TYPE=000E MODE=cca
remove /devices/ap/card03 SUBSYSTEM=ap DEVTYPE=ap_card DEV_TYPE=000E MODALIAS=ap:t0E MODE=cca
add /devices/ap/card03 SUBSYSTEM=ap DEVTYPE=ap_card DEV_TYPE=000C MODALIAS=ap:t0C MODE=cca
bind /devices/ap/card03 SUBSYSTEM=ap DEVTYPE=ap_card DRIVER=aptest_card DEV_TYPE=000C MODALIAS=ap:t0C MODE=cca$NL" "$UEV"
qlines2 unbind "" remove "" 3 "$ALLQ" cca
gone=$L2
qlines2 add "" bind " DRIVER=aptest_queue" 3 "$ALLQ" cca
fetch_other
expect_eq "type: the queues go and come back, then BINDINGS=complete COMPLETECOUNT=5" \
	"$gone${L2}change /devices/ap SUBSYSTEM=ap BINDINGS=complete COMPLETECOUNT=5$NL" "$UEV"
qevents remove aptest_queue 3 "$ALLQ"
r=$E
qevents probe aptest_queue 3 "$ALLQ"
events
expect_eq "type: removes then probes, no config_changed/scan_complete" \
	"${r}remove aptest_card 03.0000${NL}probe aptest_card 03.0000$NL$E" "$EV"

# ---- A scan without any change: no callback, no uevent.
clear_all
expect_store "scan" $B/scans '1' OK
expect_store "a simulator write that changes nothing" $SIM 'adom 0\n' OK
events
expect_eq "unchanged scan: no driver callback" "" "$EV"
ulog_fetch
expect_eq "unchanged scan: no uevent" "" "$UEV"

ulog_stop
check "rmmod ap_test_drv" rmmod ap_test_drv
done_testing
