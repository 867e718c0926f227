// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-jio.c - unit tests of the journal's stacked io_manager
 * (daemon/jio.c) with libext2fs on real images it makes with mke2fs: a
 * channel without hooks reads and writes exactly as unix_io; with hooks,
 * every read is answered by the read hook where it has a newer copy (even
 * the superblock read at open), every write is offered whole-block to the
 * write hook, partial-block writes (the primary superblock with 4 KiB and
 * 1 KiB blocks, negative counts, runs that start and end inside blocks)
 * are merged into the block's newest copy first, runs of blocks the hook
 * lets through reach the device, options pass through, hook errors fail
 * the I/O, and the raw calls bypass the hooks.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ext2fs/ext2fs.h>

#include "jio.h"
#include "tap.h"

#define MAX_OVERLAY 64

/* A hook state: blocks with a newer copy, and what each hook saw. */
struct overlay {
	uint32_t bs;
	size_t n;
	uint64_t blk[MAX_OVERLAY];
	unsigned char *data[MAX_OVERLAY];
	unsigned int reads;  /* read hook calls */
	unsigned int writes; /* write hook calls */
	int take;	     /* 1: take all, 0: pass all, 2: even only */
	uint64_t fail_blk;   /* read hook fails this block (EIO) */
	bool fail;
	uint64_t seen_read[256]; /* blocks the read hook was asked */
	unsigned int nseen;
};

static unsigned char *ov_find(struct overlay *ov, uint64_t blk)
{
	size_t i;

	for (i = 0; i < ov->n; i++)
		if (ov->blk[i] == blk)
			return ov->data[i];
	return NULL;
}

static void ov_put(struct overlay *ov, uint64_t blk, const void *buf)
{
	unsigned char *p = ov_find(ov, blk);

	if (!p) {
		if (ov->n == MAX_OVERLAY)
			abort();
		p = malloc(ov->bs);
		if (!p)
			abort();
		ov->blk[ov->n] = blk;
		ov->data[ov->n++] = p;
	}
	memcpy(p, buf, ov->bs);
}

static void ov_clear(struct overlay *ov)
{
	size_t i;

	for (i = 0; i < ov->n; i++)
		free(ov->data[i]);
	ov->n = 0;
	ov->reads = ov->writes = ov->nseen = 0;
	ov->fail = false;
}

static int ov_read(void *arg, uint64_t blk, void *buf)
{
	struct overlay *ov = arg;
	unsigned char *p;

	ov->reads++;
	if (ov->nseen < 256)
		ov->seen_read[ov->nseen++] = blk;
	if (ov->fail && blk == ov->fail_blk)
		return -EIO;
	p = ov_find(ov, blk);
	if (!p)
		return 0;
	memcpy(buf, p, ov->bs);
	return 1;
}

static int ov_write(void *arg, uint64_t blk, const void *buf)
{
	struct overlay *ov = arg;

	ov->writes++;
	if (ov->take == 0 || (ov->take == 2 && blk % 2))
		return 1;
	ov_put(ov, blk, buf);
	return 0;
}

static bool ov_seen(const struct overlay *ov, uint64_t blk)
{
	unsigned int i;

	for (i = 0; i < ov->nseen; i++)
		if (ov->seen_read[i] == blk)
			return true;
	return false;
}

/* Read @len bytes of the image file at @off. */
static int file_read(const char *img, uint64_t off, void *buf, size_t len)
{
	int fd = open(img, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, buf, len, (off_t)off);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static void fill(unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 9));
}

static int run(const char *cmd)
{
	char full[4200];

	snprintf(full, sizeof(full), "PATH=/usr/sbin:/sbin:$PATH %s", cmd);
	return system(full);
}

