/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ops_open.h - the FUSE operations that open and close regular files
 * (ops_open.c): open, create and release.  Every handler replies exactly
 * once.
 */
#ifndef IOMAPFS_OPS_OPEN_H
#define IOMAPFS_OPS_OPEN_H

#include "fs.h"

void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *ffi);
void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       struct fuse_file_info *ffi);
void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *ffi);

#endif /* IOMAPFS_OPS_OPEN_H */
