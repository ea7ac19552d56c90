/*
 * http_parse.h - the small request parsers of `defter ui` that are ours (not libmicrohttpd's):
 * Host and Origin checks, the session cookie, one-time tokens, URL paths and byte ranges.
 *
 * Pure functions over caller-supplied strings: no allocation, no I/O, no logging. Every input
 * is hostile (they run before any session check) and is fuzzed by fuzz/http_parse.c. They
 * must never read past the given lengths or NUL terminators, nor accept anything ambiguous
 * (two cookies of the same name, a second range, a path with "..").
 */
#ifndef DEFTER_SERVER_HTTP_PARSE_H
#define DEFTER_SERVER_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define DFT_HTTP_PATH_MAX 512 /* longest URL path we route */

/* 1 when host is exactly "127.0.0.1:PORT" or "localhost:PORT" (DNS rebinding guard). */
int http_host_ok(const char *host, uint16_t port);

/*
 * 1 when origin is exactly "http://" followed by host (host already passed http_host_ok):
 * a same-origin request from our own pages.
 */
int http_origin_ok(const char *origin, const char *host);

/*
 * 1 when a request may go on by its Sec-Fetch-Site header: absent (not a browser, or an old
 * one), "same-origin" or "none" (typed or pasted URL). "same-site" is refused too: another
 * port of 127.0.0.1 is the same site, so its pages' requests carry our SameSite cookie.
 */
int dft_http_fetch_site_ok(const char *site);

/*
 * Find cookie name in a Cookie header ("a=1; b=2"). On success *val and *val_len point into
 * header. 0 when absent, malformed, or present more than once (cookie tossing).
 */
int http_cookie_find(const char *header, const char *name, const char **val, size_t *val_len);

/*
 * 1 when given equals expected (both NUL-terminated secrets of DFT token form, lower-case hex),
 * compared in time independent of where they differ. An empty expected never matches.
 */
int http_token_eq(const char *given, size_t given_len, const char *expected);

/*
 * 1 when path (already percent-decoded) is safe to route: starts with '/', at most
 * DFT_HTTP_PATH_MAX bytes, printable ASCII only, no "." or ".." segment, no empty segment
 * ("//"), no backslash.
 */
int http_path_ok(const char *path);

/*
 * Percent-decode s in place (URL paths and query values) and return the new length. A decoded
 * NUL becomes 0x01, so a later check refuses it instead of the C string ending early
 * ("/index.html%00.js"); a malformed escape ("%zz", "%4") is kept as it is.
 */
size_t http_unescape(char *s);

enum dft_http_range {
    DFT_HTTP_RANGE_NONE = 0,          /* no Range header: send everything */
    DFT_HTTP_RANGE_OK = 1,            /* one satisfiable range in *first..*last (inclusive) */
    DFT_HTTP_RANGE_BAD = -1,          /* malformed or several ranges: ignore it, send everything */
    DFT_HTTP_RANGE_UNSATISFIABLE = -2 /* 416 */
};

/* Parse a Range header ("bytes=A-B", "bytes=A-", "bytes=-N") against a resource of size total. */
enum dft_http_range http_range_parse(const char *header, uint64_t total, uint64_t *first,
                                     uint64_t *last);

#endif
