// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_info.c - the commands that describe: `list` (the running mounts),
 * `status` (one mount, or with --image the image's filesystem) and `stats`
 * (the cache's counters, and their reset).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "command.h"
#include "ctlpath.h"
#include "image.h"
#include "output.h"
#include "proto.h"
#include "varlink.h"

enum { LCOL_MOUNTPOINT, LCOL_STATE, LCOL_SOCKET, LCOL_IMAGE, LCOL_PID };

static const struct out_col list_cols[] = {
	[LCOL_MOUNTPOINT] = {"MOUNTPOINT", "where the image is mounted", 0},
	[LCOL_STATE] = {"STATE",
			"live (a daemon answers), stale, or removed (--prune)",
			0},
	[LCOL_SOCKET] = {"SOCKET", "the control socket", 0},
	[LCOL_IMAGE] = {"IMAGE", "the image file or device", OUT_C_EXTRA},
	[LCOL_PID] = {"PID", "process id of the daemon",
		      OUT_C_RIGHT | OUT_C_EXTRA},
};

/* GetStatus on @path, quickly; NULL when no daemon answers. */
static json_t *list_probe(const char *path)
{
	struct varlink_conn *conn;
	struct varlink_reply r = {0};
	json_t *st = NULL;

	if (!path || varlink_connect(path, &conn))
		return NULL;
	varlink_conn_set_timeout(conn, 2000);
	if (!varlink_call(conn, PROTO_M_GET_STATUS, NULL, 0) &&
	    !varlink_recv_reply(conn, &r) && !r.error)
		st = json_incref(r.params);
	varlink_reply_clear(&r);
	varlink_conn_free(conn);
	return st;
}

/* The STATE of @e, which no daemon answered: with @prune, removed if
 * stale still (a daemon may have come meanwhile). */
static int list_stale(struct ictl *c, const struct ctlpath_entry *e, bool prune,
		      const char **state)
{
	int ret;

	*state = "stale";
	if (!prune)
		return 0;
	ret = ctlpath_prune(e);
	if (ret < 0)
		return ictl_errno(c, ICTL_EXIT_FAILED, ret, "cannot remove %s",
				  e->path);
	*state = ret ? "removed" : "stale";
	return 0;
}

/* Whether @e is one of the mountpoints @mps (all when there are none). */
static bool list_wanted(const struct ctlpath_entry *e, char **mps, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (e->mountpoint && !strcmp(e->mountpoint, mps[i]))
			return true;
	return n == 0;
}

/* The MOUNTPOINT arguments, absolute (a mountpoint whose directory is
 * gone is taken as given); NULL on ENOMEM (reported). */
static char **list_mountpoints(struct ictl *c, int argc, char **argv)
{
	char **mps = calloc((size_t)argc + 1, sizeof(*mps));
	int i;

	for (i = 0; mps && i < argc; i++) {
		mps[i] = realpath(argv[i], NULL);
		if (!mps[i])
			mps[i] = strdup(argv[i]);
		if (!mps[i]) {
			while (i--)
				free(mps[i]);
			free(mps);
			mps = NULL;
		}
	}
	if (!mps)
		ictl_errno(c, ICTL_EXIT_FAILED, -ENOMEM, "list");
	return mps;
}

int cmd_list(struct ictl *c, const struct cmd_args *a)
{
	struct ctlpath_entry *list = NULL;
	struct out_table *t = NULL;
	size_t n = 0, i, shown = 0;
	char *dir = NULL, **mps;
	int ret, nmps = a->argc;
	json_t *doc;

	mps = list_mountpoints(c, nmps, a->argv);
	if (!mps)
		return -ENOMEM;
	ret = client_sockets(c, ICTL_EXIT_FAILED, &dir, &list, &n);
	if (ret)
		goto out_free;
	ret = out_table_new(c, "mounts", list_cols,
			    sizeof(list_cols) / sizeof(list_cols[0]), &t);
	if (ret)
		goto out_free;
	for (i = 0; i < n && !ret; i++) {
		const char *state = "live";
		json_t *st, *pid;

		if (!list_wanted(&list[i], mps, nmps))
			continue;
		shown++;
		st = list_probe(list[i].socket);
		pid = json_object_get(st, "pid");
		if (!st)
			ret = list_stale(c, &list[i], a->prune, &state);
		if (ret) {
			json_decref(st);
			goto out_free;
		}
		ret = out_row(t);
		ret = ret
			      ?: out_set_str(t, LCOL_MOUNTPOINT,
					     list[i].mountpoint);
		ret = ret ?: out_set_str(t, LCOL_STATE, state);
		ret = ret ?: out_set_str(t, LCOL_SOCKET, list[i].socket);
		ret = ret
			      ?: out_set_str(t, LCOL_IMAGE,
					     json_string_value(json_object_get(
						     st, "image")));
		if (!ret && json_is_integer(pid))
			ret = out_set_s64(t, LCOL_PID, json_integer_value(pid));
		else if (!ret)
			ret = out_set_null(t, LCOL_PID, "-");
		json_decref(st);
	}
	if (ret) {
		ret = ictl_errno(c, ICTL_EXIT_FAILED, ret, "list");
		goto out_free;
	}
	if (c->out_mode == ICTL_OUT_JSON) {
		doc = ictl_doc_new(c->cmd_name);
		if (doc) {
			json_object_set_new(doc, "runtime_dir",
					    json_string(dir));
			json_object_set_new(doc, "mounts", out_table_json(t));
		}
		ret = ictl_doc_print(doc);
	} else if (!shown) {
		if (!c->noheadings)
			printf("no iomapfs mount is running (no socket in "
			       "%s)\n",
			       dir);
	} else {
		ret = out_table_print(c, t);
	}
out_free:
	out_table_free(t);
	ctlpath_list_free(list, n);
	free(dir);
	while (nmps--)
		free(mps[nmps]);
	free(mps);
	return ret;
}

int cmd_status(struct ictl *c, const struct cmd_args *a)
{
	json_t *st = NULL;
	int ret;

	if (c->image_path) {
		ret = client_image(c);
		if (ret)
			return ret;
		st = image_status(c->image);
		if (!st)
			return ictl_errno(c, ICTL_EXIT_FAILED, -ENOMEM,
					  "status");
	} else {
		ret = client_call(c, PROTO_M_GET_STATUS, NULL, &st);
		if (ret)
			return ret;
	}
	ret = out_print_member(c, "status", st);
	json_decref(st);
	return ret;
}

int cmd_stats(struct ictl *c, const struct cmd_args *a)
{
	json_t *params = NULL, *st = NULL, *doc, *ino_st, *dix_st;
	char *path = NULL;
	uint64_t ino;
	int ret;

	if (a->argc > 1)
		return ictl_usage(c, "at most one INODE|PATH");
	if (a->argc) {
		ret = client_resolve(c, a->argv[0], &ino, &path);
		if (ret)
			return ret;
		free(path);
		params = json_pack("{s:I}", "ino", (json_int_t)ino);
		if (!params)
			return ictl_errno(c, ICTL_EXIT_FAILED, -ENOMEM,
					  "stats");
	}
	ret = client_call(c, PROTO_M_GET_STATS, params, &st);
	if (ret)
		return ret;
	ino_st = json_object_get(st, "inode");
	dix_st = json_object_get(st, "dir_index");
	if (c->out_mode == ICTL_OUT_JSON) {
		doc = ictl_doc_new(c->cmd_name);
		if (doc) {
			json_object_set(doc, "stats",
					json_object_get(st, "stats"));
			json_object_set(doc, "inode",
					ino_st ? ino_st : json_null());
			json_object_set(doc, "dir_index",
					dix_st ? dix_st : json_null());
			json_object_set_new(doc, "reset",
					    json_boolean(a->reset));
		}
		ret = ictl_doc_print(doc);
	} else {
		out_print_object(c, json_object_get(st, "stats"), 0);
		if (json_is_object(dix_st)) {
			printf("dir_index:\n");
			out_print_object(c, dix_st, 1);
		}
		if (json_is_object(ino_st)) {
			printf("inode:\n");
			out_print_object(c, ino_st, 1);
		}
	}
	json_decref(st);
	if (!ret && a->reset) {
		ret = client_call(c, PROTO_M_RESET_STATS, NULL, NULL);
		if (!ret && c->out_mode != ICTL_OUT_JSON)
			printf("statistics reset\n");
	}
	return ret;
}
