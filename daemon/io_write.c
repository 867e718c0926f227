// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * io_write.c - WRITE of regular files.  The fast path: an overwrite inside
 * i_size of MAPPED ranges only goes to the device under io_lock shared,
 * with no global lock, so overwrites of one file run in parallel.
 * Everything else (holes, unwritten ranges, past EOF, inline data) takes
 * io_lock exclusive and fs_lock: allocate, write, convert, raise the size,
 * invalidate (see io.c).  Inline data is written in the inode while it
 * fits, and moved to blocks when it no longer does.
 *
 * Direct writes and cached pages
 * ------------------------------
 * O_DIRECT handles are in the kernel's direct-I/O mode (FOPEN_DIRECT_IO,
 * with parallel direct writes: see open in ops_inode.c), other handles in
 * its cached mode, where the kernel keeps the file's pages and mappings
 * show them.  A direct write goes around those pages, and must not leave
 * them older than the data it wrote: ext4 invalidates the page cache over
 * a direct write once it completed.  The kernel's FUSE does the same after
 * a synchronous direct write, in the writer's own context (Linux 6.19,
 * commit b359af8275a9, "fuse: Invalidate the page cache after
 * FOPEN_DIRECT_IO write", also in 6.18.y and 6.12.y: on a kernel without
 * it even synchronous direct writes leave stale pages behind), and a
 * cached-mode O_DIRECT write goes through generic_file_direct_write(),
 * which does it too.  For
 * asynchronous direct I/O (FUSE_CAP_ASYNC_DIO) it invalidates when the
 * requests are sent, not when they complete, so a buffered reader could
 * cache the old data again while the write is in flight and keep seeing
 * it after the write completed (t2230 saw that within a second).  So
 * op_init() turns FUSE_CAP_ASYNC_DIO off: io_submit() of an O_DIRECT
 * request then waits for it, and the kernel invalidates after it.  The
 * cost is that one AIO context no longer has several direct requests of
 * one file in flight; parallel direct writes from several threads or
 * processes (FOPEN_PARALLEL_DIRECT_WRITES), and this file's lock-free
 * overwrites, are untouched.
 *
 * Why we do not invalidate from here instead, with
 * fuse_lowlevel_notify_inval_inode() over the written range before the
 * reply: invalidating waits for the lock of every page in the range, and
 * a reader's readahead holds those locks while its READ waits to be sent.
 * An asynchronous direct write holds one of the kernel's background
 * request slots (max_background) until we answer it; with the slots all
 * taken by writes whose answers wait for the invalidation, the readahead
 * never gets a slot for its READ, and nothing moves again.  That is not a
 * guess: it hung t2230 (the writer and a readahead asleep in
 * fuse_get_req(), our notification in __folio_lock()), even with the
 * notification sent from a thread of its own, outside every lock, and only
 * for files that had buffered openers.  No answer to a write may wait for
 * a page lock, so the invalidation has to come from the writer's side.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ext2map.h"
#include "extent.h"
#include "iflags.h"
#include "io.h"
#include "io_write.h"
#include "killpriv.h"

/* Largest number of mappings one fast-path overwrite handles before it
 * gives up and takes the slow path (a very fragmented range). */
#define IO_FAST_SEGS 64

/* A byte range on the device to convert from unwritten to written. */
struct io_seg {
	uint64_t lblk;	/* first file block */
	uint64_t pblk;	/* its device block */
	uint64_t count; /* blocks */
};

/* A growable list of io_seg. */
struct io_segs {
	struct io_seg *v;
	size_t n;
	size_t cap;
};

