// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-varlink.c - unit tests of the shared protocol code: Varlink framing
 * over a socketpair (good, oversized, unterminated, invalid UTF-8, deep and
 * non-object messages), call and parameter checks, the JSON form of
 * iomaps, and the control socket location rule (escaping, directory modes,
 * listing).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlpath.h"
#include "proto.h"
#include "tap.h"
#include "varlink.h"

/* Write @len bytes of @s into @fd, all of them. */
static void put(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		if (n <= 0) {
			perror("write");
			exit(2);
		}
		s += n;
		len -= (size_t)n;
	}
}

/* Feed @bytes to a fresh receiver and return what varlink_rbuf_next()
 * says about the first message. */
static int feed(const char *bytes, size_t len, bool close_after, size_t max,
		json_t **msg, char *err)
{
	struct varlink_rbuf rb;
	int sv[2], ret;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		exit(2);
	put(sv[0], bytes, len);
	if (close_after)
		close(sv[0]);
	varlink_rbuf_init(&rb, max);
	for (;;) {
		ssize_t n;

		ret = varlink_rbuf_next(&rb, msg, err);
		if (ret)
			break;
		if (rb.eof)
			break;
		n = varlink_rbuf_fill(&rb, sv[1]);
		if (n == -ENOBUFS) {
			ret = varlink_rbuf_next(&rb, msg, err);
			break;
		}
		if (n < 0) {
			ret = (int)n;
			break;
		}
		if (n == 0)
			continue;
	}
	varlink_rbuf_free(&rb);
	if (!close_after)
		close(sv[0]);
	close(sv[1]);
	return ret;
}

