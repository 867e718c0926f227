/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ictl.h - what every part of iomapctl shares: the state of one run
 * (struct ictl: target, output mode, the command running now), its exit
 * codes, the JSON documents of -J, and the error helpers that give every
 * failure its message and exit code.  It sits below the command table,
 * the printers and the client, and includes none of them.
 */
#ifndef IOMAPCTL_ICTL_H
#define IOMAPCTL_ICTL_H

#include <stdbool.h>

#include <jansson.h>

/* Exit codes of iomapctl, and of one command inside a script. */
enum ictl_exit {
	ICTL_EXIT_OK = 0,
	ICTL_EXIT_FAILED = 1,	/* a command failed */
	ICTL_EXIT_USAGE = 2,	/* bad command line */
	ICTL_EXIT_DAEMON = 3,	/* no daemon, or a protocol error */
	ICTL_EXIT_MISMATCH = 4, /* audit found a difference */
};

enum ictl_out_mode {
	ICTL_OUT_HUMAN = 0,
	ICTL_OUT_RAW,
	ICTL_OUT_JSON,
};

/* Version of the layout of iomapctl's -J documents. */
#define ICTL_JSON_SCHEMA 1

/* Room for the usage line of a command ("dump [INODE|PATH ...] ..."). */
#define ICTL_USAGE_MAX 256

struct ictl_client;
struct ictl_image;

/*
 * What one run of iomapctl works on and how it prints.  There is one per
 * process; commands read it and the error helpers write exit_code.
 */
struct ictl {
	/* target: at most one of these is set by the options */
	const char *mountpoint;	 /* -m */
	const char *socket_path; /* -s */
	const char *image_path;	 /* --image */

	/* output */
	enum ictl_out_mode out_mode; /* -J, -r */
	bool noheadings;	     /* -n */
	const char *columns;	     /* -o; NULL: each table's default */

	/* set up on first use, torn down by ictl_close() (client.h) */
	struct ictl_client *client;
	struct ictl_image *image;
	char *mountpoint_abs; /* realpath of -m, once known */

	/* the command running now: set by cmd_run() for the messages */
	const char *cmd_name;
	char cmd_usage[ICTL_USAGE_MAX]; /* its synopsis, for ictl_usage() */
	/* exit code of the command running now (ICTL_EXIT_*) */
	int exit_code;
	bool in_shell; /* interactive: shell-only commands */
	bool quiet;    /* errors not printed (completion) */
};

/*
 * Error helpers.  Each prints "iomapctl: CMD: message" (or a JSON error
 * document with -J), records @exit_code in c->exit_code unless a more
 * specific one is already set, and returns a negative errno: @err if it
 * is negative, else -EINVAL.  ictl_errno() appends ": strerror(-err)".
 */
#define ictl_fail(c, exit_code, err, ...) \
	ictl_failf(c, exit_code, err, false, __VA_ARGS__)
#define ictl_errno(c, exit_code, err, ...) \
	ictl_failf(c, exit_code, err, true, __VA_ARGS__)
int ictl_failf(struct ictl *c, int exit_code, int err, bool with_errno,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The core of the above: report @msg with the Varlink error @verror
 * (may be NULL) and return @err. */
int ictl_report(struct ictl *c, int exit_code, const char *verror, int err,
		const char *msg);
/*
 * A usage error of the running command (exit code 2); for people, its
 * usage line (c->cmd_usage) follows the message.
 */
int ictl_usage(struct ictl *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A new JSON document for command @cmd: {"schema_version":N,"command":cmd}.
 * NULL when out of memory.
 */
json_t *ictl_doc_new(const char *cmd);

/* Print @doc on one line of stdout and drop the reference.  0 or -errno. */
int ictl_doc_print(json_t *doc);

/*
 * Print the document of command @cmd with the members given as name and
 * value pairs, ended by NULL; each value's reference is taken (NULL values,
 * as from a failed allocation, make it -ENOMEM).  0 or -errno.
 */
int ictl_doc_print_with(const char *cmd, ...);

#endif /* IOMAPCTL_ICTL_H */
