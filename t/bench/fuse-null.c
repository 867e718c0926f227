// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuse-null.c - a FUSE server that does no filesystem work at all, for
 * t/bench/fusefloor: it shows what the FUSE protocol alone costs on this
 * kernel for the metadata jobs of fsbench (create, cold "ls -l", unlink of
 * many small files in one directory), so that iomapfs's times can be set
 * against the floor as well as against the kernel's ext4.  It is mounted
 * the way iomapfs is (low-level API, default_permissions, the same
 * capabilities, multi-threaded loop with clone_fd, 8 threads) and answers
 * from a table in memory: one root holding directories, which hold
 * files; file data is thrown away, a file reads as zeroes up to the size
 * written, and there are no extended attributes.  O_DIRECT opens get
 * FUSE's direct-I/O mode, as in iomapfs.
 *
 *   fuse-null MOUNTPOINT      serve until unmounted (fusermount3 -u)
 */
#include "config.h"

#define FUSE_USE_VERSION 314

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <fuse_lowlevel.h>

#define NULL_MAX_NODES (1u << 20)
#define NULL_THREADS   8
#define NULL_BUCKETS   (1u << 16)
#define NULL_MAX_IO    (1u << 20)

struct null_node {
	char *name;
	fuse_ino_t parent; /* 0: free slot */
	bool dir;
	uint64_t size;
	uint32_t next; /* hash chain: node index, 0 ends */
};

/* Node i has inode number i + 1; node 0 is the root. */
static struct null_node *nodes;
static uint32_t nnodes = 1;
static uint32_t buckets[NULL_BUCKETS];
static pthread_mutex_t nodes_lock = PTHREAD_MUTEX_INITIALIZER;

static void fill_attr(fuse_ino_t ino, struct stat *st)
{
	const struct null_node *n = &nodes[ino - 1];

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = n->dir ? S_IFDIR | 0755 : S_IFREG | 0644;
	st->st_nlink = n->dir ? 2 : 1;
	st->st_size = (off_t)n->size;
	st->st_blksize = 4096;
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
	fill_attr(ino, &e.attr);
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
	conn->want |= want & conn->capable;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	conn->max_write = NULL_MAX_IO;
}

static void null_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_ino_t ino;

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
	fill_attr(ino, &st);
	fuse_reply_attr(req, &st, 1.0);
}

/* A new node @name in @parent: its inode number, or -errno. */
static long add_node(fuse_ino_t parent, const char *name, bool dir)
{
	long ret;

	pthread_mutex_lock(&nodes_lock);
	if (find(parent, name)) {
		ret = -EEXIST;
	} else if (nnodes >= NULL_MAX_NODES) {
		ret = -ENOSPC;
	} else {
		nodes[nnodes].name = strdup(name);
		if (!nodes[nnodes].name) {
			ret = -ENOMEM;
		} else {
			nodes[nnodes].parent = parent;
			nodes[nnodes].dir = dir;
			nodes[nnodes].size = 0;
			nodes[nnodes].next = *bucket(parent, name);
			*bucket(parent, name) = nnodes;
			ret = ++nnodes;
		}
	}
	pthread_mutex_unlock(&nodes_lock);
	return ret;
}

static void null_create(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode, struct fuse_file_info *fi)
{
	long ino = add_node(parent, name, false);

	(void)mode;
	if (ino < 0) {
		fuse_reply_err(req, (int)-ino);
		return;
	}
	fi->noflush = 1; /* as iomapfs */
	reply_entry(req, (fuse_ino_t)ino, fi);
}

static void null_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		       mode_t mode)
{
	long ino = add_node(parent, name, true);

	(void)mode;
	if (ino < 0)
		fuse_reply_err(req, (int)-ino);
	else
		reply_entry(req, (fuse_ino_t)ino, NULL);
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
		nodes[ino - 1].name = NULL;
		nodes[ino - 1].parent = 0;
	}
	pthread_mutex_unlock(&nodes_lock);
	fuse_reply_err(req, ino ? 0 : ENOENT);
}

static void null_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	fi->noflush = 1;
	if (fi->flags & O_DIRECT)
		fi->direct_io = 1;
	fuse_reply_open(req, fi);
}

static void null_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			 int to_set, struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	if (to_set & FUSE_SET_ATTR_SIZE) {
		pthread_mutex_lock(&nodes_lock);
		nodes[ino - 1].size = (uint64_t)attr->st_size;
		pthread_mutex_unlock(&nodes_lock);
	}
	fill_attr(ino, &st);
	fuse_reply_attr(req, &st, 1.0);
}

static void null_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		       size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)buf;
	(void)fi;
	pthread_mutex_lock(&nodes_lock);
	if (nodes[ino - 1].size < (uint64_t)off + size)
		nodes[ino - 1].size = (uint64_t)off + size;
	pthread_mutex_unlock(&nodes_lock);
	fuse_reply_write(req, size);
}

static void null_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	static const char zeroes[NULL_MAX_IO];
	uint64_t fsize;

	(void)fi;
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

static void null_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			  size_t size)
{
	(void)ino;
	(void)name;
	(void)size;
	fuse_reply_err(req, ENODATA);
}

static void null_ok(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void null_forget(fuse_req_t req, fuse_ino_t ino, uint64_t n)
{
	(void)ino;
	(void)n;
	fuse_reply_none(req);
}

static void null_forget_multi(fuse_req_t req, size_t count,
			      struct fuse_forget_data *forgets)
{
	(void)count;
	(void)forgets;
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
	.mkdir = null_mkdir,
	.unlink = null_remove,
	.rmdir = null_remove,
	.open = null_open,
	.read = null_read,
	.write = null_write,
	.release = null_ok,
	.flush = null_ok,
	.opendir = null_open,
	.releasedir = null_ok,
	.readdirplus = null_readdirplus,
	.getxattr = null_getxattr,
	.create = null_create,
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_loop_config *cfg;
	struct fuse_session *se;
	int ret = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: fuse-null MOUNTPOINT\n");
		return 2;
	}
	nodes = calloc(NULL_MAX_NODES, sizeof(*nodes));
	if (!nodes) {
		fprintf(stderr, "fuse-null: out of memory\n");
		return 1;
	}
	nodes[0].dir = true;
	if (fuse_opt_add_arg(&args, "fuse-null") ||
	    fuse_opt_add_arg(&args, "-odefault_permissions,fsname=fuse-null")) {
		fprintf(stderr, "fuse-null: out of memory\n");
		goto out_free;
	}
	se = fuse_session_new(&args, &null_ops, sizeof(null_ops), NULL);
	if (!se)
		goto out_args;
	if (fuse_session_mount(se, argv[1]))
		goto out_session;
	cfg = fuse_loop_cfg_create();
	if (!cfg)
		goto out_unmount;
	fuse_loop_cfg_set_clone_fd(cfg, 1);
	fuse_loop_cfg_set_max_threads(cfg, NULL_THREADS);
	ret = fuse_session_loop_mt(se, cfg) ? 1 : 0;
	fuse_loop_cfg_destroy(cfg);
out_unmount:
	fuse_session_unmount(se);
out_session:
	fuse_session_destroy(se);
out_args:
	fuse_opt_free_args(&args);
out_free:
	free(nodes);
	return ret;
}
