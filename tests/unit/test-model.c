/* SPDX-License-Identifier: Apache-2.0 */
/* The logical model: validation (a table of bad inputs, each with the
 * errno class and the field its message must name, and the model left
 * unchanged), updates in place, delete guards, and policy evaluation
 * (defaults, explicit allow/deny by protocol and port, groups, priority,
 * tenants). */
#include "harness.h"

#include "policy/model.h"

static uint64_t version;

/* Parses 'json' as 'kind' (an update of the object called like it when
 * 'update'), and puts it on success.  Returns the error; '*errp' gets the
 * message. */
static int
try_put(struct model *m, enum model_kind kind, const char *json, bool update,
        char **errp)
{
    json_error_t jerr;
    json_t *doc = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        fprintf(stderr, "bad test JSON: %s: %s\n", json, jerr.text);
        abort();
    }
    struct model_obj *old = NULL;
    if (update) {
        old = model_lookup(m, kind,
                           json_string_value(json_object_get(doc, "name")));
        VF_VERIFY(old != NULL);
    }
    struct model_obj *obj;
    int error = model_parse(m, kind, doc, old, 0, &obj, errp);
    json_decref(doc);
    if (!error) {
        model_put(m, obj, old, ++version);
    }
    return error;
}

static void
put(struct model *m, enum model_kind kind, const char *json)
{
    char *err = NULL;
    int error = try_put(m, kind, json, false, &err);
    if (error) {
        TEST_FAIL__("putting %s: %s", json, err);
    }
}

static void
update(struct model *m, enum model_kind kind, const char *json)
{
    char *err = NULL;
    int error = try_put(m, kind, json, true, &err);
    if (error) {
        TEST_FAIL__("updating %s: %s", json, err);
    }
}

static struct model *
fixture(void)
{
    struct model *m = model_create();
    version = 0;
    put(m, MODEL_TENANT, "{\"name\":\"t1\"}");
    put(m, MODEL_TENANT, "{\"name\":\"t2\",\"description\":\"other\"}");
    put(m, MODEL_NETWORK, "{\"name\":\"n1\",\"tenant\":\"t1\",\"vni\":100,"
        "\"subnets\":[\"10.0.0.0/24\",\"fd00:1::/64\"]}");
    put(m, MODEL_NETWORK, "{\"name\":\"n2\",\"tenant\":\"t1\",\"vni\":200,"
        "\"subnets\":[\"10.0.1.0/24\"]}");
    put(m, MODEL_NETWORK, "{\"name\":\"n3\",\"tenant\":\"t2\",\"vni\":300,"
        "\"subnets\":[\"10.0.0.0/24\"]}");
    put(m, MODEL_HOST, "{\"name\":\"h1\",\"underlay_ip\":\"192.0.2.1\","
        "\"capabilities\":[\"vxlan\",\"afxdp\"],\"state_format\":1}");
    put(m, MODEL_HOST, "{\"name\":\"h2\",\"underlay_ip\":\"2001:db8::2\"}");
    put(m, MODEL_VNIC, "{\"name\":\"a\",\"network\":\"n1\","
        "\"mac\":\"02:00:00:00:00:0a\",\"ips\":[\"10.0.0.10\","
        "\"fd00:1::a\"],\"host\":\"h1\",\"security_groups\":[\"web\"]}");
    put(m, MODEL_VNIC, "{\"name\":\"b\",\"network\":\"n1\","
        "\"mac\":\"02:00:00:00:00:0b\",\"ips\":[\"10.0.0.11\"],"
        "\"host\":\"h2\",\"security_groups\":[\"db\"]}");
    put(m, MODEL_VNIC, "{\"name\":\"c\",\"network\":\"n2\","
        "\"mac\":\"02:00:00:00:00:0c\",\"ips\":[\"10.0.1.12\"],"
        "\"host\":\"h2\",\"security_groups\":[\"db\"]}");
    put(m, MODEL_VNIC, "{\"name\":\"x\",\"network\":\"n3\","
        "\"mac\":\"02:00:00:00:00:0a\",\"ips\":[\"10.0.0.10\"],"
        "\"host\":\"h1\"}");
    return m;
}

