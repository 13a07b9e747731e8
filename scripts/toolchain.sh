#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The project's set-up. Installs what is missing and prints the environment of
# the build as shell assignments; callers take them with toolchain_env
# (scripts/common.sh), which stops them when this fails.
#
#   scripts/toolchain.sh               all of it, then the assignments
#   scripts/toolchain.sh --fetch-only  only the packages of the fetch plan
#   scripts/toolchain.sh --versions    what the plan's packages are, and from where
#
# - Debian packages for this machine (apt-get, only those missing; a failed
#   install is retried once on fresh indexes),
# - the packages of scripts/fetch.plan (AP_RS_FETCH_PLAN names another): the
#   kernel source, qemu-system-s390x 10.0, busybox for s390x and, for the mdevctl
#   VM test only, mdevctl with its glibc. Each comes through side apt
#   configurations under the cache directory (the machine's apt sources are never
#   changed, nothing is installed) from the first of its sources that works; the
#   log says why each one before it did not. The plan says what is optional.
# - bindgen-cli 0.72.1 from crates.io (not 0.73.x: wrong layouts),
# - the kernel source tree, unpacked once.
#
# Everything lands in $AP_RS_CACHE (default ~/.cache/ap-rs). The set-up holds
# $AP_RS_CACHE/.setup.lock while it works: a second run waits. Idempotent, and
# fast when everything is present.
set -euo pipefail
. "$(dirname "$0")/common.sh"

MODE=all
case ${1:-} in
"") ;;
--fetch-only) MODE=fetch ;;
--versions) MODE=versions ;;
*) echo "usage: toolchain.sh [--fetch-only|--versions]" >&2; exit 2 ;;
esac

C=${AP_RS_CACHE:-$HOME/.cache/ap-rs}
PLAN=${AP_RS_FETCH_PLAN:-$AP_RS_SCRIPTS/fetch.plan}
BINDGEN_VER=0.72.1
KPKG=linux-source-7.3
LOG=$C/logs
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
die() { echo "toolchain: $*" >&2; exit 1; }
say() { echo "toolchain: $*" >&2; }
mkdir -p "$C" "$LOG" "$C/debs" || die "cannot create the cache directory $C"
[ -r "$PLAN" ] || die "no fetch plan $PLAN"

# versions: a line per package of every group of the plan: what was fetched, from
# where, or why the group is missing.
versions() {
	local d
	for d in $(plan_dirs); do
		if [ -f "$C/$d/.ap-rs-fetched" ]; then sed "s|^|$d |" "$C/$d/.ap-rs-fetched"
		elif [ -f "$C/$d.missing" ]; then echo "$d missing: $(cat "$C/$d.missing")"
		else echo "$d not fetched yet"; fi
	done
}
plan_lines() { grep -vE '^[[:space:]]*(#|$)' "$PLAN"; }
plan_dirs() { plan_lines | awk '!seen[$1]++ {print $1}'; }
if [ $MODE = versions ]; then versions; exit 0; fi

# ---- Side apt configurations ------------------------------------------------
# A source of the plan is parsed into S_KIND (deb, closure, source), S_SUITE and
# the sources.list line S_LINE; S_NAME is how the log names it.
parse_source() {
	local t=$1 uri opts=
	S_KIND=deb
	case $t in closure:*) S_KIND=closure; t=${t#closure:} ;; source:*) S_KIND=source; t=${t#source:} ;; esac
	S_SUITE=${t%%@*}
	if [ "$t" != "$S_SUITE" ]; then
		uri=${t#*@}
		case $uri in "["*"]"*) opts="${uri%%]*}]"; uri=${uri#*]} ;; esac
	else
		case $S_SUITE in *-security) uri=http://deb.debian.org/debian-security ;; *) uri=http://deb.debian.org/debian ;; esac
		opts="[signed-by=$KEYRING]"
	fi
	local type=deb
	[ $S_KIND = source ] && type=deb-src
	S_LINE="$type $opts $uri $S_SUITE main"
	S_NAME=$S_SUITE
	[ "$t" = "$S_SUITE" ] || S_NAME="$S_SUITE@$uri"
	[ $S_KIND = deb ] || S_NAME="$S_KIND:$S_NAME"
}

