/* SPDX-License-Identifier: Apache-2.0 */
/* JSON-RPC 2.0 messages and newline-delimited streams.
 *
 * Place in the system: the wire layer of the control socket.  ctl-server
 * reads lines from clients with jsonrpc_stream_recv(), ctl-command turns
 * each line into a reply, ctl-server queues the reply with
 * jsonrpc_stream_send(); ctl-client (vfabctl) does the mirror image.
 * Nothing here knows about commands.
 *
 * Validation (jsonrpc_msg_from_json()) decides the message type from the
 * members present, then checks every member, so that any object that is
 * not exactly one of the four shapes in jsonrpc.h is refused with a
 * message saying which member is wrong.  An error reply to an invalid
 * request carries the request's id only when the id itself is valid
 * (JSON-RPC 2.0 section 5: "If there was an error in detecting the id ...
 * it MUST be Null").
 *
 * Receive buffer of a stream:
 *
 *     rx: [ consumed | line\n line\n partial.... | free ]
 *         0      rx_start                   rx_end     rx_cap
 *                               rx_scan ^ (no '\n' before it, after
 *                                          the last returned line)
 *
 * rx_scan makes a slow peer that sends one byte at a time cost O(n) in
 * total, not O(n^2).  The buffer never holds more than max_msg_size + 1
 * bytes of one incomplete line: a read is sized so that it cannot, and a
 * partial line that reaches max_msg_size + 1 bytes without a newline
 * turns the stream into the "overflow" state, which it never leaves (the
 * rest of that line cannot be told apart from the next message).
 *
 * Send buffer: a struct vf_buf plus the offset of the first unsent byte;
 * emptied (and shrunk when over 1 MiB) when everything is sent. */
#include "ctl/jsonrpc.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/compiler.h"
#include "util/poll-loop.h"

/* Bytes read from the socket per jsonrpc_stream_recv() call: bounds the
 * work one client can cause per loop iteration. */
#define JSONRPC_READ_CHUNK (64 * 1024)

const char *
jsonrpc_error_name(int code)
{
    switch (code) {
    case JSONRPC_PARSE_ERROR:
        return "parse error";
    case JSONRPC_INVALID_REQUEST:
        return "invalid request";
    case JSONRPC_METHOD_NOT_FOUND:
        return "method not found";
    case JSONRPC_INVALID_PARAMS:
        return "invalid params";
    case JSONRPC_INTERNAL_ERROR:
        return "internal error";
    case JSONRPC_VF_FAILED:
        return "failed";
    case JSONRPC_VF_NOT_FOUND:
        return "not found";
    case JSONRPC_VF_EXISTS:
        return "already exists";
    case JSONRPC_VF_UNAVAILABLE:
        return "not available";
    case JSONRPC_VF_LIMIT:
        return "limit reached";
    case JSONRPC_VF_STORAGE:
        return "storage error";
    case JSONRPC_VF_TOO_LARGE:
        return "message too large";
    case JSONRPC_VF_BUSY:
        return "busy";
    case JSONRPC_VF_DENIED:
        return "denied";
    default:
        return "error";
    }
}

int
jsonrpc_error_code_from_errno(int neg_errno)
{
    switch (-neg_errno) {
    case EINVAL:
    case ERANGE:
        return JSONRPC_INVALID_PARAMS;
    case ENOENT:
    case ENODEV:
        return JSONRPC_VF_NOT_FOUND;
    case EEXIST:
        return JSONRPC_VF_EXISTS;
    case ENOTSUP:
#if EOPNOTSUPP != ENOTSUP
    case EOPNOTSUPP:
#endif
    case ENOSYS:
        return JSONRPC_VF_UNAVAILABLE;
    case ENOSPC:
    case EMLINK:
    case E2BIG:
        return JSONRPC_VF_LIMIT;
    case EIO:
        return JSONRPC_VF_STORAGE;
    case EMSGSIZE:
        return JSONRPC_VF_TOO_LARGE;
    case EBUSY:
    case EAGAIN:
        return JSONRPC_VF_BUSY;
    case EACCES:
    case EPERM:
        return JSONRPC_VF_DENIED;
    case ENOMEM:
    case EFAULT:
        return JSONRPC_INTERNAL_ERROR;
    default:
        return JSONRPC_VF_FAILED;
    }
}

