/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs.h - the mount daemon's state: the open filesystem, the lock that
 * guards libext2fs, the in-memory inode table, and the helpers every FUSE
 * operation uses.  fs.c is the only daemon file that turns errcode_t into
 * -errno (translate_error()); no errcode_t leaves the functions declared
 * here.
 *
 * Lock order (take them in this order, release in reverse):
 *   1. struct fs_inode.io_lock   (per inode, rwlock)
 *   1b. a journal handle         (fs_txn_start(); a commit waits for it)
 *   2. struct iomapfs.fs_lock    (global, guards every libext2fs call)
 *   3. struct fs_inode.meta_lock (per inode, short, pending timestamps)
 *   4. cache internal locks      (see cache.h)
 * The inode table lock (itab_lock) is taken under any of these; only
 * meta_lock (short, a leaf) is ever taken under it.
 *
 * Data I/O (pread/pwrite on dev_fd at device byte addresses) on mappings
 * that are already MAPPED runs with only io_lock held shared: no global
 * lock, so reads and overwrites of different files, or different parts of
 * one file, run in parallel.
 */
#ifndef IOMAPFS_FS_H
#define IOMAPFS_FS_H

#define FUSE_USE_VERSION 314

#include <pthread.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <ext2fs/ext2fs.h>
#include <fuse_lowlevel.h>

#include "cache.h"
#include "iomap.h"

enum fs_errors_mode {
	FS_ERRORS_CONTINUE = 0,
	FS_ERRORS_REMOUNT_RO,
	FS_ERRORS_PANIC,
};

/*
 * When reads and readdir update the access time (mntopts.c, atime.c):
 * as the kernel's relatime (the default), strictatime and noatime.
 */
enum fs_atime_mode {
	FS_ATIME_RELATIME = 0,
	FS_ATIME_STRICT,
	FS_ATIME_NEVER,
};

/* Mount options, parsed once in main.c; read-only afterwards. */
struct dix;
struct journal;
struct replay;

struct iomapfs_opts {
	bool ro;
	bool fakeroot; /* act as root: any uid may do anything */
	bool allow_other;
	bool iomap_cache;     /* caching on at mount (default true) */
	bool writeback_cache; /* the kernel's write-back cache (default true) */
	bool foreground;
	bool debug;
	uint64_t cache_max;	  /* bytes */
	uint64_t cache_inode_max; /* bytes */
	uint64_t dir_index_max;	  /* bytes; 0: no directory index */
	uint64_t replay_max;	  /* bytes of a read-only replay (replay.h) */
	bool norecovery;	  /* do not replay the journal (ro only) */
	char *ctl_socket;	  /* NULL: the default location */
	char *ctl_group;	  /* NULL: no read-only group */
	unsigned int threads;	  /* max FUSE worker threads */
	enum fs_errors_mode errors;
	/* The journal (journal.h): journal=off writes in place (unsafe). */
	bool journal_off;
	unsigned int commit_sec;  /* commit=: seconds; 0: the default */
	uint64_t journal_txn_max; /* bytes of one transaction */
	uint64_t journal_cp_max;  /* bytes of committed blocks not home */
	unsigned int journal_history; /* recent transactions listed */
	/* ext4's mount options that change what iomapfs does (mntopts.c) */
	enum fs_atime_mode atime;
	bool nodiratime;       /* directories keep their access time */
	bool lazytime;	       /* timestamps wait in memory (atime.c) */
	bool noacl;	       /* no POSIX ACLs: neither enforced nor stored */
	bool nouser_xattr;     /* no user.* extended attributes */
	bool nobarrier;	       /* fsync does not flush the device's cache */
	bool discard;	       /* freed blocks are discarded (discard.c) */
	bool grpid;	       /* new inodes take their directory's group */
	bool minixdf;	       /* statfs counts the metadata as capacity */
	bool nouid32;	       /* owners are 16 bits on disk */
	bool journal_checksum; /* the journal must be checksummed */
	uint64_t sb_block;     /* sb=: backup superblock, 1 KiB units; 0 none */
};

