/*
 * http_parse.c - Host, Origin, cookie, token, path and Range parsing for `defter ui`.
 *
 * Every function here reads attacker-controlled bytes before any session check: they only
 * scan NUL-terminated strings, keep every length bounded, and answer "no" to anything not
 * exactly in the expected form. They must never allocate, log or compare secrets with memcmp.
 */
#include <string.h>

#include "server/http_parse.h"

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* 1 when s is exactly prefix followed by the decimal port (no leading zeros, no extra). */
static int
matches_host_port(const char *s, const char *prefix, uint16_t port)
{
    size_t pl = strlen(prefix);
    if (strncmp(s, prefix, pl) != 0) {
        return 0;
    }
    s += pl;
    if (*s != ':') {
        return 0;
    }
    s++;
    char digits[6];
    size_t n = 0;
    unsigned v = port;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 && n < sizeof digits);
    for (size_t i = 0; i < n; i++) {
        if (s[i] != digits[n - 1 - i]) {
            return 0;
        }
    }
    return s[n] == '\0';
}

int
http_host_ok(const char *host, uint16_t port)
{
    if (host == NULL || port == 0) {
        return 0;
    }
    return matches_host_port(host, "127.0.0.1", port) || matches_host_port(host, "localhost", port);
}

int
http_origin_ok(const char *origin, const char *host)
{
    static const char scheme[] = "http://";
    if (origin == NULL || host == NULL || host[0] == '\0') {
        return 0;
    }
    if (strncmp(origin, scheme, sizeof scheme - 1) != 0) {
        return 0;
    }
    return strcmp(origin + sizeof scheme - 1, host) == 0;
}

int
dft_http_fetch_site_ok(const char *site)
{
    return site == NULL || strcmp(site, "same-origin") == 0 || strcmp(site, "none") == 0;
}

int
http_cookie_find(const char *header, const char *name, const char **val, size_t *val_len)
{
    size_t nl = strlen(name);
    int found = 0;
    const char *p = header;
    if (header == NULL || nl == 0) {
        return 0;
    }
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ';') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        const char *start = p;
        while (*p != '\0' && *p != ';') {
            p++;
        }
        /* one pair in [start, p) */
        const char *eq = memchr(start, '=', (size_t)(p - start));
        if (eq == NULL) {
            continue;
        }
        const char *kend = eq;
        while (kend > start && (kend[-1] == ' ' || kend[-1] == '\t')) {
            kend--;
        }
        if ((size_t)(kend - start) == nl && memcmp(start, name, nl) == 0) {
            const char *v = eq + 1;
            const char *vend = p;
            while (v < vend && (*v == ' ' || *v == '\t')) {
                v++;
            }
            while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t')) {
                vend--;
            }
            if (found) {
                return 0; /* the same name twice: refuse rather than guess */
            }
            found = 1;
            *val = v;
            *val_len = (size_t)(vend - v);
        }
    }
    return found;
}

int
http_token_eq(const char *given, size_t given_len, const char *expected)
{
    size_t el = strlen(expected);
    unsigned char diff = 0;
    if (el == 0 || given == NULL || given_len != el) {
        return 0;
    }
    for (size_t i = 0; i < el; i++) {
        diff |= (unsigned char)(given[i] ^ expected[i]);
    }
    return diff == 0;
}

int
http_path_ok(const char *path)
{
    size_t len;
    if (path == NULL || path[0] != '/') {
        return 0;
    }
    len = strlen(path);
    if (len > DFT_HTTP_PATH_MAX) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c < 0x21 || c > 0x7e || c == '\\') {
            return 0;
        }
    }
    /* segments: between slashes */
    const char *seg = path + 1;
    while (1) {
        const char *end = strchr(seg, '/');
        size_t sl = end ? (size_t)(end - seg) : strlen(seg);
        if (sl == 0 && end != NULL) {
            return 0; /* "//" */
        }
        if ((sl == 1 && seg[0] == '.') || (sl == 2 && seg[0] == '.' && seg[1] == '.')) {
            return 0;
        }
        if (end == NULL) {
            break;
        }
        seg = end + 1;
    }
    return 1;
}

static int
hex_val(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

size_t
http_unescape(char *s)
{
    char *w = s;
    const char *r = s;
    while (*r != '\0') {
        int hi, lo;
        if (r[0] == '%' && (hi = hex_val(r[1])) >= 0 && (lo = hex_val(r[2])) >= 0) {
            int v = hi * 16 + lo;
            *w++ = (char)(v == 0 ? 1 : v);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* Parse decimal digits at *p into *out (no sign, no overflow); 0 when none or too big. */
static int
parse_u64(const char **p, uint64_t *out)
{
    uint64_t v = 0;
    const char *s = *p;
    if (!is_digit(*s)) {
        return 0;
    }
    while (is_digit(*s)) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return 0;
        }
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *out = v;
    return 1;
}

enum dft_http_range
http_range_parse(const char *header, uint64_t total, uint64_t *first, uint64_t *last)
{
    static const char unit[] = "bytes=";
    uint64_t a = 0, b = 0;
    const char *p;
    if (header == NULL) {
        return DFT_HTTP_RANGE_NONE;
    }
    if (strncmp(header, unit, sizeof unit - 1) != 0) {
        return DFT_HTTP_RANGE_BAD;
    }
    p = header + sizeof unit - 1;
    if (*p == '-') {
        p++;
        if (!parse_u64(&p, &b) || *p != '\0') {
            return DFT_HTTP_RANGE_BAD;
        }
        if (b == 0 || total == 0) {
            return DFT_HTTP_RANGE_UNSATISFIABLE;
        }
        *first = b >= total ? 0 : total - b;
        *last = total - 1;
        return DFT_HTTP_RANGE_OK;
    }
    if (!parse_u64(&p, &a) || *p != '-') {
        return DFT_HTTP_RANGE_BAD;
    }
    p++;
    if (*p == '\0') {
        b = UINT64_MAX;
    } else if (!parse_u64(&p, &b) || *p != '\0' || b < a) {
        return DFT_HTTP_RANGE_BAD; /* includes "a-b,c-d": several ranges are not served */
    }
    if (a >= total) {
        return DFT_HTTP_RANGE_UNSATISFIABLE;
    }
    *first = a;
    *last = b >= total ? total - 1 : b;
    return DFT_HTTP_RANGE_OK;
}