static struct model_vnic *
vnic(struct model *m, const char *name)
{
    struct model_obj *o = model_lookup(m, MODEL_VNIC, name);
    VF_VERIFY(o != NULL);
    return VF_CONTAINER_OF(o, struct model_vnic, obj);
}

struct bad_case {
    enum model_kind kind;
    bool update;
    const char *json;
    int error;
    const char *field;          /* NULL: the message names no field. */
    const char *needle;         /* Must appear in the message. */
};

static const struct bad_case bad_cases[] = {
    /* Shape. */
    {MODEL_TENANT, false, "[]", -EINVAL, NULL, "JSON object"},
    {MODEL_TENANT, false, "{}", -EINVAL, "name", "required"},
    {MODEL_TENANT, false, "{\"name\":\"t9\",\"colour\":1}", -EINVAL,
     "colour", "unknown field"},
    {MODEL_TENANT, false, "{\"name\":7}", -EINVAL, "name", "string"},
    {MODEL_TENANT, false, "{\"name\":\"-bad\"}", -EINVAL, "name",
     "valid name"},
    {MODEL_TENANT, false, "{\"name\":\"a b\"}", -EINVAL, "name",
     "valid name"},
    {MODEL_TENANT, false,
     "{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaa\"}", -EINVAL, "name", "valid name"},
    {MODEL_TENANT, false, "{\"name\":\"t1\"}", -EEXIST, "name",
     "already exists"},
    {MODEL_TENANT, false, "{\"name\":\"t9\",\"version\":3}", -EINVAL,
     "version", "read-only"},
    {MODEL_TENANT, false, "{\"name\":\"t9\",\"description\":5}", -EINVAL,
     "description", "string"},
    /* Networks. */
    {MODEL_NETWORK, false, "{\"name\":\"n9\"}", -EINVAL, "tenant",
     "required"},
    {MODEL_NETWORK, false, "{\"name\":\"n9\",\"tenant\":\"nope\"}", -ENXIO,
     "tenant", "no such tenant"},
    {MODEL_NETWORK, false, "{\"name\":\"n9\",\"tenant\":\"t1\",\"vni\":0}",
     -EINVAL, "vni", "out of range"},
    {MODEL_NETWORK, false,
     "{\"name\":\"n9\",\"tenant\":\"t1\",\"vni\":16777216}", -EINVAL, "vni",
     "out of range"},
    {MODEL_NETWORK, false,
     "{\"name\":\"n9\",\"tenant\":\"t1\",\"vni\":\"7\"}", -EINVAL, "vni",
     "integer"},
    {MODEL_NETWORK, false, "{\"name\":\"n9\",\"tenant\":\"t1\",\"vni\":100}",
     -EEXIST, "vni", "used by network 'n1'"},
    {MODEL_NETWORK, false,
     "{\"name\":\"n9\",\"tenant\":\"t1\",\"subnets\":\"10.9.0.0/24\"}",
     -EINVAL, "subnets", "array"},
    {MODEL_NETWORK, false,
     "{\"name\":\"n9\",\"tenant\":\"t1\",\"subnets\":[\"10.9.0.0/33\"]}",
     -EINVAL, "subnets[0]", "CIDR"},
    {MODEL_NETWORK, false,
     "{\"name\":\"n9\",\"tenant\":\"t1\",\"subnets\":[\"10.9.0.1/24\"]}",
     -EINVAL, "subnets[0]", "host bits"},
    {MODEL_NETWORK, false,
     "{\"name\":\"n9\",\"tenant\":\"t1\",\"subnets\":[\"10.9.0.0\"]}",
     -EINVAL, "subnets[0]", "prefix length"},
    {MODEL_NETWORK, false,
     "{\"name\":\"n9\",\"tenant\":\"t1\",\"subnets\":[\"10.9.0.0/24\","
     "\"10.9.0.128/25\"]}", -EINVAL, "subnets[1]", "overlaps"},
    {MODEL_NETWORK, false,
     "{\"name\":\"n9\",\"tenant\":\"t1\",\"subnets\":[\"10.0.0.128/25\"]}",
     -EEXIST, "subnets[0]", "overlaps network 'n1'"},
    {MODEL_NETWORK, false,
     "{\"name\":\"n9\",\"tenant\":\"t1\",\"subnets\":[\"fd00::/16\"]}",
     -EEXIST, "subnets[0]", "overlaps network 'n1'"},
    {MODEL_NETWORK, true,
     "{\"name\":\"n1\",\"tenant\":\"t2\",\"vni\":100}", -EINVAL, "tenant",
     "cannot be changed"},
    {MODEL_NETWORK, true,
     "{\"name\":\"n1\",\"tenant\":\"t1\",\"vni\":100,"
     "\"subnets\":[\"10.0.0.0/24\"]}", -EEXIST, "subnets", "vnic 'a'"},
    {MODEL_NETWORK, true,
     "{\"name\":\"n1\",\"tenant\":\"t1\",\"vni\":100,\"version\":1}",
     -ESTALE, "version", "is at version"},
    /* Hosts. */
    {MODEL_HOST, false, "{\"name\":\"h9\"}", -EINVAL, "underlay_ip",
     "required"},
    {MODEL_HOST, false, "{\"name\":\"h9\",\"underlay_ip\":\"300.1.1.1\"}",
     -EINVAL, "underlay_ip", "not an IPv4 or IPv6"},
    {MODEL_HOST, false, "{\"name\":\"h9\",\"underlay_ip\":\"192.0.2.1\"}",
     -EEXIST, "underlay_ip", "host 'h1'"},
    {MODEL_HOST, false,
     "{\"name\":\"h9\",\"underlay_ip\":\"192.0.2.9\",\"state_format\":-1}",
     -EINVAL, "state_format", "out of range"},
    {MODEL_HOST, false,
     "{\"name\":\"h9\",\"underlay_ip\":\"192.0.2.9\",\"capabilities\":"
     "[\"x\",\"x\"]}", -EINVAL, "capabilities[1]", "twice"},
    {MODEL_HOST, false,
     "{\"name\":\"h9\",\"underlay_ip\":\"192.0.2.9\",\"token_hash\":\"ab\"}",
     -EINVAL, "token_hash", "unknown field"},
    /* VNICs. */
    {MODEL_VNIC, false, "{\"name\":\"v9\",\"mac\":\"02:00:00:00:00:99\"}",
     -EINVAL, "network", "required"},
    {MODEL_VNIC, false, "{\"name\":\"v9\",\"network\":\"n1\"}", -EINVAL,
     "mac", "required"},
    {MODEL_VNIC, false,
     "{\"name\":\"v9\",\"network\":\"n1\",\"mac\":\"02:00:00:00:00\"}",
     -EINVAL, "mac", "not a MAC"},
    {MODEL_VNIC, false,
     "{\"name\":\"v9\",\"network\":\"n1\",\"mac\":\"zz:00:00:00:00:01\"}",
     -EINVAL, "mac", "not a MAC"},
    {MODEL_VNIC, false,
     "{\"name\":\"v9\",\"network\":\"n1\",\"mac\":\"01:00:5e:00:00:01\"}",
     -EINVAL, "mac", "unicast"},
    {MODEL_VNIC, false,
     "{\"name\":\"v9\",\"network\":\"n1\",\"mac\":\"00:00:00:00:00:00\"}",
     -EINVAL, "mac", "unicast"},
    {MODEL_VNIC, false,
     "{\"name\":\"v9\",\"network\":\"n1\",\"mac\":\"02:00:00:00:00:0A\"}",
     -EEXIST, "mac", "vnic 'a'"},
    {MODEL_VNIC, false,
     "{\"name\":\"v9\",\"network\":\"n1\",\"mac\":\"02:00:00:00:00:99\","
     "\"ips\":[\"10.0.0.11\"]}", -EEXIST, "ips[0]", "vnic 'b'"},
    {MODEL_VNIC, false,
     "{\"name\":\"v9\",\"network\":\"n1\",\"mac\":\"02:00:00:00:00:99\","
     "\"ips\":[\"10.0.0.99\",\"10.0.5.1\"]}", -ENXIO, "ips[1]",
     "not in any subnet"},
    {MODEL_VNIC, false,
     "{\"name\":\"v9\",\"network\":\"n1\",\"mac\":\"02:00:00:00:00:99\","
     "\"ips\":[\"10.0.0.99\",\"10.0.0.99\"]}", -EINVAL, "ips[1]", "twice"},
    {MODEL_VNIC, false,
     "{\"name\":\"v9\",\"network\":\"n1\",\"mac\":\"02:00:00:00:00:99\","
     "\"ips\":[\"10.0.0.256\"]}", -EINVAL, "ips[0]", "not an IPv4"},
    {MODEL_VNIC, false,
     "{\"name\":\"v9\",\"network\":\"n1\",\"mac\":\"02:00:00:00:00:99\","
     "\"host\":\"h7\"}", -ENXIO, "host", "no such host"},
    {MODEL_VNIC, false,
     "{\"name\":\"v9\",\"network\":\"n1\",\"mac\":\"02:00:00:00:00:99\","
     "\"security_groups\":[\"ok\",\"no way\"]}", -EINVAL,
     "security_groups[1]", "valid name"},
    {MODEL_VNIC, true,
     "{\"name\":\"a\",\"network\":\"n2\",\"mac\":\"02:00:00:00:00:0a\"}",
     -EINVAL, "network", "cannot be changed"},
    /* Policies. */
    {MODEL_POLICY, false,
     "{\"name\":\"p9\",\"tenant\":\"t1\",\"src\":\"any\",\"dst\":\"any\"}",
     -EINVAL, "action", "required"},
    {MODEL_POLICY, false,
     "{\"name\":\"p9\",\"tenant\":\"t1\",\"action\":\"maybe\","
     "\"src\":\"any\",\"dst\":\"any\"}", -EINVAL, "action", "allow"},
    {MODEL_POLICY, false,
     "{\"name\":\"p9\",\"tenant\":\"t1\",\"action\":\"allow\","
     "\"dst\":\"any\"}", -EINVAL, "src", "required"},
    {MODEL_POLICY, false,
     "{\"name\":\"p9\",\"tenant\":\"t1\",\"action\":\"allow\","
     "\"src\":{\"network\":\"n3\"},\"dst\":\"any\"}", -ENXIO,
     "src.network", "tenant 't2'"},
    {MODEL_POLICY, false,
     "{\"name\":\"p9\",\"tenant\":\"t1\",\"action\":\"allow\","
     "\"src\":\"any\",\"dst\":{\"network\":\"n7\"}}", -ENXIO,
     "dst.network", "no such network"},
    {MODEL_POLICY, false,
     "{\"name\":\"p9\",\"tenant\":\"t1\",\"action\":\"allow\","
     "\"src\":\"any\",\"dst\":{\"host\":\"h1\"}}", -EINVAL, "dst.host",
     "unknown field"},
    {MODEL_POLICY, false,
     "{\"name\":\"p9\",\"tenant\":\"t1\",\"action\":\"allow\","
     "\"src\":\"any\",\"dst\":{\"group\":\"a\",\"network\":\"n1\"}}",
     -EINVAL, "dst", "must be"},
    {MODEL_POLICY, false,
     "{\"name\":\"p9\",\"tenant\":\"t1\",\"action\":\"allow\","
     "\"src\":\"any\",\"dst\":\"any\",\"protocol\":\"gre\"}", -EINVAL,
     "protocol", "tcp"},
    {MODEL_POLICY, false,
     "{\"name\":\"p9\",\"tenant\":\"t1\",\"action\":\"allow\","
     "\"src\":\"any\",\"dst\":\"any\",\"protocol\":\"icmp\",\"ports\":1}",
     -EINVAL, "ports", "only for"},
    {MODEL_POLICY, false,
     "{\"name\":\"p9\",\"tenant\":\"t1\",\"action\":\"allow\","
     "\"src\":\"any\",\"dst\":\"any\",\"protocol\":\"tcp\","
     "\"ports\":\"90-80\"}", -EINVAL, "ports", "range"},
    {MODEL_POLICY, false,
     "{\"name\":\"p9\",\"tenant\":\"t1\",\"action\":\"allow\","
     "\"src\":\"any\",\"dst\":\"any\",\"protocol\":\"tcp\","
     "\"ports\":\"80-65536\"}", -EINVAL, "ports", "range"},
    {MODEL_POLICY, false,
     "{\"name\":\"p9\",\"tenant\":\"t1\",\"action\":\"allow\","
     "\"src\":\"any\",\"dst\":\"any\",\"priority\":70000}", -EINVAL,
     "priority", "out of range"},
};

