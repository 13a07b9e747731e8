#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# vfio_ap.ko: the matrix device and the vfio_ap-passthrough type, mdev create and
# remove, the per-mdev attributes (syntax, errno order, reservation, sharing,
# ap_config all or nothing, output bounded to a page), the in_use answer to
# apmask/aqmask writes, the queue driver with its status file, and the shadow
# APCB (guest_matrix) across assign, unassign, ap_config, queue probe and remove.
# (The default machine: adapters 0-3 x domains 0-15, na = nd = 255.)
. /lib/vmtest.sh
touch /tmp/ap-nondefault
B=/sys/bus/ap
MD=/sys/devices/vfio_ap/matrix
TY=$MD/mdev_supported_types/vfio_ap-passthrough
U1=11111111-2222-3333-4444-555555555555
U2=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee
M1=$MD/$U1
M2=$MD/$U2
Z=0000000000000000000000000000000000000000000000000000000000000000

check "load vfio_ap" insmod /m/vfio_ap.ko

# ---- The matrix device and the type.
check "/sys/devices/vfio_ap/matrix" test -d $MD
drv_of $MD
expect_eq "matrix bound to driver vfio_ap" vfio_ap "$DRV"
check "on bus matrix" test -e /sys/bus/matrix/devices/matrix
check "the matrix driver has no bind file (suppress_bind_attrs)" test ! -e /sys/bus/matrix/drivers/vfio_ap/bind
expect_text "features" $MD/features "guest_matrix hotplug ap_config\n"
expect_text "type name" $TY/name "VFIO AP Passthrough Device\n"
expect_text "type device_api" $TY/device_api "vfio-ap\n"
expect_text "available_instances" $TY/available_instances "65536\n"
check "no description file" test ! -e $TY/description

# ---- create / remove.
expect_write "create: not a UUID" $TY/create 'hello\n' EINVAL
expect_write "create: 35 characters" $TY/create '11111111-2222-3333-4444-55555555555' EINVAL
expect_write "create: a bad hex digit" $TY/create '11111111-2222-3333-4444-55555555555g\n' EINVAL
expect_write "create $U1" $TY/create "$U1\n" OK
expect_write "create $U1 again" $TY/create "$U1\n" EEXIST
expect_write "create $U2 (37th character is not checked)" $TY/create "${U2}x" OK
expect_text "available_instances after two" $TY/available_instances "65534\n"
check "mdev device" test -d $M1
drv_of $M1
expect_eq "mdev bound to vfio_ap_mdev" vfio_ap_mdev "$DRV"
check "mdev has a VFIO device" test -d $M1/vfio-dev
check "type lists the mdev" test -e $TY/devices/$U1
expect_text "new mdev: matrix empty" $M1/matrix ""
expect_text "new mdev: guest_matrix empty" $M1/guest_matrix ""
expect_text "new mdev: control_domains empty" $M1/control_domains ""
expect_text "new mdev: ap_config" $M1/ap_config "0x$Z,0x$Z,0x$Z\n"

# ---- Syntax and range of the assign/unassign files (kstrtoul, then > max: ENODEV).
for f in assign_adapter unassign_adapter assign_domain unassign_domain assign_control_domain unassign_control_domain; do
	expect_write "$f 'abc'" $M1/$f 'abc' EINVAL
	expect_write "$f ' 5'" $M1/$f ' 5' EINVAL
	expect_write "$f '-1'" $M1/$f '-1' EINVAL
	expect_write "$f with two newlines" $M1/$f '5\n\n' EINVAL
	expect_write "$f 2^64" $M1/$f '18446744073709551616' ERANGE
	expect_write "$f 256" $M1/$f '256' ENODEV
done
expect_text "nothing assigned after bad writes" $M1/ap_config "0x$Z,0x$Z,0x$Z\n"

# ---- Reservation for the host (default masks: everything is the host's).
expect_write "assign_adapter 5 (no domain yet: no APQN)" $M1/assign_adapter '5\n' OK
expect_write "assign_domain 4: 05.0004 reserved for the host" $M1/assign_domain '4' EADDRNOTAVAIL
expect_text "matrix: adapter only" $M1/matrix "05.\n"
# The host gives up adapters 0-1 and domains 4-5.
expect_write "apmask -0-1" $B/apmask '-0-1' OK
expect_write "aqmask -4-5" $B/aqmask '-4-5' OK
expect_write "assign_domain 4" $M1/assign_domain '4\n' OK
expect_write "assign_domain 0x5 (05.0005 is not the host's: aqmask)" $M1/assign_domain '0x5' OK
expect_write "assign_domain 6: 05.0006 reserved" $M1/assign_domain '6' EADDRNOTAVAIL
expect_write "assign_adapter +01" $M1/assign_adapter '+01' OK
expect_write "assign_adapter 1 again" $M1/assign_adapter '1' OK
expect_text "matrix" $M1/matrix "01.0004\n01.0005\n05.0004\n05.0005\n"
expect_text "ap_config" $M1/ap_config \
	"0x4400000000000000000000000000000000000000000000000000000000000000,0x0c00000000000000000000000000000000000000000000000000000000000000,0x$Z\n"

