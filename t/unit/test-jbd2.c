// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-jbd2.c - unit tests of the JBD2 format helpers (shared/jbd2.c) and
 * of the journal reader (shared/jbd2_log.c).
 *
 * Vectors: blocks of journals that others wrote, taken from images and
 * kept here in a short form (see vec_block()):
 *  - k_*: the kernel's (6.18) ext4, csum v3, 64-bit, 1 KiB blocks: mke2fs
 *    -t ext4 on a 64 MiB file, mounted on a loop device with commit=1, 50
 *    files written, a directory made, a rename and an unlink, the image
 *    copied 3 s later while still mounted: log blocks 0 (superblock), 1
 *    (descriptor), 22 and 25 (two of its data blocks) and 26 (commit).
 *    debugfs's logdump lists the descriptor's 24 tags as K_HOMES.
 *  - d2_*: debugfs 1.47.0, csum v2: mke2fs -t ext4 -b 1024 on 16 MiB,
 *    then "jo -c -v 2", "jw -b 300 blk" (blk: "hello debugfs\n" and
 *    zeroes), "jw -r 301,302 /dev/null", "jc": log blocks 0 to 5.
 *  - d1_*: debugfs 1.47.0, the v1 commit checksum: the same with
 *    -O ^metadata_csum,^64bit, "jo -c" and the one jw -b: log blocks 0-3.
 * The checksums stored in them must be what jbd2.c computes, and the
 * reader must read them as debugfs's logdump and e2fsck do.
 *
 * The reader's decisions on damaged logs are driven with journals that
 * tj_*() below writes in memory, one branch of e2fsck's recovery per
 * check; t6020-t6040 compare whole replays with e2fsck's.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jbd2.h"
#include "jbd2_log.h"
#include "tap.h"

static const char k_jsb[] =
	"c03b399800000004 00*6 040000001000000000010000000200000001 00*11"
	" 120000000040f9dbf0e72740f59edd2a08f98bb6ae00000001 00*12 04 00*"
	"171 df62215b 00*768";
static const char k_desc[] =
	"c03b399800000001000000020000010b 00*8 48d3cbca 00*19 02000000020"
	"0000000bf6c461b0000011500000002000000006301b14600000113000000020"
	"0000000d323f384000011130000000200000000453abfa900000001000000020"
	"000000074ccab5d0000011600000002000000009e9d37a200000117000000020"
	"0000000306b9abb000001180000000200000000f3d2aade00000119000000020"
	"00000001489deb10000011a0000000200000000e5b991b40000011b000000020"
	"00000008a5a0bc50000011c00000002000000006b9b79300000011d000000020"
	"0000000ad3ded370000011e00000002000000002064744c0000011f000000020"
	"00000006314ea70000001200000000200000000c74eb74f00000121000000020"
	"0000000306bedba0000012200000002000000007067137b0000010c000000020"
	"00000001c7ad622000001040000000200000000e318407400000313000000020"
	"000000047ed81010000010300000002000000003cb3d9ef000011210000000a0"
	"00000000105dd3a 00*608 e287e40e";
static const char k_data22[] = "ff*32 03 00*991";
static const char k_data25[] =
	"010800000c0001022e000000020000000c0002022e2e00000c000000dc030201"
	"6631 00*982 0c0000de0d821c9f";
static const char k_commit[] =
	"c03b399800000002000000020000000060dea127 00*32 6b11608d1d0b353c "
	"00*964";
static const char d2_jsb[] =
	"c03b399800000004 00*6 040000000400000000010000000100000001 00*11"
	" 0b000000000940cbcdea1d400d982dc0ea3caeb23b00000001 00*12 04 00*"
	"171 71541967 00*768";
static const char d2_desc[] =
	"c03b399800000001000000010000012c15e20008 00*160 0940cbcdea1d400d"
	"982dc0ea3caeb23b 00*824 cdf98fd1";
static const char d2_data[] = "68656c6c6f20646562756766730a 00*1010";
static const char d2_commit[] =
	"c03b399800000002000000010000000066b1e47b 00*28 6b116cf4000000000"
	"a616cc8 00*964";
static const char d2_revoke[] =
	"c03b3998000000050000000200000020 00*6 012d 00*6 012e 00*988 3a9b"
	"c938";
static const char d2_commit2[] =
	"c03b39980000000200000002000000003a4d7432 00*28 6b116cf4000000000"
	"a618c08 00*964";
static const char d1_jsb[] =
	"c03b399800000004 00*6 040000000400000000010000000100000001 00*7 "
	"01 00*8 09946ab4d2f149b697380ab4da7cbbea00000001 00*956";
static const char d1_desc[] =
	"c03b399800000001000000010000012c00000008 00*88 09946ab4d2f149b69"
	"7380ab4da7cbbea 00*900";
static const char d1_data[] = "68656c6c6f20646562756766730a 00*1010";
static const char d1_commit[] =
	"c03b39980000000200000001010400009e7a87db 00*28 6b116cf4000000001"
	"3773ef0 00*964";

/* debugfs's logdump of the kernel's descriptor (k_desc), in tag order. */
static const uint64_t K_HOMES[] = {
	267, 2,	  277, 275, 4371, 1,   278, 279, 280, 281, 282, 283,
	284, 285, 286, 287, 288,  289, 290, 268, 260, 787, 259, 4385,
};
#define K_NTAGS (sizeof(K_HOMES) / sizeof(K_HOMES[0]))
#define VBS	1024u

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Decode a vector: space-separated tokens, each either hex bytes or
 * "XX*N" (byte XX, N times).  Aborts on a malformed vector or one that
 * is not @len bytes long: the vectors are part of the test.
 */
static void vec_block(const char *s, uint8_t *out, size_t len)
{
	size_t n = 0;

	while (*s) {
		int hi, lo;

		if (*s == ' ') {
			s++;
			continue;
		}
		hi = hexval(s[0]);
		lo = hexval(s[1]);
		if (hi < 0 || lo < 0)
			abort();
		s += 2;
		if (*s == '*') {
			unsigned long rep = strtoul(s + 1, (char **)&s, 10);

			if (n + rep > len)
				abort();
			memset(out + n, hi << 4 | lo, rep);
			n += rep;
			continue;
		}
		if (n >= len)
			abort();
		out[n++] = (uint8_t)(hi << 4 | lo);
	}
	if (n != len)
		abort();
}

