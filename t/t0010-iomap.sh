#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t0010-iomap.sh - runs the unit tests of the iomap types (t/unit/test-iomap):
# type and flag names and parsers, the flags formatter, iomap_validate().
test_description='iomap types, names and validation'
. "$(dirname "$0")/test-lib.sh"

if [ ! -x "$UNIT_DIR/test-iomap" ]; then
	echo "Bail out! $UNIT_DIR/test-iomap is not built (run make)"
	exit 1
fi
# Not exec: the exit trap of test-lib.sh removes the scratch directory.
"$UNIT_DIR/test-iomap"
