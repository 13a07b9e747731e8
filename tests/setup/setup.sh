#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The set-up scripts, on the host (make check's "set-up scripts" step; alone:
# tests/setup/setup.sh). scripts/toolchain.sh runs against fetch plans whose
# sources are local test archives served over HTTP on 127.0.0.1, in a cache
# directory of its own, so that every way a source can fail is shown:
#   - a source that cannot be reached (nothing listens on 127.0.0.1:1),
#   - an index that names a file the archive does not serve (404),
#   - an index that has gone old since it was fetched (refreshed once),
#   - an index whose newest version is not served, but an older one it names is,
#   - the fallback kinds closure: (a program and its libraries, run on the
#     closure's loader) and source: (a source package through dpkg-source),
#   - an optional group that cannot be fetched (the set-up goes on and says
#     why in DIR.missing), a group whose own dependencies are not met,
#   - a required package that cannot be fetched: toolchain.sh fails with its
#     message and every caller (kernel.sh, modules.sh, tests/vm/run.sh, make
#     run) stops at once with it, never on an unbound variable;
#   - a second set-up waits for the first one's lock on the cache.
# Prints one line an assertion and ends with "setup: N passed, N failed".
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
TC=$TOP/scripts/toolchain.sh
T=$(mktemp -d)
SRV=
cleanup() { [ -n "$SRV" ] && kill "$SRV" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
PASS=0 FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
notok() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
# expect WHAT COMMAND...: the command succeeds.
expect() { local w=$1; shift; if "$@"; then ok "$w"; else notok "$w"; fi; }
# has WHAT FILE TEXT: FILE contains the fixed string TEXT.
has() { if grep -qF -- "$3" "$2"; then ok "$1"; else notok "$1: no \"$3\" in $2:"; sed 's/^/      /' "$2"; fi; }
absent() { local f; for f; do [ ! -e "$f" ] || return 1; done; }
present() { local f; for f; do [ -e "$f" ] || return 1; done; }
hasnt() { if grep -qF -- "$3" "$2"; then notok "$1: \"$3\" in $2:"; sed 's/^/      /' "$2"; else ok "$1"; fi; }

# ---- The test archives --------------------------------------------------------
W=$T/www
# deb NAME VERSION [CONTROL-LINE...]: builds NAME_VERSION_all.deb from $T/root-NAME into $T/debs.
deb() {
	local n=$1 v=$2 r=$T/root-$1
	shift 2
	mkdir -p "$r/DEBIAN" "$T/debs"
	printf 'Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: ap-rs <ap-rs@localhost>\n' "$n" "$v" >"$r/DEBIAN/control"
	[ $# = 0 ] || printf '%s\n' "$@" >>"$r/DEBIAN/control"
	printf 'Description: ap-rs set-up test package\n' >>"$r/DEBIAN/control"
	dpkg-deb --root-owner-group -Zgzip -b "$r" "$T/debs/${n}_${v}_all.deb" >/dev/null
}
# repo R: an archive under $W/R with suite "stable", component main, whose index
# lists the packages given as FILE (served) or -NAME:VERSION (listed, not served).
repo() {
	local r=$W/$1 d f n v
	shift
	d=$r/dists/stable/main/binary-amd64
	rm -rf "$r" && mkdir -p "$d" "$r/pool"
	for f; do
		case $f in
		-*) n=${f#-}; v=${n#*:}; n=${n%%:*}
			printf 'Package: %s\nVersion: %s\nArchitecture: all\nFilename: pool/%s_%s_all.deb\nSize: 1000\nSHA256: %s\nDescription: not served\n\n' \
				"$n" "$v" "$n" "$v" "$(echo "$n$v" | sha256sum | cut -d' ' -f1)" >>"$d/Packages" ;;
		*) cp "$f" "$r/pool/"
			dpkg-deb -f "$f" Package Version Architecture Depends >>"$d/Packages"
			printf 'Filename: pool/%s\nSize: %s\nSHA256: %s\nDescription: test\n\n' "${f##*/}" \
				"$(stat -c %s "$f")" "$(sha256sum <"$f" | cut -d' ' -f1)" >>"$d/Packages" ;;
		esac
	done
	touch "$d/Packages"
	release "$r" main/binary-amd64/Packages
}
# release R FILE...: an unsigned Release of archive R naming FILEs (under dists/stable).
release() {
	local r=$1 f
	shift
	{
		printf 'Suite: stable\nCodename: stable\nDate: %s\nArchitectures: amd64 s390x\nComponents: main\nSHA256:\n' \
			"$(date -Ru)"
		for f; do
			printf ' %s %s %s\n' "$(sha256sum <"$r/dists/stable/$f" | cut -d' ' -f1)" \
				"$(stat -c %s "$r/dists/stable/$f")" "$f"
		done
	} >"$r/dists/stable/Release"
}

# A plain package, in 1.0 (served by r3) and listed as 1.1 in r2, which does not serve it.
mkdir -p "$T/root-aprs-fetch-test/usr/share/aprs-fetch-test"
echo 1.0 >"$T/root-aprs-fetch-test/usr/share/aprs-fetch-test/version"
deb aprs-fetch-test 1.0
# A package that needs a newer aprs-fetch-test than there is.
deb aprs-dep-user 1.0 "Depends: aprs-fetch-test (>= 2.0)"
# A program on a library no system path has, and the loader: a closure.
mkdir -p "$T/root-aprs-hello-lib/usr/lib/x86_64-linux-gnu" "$T/root-aprs-hello-lib/usr/lib64" \
	"$T/root-aprs-hello/usr/bin"
printf 'const char *aprs_hello(void) { return "hello from the closure"; }\n' >"$T/lib.c"
gcc -shared -fPIC -o "$T/root-aprs-hello-lib/usr/lib/x86_64-linux-gnu/libaprshello.so" "$T/lib.c"
cp -L /lib64/ld-linux-x86-64.so.2 "$T/root-aprs-hello-lib/usr/lib64/"
cp -L /lib/x86_64-linux-gnu/libc.so.6 "$T/root-aprs-hello-lib/usr/lib/x86_64-linux-gnu/"
printf '#include <stdio.h>\nconst char *aprs_hello(void);\nint main(void) { puts(aprs_hello()); return 0; }\n' >"$T/hello.c"
gcc -o "$T/root-aprs-hello/usr/bin/aprs-hello" "$T/hello.c" -L"$T/root-aprs-hello-lib/usr/lib/x86_64-linux-gnu" -laprshello
deb aprs-hello-lib 1.0
deb aprs-hello 1.0 "Depends: aprs-hello-lib"
# Y: listed as 1.0 when r4's index is first fetched; later r4 serves only 2.0.
mkdir -p "$T/root-aprs-moving"
deb aprs-moving 1.0
deb aprs-moving 2.0

# An index with two versions of a package, the newer not served.
deb aprs-old 1.0
repo r5 -aprs-old:2.0 "$T/debs/aprs-old_1.0_all.deb"
repo r2 -aprs-fetch-test:1.1
repo r3 "$T/debs/aprs-fetch-test_1.0_all.deb" "$T/debs/aprs-dep-user_1.0_all.deb" \
	"$T/debs/aprs-hello_1.0_all.deb" "$T/debs/aprs-hello-lib_1.0_all.deb"
repo r4 "$T/debs/aprs-fetch-test_1.0_all.deb" "$T/debs/aprs-moving_1.0_all.deb"
# A source package in r3 (deb-src), made with dpkg-source.
mkdir -p "$T/srcpkg/aprs-src-1.0/debian/source"
echo "from the source package" >"$T/srcpkg/aprs-src-1.0/hello.txt"
echo "1.0" >"$T/srcpkg/aprs-src-1.0/debian/source/format"
printf 'Source: aprs-src\nMaintainer: ap-rs <ap-rs@localhost>\n\nPackage: aprs-src\nArchitecture: all\nDescription: test\n' \
	>"$T/srcpkg/aprs-src-1.0/debian/control"
printf 'aprs-src (1.0) stable; urgency=low\n\n  * Test.\n\n -- ap-rs <ap-rs@localhost>  Mon, 01 Jan 2024 00:00:00 +0000\n' \
	>"$T/srcpkg/aprs-src-1.0/debian/changelog"
(cd "$T/srcpkg" && dpkg-source -b aprs-src-1.0 >/dev/null 2>&1)
mkdir -p "$W/r3/pool/src" "$W/r3/dists/stable/main/source"
cp "$T/srcpkg"/aprs-src_1.0* "$W/r3/pool/src/"
{
	printf 'Package: aprs-src\nBinary: aprs-src\nVersion: 1.0\nMaintainer: ap-rs <ap-rs@localhost>\nArchitecture: all\nFormat: 1.0\nDirectory: pool/src\nChecksums-Sha256:\n'
	for f in "$W/r3/pool/src"/*; do printf ' %s %s %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "${f##*/}"; done
	printf 'Files:\n'
	for f in "$W/r3/pool/src"/*; do printf ' %s %s %s\n' "$(md5sum <"$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "${f##*/}"; done
	echo
} >"$W/r3/dists/stable/main/source/Sources"
release "$W/r3" main/binary-amd64/Packages main/source/Sources