/* --- a journal in memory ------------------------------------------------ */

struct mj {
	uint32_t bs;
	uint32_t maxlen;
	uint8_t *mem;
	int fail_lblk; /* a read of this log block fails (-1: none) */
	/* what the replay callback was given, in order */
	uint64_t homes[64];
	uint8_t first[64]; /* the first byte after the magic of each */
	uint32_t magic[64];
	unsigned int nreplay;
	/* notes */
	unsigned int notes[4];
	unsigned int bad_notes;
	uint64_t note_homes[64];
	unsigned int nnote_homes;
};

static uint8_t *mj_block(struct mj *m, uint32_t lblk)
{
	return m->mem + (size_t)lblk * m->bs;
}

static int mj_read(void *arg, uint32_t lblk, void *buf)
{
	struct mj *m = arg;

	if ((int)lblk == m->fail_lblk)
		return -EIO;
	if (lblk >= m->maxlen)
		return -EIO;
	memcpy(buf, mj_block(m, lblk), m->bs);
	return 0;
}

static int mj_replay(void *arg, uint64_t blk, const void *data)
{
	struct mj *m = arg;
	const uint8_t *d = data;

	if (m->nreplay < 64) {
		m->homes[m->nreplay] = blk;
		m->magic[m->nreplay] = jbd2_be32(d);
		m->first[m->nreplay] = d[4];
	}
	m->nreplay++;
	return 0;
}

static void mj_note(void *arg, const struct jbd2_log_note *n)
{
	struct mj *m = arg;

	m->notes[n->kind]++;
	if (n->csum == JBD2_CSUM_BAD || n->csum_v1 == JBD2_CSUM_BAD)
		m->bad_notes++;
	if (n->kind == JBD2_NOTE_DATA && m->nnote_homes < 64)
		m->note_homes[m->nnote_homes++] = n->home;
}

static const struct jbd2_log_ops mj_ops = {
	.read = mj_read,
	.replay = mj_replay,
	.note = mj_note,
};

static void mj_init(struct mj *m, uint32_t bs, uint32_t maxlen)
{
	memset(m, 0, sizeof(*m));
	m->bs = bs;
	m->maxlen = maxlen;
	m->mem = calloc(maxlen, bs);
	if (!m->mem)
		abort();
	m->fail_lblk = -1;
}

/* Run the reader over @m; returns jbd2_log_recover()'s value. */
static int mj_run(struct mj *m, uint64_t fs_blocks, unsigned int flags,
		  struct jbd2_log_result *res)
{
	struct jbd2_log_ops ops = mj_ops;
	struct jbd2_log *log;
	char why[160] = "";
	int ret;

	ops.arg = m;
	m->nreplay = 0;
	memset(m->notes, 0, sizeof(m->notes));
	m->bad_notes = 0;
	m->nnote_homes = 0;
	ret = jbd2_log_new((const struct jbd2_super *)m->mem, m->maxlen,
			   fs_blocks, m->bs, &ops, &log, why, sizeof(why));
	if (ret) {
		tap_diag("jbd2_log_new: %d: %s", ret, why);
		return ret;
	}
	ret = jbd2_log_recover(log, flags, res);
	jbd2_log_free(log);
	return ret;
}

/* --- the vectors -------------------------------------------------------- */

static void test_kernel_vectors(void)
{
	uint8_t *jsb = malloc(VBS), *desc = malloc(VBS), *commit = malloc(VBS);
	uint8_t *d22 = malloc(VBS), *d25 = malloc(VBS);
	const struct jbd2_super *sb = (const struct jbd2_super *)jsb;
	struct jbd2_log_result res;
	struct mj m;
	uint32_t seed;
	char why[160] = "";
	size_t i;

	vec_block(k_jsb, jsb, VBS);
	vec_block(k_desc, desc, VBS);
	vec_block(k_commit, commit, VBS);
	vec_block(k_data22, d22, VBS);
	vec_block(k_data25, d25, VBS);
	tap_eq_int(jbd2_super_check(sb, 4096, VBS, why, sizeof(why)), 0,
		   "kernel: the superblock passes (%s)", why);
	tap_eq_u64(jbd2_super_csum(sb), jbd2_be32(&sb->s_checksum),
		   "kernel: superblock checksum");
	tap_eq_u64(jbd2_tag_bytes(sb), 16, "kernel: csum v3 tags of 16 bytes");
	seed = jbd2_csum_seed(sb);
	tap_eq_u64(jbd2_tail_csum(seed, desc, VBS), jbd2_be32(desc + VBS - 4),
		   "kernel: descriptor tail checksum");
	tap_eq_u64(jbd2_commit_csum(seed, commit, VBS), jbd2_be32(commit + 16),
		   "kernel: commit checksum");
	/* Tag n of the descriptor describes log block n + 2; the tags after
	 * the first are 16 bytes, the first carries the UUID. */
	tap_eq_u64(jbd2_data_csum(seed, 2, d22, VBS),
		   jbd2_be32(desc + 12 + 32 + 19 * 16 + 12),
		   "kernel: data checksum of log block 22 (tag 21)");
	tap_eq_u64(jbd2_data_csum(seed, 2, d25, VBS),
		   jbd2_be32(desc + 12 + 32 + 22 * 16 + 12),
		   "kernel: data checksum of log block 25 (tag 24)");

	/* The reader over these blocks: a log of one transaction, two of
	 * whose data blocks are known; the others read as zeroes. */
	mj_init(&m, VBS, 4096);
	memcpy(mj_block(&m, 0), jsb, VBS);
	memcpy(mj_block(&m, 1), desc, VBS);
	memcpy(mj_block(&m, 22), d22, VBS);
	memcpy(mj_block(&m, 25), d25, VBS);
	memcpy(mj_block(&m, 26), commit, VBS);
	tap_eq_int(mj_run(&m, 65536, JBD2_LOG_SCAN_ONLY | JBD2_LOG_VERIFY_DATA,
			  &res),
		   0, "kernel: the reader scans the log");
	tap_eq_int(res.transactions, 1, "kernel: one transaction");
	tap_eq_int(res.start_seq, 2, "kernel: from sequence 2");
	tap_eq_int(res.next_seq, 4, "kernel: next sequence 4, as e2fsck");
	tap_eq_int(res.stop, JBD2_STOP_MAGIC, "kernel: ends at no magic");
	tap_eq_int(res.stop_block, 27, "kernel: at log block 27, as logdump");
	tap_eq_int(m.nnote_homes, K_NTAGS, "kernel: 24 tags");
	for (i = 0; i < K_NTAGS && i < m.nnote_homes; i++)
		if (m.note_homes[i] != K_HOMES[i])
			break;
	tap_eq_int(i, K_NTAGS, "kernel: every tag's home block as logdump");
	/* 22 of the 24 data blocks are zeroes here: bad checksums. */
	tap_eq_int(m.bad_notes, K_NTAGS - 2,
		   "kernel: only the two real data blocks check");
	free(m.mem);
	free(jsb);
	free(desc);
	free(commit);
	free(d22);
	free(d25);
}

