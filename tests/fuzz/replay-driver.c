/* SPDX-License-Identifier: Apache-2.0 */
/* Replays fuzz inputs without libFuzzer: every file under the directories
 * (or files) named on the command line is fed once to
 * LLVMFuzzerTestOneInput().  This is how kept corpus and crash inputs run
 * as regression tests in every build, sanitizers included.  A missing
 * directory is not an error (a target may have no regressions yet). */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n_inputs;

static int
replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return 1;
    }
    uint8_t *buf = NULL;
    size_t size = 0, cap = 0;
    for (;;) {
        if (size == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap);
            if (!buf) {
                abort();
            }
        }
        size_t n = fread(buf + size, 1, cap - size, f);
        if (!n) {
            break;
        }
        size += n;
    }
    fclose(f);
    /* An exact-size copy, so ASan sees reads past the input's end. */
    uint8_t *exact = malloc(size ? size : 1);
    memcpy(exact, buf, size);
    free(buf);
    LLVMFuzzerTestOneInput(exact, size);
    free(exact);
    n_inputs++;
    return 0;
}

static int
replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st)) {
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) {
        return replay_file(path);
    }
    DIR *d = opendir(path);
    if (!d) {
        return 1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char *sub;
        if (asprintf(&sub, "%s/%s", path, e->d_name) < 0) {
            abort();
        }
        rc |= replay_path(sub);
        free(sub);
    }
    closedir(d);
    return rc;
}

int
main(int argc, char **argv)
{
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        rc |= replay_path(argv[i]);
    }
    printf("replayed %d inputs\n", n_inputs);
    return rc;
}
