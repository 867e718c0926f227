/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_internal.h - what the two halves of the control server share, and
 * nothing else includes: ctl_server.c is the transport (socket set-up and
 * removal, the poll loop, connections and their bounded output, idle and
 * size limits, peer credentials, dispatch, worker threads, watchers) and
 * ctl_methods.c is the method table and the handlers, which reach the
 * filesystem only through fs_report.h and the cache through cache.h.
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

/* The method table, sorted by name (strcmp): ctl_method_find() searches
 * it by bisection, and t4160 checks the order. */
extern const struct ctl_method ctl_methods[];
extern const size_t ctl_methods_count;

/* The entry named @name, or NULL. */
const struct ctl_method *ctl_method_find(const char *name);

/* A watched cache event as its Watch reply shows it; NULL on ENOMEM. */
json_t *ctl_event_json(const struct cache_event *ev);

/* ---- replies (ctl_server.c) --------------------------------------------
 * Each takes @reply (NULL counts as ENOMEM) and returns 0 or -errno; a
 * non-zero return means the connection must close. */

/* Queue a reply from the poll thread; never waits. */
int ctl_queue(struct ctl_conn *c, json_t *reply);

/* Queue a reply from a worker, first waiting with no lock held while the
 * connection holds more than CTL_OUT_BOUND unsent bytes.  -EPIPE when the
 * connection died meanwhile (the worker then stops). */
int ctl_send_wait(struct ctl_conn *c, json_t *reply);

/*
 * The replies of a streamed call from a worker: each is held back until
 * the next one (or the end) shows whether it is the last, so that exactly
 * the last one goes without "continues".
 */
struct ctl_stream {
	struct ctl_conn *c;
	json_t *pending; /* reply parameters not yet sent */
	int ret;	 /* the first failure; it sticks */
};

/* Add @params (stolen) to the stream; returns s->ret. */
int ctl_stream_push(struct ctl_stream *s, json_t *params);

/* Send the held reply as the last one; @final (stolen, may be NULL) is a
 * reply of its own after it.  Returns s->ret. */
int ctl_stream_end(struct ctl_stream *s, json_t *final);

/* Drop what the stream holds without sending it (an error reply follows). */
void ctl_stream_drop(struct ctl_stream *s);

/*
 * Start feeding @c's cache events to it (at most @count of them; 0: no
 * end): the first reply, queued here, says the watch is set.  Poll thread.
 */
int ctl_watch_start(struct ctl_conn *c, uint64_t count);

/* ---- the socket file (ctl_socket.c) ------------------------------------ */

/*
 * Put the socket in place (srv->path, srv->listen_fd, listening), from
 * srv->fsx's ctl_socket or mountpoint.  Errors are told on stderr with
 * the path; returns 0 or -errno.
 */
int ctl_socket_create(struct ctl_server *srv);

/*
 * Once the server runs, in the process that stays (a record names it):
 * when the socket is not at the mountpoint's default place, leave a
 * record there; and see that an abort() removes both.  Failures are told
 * on stderr and are not fatal.
 */
void ctl_socket_publish(struct ctl_server *srv);

/* Remove the record and the socket, each if it is still ours. */
void ctl_socket_remove(struct ctl_server *srv);

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
