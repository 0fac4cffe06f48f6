/* SPDX-License-Identifier: Apache-2.0 */
/* SQLite store backend: theory of operation.
 *
 * One database file, zero setup.  Schema (current version 2):
 *
 *     meta(key TEXT PRIMARY KEY, value INTEGER)     'version' = last commit
 *     objects(kind INTEGER, name TEXT, doc TEXT,     PRIMARY KEY(kind, name)
 *             CHECK doc non-empty)
 *     changes(version INTEGER PRIMARY KEY, record TEXT, time_ms INTEGER)
 *
 * Migrations: PRAGMA user_version holds the schema version.  At open, each
 * migration above it runs in its own transaction that also sets
 * user_version, so a crash mid-migration leaves the previous version
 * intact.  A database newer than this binary is refused (never
 * downgraded); a database with foreign tables and no version is refused
 * (it is not ours).  Adding a migration: append to 'migrations' below.
 *   1  meta, objects, changes(version, record)
 *   2  changes.time_ms (wall-clock time of each change, for operators)
 *
 * Durability: WAL journal with synchronous=FULL, so a commit that
 * returned survives kill -9 and power loss.  locking_mode=EXCLUSIVE: the
 * first access takes the database for this process, so a second
 * vfab-policyd on the same file fails at open instead of writing beside
 * the first.  Every commit is one BEGIN IMMEDIATE ... COMMIT; any failure
 * rolls the whole commit back.
 *
 * Statements are prepared once at open and reset after each use. */
#include "policy/store-provider.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "util/buf.h"

#define SQLITE_BUSY_TIMEOUT_MS 2000

struct store_sqlite {
    struct store up;
    sqlite3 *db;
    int schema;                 /* user_version after migrations. */
    sqlite3_stmt *get_version;
    sqlite3_stmt *set_version;
    sqlite3_stmt *put;
    sqlite3_stmt *del;
    sqlite3_stmt *add_change;
    sqlite3_stmt *objects;
    sqlite3_stmt *changes;
    sqlite3_stmt *trim;
};

static const char *const migrations[] = {
    /* 1 */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT INTO meta VALUES ('version', 0);"
    "CREATE TABLE objects (kind INTEGER NOT NULL CHECK (kind >= 0),"
    "  name TEXT NOT NULL, doc TEXT NOT NULL CHECK (length(doc) > 0),"
    "  PRIMARY KEY (kind, name));"
    "CREATE TABLE changes (version INTEGER PRIMARY KEY,"
    "  record TEXT NOT NULL);",
    /* 2 */
    "ALTER TABLE changes ADD COLUMN time_ms INTEGER NOT NULL DEFAULT 0;",
};

#define STORE_SQLITE_SCHEMA ((int) VF_ARRAY_SIZE(migrations))

static struct store_sqlite *
store_sqlite_cast(struct store *s)
{
    return VF_CONTAINER_OF(s, struct store_sqlite, up);
}

static int VF_PRINTF(4, 5)
db_error(struct store_sqlite *s, char **errp, int error, const char *fmt, ...)
{
    if (errp) {
        struct vf_buf b = VF_BUF_INITIALIZER;
        va_list args;
        va_start(args, fmt);
        vf_buf_vprintf(&b, fmt, args);
        va_end(args);
        if (s && s->db) {
            vf_buf_printf(&b, ": %s", sqlite3_errmsg(s->db));
        }
        free(*errp);
        *errp = vf_buf_steal(&b);
    }
    return error;
}

static int
exec(struct store_sqlite *s, const char *sql, char **errp)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        if (errp) {
            bool busy = sqlite3_errcode(s->db) == SQLITE_BUSY;
            free(*errp);
            *errp = vf_xasprintf("sqlite: %s (in: %.60s)%s",
                                 msg ? msg : "error", sql,
                                 busy ? "; is another vfab-policyd using "
                                        "this database?"
                                      : "");
        }
        sqlite3_free(msg);
        return -EIO;
    }
    return 0;
}

static int
query_int(struct store_sqlite *s, const char *sql, int64_t *out, char **errp)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return db_error(s, errp, -EIO, "sqlite: %s", sql);
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        return db_error(s, errp, -EIO, "sqlite: %s", sql);
    }
    return 0;
}

