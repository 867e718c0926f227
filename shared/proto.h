/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proto.h - the names of the io.iomapfs.Cache Varlink interface (methods,
 * errors, limits' keys) and the JSON form of an iomap, shared by the
 * control server and iomapctl so that neither spells a name on its own.
 * The interface description itself is daemon/io.iomapfs.Cache.varlink.
 *
 * JSON form of a mapping (the interface's type Mapping):
 *   {"offset": int, "length": int, "addr": int or null, "type": "MAPPED",
 *    "flags": ["LAST", ...]}
 * All in bytes; addr is null for the types without an address.
 */
#ifndef IOMAPFS_PROTO_H
#define IOMAPFS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "iomap.h"

#define PROTO_INTERFACE "io.iomapfs.Cache"
#define PROTO_VENDOR "iomapfs"
#define PROTO_PRODUCT "iomapfs"
#define PROTO_URL "https://varlink.org"

/* Methods of io.iomapfs.Cache. */
#define PROTO_M_GET_STATUS PROTO_INTERFACE ".GetStatus"
#define PROTO_M_GET_STATS PROTO_INTERFACE ".GetStats"
#define PROTO_M_RESET_STATS PROTO_INTERFACE ".ResetStats"
#define PROTO_M_DUMP PROTO_INTERFACE ".Dump"
#define PROTO_M_MAP PROTO_INTERFACE ".Map"
#define PROTO_M_FLUSH PROTO_INTERFACE ".Flush"
#define PROTO_M_SET_CACHING PROTO_INTERFACE ".SetCaching"
#define PROTO_M_GET_LIMITS PROTO_INTERFACE ".GetLimits"
#define PROTO_M_SET_LIMITS PROTO_INTERFACE ".SetLimits"
#define PROTO_M_AUDIT PROTO_INTERFACE ".Audit"
#define PROTO_M_WATCH PROTO_INTERFACE ".Watch"
#define PROTO_M_GET_JOURNAL PROTO_INTERFACE ".GetJournal"
#define PROTO_M_SET_READ_ONLY PROTO_INTERFACE ".SetReadOnly"

/* Errors of io.iomapfs.Cache (org.varlink.service ones are in varlink.h). */
#define PROTO_E_NO_SUCH_INODE PROTO_INTERFACE ".NoSuchInode"
#define PROTO_E_NOT_CACHED PROTO_INTERFACE ".NotCached"
#define PROTO_E_IO_ERROR PROTO_INTERFACE ".IOError"
#define PROTO_E_INVALID_RANGE PROTO_INTERFACE ".InvalidRange"
#define PROTO_E_NOT_MAPPABLE PROTO_INTERFACE ".NotMappable"
#define PROTO_E_PROTOCOL_ERROR PROTO_INTERFACE ".ProtocolError"
#define PROTO_E_TOO_MANY_CONNECTIONS PROTO_INTERFACE ".TooManyConnections"
#define PROTO_E_READ_ONLY PROTO_INTERFACE ".ReadOnly"
#define PROTO_E_REMOUNT_REFUSED PROTO_INTERFACE ".RemountRefused"

/* Keys of the limits (GetLimits, SetLimits, -o options). */
#define PROTO_LIMIT_CACHE_MAX "cache_max"
#define PROTO_LIMIT_CACHE_INODE_MAX "cache_inode_max"
#define PROTO_LIMIT_EVENT_RING "event_ring"

/* Largest offset or length on the wire: JSON integers are int64. */
#define PROTO_MAX_INT INT64_MAX

/*
 * The JSON form of @m (a new reference), or NULL on ENOMEM.  addr is null
 * for IOMAP_NULL_ADDR; an unknown type is written as its number in a
 * string.  Values above INT64_MAX (only lengths that reach 2^64) are
 * written as INT64_MAX.
 */
json_t *proto_iomap_to_json(const struct iomap *m);

/* The array of flag names of @flags ("NEW", ...; unknown bits as "0x40"). */
json_t *proto_flags_to_json(unsigned int flags);

/*
 * Parse the JSON form of a mapping.  Returns 0 and fills *out (which then
 * passes iomap_validate()), or -EINVAL with the reason in @err.
 */
int proto_iomap_from_json(const json_t *j, struct iomap *out, char *err,
			  size_t errlen);

/* Format CLOCK_REALTIME nanoseconds as RFC 3339 UTC with nanoseconds
 * ("2026-11-24T17:20:11.123456789Z").  Returns @buf.  @size >= 32. */
char *proto_time_rfc3339(uint64_t ns, char *buf, size_t size);
#define PROTO_RFC3339_SIZE 32

#endif /* IOMAPFS_PROTO_H */
