// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctlpath.c - the control socket's location rule (see ctlpath.h): the
 * runtime directory per user, the systemd-style escaping of mountpoints
 * into socket names, the records of sockets that live elsewhere, and the
 * listing (and pruning) that "iomapctl list" shows.
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
#include <sys/socket.h>
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
	       (ch >= '0' && ch <= '9') || ch == ':' || ch == '_' || ch == '.';
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

int ctlpath_for_mountpoint(const char *dir, const char *mountpoint, char **out)
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
		free(list[i].socket);
	}
	free(list);
}

/*
 * The entry for @dir/@name (ending in CTLPATH_SUFFIX) in *e: 0, 1 when it is
 * no socket and no record (skipped), or -ENOMEM.
 */
static int list_entry(const char *dir, const char *name, mode_t mode,
		      struct ctlpath_entry *e)
{
	size_t len = strlen(name) - strlen(CTLPATH_SUFFIX);
	char *esc;
	int ret;

	memset(e, 0, sizeof(*e));
	if (asprintf(&e->path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	e->record = S_ISREG(mode);
	ret = e->record ? ctlpath_record_read(e->path, &e->socket) : 0;
	if (ret && ret != -ESTALE && ret != -ENOMEM) {
		ret = 1; /* not a record (or gone): not ours */
		goto out_free;
	}
	if (!e->record)
		e->socket = strdup(e->path);
	esc = e->socket ? strndup(name, len) : NULL;
	if (!esc) {
		ret = -ENOMEM;
		goto out_free;
	}
	/* A name we cannot unescape still lists, with no mountpoint. */
	if (ctlpath_unescape(esc, &e->mountpoint))
		e->mountpoint = NULL;
	free(esc);
	return 0;
out_free:
	free(e->path);
	free(e->socket);
	memset(e, 0, sizeof(*e));
	return ret;
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

		if (len <= slen ||
		    strcmp(de->d_name + len - slen, CTLPATH_SUFFIX))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !(S_ISSOCK(st.st_mode) || S_ISREG(st.st_mode)))
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
		ret = list_entry(dir, de->d_name, st.st_mode, &v[cnt]);
		if (ret < 0)
			goto out_close;
		if (ret == 0)
			cnt++;
	}
	ret = 0;
	if (cnt) /* qsort(NULL, 0, ...) is undefined */
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

/* ---- liveness and records ----------------------------------------------- */

int ctlpath_probe(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, ret = 0;

	if (ctlpath_check_len(path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A full backlog (EAGAIN) still means that someone listens. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != EAGAIN)
		ret = -errno;
	close(fd);
	return ret;
}

int ctlpath_remove_if(const char *path, dev_t dev, ino_t ino)
{
	struct stat st;

	/* Only lstat() and unlink(): an abort handler calls this too. */
	if (lstat(path, &st) < 0)
		return -errno;
	if (st.st_dev != dev || st.st_ino != ino)
		return -ESTALE;
	return unlink(path) < 0 ? -errno : 0;
}

/*
 * When process @pid started (clock ticks after boot, /proc/PID/stat's
 * 22nd field): with the pid, it names one process for all time.  -ENOENT
 * when there is no such process, -errno when it cannot be told.
 */
static int proc_start_time(long pid, unsigned long long *out)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	/* The command name (field 2) may hold anything: skip past it. */
	p = strrchr(buf, ')');
	for (i = 2; p && i < 22; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &v) != 1)
		return -EIO;
	*out = v;
	return 0;
}

