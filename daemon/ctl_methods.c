// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctl_methods.c - the methods of the control server: io.iomapfs.Cache (see
 * io.iomapfs.Cache.varlink) and org.varlink.service, one table of
 * designated initializers (name, access, parameter checks, handler) and
 * the handlers.  The transport (ctl_server.c) checks access and parameters
 * from the table before a handler runs, so a handler sees only calls it
 * may serve.  The filesystem is reached through fs_report.h only.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "ctl_conn.h"
#include "ctl_internal.h"
#include "ctl_methods.h"
#include "dirindex.h"
#include "fs.h"
#include "fs_remount.h"
#include "fs_report.h"
#include "proto.h"
#include "replay.h"
#include "varlink.h"

/* Mappings per reply when a result is streamed. */
#define CTL_CHUNK 512
/* Most mappings in one reply of a call made without "more". */
#define CTL_MAX_UNSTREAMED 4096

/* ---- JSON of the replies ----------------------------------------------- */

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *err_ino(const char *name, uint64_t ino)
{
	return ctl_reply_error(name,
			       json_pack("{s:o}", "ino", ctl_json_uint(ino)));
}

/* The error reply for a -errno from the filesystem. */
static json_t *err_from_errno(int ret, uint64_t ino, uint64_t off, uint64_t len)
{
	switch (ret) {
	case -ENOENT:
		return err_ino(PROTO_E_NO_SUCH_INODE, ino);
	case -EINVAL:
		return err_ino(PROTO_E_NOT_MAPPABLE, ino);
	case -EFBIG:
		return ctl_reply_error(PROTO_E_INVALID_RANGE,
				       json_pack("{s:o, s:o}", "offset",
						 ctl_json_uint(off), "length",
						 ctl_json_uint(len)));
	default:
		return ctl_reply_io_error(-ret);
	}
}

static json_t *limits_json(const struct cache_limits *l)
{
	return json_pack("{s:o, s:o, s:o}", PROTO_LIMIT_CACHE_MAX,
			 ctl_json_uint(l->max_bytes),
			 PROTO_LIMIT_CACHE_INODE_MAX,
			 ctl_json_uint(l->inode_max_bytes),
			 PROTO_LIMIT_EVENT_RING, ctl_json_uint(l->event_ring));
}

static double ratio(uint64_t hits, uint64_t lookups)
{
	return lookups ? (double)hits / (double)lookups : 0.0;
}

static json_t *inode_stats_json(const struct cache_inode_stats *st)
{
	return json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:f, s:o, s:o, s:o, s:o,"
		" s:o, s:o}",
		"ino", ctl_json_uint(st->ino), "cookie",
		ctl_json_uint(st->cookie), "lookups",
		ctl_json_uint(st->lookups), "hits", ctl_json_uint(st->hits),
		"misses", ctl_json_uint(st->misses), "hit_ratio",
		ratio(st->hits, st->lookups), "upserts",
		ctl_json_uint(st->upserts), "invalidations",
		ctl_json_uint(st->invalidations), "evictions",
		ctl_json_uint(st->evictions), "mappings",
		ctl_json_uint(st->mappings), "bytes", ctl_json_uint(st->bytes),
		"last_use_ns", ctl_json_uint(st->last_use_ns));
}

static json_t *dix_stats_json(const struct dix_stats *st)
{
	return json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "bytes",
		ctl_json_uint(st->bytes), "bytes_max",
		ctl_json_uint(st->bytes_max), "dirs", ctl_json_uint(st->dirs),
		"entries", ctl_json_uint(st->entries), "builds",
		ctl_json_uint(st->builds), "hits", ctl_json_uint(st->hits),
		"fallbacks", ctl_json_uint(st->fallbacks), "evictions",
		ctl_json_uint(st->evictions), "too_big",
		ctl_json_uint(st->too_big));
}

