/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of vfabd's switch-config (the configuration model behind the
 * control commands) with a real config-db: every validation rule, port
 * numbering, the interim flow matcher, and "nothing half-applied": a
 * database failure injected at each step of each operation, and an apply
 * class that refuses, both leave the model, the database and the
 * datapath exactly as before.  Also checks the apply-class call order the
 * bridge layer relies on. */
#include "harness.h"

#include <sqlite3.h>
#include <unistd.h>

#include "config-db.h"
#include "ctl/jsonrpc.h"
#include "switch-apply.h"
#include "switch-config.h"
#include "util/buf.h"

static char tmpdir[64];
static char *db_path;

/* A recording apply class: logs every call, can be told to refuse. */
struct fake_dp {
    struct vf_buf log;
    const char *refuse; /* "port_add", "flow_add", ... */
    int n_live;         /* Objects added and not removed. */
};

static int
fake_add(struct fake_dp *dp, const char *what, const char *name, void **objp,
         char **errp)
{
    vf_buf_printf(&dp->log, "+%s:%s ", what, name);
    if (dp->refuse && !strcmp(dp->refuse, what)) {
        *errp = vf_xasprintf("datapath refused %s", name);
        return -EBUSY;
    }
    *objp = dp;
    dp->n_live++;
    return 0;
}

static void
fake_remove(struct fake_dp *dp, const char *what, const char *name,
            void **objp)
{
    vf_buf_printf(&dp->log, "-%s:%s ", what, name);
    VF_VERIFY(*objp == dp);
    *objp = NULL;
    dp->n_live--;
}

static int
fake_bridge_add(void *aux, struct sw_bridge *br, char **errp)
{
    return fake_add(aux, "bridge_add", br->name, &br->dp, errp);
}

static void
fake_bridge_remove(void *aux, struct sw_bridge *br)
{
    fake_remove(aux, "bridge_add", br->name, &br->dp);
}

static int
fake_port_add(void *aux, struct sw_bridge *br, struct sw_port *port,
              char **errp)
{
    VF_VERIFY(br->dp);
    return fake_add(aux, "port_add", port->name, &port->dp, errp);
}

static void
fake_port_remove(void *aux, struct sw_bridge *br, struct sw_port *port)
{
    (void)br;
    fake_remove(aux, "port_add", port->name, &port->dp);
}

static int
fake_flow_add(void *aux, struct sw_bridge *br, struct sw_flow *flow,
              char **errp)
{
    (void)br;
    return fake_add(aux, "flow_add", flow->rule, &flow->dp, errp);
}

static void
fake_flow_remove(void *aux, struct sw_bridge *br, struct sw_flow *flow)
{
    (void)br;
    fake_remove(aux, "flow_add", flow->rule, &flow->dp);
}

static int
fake_meter_add(void *aux, struct sw_bridge *br, struct sw_meter *m,
               char **errp)
{
    (void)br;
    char name[16];
    snprintf(name, sizeof name, "%u", m->cfg.id);
    return fake_add(aux, "meter_add", name, &m->dp, errp);
}

static void
fake_meter_remove(void *aux, struct sw_bridge *br, struct sw_meter *m)
{
    (void)br;
    char name[16];
    snprintf(name, sizeof name, "%u", m->cfg.id);
    fake_remove(aux, "meter_add", name, &m->dp);
}

/* The classifier hook: refuses rules containing "bad", upper-cases
 * nothing but trims a trailing comma (to show canonicalisation). */
static int
fake_flow_check(void *aux, struct sw_bridge *br, const char *text,
                bool is_match, char **canonical, char **errp)
{
    (void)aux;
    (void)br;
    (void)is_match;
    if (strstr(text, "bad")) {
        *errp = vf_xasprintf("cannot parse '%s'", text);
        return -EINVAL;
    }
    size_t len = strlen(text);
    if (len > 1 && text[len - 1] == ',') {
        *canonical = vf_xasprintf("%.*s", (int)len - 1, text);
    }
    return 0;
}

