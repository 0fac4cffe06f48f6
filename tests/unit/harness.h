/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_TESTS_HARNESS_H
#define VFAB_TESTS_HARNESS_H 1

/* A tiny unit-test harness: typed assertions that report file, line and
 * both values, test cases registered in a table, and a final
 * "N passed, N failed" line.  A failed assertion ends its test case (not
 * the program), so one run reports every broken case.
 *
 *     static void test_x(void) { CHECK_EQ_U(1 + 1, 2); }
 *     static const struct test_case cases[] = { TEST(test_x), };
 *     TEST_MAIN(cases)
 */

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
    const char *name;
    void (*fn)(void);
};

#define TEST(fn) {#fn, fn}

extern jmp_buf test_jmp__;
extern int test_failed__;

#define TEST_FAIL__(...)                                                  \
    do {                                                                  \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                 \
        fprintf(stderr, __VA_ARGS__);                                     \
        fputc('\n', stderr);                                              \
        test_failed__ = 1;                                                \
        longjmp(test_jmp__, 1);                                           \
    } while (0)

#define CHECK(cond)                                                       \
    do {                                                                  \
        if (!(cond)) {                                                    \
            TEST_FAIL__("CHECK(%s) failed", #cond);                       \
        }                                                                 \
    } while (0)

#define CHECK_EQ_U(a, b)                                                  \
    do {                                                                  \
        uint64_t a__ = (uint64_t) (a), b__ = (uint64_t) (b);              \
        if (a__ != b__) {                                                 \
            TEST_FAIL__("%s == %s: %" PRIu64 " != %" PRIu64 " (0x%" PRIx64 \
                        " != 0x%" PRIx64 ")", #a, #b, a__, b__, a__, b__);  \
        }                                                                 \
    } while (0)

#define CHECK_EQ_I(a, b)                                                  \
    do {                                                                  \
        int64_t a__ = (int64_t) (a), b__ = (int64_t) (b);                 \
        if (a__ != b__) {                                                 \
            TEST_FAIL__("%s == %s: %" PRId64 " != %" PRId64, #a, #b, a__, \
                        b__);                                             \
        }                                                                 \
    } while (0)

#define CHECK_STR(a, b)                                                   \
    do {                                                                  \
        const char *a__ = (a), *b__ = (b);                                \
        if (!a__ || !b__ || strcmp(a__, b__)) {                           \
            TEST_FAIL__("%s == %s:\n    \"%s\"\n != \"%s\"", #a, #b,      \
                        a__ ? a__ : "(null)", b__ ? b__ : "(null)");      \
        }                                                                 \
    } while (0)

#define CHECK_MEM(a, b, n)                                                \
    do {                                                                  \
        if (memcmp((a), (b), (n))) {                                      \
            TEST_FAIL__("%s and %s differ in their first %zu bytes", #a,  \
                        #b, (size_t) (n));                                \
        }                                                                 \
    } while (0)

int test_run__(const struct test_case *cases, size_t n, int argc,
               char **argv);

#define TEST_MAIN(CASES)                                                  \
    jmp_buf test_jmp__;                                                   \
    int test_failed__;                                                    \
    int main(int argc, char **argv)                                       \
    {                                                                     \
        return test_run__(CASES, sizeof CASES / sizeof CASES[0], argc,    \
                          argv);                                          \
    }

#endif /* harness.h */
