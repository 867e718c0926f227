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

/*
 * Read (@wbuf NULL, into @rbuf) or write (@wbuf) @count filesystem blocks at
 * @blk on the device below.
 */
static errcode_t jio_dev_io(struct jio *j, uint64_t blk, uint64_t count,
			    unsigned char *rbuf, const unsigned char *wbuf)
{
	uint64_t *counter = wbuf ? &j->st.writes_device : &j->st.reads_device;
	errcode_t err;
	size_t step;
	int n;

	/* io_channel counts are ints: split very long runs. */
	while (count) {
		n = count > 65536 ? 65536 : (int)count;
		if (wbuf)
			err = io_channel_write_blk64(j->inner, blk, n, wbuf);
		else
			err = io_channel_read_blk64(j->inner, blk, n, rbuf);
		if (err)
			return err;
		*counter += (uint64_t)n;
		blk += (uint64_t)n;
		count -= (uint64_t)n;
		step = (size_t)n * j->fs_bs;
		if (wbuf)
			wbuf += step;
		else
			rbuf += step;
	}
	return 0;
}

static errcode_t jio_dev_read(struct jio *j, uint64_t blk, uint64_t count,
			      void *buf)
{
	return jio_dev_io(j, blk, count, buf, NULL);
}

static errcode_t jio_dev_write(struct jio *j, uint64_t blk, uint64_t count,
			       const void *buf)
{
	return jio_dev_io(j, blk, count, NULL, buf);
}

/*
 * Offer block @blk to the read hook (@rbuf) or the write hook (@wbuf).
 * *@through is 0 when the hook served or took it, 1 when the device must.
 */
static errcode_t jio_hook(struct jio *j, uint64_t blk, void *rbuf,
			  const void *wbuf, int *through)
{
	uint64_t *counter;
	int ret;

	*through = 1;
	if (!j->have_hooks)
		return 0;
	if (wbuf && j->hooks.write_block) {
		ret = j->hooks.write_block(j->hooks.arg, blk, wbuf);
		*through = ret != 0;
		counter = &j->st.writes_hooked;
	} else if (!wbuf && j->hooks.read_block) {
		ret = j->hooks.read_block(j->hooks.arg, blk, rbuf);
		*through = ret <= 0;
		counter = &j->st.reads_hooked;
	} else {
		return 0;
	}
	if (ret < 0)
		return jio_hook_err(ret);
	if (!*through)
		(*counter)++;
	return 0;
}

/* The newest copy of block @blk: the read hook's, else the device's. */
static errcode_t jio_read_one(struct jio *j, uint64_t blk, void *buf)
{
	errcode_t err;
	int through;

	err = jio_hook(j, blk, buf, NULL, &through);
	if (err || !through)
		return err;
	return jio_dev_read(j, blk, 1, buf);
}

/*
 * A request on the channel: its bytes [off, off + len) in @io's block size,
 * and the filesystem blocks [first, last] they touch.
 */
struct jio_span {
	struct jio *j;
	uint64_t off, len, first, last;
	uint64_t run, run_len; /* whole blocks waiting for the device */
};

/* Fills @sp for a request; sp->len is 0 when there is nothing to do. */
static errcode_t jio_span(io_channel io, unsigned long long block, int count,
			  struct jio_span *sp)
{
	uint64_t *off = &sp->off, *len = &sp->len;

	sp->j = jio_priv(io);
	if (!sp->j)
		return EXT2_ET_MAGIC_IO_CHANNEL;
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
	sp->run_len = 0;
	if (*len) {
		sp->first = *off / sp->j->fs_bs;
		sp->last = (*off + *len - 1) / sp->j->fs_bs;
	}
	return 0;
}

/*
 * Whether the request covers block @b whole; if not, the part it covers is
 * [*from, *to) within the block.
 */
static bool jio_span_whole(const struct jio_span *sp, uint64_t b,
			   uint64_t *from, uint64_t *to)
{
	uint64_t bs = sp->j->fs_bs, bstart = b * bs;

	*from = sp->off > bstart ? sp->off - bstart : 0;
	*to = sp->off + sp->len < bstart + bs ? sp->off + sp->len - bstart : bs;
	return *from == 0 && *to == bs;
}

/* The run of whole blocks waiting for the device, read or written now. */
static errcode_t jio_span_flush(struct jio_span *sp, unsigned char *out,
				const unsigned char *in)
{
	uint64_t at = sp->run * sp->j->fs_bs - sp->off, n = sp->run_len;

	if (!n)
		return 0;
	sp->run_len = 0;
	if (in)
		return jio_dev_write(sp->j, sp->run, n, in + at);
	return jio_dev_read(sp->j, sp->run, n, out + at);
}

/*
 * One request, a read into @out or a write from @in, block by block.  A
 * whole block goes to the hook first, and to the device, in one I/O with its
 * whole neighbours, when the hook does not serve or take it.  A block the
 * request covers partly goes through the bounce buffer: its newest copy, then
 * the part wanted (read), or the part merged in so that the write hook sees the
 * whole block as it will be (write).
 */
static errcode_t jio_request(io_channel io, unsigned long long block, int count,
			     unsigned char *out, const unsigned char *in)
{
	uint64_t bs, b, at;
	struct jio_span sp;
	struct jio *j;
	errcode_t err;
	int through;

	err = jio_span(io, block, count, &sp);
	if (err || sp.len == 0)
		return err;
	j = sp.j;
	bs = j->fs_bs;
	for (b = sp.first; b <= sp.last; b++) {
		uint64_t from, to;

		at = b * bs - sp.off;
		if (jio_span_whole(&sp, b, &from, &to)) {
			err = jio_hook(j, b, in ? NULL : out + at,
				       in ? in + at : NULL, &through);
			if (err)
				return err;
			if (through) {
				if (!sp.run_len)
					sp.run = b;
				sp.run_len++;
				continue;
			}
			err = jio_span_flush(&sp, out, in);
			if (err)
				return err;
			continue;
		}
		err = jio_read_one(j, b, j->bounce);
		if (err)
			return err;
		if (!in) {
			memcpy(out + at + from, j->bounce + from,
			       (size_t)(to - from));
		} else {
			memcpy(j->bounce + from, in + at + from,
			       (size_t)(to - from));
			j->st.partial_writes++;
			err = jio_hook(j, b, NULL, j->bounce, &through);
			if (err)
				return err;
		}
		err = jio_span_flush(&sp, out, in);
		if (err)
			return err;
		if (in && through) {
			err = jio_dev_write(j, b, 1, j->bounce);
			if (err)
				return err;
		}
	}
	return jio_span_flush(&sp, out, in);
}

static errcode_t jio_read_blk64(io_channel io, unsigned long long block,
				int count, void *data)
{
	return jio_request(io, block, count, data, NULL);
}

static errcode_t jio_write_blk64(io_channel io, unsigned long long block,
				 int count, const void *data)
{
	return jio_request(io, block, count, NULL, data);
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
