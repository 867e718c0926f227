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

#include "jbd2.h"
#include "jio.h"
#include "journal.h"

/* Bytes staged for one write() of consecutive log or home blocks. */
#define JNL_STAGE_BYTES (1u << 20)
/* The smallest transaction bound, in blocks. */
#define JNL_MIN_TXN_BLOCKS 16u
/* Free blocks below which pending frees are committed (or 1/64). */
#define JNL_LOW_FREE 1024u

/* A block the journal holds a copy of. */
struct jblock {
	uint64_t blk;
	struct jblock *hnext;
	struct jblock *rprev, *rnext; /* the running list */
	unsigned char *run; /* copy in the running transaction, or NULL */
	unsigned char *cp;  /* newest committed copy not yet home, or NULL */
	uint32_t cp_tid;
	bool revoked; /* freed: a revoke record in the running transaction */
};

/* An inode the running transaction wrote. */
struct jnl_ient {
	uint32_t ino;
	bool data; /* more than timestamps */
};

/* Runs of the journal inode's device blocks, for the write hook's check. */
struct jnl_run {
	uint64_t start;
	uint64_t count;
};

struct journal {
	ext2_filsys fs;
	struct jio *jio;
	pthread_mutex_t *lock; /* fs_lock */
	struct journal_opts opts;
	struct journal_ops ops;
	uint32_t bs;

	/* The journal superblock (log block 0, as on disk). */
	unsigned char *jsb_block;
	struct jbd2_super *jsb;
	uint32_t first, maxlen; /* the log: [first, maxlen) */
	uint32_t len;		/* maxlen - first */
	blk64_t *map;		/* log block -> device block */
	struct jnl_run *runs;	/* the same, as sorted runs */
	size_t nruns;
	uint32_t seed;
	bool csum_v3;
	size_t tag_bytes;
	size_t rec_bytes;

	/* The log on disk. */
	uint32_t head; /* next log block to write */
	uint32_t used; /* live log blocks from the tail to head */
	bool sb_empty; /* the superblock on disk says s_start = 0 */

	/* The running transaction. */
	uint32_t tid;
	struct jblock *run_head, *run_tail;
	uint32_t run_count;
	uint64_t *revokes;
	size_t nrevokes, revokes_cap;
	int64_t run_start_ns; /* its first change (monotonic), 0: none */

	/* Handles (t_updates) and commits. */
	unsigned int updates;
	bool locked;	     /* a commit waits for handles: no new ones */
	bool committing;     /* a commit is under way */
	pthread_cond_t cond; /* every state change of the three above */

	/* Blocks held: running and committed copies. */
	struct jblock **htab;
	size_t hsize, hcount;
	uint64_t cp_count;
	int64_t cp_oldest_ns;

	/* Inodes the running transaction wrote (open addressing; 0 free). */
	struct jnl_ient *iset;
	size_t iset_size, iset_count;
	bool iset_full;	 /* out of memory: every inode counts as written */
	bool times_only; /* journal_times_only(): the writes are times */

	/* Allocation (R4) and the bitmaps to write at commit. */
	ext2fs_block_bitmap pending; /* freed by the running transaction */
	bool pending_any;
	uint64_t pending_count;		    /* blocks in it */
	unsigned char *dirty_bb, *dirty_ib; /* a bit per group */
	uint32_t ndirty;		    /* groups with either bit */

	uint64_t txn_max_blocks;
	bool in_flush; /* writes of the commit's own flush */
	bool active;   /* hooks installed */
	bool aborted;
	int error;
	bool in_abort;
	/* Changes so far, and at the start of the current fs_lock section
	 * (journal_enter()): equal when the section changed nothing. */
	uint64_t mod_gen, section_gen;
	bool check_bitmaps; /* IOMAPFS_JOURNAL_CHECK: verify dirty groups */

	/* The commit thread. */
	pthread_t thread;
	bool thread_started;
	bool stop;
	bool kicked;
	pthread_cond_t kick;

	unsigned char *stage; /* JNL_STAGE_BYTES */
	uint32_t stage_cap;   /* blocks */
	unsigned char *tmp;   /* one block: the commit's own blocks */
	unsigned char *cmp;   /* one block: the write hook's compare */
	struct journal_stats st;
};

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

static int64_t jnl_now_ns(void)
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

static struct jblock *jb_find(const struct journal *j, uint64_t blk)
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

static struct jblock *jb_get(struct journal *j, uint64_t blk)
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
static void jb_maybe_free(struct journal *j, struct jblock *jb)
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

static void jnl_run_unlink(struct journal *j, struct jblock *jb)
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

static void jnl_run_append(struct journal *j, struct jblock *jb)
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
static void jnl_iset_add(struct journal *j, uint32_t ino, bool data)
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

static void jnl_dirty_group(struct journal *j, dgrp_t g, bool inode)
{
	unsigned char *map = inode ? j->dirty_ib : j->dirty_bb;
	unsigned char bit = (unsigned char)(1u << (g % 8));

	if (g >= j->fs->group_desc_count || (map[g / 8] & bit))
		return;
	if (!(j->dirty_bb[g / 8] & bit) && !(j->dirty_ib[g / 8] & bit))
		j->ndirty++;
	map[g / 8] |= bit;
}

static void jnl_note_start(struct journal *j)
{
	if (!j->run_start_ns)
		j->run_start_ns = jnl_now_ns();
}

/* --- the hooks ---------------------------------------------------------- */

