// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuse-null.c - a FUSE server that does no filesystem work at all, for
 * t/bench/fusefloor and fsbench's "fuse-null" system: it shows what the
 * FUSE protocol alone costs on this kernel, so that iomapfs's times can be
 * set against the floor as well as against the kernel's ext4.  It is
 * mounted the way iomapfs is (low-level API, default_permissions, a
 * multi-threaded loop with clone_fd, 8 threads) and answers from a table in
 * memory of at most NULL_MAX_NODES names (then ENOSPC; a removed name's
 * slot is not reused): directories, files and symbolic links with their
 * mode, owner, size and times.  File data is thrown away, a file reads as
 * zeroes up to its size, and no extended attribute is ever stored.
 *
 * Without -w or -W it asks the kernel for what iomapfs asked before it
 * wrote through the write-back cache (async read, parallel directory
 * operations, atomic O_TRUNC, readdirplus on every batch) and takes data
 * with WRITE copied to memory: the floor of fsbench's metadata loops and
 * O_DIRECT reads, as fusefloor has always measured it.
 *
 * With -w it asks for all that iomapfs asks in op_init() (ops_session.c):
 * splice read, write and move, export support, POSIX ACLs with DONT_MASK
 * (the umask is applied here), no asynchronous direct I/O, the write-back
 * cache, max_write of 1 MiB or a page less than the largest pipe (the rule
 * of devio_write_max() in daemon/devio.c), readahead up to 1 MiB and time_gran 1;
 * and its INIT reply gets HANDLE_KILLPRIV_V2 and DIRECT_IO_ALLOW_MMAP
 * through the daemon's own devio.c.  Written data arrives in WRITE_BUF
 * and is spliced to /dev/null (fuse_buf_copy; a small write libfuse has
 * already read into memory costs nothing more), the floor of moving it.
 * FLUSH is answered ENOSYS, as iomapfs does with the write-back cache, so
 * the kernel stops sending it.  -W is the same without the write-back
 * cache (iomapfs -o nowriteback_cache).
 *
 *   fuse-null [-w|-W] [-c] [-d] MOUNTPOINT
 *     -w  iomapfs's capabilities, write-back cache on
 *     -W  iomapfs's capabilities, write-back cache off
 *     -c  at unmount, print on stderr how many requests of each kind came
 *     -d  libfuse's debug log of every request (on stderr)
 *   It serves until unmounted (fusermount3 -u MOUNTPOINT).
 */
#include "config.h"

#define FUSE_USE_VERSION 314

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "devio.h"

#define NULL_MAX_NODES (1u << 20)
#define NULL_THREADS   8
#define NULL_BUCKETS   (1u << 16)
#define NULL_MAX_IO    (1u << 20)

struct null_node {
	char *name;
	char *link;	   /* a symbolic link's target, else NULL */
	fuse_ino_t parent; /* 0: free slot */
	uint64_t size;
	struct timespec atime, mtime, ctime;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	uint32_t next; /* hash chain: node index, 0 ends */
};

/* Node i has inode number i + 1; node 0 is the root. */
static struct null_node *nodes;
static uint32_t nnodes = 1;
static uint32_t buckets[NULL_BUCKETS];
static pthread_mutex_t nodes_lock = PTHREAD_MUTEX_INITIALIZER;

/* -w or -W: iomapfs's capabilities; -w: with the write-back cache. */
static bool iomapfs_caps, writeback;

/*
 * Times as iomapfs stamps them (fs_now() in daemon/fs.c): with the
 * write-back cache, the kernel's coarse clock, which it stamps writes
 * with; a new file's times are then current at its first write in the
 * same tick, and the kernel sends no SETATTR of them before the next
 * chmod, chown or utimensat.
 */
static void null_now(struct timespec *ts)
{
	clock_gettime(writeback ? CLOCK_REALTIME_COARSE : CLOCK_REALTIME, ts);
}

/* /dev/null, where WRITE_BUF's data goes. */
static int null_fd = -1;

