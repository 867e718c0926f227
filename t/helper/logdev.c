// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * logdev.c - the power-cut recorder of the crash tests (t/lib-crash.sh), a
 * stand-in for device-mapper's dm-log-writes, which these machines lack.
 * A tiny FUSE filesystem serves one file, MOUNTPOINT/disk, backed by an
 * image file, and appends to a log, in the order it serves them, every
 * write (offset, length, data), every zeroing (fallocate punch or zero
 * range: a loop device's discard and write-zeroes) and every flush
 * (fsync(2) or fdatasync(2) of the file, which is what a loop device does
 * for a cache flush, and a write made with O_DSYNC/O_SYNC or RWF_DSYNC,
 * which the kernel passes in the write's flags).  A filesystem then runs
 * on the served file: iomapfs directly, or the kernel's ext4 on a loop
 * device over it.  t/abuse/logreplay.py rebuilds crash images from the
 * image as it was before and the log.
 *
 * The file is opened in direct-I/O mode (FOPEN_DIRECT_IO), so that no page
 * cache sits between a client and the log: every write(2) is a FUSE_WRITE
 * (split at max_write), and the log order is the order the writes reached
 * the "device".  FUSE_FLUSH is not a flush: the kernel sends it at every
 * close(2) of a descriptor, which promises no durability, so it is only
 * counted.  The loop is single-threaded: a record is logged and applied to
 * the image before the next request is read, so a flush record stands
 * after every write whose reply the client had before it asked to flush.
 *
 * MOUNTPOINT/ctl takes commands, one a line, written to it:
 *     mark TEXT            a MARK record holding TEXT (a test's note in the
 *                          log: "this fsync has returned")
 *     fail START LEN N     the fault mode: from the N-th write (counted
 *                          from 1, by FUSE request) that touches the bytes
 *                          [START, START+LEN) on, such writes fail with EIO
 *                          (and are logged as FAILED, not applied); each
 *                          "fail" adds a range (up to LOGDEV_FAIL_RANGES,
 *                          for a fragmented journal), and the count, from
 *                          its last N, is of writes touching any of them
 *     fail off             the end of the fault mode: no range left
 * and reads back as "key value" lines: the counts and the state.
 *
 * The log is bounded: LOGDEV_LOG_MAX_DEFAULT bytes, or --log-max.  A write
 * that would pass the bound fails with EIO, as does every write and flush
 * after it; a FULL record ends the log, logdev says why on stderr and ctl
 * shows "full 1".
 *
 * Usage: logdev [--log-max=BYTES] [--fail=START,LEN,N]... [-d] IMAGE LOG MNT
 * Exit 0 after an unmount; 2 on a usage error; 1 on other errors.
 */
#include "config.h"

#define FUSE_USE_VERSION 314
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/falloc.h>

/* The default bound of the log: 1 GiB (--log-max overrides it). */
#define LOGDEV_LOG_MAX_DEFAULT (1ull << 30)
/* The longest mark text, and the longest command line written to ctl. */
#define LOGDEV_MARK_MAX 4000u
#define LOGDEV_CTL_MAX	4096u
/* The largest write the kernel may send (the session clamps it). */
#define LOGDEV_MAX_WRITE (1u << 20)
/* The fault mode's ranges: enough for the extents of a journal. */
#define LOGDEV_FAIL_RANGES 16

#define LOGDEV_INO_ROOT FUSE_ROOT_ID
#define LOGDEV_INO_DISK 2
#define LOGDEV_INO_CTL	3

/*
 * The log's format, little-endian as on every machine this runs on (the
 * log never leaves it): a header, then records, each a struct logdev_rec
 * followed by `length` bytes of data for WRITE and MARK.  logreplay.py
 * reads the same layout ("<8sQQQ" and "<IIQQQII").
 */
#define LOGDEV_HEAD_MAGIC "LOGDEV1\n"
#define LOGDEV_REC_MAGIC  0x4352444cu /* "LDRC" */

struct logdev_head {
	char magic[8];
	uint64_t dev_size;
	uint64_t log_max;
	uint64_t reserved;
};

enum logdev_rec_type {
	LOGDEV_WRITE = 1,  /* data follows */
	LOGDEV_FLUSH = 2,  /* everything logged before is durable */
	LOGDEV_ZERO = 3,   /* [offset, offset + length) reads as zeroes */
	LOGDEV_MARK = 4,   /* a test's text follows */
	LOGDEV_FAILED = 5, /* a write refused (fault mode): nothing changed */
	LOGDEV_FULL = 6,   /* the log reached its bound; nothing follows */
};

/* Flags of a FLUSH record: what asked for it. */
#define LOGDEV_FLUSH_DATASYNC  1u /* fdatasync(2) */
#define LOGDEV_FLUSH_SYNCWRITE 2u /* a write with O_DSYNC, O_SYNC, RWF_* */

struct logdev_rec {
	uint32_t magic;
	uint32_t type;
	uint64_t seq;
	uint64_t offset;
	uint64_t length;
	uint32_t flags;
	uint32_t pad;
};

/* All of it is touched by the session's one thread only: no lock. */
struct logdev {
	int img_fd;
	int log_fd;
	const char *log_path;
	uint64_t dev_size;
	uint64_t log_max;
	uint64_t log_bytes;
	uint64_t seq;
	bool full;
	/* The fault mode: writes touching any [fail_start[i], fail_end[i])
	 * fail from the fail_from-th on; fail_seen counts those seen. */
	unsigned int fail_ranges;
	uint64_t fail_start[LOGDEV_FAIL_RANGES], fail_end[LOGDEV_FAIL_RANGES];
	uint64_t fail_from, fail_seen;
	uint64_t writes, write_bytes, flushes, zeroes, marks, closes;
	uint64_t failed;
};

static int ld_log(struct logdev *ld, uint32_t type, uint64_t offset,
		  uint64_t length, uint32_t flags, const void *data,
		  size_t data_len);

/*
 * Room for a record of data_len bytes, keeping room for the FULL record
 * that ends a log.  Without room, log FULL (once) and say so.
 */
static int ld_room(struct logdev *ld, size_t data_len)
{
	uint64_t need = 2 * sizeof(struct logdev_rec) + data_len;

	if (ld->full)
		return -EIO;
	if (ld->log_bytes + need <= ld->log_max)
		return 0;
	fprintf(stderr,
		"logdev: %s: the log reached its bound of %" PRIu64
		" bytes (--log-max) after %" PRIu64 " records: this and every "
		"later write and flush fail with EIO\n",
		ld->log_path, ld->log_max, ld->seq);
	ld->full = true;
	ld_log(ld, LOGDEV_FULL, 0, 0, 0, NULL, 0);
	return -EIO;
}

static int ld_log(struct logdev *ld, uint32_t type, uint64_t offset,
		  uint64_t length, uint32_t flags, const void *data,
		  size_t data_len)
{
	struct logdev_rec rec = {
		.magic = LOGDEV_REC_MAGIC,
		.type = type,
		.seq = ld->seq,
		.offset = offset,
		.length = length,
		.flags = flags,
	};
	struct iovec iov[2] = {
		{.iov_base = &rec, .iov_len = sizeof(rec)},
		{.iov_base = (void *)data, .iov_len = data_len},
	};
	size_t want = sizeof(rec) + data_len;
	ssize_t n;

	n = writev(ld->log_fd, iov, data_len ? 2 : 1);
	if (n < 0 || (size_t)n != want) {
		fprintf(stderr,
			"logdev: %s: cannot append record %" PRIu64 ": %s\n",
			ld->log_path, ld->seq,
			n < 0 ? strerror(errno) : "short write");
		/* A torn record would mislead the rebuilder: stop logging. */
		ld->full = true;
		return -EIO;
	}
	ld->log_bytes += want;
	ld->seq++;
	return 0;
}

static void ld_stat(const struct logdev *ld, fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = getuid();
	st->st_gid = getgid();
	switch (ino) {
	case LOGDEV_INO_ROOT:
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		break;
	case LOGDEV_INO_DISK:
		st->st_mode = S_IFREG | 0644;
		st->st_nlink = 1;
		st->st_size = (off_t)ld->dev_size;
		st->st_blksize = 4096;
		st->st_blocks = (blkcnt_t)(ld->dev_size / 512);
		break;
	default:
		st->st_mode = S_IFREG | 0644;
		st->st_nlink = 1;
		st->st_size = 0;
		break;
	}
}

static struct logdev *ld_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static void ld_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->max_write = LOGDEV_MAX_WRITE;
	/* Reads come whole, never ahead of what was asked. */
	conn->max_readahead = 0;
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

static void ld_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e = {0};

	if (parent != LOGDEV_INO_ROOT) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (!strcmp(name, "disk"))
		e.ino = LOGDEV_INO_DISK;
	else if (!strcmp(name, "ctl"))
		e.ino = LOGDEV_INO_CTL;
	else {
		fuse_reply_err(req, ENOENT);
		return;
	}
	e.attr_timeout = 3600;
	e.entry_timeout = 3600;
	ld_stat(ld_of(req), e.ino, &e.attr);
	fuse_reply_entry(req, &e);
}

static void ld_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *ffi)
{
	struct stat st;

	(void)ffi;
	ld_stat(ld_of(req), ino, &st);
	fuse_reply_attr(req, &st, 3600);
}

