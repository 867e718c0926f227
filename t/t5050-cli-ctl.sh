#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t5050-cli-ctl.sh - every daemon command of iomapctl, in human and -J
# form, against the real control server and cache (t/helper/ctl-server:
# the server over an image, without FUSE, whose cache is driven from the
# test).  Dump agrees with `debugfs ex` for the part looked up, flush of a
# range leaves the rest, disable empties the cache, audit is clean, and a
# scripted audit matches its transcript.
test_description='iomapctl against the control server'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-cli.sh"
[ -f "$T_DIR/lib-ctl.sh" ] || skip_all "t/lib-ctl.sh is missing"
. "$T_DIR/lib-ctl.sh"

test_have_prereq IOMAPCTL || skip_all "iomapctl is not built"
test_have_prereq E2FSPROGS || skip_all "e2fsprogs (mke2fs, debugfs) missing"
test_have_prereq CTL_SERVER || skip_all "t/helper/ctl-server is not built"
test_have_prereq JQ || skip_all "jq is not installed"

IMG=$TRASH/frag.img
EXPECT_DIR=$SRC_DIR/t/t5050

# c ARGS: iomapctl on the server's socket.
c() {
	"$IOMAPCTL" -s "$CTL_SOCK" "$@"
}

# inode_of PATH: the inode number of PATH in the image.
inode_of() {
	debugfs -R "stat $1" "$IMG" 2>/dev/null | sed -n "s/^Inode: \([0-9]*\).*/\1/p"
}

# lookup_blocks INO FIRST LAST: look up every block FIRST..LAST (1 KiB).
lookup_blocks() {
	local b
	for b in $(seq "$2" "$3"); do
		ctl_cmd lookup "$1" $((b * 1024)) || return 1
	done
}

test_expect_success 'set up an image and start the server' '
	make_frag_image "$IMG" &&
	FRAG=$(inode_of /frag) && SPARSE=$(inode_of /sparse) &&
	SMALL=$(inode_of /dir/small) &&
	test -n "$FRAG" && test -n "$SPARSE" && test -n "$SMALL" &&
	debugfs_extents "$IMG" /frag >frag.extents &&
	ctl_server_start "$IMG" "$TRASH/mnt" -s "$TRASH/ctl.sock" &&
	test -S "$CTL_SOCK"
'

test_expect_success 'status, human and JSON' '
	c status >out &&
	test_grep -q "^mountpoint: *$TRASH/mnt$" out &&
	test_grep -q "^caching: *yes$" out &&
	test_grep -q "^  cache_max: *[0-9]" out &&
	c -J status >out &&
	jq -e ".schema_version == 1 and .command == \"status\" and
		.status.image == \"$IMG\" and .status.block_size == 1024 and
		.status.caching == true and .status.access == \"admin\"" out
'

test_expect_success 'nothing cached: dump says so, JSON has no inodes' '
	c dump >out &&
	test_grep -q "^nothing is cached$" out &&
	c -J dump >out &&
	jq -e ".inodes == [] and .source == \"cache\"" out &&
	c -n dump >out &&
	test_must_be_empty_ out
'

test_expect_success 'dump after looking up part of a fragmented file matches debugfs ex' '
	lookup_blocks $FRAG 5 14 &&
	awk "\$1 + \$3 > 5 && \$1 <= 14" frag.extents >expect &&
	test $(wc -l <expect) -eq 10 &&
	c -rn -o OFFSET,ADDR,LENGTH dump --blocks $FRAG >out &&
	test_cmp expect out
'

