// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ext2map.c - the ext2 mapping source: answers "what lies at byte X of
 * inode N" from the on-disk mapping metadata with libext2fs.  Extent files
 * cost one extent-tree descent per lookup (plus one step to the next leaf
 * for a hole); block-mapped files walk the indirect blocks from the block
 * looked up, never from the start of the file.  Everything read from disk
 * is checked against the filesystem's geometry before it is trusted, and
 * every loop is bounded by the file's maximum size, so a corrupt tree gives
 * -EUCLEAN rather than a crash or a hang.  This file is the only place in
 * shared/ where an errcode_t exists.
 *
 * Choices the header leaves open:
 *  - One extent is one mapping, even when the next extent continues it in
 *    file and on disk (an extent holds at most 32768 blocks): the answers
 *    then match "debugfs ex" and FIEMAP row for row, and the cache's range
 *    map merges such neighbours anyway.  Block-mapped runs are merged, as
 *    they have no rows of their own.
 *  - LAST is set on every mapping whose end reaches or passes EOF rounded
 *    up to the block size, so also on extents and holes wholly past EOF
 *    (fallocate KEEP_SIZE); a mapping without it is followed by more file.
 *  - Without the inode bitmap loaded, an inode with no mode or no links is
 *    "not in use" (-ENOENT) for iomap_ext2_lookup() and the walk; an
 *    open-but-unlinked file must go through iomap_ext2_lookup_inode().
 *  - The maximum size is libext2fs's (ext2fs_file_block_offset_too_big):
 *    2^32 - 1 blocks for extent and inline files; for block-mapped files
 *    also no more than 12 + p + p^2 + p^3 blocks, p pointers a block.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2fs.h>

#include "ext2map.h"
#include "iomap.h"

/* The deepest extent tree the kernel accepts (EXT4_MAX_EXTENT_DEPTH). */
#define EXT2MAP_MAX_DEPTH 5

/* One row of the errcode_t -> errno table. */
struct ext2_errno_map {
	errcode_t err;
	int errnum;
};

/*
 * Every libext2fs code that has a better errno than EIO.  Corrupt metadata
 * is EUCLEAN (the kernel's EFSCORRUPTED), as ext4 and fuse2fs report it.
 */
