#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2220: fallocate(1) modes (default, -k keep size, -p punch hole,
# -z zero range, -c collapse and -i insert range, which are not supported)
# with data checks, and SEEK_DATA / SEEK_HOLE (unwritten extents count as
# holes, as in ext4), on ext4 with 4 KiB and 1 KiB blocks; and on a
# block-mapped ext2 file, where only punching is supported (as in ext4),
# also across the indirect levels.
test_description='fallocate modes and SEEK_DATA/SEEK_HOLE'
. "$(dirname "$0")/test-lib.sh"
. "$SRC_DIR/t/lib-data.sh"

# ex PATH: the extents of PATH as debugfs prints them.
ex() {
	debugfs -R "ex $1" "$IMG" 2>/dev/null
}

for bs in 4096 1024; do
	IMG=$TRASH/ext4-$bs.img
	MNT=$TRASH/mnt-$bs
	export IMG MNT bs

	test_expect_success FUSE,E2FSPROGS,DATAIO,FALLOCATE "$bs: mount an ext4 image" '
		rm -rf model && mkdir model &&
		make_dirty_image "$IMG" 64M -t ext4 -b $bs &&
		iomapfs_mount "$IMG" "$MNT"
	'

	test_expect_success FUSE,E2FSPROGS,DATAIO,FALLOCATE "$bs: KEEP_SIZE allocates past EOF, size unchanged" '
		dw f 0 64K 1 &&
		fallocate -n -o 1M -l 256K "$MNT/f" &&
		test_eq 65536 "$(stat -c %s "$MNT/f")" size &&
		test "$(stat -c %b "$MNT/f")" -ge 640 &&
		model_cmp_all
	'

	test_expect_success FUSE,E2FSPROGS,DATAIO,FALLOCATE "$bs: default mode extends the size with zeroes" '
		fallocate -o 64K -l 64K "$MNT/f" &&
		truncate -s 128K model/f &&
		test_eq 131072 "$(stat -c %s "$MNT/f")" size &&
		model_cmp_all &&
		"$DATAIO" zero "$MNT/f" 64K 64K -n
	'

	test_expect_success FUSE,E2FSPROGS,DATAIO,FALLOCATE "$bs: a write into unwritten blocks zeroes the rest of the block" '
		dw f $((80 * 1024 + 10)) 100 2 &&
		model_cmp_all &&
		"$DATAIO" zero "$MNT/f" 64K $((16 * 1024 + 10)) -n &&
		"$DATAIO" zero "$MNT/f" $((80 * 1024 + 110)) 49042 -n
	'

	test_expect_success FUSE,E2FSPROGS,DATAIO,FALLOCATE "$bs: writes into the KEEP_SIZE area extend the size" '
		dw f $((1024 * 1024 + 5)) 3000 3 &&
		truncate -s $((1024 * 1024 + 3005)) model/f &&
		model_cmp_all
	'

	test_expect_success FUSE,E2FSPROGS,DATAIO,FALLOCATE "$bs: punch hole, aligned and unaligned" '
		fallocate -p -o 4097 -l 10000 "$MNT/f" && model_zero f 4097 10000 keep &&
		fallocate -p -o 32K -l 16K "$MNT/f" && model_zero f 32K 16K keep &&
		fallocate -p -o 1000000 -l 1M "$MNT/f" && model_zero f 1000000 1M keep &&
		model_cmp_all &&
		test_eq $((1024 * 1024 + 3005)) "$(stat -c %s "$MNT/f")" size
	'

	test_expect_success FUSE,E2FSPROGS,DATAIO,FALLOCATE "$bs: zero range, inside and past EOF" '
		dw z 0 200K 4 &&
		fallocate -z -o 5000 -l 20000 "$MNT/z" && model_zero z 5000 20000 &&
		fallocate -z -o 64K -l 64K "$MNT/z" && model_zero z 64K 64K &&
		fallocate -z -o 190K -l 30K "$MNT/z" && model_zero z 190K 30K &&
		fallocate -z -n -o 300K -l 8K "$MNT/z" &&
		model_cmp_all &&
		test_eq $((220 * 1024)) "$(stat -c %s "$MNT/z")" size
	'

	test_expect_success FUSE,E2FSPROGS,DATAIO,FALLOCATE "$bs: collapse and insert range are refused (by the FUSE kernel module)" '
		test_must_fail fallocate -c -o 0 -l 64K "$MNT/z" 2>err &&
		test_grep -i "not supported" err &&
		test_must_fail fallocate -i -o 0 -l 64K "$MNT/z" 2>err &&
		test_grep -i "not supported" err &&
		model_cmp_all
	'

	test_expect_success FUSE,E2FSPROGS,DATAIO,FALLOCATE "$bs: SEEK_DATA and SEEK_HOLE follow the mappings" '
		dw s 0 8K 5 && dw s 64K 4K 6 &&
		fallocate -o 128K -l 64K "$MNT/s" &&
		"$DATAIO" seek "$MNT/s" >actual &&
		cat >expect <<-\EOT &&
		data 0 8192
		hole 8192 65536
		data 65536 69632
		hole 69632 196608
		EOT
		test_cmp expect actual &&
		dw s 160K 4K 7 && truncate -s 192K model/s &&
		"$DATAIO" seek "$MNT/s" >actual &&
		cat >expect <<-\EOT &&
		data 0 8192
		hole 8192 65536
		data 65536 69632
		hole 69632 163840
		data 163840 167936
		hole 167936 196608
		EOT
		test_cmp expect actual &&
		model_cmp_all
	'

	test_expect_success FUSE,E2FSPROGS,DATAIO,FALLOCATE "$bs: SEEK past EOF is ENXIO; a file without holes is one data run" '
		dw full 0 100K 8 &&
		"$DATAIO" seek "$MNT/full" >actual &&
		echo "data 0 102400" >expect &&
		test_cmp expect actual &&
		test_eq ENXIO "$("$DATAIO" seekat "$MNT/full" 102400 data)" "SEEK_DATA at EOF" &&
		test_eq ENXIO "$("$DATAIO" seekat "$MNT/full" 200000 hole)" "SEEK_HOLE past EOF" &&
		test_eq 102400 "$("$DATAIO" seekat "$MNT/full" 5000 hole)" "SEEK_HOLE in data" &&
		test_eq 5000 "$("$DATAIO" seekat "$MNT/full" 5000 data)" "SEEK_DATA in data"
	'

	test_expect_success FUSE,E2FSPROGS,DATAIO,FALLOCATE "$bs: unmount; e2fsck clean; debugfs agrees" '
		iomapfs_unmount "$MNT" &&
		fsck_clean "$IMG" &&
		dump_cmp_all "$IMG" &&
		ex /f | grep -q Uninit
	'
