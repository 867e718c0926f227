// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs_journal.c - the daemon's side of the journal writer (journal.h): the
 * journal opened at mount with the daemon's hooks (the timestamps pending
 * in memory written before each commit, the errors= policy when the
 * journal fails, -o discard of what a committed transaction freed),
 * fsync's commit, the handles an operation holds over several fs_lock
 * sections, the ENOSPC retry after the commit that releases freed blocks,
 * and the journal's pause and resume for remounts.  Without a journal
 * (ext2, journal=off, read-only) each of these is what in-place writes
 * need, or nothing.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "discard.h"
#include "fs.h"
#include "journal.h"

int fs_sync_inode(struct iomapfs *fsx, ext2_ino_t ino, bool datasync,
		  bool *need_datasync)
{
	bool committed = false;
	int ret;

	*need_datasync = false;
	if (!fsx->journal)
		return fs_flush_all(fsx);
	/* After a failure no fsync may look like it succeeded. */
	if (journal_failed(fsx->journal))
		return -EIO;
	/* journal: commit if the running transaction changed the inode;
	 * its flushes (R2) make the data durable too. */
	ret = journal_sync_inode(fsx->journal, ino, datasync, &committed);
	if (!ret && !committed)
		*need_datasync = true;
	return ret;
}

/* journal: the daemon's side of the hooks (journal_ops). */

/* Before a commit: the timestamps lock-free overwrites left pending, and
 * the sizes of appends inside a file's last block (fs_inode_grow()). */
static int fs_journal_pre_commit(void *arg)
{
	struct iomapfs *fsx = arg;

	/* Cleared before the scan: a touch during it sets it again. */
	if (!fs_times_take_dirty())
		return 0;
	return fs_sync_all_times(fsx);
}

/* The journal failed: the errors= policy, as for corruption. */
static void fs_journal_failed(void *arg, int err)
{
	struct iomapfs *fsx = arg;

	if (fsx->opts.errors == FS_ERRORS_PANIC) {
		fprintf(stderr,
			"iomapfs: %s: the journal failed (%s): errors=panic: "
			"stopping\n",
			fsx->source, strerror(-err));
		abort();
	}
	/* Nothing can commit any more: with continue too, writing on
	 * would only change memory. */
	if (!fsx->ro_now)
		fprintf(stderr,
			"iomapfs: %s: the journal failed (%s): now "
			"read-only; the next mount replays what committed\n",
			fsx->source, strerror(-err));
	fsx->ro_now = true;
}

/* -o discard: what a transaction freed, once it committed (discard.c). */
static void fs_journal_freed(void *arg, uint64_t blk, uint64_t count)
{
	struct iomapfs *fsx = arg;

	if (fsx->opts.discard)
		discard_freed(fsx, blk, count);
}

/* A commit or a checkpoint: to the watchers, through the cache's ring. */
static void fs_journal_event(void *arg, const struct journal_event *ev)
{
	struct iomapfs *fsx = arg;
	struct cache_event_journal jnl = {
		.tid = ev->tid,
		.first_tid = ev->first_tid,
		.blocks = ev->blocks,
		.revokes = ev->revokes,
		.latency_ns = ev->latency_ns,
		.cause = ev->cause,
	};

	/* No cache before the mount is set up, nor anyone to watch. */
	if (fsx->cache)
		cache_journal_event(fsx->cache,
				    ev->checkpoint ? CACHE_EV_CHECKPOINT
						   : CACHE_EV_COMMIT,
				    &jnl);
}

void fs_txn_start(struct iomapfs *fsx)
{
	if (fsx->journal)
		journal_handle_start(fsx->journal);
}

void fs_txn_stop(struct iomapfs *fsx)
{
	if (fsx->journal)
		journal_handle_stop(fsx->journal);
}

bool fs_retry_enospc(struct iomapfs *fsx)
{
	/* journal: blocks the running transaction freed are not handed out
	 * before it commits (R4 in journal.c): commit, then they are. */
	if (!fsx->journal || !journal_frees_pending(fsx->journal))
		return false;
	return journal_commit(fsx->journal, JOURNAL_CAUSE_SPACE) == 0;
}

int fs_journal_pause(struct iomapfs *fsx)
{
	int ret;

	if (!fsx->journal)
		return 0;
	ret = journal_pause(fsx->journal);
	if (ret)
		return ret;
	/* The log is empty and durable: no recovery is needed. */
	ext2fs_clear_feature_journal_needs_recovery(fsx->fs->super);
	ext2fs_mark_super_dirty(fsx->fs);
	return 0;
}

int fs_journal_resume(struct iomapfs *fsx)
{
	errcode_t err;

	if (!fsx->journal)
		return 0;
	/*
	 * needs_recovery in place and durable before the first change
	 * goes to the log, as at mount (fs_open()): a crash after a
	 * commit must make the next mount replay.
	 */
	ext2fs_set_feature_journal_needs_recovery(fsx->fs->super);
	ext2fs_mark_super_dirty(fsx->fs);
	err = ext2fs_flush2(fsx->fs, 0);
	if (err)
		return translate_error(fsx, err, 0);
	return journal_resume(fsx->journal);
}

int fs_run(struct iomapfs *fsx)
{
	/* journal: its commit thread, after fuse_daemonize() forked. */
	return fsx->journal ? journal_run(fsx->journal) : 0;
}

/*
 * journal: a read-write mount of a filesystem with a journal writes every
 * metadata change through it (journal.h), unless journal=off.  Sets
 * fsx->journal.  Prints why not.  Returns 0 or -errno.
 */
int fs_journal_open(struct iomapfs *fsx)
{
	struct journal_opts jo = {
		.commit_sec = fsx->opts.commit_sec,
		.txn_max = fsx->opts.journal_txn_max,
		.cp_max = fsx->opts.journal_cp_max,
		.nobarrier = fsx->opts.nobarrier,
		.history = fsx->opts.journal_history,
	};
	struct journal_ops ops = {
		.pre_commit = fs_journal_pre_commit,
		.failed = fs_journal_failed,
		.freed = fs_journal_freed,
		.event = fs_journal_event,
		.arg = fsx,
	};
	char why[160];
	int ret;

	if (!ext2fs_has_feature_journal(fsx->fs->super) ||
	    fsx->opts.journal_off)
		return 0;
	if (!jo.txn_max)
		jo.txn_max = JOURNAL_DEFAULT_TXN_MAX;
	if (!jo.cp_max)
		jo.cp_max = JOURNAL_DEFAULT_CP_MAX;
	ret = journal_open(fsx->fs, &fsx->fs_lock, &jo, &ops, &fsx->journal,
			   why, sizeof(why));
	if (ret) {
		fprintf(stderr, "iomapfs: %s: cannot write the journal: %s%s\n",
			fsx->source, why,
			ret == -EOPNOTSUPP ? " (mount with -o ro, or with "
					     "-o journal=off to write in place)"
					   : "");
		return ret == -EAGAIN ? -EUCLEAN : ret;
	}
	return 0;
}
