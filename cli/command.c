// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * command.c - the declarations of everything iomapctl accepts (its global
 * options, the options of commands with their value grammars, and the
 * command table) and what they drive directly: lookup, usage lines, option
 * parsing and dispatch with argument-count and target checks.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "command.h"
#include "proto.h"
#include "size.h"

/* ---- global options ------------------------------------------------------ */

/* In the order of --help; laid out by hand, one record to an option. */
/* clang-format off */
const struct cmd_gopt cmd_gopts[] = {
	{ .key = 'm', .name = "mount", .arg = "MOUNTPOINT",
	  .group = "Target (default: the only running mount)",
	  .help = "the iomapfs mount at MOUNTPOINT" },
	{ .key = 's', .name = "socket", .arg = "SOCKET",
	  .help = "the control socket SOCKET" },
	{ .key = 'i', .name = "image", .arg = "IMG",
	  .help = "an unmounted image (dump, map, status, journal)" },
	{ .key = 'J', .name = "json", .group = "Output",
	  .help = "JSON, one document per command" },
	{ .key = 'o', .name = "output", .arg = "COLS",
	  .help = "table columns (comma list; +COLS adds)" },
	{ .key = 'r', .name = "raw", .help = "raw tables (no alignment)" },
	{ .key = 'n', .name = "noheadings",
	  .help = "tables without a heading line" },
	{ .key = 'c', .name = "command", .arg = "CMD", .group = "Scripts",
	  .help = "run CMD (repeatable, in order)" },
	{ .key = 'f', .name = "file", .arg = "FILE",
	  .help = "run the commands in FILE ('-': stdin)" },
	{ .key = 'k', .name = "keep-going",
	  .help = "do not stop at the first failing command" },
	{ .key = 'h', .name = "help", .group = "Other", .help = "this text" },
	{ .key = 'V', .name = "version", .help = "the version" },
	{ 0 },
};
/* clang-format on */

const struct cmd_gopt *cmd_gopt_find(const char *word)
{
	const struct cmd_gopt *g;

	for (g = cmd_gopts; g->name; g++)
		if ((word[0] == '-' && word[1] == g->key && !word[2]) ||
		    (!strncmp(word, "--", 2) && !strcmp(word + 2, g->name)))
			return g;
	return NULL;
}

/* ---- options of commands ------------------------------------------------- */

static const struct {
	const char *name;
	const char *arg; /* NULL: a flag */
} cmd_opt_spelling[CMD_O_COUNT_IDS] = {
	[CMD_O_ALL] = {"--all", NULL},
	[CMD_O_BLOCKS] = {"--blocks", NULL},
	[CMD_O_COUNT] = {"--count", "N"},
	[CMD_O_DURATION] = {"--duration", "T"},
	[CMD_O_PRUNE] = {"--prune", NULL},
	[CMD_O_RANGE] = {"--range", "OFF:LEN"},
	[CMD_O_RESET] = {"--reset", NULL},
};

const char *cmd_opt_name(enum cmd_opt_id id)
{
	return cmd_opt_spelling[id].name;
}

const char *cmd_opt_arg(enum cmd_opt_id id)
{
	return cmd_opt_spelling[id].arg;
}

/* Parse the value @val of option @id into @a; a usage error if bad. */
static int cmd_opt_value(struct ictl *c, enum cmd_opt_id id, const char *val,
			 struct cmd_args *a)
{
	const char *why = NULL;

