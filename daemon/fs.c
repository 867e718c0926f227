// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs.c - the daemon's side of libext2fs: opening and closing the
 * filesystem, the lock that guards libext2fs, translate_error() (the one
 * place where errcode_t becomes -errno, with the errors= policy), the
 * in-memory inode table, inode timestamps and ownership, stat filling, and
 * the mapping source the iomap cache calls.
 *
 * libext2fs's block cache and our direct I/O.  The data path writes file
 * data with pwrite() on dev_fd, a second descriptor on the image, at device
 * byte addresses.  unix_io keeps a small write-back cache of blocks it read
 * or wrote.  If it held a block that was then freed (an extent-tree block,
 * a directory block) and reallocated as file data, it could later write
 * its stale copy over the data we wrote on dev_fd, or answer a read of that
 * block from the stale copy.  We turn the cache off with
 * io_channel_set_options(fs->io, "cache=off") right after ext2fs_open2()
 * (unix_io supports it in 1.47.0: it flushes the cache and sets
 * IO_FLAG_NOCACHE, after which every read_blk/write_blk goes straight to
 * pread/pwrite).  We open without EXT2_FLAG_THREADS, whose threaded
 * bitmap read ends with "cache=on", and turn the cache off once more after
 * reading the bitmaps.  Both descriptors then go through the same page
 * cache of the image (or block device), so a metadata read by libext2fs
 * sees our data writes and vice versa, and nothing is ever written back
 * later from a copy.  What remains cached in memory by libext2fs are
 * inodes (its inode cache, written through by ext2fs_write_inode), bitmaps
 * and group descriptors: metadata we change only through libext2fs itself,
 * under fs_lock.  The cost is a system call per metadata block, which the page
 * cache answers.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "discard.h"
#include "ext2map.h"
#include "fs.h"
#include "jio.h"
#include "journal.h"
#include "replay.h"

/* journal: some inode may have timestamps pending (fs_inode_touch()). */
static atomic_bool fs_times_maybe_dirty;

bool fs_times_take_dirty(void)
{
	return atomic_exchange(&fs_times_maybe_dirty, false);
}

void fs_lock(struct iomapfs *fsx)
{
	pthread_mutex_lock(&fsx->fs_lock);
	/* journal: a transaction at its bound commits before the next
	 * operation adds to it (unless this thread holds a handle). */
	if (fsx->journal)
		journal_enter(fsx->journal);
}

void fs_unlock(struct iomapfs *fsx)
{
	/* -o discard: what this section freed goes before anyone allocates */
	if (fsx->discard_count)
		discard_flush(fsx);
	pthread_mutex_unlock(&fsx->fs_lock);
}

void fs_now(const struct iomapfs *fsx, struct timespec *ts)
{
	/*
	 * With the write-back cache the kernel stamps a cached file's
	 * modification and change times itself, with current_time(): the
	 * coarse clock, one tick (a few ms) behind CLOCK_REALTIME.  Our
	 * times come from the same clock then, or a file created at
	 * CLOCK_REALTIME and written within the tick would see its
	 * modification time go back at its first write (t2260 checks it).
	 * Same clock, same tick: the kernel also finds the times of a new
	 * file current at its first write, leaves the inode clean, and
	 * sends no SETATTR of its times before the next chmod, chown or
	 * utimensat (cp -a: one request less per file).
	 */
	clockid_t clock = fsx && fsx->writeback ? CLOCK_REALTIME_COARSE
						: CLOCK_REALTIME;

	if (clock_gettime(clock, ts)) {
		ts->tv_sec = time(NULL);
		ts->tv_nsec = 0;
	}
}

/* Errors that are answers, not failures: not logged, no errors= policy. */
static bool fs_errno_expected(int err)
{
	switch (err) {
	case ENOENT:
	case EEXIST:
	case ENOTEMPTY:
	case ENOSPC:
	case ENAMETOOLONG:
	case ENODATA:
	case ERANGE:
	case EFBIG:
	case EDQUOT:
	case ENOTDIR:
	case EISDIR:
	case EMLINK:
	case EROFS:
	case EINVAL:
	case E2BIG:
	case EOPNOTSUPP:
		return true;
	default:
		return false;
	}
}

