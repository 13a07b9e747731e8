#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The periodic bus scan: config_time sets the period (5..120 s) and re-arms
# the timer; scans run without any trigger. (Functional, with a wide margin:
# at least one scan within two periods.)
. /lib/vmtest.sh
B=/sys/bus/ap
expect_file "config_time default" $B/config_time "30\n"
expect_write "config_time 5" $B/config_time '5\n' OK
expect_file "config_time is 5" $B/config_time "5\n"
read -r s0 <$B/scans
n=0
while [ $n -lt 55 ]; do
	srv_sleep 200
	read -r s1 <$B/scans
	[ "$s1" -gt "$s0" ] && break
	n=$((n + 1))
done
check "a periodic scan ran within 11 s (scans $s0 -> $s1)" test "$s1" -gt "$s0"
# A long period: no scan runs meanwhile (the 5 s timer armed before is gone).
expect_write "config_time 120" $B/config_time '120\n' OK
read -r s2 <$B/scans
srv_sleep 6000
read -r s3 <$B/scans
expect_eq "no scan within 6 s at 120 s period" "$s2" "$s3"
expect_write "config_time back to 30" $B/config_time '30\n' OK
done_testing
