/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ops.h - the FUSE low-level operations of iomapfs other than the data
 * path (io_read.h, io_write.h, io_falloc.h): inodes and names (ops_inode.c), directory handles, statfs
 * and the session's init/destroy (ops_dir.c), and extended attributes and
 * POSIX ACLs (ops_xattr.c).  ops.c gathers them all, with the data path's,
 * into the one operations table.  Every handler replies exactly once.
 */
#ifndef IOMAPFS_OPS_H
#define IOMAPFS_OPS_H

#include "fs.h"

/* The operations table given to fuse_session_new(). */
extern const struct fuse_lowlevel_ops iomapfs_ops;

/* ops_dir.c: session, directories, statfs */
void op_init(void *userdata, struct fuse_conn_info *conn);
void op_destroy(void *userdata);
void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi);
void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi);
void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		 struct fuse_file_info *fi);
void op_statfs(fuse_req_t req, fuse_ino_t ino);

/* ops_inode.c: inodes and names */
void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void op_forget_multi(fuse_req_t req, size_t count,
		     struct fuse_forget_data *forgets);
void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		struct fuse_file_info *fi);
void op_readlink(fuse_req_t req, fuse_ino_t ino);
void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	      dev_t rdev);
void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		const char *name);
void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
	       fuse_ino_t newparent, const char *newname, unsigned int flags);
void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
	     const char *newname);
void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       struct fuse_file_info *fi);
void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_access(fuse_req_t req, fuse_ino_t ino, int mask);

/* ops_xattr.c: extended attributes */
void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		 const char *value, size_t size, int flags);
void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

/*
 * ACLs a new inode inherits from its parent's default ACL: computed before
 * the inode is written (they decide its mode), applied after.
 */
struct fs_acl_inherit {
	void *access; /* xattr value of system.posix_acl_access */
	size_t access_len;
	void *dflt; /* of system.posix_acl_default (directories) */
	size_t dflt_len;
};

/*
 * Work out the mode and ACLs of a new inode in @parent: with a default ACL
 * there, the ACL decides the permission bits (POSIX create masking) and
 * the umask is ignored; without, the umask applies.  *@mode is updated.
 * Call with fs_lock held.  Returns 0 or -errno.
 */
int fs_acl_inherit_prepare(struct iomapfs *fsx, ext2_ino_t parent, bool is_dir,
			   mode_t umask, mode_t *mode,
			   struct fs_acl_inherit *ai);
/* Store the inherited ACLs on @child (already written) and free them. */
int fs_acl_inherit_apply(struct iomapfs *fsx, ext2_ino_t child,
			 struct fs_acl_inherit *ai);
void fs_acl_inherit_free(struct fs_acl_inherit *ai);

/*
 * chmod: make the access ACL of @ino, if any, agree with the new @mode
 * (owner, group class - the mask when there is one - and other).  Call
 * with fs_lock held, after the inode was written.
 */
int fs_acl_chmod(struct iomapfs *fsx, ext2_ino_t ino, mode_t mode);

#endif /* IOMAPFS_OPS_H */
