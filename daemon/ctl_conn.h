/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_conn.h - sending on a control connection (ctl_conn.c): replies from
 * the poll thread and from workers, streamed replies, starting a watch,
 * and waking the poll thread.  Locks: each takes the connection's mutex
 * briefly; ctl_send_wait() may sleep on it, with no other lock held.
 */
#ifndef IOMAPFS_CTL_CONN_H
#define IOMAPFS_CTL_CONN_H

#include <stdint.h>

#include <jansson.h>

struct ctl_conn;
struct ctl_server;

/*
 * The replies below each take @reply (NULL counts as ENOMEM) and return 0
 * or -errno; a non-zero return means the connection must close.
 */

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

/* Wake the poll thread (after a worker queued output, or to stop). */
void ctl_wake(struct ctl_server *srv);

#endif /* IOMAPFS_CTL_CONN_H */
