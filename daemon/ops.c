// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ops.c - the one table of FUSE low-level operations of iomapfs: which
 * handler serves each request.  The handlers live in ops_session.c (the
 * session), ops_name.c (names), ops_attr.c (attributes), ops_open.c
 * (opening and closing files), ops_dir.c (directory handles), ops_xattr.c
 * (extended attributes) and, for file data, io.c.
 */
#include "config.h"

#include "io_falloc.h"
#include "io_read.h"
#include "io_write.h"
#include "ops.h"
#include "ops_attr.h"
#include "ops_dir.h"
#include "ops_name.h"
#include "ops_open.h"
#include "ops_session.h"
#include "ops_xattr.h"

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
