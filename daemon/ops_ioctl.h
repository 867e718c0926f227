/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ops_ioctl.h - the FUSE ioctl operation (ops_ioctl.c): file attributes,
 * the filesystem's shutdown and FITRIM, as ext4 answers them; and bmap,
 * the kernel's FIBMAP on a fuseblk mount.
 */
#ifndef IOMAPFS_OPS_IOCTL_H
#define IOMAPFS_OPS_IOCTL_H

#include "fs.h"

void op_ioctl(fuse_req_t req, fuse_ino_t nodeid, unsigned int cmd, void *arg,
	      struct fuse_file_info *ffi, unsigned int flags,
	      const void *in_buf, size_t in_bufsz, size_t out_bufsz);

/* FIBMAP of a fuseblk mount: a report from the mapping source. */
void op_bmap(fuse_req_t req, fuse_ino_t nodeid, size_t blocksize,
	     uint64_t idx);

#endif /* IOMAPFS_OPS_IOCTL_H */
