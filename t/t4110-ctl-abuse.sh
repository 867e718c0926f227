#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t4110-ctl-abuse.sh - the control socket against bad and hostile clients,
# in raw bytes: unknown methods, interfaces and parameters, wrong types,
# oversized, unterminated, invalid UTF-8 and too deep messages, pipelined
# and oneway calls, 100 concurrent clients, hundreds of silent ones, a
# client that never reads its replies, and the idle timeout.  Through all of
# it the server must keep answering the others at once.
test_description='control socket: bad and hostile clients'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ctl.sh"

test_have_prereq PYTHON3,CTL_SERVER,E2FSPROGS,JQ ||
	skip_all "needs python3, jq, e2fsprogs and t/helper/ctl-server"

S=$TRASH/ctl.sock
M=io.iomapfs.Cache

test_expect_success 'set up an image and the server (idle timeout 1.5 s)' '
	make_ctl_image img &&
	IOMAPFS_CTL_IDLE_MS=1500 ctl_server_start img /mnt/t4110 -s "$S"
'

# still_serves: a fresh client gets GetStatus answered within 2 s.
still_serves() {
	local t0 t1
	t0=$(date +%s%N)
	vl -t 2 "$S" call $M.GetStatus >serves.out || { cat serves.out; return 1; }
	t1=$(date +%s%N)
	expect_ok serves.out || return 1
	if [ $(((t1 - t0) / 1000000)) -gt 2000 ]; then
		echo "GetStatus took $(((t1 - t0) / 1000000)) ms"
		return 1
	fi
}

test_expect_success 'an unknown method of our interface: MethodNotFound' '
	vl_call "$S" $M.Explode >out &&
	expect_error org.varlink.service.MethodNotFound out &&
	test_eq $M.Explode "$(jq -r .parameters.method out)" &&
	vl_call "$S" org.varlink.service.Nope >out &&
	expect_error org.varlink.service.MethodNotFound out
'

test_expect_success 'an unknown interface: InterfaceNotFound' '
	vl_call "$S" com.example.Thing.Do >out &&
	expect_error org.varlink.service.InterfaceNotFound out &&
	test_eq com.example.Thing "$(jq -r .parameters.interface out)"
'

test_expect_success 'unknown parameters, wrong types and ranges: InvalidParameter naming it' '
	for case in \
		"GetStatus {\"verbose\":true} verbose" \
		"GetStats {\"ino\":\"12\"} ino" \
		"GetStats {\"ino\":12.5} ino" \
		"GetStats {\"ino\":-1} ino" \
		"Flush {\"ino\":12,\"offset\":-4096} offset" \
		"Flush {\"ino\":12,\"length\":[1]} length" \
		"SetCaching {\"enabled\":1} enabled" \
		"SetCaching {\"enabled\":\"yes\"} enabled" \
		"Watch {\"count\":0} count" \
		"Map {\"ino\":12,\"offset\":{}} offset" \
		"Dump {\"ino\":true} ino"; do
		set -- $case &&
		vl_call "$S" "$1" "$2" --more >out &&
		expect_error org.varlink.service.InvalidParameter out &&
		test_eq "$3" "$(jq -r .parameters.parameter out)" "parameter named for $1 $2" ||
		return 1
	done
'

test_expect_success 'parameters that are not an object, a method that is not a string: ProtocolError' '
	printf "{\"method\":\"$M.GetStatus\",\"parameters\":[1]}\0" | vl "$S" raw >out &&
	test_eq $M.ProtocolError "$(head -n 1 out | jq -r .error)" &&
	printf "{\"method\":42}\0" | vl "$S" raw >out &&
	test_eq $M.ProtocolError "$(head -n 1 out | jq -r .error)" &&
	printf "{\"parameters\":{}}\0" | vl "$S" raw >out &&
	test_eq $M.ProtocolError "$(head -n 1 out | jq -r .error)" &&
	printf "[\"$M.GetStatus\"]\0" | vl "$S" raw >out &&
	test_eq $M.ProtocolError "$(head -n 1 out | jq -r .error)" &&
	printf "{\"method\":\"$M.GetStatus\",\"upgrade\":true}\0" | vl "$S" raw >out &&
	test_eq $M.ProtocolError "$(head -n 1 out | jq -r .error)"
'

test_expect_success 'an oversized message: ProtocolError, then the connection closes' '
	python3 -c "
