// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * journal.c - the JBD2 journal writer (journal.h).  libext2fs changes
 * metadata in memory and writes it through its io_channel; the channel is
 * a jio channel (jio.h) whose write hook puts every block into the running
 * transaction instead of writing it home, and whose read hook answers
 * every read with the newest copy.  The kernel's jbd2 is the model: one
 * running transaction gathers the changes of many operations, a commit
 * writes it to the log (descriptor blocks tagging each metadata block,
 * revoke blocks, a commit block), and a checkpoint, much later, writes
 * the committed blocks home and moves the log's tail.
 *
 * The writer is four files: this one keeps the running transaction (its
 * block table, the inodes and groups it touched), the commit, handles,
 * failing and the commit thread; journal_hook.c the hooks libext2fs
 * calls (reads, writes, inode writes, and the allocator: revokes and the
 * hold on freed blocks, R4 and R5); journal_log.c writing the log and
 * the checkpoint (R2, R3); journal_mount.c the mount, start, pause and
 * unmount.  journal_int.h is what they share.
 *
 * The ordering rules, each kept where the code says so:
 *
 *  R1 Nothing of a transaction goes home before its commit block is
 *     durable: the write hook takes every metadata block (jnl_write_hook),
 *     and only jnl_checkpoint() writes copies home, and only committed
 *     ones (jb->cp).
 *  R2 The commit block is written only after every other block of its
 *     transaction, and the file data the transaction links in, are
 *     durable: one flush of the device between them (jnl_write_txn).
 *     Data and log share the device, so that flush covers the data the
 *     data path wrote with pwrite() before the commit began (ordered
 *     data; see "Ordered data" below).
 *  R3 The tail moves (journal superblock s_start/s_sequence) only after
 *     the checkpointed blocks are durable, and the log space behind the
 *     old tail is reused only after the new tail is durable
 *     (jnl_checkpoint).
 *  R4 A block freed by a transaction that has not committed is not
 *     allocated again, for data or metadata, until it has (the allocator
 *     callbacks skip j->pending).
 *  R5 A freed block with a copy in the live log gets a revoke record in
 *     the transaction that frees it, and its copies leave the running
 *     transaction at once and the checkpoint list when that transaction
 *     has committed (jnl_block_freed, jnl_finish_commit).
 *
 * Why no replay can ever overwrite file data
 * ------------------------------------------
 * File data never enters the log: the data path writes it with pwrite()
 * on its own descriptor, and libext2fs never moves file data through its
 * io_channel here (io.c).  So the only blocks a replay writes are
 * metadata copies.  A metadata block can become file data only by being
 * freed and allocated again.  By R4 that allocation happens after the
 * freeing transaction committed, and by R5 that transaction carries a
 * revoke record for the block if any older copy of it was still in the
 * live log.  A replay that reaches that old copy has read the revoke
 * first (the revoke pass precedes the replay pass, and a revoke in
 * transaction T cancels copies in every transaction up to T), so it skips
 * it; a replay that starts after the old copy never sees it.  The copy is
 * also gone from the checkpoint list once the revoke committed, so no
 * checkpoint writes it over the data either (R5).  Copies logged after
 * the block became metadata again are newer than the revoke and are
 * replayed, as they must be.
 *
 * Ordered data
 * ------------
 * Writes into new or unwritten blocks (io.c) write the data with
 * pwrite() before the operation changes the extent tree or the size, all
 * under fs_lock; a commit takes fs_lock, so the data of every operation
 * in the transaction was written before the commit starts, and the flush
 * before the commit block (R2) makes it durable first.  Overwrites of
 * mapped blocks touch no metadata and stay outside the journal.
 *
 * The log is written as the kernel writes it: revoke blocks, then
 * descriptor blocks each followed by the blocks it tags, a flush, the
 * commit block, a flush.  async_commit would merge the two flushes, but
 * the kernel refuses it with data=ordered (the commit block could be
 * durable before the data it exposes), and with checksums v2/v3 a torn
 * transaction behind a durable commit block makes the kernel's and
 * e2fsck's replay fail with a checksum error instead of ending the log
 * there; so this writer clears it.
 *
 * Locking: every function here runs with fs_lock held (the hooks are
 * called by libext2fs under it), except journal_note_change().
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "journal_int.h"

