/* SPDX-License-Identifier: Apache-2.0 */
/* The SQLite store of vfabd's switch configuration (contract in
 * config-db.h).
 *
 * Schema (current version 3):
 *
 *     bridge (name TEXT UNIQUE, options TEXT)            rowid = creation
 *     port   (bridge -> bridge.name ON DELETE CASCADE,
 *             name TEXT UNIQUE, port_no, kind, options,
 *             UNIQUE (bridge, port_no))
 *     flow   (bridge -> bridge.name ON DELETE CASCADE,
 *             seq, rule, PRIMARY KEY (bridge, seq))
 *     meter  (bridge -> bridge.name ON DELETE CASCADE,
 *             id 1..65535, unit 'kbps'|'pktps', rate >= 1, burst >= 0
 *             (0: the default), PRIMARY KEY (bridge, id))
 *
 * Migrations: 'migrations[v - 1]' turns version v - 1 into version v.
 * config_db_open() applies each missing one in its own BEGIN IMMEDIATE
 * transaction together with "PRAGMA user_version = v" (user_version is in
 * the database header, so it commits or rolls back with the rest): a
 * crash during a migration leaves the file at the previous version.  To
 * change the schema, append a migration and bump
 * CONFIG_DB_SCHEMA_VERSION; never edit a published one.
 *
 *   v1: bridge, port, flow.
 *   v2: bridge.options (bridge-level settings for the bridge layer).
 *   v3: meter (token-bucket meters that flows name with meter:N).
 *
 * Locking: SQLite's own locks are POSIX record locks; the file is also
 * held with flock() on a separate descriptor opened before SQLite opens
 * the file and closed after SQLite closes it.  (On Linux flock and POSIX
 * locks do not interact; closing a descriptor drops the process's POSIX
 * locks on the file, which is why ours stays open until the end.)
 *
 * Every SQL step of a change goes through step(), which is where the
 * failure-injection hook lives. */
#include "config-db.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"

VF_LOG_MODULE(config_db);

struct config_db {
    sqlite3 *sql;
    char *path;
    int lock_fd;
    bool in_txn;
    int fail_countdown;         /* Test hook: 0 = off. */
};

static const char *const migrations[] = {
    /* v1 */
    "CREATE TABLE bridge ("
    "  name TEXT NOT NULL UNIQUE"
    "       CHECK (length(name) BETWEEN 1 AND 15));"
    "CREATE TABLE port ("
    "  bridge TEXT NOT NULL REFERENCES bridge(name) ON DELETE CASCADE,"
    "  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 15),"
    "  port_no INTEGER NOT NULL CHECK (port_no >= 1),"
    "  kind TEXT NOT NULL,"
    "  options TEXT NOT NULL DEFAULT '{}',"
    "  UNIQUE (bridge, port_no));"
    "CREATE TABLE flow ("
    "  bridge TEXT NOT NULL REFERENCES bridge(name) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL CHECK (seq >= 1),"
    "  rule TEXT NOT NULL,"
    "  PRIMARY KEY (bridge, seq));",
    /* v2 */
    "ALTER TABLE bridge ADD COLUMN options TEXT NOT NULL DEFAULT '{}';",
    /* v3 */
    "CREATE TABLE meter ("
    "  bridge TEXT NOT NULL REFERENCES bridge(name) ON DELETE CASCADE,"
    "  id INTEGER NOT NULL CHECK (id BETWEEN 1 AND 65535),"
    "  unit TEXT NOT NULL CHECK (unit IN ('kbps', 'pktps')),"
    "  rate INTEGER NOT NULL CHECK (rate >= 1),"
    "  burst INTEGER NOT NULL DEFAULT 0 CHECK (burst >= 0),"
    "  PRIMARY KEY (bridge, id));",
};

_Static_assert(sizeof migrations / sizeof migrations[0]
                   == CONFIG_DB_SCHEMA_VERSION,
               "one migration per schema version");

/* Maps an SQLite result to -errno and sets '*errp'. */
static int
sql_error(struct config_db *db, int rc, const char *what, char **errp)
{
    int err;
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
        err = (rc == SQLITE_CONSTRAINT_FOREIGNKEY) ? -ENOENT
              : (rc == SQLITE_CONSTRAINT_UNIQUE
                 || rc == SQLITE_CONSTRAINT_PRIMARYKEY) ? -EEXIST
                                                         : -EINVAL;
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        err = -EBUSY;
        break;
    default:
        err = -EIO;
        break;
    }
    if (errp) {
        *errp = vf_xasprintf("configuration database %s: %s: %s", db->path,
                             what, db->sql ? sqlite3_errmsg(db->sql)
                                           : sqlite3_errstr(rc));
    }
    return err;
}

