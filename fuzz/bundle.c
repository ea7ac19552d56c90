/*
 * bundle.c - libFuzzer harness for the bundle verifier: the strict ZIP reader, the manifest,
 * tlog-proofs, disclosures and evidence checks, on arbitrary bytes held in memory. It must never
 * crash, and anything but a valid bundle must fail with one message.
 */
#include <string.h>

#include "defter/bundle.h"
#include "defter/crypto.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static int ready;
    if (!ready) {
        struct dft_error e = {0};
        if (dft_crypto_init(&e) != DFT_OK) {
            return 0;
        }
        ready = 1;
    }
    struct dft_error err = {0};
    json_t *report = NULL;
    enum dft_err rc = dft_bundle_verify_buffer(data, size, NULL, &report, &err);
    if (rc != DFT_OK && (err.msg[0] == '\0' || strchr(err.msg, '\n') != NULL)) {
        __builtin_trap();
    }
    json_decref(report);
    return 0;
}
