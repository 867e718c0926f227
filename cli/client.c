// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * client.c - finding and talking to the daemon for iomapctl, and resolving
 * INODE|PATH arguments.  Every Varlink error and transport failure is
 * reported here, once, with the exit code it maps to, so that commands only
 * deal with successful replies.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "client.h"
#include "ctlpath.h"
#include "image.h"
#include "proto.h"
#include "size.h"
#include "varlink.h"

struct ictl_client {
	struct varlink_conn *conn;
	unsigned int calls; /* calls sent on conn */
	char *socket_path;
	char *mountpoint; /* learnt from -m or GetStatus */
};

static void client_free(struct ictl_client *cl)
{
	if (!cl)
		return;
	varlink_conn_free(cl->conn);
	free(cl->socket_path);
	free(cl->mountpoint);
	free(cl);
}

void ictl_close(struct ictl *c)
{
	client_free(c->client);
	c->client = NULL;
	image_close(c->image);
	c->image = NULL;
	free(c->mountpoint_abs);
	c->mountpoint_abs = NULL;
}

int client_sockets(struct ictl *c, int exit_code, char **dir,
		   struct ctlpath_entry **list, size_t *n)
{
	int ret;

	*dir = NULL;
	*list = NULL;
	*n = 0;
	ret = ctlpath_runtime_dir(dir);
	if (ret)
		return ictl_errno(c, exit_code, ret,
				  "cannot find the runtime directory");
	ret = ctlpath_list(*dir, list, n);
	if (ret) {
		ret = ictl_errno(c, exit_code, ret, "cannot list %s", *dir);
		free(*dir);
		*dir = NULL;
	}
	return ret;
}

/* Which socket to use when neither -m nor -s is given. */
static int client_pick_socket(struct ictl *c, char **path)
{
	struct ctlpath_entry *list;
	char *dir;
	size_t n, i, live = 0, pick = 0;
	int ret;

	ret = client_sockets(c, ICTL_EXIT_DAEMON, &dir, &list, &n);
	if (ret)
		return ret;
	/* A stale socket of a killed daemon does not count as a mount. */
	for (i = 0; i < n; i++) {
		struct varlink_conn *probe;

		if (!list[i].socket || varlink_connect(list[i].socket, &probe))
			continue;
		varlink_conn_free(probe);
		live++;
		pick = i;
	}
	if (!live) {
		ret = ictl_fail(c, ICTL_EXIT_DAEMON, -ENOENT,
				"no iomapfs mount is running (no socket in "
				"%s); name one with -m MOUNTPOINT or -s "
				"SOCKET",
				dir);
	} else if (live > 1) {
		ret = ictl_fail(c, ICTL_EXIT_USAGE, -EINVAL,
				"%zu iomapfs mounts are running; choose one "
				"with -m MOUNTPOINT or -s SOCKET (see "
				"'iomapctl list')",
				live);
	} else {
		*path = strdup(list[pick].socket);
		ret = *path ? 0 : -ENOMEM;
	}
	ctlpath_list_free(list, n);
	free(dir);
	return ret;
}

/* The socket of the mount cl->mountpoint: its own, or the one its record
 * names (ctlpath.h). */
static int client_resolve_mountpoint(struct ictl *c, struct ictl_client *cl)
{
	char *name = NULL;
	int ret;

	ret = ctlpath_resolve(NULL, cl->mountpoint, &name, &cl->socket_path);
	if (ret == -ENOENT) {
		/* client_connect() says it: no such socket. */
		free(cl->socket_path);
		cl->socket_path = name;
		return 0;
	}
	if (ret == -ESTALE)
		ret = ictl_fail(c, ICTL_EXIT_DAEMON, ret,
				"no daemon serves %s: the socket %s that %s "
				"names is gone (stale record; 'iomapctl list "
				"--prune' removes it)",
				cl->mountpoint, cl->socket_path, name);
	else if (ret == -EBADMSG)
		ret = ictl_fail(c, ICTL_EXIT_DAEMON, ret,
				"%s is neither a control socket nor a record "
				"of one",
				name);
	else if (ret)
		ret = ictl_errno(c, ICTL_EXIT_DAEMON, ret,
				 "no control socket path for %s",
				 cl->mountpoint);
	free(name);
	return ret;
}

