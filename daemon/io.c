// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * io.c - the data path of iomapfs: read, write, fallocate, lseek, flush and
 * fsync of regular files, plus the truncate and block release that the
 * metadata operations call.  File data never goes through libext2fs: it is
 * read and written with pread/pwrite (or splice, through libfuse's
 * file-descriptor buffers) on fsx->dev_fd at the device addresses the
 * mappings give.  libext2fs only changes metadata: it allocates, converts
 * and frees blocks and writes inodes.
 *
 * Why no reader ever sees stale block contents
 * --------------------------------------------
 * Every read and every lock-free overwrite holds the inode's io_lock shared
 * from the moment it looks a mapping up until the data has been replied or
 * written (op_read holds it across fuse_reply_data, so the kernel's splice
 * from the device finishes before a truncate can free the block).  Every
 * change of a mapping (allocation, conversion, extension, truncate, punch,
 * zero) holds io_lock exclusive and fs_lock, and invalidates the changed
 * range in the cache before it drops them.  So a mapping a reader uses is
 * the mapping on disk for the whole time it is used, and a cached mapping
 * is never older than the last change (the cache's cookie rule covers a
 * lookup that raced an invalidation).
 * Blocks become visible in the only safe order, the iomap ioend order:
 * extent files get new blocks as unwritten extents (which read as zeroes),
 * the data (and zeroes for the parts of new blocks the write does not
 * cover) is written, and only then are the extents converted to written and
 * i_size raised.  Block-mapped (ext2/ext3) files have no unwritten state:
 * their new blocks are taken from the bitmap first, filled, and linked into
 * the file only after the data is on the device.  A crash at any point
 * leaves either zeroes (unwritten, or not yet linked) or the new data, never
 * a block's previous contents.  The tail of the last block past i_size is
 * kept zero (truncate zeroes it, extending writes zero it), so growing a
 * file never uncovers old bytes either.
 *
 * libext2fs's block cache and our pwrite
 * --------------------------------------
 * libext2fs reads and writes metadata through its io_channel; unix_io keeps
 * a small cache of blocks there.  A stale copy in that cache could hurt file
 * data in two ways: a dirty copy of a block that was metadata (an extent
 * tree block, a directory block) and is freed and reused as file data would
 * be written back over our data later; and a cached copy of a block we
 * wrote around the cache would hide our write from libext2fs.  fs.c opens
 * the filesystem with the unix_io cache switched off ("cache=off": every
 * io_channel read and write goes to the device at once, nothing is held),
 * and io_ext2_nocache() switches it off again whenever libext2fs has
 * turned it back on (its threaded bitmap read does), before any block
 * changes hands, so neither can happen: when a metadata block is freed,
 * its last write has already reached the device, and our later pwrite of
 * data is the last word.  On top of that this file never moves file data
 * through the io_channel, so libext2fs never holds a copy of a data block
 * at all: inline data is expanded by hand (io_inline_expand) instead of
 * with ext2fs_inline_data_expand(), which writes the block through
 * ext2fs_file_write(), and we use neither ext2fs_fallocate()'s zeroing nor
 * its block-mapped path (ext4 refuses preallocation of block-mapped files
 * too).  The bitmaps, group descriptors and inodes libext2fs keeps in
 * memory never describe data contents, only ownership.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ext2map.h"
#include "io.h"
#include "journal.h"
#include "orphan.h"

/* Zeroes for holes in replies and for zeroing parts of blocks on the
 * device.  Never written. */
#define IO_ZERO_CHUNK (256u * 1024u)
static char io_zeroes[IO_ZERO_CHUNK];

/* Reads up to this many bytes are copied rather than spliced. */
#define IO_COPY_MAX (32u * 1024u)

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

/* The in-memory inode of a file handle; open/create put it in fh. */
static struct fs_inode *io_handle_inode(struct fuse_file_info *ffi)
{
	return (struct fs_inode *)(uintptr_t)ffi->fh;
}

/*
 * The inode an operation works on: the file handle's, or (no handle, which
 * the kernel does not send for these operations, but cheap to allow) a new
 * reference that the caller drops with io_put().
 */
static struct fs_inode *io_get(struct iomapfs *fsx, fuse_ino_t ino,
			       struct fuse_file_info *ffi, bool *ref)
{
	struct fs_inode *fi = ffi ? io_handle_inode(ffi) : NULL;

	*ref = false;
	if (fi)
		return fi;
	fi = fs_inode_get(fsx, fs_ino(ino));
	if (fi)
		*ref = true;
	return fi;
}

static void io_put(struct iomapfs *fsx, struct fs_inode *fi, bool ref)
{
	if (ref)
		fs_inode_put(fsx, fi);
}

static void io_rdlock(struct fs_inode *fi)
{
	pthread_rwlock_rdlock(&fi->io_lock);
}

static void io_wrlock(struct fs_inode *fi)
{
	pthread_rwlock_wrlock(&fi->io_lock);
}

static void io_unlock(struct fs_inode *fi)
{
	pthread_rwlock_unlock(&fi->io_lock);
}

/* End of @m as an exclusive bound, saturating at UINT64_MAX. */
static uint64_t io_map_end(const struct iomap *m)
{
	uint64_t last = iomap_last(m);

	return last == UINT64_MAX ? UINT64_MAX : last + 1;
}

