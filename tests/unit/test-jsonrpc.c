/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of ctl/jsonrpc: message validation (every malformed class),
 * serialisation round trips, error codes, and newline-delimited streams
 * over socketpairs (partial lines, CRLF, blank lines, size limit, EOF,
 * backpressure). */
#include "harness.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl/jsonrpc.h"
#include "util/buf.h"

/* Parses 'text' expecting failure with 'code'; returns the error's id as
 * text ("null", "7", "\"x\""), caller frees. */
static char *
parse_fails(const char *text, size_t len, int code)
{
    struct jsonrpc_msg *msg = (void *) 1, *err = NULL;
    int rc = jsonrpc_msg_parse(text, len, &msg, &err);
    if (rc != -EPROTO || msg || !err) {
        fprintf(stderr, "  input accepted: %.*s\n", (int) len, text);
        jsonrpc_msg_destroy(msg);
        jsonrpc_msg_destroy(err);
        return NULL;
    }
    if (err->type != JSONRPC_ERROR || err->error_code != code
        || !err->error_message || strchr(err->error_message, '\n')) {
        fprintf(stderr, "  wrong error %d '%s' for: %.*s\n", err->error_code,
                err->error_message, (int) len, text);
        jsonrpc_msg_destroy(err);
        return NULL;
    }
    char *id = jsonrpc_json_to_string(err->id);
    jsonrpc_msg_destroy(err);
    return id;
}

#define CHECK_FAILS(TEXT, CODE, ID)                                        \
    do {                                                                   \
        char *id__ = parse_fails(TEXT, strlen(TEXT), CODE);                \
        CHECK(id__ != NULL);                                               \
        bool same__ = !strcmp(id__, ID);                                   \
        if (!same__) {                                                     \
            fprintf(stderr, "  id %s, expected %s\n", id__, ID);           \
        }                                                                  \
        free(id__);                                                        \
        CHECK(same__);                                                     \
    } while (0)

static struct jsonrpc_msg *
parse_ok(const char *text)
{
    struct jsonrpc_msg *msg = NULL, *err = NULL;
    int rc = jsonrpc_msg_parse(text, strlen(text), &msg, &err);
    if (rc) {
        fprintf(stderr, "  rejected (%s): %s\n",
                err ? err->error_message : "?", text);
        jsonrpc_msg_destroy(err);
        return NULL;
    }
    return msg;
}

static void
test_valid_messages(void)
{
    struct jsonrpc_msg *m = parse_ok(
        "{\"jsonrpc\":\"2.0\",\"method\":\"bridge/add\","
        "\"params\":[\"br0\"],\"id\":1}");
    CHECK(m && m->type == JSONRPC_REQUEST);
    CHECK_STR(m->method, "bridge/add");
    CHECK(json_is_array(m->params) && json_integer_value(m->id) == 1);
    jsonrpc_msg_destroy(m);

    m = parse_ok("{\"method\":\"x\",\"jsonrpc\":\"2.0\",\"params\":{}}");
    CHECK(m && m->type == JSONRPC_NOTIFY && !m->id);
    jsonrpc_msg_destroy(m);

    m = parse_ok("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"id\":null}");
    CHECK(m && m->type == JSONRPC_REQUEST && json_is_null(m->id)
          && !m->params);
    jsonrpc_msg_destroy(m);

    m = parse_ok("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"id\":\"abc\"}");
    CHECK(m && json_is_string(m->id));
    jsonrpc_msg_destroy(m);

    m = parse_ok("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"id\":1.5}");
    CHECK(m && json_is_real(m->id));
    jsonrpc_msg_destroy(m);

    m = parse_ok("{\"jsonrpc\":\"2.0\",\"result\":null,\"id\":3}");
    CHECK(m && m->type == JSONRPC_REPLY && json_is_null(m->result));
    jsonrpc_msg_destroy(m);

    m = parse_ok("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32001,"
                 "\"message\":\"no\\nbridge\",\"data\":[1]},\"id\":null}");
    CHECK(m && m->type == JSONRPC_ERROR && m->error_code == -32001);
    CHECK_STR(m->error_message, "no bridge");   /* One line. */
    CHECK(json_is_array(m->error_data));
    jsonrpc_msg_destroy(m);

    /* Surrounding whitespace is fine. */
    m = parse_ok("  {\"jsonrpc\":\"2.0\",\"method\":\"x\"}\t\r");
    CHECK(m != NULL);
    jsonrpc_msg_destroy(m);
}

