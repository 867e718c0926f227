#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6150-journal-faults.sh - EIO on the journal's blocks (issue 13,
# faults): iomapfs serves an image that t/helper/logdev serves, and from
# some instant on logdev fails every write that touches the journal.  The
# fsync whose commit cannot be written fails with EIO, and so does every
# later fsync: no success is ever reported for a commit that did not
# happen.  Then the errors= policy: with continue and remount-ro the
# mount turns read-only (nothing can commit any more), with panic the
# daemon stops.  What committed before the fault is what the next mount
# finds, after its replay, with e2fsck -fn clean.
test_description='EIO on the journal: the commit fails, the errors= policy applies'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-crash.sh"

test_have_prereq FUSE,E2FSPROGS,LOGDEV ||
	skip_all "needs FUSE, e2fsprogs and t/helper/logdev"

DEV=$TRASH/dev
MNT=$TRASH/mnt

# journal_fail IMG: from now on, logdev fails every write to IMG's journal.
journal_fail() {
	local r
	for r in $(crash_journal_ranges "$1"); do
		echo "fail ${r%,*} ${r#*,} 1" >"$DEV/ctl" || return 1
	done
	grep -q "^fail_ranges [1-9]" "$DEV/ctl" || {
		echo "logdev took no fault range:"
		cat "$DEV/ctl"
		return 1
	}
}

# fault_round ERRORS: see the top of the file.
fault_round() {
	local errors=$1 dir=$TRASH/$1
	rm -rf "$dir" && mkdir -p "$dir" &&
	crash_image "$dir/img" &&
	crash_logdev_up "$dir/img" "$dir/dev.log" "$DEV" &&
	iomapfs_mount "$DEV/disk" "$MNT" -o "errors=$errors,commit=600" &&
	echo before >"$MNT/before" && sync "$MNT/before" &&
	journal_fail "$dir/img" &&
	echo after >"$MNT/after" &&
	test_must_fail sync "$MNT/after" 2>err &&
	grep -q "^failed [1-9]" "$DEV/ctl" || {
		echo "no write to the journal failed; logdev says:"
		cat "$DEV/ctl"
		return 1
	}
	if [ "$errors" = panic ]; then
		for _ in $(seq 1 100); do
			kill -0 "$IOMAPFS_PID" 2>/dev/null || break
			sleep 0.05
		done &&
		! kill -0 "$IOMAPFS_PID" 2>/dev/null &&
		{ wait "$IOMAPFS_PID" || true; } &&
		{ fusermount3 -u -z "$MNT" 2>/dev/null || true; }
	else
		test_grep "Input/output error" err &&
		test_must_fail sync "$MNT/before" 2>err &&
		test_grep "Input/output error" err &&
		test_must_fail touch "$MNT/new" 2>err &&
		test_grep "Read-only file system" err &&
		test_eq before "$(cat "$MNT/before")" "the file fsynced before" &&
		{ iomapfs_unmount "$MNT" || true; }
	fi &&
	echo "fail off" >"$DEV/ctl" &&
	crash_logdev_down "$DEV" &&
	iomapfs_mount "$dir/img" "$MNT" &&
	test_eq before "$(cat "$MNT/before")" "the file fsynced before, replayed" &&
	iomapfs_unmount "$MNT" &&
	fsck_clean "$dir/img"
}

for errors in continue remount-ro panic; do
	test_expect_success "errors=$errors: EIO on the journal fails the fsync, and every later one" "
		test_when_finished crash_cleanup_ &&
		fault_round $errors
	"
done

test_done
