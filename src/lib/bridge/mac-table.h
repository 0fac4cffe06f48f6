/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_BRIDGE_MAC_TABLE_H
#define VFAB_BRIDGE_MAC_TABLE_H 1

/* The MAC learning table of a bridge: (VLAN, MAC) -> port, with ageing and
 * a size limit.
 *
 * Datapath threads only read it (under RCU) and refresh the 'last_seen'
 * of entries they hit; every change of membership (learn, move, age out,
 * evict, flush) is made by the agent thread, which learns from events the
 * datapath posts (bridge.c).  So the datapath never waits for learning and
 * the table has one writer (util/cmap.h).
 *
 * Static entries (a VNIC's configured MAC on its tap port) never age and
 * cannot be moved by learning: a frame claiming a VM's MAC from another
 * port does not redirect that VM's traffic.
 *
 * When the table is full, learning a new address evicts the least recently
 * seen of MAC_TABLE_EVICT_SAMPLE entries sampled at random (approximate
 * LRU with bounded work, as Redis does), never a static entry. */

#include <stdbool.h>
#include <stdint.h>

#include "net/wire.h"
#include "util/random.h"

struct mac_table;

#define MAC_TABLE_DEFAULT_MAX 8192
#define MAC_TABLE_DEFAULT_AGEING_NS (300 * 1000000000ll) /* 300 s */
#define MAC_TABLE_EVICT_SAMPLE 16
/* A datapath thread refreshes 'last_seen' at most this often per entry,
 * to keep the entry's cache line from bouncing between cores. */
#define MAC_TABLE_TOUCH_NS 1000000000ll

struct mac_entry;

enum mac_learn_result {
    MAC_LEARN_NEW,               /* Entry added. */
    MAC_LEARN_MOVED,             /* Existing entry now points elsewhere. */
    MAC_LEARN_REFRESHED,         /* Same port: only the age changed. */
    MAC_LEARN_STATIC,            /* Refused: a static entry owns the MAC. */
    MAC_LEARN_FAILED,            /* Refused: no memory. */
};

struct mac_table_stats {
    uint64_t n_entries;
    uint64_t n_static;
    uint64_t n_learned;
    uint64_t n_moved;
    uint64_t n_aged;
    uint64_t n_evicted;
    uint64_t n_refused_static;
};

/* One row of a dump. */
struct mac_table_row {
    uint16_t vlan;
    struct eth_addr mac;
    uint32_t port;
    int64_t age_ns;              /* now - last_seen. */
    bool is_static;
};

/* Creates a table of at most 'max_entries' (0: default) ageing entries
 * unseen for 'ageing_ns' (0: default).  NULL with errno on failure. */
struct mac_table *mac_table_create(uint32_t max_entries, int64_t ageing_ns,
                                   uint64_t seed);

/* Frees the table and its entries (readers must be gone).  NULL: no-op. */
void mac_table_destroy(struct mac_table *table);

/* Changes the limits (agent).  Shrinking the limit evicts on next learn. */
void mac_table_set_limits(struct mac_table *table, uint32_t max_entries,
                          int64_t ageing_ns);

/* --- Datapath (readers, under vf_rcu_read_lock) --- */

/* Returns the entry for ('vlan', 'mac') or NULL. */
const struct mac_entry *mac_table_lookup(const struct mac_table *table,
                                         uint16_t vlan,
                                         const struct eth_addr *mac);

/* The port an entry points to. */
uint32_t mac_entry_port(const struct mac_entry *e);

/* Refreshes the entry's age (cheap; rate-limited per entry). */
void mac_entry_touch(const struct mac_entry *e, int64_t now);

/* --- Agent (the single writer) --- */

/* Learns that 'mac' on 'vlan' was seen on 'port' at 'now'. */
enum mac_learn_result mac_table_learn(struct mac_table *table, uint16_t vlan,
                                      const struct eth_addr *mac,
                                      uint32_t port, int64_t now);

/* Adds or replaces a static entry.  Returns 0 or -ENOMEM. */
int mac_table_add_static(struct mac_table *table, uint16_t vlan,
                         const struct eth_addr *mac, uint32_t port);

/* Removes the entry for ('vlan', 'mac'), static or not.  Returns true if
 * there was one. */
bool mac_table_remove(struct mac_table *table, uint16_t vlan,
                      const struct eth_addr *mac);

/* Removes up to 'budget' expired entries; returns how many it removed.
 * Resumes where the previous call stopped, so repeated calls with a small
 * budget cover the whole table (STYLE.md P12). */
uint32_t mac_table_age(struct mac_table *table, int64_t now,
                       uint32_t budget);

/* Removes every learned entry pointing to 'port' (and static ones too if
 * 'include_static'); returns how many. */
uint32_t mac_table_flush_port(struct mac_table *table, uint32_t port,
                              bool include_static);

/* Removes every non-static entry. */
uint32_t mac_table_flush(struct mac_table *table);

/* Fills 'rows' with up to 'max' rows (any order); returns the number of
 * entries in the table (may exceed 'max'). */
uint32_t mac_table_dump(const struct mac_table *table, int64_t now,
                        struct mac_table_row *rows, uint32_t max);

void mac_table_get_stats(const struct mac_table *table,
                         struct mac_table_stats *stats);

#endif /* bridge/mac-table.h */
