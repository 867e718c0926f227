#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6140-journal-bounds.sh - the journal's limits: a transaction's bound
# (journal_txn_max=, and a quarter of the log), the memory of committed
# blocks not yet home (journal_cp_max=), and operations too large for one
# transaction (truncate, unlink, punch, fallocate of large fragmented
# files in a 4 MiB log), which are split into pieces on the orphan list:
# they finish, commits by size, split and checkpoints happen as the
# counters say, no transaction exceeds its bound and the committed bytes
# not home stay under theirs (plus one transaction), and a kill in the
# middle of a split operation leaves a filesystem every replayer
# finishes cleanly.
test_description='transaction and memory bounds, operations split over transactions'
. "$(dirname "$0")/test-lib.sh"
. "$SRC_DIR/t/lib-data.sh"

test_have_prereq FUSE,E2FSPROGS,DATAIO || skip_all "needs FUSE, e2fsprogs, dataio"
command -v python3 >/dev/null || skip_all "needs python3"

K=$TRASH/kmnt
mkdir -p "$K"
truncate -s 8M probe.img && mke2fs -q -F -t ext4 probe.img &&
	mount -o loop,ro probe.img "$K" 2>/dev/null && umount "$K" &&
	test_set_prereq LOOP

# stat_of NAME: a journal counter from the unmount's stats line of $MNT.
stat_of() {
	sed -n "s/.*journal stats:.* $1=\([0-9]*\).*/\1/p" \
		"$TRASH/iomapfs-$(basename "$MNT").log"
}

# frag FILE N: a file of N 4 KiB blocks, every other block a hole: N
# extents.
frag() {
	python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY, 0o644)
for i in range(int(sys.argv[2])):
    os.pwrite(fd, bytes([i % 251]) * 4096, 2 * i * 4096)
os.close(fd)' "$1" "$2"
}

# kill_daemon: SIGKILL the daemon and drop its mount (test-lib).
kill_daemon() {
	iomapfs_kill9 "$MNT"
}

test_expect_success 'a 4 MiB log: huge truncate, unlink, punch, zero and fallocate' '
	IMG=$TRASH/img.1 && MNT=$TRASH/mnt.1 &&
	make_image "$IMG" 1G -t ext4 -b 4096 -J size=4 &&
	IOMAPFS_JOURNAL_STATS=1 IOMAPFS_JOURNAL_CHECK=1 \
		iomapfs_mount "$IMG" "$MNT" -o journal_txn_max=64k &&
	frag "$MNT/frag" 20000 &&
	fallocate -l 600M "$MNT/fa" &&
	cp "$MNT/frag" frag.copy &&
	truncate -s 4096 "$MNT/frag" &&
	rm "$MNT/fa" &&
	fallocate -l 300M "$MNT/fb" &&
	fallocate -p -o 4096 -l 200M "$MNT/fb" &&
	fallocate -z -o 1M -l 50M "$MNT/fb" &&
	truncate -s 100M "$MNT/fb" &&
	frag "$MNT/frag2" 8000 && rm "$MNT/frag2" &&
	test_eq 4096 "$(stat -c %s "$MNT/frag")" &&
	cmp -n 4096 frag.copy "$MNT/frag" &&
	iomapfs_unmount "$MNT" &&
	test "$(stat_of commits_split)" -gt 10 &&
	test_eq 16 "$(stat_of txn_max_blocks)" "blocks in 64k" &&
	test "$(stat_of running_blocks_max)" -le 24 &&
	test_grep "bitmap_misses=0 " "$TRASH/iomapfs-mnt.1.log" &&
	fsck_clean "$IMG"
'

