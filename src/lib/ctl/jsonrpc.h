/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_CTL_JSONRPC_H
#define VFAB_CTL_JSONRPC_H 1

/* JSON-RPC 2.0 messages and their newline-delimited framing.
 *
 * Messages (https://www.jsonrpc.org/specification):
 *
 *   request       {"jsonrpc":"2.0","method":M,"params":P,"id":I}
 *   notification  {"jsonrpc":"2.0","method":M,"params":P}   (no reply)
 *   reply         {"jsonrpc":"2.0","result":R,"id":I}
 *   error         {"jsonrpc":"2.0","error":{"code":C,"message":S
 *                  [,"data":D]},"id":I}
 *
 * Validation is strict: "jsonrpc" must be the string "2.0"; "method" a
 * non-empty string of at most JSONRPC_MAX_METHOD_LEN bytes; "params", when
 * present, an array or an object; "id" a string, a number or null; no
 * other members; duplicate members are rejected; text must be UTF-8 with
 * no NUL.  A batch is a non-empty JSON array of such objects (at most
 * JSONRPC_MAX_BATCH).
 *
 * Framing: one JSON text per line ('\n'-terminated, '\r\n' tolerated,
 * blank lines ignored) over a stream socket.  A serialised message never
 * contains a raw newline (JSON escapes control characters in strings).
 * No line may exceed the stream's message size limit (JSONRPC_MAX_MSG_SIZE
 * by default): a longer one is an error and the stream stops reading, so
 * a peer can never make the other side buffer without bound.
 *
 * Error codes: the standard ones (-32700..-32603) and vfab's domain codes
 * in the server range -32000..-32099 (JSONRPC_VF_*), each named by
 * jsonrpc_error_name().  Documented in docs/ctl-protocol.md.
 *
 * Thread safety: messages and streams belong to one thread at a time. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct vf_poll_loop;

/* Largest message on a stream by default (bytes, newline excluded): big
 * enough for a dump of ~10 000 flows, small enough that 64 clients cannot
 * make the daemon hold more than 64 MiB of input. */
#define JSONRPC_MAX_MSG_SIZE (1024 * 1024)

/* Longest method name (bytes). */
#define JSONRPC_MAX_METHOD_LEN 128

/* Most requests in one batch. */
#define JSONRPC_MAX_BATCH 256

enum jsonrpc_error_code {
    /* JSON-RPC 2.0, section 5.1. */
    JSONRPC_PARSE_ERROR = -32700,      /* Not JSON. */
    JSONRPC_INVALID_REQUEST = -32600,  /* JSON, but not a valid request. */
    JSONRPC_METHOD_NOT_FOUND = -32601, /* No such command. */
    JSONRPC_INVALID_PARAMS = -32602,   /* Bad arguments or options. */
    JSONRPC_INTERNAL_ERROR = -32603,   /* A bug or an internal failure. */

    /* vfab domain errors (server range -32000..-32099). */
    JSONRPC_VF_FAILED = -32000,        /* The operation failed. */
    JSONRPC_VF_NOT_FOUND = -32001,     /* No such bridge, port, ... */
    JSONRPC_VF_EXISTS = -32002,        /* Already exists. */
    JSONRPC_VF_UNAVAILABLE = -32003,   /* Not available (yet) here. */
    JSONRPC_VF_LIMIT = -32004,         /* A configured limit is reached. */
    JSONRPC_VF_STORAGE = -32005,       /* The configuration store failed;
                                        * nothing was changed. */
    JSONRPC_VF_TOO_LARGE = -32006,     /* Message over the size limit. */
    JSONRPC_VF_BUSY = -32007,          /* Too many clients; try later. */
    JSONRPC_VF_DENIED = -32008,        /* Peer not allowed. */
};

/* A short name for 'code' ("parse error", "not found", ...), or "error". */
const char *jsonrpc_error_name(int code);

/* Maps a negative errno from a command handler to an error code:
 * -EINVAL/-ERANGE -> INVALID_PARAMS, -ENOENT/-ENODEV -> VF_NOT_FOUND,
 * -EEXIST -> VF_EXISTS, -ENOTSUP/-EOPNOTSUPP/-ENOSYS -> VF_UNAVAILABLE,
 * -ENOSPC/-EMLINK/-E2BIG -> VF_LIMIT, -EIO -> VF_STORAGE, -EMSGSIZE ->
 * VF_TOO_LARGE, -EBUSY/-EAGAIN -> VF_BUSY, -EACCES/-EPERM -> VF_DENIED,
 * -ENOMEM/-EFAULT -> INTERNAL_ERROR, anything else -> VF_FAILED. */
int jsonrpc_error_code_from_errno(int neg_errno);

enum jsonrpc_msg_type {
    JSONRPC_REQUEST,
    JSONRPC_NOTIFY,
    JSONRPC_REPLY,
    JSONRPC_ERROR,
};

struct jsonrpc_msg {
    enum jsonrpc_msg_type type;
    char *method;          /* REQUEST, NOTIFY: owned. */
    json_t *params;        /* REQUEST, NOTIFY: array/object, or NULL when
                            * omitted.  One reference owned. */
    json_t *result;        /* REPLY: one reference owned. */
    int error_code;        /* ERROR. */
    char *error_message;   /* ERROR: owned, one line. */
    json_t *error_data;    /* ERROR: optional, one reference owned. */
    json_t *id;            /* REQUEST, REPLY, ERROR: string, number or
                            * JSON null; NULL for NOTIFY.  Owned. */
};

/* Constructors.  Each takes ownership of the references passed as json_t
 * ('params', 'result', 'data', and 'id' for requests) and copies the
 * strings.  'reply_id' is borrowed and copied (NULL means JSON null).
 * They cannot fail (allocation failure aborts, as on every control
 * path). */
