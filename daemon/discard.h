/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * discard.h - giving free blocks back to the storage, as ext4 does: FITRIM
 * (fstrim(8)) discards the free blocks of a range, and -o discard the
 * blocks each change frees.  On an image file discarding punches a hole
 * (the image shrinks by what the filesystem does not use); on a block
 * device it is BLKDISCARD.
 *
 * Never is a block discarded that is in use, or that a running journal
 * transaction still holds (freed, but not yet committed: a crash before
 * the commit brings the old state back, and the block's contents with
 * it).  discard_block_free_now() is the one place that answers this.
 *
 * Functions return 0 or a negative errno.
 */
#ifndef IOMAPFS_DISCARD_H
#define IOMAPFS_DISCARD_H

#include <stdbool.h>
#include <stdint.h>

#include "fs.h"

/*
 * Whether block @blk may be discarded now: free in the block bitmap, and
 * not held by a running journal transaction.  The journal's writer must
 * answer the second half here (a block its running transaction freed is
 * held until the commit); without a journal writer every free block may
 * go.  fs_lock held.
 */
bool discard_block_free_now(struct iomapfs *fsx, blk64_t blk);

/*
 * Discard @count blocks from @blk on the device: a hole punched in an
 * image file, BLKDISCARD on a block device.  -EOPNOTSUPP when the device
 * cannot.  fs_lock held, so that no allocation takes the blocks between
 * the check and the discard.
 */
int discard_blocks(struct iomapfs *fsx, blk64_t blk, blk64_t count);

/*
 * FITRIM as ext4 takes it: the free blocks in the byte range [@start,
 * @start + @len) of the filesystem, in runs of at least @minlen bytes,
 * are discarded, one block group at a time under fs_lock.  *@trimmed is
 * the bytes discarded.  -EINVAL for a range ext4 refuses (past the end,
 * shorter than a block, a minimum larger than a group).
 */
int discard_fitrim(struct iomapfs *fsx, uint64_t start, uint64_t len,
		   uint64_t minlen, uint64_t *trimmed);

/*
 * -o discard: install the hook that discards the blocks libext2fs frees,
 * as each change frees them (without a journal writer; with one, the
 * blocks a transaction freed must be discarded when it commits).  After
 * fs_open(); fs_lock held or no other thread yet.
 */
void discard_online_start(struct iomapfs *fsx);

/*
 * -o discard: discard the run of freed blocks that waits (fs_unlock()
 * calls it before it lets anyone else allocate).  fs_lock held.
 */
void discard_flush(struct iomapfs *fsx);

/*
 * Discard blocks [@start, @start + @count), freed for good; a failure is
 * only logged (-o debug): the blocks are free either way.  With the
 * journal, called for what a transaction freed once it committed.
 * fs_lock held.
 */
void discard_freed(struct iomapfs *fsx, blk64_t start, blk64_t count);

#endif /* IOMAPFS_DISCARD_H */
