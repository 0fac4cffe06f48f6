/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of ctl/ctl-command: registration rules, argument and option
 * checks (every refusal names the culprit and never reaches the
 * handler), handler results and errno mapping, notifications, batches and
 * the built-in list-commands. */
#include "harness.h"

#include "ctl/ctl-command.h"
#include "ctl/jsonrpc.h"
#include "util/buf.h"

static int n_calls;

/* Echoes its arguments and options. */
static int
echo_cmd(const struct ctl_request *req, void *aux, json_t **resultp,
         char **errp)
{
    (void) errp;
    n_calls++;
    json_t *args = json_array();
    for (size_t i = 0; i < req->n_args; i++) {
        json_array_append_new(args, json_string(req->args[i]));
    }
    *resultp = json_pack("{s:s, s:o, s:O, s:s}", "method", req->method,
                         "args", args, "options",
                         req->options ? (json_t *) req->options : json_null(),
                         "aux", (const char *) aux);
    return 0;
}

/* Fails with the errno given as its argument. */
static int
fail_cmd(const struct ctl_request *req, void *aux, json_t **resultp,
         char **errp)
{
    (void) aux;
    (void) resultp;
    n_calls++;
    int err = atoi(req->args[0]);
    if (req->n_args > 1) {
        *errp = vf_xstrdup(req->args[1]);
    }
    return -err;
}

static const struct ctl_option port_opts[] = {
    {.name = "type", .type = CTL_OPT_STRING, .required = true},
    {.name = "vlan", .type = CTL_OPT_INT, .min = 0, .max = 4095},
    {.name = "trunks", .type = CTL_OPT_INT_LIST, .min = 0, .max = 4095},
    {.name = "ip", .type = CTL_OPT_STRING_LIST},
    {.name = "up", .type = CTL_OPT_BOOL},
    {.name = NULL},
};

static void
setup(void)
{
    ctl_command_unregister_all();
    n_calls = 0;
    CHECK_EQ_I(ctl_command_register("test/echo", "A [B]", 1, 2, echo_cmd,
                                    "aux"), 0);
    CHECK_EQ_I(ctl_command_register("test/none", "", 0, 0, echo_cmd, "n"),
               0);
    CHECK_EQ_I(ctl_command_register("test/fail", "ERRNO [MSG]", 1, 2,
                                    fail_cmd, NULL), 0);
    CHECK_EQ_I(ctl_command_register_opts("test/port", "BR PORT {...}", 2, 2,
                                         port_opts, echo_cmd, "p"), 0);
}

/* Executes 'text'; returns the reply as a JSON value (caller decrefs) or
 * NULL when there is none. */
static json_t *
exec_text(const char *text)
{
    char *reply = ctl_command_execute_text(text, strlen(text));
    if (!reply) {
        return NULL;
    }
    CHECK(!strchr(reply, '\n'));
    json_error_t e;
    json_t *j = json_loads(reply, 0, &e);
    CHECK(j != NULL);
    free(reply);
    return j;
}

/* Calls 'method' with 'params' (JSON text or NULL), id 7.  Returns the
 * reply. */
static json_t *
call(const char *method, const char *params)
{
    char *text = params
                     ? vf_xasprintf("{\"jsonrpc\":\"2.0\",\"method\":\"%s\","
                                    "\"params\":%s,\"id\":7}", method, params)
                     : vf_xasprintf("{\"jsonrpc\":\"2.0\",\"method\":\"%s\","
                                    "\"id\":7}", method);
    json_t *j = exec_text(text);
    free(text);
    CHECK(j && json_integer_value(json_object_get(j, "id")) == 7);
    return j;
}

static int
error_code(const json_t *reply)
{
    return (int) json_integer_value(
        json_object_get(json_object_get(reply, "error"), "code"));
}

static const char *
error_message(const json_t *reply)
{
    return json_string_value(
        json_object_get(json_object_get(reply, "error"), "message"));
}

/* The call must fail with 'code' and a message containing 'needle',
 * without running a handler (unless 'handler_runs'). */
static void
expect_error(const char *method, const char *params, int code,
             const char *needle, bool handler_runs)
{
    int before = n_calls;
    json_t *r = call(method, params);
    int got = error_code(r);
    const char *msg = error_message(r);
    bool ok = got == code && msg && strstr(msg, needle)
              && (n_calls > before) == handler_runs;
    if (!ok) {
        fprintf(stderr, "  %s %s: code %d '%s' (calls %d->%d)\n", method,
                params ? params : "", got, msg ? msg : "(none)", before,
                n_calls);
    }
    json_decref(r);
    CHECK(ok);
}

