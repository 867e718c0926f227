// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * iomap-dump.c - prints what the ext2 mapping source (shared/ext2map.c)
 * says about one inode of an unmounted image, so that shell tests can
 * compare it with debugfs.  The image is opened read-only with
 * ext2fs_open(); the journal is not replayed.
 *
 * Usage: iomap-dump [--blocks] IMAGE INODE|PATH [OFFSET [LENGTH]]
 *
 * INODE is a decimal inode number, optionally written "<N>" as debugfs
 * does; PATH is absolute inside the image.  OFFSET and LENGTH are bytes
 * (default 0 and 0; LENGTH 0 means to EOF and past it to the end of the
 * last extent, as iomap_ext2_walk() defines).  Each mapping is one line:
 *
 *   OFFSET LENGTH TYPE ADDR FLAGS          (bytes, decimal)
 *   LBLK COUNT TYPE PBLK FLAGS             (--blocks: filesystem blocks)
 *
 * TYPE is the iomap type name (HOLE, MAPPED, UNWRITTEN, INLINE), ADDR/PBLK
 * is "-" for a mapping without a device address, and FLAGS are the flag
 * names joined by '|' or "-" for none.  Exit status: 0 ok, 1 the image,
 * inode or mapping metadata could not be read (a message on stderr says
 * which and why), 2 usage.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2fs.h>

#include "ext2map.h"
#include "iomap.h"

struct dump_state {
	bool blocks;
	uint64_t bsize;
	uint64_t next; /* where the next mapping must start */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: iomap-dump [--blocks] IMAGE INODE|PATH [OFFSET "
		   "[LENGTH]]\n"
		   "Print the mappings of one inode of an ext2/3/4 image, one "
		   "a line:\n"
		   "  OFFSET LENGTH TYPE ADDR FLAGS  (bytes; --blocks: fs "
		   "blocks)\n");
}

/* A whole decimal or 0x number, or false. */
static bool parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static int dump_one(const struct iomap *m, void *arg)
{
	struct dump_state *st = arg;
	char flags[64], addr[32];
	const char *type = iomap_type_name(m->type);

	/*
	 * The walk's own promises, checked here so that every test of the
	 * mapping source checks them too: well-formed, block-aligned
	 * mappings that follow each other with no gap or overlap.
	 */
	if (iomap_validate(m) || m->offset % st->bsize ||
	    m->length % st->bsize || m->offset != st->next) {
		fprintf(stderr,
			"iomap-dump: bad mapping from the walk: offset %" PRIu64
			" length %" PRIu64
			" type %u flags 0x%x (expected offset %" PRIu64 ")\n",
			m->offset, m->length, m->type, m->flags, st->next);
		return -EPROTO;
	}
	st->next = m->offset + m->length;
	if (iomap_flags_format(m->flags, flags, sizeof(flags)) < 0)
		return -EINVAL;
	if (!flags[0])
		strcpy(flags, "-");
	if (m->addr == IOMAP_NULL_ADDR)
		strcpy(addr, "-");
	else
		snprintf(addr, sizeof(addr), "%" PRIu64,
			 st->blocks ? m->addr / st->bsize : m->addr);
	if (st->blocks)
		printf("%" PRIu64 " %" PRIu64 " %s %s %s\n",
		       m->offset / st->bsize, m->length / st->bsize,
		       type ? type : "?", addr, flags);
	else
		printf("%" PRIu64 " %" PRIu64 " %s %s %s\n", m->offset,
		       m->length, type ? type : "?", addr, flags);
	return 0;
}

/* Resolve @arg (a number, "<N>" or an absolute path) to an inode. */
static int resolve(ext2_filsys fs, const char *arg, ext2_ino_t *ino)
{
	char num[32];
	uint64_t v;
	size_t n;
	errcode_t err;

	if (arg[0] == '/') {
		err = ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, arg, ino);
		if (err) {
			fprintf(stderr, "iomap-dump: %s: %s\n", arg,
				iomap_ext2_strerror(err));
			return -1;
		}
		return 0;
	}
	n = strlen(arg);
	if (arg[0] == '<' && n > 2 && n < sizeof(num) && arg[n - 1] == '>') {
		memcpy(num, arg + 1, n - 2);
		num[n - 2] = '\0';
		arg = num;
	}
	if (!parse_u64(arg, &v) || v == 0 || v > UINT32_MAX) {
		fprintf(stderr,
			"iomap-dump: '%s' is neither an inode number nor an "
			"absolute path\n",
			arg);
		return -1;
	}
	*ino = (ext2_ino_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"blocks", no_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct dump_state st = {0};
	uint64_t off = 0, len = 0;
	ext2_filsys fs;
	ext2_ino_t ino;
	errcode_t err;
	int c, ret, status = 1;

	while ((c = getopt_long(argc, argv, "bh", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			st.blocks = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind < 2 || argc - optind > 4) {
		usage(stderr);
		return 2;
	}
	if (argc - optind > 2 && !parse_u64(argv[optind + 2], &off)) {
		fprintf(stderr, "iomap-dump: bad offset '%s'\n",
			argv[optind + 2]);
		return 2;
	}
	if (argc - optind > 3 && !parse_u64(argv[optind + 3], &len)) {
		fprintf(stderr, "iomap-dump: bad length '%s'\n",
			argv[optind + 3]);
		return 2;
	}

	err = ext2fs_open(argv[optind], EXT2_FLAG_64BITS, 0, 0, unix_io_manager,
			  &fs);
	if (err) {
		fprintf(stderr, "iomap-dump: %s: cannot open image: %s\n",
			argv[optind], iomap_ext2_strerror(err));
		return 1;
	}
	st.bsize = fs->blocksize;
	if (resolve(fs, argv[optind + 1], &ino))
		goto out_close;

	st.next = off - off % st.bsize;
	ret = iomap_ext2_walk(fs, ino, off, len, dump_one, &st);
	if (ret) {
		fprintf(stderr, "iomap-dump: inode %u: %s\n", ino,
			ret == -ENOENT	 ? "inode is not in use"
			: ret == -EINVAL ? "inode has no block mappings"
					 : strerror(-ret));
		goto out_close;
	}
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "iomap-dump: write error: %s\n",
			strerror(errno));
		goto out_close;
	}
	status = 0;
out_close:
	ext2fs_close_free(&fs);
	return status;
}
