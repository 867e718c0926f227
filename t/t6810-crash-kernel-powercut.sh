#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6810-crash-kernel-powercut.sh - the power-cut check validated against
# the kernel's ext4, a journalling filesystem known to be correct: ext4 on
# a loop device over t/helper/logdev's file runs t/abuse/metawork.py, and
# every state t/abuse/logreplay.py rebuilds from the log (flush points,
# and random subsets of the writes after one) must pass crashcheck:
# replay by the kernel's mount, e2fsck -fn clean, the tree one the work
# could have produced, every marker durable at the cut intact.  A state
# that fails here is a bug of the kit, not of ext4.  CRASH_SECONDS,
# CRASH_STATES, CRASH_FLUSH_POINTS and CRASH_SEED make it long (make crash).
test_description='power cut: the kernel ext4 passes every rebuilt state'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-crash.sh"

[ -n "${IOMAPFS_SANITIZED_SUITE:-}" ] &&
	skip_all "no iomapfs here: the kernel ext4 validates the kit; not rerun under the sanitizers"

test_have_prereq PYTHON,E2FSPROGS,LOGDEV,KEXT4,SETFACL ||
	skip_all "needs python3, e2fsprogs, setfacl, t/helper/logdev, root and loop devices"
[ -c /dev/fuse ] || skip_all "needs FUSE"

seed=${CRASH_SEED:-1}
test_expect_success "ext4 on logdev, seed $seed: every flush point and random state replays clean" "
	test_when_finished crash_cleanup_ &&
	crash_powercut pc $seed kernel kernel ${CRASH_SECONDS:-2} \
		\"$(crash_flush_points 8)\" ${CRASH_STATES:-8}
"
test_show_notes

test_done
