/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * journal.h - the JBD2 journal writer of the mount daemon: every metadata
 * block libext2fs writes goes into the running transaction (through the
 * write hook of the jio channel under libext2fs), commits write the
 * transaction to the log in the kernel's order, checkpoints write the
 * committed blocks home later, and the allocator never hands out a block
 * whose freeing has not committed yet.  The rules, and the code that
 * keeps each, are in journal.c.
 *
 * Locking: everything here runs under the filesystem lock (fs_lock, the
 * mutex given to journal_open()), like the libext2fs calls that reach the
 * hooks.  The commit thread takes that lock itself.  Handles
 * (journal_handle_start()/stop()) are taken with fs_lock NOT held, after
 * any inode io_lock and before fs_lock: an operation that drops fs_lock
 * between two changes holds a handle across, and no commit happens while
 * a handle is open.
 *
 * Functions return 0 or a negative errno.
 */
#ifndef IOMAPFS_JOURNAL_H
#define IOMAPFS_JOURNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <ext2fs/ext2fs.h>

struct journal;

/* Why a transaction committed. */
enum journal_cause {
	JOURNAL_CAUSE_TIMER = 0, /* commit= seconds passed */
	JOURNAL_CAUSE_FSYNC,	 /* fsync/fdatasync/fsyncdir */
	JOURNAL_CAUSE_SIZE,	 /* the transaction reached its bound */
	JOURNAL_CAUSE_UNMOUNT,	 /* unmount, or an explicit sync */
	JOURNAL_CAUSE_SPLIT,	 /* an operation too large for one */
	JOURNAL_CAUSE_ERROR,	 /* errors=remount-ro or panic */
	JOURNAL_CAUSE_SPACE,	 /* frees waiting for it are needed */
	JOURNAL_CAUSE_COUNT,
};

/* The name of a cause ("timer", "fsync", ...). */
const char *journal_cause_name(enum journal_cause cause);

/* Defaults of the limits (mount options commit=, journal_txn_max=,
 * journal_cp_max=). */
#define JOURNAL_DEFAULT_COMMIT_SEC 5u
#define JOURNAL_MAX_COMMIT_SEC	   86400u
#define JOURNAL_DEFAULT_TXN_MAX	   (32ull << 20)
#define JOURNAL_MIN_TXN_MAX	   (64ull << 10)
#define JOURNAL_DEFAULT_CP_MAX	   (64ull << 20)
#define JOURNAL_MIN_CP_MAX	   (64ull << 10)

struct journal_opts {
	unsigned int commit_sec; /* commit at most this long after a change */
	uint64_t txn_max;	 /* bytes of blocks in one transaction */
	uint64_t cp_max;	 /* bytes of committed blocks not yet home */
	bool nobarrier;		 /* -o nobarrier: no flush of the device */
};

/* What the journal asks of the daemon. */
struct journal_ops {
	/*
	 * Before a commit, with fs_lock held and no handle open: write into
	 * libext2fs whatever the daemon keeps pending in memory (timestamps
	 * of lock-free overwrites).  Returns 0 or -errno.
	 */
	int (*pre_commit)(void *arg);
	/*
	 * The journal failed (an I/O error on the log or on a checkpoint):
	 * nothing more can commit.  Called once, with fs_lock held; the
	 * daemon applies its errors= policy.  @err is a negative errno.
	 */
	void (*failed)(void *arg, int err);
	/*
	 * Optional: blocks [@blk, @blk + @count) that the transaction just
	 * committed freed are free for good (R4 in journal.c): -o discard
	 * may discard them now, and not before.  fs_lock held.
	 */
	void (*freed)(void *arg, uint64_t blk, uint64_t count);
	void *arg;
};

/* Statistics (journal_get_stats()); all counters since mount. */
struct journal_stats {
	uint64_t transactions;	/* committed */
	uint64_t blocks_logged; /* metadata blocks written to the log */
	uint64_t log_writes;	/* log blocks written (with descriptors) */
	uint64_t revokes;	/* revoke records written */
	uint64_t commits[JOURNAL_CAUSE_COUNT];
	uint64_t commit_ns_total;
	uint64_t commit_ns_max;
	uint64_t checkpoints;
	uint64_t checkpoint_blocks;  /* blocks written home */
	uint64_t skipped_same;	     /* writes equal to the newest copy */
	uint64_t freed_dropped;	     /* copies dropped because freed */
	uint64_t bitmap_misses;	     /* full-bitmap check: groups missed */
	uint64_t nospace_waits;	     /* commits put off: no room for the log */
	uint64_t running_blocks_max; /* the largest transaction committed */
	uint64_t cp_bytes_max;	     /* the most committed bytes not home */
	uint32_t tid;		     /* the running transaction */
	uint32_t running_blocks;     /* blocks in it now */
	uint32_t running_revokes;
	uint64_t cp_blocks; /* committed blocks not home yet */
	uint64_t cp_bytes;  /* memory they hold */
	uint64_t log_used;  /* log blocks between tail and head */
	uint64_t log_size;  /* log blocks in all */
	uint64_t txn_max_blocks;
	uint64_t cp_max_bytes;
	int64_t oldest_uncheckpointed_ns; /* age of the oldest, or 0 */
	bool aborted;
	int error; /* the abort's errno (negative), or 0 */
	bool csum_v3;
	unsigned int commit_sec;
};

