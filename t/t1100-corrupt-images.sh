#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t1100-corrupt-images.sh - mount images with seeded random bytes changed in
# their metadata (t/corrupt/make-corrupt) and walk them: find, stat, cat,
# readlink, getfattr, ls -l, then create, append, mkdir and rm.  For every
# image the daemon must either refuse the mount with a message that names
# the problem, or serve it and return errors (EIO, EUCLEAN, ...) where the
# metadata is bad: never die of a signal, hang or print a sanitizer report.
#
# The daemon is the sanitizer build when $BUILD_DIR is configured with
# --enable-sanitizers; otherwise the script configures and builds an ASan
# and UBSan copy of daemon/iomapfs (about 25 s), or, with
# IOMAPFS_SKIP_SANITIZER_BUILD set, uses the normal build.
#   IOMAPFS_CORRUPT_IMAGES  how many images (default 40; "make corrupt": 500)
#   IOMAPFS_CORRUPT_SEED    the seed (default 1); a manifest line per image
#                           (corrupt-manifest in the scratch directory, and
#                           in the failure output) gives the changed bytes:
#                           t/corrupt/make-corrupt replay rebuilds it
#   IOMAPFS_CORRUPT_DAEMON  the iomapfs binary to test instead
test_description='corrupted images: refused cleanly or served with errors, never a crash or hang'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq ROOT || skip_all "mounting needs root"
test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"
command -v python3 >/dev/null || skip_all "no python3"
command -v getfattr >/dev/null || skip_all "no getfattr (package attr)"

GEN=$SRC_DIR/t/corrupt/make-corrupt
# gen ARGS: the generator, by python3 (a dist tarball may lose its mode).
gen() {
	python3 "$GEN" "$@"
}
NIMG=${IOMAPFS_CORRUPT_IMAGES:-40}
SEED=${IOMAPFS_CORRUPT_SEED:-1}
# Per step: a walk step of a small image takes well under a second.
STEP_TIMEOUT=${IOMAPFS_CORRUPT_TIMEOUT:-20}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86:handle_abort=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87

daemon=
if [ -n "${IOMAPFS_CORRUPT_DAEMON:-}" ]; then
	daemon=$IOMAPFS_CORRUPT_DAEMON
	daemon_kind="given by IOMAPFS_CORRUPT_DAEMON"
elif grep -q '^SAN_CFLAGS = .*-fsanitize' "$BUILD_DIR/Makefile" 2>/dev/null; then
	daemon=$IOMAPFS
	daemon_kind="the sanitizer build in $BUILD_DIR"
elif [ -n "${IOMAPFS_SKIP_SANITIZER_BUILD:-}" ]; then
	daemon=$IOMAPFS
	daemon_kind="the normal build (IOMAPFS_SKIP_SANITIZER_BUILD is set)"
fi

