/* SPDX-License-Identifier: Apache-2.0 */
/* Store dispatch: picks a backend by location prefix and forwards every
 * call through its struct store_class (store-provider.h).  The contract
 * is in store.h. */
#include "policy/store.h"

#include <errno.h>
#include <string.h>

#include "policy/store-provider.h"
#include "util/buf.h"

static const struct store_class *const store_classes[] = {
    &store_sqlite_class,
};

struct store *
store_open(const char *location, char **errp)
{
    const struct store_class *class = &store_sqlite_class;
    for (size_t i = 0; i < VF_ARRAY_SIZE(store_classes); i++) {
        const char *prefix = store_classes[i]->prefix;
        if (prefix && !strncmp(location, prefix, strlen(prefix))) {
            class = store_classes[i];
            location += strlen(prefix);
            break;
        }
    }
    if (!*location) {
        if (errp) {
            *errp = vf_xstrdup("store location is empty");
        }
        errno = EINVAL;
        return NULL;
    }
    struct store *store = class->open(location, errp);
    if (store) {
        store->class = class;
    }
    return store;
}

void
store_close(struct store *store)
{
    if (store) {
        store->class->close(store);
    }
}

const char *
store_backend(const struct store *store)
{
    return store->class->name;
}

int
store_load_objects(struct store *store, store_object_cb *cb, void *aux,
                   char **errp)
{
    return store->class->load_objects(store, cb, aux, errp);
}

int
store_load_changes(struct store *store, uint64_t after, store_change_cb *cb,
                   void *aux, char **errp)
{
    return store->class->load_changes(store, after, cb, aux, errp);
}

int
store_get_version(struct store *store, uint64_t *version, char **errp)
{
    return store->class->get_version(store, version, errp);
}

int
store_commit(struct store *store, uint64_t version,
             const struct store_write *writes, size_t n_writes,
             const char *record, int64_t time_ms, char **errp)
{
    for (size_t i = 0; i < n_writes; i++) {
        if (!writes[i].name) {
            if (errp) {
                *errp = vf_xstrdup("store write without a name");
            }
            return -EINVAL;
        }
    }
    return store->class->commit(store, version, writes, n_writes, record,
                                time_ms, errp);
}

int
store_trim_changes(struct store *store, uint64_t first_kept, char **errp)
{
    return store->class->trim_changes(store, first_kept, errp);
}

int
store_schema_version(struct store *store)
{
    return store->class->schema_version(store);
}
