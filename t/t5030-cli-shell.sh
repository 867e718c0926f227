#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t5030-cli-shell.sh - the interactive shell, driven through a real pty
# with tmux: the prompt names the mount, tab completion of commands,
# options, limit keys and paths inside the mount, help, history kept in
# $XDG_STATE_HOME across sessions, an error that does not end the shell,
# and Ctrl-D leaving with status 0.
test_description='iomapctl shell under a pty'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-cli.sh"

test_have_prereq IOMAPCTL || skip_all "iomapctl is not built"
test_have_prereq TMUX || skip_all "tmux is not installed"

TMUX_SOCK=iomapctl-t5030-$$
MNT=$TRASH/mnt
export XDG_STATE_HOME=$TRASH/state
HIST=$XDG_STATE_HOME/iomapctl/history

tm() {
	tmux -L "$TMUX_SOCK" -f /dev/null "$@"
}
test_atexit "tmux -L '$TMUX_SOCK' kill-server"

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
			"env XDG_STATE_HOME='$XDG_STATE_HOME' HOME='$TRASH/home' TERM=xterm $IOMAPCTL $*; echo shell-exited-\$?" &&
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

test_expect_success 'set up a directory tree for -m' '
	mkdir -p "$MNT/dir/sub" "$TRASH/home" &&
	: >"$MNT/alpha.txt" &&
	: >"$MNT/dir/beta" &&
	: >"$MNT/dir/sub/gamma"
'

test_expect_success 'the shell starts on a terminal with no command, naming the mount' '
	start_shell -m "$MNT" &&
	prompt_line >line &&
	test_grep -q "^iomapctl $MNT> $" line
'

test_expect_success 'tab completes a command name' '
	tm send-keys "hel" Tab &&
	wait_prompt "help " &&
	tm send-keys C-u
'

test_expect_success 'tab completes the options of a command' '
	tm send-keys "dump --bl" Tab &&
	wait_prompt "dump --blocks " &&
	tm send-keys C-u
'

test_expect_success 'tab completes a path inside the mount, directory by directory' '
	tm send-keys "dump al" Tab &&
	wait_prompt "dump alpha.txt " &&
	tm send-keys C-u "map di" Tab &&
	wait_prompt "map dir/" &&
	tm send-keys "s" Tab &&
	wait_prompt "map dir/sub/" &&
	tm send-keys "g" Tab &&
	wait_prompt "map dir/sub/gamma " &&
	tm send-keys C-u "map $MNT/dir/b" Tab &&
	wait_prompt "map $MNT/dir/beta " &&
	tm send-keys C-u
'

test_expect_success 'tab completes limit keys and help topics' '
	tm send-keys "limits cache_m" Tab &&
	wait_prompt "limits cache_max=" &&
	tm send-keys C-u "help fl" Tab &&
	wait_prompt "help flush " &&
	tm send-keys C-u
'

test_expect_success 'help and help CMD come from the command table' '
	tm send-keys "help" Enter &&
	wait_pane "^  watch    print cache events" &&
	tm send-keys "help flush" Enter &&
	wait_pane "^usage: iomapctl flush --all | INODE|PATH"
'

test_expect_success 'an error does not end the shell' '
	tm send-keys "frobnicate" Enter &&
	wait_pane "unknown command .frobnicate." &&
	tm send-keys "version" Enter &&
	wait_pane "^iomapctl [0-9][^ ]* (JSON schema" &&
	! pane | grep -q "^shell-exited-"
'

test_expect_success 'Ctrl-D leaves the shell with status 0' '
	tm send-keys C-d &&
	wait_dead &&
	test_eq 0 "$SHELL_STATUS" "exit status of the shell"
'

test_expect_success 'the history was saved in XDG_STATE_HOME' '
	test -f "$HIST" &&
	tail -n 4 "$HIST" >got &&
	printf "%s\n" help "help flush" frobnicate version >expect &&
	test_cmp expect got
'

test_expect_success 'a new session recalls the history with Up' '
	start_shell -m "$MNT" shell &&
	tm send-keys Up &&
	wait_prompt "version" &&
	tm send-keys Up &&
	wait_prompt "frobnicate" &&
	tm send-keys C-u "quit" Enter &&
	wait_dead &&
	test_eq 0 "$SHELL_STATUS" "exit status of the shell" &&
	tail -n 1 "$HIST" >got &&
	echo quit >expect &&
	test_cmp expect got
'

test_expect_success 'shell inside the shell is refused, and the shell goes on' '
	start_shell -m "$MNT" shell &&
	tm send-keys "shell" Enter &&
	wait_pane "already in the shell" &&
	tm send-keys "version" Enter &&
	wait_pane "^iomapctl [0-9]" &&
	tm send-keys C-d
'

test_done
