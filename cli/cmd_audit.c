// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_audit.c - the commands that check and follow the cache: `audit`
 * (every cached mapping against the disk; exit 4 on a difference) and
 * `watch` (the stream of cache events, until a count, a duration or ^C).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "client.h"
#include "output.h"
#include "proto.h"
#include "size.h"

enum { ACOL_INO, ACOL_OFFSET, ACOL_LENGTH, ACOL_CACHED, ACOL_DISK };

static const struct out_col audit_cols[] = {
	[ACOL_INO] = { "INO", "inode number", OUT_C_RIGHT },
	[ACOL_OFFSET] = { "OFFSET", "first file byte that differs",
			  OUT_C_RIGHT },
	[ACOL_LENGTH] = { "LENGTH", "bytes that differ", OUT_C_RIGHT },
	[ACOL_CACHED] = { "CACHED", "the cached mapping: TYPE@ADDR FLAGS", 0 },
	[ACOL_DISK] = { "DISK", "what the disk holds: TYPE@ADDR FLAGS", 0 },
};

struct audit_state {
	struct out_table *t;
	json_t *diffs;		/* -J */
	json_t *summary;	/* sum over the calls */
};

static void audit_describe(const struct iomap *m, char *buf, size_t size)
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

static int audit_reply(struct ictl *c, json_t *r, void *arg)
{
	struct audit_state *st = arg;
	json_t *d = json_object_get(r, "difference");
	json_t *s = json_object_get(r, "summary");
	const char *key;
	json_t *v;

	if (json_is_object(d)) {
		struct iomap cm, dm;
		char why[160], cb[160], db[160];
		json_int_t ino = json_integer_value(json_object_get(d, "ino"));
		int ret;

		if (proto_iomap_from_json(json_object_get(d, "cached"), &cm,
					  why, sizeof(why)) ||
		    proto_iomap_from_json(json_object_get(d, "disk"), &dm,
					  why, sizeof(why)))
			return ictl_fail(c, ICTL_EXIT_DAEMON, -EPROTO,
					 "bad Audit reply: %s", why);
		if (st->diffs && json_array_append(st->diffs, d))
			return -ENOMEM;
		audit_describe(&cm, cb, sizeof(cb));
		audit_describe(&dm, db, sizeof(db));
		ret = out_row(st->t);
		ret = ret ?: out_set_s64(st->t, ACOL_INO, ino);
		ret = ret ?: out_set_u64(st->t, ACOL_OFFSET, cm.offset, true);
		ret = ret ?: out_set_u64(st->t, ACOL_LENGTH, cm.length, true);
		ret = ret ?: out_set_json(st->t, ACOL_CACHED,
					  json_incref(json_object_get(d,
						"cached")), cb);
		ret = ret ?: out_set_json(st->t, ACOL_DISK,
					  json_incref(json_object_get(d,
						"disk")), db);
		if (ret)
			return ret;
	}
	if (json_is_object(s)) {
		json_object_foreach(s, key, v) {
			json_int_t sum = json_integer_value(
				json_object_get(st->summary, key));

			json_object_set_new(st->summary, key, json_integer(
				sum + json_integer_value(v)));
		}
	}
	return 0;
}

int cmd_audit(struct ictl *c, int argc, char **argv)
{
	struct audit_state st = { 0 };
	json_int_t mismatches, errors;
	json_t *doc;
	int i, ret;

	for (i = 1; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1])
			return ictl_usage(c, "unknown option %s", argv[i]);
	ret = out_table_new(c, "differences", audit_cols,
			    sizeof(audit_cols) / sizeof(audit_cols[0]), &st.t);
	if (ret)
		return ret;
	st.summary = json_object();
	if (c->out_mode == ICTL_OUT_JSON)
		st.diffs = json_array();
	if (!st.summary || (c->out_mode == ICTL_OUT_JSON && !st.diffs)) {
		ret = ictl_errno(c, ICTL_EXIT_FAILED, -ENOMEM, "audit");
		goto out_free;
	}
	if (argc == 1)
		ret = client_call_more(c, PROTO_M_AUDIT, NULL, audit_reply,
				       &st);
	for (i = 1; i < argc && !ret; i++) {
		uint64_t ino;
		char *path = NULL;

		ret = client_resolve(c, argv[i], &ino, &path);
		free(path);
		if (!ret)
			ret = client_call_more(c, PROTO_M_AUDIT,
					       json_pack("{s:I}", "ino",
							 (json_int_t)ino),
					       audit_reply, &st);
	}
	if (ret)
		goto out_free;
	mismatches = json_integer_value(json_object_get(st.summary,
							"mismatches"));
	errors = json_integer_value(json_object_get(st.summary, "errors"));
	if (c->out_mode == ICTL_OUT_JSON) {
		doc = out_doc_new(c->cmd_name);
		if (doc) {
			json_object_set(doc, "differences", st.diffs);
			json_object_set(doc, "summary", st.summary);
			json_object_set_new(doc, "clean", json_boolean(
				!mismatches && !errors &&
				!out_table_rows(st.t)));
		}
		ret = out_doc_print(doc);
	} else {
		if (out_table_rows(st.t))
			ret = out_table_print(c, st.t);
		printf("audit: %s\n", !mismatches && !out_table_rows(st.t) &&
		       !errors ? "clean" : "MISMATCH");
		out_print_object(c, st.summary, 1);
	}
	if (!ret && (mismatches || out_table_rows(st.t)))
		c->exit_code = ICTL_EXIT_MISMATCH;
	else if (!ret && errors)
		ret = ictl_fail(c, ICTL_EXIT_FAILED, -EIO,
				"%" JSON_INTEGER_FORMAT " inodes could not be "
				"read from disk", errors);
