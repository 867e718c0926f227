// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctl.c - the control server of iomapfs: io.iomapfs.Cache and
 * org.varlink.service over a UNIX socket (see ctl.h for the threading and
 * locking rules, io.iomapfs.Cache.varlink for the methods).
 *
 * One poll thread owns the listening socket and every connection: it
 * reads requests, runs the short methods inline (they only touch the
 * cache's short internal locks), writes replies from each connection's
 * bounded output buffer, and feeds watchers from their cache_watch.
 * Methods that read the disk or stream many replies (Dump, Map, Audit) run
 * in a worker thread of their connection; the worker queues replies and
 * sleeps while the connection holds more than CTL_OUT_BOUND unsent bytes,
 * so a client that stops reading stalls only its own call.  Nothing holds
 * fs_lock or a cache lock while it waits for a client.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <blkid.h>

#include "cache.h"
#include "ctl.h"
#include "ctlpath.h"
#include "dirindex.h"
#include "ext2map.h"
#include "fs.h"
#include "proto.h"
#include "replay.h"
#include "varlink.h"

/* Mappings per reply when a result is streamed. */
#define CTL_CHUNK 512
/* Most mappings in one reply of a call made without "more". */
#define CTL_MAX_UNSTREAMED 4096
/* A single reply larger than this closes the connection. */
#define CTL_OUT_HARD (16u * 1024u * 1024u)
/* Events taken from a watch per poll round. */
#define CTL_WATCH_BATCH 64
/* Path search budget of one Dump: directories and entries examined. */
#define CTL_PATH_MAX_DIRS 4096
#define CTL_PATH_MAX_ENTRIES (256u * 1024u)

enum ctl_access {
	CTL_ACCESS_NONE = 0,
	CTL_ACCESS_READ,
	CTL_ACCESS_ADMIN,
};

struct ctl_conn {
	struct ctl_server *srv;		/* constant */
	int fd;				/* constant until freed */
	uid_t uid;			/* SO_PEERCRED, constant */
	pid_t pid;
	enum ctl_access access;		/* constant */
	/* Poll thread only. */
	struct varlink_rbuf rb;
	uint64_t last_read_ms;		/* last whole request, or call end */
	uint64_t last_write_ms;		/* last reply byte written */
	bool close_when_flushed;	/* after a ProtocolError */
	struct cache_watch *watch;	/* a Watch call in progress */
	uint64_t watch_left;		/* events still to send; 0: no end */
	struct ctl_conn *next;

	/* Protected by mu: the output buffer and the call state. */
	pthread_mutex_t mu;
	pthread_cond_t cond;		/* output drained, or dead */
	char *out;
	size_t out_off, out_len, out_cap;
	bool dead;			/* peer gone or server stopping */
	bool busy;			/* a call runs (worker or watch) */
	bool worker;			/* a worker thread exists */
	bool worker_done;		/* ... and has finished */
	pthread_t tid;
	/* The call the worker runs; owned by the worker while it runs. */
	json_t *call_msg;
	struct varlink_call call;
	const struct ctl_method *method;
};

struct ctl_server {
	struct iomapfs *fsx;
	char *path;
	ino_t sock_ino;			/* the socket we bound, for removal */
	dev_t sock_dev;
	int listen_fd;
	int wake_fd;			/* eventfd: workers and ctl_stop */
	pthread_t thread;
	bool thread_started;
	bool stopping;			/* atomic: set by ctl_stop() before wake */
	gid_t group;
	bool have_group;
	uint64_t idle_ms;
	struct ctl_conn *conns;		/* poll thread only */
	unsigned int nconns;
	/* Closed connections whose worker has not stopped yet: joined once
	 * it has, so that the poll thread never waits for a worker. */
	struct ctl_conn *zombies;
	/* From libblkid at start; NULL when unknown. */
	char *uuid, *label, *fstype;
};

/* ---- small helpers ----------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void wake(struct ctl_server *srv)
{
	uint64_t one = 1;

	if (write(srv->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		fprintf(stderr, "iomapfs: control: wake-up failed: %s\n",
			strerror(errno));
}

static json_t *jint(uint64_t v)
{
	return json_integer(v > (uint64_t)PROTO_MAX_INT ? PROTO_MAX_INT
							: (json_int_t)v);
}

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *reply_error(const char *name, json_t *params)
{
	return varlink_reply_new(params, name, false);
}

static json_t *err_ino(const char *name, uint64_t ino)
{
	return reply_error(name, json_pack("{s:o}", "ino", jint(ino)));
}

static json_t *err_io(int err)
{
	return reply_error(PROTO_E_IO_ERROR,
			   json_pack("{s:i, s:s}", "errno", err,
				     "message", strerror(err)));
}

/* The error reply for a -errno from the mapping source or libext2fs. */
static json_t *err_from_errno(int ret, uint64_t ino, uint64_t off,
			      uint64_t len)
{
	switch (ret) {
	case -ENOENT:
		return err_ino(PROTO_E_NO_SUCH_INODE, ino);
	case -EINVAL:
		return err_ino(PROTO_E_NOT_MAPPABLE, ino);
	case -EFBIG:
		return reply_error(PROTO_E_INVALID_RANGE,
				   json_pack("{s:o, s:o}", "offset", jint(off),
					     "length", jint(len)));
	default:
		return err_io(-ret);
	}
}

static json_t *limits_json(const struct cache_limits *l)
{
	return json_pack("{s:o, s:o, s:o}",
			 PROTO_LIMIT_CACHE_MAX, jint(l->max_bytes),
			 PROTO_LIMIT_CACHE_INODE_MAX, jint(l->inode_max_bytes),
			 PROTO_LIMIT_EVENT_RING, jint(l->event_ring));
}

static double ratio(uint64_t hits, uint64_t lookups)
{
	return lookups ? (double)hits / (double)lookups : 0.0;
}

static json_t *inode_stats_json(const struct cache_inode_stats *st)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:f, s:o, s:o, s:o, s:o,"
			 " s:o, s:o}",
			 "ino", jint(st->ino), "cookie", jint(st->cookie),
			 "lookups", jint(st->lookups), "hits", jint(st->hits),
			 "misses", jint(st->misses),
			 "hit_ratio", ratio(st->hits, st->lookups),
			 "upserts", jint(st->upserts),
			 "invalidations", jint(st->invalidations),
			 "evictions", jint(st->evictions),
			 "mappings", jint(st->mappings),
			 "bytes", jint(st->bytes),
			 "last_use_ns", jint(st->last_use_ns));
}

static json_t *dix_stats_json(const struct dix_stats *st)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "bytes", jint(st->bytes), "bytes_max",
			 jint(st->bytes_max), "dirs", jint(st->dirs), "entries",
			 jint(st->entries), "builds", jint(st->builds), "hits",
			 jint(st->hits), "fallbacks", jint(st->fallbacks),
			 "evictions", jint(st->evictions), "too_big",
			 jint(st->too_big));
}

static json_t *stats_json(const struct cache_stats *st)
{
	json_t *by = json_object();
	unsigned int r;

	if (!by)
		return NULL;
	for (r = 0; r < CACHE_R_COUNT; r++) {
		const char *name = cache_reason_name(r);

		if (name && json_object_set_new(
				    by, name,
				    jint(st->invalidations_by_reason[r]))) {
			json_decref(by);
			return NULL;
		}
	}
	return json_pack("{s:b, s:o, s:o, s:o, s:f, s:o, s:o, s:o, s:o, s:o,"
			 " s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
			 " s:o}",
			 "enabled", st->enabled, "lookups", jint(st->lookups),
			 "hits", jint(st->hits), "misses", jint(st->misses),
			 "hit_ratio", ratio(st->hits, st->lookups),
			 "source_calls", jint(st->source_calls),
			 "source_errors", jint(st->source_errors),
			 "upserts", jint(st->upserts),
			 "merges", jint(st->merges),
			 "stale_skips", jint(st->stale_skips),
			 "invalidations", jint(st->invalidations),
			 "invalidations_by_reason", by,
			 "invalidated_mappings",
			 jint(st->invalidated_mappings),
			 "evictions", jint(st->evictions),
			 "events", jint(st->events),
			 "inodes", jint(st->inodes),
			 "mappings", jint(st->mappings),
			 "bytes", jint(st->bytes),
			 "inodes_hwm", jint(st->inodes_hwm),
			 "mappings_hwm", jint(st->mappings_hwm),
			 "bytes_hwm", jint(st->bytes_hwm));
}