static const struct switch_apply_class fake_class = {
    .name = "fake",
    .bridge_add = fake_bridge_add,
    .bridge_remove = fake_bridge_remove,
    .port_add = fake_port_add,
    .port_remove = fake_port_remove,
    .flow_check = fake_flow_check,
    .flow_add = fake_flow_add,
    .flow_remove = fake_flow_remove,
    .meter_add = fake_meter_add,
    .meter_remove = fake_meter_remove,
};

struct env {
    struct config_db *db;
    struct switch_config *sc;
    struct fake_dp dp;
};

static void
env_open(struct env *e, bool fresh)
{
    char *err = NULL;
    if (fresh) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/ctl-sw.XXXXXX");
        CHECK(mkdtemp(tmpdir) != NULL);
        free(db_path);
        db_path = vf_xasprintf("%s/vfabd.db", tmpdir);
        memset(&e->dp, 0, sizeof e->dp);
    }
    int rc = config_db_open(db_path, &e->db, &err);
    if (rc) {
        fprintf(stderr, "  %s\n", err);
    }
    CHECK_EQ_I(rc, 0);
    e->sc = switch_config_create(e->db, &fake_class, &e->dp);
    CHECK_EQ_I(switch_config_load(e->sc, &err), 0);
}

static void
env_close(struct env *e, bool remove)
{
    switch_config_destroy(e->sc);
    config_db_close(e->db);
    VF_VERIFY(e->dp.n_live == 0);
    if (remove) {
        vf_buf_uninit(&e->dp.log);
        char *cmd = vf_xasprintf("rm -rf '%s'", tmpdir);
        int rc = system(cmd);
        (void)rc;
        free(cmd);
        free(db_path);
        db_path = NULL;
    }
}

/* The whole configuration as JSON text (bridges with flows). */
static char *
state(const struct switch_config *sc)
{
    json_t *a = json_array();
    for (size_t i = 0; i < switch_config_n_bridges(sc); i++) {
        json_array_append_new(
            a, sw_bridge_to_json(switch_config_bridge(sc, i), true));
    }
    char *s = jsonrpc_json_to_string(a);
    json_decref(a);
    return s;
}

static int
add_port(struct switch_config *sc, const char *br, const char *name,
         const char *kind, const char *options, char **errp)
{
    json_t *o = json_loads(options, 0, NULL);
    VF_VERIFY(o);
    struct sw_port_options opts;
    int k = sw_port_kind_from_string(kind);
    int rc = k < 0 ? -EINVAL : sw_port_options_from_json(k, o, &opts, errp);
    json_decref(o);
    if (rc) {
        return rc;
    }
    uint32_t no;
    rc = switch_config_add_port(sc, br, name, k, &opts, &no, errp);
    sw_port_options_uninit(&opts);
    return rc;
}

static void
expect_fail(int rc, int want, char *err, const char *needle)
{
    bool ok = rc == want && err && strstr(err, needle) && !strchr(err, '\n');
    if (!ok) {
        fprintf(stderr, "  rc %d (want %d) err '%s' (want '%s')\n", rc, want,
                err ? err : "(null)", needle);
    }
    free(err);
    CHECK(ok);
}

/* Evaluates CALL (which sets the local 'err') before looking at 'err'. */
#define EXPECT_FAIL(CALL, WANT, NEEDLE)                                       \
    do {                                                                      \
        int rc__ = (CALL);                                                    \
        expect_fail(rc__, WANT, err, NEEDLE);                                 \
        err = NULL;                                                           \
    } while (0)

static void
test_names(void)
{
    char *err = NULL;
    static const char *const good[] = {"br0", "a", "eth0.100", "vm-1_x",
                                       "abcdefghijklmno"};
    for (size_t i = 0; i < VF_ARRAY_SIZE(good); i++) {
        CHECK_EQ_I(sw_name_check("port", good[i], &err), 0);
    }
    struct {
        const char *name, *needle;
    } bad[] = {
        {"", "port name is empty"},
        {"abcdefghijklmnop", "is longer than 15 bytes"},
        {"-x", "must not start with '-'"},
        {".", "must not start with '.'"},
        {"a/b", "invalid character '/'"},
        {"a b", "invalid character ' '"},
        {"a:b", "invalid character ':'"},
        {"a\tb", "invalid byte 0x09"},
        {"caf\xc3\xa9", "invalid byte 0xc3"},
    };
    for (size_t i = 0; i < VF_ARRAY_SIZE(bad); i++) {
        EXPECT_FAIL(sw_name_check("port", bad[i].name, &err), -EINVAL,
                    bad[i].needle);
        err = NULL;
    }
}

