#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make-corpus.sh - regenerate what t/fuzz/ commits: the two small seed
# images the ext2 and control-server harnesses patch (images/*.img.gz: an
# ext4 image with inline data, a two-level extent tree, an unwritten
# extent, a far block and symlinks; an ext2 image whose files use indirect
# and double indirect blocks), and the seed corpus of every harness
# (corpus/NAME/).  Needs mke2fs, debugfs and gzip.  Run it from anywhere;
# it rewrites t/fuzz/images and t/fuzz/corpus.  The inputs' formats are
# described at the top of each fuzz-*.c.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export E2FSPROGS_FAKE_TIME=1700000000
uuid=6f0f7a9e-1b2c-4d3e-8f40-0123456789ab

# The files both images hold; fixed contents and times.
d=$work/d
mkdir -p "$d/sub/deeper"
printf 'inline data\n' >"$d/inline"
printf 'x%.0s' $(seq 3000) >"$d/small"
for i in 0 2 4 6 8 10 12 13 14; do
	printf 'block %02d\n' "$i" |
		dd of="$d/frag" bs=1024 seek="$i" conv=notrunc status=none
done
truncate -s 300K "$d/far"
printf 'far\n' | dd of="$d/far" bs=1024 seek=290 conv=notrunc status=none
for i in 1 2 3 4 5; do printf 'entry %d\n' "$i" >"$d/sub/f$i"; done
ln -s inline "$d/sym"
ln -s "$(printf 'long/%.0s' $(seq 20))target" "$d/longsym"
find "$d" -exec touch -h -d @1700000000 {} +

mkimg() { # NAME MKE2FS-OPTIONS...
	local img=$work/$1.img
	shift
	truncate -s 128K "$img"
	mke2fs -q -F -b 1024 -N 32 -U "$uuid" \
		-E "hash_seed=$uuid,root_owner=0:0" "$@" -d "$d" "$img"
}
# mke2fs -d stamps ctime with the clock: fix every time of every inode in
# use, so that the images come out the same on every run.
fix_times() { # IMAGE
	local dir ino
	for dir in / /sub /sub/deeper /lost+found; do
		debugfs -R "ls -p $dir" "$1" 2>/dev/null |
			awk -F/ 'NF > 2 { print $2 }'
	done | sort -un | while read -r ino; do
		for f in atime ctime mtime crtime; do
			echo "sif <$ino> $f 20231114221320"
		done
	done >"$work/times.cmd"
	debugfs -w -f "$work/times.cmd" "$1" >/dev/null 2>&1
}
mkimg ext4 -t ext4 -O inline_data,^has_journal,^resize_inode
# An unwritten extent (fallocate) after the end of "small".
debugfs -w -R "fallocate /small 3 6" "$work/ext4.img" >/dev/null 2>&1
fix_times "$work/ext4.img"
mkimg ext2 -t ext2 -O ^resize_inode
fix_times "$work/ext2.img"
mkdir -p "$here/images"
for i in ext4 ext2; do
	gzip -9n <"$work/$i.img" >"$here/images/$i.img.gz"
done