static json_t *stats_json(const struct cache_stats *st)
{
	json_t *by = json_object();
	unsigned int r;

	if (!by)
		return NULL;
	for (r = 0; r < CACHE_R_COUNT; r++) {
		const char *name = cache_reason_name(r);

		if (name &&
		    json_object_set_new(
			    by, name,
			    ctl_json_uint(st->invalidations_by_reason[r]))) {
			json_decref(by);
			return NULL;
		}
	}
	return json_pack(
		"{s:b, s:o, s:o, s:o, s:f, s:o, s:o, s:o, s:o, s:o,"
		" s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
		" s:o}",
		"enabled", st->enabled, "lookups", ctl_json_uint(st->lookups),
		"hits", ctl_json_uint(st->hits), "misses",
		ctl_json_uint(st->misses), "hit_ratio",
		ratio(st->hits, st->lookups), "source_calls",
		ctl_json_uint(st->source_calls), "source_errors",
		ctl_json_uint(st->source_errors), "upserts",
		ctl_json_uint(st->upserts), "merges", ctl_json_uint(st->merges),
		"stale_skips", ctl_json_uint(st->stale_skips), "invalidations",
		ctl_json_uint(st->invalidations), "invalidations_by_reason", by,
		"invalidated_mappings", ctl_json_uint(st->invalidated_mappings),
		"evictions", ctl_json_uint(st->evictions), "events",
		ctl_json_uint(st->events), "inodes", ctl_json_uint(st->inodes),
		"mappings", ctl_json_uint(st->mappings), "bytes",
		ctl_json_uint(st->bytes), "inodes_hwm",
		ctl_json_uint(st->inodes_hwm), "mappings_hwm",
		ctl_json_uint(st->mappings_hwm), "bytes_hwm",
		ctl_json_uint(st->bytes_hwm));
}

