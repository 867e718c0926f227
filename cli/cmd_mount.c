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
#include "command.h"
#include "output.h"
#include "proto.h"

int cmd_remount(struct ictl *c, const struct cmd_args *a)
{
	json_t *reply = NULL;
	bool ro;
	int ret;

	if (!strcmp(a->argv[0], "ro"))
		ro = true;
	else if (!strcmp(a->argv[0], "rw"))
		ro = false;
	else
		return ictl_usage(c, "remount ro or remount rw, not '%s'",
				  a->argv[0]);
	ret = client_call(c, PROTO_M_SET_READ_ONLY,
			  json_pack("{s:b}", "readonly", ro), &reply);
	if (ret)
		return ret;
	ret = out_switch_print(c, reply, ro ? "read-only" : "read-write", ro);
	json_decref(reply);
	return ret;
}
