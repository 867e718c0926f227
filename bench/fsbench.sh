#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# fsbench.sh - the side-by-side file system benchmark of iomapfs (issue 5).
# It builds one fresh ext4 image at run time (on a private tmpfs by default,
# so that it measures what each file system costs in CPU, or on a disk with
# --disk), then runs the same fio jobs and metadata loops, on that same
# image, against iomapfs with its cache on and off, Debian's fuse2fs and the
# kernel's ext4 on a loop device, one mount at a time.  Every run is made on
# a fresh mount after dropping the page cache; each job runs several times
# and the median is reported, as one table of MB/s, IOPS or seconds, then
# speed ratios, and as JSON.  Every mount, daemon, loop device and tmpfs it
# makes is undone by its EXIT trap, on success, failure or Ctrl-C.

# Started by sh (dash) instead of bash: stop before the first bashism.
if [ -z "${BASH_VERSION:-}" ]; then
	echo "fsbench.sh: run it with bash: bash $0 [OPTION]..." >&2
	exit 3
fi

# The job_* functions are called by name.
# shellcheck disable=SC2317
set -u -o pipefail
export LC_ALL=C
PATH=/usr/sbin:/sbin:$PATH
PROG=${0##*/}

# Exit codes.
EX_OK=0
EX_FAIL=1	# a mount or a job failed (the others still ran)
EX_USAGE=2
EX_PREREQ=3	# not root, a missing program, not enough memory

ALL_SYSTEMS="iomapfs iomapfs-nocache fuse2fs kernel"
ALL_JOBS="seqread seqwrite randread1 randread4 randwrite1 randwrite4 append meta frag"

META_FILES=10000
FRAG_BYTES=$((48 << 20))	# 12288 blocks of 4 KiB, one extent each
FRAG_MIN_EXTENTS=10000

usage() {
	cat <<EOF
Usage: $PROG [OPTION]...
Benchmark iomapfs (cache on and off), fuse2fs and the kernel's ext4 on one
fresh ext4 image, with fio and timed metadata loops, and print one table of
medians plus speed ratios.  Needs root, fio, jq, e2fsprogs and, for the FUSE
systems, /dev/fuse and fusermount3.

Options:
  -q, --quick          1 run per job, no ramp (a smoke run)
      --jobs LIST      comma-separated jobs to run (default: all):
                         seqread     sequential read, 1 MiB blocks, of a
                                     SIZE file, 1 job (cold)
                         seqwrite    sequential write, 1 MiB, SIZE, fsync
                         randread1   random read, 4 KiB, O_DIRECT, 1 job
                         randread4   the same with 4 jobs
                         randwrite1  random overwrite of a written file,
                                     4 KiB, O_DIRECT, 1 job
                         randwrite4  the same with 4 jobs
                         append      64 KiB appends to fresh 2 MiB files
                                     (SIZE/4 in all), then fsync
                         meta        create, cold 'ls -l' and unlink of
                                     $META_FILES small files in one directory
                         frag        random 4 KiB O_DIRECT reads of a file of
                                     $FRAG_MIN_EXTENTS+ extents; for iomapfs also the
                                     mapping computations per GiB read and
                                     the cache hit ratio, from
                                     BUILD/cli/iomapctl -J stats
      --systems LIST   comma-separated systems (default: all):
                         iomapfs          BUILD/daemon/iomapfs
                         iomapfs-nocache  the same with -o noiomap_cache
                         fuse2fs          fuse2fs -o fakeroot
                         kernel           mount -o loop (ext4)
                       iomapfs columns read "n/a (not built)" when
                       BUILD/daemon/iomapfs does not exist
      --size SIZE      size of the big files (default 1G; K, M, G suffixes)
      --runs N         runs per job, median reported (default 3, quick 1)
      --runtime SEC    length of the time-based jobs (default 2), after a
                       ramp of 0.5 s (none with --quick)
      --disk DIR       put the image in DIR (disk-backed) instead of a
                       private tmpfs
      --build DIR      the iomapfs build directory (default:
                       \$IOMAPFS_BUILD_DIR, else the source tree)
      --json FILE      write the results as JSON to FILE
                       (default: bench-results.json)
  -v, --verbose        show the mount and fio commands as they run
  -h, --help           show this help and exit

Before each run of each job the file system is unmounted, the page cache is
dropped (echo 3 > /proc/sys/vm/drop_caches) and it is mounted again, so
every job starts cold.  Timed jobs run RUNTIME seconds after a ramp; the
size-based ones (seqread, seqwrite, append) stop after 4 x RUNTIME seconds
(at least 8) at most, and their MB/s counts the data they moved, fsync
included.  Metadata steps are timed inside one bash process (no fork per
file).  With the defaults a full run of the 4 systems takes 5 to 10 minutes
on 2 cores; --quick with 2 systems about 1.5 minutes.

Ratios are speed ratios, higher is better: for MB/s and IOPS rows
iomapfs/kernel = iomapfs value / kernel value, for seconds rows it is
kernel time / iomapfs time.  A '*' marks a ratio below the issue-5 target
(iomapfs/kernel: seqread and randread4 0.8, seqwrite and randwrite4 0.6,
metadata 0.33; iomapfs/fuse2fs: 1.5 everywhere; cache cut >= 100x and a hit
ratio >= 99% on the fragmented file).

Exit status: 0 all selected jobs ran, 1 a mount or a job failed (its cells
read FAIL; the other jobs still ran), 2 usage error, 3 missing prerequisite.
Example: $PROG --quick --systems kernel,fuse2fs --jobs seqread,meta
EOF
}

usage_error() {
	echo "$PROG: $*" >&2
	echo "Try '$PROG --help' for more information." >&2
	exit $EX_USAGE
}

prereq_error() {
	echo "$PROG: $*" >&2
	exit $EX_PREREQ
}

msg() { printf '%s\n' "$*" >&2; }
vmsg() { [ "$VERBOSE" -eq 0 ] || printf '+ %s\n' "$*" >&2; }

# in_list WORD LIST: true when WORD is one of the words of LIST.
in_list() {
	case " $2 " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

has_iomapfs_system() {
	in_list iomapfs "$SYSTEMS" || in_list iomapfs-nocache "$SYSTEMS"
}

# check_list WHAT LIST ALLOWED: prints LIST with commas as spaces, in the
# order of ALLOWED, or exits with a usage error naming the bad word.
check_list() {
	local what=$1 list=$2 allowed=$3 w out=
	[ -n "$list" ] || usage_error "--${what}s needs a non-empty list"
	for w in ${list//,/ }; do
		in_list "$w" "$allowed" ||
			usage_error "unknown $what '$w' (choose from: ${allowed// /, })"
	done
	for w in $allowed; do
		in_list "$w" "${list//,/ }" && out="$out $w"
	done
	echo "${out# }"
}

# --- options -------------------------------------------------------------

QUICK=0
VERBOSE=0
JOBS=$ALL_JOBS
SYSTEMS=$ALL_SYSTEMS
SIZE_ARG=1G
RUNS=
RUNTIME=
DISK_DIR=
BUILD=${IOMAPFS_BUILD_DIR:-}
JSON_FILE=bench-results.json

while [ $# -gt 0 ]; do
	opt=$1
	val=
	has_val=0
	case $opt in
	--*=*)
		val=${opt#*=}
		opt=${opt%%=*}
		has_val=1
		;;
	esac
	case $opt in
	--jobs | --systems | --size | --runs | --runtime | --disk | --build | --json)
		if [ $has_val -eq 0 ]; then
			[ $# -ge 2 ] || usage_error "option '$opt' needs an argument"
			val=$2
			shift
		fi
		;;
	*)
		[ $has_val -eq 0 ] ||
			usage_error "option '$opt' takes no argument"
		;;
	esac
	case $opt in
	-h | --help)
		usage
		exit $EX_OK
		;;
	-q | --quick) QUICK=1 ;;
	-v | --verbose) VERBOSE=1 ;;
	--jobs) JOBS=$(check_list job "$val" "$ALL_JOBS") || exit ;;
	--systems) SYSTEMS=$(check_list system "$val" "$ALL_SYSTEMS") || exit ;;
	--size) SIZE_ARG=$val ;;
	--runs) RUNS=$val ;;
	--runtime) RUNTIME=$val ;;
	--disk) DISK_DIR=$val ;;
	--build) BUILD=$val ;;
	--json) JSON_FILE=$val ;;
	--)
		shift
		break
		;;
	-*) usage_error "unknown option '$opt'" ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 0 ] || usage_error "unexpected argument '$1'"

