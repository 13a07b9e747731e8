#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The unsafe census of the kernel code: per Rust file under drivers/ and
# tests/kmod/ that has any, the unsafe blocks, unsafe functions (and methods),
# unsafe trait impls and functions with a C ABI that C calls (unsafe extern "C"
# fn), as the rst table Documentation/design.rst carries (scripts/doccheck.sh
# checks that the two agree).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=()
for f in $(git ls-files -co --exclude-standard 'drivers/*.rs' 'tests/kmod/*.rs' | sort); do
	b=$(grep -cE 'unsafe[[:space:]]*\{' "$f" || true)
	u=$(grep -cE 'unsafe fn ' "$f" || true)
	i=$(grep -cE 'unsafe impl' "$f" || true)
	e=$(grep -cE 'unsafe extern "C" fn' "$f" || true)
	[ $((b + u + i + e)) -gt 0 ] && rows+=("$(printf '%-50s %6s %6s %6s %6s' "$f" "$b" "$u" "$i" "$e")")
done
line=$(printf '%-50s %6s %6s %6s %6s' "$(printf '=%.0s' {1..50})" ====== ====== ====== ======)
echo "$line"
printf '%-50s %6s %6s %6s %6s\n' file blocks fns impls C-ABI
echo "$line"
printf '%s\n' "${rows[@]}"
echo "$line"