static const struct ext2_errno_map ext2_errno_table[] = {
	{EXT2_ET_NO_MEMORY, ENOMEM},
	{EXT2_ET_MAGIC_EXT2_FILE, ENOMEM},
	{EXT2_ET_RO_FILSYS, EROFS},
	{EXT2_ET_FILE_RO, EROFS},
	{EXT2_ET_RO_UNSUPP_FEATURE, EROFS},
	{EXT2_ET_RO_BLOCK_ITERATE, EROFS},
	{EXT2_ET_FILE_TOO_BIG, EFBIG},
	{EXT2_ET_BLOCK_ALLOC_FAIL, ENOSPC},
	{EXT2_ET_INODE_ALLOC_FAIL, ENOSPC},
	{EXT2_ET_DIR_NO_SPACE, ENOSPC},
	{EXT2_ET_EXTENT_NO_SPACE, ENOSPC},
	{EXT2_ET_EA_NO_SPACE, ENOSPC},
	{EXT2_ET_INLINE_DATA_NO_SPACE, ENOSPC},
	{EXT2_ET_DIR_NO_SPACE_FOR_CSUM, ENOSPC},
	{EXT2_ET_TOO_MANY_REFS, EMLINK},
	{EXT2_ET_BAD_INODE_NUM, ENOENT},
	{EXT2_ET_FILE_NOT_FOUND, ENOENT},
	{EXT2_ET_EA_KEY_NOT_FOUND, ENODATA},
	{EXT2_ET_NO_INLINE_DATA, ENODATA},
	{EXT2_ET_FILE_EXISTS, EEXIST},
	{EXT2_ET_DIR_EXISTS, EEXIST},
	{EXT2_ET_NO_DIRECTORY, ENOTDIR},
	{EXT2_ET_SYMLINK_LOOP, ELOOP},
	{EXT2_ET_INVALID_ARGUMENT, EINVAL},
	{EXT2_ET_UNIMPLEMENTED, EOPNOTSUPP},
	{EXT2_ET_OP_NOT_SUPPORTED, EOPNOTSUPP},
	{EXT2_ET_EXTENT_NOT_SUPPORTED, EOPNOTSUPP},
	{EXT2_ET_UNSUPP_FEATURE, EOPNOTSUPP},
	{EXT2_ET_INODE_NOT_EXTENT, EOPNOTSUPP},
	{EXT2_ET_SHORT_READ, EIO},
	{EXT2_ET_SHORT_WRITE, EIO},
	{EXT2_ET_LLSEEK_FAILED, EIO},
	/* Corruption of one kind or another. */
	{EXT2_ET_BAD_MAGIC, EUCLEAN},
	{EXT2_ET_CORRUPT_SUPERBLOCK, EUCLEAN},
	{EXT2_ET_FILESYSTEM_CORRUPTED, EUCLEAN},
	{EXT2_ET_BAD_BLOCK_NUM, EUCLEAN},
	{EXT2_ET_BAD_IND_BLOCK, EUCLEAN},
	{EXT2_ET_BAD_DIND_BLOCK, EUCLEAN},
	{EXT2_ET_BAD_TIND_BLOCK, EUCLEAN},
	{EXT2_ET_BAD_EA_BLOCK_NUM, EUCLEAN},
	{EXT2_ET_BAD_EA_HEADER, EUCLEAN},
	{EXT2_ET_BAD_EA_HASH, EUCLEAN},
	{EXT2_ET_EA_BAD_VALUE_OFFSET, EUCLEAN},
	/*
	 * libext2fs returns these two only when it parses an xattr area
	 * whose entries overrun it: corruption, not the caller's ERANGE.
	 */
	{EXT2_ET_EA_BAD_NAME_LEN, EUCLEAN},
	{EXT2_ET_EA_BAD_VALUE_SIZE, EUCLEAN},
	{EXT2_ET_EA_INODE_CORRUPTED, EUCLEAN},
	{EXT2_ET_DIR_CORRUPTED, EUCLEAN},
	{EXT2_ET_EXTENT_HEADER_BAD, EUCLEAN},
	{EXT2_ET_EXTENT_INDEX_BAD, EUCLEAN},
	{EXT2_ET_EXTENT_LEAF_BAD, EUCLEAN},
	{EXT2_ET_EXTENT_INVALID_LENGTH, EUCLEAN},
	{EXT2_ET_EXTENT_CYCLE, EUCLEAN},
	{EXT2_ET_EXTENT_NO_DOWN, EUCLEAN},
	{EXT2_ET_INODE_CORRUPTED, EUCLEAN},
	{EXT2_ET_INODE_IS_GARBAGE, EUCLEAN},
	{EXT2_ET_MISSING_INODE_TABLE, EUCLEAN},
	{EXT2_ET_GDESC_BAD_BLOCK_MAP, EUCLEAN},
	{EXT2_ET_GDESC_BAD_INODE_MAP, EUCLEAN},
	{EXT2_ET_GDESC_BAD_INODE_TABLE, EUCLEAN},
	{EXT2_ET_RESIZE_INODE_CORRUPT, EUCLEAN},
	{EXT2_ET_CORRUPT_JOURNAL_SB, EUCLEAN},
	{EXT2_ET_UNDO_FILE_CORRUPT, EUCLEAN},
	{EXT2_ET_BAD_CRC, EUCLEAN},
	{EXT2_ET_SB_CSUM_INVALID, EUCLEAN},
	{EXT2_ET_INODE_CSUM_INVALID, EUCLEAN},
	{EXT2_ET_INODE_BITMAP_CSUM_INVALID, EUCLEAN},
	{EXT2_ET_BLOCK_BITMAP_CSUM_INVALID, EUCLEAN},
	{EXT2_ET_EXTENT_CSUM_INVALID, EUCLEAN},
	{EXT2_ET_DIR_CSUM_INVALID, EUCLEAN},
	{EXT2_ET_EXT_ATTR_CSUM_INVALID, EUCLEAN},
	{EXT2_ET_MMP_CSUM_INVALID, EUCLEAN},
	{EXT2_ET_UNKNOWN_CSUM, EUCLEAN},
	/* Another user holds the filesystem (MMP). */
	{EXT2_ET_MMP_FAILED, EBUSY},
	{EXT2_ET_MMP_FSCK_ON, EBUSY},
	{EXT2_ET_MMP_CHANGE_ABORT, EBUSY},
};

