// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * output.c - iomapctl's printers: libsmartcols tables for people and
 * their rows as JSON for -J, and key/value objects.  Cells are kept twice,
 * as text and as typed JSON, so one table serves both forms and -o selects
 * columns in both.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libsmartcols/libsmartcols.h>

#include "iomap.h"
#include "output.h"

#define OUT_MAX_COLS 32

struct out_cell {
	char *text;
	json_t *json;
};

struct out_table {
	struct ictl *c;
	const char *name;
	const struct out_col *cols;
	unsigned int ncols;
	unsigned int shown[OUT_MAX_COLS]; /* indexes into cols */
	unsigned int nshown;
	struct out_cell *cells; /* nrows * ncols */
	unsigned int nrows;
	unsigned int cap;
};

static int out_find_col(const struct out_table *t, const char *name, size_t len)
{
	unsigned int i;

	for (i = 0; i < t->ncols; i++)
		if (strlen(t->cols[i].name) == len &&
		    !strncasecmp(t->cols[i].name, name, len))
			return (int)i;
	return -1;
}

static int out_select_columns(struct ictl *c, struct out_table *t)
{
	const char *p = c->columns;
	unsigned int i;

	t->nshown = 0;
	if (!p || *p == '+') {
		for (i = 0; i < t->ncols; i++)
			if (!(t->cols[i].flags & OUT_C_EXTRA))
				t->shown[t->nshown++] = i;
		if (!p)
			return 0;
		p++;
	}
	while (*p) {
		size_t len = strcspn(p, ",");
		int idx = out_find_col(t, p, len);

		if (idx < 0) {
			char list[512] = "";
			size_t used = 0;

			for (i = 0; i < t->ncols && used < sizeof(list); i++)
				used += (size_t)snprintf(
					list + used, sizeof(list) - used,
					"%s%s", i ? "," : "", t->cols[i].name);
			return ictl_usage(c,
					  "unknown column '%.*s' for -o "
					  "(this table has %s)",
					  (int)len, p, list);
		}
		for (i = 0; i < t->nshown; i++)
			if (t->shown[i] == (unsigned int)idx)
				break;
		if (i == t->nshown && t->nshown < OUT_MAX_COLS)
			t->shown[t->nshown++] = (unsigned int)idx;
		p += len;
		if (*p == ',')
			p++;
	}
	if (!t->nshown)
		return ictl_usage(c, "-o names no column");
	return 0;
}

int out_table_new(struct ictl *c, const char *name, const struct out_col *cols,
		  unsigned int ncols, struct out_table **tp)
{
	struct out_table *t;
	int ret;

	if (ncols > OUT_MAX_COLS)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->c = c;
	t->name = name;
	t->cols = cols;
	t->ncols = ncols;
	ret = out_select_columns(c, t);
	if (ret) {
		free(t);
		return ret;
	}
	*tp = t;
	return 0;
}

void out_table_free(struct out_table *t)
{
	unsigned int i;

	if (!t)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++) {
		free(t->cells[i].text);
		json_decref(t->cells[i].json);
	}
	free(t->cells);
	free(t);
}

int out_row(struct out_table *t)
{
	if (t->nrows == t->cap) {
		unsigned int cap = t->cap ? t->cap * 2 : 16;
		struct out_cell *n;

		n = realloc(t->cells, (size_t)cap * t->ncols * sizeof(*n));
		if (!n)
			return -ENOMEM;
		t->cells = n;
		t->cap = cap;
	}
	memset(&t->cells[(size_t)t->nrows * t->ncols], 0,
	       t->ncols * sizeof(*t->cells));
	t->nrows++;
	return 0;
}

unsigned int out_table_rows(const struct out_table *t)
{
	return t->nrows;
}

int out_set_json(struct out_table *t, unsigned int col, json_t *v,
		 const char *human)
{
	struct out_cell *cell;
	char *text;

	if (!t->nrows || col >= t->ncols || !v) {
		json_decref(v);
		return -EINVAL;
	}
	text = strdup(human ? human : "");
	if (!text) {
		json_decref(v);
		return -ENOMEM;
	}
	cell = &t->cells[(size_t)(t->nrows - 1) * t->ncols + col];
	free(cell->text);
	json_decref(cell->json);
	cell->text = text;
	cell->json = v;
	return 0;
}

int out_set_str(struct out_table *t, unsigned int col, const char *s)
{
	if (!s)
		return out_set_json(t, col, json_null(), "");
	return out_set_json(t, col, json_string(s), s);
}

int out_set_u64(struct out_table *t, unsigned int col, uint64_t v, bool hex)
{
	char buf[32];

	snprintf(buf, sizeof(buf), hex ? "0x%" PRIx64 : "%" PRIu64, v);
	/* json_int_t is signed 64 bits: device and file offsets fit. */
	return out_set_json(t, col, json_integer((json_int_t)v), buf);
}

int out_set_s64(struct out_table *t, unsigned int col, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return out_set_json(t, col, json_integer(v), buf);
}

int out_set_null(struct out_table *t, unsigned int col, const char *human)
{
	return out_set_json(t, col, json_null(), human);
}

int out_set_flags(struct out_table *t, unsigned int col, unsigned int flags)
{
	char buf[128];
	json_t *arr = json_array();
	unsigned int bit;

	if (!arr)
		return -ENOMEM;
	for (bit = 1; bit && bit <= flags; bit <<= 1) {
		const char *n;

		if (!(flags & bit))
			continue;
		n = iomap_flag_name(bit);
		if (n) {
			json_array_append_new(arr, json_string(n));
		} else {
			snprintf(buf, sizeof(buf), "0x%x", bit);
			json_array_append_new(arr, json_string(buf));
		}
	}
	if (iomap_flags_format(flags, buf, sizeof(buf)) < 0)
		buf[sizeof(buf) - 1] = '\0';
	return out_set_json(t, col, arr, buf);
}

