#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t0000-test-lib.sh - the test library itself: passing and failing tests,
# prerequisites, test_when_finished, test_cmp and the exit-code helpers.
# Each case runs a small script in a sub-shell and checks the TAP it prints.
test_description='test-lib.sh basics'
. "$(dirname "$0")/test-lib.sh"

# run_sub NAME BODY: write a test script using the library and run it.
run_sub() {
	{
		echo "test_description='sub'"
		echo ". '$T_DIR/test-lib.sh'"
		echo "$2"
		echo "test_done"
	} >"$1.sh" &&
	(unset IOMAPFS_TEST_KEEP; bash "$1.sh" >"$1.out" 2>&1)
}

test_expect_success 'a passing test prints ok and the plan' '
	run_sub pass "test_expect_success \"one\" \"true\"" &&
	printf "ok 1 - one\n1..1\n" >expect &&
	test_cmp expect pass.out
'

test_expect_success 'a failing test prints not ok, its body and output, and fails the script' '
	test_must_fail run_sub fail "test_expect_success \"two\" \"echo said-this; false\"" &&
	test_grep "^not ok 1 - two" fail.out &&
	test_grep "said-this" fail.out &&
	test_grep "^1..1" fail.out
'

test_expect_success 'a missing prerequisite skips the test' '
	run_sub skip "test_expect_success NOPE \"three\" \"false\"" &&
	test_grep "^ok 1 # SKIP three (missing NOPE)" skip.out
'

test_expect_success 'negated and set prerequisites' '
	run_sub prereq "test_set_prereq HAVE
test_expect_success HAVE,!NOPE \"four\" \"true\"
test_expect_success !HAVE \"five\" \"false\"" &&
	test_grep "^ok 1 - four" prereq.out &&
	test_grep "^ok 2 # SKIP five" prereq.out
'

test_expect_success 'test_when_finished runs after a failing body' '
	test_must_fail run_sub finish "test_expect_success \"six\" \"test_when_finished \\\"touch $TRASH/cleaned\\\" && false\"" &&
	test -f cleaned
'

test_expect_success 'a daemon log naming an error by number only fails the script' '
	test_must_fail run_sub unknown "test_expect_success \"seven\" \"echo \\\"Unknown code ext2 47 #4337 for block bitmap\\\" >\\\"\\\$TRASH/iomapfs-mnt.log\\\"\"" &&
	test_grep "^ok 1 - seven" unknown.out &&
	test_grep "names an error by number only" unknown.out &&
	run_sub known "test_expect_success \"eight\" \"echo \\\"Illegal block number passed to ext2fs_test_block_bitmap\\\" >\\\"\\\$TRASH/iomapfs-mnt.log\\\"\""
'

test_expect_success 'test_cmp shows a diff' '
	echo a >a && echo b >b &&
	test_must_fail test_cmp a b >diff.out &&
	test_grep "^-a" diff.out && test_grep "^+b" diff.out
'

test_expect_success 'test_expect_code and test_must_fail tell exit codes apart' '
	test_expect_code 3 sh -c "exit 3" &&
	test_must_fail test_expect_code 2 sh -c "exit 3" &&
	test_must_fail test_must_fail true &&
	test_must_fail test_must_fail sh -c "kill -9 \$\$"
'

test_expect_success 'skip_all skips the whole script' '
	run_sub skipall "skip_all no reason at all" &&
	test_grep "^1..0 # SKIP no reason at all" skipall.out
'

test_expect_success 'the scratch directory is removed at the end' '
	run_sub trash "test_expect_success \"seven\" \"echo \\\$TRASH >$TRASH/where\"" &&
	dir=$(cat where) && test -n "$dir" && test ! -e "$dir"
'

test_done
