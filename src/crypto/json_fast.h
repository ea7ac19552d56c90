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

/* The same as json_loadb(buf, n, flags, NULL) (flags 0 or JSON_REJECT_DUPLICATES), faster. */
json_t *crypto_json_loadb(const char *buf, size_t n, size_t flags);

#endif
