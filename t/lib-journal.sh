# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# lib-journal.sh - helpers of the journal tests (t6xxx): journals written
# by others (debugfs's journal writer, the kernel's ext4), the two replays
# of one image (e2fsck -E journal_only, and an iomapfs read-write mount
# and unmount) and their block-for-block comparison (t/helper/jtool.py).
# Source it after test-lib.sh.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "1..0 # SKIP lib-journal.sh is a test library, not a test"
	exit 0
fi

JTOOL=$SRC_DIR/t/helper/jtool.py
# jtool ARGS: the image and journal tool, by python3 (a dist tarball may
# lose its mode).
jtool() {
	python3 "$JTOOL" "$@"
}

command -v python3 >/dev/null && test_set_prereq PYTHON3

# jnl_bs IMG: the filesystem's block size.
jnl_bs() {
	dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Block size: *//p'
}

# jnl_blocks IMG: the filesystem's block count.
jnl_blocks() {
	dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Block count: *//p'
}

# jnl_src DIR: a small tree for mke2fs -d: files, a directory, a larger
# file, a symlink.
jnl_src() {
	local d=$1 i
	rm -rf "$d" && mkdir -p "$d/dir/sub" || return 1
	for i in $(seq 1 40); do
		echo "file $i" >"$d/f$i" || return 1
	done
	head -c 300000 /dev/urandom >"$d/big" &&
	ln -s f1 "$d/link" &&
	echo inner >"$d/dir/sub/inner"
}

# jnl_base IMG SIZE [mke2fs options]: a fresh, populated image.
jnl_base() {
	local img=$1 size=$2
	shift 2
	jnl_src "$TRASH/jsrc" &&
	make_image "$img" "$size" -d "$TRASH/jsrc" "$@"
}

# jnl_stage N IMG: the Nth of three steps of metadata changes by debugfs
# (the states a journal will carry): creates, a new directory with files,
# removals, a hard link, a symlink, inode changes, a rename by link and
# unlink.  Each step leaves a consistent filesystem (debugfs's ln leaves
# the link count to us), so that a log replayed up to any of them does.
jnl_stage() {
	jnl_stage_"$1" "$2" >/dev/null 2>&1 &&
	fsck_clean "$2"
}

jnl_stage_1() {
	debugfs -w -f - "$1" <<-EOF
	mkdir newdir
	write /etc/hostname newdir/host
	rm f3
	sif f6 mode 0100600
	EOF
}

jnl_stage_2() {
	debugfs -w -f - "$1" <<-EOF
	write /etc/passwd newdir/passwd
	mkdir newdir/deeper
	rm f4
	ln f5 f5link
	sif f5 links_count 2
	EOF
}

jnl_stage_3() {
	debugfs -w -f - "$1" <<-EOF
	rm big
	symlink sl /some/where/else
	sif f7 uid 1234
	ln f8 dir/f8moved
	unlink f8
	EOF
}

# jnl_stages BASE: BASE.1, BASE.2 and BASE.3, the states after each step.
jnl_stages() {
	cp "$1" "$1.1" && jnl_stage 1 "$1.1" &&
	cp "$1.1" "$1.2" && jnl_stage 2 "$1.2" &&
	cp "$1.2" "$1.3" && jnl_stage 3 "$1.3"
}

# jnl_diff A B: the blocks that differ between two images, one per line.
jnl_diff() {
	local bs
	bs=$(jnl_bs "$1")
	cmp -l "$1" "$2" | awk -v bs="$bs" '{ print int(($1 - 1) / bs) }' |
		uniq
}

# jnl_blocks_of IMG OUT BLOCK...: the contents of the blocks, in order.
jnl_blocks_of() {
	local img=$1 out=$2 bs b
	shift 2
	bs=$(jnl_bs "$img")
	: >"$out" || return 1
	for b in "$@"; do
		dd if="$img" bs="$bs" skip="$b" count=1 status=none >>"$out" ||
			return 1
	done
}