# side_apt ARCH: SIDE is the option set of the side configuration for S_LINE and
# ARCH (own lists, cache and an empty status file); its index is fetched if it
# has none. Fails with the reason in WHY. apt retries what fails to connect
# AP_RS_APT_RETRIES times (default 3, with growing pauses: 7 s in all).
side_apt() {
	local a=$1
	SIDE_DIR=$C/apt/$a-$S_SUITE-$(echo "$S_LINE" | md5sum | cut -c1-8)
	mkdir -p "$SIDE_DIR/lists/partial" "$SIDE_DIR/cache/archives/partial"
	echo "$S_LINE" >"$SIDE_DIR/sources.list"
	SIDE=(-o Dir::Etc::sourcelist="$SIDE_DIR/sources.list" -o Dir::Etc::sourceparts=-
	      -o Dir::State::Lists="$SIDE_DIR/lists" -o Dir::Cache="$SIDE_DIR/cache"
	      -o Dir::State::status=/dev/null -o APT::Architecture="$a" -o APT::Architectures="$a"
	      -o APT::Sandbox::User=root -o Acquire::Retries="${AP_RS_APT_RETRIES:-3}")
	[ -f "$SIDE_DIR/indexed" ] || side_update
}
# side_update: fetches the index of the current side configuration. apt-get
# update exits 0 when a source cannot be reached, so its warnings count too.
side_update() {
	local log=$SIDE_DIR/update.log
	rm -f "$SIDE_DIR/indexed"
	if apt-get "${SIDE[@]}" -qq update >"$log" 2>&1 && ! grep -qE '^(E:|W: Failed to fetch)' "$log" &&
		[ -n "$(find "$SIDE_DIR/lists" -maxdepth 1 \( -name '*_Packages*' -o -name '*_Sources*' \) | head -1)" ]; then
		touch "$SIDE_DIR/indexed"
		return 0
	fi
	WHY="its index could not be fetched ($(grep -m1 -E '^(E|W):' "$log" | cut -c4- | tr -s ' ' || echo 'no index'))"
	return 1
}
# side_refresh: a failed download may come from an old index (the archive has
# moved on): fetch the index again, once per run.
side_refresh() {
	[ "$SIDE_DIR/indexed" -nt "$RUN_T0" ] && return 1
	say "  refreshing the index of $S_NAME ($SIDE_ARCH) and trying again: $WHY"
	side_update
}

