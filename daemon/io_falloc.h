/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * io_falloc.h - fallocate, truncate, lseek, flush and fsync of regular
 * files (io_falloc.c).
 */
#ifndef IOMAPFS_IO_FALLOC_H
#define IOMAPFS_IO_FALLOC_H

#include "fs.h"

void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
		  off_t length, struct fuse_file_info *ffi);
void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
	      struct fuse_file_info *ffi);
void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *ffi);
void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
	      struct fuse_file_info *ffi);

/*
 * Set the size of @fi to @size: free the blocks past it, zero the tail of
 * the last block on the device, write i_size, and invalidate [size, EOF)
 * (CACHE_R_TRUNCATE) before returning.  Growing just sets the size (the
 * new range is a hole).  Call with fi->io_lock held exclusive and fs_lock
 * not held.  Used by setattr(size) and open(O_TRUNC).  Returns 0 or -errno.
 */
int io_truncate(struct iomapfs *fsx, struct fs_inode *fi, uint64_t size);

/*
 * Free the blocks of @fi past its i_size (an orphan whose truncate did not
 * finish before a crash), then take it off the orphan list.  Locks as
 * io_truncate().
 */
int io_truncate_tail(struct iomapfs *fsx, struct fs_inode *fi);

#endif /* IOMAPFS_IO_FALLOC_H */
