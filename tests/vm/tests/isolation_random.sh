#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Random operations, the isolation invariant after every step (vfio_ap/src/invariant.rs,
# checked by ap_test/invariant on what tests/vm/progs/apview collects from sysfs/debugfs):
# apmask/aqmask writes (absolute and relative, valid and invalid), mdev create/remove,
# assign/unassign of adapters, domains and control domains, ap_config writes, guests opening
# and closing mdevs (vfio_client), simulator events (adapters and domains coming and going,
# checkstop, deconfigure, slow resets), manual unbind and bind.
# Seeded and reproducible: AP_RS_ISO_SEED and AP_RS_ISO_STEPS on the kernel command line
# (aprs.iso_seed=, aprs.iso_steps=); a failure prints the seed, the step and the operation.
. /lib/vmtest.sh
touch /tmp/ap-nondefault
B=/sys/bus/ap
MD=/sys/devices/vfio_ap/matrix
TY=$MD/mdev_supported_types/vfio_ap-passthrough

SEED=$(sed -n 's/.*aprs.iso_seed=\([0-9]*\).*/\1/p' /proc/cmdline)
STEPS=$(sed -n 's/.*aprs.iso_steps=\([0-9]*\).*/\1/p' /proc/cmdline)
if [ -z "$SEED" ]; then read -r up x </proc/uptime; SEED=${up%.*}${up#*.}; fi
# A short run in make check (each step costs about 1.5 s under s390 TCG).
if [ -z "$STEPS" ]; then STEPS=50; [ "$(uname -m)" = s390x ] && STEPS=25; fi
RS=$SEED
diag "isolation_random: seed $SEED, $STEPS steps"

# rnd N: RV is a pseudo-random number 0..N-1 (an LCG: the same seed, the same run).
rnd() { RS=$(((RS * 1103515245 + 12345) & 0x7fffffff)); RV=$(((RS >> 8) % $1)); }

check "load vfio_ap simguest=1" insmod /m/vfio_ap.ko simguest=1
check "load the test drivers" insmod /m/ap_test_drv.ko

# Three mdev slots; a slot's client (its own process: its own guest) runs while the mdev is open.
uuid() { UU=5e1f0000-0000-4000-8000-00000000000$1; }
vc() { echo "$2" >/tmp/iso.$1.cmd; }
# client_open S: a new guest (vfio_client process) opens mdev slot S.
client_open() {
	uuid $1
	rm -f /tmp/iso.$1.cmd; mkfifo /tmp/iso.$1.cmd; : >/tmp/iso.$1.out
	vfio_client $UU /tmp/iso.$1.cmd /tmp/iso.$1.out &
	echo $! >/tmp/iso.$1.open
	vc $1 open; srv_sleep 100
}

OP=
do_op() {
	rnd 10
	case $RV in
	0 | 1)
		rnd 2; f=apmask; [ $RV = 1 ] && f=aqmask
		rnd 6; id=$RV
		rnd 5
		case $RV in
		0) v="+$id" ;; 1) v="-$id" ;; 2) v="0x$(printf "%02x" $((RS & 255)))" ;;
		3) v="-$id,+$(((id + 1) % 6))" ;; 4) v="junk$id" ;;
		esac
		OP="$f $v"; write_result $B/$f "$v" >/dev/null ;;
	2)
		rnd 3; uuid $RV
		if [ -d $MD/$UU ]; then
			if [ -f /tmp/iso.$RV.open ]; then OP="remove $RV (open: skipped)"; return; fi
			OP="remove mdev $RV"; write_result $MD/$UU/remove 1 >/dev/null
		else
			OP="create mdev $RV"; write_result $TY/create "$UU" >/dev/null
		fi ;;
	3 | 4)
		rnd 3; s=$RV; uuid $s
		[ -d $MD/$UU ] || { OP="assign on missing mdev $s"; return; }
		rnd 6; f=assign_adapter
		case $RV in 1) f=assign_domain ;; 2) f=assign_control_domain ;; 3) f=unassign_adapter ;;
		4) f=unassign_domain ;; 5) f=unassign_control_domain ;; esac
		rnd 18; OP="mdev $s $f $RV"; write_result $MD/$UU/$f "$RV" >/dev/null ;;
	5)
		rnd 3; s=$RV; uuid $s
		[ -d $MD/$UU ] || { OP="ap_config on missing mdev $s"; return; }
		rnd 64; a=$RV; rnd 64; q=$RV; rnd 64; d=$RV
		m() { printf '0x%02x%062d' $(($1 << 2)) 0; }
		OP="mdev $s ap_config $a $q $d"
		write_result $MD/$UU/ap_config "$(m $a),$(m $q),$(m $d)\n" >/dev/null ;;
	6)
		rnd 3; s=$RV; uuid $s
		[ -d $MD/$UU ] || { OP="open on missing mdev $s"; return; }
		if [ -f /tmp/iso.$s.open ]; then
			OP="close mdev $s"; vc $s close; vc $s exit; wait "$(cat /tmp/iso.$s.open)"
			rm -f /tmp/iso.$s.open
		else
			OP="open mdev $s"; client_open $s
		fi ;;
	7)
		rnd 12; rnd2=$RV; rnd 4; a=$RV
		case $rnd2 in
		0) OP="sim add 4"; sim_cmd add 4 cex8 ;; 1) OP="sim remove 4"; sim_cmd remove 4 ;;
		2) OP="sim rdom 14"; sim_cmd rdom 14 ;; 3) OP="sim adom 14"; sim_cmd adom 14 ;;
		4) OP="sim remove 2"; sim_cmd remove 2 ;; 5) OP="sim add 2"; sim_cmd add 2 cex8 ;;
		6) OP="sim chkstop $a 1"; sim_cmd chkstop $a 1 ;;
		7) OP="sim chkstop $a 0"; sim_cmd chkstop $a 0 ;;
		8) OP="sim config $a 0 (deconfigure)"; sim_cmd config $a 0 ;;
		9) OP="sim config $a 1"; sim_cmd config $a 1 ;;
		10) OP="sim reset_ms 200 (slow resets)"; sim_cmd reset_ms 200 ;;
		11) OP="sim reset_ms 0"; sim_cmd reset_ms 0 ;;
		esac ;;
	8 | 9)
		rnd 5; a=$RV; rnd 16; qname $a $RV
		d=/sys/bus/ap/devices/$QN
		[ -e $d ] || { OP="unbind/bind missing $QN"; return; }
		drv_of $d
		if [ "$DRV" = - ]; then
			rnd 2; drv=vfio_ap; [ $RV = 1 ] && drv=aptest_queue
			OP="bind $QN to $drv"; write_result $B/drivers/$drv/bind "$QN" >/dev/null
		else
			OP="unbind $QN from $DRV"; write_result $B/drivers/$DRV/unbind "$QN" >/dev/null
		fi ;;
	esac
}

