/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * split.h - the operations too large for one transaction of the journal
 * (journal.h): freeing and preallocating the blocks of a large file.  A
 * truncate, unlink, punch or fallocate of gigabytes frees or allocates
 * blocks in many groups, and one transaction must fit a quarter of the
 * log; so these work in pieces, each small enough, and let the journal
 * commit between two (journal_split()), as the kernel's ext4 restarts its
 * handle.  Every piece leaves a consistent filesystem; what a crash
 * between two leaves unfinished is on the orphan list (orphan.h) when it
 * must be finished.  Without the journal, one piece.
 *
 * Called with fs_lock held (dropped and taken again while a commit between
 * two pieces waits); @inode is the caller's copy, read again after each
 * commit, since operations that take no io_lock (chmod, link) may write
 * the inode meanwhile.  Return 0 or a libext2fs error code (or an errno
 * value), which the caller turns into -errno with translate_error().
 */
#ifndef IOMAPFS_SPLIT_H
#define IOMAPFS_SPLIT_H

#include <stdbool.h>

#include "fs.h"

/*
 * Free file blocks [start, end] (end ~0ULL: to the end), from the end
 * down.  With @orphan the inode goes on the orphan list before the first
 * commit, in the caller's transaction (a truncate has set the new i_size
 * first, an unlink has dropped the last link): the caller takes it off
 * (orphan_del()) with its last change.
 */
errcode_t split_punch(struct iomapfs *fsx, ext2_ino_t ino,
		      struct ext2_inode_large *inode, blk64_t start,
		      blk64_t end, bool orphan);

/*
 * Give the holes of file blocks [start, end] unwritten blocks
 * (extent_alloc()).  A crash between pieces leaves part of the range
 * preallocated: unwritten blocks read as zeroes and may lie past i_size,
 * so that is a consistent file.  The inode is written before each commit;
 * the caller writes it at the end, also after a failure.
 */
errcode_t split_alloc(struct iomapfs *fsx, ext2_ino_t ino,
		      struct ext2_inode_large *inode, blk64_t start,
		      blk64_t end);

#endif /* IOMAPFS_SPLIT_H */