static void
test_bad_inputs(void)
{
    struct model *m = fixture();
    uint64_t v0 = m->version;
    size_t counts[MODEL_N_KINDS];
    for (int k = 0; k < MODEL_N_KINDS; k++) {
        counts[k] = model_count(m, k);
    }
    for (size_t i = 0; i < VF_ARRAY_SIZE(bad_cases); i++) {
        const struct bad_case *bc = &bad_cases[i];
        char *err = NULL;
        int error = try_put(m, bc->kind, bc->json, bc->update, &err);
        char *field = model_error_field(err);
        if (error != bc->error || !err || !strstr(err, bc->needle)
            || (bc->field ? !field || strcmp(field, bc->field) : !!field)) {
            TEST_FAIL__("case %zu %s: got %d (%s) field '%s', want %d field "
                        "'%s' with '%s'", i, bc->json, error,
                        err ? err : "-", field ? field : "-", bc->error,
                        bc->field ? bc->field : "-", bc->needle);
        }
        free(field);
        free(err);
    }
    CHECK_EQ_U(m->version, v0);
    for (int k = 0; k < MODEL_N_KINDS; k++) {
        CHECK_EQ_U(model_count(m, k), counts[k]);
    }
    model_destroy(m);
}

static void
test_format_roundtrip(void)
{
    struct model *m = fixture();
    struct model_obj *a = model_lookup(m, MODEL_VNIC, "a");
    json_t *j = model_obj_to_json(a, 0);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(s, "{\"host\":\"h1\",\"ips\":[\"10.0.0.10\",\"fd00:1::a\"],"
                 "\"mac\":\"02:00:00:00:00:0a\",\"name\":\"a\","
                 "\"network\":\"n1\",\"security_groups\":[\"web\"],"
                 "\"version\":8}");
    free(s);
    json_decref(j);

    /* The public form of a host hides its token hash; the internal one
     * (store documents) keeps it and parses back. */
    struct model_obj *h = model_lookup(m, MODEL_HOST, "h1");
    model_host_set_token_hash(VF_CONTAINER_OF(h, struct model_host, obj),
                              "abcd");
    j = model_obj_to_json(h, 0);
    CHECK(json_object_get(j, "token_hash") == NULL);
    json_decref(j);
    j = model_obj_to_json(h, MODEL_F_INTERNAL);
    CHECK_STR(json_string_value(json_object_get(j, "token_hash")), "abcd");
    struct model *m2 = model_create();
    struct model_obj *copy;
    char *err = NULL;
    CHECK_EQ_I(model_parse(m2, MODEL_HOST, j, NULL, MODEL_F_INTERNAL, &copy,
                           &err), 0);
    CHECK_STR(VF_CONTAINER_OF(copy, struct model_host, obj)->token_hash,
              "abcd");
    CHECK_EQ_U(copy->version, h->version);
    model_obj_free(copy);
    json_decref(j);
    model_destroy(m2);
    model_destroy(m);
}

