/* SPDX-License-Identifier: Apache-2.0 */
/* port-wire: forwards every frame between two ports, for the integration
 * tests and benchmarks of src/lib/port.
 *
 *   port-wire [options] PORT_A PORT_B
 *     PORT      KIND:NAME[,offload=0|1][,mtu=N][,ring=N][,rx_ring=v2|v3]
 *               KIND is tap or afpacket; offload defaults to 1; rx_ring
 *               (afpacket) defaults to the port's default.
 *     --ready F     write "ready" to F once both ports exist
 *     --stats F     write counters to F ("name: value" lines) at exit and
 *                   on SIGUSR1
 *     --seconds N   exit after N seconds (default: at SIGTERM/SIGINT)
 *     --busy        poll without sleeping (default: sleep in epoll)
 *
 * One thread, as a vfabd datapath thread: epoll on both ports' fds, the
 * link monitor's fd and a signalfd; each readable port is drained with
 * port_rx_burst() (a bounded number of bursts per wakeup) and its frames
 * are made to fit the other port with port_tx_prepare() (software GSO or
 * checksum completion when the output cannot take the offload) and sent
 * with port_tx_burst().  Link changes seen by the link monitor are printed
 * on stdout as "link NAME up|down REALTIME_NS" so a test can time them.
 *
 * Counters per direction (a_to_b / b_to_a): frames and bytes received,
 * GSO frames (an offload request with a gso_type) and the largest frame
 * seen, frames sent whole though larger than the output's MTU,
 * frames segmented in software and the segments made, checksums
 * completed, frames refused by port_tx_prepare(), frames sent; then each
 * port's own statistics. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "net/gso.h"
#include "pkt/pkt-pool.h"
#include "port/link-monitor.h"
#include "port/port.h"
#include "util/log.h"

#define BURST 32
#define BURSTS_PER_WAKEUP 16
#define OUT_ROOM (GSO_MAX_SEGS + BURST)

struct dir_stats {
    uint64_t rx_frames, rx_bytes;
    uint64_t gso_frames;         /* Frames with a GSO request. */
    uint64_t max_frame;          /* Largest frame received. */
    uint64_t big_whole;          /* Sent whole though > output MTU. */
    uint64_t segmented;          /* Frames cut in software... */
    uint64_t segments;           /* ...into this many. */
    uint64_t csum_completed;     /* Partial checksums completed. */
    uint64_t prepare_errors;
    uint64_t tx_sent;
};

struct wire {
    struct port *ports[2];
    struct port_caps caps[2];
    struct dir_stats dirs[2];    /* [0]: a to b, [1]: b to a. */
    struct pkt_pool *pool;
    struct pkt_cache *cache;
    struct link_monitor *mon;
    struct pkt *out[OUT_ROOM];
    uint32_t n_out;
    const char *stats_file;
};

static int64_t
realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void
usage(void)
{
    fprintf(stderr, "usage: port-wire [--ready FILE] [--stats FILE] "
            "[--seconds N] [--busy] KIND:NAME[,offload=0|1][,mtu=N]"
            "[,ring=N][,rx_ring=v2|v3] KIND:NAME[,...]\n");
    exit(2);
}

/* Parses "KIND:NAME[,opt=val...]" into 'cfg' (strings point into 'spec',
 * which is modified). */
static int
parse_port(char *spec, struct port_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->offload = true;
    char *colon = strchr(spec, ':');
    if (!colon) {
        return -EINVAL;
    }
    *colon = '\0';
    int kind = port_kind_from_name(spec);
    if (kind < 0) {
        return kind;
    }
    cfg->kind = (enum port_kind) kind;
    char *save = NULL;
    cfg->name = strtok_r(colon + 1, ",", &save);
    for (char *opt; (opt = strtok_r(NULL, ",", &save));) {
        char *eq = strchr(opt, '=');
        if (!eq) {
            return -EINVAL;
        }
        *eq++ = '\0';
        unsigned long v = strtoul(eq, NULL, 10);
        if (!strcmp(opt, "rx_ring")) {
            int r = port_rx_ring_from_name(eq);
            if (r < 0) {
                return r;
            }
            cfg->rx_ring = (enum port_rx_ring) r;
        } else if (!strcmp(opt, "offload")) {
            cfg->offload = v != 0;
        } else if (!strcmp(opt, "mtu")) {
            cfg->mtu = (uint32_t) v;
        } else if (!strcmp(opt, "ring")) {
            cfg->ring_frames = (uint32_t) v;
        } else {
            return -EINVAL;
        }
    }
    return cfg->name ? 0 : -EINVAL;
}

static void
flush_out(struct wire *w, int to)
{
    if (w->n_out) {
        w->dirs[!to].tx_sent += port_tx_burst(w->ports[to], w->cache,
                                              w->out, w->n_out);
        w->n_out = 0;
    }
}

