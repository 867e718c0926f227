// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * journal_hook.c - the journal writer's side of libext2fs (journal.c has
 * the design and the ordering rules): the jio read and write hooks, which
 * answer reads with the newest copy of a block and take every metadata
 * write into the running transaction (R1); the inode-write callback,
 * which notes the inodes a transaction touched for fsync; and the
 * allocator callbacks, which keep the blocks a transaction freed out of
 * every allocation until it commits (R4) and revoke the freed blocks that
 * have copies in the log (R5).  Everything here runs under fs_lock.
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

int jnl_read_hook(void *arg, uint64_t blk, void *buf)
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

int jnl_write_hook(void *arg, uint64_t blk, const void *buf)
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
errcode_t jnl_write_inode_cb(ext2_filsys fs, ext2_ino_t ino,
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

void jnl_block_stats_cb(ext2_filsys fs, blk64_t blk, int inuse)
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
void jnl_block_stats_range_cb(ext2_filsys fs, blk64_t blk, blk_t num, int inuse)
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
errcode_t jnl_get_alloc_block(ext2_filsys fs, blk64_t goal, blk64_t *ret)
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
errcode_t jnl_new_range(ext2_filsys fs, int flags, blk64_t goal, blk64_t len,
			blk64_t *pblk, blk64_t *plen)
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