/* Requests served, by kind, for -c. */
enum null_op {
	OP_LOOKUP,
	OP_FORGET,
	OP_BATCH_FORGET,
	OP_GETATTR,
	OP_SETATTR,
	OP_READLINK,
	OP_SYMLINK,
	OP_MKDIR,
	OP_UNLINK,
	OP_RMDIR,
	OP_OPEN,
	OP_READ,
	OP_WRITE,
	OP_FLUSH,
	OP_RELEASE,
	OP_FSYNC,
	OP_OPENDIR,
	OP_READDIRPLUS,
	OP_RELEASEDIR,
	OP_FSYNCDIR,
	OP_STATFS,
	OP_SETXATTR,
	OP_GETXATTR,
	OP_LISTXATTR,
	OP_REMOVEXATTR,
	OP_CREATE,
	OP_COUNT
};
static const char *const op_names[OP_COUNT] = {
	"LOOKUP",   "FORGET",	"BATCH_FORGET", "GETATTR",    "SETATTR",
	"READLINK", "SYMLINK",	"MKDIR",	"UNLINK",     "RMDIR",
	"OPEN",	    "READ",	"WRITE",	"FLUSH",      "RELEASE",
	"FSYNC",    "OPENDIR",	"READDIRPLUS",	"RELEASEDIR", "FSYNCDIR",
	"STATFS",   "SETXATTR", "GETXATTR",	"LISTXATTR",  "REMOVEXATTR",
	"CREATE",
};
static atomic_ulong op_count[OP_COUNT];
static atomic_ulong write_bytes;
/* SETATTRs by the attributes they set (FUSE_SET_ATTR_* bits 0-10). */
#define NULL_SETATTR_KINDS (1u << 11)
static atomic_ulong setattr_count[NULL_SETATTR_KINDS];
static const char *const setattr_names[11] = {
	"mode", "uid",	     "gid",	  "size",  "atime", "mtime",
	"?",	"atime_now", "mtime_now", "force", "ctime",
};

static void count(enum null_op op)
{
	atomic_fetch_add_explicit(&op_count[op], 1, memory_order_relaxed);
}

static void print_counts(void)
{
	unsigned long n, all = 0;
	int i;

	fprintf(stderr, "fuse-null: requests served, by kind:\n");
	for (i = 0; i < OP_COUNT; i++) {
		n = atomic_load(&op_count[i]);
		all += n;
		if (n)
			fprintf(stderr, "  %-12s %10lu\n", op_names[i], n);
	}
	fprintf(stderr, "  %-12s %10lu\n", "all", all);
	for (i = 0; i < (int)NULL_SETATTR_KINDS; i++) {
		unsigned int bit;
		const char *sep = "";

		n = atomic_load(&setattr_count[i]);
		if (!n)
			continue;
		fprintf(stderr, "  SETATTR of ");
		for (bit = 0; bit < 11; bit++) {
			if (i & (1 << bit)) {
				fprintf(stderr, "%s%s", sep,
					setattr_names[bit]);
				sep = ",";
			}
		}
		fprintf(stderr, "%s: %lu\n", *sep ? "" : "nothing", n);
	}
	n = atomic_load(&op_count[OP_WRITE]);
	if (n)
		fprintf(stderr, "  bytes written %lu, %lu per WRITE\n",
			atomic_load(&write_bytes),
			atomic_load(&write_bytes) / n);
}

static void fill_attr(fuse_ino_t ino, struct stat *st)
{
	const struct null_node *n = &nodes[ino - 1];

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = n->mode;
	st->st_nlink = S_ISDIR(n->mode) ? 2 : 1;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_size = (off_t)n->size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((n->size + 511) / 512);
	st->st_atim = n->atime;
	st->st_mtim = n->mtime;
	st->st_ctim = n->ctime;
}

static uint32_t *bucket(fuse_ino_t parent, const char *name)
{
	uint32_t h = 2166136261u ^ (uint32_t)parent;

	while (*name)
		h = (h ^ (unsigned char)*name++) * 16777619u;
	return &buckets[h % NULL_BUCKETS];
}

