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

MNT=$TRASH/mnt
export XDG_STATE_HOME=$TRASH/state
HIST=$XDG_STATE_HOME/iomapctl/history

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

test_expect_success 'Ctrl-C drops the line being typed; the shell goes on' '
	tm send-keys "dump half-typed" C-c &&
	wait_prompt "" &&
	tm send-keys "help list" Enter &&
	wait_pane "^usage: iomapctl list" &&
	! pane | grep -q "^shell-exited-"
'

test_expect_success 'Ctrl-D leaves the shell with status 0' '
	tm send-keys C-d &&
	wait_dead &&
	test_eq 0 "$SHELL_STATUS" "exit status of the shell"
'

test_expect_success 'the history was saved in XDG_STATE_HOME' '
	test -f "$HIST" &&
	tail -n 5 "$HIST" >got &&
	printf "%s\n" help "help flush" frobnicate version "help list" >expect &&
	test_cmp expect got
'

test_expect_success 'a new session recalls the history with Up' '
	start_shell -m "$MNT" shell &&
	tm send-keys Up &&
	wait_prompt "help list" &&
	tm send-keys Up &&
	wait_prompt "version" &&
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
