/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jbd2.h - the on-disk format of the ext3/ext4 journal (JBD2), as the
 * kernel's Documentation/filesystems/ext4/journal.rst describes it, and
 * the checksums that protect it.  Both the journal reader (replay at mount,
 * `iomapctl journal`) and the daemon's journal writer build on this file,
 * so that the two can never disagree about a byte of the format.
 *
 * Everything on disk is big-endian.  The structures below hold raw
 * on-disk words; read them with jbd2_be32()/jbd2_be64() and write them with
 * jbd2_put_be32()/jbd2_put_be64().  Block numbers inside the journal
 * ("log blocks") count from 0 at the journal superblock and are turned
 * into device blocks through the journal inode's block map.
 */
#ifndef IOMAPFS_JBD2_H
#define IOMAPFS_JBD2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JBD2_MAGIC 0xc03b3998u

/* h_blocktype */
enum jbd2_blocktype {
	JBD2_DESCRIPTOR_BLOCK = 1,
	JBD2_COMMIT_BLOCK = 2,
	JBD2_SUPERBLOCK_V1 = 3,
	JBD2_SUPERBLOCK_V2 = 4,
	JBD2_REVOKE_BLOCK = 5,
};

/* s_feature_compat */
#define JBD2_FEATURE_COMPAT_CHECKSUM 0x1u /* v1 commit checksum (crc32_be) */

/* s_feature_incompat */
#define JBD2_FEATURE_INCOMPAT_REVOKE	   0x01u
#define JBD2_FEATURE_INCOMPAT_64BIT	   0x02u
#define JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT 0x04u
#define JBD2_FEATURE_INCOMPAT_CSUM_V2	   0x08u
#define JBD2_FEATURE_INCOMPAT_CSUM_V3	   0x10u
#define JBD2_FEATURE_INCOMPAT_FAST_COMMIT  0x20u
/* Every incompatible feature this code understands. */
#define JBD2_KNOWN_INCOMPAT                                                   \
	(JBD2_FEATURE_INCOMPAT_REVOKE | JBD2_FEATURE_INCOMPAT_64BIT |         \
	 JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT | JBD2_FEATURE_INCOMPAT_CSUM_V2 | \
	 JBD2_FEATURE_INCOMPAT_CSUM_V3 | JBD2_FEATURE_INCOMPAT_FAST_COMMIT)
/* No read-only compatible feature is defined. */
#define JBD2_KNOWN_ROCOMPAT 0u

/* s_checksum_type and the commit block's h_chksum_type */
enum jbd2_csum_type {
	JBD2_CRC32_CHKSUM = 1,
	JBD2_MD5_CHKSUM = 2,
	JBD2_SHA1_CHKSUM = 3,
	JBD2_CRC32C_CHKSUM = 4,
};
#define JBD2_CRC32_CHKSUM_SIZE 4

/* Block tag flags (t_flags) */
#define JBD2_FLAG_ESCAPE    0x1u /* first 4 bytes were the magic: zeroed */
#define JBD2_FLAG_SAME_UUID 0x2u /* no 16-byte UUID follows the tag */
#define JBD2_FLAG_DELETED   0x4u /* unused by the kernel */
#define JBD2_FLAG_LAST_TAG  0x8u /* the descriptor's last tag */

#define JBD2_UUID_SIZE	    16
#define JBD2_USERS_MAX	    48
#define JBD2_SB_SIZE	    1024u /* bytes of the journal superblock */
#define JBD2_MIN_BLOCKS	    1024u /* the smallest journal mke2fs makes */
#define JBD2_CHECKSUM_WORDS 8

/* The header of every journal metadata block. */
struct jbd2_header {
	uint32_t h_magic;
	uint32_t h_blocktype;
	uint32_t h_sequence;
};

/* The journal superblock: log block 0, JBD2_SB_SIZE bytes. */
struct jbd2_super {
	struct jbd2_header s_header;  /* 0x00 */
	uint32_t s_blocksize;	      /* 0x0c: journal block size */
	uint32_t s_maxlen;	      /* 0x10: log blocks in the journal */
	uint32_t s_first;	      /* 0x14: first log block of the log */
	uint32_t s_sequence;	      /* 0x18: first transaction expected */
	uint32_t s_start;	      /* 0x1c: log block of it; 0: log empty */
	uint32_t s_errno;	      /* 0x20: an error the kernel recorded */
	uint32_t s_feature_compat;    /* 0x24 */
	uint32_t s_feature_incompat;  /* 0x28 */
	uint32_t s_feature_ro_compat; /* 0x2c */
	uint8_t s_uuid[JBD2_UUID_SIZE]; /* 0x30 */
	uint32_t s_nr_users;		/* 0x40 */
	uint32_t s_dynsuper;		/* 0x44 */
	uint32_t s_max_transaction;	/* 0x48 */
	uint32_t s_max_trans_data;	/* 0x4c */
	uint8_t s_checksum_type;	/* 0x50 */
	uint8_t s_padding2[3];		/* 0x51 */
	uint32_t s_num_fc_blks;		/* 0x54: fast-commit blocks */
	uint32_t s_head;		/* 0x58: head of the log (6.x) */
	uint32_t s_padding[40];		/* 0x5c */
	uint32_t s_checksum;		/* 0xfc: crc32c of this block */
	uint8_t s_users[JBD2_UUID_SIZE * JBD2_USERS_MAX]; /* 0x100 */
};