/* The node named @name in @parent, or 0.  nodes_lock held. */
static fuse_ino_t find(fuse_ino_t parent, const char *name)
{
	uint32_t i;

	if (!strcmp(name, "."))
		return parent; /* export support: LOOKUP of "." */
	if (!strcmp(name, ".."))
		return parent == 1 ? 1 : nodes[parent - 1].parent;
	for (i = *bucket(parent, name); i; i = nodes[i].next)
		if (nodes[i].parent == parent && !strcmp(nodes[i].name, name))
			return i + 1;
	return 0;
}

static void reply_entry(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	e.ino = ino;
	e.attr_timeout = 1.0;
	e.entry_timeout = 1.0;
	pthread_mutex_lock(&nodes_lock);
	fill_attr(ino, &e.attr);
	pthread_mutex_unlock(&nodes_lock);
	if (fi)
		fuse_reply_create(req, &e, fi);
	else
		fuse_reply_entry(req, &e);
}

static void null_init(void *data, struct fuse_conn_info *conn)
{
	unsigned int want = FUSE_CAP_ASYNC_READ | FUSE_CAP_PARALLEL_DIROPS |
			    FUSE_CAP_ATOMIC_O_TRUNC | FUSE_CAP_READDIRPLUS;

	(void)data;
	if (iomapfs_caps)
		want |= FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
			FUSE_CAP_SPLICE_MOVE | FUSE_CAP_EXPORT_SUPPORT |
			FUSE_CAP_POSIX_ACL | FUSE_CAP_DONT_MASK;
	conn->want |= want & conn->capable;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	if (!iomapfs_caps) {
		conn->max_write = NULL_MAX_IO;
		return;
	}
	conn->want &= ~FUSE_CAP_ASYNC_DIO;
	if (writeback)
		conn->want |= FUSE_CAP_WRITEBACK_CACHE & conn->capable;
	conn->max_write = devio_write_max(NULL_MAX_IO);
	if (conn->max_readahead > NULL_MAX_IO)
		conn->max_readahead = NULL_MAX_IO;
	conn->time_gran = 1;
}

static void null_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_ino_t ino;

	count(OP_LOOKUP);
	pthread_mutex_lock(&nodes_lock);
	ino = find(parent, name);
	pthread_mutex_unlock(&nodes_lock);
	if (ino)
		reply_entry(req, ino, NULL);
	else
		fuse_reply_err(req, ENOENT);
}

static void null_getattr(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	count(OP_GETATTR);
	pthread_mutex_lock(&nodes_lock);
	fill_attr(ino, &st);
	pthread_mutex_unlock(&nodes_lock);
	fuse_reply_attr(req, &st, 1.0);
}

/*
 * A new node @name in @parent of type and mode @mode (a symbolic link to
 * @link): its inode number, or -errno.  With DONT_MASK (-w, -W) the
 * umask is ours to apply.
 */
static long add_node(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, const char *link)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct null_node *n;
	struct timespec now;
	long ret;

	if (iomapfs_caps && !S_ISLNK(mode))
		mode &= ~(ctx->umask & 0777);
	null_now(&now);
	pthread_mutex_lock(&nodes_lock);
	if (find(parent, name)) {
		ret = -EEXIST;
		goto out_unlock;
	}
	if (nnodes >= NULL_MAX_NODES) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	n = &nodes[nnodes];
	n->name = strdup(name);
	n->link = link ? strdup(link) : NULL;
	if (!n->name || (link && !n->link)) {
		free(n->name);
		free(n->link);
		n->name = n->link = NULL;
		ret = -ENOMEM;
		goto out_unlock;
	}
	n->parent = parent;
	n->mode = mode;
	n->uid = ctx->uid;
	n->gid = ctx->gid;
	n->size = link ? strlen(link) : 0;
	n->atime = n->mtime = n->ctime = now;
	n->next = *bucket(parent, name);
	*bucket(parent, name) = nnodes;
	ret = ++nnodes;
out_unlock:
	pthread_mutex_unlock(&nodes_lock);
	return ret;
}

