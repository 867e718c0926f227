// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jbd2_log.c - the journal reader of jbd2_log.h: the scan, revoke and
 * replay passes over a JBD2 log, the revoke table, the check of a
 * fast-commit area, and the journal superblock written after a replay.
 *
 * The passes follow e2fsck 1.47's e2fsck/recovery.c (the kernel's
 * fs/jbd2/recovery.c) decision for decision; each place where a damaged
 * log can end the walk says what the two programs do there.  Log block
 * numbers are 32-bit (s_maxlen is), filesystem block numbers 64-bit.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jbd2_log.h"

/* The size of a revoke block's header: the block header and r_count. */
#define JBD2_REVOKE_HDR_BYTES 16u
/* The smallest log e2fsck accepts besides a fast-commit area. */
#define JBD2_MIN_LOG_BLOCKS 1024u
/* Fast-commit blocks when s_num_fc_blks is 0 (the kernel's default). */
#define JBD2_DEFAULT_FC_BLOCKS 256u
/* Fast-commit features this reader knows (none are defined). */
#define JBD2_FC_KNOWN_FEATURES 0u
/* Bytes of a fast-commit TLV header, and of the values we look into. */
#define JBD2_FC_TL_BYTES	4u
#define JBD2_FC_HEAD_BYTES	8u
#define JBD2_FC_TAIL_BYTES	8u
#define JBD2_FC_ADD_RANGE_BYTES 16u

enum jbd2_pass {
	JBD2_PASS_SCAN,
	JBD2_PASS_REVOKE,
	JBD2_PASS_REPLAY,
};

/* One revoke record: the newest transaction that revoked @blk. */
struct jbd2_revoke {
	uint64_t blk;
	uint32_t seq;
	bool used;
};

struct jbd2_log {
	struct jbd2_super sb;
	const struct jbd2_log_ops *ops;
	uint32_t blocksize;
	uint32_t maxlen; /* log blocks that may be read: 0..maxlen-1 */
	uint32_t first;	 /* the log area is [first, last) */
	uint32_t last;
	uint32_t fc_first; /* the fast-commit area, when fc */
	uint64_t fs_blocks;
	size_t tag_bytes;
	uint32_t seed;
	bool csum_v2or3;
	bool csum_v3;
	bool csum_v1;
	bool is64;
	bool async;
	bool fc;

	uint8_t *buf;  /* the block the pass looks at */
	uint8_t *dbuf; /* a data block */

	/* The revoke table: open addressing, a power of two in size. */
	struct jbd2_revoke *revokes;
	size_t revoke_cap;
	size_t revoke_count;

	/* Filled by the scan pass, used by the others. */
	uint32_t end_seq;
	bool end_set;
	bool stop_set; /* res->stop is final */
	/* A reader failure (not the log's): -ENOMEM, or the replay
	 * callback's error.  Ends the passes. */
	int fatal;
	unsigned int flags;
	struct jbd2_log_result *res;
};

/* tid_gt() and tid_geq() of the kernel: sequence numbers wrap around. */
static bool jbd2_tid_gt(uint32_t x, uint32_t y)
{
	return (int32_t)(x - y) > 0;
}

static bool jbd2_tid_geq(uint32_t x, uint32_t y)
{
	return (int32_t)(x - y) >= 0;
}

static uint16_t jbd2_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t jbd2_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

const char *jbd2_log_stop_name(enum jbd2_log_stop stop)
{
	switch (stop) {
	case JBD2_STOP_EMPTY:
		return "empty log";
	case JBD2_STOP_MAGIC:
		return "end of log";
	case JBD2_STOP_SEQUENCE:
		return "sequence gap";
	case JBD2_STOP_BLOCKTYPE:
		return "unknown block type";
	case JBD2_STOP_COMMIT_CSUM:
		return "commit checksum";
	case JBD2_STOP_STALE:
		return "stale transaction";
	case JBD2_STOP_DESC_CSUM:
		return "descriptor checksum";
	case JBD2_STOP_BAD_BLOCKNR:
		return "block outside filesystem";
	case JBD2_STOP_READ:
		return "read error";
	case JBD2_STOP_LOG_RANGE:
		return "log block out of range";
	case JBD2_STOP_LOOP:
		return "log runs around";
	}
	return "unknown";
}

uint32_t jbd2_log_last(const struct jbd2_log *log)
{
	return log->last;
}

/* --- the revoke table ------------------------------------------------- */