static void out_json_key(const char *name, char *buf, size_t size)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < size; i++)
		buf[i] = name[i] == '-' ? '_'
					: (char)tolower((unsigned char)name[i]);
	buf[i] = '\0';
}

int out_table_print(struct ictl *c, struct out_table *t)
{
	struct libscols_table *tb;
	unsigned int r, i;
	int ret = -ENOMEM;

	tb = scols_new_table();
	if (!tb)
		return -ENOMEM;
	scols_table_enable_raw(tb, c->out_mode == ICTL_OUT_RAW);
	scols_table_enable_noheadings(tb, c->noheadings);
	for (i = 0; i < t->nshown; i++) {
		const struct out_col *col = &t->cols[t->shown[i]];
		int fl = 0;

		if (col->flags & OUT_C_RIGHT)
			fl |= SCOLS_FL_RIGHT;
		if (col->flags & OUT_C_WRAP)
			fl |= SCOLS_FL_TRUNC;
		if (!scols_table_new_column(tb, col->name, 0, fl))
			goto out_unref;
	}
	for (r = 0; r < t->nrows; r++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);

		if (!ln)
			goto out_unref;
		for (i = 0; i < t->nshown; i++) {
			const struct out_cell *cell =
				&t->cells[(size_t)r * t->ncols + t->shown[i]];

			if (scols_line_set_data(ln, i,
						cell->text ? cell->text : ""))
				goto out_unref;
		}
	}
	ret = scols_print_table(tb) ? -EIO : 0;
out_unref:
	scols_unref_table(tb);
	return ret;
}

json_t *out_table_json(struct out_table *t)
{
	json_t *arr = json_array();
	unsigned int r, i;
	char key[64];

	if (!arr)
		return NULL;
	for (r = 0; r < t->nrows; r++) {
		json_t *o = json_object();

		if (!o || json_array_append_new(arr, o))
			goto out_free;
		for (i = 0; i < t->nshown; i++) {
			const struct out_cell *cell =
				&t->cells[(size_t)r * t->ncols + t->shown[i]];

			out_json_key(t->cols[t->shown[i]].name, key,
				     sizeof(key));
			if (json_object_set(o, key,
					    cell->json ? cell->json
						       : json_null()))
				goto out_free;
		}
	}
	return arr;
out_free:
	json_decref(arr);
	return NULL;
}

int out_switch_print(struct ictl *c, json_t *reply, const char *line, bool now)
{
	json_t *doc;

	if (c->out_mode == ICTL_OUT_JSON) {
		doc = ictl_doc_new(c->cmd_name);
		if (doc)
			json_object_update(doc, reply);
		return ictl_doc_print(doc);
	}
	printf("%s%s\n", line,
	       json_is_true(json_object_get(reply, "previous")) == now
		       ? " (it already was)"
		       : "");
	return 0;
}

static void out_scalar(json_t *v, char *buf, size_t size)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		snprintf(buf, size, "%s", json_string_value(v));
		break;
	case JSON_INTEGER:
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, size, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, size, "yes");
		break;
	case JSON_FALSE:
		snprintf(buf, size, "no");
		break;
	case JSON_NULL:
		snprintf(buf, size, "-");
		break;
	default: {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		snprintf(buf, size, "%s", s ? s : "?");
		free(s);
	}
	}
}

/* Longest key at this level, for aligning values. */
static size_t out_key_width(json_t *obj)
{
	const char *key;
	json_t *v;
	size_t w = 0;

	json_object_foreach(obj, key, v) if (!json_is_object(v) &&
					     strlen(key) > w) w = strlen(key);
	return w;
}

void out_print_object(struct ictl *c, json_t *obj, int indent)
{
	const char *key;
	json_t *v;
	size_t w = out_key_width(obj);
	char buf[512];

	json_object_foreach(obj, key, v)
	{
		if (json_is_object(v)) {
			printf("%*s%s:\n", indent * 2, "", key);
			out_print_object(c, v, indent + 1);
			continue;
		}
		if (json_is_array(v)) {
			size_t i, used = 0;
			json_t *e;

			buf[0] = '\0';
			json_array_foreach(v, i, e)
			{
				char one[256];

				out_scalar(e, one, sizeof(one));
				used += (size_t)snprintf(
					buf + used,
					used < sizeof(buf) ? sizeof(buf) - used
							   : 0,
					"%s%s", i ? "," : "", one);
				if (used >= sizeof(buf))
					break;
			}
		} else {
			size_t klen = strlen(key);

			out_scalar(v, buf, sizeof(buf));
			/* nanoseconds are exact but unreadable: add seconds */
			if (c->out_mode != ICTL_OUT_RAW && json_is_integer(v) &&
			    klen > 3 && !strcmp(key + klen - 3, "_ns")) {
				size_t n = strlen(buf);

				snprintf(buf + n, sizeof(buf) - n, " (%.3f s)",
					 (double)json_integer_value(v) / 1e9);
			}
		}
		if (c->out_mode == ICTL_OUT_RAW)
			printf("%s=%s\n", key, buf);
		else
			printf("%*s%s:%*s %s\n", indent * 2, "", key,
			       (int)(w - strlen(key)), "", buf);
	}
}

int out_print_member(struct ictl *c, const char *key, json_t *obj)
{
	json_t *doc;

	if (c->out_mode == ICTL_OUT_JSON) {
		doc = ictl_doc_new(c->cmd_name);
		if (doc)
			json_object_set(doc, key, obj);
		return ictl_doc_print(doc);
	}
	out_print_object(c, obj, 0);
	return 0;
}
