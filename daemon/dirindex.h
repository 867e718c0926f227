/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dirindex.h - the in-memory directory index of the mount daemon, and the
 * directory-entry operations built on it (look up, add, remove, repoint,
 * emptiness).  libext2fs finds a name by reading every block of the
 * directory, and adds one by reading them all again for free space, so a
 * create in a directory of n entries costs O(n) block reads with their
 * checksums: 10,000 creates in one directory are quadratic.  The index
 * keeps, per directory, a hash table of name -> inode number and block,
 * and per block its physical address and the largest record that still
 * fits, built by one pass over the directory the first time an operation
 * needs it.  Every change the daemon makes to an indexed directory goes
 * through here, so the index is never stale: it writes the one block that
 * changes itself (read, edit, checksum, write) and updates the index in
 * the same fs_lock section.
 *
 * Not indexed, served by libext2fs as before: inline-data, casefolded and
 * encrypted directories, and directories whose index would not fit in the
 * memory budget (dir_index_max).  Hashed-tree (htree) directories are
 * indexed for lookups and removals by name, but new entries go in through
 * ext2fs_link(), which keeps the tree's hash order; their block is not
 * recorded, because a leaf split moves entries between blocks.
 *
 * Memory: the indexes of all directories together stay under the budget
 * given to dix_new(); the least recently used directory's index is dropped
 * first.  A directory's index is keyed by inode number and generation, and
 * dropped when the directory is freed.
 *
 * Locking: every function here is called with fs_lock held.
 */
#ifndef IOMAPFS_DIRINDEX_H
#define IOMAPFS_DIRINDEX_H

#include <stddef.h>
#include <stdint.h>

#include <ext2fs/ext2fs.h>

struct iomapfs;
struct dix;

/* Default memory budget of the directory index (-o dir_index_max). */
#define DIX_DEFAULT_MAX_BYTES (64ULL << 20)

/* Counters, since mount. */
struct dix_stats {
	uint64_t bytes;	    /* memory held now */
	uint64_t bytes_max; /* the budget */
	uint64_t dirs;	    /* directories indexed now */
	uint64_t entries;   /* names indexed now */
	uint64_t builds;    /* directories read in whole to index them */
	uint64_t hits;	    /* operations served by an index */
	uint64_t fallbacks; /* operations left to libext2fs */
	uint64_t evictions; /* indexes dropped for memory */
	uint64_t too_big;   /* directories too big for the budget */
};

/* A directory index with a budget of @max_bytes (0: never index).
 * Returns NULL when out of memory. */
struct dix *dix_new(uint64_t max_bytes);
void dix_free(struct dix *dix);
void dix_get_stats(const struct dix *dix, struct dix_stats *st);
/* Zero the counters; the gauges (bytes, dirs, entries) stay. */
void dix_reset_stats(struct dix *dix);

/*
 * Find @name in directory @dir.  Returns 0 with *ino set, -ENOENT when
 * there is no such entry, or another -errno.
 */
int dix_lookup(struct iomapfs *fsx, ext2_ino_t dir, const char *name,
	       ext2_ino_t *ino);

/*
 * Add entry @name -> @ino (ext2 file type @ftype) to @dir, growing the
 * directory by a block when no block has room.  The caller has checked
 * that @name is not there.  Returns 0 or -errno (-ENOSPC, -EUCLEAN, ...).
 */
int dix_link(struct iomapfs *fsx, ext2_ino_t dir, const char *name,
	     ext2_ino_t ino, int ftype);

/* Remove entry @name, which points at @ino, from @dir.  Returns 0 or -errno
 * (-ENOENT when there is no such entry). */
int dix_unlink(struct iomapfs *fsx, ext2_ino_t dir, const char *name,
	       ext2_ino_t ino);

/* Point existing entry @name of @dir at @ino, of type @ftype, in place.
 * Returns 0 or -errno (-ENOENT when there is no such entry). */
int dix_set(struct iomapfs *fsx, ext2_ino_t dir, const char *name,
	    ext2_ino_t ino, int ftype);

/* Returns 0 when directory @dir holds nothing but "." and "..",
 * -ENOTEMPTY when it holds more, or another -errno. */
int dix_is_empty(struct iomapfs *fsx, ext2_ino_t dir);

/* Directory @dir is being freed: drop its index. */
void dix_forget(struct iomapfs *fsx, ext2_ino_t dir);

#endif /* IOMAPFS_DIRINDEX_H */