/* Whether device block @blk belongs to the journal itself. */
static bool jnl_is_log_block(const struct journal *j, uint64_t blk)
{
	size_t lo = 0, hi = j->nruns;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (blk < j->runs[mid].start)
			hi = mid;
		else if (blk >= j->runs[mid].start + j->runs[mid].count)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static int jnl_read_hook(void *arg, uint64_t blk, void *buf)
{
	struct journal *j = arg;
	struct jblock *jb = jb_find(j, blk);

	/* The newest copy: running, else committed and not yet home. */
	if (!jb)
		return 0;
	if (jb->run) {
		memcpy(buf, jb->run, j->bs);
		return 1;
	}
	if (jb->cp) {
		memcpy(buf, jb->cp, j->bs);
		return 1;
	}
	return 0;
}

static int jnl_write_hook(void *arg, uint64_t blk, const void *buf)
{
	struct journal *j = arg;
	struct jblock *jb;
	const void *cur = NULL;

	if (j->aborted)
		return j->error ? j->error : -EIO;
	if (jnl_is_log_block(j, blk)) {
		fprintf(stderr,
			"iomapfs: journal: libext2fs wrote block %" PRIu64
			", which is the journal's own: refused\n",
			blk);
		return -EUCLEAN;
	}
	jb = jb_find(j, blk);
	if (jb && jb->revoked) {
		/*
		 * Freed by this transaction and not in use again: its
		 * contents are dead, and logging them would only make work
		 * for the revoke that already covers the block.
		 */
		j->st.freed_dropped++;
		return 0;
	}
	if (jb && jb->run) {
		memcpy(jb->run, buf, j->bs);
		j->mod_gen++;
		return 0;
	}
	if (j->in_flush) {
		/* The commit's flush rewrites the superblock, descriptors
		 * and bitmaps whether or not they changed: log only those
		 * that did. */
		if (jb && jb->cp)
			cur = jb->cp;
		else if (!jio_raw_read(j->jio, blk, 1, j->cmp))
			cur = j->cmp;
		if (cur && !memcmp(cur, buf, j->bs)) {
			j->st.skipped_same++;
			return 0;
		}
	}
	if (!jb) {
		jb = jb_get(j, blk);
		if (!jb)
			return -ENOMEM;
	}
	jb->run = malloc(j->bs);
	if (!jb->run) {
		jb_maybe_free(j, jb);
		return -ENOMEM;
	}
	memcpy(jb->run, buf, j->bs);
	jnl_run_append(j, jb);
	jnl_note_start(j);
	j->mod_gen++;
	if (j->run_count == j->txn_max_blocks / 2 && j->thread_started) {
		/* Half full: the commit thread commits it soon. */
		j->kicked = true;
		pthread_cond_signal(&j->kick);
	}
	return 0;
}

/* libext2fs writes inode @ino: remember it for fsync, and its group. */
static errcode_t jnl_write_inode_cb(ext2_filsys fs, ext2_ino_t ino,
				    struct ext2_inode *inode)
{
	struct journal *j = fs->priv_data;

	(void)inode;
	if (j && j->active && ino) {
		j->mod_gen++;
		jnl_iset_add(j, ino, !j->times_only);
		/*
		 * An inode's bitmap bit changes only together with a write
		 * of the inode (allocation writes the new inode, freeing
		 * writes its dtime), so its group's inode bitmap is the one
		 * to write at commit.
		 */
		jnl_dirty_group(j, ext2fs_group_of_ino(fs, ino), true);
		jnl_note_start(j);
	}
	return EXT2_ET_CALLBACK_NOTHANDLED;
}

static int jnl_add_revoke(struct journal *j, uint64_t blk)
{
	if (j->nrevokes == j->revokes_cap) {
		size_t ncap = j->revokes_cap ? j->revokes_cap * 2 : 64;
		uint64_t *n = realloc(j->revokes, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		j->revokes = n;
		j->revokes_cap = ncap;
	}
	j->revokes[j->nrevokes++] = blk;
	return 0;
}

/* R5: block @blk was freed by the running transaction. */
static void jnl_block_freed(struct journal *j, uint64_t blk)
{
	struct jblock *jb;

	/* R4: not to be allocated again before this transaction commits. */
	if (!ext2fs_test_block_bitmap2(j->pending, blk))
		j->pending_count++;
	ext2fs_mark_block_bitmap2(j->pending, blk);
	j->pending_any = true;
	jb = jb_find(j, blk);
	if (!jb)
		return;
	if (jb->run) {
		jnl_run_unlink(j, jb);
		free(jb->run);
		jb->run = NULL;
		j->st.freed_dropped++;
	}
	if (jb->cp && !jb->revoked) {
		/* An older copy is in the live log: revoke it.  Without
		 * memory for the record the journal cannot keep R5. */
		if (jnl_add_revoke(j, blk)) {
			j->aborted = true;
			j->error = -ENOMEM;
			return;
		}
		jb->revoked = true;
	}
	jb_maybe_free(j, jb);
}

/* Block @blk is in use again. */
static void jnl_block_used(struct journal *j, uint64_t blk)
{
	struct jblock *jb;
	size_t i;

	if (j->pending_any && ext2fs_test_block_bitmap2(j->pending, blk)) {
		ext2fs_unmark_block_bitmap2(j->pending, blk);
		j->pending_count--;
	}
	jb = jb_find(j, blk);
	if (!jb || !jb->revoked)
		return;
	/*
	 * Freed and marked in use again in the same transaction, not by our
	 * allocator (which never returns a pending block): the kernel's
	 * cancel_revoke.  What libext2fs writes to it from now on is logged
	 * and must replay.
	 */
	for (i = 0; i < j->nrevokes; i++) {
		if (j->revokes[i] == blk) {
			j->revokes[i] = j->revokes[--j->nrevokes];
			break;
		}
	}
	jb->revoked = false;
	jb_maybe_free(j, jb);
}

static void jnl_block_stats_cb(ext2_filsys fs, blk64_t blk, int inuse)
{
	struct journal *j = fs->priv_data;

	if (!j || !j->active)
		return;
	jnl_dirty_group(j, ext2fs_group_of_blk2(fs, blk), false);
	jnl_note_start(j);
	j->mod_gen++;
	if (inuse < 0)
		jnl_block_freed(j, blk);
	else if (inuse > 0)
		jnl_block_used(j, blk);
}

/*
 * libext2fs 1.47.0 calls this with the range already consumed (the block
 * after it, and 0 blocks), and only for allocations (fallocate's), whose
 * groups jnl_new_range() marked already.  A fixed libext2fs passes the
 * range: handle that too.
 */
static void jnl_block_stats_range_cb(ext2_filsys fs, blk64_t blk, blk_t num,
				     int inuse)
{
	blk_t i;

	for (i = 0; i < num; i++)
		jnl_block_stats_cb(fs, blk + i, inuse);
}

/*
 * The first block >= @start and <= @end that is free in the bitmap and
 * not pending (R4).  Returns 0, ENOENT, or another error.
 */
static errcode_t jnl_find_free(struct journal *j, blk64_t start, blk64_t end,
			       blk64_t *out)
{
	errcode_t err;
	blk64_t b, nb;

	while (start <= end) {
		err = ext2fs_find_first_zero_block_bitmap2(j->fs->block_map,
							   start, end, &b);
		if (err)
			return err;
		if (!j->pending_any ||
		    !ext2fs_test_block_bitmap2(j->pending, b)) {
			*out = b;
			return 0;
		}
		err = ext2fs_find_first_zero_block_bitmap2(j->pending, b, end,
							   &nb);
		if (err)
			return err;
		start = nb;
	}
	return ENOENT;
}

/* The first block in [@start, @end] in use or pending, else @end + 1. */
static blk64_t jnl_find_used(struct journal *j, blk64_t start, blk64_t end)
{
	blk64_t a = end + 1, b;

	if (!ext2fs_find_first_set_block_bitmap2(j->fs->block_map, start, end,
						 &b))
		a = b;
	if (j->pending_any && a > start &&
	    !ext2fs_find_first_set_block_bitmap2(j->pending, start, a - 1, &b))
		a = b;
	return a;
}

/* R4: ext2fs_new_block2(NULL) and ext2fs_alloc_block() come here. */
static errcode_t jnl_get_alloc_block(ext2_filsys fs, blk64_t goal, blk64_t *ret)
{
	struct journal *j = fs->priv_data;
	blk64_t first = fs->super->s_first_data_block;
	blk64_t last = ext2fs_blocks_count(fs->super) - 1;
	errcode_t err;
	blk64_t b;

	if (!goal || goal > last)
		goal = first;
	goal &= ~(blk64_t)EXT2FS_CLUSTER_MASK(fs);
	err = jnl_find_free(j, goal, last, &b);
	if (err == ENOENT && goal > first)
		err = jnl_find_free(j, first, goal - 1, &b);
	if (err == ENOENT)
		return EXT2_ET_BLOCK_ALLOC_FAIL;
	if (err)
		return err;
	*ret = b;
	return 0;
}

/*
 * R4: ext2fs_new_range(NULL) (fallocate) comes here: libext2fs's search,
 * with the pending blocks counted as used.
 */
static errcode_t jnl_new_range(ext2_filsys fs, int flags, blk64_t goal,
			       blk64_t len, blk64_t *pblk, blk64_t *plen)
{
	struct journal *j = fs->priv_data;
	blk64_t first = fs->super->s_first_data_block;
	blk64_t max = ext2fs_blocks_count(fs->super);
	blk64_t start, end, b, s, g;
	bool looped = false;
	errcode_t err;

	if (!goal || goal >= max)
		goal = first;
	start = goal;
	while (!looped || start <= goal) {
		err = jnl_find_free(j, start, max - 1, &s);
		if (err == ENOENT) {
			if ((flags & EXT2_NEWRANGE_FIXED_GOAL) ||
			    start == first)
				return EXT2_ET_BLOCK_ALLOC_FAIL;
			start = first;
			continue;
		}
		if (err)
			return err;
		if ((flags & EXT2_NEWRANGE_FIXED_GOAL) && s != goal)
			return EXT2_ET_BLOCK_ALLOC_FAIL;
		b = s + len - 1 < max - 1 ? s + len - 1 : max - 1;
		end = jnl_find_used(j, s, b);
		if (!(flags & EXT2_NEWRANGE_MIN_LENGTH) || end - s >= len) {
			*pblk = s;
			*plen = end - s;
			/* The caller marks what it uses with the range stats
			 * call whose callback cannot tell us the range. */
			for (g = s; g < end;
			     g += EXT2_BLOCKS_PER_GROUP(fs->super))
				jnl_dirty_group(j, ext2fs_group_of_blk2(fs, g),
						false);
			jnl_dirty_group(j, ext2fs_group_of_blk2(fs, end - 1),
					false);
			return 0;
		}
		if (flags & EXT2_NEWRANGE_FIXED_GOAL)
			return EXT2_ET_BLOCK_ALLOC_FAIL;
		start = end;
		if (start >= max) {
			if (looped)
				return EXT2_ET_BLOCK_ALLOC_FAIL;
			looped = true;
			start = first;
		}
	}
	return EXT2_ET_BLOCK_ALLOC_FAIL;
}

/* --- the commit's flush of what libext2fs keeps in memory --------------- */

/*
 * Write the block and inode bitmaps of the dirty groups, as
 * ext2fs_write_bitmaps() writes every group's (checksums, padding of the
 * last group, groups still uninitialised skipped).  ext2fs_write_bitmaps()
 * would write all groups at every commit: on a large filesystem that is
 * thousands of blocks to read and compare for the few that changed.
 */
static int jnl_write_dirty_bitmaps(struct journal *j)
{
	ext2_filsys fs = j->fs;
	bool csum_flag = ext2fs_has_group_desc_csum(fs);
	unsigned int block_nbytes = EXT2_CLUSTERS_PER_GROUP(fs->super) / 8;
	unsigned int inode_nbytes = (EXT2_INODES_PER_GROUP(fs->super) + 7) / 8;
	unsigned int nbits, k;
	errcode_t err = 0;
	dgrp_t g;
	blk64_t blk;

	if (!j->ndirty)
		goto out;
	for (g = 0; g < fs->group_desc_count; g++) {
		unsigned char bit = (unsigned char)(1u << (g % 8));

		if ((j->dirty_bb[g / 8] & bit) && fs->block_map &&
		    !(csum_flag &&
		      ext2fs_bg_flags_test(fs, g, EXT2_BG_BLOCK_UNINIT))) {
			memset(j->tmp, 0xff, j->bs);
			err = ext2fs_get_block_bitmap_range2(
				fs->block_map,
				EXT2FS_B2C(fs, fs->super->s_first_data_block) +
					(blk64_t)g * (block_nbytes << 3),
				block_nbytes << 3, j->tmp);
			if (err)
				break;
			if (g == fs->group_desc_count - 1) {
				/* The last group's bits past the end are set. */
				nbits = EXT2FS_NUM_B2C(
					fs, ((ext2fs_blocks_count(fs->super) -
					      (uint64_t)fs->super
						      ->s_first_data_block) %
					     (uint64_t)EXT2_BLOCKS_PER_GROUP(
						     fs->super)));
				if (nbits)
					for (k = nbits; k < j->bs * 8; k++)
						ext2fs_set_bit(k, j->tmp);
			}
			err = ext2fs_block_bitmap_csum_set(
				fs, g, (char *)j->tmp, (int)block_nbytes);
			if (err)
				break;
			ext2fs_group_desc_csum_set(fs, g);
			ext2fs_mark_super_dirty(fs);
			blk = ext2fs_block_bitmap_loc(fs, g);
			if (blk && blk < ext2fs_blocks_count(fs->super)) {
				err = io_channel_write_blk64(fs->io, blk, 1,
							     j->tmp);
				if (err)
					break;
			}
		}
		if ((j->dirty_ib[g / 8] & bit) && fs->inode_map &&
		    !(csum_flag &&
		      ext2fs_bg_flags_test(fs, g, EXT2_BG_INODE_UNINIT))) {
			memset(j->tmp, 0xff, j->bs);
			err = ext2fs_get_inode_bitmap_range2(
				fs->inode_map,
				1 + (uint64_t)g * (inode_nbytes << 3),
				inode_nbytes << 3, j->tmp);
			if (err)
				break;
			err = ext2fs_inode_bitmap_csum_set(
				fs, g, (char *)j->tmp, (int)inode_nbytes);
			if (err)
				break;
			ext2fs_group_desc_csum_set(fs, g);
			ext2fs_mark_super_dirty(fs);
			blk = ext2fs_inode_bitmap_loc(fs, g);
			if (blk && blk < ext2fs_blocks_count(fs->super)) {
				err = io_channel_write_blk64(fs->io, blk, 1,
							     j->tmp);
				if (err)
					break;
			}
		}
	}
	if (err)
		return err > 0 && err < 4096 ? -(int)err : -EIO;
	memset(j->dirty_bb, 0, (fs->group_desc_count + 7) / 8);
	memset(j->dirty_ib, 0, (fs->group_desc_count + 7) / 8);
	j->ndirty = 0;
out:
	/* Every changed group is written: nothing left for libext2fs. */
	fs->flags &= ~(EXT2_FLAG_BB_DIRTY | EXT2_FLAG_IB_DIRTY);
	return 0;
}

/*
 * Fold what libext2fs keeps in memory (bitmaps, group descriptors,
 * superblock) into the running transaction.  Only the primary superblock
 * and descriptors, as the kernel, which leaves the backups alone.
 */
static int jnl_flush_fs(struct journal *j)
{
	ext2_filsys fs = j->fs;
	int saved = fs->flags & EXT2_FLAG_MASTER_SB_ONLY;
	uint64_t before;
	errcode_t err = 0;
	int ret;

	j->in_flush = true;
	ret = jnl_write_dirty_bitmaps(j);
	if (!ret && j->check_bitmaps && fs->block_map && fs->inode_map) {
		/* Test mode: every group's bitmaps; any that differs from
		 * what the dirty groups left logged is a group they missed. */
		struct jblock *x;
		uint64_t misses;

		before = j->run_count;
		ext2fs_mark_bb_dirty(fs);
		ext2fs_mark_ib_dirty(fs);
		err = ext2fs_write_bitmaps(fs);
		misses = j->run_count - before;
		j->st.bitmap_misses += misses;
		for (x = j->run_tail; x && misses; x = x->rprev, misses--)
			fprintf(stderr,
				"iomapfs: journal: bitmap block %" PRIu64
				" (group %u) changed, but no dirty group "
				"named it\n",
				x->blk, ext2fs_group_of_blk2(fs, x->blk));
	}
	if (!ret && !err && (fs->flags & EXT2_FLAG_DIRTY)) {
		fs->flags |= EXT2_FLAG_MASTER_SB_ONLY;
		err = ext2fs_flush2(fs, EXT2_FLAG_FLUSH_NO_SYNC);
		fs->flags = (fs->flags & ~EXT2_FLAG_MASTER_SB_ONLY) | saved;
	}
	j->in_flush = false;
	if (!ret && err)
		ret = err > 0 && err < 4096 ? -(int)err : -EIO;
	return ret;
}

/* --- writing the log ---------------------------------------------------- */

static uint32_t jnl_next(const struct journal *j, uint32_t pos)
{
	return pos + 1 == j->maxlen ? j->first : pos + 1;
}

/*
 * A write that found no room on the device (a sparse image on a full
 * filesystem): nothing of it is on disk, and the same write may succeed
 * later; the transaction stays running and the caller sees ENOSPC.
 * Every other error, and any error of a flush (after a failed flush the
 * kernel may have dropped pages it could not write), fails the journal.
 */
static int jnl_write_err(int ret)
{
	return ret == -EDQUOT ? -ENOSPC : ret;
}

static int jnl_flush(struct journal *j)
{
	int ret = jio_raw_flush(j->jio);

	return ret == -ENOSPC || ret == -EDQUOT ? -EIO : ret;
}

/* Consecutive device blocks gathered for one write. */
struct jnl_stage {
	struct journal *j;
	uint64_t dev; /* device block of the first staged block */
	uint32_t n;
};

static int jnl_stage_flush(struct jnl_stage *s)
{
	int ret;

	if (!s->n)
		return 0;
	ret = jio_raw_write(s->j->jio, s->dev, s->n, s->j->stage);
	s->n = 0;
	return jnl_write_err(ret);
}

/* Stage one block for device block @dev. */
static int jnl_stage_add(struct jnl_stage *s, uint64_t dev, const void *buf)
{
	struct journal *j = s->j;
	int ret;

	if (s->n && (s->n == j->stage_cap || dev != s->dev + s->n)) {
		ret = jnl_stage_flush(s);
		if (ret)
			return ret;
	}
	if (!s->n)
		s->dev = dev;
	memcpy(j->stage + (size_t)s->n * j->bs, buf, j->bs);
	s->n++;
	return 0;
}

static void jnl_header(void *block, uint32_t type, uint32_t tid)
{
	struct jbd2_header *h = block;

	jbd2_put_be32(&h->h_magic, JBD2_MAGIC);
	jbd2_put_be32(&h->h_blocktype, type);
	jbd2_put_be32(&h->h_sequence, tid);
}

static size_t jnl_tail_bytes(const struct journal *j)
{
	return j->csum_v3 ? sizeof(struct jbd2_tail) : 0;
}

static uint32_t jnl_revokes_per_block(const struct journal *j)
{
	return (uint32_t)((j->bs - sizeof(struct jbd2_revoke_header) -
			   jnl_tail_bytes(j)) /
			  j->rec_bytes);
}

/* Tags in one descriptor block (the first carries the 16-byte UUID). */
static uint32_t jnl_tags_per_desc(const struct journal *j)
{
	size_t room = j->bs - sizeof(struct jbd2_header) - jnl_tail_bytes(j);

	return (uint32_t)((room - JBD2_UUID_SIZE) / j->tag_bytes);
}

/* Log blocks the running transaction takes, as it is now. */
static uint64_t jnl_footprint(const struct journal *j, uint64_t nblocks,
			      uint64_t nrevokes)
{
	uint64_t rpb = jnl_revokes_per_block(j), tpd = jnl_tags_per_desc(j);

	return (nrevokes + rpb - 1) / rpb + (nblocks + tpd - 1) / tpd +
	       nblocks + 1;
}

/*
 * The running transaction's size for its bounds: the blocks and revokes
 * it holds, and what the commit's flush will add (superblock, a
 * descriptor block and two bitmaps per dirty group).
 */
static uint64_t jnl_estimate(const struct journal *j)
{
	return jnl_footprint(j, j->run_count + 1 + 3ull * j->ndirty,
			     j->nrevokes);
}

static void jnl_write_jsb_fields(struct journal *j)
{
	if (jbd2_has_csum_v2or3(j->jsb))
		jbd2_put_be32(&j->jsb->s_checksum, jbd2_super_csum(j->jsb));
}

/* Write the journal superblock (log block 0) as j->jsb says. */
static int jnl_write_jsb(struct journal *j)
{
	jnl_write_jsb_fields(j);
	return jnl_write_err(jio_raw_write(j->jio, j->map[0], 1, j->jsb_block));
}

/*
 * Write the running transaction to the log at j->head: revoke blocks,
 * then descriptors each followed by the blocks it tags, then (R2) a
 * flush, the commit block, and a flush.  Returns the log blocks written
 * in *written, or -errno.
 */
static int jnl_write_txn(struct journal *j, uint32_t *written)
{
	struct jnl_stage s = {.j = j};
	unsigned char *blk = j->tmp;
	uint32_t pos = j->head, n = 0, rpb = jnl_revokes_per_block(j);
	uint32_t tpd = jnl_tags_per_desc(j), k;
	struct jblock *jb, *first;
	size_t i, at;
	int ret;

	if (j->sb_empty) {
		/*
		 * The log was empty: point the superblock at this
		 * transaction.  Durable with the first flush below, before
		 * the commit block, as the kernel does after a flush of
		 * the journal.
		 */
		jbd2_put_be32(&j->jsb->s_start, j->head);
		jbd2_put_be32(&j->jsb->s_sequence, j->tid);
		ret = jnl_write_jsb(j);
		if (ret)
			return ret;
	}

	/* Revoke blocks. */
	for (i = 0; i < j->nrevokes; i += rpb) {
		size_t cnt = j->nrevokes - i < rpb ? j->nrevokes - i : rpb;

		memset(blk, 0, j->bs);
		jnl_header(blk, JBD2_REVOKE_BLOCK, j->tid);
		at = sizeof(struct jbd2_revoke_header);
		for (k = 0; k < cnt; k++) {
			if (j->rec_bytes == 8)
				jbd2_put_be64(blk + at, j->revokes[i + k]);
			else
				jbd2_put_be32(blk + at,
					      (uint32_t)j->revokes[i + k]);
			at += j->rec_bytes;
		}
		jbd2_put_be32(&((struct jbd2_revoke_header *)blk)->r_count,
			      (uint32_t)at);
		if (j->csum_v3)
			jbd2_put_be32(blk + j->bs - sizeof(struct jbd2_tail),
				      jbd2_tail_csum(j->seed, blk, j->bs));
		ret = jnl_stage_add(&s, j->map[pos], blk);
		if (ret)
			return ret;
		pos = jnl_next(j, pos);
		n++;
	}

	/* Descriptor blocks and the blocks they tag. */
	for (first = j->run_head; first;) {
		memset(blk, 0, j->bs);
		jnl_header(blk, JBD2_DESCRIPTOR_BLOCK, j->tid);
		at = sizeof(struct jbd2_header);
		for (jb = first, k = 0; jb && k < tpd; jb = jb->rnext, k++) {
			unsigned char *tag = blk + at;
			uint32_t flags = 0;
			uint32_t csum;
			uint8_t save[4];
			bool esc = jbd2_be32(jb->run) == JBD2_MAGIC;

			if (esc) {
				/* A block that starts like a journal block
				 * is logged with those bytes zeroed. */
				flags |= JBD2_FLAG_ESCAPE;
				memcpy(save, jb->run, 4);
				memset(jb->run, 0, 4);
			}
			if (k)
				flags |= JBD2_FLAG_SAME_UUID;
			if (!jb->rnext || k + 1 == tpd)
				flags |= JBD2_FLAG_LAST_TAG;
			jbd2_put_be32(tag, (uint32_t)jb->blk);
			if (j->tag_bytes >= 12)
				jbd2_put_be32(tag + 8,
					      (uint32_t)(jb->blk >> 32));
			if (j->csum_v3) {
				/* The checksum of the block as logged. */
				csum = jbd2_data_csum(j->seed, j->tid, jb->run,
						      j->bs);
				jbd2_put_be32(tag + 4, flags);
				jbd2_put_be32(tag + 12, csum);
			} else {
				jbd2_put_be16(tag + 6, (uint16_t)flags);
			}
			at += j->tag_bytes;
			if (!k) {
				memcpy(blk + at, j->jsb->s_uuid,
				       JBD2_UUID_SIZE);
				at += JBD2_UUID_SIZE;
			}
			if (esc)
				memcpy(jb->run, save, 4);
		}
		if (j->csum_v3)
			jbd2_put_be32(blk + j->bs - sizeof(struct jbd2_tail),
				      jbd2_tail_csum(j->seed, blk, j->bs));
		ret = jnl_stage_add(&s, j->map[pos], blk);
		if (ret)
			return ret;
		pos = jnl_next(j, pos);
		n++;
		for (jb = first, k = 0; jb && k < tpd; jb = jb->rnext, k++) {
			bool esc = jbd2_be32(jb->run) == JBD2_MAGIC;

			if (esc) {
				memcpy(blk, jb->run, j->bs);
				memset(blk, 0, 4);
			}
			ret = jnl_stage_add(&s, j->map[pos],
					    esc ? blk : jb->run);
			if (ret)
				return ret;
			pos = jnl_next(j, pos);
			n++;
		}
		first = jb;
	}
	ret = jnl_stage_flush(&s);
	if (ret)
		return ret;

	/* R2: the blocks above and the transaction's data are durable
	 * before the commit block is written. */
	ret = jnl_flush(j);
	if (ret)
		return ret;

	memset(blk, 0, j->bs);
	jnl_header(blk, JBD2_COMMIT_BLOCK, j->tid);
	{
		struct jbd2_commit *c = (struct jbd2_commit *)blk;
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		jbd2_put_be64(&c->h_commit_sec, (uint64_t)now.tv_sec);
		jbd2_put_be32(&c->h_commit_nsec, (uint32_t)now.tv_nsec);
		if (j->csum_v3)
			jbd2_put_be32(&c->h_chksum[0],
				      jbd2_commit_csum(j->seed, blk, j->bs));
	}
	ret = jnl_write_err(jio_raw_write(j->jio, j->map[pos], 1, blk));
	if (ret)
		return ret;
	pos = jnl_next(j, pos);
	n++;
	/* The commit is durable before anyone is told it happened. */
	ret = jnl_flush(j);
	if (ret)
		return ret;
	*written = n;
	return 0;
}

/* --- failing -------------------------------------------------------------- */

/*
 * The journal cannot go on (an I/O error on the log or at a checkpoint):
 * nothing more commits.  What committed stays in the log for the next
 * mount's replay; the error goes into the journal superblock (s_errno),
 * where the kernel and e2fsck find it and mark the filesystem as having
 * errors, as they do after the kernel aborts a journal.
 */
static void jnl_fail(struct journal *j, int err)
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

/* --- checkpoint ----------------------------------------------------------- */

static int jnl_cmp_blk(const void *a, const void *b)
{
	const struct jblock *x = *(struct jblock *const *)a;
	const struct jblock *y = *(struct jblock *const *)b;

	return x->blk < y->blk ? -1 : x->blk > y->blk;
}

/*
 * Write every committed copy home, then (R3) flush, then move the tail to
 * the head in the journal superblock and flush again: only then may the
 * log space behind the old tail be written.  @empty: mark the log empty
 * (s_start 0), as at unmount.
 */
static int jnl_checkpoint(struct journal *j, bool empty)
{
	struct jnl_stage s = {.j = j};
	struct jblock **arr = NULL, *jb;
	size_t i, n = 0;
	int ret = 0;

	if (j->aborted)
		return j->error;
	if (j->cp_count) {
		arr = malloc(j->cp_count * sizeof(*arr));
		if (!arr)
			return -ENOMEM;
		for (i = 0; i < j->hsize; i++)
			for (jb = j->htab[i]; jb; jb = jb->hnext)
				if (jb->cp)
					arr[n++] = jb;
		/* In block order: the writes merge into long runs. */
		qsort(arr, n, sizeof(*arr), jnl_cmp_blk);
		for (i = 0; i < n && !ret; i++)
			ret = jnl_stage_add(&s, arr[i]->blk, arr[i]->cp);
		if (!ret)
			ret = jnl_stage_flush(&s);
		if (!ret)
			ret = jnl_flush(j);
		if (ret) {
			/* No room at home (ENOSPC): the copies stay, the tail
			 * stays, a later checkpoint tries again. */
			free(arr);
			if (ret != -ENOSPC)
				jnl_fail(j, ret);
			return ret;
		}
	}
	/* Home and durable (R3): the tail may move past them. */
	jbd2_put_be32(&j->jsb->s_start, empty ? 0 : j->head);
	jbd2_put_be32(&j->jsb->s_sequence, j->tid);
	ret = jnl_write_jsb(j);
	if (!ret)
		ret = jnl_flush(j);
	if (ret) {
		free(arr);
		if (ret != -ENOSPC)
			jnl_fail(j, ret);
		return ret;
	}
	j->sb_empty = empty;
	j->used = 0;
	for (i = 0; i < n; i++) {
		jb = arr[i];
		free(jb->cp);
		jb->cp = NULL;
		jb_maybe_free(j, jb);
	}
	free(arr);
	j->st.checkpoints++;
	j->st.checkpoint_blocks += n;
	j->cp_count = 0;
	j->cp_oldest_ns = 0;
	return 0;
}

int journal_checkpoint(struct journal *j)
{
	return jnl_checkpoint(j, false);
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
static void *jnl_thread(void *arg)
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

/* --- mount and unmount ------------------------------------------------ */

/* Map log blocks to device blocks through the journal inode. */
static int jnl_map_log(struct journal *j, ext2_ino_t jino,
		       struct ext2_inode *inode, uint64_t nblocks, char *why,
		       size_t why_len)
{
	ext2_filsys fs = j->fs;
	uint64_t i, cap = 8;
	errcode_t err;
	blk64_t pblk;

	j->map = calloc(nblocks, sizeof(*j->map));
	j->runs = calloc(cap, sizeof(*j->runs));
	if (!j->map || !j->runs)
		return -ENOMEM;
	for (i = 0; i < nblocks; i++) {
		err = ext2fs_bmap2(fs, jino, inode, NULL, 0, i, NULL, &pblk);
		if (err || !pblk || pblk >= ext2fs_blocks_count(fs->super) ||
		    pblk < fs->super->s_first_data_block) {
			snprintf(why, why_len,
				 "journal block %" PRIu64 " is %s", i,
				 err ? "unreadable"
				     : "not mapped inside the "
				       "filesystem");
			return -EUCLEAN;
		}
		j->map[i] = pblk;
		if (j->nruns &&
		    j->runs[j->nruns - 1].start + j->runs[j->nruns - 1].count ==
			    pblk) {
			j->runs[j->nruns - 1].count++;
			continue;
		}
		if (j->nruns == cap) {
			struct jnl_run *n =
				realloc(j->runs, cap * 2 * sizeof(*n));

			if (!n)
				return -ENOMEM;
			j->runs = n;
			cap *= 2;
		}
		j->runs[j->nruns].start = pblk;
		j->runs[j->nruns].count = 1;
		j->nruns++;
	}
	/* Sorted, for the write hook's binary search. */
	for (i = 1; i < j->nruns; i++) {
		struct jnl_run r = j->runs[i];
		uint64_t k = i;

		while (k && j->runs[k - 1].start > r.start) {
			j->runs[k] = j->runs[k - 1];
			k--;
		}
		j->runs[k] = r;
	}
	return 0;
}

/*
 * The journal's features, as the kernel sets them at mount without the
 * journal_checksum or journal_async_commit options: checksum v3 when the
 * filesystem has metadata_csum (here also when the journal had v2 or v3
 * checksums already), no v1 checksum, no async_commit, no fast commit
 * (this writer writes none, and it changes where the log wraps), revoke,
 * 64bit with the filesystem's 64bit.
 */
static void jnl_set_features(struct journal *j)
{
	struct jbd2_super *sb = j->jsb;
	uint32_t incompat = jbd2_be32(&sb->s_feature_incompat);
	uint32_t compat = jbd2_be32(&sb->s_feature_compat);
	bool v3 = ext2fs_has_feature_metadata_csum(j->fs->super) ||
		  (incompat & (JBD2_FEATURE_INCOMPAT_CSUM_V2 |
			       JBD2_FEATURE_INCOMPAT_CSUM_V3));

	incompat &= ~(JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT |
		      JBD2_FEATURE_INCOMPAT_CSUM_V2 |
		      JBD2_FEATURE_INCOMPAT_CSUM_V3 |
		      JBD2_FEATURE_INCOMPAT_FAST_COMMIT);
	compat &= ~JBD2_FEATURE_COMPAT_CHECKSUM;
	incompat |= JBD2_FEATURE_INCOMPAT_REVOKE;
	if (ext2fs_has_feature_64bit(j->fs->super))
		incompat |= JBD2_FEATURE_INCOMPAT_64BIT;
	if (v3) {
		incompat |= JBD2_FEATURE_INCOMPAT_CSUM_V3;
		sb->s_checksum_type = JBD2_CRC32C_CHKSUM;
	}
	jbd2_put_be32(&sb->s_feature_incompat, incompat);
	jbd2_put_be32(&sb->s_feature_compat, compat);
	j->csum_v3 = v3;
}

int journal_open(ext2_filsys fs, pthread_mutex_t *lock,
		 const struct journal_opts *opts, const struct journal_ops *ops,
		 struct journal **out, char *why, size_t why_len)
{
	struct ext2_super_block *esb = fs->super;
	struct ext2_inode inode;
	pthread_condattr_t attr;
	struct journal *j;
	uint64_t nblocks;
	errcode_t err;
	uint32_t type;
	int ret;

	*out = NULL;
	if (!ext2fs_has_feature_journal(esb)) {
		snprintf(why, why_len, "the filesystem has no journal");
		return -EOPNOTSUPP;
	}
	if (!esb->s_journal_inum) {
		snprintf(why, why_len, "the journal is on an external device");
		return -EOPNOTSUPP;
	}
	if (!jio_of(fs->io) ||
	    jio_block_size(jio_of(fs->io)) != fs->blocksize) {
		snprintf(why, why_len,
			 "the filesystem was not opened through the journal's "
			 "I/O layer");
		return -EINVAL;
	}
	if (!fs->block_map || !fs->inode_map) {
		snprintf(why, why_len, "the bitmaps are not loaded");
		return -EINVAL;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->fs = fs;
	j->jio = jio_of(fs->io);
	j->lock = lock;
	j->opts = *opts;
	if (!j->opts.commit_sec)
		j->opts.commit_sec = JOURNAL_DEFAULT_COMMIT_SEC;
	if (ops)
		j->ops = *ops;
	j->bs = fs->blocksize;
	j->check_bitmaps = getenv("IOMAPFS_JOURNAL_CHECK") &&
			   *getenv("IOMAPFS_JOURNAL_CHECK") == '1';
	ret = -ENOMEM;
	if (pthread_condattr_init(&attr))
		goto out_free;
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (pthread_cond_init(&j->kick, &attr)) {
		pthread_condattr_destroy(&attr);
		goto out_free;
	}
	pthread_condattr_destroy(&attr);
	if (pthread_cond_init(&j->cond, NULL)) {
		pthread_cond_destroy(&j->kick);
		goto out_free;
	}

	err = ext2fs_read_inode(fs, esb->s_journal_inum, &inode);
	if (err) {
		snprintf(why, why_len, "cannot read the journal inode %u: %s",
			 esb->s_journal_inum, error_message(err));
		ret = -EIO;
		goto out_free;
	}
	nblocks = EXT2_I_SIZE(&inode) / fs->blocksize;
	if (nblocks < 2 || nblocks > UINT32_MAX) {
		snprintf(why, why_len, "journal inode of %" PRIu64 " blocks",
			 nblocks);
		ret = -EUCLEAN;
		goto out_free;
	}
	ret = jnl_map_log(j, esb->s_journal_inum, &inode, nblocks, why,
			  why_len);
	if (ret)
		goto out_free;

	j->jsb_block = malloc(j->bs);
	j->tmp = malloc(j->bs);
	j->cmp = malloc(j->bs);
	j->stage_cap = JNL_STAGE_BYTES / j->bs ? JNL_STAGE_BYTES / j->bs : 1;
	j->stage = malloc((size_t)j->stage_cap * j->bs);
	j->hsize = 1024;
	j->htab = calloc(j->hsize, sizeof(*j->htab));
	j->iset_size = 256;
	j->iset = calloc(j->iset_size, sizeof(*j->iset));
	j->dirty_bb = calloc((fs->group_desc_count + 7) / 8 + 1, 1);
	j->dirty_ib = calloc((fs->group_desc_count + 7) / 8 + 1, 1);
	ret = -ENOMEM;
	if (!j->jsb_block || !j->tmp || !j->cmp || !j->stage || !j->htab ||
	    !j->iset || !j->dirty_bb || !j->dirty_ib)
		goto out_free;
	ret = jio_raw_read(j->jio, j->map[0], 1, j->jsb_block);
	if (ret) {
		snprintf(why, why_len, "cannot read the journal superblock: %s",
			 strerror(-ret));
		goto out_free;
	}
	j->jsb = (struct jbd2_super *)j->jsb_block;
	ret = jbd2_super_check(j->jsb, nblocks, j->bs, why, why_len);
	if (ret)
		goto out_free;
	type = jbd2_be32(&j->jsb->s_header.h_blocktype);
	if (type == JBD2_SUPERBLOCK_V1) {
		/* As the kernel's journal_convert_superblock_v1(). */
		memset((unsigned char *)j->jsb +
			       offsetof(struct jbd2_super, s_feature_compat),
		       0,
		       JBD2_SB_SIZE -
			       offsetof(struct jbd2_super, s_feature_compat));
		jbd2_put_be32(&j->jsb->s_header.h_blocktype,
			      JBD2_SUPERBLOCK_V2);
	}
	if (jbd2_be32(&j->jsb->s_start)) {
		snprintf(why, why_len,
			 "the journal holds transactions not yet replayed");
		ret = -EAGAIN;
		goto out_free;
	}
	j->first = jbd2_be32(&j->jsb->s_first);
	j->maxlen = jbd2_be32(&j->jsb->s_maxlen);
	j->len = j->maxlen - j->first;
	if (j->len < 32) {
		snprintf(why, why_len, "a log of %u blocks is too small",
			 j->len);
		ret = -EUCLEAN;
		goto out_free;
	}
	jnl_set_features(j);
	j->seed = jbd2_csum_seed(j->jsb);
	j->tag_bytes = jbd2_tag_bytes(j->jsb);
	j->rec_bytes = jbd2_revoke_record_bytes(j->jsb);
	/* As the kernel on a clean journal: the sequence after the last. */
	j->tid = jbd2_be32(&j->jsb->s_sequence) + 1;
	jbd2_put_be32(&j->jsb->s_sequence, j->tid);
	jbd2_put_be32(&j->jsb->s_errno, 0);
	j->head = j->first;
	j->used = 0;
	j->sb_empty = true;
	j->txn_max_blocks = j->opts.txn_max / j->bs;
	if (j->txn_max_blocks > j->len / 4)
		j->txn_max_blocks = j->len / 4;
	if (j->txn_max_blocks < JNL_MIN_TXN_BLOCKS)
		j->txn_max_blocks = JNL_MIN_TXN_BLOCKS;

	/* Pending frees are few and clustered: a tree, not a bit array. */
	{
		int saved = fs->default_bitmap_type;

		fs->default_bitmap_type = EXT2FS_BMAP64_RBTREE;
		err = ext2fs_allocate_block_bitmap(fs, "journal pending frees",
						   &j->pending);
		fs->default_bitmap_type = saved;
	}
	if (err) {
		snprintf(why, why_len, "cannot allocate a bitmap: %s",
			 error_message(err));
		ret = -ENOMEM;
		goto out_free;
	}

	ret = jnl_write_jsb(j);
	if (!ret)
		ret = jio_raw_flush(j->jio);
	if (ret) {
		snprintf(why, why_len,
			 "cannot write the journal superblock: %s",
			 strerror(-ret));
		goto out_free;
	}
	/* The caller writes it home before any log block is written. */
	ext2fs_set_feature_journal_needs_recovery(esb);
	ext2fs_mark_super_dirty(fs);
	*out = j;
	return 0;

out_free:
	journal_free(j);
	return ret;
}

int journal_start(struct journal *j)
{
	struct jio_hooks hooks = {
		.read_block = jnl_read_hook,
		.write_block = jnl_write_hook,
		.arg = j,
	};
	ext2_filsys fs = j->fs;

	if (fs->priv_data && fs->priv_data != j)
		return -EBUSY;
	fs->priv_data = j;
	fs->write_inode = jnl_write_inode_cb;
	ext2fs_set_alloc_block_callback(fs, jnl_get_alloc_block, NULL);
	ext2fs_set_new_range_callback(fs, jnl_new_range, NULL);
	ext2fs_set_block_alloc_stats_callback(fs, jnl_block_stats_cb, NULL);
	ext2fs_set_block_alloc_stats_range_callback(
		fs, jnl_block_stats_range_cb, NULL);
	jio_set_hooks(j->jio, &hooks);
	j->active = true;
	j->st.csum_v3 = j->csum_v3;
	return 0;
}

int journal_run(struct journal *j)
{
	int ret;

	if (j->thread_started)
		return 0;
	ret = pthread_create(&j->thread, NULL, jnl_thread, j);
	if (ret)
		return -ret;
	j->thread_started = true;
	return 0;
}

/* Take the hooks and callbacks off: writes go in place again. */
static void jnl_detach(struct journal *j)
{
	ext2_filsys fs = j->fs;

	if (!j->active)
		return;
	jio_set_hooks(j->jio, NULL);
	fs->write_inode = NULL;
	ext2fs_set_alloc_block_callback(fs, NULL, NULL);
	ext2fs_set_new_range_callback(fs, NULL, NULL);
	ext2fs_set_block_alloc_stats_callback(fs, NULL, NULL);
	ext2fs_set_block_alloc_stats_range_callback(fs, NULL, NULL);
	if (fs->priv_data == j)
		fs->priv_data = NULL;
	j->active = false;
}

int journal_shutdown(struct journal *j)
{
	int ret = 0;

	if (j->thread_started) {
		j->stop = true;
		pthread_cond_signal(&j->kick);
		/* The thread needs fs_lock to see it. */
		pthread_mutex_unlock(j->lock);
		pthread_join(j->thread, NULL);
		pthread_mutex_lock(j->lock);
		j->thread_started = false;
	}
	/* A journal that failed before said so when it did; nothing more
	 * is written. */
	if (j->active && !j->aborted) {
		ret = journal_commit(j, JOURNAL_CAUSE_UNMOUNT);
		/* Everything home, the log empty and durable. */
		if (!ret)
			ret = jnl_checkpoint(j, true);
	}
	jnl_detach(j);
	if (getenv("IOMAPFS_JOURNAL_STATS")) {
		/* For the tests: the counters at unmount, one line. */
		enum journal_cause c;

		fprintf(stderr,
			"journal stats: transactions=%" PRIu64
			" blocks_logged=%" PRIu64 " log_writes=%" PRIu64
			" revokes=%" PRIu64 " checkpoints=%" PRIu64
			" checkpoint_blocks=%" PRIu64 " skipped_same=%" PRIu64
			" freed_dropped=%" PRIu64 " bitmap_misses=%" PRIu64
			" nospace_waits=%" PRIu64 " running_blocks_max=%" PRIu64
			" cp_bytes_max=%" PRIu64 " txn_max_blocks=%" PRIu64,
			j->st.transactions, j->st.blocks_logged,
			j->st.log_writes, j->st.revokes, j->st.checkpoints,
			j->st.checkpoint_blocks, j->st.skipped_same,
			j->st.freed_dropped, j->st.bitmap_misses,
			j->st.nospace_waits, j->st.running_blocks_max,
			j->st.cp_bytes_max, j->txn_max_blocks);
		for (c = 0; c < JOURNAL_CAUSE_COUNT; c++)
			fprintf(stderr, " commits_%s=%" PRIu64,
				journal_cause_name(c), j->st.commits[c]);
		fprintf(stderr, "\n");
	}
	return ret;
}

int journal_pause(struct journal *j)
{
	int ret;

	if (!j->active)
		return 0;
	if (j->aborted)
		return j->error;
	ret = journal_commit(j, JOURNAL_CAUSE_UNMOUNT);
	/* R3: everything home and durable before the log says empty. */
	if (!ret)
		ret = jnl_checkpoint(j, true);
	if (!ret)
		jnl_detach(j);
	return ret;
}

int journal_resume(struct journal *j)
{
	if (j->active)
		return 0;
	if (j->aborted)
		return j->error;
	return journal_start(j);
}

void journal_halt(struct journal *j)
{
	/*
	 * FS_IOC_SHUTDOWN: as jbd2_journal_abort() after ext4's shutdown,
	 * but nothing is written, not even the error into the journal's
	 * superblock: the log keeps what committed, for the next mount to
	 * replay, and the running transaction is dropped at unmount.
	 */
	if (j->aborted)
		return;
	j->aborted = true;
	j->error = -EIO;
	j->st.aborted = true;
	j->st.error = j->error;
	pthread_cond_signal(&j->kick);
}

bool journal_active(const struct journal *j)
{
	return j->active;
}

void journal_free(struct journal *j)
{
	struct jblock *jb, *next;
	size_t i;

	if (!j)
		return;
	if (j->active)
		jnl_detach(j);
	if (j->htab) {
		for (i = 0; i < j->hsize; i++) {
			for (jb = j->htab[i]; jb; jb = next) {
				next = jb->hnext;
				free(jb->run);
				free(jb->cp);
				free(jb);
			}
		}
	}
	if (j->pending)
		ext2fs_free_block_bitmap(j->pending);
	pthread_cond_destroy(&j->kick);
	pthread_cond_destroy(&j->cond);
	free(j->htab);
	free(j->iset);
	free(j->dirty_bb);
	free(j->dirty_ib);
	free(j->revokes);
	free(j->map);
	free(j->runs);
	free(j->jsb_block);
	free(j->stage);
	free(j->tmp);
	free(j->cmp);
	free(j);
}

void journal_get_stats(const struct journal *j, struct journal_stats *st)
{
	*st = j->st;
	st->tid = j->tid;
	st->running_blocks = j->run_count;
	st->running_revokes = (uint32_t)j->nrevokes;
	st->cp_blocks = j->cp_count;
	st->cp_bytes = j->cp_count * j->bs;
	st->log_used = j->used;
	st->log_size = j->len;
	st->txn_max_blocks = j->txn_max_blocks;
	st->cp_max_bytes = j->opts.cp_max;
	st->oldest_uncheckpointed_ns =
		j->cp_oldest_ns ? jnl_now_ns() - j->cp_oldest_ns : 0;
	st->commit_sec = j->opts.commit_sec;
}
