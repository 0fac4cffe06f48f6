/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of vfabd's config-db: creation and migration from an empty
 * file and from schema version 1 (data kept), refusal of newer schemas,
 * non-databases and files in use, round trips in order, constraint
 * errors, rollback, and atomicity under an injected failure at every step
 * of a multi-statement change (nothing of it is stored). */
#include "harness.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-db.h"
#include "util/buf.h"

static char tmpdir[64];

static char *
make_db_path(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ctl-db.XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
    return vf_xasprintf("%s/lib/vfabd.db", tmpdir);
}

static void
cleanup(char *path)
{
    char *cmd = vf_xasprintf("rm -rf '%s'", tmpdir);
    int rc = system(cmd);
    (void) rc;
    free(cmd);
    free(path);
}

static struct config_db *
open_ok(const char *path)
{
    struct config_db *db;
    char *err = NULL;
    int rc = config_db_open(path, &db, &err);
    if (rc) {
        fprintf(stderr, "  %s\n", err);
        free(err);
        return NULL;
    }
    return db;
}

/* Loads everything into one text line, e.g.
 * "B:br0{} P:br0/p1#1 tap {} F:br0/1 rule". */
struct dump {
    struct vf_buf b;
};

static int
dump_bridge(void *aux, const struct config_db_bridge *br, char **errp)
{
    (void) errp;
    struct dump *d = aux;
    vf_buf_printf(&d->b, "B:%s%s ", br->name, br->options);
    return 0;
}

static int
dump_port(void *aux, const struct config_db_port *p, char **errp)
{
    (void) errp;
    struct dump *d = aux;
    vf_buf_printf(&d->b, "P:%s/%s#%u %s %s ", p->bridge, p->name, p->port_no,
                  p->kind, p->options);
    return 0;
}

static int
dump_flow(void *aux, const struct config_db_flow *f, char **errp)
{
    (void) errp;
    struct dump *d = aux;
    vf_buf_printf(&d->b, "F:%s/%llu %s ", f->bridge,
                  (unsigned long long) f->seq, f->rule);
    return 0;
}

static int
dump_meter(void *aux, const struct config_db_meter *m, char **errp)
{
    (void) errp;
    struct dump *d = aux;
    vf_buf_printf(&d->b, "M:%s/%u %s %u/%u ", m->bridge, m->id, m->unit,
                  m->rate, m->burst);
    return 0;
}

static const struct config_db_loader dump_loader = {
    dump_bridge, dump_port, dump_flow, dump_meter};

static char *
dump(struct config_db *db)
{
    struct dump d = {VF_BUF_INITIALIZER};
    char *err = NULL;
    int rc = config_db_load(db, &dump_loader, &d, &err);
    if (rc) {
        fprintf(stderr, "  load: %s\n", err);
        free(err);
    }
    return vf_buf_steal(&d.b);
}

#define CHECK_DUMP(DB, EXPECT)                                            \
    do {                                                                  \
        char *got__ = dump(DB);                                           \
        bool same__ = !strcmp(got__, EXPECT);                             \
        if (!same__) {                                                    \
            fprintf(stderr, "  got:    %s\n  expect: %s\n", got__,        \
                    EXPECT);                                              \
        }                                                                 \
        free(got__);                                                      \
        CHECK(same__);                                                    \
    } while (0)

static int
check(int rc, char *err)
{
    if (rc && err) {
        fprintf(stderr, "  (%d) %s\n", rc, err);
    }
    free(err);
    return rc;
}