/* Makes 'p' fit port 'to' and queues the result. */
static void
forward_one(struct wire *w, struct pkt *p, int to)
{
    struct dir_stats *d = &w->dirs[!to];
    const struct port_caps *caps = &w->caps[to];
    bool gso = (p->flags & PKT_F_OFFLOAD)
               && p->offload.gso_type != PKT_GSO_NONE;
    bool partial = (p->flags & PKT_F_OFFLOAD) && p->offload.needs_csum;
    uint32_t size = p->size;
    d->rx_frames++;
    d->rx_bytes += size;
    d->gso_frames += gso;
    if (size > d->max_frame) {
        d->max_frame = size;
    }
    if (OUT_ROOM - w->n_out < GSO_MAX_SEGS) {
        flush_out(w, to);
    }
    int n = port_tx_prepare(caps, w->cache, p, w->out + w->n_out,
                            OUT_ROOM - w->n_out);
    if (n < 0) {
        d->prepare_errors++;
        return;
    }
    if (gso && (n > 1 || w->out[w->n_out] != p)) {
        d->segmented++;
        d->segments += (uint64_t) n;
    } else if (size > caps->mtu + 14 + 8) {
        d->big_whole++;
    } else if (partial && !caps->tx_csum) {
        d->csum_completed++;
    }
    w->n_out += (uint32_t) n;
    if (w->n_out >= BURST) {
        flush_out(w, to);
    }
}

/* Drains port 'from' for a bounded number of bursts.  Returns frames. */
static uint32_t
pump(struct wire *w, int from)
{
    struct pkt *pkts[BURST];
    uint32_t total = 0;
    for (int i = 0; i < BURSTS_PER_WAKEUP; i++) {
        int n = port_rx_burst(w->ports[from], w->cache, pkts, BURST);
        if (n <= 0) {
            break;
        }
        for (int k = 0; k < n; k++) {
            forward_one(w, pkts[k], !from);
        }
        flush_out(w, !from);
        total += (uint32_t) n;
        if (n < BURST) {
            break;
        }
    }
    return total;
}

static void
write_dir(FILE *f, const char *name, const struct dir_stats *d)
{
    fprintf(f, "%s.rx_frames: %" PRIu64 "\n", name, d->rx_frames);
    fprintf(f, "%s.rx_bytes: %" PRIu64 "\n", name, d->rx_bytes);
    fprintf(f, "%s.gso_frames: %" PRIu64 "\n", name, d->gso_frames);
    fprintf(f, "%s.max_frame: %" PRIu64 "\n", name, d->max_frame);
    fprintf(f, "%s.big_whole: %" PRIu64 "\n", name, d->big_whole);
    fprintf(f, "%s.segmented: %" PRIu64 "\n", name, d->segmented);
    fprintf(f, "%s.segments: %" PRIu64 "\n", name, d->segments);
    fprintf(f, "%s.csum_completed: %" PRIu64 "\n", name, d->csum_completed);
    fprintf(f, "%s.prepare_errors: %" PRIu64 "\n", name, d->prepare_errors);
    fprintf(f, "%s.tx_sent: %" PRIu64 "\n", name, d->tx_sent);
}

static void
write_stats(const struct wire *w)
{
    if (!w->stats_file) {
        return;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", w->stats_file);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        return;
    }
    write_dir(f, "a_to_b", &w->dirs[0]);
    write_dir(f, "b_to_a", &w->dirs[1]);
    for (int i = 0; i < 2; i++) {
        struct port_stats st;
        const char *n = i ? "b" : "a";
        port_get_stats(w->ports[i], &st);
        fprintf(f, "%s.rx_packets: %" PRIu64 "\n", n, st.rx_packets);
        fprintf(f, "%s.rx_bytes: %" PRIu64 "\n", n, st.rx_bytes);
        fprintf(f, "%s.tx_packets: %" PRIu64 "\n", n, st.tx_packets);
        fprintf(f, "%s.tx_bytes: %" PRIu64 "\n", n, st.tx_bytes);
        fprintf(f, "%s.rx_dropped: %" PRIu64 "\n", n, st.rx_dropped);
        fprintf(f, "%s.rx_errors: %" PRIu64 "\n", n, st.rx_errors);
        fprintf(f, "%s.tx_dropped: %" PRIu64 "\n", n, st.tx_dropped);
        fprintf(f, "%s.tx_errors: %" PRIu64 "\n", n, st.tx_errors);
        fprintf(f, "%s.link_up: %d\n", n, port_link_up(w->ports[i]));
        fprintf(f, "%s.tx_tso4: %d\n", n, w->caps[i].tx_tso4);
        fprintf(f, "%s.tx_csum: %d\n", n, w->caps[i].tx_csum);
        fprintf(f, "%s.mtu: %u\n", n, w->caps[i].mtu);
    }
    fclose(f);
    rename(tmp, w->stats_file);
}

