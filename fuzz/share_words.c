/*
 * share_words.c - libFuzzer harness for the recovery share parser (share_from_words): 32 words
 * of the BIP-39 list, a checksum, and the naming of a mistyped word.
 *
 * Any input must be rejected cleanly or parse into a share that prints back to words that parse
 * to the same share. Seeds: fuzz/corpus/share_words (a valid share, one with a typo).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vault/share.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sodium_init() < 0) {
        abort();
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size > 4096) {
        return 0;
    }
    char *text = malloc(size + 1);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    unsigned char share[DFT_SHARE_BYTES], again[DFT_SHARE_BYTES];
    char words[SHARE_WORDS * 10];
    struct dft_error err = {0};
    if (share_from_words(share, text, "share 1", &err) == DFT_OK) {
        share_to_words(share, words, sizeof words);
        if (share_from_words(again, words, "share 1", NULL) != DFT_OK ||
            memcmp(share, again, sizeof share) != 0) {
            abort(); /* a parsed share must print back to the same share */
        }
    } else if (err.msg[0] == '\0') {
        abort(); /* every refusal says why */
    }
    free(text);
    return 0;
}
