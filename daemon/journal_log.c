// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * journal_log.c - the journal writer's disk side (journal.c has the
 * design and the ordering rules): at a commit, the flush of what
 * libext2fs keeps in memory (dirty bitmaps, group descriptors, the
 * superblock) into the running transaction; the writing of a transaction
 * to the log, revoke blocks, descriptors and tagged blocks, a flush, then
 * the commit block and a flush (R2); and the checkpoint, which writes
 * committed copies home and moves the tail only once they are durable
 * (R1, R3).  Everything here runs under fs_lock.
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

/* --- the commit's flush of what libext2fs keeps in memory --------------- */

/*
 * Group @g's bitmap block at @blk, built in j->tmp with its checksum set:
 * the group descriptor's checksum follows, and the block goes into the
 * running transaction through libext2fs's channel (the write hook).
 */
static errcode_t jnl_put_bitmap(struct journal *j, dgrp_t g, blk64_t blk)
{
	ext2_filsys fs = j->fs;

	ext2fs_group_desc_csum_set(fs, g);
	ext2fs_mark_super_dirty(fs);
	if (!blk || blk >= ext2fs_blocks_count(fs->super))
		return 0;
	return io_channel_write_blk64(fs->io, blk, 1, j->tmp);
}

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
			err = jnl_put_bitmap(j, g,
					     ext2fs_block_bitmap_loc(fs, g));
			if (err)
				break;
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
			err = jnl_put_bitmap(j, g,
					     ext2fs_inode_bitmap_loc(fs, g));
			if (err)
				break;
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
int jnl_flush_fs(struct journal *j)
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
	int ret;

	/*
	 * -o nobarrier, as the kernel's jbd2 without JBD2_BARRIER: the
	 * device is trusted to keep its writes in order (or to lose
	 * nothing), so R2 and R3 keep their order of writes but no flush
	 * makes them durable between two; unsafe across a power cut.
	 */
	if (j->opts.nobarrier)
		return 0;
	ret = jio_raw_flush(j->jio);

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
uint64_t jnl_footprint(const struct journal *j, uint64_t nblocks,
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
uint64_t jnl_estimate(const struct journal *j)
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
int jnl_write_jsb(struct journal *j)
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
int jnl_write_txn(struct journal *j, uint32_t *written)
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
int jnl_checkpoint(struct journal *j, bool empty)
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
		if (ret)
			goto out_fail;
	}
	/* Home and durable (R3): the tail may move past them. */
	jbd2_put_be32(&j->jsb->s_start, empty ? 0 : j->head);
	jbd2_put_be32(&j->jsb->s_sequence, j->tid);
	ret = jnl_write_jsb(j);
	if (!ret)
		ret = jnl_flush(j);
	if (ret)
		goto out_fail;
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

out_fail:
	/* No room (ENOSPC): the copies stay, the tail stays, a later
	 * checkpoint tries again.  Any other error fails the journal. */
	free(arr);
	if (ret != -ENOSPC)
		jnl_fail(j, ret);
	return ret;
}

int journal_checkpoint(struct journal *j)
{
	return jnl_checkpoint(j, false);
}
