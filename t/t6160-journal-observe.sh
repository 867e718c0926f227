#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6160-journal-observe.sh - what a live mount shows of its journal
# writer (iomapctl(8) stats, status, journal, watch; iomapfs-varlink(7)
# JournalStats, JournalTransaction, JournalEvent): the counters move as
# the work asks (an fsync is one fsync commit and a new tid, commit=1
# gives timer commits, a small journal_txn_max gives size commits, freed
# metadata gives revoke records), the recent transactions are listed
# newest first with consecutive tids and at most journal_history rows,
# the tids a live mount showed as committed are the ones the log holds
# after a kill -9, the watch stream carries commit and checkpoint
# events, a remount read-only leaves the writer inactive after a remount
# checkpoint, and ext2, journal=off and a read-only mount report no
# journal.
test_description='the journal writer seen live: counters, transactions, events'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq FUSE,E2FSPROGS,JQ ||
	skip_all "needs FUSE, e2fsprogs and jq"
command -v mandoc >/dev/null && test_set_prereq MANDOC

IMG=$TRASH/img
MNT=$TRASH/mnt
S=$TRASH/ctl.sock

ictl() { "$IOMAPCTL" -s "$S" "$@"; }

# jstat FIELD: a field of the journal writer's statistics (jq path).
jstat() {
	ictl -J stats | jq -r ".journal.$1"
}

# jtxns: the live transactions, one "tid state cause blocks revokes" row
# each, newest first.
jtxns() {
	ictl -J journal |
		jq -r '.transactions[] | "\(.tid) \(.state) \(.cause) \(.blocks) \(.revokes)"'
}

# mount_ext4 [-o opts]: a fresh ext4 image mounted on $MNT, socket $S.
mount_ext4() {
	make_image "$IMG" 64M -t ext4 &&
	iomapfs_mount "$IMG" "$MNT" -o ctl_socket="$S" "$@"
}

# touch_dir_many DIR N: N new empty files in DIR (metadata only).
touch_dir_many() {
	mkdir -p "$1" && (cd "$1" && seq 1 "$2" | xargs touch)
}

test_expect_success 'an fsync of a changed file: one fsync commit, a new tid' '
	mount_ext4 -o commit=600 &&
	test_when_finished "iomapfs_unmount \"\$MNT\"" &&
	tid0=$(jstat tid) && fs0=$(jstat commits_by_cause.fsync) &&
	tx0=$(jstat transactions) && bl0=$(jstat blocks_logged) &&
	test_eq 0 "$fs0" "fsync commits after the mount" &&
	echo data >"$MNT/f" && sync "$MNT/f" &&
	test_eq $((fs0 + 1)) "$(jstat commits_by_cause.fsync)" "fsync commits" &&
	test_eq $((tx0 + 1)) "$(jstat transactions)" "transactions" &&
	test_eq $((tid0 + 1)) "$(jstat tid)" "the running tid" &&
	test "$(jstat blocks_logged)" -gt "$bl0" &&
	test "$(jstat commit_latency_max_ns)" -gt 0 &&
	test "$(jstat commit_latency_mean_ns)" -gt 0 &&
	test "$(jstat log_used)" -gt 0 &&
	test "$(jstat log_used)" -lt "$(jstat log_size)" &&
	test_eq 1 "$(jstat lag_transactions)" "committed, not home" &&
	test "$(jstat lag_blocks)" -gt 0 &&
	test_eq 0 "$(jstat commits_by_cause.timer)" "timer commits (commit=600)" &&
	# a second fsync with nothing changed commits nothing
	sync "$MNT/f" &&
	test_eq $((fs0 + 1)) "$(jstat commits_by_cause.fsync)" "fsync commits" &&
	ictl -J status | jq -e ".status.journal.transactions == $((tx0 + 1))" &&
	ictl stats >stats.txt &&
	test_grep "^journal:" stats.txt &&
	test_grep "^  commits_by_cause:" stats.txt &&
	test_grep "^    fsync: *1$" stats.txt &&
	test_grep "^  lag_transactions: *1$" stats.txt
'

test_expect_success 'freed metadata: revoke records; blocks logged grow' '
	mount_ext4 -o commit=600 &&
	test_when_finished "iomapfs_unmount \"\$MNT\"" &&
	touch_dir_many "$MNT/d" 400 && sync "$MNT/d" &&
	rv0=$(jstat revokes) && bl0=$(jstat blocks_logged) &&
	rm -rf "$MNT/d" && sync "$MNT" &&
	test "$(jstat revokes)" -gt "$rv0" &&
	test "$(jstat blocks_logged)" -gt "$bl0" &&
	jtxns >txns &&
	# the newest committed transaction holds the revokes
	awk "\$2 == \"committed\" { print \$5; exit }" txns >rv &&
	test "$(cat rv)" -gt 0
'

test_expect_success 'commit=1: timer commits' '
	mount_ext4 -o commit=1 &&
	test_when_finished "iomapfs_unmount \"\$MNT\"" &&
	echo a >"$MNT/a" &&
	test_wait_for 15 "test \$(jstat commits_by_cause.timer) -ge 1" &&
	echo b >"$MNT/b" &&
	test_wait_for 15 "test \$(jstat commits_by_cause.timer) -ge 2" &&
	test_eq 0 "$(jstat commits_by_cause.fsync)" "fsync commits" &&
	jtxns >txns &&
	test_grep " timer " txns
