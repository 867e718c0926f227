#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t4100-ctl-methods.sh - every method of io.iomapfs.Cache and
# org.varlink.service, called with raw Varlink (t/helper/vlraw.py) on the
# control server run by t/helper/ctl-server over a real image, with the
# answers checked against debugfs and blkid.
test_description='control socket: every method'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ctl.sh"

test_have_prereq PYTHON3,CTL_SERVER,E2FSPROGS,JQ ||
	skip_all "needs python3, jq, e2fsprogs and t/helper/ctl-server"

S=$TRASH/ctl.sock
IDL=$SRC_DIR/daemon/io.iomapfs.Cache.varlink

test_expect_success 'set up an image and the server' '
	make_ctl_image img &&
	ctl_server_start img /mnt/t4100 -s "$S" &&
	test -S "$S"
'

ino_of() {
	debugfs -R "stat $1" img 2>/dev/null | sed -n "s/^Inode: \([0-9]*\).*/\1/p"
}

test_expect_success 'GetInfo names both interfaces' '
	vl_call "$S" org.varlink.service.GetInfo >out &&
	expect_ok out &&
	test_eq "iomapfs" "$(jq -r .parameters.product out)" &&
	jq -e ".parameters.interfaces | index(\"io.iomapfs.Cache\")" out &&
	jq -e ".parameters.interfaces | index(\"org.varlink.service\")" out
'

test_expect_success 'GetInterfaceDescription returns the installed file' '
	vl_call "$S" org.varlink.service.GetInterfaceDescription \
		"{\"interface\":\"io.iomapfs.Cache\"}" >out &&
	jq -j .parameters.description out >desc &&
	test_cmp "$IDL" desc &&
	vl_call "$S" org.varlink.service.GetInterfaceDescription \
		"{\"interface\":\"org.varlink.service\"}" >out &&
	jq -r .parameters.description out | grep "^interface org.varlink.service$" &&
	vl_call "$S" org.varlink.service.GetInterfaceDescription \
		"{\"interface\":\"com.example.Nope\"}" >out &&
	expect_error org.varlink.service.InterfaceNotFound out &&
	test_eq com.example.Nope "$(jq -r .parameters.interface out)"
'

test_expect_success 'every method of the description is served' '
	sed -n "s/^method \([A-Za-z]*\).*/\1/p" "$IDL" >methods &&
	test "$(wc -l <methods)" -ge 11 &&
	while read -r m; do
		vl_call "$S" "$m" >out &&
		! grep -q MethodNotFound out || { echo "$m is not served"; return 1; }
	done <methods
'

test_expect_success 'GetStatus describes the mount' '
	vl_call "$S" GetStatus >out &&
	expect_ok out &&
	test_eq "$(realpath img)" "$(jq -r .parameters.image out)" &&
	test_eq /mnt/t4100 "$(jq -r .parameters.mountpoint out)" &&
	test_eq "$S" "$(jq -r .parameters.socket out)" &&
	test_eq ext4 "$(jq -r .parameters.fstype out)" &&
	test_eq "$(blkid -o value -s UUID img)" "$(jq -r .parameters.uuid out)" &&
	test_eq 4096 "$(jq -r .parameters.block_size out)" &&
	test_eq true "$(jq -r .parameters.caching out)" &&
	test_eq "$CTL_PID" "$(jq -r .parameters.pid out)" &&
	test_eq admin "$(jq -r .parameters.access out)" &&
	test_eq "$(dpkg-query -W -f="\${Version}" libext2fs2 2>/dev/null | sed "s/-.*//")" \
		"$(jq -r .parameters.ext2fs_version out)" &&
	jq -e ".parameters.uptime_ns >= 0 and (.parameters.start_time | test(\"^[0-9-]+T[0-9:.]+Z$\"))" out &&
	jq -e ".parameters.limits.cache_max > 0" out
'

