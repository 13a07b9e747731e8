#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# mdevctl (Debian's 1.4.0, unchanged; fetched by scripts/toolchain.sh)
# drives vfio_ap.ko: types; define and modify a persistent configuration with
# assign_adapter/assign_domain/assign_control_domain attributes; list it (-d,
# -v, --dumpjson); start it; modify the definition of the running mdev (the mdev
# keeps its matrix); modify --live refused without a callout; with the callout
# tests/vm/progs/ap_check.c (what s390-tools' ap-check is on other
# distributions) modify --live reaches the mdev's sysfs and, with a guest
# (vfio_client) holding the mdev open, the guest's CRYCB in one commit, while the
# definition changes only with --defined; a refused live change changes nothing;
# starts refused by the driver (EADDRINUSE) or the callout leave no mdev; a
# transient start from a JSON file and a definition taken from a running mdev;
# stop; undefine. sysfs (matrix, control_domains, guest_matrix, the device
# itself) and /etc/mdevctl.d are checked after every step.
# (The default machine: adapters 0-3 x domains 0-15, control domains 0-15.)
# vm-timeout: 300
. /lib/vmtest.sh
# Without mdevctl (the set-up found no source for it) this test fails, saying why.
if [ -f /etc/mdevctl-missing ]; then
	notok "mdevctl is in the VM: the set-up could not fetch it: $(cat /etc/mdevctl-missing)"
	done_testing
fi
touch /tmp/ap-nondefault
B=/sys/bus/ap
MD=/sys/devices/vfio_ap/matrix
TY=$MD/mdev_supported_types/vfio_ap-passthrough
U1=0a0a0a0a-1111-4222-8333-444444444444
U2=0b0b0b0b-1111-4222-8333-555555555555
M1=$MD/$U1
M2=$MD/$U2
CFG=/etc/mdevctl.d/matrix
CALLOUTS=/etc/mdevctl.d/scripts.d/callouts
T0=vfio_ap-passthrough

# mdv ARGS...: runs mdevctl; MO is what it printed (stdout and stderr), MRC its status.
MDV_N=0
mdv() { MO=$(mdevctl "$@" 2>&1); MRC=$?; MDV_N=$((MDV_N + 1)); }
# dump_cfg: the definition of mdev 1 (list -d --dumpjson) into /tmp/live.json.
dump_cfg() {
	MDV_N=$((MDV_N + 1))
	if mdevctl list -d --dumpjson -u $U1 >/tmp/live.json; then ok "list -d --dumpjson to a file"; else
		notok "list -d --dumpjson to a file"; fi
}
# mdv_ok WHAT EXPECTED ARGS...: mdevctl ARGS succeeds and prints EXPECTED.
mdv_ok() {
	local what=$1 exp=$2
	shift 2
	mdv "$@"
	expect_eq "$what" "0: $exp" "$MRC: $MO"
}
# cfg_json START ATTR=VALUE...: CJ is the configuration file mdevctl writes (serde_json's
# pretty form, no newline at the end; \n for expect_text).
cfg_json() {
	local a s=
	CJ="{\n  \"mdev_type\": \"$T0\",\n  \"start\": \"$1\",\n  \"attrs\": ["
	shift
	for a; do CJ="$CJ$s\n    {\n      \"${a%%=*}\": \"${a#*=}\"\n    }"; s=,; done
	if [ -n "$s" ]; then CJ="$CJ\n  ]\n}"; else CJ="$CJ]\n}"; fi
}
# json_file FILE ATTR=VALUE...: a configuration in mdevctl's compact form, for --jsonfile.
json_file() {
	local f=$1 a s= j
	shift
	j="{\"mdev_type\":\"$T0\",\"start\":\"manual\",\"attrs\":["
	for a; do j="$j$s{\"${a%%=*}\":\"${a#*=}\"}"; s=,; done
	printf '%s]}\n' "$j" >"$f"
}
# attrs_txt ATTR=VALUE...: AT is the attribute list of `mdevctl list -v`.
attrs_txt() {
	local a i=0
	AT="${NL}  Attrs:"
	for a; do AT="$AT$NL    @{$i}: {\"${a%%=*}\":\"${a#*=}\"}"; i=$((i + 1)); done
}
# sysfs_is WHAT MDEV MATRIX CONTROL_DOMAINS: the mdev's assigned matrix and control
# domains (printf-escaped); all of its queues are configured, so guest_matrix = matrix.
sysfs_is() {
	expect_file "$1: matrix" "$MD/$2/matrix" "$3"
	expect_file "$1: guest_matrix" "$MD/$2/guest_matrix" "$3"
	expect_file "$1: control_domains" "$MD/$2/control_domains" "$4"
}