static void
add_sample(struct config_db *db)
{
    char *err = NULL;
    struct config_db_bridge br0 = {"br0", "{}"}, br1 = {"br1", NULL};
    struct config_db_port p1 = {"br0", "p1", "tap", 2, "{\"vlan\":10}"};
    struct config_db_port p2 = {"br0", "p2", "afpacket", 1, NULL};
    struct config_db_port p3 = {"br1", "p3", "dummy", 1, "{}"};
    struct config_db_flow f2 = {"br0", 2, "priority=2,actions=drop"};
    struct config_db_flow f1 = {"br0", 1, "actions=flood"};
    CHECK_EQ_I(check(config_db_begin(db, &err), err), 0);
    /* Inserted out of order on purpose: load sorts. */
    CHECK_EQ_I(check(config_db_add_bridge(db, &br0, &err), err), 0);
    CHECK_EQ_I(check(config_db_add_bridge(db, &br1, &err), err), 0);
    CHECK_EQ_I(check(config_db_add_port(db, &p3, &err), err), 0);
    CHECK_EQ_I(check(config_db_add_port(db, &p1, &err), err), 0);
    CHECK_EQ_I(check(config_db_add_port(db, &p2, &err), err), 0);
    CHECK_EQ_I(check(config_db_add_flow(db, &f2, &err), err), 0);
    CHECK_EQ_I(check(config_db_add_flow(db, &f1, &err), err), 0);
    CHECK_EQ_I(check(config_db_commit(db, &err), err), 0);
}

static const char sample_dump[] =
    "B:br0{} B:br1{} P:br0/p2#1 afpacket {} P:br0/p1#2 tap {\"vlan\":10} "
    "P:br1/p3#1 dummy {} F:br0/1 actions=flood "
    "F:br0/2 priority=2,actions=drop ";

static void
test_create_and_round_trip(void)
{
    char *path = make_db_path();
    struct config_db *db = open_ok(path);
    CHECK(db != NULL);
    CHECK_EQ_I(config_db_schema_version(db), CONFIG_DB_SCHEMA_VERSION);
    CHECK_STR(config_db_path(db), path);
    struct stat st;
    CHECK(!stat(path, &st) && (st.st_mode & 0777) == 0600);
    char *dir = vf_xasprintf("%s/lib", tmpdir);
    CHECK(!stat(dir, &st) && (st.st_mode & 0777) == 0700);
    free(dir);
    CHECK_DUMP(db, "");

    add_sample(db);
    CHECK_DUMP(db, sample_dump);
    config_db_close(db);

    db = open_ok(path);
    CHECK(db != NULL);
    CHECK_DUMP(db, sample_dump);
    config_db_close(db);
    cleanup(path);
}

static void
test_migration_from_v1(void)
{
    char *path = make_db_path();
    struct config_db *db = open_ok(path);   /* Creates the directory. */
    config_db_close(db);
    unlink(path);

    /* A file written by a version-1 vfabd. */
    sqlite3 *sql;
    CHECK_EQ_I(sqlite3_open(path, &sql), SQLITE_OK);
    CHECK_EQ_I(sqlite3_exec(
                   sql,
                   "CREATE TABLE bridge (name TEXT NOT NULL UNIQUE);"
                   "CREATE TABLE port (bridge TEXT NOT NULL REFERENCES "
                   "bridge(name) ON DELETE CASCADE, name TEXT NOT NULL "
                   "UNIQUE, port_no INTEGER NOT NULL, kind TEXT NOT NULL, "
                   "options TEXT NOT NULL DEFAULT '{}', UNIQUE (bridge, "
                   "port_no));"
                   "CREATE TABLE flow (bridge TEXT NOT NULL REFERENCES "
                   "bridge(name) ON DELETE CASCADE, seq INTEGER NOT NULL, "
                   "rule TEXT NOT NULL, PRIMARY KEY (bridge, seq));"
                   "INSERT INTO bridge VALUES ('old');"
                   "INSERT INTO port VALUES ('old', 'tap0', 1, 'tap', '{}');"
                   "INSERT INTO flow VALUES ('old', 1, 'actions=drop');"
                   "PRAGMA user_version = 1;",
                   NULL, NULL, NULL),
               SQLITE_OK);
    sqlite3_close(sql);

    db = open_ok(path);
    CHECK(db != NULL);
    CHECK_EQ_I(config_db_schema_version(db), 3);
    CHECK_DUMP(db, "B:old{} P:old/tap0#1 tap {} F:old/1 actions=drop ");
    config_db_close(db);
    cleanup(path);
}

