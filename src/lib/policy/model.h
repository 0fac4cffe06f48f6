/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_POLICY_MODEL_H
#define VFAB_POLICY_MODEL_H 1

/* The logical model of vfab-policyd: tenants, virtual networks, hosts,
 * VNICs and policies, their validation and policy evaluation.
 *
 * Objects are named (names are unique per kind), referenced by name in
 * JSON, and by pointer in memory.  Policies name only logical objects
 * (networks and security groups of their tenant), never hosts or underlay
 * addresses.  The model is owned by one thread (vfab-policyd's main loop);
 * nothing here is thread-safe.  Theory of operation: model.c.
 *
 * Writing an object is two steps, so that a write is checked completely
 * before anything changes (and the store can refuse it in between):
 *
 *     struct model_obj *obj;
 *     int error = model_parse(m, MODEL_VNIC, doc, old, 0, &obj, &err);
 *     if (!error) {                   // nothing changed yet
 *         ... commit to the store ...
 *         model_put(m, obj, old, version);   // cannot fail
 *     }
 *
 * Error convention: functions that validate return 0 or a negative errno
 * and, through 'errp', a message "FIELD: what is wrong" (the caller frees
 * it; model_error_field() extracts FIELD).  The errno says which class of
 * error it is, and policy-api maps it to an HTTP status:
 *
 *     -EINVAL   400  malformed: wrong type, unknown field, bad MAC/IP/CIDR
 *     -ENXIO    422  a referenced object (tenant, network, host) is missing
 *     -EEXIST   409  a clash: name, VNI, MAC or IP in use, subnet overlap
 *     -EBUSY    409  delete of an object still referenced
 *     -ESTALE   409  PATCH with a "version" that is no longer current */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "policy/model-hash.h"
#include "net/wire.h"
#include "util/jsonw.h"

enum model_kind {
    MODEL_TENANT,
    MODEL_NETWORK,
    MODEL_HOST,
    MODEL_VNIC,
    MODEL_POLICY,
    MODEL_N_KINDS
};

/* Limits (validation refuses more; they bound memory per object). */
#define MODEL_NAME_MAX 63           /* Characters in a name. */
#define MODEL_DESCRIPTION_MAX 256   /* Bytes in a description. */
#define MODEL_MAX_SUBNETS 8         /* Per network. */
#define MODEL_MAX_IPS 16            /* Per VNIC. */
#define MODEL_MAX_GROUPS 32         /* Security groups per VNIC. */
#define MODEL_MAX_CAPABILITIES 32   /* Per host. */
#define MODEL_VNI_MAX 0xffffffu     /* 24 bits (RFC 7348 section 5). */

/* "kind" names as in JSON ("vnic") and in URLs ("vnics"). */
const char *model_kind_name(enum model_kind);
const char *model_kind_plural(enum model_kind);
/* Returns the kind whose plural is 's', or -1. */
int model_kind_from_plural(const char *s);

/* A change record of the feed ({version, time_ms, op, kind, name, object,
 * previous}, docs/rest-api.md) as its readers see it: members borrowed
 * from the record; NULL where missing or of the wrong JSON type. */
struct model_change_view {
    const char *kind;
    const char *name;
    json_t *object;             /* The object after the change. */
    json_t *previous;           /* The object before it. */
};
void model_change_view(const json_t *rec, struct model_change_view *view);

/* An IPv4 or IPv6 address (IPv4 in bytes[0..3], the rest zero). */
struct model_addr {
    uint8_t family;             /* 4 or 6. */
    uint8_t bytes[16];
};

struct model_prefix {
    struct model_addr addr;     /* Host bits are zero. */
    uint8_t plen;
};

/* Parses an IPv4 or IPv6 address.  Returns 0 or -EINVAL. */
int model_addr_parse(const char *s, struct model_addr *a);
/* Writes 'a' in text form into 'out' (at least 46 bytes); returns 'out'. */
char *model_addr_format(const struct model_addr *a, char *out);
bool model_addr_equal(const struct model_addr *, const struct model_addr *);
bool model_prefix_contains(const struct model_prefix *,
                           const struct model_addr *);

/* What every object starts with. */
struct model_obj {
    enum model_kind kind;
    char *name;
    char *description;          /* NULL if none. */
    uint64_t version;           /* Model version of its last change. */
    struct model_hnode by_name;
};

