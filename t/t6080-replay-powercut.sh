#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6080-replay-powercut.sh - a power cut during the replay at a read-write
# mount (daemon/replay.c).  iomapfs mounts an image whose journal needs
# recovery, and unmounts it, on a file that t/helper/logdev serves and
# records; every image a power cut could leave during that mount is
# rebuilt from the record (t/abuse/logreplay.py): after each write in log
# order (rec:N), and random subsets of the writes between two flushes,
# which a disk may take in any order (flush:K+rand:S).  Each must:
#  - never say that no replay is needed (needs_recovery clear, or the log
#    empty) while a block the replay writes home is not home yet with its
#    replayed contents;
#  - replay again, by iomapfs's mount and unmount, e2fsck -fn clean, to an
#    image identical block for block to the one an uninterrupted replay
#    leaves (apart from the superblock's mount fields, t/helper/jtool.py,
#    and the journal's blocks: the recorded mount runs the journal writer,
#    which moves the journal's sequence on; the log must be empty and its
#    sequence not behind);
#  - every CUT_EVERY-th state, the same by e2fsck -E journal_only and by
#    the kernel's mount and unmount.
# Journals: one debugfs made (four transactions, revokes, an escaped
# block, the superblock logged without needs_recovery), every write; with
# root and loop devices, one the kernel wrote (xfs_io shutdown), a spread
# of CUT_KERNEL_STATES writes.
test_description='power cut during the replay at mount: a second replay ends as one uninterrupted'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-journal.sh"
. "$T_DIR/lib-crash.sh"

test_have_prereq FUSE,E2FSPROGS,PYTHON3,LOGDEV ||
	skip_all "needs FUSE, e2fsprogs, python3 and t/helper/logdev"

# Random states per epoch (the writes between two flushes), the spreads
# (0: every write), and how often the other two replays run.  Under the
# sanitizers (t9990) every mount is slow: a spread there too.
CUT_RANDOM=${CUT_RANDOM:-5}
CUT_DEBUGFS_STATES=${CUT_DEBUGFS_STATES:-0}
CUT_KERNEL_STATES=${CUT_KERNEL_STATES:-12}
CUT_EVERY=${CUT_EVERY:-8}
if [ -n "${IOMAPFS_SANITIZED_SUITE:-}" ]; then
	CUT_RANDOM=2 CUT_DEBUGFS_STATES=12 CUT_KERNEL_STATES=6
fi

# cut_py SCRIPT ARGS: python3 with t/abuse and t/helper on its path
# (logreplay.py and jtool.py as modules: one process for many images).
cut_py() {
	PYTHONPATH=$SRC_DIR/t/abuse:$SRC_DIR/t/helper python3 - "$@"
}

# cut_build BASE LOG DIR PIECE <STATES: DIR/I.img for the I-th state (from
# 1), in one process.
cut_build() {
	cut_py "$@" 3<&0 <<-\EOF
	import os, sys
	import logreplay as lr
	base, path, out, piece = sys.argv[1:5]
	log = lr.Log(path)
	with os.fdopen(3) as states:
	    for i, st in enumerate(states.read().split(), 1):
	        lr.build(base, log, "%s/%d.img" % (out, i), st, int(piece))
	EOF
}