static void
test_update_in_place(void)
{
    struct model *m = fixture();
    struct model_vnic *a = vnic(m, "a");
    struct model_network *n1 = a->network;
    struct eth_addr mac_b = vnic(m, "b")->mac;
    CHECK_EQ_U(n1->n_vnics, 2);

    /* Change a's MAC, addresses and host: the object keeps its address,
     * and the indexes follow. */
    struct eth_addr old_mac = a->mac;
    update(m, MODEL_VNIC, "{\"name\":\"a\",\"network\":\"n1\","
           "\"mac\":\"02:00:00:00:01:0a\",\"ips\":[\"10.0.0.20\"],"
           "\"host\":\"h2\"}");
    CHECK(vnic(m, "a") == a);
    CHECK(model_vnic_by_mac(m, n1, &old_mac) == NULL);
    struct eth_addr new_mac = {{2, 0, 0, 0, 1, 0x0a}};
    CHECK(model_vnic_by_mac(m, n1, &new_mac) == a);
    struct model_addr ip;
    CHECK_EQ_I(model_addr_parse("10.0.0.10", &ip), 0);
    CHECK(model_vnic_by_addr(m, n1, &ip) == NULL);
    CHECK_EQ_I(model_addr_parse("10.0.0.20", &ip), 0);
    CHECK(model_vnic_by_addr(m, n1, &ip) == a);
    CHECK(model_vnic_by_mac(m, n1, &mac_b) == vnic(m, "b"));
    struct model_host *h1 = VF_CONTAINER_OF(
        model_lookup(m, MODEL_HOST, "h1"), struct model_host, obj);
    struct model_host *h2 = VF_CONTAINER_OF(
        model_lookup(m, MODEL_HOST, "h2"), struct model_host, obj);
    CHECK_EQ_U(h1->n_vnics, 1);     /* x */
    CHECK_EQ_U(h2->n_vnics, 3);
    CHECK_EQ_U(a->obj.version, m->version);

    /* The freed MAC is free for others now. */
    put(m, MODEL_VNIC, "{\"name\":\"d\",\"network\":\"n1\","
        "\"mac\":\"02:00:00:00:00:0a\",\"ips\":[\"10.0.0.10\"]}");

    /* Changing a network's VNI keeps its VNICs attached. */
    update(m, MODEL_NETWORK, "{\"name\":\"n1\",\"tenant\":\"t1\","
           "\"vni\":101,\"subnets\":[\"10.0.0.0/24\",\"fd00:1::/64\"]}");
    CHECK(vnic(m, "a")->network == n1);
    CHECK_EQ_U(n1->vni, 101);
    CHECK(model_vnic_by_mac(m, n1, &new_mac) == a);
    /* VNI 100 is free again. */
    put(m, MODEL_NETWORK, "{\"name\":\"n4\",\"tenant\":\"t2\",\"vni\":100}");
    /* Auto-assigned VNIs take the lowest free one. */
    put(m, MODEL_NETWORK, "{\"name\":\"n5\",\"tenant\":\"t2\"}");
    CHECK_EQ_U(VF_CONTAINER_OF(model_lookup(m, MODEL_NETWORK, "n5"),
                               struct model_network, obj)->vni, 1);
    model_destroy(m);
}

