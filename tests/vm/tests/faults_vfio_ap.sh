#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Allocation failures aimed at vfio_ap.ko (fault_loop in lib.sh: failslab limited
# to allocations with vfio_ap's code on the stack, the n-th of them failing, for
# growing n): creating and removing an mdev, hot plug and unplug into a running
# guest, binding and unbinding a queue in use, VFIO reset, a guest opening and
# closing the device. After each failure: ENOMEM and nothing changed, or the
# state a run without faults reaches; the isolation invariant holds. The
# runner's kernel-log check and kmemleak scan make WARNINGs, lockdep reports,
# hangs and leaks fail it. The simulator faults (checkstop, deconfigure, removal
# while assigned, resets that never complete, AQIC failures) are in
# vfio_ap_guest.sh and isolation_random.sh.
# vm-timeout: 300
. /lib/vmtest.sh
touch /tmp/ap-nondefault
B=/sys/bus/ap
MD=/sys/devices/vfio_ap/matrix
TY=$MD/mdev_supported_types/vfio_ap-passthrough
G=/sys/kernel/debug/vfio_ap/guests
U=5e3f0000-0000-4000-8000-000000000001
M=$MD/$U

check "load vfio_ap simguest=1" insmod /m/vfio_ap.ko simguest=1
check "load the test drivers" insmod /m/ap_test_drv.ko
check "failslab is there" [ -f $FS/require-start ]
failslab_setup
failslab_aim vfio_ap
write_result $B/apmask '-1-2' >/dev/null
write_result $B/aqmask '-4-5' >/dev/null

# Creating an mdev: ENOMEM and no mdev, or the mdev.
f_state() { ST=absent; [ -d $M ] && srv_state $M/matrix && ST="present:$R"; }
f_op() { fop $TY/create $U "$1"; }
f_undo() { [ -d $M ] && write_result $M/remove 1 >/dev/null; }
fault_loop "create an mdev"

# Writes to a running guest's mdev (hot plug: one CRYCB commit).
expect_write "create the mdev" $TY/create $U OK
expect_write "assign_adapter 1" $M/assign_adapter 1 OK
expect_write "assign_domain 4" $M/assign_domain 4 OK
vc_start $U
vc unplug_on_req 1
vc open
expect_eq "the guest opens the mdev" OK "$VCR"
vc irqs
# The state: the mdev's ap_config and the guest's CRYCB (commit counts left out).
f_state() { srv_state $M/ap_config $G; ST=$R; }
f_op() { fop $M/assign_adapter 2 "$1"; }
f_undo() { write_result $M/unassign_adapter 2 >/dev/null; }
fault_loop "assign_adapter (hot plug)"
f_op() { fop $M/assign_domain 5 "$1"; }
f_undo() { write_result $M/unassign_domain 5 >/dev/null; }
fault_loop "assign_domain (hot plug)"
f_op() { fop $M/assign_control_domain 7 "$1"; }
f_undo() { write_result $M/unassign_control_domain 7 >/dev/null; }
fault_loop "assign_control_domain (hot plug)"
A12=$(mask_of 1 2) Q45=$(mask_of 4 5) C7=$(mask_of 7) A1=$(mask_of 1) Q4=$(mask_of 4) Z=$(mask_of)
f_op() { fop $M/ap_config "$A12,$Q45,$C7" "$1"; }
f_undo() { write_result $M/ap_config "$A1,$Q4,$Z" >/dev/null; }
fault_loop "ap_config (hot plug)"
write_result $M/ap_config "$A12,$Q45,$Z" >/dev/null
f_op() { fop $M/unassign_adapter 2 "$1"; }
f_undo() { write_result $M/assign_adapter 2 >/dev/null; }
fault_loop "unassign_adapter (hot unplug, queue resets)"
# Unbinding a queue the guest uses: unplugged from the guest and reset; cannot fail.
f_state() { drv_of $B/devices/01.0005; srv_state $G; ST="$DRV $R"; }
f_op() { fop $B/drivers/vfio_ap/unbind 01.0005 "$1"; }
f_undo() { write_result $B/drivers/vfio_ap/bind 01.0005 >/dev/null; }
fault_loop "unbind a queue in use (remove)" always
# Binding it back: the probe, plugged into the guest again.
write_result $B/drivers/vfio_ap/unbind 01.0005 >/dev/null
f_op() { fop $B/drivers/vfio_ap/bind 01.0005 "$1"; }
f_undo() { write_result $B/drivers/vfio_ap/unbind 01.0005 >/dev/null; }
fault_loop "bind a queue to vfio_ap (probe)"
write_result $B/drivers/vfio_ap/bind 01.0005 >/dev/null
# VFIO reset: every queue of the guest reset.
f_state() { srv_state $G; ST=$R; }
f_op() { vcop "$1" reset; }
f_undo() { :; }
fault_loop "VFIO_DEVICE_RESET"

# A guest starting and ending.
vc close
f_op() { vcop "$1" open; }
f_undo() { vc close; }
fault_loop "open the VFIO device (guest start)"
vc open
vc irqs
f_op() { vcop "$1" close; }
f_undo() { vc open; vc irqs; }
fault_loop "close the VFIO device (guest end)" always
vc exit
wait $VCPID

# Removing an mdev: cannot fail.
f_state() { ST=absent; [ -d $M ] && srv_state $M/matrix && ST="present:$R"; }
f_op() { fop $M/remove 1 "$1"; }
f_undo() { write_result $TY/create $U >/dev/null; write_result $M/ap_config "$A12,$Q45,$Z" >/dev/null; }
f_undo
fault_loop "remove an mdev" always
write_result $M/remove 1 >/dev/null

failslab_off
diag "allocation failures injected: $FAULTS_INJECTED"
check "rmmod vfio_ap" rmmod vfio_ap
check "rmmod the test drivers" rmmod ap_test_drv
done_testing