SIZE=$(numfmt --from=iec -- "$SIZE_ARG" 2>/dev/null) ||
	usage_error "--size: '$SIZE_ARG' is not a size (for example 512M, 1G)"
case $SIZE in
'' | *[!0-9]*) usage_error "--size: '$SIZE_ARG' is not a whole number of bytes" ;;
esac
[ "$SIZE" -ge $((64 << 20)) ] && [ $((SIZE % (1 << 20))) -eq 0 ] ||
	usage_error "--size: '$SIZE_ARG' must be a multiple of 1M and at least 64M"

# The defaults keep a full run of the 4 systems under 10 minutes on 2 cores
# even when iomapfs is as slow as fuse2fs (about 55 s per system and run).
if [ $QUICK -eq 1 ]; then
	: "${RUNS:=1}" "${RUNTIME:=2}"
	RAMP_MS=0
else
	: "${RUNS:=3}" "${RUNTIME:=2}"
	RAMP_MS=500
fi
case $RUNS in
'' | *[!0-9]* | 0*) usage_error "--runs: '$RUNS' is not a positive whole number" ;;
esac
case $RUNTIME in
'' | *[!0-9]* | 0*) usage_error "--runtime: '$RUNTIME' is not a positive number of seconds" ;;
esac
[ "$RUNS" -le 50 ] || usage_error "--runs: $RUNS is more than 50"
[ "$RUNTIME" -le 600 ] || usage_error "--runtime: $RUNTIME is more than 600 s"
# Size-based jobs stop at CAP seconds so that a slow system cannot stretch
# the whole benchmark; their MB/s then covers what they moved.
CAP=$((RUNTIME * 4))
[ $CAP -ge 8 ] || CAP=8
# Nothing a job runs may take longer than this (a hung FUSE daemon).
LIMIT=$((CAP + 120))

if [ -n "$DISK_DIR" ]; then
	[ -d "$DISK_DIR" ] || usage_error "--disk: '$DISK_DIR' is not a directory"
	DISK_DIR=$(cd "$DISK_DIR" && pwd) || usage_error "--disk: cannot enter '$DISK_DIR'"
fi
if [ -z "$BUILD" ]; then
	BUILD=$(cd "$(dirname "$0")/.." && pwd)
elif [ ! -d "$BUILD" ]; then
	usage_error "--build: '$BUILD' is not a directory"
fi
BUILD=$(cd "$BUILD" && pwd)
[ -n "$JSON_FILE" ] || usage_error "--json needs a file name"
JSON_FILE=$(realpath -m -- "$JSON_FILE")
[ -d "$(dirname "$JSON_FILE")" ] ||
	usage_error "--json: the directory of '$JSON_FILE' does not exist"

IOMAPFS=$BUILD/daemon/iomapfs
IOMAPCTL=$BUILD/cli/iomapctl

# --- prerequisites -------------------------------------------------------

[ "$(id -u)" -eq 0 ] ||
	prereq_error "must run as root (it mounts loop devices and a tmpfs, and drops the page cache)"

need_fuse=0
for s in $SYSTEMS; do
	[ "$s" = kernel ] || need_fuse=1
done
# The fragmented file is built through fuse2fs (see make_frag_file).
in_list frag "$JOBS" && need_fuse=1