/* The device has a fixed size: only the ctl file "truncates" (O_TRUNC). */
static void ld_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *ffi)
{
	struct logdev *ld = ld_of(req);
	struct stat st;

	(void)ffi;
	if (ino == LOGDEV_INO_DISK && (to_set & FUSE_SET_ATTR_SIZE) &&
	    (uint64_t)attr->st_size != ld->dev_size) {
		fuse_reply_err(req, EPERM);
		return;
	}
	ld_stat(ld, ino, &st);
	fuse_reply_attr(req, &st, 3600);
}

static void ld_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *ffi)
{
	static const struct {
		const char *name;
		fuse_ino_t ino;
	} ents[] = {{".", LOGDEV_INO_ROOT},
		    {"..", LOGDEV_INO_ROOT},
		    {"disk", LOGDEV_INO_DISK},
		    {"ctl", LOGDEV_INO_CTL}};
	char buf[512];
	size_t used = 0, i;

	(void)ffi;
	if (ino != LOGDEV_INO_ROOT) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	for (i = (size_t)off; i < sizeof(ents) / sizeof(ents[0]); i++) {
		struct stat st = {0};
		size_t n;

		st.st_ino = ents[i].ino;
		st.st_mode = ents[i].ino == LOGDEV_INO_ROOT ? S_IFDIR : S_IFREG;
		n = fuse_add_direntry(req, buf + used, sizeof(buf) - used,
				      ents[i].name, &st, (off_t)i + 1);
		if (used + n > sizeof(buf) || used + n > size)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
}

static void ld_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *ffi)
{
	if (ino == LOGDEV_INO_ROOT) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	/* Every read and write reaches us: nothing is cached or merged. */
	ffi->direct_io = 1;
	ffi->keep_cache = 0;
	ffi->fh = (uint64_t)ffi->flags;
	fuse_reply_open(req, ffi);
}