static void
check_alloc(const void *p)
{
    if (!p) {
        /* jansson allocation failure: same policy as vf_xmalloc(). */
        vf_abort_msg(__FILE__, __LINE__, "out of memory (jansson)");
    }
}

static struct jsonrpc_msg *
msg_alloc(enum jsonrpc_msg_type type)
{
    struct jsonrpc_msg *msg = vf_xcalloc(1, sizeof *msg);
    msg->type = type;
    return msg;
}

static json_t *
id_copy(const json_t *id)
{
    json_t *copy = id ? json_deep_copy(id) : json_null();
    check_alloc(copy);
    return copy;
}

struct jsonrpc_msg *
jsonrpc_request_create(const char *method, json_t *params, json_t *id)
{
    struct jsonrpc_msg *msg = msg_alloc(JSONRPC_REQUEST);
    msg->method = vf_xstrdup(method);
    msg->params = params;
    msg->id = id ? id : json_null();
    return msg;
}

struct jsonrpc_msg *
jsonrpc_notify_create(const char *method, json_t *params)
{
    struct jsonrpc_msg *msg = msg_alloc(JSONRPC_NOTIFY);
    msg->method = vf_xstrdup(method);
    msg->params = params;
    return msg;
}

struct jsonrpc_msg *
jsonrpc_reply_create(json_t *result, const json_t *reply_id)
{
    struct jsonrpc_msg *msg = msg_alloc(JSONRPC_REPLY);
    msg->result = result ? result : json_null();
    msg->id = id_copy(reply_id);
    return msg;
}

/* Length of the valid UTF-8 sequence at 'p' (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t
utf8_seq_len(const unsigned char *p)
{
    if (p[0] < 0x80) {
        return 1;
    }
    size_t n;
    uint32_t min, cp;
    if ((p[0] & 0xe0) == 0xc0) {
        n = 2, min = 0x80, cp = p[0] & 0x1f;
    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3, min = 0x800, cp = p[0] & 0x0f;
    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4, min = 0x10000, cp = p[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {    /* Also stops at the NUL. */
            return 0;
        }
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

/* Copies 'message' with every control character turned into a space and
 * every byte that is not part of valid UTF-8 into '?', so an error
 * message is always one line of valid JSON text (messages may quote
 * whatever a client sent). */
static char *
one_line(const char *message)
{
    char *s = vf_xstrdup(message ? message : "");
    unsigned char *p = (unsigned char *) s;
    while (*p) {
        size_t n = utf8_seq_len(p);
        if (!n) {
            *p++ = '?';
        } else if (n == 1 && (*p < 0x20 || *p == 0x7f)) {
            *p++ = ' ';
        } else {
            p += n;
        }
    }
    return s;
}

struct jsonrpc_msg *
jsonrpc_error_create(int code, const char *message, json_t *data,
                     const json_t *reply_id)
{
    struct jsonrpc_msg *msg = msg_alloc(JSONRPC_ERROR);
    msg->error_code = code;
    msg->error_message = one_line(message);
    msg->error_data = data;
    msg->id = id_copy(reply_id);
    return msg;
}

void
jsonrpc_msg_destroy(struct jsonrpc_msg *msg)
{
    if (!msg) {
        return;
    }
    free(msg->method);
    json_decref(msg->params);
    json_decref(msg->result);
    free(msg->error_message);
    json_decref(msg->error_data);
    json_decref(msg->id);
    free(msg);
}

json_t *
jsonrpc_parse_json(const char *text, size_t len, char **errp)
{
    json_error_t error;
    json_t *json = json_loadb(text, len,
                              JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
                              &error);
    if (!json) {
        *errp = vf_xasprintf("line %d column %d: %s", error.line,
                             error.column, error.text);
    }
    return json;
}

static bool
id_is_valid(const json_t *id)
{
    return json_is_string(id) || json_is_number(id) || json_is_null(id);
}

