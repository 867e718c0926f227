/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_methods.h - the method table of the control server (ctl_methods.c):
 * what ctl_server.c dispatches through.  struct ctl_method is in
 * ctl_internal.h.
 */
#ifndef IOMAPFS_CTL_METHODS_H
#define IOMAPFS_CTL_METHODS_H

#include <stddef.h>

#include <jansson.h>

#include "cache.h"
#include "ctl_internal.h"

/* The method table, sorted by name (strcmp): ctl_method_find() searches
 * it by bisection, and t4160 checks the order. */
extern const struct ctl_method ctl_methods[];
extern const size_t ctl_methods_count;

/* The entry named @name, or NULL. */
const struct ctl_method *ctl_method_find(const char *name);

/* A watched cache event as its Watch reply shows it; NULL on ENOMEM. */
json_t *ctl_event_json(const struct cache_event *ev);

#endif /* IOMAPFS_CTL_METHODS_H */
