// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctl_conn.c - the output side of a control connection (see ctl_conn.h):
 * its bounded buffer, replies queued from the poll thread and from
 * workers, streamed replies, and the start of a watch.  The poll thread
 * (ctl_server.c) writes the buffer to the socket; everything here only
 * appends under the connection's mutex, and a worker that finds the
 * buffer full sleeps on it with no other lock held.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "ctl_conn.h"
#include "ctl_internal.h"
#include "fs.h"
#include "varlink.h"

/* A single reply larger than this closes the connection. */
#define CTL_OUT_HARD (16u * 1024u * 1024u)

void ctl_wake(struct ctl_server *srv)
{
	uint64_t one = 1;

	if (write(srv->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		fprintf(stderr, "iomapfs: control: wake-up failed: %s\n",
			strerror(errno));
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
 * Encode @reply (stolen) and append it to @c's output.  @wait: first wait
 * (no lock held but c->mu, which the poll thread takes only briefly) while
 * the connection holds more than CTL_OUT_BOUND unsent bytes, and give
 * -EPIPE once it is dead.
 */
static int conn_append(struct ctl_conn *c, json_t *reply, bool wait)
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
	while (wait && !c->dead && c->out_len - c->out_off > CTL_OUT_BOUND)
		pthread_cond_wait(&c->cond, &c->mu);
	ret = wait && c->dead ? -EPIPE : out_append_locked(c, buf, len);
	pthread_mutex_unlock(&c->mu);
	free(buf);
	return ret;
}

/*
 * From the poll thread, never waiting: a client that does not read is not
 * read from either (see conn_wants_input()), so only one reply can pass
 * the bound; one past CTL_OUT_HARD closes the connection.
 */
int ctl_queue(struct ctl_conn *c, json_t *reply)
{
	return conn_append(c, reply, false);
}

int ctl_send_wait(struct ctl_conn *c, json_t *reply)
{
	int ret = conn_append(c, reply, true);

	if (!ret)
		ctl_wake(c->srv);
	return ret;
}

int ctl_stream_push(struct ctl_stream *s, json_t *params)
{
	json_t *prev = s->pending;

	if (!params)
		return s->ret = -ENOMEM;
	s->pending = params;
	if (prev && !s->ret)
		s->ret = ctl_send_wait(s->c,
				       varlink_reply_new(prev, NULL, true));
	else
		json_decref(prev);
	return s->ret;
}

int ctl_stream_end(struct ctl_stream *s, json_t *final)
{
	if (final)
		ctl_stream_push(s, final);
	if (s->pending && !s->ret)
		s->ret = ctl_send_wait(
			s->c, varlink_reply_new(s->pending, NULL, false));
	else
		json_decref(s->pending);
	s->pending = NULL;
	return s->ret;
}

void ctl_stream_drop(struct ctl_stream *s)
{
	json_decref(s->pending);
	s->pending = NULL;
}

/* ---- watch ------------------------------------------------------------- */

int ctl_watch_start(struct ctl_conn *c, uint64_t count)
{
	c->watch = cache_watch_open(c->srv->fsx->cache);
	if (!c->watch)
		return ctl_queue(c, ctl_reply_io_error(errno ? errno : ENOMEM));
	c->watch_left = count;
	pthread_mutex_lock(&c->mu);
	c->busy = true;
	pthread_mutex_unlock(&c->mu);
	/* The first reply says the watch is set: every later event is seen. */
	return ctl_queue(c, varlink_reply_new(json_pack("{s:i}", "lost", 0),
					      NULL, true));
}