'

test_expect_success 'a small transaction bound: size commits' '
	mount_ext4 -o commit=600,journal_txn_max=64k &&
	test_when_finished "iomapfs_unmount \"\$MNT\"" &&
	bs=$(ictl -J status | jq .status.block_size) &&
	test_eq $((65536 / bs)) "$(jstat txn_max_blocks)" "txn_max_blocks" &&
	touch_dir_many "$MNT/d" 600 &&
	test_wait_for 15 "test \$(jstat commits_by_cause.size) -ge 1" &&
	test_eq 0 "$(jstat commits_by_cause.fsync)" "fsync commits" &&
	test_eq 0 "$(jstat commits_by_cause.timer)" "timer commits" &&
	test "$(jstat running_blocks_max)" -lt $((4 * 65536 / bs))
'

test_expect_success 'journal_history: its bounds are checked' '
	make_image "$IMG" 64M -t ext4 &&
	for bad in 0 65537 x -1; do
		test_expect_code 2 "$IOMAPFS" -f -o journal_history=$bad \
			"$IMG" "$MNT" 2>err &&
		test_grep "journal_history=$bad.*from 1 to 65536" err || return 1
	done
'

test_expect_success 'the live list: newest first, consecutive tids, at most journal_history rows' '
	mount_ext4 -o commit=600,journal_history=4 &&
	test_when_finished "iomapfs_unmount \"\$MNT\"" &&
	test_eq 4 "$(jstat history)" "history" &&
	for i in 1 2 3 4 5 6; do
		echo $i >"$MNT/f$i" && sync "$MNT/f$i" || return 1
	done &&
	jtxns >txns &&
	cat txns &&
	test_eq 4 "$(wc -l <txns)" "rows" &&
	awk "NR > 1 && \$1 != prev - 1 { print \"tid\", \$1, \"after\", prev; bad = 1 }
		{ prev = \$1 } END { exit bad }" txns &&
	awk "\$2 != \"committed\" || \$3 != \"fsync\" || \$4 < 1 { bad = 1 }
		END { exit bad }" txns &&
	test_eq $(($(jstat tid) - 1)) "$(head -n 1 txns | cut -d" " -f1)" "the newest tid" &&
	# a running transaction comes first and counts against the bound
	echo x >"$MNT/g" &&
	jtxns >txns2 &&
	test_eq 4 "$(wc -l <txns2)" "rows" &&
	test_grep "^$(jstat tid) running null" txns2 &&
	# for people: a table with a heading, and the columns of iomapctl(8)
	ictl journal >journal.txt &&
	test_grep "^ *TID  *STATE  *CAUSE  *BLOCKS  *REVOKES  *STARTED  *COMMITTED  *LATENCY$" journal.txt &&
	test_grep " committed  *fsync " journal.txt &&
	! grep -q "does not write the journal" journal.txt &&
	test_expect_code 2 ictl -o BOGUS journal 2>err &&
	sed -n "s/.*(this table has \(.*\))\$/\1/p" err | tr , "\n" >cols &&
	test "$(wc -l <cols)" -ge 10
'

# (the columns the test above listed)
test_expect_success MANDOC 'iomapctl(8) describes every column of the live list' '
	mandoc -Tascii "$SRC_DIR/man/iomapctl.8" | col -b |
		sed -n "/^   journal on a mount/,/^   list/p" >man.txt &&
	while read -r col; do
		grep -q "^       $col\\( \\|\$\\)" man.txt ||
			{ echo "iomapctl(8) does not describe $col"; return 1; }
	done <cols
'

test_expect_success 'the tids committed live are in the log after a kill -9' '
	mount_ext4 -o commit=600 &&
	test_when_finished "! mountpoint -q \"\$MNT\" || iomapfs_kill9 \"\$MNT\"" &&
	for i in 1 2 3; do
		mkdir "$MNT/d$i" && echo $i >"$MNT/d$i/f" && sync "$MNT/d$i/f" ||
			return 1
	done &&
	ictl -J journal >live.json &&
	jq -r ".transactions[] | select(.state == \"committed\") | .tid" live.json |
		sort -n >live.tids &&
	test "$(wc -l <live.tids)" -ge 3 &&
	test_eq 0 "$(jq ".journal.stats.checkpoints" live.json)" "checkpoints" &&
	iomapfs_kill9 "$MNT" &&
	"$IOMAPCTL" --image "$IMG" -J journal >log.json &&
	jq -r ".blocks[] | select(.type == \"commit\") | .seq" log.json |
		sort -n >log.tids &&
	comm -23 live.tids log.tids >missing &&
	test_cmp /dev/null missing
'