static void test_debugfs_v2(void)
{
	const char *const blocks[] = {d2_jsb,	 d2_desc,   d2_data,
				      d2_commit, d2_revoke, d2_commit2};
	struct jbd2_log_result res;
	const struct jbd2_super *sb;
	uint32_t seed;
	struct mj m;
	char why[160] = "";
	size_t i;

	mj_init(&m, VBS, 1024);
	for (i = 0; i < 6; i++)
		vec_block(blocks[i], mj_block(&m, (uint32_t)i), VBS);
	sb = (const struct jbd2_super *)m.mem;
	seed = jbd2_csum_seed(sb);
	tap_eq_int(jbd2_super_check(sb, 1024, VBS, why, sizeof(why)), 0,
		   "debugfs v2: the superblock passes (%s)", why);
	tap_eq_u64(jbd2_tag_bytes(sb), 14,
		   "debugfs v2: 64-bit tags of 14 bytes");
	tap_eq_u64(jbd2_tail_csum(seed, mj_block(&m, 1), VBS),
		   jbd2_be32(mj_block(&m, 1) + VBS - 4),
		   "debugfs v2: descriptor tail checksum");
	tap_eq_u64(jbd2_data_csum(seed, 1, mj_block(&m, 2), VBS) & 0xffff,
		   jbd2_be16(mj_block(&m, 1) + 12 + 4),
		   "debugfs v2: the tag's 16-bit data checksum");
	tap_eq_u64(jbd2_commit_csum(seed, mj_block(&m, 3), VBS),
		   jbd2_be32(mj_block(&m, 3) + 16),
		   "debugfs v2: commit checksum");
	tap_eq_u64(jbd2_tail_csum(seed, mj_block(&m, 4), VBS),
		   jbd2_be32(mj_block(&m, 4) + VBS - 4),
		   "debugfs v2: revoke block tail checksum");
	tap_eq_int(mj_run(&m, 16384, 0, &res), 0, "debugfs v2: replayed");
	tap_eq_int(res.transactions, 2, "debugfs v2: two transactions");
	tap_eq_int(res.revokes, 2, "debugfs v2: two revoke records");
	tap_eq_int(m.nreplay, 1, "debugfs v2: one block written");
	tap_ok(m.nreplay == 1 && m.homes[0] == 300 && m.magic[0] == 0x68656c6c,
	       "debugfs v2: block 300 holds \"hello debugfs\"");
	tap_eq_int(res.error, 0, "debugfs v2: complete");
	free(m.mem);
}

static void test_debugfs_v1(void)
{
	const char *const blocks[] = {d1_jsb, d1_desc, d1_data, d1_commit};
	const struct jbd2_commit *c;
	struct jbd2_log_result res;
	const struct jbd2_super *sb;
	uint32_t crc;
	struct mj m;
	size_t i;

	mj_init(&m, VBS, 1024);
	for (i = 0; i < 4; i++)
		vec_block(blocks[i], mj_block(&m, (uint32_t)i), VBS);
	sb = (const struct jbd2_super *)m.mem;
	c = (const struct jbd2_commit *)mj_block(&m, 3);
	tap_ok(jbd2_has_compat(sb, JBD2_FEATURE_COMPAT_CHECKSUM),
	       "debugfs v1: COMPAT_CHECKSUM");
	tap_eq_u64(jbd2_tag_bytes(sb), 8, "debugfs v1: 32-bit tags of 8 bytes");
	crc = jbd2_v1_csum_update(~0u, mj_block(&m, 1), VBS);
	crc = jbd2_v1_csum_update(crc, mj_block(&m, 2), VBS);
	tap_eq_u64(crc, jbd2_be32(&c->h_chksum[0]),
		   "debugfs v1: crc32_be over descriptor and data");
	tap_eq_int(c->h_chksum_type, JBD2_CRC32_CHKSUM, "debugfs v1: type 1");
	tap_eq_int(mj_run(&m, 16384, 0, &res), 0, "debugfs v1: replayed");
	tap_eq_int(res.transactions, 1, "debugfs v1: one transaction");
	tap_ok(!res.failed_commit && !res.error, "debugfs v1: checksum good");
	tap_eq_int(m.nreplay, 1, "debugfs v1: one block written");
	/* A byte of the data block changed: the v1 checksum fails. */
	mj_block(&m, 2)[100] ^= 1;
	tap_eq_int(mj_run(&m, 16384, 0, &res), 0, "debugfs v1: damaged");
	tap_ok(res.failed_commit && res.failed_seq == 1 &&
		       res.transactions == 0,
	       "debugfs v1: a failed commit, nothing replayed");
	free(m.mem);
}

/* --- the in-test journal writer ------------------------------------------ */

/* A journal being written into a struct mj: the kernel's layout. */
struct tj {
	struct mj *m;
	struct jbd2_super *sb;
	uint32_t first;
	uint32_t head; /* next log block */
	uint32_t seq;  /* next transaction */
	uint32_t seed;
	uint64_t time; /* commit time of the next commit */
	/* where the last transaction went */
	uint32_t desc_lblk;
	uint32_t data_lblk;
	uint32_t revoke_lblk;
	uint32_t commit_lblk;
};

