/*
 * buf.c - struct dft_buf, the one growable byte buffer.
 *
 * Secure buffers never realloc: they allocate anew with sodium_malloc, copy, and free the old
 * block with sodium_free (which wipes it). A failed append leaves the buffer as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "defter/core.h"

void
dft_buf_init(struct dft_buf *b, size_t max, int secure)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->secure = secure ? 1 : 0;
}

enum dft_err
dft_buf_reserve(struct dft_buf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n) {
        return DFT_ERR_TOO_LARGE;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap) {
        return DFT_OK;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    }
    unsigned char *p;
    if (b->secure) {
        if (sodium_init() < 0) { /* idempotent; secure memory needs it */
            return DFT_ERR_CRYPTO;
        }
        p = sodium_malloc(cap);
        if (p == NULL) {
            return DFT_ERR_NOMEM;
        }
        if (b->data != NULL) {
            memcpy(p, b->data, b->len + 1);
            sodium_free(b->data);
        }
    } else {
        p = realloc(b->data, cap);
        if (p == NULL) {
            return DFT_ERR_NOMEM;
        }
    }
    if (b->data == NULL) {
        p[0] = '\0';
    }
    b->data = p;
    b->cap = cap;
    return DFT_OK;
}

enum dft_err
dft_buf_add(struct dft_buf *b, const void *p, size_t n)
{
    enum dft_err rc = dft_buf_reserve(b, n);
    if (rc != DFT_OK) {
        return rc;
    }
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return DFT_OK;
}

enum dft_err
dft_buf_adds(struct dft_buf *b, const char *s)
{
    return dft_buf_add(b, s, strlen(s));
}

enum dft_err
dft_buf_addf(struct dft_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return DFT_ERR_INTERNAL;
    }
    enum dft_err rc = dft_buf_reserve(b, (size_t)n);
    if (rc != DFT_OK) {
        return rc;
    }
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return DFT_OK;
}

unsigned char *
dft_buf_take(struct dft_buf *b, size_t *len)
{
    unsigned char *p = b->data;
    if (len != NULL) {
        *len = b->len;
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

void
dft_buf_reset(struct dft_buf *b)
{
    if (b->data != NULL) {
        if (b->secure) {
            sodium_memzero(b->data, b->len);
        }
        b->data[0] = '\0';
    }
    b->len = 0;
}

void
dft_buf_release(struct dft_buf *b)
{
    if (b->data != NULL) {
        if (b->secure) {
            sodium_free(b->data);
        } else {
            free(b->data);
        }
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
