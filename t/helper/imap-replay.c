// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * imap-replay.c - replays range-map commands from a file (or stdin) and
 * prints a transcript, so that shell tests can compare the range map's
 * behaviour with an expected file.  Commands, one a line:
 *
 *   upsert OFF LEN TYPE ADDR [FLAGS]   ADDR may be "-" for none
 *   remove OFF LEN                     LEN may be "eof"
 *   lookup OFF
 *   dump
 *   count
 *
 * Numbers are decimal or 0x hex; TYPE and FLAGS take the names of
 * iomap_type_parse() and iomap_flags_parse().  "#" starts a comment.
 * Each command is echoed after "> ", followed by its result.  After every
 * change the map's invariants are checked.  A bad command stops the replay
 * with "FILE:LINE: ..." on stderr and exit status 1.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iomap.h"
#include "rangemap.h"

#define MAX_ARGS 8

struct replay {
	const char *file;
	unsigned long line;
	struct imap *map;
};

static __attribute__((format(printf, 2, 3)))
int replay_error(const struct replay *r, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "imap-replay: %s:%lu: ", r->file, r->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

/* A decimal or 0x hex number that fits 64 bits; nothing else. */
static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

static void print_mapping(const struct iomap *m)
{
	char flags[64];

	if (iomap_flags_format(m->flags, flags, sizeof(flags)) <= 0)
		strcpy(flags, "-");
	printf("0x%" PRIx64 " +0x%" PRIx64 " %s", m->offset, m->length,
	       iomap_type_name(m->type) ? iomap_type_name(m->type) : "?");
	if (m->addr == IOMAP_NULL_ADDR)
		printf(" addr - flags %s\n", flags);
	else
		printf(" addr 0x%" PRIx64 " flags %s\n", m->addr, flags);
}

static int check_map(const struct replay *r)
{
	if (imap_check(r->map))
		return replay_error(r, "the range map is corrupt (imap_check)");
	return 0;
}

static int cmd_upsert(struct replay *r, int argc, char **argv)
{
	struct iomap m = { 0 };
	unsigned int merged, flags = 0;
	uint64_t v;
	int ret;

	if (argc < 5 || argc > 6)
		return replay_error(r, "usage: upsert OFF LEN TYPE ADDR "
				    "[FLAGS]");
	if (parse_u64(argv[1], &m.offset))
		return replay_error(r, "upsert: bad offset '%s'", argv[1]);
	if (parse_u64(argv[2], &m.length))
		return replay_error(r, "upsert: bad length '%s'", argv[2]);
	ret = iomap_type_parse(argv[3]);
	if (ret < 0)
		return replay_error(r, "upsert: unknown type '%s'", argv[3]);
	m.type = (uint16_t)ret;
	if (!strcmp(argv[4], "-"))
		m.addr = IOMAP_NULL_ADDR;
	else if (!parse_u64(argv[4], &v))
		m.addr = v;
	else
		return replay_error(r, "upsert: bad address '%s'", argv[4]);
	if (argc == 6 && iomap_flags_parse(argv[5], &flags))
		return replay_error(r, "upsert: bad flags '%s'", argv[5]);
	m.flags = (uint16_t)flags;
	ret = imap_upsert(r->map, &m, &merged);
	if (ret == -EINVAL)
		return replay_error(r, "upsert: invalid mapping (zero length,"
				    " past 2^64, or an address that does not"
				    " fit the type)");
	if (ret)
		return replay_error(r, "upsert: %s", strerror(-ret));
	printf("merged %u\n", merged);
	return check_map(r);
}

static int cmd_remove(struct replay *r, int argc, char **argv)
{
	uint64_t off, len;
	int64_t ret;

	if (argc != 3)
		return replay_error(r, "usage: remove OFF LEN|eof");
	if (parse_u64(argv[1], &off))
		return replay_error(r, "remove: bad offset '%s'", argv[1]);
	if (!strcmp(argv[2], "eof"))
		len = IMAP_TO_EOF;
	else if (parse_u64(argv[2], &len))
		return replay_error(r, "remove: bad length '%s'", argv[2]);
	ret = imap_remove(r->map, off, len);
	if (ret < 0)
		return replay_error(r, "remove: %s", strerror((int)-ret));
	printf("removed 0x%" PRIx64 " bytes\n", (uint64_t)ret);
	return check_map(r);
}

static int cmd_lookup(struct replay *r, int argc, char **argv)
{
	struct iomap m;
	uint64_t off;
	int ret;

	if (argc != 2)
		return replay_error(r, "usage: lookup OFF");
	if (parse_u64(argv[1], &off))
		return replay_error(r, "lookup: bad offset '%s'", argv[1]);
	ret = imap_lookup(r->map, off, &m);
	if (ret == -ENOENT) {
		printf("none\n");
		return 0;
	}
	if (ret)
		return replay_error(r, "lookup: %s", strerror(-ret));
	print_mapping(&m);
	return 0;
}

static int cmd_dump(struct replay *r, int argc, char **argv)
{
	struct imap_iter it;
	struct iomap m;

	if (argc != 1)
		return replay_error(r, "usage: dump");
	imap_iter_start(r->map, 0, &it);
	while (imap_iter_next(&it, &m))
		print_mapping(&m);
	return 0;
}

static int cmd_count(struct replay *r, int argc, char **argv)
{
	if (argc != 1)
		return replay_error(r, "usage: count");
	printf("%zu mappings, 0x%" PRIx64 " bytes\n", imap_count(r->map),
	       imap_span_bytes(r->map));
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct replay *r, int argc, char **argv);
} commands[] = {
	{ "count", cmd_count },
	{ "dump", cmd_dump },
	{ "lookup", cmd_lookup },
	{ "remove", cmd_remove },
	{ "upsert", cmd_upsert },
};

