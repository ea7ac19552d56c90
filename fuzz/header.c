/*
 * header.c - libFuzzer harness for the vault header parser (header_parse).
 *
 * Any input must be rejected cleanly or parse into a header that serialises back to exactly the
 * same bytes (a header that was not unlocked is written back as read; legacy headers have one
 * encoding). Never derives a key: Argon2id has no place in a
 * parser fuzz loop.
 *
 * Seeds: DFT_FUZZ_SEED_DIR=fuzz/corpus/header build/fuzz/fuzz/header writes valid headers (with
 * and without a log state) there and exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/keys.h"
#include "vault/header.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void
write_seed(const char *dir, const char *name, const struct dft_header *h)
{
    unsigned char buf[DFT_HEADER_MAX_BYTES];
    size_t n = 0;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || header_encode(h, buf, sizeof buf, &n, NULL) != DFT_OK ||
        fwrite(buf, 1, n, f) != n) {
        abort();
    }
    fclose(f);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sodium_init() < 0) {
        abort();
    }
    const char *dir = getenv("DFT_FUZZ_SEED_DIR");
    if (dir == NULL) {
        return 0;
    }
    struct dft_keys *k = keys_new();
    struct dft_header h;
    if (k == NULL || header_create(&h, k, "fuzz", 4, DFT_KDF_INTERACTIVE, NULL) != DFT_OK) {
        abort();
    }
    write_seed(dir, "valid", &h);
    h.state_len = DFT_HEADER_STATE_MAX;
    randombytes_buf(h.state, h.state_len);
    write_seed(dir, "valid-state", &h);
    keys_free(k);
    exit(0);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct dft_header h;
    if (header_parse(&h, data, size, NULL) != DFT_OK) {
        return 0;
    }
    unsigned char back[DFT_HEADER_MAX_BYTES];
    size_t n = 0;
    if (header_encode(&h, back, sizeof back, &n, NULL) != DFT_OK || n != size ||
        memcmp(back, data, size) != 0) {
        abort(); /* a parsed header must serialise to the same bytes */
    }
    return 0;
}