python3 -u -m http.server --bind 127.0.0.1 0 --directory "$W" >"$T/http.log" 2>&1 &
SRV=$!
for _ in $(seq 100); do grep -q 'port [0-9]' "$T/http.log" && break; sleep 0.1; done
PORT=$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$T/http.log" | head -1)
[ -n "$PORT" ] || { notok "the test archive server started"; cat "$T/http.log"; echo "setup: $PASS passed, $FAIL failed"; exit 1; }
U="[trusted=yes]http://127.0.0.1:$PORT"
DOWN="stable@[trusted=yes]http://127.0.0.1:1/r1"

# ---- One set-up through every fallback -----------------------------------------
cat >"$T/plan" <<EOF
g-deb     required aprs-fetch-test amd64 $DOWN stable@$U/r2 stable@$U/r3
g-closure required aprs-hello      amd64 closure:$DOWN closure:stable@$U/r3
g-source  required aprs-src        amd64 source:stable@$U/r2 source:stable@$U/r3
g-opt     optional aprs-fetch-test amd64 stable@$U/r3
g-opt     optional aprs-dep-user   amd64 stable@$U/r3
g-index   required aprs-fetch-test amd64 stable@$U/r4
g-older   required aprs-old        amd64 stable@$U/r5
EOF
C=$T/cache
# Without apt's pauses between connection attempts (7 s for each unreachable source).
export AP_RS_APT_RETRIES=0
export AP_RS_CACHE=$C AP_RS_FETCH_PLAN=$T/plan
"$TC" --fetch-only >"$T/out" 2>"$T/err"
expect "toolchain.sh --fetch-only succeeds although sources fail and an optional group is missing" [ $? = 0 ]
has "an unreachable source is left for the next" "$T/err" \
	"aprs-fetch-test (amd64) from stable@http://127.0.0.1:1/r1: its index could not be fetched"
