/* SPDX-License-Identifier: Apache-2.0 */
/* Translations: destination resolution by MAC and IP (same network,
 * routed within the tenant, overlapping subnets of two tenants), verdicts
 * with and without protocol/port, unplaced destinations, the JSON result,
 * and request parsing errors. */
#include "harness.h"

#include "policy/xlate.h"

static uint64_t version;

static void
put(struct model *m, enum model_kind kind, const char *json)
{
    json_t *doc = json_loads(json, 0, NULL);
    struct model_obj *obj;
    char *err = NULL;
    VF_VERIFY(doc != NULL);
    if (model_parse(m, kind, doc, NULL, 0, &obj, &err)) {
        TEST_FAIL__("putting %s: %s", json, err);
    }
    json_decref(doc);
    model_put(m, obj, NULL, ++version);
}

static struct model *
fixture(void)
{
    struct model *m = model_create();
    version = 0;
    put(m, MODEL_TENANT, "{\"name\":\"red\"}");
    put(m, MODEL_TENANT, "{\"name\":\"blue\"}");
    put(m, MODEL_NETWORK, "{\"name\":\"red-a\",\"tenant\":\"red\","
        "\"vni\":10,\"subnets\":[\"10.0.0.0/24\",\"fd00:a::/64\"]}");
    put(m, MODEL_NETWORK, "{\"name\":\"red-b\",\"tenant\":\"red\","
        "\"vni\":11,\"subnets\":[\"10.0.1.0/24\"]}");
    put(m, MODEL_NETWORK, "{\"name\":\"blue-a\",\"tenant\":\"blue\","
        "\"vni\":20,\"subnets\":[\"10.0.0.0/24\"]}");
    put(m, MODEL_HOST, "{\"name\":\"h1\",\"underlay_ip\":\"192.0.2.1\"}");
    put(m, MODEL_HOST, "{\"name\":\"h2\",\"underlay_ip\":\"192.0.2.2\"}");
    put(m, MODEL_VNIC, "{\"name\":\"r1\",\"network\":\"red-a\","
        "\"mac\":\"02:00:00:00:01:01\",\"ips\":[\"10.0.0.1\",\"fd00:a::1\"],"
        "\"host\":\"h1\",\"security_groups\":[\"web\"]}");
    put(m, MODEL_VNIC, "{\"name\":\"r2\",\"network\":\"red-a\","
        "\"mac\":\"02:00:00:00:01:02\",\"ips\":[\"10.0.0.2\"],"
        "\"host\":\"h2\"}");
    put(m, MODEL_VNIC, "{\"name\":\"r3\",\"network\":\"red-b\","
        "\"mac\":\"02:00:00:00:01:03\",\"ips\":[\"10.0.1.3\"],"
        "\"host\":\"h1\",\"security_groups\":[\"db\"]}");
    put(m, MODEL_VNIC, "{\"name\":\"r4\",\"network\":\"red-a\","
        "\"mac\":\"02:00:00:00:01:04\",\"ips\":[\"10.0.0.4\"]}");
    /* Blue reuses red's addresses and MACs. */
    put(m, MODEL_VNIC, "{\"name\":\"b1\",\"network\":\"blue-a\","
        "\"mac\":\"02:00:00:00:01:01\",\"ips\":[\"10.0.0.1\"],"
        "\"host\":\"h2\"}");
    put(m, MODEL_VNIC, "{\"name\":\"b2\",\"network\":\"blue-a\","
        "\"mac\":\"02:00:00:00:01:02\",\"ips\":[\"10.0.0.2\"],"
        "\"host\":\"h1\"}");
    return m;
}

static const struct model_vnic *
src_vnic(const struct model *m, const char *name)
{
    const struct model_obj *o = model_lookup(m, MODEL_VNIC, name);
    return o ? VF_CONTAINER_OF(o, struct model_vnic, obj) : NULL;
}

/* Translates the JSON request item 'req' and returns the JSON result. */
static json_t *
xlate(const struct model *m, const char *req)
{
    json_t *item = json_loads(req, 0, NULL);
    struct xlate_query q;
    struct xlate_result r;
    char *err = NULL;
    VF_VERIFY(item != NULL);
    if (xlate_query_parse(item, "", &q, &err)) {
        TEST_FAIL__("parsing %s: %s", req, err);
    }
    json_decref(item);
    xlate_translate(m, src_vnic(m, q.src_vnic), &q, &r);
    struct vf_buf b = VF_BUF_INITIALIZER;
    struct vf_jw w;
    vf_jw_init(&w, &b);
    xlate_result_format(&q, &r, m->version, 300, &w);
    json_t *res = json_loads(vf_buf_cstr(&b), 0, NULL);
    VF_VERIFY(res != NULL);
    vf_buf_uninit(&b);
    return res;
}

