// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * varlink.c - Varlink message framing, parsing, checks of calls and
 * parameters, and the blocking client used by iomapctl and the tests.
 * Every byte that comes from a peer is treated as hostile: lengths are
 * capped before anything is allocated, nesting is measured before jansson
 * recurses, and each refusal says what was wrong.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "varlink.h"

#define RBUF_INITIAL 4096u

static void set_err(char *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(char *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err, VARLINK_ERRMSG_SIZE, fmt, ap);
	va_end(ap);
}

void varlink_rbuf_init(struct varlink_rbuf *rb, size_t max)
{
	memset(rb, 0, sizeof(*rb));
	rb->max = max ? max : VARLINK_MAX_MSG_DEFAULT;
}

void varlink_rbuf_free(struct varlink_rbuf *rb)
{
	free(rb->buf);
	rb->buf = NULL;
	rb->len = 0;
	rb->cap = 0;
}

ssize_t varlink_rbuf_fill(struct varlink_rbuf *rb, int fd)
{
	ssize_t n;

	if (rb->len >= rb->max)
		return -ENOBUFS;
	if (rb->len == rb->cap) {
		size_t ncap = rb->cap ? rb->cap * 2 : RBUF_INITIAL;
		char *nbuf;

		if (ncap > rb->max)
			ncap = rb->max;
		nbuf = realloc(rb->buf, ncap);
		if (!nbuf)
			return -ENOMEM;
		rb->buf = nbuf;
		rb->cap = ncap;
	}
	do {
		n = read(fd, rb->buf + rb->len, rb->cap - rb->len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (n == 0) {
		rb->eof = true;
		return 0;
	}
	rb->len += (size_t)n;
	return n;
}

/*
 * Deepest nesting of arrays and objects in @text, counted outside strings,
 * so that jansson never recurses deeper than we allow.  Stops counting once
 * @limit is passed.
 */
static int json_depth(const char *text, size_t len, int limit)
{
	bool in_str = false, esc = false;
	int depth = 0, deepest = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char ch = text[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (ch == '\\')
				esc = true;
			else if (ch == '"')
				in_str = false;
			continue;
		}
		switch (ch) {
		case '"':
			in_str = true;
			break;
		case '[':
		case '{':
			if (++depth > deepest) {
				deepest = depth;
				if (deepest > limit)
					return deepest;
			}
			break;
		case ']':
		case '}':
			depth--;
			break;
		default:
			break;
		}
	}
	return deepest;
}

/*
 * Whether @s holds valid UTF-8 (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF).  jansson checks too, but its message does not
 * say "UTF-8" in every version; this gives one clear diagnostic.
 */
static bool utf8_valid(const unsigned char *s, size_t len, size_t *bad)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t need, k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			goto out_bad;
		}
		if (len - i <= need)
			goto out_bad;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto out_bad;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto out_bad;
		i += need + 1;
	}
	return true;
out_bad:
	*bad = i;
	return false;
}

int varlink_parse(const char *text, size_t len, json_t **msg,
		  char err[VARLINK_ERRMSG_SIZE])
{
	json_error_t jerr;
	size_t bad;
	json_t *j;
	int depth;

	*msg = NULL;
	if (!utf8_valid((const unsigned char *)text, len, &bad)) {
		set_err(err, "invalid UTF-8 at byte %zu of the message", bad);
		return -EBADMSG;
	}
	depth = json_depth(text, len, VARLINK_MAX_DEPTH);
	if (depth > VARLINK_MAX_DEPTH) {
		set_err(err, "JSON nested deeper than %d levels",
			VARLINK_MAX_DEPTH);
		return -EBADMSG;
	}
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		set_err(err, "invalid JSON at byte %d: %s", jerr.position,
			jerr.text);
		return -EBADMSG;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		set_err(err, "the message is not a JSON object");
		return -EBADMSG;
	}
	*msg = j;
	return 0;
}