int client_connect(struct ictl *c)
{
	struct ictl_client *cl;
	int ret;

	if (c->client)
		return 0;
	if (c->image_path)
		return ictl_fail(c, ICTL_EXIT_USAGE, -EINVAL,
				 "needs a running daemon; it does not work "
				 "with --image");
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return ictl_errno(c, ICTL_EXIT_FAILED, -ENOMEM, "connect");
	if (c->socket_path) {
		cl->socket_path = strdup(c->socket_path);
		if (!cl->socket_path) {
			ret = -ENOMEM;
			goto out_free;
		}
	} else if (c->mountpoint) {
		char *abs = realpath(c->mountpoint, NULL);

		if (!abs) {
			ret = ictl_errno(c, ICTL_EXIT_DAEMON, -errno,
					 "mountpoint %s", c->mountpoint);
			goto out_free;
		}
		cl->mountpoint = abs;
		ret = client_resolve_mountpoint(c, cl);
		if (ret)
			goto out_free;
	} else {
		ret = client_pick_socket(c, &cl->socket_path);
		if (ret)
			goto out_free;
	}
	ret = varlink_connect(cl->socket_path, &cl->conn);
	if (ret) {
		if (c->mountpoint && !c->socket_path && ret == -ENOENT)
			ret = ictl_fail(c, ICTL_EXIT_DAEMON, ret,
					"%s is not an iomapfs mount with a "
					"control socket (no %s)",
					cl->mountpoint, cl->socket_path);
		else if (ret == -ECONNREFUSED)
			ret = ictl_fail(c, ICTL_EXIT_DAEMON, ret,
					"no daemon listens on %s (stale "
					"socket)",
					cl->socket_path);
		else
			ret = ictl_errno(c, ICTL_EXIT_DAEMON, ret,
					 "cannot connect to %s",
					 cl->socket_path);
		goto out_free;
	}
	c->client = cl;
	return 0;
out_free:
	if (ret == -ENOMEM)
		ret = ictl_errno(c, ICTL_EXIT_FAILED, ret, "connect");
	client_free(cl);
	return ret;
}

/* How a Varlink error maps to errno and exit code. */
static const struct {
	const char *name;
	int err;
	int exit_code;
} client_errors[] = {
	{PROTO_E_NO_SUCH_INODE, ENOENT, ICTL_EXIT_FAILED},
	{PROTO_E_NOT_CACHED, ENODATA, ICTL_EXIT_FAILED},
	{PROTO_E_IO_ERROR, EIO, ICTL_EXIT_FAILED},
	{PROTO_E_INVALID_RANGE, ERANGE, ICTL_EXIT_FAILED},
	{PROTO_E_NOT_MAPPABLE, EINVAL, ICTL_EXIT_FAILED},
	{PROTO_E_READ_ONLY, EROFS, ICTL_EXIT_FAILED},
	{PROTO_E_REMOUNT_REFUSED, EBUSY, ICTL_EXIT_FAILED},
	{PROTO_E_PROTOCOL_ERROR, EPROTO, ICTL_EXIT_DAEMON},
	{PROTO_E_TOO_MANY_CONNECTIONS, EBUSY, ICTL_EXIT_DAEMON},
	{VARLINK_E_INVALID_PARAMETER, EINVAL, ICTL_EXIT_FAILED},
	{VARLINK_E_PERMISSION_DENIED, EACCES, ICTL_EXIT_FAILED},
	{VARLINK_E_METHOD_NOT_FOUND, EPROTO, ICTL_EXIT_DAEMON},
	{VARLINK_E_METHOD_NOT_IMPLEMENTED, EPROTO, ICTL_EXIT_DAEMON},
	{VARLINK_E_INTERFACE_NOT_FOUND, EPROTO, ICTL_EXIT_DAEMON},
	{VARLINK_E_EXPECTED_MORE, EPROTO, ICTL_EXIT_DAEMON},
};