out_free:
	json_decref(st.diffs);
	json_decref(st.summary);
	out_table_free(st.t);
	return ret;
}

struct watch_state {
	uint64_t count;		/* events to print, 0: no limit */
	uint64_t seen;
	bool header;
};

static void watch_header(struct ictl *c, struct watch_state *st)
{
	if (st->header || c->noheadings || c->out_mode == ICTL_OUT_JSON)
		return;
	st->header = true;
	if (c->out_mode == ICTL_OUT_RAW)
		printf("TIME TYPE INO OFFSET LENGTH DETAIL\n");
	else
		printf("%-30s %-10s %8s %18s %18s %s\n", "TIME", "TYPE",
		       "INO", "OFFSET", "LENGTH", "DETAIL");
	/* a pipe reader sees the watch has begun */
	fflush(stdout);
}

static int watch_reply(struct ictl *c, json_t *r, void *arg)
{
	struct watch_state *st = arg;
	json_t *ev = json_object_get(r, "event");
	json_int_t lost = json_integer_value(json_object_get(r, "lost"));
	char len[32], offs[32], detail[256] = "", mb[160];
	const char *tstr, *type;
	json_int_t ino;
	json_t *doc, *jl, *m;
	struct iomap im;

	watch_header(c, st);
	if (c->out_mode == ICTL_OUT_JSON) {
		if (!ev && !lost)
			return 0;
		doc = out_doc_new(c->cmd_name);
		if (doc) {
			json_object_set(doc, "event", ev ? ev : json_null());
			json_object_set_new(doc, "lost", json_integer(lost));
		}
		if (out_doc_print(doc))
			return -EIO;
	} else {
		if (lost)
			printf("%-30s %-10s %" JSON_INTEGER_FORMAT
			       " events lost: this watcher fell behind\n",
			       "-", "LOST", lost);
		if (!json_is_object(ev)) {
			fflush(stdout);
			goto out_count;
		}
		jl = json_object_get(ev, "length");
		if (json_is_integer(jl))
			snprintf(len, sizeof(len), "0x%llx",
				 (unsigned long long)json_integer_value(jl));
		else
			snprintf(len, sizeof(len), "EOF");
		snprintf(offs, sizeof(offs), "0x%llx",
			 (unsigned long long)json_integer_value(
				 json_object_get(ev, "offset")));
		m = json_object_get(ev, "mapping");
		if (json_is_string(json_object_get(ev, "reason")))
			snprintf(detail, sizeof(detail), "reason=%s",
				 json_string_value(json_object_get(ev,
								   "reason")));
		else if (json_is_object(m) &&
			 !proto_iomap_from_json(m, &im, mb, sizeof(mb)))
			audit_describe(&im, detail, sizeof(detail));
		tstr = json_string_value(json_object_get(ev, "time"));
		type = json_string_value(json_object_get(ev, "type"));
		ino = json_integer_value(json_object_get(ev, "ino"));
		if (c->out_mode == ICTL_OUT_RAW)
			printf("%s %s %" JSON_INTEGER_FORMAT " %s %s %s\n",
			       tstr ? tstr : "-", type ? type : "?", ino, offs,
			       len, detail);
		else
			printf("%-30s %-10s %8" JSON_INTEGER_FORMAT
			       " %18s %18s %s\n", tstr ? tstr : "-",
			       type ? type : "?", ino, offs, len, detail);
		fflush(stdout);
	}
out_count:
	if (ev && json_is_object(ev))
		st->seen++;
	return st->count && st->seen >= st->count ? 1 : 0;
}

int cmd_watch(struct ictl *c, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct watch_state st = { 0 };
	uint64_t ms = 0, deadline = 0;
	const char *why = NULL;
	json_t *params;
	int o, ret;

	while ((o = cmd_getopt(c, argc, argv, "", lopts)) != -1) {
		switch (o) {
		case 'c':
			if (!size_parse(optarg, &st.count, &why) &&
			    (!st.count || st.count > PROTO_MAX_INT))
				why = st.count ? "too large" : "zero";
			if (why)
				return ictl_usage(c, "bad --count '%s': %s; "
						  "want a positive number",
						  optarg, why);
			break;
		case 'd':
			if (ictl_parse_duration(optarg, &ms) || !ms)
				return ictl_usage(c, "bad --duration '%s': "
						  "want e.g. 10, 500ms, 2m",
						  optarg);
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc)
		return ictl_usage(c, "unexpected argument '%s'", argv[optind]);
	params = st.count ? json_pack("{s:I}", "count", (json_int_t)st.count)
			  : json_object();
	if (ms)
		deadline = client_now_ms() + ms;
	ret = client_call_stream(c, PROTO_M_WATCH, params, watch_reply, &st,
				 deadline, true);
	if (ret == 1)
		ret = 0;	/* the count was reached */
	return ret;
}
