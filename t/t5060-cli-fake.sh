#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t5060-cli-fake.sh - iomapctl's handling of replies a healthy daemon does
# not give on demand, from a scripted Varlink peer: audit differences (exit
# 4), lost watch events, typed Varlink errors (exit 1), unknown methods and
# malformed replies (exit 3), and the exact calls iomapctl sends.
test_description='iomapctl against a scripted Varlink peer'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-cli.sh"

test_have_prereq IOMAPCTL || skip_all "iomapctl is not built"
test_have_prereq JQ || skip_all "jq is not installed"
command -v python3 >/dev/null || skip_all "python3 is not installed"

FAKE=$SRC_DIR/t/t5060/fake-varlink.py
SOCK=$TRASH/fake.sock

# fake SCRIPT-JSON: (re)start the peer with these replies.
fake() {
	if [ -n "${FAKE_PID:-}" ]; then
		kill "$FAKE_PID" 2>/dev/null
		wait "$FAKE_PID" 2>/dev/null
	fi
	printf "%s\n" "$1" >"$TRASH/script.json" || return 1
	rm -f "$SOCK.calls" "$TRASH/fake.out"
	python3 "$FAKE" "$SOCK" "$TRASH/script.json" >"$TRASH/fake.out" 2>&1 &
	FAKE_PID=$!
	for i in $(seq 1 100); do
		grep -q ready "$TRASH/fake.out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "the fake peer did not start:"
	cat "$TRASH/fake.out"
	return 1
}
test_atexit 'kill $FAKE_PID 2>/dev/null'

c() {
	"$IOMAPCTL" -s "$SOCK" "$@"
}

M1='{"offset": 0, "length": 4096, "addr": 1048576, "type": "MAPPED", "flags": []}'
M2='{"offset": 0, "length": 4096, "addr": 2097152, "type": "MAPPED", "flags": ["LAST"]}'
H1='{"offset": 4096, "length": 8192, "addr": null, "type": "HOLE", "flags": []}'
U1='{"offset": 4096, "length": 8192, "addr": 3145728, "type": "UNWRITTEN", "flags": []}'

