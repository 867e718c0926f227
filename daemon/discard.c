// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * discard.c - FITRIM and -o discard, as ext4 gives free space back: runs
 * of free blocks are found in the block bitmap, one group at a time under
 * fs_lock (so no allocation can take a block between the look and the
 * discard), and discarded: a hole punched in an image file, BLKDISCARD on
 * a block device.  Whether one block may go is asked of one function,
 * discard_block_free_now(), where the journal plugs in.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "discard.h"
#include "journal.h"

bool discard_block_free_now(struct iomapfs *fsx, blk64_t blk)
{
	ext2_filsys fs = fsx->fs;

	if (!fs->block_map || ext2fs_test_block_bitmap2(fs->block_map, blk))
		return false;
	/*
	 * journal (R4 in journal.c): a block freed by a transaction that
	 * has not committed is held until it commits.  A crash before that
	 * commit brings the freeing back out of existence, and the block
	 * with it, so its contents must still be there: not discarded.
	 */
	return !fsx->journal || !journal_block_pending(fsx->journal, blk);
}

int discard_blocks(struct iomapfs *fsx, blk64_t blk, blk64_t count)
{
	uint64_t range[2] = {blk * (uint64_t)fsx->blocksize,
			     count * (uint64_t)fsx->blocksize};

	if (fsx->blkdev)
		return ioctl(fsx->dev_fd, BLKDISCARD, range) < 0 ? -errno : 0;
	if (fallocate(fsx->dev_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)range[0], (off_t)range[1]) < 0)
		return -errno;
	return 0;
}

/*
 * Discard the free runs of at least @minlen blocks in [@first, @last] of
 * one group.  fs_lock held.  Adds the blocks discarded to *@done.
 */
static int discard_group(struct iomapfs *fsx, blk64_t first, blk64_t last,
			 blk64_t minlen, uint64_t *done)
{
	blk64_t blk = first, run;
	int ret;

	while (blk <= last) {
		if (!discard_block_free_now(fsx, blk)) {
			blk++;
			continue;
		}
		for (run = 1; blk + run <= last &&
			      discard_block_free_now(fsx, blk + run);
		     run++)
			;
		if (run >= minlen) {
			ret = discard_blocks(fsx, blk, run);
			if (ret)
				return ret;
			*done += run;
		}
		blk += run;
	}
	return 0;
}

int discard_fitrim(struct iomapfs *fsx, uint64_t start, uint64_t len,
		   uint64_t minlen, uint64_t *trimmed)
{
	uint64_t bs = fsx->blocksize, done = 0;
	blk64_t first, last, min_blocks, g_first, g_last, end;
	dgrp_t g;
	int ret = 0;

	fs_lock(fsx);
	{
		ext2_filsys fs = fsx->fs;
		blk64_t blocks = ext2fs_blocks_count(fs->super);

		/* as ext4_trim_fs() */
		min_blocks = (minlen + bs - 1) / bs;
		if (min_blocks > EXT2_BLOCKS_PER_GROUP(fs->super) ||
		    start / bs >= blocks || len < bs) {
			fs_unlock(fsx);
			return -EINVAL;
		}
		if (!min_blocks)
			min_blocks = 1;
		first = start / bs;
		if (first < fs->super->s_first_data_block)
			first = fs->super->s_first_data_block;
		end = len / bs > blocks - first ? blocks : first + len / bs;
		last = end - 1;
	}
	/*
	 * journal: what the running transaction freed may be discarded only
	 * once it has committed (R4): commit it first, so that a trim after
	 * a delete gives that space back, as it would after ext4's commit.
	 */
	if (fsx->journal && journal_frees_pending(fsx->journal) &&
	    !fs_is_ro(fsx))
		ret = journal_commit(fsx->journal, JOURNAL_CAUSE_SPACE);
	fs_unlock(fsx);
	if (ret)
		return ret;
	for (g = ext2fs_group_of_blk2(fsx->fs, first);
	     g < fsx->fs->group_desc_count; g++) {
		fs_lock(fsx);
		if (fs_is_shut_down(fsx)) {
			fs_unlock(fsx);
			return -EIO;
		}
		g_first = ext2fs_group_first_block2(fsx->fs, g);
		g_last = ext2fs_group_last_block2(fsx->fs, g);
		if (g_first > last) {
			fs_unlock(fsx);
			break;
		}
		ret = discard_group(fsx, g_first < first ? first : g_first,
				    g_last > last ? last : g_last, min_blocks,
				    &done);
		fs_unlock(fsx);
		if (ret)
			break;
	}
	*trimmed = done * bs;
	return ret;
}

void discard_freed(struct iomapfs *fsx, blk64_t start, blk64_t count)
{
	/* A failed discard loses nothing: the blocks are free either way. */
	if (count && discard_blocks(fsx, start, count) && fsx->opts.debug)
		fprintf(stderr,
			"iomapfs: discard of %llu blocks at %llu failed\n",
			(unsigned long long)count, (unsigned long long)start);
}

void discard_flush(struct iomapfs *fsx)
{
	blk64_t start = fsx->discard_start, count = fsx->discard_count;

	fsx->discard_count = 0;
	discard_freed(fsx, start, count);
}

/*
 * libext2fs counts blocks in or out (fs_lock held).  Freed blocks join
 * the pending run when they follow it, so that a file's blocks go in one
 * discard (a hole of one small block in an image on a filesystem of
 * bigger blocks frees nothing); any other run first discards the pending
 * one.  An allocation discards it at once: the allocator may have just
 * taken one of its blocks, which must not be discarded after the data is
 * written into it.
 */
static void discard_counted(ext2_filsys fs, blk64_t blk, blk_t num, int inuse)
{
	struct iomapfs *fsx = fs->priv_data;

	if (!fsx)
		return;
	if (inuse >= 0) {
		discard_flush(fsx);
		return;
	}
	if (fsx->discard_count &&
	    blk == fsx->discard_start + fsx->discard_count) {
		fsx->discard_count += num;
		return;
	}
	discard_flush(fsx);
	fsx->discard_start = blk;
	fsx->discard_count = num;
}

static void discard_counted_one(ext2_filsys fs, blk64_t blk, int inuse)
{
	discard_counted(fs, blk, 1, inuse);
}

void discard_online_start(struct iomapfs *fsx)
{
	if (!fsx->opts.discard || !(fsx->fs->flags & EXT2_FLAG_RW))
		return;
	/* journal: it owns the callbacks, and reports what a transaction
	 * freed once it committed (fs.c, fs_journal_freed()). */
	if (fsx->journal)
		return;
	fsx->fs->priv_data = fsx;
	ext2fs_set_block_alloc_stats_callback(fsx->fs, discard_counted_one,
					      NULL);
	ext2fs_set_block_alloc_stats_range_callback(fsx->fs, discard_counted,
						    NULL);
}
