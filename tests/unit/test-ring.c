/* SPDX-License-Identifier: Apache-2.0 */
#include "harness.h"

#include <pthread.h>

#include "util/ring.h"

static void
test_fifo_and_full(void)
{
    struct vf_ring *r = vf_ring_create(5, sizeof(uint64_t));  /* -> 8 */
    CHECK(r);
    uint64_t v;
    CHECK(!vf_ring_get(r, &v));
    for (uint64_t i = 0; i < 8; i++) {
        CHECK(vf_ring_put(r, &i));
    }
    uint64_t x = 99;
    CHECK(!vf_ring_put(r, &x));
    CHECK_EQ_U(vf_ring_dropped(r), 1);
    CHECK_EQ_U(vf_ring_count(r), 8);
    for (uint64_t i = 0; i < 8; i++) {
        CHECK(vf_ring_get(r, &v));
        CHECK_EQ_U(v, i);
    }
    CHECK(!vf_ring_get(r, &v));
    vf_ring_destroy(r);
    vf_ring_destroy(NULL);
    CHECK(vf_ring_create(0, 8) == NULL);
}

#define N_MSGS 2000000

static void *
producer(void *arg)
{
    struct vf_ring *r = arg;
    for (uint64_t i = 0; i < N_MSGS;) {
        if (vf_ring_put(r, &i)) {
            i++;
        }
    }
    return NULL;
}

static void
test_two_threads_keep_order(void)
{
    struct vf_ring *r = vf_ring_create(256, sizeof(uint64_t));
    pthread_t th;
    pthread_create(&th, NULL, producer, r);
    uint64_t expect = 0, v;
    while (expect < N_MSGS) {
        if (vf_ring_get(r, &v)) {
            CHECK_EQ_U(v, expect);
            expect++;
        }
    }
    pthread_join(th, NULL);
    CHECK_EQ_U(vf_ring_count(r), 0);
    vf_ring_destroy(r);
}

static const struct test_case cases[] = {
    TEST(test_fifo_and_full),
    TEST(test_two_threads_keep_order),
};

TEST_MAIN(cases)