static uint64_t io_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t io_max(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/*
 * Write @len bytes at device byte address @addr: from @buf, or zeroes when
 * @buf is NULL.  Retries short writes.  Returns 0 or -errno (-EIO for a
 * write that makes no progress).
 */
static int io_dev_write(struct iomapfs *fsx, const void *buf, uint64_t len,
			uint64_t addr)
{
	const char *p = buf;
	ssize_t n;
	size_t chunk;

	while (len > 0) {
		chunk = (size_t)io_min(len, p ? SSIZE_MAX : IO_ZERO_CHUNK);
		n = pwrite(fsx->dev_fd, p ? p : io_zeroes, chunk, (off_t)addr);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		len -= (uint64_t)n;
		addr += (uint64_t)n;
		if (p)
			p += n;
	}
	return 0;
}

/*
 * Write the next @len bytes of @src at device byte address @addr, and
 * advance @src past them.  @src is the request's data as libfuse hands it
 * over: memory, or a pipe that the kernel spliced the request into, in
 * which case the data moves from the pipe to the device without a copy
 * through our memory.  Returns 0 or -errno (-EIO when @src runs short).
 */
static int io_dev_write_buf(struct iomapfs *fsx, struct fuse_bufvec *src,
			    uint64_t len, uint64_t addr)
{
	struct fuse_bufvec dst;
	ssize_t n;

	while (len > 0) {
		dst = FUSE_BUFVEC_INIT((size_t)io_min(len, SSIZE_MAX));
		dst.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		dst.buf[0].fd = fsx->dev_fd;
		dst.buf[0].pos = (off_t)addr;
		n = fuse_buf_copy(&dst, src, 0);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;
		len -= (uint64_t)n;
		addr += (uint64_t)n;
	}
	return 0;
}

/*
 * The mapping of file byte @off from disk (not through the cache: the
 * caller is about to change it or reports it).  Call with fs_lock held.
 */
static int io_map_disk(struct iomapfs *fsx, struct fs_inode *fi,
		       struct ext2_inode_large *inode, uint64_t off,
		       struct iomap *m)
{
	int ret;

	ret = iomap_ext2_lookup_inode(fsx->fs, fi->ino, inode, off, m);
	if (ret)
		return ret;
	if (m->offset > off || iomap_last(m) < off)
		return -EIO;
	return 0;
}

/*
 * Zero bytes [start, end) of the file on the device, where they are
 * MAPPED.  Holes and unwritten ranges already read as zeroes.  Call with
 * fs_lock held and io_lock exclusive.
 */
static int io_zero_mapped(struct iomapfs *fsx, struct fs_inode *fi,
			  struct ext2_inode_large *inode, uint64_t start,
			  uint64_t end)
{
	struct iomap m;
	uint64_t pos = start, seg_end;
	int ret;

	while (pos < end) {
		ret = io_map_disk(fsx, fi, inode, pos, &m);
		if (ret)
			return ret;
		seg_end = io_min(io_map_end(&m), end);
		if (m.type == IOMAP_MAPPED) {
			ret = io_dev_write(fsx, NULL, seg_end - pos,
					   m.addr + (pos - m.offset));
			if (ret)
				return ret;
		}
		pos = seg_end;
	}
	return 0;
}

/* Round @x down / up to a multiple of the block size. */
static uint64_t io_blk_down(struct iomapfs *fsx, uint64_t x)
{
	return x - x % fsx->blocksize;
}

static uint64_t io_blk_up(struct iomapfs *fsx, uint64_t x)
{
	uint64_t r = x % fsx->blocksize;

	return r ? x + (fsx->blocksize - r) : x;
}

/*
 * Read the inline data of @fi into a new buffer of at least @min bytes,
 * zero-filled past the data.  Sets *len to the inline data size.  Call with
 * fs_lock held.
 */
static int io_inline_get(struct iomapfs *fsx, struct fs_inode *fi,
			 struct ext2_inode_large *inode, size_t min, char **out,
			 size_t *len)
{
	size_t cap = 0;
	errcode_t err;
	char *buf;

	err = ext2fs_inline_data_size(fsx->fs, fi->ino, &cap);
	if (err)
		return translate_error(fsx, err, fi->ino);
	buf = calloc(1, io_max(cap, min) + 1);
	if (!buf)
		return -ENOMEM;
	err = ext2fs_inline_data_get(fsx->fs, fi->ino,
				     (struct ext2_inode *)inode, buf, &cap);
	if (err) {
		free(buf);
		return translate_error(fsx, err, fi->ino);
	}
	*out = buf;
	*len = cap;
	return 0;
}

/*
 * Keep libext2fs's block cache off.  fs.c switches it off at mount, but
 * libext2fs 1.47.0 switches it back on behind our back: ext2fs_rw_bitmaps()
 * reading the bitmaps with threads (EXT2_FLAG_THREADS) ends with
 * io_channel_set_options(fs->io, "cache=on") ("XXX should save and restore
 * cache setting").  The bitmaps are read lazily, at the first allocation,
 * so a write-back cache would come back on exactly when blocks start to
 * move between metadata and data, and a freed indirect block's dirty copy
 * was seen landing on the data of the file that reused it (t2400).  So
 * before any change of block ownership the data path makes sure the
 * bitmaps are loaded and, whenever libext2fs has (re)loaded them since we
 * last looked, switches the cache off again; switching it off writes out
 * what the cache holds first, before our data can be written over those
 * blocks.  Call with fs_lock held (it guards the remembered pointers).
 */
static int io_ext2_nocache(struct iomapfs *fsx, ext2_ino_t ino)
{
	static const void *seen_block_map, *seen_inode_map;
	ext2_filsys fs = fsx->fs;
	errcode_t err;

	if (!fs->block_map || !fs->inode_map) {
		err = ext2fs_read_bitmaps(fs);
		if (err)
			return translate_error(fsx, err, ino);
	}
	if ((const void *)fs->block_map == seen_block_map &&
	    (const void *)fs->inode_map == seen_inode_map)
		return 0;
	err = io_channel_set_options(fs->io, "cache=off");
	if (err)
		return translate_error(fsx, err, ino);
	seen_block_map = fs->block_map;
	seen_inode_map = fs->inode_map;
	return 0;
}

/*
 * ext2fs_punch() of blocks [start, end] (end ~0ULL: to the end), with a
 * work-around: libext2fs 1.47.0 refuses (EXT2_ET_BAD_BLOCK_NUM, "Illegal
 * block number") to free an extent range that ends at the last block of
 * the filesystem, an off-by-one in punch_extent_blocks() fixed upstream
 * after 1.47.0.  A full filesystem has that block in some file, which
 * then could never be truncated or deleted.  So when the last block is in
 * use and this inode maps it inside the range, unmap and free that one
 * block here first; ext2fs_punch() does the rest.
 */
/*
 * Unmap and free file blocks [start, end] of a block-mapped inode one by
 * one.  libext2fs 1.47.0's ind_punch() frees the wrong blocks for ranges
 * that do not run to the end of the file: past an indirect block's start
 * it frees everything after the range (the recursion passes count -
 * offset), and a range that crosses from one indirect level into the next
 * stops at the boundary (fixed upstream after 1.47.3, c49656b1).
 * Indirect blocks left empty stay (e2fsck accepts them).  The caller
 * writes the inode.
 */
static errcode_t io_punch_ind_range(ext2_filsys fs, ext2_ino_t ino,
				    struct ext2_inode *inode, blk64_t start,
				    blk64_t end)
{
	blk64_t lblk, pblk, zero;
	blk64_t last =
		(EXT2_I_SIZE(inode) + fs->blocksize - 1) / fs->blocksize +
		ext2fs_get_stat_i_blocks(fs, inode) / (fs->blocksize / 512);
	uint64_t freed = 0;
	errcode_t err = 0;

	if (end > last)
		end = last;
	for (lblk = start; lblk <= end && !err; lblk++) {
		pblk = 0;
		err = ext2fs_bmap2(fs, ino, inode, NULL, 0, lblk, NULL, &pblk);
		if (err || !pblk)
			continue;
		zero = 0;
		err = ext2fs_bmap2(fs, ino, inode, NULL, BMAP_SET, lblk, NULL,
				   &zero);
		if (err)
			break;
		ext2fs_block_alloc_stats2(fs, pblk, -1);
		freed++;
	}
	if (freed) {
		errcode_t err2 = ext2fs_iblk_sub_blocks(fs, inode, freed);

		if (!err)
			err = err2;
	}
	return err;
}

static errcode_t io_ext2_punch(ext2_filsys fs, ext2_ino_t ino,
			       struct ext2_inode *inode, blk64_t start,
			       blk64_t end)
{
	blk64_t last = ext2fs_blocks_count(fs->super) - 1, lblk = 0;
	ext2_extent_handle_t handle;
	struct ext2fs_extent ex;
	bool found = false;
	errcode_t err;
	int op;

	if (!(inode->i_flags & (EXT4_EXTENTS_FL | EXT4_INLINE_DATA_FL)) &&
	    end != ~0ULL && !LINUX_S_ISLNK(inode->i_mode))
		return io_punch_ind_range(fs, ino, inode, start, end);
	if (!(inode->i_flags & EXT4_EXTENTS_FL) ||
	    (inode->i_flags & EXT4_INLINE_DATA_FL) ||
	    !ext2fs_test_block_bitmap2(fs->block_map, last))
		return ext2fs_punch(fs, ino, inode, NULL, start, end);
	err = ext2fs_extent_open2(fs, ino, inode, &handle);
	if (err)
		return err;
	for (op = EXT2_EXTENT_ROOT;; op = EXT2_EXTENT_NEXT_LEAF) {
		err = ext2fs_extent_get(handle, op, &ex);
		if (err)
			break;
		if ((ex.e_flags & EXT2_EXTENT_FLAGS_LEAF) && ex.e_len &&
		    ex.e_pblk + ex.e_len - 1 == last) {
			lblk = ex.e_lblk + ex.e_len - 1;
			found = true;
			break;
		}
	}
	if (err == EXT2_ET_EXTENT_NO_NEXT || err == EXT2_ET_EXTENT_NO_DOWN)
		err = 0;
	if (!err && found && lblk >= start && lblk <= end) {
		err = ext2fs_extent_set_bmap(handle, lblk, 0, 0);
		if (!err) {
			ext2fs_block_alloc_stats2(fs, last, -1);
			err = ext2fs_iblk_sub_blocks(fs, inode, 1);
		}
	}
	ext2fs_extent_free(handle);
	if (err)
		return err;
	return ext2fs_punch(fs, ino, inode, NULL, start, end);
}

/* The last file block an extent maps, or 0 with *none. */
static errcode_t io_last_extent_block(ext2_filsys fs, ext2_ino_t ino,
				      struct ext2_inode_large *inode,
				      blk64_t *last, bool *none)
{
	ext2_extent_handle_t h;
	struct ext2fs_extent ex;
	errcode_t err;

	*last = 0;
	*none = true;
	err = ext2fs_extent_open2(fs, ino, EXT2_INODE(inode), &h);
	if (err)
		return err;
	/* From the root: LAST_LEAF walks from the current node, which a
	 * fresh handle does not have. */
	err = ext2fs_extent_get(h, EXT2_EXTENT_ROOT, &ex);
	if (!err)
		err = ext2fs_extent_get(h, EXT2_EXTENT_LAST_LEAF, &ex);
	ext2fs_extent_free(h);
	if (err == EXT2_ET_EXTENT_NO_NEXT || err == EXT2_ET_EXTENT_NO_DOWN ||
	    (!err && !ex.e_len))
		return 0;
	if (err)
		return err;
	*last = ex.e_lblk + ex.e_len - 1;
	*none = false;
	return 0;
}

/*
 * ext2fs_punch() of [start, end] on @inode whose i_size the caller may
 * have lowered already: libext2fs 1.47.0 sizes the last index entry of an
 * extent tree by i_size (ext2fs_extent_get()), and with i_size below the
 * extents a punch fails half-way ("Extent not found").  So the punch runs
 * with an i_size that covers @cover blocks, and the caller's size goes
 * back before the inode is written again (in the same transaction).
 */
static errcode_t io_punch_sized(struct iomapfs *fsx, ext2_ino_t ino,
				struct ext2_inode_large *inode, blk64_t start,
				blk64_t end, uint64_t cover)
{
	uint64_t size = EXT2_I_SIZE(inode);
	errcode_t err, err2;

	if (!(inode->i_flags & EXT4_EXTENTS_FL) ||
	    (inode->i_flags & EXT4_INLINE_DATA_FL) || cover <= size)
		return io_ext2_punch(fsx->fs, ino, EXT2_INODE(inode), start,
				     end);
	err = ext2fs_inode_size_set(fsx->fs, EXT2_INODE(inode), cover);
	if (err)
		return err;
	err = io_ext2_punch(fsx->fs, ino, EXT2_INODE(inode), start, end);
	err2 = ext2fs_inode_size_set(fsx->fs, EXT2_INODE(inode), size);
	if (!err2)
		err2 = ext2fs_write_inode_full(fsx->fs, ino, EXT2_INODE(inode),
					       sizeof(*inode));
	return err ? err : err2;
}

/*
 * Where a piece of a punch that ends at file block @last may start so that
 * what it frees dirties at most @budget groups: the extents from @last
 * down, each counted for the groups its blocks lie in (and one more for
 * its place in an extent block), until the budget is spent.  A long
 * contiguous extent costs a group or two, a fragmented range one per
 * extent.  Sets *s (>= @start).  fs_lock held.
 */
static errcode_t io_piece_start(struct iomapfs *fsx, ext2_ino_t ino,
				struct ext2_inode_large *inode, blk64_t start,
				blk64_t last, blk64_t budget, blk64_t *s)
{
	ext2_filsys fs = fsx->fs;
	uint64_t bpg = EXT2_BLOCKS_PER_GROUP(fs->super), cost = 0;
	ext2_extent_handle_t h;
	struct ext2fs_extent ex;
	blk64_t a, b, pa, pb;
	errcode_t err;

	*s = start;
	err = ext2fs_extent_open2(fs, ino, EXT2_INODE(inode), &h);
	if (err)
		return err;
	/* In a hole, goto leaves the extent before @last current. */
	(void)ext2fs_extent_goto(h, last);
	err = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &ex);
	while (!err) {
		if (!(ex.e_flags & EXT2_EXTENT_FLAGS_LEAF) || !ex.e_len)
			break;
		if (ex.e_lblk + ex.e_len - 1 < start)
			break;
		a = ex.e_lblk > start ? ex.e_lblk : start;
		b = ex.e_lblk + ex.e_len - 1 < last ? ex.e_lblk + ex.e_len - 1
						    : last;
		if (a <= b) {
			pa = ex.e_pblk + (a - ex.e_lblk);
			pb = ex.e_pblk + (b - ex.e_lblk);
			cost += (pb - fs->super->s_first_data_block) / bpg -
				(pa - fs->super->s_first_data_block) / bpg + 2;
		}
		if (cost >= budget && a > start) {
			/* At least one extent per piece: progress. */
			*s = a;
			break;
		}
		err = ext2fs_extent_get(h, EXT2_EXTENT_PREV_LEAF, &ex);
	}
	ext2fs_extent_free(h);
	if (err == EXT2_ET_EXTENT_NO_PREV || err == EXT2_ET_NO_CURRENT_NODE ||
	    err == EXT2_ET_EXTENT_NO_NEXT)
		err = 0;
	return err;
}

