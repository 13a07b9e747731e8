#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The simulator's debugfs control: configuration changes show in the bus's
# QCI masks; bad commands are refused with EINVAL and change nothing.
. /lib/vmtest.sh
B=/sys/bus/ap
Z56=00000000000000000000000000000000000000000000000000000000
touch /tmp/ap-nondefault

check "debugfs control file" test -f $SIM
check "state lists card 00" sh -c "grep -q '^card 00' $SIM"
expect_write "add adapter 5" $SIM 'add 5 cex7 accel\n' OK
expect_file "adapter 5 in ap_adapter_mask" $B/ap_adapter_mask "0xf4000000${Z56}\n"
check "state lists card 05" sh -c "grep -q '^card 05' $SIM"
expect_write "remove adapter 0" $SIM 'remove 0\n' OK
expect_file "adapter 0 gone" $B/ap_adapter_mask "0x74000000${Z56}\n"
expect_write "add usage domain 32" $SIM 'adom 32\n' OK
expect_file "domain 32 in ap_usage_domain_mask" $B/ap_usage_domain_mask "$(mask_of $(seq 0 15) 32)\n"
expect_write "remove control domain 15" $SIM 'rcdom 15\n' OK
expect_file "control domain 15 gone" $B/ap_control_domain_mask "0xfffe0000${Z56}\n"
expect_write "unknown command" $SIM 'frobnicate 1\n' EINVAL
expect_write "adapter id out of range" $SIM 'add 256 cex8\n' ERANGE
expect_write "unknown type" $SIM 'add 7 cex3\n' EINVAL
expect_file "masks unchanged after bad commands" $B/ap_adapter_mask "0x74000000${Z56}\n"
expect_write "replace the machine" $SIM 'machine cards=8:cex6 doms=2\n' OK
expect_file "new machine's adapters" $B/ap_adapter_mask "0x00800000${Z56}\n"
expect_file "new machine's domains" $B/ap_usage_domain_mask "0x20000000${Z56}\n"
done_testing