static void
test_port_options(void)
{
    struct {
        const char *kind, *options, *needle; /* needle NULL: valid. */
    } cases[] = {
        {"tap", "{}", NULL},
        {"tap", "{\"vlan\":0}", NULL},
        {"tap",
         "{\"vlan\":4095,\"mac\":\"02:00:00:00:00:0A\","
         "\"ip\":[\"10.0.0.1\",\"fd00::1\"],\"quota\":1}",
         NULL},
        {"afpacket", "{\"trunks\":[5,1,4095]}", NULL},
        {"patch", "{\"peer\":\"p2\"}", NULL},
        {"dummy", "{\"vlan\":7}", NULL},
        {"tap", "{\"vlan\":4096}", "vlan 4096 is out of range 0..4095"},
        {"tap", "{\"vlan\":-1}", "out of range"},
        {"tap", "{\"vlan\":\"1\"}", "vlan must be an integer"},
        {"tap", "{\"trunks\":[]}", "trunks must be a list of 1 to 4096"},
        {"tap", "{\"trunks\":[1,1]}", "trunk VLAN 1 is listed twice"},
        {"tap", "{\"trunks\":[1,5000]}", "trunk VLAN 5000 is out of range"},
        {"tap", "{\"vlan\":1,\"trunks\":[2]}", "mutually exclusive"},
        {"tap", "{\"mac\":\"02:00:00:00:00\"}", "is not a MAC address"},
        {"tap", "{\"mac\":\"zz:00:00:00:00:00\"}", "is not a MAC address"},
        {"tap", "{\"mac\":\"01:00:5e:00:00:01\"}", "not a unicast address"},
        {"tap", "{\"mac\":\"ff:ff:ff:ff:ff:ff\"}", "not a unicast address"},
        {"tap", "{\"mac\":\"00:00:00:00:00:00\"}", "not a unicast address"},
        {"tap", "{\"mac\":5}", "mac must be a string"},
        {"tap", "{\"ip\":[\"10.0.0.256\"]}", "is not an IPv4 or IPv6"},
        {"tap", "{\"ip\":[\"10.0.0.1/24\"]}", "is not an IPv4 or IPv6"},
        {"tap", "{\"ip\":[\"fe80::1::2\"]}", "is not an IPv4 or IPv6"},
        {"tap", "{\"ip\":[\"0.0.0.0\"]}", "not a unicast host address"},
        {"tap", "{\"ip\":[\"224.0.0.1\"]}", "not a unicast host address"},
        {"tap", "{\"ip\":[\"255.255.255.255\"]}", "not a unicast host"},
        {"tap", "{\"ip\":[\"::\"]}", "not a unicast host address"},
        {"tap", "{\"ip\":[\"ff02::1\"]}", "not a unicast host address"},
        {"tap", "{\"ip\":[\"10.0.0.1\",\"10.0.0.1\"]}", "listed twice"},
        {"tap", "{\"ip\":[\"fd00::1\",\"fd00:0::1\"]}", "listed twice"},
        {"tap", "{\"ip\":\"10.0.0.1\"}", "ip must be a list"},
        {"tap", "{\"ip\":[1]}", "list of address strings"},
        {"tap", "{\"quota\":0}", "quota must be an integer 1.."},
        {"tap", "{\"quota\":99999999999}", "quota must be an integer"},
        {"tap", "{\"peer\":\"x\"}", "only valid for patch ports"},
        {"patch", "{}", "a patch port needs peer=PORT"},
        {"patch", "{\"peer\":\"a/b\"}", "peer port name"},
        {"tap", "{\"color\":\"red\"}", "unknown port option 'color'"},
    };
    for (size_t i = 0; i < VF_ARRAY_SIZE(cases); i++) {
        json_t *o = json_loads(cases[i].options, 0, NULL);
        VF_VERIFY(o);
        struct sw_port_options opts;
        char *err = NULL;
        int rc = sw_port_options_from_json(
            sw_port_kind_from_string(cases[i].kind), o, &opts, &err);
        if (!cases[i].needle) {
            if (rc) {
                fprintf(stderr, "  %s: %s\n", cases[i].options, err);
            }
            CHECK_EQ_I(rc, 0);
            sw_port_options_uninit(&opts);
        } else {
            expect_fail(rc, -EINVAL, err, cases[i].needle);
        }
        json_decref(o);
    }

    /* Canonical form: sorted trunks, lower-case MAC, RFC 5952 IPv6. */
    json_t *o = json_loads("{\"trunks\":[30,2,10],\"mac\":\"02:AB:00:00:00:"
                           "01\",\"ip\":[\"FD00:0:0::0001\"]}",
                           0, NULL);
    struct sw_port_options opts;
    char *err = NULL;
    CHECK_EQ_I(sw_port_options_from_json(SW_PORT_TAP, o, &opts, &err), 0);
    json_t *back = sw_port_options_to_json(&opts);
    char *s = jsonrpc_json_to_string(back);
    CHECK_STR(s, "{\"trunks\":[2,10,30],\"mac\":\"02:ab:00:00:00:01\","
                 "\"ip\":[\"fd00::1\"]}");
    free(s);
    json_decref(back);
    json_decref(o);
    sw_port_options_uninit(&opts);
    CHECK_EQ_I(sw_port_kind_from_string("veth"), -EINVAL);
    CHECK_STR(sw_port_kind_to_string(SW_PORT_AFPACKET), "afpacket");
}