/*
 * journal: ext2fs_punch() of file blocks [start, end] (end ~0ULL: to the
 * end) in pieces small enough for one transaction each, committing
 * between them when the running one is a quarter full (journal_split()):
 * a huge truncate, punch or unlink frees blocks in many groups, and one
 * transaction must fit the log.  With @orphan, the inode goes on the
 * orphan list before the first piece (orphan_add(), in the transaction of
 * the caller's first change), so that a crash between two pieces leaves a
 * list the next mount finishes (it frees an unlinked inode, or cuts a
 * linked one back to its i_size: the caller has set the new size first);
 * the caller takes it off (orphan_del()) with its last change.  A piece
 * dirties at most journal_chunk_blocks() groups (io_piece_start(); block
 * maps: frees that many blocks), which fit a quarter transaction.  @inode
 * is re-read after each
 * split: fs_lock is dropped while the commit waits, and operations that
 * do not take io_lock (chmod, link) may write the inode meanwhile.
 * Without the journal, or when the file has fewer blocks than a piece,
 * one punch.  fs_lock held.  Returns 0 or an errcode.
 */
static errcode_t io_punch_split(struct iomapfs *fsx, ext2_ino_t ino,
				struct ext2_inode_large *inode, blk64_t start,
				blk64_t end, bool orphan)
{
	ext2_filsys fs = fsx->fs;
	blk64_t chunk, last = 0, s;
	uint64_t nblocks, cover;
	bool none = true;
	errcode_t err;
	int ret;

	if (inode->i_flags & EXT4_INLINE_DATA_FL)
		return io_ext2_punch(fs, ino, EXT2_INODE(inode), start, end);
	if (inode->i_flags & EXT4_EXTENTS_FL) {
		err = io_last_extent_block(fs, ino, inode, &last, &none);
		if (err)
			return err;
		if (none || last < start)
			return 0; /* nothing mapped in the range */
		if (end < last)
			last = end;
	}
	cover = none ? 0 : (last + 1) * (uint64_t)fs->blocksize;
	nblocks = ext2fs_get_stat_i_blocks(fs, EXT2_INODE(inode)) /
		  (fs->blocksize / 512);
	chunk = fsx->journal ? journal_chunk_blocks(fsx->journal) : 0;
	if (!chunk || nblocks <= chunk)
		return io_punch_sized(fsx, ino, inode, start, end, cover);
	if (orphan) {
		ret = orphan_add(fsx, ino, inode);
		if (ret)
			return EXT2_ET_NO_MEMORY;
	}
	if (!(inode->i_flags & EXT4_EXTENTS_FL)) {
		/* Block maps hold no blocks past i_size (but while a write
		 * links them in): i_size and the blocks held bound the last
		 * one. */
		uint64_t by_size = (EXT2_I_SIZE(inode) + fs->blocksize - 1) /
				   fs->blocksize;
		uint64_t max = iomap_ext2_max_bytes(fs, EXT2_INODE(inode)) /
			       fs->blocksize;

		last = by_size + nblocks < max ? by_size + nblocks : max;
		if (end < last)
			last = end;
		if (last < start)
			return 0;
	}
	for (;;) {
		if (inode->i_flags & EXT4_EXTENTS_FL) {
			err = io_piece_start(fsx, ino, inode, start, last,
					     chunk, &s);
			if (err)
				return err;
		} else {
			s = last >= start + chunk - 1 ? last - chunk + 1
						      : start;
		}
		/*
		 * Block maps: a piece to the end is punched "to the end":
		 * libext2fs 1.47.0's ind_punch() gets ranges that cross an
		 * indirect level wrong (fixed upstream in c49656b1 and
		 * later), [s, ~0] it gets right, and past @last nothing is
		 * mapped any more.
		 */
		err = io_punch_sized(fsx, ino, inode, s,
				     !(inode->i_flags & EXT4_EXTENTS_FL) &&
						     end == ~0ULL
					     ? ~0ULL
					     : last,
				     cover);
		if (err || s == start)
			return err;
		last = s - 1;
		ret = journal_split(fsx->journal);
		if (!ret)
			ret = fs_read_inode(fsx, ino, inode);
		if (ret)
			return ret == -ENOMEM ? EXT2_ET_NO_MEMORY
					      : EXT2_ET_BLOCK_BITMAP_WRITE;
	}
}

