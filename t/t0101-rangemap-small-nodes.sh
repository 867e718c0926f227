#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t0101-rangemap-small-nodes.sh - the range map's unit and differential
# tests again, against a range map compiled with 4-entry leaves and 4-way
# inner nodes (t/unit/test-rangemap-small), so that a few hundred mappings
# already make a deep tree and every split, borrow and merge path runs.
# This build can also make allocations fail: it adds the -ENOMEM cases
# and a differential run with failing allocations.
test_description='range map tests with tiny B+tree nodes'
. "$(dirname "$0")/test-lib.sh"

if [ ! -x "$UNIT_DIR/test-rangemap-small" ]; then
	echo "Bail out! $UNIT_DIR/test-rangemap-small is not built (run make)"
	exit 1
fi
# Not exec: the exit trap of test-lib.sh removes the scratch directory.
"$UNIT_DIR/test-rangemap-small"
