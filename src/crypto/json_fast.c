/*
 * json_fast.c - compact JSON straight into jansson values, or declined (json_fast.h).
 *
 * The subset: an array or object at the top, nothing after it; no whitespace anywhere; strings of
 * valid UTF-8 (the same rule as jansson's: no overlong forms, no surrogates, nothing past
 * U+10FFFF) with no control character, escapes \" \\ \/ \b \f \n \r \t only, and at most
 * FAST_STR_MAX bytes when they hold one; integers of at most 18 digits, without a leading zero;
 * true, false, null; nesting at most FAST_DEPTH_MAX deep; no key twice in one object. Everything
 * else is declined, never guessed at: json_loadb decides it. Values are built with jansson's own
 * constructors, members in the order they come, as jansson's reader builds them.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/json_fast.h"

#define FAST_DEPTH_MAX 64
#define FAST_STR_MAX   1024 /* unescaped bytes of a string that holds an escape */

struct fast {
    const unsigned char *p, *end;
    int depth;
    const unsigned char *buf;
    struct crypto_json_fast_spans *sp; /* NULL: no spans asked for */
    size_t elem;                       /* the top-level array's element being read */
    int top_array;
    int canonical; /* nothing seen that json_canonical would write otherwise */
};

static json_t *fast_value(struct fast *f);

/* Length of the valid UTF-8 sequence at s (lead byte >= 0x80), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, const unsigned char *end)
{
    unsigned c = s[0];
    size_t n;
    unsigned v;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - s) < n) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) ||
        (n == 4 && (v < 0x10000 || v > 0x10FFFF))) {
        return 0;
    }
    return n;
}

/*
 * The string at f->p (its opening quote): *s and *len give its bytes, in place when it holds no
 * escape, else unescaped into tmp (FAST_STR_MAX bytes). 0: declined.
 */
static int
fast_string(struct fast *f, const char **s, size_t *len, unsigned char *tmp)
{
    const unsigned char *p = f->p + 1, *start = p, *end = f->end;
    size_t t = 0;
    int escaped = 0;
    for (;;) {
        if (p == end) {
            goto declined;
        }
        unsigned c = *p;
        if (c == '"') {
            break;
        }
        if (c < 0x20) {
            goto declined;
        }
        if (c == '\\') {
            if (!escaped) {
                if ((size_t)(p - start) > FAST_STR_MAX) {
                    goto declined;
                }
                memcpy(tmp, start, (size_t)(p - start));
                t = (size_t)(p - start);
                escaped = 1;
            }
            if (p + 1 == end || t == FAST_STR_MAX) {
                goto declined;
            }
            switch (p[1]) {
            case '"':
                tmp[t++] = '"';
                break;
            case '\\':
                tmp[t++] = '\\';
                break;
            case '/':
                tmp[t++] = '/';
                f->canonical = 0; /* written verbatim */
                break;
            case 'b':
                tmp[t++] = '\b';
                break;
            case 'f':
                tmp[t++] = '\f';
                break;
            case 'n':
                tmp[t++] = '\n';
                break;
            case 'r':
                tmp[t++] = '\r';
                break;
            case 't':
                tmp[t++] = '\t';
                break;
            default:
                goto declined; /* \u and anything else: jansson's */
            }
            p += 2;
            continue;
        }
        size_t k = 1;
        if (c >= 0x80 && (k = utf8_seq(p, end)) == 0) {
            goto declined;
        }
        if (escaped) {
            if (FAST_STR_MAX - t < k) {
                goto declined;
            }
            memcpy(tmp + t, p, k);
            t += k;
        }
        p += k;
    }
    if (escaped) {
        *s = (const char *)tmp;
        *len = t;
    } else {
        *s = (const char *)start;
        *len = (size_t)(p - start);
    }
    f->p = p + 1;
    return 1;
declined:
    if (escaped) {
        sodium_memzero(tmp, FAST_STR_MAX); /* part of an unescaped string may be in it */
    }
    return 0;
}

static json_t *
fast_number(struct fast *f)
{
    const unsigned char *p = f->p, *end = f->end;
    int neg = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    const unsigned char *d = p;
    long long v = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (p - d == 18) {
            return NULL; /* a 19th digit could overflow: jansson's, with its own range check */
        }
        v = v * 10 + (*p - '0');
        p++;
    }
    if (p == d || (*d == '0' && p - d > 1)) {
        return NULL;
    }
    if (p < end && (*p == '.' || *p == 'e' || *p == 'E')) {
        return NULL; /* a real: jansson's */
    }
    if (neg && v == 0) {
        f->canonical = 0; /* -0 is written 0 */
    }
    f->p = p;
    return json_integer(neg ? -v : v);
}

static json_t *
fast_literal(struct fast *f, const char *word, json_t *v)
{
    size_t n = strlen(word);
    if ((size_t)(f->end - f->p) < n || memcmp(f->p, word, n) != 0) {
        return NULL;
    }
    f->p += n;
    return v;
}

