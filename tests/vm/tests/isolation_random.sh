#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Random operations with the isolation invariant after every step: tests/vm/progs/isorand.c (its
# header lists the operations) checks, through ap_test/invariant, what apview.h collects from
# sysfs/debugfs. Seeded and reproducible: aprs.iso_seed= and aprs.iso_steps= on the kernel
# command line; a failure prints the seed, the step, the checker's report and the last operations.
. /lib/vmtest.sh
touch /tmp/ap-nondefault
MD=/sys/devices/vfio_ap/matrix

SEED=$(sed -n 's/.*aprs.iso_seed=\([0-9]*\).*/\1/p' /proc/cmdline)
STEPS=$(sed -n 's/.*aprs.iso_steps=\([0-9]*\).*/\1/p' /proc/cmdline)
if [ -z "$SEED" ]; then read -r up x </proc/uptime; SEED=${up%.*}${up#*.}; fi
# A step costs 20 to 60 ms under x86_64 TCG and 80 to 250 ms under s390 TCG, with the seed and the
# machine's load (isorand prints where the time goes): about 30 s at most on s390x.
if [ -z "$STEPS" ]; then STEPS=1000; [ "$(uname -m)" = s390x ] && STEPS=100; fi
diag "isolation_random: seed $SEED, $STEPS steps"

check "load vfio_ap simguest=1" insmod /m/vfio_ap.ko simguest=1
check "load the test drivers" insmod /m/ap_test_drv.ko

isorand "$SEED" "$STEPS" >/tmp/isorand.out 2>&1
rc=$?
if [ $rc = 0 ]; then
	ok "invariant held over $STEPS random operations (seed $SEED)"
else
	notok "isorand: invariant held over $STEPS random operations (seed $SEED; exit status $rc)"
fi
while IFS= read -r l; do diag "$l"; done </tmp/isorand.out

# Wind down: isorand has closed its guests; the mdevs go, the modules unload.
for s in 0 1 2; do
	UU=5e1f0000-0000-4000-8000-00000000000$s
	[ -d $MD/$UU ] && write_result $MD/$UU/remove 1 >/dev/null
done
check "rmmod vfio_ap" rmmod vfio_ap
check "rmmod the test drivers" rmmod ap_test_drv
done_testing
