/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the frame parser, the tunnel inner parser and the JSON
 * formatter on arbitrary bytes.  Invariants checked beyond "no crash, no
 * out-of-bounds read": offsets stay inside the frame and a complete parse
 * reports no truncated layer. */
#include <stdint.h>
#include <stdlib.h>

#include "net/flow-format.h"
#include "net/parse.h"
#include "util/jsonw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_offsets(const struct flow_parse_info *info, size_t size, bool ok)
{
    const uint16_t ofs[] = {info->l3_ofs, info->l4_ofs, info->l7_ofs,
                            info->inner_ofs, info->tun_ofs};
    for (size_t i = 0; i < sizeof ofs / sizeof ofs[0]; i++) {
        if (ofs[i] != PARSE_OFS_NONE && ofs[i] > size) {
            abort();
        }
    }
    if (ok != (info->truncated == 0)) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct flow_key key, inner;
    struct flow_parse_info info, inner_info;
    bool ok = flow_parse(data, (uint32_t) size, 1, &key, &info);
    check_offsets(&info, size, ok);

    struct vf_buf out = VF_BUF_INITIALIZER;
    struct vf_jw w;
    vf_jw_init(&w, &out);
    vf_jw_obj_begin(&w);
    flow_key_format_json(&w, &key, &info);
    if (info.tunnel && info.inner_ofs != PARSE_OFS_NONE) {
        ok = flow_parse_inner(data, (uint32_t) size, &key, &info, &inner,
                              &inner_info);
        check_offsets(&inner_info, size, ok);
        vf_jw_key(&w, "inner");
        vf_jw_obj_begin(&w);
        flow_key_format_json(&w, &inner, &inner_info);
        vf_jw_obj_end(&w);
    }
    vf_jw_obj_end(&w);
    vf_buf_uninit(&out);
    (void) flow_rss_hash(&key, 0);
    (void) flow_rss_hash_symmetric(&key, 0);
    return 0;
}