test_expect_success 'Map reports what debugfs shows, and fills no cache' '
	ino=$(ino_of /sub/big) &&
	phys=$(debugfs -R "bmap /sub/big 0" img 2>/dev/null) &&
	vl_call "$S" Map "{\"ino\":$ino}" >out &&
	expect_ok out &&
	jq -c ".parameters.mappings" out >maps &&
	echo "[{\"addr\":$((phys * 4096)),\"flags\":[\"LAST\"],\"length\":262144,\"offset\":0,\"type\":\"MAPPED\"}]" >want &&
	test_cmp want maps &&
	test_eq 262144 "$(jq .parameters.size out)" &&
	vl_call "$S" GetStats >out &&
	test_eq 0 "$(jq .parameters.stats.inodes out)" &&
	test_eq 0 "$(jq .parameters.stats.lookups out)"
'

test_expect_success 'Map of a range, of a hole, and streamed with more' '
	ino=$(ino_of /sparse) &&
	vl_call "$S" Map "{\"ino\":$ino,\"offset\":4096,\"length\":4096}" >out &&
	test_eq "[{\"addr\":null,\"flags\":[],\"length\":4096,\"offset\":4096,\"type\":\"HOLE\"}]" \
		"$(jq -c .parameters.mappings out)" &&
	vl_call "$S" Map "{\"ino\":$ino}" --more >out &&
	test "$(wc -l <out)" -ge 3 &&
	jq -s -e "(.[0:-1] | all(.continues == true)) and (.[-1].continues == null)" out &&
	jq -s "[.[].parameters.mappings[]] | length" out >n &&
	jq -s -e "[.[].parameters.mappings[]] as \$m |
		all(range(1; \$m | length); \$m[.].offset == \$m[. - 1].offset + \$m[. - 1].length)" out &&
	test "$(cat n)" -ge 1399 &&
	jq -s -e "[.[].parameters.mappings[] | select(.type == \"MAPPED\")] | length == 700" out &&
	phys=$(debugfs -R "bmap /sparse 2" img 2>/dev/null) &&
	jq -s -e "[.[].parameters.mappings[] | select(.offset == 8192)][0].addr == $((phys * 4096))" out
'

test_expect_success 'Map without more of a big result asks for more' '
	ino=$(ino_of /sparse) &&
	vl_call "$S" Map "{\"ino\":$ino,\"offset\":0,\"length\":4096}" >out &&
	expect_ok out &&
	vl_call "$S" Map "{\"ino\":$ino}" >out &&
	test "$(jq -s length out)" = 1 &&
	jq -e "(.parameters.mappings | length) >= 1399 and .continues == null" out
'

test_expect_success 'Map errors: free inode, inode past the table, bad range' '
	vl_call "$S" Map "{\"ino\":200}" >out &&
	expect_error io.iomapfs.Cache.NoSuchInode out &&
	test_eq 200 "$(jq .parameters.ino out)" &&
	vl_call "$S" Map "{\"ino\":4000000000}" >out &&
	expect_error io.iomapfs.Cache.NoSuchInode out &&
	vl_call "$S" Map "{\"ino\":0}" >out &&
	expect_error org.varlink.service.InvalidParameter out &&
	test_eq ino "$(jq -r .parameters.parameter out)" &&
	vl_call "$S" Map "{\"ino\":12,\"length\":0}" >out &&
	expect_error org.varlink.service.InvalidParameter out &&
	test_eq length "$(jq -r .parameters.parameter out)" &&
	vl_call "$S" Map "{}" >out &&
	expect_error org.varlink.service.InvalidParameter out &&
	test_eq ino "$(jq -r .parameters.parameter out)"
'

test_expect_success 'Dump of an empty cache is one reply without inode' '
	vl_call "$S" Dump --more >out &&
	test_eq 1 "$(wc -l <out)" &&
	expect_ok out &&
	test_eq null "$(jq .parameters.ino out)" &&
	test_eq 0 "$(jq ".parameters.mappings | length" out)"
'