static void
on_link(struct port *port, bool up, void *aux)
{
    (void) aux;
    printf("link %s %s %" PRId64 "\n", port_name(port), up ? "up" : "down",
           realtime_ns());
    fflush(stdout);
}

static int
epoll_add(int ep, int fd, uint64_t tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

enum { TAG_A, TAG_B, TAG_MON, TAG_SIG, TAG_TIMER };

/* Runs until a signal or the timer ends it.  Returns the exit code. */
static int
run(struct wire *w, int seconds, bool busy)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGUSR1);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (sfd < 0 || ep < 0 || tfd < 0
        || epoll_add(ep, port_get_fd(w->ports[0]), TAG_A)
        || epoll_add(ep, port_get_fd(w->ports[1]), TAG_B)
        || epoll_add(ep, link_monitor_wait(w->mon), TAG_MON)
        || epoll_add(ep, sfd, TAG_SIG) || epoll_add(ep, tfd, TAG_TIMER)) {
        perror("port-wire: set-up");
        return 1;
    }
    if (seconds > 0) {
        struct itimerspec its = {.it_value = {.tv_sec = seconds}};
        timerfd_settime(tfd, 0, &its, NULL);
    }
    for (;;) {
        struct epoll_event evs[8];
        int n = epoll_wait(ep, evs, 8, busy ? 0 : -1);
        if (n < 0 && errno != EINTR) {
            perror("port-wire: epoll_wait");
            return 1;
        }
        if (busy) {
            pump(w, 0);
            pump(w, 1);
        }
        for (int i = 0; i < n; i++) {
            switch (evs[i].data.u64) {
            case TAG_A:
            case TAG_B:
                if (!busy) {
                    pump(w, (int) evs[i].data.u64);
                }
                break;
            case TAG_MON:
                link_monitor_run(w->mon);
                break;
            case TAG_TIMER:
                return 0;
            case TAG_SIG: {
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof si) == sizeof si) {
                    if (si.ssi_signo != SIGUSR1) {
                        return 0;
                    }
                    write_stats(w);
                }
                break;
            }
            }
        }
    }
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"ready", required_argument, NULL, 'r'},
        {"stats", required_argument, NULL, 's'},
        {"seconds", required_argument, NULL, 't'},
        {"busy", no_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    const char *ready = NULL;
    int seconds = 0;
    bool busy = false;
    static struct wire w;
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        switch (c) {
        case 'r':
            ready = optarg;
            break;
        case 's':
            w.stats_file = optarg;
            break;
        case 't':
            seconds = atoi(optarg);
            break;
        case 'b':
            busy = true;
            break;
        default:
            usage();
        }
    }
    if (argc - optind != 2) {
        usage();
    }
    vf_log_open("port-wire", false);
    struct pkt_pool_config pc = {"port-wire", {16384, 512}, 2};
    w.pool = pkt_pool_create(&pc);
    w.cache = w.pool ? pkt_cache_create(w.pool) : NULL;
    w.mon = link_monitor_create();
    if (!w.cache || !w.mon) {
        perror("port-wire: set-up");
        return 1;
    }
    link_monitor_set_callback(w.mon, on_link, NULL);
    for (int i = 0; i < 2; i++) {
        struct port_config cfg;
        char *errp = NULL;
        w.ports[i] = NULL;
        if (parse_port(argv[optind + i], &cfg)) {
            fprintf(stderr, "port-wire: bad port '%s'\n", argv[optind + i]);
            usage();
        }
        if (port_create(&cfg, w.pool, &w.ports[i], &errp)) {
            fprintf(stderr, "port-wire: %s\n", errp);
            free(errp);
            port_destroy(w.ports[0]);
            link_monitor_destroy(w.mon);
            pkt_cache_destroy(w.cache);
            pkt_pool_destroy(w.pool);
            return 1;
        }
        port_get_caps(w.ports[i], &w.caps[i]);
        if (cfg.kind == PORT_KIND_AFPACKET) {
            link_monitor_add_port(w.mon, w.ports[i]);
        }
    }
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (f) {
            fputs("ready\n", f);
            fclose(f);
        }
    }
    int rc = run(&w, seconds, busy);
    write_stats(&w);
    for (int i = 0; i < 2; i++) {
        link_monitor_remove_port(w.mon, w.ports[i]);
        port_destroy(w.ports[i]);
    }
    link_monitor_destroy(w.mon);
    pkt_cache_destroy(w.cache);
    pkt_pool_destroy(w.pool);
    return rc;
}
