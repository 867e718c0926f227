#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t9990-sanitized-suite.sh - the test suite again (a sample of it; every
# script with "make sanitized"), against a build made with
# --enable-sanitizers (ASan, LeakSanitizer and UBSan; the build
# is shared with t0990, see lib-sanitizer.sh).  Every other script runs in
# a nested prove with IOMAPFS_BUILD_DIR pointing at that build; a sanitizer
# report is fatal in every program (exit code 86), and one in a daemon's
# log fails the script that ran the daemon (test-lib.sh checks the logs at
# unmount and at exit).  The nested prove's summary is printed as TAP
# comments; this script passes only when the nested run passes.
test_description='the suite (a sample, or all with make sanitized) under ASan and UBSan'
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

# The suite (prove -r t/) runs a sample of the scripts under the sanitizers,
# so that it stays within its 20 minutes on a 2-core machine: the ones that
# drive the most daemon and CLI code per second (every FUSE operation, the
# data path and fsx, the journal's mount, commit and replay, the control
# methods and their abuse, the CLI on images and on a live mount).  "make
# sanitized" (IOMAPFS_SANITIZED_FULL=1) runs every script but the excluded.
SAN_SAMPLE='t1000-lifecycle t1050-remount t2000-names t2010-attributes
	t2020-xattrs t2200-data-integrity t2220-fallocate-seek t2225-fsx
	t4100-ctl-methods t4110-ctl-abuse t5010-cli-image
	t6030-replay-damaged t6050-replay-refusals t6110-journal-mount
	t6130-journal-rules'

scripts=
for s in "$SRC_DIR"/t/t[0-9]*.sh; do
	name=$(basename "$s" .sh)
	case " $(echo $SAN_EXCLUDE) " in
	*" $name "*) continue ;;
	esac
	if [ -z "${IOMAPFS_SANITIZED_FULL:-}" ]; then
		case " $(echo $SAN_SAMPLE) " in
		*" $name "*) ;;
		*) continue ;;
		esac
	fi
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

test_expect_success 'every script of the sample exists' '
	for name in $SAN_SAMPLE; do
		test -f "$SRC_DIR/t/$name.sh" || {
			echo "the sample names $name, which is no script in t/"
			return 1
		}
	done
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
