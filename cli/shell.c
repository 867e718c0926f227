// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * shell.c - the interactive shell of iomapctl: readline with a prompt that
 * names the mount, history in $XDG_STATE_HOME/iomapctl/history, and tab
 * completion driven by the command table.  The same completion engine
 * answers the hidden `complete` command for bash, as virsh does.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "args.h"
#include "client.h"
#include "command.h"
#include "proto.h"
#include "shell.h"

/* ---- completion engine -------------------------------------------------- */

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static void complete_commands(const char *cur,
			      void (*emit)(const char *, void *), void *arg)
{
	unsigned int i;

	for (i = 0; i < cmd_table_size; i++)
		if (!(cmd_table[i].flags & CMD_F_HIDDEN) &&
		    has_prefix(cmd_table[i].name, cur))
			emit(cmd_table[i].name, arg);
}

/* Paths under @base (the mountpoint, or "" for an absolute @cur). */
static void complete_paths(const char *base, const char *cur,
			   void (*emit)(const char *, void *), void *arg)
{
	const char *slash = strrchr(cur, '/');
	size_t dlen = slash ? (size_t)(slash - cur) + 1 : 0;
	const char *name = cur + dlen;
	char *dir = NULL, *cand = NULL;
	struct dirent *de;
	DIR *d;

	if (asprintf(&dir, "%s%s%.*s", base, *base ? "/" : "", (int)dlen, cur) <
	    0)
		return;
	d = opendir(*dir ? dir : "/");
	if (!d)
		goto out_free;
	while ((de = readdir(d))) {
		struct stat st;
		bool isdir;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_name[0] == '.' && name[0] != '.')
			continue;
		if (!has_prefix(de->d_name, name))
			continue;
		isdir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN || de->d_type == DT_LNK)
			isdir = !fstatat(dirfd(d), de->d_name, &st, 0) &&
				S_ISDIR(st.st_mode);
		if (asprintf(&cand, "%.*s%s%s", (int)dlen, cur, de->d_name,
			     isdir ? "/" : "") < 0)
			break;
		emit(cand, arg);
		free(cand);
	}
	closedir(d);
out_free:
	free(dir);
}

struct ino_collect {
	const char *cur;
	void (*emit)(const char *, void *);
	void *arg;
};

static int ino_reply(struct ictl *c, json_t *r, void *arg)
{
	struct ino_collect *ic = arg;
	json_t *ino = json_object_get(r, "ino");
	char buf[32];

	if (!json_is_integer(ino))
		return 0;
	snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		 json_integer_value(ino));
	if (has_prefix(buf, ic->cur))
		ic->emit(buf, ic->arg);
	return 0;
}

static void complete_files(struct ictl *c, const char *cur,
			   void (*emit)(const char *, void *), void *arg)
{
	struct ino_collect ic = {cur, emit, arg};
	const char *mp;
	bool quiet = c->quiet;
	int exit_code = c->exit_code;

	if (c->image_path)
		return;
	c->quiet = true;
	if (ictl_is_number(cur) || !*cur)
		client_call_more(c, PROTO_M_DUMP, NULL, NULL, ino_reply, &ic);
	if (cur[0] == '/') {
		complete_paths("", cur, emit, arg);
	} else if (!ictl_is_number(cur)) {
		mp = client_mountpoint(c);
		if (mp)
			complete_paths(mp, cur, emit, arg);
	}
	c->quiet = quiet;
	c->exit_code = exit_code;
}

/* The option of @cmd spelt @word, or NULL. */
static const struct cmd_opt *shell_option(const struct cmd_def *cmd,
					  const char *word)
{
	const struct cmd_opt *o;

	for (o = cmd->options; o->id; o++)
		if (!strcmp(word, cmd_opt_name(o->id)))
			return o;
	return NULL;
}

