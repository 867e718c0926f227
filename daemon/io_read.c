// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * io_read.c - READ of regular files: the reply is built from the file's
 * mappings (from the iomap cache, computed from disk on a miss) as a
 * vector of buffers: file-descriptor ranges of the device for MAPPED data,
 * which the kernel splices with no copy through our memory, zeroes for
 * holes and unwritten ranges, and a copy of the inode's inline data.  It
 * runs under io_lock shared, held until the reply is sent, so no truncate
 * or punch can free a block while the kernel reads it (see io.c).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "atime.h"
#include "io.h"
#include "io_read.h"
#include "replay.h"

/* Reads up to this many bytes are copied rather than spliced. */
#define IO_COPY_MAX (32u * 1024u)

/* A reply being built: a bufvec that grows, and the memory it owns. */
struct io_reply {
	struct fuse_bufvec *bv;
	size_t cap;
	char *owned; /* inline data copy, freed after the reply */
};

static int io_reply_add(struct io_reply *r, const struct fuse_buf *b)
{
	struct fuse_bufvec *nbv;
	size_t ncap;

	if (r->bv && r->bv->count == r->cap) {
		ncap = r->cap * 2;
		nbv = realloc(r->bv,
			      sizeof(*nbv) +
				      (ncap - 1) * sizeof(struct fuse_buf));
		if (!nbv)
			return -ENOMEM;
		r->bv = nbv;
		r->cap = ncap;
	}
	if (!r->bv) {
		r->cap = 8;
		r->bv = calloc(1,
			       sizeof(*r->bv) +
				       (r->cap - 1) * sizeof(struct fuse_buf));
		if (!r->bv)
			return -ENOMEM;
	}
	r->bv->buf[r->bv->count++] = *b;
	return 0;
}

/* Append @len bytes of zeroes to the reply. */
static int io_reply_zeroes(struct io_reply *r, uint64_t len)
{
	struct fuse_buf b = {.fd = -1};
	int ret;

	while (len > 0) {
		b.size = (size_t)io_min(len, IO_ZERO_CHUNK);
		b.mem = io_zeroes;
		ret = io_reply_add(r, &b);
		if (ret)
			return ret;
		len -= b.size;
	}
	return 0;
}

/* Append bytes [pos, end) of the INLINE mapping to the reply. */
static int io_reply_inline(struct iomapfs *fsx, struct fs_inode *fi,
			   struct io_reply *r, uint64_t pos, uint64_t end)
{
	struct ext2_inode_large inode;
	struct fuse_buf b = {.fd = -1};
	size_t len = 0;
	char *data = NULL;
	int ret;

	if (r->owned) /* one INLINE mapping per file: block 0 */
		return -EIO;
	fs_lock(fsx);
	ret = fs_read_inode(fsx, fi->ino, &inode);
	if (!ret)
		ret = io_inline_get(fsx, fi, &inode, (size_t)end, &data, &len);
	fs_unlock(fsx);
	if (ret)
		return ret;
	/* Bytes past the inline data (but inside i_size) read as zeroes:
	 * io_inline_get() zero-fills up to @end. */
	r->owned = data;
	b.mem = data + pos;
	b.size = (size_t)(end - pos);
	return io_reply_add(r, &b);
}

/*
 * Append the device bytes [addr, addr + len) to the reply.  A read-only
 * mount that replayed the journal into memory (replay.h) serves the blocks
 * the journal holds from there, since their home copies are stale: a
 * filesystem mounted with data=journal logs file data too.  The replayed
 * set never changes during the mount, so its memory may go into a reply.
 */
static int io_reply_mapped(struct iomapfs *fsx, struct io_reply *r,
			   uint64_t addr, uint64_t len)
{
	uint64_t bs = fsx->blocksize, blk, hit, n;
	struct fuse_buf b;
	const uint8_t *data;
	int ret;

	while (len) {
		blk = addr / bs;
		hit = replay_next(fsx->replay, blk,
				  (addr + len - 1) / bs - blk + 1);
		if (hit != blk) {
			n = hit == UINT64_MAX ? len : hit * bs - addr;
			b = (struct fuse_buf){
				.size = (size_t)n,
				.flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK,
				.fd = fsx->dev_fd,
				.pos = (off_t)addr,
			};
		} else {
			data = replay_block(fsx->replay, blk);
			n = io_min(bs - addr % bs, len);
			b = (struct fuse_buf){
				.size = (size_t)n,
				.mem = (void *)(data + addr % bs),
				.fd = -1,
			};
		}
		ret = io_reply_add(r, &b);
		if (ret)
			return ret;
		addr += n;
		len -= n;
	}
	return 0;
}