/* Runs SQL text without results (pragmas, migrations, transactions). */
static int
exec(struct config_db *db, const char *sql, const char *what, char **errp)
{
    int rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sql_error(db, rc, what, errp);
}

/* One step of a change statement, with the failure-injection hook. */
static int
step(struct config_db *db, sqlite3_stmt *stmt, const char *what,
     char **errp)
{
    if (db->fail_countdown > 0 && --db->fail_countdown == 0) {
        if (errp) {
            *errp = vf_xasprintf("configuration database %s: %s: injected "
                                 "failure", db->path, what);
        }
        return -EIO;
    }
    int rc = sqlite3_step(stmt);
    return rc == SQLITE_DONE || rc == SQLITE_ROW
               ? 0
               : sql_error(db, sqlite3_extended_errcode(db->sql), what, errp);
}

/* Prepares 'sql' and binds text/int64 arguments described by 'types'
 * ('t' text, 'i' int64). */
static int
prepare(struct config_db *db, const char *sql, sqlite3_stmt **stmtp,
        const char *what, char **errp, const char *types, ...)
{
    int rc = sqlite3_prepare_v2(db->sql, sql, -1, stmtp, NULL);
    if (rc != SQLITE_OK) {
        return sql_error(db, rc, what, errp);
    }
    va_list args;
    va_start(args, types);
    for (int i = 0; types[i]; i++) {
        if (types[i] == 't') {
            const char *s = va_arg(args, const char *);
            rc = sqlite3_bind_text(*stmtp, i + 1, s, -1, SQLITE_STATIC);
        } else {
            int64_t v = va_arg(args, int64_t);
            rc = sqlite3_bind_int64(*stmtp, i + 1, v);
        }
        if (rc != SQLITE_OK) {
            break;
        }
    }
    va_end(args);
    if (rc != SQLITE_OK) {
        rc = sql_error(db, rc, what, errp);
        sqlite3_finalize(*stmtp);
        *stmtp = NULL;
        return rc;
    }
    return 0;
}

/* Prepares, binds, steps once and checks how many rows changed
 * ('want_change': 0 rows is -ENOENT). */
static int
change(struct config_db *db, const char *sql, const char *what,
       bool want_change, char **errp, const char *types, int64_t i0,
       const char *t0, const char *t1, const char *t2, const char *t3)
{
    if (!db->in_txn) {
        *errp = vf_xasprintf("configuration database %s: %s outside a "
                             "transaction", db->path, what);
        return -EINVAL;
    }
    sqlite3_stmt *stmt;
    const char *texts[] = {t0, t1, t2, t3};
    int rc = sqlite3_prepare_v2(db->sql, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        return sql_error(db, rc, what, errp);
    }
    int ti = 0;
    for (int i = 0; types[i] && rc == SQLITE_OK; i++) {
        rc = types[i] == 'i'
                 ? sqlite3_bind_int64(stmt, i + 1, i0)
                 : sqlite3_bind_text(stmt, i + 1, texts[ti++], -1,
                                     SQLITE_STATIC);
    }
    if (rc != SQLITE_OK) {
        rc = sql_error(db, rc, what, errp);
    } else {
        rc = step(db, stmt, what, errp);
    }
    if (!rc && want_change && sqlite3_changes(db->sql) == 0) {
        *errp = vf_xasprintf("configuration database %s: %s: no such "
                             "record", db->path, what);
        rc = -ENOENT;
    }
    sqlite3_finalize(stmt);
    return rc;
}

static int
int_pragma(struct config_db *db, const char *sql, int *valuep, char **errp)
{
    sqlite3_stmt *stmt;
    int rc = prepare(db, sql, &stmt, sql, errp, "");
    if (rc) {
        return rc;
    }
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *valuep = sqlite3_column_int(stmt, 0);
        rc = 0;
    } else {
        rc = sql_error(db, rc, sql, errp);
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* Runs a pragma returning one text row and checks it is 'expect'. */
static int
text_pragma(struct config_db *db, const char *sql, const char *expect,
            char **errp)
{
    sqlite3_stmt *stmt;
    int rc = prepare(db, sql, &stmt, sql, errp, "");
    if (rc) {
        return rc;
    }
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        const char *v = (const char *) sqlite3_column_text(stmt, 0);
        if (v && !strcasecmp(v, expect)) {
            rc = 0;
        } else {
            *errp = vf_xasprintf("configuration database %s: %s: %s",
                                 db->path, sql, v ? v : "(null)");
            rc = -EIO;
        }
    } else {
        rc = sql_error(db, rc, sql, errp);
    }
    sqlite3_finalize(stmt);
    return rc;
}