int iomap_ext2_errno(errcode_t err)
{
	size_t i;

	if (!err)
		return 0;
	/*
	 * libext2fs hands system errors back as plain errno values; its own
	 * codes live in the com_err table far above them.
	 */
	if (err > 0 && err < 4096)
		return -(int)err;
	for (i = 0; i < sizeof(ext2_errno_table) / sizeof(ext2_errno_table[0]);
	     i++)
		if (ext2_errno_table[i].err == err)
			return -ext2_errno_table[i].errnum;
	return -EIO;
}

static pthread_once_t ext2map_et_once = PTHREAD_ONCE_INIT;

static void ext2map_et_init(void)
{
	initialize_ext2_error_table();
}

const char *iomap_ext2_strerror(errcode_t err)
{
	/* com_err knows libext2fs's messages only once they are added. */
	pthread_once(&ext2map_et_once, ext2map_et_init);
	return error_message(err);
}

/* The number of logical blocks a file of @inode's kind may have. */
static uint64_t ext2map_max_blocks(ext2_filsys fs,
				   const struct ext2_inode *inode)
{
	/* The kernel stops at 2^32 - 2, the last 32-bit logical block. */
	uint64_t max = (1ULL << 32) - 1;
	uint64_t ppb, bm;

	if (inode->i_flags & (EXT4_EXTENTS_FL | EXT4_INLINE_DATA_FL))
		return max;
	ppb = fs->blocksize / sizeof(uint32_t);
	bm = EXT2_NDIR_BLOCKS + ppb + ppb * ppb + ppb * ppb * ppb;
	return bm < max ? bm : max;
}

int iomap_ext2_check_super(ext2_filsys fs, char *why, size_t size)
{
	const struct ext2_super_block *sb = fs->super;
	/* e2fsck's rule: block 1 for 1 KiB blocks without clusters, else 0 */
	uint32_t want = (sb->s_log_block_size == 0 &&
			 EXT2FS_CLUSTER_RATIO(fs) == 1) ? 1 : 0;

	if (sb->s_first_data_block != want) {
		snprintf(why, size,
			 "the superblock's first data block is %u, "
			 "not %u", sb->s_first_data_block, want);
		return -EUCLEAN;
	}
	return 0;
}

uint64_t iomap_ext2_max_bytes(ext2_filsys fs, const struct ext2_inode *inode)
{
	return ext2map_max_blocks(fs, inode) * fs->blocksize;
}

/* Everything a lookup needs to know about the inode, in blocks. */
struct ext2map_ctx {
	ext2_filsys fs;
	ext2_ino_t ino;
	struct ext2_inode *inode;
	uint64_t bsize;
	uint64_t eof_blocks; /* i_size rounded up to whole blocks */
	uint64_t max_blocks; /* first logical block past the maximum */
};

/* Whether the physical run [pblk, pblk + len) lies inside the filesystem. */
static bool ext2map_pblk_ok(ext2_filsys fs, uint64_t pblk, uint64_t len)
{
	uint64_t first = fs->super->s_first_data_block;
	uint64_t count = ext2fs_blocks_count(fs->super);

	return len > 0 && pblk >= first && pblk < count && len <= count - pblk;
}

/*
 * Fill @out with [lblk, end) of type @type at physical block @pblk (0 for
 * none), setting LAST when the mapping reaches EOF.
 */
static void ext2map_fill(const struct ext2map_ctx *c, uint64_t lblk,
			 uint64_t end, unsigned int type, uint64_t pblk,
			 struct iomap *out)
{
	out->offset = lblk * c->bsize;
	out->length = (end - lblk) * c->bsize;
	out->type = type;
	out->addr =
		iomap_type_has_addr(type) ? pblk * c->bsize : IOMAP_NULL_ADDR;
	out->flags = end >= c->eof_blocks ? IOMAP_F_LAST : 0;
}

/*
 * A hole at @lblk that ends at @next, the first mapped block after it
 * (c->max_blocks when there is none): it stops at EOF when EOF comes first,
 * and reaches the maximum size only past EOF and past every mapped block.
 */