test_expect_success 'Dump shows what lookups cached, with paths' '
	big=$(ino_of /sub/big) && f=$(ino_of /f) && sp=$(ino_of /sparse) &&
	ctl_cmd lookup "$f" 0 &&
	ctl_cmd lookup "$big" 0 &&
	ctl_cmd lookup "$big" 8192 &&
	ctl_cmd lookup "$sp" 0 &&
	ctl_cmd lookup "$sp" 4096 &&
	vl_call "$S" Dump --more >out &&
	test_eq 3 "$(wc -l <out)" &&
	jq -r "[.parameters.ino, .parameters.path, .parameters.size] | @tsv" out >got &&
	printf "%s\t%s\t%s\n" "$f" /f "$(stat -c %s imgsrc/f)" \
		"$big" /sub/big 262144 "$sp" /sparse "$(stat -c %s imgsrc/sparse)" |
		sort -n >want &&
	test_cmp want got &&
	jq -s -e "(.[0:-1] | all(.continues == true)) and (.[-1].continues == null)" out &&
	jq -e "select(.parameters.ino == $big) | .parameters.stats.hits == 1 and .parameters.stats.misses == 1" out &&
	jq -c "select(.parameters.ino == $sp) | .parameters.mappings | map(.type)" out >types &&
	test_eq "[\"MAPPED\",\"HOLE\"]" "$(cat types)"
'

test_expect_success 'Dump of one inode, of a range, and errors' '
	sp=$(ino_of /sparse) &&
	vl_call "$S" Dump "{\"ino\":$sp}" >out &&
	test_eq 1 "$(wc -l <out)" &&
	test_eq 2 "$(jq ".parameters.mappings | length" out)" &&
	vl_call "$S" Dump "{\"ino\":$sp,\"offset\":4096,\"length\":100}" >out &&
	test_eq "[4096]" "$(jq -c "[.parameters.mappings[].offset]" out)" &&
	vl_call "$S" Dump "{\"ino\":300}" >out &&
	expect_error io.iomapfs.Cache.NotCached out &&
	test_eq 300 "$(jq .parameters.ino out)" &&
	vl_call "$S" Dump >out &&
	expect_error org.varlink.service.ExpectedMore out &&
	vl_call "$S" Dump "{\"offset\":0}" --more >out &&
	expect_error org.varlink.service.InvalidParameter out &&
	test_eq offset "$(jq -r .parameters.parameter out)"
'

test_expect_success 'GetStats: global, per inode, by reason; ResetStats' '
	big=$(ino_of /sub/big) &&
	vl_call "$S" GetStats "{\"ino\":$big}" >out &&
	expect_ok out &&
	test_eq 3 "$(jq .parameters.stats.inodes out)" &&
	jq -e ".parameters.stats.lookups == 5 and .parameters.stats.hits == 1" out &&
	jq -e ".parameters.stats.hit_ratio == 0.2" out &&
	jq -e ".parameters.stats.invalidations_by_reason | has(\"truncate\") and has(\"flush\")" out &&
	test_eq 2 "$(jq .parameters.inode.lookups out)" &&
	vl_call "$S" GetStats "{\"ino\":999}" >out &&
	expect_error io.iomapfs.Cache.NotCached out &&
	vl_call "$S" ResetStats >out &&
	expect_ok out &&
	vl_call "$S" GetStats >out &&
	test_eq 0 "$(jq .parameters.stats.lookups out)" &&
	test_eq 3 "$(jq .parameters.stats.inodes out)"
'

test_expect_success 'Audit of a clean cache: a summary and no difference' '
	vl_call "$S" Audit --more >out &&
	test_eq 1 "$(wc -l <out)" &&
	jq -e ".parameters.summary | .inodes == 3 and .mismatches == 0 and .mappings == 4" out &&
	big=$(ino_of /sub/big) &&
	vl_call "$S" Audit "{\"ino\":$big}" --more >out &&
	jq -e ".parameters.summary.inodes == 1" out &&
	vl_call "$S" Audit "{\"ino\":777}" --more >out &&
	expect_error io.iomapfs.Cache.NotCached out &&
	vl_call "$S" Audit >out &&
	expect_error org.varlink.service.ExpectedMore out