static int ld_ctl_status(const struct logdev *ld, char *buf, size_t len)
{
	unsigned int i;
	int n, m;

	n = snprintf(buf, len,
		     "records %" PRIu64 "\n"
		     "log_bytes %" PRIu64 "\n"
		     "log_max %" PRIu64 "\n"
		     "full %d\n"
		     "writes %" PRIu64 "\n"
		     "write_bytes %" PRIu64 "\n"
		     "flushes %" PRIu64 "\n"
		     "zeroes %" PRIu64 "\n"
		     "marks %" PRIu64 "\n"
		     "closes %" PRIu64 "\n"
		     "failed %" PRIu64 "\n"
		     "fail_ranges %u\n"
		     "fail_from %" PRIu64 "\n"
		     "fail_seen %" PRIu64 "\n",
		     ld->seq, ld->log_bytes, ld->log_max, ld->full ? 1 : 0,
		     ld->writes, ld->write_bytes, ld->flushes, ld->zeroes,
		     ld->marks, ld->closes, ld->failed, ld->fail_ranges,
		     ld->fail_from, ld->fail_seen);
	for (i = 0; i < ld->fail_ranges && n >= 0 && (size_t)n < len; i++) {
		m = snprintf(buf + n, len - (size_t)n,
			     "fail_range %" PRIu64 " %" PRIu64 "\n",
			     ld->fail_start[i],
			     ld->fail_end[i] - ld->fail_start[i]);
		if (m < 0)
			return m;
		n += m;
	}
	return n < 0 || (size_t)n < len ? n : (int)len - 1;
}