static void ext2map_hole(const struct ext2map_ctx *c, uint64_t lblk,
			 uint64_t next, struct iomap *out)
{
	uint64_t end = next;

	if (lblk < c->eof_blocks && c->eof_blocks < end)
		end = c->eof_blocks;
	ext2map_fill(c, lblk, end, IOMAP_HOLE, 0, out);
}

/*
 * The sibling in the leaf, one @step (EXT2_EXTENT_NEXT_SIB or PREV_SIB) from
 * the extent the handle sits on, in *n; the handle then steps @back to where
 * it was.  1 with *n, 0 when libext2fs answers @none (no such sibling), or
 * -errno.
 */
static int ext2map_sibling(ext2_extent_handle_t h, int step, int back,
			   errcode_t none, struct ext2fs_extent *n)
{
	struct ext2fs_extent here;
	errcode_t err;

	err = ext2fs_extent_get(h, step, n);
	if (err == none)
		return 0;
	if (!err)
		err = ext2fs_extent_get(h, back, &here);
	return err ? iomap_ext2_errno(err) : 1;
}

/*
 * Check the leaf extent @e the handle sits on: not empty, inside the
 * filesystem and the maximum file size, and not overlapping or preceding
 * its neighbours in the leaf (libext2fs trusts the order; a lookup must
 * not).  Leaves the handle where it was.  Returns 0, -EUCLEAN, or -errno.
 */
static int ext2map_extent_check(const struct ext2map_ctx *c,
				ext2_extent_handle_t h,
				const struct ext2fs_extent *e)
{
	uint64_t end = e->e_lblk + (uint64_t)e->e_len;
	struct ext2fs_extent n;
	int ret;

	if (!e->e_len || end > c->max_blocks)
		return -EUCLEAN;
	if (!ext2map_pblk_ok(c->fs, e->e_pblk, e->e_len))
		return -EUCLEAN;

	ret = ext2map_sibling(h, EXT2_EXTENT_NEXT_SIB, EXT2_EXTENT_PREV_SIB,
			      EXT2_ET_EXTENT_NO_NEXT, &n);
	if (ret < 0)
		return ret;
	if (ret && n.e_lblk < end)
		return -EUCLEAN;
	ret = ext2map_sibling(h, EXT2_EXTENT_PREV_SIB, EXT2_EXTENT_NEXT_SIB,
			      EXT2_ET_EXTENT_NO_PREV, &n);
	if (ret < 0)
		return ret;
	if (ret && n.e_lblk + (uint64_t)n.e_len > e->e_lblk)
		return -EUCLEAN;
	return 0;
}

/*
 * The errno for @err from a step down the tree, the handle still on the
 * index entry it tried to follow: an entry that points outside the
 * filesystem is corruption, whatever reading there said.
 */
static int ext2map_down_errno(const struct ext2map_ctx *c,
			      ext2_extent_handle_t h, errcode_t err)
{
	struct ext2fs_extent idx;

	if (!ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &idx) &&
	    !(idx.e_flags & EXT2_EXTENT_FLAGS_LEAF) &&
	    !ext2map_pblk_ok(c->fs, idx.e_pblk, 1))
		return -EUCLEAN;
	return iomap_ext2_errno(err);
}

/*
 * Step from the leaf extent the handle sits on to the next one in file
 * order, up the tree and down again as far as needed.  libext2fs's own
 * NEXT_LEAF is not used: after ext2fs_extent_goto() the interior levels
 * are not marked visited, and it would walk back into the first leaf.
 * Returns 0, -ENODATA when there is no next extent, -EUCLEAN for an empty
 * leaf, or another -errno.  Bounded by the tree depth.
 */
static int ext2map_next_extent(const struct ext2map_ctx *c,
			       ext2_extent_handle_t h, struct ext2fs_extent *e)
{
	struct ext2_extent_info info;
	errcode_t err;

	err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT_SIB, e);
	while (err == EXT2_ET_EXTENT_NO_NEXT) {
		err = ext2fs_extent_get(h, EXT2_EXTENT_UP, e);
		if (err == EXT2_ET_EXTENT_NO_UP)
			return -ENODATA;
		if (err)
			return iomap_ext2_errno(err);
		err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT_SIB, e);
	}
	if (err)
		return iomap_ext2_errno(err);
	for (;;) {
		err = ext2fs_extent_get_info(h, &info);
		if (err)
			return iomap_ext2_errno(err);
		if (info.num_entries < 1)
			return -EUCLEAN;
		if (info.curr_level >= info.max_depth)
			return 0;
		/* DOWN lands on the first entry of the child node. */
		err = ext2fs_extent_get(h, EXT2_EXTENT_DOWN, e);
		if (err)
			return ext2map_down_errno(c, h, err);
	}
}

