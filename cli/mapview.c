// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mapview.c - one inode's mappings as iomapctl shows them (mapview.h):
 * collected from daemon replies or walked in an --image, printed as a
 * header line and a table, or as JSON.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "image.h"
#include "mapview.h"
#include "output.h"
#include "proto.h"

enum {
	COL_INO,
	COL_OFFSET,
	COL_LENGTH,
	COL_END,
	COL_TYPE,
	COL_ADDR,
	COL_FLAGS
};

static const struct out_col map_cols[] = {
	[COL_INO] = {"INO", "inode number", OUT_C_RIGHT | OUT_C_EXTRA},
	[COL_OFFSET] = {"OFFSET", "first file byte (or block) mapped",
			OUT_C_RIGHT},
	[COL_LENGTH] = {"LENGTH", "bytes (or blocks) mapped", OUT_C_RIGHT},
	[COL_END] = {"END", "last file byte (or block) mapped",
		     OUT_C_RIGHT | OUT_C_EXTRA},
	[COL_TYPE] = {"TYPE", "HOLE, DELALLOC, MAPPED, UNWRITTEN or INLINE", 0},
	[COL_ADDR] = {"ADDR", "device byte (or block) address; - for none",
		      OUT_C_RIGHT},
	[COL_FLAGS] = {"FLAGS", "NEW, DIRTY, SHARED, MERGED, LAST", 0},
};

void mapview_clear(struct mapview *v)
{
	json_decref(v->size);
	json_decref(v->hits);
	json_decref(v->misses);
	free(v->maps);
	memset(v, 0, sizeof(*v));
}

static int mapview_add(struct mapview *v, const struct iomap *m)
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
static uint64_t mapview_unit(const struct mapview_opts *o,
			     const struct mapview *v, uint64_t bytes)
{
	return o->blocks && v->block_size ? bytes / v->block_size : bytes;
}

static int mapview_table(struct ictl *c, const struct mapview *v,
			 const struct mapview_opts *o, struct out_table **tp)
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
		uint64_t len = mapview_unit(o, v, m->length);

		/* a partial last block still counts as one block */
		if (o->blocks && v->block_size && m->length % v->block_size)
			len++;
		ret = out_row(t);
		ret = ret ?: out_set_u64(t, COL_INO, v->ino, false);
		ret = ret
			      ?: out_set_u64(t, COL_OFFSET,
					     mapview_unit(o, v, m->offset),
					     hex);
		ret = ret ?: out_set_u64(t, COL_LENGTH, len, hex);
		ret = ret
			      ?: out_set_u64(t, COL_END,
					     mapview_unit(o, v, iomap_last(m)),
					     hex);
		ret = ret ?: out_set_str(t, COL_TYPE, type ? type : "?");
		if (!ret && iomap_type_has_addr(m->type))
			ret = out_set_u64(t, COL_ADDR,
					  mapview_unit(o, v, m->addr), hex);
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

static void mapview_print_num(const char *key, json_t *v)
{
	if (json_is_integer(v))
		printf("  %s %" JSON_INTEGER_FORMAT, key,
		       json_integer_value(v));
	else
		printf("  %s -", key);
}

int mapview_emit(struct ictl *c, const struct mapview *v,
		 const struct mapview_opts *o, json_t *arr)
{
	struct out_table *t;
	json_t *obj, *rows;
	int ret;

	ret = mapview_table(c, v, o, &t);
	if (ret)
		return ret;
	if (arr) {
		rows = out_table_json(t);
		obj = json_pack(
			"{s:I, s:s?, s:O?, s:I, s:I, s:O?, s:O?, s:o?}", "ino",
			(json_int_t)v->ino, "path", v->path, "size",
			v->size ? v->size : json_null(), "block_size",
			(json_int_t)v->block_size, "maps", (json_int_t)v->n,
			"hits", v->hits ? v->hits : json_null(), "misses",
			v->misses ? v->misses : json_null(), "mappings", rows);
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
		mapview_print_num("size", v->size);
		printf("  block_size %" PRIu64 "  maps %zu", v->block_size,
		       v->n);
		mapview_print_num("hits", v->hits);
		mapview_print_num("misses", v->misses);
		if (o->blocks)
			printf("  (units: blocks)");
		printf("\n");
	}
	ret = out_table_print(c, t);
	out_table_free(t);
	return ret;
}

