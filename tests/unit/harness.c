/* SPDX-License-Identifier: Apache-2.0 */
#include "harness.h"

/* Runs every case (or those whose name contains argv[1]); prints one line
 * per failure and a summary line. */
int
test_run__(const struct test_case *cases, size_t n, int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    volatile int passed = 0, failed = 0;
    for (volatile size_t i = 0; i < n; i++) {
        if (filter && !strstr(cases[i].name, filter)) {
            continue;
        }
        test_failed__ = 0;
        if (setjmp(test_jmp__) == 0) {
            cases[i].fn();
        }
        if (test_failed__) {
            fprintf(stderr, "FAIL %s\n", cases[i].name);
            failed++;
        } else {
            printf("ok   %s\n", cases[i].name);
            passed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