/*
 * journal: ext2fs_fallocate() of unwritten extents over file blocks
 * [b0, b0 + count) in pieces of journal_chunk_blocks(), each in a
 * transaction that fits the log (journal_split() between them).  A crash
 * between pieces leaves part of the range preallocated: unwritten extents
 * read as zeroes and may lie past i_size, so that is a consistent file.
 * The inode is written before each split and re-read after.  fs_lock
 * held.  Returns 0 or an errcode.
 */
static errcode_t io_fallocate_split(struct iomapfs *fsx, ext2_ino_t ino,
				    struct ext2_inode_large *inode, blk64_t b0,
				    blk64_t count)
{
	blk64_t chunk, done = 0, n;
	errcode_t err;
	int ret;

	chunk = fsx->journal ? journal_chunk_blocks(fsx->journal) : 0;
	if (!chunk || count <= chunk)
		return ext2fs_fallocate(fsx->fs, EXT2_FALLOCATE_FORCE_UNINIT,
					ino, EXT2_INODE(inode), ~0ULL, b0,
					count);
	while (done < count) {
		n = count - done < chunk ? count - done : chunk;
		err = ext2fs_fallocate(fsx->fs, EXT2_FALLOCATE_FORCE_UNINIT,
				       ino, EXT2_INODE(inode), ~0ULL, b0 + done,
				       n);
		if (err)
			return err;
		done += n;
		if (done == count)
			break;
		ret = fs_write_inode(fsx, ino, inode);
		if (!ret)
			ret = journal_split(fsx->journal);
		if (!ret)
			ret = fs_read_inode(fsx, ino, inode);
		if (ret)
			return ret == -ENOMEM ? EXT2_ET_NO_MEMORY
					      : EXT2_ET_BLOCK_BITMAP_WRITE;
	}
	return 0;
}

