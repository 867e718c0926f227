// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs-stubs.c - the few functions of the daemon's fs.c that the control
 * server's filesystem side (daemon/fs_report.c) and the directory index
 * (daemon/dirindex.c) call, and the mapping source the cache is filled
 * from, for the programs that run them without a mount: the protocol
 * tests' t/helper/ctl-server and the control fuzzer t/fuzz/fuzz-ctl.  They
 * go straight to libext2fs, under the same fs_lock.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

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

/* As fs.c's: the cache's source of mappings. */
int fs_map_source(void *arg, uint64_t ino, uint64_t off, struct iomap *out)
{
	struct iomapfs *fsx = arg;
	int ret;

	if (ino == 0 || ino > UINT32_MAX)
		return -EINVAL;
	fs_lock(fsx);
	ret = iomap_ext2_lookup(fsx->fs, (ext2_ino_t)ino, off, out);
	fs_unlock(fsx);
	return ret;
}

/* As fs.c's, less the timestamps of in-memory inodes (there are none). */
int fs_flush_all(struct iomapfs *fsx)
{
	errcode_t err;

	if (!(fsx->fs->flags & EXT2_FLAG_RW) || fsx->ro_now)
		return 0;
	err = ext2fs_flush2(fsx->fs, 0);
	if (err)
		return iomap_ext2_errno(err);
	return fsx->dev_fd >= 0 && fdatasync(fsx->dev_fd) < 0 ? -errno : 0;
}

/* No journal here (the server opens its image without one). */
int fs_journal_pause(struct iomapfs *fsx)
{
	(void)fsx;
	return 0;
}

int fs_journal_resume(struct iomapfs *fsx)
{
	(void)fsx;
	return 0;
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
