#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6020-replay-debugfs.sh - journals written by debugfs's journal writer
# (jo, jw, jc), with revokes, a block logged twice, an escaped block, in
# every format mke2fs and the kernel use: checksums v3, v2, v1 and none,
# 64-bit and 32-bit block numbers, every block size from 1 KiB to 64 KiB, an
# extent-mapped and a block-mapped journal inode, a log that wraps around
# the end of the journal, async_commit.  Each image is replayed twice, by
# e2fsck -E journal_only and by an iomapfs read-write mount, and the two
# results must be identical block for block (apart from the superblock
# fields any mount changes, listed in t/helper/jtool.py); the replayed
# tree must be the one the journal carried, and e2fsck -fn clean.
test_description='debugfs-made journals: iomapfs replays them as e2fsck does'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-journal.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"
test_have_prereq PYTHON3 || skip_all "no python3"

# one_case NAME SIZE "MKE2FS OPTIONS" "JO OPTIONS" WANT_INCOMPAT WANT_COMPAT
#          [ROTATE]
# A journal of four transactions (jnl_three) turning a base image into a
# modified one in three steps; WANT_* are the journal's feature words after debugfs wrote it (so
# that each case is known to test the format it names); ROTATE moves the
# log to wrap around the end of the journal.
one_case() {
	(one_case_ "$@")
}

one_case_() {
	local name=$1 size=$2 mkfs=$3 jo=$4 incompat=$5 compat=$6
	local rotate=${7:-} info
	rm -rf "$name" && mkdir "$name" && cd "$name" || return 1
	# shellcheck disable=SC2086
	jnl_base base.img "$size" $mkfs &&
	jnl_stages base.img &&
	cp base.img j.img &&
	# shellcheck disable=SC2086
	jnl_three j.img base.img $jo || return 1
	if [ -n "$rotate" ]; then
		jtool rotate j.img "$rotate" &&
		jtool log j.img >log &&
		# The log wraps: some log block is smaller than the one before.
		awk 'NR > 1 && $1 < prev { w = 1 } { prev = $1 }
		     END { exit !w }' log || {
			echo "the log does not wrap around:"
			cat log
			return 1
		}
	fi
	info=$(jtool info j.img) &&
	set -- $info &&
	test "$(($7 & incompat))" -eq "$((incompat))" &&
	test "$(($7 & ~incompat & 0x1e))" -eq 0 &&
	test "$(($8))" -eq "$((compat))" || {
		echo "journal features $7 compat $8, expected $incompat $compat"
		return 1
	}
	replay_compare j.img &&
	test_grep "replayed $J_TXN transactions" j.img.i.log &&
	fsck_clean j.img.i &&
	# The revoked block was never written, T4's later copy won over
	# the revoke and over the earlier copy in T4, the escaped block got
	# its magic number back.
	if [ "${JNL_REVOKE:-1}" = 1 ]; then
		dd if=base.img bs="$(jnl_bs base.img)" skip="$J_REV" count=1 \
			status=none >rev.want
	else
		cp "$TRASH/junk1" rev.want
	fi &&
	block_is j.img.i "$J_REV" rev.want &&
	block_is j.img.i "$J_AGAIN" "$TRASH/junk2" &&
	block_is j.img.i "$J_ESC" "$TRASH/esc" &&
	tree_of base.img.3 mod.tree &&
	tree_of j.img.i replayed.tree &&
	test_cmp mod.tree replayed.tree &&
	grep -q "newdir/passwd" replayed.tree
}

test_expect_success 'csum v3, 64-bit, 1 KiB blocks (extent-mapped journal)' '
	one_case v3 64M "-t ext4" "-c" 0x13 0
'

test_expect_success 'csum v2, 64-bit' '
	one_case v2 64M "-t ext4" "-c -v 2" 0x0b 0
'

test_expect_success 'no checksums, 64-bit' '
	one_case none 64M "-t ext4" "" 0x03 0
'

test_expect_success 'v1 commit checksum (no metadata_csum)' '
	JNL_REVOKE=0 one_case v1 64M "-t ext4 -O ^metadata_csum" "-c" 0x02 0x1
'

test_expect_success 'csum v3, 32-bit block numbers' '
	one_case v3-32 64M "-t ext4 -O ^64bit" "-c" 0x11 0
'

test_expect_success '32-bit block numbers, no checksums' '
	one_case none-32 64M "-t ext4 -O ^64bit,^metadata_csum" "" 0x01 0
'

test_expect_success 'csum v3, 4 KiB blocks' '
	one_case 4k 128M "-t ext4 -b 4096" "-c" 0x13 0
'

test_expect_success 'csum v3, 64 KiB blocks' '
	one_case 64k 512M "-t ext4 -b 65536" "-c" 0x13 0
'

# The sizes between: 2 KiB, and 8 to 32 KiB (the kernel mounts none above
# its page size, debugfs writes them all).
for kib in 2 8 16 32; do
	test_expect_success "csum v3, $kib KiB blocks" "
		one_case ${kib}k $((kib * 16))M '-t ext4 -b $((kib * 1024))' -c 0x13 0
	"
done

test_expect_success 'ext3: a block-mapped journal inode, v1 checksum' '
	JNL_REVOKE=0 one_case ext3 64M "-t ext3" "-c" 0x00 0x1 &&
	debugfs -R "stat <8>" ext3/base.img 2>/dev/null | grep -q "(IND)"
'

test_expect_success 'ext3: a block-mapped journal inode, no checksums, revokes' '
	one_case ext3-none 64M "-t ext3" "" 0x01 0
'

test_expect_success 'a log that wraps around the end of the journal' '
	one_case wrap 64M "-t ext4" "-c" 0x13 0 12
'

test_expect_success 'a wrapping log with 4 KiB blocks, 32-bit, no checksums' '
	one_case wrap4k 128M "-t ext4 -b 4096 -O ^64bit,^metadata_csum" "" \
		0x01 0 5
'

test_expect_success 'async_commit' '
	rm -rf async && mkdir async && (cd async &&
	jnl_base base.img 64M -t ext4 &&
	jnl_stages base.img &&
	cp base.img j.img && jnl_three j.img base.img -c &&
	jtool jsb j.img incompat+=0x4 &&
	replay_compare j.img &&
	test_grep "replayed $J_TXN transactions" j.img.i.log &&
	fsck_clean j.img.i)
'

test_done