static int client_verror(struct ictl *c, const char *method,
			 const struct varlink_reply *r, const char *expected)
{
	const char *name = r->error, *shortname = strrchr(name, '.');
	char detail[256] = "";
	int err = EPROTO, exit_code = ICTL_EXIT_DAEMON;
	char msg[512];
	const char *key;
	json_t *v;
	size_t i, used = 0;

	if (expected && !strcmp(name, expected))
		return -ENODATA;
	for (i = 0; i < sizeof(client_errors) / sizeof(client_errors[0]); i++)
		if (!strcmp(client_errors[i].name, name)) {
			err = client_errors[i].err;
			exit_code = client_errors[i].exit_code;
		}
	json_object_foreach(r->params, key, v)
	{
		char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

		if (used < sizeof(detail))
			used += (size_t)snprintf(
				detail + used, sizeof(detail) - used, "%s%s=%s",
				used ? ", " : "", key, s ? s : "?");
		free(s);
	}
	snprintf(msg, sizeof(msg), "%s failed: %s%s%s%s",
		 strrchr(method, '.') ? strrchr(method, '.') + 1 : method,
		 shortname ? shortname + 1 : name, used ? " (" : "", detail,
		 used ? ")" : "");
	return ictl_report(c, exit_code, name, -err, msg);
}

static int client_transport(struct ictl *c, const char *what, int ret)
{
	struct ictl_client *cl = c->client;
	const char *why = cl ? varlink_conn_error(cl->conn) : "";

	ret = ictl_fail(c, ICTL_EXIT_DAEMON, ret, "%s on %s: %s%s%s", what,
			cl ? cl->socket_path : "?", strerror(-ret),
			*why ? ": " : "", why);
	/* The stream is out of step now; a shell reconnects next time. */
	client_free(c->client);
	c->client = NULL;
	return ret;
}

/* Poll slice while waiting for a stream, so that a deadline or ^C is seen
 * soon.  A receive timeout leaves the connection's buffer intact. */
#define CLIENT_SLICE_MS 100

/*
 * Send a call, connecting first if needed.  A connection kept from an
 * earlier command may have been closed by the server meanwhile (its idle
 * timeout, in a shell left alone): a UNIX socket then fails the send
 * with EPIPE before the server saw anything, so the call is sent once
 * more on a new connection.  *reused tells whether the call went out on
 * a connection that had carried calls before.
 */
static int client_send(struct ictl *c, const char *method, const json_t *params,
		       unsigned int flags, bool *reused)
{
	int ret;

	ret = client_connect(c);
	if (ret)
		return ret;
	*reused = c->client->calls > 0;
	ret = varlink_call(c->client->conn, method, params, flags);
	if ((ret == -EPIPE || ret == -ECONNRESET) && *reused) {
		client_free(c->client);
		c->client = NULL;
		ret = client_connect(c);
		if (ret)
			return ret;
		*reused = false;
		ret = varlink_call(c->client->conn, method, params, flags);
	}
	if (ret)
		return client_transport(c, "sending the call", ret);
	c->client->calls++;
	return 0;
}

/*
 * Send a call and wait for its first reply (in slices of the connection's
 * timeout when @timed: the caller checks its deadline between them, so
 * -ETIMEDOUT comes back unreported).  A kept connection that the server
 * closes before answering at all is taken as closed before the call
 * arrived, and the call is sent once more on a new connection; every
 * method of the interface may be repeated without harm.
 */
static int client_first_reply(struct ictl *c, const char *method,
			      const json_t *params, unsigned int flags,
			      struct varlink_reply *r, bool timed)
{
	bool reused;
	int ret, tries;

	for (tries = 0; tries < 2; tries++) {
		ret = client_send(c, method, params, flags, &reused);
		if (ret)
			return ret;
		if (timed)
			varlink_conn_set_timeout(c->client->conn,
						 CLIENT_SLICE_MS);
		ret = varlink_recv_reply(c->client->conn, r);
		if (!ret || (ret == -ETIMEDOUT && timed))
			return ret;
		if (!reused || (ret != -ECONNRESET && ret != -EPIPE))
			break;
		client_free(c->client);
		c->client = NULL;
	}
	return client_transport(c, "reading the reply", ret);
}

static volatile sig_atomic_t client_interrupted;

static void client_on_sigint(int sig)
{
	client_interrupted = 1;
}

