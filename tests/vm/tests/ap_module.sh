#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# ap.ko lifecycle and parameters: rmmod leaves nothing behind, reloading
# works, apmask=/aqmask= at load (a bad mask leaves it empty, as in C), the
# sim= machine description decides QCI and the id limits.
. /lib/vmtest.sh
B=/sys/bus/ap
Z56=00000000000000000000000000000000000000000000000000000000
ZERO=0x0000000000000000000000000000000000000000000000000000000000000000
touch /tmp/ap-nondefault

check "rmmod ap" unload_ap
check "no /sys/bus/ap after rmmod" test ! -e $B
check "no /sys/devices/ap after rmmod" test ! -e /sys/devices/ap
check "no debugfs ap_sim after rmmod" test ! -e /sys/kernel/debug/ap_sim
check "no /sys/module/ap after rmmod" test ! -e /sys/module/ap
check "reload" load_ap
check "bus back after reload" test -f $B/apmask

unload_ap
check "load with apmask=0x8 aqmask=+1-2" load_ap apmask=0x8 aqmask=+1-2
expect_file "apmask from parameter" $B/apmask "$(mask_of 0)\n"
expect_file "aqmask relative parameter starts from zero" $B/aqmask "$(mask_of 1 2)\n"
expect_eq "apmask parameter visible" "0x8" "$(cat /sys/module/ap/parameters/apmask)"
for p in domain apmask aqmask sim; do
	expect_eq "parameter $p: mode 0444 as in C (readable by everyone)" "-r--r--r--" \
		"$(ls -l /sys/module/ap/parameters/$p | cut -c1-10)"
done
unload_ap
check "load with a bad apmask" load_ap apmask=0X41
expect_file "bad apmask parameter leaves the mask empty" $B/apmask "$ZERO\n"
expect_file "aqmask untouched" $B/aqmask "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n"
unload_ap

check "load without APXA" load_ap 'sim="cards=0-1:cex4 doms=0-3 cdoms=0 apxa=0"'
expect_file "ap_max_adapter_id without APXA" $B/ap_max_adapter_id "63\n"
expect_file "ap_max_domain_id without APXA" $B/ap_max_domain_id "15\n"
expect_file "ap_adapter_mask cards 0-1" $B/ap_adapter_mask "0xc0000000${Z56}\n"
expect_file "ap_usage_domain_mask doms 0-3" $B/ap_usage_domain_mask "0xf0000000${Z56}\n"
expect_file "ap_control_domain_mask cdom 0" $B/ap_control_domain_mask "0x80000000${Z56}\n"
unload_ap

check "load with APXA na=0x3f nd=0x1f" load_ap 'sim="cards=0:cex8 doms=0 apxa=1 na=0x3f nd=0x1f"'
expect_file "ap_max_adapter_id = na" $B/ap_max_adapter_id "63\n"
expect_file "ap_max_domain_id = nd" $B/ap_max_domain_id "31\n"
unload_ap

check "load with APXA na=0 nd=0" load_ap 'sim="cards=0:cex8 doms=0 apxa=1 na=0 nd=0"'
expect_file "na = 0 keeps the default 63" $B/ap_max_adapter_id "63\n"
expect_file "nd = 0 keeps the default 15" $B/ap_max_domain_id "15\n"
unload_ap

check "load without QCI" load_ap 'sim="cards=0:cex8 doms=0 qci=0"'
expect_file "ap_adapter_mask without QCI" $B/ap_adapter_mask "not supported\n"
expect_file "ap_usage_domain_mask without QCI" $B/ap_usage_domain_mask "not supported\n"
expect_file "ap_control_domain_mask without QCI" $B/ap_control_domain_mask "not supported\n"
expect_file "ap_max_adapter_id without QCI" $B/ap_max_adapter_id "63\n"
unload_ap

if load_ap 'sim="cards=0:cex99x"' 2>/dev/null; then notok "bad sim= refused"; unload_ap; else ok "bad sim= refused"; fi
check "no bus after a refused load" test ! -e $B

if [ "$(uname -m)" = s390x ]; then
	# qemu TCG has no AP facility: without the simulator the bus must refuse to load.
	dmesg -c >/dev/null
	if insmod $AP_KO 2>/dev/null; then notok "s390 without AP instructions: load refused"; rmmod ap
	else ok "s390 without AP instructions: load refused"; fi
	check "s390: the refusal says why" sh -c 'dmesg | grep -q "does not support AP instructions"'
	check "s390: no AP bus after the refusal" test ! -e $B
	# vfio_ap.ko needs ap.ko's exports: without the bus it cannot load and creates nothing.
	if insmod /m/vfio_ap.ko 2>/dev/null; then notok "s390 without AP: vfio_ap refused"; rmmod vfio_ap
	else ok "s390 without AP: vfio_ap refused"; fi
	check "s390 without AP: no matrix device" test ! -e /sys/devices/vfio_ap
fi
check "load the default machine again" load_ap
rm -f /tmp/ap-nondefault
done_testing