static void
test_operations_and_persistence(void)
{
    struct env e;
    char *err = NULL;
    env_open(&e, true);

    CHECK_EQ_I(switch_config_add_bridge(e.sc, "br0", NULL, &err), 0);
    CHECK_EQ_I(switch_config_add_bridge(e.sc, "br1", NULL, &err), 0);
    EXPECT_FAIL(switch_config_add_bridge(e.sc, "br0", NULL, &err), -EEXIST,
                "bridge br0 already exists");
    err = NULL;
    EXPECT_FAIL(switch_config_add_bridge(e.sc, "bad name", NULL, &err), -EINVAL,
                "invalid character ' '");
    err = NULL;

    CHECK_EQ_I(add_port(e.sc, "br0", "p1", "tap", "{\"vlan\":10}", &err), 0);
    CHECK_EQ_I(add_port(e.sc, "br0", "p2", "afpacket", "{}", &err), 0);
    CHECK_EQ_I(add_port(e.sc, "br1", "p3", "patch", "{\"peer\":\"p4\"}", &err),
               0);
    EXPECT_FAIL(add_port(e.sc, "br1", "p1", "tap", "{}", &err), -EEXIST,
                "port p1 already exists on bridge br0 (port names are "
                "unique on a host)");
    err = NULL;
    EXPECT_FAIL(add_port(e.sc, "br0", "p1", "tap", "{}", &err), -EEXIST,
                "port p1 already exists on bridge br0");
    err = NULL;
    EXPECT_FAIL(add_port(e.sc, "br9", "p9", "tap", "{}", &err), -ENOENT,
                "no bridge named br9");
    err = NULL;
    EXPECT_FAIL(
        add_port(e.sc, "br0", "p9", "patch", "{\"peer\":\"p9\"}", &err),
        -EINVAL, "cannot be its own peer");
    err = NULL;

    /* Port numbers: lowest free, reused after removal. */
    CHECK_EQ_I(switch_config_find_port(e.sc, "p2")->port_no, 2);
    CHECK_EQ_I(switch_config_remove_port(e.sc, "br0", "p1", &err), 0);
    CHECK_EQ_I(add_port(e.sc, "br0", "p5", "dummy", "{}", &err), 0);
    CHECK_EQ_I(switch_config_find_port(e.sc, "p5")->port_no, 1);
    EXPECT_FAIL(switch_config_remove_port(e.sc, "br1", "p2", &err), -ENOENT,
                "port p2 is not on bridge br1 (it is on br0)");
    err = NULL;
    EXPECT_FAIL(switch_config_remove_port(e.sc, "br0", "zz", &err), -ENOENT,
                "no port named zz on bridge br0");
    err = NULL;

    /* Flows: the hook refuses and canonicalises. */
    uint64_t seq;
    CHECK_EQ_I(switch_config_add_flow(e.sc, "br0", "in_port=1,actions=drop",
                                      &seq, &err),
               0);
    CHECK_EQ_I(seq, 1);
    CHECK_EQ_I(switch_config_add_flow(e.sc, "br0",
                                      "in_port=2,dl_vlan=5,"
                                      "actions=output:1,",
                                      &seq, &err),
               0);
    CHECK_EQ_I(switch_config_add_flow(e.sc, "br0", "dl_vlan=5,actions=drop",
                                      &seq, &err),
               0);
    CHECK_EQ_I(seq, 3);
    EXPECT_FAIL(
        switch_config_add_flow(e.sc, "br0", "bad,actions=drop", &seq, &err),
        -EINVAL, "cannot parse");
    err = NULL;
    EXPECT_FAIL(switch_config_add_flow(e.sc, "br0", "", &seq, &err), -EINVAL,
                "flow rule is empty");
    err = NULL;
    EXPECT_FAIL(switch_config_add_flow(e.sc, "br0", "a\nb", &seq, &err),
                -EINVAL, "invalid byte 0x0a at offset 1");
    err = NULL;
    EXPECT_FAIL(switch_config_add_flow(e.sc, "nobr", "x", &seq, &err), -ENOENT,
                "no bridge named nobr");
    err = NULL;

    char *before = state(e.sc);
    CHECK(strstr(before, "\"rule\":\"in_port=2,dl_vlan=5,actions=output:1\""));
    env_close(&e, false);

    /* Everything comes back, including flow order and next seq. */
    env_open(&e, false);
    char *after = state(e.sc);
    CHECK_STR(after, before);
    free(after);
    CHECK_EQ_I(
        switch_config_add_flow(e.sc, "br0", "actions=flood", &seq, &err), 0);
    CHECK_EQ_I(seq, 4);

    /* The interim matcher: every field of the match among the rule's. */
    size_t n;
    CHECK_EQ_I(switch_config_remove_flows(e.sc, "br0", "dl_vlan=5", &n, &err),
               0);
    CHECK_EQ_I(n, 2);
    CHECK_EQ_I(switch_config_remove_flows(e.sc, "br0", "in_port=9", &n, &err),
               0);
    CHECK_EQ_I(n, 0);
    EXPECT_FAIL(switch_config_remove_flows(e.sc, "br0", "bad", &n, &err),
                -EINVAL, "cannot parse");
    err = NULL;
    CHECK_EQ_I(switch_config_remove_flows(e.sc, "br0", NULL, &n, &err), 0);
    CHECK_EQ_I(n, 2);

    size_t n_ports, n_flows;
    CHECK_EQ_I(switch_config_add_flow(e.sc, "br1", "actions=drop", &seq, &err),
               0);
    CHECK_EQ_I(
        switch_config_remove_bridge(e.sc, "br1", &n_ports, &n_flows, &err), 0);
    CHECK_EQ_I(n_ports, 1);
    CHECK_EQ_I(n_flows, 1);
    EXPECT_FAIL(
        switch_config_remove_bridge(e.sc, "br1", &n_ports, &n_flows, &err),
        -ENOENT, "no bridge named br1");
    err = NULL;
    free(before);
    before = state(e.sc);
    env_close(&e, false);
    env_open(&e, false);
    after = state(e.sc);
    CHECK_STR(after, before);
    free(after);
    free(before);
    env_close(&e, true);
}