uint64_t client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* client_call_stream() with the @expected error of client_call_more(). */
static int client_stream(struct ictl *c, const char *method, json_t *params,
			 const char *expected,
			 int (*fn)(struct ictl *c, json_t *reply, void *arg),
			 void *arg, uint64_t deadline_ms, bool interruptible)
{
	struct varlink_reply r = {0};
	struct sigaction sa = {0}, old;
	bool timed = deadline_ms || interruptible, have;
	int ret;

	if (interruptible) {
		client_interrupted = 0;
		sa.sa_handler = client_on_sigint;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old);
	}
	ret = client_first_reply(c, method, params, VARLINK_CALL_MORE, &r,
				 timed);
	if (ret && ret != -ETIMEDOUT)
		goto out_signal;
	have = !ret;
	for (;;) {
		if ((interruptible && client_interrupted) ||
		    (deadline_ms && client_now_ms() >= deadline_ms)) {
			client_free(c->client);
			c->client = NULL;
			ret = 0;
			break;
		}
		if (!have) {
			ret = varlink_recv_reply(c->client->conn, &r);
			if (ret == -ETIMEDOUT && timed)
				continue;
			if (ret) {
				ret = client_transport(c, "reading the reply",
						       ret);
				break;
			}
		}
		have = false;
		if (r.error) {
			ret = client_verror(c, method, &r, expected);
			/* an error ends the call, even mid-stream */
			break;
		}
		ret = fn(c, r.params, arg);
		if (ret || !r.continues) {
			if (r.continues) {
				client_free(c->client);
				c->client = NULL;
			}
			break;
		}
		varlink_reply_clear(&r);
	}
	varlink_reply_clear(&r);
	if (c->client)
		varlink_conn_set_timeout(c->client->conn, -1);
out_signal:
	if (interruptible)
		sigaction(SIGINT, &old, NULL);
	json_decref(params);
	return ret;
}

int client_call_stream(struct ictl *c, const char *method, json_t *params,
		       int (*fn)(struct ictl *c, json_t *reply, void *arg),
		       void *arg, uint64_t deadline_ms, bool interruptible)
{
	return client_stream(c, method, params, NULL, fn, arg, deadline_ms,
			     interruptible);
}

int client_call_more(struct ictl *c, const char *method, json_t *params,
		     const char *expected,
		     int (*fn)(struct ictl *c, json_t *reply, void *arg),
		     void *arg)
{
	return client_stream(c, method, params, expected, fn, arg, 0, false);
}

static int client_keep_one(struct ictl *c, json_t *reply, void *arg)
{
	json_t **out = arg;

	json_decref(*out);
	*out = json_incref(reply);
	return 0;
}

int client_call(struct ictl *c, const char *method, json_t *params,
		json_t **reply)
{
	json_t *got = NULL;
	struct varlink_reply r = {0};
	int ret;

	ret = client_first_reply(c, method, params, 0, &r, false);
	if (ret)
		goto out_put;
	if (r.error) {
		ret = client_verror(c, method, &r, NULL);
	} else if (r.continues) {
		ret = client_transport(c, "reading the reply", -EPROTO);
	} else {
		ret = client_keep_one(c, r.params, &got);
		if (reply)
			*reply = got;
		else
			json_decref(got);
	}
	varlink_reply_clear(&r);
out_put:
	json_decref(params);
	return ret;
}

const char *client_mountpoint(struct ictl *c)
{
	struct ictl_client *cl;
	json_t *st = NULL;
	const char *mp;

	/* -m names the mount: no need to ask the daemon (completion in the
	 * shell works even while the daemon is away) */
	if (c->mountpoint && !c->mountpoint_abs) {
		c->mountpoint_abs = realpath(c->mountpoint, NULL);
		if (!c->mountpoint_abs) {
			ictl_errno(c, ICTL_EXIT_FAILED, -errno, "mountpoint %s",
				   c->mountpoint);
			return NULL;
		}
	}
	if (c->mountpoint_abs)
		return c->mountpoint_abs;
	if (client_connect(c))
		return NULL;
	cl = c->client;
	if (cl->mountpoint)
		return cl->mountpoint;
	if (client_call(c, PROTO_M_GET_STATUS, NULL, &st))
		return NULL;
	cl = c->client;
	mp = json_string_value(json_object_get(st, "mountpoint"));
	if (!mp) {
		ictl_fail(c, ICTL_EXIT_DAEMON, -EPROTO,
			  "GetStatus gave no mountpoint");
		json_decref(st);
		return NULL;
	}
	cl->mountpoint = strdup(mp);
	json_decref(st);
	if (!cl->mountpoint)
		ictl_errno(c, ICTL_EXIT_FAILED, -ENOMEM, "mountpoint");
	return cl->mountpoint;
}