static void null_create(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode, struct fuse_file_info *fi)
{
	long ino;

	count(OP_CREATE);
	ino = add_node(req, parent, name, S_IFREG | (mode & 07777), NULL);
	if (ino < 0) {
		fuse_reply_err(req, (int)-ino);
		return;
	}
	fi->noflush = 1; /* as iomapfs */
	if (iomapfs_caps)
		fi->keep_cache = 1;
	reply_entry(req, (fuse_ino_t)ino, fi);
}

static void null_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		       mode_t mode)
{
	long ino;

	count(OP_MKDIR);
	ino = add_node(req, parent, name, S_IFDIR | (mode & 07777), NULL);
	if (ino < 0)
		fuse_reply_err(req, (int)-ino);
	else
		reply_entry(req, (fuse_ino_t)ino, NULL);
}

static void null_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
			 const char *name)
{
	long ino;

	count(OP_SYMLINK);
	ino = add_node(req, parent, name, S_IFLNK | 0777, link);
	if (ino < 0)
		fuse_reply_err(req, (int)-ino);
	else
		reply_entry(req, (fuse_ino_t)ino, NULL);
}

static void null_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char *link = NULL;
	int err = EINVAL;

	count(OP_READLINK);
	pthread_mutex_lock(&nodes_lock);
	if (nodes[ino - 1].link) {
		link = strdup(nodes[ino - 1].link);
		err = ENOMEM;
	}
	pthread_mutex_unlock(&nodes_lock);
	if (!link) {
		fuse_reply_err(req, err);
		return;
	}
	fuse_reply_readlink(req, link);
	free(link);
}

static void null_remove(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_ino_t ino;

	pthread_mutex_lock(&nodes_lock);
	ino = find(parent, name);
	if (ino) {
		uint32_t *pp = bucket(parent, name);

		while (*pp != ino - 1)
			pp = &nodes[*pp].next;
		*pp = nodes[ino - 1].next;
		free(nodes[ino - 1].name);
		free(nodes[ino - 1].link);
		nodes[ino - 1].name = nodes[ino - 1].link = NULL;
		nodes[ino - 1].parent = 0;
	}
	pthread_mutex_unlock(&nodes_lock);
	fuse_reply_err(req, ino ? 0 : ENOENT);
}

static void null_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	count(OP_UNLINK);
	null_remove(req, parent, name);
}

static void null_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	count(OP_RMDIR);
	null_remove(req, parent, name);
}

static void null_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	count(OP_OPEN);
	fi->noflush = 1;
	if (fi->flags & O_DIRECT)
		fi->direct_io = 1;
	if (iomapfs_caps)
		fi->keep_cache = 1;
	if (fi->flags & O_TRUNC) { /* ATOMIC_O_TRUNC: no SETATTR comes */
		pthread_mutex_lock(&nodes_lock);
		nodes[ino - 1].size = 0;
		pthread_mutex_unlock(&nodes_lock);
	}
	fuse_reply_open(req, fi);
}

static void null_opendir(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	(void)ino;
	count(OP_OPENDIR);
	fuse_reply_open(req, fi);
}

/* A time of SETATTR: @t, or now with @now_bit set in @to_set. */
static struct timespec set_time(const struct timespec *t, int to_set,
				int now_bit, const struct timespec *now)
{
	return to_set & now_bit ? *now : *t;
}

static void null_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			 int to_set, struct fuse_file_info *fi)
{
	struct null_node *n = &nodes[ino - 1];
	struct timespec now;
	struct stat st;

	(void)fi;
	count(OP_SETATTR);
	atomic_fetch_add_explicit(
		&setattr_count[to_set & (NULL_SETATTR_KINDS - 1)], 1,
		memory_order_relaxed);
	null_now(&now);
	pthread_mutex_lock(&nodes_lock);
	if (to_set & FUSE_SET_ATTR_SIZE)
		n->size = (uint64_t)attr->st_size;
	if (to_set & FUSE_SET_ATTR_MODE)
		n->mode = (n->mode & S_IFMT) | (attr->st_mode & 07777);
	if (to_set & FUSE_SET_ATTR_UID)
		n->uid = attr->st_uid;
	if (to_set & FUSE_SET_ATTR_GID)
		n->gid = attr->st_gid;
	if (to_set & FUSE_SET_ATTR_ATIME)
		n->atime = set_time(&attr->st_atim, to_set,
				    FUSE_SET_ATTR_ATIME_NOW, &now);
	if (to_set & FUSE_SET_ATTR_MTIME)
		n->mtime = set_time(&attr->st_mtim, to_set,
				    FUSE_SET_ATTR_MTIME_NOW, &now);
	/* with the write-back cache the kernel sends its own ctime */
	n->ctime = to_set & FUSE_SET_ATTR_CTIME ? attr->st_ctim : now;
	fill_attr(ino, &st);
	pthread_mutex_unlock(&nodes_lock);
	fuse_reply_attr(req, &st, 1.0);
}