/* Without hooks: reads and writes of every shape equal unix_io's. */
static void test_passthrough(const char *img, uint32_t bs)
{
	unsigned char *a = malloc(16 * 4096), *b = malloc(16 * 4096);
	io_channel io;
	errcode_t err;

	if (!a || !b)
		abort();
	jio_set_next_hooks(NULL);
	err = jio_io_manager->open(img, IO_FLAG_RW, &io);
	if (!tap_ok(!err, "bs %u: open without hooks", bs))
		goto out;
	tap_ok(jio_of(io) != NULL, "bs %u: jio_of() knows its channel", bs);
	tap_eq_u64(jio_block_size(jio_of(io)), bs,
		   "bs %u: block size learnt from the superblock", bs);

	io_channel_set_blksize(io, 1024);
	err = io_channel_read_blk64(io, 3, 9, a);
	tap_ok(!err && !file_read(img, 3 * 1024, b, 9 * 1024) &&
		       !memcmp(a, b, 9 * 1024),
	       "bs %u: 9 KiB from byte 3072 read as the file holds them", bs);
	err = io_channel_read_blk64(io, 5, -100, a);
	tap_ok(!err && !file_read(img, 5 * 1024, b, 100) && !memcmp(a, b, 100),
	       "bs %u: a negative count reads 100 bytes", bs);

	fill(a, 6 * 1024, 1);
	io_channel_set_blksize(io, 2048);
	err = io_channel_write_blk64(io, 301, 3, a);
	tap_ok(!err && !file_read(img, 301 * 2048, b, 3 * 2048) &&
		       !memcmp(a, b, 3 * 2048),
	       "bs %u: 6 KiB written at byte %u reach the file", bs,
	       301 * 2048);
	io_channel_set_blksize(io, 4096);
	fill(a, 4096, 2);
	err = io_channel_write_blk64(io, 200, -333, a);
	tap_ok(!err && !file_read(img, 200 * 4096, b, 4096) &&
		       !memcmp(a, b, 333) && b[333] != a[333],
	       "bs %u: a negative count writes 333 bytes and no more", bs);
	tap_eq_int(io_channel_set_options(io, "cache=off"), 0,
		   "bs %u: cache=off passes to unix_io", bs);
	tap_ok(io_channel_set_options(io, "no_such_option=1") != 0,
	       "bs %u: an unknown option is refused below", bs);
	tap_eq_int(io_channel_flush(io), 0, "bs %u: flush", bs);
	io_channel_close(io);
out:
	free(a);
	free(b);
}

