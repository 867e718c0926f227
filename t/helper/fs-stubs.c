// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs-stubs.c - the few functions of the daemon's fs.c that the control
 * server (daemon/ctl.c) and the directory index (daemon/dirindex.c) call,
 * for the programs that run them without a mount: the protocol tests'
 * t/helper/ctl-server and the control fuzzer t/fuzz/fuzz-ctl.  They go
 * straight to libext2fs, under the same fs_lock.
 */
#include "config.h"

#include "ext2map.h"
#include "fs.h"

void fs_lock(struct iomapfs *fsx)
{
	pthread_mutex_lock(&fsx->fs_lock);
}

void fs_unlock(struct iomapfs *fsx)
{
	pthread_mutex_unlock(&fsx->fs_lock);
}

int fs_read_inode(struct iomapfs *fsx, ext2_ino_t ino,
		  struct ext2_inode_large *inode)
{
	return iomap_ext2_errno(ext2fs_read_inode_full(
		fsx->fs, ino, EXT2_INODE(inode), sizeof(*inode)));
}

/* No error policy here: just the errno. */
int translate_error_at(struct iomapfs *fsx, errcode_t err, ext2_ino_t ino,
		       const char *file, int line)
{
	(void)fsx;
	(void)ino;
	(void)file;
	(void)line;
	return iomap_ext2_errno(err);
}