struct jsonrpc_msg *jsonrpc_request_create(const char *method,
                                           json_t *params, json_t *id);
struct jsonrpc_msg *jsonrpc_notify_create(const char *method,
                                          json_t *params);
struct jsonrpc_msg *jsonrpc_reply_create(json_t *result,
                                         const json_t *reply_id);
struct jsonrpc_msg *jsonrpc_error_create(int code, const char *message,
                                         json_t *data,
                                         const json_t *reply_id);

/* Frees 'msg' and its contents.  NULL is a no-op. */
void jsonrpc_msg_destroy(struct jsonrpc_msg *msg);

/* Parses 'len' bytes of 'text' as one JSON text (any type; duplicate
 * members rejected; nesting limited by jansson to 2048 levels).  Returns
 * the value (caller owns the reference), or NULL with '*errp' set to a
 * one-line message ("line 1 column 5: ...", caller frees). */
json_t *jsonrpc_parse_json(const char *text, size_t len, char **errp);

/* Validates 'json' as one JSON-RPC 2.0 message (not a batch).  Returns 0
 * and '*msgp' (caller owns), or -EPROTO with '*msgp' NULL and, if
 * 'errorp' is nonnull, '*errorp' an INVALID_REQUEST error reply to send
 * (it carries the message's id when that id is itself valid, JSON null
 * otherwise; caller owns).  'json' is borrowed. */
int jsonrpc_msg_from_json(const json_t *json, struct jsonrpc_msg **msgp,
                          struct jsonrpc_msg **errorp);

/* jsonrpc_parse_json() then jsonrpc_msg_from_json(): returns 0 and
 * '*msgp', or -EPROTO with '*errorp' (if nonnull) a PARSE_ERROR or
 * INVALID_REQUEST reply to send.  A batch is refused here (INVALID_REQUEST);
 * servers that accept batches parse with jsonrpc_parse_json() first. */
int jsonrpc_msg_parse(const char *text, size_t len, struct jsonrpc_msg **msgp,
                      struct jsonrpc_msg **errorp);

/* Returns a new JSON value for 'msg' (caller owns the reference). */
json_t *jsonrpc_msg_to_json(const struct jsonrpc_msg *msg);

/* Serialises a JSON value in compact form, on one line with no trailing
 * newline.  Caller frees. */
char *jsonrpc_json_to_string(const json_t *json);

/* jsonrpc_msg_to_json() then jsonrpc_json_to_string(). */
char *jsonrpc_msg_to_string(const struct jsonrpc_msg *msg);

/* Streams: newline-delimited JSON over a connected stream socket.
 *
 * A stream owns its fd, which must be non-blocking.  Receiving buffers at
 * most 'max_msg_size' + 1 bytes of an incomplete line; sending buffers
 * without limit, so users that must bound output (servers) stop reading
 * requests while jsonrpc_stream_backlog() is above their threshold. */
struct jsonrpc_stream;

/* Creates a stream on 'fd' (taken over: closed by destroy).  A
 * 'max_msg_size' of 0 means JSONRPC_MAX_MSG_SIZE. */
struct jsonrpc_stream *jsonrpc_stream_create(int fd, size_t max_msg_size);

/* Closes the fd and frees 'stream'.  NULL is a no-op. */
void jsonrpc_stream_destroy(struct jsonrpc_stream *stream);

int jsonrpc_stream_fd(const struct jsonrpc_stream *stream);

/* Returns the next complete line, reading at most one chunk (64 KiB) from
 * the socket if none is buffered.  Returns:
 *   0          '*linep' points to the line (NUL-terminated, newline
 *              removed, '*lenp' bytes), valid until the next call;
 *   -EAGAIN    no complete line yet (partial input stays buffered);
 *   -EMSGSIZE  the line exceeds the size limit: the stream is done
 *              receiving (every later call returns -EMSGSIZE);
 *   -EPIPE     the peer closed its side and every line was returned (a
 *              final line without newline is returned as a line first);
 *   -errno     a read error (-ECONNRESET, ...).
 * Never blocks. */
int jsonrpc_stream_recv(struct jsonrpc_stream *stream, const char **linep,
                        size_t *lenp);

/* True if a line is already buffered, so jsonrpc_stream_recv() will
 * return it without reading the socket. */
bool jsonrpc_stream_has_line(const struct jsonrpc_stream *stream);

/* Bytes of an incomplete line buffered (0: at a message boundary). */
size_t jsonrpc_stream_partial(const struct jsonrpc_stream *stream);

/* Queues 'len' bytes of 'text' (one serialised message, no newline) plus a
 * newline, then tries to send.  Returns 0 (sent or queued) or -errno
 * (-EPIPE: the peer is gone; the stream is then unusable for sending). */
int jsonrpc_stream_send(struct jsonrpc_stream *stream, const char *text,
                        size_t len);

/* Serialises 'msg' and sends it (jsonrpc_stream_send()). */
int jsonrpc_stream_send_msg(struct jsonrpc_stream *stream,
                            const struct jsonrpc_msg *msg);

/* Sends what is queued, as far as the socket takes it.  Returns 0 or
 * -errno of a fatal send error.  Never blocks. */
int jsonrpc_stream_run(struct jsonrpc_stream *stream);

/* Bytes queued for sending. */
size_t jsonrpc_stream_backlog(const struct jsonrpc_stream *stream);

/* Registers the stream's fd: POLLIN if 'want_recv', POLLOUT if output is
 * queued. */
void jsonrpc_stream_wait(const struct jsonrpc_stream *stream,
                         struct vf_poll_loop *loop, bool want_recv);

#endif /* ctl/jsonrpc.h */