# jnl_pattern BS OUT TEXT [MAGIC]: one block of TEXT repeated; with MAGIC,
# it starts with the journal's magic number (debugfs escapes it).
jnl_pattern() {
	local bs=$1 out=$2 text=$3
	{
		[ -z "${4:-}" ] || printf '\xc0\x3b\x39\x98'
		yes "$text" | head -c "$bs"
	} | head -c "$bs" >"$out"
}

# jnl_three IMG BASE [jo options]: write into IMG's journal (IMG is a copy
# of BASE, and jnl_stages made BASE.1 to BASE.3), with debugfs, four
# transactions: T1, T2 and T4 carry the blocks that the steps of
# jnl_stages change, with their new contents, and T3 revokes (debugfs
# places the commit block of a transaction with both blocks and revokes
# where its next transaction starts, so revokes get one of their own).
# Replayed up to any transaction, the filesystem is consistent.  Besides:
#  - block $J_REV (free): logged in T1 and revoked in T3: never written;
#  - block $J_AGAIN (free): logged in T1, revoked in T3, logged twice in
#    T4 (junk one, then junk two): a revoke covers older transactions
#    only, the newest transaction wins, and within one the later copy;
#  - block $J_ESC (free): logged in T1 starting with the journal magic:
#    debugfs escapes it, replay must restore the magic.
# With JNL_REVOKE=0 there is no T3 (debugfs's v1 commit checksum covers
# its revoke block, the kernel's does not: such a transaction is corrupt
# to e2fsck and the kernel), and $J_REV keeps T1's junk.
# Sets J_REV, J_AGAIN, J_ESC, and J_TXN (the transactions written).
jnl_three() {
	local img=$1 base=$2 bs n l1 l2 l3 revoke=
	shift 2
	local opts=$*
	local -a d1 d2 d3
	bs=$(jnl_bs "$img") &&
	n=$(jnl_blocks "$img") &&
	mapfile -t d1 < <(jnl_diff "$base" "$base.1") &&
	mapfile -t d2 < <(jnl_diff "$base.1" "$base.2") &&
	mapfile -t d3 < <(jnl_diff "$base.2" "$base.3") &&
	test "${#d1[@]}" -gt 0 && test "${#d2[@]}" -gt 0 &&
	test "${#d3[@]}" -gt 0 || {
		echo "jnl_three: a step of jnl_stages changed no block"
		return 1
	}
	J_REV=$((n - 3)) J_AGAIN=$((n - 4)) J_ESC=$((n - 5))
	jnl_pattern "$bs" "$TRASH/junk1" "junk one" &&
	jnl_pattern "$bs" "$TRASH/junk2" "junk two" &&
	jnl_pattern "$bs" "$TRASH/esc" "escaped" magic &&
	jnl_blocks_of "$base.1" "$TRASH/t1" "${d1[@]}" &&
	cat "$TRASH/junk1" "$TRASH/junk1" "$TRASH/esc" >>"$TRASH/t1" &&
	jnl_blocks_of "$base.2" "$TRASH/t2" "${d2[@]}" &&
	jnl_blocks_of "$base.3" "$TRASH/t3" "${d3[@]}" &&
	cat "$TRASH/junk1" "$TRASH/junk2" >>"$TRASH/t3" || return 1
	l1=$(printf '%s,' "${d1[@]}" "$J_REV" "$J_AGAIN")$J_ESC
	l2=$(printf '%s,' "${d2[@]}")
	l3=$(printf '%s,' "${d3[@]}" "$J_AGAIN")$J_AGAIN
	J_TXN=3
	if [ "${JNL_REVOKE:-1}" = 1 ]; then
		revoke="jw -r $J_REV,$J_AGAIN /dev/null"
		J_TXN=4
	fi
	debugfs -w -f - "$img" >"$TRASH/debugfs.out" 2>&1 <<-EOF
	jo $opts
	jw -b ${l1} $TRASH/t1
	jw -b ${l2%,} $TRASH/t2
	$revoke
	jw -b ${l3} $TRASH/t3
	jc
	EOF
	test "$(jtool log "$img" | grep -c " commit$")" -eq "$J_TXN" || {
		echo "jnl_three: debugfs did not write $J_TXN transactions:"
		cat "$TRASH/debugfs.out"
		jtool log "$img"
		return 1
	}
}

