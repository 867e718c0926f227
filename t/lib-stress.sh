# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# lib-stress.sh - helpers of the stress and coherence tests (t33xx),
# sourced after test-lib.sh and lib-data.sh: the sizes of a run (short for
# CI, long with IOMAPFS_STRESS_LONG=1, as "make stress" does), a control
# loop that flushes, disables, enables and squeezes the cache through
# iomapctl every 10 ms, a loop that punches holes in a file and fills them
# again (fio 3.33 cannot trim a regular file), and fio's figures.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "1..0 # SKIP ${0##*/} is a test library, not a test"
	exit 0
fi

# STRESS_JOB_SIZE: bytes each of the four fio jobs writes (4 x 32 MiB in
# CI, 4 x 256 MiB = 1 GiB in the long run); STRESS_IMG: the image size;
# STRESS_SECONDS: how long each genrace run of t3320 lasts.
if [ -n "${IOMAPFS_STRESS_LONG:-}" ]; then
	STRESS_JOB_SIZE=256M
	STRESS_IMG=2G
	STRESS_SECONDS=60
else
	STRESS_JOB_SIZE=32M
	STRESS_IMG=384M
	STRESS_SECONDS=8
fi
export STRESS_JOB_SIZE STRESS_IMG STRESS_SECONDS

# tick_init_: open TICK_FD on a FIFO nobody writes, so that
# "read -t 0.01 -u $TICK_FD" sleeps 10 ms without a fork.
tick_init_() {
	rm -f "$TRASH/.tick" && mkfifo "$TRASH/.tick" &&
	exec {TICK_FD}<>"$TRASH/.tick"
}

# ctl_loop_ SOCK TINY NORMAL PATH: one control call every 10 ms, cycling
# through flush --all, disable, enable, limits cache_max=TINY, a ranged
# flush of PATH, limits cache_max=NORMAL; until the file ctl.stop exists.
# All calls go through one "iomapctl -k -f -"; its exit code lands in
# ctl.rc, the calls sent in ctl.count.  The ranged flush of an inode that
# has nothing cached fails with NotCached, which is fine; any other
# failure is not.
ctl_loop_() {
	local sock=$1 tiny=$2 normal=$3 path=$4 n=0
	{
		while [ ! -e ctl.stop ]; do
			case $((n % 6)) in
			0) echo "flush --all" ;;
			1) echo "disable" ;;
			2) echo "enable" ;;
			3) echo "limits cache_max=$tiny" ;;
			4) echo "flush $path --range 0:1M" ;;
			5) echo "limits cache_max=$normal" ;;
			esac
			n=$((n + 1))
			echo "$n" >ctl.count
			read -r -t 0.01 -u "$TICK_FD"
		done
		echo "enable"
		echo "limits cache_max=$normal"
	} | "$IOMAPCTL" -s "$sock" -k -f - >ctl.out 2>&1
	echo "${PIPESTATUS[1]}" >ctl.rc
}

# ctl_loop_start SOCK TINY NORMAL PATH: ctl_loop_ in the background.  The
# caller arranges "touch ctl.stop" with test_when_finished, so that a
# failed test does not leave the loop running.
ctl_loop_start() {
	rm -f ctl.stop ctl.rc ctl.count &&
	tick_init_ &&
	{ ctl_loop_ "$@" & } &&
	CTL_LOOP_PID=$!
}

# ctl_loop_stop: stop the loop; fail unless every call succeeded but for
# ranged flushes that found nothing cached (NotCached), and iomapctl's exit
# code is the one that says so: 0, or 1 (the first failed command's) when
# some flush found nothing.  Any other code (a crash, a lost daemon) fails
# even when NotCached answers came.  Sets CTL_NOTCACHED to their number.
ctl_loop_stop() {
	local rc failed want=0
	touch ctl.stop
	wait "$CTL_LOOP_PID"
	rc=$(cat ctl.rc 2>/dev/null)
	CTL_NOTCACHED=$(grep -c "Flush failed: NotCached" ctl.out)
	failed=$(grep -c "' failed (exit [0-9]*)$" ctl.out)
	[ "$failed" -eq 0 ] || want=1
	grep "^iomapctl:" ctl.out |
		grep -v -e "Flush failed: NotCached" \
			-e "'flush' failed (exit 1)$" >ctl.bad
	if [ -s ctl.bad ] || [ "$failed" != "$CTL_NOTCACHED" ] ||
		[ "$rc" != "$want" ]; then
		echo "expected every control call to succeed but for ranged" \
			"flushes that found nothing cached, and iomapctl to" \
			"exit $want; it exited '$rc' after" \
			"$(cat ctl.count 2>/dev/null) calls, of which $failed" \
			"failed, $CTL_NOTCACHED with NotCached; other messages:"
		head -n 20 ctl.bad
		return 1
	fi
}