/* The channel's hooks see the superblock read at open; writes captured. */
static void test_hooks_fs(const char *img, uint32_t bs)
{
	struct overlay ov = {.bs = bs, .take = 1};
	struct jio_hooks hooks = {
		.read_block = ov_read, .write_block = ov_write, .arg = &ov};
	uint64_t sb_blk = bs == 1024 ? 1 : 0;
	unsigned char *dev_before = malloc(bs), *dev_after = malloc(bs);
	unsigned char *blk = malloc(bs);
	struct ext2_inode inode, inode2;
	struct jio_stats st;
	struct jio *j;
	ext2_filsys fs;
	errcode_t err;
	unsigned char *cap;
	uint32_t mtime;

	if (!dev_before || !dev_after || !blk)
		abort();
	/* A newer superblock in the overlay: its volume name must win. */
	if (file_read(img, sb_blk * bs, blk, bs))
		abort();
	memcpy(blk + (bs == 1024 ? 0 : 1024) +
		       offsetof(struct ext2_super_block, s_volume_name),
	       "fromhook", 9);
	ov_put(&ov, sb_blk, blk);
	jio_set_next_hooks(&hooks);
	err = ext2fs_open2(img, NULL,
			   EXT2_FLAG_RW | EXT2_FLAG_64BITS |
				   EXT2_FLAG_IGNORE_CSUM_ERRORS,
			   0, 0, jio_io_manager, &fs);
	if (!tap_ok(!err, "bs %u: ext2fs_open2 through jio with hooks", bs)) {
		tap_diag("%s", error_message(err));
		goto out;
	}
	tap_ok(ov_seen(&ov, sb_blk),
	       "bs %u: the read hook was asked for the superblock (block %llu)",
	       bs, (unsigned long long)sb_blk);
	tap_ok(!strcmp((char *)fs->super->s_volume_name, "fromhook"),
	       "bs %u: libext2fs sees the hook's superblock (got '%.16s')", bs,
	       (char *)fs->super->s_volume_name);
	j = jio_of(fs->io);

	/* The superblock written by ext2fs_flush: merged, taken whole. */
	if (file_read(img, 0, dev_before, bs))
		abort();
	ov_clear(&ov);
	ov.take = 1;
	strcpy((char *)fs->super->s_volume_name, "flushed");
	fs->flags |= EXT2_FLAG_SUPER_ONLY;
	ext2fs_mark_super_dirty(fs);
	err = ext2fs_flush2(fs, EXT2_FLAG_FLUSH_NO_SYNC);
	fs->flags &= ~EXT2_FLAG_SUPER_ONLY;
	tap_ok(!err, "bs %u: ext2fs_flush2 of the superblock", bs);
	cap = ov_find(&ov, sb_blk);
	if (tap_ok(cap != NULL, "bs %u: the write hook took block %llu", bs,
		   (unsigned long long)sb_blk)) {
		struct ext2_super_block *nsb =
			(struct ext2_super_block *)(cap +
						    (bs == 1024 ? 0 : 1024));

		tap_ok(!strcmp((char *)nsb->s_volume_name, "flushed"),
		       "bs %u: the taken block holds the new superblock", bs);
		if (bs > 1024) {
			if (file_read(img, 0, blk, bs))
				abort();
			tap_ok(!memcmp(cap, blk, 1024) &&
				       !memcmp(cap + 2048, blk + 2048,
					       bs - 2048),
			       "bs %u: the rest of block 0 is the device's",
			       bs);
		}
	}
	if (file_read(img, 0, dev_after, bs))
		abort();
	tap_ok(!memcmp(dev_before, dev_after, bs),
	       "bs %u: the device's superblock is untouched", bs);
	jio_get_stats(j, &st);
	tap_ok(bs == 1024 ? st.partial_writes == 0 : st.partial_writes >= 1,
	       "bs %u: partial writes merged: %llu", bs,
	       (unsigned long long)st.partial_writes);

	/* An inode written through libext2fs, then read by a second open
	 * through the same overlay: the newest copy; the device's is old. */
	err = ext2fs_read_inode(fs, EXT2_ROOT_INO, &inode);
	tap_ok(!err, "bs %u: read the root inode", bs);
	mtime = inode.i_mtime;
	inode.i_mtime = mtime + 1000;
	err = ext2fs_write_inode(fs, EXT2_ROOT_INO, &inode);
	tap_ok(!err, "bs %u: write the root inode", bs);
	fs->flags &= ~EXT2_FLAG_DIRTY;
	fs->flags &= ~EXT2_FLAG_RW;
	ext2fs_close_free(&fs);

	ov.take = 1;
	jio_set_next_hooks(&hooks);
	err = ext2fs_open2(img, NULL, EXT2_FLAG_64BITS, 0, 0, jio_io_manager,
			   &fs);
	if (tap_ok(!err, "bs %u: second open through the overlay", bs)) {
		err = ext2fs_read_inode(fs, EXT2_ROOT_INO, &inode2);
		tap_ok(!err && inode2.i_mtime == mtime + 1000,
		       "bs %u: the hooked open reads the new mtime (%u, want "
		       "%u)",
		       bs, inode2.i_mtime, mtime + 1000);
		ext2fs_close_free(&fs);
	}
	err = ext2fs_open2(img, NULL, EXT2_FLAG_64BITS, 0, 0, unix_io_manager,
			   &fs);
	if (tap_ok(!err, "bs %u: open with unix_io", bs)) {
		err = ext2fs_read_inode(fs, EXT2_ROOT_INO, &inode2);
		tap_ok(!err && inode2.i_mtime == mtime,
		       "bs %u: the device still has the old mtime", bs);
		ext2fs_close_free(&fs);
	}
out:
	ov_clear(&ov);
	free(dev_before);
	free(dev_after);
	free(blk);
}

