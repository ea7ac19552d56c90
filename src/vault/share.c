/*
 * share.c - recovery shares as words: encode, decode, check and name a typo.
 *
 * Pure functions on public-format bytes; the y part of a share is secret, so buffers holding
 * it are wiped. Never guesses silently: a repaired word is only ever suggested in the message.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "vault/share.h"

_Static_assert(DFT_SHARE_BYTES * 8 == SHARE_WORDS * 11, "32 words of 11 bits");

static void
checksum(unsigned char out[4], const unsigned char share[DFT_SHARE_BYTES])
{
    static const char ctx[] = "defter/recovery-share/v1";
    unsigned char h[32];
    crypto_generichash(h, sizeof h, share, DFT_SHARE_BYTES - 4, (const unsigned char *)ctx,
                       sizeof ctx - 1);
    memcpy(out, h, 4);
}

void
share_seal(unsigned char share[DFT_SHARE_BYTES])
{
    checksum(share + DFT_SHARE_BYTES - 4, share);
}

static unsigned
word_at(const unsigned char *p, int i)
{
    unsigned v = 0;
    for (int b = 0; b < 11; b++) {
        int bit = i * 11 + b;
        v = v << 1 | ((unsigned)p[bit / 8] >> (unsigned)(7 - bit % 8) & 1u);
    }
    return v;
}

static void
put_word(unsigned char *p, int i, unsigned v)
{
    for (int b = 0; b < 11; b++) {
        int bit = i * 11 + b;
        unsigned char mask = (unsigned char)(1u << (7 - bit % 8));
        if ((v >> (10 - b)) & 1u) {
            p[bit / 8] |= mask;
        } else {
            p[bit / 8] &= (unsigned char)~mask;
        }
    }
}

void
share_to_words(const unsigned char share[DFT_SHARE_BYTES], char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < SHARE_WORDS && n < cap; i++) {
        int w = snprintf(out + n, cap - n, "%s%s", i ? " " : "", words_bip39[word_at(share, i)]);
        if (w < 0) {
            break;
        }
        n += (size_t)w;
    }
}

/* The word's index by exact match or by its first four letters; -1 when none. */
static int
lookup(const char *w, size_t len)
{
    if (len == 0 || len > 8) {
        return -1;
    }
    for (int i = 0; i < 2048; i++) {
        const char *c = words_bip39[i];
        size_t cl = strlen(c);
        if ((cl == len && memcmp(c, w, len) == 0) ||
            (len >= 4 && cl >= 4 && memcmp(c, w, 4) == 0)) {
            return i;
        }
    }
    return -1;
}

static int
check_ok(const unsigned char share[DFT_SHARE_BYTES])
{
    unsigned char c[4];
    checksum(c, share);
    return sodium_memcmp(c, share + DFT_SHARE_BYTES - 4, 4) == 0;
}

enum dft_err
dft_share_check(const unsigned char share[DFT_SHARE_BYTES], struct dft_error *err)
{
    if (!check_ok(share)) {
        return dft_fail(err, DFT_ERR_INPUT, "share checksum mismatch");
    }
    unsigned x = share[SHARE_OFF_X], m = share[SHARE_OFF_M], n = share[SHARE_OFF_N];
    if (share[SHARE_OFF_VER] != 1 || m < 2 || m > n || n > DFT_RECOVERY_SHARES_MAX || x < 1 ||
        x > n) {
        return dft_fail(err, DFT_ERR_INPUT, "not a defter recovery share (bad fields)");
    }
    return DFT_OK;
}

enum dft_err
share_from_words(unsigned char share[DFT_SHARE_BYTES], const char *text, const char *which,
                 struct dft_error *err)
{
    unsigned idx[SHARE_WORDS];
    char word[16];
    int count = 0;
    const char *p = text;
    enum dft_err rc = DFT_OK;
    while (*p != '\0') {
        while (*p != '\0' && isspace((unsigned char)*p)) {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        size_t len = 0;
        while (p[len] != '\0' && !isspace((unsigned char)p[len])) {
            len++;
        }
        if (count >= SHARE_WORDS) {
            return dft_fail(err, DFT_ERR_INPUT, "%s has more than %d words", which, SHARE_WORDS);
        }
        size_t n = len < sizeof word - 1 ? len : sizeof word - 1;
        for (size_t i = 0; i < n; i++) {
            word[i] = (char)tolower((unsigned char)p[i]);
        }
        word[n] = '\0';
        int v = len < sizeof word - 1 ? lookup(word, n) : -1;
        if (v < 0) {
            return dft_fail(err, DFT_ERR_INPUT, "%s, word %d '%.15s' is not in the word list",
                            which, count + 1, word);
        }
        idx[count++] = (unsigned)v;
        p += len;
    }
    if (count != SHARE_WORDS) {
        return dft_fail(err, DFT_ERR_INPUT, "%s has %d words, not %d", which, count, SHARE_WORDS);
    }
    memset(share, 0, DFT_SHARE_BYTES);
    for (int i = 0; i < SHARE_WORDS; i++) {
        put_word(share, i, idx[i]);
    }
    if (!check_ok(share)) {
        /* Name the word: the one position where another word makes the checksum right. */
        int pos = -1, hits = 0;
        unsigned best = 0;
        for (int i = 0; i < SHARE_WORDS && hits < 2; i++) {
            for (unsigned v = 0; v < 2048 && hits < 2; v++) {
                if (v == idx[i]) {
                    continue;
                }
                put_word(share, i, v);
                if (check_ok(share)) {
                    pos = i;
                    best = v;
                    hits++;
                }
            }
            put_word(share, i, idx[i]);
        }
        if (hits == 1) {
            rc = dft_fail(err, DFT_ERR_INPUT,
                          "%s, word %d '%s' is wrong (checksum mismatch): perhaps '%s'", which,
                          pos + 1, words_bip39[idx[pos]], words_bip39[best]);
        } else {
            rc = dft_fail(err, DFT_ERR_INPUT, "%s: checksum mismatch (a word is wrong)", which);
        }
        sodium_memzero(share, DFT_SHARE_BYTES);
        return rc;
    }
    struct dft_error e = {0};
    if (dft_share_check(share, &e) != DFT_OK) {
        sodium_memzero(share, DFT_SHARE_BYTES);
        return dft_fail(err, DFT_ERR_INPUT, "%s: %s", which, e.msg);
    }
    sodium_memzero(idx, sizeof idx);
    return DFT_OK;
}