static void ld_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *ffi)
{
	struct logdev *ld = ld_of(req);
	char *buf;
	ssize_t n;

	(void)ffi;
	if (ino == LOGDEV_INO_CTL) {
		char status[1024];
		int len = ld_ctl_status(ld, status, sizeof(status));

		if (len < 0 || off >= len) {
			fuse_reply_buf(req, NULL, 0);
			return;
		}
		if ((size_t)(len - off) < size)
			size = (size_t)(len - off);
		fuse_reply_buf(req, status + off, size);
		return;
	}
	if (off < 0 || (uint64_t)off >= ld->dev_size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > ld->dev_size - (uint64_t)off)
		size = (size_t)(ld->dev_size - (uint64_t)off);
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = pread(ld->img_fd, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

/* Whether a write of [off, off + len) is to fail in the fault mode. */
static bool ld_fault(struct logdev *ld, uint64_t off, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < ld->fail_ranges && len; i++) {
		if (off < ld->fail_end[i] && off + len > ld->fail_start[i]) {
			ld->fail_seen++;
			return ld->fail_seen >= ld->fail_from;
		}
	}
	return false;
}

static int ld_pwrite_all(int fd, const char *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static int ld_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 'K':
	case 'k':
		v <<= 10;
		end++;
		break;
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'G':
		v <<= 30;
		end++;
		break;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "START,LEN,N" or "START LEN N": add a range to the fault mode. */
static int ld_set_fail(struct logdev *ld, const char *spec)
{
	char copy[128], a[32], b[32], c[32], extra[2];
	uint64_t start, len, from;
	size_t i;

	if (strlen(spec) >= sizeof(copy))
		return -EINVAL;
	for (i = 0; spec[i]; i++)
		copy[i] = spec[i] == ',' ? ' ' : spec[i];
	copy[i] = '\0';
	if (sscanf(copy, "%31s %31s %31s %1s", a, b, c, extra) != 3)
		return -EINVAL;
	if (ld_parse_u64(a, &start) || ld_parse_u64(b, &len) ||
	    ld_parse_u64(c, &from) || !len || !from || start + len < start)
		return -EINVAL;
	if (ld->fail_ranges == LOGDEV_FAIL_RANGES)
		return -ENOSPC;
	ld->fail_start[ld->fail_ranges] = start;
	ld->fail_end[ld->fail_ranges] = start + len;
	ld->fail_ranges++;
	ld->fail_from = from;
	ld->fail_seen = 0;
	return 0;
}

static int ld_ctl_line(struct logdev *ld, const char *line)
{
	if (!strncmp(line, "mark ", 5)) {
		size_t n = strlen(line + 5);

		if (n > LOGDEV_MARK_MAX)
			return -E2BIG;
		if (ld_room(ld, n))
			return -EIO;
		ld->marks++;
		return ld_log(ld, LOGDEV_MARK, 0, n, 0, line + 5, n);
	}
	if (!strcmp(line, "fail off")) {
		ld->fail_ranges = 0;
		return 0;
	}
	if (!strncmp(line, "fail ", 5))
		return ld_set_fail(ld, line + 5);
	fprintf(stderr,
		"logdev: ctl: unknown command '%.64s' (known: mark "
		"TEXT, fail START LEN N, fail off)\n",
		line);
	return -EINVAL;
}

static void ld_ctl_write(fuse_req_t req, const char *buf, size_t size)
{
	struct logdev *ld = ld_of(req);
	char line[LOGDEV_CTL_MAX + 1];
	size_t i = 0;
	int ret;

	while (i < size) {
		const char *nl = memchr(buf + i, '\n', size - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) : size - i;

		if (n > LOGDEV_CTL_MAX) {
			fuse_reply_err(req, E2BIG);
			return;
		}
		memcpy(line, buf + i, n);
		line[n] = '\0';
		i += n + (nl ? 1 : 0);
		if (!n)
			continue;
		ret = ld_ctl_line(ld, line);
		if (ret) {
			fuse_reply_err(req, -ret);
			return;
		}
	}
	fuse_reply_write(req, size);
}

static void ld_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *ffi)
{
	struct logdev *ld = ld_of(req);
	int ret;

	if (ino == LOGDEV_INO_CTL) {
		ld_ctl_write(req, buf, size);
		return;
	}
	if (ino != LOGDEV_INO_DISK) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (off < 0 || (uint64_t)off > ld->dev_size ||
	    size > ld->dev_size - (uint64_t)off) {
		fuse_reply_err(req, ENOSPC);
		return;
	}
	if (ld_fault(ld, (uint64_t)off, size)) {
		ld->failed++;
		if (!ld_room(ld, 0))
			ld_log(ld, LOGDEV_FAILED, (uint64_t)off, size, 0, NULL,
			       0);
		fuse_reply_err(req, EIO);
		return;
	}
	/* Room for the write and the flush a sync write adds. */
	ret = ld_room(ld, size + sizeof(struct logdev_rec));
	if (!ret)
		ret = ld_log(ld, LOGDEV_WRITE, (uint64_t)off, size, 0, buf,
			     size);
	if (!ret)
		ret = ld_pwrite_all(ld->img_fd, buf, size, off);
	if (!ret && (ffi->flags & (O_DSYNC | O_SYNC))) {
		ret = ld_log(ld, LOGDEV_FLUSH, 0, 0, LOGDEV_FLUSH_SYNCWRITE,
			     NULL, 0);
		if (!ret)
			ld->flushes++;
	}
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	ld->writes++;
	ld->write_bytes += size;
	fuse_reply_write(req, size);
}

static void ld_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *ffi)
{
	struct logdev *ld = ld_of(req);
	int ret = 0;

	(void)ffi;
	if (ino == LOGDEV_INO_DISK) {
		ret = ld_room(ld, 0);
		if (!ret)
			ret = ld_log(ld, LOGDEV_FLUSH, 0, 0,
				     datasync ? LOGDEV_FLUSH_DATASYNC : 0, NULL,
				     0);
		if (!ret)
			ld->flushes++;
	}
	fuse_reply_err(req, -ret);
}

