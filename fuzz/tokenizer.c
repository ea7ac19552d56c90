/*
 * tokenizer.c - libFuzzer harness for the search folding: tokenize arbitrary bytes, then
 * skeleton, stem, key, distance, the root and adjective neighbourhoods a query looks up, the
 * East Slavic surname form and name similarity of what comes out. Must never crash, hang or
 * read past a token buffer; on ASCII input the fast path must match the utf8proc path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search/search.h"
#include "search/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* a query term of the root neighbourhood: always a key that fits a token */
static void
check_term(void *ctx, const char *k, size_t n)
{
    (void)ctx;
    if (n == 0 || n >= DFT_SEARCH_TOKEN_MAX || strlen(k) != n) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dft_search_token t[16];
    int n = search_tokenize((const char *)data, size, t, 16);
    /* ASCII input: the fast path must give what the utf8proc path gives, byte for byte */
    size_t ascii = 0;
    while (ascii < size && data[ascii] < 0x80) {
        ascii++;
    }
    if (ascii == size) {
        struct dft_search_token u[16];
        int m = search_tokenize_unicode((const char *)data, size, u, 16);
        if (m != n) {
            abort();
        }
        for (int i = 0; i < n; i++) {
            if (strcmp(t[i].exact, u[i].exact) != 0 || strcmp(t[i].folded, u[i].folded) != 0 ||
                strcmp(t[i].skel, u[i].skel) != 0 || strcmp(t[i].stem, u[i].stem) != 0 ||
                strcmp(t[i].key, u[i].key) != 0 || t[i].flags != u[i].flags) {
                abort();
            }
        }
    }
    for (int i = 0; i < n; i++) {
        char skel[DFT_SEARCH_TOKEN_MAX], stem[DFT_SEARCH_TOKEN_MAX], key[DFT_SEARCH_TOKEN_MAX];
        search_skeleton(t[i].folded, skel);
        search_stem(skel, stem);
        search_key(stem, key);
        if (strcmp(skel, t[i].skel) != 0 || strcmp(key, t[i].key) != 0) {
            abort(); /* folding must be deterministic */
        }
        if (i > 0) {
            (void)search_distance(t[i - 1].skel, t[i].skel, 2.0);
        }
        search_root_neighbours(&t[i], check_term, NULL);
        search_shifted_roots(&t[i], check_term, NULL);
        search_adjective_neighbours(&t[i], check_term, NULL);
        char slavic[DFT_SEARCH_TOKEN_MAX];
        search_slavic_form(t[i].skel, slavic);
        if (strlen(slavic) >= DFT_SEARCH_TOKEN_MAX) {
            abort();
        }
    }
    /* split the input in two names and compare them */
    if (n >= 0 && size < 4096) {
        char *s = malloc(size + 1);
        if (s != NULL) {
            memcpy(s, data, size);
            s[size] = '\0';
            if (strlen(s) == size) {
                size_t half = size / 2;
                while (half > 0 && ((unsigned char)s[half] & 0xC0) == 0x80) {
                    half--;
                }
                char *b = strdup(s + half);
                s[half] = '\0';
                if (b != NULL) {
                    char why[64];
                    double v = search_name_similarity(s, b, why, sizeof why);
                    if (v < 0.0 || v > 1.0) {
                        abort();
                    }
                    free(b);
                }
            }
            free(s);
        }
    }
    return 0;
}
