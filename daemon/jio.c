// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jio.c - the journal's stacked io_manager (jio.h): a libext2fs io_channel
 * over a unix_io channel that cuts every read and write into filesystem
 * blocks and offers each block to the read and write hooks first.
 *
 * Block sizes.  libext2fs changes its channel's block size while it works
 * (1024 bytes to read and write the primary superblock, the filesystem's
 * block size otherwise) and passes negative counts meaning bytes.  The
 * hooks always speak whole filesystem blocks, so this channel keeps the
 * channel below at the filesystem's block size, learnt from the primary
 * superblock at open, and turns every request into a byte range and then
 * into the filesystem blocks it touches.  A write that covers only part
 * of a block is merged into the block's newest copy (the read hook's, or
 * the device's) before the write hook sees it: the hook never receives a
 * partial block, and a block the hook took is never half-written.
 *
 * The channel below runs with its cache off from the start, so that no
 * copy of a block lives anywhere but in the hooks' lists and on the
 * device (fs.c explains why libext2fs's block cache must stay off while
 * the data path writes the same device).  discard and zeroout are not
 * offered: libext2fs then zeroes blocks with ordinary writes, which pass
 * through the write hook like any other metadata, and a discard could
 * never be undone by a replay.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "jio.h"

/* Where libext2fs expects the primary superblock, and its size. */
#define JIO_SB_OFFSET 1024u
#define JIO_SB_SIZE   1024u
#define JIO_MIN_BLOCK 1024u
#define JIO_MAX_BLOCK 65536u

struct jio {
	errcode_t magic;  /* EXT2_ET_MAGIC_UNIX_IO_CHANNEL */
	io_channel outer; /* the channel libext2fs holds */
	io_channel inner; /* unix_io, block size fs_bs, cache off */
	uint32_t fs_bs;	  /* filesystem block size */
	bool fs_bs_known; /* learnt from a valid superblock */
	bool have_hooks;
	struct jio_hooks hooks;
	unsigned char *bounce; /* one filesystem block */
	struct jio_stats st;
};

static struct jio_hooks jio_next_hooks;
static bool jio_next_set;

void jio_set_next_hooks(const struct jio_hooks *hooks)
{
	if (hooks) {
		jio_next_hooks = *hooks;
		jio_next_set = true;
	} else {
		memset(&jio_next_hooks, 0, sizeof(jio_next_hooks));
		jio_next_set = false;
	}
}

static struct jio *jio_priv(io_channel io)
{
	struct jio *j;

	if (!io || io->magic != EXT2_ET_MAGIC_IO_CHANNEL)
		return NULL;
	j = io->private_data;
	if (!j || j->magic != EXT2_ET_MAGIC_UNIX_IO_CHANNEL)
		return NULL;
	return j;
}

struct jio *jio_of(io_channel io)
{
	if (!io || io->manager != jio_io_manager)
		return NULL;
	return jio_priv(io);
}

void jio_set_hooks(struct jio *j, const struct jio_hooks *hooks)
{
	if (hooks && j->fs_bs_known) {
		j->hooks = *hooks;
		j->have_hooks = true;
	} else {
		memset(&j->hooks, 0, sizeof(j->hooks));
		j->have_hooks = false;
	}
}

uint32_t jio_block_size(const struct jio *j)
{
	return j->fs_bs_known ? j->fs_bs : 0;
}

void jio_get_stats(const struct jio *j, struct jio_stats *out)
{
	*out = j->st;
}

/* An errcode_t from a hook's negative errno. */
static errcode_t jio_hook_err(int ret)
{
	return ret < 0 ? (errcode_t)-ret : EXT2_ET_MAGIC_IO_CHANNEL;
}

/* Read or write @count filesystem blocks at @blk on the device below. */
static errcode_t jio_dev_read(struct jio *j, uint64_t blk, uint64_t count,
			      void *buf)
{
	unsigned char *p = buf;
	errcode_t err;
	int n;

	/* io_channel counts are ints: split very long runs. */
	while (count) {
		n = count > 65536 ? 65536 : (int)count;
		err = io_channel_read_blk64(j->inner, blk, n, p);
		if (err)
			return err;
		j->st.reads_device += (uint64_t)n;
		blk += (uint64_t)n;
		count -= (uint64_t)n;
		p += (size_t)n * j->fs_bs;
	}
	return 0;
}