	switch (id) {
	case CMD_O_ALL:
		a->all = true;
		break;
	case CMD_O_BLOCKS:
		a->blocks = true;
		break;
	case CMD_O_RESET:
		a->reset = true;
		break;
	case CMD_O_PRUNE:
		a->prune = true;
		break;
	case CMD_O_RANGE:
		if (ictl_parse_range(val, &a->off, &a->len, &why))
			return ictl_usage(c,
					  "bad --range '%s': %s; want "
					  "OFF:LEN, e.g. 0:1M or 0x1000:4k",
					  val, why);
		a->range = true;
		break;
	case CMD_O_COUNT:
		if (!size_parse(val, &a->count, &why) &&
		    (!a->count || a->count > PROTO_MAX_INT))
			why = a->count ? "too large" : "zero";
		if (why)
			return ictl_usage(c,
					  "bad --count '%s': %s; want a "
					  "positive number",
					  val, why);
		break;
	case CMD_O_DURATION:
		if (ictl_parse_duration(val, &a->duration_ms) ||
		    !a->duration_ms)
			return ictl_usage(c,
					  "bad --duration '%s': want e.g. "
					  "10, 500ms, 2m",
					  val);
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/* The option of @cmd that getopt_long() returned @val for, or NULL. */
static const struct cmd_opt *cmd_opt_of(const struct cmd_def *cmd, int val)
{
	const struct cmd_opt *o;

	for (o = cmd->options; o->id; o++)
		if ((int)o->id == val)
			return o;
	return NULL;
}

/*
 * Parse the options of @argv (argv[0] is the command) as @cmd declares
 * them, with getopt_long (abbreviations, --opt=VALUE, options after the
 * arguments), into @a.  Returns 0 or -EINVAL after a usage error.
 */
static int cmd_parse(struct ictl *c, const struct cmd_def *cmd, int argc,
		     char **argv, struct cmd_args *a)
{
	struct option lopts[CMD_MAX_OPTS + 1] = {{0}};
	const struct cmd_opt *o;
	unsigned int n = 0;
	int val, ret;

	memset(a, 0, sizeof(*a));
	if (cmd->flags & CMD_F_RAW) {
		a->argc = argc - 1;
		a->argv = argv + 1;
		return 0;
	}
	for (o = cmd->options; o->id && n < CMD_MAX_OPTS; o++, n++) {
		lopts[n].name = cmd_opt_name(o->id) + 2;
		lopts[n].has_arg =
			cmd_opt_arg(o->id) ? required_argument : no_argument;
		lopts[n].val = (int)o->id;
	}
	/* 0, not 1: makes glibc reinitialise its permutation state, since
	 * commands run many times in one process */
	optind = 0;
	opterr = 0;
	while ((val = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		o = val == '?' ? cmd_opt_of(cmd, optopt) : cmd_opt_of(cmd, val);
		if (val != '?' && o) {
			ret = cmd_opt_value(c, o->id, optarg, a);
			if (ret)
				return ret;
		} else if (o && cmd_opt_arg(o->id)) {
			return ictl_usage(c, "option %s needs an argument",
					  cmd_opt_name(o->id));
		} else if (o) {
			return ictl_usage(c, "option %s takes no argument",
					  cmd_opt_name(o->id));
		} else if (optopt) {
			return ictl_usage(c, "unknown option -%c", optopt);
		} else {
			return ictl_usage(c, "unknown option %s",
					  argv[optind - 1]);
		}
	}
	a->argc = argc - optind;
	a->argv = argv + optind;
	return 0;
}

/* ---- the command table --------------------------------------------------- */

/* The help texts are laid out as `help` prints them. */
/* clang-format off */

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
	.flags = CMD_F_LOCAL | CMD_F_HIDDEN,
	.synopsis = "",
	.options = {
		{ CMD_O_ALL, .help = "the hidden commands too" },
	},
	.oneline = "list command names, one per line",
	.help =
"Prints the name of every command listed by help, one per line.  For\n"
"scripts and tests.\n",
},
{
	.name = "complete", .fn = cmd_complete, .min_args = 0, .max_args = -1,
	.flags = CMD_F_LOCAL | CMD_F_HIDDEN | CMD_F_RAW,
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
	.synopsis = "[INODE|PATH ...]",
	.options = {
		{ CMD_O_RANGE,
		  .help = "only the mappings overlapping this byte range" },
		{ CMD_O_BLOCKS,
		  .help = "offsets, lengths and addresses in filesystem blocks,\n"
			  "decimal, as 'debugfs -R ex' prints them" },
	},
	.oneline = "show cached iomaps (or on-disk ones with --image)",
	.help =
"Prints, per inode, a header line (inode, path if known, size, block\n"
"size, number of mappings, hits and misses) and then one row per cached\n"
"mapping: OFFSET, LENGTH, TYPE, ADDR, FLAGS, in hex bytes as the\n"
"kernel's iomap tracepoints print them.  Without arguments it dumps every\n"
"cached inode.  With --image it prints the mappings on disk instead.\n",
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
	.synopsis = "INODE|PATH",
	.options = {
		{ CMD_O_ALL, .alone = true, .help = "every inode" },
		{ CMD_O_RANGE, .help = "only this byte range of INODE|PATH" },
	},
	.oneline = "invalidate cached iomaps",
	.help =
"Drops cached mappings: of every inode, of one inode, or of a byte range\n"
"of one inode.  Mappings that straddle the range are trimmed; the rest\n"
"stays cached.\n",
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
	.name = "journal", .fn = cmd_journal, .min_args = 0, .max_args = 0,
	.flags = CMD_F_DAEMON | CMD_F_IMAGE,
	.synopsis = "",
	.oneline = "list the journal (--image) or show its state",
	.help =
"With --image, lists the journal of the image without writing anything:\n"
"where it is and its superblock (features, block size, length, first\n"
"transaction, start), then one row per block of the log: SEQ, LOG, TYPE,\n"
"HOME (where a logged block goes, or what a revoke covers), WHAT (what\n"
"that block is: superblock, group descriptors, bitmap, inode table with\n"
"its inodes, directory, extent tree; a commit's time), CSUM and REPLAY\n"
"(written, revoked, bad-checksum, or no), and where and why the scan of\n"
"the log stopped: what a replay at mount would do.  On a mount, shows\n"
"the journal as the mount found it and what the mount did with it.\n",
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
"A SIZE is bytes: 4096, 64M, 0x1000 (see SIZES in iomapfs(8)).\n",
},
{
	.name = "list", .alias = "ls", .fn = cmd_list, .min_args = 0,
	.max_args = -1, .flags = CMD_F_LOCAL,
	.synopsis = "[MOUNTPOINT...]",
	.options = {
		{ CMD_O_PRUNE,
		  .help = "remove the stale sockets and records (STATE removed)" },
	},
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
	.flags = CMD_F_DAEMON | CMD_F_IMAGE, .arg_kind = CMD_ARG_FILE_ONE,
	.synopsis = "INODE|PATH [OFF [LEN]]",
	.options = {
		{ CMD_O_BLOCKS,
		  .help = "offsets, lengths and addresses in filesystem blocks" },
	},
	.oneline = "report the mappings on disk, bypassing the cache",
	.help =
"Asks for the mappings of a file from OFF (default 0) for LEN bytes\n"
"(default: to EOF) straight from disk.  It is a report: it never fills\n"
"the cache.  Holes are explicit rows.  OFF and LEN are SIZEs: 4096, 1M,\n"
"0x1000 (see SIZES in iomapfs(8)).\n",
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
	.synopsis = "[INODE|PATH]",
	.options = {
		{ CMD_O_RESET,
		  .help = "print the counters, then reset them (admin rights)" },
	},
	.oneline = "show cache statistics",
	.help =
"Prints the cache's counters: lookups, hits, misses, upserts, merges,\n"
"invalidations by reason, evictions, and the inodes, mappings and bytes\n"
"held with their high-water marks; for one inode with INODE|PATH.\n",
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
	.flags = CMD_F_DAEMON,
	.synopsis = "",
	.options = {
		{ CMD_O_COUNT, .help = "stop after N events" },
		{ CMD_O_DURATION, .help = "stop after T" },
	},
	.oneline = "print cache events as they happen",
	.help =
"Prints the cache's events (upsert, invalidate with its reason, evict,\n"
"enable, disable) with timestamps until interrupted, N events were\n"
"printed, or T elapsed (T in s, ms, m or h; default seconds).  When the\n"
"daemon had to drop events for this watcher, a LOST row says how many.\n",
},
};

/* clang-format on */

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

/* ---- usage lines and dispatch -------------------------------------------- */

void cmd_synopsis(const struct cmd_def *cmd, char *buf, size_t size)
{
	const struct cmd_opt *o;
	size_t used;

	buf[0] = '\0';
	for (o = cmd->options; o->id; o++) {
		used = strlen(buf);
		if (o->alone)
			snprintf(buf + used, size - used, "%s%s |",
				 used ? " " : "", cmd_opt_name(o->id));
	}
	used = strlen(buf);
	if (*cmd->synopsis)
		snprintf(buf + used, size - used, "%s%s", used ? " " : "",
			 cmd->synopsis);
	for (o = cmd->options; o->id; o++) {
		const char *arg = cmd_opt_arg(o->id);

		used = strlen(buf);
		if (!o->alone)
			snprintf(buf + used, size - used, "%s[%s%s%s]",
				 used ? " " : "", cmd_opt_name(o->id),
				 arg ? " " : "", arg ? arg : "");
	}
}

int cmd_run(struct ictl *c, int argc, char **argv)
{
	char synopsis[ICTL_USAGE_MAX - 32]; /* the rest: the name */
	const struct cmd_def *cmd;
	struct cmd_args a;
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
	cmd_synopsis(cmd, synopsis, sizeof(synopsis));
	snprintf(c->cmd_usage, sizeof(c->cmd_usage), "%s%s%s", cmd->name,
		 *synopsis ? " " : "", synopsis);
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
	ret = cmd_parse(c, cmd, argc, argv, &a);
	if (!ret)
		ret = cmd->fn(c, &a);
	fflush(stdout);
	if (ret < 0 && c->exit_code == ICTL_EXIT_OK)
		c->exit_code = ICTL_EXIT_FAILED;
	return c->exit_code;
}
