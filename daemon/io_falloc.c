// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * io_falloc.c - the operations on the space of a regular file and on its
 * durability: fallocate (preallocation, punch hole, zero range), truncate
 * (setattr and open O_TRUNC), lseek (SEEK_DATA, SEEK_HOLE, SEEK_END),
 * flush and fsync.  Changes run with io_lock exclusive and fs_lock, and
 * invalidate what they change in the iomap cache before they drop them.
 */
#include "config.h"

#include <errno.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ext2map.h"
#include "extent.h"
#include "iflags.h"
#include "io.h"
#include "io_falloc.h"
#include "io_write.h"
#include "orphan.h"
#include "split.h"
#include "killpriv.h"

/* --- fallocate -------------------------------------------------------- */

/* Set ctime (only) of @inode to now, as ext4 does for a fallocate that
 * keeps the size. */
static void io_set_ctime(struct iomapfs *fsx, struct ext2_inode_large *inode)
{
	struct timespec ts;
	int64_t sec;

	fs_now(fsx, &ts);
	sec = (int64_t)ts.tv_sec;
	inode->i_ctime = (uint32_t)sec;
	if (EXT2_INODE_SIZE(fsx->fs->super) > EXT2_GOOD_OLD_INODE_SIZE &&
	    inode->i_extra_isize >=
		    offsetof(struct ext2_inode_large, i_ctime_extra) +
			    sizeof(inode->i_ctime_extra) -
			    EXT2_GOOD_OLD_INODE_SIZE)
		inode->i_ctime_extra =
			(uint32_t)(((sec - (int32_t)sec) >> 32) & 3) |
			((uint32_t)ts.tv_nsec << 2);
}

/* Raise i_size to @nsize (when larger) for a fallocate without KEEP_SIZE. */
static int io_fallocate_size(struct iomapfs *fsx, struct fs_inode *fi,
			     struct ext2_inode_large *inode, uint64_t nsize)
{
	uint64_t size = EXT2_I_SIZE(inode);
	errcode_t err;

	if (nsize <= size)
		return 0;
	err = ext2fs_inode_size_set(fsx->fs, (struct ext2_inode *)inode, nsize);
	if (err)
		return translate_error(fsx, err, fi->ino);
	cache_invalidate(fsx->cache, fi->ino, io_blk_down(fsx, size),
			 UINT64_MAX, CACHE_R_EXTEND);
	fi->size = nsize;
	fi->size_valid = true;
	return 0;
}

/* Default mode and KEEP_SIZE: unwritten extents over [off, off + len). */
static int io_prealloc(struct iomapfs *fsx, struct fs_inode *fi,
		       struct ext2_inode_large *inode, uint64_t off,
		       uint64_t len, bool keep_size)
{
	const uint64_t bs = fsx->blocksize;
	uint64_t b0 = off / bs, b1 = (off + len - 1) / bs;
	errcode_t err;
	int ret, ret2;

	/* journal: in pieces that each fit a transaction (split.h). */
	err = split_alloc(fsx, fi->ino, inode, b0, b1);
	cache_invalidate(fsx->cache, fi->ino, b0 * bs, (b1 - b0 + 1) * bs,
			 CACHE_R_FALLOCATE);
	ret = err ? translate_error(fsx, err, fi->ino) : 0;
	if (!ret && !keep_size)
		ret = io_fallocate_size(fsx, fi, inode, off + len);
	if (!ret && !keep_size) {
		io_touch(fsx, fi);
		ret = fs_inode_sync_times(fsx, fi, inode);
	} else if (!ret && !fsx->writeback) {
		io_set_ctime(fsx, inode); /* see io_touch() */
	}
	/* i_blocks moved in our copy even when the allocation failed. */
	ret2 = fs_write_inode(fsx, fi->ino, inode);
	return ret ? ret : ret2;
}

/*
 * Zero the parts of [off, end) that do not cover whole blocks: the first
 * and the last partial block, where they are MAPPED.
 */
