// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-ext2map.c - unit tests of the ext2 mapping source's entry points
 * that the shell tests reach only through the walk: the errcode_t -> errno
 * table, iomap_ext2_lookup() at unaligned offsets and its errors,
 * iomap_ext2_lookup_inode() with the caller's inode, the maximum size, and
 * a walk stopped by its callback.  It makes its own image with mke2fs -d
 * (see make_image()), or takes one as its argument.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2fs.h>

#include "ext2map.h"
#include "iomap.h"
#include "tap.h"

static void test_errno_table(void)
{
	tap_eq_int(iomap_ext2_errno(0), 0, "errno: 0 stays 0");
	tap_eq_int(iomap_ext2_errno(EIO), -EIO, "errno: plain EIO passes");
	tap_eq_int(iomap_ext2_errno(ENOSPC), -ENOSPC,
		   "errno: plain ENOSPC passes");
	tap_eq_int(iomap_ext2_errno(EXT2_ET_NO_MEMORY), -ENOMEM,
		   "errno: NO_MEMORY is ENOMEM");
	tap_eq_int(iomap_ext2_errno(EXT2_ET_EXTENT_HEADER_BAD), -EUCLEAN,
		   "errno: EXTENT_HEADER_BAD is EUCLEAN");
	tap_eq_int(iomap_ext2_errno(EXT2_ET_EXTENT_CSUM_INVALID), -EUCLEAN,
		   "errno: EXTENT_CSUM_INVALID is EUCLEAN");
	tap_eq_int(iomap_ext2_errno(EXT2_ET_DIR_CORRUPTED), -EUCLEAN,
		   "errno: DIR_CORRUPTED is EUCLEAN");
	tap_eq_int(iomap_ext2_errno(EXT2_ET_RO_FILSYS), -EROFS,
		   "errno: RO_FILSYS is EROFS");
	tap_eq_int(iomap_ext2_errno(EXT2_ET_FILE_TOO_BIG), -EFBIG,
		   "errno: FILE_TOO_BIG is EFBIG");
	tap_eq_int(iomap_ext2_errno(EXT2_ET_BLOCK_ALLOC_FAIL), -ENOSPC,
		   "errno: BLOCK_ALLOC_FAIL is ENOSPC");
	tap_eq_int(iomap_ext2_errno(EXT2_ET_DIR_NO_SPACE), -ENOSPC,
		   "errno: DIR_NO_SPACE is ENOSPC");
	tap_eq_int(iomap_ext2_errno(EXT2_ET_BAD_INODE_NUM), -ENOENT,
		   "errno: BAD_INODE_NUM is ENOENT");
	tap_eq_int(iomap_ext2_errno(EXT2_ET_MAGIC_IO_CHANNEL), -EIO,
		   "errno: an unlisted code is EIO");
	tap_ok(strstr(iomap_ext2_strerror(EXT2_ET_EXTENT_HEADER_BAD),
		      "xtent") != NULL,
	       "strerror names libext2fs codes: '%s'",
	       iomap_ext2_strerror(EXT2_ET_EXTENT_HEADER_BAD));
}

static ext2_ino_t ino_of(ext2_filsys fs, const char *path)
{
	ext2_ino_t ino = 0;

	if (ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino))
		return 0;
	return ino;
}

struct stop_state {
	int calls;
};

static int stop_at_second(const struct iomap *m, void *arg)
{
	struct stop_state *st = arg;

	(void)m;
	return ++st->calls == 2 ? 42 : 0;
}

/*
 * The image (4 KiB blocks, ext4): /data is 3 blocks of data, /sparse is a
 * 2-block hole, 1 block of data, and EOF at 5 blocks, /fifo a fifo.
 */
