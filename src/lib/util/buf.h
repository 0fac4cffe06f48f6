/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_UTIL_BUF_H
#define VFAB_UTIL_BUF_H 1

/* A growable byte buffer, always NUL-terminated, for building text (JSON,
 * tables, error messages).  Control path only: it allocates.  On allocation
 * failure it aborts, as every control-path allocation in vfab does (a daemon
 * out of memory cannot do anything useful). */

#include <stdarg.h>
#include <stddef.h>

#include "util/compiler.h"

struct vf_buf {
    char *data;      /* NUL-terminated; NULL until the first append. */
    size_t len;      /* Bytes used, excluding the NUL. */
    size_t cap;      /* Bytes allocated. */
};

#define VF_BUF_INITIALIZER {NULL, 0, 0}

void vf_buf_init(struct vf_buf *b);
void vf_buf_uninit(struct vf_buf *b);
void vf_buf_clear(struct vf_buf *b);
void vf_buf_reserve(struct vf_buf *b, size_t extra);
void vf_buf_put(struct vf_buf *b, const void *p, size_t size);
void vf_buf_puts(struct vf_buf *b, const char *s);
void vf_buf_putc(struct vf_buf *b, char c);
void vf_buf_printf(struct vf_buf *b, const char *fmt, ...) VF_PRINTF(2, 3);
void vf_buf_vprintf(struct vf_buf *b, const char *fmt, va_list args);

/* Returns the contents ("" when empty); valid until the next change. */
const char *vf_buf_cstr(const struct vf_buf *b);

/* Hands the contents to the caller (who frees them) and empties 'b'. */
char *vf_buf_steal(struct vf_buf *b);

/* Allocation helpers that abort on failure (control path). */
void *vf_xmalloc(size_t size);
void *vf_xcalloc(size_t n, size_t size);
void *vf_xrealloc(void *p, size_t size);
char *vf_xstrdup(const char *s);
char *vf_xasprintf(const char *fmt, ...) VF_PRINTF(1, 2);

#endif /* util/buf.h */