/* Runs 'op' with a database failure injected at step k = 1, 2, ... until
 * it succeeds; after every failure the model, the database and the
 * datapath must be unchanged. */
typedef int op_fn(struct switch_config *sc, char **errp);

static void
check_atomic(struct env *e, op_fn *op)
{
    char *before = state(e->sc);
    int live = e->dp.n_live;
    for (int k = 1; k < 50; k++) {
        char *err = NULL;
        config_db_fail_after(e->db, k);
        int rc = op(e->sc, &err);
        config_db_fail_after(e->db, 0);
        if (!rc) {
            break;
        }
        CHECK_EQ_I(rc, -EIO);
        CHECK(err && strstr(err, "injected failure"));
        free(err);
        char *now = state(e->sc);
        CHECK_STR(now, before);
        free(now);
        CHECK_EQ_I(e->dp.n_live, live);

        /* And the file says the same. */
        switch_config_destroy(e->sc);
        e->sc = switch_config_create(e->db, &fake_class, &e->dp);
        CHECK_EQ_I(switch_config_load(e->sc, &err), 0);
        now = state(e->sc);
        CHECK_STR(now, before);
        free(now);
    }
    free(before);
}

static int
op_add_bridge(struct switch_config *sc, char **errp)
{
    return switch_config_add_bridge(sc, "brx", NULL, errp);
}

