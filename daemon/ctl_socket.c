// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctl_socket.c - the control socket as a file: where it lives (ctlpath.h,
 * or -o ctl_socket), putting it in place without ever replacing a live
 * one, the record that lets "iomapctl -m MOUNTPOINT" find a socket that
 * lives elsewhere, and removing both when the server stops, or when the
 * daemon aborts (errors=panic stops it with abort()).
 *
 * The socket is bound under a temporary name and linked to its real name
 * only once it listens, and link() never replaces anything: so whatever
 * sits at a socket's name and refuses connections is stale, and the next
 * daemon, or "iomapctl list --prune", may remove it.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_internal.h"
#include "ctl_socket.h"
#include "ctlpath.h"
#include "fs.h"

/*
 * Clear the way for a socket or record at @path: nothing there is fine; a
 * socket no one serves (ECONNREFUSED), or a record whose socket is gone or
 * refuses connections, is removed; a live one, or anything else, is left
 * alone and refused (-EADDRINUSE, -EEXIST).  Says why on stderr.
 */
static int clear_stale(const char *path)
{
	char *sock = NULL;
	struct stat st;
	int ret;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISREG(st.st_mode)) {
		ret = ctlpath_record_read(path, &sock);
		if (!ret)
			ret = ctlpath_probe(sock);
		if (ret == -ESTALE || ret == -ENOENT)
			ret = -ECONNREFUSED;
	} else if (S_ISSOCK(st.st_mode)) {
		ret = ctlpath_probe(path);
	} else {
		ret = -EBADMSG;
	}
	if (ret == -EBADMSG) {
		fprintf(stderr,
			"iomapfs: control socket %s: something that is not a "
			"socket is in the way; not touching it\n",
			path);
		ret = -EEXIST;
	} else if (ret == 0) {
		fprintf(stderr,
			"iomapfs: control socket %s: another daemon serves "
			"it%s%s\n",
			path, sock ? " at " : "", sock ? sock : "");
		ret = -EADDRINUSE;
	} else if (ret != -ECONNREFUSED) {
		fprintf(stderr, "iomapfs: control socket %s: %s\n", path,
			strerror(-ret));
	} else {
		ret = ctlpath_remove_if(path, st.st_dev, st.st_ino);
		if (ret == -ENOENT)
			ret = 0;
	}
	free(sock);
	return ret;
}

/*
 * A temporary name for the socket @path in its own directory (a name no
 * lister takes for a socket), or NULL when none fits in a socket address.
 */
static char *temp_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *tmp;

	if (!slash || asprintf(&tmp, "%.*s/.iomapfs-%ld.tmp",
			       (int)(slash - path), path, (long)getpid()) < 0)
		return NULL;
	if (ctlpath_check_len(tmp)) {
		free(tmp);
		return NULL;
	}
	return tmp;
}

static int bind_listen(int fd, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, CTL_MAX_CONNS) < 0)
		return -errno;
	return 0;
}