static json_t *mappings_json(const struct iomap *maps, size_t n)
{
	json_t *a = json_array();
	size_t i;

	if (!a)
		return NULL;
	for (i = 0; i < n; i++) {
		if (json_array_append_new(a, proto_iomap_to_json(&maps[i]))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* ---- output ------------------------------------------------------------ */

/* Append an encoded message to @c's buffer.  Call with c->mu held. */
static int out_append_locked(struct ctl_conn *c, const char *buf, size_t len)
{
	size_t pending = c->out_len - c->out_off;

	if (pending + len > CTL_OUT_HARD)
		return -ENOBUFS;
	if (c->out_off && c->out_off == c->out_len) {
		c->out_off = 0;
		c->out_len = 0;
	}
	if (c->out_len + len > c->out_cap) {
		size_t ncap;
		char *nbuf;

		if (c->out_off) {
			memmove(c->out, c->out + c->out_off, pending);
			c->out_off = 0;
			c->out_len = pending;
		}
		ncap = c->out_cap ? c->out_cap : 4096;
		while (ncap < c->out_len + len)
			ncap *= 2;
		if (ncap != c->out_cap) {
			nbuf = realloc(c->out, ncap);
			if (!nbuf)
				return -ENOMEM;
			c->out = nbuf;
			c->out_cap = ncap;
		}
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	return 0;
}

/*
 * Queue @reply (stolen) from the poll thread.  Never waits: a client that
 * does not read is not read from either (see conn_wants_input()), so only
 * one reply can pass the bound; one past CTL_OUT_HARD closes the
 * connection.
 */
static int conn_queue(struct ctl_conn *c, json_t *reply)
{
	size_t len;
	char *buf;
	int ret;

	if (!reply)
		return -ENOMEM;
	ret = varlink_encode(reply, 0, &buf, &len);
	json_decref(reply);
	if (ret)
		return ret;
	pthread_mutex_lock(&c->mu);
	ret = out_append_locked(c, buf, len);
	pthread_mutex_unlock(&c->mu);
	free(buf);
	return ret;
}

/*
 * Queue @reply (stolen) from a worker, first waiting while the connection
 * holds more than CTL_OUT_BOUND unsent bytes.  Returns 0, or -EPIPE when
 * the connection died (the worker then stops).
 */
static int conn_send_wait(struct ctl_conn *c, json_t *reply)
{
	size_t len;
	char *buf;
	int ret;

	if (!reply)
		return -ENOMEM;
	ret = varlink_encode(reply, 0, &buf, &len);
	json_decref(reply);
	if (ret)
		return ret;
	pthread_mutex_lock(&c->mu);
	while (!c->dead && c->out_len - c->out_off > CTL_OUT_BOUND)
		pthread_cond_wait(&c->cond, &c->mu);
	ret = c->dead ? -EPIPE : out_append_locked(c, buf, len);
	pthread_mutex_unlock(&c->mu);
	free(buf);
	if (!ret)
		wake(c->srv);
	return ret;
}

/*
 * Replies of a streamed call: each reply is held back until the next one
 * (or the end) shows whether it is the last, so that exactly the last one
 * goes without "continues".
 */
struct ctl_stream {
	struct ctl_conn *c;
	json_t *pending;	/* reply parameters not yet sent */
	int ret;
};

static int stream_push(struct ctl_stream *s, json_t *params)
{
	json_t *prev = s->pending;

	if (!params)
		return s->ret = -ENOMEM;
	s->pending = params;
	if (prev && !s->ret)
		s->ret = conn_send_wait(s->c,
					varlink_reply_new(prev, NULL, true));
	else
		json_decref(prev);
	return s->ret;
}

/* Send the held reply as the last one; @final (stolen, may be NULL) is a
 * reply of its own after it. */
static int stream_end(struct ctl_stream *s, json_t *final)
{
	if (final)
		stream_push(s, final);
	if (s->pending && !s->ret)
		s->ret = conn_send_wait(
			s->c, varlink_reply_new(s->pending, NULL, false));
	else
		json_decref(s->pending);
	s->pending = NULL;
	return s->ret;
}

/* ---- paths of inodes (Dump) ------------------------------------------- */

/*
 * A bounded breadth-first search of the directory tree that remembers the
 * parent of every entry it sees, so that Dump can name the files it
 * reports.  fs_lock is taken per directory, never across the search.
 */
struct ctl_paths {
	uint32_t *keys, *vals;		/* open addressing: ino -> parent */
	size_t cap, n;
	uint32_t *queue;		/* directories still to read */
	size_t qhead, qlen, qcap;
	size_t dirs, entries;
	bool started;
};

static void paths_free(struct ctl_paths *p)
{
	free(p->keys);
	free(p->vals);
	free(p->queue);
	memset(p, 0, sizeof(*p));
}

static size_t paths_slot(const struct ctl_paths *p, uint32_t ino)
{
	size_t i = (ino * 2654435761u) & (p->cap - 1);

	while (p->keys[i] && p->keys[i] != ino)
		i = (i + 1) & (p->cap - 1);
	return i;
}

static int paths_put(struct ctl_paths *p, uint32_t ino, uint32_t parent)
{
	size_t i;

	if ((p->n + 1) * 2 > p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 1024, j;
		struct ctl_paths np = *p;

		np.keys = calloc(ncap, sizeof(*np.keys));
		np.vals = calloc(ncap, sizeof(*np.vals));
		if (!np.keys || !np.vals) {
			free(np.keys);
			free(np.vals);
			return -ENOMEM;
		}
		np.cap = ncap;
		for (j = 0; j < p->cap; j++) {
			if (!p->keys[j])
				continue;
			i = paths_slot(&np, p->keys[j]);
			np.keys[i] = p->keys[j];
			np.vals[i] = p->vals[j];
		}
		free(p->keys);
		free(p->vals);
		p->keys = np.keys;
		p->vals = np.vals;
		p->cap = ncap;
	}
	i = paths_slot(p, ino);
	if (p->keys[i])
		return 0;	/* first name found wins (hard links) */
	p->keys[i] = ino;
	p->vals[i] = parent;
	p->n++;
	return 0;
}

static uint32_t paths_get(const struct ctl_paths *p, uint32_t ino)
{
	size_t i;

	if (!p->cap)
		return 0;
	i = paths_slot(p, ino);
	return p->keys[i] ? p->vals[i] : 0;
}

static int paths_enqueue(struct ctl_paths *p, uint32_t dir)
{
	if (p->qlen == p->qcap) {
		size_t ncap = p->qcap ? p->qcap * 2 : 256;
		uint32_t *nq = realloc(p->queue, ncap * sizeof(*nq));

		if (!nq)
			return -ENOMEM;
		p->queue = nq;
		p->qcap = ncap;
	}
	p->queue[p->qlen++] = dir;
	return 0;
}

struct paths_iter {
	struct ctl_paths *p;
	int ret;
};

static int paths_dirent(ext2_ino_t dir, int entry,
			struct ext2_dir_entry *dirent, int offset,
			int blocksize, char *buf, void *arg)
{
	struct paths_iter *it = arg;
	ext2_ino_t ino = dirent->inode;

	if (entry == DIRENT_DOT_FILE || entry == DIRENT_DOT_DOT_FILE || !ino)
		return 0;
	it->p->entries++;
	if (paths_put(it->p, ino, dir) ||
	    (ext2fs_dirent_file_type(dirent) == EXT2_FT_DIR &&
	     paths_enqueue(it->p, ino))) {
		it->ret = -ENOMEM;
		return DIRENT_ABORT;
	}
	return it->p->entries >= CTL_PATH_MAX_ENTRIES ? DIRENT_ABORT : 0;
}

/* The path of @ino inside the filesystem, or NULL when the search budget
 * runs out first.  @is_dir: @ino is a directory. */
static char *paths_lookup(struct ctl_server *srv, struct ctl_paths *p,
			  uint32_t ino, bool is_dir)
{
	struct iomapfs *fsx = srv->fsx;
	uint32_t parent;
	char *name = NULL, *ret = NULL;
	errcode_t err;

	if (!p->started) {
		p->started = true;
		if (paths_enqueue(p, EXT2_ROOT_INO))
			return NULL;
	}
	while (!is_dir && !(parent = paths_get(p, ino))) {
		struct paths_iter it = { .p = p };
		uint32_t dir;

		if (p->qhead == p->qlen || p->dirs >= CTL_PATH_MAX_DIRS ||
		    p->entries >= CTL_PATH_MAX_ENTRIES)
			return NULL;
		dir = p->queue[p->qhead++];
		p->dirs++;
		fs_lock(fsx);
		ext2fs_dir_iterate2(fsx->fs, dir, 0, NULL, paths_dirent, &it);
		fs_unlock(fsx);
		if (it.ret)
			return NULL;
	}
	fs_lock(fsx);
	if (is_dir)
		err = ext2fs_get_pathname(fsx->fs, ino, 0, &name);
	else
		err = ext2fs_get_pathname(fsx->fs, parent, ino, &name);
	fs_unlock(fsx);
	if (!err && name) {
		ret = strdup(name);
		ext2fs_free_mem(&name);
	}
	return ret;
}

/* ---- methods ----------------------------------------------------------- */

#define CTL_M_ADMIN 0x1u	/* changes state: admins only */
#define CTL_M_WORKER 0x2u	/* runs in a worker thread */
#define CTL_M_WATCH 0x4u	/* the Watch call */

struct ctl_method {
	const char *name;
	unsigned int flags;
	const struct varlink_param *params;
	size_t nparams;
	/* Inline methods return the reply (success or error). */
	json_t *(*call)(struct ctl_conn *c, const json_t *params);
	/* Worker methods send their replies themselves. */
	int (*stream)(struct ctl_conn *c, const json_t *params, bool more);
};

#define P_INO { "ino", VARLINK_T_INT, false, 1, UINT32_MAX }
#define P_INO_REQ { "ino", VARLINK_T_INT, true, 1, UINT32_MAX }
#define P_OFFSET { "offset", VARLINK_T_INT, false, 0, INT64_MAX }
#define P_LENGTH { "length", VARLINK_T_INT, false, 1, INT64_MAX }

static const struct varlink_param p_none[] = { { NULL, 0, false, 0, 0 } };
static const struct varlink_param p_ino[] = { P_INO };
static const struct varlink_param p_range[] = { P_INO, P_OFFSET, P_LENGTH };
static const struct varlink_param p_map[] = { P_INO_REQ, P_OFFSET,
					      P_LENGTH };
static const struct varlink_param p_caching[] = {
	{ "enabled", VARLINK_T_BOOL, true, 0, 0 },
};
static const struct varlink_param p_limits[] = {
	{ PROTO_LIMIT_CACHE_MAX, VARLINK_T_INT, false, CACHE_MIN_MAX_BYTES,
	  INT64_MAX },
	{ PROTO_LIMIT_CACHE_INODE_MAX, VARLINK_T_INT, false,
	  CACHE_MIN_INODE_MAX_BYTES, INT64_MAX },
	{ PROTO_LIMIT_EVENT_RING, VARLINK_T_INT, false, CACHE_MIN_EVENT_RING,
	  CACHE_MAX_EVENT_RING },
};
static const struct varlink_param p_watch[] = {
	{ "count", VARLINK_T_INT, false, 1, INT64_MAX },
};
static const struct varlink_param p_describe[] = {
	{ "interface", VARLINK_T_STRING, true, 0, 0 },
};

/* The range [offset, offset + length - 1] of a call; length 0: to EOF. */
static void get_range(const json_t *params, uint64_t *off, uint64_t *len)
{
	int64_t v;

	*off = varlink_param_int(params, "offset", &v) ? (uint64_t)v : 0;
	*len = varlink_param_int(params, "length", &v) ? (uint64_t)v : 0;
}

/* Offset and length make sense only with an inode. */
static json_t *check_range_needs_ino(const json_t *params)
{
	int64_t v;

	if (varlink_param_int(params, "ino", &v))
		return NULL;
	if (json_object_get(params, "offset") &&
	    !json_is_null(json_object_get(params, "offset")))
		return varlink_reply_invalid_parameter("offset");
	if (json_object_get(params, "length") &&
	    !json_is_null(json_object_get(params, "length")))
		return varlink_reply_invalid_parameter("length");
	return NULL;
}

static json_t *m_get_info(struct ctl_conn *c, const json_t *params)
{
	return varlink_reply_new(
		json_pack("{s:s, s:s, s:s, s:s, s:[s, s]}",
			  "vendor", PROTO_VENDOR, "product", PROTO_PRODUCT,
			  "version", PACKAGE_VERSION, "url", PROTO_URL,
			  "interfaces", VARLINK_SERVICE, PROTO_INTERFACE),
		NULL, false);
}

static const char ctl_service_idl[] =
	"# The Varlink Service Interface is provided by every varlink "
	"service. It\n"
	"# describes the service and the interfaces it implements.\n"
	"interface org.varlink.service\n\n"
	"# Get a list of all the interfaces a service provides and "
	"information\n# about the implementation.\n"
	"method GetInfo() -> (\n  vendor: string,\n  product: string,\n"
	"  version: string,\n  url: string,\n  interfaces: []string\n)\n\n"
	"# Get the description of an interface that is implemented by this "
	"service.\n"
	"method GetInterfaceDescription(interface: string) -> "
	"(description: string)\n\n"
	"# The requested interface was not found.\n"
	"error InterfaceNotFound (interface: string)\n\n"
	"# The requested method was not found\n"
	"error MethodNotFound (method: string)\n\n"
	"# The interface defines the requested method, but the service does "
	"not\n# implement it.\n"
	"error MethodNotImplemented (method: string)\n\n"
	"# One of the passed parameters is invalid.\n"
	"error InvalidParameter (parameter: string)\n\n"
	"# Client is denied access\n"
	"error PermissionDenied ()\n\n"
	"# Method is expected to be called with 'more' set to true, but "
	"wasn't\n"
	"error ExpectedMore ()\n";

/* The interface description, from io.iomapfs.Cache.varlink at build time
 * (ctl-idl.c). */
extern const char ctl_idl_text[];

static json_t *m_get_interface_description(struct ctl_conn *c,
					   const json_t *params)
{
	const char *name =
		json_string_value(json_object_get(params, "interface"));
	const char *text;

	if (!strcmp(name, PROTO_INTERFACE))
		text = ctl_idl_text;
	else if (!strcmp(name, VARLINK_SERVICE))
		text = ctl_service_idl;
	else
		return reply_error(VARLINK_E_INTERFACE_NOT_FOUND,
				   json_pack("{s:s}", "interface", name));
	return varlink_reply_new(json_pack("{s:s}", "description", text),
				 NULL, false);
}

/* The journal as the mount found it (replay.h). */
static json_t *m_get_journal(struct ctl_conn *c, const json_t *params)
{
	(void)params;
	return varlink_reply_new(replay_describe(c->srv->fsx), NULL, false);
}

static json_t *m_get_status(struct ctl_conn *c, const json_t *params)
{
	struct ctl_server *srv = c->srv;
	struct iomapfs *fsx = srv->fsx;
	char start[PROTO_RFC3339_SIZE], e2ver[32];
	struct cache_limits lim;
	const char *e2v = NULL;
	uint64_t start_ns, now;
	json_t *p;

	start_ns = (uint64_t)fsx->start_time.tv_sec * 1000000000u +
		   (uint64_t)fsx->start_time.tv_nsec;
	now = realtime_ns();
	cache_get_limits(fsx->cache, &lim);
	ext2fs_get_library_version(&e2v, NULL);
	snprintf(e2ver, sizeof(e2ver), "%s", e2v ? e2v : "unknown");
	p = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:i, s:b, s:b, s:o,"
		      " s:o, s:s, s:i, s:o, s:s, s:s, s:s, s:s}",
		      "image", fsx->source ? fsx->source : "",
		      "mountpoint", fsx->mountpoint ? fsx->mountpoint : "",
		      "socket", srv->path,
		      "uuid", jstr_or_null(srv->uuid),
		      "label", jstr_or_null(srv->label),
		      "fstype", jstr_or_null(srv->fstype),
		      "block_size", (int)fsx->blocksize,
		      "read_only", fsx->ro_now,
		      "caching", cache_enabled(fsx->cache),
		      "limits", limits_json(&lim),
		      "uptime_ns", jint(now > start_ns ? now - start_ns : 0),
		      "start_time", proto_time_rfc3339(start_ns, start,
						       sizeof(start)),
		      "pid", (int)getpid(),
		      "owner_uid", jint(fsx->owner_uid),
		      "version", PACKAGE_VERSION,
		      "fuse_version", fuse_pkgversion(),
		      "ext2fs_version", e2ver,
		      "access", c->access == CTL_ACCESS_ADMIN ? "admin"
							      : "read-only");
	return varlink_reply_new(p, NULL, false);
}

static json_t *m_get_stats(struct ctl_conn *c, const json_t *params)
{
	struct cache *cache = c->srv->fsx->cache;
	struct cache_inode_stats ist;
	struct cache_stats st;
	int64_t ino;
	json_t *p;

	cache_get_stats(cache, &st);
	p = json_pack("{s:o}", "stats", stats_json(&st));
	if (!p)
		return NULL;
	if (c->srv->fsx->dix) {
		struct dix_stats ds;

		fs_lock(c->srv->fsx);
		dix_get_stats(c->srv->fsx->dix, &ds);
		fs_unlock(c->srv->fsx);
		if (json_object_set_new(p, "dir_index", dix_stats_json(&ds))) {
			json_decref(p);
			return NULL;
		}
	}
	if (varlink_param_int(params, "ino", &ino)) {
		if (cache_get_inode_stats(cache, (uint64_t)ino, &ist)) {
			json_decref(p);
			return err_ino(PROTO_E_NOT_CACHED, (uint64_t)ino);
		}
		if (json_object_set_new(p, "inode", inode_stats_json(&ist))) {
			json_decref(p);
			return NULL;
		}
	}
	return varlink_reply_new(p, NULL, false);
}

static json_t *m_reset_stats(struct ctl_conn *c, const json_t *params)
{
	cache_reset_stats(c->srv->fsx->cache);
	if (c->srv->fsx->dix) {
		fs_lock(c->srv->fsx);
		dix_reset_stats(c->srv->fsx->dix);
		fs_unlock(c->srv->fsx);
	}
	return varlink_reply_new(NULL, NULL, false);
}

static json_t *m_flush(struct ctl_conn *c, const json_t *params)
{
	uint64_t off, len;
	int64_t ino = 0, n;
	json_t *bad;

	bad = check_range_needs_ino(params);
	if (bad)
		return bad;
	varlink_param_int(params, "ino", &ino);
	get_range(params, &off, &len);
	n = cache_flush(c->srv->fsx->cache, (uint64_t)ino, off,
			len ? len : UINT64_MAX);
	if (n == -ENOENT)
		return err_ino(PROTO_E_NOT_CACHED, (uint64_t)ino);
	if (n < 0)
		return err_io((int)-n);
	return varlink_reply_new(json_pack("{s:o}", "flushed", jint(n)), NULL,
				 false);
}

static json_t *m_set_caching(struct ctl_conn *c, const json_t *params)
{
	bool on = false, prev;

	varlink_param_bool(params, "enabled", &on);
	prev = cache_set_enabled(c->srv->fsx->cache, on);
	return varlink_reply_new(json_pack("{s:b, s:b}", "enabled", on,
					   "previous", prev),
				 NULL, false);
}

static json_t *m_get_limits(struct ctl_conn *c, const json_t *params)
{
	struct cache_limits lim;

	cache_get_limits(c->srv->fsx->cache, &lim);
	return varlink_reply_new(json_pack("{s:o}", "limits",
					   limits_json(&lim)),
				 NULL, false);
}

static const char *first_given(const json_t *params)
{
	size_t i;

	for (i = 0; i < sizeof(p_limits) / sizeof(p_limits[0]); i++)
		if (json_object_get(params, p_limits[i].name))
			return p_limits[i].name;
	return PROTO_LIMIT_CACHE_MAX;
}

static json_t *m_set_limits(struct ctl_conn *c, const json_t *params)
{
	struct cache *cache = c->srv->fsx->cache;
	struct cache_limits lim;
	int64_t v;

	cache_get_limits(cache, &lim);
	if (varlink_param_int(params, PROTO_LIMIT_CACHE_MAX, &v))
		lim.max_bytes = (uint64_t)v;
	if (varlink_param_int(params, PROTO_LIMIT_CACHE_INODE_MAX, &v))
		lim.inode_max_bytes = (uint64_t)v;
	if (varlink_param_int(params, PROTO_LIMIT_EVENT_RING, &v))
		lim.event_ring = (uint32_t)v;
	/* Each value passed its range check; what the cache can still
	 * refuse is a combination, so name the first value given. */
	if (cache_set_limits(cache, &lim))
		return varlink_reply_invalid_parameter(first_given(params));
	cache_get_limits(cache, &lim);
	return varlink_reply_new(json_pack("{s:o}", "limits",
					   limits_json(&lim)),
				 NULL, false);
}

/* ---- Dump -------------------------------------------------------------- */

struct dump_ctx {
	struct ctl_conn *c;
	struct ctl_stream s;
	struct ctl_paths paths;
	uint64_t off, len;	/* len UINT64_MAX: to the end */
	bool more;
	int sent;
};

/* Size and kind of @ino from its inode; false when it cannot be read. */
static bool inode_size(struct iomapfs *fsx, uint64_t ino, uint64_t *size,
		       bool *is_dir)
{
	struct ext2_inode_large inode;
	errcode_t err;

	fs_lock(fsx);
	err = ext2fs_read_inode_full(fsx->fs, (ext2_ino_t)ino,
				     EXT2_INODE(&inode), sizeof(inode));
	fs_unlock(fsx);
	if (err)
		return false;
	*size = EXT2_I_SIZE(&inode);
	*is_dir = LINUX_S_ISDIR(inode.i_mode);
	return true;
}

static int dump_one(void *arg, const struct cache_inode_stats *st,
		    const struct iomap *maps, size_t n)
{
	struct dump_ctx *d = arg;
	struct ctl_server *srv = d->c->srv;
	uint64_t size = 0;
	bool is_dir = false, have_size;
	char *path = NULL;
	size_t i = 0, chunk;

	if (!d->more && n > CTL_MAX_UNSTREAMED)
		return -E2BIG;
	have_size = inode_size(srv->fsx, st->ino, &size, &is_dir);
	if (have_size)
		path = paths_lookup(srv, &d->paths, (uint32_t)st->ino, is_dir);
	do {
		json_t *p;

		chunk = d->more ? n - i : n;
		if (chunk > CTL_CHUNK && d->more)
			chunk = CTL_CHUNK;
		p = json_pack("{s:o, s:o, s:o, s:i, s:o, s:o}",
			      "ino", jint(st->ino),
			      "path", jstr_or_null(path),
			      "size", have_size ? jint(size) : json_null(),
			      "block_size", (int)srv->fsx->blocksize,
			      "mappings", mappings_json(maps + i, chunk),
			      "stats", inode_stats_json(st));
		if (stream_push(&d->s, p))
			break;
		i += chunk;
	} while (i < n);
	free(path);
	d->sent++;
	return d->s.ret;
}

static int w_dump(struct ctl_conn *c, const json_t *params, bool more)
{
	struct dump_ctx d = { .c = c, .s = { .c = c }, .more = more };
	int64_t ino = 0;
	json_t *bad;
	int ret;

	bad = check_range_needs_ino(params);
	if (bad)
		return conn_send_wait(c, bad);
	if (!varlink_param_int(params, "ino", &ino) && !more)
		return conn_send_wait(c, reply_error(VARLINK_E_EXPECTED_MORE,
						     NULL));
	get_range(params, &d.off, &d.len);
	ret = cache_dump(c->srv->fsx->cache, (uint64_t)ino, d.off,
			 d.len ? d.len : UINT64_MAX, dump_one, &d);
	paths_free(&d.paths);
	if (ret == -EPIPE || d.s.ret == -EPIPE) {
		stream_end(&d.s, NULL);
		return -EPIPE;
	}
	if (ret) {
		json_decref(d.s.pending);
		d.s.pending = NULL;
		if (ret == -ENOENT)
			return conn_send_wait(
				c, err_ino(PROTO_E_NOT_CACHED, (uint64_t)ino));
		if (ret == -E2BIG)
			return conn_send_wait(
				c, reply_error(VARLINK_E_EXPECTED_MORE, NULL));
		return conn_send_wait(c, err_io(-ret));
	}
	if (!d.sent)
		stream_push(&d.s, json_pack("{s:n, s:n, s:n, s:i, s:[]}",
					    "ino", "path", "size",
					    "block_size",
					    (int)c->srv->fsx->blocksize,
					    "mappings"));
	return stream_end(&d.s, NULL);
}

/* ---- Map --------------------------------------------------------------- */

struct map_chunk {
	struct iomap *maps;
	size_t n, max;
};

static int map_collect(const struct iomap *m, void *arg)
{
	struct map_chunk *ch = arg;

	if (ch->n == ch->max)
		return 1;	/* full: the walk resumes after the last one */
	ch->maps[ch->n++] = *m;
	return 0;
}

static int w_map(struct ctl_conn *c, const json_t *params, bool more)
{
	struct iomapfs *fsx = c->srv->fsx;
	struct ext2_inode_large inode;
	struct ctl_stream s = { .c = c };
	struct map_chunk ch = { 0 };
	uint64_t off, len, end, pos, size;
	int64_t ino = 0;
	errcode_t err;
	int ret;

	varlink_param_int(params, "ino", &ino);
	get_range(params, &off, &len);
	/* end is exclusive, 0 meaning "to EOF and past to the last extent"
	 * as iomap_ext2_walk() takes it. */
	end = len ? off + len : 0;
	fs_lock(fsx);
	if ((uint64_t)ino > fsx->fs->super->s_inodes_count) {
		fs_unlock(fsx);
		return conn_send_wait(c, err_ino(PROTO_E_NO_SUCH_INODE,
						 (uint64_t)ino));
	}
	err = ext2fs_read_inode_full(fsx->fs, (ext2_ino_t)ino,
				     EXT2_INODE(&inode), sizeof(inode));
	fs_unlock(fsx);
	if (err)
		return conn_send_wait(c, err_io(-iomap_ext2_errno(err)));
	if (!inode.i_links_count && !inode.i_mode)
		return conn_send_wait(c, err_ino(PROTO_E_NO_SUCH_INODE,
						 (uint64_t)ino));
	size = EXT2_I_SIZE(&inode);
	ch.max = more ? CTL_CHUNK : CTL_MAX_UNSTREAMED + 1;
	ch.maps = calloc(ch.max, sizeof(*ch.maps));
	if (!ch.maps)
		return conn_send_wait(c, err_io(ENOMEM));
	pos = off;
	for (;;) {
		ch.n = 0;
		fs_lock(fsx);
		ret = iomap_ext2_walk(fsx->fs, (ext2_ino_t)ino, pos,
				      end ? end - pos : 0, map_collect, &ch);
		fs_unlock(fsx);
		if (ret < 0) {
			json_decref(s.pending);
			s.pending = NULL;
			ret = conn_send_wait(c, err_from_errno(ret, ino, off,
								len));
			goto out_free;
		}
		if (!more && ch.n > CTL_MAX_UNSTREAMED) {
			ret = conn_send_wait(c, reply_error(
						VARLINK_E_EXPECTED_MORE, NULL));
			goto out_free;
		}
		if (ch.n || !s.pending) {
			if (stream_push(&s, json_pack(
					"{s:o, s:o, s:i, s:o}", "ino",
					jint(ino), "size", jint(size),
					"block_size", (int)fsx->blocksize,
					"mappings",
					mappings_json(ch.maps, ch.n))))
				break;
		}
		if (ret == 0 || ch.n == 0)
			break;
		/* The walk stopped because the chunk was full. */
		pos = iomap_last(&ch.maps[ch.n - 1]);
		if (pos == UINT64_MAX || (end && pos + 1 >= end))
			break;
		pos++;
	}
	ret = stream_end(&s, NULL);
out_free:
	free(ch.maps);
	return ret;
}

/* ---- Audit ------------------------------------------------------------- */

static int audit_one(void *arg, uint64_t ino, const struct iomap *cached,
		     const struct iomap *disk)
{
	struct ctl_stream *s = arg;

	return stream_push(s, json_pack("{s:{s:o, s:o, s:o}}", "difference",
					"ino", jint(ino),
					"cached", proto_iomap_to_json(cached),
					"disk", proto_iomap_to_json(disk)));
}

static int w_audit(struct ctl_conn *c, const json_t *params, bool more)
{
	struct cache_audit_summary sum = { 0 };
	struct ctl_stream s = { .c = c };
	int64_t ino = 0;
	int ret;

	if (!more)
		return conn_send_wait(c, reply_error(VARLINK_E_EXPECTED_MORE,
						     NULL));
	varlink_param_int(params, "ino", &ino);
	ret = cache_audit(c->srv->fsx->cache, (uint64_t)ino, audit_one, &s,
			  &sum);
	if (ret == -ENOENT) {
		stream_end(&s, NULL);
		return conn_send_wait(c, err_ino(PROTO_E_NOT_CACHED,
						 (uint64_t)ino));
	}
	if (ret || s.ret) {
		stream_end(&s, NULL);
		return ret ? ret : s.ret;
	}
	return stream_end(&s, json_pack("{s:{s:o, s:o, s:o, s:o, s:o}}",
					"summary", "inodes", jint(sum.inodes),
					"mappings", jint(sum.mappings),
					"mismatches", jint(sum.mismatches),
					"skipped", jint(sum.skipped),
					"errors", jint(sum.errors)));
}

/* ---- the method table -------------------------------------------------- */

#define METHOD(n, fl, p, fn) \
	{ n, fl, p, sizeof(p) / sizeof((p)[0]), fn, NULL }
#define METHOD0(n, fl, fn) { n, fl, p_none, 0, fn, NULL }
#define STREAM(n, fl, p, fn) \
	{ n, (fl) | CTL_M_WORKER, p, sizeof(p) / sizeof((p)[0]), NULL, fn }

/* Sorted by name. */
static const struct ctl_method ctl_methods[] = {
	STREAM(PROTO_M_AUDIT, 0, p_ino, w_audit),
	STREAM(PROTO_M_DUMP, 0, p_range, w_dump),
	METHOD(PROTO_M_FLUSH, CTL_M_ADMIN, p_range, m_flush),
	METHOD0(PROTO_M_GET_JOURNAL, 0, m_get_journal),
	METHOD0(PROTO_M_GET_LIMITS, 0, m_get_limits),
	METHOD(PROTO_M_GET_STATS, 0, p_ino, m_get_stats),
	METHOD0(PROTO_M_GET_STATUS, 0, m_get_status),
	STREAM(PROTO_M_MAP, 0, p_map, w_map),
	METHOD0(PROTO_M_RESET_STATS, CTL_M_ADMIN, m_reset_stats),
	METHOD(PROTO_M_SET_CACHING, CTL_M_ADMIN, p_caching, m_set_caching),
	METHOD(PROTO_M_SET_LIMITS, CTL_M_ADMIN, p_limits, m_set_limits),
	{ PROTO_M_WATCH, CTL_M_WATCH, p_watch, 1, NULL, NULL },
	METHOD0(VARLINK_M_GET_INFO, 0, m_get_info),
	METHOD(VARLINK_M_GET_INTERFACE_DESCRIPTION, 0, p_describe,
	       m_get_interface_description),
};

static const struct ctl_method *find_method(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(ctl_methods) / sizeof(ctl_methods[0]); i++)
		if (!strcmp(ctl_methods[i].name, name))
			return &ctl_methods[i];
	return NULL;
}

/* ---- connections ------------------------------------------------------- */

static void *worker_main(void *arg)
{
	struct ctl_conn *c = arg;
	int ret;

	ret = c->method->stream(c, c->call.params, c->call.more);
	if (ret && ret != -EPIPE) {
		/* The call could not send its own error: say so and let the
		 * client see the connection end. */
		conn_send_wait(c, err_io(ret < 0 ? -ret : EIO));
	}
	pthread_mutex_lock(&c->mu);
	c->worker_done = true;
	pthread_mutex_unlock(&c->mu);
	wake(c->srv);
	return NULL;
}

static json_t *event_json(const struct cache_event *ev)
{
	char tbuf[PROTO_RFC3339_SIZE];
	const char *type = cache_event_name(ev->type);
	json_t *e;

	e = json_pack("{s:o, s:o, s:s, s:s, s:o, s:o, s:o}",
		      "seq", jint(ev->seq), "time_ns", jint(ev->time_ns),
		      "time", proto_time_rfc3339(ev->time_ns, tbuf,
						 sizeof(tbuf)),
		      "type", type ? type : "unknown",
		      "ino", jint(ev->ino), "offset", jint(ev->offset),
		      "length", ev->length == UINT64_MAX ? json_null()
							 : jint(ev->length));
	if (!e)
		return NULL;
	if (ev->type == CACHE_EV_INVALIDATE) {
		const char *why = cache_reason_name(ev->reason);

		if (json_object_set_new(e, "reason", json_string(
						  why ? why : "unknown")))
			goto out_free;
	}
	if ((ev->type == CACHE_EV_UPSERT || ev->type == CACHE_EV_EVICT) &&
	    json_object_set_new(e, "mapping", proto_iomap_to_json(&ev->map)))
		goto out_free;
	return e;
out_free:
	json_decref(e);
	return NULL;
}

static void watch_end(struct ctl_conn *c)
{
	cache_watch_close(c->watch);
	c->watch = NULL;
	pthread_mutex_lock(&c->mu);
	c->busy = false;
	pthread_mutex_unlock(&c->mu);
	c->last_read_ms = now_ms();
}

/* Move pending events of @c's watch into its output.  Poll thread. */
static int watch_pump(struct ctl_conn *c)
{
	struct cache_event ev[CTL_WATCH_BATCH];
	uint64_t lost = 0;
	ssize_t n, i;
	int ret;

	n = cache_watch_read(c->watch, ev, CTL_WATCH_BATCH, &lost);
	if (n < 0)
		return (int)n;
	if (n == 0 && lost) {
		/* Lost events and nothing newer yet: say so now. */
		return conn_queue(c, varlink_reply_new(
				     json_pack("{s:o}", "lost", jint(lost)),
				     NULL, true));
	}
	for (i = 0; i < n; i++) {
		bool last = false;
		json_t *p;

		if (c->watch_left && --c->watch_left == 0)
			last = true;
		p = json_pack("{s:o, s:o}", "event", event_json(&ev[i]),
			      "lost", jint(i == 0 ? lost : 0));
		ret = conn_queue(c, varlink_reply_new(p, NULL, !last));
		if (ret)
			return ret;
		if (last) {
			watch_end(c);
			break;
		}
	}
	return 0;
}

static int start_watch(struct ctl_conn *c, const json_t *params, bool more)
{
	int64_t count = 0;

	if (!more)
		return conn_queue(c, reply_error(VARLINK_E_EXPECTED_MORE,
						 NULL));
	varlink_param_int(params, "count", &count);
	c->watch = cache_watch_open(c->srv->fsx->cache);
	if (!c->watch)
		return conn_queue(c, err_io(errno ? errno : ENOMEM));
	c->watch_left = (uint64_t)count;
	pthread_mutex_lock(&c->mu);
	c->busy = true;
	pthread_mutex_unlock(&c->mu);
	/* The first reply says the watch is set: every later event is seen. */
	return conn_queue(c, varlink_reply_new(json_pack("{s:i}", "lost", 0),
					       NULL, true));
}

static int protocol_error(struct ctl_conn *c, const char *why, bool fatal)
{
	if (fatal)
		c->close_when_flushed = true;
	return conn_queue(c, reply_error(PROTO_E_PROTOCOL_ERROR,
					 json_pack("{s:s}", "reason", why)));
}

/* Check and run one call (@msg stolen).  Poll thread. */
static int handle_call(struct ctl_conn *c, json_t *msg)
{
	char err[VARLINK_ERRMSG_SIZE];
	const struct ctl_method *m;
	struct varlink_call call;
	json_t *reply = NULL;
	const char *bad;
	int ret;

	ret = varlink_call_parse(msg, &call, err);
	if (ret) {
		json_decref(msg);
		return ret == -EBADMSG ? protocol_error(c, err, false) : ret;
	}
	if (c->access == CTL_ACCESS_NONE) {
		reply = reply_error(VARLINK_E_PERMISSION_DENIED, NULL);
		goto out_reply;
	}
	m = find_method(call.method);
	if (!m) {
		const char *dot = strrchr(call.method, '.');
		size_t ilen = (size_t)(dot - call.method);

		if ((ilen == strlen(PROTO_INTERFACE) &&
		     !strncmp(call.method, PROTO_INTERFACE, ilen)) ||
		    (ilen == strlen(VARLINK_SERVICE) &&
		     !strncmp(call.method, VARLINK_SERVICE, ilen)))
			reply = reply_error(VARLINK_E_METHOD_NOT_FOUND,
					    json_pack("{s:s}", "method",
						      call.method));
		else
			reply = reply_error(VARLINK_E_INTERFACE_NOT_FOUND,
					    json_pack("{s:s%}", "interface",
						      call.method, ilen));
		goto out_reply;
	}
	if ((m->flags & CTL_M_ADMIN) && c->access != CTL_ACCESS_ADMIN) {
		reply = reply_error(VARLINK_E_PERMISSION_DENIED, NULL);
		goto out_reply;
	}
	if (varlink_params_check(call.params, m->params, m->nparams, &bad)) {
		reply = varlink_reply_invalid_parameter(bad);
		goto out_reply;
	}
	if (call.oneway && (m->flags & (CTL_M_WORKER | CTL_M_WATCH))) {
		/* A streamed call whose replies nobody wants does nothing. */
		json_decref(msg);
		return 0;
	}
	if (m->flags & CTL_M_WATCH) {
		ret = start_watch(c, call.params, call.more);
		json_decref(msg);
		return ret;
	}
	if (m->flags & CTL_M_WORKER) {
		pthread_mutex_lock(&c->mu);
		c->busy = true;
		c->worker = true;
		c->worker_done = false;
		c->call_msg = msg;
		c->call = call;
		c->method = m;
		ret = pthread_create(&c->tid, NULL, worker_main, c);
		if (ret) {
			c->busy = false;
			c->worker = false;
			c->call_msg = NULL;
		}
		pthread_mutex_unlock(&c->mu);
		if (ret) {
			reply = err_io(ret);
			goto out_reply;
		}
		return 0;
	}
	reply = m->call(c, call.params);
	if (!reply)
		reply = err_io(ENOMEM);
out_reply:
	if (call.oneway) {
		json_decref(reply);
		json_decref(msg);
		return 0;
	}
	json_decref(msg);
	return conn_queue(c, reply);
}

static size_t conn_pending(struct ctl_conn *c)
{
	size_t n;

	pthread_mutex_lock(&c->mu);
	n = c->out_len - c->out_off;
	pthread_mutex_unlock(&c->mu);
	return n;
}

static bool conn_busy(struct ctl_conn *c)
{
	bool busy;

	pthread_mutex_lock(&c->mu);
	busy = c->busy;
	pthread_mutex_unlock(&c->mu);
	return busy;
}

/* Whether the poll thread should read requests of @c now. */
static bool conn_wants_input(struct ctl_conn *c)
{
	return !c->rb.eof && !c->close_when_flushed && !conn_busy(c) &&
	       conn_pending(c) <= CTL_OUT_BOUND;
}

/* Run the requests buffered for @c, one at a time.  Returns -errno when
 * the connection must close. */
static int conn_process(struct ctl_conn *c)
{
	char err[VARLINK_ERRMSG_SIZE];
	int ret;

	while (!c->close_when_flushed && !conn_busy(c) &&
	       conn_pending(c) <= CTL_OUT_BOUND) {
		json_t *msg;

		ret = varlink_rbuf_next(&c->rb, &msg, err);
		if (ret == 0)
			break;
		if (ret == -EBADMSG) {
			ret = protocol_error(c, err, false);
		} else if (ret < 0) {
			ret = protocol_error(c, err, true);
		} else {
			c->last_read_ms = now_ms();
			ret = handle_call(c, msg);
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* Write what @c has queued.  Returns -errno when the peer is gone. */
static int conn_flush(struct ctl_conn *c)
{
	int ret = 0;

	pthread_mutex_lock(&c->mu);
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				ret = -errno;
			break;
		}
		c->out_off += (size_t)n;
		c->last_write_ms = now_ms();
	}
	if (c->out_len - c->out_off <= CTL_OUT_BOUND)
		pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->mu);
	return ret;
}

static struct ctl_conn *conn_new(struct ctl_server *srv, int fd)
{
	struct ctl_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->srv = srv;
	c->fd = fd;
	varlink_rbuf_init(&c->rb, VARLINK_MAX_MSG_DEFAULT);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->last_read_ms = c->last_write_ms = now_ms();
	return c;
}

/* Mark @c dead so that its worker stops at its next reply. */
static void conn_kill(struct ctl_conn *c)
{
	pthread_mutex_lock(&c->mu);
	c->dead = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->mu);
	shutdown(c->fd, SHUT_RDWR);
}

/* Free @c; its worker, if any, must have finished or be joinable. */
static void conn_free(struct ctl_conn *c)
{
	if (c->worker) {
		pthread_join(c->tid, NULL);
		json_decref(c->call_msg);
	}
	if (c->watch)
		cache_watch_close(c->watch);
	close(c->fd);
	varlink_rbuf_free(&c->rb);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->mu);
	free(c->out);
	free(c);
}