static void
test_not_json(void)
{
    static const char *const inputs[] = {
        "", "   ", "{", "}", "[", "nul", "{\"a\":}", "{\"a\" 1}", "{} x",
        "{}{}", "{'a':1}", "{\"a\":01}", "{\"a\":1,}", "[1,]",
        "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}", "\"unterminated",
        "{\"a\":99999999999999999999999999}", "{\"a\":1e99999}",
        "{\"jsonrpc\":\"2.0\",\"jsonrpc\":\"2.0\",\"method\":\"x\"}",
        "{\"a\":NaN}", "{\"a\":Infinity}", "/* c */ {}",
    };
    for (size_t i = 0; i < VF_ARRAY_SIZE(inputs); i++) {
        CHECK_FAILS(inputs[i], JSONRPC_PARSE_ERROR, "null");
    }
    /* Invalid UTF-8, raw control characters, NULs. */
    CHECK_FAILS("{\"a\":\"\xff\"}", JSONRPC_PARSE_ERROR, "null");
    CHECK_FAILS("{\"a\":\"\xc3\"}", JSONRPC_PARSE_ERROR, "null");
    CHECK_FAILS("{\"a\":\"x\ty\"}", JSONRPC_PARSE_ERROR, "null");
    CHECK_FAILS("{\"a\":\"\\u0000\"}", JSONRPC_PARSE_ERROR, "null");
    char *nul = parse_fails("{\"a\":1}\0", 8, JSONRPC_PARSE_ERROR);
    CHECK(nul && !strcmp(nul, "null"));
    free(nul);

    /* Deep nesting is refused, not a stack overflow. */
    struct vf_buf b = VF_BUF_INITIALIZER;
    for (int i = 0; i < 100000; i++) {
        vf_buf_putc(&b, '[');
    }
    char *id = parse_fails(b.data, b.len, JSONRPC_PARSE_ERROR);
    CHECK(id != NULL);
    free(id);
    vf_buf_uninit(&b);
}

static void
test_invalid_requests(void)
{
    const int E = JSONRPC_INVALID_REQUEST;
    /* Not an object. */
    CHECK_FAILS("1", E, "null");
    CHECK_FAILS("\"x\"", E, "null");
    CHECK_FAILS("null", E, "null");
    CHECK_FAILS("true", E, "null");
    CHECK_FAILS("[]", E, "null");
    CHECK_FAILS("[{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"id\":1}]", E,
                "null");
    CHECK_FAILS("{}", E, "null");
    /* "jsonrpc". */
    CHECK_FAILS("{\"method\":\"x\",\"id\":1}", E, "1");
    CHECK_FAILS("{\"jsonrpc\":\"1.0\",\"method\":\"x\",\"id\":1}", E, "1");
    CHECK_FAILS("{\"jsonrpc\":2.0,\"method\":\"x\",\"id\":1}", E, "1");
    CHECK_FAILS("{\"jsonrpc\":\"2.00\",\"method\":\"x\",\"id\":1}", E, "1");
    CHECK_FAILS("{\"jsonrpc\":null,\"method\":\"x\",\"id\":\"q\"}", E,
                "\"q\"");
    /* "method". */
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"method\":1,\"id\":2}", E, "2");
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"method\":null,\"id\":2}", E, "2");
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"method\":[\"x\"],\"id\":2}", E, "2");
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"method\":\"\",\"id\":2}", E, "2");
    char long_method[300];
    snprintf(long_method, sizeof long_method,
             "{\"jsonrpc\":\"2.0\",\"method\":\"%0129d\",\"id\":2}", 0);
    CHECK_FAILS(long_method, E, "2");
    /* "params". */
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":\"a\","
                "\"id\":3}", E, "3");
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":1,"
                "\"id\":3}", E, "3");
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":null,"
                "\"id\":3}", E, "3");
    /* "id": bad ids are never echoed. */
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"id\":{}}", E,
                "null");
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"id\":[1]}", E,
                "null");
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"id\":true}", E,
                "null");
    /* Extra members. */
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"id\":4,"
                "\"extra\":1}", E, "4");
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"result\":1,"
                "\"id\":4}", E, "4");
}