static const char *
json_type_name(const json_t *json)
{
    switch (json_typeof(json)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
    default:
        return "null";
    }
}

/* Checks that 'json' has only members named in 'allowed' (NULL
 * terminated).  Returns NULL or a message (caller frees). */
static char *
check_members(const json_t *json, const char *const *allowed)
{
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) json, key, value) {
        const char *const *a;
        for (a = allowed; *a; a++) {
            if (!strcmp(key, *a)) {
                break;
            }
        }
        if (!*a) {
            return vf_xasprintf("unexpected member \"%s\"", key);
        }
    }
    return NULL;
}

static char *
validate_request(const json_t *json, enum jsonrpc_msg_type *type)
{
    static const char *const members[] = {"jsonrpc", "method", "params",
                                          "id", NULL};
    json_t *method = json_object_get(json, "method");
    json_t *params = json_object_get(json, "params");
    json_t *id = json_object_get(json, "id");

    *type = id ? JSONRPC_REQUEST : JSONRPC_NOTIFY;
    if (!json_is_string(method)) {
        return vf_xasprintf("\"method\" must be a string, not %s",
                            json_type_name(method));
    }
    size_t len = json_string_length(method);
    if (len == 0 || len > JSONRPC_MAX_METHOD_LEN) {
        return vf_xasprintf("\"method\" must be 1 to %d bytes long",
                            JSONRPC_MAX_METHOD_LEN);
    }
    if (params && !json_is_array(params) && !json_is_object(params)) {
        return vf_xasprintf("\"params\" must be an array or an object, "
                            "not %s", json_type_name(params));
    }
    if (id && !id_is_valid(id)) {
        return vf_xasprintf("\"id\" must be a string, a number or null, "
                            "not %s", json_type_name(id));
    }
    return check_members(json, members);
}

static char *
validate_response(const json_t *json, enum jsonrpc_msg_type *type)
{
    static const char *const members[] = {"jsonrpc", "result", "error",
                                          "id", NULL};
    static const char *const error_members[] = {"code", "message", "data",
                                                NULL};
    json_t *result = json_object_get(json, "result");
    json_t *error = json_object_get(json, "error");
    json_t *id = json_object_get(json, "id");

    if (result && error) {
        return vf_xstrdup("a response has \"result\" or \"error\", "
                          "not both");
    }
    if (!id || !id_is_valid(id)) {
        return vf_xstrdup("a response needs an \"id\" that is a string, "
                          "a number or null");
    }
    *type = result ? JSONRPC_REPLY : JSONRPC_ERROR;
    if (error) {
        if (!json_is_object(error)) {
            return vf_xasprintf("\"error\" must be an object, not %s",
                                json_type_name(error));
        }
        if (!json_is_integer(json_object_get(error, "code"))) {
            return vf_xstrdup("\"error\" needs an integer \"code\"");
        }
        json_int_t code = json_integer_value(json_object_get(error, "code"));
        if (code < -2147483647 - 1 || code > 2147483647) {
            return vf_xstrdup("\"error\" \"code\" is out of range");
        }
        if (!json_is_string(json_object_get(error, "message"))) {
            return vf_xstrdup("\"error\" needs a string \"message\"");
        }
        char *msg = check_members(error, error_members);
        if (msg) {
            char *full = vf_xasprintf("\"error\": %s", msg);
            free(msg);
            return full;
        }
    }
    return check_members(json, members);
}

int
jsonrpc_msg_from_json(const json_t *json, struct jsonrpc_msg **msgp,
                      struct jsonrpc_msg **errorp)
{
    *msgp = NULL;
    if (errorp) {
        *errorp = NULL;
    }