/* The commit block's header. */
struct jbd2_commit {
	struct jbd2_header h_header;		/* 0x00 */
	uint8_t h_chksum_type;			/* 0x0c */
	uint8_t h_chksum_size;			/* 0x0d */
	uint8_t h_padding[2];			/* 0x0e */
	uint32_t h_chksum[JBD2_CHECKSUM_WORDS]; /* 0x10 */
	uint64_t h_commit_sec;			/* 0x30 */
	uint32_t h_commit_nsec;			/* 0x38 */
} __attribute__((packed));

/* A block tag with csum_v3: 16 bytes, then the UUID unless SAME_UUID. */
struct jbd2_tag3 {
	uint32_t t_blocknr;
	uint32_t t_flags;
	uint32_t t_blocknr_high;
	uint32_t t_checksum; /* crc32c(seed, sequence, data) */
};

/*
 * A block tag without csum_v3: t_blocknr_high only with the 64bit feature,
 * t_checksum (low 16 bits of the crc32c) only meaningful with csum_v2.
 * Its size on disk is jbd2_tag_bytes(): 8 or 12 (32/64-bit), plus 2
 * unused bytes with csum_v2 (10 or 14).
 */
struct jbd2_tag {
	uint32_t t_blocknr;
	uint16_t t_checksum;
	uint16_t t_flags;
	uint32_t t_blocknr_high;
} __attribute__((packed));

/* The revoke block's header; block numbers (4 or 8 bytes) follow. */
struct jbd2_revoke_header {
	struct jbd2_header r_header;
	uint32_t r_count; /* bytes used in the block, this header included */
};

/* The last 4 bytes of descriptor and revoke blocks with csum v2/v3. */
struct jbd2_tail {
	uint32_t t_checksum;
};

_Static_assert(sizeof(struct jbd2_super) == JBD2_SB_SIZE,
	       "journal superblock is 1024 bytes");
_Static_assert(sizeof(struct jbd2_commit) == 0x3c, "commit header size");
_Static_assert(sizeof(struct jbd2_tag3) == 16, "tag3 size");
_Static_assert(sizeof(struct jbd2_tag) == 12, "tag size");

/* Big-endian accessors, for any alignment. */
uint32_t jbd2_be32(const void *p);
uint64_t jbd2_be64(const void *p);
uint16_t jbd2_be16(const void *p);
void jbd2_put_be32(void *p, uint32_t v);
void jbd2_put_be64(void *p, uint64_t v);
void jbd2_put_be16(void *p, uint16_t v);

/* Feature tests on a journal superblock. */
bool jbd2_has_incompat(const struct jbd2_super *sb, uint32_t mask);
bool jbd2_has_compat(const struct jbd2_super *sb, uint32_t mask);
/* csum_v2 or csum_v3: every metadata block carries a crc32c. */
bool jbd2_has_csum_v2or3(const struct jbd2_super *sb);

/* Bytes of one block tag without its UUID (8, 10, 12, 14 or 16). */
size_t jbd2_tag_bytes(const struct jbd2_super *sb);
/* Bytes of one block number in a revoke block (4 or 8). */
size_t jbd2_revoke_record_bytes(const struct jbd2_super *sb);

/*
 * Check a journal superblock read from log block 0 against the journal
 * inode's size (@inode_blocks log blocks) and the filesystem's block size
 * (@fs_blocksize).  On failure writes a one-line reason into @why (of
 * @why_len bytes) and returns -EUCLEAN (corrupt) or -EOPNOTSUPP (an
 * incompatible feature or checksum type this code does not know).  A
 * v2/v3 checksum that does not match is -EUCLEAN (-EBADMSG is not used
 * here: the caller decides whether a bad checksum is fatal).  Returns 0 on
 * success.
 */
int jbd2_super_check(const struct jbd2_super *sb, uint64_t inode_blocks,
		     uint32_t fs_blocksize, char *why, size_t why_len);

/*
 * Checksums.  All crc32c values are "raw" (no final inversion), seeded as
 * the kernel seeds them: the superblock's from ~0, every other block's
 * from jbd2_csum_seed() (the crc32c of the journal's UUID).
 */
uint32_t jbd2_csum_seed(const struct jbd2_super *sb);
/* The superblock's own checksum (s_checksum taken as zero). */
uint32_t jbd2_super_csum(const struct jbd2_super *sb);
/* A descriptor or revoke block's tail checksum (the tail taken as zero). */
uint32_t jbd2_tail_csum(uint32_t seed, const void *block, uint32_t blocksize);
/* A commit block's checksum (h_chksum[0] taken as zero), csum v2/v3. */
uint32_t jbd2_commit_csum(uint32_t seed, const void *block, uint32_t blocksize);
/* A logged data block's checksum for its tag: crc32c(seed, seq, data). */
uint32_t jbd2_data_csum(uint32_t seed, uint32_t sequence, const void *data,
			uint32_t blocksize);
/*
 * The v1 commit checksum (COMPAT_CHECKSUM): crc32_be over the
 * transaction's descriptor and data blocks, in log order, starting from
 * ~0; feed each block in turn with the running value.
 */
uint32_t jbd2_v1_csum_update(uint32_t crc, const void *block,
			     uint32_t blocksize);

/*
 * Raw crc32c (no final inversion) of @len bytes at @p, continuing from
 * @crc: the checksum of ext4's fast-commit records, which start from 0.
 */
uint32_t jbd2_crc32c(uint32_t crc, const void *p, size_t len);

/* A name for a block type ("descriptor", "commit", ...) or "unknown". */
const char *jbd2_blocktype_name(uint32_t blocktype);

#endif /* IOMAPFS_JBD2_H */
