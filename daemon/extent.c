// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * extent.c - the extent and block work of the daemon: giving a file
 * unwritten extents over its holes, converting them to written once the
 * data is on the device, punching ranges out, and keeping libext2fs's
 * block cache off before any block changes owner.  These are libext2fs
 * routines: they take the filesystem, return an errcode_t, and run under
 * fs_lock; the data path and the inode work above turn their errors into
 * -errno with translate_error().  They never touch file data.
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
 * and extent_nocache() switches it off again whenever libext2fs has turned
 * it back on (its threaded bitmap read does), before any block changes
 * hands, so neither can happen: when a metadata block is freed, its last
 * write has already reached the device, and a later pwrite of data is the
 * last word.  The data path never moves file data through the io_channel,
 * so libext2fs never holds a copy of a data block at all.  The bitmaps,
 * group descriptors and inodes libext2fs keeps in memory never describe
 * data contents, only ownership.
 */
#include "config.h"

#include <stdbool.h>

#include "extent.h"

/* See extent.h.  The remembered pointers are guarded by fs_lock. */
errcode_t extent_nocache(ext2_filsys fs)
{
	static const void *seen_block_map, *seen_inode_map;
	errcode_t err;

	if (!fs->block_map || !fs->inode_map) {
		err = ext2fs_read_bitmaps(fs);
		if (err)
			return err;
	}
	if ((const void *)fs->block_map == seen_block_map &&
	    (const void *)fs->inode_map == seen_inode_map)
		return 0;
	err = io_channel_set_options(fs->io, "cache=off");
	if (err)
		return err;
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
static errcode_t extent_punch_ind_range(ext2_filsys fs, ext2_ino_t ino,
					struct ext2_inode *inode,
					blk64_t start, blk64_t end)
{
	blk64_t lblk, pblk, zero;
	blk64_t last = (EXT2_I_SIZE(inode) + fs->blocksize - 1) /
			       fs->blocksize +
		       ext2fs_get_stat_i_blocks(fs, inode) /
			       (fs->blocksize / 512);
	uint64_t freed = 0;
	errcode_t err = 0, err2;

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
		err2 = ext2fs_iblk_sub_blocks(fs, inode, freed);
		if (!err)
			err = err2;
	}
	return err;
}

errcode_t extent_punch(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode *inode,
		       blk64_t start, blk64_t end)
{
	blk64_t last = ext2fs_blocks_count(fs->super) - 1, lblk = 0;
	ext2_extent_handle_t handle;
	struct ext2fs_extent ex;
	bool found = false;
	errcode_t err;
	int op;

	if (!(inode->i_flags & (EXT4_EXTENTS_FL | EXT4_INLINE_DATA_FL)) &&
	    end != ~0ULL && !LINUX_S_ISLNK(inode->i_mode))
		return extent_punch_ind_range(fs, ino, inode, start, end);
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

/* Replace the current extent with @ex and fix the index blocks above. */
static errcode_t extent_put(ext2_extent_handle_t h, struct ext2fs_extent *ex)
{
	errcode_t err = ext2fs_extent_replace(h, 0, ex);

	return err ? err : ext2fs_extent_fix_parents(h);
}

/* Insert @ex after the current extent and fix the index blocks above. */
static errcode_t extent_add(ext2_extent_handle_t h, struct ext2fs_extent *ex)
{
	errcode_t err = ext2fs_extent_insert(h, EXT2_EXTENT_INSERT_AFTER, ex);

	return err ? err : ext2fs_extent_fix_parents(h);
}

/*
 * Delete the current extent and fix the index blocks above (a leaf left
 * empty is freed, and then no extent is current: not an error).
 */
static errcode_t extent_drop(ext2_extent_handle_t h)
{
	errcode_t err = ext2fs_extent_delete(h, 0);

	if (!err)
		err = ext2fs_extent_fix_parents(h);
	return err == EXT2_ET_NO_CURRENT_NODE ? 0 : err;
}

/*
 * Insert @ex, which lies in a hole of the file, where it belongs, and fix
 * the index blocks above.
 */
static errcode_t extent_insert_new(ext2_extent_handle_t h,
				   struct ext2fs_extent *ex)
{
	struct ext2fs_extent cur;
	int flags = EXT2_EXTENT_INSERT_AFTER;
	errcode_t err;

	/* In a hole, goto leaves current the extent before it in the leaf,
	 * or the leaf's first extent when none is before, or nothing in an
	 * empty tree. */
	err = ext2fs_extent_goto(h, ex->e_lblk);
	if (err != EXT2_ET_EXTENT_NOT_FOUND)
		return err ? err : EXT2_ET_EXTENT_NOT_FOUND; /* not a hole */
	err = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &cur);
	if (err && err != EXT2_ET_NO_CURRENT_NODE)
		return err;
	if (!err && cur.e_lblk > ex->e_lblk)
		flags = 0; /* before it */
	err = ext2fs_extent_insert(h, flags, ex);
	return err ? err : ext2fs_extent_fix_parents(h);
}