int varlink_rbuf_next(struct varlink_rbuf *rb, json_t **msg,
		      char err[VARLINK_ERRMSG_SIZE])
{
	char *nul;
	size_t mlen;
	int ret;

	*msg = NULL;
	nul = rb->len ? memchr(rb->buf, '\0', rb->len) : NULL;
	if (!nul) {
		if (rb->len >= rb->max) {
			set_err(err, "message longer than %zu bytes", rb->max);
			return -EMSGSIZE;
		}
		if (rb->eof && rb->len) {
			set_err(err, "connection closed inside a message "
				"(%zu bytes without a NUL terminator)",
				rb->len);
			return -EPROTO;
		}
		return 0;
	}
	mlen = (size_t)(nul - rb->buf);
	ret = varlink_parse(rb->buf, mlen, msg, err);
	memmove(rb->buf, nul + 1, rb->len - mlen - 1);
	rb->len -= mlen + 1;
	return ret ? ret : 1;
}

int varlink_encode(const json_t *msg, size_t max, char **buf, size_t *len)
{
	size_t n;
	char *s;

	*buf = NULL;
	*len = 0;
	n = json_dumpb(msg, NULL, 0, JSON_COMPACT);
	if (n == 0)
		return -ENOMEM;
	if (max && n + 1 > max)
		return -EMSGSIZE;
	s = malloc(n + 1);
	if (!s)
		return -ENOMEM;
	if (json_dumpb(msg, s, n, JSON_COMPACT) != n) {
		free(s);
		return -ENOMEM;
	}
	s[n] = '\0';
	*buf = s;
	*len = n + 1;
	return 0;
}

json_t *varlink_call_new(const char *method, const json_t *params,
			 unsigned int flags)
{
	json_t *m, *p;

	m = json_object();
	if (!m)
		return NULL;
	p = params ? json_deep_copy(params) : json_object();
	if (json_object_set_new(m, "method", json_string(method)) ||
	    json_object_set_new(m, "parameters", p))
		goto out_free;
	if ((flags & VARLINK_CALL_MORE) &&
	    json_object_set_new(m, "more", json_true()))
		goto out_free;
	if ((flags & VARLINK_CALL_ONEWAY) &&
	    json_object_set_new(m, "oneway", json_true()))
		goto out_free;
	return m;
out_free:
	json_decref(m);
	return NULL;
}

json_t *varlink_reply_new(json_t *params, const char *error, bool continues)
{
	json_t *m;

	m = json_object();
	if (!m) {
		json_decref(params);
		return NULL;
	}
	if (json_object_set_new(m, "parameters",
				params ? params : json_object()))
		goto out_free;
	if (error && json_object_set_new(m, "error", json_string(error)))
		goto out_free;
	if (continues && json_object_set_new(m, "continues", json_true()))
		goto out_free;
	return m;
out_free:
	json_decref(m);
	return NULL;
}

json_t *varlink_reply_invalid_parameter(const char *param)
{
	json_t *p = json_pack("{s:s}", "parameter", param ? param : "");

	if (!p)
		return NULL;
	return varlink_reply_new(p, VARLINK_E_INVALID_PARAMETER, false);
}

/* "interface.Method": a dotted interface name, then a capitalized name. */
static bool method_name_valid(const char *s)
{
	const char *dot = strrchr(s, '.');
	const char *p;

	if (!dot || dot == s || dot[1] < 'A' || dot[1] > 'Z')
		return false;
	for (p = s; *p; p++) {
		char ch = *p;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '-'))
			return false;
	}
	return true;
}

