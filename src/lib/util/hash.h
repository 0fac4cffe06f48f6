/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_UTIL_HASH_H
#define VFAB_UTIL_HASH_H 1

/* Non-cryptographic hashing for tables and flow distribution.
 *
 * The mixing steps are MurmurHash3's (public domain, Austin Appleby):
 * vf_hash_add() folds one 32-bit word into a running hash, vf_hash_finish()
 * avalanches it.  Word-at-a-time over uint64_t arrays is what the classifier
 * and the exact-match cache use; callers hash only the words a mask selects.
 * None of these functions is safe against hash flooding by an adversary who
 * knows the basis: tables seed the basis from util/random.h at creation. */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t
vf_hash_rot(uint32_t x, int k)
{
    return (x << k) | (x >> (32 - k));
}

static inline uint32_t
vf_hash_add(uint32_t hash, uint32_t data)
{
    data *= 0xcc9e2d51u;
    data = vf_hash_rot(data, 15);
    data *= 0x1b873593u;
    hash ^= data;
    hash = vf_hash_rot(hash, 13);
    return hash * 5 + 0xe6546b64u;
}

static inline uint32_t
vf_hash_add64(uint32_t hash, uint64_t data)
{
    return vf_hash_add(vf_hash_add(hash, (uint32_t) data),
                       (uint32_t) (data >> 32));
}

static inline uint32_t
vf_hash_finish(uint32_t hash, uint32_t final)
{
    hash ^= final;
    hash ^= hash >> 16;
    hash *= 0x85ebca6bu;
    hash ^= hash >> 13;
    hash *= 0xc2b2ae35u;
    hash ^= hash >> 16;
    return hash;
}

static inline uint32_t
vf_hash_u32(uint32_t x, uint32_t basis)
{
    return vf_hash_finish(vf_hash_add(basis, x), 4);
}

static inline uint32_t
vf_hash_u64(uint64_t x, uint32_t basis)
{
    return vf_hash_finish(vf_hash_add64(basis, x), 8);
}

/* Hashes 'n_words' 64-bit words at 'words'. */
static inline uint32_t
vf_hash_words64(const uint64_t *words, size_t n_words, uint32_t basis)
{
    uint32_t hash = basis;
    for (size_t i = 0; i < n_words; i++) {
        hash = vf_hash_add64(hash, words[i]);
    }
    return vf_hash_finish(hash, (uint32_t) (n_words * 8));
}

/* Hashes 'size' bytes at 'p' (any alignment). */
static inline uint32_t
vf_hash_bytes(const void *p, size_t size, uint32_t basis)
{
    const uint8_t *b = p;
    uint32_t hash = basis;
    size_t i = 0;
    for (; i + 4 <= size; i += 4) {
        uint32_t w;
        memcpy(&w, b + i, 4);
        hash = vf_hash_add(hash, w);
    }
    if (i < size) {
        uint32_t w = 0;
        memcpy(&w, b + i, size - i);
        hash = vf_hash_add(hash, w);
    }
    return vf_hash_finish(hash, (uint32_t) size);
}

static inline uint32_t
vf_hash_string(const char *s, uint32_t basis)
{
    return vf_hash_bytes(s, strlen(s), basis);
}

#endif /* util/hash.h */
