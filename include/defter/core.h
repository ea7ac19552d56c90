/*
 * core.h - errors, the one buffer type, logging, encodings.
 *
 * Everything else in libdefter builds on these. Nothing here prints, exits or aborts on bad
 * input; a library that a server embeds must not (see STYLE.md section 3).
 */
#ifndef DEFTER_CORE_H
#define DEFTER_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#define DFT_EXPORT       __attribute__((visibility("default")))
#define DFT_MUST_CHECK   __attribute__((warn_unused_result))
#define DFT_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Error codes are never renumbered: scripts and the CLI exit statuses rely on them. */
enum dft_err {
    DFT_OK = 0,
    DFT_ERR_USAGE,      /* the caller asked for something malformed (CLI exit 2) */
    DFT_ERR_INPUT,      /* bad user input: malformed JSON, unknown type... (exit 1) */
    DFT_ERR_PASSPHRASE, /* wrong passphrase (exit 1) */
    DFT_ERR_INTEGRITY,  /* tampering, corruption, bad proof (exit 3) */
    DFT_ERR_NOT_FOUND,  /* unknown id or missing file (exit 1) */
    DFT_ERR_IO,         /* the operating system refused (exit 1) */
    DFT_ERR_NOMEM,      /* allocation failed (exit 1) */
    DFT_ERR_TOO_LARGE,  /* input above a documented cap (exit 1) */
    DFT_ERR_CRYPTO,     /* a crypto library failed unexpectedly (exit 1) */
    DFT_ERR_INTERNAL,   /* a bug or an SQLite error we did not expect (exit 1) */
    DFT_ERR_BUSY        /* the vault is in use by another process (exit 1) */
};

#define DFT_ERROR_SIZE 256

struct dft_error {
    enum dft_err code;        /* DFT_OK until the first failure is recorded */
    char msg[DFT_ERROR_SIZE]; /* one line, lower case, no full stop */
};

/* Static description of a code. Never NULL. */
DFT_EXPORT const char *dft_strerror(enum dft_err code);

/*
 * Record a failure in err (which may be NULL) and return code. The first message set wins: the
 * deepest cause is the most precise, so callers higher up cannot overwrite it.
 */
DFT_EXPORT enum dft_err dft_fail(struct dft_error *err, enum dft_err code, const char *fmt, ...)
    DFT_PRINTF(3, 4);

/* Reset err to DFT_OK with an empty message. */
DFT_EXPORT void dft_error_clear(struct dft_error *err);

/* Programming errors only; never reached by bad input. */
#define DFT_ASSERT(x)                                                                              \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            dft_assert_fail(#x, __FILE__, __LINE__);                                               \
        }                                                                                          \
    } while (0)
DFT_EXPORT _Noreturn void dft_assert_fail(const char *expr, const char *file, int line);

/* ---- dft_buf: the one growable byte buffer (always NUL-terminated after data) ---- */

struct dft_buf {
    unsigned char *data; /* NULL until the first append; NUL-terminated after data */
    size_t len;          /* bytes in use, excluding the terminator */
    size_t cap;          /* bytes allocated */
    size_t max;          /* hard limit on len; appends past it fail with DFT_ERR_TOO_LARGE */
    unsigned secure : 1; /* data lives in sodium_malloc memory and is wiped on release */
};

DFT_EXPORT void dft_buf_init(struct dft_buf *b, size_t max, int secure);
DFT_EXPORT enum dft_err dft_buf_add(struct dft_buf *b, const void *p, size_t n) DFT_MUST_CHECK;
DFT_EXPORT enum dft_err dft_buf_adds(struct dft_buf *b, const char *s) DFT_MUST_CHECK;
DFT_EXPORT enum dft_err dft_buf_addf(struct dft_buf *b, const char *fmt, ...)
    DFT_PRINTF(2, 3) DFT_MUST_CHECK;
/* Make room for n more bytes without changing len. */
DFT_EXPORT enum dft_err dft_buf_reserve(struct dft_buf *b, size_t n) DFT_MUST_CHECK;
/* Hand the data out (caller frees with free(), or sodium_free() when secure); b is reset. */
DFT_EXPORT unsigned char *dft_buf_take(struct dft_buf *b, size_t *len);
DFT_EXPORT void dft_buf_reset(struct dft_buf *b); /* len = 0, keeps memory */
DFT_EXPORT void dft_buf_release(struct dft_buf *b);

/* ---- logging through one host callback ---- */

enum dft_log_level { DFT_LOG_ERROR = 0, DFT_LOG_WARN, DFT_LOG_INFO, DFT_LOG_DEBUG };
typedef void (*dft_log_fn)(void *ctx, enum dft_log_level level, const char *msg);
/* Install the callback (NULL: discard) and the most verbose level passed to it. */
DFT_EXPORT void dft_log_set(dft_log_fn fn, void *ctx, enum dft_log_level max_level);
DFT_EXPORT int dft_log_enabled(enum dft_log_level level);
DFT_EXPORT void dft_log_write(enum dft_log_level level, const char *fmt, ...) DFT_PRINTF(2, 3);
/* Never log names, field values, passphrases or keys: ids and codes only. */
#define dft_log(level, ...)                                                                        \
    do {                                                                                           \
        if (dft_log_enabled(level)) {                                                              \
            dft_log_write(level, __VA_ARGS__);                                                     \
        }                                                                                          \
    } while (0)

/* ---- encodings ---- */

/* Standard base64 with padding (as C2SP). out must hold dft_b64_len(n) bytes incl. NUL. */
#define dft_b64_len(n) ((((n) + 2) / 3) * 4 + 1)
DFT_EXPORT void dft_b64_encode(char *out, const unsigned char *in, size_t n);
/* Strict decode: padding required, no whitespace. Fails with DFT_ERR_INPUT. */
DFT_EXPORT enum dft_err dft_b64_decode(unsigned char *out, size_t out_max, size_t *out_len,
                                       const char *in, size_t in_len) DFT_MUST_CHECK;
/* Big-endian unsigned integers of n bytes (1 to 8), as every Defter format stores them. */
DFT_EXPORT void dft_be_put(unsigned char *p, uint64_t v, size_t n);
DFT_EXPORT uint64_t dft_be_get(const unsigned char *p, size_t n);

/* Lower-case hex; out must hold 2n+1 bytes. */
DFT_EXPORT void dft_hex_encode(char *out, const unsigned char *in, size_t n);
DFT_EXPORT enum dft_err dft_hex_decode(unsigned char *out, size_t n, const char *in) DFT_MUST_CHECK;

/* 1 when s[0..n) is well-formed UTF-8 without NUL bytes. */
DFT_EXPORT int dft_utf8_valid(const char *s, size_t n);

/* Current time as RFC 3339 UTC with milliseconds, e.g. 2026-11-29T09:30:12.345Z (25 bytes). */
#define DFT_TS_BYTES 25
DFT_EXPORT void dft_time_now(char out[DFT_TS_BYTES]);

/*
 * Give jansson memory from the library's wiped pool: excluded from core dumps, wiped when freed
 * (call once at start, before any json_t exists).
 */
DFT_EXPORT void dft_json_wipe_on_free(void);
/* Free a string jansson made (json_dumps): with jansson's allocator, never free(). NULL allowed. */
DFT_EXPORT void dft_json_string_free(char *s);

#endif
