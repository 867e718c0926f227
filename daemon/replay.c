// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * replay.c - the journal at mount (replay.h): decide whether the journal
 * must, may and can be replayed, replay it with the shared reader, to the
 * device or into memory, and leave the journal and the superblock as
 * `e2fsck -E journal_only` leaves them, so that the two replays of one
 * image give the same blocks.
 *
 * A read-write mount does first what e2fsck's journal step would do, and
 * only then applies the usual mount checks: a replay that hit damage
 * (e2fsck marks the filesystem for a full check) or a journal that
 * carried the kernel's error is replayed as e2fsck replays it, and the
 * mount is then refused because the filesystem says e2fsck must run.
 * Refusals that can be decided from the journal alone (an external
 * journal, an unknown feature, fast commits we cannot replay, a corrupt
 * journal superblock) come before anything is written.
 *
 * Errors of libext2fs become -errno with iomap_ext2_errno(), as in the
 * rest of fs_open(): nothing is served yet, so translate_error()'s
 * errors= policy does not apply.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ext2map.h"
#include "jbd2_fs.h"
#include "jio.h"
#include "replay.h"

/* One replayed block kept in memory (read-only mounts). */
struct replay_blk {
	uint64_t blk;
	uint8_t *data;
};

struct replay {
	enum replay_mode mode;
	bool has_journal;
	bool external;
	char where[128]; /* jbd2_fs_describe() */
	/* The journal superblock as the mount found it, and as it is on
	 * the device now (after emptying a stale log). */
	struct jbd2_super jsb;
	struct jbd2_super jsb_disk;
	bool jsb_valid;
	/* Only an error the kernel left in a journal with nothing to
	 * replay (s_errno): replay_finish() carries it into the superblock. */
	bool errno_only;
	uint64_t jsb_dev_blk; /* the device block of log block 0 */
	uint32_t blocksize;
	/* What the reader found (and did, unless REPLAY_SKIPPED). */
	struct jbd2_log_result res;
	bool res_valid;
	/* replay_finish() has the journal to empty and the flags to set. */
	bool finish;

	/* Read-only: the replayed blocks, sorted by blk once built.  While
	 * building, a hash table (open addressing) on the same array. */
	struct replay_blk *blks;
	size_t nblks;
	size_t cap;
	uint64_t bytes;
	uint64_t max_bytes;
	bool sorted;
};

/* --- the read-only block store ----------------------------------------- */

