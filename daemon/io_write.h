/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * io_write.h - WRITE of regular files (io_write.c), and the move of inline
 * data to blocks that fallocate needs too.
 */
#ifndef IOMAPFS_IO_WRITE_H
#define IOMAPFS_IO_WRITE_H

#include "fs.h"

/* FUSE WRITE (write_buf): replies with the bytes written, or an error. */
void op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv,
		  off_t off, struct fuse_file_info *ffi);

/*
 * Move an inline-data inode's contents to blocks (ext4 does this before
 * fallocate and for writes that do not fit).  Call with io_lock exclusive
 * and fs_lock held; @inode is re-read.  Returns 0 or -errno.
 */
int io_inline_to_blocks(struct iomapfs *fsx, struct fs_inode *fi,
			struct ext2_inode_large *inode);

#endif /* IOMAPFS_IO_WRITE_H */
