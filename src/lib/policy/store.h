/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_POLICY_STORE_H
#define VFAB_POLICY_STORE_H 1

/* Where vfab-policyd keeps the logical model.
 *
 * The store holds three things, all keyed by what the API layer gives it
 * and none of them interpreted here:
 *   - objects: (kind, name) -> canonical JSON document;
 *   - the change log: version -> change record (JSON) with its time;
 *   - the model version (the version of the last commit).
 * A write is one store_commit(): every object put or deleted, one change
 * record and the new version, atomically (all or nothing).  Versions of
 * successive commits strictly increase; a commit whose version is not
 * above the stored one fails with -ESTALE (another writer got there).
 *
 * Backends fill in a struct store_class (store-provider.h): "sqlite" (one
 * file, zero setup; the default) now, a distributed one (etcd) later,
 * without any change to the API code.  store_open() picks the backend
 * from the location: "sqlite:PATH", or a bare PATH (SQLite), or
 * ":memory:" (SQLite in memory, for tests and the fuzzer).
 *
 * Errors: 0 or a negative errno, with a message through 'errp' (caller
 * frees).  Not thread-safe: one thread uses a store. */

#include <stddef.h>
#include <stdint.h>

struct store;

/* One object write of a commit: 'doc' NULL deletes (kind, name). */
struct store_write {
    int kind;                   /* Load order: lower kinds load first. */
    const char *name;
    const char *doc;
};

/* Opens (creating if needed, migrating to the current schema) the store
 * at 'location'.  Returns the store or NULL with a message in 'errp'. */
struct store *store_open(const char *location, char **errp);

/* Closes 'store'.  NULL is a no-op. */
void store_close(struct store *store);

/* The backend's name ("sqlite"). */
const char *store_backend(const struct store *store);

/* Calls 'cb' for every object, ordered by kind then name.  'cb' returns 0
 * to continue or a negative errno to stop (returned, with its own message
 * in 'errp'). */
typedef int store_object_cb(void *aux, int kind, const char *name,
                            const char *doc, char **errp);
int store_load_objects(struct store *store, store_object_cb *cb, void *aux,
                       char **errp);

/* Calls 'cb' for every change record with a version above 'after', in
 * version order. */
typedef int store_change_cb(void *aux, uint64_t version, int64_t time_ms,
                            const char *record, char **errp);
int store_load_changes(struct store *store, uint64_t after,
                       store_change_cb *cb, void *aux, char **errp);

/* The version of the last commit (0 for a new store). */
int store_get_version(struct store *store, uint64_t *version, char **errp);

/* Applies 'writes', appends change 'record' at 'version' (with 'time_ms'
 * wall-clock milliseconds) and sets the store's version, atomically. */
int store_commit(struct store *store, uint64_t version,
                 const struct store_write *writes, size_t n_writes,
                 const char *record, int64_t time_ms, char **errp);

/* Deletes change records with versions below 'first_kept'. */
int store_trim_changes(struct store *store, uint64_t first_kept,
                       char **errp);

/* The schema version of the open store (after migrations). */
int store_schema_version(struct store *store);

#endif /* policy/store.h */
