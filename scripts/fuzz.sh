#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make fuzz: builds the libFuzzer targets of fuzz/ (every parser of the model crates) with the
# sanitizer-coverage passes of the stable toolchain and runs each for FUZZ_SECONDS (default 60),
# printing its executions. A crash stops the run and leaves the input in build/fuzz/<target>/;
# fix it and keep the input as a test of the model crate.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
export PATH=$HOME/.cargo/bin:$PATH
SECS=${FUZZ_SECONDS:-60}
TARGET=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
# --target keeps the flags off the build scripts.
cargo build --quiet --release --manifest-path "$TOP/fuzz/Cargo.toml" --target "$TARGET" \
	--target-dir "$TOP/build/fuzz/target"
BIN=$TOP/build/fuzz/target/$TARGET/release
total=0 crashes=0
for t in mask kstrtoul ap_config uuid sim_control view_line; do
	dir=$TOP/build/fuzz/$t
	mkdir -p "$dir/corpus"
	log=$dir/log
	if (cd "$dir" && "$BIN/$t" -max_total_time="$SECS" -print_final_stats=1 corpus >"$log" 2>&1); then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "fuzz $t: $execs executions in ${SECS}s, 0 crashes"
		total=$((total + execs))
	else
		crashes=$((crashes + 1))
		echo "fuzz $t: CRASH, input in $dir (see $log)"
		grep -E 'panicked|ERROR|Test unit written' "$log" | head -5 | sed 's/^/    /'
	fi
done
echo "fuzz: $total executions, $crashes crashes"
[ "$crashes" = 0 ]
