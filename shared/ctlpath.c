// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctlpath.c - the control socket's location rule (see ctlpath.h): the
 * runtime directory per user, the systemd-style escaping of mountpoints
 * into socket names, and the listing that "iomapctl list" shows.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlpath.h"

int ctlpath_check_len(const char *path)
{
	struct sockaddr_un sa;

	return strlen(path) < sizeof(sa.sun_path) ? 0 : -ENAMETOOLONG;
}

int ctlpath_runtime_dir(char **out)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	uid_t uid = geteuid();
	int n;

	*out = NULL;
	if (uid == 0)
		n = asprintf(out, "%s", CTLPATH_ROOT_DIR);
	else if (xdg && xdg[0] == '/')
		n = asprintf(out, "%s/iomapfs", xdg);
	else
		n = asprintf(out, "/tmp/iomapfs-%u", (unsigned int)uid);
	if (n < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

int ctlpath_ensure_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != geteuid() || (st.st_mode & 0077))
		return -EPERM;
	return 0;
}

static bool plain_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == ':' || ch == '_' ||
	       ch == '.';
}

int ctlpath_escape(const char *path, char **out)
{
	const char *p = path;
	size_t o = 0;
	char *s;

	*out = NULL;
	if (path[0] != '/')
		return -EINVAL;
	/* Each byte becomes at most 4 ("\xNN"). */
	s = malloc(strlen(path) * 4 + 2);
	if (!s)
		return -ENOMEM;
	for (;;) {
		size_t clen;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		clen = strcspn(p, "/");
		if ((clen == 1 && p[0] == '.') ||
		    (clen == 2 && p[0] == '.' && p[1] == '.')) {
			free(s);
			return -EINVAL;
		}
		if (o)
			s[o++] = '-';
		for (; clen; clen--, p++) {
			unsigned char ch = (unsigned char)*p;

			if (plain_char(ch) && !(o == 0 && ch == '.'))
				s[o++] = (char)ch;
			else
				o += (size_t)sprintf(s + o, "\\x%02x", ch);
		}
	}
	if (o == 0)
		s[o++] = '-';
	s[o] = '\0';
	*out = s;
	return 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int ctlpath_unescape(const char *name, char **out)
{
	size_t i, o = 0, len = strlen(name);
	char *s;

	*out = NULL;
	if (!len)
		return -EINVAL;
	s = malloc(len + 2);
	if (!s)
		return -ENOMEM;
	s[o++] = '/';
	if (strcmp(name, "-") == 0)
		goto out_done;
	for (i = 0; i < len; i++) {
		if (name[i] == '-') {
			s[o++] = '/';
		} else if (name[i] == '\\') {
			int hi, lo;

			if (i + 3 >= len || name[i + 1] != 'x')
				goto out_inval;
			hi = hexval(name[i + 2]);
			lo = hi < 0 ? -1 : hexval(name[i + 3]);
			if (lo < 0 || (hi == 0 && lo == 0))
				goto out_inval;
			s[o++] = (char)(hi << 4 | lo);
			i += 3;
		} else {
			s[o++] = name[i];
		}
	}
out_done:
	s[o] = '\0';
	*out = s;
	return 0;
out_inval:
	free(s);
	return -EINVAL;
}

/* FNV-1a, 64 bits: a stable name for a path too long to spell out. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

int ctlpath_for_mountpoint(const char *dir, const char *mountpoint,
			   char **out)
{
	struct sockaddr_un sa;
	char *rdir = NULL, *esc = NULL;
	size_t room, keep;
	int ret;

	*out = NULL;
	if (!dir) {
		ret = ctlpath_runtime_dir(&rdir);
		if (ret)
			return ret;
		dir = rdir;
	}
	ret = ctlpath_escape(mountpoint, &esc);
	if (ret)
		goto out_free;
	if (asprintf(out, "%s/%s%s", dir, esc, CTLPATH_SUFFIX) < 0) {
		*out = NULL;
		ret = -ENOMEM;
		goto out_free;
	}
	if (!ctlpath_check_len(*out))
		goto out_free;
	free(*out);
	*out = NULL;
	/*
	 * Too long for sun_path: keep what fits of the escaped name, cut
	 * outside any \xNN, and add "~" and a hash of the whole mountpoint.
	 * "~" never appears in an escaped name, so the name stays unique,
	 * and both the daemon and iomapctl compute it alike.
	 */
	room = sizeof(sa.sun_path) - 1;
	if (strlen(dir) + 1 + 1 + 16 + strlen(CTLPATH_SUFFIX) + 8 > room) {
		ret = -ENAMETOOLONG;
		goto out_free;
	}
	keep = room - (strlen(dir) + 1 + 1 + 16 + strlen(CTLPATH_SUFFIX));
	if (keep > strlen(esc))
		keep = strlen(esc);
	if (keep >= 1 && esc[keep - 1] == '\\')
		keep -= 1;
	else if (keep >= 2 && esc[keep - 2] == '\\')
		keep -= 2;
	else if (keep >= 3 && esc[keep - 3] == '\\')
		keep -= 3;
	if (asprintf(out, "%s/%.*s~%016llx%s", dir, (int)keep, esc,
		     (unsigned long long)fnv1a(mountpoint),
		     CTLPATH_SUFFIX) < 0) {
		*out = NULL;
		ret = -ENOMEM;
		goto out_free;
	}
	ret = ctlpath_check_len(*out);
	if (ret) {
		free(*out);
		*out = NULL;
	}
out_free:
	free(esc);
	free(rdir);
	return ret;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct ctlpath_entry *x = a, *y = b;

	return strcmp(x->path, y->path);
}

void ctlpath_list_free(struct ctlpath_entry *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(list[i].path);
		free(list[i].mountpoint);
	}
	free(list);
}

int ctlpath_list(const char *dir, struct ctlpath_entry **list, size_t *n)
{
	struct ctlpath_entry *v = NULL;
	size_t cnt = 0, cap = 0;
	char *rdir = NULL;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	*list = NULL;
	*n = 0;
	if (!dir) {
		ret = ctlpath_runtime_dir(&rdir);
		if (ret)
			return ret;
		dir = rdir;
	}
	d = opendir(dir);
	if (!d) {
		ret = errno == ENOENT ? 0 : -errno;
		goto out_free_dir;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name), slen = strlen(CTLPATH_SUFFIX);
		struct stat st;
		char *path, *name;

		if (len <= slen ||
		    strcmp(de->d_name + len - slen, CTLPATH_SUFFIX))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISSOCK(st.st_mode))
			continue;
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct ctlpath_entry *nv;

			nv = realloc(v, ncap * sizeof(*v));
			if (!nv) {
				ret = -ENOMEM;
				goto out_close;
			}
			v = nv;
			cap = ncap;
		}
		name = strndup(de->d_name, len - slen);
		if (!name || asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
			free(name);
			ret = -ENOMEM;
			goto out_close;
		}
		v[cnt].path = path;
		/* A name we cannot unescape still lists, with no mountpoint. */
		if (ctlpath_unescape(name, &v[cnt].mountpoint))
			v[cnt].mountpoint = NULL;
		free(name);
		cnt++;
	}
	qsort(v, cnt, sizeof(*v), entry_cmp);
	*list = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
out_close:
	closedir(d);
	ctlpath_list_free(v, cnt);
out_free_dir:
	free(rdir);
	return ret;
}