static void
test_refusals(void)
{
    char *path = make_db_path();
    struct config_db *db = open_ok(path), *second;
    char *err = NULL;

    /* In use. */
    CHECK_EQ_I(config_db_open(path, &second, &err), -EBUSY);
    CHECK(strstr(err, "is in use by another process"));
    free(err);
    err = NULL;
    config_db_close(db);

    /* Newer schema. */
    sqlite3 *sql;
    CHECK_EQ_I(sqlite3_open(path, &sql), SQLITE_OK);
    sqlite3_exec(sql, "PRAGMA user_version = 99", NULL, NULL, NULL);
    sqlite3_close(sql);
    CHECK_EQ_I(config_db_open(path, &db, &err), -ENOTSUP);
    CHECK(strstr(err, "schema version 99"));
    free(err);
    err = NULL;
    unlink(path);
    char *wal = vf_xasprintf("%s-wal", path), *shm = vf_xasprintf("%s-shm",
                                                                  path);
    unlink(wal);
    unlink(shm);

    /* Not a database. */
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 100; i++) {
        fputs("this is not an SQLite database\n", f);
    }
    fclose(f);
    CHECK_EQ_I(config_db_open(path, &db, &err), -EIO);
    CHECK(strstr(err, "not a database"));
    free(err);
    err = NULL;

    /* Directory that cannot be created. */
    char *bad = vf_xasprintf("%s/lib/vfabd.db/x/y.db", tmpdir);
    CHECK(config_db_open(bad, &db, &err) < 0);
    CHECK(err != NULL);
    free(err);
    free(bad);
    free(wal);
    free(shm);
    cleanup(path);
}

static void
test_constraints(void)
{
    char *path = make_db_path();
    struct config_db *db = open_ok(path);
    char *err = NULL;
    struct config_db_bridge br0 = {"br0", "{}"};
    struct config_db_port p1 = {"br0", "p1", "tap", 1, "{}"};

    /* Outside a transaction. */
    CHECK_EQ_I(config_db_add_bridge(db, &br0, &err), -EINVAL);
    free(err);
    err = NULL;
    CHECK_EQ_I(config_db_commit(db, &err), -EINVAL);
    free(err);
    err = NULL;

    CHECK_EQ_I(check(config_db_begin(db, &err), err), 0);
    CHECK(config_db_in_transaction(db));
    CHECK_EQ_I(config_db_begin(db, &err), -EINVAL);     /* No nesting. */
    free(err);
    err = NULL;
    CHECK_EQ_I(check(config_db_add_bridge(db, &br0, &err), err), 0);
    CHECK_EQ_I(config_db_add_bridge(db, &br0, &err), -EEXIST);
    free(err);
    err = NULL;
    CHECK_EQ_I(check(config_db_add_port(db, &p1, &err), err), 0);
    struct config_db_port dup_name = {"br0", "p1", "tap", 2, "{}"};
    CHECK_EQ_I(config_db_add_port(db, &dup_name, &err), -EEXIST);
    free(err);
    err = NULL;
    struct config_db_port dup_no = {"br0", "p9", "tap", 1, "{}"};
    CHECK_EQ_I(config_db_add_port(db, &dup_no, &err), -EEXIST);
    free(err);
    err = NULL;
    struct config_db_port orphan = {"nobr", "p8", "tap", 1, "{}"};
    CHECK_EQ_I(config_db_add_port(db, &orphan, &err), -ENOENT);
    free(err);
    err = NULL;
    struct config_db_port zero = {"br0", "p7", "tap", 0, "{}"};
    CHECK_EQ_I(config_db_add_port(db, &zero, &err), -EINVAL);
    free(err);
    err = NULL;
    struct config_db_flow orphan_flow = {"nobr", 1, "x"};
    CHECK_EQ_I(config_db_add_flow(db, &orphan_flow, &err), -ENOENT);
    free(err);
    err = NULL;
    CHECK_EQ_I(config_db_remove_port(db, "nope", &err), -ENOENT);
    free(err);
    err = NULL;
    CHECK_EQ_I(config_db_remove_bridge(db, "nope", &err), -ENOENT);
    free(err);
    err = NULL;
    CHECK_EQ_I(config_db_remove_flow(db, "br0", 42, &err), -ENOENT);
    free(err);
    err = NULL;
    /* Failed statements do not abort the transaction. */
    CHECK_EQ_I(check(config_db_commit(db, &err), err), 0);
    CHECK(!config_db_in_transaction(db));
    CHECK_DUMP(db, "B:br0{} P:br0/p1#1 tap {} ");

    /* Rollback forgets everything since begin. */
    CHECK_EQ_I(check(config_db_begin(db, &err), err), 0);
    CHECK_EQ_I(check(config_db_remove_port(db, "p1", &err), err), 0);
    struct config_db_bridge br1 = {"br1", "{}"};
    CHECK_EQ_I(check(config_db_add_bridge(db, &br1, &err), err), 0);
    config_db_rollback(db);
    CHECK(!config_db_in_transaction(db));
    CHECK_DUMP(db, "B:br0{} P:br0/p1#1 tap {} ");

    /* Removing a bridge cascades to its ports and flows. */
    CHECK_EQ_I(check(config_db_begin(db, &err), err), 0);
    struct config_db_flow f = {"br0", 1, "actions=drop"};
    CHECK_EQ_I(check(config_db_add_flow(db, &f, &err), err), 0);
    CHECK_EQ_I(check(config_db_remove_bridge(db, "br0", &err), err), 0);
    CHECK_EQ_I(check(config_db_commit(db, &err), err), 0);
    CHECK_DUMP(db, "");
    config_db_close(db);
    cleanup(path);
}

