#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t0900-fsbench-usage.sh - the benchmark harness t/bench/fsbench documents
# itself and rejects bad command lines with a usage error (exit 2) before it
# touches anything.  No benchmark runs here: every case below must end in
# option parsing, so none needs root, fio or a mount.
test_description='fsbench --help and usage errors'
. "$(dirname "$0")/test-lib.sh"

FSBENCH=$SRC_DIR/t/bench/fsbench

test_expect_success 'fsbench is there and is valid bash' '
	test -f "$FSBENCH" &&
	bash -n "$FSBENCH"
'

test_expect_success '--help prints the usage on stdout and exits 0' '
	bash "$FSBENCH" --help >out 2>err &&
	test_grep "^Usage: fsbench" out &&
	test_eq "" "$(cat err)" "stderr of --help"
'

test_expect_success '-h is --help' '
	bash "$FSBENCH" -h >out2 &&
	bash "$FSBENCH" --help >out &&
	test_cmp out out2
'

test_expect_success '--help names every option, job and system' '
	bash "$FSBENCH" --help >out &&
	for w in --quick --jobs --systems --size --runs --runtime --disk \
		--build --json --verbose --help \
		seqread seqwrite randread1 randread4 randwrite1 randwrite4 \
		append meta frag iomapfs iomapfs-nocache fuse2fs kernel; do
		test_grep -q -e "$w" out || return 1
	done
'

# usage_error WHAT ARGS...: fsbench ARGS must exit 2 and say WHAT on
# stderr, with a pointer to --help, and print nothing on stdout.
usage_error() {
	local what=$1
	shift
	test_expect_code 2 bash "$FSBENCH" "$@" >out 2>err &&
	test_grep -q -e "$what" err &&
	test_grep -q -e "--help" err &&
	test_eq "" "$(cat out)" "stdout"
}

test_expect_success 'an unknown option is a usage error' '
	usage_error "unknown option .--no-such-option." --no-such-option
'

test_expect_success 'an unknown short option is a usage error' '
	usage_error "unknown option .-x." -x
'

test_expect_success 'a stray argument is a usage error' '
	usage_error "unexpected argument .extra." --quick extra
'

test_expect_success 'an option without its argument is a usage error' '
	usage_error "--jobs. needs an argument" --jobs
'

test_expect_success 'a flag given a value is a usage error' '
	usage_error "--quick. takes no argument" --quick=yes
'

test_expect_success 'an unknown job or system is a usage error' '
	usage_error "unknown job .nosuchjob." --jobs seqread,nosuchjob &&
	usage_error "unknown system .ext9." --systems=kernel,ext9 &&
	usage_error "--jobs needs a non-empty list" --jobs ""
'

test_expect_success 'bad sizes and counts are usage errors' '
	usage_error "--size: .lots. is not a size" --size lots &&
	usage_error "at least 64M" --size 1M &&
	usage_error "--runs: .0. is not a positive" --runs 0 &&
	usage_error "--runtime: .-3. is not a positive" --runtime=-3
'

test_expect_success 'a missing --disk or --build directory is a usage error' '
	usage_error "--disk: .$TRASH/none. is not a directory" --disk "$TRASH/none" &&
	usage_error "--build: .$TRASH/none. is not a directory" --build "$TRASH/none"
'

# as_user CMD...: run CMD as a user who is not root (nobody, when we are).
if ! test_have_prereq ROOT; then
	as_user() { "$@"; }
	test_set_prereq NOT_ROOT
elif command -v setpriv >/dev/null; then
	as_user() {
		setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
	}
	test_set_prereq NOT_ROOT
fi

test_expect_success NOT_ROOT 'a user who is not root gets exit 3 and a reason' '
	copy=$(mktemp /tmp/t0900-fsbench.XXXXXX) &&
	test_when_finished "rm -f \"$copy\"" &&
	cp "$FSBENCH" "$copy" &&
	chmod 0755 "$copy" &&
	{
		(cd / && as_user bash "$copy" --quick --systems kernel >"$TRASH/out" 2>"$TRASH/err")
		test_eq 3 $? "exit code"
	} &&
	test_grep "must run as root" err &&
	test_eq "" "$(cat out)" "stdout"
'

test_done
