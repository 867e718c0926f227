/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ops_name.h - the FUSE operations on names (ops_name.c): lookup, forget,
 * mknod, mkdir, symlink, link, unlink, rmdir and rename.  Every handler
 * replies exactly once.
 */
#ifndef IOMAPFS_OPS_NAME_H
#define IOMAPFS_OPS_NAME_H

#include "fs.h"

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void op_forget_multi(fuse_req_t req, size_t count,
		     struct fuse_forget_data *forgets);
void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	      dev_t rdev);
void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		const char *name);
void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
	     const char *newname);
void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
	       fuse_ino_t newparent, const char *newname, unsigned int flags);

#endif /* IOMAPFS_OPS_NAME_H */