static void
test_register_rules(void)
{
    setup();
    CHECK_EQ_I(ctl_command_register("test/echo", "", 0, 0, echo_cmd, NULL),
               -EEXIST);
    CHECK_EQ_I(ctl_command_register("list-commands", "", 0, 0, echo_cmd,
                                    NULL), -EEXIST);
    static const char *const bad_names[] = {
        "", "/x", "x/", "Bridge/add", "a b", "x.y", "ü",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    for (size_t i = 0; i < VF_ARRAY_SIZE(bad_names); i++) {
        CHECK_EQ_I(ctl_command_register(bad_names[i], "", 0, 0, echo_cmd,
                                        NULL), -EINVAL);
    }
    CHECK_EQ_I(ctl_command_register("x/y", "", 2, 1, echo_cmd, NULL),
               -EINVAL);
    CHECK_EQ_I(ctl_command_register("x/y", "", -1, 1, echo_cmd, NULL),
               -EINVAL);
    CHECK_EQ_I(ctl_command_register("x/y", "", 0, CTL_COMMAND_MAX_ARGS + 1,
                                    echo_cmd, NULL), -EINVAL);
    CHECK_EQ_I(ctl_command_register("x/y", "", 0, 0, NULL, NULL), -EINVAL);
    static const struct ctl_option dup_opts[] = {
        {.name = "a", .type = CTL_OPT_STRING},
        {.name = "a", .type = CTL_OPT_INT},
        {.name = NULL},
    };
    CHECK_EQ_I(ctl_command_register_opts("x/y", "", 0, 0, dup_opts,
                                         echo_cmd, NULL), -EINVAL);
    static const struct ctl_option bad_range[] = {
        {.name = "a", .type = CTL_OPT_INT, .min = 5, .max = 1},
        {.name = NULL},
    };
    CHECK_EQ_I(ctl_command_register_opts("x/y", "", 0, 0, bad_range,
                                         echo_cmd, NULL), -EINVAL);
    CHECK(!ctl_command_exists("x/y"));
    CHECK(ctl_command_exists("list-commands"));

    CHECK_EQ_I(ctl_command_unregister("list-commands"), -EPERM);
    CHECK_EQ_I(ctl_command_unregister("nope"), -ENOENT);
    CHECK_EQ_I(ctl_command_unregister("test/none"), 0);
    CHECK(!ctl_command_exists("test/none"));
    ctl_command_unregister_all();
}

static void
test_list_commands(void)
{
    setup();
    json_t *r = call("list-commands", NULL);
    json_t *list = json_object_get(r, "result");
    CHECK(json_is_array(list) && json_array_size(list) == 5);
    /* Sorted by name. */
    CHECK_STR(json_string_value(
                  json_object_get(json_array_get(list, 0), "name")),
              "list-commands");
    json_t *port = json_array_get(list, 4);
    CHECK_STR(json_string_value(json_object_get(port, "name")), "test/port");
    CHECK_EQ_I(json_integer_value(json_object_get(port, "min_args")), 2);
    json_t *opts = json_object_get(port, "options");
    CHECK_EQ_U(json_array_size(opts), 5);
    CHECK_EQ_I(json_integer_value(
                   json_object_get(json_array_get(opts, 1), "max")), 4095);
    json_decref(r);
    ctl_command_unregister_all();
}

static void
test_arguments(void)
{
    setup();
    json_t *r = call("test/echo", "[\"a\"]");
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(r, "result"), "aux")), "aux");
    json_decref(r);
    r = call("test/echo", "[\"a\",\"b\"]");
    CHECK_EQ_U(json_array_size(json_object_get(json_object_get(r, "result"),
                                               "args")), 2);
    json_decref(r);
    r = call("test/none", "[]");
    CHECK(json_object_get(r, "result") != NULL);
    json_decref(r);
    r = call("test/none", "{}");                /* Empty options: fine. */
    CHECK(json_object_get(r, "result") != NULL);
    json_decref(r);
    CHECK_EQ_I(n_calls, 4);

    const int P = JSONRPC_INVALID_PARAMS;
    expect_error("test/echo", NULL, P, "'test/echo' takes 1 to 2 arguments "
                 "(A [B]), got 0", false);
    expect_error("test/echo", "[]", P, "got 0", false);
    expect_error("test/echo", "[\"a\",\"b\",\"c\"]", P, "got 3", false);
    expect_error("test/none", "[\"a\"]", P, "'test/none' takes 0 arguments "
                 "(no arguments), got 1", false);
    expect_error("test/echo", "[1]", P, "argument 1 of 'test/echo' must be "
                 "a string", false);
    expect_error("test/echo", "[\"a\",null]", P, "argument 2", false);
    expect_error("test/echo", "[\"a\",[\"b\"]]", P, "argument 2", false);
    expect_error("test/echo", "[{},\"a\"]", P, "argument 1", false);
    expect_error("test/echo", "[\"a\",{\"x\":1}]", P, "'test/echo' takes no "
                 "options", false);
    expect_error("test/echo", "{\"x\":1}", P, "got 0", false);
    expect_error("nope/nope", "[]", JSONRPC_METHOD_NOT_FOUND,
                 "unknown command 'nope/nope'", false);
    ctl_command_unregister_all();
}

