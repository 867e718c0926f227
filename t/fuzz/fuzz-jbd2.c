// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz-jbd2.c - fuzz harness for the journal reader (shared/jbd2_log.h)
 * over byte-mutated journals.  The input is a journal:
 *   bytes 0-7   a header: byte 0 flags (bit 0: notes, with the data blocks
 *               read and checked, as iomapctl journal asks; bit 1: make
 *               the read of log block byte 1 fail), byte 1 that block,
 *               bytes 2-5 the filesystem's block count (little-endian; 0
 *               means 2^20), bytes 6-7 unused;
 *   then        log block 0 (the journal superblock) and the blocks after
 *               it, of the block size the superblock names.  Log blocks
 *               past the end of the input read as zeroes, up to s_maxlen
 *               (at most FUZZ_MAX_LOG blocks are offered).
 * The seed corpus (t/fuzz/make-jbd2-corpus) holds the beginnings of
 * journals that debugfs and the kernel wrote, whole and damaged.
 * Checked for every input: jbd2_log_new() refuses or accepts with a
 * negative errno and a reason; a scan-only run and a replaying run end
 * the log at the same place, with the same verdict of the scan; the
 * replay never writes a block outside the filesystem, and writes what it
 * says it wrote; a replay refused by an earlier pass writes nothing;
 * the superblock written after the replay passes jbd2_super_check().
 * A crash, a hang (-timeout), a leak or a sanitizer report is a bug.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "jbd2_log.h"

#define FUZZ_HDR     8u
#define FUZZ_MAX_LOG (1u << 16)

struct fz {
	const uint8_t *log; /* the journal: block 0 on */
	size_t len;
	uint32_t bs;
	int fail_lblk;
	uint64_t fs_blocks;
	uint64_t writes;
	uint8_t sink;
	unsigned long notes;
};

static int fz_read(void *arg, uint32_t lblk, void *buf)
{
	struct fz *f = arg;
	uint64_t off = (uint64_t)lblk * f->bs;

	if ((int)lblk == f->fail_lblk)
		return -EIO;
	memset(buf, 0, f->bs);
	if (off < f->len)
		memcpy(buf, f->log + off,
		       f->len - off < f->bs ? f->len - off : f->bs);
	return 0;
}

static int fz_replay(void *arg, uint64_t blk, const void *data)
{
	struct fz *f = arg;
	const uint8_t *d = data;

	FUZZ_ASSERT(blk < f->fs_blocks,
		    "replay of block %llu outside the %llu-block filesystem",
		    (unsigned long long)blk, (unsigned long long)f->fs_blocks);
	/* Touch the whole block: the sanitizers check it is all there. */
	f->sink ^= d[0] ^ d[f->bs - 1];
	f->writes++;
	return 0;
}

static void fz_note(void *arg, const struct jbd2_log_note *n)
{
	struct fz *f = arg;
	uint32_t i;

	f->notes++;
	if (n->kind == JBD2_NOTE_DATA && n->data)
		f->sink ^= ((const uint8_t *)n->data)[f->bs - 1];
	for (i = 0; i < n->nrecords; i++)
		f->sink ^= n->records[(size_t)i * n->record_bytes];
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jbd2_log_ops ops = {.read = fz_read};
	struct jbd2_log_result scan, full;
	struct jbd2_super sb;
	struct jbd2_log *log;
	struct fz f = {0};
	uint32_t bs, maxlen;
	char why[256];
	unsigned int flags = 0;
	int ret;

	if (size < FUZZ_HDR + sizeof(sb))
		return 0;
	f.log = data + FUZZ_HDR;
	f.len = size - FUZZ_HDR;
	f.fail_lblk = (data[0] & 2) ? data[1] : -1;
	f.fs_blocks = (uint64_t)data[2] | (uint64_t)data[3] << 8 |
		      (uint64_t)data[4] << 16 | (uint64_t)data[5] << 24;
	if (!f.fs_blocks)
		f.fs_blocks = 1u << 20;
	memcpy(&sb, f.log, sizeof(sb));
	bs = jbd2_be32(&sb.s_blocksize);
	/* The filesystem's block size: the superblock's when it is one. */
	if (bs < 1024 || bs > 65536 || (bs & (bs - 1)))
		bs = 1024;
	f.bs = bs;
	maxlen = jbd2_be32(&sb.s_maxlen);
	if (maxlen > FUZZ_MAX_LOG)
		maxlen = FUZZ_MAX_LOG;
	ops.arg = &f;
	if (data[0] & 1) {
		ops.note = fz_note;
		flags |= JBD2_LOG_VERIFY_DATA;
	}
	why[0] = '\0';
	ret = jbd2_log_new(&sb, maxlen ? maxlen : 1, f.fs_blocks, bs, &ops,
			   &log, why, sizeof(why));
	if (ret) {
		FUZZ_ASSERT(ret < 0 && why[0],
			    "jbd2_log_new: %d without a "
			    "reason",
			    ret);
		return 0;
	}

	ret = jbd2_log_recover(log, flags | JBD2_LOG_SCAN_ONLY, &scan);
	FUZZ_ASSERT(ret == 0 || ret == -ENOMEM, "scan failed: %d", ret);
	FUZZ_ASSERT(f.writes == 0, "a scan wrote %llu blocks",
		    (unsigned long long)f.writes);
	ops.replay = fz_replay;
	ret = jbd2_log_recover(log, flags, &full);
	FUZZ_ASSERT(ret == 0 || ret == -ENOMEM, "replay failed: %d", ret);
	if (!ret) {
		FUZZ_ASSERT(f.writes == full.replayed, "%llu writes, %llu said",
			    (unsigned long long)f.writes,
			    (unsigned long long)full.replayed);
		/* The daemon decides from a scan-only run and then replays:
		 * both must find the same log. */
		FUZZ_ASSERT(scan.end_seq == full.end_seq &&
				    scan.stop == full.stop &&
				    scan.stop_block == full.stop_block &&
				    scan.failed_commit == full.failed_commit &&
				    scan.fc_tags == full.fc_tags,
			    "scan-only and replay disagree: end %u/%u, stop "
			    "%d/%d at %u/%u",
			    scan.end_seq, full.end_seq, scan.stop, full.stop,
			    scan.stop_block, full.stop_block);
		FUZZ_ASSERT(!scan.error || scan.error == full.error,
			    "the scan failed (%d) but the replay says %d",
			    scan.error, full.error);
		if (scan.error)
			FUZZ_ASSERT(f.writes == 0 && full.transactions == 0,
				    "a failed scan, yet %llu writes",
				    (unsigned long long)f.writes);
		FUZZ_ASSERT(full.transactions == 0 ||
				    full.transactions ==
					    full.end_seq - full.start_seq,
			    "transactions %u, sequences %u to %u",
			    full.transactions, full.start_seq, full.end_seq);
		jbd2_log_reset_super(&sb, &full);
		FUZZ_ASSERT(jbd2_be32(&sb.s_start) == 0, "reset: s_start");
		FUZZ_ASSERT(!jbd2_super_check(&sb, maxlen ? maxlen : 1, bs, why,
					      sizeof(why)),
			    "the reset superblock is refused: %s", why);
		(void)jbd2_log_is_revoked(log, f.sink, full.start_seq);
	}
	jbd2_log_free(log);
	return 0;
}