static int ext2map_extent_lookup(const struct ext2map_ctx *c, uint64_t lblk,
				 struct iomap *out)
{
	struct ext2_extent_info info;
	ext2_extent_handle_t h;
	struct ext2fs_extent e;
	errcode_t err;
	int ret;

	err = ext2fs_extent_open2(c->fs, c->ino, c->inode, &h);
	if (err)
		return iomap_ext2_errno(err);
	/* libext2fs accepts any depth; the kernel none beyond 5. */
	err = ext2fs_extent_get_info(h, &info);
	if (err)
		goto out_err;
	if (info.max_depth > EXT2MAP_MAX_DEPTH) {
		ret = -EUCLEAN;
		goto out_free;
	}

	/* One descent: to the extent holding lblk, or the one before it. */
	err = ext2fs_extent_goto(h, lblk);
	if (!err) {
		err = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &e);
		if (err)
			goto out_err;
		ret = ext2map_extent_check(c, h, &e);
		if (ret)
			goto out_free;
		if (lblk < e.e_lblk || lblk >= e.e_lblk + (uint64_t)e.e_len) {
			ret = -EUCLEAN;
			goto out_free;
		}
		ext2map_fill(c, lblk, e.e_lblk + (uint64_t)e.e_len,
			     (e.e_flags & EXT2_EXTENT_FLAGS_UNINIT)
				     ? IOMAP_UNWRITTEN
				     : IOMAP_MAPPED,
			     e.e_pblk + (lblk - e.e_lblk), out);
		ret = 0;
		goto out_free;
	}
	if (err != EXT2_ET_EXTENT_NOT_FOUND) {
		ret = ext2map_down_errno(c, h, err);
		goto out_free;
	}

	/* A hole: find where the next extent starts. */
	err = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &e);
	if (err == EXT2_ET_NO_CURRENT_NODE) {
		/* An empty tree. */
		ext2map_hole(c, lblk, c->max_blocks, out);
		ret = 0;
		goto out_free;
	}
	if (err)
		goto out_err;
	if (e.e_lblk <= lblk) {
		/*
		 * The handle sits on the extent before the hole, or on a
		 * broken one that goto could not place (length zero).
		 */
		ret = ext2map_extent_check(c, h, &e);
		if (ret)
			goto out_free;
		ret = ext2map_next_extent(c, h, &e);
		if (ret == -ENODATA) {
			ext2map_hole(c, lblk, c->max_blocks, out);
			ret = 0;
			goto out_free;
		}
		if (ret)
			goto out_free;
	}
	ret = ext2map_extent_check(c, h, &e);
	if (ret)
		goto out_free;
	/* Leaves out of order: the next extent must begin past the hole. */
	if (e.e_lblk <= lblk) {
		ret = -EUCLEAN;
		goto out_free;
	}
	ext2map_hole(c, lblk, e.e_lblk, out);
	ret = 0;
	goto out_free;

out_err:
	ret = iomap_ext2_errno(err);
out_free:
	ext2fs_extent_free(h);
	return ret;
}

/*
 * The indirect-block walker of block-mapped files.  It keeps the last block
 * read at each level so that scanning a run costs one read per indirect
 * block, not one descent per data block.
 */
struct ext2map_bm {
	const struct ext2map_ctx *c;
	uint64_t ppb;	   /* block pointers per block */
	blk64_t cached[3]; /* block held in buf[level - 1] */
	uint32_t *buf[3];
};

/*
 * Map logical block @lblk: *pblk is its physical block, or 0 in a hole,
 * and then *span is how many blocks from @lblk on are surely hole (a
 * missing indirect block makes a whole subtree one hole).  Returns 0,
 * -EUCLEAN for a pointer outside the filesystem, or -errno from a read.
 */