'

test_expect_success 'Flush of a range leaves the rest; of an inode; of all' '
	sp=$(ino_of /sparse) && big=$(ino_of /sub/big) &&
	vl_call "$S" Flush "{\"ino\":$sp,\"offset\":4096,\"length\":4096}" >out &&
	test_eq 1 "$(jq .parameters.flushed out)" &&
	vl_call "$S" Dump "{\"ino\":$sp}" >out &&
	test_eq "[0]" "$(jq -c "[.parameters.mappings[].offset]" out)" &&
	vl_call "$S" Flush "{\"ino\":$big}" >out &&
	test_eq 1 "$(jq .parameters.flushed out)" &&
	vl_call "$S" Flush "{\"ino\":$big}" >out &&
	expect_error io.iomapfs.Cache.NotCached out &&
	vl_call "$S" Flush "{\"offset\":5}" >out &&
	expect_error org.varlink.service.InvalidParameter out &&
	vl_call "$S" Flush >out &&
	test_eq 2 "$(jq .parameters.flushed out)" &&
	vl_call "$S" GetStats >out &&
	test_eq 0 "$(jq .parameters.stats.mappings out)" &&
	jq -e ".parameters.stats.invalidations_by_reason.flush >= 1" out
'

test_expect_success 'SetCaching off empties the cache and lookups still work' '
	f=$(ino_of /f) &&
	ctl_cmd lookup "$f" 0 &&
	vl_call "$S" SetCaching "{\"enabled\":false}" >out &&
	test_eq "false true" "$(jq -r "[.parameters.enabled, .parameters.previous] | join(\" \")" out)" &&
	vl_call "$S" GetStats >out &&
	test_eq 0 "$(jq .parameters.stats.inodes out)" &&
	ctl_cmd lookup "$f" 0 &&
	vl_call "$S" GetStats >out &&
	test_eq 0 "$(jq .parameters.stats.inodes out)" &&
	test_eq false "$(jq .parameters.stats.enabled out)" &&
	vl_call "$S" GetStatus >out &&
	test_eq false "$(jq .parameters.caching out)" &&
	vl_call "$S" SetCaching "{\"enabled\":true}" >out &&
	test_eq "true false" "$(jq -r "[.parameters.enabled, .parameters.previous] | join(\" \")" out)" &&
	vl_call "$S" SetCaching "{}" >out &&
	expect_error org.varlink.service.InvalidParameter out &&
	test_eq enabled "$(jq -r .parameters.parameter out)"
'

test_expect_success 'GetLimits and SetLimits, with out-of-range values refused' '
	vl_call "$S" GetLimits >out &&
	jq -e ".parameters.limits | .cache_max > 0 and .cache_inode_max > 0 and .event_ring > 0" out &&
	vl_call "$S" SetLimits "{\"cache_max\":8388608,\"event_ring\":64}" >out &&
	expect_ok out &&
	test_eq 8388608 "$(jq .parameters.limits.cache_max out)" &&
	test_eq 64 "$(jq .parameters.limits.event_ring out)" &&
	vl_call "$S" GetLimits >out &&
	test_eq 8388608 "$(jq .parameters.limits.cache_max out)" &&
	vl_call "$S" SetLimits "{\"event_ring\":1}" >out &&
	expect_error org.varlink.service.InvalidParameter out &&
	test_eq event_ring "$(jq -r .parameters.parameter out)" &&
	vl_call "$S" SetLimits "{\"cache_max\":-1}" >out &&
	expect_error org.varlink.service.InvalidParameter out &&
	vl_call "$S" SetLimits "{\"cache_size\":4096}" >out &&
	expect_error org.varlink.service.InvalidParameter out &&
	test_eq cache_size "$(jq -r .parameters.parameter out)" &&
	vl_call "$S" GetLimits >out &&
	test_eq 64 "$(jq .parameters.limits.event_ring out)"
'

