#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t0400: the daemon's extent work (daemon/extent.c) against a model.
# t/unit/test-extent runs a seeded random sequence of unwritten allocation,
# writes (allocation, then conversion of the unwritten blocks) and punches
# on a few interleaved files of a real image, and compares every extent
# tree with its model after every step (see the program); e2fsck then
# checks the image.  A failure prints the seed and the step: replay it with
# "test-extent -s SEED -n STEPS [-f FILES -b BLOCKS] IMG".  The suite runs
# a few short seeds; IOMAPFS_STRESS_LONG=1 ("make stress") runs 20 long
# ones on bigger files.
test_description='extent allocation and conversion against a model'
. "$(dirname "$0")/test-lib.sh"

TEST_EXTENT=$UNIT_DIR/test-extent
[ -x "$TEST_EXTENT" ] && test_set_prereq TEST_EXTENT

if [ -n "${IOMAPFS_STRESS_LONG:-}" ]; then
	SEEDS=$(seq 1 20) STEPS=20000 FILES=4 BLOCKS=8192
else
	SEEDS="1 2 3 4" STEPS=2000 FILES=3 BLOCKS=2048
fi

for seed in $SEEDS; do
	test_expect_success E2FSPROGS,TEST_EXTENT "seed $seed: $STEPS steps on $FILES files; e2fsck clean" '
		make_image ext.img 128M -t ext4 -b 4096 &&
		"$TEST_EXTENT" -s '"$seed"' -n $STEPS -f $FILES -b $BLOCKS ext.img &&
		fsck_clean ext.img
	'
done

test_expect_success E2FSPROGS,TEST_EXTENT '1 KiB blocks, block-group boundaries close together' '
	make_image ext1k.img 32M -t ext4 -b 1024 &&
	"$TEST_EXTENT" -s 99 -n $STEPS -f $FILES -b $BLOCKS ext1k.img &&
	fsck_clean ext1k.img
'

test_done
