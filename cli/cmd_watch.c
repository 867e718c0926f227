// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_watch.c - the `watch` command: the daemon's stream of cache events
 * (upsert, invalidate, evict, enable, disable) and of the journal's
 * (commit, checkpoint), one line or -J document
 * each, until a count, a duration or ^C; a LOST line when the daemon had
 * to drop events for this watcher.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "client.h"
#include "command.h"
#include "mapview.h"
#include "proto.h"

struct watch_state {
	uint64_t count; /* events to print, 0: no limit */
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
		printf("%-30s %-10s %8s %18s %18s %s\n", "TIME", "TYPE", "INO",
		       "OFFSET", "LENGTH", "DETAIL");
	/* a pipe reader sees the watch has begun */
	fflush(stdout);
}

/* The DETAIL of a commit or checkpoint event: its transactions, blocks,
 * cause and how long it took. */
static void journal_detail(json_t *j, char *buf, size_t size)
{
	json_int_t tid = json_integer_value(json_object_get(j, "tid"));
	json_t *first = json_object_get(j, "first_tid");
	const char *cause = json_string_value(json_object_get(j, "cause"));
	double ms =
		(double)json_integer_value(json_object_get(j, "latency_ns")) /
		1e6;
	json_int_t blocks = json_integer_value(json_object_get(j, "blocks"));

	if (json_is_integer(first))
		snprintf(buf, size,
			 "tid=%" JSON_INTEGER_FORMAT "-%" JSON_INTEGER_FORMAT
			 " blocks=%" JSON_INTEGER_FORMAT
			 " cause=%s took=%.3fms",
			 json_integer_value(first), tid, blocks,
			 cause ? cause : "?", ms);
	else
		snprintf(buf, size,
			 "tid=%" JSON_INTEGER_FORMAT
			 " blocks=%" JSON_INTEGER_FORMAT
			 " revokes=%" JSON_INTEGER_FORMAT
			 " cause=%s latency=%.3fms",
			 tid, blocks,
			 json_integer_value(json_object_get(j, "revokes")),
			 cause ? cause : "?", ms);
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
		doc = ictl_doc_new(c->cmd_name);
		if (doc) {
			json_object_set(doc, "event", ev ? ev : json_null());
			json_object_set_new(doc, "lost", json_integer(lost));
		}
		if (ictl_doc_print(doc))
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
		if (json_is_object(json_object_get(ev, "journal")))
			journal_detail(json_object_get(ev, "journal"), detail,
				       sizeof(detail));
		else if (json_is_string(json_object_get(ev, "reason")))
			snprintf(detail, sizeof(detail), "reason=%s",
				 json_string_value(
					 json_object_get(ev, "reason")));
		else if (json_is_object(m) &&
			 !proto_iomap_from_json(m, &im, mb, sizeof(mb)))
			mapview_describe(&im, detail, sizeof(detail));
		tstr = json_string_value(json_object_get(ev, "time"));
		type = json_string_value(json_object_get(ev, "type"));
		ino = json_integer_value(json_object_get(ev, "ino"));
		if (c->out_mode == ICTL_OUT_RAW)
			printf("%s %s %" JSON_INTEGER_FORMAT " %s %s %s\n",
			       tstr ? tstr : "-", type ? type : "?", ino, offs,
			       len, detail);
		else
			printf("%-30s %-10s %8" JSON_INTEGER_FORMAT
			       " %18s %18s %s\n",
			       tstr ? tstr : "-", type ? type : "?", ino, offs,
			       len, detail);
		fflush(stdout);
	}
out_count:
	if (ev && json_is_object(ev))
		st->seen++;
	return st->count && st->seen >= st->count ? 1 : 0;
}

int cmd_watch(struct ictl *c, const struct cmd_args *a)
{
	struct watch_state st = {.count = a->count};
	uint64_t deadline = 0;
	json_t *params;
	int ret;

	if (a->argc)
		return ictl_usage(c, "unexpected argument '%s'", a->argv[0]);
	params = st.count ? json_pack("{s:I}", "count", (json_int_t)st.count)
			  : json_object();
	if (a->duration_ms)
		deadline = client_now_ms() + a->duration_ms;
	ret = client_call_stream(c, PROTO_M_WATCH, params, watch_reply, &st,
				 deadline, true);
	if (ret == 1)
		ret = 0; /* the count was reached */
	return ret;
}