test_expect_success 'watch: a commit event after an fsync, a checkpoint event' '
	mount_ext4 -o commit=600,journal_cp_max=64k &&
	test_when_finished "iomapfs_unmount \"\$MNT\"" &&
	dd if=/dev/urandom of="$MNT/r" bs=4k count=4 status=none &&
	sync "$MNT/r" &&
	{ env --default-signal=INT "$IOMAPCTL" -s "$S" -J watch >watch.json 2>watch.err & } &&
	wpid=$! &&
	test_when_finished "kill $wpid 2>/dev/null" &&
	# the watch has begun when a cache event reaches it
	test_wait_for 10 "ictl flush --all >/dev/null &&
		dd if=\"\$MNT/r\" of=/dev/null bs=4k iflag=direct status=none &&
		test -s watch.json" &&
	echo hello >"$MNT/f" && sync "$MNT/f" &&
	tid=$(($(jstat tid) - 1)) &&
	test_wait_for 10 "jq -e \"select(.event.type == \\\"commit\\\" and .event.journal.tid == $tid)\" watch.json" &&
	jq -c "select(.event.type == \"commit\" and .event.journal.tid == $tid) | .event" watch.json >commit.json &&
	jq -e ".journal.cause == \"fsync\" and .journal.blocks > 0 and
		.journal.latency_ns > 0 and .ino == 0" commit.json &&
	# more committed blocks than journal_cp_max: written home
	touch_dir_many "$MNT/d" 300 && sync "$MNT/d" &&
	test_wait_for 10 "jq -e \"select(.event.type == \\\"checkpoint\\\")\" watch.json" &&
	jq -c "select(.event.type == \"checkpoint\") | .event.journal" watch.json |
		head -n 1 >cp.json &&
	jq -e ".cause == \"bound\" and .blocks > 0 and .first_tid <= .tid" cp.json &&
	test "$(jstat checkpoints_by_cause.bound)" -ge 1 &&
	test_eq 0 "$(jstat lag_transactions)" "lag after the checkpoint" &&
	ictl -J journal | jq -e "[.transactions[] | select(.state == \"checkpointed\")] | length > 0" &&
	kill -INT $wpid && wait $wpid &&
	test_cmp /dev/null watch.err &&
	# the human lines
	{ ictl watch --duration 4 >watch.txt & } &&
	hpid=$! &&
	test_wait_for 10 "grep -q ^TIME watch.txt" &&
	echo again >>"$MNT/f" && sync "$MNT/f" &&
	test_wait_all $hpid &&
	test_grep " commit  *0 .*tid=[0-9]* blocks=[1-9][0-9]* revokes=0 cause=fsync latency=" watch.txt
'

test_expect_success 'remount read-only: a remount checkpoint, the writer inactive' '
	mount_ext4 -o commit=600 &&
	test_when_finished "iomapfs_unmount \"\$MNT\"" &&
	echo x >"$MNT/f" && sync "$MNT/f" &&
	test_eq 1 "$(jstat lag_transactions)" "lag before" &&
	ictl remount ro >/dev/null &&
	test_eq false "$(jstat active)" "active, read-only" &&
	ictl -J status | jq -e ".status.journal.active == false" &&
	test_eq 1 "$(jstat checkpoints_by_cause.remount)" "remount checkpoints" &&
	test_eq 0 "$(jstat lag_transactions)" "lag, read-only" &&
	test_eq 0 "$(jstat log_used)" "log_used, read-only" &&
	ictl -J journal | jq -e ".journal.written == false" &&
	ictl remount rw >/dev/null &&
	test_eq true "$(jstat active)" "active, read-write again" &&
	ictl -J journal | jq -e ".journal.written == true"
'

test_expect_success 'no journal writer: ext2, journal=off, read-only' '
	make_image "$IMG" 64M -t ext2 &&
	iomapfs_mount "$IMG" "$MNT" -o ctl_socket="$S" &&
	echo x >"$MNT/f" && sync "$MNT/f" &&
	test_eq null "$(ictl -J stats | jq .journal)" "ext2: stats" &&
	test_eq null "$(ictl -J status | jq .status.journal)" "ext2: status" &&
	ictl -J journal >j.json &&
	jq -e ".journal.journal == \"none\" and .journal.written == false and
		.journal.stats == null and .transactions == []" j.json &&
	ictl journal >j.txt &&
	test_grep "does not write the journal" j.txt &&
	! grep -q "^ *TID" j.txt &&
	ictl stats >s.txt &&
	test_grep "^journal: none" s.txt &&
	iomapfs_unmount "$MNT" &&
	make_image "$IMG" 64M -t ext4 &&
	iomapfs_mount "$IMG" "$MNT" -o ctl_socket="$S",journal=off &&
	echo x >"$MNT/f" && sync "$MNT/f" &&
	test_eq null "$(ictl -J stats | jq .journal)" "journal=off: stats" &&
	ictl -J journal >j.json &&
	jq -e ".journal.journal == \"internal\" and .journal.written == false and
		.journal.stats == null" j.json &&
	iomapfs_unmount "$MNT" &&
	iomapfs_mount "$IMG" "$MNT" -o ctl_socket="$S",ro &&
	test_eq null "$(ictl -J stats | jq .journal)" "ro: stats" &&
	iomapfs_unmount "$MNT"
'

test_done
