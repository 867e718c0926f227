// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_map.c - the commands that show mappings: `dump` (what the daemon has
 * cached, or with --image what the disk holds) and `map` (a report from
 * disk that never fills the cache).  Both print, per inode, one header line
 * and a table of OFFSET, LENGTH, TYPE, ADDR, FLAGS in hex bytes, like the
 * kernel's iomap tracepoints, or in filesystem blocks with --blocks, like
 * `debugfs -R ex`.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "client.h"
#include "image.h"
#include "output.h"
#include "proto.h"
#include "size.h"

enum { COL_INO, COL_OFFSET, COL_LENGTH, COL_END, COL_TYPE, COL_ADDR,
	COL_FLAGS };

static const struct out_col map_cols[] = {
	[COL_INO] = { "INO", "inode number", OUT_C_RIGHT | OUT_C_EXTRA },
	[COL_OFFSET] = { "OFFSET", "first file byte (or block) mapped",
			 OUT_C_RIGHT },
	[COL_LENGTH] = { "LENGTH", "bytes (or blocks) mapped", OUT_C_RIGHT },
	[COL_END] = { "END", "last file byte (or block) mapped",
		      OUT_C_RIGHT | OUT_C_EXTRA },
	[COL_TYPE] = { "TYPE", "HOLE, DELALLOC, MAPPED, UNWRITTEN or INLINE",
		       0 },
	[COL_ADDR] = { "ADDR", "device byte (or block) address; - for none",
		       OUT_C_RIGHT },
	[COL_FLAGS] = { "FLAGS", "NEW, DIRTY, SHARED, MERGED, LAST", 0 },
};

/* One inode's mappings, from the daemon or from the image. */
struct map_view {
	uint64_t ino;
	const char *path;	/* or NULL */
	json_t *size;		/* integer or NULL (unknown) */
	uint64_t block_size;
	json_t *hits;		/* integer or NULL */
	json_t *misses;		/* integer or NULL */
	struct iomap *maps;
	size_t n, cap;
};

struct map_opts {
	bool blocks;
	bool have_range;
	uint64_t off, len;	/* len 0: to the end */
};

static void view_clear(struct map_view *v)
{
	json_decref(v->size);
	json_decref(v->hits);
	json_decref(v->misses);
	free(v->maps);
	memset(v, 0, sizeof(*v));
}

static int view_add(struct map_view *v, const struct iomap *m)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		struct iomap *n = realloc(v->maps, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		v->maps = n;
		v->cap = cap;
	}
	v->maps[v->n++] = *m;
	return 0;
}

/* Scale a byte quantity for --blocks. */
static uint64_t map_unit(const struct map_opts *o, const struct map_view *v,
			 uint64_t bytes)
{
	return o->blocks && v->block_size ? bytes / v->block_size : bytes;
}

static int view_table(struct ictl *c, const struct map_view *v,
		      const struct map_opts *o, struct out_table **tp)
{
	struct out_table *t;
	bool hex = !o->blocks;
	size_t i;
	int ret;

	ret = out_table_new(c, "mappings", map_cols,
			    sizeof(map_cols) / sizeof(map_cols[0]), &t);
	if (ret)
		return ret;
	for (i = 0; i < v->n; i++) {
		const struct iomap *m = &v->maps[i];
		const char *type = iomap_type_name(m->type);
		uint64_t len = map_unit(o, v, m->length);

		/* a partial last block still counts as one block */
		if (o->blocks && v->block_size && m->length % v->block_size)
			len++;
		ret = out_row(t);
		ret = ret ?: out_set_u64(t, COL_INO, v->ino, false);
		ret = ret ?: out_set_u64(t, COL_OFFSET,
					 map_unit(o, v, m->offset), hex);
		ret = ret ?: out_set_u64(t, COL_LENGTH, len, hex);
		ret = ret ?: out_set_u64(t, COL_END,
					 map_unit(o, v, iomap_last(m)), hex);
		ret = ret ?: out_set_str(t, COL_TYPE, type ? type : "?");
		if (!ret && iomap_type_has_addr(m->type))
			ret = out_set_u64(t, COL_ADDR,
					  map_unit(o, v, m->addr), hex);
		else if (!ret)
			ret = out_set_null(t, COL_ADDR, "-");
		ret = ret ?: out_set_flags(t, COL_FLAGS, m->flags);
		if (ret) {
			out_table_free(t);
			return ret;
		}
	}
	*tp = t;
	return 0;
}

