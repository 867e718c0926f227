// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_mount.c - the commands about the mount itself rather than its
 * cache: `remount` (switch the filesystem read-only or read-write again).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "output.h"
#include "proto.h"

int cmd_remount(struct ictl *c, int argc, char **argv)
{
	json_t *reply = NULL, *doc;
	bool ro, prev;
	int ret;

	if (!strcmp(argv[1], "ro"))
		ro = true;
	else if (!strcmp(argv[1], "rw"))
		ro = false;
	else
		return ictl_usage(c, "remount ro or remount rw, not '%s'",
				  argv[1]);
	ret = client_call(c, PROTO_M_SET_READ_ONLY,
			  json_pack("{s:b}", "readonly", ro), &reply);
	if (ret)
		return ret;
	if (c->out_mode == ICTL_OUT_JSON) {
		doc = out_doc_new(c->cmd_name);
		if (doc)
			json_object_update(doc, reply);
		ret = out_doc_print(doc);
	} else {
		prev = json_is_true(json_object_get(reply, "previous"));
		printf("%s%s\n", ro ? "read-only" : "read-write",
		       prev == ro ? " (it already was)" : "");
	}
	json_decref(reply);
	return ret;
}