import sys
body = \"{\\\"method\\\":\\\"$M.GetStatus\\\",\\\"parameters\\\":{\\\"x\\\":\\\"\" + \"a\" * 70000 + \"\\\"}}\"
sys.stdout.buffer.write(body.encode() + b\"\\0\")" | vl "$S" raw >out.all &&
	grep -v SENDERROR out.all >out &&
	test_eq 2 "$(wc -l <out)" &&
	test_eq $M.ProtocolError "$(head -n 1 out | jq -r .error)" &&
	head -n 1 out | jq -r .parameters.reason | grep "longer than 65536" &&
	test_eq EOF "$(tail -n 1 out)" &&
	still_serves
'

test_expect_success 'an oversized message that never ends is cut off at the cap' '
	head -c 200000 /dev/zero | tr "\0" "[" | vl "$S" raw --no-shutdown >out.all &&
	grep -v SENDERROR out.all >out &&
	test_eq $M.ProtocolError "$(head -n 1 out | jq -r .error)" &&
	test_eq EOF "$(tail -n 1 out)"
'

test_expect_success 'an unterminated message: ProtocolError saying so' '
	printf "{\"method\":\"$M.GetStatus\"}" | vl "$S" raw >out &&
	test_eq $M.ProtocolError "$(head -n 1 out | jq -r .error)" &&
	head -n 1 out | jq -r .parameters.reason | grep NUL &&
	test_eq EOF "$(tail -n 1 out)"
'

test_expect_success 'invalid UTF-8: ProtocolError, and the connection goes on' '
	printf "{\"method\":\"$M.GetStatus\",\"parameters\":{\"x\":\"\\377\\376\"}}\0{\"method\":\"$M.GetLimits\"}\0" |
		vl "$S" raw >out &&
	test_eq 3 "$(wc -l <out)" &&
	test_eq $M.ProtocolError "$(sed -n 1p out | jq -r .error)" &&
	sed -n 1p out | jq -r .parameters.reason | grep UTF-8 &&
	sed -n 2p out | jq -e .parameters.limits.cache_max &&
	printf "{\"method\":\"$M.GetStatus\",\"x\":\"\\355\\240\\200\"}\0" | vl "$S" raw >out &&
	test_eq $M.ProtocolError "$(head -n 1 out | jq -r .error)"
'

test_expect_success 'deep nesting and bad JSON: ProtocolError' '
	python3 -c "
import sys
sys.stdout.buffer.write(b\"{\\\"method\\\":\\\"$M.GetStatus\\\",\\\"parameters\\\":{\\\"x\\\":\" + b\"[\" * 5000 + b\"]\" * 5000 + b\"}}\\0\")" |
		vl "$S" raw >out &&
	test_eq $M.ProtocolError "$(head -n 1 out | jq -r .error)" &&
	head -n 1 out | jq -r .parameters.reason | grep nested &&
	printf "{\"method\":\"$M.GetStatus\",}\0" | vl "$S" raw >out &&
	test_eq $M.ProtocolError "$(head -n 1 out | jq -r .error)" &&
	printf "{\"method\":\"$M.GetStatus\",\"method\":\"$M.Flush\"}\0" | vl "$S" raw >out &&
	test_eq $M.ProtocolError "$(head -n 1 out | jq -r .error)" &&
	printf "{\"method\":\"$M.GetStatus\",\"parameters\":{\"x\":\"\\\\u0000\"}}\0" | vl "$S" raw >out &&
	test_eq $M.ProtocolError "$(head -n 1 out | jq -r .error)" &&
	still_serves
'

test_expect_success 'pipelined calls are answered in order; oneway calls are not answered' '
	printf "{\"method\":\"$M.GetLimits\"}\0{\"method\":\"$M.SetCaching\",\"parameters\":{\"enabled\":false},\"oneway\":true}\0{\"method\":\"org.varlink.service.GetInfo\"}\0{\"method\":\"$M.GetStatus\"}\0" |
		vl "$S" raw >out &&
	test_eq 4 "$(wc -l <out)" &&
	sed -n 1p out | jq -e .parameters.limits &&
	sed -n 2p out | jq -e .parameters.interfaces &&
	test_eq false "$(sed -n 3p out | jq .parameters.caching)" &&
	vl_call "$S" SetCaching "{\"enabled\":true}" >out && expect_ok out
'

test_expect_success '100 concurrent clients are all answered' '
	test_eq 100 "$(vl -t 20 "$S" flood 100 $M.GetStatus)"
'

test_expect_success 'hundreds of silent connections do not stop the others' '
	{ vl "$S" many 300 3 >many.out & } &&
	mpid=$! &&
	for i in $(seq 1 100); do
		grep -q connected many.out 2>/dev/null && break
		sleep 0.05
	done &&
	still_serves &&
	ctl_cmd lookup 12 0 &&
	test_eq 100 "$(vl -t 20 "$S" flood 100 $M.GetStatus)" &&
	wait $mpid &&
	cat many.out &&
	grep "closed [1-9]" many.out
'

test_expect_success 'a silent client is closed after the idle timeout' '
	vl "$S" hold 5 >out &&
	grep "closed by server after [12] s" out
'

test_expect_success 'a client that trickles a message byte by byte is closed too' '
	vl "$S" trickle 6 >out &&
	cat out &&
	grep "closed by server after [1-3] s" out &&
	still_serves
'

test_expect_success 'a client that never reads its replies stalls nobody, and is dropped' '
	{ vl "$S" noread 100000 4 >noread.out & } &&
	npid=$! &&
	for i in $(seq 1 100); do
		grep -q sent noread.out 2>/dev/null && break
		sleep 0.05
	done &&
	cat noread.out &&
	still_serves &&
	ctl_cmd lookup 12 0 &&
	vl_call "$S" Dump --more >out && expect_ok out &&
	wait $npid &&
	cat noread.out &&
	test_eq closed "$(tail -n 1 noread.out)"
'

test_expect_success 'a watcher that never reads does not slow the cache' '
	{ vl "$S" watchslow 3 >slow.out & } &&
	wpid=$! &&
	for i in $(seq 1 100); do
		grep -q ready slow.out 2>/dev/null && break
		sleep 0.05
	done &&
	t0=$(date +%s%N) &&
	for i in $(seq 1 2000); do
		echo "lookup 12 0" &&
		echo "invalidate 12 0 0" || return 1
	done >&8 &&
	ctl_cmd lookup 12 0 &&
	t1=$(date +%s%N) &&
	echo "4000 cache operations took $(((t1 - t0) / 1000000)) ms" &&
	still_serves &&
	wait $wpid &&
	cat slow.out
'

test_expect_success 'the server is still whole and stops cleanly' '
	still_serves &&
	ctl_server_stop &&
	! test -e "$S"
'

test_done