static size_t replay_slot(uint64_t blk, size_t cap)
{
	return (size_t)((blk * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

static int replay_store_grow(struct replay *rp)
{
	size_t ncap = rp->cap ? rp->cap * 2 : 1024;
	struct replay_blk *n;
	size_t i, s;

	n = calloc(ncap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (i = 0; i < rp->cap; i++) {
		if (!rp->blks[i].data)
			continue;
		s = replay_slot(rp->blks[i].blk, ncap);
		while (n[s].data)
			s = (s + 1) & (ncap - 1);
		n[s] = rp->blks[i];
	}
	free(rp->blks);
	rp->blks = n;
	rp->cap = ncap;
	return 0;
}

/*
 * The replay callback of a read-only mount: keep the newest copy of each
 * block.  Past replay_max it fails with -REPLAY_E_MEMORY, which ends the
 * replay (and the mount).
 */
static int replay_store(void *arg, uint64_t blk, const void *data)
{
	struct replay *rp = arg;
	size_t s;
	int ret;

	if ((rp->nblks + 1) * 2 > rp->cap) {
		ret = replay_store_grow(rp);
		if (ret)
			return ret;
	}
	s = replay_slot(blk, rp->cap);
	while (rp->blks[s].data && rp->blks[s].blk != blk)
		s = (s + 1) & (rp->cap - 1);
	if (!rp->blks[s].data) {
		if (rp->bytes + rp->blocksize > rp->max_bytes)
			return -REPLAY_E_MEMORY;
		rp->blks[s].data = malloc(rp->blocksize);
		if (!rp->blks[s].data)
			return -ENOMEM;
		rp->blks[s].blk = blk;
		rp->nblks++;
		rp->bytes += rp->blocksize;
	}
	memcpy(rp->blks[s].data, data, rp->blocksize);
	return 0;
}

static int replay_blk_cmp(const void *a, const void *b)
{
	const struct replay_blk *x = a, *y = b;

	return x->blk < y->blk ? -1 : x->blk > y->blk;
}

/* Turn the hash table into a sorted array, for replay_next(). */
static void replay_store_sort(struct replay *rp)
{
	size_t i, n = 0;

	for (i = 0; i < rp->cap; i++)
		if (rp->blks[i].data)
			rp->blks[n++] = rp->blks[i];
	if (n)
		qsort(rp->blks, n, sizeof(*rp->blks), replay_blk_cmp);
	rp->sorted = true;
}

/* The index of the first stored block >= @blk (nblks when none). */
static size_t replay_lower(const struct replay *rp, uint64_t blk)
{
	size_t lo = 0, hi = rp->nblks, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (rp->blks[mid].blk < blk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const void *replay_block(const struct replay *rp, uint64_t blk)
{
	size_t i;

	if (!rp || !rp->sorted || !rp->nblks)
		return NULL;
	i = replay_lower(rp, blk);
	return i < rp->nblks && rp->blks[i].blk == blk ? rp->blks[i].data
						       : NULL;
}

uint64_t replay_next(const struct replay *rp, uint64_t blk, uint64_t count)
{
	size_t i;

	if (!rp || !rp->sorted || !rp->nblks || !count)
		return UINT64_MAX;
	i = replay_lower(rp, blk);
	if (i < rp->nblks && rp->blks[i].blk - blk < count)
		return rp->blks[i].blk;
	return UINT64_MAX;
}

/*
 * The journal io_manager's hooks of a read-only mount (jio.h): every
 * block libext2fs reads comes from the replayed set when it is there, the
 * superblock and group descriptors at open included.  Such a mount never
 * writes: a write that got this far is refused.
 */
static int replay_jio_read(void *arg, uint64_t blk, void *buf)
{
	const struct replay *rp = arg;
	const void *b = replay_block(rp, blk);

	if (!b)
		return 0;
	memcpy(buf, b, rp->blocksize);
	return 1;
}

static int replay_jio_write(void *arg, uint64_t blk, const void *buf)
{
	(void)arg;
	(void)blk;
	(void)buf;
	return -EROFS;
}

io_manager replay_io_manager(const struct iomapfs *fsx)
{
	const struct replay *rp = fsx->replay;

	return rp && rp->mode == REPLAY_MEMORY ? jio_io_manager
					       : unix_io_manager;
}

/* --- writing to the device ------------------------------------------------ */

static int replay_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = pwrite(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int replay_sync(struct iomapfs *fsx)
{
	return fdatasync(fsx->dev_fd) < 0 ? -errno : 0;
}

struct replay_dev {
	struct iomapfs *fsx;
	uint64_t fs_blocks;
};

/* The replay callback of a read-write mount. */
static int replay_to_device(void *arg, uint64_t blk, const void *data)
{
	struct replay_dev *d = arg;
	/* fsx->blocksize is set by the open that follows the replay. */
	uint32_t bs = d->fsx->replay->blocksize;

	/* The reader ends the log before any such block (jbd2_log.h). */
	if (blk >= d->fs_blocks)
		return -EUCLEAN;
	return replay_pwrite(d->fsx->dev_fd, data, bs, blk * bs);
}

/* Write the journal superblock @jsb (log block 0's first bytes). */
static int replay_write_jsb(struct iomapfs *fsx, const struct jbd2_super *jsb)
{
	struct replay *rp = fsx->replay;

	return replay_pwrite(fsx->dev_fd, jsb, sizeof(*jsb),
			     rp->jsb_dev_blk * rp->blocksize);
}

/* --- the reader ----------------------------------------------------------- */

struct replay_read {
	struct jbd2_fs *j;
	struct replay *rp;
	struct replay_dev dev;
};

static int replay_read_cb(void *arg, uint32_t lblk, void *buf)
{
	struct replay_read *r = arg;

	return jbd2_fs_read(r->j, lblk, buf);
}

static int replay_replay_cb(void *arg, uint64_t blk, const void *data)
{
	struct replay_read *r = arg;

	if (r->dev.fsx)
		return replay_to_device(&r->dev, blk, data);
	return replay_store(r->rp, blk, data);
}

/* One line about what the reader found, for the mount's messages. */
static void replay_summary(const char *src, const struct jbd2_log_result *res,
			   const char *where)
{
	fprintf(stderr,
		"iomapfs: %s: replayed %u transaction%s (%u to %u, %" PRIu64
		" blocks, %" PRIu64 " revoked) %s; the log ended at log block "
		"%u: %s\n",
		src, res->transactions, res->transactions == 1 ? "" : "s",
		res->start_seq, res->end_seq - 1, res->replayed,
		res->revoke_hits, where, res->stop_block, res->why);
}

/* Messages for what e2fsck would flag after this replay. */
static void replay_warn_damage(const char *src,
			       const struct jbd2_log_result *res)
{
	if (res->error)
		fprintf(stderr,
			"iomapfs: %s: the journal is damaged (%s): replayed "
			"what e2fsck replays; the filesystem needs a full "
			"check: run e2fsck -f\n",
			src, strerror(-res->error));
	if (res->failed_commit)
		fprintf(stderr,
			"iomapfs: %s: the commit block of transaction %u is "
			"corrupt: the replay stopped before it and the "
			"filesystem is marked as having errors: run e2fsck "
			"-f\n",
			src, res->failed_seq);
	if (res->csum_skipped)
		fprintf(stderr,
			"iomapfs: %s: %" PRIu64 " logged block%s with a bad "
			"checksum not replayed\n",
			src, res->csum_skipped,
			res->csum_skipped == 1 ? "" : "s");
}

static void replay_warn_fc(const char *src, const struct jbd2_log_result *res,
			   bool left_out)
{
	fprintf(stderr,
		"iomapfs: %s: the fast-commit area holds %u record%s (in %u "
		"block%s) of transaction %u, past the last full commit; "
		"iomapfs does not replay fast commits%s\n",
		src, res->fc_tags, res->fc_tags == 1 ? "" : "s", res->fc_blocks,
		res->fc_blocks == 1 ? "" : "s", res->end_seq,
		left_out ? ": left out, so the last fsync()ed changes may be "
			   "missing from this read-only view"
			 : ": mount it with the kernel, or run e2fsck, or "
			   "mount with -o ro to see the full commits only");
}

/*
 * -o norecovery leaves a journal that needs recovery alone: say what is
 * left out (@fmt), and that the mount may show stale data.
 */
static void __attribute__((format(printf, 2, 3)))
replay_skip(struct iomapfs *fsx, const char *fmt, ...)
{
	va_list ap;

	fsx->replay->mode = REPLAY_SKIPPED;
	fprintf(stderr, "iomapfs: %s: -o norecovery: ", fsx->source);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(": what this mount shows may be stale\n", stderr);
}

/*
 * The journal wants replaying: run the reader once without writing, to
 * refuse what must be refused before anything is written, then replay.
 */
static int replay_needed(struct iomapfs *fsx, ext2_filsys tfs,
			 struct jbd2_fs *j, struct jbd2_log *log,
			 struct replay_read *rr)
{
	struct replay *rp = fsx->replay;
	struct jbd2_log_result *res = &rp->res;
	const char *src = fsx->source;
	int ret;

	ret = jbd2_log_recover(log, JBD2_LOG_SCAN_ONLY, res);
	if (ret)
		return ret;
	rp->res_valid = true;
	if (fsx->opts.norecovery) {
		replay_skip(fsx,
			    "the journal needs recovery and holds %u "
			    "transaction%s that are not replayed",
			    res->transactions,
			    res->transactions == 1 ? "" : "s");
		return 0;
	}
	if (res->fc_tags && !fsx->opts.ro) {
		replay_warn_fc(src, res, false);
		return -REPLAY_E_FASTCOMMIT;
	}

	if (!fsx->opts.ro) {
		rr->dev.fsx = fsx;
		rr->dev.fs_blocks = ext2fs_blocks_count(tfs->super);
		ret = jbd2_fs_bmap(j, 0, &rp->jsb_dev_blk);
		if (ret)
			return ret;
	} else {
		rp->max_bytes = fsx->opts.replay_max;
	}
	ret = jbd2_log_recover(log, 0, res);
	if (ret == -REPLAY_E_MEMORY) {
		fprintf(stderr,
			"iomapfs: %s: replaying the journal into memory needs "
			"more than replay_max (%" PRIu64 " bytes): mount with "
			"a larger -o replay_max, or read-write, or "
			"-o ro,norecovery to see the filesystem without the "
			"journal's changes\n",
			src, fsx->opts.replay_max);
		return ret;
	}
	if (ret) {
		fprintf(stderr, "iomapfs: %s: cannot replay the journal: %s\n",
			src, strerror(-ret));
		return ret;
	}
	if (!fsx->opts.ro) {
		/* The replayed blocks are durable before the journal that
		 * holds them is emptied (replay_finish()). */
		ret = replay_sync(fsx);
		if (ret) {
			fprintf(stderr,
				"iomapfs: %s: cannot flush the replayed "
				"blocks: %s\n",
				src, strerror(-ret));
			return ret;
		}
		rp->mode = REPLAY_DEVICE;
		replay_summary(src, res, "to the device");
	} else {
		static const struct jio_hooks hooks = {
			.read_block = replay_jio_read,
			.write_block = replay_jio_write,
		};
		struct jio_hooks h = hooks;

		replay_store_sort(rp);
		rp->mode = REPLAY_MEMORY;
		/* The open that follows reads through these. */
		h.arg = rp;
		jio_set_next_hooks(&h);
		replay_summary(
			src, res,
			"into memory (a read-only mount writes nothing)");
	}
	rp->finish = true;
	replay_warn_damage(src, res);
	if (res->fc_tags)
		replay_warn_fc(src, res, true);
	return 0;
}

/*
 * A log the superblock does not ask to replay (needs_recovery clear, s_start
 * set): the kernel ignores its transactions and empties the journal when it
 * mounts read-write (jbd2_journal_wipe()), so that no later replay writes
 * them over newer blocks.  The same here.
 */
static int replay_stale_log(struct iomapfs *fsx, struct jbd2_fs *j,
			    struct jbd2_log *log)
{
	struct replay *rp = fsx->replay;
	struct jbd2_super jsb;
	int ret;

	ret = jbd2_log_recover(log, JBD2_LOG_SCAN_ONLY, &rp->res);
	if (ret)
		return ret;
	rp->res_valid = true;
	rp->mode = REPLAY_STALE_LOG;
	fprintf(stderr,
		"iomapfs: %s: the journal holds %u transaction%s but the "
		"filesystem does not ask for recovery: ignored, as the kernel "
		"does%s\n",
		fsx->source, rp->res.transactions,
		rp->res.transactions == 1 ? "" : "s",
		fsx->opts.ro ? "" : ", and the journal emptied");
	if (fsx->opts.ro)
		return 0;
	ret = jbd2_fs_bmap(j, 0, &rp->jsb_dev_blk);
	if (ret)
		return ret;
	jsb = rp->jsb;
	/* jbd2_journal_skip_recovery(): the sequence goes on after the
	 * transactions found, even on a damaged log. */
	rp->res.error = 0;
	rp->res.failed_commit = false;
	jbd2_log_reset_super(&jsb, &rp->res);
	ret = replay_write_jsb(fsx, &jsb);
	if (!ret)
		ret = replay_sync(fsx);
	if (!ret)
		rp->jsb_disk = jsb;
	return ret;
}

int replay_prepare(struct iomapfs *fsx)
{
	struct replay_read rr = {0};
	struct jbd2_log_ops ops = {
		.read = replay_read_cb,
		.replay = replay_replay_cb,
		.arg = &rr,
	};
	const char *src = fsx->source;
	struct jbd2_log *log = NULL;
	struct jbd2_fs *j = NULL;
	struct replay *rp;
	ext2_filsys tfs;
	bool needs;
	char why[256];
	errcode_t err;
	int ret = 0;

	rp = calloc(1, sizeof(*rp));
	if (!rp)
		return -ENOMEM;
	fsx->replay = rp;
	rr.rp = rp;
	/* A handle of its own, read-only: the filesystem proper is opened
	 * after the replay, so that it reads the replayed blocks. */
	err = ext2fs_open2(src, NULL, EXT2_FLAG_64BITS, 0, 0, unix_io_manager,
			   &tfs);
	if (err)
		return 0; /* fs_open() opens it again and says why not */
	rp->blocksize = tfs->blocksize;
	needs = ext2fs_has_feature_journal_needs_recovery(tfs->super);
	if (!ext2fs_has_feature_journal(tfs->super)) {
		if (needs) {
			fprintf(stderr,
				"iomapfs: %s: needs_recovery is set but the "
				"filesystem has no journal%s\n",
				src,
				fsx->opts.ro ? "; mounting read-only anyway"
					     : ": run e2fsck first (or mount "
					       "with -o ro)");
			if (!fsx->opts.ro)
				ret = -EUCLEAN;
		}
		goto out_close;
	}
	rp->has_journal = true;
	jbd2_fs_describe(tfs, rp->where, sizeof(rp->where));

	ret = jbd2_fs_open(tfs, &j, why, sizeof(why));
	if (ret == -EXDEV) {
		rp->external = true;
		ret = 0;
		if (!needs)
			goto out_close;
		if (fsx->opts.norecovery) {
			replay_skip(fsx, "the journal on another device is "
					 "not replayed");
			goto out_close;
		}
		fprintf(stderr,
			"iomapfs: %s: the journal needs recovery and lives on "
			"another device (%s), which iomapfs cannot replay: "
			"run e2fsck (e2fsck -j DEVICE), or mount with "
			"-o ro,norecovery to see the filesystem without the "
			"journal's changes\n",
			src, rp->where);
		ret = -REPLAY_E_EXTERNAL;
		goto out_close;
	}
	if (ret == -ENOMEM)
		goto out_close;
	if (!ret) {
		memcpy(&rp->jsb, jbd2_fs_super(j), sizeof(rp->jsb));
		rp->jsb_disk = rp->jsb;
		rp->jsb_valid = true;
		rr.j = j;
		ret = jbd2_log_new(&rp->jsb, jbd2_fs_blocks(j),
				   ext2fs_blocks_count(tfs->super),
				   tfs->blocksize, &ops, &log, why,
				   sizeof(why));
	}
	if (ret == -EOPNOTSUPP && !fsx->opts.norecovery &&
	    (needs || !fsx->opts.ro)) {
		fprintf(stderr,
			"iomapfs: %s: %s: iomapfs cannot %s this journal "
			"(mount with -o ro%s)\n",
			src, why, needs ? "replay" : "keep",
			needs ? ",norecovery to see the filesystem without "
				"the journal's changes"
			      : "");
		ret = -REPLAY_E_FEATURE;
		goto out_close;
	}
	if (ret == -ENOMEM)
		goto out_close;
	if (ret) {
		if (needs && !fsx->opts.norecovery) {
			fprintf(stderr,
				"iomapfs: %s: cannot replay the journal: %s: "
				"run e2fsck (or mount with -o ro,norecovery)\n",
				src, why);
			ret = -EUCLEAN;
			goto out_close;
		}
		fprintf(stderr, "iomapfs: %s: the journal is unusable: %s%s\n",
			src, why,
			needs ? "; -o norecovery: not replayed, what this "
				"mount shows may be stale"
			      : "");
		if (needs)
			rp->mode = REPLAY_SKIPPED;
		ret = 0;
		goto out_close;
	}

	if (needs)
		ret = replay_needed(fsx, tfs, j, log, &rr);
	else if (jbd2_be32(&rp->jsb.s_start))
		ret = replay_stale_log(fsx, j, log);
	if (!ret && !needs && jbd2_be32(&rp->jsb.s_errno)) {
		/* The kernel aborted the journal and recorded why: e2fsck
		 * and the kernel's next mount carry it into the superblock
		 * as recorded errors, and clear it. */
		fprintf(stderr,
			"iomapfs: %s: the journal holds an error the kernel "
			"recorded (errno %d): the filesystem is marked as "
			"having errors\n",
			src, (int32_t)jbd2_be32(&rp->jsb.s_errno));
		rp->errno_only = true;
		rp->finish = true;
		if (!fsx->opts.ro)
			ret = jbd2_fs_bmap(j, 0, &rp->jsb_dev_blk);
	}

out_close:
	jbd2_log_free(log);
	jbd2_fs_close(j);
	ext2fs_close_free(&tfs);
	return ret;
}

/* --- after the open ------------------------------------------------------- */

/* The kernel's free counts at mount: the sums of the group descriptors. */
static void replay_recount(ext2_filsys fs)
{
	uint64_t blocks = 0, inodes = 0;
	dgrp_t g;

	for (g = 0; g < fs->group_desc_count; g++) {
		blocks += ext2fs_bg_free_blocks_count(fs, g);
		inodes += ext2fs_bg_free_inodes_count(fs, g);
	}
	ext2fs_free_blocks_count_set(fs->super, EXT2FS_C2B(fs, blocks));
	fs->super->s_free_inodes_count = (uint32_t)inodes;
}

static int replay_flush(struct iomapfs *fsx, const char *what)
{
	errcode_t err;
	int ret;

	ext2fs_mark_super_dirty(fsx->fs);
	err = ext2fs_flush2(fsx->fs, 0);
	ret = err ? iomap_ext2_errno(err) : replay_sync(fsx);
	if (ret)
		fprintf(stderr, "iomapfs: %s: cannot write %s: %s\n",
			fsx->source, what, strerror(-ret));
	return ret;
}

int replay_finish(struct iomapfs *fsx)
{
	struct replay *rp = fsx->replay;
	struct ext2_super_block *sb = fsx->fs->super;
	struct jbd2_super jsb;
	bool flags;
	int ret;

	if (!rp || !rp->finish)
		return 0;
	rp->finish = false;
	if (rp->errno_only) {
		sb->s_state |= EXT2_ERROR_FS;
		if (fsx->opts.ro)
			return 0;
		/* The mark first, then the journal's copy is cleared, as
		 * e2fsck does: a crash in between marks again. */
		ret = replay_flush(fsx, "the superblock's error state");
		if (ret)
			return ret;
		jsb = rp->jsb_disk;
		jbd2_put_be32(&jsb.s_errno, 0);
		if (jbd2_has_csum_v2or3(&jsb))
			jbd2_put_be32(&jsb.s_checksum, jbd2_super_csum(&jsb));
		ret = replay_write_jsb(fsx, &jsb);
		return ret ? ret : replay_sync(fsx);
	}
	/* A read-write mount with the journal finishes them itself
	 * (inode_free_orphans()). */
	if ((fsx->opts.ro || fsx->opts.journal_off) &&
	    (sb->s_last_orphan || ext2fs_has_feature_orphan_present(sb)))
		fprintf(stderr,
			"iomapfs: %s: note: the filesystem lists orphan inodes "
			"(files deleted or truncated while still open when it "
			"went down): iomapfs leaves them to the kernel's next "
			"mount or to e2fsck, which release them\n",
			fsx->source);
	/*
	 * e2fsck's marks first: a recovery that failed needs a full check,
	 * and a failed commit or an error the kernel left in the journal
	 * (s_errno) becomes EXT2_ERROR_FS.  Written before the journal is
	 * emptied: a crash in between replays again and marks again, never
	 * loses the mark.
	 */
	flags = rp->res.error || rp->res.failed_commit ||
		jbd2_be32(&rp->jsb.s_errno);
	if (rp->res.error)
		sb->s_state &= ~EXT2_VALID_FS;
	if (rp->res.failed_commit || jbd2_be32(&rp->jsb.s_errno))
		sb->s_state |= EXT2_ERROR_FS;
	if (rp->mode == REPLAY_MEMORY) {
		/* The same view, in memory only: never written. */
		ext2fs_clear_feature_journal_needs_recovery(sb);
		replay_recount(fsx->fs);
		return 0;
	}
	if (flags) {
		ret = replay_flush(fsx, "the superblock's error state");
		if (ret)
			return ret;
	}

	/* Empty the journal: its blocks are home and durable. */
	jsb = rp->jsb;
	jbd2_log_reset_super(&jsb, &rp->res);
	/* Carried into the filesystem above, as e2fsck does after a
	 * replay. */
	jbd2_put_be32(&jsb.s_errno, 0);
	if (jbd2_has_csum_v2or3(&jsb))
		jbd2_put_be32(&jsb.s_checksum, jbd2_super_csum(&jsb));
	ret = replay_write_jsb(fsx, &jsb);
	if (!ret)
		ret = replay_sync(fsx);
	if (ret) {
		fprintf(stderr,
			"iomapfs: %s: cannot write the journal superblock: "
			"%s\n",
			fsx->source, strerror(-ret));
		return ret;
	}

	/* Last, as e2fsck: a crash before this finds an empty journal. */
	ext2fs_clear_feature_journal_needs_recovery(sb);
	replay_recount(fsx->fs);
	return replay_flush(fsx, "the superblock");
}

void replay_free(struct iomapfs *fsx)
{
	struct replay *rp = fsx->replay;
	size_t i, n;

	if (!rp)
		return;
	n = rp->sorted ? rp->nblks : rp->cap;
	for (i = 0; i < n; i++)
		free(rp->blks[i].data);
	free(rp->blks);
	free(rp);
	fsx->replay = NULL;
}

/* --- for GetJournal ------------------------------------------------------- */

static const char *replay_mode_name(enum replay_mode mode)
{
	switch (mode) {
	case REPLAY_NONE:
		return "none";
	case REPLAY_DEVICE:
		return "device";
	case REPLAY_MEMORY:
		return "memory";
	case REPLAY_SKIPPED:
		return "skipped";
	case REPLAY_STALE_LOG:
		return "ignored";
	}
	return "none";
}

json_t *replay_describe(const struct iomapfs *fsx)
{
	const struct replay *rp = fsx->replay;
	const struct jbd2_log_result *res = rp ? &rp->res : NULL;
	json_t *o, *r;

	o = json_pack("{s:s, s:b, s:s, s:s}", "journal",
		      !rp || !rp->has_journal ? "none"
		      : rp->external	      ? "external"
					      : "internal",
		      "written", 0, "where", rp ? rp->where : "none", "replay",
		      replay_mode_name(rp ? rp->mode : REPLAY_NONE));
	if (!o || !rp || !rp->jsb_valid)
		return o;
	if (json_object_set_new(
		    o, "superblock",
		    json_pack(
			    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			    "block_size",
			    (json_int_t)jbd2_be32(&rp->jsb.s_blocksize),
			    "blocks", (json_int_t)jbd2_be32(&rp->jsb.s_maxlen),
			    "first", (json_int_t)jbd2_be32(&rp->jsb.s_first),
			    "sequence",
			    (json_int_t)jbd2_be32(&rp->jsb.s_sequence), "start",
			    (json_int_t)jbd2_be32(&rp->jsb.s_start),
			    "feature_compat",
			    (json_int_t)jbd2_be32(&rp->jsb.s_feature_compat),
			    "feature_incompat",
			    (json_int_t)jbd2_be32(&rp->jsb.s_feature_incompat),
			    "errno",
			    (json_int_t)(int32_t)jbd2_be32(
				    &rp->jsb.s_errno)))) {
		json_decref(o);
		return NULL;
	}
	if (!rp->res_valid)
		return o;
	r = json_pack("{s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:I, s:b, s:I, "
		      "s:I}",
		      "transactions", (json_int_t)res->transactions,
		      "first_sequence", (json_int_t)res->start_seq,
		      "end_sequence", (json_int_t)res->end_seq, "blocks",
		      (json_int_t)res->replayed, "revoked",
		      (json_int_t)res->revoke_hits, "stop",
		      jbd2_log_stop_name(res->stop), "why", res->why,
		      "stop_block", (json_int_t)res->stop_block, "complete",
		      res->error == 0 && !res->failed_commit, "memory_bytes",
		      (json_int_t)rp->bytes, "fast_commit_records",
		      (json_int_t)res->fc_tags);
	if (!r || json_object_set_new(o, "mount_replay", r)) {
		json_decref(o);
		return NULL;
	}
	return o;
}