/* --- read ------------------------------------------------------------- */

/* A reply being built: a bufvec that grows, and the memory it owns. */
struct io_reply {
	struct fuse_bufvec *bv;
	size_t cap;
	char *owned; /* inline data copy, freed after the reply */
};

static int io_reply_add(struct io_reply *r, const struct fuse_buf *b)
{
	struct fuse_bufvec *nbv;
	size_t ncap;

	if (r->bv && r->bv->count == r->cap) {
		ncap = r->cap * 2;
		nbv = realloc(r->bv,
			      sizeof(*nbv) +
				      (ncap - 1) * sizeof(struct fuse_buf));
		if (!nbv)
			return -ENOMEM;
		r->bv = nbv;
		r->cap = ncap;
	}
	if (!r->bv) {
		r->cap = 8;
		r->bv = calloc(1,
			       sizeof(*r->bv) +
				       (r->cap - 1) * sizeof(struct fuse_buf));
		if (!r->bv)
			return -ENOMEM;
	}
	r->bv->buf[r->bv->count++] = *b;
	return 0;
}

/* Append @len bytes of zeroes to the reply. */
static int io_reply_zeroes(struct io_reply *r, uint64_t len)
{
	struct fuse_buf b = {.fd = -1};
	int ret;

	while (len > 0) {
		b.size = (size_t)io_min(len, IO_ZERO_CHUNK);
		b.mem = io_zeroes;
		ret = io_reply_add(r, &b);
		if (ret)
			return ret;
		len -= b.size;
	}
	return 0;
}

/* Append bytes [pos, end) of the INLINE mapping to the reply. */
static int io_reply_inline(struct iomapfs *fsx, struct fs_inode *fi,
			   struct io_reply *r, uint64_t pos, uint64_t end)
{
	struct ext2_inode_large inode;
	struct fuse_buf b = {.fd = -1};
	size_t len = 0;
	char *data = NULL;
	int ret;

	if (r->owned) /* one INLINE mapping per file: block 0 */
		return -EIO;
	fs_lock(fsx);
	ret = fs_read_inode(fsx, fi->ino, &inode);
	if (!ret)
		ret = io_inline_get(fsx, fi, &inode, (size_t)end, &data, &len);
	fs_unlock(fsx);
	if (ret)
		return ret;
	/* Bytes past the inline data (but inside i_size) read as zeroes:
	 * io_inline_get() zero-fills up to @end. */
	r->owned = data;
	b.mem = data + pos;
	b.size = (size_t)(end - pos);
	return io_reply_add(r, &b);
}

/*
 * Check that the device still holds bytes up to @end (exclusive).  libfuse
 * turns a short read of the device into a short reply, which the kernel
 * takes for the end of the file (and shrinks its i_size): an image file
 * truncated under the mount would silently read as a shorter file.  So a
 * read of mapped data past the device's current end is an I/O error, and
 * logged (once).  Returns 0 or -EIO, or the fstat()/ioctl() error.
 */
static int io_dev_check_end(struct iomapfs *fsx, uint64_t end)
{
	static atomic_bool logged;
	struct stat st;
	uint64_t size;

	if (fstat(fsx->dev_fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fsx->dev_fd, BLKGETSIZE64, &size) < 0)
			return -errno;
	} else {
		size = (uint64_t)st.st_size;
	}
	if (end <= size)
		return 0;
	if (!atomic_exchange(&logged, true))
		fprintf(stderr,
			"iomapfs: %s: data at byte %" PRIu64 " is past the end "
			"of the device (%" PRIu64 " bytes): was the image "
			"truncated?  Reads there fail with EIO\n",
			fsx->source, end, size);
	return -EIO;
}

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	     struct fuse_file_info *ffi)
{
	struct iomapfs *fsx = req_fs(req);
	struct io_reply r = {0};
	struct fuse_buf b;
	struct fs_inode *fi;
	struct iomap m;
	uint64_t pos, end, seg_end, dev_end = 0;
	bool ref;
	int ret;

	fi = io_get(fsx, ino, ffi, &ref);
	if (!fi) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (off < 0) {
		ret = -EINVAL;
		goto out_put;
	}
	io_rdlock(fi);
	ret = fs_inode_load_size(fsx, fi);
	if (ret)
		goto out_unlock;
	pos = (uint64_t)off;
	if (pos >= fi->size || size == 0) {
		fuse_reply_buf(req, NULL, 0);
		goto out_done;
	}
	end = io_min(fi->size, pos + size);
	while (pos < end) {
		ret = cache_lookup(fsx->cache, fi->ino, pos, &m);
		if (ret)
			goto out_unlock;
		if (m.offset > pos || iomap_last(&m) < pos) {
			ret = -EIO;
			goto out_unlock;
		}
		seg_end = io_min(io_map_end(&m), end);
		switch (m.type) {
		case IOMAP_MAPPED:
			b = (struct fuse_buf){
				.size = (size_t)(seg_end - pos),
				.flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK,
				.fd = fsx->dev_fd,
				.pos = (off_t)(m.addr + (pos - m.offset)),
			};
			dev_end = io_max(dev_end, (uint64_t)b.pos + b.size);
			ret = io_reply_add(&r, &b);
			break;
		case IOMAP_INLINE:
			ret = io_reply_inline(fsx, fi, &r, pos, seg_end);
			break;
		case IOMAP_HOLE:
		case IOMAP_UNWRITTEN:
		case IOMAP_DELALLOC:
			ret = io_reply_zeroes(&r, seg_end - pos);
			break;
		default:
			ret = -EIO;
			break;
		}
		if (ret)
			goto out_unlock;
		pos = seg_end;
	}
	if (dev_end) {
		ret = io_dev_check_end(fsx, dev_end);
		if (ret)
			goto out_unlock;
	}
	/* Still under io_lock shared: no truncate or punch can free these
	 * blocks while the kernel reads them.  fuse_reply_data() replies
	 * (with an error when the device read fails) exactly once.  Small
	 * replies are copied: a pread and a write cost less than the pipe
	 * and the three splices of the zero-copy path. */
	fuse_reply_data(req, r.bv,
			end - (uint64_t)off <= IO_COPY_MAX
				? FUSE_BUF_NO_SPLICE
				: FUSE_BUF_SPLICE_MOVE);
out_done:
	io_unlock(fi);
	free(r.bv);
	free(r.owned);
	io_put(fsx, fi, ref);
	return;

out_unlock:
	io_unlock(fi);
out_put:
	free(r.bv);
	free(r.owned);
	io_put(fsx, fi, ref);
	fuse_reply_err(req, -ret);
}