static int io_zero_partial(struct iomapfs *fsx, struct fs_inode *fi,
			   struct ext2_inode_large *inode, uint64_t off,
			   uint64_t end)
{
	uint64_t head_end = io_min(end, io_blk_up(fsx, off));
	int ret = 0;

	if (off % fsx->blocksize)
		ret = io_zero_mapped(fsx, fi, inode, off, head_end);
	if (!ret && end % fsx->blocksize &&
	    io_blk_down(fsx, end) >= io_blk_up(fsx, off))
		ret = io_zero_mapped(fsx, fi, inode, io_blk_down(fsx, end),
				     end);
	return ret;
}

/* PUNCH_HOLE (with KEEP_SIZE): free whole blocks, zero partial ones. */
static int io_punch(struct iomapfs *fsx, struct fs_inode *fi,
		    struct ext2_inode_large *inode, uint64_t off, uint64_t len)
{
	uint64_t size = EXT2_I_SIZE(inode), end, first, last_excl;
	errcode_t err;
	int ret;

	if (off >= size)
		return 0;
	end = io_min(size, off + len);
	first = io_blk_up(fsx, off) / fsx->blocksize;
	/* The EOF block may go whole: its bytes past EOF do not matter. */
	last_excl =
		(end == size ? io_blk_up(fsx, end) : io_blk_down(fsx, end)) /
		fsx->blocksize;
	ret = io_zero_partial(fsx, fi, inode, off,
			      end == size ? io_min(end, first * fsx->blocksize)
					  : end);
	if (ret)
		return ret;
	if (first < last_excl) {
		/* journal: a hole inside the file; each piece leaves a
		 * consistent file, so no orphan is needed (split.h). */
		err = split_punch(fsx, fi->ino, inode, first, last_excl - 1,
				  false);
		cache_invalidate(fsx->cache, fi->ino, first * fsx->blocksize,
				 (last_excl - first) * fsx->blocksize,
				 CACHE_R_PUNCH);
		if (err)
			return translate_error(fsx, err, fi->ino);
	}
	return io_write_touched(fsx, fi, inode);
}

/* ZERO_RANGE: whole blocks become unwritten, partial blocks are zeroed. */
static int io_zero_range(struct iomapfs *fsx, struct fs_inode *fi,
			 struct ext2_inode_large *inode, uint64_t off,
			 uint64_t len, bool keep_size)
{
	const uint64_t bs = fsx->blocksize;
	uint64_t end = off + len, first, last_excl, b0, b1;
	errcode_t err = 0;
	int ret;

	first = io_blk_up(fsx, off) / bs;
	last_excl = io_blk_down(fsx, end) / bs;
	ret = io_zero_partial(fsx, fi, inode, off, end);
	if (ret)
		return ret;
	if (first < last_excl)
		err = split_punch(fsx, fi->ino, inode, first, last_excl - 1,
				  false);
	b0 = off / bs;
	b1 = (end - 1) / bs;
	if (!err)
		err = split_alloc(fsx, fi->ino, inode, b0, b1);
	cache_invalidate(fsx->cache, fi->ino, b0 * bs, (b1 - b0 + 1) * bs,
			 CACHE_R_ZERO);
	ret = err ? translate_error(fsx, err, fi->ino) : 0;
	if (!ret && !keep_size)
		ret = io_fallocate_size(fsx, fi, inode, end);
	if (!ret) {
		io_touch(fsx, fi);
		ret = fs_inode_sync_times(fsx, fi, inode);
	}
	if (!ret)
		ret = fs_write_inode(fsx, fi->ino, inode);
	else
		(void)fs_write_inode(fsx, fi->ino, inode);
	return ret;
}