test_expect_success 'journal_txn_max: many operations commit by size' '
	IMG=$TRASH/img.2 && MNT=$TRASH/mnt.2 &&
	make_image "$IMG" 128M -t ext4 -b 4096 &&
	IOMAPFS_JOURNAL_STATS=1 iomapfs_mount "$IMG" "$MNT" \
		-o journal_txn_max=64k,commit=600 &&
	mkdir "$MNT/d" &&
	for i in $(seq 1 1200); do echo $i >"$MNT/d/f$i" || return 1; done &&
	rm -rf "$MNT/d" &&
	iomapfs_unmount "$MNT" &&
	test "$(stat_of commits_size)" -gt 5 &&
	test_eq 16 "$(stat_of txn_max_blocks)" "blocks in 64k" &&
	test "$(stat_of running_blocks_max)" -le 24 &&
	fsck_clean "$IMG"
'

test_expect_success 'journal_cp_max: committed blocks go home when they weigh too much' '
	IMG=$TRASH/img.3 && MNT=$TRASH/mnt.3 &&
	make_image "$IMG" 128M -t ext4 -b 4096 &&
	IOMAPFS_JOURNAL_STATS=1 iomapfs_mount "$IMG" "$MNT" \
		-o journal_cp_max=64k,commit=600 &&
	mkdir "$MNT/d" &&
	for i in $(seq 1 100); do
		mkdir "$MNT/d/$i" && echo $i >"$MNT/d/$i/f" &&
		sync "$MNT/d/$i/f" || return 1
	done &&
	iomapfs_unmount "$MNT" &&
	test "$(stat_of checkpoints)" -gt 5 &&
	test "$(stat_of cp_bytes_max)" -le $((64 * 1024 + 16 * 4096)) &&
	fsck_clean "$IMG"
'

# Killed while a split unlink or truncate runs (16-block transactions):
# the replayed image is clean, and the file is gone (unlink) or no longer
# than it was (truncate).
for op in unlink truncate; do
	test_expect_success "a kill in the middle of a split $op" "
		IMG=\$TRASH/img.$op && MNT=\$TRASH/mnt.$op &&
		make_image \"\$IMG\" 1G -t ext4 -b 4096 -J size=4 &&
		iomapfs_mount \"\$IMG\" \"\$MNT\" -o commit=600,journal_txn_max=64k &&
		frag \"\$MNT/big\" 30000 && sync \"\$MNT/big\" &&
		before=\$(debugfs -R logdump \"\$IMG\" 2>/dev/null | { grep -c 'commit block' || true; }) &&
		{
			if [ $op = unlink ]; then
				rm \"\$MNT/big\" &
			else
				truncate -s 8192 \"\$MNT/big\" &
			fi
		} &&
		opid=\$! &&
		# Kill once the operation has committed three of its pieces.
		for i in \$(seq 1 400); do
			n=\$(debugfs -R logdump \"\$IMG\" 2>/dev/null | { grep -c 'commit block' || true; }) &&
			if [ \$n -ge \$((before + 3)) ] ||
				! kill -0 \$opid 2>/dev/null; then
				break
			fi &&
			sleep 0.05 || return 1
		done &&
		kill_daemon && { wait \$opid || true; } &&
		n=\$(debugfs -R logdump \"\$IMG\" 2>/dev/null | { grep -c 'commit block' || true; }) &&
		if [ \$n -lt \$((before + 3)) ]; then
			echo \"expected the $op to commit 3 pieces before the kill, it committed \$((n - before))\"
			false
		fi &&
		cp \"\$IMG\" e.img && image_replay e.img && fsck_clean e.img &&
		cp \"\$IMG\" j.img && debugfs -w -R journal_run j.img >/dev/null 2>&1 &&
		iomapfs_mount j.img \"\$MNT\" &&
		if [ $op = unlink ]; then
			test_must_fail stat \"\$MNT/big\"
		else
			test \$(stat -c %s \"\$MNT/big\") -le \$((2 * 30000 * 4096))
		fi &&
		iomapfs_unmount \"\$MNT\" && fsck_clean j.img &&
		if test_have_prereq LOOP; then
			cp \"\$IMG\" k.img &&
			mount -t ext4 -o loop k.img \"\$K\" && umount \"\$K\" &&
			fsck_clean k.img
		fi
	"
done

test_done
