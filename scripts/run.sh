#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make run: installs what is missing, builds the test kernel and the modules,
# boots the VM on the default simulated machine and walks through the AP bus
# (tests/vm/demo/ap-bus.sh), then through vfio_ap with a guest
# (tests/vm/demo/vfio-ap.sh).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
A=${ARCH:-x86_64}
echo "make run: preparing the $A test kernel and modules (cached after the first run)..." >&2
DEMO=$(mktemp)
trap 'rm -f "$DEMO"' EXIT
cat "$TOP/tests/vm/demo/ap-bus.sh" "$TOP/tests/vm/demo/vfio-ap.sh" >"$DEMO"
"$TOP/tests/vm/run.sh" --arch "$A" --demo "$DEMO"
