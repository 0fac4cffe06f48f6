/* SPDX-License-Identifier: Apache-2.0 */
/* `vfabctl decode FILE`: prints what vfab's parser sees in each frame of a
 * capture, one JSON object per line.  Needs no daemon.  It keeps going past
 * any malformed frame (that is what it is for); only a corrupt capture file
 * stops it, with a message on stderr and exit status 2. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/flow-format.h"
#include "net/parse.h"
#include "net/pcap-file.h"
#include "util/jsonw.h"
#include "vfabctl.h"

static void
decode_frame(struct vf_jw *w, const struct pcap_record *rec)
{
    struct flow_key key, inner;
    struct flow_parse_info info, inner_info;

    flow_parse(rec->data, rec->caplen, 0, &key, &info);
    flow_key_format_json(w, &key, &info);
    if (info.tunnel != FLOW_TUNNEL_NONE) {
        vf_jw_ku64(w, "tun_id", info.tun_vni);
    }
    if (info.truncated) {
        vf_jw_kstr(w, "truncated", flow_layer_name(info.truncated));
    }
    if (info.tunnel != FLOW_TUNNEL_NONE && info.inner_ofs != PARSE_OFS_NONE) {
        flow_parse_inner(rec->data, rec->caplen, &key, &info, &inner,
                         &inner_info);
        vf_jw_key(w, "inner");
        vf_jw_obj_begin(w);
        flow_key_format_json(w, &inner, &inner_info);
        if (inner_info.truncated) {
            vf_jw_kstr(w, "truncated", flow_layer_name(inner_info.truncated));
        }
        vf_jw_obj_end(w);
    }
}

int
cmd_decode(struct vfabctl *ctl, int argc, char **argv)
{
    (void) ctl;
    if (argc != 2) {
        fprintf(stderr, "usage: vfabctl decode FILE.pcap|FILE.pcapng\n");
        return 1;
    }
    char *err = NULL;
    struct pcap_reader *r = pcap_reader_open(argv[1], &err);
    if (!r) {
        fprintf(stderr, "vfabctl: %s\n", err);
        free(err);
        return 2;
    }
    struct vf_buf out = VF_BUF_INITIALIZER;
    struct pcap_record rec;
    uint64_t frame = 0;
    int rc;
    while ((rc = pcap_reader_next(r, &rec)) == 1) {
        struct vf_jw w;
        vf_buf_clear(&out);
        vf_jw_init(&w, &out);
        vf_jw_obj_begin(&w);
        vf_jw_ku64(&w, "frame", ++frame);
        if (rec.linktype == PCAP_LINKTYPE_ETHERNET) {
            decode_frame(&w, &rec);
        } else {
            vf_jw_kstr(&w, "error", "link type is not Ethernet");
            vf_jw_ku64(&w, "linktype", rec.linktype);
        }
        vf_jw_obj_end(&w);
        vf_buf_putc(&out, '\n');
        fwrite(out.data, 1, out.len, stdout);
    }
    vf_buf_uninit(&out);
    int status = 0;
    if (rc < 0) {
        fprintf(stderr, "vfabctl: %s: %s\n", argv[1], pcap_reader_error(r));
        status = 2;
    }
    pcap_reader_close(r);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "vfabctl: write error: %s\n", strerror(errno));
        status = 2;
    }
    return status;
}
