#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t5080-cli-find-socket.sh - iomapctl finds a mount whose socket is not at
# the default place (-o ctl_socket) through the record the server leaves
# there, and "list --prune" removes what no daemon serves any more.
# Servers run as an unprivileged user with the test's own
# XDG_RUNTIME_DIR, so that nothing else uses the runtime directory.
test_description='iomapctl -m through a record; list --prune'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-cli.sh"

test_have_prereq IOMAPCTL || skip_all "iomapctl is not built"
test_have_prereq NOBODY || skip_all "needs root and setpriv"
test_have_prereq E2FSPROGS || skip_all "e2fsprogs (mke2fs, debugfs) missing"
test_have_prereq JQ || skip_all "jq is not installed"
# python3 for nobody: not a shim under root's home
PY3=$(PATH=/usr/local/bin:/usr/bin:/bin command -v python3) ||
	skip_all "python3 is not installed"
[ -x "$HELPER_DIR/ctl-server" ] || skip_all "t/helper/ctl-server is not built"

IMG=$TRASH/img
# Short directories of our own: names hold the escaped mountpoint and
# must fit in sun_path.
NOBODY_RUNTIME=$(mktemp -d /tmp/icr.XXXXXX) && M=$(mktemp -d /tmp/icm.XXXXXX) ||
	skip_all "cannot make short scratch directories in /tmp"
test_atexit 'rm -rf "$NOBODY_RUNTIME" "$M"'
RUN=$NOBODY_RUNTIME/iomapfs
S=$M/s
declare -A PID

# name N: the socket or record name of the mountpoint $M/N.
name() {
	echo "$RUN/$(echo "$M/$1" | sed "s|^/||; s|/|-|g").sock"
}

# serve N [ctl-server options]: a control server for the mountpoint $M/N
# (or $M/$MP when MP is set), as nobody; fed (and stopped) through the
# descriptor in $fd_N (bash picks it: it keeps some above 9 for itself).
serve() {
	local n=$1 mp=$M/${MP:-$1} i
	shift
	mkdir -p "$mp" &&
	rm -f "$TRASH/in$n" && mkfifo "$TRASH/in$n" || return 1
	# as_nobody, spelt out: a simple command, so that $! is the server
	# itself (setpriv and env exec it), not a subshell around it
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		env XDG_RUNTIME_DIR="$NOBODY_RUNTIME" HOME="$TRASH/home" \
		"$HELPER_DIR/ctl-server" "$@" "$IMG" "$mp" \
		<"$TRASH/in$n" >"$TRASH/out$n" 2>&1 &
	PID[$n]=$!
	eval "exec {fd_$n}>\"\$TRASH/in$n\""
	for i in $(seq 1 100); do
		grep -q "^socket " "$TRASH/out$n" && return 0
		kill -0 "${PID[$n]}" 2>/dev/null || break
		sleep 0.05
	done
	echo "server $n did not start:"
	cat "$TRASH/out$n"
	return 1
}

# unserve N: end server N's input; it stops cleanly.
unserve() {
	eval "exec {fd_$1}>&-" &&
	wait "${PID[$1]}"
}

# kill_server N: SIGKILL server N; nothing of its is removed.
kill_server() {
	kill -KILL "${PID[$1]}" && { wait "${PID[$1]}"; true; } &&
	eval "exec {fd_$1}>&-"
}
test_atexit 'for p in "${PID[@]}"; do kill -KILL $p 2>/dev/null; done'

# stale_socket PATH: a socket nobody listens on, owned by nobody.
stale_socket() {
	as_nobody "$PY3" -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$1"
}

# impostor PATH: another program (as nobody) listens on PATH; sets IMPOSTOR.
impostor() {
	local i
	setpriv --reuid=65534 --regid=65534 --clear-groups "$PY3" -c \
		"import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); time.sleep(60)" \
		"$1" &
	IMPOSTOR=$!
	for i in $(seq 1 100); do
		test -S "$1" && return 0
		sleep 0.05
	done
	echo "the impostor did not bind $1"
	return 1
}

test_expect_success 'set up: an image readable by nobody, a runtime dir' '
	make_image "$IMG" 16M -t ext4 &&
	chmod 755 "$TRASH" && chmod 644 "$IMG" &&
	mkdir -p "$TRASH/home" "$S" &&
	chown 65534:65534 "$NOBODY_RUNTIME" "$TRASH/home" "$S" &&
	chmod 755 "$M"
'

test_expect_success 'a socket elsewhere leaves a record at the default place' '
	serve 1 -s "$S/one.sock" &&
	test -S "$S/one.sock" &&
	test -f "$(name 1)" && ! test -S "$(name 1)" &&
	test_grep -qx "socket $S/one.sock" "$(name 1)"
'

test_expect_success '-m MOUNTPOINT follows the record' '
	as_nobody "$IOMAPCTL" -m "$M/1" -J status >out &&
	jq -e ".status.mountpoint == \"$M/1\" and
		.status.socket == \"$S/one.sock\"" out
'

test_expect_success 'without -m, the only mount is found through its record' '
	as_nobody "$IOMAPCTL" -J status >out &&
	jq -e ".status.socket == \"$S/one.sock\"" out
'