/* --- write ------------------------------------------------------------ */

/*
 * The fast path: an overwrite that lies inside i_size and only on MAPPED
 * ranges.  Called with io_lock shared.  Returns 1 when it wrote everything,
 * 0 when the write needs the slow path (nothing was written), or -errno.
 */
static int io_write_fast(struct iomapfs *fsx, struct fs_inode *fi,
			 struct fuse_bufvec *bufv, uint64_t off, size_t len)
{
	struct iomap segs[IO_FAST_SEGS];
	struct fuse_bufvec dst;
	uint64_t pos = off, end = off + len, seg_end, seg_len;
	size_t n = 0, i;
	ssize_t w;
	int ret;

	if (end > fi->size)
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
	fs_inode_touch(fi);
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
 * Whether the written extent @prev ends right where @ex (n blocks of it)
 * starts, in the file and on the device, and has room for them.
 */
static bool io_extent_joins(const struct ext2fs_extent *prev,
			    const struct ext2fs_extent *ex, blk64_t n)
{
	return !(prev->e_flags & EXT2_EXTENT_FLAGS_UNINIT) &&
	       prev->e_lblk + prev->e_len == ex->e_lblk &&
	       prev->e_pblk + prev->e_len == ex->e_pblk &&
	       prev->e_len + n <= EXT_INIT_MAX_LEN;
}

/* Replace the current extent with @ex and fix the index blocks above. */
static errcode_t io_extent_put(ext2_extent_handle_t h, struct ext2fs_extent *ex)
{
	errcode_t err = ext2fs_extent_replace(h, 0, ex);

	return err ? err : ext2fs_extent_fix_parents(h);
}

/* Insert @ex after the current extent and fix the index blocks above. */
static errcode_t io_extent_add(ext2_extent_handle_t h, struct ext2fs_extent *ex)
{
	errcode_t err = ext2fs_extent_insert(h, EXT2_EXTENT_INSERT_AFTER, ex);

	return err ? err : ext2fs_extent_fix_parents(h);
}

/*
 * Give the first @n blocks of the unwritten extent @ex to the written
 * extent before it (@prev, which io_extent_joins()), so that appending
 * writes keep growing one extent.  The rest of @ex, if any, stays
 * unwritten.
 */
static errcode_t io_extent_give_head(ext2_extent_handle_t h,
				     struct ext2fs_extent *ex,
				     struct ext2fs_extent *prev, blk64_t n)
{
	struct ext2fs_extent rest = *ex;
	errcode_t err;

	err = ext2fs_extent_goto(h, ex->e_lblk);
	if (err)
		return err;
	if (n == ex->e_len) {
		err = ext2fs_extent_delete(h, 0);
		if (!err) {
			err = ext2fs_extent_fix_parents(h);
			if (err == EXT2_ET_NO_CURRENT_NODE)
				err = 0;
		}
	} else {
		rest.e_lblk += n;
		rest.e_pblk += n;
		rest.e_len -= (__u32)n;
		err = io_extent_put(h, &rest);
	}
	if (err)
		return err;
	err = ext2fs_extent_goto(h, prev->e_lblk);
	if (err)
		return err;
	prev->e_len += (__u32)n;
	return io_extent_put(h, prev);
}

/*
 * Give the last @n blocks of the unwritten extent @ex to the written
 * extent after it (@next, which starts right after @ex in the file and on
 * the device), so that writes filling preallocated space from the back
 * also end up in one extent.  The rest of @ex, if any, stays unwritten.
 */
static errcode_t io_extent_give_tail(ext2_extent_handle_t h,
				     struct ext2fs_extent *ex,
				     struct ext2fs_extent *next, blk64_t n)
{
	struct ext2fs_extent rest = *ex;
	errcode_t err;

	err = ext2fs_extent_goto(h, ex->e_lblk);
	if (err)
		return err;
	if (n == ex->e_len) {
		err = ext2fs_extent_delete(h, 0);
		if (!err) {
			err = ext2fs_extent_fix_parents(h);
			if (err == EXT2_ET_NO_CURRENT_NODE)
				err = 0;
		}
	} else {
		rest.e_len -= (__u32)n;
		err = io_extent_put(h, &rest);
	}
	if (err)
		return err;
	err = ext2fs_extent_goto(h, next->e_lblk);
	if (err)
		return err;
	next->e_lblk -= n;
	next->e_pblk -= n;
	next->e_len += (__u32)n;
	return io_extent_put(h, next);
}

/*
 * Merge the written extent that holds @lblk with the written extent after
 * it when they touch in the file and on the device, so that random writes
 * that end up filling preallocated space leave few extents.  Only called
 * right after a conversion, on blocks that are mapped.
 */
static errcode_t io_extent_join_next(ext2_extent_handle_t h, blk64_t lblk)
{
	struct ext2fs_extent cur, next;
	errcode_t err;

	if (ext2fs_extent_goto(h, lblk) ||
	    ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &cur) ||
	    ext2fs_extent_get(h, EXT2_EXTENT_NEXT_LEAF, &next))
		return 0;
	/* Both written: an unwritten one must not take stale blocks in. */
	if (next.e_lblk <= cur.e_lblk ||
	    (next.e_flags & EXT2_EXTENT_FLAGS_UNINIT) ||
	    !io_extent_joins(&cur, &next, next.e_len))
		return 0;
	err = ext2fs_extent_goto(h, next.e_lblk);
	if (!err)
		err = ext2fs_extent_delete(h, 0);
	if (!err) {
		err = ext2fs_extent_fix_parents(h);
		if (err == EXT2_ET_NO_CURRENT_NODE)
			err = 0;
	}
	if (!err)
		err = ext2fs_extent_goto(h, cur.e_lblk);
	if (err)
		return err;
	cur.e_len += next.e_len;
	return io_extent_put(h, &cur);
}

/*
 * Convert file blocks [start, end] from unwritten to written.  Every block
 * in the range is mapped (the caller just wrote it).  Done with extent
 * replace and insert, splitting an unwritten extent in at most three:
 * ext2fs_extent_set_bmap() of 1.47.0, used block by block, corrupts the
 * tree when a split falls on a leaf boundary (overlapping extents in two
 * leaves, a block left unmapped), as concurrent random writes into
 * preallocated files showed (t2300).  A converted head that touches a
 * written predecessor is merged into it, a converted tail into a written
 * successor.  On failure *done is the first block not converted; the tree
 * is left consistent (a failed insert puts the original extent back).
 */