static size_t jbd2_revoke_slot(uint64_t blk, size_t cap)
{
	/* Fibonacci hashing: block numbers often differ in low bits only. */
	return (size_t)((blk * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

static int jbd2_revoke_grow(struct jbd2_log *log)
{
	size_t ncap = log->revoke_cap ? log->revoke_cap * 2 : 256;
	struct jbd2_revoke *n;
	size_t i, s;

	n = calloc(ncap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (i = 0; i < log->revoke_cap; i++) {
		if (!log->revokes[i].used)
			continue;
		s = jbd2_revoke_slot(log->revokes[i].blk, ncap);
		while (n[s].used)
			s = (s + 1) & (ncap - 1);
		n[s] = log->revokes[i];
	}
	free(log->revokes);
	log->revokes = n;
	log->revoke_cap = ncap;
	return 0;
}

/* Record that transaction @seq revoked @blk; the newest revoke counts. */
static int jbd2_revoke_set(struct jbd2_log *log, uint64_t blk, uint32_t seq)
{
	size_t s;
	int ret;

	/* Keep the table at most half full, so probes stay short. */
	if ((log->revoke_count + 1) * 2 > log->revoke_cap) {
		ret = jbd2_revoke_grow(log);
		if (ret)
			return ret;
	}
	s = jbd2_revoke_slot(blk, log->revoke_cap);
	while (log->revokes[s].used) {
		if (log->revokes[s].blk == blk) {
			if (jbd2_tid_gt(seq, log->revokes[s].seq))
				log->revokes[s].seq = seq;
			return 0;
		}
		s = (s + 1) & (log->revoke_cap - 1);
	}
	log->revokes[s].used = true;
	log->revokes[s].blk = blk;
	log->revokes[s].seq = seq;
	log->revoke_count++;
	return 0;
}

bool jbd2_log_is_revoked(const struct jbd2_log *log, uint64_t blk, uint32_t seq)
{
	size_t s;

	if (!log->revoke_cap)
		return false;
	s = jbd2_revoke_slot(blk, log->revoke_cap);
	while (log->revokes[s].used) {
		/* A revoke covers its own transaction and every older one. */
		if (log->revokes[s].blk == blk)
			return !jbd2_tid_gt(seq, log->revokes[s].seq);
		s = (s + 1) & (log->revoke_cap - 1);
	}
	return false;
}

/* --- set-up ----------------------------------------------------------- */

int jbd2_log_new(const struct jbd2_super *sb, uint64_t inode_blocks,
		 uint64_t fs_blocks, uint32_t fs_blocksize,
		 const struct jbd2_log_ops *ops, struct jbd2_log **logp,
		 char *why, size_t why_len)
{
	struct jbd2_log *log;
	uint32_t num_fc;
	int ret;

	ret = jbd2_super_check(sb, inode_blocks, fs_blocksize, why, why_len);
	if (ret)
		return ret;
	if (jbd2_be32(&sb->s_header.h_blocktype) == JBD2_SUPERBLOCK_V2 &&
	    jbd2_be32(&sb->s_nr_users) > 1) {
		/* e2fsck: EXT2_ET_JOURNAL_UNSUPP_VERSION. */
		snprintf(why, why_len,
			 "the journal is shared by %u filesystems",
			 jbd2_be32(&sb->s_nr_users));
		return -EOPNOTSUPP;
	}
	if (jbd2_has_csum_v2or3(sb) &&
	    jbd2_has_compat(sb, JBD2_FEATURE_COMPAT_CHECKSUM)) {
		snprintf(why, why_len,
			 "journal has both checksum v1 and v%d features",
			 jbd2_has_incompat(sb, JBD2_FEATURE_INCOMPAT_CSUM_V3)
				 ? 3
				 : 2);
		return -EUCLEAN;
	}

	log = calloc(1, sizeof(*log));
	if (!log)
		return -ENOMEM;
	memcpy(&log->sb, sb, sizeof(log->sb));
	log->ops = ops;
	log->blocksize = jbd2_be32(&sb->s_blocksize);
	log->maxlen = jbd2_be32(&sb->s_maxlen);
	log->first = jbd2_be32(&sb->s_first);
	log->last = log->maxlen;
	log->fs_blocks = fs_blocks;
	log->tag_bytes = jbd2_tag_bytes(sb);
	log->csum_v2or3 = jbd2_has_csum_v2or3(sb);
	log->csum_v3 = jbd2_has_incompat(sb, JBD2_FEATURE_INCOMPAT_CSUM_V3);
	log->csum_v1 = jbd2_has_compat(sb, JBD2_FEATURE_COMPAT_CHECKSUM);
	log->is64 = jbd2_has_incompat(sb, JBD2_FEATURE_INCOMPAT_64BIT);
	log->async = jbd2_has_incompat(sb, JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT);
	log->fc = jbd2_has_incompat(sb, JBD2_FEATURE_INCOMPAT_FAST_COMMIT);
	log->seed = jbd2_csum_seed(sb);
	if (log->fc) {
		num_fc = jbd2_be32(&sb->s_num_fc_blks);
		if (!num_fc)
			num_fc = JBD2_DEFAULT_FC_BLOCKS;
		/* e2fsck's "incorrect fast commit blocks". */
		if (num_fc >= log->maxlen ||
		    log->maxlen - num_fc < JBD2_MIN_LOG_BLOCKS) {
			snprintf(why, why_len,
				 "journal of %u blocks cannot hold %u "
				 "fast-commit blocks",
				 log->maxlen, num_fc);
			free(log);
			return -EUCLEAN;
		}
		/* As the kernel: the block at last belongs to neither. */
		log->last = log->maxlen - num_fc;
		log->fc_first = log->last + 1;
		if (log->first >= log->last) {
			snprintf(why, why_len,
				 "journal's first log block %u is in its "
				 "fast-commit area",
				 log->first);
			free(log);
			return -EUCLEAN;
		}
	}
	if (jbd2_be32(&sb->s_start) >= log->last) {
		snprintf(why, why_len, "journal's log start %u outside %u..%u",
			 jbd2_be32(&sb->s_start), log->first, log->last - 1);
		free(log);
		return -EUCLEAN;
	}
	log->buf = malloc(log->blocksize);
	log->dbuf = malloc(log->blocksize);
	if (!log->buf || !log->dbuf) {
		jbd2_log_free(log);
		return -ENOMEM;
	}
	*logp = log;
	return 0;
}

void jbd2_log_free(struct jbd2_log *log)
{
	if (!log)
		return;
	free(log->buf);
	free(log->dbuf);
	free(log->revokes);
	free(log);
}

/* --- reading the log -------------------------------------------------- */

/* Move @blk back to the start of the log when it ran past its end. */
static uint32_t jbd2_wrap(const struct jbd2_log *log, uint64_t blk)
{
	/*
	 * Wrap at the end of the ordinary log even with fast commits: the
	 * kernel's writer wraps there, and its reader does since 6.5
	 * ("jbd2: correct the end of the journal recovery scan range").
	 * e2fsck 1.47 still wraps at the end of the fast-commit area.
	 * One subtraction, as the kernel: a count of tags larger than the
	 * log leaves a block number that jbd2_read() refuses.
	 */
	if (blk >= log->last)
		blk -= log->last - log->first;
	return blk > UINT32_MAX ? UINT32_MAX : (uint32_t)blk;
}

/* e2fsck's jread(): a block past the journal is corruption. */
static int jbd2_read(struct jbd2_log *log, uint32_t lblk, void *buf)
{
	if (lblk >= log->maxlen)
		return -EUCLEAN;
	return log->ops->read(log->ops->arg, lblk, buf);
}

static void jbd2_note(struct jbd2_log *log, const struct jbd2_log_note *n)
{
	if (log->ops->note)
		log->ops->note(log->ops->arg, n);
}

/* The tail checksum of a descriptor or revoke block (true without one). */
static bool jbd2_tail_ok(const struct jbd2_log *log, const uint8_t *b)
{
	if (!log->csum_v2or3)
		return true;
	return jbd2_tail_csum(log->seed, b, log->blocksize) ==
	       jbd2_be32(b + log->blocksize - sizeof(struct jbd2_tail));
}

static bool jbd2_commit_ok(const struct jbd2_log *log, const uint8_t *b)
{
	if (!log->csum_v2or3)
		return true;
	return jbd2_commit_csum(log->seed, b, log->blocksize) ==
	       jbd2_be32(b + offsetof(struct jbd2_commit, h_chksum));
}

/* The checksum in a tag of a logged (still escaped) block. */
static bool jbd2_tag_csum_ok(const struct jbd2_log *log, const uint8_t *tag,
			     const void *data, uint32_t seq)
{
	uint32_t csum;

	if (!log->csum_v2or3)
		return true;
	csum = jbd2_data_csum(log->seed, seq, data, log->blocksize);
	if (log->csum_v3)
		return jbd2_be32(tag + offsetof(struct jbd2_tag3,
						t_checksum)) == csum;
	return jbd2_be16(tag + offsetof(struct jbd2_tag, t_checksum)) ==
	       (uint16_t)csum;
}

/*
 * Tags of a descriptor block: the loop of the kernel's count_tags() and
 * of its replay pass, which agree on where the tags end.  t_flags sits
 * at byte 6 (the low half of tag3's 32-bit t_flags) in every layout.
 */
struct jbd2_tag_iter {
	const uint8_t *block;
	size_t pos;
	size_t end;
	bool done;
};

static void jbd2_tags_begin(const struct jbd2_log *log, const uint8_t *block,
			    struct jbd2_tag_iter *it)
{
	it->block = block;
	it->pos = sizeof(struct jbd2_header);
	it->end = log->blocksize;
	if (log->csum_v2or3)
		it->end -= sizeof(struct jbd2_tail);
	it->done = false;
}

/* The next tag, or NULL; sets *flags and *home. */
static const uint8_t *jbd2_tags_next(const struct jbd2_log *log,
				     struct jbd2_tag_iter *it, uint32_t *flags,
				     uint64_t *home)
{
	const uint8_t *tag;

	if (it->done || it->pos + log->tag_bytes > it->end)
		return NULL;
	tag = it->block + it->pos;
	*flags = jbd2_be16(tag + offsetof(struct jbd2_tag, t_flags));
	*home = jbd2_be32(tag);
	if (log->is64)
		*home |= (uint64_t)jbd2_be32(tag + offsetof(struct jbd2_tag,
							    t_blocknr_high))
			 << 32;
	it->pos += log->tag_bytes;
	if (!(*flags & JBD2_FLAG_SAME_UUID))
		it->pos += JBD2_UUID_SIZE;
	if (*flags & JBD2_FLAG_LAST_TAG)
		it->done = true;
	return tag;
}

static uint32_t jbd2_count_tags(const struct jbd2_log *log,
				const uint8_t *block)
{
	struct jbd2_tag_iter it;
	uint32_t n = 0, flags;
	uint64_t home;

	jbd2_tags_begin(log, block, &it);
	while (jbd2_tags_next(log, &it, &flags, &home))
		n++;
	return n;
}

/*
 * iomapfs's own check, in the scan pass: the first tag of @block that
 * names a block outside the filesystem, or 0 when all are inside.  Such a
 * transaction is damage; e2fsck would write it past the end of the
 * filesystem (an image file grows) and the kernel's write fails.
 */
static uint64_t jbd2_bad_home(const struct jbd2_log *log, const uint8_t *block)
{
	struct jbd2_tag_iter it;
	uint32_t flags;
	uint64_t home;

	jbd2_tags_begin(log, block, &it);
	while (jbd2_tags_next(log, &it, &flags, &home))
		if (home >= log->fs_blocks)
			return home ? home : UINT64_MAX;
	return 0;
}

/*
 * The scan pass with the v1 checksum: fold the descriptor and the blocks
 * it describes into *crc, moving *next past them.  Returns 0, or the read
 * error that ends the scan (the kernel's calc_chksums()).
 */
static int jbd2_calc_v1(struct jbd2_log *log, const uint8_t *desc,
			uint32_t *next, uint32_t *crc)
{
	uint32_t i, n = jbd2_count_tags(log, desc);
	uint32_t lblk;
	int ret;

	*crc = jbd2_v1_csum_update(*crc, desc, log->blocksize);
	for (i = 0; i < n; i++) {
		lblk = *next;
		*next = jbd2_wrap(log, (uint64_t)*next + 1);
		ret = jbd2_read(log, lblk, log->dbuf);
		if (ret)
			return ret;
		*crc = jbd2_v1_csum_update(*crc, log->dbuf, log->blocksize);
	}
	return 0;
}

/* A note of @kind about log block @lblk of transaction @seq, whose v2/v3
 * checksum is @ok. */
static void jbd2_note_init(const struct jbd2_log *log, struct jbd2_log_note *n,
			   enum jbd2_note_kind kind, uint32_t lblk,
			   uint32_t seq, bool ok)
{
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->lblk = lblk;
	n->sequence = seq;
	n->csum = !log->csum_v2or3 ? JBD2_CSUM_NONE
		  : ok		   ? JBD2_CSUM_GOOD
				   : JBD2_CSUM_BAD;
}

/*
 * For listings (JBD2_LOG_VERIFY_DATA): read each block a descriptor
 * describes, check its tag's checksum and note it.  Changes nothing the
 * passes decide.
 */
static void jbd2_note_data(struct jbd2_log *log, const uint8_t *desc,
			   uint32_t first_lblk, uint32_t seq)
{
	struct jbd2_tag_iter it;
	struct jbd2_log_note n;
	const uint8_t *tag;
	uint32_t lblk = first_lblk, flags;
	uint64_t home;

	jbd2_tags_begin(log, desc, &it);
	while ((tag = jbd2_tags_next(log, &it, &flags, &home))) {
		jbd2_note_init(log, &n, JBD2_NOTE_DATA, lblk, seq, false);
		n.home = home;
		n.tag_flags = flags;
		n.csum = log->csum_v2or3 ? JBD2_CSUM_UNREAD : JBD2_CSUM_NONE;
		if ((log->flags & JBD2_LOG_VERIFY_DATA) &&
		    !jbd2_read(log, lblk, log->dbuf)) {
			if (log->csum_v2or3)
				n.csum = jbd2_tag_csum_ok(log, tag, log->dbuf,
							  seq)
						 ? JBD2_CSUM_GOOD
						 : JBD2_CSUM_BAD;
			if (flags & JBD2_FLAG_ESCAPE)
				jbd2_put_be32(log->dbuf, JBD2_MAGIC);
			n.data = log->dbuf;
		}
		jbd2_note(log, &n);
		lblk = jbd2_wrap(log, (uint64_t)lblk + 1);
	}
}

/*
 * The replay pass over one descriptor: write home every block it
 * describes that no revoke covers and whose checksum holds.  As the
 * kernel, a read error or a bad checksum skips that block only; the
 * pass goes on and reports the error at its end (*status, *block_error).
 */
static void jbd2_replay_desc(struct jbd2_log *log, const uint8_t *desc,
			     uint32_t *next, uint32_t seq, int *status,
			     bool *block_error)
{
	struct jbd2_log_result *res = log->res;
	struct jbd2_tag_iter it;
	const uint8_t *tag;
	uint32_t lblk, flags;
	uint64_t home;
	int ret;

	jbd2_tags_begin(log, desc, &it);
	while ((tag = jbd2_tags_next(log, &it, &flags, &home))) {
		lblk = *next;
		*next = jbd2_wrap(log, (uint64_t)*next + 1);
		ret = jbd2_read(log, lblk, log->dbuf);
		if (ret) {
			*status = ret;
			continue;
		}
		if (jbd2_log_is_revoked(log, home, seq)) {
			res->revoke_hits++;
			continue;
		}
		if (!jbd2_tag_csum_ok(log, tag, log->dbuf, seq)) {
			/* e2fsck: "Invalid checksum recovering data
			 * block": skipped, and the recovery fails. */
			*status = -EBADMSG;
			*block_error = true;
			res->csum_skipped++;
			continue;
		}
		if (flags & JBD2_FLAG_ESCAPE)
			jbd2_put_be32(log->dbuf, JBD2_MAGIC);
		if (log->ops->replay) {
			ret = log->ops->replay(log->ops->arg, home, log->dbuf);
			if (ret) {
				log->fatal = ret;
				return;
			}
		}
		res->replayed++;
	}
}

/* The revoke pass over one revoke block (the kernel's
 * scan_revoke_records()). */
static int jbd2_scan_revokes(struct jbd2_log *log, const uint8_t *b,
			     uint32_t seq)
{
	uint32_t rcount =
		jbd2_be32(b + offsetof(struct jbd2_revoke_header, r_count));
	size_t rec = jbd2_revoke_record_bytes(&log->sb);
	size_t off = JBD2_REVOKE_HDR_BYTES;
	size_t limit = log->blocksize;
	uint64_t blk;
	int ret;

	if (log->csum_v2or3)
		limit -= sizeof(struct jbd2_tail);
	if (rcount > limit)
		return -EINVAL;
	while (off + rec <= rcount) {
		blk = rec == 4 ? jbd2_be32(b + off) : jbd2_be64(b + off);
		off += rec;
		ret = jbd2_revoke_set(log, blk, seq);
		if (ret) {
			log->fatal = ret;
			return 0;
		}
		log->res->revokes++;
	}
	return 0;
}

static void jbd2_note_revoke(struct jbd2_log *log, const uint8_t *b,
			     uint32_t lblk, uint32_t seq, bool csum_ok)
{
	uint32_t rcount =
		jbd2_be32(b + offsetof(struct jbd2_revoke_header, r_count));
	size_t rec = jbd2_revoke_record_bytes(&log->sb);
	struct jbd2_log_note n;

	jbd2_note_init(log, &n, JBD2_NOTE_REVOKE, lblk, seq, csum_ok);
	n.record_bytes = (uint32_t)rec;
	n.records = b + JBD2_REVOKE_HDR_BYTES;
	if (rcount > log->blocksize)
		rcount = log->blocksize;
	if (rcount > JBD2_REVOKE_HDR_BYTES)
		n.nrecords = (uint32_t)((rcount - JBD2_REVOKE_HDR_BYTES) / rec);
	jbd2_note(log, &n);
}

/*
 * Record where and why the scan ended.  The first reason wins (the scan
 * may go on past a bad commit, to the end of the log), unless @force: a
 * failure of the whole recovery is always the reason.
 */
static void jbd2_stop(struct jbd2_log *log, bool force, enum jbd2_log_stop stop,
		      uint32_t lblk, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void jbd2_stop(struct jbd2_log *log, bool force, enum jbd2_log_stop stop,
		      uint32_t lblk, const char *fmt, ...)
{
	struct jbd2_log_result *res = log->res;
	va_list ap;

	if (log->stop_set && !force)
		return;
	log->stop_set = true;
	res->stop = stop;
	res->stop_block = lblk;
	va_start(ap, fmt);
	vsnprintf(res->why, sizeof(res->why), fmt, ap);
	va_end(ap);
}

static void jbd2_note_desc(struct jbd2_log *log, uint32_t lblk, uint32_t seq,
			   bool ok)
{
	struct jbd2_log_note n;

	jbd2_note_init(log, &n, JBD2_NOTE_DESCRIPTOR, lblk, seq, ok);
	jbd2_note(log, &n);
}

static void jbd2_note_commit(struct jbd2_log *log, const uint8_t *b,
			     uint32_t lblk, bool v2ok, bool v1checked,
			     bool v1ok)
{
	const struct jbd2_commit *cb = (const struct jbd2_commit *)b;
	struct jbd2_log_note n;

	jbd2_note_init(log, &n, JBD2_NOTE_COMMIT, lblk,
		       jbd2_be32(&cb->h_header.h_sequence), v2ok);
	n.commit_sec = jbd2_be64(&cb->h_commit_sec);
	n.commit_nsec = jbd2_be32(&cb->h_commit_nsec);
	n.csum_v1 = !v1checked ? JBD2_CSUM_NONE
		    : v1ok     ? JBD2_CSUM_GOOD
			       : JBD2_CSUM_BAD;
	jbd2_note(log, &n);
}

/*
 * One pass over the log (the kernel's do_one_pass()).  Returns the pass's
 * status as e2fsck's recovery sees it: 0, or a negative errno that fails
 * the recovery.  A reader failure is left in log->fatal.
 *
 * Where the kernel's code says "break" inside its switch, the walk goes
 * on at the next block with the same expected sequence (which normally
 * ends it there, at a block of the next transaction): the same here, with
 * "continue".
 */
static int jbd2_pass(struct jbd2_log *log, enum jbd2_pass pass)
{
	uint32_t next_seq = jbd2_be32(&log->sb.s_sequence);
	uint32_t next = jbd2_be32(&log->sb.s_start);
	uint32_t crc = ~0u, lblk, seq, type;
	uint64_t commit_time, last_commit_time = 0, bad;
	bool need_check_commit_time = false, block_error = false;
	bool scan = pass == JBD2_PASS_SCAN;
	bool ok, v1ok, v1checked;
	int status = 0, ret;
	uint8_t *b = log->buf;
	/*
	 * Log blocks the pass has moved over.  A log is shorter than the log
	 * area (the kernel never lets it reach its own tail), so a walk
	 * longer than that goes round in a circle: descriptors of one
	 * transaction whose tag counts add up to the log area.  The kernel
	 * and e2fsck would walk it for ever; the log ends here.
	 */
	uint64_t walked = 0;

	for (;;) {
		if (!scan && jbd2_tid_geq(next_seq, log->end_seq))
			break;
		if (walked >= log->last - log->first) {
			if (scan) {
				jbd2_stop(log, false, JBD2_STOP_LOOP, next,
					  "transaction %u runs around the "
					  "whole journal: the end of the log",
					  next_seq);
				goto done;
			}
			/* The scan ended the log before this. */
			break;
		}
		walked++;
		lblk = next;
		ret = jbd2_read(log, lblk, b);
		if (ret) {
			/* e2fsck fails the whole recovery here. */
			if (scan)
				jbd2_stop(log, true,
					  ret == -EUCLEAN ? JBD2_STOP_LOG_RANGE
							  : JBD2_STOP_READ,
					  lblk,
					  "cannot read log block %u of "
					  "transaction %u: %s",
					  lblk, next_seq, strerror(-ret));
			return ret;
		}
		next = jbd2_wrap(log, (uint64_t)next + 1);

		if (jbd2_be32(b) != JBD2_MAGIC) {
			if (scan)
				jbd2_stop(log, false, JBD2_STOP_MAGIC, lblk,
					  "log block %u holds no journal "
					  "block: the end of the log",
					  lblk);
			break;
		}
		type = jbd2_be32(b + offsetof(struct jbd2_header, h_blocktype));
		seq = jbd2_be32(b + offsetof(struct jbd2_header, h_sequence));
		if (seq != next_seq) {
			if (scan)
				jbd2_stop(log, false, JBD2_STOP_SEQUENCE, lblk,
					  "log block %u belongs to transaction "
					  "%u, not %u: the end of the log",
					  lblk, seq, next_seq);
			break;
		}

		switch (type) {
		case JBD2_DESCRIPTOR_BLOCK:
			ok = jbd2_tail_ok(log, b);
			if (!ok) {
				/* The scan may meet a stale block left by an
				 * older use of the log: the commit time
				 * decides (below).  Any other pass has seen
				 * it pass the scan: corruption. */
				if (!scan)
					return -EBADMSG;
				need_check_commit_time = true;
			}
			if (scan) {
				jbd2_note_desc(log, lblk, seq, ok);
				if (log->ops->note)
					jbd2_note_data(log, b, next, seq);
				/* Only where e2fsck would replay the
				 * transaction if it were complete. */
				bad = ok && !need_check_commit_time &&
						      !log->end_set
					      ? jbd2_bad_home(log, b)
					      : 0;
				if (bad) {
					jbd2_stop(log, false,
						  JBD2_STOP_BAD_BLOCKNR, lblk,
						  "transaction %u logs block "
						  "%llu, outside the "
						  "filesystem's %llu blocks",
						  seq, (unsigned long long)bad,
						  (unsigned long long)
							  log->fs_blocks);
					goto done;
				}
			}
			walked += jbd2_count_tags(log, b);
			if (pass == JBD2_PASS_REPLAY) {
				jbd2_replay_desc(log, b, &next, seq, &status,
						 &block_error);
				if (log->fatal)
					return 0;
				continue;
			}
			if (scan && log->csum_v1 && !need_check_commit_time &&
			    !log->end_set) {
				ret = jbd2_calc_v1(log, b, &next, &crc);
				if (ret)
					jbd2_stop(log, false, JBD2_STOP_READ,
						  lblk,
						  "cannot read a block of "
						  "transaction %u: %s",
						  seq, strerror(-ret));
				continue;
			}
			next = jbd2_wrap(log, (uint64_t)next +
						      jbd2_count_tags(log, b));
			continue;

		case JBD2_COMMIT_BLOCK:
			commit_time = jbd2_be64(
				b + offsetof(struct jbd2_commit, h_commit_sec));
			ok = jbd2_commit_ok(log, b);
			v1checked = scan && log->csum_v1 && !log->end_set;
			v1ok = true;
			if (v1checked) {
				const struct jbd2_commit *cb =
					(const struct jbd2_commit *)b;
				uint32_t found = jbd2_be32(&cb->h_chksum[0]);

				v1ok = (crc == found &&
					cb->h_chksum_type ==
						JBD2_CRC32_CHKSUM &&
					cb->h_chksum_size ==
						JBD2_CRC32_CHKSUM_SIZE) ||
				       (cb->h_chksum_type == 0 &&
					cb->h_chksum_size == 0 && found == 0);
			}
			if (scan)
				jbd2_note_commit(log, b, lblk, ok, v1checked,
						 v1ok);
			/*
			 * A bad descriptor or revoke checksum came first.  A
			 * commit at least as new as the last one means this
			 * log is ours and corrupt: e2fsck and the kernel
			 * give up, replaying nothing.  An older one is the
			 * stale tail of an earlier log: the log ends here.
			 */
			if (need_check_commit_time) {
				if (commit_time >= last_commit_time) {
					jbd2_stop(log, true,
						  JBD2_STOP_DESC_CSUM, lblk,
						  "transaction %u has a "
						  "descriptor or revoke block "
						  "with a bad checksum",
						  seq);
					return -EBADMSG;
				}
				jbd2_stop(log, false, JBD2_STOP_STALE, lblk,
					  "transaction %u has a bad checksum "
					  "and an older commit time: the "
					  "stale tail of an earlier log",
					  seq);
				goto done;
			}
			if (scan && log->csum_v1) {
				if (log->end_set) {
					/* v1 and async_commit: a commit after
					 * a bad one makes it a failed one. */
					log->res->failed_commit = true;
					log->res->failed_seq = log->end_seq;
					continue;
				}
				if (!v1ok)
					goto chksum_error;
				crc = ~0u;
			}
			if (scan && !ok) {
			chksum_error:
				if (commit_time < last_commit_time) {
					jbd2_stop(log, false, JBD2_STOP_STALE,
						  lblk,
						  "transaction %u has a bad "
						  "commit checksum and an "
						  "older commit time: the "
						  "stale tail of an earlier "
						  "log",
						  seq);
					goto done;
				}
				jbd2_stop(log, false, JBD2_STOP_COMMIT_CSUM,
					  lblk,
					  "the commit block of transaction %u "
					  "has a bad checksum",
					  seq);
				log->end_seq = next_seq;
				log->end_set = true;
				/* With async_commit the commit block may
				 * have been written before its data: the
				 * log ends here quietly.  Without, the
				 * transaction is corrupt. */
				if (!log->async) {
					log->res->failed_commit = true;
					log->res->failed_seq = next_seq;
					continue;
				}
			}
			if (scan)
				last_commit_time = commit_time;
			next_seq++;
			continue;

		case JBD2_REVOKE_BLOCK:
			ok = jbd2_tail_ok(log, b);
			if (scan) {
				if (!ok)
					need_check_commit_time = true;
				jbd2_note_revoke(log, b, lblk, seq, ok);
			}
			if (pass != JBD2_PASS_REVOKE)
				continue;
			ret = jbd2_scan_revokes(log, b, seq);
			if (ret || log->fatal)
				return ret;
			continue;

		default:
			if (scan)
				jbd2_stop(log, false, JBD2_STOP_BLOCKTYPE, lblk,
					  "log block %u of transaction %u has "
					  "the unknown type %u",
					  lblk, seq, type);
			goto done;
		}
	}
done:
	if (scan) {
		if (!log->end_set) {
			log->end_seq = next_seq;
			log->end_set = true;
		}
	} else if (log->end_seq != next_seq) {
		/* The passes disagree: e2fsck reports it as an I/O error. */
		if (!status)
			status = -EIO;
	}
	if (block_error && !status)
		status = -EIO;
	return status;
}

/* --- fast commits ----------------------------------------------------- */

/*
 * What the kernel's fast-commit scan (ext4_fc_replay_scan()) would replay
 * after the full commits: the records of the blocks from fc_first on,
 * for transaction @expected, up to the last tail whose checksum holds.
 * Sets res->fc_blocks and res->fc_tags (0 when there are none).
 */
static void jbd2_fc_scan(struct jbd2_log *log, uint32_t expected)
{
	uint32_t crc = 0, tags = 0, good_tags = 0, good_blocks = 0;
	uint32_t lblk, off, tag, len;
	uint8_t *b = log->buf;
	size_t cur, bs = log->blocksize;

	for (lblk = log->fc_first; lblk < log->maxlen; lblk++) {
		off = lblk - log->fc_first;
		if (jbd2_read(log, lblk, b))
			break;
		if (off == 0 && jbd2_le16(b) != JBD2_FC_TAG_HEAD)
			break;
		for (cur = 0; cur + JBD2_FC_TL_BYTES <= bs;
		     cur += JBD2_FC_TL_BYTES + len) {
			const uint8_t *val = b + cur + JBD2_FC_TL_BYTES;

			tag = jbd2_le16(b + cur);
			len = jbd2_le16(b + cur + 2);
			if (cur + JBD2_FC_TL_BYTES + len > bs)
				goto out;
			switch (tag) {
			case JBD2_FC_TAG_ADD_RANGE:
				if (len < JBD2_FC_ADD_RANGE_BYTES)
					goto out;
				/* fall through */
			case JBD2_FC_TAG_DEL_RANGE:
			case JBD2_FC_TAG_LINK:
			case JBD2_FC_TAG_UNLINK:
			case JBD2_FC_TAG_CREAT:
			case JBD2_FC_TAG_INODE:
			case JBD2_FC_TAG_PAD:
				tags++;
				crc = jbd2_crc32c(crc, b + cur,
						  JBD2_FC_TL_BYTES + len);
				break;
			case JBD2_FC_TAG_TAIL:
				if (len < JBD2_FC_TAIL_BYTES)
					goto out;
				tags++;
				crc = jbd2_crc32c(crc, b + cur,
						  JBD2_FC_TL_BYTES + 4);
				if (jbd2_le32(val) != expected ||
				    jbd2_le32(val + 4) != crc)
					goto out;
				good_tags = tags;
				good_blocks = off + 1;
				crc = 0;
				break;
			case JBD2_FC_TAG_HEAD:
				if (len < JBD2_FC_HEAD_BYTES ||
				    (jbd2_le32(val) &
				     ~JBD2_FC_KNOWN_FEATURES) ||
				    jbd2_le32(val + 4) != expected)
					goto out;
				tags++;
				crc = jbd2_crc32c(crc, b + cur,
						  JBD2_FC_TL_BYTES + len);
				break;
			default:
				goto out;
			}
		}
	}
out:
	log->res->fc_blocks = good_blocks;
	log->res->fc_tags = good_tags;
}

/* --- the recovery ----------------------------------------------------- */

int jbd2_log_recover(struct jbd2_log *log, unsigned int flags,
		     struct jbd2_log_result *res)
{
	uint32_t start = jbd2_be32(&log->sb.s_start);
	bool replays;
	int ret;

	memset(res, 0, sizeof(*res));
	log->res = res;
	log->flags = flags;
	log->fatal = 0;
	log->end_set = false;
	log->stop_set = false;
	log->revoke_count = 0;
	if (log->revokes)
		memset(log->revokes, 0,
		       log->revoke_cap * sizeof(*log->revokes));
	res->start_seq = jbd2_be32(&log->sb.s_sequence);
	res->start_block = start;
	if (!start) {
		/* s_start is 0 exactly when the journal was emptied
		 * cleanly: the kernel and e2fsck start the next sequence. */
		res->end_seq = res->start_seq;
		res->next_seq = res->start_seq + 1;
		res->stop = JBD2_STOP_EMPTY;
		snprintf(res->why, sizeof(res->why),
			 "the log is empty (s_start is 0)");
		return 0;
	}

	ret = jbd2_pass(log, JBD2_PASS_SCAN);
	if (!ret && !log->fatal)
		ret = jbd2_pass(log, JBD2_PASS_REVOKE);
	/* What a replay pass would write, or did: none when an earlier
	 * pass failed the recovery. */
	replays = !ret && !log->fatal;
	if (replays && !(flags & JBD2_LOG_SCAN_ONLY))
		ret = jbd2_pass(log, JBD2_PASS_REPLAY);
	if (log->fatal)
		return log->fatal;
	res->error = ret;
	if (!log->end_set)
		log->end_seq = res->start_seq;
	res->end_seq = log->end_seq;
	res->transactions = replays ? log->end_seq - res->start_seq : 0;
	res->next_seq = log->end_seq + 1;
	if (log->fc && !ret)
		jbd2_fc_scan(log, log->end_seq);
	return 0;
}

void jbd2_log_reset_super(struct jbd2_super *sb,
			  const struct jbd2_log_result *res)
{
	/* e2fsck_journal_release(): on a failed recovery the sequence is
	 * left as it was; only the log is declared empty. */
	if (!res->error)
		jbd2_put_be32(&sb->s_sequence, res->next_seq);
	jbd2_put_be32(&sb->s_start, 0);
	if (!res->error && res->failed_commit)
		jbd2_put_be32(&sb->s_errno, (uint32_t)-EINVAL);
	if (jbd2_has_csum_v2or3(sb))
		jbd2_put_be32(&sb->s_checksum, jbd2_super_csum(sb));
}
