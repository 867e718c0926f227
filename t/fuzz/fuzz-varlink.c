// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz-varlink.c - fuzz harness for the Varlink framing and message checks
 * of shared/varlink.c.  The first input byte picks how the rest is fed:
 *  - server side: the bytes go through a socket into a struct
 *    varlink_rbuf (with the default 64 KiB cap or a tiny one), in chunks
 *    of a size the byte picks, and are cut with varlink_rbuf_next() until
 *    end of file.  Each message is encoded again with varlink_encode(),
 *    which must parse back to an equal message; each call that
 *    varlink_call_parse() accepts has its parameters checked against the
 *    control server's parameter specs by varlink_params_check(), whose
 *    verdict must match a naive restatement of the rules in varlink.h.
 *  - client side: the bytes are what a server sends to a struct
 *    varlink_conn, read with varlink_recv_reply() until it fails; every
 *    reply it returns must be well formed (parameters an object, error a
 *    string or NULL).
 * Return codes must be the ones varlink.h lists.  Anything else aborts.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "fuzz.h"
#include "varlink.h"

/* Parameter specs shaped like the control server's (daemon/ctl_methods.c). */
static const struct varlink_param spec_range[] = {
	{ "ino", VARLINK_T_INT, false, 1, UINT32_MAX },
	{ "offset", VARLINK_T_INT, false, 0, INT64_MAX },
	{ "length", VARLINK_T_INT, true, 1, INT64_MAX },
};
static const struct varlink_param spec_kinds[] = {
	{ "enabled", VARLINK_T_BOOL, true, 0, 0 },
	{ "any", VARLINK_T_INT, false, 0, 0 },
	{ "ratio", VARLINK_T_FLOAT, false, 0, 0 },
	{ "interface", VARLINK_T_STRING, false, 0, 0 },
	{ "obj", VARLINK_T_OBJECT, false, 0, 0 },
	{ "list", VARLINK_T_ARRAY, false, 0, 0 },
	{ "count", VARLINK_T_INT, false, -5, 16 },
};

struct spec {
	const struct varlink_param *p;
	size_t n;
};

static const struct spec specs[] = {
	{ spec_range, 0 },	/* no parameter at all */
	{ spec_range, sizeof(spec_range) / sizeof(spec_range[0]) },
	{ spec_kinds, sizeof(spec_kinds) / sizeof(spec_kinds[0]) },
};

static bool ref_type_ok(const json_t *v, const struct varlink_param *p)
{
	json_int_t i;

	switch (p->type) {
	case VARLINK_T_BOOL:
		return json_typeof(v) == JSON_TRUE ||
		       json_typeof(v) == JSON_FALSE;
	case VARLINK_T_INT:
		if (json_typeof(v) != JSON_INTEGER)
			return false;
		i = json_integer_value(v);
		return (!p->min && !p->max) || (i >= p->min && i <= p->max);
	case VARLINK_T_FLOAT:
		return json_typeof(v) == JSON_INTEGER ||
		       json_typeof(v) == JSON_REAL;
	case VARLINK_T_STRING:
		return json_typeof(v) == JSON_STRING;
	case VARLINK_T_OBJECT:
		return json_typeof(v) == JSON_OBJECT;
	case VARLINK_T_ARRAY:
		return json_typeof(v) == JSON_ARRAY;
	}
	return false;
}

static const struct varlink_param *ref_find(const struct spec *s,
					    const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->p[i].name, name))
			return &s->p[i];
	return NULL;
}

/* Whether parameter @name is wrong in @params under @s: unknown, of the
 * wrong type or out of range, or required and missing or null. */
static bool ref_bad(const json_t *params, const struct spec *s,
		    const char *name)
{
	const struct varlink_param *p = ref_find(s, name);
	json_t *v = json_object_get(params, name);

	if (!p)
		return v != NULL;
	if (!v || json_is_null(v))
		return p->required;
	return !ref_type_ok(v, p);
}

