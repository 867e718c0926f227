// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * inode_free.c - freeing an inode whose last link is gone: its blocks
 * (extent.h), its extended attributes, its directory index (dirindex.h),
 * its mappings in the iomap cache and its bit in the inode bitmap.  At
 * once when no handle is open, else at the last release, or at unmount
 * for inodes still open then; after a crash, the next mount finishes what
 * the orphan list (orphan.h) names.  Everything here runs under fs_lock.
 *
 * With the journal, an inode that keeps no link but an open handle goes
 * on the orphan list in the transaction that drops its last link, and
 * leaves it in the one that frees it; a file too large to free in one
 * transaction goes on it before the first piece (split.h).  So every
 * committed state is one that the next mount (the kernel's, e2fsck's or
 * ours) completes, and none leaves an inode without a link for e2fsck.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dirindex.h"
#include "extent.h"
#include "fs.h"
#include "inode_free.h"
#include "io_falloc.h"
#include "orphan.h"
#include "split.h"

/*
 * Free every block of inode @ino and forget it in the cache
 * (CACHE_R_UNLINK).  Call with fs_lock held; the caller then frees the
 * inode itself.
 */
static int inode_release_blocks(struct iomapfs *fsx, ext2_ino_t ino,
				struct ext2_inode_large *inode)
{
	errcode_t err;

	err = extent_nocache(fsx->fs);
	if (err)
		return translate_error(fsx, err, ino);
	/* journal: a large file is freed over several transactions, on the
	 * orphan list (inode_free() takes it off as it frees the inode). */
	if (!(inode->i_flags & EXT4_INLINE_DATA_FL) &&
	    ext2fs_inode_has_valid_blocks2(fsx->fs, (struct ext2_inode *)inode))
		err = split_punch(fsx, ino, inode, 0, ~0ULL, true);
	cache_forget(fsx->cache, ino, CACHE_R_UNLINK);
	return err ? translate_error(fsx, err, ino) : 0;
}

int inode_free(struct iomapfs *fsx, ext2_ino_t ino)
{
	struct ext2_inode_large inode;
	struct fs_inode *fi;
	struct timespec now;
	errcode_t err;
	int ret;

	ret = fs_read_inode(fsx, ino, &inode);
	if (ret)
		return ret;
	if (inode.i_links_count)
		return 0; /* linked again meanwhile (never by us) */
	if (!inode.i_dtime && !inode.i_mode)
		return 0; /* already free */
	if (LINUX_S_ISDIR(inode.i_mode))
		dix_forget(fsx, ino);
	/* A size or times still pending would be written with the freed
	 * inode (fs_write_inode()): the file is gone, so are they. */
	fi = fs_inode_find(fsx, ino);
	if (fi) {
		fs_inode_forget_attrs(fi);
		fs_inode_put(fsx, fi);
	}
	err = ext2fs_free_ext_attr(fsx->fs, ino, &inode);
	if (err)
		return translate_error(fsx, err, ino);
	if (LINUX_S_ISREG(inode.i_mode) ||
	    ext2fs_inode_has_valid_blocks2(fsx->fs, EXT2_INODE(&inode))) {
		ret = inode_release_blocks(fsx, ino, &inode);
		if (ret)
			return ret;
	}
	/* journal: off the orphan list in the transaction that frees it. */
	ret = orphan_del(fsx, ino, &inode);
	if (ret)
		return ret;
	fs_now(fsx, &now);
	inode.i_dtime = (uint32_t)now.tv_sec;
	fs_set_time(&inode, FS_CTIME, &now);
	ret = fs_write_inode(fsx, ino, &inode);
	if (ret)
		return ret;
	ext2fs_inode_alloc_stats2(fsx->fs, ino, -1,
				  LINUX_S_ISDIR(inode.i_mode));
	/* The number may come back for a new file: forget the old size. */
	fi = fs_inode_find(fsx, ino);
	if (fi) {
		fi->size_valid = false;
		fs_inode_forget_attrs(fi);
		fs_inode_put(fsx, fi);
	}
	return 0;
}