static void
test_invalid_responses(void)
{
    const int E = JSONRPC_INVALID_REQUEST;
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"result\":1}", E, "null");
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":{}}", E, "null");
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"result\":1,\"error\":{\"code\":1,"
                "\"message\":\"m\"},\"id\":5}", E, "5");
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"error\":\"bad\",\"id\":5}", E, "5");
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"error\":{\"message\":\"m\"},"
                "\"id\":5}", E, "5");
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1.5,"
                "\"message\":\"m\"},\"id\":5}", E, "5");
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":9999999999,"
                "\"message\":\"m\"},\"id\":5}", E, "5");
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1},\"id\":5}", E,
                "5");
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":2},"
                "\"id\":5}", E, "5");
    CHECK_FAILS("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":"
                "\"m\",\"x\":0},\"id\":5}", E, "5");
}

static void
test_round_trip(void)
{
    json_t *nine = json_integer(9);
    struct jsonrpc_msg *msgs[] = {
        jsonrpc_request_create("port/add",
                               json_pack("[s, s, {s:s, s:i}]", "br0", "p1",
                                         "type", "tap", "vlan", 10),
                               json_string("id-1")),
        jsonrpc_notify_create("time/warp", json_pack("[s]", "1000")),
        jsonrpc_reply_create(json_pack("{s:s}", "text", "a\nb\"c"),
                             nine),
        jsonrpc_error_create(JSONRPC_VF_NOT_FOUND, "line1\nline2\r",
                             json_pack("{s:i}", "x", 1), NULL),
    };
    json_decref(nine);          /* jsonrpc_reply_create() copied it. */
    for (size_t i = 0; i < VF_ARRAY_SIZE(msgs); i++) {
        char *text = jsonrpc_msg_to_string(msgs[i]);
        CHECK(!strchr(text, '\n'));
        struct jsonrpc_msg *back = parse_ok(text);
        CHECK(back && back->type == msgs[i]->type);
        char *again = jsonrpc_msg_to_string(back);
        CHECK_STR(again, text);
        free(again);
        free(text);
        jsonrpc_msg_destroy(back);
    }
    CHECK_STR(msgs[3]->error_message, "line1 line2 ");

    /* Messages quoting client bytes stay valid UTF-8 (the parser's own
     * messages quote the offending input). */
    struct jsonrpc_msg *e = jsonrpc_error_create(
        JSONRPC_PARSE_ERROR, "bad \xff\xc3x \xe2\x82\xac \xed\xa0\x80 "
        "\xc0\xaf \xf4\x90\x80\x80 ok", NULL, NULL);
    CHECK_STR(e->error_message, "bad ??x \xe2\x82\xac ??? ?? ???? ok");
    char *text = jsonrpc_msg_to_string(e);
    struct jsonrpc_msg *back = parse_ok(text);
    CHECK(back && !strcmp(back->error_message, e->error_message));
    free(text);
    jsonrpc_msg_destroy(back);
    jsonrpc_msg_destroy(e);
    for (size_t i = 0; i < VF_ARRAY_SIZE(msgs); i++) {
        jsonrpc_msg_destroy(msgs[i]);
    }
    jsonrpc_msg_destroy(NULL);
}