static errcode_t io_convert_range(ext2_extent_handle_t h, blk64_t start,
				  blk64_t end, blk64_t *done)
{
	struct ext2fs_extent ex, orig, prev, next, part;
	blk64_t a, b, e, s = start;
	errcode_t err, err2;

	while (s <= end) {
		*done = s;
		err = ext2fs_extent_goto(h, s);
		if (!err)
			err = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &ex);
		if (err)
			return err;
		a = ex.e_lblk;
		b = a + ex.e_len - 1;
		if (s < a || s > b)
			return EXT2_ET_EXTENT_NOT_FOUND;
		e = end < b ? end : b;
		if (!(ex.e_flags & EXT2_EXTENT_FLAGS_UNINIT)) {
			s = b + 1;
			continue;
		}
		orig = ex;
		if (s == a &&
		    !ext2fs_extent_get(h, EXT2_EXTENT_PREV_LEAF, &prev) &&
		    io_extent_joins(&prev, &ex, e - a + 1)) {
			err = io_extent_give_head(h, &ex, &prev, e - a + 1);
			if (err)
				return err;
			goto joined;
		}
		err = ext2fs_extent_goto(h, a);
		if (err)
			return err;
		if (e == b &&
		    !ext2fs_extent_get(h, EXT2_EXTENT_NEXT_LEAF, &next) &&
		    next.e_lblk == b + 1 &&
		    !(next.e_flags & EXT2_EXTENT_FLAGS_UNINIT) &&
		    next.e_pblk == ex.e_pblk + ex.e_len &&
		    next.e_len + (e - s + 1) <= EXT_INIT_MAX_LEN) {
			err = io_extent_give_tail(h, &ex, &next, e - s + 1);
			if (err)
				return err;
			goto joined;
		}
		err = ext2fs_extent_goto(h, a);
		if (err)
			return err;
		if (s == a && e == b) {
			ex.e_flags &= ~EXT2_EXTENT_FLAGS_UNINIT;
			err = io_extent_put(h, &ex);
			if (err)
				return err;
			goto joined;
		}
		/* The part before s stays unwritten (or is the written
		 * head when s == a); then the written part; then the rest. */
		part = ex;
		if (s > a) {
			part.e_len = (__u32)(s - a);
		} else {
			part.e_len = (__u32)(e - a + 1);
			part.e_flags &= ~EXT2_EXTENT_FLAGS_UNINIT;
		}
		err = io_extent_put(h, &part);
		if (err)
			return err;
		if (s > a) {
			part = orig;
			part.e_lblk = s;
			part.e_pblk = orig.e_pblk + (s - a);
			part.e_len = (__u32)(e - s + 1);
			part.e_flags &= ~EXT2_EXTENT_FLAGS_UNINIT;
			err = io_extent_add(h, &part);
		}
		if (!err && e < b) {
			part = orig;
			part.e_lblk = e + 1;
			part.e_pblk = orig.e_pblk + (e + 1 - a);
			part.e_len = (__u32)(b - e);
			err = io_extent_add(h, &part);
		}
		if (err) {
			/* Put the original back: drop a written middle that
			 * made it in, then restore the first part. */
			if (s > a && !ext2fs_extent_goto(h, s)) {
				err2 = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT,
							 &part);
				if (!err2 && part.e_lblk == s)
					(void)ext2fs_extent_delete(h, 0);
			}
			if (!ext2fs_extent_goto(h, a))
				(void)io_extent_put(h, &orig);
			return err;
		}
	joined:
		/* [s, e] is written now.  A join fails only on an I/O error
		 * in the middle of the tree update; it is reported. */
		*done = e + 1;
		err = io_extent_join_next(h, e);
		if (!err && s > 0)
			err = io_extent_join_next(h, s - 1);
		if (err)
			return err;
		s = e + 1;
	}
	*done = end + 1;
	return 0;
}

/*
 * Allocate, write, convert: the slow path for a block-backed (not inline)
 * inode, in the iomap ioend order.  Writes the first @len bytes of @data
 * (consumed from its start, in order; see io_dev_write_buf()) at @off and
 * raises i_size to cover them; on ENOSPC or EFBIG it writes the longest
 * prefix it can and reports it in res->written (an error only when nothing
 * could be written).  @inode is the caller's copy of the on-disk inode; it
 * is written back.  Call with io_lock exclusive and fs_lock held.
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
		err = ext2fs_fallocate(fs, EXT2_FALLOCATE_FORCE_UNINIT, fi->ino,
				       (struct ext2_inode *)inode, ~0ULL, b0,
				       b1 - b0 + 1);
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

			err = io_convert_range(handle, unwritten.v[s].lblk,
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
	fs_inode_touch(fi);
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
	err = ext2fs_inline_data_set(fsx->fs, fi->ino,
				     (struct ext2_inode *)inode, buf,
				     (size_t)nsize);
	free(buf);
	if (err == EXT2_ET_INLINE_DATA_NO_SPACE)
		return 0;
	if (err)
		return translate_error(fsx, err, fi->ino);
	/* The system.data attribute lives in the inode body: read the inode
	 * again before writing our copy back over it. */
	ret = fs_read_inode(fsx, fi->ino, inode);
	if (ret)
		return ret;
	err = ext2fs_inode_size_set(fsx->fs, (struct ext2_inode *)inode, nsize);
	if (err)
		return translate_error(fsx, err, fi->ino);
	fs_inode_touch(fi);
	ret = fs_inode_sync_times(fsx, fi, inode);
	if (!ret)
		ret = fs_write_inode(fsx, fi->ino, inode);
	if (ret)
		return ret;
	fi->size = nsize;
	fi->size_valid = true;
	return 1;
}

/*
 * Move an inline-data inode's contents to blocks (ext4 does this before
 * fallocate and for writes that do not fit).  Call with io_lock exclusive
 * and fs_lock held; @inode is re-read.
 */
static int io_inline_to_blocks(struct iomapfs *fsx, struct fs_inode *fi,
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

	ret = io_ext2_nocache(fsx, fi->ino);
	if (ret)
		return ret;
	ret = fs_read_inode(fsx, fi->ino, &inode);
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
	fi = io_get(fsx, ino, ffi, &ref);
	if (!fi) {
		fuse_reply_err(req, ENOMEM);
		return;
	}

	io_rdlock(fi);
	ret = fs_inode_load_size(fsx, fi);
	if (!ret)
		ret = io_write_fast(fsx, fi, bufv, (uint64_t)off, len);
	io_unlock(fi);
	if (ret == 1) {
		fuse_reply_write(req, len);
		goto out_put;
	}
	if (ret < 0)
		goto out_err;

	io_wrlock(fi);
	fs_lock(fsx);
	n = io_write_locked(fsx, fi, bufv, len, (uint64_t)off);
	/* journal: freed blocks waiting for a commit; not when the data
	 * was consumed already (a pipe cannot be read twice). */
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
	io_put(fsx, fi, ref);
	fuse_reply_err(req, -ret);
}

