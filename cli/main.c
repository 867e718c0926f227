// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * main.c - iomapctl's entry: the global options, then one command from the
 * command line, a script (-c CMD ..., -f FILE), or the interactive shell.
 * Exit codes: 0 ok, 1 a command failed, 2 usage, 3 no daemon or protocol
 * error, 4 audit found a mismatch.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "client.h"
#include "command.h"
#include "shell.h"

/* Room for the global options in getopt_long()'s tables. */
#define MAIN_MAX_GOPTS 16

/* --help, from the declarations of the global options (cmd_gopts). */
static void main_usage(FILE *f)
{
	const struct cmd_gopt *g;
	char spell[64];

	fprintf(f, "usage: iomapctl [options] [COMMAND [ARGS...]]\n");
	for (g = cmd_gopts; g->name; g++) {
		if (g->group)
			fprintf(f, "%s%s:\n", g == cmd_gopts ? "\n" : "",
				g->group);
		snprintf(spell, sizeof(spell), "-%c, --%s%s%s", g->key, g->name,
			 g->arg ? " " : "", g->arg ? g->arg : "");
		fprintf(f, "  %-22s  %s\n", spell, g->help);
	}
	fprintf(f, "\n"
		   "With no command on a terminal, iomapctl starts its shell.\n"
		   "'iomapctl help' lists the commands; 'man iomapctl' "
		   "explains them.\n");
}

/*
 * getopt_long()'s tables for the global options: @lopts gets one entry per
 * option and a zero one, @shortopts "+m:s:..." ('+': the first word that
 * is no option is the command, and what follows is its own).
 */
static void main_getopt_tables(struct option *lopts, char *shortopts)
{
	const struct cmd_gopt *g;
	char *p = shortopts;
	int n = 0;

	*p++ = '+';
	for (g = cmd_gopts; g->name && n < MAIN_MAX_GOPTS; g++, lopts++, n++) {
		lopts->name = g->name;
		lopts->has_arg = g->arg ? required_argument : no_argument;
		lopts->flag = NULL;
		lopts->val = g->key;
		*p++ = g->key;
		if (g->arg)
			*p++ = ':';
	}
	memset(lopts, 0, sizeof(*lopts));
	*p = '\0';
}

struct main_script {
	const char **cmds; /* -c and -f, in order; -f entries are files */
	bool *is_file;
	int n;
};

static int script_add(struct main_script *s, const char *arg, bool is_file)
{
	size_t n = (size_t)s->n + 1;
	const char **cmds = realloc(s->cmds, n * sizeof(*cmds));
	bool *f;

	if (!cmds)
		return -ENOMEM;
	s->cmds = cmds;
	f = realloc(s->is_file, n * sizeof(*f));
	if (!f)
		return -ENOMEM;
	s->is_file = f;
	s->cmds[s->n] = arg;
	s->is_file[s->n] = is_file;
	s->n++;
	return 0;
}

/*
 * Run one script line.  Returns the command's exit code (0 for a blank or
 * comment line).
 */
static int run_line(struct ictl *c, const char *line, const char *where)
{
	char **argv;
	int argc, ret;

	ret = ictl_split_words(line, &argc, &argv);
	if (ret) {
		c->cmd_name = NULL;
		c->exit_code = 0;
		ictl_fail(c, ICTL_EXIT_USAGE, ret, "%s: %s", where,
			  ret == -EINVAL ? "unterminated quote"
					 : "out of memory");
		return c->exit_code;
	}
	ret = argc ? cmd_run(c, argc, argv) : 0;
	if (ret && argc)
		fprintf(stderr, "iomapctl: %s: '%s' failed (exit %d)\n", where,
			argv[0], ret);
	ictl_free_words(argv);
	return ret;
}

/* Run the lines of @f; returns the first failure's exit code, or 0. */
static int run_file(struct ictl *c, FILE *f, const char *name, bool keep_going)
{
	char *line = NULL, where[512];
	size_t cap = 0;
	unsigned int lineno = 0;
	int first = 0, ret;

	while (getline(&line, &cap, f) != -1) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%u", name, lineno);
		ret = run_line(c, line, where);
		if (ret && !first)
			first = ret;
		if (ret && !keep_going)
			break;
	}
	free(line);
	return first;
}