static void tj_init(struct tj *t, struct mj *m, uint32_t incompat,
		    uint32_t compat, uint32_t start, uint32_t seq)
{
	struct jbd2_super *sb = (struct jbd2_super *)m->mem;
	size_t i;

	memset(t, 0, sizeof(*t));
	t->m = m;
	t->sb = sb;
	t->first = 1;
	t->head = start;
	t->seq = seq;
	t->time = 1000;
	jbd2_put_be32(&sb->s_header.h_magic, JBD2_MAGIC);
	jbd2_put_be32(&sb->s_header.h_blocktype, JBD2_SUPERBLOCK_V2);
	jbd2_put_be32(&sb->s_blocksize, m->bs);
	jbd2_put_be32(&sb->s_maxlen, m->maxlen);
	jbd2_put_be32(&sb->s_first, 1);
	jbd2_put_be32(&sb->s_sequence, seq);
	jbd2_put_be32(&sb->s_start, start);
	jbd2_put_be32(&sb->s_feature_incompat, incompat);
	jbd2_put_be32(&sb->s_feature_compat, compat);
	jbd2_put_be32(&sb->s_nr_users, 1);
	for (i = 0; i < JBD2_UUID_SIZE; i++)
		sb->s_uuid[i] = (uint8_t)(0x11 * (i + 1));
	if (jbd2_has_csum_v2or3(sb))
		sb->s_checksum_type = JBD2_CRC32C_CHKSUM;
	t->seed = jbd2_csum_seed(sb);
}

/* Seal the superblock (its checksum) after changes. */
static void tj_seal(struct tj *t)
{
	if (jbd2_has_csum_v2or3(t->sb))
		jbd2_put_be32(&t->sb->s_checksum, jbd2_super_csum(t->sb));
}

static uint8_t *tj_next(struct tj *t, uint32_t *lblk)
{
	uint32_t last = jbd2_be32(&t->sb->s_maxlen);
	uint8_t *b;

	*lblk = t->head;
	b = mj_block(t->m, t->head);
	memset(b, 0, t->m->bs);
	if (++t->head >= last)
		t->head = t->first;
	return b;
}

static void tj_header(uint8_t *b, uint32_t type, uint32_t seq)
{
	jbd2_put_be32(b, JBD2_MAGIC);
	jbd2_put_be32(b + 4, type);
	jbd2_put_be32(b + 8, seq);
}

/* The content tj_txn() logs for block @home in transaction @seq. */
static void tj_fill(uint8_t *b, uint32_t bs, uint64_t home, uint32_t seq)
{
	memset(b, (int)(home * 7 + seq), bs);
	jbd2_put_be32(b, (uint32_t)home);
	b[4] = (uint8_t)seq;
}

/*
 * Write one transaction: a descriptor with @n tags (at most one
 * descriptor's worth), their data blocks (block @escape_home starts with
 * the magic: escaped), a revoke block of @nr records if @nr, and the
 * commit block.  The v1 checksum, v2/v3 checksums as the features say.
 */
static void tj_txn(struct tj *t, const uint64_t *homes, unsigned int n,
		   const uint64_t *revokes, unsigned int nr,
		   uint64_t escape_home)
{
	const struct jbd2_super *sb = t->sb;
	uint32_t bs = t->m->bs, v1 = ~0u, lblk;
	size_t tb = jbd2_tag_bytes(sb), pos = 12;
	bool v23 = jbd2_has_csum_v2or3(sb);
	bool v3 = jbd2_has_incompat(sb, JBD2_FEATURE_INCOMPAT_CSUM_V3);
	bool is64 = jbd2_has_incompat(sb, JBD2_FEATURE_INCOMPAT_64BIT);
	uint8_t *desc = NULL, *b;
	unsigned int i;

	t->desc_lblk = t->revoke_lblk = 0;
	if (n) {
		desc = tj_next(t, &t->desc_lblk);
		tj_header(desc, JBD2_DESCRIPTOR_BLOCK, t->seq);
	}
	for (i = 0; i < n; i++) {
		uint8_t *tag = desc + pos;
		uint32_t flags = 0, csum;

		b = tj_next(t, &lblk);
		if (i == 0)
			t->data_lblk = lblk;
		tj_fill(b, bs, homes[i], t->seq);
		if (homes[i] == escape_home) {
			jbd2_put_be32(b, 0);
			flags |= JBD2_FLAG_ESCAPE;
		}
		if (i)
			flags |= JBD2_FLAG_SAME_UUID;
		if (i == n - 1)
			flags |= JBD2_FLAG_LAST_TAG;
		jbd2_put_be32(tag, (uint32_t)homes[i]);
		if (is64)
			jbd2_put_be32(tag + 8, (uint32_t)(homes[i] >> 32));
		csum = jbd2_data_csum(t->seed, t->seq, b, bs);
		if (v3) {
			jbd2_put_be32(tag + 4, flags);
			jbd2_put_be32(tag + 12, csum);
		} else {
			jbd2_put_be16(tag + 6, (uint16_t)flags);
			if (v23)
				jbd2_put_be16(tag + 4, (uint16_t)csum);
		}
		pos += tb;
		if (!i) {
			memcpy(desc + pos, sb->s_uuid, JBD2_UUID_SIZE);
			pos += JBD2_UUID_SIZE;
		}
	}
	if (desc) {
		if (v23)
			jbd2_put_be32(desc + bs - 4,
				      jbd2_tail_csum(t->seed, desc, bs));
		v1 = jbd2_v1_csum_update(v1, desc, bs);
		for (i = 0; i < n; i++)
			v1 = jbd2_v1_csum_update(
				v1,
				mj_block(t->m, t->data_lblk + i < t->m->maxlen
						       ? t->data_lblk + i
						       : t->data_lblk + i -
								 (t->m->maxlen -
								  t->first)),
				bs);
	}
	if (nr) {
		size_t rb = jbd2_revoke_record_bytes(sb), off = 16;

		b = tj_next(t, &t->revoke_lblk);
		tj_header(b, JBD2_REVOKE_BLOCK, t->seq);
		for (i = 0; i < nr; i++, off += rb) {
			if (rb == 8)
				jbd2_put_be64(b + off, revokes[i]);
			else
				jbd2_put_be32(b + off, (uint32_t)revokes[i]);
		}
		jbd2_put_be32(b + 12, (uint32_t)off);
		if (v23)
			jbd2_put_be32(b + bs - 4,
				      jbd2_tail_csum(t->seed, b, bs));
	}
	b = tj_next(t, &t->commit_lblk);
	tj_header(b, JBD2_COMMIT_BLOCK, t->seq);
	jbd2_put_be64(b + 0x30, t->time);
	if (jbd2_has_compat(sb, JBD2_FEATURE_COMPAT_CHECKSUM)) {
		b[0x0c] = JBD2_CRC32_CHKSUM;
		b[0x0d] = JBD2_CRC32_CHKSUM_SIZE;
		jbd2_put_be32(b + 0x10, v1);
	}
	if (v23)
		jbd2_put_be32(b + 0x10, jbd2_commit_csum(t->seed, b, bs));
	t->seq++;
	t->time += 10;
}