static const char *
s(const json_t *j, const char *key)
{
    const char *v = json_string_value(json_object_get(j, key));
    return v ? v : "(absent)";
}

static void
test_same_network(void)
{
    struct model *m = fixture();
    json_t *r = xlate(m, "{\"src_vnic\":\"r1\",\"dst_mac\":"
                         "\"02:00:00:00:01:02\"}");
    CHECK_STR(s(r, "status"), "ok");
    CHECK_STR(s(r, "verdict"), "allow");
    CHECK_STR(s(r, "dst_vnic"), "r2");
    CHECK_STR(s(r, "dst_host"), "h2");
    CHECK_STR(s(r, "underlay_ip"), "192.0.2.2");
    CHECK_EQ_U(json_integer_value(json_object_get(r, "vni")), 10);
    CHECK_EQ_U(json_integer_value(json_object_get(r, "version")),
               m->version);
    CHECK_EQ_U(json_integer_value(json_object_get(r, "lifetime")), 300);
    CHECK(json_is_false(json_object_get(r, "local")));
    json_decref(r);

    /* By IP, the answer carries the destination MAC; IPv6 too. */
    r = xlate(m, "{\"src_vnic\":\"r2\",\"dst_ip\":\"fd00:a::1\"}");
    CHECK_STR(s(r, "dst_mac"), "02:00:00:00:01:01");
    CHECK_STR(s(r, "dst_vnic"), "r1");
    json_decref(r);

    /* A MAC of another network is not resolved (layer 2 only). */
    r = xlate(m, "{\"src_vnic\":\"r1\",\"dst_mac\":\"02:00:00:00:01:03\"}");
    CHECK_STR(s(r, "status"), "not_found");
    CHECK(json_object_get(r, "underlay_ip") == NULL);
    json_decref(r);
    model_destroy(m);
}

static void
test_routed_and_denied(void)
{
    struct model *m = fixture();
    /* r1 -> r3 is across networks: denied by default, no path given. */
    json_t *r = xlate(m, "{\"src_vnic\":\"r1\",\"dst_ip\":\"10.0.1.3\"}");
    CHECK_STR(s(r, "status"), "ok");
    CHECK_STR(s(r, "verdict"), "deny");
    CHECK_STR(s(r, "dst_network"), "red-b");
    CHECK(json_object_get(r, "underlay_ip") == NULL);
    CHECK(json_object_get(r, "vni") == NULL);
    json_decref(r);

    put(m, MODEL_POLICY, "{\"name\":\"web-db\",\"tenant\":\"red\","
        "\"action\":\"allow\",\"src\":{\"group\":\"web\"},"
        "\"dst\":{\"group\":\"db\"},\"protocol\":\"tcp\",\"ports\":5432}");
    r = xlate(m, "{\"src_vnic\":\"r1\",\"dst_ip\":\"10.0.1.3\"}");
    CHECK_STR(s(r, "verdict"), "filtered");
    CHECK_STR(s(r, "default"), "deny");
    CHECK_EQ_U(json_array_size(json_object_get(r, "acl")), 1);
    json_t *rule = json_array_get(json_object_get(r, "acl"), 0);
    CHECK_STR(s(rule, "protocol"), "tcp");
    CHECK_EQ_U(json_integer_value(json_object_get(rule, "port_min")), 5432);
    CHECK_STR(s(rule, "action"), "allow");
    CHECK_EQ_U(json_integer_value(json_object_get(r, "vni")), 11);
    CHECK_STR(s(r, "underlay_ip"), "192.0.2.1");
    CHECK(json_is_true(json_object_get(r, "local")));
    json_decref(r);

    r = xlate(m, "{\"src_vnic\":\"r1\",\"dst_ip\":\"10.0.1.3\","
                 "\"protocol\":\"tcp\",\"dst_port\":5432}");
    CHECK_STR(s(r, "verdict"), "allow");
    CHECK_STR(s(r, "policy"), "web-db");
    json_decref(r);
    r = xlate(m, "{\"src_vnic\":\"r1\",\"dst_ip\":\"10.0.1.3\","
                 "\"protocol\":\"udp\",\"dst_port\":5432}");
    CHECK_STR(s(r, "verdict"), "deny");
    json_decref(r);
    model_destroy(m);
}

