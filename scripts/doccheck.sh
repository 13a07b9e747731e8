#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# doccheck.sh: every Documentation/*.rst parses as reStructuredText without a
# warning (docutils, Debian's python3-docutils), starts with its SPDX line, and
# every file it names under Documentation/ exists; the unsafe census in
# design.rst is the one scripts/unsafe_census.sh counts in the code.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
bad=0
for f in "$TOP"/Documentation/*.rst; do
	n=${f#"$TOP"/}
	head -1 "$f" | grep -qx '.. SPDX-License-Identifier: GPL-2.0' || { echo "$n: no SPDX line"; bad=1; }
	out=$(/usr/bin/python3 - "$f" 2>&1 <<'PY'
import sys, docutils.core
src = open(sys.argv[1]).read()
docutils.core.publish_string(src, source_path=sys.argv[1], writer_name='null',
                             settings_overrides={'report_level': 2, 'halt_level': 5})
PY
)
	[ -z "$out" ] || { echo "$out"; bad=1; }
	for r in $(grep -o '``[a-z0-9_-]*\.rst``' "$f" | tr -d '`' | sort -u); do
		[ -f "$TOP/Documentation/$r" ] || { echo "$n: names $r, which does not exist"; bad=1; }
	done
done
census=$(sed -n '/^\.\. unsafe-census-begin$/,/^\.\. unsafe-census-end$/p' "$TOP/Documentation/design.rst" |
	grep -v '^\.\. unsafe-census' | sed '/^$/d')
if [ "$census" != "$("$TOP/scripts/unsafe_census.sh")" ]; then
	echo "Documentation/design.rst: the unsafe census differs from the code (scripts/unsafe_census.sh):"
	diff <(echo "$census") <("$TOP/scripts/unsafe_census.sh") | sed 's/^/  /'
	bad=1
fi
exit $bad
