/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * io.h - the shared core of the data path (io.c), for its three rooms:
 * reads (io_read.h), writes (io_write.h), and fallocate, truncate, lseek,
 * flush and fsync (io_falloc.h).  The FUSE operations table and the
 * metadata operations include those, not this.
 *
 * File handles: fuse_file_info.fh of a regular file holds the
 * struct fs_inode * that open/create referenced with fs_inode_get(); it is
 * dropped by release.
 *
 * Locks: io_lock of the inode shared for reads and for overwrites of
 * MAPPED ranges inside i_size; exclusive, with fs_lock, for everything
 * that changes a mapping or the size.  Each function says what it needs.
 */
#ifndef IOMAPFS_IO_H
#define IOMAPFS_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "fs.h"

/* Zeroes for holes in replies and for zeroing parts of blocks on the
 * device: IO_ZERO_CHUNK bytes, never written. */
#define IO_ZERO_CHUNK (256u * 1024u)
extern char io_zeroes[IO_ZERO_CHUNK];

static inline uint64_t io_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline uint64_t io_max(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* End of @m as an exclusive bound, saturating at UINT64_MAX. */
static inline uint64_t io_map_end(const struct iomap *m)
{
	uint64_t last = iomap_last(m);

	return last == UINT64_MAX ? UINT64_MAX : last + 1;
}

/* Round @x down / up to a multiple of the block size. */
static inline uint64_t io_blk_down(struct iomapfs *fsx, uint64_t x)
{
	return x - x % fsx->blocksize;
}

static inline uint64_t io_blk_up(struct iomapfs *fsx, uint64_t x)
{
	uint64_t r = x % fsx->blocksize;

	return r ? x + (fsx->blocksize - r) : x;
}

static inline void io_rdlock(struct fs_inode *fi)
{
	pthread_rwlock_rdlock(&fi->io_lock);
}

static inline void io_wrlock(struct fs_inode *fi)
{
	pthread_rwlock_wrlock(&fi->io_lock);
}

static inline void io_unlock(struct fs_inode *fi)
{
	pthread_rwlock_unlock(&fi->io_lock);
}

/*
 * The inode an operation works on: the file handle's, or (no handle, which
 * the kernel does not send for these operations, but cheap to allow) a new
 * reference that the caller drops with io_put().  NULL when out of memory,
 * once @req has been answered with ENOMEM.
 */
struct fs_inode *io_get(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *ffi, bool *ref);
void io_put(struct iomapfs *fsx, struct fs_inode *fi, bool ref);

/*
 * io_get(), then io_lock shared and fi->size valid, as every operation
 * that judges an offset by the size begins (read, write, lseek): *ret is
 * 0 or -errno, and io_lock is held either way (the caller unlocks, then
 * io_put()s).  NULL as io_get(), with @req answered.
 */
static inline struct fs_inode *io_get_sized(fuse_req_t req, fuse_ino_t ino,
					    struct fuse_file_info *ffi,
					    bool *ref, int *ret)
{
	struct fs_inode *fi = io_get(req, ino, ffi, ref);

	if (!fi)
		return NULL;
	io_rdlock(fi);
	*ret = fs_inode_load_size(req_fs(req), fi);
	return fi;
}

/*
 * Write @len bytes at device byte address @addr: from @buf, or zeroes when
 * @buf is NULL.  Retries short writes.  Returns 0 or -errno (-EIO for a
 * write that makes no progress).
 */
int io_dev_write(struct iomapfs *fsx, const void *buf, uint64_t len,
		 uint64_t addr);

/*
 * Write the next @len bytes of @src at device byte address @addr, and
 * advance @src past them.  @src is the request's data as libfuse hands it
 * over: memory, or a pipe that the kernel spliced the request into, in
 * which case the data moves from the pipe to the device without a copy
 * through our memory.  Returns 0 or -errno (-EIO when @src runs short).
 */
int io_dev_write_buf(struct iomapfs *fsx, struct fuse_bufvec *src, uint64_t len,
		     uint64_t addr);

/*
 * A data change moves mtime and ctime, unless the kernel's write-back
 * cache is on: the kernel then owns the times of regular files and sends
 * them in a setattr; any we set would differ from what stat shows
 * through the mount.
 */
static inline void io_touch(struct iomapfs *fsx, struct fs_inode *fi)
{
	if (!fsx->writeback)
		fs_inode_touch(fsx, fi);
}

/*
 * The mapping of file byte @off from disk (not through the cache: the
 * caller is about to change it or reports it).  Call with fs_lock held.
 * Returns 0 or -errno.
 */
int io_map_disk(struct iomapfs *fsx, struct fs_inode *fi,
		struct ext2_inode_large *inode, uint64_t off, struct iomap *m);

/*
 * Zero bytes [start, end) of the file on the device, where they are
 * MAPPED.  Holes and unwritten ranges already read as zeroes.  Call with
 * fs_lock held and io_lock exclusive.  Returns 0 or -errno.
 */
int io_zero_mapped(struct iomapfs *fsx, struct fs_inode *fi,
		   struct ext2_inode_large *inode, uint64_t start,
		   uint64_t end);

/*
 * Read the inline data of @fi into a new buffer of at least @min bytes,
 * zero-filled past the data.  Sets *len to the inline data size.  Call with
 * fs_lock held.  Returns 0 or -errno.
 */
int io_inline_get(struct iomapfs *fsx, struct fs_inode *fi,
		  struct ext2_inode_large *inode, size_t min, char **out,
		  size_t *len);

/*
 * Store @len bytes of @buf as the inline data of @fi, and read @inode
 * again: the system.data attribute lives in the inode body, and the
 * caller's copy must not be written back over it.  Call with fs_lock
 * held.  Returns 0, 1 when the data does not fit inline (nothing changed),
 * or -errno.
 */
int io_inline_put(struct iomapfs *fsx, struct fs_inode *fi,
		  struct ext2_inode_large *inode, char *buf, size_t len);

/*
 * Keep libext2fs's block cache off before blocks change owner
 * (extent_nocache()).  Call with fs_lock held.  Returns 0 or -errno.
 */
int io_ext2_nocache(struct iomapfs *fsx, ext2_ino_t ino);

/*
 * The inode of @fi as an operation that changes its mapping reads it:
 * libext2fs's extent cache dropped (io_ext2_nocache()), then the inode
 * with what @fi keeps pending written (fs_load_inode()).  fs_lock held.
 */
static inline int io_load_nocache(struct iomapfs *fsx, struct fs_inode *fi,
				  struct ext2_inode_large *inode)
{
	int ret = io_ext2_nocache(fsx, fi->ino);

	return ret ? ret : fs_load_inode(fsx, fi->ino, inode);
}

/*
 * A change of @fi's data: the times move (io_touch()), and @inode is
 * written with them.  fs_lock held.
 */
static inline int io_write_touched(struct iomapfs *fsx, struct fs_inode *fi,
				   struct ext2_inode_large *inode)
{
	int ret;

	io_touch(fsx, fi);
	ret = fs_inode_sync_times(fsx, fi, inode);
	return ret ? ret : fs_write_inode(fsx, fi->ino, inode);
}

#endif /* IOMAPFS_IO_H */