void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
		  off_t length, struct fuse_file_info *ffi)
{
	struct iomapfs *fsx = req_fs(req);
	struct ext2_inode_large inode;
	const int known = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE |
			  FALLOC_FL_ZERO_RANGE;
	uint64_t off = (uint64_t)offset, len = (uint64_t)length;
	struct fs_inode *fi;
	bool ref, keep = mode & FALLOC_FL_KEEP_SIZE, mode_changed = false;
	int ret;

	/* COLLAPSE_RANGE and INSERT_RANGE never get here: the kernel's FUSE
	 * module refuses every mode but KEEP_SIZE, PUNCH_HOLE and ZERO_RANGE
	 * with EOPNOTSUPP itself, so they are not implemented. */
	if (mode & ~known) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	if ((mode & FALLOC_FL_PUNCH_HOLE) &&
	    (!keep || (mode & FALLOC_FL_ZERO_RANGE))) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	if (offset < 0 || length <= 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (fs_is_ro(fsx)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	fi = io_get(req, ino, ffi, &ref);
	if (!fi)
		return;
	io_wrlock(fi);
	fs_lock(fsx);
	ret = io_load_nocache(fsx, fi, &inode);
	if (ret)
		goto out_unlock;
	if (!LINUX_S_ISREG(inode.i_mode)) {
		ret = -ENODEV;
		goto out_unlock;
	}
	ret = iflags_may_fallocate(&inode, mode);
	if (ret)
		goto out_unlock;
	/* As ext4: every mode clears the bits a write clears. */
	ret = killpriv_write_locked(fsx, req, fi, &inode);
	if (ret < 0)
		goto out_unlock;
	mode_changed = ret;
	if (!(mode & FALLOC_FL_PUNCH_HOLE) &&
	    off + len > iomap_ext2_max_bytes(fsx->fs,
					     (struct ext2_inode *)&inode)) {
		ret = -EFBIG;
		goto out_unlock;
	}
	if (inode.i_flags & EXT4_INLINE_DATA_FL) {
		ret = io_inline_to_blocks(fsx, fi, &inode);
		if (ret)
			goto out_unlock;
	}
	if (mode & FALLOC_FL_PUNCH_HOLE) {
		ret = io_punch(fsx, fi, &inode, off, len);
	} else if (!(inode.i_flags & EXT4_EXTENTS_FL)) {
		/* As ext4: no preallocation for block-mapped files. */
		ret = -EOPNOTSUPP;
	} else if (mode & FALLOC_FL_ZERO_RANGE) {
		ret = io_zero_range(fsx, fi, &inode, off, len, keep);
	} else {
		ret = io_prealloc(fsx, fi, &inode, off, len, keep);
		/* journal: once more after the freed blocks committed. */
		if (ret == -ENOSPC && fs_retry_enospc(fsx)) {
			ret = fs_read_inode(fsx, fi->ino, &inode);
			if (!ret)
				ret = io_prealloc(fsx, fi, &inode, off, len,
						  keep);
		}
	}
out_unlock:
	fs_unlock(fsx);
	io_unlock(fi);
	if (mode_changed)
		killpriv_tell_kernel(fsx, fi->ino);
	io_put(fsx, fi, ref);
	fuse_reply_err(req, -ret);
}

/* --- lseek ------------------------------------------------------------ */

/*
 * SEEK_DATA / SEEK_HOLE from the mappings on disk (a report: it never
 * fills the cache).  UNWRITTEN counts as a hole, as in ext4.  Call with
 * io_lock shared and fi->size valid.
 */
static int io_seek_data_hole(struct iomapfs *fsx, struct fs_inode *fi,
			     uint64_t off, int whence, uint64_t *result)
{
	struct ext2_inode_large inode;
	struct iomap m;
	uint64_t pos = off, size = fi->size;
	bool data;
	int ret;

	if (off >= size)
		return -ENXIO;
	fs_lock(fsx);
	ret = fs_read_inode(fsx, fi->ino, &inode);
	while (!ret && pos < size) {
		ret = io_map_disk(fsx, fi, &inode, pos, &m);
		if (ret)
			break;
		data = m.type == IOMAP_MAPPED || m.type == IOMAP_INLINE ||
		       m.type == IOMAP_DELALLOC;
		if (data == (whence == SEEK_DATA))
			break;
		pos = io_map_end(&m);
	}
	fs_unlock(fsx);
	if (ret)
		return ret;
	if (pos >= size) {
		if (whence == SEEK_DATA)
			return -ENXIO;
		pos = size;
	}
	*result = pos;
	return 0;
}

void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
	      struct fuse_file_info *ffi)
{
	struct iomapfs *fsx = req_fs(req);
	struct fs_inode *fi;
	uint64_t res = 0;
	bool ref;
	int ret;

	switch (whence) {
	case SEEK_SET:
		if (off < 0)
			fuse_reply_err(req, EINVAL);
		else
			fuse_reply_lseek(req, off);
		return;
	case SEEK_END:
	case SEEK_DATA:
	case SEEK_HOLE:
		break;
	default:
		/* SEEK_CUR: the position is the kernel's, not ours. */
		fuse_reply_err(req, EINVAL);
		return;
	}
	fi = io_get_sized(req, ino, ffi, &ref, &ret);
	if (!fi)
		return;
	if (ret)
		goto out_unlock;
	if (whence == SEEK_END) {
		if (off < 0 && (uint64_t)-off > fi->size)
			ret = -EINVAL;
		else if (off > 0 && (uint64_t)off > INT64_MAX - fi->size)
			ret = -EOVERFLOW;
		else
			res = fi->size + (uint64_t)off;
	} else if (off < 0) {
		ret = -ENXIO;
	} else {
		ret = io_seek_data_hole(fsx, fi, (uint64_t)off, whence, &res);
	}
out_unlock:
	io_unlock(fi);
	io_put(fsx, fi, ref);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_lseek(req, (off_t)res);
}

/* --- flush and fsync -------------------------------------------------- */

/*
 * Write the timestamps lock-free overwrites of the file left pending
 * (not for fdatasync with the journal: they alone need no commit), and
 * the size appends left pending (fs_inode_grow(): fdatasync too), and,
 * for fsync and fdatasync (@sync), make the file durable: the data went to
 * the device with pwrite before each write was answered, so what remains
 * is its metadata, then the device's cache.
 *
 * Ordering (journal): fs_sync_inode() commits the running transaction
 * when it changed the inode; the flush before the commit block (R2 in
 * journal.h) makes every pwrite() before it durable too, data before the
 * metadata that links it in.  When no commit is needed, the inode's
 * metadata is durable already (an earlier commit holds it) and only the
 * data may sit in the device's cache: an fdatasync of the device, after
 * fs_lock is dropped.  After the journal failed, fsync fails with EIO,
 * also on a mount that turned read-only: no fsync may look successful
 * when its commit did not happen.  Replies.
 */
static void io_sync(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *ffi,
		    bool sync, bool datasync)
{
	struct iomapfs *fsx = req_fs(req);
	bool need_datasync = false;
	struct fs_inode *fi;
	bool ref;
	int ret = 0;

	fi = io_get(req, ino, ffi, &ref);
	if (!fi)
		return;
	if (!fs_is_ro(fsx) || (sync && fsx->journal)) {
		fs_lock(fsx);
		if (!fs_is_ro(fsx) &&
		    (!datasync || !fsx->journal || fs_inode_size_pending(fi)))
			ret = fs_inode_sync_times(fsx, fi, NULL);
		if (!ret && sync)
			ret = fs_sync_inode(fsx, fi->ino, datasync,
					    &need_datasync);
		fs_unlock(fsx);
		if (!ret && need_datasync)
			ret = fs_dev_flush(fsx); /* none with nobarrier */
	}
	io_put(fsx, fi, ref);
	fuse_reply_err(req, -ret);
}

void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *ffi)
{
	/*
	 * Without the write-back cache no FLUSH comes (FOPEN_NOFLUSH).  With
	 * it the kernel sends one at every close, after it wrote the file's
	 * pages back and sent its times: nothing is left for us (a size an
	 * append left pending is written at release).  ENOSYS makes the
	 * kernel stop sending FLUSH on this mount: a round trip less per
	 * close(2), with the write-back at close kept.
	 */
	if (req_fs(req)->writeback) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	io_sync(req, ino, ffi, false, false);
}

