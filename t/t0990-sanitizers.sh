#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t0990-sanitizers.sh - build a copy of the tree with --enable-sanitizers
# (AddressSanitizer + UndefinedBehaviorSanitizer) and run every C unit test
# under it.  A sanitizer report makes the unit test exit non-zero.  The
# build is shared with t9990, which runs the whole suite in it (see
# lib-sanitizer.sh).
test_description='unit tests under ASan and UBSan'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-sanitizer.sh"

test_expect_success 'build a copy of the tree with --enable-sanitizers' '
	sanitizer_build
'

copy=$SAN_BUILD
units=$(cd "$copy/t/unit" 2>/dev/null && ls test-* 2>/dev/null | grep -v "\.[cho]$")
for u in $units; do
	test_expect_success "$u is clean under the sanitizers" "
		\"$copy/t/unit/$u\" >$u.out 2>&1 ||
		{ echo \"$u failed (exit \$?); its last lines:\"; tail -n 40 $u.out; false; }
	"
done

test_expect_success 'at least one unit test ran' '
	test -n "$units"
'

test_done
