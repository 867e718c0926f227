/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * journal_int.h - what the four files of the journal writer share
 * (journal.c, journal_hook.c, journal_log.c, journal_mount.c): the state
 * of a journal, its block table entries, and the functions one file calls
 * in another.  Not for the rest of the daemon, which uses journal.h.
 * Every function here runs with fs_lock held unless it says otherwise;
 * each is described where it is defined.
 */
#ifndef IOMAPFS_JOURNAL_INT_H
#define IOMAPFS_JOURNAL_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <ext2fs/ext2fs.h>

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

/* journal.c */
struct jblock *jb_find(const struct journal *j, uint64_t blk);
struct jblock *jb_get(struct journal *j, uint64_t blk);
void jb_maybe_free(struct journal *j, struct jblock *jb);
void jnl_dirty_group(struct journal *j, dgrp_t g, bool inode);
void jnl_fail(struct journal *j, int err);
void jnl_iset_add(struct journal *j, uint32_t ino, bool data);
void jnl_note_start(struct journal *j);
int64_t jnl_now_ns(void);
void jnl_run_append(struct journal *j, struct jblock *jb);
void jnl_run_unlink(struct journal *j, struct jblock *jb);
void *jnl_thread(void *arg);

/* journal_hook.c */
void jnl_block_stats_cb(ext2_filsys fs, blk64_t blk, int inuse);
void jnl_block_stats_range_cb(ext2_filsys fs, blk64_t blk, blk_t num,
			      int inuse);
errcode_t jnl_get_alloc_block(ext2_filsys fs, blk64_t goal, blk64_t *ret);
errcode_t jnl_new_range(ext2_filsys fs, int flags, blk64_t goal, blk64_t len,
			blk64_t *pblk, blk64_t *plen);
int jnl_read_hook(void *arg, uint64_t blk, void *buf);
int jnl_write_hook(void *arg, uint64_t blk, const void *buf);
errcode_t jnl_write_inode_cb(ext2_filsys fs, ext2_ino_t ino,
			     struct ext2_inode *inode);

/* journal_log.c */
int jnl_checkpoint(struct journal *j, bool empty);
uint64_t jnl_estimate(const struct journal *j);
int jnl_flush_fs(struct journal *j);
uint64_t jnl_footprint(const struct journal *j, uint64_t nblocks,
		       uint64_t nrevokes);
int jnl_write_jsb(struct journal *j);
int jnl_write_txn(struct journal *j, uint32_t *written);

#endif /* IOMAPFS_JOURNAL_INT_H */
