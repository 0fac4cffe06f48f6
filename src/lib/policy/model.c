/* SPDX-License-Identifier: Apache-2.0 */
/* The logical model: theory of operation.
 *
 * Place in the system: vfab-policyd's API layer (policy-api.c) parses every
 * write with model_parse(), commits the object's canonical document to the
 * store, then applies it with model_put()/model_delete().  Translations
 * (xlate.c) read the model through the lookups and model_policy_*().  The
 * agent never links this file's state; it sees only translations.
 *
 * Objects and references (arrows are pointers, counts guard deletes):
 *
 *     tenant ◄── network ◄── vnic ──► host
 *        ▲          ▲                         network.n_vnics, host.n_vnics
 *        └─ policy ─┘ (network selectors)     network.n_policy_refs
 *     tenant.networks[], tenant.policies[] (sorted in evaluation order)
 *
 * Identity: an object keeps its address for its whole life.  An update
 * (PATCH) parses a complete new detached object, then model_put() swaps
 * the new field values into the live object (swap_payload()), so nothing
 * that points at a network, host or tenant ever dangles.  Every index
 * entry of the object is removed before the swap and re-added after it
 * (unlink_obj()/link_obj()), so keys that changed (VNI, MAC, addresses,
 * host, policy order) are re-indexed without special cases.
 *
 * Indexes (model-hash.h, single-threaded):
 *   names[kind]     by name, one per kind;
 *   net_by_vni      by VNI (unique across the model);
 *   vnic_by_mac     by (network identity, MAC): unique per network;
 *   vnic_by_addr    by (network identity, IP): unique per network.
 * Networks are hashed by their address, which is stable (see Identity),
 * so changing a network's VNI does not re-key its VNICs.
 *
 * Validation is complete before any change: model_parse() reads every
 * field (refusing unknown ones), resolves references and checks every
 * uniqueness rule against the live model, excluding the object being
 * updated.  Its only output is a detached object or an error.
 *
 * Policy evaluation: a tenant's policies are kept sorted (priority desc,
 * deny first, name) so evaluation is one pass that stops at the first
 * match; tenants hold tens to hundreds of policies, and a translation
 * costs one pass over them.  Defaults: allow within a network, deny
 * across networks; tenants never see each other (translations resolve a
 * destination only inside the source's tenant). */
#include "policy/model.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/addr.h"
#include "util/buf.h"
#include "util/hash.h"

/* ---- Kinds. ---- */

static const char *const kind_names[MODEL_N_KINDS] = {
    [MODEL_TENANT] = "tenant",   [MODEL_NETWORK] = "network",
    [MODEL_HOST] = "host",       [MODEL_VNIC] = "vnic",
    [MODEL_POLICY] = "policy",
};

static const char *const kind_plurals[MODEL_N_KINDS] = {
    [MODEL_TENANT] = "tenants",   [MODEL_NETWORK] = "networks",
    [MODEL_HOST] = "hosts",       [MODEL_VNIC] = "vnics",
    [MODEL_POLICY] = "policies",
};

const char *
model_kind_name(enum model_kind kind)
{
    return kind < MODEL_N_KINDS ? kind_names[kind] : "?";
}

void
model_change_view(const json_t *rec, struct model_change_view *view)
{
    json_t *obj = json_object_get(rec, "object");
    json_t *prev = json_object_get(rec, "previous");
    view->kind = json_string_value(json_object_get(rec, "kind"));
    view->name = json_string_value(json_object_get(rec, "name"));
    view->object = json_is_object(obj) ? obj : NULL;
    view->previous = json_is_object(prev) ? prev : NULL;
}

const char *
model_kind_plural(enum model_kind kind)
{
    return kind < MODEL_N_KINDS ? kind_plurals[kind] : "?";
}

int
model_kind_from_plural(const char *s)
{
    for (int k = 0; k < MODEL_N_KINDS; k++) {
        if (!strcmp(s, kind_plurals[k])) {
            return k;
        }
    }
    return -1;
}

/* ---- Addresses. ---- */

int
model_addr_parse(const char *s, struct model_addr *a)
{
    struct model_addr tmp;
    memset(&tmp, 0, sizeof tmp);
    vf_be32 v4;
    if (!ipv4_parse(s, &v4)) {
        tmp.family = 4;
        memcpy(tmp.bytes, &v4, 4);
    } else if (!ipv6_parse(s, tmp.bytes)) {
        tmp.family = 6;
    } else {
        return -EINVAL;
    }
    *a = tmp;
    return 0;
}

char *
model_addr_format(const struct model_addr *a, char *out)
{
    if (a->family == 4) {
        vf_be32 v4;
        memcpy(&v4, a->bytes, 4);
        return ipv4_format(v4, out);
    }
    return ipv6_format(a->bytes, out);
}

bool
model_addr_equal(const struct model_addr *a, const struct model_addr *b)
{
    return a->family == b->family && !memcmp(a->bytes, b->bytes, 16);
}

static bool
bits_equal(const uint8_t *a, const uint8_t *b, unsigned int plen)
{
    unsigned int full = plen / 8, rest = plen % 8;
    if (memcmp(a, b, full)) {
        return false;
    }
    if (rest) {
        uint8_t mask = (uint8_t) (0xff00 >> rest);
        return (a[full] & mask) == (b[full] & mask);
    }
    return true;
}

bool
model_prefix_contains(const struct model_prefix *p,
                      const struct model_addr *a)
{
    return p->addr.family == a->family
           && bits_equal(p->addr.bytes, a->bytes, p->plen);
}

static bool
prefixes_overlap(const struct model_prefix *a, const struct model_prefix *b)
{
    return a->addr.family == b->addr.family
           && bits_equal(a->addr.bytes, b->addr.bytes,
                         VF_MIN(a->plen, b->plen));
}

static uint32_t
addr_hash(const void *net, const struct model_addr *a)
{
    uint32_t h = vf_hash_u64((uintptr_t) net, a->family);
    return vf_hash_bytes(a->bytes, 16, h);
}

static uint32_t
mac_hash(const void *net, const struct eth_addr *mac)
{
    uint32_t h = vf_hash_u64((uintptr_t) net, 0x6d6163);
    return vf_hash_bytes(mac->ea, ETH_ADDR_LEN, h);
}

static uint32_t
name_hash(enum model_kind kind, const char *name)
{
    return vf_hash_string(name, kind);
}

/* ---- Errors. ---- */

static int VF_PRINTF(4, 5)
field_error(char **errp, int error, const char *field, const char *fmt, ...)
{
    if (errp) {
        struct vf_buf b = VF_BUF_INITIALIZER;
        va_list args;
        if (field) {
            vf_buf_printf(&b, "%s: ", field);
        }
        va_start(args, fmt);
        vf_buf_vprintf(&b, fmt, args);
        va_end(args);
        free(*errp);
        *errp = vf_buf_steal(&b);
    }
    return error;
}

char *
model_error_field(const char *msg)
{
    if (!msg) {
        return NULL;
    }
    const char *colon = strstr(msg, ": ");
    if (!colon || colon == msg) {
        return NULL;
    }
    for (const char *p = msg; p < colon; p++) {
        if (*p == ' ') {
            return NULL;
        }
    }
    size_t len = (size_t) (colon - msg);
    char *field = vf_xmalloc(len + 1);
    memcpy(field, msg, len);
    field[len] = '\0';
    return field;
}

/* ---- JSON field readers.  Each returns 0, or a negative errno with the
 * message naming the field. ---- */

bool
model_name_valid(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > MODEL_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                     || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.'))) {
            return false;
        }
    }
    return true;
}