static int
migrate(struct config_db *db, char **errp)
{
    int version;
    int rc = int_pragma(db, "PRAGMA user_version", &version, errp);
    if (rc) {
        return rc;
    }
    if (version > CONFIG_DB_SCHEMA_VERSION || version < 0) {
        *errp = vf_xasprintf("configuration database %s has schema version "
                             "%d; this vfabd knows versions up to %d",
                             db->path, version, CONFIG_DB_SCHEMA_VERSION);
        return -ENOTSUP;
    }
    for (int v = version + 1; v <= CONFIG_DB_SCHEMA_VERSION; v++) {
        char *sql = vf_xasprintf("BEGIN IMMEDIATE; %s PRAGMA user_version = "
                                 "%d; COMMIT;", migrations[v - 1], v);
        char *what = vf_xasprintf("migration to schema version %d", v);
        rc = exec(db, sql, what, errp);
        free(sql);
        free(what);
        if (rc) {
            exec(db, "ROLLBACK", "rollback", NULL);
            return rc;
        }
        VF_LOG_INFO(config_db, "%s: schema migrated to version %d", db->path,
                    v);
    }
    return 0;
}

static int
make_parent_dir(const char *path, char **errp)
{
    char *dir = vf_xstrdup(path);
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0700) && errno != EEXIST) {
            rc = -errno;
            *errp = vf_xasprintf("cannot create directory %s: %s", dir,
                                 strerror(errno));
        }
    }
    free(dir);
    return rc;
}

static int
lock_file(struct config_db *db, char **errp)
{
    int fd = open(db->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        int err = errno;
        *errp = vf_xasprintf("cannot open configuration database %s: %s",
                             db->path, strerror(err));
        return -err;
    }
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        int err = errno;
        close(fd);
        if (err == EWOULDBLOCK) {
            *errp = vf_xasprintf("configuration database %s is in use by "
                                 "another process", db->path);
            return -EBUSY;
        }
        *errp = vf_xasprintf("cannot lock %s: %s", db->path, strerror(err));
        return -err;
    }
    db->lock_fd = fd;
    return 0;
}

int
config_db_open(const char *path, struct config_db **dbp, char **errp)
{
    struct config_db *db = vf_xcalloc(1, sizeof *db);
    db->path = vf_xstrdup(path);
    db->lock_fd = -1;
    *dbp = NULL;

    int rc = make_parent_dir(path, errp);
    if (!rc) {
        rc = lock_file(db, errp);
    }
    if (rc) {
        goto err;
    }
    int src = sqlite3_open_v2(path, &db->sql,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                                  | SQLITE_OPEN_NOMUTEX,
                              NULL);
    if (src != SQLITE_OK) {
        rc = sql_error(db, src, "open", errp);
        goto err;
    }
    sqlite3_extended_result_codes(db->sql, 1);
    sqlite3_busy_timeout(db->sql, 2000);
    rc = text_pragma(db, "PRAGMA journal_mode = WAL", "wal", errp);
    if (!rc) {
        rc = exec(db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                  "settings", errp);
    }
    if (!rc) {
        rc = text_pragma(db, "PRAGMA quick_check", "ok", errp);
    }
    if (!rc) {
        rc = migrate(db, errp);
    }
    if (rc) {
        goto err;
    }
    *dbp = db;
    return 0;

err:
    config_db_close(db);
    return rc;
}

void
config_db_close(struct config_db *db)
{
    if (!db) {
        return;
    }
    if (db->in_txn) {
        config_db_rollback(db);
    }
    if (db->sql) {
        sqlite3_close_v2(db->sql);
    }
    if (db->lock_fd >= 0) {
        close(db->lock_fd);     /* After SQLite: see the theory. */
    }
    free(db->path);
    free(db);
}

int
config_db_schema_version(struct config_db *db)
{
    int version = -1;
    char *err = NULL;
    if (int_pragma(db, "PRAGMA user_version", &version, &err)) {
        free(err);
    }
    return version;
}

const char *
config_db_path(const struct config_db *db)
{
    return db->path;
}

int
config_db_begin(struct config_db *db, char **errp)
{
    if (db->in_txn) {
        *errp = vf_xasprintf("configuration database %s: transaction "
                             "already open", db->path);
        return -EINVAL;
    }
    int rc = exec(db, "BEGIN IMMEDIATE", "begin", errp);
    if (!rc) {
        db->in_txn = true;
    }
    return rc;
}