void shell_complete(struct ictl *c, int nwords, char **words, const char *cur,
		    void (*emit)(const char *cand, void *arg), void *arg)
{
	static const char *const limit_keys[] = {
		PROTO_LIMIT_CACHE_MAX "=",
		PROTO_LIMIT_CACHE_INODE_MAX "=",
		PROTO_LIMIT_EVENT_RING "=",
		NULL,
	};
	const struct cmd_def *cmd;
	const struct cmd_opt *o;
	int i, args = 0;

	if (!nwords) {
		complete_commands(cur, emit, arg);
		return;
	}
	cmd = cmd_find(words[0]);
	if (!cmd)
		return;
	/* the words so far that are arguments, not options or their values */
	for (i = 1; i < nwords; i++) {
		o = shell_option(cmd, words[i]);
		if (o && cmd_opt_arg(o->id) && i == nwords - 1)
			return; /* the option's value comes next */
		if (o && cmd_opt_arg(o->id))
			i++;
		else if (!o)
			args++;
	}
	if (cur[0] == '-') {
		for (o = cmd->options; o->id; o++)
			if (has_prefix(cmd_opt_name(o->id), cur))
				emit(cmd_opt_name(o->id), arg);
		return;
	}
	switch (cmd->arg_kind) {
	case CMD_ARG_COMMAND:
		if (!args)
			complete_commands(cur, emit, arg);
		break;
	case CMD_ARG_LIMIT:
		for (i = 0; limit_keys[i]; i++)
			if (has_prefix(limit_keys[i], cur))
				emit(limit_keys[i], arg);
		break;
	case CMD_ARG_FILE_ONE:
		if (args)
			return; /* what follows the file is no file */
				/* fall through */
	case CMD_ARG_FILE:
		complete_files(c, cur, emit, arg);
		break;
	default:
		break;
	}
}

/* ---- the hidden `complete` command -------------------------------------- */

static void print_cand(const char *cand, void *arg)
{
	printf("%s\n", cand);
}

int cmd_complete(struct ictl *c, const struct cmd_args *a)
{
	char **argv = a->argv, cand[64];
	int argc = a->argc, i = 0, first;
	const struct cmd_gopt *g;
	const char *cur;

	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc)
		return 0;
	cur = argv[argc - 1];
	/* Global options before the command; they name the target too. */
	while (i < argc - 1 && argv[i][0] == '-') {
		g = cmd_gopt_find(argv[i]);
		if (!g || !g->arg) {
			i++;
			continue;
		}
		if (i + 1 >= argc - 1)
			return 0; /* completing its argument */
		if (!c->mountpoint && !c->socket_path && !c->image_path) {
			if (g->key == 'm')
				c->mountpoint = argv[i + 1];
			else if (g->key == 's')
				c->socket_path = argv[i + 1];
			else if (g->key == 'i')
				c->image_path = argv[i + 1];
		}
		i += 2;
	}
	first = i;
	if (first == argc - 1 && cur[0] == '-') {
		for (g = cmd_gopts; g->name; g++) {
			snprintf(cand, sizeof(cand), "--%s", g->name);
			if (has_prefix(cand, cur))
				printf("%s\n", cand);
		}
		return 0;
	}
	shell_complete(c, argc - 1 - first, argv + first, cur, print_cand,
		       NULL);
	return 0;
}

/* ---- the shell ---------------------------------------------------------- */

static struct ictl *shell_ctx;
static volatile sig_atomic_t shell_sigint;

static void shell_on_sigint(int sig)
{
	shell_sigint = 1;
}

/*
 * Ctrl-C at the prompt drops the line being typed, as in bash, instead of
 * ending the shell; readline calls this when a signal interrupts its read.
 */
static int shell_signal_event(void)
{
	if (!shell_sigint)
		return 0;
	shell_sigint = 0;
	rl_replace_line("", 0);
	rl_crlf();
	rl_on_new_line();
	rl_redisplay();
	return 0;
}

struct cand_list {
	char **v;
	size_t n, cap;
};

static void collect_cand(const char *cand, void *arg)
{
	struct cand_list *l = arg;
	char *dup;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], cand))
			return;
	if (l->n + 1 >= l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return;
		l->v = v;
		l->cap = cap;
	}
	dup = strdup(cand);
	if (dup)
		l->v[l->n++] = dup;
}

static struct cand_list shell_cands;
static size_t shell_cand_next;

static char *shell_generator(const char *text, int state)
{
	if (!state)
		shell_cand_next = 0;
	if (shell_cand_next < shell_cands.n)
		return strdup(shell_cands.v[shell_cand_next++]);
	return NULL;
}