int client_image(struct ictl *c)
{
	char why[256] = "";
	int ret;

	if (c->image)
		return 0;
	ret = image_open(c->image_path, &c->image, why, sizeof(why));
	if (ret)
		return ictl_fail(c, ICTL_EXIT_FAILED, ret,
				 "cannot open image %s: %s", c->image_path,
				 *why ? why : strerror(-ret));
	return 0;
}

static int client_resolve_image(struct ictl *c, const char *arg, uint64_t *ino,
				char **path)
{
	uint32_t i;
	int ret;

	ret = client_image(c);
	if (ret)
		return ret;
	ret = image_namei(c->image, arg, &i);
	if (ret)
		return ictl_errno(c, ICTL_EXIT_FAILED, ret, "%s in image %s",
				  arg, c->image_path);
	if (arg[0] == '/')
		*path = strdup(arg);
	else if (asprintf(path, "/%s", arg) < 0)
		*path = NULL;
	if (!*path)
		return ictl_errno(c, ICTL_EXIT_FAILED, -ENOMEM, "%s", arg);
	*ino = i;
	return 0;
}

/*
 * Turn the absolute path @abs (in place) into the path from the root of
 * the mount @mp, as the daemon names files ("/dir/f").  @abs is left alone
 * when it does not lie under @mp (a bind mount seen elsewhere).
 */
static void client_mount_relative(char *abs, const char *mp)
{
	size_t mlen = strlen(mp);

	if (!strcmp(mp, "/") || strncmp(abs, mp, mlen) ||
	    (abs[mlen] != '/' && abs[mlen]))
		return;
	memmove(abs, abs + mlen, strlen(abs + mlen) + 1);
	if (!*abs)
		strcpy(abs, "/");
}

int client_resolve(struct ictl *c, const char *arg, uint64_t *ino, char **path)
{
	const char *mp;
	struct stat st, mst;
	char *joined = NULL, *abs;
	int ret;

	*path = NULL;
	if (ictl_is_number(arg)) {
		if (size_parse(arg, ino, NULL) || !*ino || *ino > UINT32_MAX)
			return ictl_fail(c, ICTL_EXIT_FAILED, -EINVAL,
					 "inode number %s is out of range",
					 arg);
		return 0;
	}
	if (c->image_path)
		return client_resolve_image(c, arg, ino, path);
	mp = client_mountpoint(c);
	if (!mp)
		return -EPROTO;
	if (stat(arg, &st) == 0) {
		abs = realpath(arg, NULL);
	} else if (errno == ENOENT && arg[0] != '/') {
		if (asprintf(&joined, "%s/%s", mp, arg) < 0)
			return ictl_errno(c, ICTL_EXIT_FAILED, -ENOMEM, "%s",
					  arg);
		if (stat(joined, &st)) {
			ret = -errno;
			free(joined);
			return ictl_errno(c, ICTL_EXIT_FAILED, ret,
					  "%s (looked in . and in %s)", arg,
					  mp);
		}
		abs = realpath(joined, NULL);
		free(joined);
	} else {
		return ictl_errno(c, ICTL_EXIT_FAILED, -errno, "%s", arg);
	}
	if (!abs)
		return ictl_errno(c, ICTL_EXIT_FAILED, -errno, "%s", arg);
	if (stat(mp, &mst)) {
		ret = -errno;
		free(abs);
		return ictl_errno(c, ICTL_EXIT_FAILED, ret, "mountpoint %s",
				  mp);
	}
	if (st.st_dev != mst.st_dev) {
		ret = ictl_fail(c, ICTL_EXIT_FAILED, -EXDEV,
				"%s is not inside the mount %s", abs, mp);
		free(abs);
		return ret;
	}
	*ino = st.st_ino;
	client_mount_relative(abs, mp);
	*path = abs;
	return 0;
}
