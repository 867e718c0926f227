# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# lib-data.sh - helpers of the data-path tests (t22xx-t24xx, t3xxx): a
# model directory outside the mount that every write is also applied to,
# so the mount can be compared with an independent copy; reads that
# bypass the kernel's page cache; and debugfs dumps of the unmounted image
# as a second, independent oracle.  Source it after test-lib.sh.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "1..0 # SKIP ${0##*/} is a test library, not a test"
	exit 0
fi

DATAIO=$HELPER_DIR/dataio
export DATAIO
[ -x "$DATAIO" ] && test_set_prereq DATAIO
command -v fallocate >/dev/null && test_set_prereq FALLOCATE

# drop_cache FILE: drop the kernel's cached pages of FILE, so the next read
# reaches the daemon's read path.
drop_cache() {
	dd if="$1" iflag=nocache count=0 status=none
}

# same_data MODEL FILE: FILE (read past the page cache) equals MODEL.
same_data() {
	drop_cache "$2" && cmp "$1" "$2"
}

# dw FILE OFF LEN SEED: write the dataio pattern to $MNT/FILE and model/FILE.
dw() {
	mkdir -p model &&
	"$DATAIO" write "$MNT/$1" "$2" "$3" "$4" &&
	"$DATAIO" write "model/$1" "$2" "$3" "$4"
}

# both CMD ARGS... FILE: run CMD on $MNT/FILE and on model/FILE (last arg).
both() {
	local f=${!#}
	local n=$(($# - 1))
	"${@:1:$n}" "$MNT/$f" && "${@:1:$n}" "model/$f"
}

# dump_cmp IMG PATH MODEL: debugfs's dump of PATH in IMG equals MODEL.
# debugfs dumps all of an inline-data area (60 bytes and more) whatever
# i_size says, so the dump is cut to i_size first.
dump_cmp() {
	local size
	rm -f dump.out &&
	debugfs -R "dump $2 dump.out" "$1" >debugfs.err 2>&1 &&
	test -f dump.out || { echo "debugfs could not dump $2:"; cat debugfs.err; return 1; }
	size=$(debugfs -R "stat $2" "$1" 2>/dev/null |
	       sed -n 's/.*Size: \([0-9][0-9]*\)$/\1/p' | head -n 1)
	[ -n "$size" ] || { echo "debugfs shows no size for $2"; return 1; }
	[ "$(stat -c %s dump.out)" -gt "$size" ] && truncate -s "$size" dump.out
	cmp "$3" dump.out
}

# model_cmp_all: every file of model/ equals its copy in $MNT.
model_cmp_all() {
	local f
	for f in model/*; do
		same_data "$f" "$MNT/${f#model/}" || return 1
	done
}

# dump_cmp_all IMG: every file of model/ equals debugfs's dump from IMG.
dump_cmp_all() {
	local f
	for f in model/*; do
		dump_cmp "$1" "/${f#model/}" "$f" || return 1
	done
}

# blocks_of IMG PATH: the device blocks of PATH, one per line (debugfs).
blocks_of() {
	debugfs -R "blocks $2" "$1" 2>/dev/null | tr ' ' '\n' | sed '/^$/d'
}

# model_zero FILE OFF LEN [keep]: zero bytes [OFF, OFF + LEN) of model/FILE,
# as fallocate -p (keep) or -z (no keep: may extend the file) does.
model_zero() {
	local f=model/$1 off len size
	off=$(numfmt --from=iec "$2") && len=$(numfmt --from=iec "$3") &&
	size=$(stat -c %s "$f") || return 1
	if [ "${4:-}" = keep ]; then
		[ "$off" -ge "$size" ] && return 0
		[ $((off + len)) -gt "$size" ] && len=$((size - off))
	fi
	head -c "$len" /dev/zero |
		dd of="$f" bs=64K seek="$off" oflag=seek_bytes conv=notrunc status=none
}

# make_dirty_image IMG SIZE [mke2fs options...]: like make_image, but every
# block starts out holding non-zero junk, as on a disk that has been used:
# a block handed to a file without being written or zeroed shows up.
make_dirty_image() {
	local img=$1 size=$2
	shift 2
	rm -f "$img" &&
	yes "stale block contents " | head -c "$size" >"$img" &&
	mke2fs -q -F -E nodiscard "$@" "$img" >/dev/null
}
