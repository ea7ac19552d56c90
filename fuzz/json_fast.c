/*
 * json_fast.c - libFuzzer harness for the fast JSON path (crypto/json_fast.h), differential
 * against json_loadb: whatever crypto_json_parse_fast accepts, json_loadb must accept (with and
 * without JSON_REJECT_DUPLICATES) and parse to an equal tree with its members in the same order;
 * when it takes the input as canonical, the input must be jansson's sorted compact dump of the
 * tree and each located "op" the dump of that op;
 * crypto_json_loadb must give json_loadb's answer either way. Inside an arena (json_arena.h) as
 * verify parses, and outside one.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto/json_arena.h"
#include "crypto/json_fast.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void
check(const char *buf, size_t n)
{
    json_error_t jerr;
    size_t off[16], len[16];
    struct crypto_json_fast_spans sp = {"op", 2, 16, off, len, 0};
    json_t *f = crypto_json_parse_fast_ex(buf, n, &sp);
    json_t *j = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
    json_t *j0 = json_loadb(buf, n, 0, &jerr);
    json_t *l = crypto_json_loadb(buf, n, JSON_REJECT_DUPLICATES);
    if ((l == NULL) != (j == NULL) || (l != NULL && !json_equal(l, j))) {
        abort();
    }
    if (f != NULL) {
        if (j == NULL || j0 == NULL || !json_equal(f, j) || !json_equal(f, j0)) {
            abort();
        }
        char *a = json_dumps(f, JSON_COMPACT | JSON_ENCODE_ANY);
        char *b = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        if (a == NULL || b == NULL || strcmp(a, b) != 0) {
            abort();
        }
        free(a);
        free(b);
        /* taken as canonical: buf is the sorted compact dump, and so is every "op" located */
        if (sp.canonical) {
            char *c = json_dumps(f, JSON_COMPACT | JSON_SORT_KEYS);
            if (c == NULL || strlen(c) != n || memcmp(c, buf, n) != 0) {
                abort();
            }
            free(c);
            for (size_t i = 0; json_is_array(f) && i < json_array_size(f) && i < 16; i++) {
                json_t *op = json_object_get(json_array_get(f, i), "op");
                if ((len[i] > 0) != (op != NULL)) {
                    abort();
                }
                if (op != NULL) {
                    char *o = json_dumps(op, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
                    if (o == NULL || strlen(o) != len[i] || memcmp(o, buf + off[i], len[i]) != 0) {
                        abort();
                    }
                    free(o);
                }
            }
        }
    }
    json_decref(f);
    json_decref(j);
    json_decref(j0);
    json_decref(l);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    check((const char *)data, size);
    /* the same inside an arena, as verify parses an envelope */
    if (crypto_json_arena_install()) {
        struct crypto_json_arena *a = crypto_json_arena_take();
        crypto_json_arena_enter(a);
        json_t *f = crypto_json_parse_fast((const char *)data, size);
        crypto_json_arena_leave();
        json_error_t jerr;
        json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
        if (f != NULL && (j == NULL || !json_equal(f, j))) {
            abort();
        }
        json_decref(j);
        if (a == NULL || crypto_json_arena_spilled(a)) {
            json_decref(f);
        }
        crypto_json_arena_release(a);
        crypto_json_arena_uninstall();
    }
    return 0;
}
