// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * split.c - freeing and preallocating the blocks of a large file in pieces
 * that each fit a transaction of the journal (split.h).  A piece frees or
 * allocates what can dirty at most journal_chunk_blocks() groups (two
 * bitmap blocks and a descriptor block each), which fits a quarter
 * transaction; between two pieces journal_split() commits when the
 * running transaction is a quarter full.
 */
#include "config.h"

#include <errno.h>

#include "extent.h"
#include "ext2map.h"
#include "journal.h"
#include "orphan.h"
#include "split.h"

/* The last file block an extent maps; *none when there is no extent. */
static errcode_t split_last_extent(ext2_filsys fs, ext2_ino_t ino,
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
 * Where a piece that ends at file block @last may start so that what it
 * frees dirties at most @budget groups: the extents from @last down, each
 * counted for the groups its blocks lie in and once more for its place in
 * an extent block, until the budget is spent.  A long contiguous extent
 * costs a group or two, a fragmented range one per extent.  Sets *s
 * (>= @start).
 */
static errcode_t split_piece_start(ext2_filsys fs, ext2_ino_t ino,
				   struct ext2_inode_large *inode,
				   blk64_t start, blk64_t last, blk64_t budget,
				   blk64_t *s)
{
	uint64_t bpg = EXT2_BLOCKS_PER_GROUP(fs->super), cost = 0;
	blk64_t first = fs->super->s_first_data_block;
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
		if (!(ex.e_flags & EXT2_EXTENT_FLAGS_LEAF) || !ex.e_len ||
		    ex.e_lblk + ex.e_len - 1 < start)
			break;
		a = ex.e_lblk > start ? ex.e_lblk : start;
		b = ex.e_lblk + ex.e_len - 1 < last ? ex.e_lblk + ex.e_len - 1
						     : last;
		if (a <= b) {
			pa = ex.e_pblk + (a - ex.e_lblk);
			pb = ex.e_pblk + (b - ex.e_lblk);
			cost += (pb - first) / bpg - (pa - first) / bpg + 2;
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
 * extent_punch() of [start, end] on @inode, whose i_size the caller may
 * have lowered already: libext2fs 1.47.0 sizes the last index entry of an
 * extent tree by i_size (ext2fs_extent_get()), and with i_size below the
 * extents a punch fails half-way ("Extent not found").  So the punch runs
 * with an i_size that covers @cover bytes, and the caller's size goes back
 * before the inode is written again (in the same transaction).
 */
static errcode_t split_punch_sized(ext2_filsys fs, ext2_ino_t ino,
				   struct ext2_inode_large *inode,
				   blk64_t start, blk64_t end, uint64_t cover)
{
	uint64_t size = EXT2_I_SIZE(inode);
	errcode_t err, err2;

	if (!(inode->i_flags & EXT4_EXTENTS_FL) || cover <= size)
		return extent_punch(fs, ino, EXT2_INODE(inode), start, end);
	err = ext2fs_inode_size_set(fs, EXT2_INODE(inode), cover);
	if (err)
		return err;
	err = extent_punch(fs, ino, EXT2_INODE(inode), start, end);
	err2 = ext2fs_inode_size_set(fs, EXT2_INODE(inode), size);
	if (!err2)
		err2 = ext2fs_write_inode_full(fs, ino, EXT2_INODE(inode),
					       sizeof(*inode));
	return err ? err : err2;
}

/* Between two pieces: commit if needed, and read the inode again. */
static errcode_t split_commit(struct iomapfs *fsx, ext2_ino_t ino,
			      struct ext2_inode_large *inode)
{
	int ret = journal_split(fsx->journal);

	if (!ret)
		ret = fs_read_inode(fsx, ino, inode);
	return ret ? (errcode_t)-ret : 0;
}

errcode_t split_punch(struct iomapfs *fsx, ext2_ino_t ino,
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
		return extent_punch(fs, ino, EXT2_INODE(inode), start, end);
	if (inode->i_flags & EXT4_EXTENTS_FL) {
		err = split_last_extent(fs, ino, inode, &last, &none);
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
		return split_punch_sized(fs, ino, inode, start, end, cover);
	if (orphan) {
		ret = orphan_add(fsx, ino, inode);
		if (ret)
			return (errcode_t)-ret;
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
			err = split_piece_start(fs, ino, inode, start, last,
						chunk, &s);
			if (err)
				return err;
		} else {
			s = last >= start + chunk - 1 ? last - chunk + 1
						      : start;
		}
		/*
		 * Block maps: a piece to the end is punched "to the end",
		 * which libext2fs gets right, and past @last nothing is
		 * mapped any more (extent_punch()).
		 */
		err = split_punch_sized(fs, ino, inode, s,
					!(inode->i_flags & EXT4_EXTENTS_FL) &&
							end == ~0ULL
						? ~0ULL
						: last,
					cover);
		if (err || s == start)
			return err;
		last = s - 1;
		err = split_commit(fsx, ino, inode);
		if (err)
			return err;
	}
}

errcode_t split_alloc(struct iomapfs *fsx, ext2_ino_t ino,
		      struct ext2_inode_large *inode, blk64_t start,
		      blk64_t end)
{
	blk64_t chunk, pos = start, n;
	errcode_t err;
	int ret;

	chunk = fsx->journal ? journal_chunk_blocks(fsx->journal) : 0;
	if (!chunk || end - start + 1 <= chunk)
		return extent_alloc(fsx->fs, ino, EXT2_INODE(inode), start,
				    end);
	for (;;) {
		n = end - pos + 1 < chunk ? end - pos + 1 : chunk;
		err = extent_alloc(fsx->fs, ino, EXT2_INODE(inode), pos,
				   pos + n - 1);
		if (err || pos + n - 1 == end)
			return err;
		pos += n;
		/* i_blocks grew in our copy: write it before a commit. */
		ret = fs_write_inode(fsx, ino, inode);
		if (ret)
			return (errcode_t)-ret;
		err = split_commit(fsx, ino, inode);
		if (err)
			return err;
	}
}
