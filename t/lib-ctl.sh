# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# lib-ctl.sh - helpers of the control socket tests (t4xxx), sourced after
# test-lib.sh.  vl talks raw Varlink through t/helper/vlraw.py (Python's
# socket and json modules only: bytes the project did not generate).
# ctl_server_start runs t/helper/ctl-server, the control server over an
# image without FUSE, with a command pipe that drives its cache.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "1..0 # SKIP ${0##*/} is a test library, not a test"
	exit 0
fi

VLRAW=$T_DIR/helper/vlraw.py
[ -x "$HELPER_DIR/ctl-server" ] && test_set_prereq CTL_SERVER

# vl SOCK call|raw|hold|flood|watchslow ...: see vlraw.py.
vl() {
	python3 "$VLRAW" "$@"
}

# vl_call SOCK METHOD [PARAMS] [--more]: the replies, one JSON per line.
vl_call() {
	local sock=$1 method=$2
	shift 2
	case $method in
	*.*) ;;
	*) method=io.iomapfs.Cache.$method ;;
	esac
	python3 "$VLRAW" "$sock" call "$method" "$@"
}

# vl_error OUT: the error name of the last reply in file OUT ("" if none).
vl_error() {
	tail -n 1 "$1" | jq -r '.error // ""'
}

# expect_error NAME OUT: the last reply in OUT is the error NAME.
expect_error() {
	local got
	got=$(vl_error "$2")
	if [ "$got" != "$1" ]; then
		echo "expected error $1, got '${got}'; replies:"
		cat "$2"
		return 1
	fi
}

# expect_ok OUT: no reply in OUT is an error, and there is one.
expect_ok() {
	if ! [ -s "$1" ] || grep -q '"error"' "$1" || grep -qv '^{' "$1"; then
		echo "expected good replies; got:"
		cat "$1"
		return 1
	fi
}

# ctl_server_start IMG MNTNAME [ctl-server options...]: start the server
# (the options go before IMG), wait for its socket; sets CTL_SOCK and
# CTL_PID.  Stopped at exit.
ctl_server_start() {
	local img=$1 mnt=$2 i
	shift 2
	rm -f "$TRASH/ctl.in" "$TRASH/ctl.out"
	mkfifo "$TRASH/ctl.in" || return 1
	"$HELPER_DIR/ctl-server" "$@" "$img" "$mnt" <"$TRASH/ctl.in" \
		>"$TRASH/ctl.out" 2>"$TRASH/ctl.err" &
	CTL_PID=$!
	exec 8>"$TRASH/ctl.in"
	test_atexit "ctl_server_stop"
	for i in $(seq 1 100); do
		CTL_SOCK=$(sed -n 's/^socket //p' "$TRASH/ctl.out" 2>/dev/null)
		[ -n "$CTL_SOCK" ] && return 0
		if ! kill -0 "$CTL_PID" 2>/dev/null; then
			echo "ctl-server exited; its errors:"
			cat "$TRASH/ctl.err"
			return 1
		fi
		sleep 0.05
	done
	echo "ctl-server did not start within 5 s"
	return 1
}

# ctl_cmd COMMAND: send a command to the server's cache and wait for its
# answer ("ok ..." lines; "error ..." fails).
ctl_cmd() {
	local before i
	before=$(wc -l <"$TRASH/ctl.out")
	echo "$*" >&8 || return 1
	for i in $(seq 1 200); do
		if [ "$(wc -l <"$TRASH/ctl.out")" -gt "$before" ]; then
			tail -n 1 "$TRASH/ctl.out" | grep -q '^ok' && return 0
			tail -n 1 "$TRASH/ctl.out"
			return 1
		fi
		sleep 0.02
	done
	echo "ctl-server did not answer '$*'"
	return 1
}

# ctl_server_stop: end input, wait for a clean exit (status 0).
ctl_server_stop() {
	local i
	[ -n "${CTL_PID:-}" ] || return 0
	exec 8>&- 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$CTL_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$CTL_PID" 2>/dev/null && kill -TERM "$CTL_PID"
	wait "$CTL_PID"
	local rc=$?
	CTL_PID=
	return $rc
}

# make_ctl_image IMG: a small ext4 image (4 KiB blocks) with a small file
# /f, a contiguous /sub/big of 64 blocks, and /sparse: 700 single-block
# extents separated by holes, so that its mappings fill several replies,
# and /link, a fast symlink (no mappings).
make_ctl_image() {
	local img=$1 d=$TRASH/imgsrc
	rm -rf "$d" && mkdir -p "$d/sub" &&
	printf 'hello %d\n' $(seq 1 3000) >"$d/f" &&
	ln -s f "$d/link" &&
	dd if=/dev/urandom of="$d/sub/big" bs=4096 count=64 2>/dev/null &&
	python3 -c '
import os, sys
with open(sys.argv[1], "wb") as f:
    for i in range(700):
        f.seek(i * 8192)
        f.write(os.urandom(4096))
' "$d/sparse" &&
	make_image "$img" 32M -t ext4 -b 4096 -d "$d"
}

# ctl_access_setup: for the access tests (t4120, t4210), skip unless they
# can run, and make their users when missing: U1, a stranger, and U2, a
# member of group G, the read-only group.  Sets PY, U1, U2 and G.
ctl_access_setup() {
	local u
	test_have_prereq ROOT,PYTHON3,CTL_SERVER,E2FSPROGS,JQ ||
		skip_all "needs root, python3, jq, e2fsprogs and t/helper/ctl-server"
	PY=/usr/bin/python3
	[ -x $PY ] || skip_all "needs /usr/bin/python3 for the test users"
	command -v setpriv >/dev/null || skip_all "needs setpriv"
	U1=iomapfs-t1
	U2=iomapfs-t2
	G=iomapfs-ro
	getent group $G >/dev/null || groupadd --system $G ||
		skip_all "groupadd failed"
	for u in $U1 $U2; do
		id $u >/dev/null 2>&1 ||
			useradd --system --no-create-home \
				--shell /usr/sbin/nologin $u ||
			skip_all "useradd $u failed"
	done
	id -nG $U2 | grep -qw $G || usermod -a -G $G $U2 ||
		skip_all "usermod failed"
}

# ctl_as USER CMD...: run CMD as USER with their groups.
ctl_as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
		env -u XDG_RUNTIME_DIR HOME=/ "$@"
}

# vl_as USER SOCK METHOD [PARAMS] [--more]: vl_call as USER.
vl_as() {
	local u=$1 sock=$2 m=$3
	shift 3
	case $m in *.*) ;; *) m=io.iomapfs.Cache.$m ;; esac
	ctl_as "$u" $PY "$VLRAW" "$sock" call "$m" "$@"
}