/* Refuses keys of 'doc' not in 'allowed' (NULL-terminated). */
static int
check_keys(const json_t *doc, const char *const *allowed, const char *prefix,
           char **errp)
{
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) doc, key, value) {
        bool ok = false;
        for (size_t i = 0; allowed[i]; i++) {
            if (!strcmp(key, allowed[i])) {
                ok = true;
                break;
            }
        }
        if (!ok) {
            char safe[80];
            snprintf(safe, sizeof safe, "%s", key);
            for (char *p = safe; *p; p++) {
                if ((unsigned char) *p < 0x20 || *p == ':' || *p == ' ') {
                    *p = '?';
                }
            }
            return field_error(errp, -EINVAL, NULL, "%s%s: unknown field",
                               prefix, safe);
        }
    }
    (void) value;
    return 0;
}

/* Reads optional string 'key' into '*out' (borrowed from 'doc'; NULL if
 * absent or null). */
static int
get_str(const json_t *doc, const char *key, bool required, size_t max,
        const char **out, char **errp)
{
    json_t *v = json_object_get(doc, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        return required ? field_error(errp, -EINVAL, key, "is required")
                        : 0;
    }
    if (!json_is_string(v)) {
        return field_error(errp, -EINVAL, key, "must be a string");
    }
    if (json_string_length(v) > max) {
        return field_error(errp, -EINVAL, key, "longer than %zu bytes", max);
    }
    *out = json_string_value(v);
    return 0;
}

static int
get_name(const json_t *doc, const char *key, bool required, const char **out,
         char **errp)
{
    int error = get_str(doc, key, required, 255, out, errp);
    if (!error && *out && !model_name_valid(*out)) {
        return field_error(errp, -EINVAL, key,
                           "'%.64s' is not a valid name (1-63 of "
                           "A-Z a-z 0-9 _ . -, starting with a letter or "
                           "digit)", *out);
    }
    return error;
}

/* Reads optional integer 'key' in [min, max]; '*present' tells. */
static int
get_int(const json_t *doc, const char *key, long long min, long long max,
        long long *out, bool *present, char **errp)
{
    json_t *v = json_object_get(doc, key);
    *present = false;
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!json_is_integer(v)) {
        return field_error(errp, -EINVAL, key, "must be an integer");
    }
    long long x = json_integer_value(v);
    if (x < min || x > max) {
        return field_error(errp, -EINVAL, key, "%lld is out of range "
                           "%lld..%lld", x, min, max);
    }
    *out = x;
    *present = true;
    return 0;
}

/* Reads optional array 'key' of at most 'max' strings into a new array of
 * copies ('*n' elements).  'names' requires each to be a valid name. */
static int
get_str_array(const json_t *doc, const char *key, size_t max, bool names,
              char ***out, size_t *n, char **errp)
{
    json_t *v = json_object_get(doc, key);
    *out = NULL;
    *n = 0;
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!json_is_array(v)) {
        return field_error(errp, -EINVAL, key, "must be an array");
    }
    size_t len = json_array_size(v);
    if (len > max) {
        return field_error(errp, -EINVAL, key, "more than %zu elements",
                           max);
    }
    char **arr = vf_xcalloc(len ? len : 1, sizeof *arr);
    for (size_t i = 0; i < len; i++) {
        json_t *e = json_array_get(v, i);
        const char *s = json_string_value(e);
        int error = 0;
        if (!s) {
            error = field_error(errp, -EINVAL, NULL, "%s[%zu]: must be a "
                                "string", key, i);
        } else if (names && !model_name_valid(s)) {
            error = field_error(errp, -EINVAL, NULL, "%s[%zu]: '%.64s' is "
                                "not a valid name", key, i, s);
        }
        for (size_t j = 0; !error && j < i; j++) {
            if (!strcmp(arr[j], s)) {
                error = field_error(errp, -EINVAL, NULL, "%s[%zu]: '%s' "
                                    "appears twice", key, i, s);
            }
        }
        if (error) {
            for (size_t j = 0; j < i; j++) {
                free(arr[j]);
            }
            free(arr);
            return error;
        }
        arr[i] = vf_xstrdup(s);
    }
    *out = arr;
    *n = len;
    return 0;
}

static void
free_str_array(char **arr, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(arr[i]);
    }
    free(arr);
}

/* ---- Objects: allocation. ---- */

static size_t
kind_size(enum model_kind kind)
{
    switch (kind) {
    case MODEL_TENANT:
        return sizeof(struct model_tenant);
    case MODEL_NETWORK:
        return sizeof(struct model_network);
    case MODEL_HOST:
        return sizeof(struct model_host);
    case MODEL_VNIC:
        return sizeof(struct model_vnic);
    case MODEL_POLICY:
        return sizeof(struct model_policy);
    case MODEL_N_KINDS:
    default:
        break;
    }
    VF_VERIFY(false);
    return 0;
}

static struct model_obj *
obj_alloc(enum model_kind kind, const char *name, const char *description)
{
    struct model_obj *obj = vf_xcalloc(1, kind_size(kind));
    obj->kind = kind;
    obj->name = vf_xstrdup(name);
    obj->description = description ? vf_xstrdup(description) : NULL;
    return obj;
}

#define OBJ_AS(OBJ, TYPE) VF_CONTAINER_OF(OBJ, struct TYPE, obj)

void
model_obj_free(struct model_obj *obj)
{
    if (!obj) {
        return;
    }
    switch (obj->kind) {
    case MODEL_TENANT: {
        struct model_tenant *t = OBJ_AS(obj, model_tenant);
        free(t->networks);
        free(t->policies);
        break;
    }
    case MODEL_HOST: {
        struct model_host *h = OBJ_AS(obj, model_host);
        free_str_array(h->capabilities, h->n_capabilities);
        free(h->token_hash);
        break;
    }
    case MODEL_VNIC: {
        struct model_vnic *v = OBJ_AS(obj, model_vnic);
        free_str_array(v->groups, v->n_groups);
        break;
    }
    case MODEL_POLICY: {
        struct model_policy *p = OBJ_AS(obj, model_policy);
        free(p->src.name);
        free(p->dst.name);
        break;
    }
    case MODEL_NETWORK:
    case MODEL_N_KINDS:
    default:
        break;
    }
    free(obj->name);
    free(obj->description);
    free(obj);
}

/* ---- The model. ---- */

struct model *
model_create(void)
{
    struct model *m = vf_xcalloc(1, sizeof *m);
    for (int k = 0; k < MODEL_N_KINDS; k++) {
        model_hash_init(&m->names[k]);
    }
    model_hash_init(&m->net_by_vni);
    model_hash_init(&m->vnic_by_mac);
    model_hash_init(&m->vnic_by_addr);
    return m;
}

void
model_destroy(struct model *m)
{
    if (!m) {
        return;
    }
    for (int k = MODEL_N_KINDS - 1; k >= 0; k--) {
        size_t n;
        struct model_obj **objs = model_list(m, k, &n);
        for (size_t i = 0; i < n; i++) {
            model_obj_free(objs[i]);
        }
        free(objs);
        model_hash_destroy(&m->names[k]);
    }
    model_hash_destroy(&m->net_by_vni);
    model_hash_destroy(&m->vnic_by_mac);
    model_hash_destroy(&m->vnic_by_addr);
    free(m);
}

size_t
model_count(const struct model *m, enum model_kind kind)
{
    return m->names[kind].n;
}

