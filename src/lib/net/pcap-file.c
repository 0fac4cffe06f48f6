/* SPDX-License-Identifier: Apache-2.0 */
/* Capture files: theory of operation.
 *
 * The reader keeps the whole file as one byte range (mmap()ed, or the
 * caller's memory) and a read offset.  Both formats are decoded with
 * rd32()/rd16() that honour the byte order of the current section; every
 * record or block length is checked against what is left before anything
 * inside it is touched.
 *
 * pcapng (draft-ietf-opsawg-pcapng): a file is a sequence of sections, each
 * starting with a Section Header Block that fixes the byte order; Interface
 * Description Blocks define interfaces 0..n-1 of the section (link type,
 * timestamp resolution from option if_tsresol); packets arrive in Enhanced
 * (type 6), Simple (3) or obsolete Packet Blocks (2). */
#include "net/pcap-file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/compiler.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAPNG_SHB 0x0a0d0d0au
#define PCAPNG_IDB 1u
#define PCAPNG_OPB 2u
#define PCAPNG_SPB 3u
#define PCAPNG_EPB 6u
#define PCAPNG_BOM 0x1a2b3c4du
#define PCAPNG_MAX_IFACES 256

struct pcap_iface {
    uint32_t linktype;
    uint32_t snaplen;
    uint64_t ts_per_sec;         /* Timestamp units per second. */
};

struct pcap_reader {
    const uint8_t *data;
    size_t size;
    size_t ofs;
    bool mapped;
    bool swap;                   /* Section byte order differs from host. */
    bool ng;
    bool failed;
    char *error;
    /* Classic pcap. */
    uint32_t linktype;
    bool nsec;
    /* pcapng. */
    uint32_t n_ifaces;
    struct pcap_iface ifaces[PCAPNG_MAX_IFACES];
};

static uint32_t
rd32(const struct pcap_reader *r, const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t
rd16(const struct pcap_reader *r, const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return r->swap ? __builtin_bswap16(v) : v;
}

static int
fail(struct pcap_reader *r, const char *why)
{
    if (!r->failed) {
        r->failed = true;
        free(r->error);
        r->error = vf_xasprintf("corrupt capture at byte %zu: %s", r->ofs,
                                why);
    }
    return -EINVAL;
}

static int
header_init(struct pcap_reader *r)
{
    if (r->size < 4) {
        return fail(r, "file too short for a capture header");
    }
    uint32_t magic;
    memcpy(&magic, r->data, 4);
    if (magic == PCAPNG_SHB) {
        r->ng = true;
        return 0;                /* The SHB is read as the first block. */
    }
    if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS) {
        r->swap = false;
    } else if (__builtin_bswap32(magic) == PCAP_MAGIC_US
               || __builtin_bswap32(magic) == PCAP_MAGIC_NS) {
        r->swap = true;
        magic = __builtin_bswap32(magic);
    } else {
        return fail(r, "not a pcap or pcapng file (unknown magic)");
    }
    if (r->size < 24) {
        return fail(r, "file too short for a pcap header");
    }
    r->nsec = magic == PCAP_MAGIC_NS;
    r->linktype = rd32(r, r->data + 20) & 0x0fffffff;
    r->ofs = 24;
    return 0;
}

static struct pcap_reader *
reader_finish_open(struct pcap_reader *r, char **errp)
{
    if (header_init(r)) {
        if (errp) {
            *errp = vf_xstrdup(r->error);
        }
        pcap_reader_close(r);
        return NULL;
    }
    return r;
}

struct pcap_reader *
pcap_reader_open_mem(const void *data, size_t size, char **errp)
{
    struct pcap_reader *r = vf_xcalloc(1, sizeof *r);
    r->data = data;
    r->size = size;
    return reader_finish_open(r, errp);
}

