#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6840-crash-iomapfs-powercut.sh - the power cut against iomapfs (issue
# 13): iomapfs serves an image that t/helper/logdev serves and logs, while
# t/abuse/metawork.py works in the mount; every state t/abuse/logreplay.py
# rebuilds from the log (flush points, and random subsets of the writes
# after one) must replay by iomapfs's mount and unmount, pass e2fsck -fn,
# and hold a tree the work could have produced with every marker durable
# at the cut intact; a second run replays each state by the kernel.
# The journal's ordering (daemon/journal.c: R1 to R5) is what makes every
# state pass.  Both runs are one test (a run whose
# few states pass by luck cannot flip it alone); each gives a note.
# CRASH_SECONDS, CRASH_STATES, CRASH_FLUSH_POINTS and CRASH_SEED make it
# long (make crash).
test_description='power cut: iomapfs replays every rebuilt state clean'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-crash.sh"

[ -n "${IOMAPFS_SANITIZED_SUITE:-}" ] &&
	skip_all "long (hundreds of replay mounts); not rerun under the sanitizers"

test_have_prereq FUSE,PYTHON,E2FSPROGS,LOGDEV,KEXT4,SETFACL ||
	skip_all "needs FUSE, python3, e2fsprogs, setfacl, t/helper/logdev, root and loop devices"

seed=${CRASH_SEED:-1}
test_expect_success "iomapfs on logdev (seeds $seed, $((seed + 1))): every state replays clean, by iomapfs and by the kernel" "
	test_when_finished crash_cleanup_ &&
	rc=0 &&
	{ crash_powercut pc-iomapfs $seed iomapfs iomapfs ${CRASH_SECONDS:-2} \
		\"$(crash_flush_points 6)\" ${CRASH_STATES:-6} || rc=1; } &&
	crash_cleanup_ &&
	{ crash_powercut pc-kernel $((seed + 1)) iomapfs kernel ${CRASH_SECONDS:-2} \
		\"$(crash_flush_points 4)\" ${CRASH_STATES:-4} || rc=1; } &&
	test \$rc -eq 0
"
test_show_notes

test_done