static json_t *
fast_array(struct fast *f)
{
    json_t *a = json_array();
    if (a == NULL) {
        return NULL;
    }
    f->p++;
    if (f->p < f->end && *f->p == ']') {
        f->p++;
        return a;
    }
    for (size_t i = 0;; i++) {
        if (f->depth == 1) {
            f->elem = i;
        }
        json_t *v = fast_value(f);
        if (v == NULL || json_array_append_new(a, v) != 0) {
            break;
        }
        if (f->p == f->end) {
            break;
        }
        if (*f->p == ']') {
            f->p++;
            return a;
        }
        if (*f->p != ',') {
            break;
        }
        f->p++;
    }
    json_decref(a);
    return NULL;
}

static json_t *
fast_object(struct fast *f)
{
    unsigned char tmp[FAST_STR_MAX];
    int used_tmp = 0;
    const char *prev = NULL; /* the key before, in place (NULL: none, or it held an escape) */
    size_t prev_len = 0;
    int spans = f->sp != NULL && f->depth == 2 && f->top_array && f->elem < f->sp->cap;
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    f->p++;
    if (f->p < f->end && *f->p == '}') {
        f->p++;
        return o;
    }
    for (;;) {
        const char *key;
        size_t klen;
        if (f->p == f->end || *f->p != '"' || !fast_string(f, &key, &klen, tmp)) {
            break;
        }
        if (key == (const char *)tmp) {
            used_tmp = 1;
            f->canonical = 0; /* not compared: taken as out of order */
        } else if (f->canonical && json_object_size(o) > 0) {
            /* canonical keys come in strcmp order (no key holds a NUL here) */
            int c = prev == NULL ? -1 : memcmp(prev, key, prev_len < klen ? prev_len : klen);
            if (prev == NULL || c > 0 || (c == 0 && prev_len >= klen)) {
                f->canonical = 0;
            }
        }
        prev = key == (const char *)tmp ? NULL : key;
        prev_len = klen;
        if (f->p == f->end || *f->p != ':') {
            break;
        }
        f->p++;
        const unsigned char *vstart = f->p;
        int want = spans && klen == f->sp->member_len && memcmp(key, f->sp->member, klen) == 0;
        size_t at = f->elem;
        json_t *v = fast_value(f);
        if (v == NULL) {
            break;
        }
        if (want) {
            f->sp->off[at] = (size_t)(vstart - f->buf);
            f->sp->len[at] = (size_t)(f->p - vstart);
        }
        size_t before = json_object_size(o);
        /* a key seen before replaces its value (size unchanged): declined, jansson's */
        if (json_object_setn_new_nocheck(o, key, klen, v) != 0 || json_object_size(o) == before) {
            break;
        }
        if (f->p == f->end) {
            break;
        }
        if (*f->p == '}') {
            f->p++;
            if (used_tmp) {
                sodium_memzero(tmp, sizeof tmp);
            }
            return o;
        }
        if (*f->p != ',') {
            break;
        }
        f->p++;
    }
    if (used_tmp) {
        sodium_memzero(tmp, sizeof tmp);
    }
    json_decref(o);
    return NULL;
}

static json_t *
fast_value(struct fast *f)
{
    if (f->p == f->end) {
        return NULL;
    }
    unsigned char c = *f->p;
    json_t *v = NULL;
    if (c == '"') {
        unsigned char tmp[FAST_STR_MAX];
        const char *s;
        size_t n;
        if (fast_string(f, &s, &n, tmp)) {
            v = json_stringn_nocheck(s, n);
            if (s == (const char *)tmp) {
                sodium_memzero(tmp, n);
            }
        }
        return v;
    }
    if (c == '{' || c == '[') {
        if (f->depth >= FAST_DEPTH_MAX) {
            return NULL;
        }
        f->depth++;
        v = c == '{' ? fast_object(f) : fast_array(f);
        f->depth--;
        return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        return fast_number(f);
    }
    if (c == 't') {
        return fast_literal(f, "true", json_true());
    }
    if (c == 'f') {
        return fast_literal(f, "false", json_false());
    }
    if (c == 'n') {
        return fast_literal(f, "null", json_null());
    }
    return NULL;
}

json_t *
crypto_json_parse_fast_ex(const char *buf, size_t n, struct crypto_json_fast_spans *sp)
{
    if (sp != NULL) {
        sp->canonical = 0;
        for (size_t i = 0; i < sp->cap; i++) {
            sp->len[i] = 0;
        }
    }
    if (buf == NULL || n == 0 || (buf[0] != '[' && buf[0] != '{')) {
        return NULL;
    }
    struct fast f = {(const unsigned char *)buf,
                     (const unsigned char *)buf + n,
                     0,
                     (const unsigned char *)buf,
                     sp,
                     0,
                     buf[0] == '[',
                     1};
    json_t *v = fast_value(&f);
    if (v != NULL && f.p != f.end) {
        json_decref(v); /* something after the value: jansson's */
        v = NULL;
    }
    if (v != NULL && sp != NULL) {
        sp->canonical = f.canonical;
    }
    return v;
}

json_t *
crypto_json_parse_fast(const char *buf, size_t n)
{
    return crypto_json_parse_fast_ex(buf, n, NULL);
}

json_t *
crypto_json_loadb(const char *buf, size_t n, size_t flags)
{
    json_t *v = crypto_json_parse_fast(buf, n);
    if (v == NULL) {
        json_error_t jerr;
        v = json_loadb(buf, n, flags, &jerr);
    }
    return v;
}