int varlink_call_parse(json_t *msg, struct varlink_call *call,
		       char err[VARLINK_ERRMSG_SIZE])
{
	const char *key;
	json_t *v;

	memset(call, 0, sizeof(*call));
	json_object_foreach(msg, key, v) {
		if (!strcmp(key, "method")) {
			if (!json_is_string(v)) {
				set_err(err, "\"method\" is not a string");
				return -EBADMSG;
			}
			call->method = json_string_value(v);
		} else if (!strcmp(key, "parameters")) {
			if (!json_is_object(v)) {
				set_err(err, "\"parameters\" is not an object");
				return -EBADMSG;
			}
			call->params = v;
		} else if (!strcmp(key, "more") || !strcmp(key, "oneway")) {
			if (!json_is_boolean(v)) {
				set_err(err, "\"%s\" is not a boolean", key);
				return -EBADMSG;
			}
			if (key[0] == 'm')
				call->more = json_is_true(v);
			else
				call->oneway = json_is_true(v);
		} else if (!strcmp(key, "upgrade")) {
			if (!json_is_false(v)) {
				set_err(err, "connection upgrades are not "
					"supported");
				return -EBADMSG;
			}
		} else {
			set_err(err, "unknown key \"%.64s\" in a call", key);
			return -EBADMSG;
		}
	}
	if (!call->method) {
		set_err(err, "the call has no \"method\"");
		return -EBADMSG;
	}
	if (!method_name_valid(call->method)) {
		set_err(err, "\"%.64s\" is not a method name "
			"(interface.Method)", call->method);
		return -EBADMSG;
	}
	if (!call->params) {
		call->params = json_object();
		if (!call->params)
			return -ENOMEM;
		/* Owned by the message from now on, like a sent one. */
		if (json_object_set_new(msg, "parameters", call->params))
			return -ENOMEM;
	}
	return 0;
}

static bool type_ok(const json_t *v, const struct varlink_param *p)
{
	json_int_t i;

	switch (p->type) {
	case VARLINK_T_BOOL:
		return json_is_boolean(v);
	case VARLINK_T_INT:
		if (!json_is_integer(v))
			return false;
		if (p->min == 0 && p->max == 0)
			return true;
		i = json_integer_value(v);
		return i >= p->min && i <= p->max;
	case VARLINK_T_FLOAT:
		return json_is_number(v);
	case VARLINK_T_STRING:
		return json_is_string(v);
	case VARLINK_T_OBJECT:
		return json_is_object(v);
	case VARLINK_T_ARRAY:
		return json_is_array(v);
	}
	return false;
}

int varlink_params_check(const json_t *params,
			 const struct varlink_param *spec, size_t n,
			 const char **bad)
{
	const char *key;
	json_t *v;
	size_t i;

	*bad = NULL;
	json_object_foreach((json_t *)params, key, v) {
		for (i = 0; i < n; i++)
			if (!strcmp(spec[i].name, key))
				break;
		if (i == n) {
			*bad = key;
			return -EINVAL;
		}
		if (json_is_null(v) && !spec[i].required)
			continue;
		if (!type_ok(v, &spec[i])) {
			*bad = spec[i].name;
			return -EINVAL;
		}
	}
	for (i = 0; i < n; i++) {
		if (!spec[i].required)
			continue;
		v = json_object_get(params, spec[i].name);
		if (!v || json_is_null(v)) {
			*bad = spec[i].name;
			return -EINVAL;
		}
	}
	return 0;
}