/* FUSE_FLUSH comes at each close(2): no durability point (see the top). */
static void ld_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *ffi)
{
	(void)ffi;
	if (ino == LOGDEV_INO_DISK)
		ld_of(req)->closes++;
	fuse_reply_err(req, 0);
}

static void ld_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
			 off_t len, struct fuse_file_info *ffi)
{
	struct logdev *ld = ld_of(req);
	int ret;

	(void)ffi;
	if (ino != LOGDEV_INO_DISK) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	if (off < 0 || len <= 0 || (uint64_t)off > ld->dev_size ||
	    (uint64_t)len > ld->dev_size - (uint64_t)off) {
		fuse_reply_err(req, ENOSPC);
		return;
	}
	/* Allocation changes no byte of a device. */
	if (!(mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))) {
		fuse_reply_err(req, 0);
		return;
	}
	if (ld_fault(ld, (uint64_t)off, (uint64_t)len)) {
		ld->failed++;
		if (!ld_room(ld, 0))
			ld_log(ld, LOGDEV_FAILED, (uint64_t)off, (uint64_t)len,
			       0, NULL, 0);
		fuse_reply_err(req, EIO);
		return;
	}
	ret = ld_room(ld, 0);
	if (!ret)
		ret = ld_log(ld, LOGDEV_ZERO, (uint64_t)off, (uint64_t)len, 0,
			     NULL, 0);
	if (!ret &&
	    fallocate(ld->img_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      off, len) < 0)
		ret = -errno;
	if (!ret)
		ld->zeroes++;
	fuse_reply_err(req, -ret);
}

static const struct fuse_lowlevel_ops ld_ops = {
	.init = ld_init,
	.lookup = ld_lookup,
	.getattr = ld_getattr,
	.setattr = ld_setattr,
	.readdir = ld_readdir,
	.open = ld_open,
	.read = ld_read,
	.write = ld_write,
	.flush = ld_flush,
	.fsync = ld_fsync,
	.fallocate = ld_fallocate,
};

static void ld_usage(void)
{
	fprintf(stderr,
		"usage: logdev [--log-max=BYTES] [--fail=START,LEN,N] [-d] "
		"IMAGE LOG MOUNTPOINT\n"
		"  serves IMAGE as MOUNTPOINT/disk and logs every write and "
		"flush to LOG\n"
		"  (bound: %llu bytes unless --log-max); MOUNTPOINT/ctl takes "
		"'mark TEXT',\n"
		"  'fail START LEN N' and 'fail off', and reads back the "
		"counts\n",
		(unsigned long long)LOGDEV_LOG_MAX_DEFAULT);
}