static void print_json_num(const char *key, json_t *v)
{
	if (json_is_integer(v))
		printf("  %s %" JSON_INTEGER_FORMAT, key,
		       json_integer_value(v));
	else
		printf("  %s -", key);
}

/* Print one inode for people, or add it to @arr for -J. */
static int view_emit(struct ictl *c, const struct map_view *v,
		     const struct map_opts *o, json_t *arr)
{
	struct out_table *t;
	json_t *obj, *rows;
	int ret;

	ret = view_table(c, v, o, &t);
	if (ret)
		return ret;
	if (arr) {
		rows = out_table_json(t);
		obj = json_pack("{s:I, s:s?, s:O?, s:I, s:I, s:O?, s:O?, s:o?}",
				"ino", (json_int_t)v->ino, "path", v->path,
				"size", v->size ? v->size : json_null(),
				"block_size", (json_int_t)v->block_size,
				"maps", (json_int_t)v->n,
				"hits", v->hits ? v->hits : json_null(),
				"misses", v->misses ? v->misses : json_null(),
				"mappings", rows);
		ret = obj ? json_array_append_new(arr, obj) : -ENOMEM;
		if (ret)
			ret = -ENOMEM;
		out_table_free(t);
		return ret;
	}
	if (!c->noheadings) {
		printf("inode %" PRIu64, v->ino);
		if (v->path)
			printf("  path %s", v->path);
		print_json_num("size", v->size);
		printf("  block_size %" PRIu64 "  maps %zu", v->block_size,
		       v->n);
		print_json_num("hits", v->hits);
		print_json_num("misses", v->misses);
		if (o->blocks)
			printf("  (units: blocks)");
		printf("\n");
	}
	ret = out_table_print(c, t);
	out_table_free(t);
	return ret;
}

/* ---- image mode --------------------------------------------------------- */

static int image_collect(const struct iomap *m, void *arg)
{
	return view_add(arg, m);
}

static int image_view(struct ictl *c, const char *arg,
		      const struct map_opts *o, struct map_view *v)
{
	uint64_t ino, size;
	uint32_t mode;
	char *path = NULL;
	int ret;

	ret = client_resolve(c, arg, &ino, &path);
	if (ret)
		return ret;
	ret = image_stat(c->image, (uint32_t)ino, &size, &mode);
	if (ret) {
		free(path);
		if (ret == -ENOENT)
			return ictl_fail(c, ICTL_EXIT_FAILED, ret,
					 "inode %" PRIu64 " is not in use in "
					 "%s", ino, c->image_path);
		if (ret == -EINVAL)
			return ictl_fail(c, ICTL_EXIT_FAILED, ret,
					 "inode %" PRIu64 " is out of range "
					 "in %s", ino, c->image_path);
		return ictl_errno(c, ICTL_EXIT_FAILED, ret, "inode %" PRIu64,
				  ino);
	}
	v->ino = ino;
	v->path = path;
	v->size = json_integer((json_int_t)size);
	v->block_size = image_block_size(c->image);
	ret = image_walk(c->image, (uint32_t)ino, o->off, o->len,
			 image_collect, v);
	if (ret == -EINVAL)
		return ictl_fail(c, ICTL_EXIT_FAILED, ret,
				 "inode %" PRIu64 " has no mappings (device, "
				 "fifo, socket or fast symlink)", ino);
	if (ret == -EFBIG)
		return ictl_fail(c, ICTL_EXIT_FAILED, ret,
				 "offset 0x%" PRIx64 " is past the largest "
				 "file size", o->off);
	if (ret)
		return ictl_errno(c, ICTL_EXIT_FAILED, ret,
				  "mappings of inode %" PRIu64, ino);
	return 0;
}

