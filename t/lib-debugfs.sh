# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# lib-debugfs.sh - what debugfs says about a file's mappings, in the text
# format of t/helper/iomap-dump (OFFSET LENGTH TYPE ADDR FLAGS, bytes), so
# that the mapping-source tests compare the two with test_cmp.  debugfs is
# the independent witness: extent files are read from "ex <ino>", block-
# mapped (ext2/ext3) files from the BLOCKS list of "stat" (and, as a cross-
# check, one "bmap <ino> N" per block), inline files from "stat".  The holes between them and up to EOF are derived by the
# rules of shared/ext2map.h: a hole stops at EOF (rounded up to the block
# size), mappings that reach EOF carry LAST, and with no length the walk
# stops before the hole that lies past EOF and every extent, unless that
# hole is all there is.  Sourced after test-lib.sh.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "1..0 # SKIP ${0##*/} is a test library, not a test"
	exit 0
fi

# debugfs_q IMG CMD: run one debugfs request, without its banner.
debugfs_q() {
	debugfs -R "$2" "$1" 2>/dev/null
}

# debugfs_blocksize IMG
debugfs_blocksize() {
	dumpe2fs -h "$1" 2>/dev/null | awk '/^Block size:/ { print $3 }'
}

# debugfs_inode_field IMG INO FIELD: "Size" or "Flags" from "stat <ino>".
debugfs_inode_field() {
	debugfs_q "$1" "stat <$2>" | awk -v f="$3:" '
		{ for (i = 1; i < NF; i++) if ($i == f) { print $(i + 1); exit } }'
}

# debugfs_ino IMG PATH: the inode number of PATH.
debugfs_ino() {
	debugfs_q "$1" "stat $2" | awk '/^Inode:/ { print $2; exit }'
}

# debugfs_ex_runs IMG INO: the leaf extents of "ex <ino>", one a line:
# "LBLK LEN PBLK TYPE".  Index rows (level < depth) are skipped.  debugfs
# prints "L/ D  E/ N  lstart - lend  pstart - pend  len [Uninit]"; 1.47
# also has a form without the dashes for one-block extents.
debugfs_ex_runs() {
	debugfs_q "$1" "ex <$2>" | awk '
		/^Level/ { next }
		{
			line = $0
			gsub("/", " ", line)
			n = split(line, f, " ")
			if (n < 6 || f[1] != f[2])
				next
			uninit = (f[n] == "Uninit")
			if (uninit)
				n--
			if (f[6] == "-") {
				lblk = f[5]; pblk = f[8]; len = f[n]
			} else {
				lblk = f[5]; pblk = f[6]; len = f[n]
			}
			print lblk, len, pblk, (uninit ? "UNWRITTEN" : "MAPPED")
		}' | sort -n -k1,1
}

# debugfs_bmap_runs IMG INO NBLOCKS: runs of physically contiguous blocks
# of a block-mapped file, from one "bmap" per logical block below NBLOCKS,
# as "LBLK LEN PBLK MAPPED".
debugfs_bmap_runs() {
	local img=$1 ino=$2 n=$3 i
	[ "$n" -gt 0 ] || return 0
	for ((i = 0; i < n; i++)); do
		echo "bmap <$ino> $i"
	done >"$TRASH/.bmap-cmds"
	debugfs -f "$TRASH/.bmap-cmds" "$img" 2>/dev/null |
	grep -v '^debugfs' | awk '
		BEGIN { i = 0; run = 0 }
		{
			p = $1 + 0
			if (p && run && p == start_p + len) { len++; i++; next }
			if (run) print start_l, len, start_p, "MAPPED"
			run = 0
			if (p) { run = 1; start_l = i; start_p = p; len = 1 }
			i++
		}
		END { if (run) print start_l, len, start_p, "MAPPED" }'
}

# debugfs_stat_runs IMG INO: runs of a block-mapped file from the BLOCKS
# list of "stat <ino>" ("(0-11):100-111, (IND):112, (12):113, ..."), the
# indirect blocks left out and physically contiguous runs merged, as
# "LBLK LEN PBLK MAPPED".
debugfs_stat_runs() {
	debugfs_q "$1" "stat <$2>" |
	sed -n '/^BLOCKS:/,/^TOTAL:/p' | sed '1d;$d' | tr ',' '\n' | awk '
		BEGIN { run = 0 }
		/\((IND|DIND|TIND)\)/ { next }
		/\(/ {
			gsub(/[()]/, ""); gsub(/:/, " "); gsub(/-/, " ")
			n = split($0, f, " ")
			l = f[1]; if (n == 4) { len = f[2] - f[1] + 1; p = f[3] }
			else { len = 1; p = f[2] }
			if (run && l == sl + slen && p == sp + slen) { slen += len; next }
			if (run) print sl, slen, sp, "MAPPED"
			run = 1; sl = l; slen = len; sp = p
		}
		END { if (run) print sl, slen, sp, "MAPPED" }'
}

# debugfs_runs_to_maps BS SIZE MAXBLOCKS: turn "LBLK LEN PBLK TYPE" runs on
# stdin (in file order) into the rows iomap-dump prints for a walk of the
# whole file.
debugfs_runs_to_maps() {
	awk -v bs="$1" -v size="$2" -v maxb="$3" '
		function emit(a, b, type, p) {
			printf "%.0f %.0f %s %s %s\n", a * bs, (b - a) * bs, type,
				(p == "-" ? "-" : sprintf("%.0f", p * bs)),
				(b >= eof ? "LAST" : "-")
			n++
		}
		function hole(a, b) {
			if (a < eof && eof < b) { emit(a, eof, "HOLE", "-"); a = eof }
			if (a < b) emit(a, b, "HOLE", "-")
		}
		BEGIN { eof = int(size / bs) + (size % bs ? 1 : 0); pos = 0; n = 0 }
		{
			if ($1 > pos) hole(pos, $1)
			emit($1, $1 + $2, $4, $3)
			pos = $1 + $2
		}
		END {
			if (pos < eof) emit(pos, eof, "HOLE", "-")
			if (!n) emit(0, maxb, "HOLE", "-")
		}'
}

# debugfs_maxblocks IMG INO: the logical block limit of INO's kind of file.
debugfs_maxblocks() {
	local img=$1 ino=$2 bs flags
	bs=$(debugfs_blocksize "$img")
	flags=$(debugfs_inode_field "$img" "$ino" Flags)
	if (((flags & 0x10080000) != 0)); then
		echo 4294967295
	else
		awk -v p=$((bs / 4)) 'BEGIN {
			m = 12 + p + p * p + p * p * p
			printf "%.0f\n", (m < 4294967295 ? m : 4294967295) }'
	fi
}