bool varlink_param_int(const json_t *params, const char *name, int64_t *out)
{
	json_t *v = json_object_get(params, name);

	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

bool varlink_param_bool(const json_t *params, const char *name, bool *out)
{
	json_t *v = json_object_get(params, name);

	if (!json_is_boolean(v))
		return false;
	*out = json_is_true(v);
	return true;
}

/* ---- client ------------------------------------------------------------ */

struct varlink_conn {
	int fd;
	int timeout_ms;
	struct varlink_rbuf rb;
	char err[VARLINK_ERRMSG_SIZE];
};

struct varlink_conn *varlink_conn_new(int fd, size_t max)
{
	struct varlink_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	c->timeout_ms = -1;
	varlink_rbuf_init(&c->rb, max);
	return c;
}

void varlink_conn_free(struct varlink_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	varlink_rbuf_free(&c->rb);
	free(c);
}

int varlink_conn_fd(const struct varlink_conn *c)
{
	return c->fd;
}

void varlink_conn_set_timeout(struct varlink_conn *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

const char *varlink_conn_error(const struct varlink_conn *c)
{
	return c->err;
}

int varlink_connect(const char *path, struct varlink_conn **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct varlink_conn *c;
	int fd, ret;

	*out = NULL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	do {
		ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	} while (ret < 0 && errno == EINTR);
	if (ret < 0) {
		ret = -errno;
		goto out_close;
	}
	c = varlink_conn_new(fd, VARLINK_MAX_REPLY_DEFAULT);
	if (!c) {
		ret = -ENOMEM;
		goto out_close;
	}
	*out = c;
	return 0;
out_close:
	close(fd);
	return ret;
}

/* Wait until @fd is ready for @events within the connection's timeout. */
static int conn_wait(struct varlink_conn *c, short events)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };
	int n;

	do {
		n = poll(&pfd, 1, c->timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0) {
		set_err(c->err, "no answer within %d ms", c->timeout_ms);
		return -ETIMEDOUT;
	}
	return 0;
}

int varlink_send(struct varlink_conn *c, const json_t *msg)
{
	size_t len, off = 0;
	char *buf;
	int ret;

	c->err[0] = '\0';
	ret = varlink_encode(msg, 0, &buf, &len);
	if (ret) {
		set_err(c->err, "cannot encode the message: %s",
			strerror(-ret));
		return ret;
	}
	while (off < len) {
		ssize_t n;

		ret = conn_wait(c, POLLOUT);
		if (ret)
			goto out_free;
		n = send(c->fd, buf + off, len - off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			ret = -errno;
			set_err(c->err, "send: %s", strerror(errno));
			goto out_free;
		}
		off += (size_t)n;
	}
	ret = 0;
out_free:
	free(buf);
	return ret;
}

int varlink_call(struct varlink_conn *c, const char *method,
		 const json_t *params, unsigned int flags)
{
	json_t *m = varlink_call_new(method, params, flags);
	int ret;

	if (!m)
		return -ENOMEM;
	ret = varlink_send(c, m);
	json_decref(m);
	return ret;
}

int varlink_recv(struct varlink_conn *c, json_t **msg)
{
	int ret;

	c->err[0] = '\0';
	for (;;) {
		ssize_t n;

		ret = varlink_rbuf_next(&c->rb, msg, c->err);
		if (ret)
			return ret < 0 ? ret : 0;
		if (c->rb.eof) {
			set_err(c->err, "the peer closed the connection");
			return -ECONNRESET;
		}
		ret = conn_wait(c, POLLIN);
		if (ret)
			return ret;
		n = varlink_rbuf_fill(&c->rb, c->fd);
		if (n < 0 && n != -EAGAIN) {
			set_err(c->err, "read: %s", strerror((int)-n));
			return (int)n;
		}
	}
}

void varlink_reply_clear(struct varlink_reply *r)
{
	json_decref(r->msg);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

int varlink_recv_reply(struct varlink_conn *c, struct varlink_reply *r)
{
	json_t *msg, *params, *error, *cont;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = varlink_recv(c, &msg);
	if (ret)
		return ret;
	params = json_object_get(msg, "parameters");
	error = json_object_get(msg, "error");
	cont = json_object_get(msg, "continues");
	if ((params && !json_is_object(params)) ||
	    (error && !json_is_string(error)) ||
	    (cont && !json_is_boolean(cont))) {
		set_err(c->err, "malformed reply: wrong type of "
			"\"parameters\", \"error\" or \"continues\"");
		json_decref(msg);
		return -EBADMSG;
	}
	/* An error reply names its error; "" would read as no error. */
	if (error && !*json_string_value(error)) {
		set_err(c->err, "malformed reply: an empty error name");
		json_decref(msg);
		return -EBADMSG;
	}
	if (!params) {
		params = json_object();
		if (!params || json_object_set_new(msg, "parameters", params)) {
			json_decref(msg);
			return -ENOMEM;
		}
	}
	if (error) {
		r->error = strdup(json_string_value(error));
		if (!r->error) {
			json_decref(msg);
			return -ENOMEM;
		}
	}
	r->msg = msg;
	r->params = params;
	r->continues = json_is_true(cont);
	return 0;
}