static errcode_t jio_dev_write(struct jio *j, uint64_t blk, uint64_t count,
			       const void *buf)
{
	const unsigned char *p = buf;
	errcode_t err;
	int n;

	while (count) {
		n = count > 65536 ? 65536 : (int)count;
		err = io_channel_write_blk64(j->inner, blk, n, p);
		if (err)
			return err;
		j->st.writes_device += (uint64_t)n;
		blk += (uint64_t)n;
		count -= (uint64_t)n;
		p += (size_t)n * j->fs_bs;
	}
	return 0;
}

/* The newest copy of block @blk: the read hook's, else the device's. */
static errcode_t jio_read_one(struct jio *j, uint64_t blk, void *buf)
{
	int ret;

	if (j->have_hooks && j->hooks.read_block) {
		ret = j->hooks.read_block(j->hooks.arg, blk, buf);
		if (ret < 0)
			return jio_hook_err(ret);
		if (ret > 0) {
			j->st.reads_hooked++;
			return 0;
		}
	}
	return jio_dev_read(j, blk, 1, buf);
}

/* The byte range [*off, *off + *len) of a request in @io's block size. */
static errcode_t jio_range(io_channel io, unsigned long long block, int count,
			   uint64_t *off, uint64_t *len)
{
	if (count < 0) {
		*len = (uint64_t) - (int64_t)count;
	} else {
		*len = (uint64_t)count * (uint64_t)io->block_size;
	}
	if (io->block_size <= 0 ||
	    block > UINT64_MAX / (uint64_t)io->block_size)
		return EXT2_ET_INVALID_ARGUMENT;
	*off = (uint64_t)block * (uint64_t)io->block_size;
	if (*len > UINT64_MAX - *off)
		return EXT2_ET_INVALID_ARGUMENT;
	return 0;
}

static errcode_t jio_read_blk64(io_channel io, unsigned long long block,
				int count, void *data)
{
	struct jio *j = jio_priv(io);
	unsigned char *out = data;
	uint64_t off, len, bs, b, first, last, run = 0, run_len = 0;
	errcode_t err;
	int ret;

	if (!j)
		return EXT2_ET_MAGIC_IO_CHANNEL;
	err = jio_range(io, block, count, &off, &len);
	if (err || len == 0)
		return err;
	bs = j->fs_bs;
	first = off / bs;
	last = (off + len - 1) / bs;
	for (b = first; b <= last; b++) {
		uint64_t bstart = b * bs;
		bool whole = bstart >= off && bstart + bs <= off + len;

		if (!whole) {
			/* A block the request covers partly: newest copy
			 * into the bounce buffer, then the part wanted. */
			uint64_t from = off > bstart ? off - bstart : 0;
			uint64_t to = off + len < bstart + bs
					      ? off + len - bstart
					      : bs;

			if (run_len) {
				err = jio_dev_read(j, run, run_len,
						   out + (run * bs - off));
				if (err)
					return err;
				run_len = 0;
			}
			err = jio_read_one(j, b, j->bounce);
			if (err)
				return err;
			memcpy(out + (bstart + from - off), j->bounce + from,
			       (size_t)(to - from));
			continue;
		}
		ret = 0;
		if (j->have_hooks && j->hooks.read_block) {
			ret = j->hooks.read_block(j->hooks.arg, b,
						  out + (bstart - off));
			if (ret < 0)
				return jio_hook_err(ret);
		}
		if (ret > 0) {
			j->st.reads_hooked++;
			if (run_len) {
				err = jio_dev_read(j, run, run_len,
						   out + (run * bs - off));
				if (err)
					return err;
				run_len = 0;
			}
			continue;
		}
		/* From the device, in one read with its neighbours. */
		if (!run_len)
			run = b;
		run_len++;
	}
	if (run_len)
		return jio_dev_read(j, run, run_len, out + (run * bs - off));
	return 0;
}

/*
 * Offer block @blk (whole, in @buf) to the write hook.  Returns 0 when the
 * hook took it, 1 when it must be written to the device, or an errcode.
 */
static errcode_t jio_offer(struct jio *j, uint64_t blk, const void *buf,
			   int *through)
{
	int ret;

	*through = 1;
	if (!j->have_hooks || !j->hooks.write_block)
		return 0;
	ret = j->hooks.write_block(j->hooks.arg, blk, buf);
	if (ret < 0)
		return jio_hook_err(ret);
	if (ret == 0) {
		j->st.writes_hooked++;
		*through = 0;
	}
	return 0;
}