/*
 * Check that the device still holds bytes up to @end (exclusive).  libfuse
 * turns a short read of the device into a short reply, which the kernel
 * takes for the end of the file (and shrinks its i_size): an image file
 * truncated under the mount would silently read as a shorter file.  So a
 * read of mapped data past the device's current end is an I/O error, and
 * logged (once).  Returns 0 or -EIO, or the fstat()/ioctl() error.
 */
static int io_dev_check_end(struct iomapfs *fsx, uint64_t end)
{
	static atomic_bool logged;
	struct stat st;
	uint64_t size;

	if (fstat(fsx->dev_fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fsx->dev_fd, BLKGETSIZE64, &size) < 0)
			return -errno;
	} else {
		size = (uint64_t)st.st_size;
	}
	if (end <= size)
		return 0;
	if (!atomic_exchange(&logged, true))
		fprintf(stderr,
			"iomapfs: %s: data at byte %" PRIu64 " is past the end "
			"of the device (%" PRIu64 " bytes): was the image "
			"truncated?  Reads there fail with EIO\n",
			fsx->source, end, size);
	return -EIO;
}

/*
 * No O_DIRECT read asks the kernel to write back what it holds past the
 * size we know (fuse_lowlevel_notify_inval_inode() from there on): the
 * kernel locks each page it drops and writes the dirty ones back, and a
 * truncate of the file at that moment holds the write-back off (its
 * "nowrite") while it waits for the lock of such a page: the mount hung
 * (t3320, eight direct readers, a truncating writer).  So, with the
 * write-back cache, a direct read of a range past the end we know, inside
 * a hole the kernel's dirty pages further on made part of the file, ends
 * short where ext4 reads zeroes, until those pages are written back
 * (iomapfs(8)); the range itself the kernel writes back first (devio.c).
 */
void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	     struct fuse_file_info *ffi)
{
	struct iomapfs *fsx = req_fs(req);
	struct io_reply r = {0};
	struct fs_inode *fi;
	struct iomap m;
	uint64_t pos, end, seg_end, addr, dev_end = 0;
	bool ref;
	int ret;

	fi = io_get(req, ino, ffi, &ref);
	if (!fi)
		return;
	if (off < 0) {
		ret = -EINVAL;
		goto out_put;
	}
	io_rdlock(fi);
	ret = fs_inode_load_size(fsx, fi);
	if (ret)
		goto out_unlock;
	pos = (uint64_t)off;
	if (pos >= fi->size || size == 0) {
		fuse_reply_buf(req, NULL, 0);
		goto out_done;
	}
	end = io_min(fi->size, pos + size);
	while (pos < end) {
		ret = cache_lookup(fsx->cache, fi->ino, pos, &m);
		if (ret)
			goto out_unlock;
		if (m.offset > pos || iomap_last(&m) < pos) {
			ret = -EIO;
			goto out_unlock;
		}
		seg_end = io_min(io_map_end(&m), end);
		switch (m.type) {
		case IOMAP_MAPPED:
			addr = m.addr + (pos - m.offset);
			dev_end = io_max(dev_end, addr + (seg_end - pos));
			ret = io_reply_mapped(fsx, &r, addr, seg_end - pos);
			break;
		case IOMAP_INLINE:
			ret = io_reply_inline(fsx, fi, &r, pos, seg_end);
			break;
		case IOMAP_HOLE:
		case IOMAP_UNWRITTEN:
		case IOMAP_DELALLOC:
			ret = io_reply_zeroes(&r, seg_end - pos);
			break;
		default:
			ret = -EIO;
			break;
		}
		if (ret)
			goto out_unlock;
		pos = seg_end;
	}
	if (dev_end) {
		ret = io_dev_check_end(fsx, dev_end);
		if (ret)
			goto out_unlock;
	}
	/* Still under io_lock shared: no truncate or punch can free these
	 * blocks while the kernel reads them.  fuse_reply_data() replies
	 * (with an error when the device read fails) exactly once.  Small
	 * replies are copied: a pread and a write cost less than the pipe
	 * and the three splices of the zero-copy path. */
	fuse_reply_data(req, r.bv,
			end - (uint64_t)off <= IO_COPY_MAX
				? FUSE_BUF_NO_SPLICE
				: FUSE_BUF_SPLICE_MOVE);
out_done:
	io_unlock(fi);
	free(r.bv);
	free(r.owned);
	atime_accessed(fsx, fi->ino, fi, false, ffi ? ffi->flags : 0);
	io_put(fsx, fi, ref);
	return;

out_unlock:
	io_unlock(fi);
out_put:
	free(r.bv);
	free(r.owned);
	io_put(fsx, fi, ref);
	fuse_reply_err(req, -ret);
}
