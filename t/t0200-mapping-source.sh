#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t0200-mapping-source.sh - the ext2 mapping source (shared/ext2map.c), seen
# through t/helper/iomap-dump, must agree byte for byte with debugfs on
# images made here with mke2fs -d and debugfs -w: sparse, fallocated
# (unwritten), extents past EOF, fragmented (extent tree depth >= 1, with
# several leaves at 1 KiB blocks), empty, inline_data, ext2 and ext3
# block-mapped files, at 1 KiB and 4 KiB block sizes.

test_description='ext2 mapping source agrees with debugfs'
. "$(dirname "$0")/test-lib.sh"
. "$SRC_DIR/t/lib-debugfs.sh"

DUMP=$HELPER_DIR/iomap-dump
[ -x "$DUMP" ] || skip_all "$DUMP is not built"
test_have_prereq E2FSPROGS || skip_all "debugfs and mke2fs are needed"

# Source files for mke2fs -d: the same set for every image.
make_tree() {
	rm -rf tree && mkdir tree &&
	: >tree/empty &&
	head -c 300000 /dev/urandom >tree/full &&
	head -c 100 /dev/urandom >tree/tiny &&
	# data, hole, data, hole to EOF
	head -c 8192 /dev/urandom >tree/sparse &&
	dd if=/dev/urandom of=tree/sparse bs=4096 seek=25 count=2 \
		conv=notrunc 2>/dev/null &&
	truncate -s 300k tree/sparse &&
	truncate -s 1M tree/unwritten &&
	head -c 10000 /dev/urandom >tree/pasteof &&
	head -c $((400 * 4096)) /dev/urandom >tree/frag &&
	ln -s "$(printf "%0100d" 0)" tree/slowlink &&
	mkdir tree/dir &&
	for i in $(seq 1 60); do : >tree/dir/file-with-a-long-name-$i; done
}

# debugfs -w edits: fallocate (unwritten within EOF, past EOF), and
# punching every other block of "frag" so that its extent tree needs
# index blocks.  $1 is the image, $2 the number of blocks of frag to punch,
# $3 "past-eof" to fallocate past EOF too (extent files only: e2fsck wants
# a block-mapped file's blocks inside i_size).
edit_image() {
	local img=$1 n=$2 i
	{
		echo "fallocate /unwritten 10 50"
		echo "fallocate /unwritten 100 100"
		echo "fallocate /unwritten 200 255"
		if [ "${3:-}" = past-eof ]; then
			echo "fallocate /pasteof 8 20"
		fi
		for ((i = 1; i < n; i += 2)); do
			echo "punch /frag $i $i"
		done
	} >edits &&
	debugfs -w -f edits "$img" >/dev/null 2>debugfs.err &&
	! grep -v '^debugfs' debugfs.err
}

test_expect_success 'make the source tree' '
	make_tree
'

for bs in 4096 1024; do
	img=ext4-$bs.img
	# At 1 KiB a leaf holds 84 extents: 200 extents need three leaves.
	test_expect_success "ext4 ${bs}-byte blocks: make image" "
		make_image $img 64M -t ext4 -b $bs -O ^inline_data -d tree &&
		edit_image $img 400 past-eof &&
		fsck_clean $img
	"
	test_expect_success "ext4 $bs: fragmented file has an index level" "
		test_eq 1 \$(debugfs_ex_depth $img /frag) 'extent depth' &&
		leaves=\$(debugfs_q $img 'ex /frag' | grep -c '^ 0/ 1') &&
		echo leaves=\$leaves &&
		if [ $bs = 1024 ]; then test \$leaves -ge 2; fi
	"
	for f in empty full tiny sparse unwritten pasteof frag dir slowlink; do
		test_expect_success "ext4 $bs: /$f agrees with debugfs" "
			check_maps $img /$f
		"
	done
	test_expect_success "ext4 $bs: range queries agree with debugfs" "
		for f in sparse unwritten pasteof frag full empty; do
			check_ranges $img /\$f 25 || return 1
		done
	"
	test_expect_success "ext4 $bs: /unwritten has UNWRITTEN extents" "
		grep UNWRITTEN actual${img%.img}_unwritten &&
		! grep MAPPED actual${img%.img}_unwritten
	"
	test_expect_success "ext4 $bs: /pasteof has an extent past EOF" "
		size=\$(debugfs_inode_field $img /pasteof Size) &&
		awk -v s=\$size '\$3 != \"HOLE\" && \$1 >= s' actual${img%.img}_pasteof >past &&
		test -s past
	"
	test_expect_success "ext4 $bs: --blocks rows are debugfs ex rows" "
		debugfs_ex_runs $img \$(debugfs_ino $img /frag) >expect.blocks &&
		\"\$DUMP\" --blocks $img /frag |
			awk '\$3 != \"HOLE\" { print \$1, \$2, \$4, \$3 }' >actual.blocks &&
		test_cmp expect.blocks actual.blocks
	"
done

test_expect_success 'inline_data image' '
	make_image inline.img 16M -t ext4 -b 4096 -O inline_data -d tree &&
	fsck_clean inline.img
'
for f in empty tiny full dir slowlink; do
	test_expect_success "inline_data: /$f agrees with debugfs" "
		check_maps inline.img /$f
	"
done
test_expect_success 'inline_data: /tiny is INLINE and LAST' '
	echo "0 4096 INLINE - LAST" >expect &&
	"$DUMP" inline.img /tiny >actual &&
	test_cmp expect actual
'

