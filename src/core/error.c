/*
 * error.c - error codes and the first-message-wins error record.
 *
 * Never prints or exits: the CLI decides what a code means for the user.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defter/core.h"

const char *
dft_strerror(enum dft_err code)
{
    switch (code) {
    case DFT_OK:
        return "success";
    case DFT_ERR_USAGE:
        return "usage error";
    case DFT_ERR_INPUT:
        return "invalid input";
    case DFT_ERR_PASSPHRASE:
        return "wrong passphrase";
    case DFT_ERR_INTEGRITY:
        return "integrity check failed";
    case DFT_ERR_NOT_FOUND:
        return "not found";
    case DFT_ERR_IO:
        return "input/output error";
    case DFT_ERR_NOMEM:
        return "out of memory";
    case DFT_ERR_TOO_LARGE:
        return "input too large";
    case DFT_ERR_CRYPTO:
        return "cryptographic library failure";
    case DFT_ERR_INTERNAL:
        return "internal error";
    case DFT_ERR_BUSY:
        return "vault is busy";
    }
    return "unknown error";
}

enum dft_err
dft_fail(struct dft_error *err, enum dft_err code, const char *fmt, ...)
{
    if (err == NULL || err->code != DFT_OK) {
        return code;
    }
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n < 0) {
        err->msg[0] = '\0';
    }
    /* Keep the message on one line whatever the format arguments held. */
    for (char *p = err->msg; *p; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
    return code;
}

void
dft_error_clear(struct dft_error *err)
{
    if (err != NULL) {
        err->code = DFT_OK;
        err->msg[0] = '\0';
    }
}

void
dft_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "defter: internal assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
