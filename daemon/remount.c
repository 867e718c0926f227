// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * remount.c - the remount of a running mount (see remount.h).  The
 * kernel tells a FUSE server nothing of a remount: fuse_reconfigure()
 * only syncs the filesystem, and mount(8) leaves the mount(2) call to the
 * helper it runs.  So the daemon hears of it here, on its control socket,
 * and this process makes the kernel's remount itself.
 *
 * The order keeps one rule: no write may reach a daemon that refuses it,
 * and the disk is never marked clean while the kernel can still write.
 * Going read-only, the kernel goes first (it writes back dirty pages while
 * the daemon still takes them, and it refuses while files are open for
 * writing); going read-write, the daemon goes first.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "ctlpath.h"
#include "mountinfo.h"
#include "proto.h"
#include "remount.h"
#include "varlink.h"

/* What remount needs to know of the mount at a mountpoint. */
struct remount_target {
	const char *mountpoint; /* absolute */
	char *source;		/* its fsname */
	unsigned long keep;	/* MS_* flags it keeps across the remount */
	bool found;
};

/*
 * The flags a remount must name to keep them: per mount, and per
 * superblock.  The access-time flags are not among them: a remount that
 * names none keeps them as they are.
 */
static const struct {
	const char *name;
	bool super;
	unsigned long flag;
} remount_keep[] = {
	{"nosuid", false, MS_NOSUID},  {"nodev", false, MS_NODEV},
	{"noexec", false, MS_NOEXEC},  {"sync", true, MS_SYNCHRONOUS},
	{"dirsync", true, MS_DIRSYNC}, {"lazytime", true, MS_LAZYTIME},
};

static int match_mount(const struct mountinfo_entry *e, void *arg)
{
	struct remount_target *t = arg;
	size_t i;

	if (strcmp(e->mountpoint, t->mountpoint))
		return 0;
	/* A later line is a mount on top of an earlier one: the last wins. */
	free(t->source);
	t->source = strdup(e->source);
	if (!t->source)
		return -ENOMEM;
	t->keep = 0;
	for (i = 0; i < sizeof(remount_keep) / sizeof(remount_keep[0]); i++)
		if (mountinfo_has_opt(remount_keep[i].super ? e->super_opts
							    : e->mount_opts,
				      remount_keep[i].name))
			t->keep |= remount_keep[i].flag;
	t->found = true;
	return 0;
}

/* The kernel's side. */
static int kernel_remount(const struct remount_target *t, bool ro)
{
	unsigned long flags = MS_REMOUNT | t->keep | (ro ? MS_RDONLY : 0);

	if (mount(t->source, t->mountpoint, NULL, flags, NULL) < 0) {
		int e = errno;

		fprintf(stderr,
			"iomapfs: %s: the kernel refused to remount it "
			"read-%s: %s%s\n",
			t->mountpoint, ro ? "only" : "write", strerror(e),
			e == EBUSY ? " (a file is open for writing, or a "
				     "removed file is still open)"
				   : "");
		return -e;
	}
	return 0;
}

/* The daemon's side: SetReadOnly on its control socket at @sock. */
static int daemon_remount(const char *sock, const char *mountpoint, bool ro)
{
	struct varlink_reply r = {0};
	struct varlink_conn *conn;
	json_t *params;
	int ret;

	ret = varlink_connect(sock, &conn);
	if (ret) {
		fprintf(stderr,
			"iomapfs: %s: no daemon answers on its "
			"control socket %s: %s\n",
			mountpoint, sock, strerror(-ret));
		return ret == -ECONNREFUSED ? -ENOENT : ret;
	}
	params = json_pack("{s:b}", "readonly", ro);
	ret = params ? varlink_call(conn, PROTO_M_SET_READ_ONLY, params, 0)
		     : -ENOMEM;
	json_decref(params);
	if (!ret)
		ret = varlink_recv_reply(conn, &r);
	if (ret) {
		fprintf(stderr, "iomapfs: %s: SetReadOnly on %s: %s\n",
			mountpoint, sock, strerror(-ret));
	} else if (r.error) {
		json_t *why = json_object_get(r.params, "reason");
		json_t *err = json_object_get(r.params, "errno");

		fprintf(stderr,
			"iomapfs: %s: the daemon cannot go read-%s: "
			"%s\n",
			mountpoint, ro ? "only" : "write",
			json_is_string(why) ? json_string_value(why) : r.error);
		ret = json_is_integer(err) && json_integer_value(err) > 0
			      ? -(int)json_integer_value(err)
			      : -EIO;
	}
	varlink_reply_clear(&r);
	varlink_conn_free(conn);
	return ret;
}

int remount_run(const char *source, const char *mountpoint, bool ro)
{
	struct remount_target t = {0};
	char *mp, *src = NULL, *name = NULL, *sock = NULL;
	int ret;

	mp = realpath(mountpoint, NULL);
	if (!mp) {
		ret = -errno;
		fprintf(stderr, "iomapfs: mountpoint %s: %s\n", mountpoint,
			strerror(-ret));
		return ret;
	}
	t.mountpoint = mp;
	ret = mountinfo_each(match_mount, &t);
	if (!ret && !t.found) {
		fprintf(stderr,
			"iomapfs: %s is not an iomapfs mount: nothing "
			"to remount\n",
			mp);
		ret = -ENOENT;
	}
	if (ret)
		goto out_free;
	src = source ? realpath(source, NULL) : NULL;
	if (source && strcmp(src ? src : source, t.source)) {
		fprintf(stderr, "iomapfs: %s is the mount of %s, not of %s\n",
			mp, t.source, source);
		ret = -EINVAL;
		goto out_free;
	}
	ret = ctlpath_resolve(NULL, mp, &name, &sock);
	if (ret) {
		fprintf(stderr,
			"iomapfs: %s: no control socket to reach its "
			"daemon (%s: %s)\n",
			mp, name ? name : "?", strerror(-ret));
		ret = -ENOENT;
		goto out_free;
	}
	if (ro) {
		ret = kernel_remount(&t, true);
		if (!ret) {
			ret = daemon_remount(sock, mp, true);
			if (ret)
				kernel_remount(&t, false);
		}
	} else {
		ret = daemon_remount(sock, mp, false);
		if (!ret) {
			ret = kernel_remount(&t, false);
			if (ret)
				daemon_remount(sock, mp, true);
		}
	}
out_free:
	free(sock);
	free(name);
	free(src);
	free(t.source);
	free(mp);
	return ret;
}