/*
 * In-memory inode, one per ext2 inode the kernel holds a lookup on or
 * that an operation is using.  Found by ext2 inode number in the inode
 * table; freed when nlookup and refs both reach 0.
 */
struct fs_inode {
	ext2_ino_t ino; /* constant */
	/*
	 * Shared: reads, and overwrites of MAPPED ranges inside i_size.
	 * Exclusive: anything that changes the mapping or the size (writes
	 * that allocate or extend, truncate, fallocate in every mode).
	 */
	pthread_rwlock_t io_lock;
	/*
	 * i_size as the data path sees it.  Changes only under io_lock
	 * exclusive (and fs_lock, when it is written to the inode), so a
	 * holder of io_lock shared reads a stable value.
	 */
	uint64_t size;
	bool size_valid; /* protected by io_lock */
	/*
	 * S_ISUID and S_ISGID of i_mode, with KILLPRIV_KNOWN once read (0:
	 * not yet), so that a write learns without fs_lock whether it must
	 * clear them (killpriv.c).  Set under fs_lock with the mode it
	 * mirrors; read and set with __atomic builtins.
	 */
	uint32_t sxid;
	/*
	 * Timestamps a lock-free overwrite set, and the size an append inside
	 * the last block reached, to be written to the inode under fs_lock
	 * by fs_inode_sync_times().  Protected by meta_lock.  The on-disk
	 * i_size is pending_size's only while size_dirty is false.
	 */
	pthread_mutex_t meta_lock;
	bool times_dirty;
	struct timespec pending_mtime; /* also becomes ctime */
	bool size_dirty;
	uint64_t pending_size;
	/* -errno of a failed write-back WRITE, for the next GETATTR with
	 * a descriptor (io_write.c); __atomic builtins. */
	int wb_error;
	/*
	 * lazytime: an access time that waits in memory (atime.c) until
	 * the inode is written anyway, fsync, forget or unmount.  Since
	 * when it waits, for lazytime's bound of a day.
	 */
	bool atime_dirty;
	struct timespec pending_atime;
	time_t atime_dirty_since;
	/*
	 * What the inode on disk says, as last read or written by us
	 * (fs_inode_note()): its flags (the write path's immutable and
	 * append-only checks, iflags.h) and times (relatime's question).
	 * Valid when attrs_known.  Protected by meta_lock.
	 */
	bool attrs_known;
	uint32_t iflags;
	struct timespec known_atime, known_mtime, known_ctime;
	/* Protected by the inode table lock. */
	uint64_t nlookup;    /* kernel lookups not yet forgotten */
	uint32_t refs;	     /* fs_inode_get() references */
	uint32_t open_count; /* open file handles */
	bool unlinked;	     /* last link gone; free at last close */
	bool tmpfile;	     /* O_TMPFILE, never linked: link may name it */
	struct fs_inode *hash_next;
};

/* The daemon's state: one per mount. */
struct iomapfs {
	/* Set up before the session starts; read-only afterwards. */
	struct iomapfs_opts opts;
	char *source;	  /* image path as given, resolved */
	char *mountpoint; /* absolute */
	int dev_fd;	  /* data I/O on the image or device */
	/*
	 * The source is a block device: the mount is fuseblk, whose block
	 * size is blkdev_blksize (the filesystem's, at most a page), so
	 * that FIBMAP reaches op_bmap() and filefrag works.
	 */
	bool blkdev;
	unsigned int blkdev_blksize;
	int claim_fd; /* O_EXCL on the device until the mount; else -1 */
	uint32_t blocksize;
	uid_t owner_uid; /* who mounted it */
	gid_t owner_gid;
	struct timespec start_time; /* CLOCK_REALTIME */
	struct cache *cache;
	struct fuse_session *se;

