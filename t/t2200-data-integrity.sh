#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2200: writes of every shape (sequential, random-offset, unaligned,
# sparse, append, cross-extent, in-place overwrite) on ext2, ext3, ext4
# (flex_bg, 64bit, metadata_csum) with 1 KiB and 4 KiB blocks.  Each file is
# also written to a model directory; the mount must match the model when
# read past the page cache, after a remount, and in debugfs's dump of the
# unmounted image, and e2fsck -fn must stay clean.
test_description='data integrity of writes through the mount'
. "$(dirname "$0")/test-lib.sh"
. "$SRC_DIR/t/lib-data.sh"

# The workload: the same operations on $MNT and model/.
workload() {
	mkdir -p model &&
	# sequential: 3 MiB in 128 KiB writes, and a copy by cp
	dw seq 0 3M 1 128K &&
	head -c 1500000 /dev/urandom >model/cp &&
	cp model/cp "$MNT/cp" &&
	# random offsets and lengths over 4 MiB, overlapping
	local i off len
	for i in $(seq 1 40); do
		off=$(( (i * 7919 * 131) % (4 << 20) ))
		len=$(( (i * 104729) % 70000 + 1 ))
		dw rand "$off" "$len" "$((100 + i))" || return 1
	done &&
	# unaligned: odd offsets and sizes around block boundaries
	dw unal 1 3 2 && dw unal 1023 2 3 && dw unal 4095 4098 4 &&
	dw unal 12345 10000 5 && dw unal 8191 1 6 && dw unal 70001 4096 7 &&
	# sparse: islands far apart (indirect and double indirect blocks on
	# block-mapped files), then a hole at the end by truncate
	dw sparse 0 100 8 && dw sparse $(( (1 << 20) + 7 )) 5000 9 &&
	dw sparse $((9 << 20)) 1 10 && dw sparse $((300 << 10)) 4096 11 &&
	both truncate -s 12M sparse &&
	# append: growing by odd amounts
	for i in $(seq 1 25); do
		off=$(stat -c %s model/app 2>/dev/null || echo 0)
		dw app "$off" $(( i * 997 )) "$((200 + i))" || return 1
	done &&
	# cross-extent: two extents far apart on the device, then writes
	# across their boundary, across a hole and past EOF
	dw cross 0 16K 12 && dw spacer 0 1M 13 && dw cross 16K 16K 14 &&
	dw cross 8K 16K 15 &&
	dw cross 64K 8K 16 && dw cross 20K 60K 17 &&
	# in-place overwrite of the sequential file (the lock-free path)
	dw seq 4096 8192 18 && dw seq 100000 1 19 && dw seq 1M 1M 20 128K &&
	# O_DIRECT writes, aligned and not, into a new file and over one
	head -c 300000 /dev/urandom >model/direct &&
	dd if=model/direct of="$MNT/direct" bs=64K oflag=direct status=none &&
	head -c 5000 /dev/urandom >odd &&
	dd if=odd of=model/direct bs=5000 seek=7 conv=notrunc status=none &&
	dd if=odd of="$MNT/direct" bs=5000 seek=7 conv=notrunc oflag=direct status=none &&
	# shared writable mappings: written back by the kernel in pages,
	# over mapped blocks, a hole and the partial last page
	dw mm 0 20000 23 && both truncate -s 300000 mm &&
	for f in "$MNT/mm" model/mm; do
		"$DATAIO" mmapwrite "$f" 5000 3000 24 &&
		"$DATAIO" mmapwrite "$f" 100000 20000 25 &&
		"$DATAIO" mmapwrite "$f" 290000 10000 26 || return 1
	done
}

DEVS="ext4-4k:-t ext4 -O 64bit,metadata_csum,flex_bg
ext4-1k:-t ext4 -b 1024 -O 64bit,metadata_csum,flex_bg
ext2-4k:-t ext2 -b 4096
ext3-1k:-t ext3 -b 1024"

while IFS=: read -r kind opts; do
	IMG=$TRASH/$kind.img
	MNT=$TRASH/mnt-$kind
	export IMG MNT kind opts
	test_expect_success FUSE,E2FSPROGS,DATAIO "$kind: write the workload" '
		rm -rf model &&
		make_dirty_image "$IMG" 64M $opts &&
		iomapfs_mount "$IMG" "$MNT" &&
		workload &&
		model_cmp_all
	'
	test_expect_success FUSE,E2FSPROGS,DATAIO "$kind: unmount; e2fsck clean; debugfs dump matches" '
		iomapfs_unmount "$MNT" &&
		fsck_clean "$IMG" &&
		dump_cmp_all "$IMG"
	'
	test_expect_success FUSE,E2FSPROGS,DATAIO "$kind: same data after a remount" '
		iomapfs_mount "$IMG" "$MNT" &&
		model_cmp_all &&
		test_eq "$(stat -c %s model/sparse)" "$(stat -c %s "$MNT/sparse")" "size of sparse" &&
		iomapfs_unmount "$MNT" &&
		fsck_clean "$IMG"
	'
	test_expect_success FUSE,E2FSPROGS,DATAIO "$kind: sparse file keeps its holes" '
		blocks=$(debugfs -R "stat /sparse" "$IMG" 2>/dev/null |
			 sed -n "s/.*Blockcount: \([0-9]*\).*/\1/p") &&
		test -n "$blocks" &&
		test "$blocks" -lt 400 || {
			echo "sparse file holds $blocks sectors; holes were filled"
			false
		}
	'
	case $kind in
	ext4-*)
		test_expect_success FUSE,E2FSPROGS,DATAIO "$kind: appending writes grow one extent" '
			n=$(debugfs -R "ex /seq" "$IMG" 2>/dev/null | tail -n +2 | wc -l) &&
			test "$n" -ge 1 && test "$n" -le 2 || {
				echo "/seq, written in 24 appending writes, has $n extents:"
				debugfs -R "ex /seq" "$IMG" 2>/dev/null
				false
			}
		'
		;;
	esac
done <<<"$DEVS"

test_done
