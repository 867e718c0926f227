/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dlist.h - an intrusive doubly linked list with a head and a tail, as the
 * daemon's LRU lists and the cache's watcher list use it: a struct dlist_node
 * sits inside each element and dlist_entry() finds the element again.  The
 * lists do no locking of their own; the caller holds whatever lock guards
 * the list.  A node is on at most one list, and on none when both its links
 * are NULL after dlist_del().
 */
#ifndef IOMAPFS_DLIST_H
#define IOMAPFS_DLIST_H

#include <stddef.h>

struct dlist_node {
	struct dlist_node *prev; /* towards the head */
	struct dlist_node *next; /* towards the tail */
};

struct dlist {
	struct dlist_node *head;
	struct dlist_node *tail;
};

/* The element of type @type holding @node in its field @member, or NULL. */
#define dlist_entry(node, type, member) \
	((type *)dlist_obj((node), offsetof(type, member)))

static inline void *dlist_obj(struct dlist_node *node, size_t off)
{
	return node ? (void *)((char *)node - off) : NULL;
}

static inline void dlist_add_head(struct dlist *l, struct dlist_node *n)
{
	n->prev = NULL;
	n->next = l->head;
	if (l->head)
		l->head->prev = n;
	else
		l->tail = n;
	l->head = n;
}

static inline void dlist_del(struct dlist *l, struct dlist_node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		l->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		l->tail = n->prev;
	n->prev = n->next = NULL;
}

#endif /* IOMAPFS_DLIST_H */
