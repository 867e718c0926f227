// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_dump.c - the `dump` command: what the daemon has cached, per inode
 * (every cached inode, or those named), or with --image the mappings on
 * disk.  An inode of which nothing is cached is an empty dump, not an
 * error.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "client.h"
#include "command.h"
#include "mapview.h"
#include "proto.h"

struct dump_state {
	const struct mapview_opts *o;
	json_t *arr;	  /* -J: the inodes */
	const char *path; /* resolved path of the one inode asked */
	unsigned int shown;
};

static int dump_one_reply(struct ictl *c, json_t *r, void *arg)
{
	struct dump_state *st = arg;
	struct mapview v = {0};
	json_t *ino = json_object_get(r, "ino");
	json_t *stats = json_object_get(r, "stats");
	int ret;

	if (json_is_null(ino) || !ino)
		return 0; /* nothing cached at all */
	if (!json_is_integer(ino))
		return ictl_fail(c, ICTL_EXIT_DAEMON, -EPROTO,
				 "Dump reply without an inode number");
	v.ino = (uint64_t)json_integer_value(ino);
	v.path = json_string_value(json_object_get(r, "path"));
	if (!v.path)
		v.path = st->path;
	v.size = json_incref(json_object_get(r, "size"));
	v.block_size =
		(uint64_t)json_integer_value(json_object_get(r, "block_size"));
	v.hits = json_incref(json_object_get(stats, "hits"));
	v.misses = json_incref(json_object_get(stats, "misses"));
	ret = mapview_from_reply(c, &v, r);
	if (!ret) {
		if (st->shown && !st->arr)
			printf("\n");
		ret = mapview_emit(c, &v, st->o, st->arr);
		st->shown++;
	}
	mapview_clear(&v);
	return ret;
}

/* The header (or JSON entry) of an inode of which nothing is cached. */
static int dump_not_cached(struct ictl *c, struct dump_state *st, uint64_t ino,
			   const char *path)
{
	json_t *obj;

	if (st->arr) {
		obj = json_pack("{s:I, s:s?, s:n, s:n, s:i, s:n, s:n, s:[]}",
				"ino", (json_int_t)ino, "path", path, "size",
				"block_size", "maps", 0, "hits", "misses",
				"mappings");
		if (!obj || json_array_append_new(st->arr, obj))
			return ictl_errno(c, ICTL_EXIT_FAILED, -ENOMEM, "dump");
		return 0;
	}
	if (c->noheadings)
		return 0;
	if (st->shown++)
		printf("\n");
	printf("inode %" PRIu64 "%s%s  nothing cached\n", ino,
	       path ? "  path " : "", path ? path : "");
	return 0;
}

static int daemon_dump(struct ictl *c, int nargs, char **args,
		       const struct mapview_opts *o, json_t *arr)
{
	struct dump_state st = {.o = o, .arr = arr};
	int i, ret;

	if (!nargs) {
		ret = client_call_more(c, PROTO_M_DUMP,
				       mapview_range_params(o, json_object()),
				       NULL, dump_one_reply, &st);
		if (!ret && !st.shown && !arr && !c->noheadings)
			printf("nothing is cached\n");
		return ret;
	}
	for (i = 0; i < nargs; i++) {
		uint64_t ino;
		char *path = NULL;

		ret = client_resolve(c, args[i], &ino, &path);
		if (ret)
			return ret;
		st.path = path;
		/* an inode with nothing cached is an empty dump, not an
		 * error: the cache is allowed to hold nothing */
		ret = client_call_more(
			c, PROTO_M_DUMP,
			mapview_range_params(
				o, json_pack("{s:I}", "ino", (json_int_t)ino)),
			PROTO_E_NOT_CACHED, dump_one_reply, &st);
		if (ret == -ENODATA)
			ret = dump_not_cached(c, &st, ino, path);
		free(path);
		st.path = NULL;
		if (ret)
			return ret;
	}
	return 0;
}

int cmd_dump(struct ictl *c, const struct cmd_args *a)
{
	struct mapview_opts o = {
		.blocks = a->blocks,
		.range = a->range,
		.off = a->off,
		.len = a->len,
	};
	json_t *doc = NULL, *arr = NULL;
	int ret;

	if (c->image_path && !a->argc)
		return ictl_usage(c, "with --image, name the inodes to dump "
				     "(INODE|PATH ...)");
	if (c->out_mode == ICTL_OUT_JSON) {
		doc = ictl_doc_new(c->cmd_name);
		arr = json_array();
		if (!doc || !arr ||
		    json_object_set_new(
			    doc, "source",
			    json_string(c->image_path ? "disk" : "cache")) ||
		    json_object_set_new(
			    doc, "units",
			    json_string(o.blocks ? "blocks" : "bytes")) ||
		    json_object_set(doc, "inodes", arr)) {
			json_decref(doc);
			json_decref(arr);
			return ictl_errno(c, ICTL_EXIT_FAILED, -ENOMEM, "dump");
		}
	}
	if (c->image_path)
		ret = mapview_image(c, a->argc, a->argv, &o, arr);
	else
		ret = daemon_dump(c, a->argc, a->argv, &o, arr);
	json_decref(arr);
	return doc ? mapview_finish_json(doc, ret) : ret;
}
