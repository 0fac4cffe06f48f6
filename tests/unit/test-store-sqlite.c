/* SPDX-License-Identifier: Apache-2.0 */
/* The SQLite store: commits (atomic across rows, version order), loading
 * in kind order, the change log and its trimming, reopening a file,
 * schema migrations from version 1, and refusal of databases that are
 * newer, foreign, corrupt or already open. */
#include "harness.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/store.h"
#include "util/buf.h"
#include "util/compiler.h"

static char dir[64];

static const char *
tmp_path(const char *name)
{
    static char path[128];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/pol-test-store.XXXXXX");
        VF_VERIFY(mkdtemp(dir) != NULL);
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static void
remove_db(const char *path)
{
    char p[160];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-journal", path);
    unlink(p);
}

struct collected {
    struct vf_buf text;
    int n;
};

static int
collect_object(void *aux, int kind, const char *name, const char *doc,
               char **errp)
{
    struct collected *c = aux;
    (void) errp;
    vf_buf_printf(&c->text, "%d:%s=%s;", kind, name, doc);
    c->n++;
    return 0;
}

static int
collect_change(void *aux, uint64_t version, int64_t time_ms,
               const char *record, char **errp)
{
    struct collected *c = aux;
    (void) errp;
    vf_buf_printf(&c->text, "%llu@%lld:%s;", (unsigned long long) version,
                  (long long) time_ms, record);
    c->n++;
    return 0;
}

static const char *
objects_of(struct store *s)
{
    static struct collected c;
    vf_buf_uninit(&c.text);
    c.n = 0;
    char *err = NULL;
    VF_VERIFY(!store_load_objects(s, collect_object, &c, &err));
    return vf_buf_cstr(&c.text);
}

static const char *
changes_of(struct store *s, uint64_t after)
{
    static struct collected c;
    vf_buf_uninit(&c.text);
    c.n = 0;
    char *err = NULL;
    VF_VERIFY(!store_load_changes(s, after, collect_change, &c, &err));
    return vf_buf_cstr(&c.text);
}

static uint64_t
version_of(struct store *s)
{
    uint64_t v = 99;
    char *err = NULL;
    VF_VERIFY(!store_get_version(s, &v, &err));
    return v;
}

static void
test_commit_and_load(void)
{
    char *err = NULL;
    struct store *s = store_open(":memory:", &err);
    CHECK(s != NULL);
    CHECK_STR(store_backend(s), "sqlite");
    CHECK_EQ_I(store_schema_version(s), 2);
    CHECK_EQ_U(version_of(s), 0);
    CHECK_STR(objects_of(s), "");

    struct store_write w[] = {
        {3, "v1", "{\"v\":1}"},
        {0, "t1", "{\"t\":1}"},
        {1, "n1", "{\"n\":1}"},
    };
    CHECK_EQ_I(store_commit(s, 1, w, 3, "{\"c\":1}", 111, &err), 0);
    CHECK_EQ_U(version_of(s), 1);
    /* Kind order, then names. */
    CHECK_STR(objects_of(s), "0:t1={\"t\":1};1:n1={\"n\":1};"
                             "3:v1={\"v\":1};");

    struct store_write upd[] = {{3, "v1", "{\"v\":2}"}, {1, "n1", NULL}};
    CHECK_EQ_I(store_commit(s, 2, upd, 2, "{\"c\":2}", 222, &err), 0);
    CHECK_STR(objects_of(s), "0:t1={\"t\":1};3:v1={\"v\":2};");
    CHECK_STR(changes_of(s, 0), "1@111:{\"c\":1};2@222:{\"c\":2};");
    CHECK_STR(changes_of(s, 1), "2@222:{\"c\":2};");

    /* A version not above the stored one is refused, nothing applied. */
    struct store_write late[] = {{0, "t9", "{}"}};
    CHECK_EQ_I(store_commit(s, 2, late, 1, "{}", 0, &err), -ESTALE);
    CHECK(strstr(err, "version 2"));
    free(err);
    err = NULL;
    CHECK_STR(objects_of(s), "0:t1={\"t\":1};3:v1={\"v\":2};");

    store_close(s);
    store_close(NULL);
}

static void
test_atomic(void)
{
    char *err = NULL;
    struct store *s = store_open(":memory:", &err);
    CHECK(s != NULL);
    struct store_write ok[] = {{0, "t1", "{\"t\":1}"}};
    CHECK_EQ_I(store_commit(s, 1, ok, 1, "{}", 0, &err), 0);
    /* The second row breaks a constraint (empty document): the first row,
     * the change record and the version must all stay out. */
    struct store_write bad[] = {
        {0, "t2", "{\"t\":2}"},
        {0, "t1", NULL},
        {0, "t3", ""},
    };
    CHECK_EQ_I(store_commit(s, 2, bad, 3, "{\"c\":2}", 0, &err), -EIO);
    CHECK(err != NULL);
    free(err);
    err = NULL;
    CHECK_STR(objects_of(s), "0:t1={\"t\":1};");
    CHECK_EQ_U(version_of(s), 1);
    CHECK_STR(changes_of(s, 0), "1@0:{};");
    /* And the store still works afterwards. */
    CHECK_EQ_I(store_commit(s, 2, bad, 2, "{\"c\":2}", 0, &err), 0);
    CHECK_STR(objects_of(s), "0:t2={\"t\":2};");
    /* A write without a name is refused before the backend. */
    struct store_write noname[] = {{0, NULL, "{}"}};
    CHECK_EQ_I(store_commit(s, 3, noname, 1, "{}", 0, &err), -EINVAL);
    free(err);
    store_close(s);
}

static void
test_reopen_and_trim(void)
{
    const char *path = tmp_path("reopen.db");
    char loc[160];
    snprintf(loc, sizeof loc, "sqlite:%s", path);
    remove_db(path);
    char *err = NULL;
    struct store *s = store_open(loc, &err);
    CHECK(s != NULL);
    for (uint64_t v = 1; v <= 10; v++) {
        char name[16], rec[32];
        snprintf(name, sizeof name, "o%02llu", (unsigned long long) v);
        snprintf(rec, sizeof rec, "{\"v\":%llu}", (unsigned long long) v);
        struct store_write w = {2, name, rec};
        CHECK_EQ_I(store_commit(s, v, &w, 1, rec, (int64_t) v, &err), 0);
    }
    CHECK_EQ_I(store_trim_changes(s, 8, &err), 0);
    store_close(s);

    struct stat st;
    CHECK_EQ_I(stat(path, &st), 0);
    s = store_open(path, &err);
    CHECK(s != NULL);
    CHECK_EQ_U(version_of(s), 10);
    CHECK_STR(changes_of(s, 0), "8@8:{\"v\":8};9@9:{\"v\":9};"
                                "10@10:{\"v\":10};");
    CHECK(strstr(objects_of(s), "2:o10={\"v\":10};"));

    /* A second opener of the same file is refused while it is open. */
    char *err2 = NULL;
    struct store *s2 = store_open(path, &err2);
    CHECK(s2 == NULL);
    CHECK(err2 && strstr(err2, "locked"));
    free(err2);
    store_close(s);
    remove_db(path);
}

static void
exec_sql(const char *path, const char *sql)
{
    sqlite3 *db;
    VF_VERIFY(sqlite3_open(path, &db) == SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "sql: %s\n", msg);
        abort();
    }
    sqlite3_close(db);
}

