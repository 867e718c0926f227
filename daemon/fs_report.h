/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs_report.h - what the control server asks of the filesystem: an
 * inode's size and kind, the mappings of a file as a REPORT (read from
 * disk, never put in the cache), the path of an inode, and the version of
 * libext2fs.  Every libext2fs error goes through translate_error() and so
 * through the errors= policy, as it does for FUSE operations.
 *
 * Locking: each function takes fs_lock itself, briefly, and never holds it
 * across calls: call them with no lock held.  Functions return 0 or a
 * negative errno unless they say otherwise.
 */
#ifndef IOMAPFS_FS_REPORT_H
#define IOMAPFS_FS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ext2map.h"

struct iomapfs;

/* What fs_report_inode() tells. */
struct fs_report_inode {
	uint64_t size; /* i_size */
	bool is_dir;
	bool in_use; /* false: no links and no mode, a free inode */
};

/*
 * Size and kind of inode @ino from disk.  -ENOENT when @ino is 0 or past
 * the filesystem's inode count; -errno when the inode cannot be read.
 */
int fs_report_inode(struct iomapfs *fsx, uint64_t ino,
		    struct fs_report_inode *out);

/*
 * The mappings of inode @ino over [off, off + len - 1] from disk, as
 * iomap_ext2_walk() gives them (@len 0: to EOF and on to the last
 * extent).  Returns 0, the callback's non-zero value, or -errno.  fs_lock
 * is held across the callbacks: they must not block on a client.
 */
int fs_report_map(struct iomapfs *fsx, uint64_t ino, uint64_t off, uint64_t len,
		  iomap_ext2_walk_fn fn, void *arg);

/*
 * The search behind fs_report_path(): breadth first from the root,
 * remembering the parent of every entry it reads, so that one Dump names
 * many files in one pass.  Its budget per search: FS_REPORT_PATH_MAX_DIRS
 * directories and FS_REPORT_PATH_MAX_ENTRIES entries.
 */
struct fs_report_paths;
#define FS_REPORT_PATH_MAX_DIRS	   4096
#define FS_REPORT_PATH_MAX_ENTRIES (256u * 1024u)

/* A new search (NULL on ENOMEM); free it with fs_report_paths_free(). */
struct fs_report_paths *fs_report_paths_new(void);
void fs_report_paths_free(struct fs_report_paths *p);

/*
 * The path of inode @ino inside the filesystem ("/dir/file"), malloc'd in
 * *out.  @is_dir: @ino is a directory (found through its ".." without a
 * search).  For a file with several links, the first name the search
 * meets.  -ENOENT when the search's budget ran out before it was found;
 * fs_lock is taken per directory read, never across the search.
 */
int fs_report_path(struct iomapfs *fsx, struct fs_report_paths *p, uint64_t ino,
		   bool is_dir, char **out);

/* The version of libext2fs the daemon runs with ("1.47.0"), or "unknown". */
const char *fs_report_lib_version(void);

struct journal_stats;
struct journal_txn;

/*
 * The journal writer's statistics into *@st and, when @max is not 0, up
 * to @max of its recent transactions, newest first, into @txns (*@n of
 * them), read together under fs_lock, the journal's lock.  -ENOENT when
 * the mount writes no journal (ext2, journal=off, a read-only mount).
 */
int fs_report_journal(struct iomapfs *fsx, struct journal_stats *st,
		      struct journal_txn *txns, size_t max, size_t *n);

/*
 * The same statistics as of the journal's last commit, checkpoint or
 * change of state, without fs_lock: never waits for a commit.  -ENOENT
 * as above.
 */
int fs_report_journal_published(struct iomapfs *fsx, struct journal_stats *st);

#endif /* IOMAPFS_FS_REPORT_H */
