#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# vfio_ap.ko with a guest: the VFIO device opened by tests/vm/progs/vfio_client
# (what QEMU's vfio-ap device does) into a simulated guest (simguest=1), whose
# CRYCB and commit count /sys/kernel/debug/vfio_ap/guests shows: the shadow APCB
# reaches the guest at open, every effective change is exactly one commit and
# fires the config-change eventfd, an unchanged write commits nothing; GET_INFO,
# GET_IRQ_INFO, SET_IRQS; queue status "in use"; close detaches the guest.
. /lib/vmtest.sh
touch /tmp/ap-nondefault
B=/sys/bus/ap
MD=/sys/devices/vfio_ap/matrix
TY=$MD/mdev_supported_types/vfio_ap-passthrough
U=33333333-2222-3333-4444-555555555555
M=$MD/$U
G=/sys/kernel/debug/vfio_ap/guests
mask() { MASK=$(mask_of "$@"); }
# expect_err WHAT ERRNO: the last client result is that error.
expect_err() { case $VCR in "ERR $2"|"ERR $2 "*) ok "$1" ;; *) notok "$1"; diag "got: $VCR" ;; esac; }

check "load vfio_ap simguest=1" insmod /m/vfio_ap.ko simguest=1
# The test drivers stand in for zcrypt (host queues bound to a default driver) and check the
# isolation invariant (vfio_ap/src/invariant.rs) of what apview collects from sysfs/debugfs.
check "load the test drivers" insmod /m/ap_test_drv.ko
expect_write "create the mdev" $TY/create "$U" OK
expect_write "apmask -0-1" $B/apmask '-0-1' OK
expect_write "aqmask -4-5" $B/aqmask '-4-5' OK
expect_write "assign_adapter 1" $M/assign_adapter '1' OK
expect_write "assign_domain 4" $M/assign_domain '4' OK
expect_write "assign_control_domain 3" $M/assign_control_domain '3' OK
expect_text "guest_matrix before open" $M/guest_matrix "01.0004\n"
expect_text "no guest yet" $G ""
inv "before the guest starts"

vc_start $U

vc open
expect_eq "open the VFIO device" OK "$VCR"
vc info
expect_eq "GET_INFO: flags AP|RESET, no regions, 2 irqs" "OK flags=0x21 regions=0 irqs=2 ap=1 reset=1" "$VCR"
vc irqinfo 0
expect_eq "GET_IRQ_INFO request irq" "OK index=0 count=1 flags=0x1" "$VCR"
vc irqinfo 1
expect_eq "GET_IRQ_INFO config-change irq" "OK index=1 count=1 flags=0x1" "$VCR"
vc ioctl_raw irqinfo_bad
expect_err "GET_IRQ_INFO index 2: EINVAL" EINVAL
vc ioctl_raw info_short
expect_err "GET_INFO with argsz 4: EINVAL" EINVAL
vc realize
expect_eq "QEMU's realize: GET_INFO, GET_IRQ_INFO and SET_IRQS for both indexes" "OK irqs=2 req=1 cfg=1" "$VCR"
vc irqs
expect_eq "SET_IRQS for both eventfds again (replaces them)" OK "$VCR"
vc setirq_raw 0 0x24 0 1 -2
expect_err "SET_IRQS with fd -2: EINVAL" EINVAL

# One mdev per guest: a second mdev opened by the same guest (process) is EPERM.
U2=44444444-2222-3333-4444-555555555555
expect_write "create a second mdev" $TY/create "$U2" OK
vc open_other $U2
expect_err "a second mdev for the same guest: EPERM" EPERM
expect_write "remove the second mdev" $MD/$U2/remove '1' OK