int inode_drop(struct iomapfs *fsx, ext2_ino_t ino,
	       struct ext2_inode_large *inode)
{
	struct fs_inode *fi;
	bool open = false;
	int ret;

	fi = fs_inode_find(fsx, ino);
	if (fi) {
		pthread_mutex_lock(&fsx->itab_lock);
		if (fi->open_count) {
			fi->unlinked = true;
			open = true;
		}
		pthread_mutex_unlock(&fsx->itab_lock);
		fs_inode_put(fsx, fi);
	}
	/*
	 * journal: an inode with no link left but a handle open goes on the
	 * orphan list in this transaction (orphan_add() writes it), and
	 * leaves it when the last release frees it; a crash in between
	 * leaves it to the next mount.
	 */
	if (open && fsx->journal)
		return orphan_add(fsx, ino, inode);
	ret = fs_write_inode(fsx, ino, inode);
	if (ret)
		return ret;
	if (open)
		return 0;
	return inode_free(fsx, ino);
}

int inode_free_unlinked(struct iomapfs *fsx)
{
	struct fs_inode **arr = NULL, *fi;
	size_t i, n = 0;
	bool unlinked;
	int ret, r;

	/* After FS_IOC_SHUTDOWN nothing more is written, as on ext4. */
	if (!fsx->fs || fs_is_shut_down(fsx))
		return 0;
	fs_lock(fsx);
	ret = fs_inode_snapshot(fsx, &arr, &n);
	for (i = 0; i < n; i++) {
		fi = arr[i];
		pthread_mutex_lock(&fsx->itab_lock);
		unlinked = fi->unlinked;
		fi->unlinked = false;
		pthread_mutex_unlock(&fsx->itab_lock);
		if (unlinked && !fs_is_ro(fsx)) {
			r = inode_free(fsx, fi->ino);
			if (r && !ret)
				ret = r;
		}
		fs_inode_put(fsx, fi);
	}
	free(arr);
	fs_unlock(fsx);
	return ret;
}

/*
 * One orphan found at mount: free it, or cut it back to its size.  It
 * leaves the list in the transaction that finishes it (inode_free() and
 * io_truncate_tail() call orphan_del()), so that a crash during the
 * recovery leaves a list the next mount takes up again.  fs_lock not held.
 */
static int inode_finish_orphan(struct iomapfs *fsx, ext2_ino_t ino,
			       bool *freed)
{
	struct ext2_inode_large inode;
	struct fs_inode *fi;
	int ret;

	*freed = false;
	fs_lock(fsx);
	ret = fs_read_inode(fsx, ino, &inode);
	if (!ret && !inode.i_links_count) {
		ret = inode_free(fsx, ino);
		*freed = true;
	} else if (!ret && !LINUX_S_ISREG(inode.i_mode)) {
		ret = orphan_del(fsx, ino, NULL);
	}
	fs_unlock(fsx);
	if (ret || *freed || !LINUX_S_ISREG(inode.i_mode))
		return ret;
	/* A truncate that did not finish: the blocks past i_size go. */
	fi = fs_inode_get(fsx, ino);
	if (!fi)
		return -ENOMEM;
	pthread_rwlock_wrlock(&fi->io_lock);
	ret = io_truncate_tail(fsx, fi);
	pthread_rwlock_unlock(&fi->io_lock);
	fs_inode_put(fsx, fi);
	return ret;
}

int inode_free_orphans(struct iomapfs *fsx)
{
	size_t n, i, nfreed = 0;
	ext2_ino_t *list;
	bool freed;
	int ret;

	fs_lock(fsx);
	ret = orphan_load(fsx, &list, &n);
	fs_unlock(fsx);
	if (ret || !n)
		return ret;
	for (i = 0; i < n && !ret; i++) {
		ret = inode_finish_orphan(fsx, list[i], &freed);
		nfreed += freed;
	}
	free(list);
	if (ret)
		return ret;
	fs_lock(fsx);
	ret = fs_flush_all(fsx);
	fs_unlock(fsx);
	fprintf(stderr,
		"iomapfs: %s: orphan list: %zu inodes freed, %zu truncated\n",
		fsx->source, nfreed, n - nfreed);
	return ret;
}
