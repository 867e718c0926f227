#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t5020-cli-script.sh - iomapctl scripts: -c (repeatable), -f FILE and
# -f -, comments and blank lines, quoting, stop at the first failing
# command with its exit code, --keep-going, and a scripted inspection whose
# output matches an expected transcript.
test_description='iomapctl -c and -f scripts'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-cli.sh"

test_have_prereq IOMAPCTL || skip_all "iomapctl is not built"
test_have_prereq E2FSPROGS || skip_all "e2fsprogs (mke2fs, debugfs) missing"

IMG=$TRASH/frag.img
EXPECT_DIR=$SRC_DIR/t/t5020

test_expect_success 'set up' '
	make_frag_image "$IMG"
'

test_expect_success '-c runs each command in order' '
	ictl --image "$IMG" -n -o TYPE -c "map /dir/small" -c "map /sparse 0 1k" >out &&
	printf "MAPPED\nMAPPED\n" >expect &&
	test_cmp expect out
'

test_expect_success '-c with a COMMAND too is a usage error' '
	test_expect_code 2 ictl --image "$IMG" -c version status 2>err &&
	test_grep -q "not both" err
'

test_expect_success '-f FILE with comments, blank lines and quotes' '
	cat >script <<-\EOF &&
	# inspect two files

	   map "/dir/small"    # trailing comment
	map '"'"'/sparse'"'"' 0x2800 1k
	EOF
	ictl --image "$IMG" -rn -o OFFSET,TYPE -f script >out &&
	printf "0x0 MAPPED\n0x2800 MAPPED\n" >expect &&
	test_cmp expect out
'

test_expect_success '-f - reads the script from stdin' '
	printf "version\n\nversion\n" | ictl -f - >out &&
	test $(grep -c "^iomapctl " out) -eq 2
'

test_expect_success 'a script stops at the first failing command, with its code' '
	printf "version\nmap /nope\nversion\n" >script &&
	test_expect_code 1 ictl --image "$IMG" -f script >out 2>err &&
	test $(grep -c "^iomapctl " out) -eq 1 &&
	test_grep -q "script:2: .map. failed (exit 1)" err &&
	printf "version\nbogus\nversion\n" >script &&
	test_expect_code 2 ictl -f script >out 2>err &&
	test $(grep -c "^iomapctl " out) -eq 1
'

test_expect_success '--keep-going runs everything; the first failure is the status' '
	printf "version\nbogus\nmap /nope\nversion\n" >script &&
	test_expect_code 2 ictl --image "$IMG" --keep-going -f script >out 2>err &&
	test $(grep -c "^iomapctl " out) -eq 2 &&
	test_grep -q "script:2:" err &&
	test_grep -q "script:3:" err
'

test_expect_success '-c failures stop the later -c commands' '
	test_expect_code 2 ictl -c version -c "help nosuch" -c version >out 2>err &&
	test $(grep -c "^iomapctl " out) -eq 1 &&
	test_grep -q -- "-c #2" err
'

test_expect_success 'an unterminated quote is a usage error naming the line' '
	printf "version\nmap \"/sparse\n" >script &&
	test_expect_code 2 ictl --image "$IMG" -f script >out 2>err &&
	test_grep -q "script:2: unterminated quote" err
'

test_expect_success 'a missing script file is a usage error' '
	test_expect_code 2 ictl -f "$TRASH/none" 2>err &&
	test_grep -q "cannot read script .*none" err
'

test_expect_success JQ 'with -J, one JSON document per command' '
	ictl --image "$IMG" -J -c "map /dir/small" -c "status" -c "dump /sparse" >out &&
	jq -s -e "length == 3 and (map(.schema_version) | unique) == [1] and
		map(.command) == [\"map\", \"status\", \"dump\"]" out
'

# A scripted inspection: the transcript names every fact that does not
# depend on where mke2fs put the blocks: blanks are squeezed and the
# addresses of MAPPED rows replaced by A.
test_expect_success 'a scripted inspection matches its transcript' '
	cat >inspect.iomapctl <<-\EOF &&
	# what lies where in the image
	map /dir/small
	map /sparse
	dump --blocks /sparse
	dump --range 0x2800:4k /sparse
	map /sparse 0x7800 1
	EOF
	ictl --image "$IMG" -f inspect.iomapctl >raw &&
	awk "{ \$1 = \$1 } \$3 == \"MAPPED\" { \$4 = \"A\" } { print }" raw >actual &&
	test_cmp "$EXPECT_DIR/inspect.expect" actual
'

test_done