	/* Guards fs and every libext2fs call. */
	pthread_mutex_t fs_lock;
	ext2_filsys fs;
	struct dix *dix; /* the directory index (dirindex.h) */
	/*
	 * The journal writer (journal.h) of a read-write mount of a
	 * filesystem with a journal, or NULL (ext2, read-only, journal=off):
	 * then libext2fs writes in place.  Set at mount, before the session;
	 * cleared at close, after it.
	 */
	struct journal *journal;
	/* Inodes this mount put on the orphan list (orphan.h); fs_lock. */
	ext2_ino_t *orphans;
	size_t n_orphans, cap_orphans;
	/* The journal as the mount found it (replay.h); read-only after
	 * fs_open(). */
	struct replay *replay;
	/*
	 * -o discard: the run of blocks freed and not yet discarded
	 * (discard.c); discarded before any allocation and at fs_unlock().
	 * Protected by fs_lock.
	 */
	blk64_t discard_start, discard_count;
	bool ro_now; /* read-only (option, or errors=remount-ro) */
	/*
	 * FS_IOC_SHUTDOWN: every request fails with EIO and nothing more is
	 * written, not even at unmount.  Set once, under fs_lock; read
	 * without it (fs_is_shut_down()).
	 */
	bool shut_down;
	bool mounted_rw; /* EXT2_VALID_FS cleared on disk */
	/* The kernel's write-back cache is on (set by op_init, before any
	 * other request): it owns the size and times of regular files. */
	bool writeback;
	uint32_t next_generation; /* for new inodes */

	/* The inode table. */
	pthread_mutex_t itab_lock;
	struct fs_inode **itab;
	size_t itab_size; /* buckets, a power of two */
	size_t itab_count;
};

/* The daemon's state of request @req. */
static inline struct iomapfs *req_fs(fuse_req_t req)
{
	return (struct iomapfs *)fuse_req_userdata(req);
}

/* FUSE node id <-> ext2 inode number: FUSE root 1 is ext2 root 2. */
static inline ext2_ino_t fs_ino(fuse_ino_t nodeid)
{
	return nodeid == FUSE_ROOT_ID ? EXT2_ROOT_INO : (ext2_ino_t)nodeid;
}

static inline fuse_ino_t fs_nodeid(ext2_ino_t ino)
{
	return ino == EXT2_ROOT_INO ? FUSE_ROOT_ID : (fuse_ino_t)ino;
}

/* Take and drop fs_lock. */
void fs_lock(struct iomapfs *fsx);
void fs_unlock(struct iomapfs *fsx);

/*
 * The one place where errcode_t becomes -errno.  Logs the error with the
 * file, line and inode, and applies the errors= policy for corruption.
 * Call with fs_lock held.  Returns a negative errno (0 for 0).
 */
int translate_error_at(struct iomapfs *fsx, errcode_t err, ext2_ino_t ino,
		       const char *file, int line);
#define translate_error(fsx, err, ino) \
	translate_error_at((fsx), (err), (ino), __FILE__, __LINE__)

/*
 * Reference the in-memory inode of @ino, creating it when needed.  Returns
 * NULL with errno ENOMEM.  Never takes fs_lock.
 */
struct fs_inode *fs_inode_get(struct iomapfs *fsx, ext2_ino_t ino);
/* Drop a reference from fs_inode_get(). */
void fs_inode_put(struct iomapfs *fsx, struct fs_inode *fi);

/*
 * Read and write the on-disk inode.  Call with fs_lock held.  A write
 * carries the times @ino's in-memory inode keeps pending, and notes what
 * it wrote there (fs_inode_note()).
 */
int fs_read_inode(struct iomapfs *fsx, ext2_ino_t ino,
		  struct ext2_inode_large *inode);
int fs_write_inode(struct iomapfs *fsx, ext2_ino_t ino,
		   struct ext2_inode_large *inode);

/*
 * fs_write_inode() of an @inode that differs from the one on disk only in
 * its timestamps (a utimensat, the kernel's times with the write-back
 * cache).  journal: fdatasync does not commit for it alone, as ext4's
 * does not.  Call with fs_lock held.
 */
