/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * io.h - the data path: read, write, fallocate, lseek, flush and fsync of
 * regular files, through the iomap cache and direct I/O on the device.
 *
 * File handles: fuse_file_info.fh of a regular file holds the
 * struct fs_inode * that open/create referenced with fs_inode_get(); it is
 * dropped by release.
 *
 * Write ordering for writes into holes, unwritten ranges or past EOF (the
 * iomap ioend order): with io_lock exclusive and fs_lock held, allocate
 * (unwritten first), write the data, convert to written, update the size,
 * then invalidate the range in the cache.  No reader ever sees stale block
 * contents.
 */
#ifndef IOMAPFS_IO_H
#define IOMAPFS_IO_H

#include "fs.h"

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	     struct fuse_file_info *fi);
void op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv,
		  off_t off, struct fuse_file_info *fi);
void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
		  off_t length, struct fuse_file_info *fi);
void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
	      struct fuse_file_info *fi);
void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
	      struct fuse_file_info *fi);

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

/*
 * Free every block of inode @ino (last link gone, last handle closed) and
 * forget it in the cache (CACHE_R_UNLINK).  Call with fs_lock held; the
 * caller then frees the inode itself.
 */
int io_release_blocks(struct iomapfs *fsx, ext2_ino_t ino,
		      struct ext2_inode_large *inode);

#endif /* IOMAPFS_IO_H */