# replay_e2fsck IMG OUT: OUT is IMG replayed by e2fsck -E journal_only.
replay_e2fsck() {
	local rc
	cp --sparse=always "$1" "$2" &&
	e2fsck -y -E journal_only "$2" >"$2.e2fsck" 2>&1
	rc=$?
	# 0, or 1 (fixed), or 4 (uncorrected: a recovery error reports it)
	if [ "$rc" -gt 4 ]; then
		echo "e2fsck -E journal_only $2 exited $rc:"
		cat "$2.e2fsck"
		return 1
	fi
}

# replay_iomapfs IMG OUT [CODE]: OUT is IMG replayed by an iomapfs
# read-write mount and unmount.  With CODE, the mount must be refused with
# that exit code after the replay (a damaged log marks the filesystem for
# e2fsck).  The daemon's messages are in OUT.log.  The mount is
# journal=off: what is compared is the replay, and the journal writer's
# own commit at unmount would move the journal's sequence on (and drop
# async_commit, which it never writes), as any kernel mount does too.
replay_iomapfs() {
	local img=$1 out=$2 code=${3:-} mnt
	mnt=$TRASH/rmnt
	cp --sparse=always "$img" "$out" || return 1
	if [ -n "$code" ]; then
		mkdir -p "$mnt" &&
		test_expect_code "$code" timeout 60 "$IOMAPFS" -f \
			-o ctl_socket="$TRASH/r.sock" "$out" "$mnt" \
			>"$out.log" 2>&1 || {
			cat "$out.log"
			return 1
		}
		! mountpoint -q "$mnt"
		return
	fi
	iomapfs_mount "$out" "$mnt" -o journal=off,ctl_socket="$TRASH/r.sock" &&
	iomapfs_unmount "$mnt" &&
	cp "$TRASH/iomapfs-rmnt.log" "$out.log"
}

# replay_compare IMG [CODE]: replay IMG both ways and compare the results
# block for block (jtool.py cmp lists the fields any mount changes).
# Leaves IMG.e and IMG.i.
replay_compare() {
	local img=$1
	replay_e2fsck "$img" "$img.e" &&
	replay_iomapfs "$img" "$img.i" "${2:-}" &&
	jtool cmp "$img.e" "$img.i" >"$img.cmp" || {
		cat "$img.cmp" 2>/dev/null
		echo "e2fsck said:"
		cat "$img.e.e2fsck"
		echo "iomapfs said:"
		cat "$img.i.log"
		return 1
	}
	cat "$img.cmp"
}

# block_is IMG BLOCK FILE: block BLOCK of IMG holds FILE's bytes.
block_is() {
	local bs
	bs=$(jnl_bs "$1")
	dd if="$1" bs="$bs" skip="$2" count=1 status=none | cmp - "$3"
}

