/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_POLICY_STORE_PROVIDER_H
#define VFAB_POLICY_STORE_PROVIDER_H 1

/* The interface a store backend implements (STYLE.md P2).
 *
 * A backend defines a 'const struct store_class' and embeds a 'struct
 * store' at the start of its own structure; store.c dispatches through
 * 'store->class'.  The contracts are those of store.h; each function here
 * is called only with arguments store.c has checked (non-NULL store,
 * writes with names).  Adding a backend: write store-<name>.c, add its
 * class to the table in store.c and a line to README.md. */

#include "policy/store.h"

struct store_class;

struct store {
    const struct store_class *class;  /* const */
};

struct store_class {
    const char *name;           /* "sqlite". */

    /* Location prefix that selects this backend ("sqlite:"), or NULL. */
    const char *prefix;

    /* Opens 'location' (the prefix removed).  Returns the backend's
     * store (with 'class' set) or NULL and a message. */
    struct store *(*open)(const char *location, char **errp);
    void (*close)(struct store *);

    int (*load_objects)(struct store *, store_object_cb *, void *aux,
                        char **errp);
    int (*load_changes)(struct store *, uint64_t after, store_change_cb *,
                        void *aux, char **errp);
    int (*get_version)(struct store *, uint64_t *version, char **errp);
    int (*commit)(struct store *, uint64_t version,
                  const struct store_write *, size_t n_writes,
                  const char *record, int64_t time_ms, char **errp);
    int (*trim_changes)(struct store *, uint64_t first_kept, char **errp);
    int (*schema_version)(struct store *);
};

extern const struct store_class store_sqlite_class;

#endif /* policy/store-provider.h */