int ctlpath_record_write(const char *record, const char *socket, dev_t *dev,
			 ino_t *ino)
{
	unsigned long long start = 0;
	struct stat st;
	char *tmp = NULL;
	FILE *f;
	int fd, ret;

	if (socket[0] != '/' || strchr(socket, '\n'))
		return -EINVAL;
	if (lstat(socket, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	/* The temporary name does not end in CTLPATH_SUFFIX: no lister
	 * ever sees a record half written. */
	if (asprintf(&tmp, "%s.XXXXXX", record) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out_free;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		goto out_unlink;
	}
	fprintf(f, "%s\nsocket %s\ndev %llu\nino %llu\npid %ld\n",
		CTLPATH_RECORD_MAGIC, socket, (unsigned long long)st.st_dev,
		(unsigned long long)st.st_ino, (long)getpid());
	if (!proc_start_time((long)getpid(), &start))
		fprintf(f, "start %llu\n", start);
	ret = ferror(f) ? -EIO : 0;
	if (fclose(f) && !ret)
		ret = -errno;
	if (ret)
		goto out_unlink;
	/* link(), not rename(): never over a record or socket that appeared
	 * since the caller looked. */
	if (link(tmp, record) < 0) {
		ret = -errno;
		goto out_unlink;
	}
	if (lstat(record, &st) < 0) {
		ret = -errno;
		unlink(record);
		goto out_unlink;
	}
	*dev = st.st_dev;
	*ino = st.st_ino;
out_unlink:
	unlink(tmp);
out_free:
	free(tmp);
	return ret;
}

/* The value of "KEY VALUE" line @key in @text, malloc'd; NULL if none. */
static char *record_field(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ' ')
			return strndup(p + klen + 1,
				       strcspn(p + klen + 1, "\n"));
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static int record_number(const char *text, const char *key,
			 unsigned long long *out)
{
	char *v = record_field(text, key), *end;
	int ret = -EBADMSG;

	if (v && *v) {
		errno = 0;
		*out = strtoull(v, &end, 10);
		if (!errno && !*end)
			ret = 0;
	}
	free(v);
	return ret;
}

/* The most a record may hold: a path and three numbers. */
#define CTLPATH_RECORD_MAX 8192

int ctlpath_record_read(const char *record, char **socket)
{
	unsigned long long dev, ino, pid, start, now;
	char buf[CTLPATH_RECORD_MAX + 1], *sock = NULL;
	struct stat st;
	ssize_t n;
	int fd, ret;

	*socket = NULL;
	fd = open(record, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? -EBADMSG : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EBADMSG;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	buf[n] = '\0';
	if (strncmp(buf, CTLPATH_RECORD_MAGIC "\n",
		    strlen(CTLPATH_RECORD_MAGIC) + 1) ||
	    (size_t)n == sizeof(buf) - 1)
		return -EBADMSG;
	sock = record_field(buf, "socket");
	if (!sock || sock[0] != '/' || record_number(buf, "dev", &dev) ||
	    record_number(buf, "ino", &ino) ||
	    record_number(buf, "pid", &pid)) {
		free(sock);
		return -EBADMSG;
	}
	*socket = sock;
	if (lstat(sock, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	    (unsigned long long)st.st_dev != dev ||
	    (unsigned long long)st.st_ino != ino)
		return -ESTALE;
	/*
	 * A socket made at the same path since may well have the same inode
	 * number (a freed one is handed out again at once): the writer's
	 * process is what tells.  When /proc does not say (hidepid), the
	 * socket's answer to a connection has to.
	 */
	if (!record_number(buf, "start", &start)) {
		ret = proc_start_time((long)pid, &now);
		if (ret == -ENOENT || (!ret && now != start))
			return -ESTALE;
	}
	return 0;
}

int ctlpath_resolve(const char *dir, const char *mountpoint, char **name,
		    char **socket)
{
	struct stat st;
	int ret;

	*socket = NULL;
	ret = ctlpath_for_mountpoint(dir, mountpoint, name);
	if (ret)
		return ret;
	if (lstat(*name, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode))
		return ctlpath_record_read(*name, socket);
	/* A socket, or whatever else: connect() has the last word. */
	*socket = strdup(*name);
	return *socket ? 0 : -ENOMEM;
}

int ctlpath_prune(const struct ctlpath_entry *e)
{
	char *sock = NULL;
	struct stat st;
	int ret;

	if (lstat(e->path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (e->record) {
		if (!S_ISREG(st.st_mode))
			return 0;
		ret = ctlpath_record_read(e->path, &sock);
		if (!ret) {
			ret = ctlpath_probe(sock);
			if (ret == -ENOENT)
				ret = -ECONNREFUSED;
		} else if (ret == -ESTALE) {
			ret = -ECONNREFUSED;
		}
		free(sock);
	} else {
		if (!S_ISSOCK(st.st_mode))
			return 0;
		ret = ctlpath_probe(e->path);
	}
	if (ret == 0 || ret == -ENOENT || ret == -EBADMSG)
		return 0;
	if (ret != -ECONNREFUSED)
		return ret;
	/* Stale.  A daemon that has replaced it since our lstat() left
	 * another inode there, which stays. */
	ret = ctlpath_remove_if(e->path, st.st_dev, st.st_ino);
	if (ret == -ESTALE || ret == -ENOENT)
		return 0;
	return ret ? ret : 1;
}
