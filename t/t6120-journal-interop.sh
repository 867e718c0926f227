#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6120-journal-interop.sh - a journal iomapfs wrote, replayed by others.
# Each round mounts a fresh image, runs t/helper/jwork.py (creates,
# renames, unlinks, links, symlinks, xattrs, truncates, fallocate, punch,
# a file open after its unlink, and fsynced markers), kills the daemon
# with SIGKILL after a while, and replays copies of the image three ways:
#  - the kernel (mount -o loop, unmount): e2fsck -fn must find nothing;
#  - iomapfs (read-write mount, unmount): e2fsck -fn must find nothing;
#  - e2fsck -E journal_only: e2fsck -fn may report at most the
#    superblock's free block and inode counts (ext4 never journals them);
# then the three replayed images must hold the same tree (every file's bytes,
# stat and xattrs, through read-only kernel mounts), and every marker
# fsynced before the kill must be there.  IOMAPFS_JOURNAL_ROUNDS=N (make
# crash-long) runs more rounds.  The figures are printed as TAP
# diagnostics.
test_description='a killed daemon: the kernel, e2fsck and iomapfs replay its journal to the same clean tree'
. "$(dirname "$0")/test-lib.sh"

command -v python3 >/dev/null || skip_all "needs python3"
test_have_prereq FUSE,E2FSPROGS || skip_all "needs FUSE and e2fsprogs"
[ "$(id -u)" = 0 ] || skip_all "needs root for loop mounts"

JWORK="python3 $SRC_DIR/t/helper/jwork.py"
IMG=$TRASH/img
MNT=$TRASH/mnt
K=$TRASH/kmnt

mkdir -p "$K"
truncate -s 8M probe.img && mke2fs -q -F -t ext4 probe.img &&
	mount -o loop,ro probe.img "$K" 2>/dev/null && umount "$K" ||
	skip_all "cannot mount a loop device here"

# kmount IMG [opts]: mount IMG on $K with the kernel's ext4.
kmount() {
	mount -t ext4 -o "loop${2:+,$2}" "$1" "$K" || {
		echo "the kernel could not mount $1:"
		dmesg | tail -n 5
		return 1
	}
	test_atexit "umount '$K' 2>/dev/null"
}

# fsck_only_counts IMG: e2fsck -fn finds nothing but the superblock's free
# block and inode counts.
fsck_only_counts() {
	e2fsck -fn "$1" >fsck.out 2>&1 && return 0
	if grep -v -E "^(e2fsck [0-9.]+ \(|Pass [1-5]:|Free (blocks|inodes) count wrong \([0-9]+, counted=[0-9]+\)\.$|Fix\? no$|$|$1: ).*" fsck.out |
		grep -q .; then
		echo "e2fsck -fn found more than the free counts:"
		cat fsck.out
		return 1
	fi
}

# jo_only IMG: e2fsck -E journal_only replays IMG's journal; exit 1 (it
# changed the image) is success too, as in image_replayed.
jo_only() {
	local rc=0
	e2fsck -y -E journal_only "$1" >jo.out 2>&1 || rc=$?
	[ "$rc" -le 1 ] && return 0
	echo "e2fsck -E journal_only $1 exited $rc:"
	cat jo.out
	return 1
}

# under_empty: nothing of the work went into the directory under the
# dropped mount $MNT (there its fsyncs succeed and its log lies).
under_empty() {
	local left
	left=$(ls -A "$MNT") || return 1
	[ -z "$left" ] && return 0
	echo "the work went on in $MNT under the dropped mount:" \
		"$(echo "$left" | tr '\n' ' ')"
	return 1
}