static void
test_migration_from_v1(void)
{
    const char *path = tmp_path("v1.db");
    remove_db(path);
    /* A database as schema version 1 wrote it. */
    exec_sql(path,
             "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT "
             "NULL);"
             "INSERT INTO meta VALUES ('version', 2);"
             "CREATE TABLE objects (kind INTEGER NOT NULL CHECK (kind >= 0),"
             "  name TEXT NOT NULL, doc TEXT NOT NULL CHECK (length(doc) > "
             "0), PRIMARY KEY (kind, name));"
             "CREATE TABLE changes (version INTEGER PRIMARY KEY,"
             "  record TEXT NOT NULL);"
             "INSERT INTO objects VALUES (0, 't1', '{}');"
             "INSERT INTO changes VALUES (1, '{\"a\":1}');"
             "INSERT INTO changes VALUES (2, '{\"a\":2}');"
             "PRAGMA user_version = 1;");
    char *err = NULL;
    struct store *s = store_open(path, &err);
    if (!s) {
        TEST_FAIL__("open: %s", err);
    }
    CHECK_EQ_I(store_schema_version(s), 2);
    CHECK_EQ_U(version_of(s), 2);
    CHECK_STR(objects_of(s), "0:t1={};");
    CHECK_STR(changes_of(s, 0), "1@0:{\"a\":1};2@0:{\"a\":2};");
    struct store_write w = {0, "t2", "{}"};
    CHECK_EQ_I(store_commit(s, 3, &w, 1, "{}", 33, &err), 0);
    CHECK_STR(changes_of(s, 2), "3@33:{};");
    store_close(s);
    remove_db(path);
}

static void
test_refusals(void)
{
    char *err = NULL;
    const char *path = tmp_path("newer.db");
    remove_db(path);
    exec_sql(path, "CREATE TABLE x (a); PRAGMA user_version = 99;");
    CHECK(store_open(path, &err) == NULL);
    CHECK(strstr(err, "newer"));
    free(err);
    err = NULL;
    remove_db(path);

    path = tmp_path("foreign.db");
    remove_db(path);
    exec_sql(path, "CREATE TABLE customers (a);");
    CHECK(store_open(path, &err) == NULL);
    CHECK(strstr(err, "not a vfab-policyd database"));
    free(err);
    err = NULL;
    remove_db(path);

    path = tmp_path("garbage.db");
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    for (int i = 0; i < 200; i++) {
        fputs("this is not a database. ", f);
    }
    fclose(f);
    CHECK(store_open(path, &err) == NULL);
    CHECK(err != NULL);
    free(err);
    err = NULL;
    remove_db(path);

    CHECK(store_open("sqlite:", &err) == NULL);
    CHECK(strstr(err, "empty"));
    free(err);
    err = NULL;
    CHECK(store_open("/nonexistent-dir/x.db", &err) == NULL);
    free(err);
    rmdir(dir);
}

static const struct test_case cases[] = {
    TEST(test_commit_and_load),
    TEST(test_atomic),
    TEST(test_reopen_and_trim),
    TEST(test_migration_from_v1),
    TEST(test_refusals),
};

TEST_MAIN(cases)