test_expect_success 'dump JSON carries the same mappings, header facts and hits' '
	c -J dump $FRAG >out &&
	jq -r ".inodes[0].mappings[] | \"\(.offset / 1024) \(.addr / 1024) \(.length / 1024)\"" out >got &&
	awk "\$1 + \$3 > 5 && \$1 <= 14" frag.extents >expect &&
	test_cmp expect got &&
	jq -e ".inodes[0].ino == $FRAG and .inodes[0].path == \"/frag\" and
		.inodes[0].size == 40960 and .inodes[0].block_size == 1024 and
		.inodes[0].maps == 10 and .inodes[0].misses == 10 and
		.inodes[0].hits == 0 and
		([.inodes[0].mappings[].type] | unique) == [\"MAPPED\"]" out &&
	ctl_cmd lookup $FRAG 5120 &&
	c -J dump $FRAG >out &&
	jq -e ".inodes[0].hits == 1" out
'

test_expect_success 'the human dump: a header line per inode, then hex rows' '
	lookup_blocks $SMALL 0 0 &&
	c dump >out &&
	test_grep -q "^inode $SMALL  path /dir/small  size 3000  block_size 1024  maps 1  hits 0  misses 1$" out &&
	test_grep -q "^inode $FRAG  path /frag  size 40960  block_size 1024  maps 10  hits 1  misses 10$" out &&
	test_grep -q "^ *0x0 *0xc00 MAPPED *0x[0-9a-f]* LAST$" out &&
	test $(grep -c "^OFFSET *LENGTH *TYPE *ADDR *FLAGS" out) -eq 2
'

test_expect_success 'dump --range keeps the mappings that overlap it' '
	c -rn -o OFFSET dump --range 0x2000:0x800 $FRAG >out &&
	printf "0x2000\n0x2400\n" >expect &&
	test_cmp expect out
'

test_expect_success 'map reports from disk, holes included, without filling the cache' '
	c -J stats >before &&
	c -J map $SPARSE >out &&
	jq -e ".command == \"map\" and .source == \"disk\" and
		[.mappings[].type] == [\"MAPPED\",\"HOLE\",\"MAPPED\",\"HOLE\",\"MAPPED\",\"HOLE\"] and
		[.mappings[] | select(.type == \"HOLE\") | .addr] == [null,null,null] and
		.mappings[-1].flags == [\"LAST\"]" out &&
	c -rn -o OFFSET,LENGTH,TYPE map $SPARSE 0x400 8k >out &&
	echo "0x400 0x2400 HOLE" >expect &&
	test_cmp expect out &&
	c -J stats >after &&
	test "$(jq .stats.mappings before)" = "$(jq .stats.mappings after)" &&
	c dump $SPARSE >out &&
	echo "inode $SPARSE  nothing cached" >expect &&
	test_cmp expect out &&
	c -J dump $SPARSE >out &&
	jq -e ".inodes == [{\"ino\": $SPARSE, \"path\": null, \"size\": null,
		\"block_size\": null, \"maps\": 0, \"hits\": null,
		\"misses\": null, \"mappings\": []}]" out
'

test_expect_success 'map of the whole fragmented file matches debugfs ex' '
	c -rn -o OFFSET,ADDR,LENGTH map --blocks $FRAG >out &&
	test_cmp frag.extents out
'

test_expect_success 'flush of a range leaves the rest' '
	c flush $FRAG --range 0x1c00:3k >out &&
	test_grep -q "^flushed 3 mappings of inode $FRAG in 0x1c00:0xc00$" out &&
	awk "\$1 + \$3 > 5 && \$1 <= 14 && (\$1 < 7 || \$1 > 9)" frag.extents >expect &&
	c -rn -o OFFSET,ADDR,LENGTH dump --blocks $FRAG >got &&
	test_cmp expect got &&
	c -J flush $FRAG --range 0x3000: >out &&
	jq -e ".flushed == 3 and .ino == $FRAG" out
'

test_expect_success 'flush of one inode, then of all' '
	c flush $SMALL >out &&
	test_grep -q "^flushed 1 mappings of inode $SMALL$" out &&
	c dump $SMALL >out &&
	test_grep -qx "inode $SMALL  nothing cached" out &&
	c -J flush --all >out &&
	jq -e ".flushed == 4" out &&
	c -J dump >out &&
	jq -e ".inodes == []" out
'

test_expect_success 'stats, of everything and of one inode, and --reset' '
	lookup_blocks $SMALL 0 0 &&
	ctl_cmd lookup $SMALL 0 &&
	c stats >out &&
	test_grep -q "^lookups: *[1-9]" out &&
	test_grep -q "^  flush: *[1-9]" out &&
	c -J stats $SMALL >out &&
	jq -e ".stats.hits >= 1 and .inode.ino == $SMALL and .inode.hits == 1 and
		.inode.misses == 1 and .reset == false" out &&
	c stats --reset >out &&
	test_grep -q "^statistics reset$" out &&
	c -J stats >out &&
	jq -e ".stats.lookups == 0 and .stats.hits == 0 and .stats.mappings == 1" out
'

test_expect_success 'disable empties the cache; lookups still work; enable' '
	c disable >out &&
	test_grep -q "^caching disabled$" out &&
	c -J dump >out &&
	jq -e ".inodes == []" out &&
	ctl_cmd lookup $FRAG 0 &&
	c -J dump >out &&
	jq -e ".inodes == []" out &&
	c -J status >out &&
	jq -e ".status.caching == false" out &&
	c disable >out &&
	test_grep -q "it already was" out &&
	c -J enable >out &&
	jq -e ".enabled == true and .previous == false" out &&
	ctl_cmd lookup $FRAG 0 &&
	c -J dump >out &&
	jq -e "[.inodes[].ino] == [$FRAG]" out
'

test_expect_success 'audit of a cache that agrees with the disk exits 0' '
	lookup_blocks $FRAG 20 25 &&
	c audit >out &&
	test_grep -q "^audit: clean$" out &&
	test_grep -q "^  mismatches: 0$" out &&
	c -J audit >out &&
	jq -e ".clean == true and .differences == [] and .summary.mismatches == 0 and
		.summary.mappings == 7" out &&
	c audit $FRAG >out &&
	test_grep -q "^audit: clean$" out
'

test_expect_success 'limits: show, set, and refuse bad keys' '
	c limits >out &&
	test_grep -q "^cache_max: *[0-9]" out &&
	c limits cache_max=1M cache_inode_max=64k event_ring=128 >out &&
	test_grep -q "^cache_max: *1048576$" out &&
	test_grep -q "^cache_inode_max: *65536$" out &&
	test_grep -q "^event_ring: *128$" out &&
	c -J limits >out &&
	jq -e ".limits == {\"cache_max\": 1048576, \"cache_inode_max\": 65536, \"event_ring\": 128}" out &&
	test_expect_code 2 c limits bogus=1 2>err
'

test_expect_success 'a value the daemon refuses exits 1 with its Varlink error' '
	test_expect_code 1 c -J limits cache_max=0 >out &&
	jq -e ".error.exit_code == 1 and
		.error.varlink_error == \"org.varlink.service.InvalidParameter\"" out
'

test_expect_success 'an inode not in use: NoSuchInode, exit 1' '
	test_expect_code 1 c map 100 2>err &&
	test_grep -q "Map failed: NoSuchInode" err &&
	test_expect_code 1 c -J map 100 >out &&
	jq -e ".error.varlink_error == \"io.iomapfs.Cache.NoSuchInode\"" out
'

# wait_file FILE REGEX: until FILE has a line matching REGEX (10 s).
wait_file() {
	local i
	for i in $(seq 1 200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "$1 never had a line matching '$2'; it holds:"
	cat "$1"
	return 1
}

test_expect_success 'watch --count prints that many events' '
	(c watch --count 2 >watch.out 2>&1; echo "rc=$?" >>watch.out) &
	wait_file watch.out "^TIME" &&
	ctl_cmd lookup $SMALL 0 &&
	c flush $SMALL >/dev/null &&
	wait_file watch.out "^rc=" &&
	test_grep -q "^TIME  *TYPE  *INO  *OFFSET  *LENGTH  *DETAIL$" watch.out &&
	test_grep -q " upsert  *$SMALL  *0x0  *0xc00 MAPPED@0x[0-9a-f]* LAST$" watch.out &&
	test_grep -q " invalidate  *$SMALL .* reason=flush$" watch.out &&
	test_grep -q "^rc=0$" watch.out
'

# (a command list ending in & runs in the background as a whole: the
# watcher is started first, on its own)
test_expect_success 'watch -J prints one document per event' '
	(c -J watch --count 1 >watch.json; echo "rc=$?" >>watch.json) &
	# -J prints nothing before the first event: make events until the
	# watcher, whenever it is ready, has seen one
	for i in $(seq 1 50); do
		ctl_cmd invalidate $SPARSE 0 0 && ctl_cmd lookup $SPARSE 0 ||
			break
		grep -q "^rc=" watch.json 2>/dev/null && break
		sleep 0.1
	done &&
	wait_file watch.json "^rc=" &&
	head -n 1 watch.json | jq -e ".schema_version == 1 and .lost == 0 and
		.event.ino == $SPARSE and (.event.seq | type) == \"number\" and
		((.event.type == \"upsert\" and .event.mapping.type == \"MAPPED\") or
		 (.event.type == \"invalidate\" and .event.reason == \"write\"))" &&
	test_grep -q "^rc=0$" watch.json
'

test_expect_success 'watch --duration ends on time' '
	start=$(date +%s%N) &&
	c -n watch --duration 300ms >out &&
	end=$(date +%s%N) &&
	test $(( (end - start) / 1000000 )) -ge 250 &&
	test $(( (end - start) / 1000000 )) -lt 3000
'

test_expect_success 'completion offers the cached inode numbers' '
	ctl_cmd lookup $SMALL 0 &&
	ctl_cmd lookup $FRAG 0 &&
	c complete -- dump "" >out &&
	test_grep -qx "$SMALL" out &&
	test_grep -qx "$FRAG" out
'

test_expect_success 'a scripted cache audit matches its transcript' '
	c flush --all >/dev/null &&
	c stats --reset >/dev/null &&
	lookup_blocks $SPARSE 0 0 &&
	lookup_blocks $SPARSE 10 10 &&
	cat >audit.iomapctl <<-EOF &&
	# a scripted cache audit
	dump $SPARSE
	audit
	flush $SPARSE --range 0:1k
	dump --blocks $SPARSE
	audit $SPARSE
	disable
	dump
	enable
	EOF
	c -f audit.iomapctl >raw &&
	awk "{ \$1 = \$1 } \$3 == \"MAPPED\" { \$4 = \"A\" } { print }" raw |
		sed "s/^inode $SPARSE /inode N /" >actual &&
	test_cmp "$EXPECT_DIR/audit.expect" actual
'

test_expect_success TMUX 'the shell completes a cached inode number; Ctrl-C stops watch' '
	c flush --all >/dev/null &&
	ctl_cmd lookup $SMALL 0 &&
	start_shell -s "$CTL_SOCK" &&
	prompt_line >line &&
	test_grep -q "^iomapctl $TRASH/mnt> $" line &&
	tm send-keys "dump " Tab &&
	wait_prompt "dump $SMALL " &&
	tm send-keys Enter &&
	wait_pane "^inode $SMALL  path /dir/small" &&
	tm send-keys "watch" Enter &&
	wait_pane "^TIME  *TYPE" &&
	ctl_cmd lookup $FRAG 0 &&
	wait_pane " upsert  *$FRAG " &&
	tm send-keys C-c &&
	tm send-keys "help list" Enter &&
	wait_pane "^usage: iomapctl list" &&
	tm send-keys C-d &&
	wait_dead &&
	test_eq 0 "$SHELL_STATUS" "exit status of the shell"
'

test_expect_success 'the server stops cleanly' '
	ctl_server_stop
'

test_expect_success 'a script goes on after the server dropped its idle connection' '
	IOMAPFS_CTL_IDLE_MS=200 ctl_server_start "$IMG" "$TRASH/mnt" -s "$TRASH/ctl2.sock" &&
	{ echo version && echo status && sleep 1.5 && echo status; } |
		c -n -f - >out 2>err &&
	test $(grep -c "^mountpoint:" out) -eq 2 &&
	test_must_be_empty_ err &&
	ctl_server_stop
'

test_done