read -r T_START x </proc/uptime
check "load vfio_ap simguest=1" insmod /m/vfio_ap.ko simguest=1
check "load the test drivers" insmod /m/ap_test_drv.ko

# ---- The parent and its type.
mdv_ok "mdevctl types" "matrix
  $T0
    Available instances: 65536
    Device API: vfio-ap
    Name: VFIO AP Passthrough Device" types
expect_text "... as in sysfs: available_instances" $TY/available_instances "65536\n"
expect_text "... device_api" $TY/device_api "vfio-ap\n"
expect_text "... name" $TY/name "VFIO AP Passthrough Device\n"
mdv_ok "nothing defined" "" list -d
mdv_ok "nothing active" "" list

# The host gives vfio_ap adapters 1-3 (with every domain) and domains 4-7 (on every
# adapter); 00.0008 stays the host's.
expect_write "apmask -1-3" $B/apmask '-1-3' OK
expect_write "aqmask -4-7" $B/aqmask '-4-7' OK

# ---- define, then attributes with modify.
mdv_ok "define $U1" "" define -p matrix -t $T0 -u $U1
cfg_json manual
expect_text "configuration file written" $CFG/$U1 "$CJ"
check "define does not create the mdev" test ! -e $M1
mdv_ok "modify --addattr assign_adapter 1" "" modify -u $U1 --addattr assign_adapter --value 1
mdv_ok "modify --addattr assign_adapter 0x2" "" modify -u $U1 --addattr assign_adapter --value 0x2
mdv_ok "modify --addattr assign_domain 4" "" modify -u $U1 --addattr assign_domain --value 4
mdv_ok "modify --addattr assign_domain 5" "" modify -u $U1 --addattr assign_domain --value 5
mdv_ok "modify --addattr assign_control_domain 3" "" modify -u $U1 --addattr assign_control_domain --value 3
A1="assign_adapter=1 assign_adapter=0x2 assign_domain=4 assign_domain=5 assign_control_domain=3"
cfg_json manual $A1
expect_text "configuration file with five attributes in order" $CFG/$U1 "$CJ"
check "modify does not create the mdev" test ! -e $M1
mdv_ok "list -d" "$U1 matrix $T0 manual" list -d
attrs_txt $A1
mdv_ok "list -dv: the attributes" "$U1 matrix $T0 manual$AT" list -dv
mdv list -d --dumpjson -u $U1
cfg_json manual $A1
expect_eq "list -d --dumpjson -u: the configuration" "0: ${CJ//\\n/$NL}" "$MRC: $MO"

# ---- start.
mdv_ok "start $U1" "" start -u $U1
check "the mdev exists" test -d $M1
drv_of $M1
expect_eq "bound to vfio_ap_mdev" vfio_ap_mdev "$DRV"
sysfs_is "started" $U1 "01.0004\n01.0005\n02.0004\n02.0005\n" "0003\n"
expect_text "available_instances one less" $TY/available_instances "65535\n"
mdv_ok "list: running, defined" "$U1 matrix $T0 manual (defined)" list
mdv_ok "list -d: defined, active" "$U1 matrix $T0 manual (active)" list -d
mdv start -u $U1
case $MRC:$MO in 1:*"Device already exists"*) ok "start of a running mdev: 'Device already exists'" ;;
*) notok "start of a running mdev: 'Device already exists'"; diag "$MRC: $MO" ;; esac

# ---- The definition changes, the running mdev does not.
mdv_ok "modify (defined only) --addattr assign_adapter 3" "" modify -u $U1 --addattr assign_adapter --value 3
A2="$A1 assign_adapter=3"
cfg_json manual $A2
expect_text "configuration has adapter 3" $CFG/$U1 "$CJ"
sysfs_is "the running mdev keeps its matrix" $U1 "01.0004\n01.0005\n02.0004\n02.0005\n" "0003\n"

# ---- modify --live without a callout: refused.
dump_cfg
mdv modify -u $U1 --live --jsonfile /tmp/live.json
expect_eq "modify --live without a callout: refused" "1: Error: Live modification is not supported for this device type. Changing the device configuration requires stopping and restarting the device." "$MRC: $MO"
sysfs_is "refused live modify" $U1 "01.0004\n01.0005\n02.0004\n02.0005\n" "0003\n"
mdv_ok "list -v without a callout: no attributes of a running mdev" "$U1 matrix $T0 manual (defined)" list -v

