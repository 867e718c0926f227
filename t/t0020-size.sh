#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t0020-size.sh - runs the unit tests of the SIZE grammar (t/unit/test-size):
# decimal, hex and units up to E, the 64-bit limit, and every kind of bad
# text (empty, negative, not a number, unknown unit, junk after the unit,
# too large) with its errno and reason.
test_description='the SIZE parser both programs share'
. "$(dirname "$0")/test-lib.sh"

if [ ! -x "$UNIT_DIR/test-size" ]; then
	echo "Bail out! $UNIT_DIR/test-size is not built (run make)"
	exit 1
fi
# Not exec: the exit trap of test-lib.sh removes the scratch directory.
"$UNIT_DIR/test-size"