/* Handles this thread holds (journal_split() restarts them). */
static __thread unsigned int jnl_tls_handles;

static const char *const jnl_cause_names[JOURNAL_CAUSE_COUNT] = {
	[JOURNAL_CAUSE_TIMER] = "timer", [JOURNAL_CAUSE_FSYNC] = "fsync",
	[JOURNAL_CAUSE_SIZE] = "size",	 [JOURNAL_CAUSE_UNMOUNT] = "unmount",
	[JOURNAL_CAUSE_SPLIT] = "split", [JOURNAL_CAUSE_ERROR] = "error",
	[JOURNAL_CAUSE_SPACE] = "space",
};

const char *journal_cause_name(enum journal_cause cause)
{
	return (unsigned int)cause < JOURNAL_CAUSE_COUNT
		       ? jnl_cause_names[cause]
		       : "unknown";
}

int64_t jnl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* --- the block table ---------------------------------------------------- */

static size_t jnl_hash(const struct journal *j, uint64_t blk)
{
	return (size_t)((blk * 0x9e3779b97f4a7c15ULL) >> 20) & (j->hsize - 1);
}

struct jblock *jb_find(const struct journal *j, uint64_t blk)
{
	struct jblock *jb;

	for (jb = j->htab[jnl_hash(j, blk)]; jb; jb = jb->hnext)
		if (jb->blk == blk)
			return jb;
	return NULL;
}

static void jnl_grow_table(struct journal *j)
{
	struct jblock **old = j->htab, **tab, *jb, *next;
	size_t old_size = j->hsize, i;

	tab = calloc(old_size * 2, sizeof(*tab));
	if (!tab)
		return; /* longer chains, still correct */
	j->htab = tab;
	j->hsize = old_size * 2;
	for (i = 0; i < old_size; i++) {
		for (jb = old[i]; jb; jb = next) {
			size_t h = jnl_hash(j, jb->blk);

			next = jb->hnext;
			jb->hnext = tab[h];
			tab[h] = jb;
		}
	}
	free(old);
}

struct jblock *jb_get(struct journal *j, uint64_t blk)
{
	struct jblock *jb = jb_find(j, blk);
	size_t h;

	if (jb)
		return jb;
	jb = calloc(1, sizeof(*jb));
	if (!jb)
		return NULL;
	jb->blk = blk;
	if (j->hcount >= j->hsize)
		jnl_grow_table(j);
	h = jnl_hash(j, blk);
	jb->hnext = j->htab[h];
	j->htab[h] = jb;
	j->hcount++;
	return jb;
}

/* Forget @jb when it holds nothing any more. */
void jb_maybe_free(struct journal *j, struct jblock *jb)
{
	struct jblock **pp;

	if (jb->run || jb->cp || jb->revoked)
		return;
	for (pp = &j->htab[jnl_hash(j, jb->blk)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == jb) {
			*pp = jb->hnext;
			j->hcount--;
			free(jb);
			return;
		}
	}
}

void jnl_run_unlink(struct journal *j, struct jblock *jb)
{
	if (jb->rprev)
		jb->rprev->rnext = jb->rnext;
	else
		j->run_head = jb->rnext;
	if (jb->rnext)
		jb->rnext->rprev = jb->rprev;
	else
		j->run_tail = jb->rprev;
	jb->rprev = jb->rnext = NULL;
	j->run_count--;
}

