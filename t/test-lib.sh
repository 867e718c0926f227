# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# test-lib.sh - the shell test library of iomapfs, in the manner of git's t/.
# A test script sets test_description, sources this file, runs
# test_expect_success blocks and ends with test_done, which prints the TAP
# plan.  Each script gets its own scratch directory ($TRASH), removed at the
# end unless the script failed and IOMAPFS_TEST_KEEP is set.  Everything a
# test mounts or starts is torn down by the EXIT trap, whatever happens.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "1..0 # SKIP test-lib.sh is the test library, not a test"
	exit 0
fi

set -u
export LC_ALL=C
umask 022

TEST_NAME=$(basename "$0" .sh)
T_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The script runs in its scratch directory: make $0 absolute, so that
# ". "$(dirname "$0")/lib-foo.sh"" after this file still finds lib-foo.sh.
case $0 in
/*) ;;
*) BASH_ARGV0=$(cd "$(dirname "$0")" && pwd)/$(basename "$0") ;;
esac
SRC_DIR=${IOMAPFS_SRC_DIR:-$(cd "$T_DIR/.." && pwd)}
BUILD_DIR=${IOMAPFS_BUILD_DIR:-$SRC_DIR}
IOMAPFS=$BUILD_DIR/daemon/iomapfs
IOMAPCTL=$BUILD_DIR/cli/iomapctl
HELPER_DIR=$BUILD_DIR/t/helper
UNIT_DIR=$BUILD_DIR/t/unit
PATH=/usr/sbin:/sbin:$PATH
export SRC_DIR BUILD_DIR IOMAPFS IOMAPCTL HELPER_DIR UNIT_DIR

TRASH=$(mktemp -d "${TMPDIR:-/tmp}/iomapfs-$TEST_NAME.XXXXXX") || {
	echo "Bail out! cannot make a scratch directory"
	exit 1
}
export TRASH
cd "$TRASH" || exit 1

. "$T_DIR/lib-chainlint.sh"

test_count=0
test_failures=0
test_skipped=0
test_finish_cmds=
test_cleanup_cmds=
declare -A test_prereqs=()

# --- results -------------------------------------------------------------

say() { printf '# %s\n' "$*"; }

test_ok_() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1"
}

test_failure_() {
	local details
	test_count=$((test_count + 1))
	test_failures=$((test_failures + 1))
	echo "not ok $test_count - $1"
	# Details go to stderr too, so prove shows them without -v and a
	# CI log alone explains the failure.  Written through fd 2 itself:
	# "tee /dev/stderr" would open (and truncate) a log file again.
	shift
	details=$(printf '%s\n' "$@" | sed 's/^/#	/')
	printf '%s\n' "$details"
	printf '%s\n' "$details" >&2
}

test_skip_() {
	test_count=$((test_count + 1))
	test_skipped=$((test_skipped + 1))
	echo "ok $test_count # SKIP $1 (missing $2)"
}

# --- prerequisites -------------------------------------------------------

test_set_prereq() { test_prereqs[$1]=1; }

# test_have_prereq A,B,!C: true when A and B are set and C is not.
test_have_prereq() {
	local p
	local IFS=,
	for p in $1; do
		case $p in
		!*) [ -z "${test_prereqs[${p#!}]:-}" ] || return 1 ;;
		*) [ -n "${test_prereqs[$p]:-}" ] || return 1 ;;
		esac
	done
	return 0
}

[ "$(id -u)" -eq 0 ] && test_set_prereq ROOT
command -v debugfs >/dev/null && command -v mke2fs >/dev/null && test_set_prereq E2FSPROGS
command -v jq >/dev/null && test_set_prereq JQ
command -v fio >/dev/null && test_set_prereq FIO
# Debian packages python3 and systemd (autogen.sh --deps installs them).
command -v python3 >/dev/null && test_set_prereq PYTHON3
command -v systemd-escape >/dev/null && test_set_prereq SYSTEMD_ESCAPE
if [ -c /dev/fuse ] && [ -w /dev/fuse ] && command -v fusermount3 >/dev/null &&
	[ -x "$IOMAPFS" ]; then
	test_set_prereq FUSE
fi

# --- running tests -------------------------------------------------------

# test_when_finished CMD: run CMD after the current test, pass or fail.
test_when_finished() {
	test_finish_cmds="$1; $test_finish_cmds"
}

# test_note TEXT: a figure for the TAP diagnostics.  A test body's output
# is captured, so notes are kept in a file until test_show_notes prints
# them as "# " lines, after the test.
test_note() {
	echo "$*" >>"$TRASH/.notes"
}

test_show_notes() {
	if [ -s "$TRASH/.notes" ]; then
		sed "s/^/# /" "$TRASH/.notes"
		: >"$TRASH/.notes"
	fi
}

# test_atexit CMD: run CMD when the script ends (for mounts and daemons).
test_atexit() {
	test_cleanup_cmds="$1; $test_cleanup_cmds"
}

test_run_() {
	local body=$1 rc
	test_finish_cmds=
	# fd 9: the test's own output even where a command's is redirected
	# (test_say_).
	eval "$body" >"$TRASH/.test-out" 2>&1 9>&1 </dev/null
	rc=$?
	if [ -n "$test_finish_cmds" ]; then
		eval "$test_finish_cmds" >>"$TRASH/.test-out" 2>&1 </dev/null
	fi
	return $rc
}

# test_lint_ DESCRIPTION BODY: the chain lint (lib-chainlint.sh), run on
# every body before its prerequisites are looked at, so that a test skipped
# here is linted all the same.  A body that fails it is reported as a failed
# test and not run: its checks could not fail.
test_lint_() {
	local out
	out=$(test_chainlint_ "$2" 2>&1) && return 0
	test_failure_ "$1" "broken &&-chain in the test body, which is not run:" \
		"$out"
	return 1
}

# test_expect_success [PREREQ] DESCRIPTION BODY
test_expect_success() {
	local prereq=
	if [ $# -eq 3 ]; then
		prereq=$1
		shift
	fi
	test_lint_ "$1" "$2" || return 0
	if [ -n "$prereq" ] && ! test_have_prereq "$prereq"; then
		test_skip_ "$1" "$prereq"
		return 0
	fi
	if test_run_ "$2"; then
		test_ok_ "$1"
	else
		test_failure_ "$1" "test body:" "$2" "output:" \
			"$(tail -n 60 "$TRASH/.test-out")"
	fi
}

# test_expect_failure is for known bugs, reported as TODO.
test_expect_failure() {
	local prereq=
	if [ $# -eq 3 ]; then
		prereq=$1
		shift
	fi
	test_lint_ "$1" "$2" || return 0
	if [ -n "$prereq" ] && ! test_have_prereq "$prereq"; then
		test_skip_ "$1" "$prereq"
		return 0
	fi
	test_count=$((test_count + 1))
	if test_run_ "$2"; then
		echo "ok $test_count - $1 # TODO known breakage vanished"
	else
		echo "not ok $test_count - $1 # TODO known breakage"
	fi
}

test_done() {
	echo "1..$test_count"
	if [ "$test_failures" -gt 0 ]; then
		say "failed $test_failures of $test_count; scratch directory kept: $TRASH"
		test_keep_trash=1
		exit 1
	fi
	exit 0
}

# skip_all: call before any test to skip the whole script.
skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

test_cleanup_() {
	local rc=$?
	cd /
	if [ -n "$test_cleanup_cmds" ]; then
		eval "$test_cleanup_cmds" >/dev/null 2>&1
	fi
	# A daemon's sanitizer report fails the script even when no test
	# looked at its log (the daemon was stopped by the cleanup above).
	# The report goes to stdout as TAP comments and to stderr for CI logs.
	local san
	san=$(test_no_sanitizer_report_ "$TRASH"/iomapfs-*.log)
	if [ -n "$san" ]; then
		printf '%s\n' "$san" | sed 's/^/# /'
		printf '%s\n' "$san" >&2
		echo "# failed: a sanitizer reported an error in the daemon"
		[ $rc -ne 0 ] || rc=1
		test_keep_trash=1
	fi
	test_no_unknown_code_ "$TRASH"/iomapfs-*.log || {
		[ $rc -ne 0 ] || rc=1
		test_keep_trash=1
	}
	test_no_stale_socket_ || {
		[ $rc -ne 0 ] || rc=1
		test_keep_trash=1
	}
	if [ -z "${test_keep_trash:-}" ] || [ -z "${IOMAPFS_TEST_KEEP:-}" ]; then
		rm -rf "$TRASH"
	fi
	exit $rc
}

# test_no_unknown_code_ FILE...: fail, naming the lines, when a daemon log
# holds a com_err message whose error table was never registered ("Unknown
# code ext2 47 ..."): every message must name its error in words.  Printed
# as TAP comments, and to stderr for CI logs.
test_no_unknown_code_() {
	local f msg rc=0
	for f in "$@"; do
		[ -f "$f" ] && grep -q 'Unknown code' "$f" || continue
		msg="failed: $f names an error by number only:
$(grep -m 5 'Unknown code' "$f")"
		printf '%s\n' "$msg" | sed 's/^/# /'
		printf '%s\n' "$msg" >&2
		rc=1
	done
	return $rc
}
# test_ctl_escape_ PATH: PATH escaped as ctlpath_escape() escapes a
# mountpoint (shared/ctlpath.h, "systemd-escape --path").
test_ctl_escape_() {
	local p=${1#/} out= c i
	for ((i = 0; i < ${#p}; i++)); do
		c=${p:i:1}
		case $c in
		/) out+=- ;;
		[A-Za-z0-9:_]) out+=$c ;;
		.) if [ -z "$out" ]; then out+='\x2e'; else out+=.; fi ;;
		*) out+=$(printf '\\x%02x' "'$c") ;;
		esac
	done
	printf '%s\n' "$out"
}
# Every default control socket or record (ctlpath.h) of a mount below
# $TRASH is named with this prefix in the runtime directory.
TRASH_CTL_PREFIX=$(test_ctl_escape_ "$(realpath "$TRASH")")-

# test_no_stale_socket_: fail when a socket or record of one of this
# script's mounts is left in the runtime directory (/run/iomapfs for
# root) after the cleanup: every daemon the script started is gone by
# now, so whatever is left is stale, and would pile up there run after
# run.  It is removed, and named in the failure.
test_no_stale_socket_() {
	local dir f msg
	local -a left=()
	if [ "$(id -u)" -eq 0 ]; then
		dir=/run/iomapfs
	elif [ -n "${XDG_RUNTIME_DIR:-}" ]; then
		dir=$XDG_RUNTIME_DIR/iomapfs
	else
		dir=/tmp/iomapfs-$(id -u)
	fi
	for f in "$dir/$TRASH_CTL_PREFIX"*; do
		if [ -e "$f" ] || [ -L "$f" ]; then
			left+=("$f")
		fi
	done
	[ ${#left[@]} -eq 0 ] && return 0
	msg="failed: this script left sockets or records of its mounts in $dir (removed now):
$(printf '%s\n' "${left[@]}")"
	printf '%s\n' "$msg" | sed 's/^/# /'
	printf '%s\n' "$msg" >&2
	rm -f "${left[@]}"
	return 1
}
trap test_cleanup_ EXIT
trap 'exit 130' INT TERM

# --- assertions ----------------------------------------------------------

# test_cmp EXPECTED ACTUAL: fail with a unified diff when they differ.
test_cmp() {
	diff -u "$1" "$2"
}

# test_must_fail CMD...: CMD must fail by exiting non-zero (not by a signal).
# test_say_ MSG: print a check's verdict where the failure report shows it,
# even when the check's own output goes to a file (test_must_fail CMD
# >out 2>&1): to fd 9, the test's output, when it is open.
test_say_() {
	if { : >&9; } 2>/dev/null; then
		printf '%s\n' "$*" >&9
	else
		printf '%s\n' "$*"
	fi
}

test_must_fail() {
	local rc
	"$@"
	rc=$?
	if [ $rc -eq 0 ]; then
		test_say_ "test_must_fail: '$*' succeeded, expected it to fail"
		return 1
	elif [ $rc -gt 128 ] && [ $rc -le 192 ]; then
		test_say_ "test_must_fail: '$*' died of signal $((rc - 128))"
		return 1
	fi
	return 0
}

# test_expect_code N CMD...: CMD must exit with code N.
test_expect_code() {
	local want=$1 rc
	shift
	"$@"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		test_say_ "test_expect_code: '$*' exited $rc, expected $want"
		return 1
	fi
	return 0
}

# test_wait_for SECONDS CMD: evaluate the shell command CMD every 50 ms until
# it succeeds, for something that happens soon but not at once; fail with
# CMD's last output when SECONDS pass first.  CMD is a string, so that the
# "$(...)" in it is evaluated again each time.
test_wait_for() {
	local secs=$1 cmd=$2 end
	end=$(($(date +%s%N) + secs * 1000000000))
	while ! eval "$cmd" >"$TRASH/.wait-out" 2>&1; do
		if [ "$(date +%s%N)" -ge "$end" ]; then
			cat "$TRASH/.wait-out"
			echo "test_wait_for: '$cmd' did not succeed within $secs s"
			return 1
		fi
		sleep 0.05
	done
}

# test_wait_all PID...: wait for every one of these background jobs (a
# plain "wait A B" gives the status of B alone); fail, naming each job that
# exited non-zero, when any did.
test_wait_all() {
	local pid rc=0 st
	for pid in "$@"; do
		wait "$pid" && continue
		st=$?
		echo "test_wait_all: background job $pid exited $st"
		rc=1
	done
	return $rc
}

# test_grep PATTERN FILE: like grep, but shows the file when it fails.
test_grep() {
	if ! grep "$@"; then
		echo "test_grep: no match for '$*'; the file holds:"
		eval "cat \"\${$#}\"" | head -n 40
		return 1
	fi
}

# test_eq WANT GOT [WHAT]
test_eq() {
	if [ "$1" != "$2" ]; then
		echo "expected ${3:-value} '$1', got '$2'"
		return 1
	fi
}

# --- images and mounts ---------------------------------------------------

# make_image IMG SIZE [mke2fs options...]: a fresh image, quietly.
make_image() {
	local img=$1 size=$2
	shift 2
	rm -f "$img" &&
	truncate -s "$size" "$img" &&
	mke2fs -q -F -E nodiscard "$@" "$img" >/dev/null
}

# iomapfs_mount IMG MNT [-o opts]: start the daemon in the foreground (in the
# background of this shell), wait until MNT is a FUSE mount, and arrange for
# it to be unmounted and stopped when the script ends.  Sets IOMAPFS_PID.
iomapfs_mount() {
	local img=$1 mnt=$2 i log
	shift 2
	mkdir -p "$mnt" || return 1
	log="$TRASH/iomapfs-$(basename "$mnt").log"
	"$IOMAPFS" -f "$@" "$img" "$mnt" >"$log" 2>&1 &
	IOMAPFS_PID=$!
	test_atexit "iomapfs_cleanup_ '$mnt' $IOMAPFS_PID"
	for i in $(seq 1 200); do
		if mountpoint -q "$mnt" &&
			grep -q " $(realpath "$mnt") fuse" /proc/mounts; then
			return 0
		fi
		if ! kill -0 "$IOMAPFS_PID" 2>/dev/null; then
			echo "iomapfs exited before mounting $mnt; its log:"
			cat "$log"
			return 1
		fi
		sleep 0.05
	done
	echo "iomapfs did not mount $mnt within 10 s; its log:"
	cat "$log"
	return 1
}

# iomapfs_kill9 MNT [PID...]: the crash tests' kill: SIGKILL the daemon of
# the last iomapfs_mount, reap it, wait for the PIDs (work running on MNT),
# drop its mount, and remove the socket record it could not remove itself
# (iomapctl list --prune), which the check at the end of every script would
# count as left behind.  Work on MNT must be waited for here, before the
# mount goes: while the dead mount stays, its next step fails (ENOTCONN)
# and it stops; after the lazy unmount its paths name the empty directory
# underneath, where it would go on, fsyncs succeeding and all, and log as
# durable what never reached the image.
iomapfs_kill9() {
	local mnt=$1 pid
	shift
	kill -KILL "$IOMAPFS_PID" &&
	{ wait "$IOMAPFS_PID" || true; } &&
	for pid in "$@"; do
		wait "$pid" || true
	done &&
	{ fusermount3 -u -z "$mnt" 2>/dev/null || umount -l "$mnt"; } &&
	{ "$IOMAPCTL" list --prune "$mnt" >/dev/null 2>&1 || true; }
}

# iomapfs_unmount MNT: unmount and wait for the daemon to exit cleanly.
# A daemon that exits non-zero fails it with its exit code and its log.
iomapfs_unmount() {
	local mnt=$1 pid=${2:-$IOMAPFS_PID} i rc log
	log="$TRASH/iomapfs-$(basename "$mnt").log"
	fusermount3 -u "$mnt" || umount "$mnt" || return 1
	for i in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "iomapfs (pid $pid) still runs 10 s after unmount"
		return 1
	fi
	wait "$pid" || {
		rc=$?
		echo "iomapfs (pid $pid) exited $rc after unmount, expected 0;" \
			"its log:"
		tail -n 20 "$log" 2>/dev/null
		return $rc
	}
	test_no_sanitizer_report_ "$log"
}

iomapfs_cleanup_() {
	local mnt=$1 pid=$2
	if mountpoint -q "$mnt" 2>/dev/null; then
		fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
	fi
	if kill -0 "$pid" 2>/dev/null; then
		sleep 0.5
		kill -TERM "$pid" 2>/dev/null
		sleep 0.5
		kill -KILL "$pid" 2>/dev/null
	fi
	fusermount3 -u -z "$mnt" 2>/dev/null
	return 0
}

# The reports of AddressSanitizer, LeakSanitizer and UBSan (a build made
# with --enable-sanitizers) start with these.
SANITIZER_REPORT_RE='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:'

# test_no_sanitizer_report_ FILE...: fail, showing the report, when a file
# holds a sanitizer report.  A daemon runs in the background with its stderr
# in $TRASH/iomapfs-*.log: its exit code alone may be lost to the cleanup.
test_no_sanitizer_report_() {
	local f rc=0
	for f in "$@"; do
		[ -f "$f" ] || continue
		if grep -Eq "$SANITIZER_REPORT_RE" "$f"; then
			echo "sanitizer report in $f:"
			grep -E -A 40 "$SANITIZER_REPORT_RE" "$f" | head -n 80
			rc=1
		fi
	done
	return $rc
}

# image_replayed IMG COPY: COPY is IMG with its journal replayed by e2fsck
# (-E journal_only), for debugfs to read what a mounted or crashed
# iomapfs committed: debugfs reads blocks at home, not the journal.
image_replayed() {
	cp --sparse=always "$1" "$2" &&
	e2fsck -y -E journal_only "$2" >/dev/null 2>&1
	case $? in 0 | 1) return 0 ;; esac
	echo "e2fsck -E journal_only $2 failed"
	return 1
}

# image_replay IMG: replay IMG's journal in place, as e2fsck does before
# it checks (-E journal_only), after the daemon was killed; nothing to do
# without a journal.
image_replay() {
	e2fsck -y -E journal_only "$1" >/dev/null 2>&1
	case $? in 0 | 1) return 0 ;; esac
	echo "e2fsck -E journal_only $1 failed"
	return 1
}

# fsck_clean IMG: e2fsck -fn must find nothing.
fsck_clean() {
	local out
	out=$(e2fsck -fn "$1" 2>&1) || {
		echo "e2fsck -fn $1 found problems:"
		echo "$out"
		return 1
	}
}
