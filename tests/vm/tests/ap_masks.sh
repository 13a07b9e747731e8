#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /sys/bus/ap: the configuration masks, id limits and the apmask/aqmask
# permission masks on the default simulated machine (4 CEX8 cards x 16
# usage domains, control domains 0-15, APXA with na = nd = 255).
. /lib/vmtest.sh
B=/sys/bus/ap
Z56=00000000000000000000000000000000000000000000000000000000
FULL=0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff

check "bus ap registered" test -d $B
check "root device /sys/devices/ap" test -d /sys/devices/ap
expect_file "ap_adapter_mask" $B/ap_adapter_mask "0xf0000000${Z56}\n"
expect_file "ap_usage_domain_mask" $B/ap_usage_domain_mask "0xffff0000${Z56}\n"
expect_file "ap_control_domain_mask" $B/ap_control_domain_mask "0xffff0000${Z56}\n"
expect_file "ap_max_adapter_id" $B/ap_max_adapter_id "255\n"
expect_file "ap_max_domain_id" $B/ap_max_domain_id "255\n"
expect_file "apmask default all ones" $B/apmask "$FULL\n"
expect_file "aqmask default all ones" $B/aqmask "$FULL\n"
expect_eq "apmask mode 0644" "-rw-r--r--" "$(ls -l $B/apmask | cut -c1-10)"
expect_eq "ap_adapter_mask mode 0444" "-r--r--r--" "$(ls -l $B/ap_adapter_mask | cut -c1-10)"

# The example: absolute clear, then a relative write.
expect_write "apmask absolute empty" $B/apmask '0x\n' OK
expect_write "apmask +0-15,+32" $B/apmask '+0-15,+32\n' OK
expect_file "apmask after +0-15,+32" $B/apmask \
	"0xffff000080000000000000000000000000000000000000000000000000000000\n"
expect_write "apmask 0X41 is EINVAL" $B/apmask '0X41' EINVAL
expect_file "apmask unchanged after EINVAL" $B/apmask \
	"0xffff000080000000000000000000000000000000000000000000000000000000\n"

# A sample of the syntax through the real sysfs file (the host tests have every vector).
expect_write "apmask 0x41" $B/apmask '0x41\n' OK
expect_file "apmask 0x41 -> bits 1,7" $B/apmask "$(mask_of 1 7)\n"
expect_write "apmask +010 (octal)" $B/apmask '+010' OK
expect_file "apmask +010 adds bit 8" $B/apmask "$(mask_of 1 7 8)\n"
expect_write "apmask +08 is EINVAL" $B/apmask '+08' EINVAL
expect_write "apmask trailing space EINVAL" $B/apmask '0xff ' EINVAL
expect_write "apmask 65 digits EINVAL" $B/apmask "0x8${Z56}000000001" EINVAL
expect_write "apmask +256 EINVAL" $B/apmask '+256' EINVAL
expect_file "apmask unchanged after errors" $B/apmask "$(mask_of 1 7 8)\n"
expect_write "apmask -0-255,+1-16,+0x28" $B/apmask '-0-255,+1-16,+0x28' OK
expect_file "apmask bits 1-16,40" $B/apmask \
	"0x7fff800000800000000000000000000000000000000000000000000000000000\n"
expect_write "apmask empty write clears" $B/apmask '\n' OK
expect_file "apmask cleared" $B/apmask "0x$(printf '0%.0s' $(seq 64))\n"
expect_write "aqmask -5,-6 from full" $B/aqmask '-5,-6' OK
expect_file "aqmask -5,-6" $B/aqmask \
	"0xf9ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n"
expect_write "aqmask x8" $B/aqmask 'x8' OK
expect_file "aqmask x8 -> bit 0" $B/aqmask "$(mask_of 0)\n"

# Uevents: a change sends APMASK=/AQMASK= (with the trailing newline); no change, no uevent.
ulog_start
expect_write "apmask +3" $B/apmask '+3' OK
expect_write "apmask +3 again (unchanged)" $B/apmask '+3' OK
expect_write "aqmask +1" $B/aqmask '+1' OK
ulog_fetch
ulog_stop
expect_eq "one APMASK and one AQMASK uevent, from /devices/ap" \
	"change /devices/ap SUBSYSTEM=ap APMASK=$(mask_of 3)\n${NL}change /devices/ap SUBSYSTEM=ap AQMASK=$(mask_of 0 1)\n$NL" "$UEV"
done_testing
