/*
 * logging.c - the library's single logging callback.
 *
 * The library logs ids and codes only; never names, field values, passphrases or keys.
 */
#include <stdio.h>

#include "defter/core.h"

static dft_log_fn log_fn;
static void *log_ctx;
static enum dft_log_level log_max = DFT_LOG_WARN;

void
dft_log_set(dft_log_fn fn, void *ctx, enum dft_log_level max_level)
{
    log_fn = fn;
    log_ctx = ctx;
    log_max = max_level;
}

int
dft_log_enabled(enum dft_log_level level)
{
    return log_fn != NULL && level <= log_max;
}

void
dft_log_write(enum dft_log_level level, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || log_fn == NULL) {
        return;
    }
    log_fn(log_ctx, level, line);
}
