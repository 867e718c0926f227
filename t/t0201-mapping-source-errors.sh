#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t0201-mapping-source-errors.sh - bad input to the ext2 mapping source and
# t/helper/iomap-dump: missing inodes and paths, files without blocks, bad
# images, and mapping metadata corrupted with debugfs sif and dd (extent
# headers, leaf blocks, extents outside the filesystem, out of order, of
# length zero, an absurd tree depth, bad indirect pointers).  Each must give
# a clear message and exit 1, never a crash or a hang (every run is under
# timeout, and a signal fails the test).

test_description='ext2 mapping source: errors and corrupt metadata'
. "$(dirname "$0")/test-lib.sh"
. "$SRC_DIR/t/lib-debugfs.sh"

DUMP=$HELPER_DIR/iomap-dump
[ -x "$DUMP" ] || skip_all "$DUMP is not built"
test_have_prereq E2FSPROGS || skip_all "debugfs and mke2fs are needed"

# dump_fails WANT-MESSAGE ARGS...: iomap-dump must exit 1 within 20 s and
# say WANT-MESSAGE on stderr.
dump_fails() {
	local want=$1 rc
	shift
	timeout 20 "$DUMP" "$@" >out 2>err
	rc=$?
	cat err
	if [ $rc -ne 1 ]; then
		echo "iomap-dump $* exited $rc, expected 1 (124: timeout, >128: signal)"
		return 1
	fi
	# Sanitizer builds also exit 1 by default: their reports fail too.
	if grep -q -e "Sanitizer" -e "runtime error:" err; then
		echo "iomap-dump $* tripped a sanitizer"
		return 1
	fi
	test_grep -e "$want" err
}

# corrupt SRC DST CMD...: copy image SRC to DST and run debugfs -w CMD on it.
corrupt() {
	local src=$1 dst=$2
	shift 2
	cp --sparse=always "$src" "$dst" &&
	debugfs -w -R "$*" "$dst" >/dev/null 2>debugfs.err &&
	! grep -v '^debugfs' debugfs.err
}

# leaf_block IMG PATH: the first leaf block of PATH's depth-1 extent tree.
leaf_block() {
	debugfs_q "$1" "ex $2" | awk '
		/^Level/ { next }
		{ line = $0; gsub("/", " ", line); split(line, f, " ")
		  if (f[1] < f[2]) { print f[8]; exit } }'
}

test_expect_success 'make images' '
	mkdir tree &&
	head -c $((200 * 1024)) /dev/urandom >tree/frag &&
	head -c $((20 * 1024)) /dev/urandom >tree/two &&
	head -c $((300 * 1024)) /dev/urandom >tree/full &&
	mkfifo tree/fifo &&
	ln -s target tree/symlink &&
	for i in $(seq 1 2 199); do echo "punch /frag $i $i" || return 1; done >edits &&
	echo "punch /two 5 5" >>edits &&
	for csum in metadata_csum ^metadata_csum; do
		img=ext4-$csum.img &&
		make_image $img 16M -t ext4 -b 1024 -O $csum -d tree &&
		debugfs -w -f edits $img >/dev/null 2>&1 &&
		fsck_clean $img || return 1
	done &&
	mv ext4-^metadata_csum.img nocsum.img &&
	mv ext4-metadata_csum.img csum.img &&
	test_eq 1 "$(debugfs_ex_depth csum.img /frag)" "depth of /frag" &&
	test_eq 0 "$(debugfs_ex_depth csum.img /two)" "depth of /two" &&
	make_image ext2.img 8M -t ext2 -b 1024 -d tree &&
	fsck_clean ext2.img &&
	"$DUMP" csum.img /two >two.good &&
	test_line_count=$(wc -l <two.good) &&
	test_eq 3 "$test_line_count" "mappings of /two"
'

test_expect_success 'a free inode is not in use' '
	n=$(dumpe2fs -h csum.img 2>/dev/null | awk "/^Inode count:/ { print \$3 }") &&
	dump_fails "not in use" csum.img $((n - 1))
'

test_expect_success 'an inode number past the inode count' '
	dump_fails "not in use" csum.img 4000000000
'

test_expect_success 'inode 0 and junk are neither inode nor path' '
	dump_fails "neither an inode number nor an absolute path" csum.img 0 &&
	dump_fails "neither an inode number nor an absolute path" csum.img 12x &&
	dump_fails "neither an inode number nor an absolute path" csum.img frag
'

test_expect_success 'a path that does not exist' '
	dump_fails "/nope: File not found" csum.img /nope &&
	dump_fails "/frag/x: " csum.img /frag/x
'

test_expect_success 'files without block mappings' '
	dump_fails "no block mappings" csum.img /fifo &&
	dump_fails "no block mappings" csum.img /symlink
'

test_expect_success 'not an image, and no image at all' '
	head -c 65536 /dev/urandom >junk.img &&
	dump_fails "junk.img: cannot open image" junk.img 2 &&
	dump_fails "missing.img: cannot open image" missing.img 2
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 "$DUMP" &&
	test_expect_code 2 "$DUMP" csum.img &&
	test_expect_code 2 "$DUMP" csum.img 2 x &&
	test_expect_code 2 "$DUMP" csum.img 2 0 -1 &&
	test_expect_code 2 "$DUMP" --bogus csum.img 2
