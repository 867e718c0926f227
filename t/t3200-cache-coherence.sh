#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t3200: the iomap cache never serves a stale mapping through FUSE.  Each
# file is first read past the page cache (so the daemon caches its
# mappings), then changed: overwritten, extended, punched, zeroed,
# truncated down and up, truncated by O_TRUNC, or unlinked and created
# again; then read again past the page cache.  Changes are arranged so a
# stale mapping would read another file's blocks: freed blocks are handed
# to a second file with different data before the first is read again.
# The mount must match the model, after a remount, and debugfs's dump;
# after every step iomapctl audit finds the cache in agreement with the
# disk; caching is switched off and on mid-stream; a run with
# -o noiomap_cache gives the same results.
test_description='cache coherence: read, change, read again'
. "$(dirname "$0")/test-lib.sh"
. "$SRC_DIR/t/lib-data.sh"

# prime FILE: read all of FILE through the daemon (fills its cache).
prime() {
	drop_cache "$MNT/$1" && cat "$MNT/$1" >/dev/null
}

# steal SEED: write a 2 MiB file that takes freed blocks, then delete it,
# so that blocks a stale mapping points to hold foreign data.
steal() {
	"$DATAIO" write "$MNT/thief" 0 2M "$1" 256K &&
	drop_cache "$MNT/thief" &&
	"$DATAIO" check "$MNT/thief" 0 2M "$1" -n &&
	rm -f "$MNT/thief"
}

# audit_clean: iomapctl audit must find no cached mapping that disagrees
# with the disk (exit 0, "0 mismatches"); caching off is clean trivially.
audit_clean() {
	"$IOMAPCTL" -s "$SOCK" -J audit >audit.json || {
		echo "iomapctl audit exited $?, expected 0; it said:"
		cat audit.json
		return 1
	}
}

# checkpoint: the data matches the model and the cache matches the disk.
checkpoint() {
	model_cmp_all && audit_clean
}

scenarios() {
	# overwrite in place, and into a hole
	dw a 0 1M 1 && dw a 2M 64K 2 && prime a &&
	dw a 4096 100K 3 && dw a 1M 64K 4 && prime a &&
	checkpoint &&
	# extend past EOF
	dw b 0 300K 5 && prime b && dw b 300K 700K 6 && dw b 5M 10 7 &&
	checkpoint &&
	# punch, then give the punched blocks to another file
	dw c 0 1M 8 && prime c &&
	fallocate -p -n -o 64K -l 512K "$MNT/c" && model_zero c 64K 512K keep &&
	steal 9 && checkpoint &&
	# zero range, then steal
	dw d 0 1M 10 && prime d &&
	fallocate -z -o 100000 -l 600000 "$MNT/d" && model_zero d 100000 600000 &&
	steal 11 && checkpoint &&
	# truncate down, steal, truncate up: the tail must read zeroes
	dw e 0 1M 12 && prime e &&
	both truncate -s 5000 e && steal 13 && both truncate -s 1M e &&
	checkpoint &&
	# O_TRUNC and rewrite, after the old blocks were stolen
	dw f 0 1M 14 && prime f &&
	: >"$MNT/f" && : >model/f && steal 15 && dw f 0 512K 16 &&
	checkpoint &&
	# unlink and create again (the inode number may come back)
	dw g 0 1M 17 && prime g && rm "$MNT/g" model/g &&
	steal 18 && dw g 0 700K 19 && prime g &&
	checkpoint &&
	# append after reading to EOF, many times
	for i in $(seq 1 10); do
		prime h 2>/dev/null
		dw h $((i * 33333)) 33333 $((20 + i)) || return 1
	done &&
	checkpoint &&
	# caching off and on again mid-stream, with changes in between
	dw k 0 1M 31 && prime k &&
	"$IOMAPCTL" -s "$SOCK" disable >/dev/null &&
	dw k 512K 1M 32 && prime k &&
	fallocate -p -n -o 0 -l 256K "$MNT/k" && model_zero k 0 256K keep &&
	steal 33 && prime k &&
	"$IOMAPCTL" -s "$SOCK" enable >/dev/null &&
	prime k && both truncate -s 700K k && steal 34 && prime k &&
	checkpoint
}

for opt in iomap_cache noiomap_cache; do
	IMG=$TRASH/$opt.img
	MNT=$TRASH/mnt-$opt
	SOCK=$TRASH/$opt.sock
	export IMG MNT SOCK opt
	test_expect_success FUSE,E2FSPROGS,DATAIO,FALLOCATE "$opt: read, change, read again" '
		rm -rf model && mkdir model &&
		make_dirty_image "$IMG" 64M -t ext4 -b 4096 &&
		iomapfs_mount "$IMG" "$MNT" -o $opt,ctl_socket="$SOCK" &&
		scenarios
	'
	test_expect_success FUSE,E2FSPROGS,DATAIO,FALLOCATE "$opt: unmount; e2fsck clean; debugfs agrees" '
		iomapfs_unmount "$MNT" &&
		fsck_clean "$IMG" &&
		dump_cmp_all "$IMG"
	'
	test_expect_success FUSE,E2FSPROGS,DATAIO,FALLOCATE "$opt: same data after a remount" '
		iomapfs_mount "$IMG" "$MNT" -o $opt &&
		model_cmp_all &&
		iomapfs_unmount "$MNT"
	'
done

test_done