    char *problem = NULL;
    const json_t *id = NULL;
    enum jsonrpc_msg_type type = JSONRPC_REQUEST;
    if (!json_is_object(json)) {
        problem = vf_xasprintf("a message must be an object, not %s",
                               json_type_name(json));
        goto err;
    }
    id = json_object_get(json, "id");
    json_t *version = json_object_get(json, "jsonrpc");
    if (!json_is_string(version) || strcmp(json_string_value(version), "2.0")
        || json_string_length(version) != 3) {
        problem = vf_xstrdup("\"jsonrpc\" must be the string \"2.0\"");
        goto err;
    }
    if (json_object_get(json, "method")) {
        problem = validate_request(json, &type);
    } else if (json_object_get(json, "result")
               || json_object_get(json, "error")) {
        problem = validate_response(json, &type);
    } else {
        problem = vf_xstrdup("a message needs \"method\", \"result\" or "
                             "\"error\"");
    }
    if (problem) {
        goto err;
    }

    struct jsonrpc_msg *msg = msg_alloc(type);
    if (type == JSONRPC_REQUEST || type == JSONRPC_NOTIFY) {
        msg->method = vf_xstrdup(
            json_string_value(json_object_get(json, "method")));
        msg->params = json_incref(json_object_get(json, "params"));
    } else if (type == JSONRPC_REPLY) {
        msg->result = json_incref(json_object_get(json, "result"));
    } else {
        json_t *error = json_object_get(json, "error");
        msg->error_code = (int) json_integer_value(
            json_object_get(error, "code"));
        msg->error_message = one_line(
            json_string_value(json_object_get(error, "message")));
        msg->error_data = json_incref(json_object_get(error, "data"));
    }
    if (type != JSONRPC_NOTIFY) {
        msg->id = id_copy(id);
    }
    *msgp = msg;
    return 0;

err:
    if (errorp) {
        char *text = vf_xasprintf("invalid request: %s", problem);
        *errorp = jsonrpc_error_create(JSONRPC_INVALID_REQUEST, text, NULL,
                                       id && id_is_valid(id) ? id : NULL);
        free(text);
    }
    free(problem);
    return -EPROTO;
}

int
jsonrpc_msg_parse(const char *text, size_t len, struct jsonrpc_msg **msgp,
                  struct jsonrpc_msg **errorp)
{
    char *err = NULL;
    json_t *json = jsonrpc_parse_json(text, len, &err);

    *msgp = NULL;
    if (errorp) {
        *errorp = NULL;
    }
    if (!json) {
        if (errorp) {
            char *msg = vf_xasprintf("parse error: %s", err);
            *errorp = jsonrpc_error_create(JSONRPC_PARSE_ERROR, msg, NULL,
                                           NULL);
            free(msg);
        }
        free(err);
        return -EPROTO;
    }
    if (json_is_array(json)) {
        if (errorp) {
            *errorp = jsonrpc_error_create(
                JSONRPC_INVALID_REQUEST,
                "invalid request: batches are not accepted here", NULL,
                NULL);
        }
        json_decref(json);
        return -EPROTO;
    }
    int rc = jsonrpc_msg_from_json(json, msgp, errorp);
    json_decref(json);
    return rc;
}

json_t *
jsonrpc_msg_to_json(const struct jsonrpc_msg *msg)
{
    json_t *json = json_object();
    check_alloc(json);
    json_object_set_new(json, "jsonrpc", json_string("2.0"));
    switch (msg->type) {
    case JSONRPC_REQUEST:
    case JSONRPC_NOTIFY:
        json_object_set_new(json, "method", json_string(msg->method));
        if (msg->params) {
            json_object_set(json, "params", msg->params);
        }
        break;
    case JSONRPC_REPLY:
        json_object_set(json, "result", msg->result);
        break;
    case JSONRPC_ERROR: {
        json_t *error = json_object();
        check_alloc(error);
        json_object_set_new(error, "code", json_integer(msg->error_code));
        json_object_set_new(error, "message",
                            json_string(msg->error_message));
        if (msg->error_data) {
            json_object_set(error, "data", msg->error_data);
        }
        json_object_set_new(json, "error", error);
        break;
    }
    }
    if (msg->type != JSONRPC_NOTIFY) {
        json_object_set(json, "id", msg->id);
    }
    return json;
}