/* Recompute the v2/v3 checksum of a metadata block after a change. */
static void tj_fix(struct tj *t, uint32_t lblk)
{
	uint8_t *b = mj_block(t->m, lblk);
	uint32_t bs = t->m->bs;

	if (jbd2_be32(b + 4) == JBD2_COMMIT_BLOCK)
		jbd2_put_be32(b + 0x10, jbd2_commit_csum(t->seed, b, bs));
	else
		jbd2_put_be32(b + bs - 4, jbd2_tail_csum(t->seed, b, bs));
}

#define V3_64                                                          \
	(JBD2_FEATURE_INCOMPAT_CSUM_V3 | JBD2_FEATURE_INCOMPAT_64BIT | \
	 JBD2_FEATURE_INCOMPAT_REVOKE)

static const uint64_t T1[] = {100, 101, 102, 200};
static const uint64_t T2[] = {103, 200};
static const uint64_t T3[] = {104, 105, 100};

/* Three transactions: T1 (100 101 102 200), T2 (103 200, revokes 101),
 * T3 (104 105 100, 105 escaped). */
static void tj_three(struct tj *t, struct mj *m, uint32_t bs, uint32_t incompat,
		     uint32_t compat, uint32_t start)
{
	static const uint64_t rev[] = {101};

	/* 64 KiB blocks: a short journal, to keep the test's memory low. */
	mj_init(m, bs, bs > 4096 ? 128 : 1024);
	tj_init(t, m, incompat, compat, start, 7);
	tj_seal(t);
	tj_txn(t, T1, 4, NULL, 0, 0);
	tj_txn(t, T2, 2, rev, 1, 0);
	tj_txn(t, T3, 3, NULL, 0, 105);
}

/* The blocks a complete replay of tj_three() writes, in order. */
static const uint64_t THREE_WRITES[] = {100, 102, 200, 103, 200, 104, 105, 100};

static bool writes_are(const struct mj *m, const uint64_t *want, unsigned int n)
{
	unsigned int i;

	if (m->nreplay != n)
		return false;
	for (i = 0; i < n; i++)
		if (m->homes[i] != want[i])
			return false;
	return true;
}

static void test_formats(void)
{
	static const struct {
		const char *name;
		uint32_t bs, incompat, compat, start;
		size_t tag_bytes;
	} f[] = {
		{"v3 64-bit 1k", 1024, V3_64, 0, 1, 16},
		{"v3 32-bit 4k", 4096,
		 JBD2_FEATURE_INCOMPAT_CSUM_V3 | JBD2_FEATURE_INCOMPAT_REVOKE,
		 0, 1, 16},
		{"v2 64-bit", 1024,
		 JBD2_FEATURE_INCOMPAT_CSUM_V2 | JBD2_FEATURE_INCOMPAT_64BIT |
			 JBD2_FEATURE_INCOMPAT_REVOKE,
		 0, 1, 14},
		{"v2 32-bit", 1024,
		 JBD2_FEATURE_INCOMPAT_CSUM_V2 | JBD2_FEATURE_INCOMPAT_REVOKE,
		 0, 1, 10},
		{"none 64-bit", 2048,
		 JBD2_FEATURE_INCOMPAT_64BIT | JBD2_FEATURE_INCOMPAT_REVOKE, 0,
		 1, 12},
		{"none 32-bit 64k", 65536, JBD2_FEATURE_INCOMPAT_REVOKE, 0, 1,
		 8},
		{"v1 32-bit", 1024, JBD2_FEATURE_INCOMPAT_REVOKE,
		 JBD2_FEATURE_COMPAT_CHECKSUM, 1, 8},
		{"v3 wrapping", 1024, V3_64, 0, 1017, 16},
		{"v1 wrapping", 1024, JBD2_FEATURE_INCOMPAT_REVOKE,
		 JBD2_FEATURE_COMPAT_CHECKSUM, 1020, 8},
	};
	struct jbd2_log_result res;
	struct tj t;
	struct mj m;
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		tj_three(&t, &m, f[i].bs, f[i].incompat, f[i].compat,
			 f[i].start);
		tap_eq_u64(jbd2_tag_bytes(t.sb), f[i].tag_bytes,
			   "%s: tag bytes", f[i].name);
		tap_eq_int(mj_run(&m, 1 << 20, 0, &res), 0, "%s: replayed",
			   f[i].name);
		tap_ok(res.transactions == 3 && res.start_seq == 7 &&
			       res.end_seq == 10 && res.next_seq == 11 &&
			       !res.error && !res.failed_commit,
		       "%s: three transactions, 7 to 9, next 11 (%u %u %u %d)",
		       f[i].name, res.transactions, res.end_seq, res.next_seq,
		       res.error);
		tap_ok(writes_are(&m, THREE_WRITES, 8),
		       "%s: written in log order, 101 revoked (%u writes)",
		       f[i].name, m.nreplay);
		tap_ok(m.nreplay == 8 && m.magic[6] == JBD2_MAGIC &&
			       m.first[6] == 9 && m.first[7] == 9,
		       "%s: escaped block restored, T3's copy of 100 last",
		       f[i].name);
		tap_eq_int(res.revoke_hits, 1, "%s: one revoke hit", f[i].name);
		free(m.mem);
	}
}

/* --- damaged logs: one branch of e2fsck's recovery each ----------------- */

