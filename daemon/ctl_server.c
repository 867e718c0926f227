// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctl_server.c - the transport of the control server (see ctl.h for the
 * threading and locking rules, ctl_internal.h for how it meets the
 * methods): starting and stopping, the poll loop, connections with their
 * bounded output buffers, idle and size limits, peer credentials,
 * dispatch through the method table, worker threads and watchers.  The
 * socket as a file (where, how it is put in place and removed) is
 * ctl_socket.c's.
 *
 * One poll thread owns the listening socket and every connection: it
 * reads requests, runs the short methods inline (they only touch the
 * cache's short internal locks), writes replies from each connection's
 * bounded output buffer, and feeds watchers from their cache_watch.
 * Methods that touch the disk or stream many replies (Dump, Map, Audit,
 * SetReadOnly) run in a worker thread of their connection; the worker
 * queues replies and sleeps while the connection holds more than
 * CTL_OUT_BOUND unsent bytes, so a client that stops reading stalls only
 * its own call.  Nothing holds
 * fs_lock or a cache lock while it waits for a client.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <blkid.h>

#include "cache.h"
#include "ctl.h"
#include "ctl_conn.h"
#include "ctl_internal.h"
#include "ctl_methods.h"
#include "ctl_socket.h"
#include "fs.h"
#include "proto.h"
#include "varlink.h"

/* Events taken from a watch per poll round. */
#define CTL_WATCH_BATCH 64

/* ---- small helpers ----------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- calls ------------------------------------------------------------- */

static void *worker_main(void *arg)
{
	struct ctl_conn *c = arg;
	int ret;

	ret = c->method->worker(c, c->call.params, c->call.more);
	if (ret && ret != -EPIPE) {
		/* The call could not send its own error: say so and let the
		 * client see the connection end. */
		ctl_send_wait(c, ctl_reply_io_error(ret < 0 ? -ret : EIO));
	}
	pthread_mutex_lock(&c->mu);
	c->worker_done = true;
	pthread_mutex_unlock(&c->mu);
	ctl_wake(c->srv);
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
		return ctl_queue(
			c, varlink_reply_new(json_pack("{s:o}", "lost",
						       ctl_json_uint(lost)),
					     NULL, true));
	}
	for (i = 0; i < n; i++) {
		bool last = false;
		json_t *p;

		if (c->watch_left && --c->watch_left == 0)
			last = true;
		p = json_pack("{s:o, s:o}", "event", ctl_event_json(&ev[i]),
			      "lost", ctl_json_uint(i == 0 ? lost : 0));
		ret = ctl_queue(c, varlink_reply_new(p, NULL, !last));
		if (ret)
			return ret;
		if (last) {
			watch_end(c);
			break;
		}
	}
	return 0;
}

static int protocol_error(struct ctl_conn *c, const char *why, bool fatal)
{
	if (fatal)
		c->close_when_flushed = true;
	return ctl_queue(c, ctl_reply_error(PROTO_E_PROTOCOL_ERROR,
					    json_pack("{s:s}", "reason", why)));
}

/* The error for a call of @method, which no table entry names. */
static json_t *unknown_method(const char *method)
{
	const char *dot = strrchr(method, '.');
	size_t ilen = (size_t)(dot - method);

	if ((ilen == strlen(PROTO_INTERFACE) &&
	     !strncmp(method, PROTO_INTERFACE, ilen)) ||
	    (ilen == strlen(VARLINK_SERVICE) &&
	     !strncmp(method, VARLINK_SERVICE, ilen)))
		return ctl_reply_error(VARLINK_E_METHOD_NOT_FOUND,
				       json_pack("{s:s}", "method", method));
	return ctl_reply_error(VARLINK_E_INTERFACE_NOT_FOUND,
			       json_pack("{s:s%}", "interface", method, ilen));
}

/*
 * The call state of @c: a worker thread running the call in @msg, or with
 * NULL no call at all.  c->mu held.
 */
static void conn_set_call(struct ctl_conn *c, json_t *msg)
{
	c->busy = msg != NULL;
	c->worker = msg != NULL;
	c->worker_done = false;
	c->call_msg = msg;
}

