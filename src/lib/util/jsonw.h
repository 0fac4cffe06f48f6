/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_UTIL_JSONW_H
#define VFAB_UTIL_JSONW_H 1

/* A streaming JSON writer into a struct vf_buf.
 *
 * Commas and quoting are handled here so that every formatter in vfab (flow
 * keys, statistics, command replies) produces valid JSON by construction:
 *
 *     vf_jw_obj_begin(&w);
 *     vf_jw_key(&w, "frame"); vf_jw_u64(&w, 1);
 *     vf_jw_obj_end(&w);
 *
 * Nesting is limited to VF_JW_MAX_DEPTH; deeper nesting is a programming
 * error (VF_VERIFY).  Strings are escaped per RFC 8259; bytes that are not
 * valid UTF-8 are written as \u00XX so the output stays valid. */

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

#define VF_JW_MAX_DEPTH 32

struct vf_jw {
    struct vf_buf *out;
    int depth;
    bool need_comma[VF_JW_MAX_DEPTH + 1];
    bool after_key;
};

void vf_jw_init(struct vf_jw *w, struct vf_buf *out);
void vf_jw_obj_begin(struct vf_jw *w);
void vf_jw_obj_end(struct vf_jw *w);
void vf_jw_arr_begin(struct vf_jw *w);
void vf_jw_arr_end(struct vf_jw *w);
void vf_jw_key(struct vf_jw *w, const char *key);
void vf_jw_str(struct vf_jw *w, const char *s);
void vf_jw_strn(struct vf_jw *w, const char *s, size_t len);
void vf_jw_u64(struct vf_jw *w, uint64_t v);
void vf_jw_i64(struct vf_jw *w, int64_t v);
void vf_jw_double(struct vf_jw *w, double v);
void vf_jw_bool(struct vf_jw *w, bool v);
void vf_jw_null(struct vf_jw *w);
/* Writes 'json', which must already be valid JSON text, as one value. */
void vf_jw_raw(struct vf_jw *w, const char *json);

/* Shorthands: key followed by a value. */
void vf_jw_kstr(struct vf_jw *w, const char *key, const char *s);
void vf_jw_ku64(struct vf_jw *w, const char *key, uint64_t v);
void vf_jw_ki64(struct vf_jw *w, const char *key, int64_t v);
void vf_jw_kbool(struct vf_jw *w, const char *key, bool v);

/* Appends 's' (length 'len') escaped as a JSON string, quotes included. */
void vf_json_escape(struct vf_buf *out, const char *s, size_t len);

#endif /* util/jsonw.h */