need_progs="fio jq mke2fs e2fsck filefrag losetup mount umount mountpoint timeout numfmt realpath"
[ $need_fuse -eq 0 ] || need_progs="$need_progs fusermount3"
if in_list fuse2fs "$SYSTEMS" || in_list frag "$JOBS"; then
	need_progs="$need_progs fuse2fs"
fi
missing=
for p in $need_progs; do
	command -v "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] ||
	prereq_error "missing program(s):$missing (Debian: apt-get install fio jq e2fsprogs fuse2fs fuse3)"
if [ $need_fuse -eq 1 ] && ! [ -c /dev/fuse ]; then
	prereq_error "/dev/fuse is missing; the FUSE systems and the frag job need it"
fi
[ -w /proc/sys/vm/drop_caches ] ||
	prereq_error "cannot write /proc/sys/vm/drop_caches; cold runs need it"

HAVE_IOMAPFS=0
[ -x "$IOMAPFS" ] && HAVE_IOMAPFS=1
HAVE_IOMAPCTL=0
[ -x "$IOMAPCTL" ] && HAVE_IOMAPCTL=1

# --- scratch space, mounts and cleanup ------------------------------------

SCRATCH=
TMPFS=
IMG=
MNT=
CUR_SYS=		# the system mounted at $MNT, if any
CUR_PID=		# its daemon, for the FUSE systems
CUR_SOCK=		# its control socket, for iomapfs
CUR_LOG=
JOB_SYS=		# the system a job measures (it may remount)

# wait_gone PID SECONDS: true once PID has exited (it is our child).
wait_gone() {
	local pid=$1 i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || {
			wait "$pid" 2>/dev/null
			return 0
		}
		sleep 0.1
	done
	return 1
}

is_mounted() {
	awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts
}

# force_unmount: the last resort, used by the trap and after a failed
# unmount: lazy unmount, stop our daemon, detach our loop devices.
force_unmount() {
	local dev
	if [ -n "$MNT" ] && is_mounted "$MNT"; then
		fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
	fi
	if [ -n "$CUR_PID" ] && kill -0 "$CUR_PID" 2>/dev/null; then
		wait_gone "$CUR_PID" 5 || {
			kill -TERM "$CUR_PID" 2>/dev/null
			wait_gone "$CUR_PID" 5 || kill -KILL "$CUR_PID" 2>/dev/null
		}
	fi
	if [ -n "$IMG" ]; then
		for dev in $(losetup -j "$IMG" -O NAME -n 2>/dev/null); do
			losetup -d "$dev" 2>/dev/null
		done
	fi
	CUR_SYS='' CUR_PID='' CUR_SOCK=''
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	cd /
	force_unmount
	[ -n "$IMG" ] && rm -f "$IMG"
	if [ -n "$TMPFS" ] && is_mounted "$TMPFS"; then
		umount "$TMPFS" 2>/dev/null || umount -l "$TMPFS"
	fi
	[ -n "$SCRATCH" ] && rm -rf "$SCRATCH"
	exit $rc
}
trap cleanup EXIT
trap 'msg "$PROG: interrupted; cleaning up"; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/fsbench.XXXXXX") ||
	prereq_error "cannot make a scratch directory under ${TMPDIR:-/tmp}"
MNT=$SCRATCH/mnt
mkdir "$MNT" || exit $EX_FAIL
RAW=$SCRATCH/results.tsv	# job run system value|FAIL
: >"$RAW"
FAILED=0

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# sys_mount SYS: mount the image at $MNT as SYS, cold.
sys_mount() {
	local sys=$1 opts i type
	if is_mounted "$MNT"; then
		# A FUSE mount left behind would pass for the new one below.
		msg "$PROG: $MNT is still mounted; unmounting it first"
		force_unmount
		! is_mounted "$MNT" || return 1
	fi
	drop_caches
	CUR_SYS=$sys CUR_PID='' CUR_SOCK=''
	CUR_LOG=$SCRATCH/$sys.log
	case $sys in
	kernel)
		vmsg "mount -o loop $IMG $MNT"
		mount -o loop "$IMG" "$MNT" 2>"$CUR_LOG" || {
			msg "$PROG: kernel: mount -o loop failed: $(cat "$CUR_LOG")"
			CUR_SYS=
			return 1
		}
		return 0
		;;
	fuse2fs)
		vmsg "fuse2fs -f -o fakeroot $IMG $MNT &"
		fuse2fs -f -o fakeroot "$IMG" "$MNT" >"$CUR_LOG" 2>&1 &
		CUR_PID=$!
		;;
	iomapfs | iomapfs-nocache)
		opts=
		[ "$sys" = iomapfs-nocache ] && opts=noiomap_cache
		if [ $HAVE_IOMAPCTL -eq 1 ]; then
			CUR_SOCK=$SCRATCH/$sys.sock
			opts="${opts:+$opts,}ctl_socket=$CUR_SOCK"
		fi
		vmsg "$IOMAPFS -f ${opts:+-o $opts} $IMG $MNT &"
		"$IOMAPFS" -f ${opts:+-o "$opts"} "$IMG" "$MNT" >"$CUR_LOG" 2>&1 &
		CUR_PID=$!
		;;
	esac
	for ((i = 0; i < 200; i++)); do
		type=$(awk -v m="$MNT" '$2 == m { print $3 }' /proc/mounts)
		case $type in
		fuse*) return 0 ;;
		esac
		if ! kill -0 "$CUR_PID" 2>/dev/null; then
			wait "$CUR_PID" 2>/dev/null
			msg "$PROG: $sys exited before mounting $MNT; its log:"
			sed 's/^/    /' "$CUR_LOG" >&2
			CUR_SYS='' CUR_PID='' CUR_SOCK=''
			return 1
		fi
		sleep 0.1
	done
	msg "$PROG: $sys did not mount $MNT within 20 s; its log:"
	sed 's/^/    /' "$CUR_LOG" >&2
	force_unmount
	return 1
}

