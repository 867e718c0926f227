// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_map.c - the `map` command: the mappings of one file from OFF for
 * LEN bytes, straight from disk (the daemon's Map method, or the --image).
 * It is a report: it never fills the cache.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "client.h"
#include "command.h"
#include "mapview.h"
#include "proto.h"
#include "size.h"

static int map_reply(struct ictl *c, json_t *r, void *arg)
{
	struct mapview *v = arg;

	if (!v->size) {
		v->size = json_incref(json_object_get(r, "size"));
		v->block_size = (uint64_t)json_integer_value(
			json_object_get(r, "block_size"));
	}
	return mapview_from_reply(c, v, r);
}

int cmd_map(struct ictl *c, const struct cmd_args *a)
{
	struct mapview_opts o = {.blocks = a->blocks};
	struct mapview v = {0};
	char **argv = a->argv;
	int nargs = a->argc, ret;
	json_t *doc, *arr;
	const char *why = NULL;
	char *path = NULL;

	if (nargs < 1 || nargs > 3)
		return ictl_usage(c, "want INODE|PATH [OFF [LEN]]");
	if (nargs > 1) {
		if (size_parse(argv[1], &o.off, &why))
			return ictl_usage(c, "bad offset '%s': %s", argv[1],
					  why);
		o.range = true;
	}
	if (nargs > 2) {
		if (!size_parse(argv[2], &o.len, &why) && !o.len)
			why = "zero";
		if (why)
			return ictl_usage(c, "bad length '%s': %s", argv[2],
					  why);
		if (o.off + o.len - 1 < o.off)
			return ictl_usage(c, "OFF + LEN passes 2^64");
	}
	if (o.off > PROTO_MAX_INT || o.len > PROTO_MAX_INT)
		return ictl_usage(c, "offset or length past 2^63");
	if (c->image_path) {
		arr = c->out_mode == ICTL_OUT_JSON ? json_array() : NULL;
		if (c->out_mode == ICTL_OUT_JSON && !arr)
			return -ENOMEM;
		ret = mapview_image(c, 1, argv, &o, arr);
		if (!ret && arr) {
			json_t *one = json_array_get(arr, 0);

			doc = ictl_doc_new(c->cmd_name);
			ret = doc ? json_object_update(doc, one) : -ENOMEM;
			json_object_set_new(doc, "source", json_string("disk"));
			json_object_set_new(
				doc, "units",
				json_string(o.blocks ? "blocks" : "bytes"));
			ret = mapview_finish_json(doc, ret ? -ENOMEM : 0);
		}
		json_decref(arr);
		return ret;
	}
	ret = client_resolve(c, argv[0], &v.ino, &path);
	if (ret)
		return ret;
	v.path = path;
	ret = client_call_more(
		c, PROTO_M_MAP,
		mapview_range_params(
			&o, json_pack("{s:I}", "ino", (json_int_t)v.ino)),
		NULL, map_reply, &v);
	if (!ret) {
		if (c->out_mode == ICTL_OUT_JSON) {
			arr = json_array();
			ret = arr ? mapview_emit(c, &v, &o, arr) : -ENOMEM;
			doc = ictl_doc_new(c->cmd_name);
			if (!ret && doc)
				json_object_update(doc, json_array_get(arr, 0));
			json_object_set_new(doc, "source", json_string("disk"));
			json_object_set_new(
				doc, "units",
				json_string(o.blocks ? "blocks" : "bytes"));
			json_decref(arr);
			ret = mapview_finish_json(doc, ret);
		} else {
			ret = mapview_emit(c, &v, &o, NULL);
		}
	}
	free(path);
	mapview_clear(&v);
	return ret;
}
