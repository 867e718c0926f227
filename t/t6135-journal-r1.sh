#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6135-journal-r1.sh - the journal's order of writes as the device saw
# it: iomapfs serves an image that t/helper/logdev serves and logs, a
# metadata workload runs with a checkpoint after nearly every commit
# (journal_cp_max=64k, commit=1), and t/abuse/jorder.py replays the log of
# writes and flushes and checks daemon/journal.c's rules on it:
#  R1 no block goes home with a transaction's copy before that
#     transaction's commit block is durable, and no superblock, group
#     descriptor, bitmap or inode table block is written in place while
#     the log is in use;
#  R2 a commit block is written only after every other block of its
#     transaction is durable;
#  R3 the tail moves only when the blocks it drops are durable at home.
# The power cut (t6840) finds a broken rule only when a rebuilt state
# happens to fall in the window; this looks at every write.
test_description='journal ordering rules R1-R3 on the logged writes'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-crash.sh"

test_have_prereq FUSE,PYTHON,E2FSPROGS,LOGDEV ||
	skip_all "needs FUSE, python3, e2fsprogs and t/helper/logdev"

JORDER="python3 $SRC_DIR/t/abuse/jorder.py"

# r1_work DIR: metadata changes of every kind, each step fsynced or synced
# now and then so that commits (and with journal_cp_max=64k, checkpoints)
# fall in the middle of the work, not only at unmount.
r1_work() {
	local d=$1 i
	mkdir "$d/a" "$d/b" &&
	for i in $(seq 1 120); do
		printf 'file %d of the R1 work\n' "$i" >"$d/a/f$i" || return 1
		case $((i % 10)) in
		0) sync "$d/a/f$i" ;;
		3) mv "$d/a/f$((i - 1))" "$d/b/g$i" ;;
		5) ln "$d/a/f$i" "$d/b/h$i" ;;
		7) ln -s "f$i" "$d/a/s$i" && sync "$d/a" ;;
		9) rm "$d/a/f$((i - 4))" ;;
		esac || return 1
	done &&
	mkdir "$d/big" &&
	for i in $(seq 1 150); do
		: >"$d/big/a-long-name-that-fills-directory-blocks-quickly-$i" ||
			return 1
	done &&
	sync "$d/big" &&
	rm -rf "$d/big" &&
	printf '%08192d' 7 >"$d/b/data" &&
	truncate -s 2K "$d/b/data" &&
	sync "$d/b/data" &&
	rm -rf "$d/b" && mkdir "$d/c" && sync "$d"
}

test_expect_success 'every write of a metadata workload keeps R1, R2 and R3' '
	test_when_finished crash_cleanup_ &&
	make_image base.img 32M -t ext4 -b 4096 &&
	cp base.img img &&
	crash_logdev_up img dev.log "$TRASH/dev" &&
	iomapfs_mount "$TRASH/dev/disk" "$TRASH/mnt" \
		-o journal_cp_max=64k,commit=1,ctl_socket="$TRASH/ctl.sock" &&
	r1_work "$TRASH/mnt" &&
	iomapfs_unmount "$TRASH/mnt" &&
	crash_logdev_down "$TRASH/dev" &&
	$JORDER base.img dev.log >jorder.out 2>&1 ||
	{ echo "jorder.py found:"; head -n 20 jorder.out; false; } &&
	cat jorder.out &&
	read -r _ ntxn _ ncommit _ ncp _ _ _ nmove _ nbad <jorder.out &&
	test_note "$(tail -n 1 jorder.out)" &&
	test "$ncommit" -ge 5 && test "$nmove" -ge 3 && test "$ncp" -ge 20 ||
	{ echo "expected at least 5 commits, 3 tail moves and 20 checkpoint writes; got: $(tail -n 1 jorder.out)"; false; }
'

# The checker itself: the same log with its flushes taken out breaks R1
# (no commit is ever durable), R2 and R3; it must say so.
test_expect_success 'jorder.py finds writes whose flushes are missing' '
	python3 - dev.log noflush.log <<-\EOF &&
	import struct, sys
	sys.path.insert(0, "'"$SRC_DIR"'/t/abuse")
	import logreplay
	log = logreplay.Log(sys.argv[1])
	with open(sys.argv[1], "rb") as f, open(sys.argv[2], "wb") as out:
	    out.write(f.read(logreplay.HEAD.size))
	    n = 0
	    for i, (typ, off, length, flags, data) in enumerate(log.recs):
	        if typ == logreplay.FLUSH:
	            continue
	        dlen = length if typ in (logreplay.WRITE, logreplay.MARK) else 0
	        out.write(logreplay.REC.pack(logreplay.REC_MAGIC, typ, n, off,
	                                     length, flags, 0))
	        out.write(log.data(i) if dlen else b"")
	        n += 1
	EOF
	test_must_fail $JORDER base.img noflush.log >noflush.out 2>&1 &&
	test_grep "^R1 " noflush.out &&
	test_grep "^R2 " noflush.out &&
	test_grep "^R3 " noflush.out
'
# And a metadata block written in place while the log is in use: an
# inode table block of group 0, with content no transaction logged, just
# before the first commit block.
test_expect_success 'jorder.py finds metadata written in place, past the journal' '
	python3 - base.img dev.log inplace.log <<-\EOF &&
	import sys
	sys.path.insert(0, "'"$SRC_DIR"'/t/abuse")
	sys.path.insert(0, "'"$SRC_DIR"'/t/helper")
	import jtool, logreplay
	fs = jtool.Fs(sys.argv[1])
	log = logreplay.Log(sys.argv[2])
	itable = fs.gd[0][2]
	with open(sys.argv[2], "rb") as f, open(sys.argv[3], "wb") as out:
	    out.write(f.read(logreplay.HEAD.size))
	    n, done = 0, False
	    for i, (typ, off, length, flags, data) in enumerate(log.recs):
	        recs = [(typ, off, length, flags, log.data(i)
	                 if typ in (logreplay.WRITE, logreplay.MARK) else b"")]
	        b = recs[0][4]
	        if not done and typ == logreplay.WRITE and len(b) >= 8 and \
	                b[:4] == bytes.fromhex("c03b3998") and b[7] == 2:
	            recs.insert(0, (logreplay.WRITE, itable * fs.bs, fs.bs, 0,
	                            b"\x5a" * fs.bs))
	            done = True
	        for typ, off, length, flags, b in recs:
	            out.write(logreplay.REC.pack(logreplay.REC_MAGIC, typ, n,
	                                         off, length, flags, 0) + b)
	            n += 1
	    sys.exit(0 if done else 1)
	EOF
	test_must_fail $JORDER base.img inplace.log >inplace.out 2>&1 &&
	test_grep "^R1 block [0-9]* (inode table of group 0) written at record [0-9]* with content no transaction logged" inplace.out
'
test_show_notes

test_done
