#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The periodic bus scan: config_time sets the period (5..120 s) and re-arms
# the timer; scans run without any trigger. (Functional, with a wide margin:
# at least one scan within two periods.)
. /lib/vmtest.sh
B=/sys/bus/ap
touch /tmp/ap-nondefault
expect_file "config_time default" $B/config_time "30\n"
expect_write "config_time 5" $B/config_time '5\n' OK
expect_file "config_time is 5" $B/config_time "5\n"
s0=$(cat $B/scans)
sleep 11
s1=$(cat $B/scans)
check "a periodic scan ran within 11 s (scans $s0 -> $s1)" test "$s1" -gt "$s0"
# A long period: no scan runs meanwhile.
expect_write "config_time 120" $B/config_time '120\n' OK
s2=$(cat $B/scans)
sleep 6
expect_eq "no scan within 6 s at 120 s period" "$s2" "$(cat $B/scans)"
done_testing