struct model_obj *
model_lookup(const struct model *m, enum model_kind kind, const char *name)
{
    uint32_t hash = name_hash(kind, name);
    struct model_obj *obj;
    MODEL_HASH_FOR_EACH_WITH_HASH (obj, by_name, hash, &m->names[kind]) {
        if (!strcmp(obj->name, name)) {
            return obj;
        }
    }
    return NULL;
}

static int
compare_obj_names(const void *a_, const void *b_)
{
    const struct model_obj *const *a = a_, *const *b = b_;
    return strcmp((*a)->name, (*b)->name);
}

struct model_obj **
model_list(const struct model *m, enum model_kind kind, size_t *n)
{
    const struct model_hash *h = &m->names[kind];
    struct model_obj **objs = vf_xmalloc((h->n ? h->n : 1) * sizeof *objs);
    size_t i = 0;
    struct model_obj *obj;
    MODEL_HASH_FOR_EACH (obj, by_name, h) {
        objs[i++] = obj;
    }
    qsort(objs, i, sizeof *objs, compare_obj_names);
    *n = i;
    return objs;
}

struct model_vnic *
model_vnic_by_mac(const struct model *m, const struct model_network *net,
                  const struct eth_addr *mac)
{
    uint32_t hash = mac_hash(net, mac);
    struct model_vnic *v;
    MODEL_HASH_FOR_EACH_WITH_HASH (v, by_mac, hash, &m->vnic_by_mac) {
        if (v->network == net && !memcmp(&v->mac, mac, sizeof *mac)) {
            return v;
        }
    }
    return NULL;
}

struct model_vnic *
model_vnic_by_addr(const struct model *m, const struct model_network *net,
                   const struct model_addr *addr)
{
    uint32_t hash = addr_hash(net, addr);
    struct model_vnic_addr *va;
    MODEL_HASH_FOR_EACH_WITH_HASH (va, node, hash, &m->vnic_by_addr) {
        if (va->vnic->network == net && model_addr_equal(&va->addr, addr)) {
            return va->vnic;
        }
    }
    return NULL;
}

static struct model_network *
network_by_vni(const struct model *m, uint32_t vni)
{
    struct model_network *n;
    MODEL_HASH_FOR_EACH_WITH_HASH (n, by_vni, vf_hash_u32(vni, 0),
                                   &m->net_by_vni) {
        if (n->vni == vni) {
            return n;
        }
    }
    return NULL;
}

struct model_network *
model_network_for_addr(const struct model_tenant *t,
                       const struct model_addr *addr)
{
    for (size_t i = 0; i < t->n_networks; i++) {
        struct model_network *n = t->networks[i];
        for (size_t j = 0; j < n->n_subnets; j++) {
            if (model_prefix_contains(&n->subnets[j], addr)) {
                return n;
            }
        }
    }
    return NULL;
}

bool
model_vnic_in_group(const struct model_vnic *v, const char *group)
{
    for (size_t i = 0; i < v->n_groups; i++) {
        if (!strcmp(v->groups[i], group)) {
            return true;
        }
    }
    return false;
}

/* ---- Parsing, per kind. ---- */

static const char *const common_keys[] = {"name", "description", "version"};

/* Reads the fields every kind has and checks the keys; 'keys' lists the
 * kind's own fields.  Returns the new object in '*objp'. */
static int
parse_common(const struct model *m, enum model_kind kind, const json_t *doc,
             const struct model_obj *old, unsigned int flags,
             const char *const *keys, struct model_obj **objp, char **errp)
{
    const char *allowed[24];
    size_t n = 0;
    for (size_t i = 0; i < VF_ARRAY_SIZE(common_keys); i++) {
        allowed[n++] = common_keys[i];
    }
    for (size_t i = 0; keys[i]; i++) {
        allowed[n++] = keys[i];
    }
    if (kind == MODEL_HOST && (flags & MODEL_F_INTERNAL)) {
        allowed[n++] = "token_hash";
    }
    allowed[n] = NULL;
    VF_VERIFY(n < VF_ARRAY_SIZE(allowed));

    if (!json_is_object(doc)) {
        return field_error(errp, -EINVAL, NULL, "the body must be a JSON "
                           "object");
    }
    int error = check_keys(doc, allowed, "", errp);
    const char *name, *description;
    if (error
        || (error = get_name(doc, "name", true, &name, errp))
        || (error = get_str(doc, "description", false, MODEL_DESCRIPTION_MAX,
                            &description, errp))) {
        return error;
    }
    long long version = 0;
    bool has_version;
    error = get_int(doc, "version", 0, INT64_MAX, &version, &has_version,
                    errp);
    if (error) {
        return error;
    }
    if (old) {
        if (strcmp(name, old->name)) {
            return field_error(errp, -EINVAL, "name", "cannot be changed "
                               "(is '%s')", old->name);
        }
        if (!(flags & MODEL_F_INTERNAL) && has_version
            && (uint64_t) version != old->version) {
            return field_error(errp, -ESTALE, "version", "%s '%s' is at "
                               "version %" PRIu64 ", not %lld",
                               model_kind_name(kind), name, old->version,
                               version);
        }
    } else {
        if (has_version && !(flags & MODEL_F_INTERNAL)) {
            return field_error(errp, -EINVAL, "version", "is read-only");
        }
        if (model_lookup(m, kind, name)) {
            return field_error(errp, -EEXIST, "name", "%s '%s' already "
                               "exists", model_kind_name(kind), name);
        }
    }
    struct model_obj *obj = obj_alloc(kind, name, description);
    obj->version = has_version ? (uint64_t) version : 0;
    *objp = obj;
    return 0;
}

static int
parse_tenant(const struct model *m, const json_t *doc,
             const struct model_obj *old, unsigned int flags,
             struct model_obj **objp, char **errp)
{
    static const char *const keys[] = {NULL};
    return parse_common(m, MODEL_TENANT, doc, old, flags, keys, objp, errp);
}

/* Resolves reference 'key' (a name) to an object of 'kind'. */
static int
get_ref(const struct model *m, const json_t *doc, const char *key,
        enum model_kind kind, bool required, struct model_obj **out,
        char **errp)
{
    const char *name;
    int error = get_name(doc, key, required, &name, errp);
    *out = NULL;
    if (error || !name) {
        return error;
    }
    *out = model_lookup(m, kind, name);
    if (!*out) {
        return field_error(errp, -ENXIO, key, "no such %s '%s'",
                           model_kind_name(kind), name);
    }
    return 0;
}

static int
parse_subnet(const char *s, const char *field, struct model_prefix *p,
             char **errp)
{
    unsigned int plen;
    memset(p, 0, sizeof *p);
    vf_be32 v4;
    if (!ipv4_cidr_parse(s, &v4, &plen)) {
        p->addr.family = 4;
        memcpy(p->addr.bytes, &v4, 4);
        if (plen < 8 || !strchr(s, '/')) {
            return field_error(errp, -EINVAL, field, "'%s': an IPv4 subnet "
                               "needs a prefix length of 8 to 32", s);
        }
    } else if (!ipv6_cidr_parse(s, p->addr.bytes, &plen)) {
        p->addr.family = 6;
        if (plen < 8 || !strchr(s, '/')) {
            return field_error(errp, -EINVAL, field, "'%s': an IPv6 subnet "
                               "needs a prefix length of 8 to 128", s);
        }
    } else {
        return field_error(errp, -EINVAL, field, "'%.64s' is not a CIDR "
                           "prefix (10.0.0.0/24 or fd00::/64)", s);
    }
    p->plen = (uint8_t) plen;
    struct model_addr masked = p->addr;
    unsigned int full = plen / 8;
    for (unsigned int i = full; i < 16; i++) {
        masked.bytes[i] = i == full ? masked.bytes[i]
                                          & (uint8_t) (0xff00 >> (plen % 8))
                                    : 0;
    }
    if (!model_addr_equal(&masked, &p->addr)) {
        char buf[64];
        return field_error(errp, -EINVAL, field, "'%s' has host bits set "
                           "(the subnet is %s/%u)", s,
                           model_addr_format(&masked, buf), plen);
    }
    return 0;
}