static int
op_add_port(struct switch_config *sc, char **errp)
{
    return add_port(sc, "br0", "px", "tap", "{\"mac\":\"02:00:00:00:00:09\"}",
                    errp);
}

static int
op_add_flow(struct switch_config *sc, char **errp)
{
    uint64_t seq;
    return switch_config_add_flow(sc, "br0", "priority=9,actions=drop", &seq,
                                  errp);
}

static int
op_remove_flows(struct switch_config *sc, char **errp)
{
    size_t n;
    return switch_config_remove_flows(sc, "br0", NULL, &n, errp);
}

static int
op_remove_port(struct switch_config *sc, char **errp)
{
    return switch_config_remove_port(sc, "br0", "p1", errp);
}

static int
op_remove_bridge(struct switch_config *sc, char **errp)
{
    size_t np, nf;
    return switch_config_remove_bridge(sc, "br0", &np, &nf, errp);
}

static void
test_atomic_under_db_failures(void)
{
    struct env e;
    char *err = NULL;
    uint64_t seq;
    env_open(&e, true);
    CHECK_EQ_I(switch_config_add_bridge(e.sc, "br0", NULL, &err), 0);
    CHECK_EQ_I(add_port(e.sc, "br0", "p1", "tap", "{}", &err), 0);
    CHECK_EQ_I(add_port(e.sc, "br0", "p2", "tap", "{}", &err), 0);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_I(
            switch_config_add_flow(e.sc, "br0", "actions=drop", &seq, &err),
            0);
    }
    check_atomic(&e, op_add_bridge);
    check_atomic(&e, op_add_port);
    check_atomic(&e, op_add_flow);
    check_atomic(&e, op_remove_flows);
    check_atomic(&e, op_remove_port);
    check_atomic(&e, op_remove_bridge);
    char *s = state(e.sc);
    CHECK_STR(s, "[{\"name\":\"brx\",\"ports\":[],\"n_flows\":0,"
                 "\"flows\":[]}]");
    free(s);
    env_close(&e, true);
}