static void test_damage(void)
{
	static const uint64_t far[] = {100, 5000};
	struct jbd2_log_result res;
	struct tj t;
	struct mj m;
	uint32_t lblk;

	/* A descriptor without its magic: the end of the log. */
	tj_three(&t, &m, 1024, V3_64, 0, 1);
	lblk = 1 + 6; /* T2's descriptor: T1 took blocks 1-6 */
	jbd2_put_be32(mj_block(&m, lblk), 0);
	mj_run(&m, 1 << 20, 0, &res);
	tap_ok(res.transactions == 1 && res.stop == JBD2_STOP_MAGIC &&
		       res.stop_block == lblk && m.nreplay == 4 && !res.error,
	       "no magic: T1 replayed (101 too: T2's revoke is cut off), the "
	       "log ends at T2 (%u, %d, %u)",
	       res.transactions, res.stop, res.stop_block);
	free(m.mem);

	/* A sequence gap. */
	tj_three(&t, &m, 1024, V3_64, 0, 1);
	jbd2_put_be32(mj_block(&m, 7) + 8, 99);
	tj_fix(&t, 7);
	mj_run(&m, 1 << 20, 0, &res);
	tap_ok(res.transactions == 1 && res.stop == JBD2_STOP_SEQUENCE &&
		       !res.error,
	       "a sequence gap ends the log (%u, %d)", res.transactions,
	       res.stop);
	free(m.mem);

	/* An unknown block type. */
	tj_three(&t, &m, 1024, V3_64, 0, 1);
	jbd2_put_be32(mj_block(&m, 7) + 4, 9);
	mj_run(&m, 1 << 20, 0, &res);
	tap_ok(res.transactions == 1 && res.stop == JBD2_STOP_BLOCKTYPE,
	       "an unknown block type ends the log (%u, %d)", res.transactions,
	       res.stop);
	free(m.mem);

	/* A bad commit checksum: sync, then async_commit. */
	tj_three(&t, &m, 1024, V3_64, 0, 1);
	mj_block(&m, t.commit_lblk)[0x20] ^= 1; /* T3's */
	mj_run(&m, 1 << 20, 0, &res);
	tap_ok(res.transactions == 2 && res.failed_commit &&
		       res.failed_seq == 9 && !res.error &&
		       res.stop == JBD2_STOP_COMMIT_CSUM && m.nreplay == 5,
	       "a bad commit checksum: a failed commit, T1 and T2 replayed "
	       "(%u, %d, %u)",
	       res.transactions, res.failed_commit, m.nreplay);
	free(m.mem);
	tj_three(&t, &m, 1024, V3_64 | JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT, 0,
		 1);
	mj_block(&m, 6)[0x20] ^= 1; /* T1's commit */
	mj_run(&m, 1 << 20, 0, &res);
	tap_ok(res.transactions == 0 && !res.failed_commit && !res.error &&
		       res.end_seq == 7 && res.stop == JBD2_STOP_COMMIT_CSUM,
	       "async_commit: a bad commit checksum ends the log quietly "
	       "(%u, %d)",
	       res.transactions, res.failed_commit);
	free(m.mem);

	/* A bad descriptor checksum and a newer commit: corruption. */
	tj_three(&t, &m, 1024, V3_64, 0, 1);
	mj_block(&m, 7)[100] ^= 1;
	mj_run(&m, 1 << 20, 0, &res);
	tap_ok(res.error == -EBADMSG && res.transactions == 0 &&
		       m.nreplay == 0 && res.stop == JBD2_STOP_DESC_CSUM,
	       "a bad descriptor checksum: nothing replayed, -EBADMSG (%d, "
	       "%u)",
	       res.error, m.nreplay);
	free(m.mem);

	/* The same with an older commit time: a stale tail. */
	tj_three(&t, &m, 1024, V3_64, 0, 1);
	mj_block(&m, 7)[100] ^= 1;
	jbd2_put_be64(mj_block(&m, 7 + 4) + 0x30, 5); /* T2's commit */
	tj_fix(&t, 7 + 4);
	mj_run(&m, 1 << 20, 0, &res);
	tap_ok(!res.error && res.transactions == 1 &&
		       res.stop == JBD2_STOP_STALE && m.nreplay == 4,
	       "a bad checksum and an older commit: a stale tail, T1 "
	       "replayed (%d, %u)",
	       res.error, res.transactions);
	free(m.mem);

	/* A bad revoke checksum: as a descriptor's. */
	tj_three(&t, &m, 1024, V3_64, 0, 1);
	mj_block(&m, 7 + 3)[20] ^= 1; /* T2's revoke block */
	mj_run(&m, 1 << 20, 0, &res);
	tap_ok(res.error == -EBADMSG && m.nreplay == 0,
	       "a bad revoke checksum: nothing replayed (%d)", res.error);
	free(m.mem);

	/* A revoke count past its block. */
	tj_three(&t, &m, 1024, JBD2_FEATURE_INCOMPAT_REVOKE, 0, 1);
	jbd2_put_be32(mj_block(&m, 7 + 3) + 12, 4096);
	mj_run(&m, 1 << 20, 0, &res);
	tap_ok(res.error == -EINVAL && m.nreplay == 0 && res.transactions == 0,
	       "a revoke count past the block: -EINVAL, nothing replayed "
	       "(%d)",
	       res.error);
	free(m.mem);

	/* A data block with a bad checksum: the others are written. */
	tj_three(&t, &m, 1024, V3_64, 0, 1);
	mj_block(&m, 8)[50] ^= 1; /* T2's 103 */
	mj_run(&m, 1 << 20, 0, &res);
	tap_ok(res.error == -EBADMSG && res.csum_skipped == 1 &&
		       m.nreplay == 7 && res.transactions == 3,
	       "a bad data checksum: skipped, the rest replayed, -EBADMSG "
	       "(%d, %u)",
	       res.error, m.nreplay);
	free(m.mem);

	/* A read error in the scan: the recovery fails, nothing written. */
	tj_three(&t, &m, 1024, V3_64, 0, 1);
	m.fail_lblk = 7;
	mj_run(&m, 1 << 20, 0, &res);
	tap_ok(res.error == -EIO && m.nreplay == 0 &&
		       res.stop == JBD2_STOP_READ,
	       "a read error in the scan fails the recovery (%d)", res.error);
	/* ... of a data block, read only by the replay: that block only. */
	m.fail_lblk = 8;
	mj_run(&m, 1 << 20, 0, &res);
	tap_ok(res.error == -EIO && m.nreplay == 7,
	       "a data block that cannot be read: the rest replayed (%d, %u)",
	       res.error, m.nreplay);
	free(m.mem);

	/* A block outside the filesystem ends the log before it. */
	mj_init(&m, 1024, 1024);
	tj_init(&t, &m, V3_64, 0, 1, 1);
	tj_seal(&t);
	tj_txn(&t, T1, 4, NULL, 0, 0);
	tj_txn(&t, far, 2, NULL, 0, 0);
	mj_run(&m, 4096, 0, &res);
	tap_ok(res.transactions == 1 && res.stop == JBD2_STOP_BAD_BLOCKNR &&
		       !res.error && m.nreplay == 4,
	       "block 5000 of a 4096-block filesystem: the log ends before it "
	       "(%u, %d)",
	       res.transactions, res.stop);
	free(m.mem);

	/* v1: a bad checksum, then with async_commit. */
	tj_three(&t, &m, 1024, JBD2_FEATURE_INCOMPAT_REVOKE,
		 JBD2_FEATURE_COMPAT_CHECKSUM, 1);
	mj_block(&m, 8)[50] ^= 1; /* in T2's data: its v1 checksum fails */
	mj_run(&m, 1 << 20, 0, &res);
	tap_ok(res.transactions == 1 && res.failed_commit &&
		       res.failed_seq == 8,
	       "v1: a bad checksum fails the commit (%u, %d)", res.transactions,
	       res.failed_commit);
	free(m.mem);
}