static int io_segs_add(struct io_segs *s, uint64_t lblk, uint64_t pblk,
		       uint64_t count)
{
	struct io_seg *nv;
	size_t ncap;

	if (s->n && s->v[s->n - 1].lblk + s->v[s->n - 1].count == lblk &&
	    s->v[s->n - 1].pblk + s->v[s->n - 1].count == pblk) {
		s->v[s->n - 1].count += count;
		return 0;
	}
	if (s->n == s->cap) {
		ncap = s->cap ? s->cap * 2 : 8;
		nv = realloc(s->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n].lblk = lblk;
	s->v[s->n].pblk = pblk;
	s->v[s->n].count = count;
	s->n++;
	return 0;
}

/*
 * The fast path: a write that ends at or before @limit and lies only on
 * MAPPED ranges goes straight to the device.  For an overwrite @limit is
 * i_size, and io_lock shared is enough; for an append inside the last
 * block (io_write_append()) it is the end of that block.  Returns 1 when
 * it wrote everything, 0 when the write needs the slow path (nothing was
 * written), or -errno.
 */
static int io_write_fast(struct iomapfs *fsx, struct fs_inode *fi,
			 struct fuse_bufvec *bufv, uint64_t off, size_t len,
			 uint64_t limit)
{
	struct iomap segs[IO_FAST_SEGS];
	struct fuse_bufvec dst;
	uint64_t pos = off, end = off + len, seg_end, seg_len;
	size_t n = 0, i;
	ssize_t w;
	int ret;

	if (end > limit)
		return 0;
	while (pos < end) {
		if (n == IO_FAST_SEGS)
			return 0;
		ret = cache_lookup(fsx->cache, fi->ino, pos, &segs[n]);
		if (ret)
			return ret;
		if (segs[n].type != IOMAP_MAPPED)
			return 0;
		if (segs[n].offset > pos || iomap_last(&segs[n]) < pos)
			return -EIO;
		pos = io_min(io_map_end(&segs[n]), end);
		n++;
	}
	/* Every byte is MAPPED and io_lock shared keeps it so: write. */
	pos = off;
	for (i = 0; i < n; i++) {
		seg_end = io_min(io_map_end(&segs[i]), end);
		seg_len = seg_end - pos;
		dst = FUSE_BUFVEC_INIT((size_t)seg_len);
		dst.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		dst.buf[0].fd = fsx->dev_fd;
		dst.buf[0].pos = (off_t)(segs[i].addr + (pos - segs[i].offset));
		w = fuse_buf_copy(&dst, bufv, 0);
		if (w < 0)
			return (int)w;
		if ((uint64_t)w != seg_len)
			return -EIO;
		pos = seg_end;
	}
	io_touch(fsx, fi);
	return 1;
}

/*
 * An append that ends inside the file's last block, which is MAPPED: only
 * i_size changes, and not a mapping (the block stays, and so does EOF
 * rounded up to a block, on which the LAST flag depends: nothing to
 * invalidate).  The data goes to the device as an overwrite would; the
 * size is raised in memory and left for the next write of the inode
 * (fs_inode_grow(): fsync, flush, release, a getattr, the next change of
 * the mapping, unmount), so that small appends do not write the inode
 * one by one.  The bytes of the last block past the old size are zeroes
 * (io.c), and [off, end) leaves no gap before them.  A crash before the
 * inode is written loses the appended bytes (the size on disk is the old
 * one), never exposes others: each extension zeroes what lies between the
 * size on disk and the new data (io_write_blocks(), io_truncate()).  Call
 * with io_lock exclusive.  Returns 1 when written, 0 when the slow path
 * must do it (nothing written), or -errno.
 */
static int io_write_append(struct iomapfs *fsx, struct fs_inode *fi,
			   struct fuse_bufvec *bufv, uint64_t off, size_t len)
{
	uint64_t end = off + len;
	int ret;

	if (off > fi->size || end <= fi->size || fi->size % fsx->blocksize == 0)
		return 0;
	ret = io_write_fast(fsx, fi, bufv, off, len, io_blk_up(fsx, fi->size));
	if (ret != 1)
		return ret;
	fi->size = end;
	fs_inode_grow(fi, end);
	return 1;
}

/*
 * The request's data as one memory buffer: the request's own when it is
 * one, else a copy in *owned (freed by the caller).
 */
static int io_buf_mem(struct fuse_bufvec *bufv, size_t len, const char **mem,
		      char **owned)
{
	struct fuse_bufvec dst = FUSE_BUFVEC_INIT(len);
	ssize_t n;

	*owned = NULL;
	if (bufv->count == 1 && bufv->idx == 0 &&
	    !(bufv->buf[0].flags & FUSE_BUF_IS_FD) &&
	    bufv->buf[0].size - bufv->off >= len) {
		*mem = (const char *)bufv->buf[0].mem + bufv->off;
		return 0;
	}
	*owned = malloc(len ? len : 1);
	if (!*owned)
		return -ENOMEM;
	dst.buf[0].mem = *owned;
	n = fuse_buf_copy(&dst, bufv, 0);
	if (n < 0 || (size_t)n != len) {
		free(*owned);
		*owned = NULL;
		return n < 0 ? (int)n : -EIO;
	}
	*mem = *owned;
	return 0;
}

/*
 * Turn an inline-data inode into an empty extent (or block-mapped) inode
 * of the same size, and hand its old contents back in *data (*len bytes,
 * at most i_size) for the caller to write with io_write_blocks().  Done by
 * hand rather than with ext2fs_inline_data_expand(), which writes the data
 * through libext2fs's io_channel and resets i_size.  Call with fs_lock held
 * and io_lock exclusive.
 */
static int io_inline_expand(struct iomapfs *fsx, struct fs_inode *fi,
			    struct ext2_inode_large *inode, char **data,
			    size_t *len)
{
	ext2_extent_handle_t handle;
	uint64_t size = EXT2_I_SIZE(inode);
	size_t cap = 0;
	errcode_t err;
	char *buf = NULL;
	int ret;

	ret = io_inline_get(fsx, fi, inode, 0, &buf, &cap);
	if (ret)
		return ret;
	/* ext2fs_punch() of an inline inode drops the inline data (i_block
	 * and the system.data attribute) and writes the inode. */
	err = ext2fs_punch(fsx->fs, fi->ino, (struct ext2_inode *)inode, NULL,
			   0, ~0ULL); /* inline: nothing to work around */
	if (err)
		goto out_err;
	ret = fs_read_inode(fsx, fi->ino, inode);
	if (ret)
		goto out_free;
	memset(inode->i_block, 0, sizeof(inode->i_block));
	inode->i_flags &= ~(EXT4_INLINE_DATA_FL | EXT4_EXTENTS_FL);
	if (ext2fs_has_feature_extents(fsx->fs->super)) {
		/* Opening a handle on an empty i_block writes an empty
		 * extent header into it and sets EXT4_EXTENTS_FL. */
		err = ext2fs_extent_open2(fsx->fs, fi->ino,
					  (struct ext2_inode *)inode, &handle);
		if (err)
			goto out_err;
		ext2fs_extent_free(handle);
	}
	err = ext2fs_inode_size_set(fsx->fs, (struct ext2_inode *)inode, size);
	if (err)
		goto out_err;
	ret = fs_write_inode(fsx, fi->ino, inode);
	if (ret)
		goto out_free;
	*data = buf;
	*len = (size_t)io_min(cap, size);
	return 0;

out_err:
	ret = translate_error(fsx, err, fi->ino);
out_free:
	free(buf);
	return ret;
}

/* What io_write_blocks() did, for the caller's invalidation. */
struct io_write_result {
	uint64_t written; /* bytes of the request written */
	bool allocated;	  /* holes were filled */
	bool converted;	  /* unwritten extents were converted */
};

/*
 * Allocate, write, convert: the slow path for a block-backed (not inline)
 * inode, in the iomap ioend order.  Writes the first @len bytes of @data
 * (consumed from its start, in order; see io_dev_write_buf()) at @off and
 * raises i_size to cover them; on ENOSPC or EFBIG it writes the longest
 * prefix it can and reports it in res->written (an error only when nothing
 * could be written).  @inode is the caller's copy of the on-disk inode; it
 * is written back.  Call with io_lock exclusive and fs_lock held.
 *
 * Ordered data (journal.h): the whole operation runs in one fs_lock
 * section, so in one transaction, and every commit takes fs_lock: the
 * data written in step 2 is on its way to the device (pwrite) before any
 * commit can include the conversion or the size of step 3 and 4, and the
 * flush before the commit block (R2) makes it durable first.  Step 1's
 * unwritten extents may commit with it too: they read as zeroes.
 * Block-mapped files link their new blocks only in step 3, after the data.
 */
static int io_write_blocks(struct iomapfs *fsx, struct fs_inode *fi,
			   struct ext2_inode_large *inode,
			   struct fuse_bufvec *data, uint64_t len, uint64_t off,
			   struct io_write_result *res)
{
	ext2_filsys fs = fsx->fs;
	const uint64_t bs = fsx->blocksize;
	bool extents = inode->i_flags & EXT4_EXTENTS_FL;
	struct io_segs unwritten = {0};
	struct io_segs fresh = {0}; /* block-mapped: new, not linked */
	ext2_extent_handle_t handle;
	uint64_t size = EXT2_I_SIZE(inode), max, b0, b1, pos, end, seg_end;
	uint64_t cs, ce, done, lblk, addr, goal = 0, i;
	struct iomap m;
	blk64_t pblk;
	errcode_t err = 0;
	bool have_hole = false;
	int ret = 0, alloc_ret = 0;
	size_t s;

	memset(res, 0, sizeof(*res));
	if (len == 0)
		return 0;
	max = iomap_ext2_max_bytes(fs, (struct ext2_inode *)inode);
	if (off >= max)
		return -EFBIG;
	if (len > max - off)
		len = max - off;
	b0 = off / bs;
	b1 = (off + len - 1) / bs;

	/* 0. Is there anything to allocate? */
	for (pos = b0 * bs; pos <= b1 * bs; pos = seg_end) {
		ret = io_map_disk(fsx, fi, inode, pos, &m);
		if (ret)
			return ret;
		seg_end = io_map_end(&m);
		if (m.type == IOMAP_HOLE || m.type == IOMAP_DELALLOC) {
			have_hole = true;
			break;
		}
	}

	/* 1. Allocate.  Extent files: unwritten extents.  Block-mapped
	 * files: blocks taken from the bitmap, linked only in step 3. */
	if (have_hole && extents) {
		err = extent_alloc(fs, fi->ino, (struct ext2_inode *)inode, b0,
				   b1);
		/* i_blocks changed in our copy even on failure. */
		ret = fs_write_inode(fsx, fi->ino, inode);
		if (ret)
			return ret;
		if (err)
			alloc_ret = translate_error(fsx, err, fi->ino);
		res->allocated = true;
	}
	/* Keep the prefix that has blocks behind it. */
	for (pos = b0 * bs; pos <= b1 * bs; pos = seg_end) {
		ret = io_map_disk(fsx, fi, inode, pos, &m);
		if (ret)
			goto out_free;
		seg_end = io_map_end(&m);
		if (m.type != IOMAP_HOLE && m.type != IOMAP_DELALLOC)
			continue;
		if (extents) {
			if (!alloc_ret)
				alloc_ret = -EIO;
			break;
		}
		/* Block-mapped: take a block for each block of the hole. */
		for (lblk = pos / bs; lblk <= b1 && lblk < io_map_end(&m) / bs;
		     lblk++) {
			if (!goal)
				goal = ext2fs_find_inode_goal(
					fs, fi->ino, (struct ext2_inode *)inode,
					lblk);
			err = ext2fs_new_block2(fs, goal, NULL, &pblk);
			if (err) {
				alloc_ret = translate_error(fsx, err, fi->ino);
				pos = lblk * bs;
				break;
			}
			ext2fs_block_alloc_stats2(fs, pblk, +1);
			goal = pblk + 1;
			ret = io_segs_add(&fresh, lblk, pblk, 1);
			if (ret) {
				ext2fs_block_alloc_stats2(fs, pblk, -1);
				goto out_free;
			}
			res->allocated = true;
		}
		if (alloc_ret)
			break;
	}
	if (pos <= b1 * bs) {
		/* Only blocks [b0, pos / bs) are backed. */
		if (pos <= off) {
			ret = alloc_ret;
			goto out_free;
		}
		b1 = pos / bs - 1;
		len = io_min(len, pos - off);
	}
	end = off + len;
	err = 0; /* an allocation failure is in alloc_ret */

	/* Bytes between the old EOF and the write, in the old EOF block,
	 * must read as zeroes once i_size covers them. */
	if (off > size && size % bs) {
		ret = io_zero_mapped(fsx, fi, inode, size,
				     io_min(off, io_blk_up(fsx, size)));
		if (ret)
			goto out_free;
	}

	/* 2. Write the data, and zeroes into the parts of new (unwritten,
	 * or not yet linked) blocks that the write does not cover.  Only the
	 * first and the last block can be partly covered. */
	s = 0;
	for (pos = b0 * bs; pos < end; pos = seg_end) {
		bool is_new;

		if (s < fresh.n && fresh.v[s].lblk * bs == pos) {
			addr = fresh.v[s].pblk * bs;
			seg_end = (fresh.v[s].lblk + fresh.v[s].count) * bs;
			is_new = true;
			s++;
		} else {
			ret = io_map_disk(fsx, fi, inode, pos, &m);
			if (ret)
				goto out_free;
			seg_end = io_min(io_map_end(&m), (b1 + 1) * bs);
			if (s < fresh.n)
				seg_end = io_min(seg_end, fresh.v[s].lblk * bs);
			addr = m.addr + (pos - m.offset);
			if (m.type == IOMAP_MAPPED) {
				is_new = false;
			} else if (m.type == IOMAP_UNWRITTEN) {
				is_new = true;
				ret = io_segs_add(&unwritten, pos / bs,
						  addr / bs,
						  (seg_end - pos) / bs);
				if (ret)
					goto out_free;
			} else {
				ret = -EIO; /* a hole after allocation */
				goto out_free;
			}
		}
		cs = io_max(pos, off);
		ce = io_min(seg_end, end);
		if (is_new) {
			ret = io_dev_write(fsx, NULL, cs - pos, addr);
			if (!ret)
				ret = io_dev_write(fsx, NULL, seg_end - ce,
						   addr + (ce - pos));
			if (ret)
				goto out_free;
		}
		/* cs is where the last data write ended (off at first):
		 * @data is consumed in order. */
		ret = io_dev_write_buf(fsx, data, ce - cs, addr + (cs - pos));
		if (ret)
			goto out_free;
	}

	/* 3. Convert to written (extents) or link the filled blocks
	 * (block-mapped).  A failure part way keeps the converted prefix. */
	done = b1 + 1;
	if (extents && unwritten.n) {
		err = ext2fs_extent_open2(fs, fi->ino,
					  (struct ext2_inode *)inode, &handle);
		if (err) {
			ret = translate_error(fsx, err, fi->ino);
			goto out_free;
		}
		for (s = 0; s < unwritten.n && !err; s++) {
			blk64_t upto;

			err = extent_convert(handle, unwritten.v[s].lblk,
					     unwritten.v[s].lblk +
						     unwritten.v[s].count - 1,
					     &upto);
			if (err)
				done = upto;
		}
		ext2fs_extent_free(handle);
		res->converted = true;
	}
	for (s = 0; s < fresh.n && !err; s++) {
		for (i = 0; i < fresh.v[s].count; i++) {
			pblk = fresh.v[s].pblk + i;
			lblk = fresh.v[s].lblk + i;
			err = ext2fs_bmap2(
				fs, fi->ino, (struct ext2_inode *)inode, NULL,
				BMAP_SET | BMAP_ALLOC, lblk, NULL, &pblk);
			if (!err)
				err = ext2fs_iblk_add_blocks(
					fs, (struct ext2_inode *)inode, 1);
			if (err) {
				done = lblk;
				/* give back the blocks never linked */
				for (; i < fresh.v[s].count; i++)
					ext2fs_block_alloc_stats2(
						fs, fresh.v[s].pblk + i, -1);
				for (s++; s < fresh.n; s++)
					for (i = 0; i < fresh.v[s].count; i++)
						ext2fs_block_alloc_stats2(
							fs, fresh.v[s].pblk + i,
							-1);
				break;
			}
		}
	}
	fresh.n = 0; /* linked or given back */
	if (err) {
		ret = translate_error(fsx, err, fi->ino);
		if (done * bs <= off)
			goto out_write_inode;
		end = io_min(end, done * bs);
		ret = 0;
	}

	/* 4. The size, and the times. */
	if (end > size) {
		err = ext2fs_inode_size_set(fs, (struct ext2_inode *)inode,
					    end);
		if (err) {
			ret = translate_error(fsx, err, fi->ino);
			goto out_write_inode;
		}
	}
	res->written = end - off;
	io_touch(fsx, fi);
	ret = fs_inode_sync_times(fsx, fi, inode);
out_write_inode:
	if (!ret)
		ret = fs_write_inode(fsx, fi->ino, inode);
	else
		(void)fs_write_inode(fsx, fi->ino, inode);
	if (EXT2_I_SIZE(inode) != size) {
		fi->size = EXT2_I_SIZE(inode);
		fi->size_valid = true;
	}
out_free:
	/* Blocks taken but never linked (an error before step 3). */
	for (s = 0; s < fresh.n; s++)
		for (i = 0; i < fresh.v[s].count; i++)
			ext2fs_block_alloc_stats2(fs, fresh.v[s].pblk + i, -1);
	free(fresh.v);
	free(unwritten.v);
	if (!ret && !res->written)
		ret = alloc_ret;
	return ret;
}

/*
 * A write to an inline-data inode that still fits inline.  Returns 1 when
 * it was written inline, 0 when the result does not fit (nothing changed),
 * or -errno.  Call with io_lock exclusive and fs_lock held.
 */
static int io_write_inline(struct iomapfs *fsx, struct fs_inode *fi,
			   struct ext2_inode_large *inode, const char *data,
			   uint64_t len, uint64_t off)
{
	uint64_t size = EXT2_I_SIZE(inode), nsize = io_max(size, off + len);
	size_t cap = 0;
	errcode_t err;
	char *buf;
	int ret;

	if (nsize > fsx->blocksize)
		return 0;
	ret = io_inline_get(fsx, fi, inode, (size_t)nsize, &buf, &cap);
	if (ret)
		return ret;
	/* Bytes past i_size read as zeroes once the size covers them. */
	if (size < nsize)
		memset(buf + size, 0, (size_t)(nsize - size));
	memcpy(buf + off, data, (size_t)len);
	ret = io_inline_put(fsx, fi, inode, buf, (size_t)nsize);
	free(buf);
	if (ret)
		return ret > 0 ? 0 : ret; /* 1: it does not fit */
	err = ext2fs_inode_size_set(fsx->fs, (struct ext2_inode *)inode, nsize);
	if (err)
		return translate_error(fsx, err, fi->ino);
	ret = io_write_touched(fsx, fi, inode);
	if (ret)
		return ret;
	fi->size = nsize;
	fi->size_valid = true;
	return 1;
}

int io_inline_to_blocks(struct iomapfs *fsx, struct fs_inode *fi,
			struct ext2_inode_large *inode)
{
	struct io_write_result res;
	struct fuse_bufvec src;
	size_t len = 0;
	char *old = NULL;
	int ret;

	ret = io_inline_expand(fsx, fi, inode, &old, &len);
	if (ret)
		return ret;
	cache_invalidate(fsx->cache, fi->ino, 0, UINT64_MAX, CACHE_R_WRITE);
	src = FUSE_BUFVEC_INIT(len);
	src.buf[0].mem = old;
	ret = io_write_blocks(fsx, fi, inode, &src, len, 0, &res);
	if (!ret && res.written != len)
		ret = -ENOSPC;
	free(old);
	cache_invalidate(fsx->cache, fi->ino, 0, UINT64_MAX, CACHE_R_WRITE);
	return ret;
}

/*
 * The slow path of a write, with io_lock exclusive and fs_lock held:
 * inline or blocks, then the cache invalidations for what changed.  The
 * data is the first @len bytes of @bufv.  Returns the bytes written
 * (> 0), or -errno.
 */
static int64_t io_write_locked(struct iomapfs *fsx, struct fs_inode *fi,
			       struct fuse_bufvec *bufv, uint64_t len,
			       uint64_t off)
{
	struct ext2_inode_large inode;
	struct io_write_result res = {0};
	struct fuse_bufvec copy;
	uint64_t size, bs = fsx->blocksize;
	const char *mem = NULL;
	char *owned = NULL;
	int ret;

	ret = io_load_nocache(fsx, fi, &inode);
	if (ret)
		return ret;
	size = EXT2_I_SIZE(&inode);
	if (inode.i_flags & EXT4_INLINE_DATA_FL) {
		/* Inline data is edited in memory: take the data out of a
		 * pipe first, and write blocks from that copy if it does not
		 * fit inline. */
		ret = io_buf_mem(bufv, (size_t)len, &mem, &owned);
		if (ret)
			return ret;
		copy = FUSE_BUFVEC_INIT((size_t)len);
		copy.buf[0].mem = (void *)(uintptr_t)mem;
		bufv = &copy;
		ret = io_write_inline(fsx, fi, &inode, mem, len, off);
		if (ret < 0)
			goto out_free;
		if (ret == 1) {
			if (off + len > size)
				cache_invalidate(fsx->cache, fi->ino, 0,
						 UINT64_MAX, CACHE_R_EXTEND);
			free(owned);
			return (int64_t)len;
		}
		ret = io_inline_to_blocks(fsx, fi, &inode);
		if (ret)
			goto out_free;
	}
	ret = io_write_blocks(fsx, fi, &inode, bufv, len, off, &res);
	/* Invalidate whatever may have changed, also after a failure part
	 * way: still under both locks, so before anyone can look. */
	if (res.allocated)
		cache_invalidate(fsx->cache, fi->ino, io_blk_down(fsx, off),
				 io_blk_up(fsx, off + len) -
					 io_blk_down(fsx, off),
				 CACHE_R_WRITE);
	if (res.converted)
		cache_invalidate(fsx->cache, fi->ino, io_blk_down(fsx, off),
				 io_blk_up(fsx, off + len) -
					 io_blk_down(fsx, off),
				 CACHE_R_CONVERT);
	if (fi->size_valid && fi->size > size)
		cache_invalidate(fsx->cache, fi->ino, size - size % bs,
				 UINT64_MAX, CACHE_R_EXTEND);
out_free:
	free(owned);
	if (ret)
		return ret;
	return (int64_t)res.written;
}

/*
 * A write-back WRITE failed (ENOSPC, most likely): the kernel drops those
 * pages and keeps the error for fsync, msync and close, but write(2) went
 * to its page cache and knows nothing, so a program that writes until
 * ENOSPC would write forever.  The kernel asks for a file's size (a
 * GETATTR with the descriptor) before each write(2) whose attributes are
 * stale: the error is kept here, the attributes are made stale, and that
 * GETATTR fails with it (op_getattr(), once), so that the program's next
 * write(2) does.  iomapfs(8) says what is lost.
 */
static void io_write_back_failed(struct iomapfs *fsx, struct fs_inode *fi,
				 int err)
{
	int ret;

	__atomic_store_n(&fi->wb_error, err, __ATOMIC_RELEASE);
	ret = fuse_lowlevel_notify_inval_inode(fsx->se, fs_nodeid(fi->ino), -1,
					       0);
	if (ret && ret != -ENOENT)
		fprintf(stderr,
			"iomapfs: inode %u: cannot make the kernel ask for its "
			"attributes after a failed write-back: %s\n",
			fi->ino, strerror(-ret));
}

void op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv,
		  off_t off, struct fuse_file_info *ffi)
{
	struct iomapfs *fsx = req_fs(req);
	size_t len = fuse_buf_size(bufv);
	struct fs_inode *fi;
	int64_t n;
	bool ref;
	int ret;

	if (fs_is_ro(fsx)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (len == 0) {
		fuse_reply_write(req, 0);
		return;
	}
	if (len > INT64_MAX - (uint64_t)off) {
		fuse_reply_err(req, EFBIG);
		return;
	}
	fi = io_get_sized(req, ino, ffi, &ref, &ret);
	if (!fi)
		return;
	if (!ret)
		ret = iflags_may_write(fi, (uint64_t)off, fi->size);
	/* A write-back WRITE has no caller: see killpriv.c. */
	if (!ret && !(ffi && ffi->writepage))
		ret = killpriv_write(fsx, req, fi);
	if (!ret)
		ret = io_write_fast(fsx, fi, bufv, (uint64_t)off, len,
				    fi->size);
	io_unlock(fi);
	if (ret == 1) {
		fuse_reply_write(req, len);
		goto out_put;
	}
	if (ret < 0)
		goto out_err;

	io_wrlock(fi);
	/* again: a SETFLAGS may have come between the two locks, and the
	 * size may have moved while io_lock was free */
	ret = fs_inode_load_size(fsx, fi);
	if (!ret)
		ret = iflags_may_write(fi, (uint64_t)off, fi->size);
	if (!ret)
		ret = io_write_append(fsx, fi, bufv, (uint64_t)off, len);
	if (ret) {
		io_unlock(fi);
		if (ret < 0)
			goto out_err;
		fuse_reply_write(req, len);
		goto out_put;
	}
	fs_lock(fsx);
	n = io_write_locked(fsx, fi, bufv, len, (uint64_t)off);
	/* journal: blocks freed by the running transaction wait for its
	 * commit (R4 in journal.h); once it committed they may be taken.
	 * Not when the data was consumed already (a pipe cannot be read
	 * twice). */
	if (n == -ENOSPC && bufv->idx == 0 && bufv->off == 0 &&
	    fs_retry_enospc(fsx))
		n = io_write_locked(fsx, fi, bufv, len, (uint64_t)off);
	fs_unlock(fsx);
	io_unlock(fi);
	if (n < 0) {
		ret = (int)n;
		goto out_err;
	}
	fuse_reply_write(req, (size_t)n);
out_put:
	io_put(fsx, fi, ref);
	return;

out_err:
	if (ffi && ffi->writepage)
		io_write_back_failed(fsx, fi, ret);
	io_put(fsx, fi, ref);
	fuse_reply_err(req, -ret);
}
