/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shell.h - iomapctl's interactive shell (readline, history, completion)
 * and the completion engine it shares with the hidden `complete` command
 * that the bash completion file calls.
 */
#ifndef IOMAPCTL_SHELL_H
#define IOMAPCTL_SHELL_H

#include "ictl.h"

/*
 * Run the shell until Ctrl-D or `quit`.  Errors of single commands are
 * reported and the shell goes on.  Returns the exit code of the shell
 * (0, or 2 when it could not start).
 */
int shell_run(struct ictl *c);

/*
 * Candidates for the word @cur that follows the command words @words
 * (@nwords of them; @words[0] is the command, none: complete a command
 * name).  Each candidate goes to @emit.  Commands, their options, limit
 * keys, paths inside the mount (relative ones from the mountpoint;
 * directories end in '/') and cached inode numbers.  Never prints errors.
 */
void shell_complete(struct ictl *c, int nwords, char **words, const char *cur,
		    void (*emit)(const char *cand, void *arg), void *arg);

#endif /* IOMAPCTL_SHELL_H */