int translate_error_at(struct iomapfs *fsx, errcode_t err, ext2_ino_t ino,
		       const char *file, int line)
{
	int ret;

	if (!err)
		return 0;
	ret = iomap_ext2_errno(err);
	if (ret >= 0)
		ret = -EIO;
	if (fs_errno_expected(-ret)) {
		if (fsx->opts.debug)
			fprintf(stderr, "iomapfs: %s:%d: inode %u: %s\n", file,
				line, ino, iomap_ext2_strerror(err));
		return ret;
	}
	fprintf(stderr, "iomapfs: %s:%d: inode %u: %s (%s)\n", file, line, ino,
		iomap_ext2_strerror(err), strerror(-ret));
	if (ret != -EUCLEAN && ret != -EIO)
		return ret;

	/* Corruption or an I/O error: record it as the kernel does. */
	if (fsx->fs && (fsx->fs->flags & EXT2_FLAG_RW) && !fsx->ro_now) {
		struct ext2_super_block *sb = fsx->fs->super;

		sb->s_state |= EXT2_ERROR_FS;
		sb->s_error_count++;
		if (!sb->s_first_error_time) {
			sb->s_first_error_time = time(NULL);
			sb->s_first_error_ino = ino;
			sb->s_first_error_line = line;
			snprintf((char *)sb->s_first_error_func,
				 sizeof(sb->s_first_error_func), "%s", file);
		}
		sb->s_last_error_time = time(NULL);
		sb->s_last_error_ino = ino;
		sb->s_last_error_line = line;
		snprintf((char *)sb->s_last_error_func,
			 sizeof(sb->s_last_error_func), "%s", file);
		ext2fs_mark_super_dirty(fsx->fs);
	}
	switch (fsx->opts.errors) {
	case FS_ERRORS_CONTINUE:
		break;
	case FS_ERRORS_REMOUNT_RO:
		if (!fsx->ro_now) {
			fprintf(stderr,
				"iomapfs: %s: errors=remount-ro: now "
				"read-only\n",
				fsx->source);
			/*
			 * journal: as the kernel, abort the journal: the
			 * operation that failed half-way is in the running
			 * transaction, which must never commit; the error is
			 * recorded in the journal superblock.
			 */
			if (fsx->journal)
				journal_abort(fsx->journal, ret);
			else if (fsx->fs && (fsx->fs->flags & EXT2_FLAG_RW))
				ext2fs_flush2(fsx->fs, 0);
			fsx->ro_now = true;
		}
		break;
	case FS_ERRORS_PANIC:
		fprintf(stderr, "iomapfs: %s: errors=panic: stopping\n",
			fsx->source);
		if (fsx->journal)
			journal_abort(fsx->journal, ret);
		else if (fsx->fs && (fsx->fs->flags & EXT2_FLAG_RW))
			ext2fs_flush2(fsx->fs, 0);
		abort();
	}
	return ret;
}

/* --- the on-disk inode ------------------------------------------------ */

int fs_read_inode(struct iomapfs *fsx, ext2_ino_t ino,
		  struct ext2_inode_large *inode)
{
	errcode_t err;

	memset(inode, 0, sizeof(*inode));
	err = ext2fs_read_inode_full(fsx->fs, ino, EXT2_INODE(inode),
				     sizeof(*inode));
	return translate_error(fsx, err, ino);
}

/* ctime := the later of @inode's and @t. */
static void fs_ctime_at_least(struct ext2_inode_large *inode,
			      const struct timespec *t)
{
	struct timespec c;

	fs_get_time(inode, FS_CTIME, &c);
	if (t->tv_sec > c.tv_sec ||
	    (t->tv_sec == c.tv_sec && t->tv_nsec > c.tv_nsec))
		fs_set_time(inode, FS_CTIME, t);
}

/* Whether @fi keeps something pending that the inode on disk lacks. */
static bool fs_inode_dirty(struct fs_inode *fi)
{
	bool dirty;

	pthread_mutex_lock(&fi->meta_lock);
	dirty = fi->times_dirty || fi->atime_dirty || fi->size_dirty;
	pthread_mutex_unlock(&fi->meta_lock);
	return dirty;
}

/*
 * Fold what @fi keeps pending into @inode; @clear: it is written now.  A
 * pending mtime (a lock-free overwrite at that time) sets mtime and,
 * unless a later change set it already, ctime; a pending atime (lazytime)
 * sets atime; a pending size (an append inside the last block,
 * fs_inode_grow()) raises i_size, never lowers it: a truncate reads the
 * inode with it folded in first (fs_load_inode()), then writes its own.
 * A time set explicitly (utimensat) drops what was pending first
 * (fs_inode_drop_times()), so nothing older overrides it.  Takes
 * meta_lock.  Returns 0 or -errno (nothing cleared).
 */
static int fs_inode_fold_times(struct iomapfs *fsx, struct fs_inode *fi,
			       struct ext2_inode_large *inode, bool clear)
{
	errcode_t err = 0;

	pthread_mutex_lock(&fi->meta_lock);
	if (fi->size_dirty && fi->pending_size > EXT2_I_SIZE(inode))
		err = ext2fs_inode_size_set(fsx->fs, EXT2_INODE(inode),
					    fi->pending_size);
	if (err) {
		pthread_mutex_unlock(&fi->meta_lock);
		return translate_error(fsx, err, fi->ino);
	}
	if (fi->times_dirty) {
		fs_set_time(inode, FS_MTIME, &fi->pending_mtime);
		fs_ctime_at_least(inode, &fi->pending_mtime);
	}
	if (fi->atime_dirty)
		fs_set_time(inode, FS_ATIME, &fi->pending_atime);
	if (clear) {
		fi->times_dirty = false;
		fi->atime_dirty = false;
		fi->size_dirty = false;
	}
	pthread_mutex_unlock(&fi->meta_lock);
	return 0;
}

void fs_inode_note(struct fs_inode *fi, const struct ext2_inode_large *inode)
{
	pthread_mutex_lock(&fi->meta_lock);
	fi->iflags = inode->i_flags;
	fs_get_time(inode, FS_ATIME, &fi->known_atime);
	fs_get_time(inode, FS_MTIME, &fi->known_mtime);
	fs_get_time(inode, FS_CTIME, &fi->known_ctime);
	fi->attrs_known = true;
	pthread_mutex_unlock(&fi->meta_lock);
}