# ---- The callout (tests/vm/progs/ap_check.c) installed.
mkdir -p $CALLOUTS
ln -s /bin/ap_check $CALLOUTS/ap-check
attrs_txt assign_adapter=1 assign_adapter=2 assign_domain=4 assign_domain=5 assign_control_domain=3
mdv_ok "list -v: the running mdev's attributes from the callout" "$U1 matrix $T0 manual (defined)$AT" list -v
mdv_ok "modify --live: the definition applied to the running mdev" "" modify -u $U1 --live --jsonfile /tmp/live.json
sysfs_is "live: adapter 3 added" $U1 "01.0004\n01.0005\n02.0004\n02.0005\n03.0004\n03.0005\n" "0003\n"
expect_text "live: the definition unchanged" $CFG/$U1 "$CJ"
# Remove domain 5 from the definition (attribute 3), then apply it.
mdv_ok "modify --delattr --index 3 (assign_domain 5)" "" modify -u $U1 --delattr --index 3
A3="assign_adapter=1 assign_adapter=0x2 assign_domain=4 assign_control_domain=3 assign_adapter=3"
cfg_json manual $A3
expect_text "configuration without domain 5" $CFG/$U1 "$CJ"
sysfs_is "the running mdev still has domain 5" $U1 "01.0004\n01.0005\n02.0004\n02.0005\n03.0004\n03.0005\n" "0003\n"
dump_cfg
mdv_ok "modify --live: domain 5 removed" "" modify -u $U1 --live --jsonfile /tmp/live.json
sysfs_is "live: domain 5 gone" $U1 "01.0004\n02.0004\n03.0004\n" "0003\n"
# A live change that is not in the definition: only the running mdev changes.
json_file /tmp/live.json $A3 unassign_adapter=2
mdv_ok "modify --live with unassign_adapter 2 (not defined)" "" modify -u $U1 --live --jsonfile /tmp/live.json
sysfs_is "live: adapter 2 gone" $U1 "01.0004\n03.0004\n" "0003\n"
expect_text "the definition unchanged" $CFG/$U1 "$CJ"
mdv_ok "modify --live --defined: the running mdev and the definition" "" \
	modify -u $U1 --live --defined --jsonfile /tmp/live.json
A4="$A3 unassign_adapter=2"
cfg_json manual $A4
expect_text "--defined: the definition has unassign_adapter 2" $CFG/$U1 "$CJ"
sysfs_is "--defined: the running mdev as before" $U1 "01.0004\n03.0004\n" "0003\n"
inv "after the live changes"

# ---- A guest holds the mdev open: a live change is one hot plug.
vc_start $U1
vc open
expect_eq "guest opens the mdev" OK "$VCR"
A13=$(mask_of 1 3) A123=$(mask_of 1 2 3) Q4=$(mask_of 4) Q46=$(mask_of 4 6) C3=$(mask_of 3) C37=$(mask_of 3 7)
guest_line $U1
expect_eq "guest CRYCB at open: one commit" "$U1 commits 1 apm $A13 aqm $Q4 adm $C3" "$GL"
expect_text "status 03.0004: in use" /sys/devices/ap/card03/03.0004/status "in use\n"
json_file /tmp/live.json $A4 assign_adapter=2 assign_domain=6 assign_control_domain=7
mdv_ok "modify --live with the guest: adapter 2, domain 6, control domain 7" "" \
	modify -u $U1 --live --jsonfile /tmp/live.json
guest_line $U1
expect_eq "hot plug into the guest: one commit" "$U1 commits 2 apm $A123 aqm $Q46 adm $C37" "$GL"
sysfs_is "live with the guest" $U1 \
	"01.0004\n01.0006\n02.0004\n02.0006\n03.0004\n03.0006\n" "0003\n0007\n"
expect_text "status 02.0006: in use" /sys/devices/ap/card02/02.0006/status "in use\n"
# 00.0008 is the host's (apmask and aqmask): the driver refuses, nothing changes.
json_file /tmp/bad.json $A4 assign_adapter=2 assign_domain=6 assign_control_domain=7 \
	assign_adapter=0 assign_domain=8
mdv modify -u $U1 --live --jsonfile /tmp/bad.json
expect_eq "modify --live of a host queue: refused with the driver's errno" \
	"1: ap-check: Writing ap_config of $U1 failed: EADDRNOTAVAIL (Cannot assign requested address)