static void test_lookups(ext2_filsys fs)
{
	uint64_t bs = fs->blocksize, max;
	ext2_ino_t data = ino_of(fs, "/data"), sparse = ino_of(fs, "/sparse");
	ext2_ino_t fifo = ino_of(fs, "/fifo");
	struct ext2_inode_large inode;
	struct stop_state st = {0};
	struct iomap m, m2;
	int ret;

	tap_ok(data && sparse && fifo, "the image has /data, /sparse, /fifo");
	tap_eq_u64(bs, 4096, "the image has 4 KiB blocks");

	ret = iomap_ext2_lookup(fs, data, 5000, &m);
	tap_eq_int(ret, 0, "lookup inside /data");
	tap_eq_u64(m.offset, bs, "an unaligned offset starts at its block");
	tap_eq_u64(m.length, 2 * bs, "and reaches the extent's end");
	tap_eq_int(m.type, IOMAP_MAPPED, "MAPPED");
	tap_eq_int(m.flags, IOMAP_F_LAST, "LAST: it reaches EOF");
	tap_ok(m.addr != IOMAP_NULL_ADDR && m.addr % bs == 0,
	       "a block-aligned device address");
	ret = iomap_ext2_lookup(fs, data, 0, &m2);
	tap_eq_int(ret, 0, "lookup at 0 of /data");
	tap_eq_u64(m2.addr + bs, m.addr, "addresses follow the file offset");
	tap_eq_int(iomap_validate(&m), 0, "the mapping is valid");

	memset(&inode, 0, sizeof(inode));
	ret = ext2fs_read_inode_full(fs, data, (struct ext2_inode *)&inode,
				     sizeof(inode));
	tap_eq_int(ret, 0, "read /data's inode");
	ret = iomap_ext2_lookup_inode(fs, data, &inode, 5000, &m2);
	tap_eq_int(ret, 0, "lookup_inode with the caller's inode");
	tap_ok(m.offset == m2.offset && m.length == m2.length &&
		       m.addr == m2.addr && m.type == m2.type &&
		       m.flags == m2.flags,
	       "gives what lookup gives");

	ret = iomap_ext2_lookup(fs, sparse, 100, &m);
	tap_eq_int(ret, 0, "lookup in the hole of /sparse");
	tap_eq_int(m.type, IOMAP_HOLE, "HOLE");
	tap_eq_u64(m.offset, 0, "from block 0");
	tap_eq_u64(m.length, 2 * bs, "up to the next extent");
	tap_eq_u64(m.addr, IOMAP_NULL_ADDR, "with no address");
	tap_eq_int(m.flags, 0, "not LAST");

	ret = iomap_ext2_lookup(fs, sparse, 3 * bs + 1, &m);
	tap_eq_int(ret, 0, "lookup after the data of /sparse");
	tap_eq_u64(m.offset, 3 * bs, "a hole from block 3");
	tap_eq_u64(m.length, 2 * bs, "to EOF");
	tap_eq_int(m.flags, IOMAP_F_LAST, "LAST");

	max = iomap_ext2_max_bytes(fs, (struct ext2_inode *)&inode);
	tap_eq_u64(max, ((1ULL << 32) - 1) * bs, "max size of an extent file");
	ret = iomap_ext2_lookup(fs, sparse, 5 * bs, &m);
	tap_eq_int(ret, 0, "lookup at EOF of /sparse");
	tap_eq_u64(m.offset + m.length, max, "a hole to the maximum size");
	tap_eq_int(m.flags, IOMAP_F_LAST, "LAST");
	tap_eq_int(iomap_ext2_lookup(fs, sparse, max - 1, &m), 0,
		   "lookup in the last block");
	tap_eq_u64(m.length, bs, "is one block long");
	tap_eq_int(iomap_ext2_lookup(fs, sparse, max, &m), -EFBIG,
		   "lookup at the maximum size is EFBIG");
	tap_eq_int(iomap_ext2_lookup(fs, sparse, UINT64_MAX, &m), -EFBIG,
		   "lookup at 2^64 - 1 is EFBIG");

	tap_eq_int(iomap_ext2_lookup(fs, fifo, 0, &m), -EINVAL,
		   "a fifo has no mappings: EINVAL");
	tap_eq_int(iomap_ext2_lookup(fs, 0, 0, &m), -ENOENT, "inode 0: ENOENT");
	tap_eq_int(iomap_ext2_lookup(fs, fs->super->s_inodes_count + 1, 0, &m),
		   -ENOENT, "an inode past the count: ENOENT");
	tap_eq_int(iomap_ext2_lookup(fs, fs->super->s_inodes_count, 0, &m),
		   -ENOENT, "a free inode: ENOENT");

	ret = iomap_ext2_walk(fs, sparse, 0, 0, stop_at_second, &st);
	tap_eq_int(ret, 42, "a callback's non-zero value stops the walk");
	tap_eq_int(st.calls, 2, "after the second mapping");
	tap_eq_int(iomap_ext2_walk(fs, sparse, max, 1, stop_at_second, &st),
		   -EFBIG, "a walk from the maximum size is EFBIG");
}

/*
 * Make the image described above test_lookups() in a fresh directory under
 * $TMPDIR with mke2fs -d, so that the test also runs on its own (t0990
 * runs every unit test without arguments).  Returns 0 and fills @dir and
 * @img, or -1 when it cannot.
 */
static int make_image(char *dir, size_t dir_size, char *img, size_t img_size)
{
	const char *tmp = getenv("TMPDIR");
	char cmd[1024];

	snprintf(dir, dir_size, "%s/test-ext2map.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(img, img_size, "%s/unit.img", dir);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && mkdir tree && "
		 "head -c 12288 /dev/urandom >tree/data && "
		 "dd if=/dev/urandom of=tree/sparse bs=4096 seek=2 count=1 "
		 "2>/dev/null && truncate -s 20480 tree/sparse && "
		 "mkfifo tree/fifo && truncate -s 8M unit.img && "
		 "PATH=/usr/sbin:/sbin:$PATH mke2fs -q -F -t ext4 -b 4096 "
		 "-d tree unit.img >/dev/null 2>&1",
		 dir);
	if (system(cmd) != 0)
		return -1;
	return 0;
}

static void remove_dir(const char *dir)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
}

int main(int argc, char **argv)
{
	char dir[512] = "", img[600];
	const char *path;
	ext2_filsys fs;
	errcode_t err;

	test_errno_table();
	if (argc > 1) {
		path = argv[1];
	} else if (make_image(dir, sizeof(dir), img, sizeof(img)) == 0) {
		path = img;
	} else {
		tap_ok(1, "lookups # SKIP cannot make an image with mke2fs");
		if (dir[0])
			remove_dir(dir);
		return tap_done();
	}
	err = ext2fs_open(path, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs);
	if (tap_ok(!err, "open %s", path)) {
		test_lookups(fs);
		ext2fs_close_free(&fs);
	} else {
		tap_diag("%s", iomap_ext2_strerror(err));
	}
	if (dir[0])
		remove_dir(dir);
	return tap_done();
}
