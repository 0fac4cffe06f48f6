/* SPDX-License-Identifier: Apache-2.0 */
#include "util/jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "util/compiler.h"

void
vf_jw_init(struct vf_jw *w, struct vf_buf *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
}

/* Writes the separator that must precede a value at the current depth. */
static void
jw_value_prefix(struct vf_jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->need_comma[w->depth]) {
        vf_buf_putc(w->out, ',');
    }
    w->need_comma[w->depth] = true;
}

static void
jw_open(struct vf_jw *w, char c)
{
    jw_value_prefix(w);
    VF_VERIFY(w->depth < VF_JW_MAX_DEPTH);
    vf_buf_putc(w->out, c);
    w->depth++;
    w->need_comma[w->depth] = false;
}

static void
jw_close(struct vf_jw *w, char c)
{
    VF_VERIFY(w->depth > 0);
    w->depth--;
    vf_buf_putc(w->out, c);
}

void
vf_jw_obj_begin(struct vf_jw *w)
{
    jw_open(w, '{');
}

void
vf_jw_obj_end(struct vf_jw *w)
{
    jw_close(w, '}');
}

void
vf_jw_arr_begin(struct vf_jw *w)
{
    jw_open(w, '[');
}

void
vf_jw_arr_end(struct vf_jw *w)
{
    jw_close(w, ']');
}

/* Returns the length of the valid UTF-8 sequence at 's' (at most 'len'
 * bytes available), or 0 if it is not valid. */
static size_t
utf8_seq_len(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n > len) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

void
vf_json_escape(struct vf_buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *) s;
    vf_buf_putc(out, '"');
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            vf_buf_putc(out, '\\');
            vf_buf_putc(out, (char) c);
            i++;
        } else if (c == '\n') {
            vf_buf_puts(out, "\\n");
            i++;
        } else if (c == '\t') {
            vf_buf_puts(out, "\\t");
            i++;
        } else if (c == '\r') {
            vf_buf_puts(out, "\\r");
            i++;
        } else if (c < 0x20) {
            vf_buf_printf(out, "\\u%04x", c);
            i++;
        } else {
            size_t n = utf8_seq_len(p + i, len - i);
            if (n == 0) {
                vf_buf_printf(out, "\\u%04x", c);
                i++;
            } else {
                vf_buf_put(out, p + i, n);
                i += n;
            }
        }
    }
    vf_buf_putc(out, '"');
}

void
vf_jw_key(struct vf_jw *w, const char *key)
{
    VF_VERIFY(!w->after_key);
    jw_value_prefix(w);
    vf_json_escape(w->out, key, strlen(key));
    vf_buf_putc(w->out, ':');
    w->after_key = true;
}

void
vf_jw_strn(struct vf_jw *w, const char *s, size_t len)
{
    jw_value_prefix(w);
    vf_json_escape(w->out, s, len);
}

void
vf_jw_str(struct vf_jw *w, const char *s)
{
    vf_jw_strn(w, s, strlen(s));
}

void
vf_jw_u64(struct vf_jw *w, uint64_t v)
{
    jw_value_prefix(w);
    vf_buf_printf(w->out, "%" PRIu64, v);
}

void
vf_jw_i64(struct vf_jw *w, int64_t v)
{
    jw_value_prefix(w);
    vf_buf_printf(w->out, "%" PRId64, v);
}

void
vf_jw_double(struct vf_jw *w, double v)
{
    jw_value_prefix(w);
    if (isfinite(v)) {
        vf_buf_printf(w->out, "%.17g", v);
    } else {
        vf_buf_puts(w->out, "null");
    }
}

void
vf_jw_bool(struct vf_jw *w, bool v)
{
    jw_value_prefix(w);
    vf_buf_puts(w->out, v ? "true" : "false");
}

void
vf_jw_null(struct vf_jw *w)
{
    jw_value_prefix(w);
    vf_buf_puts(w->out, "null");
}

void
vf_jw_raw(struct vf_jw *w, const char *json)
{
    jw_value_prefix(w);
    vf_buf_puts(w->out, json);
}

void
vf_jw_kstr(struct vf_jw *w, const char *key, const char *s)
{
    vf_jw_key(w, key);
    vf_jw_str(w, s);
}

void
vf_jw_ku64(struct vf_jw *w, const char *key, uint64_t v)
{
    vf_jw_key(w, key);
    vf_jw_u64(w, v);
}

void
vf_jw_ki64(struct vf_jw *w, const char *key, int64_t v)
{
    vf_jw_key(w, key);
    vf_jw_i64(w, v);
}

void
vf_jw_kbool(struct vf_jw *w, const char *key, bool v)
{
    vf_jw_key(w, key);
    vf_jw_bool(w, v);
}
