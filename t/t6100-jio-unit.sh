#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t6100-jio-unit.sh - runs t/unit/test-jio: the journal's stacked
# io_manager (daemon/jio.c) with libext2fs on 4 KiB- and 1 KiB-block ext4
# images the unit test makes itself: pass-through without hooks, reads
# and writes through the hooks (the superblock at open and at flush,
# partial blocks, negative counts, runs), options, errors and raw I/O.
# Its TAP is this script's.

if [ -n "${IOMAPFS_BUILD_DIR:-}" ]; then
	unit=$IOMAPFS_BUILD_DIR/t/unit/test-jio
else
	unit=$(cd "$(dirname "$0")/.." && pwd)/t/unit/test-jio
fi
if [ ! -x "$unit" ]; then
	echo "1..0 # SKIP $unit is not built"
	exit 0
fi
PATH=/usr/sbin:/sbin:$PATH exec "$unit"
