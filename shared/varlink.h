/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * varlink.h - Varlink (https://varlink.org) framing over a SOCK_STREAM UNIX
 * socket, shared by the daemon's control server and iomapctl.  A message is
 * one JSON object followed by a NUL byte.  A call is
 * {"method", "parameters", "more", "oneway"}; a reply is
 * {"parameters", "continues", "error"}.  JSON comes from jansson.
 *
 * The receiver buffers bytes and cuts them into messages.  It refuses, with
 * a message that says why: a message longer than its cap (64 KiB by
 * default) without a NUL, bytes left unterminated at end of file, invalid
 * UTF-8 or JSON, JSON nested deeper than VARLINK_MAX_DEPTH, and anything
 * that is not a JSON object.
 *
 * The client side (varlink_connect(), varlink_call(), varlink_recv_reply())
 * does blocking I/O on its own socket.  The server side uses the receive
 * buffer with non-blocking sockets, varlink_encode() for its output, and the
 * declarative parameter checks (struct varlink_param) to refuse unknown or
 * mistyped parameters before a method runs.
 *
 * No function here is thread-safe for one connection; different
 * connections are independent.  Functions return 0 or a negative errno
 * unless they say otherwise.  Sizes are bytes.
 */
#ifndef IOMAPFS_VARLINK_H
#define IOMAPFS_VARLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Default cap on one message, NUL included: what a server accepts. */
#define VARLINK_MAX_MSG_DEFAULT (64u * 1024u)
/* Cap on one reply for clients (varlink_connect()): a reply may carry
 * thousands of mappings, and the server never sends more than this. */
#define VARLINK_MAX_REPLY_DEFAULT (16u * 1024u * 1024u)
/* Deepest nesting of arrays and objects accepted in a message. */
#define VARLINK_MAX_DEPTH 32

/* The errors of the org.varlink.service interface. */
#define VARLINK_SERVICE "org.varlink.service"
#define VARLINK_E_INTERFACE_NOT_FOUND "org.varlink.service.InterfaceNotFound"
#define VARLINK_E_METHOD_NOT_FOUND "org.varlink.service.MethodNotFound"
#define VARLINK_E_METHOD_NOT_IMPLEMENTED \
	"org.varlink.service.MethodNotImplemented"
#define VARLINK_E_INVALID_PARAMETER "org.varlink.service.InvalidParameter"
#define VARLINK_E_PERMISSION_DENIED "org.varlink.service.PermissionDenied"
#define VARLINK_E_EXPECTED_MORE "org.varlink.service.ExpectedMore"
#define VARLINK_M_GET_INFO "org.varlink.service.GetInfo"
#define VARLINK_M_GET_INTERFACE_DESCRIPTION \
	"org.varlink.service.GetInterfaceDescription"

/* Flags of a call. */
#define VARLINK_CALL_MORE 0x1u	 /* the server may reply several times */
#define VARLINK_CALL_ONEWAY 0x2u /* the server sends no reply */

/* Longest diagnostic the receive functions write (with the NUL). */
#define VARLINK_ERRMSG_SIZE 160

/* ---- receive buffer ---------------------------------------------------- */

/*
 * Bytes read from a socket and not yet cut into messages.  @max is the
 * message cap; the buffer never grows past it.
 */
struct varlink_rbuf {
	char *buf;
	size_t len;		/* bytes held */
	size_t cap;		/* bytes allocated */
	size_t max;		/* message cap, NUL included */
	bool eof;		/* the peer closed its side */
};

/* Set up @rb with the cap @max (0: VARLINK_MAX_MSG_DEFAULT).  Allocates
 * lazily; never fails. */
void varlink_rbuf_init(struct varlink_rbuf *rb, size_t max);
void varlink_rbuf_free(struct varlink_rbuf *rb);

/*
 * One read(2) from @fd into the buffer, at most what fits under the cap
 * (when a full message is already buffered it reads nothing and returns
 * -ENOBUFS: take the message first).  Returns the bytes read (> 0), 0 at
 * end of file (sets rb->eof), -EAGAIN when a non-blocking @fd has nothing,
 * or -errno.  EINTR is retried.
 */
ssize_t varlink_rbuf_fill(struct varlink_rbuf *rb, int fd);

/*
 * Cut the next message off the buffer and parse it.  Returns 1 and sets
 * *msg (a new reference to a JSON object), 0 when more bytes are needed,
 * or a negative errno with a reason in @err (may be NULL):
 *  -EMSGSIZE  no NUL within the cap (the connection cannot recover);
 *  -EPROTO    end of file inside a message (unterminated);
 *  -EBADMSG   the message is not valid UTF-8, not JSON, nested too deep,
 *             or not an object.  Its bytes are consumed, so the next
 *             message can still be read.
 */
int varlink_rbuf_next(struct varlink_rbuf *rb, json_t **msg,
		      char err[VARLINK_ERRMSG_SIZE]);

/*
 * Parse one message body of @len bytes (no NUL inside) with the same rules
 * as varlink_rbuf_next().  Returns 0 and sets *msg, or -EBADMSG with @err.
 */
int varlink_parse(const char *text, size_t len, json_t **msg,
		  char err[VARLINK_ERRMSG_SIZE]);

/*
 * Encode @msg as compact JSON followed by a NUL.  Sets *buf (malloc'd) and
 * *len (bytes including the NUL).  Returns 0, -ENOMEM, or -EMSGSIZE when
 * the encoding is longer than @max (0: no cap).
 */
int varlink_encode(const json_t *msg, size_t max, char **buf, size_t *len);

/* ---- building messages ------------------------------------------------- */

/*
 * A call message.  @params may be NULL (an empty object is sent); it is
 * borrowed, not stolen.  Returns NULL on ENOMEM.
 */
json_t *varlink_call_new(const char *method, const json_t *params,
			 unsigned int flags);

/*
 * A reply message.  @params may be NULL; it is stolen (json_decref'd in
 * every case).  @error NULL makes a success reply; @continues sets
 * "continues": true.  Returns NULL on ENOMEM.
 */
json_t *varlink_reply_new(json_t *params, const char *error, bool continues);

/* An org.varlink.service.InvalidParameter reply naming @param. */
json_t *varlink_reply_invalid_parameter(const char *param);

/* ---- checking calls (server side) -------------------------------------- */

/* A parsed call.  Pointers borrow from the message they came from. */
struct varlink_call {
	const char *method;
	json_t *params;		/* always an object */
	bool more;
	bool oneway;
};

/*
 * Check that @msg is a well-formed call: "method" a string of the form
 * "interface.Method", "parameters" absent or an object, "more"/"oneway"
 * absent or booleans, "upgrade" absent or false, and no other key.
 * Returns 0 and fills @call, or -EBADMSG with a reason in @err.
 */
int varlink_call_parse(json_t *msg, struct varlink_call *call,
		       char err[VARLINK_ERRMSG_SIZE]);

enum varlink_type {
	VARLINK_T_BOOL,
	VARLINK_T_INT,		/* integer in [min, max] */
	VARLINK_T_FLOAT,
	VARLINK_T_STRING,
	VARLINK_T_OBJECT,
	VARLINK_T_ARRAY,
};

/*
 * One parameter of a method.  An optional parameter (Varlink "?type") may
 * be absent or null.  For VARLINK_T_INT, min and max bound the value
 * (both 0: any int64).
 */
struct varlink_param {
	const char *name;
	enum varlink_type type;
	bool required;
	int64_t min;
	int64_t max;
};

/*
 * Check @params (an object) against @n parameters in @spec.  Rejects an
 * unknown parameter, a missing required one, a wrong JSON type and an
 * integer out of range.  Returns 0, or -EINVAL and sets *bad to the name of
 * the offending parameter (a string that lives as long as @params or
 * @spec).
 */
int varlink_params_check(const json_t *params,
			 const struct varlink_param *spec, size_t n,
			 const char **bad);

/*
 * Read a checked parameter: true and *out set when @name is present and
 * not null, false otherwise.
 */
bool varlink_param_int(const json_t *params, const char *name, int64_t *out);
bool varlink_param_bool(const json_t *params, const char *name, bool *out);

/* ---- client ------------------------------------------------------------ */

struct varlink_conn;

/*
 * Connect to the UNIX socket at @path; replies are capped at
 * VARLINK_MAX_REPLY_DEFAULT.  Returns 0 and sets *out, or
 * -errno: -ENAMETOOLONG for a path that does not fit sun_path, -ENOENT,
 * -ECONNREFUSED (a stale socket: no one listens), -EACCES, ...
 */
int varlink_connect(const char *path, struct varlink_conn **out);

/*
 * Wrap a connected socket (ownership of @fd passes to the connection, which
 * closes it).  @max is the message cap (0: the default).  NULL on ENOMEM.
 */
struct varlink_conn *varlink_conn_new(int fd, size_t max);
/* Close the socket and free.  NULL is allowed. */
void varlink_conn_free(struct varlink_conn *c);
int varlink_conn_fd(const struct varlink_conn *c);

/*
 * Timeout in milliseconds for each send and receive (-1, the default:
 * wait forever).  A timeout gives -ETIMEDOUT.
 */
void varlink_conn_set_timeout(struct varlink_conn *c, int timeout_ms);

/*
 * Send a call of @method with @params (borrowed; NULL: no parameters).
 * Returns 0, -EPIPE when the server went away, -ETIMEDOUT or -errno.
 */
int varlink_call(struct varlink_conn *c, const char *method,
		 const json_t *params, unsigned int flags);

/* Send any message (borrowed). */
int varlink_send(struct varlink_conn *c, const json_t *msg);

/* One reply.  Free what it holds with varlink_reply_clear(). */
struct varlink_reply {
	json_t *params;		/* always an object (empty when absent) */
	char *error;		/* NULL for success, else the error name */
	bool continues;
	json_t *msg;		/* the whole message */
};

void varlink_reply_clear(struct varlink_reply *r);

/*
 * Wait for and parse the next reply.  Returns 0 and fills @r (an error
 * reply is still 0: look at r->error), or -errno with a reason in the
 * connection's last error (varlink_conn_error()): -ECONNRESET when the
 * server closed the connection, -EMSGSIZE, -EPROTO, -EBADMSG for a
 * malformed reply, -ETIMEDOUT.
 */
int varlink_recv_reply(struct varlink_conn *c, struct varlink_reply *r);

/* Receive any message (a new reference), with the rules above. */
int varlink_recv(struct varlink_conn *c, json_t **msg);

/* The reason for the last failure on @c ("" when none). */
const char *varlink_conn_error(const struct varlink_conn *c);

#endif /* IOMAPFS_VARLINK_H */