# debs_get NAME...: downloads the packages NAME (apt's NAME/SUITE selectors) of
# the current side configuration into $C/debs, or takes them from there when a
# file of the same name has the index's hash. FILES are their paths. Fails with WHY.
debs_get() {
	local uris dl err=$SIDE_DIR/download.log url fn size hash todo=()
	FILES=()
	uris=$(apt-get "${SIDE[@]}" -qq download --print-uris "$@" 2>"$err") ||
		{ WHY="not in its index ($(grep -m1 '^E:' "$err" | cut -c4-))"; return 1; }
	while read -r url fn size hash; do
		FILES+=("$C/debs/$fn")
		if [ -f "$C/debs/$fn" ] && [ "${hash#SHA256:}" != "$hash" ] &&
			[ "$(sha256sum <"$C/debs/$fn" | cut -d' ' -f1)" = "${hash#SHA256:}" ]; then continue; fi
		todo+=("$fn")
	done <<<"$uris"
	[ ${#todo[@]} = 0 ] && return 0
	dl=$(mktemp -d "$C/debs/.dl.XXXXXX")
	if ! (cd "$dl" && apt-get "${SIDE[@]}" -qq download "$@") >"$err" 2>&1; then
		rm -rf "$dl"
		WHY="the download failed ($(grep -m1 -E '^E:' "$err" | sed 's/^E: //; s/ \[IP: [^]]*\]//' | tr -s ' '))"
		return 1
	fi
	for fn in "${todo[@]}"; do mv "$dl/$fn" "$C/debs/$fn" || { rm -rf "$dl"; WHY="apt did not write $fn"; return 1; }; done
	rm -rf "$dl"
}

# fetch_from PKG ARCH DEST: fetches PKG for ARCH from the parsed source into the
# group directory DEST being built. F_VER is its version; for a closure, FILES
# are all the packages it put into DEST. Fails with WHY.
fetch_from() {
	local p=$1 a=$2 dst=$3 f names dl dsc
	SIDE_ARCH=$a
	side_apt "$a" || return 1
	case $S_KIND in
	deb)
		debs_get "$p/$S_SUITE" || { side_refresh && debs_get "$p/$S_SUITE"; } || deb_older "$p" || return 1
		F_VER=$(dpkg-deb -f "${FILES[0]}" Version)
		dpkg-deb -x "${FILES[0]}" "$dst" || { WHY="dpkg-deb -x failed"; return 1; }
		dpkg-deb -f "${FILES[0]}" Depends >"$dst/.ap-rs-depends-$p" || true
		;;
	closure)
		names=$(apt-get "${SIDE[@]}" -s -qq install --no-install-recommends "$p/$S_SUITE" 2>&1 |
			awk '/^Inst /{print $2}') || true
		[ -n "$names" ] || { WHY="apt cannot resolve its dependencies"; return 1; }
		# shellcheck disable=SC2086 # one name a word
		debs_get $names || { side_refresh && debs_get $names; } || return 1
		for f in "${FILES[@]}"; do dpkg-deb -x "$f" "$dst" || { WHY="dpkg-deb -x $f failed"; return 1; }; done
		F_VER=$(dpkg-deb -f "$(printf '%s\n' "${FILES[@]}" | grep "/${p}_" | head -1)" Version)
		wrap_programs "$p" "$(printf '%s\n' "${FILES[@]}" | grep "/${p}_" | head -1)" "$dst" || return 1
		;;
	source)
		dl=$C/debs/src-$p
		mkdir -p "$dl"
		if ! (cd "$dl" && apt-get "${SIDE[@]}" -qq source --download-only "$p/$S_SUITE") >"$SIDE_DIR/source.log" 2>&1; then
			side_refresh && (cd "$dl" && apt-get "${SIDE[@]}" -qq source --download-only "$p/$S_SUITE") \
				>"$SIDE_DIR/source.log" 2>&1 ||
				{ WHY="the download failed ($(grep -m1 '^E:' "$SIDE_DIR/source.log" | cut -c4- | tr -s ' '))"; return 1; }
		fi
		dsc=$(ls -t "$dl"/*.dsc | head -1)
		F_VER=$(sed -n 's/^Version: //p' "$dsc")
		mkdir -p "$dst/src"
		# apt checked every file against the signed index; the .dsc's own
		# signature needs keys this machine does not have.
		dpkg-source --no-check -x "$dsc" "$dst/src/$p" >"$SIDE_DIR/dpkg-source.log" 2>&1 ||
			{ WHY="dpkg-source -x failed (see $SIDE_DIR/dpkg-source.log)"; return 1; }
		;;
	esac
}

# deb_older PKG: after the newest version of PKG in the current index failed,
# the older ones the same index names (an archive keeps some for a while),
# newest first. Keeps the first failure's WHY if none works.
deb_older() {
	local p=$1 v first=$WHY newest
	newest=$(apt-cache "${SIDE[@]}" policy "$p" 2>/dev/null | sed -n 's/^  Candidate: //p')
	for v in $(apt-cache "${SIDE[@]}" madison "$p" 2>/dev/null | awk -F' [|] ' '{print $2}'); do
		[ "$v" = "$newest" ] && continue
		say "  $p ($SIDE_ARCH) $newest from $S_NAME: $first; trying $v, also in its index"
		debs_get "$p=$v" && return 0
	done
	WHY=$first
	return 1
}

# wrap_programs PKG DEB DEST: PKG's programs in usr/bin run on the loader and the
# libraries of the closure in DEST (it will be $C/<dir>): each becomes a script
# that starts the real one, renamed .NAME.real, through that loader.
wrap_programs() {
	local p=$1 deb=$2 dst=$3 final=$C/$DIR prog interp ld libs
	libs=$(find "$dst" -name '*.so*' -printf '%h\n' | sort -u | sed "s|^$dst|$final|" | paste -sd:)
	for prog in $(dpkg-deb -c "$deb" | awk '$1 ~ /^-/ && $NF ~ /^\.\/usr\/bin\// {print substr($NF, 3)}'); do
		interp=$(readelf -l "$dst/$prog" 2>/dev/null | sed -n 's/.*program interpreter: \(.*\)]$/\1/p')
		[ -n "$interp" ] || continue
		ld=$(find "$dst" -name "$(basename "$interp")" | head -1)
		[ -n "$ld" ] || { WHY="no loader $interp in the closure"; return 1; }
		mv "$dst/$prog" "$(dirname "$dst/$prog")/.$(basename "$prog").real"
		printf '#!/bin/sh\n# %s from %s, on its own glibc (scripts/toolchain.sh)\nexec %s --library-path %s %s "$@"\n' \
			"$p" "$S_NAME" "${ld/#$dst/$final}" "$libs" "$final/$(dirname "$prog")/.$(basename "$prog").real" \
			>"$dst/$prog"
		chmod +x "$dst/$prog"
	done
}

# group_deps_ok DEST: every versioned dependency of a package of the group on
# another package of the group is met (mdevctl's "libc6 (>= 2.39)" with the
# libc6 the group got). Fails with WHY.
group_deps_ok() {
	local dst=$1 f p clause name op ver have
	for f in "$dst"/.ap-rs-depends-*; do
		[ -e "$f" ] || continue
		p=${f##*/.ap-rs-depends-}
		while read -r clause; do
			case $clause in *"|"*|"") continue ;; esac
			name=${clause%% *}; name=${name%%:*}
			have=${GVER[$name]:-}
			[ -n "$have" ] || continue
			case $clause in *"("*")"*) ;; *) continue ;; esac
			op=$(echo "$clause" | sed -n 's/.*(\([<>=]*\) *\([^)]*\)).*/\1/p')
			ver=$(echo "$clause" | sed -n 's/.*(\([<>=]*\) *\([^)]*\)).*/\2/p')
			dpkg --compare-versions "$have" "$op" "$ver" ||
				{ WHY="$p needs $name ($op $ver), the group got $have"; return 1; }
		done < <(tr ',' '\n' <"$f" | sed 's/^ *//; s/ *$//')
	done
}