/* Reap a finished worker: its call is over. */
static void conn_reap(struct ctl_conn *c)
{
	bool done;

	pthread_mutex_lock(&c->mu);
	done = c->worker && c->worker_done;
	pthread_mutex_unlock(&c->mu);
	if (!done)
		return;
	pthread_join(c->tid, NULL);
	json_decref(c->call_msg);
	pthread_mutex_lock(&c->mu);
	c->call_msg = NULL;
	c->worker = false;
	c->worker_done = false;
	c->busy = false;
	pthread_mutex_unlock(&c->mu);
	c->last_read_ms = now_ms();
}

static void conn_unlink(struct ctl_server *srv, struct ctl_conn *c)
{
	struct ctl_conn **pp;

	for (pp = &srv->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			srv->nconns--;
			break;
		}
	}
	conn_kill(c);
	pthread_mutex_lock(&c->mu);
	if (c->worker && !c->worker_done) {
		pthread_mutex_unlock(&c->mu);
		c->next = srv->zombies;
		srv->zombies = c;
		return;
	}
	pthread_mutex_unlock(&c->mu);
	conn_free(c);
}

/* Free the zombies whose worker has finished (all of them when @wait). */
static void reap_zombies(struct ctl_server *srv, bool wait)
{
	struct ctl_conn **pp = &srv->zombies;

	while (*pp) {
		struct ctl_conn *c = *pp;
		bool done;

		pthread_mutex_lock(&c->mu);
		done = c->worker_done;
		pthread_mutex_unlock(&c->mu);
		if (done || wait) {
			*pp = c->next;
			conn_free(c);
		} else {
			pp = &c->next;
		}
	}
}

