#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `make run`, part 2: the five situations of the vfio_ap dynamic-configuration
# design (shared/seeds/001), with a guest. The guest is simulated
# (vfio_ap.ko simguest=1): tests/vm/progs/vfio_client opens the mdev's VFIO
# device as QEMU does, and /sys/kernel/debug/vfio_ap/guests shows the guest's
# CRYCB masks and how often vfio_ap changed them.
say() { echo; echo "== $*"; }
run() { echo "# $*"; sh -c "$*" 2>&1; }
B=/sys/bus/ap
T=/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough
U=6a6f7b04-5e2c-4d8b-9a4e-0c1d2e3f4a5b
M=/sys/devices/vfio_ap/matrix/$U
export B T U M
guest() { echo "# cat /sys/kernel/debug/vfio_ap/guests   (the guest's CRYCB)"; sed 's/ crycb .*//' /sys/kernel/debug/vfio_ap/guests; }
vc() { echo "$*" >/tmp/demo.cmd; sleep 0.3; }

say "vfio_ap: the matrix device and the mdev type"
run 'insmod /m/vfio_ap.ko simguest=1'
run 'cat $T/name $T/device_api /sys/devices/vfio_ap/matrix/features'

say "Give adapters 1-2 and domains 4-7 to vfio_ap (the host keeps the rest), create an mdev"
run 'echo -1-2 > $B/apmask; echo -4-7 > $B/aqmask; cat $B/apmask $B/aqmask'
run "echo $U > $T/create; ls $M | tr '\\n' ' '; echo"
run 'echo 1 > $M/assign_adapter; echo 4 > $M/assign_domain; echo 3 > $M/assign_control_domain'
run 'cat $M/matrix $M/guest_matrix'

say "Start the guest: a VFIO client opens the device as QEMU's -device vfio-ap,sysfsdev=$M"
mkfifo /tmp/demo.cmd
: >/tmp/demo.out
vfio_client $U /tmp/demo.cmd /tmp/demo.out &
vc open
vc info
vc irqs
run 'cat /tmp/demo.out'
guest
run 'cat /sys/devices/ap/card01/01.0004/status'

say "1. Hot plug into the running guest: assign domain 5 and adapter 2"
run 'echo 5 > $M/assign_domain; echo 2 > $M/assign_adapter; cat $M/guest_matrix'
guest
echo "# (one commit per change; the guest's config-change eventfd fired each time)"
vc events
run 'tail -1 /tmp/demo.out'

say "2. The host cannot take back a queue an mdev holds: the apmask write fails and names the mdev"
run 'echo +1 > $B/apmask; echo "exit status $?"; dmesg | tail -2; cat $B/apmask'
echo "# the queue's holder file names the mdev to unassign it from first"
run 'cat /sys/bus/ap/devices/01.0004/holder /sys/bus/ap/devices/01.0004/status'

say "3. Over-provisioning: adapter 9 is not in the machine; assigning it is allowed"
run "echo -9 > $B/apmask; echo 9 > $M/assign_adapter; cat $M/matrix | tr '\\n' ' '; echo; cat $M/guest_matrix"
echo "# ... the host gains adapter 9 (a CEX8 appears in the configuration): it reaches the guest"
run 'echo "add 9 cex8" > /sys/kernel/debug/ap_sim/control; cat $M/guest_matrix'
guest

say "4. A host configuration change reaches the guest: domain 5 leaves the configuration, comes back"
run 'echo "rdom 5" > /sys/kernel/debug/ap_sim/control; cat $M/guest_matrix'
guest
run 'echo "adom 5" > /sys/kernel/debug/ap_sim/control; cat $M/guest_matrix'
guest

say "5. A queue in use cannot be taken away: the host may not reserve it, and an unbind unplugs it from the guest first"
run 'echo +4 > $B/aqmask; echo "exit status $?"'
run 'echo 01.0004 > $B/drivers/vfio_ap/unbind; cat $M/guest_matrix'
guest
echo "# (adapter 1 left the guest with its queue: nothing is shared with the host)"

say "The guest stops: close detaches it, the queues are reset"
vc close
run 'tail -1 /tmp/demo.out; cat /sys/kernel/debug/vfio_ap/guests; cat /sys/devices/ap/card02/02.0004/status'
vc exit
run "echo 1 > $M/remove; rmmod vfio_ap; ls /sys/devices | tr '\\n' ' '; echo"
