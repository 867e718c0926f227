#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t0030-fdio-grow.sh - runs the unit tests of grow_one() (shared/grow.h) and
# fdio_pwrite_all() (shared/fdio.c): first capacity, doubling, overflows
# refused; whole writes, a short write continued, errors as -errno.
test_description='growing arrays and whole writes (shared/)'
. "$(dirname "$0")/test-lib.sh"

if [ ! -x "$UNIT_DIR/test-fdio-grow" ]; then
	echo "Bail out! $UNIT_DIR/test-fdio-grow is not built (run make)"
	exit 1
fi
# Not exec: the exit trap of test-lib.sh removes the scratch directory.
"$UNIT_DIR/test-fdio-grow"