static void check_params(const json_t *params)
{
	size_t k;

	for (k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
		const struct spec *s = &specs[k];
		const char *bad = (const char *)1, *key;
		bool want_bad = false;
		json_t *v;
		size_t i;
		int ret;

		json_object_foreach((json_t *)params, key, v)
			want_bad |= ref_bad(params, s, key);
		for (i = 0; i < s->n; i++)
			want_bad |= ref_bad(params, s, s->p[i].name);
		ret = varlink_params_check(params, s->p, s->n, &bad);
		if (ret != 0 && ret != -EINVAL)
			fuzz_fail("varlink_params_check: returned %d", ret);
		if (want_bad != (ret == -EINVAL))
			fuzz_fail("varlink_params_check (spec %zu): %s, the "
				  "rules say %s", k, ret ? "refused" : "passed",
				  want_bad ? "refuse" : "pass");
		if (ret && (!bad || !ref_bad(params, s, bad)))
			fuzz_fail("varlink_params_check (spec %zu): blames "
				  "\"%s\", which is fine", k,
				  bad ? bad : "(null)");
		if (ret)
			continue;
		for (i = 0; i < s->n; i++) {
			json_t *pv = json_object_get(params, s->p[i].name);
			int64_t iv = 0;
			bool bv = false;

			if (varlink_param_int(params, s->p[i].name, &iv) !=
			    json_is_integer(pv) ||
			    (json_is_integer(pv) &&
			     iv != json_integer_value(pv)))
				fuzz_fail("varlink_param_int(\"%s\") is wrong",
					  s->p[i].name);
			if (varlink_param_bool(params, s->p[i].name, &bv) !=
			    json_is_boolean(pv) ||
			    (json_is_boolean(pv) && bv != json_is_true(pv)))
				fuzz_fail("varlink_param_bool(\"%s\") is wrong",
					  s->p[i].name);
		}
	}
}

static void check_message(json_t *msg, size_t max)
{
	char err[VARLINK_ERRMSG_SIZE];
	struct varlink_call call;
	json_t *again = NULL;
	char *buf = NULL;
	size_t len = 0;
	int ret;

	if (!json_is_object(msg))
		fuzz_fail("varlink_rbuf_next returned a non-object");
	ret = varlink_encode(msg, 0, &buf, &len);
	if (ret)
		fuzz_fail("varlink_encode of a parsed message: %d", ret);
	if (!len || buf[len - 1] || memchr(buf, 0, len - 1))
		fuzz_fail("varlink_encode: not one NUL, at the end");
	ret = varlink_parse(buf, len - 1, &again, err);
	if (ret)
		fuzz_fail("an encoded message does not parse back: %s", err);
	if (!json_equal(msg, again))
		fuzz_fail("an encoded message parses back different: %s",
			  buf);
	json_decref(again);
	free(buf);
	buf = NULL;
	/* With a cap: refused exactly when longer than the cap. */
	if (max) {
		size_t full = len;

		ret = varlink_encode(msg, max, &buf, &len);
		if (ret != (full > max ? -EMSGSIZE : 0))
			fuzz_fail("varlink_encode of %zu bytes with cap %zu: "
				  "%d", full, max, ret);
		if (!ret)
			free(buf);
		buf = NULL;
	}

	ret = varlink_call_parse(msg, &call, err);
	if (ret == -EBADMSG) {
		if (!err[0] || !memchr(err, 0, VARLINK_ERRMSG_SIZE))
			fuzz_fail("varlink_call_parse: no reason given");
		return;
	}
	if (ret)
		fuzz_fail("varlink_call_parse: returned %d", ret);
	if (!call.method || !strchr(call.method, '.') ||
	    !json_is_object(call.params))
		fuzz_fail("varlink_call_parse accepted a malformed call");
	check_params(call.params);
}

static int make_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		fuzz_fail("socketpair: %s", strerror(errno));
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0)
		fuzz_fail("fcntl: %s", strerror(errno));
	return 0;
}

/* Take every complete message from @rb; false once it cannot go on. */
static bool drain(struct varlink_rbuf *rb)
{
	char err[VARLINK_ERRMSG_SIZE];
	json_t *msg;
	int ret;

	for (;;) {
		memset(err, 0, sizeof(err));
		ret = varlink_rbuf_next(rb, &msg, err);
		if (ret == 0)
			return true;
		if (ret == 1) {
			check_message(msg, rb->max);
			json_decref(msg);
			continue;
		}
		if (ret != -EBADMSG && ret != -EMSGSIZE && ret != -EPROTO)
			fuzz_fail("varlink_rbuf_next: returned %d", ret);
		if (!err[0])
			fuzz_fail("varlink_rbuf_next: %d with no reason", ret);
		if (ret != -EBADMSG)
			return false;
	}
}