struct pcap_reader *
pcap_reader_open(const char *path, char **errp)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errp) {
            *errp = vf_xasprintf("%s: %s", path, strerror(errno));
        }
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        if (errp) {
            *errp = vf_xasprintf("%s: not a regular file", path);
        }
        close(fd);
        return NULL;
    }
    struct pcap_reader *r = vf_xcalloc(1, sizeof *r);
    r->size = (size_t) st.st_size;
    if (r->size) {
        void *m = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            if (errp) {
                *errp = vf_xasprintf("%s: %s", path, strerror(errno));
            }
            close(fd);
            free(r);
            return NULL;
        }
        r->data = m;
        r->mapped = true;
    }
    close(fd);
    return reader_finish_open(r, errp);
}

void
pcap_reader_close(struct pcap_reader *r)
{
    if (!r) {
        return;
    }
    if (r->mapped) {
        munmap((void *) r->data, r->size);
    }
    free(r->error);
    free(r);
}

const char *
pcap_reader_error(const struct pcap_reader *r)
{
    return r->error;
}

const char *
pcap_reader_format(const struct pcap_reader *r)
{
    return r->ng ? "pcapng" : "pcap";
}

static int
classic_next(struct pcap_reader *r, struct pcap_record *rec)
{
    if (r->ofs == r->size) {
        return 0;
    }
    if (r->size - r->ofs < 16) {
        return fail(r, "record header cut short");
    }
    const uint8_t *h = r->data + r->ofs;
    uint32_t caplen = rd32(r, h + 8);
    if (caplen > PCAP_MAX_RECORD) {
        return fail(r, "record length too large");
    }
    if (r->size - r->ofs - 16 < caplen) {
        return fail(r, "record data cut short");
    }
    uint64_t sec = rd32(r, h), frac = rd32(r, h + 4);
    rec->ts_ns = (int64_t) (sec * 1000000000ull
                            + (r->nsec ? frac : frac * 1000));
    rec->caplen = caplen;
    rec->origlen = rd32(r, h + 12);
    rec->data = h + 16;
    rec->linktype = r->linktype;
    r->ofs += 16 + caplen;
    return 1;
}

/* Reads if_tsresol from the options of an IDB body. */
static uint64_t
idb_ts_per_sec(const struct pcap_reader *r, const uint8_t *opt, size_t left)
{
    uint64_t per_sec = 1000000;
    while (left >= 4) {
        uint16_t code = rd16(r, opt), len = rd16(r, opt + 2);
        size_t padded = VF_ROUND_UP((size_t) len, 4);
        if (code == 0 || padded + 4 > left) {
            break;
        }
        if (code == 9 && len >= 1) {
            uint8_t v = opt[4];
            uint64_t base = (v & 0x80) ? 2 : 10;
            unsigned int exp = v & 0x7f;
            if ((base == 10 && exp <= 19) || (base == 2 && exp <= 63)) {
                per_sec = 1;
                for (unsigned int i = 0; i < exp; i++) {
                    per_sec *= base;
                }
            }
        }
        opt += 4 + padded;
        left -= 4 + padded;
    }
    return per_sec;
}

static int
ng_section(struct pcap_reader *r, const uint8_t *b, uint32_t body_len)
{
    if (body_len < 24) {
        return fail(r, "section header block too short");
    }
    uint32_t bom;
    memcpy(&bom, b + 8, 4);
    if (bom == PCAPNG_BOM) {
        r->swap = false;
    } else if (__builtin_bswap32(bom) == PCAPNG_BOM) {
        r->swap = true;
    } else {
        return fail(r, "bad byte-order magic in section header");
    }
    if (rd16(r, b + 12) != 1) {
        return fail(r, "unsupported pcapng major version");
    }
    r->n_ifaces = 0;
    return 0;
}

