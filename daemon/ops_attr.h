/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ops_attr.h - the FUSE operations on attributes (ops_attr.c): getattr,
 * setattr, access, and readlink.  Every handler replies exactly once.
 */
#ifndef IOMAPFS_OPS_ATTR_H
#define IOMAPFS_OPS_ATTR_H

#include "fs.h"

void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *ffi);
void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		struct fuse_file_info *ffi);
void op_access(fuse_req_t req, fuse_ino_t ino, int mask);
void op_readlink(fuse_req_t req, fuse_ino_t ino);

#endif /* IOMAPFS_OPS_ATTR_H */