static int ld_open_files(struct logdev *ld, const char *img, const char *log)
{
	struct logdev_head head = {.magic = LOGDEV_HEAD_MAGIC};
	struct stat st;

	ld->img_fd = open(img, O_RDWR | O_CLOEXEC);
	if (ld->img_fd < 0 || fstat(ld->img_fd, &st) < 0) {
		fprintf(stderr, "logdev: %s: %s\n", img, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || !st.st_size) {
		fprintf(stderr, "logdev: %s: not a non-empty regular file\n",
			img);
		return -1;
	}
	ld->dev_size = (uint64_t)st.st_size;
	ld->log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (ld->log_fd < 0) {
		fprintf(stderr, "logdev: %s: %s\n", log, strerror(errno));
		return -1;
	}
	ld->log_path = log;
	head.dev_size = ld->dev_size;
	head.log_max = ld->log_max;
	if (write(ld->log_fd, &head, sizeof(head)) != sizeof(head)) {
		fprintf(stderr, "logdev: %s: cannot write the header\n", log);
		return -1;
	}
	ld->log_bytes = sizeof(head);
	return 0;
}

int main(int argc, char **argv)
{
	struct logdev ld = {
		.img_fd = -1, .log_fd = -1, .log_max = LOGDEV_LOG_MAX_DEFAULT};
	char *fargv[] = {argv[0], "-o", "fsname=logdev,subtype=logdev", NULL,
			 NULL};
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	const char *fail[LOGDEV_FAIL_RANGES];
	int nfail = 0, j;
	struct fuse_session *se;
	int i, ret = 1;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strncmp(argv[i], "--log-max=", 10)) {
			if (ld_parse_u64(argv[i] + 10, &ld.log_max) ||
			    ld.log_max < 1024) {
				fprintf(stderr,
					"logdev: --log-max: '%s' is no "
					"size of at least 1024 bytes\n",
					argv[i] + 10);
				return 2;
			}
		} else if (!strncmp(argv[i], "--fail=", 7)) {
			if (nfail == LOGDEV_FAIL_RANGES) {
				fprintf(stderr,
					"logdev: at most %d --fail "
					"ranges\n",
					LOGDEV_FAIL_RANGES);
				return 2;
			}
			fail[nfail++] = argv[i] + 7;
		} else if (!strcmp(argv[i], "-d")) {
			fargv[args.argc++] = "-d";
		} else {
			ld_usage();
			return 2;
		}
	}
	if (argc - i != 3) {
		ld_usage();
		return 2;
	}
	for (j = 0; j < nfail; j++) {
		if (ld_set_fail(&ld, fail[j])) {
			fprintf(stderr,
				"logdev: --fail: '%s' is not START,LEN,N "
				"(LEN and N at least 1)\n",
				fail[j]);
			return 2;
		}
	}
	if (ld_open_files(&ld, argv[i], argv[i + 1]))
		goto out_close;
	se = fuse_session_new(&args, &ld_ops, sizeof(ld_ops), &ld);
	if (!se)
		goto out_close;
	if (fuse_set_signal_handlers(se))
		goto out_destroy;
	if (fuse_session_mount(se, argv[i + 2]))
		goto out_signals;
	ret = fuse_session_loop(se) ? 1 : 0;
	fuse_session_unmount(se);
	fprintf(stderr,
		"logdev: %" PRIu64 " records (%" PRIu64 " writes, %" PRIu64
		" flushes, %" PRIu64 " zeroes, %" PRIu64 " marks, %" PRIu64
		" failed), %" PRIu64 " bytes of log\n",
		ld.seq, ld.writes, ld.flushes, ld.zeroes, ld.marks, ld.failed,
		ld.log_bytes);
out_signals:
	fuse_remove_signal_handlers(se);
out_destroy:
	fuse_session_destroy(se);
out_close:
	if (ld.log_fd >= 0 && close(ld.log_fd) < 0) {
		fprintf(stderr, "logdev: %s: %s\n", argv[i + 1],
			strerror(errno));
		ret = 1;
	}
	if (ld.img_fd >= 0)
		close(ld.img_fd);
	fuse_opt_free_args(&args);
	return ret;
}
