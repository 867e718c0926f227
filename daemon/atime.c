// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * atime.c - access times by the mount's policy, as the kernel's
 * atime_needs_update() and relatime_need_update() decide them for ext4:
 * never on a read-only mount, nor for an inode with the noatime flag, nor
 * through a descriptor opened with O_NOATIME, nor with noatime, nor for a
 * directory with nodiratime; with relatime only when the access time is
 * not later than the change and modification times, or a day old.
 *
 * The decision needs the inode's times.  The in-memory inode notes them
 * whenever we read or write the inode (fs_inode_note()), so a read of a
 * file whose access time is current takes no global lock: only the first
 * read of an inode we know nothing of reads it, under fs_lock.
 *
 * lazytime keeps the new access time in the in-memory inode; it is
 * written with the inode's next write, fsync, forget, unmount, or by the
 * first access a day after it began to wait (the bound mount(8) gives).
 */
#include "config.h"

#include <fcntl.h>

#include "atime.h"

/* relatime's age bound, and lazytime's: one day, as the kernel's. */
#define ATIME_DAY (24 * 60 * 60)

/* Whether @a is not later than @b. */
static bool ts_le(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec <= b->tv_nsec);
}

/*
 * Whether an access at @now updates @fi's access time.  The times are the
 * noted ones with what waits in memory on top.  meta_lock held.
 */
static bool atime_due(struct iomapfs *fsx, const struct fs_inode *fi,
		      const struct timespec *now)
{
	const struct timespec *atime, *mtime;
	struct timespec ctime = fi->known_ctime;

	if (fi->iflags & EXT2_NOATIME_FL)
		return false;
	atime = fi->atime_dirty ? &fi->pending_atime : &fi->known_atime;
	mtime = fi->times_dirty ? &fi->pending_mtime : &fi->known_mtime;
	if (fi->times_dirty && ts_le(&ctime, &fi->pending_mtime))
		ctime = fi->pending_mtime;
	if (atime->tv_sec == now->tv_sec && atime->tv_nsec == now->tv_nsec)
		return false;
	if (fsx->opts.atime == FS_ATIME_STRICT)
		return true;
	return ts_le(atime, mtime) || ts_le(atime, &ctime) ||
	       now->tv_sec - atime->tv_sec >= ATIME_DAY;
}

/* Whether the policy lets any access of this kind update atimes. */
static bool atime_policy_allows(struct iomapfs *fsx, bool dir, int open_flags)
{
	if (fsx->opts.atime == FS_ATIME_NEVER || fs_is_ro(fsx))
		return false;
	if (dir && fsx->opts.nodiratime)
		return false;
	return !(open_flags & O_NOATIME);
}

/* Note @fi's inode from disk, when nothing is noted yet.  No lock held. */
static int atime_learn(struct iomapfs *fsx, struct fs_inode *fi)
{
	struct ext2_inode_large inode;
	bool known;
	int ret;

	pthread_mutex_lock(&fi->meta_lock);
	known = fi->attrs_known;
	pthread_mutex_unlock(&fi->meta_lock);
	if (known)
		return 0;
	fs_lock(fsx);
	ret = fs_read_inode(fsx, fi->ino, &inode);
	if (!ret)
		fs_inode_note(fi, &inode);
	fs_unlock(fsx);
	return ret;
}

void atime_accessed(struct iomapfs *fsx, ext2_ino_t ino, struct fs_inode *fi,
		    bool dir, int open_flags)
{
	struct fs_inode *own = NULL;
	struct timespec now;
	bool write;

	if (!atime_policy_allows(fsx, dir, open_flags))
		return;
	if (!fi) {
		fi = own = fs_inode_get(fsx, ino);
		if (!fi)
			return; /* out of memory: the access goes unrecorded */
	}
	if (atime_learn(fsx, fi))
		goto out_put;
	fs_now(fsx, &now);
	pthread_mutex_lock(&fi->meta_lock);
	if (fi->attrs_known && atime_due(fsx, fi, &now)) {
		if (!fi->atime_dirty)
			fi->atime_dirty_since = now.tv_sec;
		fi->pending_atime = now;
		fi->atime_dirty = true;
	}
	write = fi->atime_dirty &&
		(!fsx->opts.lazytime ||
		 now.tv_sec - fi->atime_dirty_since >= ATIME_DAY);
	pthread_mutex_unlock(&fi->meta_lock);
	if (write) {
		fs_lock(fsx);
		if (!fs_is_ro(fsx))
			fs_inode_sync_times(fsx, fi, NULL);
		fs_unlock(fsx);
	}
out_put:
	if (own)
		fs_inode_put(fsx, own);
}

bool atime_wants_reads(struct iomapfs *fsx, struct fs_inode *fi, int open_flags)
{
	struct timespec now;
	bool due;

	if ((open_flags & O_ACCMODE) == O_WRONLY ||
	    !atime_policy_allows(fsx, false, open_flags))
		return false;
	fs_now(fsx, &now);
	pthread_mutex_lock(&fi->meta_lock);
	due = fi->attrs_known && atime_due(fsx, fi, &now);
	pthread_mutex_unlock(&fi->meta_lock);
	return due;
}
