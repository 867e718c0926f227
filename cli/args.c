// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * args.c - the argument parsers behind args.h: sizes, ranges, durations
 * and shell-like word splitting for scripts and the interactive shell.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "size.h"

static int range_fail(const char **why, const char *what, int err)
{
	*why = what;
	return err;
}

int ictl_parse_range(const char *s, uint64_t *off, uint64_t *len,
		     const char **why)
{
	const char *colon = strchr(s, ':');
	char buf[64];
	size_t n;
	int ret;

	if (!colon)
		return range_fail(why, "no ':' between OFF and LEN", -EINVAL);
	n = (size_t)(colon - s);
	if (n >= sizeof(buf))
		return range_fail(why, "OFF too long", -EINVAL);
	memcpy(buf, s, n);
	buf[n] = '\0';
	ret = size_parse(buf, off, why);
	if (ret)
		return ret;
	if (!colon[1]) {
		*len = 0;
		return 0;
	}
	ret = size_parse(colon + 1, len, why);
	if (ret)
		return ret;
	if (!*len)
		return range_fail(why, "LEN is 0", -EINVAL);
	if (*off + *len - 1 < *off)
		return range_fail(why, "OFF + LEN passes 2^64", -ERANGE);
	return 0;
}

int ictl_parse_duration(const char *s, uint64_t *ms)
{
	unsigned long long v;
	uint64_t mult;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (!*end || !strcmp(end, "s"))
		mult = 1000;
	else if (!strcmp(end, "ms"))
		mult = 1;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		mult = 60000;
	else if (!strcmp(end, "h"))
		mult = 3600000;
	else
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*ms = v * mult;
	return 0;
}

bool ictl_is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

void ictl_free_words(char **argv)
{
	char **p;

	if (!argv)
		return;
	for (p = argv; *p; p++)
		free(*p);
	free(argv);
}

static int push_word(char ***argv, int *argc, int *cap, char *w)
{
	if (*argc + 1 >= *cap) {
		int ncap = *cap ? *cap * 2 : 8;
		char **n = realloc(*argv, (size_t)ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		*argv = n;
		*cap = ncap;
	}
	(*argv)[(*argc)++] = w;
	(*argv)[*argc] = NULL;
	return 0;
}

int ictl_split_words(const char *line, int *argc, char ***argv)
{
	size_t len = strlen(line);
	char **words = NULL;
	char *word = NULL;
	int n = 0, cap = 0, ret;
	const char *p = line;

	if (push_word(&words, &n, &cap, NULL) == -ENOMEM)
		return -ENOMEM;
	n = 0;
	for (;;) {
		size_t w = 0;
		bool have = false;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			break;
		word = malloc(len + 1);
		if (!word) {
			ret = -ENOMEM;
			goto out_free;
		}
		while (*p && *p != ' ' && *p != '\t' && *p != '\n' &&
		       *p != '\r') {
			char q = *p;

			have = true;
			if (q == '\'' || q == '"') {
				p++;
				while (*p && *p != q) {
					if (q == '"' && *p == '\\' && p[1] &&
					    strchr("\\\"$`", p[1]))
						p++;
					word[w++] = *p++;
				}
				if (!*p) {
					ret = -EINVAL;
					goto out_free;
				}
				p++;
			} else if (q == '\\') {
				p++;
				if (!*p)
					break;
				word[w++] = *p++;
			} else {
				word[w++] = *p++;
			}
		}
		word[w] = '\0';
		if (have) {
			ret = push_word(&words, &n, &cap, word);
			if (ret)
				goto out_free;
		} else {
			free(word);
		}
		word = NULL;
	}
	*argc = n;
	*argv = words;
	return 0;
out_free:
	free(word);
	ictl_free_words(words);
	return ret;
}