/* A change of seven statements fails at statement k (k = 1..8, the 8th
 * being the commit): after the rollback, the stored state is exactly the
 * one before, also after reopening the file. */
static void
test_atomicity_injected_failures(void)
{
    char *path = make_db_path();
    struct config_db *db = open_ok(path);
    add_sample(db);

    for (int k = 1; k <= 8; k++) {
        char *err = NULL;
        config_db_fail_after(db, k);
        struct config_db_bridge br2 = {"br2", "{}"};
        struct config_db_port p4 = {"br2", "p4", "tap", 1, "{}"};
        struct config_db_port p5 = {"br2", "p5", "tap", 2, "{}"};
        struct config_db_flow f = {"br2", 1, "actions=drop"};
        int rc = config_db_begin(db, &err);
        CHECK_EQ_I(rc, 0);
        if (!rc) {
            rc = config_db_remove_port(db, "p1", &err);
        }
        if (!rc) {
            rc = config_db_remove_flow(db, "br0", 1, &err);
        }
        if (!rc) {
            rc = config_db_add_bridge(db, &br2, &err);
        }
        if (!rc) {
            rc = config_db_add_port(db, &p4, &err);
        }
        if (!rc) {
            rc = config_db_add_port(db, &p5, &err);
        }
        if (!rc) {
            rc = config_db_add_flow(db, &f, &err);
        }
        if (!rc) {
            rc = config_db_remove_bridge(db, "br1", &err);
        }
        if (!rc) {
            rc = config_db_commit(db, &err);
        } else {
            config_db_rollback(db);
        }
        CHECK_EQ_I(rc, -EIO);
        CHECK(err && strstr(err, "injected failure"));
        free(err);
        CHECK(!config_db_in_transaction(db));
        CHECK_DUMP(db, sample_dump);
    }
    config_db_close(db);
    db = open_ok(path);
    CHECK_DUMP(db, sample_dump);

    /* Disarmed, the same change goes through whole. */
    config_db_fail_after(db, 0);
    char *err = NULL;
    CHECK_EQ_I(check(config_db_begin(db, &err), err), 0);
    CHECK_EQ_I(check(config_db_remove_bridge(db, "br1", &err), err), 0);
    CHECK_EQ_I(check(config_db_commit(db, &err), err), 0);
    CHECK_DUMP(db, "B:br0{} P:br0/p2#1 afpacket {} P:br0/p1#2 tap "
                   "{\"vlan\":10} F:br0/1 actions=flood "
                   "F:br0/2 priority=2,actions=drop ");
    config_db_close(db);
    cleanup(path);
}