static void cands_clear(struct cand_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static char **shell_attempt(const char *text, int start, int end)
{
	char *before, **words = NULL;
	int nwords = 0;

	rl_attempted_completion_over = 1; /* no filename fallback */
	cands_clear(&shell_cands);
	before = strndup(rl_line_buffer, (size_t)start);
	if (!before)
		return NULL;
	if (ictl_split_words(before, &nwords, &words) == 0) {
		shell_complete(shell_ctx, nwords, words, text, collect_cand,
			       &shell_cands);
		ictl_free_words(words);
	}
	free(before);
	if (shell_cands.n == 1) {
		const char *only = shell_cands.v[0];
		char last = *only ? only[strlen(only) - 1] : 0;

		/* keep typing after a directory or a KEY= */
		rl_completion_suppress_append = last == '/' || last == '=';
	}
	return rl_completion_matches(text, shell_generator);
}

/* $XDG_STATE_HOME/iomapctl/history, creating its directories. */
static char *shell_history_path(void)
{
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	char *dir = NULL, *path = NULL, *p;
	int fd;

	if (state && state[0] == '/') {
		if (asprintf(&dir, "%s/iomapctl", state) < 0)
			return NULL;
	} else if (home && home[0] == '/') {
		if (asprintf(&dir, "%s/.local/state/iomapctl", home) < 0)
			return NULL;
	} else {
		return NULL;
	}
	for (p = strchr(dir + 1, '/');; p = strchr(p + 1, '/')) {
		if (p)
			*p = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST) {
			fprintf(stderr,
				"iomapctl: history: cannot create %s: "
				"%s\n",
				dir, strerror(errno));
			free(dir);
			return NULL;
		}
		if (!p)
			break;
		*p = '/';
	}
	if (asprintf(&path, "%s/history", dir) < 0)
		path = NULL;
	free(dir);
	if (!path)
		return NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "iomapctl: history: cannot open %s: %s\n", path,
			strerror(errno));
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

static char *shell_prompt(struct ictl *c)
{
	const char *where = NULL;
	char *prompt = NULL;

	int exit_code = c->exit_code;

	if (c->image_path) {
		where = c->image_path;
	} else {
		/* no daemon yet is not an error of the shell */
		c->quiet = true;
		where = client_mountpoint(c);
		c->quiet = false;
		c->exit_code = exit_code;
	}
	if (asprintf(&prompt, "iomapctl %s> ", where ? where : "(no mount)") <
	    0)
		return NULL;
	return prompt;
}

int cmd_shell(struct ictl *c, const struct cmd_args *a)
{
	if (c->in_shell)
		return ictl_fail(c, ICTL_EXIT_USAGE, -EINVAL,
				 "already in the shell");
	c->exit_code = shell_run(c);
	c->cmd_name = "shell";
	return 0;
}

#define SHELL_HISTORY_MAX 1000

int shell_run(struct ictl *c)
{
	struct sigaction sa = {0}, old_sa;
	char *hist, *line, *prompt, **argv;
	int argc, ret;

	if (!isatty(STDIN_FILENO))
		fprintf(stderr, "iomapctl: shell: stdin is not a terminal; "
				"reading commands anyway\n");
	c->in_shell = true;
	shell_ctx = c;
	sa.sa_handler = shell_on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_sa);
	rl_signal_event_hook = shell_signal_event;
	rl_readline_name = "iomapctl";
	rl_attempted_completion_function = shell_attempt;
	rl_basic_word_break_characters = " \t\n";
	rl_completer_quote_characters = "'\"";
	hist = shell_history_path();
	if (hist) {
		read_history(hist);
		stifle_history(SHELL_HISTORY_MAX);
	}
	printf("iomapctl %s shell: 'help' lists commands, Ctrl-D leaves.\n",
	       PACKAGE_VERSION);
	for (;;) {
		prompt = shell_prompt(c);
		line = readline(prompt ? prompt : "iomapctl> ");
		free(prompt);
		if (!line) {
			printf("\n");
			break;
		}
		ret = ictl_split_words(line, &argc, &argv);
		if (ret) {
			fprintf(stderr, "iomapctl: %s\n",
				ret == -EINVAL ? "unterminated quote"
					       : strerror(-ret));
		} else if (argc) {
			add_history(line);
			if (hist && append_history(1, hist))
				fprintf(stderr,
					"iomapctl: history: cannot "
					"write %s\n",
					hist);
			if (!strcmp(argv[0], "quit") ||
			    !strcmp(argv[0], "exit")) {
				ictl_free_words(argv);
				free(line);
				break;
			}
			cmd_run(c, argc, argv);
		}
		if (!ret)
			ictl_free_words(argv);
		free(line);
	}
	if (hist)
		history_truncate_file(hist, SHELL_HISTORY_MAX);
	free(hist);
	cands_clear(&shell_cands);
	sigaction(SIGINT, &old_sa, NULL);
	rl_signal_event_hook = NULL;
	c->in_shell = false;
	return ICTL_EXIT_OK;
}