/*
 * Make room for one more connection: drop the one idle for longest,
 * preferring those with no rights.  Returns false when every connection
 * has a call running.
 */
static bool evict_one(struct ctl_server *srv)
{
	struct ctl_conn *c, *victim = NULL;

	for (c = srv->conns; c; c = c->next) {
		if (conn_busy(c))
			continue;
		if (!victim || c->access < victim->access ||
		    (c->access == victim->access &&
		     c->last_read_ms < victim->last_read_ms))
			victim = c;
	}
	if (!victim)
		return false;
	conn_unlink(srv, victim);
	return true;
}

static enum ctl_access peer_access(struct ctl_server *srv, int fd,
				   struct ucred *cred)
{
	gid_t groups[256];
	socklen_t len = sizeof(*cred);
	size_t i, n;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) < 0)
		return CTL_ACCESS_NONE;
	if (cred->uid == 0 || cred->uid == srv->fsx->owner_uid)
		return CTL_ACCESS_ADMIN;
	if (!srv->have_group)
		return CTL_ACCESS_NONE;
	if (cred->gid == srv->group)
		return CTL_ACCESS_READ;
	/* The peer's supplementary groups, as they were at connect(). */
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return CTL_ACCESS_NONE;
	n = len / sizeof(gid_t);
	for (i = 0; i < n; i++)
		if (groups[i] == srv->group)
			return CTL_ACCESS_READ;
	return CTL_ACCESS_NONE;
}