static void run_server(uint8_t mode, const uint8_t *data, size_t size)
{
	size_t max = (mode & 0x10) ? 64 + (mode & 0x0f) * 16 : 0;
	size_t chunk = (mode & 0x0f) ? (size_t)1 << (mode & 0x07) : size;
	struct varlink_rbuf rb;
	size_t off = 0;
	bool alive = true;
	int sv[2];

	make_pair(sv);
	varlink_rbuf_init(&rb, max);
	while (alive && off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		ssize_t r;

		if (write(sv[1], data + off, n) != (ssize_t)n)
			fuzz_fail("write to the socket pair: %s",
				  strerror(errno));
		off += n;
		for (;;) {
			r = varlink_rbuf_fill(&rb, sv[0]);
			if (r == -EAGAIN)
				break;
			if (r == -ENOBUFS) {
				/* A whole message is buffered: take it. */
				alive = drain(&rb);
				if (!alive)
					break;
				continue;
			}
			if (r <= 0)
				fuzz_fail("varlink_rbuf_fill: %zd", r);
			if (rb.len > rb.max)
				fuzz_fail("the buffer grew past its cap");
			alive = drain(&rb);
			if (!alive)
				break;
		}
	}
	close(sv[1]);
	while (alive) {
		ssize_t r = varlink_rbuf_fill(&rb, sv[0]);

		if (r == -ENOBUFS) {
			alive = drain(&rb);
			continue;
		}
		if (r < 0 && r != -EAGAIN)
			fuzz_fail("varlink_rbuf_fill at the end: %zd", r);
		alive = drain(&rb);
		if (r == 0) {
			if (!rb.eof)
				fuzz_fail("end of file not recorded");
			if (alive && rb.len) {
				/* Bytes with no NUL before EOF: -EPROTO. */
				alive = drain(&rb);
				if (alive)
					fuzz_fail("unterminated bytes "
						  "accepted at EOF");
			}
			break;
		}
	}
	varlink_rbuf_free(&rb);
	close(sv[0]);
}

static void run_client(uint8_t mode, const uint8_t *data, size_t size)
{
	struct varlink_conn *c;
	struct varlink_reply r;
	unsigned int n = 0;
	int sv[2], ret;

	make_pair(sv);
	/* The peer's bytes are all there before the first read. */
	if (size && write(sv[1], data, size) != (ssize_t)size)
		fuzz_fail("write to the socket pair: %s", strerror(errno));
	close(sv[1]);
	c = varlink_conn_new(sv[0], (mode & 0x10) ? 128 : 0);
	if (!c)
		fuzz_fail("varlink_conn_new: out of memory");
	varlink_conn_set_timeout(c, 5000);
	for (;;) {
		memset(&r, 0, sizeof(r));
		ret = varlink_recv_reply(c, &r);
		if (ret)
			break;
		if (!json_is_object(r.params) || !json_is_object(r.msg))
			fuzz_fail("varlink_recv_reply: params or message is "
				  "not an object");
		if (r.error && !*r.error)
			fuzz_fail("varlink_recv_reply: empty error name");
		varlink_reply_clear(&r);
		if (++n > size)
			fuzz_fail("more replies than bytes");
	}
	if (ret != -ECONNRESET && ret != -EMSGSIZE && ret != -EPROTO &&
	    ret != -EBADMSG)
		fuzz_fail("varlink_recv_reply: returned %d", ret);
	if (!varlink_conn_error(c)[0])
		fuzz_fail("varlink_recv_reply: %d with no reason", ret);
	varlink_conn_free(c);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode;

	if (!size)
		return 0;
	mode = data[0];
	if (mode & 0x80)
		run_client(mode, data + 1, size - 1);
	else
		run_server(mode, data + 1, size - 1);
	return 0;
}