struct model_tenant {
    struct model_obj obj;
    struct model_network **networks;  /* Its networks, any order. */
    size_t n_networks;
    struct model_policy **policies;   /* Its policies in evaluation order. */
    size_t n_policies;
};

struct model_network {
    struct model_obj obj;
    struct model_tenant *tenant;
    uint32_t vni;
    struct model_prefix subnets[MODEL_MAX_SUBNETS];
    size_t n_subnets;
    size_t n_vnics;             /* VNICs attached (delete refuses while >0). */
    size_t n_policy_refs;       /* Policies naming it. */
    struct model_hnode by_vni;
};

struct model_host {
    struct model_obj obj;
    struct model_addr underlay_ip;
    char **capabilities;
    size_t n_capabilities;
    uint32_t state_format;      /* Datapath state-format version. */
    char *token_hash;           /* SHA-256 of its token, hex; internal. */
    size_t n_vnics;             /* VNICs placed on it. */
};

struct model_vnic;
struct model_vnic_addr {
    struct model_hnode node;    /* In model's by-(network, address) index. */
    struct model_vnic *vnic;
    struct model_addr addr;
};

struct model_vnic {
    struct model_obj obj;
    struct model_network *network;
    struct eth_addr mac;
    struct model_vnic_addr ips[MODEL_MAX_IPS];
    size_t n_ips;
    struct model_host *host;    /* NULL: not placed on any host. */
    char **groups;              /* Security groups. */
    size_t n_groups;
    struct model_hnode by_mac;  /* In model's by-(network, MAC) index. */
};

enum model_action {
    MODEL_DENY,
    MODEL_ALLOW,
};

enum model_selector_type {
    MODEL_SEL_ANY,              /* Every VNIC of the tenant. */
    MODEL_SEL_NETWORK,          /* Every VNIC of one network. */
    MODEL_SEL_GROUP,            /* Every VNIC in one security group. */
};

struct model_selector {
    enum model_selector_type type;
    char *name;                 /* Network or group name; NULL for any. */
    struct model_network *network;    /* MODEL_SEL_NETWORK only. */
};

#define MODEL_PROTO_ANY 0

struct model_policy {
    struct model_obj obj;
    struct model_tenant *tenant;
    uint32_t priority;          /* 0..65535, higher is evaluated first. */
    enum model_action action;
    struct model_selector src, dst;
    uint8_t protocol;           /* IP protocol number; 0 = any. */
    uint16_t port_min, port_max;      /* Destination ports (TCP/UDP). */
};

/* The whole model. */
struct model {
    uint64_t version;           /* Bumped once by every write. */
    struct model_hash names[MODEL_N_KINDS];
    struct model_hash net_by_vni;
    struct model_hash vnic_by_mac;    /* Keyed by (network, MAC). */
    struct model_hash vnic_by_addr;   /* Keyed by (network, address). */
};

struct model *model_create(void);
/* Frees 'm' and every object in it.  NULL is a no-op. */
void model_destroy(struct model *m);

size_t model_count(const struct model *m, enum model_kind kind);

/* Returns the object of 'kind' called 'name', or NULL. */
struct model_obj *model_lookup(const struct model *m, enum model_kind kind,
                               const char *name);

/* Returns a newly allocated array of the objects of 'kind' sorted by name
 * (the caller frees the array, not the objects) and its length in '*n'. */
struct model_obj **model_list(const struct model *m, enum model_kind kind,
                              size_t *n);

/* Flags for model_parse() and model_obj_format(). */
#define MODEL_F_INTERNAL 1u     /* Store documents: internal fields too. */

/* Validates 'doc' as an object of 'kind' against 'm': a new object if
 * 'old' is NULL, else the complete new state of 'old' (a PATCH merges the
 * request into old's document first).  With MODEL_F_INTERNAL (loading from
 * the store) internal fields (a host's token hash, "version") are read.
 * On success returns 0 and a new detached object in '*objp' (insert it
 * with model_put() or free it with model_obj_free()); on failure returns
 * a negative errno (see the table above), a message through 'errp', and
 * changes nothing.  Checks: types, unknown fields, names, MACs, addresses,
 * CIDRs, references (same tenant), uniqueness of names, VNIs, MACs and
 * addresses per network, subnet overlap within a tenant, and, for an
 * update, that immutable fields (tenant, network) did not change and that
 * no attached VNIC falls outside a shrunken subnet list. */