static void test_framing(void)
{
	char err[VARLINK_ERRMSG_SIZE] = "";
	static const char two[] = "{\"method\":\"a.B\"}\0{\"x\":1}";
	struct varlink_rbuf rb;
	json_t *msg = NULL;
	char *big, deep[200];
	int sv[2], ret, i;

	ret = feed(two, sizeof(two), true, 0, &msg, err);
	tap_eq_int(ret, 1, "a NUL-terminated object is one message");
	tap_ok(msg && json_is_string(json_object_get(msg, "method")),
	       "its method is a string");
	json_decref(msg);

	/* Two messages in one read, then a partial third. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		exit(2);
	put(sv[0], two, sizeof(two));
	put(sv[0], "{\"y\"", 4);
	varlink_rbuf_init(&rb, 0);
	tap_ok(varlink_rbuf_fill(&rb, sv[1]) > 0, "read what was sent");
	tap_eq_int(varlink_rbuf_next(&rb, &msg, err), 1, "first message");
	json_decref(msg);
	tap_eq_int(varlink_rbuf_next(&rb, &msg, err), 1, "second message");
	tap_ok(json_integer_value(json_object_get(msg, "x")) == 1,
	       "second message's content");
	json_decref(msg);
	tap_eq_int(varlink_rbuf_next(&rb, &msg, err), 0,
		   "a partial message waits for more bytes");
	close(sv[0]);
	tap_eq_int(varlink_rbuf_fill(&rb, sv[1]), 0, "end of file");
	tap_eq_int(varlink_rbuf_next(&rb, &msg, err), -EPROTO,
		   "end of file inside a message is an error");
	tap_ok(strstr(err, "NUL") != NULL, "it says so: %s", err);
	varlink_rbuf_free(&rb);
	close(sv[1]);

	big = malloc(70000);
	memset(big, ' ', 70000);
	big[0] = '{';
	big[69998] = '}';
	big[69999] = '\0';
	ret = feed(big, 70000, true, 0, &msg, err);
	tap_eq_int(ret, -EMSGSIZE, "a message over 64 KiB is refused");
	tap_ok(strstr(err, "65536") != NULL, "it names the cap: %s", err);
	ret = feed(big, 70000, true, 128 * 1024, &msg, err);
	tap_eq_int(ret, 1, "a larger cap takes it");
	json_decref(msg);
	free(big);

	ret = feed("{\"a\":\"\xc3\x28\"}", 11, true, 0, &msg, err);
	tap_eq_int(ret, -EBADMSG, "invalid UTF-8 is refused");
	tap_ok(strstr(err, "UTF-8") != NULL, "it says so: %s", err);
	ret = feed("{\"a\":\"\xed\xa0\x80\"}", 12, true, 0, &msg, err);
	tap_eq_int(ret, -EBADMSG, "an encoded surrogate is refused");
	ret = feed("{\"a\":\"\xc3\xa4\"}", 11, true, 0, &msg, err);
	tap_eq_int(ret, 1, "valid UTF-8 passes");
	json_decref(msg);

	for (i = 0; i < 100; i++)
		deep[i] = '[';
	memcpy(deep, "{\"a\":", 5);
	deep[100] = '\0';
	ret = feed(deep, 101, true, 0, &msg, err);
	tap_eq_int(ret, -EBADMSG, "nesting deeper than the limit is refused");
	tap_ok(strstr(err, "nested") != NULL, "it says so: %s", err);
	snprintf(deep, sizeof(deep), "{\"a\":\"%.60s\"}",
		 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
	ret = feed(deep, strlen(deep) + 1, true, 0, &msg, err);
	tap_eq_int(ret, 1, "brackets inside strings do not count");
	json_decref(msg);
	ret = feed("[1,2]", 6, true, 0, &msg, err);
	tap_eq_int(ret, -EBADMSG, "an array is not a message");
	ret = feed("{\"a\":1} x", 10, true, 0, &msg, err);
	tap_eq_int(ret, -EBADMSG, "trailing garbage is refused");
	ret = feed("{\"a\":1,\"a\":2}", 14, true, 0, &msg, err);
	tap_eq_int(ret, -EBADMSG, "duplicate keys are refused");
}

static void test_calls(void)
{
	char err[VARLINK_ERRMSG_SIZE];
	struct varlink_call call;
	const char *bad;
	json_t *m, *p;
	static const struct varlink_param spec[] = {
		{ "ino", VARLINK_T_INT, true, 1, 100 },
		{ "on", VARLINK_T_BOOL, false, 0, 0 },
	};

	m = varlink_call_new("io.iomapfs.Cache.Dump", NULL,
			     VARLINK_CALL_MORE);
	tap_eq_int(varlink_call_parse(m, &call, err), 0, "a built call parses");
	tap_ok(call.more && !call.oneway && json_is_object(call.params),
	       "more set, oneway not, parameters an object");
	json_decref(m);

	m = json_pack("{s:s}", "method", "a.B");
	tap_eq_int(varlink_call_parse(m, &call, err), 0,
		   "a call without parameters parses");
	tap_ok(json_is_object(call.params), "and gets empty parameters");
	json_decref(m);

	m = json_pack("{s:i}", "method", 3);
	tap_eq_int(varlink_call_parse(m, &call, err), -EBADMSG,
		   "a numeric method is refused");
	json_decref(m);
	m = json_pack("{s:s}", "method", "nodot");
	tap_eq_int(varlink_call_parse(m, &call, err), -EBADMSG,
		   "a method without interface is refused");
	json_decref(m);
	m = json_pack("{s:s, s:b}", "method", "a.B", "upgrade", 1);
	tap_eq_int(varlink_call_parse(m, &call, err), -EBADMSG,
		   "upgrade is refused");
	json_decref(m);
	m = json_pack("{s:s, s:i}", "method", "a.B", "bogus", 1);
	tap_eq_int(varlink_call_parse(m, &call, err), -EBADMSG,
		   "an unknown key is refused");
	tap_ok(strstr(err, "bogus") != NULL, "and named: %s", err);
	json_decref(m);
	m = json_pack("{s:s, s:i}", "method", "a.B", "more", 1);
	tap_eq_int(varlink_call_parse(m, &call, err), -EBADMSG,
		   "a non-boolean more is refused");
	json_decref(m);

	p = json_pack("{s:i}", "ino", 5);
	tap_eq_int(varlink_params_check(p, spec, 2, &bad), 0,
		   "good parameters pass");
	json_decref(p);
	p = json_pack("{s:i, s:n}", "ino", 5, "on");
	tap_eq_int(varlink_params_check(p, spec, 2, &bad), 0,
		   "null for an optional parameter passes");
	json_decref(p);
	p = json_pack("{s:i, s:i}", "ino", 5, "x");
	tap_eq_int(varlink_params_check(p, spec, 2, &bad), -EINVAL,
		   "an unknown parameter is refused");
	tap_ok(bad && !strcmp(bad, "x"), "and named");
	json_decref(p);
	p = json_pack("{s:s}", "ino", "5");
	tap_eq_int(varlink_params_check(p, spec, 2, &bad), -EINVAL,
		   "a string for an int is refused");
	tap_ok(bad && !strcmp(bad, "ino"), "and named");
	json_decref(p);
	p = json_pack("{s:i}", "ino", 101);
	tap_eq_int(varlink_params_check(p, spec, 2, &bad), -EINVAL,
		   "an int out of range is refused");
	json_decref(p);
	p = json_pack("{s:f}", "ino", 5.0);
	tap_eq_int(varlink_params_check(p, spec, 2, &bad), -EINVAL,
		   "a float for an int is refused");
	json_decref(p);
	p = json_pack("{s:b}", "on", 1);
	tap_eq_int(varlink_params_check(p, spec, 2, &bad), -EINVAL,
		   "a missing required parameter is refused");
	tap_ok(bad && !strcmp(bad, "ino"), "and named");
	json_decref(p);
}

static void test_client(void)
{
	struct varlink_reply r;
	struct varlink_conn *c;
	char buf[256];
	ssize_t n;
	int sv[2];
	static const char replies[] =
		"{\"parameters\":{\"a\":1},\"continues\":true}\0"
		"{\"error\":\"x.Y\"}\0{\"error\":\"\"}\0{\"parameters\":7}";

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		exit(2);
	c = varlink_conn_new(sv[0], 0);
	varlink_conn_set_timeout(c, 2000);
	tap_eq_int(varlink_call(c, "a.B", NULL, VARLINK_CALL_ONEWAY), 0,
		   "send a call");
	n = read(sv[1], buf, sizeof(buf));
	tap_ok(n > 0 && buf[n - 1] == '\0', "it ends with a NUL");
	tap_ok(n > 0 && strstr(buf, "\"oneway\":true") != NULL,
	       "it carries oneway: %.*s", (int)n, buf);
	put(sv[1], replies, sizeof(replies));
	close(sv[1]);
	tap_eq_int(varlink_recv_reply(c, &r), 0, "first reply");
	tap_ok(r.continues && !r.error &&
	       json_integer_value(json_object_get(r.params, "a")) == 1,
	       "continues, no error, its parameters");
	varlink_reply_clear(&r);
	tap_eq_int(varlink_recv_reply(c, &r), 0, "an error reply");
	tap_ok(r.error && !strcmp(r.error, "x.Y") && json_is_object(r.params),
	       "its error name, and empty parameters");
	varlink_reply_clear(&r);
	tap_eq_int(varlink_recv_reply(c, &r), -EBADMSG,
		   "an empty error name is refused (found by fuzz-varlink)");
	tap_eq_int(varlink_recv_reply(c, &r), -EBADMSG,
		   "parameters that are not an object are refused");
	tap_eq_int(varlink_recv_reply(c, &r), -ECONNRESET,
		   "then the closed connection shows");
	varlink_conn_free(c);

	tap_eq_int(varlink_connect("/nonexistent/iomapfs.sock", &c), -ENOENT,
		   "connect to a missing socket fails with ENOENT");
}

static void test_proto(void)
{
	struct iomap m = { 4096, 8192, 1 << 20, IOMAP_MAPPED, IOMAP_F_LAST },
		     h = { 0, 4096, IOMAP_NULL_ADDR, IOMAP_HOLE, 0 }, back;
	char err[128], tbuf[PROTO_RFC3339_SIZE];
	json_t *j;
	char *s;

	j = proto_iomap_to_json(&m);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	tap_ok(s && !strcmp(s, "{\"addr\":1048576,\"flags\":[\"LAST\"],"
			       "\"length\":8192,\"offset\":4096,"
			       "\"type\":\"MAPPED\"}"),
	       "a mapping in JSON: %s", s ? s : "(null)");
	free(s);
	tap_eq_int(proto_iomap_from_json(j, &back, err, sizeof(err)), 0,
		   "and back");
	tap_ok(back.offset == m.offset && back.length == m.length &&
	       back.addr == m.addr && back.type == m.type &&
	       back.flags == m.flags, "unchanged");
	json_decref(j);
	j = proto_iomap_to_json(&h);
	tap_ok(json_is_null(json_object_get(j, "addr")),
	       "a hole's addr is null");
	tap_eq_int(json_array_size(json_object_get(j, "flags")), 0,
		   "no flags is an empty array");
	json_decref(j);
	j = json_pack("{s:i, s:i, s:n, s:s, s:[]}", "offset", 0, "length", 10,
		      "addr", "type", "MAPPED", "flags");
	tap_eq_int(proto_iomap_from_json(j, &back, err, sizeof(err)), -EINVAL,
		   "a MAPPED mapping without addr is refused");
	json_decref(j);
	proto_time_rfc3339(1000000000ull * 86400 + 5, tbuf, sizeof(tbuf));
	tap_ok(!strcmp(tbuf, "1970-01-02T00:00:00.000000005Z"),
	       "RFC 3339 time: %s", tbuf);
}

static void test_ctlpath(void)
{
	static const struct {
		const char *in, *out;
	} esc[] = {
		{ "/mnt/a b", "mnt-a\\x20b" },
		{ "/", "-" },
		{ "//mnt//x/", "mnt-x" },
		{ "/mnt/.x-y/z\\q", "mnt-.x\\x2dy-z\\x5cq" },
		{ "/.hidden", "\\x2ehidden" },
		{ "/mnt/\xc3\xa4", "mnt-\\xc3\\xa4" },
	};
	char dir[] = "/tmp/iomapfs-unit-XXXXXX", *s, *back, *path, *sub;
	struct ctlpath_entry *list;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	size_t i, n;
	int fd;

	for (i = 0; i < sizeof(esc) / sizeof(esc[0]); i++) {
		tap_eq_int(ctlpath_escape(esc[i].in, &s), 0, "escape %s",
			   esc[i].in);
		tap_ok(s && !strcmp(s, esc[i].out), "%s -> %s (want %s)",
		       esc[i].in, s ? s : "(null)", esc[i].out);
		if (s && ctlpath_unescape(s, &back) == 0) {
			tap_ok(i == 2 || !strcmp(back, esc[i].in),
			       "%s unescapes to %s", s, back);
			free(back);
		}
		free(s);
	}
	tap_eq_int(ctlpath_escape("rel/path", &s), -EINVAL,
		   "a relative path is refused");
	tap_eq_int(ctlpath_escape("/a/../b", &s), -EINVAL,
		   "a .. component is refused");
	tap_eq_int(ctlpath_unescape("a\\x2", &s), -EINVAL,
		   "a cut escape is refused");

	if (!mkdtemp(dir))
		exit(2);
	if (asprintf(&sub, "%s/rt", dir) < 0)
		exit(2);
	tap_eq_int(ctlpath_ensure_dir(sub), 0, "create the runtime dir");
	/* stat() first: the order in which arguments are evaluated is
	 * unspecified, so st must be filled before the call that prints it. */
	if (stat(sub, &st) != 0)
		st.st_mode = 0;
	tap_ok((st.st_mode & 07777) == 0700,
	       "it is mode 0700 (%o)", st.st_mode & 07777);
	tap_eq_int(ctlpath_ensure_dir(sub), 0, "an existing good one is fine");
	chmod(sub, 0755);
	tap_eq_int(ctlpath_ensure_dir(sub), -EPERM,
		   "one open to others is refused");
	chmod(sub, 0700);
	tap_eq_int(ctlpath_for_mountpoint(sub, "/mnt/a b", &path), 0,
		   "socket path for /mnt/a b");
	tap_ok(strstr(path, "/rt/mnt-a\\x20b.sock") != NULL, "it is %s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	tap_ok(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	       "bind a socket there");
	free(path);
	if (asprintf(&path, "%s/zz.sock", sub) < 0)
		exit(2);
	close(open(path, O_CREAT | O_WRONLY, 0600));	/* not a socket */
	tap_eq_int(ctlpath_list(sub, &list, &n), 0, "list the sockets");
	tap_eq_int(n, 1, "one socket listed, the regular file not");
	tap_ok(n == 1 && !strcmp(list[0].mountpoint, "/mnt/a b"),
	       "its mountpoint is /mnt/a b");
	ctlpath_list_free(list, n);
	unlink(path);
	free(path);
	tap_eq_int(ctlpath_list("/nonexistent/iomapfs", &list, &n), 0,
		   "a missing directory lists nothing");
	tap_eq_int(n, 0, "nothing");
	close(fd);
	s = malloc(300);
	memset(s, 'x', 299);
	s[0] = '/';
	s[299] = '\0';
	tap_eq_int(ctlpath_for_mountpoint(sub, s, &path), 0,
		   "a mountpoint too long to spell out still gets a name");
	tap_ok(strlen(path) < sizeof(sa.sun_path) && strchr(path, '~') &&
	       !strcmp(path + strlen(path) - 5, ".sock"),
	       "cut, hashed, and fits: %s", path);
	back = path;
	s[298] = 'y';
	tap_eq_int(ctlpath_for_mountpoint(sub, s, &path), 0,
		   "another long mountpoint");
	tap_ok(strcmp(back, path) != 0, "gets another name");
	free(path);
	s[298] = 'x';
	tap_eq_int(ctlpath_for_mountpoint(sub, s, &path), 0, "the first again");
	tap_ok(!strcmp(back, path), "gets the same name as before");
	free(path);
	free(back);
	free(s);
	s = malloc(300);
	memset(s, 'd', 299);
	s[0] = '/';
	s[299] = '\0';
	tap_eq_int(ctlpath_for_mountpoint(s, "/mnt", &path), -ENAMETOOLONG,
		   "a runtime directory that leaves no room is refused");
	free(s);
	if (asprintf(&path, "rm -rf '%s'", dir) > 0) {
		if (system(path))
			tap_diag("could not remove %s", dir);
		free(path);
	}
	free(sub);
}

/* "test-varlink escape PATH" prints the socket name of PATH, so that the
 * shell test can compare it with systemd-escape. */
int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "escape")) {
		char *s;
		int ret = ctlpath_escape(argv[2], &s);

		if (ret) {
			fprintf(stderr, "escape %s: %s\n", argv[2],
				strerror(-ret));
			return 1;
		}
		printf("%s\n", s);
		free(s);
		return 0;
	}
	test_framing();
	test_calls();
	test_client();
	test_proto();
	test_ctlpath();
	return tap_done();
}
