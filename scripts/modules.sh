#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# modules.sh <x86_64|s390> [CLIPPY=1]: builds the project's modules against the
# cached test kernel into build/<arch>/ and prints that directory. Warnings
# are errors (C: -Werror, Rust: -Dwarnings with the kernel's own lint set).
# The build holds build/<arch>/.lock: two runs in one checkout take turns.
set -euo pipefail
A=${1:?usage: modules.sh x86_64|s390}
shift
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
. "$HERE/common.sh"
KB=$("$HERE/kernel.sh" "$A") || { rc=$?; echo "modules.sh($A): stopped: the test kernel (scripts/kernel.sh) failed, see above" >&2; exit $rc; }
OUT=$TOP/build/$A
mkdir -p "$OUT"
cache_lock "$OUT/.lock" "modules.sh($A)"
LOG=$OUT/modules.log
if ! "$KB/kmake" -s M="$TOP" MO="$OUT" KCFLAGS=-Werror KRUSTFLAGS=-Dwarnings \
	CLIPPY_DRIVER=/usr/bin/clippy-driver -j"$(nproc)" "$@" modules >"$LOG" 2>&1; then
	cat "$LOG" >&2
	echo "modules.sh($A): module build failed" >&2
	exit 1
fi
# The s390 kernel itself passes -Ctarget-feature=+backchain, which rustc reports on
# every crate it compiles (a note, not a lint: -Dwarnings leaves it alone). That
# one line is not ours; any other warning fails the build.
if grep -i "warning" "$LOG" | grep -v 'unstable feature specified for `-Ctarget-feature`: `backchain`' \
	| grep -qvE '^warning: [0-9]+ warnings? emitted$'; then
	cat "$LOG" >&2
	echo "modules.sh($A): warnings in the module build" >&2
	exit 1
fi
echo "$OUT"