test_expect_success 'Watch streams events with reasons and times, then ends at count' '
	f=$(ino_of /f) &&
	{ vl_call "$S" Watch "{\"count\":3}" --more >watch & } &&
	wpid=$! &&
	for i in $(seq 1 50); do
		[ -s watch ] && break
		sleep 0.05
	done &&
	ctl_cmd lookup "$f" 0 &&
	ctl_cmd invalidate "$f" 0 0 &&
	ctl_cmd lookup "$f" 0 &&
	wait $wpid &&
	test_eq 4 "$(wc -l <watch)" &&
	jq -s -e ".[0].parameters.event == null and .[0].parameters.lost == 0" watch &&
	jq -r ".parameters.event | select(.) | [.type, .reason // \"-\", .ino] | @tsv" watch >got &&
	printf "upsert\t-\t%s\ninvalidate\twrite\t%s\nupsert\t-\t%s\n" "$f" "$f" "$f" >want &&
	test_cmp want got &&
	jq -s -e ".[1].parameters.event | (.time | test(\"Z$\")) and .time_ns > 0 and .seq > 0 and .mapping.type == \"MAPPED\"" watch &&
	jq -s -e ".[2].parameters.event.length == null" watch &&
	jq -s -e ".[-1].continues == null and (.[0:-1] | all(.continues))" watch
'

test_expect_success 'Watch without more is refused' '
	vl_call "$S" Watch >out &&
	expect_error org.varlink.service.ExpectedMore out
'

test_expect_success 'a watcher that falls behind is told how many events it lost' '
	f=$(ino_of /f) &&
	vl_call "$S" SetLimits "{\"event_ring\":16}" >/dev/null &&
	{ vl "$S" watchslow 4 >slow & } &&
	spid=$! &&
	for i in $(seq 1 100); do
		grep -q ready slow 2>/dev/null && break
		sleep 0.05
	done &&
	for i in $(seq 1 1500); do
		echo "lookup $f 0" &&
		echo "invalidate $f 0 0" || return 1
	done >&8 &&
	ctl_cmd lookup "$f" 0 &&
	wait $spid &&
	cat slow &&
	read -r _ ev _ lost <<<"$(tail -n 1 slow)" &&
	test "$lost" -gt 0 &&
	test "$((ev + lost))" -ge 3000 &&
	vl_call "$S" GetStatus >out && expect_ok out
'

test_expect_success 'the server stops cleanly and removes its socket' '
	ctl_server_stop &&
	! test -e "$S"
'

test_expect_success 'Map of an inode without mappings: NotMappable' '
	ctl_server_start img /mnt/t4100 -s "$S" &&
	vl_call "$S" Map "{\"ino\":$(ino_of /link)}" >out &&
	expect_error io.iomapfs.Cache.NotMappable out &&
	ctl_server_stop
'

test_expect_success 'Audit streams each difference with the disk, then the summary' '
	cp img img-w &&
	ctl_server_start img-w /mnt/t4100w -w -s "$S" &&
	big=$(ino_of /sub/big) && f=$(ino_of /f) &&
	ctl_cmd lookup "$big" 0 &&
	ctl_cmd lookup "$f" 0 &&
	ctl_cmd punch "$big" 8192 8192 &&
	vl_call "$S" Audit --more >out &&
	cat out &&
	test_eq 2 "$(wc -l <out)" &&
	head -n 1 out | jq -e ".continues and (.parameters.difference |
		.ino == $big and .cached.type == \"MAPPED\" and .cached.offset == 8192 and
		.cached.length == 8192 and .disk.type == \"HOLE\" and .disk.addr == null)" &&
	tail -n 1 out | jq -e ".continues == null and (.parameters.summary |
		.inodes == 2 and .mismatches == 1 and .errors == 0)" &&
	vl_call "$S" Flush "{\"ino\":$big}" >/dev/null &&
	vl_call "$S" Audit --more >out &&
	jq -e ".parameters.summary.mismatches == 0" out &&
	ctl_server_stop
'

test_done
