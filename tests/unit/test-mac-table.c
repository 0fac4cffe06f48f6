/* SPDX-License-Identifier: Apache-2.0 */
#include "harness.h"

#include "bridge/mac-table.h"
#include "util/rcu.h"

#define SEC 1000000000ll

static struct eth_addr
mac(uint32_t i)
{
    struct eth_addr a = {{0x02, 0, (uint8_t) (i >> 24), (uint8_t) (i >> 16),
                          (uint8_t) (i >> 8), (uint8_t) i}};
    return a;
}

static uint32_t
port_of(const struct mac_table *t, uint16_t vlan, uint32_t i)
{
    struct eth_addr a = mac(i);
    const struct mac_entry *e = mac_table_lookup(t, vlan, &a);
    return e ? mac_entry_port(e) : 0;
}

static void
test_learn_move_and_vlans(void)
{
    vf_rcu_register_thread();
    struct mac_table *t = mac_table_create(0, 0, 1);
    struct eth_addr a = mac(1);
    CHECK_EQ_I(mac_table_learn(t, 10, &a, 3, 0), MAC_LEARN_NEW);
    CHECK_EQ_I(mac_table_learn(t, 10, &a, 3, SEC), MAC_LEARN_REFRESHED);
    CHECK_EQ_U(port_of(t, 10, 1), 3);
    CHECK_EQ_U(port_of(t, 20, 1), 0);     /* Other VLAN: separate. */
    CHECK_EQ_I(mac_table_learn(t, 20, &a, 4, 0), MAC_LEARN_NEW);
    CHECK_EQ_I(mac_table_learn(t, 10, &a, 5, 2 * SEC), MAC_LEARN_MOVED);
    CHECK_EQ_U(port_of(t, 10, 1), 5);
    CHECK_EQ_U(port_of(t, 20, 1), 4);
    struct mac_table_stats st;
    mac_table_get_stats(t, &st);
    CHECK_EQ_U(st.n_entries, 2);
    CHECK_EQ_U(st.n_learned, 2);
    CHECK_EQ_U(st.n_moved, 1);
    mac_table_destroy(t);
    vf_rcu_barrier();
    vf_rcu_unregister_thread();
}

static void
test_static_entries_resist_learning_and_ageing(void)
{
    vf_rcu_register_thread();
    struct mac_table *t = mac_table_create(0, 10 * SEC, 1);
    struct eth_addr a = mac(7);
    CHECK_EQ_I(mac_table_add_static(t, 0, &a, 2), 0);
    CHECK_EQ_I(mac_table_learn(t, 0, &a, 9, SEC), MAC_LEARN_STATIC);
    CHECK_EQ_U(port_of(t, 0, 7), 2);
    CHECK_EQ_U(mac_table_age(t, 1000 * SEC, 100), 0);
    CHECK_EQ_U(port_of(t, 0, 7), 2);
    CHECK_EQ_U(mac_table_flush(t), 0);
    CHECK_EQ_U(mac_table_flush_port(t, 2, true), 1);
    CHECK_EQ_U(port_of(t, 0, 7), 0);
    mac_table_destroy(t);
    vf_rcu_barrier();
    vf_rcu_unregister_thread();
}

static void
test_ageing_with_touch_and_budget(void)
{
    vf_rcu_register_thread();
    struct mac_table *t = mac_table_create(0, 10 * SEC, 1);
    for (uint32_t i = 0; i < 1000; i++) {
        struct eth_addr a = mac(i);
        mac_table_learn(t, 0, &a, 1 + i % 4, 0);
    }
    /* Entries 0..99 are seen again at t=8s (the datapath's refresh). */
    for (uint32_t i = 0; i < 100; i++) {
        struct eth_addr a = mac(i);
        mac_entry_touch(mac_table_lookup(t, 0, &a), 8 * SEC);
    }
    /* At t=12 s: 900 expired.  Budgeted calls get them all eventually. */
    uint32_t removed = 0;
    for (int calls = 0; calls < 100 && removed < 900; calls++) {
        uint32_t n = mac_table_age(t, 12 * SEC, 64);
        CHECK(n <= 64);
        removed += n;
    }
    CHECK_EQ_U(removed, 900);
    for (uint32_t i = 0; i < 1000; i++) {
        CHECK_EQ_U(port_of(t, 0, i) != 0, i < 100);
    }
    mac_table_destroy(t);
    vf_rcu_barrier();
    vf_rcu_unregister_thread();
}

static void
test_limit_evicts_oldest_learned(void)
{
    vf_rcu_register_thread();
    struct mac_table *t = mac_table_create(64, 0, 5);
    struct eth_addr s = mac(999999);
    mac_table_add_static(t, 0, &s, 1);
    for (uint32_t i = 0; i < 63; i++) {
        struct eth_addr a = mac(i);
        mac_table_learn(t, 0, &a, 2, (int64_t) i * SEC);
    }
    /* Full: 10 000 more learnings keep it at 64, the static entry stays. */
    for (uint32_t i = 100; i < 10100; i++) {
        struct eth_addr a = mac(i);
        CHECK_EQ_I(mac_table_learn(t, 0, &a, 3, (int64_t) i * SEC),
                   MAC_LEARN_NEW);
        struct mac_table_stats st;
        mac_table_get_stats(t, &st);
        CHECK(st.n_entries <= 64);
    }
    CHECK_EQ_U(port_of(t, 0, 999999), 1);
    /* The newest address is there; most of the oldest were evicted. */
    CHECK_EQ_U(port_of(t, 0, 10099), 3);
    uint32_t old_left = 0;
    for (uint32_t i = 0; i < 63; i++) {
        old_left += port_of(t, 0, i) != 0;
    }
    CHECK_EQ_U(old_left, 0);
    struct mac_table_row rows[100];
    CHECK_EQ_U(mac_table_dump(t, 0, rows, 100), 64);
    mac_table_destroy(t);
    vf_rcu_barrier();
    vf_rcu_unregister_thread();
}

static const struct test_case cases[] = {
    TEST(test_learn_move_and_vlans),
    TEST(test_static_entries_resist_learning_and_ageing),
    TEST(test_ageing_with_touch_and_budget),
    TEST(test_limit_evicts_oldest_learned),
};

TEST_MAIN(cases)