static int
migrate(struct store_sqlite *s, char **errp)
{
    int64_t v, n_tables;
    int error = query_int(s, "PRAGMA user_version", &v, errp);
    if (error) {
        return error;
    }
    if (v > STORE_SQLITE_SCHEMA) {
        return db_error(NULL, errp, -EPROTO, "database schema version "
                        "%" PRId64 " is newer than this vfab-policyd "
                        "(knows up to %d); refusing to touch it", v,
                        STORE_SQLITE_SCHEMA);
    }
    if (v == 0) {
        error = query_int(s, "SELECT count(*) FROM sqlite_master", &n_tables,
                          errp);
        if (error) {
            return error;
        }
        if (n_tables) {
            return db_error(NULL, errp, -EPROTO, "the database holds tables "
                            "but no vfab schema version: not a "
                            "vfab-policyd database");
        }
    }
    for (int64_t next = v + 1; next <= STORE_SQLITE_SCHEMA; next++) {
        char set[64];
        snprintf(set, sizeof set, "PRAGMA user_version = %" PRId64, next);
        if ((error = exec(s, "BEGIN IMMEDIATE", errp))) {
            return error;
        }
        if ((error = exec(s, migrations[next - 1], errp))
            || (error = exec(s, set, errp))
            || (error = exec(s, "COMMIT", errp))) {
            exec(s, "ROLLBACK", NULL);
            return error;
        }
    }
    s->schema = STORE_SQLITE_SCHEMA;
    return 0;
}

static int
prepare(struct store_sqlite *s, sqlite3_stmt **st, const char *sql,
        char **errp)
{
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
                           NULL) != SQLITE_OK) {
        return db_error(s, errp, -EIO, "sqlite: preparing '%s'", sql);
    }
    return 0;
}

static void store_sqlite_close(struct store *);

static struct store *
store_sqlite_open(const char *path, char **errp)
{
    struct store_sqlite *s = vf_xcalloc(1, sizeof *s);
    bool memory = !strcmp(path, ":memory:");
    int error;
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                            | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        error = db_error(s, errp, -EIO, "sqlite: cannot open '%s'", path);
        goto err;
    }
    sqlite3_busy_timeout(s->db, SQLITE_BUSY_TIMEOUT_MS);
    /* Exclusive before WAL: then SQLite keeps the WAL index in heap
     * memory (no -shm file) and holds the lock from the first access. */
    if ((error = exec(s, "PRAGMA locking_mode = EXCLUSIVE", errp))
        || (error = exec(s, memory ? "PRAGMA journal_mode = MEMORY"
                                   : "PRAGMA journal_mode = WAL",
                         errp))
        || (error = exec(s, "PRAGMA synchronous = FULL", errp))
        || (error = migrate(s, errp))
        || (error = prepare(s, &s->get_version,
                            "SELECT value FROM meta WHERE key = 'version'",
                            errp))
        || (error = prepare(s, &s->set_version,
                            "UPDATE meta SET value = ?1 WHERE key = "
                            "'version'", errp))
        || (error = prepare(s, &s->put,
                            "INSERT OR REPLACE INTO objects (kind, name, doc)"
                            " VALUES (?1, ?2, ?3)", errp))
        || (error = prepare(s, &s->del,
                            "DELETE FROM objects WHERE kind = ?1 AND "
                            "name = ?2", errp))
        || (error = prepare(s, &s->add_change,
                            "INSERT INTO changes (version, record, time_ms) "
                            "VALUES (?1, ?2, ?3)", errp))
        || (error = prepare(s, &s->objects,
                            "SELECT kind, name, doc FROM objects ORDER BY "
                            "kind, name", errp))
        || (error = prepare(s, &s->changes,
                            "SELECT version, time_ms, record FROM changes "
                            "WHERE version > ?1 ORDER BY version", errp))
        || (error = prepare(s, &s->trim,
                            "DELETE FROM changes WHERE version < ?1",
                            errp))) {
        goto err;
    }
    return &s->up;

err:
    store_sqlite_close(&s->up);
    errno = -error;
    return NULL;
}

static void
store_sqlite_close(struct store *store)
{
    struct store_sqlite *s = store_sqlite_cast(store);
    sqlite3_stmt *stmts[] = {s->get_version, s->set_version, s->put, s->del,
                             s->add_change, s->objects, s->changes, s->trim};
    for (size_t i = 0; i < VF_ARRAY_SIZE(stmts); i++) {
        sqlite3_finalize(stmts[i]);
    }
    sqlite3_close(s->db);
    free(s);
}

static int
store_sqlite_load_objects(struct store *store, store_object_cb *cb, void *aux,
                          char **errp)
{
    struct store_sqlite *s = store_sqlite_cast(store);
    sqlite3_stmt *st = s->objects;
    int rc, error = 0;
    while (!error && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        error = cb(aux, sqlite3_column_int(st, 0),
                   (const char *) sqlite3_column_text(st, 1),
                   (const char *) sqlite3_column_text(st, 2), errp);
    }
    if (!error && rc != SQLITE_DONE) {
        error = db_error(s, errp, -EIO, "sqlite: reading objects");
    }
    sqlite3_reset(st);
    return error;
}