# At open the shadow reached the guest: one commit.
mask 1; A1=$MASK
mask 4; Q4=$MASK
mask 4 5; Q45=$MASK
mask 3; C3=$MASK
mask; Z=$MASK
guest_line $U
expect_eq "guest after open: one commit, 01.0004, cdom 3" "$U commits 1 apm $A1 aqm $Q4 adm $C3" "$GL"
# The CRYCB bytes themselves (format 2): only APCB1 (0x80: APM, 0xa0: AQM, 0xc0: ADM) is set.
crycb=
while IFS= read -r l; do case $l in "$U "*) crycb=${l##* crycb } ;; esac; done <$G
Z64=0000000000000000000000000000000000000000000000000000000000000000
expect_eq "guest CRYCB bytes after open" \
	"$Z64$Z64$Z64$Z64${A1#0x}${Q4#0x}${C3#0x}$Z64" "$crycb"
expect_text "status 01.0004: in use" /sys/devices/ap/card01/01.0004/status "in use\n"
inv "guest running"
expect_text "status 01.0005: unassigned" /sys/devices/ap/card01/01.0005/status "unassigned\n"

# Hot plug: one commit, the config-change eventfd fires.
vc events
expect_write "assign_domain 5 (hot plug)" $M/assign_domain '5' OK
guest_line $U
expect_eq "hot plug: one more commit, domains 4-5" "$U commits 2 apm $A1 aqm $Q45 adm $C3" "$GL"
vc wait cfg 5000
expect_eq "config-change eventfd fired once" "OK 1" "$VCR"
expect_text "status 01.0005: in use" /sys/devices/ap/card01/01.0005/status "in use\n"
inv "after hot plug"

# Nothing changes for the guest: no commit.
expect_write "assign_domain 5 again" $M/assign_domain '5' OK
expect_write "assign_adapter 9 (not configured: not in the guest)" $M/assign_adapter '9' OK
guest_line $U
expect_eq "no commit without a change of the guest's view" "$U commits 2 apm $A1 aqm $Q45 adm $C3" "$GL"

# Hot unplug.
expect_write "unassign_domain 4 (hot unplug)" $M/unassign_domain '4' OK
mask 5; Q5=$MASK
guest_line $U
expect_eq "hot unplug: one commit" "$U commits 3 apm $A1 aqm $Q5 adm $C3" "$GL"
inv "after hot unplug"
expect_write "unassign_control_domain 3" $M/unassign_control_domain '3' OK
guest_line $U
expect_eq "control domain gone: one commit" "$U commits 4 apm $A1 aqm $Q5 adm $Z" "$GL"

# The host configuration changes under the guest.
sim_cmd rdom 5
guest_line $U
expect_eq "domain 5 leaves the host configuration: one commit" "$U commits 5 apm $A1 aqm $Z adm $Z" "$GL"
inv "after a domain left the configuration"
sim_cmd adom 5
guest_line $U
expect_eq "domain 5 back: one commit" "$U commits 6 apm $A1 aqm $Q5 adm $Z" "$GL"
inv "after the domain came back"
vc events
expect_eq "the eventfd fired for each commit" "OK req=0 cfg=4" "$VCR"

# VFIO_DEVICE_RESET: ZAPQ on every linked queue, TAPQ polls until done.
vc reset
expect_eq "VFIO_DEVICE_RESET" OK "$VCR"
sim_cmd reset_ms 200
vc reset
expect_eq "VFIO_DEVICE_RESET, resets taking 200 ms" OK "$VCR"
sim_cmd reset_ms never
vc reset
expect_err "VFIO_DEVICE_RESET, resets never completing: ETIMEDOUT (5 s)" ETIMEDOUT
n=
while IFS= read -r l; do case $l in "resets "*) n=${l#resets } ;; esac; done <$SIM
expect_eq "the simulator saw the ZAPQ on the linked queue 01.0005 (still in reset)" 1 "$n"
sim_cmd reset_ms 0
vc reset
expect_eq "VFIO_DEVICE_RESET after the resets complete again" OK "$VCR"

# PQAP(AQIC): the guest enables and disables interruptions for a queue (debugfs
# "guest executes PQAP(AQIC)": GR0 function code 3 and the APQN, GR1 IR (bit 16) and
# ISC, GR2 the NIB).
P=/sys/kernel/debug/vfio_ap/pqap
pqap_line() { PQ=; while IFS= read -r l; do PQ="$PQ$l;"; done <$P; }
expect_write "PQAP(AQIC) enable on 01.0005, ISC 3, NIB 0x1010" $P "$U 0x03000105 0x0000800000000003 0x1010\n" OK
pqap_line
# The status word: E (0x80000000, queue empty) and I (0x01000000, interruptions enabled).
expect_eq "enable: cc 0, the NIB pinned, the queue's ISC and NIB saved" \
	"gr1 0x0000000081000000 cc 0;pins 1;01.0005 isc 3 nib 0x1010;" "$PQ"
n=
while IFS= read -r l; do case $l in "irqs "*) n=${l#irqs } ;; esac; done <$SIM
expect_eq "the host AQIC enabled the queue's interruptions" 1 "$n"
expect_write "PQAP(AQIC) on 01.0004 (not linked: not in the matrix)" $P "$U 0x03000104 0x0000800000000003 0x2000\n" OK
pqap_line
expect_eq "not linked: response code 0x01, cc 3" "gr1 0x0000000000010000 cc 3;pins 1;01.0005 isc 3 nib 0x1010;" "$PQ"
expect_write "PQAP(AQIC) with NIB 0" $P "$U 0x03000105 0x0000800000000003 0\n" OK
pqap_line
expect_eq "NIB 0: response code 0x06, cc 3" "gr1 0x0000000000060000 cc 3;pins 1;01.0005 isc 3 nib 0x1010;" "$PQ"
expect_write "PQAP with GR0 bits 41-47 set" $P "$U 0x03400105 0 0\n" OK
pqap_line
expect_eq "KVM: specification exception" "program 0x0006;pins 1;01.0005 isc 3 nib 0x1010;" "$PQ"
expect_write "PQAP(AQIC) disable on 01.0005" $P "$U 0x03000105 0 0\n" OK
pqap_line
expect_eq "disable: cc 0, the NIB unpinned" "gr1 0x0000000080000000 cc 0;pins 0;" "$PQ"
sim_cmd aqic_fail 7
expect_write "enable while the host AQIC answers 0x07" $P "$U 0x03000105 0x0000800000000003 0x1010\n" OK
pqap_line
expect_eq "0x07: cc 3, the new NIB unpinned again" "gr1 0x0000000080070000 cc 3;pins 0;" "$PQ"
expect_write "enable again" $P "$U 0x03000105 0x0000800000000002 0x3008\n" OK
vc reset
expect_eq "VFIO_DEVICE_RESET frees the queue's AQIC resources" OK "$VCR"
pqap_line
expect_eq "after the reset: nothing pinned, no ISC" "gr1 0x0000000081000000 cc 0;pins 0;" "$PQ"

# The host may not take a queue in use.
expect_write "apmask +1: in use" $B/apmask '+1' EBUSY
inv "after the refused apmask write"

# Close: the guest goes.
vc close
expect_eq "close" OK "$VCR"
expect_text "no guest after close" $G ""
inv "after close"
expect_text "status 01.0005: assigned after close" /sys/devices/ap/card01/01.0005/status "assigned\n"

# Removal of an open mdev: the request reaches the client, which unplugs (as QEMU does).
vc open
expect_eq "open again" OK "$VCR"
guest_line $U
expect_eq "a new guest: one commit" "$U commits 1 apm $A1 aqm $Q5 adm $Z" "$GL"
vc realize
expect_eq "realize as QEMU does" "OK irqs=2 req=1 cfg=1" "$VCR"
vc unplug_on_req 1
dmesg -c >/dev/null
expect_write "remove the open mdev (blocks until the client lets go)" $M/remove '1' OK
unplugged=no
while IFS= read -r l; do case $l in "0 request unplugged") unplugged=yes ;; esac; done </tmp/vc.out
expect_eq "the client saw the request and unplugged" yes "$unplugged"
log=$(dmesg -c)
case $log in
*"vfio_ap_mdev $U: Relaying device request to user (#0)"*) ok "request relayed (log line)" ;;
*) notok "request relayed (log line)"; diag "$log" ;;
esac
expect_text "no guest after the unplug" $G ""
check "mdev gone" test ! -e $M
vc exit
wait $VCPID

inv "after the unplug on request"
check "rmmod vfio_ap" rmmod vfio_ap
check "rmmod the test drivers" rmmod ap_test_drv
done_testing