# sys_umount: unmount $MNT and wait until the daemon has written everything
# back and exited, so that the next system sees a quiescent image.
sys_umount() {
	local ok=0
	[ -n "$CUR_SYS" ] || return 0
	if [ "$CUR_SYS" = kernel ]; then
		umount "$MNT" || ok=1
	else
		fusermount3 -u "$MNT" 2>/dev/null || umount "$MNT" || ok=1
		if [ $ok -eq 0 ] && ! wait_gone "$CUR_PID" 60; then
			msg "$PROG: $CUR_SYS (pid $CUR_PID) still runs 60 s after its unmount"
			ok=1
		fi
	fi
	if [ $ok -ne 0 ]; then
		msg "$PROG: $CUR_SYS: clean unmount of $MNT failed; forcing it"
		force_unmount
		return 1
	fi
	CUR_SYS='' CUR_PID='' CUR_SOCK=''
	return 0
}

# --- measuring -------------------------------------------------------------

# record JOB RUN SYS VALUE: VALUE is a number or FAIL.
record() {
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RAW"
	[ "$4" != FAIL ] || FAILED=1
}

# run_fio OUT ARGS...: run fio with JSON output to OUT, under a time limit,
# and check that its job reported no error.
run_fio() {
	local out=$1 err
	shift
	vmsg "fio $*"
	if ! timeout -k 5 "$LIMIT" fio --output-format=json --output="$out" \
		--ioengine=psync --fallocate=none --group_reporting=1 "$@" \
		>"$out.stderr" 2>&1; then
		msg "$PROG: $CUR_SYS: fio $1 failed: $(tail -n 5 "$out.stderr" "$out" 2>/dev/null)"
		return 1
	fi
	err=$(jq -r '[.jobs[].error] | max' "$out" 2>/dev/null)
	if [ "$err" != 0 ]; then
		msg "$PROG: $CUR_SYS: fio $1 reported error ${err:-(no JSON output)}"
		return 1
	fi
}

# fio_value OUT rw bw|iops: MB/s (10^6 bytes) or IOPS from fio's JSON.
fio_value() {
	jq -r --arg rw "$2" --arg what "$3" '
		.jobs[0][$rw] as $r |
		if $r.io_bytes <= 0 then "FAIL"
		elif $what == "bw" then ($r.bw_bytes / 1e6)
		else $r.iops end' "$1"
}