static int
ng_iface(struct pcap_reader *r, const uint8_t *b, uint32_t body_len)
{
    if (body_len < 16) {
        return fail(r, "interface description block too short");
    }
    if (r->n_ifaces == PCAPNG_MAX_IFACES) {
        return fail(r, "too many interfaces");
    }
    struct pcap_iface *i = &r->ifaces[r->n_ifaces++];
    i->linktype = rd16(r, b + 8);
    i->snaplen = rd32(r, b + 12);
    i->ts_per_sec = idb_ts_per_sec(r, b + 16, body_len - 16);
    return 0;
}

static int64_t
ng_ts(uint64_t ts, uint64_t per_sec)
{
    if (per_sec == 1000000000) {
        return (int64_t) ts;
    }
    uint64_t sec = ts / per_sec, frac = ts % per_sec;
    return (int64_t) (sec * 1000000000ull
                      + (uint64_t) ((double) frac * 1e9 / (double) per_sec));
}

/* Fills 'rec' from a packet block's body.  Returns 1 or -EINVAL. */
static int
ng_packet(struct pcap_reader *r, uint32_t type, const uint8_t *b,
          uint32_t body_len, struct pcap_record *rec)
{
    uint32_t ifid, caplen, origlen, hdr;
    uint64_t ts = 0;
    if (type == PCAPNG_SPB) {
        if (body_len < 12) {
            return fail(r, "simple packet block too short");
        }
        ifid = 0;
        origlen = rd32(r, b + 8);
        hdr = 12;
        caplen = VF_MIN(origlen, body_len - hdr);
    } else {
        if (body_len < 28) {
            return fail(r, "packet block too short");
        }
        ifid = type == PCAPNG_EPB ? rd32(r, b + 8) : rd16(r, b + 8);
        ts = ((uint64_t) rd32(r, b + 12) << 32) | rd32(r, b + 16);
        caplen = rd32(r, b + 20);
        origlen = rd32(r, b + 24);
        hdr = 28;
        if (caplen > body_len - hdr) {
            return fail(r, "packet data longer than its block");
        }
    }
    if (ifid >= r->n_ifaces) {
        return fail(r, "packet for an undefined interface");
    }
    if (type == PCAPNG_SPB) {
        caplen = VF_MIN(caplen, r->ifaces[0].snaplen ? r->ifaces[0].snaplen
                                                     : caplen);
    }
    if (caplen > PCAP_MAX_RECORD) {
        return fail(r, "record length too large");
    }
    rec->data = b + hdr;
    rec->caplen = caplen;
    rec->origlen = origlen;
    rec->linktype = r->ifaces[ifid].linktype;
    rec->ts_ns = ng_ts(ts, r->ifaces[ifid].ts_per_sec);
    return 1;
}

static int
ng_next(struct pcap_reader *r, struct pcap_record *rec)
{
    for (;;) {
        if (r->ofs == r->size) {
            return 0;
        }
        if (r->size - r->ofs < 12) {
            return fail(r, "block header cut short");
        }
        const uint8_t *b = r->data + r->ofs;
        uint32_t type;
        memcpy(&type, b, 4);
        if (type == PCAPNG_SHB) {
            /* The SHB's own byte order decides how to read its length. */
            uint32_t bom;
            memcpy(&bom, b + 8, 4);
            r->swap = bom != PCAPNG_BOM;
        } else {
            type = rd32(r, b);
        }
        uint32_t len = rd32(r, b + 4);
        if (len < 12 || len % 4 || len > r->size - r->ofs) {
            return fail(r, "bad block length");
        }
        if (rd32(r, b + len - 4) != len) {
            return fail(r, "block trailer does not match its length");
        }
        uint32_t body_len = len - 4;   /* Body and header, no trailer. */
        int rc = 0;
        if (type == PCAPNG_SHB) {
            rc = ng_section(r, b, body_len);
        } else if (type == PCAPNG_IDB) {
            rc = ng_iface(r, b, body_len);
        } else if (type == PCAPNG_EPB || type == PCAPNG_SPB
                   || type == PCAPNG_OPB) {
            rc = ng_packet(r, type, b, body_len, rec);
        }
        if (rc < 0) {
            return rc;
        }
        r->ofs += len;
        if (rc == 1) {
            return 1;
        }
    }
}

