/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_NET_PCAP_FILE_H
#define VFAB_NET_PCAP_FILE_H 1

/* Capture files: reading classic pcap and pcapng, writing pcapng.
 *
 * Reader: accepts classic pcap (microsecond and nanosecond magics, either
 * byte order) and pcapng (any number of sections of either byte order,
 * several interfaces, Enhanced, Simple and obsolete Packet Blocks; other
 * blocks are skipped).  The file is mapped or read whole; every length in
 * it is checked before use, so a corrupt file ends the read with an error
 * message naming the byte offset and never reads out of bounds
 * (tests/fuzz/fuzz-pcap.c).
 *
 * Writer: pcapng with one Ethernet interface and nanosecond timestamps,
 * which tshark and Wireshark read. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PCAP_LINKTYPE_ETHERNET 1
#define PCAP_MAX_RECORD 262144   /* Largest captured length accepted. */

struct pcap_reader;

struct pcap_record {
    const uint8_t *data;         /* Valid until the next call. */
    uint32_t caplen;             /* Bytes at 'data'. */
    uint32_t origlen;            /* Length on the wire. */
    int64_t ts_ns;               /* Nanoseconds since the epoch. */
    uint32_t linktype;           /* PCAP_LINKTYPE_*. */
};

/* Opens 'path'.  Returns the reader, or NULL with '*errp' set to a message
 * (caller frees). */
struct pcap_reader *pcap_reader_open(const char *path, char **errp);

/* Reads from 'size' bytes at 'data', which must outlive the reader. */
struct pcap_reader *pcap_reader_open_mem(const void *data, size_t size,
                                         char **errp);

/* Reads the next record into 'rec'.  Returns 1 for a record, 0 at the end
 * of the file, -EINVAL for a corrupt file (pcap_reader_error() says where
 * and why; further calls return -EINVAL). */
int pcap_reader_next(struct pcap_reader *r, struct pcap_record *rec);

/* Returns the last error message, or NULL. */
const char *pcap_reader_error(const struct pcap_reader *r);

/* "pcap" or "pcapng". */
const char *pcap_reader_format(const struct pcap_reader *r);

/* NULL is a no-op. */
void pcap_reader_close(struct pcap_reader *r);

struct pcapng_writer;

/* Starts a pcapng stream on 'f' (not closed by the writer) with one
 * Ethernet interface named 'if_name' and snap length 'snaplen'.  Returns
 * NULL with errno on failure. */
struct pcapng_writer *pcapng_writer_create(FILE *f, const char *if_name,
                                           uint32_t snaplen);

/* Writes one frame; 'origlen' is its length on the wire, 'size' bytes of
 * it are stored (cut to the snap length).  Returns 0 or -errno. */
int pcapng_writer_write(struct pcapng_writer *w, int64_t ts_ns,
                        const void *frame, uint32_t size, uint32_t origlen);

/* Flushes and frees 'w' (not the FILE).  NULL is a no-op. */
void pcapng_writer_destroy(struct pcapng_writer *w);

#endif /* net/pcap-file.h */