static void accept_one(struct ctl_server *srv)
{
	struct ucred cred = { 0 };
	struct ctl_conn *c;
	int fd;

	fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			fprintf(stderr, "iomapfs: control: accept: %s\n",
				strerror(errno));
		return;
	}
	if (srv->nconns >= CTL_MAX_CONNS && !evict_one(srv)) {
		char *buf;
		size_t len;
		json_t *r = reply_error(PROTO_E_TOO_MANY_CONNECTIONS,
					json_pack("{s:i}", "max",
						  CTL_MAX_CONNS));

		/* Best effort: one non-blocking send, then close. */
		if (r && !varlink_encode(r, 0, &buf, &len)) {
			if (send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				errno = 0;
			free(buf);
		}
		json_decref(r);
		close(fd);
		return;
	}
	c = conn_new(srv, fd);
	if (!c) {
		close(fd);
		return;
	}
	c->access = peer_access(srv, fd, &cred);
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->next = srv->conns;
	srv->conns = c;
	srv->nconns++;
}

/*
 * Milliseconds from @then to @now.  @now is read once per poll round, and
 * a connection serviced in that round may stamp a later time (conn_reap()
 * does), so @then can be past @now: that is no time at all, not 2^64 ms.
 */
static uint64_t ms_since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

/* Whether @c has overstayed: idle with no call, or not reading replies. */
static bool conn_expired(struct ctl_server *srv, struct ctl_conn *c,
			 uint64_t now)
{
	size_t pending = conn_pending(c);

	if (pending)
		return ms_since(now, c->last_write_ms) > srv->idle_ms &&
		       ms_since(now, c->last_read_ms) > srv->idle_ms;
	if (conn_busy(c))
		return false;
	return ms_since(now, c->last_read_ms) > srv->idle_ms;
}

