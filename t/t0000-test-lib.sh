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

test_expect_success 'test_wait_all waits for every job, and fails when one failed' '
	{ (exit 3) & } && p1=$! &&
	{ sleep 0.3 && touch late & } && p2=$! &&
	test_must_fail test_wait_all $p1 $p2 >out &&
	test -f late &&
	test_grep "job $p1 exited 3" out &&
	! grep "job $p2" out &&
	{ true & } && p3=$! &&
	test_wait_all $p3
'

test_expect_success 'test_wait_for tries again until CMD succeeds, or fails at its bound' '
	{ sleep 0.3 && touch soon & } &&
	test_wait_for 10 "test -f soon" &&
	test_must_fail test_wait_for 1 "echo tried && test -f never" >out &&
	test_grep "^tried$" out &&
	test_grep "did not succeed within 1 s" out
'

# The chain lint (lib-chainlint.sh).  A body it rejects is reported as a
# failed test, with ?!AMP?! or ?!LOOP?! where a status is lost, and is not
# run: the bodies below would make the file "ran" if they were.
# lint_rejects NAME BODY MARK
lint_rejects() {
	printf '%s\n' "$2" >"$1.body" &&
	test_must_fail run_sub "$1" \
		"test_expect_success \"linted\" \"\$(cat '$TRASH/$1.body')\"" &&
	test_grep "^not ok 1 - linted" "$1.out" &&
	test_grep "broken &&-chain" "$1.out" &&
	test_grep "?!$3?!" "$1.out" &&
	test_grep "^1..1" "$1.out" &&
	test ! -e ran
}

test_expect_success 'chain lint: a command not joined by && fails the test, unrun' '
	lint_rejects amp "	touch ran &&
	false
	true" AMP
'

test_expect_success 'chain lint: a ; throws a status away as a newline does' '
	lint_rejects semi "	touch ran && false; true" AMP
'

# "$?" after "a && b" is b's status, or a's when a failed: "a && b; test
# $? -le 1" passed when a failed with 1 (t1200 did, before issue 11).  Only
# a lone command may be read by "$?" without "&&".
test_expect_success 'chain lint: $? after an && list or a pipe is no check' '
	lint_rejects andor "	touch ran && false && true; test \$? -le 1" AMP &&
	lint_rejects pipe "	touch ran && false | cat
	test \$? -eq 0" AMP
'

test_expect_success 'chain lint: breaks inside ( ), { }, if, else, case and loops' '
	lint_rejects sub "	touch ran && (cd . && false
	true)" AMP &&
	lint_rejects group "	touch ran && { false; true; }" AMP &&
	lint_rejects if "	touch ran && if true; then false; true; fi" AMP &&
	lint_rejects else "	touch ran && if false; then :; else false
	true; fi" AMP &&
	lint_rejects case "	touch ran && case x in x) false; true ;; esac" AMP &&
	lint_rejects loop "	touch ran &&
	for i in 1 2; do false; true || return 1; done" AMP
'

test_expect_success 'chain lint: a loop must fail on a failing pass' '
	lint_rejects for "	touch ran && for i in 1 2; do test \$i = 2; done" LOOP &&
	lint_rejects while "	touch ran && while false; do :; done" LOOP
'

test_expect_success 'chain lint: a test skipped for a prerequisite is linted too' '
	test_must_fail run_sub skipped \
		"test_expect_success NOPE \"linted\" \"false; true\"" &&
	test_grep "^not ok 1 - linted" skipped.out &&
	test_grep "?!AMP?!" skipped.out
'

test_expect_success 'chain lint: a body that does not parse is reported' '
	test_must_fail run_sub noparse \
		"test_expect_success \"linted\" \"if true; then\"" &&
	test_grep "^not ok 1 - linted" noparse.out &&
	test_grep "does not parse" noparse.out
'

# Everything in this body is allowed without "&&"; it must pass, and run.
cat >lint-ok.body <<'BODY'
	# a comment; with a semicolon
	test_when_finished "rm -f gone"
	sleep 0 &
	pid=$! &&
	{
		wait $pid
		test $? -eq 0
	} &&
	: >ran &&
	cat >doc <<-EOF &&
	a here-doc; its lines
	are not commands
	EOF
	cat >doc2 <<\EOF &&
unindented; quoted
EOF
	x=$(echo a; echo b) &&
	{ test -n "$x" && echo "grouped"; } &&
	(cd . && test -f doc) &&
	if test -f doc; then
		echo then
	elif test -f nope; then
		echo elif
	else
		echo else
	fi &&
	case $x in
	a*) echo "a case" ;;
	*) echo other ;;
	esac &&
	for i in 1 2; do
		test -f doc || return 1
		test -f doc2 || return 1
	done &&
	i=0 &&
	while test $i -lt 3; do
		i=$((i + 1)) || return 1
	done &&
	for i in 1 2 3; do
		test $i -lt 2 || break
	done &&
	test -f doc || {
		echo "no doc"
		false
	} &&
	test -s doc || {
		echo "empty doc"
		return 1
	} &&
	grep "here-doc; its" doc | cat &&
	printf "%s\n" "multi
line; string" >ml &&
	test_eq 2 "$(wc -l <ml)"
BODY

test_expect_success 'chain lint: comments, here-docs, quotes, groups, if, case, loops with || return 1, test_when_finished and $? pass' '
	run_sub lintok \
		"test_expect_success \"linted\" \"\$(cat '"'$TRASH'"'/lint-ok.body)\"" &&
	test_grep "^ok 1 - linted" lintok.out
'

test_expect_success 'the scratch directory is removed at the end' '
	run_sub trash "test_expect_success \"seven\" \"echo \\\$TRASH >$TRASH/where\"" &&
	dir=$(cat where) && test -n "$dir" && test ! -e "$dir"
'

test_done
