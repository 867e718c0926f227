// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fsattr.c - the file-attribute ioctls for the shell tests, one call per
 * command, printing what the call gave (or the errno name), so that a test
 * compares iomapfs with the kernel's ext4 word for word:
 *
 *   fsattr get PATH             FS_IOC_GETFLAGS: the flags, 0x%08x
 *   fsattr set PATH FLAGS       FS_IOC_SETFLAGS: OK or the errno name
 *   fsattr xget PATH            FS_IOC_FSGETXATTR: "xflags 0x%x projid N
 *                               extsize N nextents N cowextsize N"
 *   fsattr xset PATH XFLAGS PROJID
 *                               FS_IOC_FSSETXATTR: OK or the errno name
 *   fsattr probe PATH           for each of the 32 flag bits: try to set
 *                               it on PATH (SETFLAGS of the flags | bit),
 *                               print "bit N 0x%08x ERRNO -> 0x%08x" (the
 *                               bit, what SETFLAGS gave, the flags after),
 *                               then restore the flags; immutable and
 *                               append-only are left out (they stick)
 *   fsattr version PATH         FS_IOC_GETVERSION: the generation
 *   fsattr shutdown PATH [FLAGS]  FS_IOC_SHUTDOWN (default 0)
 *   fsattr trim PATH START LEN MINLEN
 *                               FITRIM: OK and the bytes trimmed, or errno
 *   fsattr bmap PATH BLOCK      FIBMAP: the device block, or errno
 *
 * PATH is opened read-only (O_NONBLOCK, so a FIFO does not block), as
 * chattr and lsattr open it.  Numbers may be decimal or 0x hex.
 * Exit status: 0 when the line was printed (even an errno), 1 when PATH
 * cannot be opened, 2 on a usage error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifndef FS_IOC_SHUTDOWN
#define FS_IOC_SHUTDOWN _IOR('X', 125, uint32_t)
#endif

/* The errno names the tests compare (strerrorname_np is glibc 2.32). */
static const char *err_name(int e)
{
	switch (e) {
	case 0:
		return "OK";
	case EPERM:
		return "EPERM";
	case EACCES:
		return "EACCES";
	case EINVAL:
		return "EINVAL";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case ENOTTY:
		return "ENOTTY";
	case EIO:
		return "EIO";
	case EROFS:
		return "EROFS";
	case EFAULT:
		return "EFAULT";
	case EOVERFLOW:
		return "EOVERFLOW";
	case EBUSY:
		return "EBUSY";
	case ENOSPC:
		return "ENOSPC";
	case ENOENT:
		return "ENOENT";
	case ENOSYS:
		return "ENOSYS";
	default:
		return strerror(e);
	}
}

static int num(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

static int get_flags(int fd, unsigned int *flags)
{
	return ioctl(fd, FS_IOC_GETFLAGS, flags) < 0 ? errno : 0;
}

static int set_flags(int fd, unsigned int flags)
{
	return ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0 ? errno : 0;
}

static void probe(int fd)
{
	unsigned int old, now, bit;
	int e, i;

	e = get_flags(fd, &old);
	if (e) {
		printf("get %s\n", err_name(e));
		return;
	}
	for (i = 0; i < 32; i++) {
		bit = 1u << i;
		if (bit & (FS_IMMUTABLE_FL | FS_APPEND_FL))
			continue;
		e = set_flags(fd, old | bit);
		now = 0;
		if (get_flags(fd, &now))
			now = 0xffffffff;
		printf("bit %2d 0x%08x %s -> 0x%08x\n", i, bit, err_name(e),
		       now);
		if (now != old && now != 0xffffffff)
			set_flags(fd, old);
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: fsattr get|set|xget|xset|probe|version|"
			"shutdown|trim|bmap PATH [ARGS]\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t a = 0, b = 0, c = 0;
	struct fsxattr fx;
	unsigned int flags;
	const char *cmd;
	int fd, e;

	if (argc < 3)
		return usage();
	cmd = argv[1];
	fd = open(argv[2], O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0) {
		fprintf(stderr, "fsattr: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (!strcmp(cmd, "get") && argc == 3) {
		e = get_flags(fd, &flags);
		if (e)
			printf("%s\n", err_name(e));
		else
			printf("0x%08x\n", flags);
	} else if (!strcmp(cmd, "set") && argc == 4) {
		if (num(argv[3], &a) || a > UINT32_MAX)
			return usage();
		printf("%s\n", err_name(set_flags(fd, (unsigned int)a)));
	} else if (!strcmp(cmd, "xget") && argc == 3) {
		memset(&fx, 0, sizeof(fx));
		if (ioctl(fd, FS_IOC_FSGETXATTR, &fx) < 0)
			printf("%s\n", err_name(errno));
		else
			printf("xflags 0x%x projid %u extsize %u nextents %u "
			       "cowextsize %u\n",
			       fx.fsx_xflags, fx.fsx_projid, fx.fsx_extsize,
			       fx.fsx_nextents, fx.fsx_cowextsize);
	} else if (!strcmp(cmd, "xset") && argc == 5) {
		if (num(argv[3], &a) || a > UINT32_MAX || num(argv[4], &b) ||
		    b > UINT32_MAX)
			return usage();
		memset(&fx, 0, sizeof(fx));
		if (ioctl(fd, FS_IOC_FSGETXATTR, &fx) < 0) {
			printf("%s\n", err_name(errno));
		} else {
			fx.fsx_xflags = (uint32_t)a;
			fx.fsx_projid = (uint32_t)b;
			e = ioctl(fd, FS_IOC_FSSETXATTR, &fx) < 0 ? errno : 0;
			printf("%s\n", err_name(e));
		}
	} else if (!strcmp(cmd, "probe") && argc == 3) {
		probe(fd);
	} else if (!strcmp(cmd, "version") && argc == 3) {
		unsigned int gen = 0;

		if (ioctl(fd, FS_IOC_GETVERSION, &gen) < 0)
			printf("%s\n", err_name(errno));
		else
			printf("%u\n", gen);
	} else if (!strcmp(cmd, "shutdown") && (argc == 3 || argc == 4)) {
		uint32_t how = 0;

		if (argc == 4) {
			if (num(argv[3], &a) || a > UINT32_MAX)
				return usage();
			how = (uint32_t)a;
		}
		e = ioctl(fd, FS_IOC_SHUTDOWN, &how) < 0 ? errno : 0;
		printf("%s\n", err_name(e));
	} else if (!strcmp(cmd, "trim") && argc == 6) {
		struct fstrim_range r;

		if (num(argv[3], &a) || num(argv[4], &b) || num(argv[5], &c))
			return usage();
		r.start = a;
		r.len = b;
		r.minlen = c;
		if (ioctl(fd, FITRIM, &r) < 0)
			printf("%s\n", err_name(errno));
		else
			printf("OK %" PRIu64 "\n", (uint64_t)r.len);
	} else if (!strcmp(cmd, "bmap") && argc == 4) {
		int blk;

		if (num(argv[3], &a) || a > INT32_MAX)
			return usage();
		blk = (int)a;
		if (ioctl(fd, FIBMAP, &blk) < 0)
			printf("%s\n", err_name(errno));
		else
			printf("%d\n", blk);
	} else {
		close(fd);
		return usage();
	}
	close(fd);
	return 0;
}
