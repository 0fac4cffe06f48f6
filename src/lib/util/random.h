/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_UTIL_RANDOM_H
#define VFAB_UTIL_RANDOM_H 1

/* A seedable pseudo-random source (xoshiro256**, public domain, Blackman and
 * Vigna).  Every random choice in vfab (cache insertion probability, hash
 * bases, test traffic) draws from a struct vf_random the caller owns, so a
 * test can replay a run from its seed (STYLE.md P11).  Not cryptographic. */

#include <stdint.h>

struct vf_random {
    uint64_t s[4];
};

/* Seeds 'rng' from 'seed' (any value, 0 included). */
void vf_random_init(struct vf_random *rng, uint64_t seed);

/* Seeds 'rng' from the kernel's entropy (getrandom), for production use. */
void vf_random_init_entropy(struct vf_random *rng);

static inline uint64_t
vf_random_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* Returns the next 64 random bits. */
static inline uint64_t
vf_random_u64(struct vf_random *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = vf_random_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = vf_random_rotl(s[3], 45);
    return result;
}

static inline uint32_t
vf_random_u32(struct vf_random *rng)
{
    return (uint32_t) (vf_random_u64(rng) >> 32);
}

/* Returns a value uniformly distributed in [0, 'n'), 'n' > 0. */
static inline uint32_t
vf_random_range(struct vf_random *rng, uint32_t n)
{
    return (uint32_t) (((uint64_t) vf_random_u32(rng) * n) >> 32);
}

#endif /* util/random.h */
