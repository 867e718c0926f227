#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2081-file-flags-unit.sh - runs the unit tests of the daemon's inode
# flag rules (t/unit/test-iflags): the capability checks of
# FS_IOC_SETFLAGS and FS_IOC_FSSETXATTR that the kernel makes before a
# mount's daemon is asked (so t2080 cannot see the daemon's own), and the
# checks immutable and append-only put on the other operations.
test_description='inode flag rules, without the kernel in front'
. "$(dirname "$0")/test-lib.sh"

if [ ! -x "$UNIT_DIR/test-iflags" ]; then
	echo "Bail out! $UNIT_DIR/test-iflags is not built (run make)"
	exit 1
fi
exec "$UNIT_DIR/test-iflags"