void fs_inode_drop_times(struct fs_inode *fi, bool atime, bool mtime)
{
	pthread_mutex_lock(&fi->meta_lock);
	if (atime)
		fi->atime_dirty = false;
	if (mtime)
		fi->times_dirty = false;
	pthread_mutex_unlock(&fi->meta_lock);
}

/*
 * Every write of an inode carries the times its in-memory inode keeps
 * pending (so lazytime's wait ends whenever the inode is written anyway,
 * as in ext4), and leaves what it wrote noted in the in-memory inode.
 */
int fs_write_inode(struct iomapfs *fsx, ext2_ino_t ino,
		   struct ext2_inode_large *inode)
{
	struct fs_inode *fi;
	errcode_t err;
	int ret;

	if (fs_is_ro(fsx))
		return -EROFS;
	if (fs_is_shut_down(fsx))
		return -EIO;
	fi = fs_inode_find(fsx, ino);
	if (fi) {
		ret = fs_inode_fold_times(fsx, fi, inode, true);
		if (ret) {
			fs_inode_put(fsx, fi);
			return ret;
		}
	}
	err = ext2fs_write_inode_full(fsx->fs, ino, EXT2_INODE(inode),
				      sizeof(*inode));
	ret = translate_error(fsx, err, ino);
	if (fi) {
		if (!ret)
			fs_inode_note(fi, inode);
		fs_inode_put(fsx, fi);
	}
	return ret;
}

/*
 * Write @inode, which differs from the one on disk only in its timestamps
 * and in what @ino's in-memory inode @fi (may be NULL) keeps pending.
 * journal: fdatasync need not commit such a write when that is timestamps
 * alone; a pending size (fs_inode_grow()) is more: the data past the old
 * size is read through it, so fdatasync commits it.
 */
static int fs_write_times(struct iomapfs *fsx, ext2_ino_t ino,
			  struct fs_inode *fi, struct ext2_inode_large *inode)
{
	bool times_only = fsx->journal && !(fi && fs_inode_size_pending(fi));
	int ret;

	if (times_only)
		journal_times_only(fsx->journal, true);
	ret = fs_write_inode(fsx, ino, inode);
	if (times_only)
		journal_times_only(fsx->journal, false);
	return ret;
}

int fs_write_inode_times(struct iomapfs *fsx, ext2_ino_t ino,
			 struct ext2_inode_large *inode)
{
	struct fs_inode *fi = fs_inode_find(fsx, ino);
	int ret;

	ret = fs_write_times(fsx, ino, fi, inode);
	if (fi)
		fs_inode_put(fsx, fi);
	return ret;
}

/*
 * Read inode @ino with the times its fs_inode holds in memory: folded into
 * @inode only, or (@write, on a writable mount) written to the inode
 * first.
 */
static int fs_read_with_times(struct iomapfs *fsx, ext2_ino_t ino,
			      struct ext2_inode_large *inode, bool write)
{
	struct fs_inode *fi;
	bool dirty;
	int ret;

	ret = fs_read_inode(fsx, ino, inode);
	if (ret)
		return ret;
	fi = fs_inode_find(fsx, ino);
	if (!fi)
		return 0;
	dirty = fs_inode_dirty(fi);
	if (!write || (dirty && fs_is_ro(fsx)))
		ret = fs_inode_fold_times(fsx, fi, inode, false);
	else if (dirty)
		ret = fs_write_times(fsx, ino, fi, inode);
	fs_inode_put(fsx, fi);
	return ret;
}

int fs_load_inode(struct iomapfs *fsx, ext2_ino_t ino,
		  struct ext2_inode_large *inode)
{
	return fs_read_with_times(fsx, ino, inode, true);
}

int fs_peek_inode(struct iomapfs *fsx, ext2_ino_t ino,
		  struct ext2_inode_large *inode)
{
	/* lazytime: the times stay in memory until they must go out. */
	return fs_read_with_times(fsx, ino, inode, !fsx->opts.lazytime);
}

int fs_inode_load_size(struct iomapfs *fsx, struct fs_inode *fi)
{
	struct ext2_inode_large inode;
	int ret;

	if (fi->size_valid)
		return 0;
	fs_lock(fsx);
	ret = fs_read_inode(fsx, fi->ino, &inode);
	if (!ret) {
		fi->size = EXT2_I_SIZE(&inode);
		fi->size_valid = true;
	}
	fs_unlock(fsx);
	return ret;
}

void fs_inode_touch(const struct iomapfs *fsx, struct fs_inode *fi)
{
	struct timespec now;

	fs_now(fsx, &now);
	pthread_mutex_lock(&fi->meta_lock);
	fi->pending_mtime = now;
	fi->times_dirty = true;
	pthread_mutex_unlock(&fi->meta_lock);
	/* journal: the next commit writes them (fs_journal_pre_commit). */
	atomic_store(&fs_times_maybe_dirty, true);
}