/*
 * Merge the extent that holds @lblk with the extent after it when both
 * are written, or both unwritten, and the second continues the first in
 * the file and on the device, within the length limit.  A written and an
 * unwritten extent never merge: that would expose stale blocks, or hide
 * data.
 */
static errcode_t extent_join_next(ext2_extent_handle_t h, blk64_t lblk)
{
	struct ext2fs_extent cur, next;
	bool uninit;
	errcode_t err;

	if (ext2fs_extent_goto(h, lblk) ||
	    ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &cur) ||
	    ext2fs_extent_get(h, EXT2_EXTENT_NEXT_LEAF, &next))
		return 0;
	uninit = cur.e_flags & EXT2_EXTENT_FLAGS_UNINIT;
	if (next.e_lblk <= cur.e_lblk ||
	    uninit != !!(next.e_flags & EXT2_EXTENT_FLAGS_UNINIT) ||
	    cur.e_lblk + cur.e_len != next.e_lblk ||
	    cur.e_pblk + cur.e_len != next.e_pblk ||
	    cur.e_len + next.e_len >
		    (uninit ? EXT_UNINIT_MAX_LEN : EXT_INIT_MAX_LEN))
		return 0;
	err = ext2fs_extent_goto(h, next.e_lblk);
	if (!err)
		err = extent_drop(h);
	if (!err)
		err = ext2fs_extent_goto(h, cur.e_lblk);
	if (err)
		return err;
	cur.e_len += next.e_len;
	return extent_put(h, &cur);
}

/*
 * Map file blocks [pos, last], a hole, to new unwritten extents, taking
 * blocks from @goal on.
 */
static errcode_t extent_alloc_hole(ext2_filsys fs, ext2_extent_handle_t h,
				   struct ext2_inode *inode, blk64_t pos,
				   blk64_t last, blk64_t goal)
{
	struct ext2fs_extent ex;
	blk64_t pblk, plen, want;
	errcode_t err;

	while (pos <= last) {
		want = last - pos + 1;
		if (want > EXT_UNINIT_MAX_LEN)
			want = EXT_UNINIT_MAX_LEN;
		/* The free run at or after @goal, as long as it goes. */
		err = ext2fs_new_range(fs, 0, goal, want, NULL, &pblk, &plen);
		if (err)
			return err;
		if (plen > want)
			plen = want;
		ext2fs_block_alloc_stats_range(fs, pblk, plen, +1);
		err = ext2fs_iblk_add_blocks(fs, inode, plen);
		if (!err) {
			ex = (struct ext2fs_extent){
				.e_lblk = pos,
				.e_pblk = pblk,
				.e_len = (__u32)plen,
				.e_flags = EXT2_EXTENT_FLAGS_UNINIT,
			};
			err = extent_insert_new(h, &ex);
			if (err)
				(void)ext2fs_iblk_sub_blocks(fs, inode, plen);
		}
		if (err) {
			ext2fs_block_alloc_stats_range(fs, pblk, plen, -1);
			return err;
		}
		/* Runs that continue each other stay one extent. */
		err = extent_join_next(h, pos + plen - 1);
		if (!err && pos > 0)
			err = extent_join_next(h, pos - 1);
		if (err)
			return err;
		pos += plen;
		goal = pblk + plen;
	}
	return 0;
}

/*
 * Not ext2fs_fallocate(): in libext2fs 1.47.0 it allocates from the start
 * of the range all the way to the next extent when the file has none
 * before the range (a 4 KiB write into a sparse file took every block up
 * to the next extent), and when a hole lies between two extents whose
 * device blocks run backwards it asks the bitmap about a range of negative
 * length ("Illegal block number passed to ext2fs_test_block_bitmap",
 * under fsx with zero ranges).  Both are fixed after 1.47.0 (e2fsprogs
 * commits 149805bf and 459efa34).  Here each hole gets exactly its own
 * blocks, placed after the extent before it (or before the extent after
 * it), as ext4 places them.
 */
errcode_t extent_alloc(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode *inode,
		       blk64_t start, blk64_t end)
{
	ext2_extent_handle_t h;
	struct ext2fs_extent cur, next;
	blk64_t pos = start, last, goal;
	errcode_t err;

	/* Clusters (bigalloc) need libext2fs's implied cluster allocation. */
	if (EXT2FS_CLUSTER_RATIO(fs) > 1)
		return ext2fs_fallocate(fs, EXT2_FALLOCATE_FORCE_UNINIT, ino,
					inode, ~0ULL, start, end - start + 1);
	err = ext2fs_extent_open2(fs, ino, inode, &h);
	if (err)
		return err;
	while (pos <= end) {
		err = ext2fs_extent_goto(h, pos);
		if (!err) {
			err = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &cur);
			if (err)
				break;
			pos = cur.e_lblk + cur.e_len; /* mapped: skip it */
			continue;
		}
		if (err != EXT2_ET_EXTENT_NOT_FOUND)
			break;
		/* A hole from @pos to the next extent, at most to @end. */
		last = end;
		goal = 0;
		err = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &cur);
		if (err && err != EXT2_ET_NO_CURRENT_NODE)
			break;
		if (err) {		       /* no extent at all */
		} else if (cur.e_lblk > pos) { /* the first one, after pos */
			if (cur.e_lblk - 1 < last)
				last = cur.e_lblk - 1;
			if (cur.e_pblk > cur.e_lblk - pos)
				goal = cur.e_pblk - (cur.e_lblk - pos);
		} else { /* the one before pos */
			goal = cur.e_pblk + (pos - cur.e_lblk);
			if (!ext2fs_extent_get(h, EXT2_EXTENT_NEXT_LEAF,
					       &next) &&
			    next.e_lblk > cur.e_lblk && next.e_lblk - 1 < last)
				last = next.e_lblk - 1;
		}
		if (!goal || goal >= ext2fs_blocks_count(fs->super))
			goal = ext2fs_find_inode_goal(fs, ino, inode, pos);
		err = extent_alloc_hole(fs, h, inode, pos, last, goal);
		if (err)
			break;
		pos = last + 1;
	}
	ext2fs_extent_free(h);
	return err;
}