# ctl_stats: "lookups hits source_calls" of the mounted iomapfs, from
# "iomapctl -s SOCK -J stats" (-J is a global option of iomapctl; a trailing
# "stats -J" is tried too), or nothing when that is not available.
ctl_stats() {
	local json
	[ $HAVE_IOMAPCTL -eq 1 ] && [ -n "$CUR_SOCK" ] || return 0
	json=$(timeout 20 "$IOMAPCTL" -s "$CUR_SOCK" -J stats 2>>"$CUR_LOG") ||
		json=$(timeout 20 "$IOMAPCTL" -s "$CUR_SOCK" stats -J 2>>"$CUR_LOG") ||
		return 0
	jq -r 'first(.. | objects | select(has("source_calls")))
			// first(.. | objects | select(has("lookups") and has("misses")))
			| [.lookups, .hits, (.source_calls // .misses)]
			| select(all(.[]; type == "number"))
			| map(tostring) | join(" ")' <<<"$json" 2>>"$CUR_LOG"
}

# elapsed SCRIPT ARGS...: run a bash SCRIPT that prints "$start $end" from
# EPOCHREALTIME; print the seconds between, or fail.
elapsed() {
	local out
	out=$(timeout -k 5 "$LIMIT" bash -c "$@") || return 1
	awk '{ printf "%.6f\n", $2 - $1 }' <<<"$out"
}

job_seqread() {
	local o=$SCRATCH/out.json
	run_fio "$o" --name=seqread --filename="$MNT/data.big" --rw=read \
		--bs=1M --size="$SIZE" --numjobs=1 --runtime="$CAP" &&
		record seqread "$1" "$CUR_SYS" "$(fio_value "$o" read bw)"
}

job_seqwrite() {
	local o=$SCRATCH/out.json rc
	rm -f "$MNT/seqwrite.tmp"
	run_fio "$o" --name=seqwrite --filename="$MNT/seqwrite.tmp" \
		--rw=write --bs=1M --size="$SIZE" --end_fsync=1 --numjobs=1 \
		--runtime="$CAP" &&
		record seqwrite "$1" "$CUR_SYS" "$(fio_value "$o" write bw)"
	rc=$?
	rm -f "$MNT/seqwrite.tmp"
	return $rc
}

# job_rand JOB FILE RW NJOBS RUN
job_rand() {
	local o=$SCRATCH/out.json rw=$3
	run_fio "$o" --name="$1" --filename="$MNT/$2" --rw="$rw" --bs=4k \
		--direct=1 --size="$SIZE" --numjobs="$4" --time_based=1 \
		--runtime="$RUNTIME" --ramp_time="${RAMP_MS}ms" &&
		record "$1" "$5" "$CUR_SYS" "$(fio_value "$o" "${rw#rand}" iops)"
}
job_randread1() { job_rand randread1 data.big randread 1 "$1"; }
job_randread4() { job_rand randread4 data.big randread 4 "$1"; }
job_randwrite1() { job_rand randwrite1 overwrite.big randwrite 1 "$1"; }
job_randwrite4() { job_rand randwrite4 overwrite.big randwrite 4 "$1"; }

job_append() {
	local o=$SCRATCH/out.json d=$MNT/append.d rc
	local nfiles=$((SIZE / 4 / (2 << 20)))
	rm -rf "$d" && mkdir "$d" || return 1
	run_fio "$o" --name=append --directory="$d" --nrfiles="$nfiles" \
		--filesize=2M --rw=write --bs=64k --create_on_open=1 \
		--file_service_type=sequential --end_fsync=1 --numjobs=1 \
		--runtime="$CAP" &&
		record append "$1" "$CUR_SYS" "$(fio_value "$o" write bw)"
	rc=$?
	rm -rf "$d"
	return $rc
}

# The three metadata steps, each on a fresh cold mount and timed inside one
# bash process.  ls -l must list every file, or the step fails.
job_meta() {
	local run=$1 d=$MNT/meta.d t n
	rm -rf "$d"
	mkdir "$d" || return 1
	# shellcheck disable=SC2016
	if t=$(elapsed 's=$EPOCHREALTIME
		for ((i = 0; i < $2; i++)); do
			printf "small file %d\n" $i >"$1/f$i" || exit 1
		done
		echo "$s $EPOCHREALTIME"' meta "$d" "$META_FILES"); then
		record meta-create "$run" "$CUR_SYS" "$t"
	else
		msg "$PROG: $CUR_SYS: creating $META_FILES files failed"
		record meta-create "$run" "$CUR_SYS" FAIL
	fi
	sys_umount && sys_mount "$JOB_SYS" || return 1
	# shellcheck disable=SC2016
	if t=$(elapsed 's=$EPOCHREALTIME
		ls -l "$1" >"$2" || exit 1
		echo "$s $EPOCHREALTIME"' meta "$d" "$SCRATCH/ls.out") &&
		n=$(grep -c '^-' "$SCRATCH/ls.out") && [ "$n" -eq "$META_FILES" ]; then
		record meta-ls "$run" "$CUR_SYS" "$t"
	else
		msg "$PROG: $CUR_SYS: ls -l listed ${n:-no} files, expected $META_FILES"
		record meta-ls "$run" "$CUR_SYS" FAIL
	fi
	sys_umount && sys_mount "$JOB_SYS" || return 1
	# shellcheck disable=SC2016
	if t=$(elapsed 's=$EPOCHREALTIME
		rm -rf "$1" || exit 1
		echo "$s $EPOCHREALTIME"' meta "$d") && ! [ -e "$d" ]; then
		record meta-unlink "$run" "$CUR_SYS" "$t"
	else
		msg "$PROG: $CUR_SYS: unlinking $META_FILES files failed"
		record meta-unlink "$run" "$CUR_SYS" FAIL
	fi
	rm -rf "$d"
	return 0
}

# Random reads of the fragmented file, after one sequential pass that warms
# whatever mapping cache the system has; iomapfs's counters are read around
# the timed part only.
job_frag() {
	local run=$1 o=$SCRATCH/out.json s0 s1 bytes l0 h0 c0 l1 h1 c1
	cat "$MNT/frag" >/dev/null || return 1
	s0=$(ctl_stats)
	run_fio "$o" --name=frag --filename="$MNT/frag" --rw=randread --bs=4k \
		--direct=1 --size="$FRAG_BYTES" --numjobs=1 --time_based=1 \
		--runtime="$RUNTIME" || return 1
	s1=$(ctl_stats)
	record frag-read "$run" "$CUR_SYS" "$(fio_value "$o" read iops)"
	case $CUR_SYS in
	iomapfs*) ;;
	*) return 0 ;;
	esac
	if [ -z "$s0" ] || [ -z "$s1" ]; then
		[ $HAVE_IOMAPCTL -eq 0 ] ||
			msg "$PROG: $CUR_SYS: iomapctl stats -J gave no counters; see $CUR_LOG"
		return 0
	fi
	bytes=$(jq -r '.jobs[0].read.io_bytes' "$o")
	read -r l0 h0 c0 <<<"$s0"
	read -r l1 h1 c1 <<<"$s1"
	record frag-maps "$run" "$CUR_SYS" \
		"$(awk -v c=$((c1 - c0)) -v b="$bytes" 'BEGIN { print c / (b / 1073741824) }')"
	if [ $((l1 - l0)) -gt 0 ]; then
		record frag-hits "$run" "$CUR_SYS" \
			"$(awk -v h=$((h1 - h0)) -v l=$((l1 - l0)) 'BEGIN { print 100 * h / l }')"
	fi
}

# run_job JOB SYS RUN: one measurement on a fresh cold mount.
run_job() {
	local job=$1 sys=$2 run=$3 rc
	sys_mount "$sys" || {
		record_fail "$job" "$run" "$sys"
		return 1
	}
	JOB_SYS=$sys
	"job_$job" "$run"
	rc=$?
	sys_umount || rc=1
	if [ $rc -ne 0 ]; then
		record_fail "$job" "$run" "$sys"
		return 1
	fi
	return 0
}

# record_fail JOB RUN SYS: mark every row of JOB that this run did not
# record as failed.
record_fail() {
	local row
	for row in $(job_rows "$1"); do
		awk -F'\t' -v j="$row" -v r="$2" -v s="$3" \
			'$1 == j && $2 == r && $3 == s { f = 1 } END { exit !f }' "$RAW" ||
			record "$row" "$2" "$3" FAIL
	done
}

# job_rows JOB: the table rows a job fills.
job_rows() {
	case $1 in
	meta) echo meta-create meta-ls meta-unlink ;;
	frag) echo frag-read ;;
	*) echo "$1" ;;
	esac
}

# --- the image -------------------------------------------------------------

FRAG_EXTENTS=

# make_frag_file: a file of one-block extents.  fuse2fs allocates each 4 KiB
# write as it arrives, with no delayed allocation or preallocation, so
# writing two files in turns, one block each, interleaves their blocks on
# disk; deleting the second leaves the first with one extent per block.
# (The kernel's ext4 would keep each file contiguous.)
make_frag_file() {
	local o=$SCRATCH/frag.json
	sys_mount fuse2fs || return 1
	run_fio "$o" --name=frag --directory="$MNT" --nrfiles=2 \
		--filesize="$FRAG_BYTES" --rw=write --bs=4k \
		--file_service_type=roundrobin --numjobs=1 &&
		mv "$MNT/frag.0.0" "$MNT/frag" && rm "$MNT/frag.0.1" || {
		sys_umount
		return 1
	}
	sys_umount || return 1
	sys_mount kernel || return 1
	FRAG_EXTENTS=$(filefrag "$MNT/frag" | sed -n 's/.*: \([0-9]*\) extents\{0,1\} found$/\1/p')
	sys_umount || return 1
	if [ -z "$FRAG_EXTENTS" ] || [ "$FRAG_EXTENTS" -lt $FRAG_MIN_EXTENTS ]; then
		msg "$PROG: the fragmented file has ${FRAG_EXTENTS:-an unknown number of} extents, not $FRAG_MIN_EXTENTS+"
		return 1
	fi
}

setup_image() {
	local img_bytes=$((4 * SIZE + (512 << 20))) need avail f o
	# The image is sparse: the files use about 2 x SIZE, the runs up to
	# 3 x SIZE at once.  Page caches and loop copies need the same again.
	need=$((3 * SIZE + (256 << 20)))
	if [ -n "$DISK_DIR" ]; then
		avail=$(df -B1 --output=avail "$DISK_DIR" | tail -n 1)
		[ "$avail" -ge "$need" ] ||
			prereq_error "--disk $DISK_DIR: $((need >> 20)) MiB free needed, $((avail >> 20)) MiB free"
		IMG=$(mktemp "$DISK_DIR/fsbench.XXXXXX.img") ||
			prereq_error "cannot create an image in $DISK_DIR"
	else
		avail=$(awk '$1 == "MemAvailable:" { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)
		[ "$avail" -ge $((2 * need)) ] ||
			prereq_error "a tmpfs image of this size needs $((2 * need >> 20)) MiB of free memory, $((avail >> 20)) MiB is available; use a smaller --size or --disk DIR"
		TMPFS=$SCRATCH/tmpfs
		mkdir "$TMPFS" &&
			mount -t tmpfs -o "size=$((img_bytes + (64 << 20))),mode=0700" \
				fsbench "$TMPFS" ||
			prereq_error "cannot mount a tmpfs on $TMPFS"
		IMG=$TMPFS/fsbench.img
	fi
	msg "$PROG: making a $((img_bytes >> 20)) MiB ext4 image: $IMG"
	truncate -s "$img_bytes" "$IMG" &&
		mke2fs -q -F -t ext4 -L fsbench \
			-E nodiscard,lazy_itable_init=0,lazy_journal_init=0 "$IMG" ||
		return 1
	sys_mount kernel || return 1
	for f in data.big overwrite.big; do
		case $f:$JOBS in
		data.big:*seqread* | data.big:*randread* | overwrite.big:*randwrite*) ;;
		*) continue ;;
		esac
		run_fio "$SCRATCH/fill.json" --name=fill --filename="$MNT/$f" \
			--rw=write --bs=1M --size="$SIZE" --end_fsync=1 || {
			sys_umount
			return 1
		}
	done
	sys_umount || return 1
	if in_list frag "$JOBS"; then
		msg "$PROG: writing a fragmented file of $((FRAG_BYTES >> 20)) MiB through fuse2fs"
		make_frag_file || return 1
	fi
	o=$(e2fsck -fn "$IMG" 2>&1) || {
		msg "$PROG: the fresh image is not clean:"
		msg "$o"
		return 1
	}
}