int
config_db_commit(struct config_db *db, char **errp)
{
    if (!db->in_txn) {
        *errp = vf_xasprintf("configuration database %s: commit without a "
                             "transaction", db->path);
        return -EINVAL;
    }
    sqlite3_stmt *stmt;
    int rc = prepare(db, "COMMIT", &stmt, "commit", errp, "");
    if (!rc) {
        rc = step(db, stmt, "commit", errp);
        sqlite3_finalize(stmt);
    }
    if (rc) {
        config_db_rollback(db);
        return rc;
    }
    db->in_txn = false;
    return 0;
}

void
config_db_rollback(struct config_db *db)
{
    if (db->in_txn && !sqlite3_get_autocommit(db->sql)) {
        char *err = NULL;
        if (exec(db, "ROLLBACK", "rollback", &err)) {
            VF_LOG_ERR(config_db, "%s", err);
            free(err);
        }
    }
    db->in_txn = false;
}

bool
config_db_in_transaction(const struct config_db *db)
{
    return db->in_txn;
}

int
config_db_add_bridge(struct config_db *db, const struct config_db_bridge *br,
                     char **errp)
{
    return change(db, "INSERT INTO bridge (name, options) VALUES (?, ?)",
                  "add bridge", false, errp, "tt", 0, br->name,
                  br->options ? br->options : "{}", NULL, NULL);
}

int
config_db_remove_bridge(struct config_db *db, const char *name, char **errp)
{
    return change(db, "DELETE FROM bridge WHERE name = ?", "remove bridge",
                  true, errp, "t", 0, name, NULL, NULL, NULL);
}

int
config_db_add_port(struct config_db *db, const struct config_db_port *p,
                   char **errp)
{
    if (p->port_no < 1) {
        *errp = vf_xasprintf("configuration database %s: add port: port "
                             "number must be >= 1", db->path);
        return -EINVAL;
    }
    return change(db,
                  "INSERT INTO port (bridge, name, kind, options, port_no) "
                  "VALUES (?, ?, ?, ?, ?)",
                  "add port", false, errp, "tttti", p->port_no, p->bridge,
                  p->name, p->kind, p->options ? p->options : "{}");
}

int
config_db_remove_port(struct config_db *db, const char *name, char **errp)
{
    return change(db, "DELETE FROM port WHERE name = ?", "remove port", true,
                  errp, "t", 0, name, NULL, NULL, NULL);
}

int
config_db_add_flow(struct config_db *db, const struct config_db_flow *f,
                   char **errp)
{
    if (f->seq < 1 || f->seq > INT64_MAX) {
        *errp = vf_xasprintf("configuration database %s: add flow: bad "
                             "sequence number", db->path);
        return -EINVAL;
    }
    return change(db, "INSERT INTO flow (bridge, rule, seq) VALUES (?, ?, ?)",
                  "add flow", false, errp, "tti", (int64_t) f->seq, f->bridge,
                  f->rule, NULL, NULL);
}

int
config_db_remove_flow(struct config_db *db, const char *bridge, uint64_t seq,
                      char **errp)
{
    if (seq > INT64_MAX) {
        *errp = vf_xasprintf("configuration database %s: remove flow: no "
                             "such record", db->path);
        return -ENOENT;
    }
    return change(db, "DELETE FROM flow WHERE bridge = ? AND seq = ?",
                  "remove flow", true, errp, "ti", (int64_t) seq, bridge,
                  NULL, NULL, NULL);
}

int
config_db_add_meter(struct config_db *db, const struct config_db_meter *m,
                     char **errp)
{
    /* change() binds one integer: rate and burst go as text and are cast
     * back, so the CHECK constraints see integers. */
    char rate[24], burst[24];
    snprintf(rate, sizeof rate, "%u", m->rate);
    snprintf(burst, sizeof burst, "%u", m->burst);
    return change(db,
                  "INSERT INTO meter (bridge, unit, rate, burst, id) "
                  "VALUES (?, ?, CAST(? AS INTEGER), CAST(? AS INTEGER), ?)",
                  "add meter", false, errp, "tttti", (int64_t) m->id,
                  m->bridge, m->unit, rate, burst);
}

int
config_db_remove_meter(struct config_db *db, const char *bridge,
                        uint32_t id, char **errp)
{
    return change(db, "DELETE FROM meter WHERE bridge = ? AND id = ?",
                  "remove meter", true, errp, "ti", (int64_t) id, bridge,
                  NULL, NULL, NULL);
}

static const char *
column_text(sqlite3_stmt *stmt, int i)
{
    const char *s = (const char *) sqlite3_column_text(stmt, i);
    return s ? s : "";
}

