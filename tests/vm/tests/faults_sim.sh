#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Hardware faults under a running guest (adapters 1-2 x domains 4-5), from the
# simulator: an adapter checkstopped, deconfigured, removed from the host
# configuration while assigned and added back, resets that never complete while
# an adapter is unplugged. After each: the guest's CRYCB as the C driver leaves
# it (checkstop and deconfigure do not call into vfio_ap; a removal from QCI is
# one hot unplug, its return one hot plug), a clear errno where an operation
# cannot complete (VFIO_DEVICE_RESET: EIO for checkstopped or deconfigured
# queues), no hang, and the isolation invariant.
. /lib/vmtest.sh
touch /tmp/ap-nondefault
B=/sys/bus/ap
MD=/sys/devices/vfio_ap/matrix
TY=$MD/mdev_supported_types/vfio_ap-passthrough
U=5e4f0000-0000-4000-8000-000000000001
M=$MD/$U
A1=$(mask_of 1) A12=$(mask_of 1 2) Q45=$(mask_of 4 5) Z=$(mask_of)
# guest_is WHAT COMMITS APM: the guest's line (commits, masks) is as given.
guest_is() {
	guest_line $U
	expect_eq "$1" "$U commits $2 apm $3 aqm $Q45 adm $Z" "$GL"
}

check "load vfio_ap simguest=1" insmod /m/vfio_ap.ko simguest=1
check "load the test drivers" insmod /m/ap_test_drv.ko
expect_write "apmask -1-2" $B/apmask '-1-2' OK
expect_write "aqmask -4-5" $B/aqmask '-4-5' OK
expect_write "create the mdev" $TY/create $U OK
expect_write "ap_config: adapters 1-2, domains 4-5" $M/ap_config "$A12,$Q45,$Z" OK
vc_start $U
vc open
expect_eq "the guest starts" OK "$VCR"
guest_is "the guest has adapters 1-2" 1 "$A12"

# Checkstop: the queues stay in the guest (the machine tells the guest); a reset
# cannot complete on them.
sim_cmd chkstop 2 1
expect_text "card02 checkstopped" /sys/bus/ap/devices/card02/chkstop "1\n"
guest_is "checkstop: no commit, the guest keeps adapter 2" 1 "$A12"
inv "adapter 2 checkstopped under the guest"
vc reset
expect_eq "VFIO_DEVICE_RESET with checkstopped queues: EIO" "ERR EIO" "$VCR"
sim_cmd chkstop 2 0
vc reset
expect_eq "VFIO_DEVICE_RESET after the checkstop ends" OK "$VCR"

# Deconfigured (still in QCI): the same.
sim_cmd config 2 0
expect_text "card02 deconfigured" /sys/bus/ap/devices/card02/config "0\n"
guest_is "deconfigure: no commit" 1 "$A12"
inv "adapter 2 deconfigured under the guest"
vc reset
expect_eq "VFIO_DEVICE_RESET with deconfigured queues: EIO" "ERR EIO" "$VCR"
sim_cmd config 2 1
vc reset
expect_eq "VFIO_DEVICE_RESET after configuring it again" OK "$VCR"

# Removed from the host configuration while assigned: one hot unplug; the
# assignment stays, and the adapter's return is one hot plug.
sim_cmd remove 2
check "card02 is gone" [ ! -e /sys/bus/ap/devices/card02 ]
guest_is "removal from the configuration: one commit, adapter 1 left" 2 "$A1"
expect_text "guest_matrix without adapter 2" $M/guest_matrix "01.0004\n01.0005\n"
read_text $M/matrix
case $TEXT in *"02.0004"*) ok "the assignment of adapter 2 stays" ;; *) notok "the assignment of adapter 2 stays"; diag "$TEXT" ;; esac
inv "adapter 2 removed while assigned"
sim_cmd add 2 cex8
guest_is "adapter 2 back: one commit" 3 "$A12"
inv "adapter 2 back"

# Resets that never complete: unassigning adapter 2 unplugs it and resets its
# queues; the write returns after the reset timeout (5 s) instead of hanging.
sim_cmd reset_ms never
dmesg -c >/dev/null
expect_write "unassign_adapter 2 while resets never complete" $M/unassign_adapter 2 OK
guest_is "the guest lost adapter 2" 4 "$A1"
inv "after the unplug with resets that never complete"
sim_cmd reset_ms 0
vc reset
expect_eq "VFIO_DEVICE_RESET once resets complete again" OK "$VCR"

watchdog 30
vc exit
tmark "client exited"
wait $VCPID
tmark "client reaped"
expect_write "remove the mdev" $M/remove 1 OK
kill $WD
check "rmmod vfio_ap" rmmod vfio_ap
check "rmmod the test drivers" rmmod ap_test_drv
done_testing