# ---- Queues: bound to vfio_ap, linked, filtered into the shadow.
drv_of /sys/devices/ap/card01/01.0004
expect_eq "queue 01.0004 bound to vfio_ap" vfio_ap "$DRV"
drv_of /sys/devices/ap/card02/02.0006
expect_eq "queue 02.0006 stays unbound (the host's)" - "$DRV"
expect_text "status 01.0004: assigned" /sys/devices/ap/card01/01.0004/status "assigned\n"
expect_text "status 00.0004: unassigned" /sys/devices/ap/card00/00.0004/status "unassigned\n"
check "no status file on a host queue" test ! -e /sys/devices/ap/card02/02.0006/status
expect_text "holder 01.0004: mdev 1" /sys/devices/ap/card01/01.0004/holder "$U1\n"
expect_text "holder 00.0004: nobody" /sys/devices/ap/card00/00.0004/holder "\n"
check "no holder file on a host queue" test ! -e /sys/devices/ap/card02/02.0006/holder
# Adapter 5 is not in the host configuration: out of the shadow.
expect_text "guest_matrix: adapter 5 filtered (not configured)" $M1/guest_matrix "01.0004\n01.0005\n"

# ---- Control domains: no reservation or sharing check.
expect_write "assign_control_domain 3" $M1/assign_control_domain '3' OK
expect_write "assign_control_domain 010 (octal 8)" $M1/assign_control_domain '010\n' OK
expect_write "assign_control_domain 200 (not in the configuration)" $M1/assign_control_domain '200' OK
expect_text "control_domains" $M1/control_domains "0003\n0008\n00c8\n"
expect_write "unassign_control_domain 200" $M1/unassign_control_domain '200' OK
expect_write "unassign_control_domain 7 (not assigned)" $M1/unassign_control_domain '7' OK
expect_text "control_domains after unassign" $M1/control_domains "0003\n0008\n"

# ---- Sharing between mdevs: EADDRINUSE with a log line per APQN naming the other mdev.
dmesg -c >/dev/null
expect_write "mdev 2: assign_adapter 1" $M2/assign_adapter '1' OK
expect_write "mdev 2: assign_domain 4 (01.0004 is mdev 1's)" $M2/assign_domain '4' EADDRINUSE
log=$(dmesg -c)
case $log in
*"vfio_ap_mdev $U2: Userspace may not assign queue 01.0004 to mdev: already assigned to $U1"*)
	ok "sharing log line names the other mdev" ;;
*) notok "sharing log line names the other mdev"; diag "$log" ;;
esac
expect_text "mdev 2: matrix unchanged" $M2/matrix "01.\n"
expect_write "mdev 2: assign_domain 7 (01.0007 is free)" $M2/assign_domain '7' OK
expect_text "mdev 2: matrix" $M2/matrix "01.0007\n"
expect_text "holder 01.0007: mdev 2" /sys/devices/ap/card01/01.0007/holder "$U2\n"
expect_write "mdev 2: unassign_adapter 1" $M2/unassign_adapter '1' OK
expect_text "holder 01.0007: nobody" /sys/devices/ap/card01/01.0007/holder "\n"
expect_write "mdev 2: the same control domain as mdev 1" $M2/assign_control_domain '3' OK

# ---- in_use: the host cannot take back what an mdev holds.
dmesg -c >/dev/null
expect_write "apmask +1: in use" $B/apmask '+1' EBUSY
log=$(dmesg -c)
case $log in
*"vfio_ap_mdev $U1: Can not reserve queue 01.0004 for host driver: in use by mdev"*"01.0005 for host driver"*)
	ok "in_use logs each APQN on the holding mdev" ;;
*) notok "in_use logs each APQN on the holding mdev"; diag "$log" ;;
esac
expect_text "holder 01.0005 names the mdev of the refusal" /sys/devices/ap/card01/01.0005/holder "$U1\n"
expect_text "apmask unchanged after EBUSY" $B/apmask \
	"0x3fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n"
