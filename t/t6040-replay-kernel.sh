#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6040-replay-kernel.sh - journals the kernel wrote: ext4 images mounted
# on a loop device (commit=1), metadata-heavy work (kwork in
# t/lib-journal.sh), then copied while still mounted, when the work is
# committed to the journal but not written home.  Each image must really
# need its journal (its -o ro,norecovery view differs from the replayed
# one); it is replayed by e2fsck -E journal_only and by an iomapfs
# read-write mount, and the two must be identical block for block (apart
# from the superblock's mount fields, t/helper/jtool.py); the replayed
# tree must be the one the kernel showed, and e2fsck -fn clean.
test_description='kernel-made journals: iomapfs replays them as e2fsck does'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-journal.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"
test_have_prereq PYTHON3 || skip_all "no python3"
command -v setfattr >/dev/null || skip_all "no setfattr (package attr)"
kernel_prereq
test_have_prereq KERNEL || skip_all "cannot mount ext4 on a loop device here"

# kernel_case NAME: the checks of every kernel-made image NAME.img.
kernel_case() {
	local n=$1
	tree_of "$n.img" "$n.stale" norecovery &&
	replay_compare "$n.img" &&
	grep "replayed" "$n.img.i.log" &&
	fsck_clean "$n.img.i" &&
	tree_of "$n.img.i" "$n.replayed" &&
	test_cmp "$n.img.live" "$n.replayed" &&
	# Without the journal the image shows something else: the test
	# would prove nothing otherwise.
	if cmp -s "$n.stale" "$n.replayed"; then
		echo "$n.img shows the same tree without its journal"
		return 1
	fi
}

test_expect_success 'ext4, 1 KiB blocks, csum v3, 64-bit' '
	kernel_crash k1.img 64M "-t ext4" "" &&
	test "$(($(jtool info k1.img | cut -d" " -f7) & 0x12))" -eq $((0x12)) &&
	kernel_case k1
'

test_expect_success 'ext4, 2 KiB blocks' '
	kernel_crash k2k.img 128M "-t ext4 -b 2048" "" &&
	kernel_case k2k
'

test_expect_success 'ext4, 4 KiB blocks' '
	kernel_crash k4k.img 256M "-t ext4 -b 4096" "" &&
	kernel_case k4k
'

test_expect_success 'ext3: a block-mapped journal inode, no checksums' '
	kernel_crash k3.img 64M "-t ext3" "" &&
	debugfs -c -R "stat <8>" k3.img 2>/dev/null | grep -q "(IND)" &&
	kernel_case k3
'

test_expect_success 'the v1 commit checksum (journal_checksum)' '
	kernel_crash kv1.img 64M "-t ext4 -O ^metadata_csum" \
		journal_checksum &&
	test "$(jtool info kv1.img | cut -d" " -f8)" = 0x1 &&
	kernel_case kv1
'

test_expect_success 'async_commit (journal_async_commit, data=journal)' '
	kernel_crash kasync.img 64M "-t ext4 -O ^metadata_csum" \
		journal_async_commit,data=journal &&
	test "$(($(jtool info kasync.img | cut -d" " -f7) & 0x4))" -eq 4 &&
	kernel_case kasync
'

test_expect_success 'data=journal: file data in the log too' '
	kernel_crash kdj.img 64M "-t ext4" data=journal &&
	kernel_case kdj
'

test_expect_success '32-bit block numbers' '
	kernel_crash k32.img 64M "-t ext4 -O ^64bit" "" &&
	test "$(($(jtool info k32.img | cut -d" " -f7) & 0x2))" -eq 0 &&
	kernel_case k32
'

test_expect_success 'a log that wraps around the end of the journal' '
	kernel_crash_wrap kwrap.img &&
	kernel_case kwrap
'

test_done
