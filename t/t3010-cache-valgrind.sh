#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t3010-cache-valgrind.sh - the cache's unit tests (a short stress run)
# under valgrind memcheck: no invalid access, no use of uninitialised
# memory, and no leak of any kind.  Skipped without valgrind, and for a
# sanitizer build, which valgrind cannot run.
test_description='iomap cache unit tests under valgrind memcheck'
. "$(dirname "$0")/test-lib.sh"

bin=$UNIT_DIR/test-cache
if [ ! -x "$bin" ]; then
	echo "Bail out! $bin is not built (run make)"
	exit 1
fi
command -v valgrind >/dev/null && test_set_prereq VALGRIND
if nm "$bin" 2>/dev/null | grep -q __asan_init ||
	ldd "$bin" 2>/dev/null | grep -q libasan; then
	skip_all "$bin is built with sanitizers"
fi

test_expect_success VALGRIND 'unit tests pass under memcheck' '
	rc=0 &&
	{ valgrind -q --error-exitcode=99 --leak-check=full \
		--show-leak-kinds=all --errors-for-leak-kinds=all \
		--log-file=vg.log "$bin" --quick >out 2>&1 || rc=$?; } &&
	cat vg.log &&
	sed -n "/^not ok/p" out &&
	test_eq 0 "$rc" "exit code of test-cache under valgrind"
'

test_expect_success VALGRIND 'memcheck reported nothing' '
	test_must_fail test -s vg.log || { cat vg.log; false; }
'

test_expect_success VALGRIND 'every check of the unit test ran' '
	test_grep -q "^1\.\.[0-9][0-9]*$" out &&
	test_must_fail grep -q "^not ok" out
'

test_done
