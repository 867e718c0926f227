/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * replay.h - the journal at mount time.  A filesystem whose journal needs
 * recovery is replayed before it is mounted, with the shared journal
 * reader (shared/jbd2_log.h):
 *  - read-write: to the device, made durable, and then the journal is
 *    emptied and needs_recovery cleared, in the order that keeps every
 *    crash on the way replayable (replay.c);
 *  - read-only: into memory, never written; the replayed blocks are
 *    served in place of their home copies for the whole mount, to
 *    libext2fs through the journal io_manager's read hook (jio.h) and to
 *    the data path through replay_block();
 *  - -o norecovery (read-only only): not replayed, with a warning.
 * What cannot be replayed is refused with its own errno (below), which
 * main.c turns into its own exit code.  struct replay keeps what the
 * mount found, for `iomapctl journal` (the GetJournal method).
 *
 * Locking: replay_prepare() and replay_finish() run at mount, before any
 * other thread exists.  Afterwards struct replay is read-only: the
 * lookups take no lock.
 */
#ifndef IOMAPFS_REPLAY_H
#define IOMAPFS_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "fs.h"
#include "jbd2_log.h"

/*
 * The default of -o replay_max: the memory a read-only mount may use for
 * the blocks it replays, in bytes.  The journal of a filesystem mke2fs
 * made for 64 GiB is 256 MiB, and a replay holds at most one copy of each
 * block the log names.
 */
#define REPLAY_DEFAULT_MAX_BYTES (256ull << 20)

/* The errnos of fs_open() that are replay refusals (main.c maps them). */
#define REPLAY_E_EXTERNAL   EXDEV /* the journal is on another device */
#define REPLAY_E_FEATURE    EPROTONOSUPPORT /* unknown journal feature */
#define REPLAY_E_FASTCOMMIT EINPROGRESS	    /* fast commits past the log */
#define REPLAY_E_MEMORY	    EFBIG	    /* more than replay_max */

/* What the mount did with the journal. */
enum replay_mode {
	REPLAY_NONE = 0,  /* no journal, or none to replay */
	REPLAY_DEVICE,	  /* replayed to the device (read-write) */
	REPLAY_MEMORY,	  /* replayed into memory (read-only) */
	REPLAY_SKIPPED,	  /* -o norecovery: left in the journal */
	REPLAY_STALE_LOG, /* a log without needs_recovery: ignored */
};

struct replay;

/*
 * Before the filesystem is opened: look at the journal of fsx->source
 * (through a read-only libext2fs handle of its own), refuse what cannot
 * be replayed, and replay what must be: to the device through
 * fsx->dev_fd, or into memory.  Sets fsx->replay (also when nothing was
 * replayed, so that GetJournal can describe the journal).  Prints what it
 * did and why to stderr.  Returns 0; -EUCLEAN when e2fsck must run
 * first; -REPLAY_E_* for a refusal; -errno from the device.
 */
int replay_prepare(struct iomapfs *fsx);

/*
 * The io_manager fs_open() opens the filesystem with, after
 * replay_prepare(): the journal's (jio.h), whose read hook serves the
 * blocks a read-only mount replayed into memory, or unix_io.
 */
io_manager replay_io_manager(const struct iomapfs *fsx);

/*
 * After the filesystem is opened (fsx->fs): finish a replay.  Read-write:
 * mark the filesystem as e2fsck would after the same replay (errors or a
 * needed check), empty the journal, clear needs_recovery and recount the
 * superblock's free blocks and inodes from the group descriptors as the
 * kernel does at mount, each step durable before the next.  Read-only:
 * the same changes to the superblock in memory only.  Call with fs_lock
 * held (or before any other thread runs).  Returns 0 or -errno.
 */
int replay_finish(struct iomapfs *fsx);

/* Free fsx->replay (after the filesystem is closed). */
void replay_free(struct iomapfs *fsx);

/*
 * The replayed copy of filesystem block @blk (one block, read-only for
 * the mount's lifetime), or NULL when the home copy is current.  NULL
 * @rp: NULL.  No lock: the set never changes after the mount.
 */
const void *replay_block(const struct replay *rp, uint64_t blk);

/*
 * The first replayed block in [@blk, @blk + @count), or UINT64_MAX when
 * there is none there.  For the data path, which reads whole ranges.
 */
uint64_t replay_next(const struct replay *rp, uint64_t blk, uint64_t count);

/*
 * The journal as the mount found it and what it did, for the GetJournal
 * method: a new JSON object (see io.iomapfs.Cache.varlink), or NULL when
 * out of memory.
 */
json_t *replay_describe(const struct iomapfs *fsx);

#endif /* IOMAPFS_REPLAY_H */