'

test_expect_success 'an offset past the maximum file size' '
	dump_fails "File too large" csum.img /two $((4294967295 * 1024))
'

for img in csum nocsum; do
	test_expect_success "$img: corrupt extent header in the inode" "
		corrupt $img.img bad.img 'sif /two block[0] 0' &&
		dump_fails 'Structure needs cleaning' bad.img /two
	"
	test_expect_success "$img: garbage in a leaf block" "
		leaf=\$(leaf_block $img.img /frag) &&
		test -n \"\$leaf\" &&
		cp --sparse=always $img.img bad.img &&
		head -c 1024 /dev/urandom |
			dd of=bad.img bs=1024 seek=\$leaf conv=notrunc 2>/dev/null &&
		dump_fails 'Structure needs cleaning' bad.img /frag
	"
	test_expect_success "$img: a leaf block with a bad header only" "
		leaf=\$(leaf_block $img.img /frag) &&
		cp --sparse=always $img.img bad.img &&
		printf 'XX' |
			dd of=bad.img bs=1 seek=\$((leaf * 1024)) conv=notrunc 2>/dev/null &&
		dump_fails 'Structure needs cleaning' bad.img /frag
	"
done

# In /two (depth 0), i_block[3..5] is the first extent (logical start;
# length | start_hi << 16; start_lo), i_block[6..8] the second.
test_expect_success 'an extent past the end of the filesystem' '
	corrupt csum.img bad.img "sif /two block[5] 0x7ffffff0" &&
	dump_fails "Structure needs cleaning" bad.img /two &&
	corrupt csum.img bad.img "sif /two block[4] 0xffff0005" &&
	dump_fails "Structure needs cleaning" bad.img /two
'

test_expect_success 'an extent of length zero' '
	corrupt csum.img bad.img "sif /two block[4] 0" &&
	dump_fails "Structure needs cleaning" bad.img /two
'

test_expect_success 'extents out of order' '
	cp --sparse=always csum.img bad.img &&
	debugfs -w -R "sif /two block[3] 6" bad.img 2>/dev/null &&
	debugfs -w -R "sif /two block[6] 0" bad.img 2>/dev/null &&
	dump_fails "Structure needs cleaning" bad.img /two
'

test_expect_success 'overlapping extents' '
	corrupt csum.img bad.img "sif /two block[6] 3" &&
	dump_fails "Structure needs cleaning" bad.img /two
'

# In /frag (depth 1), i_block[3..5] is the first index entry (logical
# start; leaf block low 32 bits; high 16 bits).
test_expect_success 'an index entry pointing outside the filesystem' '
	corrupt csum.img bad.img "sif /frag block[4] 0x7ffffff0" &&
	dump_fails "Structure needs cleaning" bad.img /frag &&
	dump_fails "Structure needs cleaning" bad.img /frag 4096 1024
'

test_expect_success 'an index entry pointing at file data' '
	data=$(debugfs_ex_runs nocsum.img "$(debugfs_ino nocsum.img /two)" |
		awk "NR == 1 { print \$3 }") &&
	test -n "$data" &&
	corrupt nocsum.img bad.img "sif /frag block[4] $data" &&
	dump_fails "Structure needs cleaning" bad.img /frag
'

test_expect_success 'an absurd extent tree depth' '
	corrupt csum.img bad.img "sif /two block[1] 0xffff0004" &&
	dump_fails "Structure needs cleaning" bad.img /two
'

test_expect_success 'a lookup inside the good extent of a damaged tree' '
	corrupt nocsum.img bad.img "sif /two block[5] 0x7ffffff0" &&
	dump_fails "Structure needs cleaning" bad.img /two 0 1024 &&
	"$DUMP" nocsum.img /two 6144 1024 >good &&
	test_grep "^6144 14336 MAPPED" good
'

test_expect_success 'ext2: indirect block pointer outside the filesystem' '
	corrupt ext2.img bad.img "sif /full block[IND] 0x7ffffff0" &&
	dump_fails "Structure needs cleaning" bad.img /full &&
	"$DUMP" bad.img /full 0 4096 >head &&
	test_grep "^0 12288 MAPPED" head
'

test_expect_success 'ext2: data block pointer outside the filesystem' '
	corrupt ext2.img bad.img "sif /full block[3] 0x7ffffff0" &&
	dump_fails "Structure needs cleaning" bad.img /full
'

test_expect_success 'ext2: garbage in the double indirect block' '
	dind=$(debugfs_q ext2.img "stat /full" |
		sed -n "s/.*(DIND):\([0-9]*\).*/\1/p") &&
	test -n "$dind" &&
	cp --sparse=always ext2.img bad.img &&
	head -c 1024 /dev/urandom |
		dd of=bad.img bs=1024 seek=$dind conv=notrunc 2>/dev/null &&
	dump_fails "Structure needs cleaning" bad.img /full
'

test_done