static void test_edges(void)
{
	struct jbd2_log_result res;
	struct jbd2_log *log;
	struct jbd2_super sb;
	struct tj t;
	struct mj m;
	uint64_t *many;
	char why[160] = "";
	unsigned int i;

	/* An empty log. */
	mj_init(&m, 1024, 1024);
	tj_init(&t, &m, V3_64, 0, 0, 41);
	tj_seal(&t);
	tap_eq_int(mj_run(&m, 1 << 20, 0, &res), 0, "empty: runs");
	tap_ok(res.stop == JBD2_STOP_EMPTY && res.next_seq == 42 &&
		       res.transactions == 0,
	       "empty: next sequence is s_sequence + 1 (%u)", res.next_seq);
	free(m.mem);

	/* Sequence numbers that wrap around 2^32, and revoke records of
	 * transactions on both sides of it. */
	mj_init(&m, 1024, 1024);
	tj_init(&t, &m, V3_64, 0, 1, 0xfffffffeu);
	tj_seal(&t);
	{
		static const uint64_t a[] = {300}, b[] = {301};
		static const uint64_t r[] = {300};

		tj_txn(&t, a, 1, NULL, 0, 0); /* 0xfffffffe */
		tj_txn(&t, b, 1, r, 1, 0);    /* 0xffffffff: revokes 300 */
		tj_txn(&t, a, 1, NULL, 0, 0); /* 0: 300 again */
	}
	mj_run(&m, 1 << 20, 0, &res);
	tap_ok(res.transactions == 3 && res.end_seq == 1 && m.nreplay == 2 &&
		       m.homes[0] == 301 && m.homes[1] == 300,
	       "sequences wrap: the revoke covers the older 300 only (%u, "
	       "%u)",
	       res.transactions, m.nreplay);
	free(m.mem);

	/* Many revokes: the table grows. */
	mj_init(&m, 4096, 1024);
	tj_init(&t, &m, V3_64, 0, 1, 1);
	tj_seal(&t);
	many = calloc(500, sizeof(*many));
	for (i = 0; i < 500; i++)
		many[i] = 10000 + 3 * i;
	tj_txn(&t, T1, 4, many, 500, 0);
	tj_txn(&t, many + 10, 1, NULL, 0, 0); /* logged after: written */
	mj_run(&m, 1 << 20, JBD2_LOG_SCAN_ONLY, &res);
	tap_ok(res.revokes == 500 && m.nreplay == 0,
	       "500 revokes read, nothing written in a scan (%llu)",
	       (unsigned long long)res.revokes);
	mj_run(&m, 1 << 20, 0, &res);
	tap_ok(m.nreplay == 5 && m.homes[4] == many[10],
	       "a block revoked earlier and logged later is written (%u)",
	       m.nreplay);
	free(many);

	/* The superblock after a replay, as e2fsck writes it. */
	memcpy(&sb, m.mem, sizeof(sb));
	jbd2_log_reset_super(&sb, &res);
	tap_ok(jbd2_be32(&sb.s_start) == 0 &&
		       jbd2_be32(&sb.s_sequence) == res.next_seq &&
		       !jbd2_super_check(&sb, 1024, 4096, why, sizeof(why)),
	       "reset: empty log, next sequence %u, checksum good",
	       res.next_seq);
	res.failed_commit = true;
	jbd2_log_reset_super(&sb, &res);
	tap_eq_u64(jbd2_be32(&sb.s_errno), (uint32_t)-EINVAL,
		   "reset after a failed commit: s_errno -EINVAL");
	memcpy(&sb, m.mem, sizeof(sb));
	res.error = -EBADMSG;
	jbd2_log_reset_super(&sb, &res);
	tap_ok(jbd2_be32(&sb.s_sequence) == 1 && jbd2_be32(&sb.s_errno) == 0,
	       "reset after a failed recovery: the sequence unchanged");
	free(m.mem);

	/* Descriptors whose tag counts lead round the journal: 126 tags of
	 * 8 bytes after the one at block 10 of a 128-block journal bring
	 * the walk back to block 10, for ever in e2fsck and the kernel. */
	mj_init(&m, 1024, 128);
	tj_init(&t, &m, 0, 0, 10, 1);
	tj_seal(&t);
	{
		uint8_t *d = mj_block(&m, 10);

		tj_header(d, JBD2_DESCRIPTOR_BLOCK, 1);
		for (i = 0; i < 126; i++) {
			jbd2_put_be32(d + 12 + 8 * i, 200 + i);
			jbd2_put_be16(d + 12 + 8 * i + 6, JBD2_FLAG_SAME_UUID);
		}
	}
	tap_eq_int(mj_run(&m, 1 << 20, 0, &res), 0, "a circular log: runs");
	tap_ok(res.stop == JBD2_STOP_LOOP && res.transactions == 0 &&
		       m.nreplay == 0,
	       "a circular log ends where it comes round (%d, %u)", res.stop,
	       res.transactions);
	free(m.mem);

	/* Superblocks the reader refuses. */
	mj_init(&m, 1024, 1024);
	tj_init(&t, &m, V3_64 | 0x100, 0, 1, 1);
	tj_seal(&t);
	tap_eq_int(jbd2_log_new(t.sb, 1024, 1 << 20, 1024, &mj_ops, &log, why,
				sizeof(why)),
		   -EOPNOTSUPP, "an unknown incompatible feature (%s)", why);
	tj_init(&t, &m, V3_64, JBD2_FEATURE_COMPAT_CHECKSUM, 1, 1);
	tj_seal(&t);
	tap_eq_int(jbd2_log_new(t.sb, 1024, 1 << 20, 1024, &mj_ops, &log, why,
				sizeof(why)),
		   -EUCLEAN, "checksums v1 and v3 together (%s)", why);
	tj_init(&t, &m, V3_64, 0, 1, 1);
	jbd2_put_be32(&t.sb->s_nr_users, 2);
	tj_seal(&t);
	tap_eq_int(jbd2_log_new(t.sb, 1024, 1 << 20, 1024, &mj_ops, &log, why,
				sizeof(why)),
		   -EOPNOTSUPP, "a journal shared by two filesystems (%s)",
		   why);
	tj_init(&t, &m, V3_64 | JBD2_FEATURE_INCOMPAT_FAST_COMMIT, 0, 1, 1);
	tj_seal(&t);
	tap_eq_int(jbd2_log_new(t.sb, 1024, 1 << 20, 1024, &mj_ops, &log, why,
				sizeof(why)),
		   -EUCLEAN, "no room for 256 fast-commit blocks (%s)", why);
	tj_init(&t, &m, V3_64, 0, 1, 1);
	t.sb->s_checksum = 0;
	tap_eq_int(jbd2_log_new(t.sb, 1024, 1 << 20, 1024, &mj_ops, &log, why,
				sizeof(why)),
		   -EUCLEAN, "a bad superblock checksum (%s)", why);
	free(m.mem);
}

