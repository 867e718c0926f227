// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mountinfo.c - reading /proc/self/mountinfo for the iomapfs mounts (see
 * mountinfo.h).  A line is "ID PARENT MAJ:MIN ROOT MOUNTPOINT MOUNTOPTS
 * [OPTIONAL...] - TYPE SOURCE SUPEROPTS"; space, tab, newline and
 * backslash in a field are written as octal escapes (\040).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mountinfo.h"

/* Undo the octal escapes of a field in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
				      (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* Split @line into the fields of an iomapfs mount; false for any other. */
static bool parse(char *line, struct mountinfo_entry *e)
{
	char *sep = strstr(line, " - "), *save, *f[6], *type;
	int i;

	if (!sep)
		return false;
	*sep = '\0';
	f[0] = strtok_r(line, " ", &save);
	for (i = 1; i < 6 && f[i - 1]; i++)
		f[i] = strtok_r(NULL, " ", &save);
	if (!f[5])
		return false;
	type = strtok_r(sep + 3, " \n", &save);
	e->source = type ? strtok_r(NULL, " \n", &save) : NULL;
	e->super_opts = e->source ? strtok_r(NULL, " \n", &save) : NULL;
	if (!e->super_opts || strncmp(type, "fuse", 4) ||
	    !strstr(type, ".iomapfs"))
		return false;
	e->mountpoint = f[4];
	e->mount_opts = f[5];
	unescape(f[4]);
	unescape((char *)e->source);
	return true;
}

int mountinfo_each(int (*fn)(const struct mountinfo_entry *e, void *arg),
		   void *arg)
{
	struct mountinfo_entry e;
	char *line = NULL;
	size_t cap = 0;
	int ret = 0;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (!ret && getline(&line, &cap, f) > 0)
		if (parse(line, &e))
			ret = fn(&e, arg);
	free(line);
	fclose(f);
	return ret;
}

bool mountinfo_has_opt(const char *opts, const char *opt)
{
	size_t len = strlen(opt);
	const char *p = opts;

	while (p && *p) {
		if (!strncmp(p, opt, len) && (p[len] == ',' || !p[len]))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}
