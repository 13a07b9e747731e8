#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Uevents of the bus, in order and with their environment: ADD of every card
# (DEV_TYPE, MODALIAS, MODE) and queue (MODE) at load, INITSCAN=done once, BIND and
# BINDINGS=complete with COMPLETECOUNT=n when the test drivers bind everything (and
# again at the next scan after a rebinding), UNBIND/BIND and APMASK=/AQMASK= (with
# the trailing newline) on mask writes, UNBIND at rmmod of the drivers and REMOVE
# of every device at rmmod of the bus.
. /lib/vmtest.sh
B=/sys/bus/ap
D=/sys/devices/ap
FULL=0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
touch /tmp/ap-nondefault

# The machine: cards 00, 01 (CEX8 CCA), 04 (CEX6 EP11), 07 (CEX5 accel) x domains 0, 2, 9.
CARDS="0:000E:ap:t0E:cca 1:000E:ap:t0E:cca 4:000C:ap:t0C:ep11 7:000B:ap:t0B:accel"
DOMS="0 2 9"
# each_dev ACTION CARD_EXTRA QUEUE_EXTRA: sets WC to the uevent lines of ACTION for
# every card, WQ to those for every queue and W to both in bus order (each card, then
# its queues); CARD_EXTRA and QUEUE_EXTRA go after DEVTYPE (DRIVER=...). UNBIND
# uevents carry no MODALIAS= (kobject_uevent_env drops it).
each_dev() {
	local spec a t m mode c l
	W= WC= WQ=
	for spec in $CARDS; do
		a=${spec%%:*} t=${spec#*:} t=${t%%:*} mode=${spec##*:}
		m=${spec#*:*:} m=${m%:*}
		hex2 $a
		c=card$H2
		[ "$1" = unbind ] && m= || m=" MODALIAS=$m"
		l="$1 /devices/ap/$c SUBSYSTEM=ap DEVTYPE=ap_card$2 DEV_TYPE=$t$m MODE=$mode$NL"
		W=$W$l WC=$WC$l
		for q in $DOMS; do
			qname $a $q
			l="$1 /devices/ap/$c/$QN SUBSYSTEM=ap DEVTYPE=ap_queue$3 MODE=$mode$NL"
			W=$W$l WQ=$WQ$l
		done
	done
}
CARDLINES="* /devices/ap/card?? *"
QUEUELINES="* /devices/ap/card??/*"
# sorted TEXT: sets S to the lines of TEXT, sorted.
sorted() { printf '%s' "$1" >/tmp/.unsorted; sort /tmp/.unsorted >/tmp/.sorted; read_text /tmp/.sorted; S=$TEXT; }

ap_loaded && unload_ap
ulog_start
check "load the machine" load_ap 'sim="cards=0-1:cex8 cards=4:cex6:ep11 cards=7:cex5:accel doms=0,2,9"'
expect_store "no periodic scans while the test runs" $B/config_time '120' OK
each_dev add "" ""
ulog_fetch "$CARDLINES"
expect_eq "load: ADD of each card with DEV_TYPE, MODALIAS, MODE" "$WC" "$UEV"
ulog_filter "$QUEUELINES" "* /devices/ap *" "* /bus/ap*"
expect_eq "load: bus ADD, ADD of each queue with MODE, then INITSCAN=done" \
	"add /bus/ap SUBSYSTEM=bus$NL${WQ}change /devices/ap SUBSYSTEM=ap INITSCAN=done$NL" "$UEV"
ulog_filter "* /devices/ap*"
expect_eq "load: each card's ADD before its queues'" "${W}change /devices/ap SUBSYSTEM=ap INITSCAN=done$NL" "$UEV"
expect_text "bindings" $B/bindings "0/12\n"

ulog_clear
expect_store "scan" $B/scans '1' OK
expect_store "scan" $B/scans '1' OK
ulog_fetch
expect_eq "scans without changes send nothing (INITSCAN only once)" "" "$UEV"

# The test drivers: cards bind to aptest_card, queues to aptest_queue; once every
# queue is bound, BINDINGS=complete with COMPLETECOUNT=1.
ulog_clear
check "load the test drivers" insmod /m/ap_test_drv.ko
each_dev bind " DRIVER=aptest_card" " DRIVER=aptest_queue"
ulog_fetch "$CARDLINES"
expect_eq "BIND of every card to aptest_card" "$WC" "$UEV"
ulog_filter "$QUEUELINES" "* /devices/ap *" "* /bus/ap*"
expect_eq "BIND of every queue to aptest_queue, then BINDINGS=complete COMPLETECOUNT=1" \
	"add /bus/ap/drivers/aptest_card SUBSYSTEM=drivers$NL${WQ}add /bus/ap/drivers/aptest_queue SUBSYSTEM=drivers${NL}change /devices/ap SUBSYSTEM=ap BINDINGS=complete COMPLETECOUNT=1$NL" \
	"$UEV"
expect_text "bindings complete" $B/bindings "12/12 (complete)\n"
expect_text "bindings_complete_count" $B/bindings_complete_count "1\n"

# Mask writes: UNBIND (no driver takes the queues) or BIND, then APMASK=/AQMASK= with
# the mask and a trailing newline on /devices/ap.
qline() { qname $2 $3; hex2 $2; L="$1 /devices/ap/card$H2/$QN SUBSYSTEM=ap DEVTYPE=ap_queue$4 MODE=$5$NL"; }
ulog_clear
expect_store "apmask -4" $B/apmask '-4' OK
ulog_fetch
w=
for q in $DOMS; do qline unbind 4 $q "" ep11; w="$w$L"; done
expect_eq "apmask -4: UNBIND of 04.*, then APMASK=" \
	"${w}change /devices/ap SUBSYSTEM=ap APMASK=0xf7ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\\n$NL" "$UEV"
expect_text "bindings after apmask -4" $B/bindings "9/12\n"
ulog_clear
expect_store "aqmask -9" $B/aqmask '-9' OK
ulog_fetch
w=
for a in 0:cca 1:cca 7:accel; do qline unbind ${a%:*} 9 "" ${a#*:}; w="$w$L"; done
expect_eq "aqmask -9: UNBIND of 00.0009, 01.0009, 07.0009, then AQMASK=" \
	"${w}change /devices/ap SUBSYSTEM=ap AQMASK=0xffbfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\\n$NL" "$UEV"
ulog_clear
expect_store "aqmask +9" $B/aqmask '+9' OK
ulog_fetch
w=
for a in 0:cca 1:cca 7:accel; do qline bind ${a%:*} 9 " DRIVER=aptest_queue" ${a#*:}; w="$w$L"; done
expect_eq "aqmask +9: BIND of 00.0009, 01.0009, 07.0009 (not 04.0009), then AQMASK=" \
	"${w}change /devices/ap SUBSYSTEM=ap AQMASK=$FULL\\n$NL" "$UEV"
ulog_clear
expect_store "apmask +4" $B/apmask '+4' OK
ulog_fetch
w=
for q in $DOMS; do qline bind 4 $q " DRIVER=aptest_queue" ep11; w="$w$L"; done
expect_eq "apmask +4: BIND of 04.*, then APMASK=, no BINDINGS= yet" \
	"${w}change /devices/ap SUBSYSTEM=ap APMASK=$FULL\\n$NL" "$UEV"
expect_text "bindings complete again" $B/bindings "12/12 (complete)\n"
expect_text "bindings_complete_count before the next scan" $B/bindings_complete_count "1\n"
ulog_clear
expect_store "scan" $B/scans '1' OK
expect_store "scan" $B/scans '1' OK
ulog_fetch
expect_eq "the next scan sends BINDINGS=complete COMPLETECOUNT=2, once" \
	"change /devices/ap SUBSYSTEM=ap BINDINGS=complete COMPLETECOUNT=2$NL" "$UEV"
expect_text "bindings_complete_count" $B/bindings_complete_count "2\n"

# rmmod of the drivers: UNBIND of every device (without DRIVER=).
ulog_clear
check "unload the test drivers" rmmod ap_test_drv
each_dev unbind "" ""
ulog_fetch "unbind /devices/ap/card?? *"
sorted "$UEV"
expect_eq "rmmod ap_test_drv: UNBIND of every card" "$WC" "$S"
ulog_filter "unbind /devices/ap/card??/*"
sorted "$UEV"
expect_eq "rmmod ap_test_drv: UNBIND of every queue" "$WQ" "$S"
ulog_filter "remove /bus/ap/*"
sorted "$UEV"
expect_eq "rmmod ap_test_drv: the drivers' REMOVE" \
	"remove /bus/ap/drivers/aptest_card SUBSYSTEM=drivers${NL}remove /bus/ap/drivers/aptest_queue SUBSYSTEM=drivers$NL" "$S"
expect_text "bindings after rmmod" $B/bindings "0/12\n"

# rmmod of the bus: REMOVE of every device with its environment, of the bus and of
# /devices/ap.
ulog_clear
check "unload the bus" unload_ap
each_dev remove "" ""
ulog_fetch "$CARDLINES"
sorted "$UEV"
expect_eq "rmmod ap: REMOVE of every card with its environment" "$WC" "$S"
ulog_filter "$QUEUELINES" "* /devices/ap *" "* /bus/ap*"
sorted "$UEV"
expect_eq "rmmod ap: REMOVE of every queue with its environment, of bus ap and of /devices/ap" \
	"remove /bus/ap SUBSYSTEM=bus${NL}remove /devices/ap SUBSYSTEM=ap$NL$WQ" "$S"
ulog_stop
load_ap
done_testing
