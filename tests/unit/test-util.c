/* SPDX-License-Identifier: Apache-2.0 */
#include "harness.h"

#include "util/buf.h"
#include "util/hash.h"
#include "util/jsonw.h"
#include "util/log.h"
#include "util/random.h"
#include "util/vtime.h"

static void
test_buf_printf(void)
{
    struct vf_buf b = VF_BUF_INITIALIZER;
    CHECK_STR(vf_buf_cstr(&b), "");
    for (int i = 0; i < 1000; i++) {
        vf_buf_printf(&b, "%d,", i);
    }
    CHECK(b.len > 3000);
    CHECK(!strncmp(b.data, "0,1,2,", 6));
    char *s = vf_buf_steal(&b);
    CHECK(b.data == NULL && b.len == 0);
    free(s);
}

static void
test_jsonw_nesting_and_commas(void)
{
    struct vf_buf b = VF_BUF_INITIALIZER;
    struct vf_jw w;
    vf_jw_init(&w, &b);
    vf_jw_obj_begin(&w);
    vf_jw_ku64(&w, "a", 1);
    vf_jw_key(&w, "list");
    vf_jw_arr_begin(&w);
    vf_jw_u64(&w, 1);
    vf_jw_str(&w, "x");
    vf_jw_obj_begin(&w);
    vf_jw_obj_end(&w);
    vf_jw_arr_end(&w);
    vf_jw_kbool(&w, "t", true);
    vf_jw_ki64(&w, "n", -5);
    vf_jw_obj_end(&w);
    CHECK_STR(vf_buf_cstr(&b), "{\"a\":1,\"list\":[1,\"x\",{}],\"t\":true,"
                               "\"n\":-5}");
    vf_buf_uninit(&b);
}

static void
test_jsonw_escapes(void)
{
    struct vf_buf b = VF_BUF_INITIALIZER;
    vf_json_escape(&b, "a\"b\\c\n\x01\xff\xc3\xa9", 10);
    CHECK_STR(vf_buf_cstr(&b), "\"a\\\"b\\\\c\\n\\u0001\\u00ff\xc3\xa9\"");
    vf_buf_uninit(&b);
}

static void
test_random_is_reproducible(void)
{
    struct vf_random a, b;
    vf_random_init(&a, 42);
    vf_random_init(&b, 42);
    for (int i = 0; i < 100; i++) {
        CHECK_EQ_U(vf_random_u64(&a), vf_random_u64(&b));
    }
    vf_random_init(&b, 43);
    CHECK(vf_random_u64(&a) != vf_random_u64(&b));
    for (int i = 0; i < 1000; i++) {
        CHECK(vf_random_range(&a, 7) < 7);
    }
}

static void
test_hash_spreads(void)
{
    /* 64k sequential keys into 256 buckets: no bucket above 2x fair. */
    int buckets[256] = {0};
    for (uint32_t i = 0; i < 65536; i++) {
        buckets[vf_hash_u32(i, 0) & 255]++;
    }
    for (int i = 0; i < 256; i++) {
        CHECK(buckets[i] < 512 && buckets[i] > 128);
    }
    uint64_t w[3] = {1, 2, 3};
    CHECK(vf_hash_words64(w, 3, 0) != vf_hash_words64(w, 3, 1));
    CHECK_EQ_U(vf_hash_bytes("abcd", 4, 7), vf_hash_bytes("abcd", 4, 7));
}

static void
test_clock_stop_warp_resume(void)
{
    struct vf_clock c;
    vf_clock_init(&c);
    int64_t t0 = vf_clock_now(&c);
    vf_clock_stop(&c);
    int64_t t1 = vf_clock_now(&c);
    CHECK(t1 >= t0);
    CHECK_EQ_I(vf_clock_now(&c), t1);
    vf_clock_warp(&c, 5 * VF_NSEC_PER_SEC);
    CHECK_EQ_I(vf_clock_now(&c), t1 + 5 * VF_NSEC_PER_SEC);
    vf_clock_resume(&c);
    int64_t t2 = vf_clock_now(&c);
    CHECK(t2 >= t1 + 5 * VF_NSEC_PER_SEC);
    CHECK(t2 < t1 + 6 * VF_NSEC_PER_SEC);
}

static void
test_log_levels_and_rate_limit(void)
{
    CHECK_EQ_I(vf_log_level_from_string("warn"), VF_LOG_WARN);
    CHECK_EQ_I(vf_log_level_from_string("debug"), VF_LOG_DBG);
    CHECK(vf_log_level_from_string("loud") < 0);
    struct vf_log_rl rl = {0};
    uint32_t suppressed = 0;
    int allowed = 0;
    for (int i = 0; i < 100; i++) {
        allowed += vf_log_rl_allow(&rl, &suppressed);
    }
    CHECK_EQ_I(allowed, VF_LOG_RL_BURST);
}

static const struct test_case cases[] = {
    TEST(test_buf_printf),
    TEST(test_jsonw_nesting_and_commas),
    TEST(test_jsonw_escapes),
    TEST(test_random_is_reproducible),
    TEST(test_hash_spreads),
    TEST(test_clock_stop_warp_resume),
    TEST(test_log_levels_and_rate_limit),
};

TEST_MAIN(cases)