/* Data written from @off to @end: a file grows to @end. */
static void wrote(fuse_ino_t ino, uint64_t end, size_t len)
{
	count(OP_WRITE);
	atomic_fetch_add_explicit(&write_bytes, len, memory_order_relaxed);
	pthread_mutex_lock(&nodes_lock);
	if (nodes[ino - 1].size < end)
		nodes[ino - 1].size = end;
	pthread_mutex_unlock(&nodes_lock);
}

static void null_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		       size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)buf;
	(void)fi;
	wrote(ino, (uint64_t)off + size, size);
	fuse_reply_write(req, size);
}

/*
 * -w, -W: the data is still in libfuse's pipe when the WRITE is large
 * (spliced from /dev/fuse); splicing it on to /dev/null is the least that
 * moving it costs.  A small one libfuse has read into memory is left
 * there.
 */
static void null_write_buf(fuse_req_t req, fuse_ino_t ino,
			   struct fuse_bufvec *in, off_t off,
			   struct fuse_file_info *fi)
{
	size_t len = fuse_buf_size(in);
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(len);
	ssize_t n = (ssize_t)len;

	(void)fi;
	if (in->count && (in->buf[in->idx].flags & FUSE_BUF_IS_FD)) {
		out.buf[0].flags = FUSE_BUF_IS_FD;
		out.buf[0].fd = null_fd;
		n = fuse_buf_copy(&out, in, 0);
		if (n < 0) {
			fuse_reply_err(req, (int)-n);
			return;
		}
	}
	wrote(ino, (uint64_t)off + (uint64_t)n, (size_t)n);
	fuse_reply_write(req, (size_t)n);
}

static void null_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	static const char zeroes[NULL_MAX_IO];
	uint64_t fsize;

	(void)fi;
	count(OP_READ);
	pthread_mutex_lock(&nodes_lock);
	fsize = nodes[ino - 1].size;
	pthread_mutex_unlock(&nodes_lock);
	if ((uint64_t)off >= fsize)
		size = 0;
	else if (size > fsize - (uint64_t)off)
		size = (size_t)(fsize - (uint64_t)off);
	if (size > sizeof(zeroes))
		size = sizeof(zeroes);
	fuse_reply_buf(req, zeroes, size);
}

/* No extended attribute exists (POSIX ACLs included: none, so the
 * kernel goes by the mode) and none is kept. */
static void null_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			  size_t size)
{
	(void)ino;
	(void)name;
	(void)size;
	count(OP_GETXATTR);
	fuse_reply_err(req, ENODATA);
}

static void null_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	(void)ino;
	count(OP_LISTXATTR);
	if (size)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_xattr(req, 0);
}

/*
 * An access ACL sets the mode (with POSIX_ACL the kernel leaves that to
 * the server): that is how cp -a and chmod-like tools copy a mode.  Its
 * owner, group (or mask) and other entries become the permission bits;
 * named user and group entries are not kept.  0, or -EINVAL.
 */
