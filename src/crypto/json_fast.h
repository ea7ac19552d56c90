/*
 * json_fast.h - a fast path for parsing compact JSON into jansson trees (verify's envelopes and
 * the search check's rebuilt fields). Internal to the library.
 *
 * verify parses every decrypted envelope and every record's fields: jansson's own reader, one
 * character at a time through a stream with a token buffer, costs about as much as everything
 * else it does per operation. crypto_json_parse_fast reads the shape the vault writes
 * (canonical JSON: no whitespace, integers, strings with short escapes) straight into jansson
 * values, allocated by jansson's allocator (so arenas, json_arena.h, work the same). Anything
 * else it declines, and crypto_json_loadb then hands the whole buffer to json_loadb: whatever it
 * accepts, json_loadb accepts too and gives an equal tree, members in the same order (the
 * differential harness fuzz/json_fast.c and tests/crypto/test_json_fast.c check it). Rejections
 * are always json_loadb's own.
 */
#ifndef DEFTER_CRYPTO_JSON_FAST_H
#define DEFTER_CRYPTO_JSON_FAST_H

#include <stddef.h>

#include <jansson.h>

/*
 * The array or object buf holds (n bytes), or NULL when the fast path declines: input outside
 * its subset (whitespace, reals, \u escapes, a duplicate key, deep nesting...), malformed
 * input, or no memory. Never fails where json_loadb would accept with another value.
 */
json_t *crypto_json_parse_fast(const char *buf, size_t n);

/*
 * Where the values of one member lie in buf, for each element of a top-level array (verify
 * locates every item's "op" in an envelope), and whether buf is exactly the canonical JSON of
 * the tree (json_canonical's bytes: no whitespace, keys in strcmp order, strings escaped only
 * where they must be, integers in their shortest form). When it is, each span is the canonical
 * JSON of its value, byte for byte.
 */
struct crypto_json_fast_spans {
    const char *member; /* in: the key (member_len bytes) */
    size_t member_len;
    size_t cap;        /* in: entries of off and len (elements past cap are not located) */
    size_t *off, *len; /* out: element i's value of member is buf[off[i], off[i] + len[i]); len
                          0: element i has no such member, or is not an object */
    int canonical;     /* out: 1 when the tree was parsed and buf is its canonical JSON */
};

/* crypto_json_parse_fast, filling sp too (when not NULL; only meaningful when it gives a tree). */
json_t *crypto_json_parse_fast_ex(const char *buf, size_t n, struct crypto_json_fast_spans *sp);

/* The same as json_loadb(buf, n, flags, NULL) (flags 0 or JSON_REJECT_DUPLICATES), faster. */
json_t *crypto_json_loadb(const char *buf, size_t n, size_t flags);

#endif
