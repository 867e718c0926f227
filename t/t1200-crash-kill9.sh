#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t1200-crash-kill9.sh - crash safety: the daemon is killed with SIGKILL
# in the middle of heavy writes (t/abuse/crashwriter.py: four appenders,
# an overwriter and a creator of small files in new directories, each
# logging what an fsync or fdatasync made durable).  After a lazy unmount,
# e2fsck -fy must bring the image to clean (a second e2fsck -fn finds
# nothing), and everything fsynced before the kill must read back intact:
# from a debugfs rdump of the image (an oracle independent of iomapfs) and
# through a fresh mount.  A few rounds with different timings and kinds.
# The figures are printed as TAP diagnostics.
test_description='kill -9 during heavy writes: fsynced data survives'
. "$(dirname "$0")/test-lib.sh"

command -v python3 >/dev/null || skip_all "needs python3"
test_have_prereq FUSE,E2FSPROGS || skip_all "needs FUSE and e2fsprogs"

CW="python3 $T_DIR/abuse/crashwriter.py"
IMG=$TRASH/img
MNT=$TRASH/mnt

# crash_round KIND DELAY SEED: write until DELAY seconds after the first
# fsync, kill -9, check.
crash_round() {
	local kind=$1 delay=$2 seed=$3 rc
	rm -rf log dump && mkdir dump &&
	make_image "$IMG" 160M -t "$kind" -b 4096 &&
	iomapfs_mount "$IMG" "$MNT" &&
	{ $CW write "$MNT" log 30 "$seed" >writer.out 2>&1 & } &&
	wpid=$! &&
	# The clock starts at the first fsync, so that a loaded machine
	# (slow to start python) still kills in the middle of the writes.
	for i in $(seq 1 400); do
		test -s log && break
		sleep 0.05
	done &&
	sleep "$delay" &&
	kill -KILL "$IOMAPFS_PID" &&
	test_expect_code 137 wait "$IOMAPFS_PID" &&
	# the writer fails when its mount dies: its log says what was fsynced
	{ wait $wpid || :; } &&
	cat writer.out &&
	{ fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT"; } &&
	! grep -q " $MNT " /proc/mounts || return 1
	test -s log || { echo "nothing was fsynced in $delay s"; return 1; }
	e2fsck -fy "$IMG" >fsck1.out 2>&1
	rc=$?
	cat fsck1.out
	# 0: clean, 1: errors corrected; anything else is a failure.
	if [ $rc -gt 1 ]; then
		echo "e2fsck -fy exited $rc"
		return 1
	fi
	fsck_clean "$IMG" &&
	debugfs -R "rdump / $TRASH/dump" "$IMG" >/dev/null 2>&1 &&
	$CW verify log dump >verify-dump.out ||
		{ cat verify-dump.out; return 1; }
	cat verify-dump.out &&
	iomapfs_mount "$IMG" "$MNT" &&
	$CW verify log "$MNT" >verify-mount.out ||
		{ cat verify-mount.out; return 1; }
	cat verify-mount.out &&
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG" &&
	test_note "$kind, kill $delay s after the first fsync: $(cat writer.out | head -n 1)," \
		"e2fsck -fy exit $rc ($(grep -c . fsck1.out) lines)," \
		"verified: $(cat verify-dump.out)"
}

# Four rounds in CI; IOMAPFS_CRASH_ROUNDS=N (make abuse-long) adds rounds
# up to N, of both kinds, with delays drawn from their seed.
specs="ext4:1.5:1 ext4:3:2 ext2:2:3 ext4:0.2:4"
for seed in $(seq 5 "${IOMAPFS_CRASH_ROUNDS:-4}"); do
	kind=ext4
	[ $((seed % 3)) -eq 0 ] && kind=ext2
	specs="$specs $kind:$(((seed * 7919) % 40 / 10)).$(((seed * 7919) % 10)):$seed"
done
round=0
for spec in $specs; do
	IFS=: read -r -a spec_a <<<"$spec"
	set -- "${spec_a[@]}"
	round=$((round + 1))
	test_expect_success "round $round: $1, kill -9 $2 s after the first fsync" "
		crash_round $1 $2 $3
	"
	test_show_notes
done

# The promises of iomapfs(8), CRASH SAFETY, one by one.

# kill_daemon: SIGKILL the daemon and drop its mount.
kill_daemon() {
	kill -KILL "$IOMAPFS_PID" &&
	test_expect_code 137 wait "$IOMAPFS_PID" &&
	{ fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT"; }
}

# new_files: files, a directory and a rename, none fsynced yet.
new_files() {
	dd if=/dev/urandom of=data bs=64k count=20 status=none &&
	cp data "$MNT/a" && mkdir "$MNT/d" && echo hi >"$MNT/d/x" &&
	cp data "$MNT/d/y" && mv "$MNT/d/y" "$MNT/d/z"
}

# all_there: the image, its journal replayed, is clean and holds
# new_files' work.
all_there() {
	image_replay "$IMG" &&
	fsck_clean "$IMG" &&
	debugfs -R "dump /a got.a" "$IMG" 2>/dev/null && cmp data got.a &&
	debugfs -R "dump /d/z got.z" "$IMG" 2>/dev/null && cmp data got.z &&
	debugfs -R "cat /d/x" "$IMG" 2>/dev/null | grep -x hi
}

test_expect_success 'fsync of a directory makes everything before it durable' '
	make_image "$IMG" 32M -t ext4 &&
	iomapfs_mount "$IMG" "$MNT" &&
	new_files &&
	python3 -c "import os, sys; os.fsync(os.open(sys.argv[1], os.O_RDONLY))" "$MNT" &&
	kill_daemon &&
	all_there
'

test_expect_success 'fdatasync of one file makes the others durable too' '
	make_image "$IMG" 32M -t ext2 &&
	iomapfs_mount "$IMG" "$MNT" &&
	new_files &&
	echo x >"$MNT/last" &&
	python3 -c "import os, sys; os.fdatasync(os.open(sys.argv[1], os.O_WRONLY))" "$MNT/last" &&
	kill_daemon &&
	all_there
'

test_expect_success 'sync(1) and close(2) are no durability points (as documented)' '
	make_image "$IMG" 32M -t ext2 &&
	iomapfs_mount "$IMG" "$MNT" &&
	new_files &&
	sync -f "$MNT/a" && sync &&
	kill_daemon &&
	# (test_must_fail says why it failed into fsck.out: show it)
	{ test_must_fail e2fsck -fn "$IMG" >fsck.out 2>&1 ||
		{ cat fsck.out && false; }; } &&
	{ e2fsck -fy "$IMG" >fsck-y.out 2>&1 || test $? -le 1; } &&
	fsck_clean "$IMG"
'

test_expect_success 'with the journal, a kill without fsync loses changes, never consistency' '
	make_image "$IMG" 32M -t ext4 &&
	iomapfs_mount "$IMG" "$MNT" -o commit=60 &&
	echo old >"$MNT/old" && sync "$MNT/old" &&
	new_files &&
	sync -f "$MNT/a" && sync &&
	kill_daemon &&
	image_replay "$IMG" &&
	fsck_clean "$IMG" &&
	debugfs -R "cat /old" "$IMG" 2>/dev/null | grep -x old &&
	test_must_fail debugfs -R "stat /d/z" "$IMG" 2>&1 | grep "File not found"
'

test_expect_success 'a clean unmount leaves nothing for e2fsck' '
	make_image "$IMG" 32M -t ext4 &&
	iomapfs_mount "$IMG" "$MNT" &&
	new_files &&
	iomapfs_unmount "$MNT" &&
	all_there
'

test_done