char *
jsonrpc_json_to_string(const json_t *json)
{
    /* JSON_COMPACT never writes a newline and jansson escapes control
     * characters in strings, so the text is one line. */
    char *s = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY
                                   | JSON_PRESERVE_ORDER);
    check_alloc(s);
    return s;
}

char *
jsonrpc_msg_to_string(const struct jsonrpc_msg *msg)
{
    json_t *json = jsonrpc_msg_to_json(msg);
    char *s = jsonrpc_json_to_string(json);
    json_decref(json);
    return s;
}

/* Streams. */

struct jsonrpc_stream {
    int fd;                      /* Non-blocking stream socket, owned. */
    size_t max_msg_size;         /* Longest line, bytes. */

    char *rx;                    /* See the diagram at the top. */
    size_t rx_start, rx_end, rx_scan, rx_cap;
    bool rx_eof;                 /* Peer shut down its sending side. */
    bool rx_overflow;            /* A line was too long: stop receiving. */

    struct vf_buf tx;            /* Queued output... */
    size_t tx_ofs;               /* ...of which this much is sent. */
    int tx_error;                /* Sticky -errno of a fatal send. */
};

struct jsonrpc_stream *
jsonrpc_stream_create(int fd, size_t max_msg_size)
{
    struct jsonrpc_stream *s = vf_xcalloc(1, sizeof *s);
    s->fd = fd;
    s->max_msg_size = max_msg_size ? max_msg_size : JSONRPC_MAX_MSG_SIZE;
    vf_buf_init(&s->tx);
    return s;
}

void
jsonrpc_stream_destroy(struct jsonrpc_stream *s)
{
    if (!s) {
        return;
    }
    if (s->fd >= 0) {
        close(s->fd);
    }
    free(s->rx);
    vf_buf_uninit(&s->tx);
    free(s);
}

int
jsonrpc_stream_fd(const struct jsonrpc_stream *s)
{
    return s->fd;
}

static bool
is_blank(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') {
            return false;
        }
    }
    return true;
}

/* Looks for a complete non-blank line in the buffer.  Returns 0 with the
 * line, -EAGAIN if there is none, -EMSGSIZE if the partial line is over
 * the limit. */
static int
rx_take_line(struct jsonrpc_stream *s, const char **linep, size_t *lenp)
{
    for (;;) {
        char *nl = memchr(s->rx + s->rx_scan, '\n', s->rx_end - s->rx_scan);
        if (!nl) {
            s->rx_scan = s->rx_end;
            if (s->rx_end - s->rx_start > s->max_msg_size) {
                s->rx_overflow = true;
                return -EMSGSIZE;
            }
            return -EAGAIN;
        }
        char *line = s->rx + s->rx_start;
        size_t len = (size_t) (nl - line);
        s->rx_start = s->rx_scan = (size_t) (nl - s->rx) + 1;
        if (len > s->max_msg_size) {
            s->rx_overflow = true;
            return -EMSGSIZE;
        }
        if (len && line[len - 1] == '\r') {
            len--;
        }
        if (is_blank(line, len)) {
            continue;
        }
        line[len] = '\0';
        *linep = line;
        *lenp = len;
        return 0;
    }
}

/* Reads one chunk, sized so that the partial line never exceeds
 * max_msg_size + 1 bytes.  Returns 0 (data or EOF recorded), -EAGAIN, or
 * -errno. */
static int
rx_read(struct jsonrpc_stream *s)
{
    size_t used = s->rx_end - s->rx_start;
    if (s->rx_start) {
        memmove(s->rx, s->rx + s->rx_start, used);
        s->rx_scan -= s->rx_start;
        s->rx_start = 0;
        s->rx_end = used;
    }
    size_t room = s->max_msg_size + 1 - used;   /* > 0: see rx_take_line. */
    size_t chunk = VF_MIN(room, (size_t) JSONRPC_READ_CHUNK);
    if (s->rx_cap < used + chunk + 1) {
        s->rx_cap = used + chunk + 1;
        s->rx = vf_xrealloc(s->rx, s->rx_cap);
    }
    for (;;) {
        ssize_t n = read(s->fd, s->rx + used, chunk);
        if (n > 0) {
            s->rx_end = used + (size_t) n;
            return 0;
        } else if (n == 0) {
            s->rx_eof = true;
            return 0;
        } else if (errno != EINTR) {
            return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        }
    }
}