static void
test_error_codes(void)
{
    CHECK_EQ_I(jsonrpc_error_code_from_errno(-EINVAL),
               JSONRPC_INVALID_PARAMS);
    CHECK_EQ_I(jsonrpc_error_code_from_errno(-ENOENT), JSONRPC_VF_NOT_FOUND);
    CHECK_EQ_I(jsonrpc_error_code_from_errno(-EEXIST), JSONRPC_VF_EXISTS);
    CHECK_EQ_I(jsonrpc_error_code_from_errno(-ENOTSUP),
               JSONRPC_VF_UNAVAILABLE);
    CHECK_EQ_I(jsonrpc_error_code_from_errno(-ENOSPC), JSONRPC_VF_LIMIT);
    CHECK_EQ_I(jsonrpc_error_code_from_errno(-EIO), JSONRPC_VF_STORAGE);
    CHECK_EQ_I(jsonrpc_error_code_from_errno(-EPERM), JSONRPC_VF_DENIED);
    CHECK_EQ_I(jsonrpc_error_code_from_errno(-ENOMEM),
               JSONRPC_INTERNAL_ERROR);
    CHECK_EQ_I(jsonrpc_error_code_from_errno(-ETIMEDOUT), JSONRPC_VF_FAILED);
    CHECK_STR(jsonrpc_error_name(JSONRPC_PARSE_ERROR), "parse error");
    CHECK_STR(jsonrpc_error_name(JSONRPC_VF_STORAGE), "storage error");
    CHECK_STR(jsonrpc_error_name(12345), "error");
}

/* Streams. */

static void
make_pair(int fds[2])
{
    CHECK(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds));
}

static void
put(int fd, const char *s)
{
    CHECK_EQ_I(write(fd, s, strlen(s)), (ssize_t) strlen(s));
}

static int
recv_line(struct jsonrpc_stream *s, char *out, size_t size)
{
    const char *line;
    size_t len;
    int rc = jsonrpc_stream_recv(s, &line, &len);
    if (!rc) {
        snprintf(out, size, "%.*s", (int) len, line);
    }
    return rc;
}

static void
test_stream_lines(void)
{
    int fds[2];
    char line[256];
    make_pair(fds);
    struct jsonrpc_stream *s = jsonrpc_stream_create(fds[0], 0);
    CHECK_EQ_I(recv_line(s, line, sizeof line), -EAGAIN);

    put(fds[1], "{\"a\":1}\n\n  \r\n{\"b\":");
    CHECK(jsonrpc_stream_has_line(s) == false);  /* Nothing read yet. */
    CHECK_EQ_I(recv_line(s, line, sizeof line), 0);
    CHECK_STR(line, "{\"a\":1}");
    CHECK(jsonrpc_stream_has_line(s));           /* The blank lines. */
    CHECK_EQ_I(recv_line(s, line, sizeof line), -EAGAIN);
    CHECK_EQ_I(jsonrpc_stream_partial(s), 5);
    put(fds[1], "2}\r\n{\"c\":3}");
    CHECK_EQ_I(recv_line(s, line, sizeof line), 0);
    CHECK_STR(line, "{\"b\":2}");                /* CR removed. */
    CHECK_EQ_I(recv_line(s, line, sizeof line), -EAGAIN);

    /* A final line without newline is delivered at EOF, then -EPIPE. */
    close(fds[1]);
    CHECK_EQ_I(recv_line(s, line, sizeof line), 0);
    CHECK_STR(line, "{\"c\":3}");
    CHECK_EQ_I(recv_line(s, line, sizeof line), -EPIPE);
    CHECK_EQ_I(recv_line(s, line, sizeof line), -EPIPE);
    jsonrpc_stream_destroy(s);
}

