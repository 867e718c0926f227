/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mapview.h - one inode's mappings as iomapctl shows them, for `dump` and
 * `map`: per inode, one header line and a table of OFFSET, LENGTH, TYPE,
 * ADDR, FLAGS in hex bytes, like the kernel's iomap tracepoints, or in
 * filesystem blocks with --blocks, like `debugfs -R ex`; or the same as a
 * JSON object.  The mappings come from daemon replies or, with --image,
 * from the shared mapping source.
 */
#ifndef IOMAPCTL_MAPVIEW_H
#define IOMAPCTL_MAPVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ictl.h"
#include "iomap.h"

/* One inode's mappings, from the daemon or from the image. */
struct mapview {
	uint64_t ino;
	const char *path; /* or NULL */
	json_t *size;	  /* integer or NULL (unknown) */
	uint64_t block_size;
	json_t *hits;	/* integer or NULL */
	json_t *misses; /* integer or NULL */
	struct iomap *maps;
	size_t n, cap;
};

/* What to show of it. */
struct mapview_opts {
	bool blocks;	   /* units of filesystem blocks */
	bool range;	   /* only [off, off + len - 1]: */
	uint64_t off, len; /* len 0: to the end */
};

/* Drop the mappings and references of @v and zero it (not v->path). */
void mapview_clear(struct mapview *v);

/*
 * Add the mappings of a reply's "mappings" array to @v.  Returns 0, or
 * -errno after an error naming what was wrong with the reply.
 */
int mapview_from_reply(struct ictl *c, struct mapview *v, json_t *r);

/*
 * Print @v for people (after a blank line when it is not the first), or
 * add it to the JSON array @arr.  Returns 0 or -errno.
 */
int mapview_emit(struct ictl *c, const struct mapview *v,
		 const struct mapview_opts *o, json_t *arr);

/*
 * The mappings on disk in the --image of @c of the @nargs INODE|PATH
 * arguments @args, each printed or added to @arr as mapview_emit() does.
 * Returns 0 or -errno after a message.
 */
int mapview_image(struct ictl *c, int nargs, char **args,
		  const struct mapview_opts *o, json_t *arr);

/* Add "offset" and "length" of @o's range to the call parameters @p. */
json_t *mapview_range_params(const struct mapview_opts *o, json_t *p);

/* Print @doc when @ret is 0, else drop it; returns @ret or the print's. */
int mapview_finish_json(json_t *doc, int ret);

/* "MAPPED@0x1000 NEW|LAST": one mapping in a cell of audit and watch. */
void mapview_describe(const struct iomap *m, char *buf, size_t size);

#endif /* IOMAPCTL_MAPVIEW_H */
