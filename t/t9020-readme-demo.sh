#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t9020-readme-demo.sh - the README's demo (make demo, t/demo) runs to its
# end and shows what the README says it shows: the iomap cache through
# iomapctl, then a journal the kernel left, listed by
# "iomapctl --image IMG journal" and replayed by iomapfs at mount (issue
# 12: the demo shows a replay), the kernel's changes served after it and
# e2fsck clean.  The demo runs with TMPDIR in the scratch directory, so
# that test-lib's check of the runtime directory covers its mounts too.
test_description='the README demo runs and shows a journal replay'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq FUSE,ROOT,E2FSPROGS || skip_all "needs FUSE, root and e2fsprogs"
[ -x "$IOMAPCTL" ] || skip_all "iomapctl is not built"

test_expect_success 'the demo runs to its end' '
	mkdir tmp &&
	TMPDIR=$TRASH/tmp timeout 300 bash "$SRC_DIR/t/demo" "$BUILD_DIR" \
		>demo.out 2>&1 || {
		echo "t/demo failed (exit $?):"
		tail -n 40 demo.out
		false
	} &&
	test_eq "demo: done" "$(tail -n 1 demo.out)" "the last line" &&
	test_grep "^\$ iomapctl .*status" demo.out &&
	test_eq "" "$(ls tmp)" "what the demo left in its TMPDIR"
'

# The demo's kernel part needs an ext4 loop mount; where there is none it
# says so and stops early.
if grep -q "^== (the kernel cannot mount an ext4 image here" demo.out 2>/dev/null; then
	say "the kernel cannot mount ext4 here: no journal part to check"
else
	test_set_prereq KERNEL_DEMO
fi

test_expect_success KERNEL_DEMO 'the demo lists the journal the kernel left' '
	test_grep "^Filesystem features:.*needs_recovery" demo.out &&
	test_grep "^\$ iomapctl --image \$DEMO/crash.img journal" demo.out &&
	test_grep "^SEQ *LOG TYPE *HOME WHAT *CSUM REPLAY" demo.out &&
	test_grep " commit  *- [0-9-]*T[0-9:.]*Z  *good" demo.out &&
	test_grep " data  *[0-9]* .* good written" demo.out
'

test_expect_success KERNEL_DEMO 'the demo shows iomapfs replaying it, then the changes' '
	test_grep "^iomapfs: \$DEMO/crash.img: replayed [1-9][0-9]* transactions\? (.*) to the device" \
		demo.out &&
	test_grep "^dear reader$" demo.out &&
	sed -n "/^\$ ls -R/,/^\$ cat/p" demo.out >ls.out &&
	test_grep "^second$" ls.out &&
	sed -n "/^\$ e2fsck -fn \$DEMO\/crash.img/,\$p" demo.out >fsck.out &&
	test_grep "crash.img: [0-9]*/[0-9]* files" fsck.out
'

test_done
