#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6030-replay-damaged.sh - damaged logs: a descriptor, a commit block, a
# checksum, a data block, a revoke block, a sequence number, a block
# number outside the filesystem, a log cut short, a stale tail, the
# kernel's error in the journal.  Replay must stop where e2fsck's stops,
# and leave the same image (t/helper/jtool.py cmp); where e2fsck would
# mark the filesystem for a full check, the mount is refused after the
# replay (exit 8) with the reason; a journal that cannot be read at all
# is refused before anything is written.
test_description='damaged journals: replay stops where e2fsck stops'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-journal.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"
test_have_prereq PYTHON3 || skip_all "no python3"

# The four transactions of jnl_three, csum v3 and none.
test_expect_success 'set up journals of four transactions' '
	jnl_base base.img 64M -t ext4 &&
	jnl_stages base.img &&
	cp base.img v3.img && jnl_three v3.img base.img -c &&
	cp base.img none.img && jnl_three none.img base.img &&
	jnl_base base1.img 64M -t ext4 -O ^metadata_csum &&
	jnl_stages base1.img &&
	cp base1.img v1.img && jnl_three v1.img base1.img -c &&
	jtool log v3.img >v3.log &&
	jtool log none.img >none.log &&
	cat v3.log
'

# lblk LOG SEQ TYPE [N]: the Nth (default 1st) log block of that kind.
lblk() {
	awk -v s="$2" -v t="$3" -v n="${4:-1}" \
		'$3 == s && $4 == t && ++k == n { print $1; exit }' "$1"
}

# damaged NAME SRC: a copy of SRC to damage.
damaged() {
	cp --sparse=always "$2" "$1"
}

# replayed LOG N: the daemon replayed N transactions.
replayed() {
	test_grep "replayed $2 transactions\? " "$1"
}

test_expect_success 'a descriptor without its magic ends the log there' '
	damaged desc.img v3.img &&
	jtool poke desc.img "$(lblk v3.log 2 descriptor)" 0 00000000 &&
	replay_compare desc.img &&
	replayed desc.img.i.log 1 &&
	test_grep "end of the log" desc.img.i.log
'

test_expect_success 'a torn commit block ends the log before its transaction' '
	damaged torn.img v3.img &&
	jtool poke torn.img "$(lblk v3.log 2 commit)" 0 \
		"$(printf "%0128d" 0)" &&
	replay_compare torn.img &&
	replayed torn.img.i.log 1
'

test_expect_success 'a bad commit checksum: a failed commit, errors recorded' '
	damaged ccsum.img v3.img &&
	jtool xor ccsum.img "$(lblk v3.log 2 commit)" 0x10 &&
	replay_compare ccsum.img 8 &&
	replayed ccsum.img.i.log 1 &&
	test_grep "commit block of transaction 2 is corrupt" ccsum.img.i.log &&
	test_grep "errors are recorded" ccsum.img.i.log &&
	dumpe2fs -h ccsum.img.i 2>/dev/null | test_grep "with errors"
'

test_expect_success 'with async_commit a bad commit checksum just ends the log' '
	damaged async.img v3.img &&
	jtool jsb async.img incompat+=0x4 &&
	jtool xor async.img "$(lblk v3.log 2 commit)" 0x10 &&
	replay_compare async.img &&
	replayed async.img.i.log 1 &&
	! grep -q "corrupt" async.img.i.log
'

test_expect_success 'a bad descriptor checksum: nothing replayed, a full check' '
	damaged dcsum.img v3.img &&
	jtool xor dcsum.img "$(lblk v3.log 2 descriptor)" 1020 &&
	replay_compare dcsum.img 8 &&
	replayed dcsum.img.i.log 0 &&
	test_grep "journal is damaged" dcsum.img.i.log &&
	test_grep "not cleanly unmounted" dcsum.img.i.log &&
	dumpe2fs -h dcsum.img.i 2>/dev/null | test_grep "state: *not clean"
'

test_expect_success 'a data block with a bad checksum: the others replayed' '
	damaged data.img v3.img &&
	jtool xor data.img "$(lblk v3.log 2 data 2)" 100 &&
	replay_compare data.img 8 &&
	test_grep "1 logged block with a bad checksum not replayed" \
		data.img.i.log &&
	replayed data.img.i.log 4
'

test_expect_success 'a revoke block with a bad checksum: nothing replayed' '
	damaged rcsum.img v3.img &&
	jtool xor rcsum.img "$(lblk v3.log 3 revoke)" 20 &&
	replay_compare rcsum.img 8 &&
	replayed rcsum.img.i.log 0
