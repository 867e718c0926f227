#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6060-journal-listing.sh - iomapctl journal: with --image, the log as
# debugfs's logdump finds it (every logged block at the same log block
# with the same home block), what each home block is (checked against
# dumpe2fs and debugfs icheck), checksums, what a replay does with each
# block and where the log ends; -J with the same content; nothing written;
# on a mount, the journal as the mount found it (GetJournal).
test_description='iomapctl journal'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-journal.sh"

test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"
test_have_prereq PYTHON3 || skip_all "no python3"
test_have_prereq JQ || skip_all "no jq"
[ -x "$IOMAPCTL" ] || skip_all "no iomapctl"

test_expect_success 'set up a journal of four transactions' '
	jnl_base base.img 64M -t ext4 &&
	jnl_stages base.img &&
	cp base.img j.img && jnl_three j.img base.img -c &&
	cp j.img j.orig
'

test_expect_success 'the listing and logdump agree on every logged block' '
	"$IOMAPCTL" --image j.img -J journal >j.json &&
	cmp j.img j.orig &&
	debugfs -c -R "logdump -a" j.img 2>/dev/null |
		sed -n "s/^  FS block \([0-9]*\) logged at journal block \([0-9]*\) .*/\2 \1/p" \
		>want &&
	jq -r ".blocks[] | select(.type == \"data\") | \"\(.log) \(.home)\"" \
		j.json >got &&
	test_cmp want got &&
	test "$(wc -l <got)" -gt 10
'