static void
test_apply_refusals_and_order(void)
{
    struct env e;
    char *err = NULL;
    uint64_t seq;
    env_open(&e, true);
    e.dp.refuse = "bridge_add";
    EXPECT_FAIL(switch_config_add_bridge(e.sc, "br0", NULL, &err), -EBUSY,
                "datapath refused br0");
    err = NULL;
    CHECK(!switch_config_find_bridge(e.sc, "br0"));
    e.dp.refuse = NULL;
    CHECK_EQ_I(switch_config_add_bridge(e.sc, "br0", NULL, &err), 0);

    e.dp.refuse = "port_add";
    EXPECT_FAIL(add_port(e.sc, "br0", "p1", "tap", "{}", &err), -EBUSY,
                "datapath refused p1");
    err = NULL;
    e.dp.refuse = "flow_add";
    EXPECT_FAIL(
        switch_config_add_flow(e.sc, "br0", "actions=drop", &seq, &err),
        -EBUSY, "refused");
    err = NULL;
    e.dp.refuse = NULL;
    char *s = state(e.sc);
    CHECK_STR(s, "[{\"name\":\"br0\",\"ports\":[],\"n_flows\":0,"
                 "\"flows\":[]}]");
    free(s);

    /* A commit failure undoes the datapath change. */
    vf_buf_clear(&e.dp.log);
    config_db_fail_after(e.db, 2); /* 1: insert, 2: commit. */
    EXPECT_FAIL(add_port(e.sc, "br0", "p1", "tap", "{}", &err), -EIO,
                "commit: injected failure");
    err = NULL;
    CHECK_STR(vf_buf_cstr(&e.dp.log), "+port_add:p1 -port_add:p1 ");

    /* Order: bridge before ports and flows; flows, ports, bridge out. */
    CHECK_EQ_I(add_port(e.sc, "br0", "p1", "tap", "{}", &err), 0);
    CHECK_EQ_I(switch_config_add_flow(e.sc, "br0", "actions=drop", &seq, &err),
               0);
    env_close(&e, false);
    vf_buf_clear(&e.dp.log);
    env_open(&e, false);
    CHECK_STR(vf_buf_cstr(&e.dp.log), "+bridge_add:br0 +port_add:p1 "
                                      "+flow_add:actions=drop ");
    vf_buf_clear(&e.dp.log);
    size_t np, nf;
    CHECK_EQ_I(switch_config_remove_bridge(e.sc, "br0", &np, &nf, &err), 0);
    CHECK_STR(vf_buf_cstr(&e.dp.log), "-flow_add:actions=drop -port_add:p1 "
                                      "-bridge_add:br0 ");

    /* At start-up a refused port stays configured with its error. */
    CHECK_EQ_I(switch_config_add_bridge(e.sc, "br0", NULL, &err), 0);
    CHECK_EQ_I(add_port(e.sc, "br0", "p1", "tap", "{}", &err), 0);
    env_close(&e, false);
    e.dp.refuse = "port_add";
    env_open(&e, false);
    struct sw_port *p1 = switch_config_find_port(e.sc, "p1");
    CHECK(p1 && p1->error && strstr(p1->error, "datapath refused p1"));
    e.dp.refuse = NULL;
    /* ...and can be removed without a datapath call. */
    vf_buf_clear(&e.dp.log);
    CHECK_EQ_I(switch_config_remove_port(e.sc, "br0", "p1", &err), 0);
    CHECK_STR(vf_buf_cstr(&e.dp.log), "");
    env_close(&e, true);
}

/* Meters: validation, flows naming them, refusal to remove one in use,
 * atomicity, and the apply order (meters after ports, before flows; out
 * after flows) at start-up and bridge removal. */
