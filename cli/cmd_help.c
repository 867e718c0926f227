// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_help.c - the commands about iomapctl itself: `help` (the command
 * list, or one command's usage, description and options, all from the
 * command table; -J as JSON), the hidden `commands` (names only, for the
 * man-page test and scripts) and `version`.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"

/* "--range OFF:LEN": option @id as the usage line spells it. */
static int help_spell(enum cmd_opt_id id, char *buf, size_t size)
{
	const char *arg = cmd_opt_arg(id);

	return snprintf(buf, size, "%s%s%s", cmd_opt_name(id), arg ? " " : "",
			arg ? arg : "");
}

/*
 * The options of @cmd, one per line: "  --range OFF:LEN  help", the help
 * texts in one column and their continuation lines under it.
 */
static void help_options(const struct cmd_def *cmd, FILE *f)
{
	const struct cmd_opt *o;
	char spell[64];
	int width = 0, n;

	for (o = cmd->options; o->id; o++) {
		n = help_spell(o->id, spell, sizeof(spell));
		if (n > width)
			width = n;
	}
	for (o = cmd->options; o->id; o++) {
		const char *h = o->help, *nl;

		help_spell(o->id, spell, sizeof(spell));
		fprintf(f, "  %-*s  ", width, spell);
		while ((nl = strchr(h, '\n'))) {
			fprintf(f, "%.*s\n%*s", (int)(nl - h), h, width + 4,
				"");
			h = nl + 1;
		}
		fprintf(f, "%s\n", h);
	}
}

/* One command record as JSON, for `help -J`. */
/* The long help of @cmd with its options, as `help CMD` prints it. */
static char *help_text(const struct cmd_def *cmd)
{
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fputs(cmd->help, f);
	help_options(cmd, f);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* One command record as JSON, for `help -J`; NULL when out of memory. */
static json_t *help_json_cmd(const struct cmd_def *cmd, bool long_help)
{
	char synopsis[ICTL_USAGE_MAX], *text = NULL;
	json_t *opts = json_array(), *j;
	const struct cmd_opt *o;

	for (o = cmd->options; opts && o->id; o++)
		json_array_append_new(opts, json_string(cmd_opt_name(o->id)));
	cmd_synopsis(cmd, synopsis, sizeof(synopsis));
	if (long_help) {
		text = help_text(cmd);
		if (!text) {
			json_decref(opts);
			return NULL;
		}
	}
	j = json_pack("{s:s, s:s?, s:s, s:s, s:s?, s:o?, s:b, s:b, s:b}",
		      "name", cmd->name, "alias", cmd->alias, "synopsis",
		      synopsis, "summary", cmd->oneline, "help", text,
		      "options", opts, "needs_daemon",
		      (cmd->flags & CMD_F_DAEMON) != 0, "works_with_image",
		      (cmd->flags & CMD_F_IMAGE) != 0, "admin",
		      (cmd->flags & CMD_F_ADMIN) != 0);
	free(text);
	return j;
}

static int help_json(struct ictl *c, const struct cmd_def *one)
{
	json_t *doc = ictl_doc_new(c->cmd_name), *arr;
	unsigned int i;

	if (!doc)
		return -ENOMEM;
	if (one) {
		json_object_set_new(doc, "help", help_json_cmd(one, true));
		return ictl_doc_print(doc);
	}
	arr = json_array();
	for (i = 0; arr && i < cmd_table_size; i++)
		if (!(cmd_table[i].flags & CMD_F_HIDDEN))
			json_array_append_new(
				arr, help_json_cmd(&cmd_table[i], false));
	json_object_set_new(doc, "commands", arr);
	return ictl_doc_print(doc);
}

int cmd_help(struct ictl *c, const struct cmd_args *a)
{
	const struct cmd_def *cmd = NULL;
	char synopsis[ICTL_USAGE_MAX];
	unsigned int i;

	if (a->argc) {
		cmd = cmd_find(a->argv[0]);
		if (!cmd)
			return ictl_usage(c, "no command '%s'", a->argv[0]);
	}
	if (c->out_mode == ICTL_OUT_JSON)
		return help_json(c, cmd);
	if (cmd) {
		cmd_synopsis(cmd, synopsis, sizeof(synopsis));
		printf("usage: iomapctl %s%s%s\n", cmd->name,
		       *synopsis ? " " : "", synopsis);
		if (cmd->alias)
			printf("alias: %s\n", cmd->alias);
		printf("%s.\n\n%s", cmd->oneline, cmd->help);
		help_options(cmd, stdout);
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

int cmd_commands(struct ictl *c, const struct cmd_args *a)
{
	unsigned int i;

	if (a->argc)
		return ictl_usage(c, "unexpected argument '%s'", a->argv[0]);
	for (i = 0; i < cmd_table_size; i++)
		if (a->all || !(cmd_table[i].flags & CMD_F_HIDDEN))
			printf("%s\n", cmd_table[i].name);
	return 0;
}

int cmd_version(struct ictl *c, const struct cmd_args *a)
{
	json_t *doc;

	if (c->out_mode == ICTL_OUT_JSON) {
		doc = ictl_doc_new(c->cmd_name);
		if (!doc)
			return -ENOMEM;
		json_object_set_new(doc, "version",
				    json_string(PACKAGE_VERSION));
		json_object_set_new(doc, "jansson",
				    json_string(JANSSON_VERSION));
		return ictl_doc_print(doc);
	}
	printf("iomapctl %s (JSON schema %d)\n", PACKAGE_VERSION,
	       ICTL_JSON_SCHEMA);
	return 0;
}
