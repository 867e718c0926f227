#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t0203-ext2map-unit.sh - runs t/unit/test-ext2map: the mapping source's
# lookup API, its errors and the errno table, on a 4 KiB-block ext4 image
# the unit test makes itself with mke2fs -d.  Its TAP is this script's.

if [ -n "${IOMAPFS_BUILD_DIR:-}" ]; then
	unit=$IOMAPFS_BUILD_DIR/t/unit/test-ext2map
else
	unit=$(cd "$(dirname "$0")/.." && pwd)/t/unit/test-ext2map
fi
if [ ! -x "$unit" ]; then
	echo "1..0 # SKIP $unit is not built"
	exit 0
fi
PATH=/usr/sbin:/sbin:$PATH exec "$unit"
