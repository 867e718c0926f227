/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * args.h - parsers for iomapctl's arguments beyond the SIZE of
 * shared/size.h: OFF:LEN ranges, durations, inode numbers, and the
 * splitting of a script or shell line into words with shell-like quoting.
 */
#ifndef IOMAPCTL_ARGS_H
#define IOMAPCTL_ARGS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Parse "OFF:LEN", each side a SIZE (shared/size.h); LEN may be empty for
 * "to the end", returned as 0.  Returns 0, or -EINVAL or -ERANGE with a
 * short phrase in *why saying what was wrong.
 */
int ictl_parse_range(const char *s, uint64_t *off, uint64_t *len,
		     const char **why);

/*
 * Parse a duration: a number with an optional unit s (default), ms, m, h.
 * Returns 0 and milliseconds in *ms, or -EINVAL/-ERANGE.
 */
int ictl_parse_duration(const char *s, uint64_t *ms);

/* Whether @s is all decimal digits (an inode number rather than a path). */
bool ictl_is_number(const char *s);

/*
 * Split @line into words: blanks separate words, '...' and "..." quote,
 * a backslash escapes the next character, and '#' at the start of a word
 * begins a comment to the end of the line.  On success *argv is a
 * NULL-terminated array of *argc strings (free with ictl_free_words());
 * returns 0, -EINVAL for an unterminated quote, or -ENOMEM.
 */
int ictl_split_words(const char *line, int *argc, char ***argv);
void ictl_free_words(char **argv);

#endif /* IOMAPCTL_ARGS_H */
