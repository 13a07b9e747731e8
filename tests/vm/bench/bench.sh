#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `make bench`, in the VM: scripts/bench.sh boots the x86_64 test VM with
# tests/vm/run.sh --demo on this script (so every run boots: the remembered
# results of the VM suites are never replayed for a bench). ap.ko is loaded on
# the machine scripts/bench.sh chose; this loads vfio_ap.ko with simulated
# guests and runs tests/vm/progs/apbench, which prints the figures as
# "bench ..." lines for scripts/bench.sh to tabulate.
echo >/proc/sys/kernel/hotplug
if ! insmod /m/vfio_ap.ko simguest=1; then
	echo "bench error: insmod vfio_ap.ko simguest=1 failed"
	exit 1
fi
read -r _ memkib _ </proc/meminfo
echo "bench info kernel=$(uname -r) arch=$(uname -m) cpus=$(grep -c ^processor /proc/cpuinfo) mem_kib=$memkib"
dmesg -c >/dev/null
apbench
echo "bench klog reports=$(dmesg | grep -cE 'WARNING:|BUG:|Oops|INFO: |blocked for more than|Call Trace')"