# fetch_group DIR: every package of the group DIR, into $C/DIR.new, then in place
# of $C/DIR. Fails with WHY; $C/DIR is then left as it was.
fetch_group() {
	DIR=$1
	local dst=$C/$DIR.new lines sig need p a src got errs
	lines=$(plan_lines | awk -v d="$DIR" '$1 == d')
	sig=$(echo "$lines" | md5sum | cut -c1-16)
	if [ -f "$C/$DIR/.ap-rs-fetched" ] && [ "$(cat "$C/$DIR/.ap-rs-plan" 2>/dev/null)" = "$sig" ]; then
		rm -f "$C/$DIR.missing"
		return 0
	fi
	rm -rf "$dst" && mkdir -p "$dst"
	declare -gA GVER=()
	: >"$dst/.ap-rs-fetched"
	while read -r -u 3 _ need p a srcs; do
		[ -z "${GVER[$p]:-}" ] || continue # a closure brought it
		got= errs=
		for src in $srcs; do
			parse_source "$src"
			if fetch_from "$p" "$a" "$dst"; then got=1; break; fi
			say "$p ($a) from $S_NAME: $WHY; next source"
			errs="$errs${errs:+; }$S_NAME: $WHY"
		done
		if [ -z "$got" ]; then
			WHY="$p ($a) could not be fetched from any of its sources ($errs)"
			rm -rf "$dst"
			return 1
		fi
		say "$p ($a) $F_VER from $S_NAME"
		echo "$p $a $F_VER $S_NAME" >>"$dst/.ap-rs-fetched"
		GVER[$p]=$F_VER
		# A closure brings the other packages it names, each with its own version.
		if [ $S_KIND = closure ]; then
			for f in "${FILES[@]}"; do GVER[$(dpkg-deb -f "$f" Package)]=$(dpkg-deb -f "$f" Version); done
		fi
	done 3<<<"$lines"
	group_deps_ok "$dst" || { rm -rf "$dst"; return 1; }
	echo "$sig" >"$dst/.ap-rs-plan"
	rm -rf "$C/$DIR" && mv "$dst" "$C/$DIR" && rm -f "$C/$DIR.missing"
}

