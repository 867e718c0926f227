// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-iflags.c - unit tests of the daemon's inode flag rules
 * (daemon/iflags.c) that no mount can reach: the kernel's VFS checks
 * CAP_LINUX_IMMUTABLE (fileattr_set_prepare()) before it sends
 * FS_IOC_SETFLAGS or FS_IOC_FSSETXATTR to a FUSE server, so t2080 sees
 * the kernel's answer, and only a hostile or buggy client reaches
 * iflags_apply() without the capability.  iflags_apply() must answer as
 * ext4 does all the same: without CAP_LINUX_IMMUTABLE immutable and
 * append-only can be neither set nor cleared, without CAP_SYS_RESOURCE
 * data journalling cannot change, an immutable inode changes nothing
 * else, and a refused change leaves the inode as it was; and the checks
 * of the other operations (xattrs, setattr, open, link) obey the flags.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "iflags.h"
#include "tap.h"

/* A regular file (extent-mapped, as ext4 makes them) with @flags. */
static struct ext2_inode_large file_with(uint32_t flags)
{
	struct ext2_inode_large inode;

	memset(&inode, 0, sizeof(inode));
	inode.i_mode = LINUX_S_IFREG | 0644;
	inode.i_flags = EXT4_EXTENTS_FL | flags;
	inode.i_extra_isize = 32;
	return inode;
}

/*
 * iflags_apply() on a file with @old flags, asked for @want (the extents
 * flag added); checks the result and what i_flags holds after it.
 */
static void apply(const char *what, uint32_t old, uint32_t want, bool cap_imm,
		  bool cap_res, int ret, uint32_t after)
{
	struct ext2_inode_large inode = file_with(old);

	tap_eq_int(iflags_apply(NULL, &inode, EXT4_EXTENTS_FL | want, cap_imm,
				cap_res),
		   ret, "%s: %s", what, ret ? strerror(-ret) : "done");
	tap_eq_u64(inode.i_flags, EXT4_EXTENTS_FL | after, "%s: i_flags after",
		   what);
}

static void test_capabilities(void)
{
	const uint32_t imm = EXT2_IMMUTABLE_FL, app = EXT2_APPEND_FL;
	const uint32_t nodump = EXT2_NODUMP_FL;

	apply("set immutable without CAP_LINUX_IMMUTABLE", 0, imm, false, true,
	      -EPERM, 0);
	apply("set append-only without CAP_LINUX_IMMUTABLE", 0, app, false,
	      true, -EPERM, 0);
	apply("clear immutable without CAP_LINUX_IMMUTABLE", imm | nodump,
	      nodump, false, true, -EPERM, imm | nodump);
	apply("clear append-only without CAP_LINUX_IMMUTABLE", app, 0, false,
	      true, -EPERM, app);
	apply("nodump without CAP_LINUX_IMMUTABLE", 0, nodump, false, false, 0,
	      nodump);
	apply("append-only kept, nodump added, without the capability", app,
	      app | nodump, false, false, 0, app | nodump);
	apply("set immutable with CAP_LINUX_IMMUTABLE", 0, imm, true, false, 0,
	      imm);
	apply("clear append-only with CAP_LINUX_IMMUTABLE", app, 0, true, false,
	      0, 0);
	apply("immutable stays, nodump changes: nothing else may change", imm,
	      imm | nodump, true, true, -EPERM, imm);
	apply("data journalling without CAP_SYS_RESOURCE", 0,
	      EXT3_JOURNAL_DATA_FL, true, false, -EPERM, 0);
	apply("data journalling with CAP_SYS_RESOURCE: not honoured", 0,
	      EXT3_JOURNAL_DATA_FL, true, true, -EOPNOTSUPP, 0);
	apply("a flag ext4 does not know", 0, 0x01000000, true, true,
	      -EOPNOTSUPP, 0);
	apply("dirsync on a file", 0, EXT2_DIRSYNC_FL, true, true, -EOPNOTSUPP,
	      0);
}

static void test_other_checks(void)
{
	struct ext2_inode_large plain = file_with(0);
	struct ext2_inode_large imm = file_with(EXT2_IMMUTABLE_FL);
	struct ext2_inode_large app = file_with(EXT2_APPEND_FL);

	tap_eq_int(iflags_may_change_xattr(&plain), 0, "xattr change: plain");
	tap_eq_int(iflags_may_change_xattr(&imm), -EPERM,
		   "xattr change: immutable");
	tap_eq_int(iflags_may_change_xattr(&app), -EPERM,
		   "xattr change: append-only");
	tap_eq_int(iflags_may_link(&imm), -EPERM, "link: immutable");
	tap_eq_int(iflags_may_link(&app), -EPERM, "link: append-only");
	tap_eq_int(iflags_may_link(&plain), 0, "link: plain");
	tap_eq_int(iflags_may_open(&app, O_WRONLY), -EPERM,
		   "open for writing without O_APPEND: append-only");
	tap_eq_int(iflags_may_open(&app, O_WRONLY | O_APPEND), 0,
		   "open with O_APPEND: append-only");
	tap_eq_int(iflags_may_open(&imm, O_WRONLY | O_APPEND), -EPERM,
		   "open for writing: immutable");
	tap_eq_int(iflags_may_open(&imm, O_RDONLY), 0,
		   "open for reading: immutable");
}

int main(void)
{
	test_capabilities();
	test_other_checks();
	return tap_done();
}
