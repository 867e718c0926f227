/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jbd2_log.h - the JBD2 journal reader: the kernel's three recovery passes
 * (scan for the end of the log, collect the revoke records, replay every
 * block that no later revoke covers) over a log whose blocks come from a
 * callback, and whose replayed blocks go to another.  The daemon's replay
 * callback writes to the device (a read-write mount) or keeps the blocks
 * in memory (a read-only mount); iomapctl's lists them.  The reader does no
 * I/O of its own and knows nothing of libext2fs: jbd2_fs.h finds the
 * journal inside a filesystem and reads its blocks.
 *
 * Where the passes stop, and what they report, is what e2fsck 1.47's
 * recovery does (e2fsck/recovery.c, a copy of the kernel's
 * fs/jbd2/recovery.c), so that a replay by iomapfs and one by
 * `e2fsck -E journal_only` leave the same image, including on damaged
 * logs.  Three deliberate differences, each written at the code:
 *  - a tag naming a block outside the filesystem ends the log before its
 *    transaction (e2fsck writes it wherever it lands; the kernel fails);
 *  - with fast commits the log wraps at the end of the ordinary log area,
 *    as the kernel does since 6.5 (e2fsck 1.47 wraps at the end of the
 *    fast-commit area and so misses a wrapped log's tail);
 *  - a log that would run around the whole journal (descriptors of one
 *    transaction whose tag counts lead back to the first: e2fsck and the
 *    kernel walk it for ever) ends where it would come round.
 */
#ifndef IOMAPFS_JBD2_LOG_H
#define IOMAPFS_JBD2_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jbd2.h"

/* Why the scan pass ended (struct jbd2_log_result.stop). */
enum jbd2_log_stop {
	JBD2_STOP_EMPTY = 0,   /* s_start is 0: nothing to replay */
	JBD2_STOP_MAGIC,       /* a block without the magic: the usual end */
	JBD2_STOP_SEQUENCE,    /* a block of another transaction */
	JBD2_STOP_BLOCKTYPE,   /* a block of an unknown type */
	JBD2_STOP_COMMIT_CSUM, /* a commit block's checksum is wrong */
	JBD2_STOP_STALE,       /* a bad checksum, then an older commit time */
	JBD2_STOP_DESC_CSUM,   /* a bad descriptor or revoke checksum */
	JBD2_STOP_BAD_BLOCKNR, /* a tag names a block past the filesystem */
	JBD2_STOP_READ,	       /* a log block could not be read */
	JBD2_STOP_LOG_RANGE,   /* a log block number past the journal */
	JBD2_STOP_LOOP,	       /* the log runs around the journal */
};

/* A short name for @stop ("end of log", "commit checksum", ...). */
const char *jbd2_log_stop_name(enum jbd2_log_stop stop);

/* What jbd2_log_recover() found and did. */
struct jbd2_log_result {
	uint32_t start_seq;	 /* s_sequence: the first transaction */
	uint32_t start_block;	 /* s_start: its first log block */
	uint32_t end_seq;	 /* the first transaction not replayed */
	uint32_t transactions;	 /* end_seq - start_seq: replayed */
	uint32_t stop_block;	 /* log block where the scan ended */
	enum jbd2_log_stop stop; /* and why */
	/*
	 * 0 when the recovery is complete.  Otherwise what e2fsck's recovery
	 * returns: -EBADMSG (a checksum error: e2fsck's EFSBADCRC), -EUCLEAN
	 * (EFSCORRUPTED), -EIO (a read error, or passes that disagree),
	 * -EINVAL (a revoke block's count too large).  The blocks replayed
	 * before it are replayed, as e2fsck does; the caller marks the
	 * filesystem for a full check.
	 */
	int error;
	/*
	 * A commit block with a bad checksum ended the log (not
	 * async_commit): e2fsck records -EINVAL in the journal superblock's
	 * s_errno, which then marks the filesystem as having errors.
	 */
	bool failed_commit;
	uint32_t failed_seq;
	/* Sequence to write into the journal superblock after the replay:
	 * end_seq + 1 (the kernel skips end_seq, which may be half written),
	 * or s_sequence + 1 for an empty log. */
	uint32_t next_seq;
	uint64_t replayed;     /* blocks written home */
	uint64_t revokes;      /* revoke records read */
	uint64_t revoke_hits;  /* logged blocks not written: revoked */
	uint64_t csum_skipped; /* logged blocks not written: bad checksum */
	/*
	 * Fast commits (journal feature fast_commit): records for end_seq
	 * that the fast-commit area holds past the last full commit, which
	 * this reader does not replay.
	 */
	uint32_t fc_blocks; /* fast-commit blocks holding them */
	uint32_t fc_tags;   /* their records, up to the last good tail */
	char why[192];	    /* one line: what ended the log, for people */
};

/* How a block's checksum was found (struct jbd2_log_note.csum). */
enum jbd2_csum_state {
	JBD2_CSUM_NONE = 0, /* the journal has no checksums of that kind */
	JBD2_CSUM_GOOD,
	JBD2_CSUM_BAD,
	JBD2_CSUM_UNREAD, /* a data block that could not be read */
};

enum jbd2_note_kind {
	JBD2_NOTE_DESCRIPTOR,
	JBD2_NOTE_DATA,
	JBD2_NOTE_REVOKE,
	JBD2_NOTE_COMMIT,
};

/* One log block as the scan pass met it, for listings. */
struct jbd2_log_note {
	enum jbd2_note_kind kind;
	uint32_t lblk;	   /* its log block */
	uint32_t sequence; /* its transaction */
	enum jbd2_csum_state csum;
	/* DATA: the tag; @data is the logged copy (magic restored if
	 * escaped), or NULL when it could not be read. */
	uint64_t home;
	uint32_t tag_flags;
	const void *data;
	/* REVOKE: @nrecords block numbers of @record_bytes (4 or 8) each,
	 * big-endian, at @records (within the block's r_count). */
	uint32_t nrecords;
	uint32_t record_bytes;
	const uint8_t *records;
	/* COMMIT */
	uint64_t commit_sec;
	uint32_t commit_nsec;
	/* COMMIT: a v1 checksum (COMPAT_CHECKSUM), checked when the kernel
	 * checks it; csum above is the v2/v3 one. */
	enum jbd2_csum_state csum_v1;
};

struct jbd2_log_ops {
	/*
	 * Read log block @lblk (0 <= lblk < s_maxlen) into @buf, one journal
	 * block.  0 or a negative errno, which the passes treat as e2fsck
	 * treats a read error.
	 */
	int (*read)(void *arg, uint32_t lblk, void *buf);
	/*
	 * Write @data (one block) home to filesystem block @blk.  Called in
	 * log order, so a block logged twice is written twice and the newest
	 * copy comes last.  0 or a negative errno, which stops the replay and
	 * is returned by jbd2_log_recover().  May be NULL: nothing is written
	 * (listing).
	 */
	int (*replay)(void *arg, uint64_t blk, const void *data);
	/* Optional: each log block the scan pass meets (see
	 * JBD2_LOG_VERIFY_DATA). */
	void (*note)(void *arg, const struct jbd2_log_note *note);
	void *arg;
};

struct jbd2_log;

/*
 * A reader of the journal whose superblock is @sb (log block 0), in a
 * journal of @inode_blocks blocks (its inode's size) of a filesystem of
 * @fs_blocks blocks of @fs_blocksize bytes.  Checks the superblock as
 * e2fsck does before a replay (jbd2_super_check() and more).  Returns 0,
 * or -EUCLEAN (corrupt) / -EOPNOTSUPP (an unknown incompatible feature or
 * checksum type) / -ENOMEM, with a one-line reason in @why.
 */
int jbd2_log_new(const struct jbd2_super *sb, uint64_t inode_blocks,
		 uint64_t fs_blocks, uint32_t fs_blocksize,
		 const struct jbd2_log_ops *ops, struct jbd2_log **logp,
		 char *why, size_t why_len);
void jbd2_log_free(struct jbd2_log *log);

/* Flags of jbd2_log_recover(). */
#define JBD2_LOG_SCAN_ONLY 0x1u /* scan and revoke passes, no replay */
#define JBD2_LOG_VERIFY_DATA \
	0x2u /* read data blocks in the scan and check
				     their tags' checksums, for notes */

/*
 * Run the passes.  Returns 0 with @res filled (res->error says whether
 * e2fsck would call the recovery complete), or a negative errno when the
 * reader could not go on: -ENOMEM, or the replay callback's error.
 */
int jbd2_log_recover(struct jbd2_log *log, unsigned int flags,
		     struct jbd2_log_result *res);

/*
 * After jbd2_log_recover(): whether a later revoke record covers block
 * @blk logged in transaction @seq, so that replay skips it.
 */
bool jbd2_log_is_revoked(const struct jbd2_log *log, uint64_t blk,
			 uint32_t seq);

/* Where the ordinary log ends (s_maxlen, less the fast-commit area). */
uint32_t jbd2_log_last(const struct jbd2_log *log);

/*
 * The journal superblock to write after a replay with result @res, as
 * e2fsck writes it: s_start 0 (the log is empty), s_sequence the next
 * transaction (res->next_seq; unchanged when res->error is set, as
 * e2fsck leaves it), s_errno -EINVAL after a failed commit, and the
 * superblock checksum updated.  @sb is changed in place.
 */
void jbd2_log_reset_super(struct jbd2_super *sb,
			  const struct jbd2_log_result *res);

/* Fast-commit tags (ext4's fs/ext4/fast_commit.h), little-endian TLVs. */
enum jbd2_fc_tag {
	JBD2_FC_TAG_ADD_RANGE = 1,
	JBD2_FC_TAG_DEL_RANGE = 2,
	JBD2_FC_TAG_CREAT = 3,
	JBD2_FC_TAG_LINK = 4,
	JBD2_FC_TAG_UNLINK = 5,
	JBD2_FC_TAG_INODE = 6,
	JBD2_FC_TAG_PAD = 7,
	JBD2_FC_TAG_TAIL = 8,
	JBD2_FC_TAG_HEAD = 9,
};

#endif /* IOMAPFS_JBD2_LOG_H */
