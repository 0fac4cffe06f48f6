/* SPDX-License-Identifier: Apache-2.0 */
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *
vf_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        fputs("vfab: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *
vf_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fputs("vfab: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *
vf_xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (!p) {
        fputs("vfab: out of memory\n", stderr);
        abort();
    }
    return p;
}

char *
vf_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(vf_xmalloc(n), s, n);
}

char *
vf_xasprintf(const char *fmt, ...)
{
    struct vf_buf b = VF_BUF_INITIALIZER;
    va_list args;
    va_start(args, fmt);
    vf_buf_vprintf(&b, fmt, args);
    va_end(args);
    return vf_buf_steal(&b);
}

void
vf_buf_init(struct vf_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void
vf_buf_uninit(struct vf_buf *b)
{
    free(b->data);
    vf_buf_init(b);
}

void
vf_buf_clear(struct vf_buf *b)
{
    b->len = 0;
    if (b->data) {
        b->data[0] = '\0';
    }
}

void
vf_buf_reserve(struct vf_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap) {
        return;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        cap *= 2;
    }
    b->data = vf_xrealloc(b->data, cap);
    b->cap = cap;
}

void
vf_buf_put(struct vf_buf *b, const void *p, size_t size)
{
    vf_buf_reserve(b, size);
    memcpy(b->data + b->len, p, size);
    b->len += size;
    b->data[b->len] = '\0';
}

void
vf_buf_puts(struct vf_buf *b, const char *s)
{
    vf_buf_put(b, s, strlen(s));
}

void
vf_buf_putc(struct vf_buf *b, char c)
{
    vf_buf_put(b, &c, 1);
}

void
vf_buf_vprintf(struct vf_buf *b, const char *fmt, va_list args)
{
    va_list copy;
    va_copy(copy, args);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n <= 0) {
        return;
    }
    vf_buf_reserve(b, (size_t) n);
    vsnprintf(b->data + b->len, (size_t) n + 1, fmt, args);
    b->len += (size_t) n;
}

void
vf_buf_printf(struct vf_buf *b, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vf_buf_vprintf(b, fmt, args);
    va_end(args);
}

const char *
vf_buf_cstr(const struct vf_buf *b)
{
    return b->data ? b->data : "";
}

char *
vf_buf_steal(struct vf_buf *b)
{
    char *s = b->data ? b->data : vf_xstrdup("");
    vf_buf_init(b);
    return s;
}