# --- results -----------------------------------------------------------------

# row_info ROW: label, unit, 1 if higher is better, the iomapfs/kernel
# target (a speed ratio) or -, separated by '|'.
row_info() {
	case $1 in
	seqread) echo "seq read 1M, 1 job|MB/s|1|0.8" ;;
	seqwrite) echo "seq write 1M + fsync, 1 job|MB/s|1|0.6" ;;
	randread1) echo "rand read 4k direct, 1 job|IOPS|1|-" ;;
	randread4) echo "rand read 4k direct, 4 jobs|IOPS|1|0.8" ;;
	randwrite1) echo "rand overwrite 4k direct, 1 job|IOPS|1|-" ;;
	randwrite4) echo "rand overwrite 4k direct, 4 jobs|IOPS|1|0.6" ;;
	append) echo "append 64k to new files + fsync|MB/s|1|-" ;;
	meta-create) echo "create $META_FILES files|s|0|0.33" ;;
	meta-ls) echo "ls -l $META_FILES files, cold|s|0|0.33" ;;
	meta-unlink) echo "unlink $META_FILES files|s|0|0.33" ;;
	frag-read) echo "frag file rand read 4k direct|IOPS|1|-" ;;
	frag-maps) echo "frag: map computations per GiB|/GiB|0|-" ;;
	frag-hits) echo "frag: cache hit ratio|%|1|-" ;;
	esac
}

# fmt UNIT VALUE: a value for the table.
fmt() {
	case $2 in
	'' | *[!0-9.e+-]*) echo "$2" ;;
	*)
		case $1 in
		MB/s) awk -v v="$2" 'BEGIN { printf(v >= 100 ? "%.0f" : "%.1f", v) }' ;;
		s) awk -v v="$2" 'BEGIN { printf "%.3f", v }' ;;
		%) awk -v v="$2" 'BEGIN { printf "%.2f%%", v }' ;;
		*) awk -v v="$2" 'BEGIN { printf "%.0f", v }' ;;
		esac
		;;
	esac
}