/* Run one line (modified in place).  Returns 0 or -EINVAL. */
static int replay_line(struct replay *r, char *line)
{
	char *argv[MAX_ARGS + 1], *p, *save = NULL;
	size_t i, len;
	int argc = 0;

	p = strchr(line, '#');
	if (p)
		*p = '\0';
	len = strlen(line);
	while (len && isspace((unsigned char)line[len - 1]))
		line[--len] = '\0';
	for (p = line; isspace((unsigned char)*p); p++)
		;
	if (!*p)
		return 0;
	printf("> %s\n", p);
	for (p = strtok_r(p, " \t", &save); p;
	     p = strtok_r(NULL, " \t", &save)) {
		if (argc == MAX_ARGS)
			return replay_error(r, "too many words");
		argv[argc++] = p;
	}
	argv[argc] = NULL;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[0], commands[i].name))
			return commands[i].fn(r, argc, argv);
	return replay_error(r, "unknown command '%s' (upsert, remove, "
			    "lookup, dump, count)", argv[0]);
}

int main(int argc, char **argv)
{
	struct replay r = { .file = "<stdin>" };
	char *line = NULL;
	size_t cap = 0;
	FILE *in = stdin;
	int ret = 0;

	if (argc > 2 || (argc == 2 && !strcmp(argv[1], "--help"))) {
		fprintf(stderr, "usage: imap-replay [FILE|-]\n");
		return 2;
	}
	if (argc == 2 && strcmp(argv[1], "-")) {
		r.file = argv[1];
		in = fopen(argv[1], "r");
		if (!in) {
			fprintf(stderr, "imap-replay: cannot open %s: %s\n",
				argv[1], strerror(errno));
			return 1;
		}
	}
	r.map = imap_new();
	if (!r.map) {
		fprintf(stderr, "imap-replay: out of memory\n");
		ret = 1;
		goto out_close;
	}
	while (getline(&line, &cap, in) >= 0) {
		r.line++;
		if (replay_line(&r, line)) {
			ret = 1;
			break;
		}
	}
	if (!ret && ferror(in)) {
		fprintf(stderr, "imap-replay: reading %s: %s\n", r.file,
			strerror(errno));
		ret = 1;
	}
	free(line);
	imap_free(r.map);
out_close:
	if (in != stdin)
		fclose(in);
	if (fflush(stdout)) {
		fprintf(stderr, "imap-replay: writing the transcript: %s\n",
			strerror(errno));
		ret = 1;
	}
	return ret;
}
