#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6820-crash-kernel-kill.sh - the kill loop validated against the
# kernel's ext4: t/abuse/metawork.py works in an ext4 mount on a loop
# device, and 0.1 to 3 s after the work began the filesystem is shut down
# where it stands (xfs_io -x -c shutdown, the log flushed first with -f in
# odd rounds), the nearest the kernel has to a kill -9 of a daemon.  Each
# round must pass crashcheck after a replay by the kernel: e2fsck -fn
# clean, the tree one the work could have produced, no marker lost.  A
# failed round is a bug of the kit, not of ext4.  CRASH_ROUNDS and
# CRASH_SEED make it long (make crash).
test_description='kill loop: the kernel ext4 shut down mid-work passes every round'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-crash.sh"

[ -n "${IOMAPFS_SANITIZED_SUITE:-}" ] &&
	skip_all "no iomapfs here: the kernel ext4 validates the kit; not rerun under the sanitizers"

test_have_prereq PYTHON,E2FSPROGS,KEXT4,XFS_IO,SETFACL ||
	skip_all "needs python3, e2fsprogs, xfs_io, setfacl, root and loop devices"

seed=${CRASH_SEED:-1}
for n in $(seq 1 "${CRASH_ROUNDS:-4}"); do
	s=$((seed * 1000 + n))
	test_expect_success "round $n (seed $s): ext4 shut down at $(crash_delay $s) s, replayed by the kernel" "
		test_when_finished crash_cleanup_ &&
		crash_kill_round $n $s kernel kernel
	"
	test_show_notes
done
crash_summary
test_show_notes

test_done