static void
test_meters(void)
{
    struct env e;
    char *err = NULL;
    uint64_t seq;
    env_open(&e, true);
    CHECK_EQ_I(switch_config_add_bridge(e.sc, "br0", NULL, &err), 0);
    CHECK_EQ_I(add_port(e.sc, "br0", "p1", "tap", "{}", &err), 0);
    struct meter_config m1 = {.id = 1, .unit = METER_KBPS, .rate = 20000};
    struct meter_config bad = {.id = 2, .unit = METER_KBPS, .rate = 0};
    EXPECT_FAIL(switch_config_add_meter(e.sc, "br0", &bad, &err), -EINVAL,
                "rate 0 is out of range 1..100000000 (kbps)");
    EXPECT_FAIL(switch_config_add_meter(e.sc, "nobr", &m1, &err), -ENOENT,
                "no bridge named nobr");
    EXPECT_FAIL(switch_config_add_flow(e.sc, "br0", "actions=meter:1,drop",
                                       &seq, &err),
                -EINVAL, "meter 1 does not exist on bridge br0");

    /* A commit failure undoes the datapath's meter. */
    vf_buf_clear(&e.dp.log);
    config_db_fail_after(e.db, 2);
    EXPECT_FAIL(switch_config_add_meter(e.sc, "br0", &m1, &err), -EIO,
                "commit: injected failure");
    CHECK_STR(vf_buf_cstr(&e.dp.log), "+meter_add:1 -meter_add:1 ");
    CHECK(!sw_bridge_find_meter(switch_config_find_bridge(e.sc, "br0"), 1));

    CHECK_EQ_I(switch_config_add_meter(e.sc, "br0", &m1, &err), 0);
    EXPECT_FAIL(switch_config_add_meter(e.sc, "br0", &m1, &err), -EEXIST,
                "meter 1 already exists on bridge br0");
    CHECK_EQ_I(switch_config_add_flow(e.sc, "br0", "actions=meter:1,drop",
                                      &seq, &err),
               0);
    CHECK_EQ_I(switch_config_add_flow(e.sc, "br0",
                                      "priority=5,actions=meter:1,drop",
                                      &seq, &err),
               0);
    EXPECT_FAIL(switch_config_remove_meter(e.sc, "br0", 1, &err),
                -ENOTEMPTY,
                "meter 1 on bridge br0 is used by 2 flows (remove them "
                "first)");
    EXPECT_FAIL(switch_config_remove_meter(e.sc, "br0", 7, &err), -ENOENT,
                "meter 7 does not exist on bridge br0");
    CHECK_EQ_U(sw_flow_meter_id("priority=5,actions=meter:12,drop"), 12);
    CHECK_EQ_U(sw_flow_meter_id("actions=meter:12"), 12);
    CHECK_EQ_U(sw_flow_meter_id("actions=drop"), 0);
    CHECK_EQ_U(sw_flow_meter_id("actions=meter:x"), 0);

    /* Restart: meters come back before the flows that name them. */
    env_close(&e, false);
    vf_buf_clear(&e.dp.log);
    env_open(&e, false);
    CHECK_STR(vf_buf_cstr(&e.dp.log),
              "+bridge_add:br0 +port_add:p1 +meter_add:1 "
              "+flow_add:actions=meter:1,drop "
              "+flow_add:priority=5,actions=meter:1,drop ");
    struct sw_meter *m = sw_bridge_find_meter(
        switch_config_find_bridge(e.sc, "br0"), 1);
    CHECK(m && m->cfg.rate == 20000 && m->cfg.unit == METER_KBPS);
    json_t *j = sw_meter_to_json(m);
    char *js = jsonrpc_json_to_string(j);
    CHECK_STR(js, "{\"id\":1,\"unit\":\"kbps\",\"rate\":20000,"
                  "\"burst\":2000}");
    free(js);
    json_decref(j);

    /* Flows gone, the meter can go. */
    size_t n;
    CHECK_EQ_I(switch_config_remove_flows(e.sc, "br0", NULL, &n, &err), 0);
    CHECK_EQ_I(switch_config_remove_meter(e.sc, "br0", 1, &err), 0);
    CHECK_EQ_I(switch_config_add_meter(e.sc, "br0", &m1, &err), 0);
    CHECK_EQ_I(switch_config_add_flow(e.sc, "br0", "actions=meter:1,drop",
                                      &seq, &err),
               0);
    vf_buf_clear(&e.dp.log);
    size_t np, nf;
    CHECK_EQ_I(switch_config_remove_bridge(e.sc, "br0", &np, &nf, &err), 0);
    CHECK_STR(vf_buf_cstr(&e.dp.log), "-flow_add:actions=meter:1,drop "
                                      "-meter_add:1 -port_add:p1 "
                                      "-bridge_add:br0 ");
    CHECK_EQ_I(e.dp.n_live, 0);
    env_close(&e, true);
}

static void
test_invalid_stored_records(void)
{
    struct env e;
    char *err = NULL;
    env_open(&e, true);
    CHECK_EQ_I(switch_config_add_bridge(e.sc, "br0", NULL, &err), 0);
    env_close(&e, false);

    /* Somebody edits the file by hand. */
    sqlite3 *sql;
    CHECK_EQ_I(sqlite3_open(db_path, &sql), SQLITE_OK);
    CHECK_EQ_I(sqlite3_exec(sql,
                            "INSERT INTO port VALUES ('br0', 'p1', 1, "
                            "'tap', '{\"vlan\":5000}')",
                            NULL, NULL, NULL),
               SQLITE_OK);
    sqlite3_close(sql);

    CHECK_EQ_I(config_db_open(db_path, &e.db, &err), 0);
    e.sc = switch_config_create(e.db, &fake_class, &e.dp);
    EXPECT_FAIL(switch_config_load(e.sc, &err), -EINVAL,
                "stored port 'p1' on bridge 'br0' is invalid: vlan 5000");
    env_close(&e, true);
}

static const struct test_case cases[] = {
    TEST(test_names),
    TEST(test_port_options),
    TEST(test_operations_and_persistence),
    TEST(test_atomic_under_db_failures),
    TEST(test_apply_refusals_and_order),
    TEST(test_invalid_stored_records),
    TEST(test_meters),
};

TEST_MAIN(cases)
