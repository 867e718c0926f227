/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ops_xattr.h - the FUSE operations on extended attributes (ops_xattr.c).
 * Every handler replies exactly once.
 */
#ifndef IOMAPFS_OPS_XATTR_H
#define IOMAPFS_OPS_XATTR_H

#include "fs.h"

void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		 const char *value, size_t size, int flags);
void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

#endif /* IOMAPFS_OPS_XATTR_H */