void jnl_run_append(struct journal *j, struct jblock *jb)
{
	jb->rnext = NULL;
	jb->rprev = j->run_tail;
	if (j->run_tail)
		j->run_tail->rnext = jb;
	else
		j->run_head = jb;
	j->run_tail = jb;
	j->run_count++;
}

/* --- inodes the running transaction wrote ------------------------------- */

static size_t jnl_ihash(uint32_t ino, size_t size)
{
	return (size_t)((ino * 2654435761u) & (size - 1));
}

/*
 * Note that the running transaction wrote inode @ino; @data: more than its
 * timestamps (fdatasync must commit it too).
 */
void jnl_iset_add(struct journal *j, uint32_t ino, bool data)
{
	size_t i;

	if (!ino)
		return;
	if ((j->iset_count + 1) * 2 > j->iset_size) {
		size_t nsize = j->iset_size * 2, k;
		struct jnl_ient *n = calloc(nsize, sizeof(*n));

		if (!n) {
			/* Unknown: fsync of anything then commits. */
			j->iset_full = true;
			return;
		}
		for (k = 0; k < j->iset_size; k++) {
			if (!j->iset[k].ino)
				continue;
			for (i = jnl_ihash(j->iset[k].ino, nsize); n[i].ino;
			     i = (i + 1) & (nsize - 1))
				;
			n[i] = j->iset[k];
		}
		free(j->iset);
		j->iset = n;
		j->iset_size = nsize;
	}
	for (i = jnl_ihash(ino, j->iset_size); j->iset[i].ino;
	     i = (i + 1) & (j->iset_size - 1)) {
		if (j->iset[i].ino == ino) {
			j->iset[i].data |= data;
			return;
		}
	}
	j->iset[i].ino = ino;
	j->iset[i].data = data;
	j->iset_count++;
}

/* Whether the running transaction wrote @ino (@data: beyond times). */
static bool jnl_iset_has(const struct journal *j, uint32_t ino, bool data)
{
	size_t i;

	if (j->iset_full)
		return true;
	for (i = jnl_ihash(ino, j->iset_size); j->iset[i].ino;
	     i = (i + 1) & (j->iset_size - 1))
		if (j->iset[i].ino == ino)
			return !data || j->iset[i].data;
	return false;
}

static void jnl_iset_clear(struct journal *j)
{
	memset(j->iset, 0, j->iset_size * sizeof(*j->iset));
	j->iset_count = 0;
	j->iset_full = false;
}

/* --- dirty groups ------------------------------------------------------- */

void jnl_dirty_group(struct journal *j, dgrp_t g, bool inode)
{
	unsigned char *map = inode ? j->dirty_ib : j->dirty_bb;
	unsigned char bit = (unsigned char)(1u << (g % 8));

	if (g >= j->fs->group_desc_count || (map[g / 8] & bit))
		return;
	if (!(j->dirty_bb[g / 8] & bit) && !(j->dirty_ib[g / 8] & bit))
		j->ndirty++;
	map[g / 8] |= bit;
}

void jnl_note_start(struct journal *j)
{
	if (!j->run_start_ns)
		j->run_start_ns = jnl_now_ns();
}

/* --- failing -------------------------------------------------------------- */

/*
 * The journal cannot go on (an I/O error on the log or at a checkpoint):
 * nothing more commits.  What committed stays in the log for the next
 * mount's replay; the error goes into the journal superblock (s_errno),
 * where the kernel and e2fsck find it and mark the filesystem as having
 * errors, as they do after the kernel aborts a journal.
 */
void jnl_fail(struct journal *j, int err)
{
	if (j->aborted && j->st.aborted)
		return;
	j->aborted = true;
	j->error = err < 0 ? err : -EIO;
	j->st.aborted = true;
	j->st.error = j->error;
	fprintf(stderr,
		"iomapfs: journal: %s: nothing more can be committed; "
		"the last committed transaction is %u\n",
		strerror(-j->error), j->tid - 1);
	jbd2_put_be32(&j->jsb->s_errno, (uint32_t)j->error);
	if (!jnl_write_jsb(j))
		(void)jio_raw_flush(j->jio);
	if (j->ops.failed)
		j->ops.failed(j->ops.arg, j->error);
}

