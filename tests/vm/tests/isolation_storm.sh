#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Concurrency: seven writers at once for a fixed time, each its own process on a
# 2-CPU guest with lockdep and the hung-task detector on:
#   masks     apmask/aqmask writes (relative, absolute, invalid)
#   assign    assign/unassign of adapters, domains, control domains; ap_config
#   mdevs     mdev create/remove (an open mdev's removal asks its guest to unplug)
#   guests    three guests (vfio_client) opening and closing their mdevs
#   rescans   forced AP bus scans (/sys/bus/ap/scans)
#   hardware  simulator events: adapters and domains coming and going, checkstop,
#             deconfigure, slow resets
#   bindings  manual unbind/bind of queues
# Afterwards: every writer finished (none hung), each did its kind of work, the
# isolation invariant holds (tests/vm/progs/apview -> ap_test/invariant), and
# everything winds down (guests close, mdevs go, vfio_ap unloads). The runner
# fails the test on any lockdep, hung-task, WARNING or kmemleak report.
# aprs.storm_s= on the kernel command line sets the storm's length (seconds),
# aprs.storm_seed= the writers' seed (the interleaving is the scheduler's).
# vm-timeout: 240
. /lib/vmtest.sh
touch /tmp/ap-nondefault
B=/sys/bus/ap
MD=/sys/devices/vfio_ap/matrix
TY=$MD/mdev_supported_types/vfio_ap-passthrough
SECS=$(sed -n 's/.*aprs.storm_s=\([0-9]*\).*/\1/p' /proc/cmdline)
SECS=${SECS:-20}
SEED=$(sed -n 's/.*aprs.storm_seed=\([0-9]*\).*/\1/p' /proc/cmdline)
if [ -z "$SEED" ]; then read -r up x </proc/uptime; SEED=${up%.*}${up#*.}; fi
diag "isolation_storm: $SECS s, seed $SEED"

check "load vfio_ap simguest=1" insmod /m/vfio_ap.ko simguest=1
check "load the test drivers" insmod /m/ap_test_drv.ko
# A task blocked for 20 s is reported (and fails the test); the default is 120 s.
HUNG=/proc/sys/kernel/hung_task_timeout_secs
read -r hung_was <$HUNG
echo 20 >$HUNG
expect_write "apmask -1-3" $B/apmask '-1-3' OK
expect_write "aqmask -0-9" $B/aqmask '-0-9' OK

uuid() { UU=5e2f0000-0000-4000-8000-00000000000$1; }
for s in 0 1 2; do
	uuid $s
	expect_write "create mdev $s" $TY/create "$UU" OK
	rm -f /tmp/st.$s.cmd; mkfifo /tmp/st.$s.cmd; : >/tmp/st.$s.out
	vfio_client $UU /tmp/st.$s.cmd /tmp/st.$s.out &
	echo $! >/tmp/st.$s.pid
	echo "unplug_on_req 1" >/tmp/st.$s.cmd
done
uuid 0
for f in "assign_adapter 1" "assign_adapter 2" "assign_domain 4" "assign_domain 5"; do
	expect_write "mdev 0 ${f% *} ${f#* }" $MD/$UU/${f% *} "${f#* }" OK
done

read -r up x </proc/uptime
END=$((${up%.*} + SECS))
# Writers share nothing but the files they write; each counts its operations and
# successes in /tmp/st.count.NAME ("ops ok").
# rnd N: RV is 0..N-1 from the writer's own LCG state RS.
rnd() { RS=$(((RS * 1103515245 + 12345) & 0x7fffffff)); RV=$(((RS >> 8) % $1)); }
# w FILE VALUE: one write(2) by the shell itself (no fork); counts it.
w() {
	OPS=$((OPS + 1))
	if { echo "$2" >"$1"; } 2>/dev/null; then OK=$((OK + 1)); fi
}
running() { read -r up x </proc/uptime; [ "${up%.*}" -lt $END ]; }
writer() {
	name=$1 RS=$(($2 + SEED)) OPS=0 OK=0
	while running; do "w_$name"; done
	echo "$OPS $OK" >/tmp/st.count.$name
}
w_masks() {
	rnd 2; f=apmask; [ $RV = 1 ] && f=aqmask
	rnd 6; id=$RV; rnd 4
	case $RV in
	0) w $B/$f "+$id" ;; 1) w $B/$f "-$id" ;; 2) w $B/$f "-$id,+$(((id + 1) % 6))" ;; 3) w $B/$f "x$id" ;;
	esac
}
w_assign() {
	rnd 3; uuid $RV
	rnd 7
	case $RV in
	0) f=assign_adapter ;; 1) f=assign_domain ;; 2) f=assign_control_domain ;;
	3) f=unassign_adapter ;; 4) f=unassign_domain ;; 5) f=unassign_control_domain ;;
	6) f=ap_config ;;
	esac
	if [ $f = ap_config ]; then
		rnd 6; a=$RV; rnd 6; q=$RV; rnd 6; d=$RV
		w $MD/$UU/ap_config "$(mask_of $a $((a + 1))),$(mask_of $q $((q + 4))),$(mask_of $d)"
	else
		rnd 18; w $MD/$UU/$f $RV
	fi
}
# mdevs 1 and 2 come and go; mdev 0 stays.
w_mdevs() {
	rnd 2; s=$((RV + 1)); uuid $s
	if [ -d $MD/$UU ]; then w $MD/$UU/remove 1; else w $TY/create "$UU"; fi
}
# Guests: commands to the clients, paced so that they keep up; what worked is in
# the clients' output files (counted below).
w_guests() {
	rnd 3; s=$RV; rnd 2
	OPS=$((OPS + 1)) OK=$((OK + 1))
	# An open guest registers its eventfds: an mdev's removal asks it to unplug.
	if [ $RV = 0 ]; then printf 'open\nirqs\n' >/tmp/st.$s.cmd; else echo close >/tmp/st.$s.cmd; fi
	usleep 20000
}
w_rescans() { w $B/scans 1; }
w_hardware() {
	rnd 10; a=$RV; rnd 4; x=$RV
	OPS=$((OPS + 1))
	case $a in
	0) c="add 4 cex8" ;; 1) c="remove 4" ;; 2) c="rdom 14" ;; 3) c="adom 14" ;;
	4) c="chkstop $x 1" ;; 5) c="chkstop $x 0" ;; 6) c="config $x 0" ;; 7) c="config $x 1" ;;
	8) c="reset_ms 200" ;; 9) c="reset_ms 0" ;;
	esac
	if { echo "$c" >$SIM; } 2>/dev/null; then OK=$((OK + 1)); fi
	usleep 50000
}
w_bindings() {
	rnd 4; a=$RV; rnd 16; qname $a $RV
	drv_of $B/devices/$QN
	if [ "$DRV" != - ]; then
		w $B/drivers/$DRV/unbind "$QN"
	else
		rnd 2; drv=vfio_ap; [ $RV = 1 ] && drv=aptest_queue
		w $B/drivers/$drv/bind "$QN"
	fi
}