test_expect_success 'list shows the socket the record names, live' '
	as_nobody "$IOMAPCTL" -J list >out &&
	jq -e "[.mounts[] | [.mountpoint, .state, .socket]] ==
		[[\"$M/1\", \"live\", \"$S/one.sock\"]]" out
'

test_expect_success 'a clean stop removes both' '
	unserve 1 &&
	! test -e "$S/one.sock" && ! test -e "$(name 1)"
'

test_expect_success 'a killed server: -m says stale (exit 3), list says stale' '
	serve 2 -s "$S/two.sock" &&
	kill_server 2 &&
	test -f "$(name 2)" && test -S "$S/two.sock" &&
	test_expect_code 3 as_nobody "$IOMAPCTL" -m "$M/2" status 2>err &&
	test_grep -q "stale record" err &&
	test_grep -q "list --prune" err &&
	as_nobody "$IOMAPCTL" -J list >out &&
	jq -e "[.mounts[] | [.mountpoint, .state]] == [[\"$M/2\", \"stale\"]]" out
'

test_expect_success 'a record whose socket someone else serves now is stale' '
	serve 3 -s "$S/three.sock" &&
	ino=$(stat -c %i "$S/three.sock") &&
	kill_server 3 &&
	rm "$S/three.sock" &&
	impostor "$S/three.sock" &&
	test_when_finished "kill $IMPOSTOR" &&
	say "the new socket has inode $(stat -c %i "$S/three.sock"), the old had $ino" &&
	test_expect_code 3 as_nobody "$IOMAPCTL" -m "$M/3" status 2>err &&
	test_grep -q "stale record" err
'

test_expect_success 'list --prune MOUNTPOINT removes that one only' '
	stale_socket "$(name 4)" &&
	as_nobody "$IOMAPCTL" -J list --prune "$M/3" >out &&
	jq -e "[.mounts[] | [.mountpoint, .state]] == [[\"$M/3\", \"removed\"]]" out &&
	! test -e "$(name 3)" &&
	test -S "$S/three.sock" &&
	test -f "$(name 2)" && test -S "$(name 4)"
'

test_expect_success 'list --prune removes every stale one and keeps the live' '
	serve 5 &&
	serve 6 -s "$S/six.sock" &&
	as_nobody "$IOMAPCTL" -J list --prune >out &&
	jq -e "[.mounts[] | [.mountpoint, .state]] == [
		[\"$M/2\", \"removed\"], [\"$M/4\", \"removed\"],
		[\"$M/5\", \"live\"], [\"$M/6\", \"live\"]]" out &&
	! test -e "$(name 2)" && ! test -e "$(name 4)" &&
	test -S "$(name 5)" && test -f "$(name 6)" &&
	test -S "$S/two.sock" &&
	as_nobody "$IOMAPCTL" -J list >out &&
	jq -e "[.mounts[].state] == [\"live\", \"live\"]" out
'

test_expect_success 'list MOUNTPOINT shows that one; without --prune nothing goes' '
	as_nobody "$IOMAPCTL" -rn -o MOUNTPOINT,STATE list "$M/6" >out &&
	test_eq "$M/6 live" "$(cat out)" &&
	as_nobody "$IOMAPCTL" -rn list "$M/nothing" >out &&
	test_eq "" "$(cat out)"
'

test_expect_success 'a live record is kept: a second server for it warns' '
	MP=6 serve 7 -s "$S/seven.sock" &&
	test_grep -q "another daemon serves it at $S/six.sock" "$TRASH/out7" &&
	test_grep -q "iomapctl -m does not find it" "$TRASH/out7" &&
	test_grep -qx "socket $S/six.sock" "$(name 6)" &&
	unserve 7 &&
	test_grep -qx "socket $S/six.sock" "$(name 6)"
'

test_expect_success 'a stale record is replaced by the next server' '
	kill_server 6 &&
	serve 6 -s "$S/six-b.sock" &&
	test_grep -qx "socket $S/six-b.sock" "$(name 6)" &&
	as_nobody "$IOMAPCTL" -m "$M/6" -J status >out &&
	jq -e ".status.socket == \"$S/six-b.sock\"" out &&
	unserve 6 && unserve 5 &&
	! test -e "$(name 6)" && ! test -e "$(name 5)"
'

test_expect_success 'a file that is no record is neither listed nor touched' '
	echo "not a record" >"$(name 8)" && chown 65534 "$(name 8)" &&
	serve 8 -s "$S/eight.sock" &&
	test_grep -q "not a socket is in the way" "$TRASH/out8" &&
	test_eq "not a record" "$(cat "$(name 8)")" &&
	as_nobody "$IOMAPCTL" -J list --prune >out &&
	jq -e "[.mounts[].mountpoint] == []" out &&
	test -f "$(name 8)" &&
	unserve 8
'

test_expect_success 'a malformed record: -m says what it is, list skips it' '
	mkdir -p "$M/9" &&
	printf "iomapfs-ctl-record 1\nsocket relative.sock\ndev 1\nino 2\npid 3\n" \
		>"$(name 9)" &&
	test_expect_code 3 as_nobody "$IOMAPCTL" -m "$M/9" status 2>err &&
	test_grep -q "neither a control socket nor a record of one" err &&
	printf "iomapfs-ctl-record 1\nsocket /x.sock\ndev 1\n" >"$(name 9)" &&
	test_expect_code 3 as_nobody "$IOMAPCTL" -m "$M/9" status 2>err &&
	test_grep -q "neither a control socket nor a record of one" err &&
	as_nobody "$IOMAPCTL" -J list --prune >out &&
	jq -e "[.mounts[].mountpoint] == []" out &&
	test -f "$(name 9)"
'

test_done
