#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Allocation failures in module init, for ap.ko and vfio_ap.ko: failslab aimed
# at the module's text (where a load without faults put it; a module loads
# there again), the n-th allocation of the finit_module(2) call failing (the
# swrite server's m request), for growing n. After each failure the load has
# either failed and left nothing behind (no bus, no root device, no driver, no
# matrix device, no debugfs directory, no /sys/module entry, no queue bound) or
# succeeded into the state of a load without faults; the next load works. The
# runner's kernel-log check and kmemleak scan make WARNINGs, lockdep reports
# and leaks fail it.
# vm-timeout: 900
. /lib/vmtest.sh
touch /tmp/ap-nondefault
B=/sys/bus/ap
D=/sys/kernel/debug
MD=/sys/devices/vfio_ap/matrix

check "failslab is there" [ -f $FS/require-start ]
failslab_setup
# Upstream bug (drivers/base/bus.c, 7.3): when bus_register fails before it has
# registered its lockdep key, its error path drops the bus, whose release
# unregisters the key anyway: a lockdep WARNING. ap.ko's init and vfio_ap's
# (the matrix bus) call it; its allocations are left out.
failslab_reject bus_register

# mload FILE N PARAMS: FR as fop. munload NAME: R.
mload() { printf 'm %s %s\n%s\0' "$1" "$2" "$3" >&7; read -r FR <&8; }
munload() { printf 'u %s\n\0' "$1" >&7; read -r R <&8; }

# init_loop WHAT MODULE FILE PARAMS: the loop; gone and loaded_state (ST) are
# the module's.
init_loop() {
	local what=$1 mod=$2 file=$3 params=$4 n=0 bad= errs= res how= tried=0 clean range
	mload "$file" 0 "$params"
	[ "$FR" = OK ] || { notok "$what: loads without faults ($FR)"; return; }
	loaded_state; clean=$ST
	failslab_aim "$mod"
	range="$(cat $FS/require-start) $(cat $FS/require-end)"
	munload "$mod"
	gone || { notok "$what: unloads without faults"; return; }
	while [ $n -lt 5000 ]; do
		fault_next
		tried=$((tried + 1))
		mload "$file" $n "$params"
		res=${FR% *} how=${FR##* }
		case $how in
		injected) ;;
		clean:*) ;;
		*) bad="$bad $n:$FR"; break ;;
		esac
		if [ "$res" = OK ]; then
			loaded_state
			[ "$ST" = "$clean" ] || { bad="$bad $n:OK-but-not-the-clean-state"; diag "$n: $ST"; }
			munload "$mod"
			[ "$R" = OK ] || bad="$bad $n:unload-$R"
			gone || bad="$bad $n:left-after-unload"
		else
			errs="$errs $n:$res"
			gone || { bad="$bad $n:$res-but-left-behind"; diag "$n: $(left)"; }
		fi
		case $how in clean:*) break ;; esac
	done
	# The last load made all its allocations: the module loaded where failslab was aimed.
	mload "$file" 0 "$params"
	[ "$FR" = OK ] || bad="$bad loads-again:$FR"
	failslab_aim "$mod"
	[ "$(cat $FS/require-start) $(cat $FS/require-end)" = "$range" ] ||
		bad="$bad the-module-moved"
	FAULTS_INJECTED=$((FAULTS_INJECTED + tried - 1))
	tmark "$what: $((tried - 1)) loads with one allocation failing; failed with:${errs:- none}"
	if [ -z "$bad" ] && [ "${how%:*}" = clean ]; then ok "$what: every failure handled"; else
		notok "$what: every failure handled"; diag "problems:$bad"
	fi
}

# ap.ko, on the machine the runner loads it on (sim= from /etc/aprs-sim).
AP_PARAMS=
[ -f /etc/aprs-sim ] && read -r s </etc/aprs-sim && AP_PARAMS="sim=\"$s\""
gone() {
	[ ! -e $B ] && [ ! -e /sys/devices/ap ] && [ ! -e /sys/module/ap ] && [ ! -e $D/ap_sim ]
}
left() { ls -d $B /sys/devices/ap /sys/module/ap $D/ap_sim 2>/dev/null | tr '\n' ' '; }
# A device whose registration failed in the first scan is made by the next one (as in
# C); a debugfs file that could not be made is left out (debugfs is best effort).
loaded_state() {
	srv_write $B/scans 1
	srv_state $B/apmask $B/aqmask $B/ap_adapter_mask $B/ap_usage_domain_mask
	ST="$R $(ls $B/devices | tr '\n' ' ')"
}
unload_ap
init_loop "ap.ko init" ap /m/ap.ko "$AP_PARAMS"

# vfio_ap.ko, with adapter 1 given up by the host: its init binds those queues.
expect_write "apmask -1" $B/apmask -1 OK
gone() {
	[ ! -e /sys/devices/vfio_ap ] && [ ! -e $B/drivers/vfio_ap ] && [ ! -e /sys/module/vfio_ap ] &&
		[ ! -e $D/vfio_ap ] && [ ! -e $B/devices/01.0000/driver ]
}
left() {
	ls -d /sys/devices/vfio_ap $B/drivers/vfio_ap /sys/module/vfio_ap $D/vfio_ap \
		$B/devices/01.0000/driver 2>/dev/null | tr '\n' ' '
}
# A queue whose probe failed stays unbound, as in C: asked to bind again it does. The
# driver core's own files of the driver (bind, unbind) are its business.
loaded_state() {
	local q
	for q in $(ls $B/devices); do
		case $q in 01.*) [ -e $B/devices/$q/driver ] || srv_write $B/drivers_probe "$q" ;; esac
	done
	srv_state $MD/mdev_supported_types/vfio_ap-passthrough/available_instances \
		$B/devices/01.0000/status
	ST="$R $(ls $B/drivers/vfio_ap | grep '^..\.....$' | tr '\n' ' ') $(ls $MD/mdev_supported_types)"
}
init_loop "vfio_ap.ko init" vfio_ap /m/vfio_ap.ko ""

failslab_off
diag "allocation failures injected: $FAULTS_INJECTED"
check "rmmod vfio_ap" rmmod vfio_ap
done_testing