WRITERS="masks assign mdevs guests rescans hardware bindings"
i=0
pids=
for n in $WRITERS; do
	i=$((i + 1))
	rm -f /tmp/st.count.$n
	writer $n $((i * 7919)) &
	pids="$pids $!"
done
diag "writers:$pids"
# The writers stop at END; wait up to 60 s more for the last operations (a removal
# of an open mdev waits up to 10 s for the next request to its guest).
srv_sleep $((SECS * 1000))
left=
for t in $(seq 1 120); do
	left=
	for p in $pids; do [ -d /proc/$p ] && left="$left $p"; done
	[ -z "$left" ] && break
	srv_sleep 500
done
if [ -z "$left" ]; then ok "all writers finished"; else
	notok "all writers finished (still running:$left)"
	dump_tasks
fi

total=0
for n in $WRITERS; do
	c="0 0"; [ -f /tmp/st.count.$n ] && read -r c </tmp/st.count.$n
	ops=${c% *} good=${c#* }
	total=$((total + ops))
	diag "writer $n: $ops operations, $good succeeded"
	if [ "$good" -gt 0 ]; then ok "writer $n did its work"; else notok "writer $n did its work"; fi
done
opens=$(cat /tmp/st.0.out /tmp/st.1.out /tmp/st.2.out | grep -c ' open OK')
unplugs=$(cat /tmp/st.0.out /tmp/st.1.out /tmp/st.2.out | grep -c 'request unplugged')
diag "guests: $opens opens, $unplugs unplugs on removal; $total operations in all"
if [ "$opens" -gt 0 ]; then ok "guests opened mdevs during the storm"; else notok "guests opened mdevs during the storm"; fi

# Whatever follows must not hang either: a watchdog shows where it would.
watchdog 60
# Calm: no slow resets, every adapter back, then the invariant.
sim_cmd reset_ms 0
for a in 0 1 2 3; do sim_cmd chkstop $a 0; sim_cmd config $a 1; done
inv "after the storm"
# ... and it still works: guests 1 and 2 go, mdev 0 gets queue 01.0004 for its guest.
for s in 1 2; do
	echo exit >/tmp/st.$s.cmd
	wait "$(cat /tmp/st.$s.pid)"
	uuid $s
	[ -d $MD/$UU ] && write_result $MD/$UU/remove 1 >/dev/null
done
uuid 0
echo close >/tmp/st.0.cmd
[ -d $MD/$UU ] || write_result $TY/create "$UU" >/dev/null
write_result $B/apmask '-1' >/dev/null
write_result $B/aqmask '-4' >/dev/null
qname 1 4
[ -e $B/devices/$QN/driver ] || write_result $B/drivers/vfio_ap/bind $QN >/dev/null
expect_write "mdev 0: ap_config 01.0004" $MD/$UU/ap_config "$(mask_of 1),$(mask_of 4),$(mask_of)" OK
expect_text "mdev 0's guest matrix after the storm" $MD/$UU/guest_matrix "01.0004\n"
echo open >/tmp/st.0.cmd
srv_sleep 300
G=/sys/kernel/debug/vfio_ap/guests
read_text $G
case $TEXT in *"apm $(mask_of 1) aqm $(mask_of 4) "*) ok "mdev 0's guest has 01.0004" ;;
*) notok "mdev 0's guest has 01.0004"; diag "$TEXT" ;; esac
echo exit >/tmp/st.0.cmd
wait "$(cat /tmp/st.0.pid)"
write_result $MD/$UU/remove 1 >/dev/null
kill $WD
echo "$hung_was" >$HUNG
check "rmmod vfio_ap" rmmod vfio_ap
check "rmmod the test drivers" rmmod ap_test_drv
done_testing