# debugfs_expected_maps IMG INO|PATH: the full expected iomap-dump output.
debugfs_expected_maps() {
	local img=$1 ino=$2 bs size flags maxb
	case $ino in
	/*) ino=$(debugfs_ino "$img" "$ino") ;;
	esac
	bs=$(debugfs_blocksize "$img")
	size=$(debugfs_inode_field "$img" "$ino" Size)
	flags=$(debugfs_inode_field "$img" "$ino" Flags)
	maxb=$(debugfs_maxblocks "$img" "$ino")
	if [ -z "$bs" ] || [ -z "$size" ] || [ -z "$flags" ]; then
		echo "debugfs cannot stat inode $ino of $img" >&2
		return 1
	fi
	if (((flags & 0x10000000) != 0)); then
		# Inline data: block 0 is INLINE, then a hole to EOF.
		echo "0 1 - INLINE" | debugfs_runs_to_maps "$bs" "$size" "$maxb"
	elif (((flags & 0x80000) != 0)); then
		debugfs_ex_runs "$img" "$ino" |
		debugfs_runs_to_maps "$bs" "$size" "$maxb"
	else
		debugfs_stat_runs "$img" "$ino" |
		debugfs_runs_to_maps "$bs" "$size" "$maxb"
	fi
}

# debugfs_clip_maps OFF LEN BS MAXBYTES < FULL: the rows a walk of
# [OFF, OFF + LEN - 1] prints, from the rows FULL of a walk of the whole
# file: those that overlap the range, the first cut to start at OFF's
# block, then the hole past EOF and every extent if the range reaches it.
debugfs_clip_maps() {
	awk -v off="$1" -v len="$2" -v bs="$3" -v max="$4" '
		function out(o, l, t, a, f) {
			printf "%.0f %.0f %s %s %s\n", o, l, t, a, f
		}
		BEGIN { blk = off - off % bs; qend = off + len; last = 0 }
		{
			o = $1; l = $2; e = o + l; last = e
			if (e <= blk || o >= qend)
				next
			if (o < blk) {
				d = blk - o
				out(blk, l - d, $3, ($4 == "-" ? "-" : $4 + d), $5)
			} else {
				out(o, l, $3, $4, $5)
			}
		}
		END {
			s = (last > blk ? last : blk)
			if (last < max && s < qend)
				out(s, max - s, "HOLE", "-", "LAST")
		}'
}

# debugfs_ex_depth IMG PATH: the depth of PATH's extent tree (0 in-inode).
debugfs_ex_depth() {
	debugfs_q "$1" "ex $2" | awk '
		/^Level/ { next }
		{ sub("^ *[0-9]+/ *", ""); print $1 + 0; exit }'
}

# check_maps IMG PATH: iomap-dump must print exactly what debugfs implies.
check_maps() {
	local img=$1 path=$2 name
	name=$(basename "$img" .img)$(echo "$path" | tr / _)
	debugfs_expected_maps "$img" "$path" >"expect$name" &&
	timeout 20 "$HELPER_DIR/iomap-dump" "$img" "$path" >"actual$name" &&
	test_cmp "expect$name" "actual$name"
}

# check_ranges IMG PATH N: N range queries at seeded random offsets and
# lengths (up to three blocks past EOF) must print what debugfs implies.
check_ranges() {
	local img=$1 path=$2 n=$3 bs size ino max i off len
	ino=$(debugfs_ino "$img" "$path")
	bs=$(debugfs_blocksize "$img")
	size=$(debugfs_inode_field "$img" "$ino" Size)
	max=$(($(debugfs_maxblocks "$img" "$ino") * bs))
	debugfs_expected_maps "$img" "$ino" >range.full || return 1
	RANDOM=$((ino * 7919 + bs))
	for ((i = 0; i < n; i++)); do
		off=$(((RANDOM * 32768 + RANDOM) % (size + 3 * bs + 1)))
		len=$(((RANDOM * 32768 + RANDOM) % (size + bs) + 1))
		debugfs_clip_maps "$off" "$len" "$bs" "$max" <range.full \
			>range.expect &&
		timeout 20 "$HELPER_DIR/iomap-dump" "$img" "$ino" "$off" "$len" \
			>range.actual || return 1
		test_cmp range.expect range.actual || {
			echo "range query $path at $off length $len differs"
			return 1
		}
	done
}