static int image_show(struct ictl *c, int nargs, char **args,
		      const struct map_opts *o, json_t *arr)
{
	int i, ret;

	ret = client_image(c);
	if (ret)
		return ret;
	for (i = 0; i < nargs; i++) {
		struct map_view v = { 0 };

		ret = image_view(c, args[i], o, &v);
		if (!ret) {
			if (i && !arr)
				printf("\n");
			ret = view_emit(c, &v, o, arr);
		}
		free((char *)v.path);
		view_clear(&v);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- daemon mode -------------------------------------------------------- */

/* Fill @v's mappings from a reply's "mappings" array. */
static int view_from_reply(struct ictl *c, struct map_view *v, json_t *r)
{
	json_t *maps = json_object_get(r, "mappings"), *m;
	char why[160];
	size_t i;

	if (!json_is_array(maps))
		return ictl_fail(c, ICTL_EXIT_DAEMON, -EPROTO,
				 "reply without mappings");
	json_array_foreach(maps, i, m) {
		struct iomap im;

		if (proto_iomap_from_json(m, &im, why, sizeof(why)))
			return ictl_fail(c, ICTL_EXIT_DAEMON, -EPROTO,
					 "bad mapping in reply: %s", why);
		if (view_add(v, &im))
			return ictl_errno(c, ICTL_EXIT_FAILED, -ENOMEM,
					  "mappings");
	}
	return 0;
}

struct dump_state {
	const struct map_opts *o;
	json_t *arr;		/* -J: the inodes */
	const char *path;	/* resolved path of the one inode asked */
	unsigned int shown;
};

static int dump_one_reply(struct ictl *c, json_t *r, void *arg)
{
	struct dump_state *st = arg;
	struct map_view v = { 0 };
	json_t *ino = json_object_get(r, "ino");
	json_t *stats = json_object_get(r, "stats");
	int ret;

	if (json_is_null(ino) || !ino)
		return 0;	/* nothing cached at all */
	if (!json_is_integer(ino))
		return ictl_fail(c, ICTL_EXIT_DAEMON, -EPROTO,
				 "Dump reply without an inode number");
	v.ino = (uint64_t)json_integer_value(ino);
	v.path = json_string_value(json_object_get(r, "path"));
	if (!v.path)
		v.path = st->path;
	v.size = json_incref(json_object_get(r, "size"));
	v.block_size = (uint64_t)json_integer_value(
		json_object_get(r, "block_size"));
	v.hits = json_incref(json_object_get(stats, "hits"));
	v.misses = json_incref(json_object_get(stats, "misses"));
	ret = view_from_reply(c, &v, r);
	if (!ret) {
		if (st->shown && !st->arr)
			printf("\n");
		ret = view_emit(c, &v, st->o, st->arr);
		st->shown++;
	}
	view_clear(&v);
	return ret;
}

/* The header (or JSON entry) of an inode of which nothing is cached. */
static int dump_not_cached(struct ictl *c, struct dump_state *st,
			   uint64_t ino, const char *path)
{
	json_t *obj;

	if (st->arr) {
		obj = json_pack("{s:I, s:s?, s:n, s:n, s:i, s:n, s:n, s:[]}",
				"ino", (json_int_t)ino, "path", path, "size",
				"block_size", "maps", 0, "hits", "misses",
				"mappings");
		if (!obj || json_array_append_new(st->arr, obj))
			return ictl_errno(c, ICTL_EXIT_FAILED, -ENOMEM,
					  "dump");
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

static json_t *range_params(const struct map_opts *o, json_t *p)
{
	if (!p)
		return NULL;
	if (o->have_range) {
		json_object_set_new(p, "offset",
				    json_integer((json_int_t)o->off));
		if (o->len)
			json_object_set_new(p, "length",
					    json_integer((json_int_t)o->len));
	}
	return p;
}

static int daemon_dump(struct ictl *c, int nargs, char **args,
		       const struct map_opts *o, json_t *arr)
{
	struct dump_state st = { .o = o, .arr = arr };
	int i, ret;

	if (!nargs) {
		ret = client_call_more(c, PROTO_M_DUMP,
				       range_params(o, json_object()),
				       dump_one_reply, &st);
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
		c->expect_verror = PROTO_E_NOT_CACHED;
		ret = client_call_more(c, PROTO_M_DUMP,
				       range_params(o, json_pack("{s:I}",
						"ino", (json_int_t)ino)),
				       dump_one_reply, &st);
		c->expect_verror = NULL;
		if (ret == -ENODATA)
			ret = dump_not_cached(c, &st, ino, path);
		free(path);
		st.path = NULL;
		if (ret)
			return ret;
	}
	return 0;
}

/* The options shared by dump and map. */
static int map_getopts(struct ictl *c, int argc, char **argv,
		       struct map_opts *o, bool range_opt)
{
	static const struct option lopts[] = {
		{ "range", required_argument, NULL, 'R' },
		{ "blocks", no_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	const char *why;
	int opt, ret;

	while ((opt = cmd_getopt(c, argc, argv, "", lopts)) != -1) {
		switch (opt) {
		case 'R':
			if (!range_opt)
				return ictl_usage(c, "--range is for dump; "
						  "map takes OFF [LEN]");
			ret = ictl_parse_range(optarg, &o->off, &o->len, &why);
			if (ret)
				return ictl_usage(c, "bad --range '%s': %s; "
						  "want OFF:LEN, e.g. 0:1M "
						  "or 0x1000:4k", optarg, why);
			o->have_range = true;
			break;
		case 'b':
			o->blocks = true;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

static int finish_json(json_t *doc, int ret)
{
	if (ret) {
		json_decref(doc);
		return ret;
	}
	return out_doc_print(doc);
}

int cmd_dump(struct ictl *c, int argc, char **argv)
{
	struct map_opts o = { 0 };
	json_t *doc = NULL, *arr = NULL;
	int ret;

	ret = map_getopts(c, argc, argv, &o, true);
	if (ret)
		return ret;
	if (c->image_path && optind == argc)
		return ictl_usage(c, "with --image, name the inodes to dump "
				  "(INODE|PATH ...)");
	if (c->out_mode == ICTL_OUT_JSON) {
		doc = out_doc_new(c->cmd_name);
		arr = json_array();
		if (!doc || !arr ||
		    json_object_set_new(doc, "source", json_string(
				c->image_path ? "disk" : "cache")) ||
		    json_object_set_new(doc, "units",
				json_string(o.blocks ? "blocks" : "bytes")) ||
		    json_object_set(doc, "inodes", arr)) {
			json_decref(doc);
			json_decref(arr);
			return ictl_errno(c, ICTL_EXIT_FAILED, -ENOMEM, "dump");
		}
	}
	if (c->image_path)
		ret = image_show(c, argc - optind, argv + optind, &o, arr);
	else
		ret = daemon_dump(c, argc - optind, argv + optind, &o, arr);
	json_decref(arr);
	return doc ? finish_json(doc, ret) : ret;
}

static int map_reply(struct ictl *c, json_t *r, void *arg)
{
	struct map_view *v = arg;

	if (!v->size) {
		v->size = json_incref(json_object_get(r, "size"));
		v->block_size = (uint64_t)json_integer_value(
			json_object_get(r, "block_size"));
	}
	return view_from_reply(c, v, r);
}

int cmd_map(struct ictl *c, int argc, char **argv)
{
	struct map_opts o = { 0 };
	struct map_view v = { 0 };
	json_t *doc, *arr;
	const char *why = NULL;
	char *path = NULL;
	int nargs, ret;

	ret = map_getopts(c, argc, argv, &o, false);
	if (ret)
		return ret;
	nargs = argc - optind;
	argv += optind;
	if (nargs < 1 || nargs > 3)
		return ictl_usage(c, "want INODE|PATH [OFF [LEN]]");
	if (nargs > 1) {
		if (size_parse(argv[1], &o.off, &why))
			return ictl_usage(c, "bad offset '%s': %s", argv[1],
					  why);
		o.have_range = true;
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
		ret = image_show(c, 1, argv, &o, arr);
		if (!ret && arr) {
			json_t *one = json_array_get(arr, 0);

			doc = out_doc_new(c->cmd_name);
			ret = doc ? json_object_update(doc, one) : -ENOMEM;
			json_object_set_new(doc, "source", json_string("disk"));
			json_object_set_new(doc, "units", json_string(
				o.blocks ? "blocks" : "bytes"));
			ret = finish_json(doc, ret ? -ENOMEM : 0);
		}
		json_decref(arr);
		return ret;
	}
	ret = client_resolve(c, argv[0], &v.ino, &path);
	if (ret)
		return ret;
	v.path = path;
	ret = client_call_more(c, PROTO_M_MAP,
			       range_params(&o, json_pack("{s:I}", "ino",
						(json_int_t)v.ino)),
			       map_reply, &v);
	if (!ret) {
		if (c->out_mode == ICTL_OUT_JSON) {
			arr = json_array();
			ret = arr ? view_emit(c, &v, &o, arr) : -ENOMEM;
			doc = out_doc_new(c->cmd_name);
			if (!ret && doc)
				json_object_update(doc, json_array_get(arr, 0));
			json_object_set_new(doc, "source", json_string("disk"));
			json_object_set_new(doc, "units", json_string(
				o.blocks ? "blocks" : "bytes"));
			json_decref(arr);
			ret = finish_json(doc, ret);
		} else {
			ret = view_emit(c, &v, &o, NULL);
		}
	}
	free(path);
	view_clear(&v);
	return ret;
}