/* Runs 'sql' and calls 'row' for each result row. */
static int
load_rows(struct config_db *db, const char *sql, const char *what,
          int (*row)(sqlite3_stmt *, const struct config_db_loader *, void *,
                     char **),
          const struct config_db_loader *cb, void *aux, char **errp)
{
    sqlite3_stmt *stmt;
    int rc = prepare(db, sql, &stmt, what, errp, "");
    if (rc) {
        return rc;
    }
    for (;;) {
        int src = sqlite3_step(stmt);
        if (src == SQLITE_DONE) {
            break;
        } else if (src != SQLITE_ROW) {
            rc = sql_error(db, src, what, errp);
            break;
        }
        rc = row(stmt, cb, aux, errp);
        if (rc) {
            break;
        }
    }
    sqlite3_finalize(stmt);
    return rc;
}

static int
bridge_row(sqlite3_stmt *stmt, const struct config_db_loader *cb, void *aux,
           char **errp)
{
    struct config_db_bridge br = {
        .name = column_text(stmt, 0),
        .options = column_text(stmt, 1),
    };
    return cb->bridge ? cb->bridge(aux, &br, errp) : 0;
}

static int
port_row(sqlite3_stmt *stmt, const struct config_db_loader *cb, void *aux,
         char **errp)
{
    int64_t port_no = sqlite3_column_int64(stmt, 3);
    struct config_db_port p = {
        .bridge = column_text(stmt, 0),
        .name = column_text(stmt, 1),
        .kind = column_text(stmt, 2),
        .port_no = port_no > 0 && port_no <= UINT32_MAX ? (uint32_t) port_no
                                                        : 0,
        .options = column_text(stmt, 4),
    };
    return cb->port ? cb->port(aux, &p, errp) : 0;
}

static int
flow_row(sqlite3_stmt *stmt, const struct config_db_loader *cb, void *aux,
         char **errp)
{
    int64_t seq = sqlite3_column_int64(stmt, 1);
    struct config_db_flow f = {
        .bridge = column_text(stmt, 0),
        .seq = seq > 0 ? (uint64_t) seq : 0,
        .rule = column_text(stmt, 2),
    };
    return cb->flow ? cb->flow(aux, &f, errp) : 0;
}

static uint32_t
column_u32(sqlite3_stmt *stmt, int i)
{
    int64_t v = sqlite3_column_int64(stmt, i);
    return v >= 0 && v <= UINT32_MAX ? (uint32_t) v : 0;
}

static int
meter_row(sqlite3_stmt *stmt, const struct config_db_loader *cb, void *aux,
          char **errp)
{
    struct config_db_meter m = {
        .bridge = column_text(stmt, 0),
        .id = column_u32(stmt, 1),
        .unit = column_text(stmt, 2),
        .rate = column_u32(stmt, 3),
        .burst = column_u32(stmt, 4),
    };
    return cb->meter ? cb->meter(aux, &m, errp) : 0;
}

int
config_db_load(struct config_db *db, const struct config_db_loader *cb,
               void *aux, char **errp)
{
    if (db->in_txn) {
        *errp = vf_xasprintf("configuration database %s: load inside a "
                             "transaction", db->path);
        return -EINVAL;
    }
    /* One read transaction: one snapshot for the four queries. */
    int rc = exec(db, "BEGIN", "load", errp);
    if (rc) {
        return rc;
    }
    rc = load_rows(db, "SELECT name, options FROM bridge ORDER BY rowid",
                   "load bridges", bridge_row, cb, aux, errp);
    if (!rc) {
        rc = load_rows(db,
                       "SELECT p.bridge, p.name, p.kind, p.port_no, "
                       "p.options FROM port p JOIN bridge b "
                       "ON b.name = p.bridge ORDER BY b.rowid, p.port_no",
                       "load ports", port_row, cb, aux, errp);
    }
    if (!rc) {
        rc = load_rows(db,
                       "SELECT m.bridge, m.id, m.unit, m.rate, m.burst "
                       "FROM meter m JOIN bridge b ON b.name = m.bridge "
                       "ORDER BY b.rowid, m.id",
                       "load meters", meter_row, cb, aux, errp);
    }
    if (!rc) {
        rc = load_rows(db,
                       "SELECT f.bridge, f.seq, f.rule FROM flow f "
                       "JOIN bridge b ON b.name = f.bridge "
                       "ORDER BY b.rowid, f.seq",
                       "load flows", flow_row, cb, aux, errp);
    }
    exec(db, "COMMIT", "load", NULL);
    return rc;
}

void
config_db_fail_after(struct config_db *db, int n)
{
    db->fail_countdown = n > 0 ? n : 0;
}