/* True if some VNIC of 'net' has an address outside 'subnets'. */
static const struct model_vnic *
vnic_outside(const struct model *m, const struct model_network *net,
             const struct model_prefix *subnets, size_t n_subnets,
             const struct model_addr **addrp)
{
    if (!net->n_vnics) {
        return NULL;
    }
    struct model_obj *obj;
    MODEL_HASH_FOR_EACH (obj, by_name, &m->names[MODEL_VNIC]) {
        const struct model_vnic *v = OBJ_AS(obj, model_vnic);
        if (v->network != net) {
            continue;
        }
        for (size_t i = 0; i < v->n_ips; i++) {
            bool in = false;
            for (size_t j = 0; j < n_subnets && !in; j++) {
                in = model_prefix_contains(&subnets[j], &v->ips[i].addr);
            }
            if (!in) {
                *addrp = &v->ips[i].addr;
                return v;
            }
        }
    }
    return NULL;
}

static int
parse_network_subnets(const json_t *doc, struct model_network *net,
                      char **errp)
{
    json_t *v = json_object_get(doc, "subnets");
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!json_is_array(v)) {
        return field_error(errp, -EINVAL, "subnets", "must be an array");
    }
    if (json_array_size(v) > MODEL_MAX_SUBNETS) {
        return field_error(errp, -EINVAL, "subnets", "more than %d subnets",
                           MODEL_MAX_SUBNETS);
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        char field[32];
        snprintf(field, sizeof field, "subnets[%zu]", i);
        const char *s = json_string_value(json_array_get(v, i));
        if (!s) {
            return field_error(errp, -EINVAL, field, "must be a string");
        }
        struct model_prefix *p = &net->subnets[i];
        int error = parse_subnet(s, field, p, errp);
        if (error) {
            return error;
        }
        for (size_t j = 0; j < i; j++) {
            if (prefixes_overlap(p, &net->subnets[j])) {
                return field_error(errp, -EINVAL, field, "'%s' overlaps "
                                   "subnets[%zu]", s, j);
            }
        }
        net->n_subnets = i + 1;
    }
    return 0;
}

static int
check_network_clashes(const struct model *m, const struct model_network *net,
                      const struct model_network *old, char **errp)
{
    const struct model_network *clash = network_by_vni(m, net->vni);
    if (clash && clash != old) {
        return field_error(errp, -EEXIST, "vni", "%u is used by network "
                           "'%s'", net->vni, clash->obj.name);
    }
    const struct model_tenant *t = net->tenant;
    for (size_t i = 0; i < t->n_networks; i++) {
        const struct model_network *o = t->networks[i];
        if (o == old) {
            continue;
        }
        for (size_t a = 0; a < net->n_subnets; a++) {
            for (size_t b = 0; b < o->n_subnets; b++) {
                if (prefixes_overlap(&net->subnets[a], &o->subnets[b])) {
                    char buf[64];
                    return field_error(
                        errp, -EEXIST, NULL, "subnets[%zu]: %s/%u overlaps "
                        "network '%s' of tenant '%s'", a,
                        model_addr_format(&net->subnets[a].addr, buf),
                        net->subnets[a].plen, o->obj.name, t->obj.name);
                }
            }
        }
    }
    if (old) {
        const struct model_addr *addr;
        const struct model_vnic *v = vnic_outside(m, old, net->subnets,
                                                  net->n_subnets, &addr);
        if (v) {
            char buf[64];
            return field_error(errp, -EEXIST, "subnets", "vnic '%s' has "
                               "address %s outside the new subnets",
                               v->obj.name, model_addr_format(addr, buf));
        }
    }
    return 0;
}

static uint32_t
free_vni(const struct model *m)
{
    for (uint32_t vni = 1; vni <= MODEL_VNI_MAX; vni++) {
        if (!network_by_vni(m, vni)) {
            return vni;
        }
    }
    return 0;
}

static int
parse_network(const struct model *m, const json_t *doc,
              const struct model_obj *old_, unsigned int flags,
              struct model_obj **objp, char **errp)
{
    static const char *const keys[] = {"tenant", "vni", "subnets", NULL};
    const struct model_network *old = old_ ? OBJ_AS(old_, model_network)
                                           : NULL;
    struct model_obj *obj = NULL, *tenant;
    long long vni = 0;
    bool has_vni;
    int error = parse_common(m, MODEL_NETWORK, doc, old_, flags, keys, &obj,
                             errp);
    if (error
        || (error = get_ref(m, doc, "tenant", MODEL_TENANT, true, &tenant,
                            errp))
        || (error = get_int(doc, "vni", 1, MODEL_VNI_MAX, &vni, &has_vni,
                            errp))) {
        goto err;
    }
    struct model_network *net = OBJ_AS(obj, model_network);
    net->tenant = OBJ_AS(tenant, model_tenant);
    if (old && net->tenant != old->tenant) {
        error = field_error(errp, -EINVAL, "tenant", "cannot be changed "
                            "(is '%s')", old->tenant->obj.name);
        goto err;
    }
    error = parse_network_subnets(doc, net, errp);
    if (error) {
        goto err;
    }
    if (has_vni) {
        net->vni = (uint32_t) vni;
    } else if (old) {
        error = field_error(errp, -EINVAL, "vni", "is required");
        goto err;
    } else if (!(net->vni = free_vni(m))) {
        error = field_error(errp, -EEXIST, "vni", "no free VNI left");
        goto err;
    }
    error = check_network_clashes(m, net, old, errp);
    if (error) {
        goto err;
    }
    *objp = obj;
    return 0;

err:
    model_obj_free(obj);
    return error;
}

static int
parse_host(const struct model *m, const json_t *doc,
           const struct model_obj *old_, unsigned int flags,
           struct model_obj **objp, char **errp)
{
    static const char *const keys[] = {"underlay_ip", "capabilities",
                                       "state_format", NULL};
    const struct model_host *old = old_ ? OBJ_AS(old_, model_host) : NULL;
    struct model_obj *obj = NULL;
    const char *ip, *token_hash = NULL;
    long long state_format = 0;
    bool has_sf;
    int error = parse_common(m, MODEL_HOST, doc, old_, flags, keys, &obj,
                             errp);
    if (error
        || (error = get_str(doc, "underlay_ip", true, 64, &ip, errp))
        || (error = get_int(doc, "state_format", 0, UINT32_MAX,
                            &state_format, &has_sf, errp))) {
        goto err;
    }
    struct model_host *host = OBJ_AS(obj, model_host);
    host->state_format = (uint32_t) state_format;
    if (model_addr_parse(ip, &host->underlay_ip)) {
        error = field_error(errp, -EINVAL, "underlay_ip", "'%s' is not an "
                            "IPv4 or IPv6 address", ip);
        goto err;
    }
    error = get_str_array(doc, "capabilities", MODEL_MAX_CAPABILITIES, true,
                          &host->capabilities, &host->n_capabilities, errp);
    if (error) {
        goto err;
    }
    if (flags & MODEL_F_INTERNAL) {
        error = get_str(doc, "token_hash", false, 128, &token_hash, errp);
        if (error) {
            goto err;
        }
    } else if (old) {
        token_hash = old->token_hash;
    }
    host->token_hash = token_hash ? vf_xstrdup(token_hash) : NULL;