test_expect_success 'ext2 1 KiB image (block-mapped, IND and DIND)' '
	make_image ext2.img 16M -t ext2 -b 1024 -d tree &&
	edit_image ext2.img 100 &&
	fsck_clean ext2.img
'
for f in empty full tiny sparse unwritten pasteof frag dir slowlink; do
	test_expect_success "ext2: /$f agrees with debugfs" "
		check_maps ext2.img /$f
	"
done
test_expect_success 'ext2: /full spans the indirect blocks' '
	debugfs_q ext2.img "stat /full" | test_grep -e "(IND)" -e "(DIND)"
'
test_expect_success 'ext2: range queries agree with debugfs' '
	for f in sparse unwritten frag full; do
		check_ranges ext2.img /$f 25 || return 1
	done
'

test_expect_success 'ext3 4 KiB image' '
	make_image ext3.img 32M -t ext3 -b 4096 -d tree &&
	edit_image ext3.img 400 &&
	fsck_clean ext3.img
'
for f in empty full sparse unwritten pasteof frag dir slowlink; do
	test_expect_success "ext3: /$f agrees with debugfs" "
		check_maps ext3.img /$f
	"
done

test_expect_success 'ext3: range queries agree with debugfs' '
	for f in sparse frag full; do
		check_ranges ext3.img /$f 25 || return 1
	done
'

# debugfs has two views of a block-mapped file: stat's BLOCKS list (what
# the comparisons above use) and bmap per block.  They must agree too.
for img in ext2 ext3; do
	test_expect_success "$img: stat BLOCKS and bmap agree" "
		for f in full sparse frag unwritten; do
			ino=\$(debugfs_ino $img.img /\$f) &&
			size=\$(debugfs_inode_field $img.img \$ino Size) &&
			bs=\$(debugfs_blocksize $img.img) &&
			debugfs_stat_runs $img.img \$ino >stat.runs &&
			debugfs_bmap_runs $img.img \$ino \$(((size + bs - 1) / bs)) \
				>bmap.runs &&
			test -s stat.runs &&
			test_cmp stat.runs bmap.runs || return 1
		done
	"
done

# Files far larger than their image: holes that skip whole indirect
# subtrees (ext2 TIND at 1 KiB blocks) and extents far out.
test_expect_success 'huge sparse files' '
	rm -rf huge && mkdir huge &&
	head -c 1000 /dev/urandom >huge/far &&
	dd if=/dev/urandom of=huge/far bs=1024 seek=$((5 * 1024 * 1024)) \
		count=3 conv=notrunc 2>/dev/null &&
	truncate -s 6G huge/far &&
	make_image huge2.img 8M -t ext2 -b 1024 -d huge &&
	make_image huge4.img 8M -t ext4 -b 4096 -d huge &&
	debugfs_q huge2.img "stat /far" | test_grep "(TIND)" &&
	check_maps huge2.img /far &&
	check_maps huge4.img /far &&
	check_ranges huge2.img /far 10 &&
	check_ranges huge4.img /far 10
'

test_expect_success 'the last block before the maximum size, and past it' '
	for img in huge2 huge4; do
		ino=$(debugfs_ino $img.img /far) &&
		bs=$(debugfs_blocksize $img.img) &&
		max=$(($(debugfs_maxblocks $img.img $ino) * bs)) &&
		echo "$((max - bs)) $bs HOLE - LAST" >expect &&
		"$DUMP" $img.img /far $((max - 1)) >actual &&
		test_cmp expect actual &&
		test_expect_code 1 "$DUMP" $img.img /far $max 2>err &&
		test_grep "File too large" err || return 1
	done
'

# An extent holds at most 32768 blocks: a 40 MiB file at 1 KiB blocks
# needs two or more, each its own mapping, as debugfs lists them.
test_expect_success 'a file longer than one extent' '
	rm -rf long && mkdir long &&
	head -c $((40 * 1024 * 1024)) /dev/zero | tr "\000" x >long/f &&
	make_image long.img 64M -t ext4 -b 1024 -d long &&
	test "$(debugfs_ex_runs long.img $(debugfs_ino long.img /f) | wc -l)" -ge 2 &&
	check_maps long.img /f &&
	check_ranges long.img /f 10
'

# 10000 extents at 1 KiB blocks: a tree of depth 2 with about 200 leaves,
# so holes between leaves under different index blocks are crossed too.
test_expect_success 'an extent tree of depth 2' '
	rm -rf deep && mkdir deep &&
	head -c $((20000 * 1024)) /dev/urandom >deep/f &&
	make_image deep.img 64M -t ext4 -b 1024 -d deep &&
	for i in $(seq 1 2 19999); do echo "punch /f $i $i" || return 1; done >punches &&
	debugfs -w -f punches deep.img >/dev/null 2>&1 &&
	fsck_clean deep.img &&
	test_eq 2 "$(debugfs_ex_depth deep.img /f)" "extent depth" &&
	check_maps deep.img /f &&
	test_eq 20000 "$(wc -l <actualdeep_f)" "mappings" &&
	check_ranges deep.img /f 10
'

test_expect_success 'an inode number works like its path' '
	ino=$(debugfs_ino ext4-4096.img /frag) &&
	"$DUMP" ext4-4096.img "$ino" >by-ino &&
	"$DUMP" ext4-4096.img "<$ino>" >by-ino2 &&
	"$DUMP" ext4-4096.img /frag >by-path &&
	test_cmp by-path by-ino &&
	test_cmp by-path by-ino2
'

test_done
