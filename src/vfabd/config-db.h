/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_VFABD_CONFIG_DB_H
#define VFAB_VFABD_CONFIG_DB_H 1

/* The persistent switch configuration of vfabd (an SQLite file).
 *
 * What it stores: bridges, ports (kind, port number, options as a JSON
 * object), meters (id, unit, rate, burst, per bridge) and the operator's
 * flow rules (their text, per bridge, in order).  What it does not store: anything learned or counted at run
 * time (MAC tables, statistics): those are rebuilt.
 *
 * How it is used: the switch layer (switch-config.c) wraps every change in
 * one transaction --
 *
 *     config_db_begin(db, &err);
 *     config_db_add_port(db, &rec, &err);          ... more changes ...
 *     (apply the change to the datapath; on failure config_db_rollback())
 *     config_db_commit(db, &err);
 *
 * -- so that a command is stored wholly or not at all, and at start-up it
 * replays everything with config_db_load().
 *
 * Durability: WAL journal with synchronous=FULL, so a committed change
 * survives kill -9 and power loss, and a crash at any point leaves either
 * the previous or the new state.  The schema is versioned with PRAGMA
 * user_version and migrated forward at open, one transaction per version.
 * The file is locked (flock) for the lifetime of the handle, so two
 * daemons can never share one configuration.
 *
 * Errors: 0 or -errno, with '*errp' a one-line message (caller frees):
 *   -EEXIST  a record with that name exists;
 *   -ENOENT  no such record (or its bridge does not exist);
 *   -EBUSY   the file is in use by another process;
 *   -EIO     SQLite failed (disk, corruption, injected failure);
 *   -ENOTSUP the file's schema is newer than this program;
 *   -EINVAL  a change outside a transaction, or a bad record.
 *
 * Thread safety: one handle belongs to the control thread. */

#include <stdbool.h>
#include <stdint.h>

struct config_db;

/* The schema version this program writes. */
#define CONFIG_DB_SCHEMA_VERSION 3

struct config_db_bridge {
    const char *name;
    const char *options;        /* JSON object text ("{}" if none). */
};

struct config_db_port {
    const char *bridge;
    const char *name;           /* Unique among all ports of the daemon. */
    const char *kind;           /* "tap", "afpacket", ... */
    uint32_t port_no;           /* Unique in its bridge, >= 1. */
    const char *options;        /* JSON object text. */
};

struct config_db_flow {
    const char *bridge;
    uint64_t seq;               /* Order within the bridge, >= 1. */
    const char *rule;           /* The operator's text. */
};

struct config_db_meter {
    const char *bridge;
    uint32_t id;                /* Unique in its bridge, 1..65535. */
    const char *unit;           /* "kbps" or "pktps". */
    uint32_t rate;              /* >= 1. */
    uint32_t burst;             /* 0: the default. */
};

/* Opens (creating it and its directory, 0700, if missing) the database at
 * 'path', locks it, checks it (PRAGMA quick_check) and migrates its schema
 * to CONFIG_DB_SCHEMA_VERSION.  Returns 0 and '*dbp' or -errno and
 * '*errp'. */
int config_db_open(const char *path, struct config_db **dbp, char **errp);

/* Closes 'db' (rolling back an open transaction).  NULL is a no-op. */
void config_db_close(struct config_db *db);

/* The schema version of the open file (CONFIG_DB_SCHEMA_VERSION). */
int config_db_schema_version(struct config_db *db);

const char *config_db_path(const struct config_db *db);

/* Transactions.  Changes are only allowed between begin and commit or
 * rollback; transactions do not nest.  On commit failure the transaction
 * is rolled back and nothing is stored. */
int config_db_begin(struct config_db *db, char **errp);
int config_db_commit(struct config_db *db, char **errp);
void config_db_rollback(struct config_db *db);
bool config_db_in_transaction(const struct config_db *db);

/* Changes (inside a transaction). */
int config_db_add_bridge(struct config_db *db,
                         const struct config_db_bridge *br, char **errp);
/* Removes the bridge and, with it, its ports and flows. */
int config_db_remove_bridge(struct config_db *db, const char *name,
                            char **errp);
int config_db_add_port(struct config_db *db, const struct config_db_port *p,
                       char **errp);
int config_db_remove_port(struct config_db *db, const char *name,
                          char **errp);
int config_db_add_flow(struct config_db *db, const struct config_db_flow *f,
                       char **errp);
int config_db_remove_flow(struct config_db *db, const char *bridge,
                          uint64_t seq, char **errp);
int config_db_add_meter(struct config_db *db, const struct config_db_meter *m,
                        char **errp);
int config_db_remove_meter(struct config_db *db, const char *bridge,
                           uint32_t id, char **errp);

/* Replays the stored configuration, from one consistent snapshot:
 * every bridge (in creation order), then every port (by bridge, then port
 * number), then every meter (by bridge, then id), then every flow (by
 * bridge, then seq): meters before the flows that name them.  A callback returning
 * nonzero (-errno with '*errp') stops the load, which returns that value.
 * The records passed are valid only during the callback. */
struct config_db_loader {
    int (*bridge)(void *aux, const struct config_db_bridge *br, char **errp);
    int (*port)(void *aux, const struct config_db_port *port, char **errp);
    int (*flow)(void *aux, const struct config_db_flow *flow, char **errp);
    int (*meter)(void *aux, const struct config_db_meter *m, char **errp);
};
int config_db_load(struct config_db *db, const struct config_db_loader *cb,
                   void *aux, char **errp);

/* Test hook: the 'n'th next SQL step of a change or commit fails with
 * -EIO ("injected failure"); 0 disarms.  Lets tests check that a failure
 * in the middle of a command leaves nothing half-applied. */
void config_db_fail_after(struct config_db *db, int n);

#endif /* config-db.h */
