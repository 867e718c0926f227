/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ops_open.h - the FUSE operations that open and close regular files
 * (ops_open.c): open, create, release, and tmpfile with a libfuse that
 * has it.  Every handler replies exactly
 * once.
 */
#ifndef IOMAPFS_OPS_OPEN_H
#define IOMAPFS_OPS_OPEN_H

#include "fs.h"

void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *ffi);
void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       struct fuse_file_info *ffi);
void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *ffi);
#ifdef HAVE_STRUCT_FUSE_LOWLEVEL_OPS_TMPFILE
/* O_TMPFILE, where libfuse has the operation (configure checks). */
void op_tmpfile(fuse_req_t req, fuse_ino_t parent, mode_t mode,
		struct fuse_file_info *ffi);
#endif

#endif /* IOMAPFS_OPS_OPEN_H */
