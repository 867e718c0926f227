/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ops_dir.h - the FUSE operations on directory handles (ops_dir.c):
 * opendir, readdir, readdirplus, releasedir and fsyncdir.  Every handler
 * replies exactly once.
 */
#ifndef IOMAPFS_OPS_DIR_H
#define IOMAPFS_OPS_DIR_H

#include "fs.h"

void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *ffi);
void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *ffi);
void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *ffi);
void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *ffi);
void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		 struct fuse_file_info *ffi);

/*
 * Free the directory handles the kernel never released (it drops queued
 * RELEASEDIRs at unmount).  Only once no request runs any more.
 */
void ops_dir_free_all(void);

#endif /* IOMAPFS_OPS_DIR_H */
