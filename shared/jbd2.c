// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jbd2.c - the pure helpers of the JBD2 journal format (jbd2.h): byte
 * order, feature tests, tag sizes, the superblock check and the checksums.
 * No I/O happens here; the journal reader and writer do theirs on top.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ext2fs/ext2fs.h>

#include "jbd2.h"

uint32_t jbd2_be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

uint16_t jbd2_be16(const void *p)
{
	const uint8_t *b = p;

	return (uint16_t)(b[0] << 8 | b[1]);
}

uint64_t jbd2_be64(const void *p)
{
	const uint8_t *b = p;

	return (uint64_t)jbd2_be32(b) << 32 | jbd2_be32(b + 4);
}

void jbd2_put_be32(void *p, uint32_t v)
{
	uint8_t *b = p;

	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

void jbd2_put_be16(void *p, uint16_t v)
{
	uint8_t *b = p;

	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

void jbd2_put_be64(void *p, uint64_t v)
{
	uint8_t *b = p;

	jbd2_put_be32(b, (uint32_t)(v >> 32));
	jbd2_put_be32(b + 4, (uint32_t)v);
}

bool jbd2_has_incompat(const struct jbd2_super *sb, uint32_t mask)
{
	/* Feature words exist only in a v2 superblock. */
	if (jbd2_be32(&sb->s_header.h_blocktype) != JBD2_SUPERBLOCK_V2)
		return false;
	return (jbd2_be32(&sb->s_feature_incompat) & mask) != 0;
}

bool jbd2_has_compat(const struct jbd2_super *sb, uint32_t mask)
{
	if (jbd2_be32(&sb->s_header.h_blocktype) != JBD2_SUPERBLOCK_V2)
		return false;
	return (jbd2_be32(&sb->s_feature_compat) & mask) != 0;
}

bool jbd2_has_csum_v2or3(const struct jbd2_super *sb)
{
	return jbd2_has_incompat(sb, JBD2_FEATURE_INCOMPAT_CSUM_V2 |
					     JBD2_FEATURE_INCOMPAT_CSUM_V3);
}

size_t jbd2_tag_bytes(const struct jbd2_super *sb)
{
	size_t sz;

	if (jbd2_has_incompat(sb, JBD2_FEATURE_INCOMPAT_CSUM_V3))
		return sizeof(struct jbd2_tag3);
	sz = sizeof(struct jbd2_tag); /* with t_blocknr_high */
	/*
	 * csum_v2 adds two bytes that no field uses: the kernel's tag size
	 * grew by a u16 when the checksum went in, and the format keeps it.
	 */
	if (jbd2_has_incompat(sb, JBD2_FEATURE_INCOMPAT_CSUM_V2))
		sz += sizeof(uint16_t);
	if (!jbd2_has_incompat(sb, JBD2_FEATURE_INCOMPAT_64BIT))
		sz -= sizeof(uint32_t);
	return sz;
}

size_t jbd2_revoke_record_bytes(const struct jbd2_super *sb)
{
	return jbd2_has_incompat(sb, JBD2_FEATURE_INCOMPAT_64BIT) ? 8 : 4;
}

uint32_t jbd2_csum_seed(const struct jbd2_super *sb)
{
	return ext2fs_crc32c_le(~0u, sb->s_uuid, sizeof(sb->s_uuid));
}

uint32_t jbd2_super_csum(const struct jbd2_super *sb)
{
	struct jbd2_super copy;

	memcpy(&copy, sb, sizeof(copy));
	copy.s_checksum = 0;
	return ext2fs_crc32c_le(~0u, (const unsigned char *)&copy,
				sizeof(copy));
}

uint32_t jbd2_tail_csum(uint32_t seed, const void *block, uint32_t blocksize)
{
	static const uint8_t zero[sizeof(struct jbd2_tail)];
	uint32_t crc;

	crc = ext2fs_crc32c_le(seed, block, blocksize - sizeof(zero));
	return ext2fs_crc32c_le(crc, zero, sizeof(zero));
}

uint32_t jbd2_commit_csum(uint32_t seed, const void *block, uint32_t blocksize)
{
	const size_t at = offsetof(struct jbd2_commit, h_chksum);
	static const uint8_t zero[sizeof(uint32_t)];
	const uint8_t *b = block;
	uint32_t crc;

	crc = ext2fs_crc32c_le(seed, b, at);
	crc = ext2fs_crc32c_le(crc, zero, sizeof(zero));
	return ext2fs_crc32c_le(crc, b + at + sizeof(zero),
				blocksize - at - sizeof(zero));
}

uint32_t jbd2_data_csum(uint32_t seed, uint32_t sequence, const void *data,
			uint32_t blocksize)
{
	uint8_t seq[4];
	uint32_t crc;

	jbd2_put_be32(seq, sequence);
	crc = ext2fs_crc32c_le(seed, seq, sizeof(seq));
	return ext2fs_crc32c_le(crc, data, blocksize);
}

uint32_t jbd2_v1_csum_update(uint32_t crc, const void *block,
			     uint32_t blocksize)
{
	return ext2fs_crc32_be(crc, block, blocksize);
}

uint32_t jbd2_crc32c(uint32_t crc, const void *p, size_t len)
{
	return ext2fs_crc32c_le(crc, p, len);
}

const char *jbd2_blocktype_name(uint32_t blocktype)
{
	switch (blocktype) {
	case JBD2_DESCRIPTOR_BLOCK:
		return "descriptor";
	case JBD2_COMMIT_BLOCK:
		return "commit";
	case JBD2_SUPERBLOCK_V1:
		return "superblock-v1";
	case JBD2_SUPERBLOCK_V2:
		return "superblock-v2";
	case JBD2_REVOKE_BLOCK:
		return "revoke";
	default:
		return "unknown";
	}
}

int jbd2_super_check(const struct jbd2_super *sb, uint64_t inode_blocks,
		     uint32_t fs_blocksize, char *why, size_t why_len)
{
	uint32_t type = jbd2_be32(&sb->s_header.h_blocktype);
	uint32_t bs = jbd2_be32(&sb->s_blocksize);
	uint32_t maxlen = jbd2_be32(&sb->s_maxlen);
	uint32_t first = jbd2_be32(&sb->s_first);
	uint32_t start = jbd2_be32(&sb->s_start);
	uint32_t incompat, unknown;

	if (jbd2_be32(&sb->s_header.h_magic) != JBD2_MAGIC) {
		snprintf(why, why_len, "bad journal superblock magic 0x%08x",
			 jbd2_be32(&sb->s_header.h_magic));
		return -EUCLEAN;
	}
	if (type != JBD2_SUPERBLOCK_V1 && type != JBD2_SUPERBLOCK_V2) {
		snprintf(why, why_len, "journal superblock of unknown type %u",
			 type);
		return -EUCLEAN;
	}
	if (bs != fs_blocksize) {
		snprintf(why, why_len,
			 "journal block size %u differs from the filesystem's "
			 "%u",
			 bs, fs_blocksize);
		return -EUCLEAN;
	}
	if (maxlen < JBD2_MIN_BLOCKS / 8 || maxlen > inode_blocks) {
		snprintf(why, why_len,
			 "journal length %u blocks does not fit its inode of "
			 "%llu blocks",
			 maxlen, (unsigned long long)inode_blocks);
		return -EUCLEAN;
	}
	if (first == 0 || first >= maxlen) {
		snprintf(why, why_len,
			 "journal's first log block %u outside 1..%u", first,
			 maxlen - 1);
		return -EUCLEAN;
	}
	if (start != 0 && (start < first || start >= maxlen)) {
		snprintf(why, why_len, "journal's log start %u outside %u..%u",
			 start, first, maxlen - 1);
		return -EUCLEAN;
	}
	if (type == JBD2_SUPERBLOCK_V1)
		return 0;

	incompat = jbd2_be32(&sb->s_feature_incompat);
	unknown = incompat & ~JBD2_KNOWN_INCOMPAT;
	if (unknown) {
		snprintf(why, why_len,
			 "unknown incompatible journal features 0x%x", unknown);
		return -EOPNOTSUPP;
	}
	unknown = jbd2_be32(&sb->s_feature_ro_compat) & ~JBD2_KNOWN_ROCOMPAT;
	if (unknown) {
		snprintf(why, why_len,
			 "unknown read-only journal features 0x%x", unknown);
		return -EOPNOTSUPP;
	}
	if ((incompat & JBD2_FEATURE_INCOMPAT_CSUM_V2) &&
	    (incompat & JBD2_FEATURE_INCOMPAT_CSUM_V3)) {
		snprintf(why, why_len,
			 "journal has both checksum v2 and v3 features");
		return -EUCLEAN;
	}
	if (jbd2_has_csum_v2or3(sb)) {
		if (sb->s_checksum_type != JBD2_CRC32C_CHKSUM) {
			snprintf(why, why_len,
				 "journal checksum type %u is not crc32c",
				 sb->s_checksum_type);
			return -EOPNOTSUPP;
		}
		if (jbd2_super_csum(sb) != jbd2_be32(&sb->s_checksum)) {
			snprintf(why, why_len,
				 "journal superblock checksum 0x%08x, "
				 "computed 0x%08x",
				 jbd2_be32(&sb->s_checksum),
				 jbd2_super_csum(sb));
			return -EUCLEAN;
		}
	}
	return 0;
}