    struct model_obj *o;
    MODEL_HASH_FOR_EACH (o, by_name, &m->names[MODEL_HOST]) {
        const struct model_host *h = OBJ_AS(o, model_host);
        if (h != old && model_addr_equal(&h->underlay_ip,
                                         &host->underlay_ip)) {
            error = field_error(errp, -EEXIST, "underlay_ip", "%s is used "
                                "by host '%s'", ip, h->obj.name);
            goto err;
        }
    }
    *objp = obj;
    return 0;

err:
    model_obj_free(obj);
    return error;
}

static int
parse_vnic_ips(const struct model *m, const json_t *doc,
               struct model_vnic *v, const struct model_vnic *old,
               char **errp)
{
    json_t *arr = json_object_get(doc, "ips");
    if (!arr || json_is_null(arr)) {
        return 0;
    }
    if (!json_is_array(arr)) {
        return field_error(errp, -EINVAL, "ips", "must be an array");
    }
    if (json_array_size(arr) > MODEL_MAX_IPS) {
        return field_error(errp, -EINVAL, "ips", "more than %d addresses",
                           MODEL_MAX_IPS);
    }
    const struct model_network *net = v->network;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        char field[32];
        snprintf(field, sizeof field, "ips[%zu]", i);
        const char *s = json_string_value(json_array_get(arr, i));
        struct model_addr *a = &v->ips[i].addr;
        if (!s) {
            return field_error(errp, -EINVAL, field, "must be a string");
        }
        if (model_addr_parse(s, a)) {
            return field_error(errp, -EINVAL, field, "'%.64s' is not an "
                               "IPv4 or IPv6 address", s);
        }
        bool in = false;
        for (size_t j = 0; j < net->n_subnets && !in; j++) {
            in = model_prefix_contains(&net->subnets[j], a);
        }
        if (!in) {
            return field_error(errp, -ENXIO, field, "%s is not in any "
                               "subnet of network '%s'", s,
                               net->obj.name);
        }
        for (size_t j = 0; j < i; j++) {
            if (model_addr_equal(&v->ips[j].addr, a)) {
                return field_error(errp, -EINVAL, field, "%s appears "
                                   "twice", s);
            }
        }
        const struct model_vnic *clash = model_vnic_by_addr(m, net, a);
        if (clash && clash != old) {
            return field_error(errp, -EEXIST, field, "%s is used by vnic "
                               "'%s' in network '%s'", s, clash->obj.name,
                               net->obj.name);
        }
        v->n_ips = i + 1;
    }
    return 0;
}

static int
parse_vnic(const struct model *m, const json_t *doc,
           const struct model_obj *old_, unsigned int flags,
           struct model_obj **objp, char **errp)
{
    static const char *const keys[] = {"network", "mac", "ips", "host",
                                       "security_groups", NULL};
    const struct model_vnic *old = old_ ? OBJ_AS(old_, model_vnic) : NULL;
    struct model_obj *obj = NULL, *net, *host;
    const char *mac;
    int error = parse_common(m, MODEL_VNIC, doc, old_, flags, keys, &obj,
                             errp);
    if (error
        || (error = get_ref(m, doc, "network", MODEL_NETWORK, true, &net,
                            errp))
        || (error = get_ref(m, doc, "host", MODEL_HOST, false, &host, errp))
        || (error = get_str(doc, "mac", true, 64, &mac, errp))) {
        goto err;
    }
    struct model_vnic *v = OBJ_AS(obj, model_vnic);
    v->network = OBJ_AS(net, model_network);
    v->host = host ? OBJ_AS(host, model_host) : NULL;
    if (old && v->network != old->network) {
        error = field_error(errp, -EINVAL, "network", "cannot be changed "
                            "(is '%s'); delete and re-create the vnic",
                            old->network->obj.name);
        goto err;
    }
    if (eth_addr_parse(mac, &v->mac)) {
        error = field_error(errp, -EINVAL, "mac", "'%.64s' is not a MAC "
                            "address (aa:bb:cc:dd:ee:ff)", mac);
        goto err;
    }
    static const struct eth_addr zero;
    if (eth_addr_is_multicast(&v->mac) || !memcmp(&v->mac, &zero, 6)) {
        error = field_error(errp, -EINVAL, "mac", "%s is not a unicast "
                            "address", mac);
        goto err;
    }
    const struct model_vnic *clash = model_vnic_by_mac(m, v->network,
                                                       &v->mac);
    if (clash && clash != old) {
        error = field_error(errp, -EEXIST, "mac", "%s is used by vnic '%s' "
                            "in network '%s'", mac, clash->obj.name,
                            v->network->obj.name);
        goto err;
    }
    error = parse_vnic_ips(m, doc, v, old, errp);
    if (!error) {
        error = get_str_array(doc, "security_groups", MODEL_MAX_GROUPS, true,
                              &v->groups, &v->n_groups, errp);
    }
    if (error) {
        goto err;
    }
    *objp = obj;
    return 0;

err:
    model_obj_free(obj);
    return error;
}

int
model_protocol_parse(const json_t *v, uint8_t *protocol)
{
    static const struct {
        const char *name;
        uint8_t number;
    } names[] = {
        {"any", 0}, {"icmp", 1}, {"tcp", 6}, {"udp", 17}, {"icmpv6", 58},
        {"sctp", 132},
    };
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x < 0 || x > 255) {
            return -EINVAL;
        }
        *protocol = (uint8_t) x;
        return 0;
    }
    const char *s = json_string_value(v);
    for (size_t i = 0; s && i < VF_ARRAY_SIZE(names); i++) {
        if (!strcmp(s, names[i].name)) {
            *protocol = names[i].number;
            return 0;
        }
    }
    return -EINVAL;
}

const char *
model_protocol_format(uint8_t protocol, char *out)
{
    switch (protocol) {
    case 0:
        return "any";
    case 1:
        return "icmp";
    case 6:
        return "tcp";
    case 17:
        return "udp";
    case 58:
        return "icmpv6";
    case 132:
        return "sctp";
    default:
        snprintf(out, 8, "%u", protocol);
        return out;
    }
}

static bool
protocol_has_ports(uint8_t protocol)
{
    return protocol == 6 || protocol == 17 || protocol == 132;
}

const char *
model_action_name(enum model_action a)
{
    return a == MODEL_ALLOW ? "allow" : "deny";
}

static int
parse_ports(const json_t *v, struct model_policy *p, char **errp)
{
    p->port_min = 0;
    p->port_max = 65535;
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!protocol_has_ports(p->protocol)) {
        return field_error(errp, -EINVAL, "ports", "only for tcp, udp and "
                           "sctp");
    }
    unsigned long lo, hi;
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x < 0 || x > 65535) {
            return field_error(errp, -EINVAL, "ports", "%lld is not a port "
                               "(0..65535)", (long long) x);
        }
        lo = hi = (unsigned long) x;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        if (*s < '0' || *s > '9') {
            goto bad;
        }
        lo = strtoul(s, &end, 10);
        hi = lo;
        if (*end == '-') {
            const char *h = end + 1;
            if (*h < '0' || *h > '9') {
                goto bad;
            }
            hi = strtoul(h, &end, 10);
        }
        if (*end || lo > 65535 || hi > 65535 || lo > hi) {
            goto bad;
        }
    } else {
        goto bad;
    }
    p->port_min = (uint16_t) lo;
    p->port_max = (uint16_t) hi;
    return 0;