static void
test_delete_guards(void)
{
    struct model *m = fixture();
    char *err = NULL;
    struct model_obj *t1 = model_lookup(m, MODEL_TENANT, "t1");
    struct model_obj *n2 = model_lookup(m, MODEL_NETWORK, "n2");
    struct model_obj *h2 = model_lookup(m, MODEL_HOST, "h2");
    CHECK_EQ_I(model_check_delete(m, t1, &err), -EBUSY);
    CHECK(strstr(err, "network"));
    CHECK_EQ_I(model_check_delete(m, n2, &err), -EBUSY);
    CHECK(strstr(err, "vnic"));
    CHECK_EQ_I(model_check_delete(m, h2, &err), -EBUSY);
    free(err);
    err = NULL;

    model_delete(m, model_lookup(m, MODEL_VNIC, "c"), ++version);
    put(m, MODEL_POLICY, "{\"name\":\"p\",\"tenant\":\"t1\","
        "\"action\":\"allow\",\"src\":{\"network\":\"n2\"},"
        "\"dst\":\"any\"}");
    CHECK_EQ_I(model_check_delete(m, n2, &err), -EBUSY);
    CHECK(strstr(err, "policy"));
    free(err);
    err = NULL;
    model_delete(m, model_lookup(m, MODEL_POLICY, "p"), ++version);
    CHECK_EQ_I(model_check_delete(m, n2, &err), 0);
    model_delete(m, n2, ++version);
    CHECK(model_lookup(m, MODEL_NETWORK, "n2") == NULL);
    CHECK_EQ_U(m->version, version);
    model_destroy(m);
}

