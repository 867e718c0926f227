/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * io_read.h - READ of regular files (io_read.c).
 */
#ifndef IOMAPFS_IO_READ_H
#define IOMAPFS_IO_READ_H

#include "fs.h"

/* FUSE READ: replies with the data, zeroes past holes, or an error. */
void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	     struct fuse_file_info *ffi);

#endif /* IOMAPFS_IO_READ_H */
