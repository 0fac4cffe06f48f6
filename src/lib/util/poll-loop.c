/* SPDX-License-Identifier: Apache-2.0 */
/* The run/wait poll loop: see the theory in poll-loop.h.
 *
 * Registrations go into 'fds' (one entry per fd, events merged); a block
 * hands that array to poll() and then swaps it with 'last', so that the
 * results stay readable while the next iteration registers into the other
 * array.  Both arrays keep their capacity, so a steady loop allocates
 * nothing.  Lookups are linear: a control thread has tens of fds. */
#include "util/poll-loop.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "util/buf.h"
#include "util/vtime.h"

void
vf_poll_loop_init(struct vf_poll_loop *loop)
{
    loop->fds = NULL;
    loop->n_fds = loop->cap = 0;
    loop->last = NULL;
    loop->n_last = loop->cap_last = 0;
    loop->deadline_ns = INT64_MAX;
    loop->immediate = false;
}

void
vf_poll_loop_uninit(struct vf_poll_loop *loop)
{
    free(loop->fds);
    free(loop->last);
    vf_poll_loop_init(loop);
}

void
vf_poll_fd_wait(struct vf_poll_loop *loop, int fd, short events)
{
    for (size_t i = 0; i < loop->n_fds; i++) {
        if (loop->fds[i].fd == fd) {
            loop->fds[i].events |= events;
            return;
        }
    }
    if (loop->n_fds == loop->cap) {
        loop->cap = loop->cap ? loop->cap * 2 : 16;
        loop->fds = vf_xrealloc(loop->fds, loop->cap * sizeof *loop->fds);
    }
    loop->fds[loop->n_fds++] = (struct pollfd){.fd = fd, .events = events};
}

void
vf_poll_timer_wait_until(struct vf_poll_loop *loop, int64_t deadline_ns)
{
    if (deadline_ns < loop->deadline_ns) {
        loop->deadline_ns = deadline_ns;
    }
}

void
vf_poll_timer_wait(struct vf_poll_loop *loop, int64_t msec)
{
    if (msec <= 0) {
        vf_poll_immediate_wake(loop);
        return;
    }
    int64_t now = vf_time_monotonic_ns();
    if (msec > (INT64_MAX - now) / VF_NSEC_PER_MSEC) {
        return;                 /* Beyond the end of time: no timer. */
    }
    vf_poll_timer_wait_until(loop, now + msec * VF_NSEC_PER_MSEC);
}

void
vf_poll_immediate_wake(struct vf_poll_loop *loop)
{
    loop->immediate = true;
}

/* The poll() timeout in milliseconds for the registered deadline, rounded
 * up so that a timer never fires early. */
static int
poll_timeout_ms(const struct vf_poll_loop *loop)
{
    if (loop->immediate) {
        return 0;
    }
    if (loop->deadline_ns == INT64_MAX) {
        return -1;
    }
    int64_t left = loop->deadline_ns - vf_time_monotonic_ns();
    if (left <= 0) {
        return 0;
    }
    int64_t ms = VF_DIV_ROUND_UP(left, VF_NSEC_PER_MSEC);
    return ms > INT_MAX ? INT_MAX : (int) ms;
}

int
vf_poll_block(struct vf_poll_loop *loop)
{
    int n = poll(loop->fds, loop->n_fds, poll_timeout_ms(loop));
    int rc = n < 0 ? (errno == EINTR ? 0 : -errno) : n;
    if (n < 0) {
        for (size_t i = 0; i < loop->n_fds; i++) {
            loop->fds[i].revents = 0;
        }
    }

    /* Keep the results, recycle the other array for registrations. */
    struct pollfd *tmp = loop->last;
    size_t tmp_cap = loop->cap_last;
    loop->last = loop->fds;
    loop->n_last = loop->n_fds;
    loop->cap_last = loop->cap;
    loop->fds = tmp;
    loop->cap = tmp_cap;
    loop->n_fds = 0;
    loop->deadline_ns = INT64_MAX;
    loop->immediate = false;
    return rc;
}

short
vf_poll_revents(const struct vf_poll_loop *loop, int fd)
{
    for (size_t i = 0; i < loop->n_last; i++) {
        if (loop->last[i].fd == fd) {
            return loop->last[i].revents;
        }
    }
    return 0;
}