bad:
    return field_error(errp, -EINVAL, "ports", "must be a port or a range "
                       "\"LOW-HIGH\" within 0..65535");
}

static int
parse_selector(const struct model *m, const json_t *doc, const char *key,
               const struct model_tenant *tenant, struct model_selector *sel,
               char **errp)
{
    json_t *v = json_object_get(doc, key);
    memset(sel, 0, sizeof *sel);
    if (!v || json_is_null(v)) {
        return field_error(errp, -EINVAL, key, "is required (\"any\", "
                           "{\"network\": NAME} or {\"group\": NAME})");
    }
    if (json_is_string(v) && !strcmp(json_string_value(v), "any")) {
        sel->type = MODEL_SEL_ANY;
        return 0;
    }
    if (!json_is_object(v) || json_object_size(v) != 1) {
        return field_error(errp, -EINVAL, key, "must be \"any\", "
                           "{\"network\": NAME} or {\"group\": NAME}");
    }
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%s.", key);
    static const char *const keys[] = {"network", "group", NULL};
    int error = check_keys(v, keys, prefix, errp);
    if (error) {
        return error;
    }
    char field[24];
    bool is_net = json_object_get(v, "network") != NULL;
    snprintf(field, sizeof field, "%s.%s", key, is_net ? "network" : "group");
    const char *name = json_string_value(json_object_get(v, is_net ? "network"
                                                                   : "group"));
    if (!name || !model_name_valid(name)) {
        return field_error(errp, -EINVAL, field, "must be a valid name");
    }
    if (is_net) {
        struct model_obj *n = model_lookup(m, MODEL_NETWORK, name);
        if (!n) {
            return field_error(errp, -ENXIO, field, "no such network '%s'",
                               name);
        }
        sel->network = OBJ_AS(n, model_network);
        if (sel->network->tenant != tenant) {
            return field_error(errp, -ENXIO, field, "network '%s' belongs to "
                               "tenant '%s', not '%s'", name,
                               sel->network->tenant->obj.name,
                               tenant->obj.name);
        }
    }
    sel->type = is_net ? MODEL_SEL_NETWORK : MODEL_SEL_GROUP;
    sel->name = vf_xstrdup(name);
    return 0;
}

static int
parse_policy(const struct model *m, const json_t *doc,
             const struct model_obj *old_, unsigned int flags,
             struct model_obj **objp, char **errp)
{
    static const char *const keys[] = {"tenant", "priority", "action", "src",
                                       "dst", "protocol", "ports", NULL};
    const struct model_policy *old = old_ ? OBJ_AS(old_, model_policy)
                                          : NULL;
    struct model_obj *obj = NULL, *tenant;
    const char *action;
    long long priority = 100;
    bool has_prio;
    int error = parse_common(m, MODEL_POLICY, doc, old_, flags, keys, &obj,
                             errp);
    if (error
        || (error = get_ref(m, doc, "tenant", MODEL_TENANT, true, &tenant,
                            errp))
        || (error = get_int(doc, "priority", 0, 65535, &priority, &has_prio,
                            errp))
        || (error = get_str(doc, "action", true, 16, &action, errp))) {
        goto err;
    }
    struct model_policy *p = OBJ_AS(obj, model_policy);
    p->tenant = OBJ_AS(tenant, model_tenant);
    p->priority = (uint32_t) priority;
    if (old && p->tenant != old->tenant) {
        error = field_error(errp, -EINVAL, "tenant", "cannot be changed "
                            "(is '%s')", old->tenant->obj.name);
        goto err;
    }
    if (!strcmp(action, "allow")) {
        p->action = MODEL_ALLOW;
    } else if (!strcmp(action, "deny")) {
        p->action = MODEL_DENY;
    } else {
        error = field_error(errp, -EINVAL, "action", "must be \"allow\" or "
                            "\"deny\"");
        goto err;
    }
    json_t *proto = json_object_get(doc, "protocol");
    if (proto && !json_is_null(proto)
        && model_protocol_parse(proto, &p->protocol)) {
        error = field_error(errp, -EINVAL, "protocol", "must be any, icmp, "
                            "tcp, udp, icmpv6, sctp or a number 0..255");
        goto err;
    }
    if ((error = parse_ports(json_object_get(doc, "ports"), p, errp))
        || (error = parse_selector(m, doc, "src", p->tenant, &p->src, errp))
        || (error = parse_selector(m, doc, "dst", p->tenant, &p->dst,
                                   errp))) {
        goto err;
    }
    *objp = obj;
    return 0;

err:
    model_obj_free(obj);
    return error;
}

int
model_parse(const struct model *m, enum model_kind kind, const json_t *doc,
            const struct model_obj *old, unsigned int flags,
            struct model_obj **objp, char **errp)
{
    *objp = NULL;
    VF_VERIFY(!old || old->kind == kind);
    switch (kind) {
    case MODEL_TENANT:
        return parse_tenant(m, doc, old, flags, objp, errp);
    case MODEL_NETWORK:
        return parse_network(m, doc, old, flags, objp, errp);
    case MODEL_HOST:
        return parse_host(m, doc, old, flags, objp, errp);
    case MODEL_VNIC:
        return parse_vnic(m, doc, old, flags, objp, errp);
    case MODEL_POLICY:
        return parse_policy(m, doc, old, flags, objp, errp);
    case MODEL_N_KINDS:
    default:
        break;
    }
    return field_error(errp, -EINVAL, NULL, "unknown object kind");
}

void
model_host_set_token_hash(struct model_host *host, const char *hash)
{
    free(host->token_hash);
    host->token_hash = hash ? vf_xstrdup(hash) : NULL;
}

/* ---- Linking objects into the indexes. ---- */

static void
ptr_array_add(void ***arr, size_t *n, void *p)
{
    *arr = vf_xrealloc(*arr, (*n + 1) * sizeof **arr);
    (*arr)[(*n)++] = p;
}

static void
ptr_array_remove(void **arr, size_t *n, const void *p)
{
    for (size_t i = 0; i < *n; i++) {
        if (arr[i] == p) {
            memmove(&arr[i], &arr[i + 1], (*n - i - 1) * sizeof *arr);
            (*n)--;
            return;
        }
    }
    VF_VERIFY(false);
}

static int
policy_order(const struct model_policy *a, const struct model_policy *b)
{
    if (a->priority != b->priority) {
        return a->priority > b->priority ? -1 : 1;
    }
    if (a->action != b->action) {
        return a->action == MODEL_DENY ? -1 : 1;
    }
    return strcmp(a->obj.name, b->obj.name);
}

static void
tenant_add_policy(struct model_tenant *t, struct model_policy *p)
{
    t->policies = vf_xrealloc(t->policies,
                              (t->n_policies + 1) * sizeof *t->policies);
    size_t i = t->n_policies;
    while (i > 0 && policy_order(p, t->policies[i - 1]) < 0) {
        t->policies[i] = t->policies[i - 1];
        i--;
    }
    t->policies[i] = p;
    t->n_policies++;
}