void fs_inode_grow(struct fs_inode *fi, uint64_t size)
{
	pthread_mutex_lock(&fi->meta_lock);
	fi->pending_size = size;
	fi->size_dirty = true;
	pthread_mutex_unlock(&fi->meta_lock);
	/* journal: the next commit writes it (fs_journal_pre_commit), so
	 * that a batched size is at most commit= seconds behind. */
	atomic_store(&fs_times_maybe_dirty, true);
}

bool fs_inode_size_pending(struct fs_inode *fi)
{
	bool dirty;

	pthread_mutex_lock(&fi->meta_lock);
	dirty = fi->size_dirty;
	pthread_mutex_unlock(&fi->meta_lock);
	return dirty;
}

int fs_inode_sync_times(struct iomapfs *fsx, struct fs_inode *fi,
			struct ext2_inode_large *inode)
{
	struct ext2_inode_large buf;
	int ret;

	if (!fs_inode_dirty(fi))
		return 0;
	if (inode)
		return fs_inode_fold_times(fsx, fi, inode, true);
	/* fs_write_inode() folds them in */
	ret = fs_read_inode(fsx, fi->ino, &buf);
	if (ret)
		return ret;
	return fs_write_times(fsx, fi->ino, fi, &buf);
}

int fs_map_source(void *arg, uint64_t ino, uint64_t off, struct iomap *out)
{
	struct iomapfs *fsx = arg;
	int ret;

	if (ino == 0 || ino > UINT32_MAX)
		return -EINVAL;
	fs_lock(fsx);
	ret = iomap_ext2_lookup(fsx->fs, (ext2_ino_t)ino, off, out);
	fs_unlock(fsx);
	return ret;
}

int fs_inode_snapshot(struct iomapfs *fsx, struct fs_inode ***out, size_t *n)
{
	struct fs_inode **arr, *fi;
	size_t i, k = 0;

	pthread_mutex_lock(&fsx->itab_lock);
	arr = calloc(fsx->itab_count + 1, sizeof(*arr));
	if (!arr) {
		pthread_mutex_unlock(&fsx->itab_lock);
		return -ENOMEM;
	}
	for (i = 0; i < fsx->itab_size; i++) {
		for (fi = fsx->itab[i]; fi; fi = fi->hash_next) {
			fi->refs++;
			arr[k++] = fi;
		}
	}
	pthread_mutex_unlock(&fsx->itab_lock);
	*out = arr;
	*n = k;
	return 0;
}

int fs_sync_all_times(struct iomapfs *fsx)
{
	struct fs_inode **arr;
	size_t i, n;
	int ret;

	ret = fs_inode_snapshot(fsx, &arr, &n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		if (!fs_is_ro(fsx))
			fs_inode_sync_times(fsx, arr[i], NULL);
		fs_inode_put(fsx, arr[i]);
	}
	free(arr);
	return 0;
}

int fs_flush_all(struct iomapfs *fsx)
{
	errcode_t err;
	int ret;

	if (!(fsx->fs->flags & EXT2_FLAG_RW))
		return 0;
	if (fs_is_shut_down(fsx))
		return -EIO;
	/* journal: a commit (its pre_commit writes the pending times);
	 * paused (remounted read-only), in place. */
	if (fsx->journal && journal_active(fsx->journal))
		return fs_is_ro(fsx) && !journal_failed(fsx->journal)
			       ? 0
			       : journal_commit(fsx->journal,
						JOURNAL_CAUSE_UNMOUNT);
	/* Timestamps left pending by lock-free overwrites. */
	ret = fs_sync_all_times(fsx);
	if (ret)
		return ret;
	if (fsx->ro_now && !(fsx->fs->super->s_state & EXT2_ERROR_FS))
		return 0;
	/* -o nobarrier: nor does libext2fs fsync its descriptor */
	err = ext2fs_flush2(fsx->fs,
			    fsx->opts.nobarrier ? EXT2_FLAG_FLUSH_NO_SYNC : 0);
	if (err)
		return translate_error(fsx, err, 0);
	return fs_dev_flush(fsx);
}

int fs_shutdown(struct iomapfs *fsx, bool flush)
{
	int ret = 0;

	fs_lock(fsx);
	if (!fs_is_shut_down(fsx)) {
		/* journal: flush commits the running transaction (ext4's
		 * LOGFLUSH, and its default mode, which syncs first). */
		if (flush && !fs_is_ro(fsx))
			ret = fs_flush_all(fsx);
		/* journal: then nothing more commits or goes home. */
		if (fsx->journal)
			journal_halt(fsx->journal);
		__atomic_store_n(&fsx->shut_down, true, __ATOMIC_RELEASE);
		fprintf(stderr, "iomapfs: %s: shut down%s\n", fsx->source,
			flush ? " after a flush" : ", nothing flushed");
	}
	fs_unlock(fsx);
	return ret;
}

int fs_dev_flush(struct iomapfs *fsx)
{
	if (fsx->opts.nobarrier)
		return 0;
	return fdatasync(fsx->dev_fd) < 0 ? -errno : 0;
}

/* --- the inode table -------------------------------------------------- */

static size_t fs_itab_hash(const struct iomapfs *fsx, ext2_ino_t ino)
{
	return (ino * 2654435761u) & (fsx->itab_size - 1);
}