bool journal_failed(const struct journal *j)
{
	return j->aborted;
}

/* --- commit --------------------------------------------------------------- */

/*
 * The blocks the transaction that just became durable freed, in runs, to
 * the daemon (-o discard).  Only now: before the commit, a crash would
 * bring the freeing back out of existence and the block's contents with
 * it (R4).  Blocks freed and in use again are no longer pending.
 */
static void jnl_report_freed(struct journal *j)
{
	ext2_filsys fs = j->fs;
	blk64_t blk = fs->super->s_first_data_block, end, last;

	if (!j->ops.freed)
		return;
	last = ext2fs_blocks_count(fs->super) - 1;
	while (blk <= last && !ext2fs_find_first_set_block_bitmap2(
				      j->pending, blk, last, &blk)) {
		if (ext2fs_find_first_zero_block_bitmap2(j->pending, blk, last,
							 &end))
			end = last + 1;
		j->ops.freed(j->ops.arg, blk, end - blk);
		blk = end;
	}
}

/* The running transaction is durable: its copies become the committed
 * ones, its revoked blocks leave the checkpoint list (R5), its freed
 * blocks become free for the allocator (R4). */
static void jnl_finish_commit(struct journal *j, uint32_t written)
{
	struct jblock *jb, *next;
	size_t i;

	j->head = (j->head - j->first + written) % j->len + j->first;
	j->used += written;
	j->sb_empty = false;
	j->st.blocks_logged += j->run_count;
	j->st.log_writes += written;
	j->st.revokes += j->nrevokes;
	for (jb = j->run_head; jb; jb = next) {
		next = jb->rnext;
		if (!jb->cp)
			j->cp_count++;
		free(jb->cp);
		jb->cp = jb->run;
		jb->cp_tid = j->tid;
		jb->run = NULL;
		jb->rprev = jb->rnext = NULL;
	}
	j->run_head = j->run_tail = NULL;
	j->run_count = 0;
	for (i = 0; i < j->nrevokes; i++) {
		jb = jb_find(j, j->revokes[i]);
		if (!jb)
			continue;
		if (jb->cp) {
			free(jb->cp);
			jb->cp = NULL;
			j->cp_count--;
		}
		jb->revoked = false;
		jb_maybe_free(j, jb);
	}
	j->nrevokes = 0;
	if (j->pending_any) {
		jnl_report_freed(j);
		ext2fs_clear_block_bitmap(j->pending);
		j->pending_any = false;
		j->pending_count = 0;
	}
	jnl_iset_clear(j);
	if (!j->cp_oldest_ns && j->cp_count)
		j->cp_oldest_ns = jnl_now_ns();
	j->tid++;
	j->run_start_ns = 0;
}

