#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Card and queue devices: names and counts, the /sys/bus/ap/devices links, the
# parents, every card and queue attribute's read format and file mode, and the
# uevent files (DEVTYPE, DEV_TYPE, MODALIAS, MODE), on the default machine (4 CEX8
# CCA cards x 16 domains) and on other machines loaded with sim=: accel and ep11
# cards of types CEX4..CEX7, a raw type 15 mapped by QACT to CEX8 (hwtype 14,
# raw_hwtype 15), a type QACT cannot map (no card until QACT answers), and the
# TAPQ ml and qd fields (max_msg_size, depth).
. /lib/vmtest.sh
B=/sys/bus/ap
D=/sys/devices/ap
touch /tmp/ap-nondefault

# attrs DIR NAME...: sets A to "NAME=<contents> ..." with newlines shown as \n.
attrs() {
	local dir=$1
	shift
	A=
	for f in "$@"; do
		read_text "$dir/$f"
		A="$A $f=${TEXT//$NL/\\n}"
	done
	A=${A# }
}
CARD_ATTRS="hwtype raw_hwtype depth ap_functions request_count requestq_count pendingq_count modalias config chkstop max_msg_size"
QUEUE_ATTRS="request_count requestq_count pendingq_count reset interrupt config chkstop ap_functions"
# modes DIR: sets M to "name:mode ..." of the regular files in DIR (one fork).
modes() {
	local perm x1 x2 x3 x4 x5 x6 x7 name
	ls -l "$1" >/tmp/.ls
	M=
	while read -r perm x1 x2 x3 x4 x5 x6 x7 name; do
		case $perm in -*) M="$M $name:$perm" ;; esac
	done </tmp/.ls
	M=${M# }
}

# A fresh bus: no driver has touched a queue yet.
check "a freshly loaded default machine" fresh_ap

# ---- Names, counts, links, parents.
want=
for a in 0 1 2 3; do
	for q in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do qname $a $q; want="$want $QN"; done
done
for a in 0 1 2 3; do hex2 $a; want="$want card$H2"; done
got=
for f in $B/devices/*; do got="$got ${f##*/}"; done
expect_eq "/sys/bus/ap/devices: card00-03 and 00.0000-03.000f" "$want" "$got"