'

test_expect_success 'a revoke count past the block: nothing replayed' '
	damaged rcount.img none.img &&
	jtool poke rcount.img "$(lblk none.log 3 revoke)" 12 00100000 &&
	replay_compare rcount.img 8 &&
	replayed rcount.img.i.log 0
'

test_expect_success 'a log cut short: the complete transactions replayed' '
	damaged cut.img v3.img &&
	first=$(lblk v3.log 3 revoke) && last=$(tail -n 1 v3.log | cut -d" " -f1) &&
	for b in $(seq "$first" "$last"); do
		jtool poke cut.img "$b" 0 "$(printf "%0128d" 0)" || return 1
	done &&
	replay_compare cut.img &&
	replayed cut.img.i.log 2
'

test_expect_success 'a sequence gap ends the log' '
	damaged gap.img v3.img &&
	jtool poke gap.img "$(lblk v3.log 3 revoke)" 8 00000009 --fix &&
	replay_compare gap.img &&
	replayed gap.img.i.log 2 &&
	test_grep "belongs to transaction 9, not 3" gap.img.i.log
'

test_expect_success 'a stale tail: a bad checksum, then an older commit time' '
	damaged stale.img v3.img &&
	jtool poke stale.img "$(lblk v3.log 3 commit)" 0x30 \
		0000000000000001 --fix &&
	jtool xor stale.img "$(lblk v3.log 3 revoke)" 20 &&
	replay_compare stale.img &&
	replayed stale.img.i.log 2 &&
	test_grep "stale tail" stale.img.i.log
'

test_expect_success 'a block number outside the filesystem ends the log before it' '
	damaged out.img v3.img &&
	n=$(jnl_blocks v3.img) &&
	jtool poke out.img "$(lblk v3.log 2 descriptor)" 12 \
		"$(printf %08x $((n + 7)))" --fix &&
	# e2fsck would write past the end; the same log cut there instead:
	damaged cutout.img v3.img &&
	jtool poke cutout.img "$(lblk v3.log 2 descriptor)" 0 00000000 &&
	replay_e2fsck cutout.img out.img.e &&
	replay_iomapfs out.img out.img.i &&
	# The two differ by construction in that one log block: take it
	# from the damaged image before comparing.
	dev=$(awk -v b="$(lblk v3.log 2 descriptor)" "\$1 == b { print \$2 }" \
		v3.log) &&
	dd if=out.img of=out.img.e bs="$(jnl_bs out.img)" skip="$dev" \
		seek="$dev" count=1 conv=notrunc status=none &&
	jtool cmp out.img.e out.img.i &&
	replayed out.img.i.log 1 &&
	test_grep "outside the filesystem" out.img.i.log &&
	test "$(stat -c %s out.img.i)" = "$(stat -c %s out.img)"
'

test_expect_success 'v1: debugfs counts a revoke block in the commit checksum' '
	replay_compare v1.img 8 &&
	replayed v1.img.i.log 2 &&
	test_grep "commit block of transaction 3 is corrupt" v1.img.i.log
'

test_expect_success 'the kernel'"'"'s error in the journal (s_errno) becomes errors' '
	damaged errno.img v3.img &&
	jtool jsb errno.img errno=0xfffffffb &&
	replay_compare errno.img 8 &&
	replayed errno.img.i.log 4 &&
	test_grep "errors are recorded" errno.img.i.log
'

test_expect_success 'a log that leads round the journal ends (e2fsck walks it for ever)' '
	make_image circle.img 64M -t ext4 -O ^64bit,^metadata_csum &&
	jtool circle circle.img &&
	debugfs -w -R "feature needs_recovery" circle.img >/dev/null 2>&1 &&
	replay_iomapfs circle.img circle.img.i &&
	replayed circle.img.i.log 0 &&
	test_grep "runs around the whole journal" circle.img.i.log &&
	fsck_clean circle.img.i
'

test_expect_success 'a corrupt journal superblock: refused, nothing written' '
	damaged jsb.img v3.img &&
	jtool jsb jsb.img maxlen=1 &&
	cp jsb.img jsb.orig &&
	mkdir -p mnt &&
	test_expect_code 8 timeout 60 "$IOMAPFS" -f -o ctl_socket="$TRASH/c.sock" \
		jsb.img mnt 2>err &&
	test_grep "cannot replay the journal: journal length 1 blocks" err &&
	test_grep "run e2fsck" err &&
	cmp jsb.img jsb.orig
'

test_done