/* Handle poll results of @c.  Returns false when it must close. */
static bool conn_service(struct ctl_conn *c, short rev, short wrev)
{
	ssize_t n;

	conn_reap(c);
	if (rev & (POLLIN | POLLHUP | POLLERR)) {
		while (conn_wants_input(c)) {
			n = varlink_rbuf_fill(&c->rb, c->fd);
			if (n == -EAGAIN || n == -ENOBUFS)
				break;
			if (n < 0)
				return false;
			/* Only whole requests count as activity (in
			 * conn_process()), so a client that trickles bytes
			 * without ever ending a message still times out. */
			if (conn_process(c))
				return false;
			if (n == 0)
				break;
		}
	}
	if (c->watch && (wrev & POLLIN) && conn_pending(c) <= CTL_OUT_BOUND &&
	    watch_pump(c))
		return false;
	if (conn_process(c))
		return false;
	if (conn_flush(c))
		return false;
	if (!conn_pending(c) && !conn_busy(c)) {
		/* Done: after a fatal protocol error, or when the peer has
		 * stopped sending and had every reply. */
		if (c->close_when_flushed || (c->rb.eof && !c->rb.len))
			return false;
	}
	/* The peer closed both directions: nothing can reach it. */
	if (rev & POLLHUP)
		return false;
	return true;
}

