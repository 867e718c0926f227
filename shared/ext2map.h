/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ext2map.h - the ext2 mapping source: turns an ext2/3/4 inode into iomaps
 * with libext2fs.  It answers "what lies at byte X of inode N" with the
 * longest mapping that starts at X's block:
 *  - MAPPED for an initialized extent, UNWRITTEN for an uninit one;
 *  - HOLE up to the next extent, or to EOF rounded up to the block size
 *    (flag LAST when it reaches EOF);
 *  - block-mapped (ext2/ext3) files: runs of physically contiguous blocks
 *    merged into one MAPPED mapping;
 *  - INLINE for inline_data inodes, covering block 0.
 * Past both EOF and the last extent (extents may lie past EOF after
 * fallocate KEEP_SIZE) it answers a HOLE with flag LAST that reaches the
 * filesystem's maximum file size.
 *
 * The answers agree byte for byte with "debugfs -R 'ex'", "stat" and
 * "filefrag -v".  This is the only file in shared/ that talks to
 * libext2fs: errcode_t values become -errno in iomap_ext2_errno(), and none
 * escapes.  Corrupt extent trees give -EUCLEAN (or -EIO), never a crash or
 * an endless loop.
 *
 * Locking: libext2fs is not thread-safe.  The caller holds whatever lock
 * guards @fs for the whole call.  All offsets and lengths are bytes.
 */
#ifndef IOMAPFS_EXT2MAP_H
#define IOMAPFS_EXT2MAP_H

#include <stddef.h>
#include <stdint.h>

#include <ext2fs/ext2fs.h>

#include "iomap.h"

/*
 * The one boundary where libext2fs errors become errno values: returns a
 * negative errno for @err (0 for 0).  Unknown codes give -EIO.
 */
int iomap_ext2_errno(errcode_t err);

/* Human text for @err, from com_err. */
const char *iomap_ext2_strerror(errcode_t err);

/*
 * Sanity checks of @fs's superblock that libext2fs 1.47.0 itself skips and
 * then trusts when it reads the bitmaps (a wrong s_first_data_block makes
 * ext2fs_read_bitmaps() write past a heap buffer).  The rules are
 * e2fsck's.  Returns 0, or -EUCLEAN with a one-line reason in @why.
 */
int iomap_ext2_check_super(ext2_filsys fs, char *why, size_t size);

/*
 * The largest file size, in bytes, that @fs allows for @ino's kind of file
 * (extent or block-mapped), rounded down to the block size.
 */
uint64_t iomap_ext2_max_bytes(ext2_filsys fs, const struct ext2_inode *inode);

/*
 * The longest mapping of inode @ino that starts at the block containing
 * byte @off.  Reads the inode itself.  Returns 0 and fills *out, -EFBIG
 * when @off lies at or past the maximum file size, -ENOENT for an inode
 * that is not in use, -EINVAL for an inode that has no mappings
 * (device, fifo, socket, fast symlink), -EUCLEAN for corrupt mapping
 * metadata, or another -errno from the device.
 */
int iomap_ext2_lookup(ext2_filsys fs, ext2_ino_t ino, uint64_t off,
		      struct iomap *out);

/*
 * As iomap_ext2_lookup(), with the inode already read by the caller (the
 * daemon keeps it), to save one inode read per lookup.
 */
int iomap_ext2_lookup_inode(ext2_filsys fs, ext2_ino_t ino,
			    struct ext2_inode_large *inode, uint64_t off,
			    struct iomap *out);

/* Called once per mapping by iomap_ext2_walk(); non-zero stops the walk
 * and becomes its return value. */
typedef int (*iomap_ext2_walk_fn)(const struct iomap *m, void *arg);

/*
 * Report every mapping that overlaps [off, off + len - 1] in offset order,
 * each clipped to nothing (the first may start before @off at its block
 * boundary; the last may end past the range).  @len 0 means "to EOF, and
 * past it to the end of the last extent".  The walk never reaches past the
 * maximum file size.  Returns 0, the callback's non-zero value, or -errno
 * as iomap_ext2_lookup().
 */
int iomap_ext2_walk(ext2_filsys fs, ext2_ino_t ino, uint64_t off,
		    uint64_t len, iomap_ext2_walk_fn fn, void *arg);

#endif /* IOMAPFS_EXT2MAP_H */
