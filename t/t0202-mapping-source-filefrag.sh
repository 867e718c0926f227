#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t0202-mapping-source-filefrag.sh - the ext2 mapping source against the
# kernel's own view: each image is loop-mounted read-only (noload: no
# journal replay) and "filefrag -v" (FIEMAP) must list exactly the
# MAPPED and UNWRITTEN mappings that t/helper/iomap-dump prints, in
# filesystem blocks.  Needs root and loop devices; skipped without them.

test_description='ext2 mapping source agrees with filefrag (FIEMAP)'
. "$(dirname "$0")/test-lib.sh"
. "$SRC_DIR/t/lib-debugfs.sh"

DUMP=$HELPER_DIR/iomap-dump
[ -x "$DUMP" ] || skip_all "$DUMP is not built"
test_have_prereq E2FSPROGS || skip_all "debugfs and mke2fs are needed"
test_have_prereq ROOT || skip_all "loop mounts need root"
command -v filefrag >/dev/null || skip_all "filefrag is needed"

# Can this machine loop-mount at all?
make_image probe.img 4M -t ext4 || skip_all "mke2fs failed"
mkdir -p mnt
mount -o ro,loop probe.img mnt 2>/dev/null || skip_all "cannot loop-mount"
umount mnt

MOUNTED=
test_atexit 'if [ -n "$MOUNTED" ]; then umount "$TRASH/mnt"; fi'

# filefrag_runs FILE: "LBLK LEN PBLK TYPE" for each extent FIEMAP reports.
filefrag_runs() {
	filefrag -v "$1" | awk '
		/^ *[0-9]+:/ {
			line = $0
			gsub(/[:.]+/, " ", line)
			n = split(line, f, " ")
			type = (line ~ /unwritten/) ? "UNWRITTEN" : "MAPPED"
			print f[2], f[6], f[4], type
		}'
}

# check_filefrag IMG PATH...: iomap-dump --blocks and filefrag must agree.
check_filefrag() {
	local img=$1 path name opts=ro,loop
	shift
	if dumpe2fs -h "$img" 2>/dev/null | grep -q '^Filesystem features:.*has_journal'; then
		opts=$opts,noload
	fi
	mount -o $opts "$img" mnt || return 1
	MOUNTED=1
	for path in "$@"; do
		name=$(basename "$img" .img)$(echo "$path" | tr / _)
		filefrag_runs "mnt$path" >"expect$name" &&
		timeout 20 "$DUMP" --blocks "$img" "$path" |
			awk '$3 != "HOLE" { print $1, $2, $4, $3 }' \
				>"actual$name" &&
		test_cmp "expect$name" "actual$name" || {
			umount mnt
			MOUNTED=
			return 1
		}
	done
	umount mnt && MOUNTED=
}

test_expect_success 'make the source tree' '
	mkdir tree &&
	head -c 300000 /dev/urandom >tree/full &&
	head -c 8192 /dev/urandom >tree/sparse &&
	dd if=/dev/urandom of=tree/sparse bs=4096 seek=25 count=2 \
		conv=notrunc 2>/dev/null &&
	truncate -s 300k tree/sparse &&
	truncate -s 1M tree/unwritten &&
	head -c 10000 /dev/urandom >tree/pasteof &&
	head -c $((400 * 4096)) /dev/urandom >tree/frag
'

for bs in 4096 1024; do
	test_expect_success "ext4 $bs: filefrag agrees" "
		make_image ext4-$bs.img 64M -t ext4 -b $bs -d tree &&
		{
			echo 'fallocate /unwritten 10 50' &&
			echo 'fallocate /unwritten 200 255' &&
			echo 'fallocate /pasteof 8 20' &&
			for i in \$(seq 1 2 399); do echo \"punch /frag \$i \$i\" || return 1; done
		} >edits &&
		debugfs -w -f edits ext4-$bs.img >/dev/null 2>&1 &&
		fsck_clean ext4-$bs.img &&
		check_filefrag ext4-$bs.img /full /sparse /unwritten /pasteof /frag
	"
done

test_expect_success 'ext2 1 KiB: filefrag agrees' '
	make_image ext2.img 16M -t ext2 -b 1024 -d tree &&
	for i in $(seq 1 2 99); do echo "punch /frag $i $i" || return 1; done >edits &&
	debugfs -w -f edits ext2.img >/dev/null 2>&1 &&
	fsck_clean ext2.img &&
	check_filefrag ext2.img /full /sparse /frag
'

test_expect_success 'ext3 4 KiB: filefrag agrees' '
	make_image ext3.img 32M -t ext3 -b 4096 -d tree &&
	check_filefrag ext3.img /full /sparse /frag
'

test_done
