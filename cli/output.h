/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * output.h - how iomapctl prints tables and objects: libsmartcols for
 * people (-r raw, -n no headings, -o to pick columns, as lsblk does), and
 * the rows of the -J documents (ictl.h makes the documents).  A table keeps
 * each cell both as text for libsmartcols and as a typed JSON value, so
 * that -J prints numbers as numbers and the address of a hole as null.
 */
#ifndef IOMAPCTL_OUTPUT_H
#define IOMAPCTL_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ictl.h"

/* Column flags. */
#define OUT_C_RIGHT 0x01u /* right-aligned (numbers) */
#define OUT_C_EXTRA 0x02u /* shown only when -o names it */
#define OUT_C_WRAP  0x04u /* may be wrapped/truncated on a terminal */

struct out_col {
	const char *name;   /* upper case, as -o takes it */
	const char *help;   /* one line, for `help` and the man page */
	unsigned int flags; /* OUT_C_* */
};

struct out_table;

/*
 * A table with the columns @cols; @name names the table (the JSON key of
 * its rows).  The columns shown are c->columns when set (a comma list;
 * "+A,B" adds to the default set), else those without OUT_C_EXTRA.
 * Returns 0, -EINVAL after a usage error naming an unknown column, or
 * -ENOMEM.
 */
int out_table_new(struct ictl *c, const char *name, const struct out_col *cols,
		  unsigned int ncols, struct out_table **tp);
void out_table_free(struct out_table *t);

/* Start a new row; the setters below fill the row started last. */
int out_row(struct out_table *t);

/* Cell setters; @col indexes the column array given to out_table_new(). */
int out_set_str(struct out_table *t, unsigned int col, const char *s);
/* Unsigned number, printed in hex ("0x1000") or decimal for people. */
int out_set_u64(struct out_table *t, unsigned int col, uint64_t v, bool hex);
int out_set_s64(struct out_table *t, unsigned int col, int64_t v);
/* Empty cell for people, null in JSON. */
int out_set_null(struct out_table *t, unsigned int col, const char *human);
/* iomap flags: "NEW|LAST" for people, ["NEW","LAST"] in JSON. */
int out_set_flags(struct out_table *t, unsigned int col, unsigned int flags);
/* A JSON value (stolen reference) with its text for people. */
int out_set_json(struct out_table *t, unsigned int col, json_t *v,
		 const char *human);

/* Number of rows. */
unsigned int out_table_rows(const struct out_table *t);

/*
 * Print the table to stdout for people (human or raw mode).  Returns 0 or
 * -errno.
 */
int out_table_print(struct ictl *c, struct out_table *t);

/*
 * The rows as a JSON array of objects (keys are the lower-case column
 * names, '-' turned '_'), with only the selected columns.  New reference,
 * or NULL when out of memory.
 */
json_t *out_table_json(struct out_table *t);

/*
 * Print the answer of a command that switches a state: with -J, a
 * document holding the members of @reply; otherwise @line and, when the
 * reply's "previous" is @now, " (it already was)".  0 or -errno.
 */
int out_switch_print(struct ictl *c, json_t *reply, const char *line, bool now);

/*
 * Print key/value pairs of the JSON object @obj for people: one "Key:
 * value" line per member, nested objects indented, arrays joined by ",".
 * @indent is the starting depth.
 */
void out_print_object(struct ictl *c, json_t *obj, int indent);

/*
 * Print the reply object @obj for people (out_print_object()), or with -J
 * as the member @key of the command's document.  0 or -errno.
 */
int out_print_member(struct ictl *c, const char *key, json_t *obj);

#endif /* IOMAPCTL_OUTPUT_H */