static int
store_sqlite_load_changes(struct store *store, uint64_t after,
                          store_change_cb *cb, void *aux, char **errp)
{
    struct store_sqlite *s = store_sqlite_cast(store);
    sqlite3_stmt *st = s->changes;
    int rc, error = 0;
    sqlite3_bind_int64(st, 1, (sqlite3_int64) after);
    while (!error && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        error = cb(aux, (uint64_t) sqlite3_column_int64(st, 0),
                   sqlite3_column_int64(st, 1),
                   (const char *) sqlite3_column_text(st, 2), errp);
    }
    if (!error && rc != SQLITE_DONE) {
        error = db_error(s, errp, -EIO, "sqlite: reading changes");
    }
    sqlite3_reset(st);
    return error;
}

static int
store_sqlite_get_version(struct store *store, uint64_t *version, char **errp)
{
    struct store_sqlite *s = store_sqlite_cast(store);
    int rc = sqlite3_step(s->get_version);
    if (rc == SQLITE_ROW) {
        *version = (uint64_t) sqlite3_column_int64(s->get_version, 0);
    }
    sqlite3_reset(s->get_version);
    return rc == SQLITE_ROW
               ? 0
               : db_error(s, errp, -EIO, "sqlite: reading the version");
}

static int
step_done(struct store_sqlite *s, sqlite3_stmt *st, char **errp,
          const char *what)
{
    int rc = sqlite3_step(st);
    int error = rc == SQLITE_DONE
                    ? 0
                    : db_error(s, errp, -EIO, "sqlite: %s", what);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return error;
}

static int
commit_writes(struct store_sqlite *s, const struct store_write *writes,
              size_t n, char **errp)
{
    for (size_t i = 0; i < n; i++) {
        const struct store_write *w = &writes[i];
        sqlite3_stmt *st = w->doc ? s->put : s->del;
        sqlite3_bind_int(st, 1, w->kind);
        sqlite3_bind_text(st, 2, w->name, -1, SQLITE_STATIC);
        if (w->doc) {
            sqlite3_bind_text(st, 3, w->doc, -1, SQLITE_STATIC);
        }
        int error = step_done(s, st, errp, w->doc ? "writing an object"
                                                  : "deleting an object");
        if (error) {
            return error;
        }
    }
    return 0;
}

static int
store_sqlite_commit(struct store *store, uint64_t version,
                    const struct store_write *writes, size_t n_writes,
                    const char *record, int64_t time_ms, char **errp)
{
    struct store_sqlite *s = store_sqlite_cast(store);
    uint64_t cur;
    int error = exec(s, "BEGIN IMMEDIATE", errp);
    if (error) {
        return error;
    }
    if ((error = store_sqlite_get_version(store, &cur, errp))) {
        goto rollback;
    }
    if (version <= cur) {
        error = db_error(NULL, errp, -ESTALE, "store is at version %" PRIu64
                         ", commit of version %" PRIu64 " refused", cur,
                         version);
        goto rollback;
    }
    if ((error = commit_writes(s, writes, n_writes, errp))) {
        goto rollback;
    }
    sqlite3_bind_int64(s->add_change, 1, (sqlite3_int64) version);
    sqlite3_bind_text(s->add_change, 2, record ? record : "{}", -1,
                      SQLITE_STATIC);
    sqlite3_bind_int64(s->add_change, 3, time_ms);
    if ((error = step_done(s, s->add_change, errp, "adding a change"))) {
        goto rollback;
    }
    sqlite3_bind_int64(s->set_version, 1, (sqlite3_int64) version);
    if ((error = step_done(s, s->set_version, errp, "setting the version"))
        || (error = exec(s, "COMMIT", errp))) {
        goto rollback;
    }
    return 0;

rollback:
    exec(s, "ROLLBACK", NULL);
    return error;
}

static int
store_sqlite_trim_changes(struct store *store, uint64_t first_kept,
                          char **errp)
{
    struct store_sqlite *s = store_sqlite_cast(store);
    sqlite3_bind_int64(s->trim, 1, (sqlite3_int64) first_kept);
    return step_done(s, s->trim, errp, "trimming changes");
}

static int
store_sqlite_schema_version(struct store *store)
{
    return store_sqlite_cast(store)->schema;
}

const struct store_class store_sqlite_class = {
    .name = "sqlite",
    .prefix = "sqlite:",
    .open = store_sqlite_open,
    .close = store_sqlite_close,
    .load_objects = store_sqlite_load_objects,
    .load_changes = store_sqlite_load_changes,
    .get_version = store_sqlite_get_version,
    .commit = store_sqlite_commit,
    .trim_changes = store_sqlite_trim_changes,
    .schema_version = store_sqlite_schema_version,
};
