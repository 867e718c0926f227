// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_audit.c - the `audit` command: every cached mapping of the inodes
 * named (or of all cached inodes) against the disk, one row per
 * difference and a summary; exit 4 on a difference.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "command.h"
#include "mapview.h"
#include "output.h"
#include "proto.h"

enum { ACOL_INO, ACOL_OFFSET, ACOL_LENGTH, ACOL_CACHED, ACOL_DISK };

static const struct out_col audit_cols[] = {
	[ACOL_INO] = {"INO", "inode number", OUT_C_RIGHT},
	[ACOL_OFFSET] = {"OFFSET", "first file byte that differs", OUT_C_RIGHT},
	[ACOL_LENGTH] = {"LENGTH", "bytes that differ", OUT_C_RIGHT},
	[ACOL_CACHED] = {"CACHED", "the cached mapping: TYPE@ADDR FLAGS", 0},
	[ACOL_DISK] = {"DISK", "what the disk holds: TYPE@ADDR FLAGS", 0},
};

struct audit_state {
	struct out_table *t;
	json_t *diffs;	 /* -J */
	json_t *summary; /* sum over the calls */
};

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
		    proto_iomap_from_json(json_object_get(d, "disk"), &dm, why,
					  sizeof(why)))
			return ictl_fail(c, ICTL_EXIT_DAEMON, -EPROTO,
					 "bad Audit reply: %s", why);
		if (st->diffs && json_array_append(st->diffs, d))
			return -ENOMEM;
		mapview_describe(&cm, cb, sizeof(cb));
		mapview_describe(&dm, db, sizeof(db));
		ret = out_row(st->t);
		ret = ret ?: out_set_s64(st->t, ACOL_INO, ino);
		ret = ret ?: out_set_u64(st->t, ACOL_OFFSET, cm.offset, true);
		ret = ret ?: out_set_u64(st->t, ACOL_LENGTH, cm.length, true);
		ret = ret
			      ?: out_set_json(st->t, ACOL_CACHED,
					      json_incref(json_object_get(
						      d, "cached")),
					      cb);
		ret = ret
			      ?: out_set_json(st->t, ACOL_DISK,
					      json_incref(json_object_get(
						      d, "disk")),
					      db);
		if (ret)
			return ret;
	}
	if (json_is_object(s)) {
		json_object_foreach(s, key, v)
		{
			json_int_t sum = json_integer_value(
				json_object_get(st->summary, key));

			json_object_set_new(
				st->summary, key,
				json_integer(sum + json_integer_value(v)));
		}
	}
	return 0;
}

int cmd_audit(struct ictl *c, const struct cmd_args *a)
{
	struct audit_state st = {0};
	json_int_t mismatches, errors;
	json_t *doc;
	int i, ret;

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
	if (!a->argc)
		ret = client_call_more(c, PROTO_M_AUDIT, NULL, NULL,
				       audit_reply, &st);
	for (i = 0; i < a->argc && !ret; i++) {
		uint64_t ino;
		char *path = NULL;

		ret = client_resolve(c, a->argv[i], &ino, &path);
		free(path);
		if (!ret)
			ret = client_call_more(
				c, PROTO_M_AUDIT,
				json_pack("{s:I}", "ino", (json_int_t)ino),
				NULL, audit_reply, &st);
	}
	if (ret)
		goto out_free;
	mismatches =
		json_integer_value(json_object_get(st.summary, "mismatches"));
	errors = json_integer_value(json_object_get(st.summary, "errors"));
	if (c->out_mode == ICTL_OUT_JSON) {
		doc = ictl_doc_new(c->cmd_name);
		if (doc) {
			json_object_set(doc, "differences", st.diffs);
			json_object_set(doc, "summary", st.summary);
			json_object_set_new(
				doc, "clean",
				json_boolean(!mismatches && !errors &&
					     !out_table_rows(st.t)));
		}
		ret = ictl_doc_print(doc);
	} else {
		if (out_table_rows(st.t))
			ret = out_table_print(c, st.t);
		printf("audit: %s\n",
		       !mismatches && !out_table_rows(st.t) && !errors
			       ? "clean"
			       : "MISMATCH");
		out_print_object(c, st.summary, 1);
	}
	if (!ret && (mismatches || out_table_rows(st.t)))
		c->exit_code = ICTL_EXIT_MISMATCH;
	else if (!ret && errors)
		ret = ictl_fail(c, ICTL_EXIT_FAILED, -EIO,
				"%" JSON_INTEGER_FORMAT " inodes could not be "
				"read from disk",
				errors);
out_free:
	json_decref(st.diffs);
	json_decref(st.summary);
	out_table_free(st.t);
	return ret;
}
