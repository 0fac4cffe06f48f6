/* SPDX-License-Identifier: Apache-2.0 */
#include "util/random.h"

#include <sys/random.h>
#include <time.h>

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void
vf_random_init(struct vf_random *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        rng->s[i] = splitmix64(&seed);
    }
}

void
vf_random_init_entropy(struct vf_random *rng)
{
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t) sizeof seed) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = (uint64_t) ts.tv_nsec ^ ((uint64_t) ts.tv_sec << 32);
    }
    vf_random_init(rng, seed);
}