static void
test_stream_byte_at_a_time(void)
{
    int fds[2];
    char line[64];
    make_pair(fds);
    struct jsonrpc_stream *s = jsonrpc_stream_create(fds[0], 0);
    const char *msg = "{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n";
    for (const char *p = msg; *p; p++) {
        CHECK_EQ_I(write(fds[1], p, 1), 1);
        int rc = recv_line(s, line, sizeof line);
        CHECK_EQ_I(rc, p[1] ? -EAGAIN : 0);
    }
    CHECK_STR(line, "{\"jsonrpc\":\"2.0\",\"method\":\"x\"}");
    close(fds[1]);
    jsonrpc_stream_destroy(s);
}

static void
test_stream_size_limit(void)
{
    int fds[2];
    char line[64];

    /* Exactly the limit passes. */
    make_pair(fds);
    struct jsonrpc_stream *s = jsonrpc_stream_create(fds[0], 16);
    put(fds[1], "0123456789abcdef\n0123456789abcdefX\nok\n");
    CHECK_EQ_I(recv_line(s, line, sizeof line), 0);
    CHECK_STR(line, "0123456789abcdef");
    /* One more byte fails, and the stream stays failed. */
    CHECK_EQ_I(recv_line(s, line, sizeof line), -EMSGSIZE);
    CHECK_EQ_I(recv_line(s, line, sizeof line), -EMSGSIZE);
    CHECK(jsonrpc_stream_has_line(s));
    jsonrpc_stream_destroy(s);
    close(fds[1]);

    /* A long line without newline is refused before it is complete, and
     * the buffer never grows past the limit. */
    make_pair(fds);
    s = jsonrpc_stream_create(fds[0], 1000);
    char big[4096];
    memset(big, 'x', sizeof big);
    CHECK_EQ_I(write(fds[1], big, sizeof big), (ssize_t) sizeof big);
    CHECK_EQ_I(recv_line(s, line, sizeof line), -EMSGSIZE);
    CHECK(jsonrpc_stream_partial(s) <= 1001);
    CHECK_EQ_I(recv_line(s, line, sizeof line), -EMSGSIZE);
    jsonrpc_stream_destroy(s);
    close(fds[1]);
}

static void
test_stream_send_backlog(void)
{
    int fds[2];
    make_pair(fds);
    int small = 4096;
    setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    struct jsonrpc_stream *s = jsonrpc_stream_create(fds[0], 0);

    /* 1 MiB of replies to a peer that does not read: queued, not lost. */
    char *text = vf_xmalloc(1024);
    memset(text, 'a', 1023);
    text[1023] = '\0';
    for (int i = 0; i < 1024; i++) {
        CHECK_EQ_I(jsonrpc_stream_send(s, text, 1023), 0);
    }
    CHECK(jsonrpc_stream_backlog(s) > 0);

    /* Drain the peer; everything arrives in order. */
    size_t total = 0;
    char buf[65536];
    while (jsonrpc_stream_backlog(s) || total < 1024 * 1024) {
        CHECK_EQ_I(jsonrpc_stream_run(s), 0);
        ssize_t n = read(fds[1], buf, sizeof buf);
        if (n > 0) {
            for (ssize_t i = 0; i < n; i++) {
                char want = (total + (size_t) i) % 1024 == 1023 ? '\n' : 'a';
                CHECK(buf[i] == want);
            }
            total += (size_t) n;
        }
    }
    CHECK_EQ_U(total, 1024 * 1024);
    free(text);

    /* A peer that went away: -EPIPE, no SIGPIPE. */
    close(fds[1]);
    int rc = jsonrpc_stream_send(s, "{}", 2);
    CHECK(rc == -EPIPE || rc == -ECONNRESET);
    jsonrpc_stream_destroy(s);
}

static const struct test_case cases[] = {
    TEST(test_valid_messages),
    TEST(test_not_json),
    TEST(test_invalid_requests),
    TEST(test_invalid_responses),
    TEST(test_round_trip),
    TEST(test_error_codes),
    TEST(test_stream_lines),
    TEST(test_stream_byte_at_a_time),
    TEST(test_stream_size_limit),
    TEST(test_stream_send_backlog),
};

TEST_MAIN(cases)
