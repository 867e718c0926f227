// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * journal_mount.c - the journal writer's life (journal.c has the design):
 * journal_open() checks the journal and maps the log, sets the features
 * the kernel sets at mount and writes the journal superblock;
 * journal_start() installs the hooks (journal_hook.c); journal_run()
 * starts the commit thread; journal_shutdown(), journal_pause() and
 * journal_resume() commit, write everything home and take the hooks off
 * or put them back; journal_halt() stops it for FS_IOC_SHUTDOWN; and the
 * statistics.  fs_lock held unless a function says otherwise.
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