static int acl_to_mode(const char *value, size_t size, mode_t *mode)
{
	uint32_t version;
	uint16_t tag, perm;
	mode_t m = *mode & ~0777u, group = 0, mask = 0;
	bool has_mask = false;
	size_t i;

	if (size < 4 || (size - 4) % 8)
		return -EINVAL;
	memcpy(&version, value, 4);
	if (version != 2)
		return -EINVAL;
	for (i = 4; i < size; i += 8) {
		memcpy(&tag, value + i, 2);
		memcpy(&perm, value + i + 2, 2);
		perm &= 7;
		switch (tag) {
		case 0x01: /* ACL_USER_OBJ */
			m |= (mode_t)perm << 6;
			break;
		case 0x04: /* ACL_GROUP_OBJ */
			group = perm;
			break;
		case 0x10: /* ACL_MASK */
			mask = perm;
			has_mask = true;
			break;
		case 0x20: /* ACL_OTHER */
			m |= perm;
			break;
		}
	}
	*mode = m | (has_mask ? mask : group) << 3;
	return 0;
}

/*
 * Taken and thrown away, but for an access ACL's mode: copying a file's
 * attributes (cp -a) must not fail, and no attribute is ever kept.
 */
static void null_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			  const char *value, size_t size, int flags)
{
	struct null_node *n = &nodes[ino - 1];
	int err = 0;

	count(OP_SETXATTR);
	if (flags & XATTR_REPLACE) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	if (!strcmp(name, "system.posix_acl_access")) {
		pthread_mutex_lock(&nodes_lock);
		err = -acl_to_mode(value, size, &n->mode);
		if (!err)
			null_now(&n->ctime);
		pthread_mutex_unlock(&nodes_lock);
	}
	fuse_reply_err(req, err);
}

static void null_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino;
	(void)name;
	count(OP_REMOVEXATTR);
	fuse_reply_err(req, ENODATA);
}

static void null_flush(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	count(OP_FLUSH);
	/* as iomapfs: with the write-back cache, no more FLUSH on this mount */
	fuse_reply_err(req, writeback ? ENOSYS : 0);
}

static void null_release(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	count(OP_RELEASE);
	fuse_reply_err(req, 0);
}

static void null_releasedir(fuse_req_t req, fuse_ino_t ino,
			    struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	count(OP_RELEASEDIR);
	fuse_reply_err(req, 0);
}

static void null_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		       struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	count(OP_FSYNC);
	fuse_reply_err(req, 0);
}

static void null_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			  struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	count(OP_FSYNCDIR);
	fuse_reply_err(req, 0);
}

static void null_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	(void)ino;
	count(OP_STATFS);
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = sv.f_frsize = 4096;
	sv.f_blocks = sv.f_bfree = sv.f_bavail = 1ull << 30;
	sv.f_files = NULL_MAX_NODES;
	pthread_mutex_lock(&nodes_lock);
	sv.f_ffree = sv.f_favail = NULL_MAX_NODES - nnodes;
	pthread_mutex_unlock(&nodes_lock);
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

static void null_forget(fuse_req_t req, fuse_ino_t ino, uint64_t n)
{
	(void)ino;
	(void)n;
	count(OP_FORGET);
	fuse_reply_none(req);
}

static void null_forget_multi(fuse_req_t req, size_t count_,
			      struct fuse_forget_data *forgets)
{
	(void)count_;
	(void)forgets;
	count(OP_BATCH_FORGET);
	fuse_reply_none(req);
}

/* READDIRPLUS: the offset is the node index to go on from. */
static void null_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			     off_t off, struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	size_t used = 0, len;
	uint32_t i;
	char *buf;

	(void)fi;
	count(OP_READDIRPLUS);
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&nodes_lock);
	for (i = (uint32_t)off; i < nnodes; i++) {
		if (i == 0 || nodes[i].parent != ino)
			continue;
		memset(&e, 0, sizeof(e));
		e.ino = i + 1;
		e.attr_timeout = 1.0;
		e.entry_timeout = 1.0;
		fill_attr(e.ino, &e.attr);
		len = fuse_add_direntry_plus(req, buf + used, size - used,
					     nodes[i].name, &e, i + 1);
		if (len > size - used)
			break;
		used += len;
	}
	pthread_mutex_unlock(&nodes_lock);
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static const struct fuse_lowlevel_ops null_ops = {
	.init = null_init,
	.lookup = null_lookup,
	.forget = null_forget,
	.forget_multi = null_forget_multi,
	.getattr = null_getattr,
	.setattr = null_setattr,
	.readlink = null_readlink,
	.symlink = null_symlink,
	.mkdir = null_mkdir,
	.unlink = null_unlink,
	.rmdir = null_rmdir,
	.open = null_open,
	.read = null_read,
	.write = null_write,
	.release = null_release,
	.flush = null_flush,
	.fsync = null_fsync,
	.opendir = null_opendir,
	.releasedir = null_releasedir,
	.fsyncdir = null_fsyncdir,
	.statfs = null_statfs,
	.readdirplus = null_readdirplus,
	.setxattr = null_setxattr,
	.getxattr = null_getxattr,
	.listxattr = null_listxattr,
	.removexattr = null_removexattr,
	.create = null_create,
};

