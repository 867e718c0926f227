#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6830-crash-iomapfs-kill.sh - the kill loop against iomapfs (issue 13):
# t/abuse/metawork.py works in a mount, and 0.1 to 3 s after the work
# began the daemon is killed with SIGKILL.  After each round the image
# must replay (by iomapfs's read-write mount and unmount; by the kernel's
# mount in every third round), e2fsck -fn must find nothing, and the tree
# must be one the work could have produced with every durable marker
# intact (t/abuse/crashcheck).  The journal (daemon/journal.c) is what
# makes every round pass: without it (-o journal=off) a killed daemon
# leaves an image that needs e2fsck.  All rounds are one test, so that a round that passes by luck (a kill at an instant
# when the image happened to be consistent) cannot flip it alone; each
# round's result is a note.  CRASH_ROUNDS and CRASH_SEED make it long
# (make crash).
test_description='kill loop: iomapfs killed mid-work replays clean'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-crash.sh"

[ -n "${IOMAPFS_SANITIZED_SUITE:-}" ] &&
	skip_all "long, and a killed daemon never reaches LeakSanitizer (as t1200); not rerun under the sanitizers"

test_have_prereq FUSE,PYTHON,E2FSPROGS,KEXT4,SETFACL ||
	skip_all "needs FUSE, python3, e2fsprogs, setfacl, root and loop devices"

rounds=${CRASH_ROUNDS:-4}
seed=${CRASH_SEED:-1}
test_expect_success "$rounds rounds of kill -9 mid-work (seed $seed): each replays clean" "
	test_when_finished crash_cleanup_ &&
	crash_kill_loop $rounds $seed
"
test_show_notes

test_done