void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
	      struct fuse_file_info *ffi)
{
	io_sync(req, ino, ffi, true, datasync);
}

/* --- truncate --------------------------------------------------------- */

/* Truncate an inline-data inode: the bytes past the new size are cleared
 * so that growing it again reads zeroes. */
static int io_truncate_inline(struct iomapfs *fsx, struct fs_inode *fi,
			      struct ext2_inode_large *inode, uint64_t size)
{
	uint64_t old = EXT2_I_SIZE(inode);
	size_t cap = 0;
	errcode_t err;
	char *buf;
	int ret;

	if (size < old) {
		ret = io_inline_get(fsx, fi, inode, 0, &buf, &cap);
		if (ret)
			return ret;
		if (size < cap)
			memset(buf + size, 0, cap - (size_t)size);
		ret = io_inline_put(fsx, fi, inode, buf, cap);
		free(buf);
		if (ret)
			return ret > 0 ? -EIO : ret; /* shorter data fits */
	}
	err = ext2fs_inode_size_set(fsx->fs, (struct ext2_inode *)inode, size);
	if (err)
		return translate_error(fsx, err, fi->ino);
	return fs_write_inode(fsx, fi->ino, inode);
}

/*
 * io_truncate() and io_truncate_tail(): with @tail, the size stays and
 * only the blocks past it go (an orphan's truncate a crash cut short).
 */
