#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6800-crashkit-self.sh - the crash-test kit tests itself before anyone
# trusts it (t/lib-crash.sh): t/helper/logdev logs writes, flushes and
# zeroings in the order a client made them (an fdatasync is a flush
# record, a close is none), fails exactly the writes its fault mode names,
# and stops at its bound with a clear error; t/abuse/logreplay.py rebuilds
# at each flush point the file as it was at that flush, and random states
# that hold each 4 KiB block written after the flush as it was after some
# of its writes, in log order (never a later write without an earlier
# one), the same for the same seed; the kernel's
# ext4 on a loop device over logdev sends its flushes through; and the
# checks bite: metawork.py's tree check names each forged damage, and
# crashcheck fails an image with a wrong bitmap.
test_description='crash-test kit: recorder, rebuilder and checks'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-crash.sh"

test_have_prereq PYTHON,E2FSPROGS || skip_all "needs python3 and e2fsprogs"
test_have_prereq LOGDEV || skip_all "needs t/helper/logdev (make)"
[ -c /dev/fuse ] && command -v fusermount3 >/dev/null ||
	skip_all "needs FUSE"

DEV=$TRASH/dev

# client: a python snippet run against the served file $DEV/disk.
client() {
	python3 -c "import os, sys
D = sys.argv[1]
$1" "$DEV/disk"
}

test_expect_success 'logdev serves the image as MNT/disk, byte for byte' '
	truncate -s 1M img &&
	dd if=/dev/urandom of=img bs=64k count=16 conv=notrunc status=none &&
	cp img base &&
	crash_logdev_up img log "$DEV" &&
	test_eq 1048576 "$(stat -c %s "$DEV/disk")" size &&
	cmp img "$DEV/disk" &&
	grep -x "records 0" "$DEV/ctl"
'

test_expect_success 'writes, flushes and zeroings are logged in order; a close is no flush' '
	client "