/* Commit the running transaction: fs_lock held, no handle open. */
static int jnl_do_commit(struct journal *j, enum journal_cause cause)
{
	ext2_filsys fs = j->fs;
	int64_t t0 = jnl_now_ns(), dt;
	uint32_t written = 0;
	uint64_t need;
	int ret;

	if (j->ops.pre_commit) {
		ret = j->ops.pre_commit(j->ops.arg);
		if (ret)
			return ret;
	}
	if (!j->run_count && !j->nrevokes && !j->ndirty &&
	    !(fs->flags &
	      (EXT2_FLAG_DIRTY | EXT2_FLAG_BB_DIRTY | EXT2_FLAG_IB_DIRTY))) {
		/* Nothing happened: no transaction. */
		j->run_start_ns = 0;
		return 0;
	}
	ret = jnl_flush_fs(j);
	if (ret) {
		jnl_fail(j, ret);
		return ret;
	}
	if (j->aborted)
		return j->error;
	if (!j->run_count && !j->nrevokes) {
		j->run_start_ns = 0;
		return 0;
	}
	need = jnl_footprint(j, j->run_count, j->nrevokes);
	if (need >= j->len) {
		fprintf(stderr,
			"iomapfs: journal: transaction %u needs %" PRIu64
			" log blocks, the log has %u\n",
			j->tid, need, j->len);
		jnl_fail(j, -ENOSPC);
		return -ENOSPC;
	}
	if (need > j->len - 1 - j->used) {
		/* The log is full: home with the old ones first. */
		ret = jnl_checkpoint(j, false);
		if (ret)
			return ret;
	}
	ret = jnl_write_txn(j, &written);
	if (ret == -ENOSPC && need < j->len - 1 &&
	    jnl_estimate(j) < 2 * j->txn_max_blocks) {
		/* No room on the device for the log: the transaction keeps
		 * running (bounded: at twice its size the journal fails). */
		if (!j->st.nospace_waits++)
			fprintf(stderr,
				"iomapfs: journal: no space on the device to "
				"write the log; transaction %u waits\n",
				j->tid);
		return ret;
	}
	if (ret) {
		jnl_fail(j, ret);
		return ret;
	}
	if (j->run_count > j->st.running_blocks_max)
		j->st.running_blocks_max = j->run_count;
	jnl_finish_commit(j, written);
	dt = jnl_now_ns() - t0;
	j->st.transactions++;
	j->st.commits[cause]++;
	j->st.commit_ns_total += (uint64_t)dt;
	if ((uint64_t)dt > j->st.commit_ns_max)
		j->st.commit_ns_max = (uint64_t)dt;
	/* Checkpoint lazily: when the log is three quarters full or the
	 * committed copies weigh more than their bound. */
	if (j->cp_count * j->bs > j->st.cp_bytes_max)
		j->st.cp_bytes_max = j->cp_count * j->bs;
	if (j->used > j->len / 4 * 3 || j->cp_count * j->bs > j->opts.cp_max) {
		/* The commit happened; a checkpoint without room at home
		 * waits for the next one. */
		ret = jnl_checkpoint(j, false);
		if (ret != -ENOSPC)
			return ret;
	}
	return 0;
}

int journal_commit(struct journal *j, enum journal_cause cause)
{
	int ret;

	if (!j->active)
		return 0;
	/* One commit at a time; a second one waits for the first. */
	while (j->committing)
		pthread_cond_wait(&j->cond, j->lock);
	if (j->aborted)
		return j->error;
	j->committing = true;
	j->locked = true;
	while (j->updates)
		pthread_cond_wait(&j->cond, j->lock);
	ret = jnl_do_commit(j, cause);
	j->locked = false;
	j->committing = false;
	pthread_cond_broadcast(&j->cond);
	return ret;
}

void journal_times_only(struct journal *j, bool on)
{
	j->times_only = on;
}

int journal_sync_inode(struct journal *j, ext2_ino_t ino, bool datasync,
		       bool *committed)
{
	*committed = false;
	if (!j->active)
		return 0;
	if (j->aborted)
		return j->error;
	/* fdatasync: timestamps alone need no commit (the kernel's
	 * i_datasync_tid); the data itself the caller makes durable. */
	if (!jnl_iset_has(j, ino, datasync))
		return 0;
	*committed = true;
	return journal_commit(j, JOURNAL_CAUSE_FSYNC);
}

uint64_t journal_chunk_blocks(const struct journal *j)
{
	uint64_t n;

	if (!j->active)
		return 0;
	/* Each block may dirty a group: two bitmaps and a descriptor. */
	n = j->txn_max_blocks / 4 / 3;
	return n < 16 ? 16 : n;
}

bool journal_txn_full(const struct journal *j)
{
	return j->active && jnl_estimate(j) >= j->txn_max_blocks / 4;
}