# build_asan_daemon: configure $SRC_DIR out of tree with
# --enable-sanitizers and build daemon/iomapfs alone; a source tree that
# is configured in place cannot build elsewhere: copy it first.
build_asan_daemon() {
	local src=$SRC_DIR
	mkdir -p "$TRASH/asan" &&
	if [ -f "$src/config.status" ] || [ ! -x "$src/configure" ]; then
		src=$TRASH/asan-src &&
		mkdir -p "$src" &&
		git -C "$SRC_DIR" ls-files -z --cached --others \
			--exclude-standard |
			(cd "$SRC_DIR" && xargs -0 cp --parents -t "$src" \
				2>/dev/null; true) &&
		(cd "$src" && rm -f config.status && make distclean \
			>/dev/null 2>&1; autoreconf -fi >autoreconf.log 2>&1)
	fi &&
	(cd "$TRASH/asan" &&
	 "$src/configure" -q --enable-sanitizers >configure.log 2>&1 &&
	 make -j"$(nproc)" daemon/iomapfs >make.log 2>&1) || {
		tail -n 30 "$TRASH"/asan/*.log
		return 1
	}
	daemon=$TRASH/asan/daemon/iomapfs
}

if [ -z "$daemon" ]; then
	test_expect_success 'build an ASan and UBSan copy of the daemon' '
		build_asan_daemon
	'
	daemon=$TRASH/asan/daemon/iomapfs
	daemon_kind="an ASan and UBSan copy built here"
fi
say "daemon: $daemon_kind"

test_expect_success 'make the base images and find their metadata' '
	gen base base &&
	test -s base/regions.json
'

# Counters of the outcomes, and the errors seen (message -> count).
n_refused=0 n_refused_ro=0 n_clean=0 n_errors=0 n_bad=0
declare -A errs=() refusals=()
mkdir -p "$TRASH/mnt"
mnt=$(realpath "$TRASH/mnt")
daemon_pid=
test_atexit 'corrupt_cleanup_'

# is_mounted_: $mnt is a FUSE mount; by /proc/mounts, since mountpoint(1)
# needs a stat of the root, which a corrupt root inode fails.
is_mounted_() {
	grep -q " $mnt fuse" /proc/mounts
}

# corrupt_cleanup_: no mount or daemon is left behind, even after a hang.
corrupt_cleanup_() {
	local c
	if is_mounted_; then
		for c in /sys/fs/fuse/connections/*; do
			[ "$(cat "$c/waiting" 2>/dev/null)" != 0 ] &&
				echo 1 >"$c/abort" 2>/dev/null
		done
		fusermount3 -u -z "$mnt" 2>/dev/null || umount -l "$mnt"
	fi
	if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
		kill -KILL "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
	fi
	daemon_pid=
	return 0
}

# fail_ MSG: the image broke a rule; the details go to $report.
fail_() {
	echo "$*" >>"$report"
	bad=1
}

# step NAME CMD...: run CMD under timeout, its errors into $walk_err.  A
# timeout is a hang; a command killed otherwise, or the daemon gone, too.
step() {
	local name=$1 rc
	shift
	timeout -k 3 "$STEP_TIMEOUT" "$@" >/dev/null 2>>"$walk_err" </dev/null
	rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		fail_ "hang: '$name' did not finish within ${STEP_TIMEOUT} s"
		return 1
	fi
	if ! kill -0 "$daemon_pid" 2>/dev/null; then
		fail_ "the daemon is gone after '$name'"
		return 1
	fi
	return 0
}

# walk: read everything, then change a little.
walk() {
	local first
	step find find "$mnt" &&
	step stat bash -c 'find "$1" -print0 | xargs -0 -r stat' - "$mnt" &&
	step ls ls -lRa "$mnt" &&
	# At most 64 MiB of each file: a corrupt size may make a sparse
	# file of a TiB, which reads as zeros at disk speed for an hour.
	step cat bash -c 'find "$1" -type f -print0 |
		xargs -0 -r -n 1 head -c 64M' - "$mnt" &&
	step readlink bash -c 'find "$1" -type l -print0 |
		xargs -0 -r readlink' - "$mnt" &&
	step getfattr getfattr --absolute-names -R -h -d -m - "$mnt" || return 1
	[ "$1" = ro ] && return 0
	first=$(timeout 10 find "$mnt" -type f -print -quit 2>/dev/null)
	step create bash -c 'echo new >"$1/corrupt-new"' - "$mnt" &&
	step append bash -c 'echo more >>"$1/corrupt-new"' - "$mnt" &&
	step append-old bash -c '[ -z "$2" ] || echo more >>"$2"' - "$mnt" \
		"$first" &&
	step mkdir mkdir "$mnt/corrupt-dir" "$mnt/d1/corrupt-dir" &&
	step create-in-dir bash -c 'echo x >"$1/corrupt-dir/f" &&
		echo y >"$1/d1/corrupt-dir/g" && ls -l "$1/corrupt-dir"' - \
		"$mnt" &&
	step rm rm -rf "$mnt/corrupt-new" "$mnt/corrupt-dir" \
		"$mnt/d1/corrupt-dir" "$mnt/d1/f" &&
	step sync sync -f "$mnt/."
}

# mount_walk MODE: mount the image rw or ro, walk it, unmount.  Sets
# $outcome: refused, clean or errors.
mount_walk() {
	local mode=$1 i rc
	walk_err=$TRASH/walk-$mode.err
	: >"$walk_err"
	log=$TRASH/daemon-$mode.log
	"$daemon" -f -o "$mode,errors=continue,ctl_socket=$TRASH/ctl.sock" \
		img "$mnt" >"$log" 2>&1 &
	daemon_pid=$!
	for i in $(seq 1 400); do
		is_mounted_ && break
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.025
	done
	if ! is_mounted_; then
		if kill -0 "$daemon_pid" 2>/dev/null; then
			fail_ "hang: the daemon neither mounted nor exited in 10 s"
			corrupt_cleanup_
			return 1
		fi
		wait "$daemon_pid"
		rc=$?
		daemon_pid=
		if [ $rc -gt 128 ] || [ $rc -eq 86 ] || [ $rc -eq 87 ]; then
			fail_ "the daemon died (exit $rc) instead of refusing"
		elif [ $rc -eq 0 ]; then
			fail_ "the daemon exited 0 without mounting"
		elif ! grep -v -e ': note: ' -e ': warning: ' "$log" |
			grep -q "^iomapfs: .*$TRASH/img"; then
			fail_ "refused (exit $rc) without a message naming the image"
		fi
		outcome=refused
		refusal=$(grep -v -e ': note: ' -e ': warning: ' "$log" |
			grep -m1 '^iomapfs: ' |
			sed -e "s|$TRASH/img|IMG|" -e 's/^iomapfs: IMG: //')
		refusal=${refusal:-(no message)}
		refusals["$refusal"]=$((${refusals["$refusal"]:-0} + 1))
		return 0
	fi
	walk "$mode"
	timeout 20 fusermount3 -u "$mnt" 2>>"$log" ||
		{ sleep 0.5; timeout 20 fusermount3 -u "$mnt" 2>>"$log"; } ||
		fail_ "cannot unmount: $(tail -n 1 "$log")"
	for i in $(seq 1 400); do
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.025
	done
	if kill -0 "$daemon_pid" 2>/dev/null; then
		fail_ "hang: the daemon still runs 10 s after the unmount"
		corrupt_cleanup_
		return 1
	fi
	wait "$daemon_pid"
	rc=$?
	daemon_pid=
	if [ $rc -gt 128 ] || [ $rc -eq 86 ] || [ $rc -eq 87 ]; then
		fail_ "the daemon died (exit $rc)"
	fi
	if [ -s "$walk_err" ]; then
		outcome=errors
	else
		outcome=clean
	fi
	return 0
}

# classify_errors FILE: count the error messages of the walk; a message
# other than those a corrupt filesystem may give is a wrong error (EINVAL,
# ENOMEM, ENOTCONN...).  The steps run bash, not sh: dash says "I/O
# error" for any failed write and "Directory nonexistent" for ENOENT.
classify_errors() {
	local msg
	while IFS= read -r msg; do
		errs["$msg"]=$((${errs["$msg"]:-0} + 1))
		case $msg in
		"Input/output error" | "Structure needs cleaning" | \
		"No such file or directory" | "No space left on device" | \
		"Read-only file system" | "Not a directory" | \
		"Is a directory" | "Too many levels of symbolic links" | \
		"File name too long" | "No data available" | \
		"Directory not empty" | "File exists" | \
		"Operation not permitted" | "File too large" | \
		"Value too large for defined data type" | \
		"Argument list too long")
			;;
		*)
			fail_ "wrong error: '$msg'" ;;
		esac
	done < <(sed -n 's/.*: \([A-Z][^:]*\)$/\1/p' "$1" | sort -u)
}

check_image() {
	local idx=$1 line
	bad=0
	report=$TRASH/report
	: >"$report"
	line=$(gen make base "$SEED" "$idx" img) || {
		fail_ "make-corrupt make base $SEED $idx failed"
		return 1
	}
	echo "$line" >>corrupt-manifest
	mount_walk rw
	if [ "$outcome" = refused ] && [ $bad -eq 0 ] &&
		grep -q 'run e2fsck first (or mount with -o ro)' "$log"; then
		# Refused for recorded errors: -o ro must still serve it.
		n_refused_ro=$((n_refused_ro + 1))
		mount_walk ro
	fi
	case $outcome in
	refused) n_refused=$((n_refused + 1)) ;;
	clean) n_clean=$((n_clean + 1)) ;;
	errors) n_errors=$((n_errors + 1)) ;;
	esac
	[ -s "$walk_err" ] && classify_errors "$walk_err"
	if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		"$TRASH"/daemon-*.log; then
		fail_ "sanitizer report: $(grep -m1 -E 'ERROR: |runtime error:' \
			"$TRASH"/daemon-*.log)"
	fi
	if [ $bad -ne 0 ]; then
		n_bad=$((n_bad + 1))
		{
			echo "image $idx: $line"
			cat "$report"
			echo "--- daemon log:"
			tail -n 40 "$TRASH"/daemon-*.log
			echo "--- walk errors:"
			sort "$walk_err" | uniq -c | sort -rn | head -n 20
		} >>failures
		cp img "failed-$idx.img"
	fi
	rm -f img "$TRASH"/daemon-*.log "$TRASH"/walk-*.err
	return 0
}

test_expect_success "$NIMG corrupted images (seed $SEED): no crash, hang or sanitizer report" '
	: >failures &&
	for idx in $(seq 0 $((NIMG - 1))); do
		check_image "$idx" || break
	done &&
	test ! -s failures || { head -n 200 failures; false; }
'

say "images: $NIMG (seed $SEED); refused: $n_refused" \
	"(of which read-only mounts tried: $n_refused_ro);" \
	"served clean: $n_clean; served with errors: $n_errors;" \
	"images with a failure: $n_bad"
for r in "${!refusals[@]}"; do
	say "refusal x${refusals[$r]}: $r"
done
for e in "${!errs[@]}"; do
	say "walk error x${errs[$e]} (images): $e"
done

test_expect_success 'some images were refused, some served with errors' '
	test $((n_refused + n_errors)) -gt 0 &&
	test $((n_clean + n_errors)) -gt 0
'

test_done
