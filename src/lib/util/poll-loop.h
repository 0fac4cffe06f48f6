/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_UTIL_POLL_LOOP_H
#define VFAB_UTIL_POLL_LOOP_H 1

/* The run/wait main loop of control threads (STYLE.md P12).
 *
 * A control thread's loop is a short list of named steps:
 *
 *     for (;;) {
 *         a_run(a);  b_run(b);               do what is due, bounded
 *         a_wait(a, &loop);  b_wait(b, &loop);   register fds and timers
 *         vf_poll_block(&loop);              one poll() for everything
 *     }
 *
 * A module's x_wait() registers the fds it wants to hear about with
 * vf_poll_fd_wait() and its earliest deadline with vf_poll_timer_wait*();
 * vf_poll_block() sleeps in a single poll() until one of them is ready or
 * the earliest deadline passes, then forgets every registration, so each
 * iteration registers afresh.  The events seen by that poll() stay readable
 * with vf_poll_revents() until the next vf_poll_block(), so x_run() may
 * skip work for an fd that is not ready (it may also just try non-blocking
 * I/O, which is always correct).
 *
 * Timers are on the real monotonic clock (vf_time_monotonic_ns()), never
 * on a warpable struct vf_clock: stopping the daemon's clock for a test
 * must not stop its loop.
 *
 * There is no global loop: each thread owns a struct vf_poll_loop and
 * passes it to the x_wait() functions.  Not thread-safe; one thread uses
 * a loop. */

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vf_poll_loop {
    struct pollfd *fds;          /* Registered for the next block. */
    size_t n_fds, cap;
    struct pollfd *last;         /* Results of the last block. */
    size_t n_last, cap_last;
    int64_t deadline_ns;         /* Earliest timer, INT64_MAX if none. */
    bool immediate;              /* Set by vf_poll_immediate_wake(). */
};

void vf_poll_loop_init(struct vf_poll_loop *loop);
void vf_poll_loop_uninit(struct vf_poll_loop *loop);

/* Wakes the next vf_poll_block() when 'fd' has any of 'events' (POLLIN,
 * POLLOUT; POLLERR/POLLHUP are always reported).  Registering one fd twice
 * merges the events. */
void vf_poll_fd_wait(struct vf_poll_loop *loop, int fd, short events);

/* Wakes the next vf_poll_block() no later than 'deadline_ns' (monotonic
 * nanoseconds); a deadline in the past wakes it at once. */
void vf_poll_timer_wait_until(struct vf_poll_loop *loop, int64_t deadline_ns);

/* Wakes the next vf_poll_block() within 'msec' milliseconds (<= 0: now). */
void vf_poll_timer_wait(struct vf_poll_loop *loop, int64_t msec);

/* Makes the next vf_poll_block() return without sleeping (work is left
 * that a bounded x_run() did not finish). */
void vf_poll_immediate_wake(struct vf_poll_loop *loop);

/* Sleeps in one poll() until a registered fd is ready or the earliest
 * timer passes (forever if nothing is registered: a programming error that
 * is allowed because signalfd-driven daemons always register something).
 * Then clears every registration.  Returns the number of ready fds (0 on
 * timeout or EINTR), or -errno from poll() (-ENOMEM). */
int vf_poll_block(struct vf_poll_loop *loop);

/* The events the last vf_poll_block() saw for 'fd' (0 if 'fd' was not
 * registered or not ready). */
short vf_poll_revents(const struct vf_poll_loop *loop, int fd);

#endif /* util/poll-loop.h */