static void
test_options(void)
{
    setup();
    json_t *r = call("test/port", "[\"br0\",\"p1\",{\"type\":\"tap\","
                     "\"vlan\":0,\"trunks\":[1,4095],\"ip\":[\"a\"],"
                     "\"up\":true}]");
    json_t *opts = json_object_get(json_object_get(r, "result"), "options");
    CHECK_EQ_I(json_integer_value(json_object_get(opts, "vlan")), 0);
    json_decref(r);

    const int P = JSONRPC_INVALID_PARAMS;
    const char *pre = "[\"br0\",\"p1\",";
    struct {
        const char *opts;
        const char *needle;
    } bad[] = {
        {"{}", "missing option 'type' for 'test/port'"},
        {"{\"vlan\":1}", "missing option 'type'"},
        {"{\"type\":\"tap\",\"color\":1}", "unknown option 'color' for "
         "'test/port' (valid: type, vlan, trunks, ip, up)"},
        {"{\"type\":1}", "option 'type' must be a string"},
        {"{\"type\":\"\"}", "option 'type' must be 1 to"},
        {"{\"type\":\"t\",\"vlan\":\"10\"}", "option 'vlan' must be an "
         "integer 0..4095"},
        {"{\"type\":\"t\",\"vlan\":4096}", "(got 4096)"},
        {"{\"type\":\"t\",\"vlan\":-1}", "(got -1)"},
        {"{\"type\":\"t\",\"vlan\":1.0}", "must be an integer"},
        {"{\"type\":\"t\",\"vlan\":true}", "must be an integer"},
        {"{\"type\":\"t\",\"trunks\":[]}", "option 'trunks' must be a list "
         "of 1 to 4096 integers"},
        {"{\"type\":\"t\",\"trunks\":5}", "must be a list"},
        {"{\"type\":\"t\",\"trunks\":[1,\"2\"]}", "each element of 'trunks' "
         "must be an integer 0..4095"},
        {"{\"type\":\"t\",\"trunks\":[1,9999]}", "(got 9999)"},
        {"{\"type\":\"t\",\"ip\":[1]}", "each element of 'ip' must be a "
         "string"},
        {"{\"type\":\"t\",\"ip\":\"a\"}", "must be a list of 1 to 4096 "
         "strings"},
        {"{\"type\":\"t\",\"up\":1}", "option 'up' must be true or false"},
    };
    for (size_t i = 0; i < VF_ARRAY_SIZE(bad); i++) {
        char *params = vf_xasprintf("%s%s]", pre, bad[i].opts);
        expect_error("test/port", params, P, bad[i].needle, false);
        free(params);
    }
    /* A list over the limit. */
    struct vf_buf b = VF_BUF_INITIALIZER;
    vf_buf_printf(&b, "%s{\"type\":\"t\",\"trunks\":[", pre);
    for (int i = 0; i < CTL_OPTION_MAX_LIST + 1; i++) {
        vf_buf_printf(&b, "%s1", i ? "," : "");
    }
    vf_buf_puts(&b, "]}]");
    expect_error("test/port", b.data, P, "must be a list of 1 to 4096",
                 false);
    vf_buf_uninit(&b);
    ctl_command_unregister_all();
}

static void
test_handler_errors(void)
{
    setup();
    expect_error("test/fail", "[\"2\",\"no bridge named br9\"]",
                 JSONRPC_VF_NOT_FOUND, "no bridge named br9", true);
    expect_error("test/fail", "[\"17\",\"bridge br0 already exists\"]",
                 JSONRPC_VF_EXISTS, "already exists", true);
    expect_error("test/fail", "[\"22\",\"bad\\nthing\"]",
                 JSONRPC_INVALID_PARAMS, "bad thing", true);
    expect_error("test/fail", "[\"5\"]", JSONRPC_VF_STORAGE,
                 "Input/output error", true);
    expect_error("test/fail", "[\"95\"]", JSONRPC_VF_UNAVAILABLE, "",
                 true);
    ctl_command_unregister_all();
}

