/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_UTIL_COMPILER_H
#define VFAB_UTIL_COMPILER_H 1

/* Compiler helpers shared by every part of libvfab.
 *
 * Field protection legend.  Structures shared between threads annotate each
 * field with one of these comments (STYLE.md P5):
 *
 *   const   set at creation, never written afterwards.
 *   ctl     written only by the control (agent) thread; datapath threads
 *           read it under RCU (see util/rcu.h).
 *   dp      owned by one datapath thread; no lock, nobody else writes it.
 *   atomic  accessed only with <stdatomic.h> operations.
 *   <name>  protected by the lock called <name>.
 *
 * Ring and shared-memory structures mark producer and consumer sides
 * ("prod", "cons") in the same way. */

#include <stddef.h>
#include <stdint.h>

#define VF_LIKELY(x) __builtin_expect(!!(x), 1)
#define VF_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define vf_likely VF_LIKELY
#define vf_unlikely VF_UNLIKELY

/* Prefetch for reading / writing into all cache levels. */
#define VF_PREFETCH(addr) __builtin_prefetch((addr), 0, 3)
#define VF_PREFETCH_W(addr) __builtin_prefetch((addr), 1, 3)

#define VF_CACHE_LINE 64
#define VF_CACHE_ALIGNED __attribute__((aligned(VF_CACHE_LINE)))
#define VF_PACKED __attribute__((packed))
#define VF_UNUSED __attribute__((unused))
#define VF_ALWAYS_INLINE inline __attribute__((always_inline))
#define VF_EXPORT __attribute__((visibility("default")))
#define VF_WARN_UNUSED __attribute__((warn_unused_result))
#define VF_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

#define VF_BUILD_ASSERT(cond) _Static_assert(cond, #cond)
#define VF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VF_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VF_MAX(a, b) ((a) > (b) ? (a) : (b))
#define VF_ROUND_UP(x, y) (((x) + (y) - 1) / (y) * (y))
#define VF_DIV_ROUND_UP(x, y) (((x) + (y) - 1) / (y))
#define VF_IS_POW2(x) ((x) != 0 && ((x) & ((x) - 1)) == 0)

#define VF_CONTAINER_OF(ptr, type, member) \
    ((type *) (void *) ((char *) (ptr) - offsetof(type, member)))

/* Clang thread-safety analysis, no-ops elsewhere. */
#if defined(__clang__)
#define VF_GUARDED_BY(x) __attribute__((guarded_by(x)))
#define VF_REQUIRES(...) __attribute__((requires_capability(__VA_ARGS__)))
#else
#define VF_GUARDED_BY(x)
#define VF_REQUIRES(...)
#endif

/* Three assertion strengths (STYLE.md P7):
 *   assert()      debug-only invariant;
 *   VF_VERIFY()   cheap, always on: aborts with a message;
 *   VF_ALWAYS()/VF_NEVER()  "cannot happen" checks that abort in debug
 *                 builds and evaluate to the condition in release builds,
 *                 so the caller recovers. */
void vf_abort_msg(const char *file, int line, const char *cond)
    __attribute__((noreturn));

#define VF_VERIFY(cond)                                 \
    do {                                                \
        if (VF_UNLIKELY(!(cond))) {                     \
            vf_abort_msg(__FILE__, __LINE__, #cond);    \
        }                                               \
    } while (0)

#ifdef VFAB_DEBUG_CHECKS
#define VF_ALWAYS(cond) \
    ((cond) ? 1 : (vf_abort_msg(__FILE__, __LINE__, #cond), 0))
#define VF_NEVER(cond) \
    ((cond) ? (vf_abort_msg(__FILE__, __LINE__, "NEVER(" #cond ")"), 1) : 0)
#else
#define VF_ALWAYS(cond) (!!(cond))
#define VF_NEVER(cond) (!!(cond))
#endif

#endif /* util/compiler.h */
