#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Installs what the project needs and prints the environment for the kernel
# build as shell assignments (eval "$(scripts/toolchain.sh)").
#
# - Debian packages (apt-get, only those missing),
# - linux-source-7.3 (trixie-backports), qemu-system-s390x 10.0
#   (bookworm-backports), busybox-static:s390x, and for the VM tests' mdevctl
#   (tests/vm/tests/mdevctl.sh) trixie's mdevctl 1.4 with the libc6 and
#   libgcc-s1 it runs on, for amd64 and s390x (bookworm's 1.2 has no
#   `modify --live`; 1.4 needs glibc 2.39), fetched through side apt
#   configurations under the cache directory: the machine's apt sources are
#   never changed and nothing from the side configurations is installed,
# - bindgen-cli 0.72.1 from crates.io (not 0.73.x: wrong layouts),
# - the kernel source tree, unpacked once.
#
# Everything lands in $AP_RS_CACHE (default ~/.cache/ap-rs). Idempotent and
# fast when everything is present.
set -euo pipefail

C=${AP_RS_CACHE:-$HOME/.cache/ap-rs}
BINDGEN_VER=0.72.1
KPKG=linux-source-7.3
LOG=$C/logs
mkdir -p "$C" "$LOG" "$C/debs"
die() { echo "toolchain: $*" >&2; exit 1; }
say() { echo "toolchain: $*" >&2; }

