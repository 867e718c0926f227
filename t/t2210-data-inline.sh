#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2210: inline_data files: small writes stay in the inode, writes that no
# longer fit move the data to blocks, truncate down and up reads zeroes,
# fallocate moves inline data to blocks first (as ext4 does).  Checked
# through the mount, after a remount, with debugfs, and with e2fsck.
test_description='writes to inline_data files'
. "$(dirname "$0")/test-lib.sh"
. "$SRC_DIR/t/lib-data.sh"

IMG=$TRASH/inline.img
MNT=$TRASH/mnt
export IMG MNT

# is_inline PATH: debugfs says the file keeps its data in the inode.
is_inline() {
	debugfs -R "stat $1" "$IMG" 2>/dev/null | grep -q "Size of inline data"
}

test_expect_success FUSE,E2FSPROGS,DATAIO 'an inline_data image with small files' '
	mkdir -p src model &&
	"$DATAIO" write src/small 0 40 1 &&
	"$DATAIO" write src/grow 0 30 2 &&
	"$DATAIO" write src/trunc 0 50 3 &&
	"$DATAIO" write src/falloc 0 20 4 &&
	"$DATAIO" write src/far 0 10 5 &&
	cp src/* model/ &&
	make_image "$IMG" 32M -t ext4 -I 256 -O inline_data -d src &&
	for f in small grow trunc falloc far; do
		is_inline /$f || { echo "/$f is not inline"; return 1; }
	done
'

test_expect_success FUSE,E2FSPROGS,DATAIO 'mount; inline files read back' '
	iomapfs_mount "$IMG" "$MNT" &&
	model_cmp_all
'

test_expect_success FUSE,E2FSPROGS,DATAIO 'a small write stays inline' '
	dw small 40 20 6 && dw small 3 7 7 &&
	model_cmp_all
'

test_expect_success FUSE,E2FSPROGS,DATAIO 'writes past the inline room move the data to blocks' '
	dw grow 30 70 8 &&
	dw grow 100 9000 9 &&
	dw far 20000 10 10 &&
	model_cmp_all
'

test_expect_success FUSE,E2FSPROGS,DATAIO 'truncate of inline data: down, then up reads zeroes' '
	both truncate -s 10 trunc &&
	both truncate -s 50 trunc &&
	model_cmp_all &&
	"$DATAIO" zero "$MNT/trunc" 10 40 -n
'

test_expect_success FUSE,E2FSPROGS,DATAIO,FALLOCATE 'fallocate moves inline data to blocks first' '
	fallocate -o 0 -l 64K "$MNT/falloc" &&
	truncate -s 64K model/falloc &&
	model_cmp_all &&
	dw falloc 4000 200 11 &&
	model_cmp_all
'

test_expect_success FUSE,E2FSPROGS,DATAIO 'new small files through the mount' '
	dw new1 0 30 12 && dw new2 0 3000 13 && dw new2 0 10 14 &&
	model_cmp_all
'

test_expect_success FUSE,E2FSPROGS,DATAIO 'unmount; e2fsck clean; debugfs agrees' '
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG" &&
	dump_cmp_all "$IMG" &&
	is_inline /small &&
	! is_inline /grow &&
	! is_inline /far &&
	! is_inline /falloc
'

test_expect_success FUSE,E2FSPROGS,DATAIO 'same data after a remount' '
	iomapfs_mount "$IMG" "$MNT" &&
	model_cmp_all &&
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG"
'

test_done