# cell ROW SYS: "status median runs" for one cell, where status is ok,
# FAIL, not-built, n/a (not measured for SYS) or none (not run).
cell() {
	local row=$1 sys=$2 vals
	case $sys in
	iomapfs*)
		[ $HAVE_IOMAPFS -eq 1 ] || {
			echo not-built
			return
		}
		;;
	*)
		case $row in
		frag-maps | frag-hits)
			echo n/a
			return
			;;
		esac
		;;
	esac
	vals=$(awk -F'\t' -v j="$row" -v s="$sys" '$1 == j && $3 == s { print $4 }' "$RAW")
	if [ -z "$vals" ]; then
		echo n/a
	elif grep -qx FAIL <<<"$vals"; then
		echo FAIL
	else
		sort -g <<<"$vals" | awk '{ a[NR] = $1; r = r (NR > 1 ? "," : "") $1 }
			END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
				printf "ok %.6g %s\n", m, r }'
	fi
}

# speed_ratio HIB A B: A's speed over B's, given two medians.
speed_ratio() {
	awk -v h="$1" -v a="$2" -v b="$3" 'BEGIN {
		if (a <= 0 || b <= 0) exit 1
		printf "%.4f\n", h ? a / b : b / a }'
}

RATIOS="iomapfs/kernel iomapfs/fuse2fs fuse2fs/kernel"

report() {
	local rows=() row j info label unit hib tk sys st med runs c r name
	local a b target mark shown_ratios='' w=17 sum=$SCRATCH/summary.tsv
	local ratio_tsv=$SCRATCH/ratios.tsv mapping
	: >"$sum"
	: >"$ratio_tsv"
	for j in $JOBS; do
		# shellcheck disable=SC2207
		rows+=($(job_rows "$j"))
		if [ "$j" = frag ] && has_iomapfs_system; then
			rows+=(frag-maps frag-hits)
		fi
	done
	for name in $RATIOS; do
		in_list "${name%/*}" "$SYSTEMS" && in_list "${name#*/}" "$SYSTEMS" &&
			shown_ratios="$shown_ratios $name"
	done

	printf '\n%-42s' "median of $RUNS run(s)"
	for sys in $SYSTEMS; do printf ' %*s' $w "$sys"; done
	for name in $shown_ratios; do printf ' %*s' $w "$name"; done
	printf '\n'
	for row in "${rows[@]}"; do
		info=$(row_info "$row")
		IFS='|' read -r label unit hib tk <<<"$info"
		printf '%-42s' "$label ($unit)"
		declare -A med_of=()
		for sys in $SYSTEMS; do
			read -r st med runs <<<"$(cell "$row" "$sys")"
			printf '%s\t%s\t%s\t%s\t%s\n' "$row" "$sys" "$st" "${med:-}" "${runs:-}" >>"$sum"
			case $st in
			ok)
				c=$(fmt "$unit" "$med")
				med_of[$sys]=$med
				;;
			not-built) c="n/a (not built)" ;;
			n/a)
				case $row:$sys in
				frag-*:iomapfs*)
					c="n/a (no stats)"
					[ $HAVE_IOMAPCTL -eq 1 ] ||
						c="n/a (no iomapctl)"
					;;
				*) c=- ;;
				esac
				;;
			*) c=$st ;;
			esac
			printf ' %*s' $w "$c"
		done
		for name in $shown_ratios; do
			a=${med_of[${name%/*}]:-}
			b=${med_of[${name#*/}]:-}
			case $row in
			frag-maps | frag-hits)
				printf ' %*s' $w -
				continue
				;;
			esac
			target=-
			case $name in
			iomapfs/kernel) target=$tk ;;
			iomapfs/fuse2fs) target=1.5 ;;
			esac
			if [ -n "$a" ] && [ -n "$b" ] && r=$(speed_ratio "$hib" "$a" "$b"); then
				mark=
				if [ "$target" != - ] &&
					awk -v r="$r" -v t="$target" 'BEGIN { exit !(r < t) }'; then
					mark='*'
				fi
				printf ' %*s' $w "$(printf '%.2fx%s' "$r" "${mark:- }")"
			else
				r=
				printf ' %*s' $w "n/a "
			fi
			printf '%s\t%s\t%s\t%s\n' "$row" "$name" "$r" "$target" >>"$ratio_tsv"
		done
		printf '\n'
		unset med_of
	done

	mapping=$(mapping_summary)
	[ -z "$mapping" ] || printf '%s\n' "$mapping" | jq -r '
		"frag file (\(.extents) extents): map computations per GiB read: cache on \(.maps_per_gib_cache_on | if . then round else "n/a" end), cache off \(.maps_per_gib_cache_off | if . then round else "n/a" end); cut \(if .cut then "\(.cut | . * 10 | round / 10)x" else "n/a" end) (target >= 100x); hit ratio \(if .hit_ratio_cache_on then "\(.hit_ratio_cache_on | . * 100 | round / 100)%" else "n/a" end) (target >= 99%)"'
	printf 'Ratios are speeds (for seconds, the inverse of the time ratio): > 1 means the first is faster; * = below the issue-5 target.\n'
	[ $HAVE_IOMAPFS -eq 1 ] || ! has_iomapfs_system ||
		printf 'iomapfs is not built (no %s).\n' "$IOMAPFS"

	write_json "$sum" "$ratio_tsv" "$mapping"
}

# mapping_summary: the frag job's iomapfs counters as a JSON object.
mapping_summary() {
	local on off hits
	in_list frag "$JOBS" && has_iomapfs_system || return 0
	on=$(cell frag-maps iomapfs)
	off=$(cell frag-maps iomapfs-nocache)
	hits=$(cell frag-hits iomapfs)
	jq -n -c --arg on "$on" --arg off "$off" --arg hits "$hits" \
		--arg ext "${FRAG_EXTENTS:-0}" '
		def med: split(" ") | if .[0] == "ok" then (.[1] | tonumber) else null end;
		($on | med) as $a | ($off | med) as $b |
		{ extents: ($ext | tonumber),
		  maps_per_gib_cache_on: $a, maps_per_gib_cache_off: $b,
		  cut: (if $a != null and $b != null and $a > 0 then $b / $a
			else null end),
		  hit_ratio_cache_on: ($hits | med) }'
}