int fs_write_inode_times(struct iomapfs *fsx, ext2_ino_t ino,
			 struct ext2_inode_large *inode);

/*
 * Make fi->size valid (reading the inode if needed).  Call with io_lock
 * held (either mode) and fs_lock NOT held; takes fs_lock briefly.
 */
int fs_inode_load_size(struct iomapfs *fsx, struct fs_inode *fi);

/* Record an mtime/ctime update from a lock-free overwrite. */
void fs_inode_touch(const struct iomapfs *fsx, struct fs_inode *fi);

/*
 * Record that @fi grew to @size (an append inside its last block, which
 * changes no mapping) without writing the inode: the next write of the
 * inode carries it (fs_write_inode()).  Call with io_lock exclusive
 * (fi->size is @size already).
 */
void fs_inode_grow(struct fs_inode *fi, uint64_t size);

/* Whether @fi has a size the inode on disk lacks (fs_inode_grow()). */
bool fs_inode_size_pending(struct fs_inode *fi);

/*
 * Note in @fi what @inode (as on disk) says: flags and times.  Takes
 * meta_lock.  fs_write_inode() does it for every inode it writes.
 */
void fs_inode_note(struct fs_inode *fi, const struct ext2_inode_large *inode);

/*
 * The atime and/or mtime of @fi are being set explicitly: what was
 * pending for them is dropped, so that it does not override the new
 * value.  Takes meta_lock.
 */
void fs_inode_drop_times(struct fs_inode *fi, bool atime, bool mtime);

/* @fi's number is free or in use again: nothing pending or known (set-ID
 * bits included). */
void fs_inode_forget_attrs(struct fs_inode *fi);

/*
 * Write pending timestamps and size of @fi into @inode (when @inode is not
 * NULL) or into the on-disk inode.  Call with fs_lock held.
 * fs_write_inode() also writes them, with every inode it writes.
 */
int fs_inode_sync_times(struct iomapfs *fsx, struct fs_inode *fi,
			struct ext2_inode_large *inode);

/* The mapping source for the cache (cache_source_fn): takes fs_lock. */
int fs_map_source(void *arg, uint64_t ino, uint64_t off, struct iomap *out);

/*
 * Now, as a timespec, for the inodes' times: CLOCK_REALTIME, or the
 * kernel's own coarse clock when the write-back cache is on (fs.c).
 */
void fs_now(const struct iomapfs *fsx, struct timespec *ts);

/*
 * Make every change so far durable: with the journal, commit the running
 * transaction; without, flush libext2fs (bitmaps, superblock, group
 * descriptors) in place and fdatasync the device.  Call with fs_lock held.
 */
int fs_flush_all(struct iomapfs *fsx);

/* Write the timestamps every in-memory inode keeps pending.  fs_lock. */
int fs_sync_all_times(struct iomapfs *fsx);

/*
 * journal: whether some inode may have timestamps pending since the last
 * call (fs_inode_touch() sets it); clears it.
 */
bool fs_times_take_dirty(void);

/*
 * fs_open()'s (fs_journal.c): a read-write mount of a filesystem with a
 * journal writes every metadata change through it (journal.h), unless
 * journal=off.  Sets fsx->journal.  Prints why not.  Returns 0 or -errno.
 */
int fs_journal_open(struct iomapfs *fsx);

/*
 * fsync, fdatasync (@datasync) or fsyncdir of @ino (its pending
 * timestamps already written, or not, by the caller): with the journal,
 * commit when the running transaction changed the inode (fdatasync:
 * more than its timestamps), which also makes the data
 * written so far durable; otherwise set *need_datasync, and the caller
 * fdatasyncs the device after dropping fs_lock, for the file's data.
 * Without a journal, as fs_flush_all().  Call with fs_lock held.
 */
int fs_sync_inode(struct iomapfs *fsx, ext2_ino_t ino, bool datasync,
		  bool *need_datasync);