has "an index naming a file the archive does not serve (404) is left for the next" "$T/err" \
	"aprs-fetch-test (amd64) from stable@http://127.0.0.1:$PORT/r2: the download failed"
has "the 404 is named" "$T/err" "404"
has "the source taken is named, with the version" "$T/err" \
	"toolchain: aprs-fetch-test (amd64) 1.0 from stable@http://127.0.0.1:$PORT/r3"
expect "the package is unpacked into its group" \
	[ "$(cat "$C/g-deb/usr/share/aprs-fetch-test/version" 2>/dev/null)" = 1.0 ]
expect "nothing from the failed sources is left" [ ! -e "$C/g-deb.new" ]
has "the newest version is not served: the older one the index names is tried" "$T/err" \
	"aprs-old (amd64) 2.0 from stable@http://127.0.0.1:$PORT/r5: the download failed (Failed to fetch http://127.0.0.1:$PORT/r5/pool/aprs-old_2.0_all.deb 404"
has "...and taken" "$T/err" "toolchain: aprs-old (amd64) 1.0 from stable@http://127.0.0.1:$PORT/r5"
has "closure: the first source fails, the next is taken" "$T/err" \
	"aprs-hello (amd64) 1.0 from closure:stable@http://127.0.0.1:$PORT/r3"
expect "closure: the program is a wrapper" [ "$(head -c 9 "$C/g-closure/usr/bin/aprs-hello" 2>/dev/null)" = '#!/bin/sh' ]
expect "closure: the wrapper runs the program on the closure's loader and library" \
	[ "$("$C/g-closure/usr/bin/aprs-hello" 2>&1)" = "hello from the closure" ]
expect "closure: the program alone does not find its library" \
	[ "$(env -u LD_LIBRARY_PATH "$C/g-closure/usr/bin/.aprs-hello.real" 2>/dev/null)" != "hello from the closure" ]
has "source: a source without the package is left for the next" "$T/err" \
	"aprs-src (amd64) from source:stable@http://127.0.0.1:$PORT/r2: "
expect "source: the source package is unpacked by dpkg-source" \
	[ "$(cat "$C/g-source/src/aprs-src/hello.txt" 2>/dev/null)" = "from the source package" ]