static void *server_main(void *arg)
{
	struct ctl_server *srv = arg;
	struct pollfd *pfd;
	size_t maxfds = 2 + 2 * (CTL_MAX_CONNS + 1);

	pfd = calloc(maxfds, sizeof(*pfd));
	if (!pfd) {
		fprintf(stderr, "iomapfs: control: out of memory; the control "
			"socket stops serving\n");
		return NULL;
	}
	for (;;) {
		struct ctl_conn *c, *next;
		size_t n = 0, i;
		uint64_t now;
		bool stopping;

		stopping = __atomic_load_n(&srv->stopping, __ATOMIC_ACQUIRE);
		if (stopping)
			break;
		pfd[n++] = (struct pollfd){ .fd = srv->wake_fd,
					    .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = srv->listen_fd,
					    .events = POLLIN };
		for (c = srv->conns; c; c = c->next) {
			short ev = 0;

			if (conn_wants_input(c))
				ev |= POLLIN;
			if (conn_pending(c))
				ev |= POLLOUT;
			pfd[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
			/* A watcher whose replies are backed up is not fed
			 * (its ring loses events): do not wake up for it. */
			pfd[n++] = (struct pollfd){
				.fd = c->watch && !(ev & POLLOUT &&
						    conn_pending(c) >
							    CTL_OUT_BOUND)
					      ? cache_watch_fd(c->watch)
					      : -1,
				.events = POLLIN };
		}
		if (poll(pfd, n, 1000) < 0 && errno != EINTR) {
			fprintf(stderr, "iomapfs: control: poll: %s\n",
				strerror(errno));
			break;
		}
		if (pfd[0].revents & POLLIN) {
			uint64_t v;

			if (read(srv->wake_fd, &v, sizeof(v)) < 0)
				errno = 0;
		}
		now = now_ms();
		i = 2;
		for (c = srv->conns; c; c = next) {
			short rev = 0, wrev = 0;

			next = c->next;
			/* Connections accepted below are not in pfd yet. */
			if (i < n) {
				rev = pfd[i].revents;
				wrev = pfd[i + 1].revents;
				i += 2;
			}
			if (!conn_service(c, rev, wrev) ||
			    conn_expired(srv, c, now))
				conn_unlink(srv, c);
		}
		if (pfd[1].revents & POLLIN)
			accept_one(srv);
		reap_zombies(srv, false);
	}
	free(pfd);
	while (srv->conns)
		conn_unlink(srv, srv->conns);
	reap_zombies(srv, true);
	return NULL;
}

/* ---- set-up ------------------------------------------------------------ */

static void probe_blkid(struct ctl_server *srv)
{
	const char *v;
	blkid_probe pr;

	if (!srv->fsx->source)
		return;
	pr = blkid_new_probe_from_filename(srv->fsx->source);
	if (!pr)
		return;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE |
						      BLKID_SUBLKS_UUID |
						      BLKID_SUBLKS_LABEL);
	if (blkid_do_safeprobe(pr) == 0) {
		if (!blkid_probe_lookup_value(pr, "TYPE", &v, NULL))
			srv->fstype = strdup(v);
		if (!blkid_probe_lookup_value(pr, "UUID", &v, NULL))
			srv->uuid = strdup(v);
		if (!blkid_probe_lookup_value(pr, "LABEL", &v, NULL))
			srv->label = strdup(v);
	}
	blkid_free_probe(pr);
}