done

IMG=$TRASH/ext2.img
MNT=$TRASH/mnt-ext2
export IMG MNT
test_expect_success FUSE,E2FSPROGS,DATAIO,FALLOCATE 'ext2: punch works, preallocation is refused as in ext4' '
	rm -rf model && mkdir model &&
	make_dirty_image "$IMG" 32M -t ext2 -b 1024 &&
	iomapfs_mount "$IMG" "$MNT" &&
	dw b 0 300K 9 &&
	fallocate -p -o 1000 -l 100K "$MNT/b" && model_zero b 1000 100K keep &&
	model_cmp_all &&
	# Holes across the indirect levels (1 KiB blocks: 12 direct, 256 in
	# the indirect block), and one block past a double-indirect block:
	# libext2fs 1.47.0 punches those wrong by itself.
	dw c 0 3000K 10 &&
	fallocate -p -o 250K -l 30K "$MNT/c" && model_zero c 250K 30K keep &&
	fallocate -p -o 2060K -l 1K "$MNT/c" && model_zero c 2060K 1K keep &&
	fallocate -p -o 10K -l 4K "$MNT/c" && model_zero c 10K 4K keep &&
	model_cmp_all &&
	test_must_fail fallocate -o 0 -l 1M "$MNT/b" 2>err &&
	test_grep -i "not supported" err &&
	test_must_fail fallocate -z -o 0 -l 4K "$MNT/b" 2>err &&
	test_grep -i "not supported" err &&
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG" &&
	dump_cmp_all "$IMG"
'

test_done