has "an optional group that cannot be met is reported, the set-up goes on" "$T/err" "g-opt (optional) is missing"
has "its .missing file says what and why" "$C/g-opt.missing" \
	"aprs-dep-user needs aprs-fetch-test (>= 2.0), the group got 1.0"
expect "a group is all or nothing: no g-opt directory" absent "$C/g-opt" "$C/g-opt.new"
"$TC" --versions >"$T/versions"
has "--versions: the package, its version and source" "$T/versions" \
	"g-deb aprs-fetch-test amd64 1.0 stable@http://127.0.0.1:$PORT/r3"
has "--versions: the missing group and why" "$T/versions" "g-opt missing: aprs-dep-user needs"
has "the set-up log lists the fetched versions" "$T/err" "toolchain:   g-closure aprs-hello amd64 1.0"

# The archive moves on: r4's index (fetched above, naming aprs-moving 1.0) is old.
repo r4 "$T/debs/aprs-moving_2.0_all.deb"
echo "g-moving  required aprs-moving     amd64 stable@$U/r4" >>"$T/plan"
"$TC" --fetch-only >"$T/out" 2>"$T/err"
expect "an old index: the set-up succeeds" [ $? = 0 ]
has "an old index is refreshed once, after the 404 of the file it names" "$T/err" \
	"refreshing the index of stable@http://127.0.0.1:$PORT/r4 (amd64) and trying again: the download failed (Failed to fetch http://127.0.0.1:$PORT/r4/pool/aprs-moving_1.0_all.deb 404"
has "an old index: the new version is taken" "$T/err" "aprs-moving (amd64) 2.0 from stable@http://127.0.0.1:$PORT/r4"
hasnt "groups already fetched are not fetched again" "$T/err" "aprs-hello (amd64) 1.0"

# ---- A required package no source has: every caller stops with the message ----------
cat >"$T/plan-bad" <<EOF
g-req     required aprs-nothing    amd64 $DOWN stable@$U/r3
EOF
export AP_RS_CACHE=$T/cache-bad AP_RS_FETCH_PLAN=$T/plan-bad
for who in "scripts/toolchain.sh" "scripts/kernel.sh x86_64" "scripts/modules.sh x86_64" \
	"tests/vm/run.sh --arch x86_64" "scripts/run.sh"; do
	# shellcheck disable=SC2086 # the command and its arguments
	(cd "$TOP" && ARCH=x86_64 $who) >"$T/out" 2>"$T/err"
	expect "$who fails when a required package cannot be fetched" [ $? != 0 ]
	has "$who: the set-up's own message names the package and every source tried" "$T/err" \
		"toolchain: g-req: aprs-nothing (amd64) could not be fetched from any of its sources (stable@http://127.0.0.1:1/r1: its index could not be fetched"
	has "$who: ...with the reason of each (not in the index)" "$T/err" \
		"stable@http://127.0.0.1:$PORT/r3: not in its index"
	hasnt "$who: it stops there (no unbound variable)" "$T/err" "unbound variable"
	hasnt "$who: it stops there (nothing is built)" "$T/err" "building test kernel"
	expect "$who: prints nothing on stdout" [ ! -s "$T/out" ]
done
export AP_RS_CACHE=$C AP_RS_FETCH_PLAN=$T/plan

# Everything fetched: no archive is needed any more.
kill "$SRV"; wait "$SRV" 2>/dev/null; SRV=
sed -i '/^g-opt/d' "$T/plan"
"$TC" --fetch-only >"$T/out" 2>"$T/err"
expect "a second set-up works from the cache alone (the archives are gone)" [ $? = 0 ]
expect "...and keeps every group" present "$C/g-deb/usr/share/aprs-fetch-test/version" \
	"$C/g-closure/usr/bin/aprs-hello" "$C/g-source/src/aprs-src/hello.txt" "$C/g-moving/.ap-rs-fetched"

# ---- A second set-up waits for the first ------------------------------------------
( flock "$C/.setup.lock" sh -c "sleep 2; touch '$T/released'" ) &
holder=$!
for _ in $(seq 50); do flock -n "$C/.setup.lock" true || break; sleep 0.05; done
"$TC" --fetch-only >"$T/out" 2>"$T/err"
expect "a set-up beside another one succeeds" [ $? = 0 ]
has "it says it waits for the other one's lock" "$T/err" "waiting for $C/.setup.lock"
expect "it went on only after the other one had finished" [ -f "$T/released" ]
wait "$holder"

echo "setup: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
