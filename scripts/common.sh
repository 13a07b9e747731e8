# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the set-up and build scripts (toolchain.sh, kernel.sh, modules.sh,
# check.sh, tests/vm/run.sh): the lock on a cache entry and taking the set-up's
# environment so that a failure stops the caller at once.

AP_RS_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# cache_lock FILE WHO: an exclusive lock on FILE (flock) for the rest of this
# shell's life. The descriptor stays open in the shell and in everything it
# starts, so a build the shell started holds the lock until it ends. A second
# caller waits for it and says what it waits for.
cache_lock() {
	local f=$1 who=$2 fd
	exec {fd}>>"$f"
	if ! flock -n "$fd"; then
		echo "$who: waiting for $f: another run is using this cache entry" >&2
		flock "$fd"
		echo "$who: $f is free, going on" >&2
	fi
}

# toolchain_env: runs scripts/toolchain.sh and takes the assignments it prints.
# If it fails, the caller stops here with the set-up's status; the set-up's own
# message is already on stderr.
toolchain_env() {
	local env rc
	env=$("$AP_RS_SCRIPTS/toolchain.sh") || {
		rc=$?
		echo "${0##*/}: stopped: the set-up (scripts/toolchain.sh) failed, see above" >&2
		exit "$rc"
	}
	eval "$env"
}