static enum model_action
eval(struct model *m, const char *src, const char *dst, uint8_t proto,
     int port)
{
    return model_policy_eval(vnic(m, src), vnic(m, dst), proto, port, NULL);
}

static void
test_policy_defaults(void)
{
    struct model *m = fixture();
    /* Within one network: allow; across networks: deny; across tenants:
     * deny, whatever the policies say. */
    CHECK_EQ_I(eval(m, "a", "b", 6, 80), MODEL_ALLOW);
    CHECK_EQ_I(eval(m, "a", "c", 6, 80), MODEL_DENY);
    CHECK_EQ_I(eval(m, "a", "x", 6, 80), MODEL_DENY);
    put(m, MODEL_POLICY, "{\"name\":\"all\",\"tenant\":\"t1\","
        "\"action\":\"allow\",\"src\":\"any\",\"dst\":\"any\"}");
    CHECK_EQ_I(eval(m, "a", "c", 6, 80), MODEL_ALLOW);
    CHECK_EQ_I(eval(m, "a", "x", 6, 80), MODEL_DENY);
    model_destroy(m);
}

static void
test_policy_ports_groups_priority(void)
{
    struct model *m = fixture();
    /* web (a, in n1) may reach db (c, in n2) on TCP 5432 only. */
    put(m, MODEL_POLICY, "{\"name\":\"web-db\",\"tenant\":\"t1\","
        "\"action\":\"allow\",\"src\":{\"group\":\"web\"},"
        "\"dst\":{\"group\":\"db\"},\"protocol\":\"tcp\",\"ports\":5432}");
    CHECK_EQ_I(eval(m, "a", "c", 6, 5432), MODEL_ALLOW);
    CHECK_EQ_I(eval(m, "a", "c", 6, 5433), MODEL_DENY);
    CHECK_EQ_I(eval(m, "a", "c", 17, 5432), MODEL_DENY);
    CHECK_EQ_I(eval(m, "c", "a", 6, 5432), MODEL_DENY);  /* Directional. */

    /* Deny SSH inside n1, above the default allow. */
    put(m, MODEL_POLICY, "{\"name\":\"no-ssh\",\"tenant\":\"t1\","
        "\"action\":\"deny\",\"src\":{\"network\":\"n1\"},"
        "\"dst\":{\"network\":\"n1\"},\"protocol\":\"tcp\","
        "\"ports\":\"22\"}");
    CHECK_EQ_I(eval(m, "a", "b", 6, 22), MODEL_DENY);
    CHECK_EQ_I(eval(m, "a", "b", 6, 23), MODEL_ALLOW);
    CHECK_EQ_I(eval(m, "a", "b", 1, -1), MODEL_ALLOW);

    /* An allow at higher priority wins; at equal priority deny wins. */
    put(m, MODEL_POLICY, "{\"name\":\"ssh-ok\",\"tenant\":\"t1\","
        "\"action\":\"allow\",\"src\":{\"group\":\"web\"},"
        "\"dst\":\"any\",\"protocol\":\"tcp\",\"ports\":\"20-30\"}");
    CHECK_EQ_I(eval(m, "a", "b", 6, 22), MODEL_DENY);
    const struct model_policy *p;
    CHECK_EQ_I(model_policy_eval(vnic(m, "a"), vnic(m, "b"), 6, 25, &p),
               MODEL_ALLOW);
    CHECK_STR(p->obj.name, "ssh-ok");
    update(m, MODEL_POLICY, "{\"name\":\"ssh-ok\",\"tenant\":\"t1\","
           "\"action\":\"allow\",\"src\":{\"group\":\"web\"},"
           "\"dst\":\"any\",\"protocol\":\"tcp\",\"ports\":\"20-30\","
           "\"priority\":200}");
    CHECK_EQ_I(eval(m, "a", "b", 6, 22), MODEL_ALLOW);
    CHECK_EQ_I(eval(m, "b", "a", 6, 22), MODEL_DENY);

    /* The whole filter between a and c: the explicit rules in order. */
    struct model_acl_rule rules[8];
    enum model_action dflt;
    bool trunc;
    size_t n = model_policy_acl(vnic(m, "a"), vnic(m, "c"), rules, 8, &dflt,
                                &trunc);
    CHECK_EQ_U(n, 2);
    CHECK_STR(rules[0].policy->obj.name, "ssh-ok");
    CHECK_STR(rules[1].policy->obj.name, "web-db");
    CHECK_EQ_U(rules[1].port_min, 5432);
    CHECK_EQ_I(dflt, MODEL_DENY);
    CHECK(!trunc);
    n = model_policy_acl(vnic(m, "a"), vnic(m, "c"), rules, 1, &dflt, &trunc);
    CHECK_EQ_U(n, 1);
    CHECK(trunc);

    /* A catch-all rule ends the filter and becomes its default. */
    put(m, MODEL_POLICY, "{\"name\":\"quarantine\",\"tenant\":\"t1\","
        "\"action\":\"deny\",\"priority\":1000,\"src\":\"any\","
        "\"dst\":{\"group\":\"db\"}}");
    n = model_policy_acl(vnic(m, "a"), vnic(m, "c"), rules, 8, &dflt, &trunc);
    CHECK_EQ_U(n, 0);
    CHECK_EQ_I(dflt, MODEL_DENY);
    CHECK_EQ_I(eval(m, "a", "c", 6, 5432), MODEL_DENY);
    CHECK_EQ_I(eval(m, "a", "b", 6, 5432), MODEL_DENY);   /* b is db. */
    model_destroy(m);
}