static void
test_overlapping_tenants(void)
{
    struct model *m = fixture();
    /* The same IP and MAC answer differently for red and blue sources. */
    json_t *r = xlate(m, "{\"src_vnic\":\"r2\",\"dst_ip\":\"10.0.0.1\"}");
    CHECK_STR(s(r, "dst_vnic"), "r1");
    CHECK_STR(s(r, "underlay_ip"), "192.0.2.1");
    CHECK_EQ_U(json_integer_value(json_object_get(r, "vni")), 10);
    json_decref(r);
    r = xlate(m, "{\"src_vnic\":\"b2\",\"dst_ip\":\"10.0.0.1\"}");
    CHECK_STR(s(r, "dst_vnic"), "b1");
    CHECK_STR(s(r, "underlay_ip"), "192.0.2.2");
    CHECK_EQ_U(json_integer_value(json_object_get(r, "vni")), 20);
    json_decref(r);
    r = xlate(m, "{\"src_vnic\":\"b2\",\"dst_mac\":\"02:00:00:00:01:01\"}");
    CHECK_STR(s(r, "dst_vnic"), "b1");
    json_decref(r);
    /* Blue never reaches red's other network. */
    r = xlate(m, "{\"src_vnic\":\"b2\",\"dst_ip\":\"10.0.1.3\"}");
    CHECK_STR(s(r, "status"), "not_found");
    json_decref(r);
    model_destroy(m);
}

static void
test_unplaced_and_unknown(void)
{
    struct model *m = fixture();
    json_t *r = xlate(m, "{\"src_vnic\":\"r1\",\"dst_ip\":\"10.0.0.4\"}");
    CHECK_STR(s(r, "status"), "unplaced");
    CHECK_STR(s(r, "verdict"), "allow");
    CHECK(json_object_get(r, "underlay_ip") == NULL);
    json_decref(r);
    r = xlate(m, "{\"src_vnic\":\"nobody\",\"dst_ip\":\"10.0.0.4\"}");
    CHECK_STR(s(r, "status"), "no_such_src");
    CHECK(json_object_get(r, "verdict") == NULL);
    json_decref(r);
    model_destroy(m);
}

static void
test_query_errors(void)
{
    static const struct {
        const char *json;
        const char *field;
    } bad[] = {
        {"[]", "requests[0]"},
        {"{\"dst_ip\":\"10.0.0.1\"}", "requests[0].src_vnic"},
        {"{\"src_vnic\":\"a\"}", "requests[0].dst_mac"},
        {"{\"src_vnic\":\"a\",\"dst_ip\":\"1.2.3.4\",\"dst_mac\":"
         "\"02:00:00:00:00:01\"}", "requests[0].dst_mac"},
        {"{\"src_vnic\":\"a\",\"dst_mac\":\"02:00:00:00:00\"}",
         "requests[0].dst_mac"},
        {"{\"src_vnic\":\"a\",\"dst_ip\":\"1.2.3\"}", "requests[0].dst_ip"},
        {"{\"src_vnic\":\"a\",\"dst_ip\":\"1.2.3.4\",\"protocol\":\"x\"}",
         "requests[0].protocol"},
        {"{\"src_vnic\":\"a\",\"dst_ip\":\"1.2.3.4\",\"protocol\":\"tcp\"}",
         "requests[0].dst_port"},
        {"{\"src_vnic\":\"a\",\"dst_ip\":\"1.2.3.4\",\"dst_port\":80}",
         "requests[0].dst_port"},
        {"{\"src_vnic\":\"a\",\"dst_ip\":\"1.2.3.4\",\"protocol\":\"tcp\","
         "\"dst_port\":65536}", "requests[0].dst_port"},
        {"{\"src_vnic\":\"a\",\"dst_ip\":\"1.2.3.4\",\"via\":1}",
         "requests[0].via"},
        {"{\"src_vnic\":\" a\",\"dst_ip\":\"1.2.3.4\"}",
         "requests[0].src_vnic"},
    };
    for (size_t i = 0; i < VF_ARRAY_SIZE(bad); i++) {
        json_t *item = json_loads(bad[i].json, 0, NULL);
        struct xlate_query q;
        char *err = NULL;
        CHECK(item != NULL);
        CHECK_EQ_I(xlate_query_parse(item, "requests[0].", &q, &err),
                   -EINVAL);
        char *field = model_error_field(err);
        if (!field || strcmp(field, bad[i].field)) {
            TEST_FAIL__("%s: message '%s', want field %s", bad[i].json, err,
                        bad[i].field);
        }
        free(field);
        free(err);
        json_decref(item);
    }
}

static const struct test_case cases[] = {
    TEST(test_same_network),
    TEST(test_routed_and_denied),
    TEST(test_overlapping_tenants),
    TEST(test_unplaced_and_unknown),
    TEST(test_query_errors),
};

TEST_MAIN(cases)