# punch_loop_ FILE SIZE SEED: FILE holds the dataio pattern SEED over SIZE
# bytes.  Over and over: punch a random 4 KiB-aligned range, check that it
# reads zero past the page cache, write the pattern back, check it.
# Stops when punch.stop exists; iterations in punch.count, result in
# punch.rc (1 and the reason in punch.out on a bad read).
punch_loop_() {
	local f=$1 size=$2 seed=$3 n=0 off len blocks rc=0
	blocks=$(($(numfmt --from=iec "$size") / 4096))
	while [ ! -e punch.stop ]; do
		off=$(((RANDOM * 32768 + RANDOM) % (blocks - 1) * 4096))
		len=$(((RANDOM % 256 + 1) * 4096))
		[ $((off + len)) -le $((blocks * 4096)) ] ||
			len=$((blocks * 4096 - off))
		if ! fallocate -p -o "$off" -l "$len" "$f" ||
			! "$DATAIO" zero "$f" "$off" "$len" -n ||
			! "$DATAIO" write "$f" "$off" "$len" "$seed" ||
			! "$DATAIO" check "$f" "$off" "$len" "$seed" -n; then
			echo "punch loop: iteration $n, range $off+$len of $f" \
				"failed (expected zeroes after the punch, the" \
				"pattern after the refill)"
			rc=1
			break
		fi
		n=$((n + 1))
	done >punch.out 2>&1
	echo "$n" >punch.count
	echo "$rc" >punch.rc
}

punch_loop_start() {
	rm -f punch.stop punch.rc punch.count &&
	"$DATAIO" write "$1" 0 "$2" "$3" 1M &&
	{ punch_loop_ "$@" & } &&
	PUNCH_LOOP_PID=$!
}

punch_loop_stop() {
	touch punch.stop
	wait "$PUNCH_LOOP_PID"
	if [ "$(cat punch.rc 2>/dev/null)" != 0 ]; then
		cat punch.out
		return 1
	fi
	"$DATAIO" check "$1" 0 "$2" "$3" -n || {
		echo "punch file: expected the pattern everywhere after the loop"
		return 1
	}
}

# fio_jobs_file OUT DIR SIZE: the four verifying jobs: random writes into
# holes, random writes into preallocated (unwritten) space, appends that
# extend the file, and random mixed reads and overwrites.  Every write is
# verified while the job runs (verify_backlog) and again at its end.
fio_jobs_file() {
	cat >"$1" <<-EOF
	[global]
	directory=$2
	ioengine=psync
	size=$3
	verify=crc32c
	verify_fatal=1
	do_verify=1
	verify_backlog=128
	randrepeat=0
	[rand-holes]
	rw=randwrite
	bsrange=4k-64k
	fallocate=none
	[rand-unwritten]
	rw=randwrite
	bsrange=4k-32k
	fallocate=native
	[append]
	rw=write
	bs=12k
	fallocate=none
	file_append=1
	[mixed]
	rw=randrw
	rwmixread=50
	bs=4k
	fallocate=none
	EOF
}

# fio_figures JSON: "ios (writes+reads) and verify errors", one line.
fio_figures() {
	jq -r '[.jobs[] | .write.total_ios] as $w |
		[.jobs[] | .read.total_ios] as $r |
		[.jobs[] | .error] as $e |
		"fio: \($w | add) writes, \($r | add) reads (verify included), " +
		"\($e | map(select(. != 0)) | length) jobs with errors"' "$1"
}

# fio_errors JSON: the sum of the jobs' error codes (0 when all is well).
fio_errors() {
	jq '[.jobs[] | .error] | add' "$1"
}

# stress_audit SOCK PATH...: after a run, read every file under PATH with
# O_DIRECT (so that the daemon maps them: the page cache would answer by
# itself), then "iomapctl -J audit" must exit 0 and find the cache holding
# mappings, every one of them agreeing with the disk.  An empty cache is
# clean trivially and proves nothing; reading adds mappings only where
# none is cached, so a stale one left by the run stays to be found.  The
# summary goes to audit.figures.
stress_audit() {
	local sock=$1 f
	shift
	while IFS= read -r -d "" f; do
		dd if="$f" of=/dev/null bs=1M iflag=direct status=none || return 1
	done < <(find "$@" -type f -print0)
	"$IOMAPCTL" -s "$sock" -J audit >audit.json 2>audit.err || {
		echo "expected iomapctl audit to exit 0, got $?:"
		cat audit.json audit.err
		return 1
	}
	jq -e ".summary.mappings > 0 and .summary.mismatches == 0 and
		.clean == true" audit.json >/dev/null || {
		echo "expected an audit of more than 0 mappings, with 0" \
			"mismatches, got:"
		cat audit.json
		return 1
	}
	echo "audit: $(jq -c .summary audit.json)" >audit.figures
}

# cache_stat SOCK FIELD: one number of "iomapctl -J stats".
cache_stat() {
	"$IOMAPCTL" -s "$1" -J stats | jq -r ".stats.$2"
}
