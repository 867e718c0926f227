#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t5040-cli-completion.sh - the hidden `complete` command and the bash
# completion file that calls it: commands, global and command options,
# limit keys, help topics, and paths inside the mount named by -m.
test_description='iomapctl complete and bash completion'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-cli.sh"

test_have_prereq IOMAPCTL || skip_all "iomapctl is not built"

MNT=$TRASH/mnt
COMPLETION=$SRC_DIR/cli/iomapctl.bash-completion

test_expect_success 'set up a directory tree for -m' '
	mkdir -p "$MNT/dir" &&
	: >"$MNT/alpha.txt" && : >"$MNT/alpine" && : >"$MNT/dir/beta" &&
	: >"$MNT/.hidden"
'

test_expect_success 'an empty word completes to every visible command' '
	ictl complete -- "" >out &&
	ictl commands >expect &&
	test_cmp expect out
'

test_expect_success 'a prefix completes command names' '
	ictl complete -- d >out &&
	printf "disable\ndump\n" >expect &&
	test_cmp expect out
'

test_expect_success 'options of a command, and global options' '
	ictl complete -- dump -- >out &&
	printf -- "--range\n--blocks\n" >expect &&
	test_cmp expect out &&
	ictl complete -- --j >out &&
	echo --json >expect &&
	test_cmp expect out &&
	ictl complete -- -J -o OFFSET du >out &&
	echo dump >expect &&
	test_cmp expect out
'

test_expect_success 'limit keys and help topics' '
	ictl complete -- limits cache >out &&
	printf "cache_max=\ncache_inode_max=\n" >expect &&
	test_cmp expect out &&
	ictl complete -- help st >out &&
	printf "stats\nstatus\n" >expect &&
	test_cmp expect out
'

test_expect_success 'no candidates after an option that takes a number' '
	ictl complete -- dump --range "" >out &&
	test_must_be_empty_ out &&
	ictl complete -- -m "" >out &&
	test_must_be_empty_ out
'

test_expect_success 'paths inside the mount named by -m' '
	ictl complete -- -m "$MNT" dump al >out &&
	LC_ALL=C sort out >sorted &&
	printf "alpha.txt\nalpine\n" >expect &&
	test_cmp expect sorted &&
	ictl complete -- -m "$MNT" map d >out &&
	echo dir/ >expect &&
	test_cmp expect out &&
	ictl complete -- -m "$MNT" flush dir/ >out &&
	echo dir/beta >expect &&
	test_cmp expect out &&
	ictl complete -- -m "$MNT" dump "$MNT/dir/b" >out &&
	echo "$MNT/dir/beta" >expect &&
	test_cmp expect out &&
	ictl complete -- -m "$MNT" dump .h >out &&
	echo .hidden >expect &&
	test_cmp expect out
'

test_expect_success 'map completes only its file, not OFF and LEN' '
	ictl complete -- -m "$MNT" map alpha.txt "" >out &&
	test_must_be_empty_ out
'

# bash_complete WORD...: what the bash completion offers for the last word.
bash_complete() {
	PATH=$BUILD_DIR/cli:$PATH bash --norc --noprofile -c '
		complete() { :; }
		compopt() { :; }
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_iomapctl
		printf "%s\n" "${COMPREPLY[@]}"' bash "$COMPLETION" "$@"
}

test_expect_success 'the bash completion file asks iomapctl' '
	bash_complete iomapctl sta >out &&
	printf "stats\nstatus\n" >expect &&
	test_cmp expect out &&
	bash_complete iomapctl -m "$MNT" dump alp >out &&
	LC_ALL=C sort out >sorted &&
	printf "alpha.txt\nalpine\n" >expect &&
	test_cmp expect sorted
'

test_expect_success 'the bash completion completes files after --image and -f' '
	: >"$TRASH/disk.img" &&
	(cd "$TRASH" && bash_complete iomapctl --image dis) >out &&
	echo disk.img >expect &&
	test_cmp expect out
'

test_done
