// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ictl.c - the error helpers and the JSON documents behind ictl.h: every
 * failure of iomapctl is printed here, once, as "iomapctl: CMD: message"
 * or as a -J error document, and gets its exit code here.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ictl.h"

json_t *ictl_doc_new(const char *cmd)
{
	return json_pack("{s:i, s:s}", "schema_version", ICTL_JSON_SCHEMA,
			 "command", cmd ? cmd : "");
}

int ictl_doc_print(json_t *doc)
{
	int ret;

	if (!doc)
		return -ENOMEM;
	ret = json_dumpf(doc, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (ret)
		return -EIO;
	if (putchar('\n') == EOF || fflush(stdout))
		return -EIO;
	return 0;
}

int ictl_doc_print_with(const char *cmd, ...)
{
	json_t *doc = ictl_doc_new(cmd), *v;
	const char *name;
	va_list ap;
	bool nomem = !doc;

	va_start(ap, cmd);
	while ((name = va_arg(ap, const char *))) {
		v = va_arg(ap, json_t *);
		if (!v || !doc)
			nomem = true;
		if (v && !doc)
			json_decref(v);
		else if (v && json_object_set_new(doc, name, v))
			nomem = true;
	}
	va_end(ap);
	if (nomem) {
		json_decref(doc);
		return -ENOMEM;
	}
	return ictl_doc_print(doc);
}

/*
 * "iomapctl: CMD: MSG" on stderr, or with -J an error document on stdout
 * carrying @exit_code and, when set, the Varlink error name @verror.
 */
static void ictl_print_error(struct ictl *c, int exit_code, const char *verror,
			     const char *msg)
{
	json_t *doc;

	fflush(stdout);
	if (c->out_mode != ICTL_OUT_JSON) {
		if (c->cmd_name)
			fprintf(stderr, "iomapctl: %s: %s\n", c->cmd_name, msg);
		else
			fprintf(stderr, "iomapctl: %s\n", msg);
		return;
	}
	doc = ictl_doc_new(c->cmd_name);
	if (doc)
		json_object_set_new(doc, "error",
				    json_pack("{s:i, s:s?, s:s}", "exit_code",
					      exit_code, "varlink_error",
					      verror, "message", msg));
	if (ictl_doc_print(doc))
		fprintf(stderr, "iomapctl: %s\n", msg);
}

int ictl_report(struct ictl *c, int exit_code, const char *verror, int err,
		const char *msg)
{
	if (!c->exit_code)
		c->exit_code = exit_code;
	if (!c->quiet)
		ictl_print_error(c, exit_code, verror, msg);
	return err < 0 ? err : -EINVAL;
}

static int ictl_vfail(struct ictl *c, int exit_code, int err, bool with_errno,
		      const char *fmt, va_list ap)
{
	char msg[1024];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno && err < 0 && n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s",
			 strerror(-err));
	return ictl_report(c, exit_code, NULL, err, msg);
}

int ictl_failf(struct ictl *c, int exit_code, int err, bool with_errno,
	       const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = ictl_vfail(c, exit_code, err, with_errno, fmt, ap);
	va_end(ap);
	return ret;
}

int ictl_usage(struct ictl *c, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = ictl_vfail(c, ICTL_EXIT_USAGE, -EINVAL, false, fmt, ap);
	va_end(ap);
	if (c->cmd_name && !c->quiet && c->out_mode != ICTL_OUT_JSON)
		fprintf(stderr, "usage: iomapctl %s\n", c->cmd_usage);
	return ret;
}