write_json() {
	local sum=$1 ratios=$2 mapping=${3:-null} rowmeta=$SCRATCH/rows.tsv row
	: >"$rowmeta"
	for row in $(cut -f1 "$sum" | uniq); do
		printf '%s|%s\n' "$row" "$(row_info "$row")" >>"$rowmeta"
	done
	jq -n \
		--rawfile sum "$sum" --rawfile ratios "$ratios" --rawfile rows "$rowmeta" \
		--argjson mapping "$mapping" \
		--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		--arg kernel "$(uname -r)" \
		--arg cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
		--argjson cpus "$(nproc)" \
		--argjson mem "$(awk '$1 == "MemTotal:" { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)" \
		--arg backing "$([ -n "$DISK_DIR" ] && echo disk || echo tmpfs)" \
		--arg imgdir "$(dirname "$IMG")" \
		--argjson size "$SIZE" --argjson runs "$RUNS" \
		--argjson runtime "$RUNTIME" --argjson ramp "$(awk -v m=$RAMP_MS 'BEGIN { print m / 1000 }')" \
		--argjson quick "$QUICK" --argjson metafiles "$META_FILES" \
		--argjson fragext "${FRAG_EXTENTS:-null}" \
		--argjson elapsed "$(($(date +%s) - START))" \
		--arg systems "$SYSTEMS" --arg jobs "$JOBS" \
		--argjson built "$HAVE_IOMAPFS" --argjson ctl "$HAVE_IOMAPCTL" \
		--arg iomapfs "$IOMAPFS" '
		def lines: split("\n") | map(select(length > 0));
		def num: if . == "" then null else tonumber end;
		($sum | lines | map(split("\t"))) as $cells |
		($ratios | lines | map(split("\t"))) as $rat |
		{
		  schema: 1,
		  tool: "fsbench.sh",
		  date: $date,
		  host: { cpu: $cpu, cpus: $cpus, mem_bytes: $mem, kernel: $kernel },
		  config: { backing: $backing, image_dir: $imgdir,
			file_bytes: $size, runs: $runs, runtime_s: $runtime,
			ramp_s: $ramp, quick: ($quick == 1),
			meta_files: $metafiles, frag_extents: $fragext,
			elapsed_s: $elapsed,
			jobs: ($jobs | split(" ")), systems: ($systems | split(" ")),
			iomapfs: { path: $iomapfs, built: ($built == 1),
				stats: ($ctl == 1) } },
		  results: [ $rows | lines[] | split("|") as $r | {
			id: $r[0], label: $r[1], unit: $r[2],
			higher_is_better: ($r[3] == "1"),
			systems: ([ $cells[] | select(.[0] == $r[0]) | {
				key: .[1],
				value: { status: (if .[2] == "not-built" then "not built" else .[2] end),
					median: (.[3] | num),
					runs: (.[4] | if . == "" then [] else split(",") | map(tonumber) end) } } ]
				| from_entries),
			ratios: ([ $rat[] | select(.[0] == $r[0]) | {
				key: .[1],
				value: { speed_ratio: ((.[2] // "") | num),
					target: ((.[3] // "-") | if . == "-" then null else tonumber end) } } ]
				| from_entries) } ],
		  mapping: $mapping
		}' >"$JSON_FILE.tmp" && mv "$JSON_FILE.tmp" "$JSON_FILE" || {
		rm -f "$JSON_FILE.tmp"
		msg "$PROG: could not write $JSON_FILE"
		return 1
	}
	printf 'JSON: %s\n' "$JSON_FILE"
}

# progress JOB SYS RUN SECONDS: one line on stderr with what the run measured.
progress() {
	local row info unit v line=''
	for row in $(job_rows "$1") frag-maps frag-hits; do
		v=$(awk -F'\t' -v j="$row" -v r="$3" -v s="$2" \
			'$1 == j && $2 == r && $3 == s { print $4 }' "$RAW")
		[ -n "$v" ] || continue
		info=$(row_info "$row")
		unit=$(cut -d'|' -f2 <<<"$info")
		[ "$v" != FAIL ] || unit=''
		v=$(fmt "$unit" "$v")
		[ "$unit" != % ] || unit=''
		line="$line  $row $v${unit:+ $unit}"
	done
	msg "[run $3/$RUNS] $(printf '%-16s' "$2")$line  ($4 s)"
}

# --- main ------------------------------------------------------------------

START=$(date +%s)
msg "$PROG: systems: $SYSTEMS; jobs: $JOBS; $RUNS run(s), ${RUNTIME} s timed after a ${RAMP_MS} ms ramp, files of $((SIZE >> 20)) MiB"
if [ $HAVE_IOMAPFS -eq 0 ] && has_iomapfs_system; then
	msg "$PROG: $IOMAPFS is not built: its columns will read n/a (not built)"
elif [ $HAVE_IOMAPFS -eq 1 ] && [ $HAVE_IOMAPCTL -eq 0 ]; then
	msg "$PROG: $IOMAPCTL is not built: no mapping statistics"
fi
if ! setup_image || [ -z "$IMG" ] || ! [ -f "$IMG" ]; then
	msg "$PROG: could not prepare the image"
	exit $EX_FAIL
fi

for ((run = 1; run <= RUNS; run++)); do
	for job in $JOBS; do
		for sys in $SYSTEMS; do
			case $sys in
			iomapfs*) [ $HAVE_IOMAPFS -eq 1 ] || continue ;;
			esac
			t0=$EPOCHREALTIME
			run_job "$job" "$sys" "$run"
			progress "$job" "$sys" "$run" \
				"$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
		done
	done
done

o=$(e2fsck -fn "$IMG" 2>&1) || {
	msg "$PROG: WARNING: e2fsck -fn finds the image damaged after the runs:"
	msg "$(head -n 20 <<<"$o")"
	FAILED=1
}
report || FAILED=1
msg "$PROG: done in $(($(date +%s) - START)) s"
[ $FAILED -eq 0 ] || exit $EX_FAIL
exit $EX_OK
