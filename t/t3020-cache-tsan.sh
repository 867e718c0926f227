#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t3020-cache-tsan.sh - builds the cache's unit tests with ThreadSanitizer
# (the cache, the range map and the iomap names compiled straight from the
# source tree) and runs them, stress test included: any data race or lock
# order inversion fails.  Skipped when the compiler cannot build and run a
# ThreadSanitizer program.
test_description='iomap cache unit tests under ThreadSanitizer'
. "$(dirname "$0")/test-lib.sh"

CC=${CC:-cc}
cat >probe.c <<'PROBE'
#include <pthread.h>
static void *f(void *a) { return a; }
int main(void)
{
	pthread_t t;

	return pthread_create(&t, 0, f, 0) || pthread_join(t, 0);
}
PROBE
if [ -f "$BUILD_DIR/config.h" ] &&
	$CC -fsanitize=thread -pthread probe.c -o probe >/dev/null 2>&1 &&
	./probe >/dev/null 2>&1; then
	test_set_prereq TSAN
fi

test_expect_success TSAN 'build the unit tests with -fsanitize=thread' '
	$CC -std=gnu11 -O1 -g -fsanitize=thread -pthread \
		-I"$BUILD_DIR" -I"$SRC_DIR/shared" -I"$SRC_DIR/daemon" \
		-I"$SRC_DIR/t/unit" \
		"$SRC_DIR/t/unit/test-cache.c" "$SRC_DIR/daemon/cache.c" \
		"$SRC_DIR/shared/rangemap.c" "$SRC_DIR/shared/iomap.c" \
		-o test-cache-tsan
'

test_expect_success TSAN 'unit tests and the stress test are race-free' '
	rc=0 &&
	{ TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
		./test-cache-tsan >out 2>err || rc=$?; } &&
	cat err &&
	sed -n "/^not ok/p" out &&
	test_eq 0 "$rc" "exit code of test-cache under ThreadSanitizer" &&
	test_must_fail grep -q ThreadSanitizer err
'

test_done