/* Start a worker thread for the call in @msg (stolen on success). */
static int start_worker(struct ctl_conn *c, const struct ctl_method *m,
			json_t *msg, const struct varlink_call *call)
{
	int ret;

	pthread_mutex_lock(&c->mu);
	conn_set_call(c, msg);
	c->call = *call;
	c->method = m;
	ret = pthread_create(&c->tid, NULL, worker_main, c);
	if (ret)
		conn_set_call(c, NULL);
	pthread_mutex_unlock(&c->mu);
	return -ret;
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
		reply = ctl_reply_error(VARLINK_E_PERMISSION_DENIED, NULL);
		goto out_reply;
	}
	m = ctl_method_find(call.method);
	if (!m) {
		reply = unknown_method(call.method);
		goto out_reply;
	}
	if (c->access < m->access) {
		reply = ctl_reply_error(VARLINK_E_PERMISSION_DENIED, NULL);
		goto out_reply;
	}
	if (varlink_params_check(call.params, m->params, m->nparams, &bad)) {
		reply = varlink_reply_invalid_parameter(bad);
		goto out_reply;
	}
	if (m->check) {
		reply = m->check(call.params, call.more);
		if (reply)
			goto out_reply;
	}
	if (call.oneway && !m->reply) {
		/* A streamed call whose replies nobody wants does nothing. */
		json_decref(msg);
		return 0;
	}
	if (m->poll) {
		ret = m->poll(c, call.params, call.more);
		json_decref(msg);
		return ret;
	}
	if (m->worker) {
		ret = start_worker(c, m, msg, &call);
		if (!ret)
			return 0;
		reply = ctl_reply_io_error(-ret);
		goto out_reply;
	}
	reply = m->reply(c, call.params);
	if (!reply)
		reply = ctl_reply_io_error(ENOMEM);
out_reply:
	json_decref(msg);
	if (call.oneway) {
		json_decref(reply);
		return 0;
	}
	return ctl_queue(c, reply);
}

/* ---- connections ------------------------------------------------------- */

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
	conn_set_call(c, NULL);
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
	struct ucred cred = {0};
	struct ctl_conn *c;
	int fd;

	fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			fprintf(stderr, "iomapfs: control: accept: %s\n",
				strerror(errno));
		return;
	}
	if (srv->nconns >= CTL_MAX_CONNS && !evict_one(srv)) {
		char *buf;
		size_t len;
		json_t *r = ctl_reply_error(
			PROTO_E_TOO_MANY_CONNECTIONS,
			json_pack("{s:i}", "max", CTL_MAX_CONNS));

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
		pfd[n++] =
			(struct pollfd){.fd = srv->wake_fd, .events = POLLIN};
		pfd[n++] =
			(struct pollfd){.fd = srv->listen_fd, .events = POLLIN};
		for (c = srv->conns; c; c = c->next) {
			short ev = 0;

			if (conn_wants_input(c))
				ev |= POLLIN;
			if (conn_pending(c))
				ev |= POLLOUT;
			pfd[n++] = (struct pollfd){.fd = c->fd, .events = ev};
			/* A watcher whose replies are backed up is not fed
			 * (its ring loses events): do not wake up for it. */
			pfd[n++] = (struct pollfd){
				.fd = c->watch && !(ev & POLLOUT &&
						    conn_pending(c) >
							    CTL_OUT_BOUND)
					      ? cache_watch_fd(c->watch)
					      : -1,
				.events = POLLIN};
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
	blkid_probe_set_superblocks_flags(
		pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL);
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

static void server_free(struct ctl_server *srv)
{
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->wake_fd >= 0)
		close(srv->wake_fd);
	free(srv->path);
	free(srv->record);
	free(srv->uuid);
	free(srv->label);
	free(srv->fstype);
	free(srv);
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
	ret = ctl_socket_create(srv);
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
		fprintf(stderr,
			"iomapfs: control: cannot start its thread: "
			"%s\n",
			strerror(ret));
		return -ret;
	}
	srv->thread_started = true;
	ctl_socket_publish(srv);
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
		ctl_wake(srv);
		pthread_join(srv->thread, NULL);
	}
	ctl_socket_remove(srv);
	server_free(srv);
}

const char *ctl_socket_path(const struct ctl_server *srv)
{
	return srv->path;
}