/* Reads and writes of every shape on a hooked channel (4 KiB blocks). */
static void test_hooks_shapes(const char *img)
{
	const uint32_t bs = 4096;
	struct overlay ov = {.bs = bs, .take = 1};
	struct jio_hooks hooks = {
		.read_block = ov_read, .write_block = ov_write, .arg = &ov};
	unsigned char *a = malloc(16 * bs), *b = malloc(16 * bs);
	unsigned char *want = malloc(16 * bs), *p;
	struct jio_stats st0, st;
	struct jio *j;
	io_channel io;
	errcode_t err;
	unsigned int i;
	bool ok;

	if (!a || !b || !want)
		abort();
	jio_set_next_hooks(&hooks);
	err = jio_io_manager->open(img, IO_FLAG_RW, &io);
	if (!tap_ok(!err, "open with hooks"))
		goto out;
	j = jio_of(io);
	io_channel_set_blksize(io, (int)bs);

	/* Reads: overlay blocks 103, 104, 107 of 100..109. */
	for (i = 0; i < 3; i++) {
		fill(a, bs, 10 + i);
		ov_put(&ov, (uint64_t[]){103, 104, 107}[i], a);
	}
	if (file_read(img, 100 * bs, want, 10 * bs))
		abort();
	memcpy(want + 3 * bs, ov_find(&ov, 103), bs);
	memcpy(want + 4 * bs, ov_find(&ov, 104), bs);
	memcpy(want + 7 * bs, ov_find(&ov, 107), bs);
	jio_get_stats(j, &st0);
	err = io_channel_read_blk64(io, 100, 10, a);
	jio_get_stats(j, &st);
	tap_ok(!err && !memcmp(a, want, 10 * bs),
	       "a 10-block read mixes hook and device copies");
	tap_eq_u64(st.reads_hooked - st0.reads_hooked, 3,
		   "3 blocks answered by the hook");
	tap_eq_u64(st.reads_device - st0.reads_device, 7,
		   "7 blocks read from the device");

	/* A read in 1 KiB units that starts and ends inside blocks. */
	io_channel_set_blksize(io, 1024);
	err = io_channel_read_blk64(io, 103 * 4 + 3, 6, a);
	tap_ok(!err && !memcmp(a, want + 3 * bs + 3 * 1024, 6 * 1024),
	       "a 6 KiB read from inside block 103 into block 104");
	err = io_channel_read_blk64(io, 107 * 4 + 1, -10, a);
	tap_ok(!err && !memcmp(a, want + 7 * bs + 1024, 10),
	       "a negative-count read inside a hooked block");

	/* 14 KiB in 1 KiB units, from inside block 103 to inside 107. */
	fill(a, 14 * 1024, 20);
	memcpy(want + 3 * bs + 3 * 1024, a, 14 * 1024);
	jio_get_stats(j, &st0);
	err = io_channel_write_blk64(io, 103 * 4 + 3, 14, a);
	jio_get_stats(j, &st);
	tap_ok(!err, "a 14 KiB write from inside block 103");
	ok = true;
	for (i = 3; i <= 7; i++) {
		p = ov_find(&ov, 100 + i);
		if (!p || memcmp(p, want + i * bs, bs)) {
			ok = false;
			tap_diag("block %u: %s", 100 + i,
				 p ? "wrong contents" : "not taken");
		}
	}
	tap_ok(ok, "blocks 103-107 taken whole, the partial ends merged");
	tap_eq_u64(st.partial_writes - st0.partial_writes, 2,
		   "two partial blocks merged");
	tap_eq_u64(st.writes_hooked - st0.writes_hooked, 5,
		   "five blocks taken");
	tap_eq_u64(st.writes_device - st0.writes_device, 0,
		   "nothing written to the device");
	if (file_read(img, 106 * bs, b, bs))
		abort();
	tap_ok(memcmp(b, want + 6 * bs, bs) != 0,
	       "the device's block 106 is untouched");

	/* A negative count into a block the hook does not hold. */
	io_channel_set_blksize(io, (int)bs);
	if (file_read(img, 120 * bs, want, bs))
		abort();
	fill(a, 100, 30);
	memcpy(want, a, 100);
	err = io_channel_write_blk64(io, 120, -100, a);
	p = ov_find(&ov, 120);
	tap_ok(!err && p && !memcmp(p, want, bs),
	       "a 100-byte write merges into the device's block 120");

	/* Even blocks taken, odd ones written through. */
	ov.take = 2;
	fill(a, 8 * bs, 40);
	if (file_read(img, 130 * bs, want, 8 * bs))
		abort();
	jio_get_stats(j, &st0);
	err = io_channel_write_blk64(io, 130, 8, a);
	jio_get_stats(j, &st);
	tap_ok(!err, "an 8-block write, half taken");
	if (file_read(img, 130 * bs, b, 8 * bs))
		abort();
	ok = true;
	for (i = 0; i < 8; i++) {
		bool taken = (130 + i) % 2 == 0;

		p = ov_find(&ov, 130 + i);
		if (taken && (!p || memcmp(p, a + i * bs, bs) ||
			      memcmp(b + i * bs, want + i * bs, bs)))
			ok = false;
		if (!taken && (p || memcmp(b + i * bs, a + i * bs, bs)))
			ok = false;
	}
	tap_ok(ok, "even blocks in the hook only, odd ones on the device");
	tap_eq_u64(st.writes_device - st0.writes_device, 4,
		   "four blocks written through");
	tap_eq_u64(st.writes_hooked - st0.writes_hooked, 4,
		   "four blocks taken");

	/* A read hook error fails the read; a write hook error the write. */
	ov.fail = true;
	ov.fail_blk = 101;
	err = io_channel_read_blk64(io, 100, 4, a);
	tap_eq_int(err, EIO, "a read hook's -EIO fails the read");
	ov.fail = false;

	/* Raw I/O bypasses the hooks. */
	fill(a, 2 * bs, 50);
	tap_eq_int(jio_raw_write(j, 140, 2, a), 0, "raw write of 2 blocks");
	tap_ok(!file_read(img, 140 * bs, b, 2 * bs) && !memcmp(a, b, 2 * bs) &&
		       !ov_find(&ov, 140),
	       "the raw write reached the device, not the hook");
	ov_put(&ov, 141, want);
	tap_eq_int(jio_raw_read(j, 140, 2, b), 0, "raw read of 2 blocks");
	tap_ok(!memcmp(a, b, 2 * bs),
	       "the raw read ignores the hook's copy of block 141");
	tap_eq_int(jio_raw_flush(j), 0, "raw flush");
	tap_eq_int(io_channel_set_options(io, "cache=off"), 0,
		   "cache=off passes through with hooks");

	/* Without hooks again: pass-through. */
	jio_set_hooks(j, NULL);
	fill(a, bs, 60);
	err = io_channel_write_blk64(io, 150, 1, a);
	tap_ok(!err && !file_read(img, 150 * bs, b, bs) && !memcmp(a, b, bs),
	       "jio_set_hooks(NULL): writes go to the device");
	io_channel_close(io);
out:
	ov_clear(&ov);
	free(a);
	free(b);
	free(want);
}