test_expect_success 'audit with differences prints them and exits 4' '
	fake "{\"Audit\": [
		{\"parameters\": {\"difference\": {\"ino\": 12, \"cached\": $M1, \"disk\": $M2}}, \"continues\": true},
		{\"parameters\": {\"difference\": {\"ino\": 12, \"cached\": $H1, \"disk\": $U1}}, \"continues\": true},
		{\"parameters\": {\"summary\": {\"inodes\": 1, \"mappings\": 2, \"mismatches\": 2, \"skipped\": 0, \"errors\": 0}}}]}" &&
	test_expect_code 4 c audit >out &&
	test_grep -q "^ *12 *0x0 *0x1000 MAPPED@0x100000 *MAPPED@0x200000 LAST$" out &&
	test_grep -q "^ *12 *0x1000 *0x2000 HOLE *UNWRITTEN@0x300000$" out &&
	test_grep -q "^audit: MISMATCH$" out &&
	test_grep -q "^  mismatches: 2$" out &&
	jq -e ".method == \"io.iomapfs.Cache.Audit\" and .more == true" "$SOCK.calls"
'

test_expect_success 'audit -J: differences as the daemon gave them, exit 4' '
	test_expect_code 4 c -J audit >out &&
	jq -e ".clean == false and (.differences | length) == 2 and
		.differences[0].disk.addr == 2097152 and
		.differences[1].cached.addr == null and
		.summary.mismatches == 2" out
'

test_expect_success 'audit of named inodes sends one call per inode' '
	rm -f "$SOCK.calls" &&
	test_expect_code 4 c audit 12 13 >/dev/null &&
	jq -s -e "map(.parameters.ino) == [12, 13]" "$SOCK.calls"
'

test_expect_success 'audit errors reading the disk exit 1' '
	fake "{\"Audit\": [{\"parameters\": {\"summary\": {\"inodes\": 3, \"mappings\": 9, \"mismatches\": 0, \"skipped\": 0, \"errors\": 1}}}]}" &&
	test_expect_code 1 c audit >out 2>err &&
	test_grep -q "1 inodes could not be read" err
'

test_expect_success 'watch: a LOST row tells how many events were dropped' '
	fake "{\"Watch\": [
		{\"parameters\": {\"lost\": 0}, \"continues\": true},
		{\"parameters\": {\"lost\": 7, \"event\": {\"seq\": 9, \"time_ns\": 1, \"time\": \"2026-01-01T00:00:00.000000001Z\", \"type\": \"invalidate\", \"reason\": \"punch\", \"ino\": 12, \"offset\": 4096, \"length\": 8192, \"mapping\": null}}, \"continues\": true},
		{\"parameters\": {\"lost\": 0, \"event\": {\"seq\": 10, \"time_ns\": 2, \"time\": \"2026-01-01T00:00:00.000000002Z\", \"type\": \"upsert\", \"reason\": null, \"ino\": 12, \"offset\": 0, \"length\": 4096, \"mapping\": $M1}}}]}" &&
	c watch >out &&
	test_grep -q "^-  *LOST  *7 events lost" out &&
	test_grep -q "^2026-01-01T00:00:00.000000001Z invalidate  *12  *0x1000  *0x2000 reason=punch$" out &&
	test_grep -q " upsert  *12  *0x0  *0x1000 MAPPED@0x100000$" out &&
	c -J watch >out &&
	jq -s -e "map(.lost) == [7, 0] and .[0].event.reason == \"punch\"" out &&
	c watch --count 1 >out &&
	test $(grep -c invalidate out) -eq 1 &&
	! grep -q upsert out
'

test_expect_success 'a typed Varlink error exits 1 naming the error and its parameters' '
	fake "{\"Map\": [{\"error\": \"io.iomapfs.Cache.IOError\", \"parameters\": {\"errno\": 5, \"message\": \"short read\"}}],
		\"SetCaching\": [{\"error\": \"org.varlink.service.PermissionDenied\", \"parameters\": {}}]}" &&
	test_expect_code 1 c map 12 2>err &&
	test_grep -q "map: Map failed: IOError (errno=5, message=\"short read\")" err &&
	test_expect_code 1 c -J disable >out &&
	jq -e ".error.varlink_error == \"org.varlink.service.PermissionDenied\" and .error.exit_code == 1" out
'

test_expect_success 'a method the peer does not know exits 3' '
	test_expect_code 3 c stats 2>err &&
	test_grep -q "GetStats failed: MethodNotFound" err
'

test_expect_success 'malformed replies are protocol errors, exit 3' '
	fake "{\"GetStatus\": [\"this is not json\"],
		\"Dump\": [{\"parameters\": {\"ino\": 12, \"block_size\": 4096, \"mappings\": [{\"offset\": 0}]}}],
		\"GetLimits\": [{\"parameters\": {\"limits\": {}}, \"continues\": true}]}" &&
	test_expect_code 3 c status 2>err &&
	test_grep -q "reading the reply" err &&
	test_expect_code 3 c dump 12 2>err &&
	test_grep -q "bad mapping in reply" err &&
	test_expect_code 3 c limits 2>err
'

test_expect_success 'the calls carry the parameters the interface names' '
	fake "{\"Flush\": [{\"parameters\": {\"flushed\": 0}}],
		\"SetLimits\": [{\"parameters\": {\"limits\": {\"cache_max\": 1, \"cache_inode_max\": 2, \"event_ring\": 3}}}],
		\"Map\": [{\"parameters\": {\"ino\": 12, \"size\": 0, \"block_size\": 4096, \"mappings\": []}}],
		\"Dump\": [{\"parameters\": {\"ino\": null, \"block_size\": 4096, \"mappings\": []}}]}" &&
	c flush 12 --range 0x1000:8k >/dev/null &&
	c flush --all >/dev/null &&
	c limits cache_max=1M event_ring=64 >/dev/null &&
	c map 12 4k 1M >/dev/null &&
	c dump --range 4k: >/dev/null &&
	jq -s -c "map([.method, .parameters])" "$SOCK.calls" >got &&
	cat >expect <<-\EOF &&
	[["io.iomapfs.Cache.Flush",{"ino":12,"length":8192,"offset":4096}],["io.iomapfs.Cache.Flush",{}],["io.iomapfs.Cache.SetLimits",{"cache_max":1048576,"event_ring":64}],["io.iomapfs.Cache.Map",{"ino":12,"length":1048576,"offset":4096}],["io.iomapfs.Cache.Dump",{"offset":4096}]]
	EOF
	test_cmp expect got
'

test_done
