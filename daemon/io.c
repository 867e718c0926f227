// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * io.c - what the data path's three rooms (io_read.c, io_write.c,
 * io_falloc.c) share: the inode of a file handle, writes and zeroes on the
 * device at mapped addresses, the mapping of a file offset read from disk,
 * inline data, and the block cache switch before blocks change owner.
 * File data never goes through libext2fs: it is read and written with
 * pread/pwrite (or splice, through libfuse's file-descriptor buffers) on
 * fsx->dev_fd at the device addresses the mappings give.  libext2fs only
 * changes metadata: it allocates, converts and frees blocks (extent.c)
 * and writes inodes.
 *
 * Why no reader ever sees stale block contents
 * --------------------------------------------
 * Every read and every lock-free overwrite holds the inode's io_lock shared
 * from the moment it looks a mapping up until the data has been replied or
 * written (op_read holds it across fuse_reply_data, so the kernel's splice
 * from the device finishes before a truncate can free the block).  Every
 * change of a mapping (allocation, conversion, extension, truncate, punch,
 * zero) holds io_lock exclusive and fs_lock, and invalidates the changed
 * range in the cache before it drops them.  So a mapping a reader uses is
 * the mapping on disk for the whole time it is used, and a cached mapping
 * is never older than the last change (the cache's cookie rule covers a
 * lookup that raced an invalidation).
 * Blocks become visible in the only safe order, the iomap ioend order:
 * extent files get new blocks as unwritten extents (which read as zeroes),
 * the data (and zeroes for the parts of new blocks the write does not
 * cover) is written, and only then are the extents converted to written and
 * i_size raised.  Block-mapped (ext2/ext3) files have no unwritten state:
 * their new blocks are taken from the bitmap first, filled, and linked into
 * the file only after the data is on the device.  A crash at any point
 * leaves either zeroes (unwritten, or not yet linked) or the new data, never
 * a block's previous contents.  The tail of the last block past i_size is
 * kept zero (truncate zeroes it, extending writes zero it), so growing a
 * file never uncovers old bytes either.
 *
 * libext2fs's block cache and file data: see extent.c.  The data path
 * never moves file data through libext2fs's io_channel, so libext2fs never
 * holds a copy of a data block: inline data is expanded by hand
 * (io_inline_expand) instead of with ext2fs_inline_data_expand(), which
 * writes the block through ext2fs_file_write(), and block-mapped files
 * are never preallocated (ext4 refuses that too).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "ext2map.h"
#include "extent.h"
#include "io.h"

char io_zeroes[IO_ZERO_CHUNK];

/* The in-memory inode of a file handle; open/create put it in fh. */
static struct fs_inode *io_handle_inode(const struct fuse_file_info *ffi)
{
	return (struct fs_inode *)(uintptr_t)ffi->fh;
}

struct fs_inode *io_get(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *ffi, bool *ref)
{
	struct fs_inode *fi = ffi ? io_handle_inode(ffi) : NULL;

	*ref = false;
	if (fi)
		return fi;
	fi = fs_inode_get(req_fs(req), fs_ino(ino));
	if (fi)
		*ref = true;
	else
		fuse_reply_err(req, ENOMEM);
	return fi;
}

void io_put(struct iomapfs *fsx, struct fs_inode *fi, bool ref)
{
	if (ref)
		fs_inode_put(fsx, fi);
}

int io_dev_write(struct iomapfs *fsx, const void *buf, uint64_t len,
		 uint64_t addr)
{
	const char *p = buf;
	ssize_t n;
	size_t chunk;

	while (len > 0) {
		chunk = (size_t)io_min(len, p ? SSIZE_MAX : IO_ZERO_CHUNK);
		n = pwrite(fsx->dev_fd, p ? p : io_zeroes, chunk, (off_t)addr);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		len -= (uint64_t)n;
		addr += (uint64_t)n;
		if (p)
			p += n;
	}
	return 0;
}

int io_dev_write_buf(struct iomapfs *fsx, struct fuse_bufvec *src, uint64_t len,
		     uint64_t addr)
{
	struct fuse_bufvec dst;
	ssize_t n;

	while (len > 0) {
		dst = FUSE_BUFVEC_INIT((size_t)io_min(len, SSIZE_MAX));
		dst.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		dst.buf[0].fd = fsx->dev_fd;
		dst.buf[0].pos = (off_t)addr;
		n = fuse_buf_copy(&dst, src, 0);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;
		len -= (uint64_t)n;
		addr += (uint64_t)n;
	}
	return 0;
}

int io_map_disk(struct iomapfs *fsx, struct fs_inode *fi,
		struct ext2_inode_large *inode, uint64_t off, struct iomap *m)
{
	int ret;

	ret = iomap_ext2_lookup_inode(fsx->fs, fi->ino, inode, off, m);
	if (ret)
		return ret;
	if (m->offset > off || iomap_last(m) < off)
		return -EIO;
	return 0;
}

int io_zero_mapped(struct iomapfs *fsx, struct fs_inode *fi,
		   struct ext2_inode_large *inode, uint64_t start, uint64_t end)
{
	struct iomap m;
	uint64_t pos = start, seg_end;
	int ret;

	while (pos < end) {
		ret = io_map_disk(fsx, fi, inode, pos, &m);
		if (ret)
			return ret;
		seg_end = io_min(io_map_end(&m), end);
		if (m.type == IOMAP_MAPPED) {
			ret = io_dev_write(fsx, NULL, seg_end - pos,
					   m.addr + (pos - m.offset));
			if (ret)
				return ret;
		}
		pos = seg_end;
	}
	return 0;
}

int io_inline_get(struct iomapfs *fsx, struct fs_inode *fi,
		  struct ext2_inode_large *inode, size_t min, char **out,
		  size_t *len)
{
	size_t cap = 0;
	errcode_t err;
	char *buf;

	err = ext2fs_inline_data_size(fsx->fs, fi->ino, &cap);
	if (err)
		return translate_error(fsx, err, fi->ino);
	buf = calloc(1, io_max(cap, min) + 1);
	if (!buf)
		return -ENOMEM;
	err = ext2fs_inline_data_get(fsx->fs, fi->ino,
				     (struct ext2_inode *)inode, buf, &cap);
	if (err) {
		free(buf);
		return translate_error(fsx, err, fi->ino);
	}
	*out = buf;
	*len = cap;
	return 0;
}

int io_inline_put(struct iomapfs *fsx, struct fs_inode *fi,
		  struct ext2_inode_large *inode, char *buf, size_t len)
{
	errcode_t err;

	err = ext2fs_inline_data_set(fsx->fs, fi->ino,
				     (struct ext2_inode *)inode, buf, len);
	if (err == EXT2_ET_INLINE_DATA_NO_SPACE)
		return 1;
	if (err)
		return translate_error(fsx, err, fi->ino);
	return fs_read_inode(fsx, fi->ino, inode);
}

int io_ext2_nocache(struct iomapfs *fsx, ext2_ino_t ino)
{
	errcode_t err = extent_nocache(fsx->fs);

	return err ? translate_error(fsx, err, ino) : 0;
}