static void
link_obj(struct model *m, struct model_obj *obj)
{
    model_hash_insert(&m->names[obj->kind], &obj->by_name,
                      name_hash(obj->kind, obj->name));
    switch (obj->kind) {
    case MODEL_NETWORK: {
        struct model_network *n = OBJ_AS(obj, model_network);
        model_hash_insert(&m->net_by_vni, &n->by_vni, vf_hash_u32(n->vni, 0));
        ptr_array_add((void ***) &n->tenant->networks,
                      &n->tenant->n_networks, n);
        break;
    }
    case MODEL_VNIC: {
        struct model_vnic *v = OBJ_AS(obj, model_vnic);
        model_hash_insert(&m->vnic_by_mac, &v->by_mac,
                          mac_hash(v->network, &v->mac));
        for (size_t i = 0; i < v->n_ips; i++) {
            v->ips[i].vnic = v;
            model_hash_insert(&m->vnic_by_addr, &v->ips[i].node,
                              addr_hash(v->network, &v->ips[i].addr));
        }
        v->network->n_vnics++;
        if (v->host) {
            v->host->n_vnics++;
        }
        break;
    }
    case MODEL_POLICY: {
        struct model_policy *p = OBJ_AS(obj, model_policy);
        tenant_add_policy(p->tenant, p);
        if (p->src.network) {
            p->src.network->n_policy_refs++;
        }
        if (p->dst.network) {
            p->dst.network->n_policy_refs++;
        }
        break;
    }
    case MODEL_TENANT:
    case MODEL_HOST:
    case MODEL_N_KINDS:
    default:
        break;
    }
}

static void
unlink_obj(struct model *m, struct model_obj *obj)
{
    model_hash_remove(&m->names[obj->kind], &obj->by_name);
    switch (obj->kind) {
    case MODEL_NETWORK: {
        struct model_network *n = OBJ_AS(obj, model_network);
        model_hash_remove(&m->net_by_vni, &n->by_vni);
        ptr_array_remove((void **) n->tenant->networks,
                         &n->tenant->n_networks, n);
        break;
    }
    case MODEL_VNIC: {
        struct model_vnic *v = OBJ_AS(obj, model_vnic);
        model_hash_remove(&m->vnic_by_mac, &v->by_mac);
        for (size_t i = 0; i < v->n_ips; i++) {
            model_hash_remove(&m->vnic_by_addr, &v->ips[i].node);
        }
        v->network->n_vnics--;
        if (v->host) {
            v->host->n_vnics--;
        }
        break;
    }
    case MODEL_POLICY: {
        struct model_policy *p = OBJ_AS(obj, model_policy);
        ptr_array_remove((void **) p->tenant->policies,
                         &p->tenant->n_policies, p);
        if (p->src.network) {
            p->src.network->n_policy_refs--;
        }
        if (p->dst.network) {
            p->dst.network->n_policy_refs--;
        }
        break;
    }
    case MODEL_TENANT:
    case MODEL_HOST:
    case MODEL_N_KINDS:
    default:
        break;
    }
}

#define SWAP(A, B, FIELD)                                                \
    do {                                                                 \
        __typeof__((A)->FIELD) tmp__ = (A)->FIELD;                       \
        (A)->FIELD = (B)->FIELD;                                         \
        (B)->FIELD = tmp__;                                              \
    } while (0)

/* The same for array members. */
#define SWAP_ARRAY(A, B, FIELD)                                          \
    do {                                                                 \
        __typeof__((A)->FIELD) tmp__;                                    \
        memcpy(tmp__, (A)->FIELD, sizeof tmp__);                         \
        memcpy((A)->FIELD, (B)->FIELD, sizeof tmp__);                    \
        memcpy((B)->FIELD, tmp__, sizeof tmp__);                         \
    } while (0)

/* Exchanges the values of two unlinked objects of one kind, leaving each
 * object's identity (address, back-references, counts) in place. */
static void
swap_payload(struct model_obj *a, struct model_obj *b)
{
    SWAP(a, b, description);
    SWAP(a, b, version);
    switch (a->kind) {
    case MODEL_NETWORK: {
        struct model_network *x = OBJ_AS(a, model_network);
        struct model_network *y = OBJ_AS(b, model_network);
        SWAP(x, y, vni);
        SWAP_ARRAY(x, y, subnets);
        SWAP(x, y, n_subnets);
        break;
    }
    case MODEL_HOST: {
        struct model_host *x = OBJ_AS(a, model_host);
        struct model_host *y = OBJ_AS(b, model_host);
        SWAP(x, y, underlay_ip);
        SWAP(x, y, capabilities);
        SWAP(x, y, n_capabilities);
        SWAP(x, y, state_format);
        SWAP(x, y, token_hash);
        break;
    }
    case MODEL_VNIC: {
        struct model_vnic *x = OBJ_AS(a, model_vnic);
        struct model_vnic *y = OBJ_AS(b, model_vnic);
        SWAP(x, y, mac);
        SWAP_ARRAY(x, y, ips);
        SWAP(x, y, n_ips);
        SWAP(x, y, host);
        SWAP(x, y, groups);
        SWAP(x, y, n_groups);
        break;
    }
    case MODEL_POLICY: {
        struct model_policy *x = OBJ_AS(a, model_policy);
        struct model_policy *y = OBJ_AS(b, model_policy);
        SWAP(x, y, priority);
        SWAP(x, y, action);
        SWAP(x, y, src);
        SWAP(x, y, dst);
        SWAP(x, y, protocol);
        SWAP(x, y, port_min);
        SWAP(x, y, port_max);
        break;
    }
    case MODEL_TENANT:
    case MODEL_N_KINDS:
    default:
        break;
    }
}

void
model_put(struct model *m, struct model_obj *obj, struct model_obj *old,
          uint64_t version)
{
    obj->version = version;
    if (old) {
        VF_VERIFY(old->kind == obj->kind && !strcmp(old->name, obj->name));
        unlink_obj(m, old);
        swap_payload(old, obj);
        link_obj(m, old);
        model_obj_free(obj);
    } else {
        link_obj(m, obj);
    }
    m->version = version;
}

int
model_check_delete(const struct model *m, const struct model_obj *obj,
                   char **errp)
{
    (void) m;
    switch (obj->kind) {
    case MODEL_TENANT: {
        const struct model_tenant *t = OBJ_AS(obj, model_tenant);
        if (t->n_networks) {
            return field_error(errp, -EBUSY, NULL, "tenant '%s' still has "
                               "%zu network(s), e.g. '%s'", obj->name,
                               t->n_networks, t->networks[0]->obj.name);
        }
        if (t->n_policies) {
            return field_error(errp, -EBUSY, NULL, "tenant '%s' still has "
                               "%zu policy(ies), e.g. '%s'", obj->name,
                               t->n_policies, t->policies[0]->obj.name);
        }
        break;
    }
    case MODEL_NETWORK: {
        const struct model_network *n = OBJ_AS(obj, model_network);
        if (n->n_vnics) {
            return field_error(errp, -EBUSY, NULL, "network '%s' still has "
                               "%zu vnic(s)", obj->name, n->n_vnics);
        }
        if (n->n_policy_refs) {
            return field_error(errp, -EBUSY, NULL, "network '%s' is named "
                               "by %zu policy(ies)", obj->name,
                               n->n_policy_refs);
        }
        break;
    }
    case MODEL_HOST: {
        const struct model_host *h = OBJ_AS(obj, model_host);
        if (h->n_vnics) {
            return field_error(errp, -EBUSY, NULL, "host '%s' still has %zu "
                               "vnic(s) placed on it", obj->name,
                               h->n_vnics);
        }
        break;
    }
    case MODEL_VNIC:
    case MODEL_POLICY:
    case MODEL_N_KINDS:
    default:
        break;
    }
    return 0;
}

void
model_delete(struct model *m, struct model_obj *obj, uint64_t version)
{
    unlink_obj(m, obj);
    model_obj_free(obj);
    m->version = version;
}