/*
 * FS_IOC_SHUTDOWN: stop the filesystem.  With @flush, everything is made
 * durable first (fs_flush_all(): with the journal, a commit); then the
 * journal commits nothing more (journal_halt()), and every request fails with EIO and
 * nothing is written any more, not even at unmount.  A second call does
 * nothing.  Takes fs_lock.  Returns 0, or the flush's -errno (the
 * filesystem is shut down all the same).
 */
int fs_shutdown(struct iomapfs *fsx, bool flush);

/*
 * Flush the device's write cache (fdatasync of the image or device), the
 * barrier of every fsync and commit; none with -o nobarrier.  Returns 0
 * or -errno.
 */
int fs_dev_flush(struct iomapfs *fsx);

/* Whether the filesystem was shut down (FS_IOC_SHUTDOWN). */
static inline bool fs_is_shut_down(struct iomapfs *fsx)
{
	return __atomic_load_n(&fsx->shut_down, __ATOMIC_ACQUIRE);
}

/* Whether writes are refused (-EROFS). */
static inline bool fs_is_ro(struct iomapfs *fsx)
{
	return fsx->ro_now;
}

/* -- core helpers (main.c, fs.c, ops_*.c) -- */

/* Timestamps of an inode, for fs_get_time()/fs_set_time(). */
enum fs_time {
	FS_ATIME = 0,
	FS_MTIME,
	FS_CTIME,
	FS_CRTIME,
};

/*
 * Read or set one timestamp of @inode, at nanosecond precision when the
 * inode has room for the extra fields (i_extra_isize), else in seconds.
 * FS_CRTIME reads as 0 when the inode has no room for it.
 */
void fs_get_time(const struct ext2_inode_large *inode, enum fs_time which,
		 struct timespec *ts);
void fs_set_time(struct ext2_inode_large *inode, enum fs_time which,
		 const struct timespec *ts);

/* -o nouid32: owners are 16 bits on disk (fs_open(), before the session). */
void fs_set_uid16(bool on);
/* Owner of @inode with the high 16 bits; set both halves. */
uid_t fs_inode_uid(const struct ext2_inode_large *inode);
gid_t fs_inode_gid(const struct ext2_inode_large *inode);
void fs_inode_set_uid(struct ext2_inode_large *inode, uid_t uid);
void fs_inode_set_gid(struct ext2_inode_large *inode, gid_t gid);

/* Fill @st from @inode (st_ino is the ext2 inode number). */
void fs_fill_stat(struct iomapfs *fsx, ext2_ino_t ino,
		  const struct ext2_inode_large *inode, struct stat *st);

/*
 * Fill @e for a reply to lookup/create/mknod/mkdir/symlink/link and count
 * one kernel lookup of @ino (fs_inode_forget() undoes it).  Call with
 * fs_lock held.  Returns 0 or -ENOMEM.
 */
int fs_fill_entry(struct iomapfs *fsx, ext2_ino_t ino,
		  const struct ext2_inode_large *inode,
		  struct fuse_entry_param *e);

/* Attribute and entry cache time of the kernel, in seconds. */
#define FS_ATTR_TIMEOUT 1.0

/*
 * Read @ino's inode with the timestamps a lock-free overwrite (or
 * lazytime) left pending folded in (they are then written back): what a
 * caller that changes the inode reads.  Call with fs_lock held.
 */
int fs_load_inode(struct iomapfs *fsx, ext2_ino_t ino,
		  struct ext2_inode_large *inode);

/*
 * The same for a caller that only looks (getattr, lookup, readdirplus):
 * with -o lazytime the pending times are shown, not written; they wait
 * for the inode's next write, as in ext4.  fs_lock held.
 */
int fs_peek_inode(struct iomapfs *fsx, ext2_ino_t ino,
		  struct ext2_inode_large *inode);

/* The in-memory inode of @ino, referenced, or NULL when there is none. */
struct fs_inode *fs_inode_find(struct iomapfs *fsx, ext2_ino_t ino);