# Start where assignments can succeed: the host gives up adapters 1-3 and domains 0-9.
check "apmask -1-3" write_result $B/apmask '-1-3'
check "aqmask -0-9" write_result $B/aqmask '-0-9'
# ... and a guest runs with queues from the start (mdev 0: adapters 1-2 x domains 4-5).
uuid 0
check "create mdev 0" write_result $TY/create "$UU"
for f in "assign_adapter 1" "assign_adapter 2" "assign_domain 4" "assign_domain 5"; do
	write_result $MD/$UU/${f% *} "${f#* }" >/dev/null
done
client_open 0
ZM=0x0000000000000000000000000000000000000000000000000000000000000000
bad=0
step=0
GUESTQ=0
: >/tmp/iso.ops
while [ $step -lt "$STEPS" ]; do
	step=$((step + 1))
	do_op
	echo "$step $OP" >>/tmp/iso.ops
	# How often a guest could use queues (its CRYCB has adapters and domains).
	while IFS= read -r l; do
		a=${l#* apm }; a=${a%% *}; q=${l#* aqm }; q=${q%% *}
		if [ "$a" != "$ZM" ] && [ "$q" != "$ZM" ]; then GUESTQ=$((GUESTQ + 1)); break; fi
	done </sys/kernel/debug/vfio_ap/guests
	if ! apview /sys/kernel/debug/ap_test/invariant >/tmp/inv 2>&1; then
		notok "invariant after step $step ($OP), seed $SEED"
		sed 's/^/# /' /tmp/inv
		diag "the last operations:"
		tail -8 /tmp/iso.ops | sed 's/^/#   /'
		bad=1
		break
	fi
done
[ $bad = 0 ] && ok "invariant held over $STEPS random operations (seed $SEED)"
diag "steps with a guest using queues: $GUESTQ of $STEPS"

# Wind down: guests close, mdevs go, modules unload.
for s in 0 1 2; do
	uuid $s
	if [ -f /tmp/iso.$s.open ]; then vc $s exit; wait "$(cat /tmp/iso.$s.open)"; rm -f /tmp/iso.$s.open; fi
	[ -d $MD/$UU ] && write_result $MD/$UU/remove 1 >/dev/null
done
check "rmmod vfio_ap" rmmod vfio_ap
check "rmmod the test drivers" rmmod ap_test_drv
done_testing