expect_write "aqmask +5: in use" $B/aqmask '+5' EBUSY
drv_of /sys/devices/ap/card00/00.0000
expect_eq "queue 00.0000 bound to vfio_ap" vfio_ap "$DRV"
expect_write "apmask +0: not assigned" $B/apmask '+0' OK
drv_of /sys/devices/ap/card00/00.0000
expect_eq "queue 00.0000 back to the host (no host driver: unbound)" - "$DRV"
expect_write "apmask -0" $B/apmask '-0' OK

# ---- Unassign: hot unplug, then the re-filter.
expect_write "unassign_domain 5" $M1/unassign_domain '5' OK
expect_text "matrix after unassign_domain" $M1/matrix "01.0004\n05.0004\n"
expect_text "guest_matrix after unassign_domain" $M1/guest_matrix "01.0004\n"
expect_write "unassign_adapter 1" $M1/unassign_adapter '1' OK
expect_text "guest_matrix after unassign_adapter" $M1/guest_matrix ".0004\n"
expect_text "status 01.0004: unassigned again" /sys/devices/ap/card01/01.0004/status "unassigned\n"
expect_text "holder 01.0004: nobody after the unassign" /sys/devices/ap/card01/01.0004/holder "\n"
expect_write "apmask +1: no longer in use" $B/apmask '+1' OK
expect_write "apmask -1" $B/apmask '-1' OK

# ---- ap_config: all or nothing.
A2=0x2000000000000000000000000000000000000000000000000000000000000000
A29=0x2040000000000000000000000000000000000000000000000000000000000000
Q5=0x0400000000000000000000000000000000000000000000000000000000000000
Q6=0x0200000000000000000000000000000000000000000000000000000000000000
C3=0x1000000000000000000000000000000000000000000000000000000000000000
expect_write "ap_config: bad syntax" $M1/ap_config "$A2,$Q5" EINVAL
expect_write "ap_config: 02.0006 reserved" $M1/ap_config "$A2,$Q6,$C3\n" EADDRNOTAVAIL
expect_text "matrix unchanged after failed ap_config" $M1/matrix "05.0004\n"
expect_write "ap_config 02 x 05, cdom 3" $M1/ap_config "$A2,$Q5,$C3\n" OK
expect_text "matrix after ap_config" $M1/matrix "02.0005\n"
expect_text "control_domains after ap_config" $M1/control_domains "0003\n"
expect_text "guest_matrix after ap_config" $M1/guest_matrix "02.0005\n"

# ---- Over-provisioning: adapter 9 is not in the machine yet.
expect_write "ap_config 02,09 x 05" $M1/ap_config "$A29,$Q5,$C3\n" OK
expect_text "guest_matrix without adapter 9" $M1/guest_matrix "02.0005\n"
sim_cmd add 9 cex8
drv_of /sys/devices/ap/card09/09.0005
expect_eq "new queue 09.0005 bound to vfio_ap" vfio_ap "$DRV"
expect_text "guest_matrix: adapter 9 plugged" $M1/guest_matrix "02.0005\n09.0005\n"
sim_cmd remove 9
expect_text "guest_matrix: adapter 9 unplugged with its queue" $M1/guest_matrix "02.0005\n"
expect_text "matrix keeps adapter 9" $M1/matrix "02.0005\n09.0005\n"

# ---- Output bounded to a page: every adapter and domain.
expect_write "remove mdev 2" $M2/remove '1' OK
check "mdev 2 gone" test ! -e $M2
expect_write "apmask 0 (the host gives up everything)" $B/apmask '0x0' OK
F=0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
expect_write "ap_config: 256 x 256" $M1/ap_config "$F,$F,$F\n" OK
# 65536 lines of 8 bytes: cut like sysfs_emit at PAGE_SIZE - 1 bytes.
check "matrix is cut at 4095 bytes" test "$(wc -c <$M1/matrix)" = 4095
check "control_domains: 256 lines of 5 bytes" test "$(wc -c <$M1/control_domains)" = 1280
expect_text "guest_matrix: the configured 4 x 16" \
	$M1/guest_matrix "$(for a in 00 01 02 03; do for d in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do printf '%s.000%s\\n' $a $d; done; done)"

# ---- Remove and unload.
expect_write "remove 0 does nothing" $M1/remove '0' OK
check "mdev 1 still there" test -d $M1
expect_write "remove mdev 1" $M1/remove '1' OK
expect_text "available_instances back" $TY/available_instances "65536\n"
check "rmmod vfio_ap" rmmod vfio_ap
check "no /sys/devices/vfio_ap after rmmod" test ! -e /sys/devices/vfio_ap
check "no bus matrix after rmmod" test ! -e /sys/bus/matrix
done_testing