static errcode_t jio_write_blk64(io_channel io, unsigned long long block,
				 int count, const void *data)
{
	struct jio *j = jio_priv(io);
	const unsigned char *in = data;
	uint64_t off, len, bs, b, first, last, run = 0, run_len = 0;
	errcode_t err;
	int through;

	if (!j)
		return EXT2_ET_MAGIC_IO_CHANNEL;
	err = jio_range(io, block, count, &off, &len);
	if (err || len == 0)
		return err;
	bs = j->fs_bs;
	first = off / bs;
	last = (off + len - 1) / bs;
	for (b = first; b <= last; b++) {
		uint64_t bstart = b * bs;
		bool whole = bstart >= off && bstart + bs <= off + len;
		const unsigned char *src;

		if (whole) {
			src = in + (bstart - off);
		} else {
			uint64_t from = off > bstart ? off - bstart : 0;
			uint64_t to = off + len < bstart + bs
					      ? off + len - bstart
					      : bs;

			/* Merge into the newest copy: the hook then sees the
			 * whole block as it will be. */
			err = jio_read_one(j, b, j->bounce);
			if (err)
				return err;
			memcpy(j->bounce + from, in + (bstart + from - off),
			       (size_t)(to - from));
			j->st.partial_writes++;
			src = j->bounce;
		}
		err = jio_offer(j, b, src, &through);
		if (err)
			return err;
		if (through && whole) {
			/* Written with its whole neighbours in one write. */
			if (!run_len)
				run = b;
			run_len++;
			continue;
		}
		if (run_len) {
			err = jio_dev_write(j, run, run_len,
					    in + (run * bs - off));
			if (err)
				return err;
			run_len = 0;
		}
		if (through) {
			err = jio_dev_write(j, b, 1, src);
			if (err)
				return err;
		}
	}
	if (run_len)
		return jio_dev_write(j, run, run_len, in + (run * bs - off));
	return 0;
}

static errcode_t jio_read_blk(io_channel io, unsigned long block, int count,
			      void *data)
{
	return jio_read_blk64(io, block, count, data);
}

static errcode_t jio_write_blk(io_channel io, unsigned long block, int count,
			       const void *data)
{
	return jio_write_blk64(io, block, count, data);
}

static errcode_t jio_set_blksize(io_channel io, int blksize)
{
	if (!jio_priv(io))
		return EXT2_ET_MAGIC_IO_CHANNEL;
	if (blksize <= 0)
		return EXT2_ET_INVALID_ARGUMENT;
	/* The channel below stays at the filesystem's block size. */
	io->block_size = blksize;
	return 0;
}

static errcode_t jio_flush(io_channel io)
{
	struct jio *j = jio_priv(io);

	if (!j)
		return EXT2_ET_MAGIC_IO_CHANNEL;
	return io_channel_flush(j->inner);
}

static errcode_t jio_set_option(io_channel io, const char *option,
				const char *arg)
{
	struct jio *j = jio_priv(io);

	if (!j)
		return EXT2_ET_MAGIC_IO_CHANNEL;
	if (!j->inner->manager->set_option)
		return EXT2_ET_INVALID_ARGUMENT;
	return j->inner->manager->set_option(j->inner, option, arg);
}

static errcode_t jio_io_stats(io_channel io, io_stats *stats)
{
	struct jio *j = jio_priv(io);

	if (!j)
		return EXT2_ET_MAGIC_IO_CHANNEL;
	if (!j->inner->manager->get_stats) {
		*stats = NULL;
		return 0;
	}
	return j->inner->manager->get_stats(j->inner, stats);
}

static errcode_t jio_cache_readahead(io_channel io, unsigned long long block,
				     unsigned long long count)
{
	struct jio *j = jio_priv(io);

	if (!j)
		return EXT2_ET_MAGIC_IO_CHANNEL;
	/* A hint: only when the block sizes agree, else nothing. */
	if ((uint32_t)io->block_size != j->fs_bs ||
	    !j->inner->manager->cache_readahead)
		return 0;
	return j->inner->manager->cache_readahead(j->inner, block, count);
}

static errcode_t jio_close(io_channel io)
{
	struct jio *j = jio_priv(io);
	errcode_t err = 0;

	if (!j)
		return EXT2_ET_MAGIC_IO_CHANNEL;
	if (--io->refcount > 0)
		return 0;
	if (j->inner)
		err = io_channel_close(j->inner);
	ext2fs_free_mem(&j->bounce);
	j->magic = 0;
	ext2fs_free_mem(&j);
	ext2fs_free_mem(&io->name);
	io->magic = 0;
	ext2fs_free_mem(&io);
	return err;
}

/*
 * Learn the filesystem's block size from the primary superblock, read
 * directly from the channel below.  Returns 0 and leaves *bs at 0 when
 * there is no valid superblock there.
 */
