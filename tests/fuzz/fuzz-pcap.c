/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the capture file reader (pcap and pcapng) followed by the
 * parser on every record, as `vfabctl decode` runs them. */
#include <stdint.h>
#include <stdlib.h>

#include "net/parse.h"
#include "net/pcap-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *err = NULL;
    struct pcap_reader *r = pcap_reader_open_mem(data, size, &err);
    if (!r) {
        free(err);
        return 0;
    }
    struct pcap_record rec;
    int n = 0;
    while (pcap_reader_next(r, &rec) == 1 && n++ < 100000) {
        if (rec.data < data || rec.data + rec.caplen > data + size) {
            abort();
        }
        struct flow_key key;
        struct flow_parse_info info;
        flow_parse(rec.data, rec.caplen, 0, &key, &info);
    }
    pcap_reader_close(r);
    return 0;
}
