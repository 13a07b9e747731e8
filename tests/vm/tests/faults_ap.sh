#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Allocation failures aimed at ap.ko (fault_loop in lib.sh: failslab limited to
# allocations with ap.ko's code on the stack, the n-th of them failing, for
# growing n): apmask/aqmask writes with the reprobes they cause (vfio_ap's
# in_use callback included) and a new adapter found by a scan. After each
# failure: ENOMEM and nothing changed, or the state a run without faults reaches
# (for the scan: after one more scan, so nothing is lost); the isolation
# invariant holds. The runner's kernel-log check and kmemleak scan make
# WARNINGs, lockdep reports, hangs and leaks fail it.
# vm-timeout: 300
. /lib/vmtest.sh
touch /tmp/ap-nondefault
B=/sys/bus/ap

check "load vfio_ap simguest=1" insmod /m/vfio_ap.ko simguest=1
check "load the test drivers" insmod /m/ap_test_drv.ko
check "failslab is there" [ -f $FS/require-start ]
failslab_setup
# A smaller machine keeps each run short: domains 0-5 (adapters 0-3).
for d in 6 7 8 9 10 11 12 13 14 15; do sim_cmd rdom $d; done
failslab_aim ap

# Mask writes: ENOMEM and the masks as before, or the new masks.
f_state() { srv_state $B/apmask $B/aqmask; ST=$R; }
f_op() { fop $B/apmask '-1' "$1"; }
f_undo() { write_result $B/apmask '+1' >/dev/null; }
fault_loop "apmask write (adapter 1 to vfio_ap)"
f_op() { fop $B/aqmask '-4-5' "$1"; }
f_undo() { write_result $B/aqmask '+4-5' >/dev/null; }
fault_loop "aqmask write (domains 4-5 to vfio_ap)"
# A new domain: queue devices created by the scan the simulator's configuration
# event starts; what a failure skipped, the next scan creates.
f_state() { ST=$(ls $B/devices | tr '\n' ' '); }
f_op() {
	fop $SIM 'adom 14
' "$1"
	srv_write $B/scans 1
}
f_undo() { sim_cmd rdom 14; }
fault_loop "a new domain found by a scan"

failslab_off
diag "allocation failures injected: $FAULTS_INJECTED"
check "rmmod vfio_ap" rmmod vfio_ap
check "rmmod the test drivers" rmmod ap_test_drv
done_testing