/*
 * Get the journal of @fs ready for writing: check its superblock (internal
 * journal, empty log, a format this writer knows), set its features as the
 * kernel does at mount (csum v3 when the filesystem has metadata_csum or
 * the journal has checksums already, 64bit with the filesystem's 64bit,
 * revoke; no async_commit, no v1 checksum, no fast commit) and write the
 * journal superblock home, durable.  Marks the filesystem superblock in
 * memory as needing recovery; the caller writes it home (in place, as
 * fs_open() does) before journal_start().  @fs must have been opened with
 * jio_io_manager and have its bitmaps loaded.  @lock is fs_lock.  On
 * failure writes a reason into @why.  Returns 0 or -errno: -EOPNOTSUPP for
 * a journal this writer cannot write (external, unknown features),
 * -EUCLEAN for a damaged one, -EAGAIN when the log is not empty.
 */
int journal_open(ext2_filsys fs, pthread_mutex_t *lock,
		 const struct journal_opts *opts, const struct journal_ops *ops,
		 struct journal **out, char *why, size_t why_len);

/*
 * From now on every metadata write goes into the journal: install the
 * hooks and the allocator callbacks.  fs_lock held.
 */
int journal_start(struct journal *j);

/*
 * Start the commit thread (commit= and the size bound).  In the process
 * that serves the mount: after fuse_daemonize(), which forks.
 */
int journal_run(struct journal *j);

/*
 * Commit everything, write it home, leave the log empty and durable, and
 * take the hooks off again (later writes go in place).  Unless the journal
 * failed, the caller may then clear needs_recovery and write the
 * superblock in place.  Stops the commit thread: call without fs_lock.
 * Returns 0 or the error that left the log not empty.
 */
int journal_shutdown(struct journal *j);

/*
 * Remount read-only: commit, write everything home, leave the log empty
 * and durable, and take the hooks off (later writes go in place), keeping
 * the journal and its commit thread, which has nothing to do until
 * journal_resume().  The caller then clears needs_recovery and writes the
 * superblock in place.  fs_lock held.  Returns 0 or -errno (the journal
 * stays as it was).
 */
int journal_pause(struct journal *j);

/*
 * Remount read-write: the hooks back on (journal_start()).  The caller has
 * set needs_recovery and written the superblock in place, durable.
 * fs_lock held.  Returns 0 or -errno (a journal that failed).
 */
int journal_resume(struct journal *j);

/*
 * FS_IOC_SHUTDOWN: nothing more commits or goes home, and nothing is
 * written to say so (the caller has committed first, or not, by the
 * ioctl's mode).  fs_lock held.
 */
void journal_halt(struct journal *j);

/* Whether the hooks are on (started, and not paused or shut down). */
bool journal_active(const struct journal *j);

/* Free the journal (after journal_shutdown(), or on a failed mount). */
void journal_free(struct journal *j);

/* Start and stop a handle; fs_lock NOT held (see the lock rule above). */
void journal_handle_start(struct journal *j);
void journal_handle_stop(struct journal *j);

/*
 * Commit the running transaction now, if it holds anything, and wait
 * until it is durable.  fs_lock held, no handle of the caller open.
 */
int journal_commit(struct journal *j, enum journal_cause cause);

/*
 * fsync of @ino: commit when the running transaction changed the inode
 * (@datasync: more than its timestamps).  Sets *committed.  Returns 0 or
 * -errno; the caller still makes the file's data durable when no commit
 * happened.  fs_lock held.
 */
int journal_sync_inode(struct journal *j, ext2_ino_t ino, bool datasync,
		       bool *committed);

/*
 * The inode writes that follow, until journal_times_only(j, false), only
 * set timestamps (fdatasync need not commit them).  fs_lock held.
 */
void journal_times_only(struct journal *j, bool on);

/*
 * Between two parts of an operation too large for one transaction, with
 * fs_lock held, no handle open and the filesystem consistent: commit when
 * the running transaction has grown past a quarter of its bound, so that
 * the next part has room.  Returns 0 or -errno.
 */
int journal_split(struct journal *j);

/*
 * The blocks an operation split with journal_split() may free or allocate
 * between two calls: even one block per group touched, that many cannot
 * fill more than a quarter of a transaction.  0 when the journal is off.
 */
uint64_t journal_chunk_blocks(const struct journal *j);

/*
 * Whether the running transaction is near its bound (an operation that
 * frees or allocates in chunks asks between chunks).
 */
bool journal_txn_full(const struct journal *j);

/*
 * fs_lock was just taken (fs_lock()): a transaction at its bound commits
 * now, unless this thread holds a handle; and the journal notes where
 * this section of changes begins (journal_abort()).
 */
void journal_enter(struct journal *j);

/*
 * Whether blocks freed by the running transaction wait for its commit
 * (an allocation that failed with ENOSPC may succeed after one).
 */
bool journal_frees_pending(const struct journal *j);

/*
 * Whether block @blk was freed by a transaction that has not committed
 * yet (R4): free in the bitmap, but not to be allocated or discarded
 * before that commit.  fs_lock held.
 */
bool journal_block_pending(const struct journal *j, blk64_t blk);

/*
 * Abort the journal (errors=remount-ro or panic after corruption, @err):
 * nothing more commits.  When the current fs_lock section changed nothing
 * yet, the running transaction holds only whole operations and is
 * committed and written home first; else it is thrown away, as the
 * kernel does.  The error state goes into the superblock at home and the
 * journal superblock.  fs_lock held.
 */
void journal_abort(struct journal *j, int err);

/* Write every committed block home now and move the tail.  fs_lock held. */
int journal_checkpoint(struct journal *j);

/* Whether the journal failed; its error. */
bool journal_failed(const struct journal *j);

/* Statistics.  fs_lock held. */
void journal_get_stats(const struct journal *j, struct journal_stats *st);

#endif /* IOMAPFS_JOURNAL_H */
