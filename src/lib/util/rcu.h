/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_UTIL_RCU_H
#define VFAB_UTIL_RCU_H 1

/* Read-copy-update for vfab, on liburcu's "memb" flavour (Debian's
 * liburcu-dev; sys_membarrier makes read-side sections a thread-local
 * increment with no memory barrier).
 *
 * Why memb and not QSBR: QSBR readers cost nothing but must report
 * quiescent states and go offline before blocking; one forgotten
 * offline before epoll_wait() stalls every writer forever.  The memb
 * read lock costs ~1 ns and the datapath takes it once per batch.
 *
 * Rules:
 *   1. Every thread that reads RCU-protected data calls
 *      vf_rcu_register_thread() first and vf_rcu_unregister_thread()
 *      before it exits.
 *   2. Readers bracket accesses with vf_rcu_read_lock()/unlock() and
 *      never block inside (no syscalls other than their ports' I/O).
 *   3. Writers publish with vf_rcu_set() and free what readers may still
 *      see with vf_rcu_call() (deferred) or after vf_rcu_synchronize()
 *      (blocking; never inside a read-side section).
 *   4. Before a process frees everything at exit, vf_rcu_barrier() runs
 *      the pending callbacks (so sanitizers see no leaks). */

#include <urcu/urcu-memb.h>
#include <urcu/pointer.h>

/* Objects freed through RCU embed a 'struct rcu_head' (liburcu's type)
 * and recover themselves in the callback with VF_CONTAINER_OF. */
typedef void vf_rcu_fn(struct rcu_head *);

static inline void
vf_rcu_register_thread(void)
{
    urcu_memb_register_thread();
}

static inline void
vf_rcu_unregister_thread(void)
{
    urcu_memb_unregister_thread();
}

static inline void
vf_rcu_read_lock(void)
{
    urcu_memb_read_lock();
}

static inline void
vf_rcu_read_unlock(void)
{
    urcu_memb_read_unlock();
}

static inline void
vf_rcu_synchronize(void)
{
    urcu_memb_synchronize_rcu();
}

/* Calls 'fn(head)' after a grace period, from liburcu's worker thread.
 * The caller must be a registered thread (rule 1). */
static inline void
vf_rcu_call(struct rcu_head *head, vf_rcu_fn *fn)
{
    urcu_memb_call_rcu(head, fn);
}

/* Waits until every callback queued so far has run. */
static inline void
vf_rcu_barrier(void)
{
    urcu_memb_barrier();
}

#define vf_rcu_get(p) rcu_dereference(p)
#define vf_rcu_set(p, v) rcu_assign_pointer(p, v)

#endif /* util/rcu.h */
