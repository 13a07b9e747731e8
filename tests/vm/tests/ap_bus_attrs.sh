#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Every bus attribute but the masks (ap_masks.sh): ap_domain (sscanf %i syntax,
# range, aqmask), ap_interrupts, config_time (sscanf %d, 5..120), poll_thread
# (kstrtobool), poll_timeout (kstrtoul base 0, at most 120 s), scans (a write
# scans), bindings, bindings_complete_count, features. The writable card and
# queue attributes: card request_count, card config (sscanf %d 0/1, simulated
# SCLP, EOPNOTSUPP without it, CONFIG= uevents on the card and, after a scan, on
# its queues), queue request_count and queue reset (reads before and after).
. /lib/vmtest.sh
B=/sys/bus/ap
D=/sys/devices/ap
touch /tmp/ap-nondefault

# A fresh bus, and no periodic scan while the test runs.
check "a freshly loaded default machine" fresh_ap
expect_store "config_time 120" $B/config_time '120' OK

# ---- ap_domain: sscanf("%i\n"), 0..ap_max_domain_id, set in aqmask.
expect_text "ap_domain: the first domain with a usable queue" $B/ap_domain "0\n"
for w in "5:5" "0x0a\n:10" "010:8" " 7:7" "12abc:12" "-0:0" "08:0" "4294967297:1" "255\n:255"; do
	in=${w%:*} v=${w##*:}
	expect_store "ap_domain '$in' is OK" $B/ap_domain "$in" OK
	expect_text "ap_domain '$in' reads $v" $B/ap_domain "$v\n"
done
for in in 256 -1 +3 x3 abc '\n' 0x100; do
	expect_store "ap_domain '$in' is EINVAL" $B/ap_domain "$in" EINVAL
done
expect_text "ap_domain unchanged after EINVAL" $B/ap_domain "255\n"
expect_store "aqmask -9" $B/aqmask '-9' OK
expect_store "ap_domain 9 not in aqmask is EINVAL" $B/ap_domain '9' EINVAL
expect_store "ap_domain 10 in aqmask" $B/ap_domain '10' OK
expect_store "aqmask +9" $B/aqmask '+9' OK
expect_store "scan" $B/scans '1' OK
expect_text "a scan keeps the chosen ap_domain" $B/ap_domain "10\n"

# ---- ap_interrupts: read-only; the simulator has no adapter interruptions.
expect_text "ap_interrupts" $B/ap_interrupts "0\n"
expect_store "ap_interrupts is read-only" $B/ap_interrupts '1' "open:EACCES"

# ---- config_time: sscanf("%d\n"), 5..120 seconds.
expect_text "config_time" $B/config_time "120\n"
for w in "5:5" " 60:60" "61s:61" "120\n:120"; do
	in=${w%:*} v=${w##*:}
	expect_store "config_time '$in' is OK" $B/config_time "$in" OK
	expect_text "config_time '$in' reads $v" $B/config_time "$v\n"
done
for in in 4 121 -5 0x10 abc '\n' +30; do
	expect_store "config_time '$in' is EINVAL" $B/config_time "$in" EINVAL
done
expect_text "config_time unchanged after EINVAL" $B/config_time "120\n"

# ---- poll_thread: kstrtobool (7.3: also e/E and d/D).
expect_text "poll_thread" $B/poll_thread "0\n"
for w in 1:1 0:0 y:1 n:0 Y:1 N:0 t:1 f:0 T:1 F:0 e:1 d:0 E:1 D:0 on:1 off:0 \
	ON:1 OFF:0 oN:1 oF:0 'yes please:1' 'no\n:0' '1\n:1' 'false:0'; do
	in=${w%:*} v=${w##*:}
	expect_store "poll_thread '$in' is OK" $B/poll_thread "$in" OK
	expect_text "poll_thread '$in' reads $v" $B/poll_thread "$v\n"
done
for in in o 2 x ' 1' '\n' -1; do
	expect_store "poll_thread '$in' is EINVAL" $B/poll_thread "$in" EINVAL
done
expect_text "poll_thread unchanged after EINVAL" $B/poll_thread "0\n"

# ---- poll_timeout: kstrtoul(buf, 0), at most 120000000000 ns.
expect_text "poll_timeout (LPAR default)" $B/poll_timeout "250000\n"
for w in "1000000:1000000" "0x10:16" "010:8" "+12:12" "13\n:13" "0X1f:31" \
	"120000000000:120000000000"; do
	in=${w%:*} v=${w##*:}
	expect_store "poll_timeout '$in' is OK" $B/poll_timeout "$in" OK
	expect_text "poll_timeout '$in' reads $v" $B/poll_timeout "$v\n"
done
for w in 120000000001:EINVAL 18446744073709551615:EINVAL 18446744073709551616:ERANGE \
	0x10000000000000000:ERANGE -1:EINVAL ' 12:EINVAL' '12 :EINVAL' '12\n\n:EINVAL' \
	abc:EINVAL 0x:EINVAL 08:EINVAL '\n:EINVAL'; do
	in=${w%:*} e=${w##*:}
	expect_store "poll_timeout '$in' is $e" $B/poll_timeout "$in" "$e"
done
expect_text "poll_timeout unchanged after errors" $B/poll_timeout "120000000000\n"
expect_store "poll_timeout back to 250000" $B/poll_timeout '250000' OK

# ---- scans: the number of scans; any write scans synchronously.
read_text $B/scans
n=${TEXT%$NL}
case $n in '' | *[!0-9]*) notok "scans is a number: '$TEXT'" ;; *) ok "scans is a number" ;; esac
expect_store "scans: write anything" $B/scans 'x' OK
expect_text "scans: one more" $B/scans "$((n + 1))\n"
expect_store "scans: write a newline" $B/scans '\n' OK
expect_text "scans: two more" $B/scans "$((n + 2))\n"

# ---- bindings and bindings_complete_count.
expect_text "bindings without drivers" $B/bindings "0/64\n"
expect_text "bindings_complete_count without drivers" $B/bindings_complete_count "0\n"
check "load the test drivers" insmod /m/ap_test_drv.ko
expect_text "bindings with the test drivers" $B/bindings "64/64 (complete)\n"
expect_text "bindings_complete_count after all bound" $B/bindings_complete_count "1\n"

# ---- features.
expect_text "features" $B/features "APSC APXA QACT RC8A\n"

# ---- Card request_count: any write resets it (and its queues' counters).
C=$D/card01
expect_store "card request_count write" $C/request_count '1' OK
expect_store "card request_count write junk" $C/request_count 'junk' OK
expect_text "card request_count" $C/request_count "0\n"

# ---- Card config: sscanf("%d\n") 0/1, then SCLP (de)configure if it differs; the
# flag is set and CONFIG= is sent on the card on every successful write. The queues
# follow at the next scan.
ulog_start
for in in 2 -1 +1 abc '\n' x1; do
	expect_store "card config '$in' is EINVAL" $C/config "$in" EINVAL
done
ulog_fetch
expect_eq "no uevent after EINVAL" "" "$UEV"
CARDENV="SUBSYSTEM=ap DEVTYPE=ap_card DRIVER=aptest_card DEV_TYPE=000E MODALIAS=ap:t0E MODE=cca"
expect_store "card config 0 (SCLP deconfigure)" $C/config '0\n' OK
expect_text "card config reads 0" $C/config "0\n"
expect_text "its queue still reads config 1 before a scan" $C/01.0003/config "1\n"
ulog_fetch
expect_eq "CONFIG=0 uevent on the card" "change /devices/ap/card01 $CARDENV CONFIG=0$NL" "$UEV"
check "the simulator deconfigured adapter 1" grep -q '^card 01 type=14 mode=cca config=0' $SIM
ulog_clear
expect_store "scan" $B/scans '1' OK
want=
for q in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
	qname 1 $q
	want="${want}change /devices/ap/card01/$QN SUBSYSTEM=ap DEVTYPE=ap_queue DRIVER=aptest_queue MODE=cca CONFIG=0$NL"
done
ulog_fetch
expect_eq "the scan sends CONFIG=0 on each queue, none on the card" "$want" "$UEV"
expect_text "queue config after the scan" $C/01.0003/config "0\n"
expect_text "card config still 0" $C/config "0\n"
ulog_clear
expect_store "card config 0 again (no SCLP call)" $C/config '0' OK
expect_store "card config 0x1 is 0 (%d stops at x)" $C/config '0x1' OK
ulog_fetch
expect_eq "CONFIG=0 on every successful write" "change /devices/ap/card01 $CARDENV CONFIG=0${NL}change /devices/ap/card01 $CARDENV CONFIG=0$NL" "$UEV"
ulog_clear
expect_store "card config ' 1' (SCLP configure)" $C/config ' 1' OK
expect_text "card config reads 1" $C/config "1\n"
check "the simulator configured adapter 1" grep -q '^card 01 type=14 mode=cca config=1' $SIM
expect_store "scan" $B/scans '1' OK
ulog_fetch
expect_eq "CONFIG=1 on the card, then on its queues at the scan" \
	"change /devices/ap/card01 $CARDENV CONFIG=1$NL${want//CONFIG=0/CONFIG=1}" "$UEV"
expect_text "queue config back to 1" $C/01.0003/config "1\n"
sim_cmd sclp 0
ulog_clear
expect_store "card config 0 without SCLP reconfiguration" $C/config '0' EOPNOTSUPP
expect_text "card config unchanged after EOPNOTSUPP" $C/config "1\n"
expect_store "card config 1 (unchanged: no SCLP call) without SCLP" $C/config '1abc' OK
ulog_fetch
expect_eq "no uevent after EOPNOTSUPP, CONFIG=1 after the unchanged write" \
	"change /devices/ap/card01 $CARDENV CONFIG=1$NL" "$UEV"
sim_cmd sclp 1
ulog_stop

# ---- Queue request_count and reset. aptest_queue is a default driver: the bus runs
# the queue's state machine (reset, then idle; no interruptions here).
Q=$D/card00/00.0002
expect_store "queue request_count write" $Q/request_count '5' OK
expect_text "queue request_count" $Q/request_count "0\n"
n=0
while read_text $Q/reset && [ "$TEXT" != "No Reset Timer set.$NL" ] && [ $n -lt 50 ]; do
	sleep 0.1; n=$((n + 1))
done
expect_text "queue reset: idle after the initial reset" $Q/reset "No Reset Timer set.\n"
expect_text "queue interrupt" $Q/interrupt "Interrupts disabled.\n"
sim_cmd reset_ms never
expect_store "queue reset write" $Q/reset '1' OK
expect_text "queue reset: in progress while the reset runs" $Q/reset "Reset in progress.\n"
sleep 0.3
expect_text "queue reset: still in progress" $Q/reset "Reset in progress.\n"
expect_text "another queue is idle" $D/card00/00.0003/reset "No Reset Timer set.\n"
sim_cmd reset_ms 5
n=0
while read_text $Q/reset && [ "$TEXT" != "No Reset Timer set.$NL" ] && [ $n -lt 50 ]; do
	sleep 0.1; n=$((n + 1))
done
expect_text "queue reset: idle once the reset completes" $Q/reset "No Reset Timer set.\n"
expect_text "queue request_count after the reset" $Q/request_count "0\n"

check "unload the test drivers" rmmod ap_test_drv
expect_text "bindings after rmmod" $B/bindings "0/64\n"

# ---- features and bindings on other machines.
expect_store "machine without APSC, QACT, RC8A, with APSB" $SIM 'machine apsc=0 qact=0 rc8a=0 apsb=1\n' OK
expect_text "features APXA APSB" $B/features "APXA APSB\n"
expect_store "machine with every QCI flag" $SIM 'machine apsb=1\n' OK
expect_text "features: all five" $B/features "APSC APXA QACT RC8A APSB\n"
expect_store "machine with cards but no usage domain" $SIM 'machine cards=0-1:cex8 doms=\n' OK
expect_text "bindings with no queue devices" $B/bindings "0/0 (complete)\n"
unload_ap
check "load without QCI" load_ap 'sim="qci=0"'
expect_text "features without QCI" $B/features "-\n"
done_testing