int
jsonrpc_stream_recv(struct jsonrpc_stream *s, const char **linep,
                    size_t *lenp)
{
    if (s->rx_overflow) {
        return -EMSGSIZE;
    }
    if (s->rx_start == s->rx_end && s->rx_cap > 2 * JSONRPC_READ_CHUNK) {
        /* Idle after a big message: give the memory back. */
        free(s->rx);
        s->rx = NULL;
        s->rx_start = s->rx_end = s->rx_scan = s->rx_cap = 0;
    }
    for (int pass = 0;; pass++) {
        if (s->rx) {
            int rc = rx_take_line(s, linep, lenp);
            if (rc != -EAGAIN) {
                return rc;
            }
        }
        if (s->rx_eof) {
            size_t len = s->rx_end - s->rx_start;
            char *line = s->rx ? s->rx + s->rx_start : NULL;
            s->rx_start = s->rx_scan = s->rx_end;
            if (!len || is_blank(line, len)) {
                return -EPIPE;
            }
            line[len] = '\0';   /* rx_read() left room for it. */
            *linep = line;
            *lenp = len;
            return 0;
        }
        if (pass) {
            return -EAGAIN;
        }
        int rc = rx_read(s);
        if (rc) {
            return rc;
        }
    }
}

bool
jsonrpc_stream_has_line(const struct jsonrpc_stream *s)
{
    if (s->rx_overflow || !s->rx) {
        return s->rx_overflow;
    }
    if (s->rx_eof && s->rx_end > s->rx_start) {
        return true;
    }
    /* [rx_start, rx_scan) holds no newline (see the diagram). */
    return memchr(s->rx + s->rx_scan, '\n', s->rx_end - s->rx_scan) != NULL;
}

size_t
jsonrpc_stream_partial(const struct jsonrpc_stream *s)
{
    return s->rx_end - s->rx_start;
}

int
jsonrpc_stream_run(struct jsonrpc_stream *s)
{
    while (!s->tx_error && s->tx_ofs < s->tx.len) {
        ssize_t n = send(s->fd, s->tx.data + s->tx_ofs, s->tx.len - s->tx_ofs,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            s->tx_ofs += (size_t) n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            s->tx_error = n < 0 ? -errno : -EPIPE;
        }
    }
    if (s->tx_ofs == s->tx.len) {
        if (s->tx.cap > JSONRPC_MAX_MSG_SIZE) {
            vf_buf_uninit(&s->tx);
        } else {
            vf_buf_clear(&s->tx);
        }
        s->tx_ofs = 0;
    }
    return s->tx_error;
}

int
jsonrpc_stream_send(struct jsonrpc_stream *s, const char *text, size_t len)
{
    if (s->tx_error) {
        return s->tx_error;
    }
    VF_VERIFY(!memchr(text, '\n', len));
    vf_buf_put(&s->tx, text, len);
    vf_buf_putc(&s->tx, '\n');
    return jsonrpc_stream_run(s);
}

int
jsonrpc_stream_send_msg(struct jsonrpc_stream *s,
                        const struct jsonrpc_msg *msg)
{
    char *text = jsonrpc_msg_to_string(msg);
    int rc = jsonrpc_stream_send(s, text, strlen(text));
    free(text);
    return rc;
}

size_t
jsonrpc_stream_backlog(const struct jsonrpc_stream *s)
{
    return s->tx.len - s->tx_ofs;
}

void
jsonrpc_stream_wait(const struct jsonrpc_stream *s, struct vf_poll_loop *loop,
                    bool want_recv)
{
    short events = 0;
    if (want_recv && !s->rx_eof && !s->rx_overflow) {
        events |= POLLIN;
    }
    if (jsonrpc_stream_backlog(s) && !s->tx_error) {
        events |= POLLOUT;
    }
    if (events) {
        vf_poll_fd_wait(loop, s->fd, events);
    }
}