Error: Script '\"/etc/mdevctl.d/scripts.d/callouts/ap-check\"' failed with status '1'" "$MRC: $MO"
guest_line $U1
expect_eq "refused: the guest unchanged" "$U1 commits 2 apm $A123 aqm $Q46 adm $C37" "$GL"
sysfs_is "refused: the mdev unchanged" $U1 \
	"01.0004\n01.0006\n02.0004\n02.0006\n03.0004\n03.0006\n" "0003\n0007\n"
inv "guest running after the live changes"
vc close
expect_eq "guest closes" OK "$VCR"
vc exit
wait $VCPID

# ---- Starts that fail leave no mdev.
# 01.0004 belongs to mdev 1: the driver's EADDRINUSE, mdevctl removes the new mdev.
json_file /tmp/u2.json assign_adapter=1 assign_domain=4
mdv start -u $U2 -p matrix --jsonfile /tmp/u2.json
expect_eq "start with a queue of another mdev: EADDRINUSE" "1: Error: Failed to write 4 to attribute assign_domain

Caused by:
    Address already in use (os error 98)" "$MRC: $MO"
check "no mdev left" test ! -e $M2
expect_text "available_instances back" $TY/available_instances "65535\n"
# The callout's check before a start: control domains need a usage domain.
json_file /tmp/u2.json assign_adapter=0 assign_control_domain=5
mdv start -u $U2 -p matrix --jsonfile /tmp/u2.json
expect_eq "start with a control domain and no usage domain: the callout refuses" \
	"1: ap-check: At least one usage domain must be specified
Error: Script '\"/etc/mdevctl.d/scripts.d/callouts/ap-check\"' failed with status '1'" "$MRC: $MO"
check "no mdev created" test ! -e $M2
sysfs_is "mdev 1 untouched" $U1 "01.0004\n01.0006\n02.0004\n02.0006\n03.0004\n03.0006\n" "0003\n0007\n"

# ---- A transient mdev from a JSON file, then defined from what runs.
json_file /tmp/u2.json assign_adapter=0 assign_domain=0x7 assign_control_domain=5
mdv_ok "start -p matrix --jsonfile (transient)" "" start -u $U2 -p matrix --jsonfile /tmp/u2.json
sysfs_is "transient mdev" $U2 "00.0007\n" "0005\n"
check "transient: no configuration" test ! -e $CFG/$U2
mdv_ok "list: both running, one defined" "$U1 matrix $T0 manual (defined)
$U2 matrix $T0 manual" list
mdv_ok "define a running mdev" "" define -u $U2
cfg_json manual assign_adapter=0 assign_domain=7 assign_control_domain=5
expect_text "its configuration: the running attributes from the callout" $CFG/$U2 "$CJ"

# ---- stop and undefine.
mdv_ok "stop $U1" "" stop -u $U1
check "mdev 1 gone" test ! -e $M1
check "mdev 1 not on the mdev bus" test ! -e /sys/bus/mdev/devices/$U1
expect_text "status 03.0004: unassigned" /sys/devices/ap/card03/03.0004/status "unassigned\n"
mdv_ok "stop $U2" "" stop -u $U2
check "mdev 2 gone" test ! -e $M2
expect_text "available_instances: all" $TY/available_instances "65536\n"
mdv_ok "list: nothing running" "" list
mdv_ok "list -d: both defined, none active" "$U1 matrix $T0 manual
$U2 matrix $T0 manual" list -d
mdv stop -u $U1
expect_eq "stop of a stopped mdev" "1: Error: Device $U1 is not an active mdev" "$MRC: $MO"
mdv_ok "undefine $U1" "" undefine -u $U1
check "configuration 1 gone" test ! -e $CFG/$U1
mdv_ok "undefine $U2" "" undefine -u $U2
check "configuration 2 gone" test ! -e $CFG/$U2
mdv_ok "list -d: nothing defined" "" list -d
inv "at the end"
read -r t x </proc/uptime
t=$((${t%.*}${t#*.} - ${T_START%.*}${T_START#*.}))
diag "$MDV_N mdevctl runs; the test took $((t / 100)).$((t / 10 % 10)) s"

rm -r $CALLOUTS /etc/mdevctl.d/matrix
check "rmmod vfio_ap" rmmod vfio_ap
check "rmmod the test drivers" rmmod ap_test_drv
done_testing