# cut_cmp REF IMG...: each IMG identical to REF block for block, apart
# from the superblock's mount fields and the journal's blocks; of the
# journal, its log is empty (s_start 0) and its sequence does not go back
# (the journal writer of the recorded mount moves it on).  Prints each
# difference; exit 1 when an IMG differs.
cut_cmp() {
	cut_py "$@" <<-\EOF
	import contextlib, io, sys
	import jtool
	ref, imgs = sys.argv[1], sys.argv[2:]
	j = jtool.Journal(ref)
	fs, bs, skip = j.fs, j.fs.bs, set(j.map.values())
	with open(ref, "rb") as f:
	    want = f.read()
	bad = 0
	for img in imgs:
	    with open(img, "rb") as f:
	        got = f.read()
	    out = io.StringIO()
	    diffs = 0
	    with contextlib.redirect_stdout(out):
	        if len(got) != len(want):
	            print("the image is %d bytes, not %d" % (len(got), len(want)))
	            diffs += 1
	        for off in range(0, min(len(got), len(want)), 1 << 20):
	            if got[off:off + (1 << 20)] == want[off:off + (1 << 20)]:
	                continue
	            for b in range(off // bs, (off + (1 << 20)) // bs):
	                x, y = want[b * bs:(b + 1) * bs], got[b * bs:(b + 1) * bs]
	                if x != y and b not in skip:
	                    diffs += jtool.cmp_block(fs, b, x, y)
	        ji = jtool.Journal(img)
	        if ji.start != 0 or ji.sequence < j.sequence:
	            print("journal superblock: start %d sequence %d, expected "
	                  "start 0 and sequence %d or more"
	                  % (ji.start, ji.sequence, j.sequence))
	            diffs += 1
	    if diffs:
	        bad += 1
	        print("%s differs from %s:" % (img, ref))
	        sys.stdout.write(out.getvalue())
	sys.exit(1 if bad else 0)
	EOF
}

# cut_nr IMG: exit 0 when IMG says no replay is needed: needs_recovery
# clear, or a journal whose log is empty (s_start 0).
cut_nr() {
	local h
	h=$(dumpe2fs -h "$1" 2>/dev/null) &&
	! { echo "$h" | grep -q "^Filesystem features:.*needs_recovery" &&
		echo "$h" | grep -q "^Journal start: *[1-9]"; }
}

# cut_setup NAME [MAX]: the reference replays of NAME.img, and iomapfs's
# replay of it recorded by logdev.  Leaves NAME.ref (iomapfs's
# uninterrupted replay), CUT_HOME and NAME.home (the blocks the
# replay writes home, and their replayed contents; the primary
# superblock's block left out: the mount rewrites it), NAME.log (the
# record) and NAME.states (the cut states, one a line).  The recorded
# mount uses the journal (the default): a cut after the replay is the
# crash of a journalled mount, which a replay must also bring back.
cut_setup() {
	local n=$1 bs sbb
	replay_iomapfs "$n.img" "$n.ref" &&
	fsck_clean "$n.ref" &&
	replay_e2fsck "$n.img" "$n.e" &&
	jtool cmp "$n.e" "$n.ref" &&
	"$IOMAPCTL" --image "$n.img" -J journal >"$n.json" &&
	bs=$(jnl_bs "$n.img") &&
	sbb=$((1024 / bs)) &&
	jq -r ".blocks[] | select(.replay == \"written\") | .home" "$n.json" |
		sort -nu | grep -vx "$sbb" >"$n.homelist" &&
	mapfile -t CUT_HOME <"$n.homelist" &&
	test "${#CUT_HOME[@]}" -gt 0 &&
	jnl_blocks_of "$n.ref" "$n.home" "${CUT_HOME[@]}" &&
	cp --sparse=always "$n.img" "$n.rec" &&
	crash_logdev_up "$n.rec" "$n.log" "$TRASH/dev" &&
	iomapfs_mount "$TRASH/dev/disk" rmnt -o ctl_socket="$TRASH/r.sock" &&
	iomapfs_unmount rmnt &&
	crash_logdev_down "$TRASH/dev" &&
	test_grep "replayed .* to the device" "$TRASH/iomapfs-rmnt.log" &&
	cut_cmp "$n.ref" "$n.rec" &&
	$LOGREPLAY dump "$n.log" >"$n.dump" &&
	# Every block home, then a flush, then the journal emptied: the
	# record holds more writes than there are home blocks.
	test "$(grep -c " write " "$n.dump")" -gt "${#CUT_HOME[@]}" || {
		echo "the record of $n holds fewer writes than the" \
			"${#CUT_HOME[@]} home blocks of the journal:"
		cat "$n.dump"
		return 1
	}
	# rec:N after every write (and rec:0); when MAX is not 0, after MAX
	# writes spread evenly, and the first two, and the last write of
	# each epoch (the writes between two flushes) and the first of the
	# next.  Then CUT_RANDOM random states of every epoch with two
	# writes or more.
	awk -v r="$CUT_RANDOM" -v max="${2:-0}" '
	$2 == "write" || $2 == "zero" {
		c[++nc] = $1 + 1
		if (w[k]++ == 0) edge[nc] = edge[nc - 1] = 1
	}
	$2 ~ /^flush/ { k++ }
	END {
		print "rec:0"
		step = max && nc > max ? nc / max : 1
		for (x = step; x < nc; x += step) pick[int(x)] = 1
		pick[1] = pick[2] = pick[nc] = 1
		for (i = 1; i <= nc; i++)
			if (pick[i] || (max && edge[i])) print "rec:" c[i]
		for (e = 0; e <= k; e++) if (w[e] > 1)
			for (s = 1; s <= r; s++) print "flush:" e "+rand:" s
	}' "$n.dump" >"$n.states"
}

# cut_check NAME I STATE OTHERS: the checks of state I (st/I.img); with
# OTHERS=1 it is replayed by e2fsck and by the kernel too.  Leaves st/I.i
# (and st/I.e, st/I.k) for cut_cmp.
cut_check() {
	local n=$1 i=$2 st=$3 others=$4 c=st/$2 b
	if cut_nr $c.img; then
		jnl_blocks_of $c.img $c.home "${CUT_HOME[@]}" &&
		cmp -s "$n.home" $c.home || {
			echo "$n $st: the image says no replay is needed" \
				"(needs_recovery clear, or the log empty), but" \
				"blocks of the replay are not home:"
			for b in "${CUT_HOME[@]}"; do
				jnl_blocks_of $c.img $c.b1 "$b" &&
				jnl_blocks_of "$n.ref" $c.b2 "$b" &&
				cmp -s $c.b1 $c.b2 || echo "  block $b"
			done
			dumpe2fs -h $c.img 2>/dev/null |
				grep "^Filesystem features:\|^Journal start:"
			return 1
		}
	fi &&
	replay_iomapfs $c.img $c.i || {
		echo "$n $st: iomapfs did not replay it again"
		return 1
	}
	fsck_clean $c.i || {
		echo "$n $st: replayed again by iomapfs, not clean"
		return 1
	}
	echo "$c.i $st iomapfs" >>"$n.cmp" &&
	if [ "$others" = 1 ]; then
		replay_e2fsck $c.img $c.e &&
		fsck_clean $c.e || {
			echo "$n $st: replayed again by e2fsck, not clean"
			return 1
		}
		echo "$c.e $st e2fsck" >>"$n.cmp" &&
		CUT_OTHERS=$((CUT_OTHERS + 1))
		if test_have_prereq KEXT4; then
			cp --sparse=always $c.img $c.k &&
			crash_kmount $c.k "$TRASH/kmnt" &&
			crash_kumount "$TRASH/kmnt" &&
			fsck_clean $c.k || {
				echo "$n $st: replayed again by the kernel," \
					"not clean"
				return 1
			}
			echo "$c.k $st kernel" >>"$n.cmp" &&
			CUT_KERNEL=$((CUT_KERNEL + 1))
		fi
	fi
}

# cut_all NAME: every state of NAME.states, built at once, checked one by
# one, compared at once; a note says how many.
cut_all() {
	local n=$1 st i=0 rc=0 bad=0 bs again
	CUT_OTHERS=0 CUT_KERNEL=0
	bs=$(jnl_bs "$n.img") &&
	rm -rf st "$n.cmp" && mkdir st &&
	cut_build "$n.img" "$n.log" st "$bs" <"$n.states" || return 1
	while read -r st; do
		i=$((i + 1))
		cut_check "$n" $i "$st" $((i % CUT_EVERY == 1)) || {
			rc=1
			bad=$((bad + 1))
		}
		rm -f st/$i.img
		crash_cleanup_
	done <"$n.states"
	cut_cmp "$n.ref" $(cut -d" " -f1 "$n.cmp") >"$n.cmpout" || {
		rc=1
		grep "differs from" "$n.cmpout" | while read -r f _; do
			grep "^$f " "$n.cmp"
		done
		cat "$n.cmpout"
	}
	bad=$((bad + $(grep -c "differs from" "$n.cmpout")))
	# The cuts in the middle of the replay leave a log to replay again:
	# without any, the states would test nothing.
	again=$(cat st/*.i.log 2>/dev/null |
		grep -c "replayed [1-9][0-9]* transactions\{0,1\} .* to the device")
	test_note "$n: $(grep -c " write " "$n.dump") writes," \
		"$(grep -c " flush" "$n.dump") flushes in the recorded mount;" \
		"$i cut states replayed again by iomapfs ($again with" \
		"transactions left to replay), $CUT_OTHERS of them by" \
		"e2fsck -E journal_only too and $CUT_KERNEL by the kernel;" \
		"$bad failed"
	[ "$again" -gt 0 ] || {
		echo "$n: no cut state had a transaction left to replay"
		rc=1
	}
	return $rc
}

test_expect_success 'a debugfs-made journal: its replay recorded' '
	jnl_base dbase.img 32M -t ext4 &&
	jnl_stages dbase.img &&
	cp dbase.img d.img &&
	jnl_three d.img dbase.img -c &&
	cut_setup d "$CUT_DEBUGFS_STATES"
'

test_expect_success 'a power cut at any write of the replay: replayed again, the same image' '
	cut_all d
'

kernel_prereq
command -v setfattr >/dev/null && test_set_prereq SETFATTR

test_expect_success KERNEL,SETFATTR 'a kernel-made journal (shut down): its replay recorded' '
	kernel_crash k.img 64M "-t ext4" "" shutdown &&
	cut_setup k "$CUT_KERNEL_STATES"
'

test_expect_success KERNEL,SETFATTR 'a power cut at a spread of the writes: replayed again, the same image' '
	cut_all k
'

test_show_notes
test_done