static void usage(void)
{
	fprintf(stderr, "usage: fuse-null [-w|-W] [-c] [-d] MOUNTPOINT\n"
			"  -w  iomapfs's capabilities, write-back cache on\n"
			"  -W  iomapfs's capabilities, write-back cache off\n"
			"  -c  print the requests served, by kind, at unmount\n"
			"  -d  libfuse's debug log\n");
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_lowlevel_ops ops = null_ops;
	struct fuse_loop_config *cfg;
	static struct iomapfs devio_fsx; /* devio_setup() reads only .se */
	struct fuse_session *se;
	bool counts = false, debug = false;
	struct timespec now;
	int c, ret = 1;

	while ((c = getopt(argc, argv, "wWcdh")) != -1) {
		switch (c) {
		case 'w':
		case 'W':
			iomapfs_caps = true;
			writeback = c == 'w';
			break;
		case 'c':
			counts = true;
			break;
		case 'd':
			debug = true;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage();
		return 2;
	}
	if (iomapfs_caps) {
		ops.write = NULL;
		ops.write_buf = null_write_buf;
		null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null_fd < 0) {
			perror("fuse-null: /dev/null");
			return 1;
		}
	}
	nodes = calloc(NULL_MAX_NODES, sizeof(*nodes));
	if (!nodes) {
		fprintf(stderr, "fuse-null: out of memory\n");
		goto out_null_fd;
	}
	null_now(&now);
	nodes[0].mode = S_IFDIR | 0755;
	nodes[0].atime = nodes[0].mtime = nodes[0].ctime = now;
	if (fuse_opt_add_arg(&args, "fuse-null") ||
	    fuse_opt_add_arg(&args, "-odefault_permissions,fsname=fuse-null") ||
	    (debug && fuse_opt_add_arg(&args, "-d"))) {
		fprintf(stderr, "fuse-null: out of memory\n");
		goto out_free;
	}
	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!se)
		goto out_args;
	if (fuse_session_mount(se, argv[optind]))
		goto out_session;
	/* iomapfs's INIT reply: HANDLE_KILLPRIV_V2, DIRECT_IO_ALLOW_MMAP */
	devio_fsx.se = se;
	if (iomapfs_caps && devio_setup(&devio_fsx)) {
		fprintf(stderr, "fuse-null: cannot take over /dev/fuse I/O\n");
		goto out_unmount;
	}
	cfg = fuse_loop_cfg_create();
	if (!cfg)
		goto out_unmount;
	fuse_loop_cfg_set_clone_fd(cfg, 1);
	fuse_loop_cfg_set_max_threads(cfg, NULL_THREADS);
	ret = fuse_session_loop_mt(se, cfg) ? 1 : 0;
	fuse_loop_cfg_destroy(cfg);
	if (counts)
		print_counts();
out_unmount:
	fuse_session_unmount(se);
out_session:
	fuse_session_destroy(se);
out_args:
	fuse_opt_free_args(&args);
out_free:
	for (c = 0; c < (int)nnodes; c++) {
		free(nodes[c].name);
		free(nodes[c].link);
	}
	free(nodes);
out_null_fd:
	if (null_fd >= 0)
		close(null_fd);
	return ret;
}
