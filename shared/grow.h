/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * grow.h - room for one more element at the end of a growing array (header
 * only): the capacity doubles, from a first size the caller picks, so that
 * appending n elements costs O(n).  No locking of its own: the caller holds
 * whatever lock guards the array.
 */
#ifndef IOMAPFS_GROW_H
#define IOMAPFS_GROW_H

#include <stdint.h>
#include <stdlib.h>

/*
 * The array @arr (*@cap elements of @size bytes, @n of them used) with room
 * for element @n: @arr itself when it has the room, else the array moved to
 * a doubled capacity (@first when it was empty), *@cap updated.  NULL when
 * the memory is not there; @arr and *@cap are then untouched.
 */
static inline void *grow_one(void *arr, size_t n, size_t *cap, size_t size,
			     size_t first)
{
	size_t ncap;
	void *narr;

	if (n < *cap)
		return arr;
	ncap = *cap ? *cap * 2 : first;
	if (ncap < *cap || ncap > SIZE_MAX / size)
		return NULL;
	narr = realloc(arr, ncap * size);
	if (narr)
		*cap = ncap;
	return narr;
}

#endif