static int ext2map_bm_map(struct ext2map_bm *bm, uint64_t lblk, uint64_t *pblk,
			  uint64_t *span)
{
	const struct ext2map_ctx *c = bm->c;
	uint64_t rel = lblk, subtree = 1, ptr;
	int level, slot;
	errcode_t err;

	if (rel < EXT2_NDIR_BLOCKS) {
		ptr = c->inode->i_block[rel];
		level = 0;
	} else {
		/* Find the tree (IND, DIND, TIND) and lblk's place in it. */
		rel -= EXT2_NDIR_BLOCKS;
		for (level = 1, subtree = bm->ppb; level <= 3;
		     level++, subtree *= bm->ppb) {
			if (rel < subtree)
				break;
			rel -= subtree;
		}
		if (level > 3)
			return -EFBIG;
		ptr = c->inode->i_block[EXT2_NDIR_BLOCKS + level - 1];
	}

	for (; level > 0; level--) {
		/* ptr is the block of pointers covering @subtree blocks. */
		if (!ptr) {
			*pblk = 0;
			*span = subtree - rel;
			return 0;
		}
		if (!ext2map_pblk_ok(c->fs, ptr, 1))
			return -EUCLEAN;
		slot = level - 1;
		if (bm->cached[slot] != ptr) {
			err = io_channel_read_blk64(c->fs->io, ptr, 1,
						    bm->buf[slot]);
			if (err) {
				bm->cached[slot] = 0;
				return iomap_ext2_errno(err);
			}
			bm->cached[slot] = ptr;
		}
		subtree /= bm->ppb;
		ptr = ext2fs_le32_to_cpu(bm->buf[slot][rel / subtree]);
		if (level == 1 && !ptr) {
			/* One step over a run of holes in this block. */
			uint64_t k = rel + 1;

			while (k < bm->ppb && !bm->buf[slot][k])
				k++;
			*pblk = 0;
			*span = k - rel;
			return 0;
		}
		rel %= subtree;
	}
	if (ptr && !ext2map_pblk_ok(c->fs, ptr, 1))
		return -EUCLEAN;
	*pblk = ptr;
	*span = 1;
	return 0;
}

static int ext2map_blockmap_lookup(const struct ext2map_ctx *c, uint64_t lblk,
				   struct iomap *out)
{
	struct ext2map_bm bm = {.c = c, .ppb = c->bsize / sizeof(uint32_t)};
	uint64_t pblk, next, span, n;
	char *mem;
	int ret;

	mem = malloc(3 * c->bsize);
	if (!mem)
		return -ENOMEM;
	for (n = 0; n < 3; n++)
		bm.buf[n] = (uint32_t *)(mem + n * c->bsize);

	ret = ext2map_bm_map(&bm, lblk, &pblk, &span);
	if (ret)
		goto out_free;
	if (pblk) {
		/*
		 * Merge the physically contiguous blocks that follow.  A bad
		 * pointer further on ends the run; its own lookup reports it.
		 */
		for (n = 1; lblk + n < c->max_blocks; n++) {
			if (ext2map_bm_map(&bm, lblk + n, &next, &span) ||
			    next != pblk + n)
				break;
		}
		ext2map_fill(c, lblk, lblk + n, IOMAP_MAPPED, pblk, out);
		goto out_free;
	}

	/*
	 * A hole: skip whole missing subtrees.  Within EOF only up to EOF is
	 * of interest; past it, up to the next block mapped past EOF.
	 */
	n = lblk + span;
	while (n < c->max_blocks &&
	       (lblk >= c->eof_blocks || n < c->eof_blocks)) {
		/* As above: a bad pointer ends the hole and errs on its own. */
		if (ext2map_bm_map(&bm, n, &next, &span) || next)
			break;
		n += span;
	}
	if (n > c->max_blocks)
		n = c->max_blocks;
	ext2map_hole(c, lblk, n, out);
out_free:
	free(mem);
	return ret;
}

/* Whether the inode's data lives in blocks at all. */
static bool ext2map_has_mappings(struct ext2_inode *inode)
{
	if (LINUX_S_ISREG(inode->i_mode) || LINUX_S_ISDIR(inode->i_mode))
		return true;
	if (LINUX_S_ISLNK(inode->i_mode))
		return (inode->i_flags & EXT4_INLINE_DATA_FL) ||
		       !ext2fs_is_fast_symlink(inode);
	return false;
}