bad=
for a in 0 1 2 3; do
	hex2 $a
	c=card$H2
	cd -P $B/devices/$c 2>/dev/null && [ "$PWD" = "$D/$c" ] || bad="$bad $c"
	cd -P $D/$c/subsystem 2>/dev/null && [ "$PWD" = "$B" ] || bad="$bad $c/subsystem"
	for q in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		qname $a $q
		cd -P $B/devices/$QN 2>/dev/null && [ "$PWD" = "$D/$c/$QN" ] || bad="$bad $QN"
		cd -P $D/$c/$QN/subsystem 2>/dev/null && [ "$PWD" = "$B" ] || bad="$bad $QN/subsystem"
	done
	n=0
	for f in $D/$c/*.*; do [ -d "$f" ] && n=$((n + 1)); done
	[ $n = 16 ] || bad="$bad $c:$n-queues"
done
cd /
expect_eq "links resolve to /sys/devices/ap/cardXX[/XX.YYYY], subsystem is bus ap" "" "$bad"
n=0
for f in $D/*; do [ -d "$f" ] && [ ! -L "$f" ] && n=$((n + 1)); done
expect_eq "4 card directories under /sys/devices/ap" 4 "$n"
expect_text "root device uevent file is empty" $D/uevent ""

# ---- Card attributes.
C=$D/card00
expect_text "card hwtype" $C/hwtype "14\n"
expect_text "card raw_hwtype" $C/raw_hwtype "14\n"
expect_text "card depth (qd 7 + 1)" $C/depth "8\n"
expect_text "card ap_functions (APSC CCA APXA class 0x80, uppercase %08X)" $C/ap_functions "0x92800000\n"
expect_text "card request_count" $C/request_count "0\n"
expect_text "card requestq_count" $C/requestq_count "0\n"
expect_text "card pendingq_count" $C/pendingq_count "0\n"
expect_text "card modalias" $C/modalias "ap:t0E\n"
expect_text "card config" $C/config "1\n"
expect_text "card chkstop" $C/chkstop "0\n"
expect_text "card max_msg_size (ml 0: 12288)" $C/max_msg_size "12288\n"
expect_text "card uevent file" $C/uevent "DEVTYPE=ap_card\nDEV_TYPE=000E\nMODALIAS=ap:t0E\nMODE=cca\n"
modes $C
expect_eq "card files and modes" "ap_functions:-r--r--r-- chkstop:-r--r--r-- config:-rw-r--r-- depth:-r--r--r-- hwtype:-r--r--r-- max_msg_size:-r--r--r-- modalias:-r--r--r-- pendingq_count:-r--r--r-- raw_hwtype:-r--r--r-- request_count:-rw-r--r-- requestq_count:-r--r--r-- uevent:-rw-r--r--" "$M"
CARD_WANT="hwtype=14\n raw_hwtype=14\n depth=8\n ap_functions=0x92800000\n request_count=0\n requestq_count=0\n pendingq_count=0\n modalias=ap:t0E\n config=1\n chkstop=0\n max_msg_size=12288\n"
for c in card01 card02 card03; do
	attrs $D/$c $CARD_ATTRS
	expect_eq "$c attributes" "$CARD_WANT" "$A"
done

# ---- Queue attributes. No driver is bound: the reset the bus started when it created
# the queue is not polled to its end (C polls only the queues in ap_queues, which
# ap_device_probe fills).
Q=$C/00.0000
expect_text "queue request_count" $Q/request_count "0\n"
expect_text "queue requestq_count" $Q/requestq_count "0\n"
expect_text "queue pendingq_count" $Q/pendingq_count "0\n"
expect_text "queue reset (unbound: the first reset is not polled)" $Q/reset "Reset in progress.\n"
expect_text "queue interrupt" $Q/interrupt "Interrupts disabled.\n"
expect_text "queue config" $Q/config "1\n"
expect_text "queue chkstop" $Q/chkstop "0\n"
expect_text "queue ap_functions (live TAPQ, full fac)" $Q/ap_functions "0x92800000\n"
expect_text "queue uevent file" $Q/uevent "DEVTYPE=ap_queue\nMODE=cca\n"
modes $Q
expect_eq "queue files and modes" "ap_functions:-r--r--r-- chkstop:-r--r--r-- config:-r--r--r-- driver_override:-rw-r--r-- interrupt:-r--r--r-- pendingq_count:-r--r--r-- request_count:-rw-r--r-- requestq_count:-r--r--r-- reset:-rw-r--r-- uevent:-rw-r--r--" "$M"
QUEUE_WANT="request_count=0\n requestq_count=0\n pendingq_count=0\n reset=Reset in progress.\n interrupt=Interrupts disabled.\n config=1\n chkstop=0\n ap_functions=0x92800000\n"
bad=
for a in 0 1 2 3; do
	hex2 $a
	c=card$H2
	for q in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		qname $a $q
		attrs $D/$c/$QN $QUEUE_ATTRS uevent
		[ "$A" = "$QUEUE_WANT uevent=DEVTYPE=ap_queue\nMODE=cca\n" ] || { bad="$bad $QN"; diag "$QN: $A"; }
	done
done
expect_eq "all 64 queues: attributes and uevent file" "" "$bad"

# ---- Other machines.
unload_ap
check "load cex4 accel, cex5 ep11, cex6 cca, cex7 accel, raw type 15 ep11" \
	load_ap 'sim="cards=0:cex4:accel cards=1:cex5:ep11 cards=2:cex6 cards=3:cex7:accel cards=4:15:ep11 doms=0-1,5"'
got=
for f in $B/devices/*; do got="$got ${f##*/}"; done
expect_eq "devices: 5 cards x domains 0, 1, 5" " 00.0000 00.0001 00.0005 01.0000 01.0001 01.0005 02.0000 02.0001 02.0005 03.0000 03.0001 03.0005 04.0000 04.0001 04.0005 card00 card01 card02 card03 card04" "$got"
# card hwtype raw_hwtype ap_functions mode
for spec in "card00 10 10 0x6A800000 accel" "card01 11 11 0x86800000 ep11" \
	"card02 12 12 0x92800000 cca" "card03 13 13 0x6A800000 accel" "card04 14 15 0x86800000 ep11"; do
	set -- $spec
	hex2 "$2"
	t=$(echo "$H2" | tr a-f A-F)
	attrs $D/$1 hwtype raw_hwtype ap_functions modalias uevent
	expect_eq "$1: $5, raw type $3" "hwtype=$2\n raw_hwtype=$3\n ap_functions=$4\n modalias=ap:t$t\n uevent=DEVTYPE=ap_card\nDEV_TYPE=00$t\nMODALIAS=ap:t$t\nMODE=$5\n" "$A"
	q=$D/$1/${1#card}.0005
	attrs $q ap_functions uevent
	expect_eq "${q##*/}: $5 queue" "ap_functions=$4\n uevent=DEVTYPE=ap_queue\nMODE=$5\n" "$A"
done
unload_ap

check "load ml=3 qd=31" load_ap 'sim="cards=0:cex8 doms=0 ml=3 qd=31"'
attrs $D/card00 depth max_msg_size
expect_eq "qd 31: depth 32; ml 3: 12288" "depth=32\n max_msg_size=12288\n" "$A"
unload_ap
check "load ml=4 qd=0" load_ap 'sim="cards=0:cex8 doms=0 ml=4 qd=0"'
attrs $D/card00 depth max_msg_size
expect_eq "qd 0: depth 1; ml 4: 16384" "depth=1\n max_msg_size=16384\n" "$A"
unload_ap
check "load ml=15" load_ap 'sim="cards=0:cex8 doms=0 ml=15"'
attrs $D/card00 depth max_msg_size
expect_eq "qd 7: depth 8; ml 15: 61440" "depth=8\n max_msg_size=61440\n" "$A"
unload_ap

# A type above CEX8 that QACT cannot map gets no card device and no queues; once
# QACT answers CEX6 a scan creates it as hwtype 12.
check "load raw type 16 with QACT failing" load_ap 'sim="cards=0:cex8 cards=1:16 doms=0 compat=fail"'
got=
for f in $B/devices/*; do got="$got ${f##*/}"; done
expect_eq "no device for the unmappable adapter" " 00.0000 card00" "$got"
sim_cmd qact cex6
expect_store "forced scan" $B/scans '1\n' OK
got=
for f in $B/devices/*; do got="$got ${f##*/}"; done
expect_eq "the adapter appears once QACT maps it" " 00.0000 01.0000 card00 card01" "$got"
attrs $D/card01 hwtype raw_hwtype modalias
expect_eq "card01 mapped to CEX6" "hwtype=12\n raw_hwtype=16\n modalias=ap:t0C\n" "$A"
done_testing
