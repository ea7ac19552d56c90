/*
 * http_parse.c - libFuzzer harness for the request parsing of `defter ui` that is ours
 * (src/server/http_parse.c): Host, Origin, Cookie, token compare, path, percent-decoding and
 * Range. The first byte picks the port's low bits; the rest is split on '\n' into the header
 * values. Must never crash, read out of bounds, or accept what the checks below forbid.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char empty[6][1] = {{0}};
    char *s, *parts[6];
    uint16_t port;
    if (size < 1 || size > 4096) {
        return 0;
    }
    for (int i = 0; i < 6; i++) {
        parts[i] = empty[i];
    }
    port = (uint16_t)(1024u + data[0]);
    s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    char *p = s;
    for (int i = 0; i < 6 && p != NULL; i++) {
        parts[i] = p;
        p = strchr(p, '\n');
        if (p != NULL) {
            *p++ = '\0';
        }
    }

    if (http_host_ok(parts[0], port)) {
        /* only the two loopback names with exactly our port */
        if (strncmp(parts[0], "127.0.0.1:", 10) != 0 && strncmp(parts[0], "localhost:", 10) != 0) {
            abort();
        }
    }
    (void)http_origin_ok(parts[1], parts[0]);

    const char *val;
    size_t len;
    if (http_cookie_find(parts[2], "defter_session", &val, &len)) {
        if (val < parts[2] || val + len > parts[2] + strlen(parts[2])) {
            abort();
        }
        (void)http_token_eq(val, len, parts[3]);
    }

    size_t before = strlen(parts[4]);
    size_t after = http_unescape(parts[4]);
    if (after > before || strlen(parts[4]) != after) {
        abort();
    }
    if (http_path_ok(parts[4])) {
        if (strstr(parts[4], "/../") != NULL || strstr(parts[4], "//") != NULL ||
            strchr(parts[4], '\\') != NULL) {
            abort();
        }
    }

    uint64_t first = 0, last = 0, total = (uint64_t)data[0] * 977u;
    if (http_range_parse(parts[5], total, &first, &last) == DFT_HTTP_RANGE_OK) {
        if (first > last || last >= total) {
            abort();
        }
    }
    free(s);
    return 0;
}
