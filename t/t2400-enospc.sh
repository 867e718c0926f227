#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2400: out of space.  Filling the filesystem ends in ENOSPC (after a
# short write, as ext4 does), never in EIO or corruption; what was written
# reads back; fallocate on a full filesystem fails with ENOSPC; after
# deleting, writing works again.  On ext4 (unwritten extents) and ext2
# (block-mapped: blocks linked only after their data is written).  ENOSPC
# from write(2), every byte before it kept, is what -o nowriteback_cache
# promises (with the write-back cache it comes at write-back: t2265).
test_description='ENOSPC: fill, fail cleanly, delete, write again'
. "$(dirname "$0")/test-lib.sh"
. "$SRC_DIR/t/lib-data.sh"

for kind in ext4 ext2; do
	IMG=$TRASH/$kind.img
	MNT=$TRASH/mnt-$kind
	export IMG MNT kind

	test_expect_success FUSE,E2FSPROGS,DATAIO "$kind: fill the filesystem until ENOSPC" '
		make_dirty_image "$IMG" 16M -t $kind -b 1024 &&
		iomapfs_mount "$IMG" "$MNT" -o nowriteback_cache &&
		"$DATAIO" write "$MNT/keep" 0 100K 1 &&
		"$DATAIO" fill "$MNT/big" 2 24K >fill.out &&
		read -r filled why <fill.out &&
		test_eq ENOSPC "$why" "the fill stopped with" &&
		echo "$filled" >filled-$kind &&
		test "$filled" -gt $((10 << 20)) &&
		test "$(stat -c %s "$MNT/big")" -eq "$filled"
	'

	test_expect_success FUSE,E2FSPROGS,DATAIO "$kind: full: more writes fail with ENOSPC, data intact" '
		test_must_fail "$DATAIO" write "$MNT/more" 0 64K 3 2>err &&
		test_grep "No space left" err &&
		test_must_fail "$DATAIO" write "$MNT/big" "$(cat filled-$kind)" 64K 3 2>err &&
		test_grep "No space left" err &&
		if [ $kind = ext4 ]; then
			test_must_fail fallocate -l 1M "$MNT/prealloc" 2>err &&
			test_grep "No space left" err
		fi &&
		"$DATAIO" check "$MNT/big" 0 "$(cat filled-$kind)" 2 -n &&
		"$DATAIO" check "$MNT/keep" 0 100K 1 -n
	'

	test_expect_success FUSE,E2FSPROGS,DATAIO "$kind: e2fsck clean when full" '
		iomapfs_unmount "$MNT" &&
		fsck_clean "$IMG"
	'

	test_expect_success FUSE,E2FSPROGS,DATAIO "$kind: delete, then write again" '
		iomapfs_mount "$IMG" "$MNT" -o nowriteback_cache &&
		"$DATAIO" check "$MNT/big" 0 "$(cat filled-$kind)" 2 -n &&
		rm -f "$MNT/big" "$MNT/more" "$MNT/prealloc" &&
		"$DATAIO" write "$MNT/again" 0 8M 4 &&
		"$DATAIO" check "$MNT/again" 0 8M 4 -n &&
		"$DATAIO" fill "$MNT/big2" 5 64K >fill2.out &&
		read -r filled2 why <fill2.out &&
		test_eq ENOSPC "$why" "the second fill stopped with" &&
		"$DATAIO" check "$MNT/big2" 0 "$filled2" 5 -n &&
		rm -f "$MNT/big2" &&
		"$DATAIO" check "$MNT/keep" 0 100K 1 -n &&
		iomapfs_unmount "$MNT" &&
		fsck_clean "$IMG"
	'
done

test_done