static json_t *mappings_json(const struct iomap *maps, size_t n)
{
	json_t *a = json_array();
	size_t i;

	if (!a)
		return NULL;
	for (i = 0; i < n; i++) {
		if (json_array_append_new(a, proto_iomap_to_json(&maps[i]))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* ---- parameters ---------------------------------------------------------- */

/* An inode number, and a byte range of it (Dump, Flush, Map). */
#define CTL_P_INO(req)                                                   \
	{                                                                \
		.name = "ino", .type = VARLINK_T_INT, .required = (req), \
		.min = 1, .max = UINT32_MAX                              \
	}
#define CTL_P_OFFSET                                               \
	{                                                          \
		.name = "offset", .type = VARLINK_T_INT, .min = 0, \
		.max = INT64_MAX                                   \
	}
#define CTL_P_LENGTH                                               \
	{                                                          \
		.name = "length", .type = VARLINK_T_INT, .min = 1, \
		.max = INT64_MAX                                   \
	}

static const struct varlink_param p_ino[] = {CTL_P_INO(false)};
static const struct varlink_param p_range[] = {CTL_P_INO(false), CTL_P_OFFSET,
					       CTL_P_LENGTH};
static const struct varlink_param p_map[] = {CTL_P_INO(true), CTL_P_OFFSET,
					     CTL_P_LENGTH};
static const struct varlink_param p_caching[] = {
	{.name = "enabled", .type = VARLINK_T_BOOL, .required = true},
};
static const struct varlink_param p_limits[] = {
	{.name = PROTO_LIMIT_CACHE_MAX,
	 .type = VARLINK_T_INT,
	 .min = CACHE_MIN_MAX_BYTES,
	 .max = INT64_MAX},
	{.name = PROTO_LIMIT_CACHE_INODE_MAX,
	 .type = VARLINK_T_INT,
	 .min = CACHE_MIN_INODE_MAX_BYTES,
	 .max = INT64_MAX},
	{.name = PROTO_LIMIT_EVENT_RING,
	 .type = VARLINK_T_INT,
	 .min = CACHE_MIN_EVENT_RING,
	 .max = CACHE_MAX_EVENT_RING},
};
static const struct varlink_param p_watch[] = {
	{.name = "count", .type = VARLINK_T_INT, .min = 1, .max = INT64_MAX},
};
static const struct varlink_param p_read_only[] = {
	{.name = "readonly", .type = VARLINK_T_BOOL, .required = true},
};
static const struct varlink_param p_describe[] = {
	{.name = "interface", .type = VARLINK_T_STRING, .required = true},
};

/* The range [offset, offset + length - 1] of a call; length 0: to EOF. */
static void get_range(const json_t *params, uint64_t *off, uint64_t *len)
{
	int64_t v;

	*off = varlink_param_int(params, "offset", &v) ? (uint64_t)v : 0;
	*len = varlink_param_int(params, "length", &v) ? (uint64_t)v : 0;
}

/* Offset and length make sense only with an inode. */
static json_t *check_range_needs_ino(const json_t *params, bool more)
{
	int64_t v;

	if (varlink_param_int(params, "ino", &v))
		return NULL;
	if (json_object_get(params, "offset") &&
	    !json_is_null(json_object_get(params, "offset")))
		return varlink_reply_invalid_parameter("offset");
	if (json_object_get(params, "length") &&
	    !json_is_null(json_object_get(params, "length")))
		return varlink_reply_invalid_parameter("length");
	return NULL;
}

/* Dump without an inode reports every cached inode: a stream. */
static json_t *check_dump(const json_t *params, bool more)
{
	json_t *bad = check_range_needs_ino(params, more);
	int64_t ino;

	if (bad || more || varlink_param_int(params, "ino", &ino))
		return bad;
	return ctl_reply_error(VARLINK_E_EXPECTED_MORE, NULL);
}

static json_t *check_more(const json_t *params, bool more)
{
	return more ? NULL : ctl_reply_error(VARLINK_E_EXPECTED_MORE, NULL);
}

/* ---- short methods (poll thread) ---------------------------------------- */

static json_t *m_get_info(struct ctl_conn *c, const json_t *params)
{
	return varlink_reply_new(
		json_pack("{s:s, s:s, s:s, s:s, s:[s, s]}", "vendor",
			  PROTO_VENDOR, "product", PROTO_PRODUCT, "version",
			  PACKAGE_VERSION, "url", PROTO_URL, "interfaces",
			  VARLINK_SERVICE, PROTO_INTERFACE),
		NULL, false);
}

static const char ctl_service_idl[] =
	"# The Varlink Service Interface is provided by every varlink "
	"service. It\n"
	"# describes the service and the interfaces it implements.\n"
	"interface org.varlink.service\n\n"
	"# Get a list of all the interfaces a service provides and "
	"information\n# about the implementation.\n"
	"method GetInfo() -> (\n  vendor: string,\n  product: string,\n"
	"  version: string,\n  url: string,\n  interfaces: []string\n)\n\n"
	"# Get the description of an interface that is implemented by this "
	"service.\n"
	"method GetInterfaceDescription(interface: string) -> "
	"(description: string)\n\n"
	"# The requested interface was not found.\n"
	"error InterfaceNotFound (interface: string)\n\n"
	"# The requested method was not found\n"
	"error MethodNotFound (method: string)\n\n"
	"# The interface defines the requested method, but the service does "
	"not\n# implement it.\n"
	"error MethodNotImplemented (method: string)\n\n"
	"# One of the passed parameters is invalid.\n"
	"error InvalidParameter (parameter: string)\n\n"
	"# Client is denied access\n"
	"error PermissionDenied ()\n\n"
	"# Method is expected to be called with 'more' set to true, but "
	"wasn't\n"
	"error ExpectedMore ()\n";

/* The interface description, from io.iomapfs.Cache.varlink at build time
 * (ctl-idl.c). */
extern const char ctl_idl_text[];

static json_t *m_get_interface_description(struct ctl_conn *c,
					   const json_t *params)
{
	const char *name =
		json_string_value(json_object_get(params, "interface"));
	const char *text;

	if (!strcmp(name, PROTO_INTERFACE))
		text = ctl_idl_text;
	else if (!strcmp(name, VARLINK_SERVICE))
		text = ctl_service_idl;
	else
		return ctl_reply_error(VARLINK_E_INTERFACE_NOT_FOUND,
				       json_pack("{s:s}", "interface", name));
	return varlink_reply_new(json_pack("{s:s}", "description", text), NULL,
				 false);
}

static json_t *m_get_status(struct ctl_conn *c, const json_t *params)
{
	struct ctl_server *srv = c->srv;
	struct iomapfs *fsx = srv->fsx;
	char start[PROTO_RFC3339_SIZE];
	struct cache_limits lim;
	uint64_t start_ns, now;
	json_t *p;

	start_ns = (uint64_t)fsx->start_time.tv_sec * 1000000000u +
		   (uint64_t)fsx->start_time.tv_nsec;
	now = realtime_ns();
	cache_get_limits(fsx->cache, &lim);
	p = json_pack(
		"{s:s, s:s, s:s, s:o, s:o, s:o, s:i, s:b, s:b, s:o,"
		" s:o, s:s, s:i, s:o, s:s, s:s, s:s, s:s}",
		"image", fsx->source ? fsx->source : "", "mountpoint",
		fsx->mountpoint ? fsx->mountpoint : "", "socket", srv->path,
		"uuid", jstr_or_null(srv->uuid), "label",
		jstr_or_null(srv->label), "fstype", jstr_or_null(srv->fstype),
		"block_size", (int)fsx->blocksize, "read_only", fsx->ro_now,
		"caching", cache_enabled(fsx->cache), "limits",
		limits_json(&lim), "uptime_ns",
		ctl_json_uint(now > start_ns ? now - start_ns : 0),
		"start_time",
		proto_time_rfc3339(start_ns, start, sizeof(start)), "pid",
		(int)getpid(), "owner_uid", ctl_json_uint(fsx->owner_uid),
		"version", PACKAGE_VERSION, "fuse_version", fuse_pkgversion(),
		"ext2fs_version", fs_report_lib_version(), "access",
		c->access == CTL_ACCESS_ADMIN ? "admin" : "read-only");
	return varlink_reply_new(p, NULL, false);
}

static json_t *m_get_stats(struct ctl_conn *c, const json_t *params)
{
	struct cache *cache = c->srv->fsx->cache;
	struct cache_inode_stats ist;
	struct cache_stats st;
	int64_t ino;
	json_t *p;

	cache_get_stats(cache, &st);
	p = json_pack("{s:o}", "stats", stats_json(&st));
	if (!p)
		return NULL;
	if (c->srv->fsx->dix) {
		struct dix_stats ds;

		fs_lock(c->srv->fsx);
		dix_get_stats(c->srv->fsx->dix, &ds);
		fs_unlock(c->srv->fsx);
		if (json_object_set_new(p, "dir_index", dix_stats_json(&ds))) {
			json_decref(p);
			return NULL;
		}
	}
	if (varlink_param_int(params, "ino", &ino)) {
		if (cache_get_inode_stats(cache, (uint64_t)ino, &ist)) {
			json_decref(p);
			return err_ino(PROTO_E_NOT_CACHED, (uint64_t)ino);
		}
		if (json_object_set_new(p, "inode", inode_stats_json(&ist))) {
			json_decref(p);
			return NULL;
		}
	}
	return varlink_reply_new(p, NULL, false);
}

static json_t *m_reset_stats(struct ctl_conn *c, const json_t *params)
{
	cache_reset_stats(c->srv->fsx->cache);
	if (c->srv->fsx->dix) {
		fs_lock(c->srv->fsx);
		dix_reset_stats(c->srv->fsx->dix);
		fs_unlock(c->srv->fsx);
	}
	return varlink_reply_new(NULL, NULL, false);
}

static json_t *m_flush(struct ctl_conn *c, const json_t *params)
{
	uint64_t off, len;
	int64_t ino = 0, n;

	varlink_param_int(params, "ino", &ino);
	get_range(params, &off, &len);
	n = cache_flush(c->srv->fsx->cache, (uint64_t)ino, off,
			len ? len : UINT64_MAX);
	if (n == -ENOENT)
		return err_ino(PROTO_E_NOT_CACHED, (uint64_t)ino);
	if (n < 0)
		return ctl_reply_io_error((int)-n);
	return varlink_reply_new(
		json_pack("{s:o}", "flushed", ctl_json_uint(n)), NULL, false);
}

static json_t *m_set_caching(struct ctl_conn *c, const json_t *params)
{
	bool on = false, prev;

	varlink_param_bool(params, "enabled", &on);
	prev = cache_set_enabled(c->srv->fsx->cache, on);
	return varlink_reply_new(
		json_pack("{s:b, s:b}", "enabled", on, "previous", prev), NULL,
		false);
}

/* The journal as the mount found it, and what the mount did (replay.h):
 * state kept since the mount, no filesystem access. */
static json_t *m_get_journal(struct ctl_conn *c, const json_t *params)
{
	(void)params;
	return varlink_reply_new(replay_describe(c->srv->fsx), NULL, false);
}

static json_t *m_get_limits(struct ctl_conn *c, const json_t *params)
{
	struct cache_limits lim;

	cache_get_limits(c->srv->fsx->cache, &lim);
	return varlink_reply_new(
		json_pack("{s:o}", "limits", limits_json(&lim)), NULL, false);
}

static const char *first_given(const json_t *params)
{
	size_t i;

	for (i = 0; i < sizeof(p_limits) / sizeof(p_limits[0]); i++)
		if (json_object_get(params, p_limits[i].name))
			return p_limits[i].name;
	return PROTO_LIMIT_CACHE_MAX;
}

static json_t *m_set_limits(struct ctl_conn *c, const json_t *params)
{
	struct cache *cache = c->srv->fsx->cache;
	struct cache_limits lim;
	int64_t v;

	cache_get_limits(cache, &lim);
	if (varlink_param_int(params, PROTO_LIMIT_CACHE_MAX, &v))
		lim.max_bytes = (uint64_t)v;
	if (varlink_param_int(params, PROTO_LIMIT_CACHE_INODE_MAX, &v))
		lim.inode_max_bytes = (uint64_t)v;
	if (varlink_param_int(params, PROTO_LIMIT_EVENT_RING, &v))
		lim.event_ring = (uint32_t)v;
	/* Each value passed its range check; what the cache can still
	 * refuse is a combination, so name the first value given. */
	if (cache_set_limits(cache, &lim))
		return varlink_reply_invalid_parameter(first_given(params));
	cache_get_limits(cache, &lim);
	return varlink_reply_new(
		json_pack("{s:o}", "limits", limits_json(&lim)), NULL, false);
}

/* A worker: going read-only writes everything out, which may take a
 * while, and the poll thread must not wait for the disk. */
static int w_set_read_only(struct ctl_conn *c, const json_t *params, bool more)
{
	bool ro = false, was_ro = false;
	char why[160];
	int ret;

	varlink_param_bool(params, "readonly", &ro);
	ret = fs_remount(c->srv->fsx, ro, &was_ro, why, sizeof(why));
	if (ret == -EBUSY || ret == -EROFS || ret == -EUCLEAN)
		return ctl_send_wait(
			c, ctl_reply_error(PROTO_E_REMOUNT_REFUSED,
					   json_pack("{s:i, s:s}", "errno",
						     -ret, "reason", why)));
	if (ret)
		return ctl_send_wait(c, ctl_reply_io_error(-ret));
	return ctl_send_wait(
		c, varlink_reply_new(json_pack("{s:b, s:b}", "readonly", ro,
					       "previous", was_ro),
				     NULL, false));
}

/* ---- Dump -------------------------------------------------------------- */

struct dump_ctx {
	struct ctl_conn *c;
	struct ctl_stream s;
	struct fs_report_paths *paths; /* NULL until a path is wanted */
	uint64_t off, len;	       /* len UINT64_MAX: to the end */
	bool more;
	int sent;
};

static int dump_one(void *arg, const struct cache_inode_stats *st,
		    const struct iomap *maps, size_t n)
{
	struct dump_ctx *d = arg;
	struct ctl_server *srv = d->c->srv;
	struct fs_report_inode ri;
	bool have_size;
	char *path = NULL;
	size_t i = 0, chunk;

	if (!d->more && n > CTL_MAX_UNSTREAMED)
		return -E2BIG;
	/* A file that cannot be read or named still has its mappings
	 * reported, with a null size or path. */
	have_size = !fs_report_inode(srv->fsx, st->ino, &ri);
	if (have_size && !d->paths)
		d->paths = fs_report_paths_new();
	if (have_size && d->paths &&
	    fs_report_path(srv->fsx, d->paths, st->ino, ri.is_dir, &path))
		path = NULL;
	do {
		json_t *p;

		chunk = d->more ? n - i : n;
		if (chunk > CTL_CHUNK && d->more)
			chunk = CTL_CHUNK;
		p = json_pack("{s:o, s:o, s:o, s:i, s:o, s:o}", "ino",
			      ctl_json_uint(st->ino), "path",
			      jstr_or_null(path), "size",
			      have_size ? ctl_json_uint(ri.size) : json_null(),
			      "block_size", (int)srv->fsx->blocksize,
			      "mappings", mappings_json(maps + i, chunk),
			      "stats", inode_stats_json(st));
		if (ctl_stream_push(&d->s, p))
			break;
		i += chunk;
	} while (i < n);
	free(path);
	d->sent++;
	return d->s.ret;
}

static int w_dump(struct ctl_conn *c, const json_t *params, bool more)
{
	struct dump_ctx d = {.c = c, .s = {.c = c}, .more = more};
	int64_t ino = 0;
	int ret;

	varlink_param_int(params, "ino", &ino);
	get_range(params, &d.off, &d.len);
	ret = cache_dump(c->srv->fsx->cache, (uint64_t)ino, d.off,
			 d.len ? d.len : UINT64_MAX, dump_one, &d);
	fs_report_paths_free(d.paths);
	if (ret == -EPIPE || d.s.ret == -EPIPE) {
		ctl_stream_end(&d.s, NULL);
		return -EPIPE;
	}
	if (ret) {
		ctl_stream_drop(&d.s);
		if (ret == -ENOENT)
			return ctl_send_wait(
				c, err_ino(PROTO_E_NOT_CACHED, (uint64_t)ino));
		if (ret == -E2BIG)
			return ctl_send_wait(
				c,
				ctl_reply_error(VARLINK_E_EXPECTED_MORE, NULL));
		return ctl_send_wait(c, ctl_reply_io_error(-ret));
	}
	if (!d.sent)
		ctl_stream_push(&d.s,
				json_pack("{s:n, s:n, s:n, s:i, s:[]}", "ino",
					  "path", "size", "block_size",
					  (int)c->srv->fsx->blocksize,
					  "mappings"));
	return ctl_stream_end(&d.s, NULL);
}

/* ---- Map --------------------------------------------------------------- */

struct map_chunk {
	struct iomap *maps;
	size_t n, max;
};

static int map_collect(const struct iomap *m, void *arg)
{
	struct map_chunk *ch = arg;

	if (ch->n == ch->max)
		return 1; /* full: the walk resumes after the last one */
	ch->maps[ch->n++] = *m;
	return 0;
}

static int w_map(struct ctl_conn *c, const json_t *params, bool more)
{
	struct iomapfs *fsx = c->srv->fsx;
	struct ctl_stream s = {.c = c};
	struct map_chunk ch = {0};
	struct fs_report_inode ri;
	uint64_t off, len, end, pos;
	int64_t ino = 0;
	int ret;

	varlink_param_int(params, "ino", &ino);
	get_range(params, &off, &len);
	/* end is exclusive, 0 meaning "to EOF and past to the last extent"
	 * as iomap_ext2_walk() takes it. */
	end = len ? off + len : 0;
	ret = fs_report_inode(fsx, (uint64_t)ino, &ri);
	if (ret == -ENOENT || (!ret && !ri.in_use))
		return ctl_send_wait(
			c, err_ino(PROTO_E_NO_SUCH_INODE, (uint64_t)ino));
	if (ret)
		return ctl_send_wait(c, ctl_reply_io_error(-ret));
	ch.max = more ? CTL_CHUNK : CTL_MAX_UNSTREAMED + 1;
	ch.maps = calloc(ch.max, sizeof(*ch.maps));
	if (!ch.maps)
		return ctl_send_wait(c, ctl_reply_io_error(ENOMEM));
	pos = off;
	for (;;) {
		ch.n = 0;
		ret = fs_report_map(fsx, (uint64_t)ino, pos,
				    end ? end - pos : 0, map_collect, &ch);
		if (ret < 0) {
			ctl_stream_drop(&s);
			ret = ctl_send_wait(c,
					    err_from_errno(ret, ino, off, len));
			goto out_free;
		}
		if (!more && ch.n > CTL_MAX_UNSTREAMED) {
			ret = ctl_send_wait(
				c,
				ctl_reply_error(VARLINK_E_EXPECTED_MORE, NULL));
			goto out_free;
		}
		if (ch.n || !s.pending) {
			if (ctl_stream_push(
				    &s,
				    json_pack("{s:o, s:o, s:i, s:o}", "ino",
					      ctl_json_uint(ino), "size",
					      ctl_json_uint(ri.size),
					      "block_size", (int)fsx->blocksize,
					      "mappings",
					      mappings_json(ch.maps, ch.n))))
				break;
		}
		if (ret == 0 || ch.n == 0)
			break;
		/* The walk stopped because the chunk was full. */
		pos = iomap_last(&ch.maps[ch.n - 1]);
		if (pos == UINT64_MAX || (end && pos + 1 >= end))
			break;
		pos++;
	}
	ret = ctl_stream_end(&s, NULL);
out_free:
	free(ch.maps);
	return ret;
}

/* ---- Audit ------------------------------------------------------------- */

static int audit_one(void *arg, uint64_t ino, const struct iomap *cached,
		     const struct iomap *disk)
{
	struct ctl_stream *s = arg;

	return ctl_stream_push(s, json_pack("{s:{s:o, s:o, s:o}}", "difference",
					    "ino", ctl_json_uint(ino), "cached",
					    proto_iomap_to_json(cached), "disk",
					    proto_iomap_to_json(disk)));
}

static int w_audit(struct ctl_conn *c, const json_t *params, bool more)
{
	struct cache_audit_summary sum = {0};
	struct ctl_stream s = {.c = c};
	int64_t ino = 0;
	int ret;

	varlink_param_int(params, "ino", &ino);
	ret = cache_audit(c->srv->fsx->cache, (uint64_t)ino, audit_one, &s,
			  &sum);
	if (ret == -ENOENT) {
		ctl_stream_end(&s, NULL);
		return ctl_send_wait(
			c, err_ino(PROTO_E_NOT_CACHED, (uint64_t)ino));
	}
	if (ret || s.ret) {
		ctl_stream_end(&s, NULL);
		return ret ? ret : s.ret;
	}
	return ctl_stream_end(
		&s, json_pack("{s:{s:o, s:o, s:o, s:o, s:o}}", "summary",
			      "inodes", ctl_json_uint(sum.inodes), "mappings",
			      ctl_json_uint(sum.mappings), "mismatches",
			      ctl_json_uint(sum.mismatches), "skipped",
			      ctl_json_uint(sum.skipped), "errors",
			      ctl_json_uint(sum.errors)));
}

/* ---- Watch (poll thread) ------------------------------------------------ */

static int m_watch(struct ctl_conn *c, const json_t *params, bool more)
{
	int64_t count = 0;

	varlink_param_int(params, "count", &count);
	return ctl_watch_start(c, (uint64_t)count);
}

/* ---- events ---------------------------------------------------------- */

json_t *ctl_event_json(const struct cache_event *ev)
{
	char tbuf[PROTO_RFC3339_SIZE];
	const char *type = cache_event_name(ev->type);
	json_t *e;

	e = json_pack(
		"{s:o, s:o, s:s, s:s, s:o, s:o, s:o}", "seq",
		ctl_json_uint(ev->seq), "time_ns", ctl_json_uint(ev->time_ns),
		"time", proto_time_rfc3339(ev->time_ns, tbuf, sizeof(tbuf)),
		"type", type ? type : "unknown", "ino", ctl_json_uint(ev->ino),
		"offset", ctl_json_uint(ev->offset), "length",
		ev->length == UINT64_MAX ? json_null()
					 : ctl_json_uint(ev->length));
	if (!e)
		return NULL;
	if (ev->type == CACHE_EV_INVALIDATE) {
		const char *why = cache_reason_name(ev->reason);

		if (json_object_set_new(e, "reason",
					json_string(why ? why : "unknown")))
			goto out_free;
	}
	if ((ev->type == CACHE_EV_UPSERT || ev->type == CACHE_EV_EVICT) &&
	    json_object_set_new(e, "mapping", proto_iomap_to_json(&ev->map)))
		goto out_free;
	return e;
out_free:
	json_decref(e);
	return NULL;
}

/* ---- the method table -------------------------------------------------- */

/* The number of entries of the parameter array @p. */
#define CTL_NPARAMS(p) (sizeof(p) / sizeof((p)[0]))

/* Sorted by name, as strcmp() orders them (t4160 checks it). */
const struct ctl_method ctl_methods[] = {
	{.name = PROTO_M_AUDIT,
	 .access = CTL_ACCESS_READ,
	 .params = p_ino,
	 .nparams = CTL_NPARAMS(p_ino),
	 .check = check_more,
	 .worker = w_audit},
	{.name = PROTO_M_DUMP,
	 .access = CTL_ACCESS_READ,
	 .params = p_range,
	 .nparams = CTL_NPARAMS(p_range),
	 .check = check_dump,
	 .worker = w_dump},
	{.name = PROTO_M_FLUSH,
	 .access = CTL_ACCESS_ADMIN,
	 .params = p_range,
	 .nparams = CTL_NPARAMS(p_range),
	 .check = check_range_needs_ino,
	 .reply = m_flush},
	{.name = PROTO_M_GET_JOURNAL,
	 .access = CTL_ACCESS_READ,
	 .reply = m_get_journal},
	{.name = PROTO_M_GET_LIMITS,
	 .access = CTL_ACCESS_READ,
	 .reply = m_get_limits},
	{.name = PROTO_M_GET_STATS,
	 .access = CTL_ACCESS_READ,
	 .params = p_ino,
	 .nparams = CTL_NPARAMS(p_ino),
	 .reply = m_get_stats},
	{.name = PROTO_M_GET_STATUS,
	 .access = CTL_ACCESS_READ,
	 .reply = m_get_status},
	{.name = PROTO_M_MAP,
	 .access = CTL_ACCESS_READ,
	 .params = p_map,
	 .nparams = CTL_NPARAMS(p_map),
	 .worker = w_map},
	{.name = PROTO_M_RESET_STATS,
	 .access = CTL_ACCESS_ADMIN,
	 .reply = m_reset_stats},
	{.name = PROTO_M_SET_CACHING,
	 .access = CTL_ACCESS_ADMIN,
	 .params = p_caching,
	 .nparams = CTL_NPARAMS(p_caching),
	 .reply = m_set_caching},
	{.name = PROTO_M_SET_LIMITS,
	 .access = CTL_ACCESS_ADMIN,
	 .params = p_limits,
	 .nparams = CTL_NPARAMS(p_limits),
	 .reply = m_set_limits},
	{.name = PROTO_M_SET_READ_ONLY,
	 .access = CTL_ACCESS_ADMIN,
	 .params = p_read_only,
	 .nparams = CTL_NPARAMS(p_read_only),
	 .worker = w_set_read_only},
	{.name = PROTO_M_WATCH,
	 .access = CTL_ACCESS_READ,
	 .params = p_watch,
	 .nparams = CTL_NPARAMS(p_watch),
	 .check = check_more,
	 .poll = m_watch},
	{.name = VARLINK_M_GET_INFO,
	 .access = CTL_ACCESS_READ,
	 .reply = m_get_info},
	{.name = VARLINK_M_GET_INTERFACE_DESCRIPTION,
	 .access = CTL_ACCESS_READ,
	 .params = p_describe,
	 .nparams = CTL_NPARAMS(p_describe),
	 .reply = m_get_interface_description},
};

const size_t ctl_methods_count = sizeof(ctl_methods) / sizeof(ctl_methods[0]);

static int method_cmp(const void *key, const void *elem)
{
	const struct ctl_method *m = elem;

	return strcmp(key, m->name);
}

const struct ctl_method *ctl_method_find(const char *name)
{
	return bsearch(name, ctl_methods, ctl_methods_count,
		       sizeof(ctl_methods[0]), method_cmp);
}