static void
test_ids_and_notifications(void)
{
    setup();
    json_t *r = exec_text("{\"jsonrpc\":\"2.0\",\"method\":\"test/echo\","
                          "\"params\":[\"a\"],\"id\":\"s-1\"}");
    CHECK_STR(json_string_value(json_object_get(r, "id")), "s-1");
    json_decref(r);
    r = exec_text("{\"jsonrpc\":\"2.0\",\"method\":\"test/echo\","
                  "\"params\":[\"a\"],\"id\":null}");
    CHECK(json_is_null(json_object_get(r, "id"))
          && json_object_get(r, "result"));
    json_decref(r);

    /* Notifications run but get no reply, even when they fail. */
    int before = n_calls;
    CHECK(!exec_text("{\"jsonrpc\":\"2.0\",\"method\":\"test/echo\","
                     "\"params\":[\"a\"]}"));
    CHECK(!exec_text("{\"jsonrpc\":\"2.0\",\"method\":\"test/fail\","
                     "\"params\":[\"2\"]}"));
    CHECK(!exec_text("{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}"));
    CHECK(!exec_text("{\"jsonrpc\":\"2.0\",\"method\":\"test/echo\"}"));
    CHECK_EQ_I(n_calls, before + 2);

    /* A response sent to the server is refused with its id. */
    r = exec_text("{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":3}");
    CHECK_EQ_I(error_code(r), JSONRPC_INVALID_REQUEST);
    CHECK_EQ_I(json_integer_value(json_object_get(r, "id")), 3);
    json_decref(r);

    /* Parse errors and invalid requests. */
    r = exec_text("{\"jsonrpc\":\"2.0\",\"method\":\"test/echo\"");
    CHECK_EQ_I(error_code(r), JSONRPC_PARSE_ERROR);
    CHECK(json_is_null(json_object_get(r, "id")));
    json_decref(r);
    r = exec_text("42");
    CHECK_EQ_I(error_code(r), JSONRPC_INVALID_REQUEST);
    json_decref(r);
    ctl_command_unregister_all();
}

static void
test_batches(void)
{
    setup();
    json_t *r = exec_text(
        "[{\"jsonrpc\":\"2.0\",\"method\":\"test/echo\",\"params\":[\"a\"],"
        "\"id\":1},"
        "{\"jsonrpc\":\"2.0\",\"method\":\"test/echo\",\"params\":[\"b\"]},"
        "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":2},"
        "1,"
        "{\"jsonrpc\":\"2.0\",\"method\":\"test/fail\",\"params\":[\"17\"],"
        "\"id\":3}]");
    CHECK(json_is_array(r) && json_array_size(r) == 4);
    CHECK(json_object_get(json_array_get(r, 0), "result"));
    CHECK_EQ_I(error_code(json_array_get(r, 1)), JSONRPC_METHOD_NOT_FOUND);
    CHECK_EQ_I(error_code(json_array_get(r, 2)), JSONRPC_INVALID_REQUEST);
    CHECK_EQ_I(error_code(json_array_get(r, 3)), JSONRPC_VF_EXISTS);
    json_decref(r);

    /* Only notifications: nothing to send. */
    CHECK(!exec_text("[{\"jsonrpc\":\"2.0\",\"method\":\"test/none\"}]"));

    r = exec_text("[]");
    CHECK(json_is_object(r) && error_code(r) == JSONRPC_INVALID_REQUEST);
    json_decref(r);

    struct vf_buf b = VF_BUF_INITIALIZER;
    vf_buf_putc(&b, '[');
    for (int i = 0; i <= JSONRPC_MAX_BATCH; i++) {
        vf_buf_printf(&b, "%s{\"jsonrpc\":\"2.0\",\"method\":\"test/none\","
                      "\"id\":%d}", i ? "," : "", i);
    }
    vf_buf_putc(&b, ']');
    int before = n_calls;
    r = exec_text(b.data);
    CHECK(json_is_object(r) && error_code(r) == JSONRPC_INVALID_REQUEST);
    CHECK(strstr(error_message(r), "exceeds 256"));
    CHECK_EQ_I(n_calls, before);
    json_decref(r);
    vf_buf_uninit(&b);
    ctl_command_unregister_all();
}

static const struct test_case cases[] = {
    TEST(test_register_rules),
    TEST(test_list_commands),
    TEST(test_arguments),
    TEST(test_options),
    TEST(test_handler_errors),
    TEST(test_ids_and_notifications),
    TEST(test_batches),
};

TEST_MAIN(cases)