static void
test_addresses(void)
{
    struct model_addr a;
    char buf[64];
    CHECK_EQ_I(model_addr_parse("fd00::1", &a), 0);
    CHECK_EQ_U(a.family, 6);
    CHECK_STR(model_addr_format(&a, buf), "fd00::1");
    CHECK_EQ_I(model_addr_parse("10.1.2.3", &a), 0);
    CHECK_EQ_U(a.family, 4);
    CHECK_STR(model_addr_format(&a, buf), "10.1.2.3");
    CHECK_EQ_I(model_addr_parse("10.1.2", &a), -EINVAL);
    CHECK_EQ_I(model_addr_parse("", &a), -EINVAL);
    char *f = model_error_field("ips[0]: bad");
    CHECK_STR(f, "ips[0]");
    free(f);
    CHECK(model_error_field("tenant 't1' still has") == NULL);
    CHECK(model_name_valid("a.b-c_d"));
    CHECK(!model_name_valid(".a"));
    CHECK(!model_name_valid(""));
}

static const struct test_case cases[] = {
    TEST(test_bad_inputs),
    TEST(test_format_roundtrip),
    TEST(test_update_in_place),
    TEST(test_delete_guards),
    TEST(test_policy_defaults),
    TEST(test_policy_ports_groups_priority),
    TEST(test_addresses),
};

TEST_MAIN(cases)