/* Fast commits: the records a kernel's fast-commit scan would replay. */
static void fc_tlv(uint8_t *b, size_t *pos, uint16_t tag, const void *val,
		   uint16_t len)
{
	b[*pos] = (uint8_t)tag;
	b[*pos + 1] = (uint8_t)(tag >> 8);
	b[*pos + 2] = (uint8_t)len;
	b[*pos + 3] = (uint8_t)(len >> 8);
	memcpy(b + *pos + 4, val, len);
	*pos += 4u + len;
}

static void le32put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* One fast commit for transaction @tid in log block @lblk: HEAD, an INODE
 * record, TAIL (its crc32c wrong when @bad). */
static void fc_block(struct mj *m, uint32_t lblk, uint32_t tid, bool bad)
{
	uint8_t *b = mj_block(m, lblk), head[8] = {0}, inode[20] = {1};
	uint8_t tail[8];
	uint32_t crc;
	size_t pos = 0;

	memset(b, 0, m->bs);
	le32put(head + 4, tid);
	fc_tlv(b, &pos, JBD2_FC_TAG_HEAD, head, 8);
	fc_tlv(b, &pos, JBD2_FC_TAG_INODE, inode, 20);
	crc = jbd2_crc32c(0, b, pos + 8);
	le32put(tail, tid);
	le32put(tail + 4, 0);
	fc_tlv(b, &pos, JBD2_FC_TAG_TAIL, tail, 8);
	crc = jbd2_crc32c(0, b, pos - 4);
	le32put(b + pos - 4, bad ? crc ^ 1 : crc);
}

static void test_fast_commit(void)
{
	uint32_t fc = JBD2_FEATURE_INCOMPAT_FAST_COMMIT;
	struct jbd2_log_result res;
	struct tj t;
	struct mj m;

	/* 1280 blocks, 256 for fast commits: the log ends at 1024, the
	 * fast-commit area starts at 1025. */
	mj_init(&m, 1024, 1280);
	tj_init(&t, &m, V3_64 | fc, 0, 1, 5);
	tj_seal(&t);
	tj_txn(&t, T1, 4, NULL, 0, 0);
	fc_block(&m, 1025, 6, false);
	mj_run(&m, 1 << 20, 0, &res);
	tap_ok(res.transactions == 1 && res.fc_tags == 3 && res.fc_blocks == 1,
	       "fast commits of the next transaction are found (%u tags)",
	       res.fc_tags);
	fc_block(&m, 1025, 5, false);
	mj_run(&m, 1 << 20, 0, &res);
	tap_eq_int(res.fc_tags, 0,
		   "fast commits of a committed transaction "
		   "are stale");
	fc_block(&m, 1025, 6, true);
	mj_run(&m, 1 << 20, 0, &res);
	tap_eq_int(res.fc_tags, 0, "a fast commit with a bad tail counts not");

	/* The log wraps at the end of the ordinary area, not at maxlen. */
	memset(m.mem + 1024, 0, (size_t)(1280 - 1) * 1024);
	tj_init(&t, &m, V3_64 | fc, 0, 1021, 5);
	tj_seal(&t);
	t.head = 1021;
	{
		struct jbd2_super *sb = t.sb;

		/* tj_next() wraps at s_maxlen: write as if it were 1024. */
		jbd2_put_be32(&sb->s_maxlen, 1024);
		tj_txn(&t, T1, 4, NULL, 0, 0);
		jbd2_put_be32(&sb->s_maxlen, 1280);
		tj_seal(&t);
	}
	mj_run(&m, 1 << 20, 0, &res);
	tap_ok(res.transactions == 1 && m.nreplay == 4,
	       "with fast commits the log wraps at their area (%u, %s)",
	       res.transactions, res.why);
	free(m.mem);
}

int main(void)
{
	test_kernel_vectors();
	test_debugfs_v2();
	test_debugfs_v1();
	test_formats();
	test_damage();
	test_edges();
	test_fast_commit();
	return tap_done();
}
