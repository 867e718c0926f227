/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * command.h - iomapctl's command table and the state every command sees.
 * One const table of command records, sorted by name, drives dispatch, the
 * argument-count checks, `help`, tab completion in the shell and in bash,
 * and the test that checks the man page names every command.  A handler
 * gets the words of its command line (argv[0] is the command's name) and
 * returns 0 or a negative errno; the error helpers below record which exit
 * code the failure maps to.
 */
#ifndef IOMAPCTL_COMMAND_H
#define IOMAPCTL_COMMAND_H

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes of iomapctl, and of one command inside a script. */
enum ictl_exit {
	ICTL_EXIT_OK = 0,
	ICTL_EXIT_FAILED = 1,	/* a command failed */
	ICTL_EXIT_USAGE = 2,	/* bad command line */
	ICTL_EXIT_DAEMON = 3,	/* no daemon, or a protocol error */
	ICTL_EXIT_MISMATCH = 4,	/* audit found a difference */
};

enum ictl_out_mode {
	ICTL_OUT_HUMAN = 0,
	ICTL_OUT_RAW,
	ICTL_OUT_JSON,
};

/* Version of the layout of iomapctl's -J documents. */
#define ICTL_JSON_SCHEMA 1

struct ictl_client;
struct ictl_image;

/*
 * What one run of iomapctl works on and how it prints.  There is one per
 * process; commands read it and the error helpers write exit_code.
 */
struct ictl {
	/* target: at most one of these is set by the options */
	const char *mountpoint;		/* -m */
	const char *socket_path;	/* -s */
	const char *image_path;		/* --image */

	/* output */
	enum ictl_out_mode out_mode;	/* -J, -r */
	bool noheadings;		/* -n */
	const char *columns;		/* -o; NULL: each table's default */

	/* set up on first use, torn down by ictl_close() */
	struct ictl_client *client;
	struct ictl_image *image;
	char *mountpoint_abs;		/* realpath of -m, once known */

	/* exit code of the command running now (ICTL_EXIT_*) */
	int exit_code;
	const char *cmd_name;		/* command running now, for errors */
	bool in_shell;			/* interactive: shell-only commands */
	bool quiet;			/* errors not printed (completion) */
	/* a Varlink error the running command handles itself (not
	 * printed; the call returns -ENODATA) */
	const char *expect_verror;
};

/* Command flags. */
#define CMD_F_DAEMON	0x01u	/* talks to a running daemon */
#define CMD_F_IMAGE	0x02u	/* also works with --image */
#define CMD_F_ADMIN	0x04u	/* changes the cache: needs admin rights */
#define CMD_F_HIDDEN	0x08u	/* not listed by help (used by completion) */
#define CMD_F_LOCAL	0x10u	/* needs neither a daemon nor an image */

/* What the positional arguments of a command are, for completion. */
enum cmd_arg_kind {
	CMD_ARG_NONE = 0,
	CMD_ARG_FILE,		/* INODE or PATH */
	CMD_ARG_COMMAND,	/* a command name */
	CMD_ARG_LIMIT,		/* KEY=VALUE of the limits */
};

struct cmd_def;
typedef int (*cmd_fn)(struct ictl *c, int argc, char **argv);

/*
 * One command.  min_args/max_args count the words after the command name,
 * options included; max_args -1 means no limit.
 */
struct cmd_def {
	const char *name;
	const char *alias;		/* or NULL */
	cmd_fn fn;
	int min_args;
	int max_args;
	unsigned int flags;		/* CMD_F_* */
	enum cmd_arg_kind arg_kind;
	const char *const *options;	/* NULL-terminated long options */
	const char *synopsis;		/* "INODE|PATH [OFF [LEN]]" */
	const char *oneline;
	const char *help;		/* long help, lines end in \n */
};

/* The table, sorted by name. */
extern const struct cmd_def cmd_table[];
extern const unsigned int cmd_table_size;

/* The command named @name or aliased so, or NULL. */
const struct cmd_def *cmd_find(const char *name);

/*
 * Run one command line (argv[0] is the command).  Checks the argument
 * count and that the command fits the target (daemon or image), then calls
 * the handler.  Returns the exit code of the command (ICTL_EXIT_*).
 */
int cmd_run(struct ictl *c, int argc, char **argv);

/* Print "usage: iomapctl NAME SYNOPSIS" for @cmd to @f. */
void cmd_print_usage(const struct cmd_def *cmd, FILE *f);

/*
 * Error helpers.  Each prints "iomapctl: CMD: message" (or a JSON error
 * document with -J), records @exit_code in c->exit_code unless a more
 * specific one is already set, and returns a negative errno: @err if it
 * is negative, else -EINVAL.  ictl_errno() appends ": strerror(-err)".
 */
int ictl_fail(struct ictl *c, int exit_code, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int ictl_errno(struct ictl *c, int exit_code, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The core of the above: report @msg with the Varlink error @verror
 * (may be NULL) and return @err. */
int ictl_report(struct ictl *c, int exit_code, const char *verror, int err,
		const char *msg);
/* A usage error of the running command; prints its usage line too. */
int ictl_usage(struct ictl *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Release the connection and the image of @c. */
void ictl_close(struct ictl *c);

/*
 * Parse the options of a command with getopt_long, resetting getopt first
 * (commands run many times in one process).  A thin wrapper so that every
 * handler reports unknown options the same way: returns the option, -1 at
 * the end, or '?' after printing a usage error.
 */
int cmd_getopt(struct ictl *c, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);
/* Reset getopt before the first cmd_getopt() of a command line. */
void cmd_getopt_reset(void);

/* Handlers, one family per cmd_*.c file. */
int cmd_list(struct ictl *c, int argc, char **argv);
int cmd_status(struct ictl *c, int argc, char **argv);
int cmd_stats(struct ictl *c, int argc, char **argv);
int cmd_version(struct ictl *c, int argc, char **argv);
int cmd_dump(struct ictl *c, int argc, char **argv);
int cmd_map(struct ictl *c, int argc, char **argv);
int cmd_flush(struct ictl *c, int argc, char **argv);
int cmd_enable(struct ictl *c, int argc, char **argv);
int cmd_disable(struct ictl *c, int argc, char **argv);
int cmd_limits(struct ictl *c, int argc, char **argv);
int cmd_audit(struct ictl *c, int argc, char **argv);
int cmd_watch(struct ictl *c, int argc, char **argv);
int cmd_remount(struct ictl *c, int argc, char **argv);
int cmd_help(struct ictl *c, int argc, char **argv);
int cmd_commands(struct ictl *c, int argc, char **argv);
int cmd_complete(struct ictl *c, int argc, char **argv);
int cmd_shell(struct ictl *c, int argc, char **argv);

#endif /* IOMAPCTL_COMMAND_H */
