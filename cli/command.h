/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * command.h - everything iomapctl accepts, declared once: the global
 * options (cmd_gopts) and one const table of command records, sorted by
 * name, each with its options.  From these come dispatch, the
 * argument-count checks, option parsing, the usage lines, `help`, tab
 * completion in the shell and in bash, and the test that checks the man
 * page names every command and option.  A handler gets the words of its
 * command line with the options already parsed into struct cmd_args, and
 * returns 0 or a negative errno; the error helpers of ictl.h record which
 * exit code the failure maps to.
 */
#ifndef IOMAPCTL_COMMAND_H
#define IOMAPCTL_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ictl.h"

/* ---- global options ------------------------------------------------------ */

/* One option of iomapctl itself, before the command. */
struct cmd_gopt {
	char key;	   /* the short option, and main.c's case for it */
	const char *name;  /* the long option, without "--" */
	const char *arg;   /* its argument ("MOUNTPOINT"), NULL for none */
	const char *help;  /* one line of --help */
	const char *group; /* --help heading, on the first of a group */
};

/* The global options, in the order of --help; a zero record ends them. */
extern const struct cmd_gopt cmd_gopts[];

/* The global option spelt @word ("-m" or "--mount"), or NULL. */
const struct cmd_gopt *cmd_gopt_find(const char *word);

/* ---- commands ------------------------------------------------------------ */

/* Command flags. */
#define CMD_F_DAEMON 0x01u /* talks to a running daemon */
#define CMD_F_IMAGE  0x02u /* also works with --image */
#define CMD_F_ADMIN  0x04u /* changes the cache: needs admin rights */
#define CMD_F_HIDDEN 0x08u /* not listed by help (used by completion) */
#define CMD_F_LOCAL  0x10u /* needs neither a daemon nor an image */
#define CMD_F_RAW    0x20u /* its words are not parsed for options */

/* What the positional arguments of a command are, for completion. */
enum cmd_arg_kind {
	CMD_ARG_NONE = 0,
	CMD_ARG_FILE,	  /* INODE or PATH */
	CMD_ARG_COMMAND,  /* a command name */
	CMD_ARG_LIMIT,	  /* KEY=VALUE of the limits */
	CMD_ARG_FILE_ONE, /* INODE or PATH first, then no more files */
};

/*
 * The options commands take.  Each has one spelling and one grammar for
 * its value (command.c parses it into struct cmd_args); a command's record
 * lists those it takes, with what each means for it.
 */
enum cmd_opt_id {
	CMD_O_END = 0, /* ends a command's list */
	CMD_O_ALL,
	CMD_O_BLOCKS,
	CMD_O_COUNT,
	CMD_O_DURATION,
	CMD_O_PRUNE,
	CMD_O_RANGE,
	CMD_O_RESET,
	CMD_O_COUNT_IDS
};

/* Most options of one command. */
#define CMD_MAX_OPTS 4

/* One option of one command. */
struct cmd_opt {
	enum cmd_opt_id id;
	/*
	 * The usage line shows it as the alternative to the arguments
	 * ("flush --all | INODE|PATH"), not after them in brackets.
	 */
	bool alone;
	const char *help; /* for `help CMD`; a \n starts a continuation */
};

/* The long option "--range" of @id, and its argument ("OFF:LEN") or NULL. */
const char *cmd_opt_name(enum cmd_opt_id id);
const char *cmd_opt_arg(enum cmd_opt_id id);

/* A command line after option parsing. */
struct cmd_args {
	int argc;	      /* the words left after the options (with */
	char **argv;	      /* CMD_F_RAW: every word after the name) */
	bool all;	      /* --all */
	bool blocks;	      /* --blocks */
	bool reset;	      /* --reset */
	bool prune;	      /* --prune */
	bool range;	      /* --range OFF:LEN given; */
	uint64_t off, len;    /* its OFF and LEN, LEN 0: to the end */
	uint64_t count;	      /* --count N, a positive number; 0: none */
	uint64_t duration_ms; /* --duration T; 0: none */
};

typedef int (*cmd_fn)(struct ictl *c, const struct cmd_args *a);

/*
 * One command.  min_args/max_args count the words after the command name,
 * options included; max_args -1 means no limit.
 */
struct cmd_def {
	const char *name;
	const char *alias; /* or NULL */
	cmd_fn fn;
	int min_args;
	int max_args;
	unsigned int flags; /* CMD_F_* */
	enum cmd_arg_kind arg_kind;
	/* the arguments ("INODE|PATH [OFF [LEN]]"); the usage line adds the
	 * options from .options */
	const char *synopsis;
	struct cmd_opt options[CMD_MAX_OPTS + 1]; /* up to a CMD_O_END */
	const char *oneline;
	const char *help; /* long help, lines end in \n */
};

/* The table, sorted by name. */
extern const struct cmd_def cmd_table[];
extern const unsigned int cmd_table_size;

/* The command named @name or aliased so, or NULL. */
const struct cmd_def *cmd_find(const char *name);

/*
 * The synopsis of @cmd: its arguments and its options, as its usage line
 * shows them after its name ("--all | INODE|PATH [--range OFF:LEN]"),
 * in @buf of @size bytes (ICTL_USAGE_MAX always suffices).
 */
void cmd_synopsis(const struct cmd_def *cmd, char *buf, size_t size);

/*
 * Run one command line (argv[0] is the command).  Checks the argument
 * count and that the command fits the target (daemon or image), parses
 * the options the command's record declares, then calls the handler.
 * Returns the exit code of the command (ICTL_EXIT_*).
 */
int cmd_run(struct ictl *c, int argc, char **argv);

/* Handlers, one family per file: cmd_help.c, cmd_info.c, cmd_dump.c,
 * cmd_map.c, cmd_cache.c, cmd_audit.c, cmd_watch.c, cmd_mount.c,
 * cmd_journal.c,
 * shell.c. */
int cmd_help(struct ictl *c, const struct cmd_args *a);
int cmd_commands(struct ictl *c, const struct cmd_args *a);
int cmd_version(struct ictl *c, const struct cmd_args *a);
int cmd_list(struct ictl *c, const struct cmd_args *a);
int cmd_status(struct ictl *c, const struct cmd_args *a);
int cmd_stats(struct ictl *c, const struct cmd_args *a);
int cmd_dump(struct ictl *c, const struct cmd_args *a);
int cmd_map(struct ictl *c, const struct cmd_args *a);
int cmd_flush(struct ictl *c, const struct cmd_args *a);
int cmd_enable(struct ictl *c, const struct cmd_args *a);
int cmd_disable(struct ictl *c, const struct cmd_args *a);
int cmd_limits(struct ictl *c, const struct cmd_args *a);
int cmd_audit(struct ictl *c, const struct cmd_args *a);
int cmd_watch(struct ictl *c, const struct cmd_args *a);
int cmd_remount(struct ictl *c, const struct cmd_args *a);
int cmd_journal(struct ictl *c, const struct cmd_args *a);
int cmd_complete(struct ictl *c, const struct cmd_args *a);
int cmd_shell(struct ictl *c, const struct cmd_args *a);

#endif /* IOMAPCTL_COMMAND_H */