int
pcap_reader_next(struct pcap_reader *r, struct pcap_record *rec)
{
    if (r->failed) {
        return -EINVAL;
    }
    return r->ng ? ng_next(r, rec) : classic_next(r, rec);
}

/* ---- pcapng writer ---- */

struct pcapng_writer {
    FILE *f;
    uint32_t snaplen;
};

static int
write_all(FILE *f, const void *p, size_t n)
{
    return fwrite(p, 1, n, f) == n ? 0 : -EIO;
}

static int
write_block(FILE *f, uint32_t type, const void *body, uint32_t body_size,
            const void *data, uint32_t data_size)
{
    static const uint8_t zeros[4];
    uint32_t pad = (4 - data_size % 4) % 4;
    uint32_t len = 12 + body_size + data_size + pad;
    int rc = write_all(f, &type, 4);
    rc = rc ? rc : write_all(f, &len, 4);
    rc = rc ? rc : write_all(f, body, body_size);
    if (data_size) {
        rc = rc ? rc : write_all(f, data, data_size);
        rc = rc ? rc : write_all(f, zeros, pad);
    }
    return rc ? rc : write_all(f, &len, 4);
}

struct pcapng_writer *
pcapng_writer_create(FILE *f, const char *if_name, uint32_t snaplen)
{
    struct {
        uint32_t bom;
        uint16_t major, minor;
        int64_t section_len;
    } VF_PACKED shb = {PCAPNG_BOM, 1, 0, -1};
    uint8_t idb[64];
    size_t name_len = if_name ? VF_MIN(strlen(if_name), 32u) : 0;
    size_t n = 0;
    uint16_t u16;
    uint32_t u32;
    u16 = PCAP_LINKTYPE_ETHERNET;
    memcpy(idb + n, &u16, 2), n += 2;
    u16 = 0;
    memcpy(idb + n, &u16, 2), n += 2;
    memcpy(idb + n, &snaplen, 4), n += 4;
    if (name_len) {              /* if_name (code 2). */
        u16 = 2;
        memcpy(idb + n, &u16, 2), n += 2;
        u16 = (uint16_t) name_len;
        memcpy(idb + n, &u16, 2), n += 2;
        memset(idb + n, 0, VF_ROUND_UP(name_len, 4));
        memcpy(idb + n, if_name, name_len);
        n += VF_ROUND_UP(name_len, 4);
    }
    u32 = 9 | (1u << 16);        /* if_tsresol (code 9), length 1: 10^-9. */
    memcpy(idb + n, &u32, 4), n += 4;
    u32 = 9;
    memcpy(idb + n, &u32, 4), n += 4;
    u32 = 0;                     /* opt_endofopt */
    memcpy(idb + n, &u32, 4), n += 4;

    if (write_block(f, PCAPNG_SHB, &shb, sizeof shb, NULL, 0)
        || write_block(f, PCAPNG_IDB, idb, (uint32_t) n, NULL, 0)) {
        errno = EIO;
        return NULL;
    }
    struct pcapng_writer *w = vf_xcalloc(1, sizeof *w);
    w->f = f;
    w->snaplen = snaplen ? snaplen : PCAP_MAX_RECORD;
    return w;
}

int
pcapng_writer_write(struct pcapng_writer *w, int64_t ts_ns,
                    const void *frame, uint32_t size, uint32_t origlen)
{
    uint32_t caplen = VF_MIN(size, w->snaplen);
    uint32_t hdr[5] = {0, (uint32_t) ((uint64_t) ts_ns >> 32),
                       (uint32_t) ts_ns, caplen, origlen};
    return write_block(w->f, PCAPNG_EPB, hdr, sizeof hdr, frame, caplen);
}

void
pcapng_writer_destroy(struct pcapng_writer *w)
{
    if (w) {
        fflush(w->f);
        free(w);
    }
}