int model_parse(const struct model *m, enum model_kind kind,
                const json_t *doc, const struct model_obj *old,
                unsigned int flags, struct model_obj **objp, char **errp);

/* Inserts 'obj' from model_parse() (the model takes it), replacing and
 * freeing 'old' if not NULL, and stamps it with 'version', which becomes
 * the model's version.  Cannot fail. */
void model_put(struct model *m, struct model_obj *obj,
               struct model_obj *old, uint64_t version);

/* Returns 0 if 'obj' may be deleted, else -EBUSY and a message naming
 * what still refers to it. */
int model_check_delete(const struct model *m, const struct model_obj *obj,
                       char **errp);

/* Removes and frees 'obj' (model_check_delete() must have said yes) and
 * sets the model's version to 'version'. */
void model_delete(struct model *m, struct model_obj *obj, uint64_t version);

/* Frees a detached object.  NULL is a no-op. */
void model_obj_free(struct model_obj *obj);

/* Writes 'obj' as one JSON object.  Internal fields only with
 * MODEL_F_INTERNAL. */
void model_obj_format(const struct model_obj *obj, unsigned int flags,
                      struct vf_jw *w);

/* The same as a jansson object (new reference). */
json_t *model_obj_to_json(const struct model_obj *obj, unsigned int flags);

/* Sets a host's token hash (hex SHA-256, copied) on a detached host. */
void model_host_set_token_hash(struct model_host *host, const char *hash);

/* Lookups used by translations. */
struct model_vnic *model_vnic_by_mac(const struct model *m,
                                     const struct model_network *net,
                                     const struct eth_addr *mac);
struct model_vnic *model_vnic_by_addr(const struct model *m,
                                      const struct model_network *net,
                                      const struct model_addr *addr);
/* The network of 'tenant' whose subnets contain 'addr', or NULL. */
struct model_network *model_network_for_addr(const struct model_tenant *t,
                                             const struct model_addr *addr);

bool model_vnic_in_group(const struct model_vnic *v, const char *group);

/* One rule of the filter between two VNICs, in evaluation order. */
struct model_acl_rule {
    uint8_t protocol;           /* 0 = any. */
    uint16_t port_min, port_max;
    enum model_action action;
    const struct model_policy *policy;
};

/* Policy evaluation between 'src' and 'dst' (VNICs of one tenant).
 *
 * Rules are the tenant's policies whose source selector matches 'src' and
 * destination selector matches 'dst', ordered by priority (higher first),
 * deny before allow at equal priority, then by name.  The first rule that
 * matches the traffic decides; without one, traffic within one network is
 * allowed and traffic across networks is denied.
 *
 * model_policy_eval(): the action for 'protocol' (0 = any IP traffic)
 * and destination 'port' (-1 if none); '*matched' (if not NULL) receives
 * the deciding policy or NULL for the default.
 *
 * model_policy_acl(): the whole filter: up to 'max' rules into 'rules'
 * (stopping after a rule that matches all traffic, which then becomes the
 * default), the default into '*dflt', '*truncated' set if rules were left
 * out.  Returns the number of rules. */
enum model_action model_policy_eval(const struct model_vnic *src,
                                    const struct model_vnic *dst,
                                    uint8_t protocol, int port,
                                    const struct model_policy **matched);
size_t model_policy_acl(const struct model_vnic *src,
                        const struct model_vnic *dst,
                        struct model_acl_rule *rules, size_t max,
                        enum model_action *dflt, bool *truncated);

/* Protocol names: "any", "icmp", "tcp", "udp", "icmpv6" or a number. */
int model_protocol_parse(const json_t *v, uint8_t *protocol);
/* Writes "tcp" etc. or the number into 'out' (8 bytes). */
const char *model_protocol_format(uint8_t protocol, char *out);
const char *model_action_name(enum model_action);

/* Returns a copy of the field named at the start of an errp message
 * ("vnics[0].mac: ..." -> "vnics[0].mac"), or NULL if there is none.
 * The caller frees it. */
char *model_error_field(const char *msg);

/* True if 's' is a valid object or group name: 1..63 characters of
 * [A-Za-z0-9_.-], starting with a letter or digit. */
bool model_name_valid(const char *s);

#endif /* policy/model.h */