/* ---- image mode --------------------------------------------------------- */

static int mapview_collect(const struct iomap *m, void *arg)
{
	return mapview_add(arg, m);
}

static int mapview_image_one(struct ictl *c, const char *arg,
			     const struct mapview_opts *o, struct mapview *v)
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
					 "%s",
					 ino, c->image_path);
		if (ret == -EINVAL)
			return ictl_fail(c, ICTL_EXIT_FAILED, ret,
					 "inode %" PRIu64 " is out of range "
					 "in %s",
					 ino, c->image_path);
		return ictl_errno(c, ICTL_EXIT_FAILED, ret, "inode %" PRIu64,
				  ino);
	}
	v->ino = ino;
	v->path = path;
	v->size = json_integer((json_int_t)size);
	v->block_size = image_block_size(c->image);
	ret = image_walk(c->image, (uint32_t)ino, o->off, o->len,
			 mapview_collect, v);
	if (ret == -EINVAL)
		return ictl_fail(c, ICTL_EXIT_FAILED, ret,
				 "inode %" PRIu64 " has no mappings (device, "
				 "fifo, socket or fast symlink)",
				 ino);
	if (ret == -EFBIG)
		return ictl_fail(c, ICTL_EXIT_FAILED, ret,
				 "offset 0x%" PRIx64 " is past the largest "
				 "file size",
				 o->off);
	if (ret)
		return ictl_errno(c, ICTL_EXIT_FAILED, ret,
				  "mappings of inode %" PRIu64, ino);
	return 0;
}

int mapview_image(struct ictl *c, int nargs, char **args,
		  const struct mapview_opts *o, json_t *arr)
{
	int i, ret;

	ret = client_image(c);
	if (ret)
		return ret;
	for (i = 0; i < nargs; i++) {
		struct mapview v = {0};

		ret = mapview_image_one(c, args[i], o, &v);
		if (!ret) {
			if (i && !arr)
				printf("\n");
			ret = mapview_emit(c, &v, o, arr);
		}
		free((char *)v.path);
		mapview_clear(&v);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- daemon mode -------------------------------------------------------- */

int mapview_from_reply(struct ictl *c, struct mapview *v, json_t *r)
{
	json_t *maps = json_object_get(r, "mappings"), *m;
	char why[160];
	size_t i;

	if (!json_is_array(maps))
		return ictl_fail(c, ICTL_EXIT_DAEMON, -EPROTO,
				 "reply without mappings");
	json_array_foreach(maps, i, m)
	{
		struct iomap im;

		if (proto_iomap_from_json(m, &im, why, sizeof(why)))
			return ictl_fail(c, ICTL_EXIT_DAEMON, -EPROTO,
					 "bad mapping in reply: %s", why);
		if (mapview_add(v, &im))
			return ictl_errno(c, ICTL_EXIT_FAILED, -ENOMEM,
					  "mappings");
	}
	return 0;
}

json_t *mapview_range_params(const struct mapview_opts *o, json_t *p)
{
	if (!p)
		return NULL;
	if (o->range) {
		json_object_set_new(p, "offset",
				    json_integer((json_int_t)o->off));
		if (o->len)
			json_object_set_new(p, "length",
					    json_integer((json_int_t)o->len));
	}
	return p;
}

int mapview_finish_json(json_t *doc, int ret)
{
	if (ret) {
		json_decref(doc);
		return ret;
	}
	return ictl_doc_print(doc);
}

void mapview_describe(const struct iomap *m, char *buf, size_t size)
{
	char flags[96];
	const char *type = iomap_type_name(m->type);
	int n;

	if (iomap_type_has_addr(m->type))
		n = snprintf(buf, size, "%s@0x%" PRIx64, type, m->addr);
	else
		n = snprintf(buf, size, "%s", type ? type : "?");
	if (iomap_flags_format(m->flags, flags, sizeof(flags)) > 0 && n >= 0 &&
	    (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " %s", flags);
}