static errcode_t jio_probe_block_size(io_channel inner, uint32_t *bs)
{
	struct ext2_super_block *sb = NULL;
	errcode_t err;

	*bs = 0;
	err = io_channel_alloc_buf(inner, -(int)JIO_SB_SIZE, &sb);
	if (err)
		return err;
	err = io_channel_set_blksize(inner, JIO_SB_OFFSET);
	if (!err)
		err = io_channel_read_blk64(inner, 1, -(int)JIO_SB_SIZE, sb);
	if (err) {
		/* Too short to hold a superblock: no block size. */
		err = 0;
	} else if (ext2fs_le16_to_cpu(sb->s_magic) == EXT2_SUPER_MAGIC &&
		   ext2fs_le32_to_cpu(sb->s_log_block_size) <= 6) {
		*bs = JIO_MIN_BLOCK << ext2fs_le32_to_cpu(sb->s_log_block_size);
	}
	ext2fs_free_mem(&sb);
	return err;
}

static errcode_t jio_open(const char *name, int flags, io_channel *channel)
{
	io_channel io = NULL, inner = NULL;
	struct jio *j = NULL;
	uint32_t bs = 0;
	errcode_t err;

	if (!name)
		return EXT2_ET_BAD_DEVICE_NAME;
	err = unix_io_manager->open(name, flags, &inner);
	if (err)
		return err;
	/* Before any block is read: nothing may ever be cached below. */
	err = io_channel_set_options(inner, "cache=off");
	if (err)
		goto out_inner;
	err = jio_probe_block_size(inner, &bs);
	if (err)
		goto out_inner;
	err = io_channel_set_blksize(inner, bs ? (int)bs : (int)JIO_MIN_BLOCK);
	if (err)
		goto out_inner;

	err = ext2fs_get_memzero(sizeof(*io), &io);
	if (err)
		goto out_inner;
	err = ext2fs_get_memzero(sizeof(*j), &j);
	if (err)
		goto out_io;
	err = ext2fs_get_mem(strlen(name) + 1, &io->name);
	if (err)
		goto out_j;
	strcpy(io->name, name);
	j->magic = EXT2_ET_MAGIC_UNIX_IO_CHANNEL;
	j->outer = io;
	j->inner = inner;
	j->fs_bs = bs ? bs : JIO_MIN_BLOCK;
	j->fs_bs_known = bs != 0;
	err = io_channel_alloc_buf(inner, 1, &j->bounce);
	if (err)
		goto out_name;
	if (jio_next_set) {
		if (!j->fs_bs_known) {
			/* Hooks count in filesystem blocks: without a
			 * superblock there is no such thing. */
			err = EXT2_ET_BAD_MAGIC;
			goto out_bounce;
		}
		j->hooks = jio_next_hooks;
		j->have_hooks = true;
		jio_set_next_hooks(NULL);
	}
	io->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	io->manager = jio_io_manager;
	io->block_size = (int)JIO_MIN_BLOCK;
	io->refcount = 1;
	io->flags = inner->flags;
	io->align = inner->align;
	io->private_data = j;
	*channel = io;
	return 0;

out_bounce:
	ext2fs_free_mem(&j->bounce);
out_name:
	ext2fs_free_mem(&io->name);
out_j:
	ext2fs_free_mem(&j);
out_io:
	ext2fs_free_mem(&io);
out_inner:
	io_channel_close(inner);
	return err;
}

static int jio_errno(errcode_t err)
{
	if (!err)
		return 0;
	/* Plain errno values pass; libext2fs's own codes are I/O errors. */
	if (err > 0 && err < 4096)
		return -(int)err;
	return -EIO;
}

int jio_raw_read(struct jio *j, uint64_t blk, unsigned int count, void *buf)
{
	return jio_errno(jio_dev_read(j, blk, count, buf));
}

int jio_raw_write(struct jio *j, uint64_t blk, unsigned int count,
		  const void *buf)
{
	return jio_errno(jio_dev_write(j, blk, count, buf));
}

int jio_raw_flush(struct jio *j)
{
	return jio_errno(io_channel_flush(j->inner));
}

static struct struct_io_manager jio_manager = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "iomapfs journal I/O manager",
	.open = jio_open,
	.close = jio_close,
	.set_blksize = jio_set_blksize,
	.read_blk = jio_read_blk,
	.write_blk = jio_write_blk,
	.flush = jio_flush,
	/* No write_byte: libext2fs then writes the whole superblock. */
	.set_option = jio_set_option,
	.get_stats = jio_io_stats,
	.read_blk64 = jio_read_blk64,
	.write_blk64 = jio_write_blk64,
	.cache_readahead = jio_cache_readahead,
};

io_manager jio_io_manager = &jio_manager;