STAMP=$C/.toolchain-ok-$(md5sum <"$0" | cut -c1-12)
if [ ! -f "$STAMP" ]; then
	PKGS=(rustc-web rust-web-src libclang-19-dev build-essential flex bison bc libelf-dev
	      libssl-dev cpio kmod rust-web-clippy dwarves xz-utils python3 python3-docutils qemu-system-x86 busybox-static
	      gcc-12-s390x-linux-gnu gcc-s390x-linux-gnu libc6-dev-s390x-cross binutils-s390x-linux-gnu)
	missing=()
	for p in "${PKGS[@]}"; do
		[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get -o DPkg::Lock::Timeout=300 update -qq >"$LOG/apt-update.log" 2>&1 || true
		apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" \
			>"$LOG/apt.log" 2>&1 || { tail -20 "$LOG/apt.log" >&2; die "apt-get install failed"; }
	fi

	# Side apt configurations: own lists, cache and an empty status file.
	side_apt() { # side_apt <name> <arch> <sources line>...: sets SIDE and SIDE_ARCH
		local n=$1 a=$2; shift 2
		SIDE_ARCH=$a
		local d=$C/apt-$n
		mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
		printf '%s\n' "$@" >"$d/sources.list.new"
		SIDE=(-o Dir::Etc::sourcelist="$d/sources.list" -o Dir::Etc::sourceparts=-
		      -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" -o Dir::State::status=/dev/null
		      -o APT::Architecture="$a" -o APT::Architectures="$a" -o APT::Sandbox::User=root)
		if ! cmp -s "$d/sources.list.new" "$d/sources.list" || ! ls "$d/lists/"*Packages* >/dev/null 2>&1; then
			mv "$d/sources.list.new" "$d/sources.list"
			apt-get "${SIDE[@]}" -qq update >"$LOG/apt-$n-update.log" 2>&1 \
				|| { cat "$LOG/apt-$n-update.log" >&2; die "side apt update ($n) failed"; }
		else
			rm "$d/sources.list.new"
		fi
	}
	fetch_deb() { # fetch_deb <pkg> <release|-> <unpack-dir>: from the last side_apt's configuration
		local p=$1 rel=$2 dst=$3 f tag=""
		case $rel in bookworm-backports) tag="~bpo12" ;; trixie-backports) tag="~bpo13" ;; esac
		# The architecture is part of the name: libc6 is fetched for amd64 and s390x.
		f=$(ls "$C/debs/${p}_"*"$tag"*"_$SIDE_ARCH.deb" "$C/debs/${p}_"*"$tag"*_all.deb 2>/dev/null | head -1 || true)
		if [ -z "$f" ]; then
			(cd "$C/debs" && apt-get "${SIDE[@]}" -qq download "$p${tag:+/$rel}" >"$LOG/download-$p-$SIDE_ARCH.log" 2>&1) \
				|| { cat "$LOG/download-$p-$SIDE_ARCH.log" >&2; die "download of $p ($SIDE_ARCH) failed"; }
			f=$(ls "$C/debs/${p}_"*"$tag"*"_$SIDE_ARCH.deb" "$C/debs/${p}_"*"$tag"*_all.deb 2>/dev/null | head -1 || true)
			[ -n "$f" ] || die "download of $p ($SIDE_ARCH): no .deb in $C/debs"
		fi
		if [ ! -f "$dst/.unpacked-$(basename "$f")" ]; then
			mkdir -p "$dst" && dpkg-deb -x "$f" "$dst" && touch "$dst/.unpacked-$(basename "$f")"
		fi
	}
	DEB="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian"
	side_apt amd64 amd64 "deb $DEB trixie-backports main" "deb $DEB bookworm-backports main"
	fetch_deb "$KPKG" trixie-backports "$C/pkg-ksrc"
	fetch_deb qemu-system-s390x bookworm-backports "$C/qemu10"
	fetch_deb qemu-system-data bookworm-backports "$C/qemu10"
	side_apt s390x s390x "deb $DEB bookworm main"
	fetch_deb busybox-static - "$C/bb-s390x"
	# mdevctl for the VMs: trixie's (own configurations, so that nothing else comes from trixie).
	for a in amd64 s390x; do
		side_apt "trixie-$a" "$a" "deb $DEB trixie main"
		for p in mdevctl libc6 libgcc-s1; do fetch_deb "$p" - "$C/mdevctl-$a"; done
	done

	# bindgen-cli, pinned.
	BINDGEN=$C/tools/bin/bindgen
	if [ "$("$BINDGEN" --version 2>/dev/null || true)" != "bindgen $BINDGEN_VER" ]; then
		CARGO=$(command -v cargo || true)
		[ -z "$CARGO" ] && [ -x "$HOME/.cargo/bin/cargo" ] && CARGO=$HOME/.cargo/bin/cargo
		if [ -z "$CARGO" ]; then
			DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
				--no-install-recommends cargo-web >/dev/null
			CARGO=/usr/bin/cargo
		fi
		say "cargo install bindgen-cli $BINDGEN_VER"
		"$CARGO" install bindgen-cli --version "$BINDGEN_VER" --locked --force --root "$C/tools" \
			>"$LOG/bindgen-install.log" 2>&1 || { tail -20 "$LOG/bindgen-install.log" >&2; die "bindgen install failed"; }
	fi
	"$BINDGEN" --version | grep -qx "bindgen $BINDGEN_VER" || die "bindgen is not $BINDGEN_VER"

	# Kernel source, unpacked once.
	SRC=$C/$KPKG
	if [ ! -f "$SRC/Makefile" ]; then
		say "unpacking $KPKG"
		rm -rf "$SRC.tmp" && mkdir -p "$SRC.tmp"
		tar -xaf "$C/pkg-ksrc/usr/src/$KPKG.tar.xz" -C "$SRC.tmp" && mv "$SRC.tmp/$KPKG" "$SRC" && rmdir "$SRC.tmp"
	fi
	touch "$STAMP"
fi

RUST_LIB_SRC=$(ls -d /usr/src/rustc-*/library 2>/dev/null | sort -V | tail -1)
[ -d "$RUST_LIB_SRC/core" ] || die "rust library sources not found (rust-web-src)"
cat <<EOV
AP_RS_CACHE=$C
KSRC=$C/$KPKG
BINDGEN=$C/tools/bin/bindgen
RUST_LIB_SRC=$RUST_LIB_SRC
LIBCLANG_PATH=/usr/lib/llvm-19/lib
QEMU_S390="$C/qemu10/usr/bin/qemu-system-s390x -L $C/qemu10/usr/share/qemu -audio none"
BUSYBOX_S390=$C/bb-s390x/bin/busybox
MDEVCTL_X86_64=$C/mdevctl-amd64
MDEVCTL_S390=$C/mdevctl-s390x
EOV
