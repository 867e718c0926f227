#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t3000-cache.sh - runs the iomap cache's unit tests (t/unit/test-cache)
# against a fake mapping source: hits and misses, the cookie race,
# invalidation by reason, forget and flush, the run-time switch, limits and
# LRU/CLOCK eviction, dump, audit, watchers, and a threaded stress test of
# lookups against invalidations.  The program's TAP is this script's.
test_description='iomap cache unit tests'
. "$(dirname "$0")/test-lib.sh"

if [ ! -x "$UNIT_DIR/test-cache" ]; then
	echo "Bail out! $UNIT_DIR/test-cache is not built (run make)"
	exit 1
fi
# Not exec: the EXIT trap of test-lib.sh removes the scratch directory.
"$UNIT_DIR/test-cache"
