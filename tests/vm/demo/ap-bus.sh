#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `make run`: a walk through the simulated AP bus in the booted test kernel.
say() { echo; echo "== $*"; }
run() { echo "# $*"; sh -c "$*" 2>&1; }

say "The kernel and the module"
run 'uname -r -m'
run 'lsmod | grep -w ap'
say "The simulated machine (debugfs control of the AP facility simulator)"
run 'cat /sys/kernel/debug/ap_sim/control'
say "What the AP bus read from the facility (QCI): adapters, usage and control domains"
run 'cd /sys/bus/ap && grep . ap_adapter_mask ap_usage_domain_mask ap_control_domain_mask ap_max_adapter_id ap_max_domain_id'
say "The host's permission masks: APQNs with apmask[apid] && aqmask[apqi] belong to the host"
run 'cat /sys/bus/ap/apmask /sys/bus/ap/aqmask'
say "Give adapters 16-255 to non-default drivers (e.g. vfio_ap), keep 0-15 and 32 for the host"
run 'echo 0x > /sys/bus/ap/apmask; echo +0-15,+32 > /sys/bus/ap/apmask; cat /sys/bus/ap/apmask'
say "A bad mask is refused with EINVAL and changes nothing"
run 'echo 0X41 > /sys/bus/ap/apmask; cat /sys/bus/ap/apmask'
say "The machine changes: a CEX7 accelerator appears as adapter 5, domain 32 is added"
run 'echo "add 5 cex7 accel" > /sys/kernel/debug/ap_sim/control; echo "adom 32" > /sys/kernel/debug/ap_sim/control'
run 'cat /sys/bus/ap/ap_adapter_mask /sys/bus/ap/ap_usage_domain_mask'
