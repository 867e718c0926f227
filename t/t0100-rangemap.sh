#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t0100-rangemap.sh - runs the range map's unit tests (t/unit/test-rangemap):
# named trim, split, merge, edge and eviction cases, then the seeded
# differential test against a byte-granular model.  IMAP_TEST_SEED and
# IMAP_TEST_OPS pass through to it.
test_description='range map unit and differential tests'
. "$(dirname "$0")/test-lib.sh"

if [ ! -x "$UNIT_DIR/test-rangemap" ]; then
	echo "Bail out! $UNIT_DIR/test-rangemap is not built (run make)"
	exit 1
fi
# Not exec: the exit trap of test-lib.sh removes the scratch directory.
"$UNIT_DIR/test-rangemap"