/* --- fallocate -------------------------------------------------------- */

/* Set ctime (only) of @inode to now, as ext4 does for a fallocate that
 * keeps the size. */
static void io_set_ctime(struct iomapfs *fsx, struct ext2_inode_large *inode)
{
	struct timespec ts;
	int64_t sec;

	fs_now(&ts);
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

	err = io_fallocate_split(fsx, fi->ino, inode, b0, b1 - b0 + 1);
	cache_invalidate(fsx->cache, fi->ino, b0 * bs, (b1 - b0 + 1) * bs,
			 CACHE_R_FALLOCATE);
	ret = err ? translate_error(fsx, err, fi->ino) : 0;
	if (!ret && !keep_size)
		ret = io_fallocate_size(fsx, fi, inode, off + len);
	if (!ret && !keep_size) {
		fs_inode_touch(fi);
		ret = fs_inode_sync_times(fsx, fi, inode);
	} else if (!ret) {
		io_set_ctime(fsx, inode);
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
		/* A hole inside the file: each piece leaves a consistent
		 * file, no orphan needed. */
		err = io_punch_split(fsx, fi->ino, inode, first, last_excl - 1,
				     false);
		cache_invalidate(fsx->cache, fi->ino, first * fsx->blocksize,
				 (last_excl - first) * fsx->blocksize,
				 CACHE_R_PUNCH);
		if (err)
			return translate_error(fsx, err, fi->ino);
	}
	fs_inode_touch(fi);
	ret = fs_inode_sync_times(fsx, fi, inode);
	if (!ret)
		ret = fs_write_inode(fsx, fi->ino, inode);
	return ret;
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
		err = io_punch_split(fsx, fi->ino, inode, first, last_excl - 1,
				     false);
	b0 = off / bs;
	b1 = (end - 1) / bs;
	if (!err)
		err = io_fallocate_split(fsx, fi->ino, inode, b0, b1 - b0 + 1);
	cache_invalidate(fsx->cache, fi->ino, b0 * bs, (b1 - b0 + 1) * bs,
			 CACHE_R_ZERO);
	ret = err ? translate_error(fsx, err, fi->ino) : 0;
	if (!ret && !keep_size)
		ret = io_fallocate_size(fsx, fi, inode, end);
	if (!ret) {
		fs_inode_touch(fi);
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
	bool ref, keep = mode & FALLOC_FL_KEEP_SIZE;
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
	fi = io_get(fsx, ino, ffi, &ref);
	if (!fi) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	io_wrlock(fi);
	fs_lock(fsx);
	ret = io_ext2_nocache(fsx, fi->ino);
	if (!ret)
		ret = fs_read_inode(fsx, fi->ino, &inode);
	if (ret)
		goto out_unlock;
	if (!LINUX_S_ISREG(inode.i_mode)) {
		ret = -ENODEV;
		goto out_unlock;
	}
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
	fi = io_get(fsx, ino, ffi, &ref);
	if (!fi) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	io_rdlock(fi);
	ret = fs_inode_load_size(fsx, fi);
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

void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *ffi)
{
	struct iomapfs *fsx = req_fs(req);
	struct fs_inode *fi;
	bool ref;
	int ret = 0;

	fi = io_get(fsx, ino, ffi, &ref);
	if (!fi) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (!fs_is_ro(fsx)) {
		fs_lock(fsx);
		ret = fs_inode_sync_times(fsx, fi, NULL);
		fs_unlock(fsx);
	}
	io_put(fsx, fi, ref);
	fuse_reply_err(req, -ret);
}

void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
	      struct fuse_file_info *ffi)
{
	struct iomapfs *fsx = req_fs(req);
	struct fs_inode *fi;
	bool ref;
	int ret = 0;

	fi = io_get(fsx, ino, ffi, &ref);
	if (!fi) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (!fs_is_ro(fsx) || fsx->journal) {
		bool need_datasync = false;

		/* Data went to the device with pwrite; what remains is the
		 * metadata libext2fs holds, then the device's own cache.
		 * fdatasync leaves timestamps of overwrites pending. */
		fs_lock(fsx);
		if (!fs_is_ro(fsx) && (!datasync || !fsx->journal))
			ret = fs_inode_sync_times(fsx, fi, NULL);
		if (!ret)
			ret = fs_sync_inode(fsx, fi->ino, datasync,
					    &need_datasync);
		fs_unlock(fsx);
		if (!ret && need_datasync && fdatasync(fsx->dev_fd) < 0)
			ret = -errno;
	}
	io_put(fsx, fi, ref);
	fuse_reply_err(req, -ret);
}

/* --- truncate and release --------------------------------------------- */

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
		err = ext2fs_inline_data_set(
			fsx->fs, fi->ino, (struct ext2_inode *)inode, buf, cap);
		free(buf);
		if (err)
			return translate_error(fsx, err, fi->ino);
		ret = fs_read_inode(fsx, fi->ino, inode);
		if (ret)
			return ret;
	}
	err = ext2fs_inode_size_set(fsx->fs, (struct ext2_inode *)inode, size);
	if (err)
		return translate_error(fsx, err, fi->ino);
	return fs_write_inode(fsx, fi->ino, inode);
}

/*
 * io_truncate() and io_truncate_tail(): with @tail, the size stays and
 * only blocks past it go (an orphan's unfinished truncate).
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
	ret = io_ext2_nocache(fsx, fi->ino);
	if (!ret)
		ret = fs_read_inode(fsx, fi->ino, &inode);
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
		 * journal: the new size first: should the blocks take more
		 * than one transaction, the inode is on the orphan list with
		 * this size, and a crash leaves the rest to the next mount.
		 */
		err = ext2fs_inode_size_set(fsx->fs,
					    (struct ext2_inode *)&inode, size);
		if (!err)
			err = io_punch_split(fsx, fi->ino, &inode,
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

int io_release_blocks(struct iomapfs *fsx, ext2_ino_t ino,
		      struct ext2_inode_large *inode)
{
	errcode_t err = 0;
	int ret;

	ret = io_ext2_nocache(fsx, ino);
	if (ret)
		return ret;
	/* journal: a large file is freed over several transactions, on
	 * the orphan list (the caller takes it off as it frees the inode). */
	if (!(inode->i_flags & EXT4_INLINE_DATA_FL) &&
	    ext2fs_inode_has_valid_blocks2(fsx->fs, (struct ext2_inode *)inode))
		err = io_punch_split(fsx, ino, inode, 0, ~0ULL, true);
	cache_forget(fsx->cache, ino, CACHE_R_UNLINK);
	return err ? translate_error(fsx, err, ino) : 0;
}
