/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * extent.h - the extent and block work of the daemon (extent.c): unwritten
 * allocation, conversion to written, punching, and libext2fs's block cache.
 * Every function here is called with fs_lock held and returns 0 or a
 * libext2fs error code, which the caller turns into -errno with
 * translate_error() (fs.h).  Nothing here reads or writes file data.
 */
#ifndef IOMAPFS_EXTENT_H
#define IOMAPFS_EXTENT_H

#include <ext2fs/ext2fs.h>

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
errcode_t extent_nocache(ext2_filsys fs);

/*
 * Give every hole of file blocks [start, end] of extent-mapped inode @ino
 * new blocks, as unwritten extents (they read as zeroes); mapped blocks stay
 * as they are.  @inode is the caller's copy: i_blocks grows in it, and the
 * caller writes it back, also after a failure.  On failure (out of space)
 * a prefix of the holes may be allocated.
 */
errcode_t extent_alloc(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode *inode,
		       blk64_t start, blk64_t end);

/*
 * ext2fs_punch() of blocks [start, end] (end ~0ULL: to the end), with a
 * work-around: libext2fs 1.47.0 refuses (EXT2_ET_BAD_BLOCK_NUM, "Illegal
 * block number") to free an extent range that ends at the last block of
 * the filesystem, an off-by-one in punch_extent_blocks() fixed upstream
 * after 1.47.0.  A full filesystem has that block in some file, which
 * then could never be truncated or deleted.  So when the last block is in
 * use and this inode maps it inside the range, unmap and free that one
 * block here first; ext2fs_punch() does the rest.  Ranges of a
 * block-mapped inode that stop before its end are unmapped block by block:
 * libext2fs 1.47.0 frees the wrong blocks for them.
 */
errcode_t extent_punch(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode *inode,
		       blk64_t start, blk64_t end);

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
errcode_t extent_convert(ext2_extent_handle_t h, blk64_t start, blk64_t end,
			 blk64_t *done);

#endif /* IOMAPFS_EXTENT_H */
