#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel.sh <x86_64|s390>: configures and builds the test kernel for one
# architecture and prints the build directory on stdout.
#
# The build lives outside the repository in $AP_RS_CACHE/kbuild-<arch>-<key>,
# where <key> hashes the config fragments, the kernel package and every tool
# version. A finished build is reused as is (a stamp file records success);
# a changed key starts a new build directory. The build holds
# kbuild-<arch>-<key>.lock: a second run that needs the same build waits for it
# and then takes the finished kernel.
set -euo pipefail
A=${1:?usage: kernel.sh x86_64|s390}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
toolchain_env
export RUST_LIB_SRC LIBCLANG_PATH
JOBS=${JOBS:-$(nproc)}
die() { echo "kernel.sh($A): $*" >&2; exit 1; }

case $A in
x86_64) CROSS= ; KIMG=arch/x86/boot/bzImage ;;
s390) CROSS=s390x-linux-gnu- ; KIMG=arch/s390/boot/bzImage ;;
*) die "unknown arch" ;;
esac
FRAGS=("$HERE/kconfig/common.config" "$HERE/kconfig/$A.config")

KEY=$( { cat "${FRAGS[@]}"; cat "$AP_RS_CACHE/pkg-ksrc/.ap-rs-fetched"; /usr/bin/rustc --version;
	"$BINDGEN" --version; ${CROSS}gcc --version | head -1; echo "$RUST_LIB_SRC"; } | md5sum | cut -c1-16)
B=$AP_RS_CACHE/kbuild-$A-$KEY
MK=(make -s -C "$KSRC" O="$B" ARCH="$A" ${CROSS:+CROSS_COMPILE=$CROSS} RUSTC=/usr/bin/rustc
    HOSTRUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc BINDGEN="$BINDGEN")

[ -f "$B/.ap-rs-built" ] || cache_lock "$B.lock" "kernel.sh($A)"
if [ ! -f "$B/.ap-rs-built" ]; then
	mkdir -p "$B"
	LOG=$B/build.log
	echo "kernel.sh($A): building test kernel in $B (a few minutes)" >&2
	"${MK[@]}" rustavailable >"$LOG" 2>&1 || { cat "$LOG" >&2; die "make rustavailable failed"; }
	if [ ! -f "$B/.config" ]; then
		"${MK[@]}" tinyconfig >>"$LOG" 2>&1
		args=()
		for f in "${FRAGS[@]}"; do
			while read -r line; do
				case $line in
				CONFIG_*=y) s=${line%%=*}; args+=(-e "${s#CONFIG_}") ;;
				CONFIG_*=m) s=${line%%=*}; args+=(-m "${s#CONFIG_}") ;;
				"# CONFIG_"*" is not set") s=${line#\# CONFIG_}; args+=(-d "${s%% *}") ;;
				esac
			done <"$f"
		done
		"$KSRC/scripts/config" --file "$B/.config" "${args[@]}"
		"${MK[@]}" olddefconfig >>"$LOG" 2>&1
	fi
	# Kconfig silently drops options whose dependencies are unmet: verify each.
	bad=0
	for f in "${FRAGS[@]}"; do
		while read -r line; do
			case $line in
			CONFIG_*=[ym]) grep -qx "$line" "$B/.config" || { echo "kernel.sh($A): $line did not stick" >&2; bad=1; } ;;
			"# CONFIG_"*" is not set") s=${line#\# }; s=${s%% *}
				grep -qE "^$s=[ym]" "$B/.config" && { echo "kernel.sh($A): $s should be off" >&2; bad=1; } ;;
			esac
		done <"$f"
	done
	[ $bad = 0 ] || die "config verification failed"
	"${MK[@]}" -j"$JOBS" >>"$LOG" 2>&1 || { grep -E 'error|Error' "$LOG" | head -30 >&2; die "kernel build failed (see $LOG)"; }
	[ -f "$B/$KIMG" ] || die "no $KIMG"
	cat >"$B/kmake" <<EOK
#!/bin/sh
export RUST_LIB_SRC=$RUST_LIB_SRC LIBCLANG_PATH=$LIBCLANG_PATH
exec make -C $B ARCH=$A ${CROSS:+CROSS_COMPILE=$CROSS} RUSTC=/usr/bin/rustc HOSTRUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc BINDGEN=$BINDGEN "\$@"
EOK
	chmod +x "$B/kmake"
	echo "$KIMG" >"$B/.ap-rs-kimg"
	touch "$B/.ap-rs-built"
	ln -sfn "$B" "$AP_RS_CACHE/kbuild-$A"
fi
echo "$B"