int iomap_ext2_lookup_inode(ext2_filsys fs, ext2_ino_t ino,
			    struct ext2_inode_large *inode, uint64_t off,
			    struct iomap *out)
{
	struct ext2_inode *in = (struct ext2_inode *)inode;
	struct ext2map_ctx c = {
		.fs = fs,
		.ino = ino,
		.inode = in,
		.bsize = fs->blocksize,
	};
	uint64_t lblk, size;

	if (!ext2map_has_mappings(in))
		return -EINVAL;
	c.max_blocks = ext2map_max_blocks(fs, in);
	lblk = off / c.bsize;
	if (lblk >= c.max_blocks)
		return -EFBIG;
	size = EXT2_I_SIZE(in);
	c.eof_blocks = size / c.bsize + (size % c.bsize != 0);

	if (in->i_flags & EXT4_INLINE_DATA_FL) {
		/*
		 * The data sits in the inode and covers block 0; a larger
		 * i_size (mke2fs -d makes such files from sparse ones) reads
		 * as a hole after it.
		 */
		if (lblk == 0)
			ext2map_fill(&c, 0, 1, IOMAP_INLINE, 0, out);
		else
			ext2map_hole(&c, lblk, c.max_blocks, out);
		return 0;
	}
	if (in->i_flags & EXT4_EXTENTS_FL)
		return ext2map_extent_lookup(&c, lblk, out);
	return ext2map_blockmap_lookup(&c, lblk, out);
}

/* Read inode @ino for a lookup: -ENOENT when it is not in use. */
static int ext2map_read_inode(ext2_filsys fs, ext2_ino_t ino,
			      struct ext2_inode_large *inode)
{
	errcode_t err;

	if (ino < 1 || ino > fs->super->s_inodes_count)
		return -ENOENT;
	memset(inode, 0, sizeof(*inode));
	err = ext2fs_read_inode_full(fs, ino, (struct ext2_inode *)inode,
				     sizeof(*inode));
	if (err)
		return iomap_ext2_errno(err);
	/*
	 * With the bitmap loaded it decides; without it a free inode shows
	 * as no mode or no links (orphans need the bitmap or a caller that
	 * holds the inode, as the daemon does).
	 */
	if (fs->inode_map)
		return ext2fs_test_inode_bitmap2(fs->inode_map, ino) ? 0
								     : -ENOENT;
	if (!inode->i_mode || !inode->i_links_count)
		return -ENOENT;
	return 0;
}

int iomap_ext2_lookup(ext2_filsys fs, ext2_ino_t ino, uint64_t off,
		      struct iomap *out)
{
	struct ext2_inode_large inode;
	int ret;

	ret = ext2map_read_inode(fs, ino, &inode);
	if (ret)
		return ret;
	return iomap_ext2_lookup_inode(fs, ino, &inode, off, out);
}

int iomap_ext2_walk(ext2_filsys fs, ext2_ino_t ino, uint64_t off, uint64_t len,
		    iomap_ext2_walk_fn fn, void *arg)
{
	struct ext2_inode_large inode;
	struct iomap m;
	uint64_t max, pos, end;
	bool reported = false;
	int ret;

	ret = ext2map_read_inode(fs, ino, &inode);
	if (ret)
		return ret;
	if (!ext2map_has_mappings((struct ext2_inode *)&inode))
		return -EINVAL;
	max = iomap_ext2_max_bytes(fs, (struct ext2_inode *)&inode);
	if (off >= max)
		return -EFBIG;
	end = (len && len <= max - off) ? off + len : max;
	pos = off - off % fs->blocksize;

	/* Each lookup starts where the last ended and is >= 1 block long. */
	while (pos < end) {
		ret = iomap_ext2_lookup_inode(fs, ino, &inode, pos, &m);
		if (ret)
			return ret;
		/*
		 * With no length, stop before the hole that lies past EOF and
		 * past the last extent, unless it is all there is.
		 */
		if (!len && reported && m.type == IOMAP_HOLE &&
		    m.offset + m.length == max)
			break;
		ret = fn(&m, arg);
		if (ret)
			return ret;
		reported = true;
		pos = m.offset + m.length;
	}
	return 0;
}