fd = os.open(D, os.O_RDWR)
os.pwrite(fd, b\"a\" * 4096, 8192)
os.pwrite(fd, b\"b\" * 100, 50)
os.close(fd)                       # a FUSE_FLUSH, not a flush record
fd = os.open(D, os.O_RDWR)
os.fdatasync(fd)
os.pwrite(fd, b\"c\" * 8192, 1040384)
os.fsync(fd)
os.posix_fallocate(fd, 0, 4096)    # allocation changes no byte: no record
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
assert libc.fallocate(fd, 3, ctypes.c_long(65536), ctypes.c_long(16384)) == 0
os.close(fd)
fd = os.open(D, os.O_RDWR | os.O_DSYNC)
os.pwrite(fd, b\"d\" * 512, 512)
os.close(fd)
" &&
	echo "mark after the sync write" >"$DEV/ctl" &&
	cat >expect <<-\EOF &&
	0 write 8192 4096
	1 write 50 100
	2 flush:1 fdatasync
	3 write 1040384 8192
	4 flush:2 fsync
	5 zero 65536 16384
	6 write 512 512
	7 flush:3 sync-write
	8 mark after the sync write
	EOF
	$LOGREPLAY dump log | sed 1d >actual &&
	test_cmp expect actual &&
	grep -x "closes [1-9][0-9]*" "$DEV/ctl" &&
	grep -x "flushes 3" "$DEV/ctl"
'

test_expect_success 'the rebuilt image at each flush point is the file as it was then' '
	client "
import random, shutil
rng = random.Random(7)
fd = os.open(D, os.O_RDWR)
for k in range(4, 10):
    for _ in range(rng.randint(1, 20)):
        off = rng.randrange(0, 1 << 20)
        n = min(rng.randint(1, 70000), (1 << 20) - off)
        os.pwrite(fd, os.urandom(n), off)
    os.fdatasync(fd)
    shutil.copyfile(D, \"snap-%d\" % k)
    os.pwrite(fd, os.urandom(3000), rng.randrange(0, 1 << 19))
os.close(fd)
" &&
	for k in 4 5 6 7 8 9; do
		$LOGREPLAY build base log out flush:$k &&
		cmp "snap-$k" out || return 1
	done &&
	$LOGREPLAY build base log out flush:0 && cmp base out &&
	$LOGREPLAY build base log out end && cmp img out &&
	test_must_fail $LOGREPLAY build base log out flush:99 2>err &&
	test_grep "the log has 9 flushes" err
'

test_expect_success 'a random state: each byte written after the flush is old or one of the writes, and a seed replays it' '
	$LOGREPLAY build base log r1 flush:5+rand:11 >r1.out &&
	$LOGREPLAY build base log r1again flush:5+rand:11 &&
	$LOGREPLAY build base log r2 flush:5+rand:12 >r2.out &&
	cat r1.out r2.out &&
	cmp r1 r1again &&
	! cmp -s r1 r2 &&
	$LOGREPLAY build base log before flush:5 &&
	python3 - "$CRASH_ABUSE" <<-\EOF
	import sys
	sys.path.insert(0, sys.argv[1])
	import logreplay as lr
	log = lr.Log("log")
	first, last = lr.epoch(log, 5)
	allowed = {}
	for i in range(first, last):
	    typ, off, n = log.recs[i][:3]
	    data = log.data(i) if typ == lr.WRITE else bytes(n)
	    for j in range(n):
	        allowed.setdefault(off + j, set()).add(data[j])
	b = open("before", "rb").read()
	for name in ("r1", "r2"):
	    r = open(name, "rb").read()
	    old = new = 0
	    for o, vals in allowed.items():
	        if r[o] in vals:
	            new += 1
	        elif r[o] == b[o]:
	            old += 1
	        else:
	            sys.exit("%s: byte %d is %d: not its old %d, nor any write of it: %s" % (name, o, r[o], b[o], sorted(vals)))
	    rr, bb = bytearray(r), bytearray(b)
	    for o in allowed:
	        rr[o] = bb[o] = 0
	    if rr != bb:
	        o = next(i for i in range(len(rr)) if rr[i] != bb[i])
	        sys.exit("%s: byte %d changed, but no write after flush 5 touched it" % (name, o))
	    print(name, "old", old, "new", new)
	    if not old or not new:
	        sys.exit("%s kept all or nothing of the %d bytes written" % (name, len(allowed)))
	EOF
'

test_expect_success 'states: every changed flush point and the random ones are checked' '
	$LOGREPLAY states base log st --random 3 --seed 5 \
		--check "test -f \"\$CRASH_IMAGE\" && test -d \"\$CRASH_WORK\" && echo \$CRASH_STATE >>\$TRASH/seen" \
		>states.out &&
	cat states.out &&
	test_grep -x "states 12 passed 12 failed 0 flush_points 9 random 3" states.out &&
	test_eq 12 "$(sort -u seen | wc -l)" "distinct states" &&
	test_must_fail $LOGREPLAY states base log st2 --check "false" >fail.out &&
	test_grep "^FAIL flush:1: (no output)" fail.out &&
	test_grep "failed 9" fail.out
'

test_expect_success 'the marks of a state are those logged before its flush' '
	$LOGREPLAY marks log flush:3 >m3 && test ! -s m3 &&
	$LOGREPLAY marks log end >mend &&
	echo "after the sync write" >expect &&
	test_cmp expect mend
'

test_expect_success 'logdev stops cleanly and leaves base + log = image' '
	test_when_finished crash_cleanup_ &&
	crash_logdev_down "$DEV" &&
	test_grep "logdev: .* records" "$TRASH/logdev.err" &&
	$LOGREPLAY build base log out end && cmp img out
'

test_expect_success 'a random state holds each 4 KiB block as it was after some of its writes, in log order' '
	test_when_finished crash_cleanup_ &&
	truncate -s 64k img2 && cp img2 base2 &&
	crash_logdev_up img2 log2 "$DEV" &&
	client "
fd = os.open(D, os.O_RDWR)
os.pwrite(fd, b\"a\" * 2048, 0)
os.pwrite(fd, b\"b\" * 2048, 1024)
os.fdatasync(fd)
" &&
	crash_logdev_down "$DEV" &&
	python3 - "$CRASH_ABUSE" >kinds <<-\EOF &&
	import sys
	sys.path.insert(0, sys.argv[1])
	import logreplay as lr
	log = lr.Log("log2")
	name = {b"a" * 1024: "A", b"b" * 1024: "B", bytes(1024): "-"}
	for seed in range(1, 41):
	    lr.build("base2", log, "r", "flush:0+rand:%d" % seed, 4096)
	    d = open("r", "rb").read(3072)
	    print("".join(name.get(d[i:i + 1024], "?") for i in (0, 1024, 2048)))
	EOF
	sort kinds | uniq -c &&
	sort -u kinds >got &&
	printf "%s\n" --- AA- ABB >expect &&
	test_cmp expect got
'

test_expect_success 'the fault mode fails exactly the writes touching the range, from the N-th' '
	test_when_finished crash_cleanup_ &&
	cp base img &&
	crash_logdev_up img log "$DEV" --fail=65536,8192,2 &&
	client "
import errno
fd = os.open(D, os.O_RDWR)
def w(off, n):
    try:
        os.pwrite(fd, b\"x\" * n, off)
        return \"ok\"
    except OSError as e:
        return errno.errorcode[e.errno]
print(w(61440, 4096), w(73728, 4096))   # end at the start, start at the end
print(w(65536, 512))                     # inside: the first, allowed
print(w(69632, 4096), w(61440, 8192))    # inside, across the start
print(w(0, 4096), w(73728 - 1, 2))       # outside; across the end
os.close(fd)
" >got &&
	printf "%s\n" "ok ok" "ok" "EIO EIO" "ok EIO" >expect &&
	test_cmp expect got &&
	grep -x "failed 3" "$DEV/ctl" &&
	grep -x "fail_range 65536 8192" "$DEV/ctl" &&
	grep -x "fail_from 2" "$DEV/ctl" &&
	echo "fail off" >"$DEV/ctl" &&
	client "fd = os.open(D, os.O_RDWR); os.pwrite(fd, b\"y\" * 8192, 65536)" &&
	echo "fail 0 4096 1" >"$DEV/ctl" &&
	test_must_fail client "fd = os.open(D, os.O_RDWR); os.pwrite(fd, b\"z\", 100)" &&
	test_must_fail sh -c "echo bogus >$DEV/ctl" &&
	test_grep "unknown command .bogus." "$TRASH/logdev.err" &&
	crash_logdev_down "$DEV" &&
	$LOGREPLAY dump log | grep -c "^[0-9]* failed" >nfailed &&
	echo 4 >expect && test_cmp expect nfailed &&
	$LOGREPLAY build base log out end && cmp img out
'

test_expect_success 'the fault mode with several ranges counts writes touching any of them' '
	test_when_finished crash_cleanup_ &&
	cp base img &&
	crash_logdev_up img log "$DEV" --fail=0,4096,3 --fail=1044480,4096,3 &&
	client "
import errno
fd = os.open(D, os.O_RDWR)
def w(off):
    try:
        os.pwrite(fd, b\"x\" * 512, off)
        return \"ok\"
    except OSError as e:
        return errno.errorcode[e.errno]
print(w(0), w(1044480), w(8192), w(1048064), w(512))
os.close(fd)
" >got &&
	echo "ok ok ok EIO EIO" >expect &&
	test_cmp expect got &&
	grep -x "fail_ranges 2" "$DEV/ctl" &&
	echo "fail off" >"$DEV/ctl" &&
	grep -x "fail_ranges 0" "$DEV/ctl" &&
	crash_logdev_down "$DEV"
'

test_expect_success KEXT4 'EIO on the journal of the kernel ext4: its fsync fails, nothing is reported durable' '
	test_when_finished crash_cleanup_ &&
	crash_image img &&
	crash_journal_ranges img >ranges &&
	cat ranges &&
	test -s ranges &&
	args=() &&
	while read -r r; do args+=("--fail=$r,1") || return 1; done <ranges &&
	crash_logdev_up img log "$DEV" "${args[@]}" &&
	grep -x "fail_ranges $(wc -l <ranges)" "$DEV/ctl" &&
	crash_kmount "$DEV/disk" "$TRASH/k" &&
	test_must_fail python3 -c "
import os
fd = os.open(\"$TRASH/k/f\", os.O_WRONLY | os.O_CREAT)
os.write(fd, b\"k\" * 100000)
os.fsync(fd)
" 2>err &&
	test_grep "Input/output error\|Read-only file system" err &&
	# (the unmount of an ext4 whose journal failed may fail too)
	{ crash_kumount "$TRASH/k" || :; } &&
	grep "^failed [1-9]" "$DEV/ctl" &&
	crash_logdev_down "$DEV" &&
	$LOGREPLAY dump log >dump &&
	python3 - ranges dump <<-\EOF
	import sys
	ranges = [tuple(map(int, l.split(","))) for l in open(sys.argv[1])]
	hit = lambda o, n: any(o < s + l and o + n > s for s, l in ranges)
	for line in open(sys.argv[2]):
	    w = line.split()
	    if len(w) == 4 and w[1] in ("write", "failed") and hit(int(w[2]), int(w[3])):
	        if w[1] == "write":
	            sys.exit("a write to the journal got through: " + line)
	EOF
'

test_expect_success 'the log stops at its bound with EIO, a FULL record and a clear error' '
	test_when_finished crash_cleanup_ &&
	cp base img &&
	crash_logdev_up img log "$DEV" --log-max=64K &&
	client "
n = 0
fd = os.open(D, os.O_RDWR)
try:
    while True:
        os.pwrite(fd, b\"f\" * 4096, n * 4096)
        n += 1
except OSError as e:
    print(\"stopped after\", n, e.strerror)
try:
    os.fsync(fd)
except OSError as e:
    print(\"fsync:\", e.strerror)
" >got &&
	cat got &&
	test_grep "stopped after 15 Input/output error" got &&
	test_grep "fsync: Input/output error" got &&
	grep -x "full 1" "$DEV/ctl" &&
	crash_logdev_down "$DEV" &&
	test_grep "reached its bound of 65536 bytes (--log-max)" "$TRASH/logdev.err" &&
	$LOGREPLAY dump log | tail -n 1 | grep "full$" &&
	test_must_fail "$LOGDEV" --log-max=10 img log "$DEV" 2>err &&
	test_grep "at least 1024" err &&
	test_must_fail "$LOGDEV" --fail=1,0,1 img log "$DEV" 2>err &&
	test_grep "START,LEN,N" err
'

test_expect_success KEXT4 'the kernel ext4 on a loop device over logdev: its fsync is a flush record' '
	test_when_finished crash_cleanup_ &&
	crash_image img && cp --sparse=always img base &&
	crash_logdev_up img log "$DEV" &&
	crash_kmount "$DEV/disk" "$TRASH/k" &&
	echo "mark mounted" >"$DEV/ctl" &&
	python3 -c "
import os
fd = os.open(\"$TRASH/k/f\", os.O_WRONLY | os.O_CREAT)
os.write(fd, b\"k\" * 100000)
os.fsync(fd)
" &&
	echo "mark fsynced" >"$DEV/ctl" &&
	crash_kumount "$TRASH/k" &&
	crash_logdev_down "$DEV" &&
	$LOGREPLAY dump log | sed -n "/mark mounted/,/mark fsynced/p" >between &&
	test_grep "flush:" between &&
	test_grep " write " between &&
	n=$($LOGREPLAY dump log | grep -n "mark fsynced" | cut -d: -f1) &&
	k=$($LOGREPLAY dump log | head -n "$n" | grep -c " flush:") &&
	$LOGREPLAY build base log at flush:$k &&
	crash_kmount at "$TRASH/k" && crash_kumount "$TRASH/k" &&
	fsck_clean at &&
	debugfs -R "dump /f f.out" at 2>/dev/null &&
	test_eq 100000 "$(stat -c %s f.out)" "the fsynced size" &&
	$LOGREPLAY build base log out end && cmp img out &&
	fsck_clean img
'

test_expect_success FUSE 'iomapfs on logdev: its fsync is a flush record, and its image replays' '
	test_when_finished crash_cleanup_ &&
	crash_image img && cp --sparse=always img base &&
	crash_logdev_up img log "$DEV" &&
	crash_daemon_up "$DEV/disk" "$TRASH/i" &&
	echo "mark mounted" >"$DEV/ctl" &&
	python3 -c "
import os
fd = os.open(\"$TRASH/i/f\", os.O_WRONLY | os.O_CREAT)
os.write(fd, b\"i\" * 100000)
os.fdatasync(fd)
" &&
	echo "mark fsynced" >"$DEV/ctl" &&
	crash_daemon_down "$TRASH/i" &&
	crash_logdev_down "$DEV" &&
	$LOGREPLAY dump log | sed -n "/mark mounted/,/mark fsynced/p" >between &&
	test_grep " write " between &&
	test_grep "flush:[0-9]* f" between &&
	$LOGREPLAY build base log out end && cmp img out &&
	fsck_clean img
'

test_expect_success 'metawork: a tree it left whole passes the check' '
	mkdir tree &&
	# --min-markers: some marker gets two versions however slow the
	# machine (the forged "old marker" below needs one).
	$METAWORK run tree wlog 3 --seconds 0.4 --min-markers 13 >run.out &&
	cat run.out &&
	$METAWORK check tree wlog >check.out &&
	cat check.out &&
	test_grep "bad 0$" check.out &&
	test_grep "durable_markers [1-9]" check.out
'

# forged DESCRIPTION COMMAND PATTERN: damage a copy of the tree with
# COMMAND (run inside it); the check must fail and print PATTERN.
forged() {
	rm -rf t2 && cp -a tree t2 &&
	(cd t2 && eval "$2") &&
	test_must_fail $METAWORK check t2 wlog >forged.out &&
	test_grep -E "$3" forged.out || {
		echo "forged damage not found: $1"
		return 1
	}
}

test_expect_success 'metawork: the check names each forged damage' '
	f=$(cd tree && python3 -c "
import glob
z = bytes(32)
for f in sorted(glob.glob(\"w*/**/f*\", recursive=True)):
    d = open(f, \"rb\").read(4128)
    if len(d) == 4128 and z not in (d[32:64], d[64:96], d[4096:4128]):
        print(f)
        break
") &&
	test -n "$f" &&
	old=$(python3 - "$CRASH_ABUSE" <<-\EOF
	import sys
	sys.path.insert(0, sys.argv[1])
	import metawork as mw
	c = mw.Checker("tree", "wlog", None, 3)
	m, v = max(c.durable.items(), key=lambda kv: kv[1])
	if v < 2:
	    sys.exit("no marker has two versions")
	size = c.prepared[m][1][1]
	open("old-" + m, "wb").write(mw.pattern(mw.fid_of(m), 0, size, mw.MARKER_MAGIC + 1))
	print(m)
	EOF
	) &&
	forged "a foreign record" "printf XXXXXXXX | dd of=$f bs=1 seek=4096 conv=notrunc status=none" \
		"^BAD $f: offset 4096 holds" &&
	forged "a record moved" "dd if=$f of=$f bs=32 skip=1 seek=2 count=1 conv=notrunc status=none" \
		"^BAD $f: offset 64 holds" &&
	forged "a name never given" "mkdir w1/d1_999999" \
		"^BAD w1/d1_999999: the work never gave this name" &&
	forged "a kind not its name" "f2=\$(find w1 -name \"f*\" -type f | head -n 1) && rm \$f2 && mkdir \$f2" \
		"not the kind its name says" &&
	forged "a lost marker" "rm m/m1" "^BAD m/m1: lost: version [0-9]+ was durable" &&
	forged "a marker of no version" "printf x >>m/m2" "^BAD m/m2: holds [0-9]+ bytes that are no fsynced version" &&
	forged "an old marker" "cp ../old-$old m/$old" "^BAD m/$old: holds version 1, older than its durable version" &&
	forged "a wrong xattr" "setfattr -n user.k3 -v v4- $f" "xattr user.k3 holds" &&
	forged "a foreign xattr" "setfattr -n user.other -v 1 $f" "xattr user.other was never set" &&
	forged "a foreign ACL user" "setfacl -m u:4242:r $f" "system.posix_acl_access has an entry tag 0x2 perm 4 id 4242" &&
	forged "a bad symlink" "ln -s target-of-nowhere w0/s0_999998" "symlink target .target-of-nowhere. is none" &&
	forged "a stray root entry" "mkdir stray" "^BAD stray: the work never made this at the root" &&
	forged "a file in lost+found" "mkdir lost+found && touch lost+found/x" "^BAD lost\\+found: holds 1 entries"
'

test_expect_success KEXT4 'crashcheck passes a clean image and fails one with a wrong bitmap' '
	test_when_finished crash_cleanup_ &&
	crash_image img &&
	crash_kmount img "$TRASH/k" &&
	$METAWORK run "$TRASH/k" klog 4 --seconds 1 >/dev/null &&
	crash_kumount "$TRASH/k" &&
	bash "$CRASHCHECK" img klog kernel >ok.out &&
	test_grep -x "replay=ok fsck=ok tree=ok" ok.out &&
	blk=$(debugfs -R "stat /w0" img 2>/dev/null | sed -n "s/.*(0):\([0-9]*\).*/\1/p") &&
	test -n "$blk" &&
	debugfs -w -R "freeb $blk" img &&
	test_must_fail bash "$CRASHCHECK" img klog none >bad.out &&
	cat bad.out &&
	test_grep "^replay=ok fsck=FAIL([0-9]* lines) tree=ok" bad.out &&
	test_grep "Block bitmap differences" bad.out
'

test_done