static int run_script(struct ictl *c, const struct main_script *s,
		      bool keep_going)
{
	int i, first = 0, ret;
	char where[64];

	for (i = 0; i < s->n; i++) {
		if (s->is_file[i]) {
			FILE *f;
			bool std = !strcmp(s->cmds[i], "-");

			f = std ? stdin : fopen(s->cmds[i], "r");
			if (!f) {
				c->cmd_name = NULL;
				c->exit_code = 0;
				ret = ictl_errno(c, ICTL_EXIT_USAGE, -errno,
						 "cannot read script %s",
						 s->cmds[i]);
				ret = c->exit_code;
			} else {
				ret = run_file(c, f, std ? "stdin" : s->cmds[i],
					       keep_going);
				if (!std)
					fclose(f);
			}
		} else {
			snprintf(where, sizeof(where), "-c #%d", i + 1);
			ret = run_line(c, s->cmds[i], where);
		}
		if (ret && !first)
			first = ret;
		if (ret && !keep_going)
			break;
	}
	return first;
}

int main(int argc, char **argv)
{
	struct option lopts[MAIN_MAX_GOPTS + 1];
	char shortopts[2 * MAIN_MAX_GOPTS + 2];
	struct ictl c = {0};
	struct main_script script = {0};
	bool keep_going = false;
	int o, ret, targets = 0;

	main_getopt_tables(lopts, shortopts);
	while ((o = getopt_long(argc, argv, shortopts, lopts, NULL)) != -1) {
		switch (o) {
		case 'm':
		case 's':
		case 'i':
			*(o == 'm'   ? &c.mountpoint
			  : o == 's' ? &c.socket_path
				     : &c.image_path) = optarg;
			targets++;
			break;
		case 'J':
			c.out_mode = ICTL_OUT_JSON;
			break;
		case 'o':
			c.columns = optarg;
			break;
		case 'r':
			if (c.out_mode != ICTL_OUT_JSON)
				c.out_mode = ICTL_OUT_RAW;
			break;
		case 'n':
			c.noheadings = true;
			break;
		case 'c':
		case 'f':
			if (script_add(&script, optarg, o == 'f')) {
				warnx("out of memory");
				ret = ICTL_EXIT_FAILED;
				goto out_free;
			}
			break;
		case 'k':
			keep_going = true;
			break;
		case 'h':
			main_usage(stdout);
			ret = ICTL_EXIT_OK;
			goto out_free;
		case 'V':
			printf("iomapctl %s\n", PACKAGE_VERSION);
			ret = ICTL_EXIT_OK;
			goto out_free;
		default:
			/* getopt named the option; a command's own options
			 * go after the command */
			fprintf(stderr, "iomapctl: options of a command go "
					"after it; see 'iomapctl --help' and "
					"'iomapctl help COMMAND'\n");
			ret = ICTL_EXIT_USAGE;
			goto out_free;
		}
	}
	if (targets > 1) {
		ictl_fail(&c, ICTL_EXIT_USAGE, -EINVAL,
			  "-m, -s and --image "
			  "name the target: give at most one");
		ret = c.exit_code;
	} else if (script.n && optind < argc) {
		ictl_fail(&c, ICTL_EXIT_USAGE, -EINVAL,
			  "give either a "
			  "COMMAND or -c/-f scripts, not both (found '%s')",
			  argv[optind]);
		ret = c.exit_code;
	} else if (script.n) {
		ret = run_script(&c, &script, keep_going);
	} else if (optind < argc) {
		ret = cmd_run(&c, argc - optind, argv + optind);
	} else if (isatty(STDIN_FILENO)) {
		ret = shell_run(&c);
	} else {
		ictl_fail(&c, ICTL_EXIT_USAGE, -EINVAL,
			  "no command given and "
			  "stdin is not a terminal (try 'iomapctl help', or "
			  "-f - for a script on stdin)");
		ret = c.exit_code;
	}
	ictl_close(&c);
out_free:
	free(script.cmds);
	free(script.is_file);
	if (fflush(stdout) || ferror(stdout)) {
		warn("write error on stdout");
		if (!ret)
			ret = ICTL_EXIT_FAILED;
	}
	return ret;
}