fetch_plan() {
	local d need
	RUN_T0=$(mktemp "$C/.run.XXXXXX")
	trap 'rm -f "$RUN_T0"' EXIT
	for d in $(plan_dirs); do
		need=$(plan_lines | awk -v d="$d" '$1 == d {print $2; exit}')
		# An optional group that failed a moment ago is not tried again at once
		# (make check asks for the set-up many times); after 10 minutes it is.
		if [ "$need" = optional ] && [ -f "$C/$d.missing" ] && [ -z "$(find "$C/$d.missing" -mmin +10)" ] &&
			[ "$MODE" = all ]; then continue; fi
		fetch_group "$d" && continue
		if [ "$need" = required ]; then die "$d: $WHY"; fi
		say "$d (optional) is missing: $WHY; only the tests that need it will fail"
		rm -rf "${C:?}/$d"
		echo "$WHY" >"$C/$d.missing"
	done
	say "fetched packages (also in Documentation/testing.rst):"
	versions | sed 's/^/toolchain:   /' >&2
}

if [ $MODE = fetch ]; then
	cache_lock "$C/.setup.lock" toolchain
	fetch_plan
	exit 0
fi

# ---- The whole set-up -------------------------------------------------------
STAMP=$C/.toolchain-ok-$(cat "$0" "$AP_RS_SCRIPTS/common.sh" "$PLAN" | md5sum | cut -c1-12)
setup_needed() {
	local m
	[ -f "$STAMP" ] || return 0
	for m in "$C"/*.missing; do
		[ -e "$m" ] && [ -n "$(find "$m" -mmin +10)" ] && return 0
	done
	return 1
}
if setup_needed; then
	cache_lock "$C/.setup.lock" toolchain
fi
if setup_needed; then
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
		apt_install() {
			apt-get -o DPkg::Lock::Timeout=300 update -qq >"$LOG/apt-update.log" 2>&1 || true
			apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" \
				>"$LOG/apt.log" 2>&1
		}
		apt_install || { say "apt-get install failed, trying once more on fresh indexes"; apt_install; } ||
			{ tail -20 "$LOG/apt.log" >&2; die "apt-get install ${missing[*]} failed (see $LOG/apt.log)"; }
	fi

	fetch_plan

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

	# The kernel source tree, unpacked once from what pkg-ksrc holds: the
	# binary package's tarball, or the tree dpkg-source made of the source package.
	SRC=$C/$KPKG
	from=$(cat "$C/pkg-ksrc/.ap-rs-fetched")
	if [ ! -f "$SRC/Makefile" ] || [ "$(cat "$SRC.from" 2>/dev/null)" != "$from" ]; then
		say "unpacking $KPKG"
		rm -rf "$SRC" "$SRC.tmp" "$SRC.from"
		if [ -f "$C/pkg-ksrc/usr/src/$KPKG.tar.xz" ]; then
			mkdir -p "$SRC.tmp"
			tar -xaf "$C/pkg-ksrc/usr/src/$KPKG.tar.xz" -C "$SRC.tmp" && mv "$SRC.tmp/$KPKG" "$SRC" && rmdir "$SRC.tmp" ||
				die "unpacking $KPKG failed"
		elif [ -f "$C/pkg-ksrc/src/$KPKG/Makefile" ]; then
			ln -s "$C/pkg-ksrc/src/$KPKG" "$SRC"
		else
			die "pkg-ksrc holds no kernel source"
		fi
		echo "$from" >"$SRC.from"
	fi
	rm -f "$C"/.toolchain-ok-*
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
