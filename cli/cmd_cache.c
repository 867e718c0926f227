// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_cache.c - the commands that change the cache: `flush` (invalidate
 * all, one inode, or a range of one), `enable` and `disable` (caching at
 * run time) and `limits` (show or set the memory and event budgets).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "command.h"
#include "output.h"
#include "proto.h"
#include "size.h"

int cmd_flush(struct ictl *c, const struct cmd_args *a)
{
	json_t *params, *reply = NULL, *doc;
	bool all = a->all;
	char *path = NULL;
	uint64_t ino = 0;
	int ret;

	if (all && (a->argc || a->range))
		return ictl_usage(c, "--all takes no INODE|PATH or --range");
	if (!all && a->argc != 1)
		return ictl_usage(c, "give --all, or one INODE|PATH");
	if (a->off > PROTO_MAX_INT || a->len > PROTO_MAX_INT)
		return ictl_usage(c, "--range past 2^63");
	if (all) {
		params = json_object();
	} else {
		ret = client_resolve(c, a->argv[0], &ino, &path);
		if (ret)
			return ret;
		params = json_pack("{s:I}", "ino", (json_int_t)ino);
		if (params && a->range) {
			json_object_set_new(params, "offset",
					    json_integer((json_int_t)a->off));
			if (a->len)
				json_object_set_new(
					params, "length",
					json_integer((json_int_t)a->len));
		}
	}
	if (!params) {
		free(path);
		return ictl_errno(c, ICTL_EXIT_FAILED, -ENOMEM, "flush");
	}
	ret = client_call(c, PROTO_M_FLUSH, params, &reply);
	if (ret)
		goto out_free;
	if (c->out_mode == ICTL_OUT_JSON) {
		doc = ictl_doc_new(c->cmd_name);
		if (doc) {
			json_object_update(doc, reply);
			if (!all)
				json_object_set_new(
					doc, "ino",
					json_integer((json_int_t)ino));
		}
		ret = ictl_doc_print(doc);
	} else {
		json_int_t n =
			json_integer_value(json_object_get(reply, "flushed"));

		if (all)
			printf("flushed %" JSON_INTEGER_FORMAT
			       " mappings of every inode\n",
			       n);
		else if (a->range)
			printf("flushed %" JSON_INTEGER_FORMAT " mappings of "
			       "inode %" PRIu64 " in 0x%" PRIx64 ":0x%" PRIx64
			       "\n",
			       n, ino, a->off, a->len);
		else
			printf("flushed %" JSON_INTEGER_FORMAT " mappings of "
			       "inode %" PRIu64 "\n",
			       n, ino);
	}
	json_decref(reply);
out_free:
	free(path);
	return ret;
}

static int set_caching(struct ictl *c, bool on)
{
	json_t *reply = NULL;
	int ret;

	ret = client_call(c, PROTO_M_SET_CACHING,
			  json_pack("{s:b}", "enabled", on), &reply);
	if (ret)
		return ret;
	ret = out_switch_print(c, reply,
			       on ? "caching enabled" : "caching disabled", on);
	json_decref(reply);
	return ret;
}

int cmd_enable(struct ictl *c, const struct cmd_args *a)
{
	return set_caching(c, true);
}

int cmd_disable(struct ictl *c, const struct cmd_args *a)
{
	return set_caching(c, false);
}

static const char *const limit_keys[] = {
	PROTO_LIMIT_CACHE_MAX,
	PROTO_LIMIT_CACHE_INODE_MAX,
	PROTO_LIMIT_EVENT_RING,
};

int cmd_limits(struct ictl *c, const struct cmd_args *a)
{
	json_t *params = NULL, *reply = NULL;
	const char *method = PROTO_M_GET_LIMITS;
	int i, ret;

	if (a->argc) {
		params = json_object();
		if (!params)
			return ictl_errno(c, ICTL_EXIT_FAILED, -ENOMEM,
					  "limits");
		method = PROTO_M_SET_LIMITS;
	}
	for (i = 0; i < a->argc; i++) {
		const char *arg = a->argv[i], *eq = strchr(arg, '=');
		size_t k, klen = eq ? (size_t)(eq - arg) : 0;
		const char *why = NULL;
		uint64_t v;

		for (k = 0; eq && k < sizeof(limit_keys) / sizeof(*limit_keys);
		     k++)
			if (strlen(limit_keys[k]) == klen &&
			    !strncmp(arg, limit_keys[k], klen))
				break;
		if (!eq || k == sizeof(limit_keys) / sizeof(*limit_keys)) {
			json_decref(params);
			return ictl_usage(c,
					  "bad limit '%s': want KEY=VALUE "
					  "with KEY cache_max, "
					  "cache_inode_max or event_ring",
					  arg);
		}
		if (!size_parse(eq + 1, &v, &why) && v > PROTO_MAX_INT)
			why = "too large (2^63 or more)";
		if (why) {
			json_decref(params);
			return ictl_usage(c,
					  "bad value in '%s': %s; want a "
					  "SIZE, e.g. 1024 or 64M",
					  arg, why);
		}
		json_object_set_new(params, limit_keys[k],
				    json_integer((json_int_t)v));
	}
	ret = client_call(c, method, params, &reply);
	if (ret)
		return ret;
	ret = out_print_member(c, "limits", json_object_get(reply, "limits"));
	json_decref(reply);
	return ret;
}