static int make_socket(struct ctl_server *srv)
{
	char *tmp = NULL;
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
	tmp = temp_name(srv->path);
	if (tmp) {
		/* Ours by its pid: a leftover of a dead process. */
		unlink(tmp);
		ret = bind_listen(fd, tmp);
		if (!ret && link(tmp, srv->path) < 0)
			ret = -errno;
		unlink(tmp);
		if (ret == -EEXIST)
			ret = -EADDRINUSE; /* a daemon got there first */
	} else {
		ret = bind_listen(fd, srv->path);
	}
	if (ret) {
		fprintf(stderr, "iomapfs: control socket %s: %s\n", srv->path,
			strerror(-ret));
		goto out_close;
	}
	if (lstat(srv->path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		ret = -EEXIST;
		goto out_close;
	}
	srv->sock_ino = st.st_ino;
	srv->sock_dev = st.st_dev;
	srv->listen_fd = fd;
	free(tmp);
	return 0;
out_close:
	close(fd);
	free(tmp);
	return ret;
}

/* The runtime directory, created when missing; says why not. */
static int runtime_dir(char **dir)
{
	int ret;

	ret = ctlpath_runtime_dir(dir);
	if (ret)
		return ret;
	ret = ctlpath_ensure_dir(*dir);
	if (ret) {
		fprintf(stderr, "iomapfs: control socket directory %s: %s%s\n",
			*dir, strerror(-ret),
			ret == -EPERM ? " (it must be ours and mode 0700)"
				      : "");
		free(*dir);
		*dir = NULL;
	}
	return ret;
}

/* srv->path: -o ctl_socket made absolute (the daemon leaves its working
 * directory when it detaches), or the default place for the mountpoint. */
static int socket_path(struct ctl_server *srv)
{
	struct iomapfs *fsx = srv->fsx;
	const char *given = fsx->opts.ctl_socket;
	char *dir = NULL, *cwd;
	int ret;

	if (given && given[0] == '/') {
		srv->path = strdup(given);
	} else if (given) {
		cwd = getcwd(NULL, 0);
		if (!cwd)
			return -errno;
		if (asprintf(&srv->path, "%s/%s", cwd, given) < 0)
			srv->path = NULL;
		free(cwd);
	}
	if (given) {
		if (!srv->path)
			return -ENOMEM;
		ret = ctlpath_check_len(srv->path);
		if (ret)
			fprintf(stderr,
				"iomapfs: ctl_socket=%s: too long for a UNIX "
				"socket\n",
				srv->path);
		return ret;
	}
	ret = runtime_dir(&dir);
	if (ret)
		return ret;
	ret = ctlpath_for_mountpoint(dir, fsx->mountpoint, &srv->path);
	if (ret)
		fprintf(stderr,
			"iomapfs: no control socket name for %s: %s; use -o "
			"ctl_socket=PATH\n",
			fsx->mountpoint, strerror(-ret));
	free(dir);
	return ret;
}

/*
 * A socket that is not at the mountpoint's default place leaves a record
 * there (ctlpath.h).  Without it the mount still works and -s SOCKET still
 * reaches it, so a failure here is told, not fatal.
 */
static void record_put(struct ctl_server *srv)
{
	const char *mp = srv->fsx->mountpoint;
	char *dir = NULL, *rec = NULL;
	int ret;

	if (!mp || mp[0] != '/' || runtime_dir(&dir))
		return;
	ret = ctlpath_for_mountpoint(dir, mp, &rec);
	if (ret || !strcmp(rec, srv->path))
		goto out_free;
	ret = clear_stale(rec);
	if (!ret)
		ret = ctlpath_record_write(rec, srv->path, &srv->record_dev,
					   &srv->record_ino);
	if (ret) {
		fprintf(stderr,
			"iomapfs: %s: no record of the control socket at %s "
			"(%s): iomapctl -m does not find it; use -s %s\n",
			mp, rec, strerror(-ret), srv->path);
		goto out_free;
	}
	srv->record = rec;
	rec = NULL;
out_free:
	free(rec);
	free(dir);
}

/*
 * What an abort() removes.  Only the first server of a process arms it
 * (the daemon has one); the handler reads it and nothing else writes it
 * while it is armed.
 */
static struct {
	char socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char record[PATH_MAX];
	dev_t socket_dev, record_dev;
	ino_t socket_ino, record_ino;
	struct sigaction old;
	const struct ctl_server *owner;
} ctl_abort;
static volatile sig_atomic_t ctl_abort_armed;

/* SIGABRT: remove the record and the socket, then let the signal go on
 * to what it did before (the default: stop with a core dump). */
static void on_abort(int sig)
{
	if (ctl_abort_armed) {
		if (ctl_abort.record[0])
			ctlpath_remove_if(ctl_abort.record,
					  ctl_abort.record_dev,
					  ctl_abort.record_ino);
		ctlpath_remove_if(ctl_abort.socket, ctl_abort.socket_dev,
				  ctl_abort.socket_ino);
		ctl_abort_armed = 0;
	}
	sigaction(SIGABRT, &ctl_abort.old, NULL);
	raise(sig);
}

static void abort_arm(const struct ctl_server *srv)
{
	struct sigaction sa = {.sa_handler = on_abort};

	if (ctl_abort.owner || strlen(srv->path) >= sizeof(ctl_abort.socket) ||
	    (srv->record && strlen(srv->record) >= sizeof(ctl_abort.record)))
		return;
	strcpy(ctl_abort.socket, srv->path);
	ctl_abort.socket_dev = srv->sock_dev;
	ctl_abort.socket_ino = srv->sock_ino;
	if (srv->record) {
		strcpy(ctl_abort.record, srv->record);
		ctl_abort.record_dev = srv->record_dev;
		ctl_abort.record_ino = srv->record_ino;
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGABRT, &sa, &ctl_abort.old) < 0)
		return;
	ctl_abort.owner = srv;
	ctl_abort_armed = 1;
}

static void abort_disarm(const struct ctl_server *srv)
{
	if (ctl_abort.owner != srv)
		return;
	ctl_abort_armed = 0;
	sigaction(SIGABRT, &ctl_abort.old, NULL);
	memset(&ctl_abort, 0, sizeof(ctl_abort));
}

int ctl_socket_create(struct ctl_server *srv)
{
	int ret;

	ret = socket_path(srv);
	if (ret)
		return ret;
	return make_socket(srv);
}

void ctl_socket_publish(struct ctl_server *srv)
{
	if (srv->fsx->opts.ctl_socket && !srv->record)
		record_put(srv);
	abort_arm(srv);
}

void ctl_socket_remove(struct ctl_server *srv)
{
	abort_disarm(srv);
	/* The record first: it must never name a socket that is gone. */
	if (srv->record)
		ctlpath_remove_if(srv->record, srv->record_dev,
				  srv->record_ino);
	if (srv->listen_fd >= 0)
		ctlpath_remove_if(srv->path, srv->sock_dev, srv->sock_ino);
}
