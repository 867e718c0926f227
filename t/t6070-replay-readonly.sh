#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6070-replay-readonly.sh - a read-only mount replays the journal into
# memory and never writes: the tree it shows (every file's bytes and stat)
# is the one a read-write replay leaves, for debugfs-made and kernel-made
# journals, file data logged by data=journal included (the data path
# reads replayed blocks from memory); damaged logs show what e2fsck's
# replay leaves; -o replay_max bounds the memory, exactly; fast commits
# are left out with a message; GetJournal says what the mount did.
test_description='read-only mounts replay the journal into memory'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-journal.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"
test_have_prereq PYTHON3 || skip_all "no python3"
kernel_prereq

# ro_same IMG: IMG mounted read-only shows the tree of IMG replayed by a
# read-write mount, and is not changed by it.
ro_same() {
	local img=$1
	cp "$img" "$img.before" &&
	tree_of "$img" "$img.ro" &&
	test_grep "into memory (a read-only mount writes nothing)" \
		"$TRASH/iomapfs-tmnt.log" &&
	cmp "$img" "$img.before" &&
	replay_iomapfs "$img" "$img.rw" &&
	tree_of "$img.rw" "$img.rwtree" &&
	test_cmp "$img.rwtree" "$img.ro"
}

test_expect_success 'a debugfs-made journal: the read-write replay'"'"'s tree' '
	jnl_base base.img 64M -t ext4 &&
	jnl_stages base.img &&
	cp base.img j.img && jnl_three j.img base.img -c &&
	ro_same j.img &&
	tree_of base.img.3 want.tree &&
	test_cmp want.tree j.img.ro
'

test_expect_success 'block-mapped, v1, 4 KiB, wrapping' '
	jnl_base b3.img 64M -t ext3 &&
	jnl_stages b3.img &&
	cp b3.img j3.img && JNL_REVOKE=0 jnl_three j3.img b3.img -c &&
	ro_same j3.img &&
	jnl_base b4.img 128M -t ext4 -b 4096 &&
	jnl_stages b4.img &&
	cp b4.img j4.img && jnl_three j4.img b4.img -c &&
	jtool rotate j4.img 5 &&
	log_wraps j4.img &&
	ro_same j4.img
'

test_expect_success 'damaged logs: what e2fsck'"'"'s replay leaves' '
	jtool log j.img >j.log &&
	cp j.img cc.img &&
	jtool xor cc.img "$(awk "\$3 == 2 && \$4 == \"commit\" { print \$1 }" j.log)" 0x10 &&
	cp j.img dc.img &&
	jtool xor dc.img "$(awk "\$3 == 2 && \$4 == \"data\" { print \$1; exit }" j.log)" 100 &&
	for d in cc dc; do
		replay_e2fsck $d.img $d.e &&
		tree_of $d.e $d.etree &&
		cp $d.img $d.before &&
		tree_of $d.img $d.ro &&
		cp "$TRASH/iomapfs-tmnt.log" $d.log &&
		cmp $d.img $d.before &&
		test_cmp $d.etree $d.ro || return 1
	done &&
	test_grep "commit block of transaction 2 is corrupt" cc.log &&
	test_grep "needs a full check" dc.log
'

test_expect_success '-o replay_max bounds the memory, to the byte' '
	"$IOMAPCTL" --image j.img -J journal >j.json &&
	n=$(jq "[.blocks[] | select(.replay == \"written\") | .home] | unique | length" j.json) &&
	need=$((n * $(jnl_bs j.img))) &&
	mkdir -p mnt &&
	test_expect_code 12 timeout 60 "$IOMAPFS" -f -o ro,replay_max=$((need - 1)),ctl_socket="$TRASH/c.sock" \
		j.img mnt 2>err &&
	test_grep "needs more than replay_max ($((need - 1)) bytes)" err &&
	! mountpoint -q mnt &&
	tree_of j.img max.tree "replay_max=$need" &&
	test_cmp j.img.ro max.tree &&
	test_expect_code 2 timeout 60 "$IOMAPFS" -f -o ro,replay_max=0 j.img mnt 2>err &&
	test_grep "replay_max=0" err
'

test_expect_success 'GetJournal of a read-only mount' '
	iomapfs_mount j.img mnt -o ro,ctl_socket="$TRASH/g.sock" &&
	"$IOMAPCTL" -s "$TRASH/g.sock" -J journal >g.json &&
	iomapfs_unmount mnt &&
	test "$(jq -r .journal.replay g.json)" = memory &&
	test "$(jq -r .journal.mount_replay.transactions g.json)" = 4 &&
	test "$(jq -r .journal.mount_replay.memory_bytes g.json)" -gt 0
'

test_expect_success KERNEL 'kernel-made, data=journal: file data from the journal' '
	kernel_crash kdj.img 64M "-t ext4" data=journal &&
	ro_same kdj.img &&
	test_cmp kdj.img.live kdj.img.ro &&
	tree_of kdj.img kdj.stale norecovery &&
	! cmp -s kdj.stale kdj.img.ro
'

test_expect_success KERNEL 'kernel-made, ordered data, 4 KiB blocks' '
	kernel_crash k4.img 256M "-t ext4 -b 4096" "" &&
	ro_same k4.img &&
	test_cmp k4.img.live k4.img.ro
'

test_expect_success KERNEL 'fast commits: the full commits, and what was left out' '
	kernel_fc_crash fc-crash.img one &&
	iomapfs_mount fc-crash.img mnt -o ro,ctl_socket="$TRASH/f.sock" &&
	ls mnt >fc.ls &&
	iomapfs_unmount mnt &&
	test_grep "left out, so the last fsync()ed changes may be missing" \
		"$TRASH/iomapfs-mnt.log" &&
	! grep -q "^b$" fc.ls
'

test_done