# round KIND BS SEED DELAY [mke2fs options]: see the top of the file.
round() {
	local kind=$1 bs=$2 seed=$3 delay=$4 work_pid txns
	shift 4
	rm -f log k.img e.img i.img &&
	make_image "$IMG" 128M -t "$kind" -b "$bs" "$@" &&
	iomapfs_mount "$IMG" "$MNT" -o commit=1 &&
	{ $JWORK run "$MNT" log "$seed" 60 >work.out 2>&1 & } &&
	work_pid=$! &&
	sleep "$delay" &&
	iomapfs_kill9 "$MNT" "$work_pid" &&
	under_empty &&
	txns=$(debugfs -R logdump "$IMG" 2>/dev/null |
		{ grep -c "type 2 (commit block)" || true; }) &&
	cp --sparse=always "$IMG" k.img && cp --sparse=always "$IMG" e.img &&
	cp --sparse=always "$IMG" i.img &&
	kmount k.img && umount "$K" &&
	fsck_clean k.img &&
	iomapfs_mount i.img "$MNT" && iomapfs_unmount "$MNT" &&
	fsck_clean i.img &&
	jo_only e.img &&
	fsck_only_counts e.img &&
	kmount k.img ro && $JWORK tree "$K" >k.tree && umount "$K" &&
	kmount e.img ro && $JWORK tree "$K" >e.tree &&
	{ $JWORK markers "$K" log >markers.out || {
		echo "jwork markers: a fsynced marker is not as the log says:"
		cat markers.out
		false
	}; } &&
	umount "$K" &&
	kmount i.img ro && $JWORK tree "$K" >i.tree && umount "$K" &&
	test_cmp k.tree e.tree &&
	test_cmp k.tree i.tree &&
	test_note "$kind ${bs}: kill after $delay s: $(grep -c '^D' log) marker" \
		"fsyncs, $txns transactions in the log; the kernel, e2fsck and iomapfs" \
		"agree on $(wc -l <k.tree) entries; $(cat markers.out)"
}

# The work must not outlive its mount, whatever the order of the kill and
# the unmount: jwork, stopped between two steps (its 3rd D line) while the
# daemon is killed and the mount dropped (the order t6120 had, which let it
# go on under the mount and fail round 4 on a loaded machine), then let go,
# must stop at its next step, log no D line more, leave nothing in the
# directory underneath, and the replayed image must hold every marker it
# logged.
test_expect_success 'the work stops with its daemon, even once its mount is gone' '
	rm -f log &&
	make_image "$IMG" 64M -t ext4 &&
	iomapfs_mount "$IMG" "$MNT" -o commit=1 &&
	{ JWORK_STOP_AFTER=3 $JWORK run "$MNT" log 9 60 >work.out 2>&1 & } &&
	work_pid=$! &&
	test_when_finished "grep -qs jwork /proc/$work_pid/cmdline &&
		kill -KILL $work_pid; true" &&
	for i in $(seq 1 600); do
		[ "$(cut -d" " -f3 "/proc/$work_pid/stat")" = T ] && break
		sleep 0.05
	done &&
	before=$(grep -c "^D" log) &&
	test_eq 3 "$before" "D lines at the stop" &&
	iomapfs_kill9 "$MNT" &&
	kill -CONT "$work_pid" &&
	{ wait "$work_pid" || true; } &&
	after=$(grep -c "^D" log) &&
	{ [ "$after" = "$before" ] || {
		echo "$before D lines before the kill, $after after it:"
		tail -n 4 log
		false
	}; } &&
	under_empty &&
	kmount "$IMG" &&
	{ $JWORK markers "$K" log >markers.out || {
		echo "jwork markers: a fsynced marker is not as the log says:"
		cat markers.out
		false
	}; } &&
	umount "$K"
'

specs="ext4:4096:1:2.5 ext4:1024:2:1.5 ext3:4096:3:2 ext4:4096:4:0.7:-O:^metadata_csum,^64bit"
for seed in $(seq 5 "${IOMAPFS_JOURNAL_ROUNDS:-4}"); do
	kinds=(ext4 ext4 ext3)
	bss=(4096 1024 4096)
	k=$((seed % 3))
	specs="$specs ${kinds[$k]}:${bss[$k]}:$seed:$(((seed * 7919) % 30 / 10)).$(((seed * 31) % 10))"
done
n=0
for spec in $specs; do
	IFS=: read -r -a a <<<"$spec"
	n=$((n + 1))
	test_expect_success "round $n: ${a[0]} ${a[1]}, kill -9 after ${a[3]} s, replayed three ways" "
		round ${a[*]}
	"
	test_show_notes
done

test_done
