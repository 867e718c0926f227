#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t9990-sanitized-suite.sh - the whole test suite again, against a build
# made with --enable-sanitizers (ASan, LeakSanitizer and UBSan; the build
# is shared with t0990, see lib-sanitizer.sh).  Every other script runs in
# a nested prove with IOMAPFS_BUILD_DIR pointing at that build; a sanitizer
# report is fatal in every program (exit code 86), and one in a daemon's
# log fails the script that ran the daemon (test-lib.sh checks the logs at
# unmount and at exit).  The nested prove's summary is printed as TAP
# comments; this script passes only when the nested run passes.
test_description='the whole suite under ASan and UBSan'
. "$(dirname "$0")/test-lib.sh"

[ -n "${IOMAPFS_SANITIZED_SUITE:-}" ] &&
	skip_all "already inside the sanitized suite"
command -v prove >/dev/null || skip_all "needs prove"
. "$(dirname "$0")/lib-sanitizer.sh"

# Not run again under the sanitizers:
# - t0990: runs the unit tests of this same build already;
# - t9990 (this script) and t9991 (valgrind, which cannot run a sanitizer
#   build: it skips itself there);
# - t3010: valgrind again (it skips itself on a sanitizer build);
# - t3020: builds its own ThreadSanitizer binary from the sources, whatever
#   the build directory, so a second run would test exactly the same thing;
# - the hardening scripts of issue 6 that are long or make their own
#   sanitizer builds: t1100 (corrupted images, already run against
#   their own ASan build), t3300/t3310/t3320 (timed stress runs: a second
#   run would double their time in a CI budget of 15 min), t1200 (kill -9
#   in rounds of heavy writes: long, and a killed daemon never reaches
#   LeakSanitizer) and t4200 (10,000 hostile messages with 2 s latency
#   bounds: long, and ASan's slowdown would make the bounds flaky; the
#   same methods run here under t4100 and t4110), t0960-fuzz (it builds
#   its own clang ASan+UBSan+libFuzzer copy and fuzzes for minutes).
# A script that is too long for a second run can also skip itself here:
# the nested run sets IOMAPFS_SANITIZED_SUITE=1.
SAN_EXCLUDE='t0990-sanitizers t9990-sanitized-suite t9991-valgrind
	t3010-cache-valgrind t3020-cache-tsan
	t1100-corrupt-images
	t3300-stress-control t3310-stress-tiny-budget t3320-cookie-race
	t1200-crash-kill9 t4200-ctl-live-abuse t0960-fuzz'

scripts=
for s in "$SRC_DIR"/t/t[0-9]*.sh; do
	name=$(basename "$s" .sh)
	case " $(echo $SAN_EXCLUDE) " in
	*" $name "*) continue ;;
	esac
	scripts="$scripts $s"
done

test_expect_success 'test-lib.sh fails a script whose daemon log has a report' '
	cat >fake.sh <<-EOF &&
	test_description="a daemon log with a sanitizer report"
	. "$SRC_DIR/t/test-lib.sh"
	test_expect_success "the daemon logged" "
		echo ==1==ERROR: AddressSanitizer: heap-use-after-free >iomapfs-m.log
	"
	test_done
	EOF
	test_expect_code 1 bash fake.sh >fake.out 2>&1 &&
	test_grep -q "^# failed: a sanitizer reported an error in the daemon" fake.out
'

test_expect_success 'build a copy of the tree with --enable-sanitizers' '
	sanitizer_build
'

test_expect_success 'the suite passes against the sanitizer build' '
	test -n "$scripts" &&
	test -f "$SAN_BUILD/.build-ok" &&
	rc=0 &&
	{ IOMAPFS_BUILD_DIR=$SAN_BUILD IOMAPFS_SANITIZED_SUITE=1 \
		prove --exec=bash --timer $scripts >prove.out 2>&1 || rc=$?; } &&
	# The nested summary (and the output of any failed test) goes to
	# this script'"'"'s TAP as comments.
	sed "s/^/# /" prove.out >&3 &&
	# A non-verbose prove (CI) hides those comments: on failure the
	# failed scripts'"'"' output and the summary go to stderr too, which
	# the failure report shows.
	{ test "$rc" = 0 || grep -v " ok *[0-9]* ms" prove.out >&2; } &&
	test_eq 0 "$rc" "exit code of the nested prove"
' 3>&1

test_expect_success 'the nested run ran every script' '
	n=$(echo $scripts | wc -w) &&
	test_grep -q "^Files=$n," prove.out
'

test_done