int journal_split(struct journal *j)
{
	unsigned int mine = jnl_tls_handles;
	int ret;

	if (!journal_txn_full(j))
		return 0;
	/*
	 * jbd2_journal_restart(): the handles this thread holds are given
	 * up for the commit and taken again.  The caller is at a
	 * consistent point; what stays to do after a crash here is on the
	 * orphan list.
	 */
	j->updates -= mine;
	jnl_tls_handles = 0;
	if (!j->updates)
		pthread_cond_broadcast(&j->cond);
	ret = journal_commit(j, JOURNAL_CAUSE_SPLIT);
	j->updates += mine;
	jnl_tls_handles = mine;
	return ret;
}

/* --- handles -------------------------------------------------------------- */

void journal_handle_start(struct journal *j)
{
	pthread_mutex_lock(j->lock);
	/* A commit waiting for handles admits no new one. */
	while (j->locked && !jnl_tls_handles)
		pthread_cond_wait(&j->cond, j->lock);
	j->updates++;
	jnl_tls_handles++;
	pthread_mutex_unlock(j->lock);
}

void journal_handle_stop(struct journal *j)
{
	pthread_mutex_lock(j->lock);
	j->updates--;
	jnl_tls_handles--;
	if (!j->updates)
		pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(j->lock);
}

bool journal_block_pending(const struct journal *j, blk64_t blk)
{
	return j->pending_any && ext2fs_test_block_bitmap2(j->pending, blk);
}

bool journal_frees_pending(const struct journal *j)
{
	return j->active && j->pending_count;
}

/*
 * Whether the blocks the running transaction freed (R4: not to be handed
 * out before it commits) leave too little free space for the next
 * operation: the kernel commits and retries an allocation that failed
 * for that reason (ext4_should_retry_alloc()); here the commit comes at
 * the start of the operation instead, before anything fails.
 */
static bool jnl_short_of_space(const struct journal *j)
{
	uint64_t free = ext2fs_free_blocks_count(j->fs->super);
	uint64_t low = ext2fs_blocks_count(j->fs->super) / 64;

	if (!j->pending_count)
		return false;
	if (low < JNL_LOW_FREE)
		low = JNL_LOW_FREE;
	return free < j->pending_count || free - j->pending_count < low;
}

void journal_enter(struct journal *j)
{
	if (j->active && !j->aborted && !jnl_tls_handles) {
		if (jnl_estimate(j) >= j->txn_max_blocks)
			(void)journal_commit(j, JOURNAL_CAUSE_SIZE);
		else if (jnl_short_of_space(j))
			(void)journal_commit(j, JOURNAL_CAUSE_SPACE);
	}
	j->section_gen = j->mod_gen;
}

/*
 * The error state of the in-memory superblock into the superblock at
 * home, in place, as the kernel's ext4_commit_super() after an error:
 * the newest committed copy with the error fields patched in.  The
 * journal superblock's s_errno carries the error through a replay.
 */
