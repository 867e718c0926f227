// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ops.c - the one table of FUSE low-level operations of iomapfs: which
 * handler serves each request.  The handlers live in ops_inode.c,
 * ops_dir.c, ops_xattr.c and, for file data, io_read.c, io_write.c and
 * io_falloc.c.
 */
#include "config.h"

#include "io_falloc.h"
#include "io_read.h"
#include "io_write.h"
#include "ops.h"

const struct fuse_lowlevel_ops iomapfs_ops = {
	.init = op_init,
	.destroy = op_destroy,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.create = op_create,
	.read = op_read,
	.write_buf = op_write_buf,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.fallocate = op_fallocate,
	.lseek = op_lseek,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.statfs = op_statfs,
	.access = op_access,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
};