test_expect_success 'superblock, scan and what a replay does' '
	test "$(jq -r .journal.superblock.features[] j.json | sort | tr "\n" " ")" = \
		"64bit checksum_v3 revoke " &&
	test "$(jq -r .journal.superblock.checksum j.json)" = good &&
	test "$(jq -r .journal.needs_recovery j.json)" = true &&
	test "$(jq -r .scan.transactions j.json)" = 4 &&
	test "$(jq -r .scan.complete j.json)" = true &&
	test "$(jq -r .scan.stop j.json)" = "end of log" &&
	# T1 logs J_REV, T3 revokes it; T4 logs J_AGAIN twice, after the
	# revoke: written; J_ESC was escaped.
	test "$(jq -r ".blocks[] | select(.type == \"data\" and .home == $J_REV) | .replay" j.json)" = revoked &&
	test "$(jq -r ".blocks[] | select(.type == \"revoke\") | .home" j.json | sort -n | tr "\n" " ")" = \
		"$J_AGAIN $J_REV " &&
	jq -r ".blocks[] | select(.type == \"data\" and .home == $J_AGAIN) | .replay" \
		j.json >again &&
	printf "revoked\nwritten\nwritten\n" >again.want &&
	test_cmp again.want again &&
	jq -r ".blocks[] | select(.home == $J_ESC) | .what" j.json |
		grep -q "(escaped)" &&
	test "$(jq "[.blocks[] | select(.type == \"commit\")] | length" j.json)" = 4 &&
	test "$(jq "[.blocks[] | select(.csum != \"good\")] | length" j.json)" = 0
'

test_expect_success 'the journal superblock: the fields jtool.py reads' '
	cp j.orig rot.img &&
	jtool rotate rot.img 12 &&
	"$IOMAPCTL" --image rot.img -J journal >rot.json &&
	"$IOMAPCTL" --image rot.img journal >rot.txt &&
	info=$(jtool info rot.img) &&
	set -- $info &&
	test "$5" -gt 1 &&
	jq -r ".journal.superblock | \"\(.block_size) \(.first) \(.blocks) \(.start) \(.sequence)\"" \
		rot.json >got &&
	echo "$1 $3 $4 $5 $6" >want &&
	test_cmp want got &&
	for f in "block_size:  *$1" "first:  *$3" "blocks:  *$4" "start:  *$5" \
		"sequence:  *$6"; do
		test_grep "^  $f\$" rot.txt || return 1
	done
'

test_expect_success 'what each home block is' '
	dumpe2fs base.img 2>/dev/null >dump &&
	ib=$(sed -n "s/^ *Inode bitmap at \([0-9]*\).*/\1/p" dump | head -n 1) &&
	bb=$(sed -n "s/^ *Block bitmap at \([0-9]*\).*/\1/p" dump | head -n 1) &&
	jq -r ".blocks[] | select(.type == \"data\") | \"\(.home)\t\(.what)\"" \
		j.json >what &&
	cat what &&
	grep -q "^1	superblock" what &&
	grep -q "^$ib	inode bitmap (group 0)" what &&
	grep -q "^$bb	block bitmap (group 0)" what &&
	grep -q "^2	group descriptors (groups 0-" what &&
	grep "inode table (group 0, inodes" what | head -n 1 >it &&
	b=$(cut -f1 it) && first=$(sed "s/.*inodes \([0-9]*\)-.*/\1/" it) &&
	table=$(sed -n "s/^ *Inode table at \([0-9]*\)-.*/\1/p" dump | head -n 1) &&
	isz=$(sed -n "s/^Inode size: *//p" dump) &&
	test "$first" -eq $(((b - table) * 1024 / isz + 1)) &&
	grep "directory block of inode" what | while IFS="	" read -r blk w; do
		ino=${w#directory block of inode } && ino=${ino%% *} &&
		debugfs -c -R "icheck $blk" base.img.3 2>/dev/null |
			grep -q "^$blk[[:space:]]*$ino\$" || {
			echo "block $blk: listed as $w, icheck says:"
			debugfs -c -R "icheck $blk" base.img.3
			return 1
		}
	done
'

test_expect_success 'for people: the same rows and the scan' '
	"$IOMAPCTL" --image j.img journal >j.txt &&
	cat j.txt &&
	test_grep "^where: *internal: inode 8" j.txt &&
	test_grep "SEQ *LOG TYPE *HOME WHAT *CSUM REPLAY" j.txt &&
	test "$(grep -c " data " j.txt)" = "$(jq "[.blocks[] | select(.type == \"data\")] | length" j.json)" &&
	test_grep "transactions: *4" j.txt &&
	test_grep "why: *log block [0-9]* holds no journal block" j.txt
'

test_expect_success 'a damaged log: bad checksums, nothing a replay would write' '
	cp j.img bad.img &&
	desc=$(jtool log bad.img | awk "\$3 == 2 && \$4 == \"descriptor\" { print \$1; exit }") &&
	jtool xor bad.img "$desc" 1020 &&
	"$IOMAPCTL" --image bad.img -J journal >bad.json &&
	test "$(jq -r .scan.complete bad.json)" = false &&
	test "$(jq -r .scan.stop bad.json)" = "descriptor checksum" &&
	test "$(jq -r .scan.error bad.json)" = "Bad message" &&
	test "$(jq -r ".blocks[] | select(.type == \"descriptor\" and .seq == 2) | .csum" bad.json)" = bad &&
	test "$(jq "[.blocks[] | select(.type == \"data\" and .replay != \"no\")] | length" bad.json)" = 0
'

test_expect_success 'a data block with a bad checksum' '
	cp j.img data.img &&
	d=$(jtool log data.img | awk "\$3 == 2 && \$4 == \"data\" { print \$1; exit }") &&
	jtool xor data.img "$d" 100 &&
	"$IOMAPCTL" --image data.img -J journal >data.json &&
	test "$(jq -r ".blocks[] | select(.log == $d) | \"\(.csum) \(.replay)\"" data.json)" = "bad bad-checksum" &&
	test "$(jq -r .scan.bad_checksums data.json)" = 1
'

test_expect_success 'an empty journal, and no journal' '
	make_image clean.img 32M -t ext4 &&
	"$IOMAPCTL" --image clean.img -J journal >clean.json &&
	test "$(jq -r .scan.stop clean.json)" = "empty log" &&
	test "$(jq ".blocks | length" clean.json)" = 0 &&
	make_image e2.img 32M -t ext2 &&
	test_expect_code 1 "$IOMAPCTL" --image e2.img journal 2>err &&
	test_grep "no journal to list: the filesystem has no journal" err
'

kernel_prereq
command -v xfs_io >/dev/null && test_set_prereq XFS_IO

# A journal the kernel wrote: the same blocks as logdump finds, and
# commit times (RFC 3339, UTC) from the minutes the kernel worked.  The
# filesystem is shut down with a log flush right after the work, then
# copied: the log is in the copy whether or not a sync elsewhere wrote
# some home blocks first (the listing needs a log, not a stale image).
test_expect_success KERNEL,XFS_IO 'a kernel-made journal: logdump agrees, commit times read' '
	t0=$(date +%s) &&
	make_image k.src 64M -t ext4 &&
	kmount k.src kmnt commit=1 &&
	kwork kmnt &&
	xfs_io -x -c "shutdown -f" kmnt &&
	cp --sparse=always k.src k.img &&
	umount kmnt &&
	t1=$(date +%s) &&
	kernel_needs_journal k.img &&
	"$IOMAPCTL" --image k.img -J journal >k.json &&
	debugfs -c -R "logdump -a" k.img 2>/dev/null |
		sed -n "s/^  FS block \([0-9]*\) logged at journal block \([0-9]*\) .*/\2 \1/p" \
		>kwant &&
	jq -r ".blocks[] | select(.type == \"data\") | \"\(.log) \(.home)\"" \
		k.json >kgot &&
	test_cmp kwant kgot &&
	test "$(jq -r .scan.transactions k.json)" -gt 0 &&
	jq -r ".blocks[] | select(.type == \"commit\") | .what" k.json >times &&
	test -s times &&
	while read -r t; do
		echo "$t" | grep -Eq "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z\$" &&
		s=$(date -d "$t" +%s) &&
		test "$s" -ge "$t0" && test "$s" -le "$t1" || {
			echo "commit time $t is not between $t0 and $t1"
			return 1
		}
	done <times
'

test_expect_success FUSE 'on a mount: what the mount found and did' '
	cp j.orig live.img &&
	iomapfs_mount live.img mnt -o ctl_socket="$TRASH/live.sock" &&
	"$IOMAPCTL" -s "$TRASH/live.sock" -J journal >live.json &&
	"$IOMAPCTL" -s "$TRASH/live.sock" journal >live.txt &&
	iomapfs_unmount mnt &&
	cat live.txt &&
	test "$(jq -r .journal.journal live.json)" = internal &&
	test "$(jq -r .journal.written live.json)" = false &&
	test "$(jq -r .journal.replay live.json)" = device &&
	test "$(jq -r .journal.superblock.start live.json)" != 0 &&
	test "$(jq -r .journal.mount_replay.transactions live.json)" = 4 &&
	test "$(jq -r .journal.mount_replay.complete live.json)" = true &&
	test_grep "does not write the journal" live.txt &&
	iomapfs_mount j.orig mnt -o ro,norecovery,ctl_socket="$TRASH/live.sock" &&
	"$IOMAPCTL" -s "$TRASH/live.sock" -J journal >skip.json &&
	iomapfs_unmount mnt &&
	test "$(jq -r .journal.replay skip.json)" = skipped &&
	iomapfs_mount e2.img mnt -o ctl_socket="$TRASH/live.sock" &&
	"$IOMAPCTL" -s "$TRASH/live.sock" -J journal >none.json &&
	iomapfs_unmount mnt &&
	test "$(jq -r .journal.journal none.json)" = none
'

test_done
