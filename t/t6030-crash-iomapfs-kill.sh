#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6030-crash-iomapfs-kill.sh - the kill loop against iomapfs (issue 13):
# t/abuse/metawork.py works in a mount, and 0.1 to 3 s after the work
# began the daemon is killed with SIGKILL.  After each round the image
# must replay (by iomapfs's read-write mount and unmount; by the kernel's
# mount in every third round), e2fsck -fn must find nothing, and the tree
# must be one the work could have produced with every durable marker
# intact (t/abuse/crashcheck.sh).  Today iomapfs writes metadata in place
# and refuses to mount an image that was not cleanly unmounted: these are
# known breakage until the journal lands (then test_expect_success).
# CRASH_ROUNDS and CRASH_SEED make it long (make crash).
test_description='kill loop: iomapfs killed mid-work replays clean'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-crash.sh"

test_have_prereq FUSE,PYTHON,E2FSPROGS,KEXT4,SETFACL ||
	skip_all "needs FUSE, python3, e2fsprogs, setfacl, root and loop devices"

seed=${CRASH_SEED:-1}
for n in $(seq 1 "${CRASH_ROUNDS:-4}"); do
	s=$((seed * 1000 + n))
	replay=iomapfs
	[ $((n % 3)) -eq 0 ] && replay=kernel
	test_expect_failure "round $n (seed $s): kill -9 at $(crash_delay $s) s, replayed by $replay" "
		test_when_finished crash_cleanup_ &&
		crash_kill_round $n $s iomapfs $replay
	"
	test_show_notes
done
crash_summary
test_show_notes

test_done