/* Double the table when it gets crowded.  itab_lock held. */
static void fs_itab_grow(struct iomapfs *fsx)
{
	struct fs_inode **old = fsx->itab, **tab, *fi, *next;
	size_t old_size = fsx->itab_size, i;

	tab = calloc(old_size * 2, sizeof(*tab));
	if (!tab)
		return; /* longer chains, still correct */
	fsx->itab = tab;
	fsx->itab_size = old_size * 2;
	for (i = 0; i < old_size; i++) {
		for (fi = old[i]; fi; fi = next) {
			size_t h = fs_itab_hash(fsx, fi->ino);

			next = fi->hash_next;
			fi->hash_next = tab[h];
			tab[h] = fi;
		}
	}
	free(old);
}

static struct fs_inode *fs_itab_lookup(struct iomapfs *fsx, ext2_ino_t ino)
{
	struct fs_inode *fi;

	for (fi = fsx->itab[fs_itab_hash(fsx, ino)]; fi; fi = fi->hash_next)
		if (fi->ino == ino)
			return fi;
	return NULL;
}

/*
 * io_lock prefers writers: a truncate, punch or allocating write must not
 * wait for ever behind a steady stream of readers.  (No thread takes
 * io_lock shared twice, which a writer-preferring lock would deadlock.)
 */
