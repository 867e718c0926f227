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

#include "args.h"
#include "client.h"
#include "output.h"
#include "proto.h"

int cmd_flush(struct ictl *c, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "range", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t ino = 0, off = 0, len = 0;
	bool all = false, range = false;
	json_t *params, *reply = NULL, *doc;
	char *path = NULL;
	int o, ret;

	while ((o = cmd_getopt(c, argc, argv, "", lopts)) != -1) {
		switch (o) {
		case 'a':
			all = true;
			break;
		case 'R':
			if (ictl_parse_range(optarg, &off, &len))
				return ictl_usage(c, "bad --range '%s': want "
						  "OFF:LEN, e.g. 0:1M", optarg);
			range = true;
			break;
		default:
			return -EINVAL;
		}
	}
	if (all && (optind < argc || range))
		return ictl_usage(c, "--all takes no INODE|PATH or --range");
	if (!all && argc - optind != 1)
		return ictl_usage(c, "give --all, or one INODE|PATH");
	if (off > PROTO_MAX_INT || len > PROTO_MAX_INT)
		return ictl_usage(c, "--range past 2^63");
	if (all) {
		params = json_object();
	} else {
		ret = client_resolve(c, argv[optind], &ino, &path);
		if (ret)
			return ret;
		params = json_pack("{s:I}", "ino", (json_int_t)ino);
		if (params && range) {
			json_object_set_new(params, "offset",
					    json_integer((json_int_t)off));
			if (len)
				json_object_set_new(params, "length",
						json_integer((json_int_t)len));
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
		doc = out_doc_new(c->cmd_name);
		if (doc) {
			json_object_update(doc, reply);
			if (!all)
				json_object_set_new(doc, "ino",
					json_integer((json_int_t)ino));
		}
		ret = out_doc_print(doc);
	} else {
		json_int_t n = json_integer_value(
			json_object_get(reply, "flushed"));

		if (all)
			printf("flushed %" JSON_INTEGER_FORMAT
			       " mappings of every inode\n", n);
		else if (range)
			printf("flushed %" JSON_INTEGER_FORMAT " mappings of "
			       "inode %" PRIu64 " in 0x%" PRIx64 ":0x%"
			       PRIx64 "\n", n, ino, off, len);
		else
			printf("flushed %" JSON_INTEGER_FORMAT " mappings of "
			       "inode %" PRIu64 "\n", n, ino);
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

int cmd_enable(struct ictl *c, int argc, char **argv)
{
	return set_caching(c, true);
}

int cmd_disable(struct ictl *c, int argc, char **argv)
{
	return set_caching(c, false);
}

static const char *const limit_keys[] = {
	PROTO_LIMIT_CACHE_MAX, PROTO_LIMIT_CACHE_INODE_MAX,
	PROTO_LIMIT_EVENT_RING,
};

int cmd_limits(struct ictl *c, int argc, char **argv)
{
	json_t *params = NULL, *reply = NULL, *doc;
	const char *method = PROTO_M_GET_LIMITS;
	int i, ret;

	if (argc > 1) {
		params = json_object();
		if (!params)
			return ictl_errno(c, ICTL_EXIT_FAILED, -ENOMEM,
					  "limits");
		method = PROTO_M_SET_LIMITS;
	}
	for (i = 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		size_t k, klen = eq ? (size_t)(eq - argv[i]) : 0;
		uint64_t v;

		for (k = 0; eq && k < sizeof(limit_keys) / sizeof(*limit_keys);
		     k++)
			if (strlen(limit_keys[k]) == klen &&
			    !strncmp(argv[i], limit_keys[k], klen))
				break;
		if (!eq || k == sizeof(limit_keys) / sizeof(*limit_keys)) {
			json_decref(params);
			return ictl_usage(c, "bad limit '%s': want KEY=VALUE "
					  "with KEY cache_max, "
					  "cache_inode_max or event_ring",
					  argv[i]);
		}
		if (ictl_parse_size(eq + 1, &v) || v > PROTO_MAX_INT) {
			json_decref(params);
			return ictl_usage(c, "bad value in '%s': want a "
					  "number (suffixes k, M, G)",
					  argv[i]);
		}
		json_object_set_new(params, limit_keys[k],
				    json_integer((json_int_t)v));
	}
	ret = client_call(c, method, params, &reply);
	if (ret)
		return ret;
	if (c->out_mode == ICTL_OUT_JSON) {
		doc = out_doc_new(c->cmd_name);
		if (doc)
			json_object_set(doc, "limits",
					json_object_get(reply, "limits"));
		ret = out_doc_print(doc);
	} else {
		out_print_object(c, json_object_get(reply, "limits"), 0);
	}
	json_decref(reply);
	return ret;
}
