#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t0203-ext2map-unit.sh - runs t/unit/test-ext2map (the mapping source's
# lookup API, its errors and the errno table) on an image made here:
# 4 KiB-block ext4 with /data (3 blocks), /sparse (2-block hole, 1 block of
# data, EOF at 5 blocks) and /fifo.  The unit test's TAP is shown when it
# fails.

test_description='ext2 mapping source: lookup API unit tests'
. "$(dirname "$0")/test-lib.sh"

UNIT=$UNIT_DIR/test-ext2map
[ -x "$UNIT" ] || skip_all "$UNIT is not built"
test_have_prereq E2FSPROGS || skip_all "mke2fs is needed"

test_expect_success 'make the image' '
	mkdir tree &&
	head -c 12288 /dev/urandom >tree/data &&
	dd if=/dev/urandom of=tree/sparse bs=4096 seek=2 count=1 2>/dev/null &&
	truncate -s 20480 tree/sparse &&
	mkfifo tree/fifo &&
	make_image unit.img 8M -t ext4 -b 4096 -d tree
'

test_expect_success 'test-ext2map passes' '
	"$UNIT" unit.img >unit.tap 2>&1 || { cat unit.tap; false; } &&
	! grep "^not ok" unit.tap &&
	test_grep "^1\.\.[0-9]" unit.tap
'

test_done