static int fs_inode_locks_init(struct fs_inode *fi)
{
	pthread_rwlockattr_t attr;
	int ret;

	ret = pthread_rwlockattr_init(&attr);
	if (ret)
		return -ret;
	ret = pthread_rwlockattr_setkind_np(
		&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	if (!ret)
		ret = pthread_rwlock_init(&fi->io_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (ret)
		return -ret;
	ret = pthread_mutex_init(&fi->meta_lock, NULL);
	if (ret) {
		pthread_rwlock_destroy(&fi->io_lock);
		return -ret;
	}
	return 0;
}

struct fs_inode *fs_inode_get(struct iomapfs *fsx, ext2_ino_t ino)
{
	struct fs_inode *fi;
	size_t h;
	int ret;

	pthread_mutex_lock(&fsx->itab_lock);
	fi = fs_itab_lookup(fsx, ino);
	if (fi) {
		fi->refs++;
		pthread_mutex_unlock(&fsx->itab_lock);
		return fi;
	}
	fi = calloc(1, sizeof(*fi));
	if (!fi) {
		pthread_mutex_unlock(&fsx->itab_lock);
		errno = ENOMEM;
		return NULL;
	}
	fi->ino = ino;
	ret = fs_inode_locks_init(fi);
	if (ret) {
		free(fi);
		pthread_mutex_unlock(&fsx->itab_lock);
		errno = -ret;
		return NULL;
	}
	fi->refs = 1;
	if (fsx->itab_count >= fsx->itab_size * 2)
		fs_itab_grow(fsx);
	h = fs_itab_hash(fsx, ino);
	fi->hash_next = fsx->itab[h];
	fsx->itab[h] = fi;
	fsx->itab_count++;
	pthread_mutex_unlock(&fsx->itab_lock);
	return fi;
}

struct fs_inode *fs_inode_find(struct iomapfs *fsx, ext2_ino_t ino)
{
	struct fs_inode *fi;

	pthread_mutex_lock(&fsx->itab_lock);
	fi = fs_itab_lookup(fsx, ino);
	if (fi)
		fi->refs++;
	pthread_mutex_unlock(&fsx->itab_lock);
	return fi;
}

static void fs_inode_destroy(struct fs_inode *fi)
{
	pthread_rwlock_destroy(&fi->io_lock);
	pthread_mutex_destroy(&fi->meta_lock);
	free(fi);
}

/*
 * Unhash and free @fi when nothing uses it any more.  itab_lock held.
 * An inode with pending timestamps stays until they are written: only
 * fs_close() throws such inodes away (after fs_flush_all()).
 */
static bool fs_inode_maybe_free(struct iomapfs *fsx, struct fs_inode *fi)
{
	struct fs_inode **pp;
	bool dirty;

	if (fi->refs || fi->nlookup || fi->open_count || fi->unlinked)
		return false;
	dirty = fs_inode_dirty(fi);
	if (dirty)
		return false;
	for (pp = &fsx->itab[fs_itab_hash(fsx, fi->ino)]; *pp;
	     pp = &(*pp)->hash_next) {
		if (*pp == fi) {
			*pp = fi->hash_next;
			fsx->itab_count--;
			return true;
		}
	}
	return false;
}

void fs_inode_put(struct iomapfs *fsx, struct fs_inode *fi)
{
	bool gone;

	if (!fi)
		return;
	pthread_mutex_lock(&fsx->itab_lock);
	fi->refs--;
	gone = fs_inode_maybe_free(fsx, fi);
	pthread_mutex_unlock(&fsx->itab_lock);
	if (gone)
		fs_inode_destroy(fi);
}

/*
 * The kernel forgot @ino: free its in-memory inode, unless something
 * still uses it.  When only the times it keeps pending (lazytime, or an
 * overwrite not yet closed) hold it, they are written now, as ext4 writes
 * a dirty inode it evicts, and then it goes.  Takes fs_lock for that.
 */
void fs_inode_forget(struct iomapfs *fsx, ext2_ino_t ino, uint64_t n)
{
	struct fs_inode *fi;
	bool gone = false, flush = false;

	pthread_mutex_lock(&fsx->itab_lock);
	fi = fs_itab_lookup(fsx, ino);
	if (fi) {
		fi->nlookup = fi->nlookup > n ? fi->nlookup - n : 0;
		gone = fs_inode_maybe_free(fsx, fi);
		flush = !gone && !fi->refs && !fi->nlookup && !fi->open_count &&
			!fi->unlinked;
		if (flush)
			fi->refs++;
	}
	pthread_mutex_unlock(&fsx->itab_lock);
	if (gone)
		fs_inode_destroy(fi);
	if (!flush)
		return;
	fs_lock(fsx);
	if (!fs_is_ro(fsx))
		fs_inode_sync_times(fsx, fi, NULL);
	fs_unlock(fsx);
	fs_inode_put(fsx, fi);
}

void fs_inode_forget_attrs(struct fs_inode *fi)
{
	__atomic_store_n(&fi->sxid, 0, __ATOMIC_RELEASE);
	pthread_mutex_lock(&fi->meta_lock);
	fi->times_dirty = false;
	fi->atime_dirty = false;
	fi->size_dirty = false;
	fi->attrs_known = false;
	pthread_mutex_unlock(&fi->meta_lock);
}

void fs_inode_open(struct iomapfs *fsx, struct fs_inode *fi)
{
	pthread_mutex_lock(&fsx->itab_lock);
	fi->open_count++;
	pthread_mutex_unlock(&fsx->itab_lock);
}

bool fs_inode_close(struct iomapfs *fsx, struct fs_inode *fi)
{
	bool last;

	pthread_mutex_lock(&fsx->itab_lock);
	fi->open_count--;
	last = fi->open_count == 0 && fi->unlinked;
	if (last)
		fi->unlinked = false;
	pthread_mutex_unlock(&fsx->itab_lock);
	return last;
}

uint32_t fs_next_generation(struct iomapfs *fsx)
{
	return fsx->next_generation++;
}

/* --- opening and closing ---------------------------------------------- */

int fs_init(struct iomapfs *fsx)
{
	uint32_t seed;

	/*
	 * libext2fs reports some errors itself, through com_err (a bitmap
	 * asked about a block it does not cover, for one): with its table
	 * registered they name the error in words, not "Unknown code ext2
	 * 47".  Before any thread runs: the registration is not locked.
	 */
	initialize_ext2_error_table();
	if (pthread_mutex_init(&fsx->fs_lock, NULL) ||
	    pthread_mutex_init(&fsx->itab_lock, NULL))
		return -ENOMEM;
	fsx->itab_size = 1024;
	fsx->itab = calloc(fsx->itab_size, sizeof(*fsx->itab));
	if (!fsx->itab)
		return -ENOMEM;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	fsx->next_generation = seed;
	return 0;
}

void fs_fini(struct iomapfs *fsx)
{
	struct fs_inode *fi, *next;
	size_t i;

	if (fsx->itab) {
		for (i = 0; i < fsx->itab_size; i++) {
			for (fi = fsx->itab[i]; fi; fi = next) {
				next = fi->hash_next;
				fs_inode_destroy(fi);
			}
		}
		free(fsx->itab);
		fsx->itab = NULL;
	}
	/* After fs_close(): the data path may serve replayed blocks until
	 * the session ends. */
	replay_free(fsx);
	pthread_mutex_destroy(&fsx->itab_lock);
	pthread_mutex_destroy(&fsx->fs_lock);
}

/*
 * Refuse, as the kernel does at mount, a filesystem whose group
 * descriptors place bitmaps or inode tables outside their groups, or whose
 * root is no readable directory: a mount of it would fail every request
 * (even the stat of the mountpoint) or read inodes from arbitrary blocks.
 * Prints why.  Returns 0 or -EUCLEAN.
 */
static int fs_check_open(struct iomapfs *fsx)
{
	struct ext2_inode_large root;
	errcode_t err;

	err = ext2fs_check_desc(fsx->fs);
	if (err) {
		fprintf(stderr,
			"iomapfs: %s: corrupt group descriptors: %s: run "
			"e2fsck\n",
			fsx->source, iomap_ext2_strerror(err));
		return -EUCLEAN;
	}
	memset(&root, 0, sizeof(root));
	err = ext2fs_read_inode_full(fsx->fs, EXT2_ROOT_INO, EXT2_INODE(&root),
				     sizeof(root));
	if (!err && !LINUX_S_ISDIR(root.i_mode))
		err = EXT2_ET_NO_DIRECTORY;
	if (err) {
		fprintf(stderr,
			"iomapfs: %s: corrupt root inode: %s: run e2fsck\n",
			fsx->source, iomap_ext2_strerror(err));
		return -EUCLEAN;
	}
	return 0;
}

/*
 * ext2fs_open2() of the source, from the primary superblock or, with
 * -o sb=N, from the backup at byte N * 1024 (ext4's unit), trying each
 * block size that puts a block boundary there, as e2fsck -b does.
 */
static errcode_t fs_open_super(struct iomapfs *fsx, int flags)
{
	uint64_t byte = fsx->opts.sb_block * 1024;
	unsigned int bs;
	errcode_t err = EXT2_ET_BAD_MAGIC;

	/*
	 * journal: a read-write mount goes through jio, whose hooks the
	 * journal installs later (fs_journal_open()); a read-only one
	 * through replay's choice.
	 */
	io_manager mgr = fsx->opts.ro ? replay_io_manager(fsx) : jio_io_manager;

	if (!fsx->opts.sb_block)
		return ext2fs_open2(fsx->source, NULL, flags, 0, 0, mgr,
				    &fsx->fs);
	for (bs = EXT2_MIN_BLOCK_SIZE; bs <= EXT2_MAX_BLOCK_SIZE; bs *= 2) {
		if (byte % bs)
			continue;
		err = ext2fs_open2(fsx->source, NULL, flags, byte / bs, bs, mgr,
				   &fsx->fs);
		if (!err)
			break;
	}
	return err;
}

/* Says why the mount cannot go on: @what failed with @err.  Returns @ret. */
static int fs_open_err(struct iomapfs *fsx, const char *what, errcode_t err,
		       int ret)
{
	fprintf(stderr, "iomapfs: %s: %s: %s\n", fsx->source, what,
		iomap_ext2_strerror(err));
	return ret;
}

int fs_open(struct iomapfs *fsx)
{
	struct ext2_super_block *sb;
	/*
	 * No EXT2_FLAG_THREADS: libext2fs serializes on fs_lock anyway, and
	 * its threaded bitmap read turns the block cache back on when done.
	 */
	int flags = EXT2_FLAG_64BITS;
	char why[128];
	errcode_t err;
	bool needs_fsck;
	int ret;

	if (!fsx->opts.ro)
		flags |= EXT2_FLAG_RW;
	/* Before the open, which then reads the replayed blocks. */
	ret = replay_prepare(fsx);
	if (ret)
		return ret;
	fs_set_uid16(fsx->opts.nouid32);
	err = fs_open_super(fsx, flags);
	if (err == EXT2_ET_RO_UNSUPP_FEATURE) {
		fprintf(stderr,
			"iomapfs: %s: the filesystem has read-only compatible "
			"features this libext2fs cannot write: mount it with "
			"-o ro\n",
			fsx->source);
		return -EROFS;
	}
	if (err) {
		fprintf(stderr, "iomapfs: %s: cannot open the filesystem: %s\n",
			fsx->source, iomap_ext2_strerror(err));
		ret = iomap_ext2_errno(err);
		if (err == EXT2_ET_BAD_MAGIC)
			ret = -EMEDIUMTYPE;
		return ret < 0 ? ret : -EIO;
	}
	sb = fsx->fs->super;
	fsx->blocksize = fsx->fs->blocksize;
	ret = iomap_ext2_check_super(fsx->fs, why, sizeof(why));
	if (ret) {
		fprintf(stderr,
			"iomapfs: %s: corrupt superblock: %s: run "
			"e2fsck\n",
			fsx->source, why);
		goto out_close;
	}

	/* See the comment at the top of this file. */
	err = io_channel_set_options(fsx->fs->io, "cache=off");
	if (err) {
		ret = fs_open_err(fsx,
				  "cannot turn off the libext2fs block cache",
				  err, -EIO);
		goto out_close;
	}

	ret = replay_finish(fsx);
	if (ret)
		goto out_close;
	needs_fsck = false;
	if (sb->s_state & EXT2_ERROR_FS) {
		fprintf(stderr,
			"iomapfs: %s: errors are recorded in the "
			"filesystem%s\n",
			fsx->source,
			fsx->opts.ro
				? "; mounting read-only anyway"
				: ": run e2fsck first (or mount with -o ro)");
		needs_fsck = true;
	}
	/*
	 * Not cleanly unmounted: after a crash the on-disk bitmaps may miss
	 * blocks and inodes in use (ours are written only at a flush), and
	 * allocating from them would give one block to two files.  The
	 * kernel keeps EXT2_VALID_FS set while it runs a journal (its crash
	 * leaves needs_recovery, replayed above); it is clear here when a
	 * daemon that wrote in place was killed, or e2fsck asked for a full
	 * check after a damaged replay.
	 */
	if (!(sb->s_state & EXT2_VALID_FS)) {
		fprintf(stderr,
			"iomapfs: %s: the filesystem was not cleanly "
			"unmounted%s\n",
			fsx->source,
			fsx->opts.ro
				? "; mounting read-only anyway"
				: " and its bitmaps may be stale: run e2fsck "
				  "first (or mount with -o ro)");
		needs_fsck = true;
	}
	if (needs_fsck && !fsx->opts.ro) {
		ret = -EUCLEAN;
		goto out_close;
	}
	ret = fs_check_open(fsx);
	if (ret)
		goto out_close;
	if (!fsx->opts.ro && ext2fs_has_feature_journal(sb) &&
	    fsx->opts.journal_off)
		fprintf(stderr,
			"iomapfs: %s: journal=off: the journal is not used; "
			"changes are written in place, and a crash may need "
			"e2fsck\n",
			fsx->source);

	if (!fsx->opts.ro) {
		err = ext2fs_read_bitmaps(fsx->fs);
		if (err) {
			ret = fs_open_err(fsx, "cannot read the bitmaps", err,
					  translate_error(fsx, err, 0));
			goto out_close;
		}
		/* Belt and braces: no bitmap read may have turned it on. */
		err = io_channel_set_options(fsx->fs->io, "cache=off");
		if (err) {
			ret = translate_error(fsx, err, 0);
			goto out_close;
		}
		ret = fs_journal_open(fsx);
		if (ret)
			goto out_close;
		sb->s_mnt_count++;
		sb->s_mtime = (uint32_t)time(NULL);
		if (fsx->mountpoint) {
			memset(sb->s_last_mounted, 0,
			       sizeof(sb->s_last_mounted));
			strncpy((char *)sb->s_last_mounted, fsx->mountpoint,
				sizeof(sb->s_last_mounted) - 1);
		}
		/*
		 * journal: with a journal the filesystem stays valid on disk
		 * while mounted (the kernel's way): needs_recovery, set by
		 * journal_open(), says a crash needs a replay.  Without one
		 * the bitmaps on disk go stale: not valid until unmount.
		 */
		if (!fsx->journal)
			sb->s_state &= ~EXT2_VALID_FS;
		ext2fs_mark_super_dirty(fsx->fs);
		/* In place, durable, before the journal writes anything. */
		err = ext2fs_flush2(fsx->fs, 0);
		if (err) {
			ret = fs_open_err(fsx, "cannot write the superblock",
					  err, -EIO);
			goto out_journal;
		}
		fsx->mounted_rw = true;
		if (fsx->journal) {
			ret = journal_start(fsx->journal);
			if (ret) {
				fprintf(stderr,
					"iomapfs: %s: cannot start the "
					"journal: "
					"%s\n",
					fsx->source, strerror(-ret));
				goto out_journal;
			}
		}
	}
	fsx->ro_now = fsx->opts.ro;
	return 0;

out_journal:
	if (fsx->journal) {
		journal_free(fsx->journal);
		fsx->journal = NULL;
		/* Nothing was logged: the superblock may say so again. */
		ext2fs_clear_feature_journal_needs_recovery(sb);
		ext2fs_mark_super_dirty(fsx->fs);
		ext2fs_flush2(fsx->fs, 0);
	}
out_close:
	ext2fs_close_free(&fsx->fs);
	return ret;
}

int fs_close(struct iomapfs *fsx)
{
	errcode_t err;
	int ret = 0, r;

	if (!fsx->fs)
		return 0;
	fs_lock(fsx);
	if (fs_is_shut_down(fsx)) {
		/*
		 * Shut down: nothing more is written, as on ext4; what the
		 * shutdown made durable is what the next mount finds, and
		 * the filesystem stays marked not clean.  journal: halted by
		 * fs_shutdown(), it commits nothing more; what its log holds
		 * is the next mount's to replay.
		 */
		if (fsx->journal) {
			(void)journal_shutdown(fsx->journal);
			journal_free(fsx->journal);
			fsx->journal = NULL;
		}
		fsx->fs->flags &= ~(EXT2_FLAG_DIRTY | EXT2_FLAG_BB_DIRTY |
				    EXT2_FLAG_IB_DIRTY);
		ext2fs_close_free(&fsx->fs);
		fsx->fs = NULL;
		fs_unlock(fsx);
		return 0;
	}
	if (fsx->journal) {
		/*
		 * journal: commit, write everything home and leave the log
		 * empty; then the superblock may say that no recovery is
		 * needed, written in place like the rest below.  A journal
		 * that failed leaves the disk as it is: the next mount
		 * replays what committed.
		 */
		r = journal_shutdown(fsx->journal);
		if (r && !ret)
			ret = r;
		if (r || journal_failed(fsx->journal)) {
			journal_free(fsx->journal);
			fsx->journal = NULL;
			fsx->fs->flags &=
				~(EXT2_FLAG_RW | EXT2_FLAG_DIRTY |
				  EXT2_FLAG_BB_DIRTY | EXT2_FLAG_IB_DIRTY);
			ext2fs_close_free(&fsx->fs);
			fsx->fs = NULL;
			fs_unlock(fsx);
			return ret;
		}
		journal_free(fsx->journal);
		fsx->journal = NULL;
		ext2fs_clear_feature_journal_needs_recovery(fsx->fs->super);
	}
	if (fsx->mounted_rw) {
		r = fs_flush_all(fsx);
		if (r && !ret)
			ret = r;
		if (!(fsx->fs->super->s_state & EXT2_ERROR_FS))
			fsx->fs->super->s_state |= EXT2_VALID_FS;
		ext2fs_mark_super_dirty(fsx->fs);
		err = ext2fs_close_free(&fsx->fs);
		if (err && !ret)
			ret = -EIO;
		if (fsx->dev_fd >= 0) {
			r = fs_dev_flush(fsx);
			if (r && !ret)
				ret = r;
		}
	} else {
		/* Nothing of ours to write; never flush a read-only open. */
		fsx->fs->flags &= ~EXT2_FLAG_DIRTY;
		ext2fs_close_free(&fsx->fs);
	}
	fsx->fs = NULL;
	fs_unlock(fsx);
	return ret;
}
