// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * proto.c - the JSON form of iomaps for the io.iomapfs.Cache interface.
 * Type and flag names come from iomap.c's one name table, so the wire, the
 * tables and the parsers can never disagree.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "proto.h"

static json_t *json_u64(uint64_t v)
{
	return json_integer(v > (uint64_t)PROTO_MAX_INT ? PROTO_MAX_INT
							: (json_int_t)v);
}

json_t *proto_flags_to_json(unsigned int flags)
{
	json_t *a = json_array();
	unsigned int bit;

	if (!a)
		return NULL;
	for (bit = 1; flags; bit <<= 1) {
		const char *name;
		char hex[16];

		if (!(flags & bit))
			continue;
		flags &= ~bit;
		name = iomap_flag_name(bit);
		if (!name) {
			snprintf(hex, sizeof(hex), "0x%x", bit);
			name = hex;
		}
		if (json_array_append_new(a, json_string(name))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *proto_iomap_to_json(const struct iomap *m)
{
	const char *tname = iomap_type_name(m->type);
	char tnum[16];

	if (!tname) {
		snprintf(tnum, sizeof(tnum), "%u", (unsigned int)m->type);
		tname = tnum;
	}
	return json_pack("{s:o, s:o, s:o, s:s, s:o}",
			 "offset", json_u64(m->offset),
			 "length", json_u64(m->length),
			 "addr", m->addr == IOMAP_NULL_ADDR ? json_null()
							    : json_u64(m->addr),
			 "type", tname,
			 "flags", proto_flags_to_json(m->flags));
}

static int get_u64(const json_t *j, const char *key, bool nullable,
		   uint64_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(j, key);

	if (nullable && json_is_null(v)) {
		*out = IOMAP_NULL_ADDR;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(err, errlen, "mapping: \"%s\" is %s", key,
			 v ? "not a non-negative integer" : "missing");
		return -EINVAL;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int proto_iomap_from_json(const json_t *j, struct iomap *out, char *err,
			  size_t errlen)
{
	json_t *type, *flags, *f;
	unsigned int fl = 0;
	size_t i;
	int t;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(j)) {
		snprintf(err, errlen, "mapping: not an object");
		return -EINVAL;
	}
	if (get_u64(j, "offset", false, &out->offset, err, errlen) ||
	    get_u64(j, "length", false, &out->length, err, errlen) ||
	    get_u64(j, "addr", true, &out->addr, err, errlen))
		return -EINVAL;
	type = json_object_get(j, "type");
	t = json_is_string(type) ? iomap_type_parse(json_string_value(type))
				 : -EINVAL;
	if (t < 0) {
		snprintf(err, errlen, "mapping: \"type\" is not a type name");
		return -EINVAL;
	}
	out->type = (uint16_t)t;
	flags = json_object_get(j, "flags");
	if (flags && !json_is_array(flags)) {
		snprintf(err, errlen, "mapping: \"flags\" is not an array");
		return -EINVAL;
	}
	json_array_foreach(flags, i, f) {
		unsigned int one;

		if (!json_is_string(f) ||
		    iomap_flags_parse(json_string_value(f), &one)) {
			snprintf(err, errlen, "mapping: unknown flag in "
				 "\"flags\"");
			return -EINVAL;
		}
		fl |= one;
	}
	out->flags = (uint16_t)fl;
	if (iomap_validate(out)) {
		snprintf(err, errlen, "mapping: inconsistent (length 0, "
			 "overflow, or addr wrong for its type)");
		return -EINVAL;
	}
	return 0;
}

char *proto_time_rfc3339(uint64_t ns, char *buf, size_t size)
{
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;
	size_t n;

	if (!gmtime_r(&sec, &tm) ||
	    (n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
		snprintf(buf, size, "?");
		return buf;
	}
	snprintf(buf + n, size - n, ".%09uZ",
		 (unsigned int)(ns % 1000000000u));
	return buf;
}