static int resolve_group(struct ctl_server *srv, const char *name)
{
	struct group gr, *res = NULL;
	char buf[4096], *end;
	unsigned long id;

	if (!name || !*name)
		return 0;
	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) == 0 && res) {
		srv->group = res->gr_gid;
		srv->have_group = true;
		return 0;
	}
	errno = 0;
	id = strtoul(name, &end, 10);
	if (!*end && !errno && id < UINT32_MAX) {
		srv->group = (gid_t)id;
		srv->have_group = true;
		return 0;
	}
	fprintf(stderr, "iomapfs: ctl_group=%s: no such group\n", name);
	return -EINVAL;
}

/*
 * Clear the way for a socket at @path: nothing there is fine; a socket no
 * one serves (ECONNREFUSED) is removed; a live socket or anything that is
 * not a socket is left alone and refused.
 */
static int clear_stale(const char *path)
{
	struct varlink_conn *vc;
	struct stat st;
	int ret;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "iomapfs: control socket %s: something that "
			"is not a socket is in the way; not touching it\n",
			path);
		return -EEXIST;
	}
	ret = varlink_connect(path, &vc);
	if (ret == 0) {
		varlink_conn_free(vc);
		fprintf(stderr, "iomapfs: control socket %s: another daemon "
			"serves it\n", path);
		return -EADDRINUSE;
	}
	if (ret != -ECONNREFUSED) {
		fprintf(stderr, "iomapfs: control socket %s: %s\n", path,
			strerror(-ret));
		return ret;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int make_socket(struct ctl_server *srv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	ret = clear_stale(srv->path);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* bind() creates the file with the socket inode's mode less the
	 * umask, so the path is 0600 from its first moment: no chmod of a
	 * path that could meanwhile have become a symlink. */
	if (fchmod(fd, 0600) < 0) {
		ret = -errno;
		goto out_close;
	}
	memcpy(sa.sun_path, srv->path, strlen(srv->path) + 1);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		fprintf(stderr, "iomapfs: control socket %s: bind: %s\n",
			srv->path, strerror(errno));
		goto out_close;
	}
	if (lstat(srv->path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		ret = -EEXIST;
		goto out_close;
	}
	srv->sock_ino = st.st_ino;
	srv->sock_dev = st.st_dev;
	if (listen(fd, CTL_MAX_CONNS) < 0) {
		ret = -errno;
		unlink(srv->path);
		goto out_close;
	}
	srv->listen_fd = fd;
	return 0;
out_close:
	close(fd);
	return ret;
}

static int socket_path(struct ctl_server *srv)
{
	struct iomapfs *fsx = srv->fsx;
	char *dir = NULL;
	int ret;

	if (fsx->opts.ctl_socket) {
		srv->path = strdup(fsx->opts.ctl_socket);
		if (!srv->path)
			return -ENOMEM;
		ret = ctlpath_check_len(srv->path);
		if (ret)
			fprintf(stderr, "iomapfs: ctl_socket=%s: too long for a "
				"UNIX socket\n", srv->path);
		return ret;
	}
	ret = ctlpath_runtime_dir(&dir);
	if (ret)
		return ret;
	ret = ctlpath_ensure_dir(dir);
	if (ret) {
		fprintf(stderr, "iomapfs: control socket directory %s: %s%s\n",
			dir, strerror(-ret),
			ret == -EPERM ? " (it must be ours and mode 0700)" : "");
		goto out_free;
	}
	ret = ctlpath_for_mountpoint(dir, fsx->mountpoint, &srv->path);
	if (ret)
		fprintf(stderr, "iomapfs: no control socket name for %s: %s; "
			"use -o ctl_socket=PATH\n", fsx->mountpoint,
			strerror(-ret));
out_free:
	free(dir);
	return ret;
}

static void server_free(struct ctl_server *srv)
{
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->wake_fd >= 0)
		close(srv->wake_fd);
	free(srv->path);
	free(srv->uuid);
	free(srv->label);
	free(srv->fstype);
	free(srv);
}

/* Remove the socket if the path still names the one we bound. */
static void remove_socket(struct ctl_server *srv)
{
	struct stat st;

	if (lstat(srv->path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_ino == srv->sock_ino && st.st_dev == srv->sock_dev)
		unlink(srv->path);
}

int ctl_prepare(struct iomapfs *fsx, struct ctl_server **out)
{
	struct ctl_server *srv;
	const char *env;
	int ret;

	*out = NULL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->fsx = fsx;
	srv->listen_fd = -1;
	srv->idle_ms = CTL_IDLE_TIMEOUT_S * 1000u;
	env = getenv("IOMAPFS_CTL_IDLE_MS");
	if (env && strtoull(env, NULL, 10) > 0)
		srv->idle_ms = strtoull(env, NULL, 10);
	srv->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (srv->wake_fd < 0) {
		ret = -errno;
		goto out_free;
	}
	ret = resolve_group(srv, fsx->opts.ctl_group);
	if (ret)
		goto out_free;
	ret = socket_path(srv);
	if (ret)
		goto out_free;
	ret = make_socket(srv);
	if (ret)
		goto out_free;
	probe_blkid(srv);
	*out = srv;
	return 0;
out_free:
	server_free(srv);
	return ret;
}

int ctl_run(struct ctl_server *srv)
{
	int ret;

	if (srv->thread_started)
		return 0;
	ret = pthread_create(&srv->thread, NULL, server_main, srv);
	if (ret) {
		fprintf(stderr, "iomapfs: control: cannot start its thread: "
			"%s\n", strerror(ret));
		return -ret;
	}
	srv->thread_started = true;
	return 0;
}

int ctl_start(struct iomapfs *fsx, struct ctl_server **out)
{
	struct ctl_server *srv;
	int ret;

	*out = NULL;
	ret = ctl_prepare(fsx, &srv);
	if (ret)
		return ret;
	ret = ctl_run(srv);
	if (ret) {
		ctl_stop(srv);
		return ret;
	}
	*out = srv;
	return 0;
}

void ctl_stop(struct ctl_server *srv)
{
	if (!srv)
		return;
	if (srv->thread_started) {
		__atomic_store_n(&srv->stopping, true, __ATOMIC_RELEASE);
		wake(srv);
		pthread_join(srv->thread, NULL);
	}
	remove_socket(srv);
	server_free(srv);
}

const char *ctl_socket_path(const struct ctl_server *srv)
{
	return srv->path;
}
