// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * command.c - the command table of iomapctl and what it drives: lookup,
 * dispatch with argument-count and target checks, `help`, the hidden
 * `commands` listing (for the man-page test), and the error helpers that
 * give every failure its message and exit code.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "output.h"

static const char *const opts_stats[] = { "--reset", NULL };
static const char *const opts_dump[] = { "--range", "--blocks", NULL };
static const char *const opts_map[] = { "--blocks", NULL };
static const char *const opts_flush[] = { "--all", "--range", NULL };
static const char *const opts_watch[] = { "--count", "--duration", NULL };
static const char *const opts_commands[] = { "--all", NULL };
static const char *const opts_list[] = { "--prune", NULL };

/* Sorted by name: cmd_find() relies on it, and a test checks it. */
const struct cmd_def cmd_table[] = {
{
	.name = "audit", .fn = cmd_audit, .min_args = 0, .max_args = -1,
	.flags = CMD_F_DAEMON, .arg_kind = CMD_ARG_FILE,
	.synopsis = "[INODE|PATH ...]",
	.oneline = "compare cached mappings with the disk",
	.help =
"Compares every cached mapping of the given inodes (all cached inodes\n"
"when none is given) with what the disk says now, and prints one row per\n"
"difference: INO, OFFSET, LENGTH, the cached mapping and the disk's.\n"
"Exits 0 when the cache agrees with the disk and 4 when it does not.\n",
},
{
	.name = "commands", .fn = cmd_commands, .min_args = 0, .max_args = 1,
	.flags = CMD_F_LOCAL | CMD_F_HIDDEN, .options = opts_commands,
	.synopsis = "[--all]",
	.oneline = "list command names, one per line",
	.help =
"Prints the name of every command listed by help, one per line; with\n"
"--all, the hidden ones too.  For scripts and tests.\n",
},
{
	.name = "complete", .fn = cmd_complete, .min_args = 0, .max_args = -1,
	.flags = CMD_F_LOCAL | CMD_F_HIDDEN,
	.synopsis = "[--] WORD...",
	.oneline = "print completions of the last word (bash completion)",
	.help =
"Prints the candidates for the last WORD of a partial iomapctl command\n"
"line, one per line.  The bash completion file calls it, as virsh does.\n",
},
{
	.name = "disable", .fn = cmd_disable, .min_args = 0, .max_args = 0,
	.flags = CMD_F_DAEMON | CMD_F_ADMIN,
	.synopsis = "",
	.oneline = "switch the iomap cache off (and empty it)",
	.help =
"Switches caching off at run time: every I/O then computes its mapping\n"
"from disk, and the cache is emptied.  I/O goes on meanwhile.\n",
},
{
	.name = "dump", .fn = cmd_dump, .min_args = 0, .max_args = -1,
	.flags = CMD_F_DAEMON | CMD_F_IMAGE, .arg_kind = CMD_ARG_FILE,
	.options = opts_dump,
	.synopsis = "[INODE|PATH ...] [--range OFF:LEN] [--blocks]",
	.oneline = "show cached iomaps (or on-disk ones with --image)",
	.help =
"Prints, per inode, a header line (inode, path if known, size, block\n"
"size, number of mappings, hits and misses) and then one row per cached\n"
"mapping: OFFSET, LENGTH, TYPE, ADDR, FLAGS, in hex bytes as the\n"
"kernel's iomap tracepoints print them.  Without arguments it dumps every\n"
"cached inode.  With --image it prints the mappings on disk instead.\n"
"  --range OFF:LEN  only the mappings overlapping this byte range\n"
"  --blocks         offsets, lengths and addresses in filesystem blocks,\n"
"                   decimal, as 'debugfs -R ex' prints them\n",
},
{
	.name = "enable", .fn = cmd_enable, .min_args = 0, .max_args = 0,
	.flags = CMD_F_DAEMON | CMD_F_ADMIN,
	.synopsis = "",
	.oneline = "switch the iomap cache on",
	.help = "Switches caching on at run time.\n",
},
{
	.name = "flush", .fn = cmd_flush, .min_args = 1, .max_args = 3,
	.flags = CMD_F_DAEMON | CMD_F_ADMIN, .arg_kind = CMD_ARG_FILE,
	.options = opts_flush,
	.synopsis = "--all | INODE|PATH [--range OFF:LEN]",
	.oneline = "invalidate cached iomaps",
	.help =
"Drops cached mappings: of every inode (--all), of one inode, or of a\n"
"byte range of one inode (--range OFF:LEN; mappings that straddle the\n"
"range are trimmed, the rest stays cached).\n",
},
{
	.name = "help", .alias = "?", .fn = cmd_help, .min_args = 0,
	.max_args = 1, .flags = CMD_F_LOCAL, .arg_kind = CMD_ARG_COMMAND,
	.synopsis = "[COMMAND]",
	.oneline = "list commands, or explain one",
	.help =
"Without an argument, lists the commands; with one, prints its usage and\n"
"description.\n",
},
{
	.name = "limits", .fn = cmd_limits, .min_args = 0, .max_args = 3,
	.flags = CMD_F_DAEMON, .arg_kind = CMD_ARG_LIMIT,
	.synopsis = "[KEY=VALUE ...]",
	.oneline = "show or set the cache's limits",
	.help =
"Without arguments prints the limits.  With KEY=VALUE pairs sets them\n"
"(admin rights), then prints the new values.  Keys:\n"
"  cache_max=SIZE        memory budget of the whole cache, in bytes\n"
"  cache_inode_max=SIZE  budget of one inode's mappings, in bytes\n"
"  event_ring=N          events kept for watchers\n"
"Sizes accept the suffixes k, M, G.\n",
},
{
	.name = "list", .alias = "ls", .fn = cmd_list, .min_args = 0,
	.max_args = -1, .flags = CMD_F_LOCAL, .options = opts_list,
	.synopsis = "[--prune] [MOUNTPOINT...]",
	.oneline = "list running iomapfs mounts",
	.help =
"Lists the control sockets in the runtime directory (/run/iomapfs for\n"
"root, $XDG_RUNTIME_DIR/iomapfs otherwise), and the records there of\n"
"sockets elsewhere (-o ctl_socket), with their MOUNTPOINT, SOCKET and\n"
"STATE: live when a daemon answers, stale when none listens.  With\n"
"MOUNTPOINTs, only theirs.  With --prune, removes the stale ones (STATE\n"
"removed); a socket a record names elsewhere stays.\n",
},
{
	.name = "map", .fn = cmd_map, .min_args = 1, .max_args = 4,
	.flags = CMD_F_DAEMON | CMD_F_IMAGE, .arg_kind = CMD_ARG_FILE,
	.options = opts_map,
	.synopsis = "INODE|PATH [OFF [LEN]] [--blocks]",
	.oneline = "report the mappings on disk, bypassing the cache",
	.help =
"Asks for the mappings of a file from OFF (default 0) for LEN bytes\n"
"(default: to EOF) straight from disk.  It is a report: it never fills\n"
"the cache.  Holes are explicit rows.  Offsets accept hex and sizes the\n"
"suffixes k, M, G.\n"
"  --blocks  offsets, lengths and addresses in filesystem blocks\n",
},
{
	.name = "remount", .fn = cmd_remount, .min_args = 1, .max_args = 1,
	.flags = CMD_F_DAEMON | CMD_F_ADMIN,
	.synopsis = "ro|rw",
	.oneline = "make the filesystem read-only, or read-write again",
	.help =
"ro writes everything out, marks the filesystem clean on disk and makes\n"
"every change fail with EROFS; rw makes it writable again.  Only the\n"
"daemon's side: the kernel still shows the mount as it was.  mount -o\n"
"remount,ro MOUNTPOINT switches both.\n",
},
{
	.name = "shell", .fn = cmd_shell, .min_args = 0, .max_args = 0,
	.flags = CMD_F_LOCAL,
	.synopsis = "",
	.oneline = "interactive shell with completion and history",
	.help =
"Reads commands with readline.  Tab completes commands, options, paths\n"
"inside the mount and cached inode numbers.  History is kept in\n"
"$XDG_STATE_HOME/iomapctl/history.  Ctrl-D or 'quit' leaves.\n",
},
{
	.name = "stats", .fn = cmd_stats, .min_args = 0, .max_args = 2,
	.flags = CMD_F_DAEMON, .arg_kind = CMD_ARG_FILE,
	.options = opts_stats,
	.synopsis = "[INODE|PATH] [--reset]",
	.oneline = "show cache statistics",
	.help =
"Prints the cache's counters: lookups, hits, misses, upserts, merges,\n"
"invalidations by reason, evictions, and the inodes, mappings and bytes\n"
"held with their high-water marks; for one inode with INODE|PATH.\n"
"  --reset  print the counters, then reset them (admin rights)\n",
},
{
	.name = "status", .fn = cmd_status, .min_args = 0, .max_args = 0,
	.flags = CMD_F_DAEMON | CMD_F_IMAGE,
	.synopsis = "",
	.oneline = "show the mount, the filesystem and the cache state",
	.help =
"Prints the image, mountpoint, filesystem type, UUID and label, block\n"
"size, read-only or not, whether caching is on, limits, uptime, pid and\n"
"versions.  With --image it describes the image's filesystem.\n",
},
{
	.name = "version", .fn = cmd_version, .min_args = 0, .max_args = 0,
	.flags = CMD_F_LOCAL,
	.synopsis = "",
	.oneline = "print the version of iomapctl",
	.help = "Prints iomapctl's version and the JSON schema version.\n",
},
{
	.name = "watch", .fn = cmd_watch, .min_args = 0, .max_args = 4,
	.flags = CMD_F_DAEMON, .options = opts_watch,
	.synopsis = "[--count N] [--duration T]",
	.oneline = "print cache events as they happen",
	.help =
"Prints the cache's events (upsert, invalidate with its reason, evict,\n"
"enable, disable) with timestamps until interrupted, N events were\n"
"printed, or T elapsed (T in s, ms, m or h; default seconds).  When the\n"
"daemon had to drop events for this watcher, a LOST row says how many.\n"
"  --count N      stop after N events\n"
"  --duration T   stop after T\n",
},
};

