# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# lib-cli.sh - helpers of the iomapctl tests (t5xxx), sourced after
# test-lib.sh: prerequisites for iomapctl itself, images with fragmented and
# sparse files, and the parsing of `debugfs ex` for comparisons.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "1..0 # SKIP lib-cli.sh is a library of the t5xxx tests, not a test"
	exit 0
fi

[ -x "$IOMAPCTL" ] && test_set_prereq IOMAPCTL
command -v tmux >/dev/null && test_set_prereq TMUX
command -v mandoc >/dev/null && test_set_prereq MANDOC

# ictl ARGS...: run iomapctl.
ictl() {
	"$IOMAPCTL" "$@"
}

# make_frag_image IMG: an ext4 image (1 KiB blocks) with
#   /frag    a file of 40 blocks whose extents are scattered,
#   /sparse  a file with holes (data at block 0, 10 and 30; size 40 KiB),
#   /dir/small  a 3000-byte file, /empty an empty file.
# Fragmentation comes from writing two files in turns and deleting one.
make_frag_image() {
	local img=$1 i
	make_image "$img" 4M -t ext4 -b 1024 -O ^has_journal &&
	for i in $(seq 0 39); do
		printf 'frag block %04d\n' "$i" | dd of="$TRASH/fragblk" bs=1024 \
			conv=sync status=none &&
		echo "write $TRASH/fragblk tmp$i" &&
		echo "write $TRASH/fragblk pad$i" || return 1
	done >"$TRASH/fill.cmds" &&
	debugfs -w -f "$TRASH/fill.cmds" "$img" >/dev/null 2>&1 &&
	{
		for i in $(seq 0 39); do echo "rm pad$i"; done
	} >"$TRASH/rm.cmds" &&
	debugfs -w -f "$TRASH/rm.cmds" "$img" >/dev/null 2>&1 &&
	# /frag: the 40 one-block files' data, in a new file written block by
	# block into the freed holes between the tmp files
	head -c 40960 /dev/urandom >"$TRASH/frag.data" &&
	mkdir -p "$TRASH/d" &&
	head -c 3000 /dev/urandom >"$TRASH/d/small" &&
	: >"$TRASH/empty" &&
	dd if=/dev/urandom of="$TRASH/sparse" bs=1024 count=1 status=none &&
	dd if=/dev/urandom of="$TRASH/sparse" bs=1024 count=1 seek=10 \
		conv=notrunc status=none &&
	dd if=/dev/urandom of="$TRASH/sparse" bs=1024 count=1 seek=30 \
		conv=notrunc status=none &&
	truncate -s 40K "$TRASH/sparse" &&
	debugfs -w -f - "$img" >/dev/null 2>&1 <<-CMDS
	write $TRASH/frag.data frag
	mkdir dir
	write $TRASH/d/small dir/small
	write $TRASH/empty empty
	write $TRASH/sparse sparse
	CMDS
}

# debugfs_extents IMG PATH: "LOGICAL PHYSICAL LENGTH" per leaf extent of
# `debugfs ex`, in blocks.
debugfs_extents() {
	debugfs -R "ex $2" "$1" 2>/dev/null |
		awk 'NR > 1 && $0 ~ /-/ {
			# "0/ 0 1/ 3 0 - 1 24 - 25 2" (leaf entries only)
			gsub(/\//, " / ");
			n = split($0, f, " ");
			# fields: lvl / max ent / cnt L - L P - P LEN [flags]
			if (f[1] != f[3]) next;
			print f[7], f[10], f[13];
		}'
}

# test_must_be_empty_ FILE: FILE exists and is empty (shows it if not).
test_must_be_empty_() {
	if [ ! -f "$1" ] || [ -s "$1" ]; then
		echo "'$1' should be empty; it holds:"
		cat "$1" 2>/dev/null
		return 1
	fi
}

# --- an unprivileged caller -----------------------------------------------
# as_nobody CMD...: run CMD as uid/gid 65534 with XDG_RUNTIME_DIR=$TRASH/run
# (or $NOBODY_RUNTIME) and HOME=$TRASH/home, so that the runtime directory
# (sockets, `list`) is the test's own.  Prerequisite NOBODY.
if test_have_prereq ROOT && command -v setpriv >/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	test_set_prereq NOBODY
fi
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		env XDG_RUNTIME_DIR="${NOBODY_RUNTIME:-$TRASH/run}" \
		HOME="$TRASH/home" "$@"
}

# --- the shell under tmux --------------------------------------------------
# start_shell ARGS... runs iomapctl ARGS in a pane of a private tmux server
# (killed at exit); pane, wait_pane REGEX, prompt_line, wait_prompt TEXT
# and wait_dead (sets SHELL_STATUS) read what the terminal shows.
# XDG_STATE_HOME (export it) keeps the history out of $HOME.
TMUX_SOCK=iomapctl-$TEST_NAME-$$
test_atexit "tmux -L '$TMUX_SOCK' kill-server"

tm() {
	tmux -L "$TMUX_SOCK" -f /dev/null "$@"
}

# start_shell ARGS...: iomapctl ARGS in a fresh 150x50 pane that stays
# around after the shell exits (to read its status).
start_shell() {
	local i
	tm kill-server 2>/dev/null
	# the old server takes a moment to go; a new one must not race it
	for i in $(seq 1 50); do
		tm list-sessions >/dev/null 2>&1 || break
		sleep 0.05
	done
	for i in 1 2 3; do
		tm new-session -d -x 150 -y 50 \
			"env XDG_STATE_HOME='${XDG_STATE_HOME:-$TRASH/state}' HOME='$TRASH/home' TERM=xterm $IOMAPCTL $*; echo shell-exited-\$?" &&
			break
		sleep 0.2
	done &&
	tm set-option -g remain-on-exit on >/dev/null &&
	wait_pane "iomapctl .*> $"
}

# wait_dead: until the shell in the pane has exited (5 s); then
# $SHELL_STATUS is its exit status.
wait_dead() {
	local i
	for i in $(seq 1 100); do
		SHELL_STATUS=$(pane | sed -n "s/^shell-exited-\([0-9]*\)$/\1/p")
		[ -n "$SHELL_STATUS" ] && return 0
		sleep 0.05
	done
	echo "the shell did not exit; the pane shows:"
	pane
	return 1
}

pane() {
	tm capture-pane -p -J -S -200
}

# wait_pane REGEX: until the pane shows a line matching REGEX (5 s).
wait_pane() {
	local i
	for i in $(seq 1 100); do
		pane | grep -q -- "$1" && return 0
		sleep 0.05
	done
	echo "the pane never showed '$1'; it shows:"
	pane
	return 1
}

# the last prompt line of the pane
prompt_line() {
	pane | grep "^iomapctl .*> " | tail -n 1
}

# wait_prompt TEXT: until the last prompt line reads TEXT after the prompt
# (trailing blanks aside: a terminal does not show them).
wait_prompt() {
	local i want
	want=$(printf "%s" "$1" | sed "s/ *$//")
	for i in $(seq 1 100); do
		[ "$(prompt_line | sed -e "s/^iomapctl [^>]*> //" -e "s/ *$//")" = "$want" ] &&
			return 0
		sleep 0.05
	done
	echo "expected the prompt line to hold '$1'; the pane shows:"
	pane
	return 1
}