static void jnl_error_home(struct journal *j)
{
	ext2_filsys fs = j->fs;
	struct ext2_super_block *mem = fs->super, *home;
	uint64_t blk = fs->blocksize == 1024 ? 1 : 0;
	size_t at = fs->blocksize == 1024 ? 0 : 1024;
	struct jblock *jb = jb_find(j, blk);

	if (!(mem->s_state & EXT2_ERROR_FS))
		return;
	if (jb && jb->cp)
		memcpy(j->tmp, jb->cp, j->bs);
	else if (jio_raw_read(j->jio, blk, 1, j->tmp))
		return;
	home = (struct ext2_super_block *)(j->tmp + at);
	if (ext2fs_le16_to_cpu(home->s_magic) != EXT2_SUPER_MAGIC)
		return;
	home->s_state |= ext2fs_cpu_to_le16(EXT2_ERROR_FS);
	home->s_error_count = ext2fs_cpu_to_le32(mem->s_error_count);
	home->s_first_error_time = ext2fs_cpu_to_le32(mem->s_first_error_time);
	home->s_first_error_ino = ext2fs_cpu_to_le32(mem->s_first_error_ino);
	home->s_first_error_line = ext2fs_cpu_to_le32(mem->s_first_error_line);
	memcpy(home->s_first_error_func, mem->s_first_error_func,
	       sizeof(home->s_first_error_func));
	home->s_last_error_time = ext2fs_cpu_to_le32(mem->s_last_error_time);
	home->s_last_error_ino = ext2fs_cpu_to_le32(mem->s_last_error_ino);
	home->s_last_error_line = ext2fs_cpu_to_le32(mem->s_last_error_line);
	memcpy(home->s_last_error_func, mem->s_last_error_func,
	       sizeof(home->s_last_error_func));
	if (ext2fs_has_feature_metadata_csum(mem))
		home->s_checksum = ext2fs_cpu_to_le32(ext2fs_crc32c_le(
			~0U, (unsigned char *)home,
			offsetof(struct ext2_super_block, s_checksum)));
	if (jb && jb->cp)
		memcpy(jb->cp, j->tmp, j->bs);
	if (!jio_raw_write(j->jio, blk, 1, j->tmp))
		(void)jio_raw_flush(j->jio);
}

void journal_abort(struct journal *j, int err)
{
	if (j->aborted || j->in_abort)
		return;
	j->in_abort = true;
	/*
	 * Unlike the kernel, which throws the running transaction away,
	 * commit it when the operation that failed has changed nothing
	 * (the error came from a read) and no handle is open: it then
	 * holds only complete operations.  And then write everything home,
	 * error state included, so that the image needs nothing but an
	 * e2fsck for the recorded error.
	 */
	if (j->active && j->mod_gen == j->section_gen && !j->updates &&
	    !j->committing) {
		if (!jnl_do_commit(j, JOURNAL_CAUSE_ERROR))
			(void)jnl_checkpoint(j, false);
	}
	if (!j->aborted)
		jnl_error_home(j);
	jnl_fail(j, err < 0 ? err : -EIO);
	j->in_abort = false;
}

/* --- the commit thread ---------------------------------------------------- */

static void jnl_deadline(struct timespec *ts, int64_t ns)
{
	ts->tv_sec = (time_t)(ns / 1000000000);
	ts->tv_nsec = (long)(ns % 1000000000);
}

/*
 * Commits when commit= seconds have passed since the running
 * transaction's first change, or when it is half full (the write hook
 * kicks), until journal_shutdown() stops it.  With no change seen for a
 * period it commits anyway: the daemon's pre_commit may have timestamps
 * pending that no hook saw (a commit with nothing to write writes
 * nothing).
 */
void *jnl_thread(void *arg)
{
	struct journal *j = arg;
	int64_t period = (int64_t)j->opts.commit_sec * 1000000000;
	int64_t idle_since = jnl_now_ns(), now, due;
	struct timespec ts;

	pthread_mutex_lock(j->lock);
	while (!j->stop) {
		now = jnl_now_ns();
		if (j->aborted) {
			pthread_cond_wait(&j->kick, j->lock);
			continue;
		}
		if (j->kicked) {
			j->kicked = false;
			(void)journal_commit(j, JOURNAL_CAUSE_SIZE);
			idle_since = jnl_now_ns();
			continue;
		}
		due = (j->run_start_ns ? j->run_start_ns : idle_since) + period;
		if (now >= due) {
			(void)journal_commit(j, JOURNAL_CAUSE_TIMER);
			idle_since = jnl_now_ns();
			continue;
		}
		jnl_deadline(&ts, due);
		pthread_cond_timedwait(&j->kick, j->lock, &ts);
	}
	pthread_mutex_unlock(j->lock);
	return NULL;
}