/* ---- Formatting. ---- */

static void
format_selector(struct vf_jw *w, const char *key,
                const struct model_selector *s)
{
    vf_jw_key(w, key);
    if (s->type == MODEL_SEL_ANY) {
        vf_jw_str(w, "any");
        return;
    }
    vf_jw_obj_begin(w);
    vf_jw_kstr(w, s->type == MODEL_SEL_NETWORK ? "network" : "group",
               s->name);
    vf_jw_obj_end(w);
}

static void
format_str_array(struct vf_jw *w, const char *key, char **arr, size_t n)
{
    vf_jw_key(w, key);
    vf_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++) {
        vf_jw_str(w, arr[i]);
    }
    vf_jw_arr_end(w);
}

static void
format_kind(const struct model_obj *obj, unsigned int flags, struct vf_jw *w)
{
    char buf[64];
    switch (obj->kind) {
    case MODEL_NETWORK: {
        const struct model_network *n = OBJ_AS(obj, model_network);
        vf_jw_kstr(w, "tenant", n->tenant->obj.name);
        vf_jw_ku64(w, "vni", n->vni);
        vf_jw_key(w, "subnets");
        vf_jw_arr_begin(w);
        for (size_t i = 0; i < n->n_subnets; i++) {
            char cidr[80];
            snprintf(cidr, sizeof cidr, "%s/%u",
                     model_addr_format(&n->subnets[i].addr, buf),
                     n->subnets[i].plen);
            vf_jw_str(w, cidr);
        }
        vf_jw_arr_end(w);
        break;
    }
    case MODEL_HOST: {
        const struct model_host *h = OBJ_AS(obj, model_host);
        vf_jw_kstr(w, "underlay_ip", model_addr_format(&h->underlay_ip, buf));
        format_str_array(w, "capabilities", h->capabilities,
                         h->n_capabilities);
        vf_jw_ku64(w, "state_format", h->state_format);
        if ((flags & MODEL_F_INTERNAL) && h->token_hash) {
            vf_jw_kstr(w, "token_hash", h->token_hash);
        }
        break;
    }
    case MODEL_VNIC: {
        const struct model_vnic *v = OBJ_AS(obj, model_vnic);
        vf_jw_kstr(w, "network", v->network->obj.name);
        vf_jw_kstr(w, "mac", eth_addr_format(&v->mac, buf));
        vf_jw_key(w, "ips");
        vf_jw_arr_begin(w);
        for (size_t i = 0; i < v->n_ips; i++) {
            vf_jw_str(w, model_addr_format(&v->ips[i].addr, buf));
        }
        vf_jw_arr_end(w);
        if (v->host) {
            vf_jw_kstr(w, "host", v->host->obj.name);
        }
        format_str_array(w, "security_groups", v->groups, v->n_groups);
        break;
    }
    case MODEL_POLICY: {
        const struct model_policy *p = OBJ_AS(obj, model_policy);
        vf_jw_kstr(w, "tenant", p->tenant->obj.name);
        vf_jw_ku64(w, "priority", p->priority);
        vf_jw_kstr(w, "action", model_action_name(p->action));
        format_selector(w, "src", &p->src);
        format_selector(w, "dst", &p->dst);
        vf_jw_kstr(w, "protocol", model_protocol_format(p->protocol, buf));
        if (p->port_min != 0 || p->port_max != 65535) {
            if (p->port_min == p->port_max) {
                snprintf(buf, sizeof buf, "%u", p->port_min);
            } else {
                snprintf(buf, sizeof buf, "%u-%u", p->port_min, p->port_max);
            }
            vf_jw_kstr(w, "ports", buf);
        }
        break;
    }
    case MODEL_TENANT:
    case MODEL_N_KINDS:
    default:
        break;
    }
}

void
model_obj_format(const struct model_obj *obj, unsigned int flags,
                 struct vf_jw *w)
{
    vf_jw_obj_begin(w);
    vf_jw_kstr(w, "name", obj->name);
    if (obj->description) {
        vf_jw_kstr(w, "description", obj->description);
    }
    format_kind(obj, flags, w);
    vf_jw_ku64(w, "version", obj->version);
    vf_jw_obj_end(w);
}

json_t *
model_obj_to_json(const struct model_obj *obj, unsigned int flags)
{
    struct vf_buf b = VF_BUF_INITIALIZER;
    struct vf_jw w;
    vf_jw_init(&w, &b);
    model_obj_format(obj, flags, &w);
    json_t *j = json_loads(vf_buf_cstr(&b), 0, NULL);
    VF_VERIFY(j != NULL);
    vf_buf_uninit(&b);
    return j;
}

/* ---- Policy evaluation. ---- */

static bool
selector_matches(const struct model_selector *s, const struct model_vnic *v)
{
    switch (s->type) {
    case MODEL_SEL_ANY:
        return true;
    case MODEL_SEL_NETWORK:
        return s->network == v->network;
    case MODEL_SEL_GROUP:
        return model_vnic_in_group(v, s->name);
    default:
        return false;
    }
}

static bool
pair_matches(const struct model_policy *p, const struct model_vnic *src,
             const struct model_vnic *dst)
{
    return selector_matches(&p->src, src) && selector_matches(&p->dst, dst);
}

static bool
all_ports(const struct model_policy *p)
{
    return p->port_min == 0 && p->port_max == 65535;
}

static bool
traffic_matches(const struct model_policy *p, uint8_t protocol, int port)
{
    if (p->protocol == MODEL_PROTO_ANY) {
        return true;
    }
    if (p->protocol != protocol) {
        return false;
    }
    return all_ports(p) || (port >= p->port_min && port <= p->port_max);
}

static enum model_action
default_action(const struct model_vnic *src, const struct model_vnic *dst)
{
    return src->network == dst->network ? MODEL_ALLOW : MODEL_DENY;
}

enum model_action
model_policy_eval(const struct model_vnic *src, const struct model_vnic *dst,
                  uint8_t protocol, int port,
                  const struct model_policy **matched)
{
    const struct model_tenant *t = src->network->tenant;
    if (matched) {
        *matched = NULL;
    }
    if (t != dst->network->tenant) {
        return MODEL_DENY;
    }
    for (size_t i = 0; i < t->n_policies; i++) {
        const struct model_policy *p = t->policies[i];
        if (pair_matches(p, src, dst) && traffic_matches(p, protocol, port)) {
            if (matched) {
                *matched = p;
            }
            return p->action;
        }
    }
    return default_action(src, dst);
}

size_t
model_policy_acl(const struct model_vnic *src, const struct model_vnic *dst,
                 struct model_acl_rule *rules, size_t max,
                 enum model_action *dflt, bool *truncated)
{
    const struct model_tenant *t = src->network->tenant;
    size_t n = 0;
    *truncated = false;
    if (t != dst->network->tenant) {
        *dflt = MODEL_DENY;
        return 0;
    }
    *dflt = default_action(src, dst);
    for (size_t i = 0; i < t->n_policies; i++) {
        const struct model_policy *p = t->policies[i];
        if (!pair_matches(p, src, dst)) {
            continue;
        }
        if (p->protocol == MODEL_PROTO_ANY) {
            /* Matches all traffic: nothing after it is reachable. */
            *dflt = p->action;
            break;
        }
        if (n == max) {
            *truncated = true;
            break;
        }
        rules[n++] = (struct model_acl_rule){
            .protocol = p->protocol,
            .port_min = p->port_min,
            .port_max = p->port_max,
            .action = p->action,
            .policy = p,
        };
    }
    return n;
}
