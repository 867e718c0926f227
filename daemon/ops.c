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

/*
 * The signatures several operations share.  (clang-format reads the
 * pointer in a parameter list inside a macro as a product.)
 */
/* clang-format off */
#define OPS_GUARD_NAME(name)                                             \
	OPS_GUARD(name, (fuse_req_t req, fuse_ino_t ino, const char *n), \
		  (req, ino, n))
#define OPS_GUARD_FFI(name)                                                \
	OPS_GUARD(name,                                                    \
		  (fuse_req_t req, fuse_ino_t ino,                         \
		   struct fuse_file_info *ffi),                            \
		  (req, ino, ffi))
#define OPS_GUARD_READ(name)                                               \
	OPS_GUARD(name,                                                    \
		  (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, \
		   struct fuse_file_info *ffi),                            \
		  (req, ino, size, off, ffi))
#define OPS_GUARD_FSYNC(name)                                              \
	OPS_GUARD(name,                                                    \
		  (fuse_req_t req, fuse_ino_t ino, int datasync,           \
		   struct fuse_file_info *ffi),                            \
		  (req, ino, datasync, ffi))
/* clang-format on */

OPS_GUARD_NAME(lookup)
OPS_GUARD_FFI(getattr)
OPS_GUARD(setattr,
	  (fuse_req_t req, fuse_ino_t ino, struct stat *a, int s,
	   struct fuse_file_info *ffi),
	  (req, ino, a, s, ffi))
OPS_GUARD(readlink, (fuse_req_t req, fuse_ino_t ino), (req, ino))
OPS_GUARD(mknod,
	  (fuse_req_t req, fuse_ino_t p, const char *n, mode_t m, dev_t r),
	  (req, p, n, m, r))
OPS_GUARD(mkdir, (fuse_req_t req, fuse_ino_t p, const char *n, mode_t m),
	  (req, p, n, m))
OPS_GUARD_NAME(unlink)
OPS_GUARD_NAME(rmdir)
OPS_GUARD(symlink, (fuse_req_t req, const char *l, fuse_ino_t p, const char *n),
	  (req, l, p, n))
OPS_GUARD(rename,
	  (fuse_req_t req, fuse_ino_t p, const char *n, fuse_ino_t np,
	   const char *nn, unsigned int f),
	  (req, p, n, np, nn, f))
OPS_GUARD(link, (fuse_req_t req, fuse_ino_t ino, fuse_ino_t np, const char *nn),
	  (req, ino, np, nn))
OPS_GUARD_FFI(open)
OPS_GUARD(create,
	  (fuse_req_t req, fuse_ino_t p, const char *n, mode_t m,
	   struct fuse_file_info *ffi),
	  (req, p, n, m, ffi))
OPS_GUARD_READ(read)
OPS_GUARD(write_buf,
	  (fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *b, off_t off,
	   struct fuse_file_info *ffi),
	  (req, ino, b, off, ffi))
OPS_GUARD_FFI(flush)
OPS_GUARD_FSYNC(fsync)
OPS_GUARD(fallocate,
	  (fuse_req_t req, fuse_ino_t ino, int m, off_t off, off_t len,
	   struct fuse_file_info *ffi),
	  (req, ino, m, off, len, ffi))
OPS_GUARD(lseek,
	  (fuse_req_t req, fuse_ino_t ino, off_t off, int w,
	   struct fuse_file_info *ffi),
	  (req, ino, off, w, ffi))
OPS_GUARD_READ(readdir)
OPS_GUARD_READ(readdirplus)
OPS_GUARD_FSYNC(fsyncdir)
OPS_GUARD(statfs, (fuse_req_t req, fuse_ino_t ino), (req, ino))
OPS_GUARD(access, (fuse_req_t req, fuse_ino_t ino, int m), (req, ino, m))
OPS_GUARD(setxattr,
	  (fuse_req_t req, fuse_ino_t ino, const char *n, const char *v,
	   size_t s, int f),
	  (req, ino, n, v, s, f))
OPS_GUARD(getxattr, (fuse_req_t req, fuse_ino_t ino, const char *n, size_t s),
	  (req, ino, n, s))
OPS_GUARD(listxattr, (fuse_req_t req, fuse_ino_t ino, size_t s), (req, ino, s))
OPS_GUARD_NAME(removexattr)
OPS_GUARD(bmap, (fuse_req_t req, fuse_ino_t ino, size_t b, uint64_t x),
	  (req, ino, b, x))
#ifdef HAVE_STRUCT_FUSE_LOWLEVEL_OPS_TMPFILE
OPS_GUARD(tmpfile,
	  (fuse_req_t req, fuse_ino_t p, mode_t m, struct fuse_file_info *ffi),
	  (req, p, m, ffi))
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
