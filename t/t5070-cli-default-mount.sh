#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t5070-cli-default-mount.sh - finding the daemon without -s: with exactly
# one mount running iomapctl uses it, with two it asks which (exit 2), -m
# MOUNTPOINT picks one, and list shows both.  Servers run as an
# unprivileged user with the test's own XDG_RUNTIME_DIR, so that the
# sockets are in a runtime directory nothing else uses.
test_description='iomapctl finds the only mount, or asks'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-cli.sh"

test_have_prereq IOMAPCTL || skip_all "iomapctl is not built"
test_have_prereq NOBODY || skip_all "needs root and setpriv"
test_have_prereq E2FSPROGS || skip_all "e2fsprogs (mke2fs, debugfs) missing"
test_have_prereq JQ || skip_all "jq is not installed"
[ -x "$HELPER_DIR/ctl-server" ] || skip_all "t/helper/ctl-server is not built"

IMG=$TRASH/frag.img
PIDS=
# Socket names hold the escaped mountpoint and must fit in sun_path: short
# directories of our own for the runtime directory and the mountpoints.
NOBODY_RUNTIME=$(mktemp -d /tmp/icr.XXXXXX) && M=$(mktemp -d /tmp/icm.XXXXXX) ||
	skip_all "cannot make short scratch directories in /tmp"
test_atexit 'rm -rf "$NOBODY_RUNTIME" "$M"'
RUN=$NOBODY_RUNTIME/iomapfs

# serve N: a control server over $IMG for the mountpoint $M/N, as
# nobody, at the default socket location; fed (and stopped) by fd 5+N.
serve() {
	local n=$1 i
	mkdir -p "$M/$n" &&
	mkfifo "$TRASH/in$n" || return 1
	as_nobody "$HELPER_DIR/ctl-server" "$IMG" "$M/$n" \
		<"$TRASH/in$n" >"$TRASH/out$n" 2>&1 &
	PIDS="$PIDS $!"
	eval "exec $((5 + n))>\"\$TRASH/in$n\""
	for i in $(seq 1 100); do
		grep -q "^socket " "$TRASH/out$n" && return 0
		sleep 0.05
	done
	echo "server $n did not start:"
	cat "$TRASH/out$n"
	return 1
}
test_atexit 'exec 6>&- 7>&-; for p in $PIDS; do kill $p; done'

test_expect_success 'set up: an image readable by nobody, a runtime dir' '
	make_frag_image "$IMG" &&
	chmod 755 "$TRASH" && chmod 644 "$IMG" &&
	mkdir -p "$TRASH/home" &&
	chown 65534:65534 "$NOBODY_RUNTIME" "$TRASH/home" &&
	chmod 755 "$M"
'

test_expect_success 'one mount running: iomapctl uses it without -m or -s' '
	serve 1 &&
	test -S "$RUN/$(echo "$M/1" | sed "s|^/||; s|/|-|g").sock" &&
	as_nobody "$IOMAPCTL" -J status >out &&
	jq -e ".status.mountpoint == \"$M/1\" and .status.access == \"admin\"" out
'

test_expect_success 'list shows it live' '
	as_nobody "$IOMAPCTL" -J list >out &&
	jq -e ".runtime_dir == \"$RUN\" and
		[.mounts[] | [.mountpoint, .state]] == [[\"$M/1\", \"live\"]]" out
'

test_expect_success 'two mounts running: iomapctl asks which, exit 2' '
	serve 2 &&
	test_expect_code 2 as_nobody "$IOMAPCTL" status 2>err &&
	test_grep -q "2 iomapfs mounts are running; choose one with -m" err &&
	as_nobody "$IOMAPCTL" -J list >out &&
	jq -e "[.mounts[].state] == [\"live\", \"live\"]" out
'

test_expect_success '-m MOUNTPOINT picks one' '
	as_nobody "$IOMAPCTL" -m "$M/2" -J status >out &&
	jq -e ".status.mountpoint == \"$M/2\"" out &&
	(cd "$M/1" && as_nobody "$IOMAPCTL" -m . -J status) >out &&
	jq -e ".status.mountpoint == \"$M/1\"" out
'

test_expect_success 'a stopped server leaves one mount: used again' '
	exec 7>&- &&
	for i in $(seq 1 100); do
		[ -e "$RUN/$(echo "$M/2" | sed "s|^/||; s|/|-|g").sock" ] || break
		sleep 0.05
	done &&
	as_nobody "$IOMAPCTL" -J status >out &&
	jq -e ".status.mountpoint == \"$M/1\"" out
'

test_expect_success 'root does not see nobody'"'"'s mounts (its own runtime dir)' '
	"$IOMAPCTL" -J list >out &&
	jq -e "[.mounts[] | select(.mountpoint == \"$M/1\")] == []" out
'

test_done