/*
 * Whether the written extent @to, just before or just after @ex, continues
 * it in the file and on the device and has room for @n more blocks.
 */
static bool extent_can_take(const struct ext2fs_extent *to,
			    const struct ext2fs_extent *ex, blk64_t n)
{
	const struct ext2fs_extent *lo = to->e_lblk < ex->e_lblk ? to : ex;
	const struct ext2fs_extent *hi = lo == to ? ex : to;

	return !(to->e_flags & EXT2_EXTENT_FLAGS_UNINIT) &&
	       lo->e_lblk + lo->e_len == hi->e_lblk &&
	       lo->e_pblk + lo->e_len == hi->e_pblk &&
	       to->e_len + n <= EXT_INIT_MAX_LEN;
}

/*
 * Give @n blocks of the unwritten extent @ex to the written extent @to
 * (which extent_can_take() them): the first @n when @to comes before @ex,
 * so that appending writes keep growing one extent, the last @n when it
 * comes after, so that filling preallocated space from the back does too.
 * The rest of @ex, if any, stays unwritten.
 */
static errcode_t extent_give(ext2_extent_handle_t h, struct ext2fs_extent *ex,
			     struct ext2fs_extent *to, blk64_t n)
{
	bool head = to->e_lblk < ex->e_lblk;
	struct ext2fs_extent rest = *ex;
	errcode_t err;

	err = ext2fs_extent_goto(h, ex->e_lblk);
	if (err)
		return err;
	if (n == ex->e_len) {
		err = extent_drop(h);
	} else {
		if (head) {
			rest.e_lblk += n;
			rest.e_pblk += n;
		}
		rest.e_len -= (__u32)n;
		err = extent_put(h, &rest);
	}
	if (!err)
		err = ext2fs_extent_goto(h, to->e_lblk);
	if (err)
		return err;
	if (!head) {
		to->e_lblk -= n;
		to->e_pblk -= n;
	}
	to->e_len += (__u32)n;
	return extent_put(h, to);
}

/* See extent.h. */
errcode_t extent_convert(ext2_extent_handle_t h, blk64_t start, blk64_t end,
			 blk64_t *done)
{
	struct ext2fs_extent ex, orig, nb, part;
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
		/* A written neighbour that continues it takes the converted
		 * part: the one before when the part starts the extent, else
		 * the one after when it ends it. */
		if ((s == a &&
		     !ext2fs_extent_get(h, EXT2_EXTENT_PREV_LEAF, &nb) &&
		     nb.e_lblk < a && extent_can_take(&nb, &ex, e - s + 1)) ||
		    (e == b && !ext2fs_extent_goto(h, a) &&
		     !ext2fs_extent_get(h, EXT2_EXTENT_NEXT_LEAF, &nb) &&
		     nb.e_lblk > b && extent_can_take(&nb, &ex, e - s + 1))) {
			err = extent_give(h, &ex, &nb, e - s + 1);
			if (err)
				return err;
			goto joined;
		}
		err = ext2fs_extent_goto(h, a);
		if (err)
			return err;
		if (s == a && e == b) {
			ex.e_flags &= ~EXT2_EXTENT_FLAGS_UNINIT;
			err = extent_put(h, &ex);
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
		err = extent_put(h, &part);
		if (err)
			return err;
		if (s > a) {
			part = orig;
			part.e_lblk = s;
			part.e_pblk = orig.e_pblk + (s - a);
			part.e_len = (__u32)(e - s + 1);
			part.e_flags &= ~EXT2_EXTENT_FLAGS_UNINIT;
			err = extent_add(h, &part);
		}
		if (!err && e < b) {
			part = orig;
			part.e_lblk = e + 1;
			part.e_pblk = orig.e_pblk + (e + 1 - a);
			part.e_len = (__u32)(b - e);
			err = extent_add(h, &part);
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
				(void)extent_put(h, &orig);
			return err;
		}
	joined:
		/* [s, e] is written now.  A join fails only on an I/O error
		 * in the middle of the tree update; it is reported. */
		*done = e + 1;
		err = extent_join_next(h, e);
		if (!err && s > 0)
			err = extent_join_next(h, s - 1);
		if (err)
			return err;
		s = e + 1;
	}
	*done = end + 1;
	return 0;
}