# tree_of IMG OUT [mount options]: jtool.py tree of IMG mounted read-only
# by iomapfs.
tree_of() {
	local img=$1 out=$2 mnt=$TRASH/tmnt
	shift 2
	local o=ro
	[ $# -gt 0 ] && o=ro,$1
	iomapfs_mount "$img" "$mnt" -o "$o,ctl_socket=$TRASH/t.sock" &&
	jtool tree "$mnt" >"$out" &&
	iomapfs_unmount "$mnt"
}

# --- journals the kernel wrote -----------------------------------------

# kernel_prereq: set KERNEL when this machine can mount an ext4 image on a
# loop device (root, loop devices, ext4 in the kernel).
kernel_prereq() {
	test_have_prereq ROOT || return 0
	make_image "$TRASH/kprobe.img" 8M -t ext4 &&
	mkdir -p "$TRASH/kprobe" &&
	mount -o loop "$TRASH/kprobe.img" "$TRASH/kprobe" 2>/dev/null &&
	umount "$TRASH/kprobe" &&
	test_set_prereq KERNEL
	rm -rf "$TRASH/kprobe.img" "$TRASH/kprobe"
	return 0
}

# kmount IMG MNT OPTS: the kernel's ext4 mounts IMG (loop) on MNT (ext3
# too); unmounted at the end of the script whatever happens.
kmount() {
	mkdir -p "$2" &&
	mount -t ext4 -o "loop,$3" "$1" "$2" &&
	test_atexit "umount '$2' 2>/dev/null || umount -l '$2' 2>/dev/null"
}

# kwork DIR: metadata-heavy work: creates, renames (of files and of a
# directory), unlinks, mkdir and rmdir, xattrs set and removed, truncates
# up and down, appends, hard and symbolic links, chmod, chown, utimes,
# fsync of some files.
kwork() {
	local d=$1 i
	mkdir -p "$d/a/b/c" "$d/gone" || return 1
	for i in $(seq 1 120); do
		echo "file $i" >"$d/f$i" || return 1
	done
	mv "$d/f1" "$d/a/moved" &&
	mv "$d/f2" "$d/a/b/c/deep" &&
	mv "$d/a/b" "$d/b2" &&
	rm "$d/f3" "$d/f4" "$d/f5" &&
	rmdir "$d/gone" &&
	mkdir "$d/tmp" && touch "$d/tmp/x" && rm -r "$d/tmp" &&
	setfattr -n user.small -v hello "$d/f6" &&
	setfattr -n user.big -v "$(head -c 900 /dev/zero | tr '\0' y)" \
		"$d/f7" &&
	setfattr -n user.gone -v bye "$d/f6" &&
	setfattr -x user.gone "$d/f6" &&
	truncate -s 200000 "$d/f8" &&
	truncate -s 0 "$d/f9" &&
	printf 'appended\n' >>"$d/f10" &&
	head -c 70000 /dev/urandom >>"$d/f11" &&
	head -c 1000000 /dev/urandom >"$d/big" &&
	sync "$d/big" &&
	truncate -s 300000 "$d/big" &&
	ln "$d/f12" "$d/hard" &&
	ln -s f13 "$d/sym" &&
	ln -s "$(printf 'long/%.0s' $(seq 1 60))" "$d/longsym" &&
	chmod 600 "$d/f14" &&
	chown 1000:1000 "$d/f15" &&
	touch -d @1000000000 "$d/f16" &&
	for i in $(seq 20 60); do
		rm "$d/f$i" || return 1
	done &&
	sync "$d/f17"
}

# kernel_crash IMG SIZE "MKE2FS OPTIONS" "MOUNT OPTIONS" [shutdown]: a
# filesystem the kernel mounted (commit=1, nodelalloc: file data is
# allocated and, data=ordered, written before the commit that links it),
# did kwork in, and that was copied to IMG while still mounted, 3 s after
# the work: committed to the journal, not yet written home (the kernel
# writes home after 30 s).  With "shutdown", FS_IOC_SHUTDOWN (without a log
# flush) stops the filesystem first, so that no checkpoint can run while
# it is copied.  IMG.live is the tree the kernel showed before the copy.
# A sync(1) anywhere on the machine (other tests, a benchmark dropping
# caches) writes the home blocks early, and the copy then needs no
# journal: that is seen (kernel_needs_journal and
# kernel_really_needs_journal) and the image made again, three times at
# most.
kernel_crash() {
	local try
	for try in 1 2 3; do
		kernel_crash_once "$@" || return 1
		kernel_needs_journal "$1" && kernel_really_needs_journal "$1" &&
			return 0
		echo "try $try: the home blocks were written before the copy (a sync elsewhere?): again"
	done
	echo "the kernel's image $1 did not need its journal in three tries"
	return 1
}

kernel_crash_once() {
	local img=$1 size=$2 mkfs=$3 opts=$4 how=${5:-} mnt=$TRASH/kmnt
	# shellcheck disable=SC2086
	make_image "$img.src" "$size" $mkfs &&
	kmount "$img.src" "$mnt" "commit=1,nodelalloc${opts:+,$opts}" &&
	kwork "$mnt" &&
	sleep 3 &&
	jtool tree "$mnt" >"$img.live" &&
	if [ "$how" = shutdown ]; then
		xfs_io -x -c shutdown "$mnt"
	fi &&
	cp --sparse=always "$img.src" "$img" &&
	umount "$mnt" &&
	rm -f "$img.src"
}

# kernel_really_needs_journal IMG: the tree IMG shows without its journal
# (-o ro,norecovery) differs from the one it shows replayed (a read-only
# replay, in memory): the image tests the replay.
kernel_really_needs_journal() {
	tree_of "$1" "$1.stale" norecovery &&
	tree_of "$1" "$1.replayed-ro" &&
	! cmp -s "$1.stale" "$1.replayed-ro"
}

# kernel_needs_journal IMG: IMG's journal holds transactions to replay.
kernel_needs_journal() {
	local info
	dumpe2fs -h "$1" 2>/dev/null | grep -q "^Filesystem features:.*needs_recovery" &&
	info=$(jtool info "$1") &&
	set -- $info &&
	test "$5" -ne 0 || {
		echo "the kernel left no journal to replay in $1 ($info)"
		return 1
	}
}

# log_wraps IMG: the log of IMG runs past the end of the journal.
log_wraps() {
	jtool log "$1" | awk 'NR > 1 && $1 < prev { w = 1 } { prev = $1 }
		END { exit !w }'
}

# kernel_crash_wrap IMG: as kernel_crash, with a journal of 1024 blocks
# and work that goes on until the log runs past the end of the journal;
# then FS_IOC_SHUTDOWN and the copy.  Tries three filesystems at most.
kernel_crash_wrap() {
	local img=$1 mnt=$TRASH/kmnt try round i
	for try in 1 2 3; do
		make_image "$img.src" 64M -t ext4 -J size=1 &&
		kmount "$img.src" "$mnt" commit=1,nodelalloc || return 1
		for round in $(seq 1 90); do
			for i in $(seq 1 60); do
				echo "$round" >"$mnt/f$round-$i" || return 1
			done
			rm -f "$mnt/f$((round - 2))-"*
			sleep 1.2
			log_wraps "$img.src" 2>/dev/null && break
		done
		sleep 1.2 &&
		jtool tree "$mnt" >"$img.live" &&
		xfs_io -x -c shutdown "$mnt" &&
		cp --sparse=always "$img.src" "$img" &&
		umount "$mnt" &&
		rm -f "$img.src" || return 1
		if kernel_needs_journal "$img" >/dev/null && log_wraps "$img" &&
			kernel_really_needs_journal "$img"; then
			return 0
		fi
	done
	echo "the kernel's log did not wrap around in three tries"
	return 1
}

# kernel_fc_crash IMG [LAST]: an image with fast commits past the last full
# commit: fast_commit, commit=60, a file fsynced after a full commit (and
# a second one unless LAST is "one"), copied at once.  A sync elsewhere
# would turn them into a full commit: then again, three times at most.
kernel_fc_crash() {
	local img=$1 last=${2:-two} try mnt=$TRASH/kmnt n
	for try in 1 2 3; do
		make_image "$img.src" 128M -t ext4 -O fast_commit &&
		kmount "$img.src" "$mnt" commit=60 &&
		echo one >"$mnt/a" && sync "$mnt/a" &&
		sleep 1 &&
		echo two >"$mnt/b" && sync "$mnt/b" &&
		if [ "$last" != one ]; then
			echo three >"$mnt/c" && sync "$mnt/c"
		fi &&
		cp --sparse=always "$img.src" "$img" &&
		umount "$mnt" &&
		rm -f "$img.src" || return 1
		n=$("$IOMAPCTL" --image "$img" journal |
			sed -n "s/^ *fast_commit_records: *//p") &&
		test "${n:-0}" -gt 0 && return 0
		echo "try $try: no fast commit past the last full commit (a sync elsewhere?): again"
	done
	echo "the kernel left no fast commits in $img in three tries"
	return 1
}