const unsigned int cmd_table_size = sizeof(cmd_table) / sizeof(cmd_table[0]);

const struct cmd_def *cmd_find(const char *name)
{
	unsigned int lo = 0, hi = cmd_table_size, i;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		int d = strcmp(name, cmd_table[mid].name);

		if (!d)
			return &cmd_table[mid];
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	for (i = 0; i < cmd_table_size; i++)
		if (cmd_table[i].alias && !strcmp(name, cmd_table[i].alias))
			return &cmd_table[i];
	return NULL;
}

void cmd_print_usage(const struct cmd_def *cmd, FILE *f)
{
	fprintf(f, "usage: iomapctl %s%s%s\n", cmd->name,
		*cmd->synopsis ? " " : "", cmd->synopsis);
}

int ictl_report(struct ictl *c, int exit_code, const char *verror, int err,
		const char *msg)
{
	if (!c->exit_code)
		c->exit_code = exit_code;
	if (!c->quiet)
		out_error(c, exit_code, verror, msg);
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

int ictl_fail(struct ictl *c, int exit_code, int err, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = ictl_vfail(c, exit_code, err, false, fmt, ap);
	va_end(ap);
	return ret;
}

int ictl_errno(struct ictl *c, int exit_code, int err, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = ictl_vfail(c, exit_code, err, true, fmt, ap);
	va_end(ap);
	return ret;
}

int ictl_usage(struct ictl *c, const char *fmt, ...)
{
	const struct cmd_def *cmd = c->cmd_name ? cmd_find(c->cmd_name) : NULL;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = ictl_vfail(c, ICTL_EXIT_USAGE, -EINVAL, false, fmt, ap);
	va_end(ap);
	if (cmd && c->out_mode != ICTL_OUT_JSON)
		cmd_print_usage(cmd, stderr);
	return ret;
}

void cmd_getopt_reset(void)
{
	/* 0, not 1: makes glibc reinitialise its permutation state. */
	optind = 0;
	opterr = 0;
}

int cmd_getopt(struct ictl *c, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	int o = getopt_long(argc, argv, shortopts, longopts, NULL);

	if (o == '?') {
		if (optopt) {
			const struct option *lo;

			for (lo = longopts; lo && lo->name; lo++)
				if (lo->val == optopt && lo->has_arg)
					break;
			if (lo && lo->name)
				ictl_usage(c, "option --%s needs an argument",
					   lo->name);
			else
				ictl_usage(c, "unknown option -%c", optopt);
		} else {
			ictl_usage(c, "unknown option %s",
				   argv[optind - 1]);
		}
	} else if (o == ':') {
		ictl_usage(c, "option %s needs an argument", argv[optind - 1]);
		o = '?';
	}
	return o;
}

int cmd_run(struct ictl *c, int argc, char **argv)
{
	const struct cmd_def *cmd;
	int nargs = argc - 1, ret;

	c->exit_code = ICTL_EXIT_OK;
	c->cmd_name = NULL;
	cmd = cmd_find(argv[0]);
	if (!cmd) {
		ictl_fail(c, ICTL_EXIT_USAGE, -EINVAL,
			  "unknown command '%s' (try 'iomapctl help')",
			  argv[0]);
		return c->exit_code;
	}
	c->cmd_name = cmd->name;
	if (nargs < cmd->min_args ||
	    (cmd->max_args >= 0 && nargs > cmd->max_args)) {
		ictl_usage(c, "%s arguments (%d given)",
			   nargs < cmd->min_args ? "too few" : "too many",
			   nargs);
		return c->exit_code;
	}
	if (c->image_path && (cmd->flags & CMD_F_DAEMON) &&
	    !(cmd->flags & CMD_F_IMAGE)) {
		ictl_fail(c, ICTL_EXIT_USAGE, -EINVAL,
			  "needs a running daemon; with --image only dump, "
			  "map and status work");
		return c->exit_code;
	}
	cmd_getopt_reset();
	ret = cmd->fn(c, argc, argv);
	fflush(stdout);
	if (ret < 0 && c->exit_code == ICTL_EXIT_OK)
		c->exit_code = ICTL_EXIT_FAILED;
	return c->exit_code;
}

/* One command record as JSON, for `help -J`. */
static json_t *cmd_json(const struct cmd_def *cmd, bool long_help)
{
	json_t *opts = json_array();
	unsigned int i;

	for (i = 0; opts && cmd->options && cmd->options[i]; i++)
		json_array_append_new(opts, json_string(cmd->options[i]));
	return json_pack("{s:s, s:s?, s:s, s:s, s:s?, s:o?, s:b, s:b, s:b}",
			 "name", cmd->name, "alias", cmd->alias,
			 "synopsis", cmd->synopsis, "summary", cmd->oneline,
			 "help", long_help ? cmd->help : NULL,
			 "options", opts,
			 "needs_daemon", (cmd->flags & CMD_F_DAEMON) != 0,
			 "works_with_image", (cmd->flags & CMD_F_IMAGE) != 0,
			 "admin", (cmd->flags & CMD_F_ADMIN) != 0);
}

static int cmd_help_json(struct ictl *c, const struct cmd_def *one)
{
	json_t *doc = out_doc_new(c->cmd_name), *arr;
	unsigned int i;

	if (!doc)
		return -ENOMEM;
	if (one) {
		json_object_set_new(doc, "help", cmd_json(one, true));
		return out_doc_print(doc);
	}
	arr = json_array();
	for (i = 0; arr && i < cmd_table_size; i++)
		if (!(cmd_table[i].flags & CMD_F_HIDDEN))
			json_array_append_new(arr, cmd_json(&cmd_table[i],
							    false));
	json_object_set_new(doc, "commands", arr);
	return out_doc_print(doc);
}

int cmd_help(struct ictl *c, int argc, char **argv)
{
	const struct cmd_def *cmd;
	unsigned int i;

	if (c->out_mode == ICTL_OUT_JSON) {
		cmd = argc > 1 ? cmd_find(argv[1]) : NULL;
		if (argc > 1 && !cmd)
			return ictl_usage(c, "no command '%s'", argv[1]);
		return cmd_help_json(c, cmd);
	}
	if (argc > 1) {
		cmd = cmd_find(argv[1]);
		if (!cmd)
			return ictl_usage(c, "no command '%s'", argv[1]);
		cmd_print_usage(cmd, stdout);
		if (cmd->alias)
			printf("alias: %s\n", cmd->alias);
		printf("%s.\n\n%s", cmd->oneline, cmd->help);
		if (cmd->flags & CMD_F_ADMIN)
			printf("Needs admin rights on the control socket.\n");
		if (cmd->flags & CMD_F_IMAGE)
			printf("Works with --image.\n");
		return 0;
	}
	printf("usage: iomapctl [-m MOUNTPOINT | -s SOCKET | --image IMG] "
	       "[-J] [-o COLS] [-r] [-n] COMMAND [ARGS]\n\nCommands:\n");
	for (i = 0; i < cmd_table_size; i++) {
		cmd = &cmd_table[i];
		if (cmd->flags & CMD_F_HIDDEN)
			continue;
		printf("  %-8s %s\n", cmd->name, cmd->oneline);
	}
	printf("\n'help COMMAND' explains one; 'man iomapctl' has it all.\n");
	if (c->in_shell)
		printf("Tab completes; 'quit' or Ctrl-D leaves the shell.\n");
	return 0;
}

int cmd_commands(struct ictl *c, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false;
	unsigned int i;
	int o;

	while ((o = cmd_getopt(c, argc, argv, "", lopts)) != -1) {
		if (o != 'a')
			return -EINVAL;
		all = true;
	}
	if (optind < argc)
		return ictl_usage(c, "unexpected argument '%s'", argv[optind]);
	for (i = 0; i < cmd_table_size; i++)
		if (all || !(cmd_table[i].flags & CMD_F_HIDDEN))
			printf("%s\n", cmd_table[i].name);
	return 0;
}

int cmd_version(struct ictl *c, int argc, char **argv)
{
	json_t *doc;

	if (c->out_mode == ICTL_OUT_JSON) {
		doc = out_doc_new(c->cmd_name);
		if (!doc)
			return -ENOMEM;
		json_object_set_new(doc, "version",
				    json_string(PACKAGE_VERSION));
		json_object_set_new(doc, "jansson",
				    json_string(JANSSON_VERSION));
		return out_doc_print(doc);
	}
	printf("iomapctl %s (JSON schema %d)\n", PACKAGE_VERSION,
	       ICTL_JSON_SCHEMA);
	return 0;
}
