#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6050-replay-refusals.sh - what the journal still makes iomapfs refuse,
# each with its own message and exit code (iomapfs(8)), and the options
# around the replay: a journal on another device (9), an unknown journal
# feature (10), fast commits past the last full commit on a read-write
# mount (11), -o norecovery (read-only only; mounts the stale view), a log
# the superblock does not ask to replay (ignored and emptied, as the
# kernel does), ext2 not cleanly unmounted (8).
test_description='journal refusals and options'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-journal.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"
test_have_prereq PYTHON3 || skip_all "no python3"
kernel_prereq

# refused CODE IMG [options]: the daemon exits CODE without mounting, and
# the image is unchanged.  Its messages are in err.
refused() {
	local code=$1 img=$2
	shift 2
	cp "$img" "$img.before" && mkdir -p mnt &&
	test_expect_code "$code" timeout 60 "$IOMAPFS" -f \
		-o ctl_socket="$TRASH/c.sock" "$@" "$img" mnt 2>err &&
	! mountpoint -q mnt &&
	cmp "$img" "$img.before" || {
		cat err
		return 1
	}
}

test_expect_success 'set up a journal that needs replaying' '
	jnl_base base.img 64M -t ext4 &&
	jnl_stages base.img &&
	cp base.img j.img && jnl_three j.img base.img -c
'

test_expect_success 'a journal on another device: refused (9), read-only too' '
	cp j.img ext.img &&
	debugfs -w -f - ext.img >/dev/null 2>&1 <<-EOF &&
	ssv journal_inum 0
	ssv journal_uuid 5a0a7c1e-1111-2222-3333-444455556666
	ssv journal_dev 0x0701
	EOF
	refused 9 ext.img &&
	test_grep "lives on another device (external: device 0x701" err &&
	test_grep "e2fsck -j DEVICE" err &&
	refused 9 ext.img -o ro &&
	iomapfs_mount ext.img mnt -o ro,norecovery &&
	test_grep "journal on another device is not replayed: what this mount shows may be stale" \
		"$TRASH/iomapfs-mnt.log" &&
	ls mnt >/dev/null &&
	iomapfs_unmount mnt
'

test_expect_success 'an unknown incompatible journal feature: refused (10)' '
	cp j.img feat.img &&
	jtool jsb feat.img incompat+=0x200 &&
	refused 10 feat.img &&
	test_grep "unknown incompatible journal features 0x200" err &&
	test_grep "cannot replay this journal" err &&
	refused 10 feat.img -o ro &&
	iomapfs_mount feat.img mnt -o ro,norecovery &&
	iomapfs_unmount mnt
'

test_expect_success 'an unknown journal feature, clean: refused read-write only' '
	make_image clean.img 32M -t ext4 &&
	jtool jsb clean.img incompat+=0x200 &&
	refused 10 clean.img &&
	test_grep "cannot keep this journal" err &&
	iomapfs_mount clean.img mnt -o ro &&
	iomapfs_unmount mnt
'

test_expect_success '-o norecovery needs -o ro (2)' '
	refused 2 j.img -o norecovery &&
	test_grep "norecovery needs -o ro" err
'

test_expect_success '-o ro,norecovery: the stale view, with a warning' '
	tree_of base.img base.tree &&
	tree_of j.img stale.tree norecovery &&
	test_grep "not replayed: what this mount shows may be stale" \
		"$TRASH/iomapfs-tmnt.log" &&
	test_cmp base.tree stale.tree &&
	cmp j.img j.img.before
'

test_expect_success 'a log without needs_recovery: ignored, and emptied' '
	cp j.img nonr.img &&
	debugfs -w -R "feature -needs_recovery" nonr.img >/dev/null 2>&1 &&
	cp nonr.img nonr.orig &&
	iomapfs_mount nonr.img mnt &&
	iomapfs_unmount mnt &&
	test_grep "holds 4 transactions but the filesystem does not ask for recovery: ignored, as the kernel does, and the journal emptied" \
		"$TRASH/iomapfs-mnt.log" &&
	test "$(jtool info nonr.img | cut -d" " -f5)" = 0 &&
	tree_of nonr.img nonr.tree &&
	test_cmp base.tree nonr.tree &&
	fsck_clean nonr.img
'

test_expect_success 'the kernel'"'"'s error in a journal with nothing to replay' '
	make_image errno.img 32M -t ext4 &&
	jtool jsb errno.img errno=0xffffff94 &&
	replay_compare errno.img 8 &&
	test_grep "holds an error the kernel recorded (errno -108)" \
		errno.img.i.log &&
	test_grep "errors are recorded" errno.img.i.log &&
	dumpe2fs -h errno.img 2>/dev/null | grep -q "^Journal errno" &&
	! dumpe2fs -h errno.img.i 2>/dev/null | grep "^Journal errno" &&
	dumpe2fs -h errno.img.i 2>/dev/null | test_grep "with errors"
'

test_expect_success 'ext2 not cleanly unmounted: still refused read-write (8)' '
	make_image e2.img 32M -t ext2 &&
	debugfs -w -R "ssv state 0" e2.img >/dev/null 2>&1 &&
	refused 8 e2.img &&
	test_grep "not cleanly unmounted" err &&
	iomapfs_mount e2.img mnt -o ro &&
	iomapfs_unmount mnt
'

test_expect_success KERNEL 'fast commits past the last full commit: refused read-write (11)' '
	kernel_fc_crash fc-crash.img &&
	refused 11 fc-crash.img &&
	test_grep "the fast-commit area holds [0-9]* records (in [0-9]* block.*) of transaction [0-9]*, past the last full commit" err &&
	test_grep "iomapfs does not replay fast commits: mount it with the kernel" \
		err
'

test_done