/* No superblock: fine without hooks, refused with them. */
static void test_no_super(const char *dir)
{
	struct overlay ov = {.bs = 1024};
	struct jio_hooks hooks = {.read_block = ov_read, .arg = &ov};
	char path[700];
	unsigned char zero[4096] = {0};
	io_channel io;
	errcode_t err;
	int fd;

	snprintf(path, sizeof(path), "%s/blank", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || pwrite(fd, zero, sizeof(zero), 0) != 4096)
		abort();
	close(fd);
	err = jio_io_manager->open(path, 0, &io);
	if (tap_ok(!err, "a file without a superblock opens without hooks")) {
		tap_eq_u64(jio_block_size(jio_of(io)), 0,
			   "its block size is unknown");
		io_channel_close(io);
	}
	jio_set_next_hooks(&hooks);
	err = jio_io_manager->open(path, 0, &io);
	tap_eq_int(err, EXT2_ET_BAD_MAGIC,
		   "with hooks it is refused (EXT2_ET_BAD_MAGIC)");
	if (!err)
		io_channel_close(io);
	jio_set_next_hooks(NULL);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[512], img4[600], img1[600], cmd[4000];

	snprintf(dir, sizeof(dir), "%s/test-jio.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		tap_ok(1, "# SKIP cannot make a directory");
		return tap_done();
	}
	snprintf(img4, sizeof(img4), "%s/b4k.img", dir);
	snprintf(img1, sizeof(img1), "%s/b1k.img", dir);
	snprintf(cmd, sizeof(cmd),
		 "truncate -s 16M '%s' '%s' && "
		 "mke2fs -q -F -t ext4 -b 4096 '%s' >/dev/null 2>&1 && "
		 "mke2fs -q -F -t ext4 -b 1024 '%s' >/dev/null 2>&1",
		 img4, img1, img4, img1);
	if (run(cmd) != 0) {
		tap_ok(1, "# SKIP cannot make images with mke2fs");
	} else {
		test_passthrough(img4, 4096);
		test_passthrough(img1, 1024);
		/* Fresh images: the pass-through test wrote into them. */
		if (run(cmd) != 0)
			abort();
		test_hooks_fs(img4, 4096);
		test_hooks_fs(img1, 1024);
		test_hooks_shapes(img4);
		test_no_super(dir);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