/* Drop @n kernel lookups of @ino (forget). */
void fs_inode_forget(struct iomapfs *fsx, ext2_ino_t ino, uint64_t n);

/* Count an open file handle on @fi. */
void fs_inode_open(struct iomapfs *fsx, struct fs_inode *fi);

/*
 * Drop an open file handle of @fi.  Returns true when it was the last one
 * and the inode lost its last link meanwhile: the caller then frees it
 * on disk (inode_free(), inode_free.h).
 */
bool fs_inode_close(struct iomapfs *fsx, struct fs_inode *fi);

/*
 * Reference every in-memory inode into a new array (*out, *n); the caller
 * drops the references with fs_inode_put() and frees the array.  Returns
 * 0 or -ENOMEM.
 */
int fs_inode_snapshot(struct iomapfs *fsx, struct fs_inode ***out, size_t *n);

/* A new inode generation number. fs_lock held. */
uint32_t fs_next_generation(struct iomapfs *fsx);

/*
 * Replay the journal when it needs recovery (replay.h: to the device, or
 * into memory for a read-only mount), open the filesystem on fsx->source
 * (libext2fs), check that it may be mounted as asked (recorded errors, a
 * filesystem not cleanly unmounted: read-write is refused; read-only only
 * warns), turn off libext2fs's block cache, read the bitmaps and mark it
 * mounted (read-write: EXT2_VALID_FS cleared, s_mtime and s_mnt_count
 * updated, flushed).  Prints what went wrong to stderr.  Returns 0,
 * -EUCLEAN when e2fsck must run first, -EMEDIUMTYPE when it is no ext2/3/4
 * filesystem, -REPLAY_E_* when its journal cannot be replayed (replay.h),
 * or another -errno.
 */
int fs_open(struct iomapfs *fsx);

/*
 * Flush everything, mark the filesystem clean (EXT2_VALID_FS, unless
 * errors were recorded) and close it.  Inodes that lost their last link
 * while open must be freed before (inode_free_unlinked()).  Returns 0 or
 * -errno; the filesystem is closed either way.
 */
int fs_close(struct iomapfs *fsx);

/*
 * Start and stop a transaction handle (journal_handle_start()): an
 * operation that changes metadata in more than one fs_lock section holds
 * one across them, so that no commit falls between.  Lock order: after
 * any io_lock, before fs_lock (call without fs_lock).  No-ops without the
 * journal.
 */
void fs_txn_start(struct iomapfs *fsx);
void fs_txn_stop(struct iomapfs *fsx);

/*
 * An operation failed with ENOSPC and undid what it had done: returns true
 * when trying it again may succeed (the journal committed the blocks its
 * running transaction had freed).  Call with fs_lock held.
 */
bool fs_retry_enospc(struct iomapfs *fsx);

/*
 * Remount read-only and back, with the journal (journal_pause() and
 * journal_resume()); no-ops without one.  fs_journal_pause() commits,
 * writes everything home, empties the log and clears needs_recovery in
 * memory: the caller writes the superblock in place (fs_flush_all()
 * writes in place while the journal is paused).  fs_journal_resume() sets
 * needs_recovery, writes the superblock in place, durable, and puts the
 * journal's hooks back.  Call with fs_lock held.  Return 0 or -errno.
 */
int fs_journal_pause(struct iomapfs *fsx);
int fs_journal_resume(struct iomapfs *fsx);

/*
 * Start the threads of the mounted filesystem (the journal's commit
 * thread), in the process that serves the mount.  Returns 0 or -errno.
 */
int fs_run(struct iomapfs *fsx);

/* Set up and tear down the locks and inode table of @fsx; fs_init() also
 * registers libext2fs's error messages.  Call it before any thread. */
int fs_init(struct iomapfs *fsx);
void fs_fini(struct iomapfs *fsx);

#endif /* IOMAPFS_FS_H */