# Byte offset of inode N's on-disk copy in IMAGE.
inode_off() { # IMAGE INO
	debugfs -R "imap <$2>" "$1" 2>/dev/null |
		sed -n 's/.*located at block \([0-9]*\), offset 0x\([0-9a-f]*\).*/\1 \2/p' |
		{ read -r blk off; echo $((blk * 1024 + 16#$off)); }
}
# First block of inode N's extent tree (its ETB0), or of its indirect block.
meta_block() { # IMAGE PATH
	debugfs -R "stat $2" "$1" 2>/dev/null |
		sed -n 's/.*(\(ETB0\|IND\)):\([0-9]*\).*/\2/p' | head -n 1
}
ino_of() { debugfs -R "stat $2" "$1" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p'; }

# Little-endian bytes as printf escapes.
le() { # VALUE NBYTES
	local v=$1 n=$2 s=
	while [ "$n" -gt 0 ]; do
		s="$s$(printf '\\x%02x' $((v & 255)))"
		v=$((v >> 8))
		n=$((n - 1))
	done
	printf '%s' "$s"
}
# One patch of the ext2map input: 3-byte offset, count - 1, the bytes.
patch() { # OFFSET BYTES-AS-ESCAPES
	local n
	n=$(printf "$2" | wc -c)
	printf '%s%s%s' "$(le "$1" 3)" "$(le $((n - 1)) 1)" "$2"
}

# ---- ext2map: byte 0 = image (bit 0: ext2) | 2 ignore checksums |
# 4 read bitmaps; then patches.
c=$here/corpus/ext2map
rm -rf "$c"
mkdir -p "$c"
for img in ext4 ext2; do
	base=0
	[ $img = ext2 ] && base=1
	i=$work/$img.img
	for m in 0 2 4 6; do
		printf "$(le $((base | m)) 1)" >"$c/$img-plain-$m"
	done
	sb=1024
	printf "$(le $((base | 2)) 1)$(patch $((sb + 24)) '\x02')" >"$c/$img-sb-logbs"
	printf "$(le $((base | 2)) 1)$(patch $((sb + 4)) '\x10\x00')" >"$c/$img-sb-blocks"
	printf "$(le $((base | 2)) 1)$(patch $((sb + 0)) '\xff\xff\x00\x00')" >"$c/$img-sb-inodes"
	printf "$(le $((base | 2)) 1)$(patch $((sb + 88)) '\x00\x04')" >"$c/$img-sb-isize"
	printf "$(le $((base | 2)) 1)$(patch $((2048 + 8)) '\x70\x00')" >"$c/$img-gd-itable"
	for f in small frag far inline sym longsym sub; do
		ino=$(ino_of "$i" "/$f")
		[ -n "$ino" ] || continue
		o=$(inode_off "$i" "$ino")
		printf "$(le $((base | 2)) 1)$(patch $((o + 4)) '\xff\xff\xff\x7f')" >"$c/$img-$f-size"
		printf "$(le $((base | 2)) 1)$(patch $((o + 40)) '\x0a\xf3\xff\x00\x04\x00\x05\x00')" >"$c/$img-$f-exthdr"
		printf "$(le $((base | 2)) 1)$(patch $((o + 52)) '\x00\x00\x00\x00\xff\x7f\x00\x00\xf0\xff\x00\x00')" >"$c/$img-$f-ext0"
		printf "$(le $((base | 6)) 1)$(patch $((o + 40 + 48)) '\x01\x00\x00\x00\x02\x00\x00\x00')" >"$c/$img-$f-iblock12"
		printf "$(le $((base | 2)) 1)$(patch $((o + 32)) '\x00\x00\x00\x10')" >"$c/$img-$f-flags"
	done
	mb=$(meta_block "$i" /frag)
	if [ -n "$mb" ]; then
		printf "$(le $((base | 2)) 1)$(patch $((mb * 1024)) '\x0a\xf3\x05\x00\x54\x00\x00\x00')" >"$c/$img-frag-meta-hdr"
		printf "$(le $((base | 2)) 1)$(patch $((mb * 1024 + 12)) '\x00\x00\x00\x00\x10\x00\x00\x00\x02\x00\x00\x00')" >"$c/$img-frag-meta-first"
		printf "$(le $((base | 2)) 1)$(patch $((mb * 1024)) '\x0d\x00\x00\x00\x0e\x00\x00\x00\x0e\x00\x00\x00')" >"$c/$img-frag-meta-loop"
	fi
done

# ---- rangemap: operation sequences (see fuzz-rangemap.c for the codes).
c=$here/corpus/rangemap
rm -rf "$c"
mkdir -p "$c"
# upsert MAPPED [0 +16 blocks] at block 100, then adjacent, lookup, remove
printf '\x00\x02\x00\x00\x00\x00\x10\x00\x64\x0e\x00\x04\x09\x00\x02' >"$c/upsert-adjacent"
printf '\x00\x00\x00\x00\x00\x00\x20\x06\x00\x08\x00\x02\x0c\x00\x00' >"$c/hole-split"
printf '\x00\x03\x00\x00\x00\x03\x00\x00\x0e\x00\x03\x06\x03\x00\x00\x00' >"$c/top-edge"
printf '\x00\x02\x03\x00\x01\x00\x10\x00\x20\x0f\x00\x05\x0f\x00\x01\x0b\x02\x0b\x08' >"$c/flags-evict"
for n in 8 40 200; do
	s=
	for k in $(seq "$n"); do
		s="$s\\x00\\x02\\x00\\x00$(le $((k * 3)) 1)\\x00\\x02\\x00$(le $((k * 7)) 1)"
	done
	printf "$s\\x0b\\x05\\x0c\\x00\\x00\\x06\\x00\\x05\\x00\\x04" >"$c/many-$n"
done

# ---- varlink: byte 0 = mode (0x80 client side; 0x10 tiny cap; low bits
# chunk size), then a byte stream of NUL-terminated messages.
c=$here/corpus/varlink
rm -rf "$c"
mkdir -p "$c"
calls='{"method":"io.iomapfs.Cache.GetStatus"}
{"method":"io.iomapfs.Cache.Dump","parameters":{"ino":12,"offset":0,"length":4096},"more":true}
{"method":"io.iomapfs.Cache.SetLimits","parameters":{"cache_max":1048576,"event_ring":64}}
{"method":"io.iomapfs.Cache.SetCaching","parameters":{"enabled":false},"oneway":true}
{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"io.iomapfs.Cache"}}
{"method":"io.iomapfs.Cache.Map","parameters":{"ino":12,"length":null,"ratio":1.5e3,"list":[1,[2,{}]],"obj":{"a":"\u00e9"}},"upgrade":false}
{"method":"x.Y","parameters":{"any":-9223372036854775808,"count":-5,"enabled":true}}
{"method":"bad","parameters":[]}
{"more":1}
[1,2]
{"method":"io.iomapfs.Cache.Watch","parameters":{"count":3},"more":true}'
n=0
while IFS= read -r line; do
	n=$((n + 1))
	printf '\x00%s\0' "$line" >"$c/call-$n"
done <<<"$calls"
printf '\x00%s' "$(printf '%s\\0' $(printf '%s\n' "$calls" | tr -d ' '))" >/dev/null
{ printf '\x03'; while IFS= read -r line; do printf '%s\0' "$line"; done <<<"$calls"; } >"$c/stream-chunked"
{ printf '\x15'; printf '{"method":"a.B","parameters":{"%s":1}}\0' "$(printf 'k%.0s' $(seq 100))"; printf '{"method":"a.B"}\0'; } >"$c/over-cap"
printf '\x00{"method":"a.B"' >"$c/unterminated"
printf '\x00\xff\xfe{}\0[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\0{"method":"a.B"}\0' >"$c/bad-utf8-deep"
printf '\x80{"parameters":{"ino":12},"continues":true}\0{"error":"io.iomapfs.Cache.NoSuchInode","parameters":{"ino":9}}\0{}\0' >"$c/client-replies"
printf '\x80{"parameters":[],"error":7}\0' >"$c/client-bad"
printf '\x90{"parameters":{"s":"%s"}}\0' "$(printf 'y%.0s' $(seq 200))" >"$c/client-over-cap"

# ---- ctl: byte 0 = write chunk size (low 4 bits, 0: all at once) and
# 0x10: close without waiting; then the bytes sent to the control server.
c=$here/corpus/ctl
rm -rf "$c"
mkdir -p "$c"
n=0
while IFS= read -r line; do
	n=$((n + 1))
	printf '\x00%s\0' "$line" >"$c/call-$n"
done <<EOC
{"method":"io.iomapfs.Cache.GetStatus"}
{"method":"io.iomapfs.Cache.GetStats","parameters":{"ino":12}}
{"method":"io.iomapfs.Cache.GetLimits"}
{"method":"io.iomapfs.Cache.ResetStats"}
{"method":"io.iomapfs.Cache.Flush","parameters":{"ino":13,"offset":0,"length":1024}}
{"method":"io.iomapfs.Cache.SetCaching","parameters":{"enabled":false}}
{"method":"io.iomapfs.Cache.SetLimits","parameters":{"cache_max":4096,"cache_inode_max":1024,"event_ring":16}}
{"method":"io.iomapfs.Cache.Dump","parameters":{},"more":true}
{"method":"io.iomapfs.Cache.Dump","parameters":{"ino":13}}
{"method":"io.iomapfs.Cache.Map","parameters":{"ino":13},"more":true}
{"method":"io.iomapfs.Cache.Map","parameters":{"ino":12,"offset":4096,"length":300000}}
{"method":"io.iomapfs.Cache.Map","parameters":{"ino":2}}
{"method":"io.iomapfs.Cache.Audit","parameters":{},"more":true}
{"method":"io.iomapfs.Cache.Watch","parameters":{"count":2},"more":true}
{"method":"io.iomapfs.Cache.Watch"}
{"method":"org.varlink.service.GetInfo"}
{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"io.iomapfs.Cache"}}
{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"org.varlink.service"}}
{"method":"io.iomapfs.Cache.Nope"}
{"method":"no.Such","oneway":true}
{"method":"io.iomapfs.Cache.Map","parameters":{"ino":0}}
EOC
{ printf '\x02'; printf '{"method":"io.iomapfs.Cache.Dump","more":true}\0{"method":"io.iomapfs.Cache.GetStatus"}\0{"method":"io.iomapfs.Cache.Flush"}\0{"method":"io.iomapfs.Cache.Audit"}\0'; } >"$c/pipeline"
printf '\x00{"method":"x.Y"\0{"bad json\0{"method":"io.iomapfs.Cache.GetStatus"}\0' >"$c/bad-then-good"
printf '\x10{"method":"io.iomapfs.Cache.Map","parameters":{"ino":14},"more":true}\0' >"$c/close-early"
echo "make-corpus.sh: $(find "$here/corpus" -type f | wc -l) seeds, $(cat "$here"/corpus/*/* "$here"/images/* | wc -c) bytes with the images"
