#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6010-jbd2-unit.sh - runs the unit tests of the JBD2 format helpers and
# of the journal reader (t/unit/test-jbd2): checksums and tags of blocks
# the kernel and debugfs wrote, and every branch of the recovery passes on
# journals written in memory.
test_description='the JBD2 format and the journal reader'
. "$(dirname "$0")/test-lib.sh"

if [ ! -x "$UNIT_DIR/test-jbd2" ]; then
	echo "Bail out! $UNIT_DIR/test-jbd2 is not built (run make)"
	exit 1
fi
exec "$UNIT_DIR/test-jbd2"
