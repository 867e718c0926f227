/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_internal.h - the types the files of the control server share, and
 * nothing else includes: the server and its connections, access levels,
 * the entry of the method table, and small JSON helpers.  The files:
 *   ctl_server.c   the poll loop, connections, limits, peer credentials,
 *                  dispatch through the method table, workers, watchers;
 *   ctl_conn.c     a connection's output: replies, streams (ctl_conn.h);
 *   ctl_socket.c   the socket as a file, and its record (ctl_socket.h);
 *   ctl_methods.c  the method table and the handlers (ctl_methods.h),
 *                  which reach the filesystem only through fs_report.h
 *                  and fs_remount.h, and send through ctl_conn.h.
 * ctl_server.c calls the three others, ctl_methods.c calls ctl_conn.c,
 * and ctl_conn.c and ctl_socket.c call none of them: no two include each
 * other's header.
 *
 * Threads: one poll thread owns every connection's input side and runs
 * the methods whose table entry has .reply or .poll; a method with
 * .worker runs in a thread of its own, one per connection at most.
 */
#ifndef IOMAPFS_CTL_INTERNAL_H
#define IOMAPFS_CTL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>

#include "cache.h"
#include "proto.h"
#include "varlink.h"

struct iomapfs;

/* Connections served at once; past it the longest-idle one is dropped. */
#define CTL_MAX_CONNS 256
/* Seconds a connection may stay idle (no call, no progress) before it is
 * closed.  The environment variable IOMAPFS_CTL_IDLE_MS overrides it
 * (milliseconds), for tests. */
#define CTL_IDLE_TIMEOUT_S 60
/* Bytes of replies queued for one client before the server waits. */
#define CTL_OUT_BOUND (256u * 1024u)

/* What a connection may do, from its peer's credentials; ordered. */
enum ctl_access {
	CTL_ACCESS_NONE = 0,
	CTL_ACCESS_READ,  /* members of -o ctl_group */
	CTL_ACCESS_ADMIN, /* root and the mount's owner */
};

struct ctl_method;

struct ctl_conn {
	struct ctl_server *srv; /* constant */
	int fd;			/* constant until freed */
	uid_t uid;		/* SO_PEERCRED, constant */
	pid_t pid;
	enum ctl_access access; /* constant */
	/* Poll thread only. */
	struct varlink_rbuf rb;
	uint64_t last_read_ms;	   /* last whole request, or call end */
	uint64_t last_write_ms;	   /* last reply byte written */
	bool close_when_flushed;   /* after a ProtocolError */
	struct cache_watch *watch; /* a Watch call in progress */
	uint64_t watch_left;	   /* events still to send; 0: no end */
	struct ctl_conn *next;

	/* Protected by mu: the output buffer and the call state. */
	pthread_mutex_t mu;
	pthread_cond_t cond; /* output drained, or dead */
	char *out;
	size_t out_off, out_len, out_cap;
	bool dead;	  /* peer gone or server stopping */
	bool busy;	  /* a call runs (worker or watch) */
	bool worker;	  /* a worker thread exists */
	bool worker_done; /* ... and has finished */
	pthread_t tid;
	/* The call the worker runs; owned by the worker while it runs. */
	json_t *call_msg;
	struct varlink_call call;
	const struct ctl_method *method;
};

/* The server; its fields are set by ctl_prepare() and constant after,
 * unless they say otherwise. */
struct ctl_server {
	struct iomapfs *fsx;
	char *path;	/* the socket, absolute */
	ino_t sock_ino; /* the socket we bound, for removal */
	dev_t sock_dev;
	char *record; /* our record (ctlpath.h), or NULL */
	ino_t record_ino;
	dev_t record_dev;
	int listen_fd;
	int wake_fd; /* eventfd: workers and ctl_stop */
	pthread_t thread;
	bool thread_started;
	bool stopping; /* atomic: set by ctl_stop() before wake */
	gid_t group;
	bool have_group;
	uint64_t idle_ms;
	struct ctl_conn *conns; /* poll thread only */
	unsigned int nconns;
	/* Closed connections whose worker has not stopped yet: joined once
	 * it has, so that the poll thread never waits for a worker. */
	struct ctl_conn *zombies;
	/* From libblkid at start; NULL when unknown. */
	char *uuid, *label, *fstype;
};

/*
 * One entry of the method table (ctl_methods.c).  Dispatch checks, in this
 * order, before anything runs: the caller's access against .access, the
 * parameters against .params (names, JSON types, ranges; none unknown),
 * then .check.  Exactly one of .reply, .worker and .poll is set.
 */
struct ctl_method {
	const char *name;	/* fully qualified */
	enum ctl_access access; /* the least access that may call */
	const struct varlink_param *params;
	size_t nparams;
	/* Checks the parameters cannot express one by one (which combine,
	 * whether "more" is needed); returns an error reply or NULL. */
	json_t *(*check)(const json_t *params, bool more);
	/* Runs on the poll thread and returns its one reply (success or
	 * error): for calls that touch only the cache's short locks. */
	json_t *(*reply)(struct ctl_conn *c, const json_t *params);
	/* Runs in a worker thread and sends its replies itself with
	 * ctl_send_wait() or a ctl_stream: for calls that read the disk or
	 * stream.  Returns 0, -EPIPE when the connection died, or -errno
	 * when it could not even send its error. */
	int (*worker)(struct ctl_conn *c, const json_t *params, bool more);
	/* Runs on the poll thread and queues its replies with ctl_queue():
	 * Watch, which the poll thread then feeds (ctl_watch_start()). */
	int (*poll)(struct ctl_conn *c, const json_t *params, bool more);
};

/* ---- small JSON helpers -------------------------------------------------- */

/* An unsigned integer in JSON, clamped to what the protocol carries. */
static inline json_t *ctl_json_uint(uint64_t v)
{
	return json_integer(v > (uint64_t)PROTO_MAX_INT ? PROTO_MAX_INT
							: (json_int_t)v);
}

/* A final error reply named @name; @params is stolen (NULL: none). */
static inline json_t *ctl_reply_error(const char *name, json_t *params)
{
	return varlink_reply_new(params, name, false);
}

/* io.iomapfs.Cache.IoError for the positive errno @err. */
static inline json_t *ctl_reply_io_error(int err)
{
	return ctl_reply_error(PROTO_E_IO_ERROR,
			       json_pack("{s:i, s:s}", "errno", err, "message",
					 strerror(err)));
}

#endif /* IOMAPFS_CTL_INTERNAL_H */
