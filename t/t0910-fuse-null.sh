#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t0910-fuse-null.sh - t/bench/fuse-null, the FUSE server doing no work that
# fsbench and fusefloor measure the FUSE floor on, serves what its jobs do:
# "cp -a" of a tree (directories, files of several writes, a symbolic link,
# modes, owners and times) gives no error and the copy lists as the source
# does (names, types, modes, owners, sizes, times, link targets; data reads
# as zeroes once out of the page cache), with the write-back cache (-w) and without (-W); -c counts the
# requests; the metadata loops of the default mode still work.  No speed
# is measured here (that is make bench).
test_description='fuse-null serves cp -a and the benchmark loops'
. "$(dirname "$0")/test-lib.sh"

NULLFS=$BUILD_DIR/t/bench/fuse-null
[ -x "$NULLFS" ] && test_have_prereq ROOT && [ -c /dev/fuse ] &&
	command -v fusermount3 >/dev/null && test_set_prereq NULLFS

# null_mount MNT ARGS...: start fuse-null ARGS on MNT (its stderr in
# MNT.err), wait until it is mounted, and unmount it after the test.
null_mount() {
	local mnt=$1 i
	shift
	mkdir -p "$mnt" || return 1
	"$NULLFS" "$@" "$mnt" 2>"$mnt.err" &
	echo $! >"$mnt.pid"
	test_when_finished "null_unmount $mnt"
	for ((i = 0; i < 100; i++)); do
		mountpoint -q "$mnt" && return 0
		sleep 0.05
	done
	echo "fuse-null $* did not mount $mnt: $(cat "$mnt.err")"
	return 1
}

# null_unmount MNT: unmount, wait for the server to exit and check that
# it exited 0 (a sanitizer build's report is an exit code too).
null_unmount() {
	local pid i rc
	pid=$(cat "$1.pid" 2>/dev/null)
	rm -f "$1.pid"
	! mountpoint -q "$1" || fusermount3 -u "$1" || fusermount3 -u -z "$1"
	[ -n "$pid" ] || return 0
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			rc=$?
			[ $rc -eq 0 ] && return 0
			echo "fuse-null exited $rc; its stderr:"
			cat "$1.err"
			return 1
		fi
		sleep 0.05
	done
	echo "fuse-null (pid $pid) still runs after the unmount of $1"
	return 1
}

# list_tree DIR: one line per name: type, mode, owner, group, link target,
# mtime (ns), path and, but for directories, size.
list_tree() {
	(cd "$1" && find . -printf '%y %m %u %g %l %T@ %p' \
		\( -type d -printf '\n' -o -printf ' %s\n' \) | sort)
}

test_expect_success NULLFS 'a source tree of every kind cp -a copies' '
	mkdir -p src/a/b src/c &&
	printf "small\n" >src/a/small &&
	head -c 3000000 /dev/urandom >src/a/b/big &&
	: >src/c/empty &&
	printf "#!/bin/sh\n" >src/c/script &&
	ln -s ../a/small src/c/link &&
	chmod 0640 src/a/small && chmod 0755 src/c/script &&
	chmod 0750 src/a/b && chmod 02775 src/c &&
	chown 1234:5678 src/a/b/big &&
	touch -h -d "2020-02-02 02:02:02.123456789" src/c/link &&
	touch -d "2001-01-01 01:01:01.5" src/a/small src/a/b &&
	list_tree src >src.list &&
	test_eq 9 "$(wc -l <src.list)" "names in the source"
'

for mode in -w -W; do
	test_expect_success NULLFS "fuse-null $mode: cp -a gives no error and the copy lists as the source" '
		null_mount mnt$mode $mode -c &&
		cp -a src mnt$mode/x 2>cp.err &&
		sync mnt$mode/x &&
		test_eq "" "$(cat cp.err)" "errors of cp -a" &&
		list_tree mnt$mode/x >copy.list &&
		test_cmp src.list copy.list &&
		test_eq ../a/small "$(readlink mnt$mode/x/c/link)" "link target" &&
		echo 3 >/proc/sys/vm/drop_caches &&
		cmp -n 3000000 mnt$mode/x/a/b/big /dev/zero
	'

	test_expect_success NULLFS "fuse-null $mode -c: the requests by kind, at unmount" '
		null_unmount mnt$mode &&
		cat mnt$mode.err &&
		test_grep "requests served, by kind" mnt$mode.err &&
		test_eq 4 "$(awk "\$1 == \"CREATE\" { print \$2 }" mnt$mode.err)" \
			"CREATEs for the 4 files" &&
		test_eq 4 "$(awk "\$1 == \"MKDIR\" { print \$2 }" mnt$mode.err)" \
			"MKDIRs for the 4 directories" &&
		test_eq 1 "$(awk "\$1 == \"SYMLINK\" { print \$2 }" mnt$mode.err)" \
			"SYMLINKs" &&
		test_grep "^  SETATTR of .*mtime" mnt$mode.err
	'
done

test_expect_success NULLFS 'default mode: the metadata loops, and O_TRUNC empties a file' '
	null_mount mnt0 &&
	mkdir mnt0/d &&
	for ((i = 0; i < 50; i++)); do
		printf "small file %d\n" $i >"mnt0/d/f$i" || return 1
	done &&
	echo 3 >/proc/sys/vm/drop_caches &&
	test_eq 50 "$(ls -l mnt0/d | grep -c "^-")" "files ls -l lists" &&
	printf "longer than one byte\n" >mnt0/t &&
	printf x >mnt0/t &&
	test_eq 1 "$(stat -c %s mnt0/t)" "size after O_TRUNC and 1 byte" &&
	rm -rf mnt0/d &&
	test_eq t "$(ls mnt0)" "names left"
'

test_expect_success NULLFS 'a bad command line is a usage error' '
	test_expect_code 2 "$NULLFS" -x mnt0 2>err &&
	test_grep "^usage: fuse-null" err &&
	test_expect_code 2 "$NULLFS" 2>err &&
	test_grep "^usage: fuse-null" err
'

test_done