static int io_truncate_common(struct iomapfs *fsx, struct fs_inode *fi,
			      uint64_t size, bool tail)
{
	struct ext2_inode_large inode;
	uint64_t old, bs = fsx->blocksize;
	errcode_t err;
	int ret;

	if (fs_is_ro(fsx))
		return -EROFS;
	fs_lock(fsx);
	ret = io_load_nocache(fsx, fi, &inode);
	if (ret)
		goto out_unlock;
	old = EXT2_I_SIZE(&inode);
	if (tail)
		size = old;
	if (size > iomap_ext2_max_bytes(fsx->fs, (struct ext2_inode *)&inode)) {
		ret = -EFBIG;
		goto out_unlock;
	}
	if (inode.i_flags & EXT4_INLINE_DATA_FL) {
		ret = io_truncate_inline(fsx, fi, &inode, size);
		if (!ret)
			ret = orphan_del(fsx, fi->ino, NULL);
		goto out_invalidate;
	}
	if (size < old || tail) {
		/* Zero the tail of the new last block before its blocks past
		 * go, so a later extension reads zeroes there. */
		if (size % bs && !tail) {
			ret = io_zero_mapped(fsx, fi, &inode, size,
					     io_blk_up(fsx, size));
			if (ret)
				goto out_unlock;
		}
		/*
		 * journal: the new size first.  Should the blocks take more
		 * than one transaction, split_punch() puts the inode on the
		 * orphan list with this size in the first, and a crash
		 * between two pieces leaves the rest to the next mount
		 * (which cuts an orphan back to its i_size).
		 */
		err = ext2fs_inode_size_set(fsx->fs,
					    (struct ext2_inode *)&inode, size);
		if (!err)
			err = split_punch(fsx, fi->ino, &inode,
					  io_blk_up(fsx, size) / bs, ~0ULL,
					  true);
		if (err) {
			ret = translate_error(fsx, err, fi->ino);
			goto out_invalidate;
		}
	} else if (size > old && old % bs) {
		/* The old EOF block's tail becomes part of the file. */
		ret = io_zero_mapped(fsx, fi, &inode, old, io_blk_up(fsx, old));
		if (ret)
			goto out_unlock;
	}
	err = ext2fs_inode_size_set(fsx->fs, (struct ext2_inode *)&inode, size);
	if (err) {
		ret = translate_error(fsx, err, fi->ino);
		goto out_invalidate;
	}
	/* journal: off the orphan list with the last change. */
	ret = orphan_del(fsx, fi->ino, &inode);
	if (!ret)
		ret = fs_write_inode(fsx, fi->ino, &inode);
out_invalidate:
	/* Before anyone can see the new size or a freed block. */
	cache_invalidate(fsx->cache, fi->ino,
			 io_blk_down(fsx, io_min(old, size)), UINT64_MAX,
			 CACHE_R_TRUNCATE);
	if (!ret) {
		fi->size = size;
		fi->size_valid = true;
	} else {
		fi->size_valid = false;
	}
out_unlock:
	fs_unlock(fsx);
	return ret;
}

int io_truncate(struct iomapfs *fsx, struct fs_inode *fi, uint64_t size)
{
	return io_truncate_common(fsx, fi, size, false);
}

int io_truncate_tail(struct iomapfs *fsx, struct fs_inode *fi)
{
	return io_truncate_common(fsx, fi, 0, true);
}