/* A loader callback error stops the load and is returned. */
static int
refuse_port(void *aux, const struct config_db_port *p, char **errp)
{
    (void) aux;
    *errp = vf_xasprintf("refused %s", p->name);
    return -EINVAL;
}

static void
test_load_callback_error(void)
{
    char *path = make_db_path();
    struct config_db *db = open_ok(path);
    add_sample(db);
    struct config_db_loader cb = {NULL, refuse_port, NULL, NULL};
    char *err = NULL;
    CHECK_EQ_I(config_db_load(db, &cb, NULL, &err), -EINVAL);
    CHECK_STR(err, "refused p2");
    free(err);
    /* The database is still usable. */
    CHECK_DUMP(db, sample_dump);
    config_db_close(db);
    cleanup(path);
}

/* Schema v3: meters load after ports and before flows, sorted by id;
 * the constraints refuse bad units and rates; a bridge takes its meters
 * with it. */
static void
test_meters(void)
{
    char *path = make_db_path();
    struct config_db *db = open_ok(path);
    add_sample(db);
    char *err = NULL;
    struct config_db_meter m7 = {"br0", 7, "pktps", 100, 0};
    struct config_db_meter m2 = {"br0", 2, "kbps", 20000, 3000};
    struct config_db_meter bad_unit = {"br0", 3, "mbps", 1, 0};
    struct config_db_meter bad_rate = {"br0", 4, "kbps", 0, 0};
    CHECK_EQ_I(check(config_db_begin(db, &err), err), 0);
    CHECK_EQ_I(check(config_db_add_meter(db, &m7, &err), err), 0);
    CHECK_EQ_I(check(config_db_add_meter(db, &m2, &err), err), 0);
    CHECK(config_db_add_meter(db, &m2, &err) < 0);
    free(err);
    err = NULL;
    CHECK(config_db_add_meter(db, &bad_unit, &err) < 0);
    free(err);
    err = NULL;
    CHECK(config_db_add_meter(db, &bad_rate, &err) < 0);
    free(err);
    err = NULL;
    CHECK_EQ_I(check(config_db_commit(db, &err), err), 0);
    config_db_close(db);

    db = open_ok(path);
    CHECK_DUMP(db,
               "B:br0{} B:br1{} P:br0/p2#1 afpacket {} P:br0/p1#2 tap "
               "{\"vlan\":10} P:br1/p3#1 dummy {} M:br0/2 kbps 20000/3000 "
               "M:br0/7 pktps 100/0 F:br0/1 actions=flood "
               "F:br0/2 priority=2,actions=drop ");
    CHECK_EQ_I(check(config_db_begin(db, &err), err), 0);
    CHECK_EQ_I(check(config_db_remove_meter(db, "br0", 7, &err), err), 0);
    CHECK_EQ_I(config_db_remove_meter(db, "br0", 7, &err), -ENOENT);
    free(err);
    err = NULL;
    CHECK_EQ_I(check(config_db_remove_bridge(db, "br0", &err), err), 0);
    CHECK_EQ_I(check(config_db_commit(db, &err), err), 0);
    CHECK_DUMP(db, "B:br1{} P:br1/p3#1 dummy {} ");
    config_db_close(db);
    cleanup(path);
}

static const struct test_case cases[] = {
    TEST(test_create_and_round_trip),
    TEST(test_migration_from_v1),
    TEST(test_refusals),
    TEST(test_constraints),
    TEST(test_atomicity_injected_failures),
    TEST(test_load_callback_error),
    TEST(test_meters),
};

TEST_MAIN(cases)
