// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ops.c - the one table of FUSE low-level operations of iomapfs: which
 * handler serves each request.  The handlers live in ops_session.c (the
 * session), ops_name.c (names), ops_attr.c (attributes), ops_open.c
 * (opening and closing files), ops_dir.c (directory handles), ops_xattr.c
 * (extended attributes), ops_ioctl.c (the ioctls of ext4's tools) and, for
 * file data, io.c.
 *
 * After FS_IOC_SHUTDOWN (ops_ioctl.c) every request fails with EIO until
 * the unmount, as on ext4: each handler is reached through a guard that
 * answers EIO first.  Not guarded: init and destroy, forget (no answer),
 * release and releasedir (a close must free what the handle holds),
 * opendir (which reads nothing), and ioctl, where a second shutdown
 * through a directory handle succeeds, as on ext4, and the rest is EIO.
 */
#include "config.h"

#include <errno.h>

#include "io_falloc.h"
#include "io_read.h"
#include "io_write.h"
#include "ops.h"
#include "ops_attr.h"
#include "ops_dir.h"
#include "ops_ioctl.h"
#include "ops_name.h"
#include "ops_open.h"
#include "ops_session.h"
#include "ops_xattr.h"

/*
 * guard_NAME(PARAMS): op_NAME(ARGS), unless the filesystem was shut down.
 * The first parameter is always the request.
 */
#define OPS_GUARD(name, params, args)               \
	static void guard_##name params             \
	{                                           \
		if (fs_is_shut_down(req_fs(req))) { \
			fuse_reply_err(req, EIO);   \
			return;                     \
		}                                   \
		op_##name args;                     \
	}

OPS_GUARD(lookup, (fuse_req_t req, fuse_ino_t p, const char *n), (req, p, n))
OPS_GUARD(getattr, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *f),
	  (req, i, f))
OPS_GUARD(setattr,
	  (fuse_req_t req, fuse_ino_t i, struct stat *a, int s,
	   struct fuse_file_info *f),
	  (req, i, a, s, f))
OPS_GUARD(readlink, (fuse_req_t req, fuse_ino_t i), (req, i))
OPS_GUARD(mknod,
	  (fuse_req_t req, fuse_ino_t p, const char *n, mode_t m, dev_t r),
	  (req, p, n, m, r))
OPS_GUARD(mkdir, (fuse_req_t req, fuse_ino_t p, const char *n, mode_t m),
	  (req, p, n, m))
OPS_GUARD(unlink, (fuse_req_t req, fuse_ino_t p, const char *n), (req, p, n))
OPS_GUARD(rmdir, (fuse_req_t req, fuse_ino_t p, const char *n), (req, p, n))
OPS_GUARD(symlink, (fuse_req_t req, const char *l, fuse_ino_t p, const char *n),
	  (req, l, p, n))
OPS_GUARD(rename,
	  (fuse_req_t req, fuse_ino_t p, const char *n, fuse_ino_t np,
	   const char *nn, unsigned int f),
	  (req, p, n, np, nn, f))
OPS_GUARD(link, (fuse_req_t req, fuse_ino_t i, fuse_ino_t np, const char *nn),
	  (req, i, np, nn))
OPS_GUARD(open, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *f),
	  (req, i, f))
OPS_GUARD(create,
	  (fuse_req_t req, fuse_ino_t p, const char *n, mode_t m,
	   struct fuse_file_info *f),
	  (req, p, n, m, f))
OPS_GUARD(read,
	  (fuse_req_t req, fuse_ino_t i, size_t s, off_t o,
	   struct fuse_file_info *f),
	  (req, i, s, o, f))
OPS_GUARD(write_buf,
	  (fuse_req_t req, fuse_ino_t i, struct fuse_bufvec *b, off_t o,
	   struct fuse_file_info *f),
	  (req, i, b, o, f))
OPS_GUARD(flush, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *f),
	  (req, i, f))
OPS_GUARD(fsync,
	  (fuse_req_t req, fuse_ino_t i, int d, struct fuse_file_info *f),
	  (req, i, d, f))
OPS_GUARD(fallocate,
	  (fuse_req_t req, fuse_ino_t i, int m, off_t o, off_t l,
	   struct fuse_file_info *f),
	  (req, i, m, o, l, f))
OPS_GUARD(lseek,
	  (fuse_req_t req, fuse_ino_t i, off_t o, int w,
	   struct fuse_file_info *f),
	  (req, i, o, w, f))
OPS_GUARD(readdir,
	  (fuse_req_t req, fuse_ino_t i, size_t s, off_t o,
	   struct fuse_file_info *f),
	  (req, i, s, o, f))
OPS_GUARD(readdirplus,
	  (fuse_req_t req, fuse_ino_t i, size_t s, off_t o,
	   struct fuse_file_info *f),
	  (req, i, s, o, f))
OPS_GUARD(fsyncdir,
	  (fuse_req_t req, fuse_ino_t i, int d, struct fuse_file_info *f),
	  (req, i, d, f))
OPS_GUARD(statfs, (fuse_req_t req, fuse_ino_t i), (req, i))
OPS_GUARD(access, (fuse_req_t req, fuse_ino_t i, int m), (req, i, m))
OPS_GUARD(setxattr,
	  (fuse_req_t req, fuse_ino_t i, const char *n, const char *v, size_t s,
	   int f),
	  (req, i, n, v, s, f))
OPS_GUARD(getxattr, (fuse_req_t req, fuse_ino_t i, const char *n, size_t s),
	  (req, i, n, s))
OPS_GUARD(listxattr, (fuse_req_t req, fuse_ino_t i, size_t s), (req, i, s))
OPS_GUARD(removexattr, (fuse_req_t req, fuse_ino_t i, const char *n),
	  (req, i, n))
OPS_GUARD(bmap, (fuse_req_t req, fuse_ino_t i, size_t b, uint64_t x),
	  (req, i, b, x))
#ifdef HAVE_STRUCT_FUSE_LOWLEVEL_OPS_TMPFILE
OPS_GUARD(tmpfile,
	  (fuse_req_t req, fuse_ino_t p, mode_t m, struct fuse_file_info *f),
	  (req, p, m, f))
#endif

const struct fuse_lowlevel_ops iomapfs_ops = {
	.init = op_init,
	.destroy = op_destroy,
	.lookup = guard_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = guard_getattr,
	.setattr = guard_setattr,
	.readlink = guard_readlink,
	.mknod = guard_mknod,
	.mkdir = guard_mkdir,
	.unlink = guard_unlink,
	.rmdir = guard_rmdir,
	.symlink = guard_symlink,
	.rename = guard_rename,
	.link = guard_link,
	.open = guard_open,
	.create = guard_create,
	.read = guard_read,
	.write_buf = guard_write_buf,
	.flush = guard_flush,
	.release = op_release,
	.fsync = guard_fsync,
	.fallocate = guard_fallocate,
	.lseek = guard_lseek,
	.opendir = op_opendir,
	.readdir = guard_readdir,
	.readdirplus = guard_readdirplus,
	.releasedir = op_releasedir,
	.fsyncdir = guard_fsyncdir,
	.statfs = guard_statfs,
	.access = guard_access,
	.setxattr = guard_setxattr,
	.getxattr = guard_getxattr,
	.listxattr = guard_listxattr,
	.removexattr = guard_removexattr,
	.ioctl = op_ioctl,
	.bmap = guard_bmap,
#ifdef HAVE_STRUCT_FUSE_LOWLEVEL_OPS_TMPFILE
	.tmpfile = guard_tmpfile,
#endif
};
