# SPDX-License-Identifier: GPL-2.0-or-later
test_description='name operations from several processes at once (one shared directory, one each), then e2fsck'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ops.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"

# worker N: churn names in mnt/shared and mnt/wN for a while.
worker() {
	local n=$1 i
	mkdir "mnt/w$n" || return 1
	for i in $(seq 60); do
		echo "$n $i" >"mnt/shared/f-$n-$i" &&
		mkdir "mnt/w$n/d$i" &&
		ln -s "../f-$n-$i" "mnt/w$n/d$i/l" &&
		ln "mnt/shared/f-$n-$i" "mnt/w$n/h$i" &&
		mv "mnt/shared/f-$n-$i" "mnt/w$n/d$i/f" &&
		setfattr_ok "mnt/w$n/h$i" &&
		ls mnt/shared >/dev/null &&
		if [ $((i % 3)) -eq 0 ]; then
			rm -r "mnt/w$n/d$i" "mnt/w$n/h$i" || return 1
		fi || return 1
	done
}

setfattr_ok() {
	if test_have_prereq ATTR; then
		setfattr -n user.w -v x "$1"
	fi
}

test_expect_success 'four workers at once, with threads=8' '
	make_image img 64M -t ext4 -b 1024 &&
	iomapfs_mount img mnt -o threads=8 &&
	mkdir mnt/shared &&
	pids= &&
	for n in 1 2 3 4; do
		worker $n >"w$n.log" 2>&1 &
		pids="$pids $!" || return 1
	done &&
	test_wait_all $pids || { cat w*.log && false; } &&
	for n in 1 2 3 4; do
		test_eq 40 "$(ls mnt/w$n | grep -c ^d)" || return 1
		test_eq "$n 2" "$(cat mnt/w$n/d2/f)" || return 1
		test_eq 2 "$(stat -c %h mnt/w$n/d2/f)" || return 1
	done &&
	test_eq 0 "$(ls mnt/shared | wc -l)" &&
	test_eq 8 "$(stat -c %h mnt)" &&
	scratch_done
'

test_done
